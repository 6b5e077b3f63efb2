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

    public var medianMilliseconds: Double {
        let sorted = samplesMilliseconds.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
    public var p90Milliseconds: Double { quantile(0.9) }
    public var minMilliseconds: Double { samplesMilliseconds.min() ?? 0 }
    public var imagesPerSecond: Double { Double(batch) / (medianMilliseconds / 1000) }
    /// Achieved GFLOP/s at the median (2 FLOPs per multiply-accumulate).
    public var gigaflops: Double { 2 * Double(multiplyAccumulatesPerImage * batch) / (medianMilliseconds / 1000) / 1e9 }
}
