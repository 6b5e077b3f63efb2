import TestSupport
import Testing

@testable import Imaging

/// DCT-reduced decodes feed the same geometry as full ones: the reduced image covers the original's
/// extent (`original · n / 8`, even when libjpeg rounds the decoded size up), so preprocessing it must
/// land close to preprocessing the full-size decode.
@Suite struct ScaledDecodeTests {
    static func preprocessed(_ image: DecodedImage, _ config: PreprocessConfig) -> [Float] {
        var output = [Float](repeating: .nan, count: config.outputCount)
        output.withUnsafeMutableBufferPointer { preprocess(image, config: config, into: $0) }
        return output
    }

    /// (image, model input size, bound on mean |Δ|). Measured: 0.0091, 0.0058, 0.0185, 0.0118. The cat's
    /// bound is the sharp one: treating its 113-pixel decoded width as the full extent (instead of
    /// 451 · 2/8 = 112.75) measured 0.019 there.
    @Test(arguments: [
        ("cat-baseline-420.jpg", 32, Float(0.012)),  // 451×300 at 2/8 → 113×75: width rounded up
        ("cat-wide-1600x300.jpg", 56, Float(0.01)),  // 1600×300 at 4/8 → 800×150
        ("coffee-422.jpg", 48, Float(0.025)),  // 600×400 at 2/8 → 150×100
        ("astronaut-exif-orientation6.jpg", 56, Float(0.015)),  // rotated, 512² at 2/8
    ])
    func reducedDecodeMatchesFullDecode(name: String, size: Int, bound: Float) throws {
        let config = try PreprocessConfig(
            inputHeight: size, inputWidth: size, cropPct: 1.0,
            mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
        let bytes = try Fixtures.image(name)
        let reduced = try decodeJPEG(bytes, targetShorterSide: config.resizeShorterSide)
        let full = try decodeJPEG(bytes, targetShorterSide: nil)
        #expect(reduced.scaleEighths < 8)
        #expect(reduced.originalWidth == full.width && reduced.originalHeight == full.height)
        let a = Self.preprocessed(reduced, config)
        let b = Self.preprocessed(full, config)
        let deltas = zip(a, b).map { abs($0 - $1) }
        let mean = deltas.reduce(0, +) / Float(deltas.count)
        print("\(name) at \(reduced.scaleEighths)/8 (\(reduced.width)×\(reduced.height)): mean |Δ| \(mean), max \(deltas.max()!)")
        #expect(mean <= bound)
    }
}
