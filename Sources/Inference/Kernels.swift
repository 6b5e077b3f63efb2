import CBLAS
import Dispatch
import Foundation

/// Splits loops over the engine's threads. With one thread everything runs inline, so two single-threaded
/// engines side by side never start extra work on each other's core.
struct ParallelLoop: Sendable {
    let threads: Int

    /// Calls `body` on disjoint subranges covering 0..<count (in parallel when threads > 1 and it pays).
    func run(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = min(threads, max(1, count / max(1, minimumPerThread)))
        if parts <= 1 { body(0..<count); return }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                body(count * part / parts..<count * (part + 1) / parts)
            }
        }
    }
}

/// A planar activation tensor laid out channel-major over the whole batch: element (c, n, y, x) lives at
/// `c·channelStride + n·imageStride + y·width + x`. The engine keeps activations in (C, N, H, W) order so a
/// 1×1 convolution over the whole batch is one GEMM; the network input arrives in (N, C, H, W).
struct PlanarTensor {
    var data: UnsafeMutablePointer<Float>
    var channels: Int
    var batch: Int
    var height: Int
    var width: Int
    var channelStride: Int
    var imageStride: Int

    /// (C, N, H, W) tensor in `data`.
    static func channelMajor(_ data: UnsafeMutablePointer<Float>, channels: Int, batch: Int, height: Int, width: Int) -> PlanarTensor {
        PlanarTensor(data: data, channels: channels, batch: batch, height: height, width: width,
                     channelStride: batch * height * width, imageStride: height * width)
    }

    /// (N, C, H, W) tensor in `data`.
    static func imageMajor(_ data: UnsafeMutablePointer<Float>, channels: Int, batch: Int, height: Int, width: Int) -> PlanarTensor {
        PlanarTensor(data: data, channels: channels, batch: batch, height: height, width: width,
                     channelStride: height * width, imageStride: channels * height * width)
    }

    /// Columns of the GEMM view (N·H·W) when channel-major.
    var columns: Int { batch * height * width }
}

@inline(__always) func floorDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
@inline(__always) func ceilDivide(_ a: Int, _ b: Int) -> Int { -floorDivide(-a, b) }

