import Dispatch
import Foundation
import HTTP
import Imaging
import Inference

/// Settings of the classification pipeline (the executable fills them from flags and environment).
public struct ServiceConfiguration: Sendable {
    /// Most images per engine batch.
    public var maxBatch = 8
    /// While more admitted images are still decoding, how long a batch is held open for the next one after the
    /// latest arrival (see `BatchScheduler`).
    public var maxBatchDelay: Duration = .milliseconds(2)
    /// Requests admitted (decoding or waiting for the engine) before new ones get 503.
    public var maxQueue = 64
    /// A request that waited longer than this for the engine is answered 503 and not run.
    public var requestTimeout: Duration = .seconds(30)
    /// Pixel budget per image, checked against the JPEG header before decoding.
    public var maxPixels = 50_000_000
    /// CPU threads for inference in total, split evenly over `engines`.
    public var threads = 2
    /// Independent engines (each with its own workspace and thread share) serving the queue.
    public var engines = 1
    /// Which convolution kernels the engines plan with.
    public var kernels: KernelSelection = .auto
    /// Decode large JPEGs at a reduced DCT scale (½–⅛) before resizing: faster on big photos, but no longer
    /// timm's tensor bit for bit. Off by default.
    public var jpegDCTScaling = false

    public init() {}

    /// Threads each engine gets.
    public var threadsPerEngine: Int { max(1, threads / max(1, engines)) }
}

/// One image's classification: what `/classify` and `seresnet classify` return.
public struct Classification: Sendable {
    public struct Prediction: Sendable, Equatable {
        public let index: Int
        public let label: String
        public let score: Double
    }
    public struct ImageSize: Sendable, Equatable {
        public let width: Int
        public let height: Int
        /// The DCT scale the JPEG was decoded at (1 = full resolution; ½, ¼ or ⅛ with `--jpeg-dct-scaling`).
        public var decodeScale: Double = 1
    }
    public struct Timing: Sendable {
        public let queue: Double
        public let decode: Double
        public let preprocess: Double
        public let inference: Double
        public let total: Double
    }

    public let predictions: [Prediction]
    public let model: String
    public let image: ImageSize
    public let timing: Timing
    /// Images in the engine batch this one ran in (reported in logs, not in the body).
    public let batchSize: Int

    /// The JSON body, keys in the documented order: predictions, model, image, timing_ms.
    public func jsonBytes() -> [UInt8] {
        let predictionsJSON = predictions.map {
            #"{"index":\#($0.index),"label":\#(HTTPResponse.jsonStringLiteral($0.label)),"score":\#($0.score)}"#
        }.joined(separator: ",")
        let json =
            #"{"predictions":[\#(predictionsJSON)],"model":\#(HTTPResponse.jsonStringLiteral(model)),"#
            + #""image":{"width":\#(image.width),"height":\#(image.height)\#(image.decodeScale < 1 ? ",\"decode_scale\":\(image.decodeScale)" : "")},"#
            + #""timing_ms":{"queue":\#(timing.queue),"decode":\#(timing.decode),"preprocess":\#(timing.preprocess),"#
            + #""inference":\#(timing.inference),"total":\#(timing.total)}}"#
        return Array(json.utf8)
    }

    /// `Server-Timing` header value (RFC-style metric;dur=milliseconds).
    public var serverTiming: String {
        "queue;dur=\(timing.queue), decode;dur=\(timing.decode), preprocess;dur=\(timing.preprocess), inference;dur=\(timing.inference), total;dur=\(timing.total)"
    }
}

/// The classification pipeline: admission → JPEG decode and preprocessing (concurrent, bounded by the
/// CPU budget) → dynamic batches on the engines → softmax top-k with labels. Owns readiness.
public final class ClassificationService: @unchecked Sendable {
    public let model: LoadedModel
    public let preprocessing: PreprocessConfig
    public let labels: ClassLabels
    public let configuration: ServiceConfiguration
    public let metrics: ServiceMetrics
    let scheduler: BatchScheduler
    private let decoders: OperationQueue
    /// How the engines run each convolution.
    private let plan: NetworkPlan
    private let clock = ContinuousClock()
    private let stateLock = NSLock()
    private var ready = false
    private var stopped = false

