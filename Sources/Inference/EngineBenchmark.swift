import Foundation

/// Times `InferenceEngine.run` on one batch size: the engine alone, no decoding or HTTP.
public struct EngineBenchmark: Sendable {
    public let batch: Int
    public let threads: Int
    /// Per-batch latencies in milliseconds, in the order measured.
    public let samplesMilliseconds: [Double]
    public let multiplyAccumulatesPerImage: Int

    /// Runs `warmup` untimed then `iterations` timed batches, charging the timed ones to `profile` if given.
    public init(engine: InferenceEngine, batch: Int, iterations: Int, warmup: Int, profile: StageProfile? = nil) {
        for _ in 0..<warmup { engine.run(batch: batch) }
        engine.profile = profile
        defer { engine.profile = nil }
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        for _ in 0..<iterations {
            let start = DispatchTime.now().uptimeNanoseconds
            engine.run(batch: batch)
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        self.batch = batch
        self.threads = engine.threads
        self.samplesMilliseconds = samples
        self.multiplyAccumulatesPerImage = engine.multiplyAccumulatesPerImage
    }

    /// The q-quantile (0…1) of the samples, nearest-rank.
    public func quantile(_ q: Double) -> Double {
        let sorted = samplesMilliseconds.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }

    public var medianMilliseconds: Double { EngineComparison.median(samplesMilliseconds) }
    public var p90Milliseconds: Double { quantile(0.9) }
    public var minMilliseconds: Double { samplesMilliseconds.min() ?? 0 }
    public var imagesPerSecond: Double { Double(batch) / (medianMilliseconds / 1000) }
    /// Achieved GFLOP/s at the median (2 FLOPs per multiply-accumulate).
    public var gigaflops: Double { 2 * Double(multiplyAccumulatesPerImage * batch) / (medianMilliseconds / 1000) / 1e9 }
}

/// One engine timed pass by pass with and without optimizations of the pass (`InferenceEngine.run(batch:without:)`),
/// alternately, on the same input: the order of each pair swaps every pass, so a slow spell of a shared host falls on
/// both. Separate runs minutes apart vary by more than a decision of a few percent is worth; pairs of passes resolve it.
/// Both run on the same weights and workspace, as the service's one engine does: only the decisions differ (two engines
/// would hold a second copy of every buffer, in the caches both compete for).
public struct EngineComparison: Sendable {
    /// Per-batch latencies in milliseconds, pass i of both in pair i: the engine as made, and without the optimizations.
    public let first: [Double]
    public let second: [Double]

    /// Runs `warmup` untimed pairs, then `pairs` timed ones.
    public init(_ engine: InferenceEngine, without: Set<PassOptimization>, batch: Int, pairs: Int, warmup: Int) {
        precondition(pairs >= 1 && batch <= engine.maxBatch)
        for _ in 0..<warmup {
            engine.run(batch: batch)
            engine.run(batch: batch, without: without)
        }
        var times: [[Double]] = [[], []]
        for pair in 0..<pairs {
            for which in pair % 2 == 0 ? [0, 1] : [1, 0] {
                let start = DispatchTime.now().uptimeNanoseconds
                engine.run(batch: batch, without: which == 0 ? [] : without)
                times[which].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
        }
        (self.first, self.second) = (times[0], times[1])
    }

    /// The median of first / second over the pairs.
    public var medianRatio: Double { Self.median(zip(first, second).map { $0 / $1 }) }
    public var firstMedian: Double { Self.median(first) }
    public var secondMedian: Double { Self.median(second) }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
