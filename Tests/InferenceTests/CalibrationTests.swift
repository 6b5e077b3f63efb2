import Foundation
import TestSupport
import Testing

@testable import Inference

/// Calibration's observations, thresholds and file (`seresnet calibrate` writes it; int8 inference will read it).
@Suite(.needsFixtures) struct CalibrationTests {
    static let model = try! ModelDirectory(path: Fixtures.tinyModel.path).load()

    /// The engine shows every product's input once per pass, by its checkpoint name, in forward order; the classifier's
    /// is the pooled features, whose maximum calibration records exactly.
    @Test func engineShowsEveryProductInput() throws {
        let engine = InferenceEngine(network: Self.model.network, inputHeight: 224, inputWidth: 224, maxBatch: 2, threads: 2)
        let ranges = ActivationRanges()
        var seen: [String] = []
        var features: [Float] = []
        engine.observer = { name, values in
            seen.append(name)
            ranges.observeRange(name, values)
            if name == "fc" { features = Array(values) }
        }
        let input = try Fixtures.floats("tiny-seresnet/random-batch2.input.f32")
        _ = engine.classify(input, batch: 2)
        let names = CalibrationFile.tensorNames(Self.model.network)
        #expect(names.count == 3 * 16 + 1)
        // Image by image, the early stages show their inputs once per image.
        #expect(Set(seen) == Set(names))
        #expect(seen.last == "fc" && ranges.names.count == names.count)
        #expect(ranges.maxima["fc"] == features.max() && ranges.minima["fc"]! >= 0)
        for name in names { #expect(ranges.minima[name]! >= 0, "\(name): inputs after ReLU are non-negative") }
    }

    @Test func percentileAndEntropyThresholds() {
        // 10,000 values in the first 100 bins, one outlier in the last.
        var histogram = [Int](repeating: 0, count: ActivationRanges.bins)
        for bin in 0..<100 { histogram[bin] = 100 }
        histogram[ActivationRanges.bins - 1] = 1
        #expect(ActivationRanges.percentileBin(histogram, 99.99) == 99)
        #expect(ActivationRanges.percentileBin(histogram, 100) == ActivationRanges.bins - 1)
        // 5,000.5 of 10,001 values: reached in bin 50.
        #expect(ActivationRanges.percentileBin(histogram, 50) == 50)
        // An uneven bulk (as real activations are) and the outlier: entropy clips the outlier, keeping the bulk, because
        // merging the bulk's bins into fewer levels would lose more than clipping one value.
        for bin in 0..<100 { histogram[bin] = (bin * 7919) % 97 + 1 }
        let entropy = ActivationRanges.entropyBin(histogram)
        #expect(entropy >= 99 && entropy < 512)
        // A flat histogram keeps everything.
        #expect(ActivationRanges.entropyBin([Int](repeating: 5, count: ActivationRanges.bins)) == ActivationRanges.bins - 1)
    }

    @Test func methodsOnObservedValues() {
        let ranges = ActivationRanges()
        let values: [Float] = (0..<10_000).map { Float($0 % 100) / 100 } + [50]
        values.withUnsafeBufferPointer { ranges.observeRange("t", $0) }
        values.withUnsafeBufferPointer { ranges.observeHistogram("t", $0) }
        #expect(ranges.thresholds(.minmax)["t"] == 50)
        let percentile = ranges.thresholds(.percentile, percentile: 99.9)["t"]!
        #expect(percentile >= 0.99 && percentile < 1.05)
        #expect(ranges.thresholds(.entropy)["t"]! < 25)
    }

    @Test func fileRoundTripAndRefusals() throws {
        let network = Self.model.network
        let ranges = ActivationRanges()
        for name in CalibrationFile.tensorNames(network) { [Float(0), 2].withUnsafeBufferPointer { ranges.observeRange(name, $0) } }
        let file = CalibrationFile(
            model: "m", weightsSHA256: Self.model.weightsSHA256, method: .minmax, percentile: 99.99, images: 3, ranges: ranges)
        #expect(file.tensors["fc"]?.scale == 2 / 255 && file.percentile == nil)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("calibration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("calibration.json").path
        try file.write(to: path)
        #expect(try CalibrationFile.load(path: path, network: network, weightsSHA256: Self.model.weightsSHA256) == file)
        #expect(throws: CheckpointError.calibrationForOtherWeights(path: path, calibrated: Self.model.weightsSHA256, loaded: "00")) {
            try CalibrationFile.load(path: path, network: network, weightsSHA256: "00")
        }
        // Another version, a missing tensor, not JSON, no file: each refused with a reason.
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        json["version"] = 2
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.self) {
            try CalibrationFile.load(path: path, network: network, weightsSHA256: Self.model.weightsSHA256)
        }
        json["version"] = 1
        var tensors = json["tensors"] as! [String: Any]
        tensors["layer2.1.conv2"] = nil
        json["tensors"] = tensors
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.badCalibration(path: path, reason: "no tensor layer2.1.conv2")) {
            try CalibrationFile.load(path: path, network: network, weightsSHA256: Self.model.weightsSHA256)
        }
        try Data("not json".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.self) {
            try CalibrationFile.load(path: path, network: network, weightsSHA256: Self.model.weightsSHA256)
        }
        #expect(throws: CheckpointError.self) {
            try CalibrationFile.load(path: path + ".missing", network: network, weightsSHA256: Self.model.weightsSHA256)
        }
    }
}
