import Foundation
import TestSupport
import Testing

@testable import Imaging

/// Every valid fixture against timm's own tensor, through the public decode + preprocess path: decoded at full
/// resolution (the default), every one is timm's tensor bit for bit.
@Suite struct GoldenTensorTests {
    @Test func manifestListsTheValidImages() {
        #expect(Fixtures.goldenImageNames.count == 12)
    }

    @Test(arguments: Fixtures.goldenImageNames)
    func matchesTimm(image name: String) throws {
        let config = try Fixtures.config()
        let bytes = try Fixtures.image(name)
        let expected = try Fixtures.golden(name.replacingOccurrences(of: ".jpg", with: ".input.f32"))
        var actual = [Float](repeating: .nan, count: config.outputCount)
        let decoded = try bytes.withUnsafeBytes { raw in
            try actual.withUnsafeMutableBufferPointer { try decodeAndPreprocess(raw, config: config, into: $0) }
        }
        #expect(expected.count == actual.count)
        var maxDelta: Float = 0
        var sumDelta: Double = 0
        for (a, e) in zip(actual, expected) {
            let delta = abs(a - e)
            maxDelta = max(maxDelta, delta.isNaN ? .infinity : delta)
            sumDelta += Double(delta)
        }
        let meanDelta = sumDelta / Double(expected.count)
        #expect(decoded.scaleEighths == 8)
        #expect(maxDelta == 0, "\(name): max |Δ| = \(maxDelta), mean |Δ| = \(meanDelta)")
    }

    /// Preprocessing cut into bands of output rows computed side by side (`parts`, what a request gets when a second core
    /// is free) writes exactly the single pass's bytes: every fixture, 2, 3 and as many bands as rows.
    @Test(arguments: Fixtures.goldenImageNames)
    func bandsWriteTheSinglePassBytes(image name: String) throws {
        let config = try Fixtures.config()
        let bytes = try Fixtures.image(name)
        let image = try bytes.withUnsafeBytes { try decodeJPEG($0, targetShorterSide: nil) }
        func run(parts: Int) -> [Float] {
            var out = [Float](repeating: .nan, count: config.outputCount)
            out.withUnsafeMutableBufferPointer { preprocess(image, config: config, into: $0, parts: parts) }
            return out
        }
        let single = run(parts: 1)
        for parts in [2, 3, config.inputHeight] {
            let banded = run(parts: parts)
            #expect(banded.map(\.bitPattern) == single.map(\.bitPattern), "\(name) in \(parts) bands")
        }
    }
}
