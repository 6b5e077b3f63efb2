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
    /// Images admitted (decoding or waiting for the engine) before new requests get 503.
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
    /// The number format of the engines' products (`--precision`).
    public var precision: Precision = .fp32
    /// With int8: the products' input scales (`--calibration`, from `seresnet calibrate`).
    public var calibration: CalibrationFile?
    /// Decode large JPEGs at a reduced DCT scale (½–⅛) before resizing: faster on big photos, but no longer
    /// timm's tensor bit for bit. Off by default.
    public var jpegDCTScaling = false
    /// The model's name in every API; nil: the checkpoint's own.
    public var modelName: String?
    /// Most images one request may carry (Open Inference Protocol and KServe v1 batches).
    public var maxImagesPerRequest = 32
    /// Under a memory limit: the bytes decodes may hold at once (`DecodeMemory`); nil: no bound beyond `maxPixels`.
    public var decodeMemory: DecodeMemory?

    public init() {}

    /// Threads each engine gets.
    public var threadsPerEngine: Int { max(1, threads / max(1, engines)) }
}

/// An image's size as sent (before any DCT scaling), and the scale it was decoded at.
public struct ImageSize: Sendable, Equatable, Codable {
    public let width: Int
    public let height: Int
    /// The DCT scale the JPEG was decoded at (1 = full resolution; ½, ¼ or ⅛ with `--jpeg-dct-scaling`).
    public var decodeScale: Double = 1

    public init(width: Int, height: Int, decodeScale: Double = 1) {
        self.width = width
        self.height = height
        self.decodeScale = decodeScale
    }

    enum CodingKeys: String, CodingKey {
        case width, height
        case decodeScale = "decode_scale"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        width = try container.decode(Int.self, forKey: .width)
        height = try container.decode(Int.self, forKey: .height)
        decodeScale = try container.decodeIfPresent(Double.self, forKey: .decodeScale) ?? 1
    }

    /// `decode_scale` only when the image was scaled.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(width, forKey: .width)
        try container.encode(height, forKey: .height)
        if decodeScale < 1 { try container.encode(decodeScale, forKey: .decodeScale) }
    }
}

/// Where an image's time went, in milliseconds.
public struct StageTiming: Sendable, Codable {
    public let queue: Double
    public let decode: Double
    public let preprocess: Double
    public let inference: Double
    public let total: Double
}

/// An image decoded and preprocessed into the engine's input layout.
public struct PreparedImage: Sendable {
    /// (C, H, W) normalized input, exactly an engine input slot.
    public let tensor: [Float]
    public let size: ImageSize
    public let decode: Duration
    public let preprocess: Duration
    /// When decoding began and preprocessing began and ended.
    let stages: ImageStages
}

/// One image through the pipeline: the model's full row of logits and what happened on the way. What it means
/// (softmax, top-k, labels) is for the API that asked.
public struct ImageInference: Sendable {
    public let logits: [Float]
    public let image: ImageSize
    public let timing: StageTiming
    /// Images in the engine batch this one ran in.
    public let batchSize: Int
    /// Which engine ran it.
    let engine: Int
    /// The stages' exact durations (the statistics extension sums them).
    var durations = StageDurations()
    /// The last stage's feature maps, when `infer` was asked for them (`:explain`).
    public var features: FeatureMaps?
}

/// One image's time by stage, exactly (`StageTiming` is the same in rounded milliseconds).
struct StageDurations: Sendable {
    /// Waiting for a batch, decoding excluded.
    var queue: Duration = .zero
    /// Decoding and preprocessing.
    var input: Duration = .zero
    /// The engine batch it ran in.
    var infer: Duration = .zero
    /// Copying its batch's logits out of the engine.
    var output: Duration = .zero
}

