import Dispatch

/// Weights of a 3×3 stride-1 pad-1 convolution transformed for Winograd F(2×2, 3×3): U = G g Gᵀ, stored as
/// 16 matrices (one per transform point ξ) of (Cout × Cin), so the convolution becomes 16 GEMMs of
/// (Cout × Cin) · (Cin × tiles) — 2.25× fewer multiply-accumulates than im2col + GEMM.
public struct WinogradWeights: Sendable {
    public let outChannels: Int
    public let inChannels: Int
    /// 16 × Cout × Cin, for OpenBLAS (empty when `packed` holds them).
    let transformed: [Float]
    /// The 16 matrices packed for the engine's GEMM, when it has one.
    let packed: [PackedMatrix]?
    let bias: [Float]

    /// Transforms a folded 3×3 stride-1 layer (in Double, then rounded once), and packs the result for
    /// `instructionSet`'s GEMM if given (the unpacked copy is then dropped).
    init(_ layer: ConvolutionLayer, instructionSet: KernelInstructionSet?) {
        precondition(layer.shape.kernel == 3 && layer.shape.stride == 1 && layer.shape.padding == 1)
        let cout = layer.shape.outChannels
        let cin = layer.shape.inChannels
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
                                    t[r * 3 + c] =
                                        g[r * 3] * Double(kernel[c]) + g[r * 3 + 1] * Double(kernel[3 + c]) + g[r * 3 + 2]
                                        * Double(kernel[6 + c])
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
        bias = layer.bias
        if let instructionSet {
            packed = u.withUnsafeBufferPointer { u in
                (0..<16).map {
                    PackedMatrix(u.baseAddress! + $0 * cout * cin, rows: cout, columns: cin, bias: nil, instructionSet: instructionSet)
                }
            }
            transformed = []
        } else {
            packed = nil
            transformed = u
        }
    }

    /// Whether Winograd beats im2col + GEMM here. Measured on this project's 2-core reference machine
    /// (`seresnet bench --profile`): with fewer than 32 tiles (7×7 at batch 1) the transformed weights
    /// (16/9 larger) dominate and it loses or ties. With 64 input channels (layer1 at 56×56) it lost to im2col
    /// while the transforms gathered each 4×4 tile separately; since they run over whole tile rows it wins
    /// there too (layer1's blocks ≈ 13% faster at batch 8 and ≈ 15% at batch 1).
    func pays(batch: Int, height: Int, width: Int) -> Bool {
        inChannels >= 64 && batch * ((height + 1) / 2) * ((width + 1) / 2) >= 32
    }

    /// Floats of transformed input and products a block of tiles may hold (1 MiB together): small enough to stay
    /// in L2 between its input transform, its 16 products and its output transform.
    static let blockBudgetFloats = 262_144

    /// Tile rows per block for an input `width` wide: as many whole rows of tiles as fit the budget (at least one).
    func blockRows(width: Int) -> Int {
        let tilesWide = (width + 1) / 2
        return max(1, Self.blockBudgetFloats / (16 * (inChannels + outChannels) * tilesWide))
    }

    /// Floats of the transformed-input and product scratch of one thread for an input `width` wide.
    func scratchSizes(width: Int) -> (input: Int, product: Int) {
        let tiles = blockRows(width: width) * ((width + 1) / 2)
        return (16 * inChannels * tiles, 16 * outChannels * tiles)
    }

    /// y = relu(conv3×3(x) + bias), (Cin, N, H, W) → (Cout, N, H, W), x channel-major.
    ///
    /// Tiled as ncnn does: the tiles are cut into blocks of whole tile rows of one image (`blockRows`), and each
    /// thread takes whole blocks, running for each the input transform, the 16 products and the output transform
    /// while the block's data is still in its L2 (a whole-layer transform made two DRAM round trips of 16× the
    /// activation). `transformedInput` and `products` hold `scratchSizes(width:)` floats per thread.
    func run(
        input x: PlanarTensor, output: UnsafeMutablePointer<Float>, transformedInput v: UnsafeMutablePointer<Float>,
        products m: UnsafeMutablePointer<Float>, loop: ParallelLoop, packScratch: (Int) -> UnsafeMutablePointer<Float>
    ) {
        let tilesHigh = (x.height + 1) / 2
        let rows = blockRows(width: x.width)
        let blocksPerImage = (tilesHigh + rows - 1) / rows
        // Equal blocks: the tile rows are spread evenly over the image's blocks.
        let rowsPerBlock = (tilesHigh + blocksPerImage - 1) / blocksPerImage
        let blocks = x.batch * blocksPerImage
        let sizes = scratchSizes(width: x.width)
        let parts = min(loop.threads, blocks)
        loop.forEachPart(parts) { part in
            var block = part
            while block < blocks {
                let n = block / blocksPerImage
                let first = (block % blocksPerImage) * rowsPerBlock
                let tileRows = first..<min(tilesHigh, first + rowsPerBlock)
                if !tileRows.isEmpty {
                    runBlock(
                        input: x, image: n, tileRows: tileRows, output: output, v: v + part * sizes.input, m: m + part * sizes.product,
                        scratch: packScratch(part))
                }
                block += parts
            }
        }
    }

