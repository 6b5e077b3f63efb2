import Foundation

/// A resampling filter as Pillow's `Resample.c` defines it, under the names timm's configs use.
public enum Interpolation: String, Sendable, CaseIterable {
    case bilinear
    case bicubic
    case box
    case hamming
    case lanczos

    /// Half-width of the kernel at scale 1 (Pillow's `filter.support`).
    var support: Double {
        switch self {
        case .box: return 0.5
        case .bilinear, .hamming: return 1.0
        case .bicubic: return 2.0
        case .lanczos: return 3.0
        }
    }

    /// The kernel, evaluated with Pillow's exact expressions so coefficients agree to the last bit.
    func weight(_ x: Double) -> Double {
        switch self {
        case .box:
            return x > -0.5 && x <= 0.5 ? 1.0 : 0.0
        case .bilinear:
            let x = abs(x)
            return x < 1.0 ? 1.0 - x : 0.0
        case .hamming:
            var x = abs(x)
            if x == 0.0 { return 1.0 }
            if x >= 1.0 { return 0.0 }
            x = x * Double.pi
            // Pillow writes the constants as C floats (0.54f, 0.46f); they are widened to double there too.
            return sin(x) / x * (Double(Float(0.54)) + Double(Float(0.46)) * cos(x))
        case .bicubic:
            let a = -0.5
            let x = abs(x)
            if x < 1.0 { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1 }
            if x < 2.0 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0.0
        case .lanczos:
            guard -3.0 <= x && x < 3.0 else { return 0.0 }
            return Interpolation.sinc(x) * Interpolation.sinc(x / 3)
        }
    }

    private static func sinc(_ x: Double) -> Double {
        if x == 0.0 { return 1.0 }
        let x = x * Double.pi
        return sin(x) / x
    }
}

/// Pillow's fixed-point precision for 8-bit resampling: 32 bits minus 8 for the value and 2 for overshoot.
let resamplePrecisionBits: Int32 = 22

/// Fixed-point taps for one axis of a Pillow resize, for a contiguous range of output indices.
///
/// Output index `o` (for `o` in `outputs`) reads source indices `first[i] ..< first[i] + count[i]`
/// (`i = o - outputs.lowerBound`) weighted by `weights[i * taps ..< i * taps + count[i]]`, each weight
/// scaled by 2^22. Computed exactly as `precompute_coeffs` + `normalize_coeffs_8bpc` in Pillow, so the
/// result of resampling a sub-range equals the same range of Pillow's full resize.
struct AxisTaps {
    let outputs: Range<Int>
    let taps: Int
    var first: [Int]
    var count: [Int]
    var weights: [Int32]

    /// Pillow's coefficients for resizing `inSize` source samples, of which the region `in0 ..< in1`
    /// (Pillow's `box`, in source units, possibly fractional) maps onto `outSize` outputs.
    init(filter: Interpolation, inSize: Int, in0: Double, in1: Double, outSize: Int, outputs: Range<Int>) {
        let scale = (in1 - in0) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = filter.support * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        self.outputs = outputs
        self.taps = taps
        first = [Int](repeating: 0, count: outputs.count)
        count = [Int](repeating: 0, count: outputs.count)
        weights = [Int32](repeating: 0, count: outputs.count * taps)
        var k = [Double](repeating: 0, count: taps)
        let inverseScale = 1.0 / filterScale
        for (i, xx) in outputs.enumerated() {
            let center = in0 + (Double(xx) + 0.5) * scale
            // Int(_:) truncates toward zero like C's (int) cast, which Pillow relies on here.
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var total = 0.0
            for x in 0..<max(xmax, 0) {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * inverseScale)
                k[x] = w
                total += w
            }
            for x in 0..<max(xmax, 0) {
                if total != 0.0 { k[x] /= total }
                let scaled = k[x] * Double(1 << resamplePrecisionBits)
                weights[i * taps + x] = Int32(k[x] < 0 ? -0.5 + scaled : 0.5 + scaled)
            }
            first[i] = xmin
            count[i] = max(xmax, 0)
        }
    }

    /// One tap of weight 1 per output: what Pillow does when an axis keeps its size (it skips the pass).
    init(identityOver outputs: Range<Int>) {
        self.outputs = outputs
        taps = 1
        first = Array(outputs)
        count = [Int](repeating: 1, count: outputs.count)
        weights = [Int32](repeating: 1 << resamplePrecisionBits, count: outputs.count)
    }

    /// The source indices any output in this range reads.
    var sourceSpan: Range<Int> {
        guard !outputs.isEmpty else { return 0..<0 }
        var low = Int.max
        var high = Int.min
        for i in 0..<first.count where count[i] > 0 {
            low = min(low, first[i])
            high = max(high, first[i] + count[i])
        }
        return low <= high ? low..<high : 0..<0
    }
}