    /// Builds the engines, runs one warm-up inference on each (so the first request does not pay for page
    /// faults), then starts the batching threads. Readiness is set by `markReady()`.
    ///
    /// The engines' plan packs the convolution weights; the service keeps the model without them, so once the caller
    /// lets go of `model` the loaded copy is freed.
    public init(model: consuming LoadedModel, labels: ClassLabels, configuration: ServiceConfiguration, metrics: ServiceMetrics) throws {
        let preprocessing = try PreprocessConfig(configJSON: model.config.json)
        self.preprocessing = preprocessing
        self.labels = labels
        self.configuration = configuration
        self.metrics = metrics
        // One plan (packed weights) shared by every engine.
        let (planned, plan) = (consume model).planned(kernels: configuration.kernels)
        self.plan = plan
        self.model = planned
        let engines = (0..<max(1, configuration.engines)).map { _ in
            InferenceEngine(
                plan: plan, inputHeight: preprocessing.inputHeight, inputWidth: preprocessing.inputWidth,
                maxBatch: configuration.maxBatch, threads: configuration.threadsPerEngine)
        }
        DispatchQueue.concurrentPerform(iterations: engines.count) { engines[$0].run(batch: 1) }
        scheduler = BatchScheduler(
            engines: engines, maxBatch: configuration.maxBatch, maxBatchDelay: configuration.maxBatchDelay,
            maxQueue: configuration.maxQueue, requestTimeout: configuration.requestTimeout, metrics: metrics,
            cores: configuration.threads)
        decoders = OperationQueue()
        decoders.name = "decode"
        decoders.maxConcurrentOperationCount = max(1, configuration.threads)
    }

    deinit { scheduler.stop() }

    /// Readiness: true once warmed up, false again from `beginDraining()` on.
    public var isReady: Bool { stateLock.withLock { ready && !stopped } }

    public func markReady() { stateLock.withLock { ready = true } }

    /// Flips readiness to false (SIGTERM): in-flight and still-arriving requests are served while the
    /// HTTP server drains, but load balancers stop routing here.
    public func beginDraining() { stateLock.withLock { ready = false } }

    /// Stops the engine threads once their queue is empty; later requests get 503 shutting_down.
    public func stop() {
        stateLock.withLock { stopped = true }
        scheduler.stop()
    }

    /// Classes the model predicts.
    public var classCount: Int { model.network.architecture.numClasses }

    /// Requests admitted and not yet in a running batch.
    public var queueDepth: Int { scheduler.depth }

    /// The 503 a request would get right now whatever its body (queue full, or stopped), if any.
    public func refusalBeforeBody() -> ServiceError? {
        if stateLock.withLock({ stopped }) { return .draining }
        return scheduler.wouldRefuse()
    }

    /// Classifies one encoded image; `completion` runs on an engine or decoder thread.
    public func classify(_ bytes: [UInt8], topK: Int, completion: @escaping @Sendable (Result<Classification, ServiceError>) -> Void) {
        let started = clock.now
        if stateLock.withLock({ stopped }) { return completion(.failure(.draining)) }
        if let refusal = scheduler.admit() { return completion(.failure(refusal)) }
        let limits = DecodeLimits(maxPixels: configuration.maxPixels)
        decoders.addOperation { [self] in
            // Decoding and preprocessing take one core from the budget the engines share.
            let prepared = scheduler.withDecodeCore {
                () -> Result<(image: DecodedImage, tensor: [Float], decode: Duration, preprocess: Duration), ServiceError> in
                let decodeStart = clock.now
                let image: DecodedImage
                do {
                    // Full resolution unless DCT scaling was asked for: then timm's tensor is only approximated.
                    image = try decodeJPEG(
                        bytes, limits: limits, targetShorterSide: configuration.jpegDCTScaling ? preprocessing.resizeShorterSide : nil)
                } catch let error as ImageDecodeError {
                    return .failure(.image(error))
                } catch {
                    return .failure(.image(.corrupt(detail: "\(error)")))
                }
                let preprocessStart = clock.now
                var tensor = [Float](repeating: 0, count: preprocessing.outputCount)
                tensor.withUnsafeMutableBufferPointer { Imaging.preprocess(image, config: preprocessing, into: $0) }
                return .success((image, tensor, decodeStart.duration(to: preprocessStart), preprocessStart.duration(to: clock.now)))
            }
            let image: DecodedImage
            let tensor: [Float]
            let decodeTime: Duration
            let preprocessTime: Duration
            switch prepared {
            case .success(let values): (image, tensor, decodeTime, preprocessTime) = values
            case .failure(let error):
                scheduler.release()
                return completion(.failure(error))
            }
            metrics.recordDecode(decodeTime, preprocess: preprocessTime)
            let size = Classification.ImageSize(
                width: image.originalWidth, height: image.originalHeight, decodeScale: Double(image.scaleEighths) / 8)
            scheduler.submit(
                InferenceJob(tensor: tensor, topK: topK, admitted: started) { [self] result in
                    completion(
                        result.map { outcome in
                            let total = started.duration(to: clock.now)
                            return Classification(
                                predictions: outcome.predictions.map {
                                    .init(index: $0.index, label: labels[$0.index], score: Self.rounded($0.score, 6))
                                },
                                model: model.config.name,
                                image: size,
                                timing: .init(
                                    queue: Self.milliseconds(outcome.queueWait - decodeTime - preprocessTime),
                                    decode: Self.milliseconds(decodeTime), preprocess: Self.milliseconds(preprocessTime),
                                    inference: Self.milliseconds(outcome.inference), total: Self.milliseconds(total)),
                                batchSize: outcome.batchSize)
                        })
                })
        }
    }

