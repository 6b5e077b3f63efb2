import Dispatch

/// Weights of a 3×3 stride-1 pad-1 convolution transformed for Winograd F(2×2, 3×3): U = G g Gᵀ, stored as
/// 16 matrices (one per transform point ξ) of (Cout × Cin), so the convolution becomes 16 GEMMs of
/// (Cout × Cin) · (Cin × tiles) — 2.25× fewer multiply-accumulates than im2col + GEMM.
public struct WinogradWeights: Sendable {
    public let outChannels: Int
    public let inChannels: Int
    /// 16 × Cout × Cin
    let transformed: [Float]
    let bias: [Float]

    /// Transforms a folded 3×3 stride-1 layer (in Double, then rounded once).
    init(_ layer: ConvolutionLayer) {
        precondition(layer.shape.kernel == 3 && layer.shape.stride == 1 && layer.shape.padding == 1)
        let cout = layer.shape.outChannels, cin = layer.shape.inChannels
        // G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
        let g: [Double] = [1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1]
        var u = [Float](repeating: 0, count: 16 * cout * cin)
        u.withUnsafeMutableBufferPointer { u in
            layer.weights.withUnsafeBufferPointer { w in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: 12) { t in
                    for o in 0..<cout {
                        for i in 0..<cin {
                            let kernel = w.baseAddress! + (o * cin + i) * 9
                            // t = G · k (4×3), then U = t · Gᵀ (4×4)
                            for r in 0..<4 {
                                for c in 0..<3 {
                                    t[r * 3 + c] = g[r * 3] * Double(kernel[c]) + g[r * 3 + 1] * Double(kernel[3 + c]) + g[r * 3 + 2] * Double(kernel[6 + c])
                                }
                            }
                            for r in 0..<4 {
                                for c in 0..<4 {
                                    let value = t[r * 3] * g[c * 3] + t[r * 3 + 1] * g[c * 3 + 1] + t[r * 3 + 2] * g[c * 3 + 2]
                                    u[((r * 4 + c) * cout + o) * cin + i] = Float(value)
                                }
                            }
                        }
                    }
                }
            }
        }
        outChannels = cout
        inChannels = cin
        transformed = u
        bias = layer.bias
    }

    /// Whether Winograd beats im2col + GEMM here. Measured on this project's 2-core reference machine
    /// (`seresnet bench` per layer): with 64 input channels the 16 small-K products are memory-bound, and with
    /// fewer than 32 tiles (7×7 at batch 1) the transformed weights (16/9 larger) dominate; both lose.
    func pays(batch: Int, height: Int, width: Int) -> Bool {
        inChannels >= 128 && batch * ((height + 1) / 2) * ((width + 1) / 2) >= 32
    }

    /// Floats of the transformed-input and product buffers for an input of (batch, height, width).
    static func scratchSizes(inChannels: Int, outChannels: Int, batch: Int, height: Int, width: Int) -> (input: Int, product: Int) {
        let tiles = batch * ((height + 1) / 2) * ((width + 1) / 2)
        return (16 * inChannels * tiles, 16 * outChannels * tiles)
    }

    /// y = relu(conv3×3(x) + bias), (Cin, N, H, W) → (Cout, N, H, W), x channel-major.
    /// `transformedInput` and `products` must hold `scratchSizes` floats.
    func run(input x: PlanarTensor, output: UnsafeMutablePointer<Float>, transformedInput v: UnsafeMutablePointer<Float>,
             products m: UnsafeMutablePointer<Float>, loop: ParallelLoop) {
        let height = x.height, width = x.width, batch = x.batch
        let tilesHigh = (height + 1) / 2, tilesWide = (width + 1) / 2
        let tiles = batch * tilesHigh * tilesWide
        let cin = inChannels, cout = outChannels

        // V[ξ][ci][tile] = (Bᵀ d B)[ξ], d the 4×4 input patch at (2ty − 1, 2tx − 1), zero outside the image.
        loop.run(cin) { channels in withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { scratch in
            let d = scratch.baseAddress!, t = d + 16
            for ci in channels {
                for n in 0..<batch {
                    let plane = x.data + ci * x.channelStride + n * x.imageStride
                    for ty in 0..<tilesHigh {
                        for tx in 0..<tilesWide {
                            let y0 = 2 * ty - 1, x0 = 2 * tx - 1
                            if y0 >= 0, x0 >= 0, y0 + 3 < height, x0 + 3 < width {
                                for r in 0..<4 { for c in 0..<4 { d[r * 4 + c] = plane[(y0 + r) * width + x0 + c] } }
                            } else {
                                for r in 0..<4 {
                                    let yy = y0 + r
                                    for c in 0..<4 {
                                        let xx = x0 + c
                                        d[r * 4 + c] = (yy >= 0 && yy < height && xx >= 0 && xx < width) ? plane[yy * width + xx] : 0
                                    }
                                }
                            }
                            // Bᵀ d (rows), then (·) B (columns); Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
                            for c in 0..<4 {
                                t[c] = d[c] - d[8 + c]
                                t[4 + c] = d[4 + c] + d[8 + c]
                                t[8 + c] = d[8 + c] - d[4 + c]
                                t[12 + c] = d[4 + c] - d[12 + c]
                            }
                            let tile = (n * tilesHigh + ty) * tilesWide + tx
                            let out = v + ci * tiles + tile
                            let step = cin * tiles
                            for r in 0..<4 {
                                out[(r * 4 + 0) * step] = t[r * 4] - t[r * 4 + 2]
                                out[(r * 4 + 1) * step] = t[r * 4 + 1] + t[r * 4 + 2]
                                out[(r * 4 + 2) * step] = t[r * 4 + 2] - t[r * 4 + 1]
                                out[(r * 4 + 3) * step] = t[r * 4 + 1] - t[r * 4 + 3]
                            }
                        }
                    }
                }
            }
        } }

        // M[ξ] = U[ξ] (Cout × Cin) · V[ξ] (Cin × tiles), the 16 products split over threads.
        transformed.withUnsafeBufferPointer { u in
            loop.run(16) { points in
                for xi in points {
                    Kernels.gemm(m: cout, n: tiles, k: cin, a: u.baseAddress! + xi * cout * cin, lda: cin,
                                 b: v + xi * cin * tiles, ldb: tiles, c: m + xi * cout * tiles, ldc: tiles)
                }
            }
        }

        // y = Aᵀ M A + bias, ReLU; Aᵀ = [1 1 1 0; 0 1 −1 −1]. Output pixels past the image edge are dropped.
        bias.withUnsafeBufferPointer { bias in
            loop.run(cout) { channels in withUnsafeTemporaryAllocation(of: Float.self, capacity: 24) { scratch in
                let p = scratch.baseAddress!, s = p + 16
                for co in channels {
                    let b = bias[co]
                    for n in 0..<batch {
                        let plane = output + co * batch * height * width + n * height * width
                        for ty in 0..<tilesHigh {
                            for tx in 0..<tilesWide {
                                let tile = (n * tilesHigh + ty) * tilesWide + tx
                                let source = m + co * tiles + tile
                                let step = cout * tiles
                                for xi in 0..<16 { p[xi] = source[xi * step] }
                                for c in 0..<4 {
                                    s[c] = p[c] + p[4 + c] + p[8 + c]
                                    s[4 + c] = p[4 + c] - p[8 + c] - p[12 + c]
                                }
                                let y = 2 * ty, xx = 2 * tx
                                for r in 0..<2 where y + r < height {
                                    let row = plane + (y + r) * width + xx
                                    row[0] = max(s[r * 4] + s[r * 4 + 1] + s[r * 4 + 2] + b, 0)
                                    if xx + 1 < width { row[1] = max(s[r * 4 + 1] - s[r * 4 + 2] - s[r * 4 + 3] + b, 0) }
                                }
                            }
                        }
                    }
                }
            } }
        }
    }
}