/// The inference pipeline, free of any API's shapes: admission → JPEG decode and preprocessing (concurrent,
/// bounded by the CPU budget) → dynamic batches on the engines → each image's logits. Owns readiness.
public final class ClassificationService: @unchecked Sendable {
    public let model: LoadedModel
    public let preprocessing: PreprocessConfig
    public let labels: ClassLabels
    public let configuration: ServiceConfiguration
    public let metrics: ServiceMetrics
    /// Triton's statistics extension's counters (`/v2/models/{model}/stats`).
    public let statistics = InferenceStatistics()
    let scheduler: BatchScheduler
    private let decoders: OperationQueue
    /// How the engines run each convolution.
    private let plan: NetworkPlan
    /// The engines' stages that run image by image within a batch (`/v1/model`).
    private let imageByImageStages: [String]
    /// The engines' decisions for a single image and for a full batch (what `/v1/model` reports).
    private let schedules: [ModelDescription.Engine.Schedule]
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
        let (planned, plan) = (consume model).planned(
            kernels: configuration.kernels, precision: configuration.precision, calibration: configuration.calibration,
            inputSize: (preprocessing.inputHeight, preprocessing.inputWidth))
        self.plan = plan
        self.model = planned
        metrics.setEngineInfo(
            kernels: plan.kernels.rawValue, instructionSet: plan.instructionSet?.rawValue ?? "none", precision: plan.precision.rawValue)
        let engines = (0..<max(1, configuration.engines)).map { _ in
            InferenceEngine(
                plan: plan, inputHeight: preprocessing.inputHeight, inputWidth: preprocessing.inputWidth,
                maxBatch: configuration.maxBatch, threads: configuration.threadsPerEngine)
        }
        DispatchQueue.concurrentPerform(iterations: engines.count) { engines[$0].run(batch: 1) }
        imageByImageStages = engines[0].imageByImageStageNames
        schedules = Set([1, configuration.maxBatch]).sorted().map { batch in
            .init(
                batch: batch,
                layers: engines[0].schedule(batch: batch).map { .init(name: $0.name, algorithm: $0.algorithm, split: $0.split) })
        }
        scheduler = BatchScheduler(
            engines: engines, maxBatch: configuration.maxBatch, maxBatchDelay: configuration.maxBatchDelay,
            maxQueue: configuration.maxQueue, requestTimeout: configuration.requestTimeout, metrics: metrics,
            statistics: statistics, cores: configuration.threads)
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

    /// Images admitted and not yet in a running batch.
    public var queueDepth: Int { scheduler.depth }

    /// The 503 a request would get right now whatever its body (queue full, or stopped), if any.
    public func refusalBeforeBody() -> ServiceError? {
        if stateLock.withLock({ stopped }) { return .draining }
        return scheduler.wouldRefuse()
    }

    /// Bytes of one preprocessed input tensor (what a queued image holds).
    public var inputTensorBytes: Int { preprocessing.outputCount * 4 }

    /// The model's name in every API (`--model-name`, else the checkpoint's).
    public var modelName: String { configuration.modelName ?? model.config.name }

    /// Decodes and preprocesses one JPEG (on the calling thread, inside `scheduler.withDecodeCore`) into an engine
    /// input slot's layout.
    func prepare(_ jpeg: [UInt8]) -> Result<PreparedImage, ServiceError> {
        let decodeStart = clock.now
        let image: DecodedImage
        var reserved = 0
        defer { if reserved > 0 { configuration.decodeMemory?.release(reserved) } }
        do {
            // Full resolution unless DCT scaling was asked for: then timm's tensor is only approximated.
            image = try decodeJPEG(
                jpeg, limits: DecodeLimits(maxPixels: configuration.maxPixels),
                targetShorterSide: configuration.jpegDCTScaling ? preprocessing.resizeShorterSide : nil
            ) { footprint in
                guard let memory = configuration.decodeMemory else { return }
                // The frame and libjpeg's memory, then preprocessing's rows (source rows × cropped width) and taps.
                let needed =
                    footprint.bytes + footprint.height * preprocessing.inputWidth * 3 + (footprint.width + footprint.height) * 64
                    + preprocessing.outputCount * 4
                var outcome = memory.reserve(needed, wait: .zero)
                if outcome == .timedOut {
                    // Waiting for other decodes' memory need not hold a core the engines could use.
                    outcome = scheduler.withoutDecodeCore { memory.reserve(needed, wait: configuration.requestTimeout) }
                }
                switch outcome {
                case .reserved: reserved = needed
                case .neverFits: throw ServiceError.memoryExhausted(neededBytes: needed, budgetBytes: memory.limit, fitsLater: false)
                case .timedOut: throw ServiceError.memoryExhausted(neededBytes: needed, budgetBytes: memory.limit, fitsLater: true)
                }
            }
        } catch let error as ServiceError {
            return .failure(error)
        } catch let error as ImageDecodeError {
            return .failure(.image(error))
        } catch {
            return .failure(.image(.corrupt(detail: "\(error)")))
        }
        let preprocessStart = clock.now
        var tensor = [Float](repeating: 0, count: preprocessing.outputCount)
        scheduler.withSpareCore { spare in
            tensor.withUnsafeMutableBufferPointer { Imaging.preprocess(image, config: preprocessing, into: $0, parts: spare ? 2 : 1) }
        }
        let preprocessEnd = clock.now
        return .success(
            PreparedImage(
                tensor: tensor,
                size: ImageSize(width: image.originalWidth, height: image.originalHeight, decodeScale: Double(image.scaleEighths) / 8),
                decode: decodeStart.duration(to: preprocessStart), preprocess: preprocessStart.duration(to: preprocessEnd),
                stages: ImageStages(decodeStart: decodeStart, preprocessStart: preprocessStart, submitted: preprocessEnd)))
    }