/// Pillow's `clip8`: drop the fraction bits of a fixed-point sum and saturate to 0...255.
@inline(__always)
func clip8(_ sum: Int32) -> UInt8 {
    let value = sum >> resamplePrecisionBits
    return value < 0 ? 0 : (value > 255 ? 255 : UInt8(truncatingIfNeeded: value))
}

/// Horizontal pass over RGB8 rows: for each source row in `rows`, writes `horizontal.outputs.count`
/// RGB8 pixels to `destination` (rows packed, `horizontal.outputs.count * 3` bytes each), rounded to
/// 8 bits exactly as Pillow's `ImagingResampleHorizontal_8bpc`.
func resampleRowsHorizontally(
    source: UnsafePointer<UInt8>, sourceRowBytes: Int, rows: Range<Int>,
    horizontal: AxisTaps, destination: UnsafeMutablePointer<UInt8>
) {
    let outWidth = horizontal.outputs.count
    let taps = horizontal.taps
    horizontal.first.withUnsafeBufferPointer { first in
        horizontal.count.withUnsafeBufferPointer { count in
            horizontal.weights.withUnsafeBufferPointer { weights in
                let half: Int32 = 1 << (resamplePrecisionBits - 1)
                // Two rows per sweep share each output's window and weights (half the bookkeeping).
                var r = 0
                while r + 1 < rows.count {
                    let upper = source + (rows.lowerBound + r) * sourceRowBytes
                    var outUpper = destination + r * outWidth * 3
                    var outLower = outUpper + outWidth * 3
                    for i in 0..<outWidth {
                        var pixel = upper + first[i] * 3
                        let k = weights.baseAddress! + i * taps
                        var r0 = half
                        var g0 = half
                        var b0 = half
                        var r1 = half
                        var g1 = half
                        var b1 = half
                        for t in 0..<count[i] {
                            let w = k[t]
                            r0 &+= Int32(pixel[0]) &* w
                            g0 &+= Int32(pixel[1]) &* w
                            b0 &+= Int32(pixel[2]) &* w
                            r1 &+= Int32(pixel[sourceRowBytes]) &* w
                            g1 &+= Int32(pixel[sourceRowBytes + 1]) &* w
                            b1 &+= Int32(pixel[sourceRowBytes + 2]) &* w
                            pixel += 3
                        }
                        outUpper[0] = clip8(r0)
                        outUpper[1] = clip8(g0)
                        outUpper[2] = clip8(b0)
                        outLower[0] = clip8(r1)
                        outLower[1] = clip8(g1)
                        outLower[2] = clip8(b1)
                        outUpper += 3
                        outLower += 3
                    }
                    r += 2
                }
                if r < rows.count {
                    let sourceRow = source + (rows.lowerBound + r) * sourceRowBytes
                    var out = destination + r * outWidth * 3
                    for i in 0..<outWidth {
                        var pixel = sourceRow + first[i] * 3
                        let k = weights.baseAddress! + i * taps
                        var red = half
                        var green = half
                        var blue = half
                        for t in 0..<count[i] {
                            let w = k[t]
                            red &+= Int32(pixel[0]) &* w
                            green &+= Int32(pixel[1]) &* w
                            blue &+= Int32(pixel[2]) &* w
                            pixel += 3
                        }
                        out[0] = clip8(red)
                        out[1] = clip8(green)
                        out[2] = clip8(blue)
                        out += 3
                    }
                }
            }
        }
    }
}

