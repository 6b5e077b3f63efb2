import CKernels
import Dispatch

/// Weights of a 3×3 stride-1 pad-1 convolution transformed for Winograd F(m×m, 3×3), m = 2 or 4: U = G g Gᵀ,
/// stored as α² matrices (α = m + 2, one per transform point ξ) of (Cout × Cin), so the convolution becomes α² GEMMs
/// of (Cout × Cin) · (Cin × tiles): 2.25× (F2) or 4× (F4) fewer multiply-accumulates than im2col + GEMM.
public struct WinogradWeights: Sendable {
    public let outChannels: Int
    public let inChannels: Int
    /// Output tile side m: 2 or 4.
    public let tile: Int
    /// α² × Cout × Cin, for OpenBLAS (empty when `packed` holds them).
    let transformed: [Float]
    /// The α² matrices packed for the engine's GEMM, when it has one.
    let packed: [PackedMatrix]?
    let bias: [Float]
    /// The table whose strip transforms run (baseline x86-64 with OpenBLAS), and whose products run unless it is
    /// baseline's.
    let kernels: KernelTable

    /// Input tile side α = m + 2.
    var alpha: Int { tile + 2 }

    /// G for F(2×2, 3×3) (points 0, ±1, ∞) and F(4×4, 3×3) (points 0, ±1, ±2, ∞; Lavin & Gray 2016), row-major α × 3.
    private static func g(tile: Int) -> [Double] {
        if tile == 2 { return [1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1] }
        return [
            1.0 / 4, 0, 0,
            -1.0 / 6, -1.0 / 6, -1.0 / 6,
            -1.0 / 6, 1.0 / 6, -1.0 / 6,
            1.0 / 24, 1.0 / 12, 1.0 / 6,
            1.0 / 24, -1.0 / 12, 1.0 / 6,
            0, 0, 1,
        ]
    }