    /// Runs encoded images through decoding, preprocessing and the engines' batches; `completion` (on an engine
    /// or decoder thread) gets every image's logits in order, or the request's failure. The images are admitted
    /// together and counted one by one in the queue, so a request of 8 images runs like 8 requests of one: in
    /// one batch of 8 when the engine is free. When one image of several fails, the failure names its index
    /// (`ServiceError.inImage`) and images not yet decoded are skipped.
    /// With `features`, each image's result also carries its last-stage feature maps (for class activation maps); with
    /// `trace`, each image's stages become spans of the request's trace.
    func infer(
        _ images: [[UInt8]], features: Bool = false, trace: RequestTrace?,
        completion: @escaping @Sendable (Result<[ImageInference], ServiceError>) -> Void
    ) {
        let started = clock.now
        let completion: @Sendable (Result<[ImageInference], ServiceError>) -> Void = { [statistics, clock] result in
            let total = started.duration(to: clock.now)
            switch result {
            case .success(let rows):
                statistics.recordSuccess(
                    .init(
                        images: rows.count, total: total, queue: rows.map(\.durations.queue).max() ?? .zero,
                        input: rows.map(\.durations.input).max() ?? .zero,
                        infer: rows.map(\.durations.infer).max() ?? .zero, output: rows.map(\.durations.output).max() ?? .zero))
            case .failure: statistics.recordFailure(after: total)
            }
            completion(result)
        }
        guard !images.isEmpty else { return completion(.failure(.emptyBody)) }
        if stateLock.withLock({ stopped }) { return completion(.failure(.draining)) }
        if let refusal = scheduler.admit(images: images.count) { return completion(.failure(refusal)) }
        let request = InferenceRequestState(count: images.count, completion: completion)
        let group: (any ImageGroup)? = images.count > 1 ? request : nil
        for (index, bytes) in images.enumerated() {
            decoders.addOperation { [self] in
                guard !request.hasFailed else {
                    scheduler.release(decoded: group)
                    return request.skip(index)
                }
                // Decoding and preprocessing take one core from the budget the engines share.
                let prepared = scheduler.withDecodeCore { prepare(bytes) }
                switch prepared {
                case .failure(let error):
                    scheduler.release(decoded: group)
                    request.fail(index, images.count > 1 ? .inImage(index: index, error) : error)
                case .success(let prepared):
                    metrics.recordDecode(prepared.decode, preprocess: prepared.preprocess)
                    scheduler.submit(
                        InferenceJob(tensor: prepared.tensor, group: group, admitted: started, keepsFeatures: features, trace: trace) {
                            [self] result in
                            switch result {
                            case .failure(let error): request.fail(index, error)
                            case .success(let outcome):
                                if let trace, let batch = outcome.batch {
                                    trace.addImageSpans(prepared.stages, index: images.count > 1 ? index : nil, batch: batch)
                                }
                                request.finish(
                                    index,
                                    ImageInference(
                                        logits: outcome.logits, image: prepared.size,
                                        timing: StageTiming(
                                            queue: Self.milliseconds(outcome.queueWait - prepared.decode - prepared.preprocess),
                                            decode: Self.milliseconds(prepared.decode), preprocess: Self.milliseconds(prepared.preprocess),
                                            inference: Self.milliseconds(outcome.inference),
                                            total: Self.milliseconds(started.duration(to: clock.now))),
                                        batchSize: outcome.batchSize, engine: outcome.engine,
                                        durations: StageDurations(
                                            queue: outcome.queueWait - prepared.decode - prepared.preprocess,
                                            input: prepared.decode + prepared.preprocess, infer: outcome.inference,
                                            output: outcome.outputCopy),
                                        features: outcome.features))
                            }
                        })
                }
            }
        }
    }

    /// Runs encoded images through the pipeline (see `infer(_:features:trace:completion:)`), untraced.
    public func infer(
        _ images: [[UInt8]], features: Bool = false, completion: @escaping @Sendable (Result<[ImageInference], ServiceError>) -> Void
    ) {
        infer(images, features: features, trace: nil, completion: completion)
    }