/// Vertical pass over packed interleaved rows of `rowBytes` bytes whose first row is source row
/// `firstSourceRow`: for each output in `vertical.outputs`, accumulates the tapped rows and hands the
/// rounded 8-bit row (Pillow's `ImagingResampleVertical_8bpc`) to `emit(outputIndex, row)`.
func resampleRowsVertically(
    source: UnsafePointer<UInt8>, rowBytes: Int, firstSourceRow: Int, vertical: AxisTaps,
    emit: (Int, UnsafePointer<UInt8>) -> Void
) {
    let accumulator = UnsafeMutablePointer<Int32>.allocate(capacity: max(rowBytes, 1))
    defer { accumulator.deallocate() }
    let row = UnsafeMutablePointer<UInt8>.allocate(capacity: max(rowBytes, 1))
    defer { row.deallocate() }
    let half: Int32 = 1 << (resamplePrecisionBits - 1)
    for (i, output) in vertical.outputs.enumerated() {
        accumulator.update(repeating: half, count: rowBytes)
        let k = i * vertical.taps
        for t in 0..<vertical.count[i] {
            let w = vertical.weights[k + t]
            let tapped = source + (vertical.first[i] + t - firstSourceRow) * rowBytes
            // Contiguous widening multiply-add: the compiler vectorizes this loop.
            for q in 0..<rowBytes {
                accumulator[q] &+= Int32(tapped[q]) &* w
            }
        }
        for q in 0..<rowBytes {
            row[q] = clip8(accumulator[q])
        }
        emit(output, UnsafePointer(row))
    }
}

/// Pillow's `Image.resize` of an RGB8 image with `filter` (two passes, horizontal then vertical, 8-bit
/// rounding between them). Reference path for tests and tools; `preprocess` fuses resize and crop.
func resizeRGB(
    _ pixels: [UInt8], width: Int, height: Int, toWidth outWidth: Int, height outHeight: Int,
    filter: Interpolation
) -> [UInt8] {
    let horizontal =
        outWidth == width
        ? AxisTaps(identityOver: 0..<outWidth)
        : AxisTaps(filter: filter, inSize: width, in0: 0, in1: Double(width), outSize: outWidth, outputs: 0..<outWidth)
    let vertical =
        outHeight == height
        ? AxisTaps(identityOver: 0..<outHeight)
        : AxisTaps(filter: filter, inSize: height, in0: 0, in1: Double(height), outSize: outHeight, outputs: 0..<outHeight)
    let rows = vertical.sourceSpan
    var intermediate = [UInt8](repeating: 0, count: rows.count * outWidth * 3)
    var result = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
    pixels.withUnsafeBufferPointer { source in
        intermediate.withUnsafeMutableBufferPointer { temp in
            resampleRowsHorizontally(
                source: source.baseAddress!, sourceRowBytes: width * 3, rows: rows,
                horizontal: horizontal, destination: temp.baseAddress!)
        }
    }
    intermediate.withUnsafeBufferPointer { temp in
        result.withUnsafeMutableBufferPointer { out in
            resampleRowsVertically(
                source: temp.baseAddress!, rowBytes: outWidth * 3, firstSourceRow: rows.lowerBound,
                vertical: vertical
            ) { y, row in
                (out.baseAddress! + y * outWidth * 3).update(from: row, count: outWidth * 3)
            }
        }
    }
    return result
}