    /// Transforms a folded 3×3 stride-1 layer (in Double, then rounded once), and packs the result for `kernels`' GEMM
    /// when the table has products (the unpacked copy is then dropped; else OpenBLAS multiplies it). With bf16 products
    /// the transforms compute in fp32 and the input transform writes its output as the products' bf16 pairs.
    init(_ layer: ConvolutionLayer, tile: Int = 2, kernels: KernelTable) {
        precondition(layer.shape.kernel == 3 && layer.shape.stride == 1 && layer.shape.padding == 1)
        precondition(tile == 2 || tile == 4, "F(2×2) or F(4×4)")
        precondition(kernels.precision != .int8, "Winograd's transforms do not carry over to integers")
        let cout = layer.shape.outChannels
        let cin = layer.shape.inChannels
        let alpha = tile + 2
        let points = alpha * alpha
        let g = Self.g(tile: tile)
        var u = [Float](repeating: 0, count: points * cout * cin)
        u.withUnsafeMutableBufferPointer { u in
            layer.weights.withUnsafeBufferPointer { w in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * alpha) { t in
                    for o in 0..<cout {
                        for i in 0..<cin {
                            let kernel = w.baseAddress! + (o * cin + i) * 9
                            // t = G · k (α×3), then U = t · Gᵀ (α×α)
                            for r in 0..<alpha {
                                for c in 0..<3 {
                                    t[r * 3 + c] =
                                        g[r * 3] * Double(kernel[c]) + g[r * 3 + 1] * Double(kernel[3 + c]) + g[r * 3 + 2]
                                        * Double(kernel[6 + c])
                                }
                            }
                            for r in 0..<alpha {
                                for c in 0..<alpha {
                                    let value = t[r * 3] * g[c * 3] + t[r * 3 + 1] * g[c * 3 + 1] + t[r * 3 + 2] * g[c * 3 + 2]
                                    u[((r * alpha + c) * cout + o) * cin + i] = Float(value)
                                }
                            }
                        }
                    }
                }
            }
        }
        outChannels = cout
        inChannels = cin
        self.tile = tile
        self.kernels = kernels
        bias = layer.bias
        if kernels.hasProducts {
            packed = u.withUnsafeBufferPointer { u in
                (0..<points).map { PackedMatrix(u.baseAddress! + $0 * cout * cin, rows: cout, columns: cin, bias: nil, kernels: kernels) }
            }
            transformed = []
        } else {
            packed = nil
            transformed = u
        }
    }

    /// "Winograd F(2×2, 3×3), avx512 bf16 packed GEMM": what runs where it pays.
    var algorithm: String {
        "Winograd F(\(tile)×\(tile), 3×3), \(packed?.first.map { "\($0.kernels.name) packed GEMM" } ?? "OpenBLAS sgemm")"
    }

    /// Fewest tiles (over the batch) for which Winograd runs (`pays`): 16 on the engine's packed GEMM, 32 on OpenBLAS.
    var minimumTiles: Int { packed == nil ? 32 : 16 }

    /// Whether Winograd beats im2col + GEMM here (`seresnet bench --profile`, docs/performance.md). On the engine's
    /// kernels it wins from 16 tiles on: layer4's 7×7 at batch 1 (16 F(2×2) tiles, its transformed weights split over
    /// the threads by output channel) is faster than with im2col, its 2.25× fewer multiply-adds outweighing the
    /// transforms. OpenBLAS's sgemm, whose per-call cost wants few large products, loses to im2col on 16 such tiles,
    /// so it keeps 32. Below 64 input channels the transforms cost more than they save.
    func pays(batch: Int, height: Int, width: Int) -> Bool {
        inChannels >= 64 && batch * ((height + tile - 1) / tile) * ((width + tile - 1) / tile) >= minimumTiles
    }

    /// Floats of transformed input and products a block of tiles may hold (1 MiB together): small enough to stay
    /// in L2 between its input transform, its products and its output transform.
    static let blockBudgetFloats = 262_144

    /// Tile rows per block for an input `height` × `width`: as many whole rows of tiles as fit the budget (at least
    /// one, at most an image's). With OpenBLAS, whole images: its per-call cost wants few, large products.
    func blockRows(height: Int, width: Int) -> Int {
        let tilesHigh = (height + tile - 1) / tile
        let tilesWide = (width + tile - 1) / tile
        if packed == nil { return tilesHigh }
        return min(tilesHigh, max(1, Self.blockBudgetFloats / (alpha * alpha * (inChannels + outChannels) * tilesWide)))
    }

    /// Up to this many tiles in all, the engine's kernels split a layer by channels, not by tile rows (see `run`).
    static let channelSplitMaxTiles = 64

    /// Whether `run` splits a batch × height × width input by channels.
    func splitsByChannels(batch: Int, height: Int, width: Int) -> Bool {
        packed != nil && batch * ((height + tile - 1) / tile) * ((width + tile - 1) / tile) <= Self.channelSplitMaxTiles
    }

    /// Floats of the transformed-input and product scratch of one thread for an input `height` × `width`, when split
    /// by tile rows.
    func scratchSizes(height: Int, width: Int) -> (input: Int, product: Int) {
        let tiles = blockRows(height: height, width: width) * ((width + tile - 1) / tile)
        return (alpha * alpha * inChannels * tiles, alpha * alpha * outChannels * tiles)
    }

    /// Floats `transformedInput` and `products` must hold for `run` on up to `batch` images with `threads` threads.
    func workspaceSizes(batch: Int, height: Int, width: Int, threads: Int) -> (input: Int, product: Int) {
        let perThread = scratchSizes(height: height, width: width)
        var sizes = (input: perThread.input * threads, product: perThread.product * threads)
        let perImage = ((height + tile - 1) / tile) * ((width + tile - 1) / tile)
        if packed != nil {
            let tiles = min(batch * perImage, Self.channelSplitMaxTiles / perImage * perImage)
            sizes.input = max(sizes.input, alpha * alpha * inChannels * tiles)
            sizes.product = max(sizes.product, alpha * alpha * outChannels * tiles)
        }
        return sizes
    }

    /// y = relu(conv3×3(x) + bias), (Cin, N, H, W) → (Cout, N, H, W), x channel-major.
    ///
    /// Tiled as ncnn does: the tiles are cut into blocks of whole tile rows of one image (`blockRows`), which the
    /// threads share out as they go (`ParallelLoop.forEachChunk`), running for each the input transform, the α²
    /// products and the output transform while the block's data is still in its L2 (a whole-layer transform would make
    /// two DRAM round trips of α² times the activation). With few tiles in all (late stages at small batches,
    /// `splitsByChannels`), the threads split the channels instead: the input transform by input channel, then each
    /// thread's share of output channels through the α² products and the output transform over every tile. That
    /// balances 7 tile rows over 2 threads exactly, and each thread reads only its share of the transformed weights
    /// (layer3's are 4 MiB a layer, read once per pass at batch 1 instead of once per thread). `transformedInput` and
    /// `products` hold `workspaceSizes(…)` floats.
    ///
    /// With `means`, also the mean of every output (channel, image) plane into it ((Cout, N)), each block's sums taken
    /// while the block's output is in its thread's cache; `sums` then holds `sumsFloats(…)` floats.
    ///
    /// With `pairs` (a bf16 table with `winograd_output_pairs`: the next 1×1 convolution's), the output is written as that
    /// convolution's operand, channels 2q and 2q + 1 as bf16 pairs in row q (`PlanarTensor.channelMajorPairs`), and the
    /// means are taken from the fp32 values in the transform, before they are rounded.
    func run(
        input x: PlanarTensor, output: UnsafeMutablePointer<Float>, transformedInput v: UnsafeMutablePointer<Float>,
        products m: UnsafeMutablePointer<Float>, loop: ParallelLoop, packScratch: (Int) -> UnsafeMutablePointer<Float>,
        means: UnsafeMutablePointer<Float>? = nil, sums: UnsafeMutablePointer<Float>? = nil, pairs: KernelTable? = nil
    ) {
        precondition(pairs.map { $0.table.pointee.winograd_output_pairs != nil } ?? true, "pairs come from a bf16 table")
        let planeSize = x.height * x.width
        let table = kernels.table.pointee
        if let packed, splitsByChannels(batch: x.batch, height: x.height, width: x.width) {
            runSplitByChannels(
                input: x, output: output, v: v, m: m, loop: loop, packScratch: packScratch, packed: packed, means: means, pairs: pairs)
            return
        }
        let tilesHigh = (x.height + tile - 1) / tile
        let sizes = scratchSizes(height: x.height, width: x.width)
        // Blocks of at most `blockRows` tile rows that never cross an image, of equal size within an image, and a
        // multiple of the threads in all where the rows allow (14 rows over 2 threads as 4 blocks of 3–4, not 5 of ≤ 3),
        // dealt to the threads as chunks.
        let budget = blockRows(height: x.height, width: x.width)
        var blocks = (tilesHigh + budget - 1) / budget
        while x.batch * blocks % loop.threads != 0 && blocks < tilesHigh { blocks += 1 }
        precondition(means == nil || sums != nil, "block sums need room")
        loop.forEachChunk(x.batch * blocks) { part, chunk in
            let (n, block) = chunk.quotientAndRemainder(dividingBy: blocks)
            let tileRows = tilesHigh * block / blocks..<tilesHigh * (block + 1) / blocks
            let slot = means == nil ? nil : sums.map { $0 + chunk * outChannels }
            slot?.update(repeating: 0, count: outChannels)
            // With pairs, the output transform sums the block's fp32 outputs into its slot as it writes them.
            runBlock(
                input: x, image: n, tileRows: tileRows, output: output, v: v + part * sizes.input, m: m + part * sizes.product,
                scratch: packScratch(part), pairs: pairs, sums: pairs == nil ? nil : slot)
            if pairs == nil, let slot {
                // The block's rows of every channel's plane: one contiguous run each.
                let rows = tile * tileRows.lowerBound..<min(x.height, tile * tileRows.upperBound)
                table.add_row_sums(
                    output + n * planeSize + rows.lowerBound * x.width, Int32(outChannels), Int32(rows.count * x.width),
                    x.batch * planeSize, slot, 1)
            }
        }
        if let means, let sums {
            // In block order, so the means do not depend on which thread ran which block.
            let inverse = 1 / Float(planeSize)
            for c in 0..<outChannels {
                for n in 0..<x.batch {
                    var total: Float = 0
                    for block in 0..<blocks { total += sums[(n * blocks + block) * outChannels + c] }
                    means[c * x.batch + n] = total * inverse
                }
            }
        }
    }

    /// Floats of `run`'s `sums` for a batch of `batch` images of `height` × `width`: a slot of output channels per block.
    func sumsFloats(batch: Int, height: Int, width: Int) -> Int { batch * ((height + tile - 1) / tile) * outChannels }

    /// The channel split of `run`: every tile of the batch at once, V and M with `tiles` = batch × tiles per image
    /// columns.
    private func runSplitByChannels(
        input x: PlanarTensor, output: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
        loop: ParallelLoop, packScratch: (Int) -> UnsafeMutablePointer<Float>, packed: [PackedMatrix],
        means: UnsafeMutablePointer<Float>?, pairs: KernelTable?
    ) {
        let tilesHigh = (x.height + tile - 1) / tile
        let perImage = tilesHigh * ((x.width + tile - 1) / tile)
        let tiles = x.batch * perImage
        let threads = loop.threads
        let cin = inChannels
        let cout = outChannels
        // bf16 products read V as pairs of channels, which the transform writes directly: the threads split whole pairs.
        let group = kernels.kGroup
        let units = (cin + group - 1) / group
        loop.forEachPart(threads) { part in
            let channels = min(cin, group * (units * part / threads))..<min(cin, group * (units * (part + 1) / threads))
            for n in 0..<x.batch {
                inputTransform(
                    x, image: n, tileRows: 0..<tilesHigh, channels: channels, into: v, tiles: tiles, column: n * perImage, pairs: group == 2
                )
            }
        }
        loop.forEachPart(threads) { part in
            let panelCount = packed[0].panels
            let panels = panelCount * part / threads..<panelCount * (part + 1) / threads
            for xi in 0..<alpha * alpha {
                packed[xi].multiply(
                    panels: panels, n: tiles, b: v + xi * cin * tiles, ldb: tiles, c: m + xi * cout * tiles, ldc: tiles, relu: false,
                    scratch: packScratch(part), next: xi + 1 < packed.count ? packed[xi + 1] : nil)
            }
            let panelRows = packed[0].panelRows
            let channels = min(cout, panels.lowerBound * panelRows)..<min(cout, panels.upperBound * panelRows)
            let planeSize = x.height * x.width
            for n in 0..<x.batch {
                if let pairs {
                    // The transform sums this thread's channels' fp32 outputs (whole planes) as it writes them.
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: cout) { planeSums in
                        let sums = planeSums.baseAddress!
                        sums.update(repeating: 0, count: cout)
                        outputTransform(
                            m, tileRows: 0..<tilesHigh, channels: channels, tiles: tiles, column: n * perImage, height: x.height,
                            width: x.width, into: output + n * planeSize, channelStride: x.batch * planeSize, pairs: pairs,
                            sums: means == nil ? nil : sums)
                        if let means {
                            let inverse = 1 / Float(planeSize)
                            for c in channels { means[c * x.batch + n] = sums[c] * inverse }
                        }
                    }
                    continue
                }
                outputTransform(
                    m, tileRows: 0..<tilesHigh, channels: channels, tiles: tiles, column: n * perImage, height: x.height, width: x.width,
                    into: output + n * planeSize, channelStride: x.batch * planeSize)
                // This thread's channels, whole planes: their means directly.
                if let means {
                    let sum = kernels.table.pointee.sum!
                    let inverse = 1 / Float(planeSize)
                    for c in channels { means[c * x.batch + n] = sum(output + (c * x.batch + n) * planeSize, planeSize) * inverse }
                }
            }
        }
    }

    /// One block: tile rows `tileRows` of image `n`, single-threaded.
    private func runBlock(
        input x: PlanarTensor, image n: Int, tileRows: Range<Int>, output: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        m: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, pairs: KernelTable? = nil,
        sums: UnsafeMutablePointer<Float>? = nil
    ) {
        let tilesWide = (x.width + tile - 1) / tile
        let tiles = tileRows.count * tilesWide
        let cin = inChannels
        let cout = outChannels
        inputTransform(
            x, image: n, tileRows: tileRows, channels: 0..<cin, into: v, tiles: tiles, column: 0, pairs: packed != nil && kernels.kGroup > 1
        )
        // M[ξ] = U[ξ] (Cout × Cin) · V[ξ] (Cin × tiles).
        for xi in 0..<alpha * alpha {
            if let packed {
                let u = packed[xi]
                u.multiply(
                    panels: 0..<u.panels, n: tiles, b: v + xi * cin * tiles, ldb: tiles, c: m + xi * cout * tiles, ldc: tiles, relu: false,
                    scratch: scratch, next: xi + 1 < packed.count ? packed[xi + 1] : nil)
            } else {
                transformed.withUnsafeBufferPointer { u in
                    Kernels.gemm(
                        m: cout, n: tiles, k: cin, a: u.baseAddress! + xi * cout * cin, lda: cin, b: v + xi * cin * tiles, ldb: tiles,
                        c: m + xi * cout * tiles, ldc: tiles)
                }
            }
        }
        outputTransform(
            m, tileRows: tileRows, channels: 0..<cout, tiles: tiles, column: 0, height: x.height, width: x.width,
            into: output + n * x.height * x.width, channelStride: x.batch * x.height * x.width, pairs: pairs, sums: sums)
    }

    /// V[ξ][ci][tile] for tile rows `tileRows` of image `n` and input channels `channels`, with the table's transform
    /// (`winograd_input`), which copies each channel's rows once into a zero-padded plane. V has `tiles` columns; the first
    /// tile of `tileRows` goes to column `column`. With `pairs` (bf16 products; `channels` starting even) V's rows are the
    /// products' operand: channels 2q and 2q + 1 as bf16 pairs in row q, inChannels × `tiles` floats apart per ξ as in fp32.
    private func inputTransform(
        _ x: PlanarTensor, image n: Int, tileRows: Range<Int>, channels: Range<Int>, into v: UnsafeMutablePointer<Float>, tiles: Int,
        column: Int, pairs: Bool = false
    ) {
        guard !channels.isEmpty else { return }
        let table = kernels.table.pointee
        let floats = table.winograd_input_scratch_size(Int32(tile), Int32(x.width), Int32(tileRows.count))
        withUnsafeTemporaryAllocation(of: Float.self, capacity: floats) { scratch in
            table.winograd_input(
                Int32(tile), x.data + n * x.imageStride, x.channelStride, Int32(x.height), Int32(x.width), Int32(tileRows.lowerBound),
                Int32(tileRows.upperBound), Int32(channels.lowerBound), Int32(channels.upperBound), pairs ? 1 : 0, v + column,
                inChannels * tiles, tiles, scratch.baseAddress!)
        }
    }

    /// y = relu(Aᵀ M A + bias) for tile rows `tileRows` of one image and output channels `channels`, with the table's
    /// output transform (`winograd_output`). M has `tiles` columns, the first tile of `tileRows` at `column`; `output` is the
    /// image's channel 0. With `pairs`, y as bf16 pairs of channels by that table's `winograd_output_pairs` (`channels`
    /// starting even), and with `sums` each channel's sum of y added to sums[c].
    private func outputTransform(
        _ m: UnsafeMutablePointer<Float>, tileRows: Range<Int>, channels: Range<Int>, tiles: Int, column: Int, height: Int, width: Int,
        into output: UnsafeMutablePointer<Float>, channelStride: Int, pairs: KernelTable? = nil, sums: UnsafeMutablePointer<Float>? = nil
    ) {
        guard !channels.isEmpty else { return }
        if let pairs {
            precondition(channels.lowerBound % 2 == 0, "pairs of channels")
            let table = pairs.table.pointee
            bias.withUnsafeBufferPointer { bias in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: table.winograd_output_scratch_size(Int32(tile), Int32(width))) {
                    table.winograd_output_pairs(
                        Int32(tile), m + column, outChannels * tiles, tiles, bias.baseAddress!, Int32(height), Int32(width),
                        Int32(tileRows.lowerBound), Int32(tileRows.upperBound), Int32(channels.lowerBound), Int32(channels.upperBound),
                        output, channelStride, sums, $0.baseAddress!)
                }
            }
            return
        }
        let table = kernels.table.pointee
        bias.withUnsafeBufferPointer { bias in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: table.winograd_output_scratch_size(Int32(tile), Int32(width))) {
                table.winograd_output(
                    Int32(tile), m + column, outChannels * tiles, tiles, bias.baseAddress!, Int32(height), Int32(width),
                    Int32(tileRows.lowerBound), Int32(tileRows.upperBound), Int32(channels.lowerBound), Int32(channels.upperBound), output,
                    channelStride, $0.baseAddress!)
            }
        }
    }
}
