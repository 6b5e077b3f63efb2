import Foundation

/// How a tensor's quantization threshold (the value u8's 255 stands for) is chosen from what calibration saw.
public enum CalibrationMethod: String, CaseIterable, Sendable, Codable {
    /// The largest value seen.
    case minmax
    /// The value below which `percentile` % of the values seen lie (outliers are clipped).
    case percentile
    /// The threshold whose 256-level quantization loses the least information: the smallest Kullback–Leibler divergence
    /// between the histogram clipped there and its quantized copy (TensorRT's entropy calibration, for u8).
    case entropy
}

/// What calibration sees of each product's input over the calibration images, in two passes: the range (`observeRange`)
/// first, then a histogram of 2048 bins over [0, max] (`observeHistogram`), which percentile and entropy thresholds read.
/// Inputs after ReLU are non-negative; a negative minimum is recorded (u8 would clip it to 0).
public final class ActivationRanges {
    public static let bins = 2048
    public private(set) var minima: [String: Float] = [:]
    public private(set) var maxima: [String: Float] = [:]
    private var histograms: [String: [Int]] = [:]
    /// Tensor names in the order the pass first showed them.
    public private(set) var names: [String] = []

    public init() {}

    public func observeRange(_ name: String, _ values: UnsafeBufferPointer<Float>) {
        var low = Float.infinity
        var high = -Float.infinity
        for v in values {
            low = min(low, v)
            high = max(high, v)
        }
        if maxima[name] == nil { names.append(name) }
        minima[name] = min(minima[name] ?? .infinity, low)
        maxima[name] = max(maxima[name] ?? -.infinity, high)
    }

    /// The second pass: values counted in 2048 equal bins over [0, the first pass's max] (the max in the last bin;
    /// negative values, which u8 clips, are not counted).
    public func observeHistogram(_ name: String, _ values: UnsafeBufferPointer<Float>) {
        guard let high = maxima[name], high > 0 else { return }
        var histogram = histograms[name] ?? [Int](repeating: 0, count: Self.bins)
        let perBin = Float(Self.bins) / high
        for v in values where v >= 0 { histogram[min(Self.bins - 1, Int(v * perBin))] += 1 }
        histograms[name] = histogram
    }

    /// Each tensor's threshold by `method` (`percentile` for `.percentile`, e.g. 99.99).
    public func thresholds(_ method: CalibrationMethod, percentile: Double = 99.99) -> [String: Float] {
        var result: [String: Float] = [:]
        for name in names {
            let high = max(0, maxima[name] ?? 0)
            guard method != .minmax, let histogram = histograms[name], high > 0 else {
                result[name] = high
                continue
            }
            let width = high / Float(Self.bins)
            switch method {
            case .minmax: result[name] = high
            case .percentile: result[name] = Float(Self.percentileBin(histogram, percentile) + 1) * width
            case .entropy: result[name] = Float(Self.entropyBin(histogram) + 1) * width
            }
        }
        return result
    }

    /// The first bin at which the cumulative count reaches `percentile` % of the total.
    static func percentileBin(_ histogram: [Int], _ percentile: Double) -> Int {
        let total = histogram.reduce(0, +)
        guard total > 0 else { return histogram.count - 1 }
        let target = Double(total) * percentile / 100
        var running = 0
        for (bin, count) in histogram.enumerated() {
            running += count
            if Double(running) >= target { return bin }
        }
        return histogram.count - 1
    }

    /// The clipping bin (the threshold is its upper edge) with the least KL divergence between the histogram clipped
    /// there (outliers added to the last kept bin) and its quantization to 256 levels, each level spread evenly over
    /// the bins it merges that are not empty (TensorRT; MXNet's `_get_optimal_threshold`). Candidates: 256 to 2048
    /// bins, every 8.
    static func entropyBin(_ histogram: [Int], levels: Int = 256) -> Int {
        let bins = histogram.count
        guard bins > levels else { return bins - 1 }
        var best = (bin: bins - 1, divergence: Double.infinity)
        for kept in stride(from: levels, through: bins, by: 8) {
            var p = histogram[0..<kept].map(Double.init)
            p[kept - 1] += Double(histogram[kept...].reduce(0, +))
            guard p.reduce(0, +) > 0 else { continue }
            // Merge the kept bins into `levels` groups, then spread each group's count over its non-empty bins.
            var q = [Double](repeating: 0, count: kept)
            for level in 0..<levels {
                let start = level * kept / levels
                let end = (level + 1) * kept / levels
                var sum = 0.0
                var nonEmpty = 0
                for i in start..<end where histogram[i] != 0 {
                    sum += Double(histogram[i])
                    nonEmpty += 1
                }
                if nonEmpty > 0 { for i in start..<end where histogram[i] != 0 { q[i] = sum / Double(nonEmpty) } }
            }
            let divergence = Self.divergence(p, q)
            if divergence < best.divergence { best = (kept - 1, divergence) }
        }
        return best.bin
    }

