import ArgumentParser
import Foundation
import Inference

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

/// `--kernels`, shared by the commands that run the engine.
struct KernelOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Convolution kernels: auto (the engine's own, AVX-512 or AVX2 + FMA as the CPU has them; OpenBLAS without AVX2), avx512, avx2, or blas (OpenBLAS throughout, the reference path).",
            discussion: "Env SERESNET_KERNELS, default auto.", valueName: "kernels"))
    var kernels: String?

    /// The flag, else SERESNET_KERNELS, else auto.
    func resolve() throws -> KernelSelection {
        let name = Environment.string(kernels, "SERESNET_KERNELS", default: "auto")
        guard let selection = KernelSelection(rawValue: name.lowercased()) else {
            throw ValidationError("--kernels (or SERESNET_KERNELS) must be auto, avx512, avx2 or blas; got '\(name)'")
        }
        return selection
    }
}

/// Prints an error the way every command does and exits non-zero.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("seresnet: error: \(message)\n".utf8))
    exit(1)
}