    /// One block: tile rows `tileRows` of image `n`, single-threaded.
    private func runBlock(
        input x: PlanarTensor, image n: Int, tileRows: Range<Int>, output: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        m: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        let height = x.height
        let width = x.width
        let tilesWide = (width + 1) / 2
        let tiles = tileRows.count * tilesWide
        let cin = inChannels
        let cout = outChannels

        // V[ξ][ci][tile] = (Bᵀ d B)[ξ], d the 4×4 input patch at (2ty − 1, 2tx − 1), zero outside the image.
        // One row of tiles at a time: the four input rows are copied zero-padded into `d` (4 × padded width), Bᵀ
        // is applied down the columns of the whole row strip, then B across each tile; for a fixed ξ the tiles
        // of the strip are consecutive in V, so every pass is a contiguous loop rather than 16 scattered stores.
        // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
        let padded = 2 * tilesWide + 2
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * padded) { buffer in
            let d = buffer.baseAddress!
            let t = d + 4 * padded
            let step = cin * tiles
            for ci in 0..<cin {
                let plane = x.data + ci * x.channelStride + n * x.imageStride
                for ty in tileRows {
                    // d[r][p] = input (2ty − 1 + r, p − 1), zero outside the image.
                    for r in 0..<4 {
                        let row = d + r * padded
                        let y = 2 * ty - 1 + r
                        if y >= 0 && y < height {
                            row[0] = 0
                            (row + 1).update(from: plane + y * width, count: width)
                            (row + 1 + width).update(repeating: 0, count: padded - 1 - width)
                        } else {
                            row.update(repeating: 0, count: padded)
                        }
                    }
                    let d0 = d
                    let d1 = d + padded
                    let d2 = d + 2 * padded
                    let d3 = d + 3 * padded
                    let t0 = t
                    let t1 = t + padded
                    let t2 = t + 2 * padded
                    let t3 = t + 3 * padded
                    for p in 0..<padded {
                        t0[p] = d0[p] - d2[p]
                        t1[p] = d1[p] + d2[p]
                        t2[p] = d2[p] - d1[p]
                        t3[p] = d1[p] - d3[p]
                    }
                    let strip = v + ci * tiles + (ty - tileRows.lowerBound) * tilesWide
                    for r in 0..<4 {
                        let row = t + r * padded
                        let v0 = strip + (r * 4) * step
                        let v1 = v0 + step
                        let v2 = v1 + step
                        let v3 = v2 + step
                        for tx in 0..<tilesWide {
                            let a = row[2 * tx]
                            let b = row[2 * tx + 1]
                            let c = row[2 * tx + 2]
                            let e = row[2 * tx + 3]
                            v0[tx] = a - c
                            v1[tx] = b + c
                            v2[tx] = c - b
                            v3[tx] = b - e
                        }
                    }
                }
            }
        }

        // M[ξ] = U[ξ] (Cout × Cin) · V[ξ] (Cin × tiles).
        for xi in 0..<16 {
            if let packed {
                let u = packed[xi]
                u.multiply(
                    panels: 0..<u.panels, n: tiles, b: v + xi * cin * tiles, ldb: tiles, c: m + xi * cout * tiles, ldc: tiles, relu: false,
                    scratch: scratch)
            } else {
                transformed.withUnsafeBufferPointer { u in
                    Kernels.gemm(
                        m: cout, n: tiles, k: cin, a: u.baseAddress! + xi * cout * cin, lda: cin, b: v + xi * cin * tiles, ldb: tiles,
                        c: m + xi * cout * tiles, ldc: tiles)
                }
            }
        }

        // y = Aᵀ M A + bias, ReLU; Aᵀ = [1 1 1 0; 0 1 −1 −1]. Output pixels past the image edge are dropped.
        // One row of tiles at a time: Aᵀ down the columns into `s` (2 rows × 4 columns × tiles of the strip, each
        // a contiguous run over the strip's tiles), then A across each tile.
        bias.withUnsafeBufferPointer { bias in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * tilesWide) { buffer in
                let s = buffer.baseAddress!
                let step = cout * tiles
                for co in 0..<cout {
                    let b = bias[co]
                    let plane = output + co * x.batch * height * width + n * height * width
                    for ty in tileRows {
                        let strip = m + co * tiles + (ty - tileRows.lowerBound) * tilesWide
                        for c in 0..<4 {
                            let p0 = strip + c * step
                            let p1 = p0 + 4 * step
                            let p2 = p1 + 4 * step
                            let p3 = p2 + 4 * step
                            let s0 = s + c * tilesWide
                            let s1 = s + (4 + c) * tilesWide
                            for tx in 0..<tilesWide {
                                s0[tx] = p0[tx] + p1[tx] + p2[tx]
                                s1[tx] = p1[tx] - p2[tx] - p3[tx]
                            }
                        }
                        let y = 2 * ty
                        for r in 0..<2 where y + r < height {
                            let row = plane + (y + r) * width
                            let c0 = s + (4 * r) * tilesWide
                            let c1 = c0 + tilesWide
                            let c2 = c1 + tilesWide
                            let c3 = c2 + tilesWide
                            // Whole tiles, then the last tile's left column alone when the width is odd.
                            for tx in 0..<width / 2 {
                                row[2 * tx] = max(c0[tx] + c1[tx] + c2[tx] + b, 0)
                                row[2 * tx + 1] = max(c1[tx] - c2[tx] - c3[tx] + b, 0)
                            }
                            if width % 2 == 1 {
                                let tx = width / 2
                                row[2 * tx] = max(c0[tx] + c1[tx] + c2[tx] + b, 0)
                            }
                        }
                    }
                }
            }
        }
    }
}