    /// Runs `work` on a decode worker within the CPU budget (it takes a decode core), not on the engine thread that
    /// finished a batch, so the engine's next batch need not wait for it: for response work heavier than formatting
    /// (`:explain`'s maps and PNGs).
    public func offEngine(_ work: @escaping @Sendable () -> Void) {
        decoders.addOperation { [scheduler] in scheduler.withDecodeCore(work) }
    }

    /// Blocking convenience for the CLI and tests: infer and wait.
    public func inferSynchronously(_ images: [[UInt8]]) -> Result<[ImageInference], ServiceError> {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<[ImageInference], ServiceError> = .failure(.notReady)
        infer(images) { result in
            outcome = result
            done.signal()
        }
        done.wait()
        return outcome
    }

    /// `/v1/model`: what is loaded and how it is served.
    public func modelDescription() -> ModelDescription {
        let architecture = model.network.architecture
        return ModelDescription(
            name: modelName,
            architecture: .init(
                family: architecture.hasSqueezeExcitation ? "se-resnet" : "resnet", depths: architecture.depths,
                stemWidth: architecture.stemWidth, bottleneckWidths: architecture.stageWidths, stageOutputs: architecture.stageOutputs,
                squeezeExcitation: architecture.hasSqueezeExcitation, seWidths: architecture.stages.map { $0.map { $0.seWidth ?? 0 } }),
            parameters: model.network.parameterCount,
            classes: architecture.numClasses,
            preprocessing: .init(
                inputSize: [architecture.inputChannels, preprocessing.inputHeight, preprocessing.inputWidth],
                resizeShorterSide: preprocessing.resizeShorterSide, interpolation: preprocessing.interpolation.rawValue,
                cropPct: preprocessing.cropPct, cropMode: preprocessing.cropMode.rawValue,
                // Through the shortest decimal form, so 0.485 stays 0.485 rather than 0.48500001430511475.
                mean: preprocessing.mean.map { Double("\($0)")! }, std: preprocessing.std.map { Double("\($0)")! }),
            weights: .init(sha256: model.weightsSHA256, bytes: model.weightsBytes),
            engine: .init(
                kernels: plan.kernels.rawValue, instructionSet: plan.instructionSet?.rawValue ?? "none (OpenBLAS)",
                precision: plan.precision.rawValue,
                calibration: plan.calibration.map { .init(method: $0.method.rawValue, percentile: $0.percentile, images: $0.images) },
                layers: plan.layers.map { .init(name: $0.name, algorithm: $0.algorithm) },
                imageByImageStages: imageByImageStages, schedules: schedules),
            serving: .init(
                threads: configuration.threads, engines: configuration.engines, threadsPerEngine: configuration.threadsPerEngine,
                maxBatch: configuration.maxBatch, maxBatchDelayMs: Self.milliseconds(configuration.maxBatchDelay),
                maxQueue: configuration.maxQueue, maxImagesPerRequest: configuration.maxImagesPerRequest,
                requestTimeoutMs: Self.milliseconds(configuration.requestTimeout), maxPixels: configuration.maxPixels))
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

/// The images of one `infer` call as they finish, possibly out of order on different threads; completes once
/// every image has finished, failed or been skipped. The scheduler asks it how many are still decoding.
private final class InferenceRequestState: ImageGroup, @unchecked Sendable {
    private let lock = NSLock()
    private var decoding: Int
    private var results: [ImageInference?]
    private var failure: (index: Int, error: ServiceError)?
    private var remaining: Int
    private let completion: @Sendable (Result<[ImageInference], ServiceError>) -> Void

    init(count: Int, completion: @escaping @Sendable (Result<[ImageInference], ServiceError>) -> Void) {
        results = Array(repeating: nil, count: count)
        remaining = count
        decoding = count
        self.completion = completion
    }

    var hasFailed: Bool { lock.withLock { failure != nil } }

    var imagesDecoding: Int { lock.withLock { decoding } }

    /// One image is through decoding (called by the scheduler, under its lock).
    func decoded() { lock.withLock { decoding -= 1 } }

    func finish(_ index: Int, _ result: ImageInference) { settle { results[index] = result } }

    /// The lowest failing index is the one reported, whatever the order failures arrive in.
    func fail(_ index: Int, _ error: ServiceError) {
        settle { if failure == nil || index < failure!.index { failure = (index, error) } }
    }

    func skip(_ index: Int) { settle {} }

    private func settle(_ update: () -> Void) {
        let outcome: Result<[ImageInference], ServiceError>? = lock.withLock {
            update()
            remaining -= 1
            guard remaining == 0 else { return nil }
            if let failure { return .failure(failure.error) }
            return .success(results.map { $0! })
        }
        if let outcome { completion(outcome) }
    }
}