/// The engine's kernels. Each has a naive twin in the tests.
enum Kernels {
    /// C(m×n) = A(m×k) · B(k×n), row-major, with leading dimensions.
    static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                     c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                    a, Int32(lda), b, Int32(ldb), accumulate ? 1 : 0, c, Int32(ldc))
    }

    /// Unfolds k×k patches: rows (c, ky, kx) — PyTorch's weight order — by columns (n, oy, ox), zero padded.
    /// (C, N, H, W) or (N, C, H, W) → (C·k·k, N·Ho·Wo)
    static func im2col(_ input: PlanarTensor, kernel: Int, stride: Int, padding: Int,
                       into output: UnsafeMutablePointer<Float>, loop: ParallelLoop) {
        let outH = (input.height + 2 * padding - kernel) / stride + 1
        let outW = (input.width + 2 * padding - kernel) / stride + 1
        let columns = input.batch * outH * outW
        let rows = input.channels * kernel * kernel
        loop.run(rows, minimumPerThread: 4) { range in
            for row in range {
                let c = row / (kernel * kernel), ky = (row / kernel) % kernel, kx = row % kernel
                var out = output + row * columns
                for n in 0..<input.batch {
                    let plane = input.data + c * input.channelStride + n * input.imageStride
                    for oy in 0..<outH {
                        let iy = oy * stride - padding + ky
                        if iy < 0 || iy >= input.height {
                            out.update(repeating: 0, count: outW)
                            out += outW
                            continue
                        }
                        let source = plane + iy * input.width
                        // Output columns [lo, hi) read inside the row: 0 ≤ ox·stride − padding + kx < W.
                        let lo = min(outW, max(0, ceilDivide(padding - kx, stride)))
                        let hi = min(outW, max(lo, floorDivide(input.width - 1 + padding - kx, stride) + 1))
                        if lo > 0 { out.update(repeating: 0, count: lo) }
                        if stride == 1 {
                            (out + lo).update(from: source + lo - padding + kx, count: hi - lo)
                        } else {
                            for ox in lo..<hi { out[ox] = source[ox * stride - padding + kx] }
                        }
                        if hi < outW { (out + hi).update(repeating: 0, count: outW - hi) }
                        out += outW
                    }
                }
            }
        }
    }

    /// Picks every `stride`-th pixel (the input of a strided 1×1 convolution). (C, N, H, W) → (C, N, H/s, W/s)
    static func subsample(_ input: PlanarTensor, stride: Int, into output: UnsafeMutablePointer<Float>, loop: ParallelLoop) {
        let outH = (input.height - 1) / stride + 1, outW = (input.width - 1) / stride + 1
        loop.run(input.channels * input.batch, minimumPerThread: 8) { range in
            for plane in range {
                let c = plane / input.batch, n = plane % input.batch
                let source = input.data + c * input.channelStride + n * input.imageStride
                let out = output + plane * outH * outW
                for oy in 0..<outH {
                    for ox in 0..<outW { out[oy * outW + ox] = source[oy * stride * input.width + ox * stride] }
                }
            }
        }
    }

    /// x[c, j] += bias[c], then ReLU if asked. x is (channels) × (columns).
    static func addBias(_ x: UnsafeMutablePointer<Float>, channels: Int, columns: Int, bias: UnsafePointer<Float>,
                        relu: Bool, loop: ParallelLoop) {
        loop.run(channels, minimumPerThread: 4) { range in
            for c in range {
                let row = x + c * columns, b = bias[c]
                if relu {
                    for j in 0..<columns { row[j] = max(row[j] + b, 0) }
                } else {
                    for j in 0..<columns { row[j] += b }
                }
            }
        }
    }

    /// x[c, n, ·] += bias[c] and means[c, n] = mean over H·W of the result (SE's squeeze, fused).
    static func addBiasAndAverage(_ x: UnsafeMutablePointer<Float>, channels: Int, batch: Int, planeSize: Int,
                                  bias: UnsafePointer<Float>, means: UnsafeMutablePointer<Float>, loop: ParallelLoop) {
        let inverse = 1 / Float(planeSize)
        loop.run(channels, minimumPerThread: 4) { range in
            for c in range {
                let b = bias[c]
                for n in 0..<batch {
                    let plane = x + (c * batch + n) * planeSize
                    var sum: Float = 0
                    for j in 0..<planeSize {
                        let v = plane[j] + b
                        plane[j] = v
                        sum += v
                    }
                    means[c * batch + n] = sum * inverse
                }
            }
        }
    }

    /// y[c, n, ·] = relu(x[c, n, ·] · scale[c, n] + shortcut[c, n, ·]); scale nil means 1. y may alias x.
    static func scaleAddReLU(_ x: UnsafeMutablePointer<Float>, scale: UnsafePointer<Float>?, shortcut: UnsafePointer<Float>,
                             channels: Int, batch: Int, planeSize: Int, loop: ParallelLoop) {
        loop.run(channels * batch, minimumPerThread: 8) { range in
            for plane in range {
                let s = scale?[plane] ?? 1
                let row = x + plane * planeSize, skip = shortcut + plane * planeSize
                for j in 0..<planeSize { row[j] = max(row[j] * s + skip[j], 0) }
            }
        }
    }

    /// Squeeze-excitation MLP on pooled means: scale(C×N) = σ(W2 · relu(W1 · means + b1) + b2).
    /// `hidden` is scratch of (se.hidden × N).
    static func squeezeExcitation(_ se: SqueezeExcitation, means: UnsafePointer<Float>, batch: Int,
                                  hidden: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>) {
        se.reduceWeight.withUnsafeBufferPointer { w1 in
            gemm(m: se.hidden, n: batch, k: se.channels, a: w1.baseAddress!, lda: se.channels, b: means, ldb: batch, c: hidden, ldc: batch)
        }
        for r in 0..<se.hidden {
            for n in 0..<batch { hidden[r * batch + n] = max(hidden[r * batch + n] + se.reduceBias[r], 0) }
        }
        se.expandWeight.withUnsafeBufferPointer { w2 in
            gemm(m: se.channels, n: batch, k: se.hidden, a: w2.baseAddress!, lda: se.hidden, b: hidden, ldb: batch, c: scale, ldc: batch)
        }
        for c in 0..<se.channels {
            for n in 0..<batch {
                let z = scale[c * batch + n] + se.expandBias[c]
                scale[c * batch + n] = 1 / (1 + exp(-z))
            }
        }
    }

    /// 3×3 stride-2 pad-1 max pooling (padding never wins, as in PyTorch). (C, N, H, W) → (C, N, H', W')
    static func maxPool3x3Stride2(_ input: PlanarTensor, into output: UnsafeMutablePointer<Float>, loop: ParallelLoop) {
        let outH = (input.height + 2 - 3) / 2 + 1, outW = (input.width + 2 - 3) / 2 + 1
        loop.run(input.channels * input.batch, minimumPerThread: 8) { range in
            for plane in range {
                let c = plane / input.batch, n = plane % input.batch
                let source = input.data + c * input.channelStride + n * input.imageStride
                let out = output + plane * outH * outW
                for oy in 0..<outH {
                    let y0 = max(0, 2 * oy - 1), y1 = min(input.height - 1, 2 * oy + 1)
                    for ox in 0..<outW {
                        let x0 = max(0, 2 * ox - 1), x1 = min(input.width - 1, 2 * ox + 1)
                        var best = -Float.infinity
                        for y in y0...y1 {
                            let row = source + y * input.width
                            for x in x0...x1 { best = max(best, row[x]) }
                        }
                        out[oy * outW + ox] = best
                    }
                }
            }
        }
    }

    /// means[c, n] = mean over H·W of x[c, n, ·]. (C, N, H, W) → (C, N)
    static func globalAveragePool(_ x: UnsafePointer<Float>, channels: Int, batch: Int, planeSize: Int,
                                  into means: UnsafeMutablePointer<Float>) {
        let inverse = 1 / Float(planeSize)
        for plane in 0..<channels * batch {
            var sum: Float = 0
            let row = x + plane * planeSize
            for j in 0..<planeSize { sum += row[j] }
            means[plane] = sum * inverse
        }
    }

    /// logits(N × classes) = featuresᵀ · Wᵀ + b, with features (C × N) and W (classes × C).
    static func classifier(features: UnsafePointer<Float>, batch: Int, featureCount: Int,
                           weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, classes: Int,
                           into logits: UnsafeMutablePointer<Float>) {
        for n in 0..<batch { (logits + n * classes).update(from: bias, count: classes) }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, Int32(batch), Int32(classes), Int32(featureCount), 1,
                    features, Int32(batch), weight, Int32(featureCount), 1, logits, Int32(classes))
    }
}
