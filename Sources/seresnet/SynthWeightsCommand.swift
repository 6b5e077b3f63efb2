import ArgumentParser
import Inference

/// `seresnet synth-weights`: a seeded random model directory in timm's layout.
struct SynthWeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth-weights",
        abstract: "Write a model directory (model.safetensors + config.json, timm layout) with seeded random weights.",
        discussion: "For trying and testing everything without the real pretrained weights. Same preset and seed give byte-identical files."
    )

    @Option(help: ArgumentHelp("Directory to write (created if needed).", valueName: "dir"))
    var out: String

    @Option(help: "Architecture: \(SyntheticWeights.Preset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: String = "seresnet50"

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Flag(
        help: ArgumentHelp(
            "A well-conditioned network, for judging reduced precision: each bottleneck's last BatchNorm (bn3) scale and shift ×0.2, the classifier rescaled so logits spread like a confident classifier's (std 3 over the classes).",
            discussion:
                "A plain seeded network is chaotic: rounding differences grow through its depth, so it cannot tell a good bf16 or int8 path from a bad one."
        ))
    var conditioned = false

    func run() throws {
        guard let preset = SyntheticWeights.Preset(rawValue: preset) else {
            throw ValidationError(
                "unknown preset '\(preset)'; choose one of \(SyntheticWeights.Preset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try SyntheticWeights.write(preset: preset, seed: seed, conditioned: conditioned, to: out)
        print(
            "wrote \(out)/model.safetensors and \(out)/config.json (\(preset.rawValue), seed \(seed)\(conditioned ? ", conditioned" : ""))")
    }
}
