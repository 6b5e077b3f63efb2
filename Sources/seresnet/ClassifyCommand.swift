import ArgumentParser
import Foundation
import Inference
import Logging
import Service

/// `seresnet classify`: the service's classification path on local files, without a server.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify JPEG files; print for each the same JSON object POST /classify returns, one per line.",
        discussion: "Exits non-zero if any image failed; that image's line carries the error object instead.")

    @OptionGroup var modelOptions: ModelOptions

    @OptionGroup var kernelOptions: KernelOptions

    @Option(name: .customLong("top-k"), help: "Classes to report per image (1…classes).")
    var topK: Int = 5

    @Option(help: "Inference threads (default: CPUs available to the process).")
    var threads: Int?

    @Option(
        help: ArgumentHelp("Class labels, one per line (default for 1000-class models: the shipped ImageNet-1k list).", valueName: "file"))
    var labels: String?

    @Flag(
        inversion: .prefixedNo,
        help:
            "Decode large JPEGs at a reduced DCT scale before resizing (faster, no longer timm's tensor bit for bit; env SERESNET_JPEG_DCT_SCALING=1, default off)."
    )
    var jpegDctScaling: Bool?

    @Argument(help: "JPEG files.")
    var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: .warning) }
        let model: LoadedModel
        do { model = try ModelDirectory(path: modelOptions.model).load() } catch {
            fail("cannot load model from \(modelOptions.model): \(error)")
        }
        let classes = model.network.architecture.numClasses
        guard (1...classes).contains(topK) else { throw ValidationError("--top-k must be in 1...\(classes)") }
        var configuration = ServiceConfiguration()
        configuration.threads = threads ?? ProcessorBudget.available()
        configuration.maxBatch = 1
        (configuration.kernels, configuration.precision) = try kernelOptions.resolve()
        configuration.calibration = kernelOptions.calibrationFile(
            precision: configuration.precision, model: model, modelDirectory: modelOptions.model)
        configuration.jpegDCTScaling = try jpegDctScaling ?? Environment.bool("SERESNET_JPEG_DCT_SCALING", default: false)
        configuration.maxBatchDelay = .zero
        configuration.maxQueue = 1
        let classLabels = try LabelFiles.labels(explicit: labels, classes: classes, logger: Logger(label: "seresnet"))
        let service = try ClassificationService(
            model: consume model, labels: classLabels, configuration: configuration,
            metrics: ServiceMetrics(maxBatch: 1))
        service.markReady()
        var failed = false
        for path in images {
            guard let data = FileManager.default.contents(atPath: path) else {
                print(ErrorResponses.errorJSON(status: 400, code: "unreadable_file", message: "cannot read \(path)"))
                failed = true
                continue
            }
            switch service.classifySynchronously(Array(data), topK: topK) {
            case .success(let classification):
                print(String(decoding: try classification.jsonBytes(), as: UTF8.self))
            case .failure(let error):
                let response = ErrorResponses.response(for: error)
                print(String(decoding: response.body, as: UTF8.self))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
