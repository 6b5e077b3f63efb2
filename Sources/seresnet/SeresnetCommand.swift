import ArgumentParser
import Foundation
import Inference

/// `seresnet`: SE-ResNet-50 ImageNet classification as an HTTP service, and the tools around it.
@main
struct SeresnetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seresnet",
        abstract: "SE-ResNet ImageNet classification: HTTP service, CLI classifier, benchmarks, tools.",
        subcommands: [
            ServeCommand.self, ClassifyCommand.self, BenchCommand.self, SynthWeightsCommand.self, HealthcheckCommand.self,
            CalibrateCommand.self,
        ]
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

/// `--kernels` and `--precision`, shared by the commands that run the engine.
struct KernelOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Convolution kernels: auto (the engine's own, AVX-512 or AVX2 + FMA as the CPU has them; OpenBLAS without AVX2), avx512, avx2, or blas (OpenBLAS throughout, the reference path).",
            discussion: "Env SERESNET_KERNELS, default auto.", valueName: "kernels"))
    var kernels: String?

    @Option(
        help: ArgumentHelp(
            "Number format of the convolutions' and the classifier's products: fp32 (timm's answer to float precision), bf16 (bf16 weights and activations, fp32 accumulation; needs AVX512_BF16, about twice the multiply-adds per instruction) or int8 (s8 weights, u8 activations at the scales of --calibration, s32 accumulation; AVX2 or AVX-512 VNNI).",
            discussion: "Env SERESNET_PRECISION, default fp32. SE, the residual, pooling and everything between products stay fp32.",
            valueName: "precision"))
    var precision: String?

    /// The flags, else SERESNET_KERNELS and SERESNET_PRECISION, else auto and fp32; a precision this CPU cannot run with
    /// those kernels stops the command with the reason.
    func resolve() throws -> (kernels: KernelSelection, precision: Precision) {
        let name = Environment.string(kernels, "SERESNET_KERNELS", default: "auto")
        guard let selection = KernelSelection(rawValue: name.lowercased()) else {
            throw ValidationError("--kernels (or SERESNET_KERNELS) must be auto, avx512, avx2 or blas; got '\(name)'")
        }
        let precisionName = Environment.string(precision, "SERESNET_PRECISION", default: "fp32")
        guard let precision = Precision(rawValue: precisionName.lowercased()) else {
            throw ValidationError("--precision (or SERESNET_PRECISION) must be fp32, bf16 or int8; got '\(precisionName)'")
        }
        if let problem = precision.problem(kernels: selection) { fail(problem) }
        return (selection, precision)
    }

    @Option(
        help: ArgumentHelp(
            "With --precision int8: the calibration file (`seresnet calibrate` writes it).",
            discussion: "Env SERESNET_CALIBRATION, default calibration.json in the model directory.", valueName: "file"))
    var calibration: String?

    /// With int8, the calibration file for `model` from `modelDirectory`, else nil. A missing file, or one made for other
    /// weights, stops the command with a message naming `seresnet calibrate`.
    func calibrationFile(precision: Precision, model: borrowing LoadedModel, modelDirectory: String) -> CalibrationFile? {
        guard precision == .int8 else { return nil }
        let path =
            Environment.string(calibration, "SERESNET_CALIBRATION")
            ?? (modelDirectory as NSString).appendingPathComponent(CalibrationFile.defaultName)
        do { return try CalibrationFile.load(path: path, network: model.network, weightsSHA256: model.weightsSHA256) } catch {
            fail("--precision int8: \(error) (seresnet calibrate --model \(modelDirectory) --images DIR writes one)")
        }
    }
}

/// Prints an error the way every command does and exits non-zero.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("seresnet: error: \(message)\n".utf8))
    exit(1)
}