    /// KL(P ‖ Q) of two histograms normalised to 1; bins where P has mass and Q none get Q a small share (smoothing).
    static func divergence(_ p: [Double], _ q: [Double]) -> Double {
        let pSum = p.reduce(0, +)
        let qSum = q.reduce(0, +)
        guard pSum > 0, qSum > 0 else { return .infinity }
        var total = 0.0
        for (a, b) in zip(p, q) where a > 0 {
            let pa = a / pSum
            let qb = max(b / qSum, 1e-12)
            total += pa * log(pa / qb)
        }
        return total
    }
}

/// The calibration file `seresnet calibrate` writes beside the weights (`calibration.json`): per product input, the
/// range seen and the chosen u8 threshold and scale (threshold / 255), with the weights' SHA-256 so a file made for other
/// weights is refused. JSON, `format` "seresnet-calibration", `version` 1.
public struct CalibrationFile: Codable, Sendable, Equatable {
    public struct Tensor: Codable, Sendable, Equatable {
        public let min: Float
        public let max: Float
        /// The value u8's 255 stands for: inputs above it are clipped.
        public let threshold: Float
        /// threshold / 255.
        public let scale: Float
    }

    public static let formatName = "seresnet-calibration"
    public static let currentVersion = 1
    public static let defaultName = "calibration.json"

    public var format = formatName
    public var version = currentVersion
    public let model: String
    public let weightsSHA256: String
    public let method: CalibrationMethod
    public let percentile: Double?
    /// Calibration images used.
    public let images: Int
    /// Per product input, by its convolution's checkpoint name (`layer1.0.conv1`, …, `fc`).
    public let tensors: [String: Tensor]

    enum CodingKeys: String, CodingKey {
        case format, version, model, method, percentile, images, tensors
        case weightsSHA256 = "weights_sha256"
    }

    public init(
        model: String, weightsSHA256: String, method: CalibrationMethod, percentile: Double?, images: Int, ranges: ActivationRanges
    ) {
        self.model = model
        self.weightsSHA256 = weightsSHA256
        self.method = method
        self.percentile = method == .percentile ? percentile : nil
        self.images = images
        let thresholds = ranges.thresholds(method, percentile: percentile ?? 99.99)
        var tensors: [String: Tensor] = [:]
        for name in ranges.names {
            let threshold = thresholds[name] ?? 0
            tensors[name] = Tensor(
                min: ranges.minima[name] ?? 0, max: ranges.maxima[name] ?? 0, threshold: threshold, scale: threshold / 255)
        }
        self.tensors = tensors
    }

    /// The product inputs a network has, by name: each block's conv1, conv2, conv3 and the classifier (`fc`).
    public static func tensorNames(_ network: SEResNet) -> [String] {
        network.stages.enumerated().flatMap { s, blocks in
            blocks.indices.flatMap { b in ["conv1", "conv2", "conv3"].map { "layer\(s + 1).\(b).\($0)" } }
        } + ["fc"]
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads `path` for `network`, whose weights have `weightsSHA256`: refused when it is not this format and version,
    /// lacks a tensor the network has, or was made for other weights.
    public static func load(path: String, network: SEResNet, weightsSHA256: String) throws(CheckpointError) -> CalibrationFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: "no such file")
        }
        let file: CalibrationFile
        do { file = try JSONDecoder().decode(CalibrationFile.self, from: data) } catch {
            throw .badCalibration(path: path, reason: "\(error)")
        }
        guard file.format == formatName, file.version == currentVersion else {
            throw .badCalibration(
                path: path,
                reason: "format \(file.format) version \(file.version); this seresnet reads \(formatName) version \(currentVersion)")
        }
        guard file.weightsSHA256 == weightsSHA256 else {
            throw .calibrationForOtherWeights(path: path, calibrated: file.weightsSHA256, loaded: weightsSHA256)
        }
        for name in tensorNames(network) {
            guard let tensor = file.tensors[name] else { throw .badCalibration(path: path, reason: "no tensor \(name)") }
            guard tensor.scale.isFinite, tensor.scale >= 0, tensor.threshold.isFinite else {
                throw .badCalibration(path: path, reason: "tensor \(name) has scale \(tensor.scale)")
            }
        }
        return file
    }
}
