import ArgumentParser
import Foundation

/// `seresnet`: SE-ResNet-50 ImageNet classification as an HTTP service, and the tools around it.
@main
struct SeresnetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seresnet",
        abstract: "SE-ResNet ImageNet classification: HTTP service, CLI classifier, benchmarks, tools.",
        subcommands: [ServeCommand.self, ClassifyCommand.self, BenchCommand.self, SynthWeightsCommand.self, HealthcheckCommand.self]
    )
}

/// `--model DIR`, shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Model directory in timm's Hugging Face layout (model.safetensors + config.json).",
            discussion: "Default: $SERESNET_MODEL_DIR, else weights/seresnet50.", valueName: "dir"))
    var model: String = ProcessInfo.processInfo.environment["SERESNET_MODEL_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "weights/seresnet50"
}

/// Prints an error the way every command does and exits non-zero.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("seresnet: error: \(message)\n".utf8))
    exit(1)
}