    /// Blocking convenience for the CLI: classify and wait.
    public func classifySynchronously(_ bytes: [UInt8], topK: Int) -> Result<Classification, ServiceError> {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<Classification, ServiceError> = .failure(.notReady)
        classify(bytes, topK: topK) { result in
            outcome = result
            done.signal()
        }
        done.wait()
        return outcome
    }

    /// `/v1/model`: what is loaded and how it is served.
    public func modelDescription() -> [String: Any] {
        let architecture = model.network.architecture
        return [
            "name": model.config.name,
            "architecture": [
                "family": architecture.hasSqueezeExcitation ? "se-resnet" : "resnet",
                "depths": architecture.depths,
                "stem_width": architecture.stemWidth,
                "bottleneck_widths": architecture.stageWidths,
                "stage_outputs": architecture.stageOutputs,
                "squeeze_excitation": architecture.hasSqueezeExcitation,
                "se_widths": architecture.stages.map { $0.map { $0.seWidth ?? 0 } },
            ] as [String: Any],
            "parameters": model.network.parameterCount,
            "classes": architecture.numClasses,
            "preprocessing": [
                "input_size": [architecture.inputChannels, preprocessing.inputHeight, preprocessing.inputWidth],
                "resize_shorter_side": preprocessing.resizeShorterSide,
                "interpolation": preprocessing.interpolation.rawValue,
                "crop_pct": preprocessing.cropPct,
                "crop_mode": preprocessing.cropMode.rawValue,
                // Through the shortest decimal form, so 0.485 stays 0.485 rather than 0.48500001430511475.
                "mean": preprocessing.mean.map { Double("\($0)")! },
                "std": preprocessing.std.map { Double("\($0)")! },
            ] as [String: Any],
            "weights": ["sha256": model.weightsSHA256, "bytes": model.weightsBytes] as [String: Any],
            "engine": [
                "kernels": plan.kernels.rawValue,
                "instruction_set": plan.instructionSet?.rawValue ?? "none (OpenBLAS)",
                "layers": plan.layers.map { ["name": $0.name, "algorithm": $0.algorithm] },
            ] as [String: Any],
            "serving": [
                "threads": configuration.threads,
                "engines": configuration.engines,
                "threads_per_engine": configuration.threadsPerEngine,
                "max_batch": configuration.maxBatch,
                "max_batch_delay_ms": Self.milliseconds(configuration.maxBatchDelay),
                "max_queue": configuration.maxQueue,
                "request_timeout_ms": Self.milliseconds(configuration.requestTimeout),
                "max_pixels": configuration.maxPixels,
            ] as [String: Any],
        ]
    }

    /// A duration in milliseconds, to the microsecond (for JSON bodies and logs).
    public static func milliseconds(_ duration: Duration) -> Double {
        rounded(duration.inSeconds * 1000, 3)
    }

    static func rounded(_ value: Double, _ digits: Int) -> Double {
        let scale = pow(10, Double(digits))
        return (value * scale).rounded() / scale
    }
}
