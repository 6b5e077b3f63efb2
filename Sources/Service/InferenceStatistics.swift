import Foundation

/// Cumulative counts and times of the model's inference requests and batches, in the shape of Triton's statistics
/// extension (`GET /v2/models/{model}/stats`; Triton's `extension_statistics.md`), fed by the pipeline for every API.
///
/// Per request (any API, one or many images): `success` and `fail` count requests and their time from admission to
/// completion; for a successful request, `queue` is the time its images waited for a batch (not decoding),
/// `compute_input` their decoding and preprocessing, `compute_infer` the engine batches they ran in and
/// `compute_output` the copying of their logits out of the engine — each the slowest of the request's images, since
/// they run side by side. Per batch size: executions, and the batch's input copy, engine run and output copy.
public final class InferenceStatistics: @unchecked Sendable {
    /// A count and the nanoseconds it took in total.
    public struct Duration: Codable, Sendable, Equatable {
        public var count = 0
        public var ns = 0

        mutating func add(_ duration: Swift.Duration) {
            count += 1
            ns += Self.nanoseconds(duration)
        }

        static func nanoseconds(_ duration: Swift.Duration) -> Int {
            Int(duration.components.seconds) * 1_000_000_000 + Int(duration.components.attoseconds / 1_000_000_000)
        }
    }

    /// Triton's `InferStatistics`.
    public struct RequestStatistics: Codable, Sendable, Equatable {
        public var success = Duration()
        public var fail = Duration()
        public var queue = Duration()
        public var computeInput = Duration()
        public var computeInfer = Duration()
        public var computeOutput = Duration()
        /// No response cache: always zero, present because Triton's clients read them.
        public var cacheHit = Duration()
        public var cacheMiss = Duration()

        enum CodingKeys: String, CodingKey {
            case success, fail, queue
            case computeInput = "compute_input"
            case computeInfer = "compute_infer"
            case computeOutput = "compute_output"
            case cacheHit = "cache_hit"
            case cacheMiss = "cache_miss"
        }
    }

    /// Triton's `InferBatchStatistics`: the executions of one batch size.
    public struct BatchStatistics: Codable, Sendable, Equatable {
        public let batchSize: Int
        public var computeInput = Duration()
        public var computeInfer = Duration()
        public var computeOutput = Duration()

        enum CodingKeys: String, CodingKey {
            case batchSize = "batch_size"
            case computeInput = "compute_input"
            case computeInfer = "compute_infer"
            case computeOutput = "compute_output"
        }
    }

    /// Triton's `ModelStatistics` for one model version.
    public struct ModelStatistics: Codable, Sendable, Equatable {
        public let name: String
        public let version: String
        /// Milliseconds since the Unix epoch of the last batch's end; 0 before the first.
        public var lastInference: Int
        /// Images of successful requests (Triton counts a batch of n as n inferences, and only successful ones).
        public var inferenceCount: Int
        /// Engine batches run.
        public var executionCount: Int
        public var inferenceStats: RequestStatistics
        public var batchStats: [BatchStatistics]
        /// Per-response statistics apply to decoupled (streaming) models only: empty.
        public var responseStats: [String: Int] = [:]
        public var memoryUsage: [Int] = []

        enum CodingKeys: String, CodingKey {
            case name, version
            case lastInference = "last_inference"
            case inferenceCount = "inference_count"
            case executionCount = "execution_count"
            case inferenceStats = "inference_stats"
            case batchStats = "batch_stats"
            case responseStats = "response_stats"
            case memoryUsage = "memory_usage"
        }
    }

    /// What a successful request's images spent, each part the slowest image's.
    struct RequestTimes {
        var images: Int
        var total: Swift.Duration
        var queue: Swift.Duration
        var input: Swift.Duration
        var infer: Swift.Duration
        var output: Swift.Duration
    }

    private let lock = NSLock()
    private var requests = RequestStatistics()
    private var batches: [Int: BatchStatistics] = [:]
    private var inferences = 0
    private var executions = 0
    private var lastInference = 0

    public init() {}

    func recordSuccess(_ times: RequestTimes) {
        lock.withLock {
            inferences += times.images
            requests.success.add(times.total)
            requests.queue.add(times.queue)
            requests.computeInput.add(times.input)
            requests.computeInfer.add(times.infer)
            requests.computeOutput.add(times.output)
        }
    }

    func recordFailure(after duration: Swift.Duration) {
        lock.withLock { requests.fail.add(duration) }
    }

    /// One engine batch of `size` images: copying inputs into its slots, the engine run, copying the logits out.
    func recordBatch(size: Int, input: Swift.Duration, infer: Swift.Duration, output: Swift.Duration) {
        let now = Int((Date().timeIntervalSince1970 * 1000).rounded())
        lock.withLock {
            var batch = batches[size] ?? BatchStatistics(batchSize: size)
            batch.computeInput.add(input)
            batch.computeInfer.add(infer)
            batch.computeOutput.add(output)
            batches[size] = batch
            executions += 1
            lastInference = now
        }
    }

    /// A snapshot for the model `name`, version `version`.
    public func snapshot(name: String, version: String) -> ModelStatistics {
        lock.withLock {
            ModelStatistics(
                name: name, version: version, lastInference: lastInference, inferenceCount: inferences, executionCount: executions,
                inferenceStats: requests, batchStats: batches.values.sorted { $0.batchSize < $1.batchSize })
        }
    }
}
