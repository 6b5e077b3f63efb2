import CBLAS
import CKernels

/// How one convolution runs, decided once when the engine is planned: the engine's packed-weight GEMM
/// (`PackedMatrix`, the plan's own copy of the weights in the micro-kernel's order) or OpenBLAS's sgemm on the
/// model's weights. Either way the input is the channel-major activation itself (1×1 stride 1) or patches
/// unfolded tile by tile (`ConvolutionRunner`).
final class ConvolutionPlan: @unchecked Sendable {
    let layer: ConvolutionLayer
    /// The table it runs with (unfolding, sums; the products too unless it is baseline's).
    let kernels: KernelTable
    /// The weights for the engine's packed GEMM; nil with OpenBLAS or the direct 7×7 kernel.
    let packed: PackedMatrix?
    /// The weights for the direct 7×7 stride-2 kernel (the stem, with the engine's kernels; bf16 tap pairs in the bf16 table).
    let direct: PackedDirectConvolution?

    /// Whether the input arrives as u8 quads (`PlanarTensor.quads`, written by the previous product's `gemm_quantized`):
    /// then the unfolded patches' K runs (channel group, ky, kx, channel % 4) and the weights were packed in that order.
    let takesQuads: Bool

    /// Packs `layer`'s weights for `kernels` and keeps the layer without them, or keeps the layer as it is for OpenBLAS
    /// (a table without products). int8 tables need the scale the layer's input is quantized with; `takesQuads` (int8, in
    /// channels a multiple of 4) plans for an input already quantized to quads.
    init(_ layer: ConvolutionLayer, kernels: KernelTable, inputScale: Float? = nil, takesQuads: Bool = false) {
        let shape = layer.shape
        precondition(!takesQuads || (kernels.quantizesOutput && shape.inChannels % 4 == 0), "quads are int8 operands of whole groups")
        self.kernels = kernels
        self.takesQuads = takesQuads
        direct =
            kernels.hasProducts && PackedDirectConvolution.applies(to: shape) ? PackedDirectConvolution(layer, kernels: kernels) : nil
        let weights = takesQuads ? Self.quadOrder(layer.weights, shape: shape) : layer.weights
        packed =
            direct != nil || !kernels.hasProducts
            ? nil
            : weights.withUnsafeBufferPointer {
                PackedMatrix(
                    $0.baseAddress!, rows: shape.outChannels, columns: shape.inChannels * shape.kernel * shape.kernel, bias: layer.bias,
                    kernels: kernels, inputScale: inputScale)
            }
        self.layer = packed == nil && direct == nil ? layer : layer.withoutWeights()
    }

    /// The weights (out, in, ky, kx) with each row's K reordered as patches of quads unfold: (in / 4, ky, kx, in % 4). A
    /// 1×1 kernel's order is unchanged.
    private static func quadOrder(_ weights: [Float], shape: ConvolutionShape) -> [Float] {
        let taps = shape.kernel * shape.kernel
        guard taps > 1 else { return weights }
        let k = shape.inChannels * taps
        var reordered = [Float](repeating: 0, count: weights.count)
        for row in 0..<shape.outChannels {
            for channel in 0..<shape.inChannels {
                for tap in 0..<taps {
                    reordered[row * k + ((channel / 4) * taps + tap) * 4 + channel % 4] = weights[row * k + channel * taps + tap]
                }
            }
        }
        return reordered
    }

    /// What `seresnet bench --profile` and `/v1/model` report, e.g. "1×1 direct, avx512 bf16 packed GEMM".
    var algorithm: String {
        if let direct { return "7×7 stride 2 direct (no im2col), \(direct.kernels.name)" }
        let shape = layer.shape
        let input = shape.kernel == 1 ? (shape.stride == 1 ? "1×1 direct" : "1×1 stride \(shape.stride) subsample") : "im2col tiles"
        return "\(input), \(packed.map { "\($0.kernels.name) packed GEMM" } ?? "OpenBLAS sgemm")"
    }

    /// The output rows `multiply(part:of:…)` computes.
    func rows(part: Int, of parts: Int) -> Range<Int> {
        let outChannels = layer.shape.outChannels
        guard let packed else { return outChannels * part / parts..<outChannels * (part + 1) / parts }
        let panels = packed.panels * part / parts..<packed.panels * (part + 1) / parts
        return min(outChannels, panels.lowerBound * packed.panelRows)..<min(outChannels, panels.upperBound * packed.panelRows)
    }

    /// c[r, 0..<n] = act(bias[r] + Σ_k W[r, k] · b[k, 0..<n]) for share `part` of `parts` of the output rows (whole
    /// micro-kernel panels with packed weights). `c` points at row 0; b rows `ldb` apart, c rows `ldc` apart.
    /// With `outputScale` (int8), c receives the next product's operand: u8 quads (`PackedMatrix.multiply`).
    func multiply(
        part: Int, of parts: Int, n: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, relu: Bool,
        scratch: UnsafeMutablePointer<Float>, outputScale: Float? = nil
    ) {
        if let packed {
            let panels = packed.panels * part / parts..<packed.panels * (part + 1) / parts
            packed.multiply(panels: panels, n: n, b: b, ldb: ldb, c: c, ldc: ldc, relu: relu, scratch: scratch, outputScale: outputScale)
            return
        }
        precondition(outputScale == nil, "quantized outputs are int8 products'")
        let shape = layer.shape
        let k = shape.inChannels * shape.kernel * shape.kernel
        let rows = shape.outChannels * part / parts..<shape.outChannels * (part + 1) / parts
        layer.weights.withUnsafeBufferPointer { weights in
            layer.bias.withUnsafeBufferPointer { bias in
                // The bias pre-fills C and OpenBLAS accumulates onto it (β = 1 also spares its pass zeroing C).
                Kernels.fillRows(c, rows: rows, width: n, leadingDimension: ldc, values: bias.baseAddress!)
                Kernels.gemm(
                    m: rows.count, n: n, k: k, a: weights.baseAddress! + rows.lowerBound * k, lda: k, b: b, ldb: ldb,
                    c: c + rows.lowerBound * ldc, ldc: ldc, accumulate: true)
                if relu { Kernels.relu(c, rows: rows, width: n, leadingDimension: ldc) }
            }
        }
    }
}

/// A 7×7 stride-2 padding-3 convolution's weights and bias packed for the direct kernel (`ck_conv7x7s2`): the stem
/// without unfolded patches. Vectorised over output pixels with each needed input row split once into its even and
/// odd columns, it reaches 85% of an AVX-512 core's peak and 92% of an AVX2 one's alone (docs/performance.md), where
/// im2col + GEMM, whose K is only 147, spends as long unfolding as multiplying.
final class PackedDirectConvolution: @unchecked Sendable {
    let kernels: KernelTable
    let outChannels: Int
    let inChannels: Int
    private let data: UnsafeMutablePointer<Float>

    static func applies(to shape: ConvolutionShape) -> Bool {
        shape.kernel == 7 && shape.stride == 2 && shape.padding == 3 && shape.inChannels <= 64
    }

    init(_ layer: ConvolutionLayer, kernels: KernelTable) {
        let shape = layer.shape
        precondition(Self.applies(to: shape) && layer.bias.count == shape.outChannels && kernels.hasProducts)
        self.kernels = kernels
        outChannels = shape.outChannels
        inChannels = shape.inChannels
        let table = kernels.table.pointee
        data = .allocateAligned(table.conv7x7s2_packed_size(Int32(outChannels), Int32(inChannels)))
        layer.weights.withUnsafeBufferPointer { weights in
            layer.bias.withUnsafeBufferPointer { bias in
                table.conv7x7s2_pack(Int32(outChannels), Int32(inChannels), weights.baseAddress!, bias.baseAddress!, data)
            }
        }
    }

    deinit { data.deallocate() }

    /// Floats of scratch each thread needs for inputs `width` wide.
    func scratchFloats(width: Int) -> Int { kernels.table.pointee.conv7x7s2_scratch_size(Int32(inChannels), Int32(width)) }

    /// Output rows `rows` of image `image` of `input` into the channel-major `output` (C, N, Ho, Wo), + bias, ReLU if asked.
    func run(
        input: PlanarTensor, image: Int, rows: Range<Int>, output: UnsafeMutablePointer<Float>, relu: Bool,
        scratch: UnsafeMutablePointer<Float>
    ) {
        let outHeight = (input.height - 1) / 2 + 1
        let outWidth = (input.width - 1) / 2 + 1
        kernels.table.pointee.conv7x7s2(
            data, Int32(outChannels), Int32(inChannels), input.data + image * input.imageStride, input.channelStride,
            Int32(input.height), Int32(input.width), Int32(rows.lowerBound), Int32(rows.upperBound),
            output + image * outHeight * outWidth, input.batch * outHeight * outWidth, relu ? 1 : 0, scratch)
    }
}

/// How a planned convolution is split over the engine's threads for one input size: decided when the engine is made,
/// for every batch size it serves (`ConvolutionRunner.schedule`), and read by `ConvolutionRunner.run`.
public enum ConvolutionSplit: String, Sendable {
    /// The direct 7×7 kernel: output rows in equal shares.
    case rows
    /// Output columns (pixels) in equal shares, unfolded and multiplied tile by tile.
    case columns
    /// Output channels in equal shares, every column's operand prepared once: each thread reads only its share of the
    /// weights (few columns, or more weights than pixels).
    case channels
    /// K in shares of whole weight blocks, the partial products added after (deep and narrow products).
    case depth
}

/// Runs planned convolutions as GEMMs split over the engine's threads, with the bias/ReLU epilogue fused.
///
/// The engine parallelizes itself (OpenBLAS stays single-threaded, so its workers never spin against ours):
/// the output columns (pixels) are cut into chunks of at most `tileWidth` columns (`ColumnChunks`), which the threads
/// share out as they go, stealing from each other's share at the end (`ParallelLoop.forEachChunk`); a thread unfolds a
/// chunk's patches into its own scratch (small enough to stay in L2) and multiplies them; a 1×1 stride-1 convolution
/// reads the channel-major activation directly. What a chunk computes, its channel sums included, does not depend on
/// the thread that ran it, so the results are the same from run to run. Layers with too few columns to split (late stages
/// at batch 1) are split over output channels instead, so each thread reads only its share of the weights.
struct ConvolutionRunner {
    static let tileWidth = 256
    /// Below this many columns per thread, output channels are split instead of columns.
    static let minimumColumnsPerThread = 64

    let loop: ParallelLoop
    var threads: Int { loop.threads }
    /// threads × maxPatchRows × tileWidth floats.
    private let scratch: UnsafeMutablePointer<Float>
    private let scratchPerThread: Int
    /// threads × `KernelTable.productScratchFloats`: where the packed GEMM packs its input panels.
    private let packScratch: UnsafeMutablePointer<Float>

    enum Epilogue: Equatable {
        case bias, biasReLU
        /// Bias, ReLU, and the output quantized to u8 quads at `scale` (the next int8 product's input scale).
        case quantized(scale: Float)
    }

    /// What a bottleneck's conv3 adds after its bias (`run`'s `residual`): y = relu(conv · scale[n, c] + shortcut), SE's
    /// scale (nil: 1), the residual add and the ReLU, on each tile in registers (`gemm_residual`) instead
    /// of in a pass over the whole output. y goes to `run`'s output, which may be the shortcut itself (y overwrites the
    /// block's input: its lines are read, not fetched only to be overwritten), or with `destination` to the images it
    /// names of a larger batch's tensor. `shortcut` has the output's layout. SE's scale is known before conv3 runs because its
    /// squeeze is taken from conv3's input (`SqueezeExcitationPlan.reduceFromInput`).
    struct Residual {
        /// (N, C): image n's scales at scale + n·C (the transpose of SE's (C, N)).
        let scale: UnsafePointer<Float>?
        let shortcut: UnsafePointer<Float>
        let destination: Kernels.Destination?
        /// bf16: the shortcut, and y, as bf16 pair rows (channels 2q and 2q + 1 in row q; `PlanarTensor.channelMajorPairs`),
        /// the layout in which the next block's 1×1s read them (`PackedMatrix.multiply`).
        var shortcutPairs = false
        var outputPairs = false
    }

    /// threads × this: the pack scratch also holds the direct 7×7 kernel's input rows.
    private let packScratchPerThread: Int
    /// Partial channel sums (`run`'s `channelMeans`): per column chunk and image it covers, or per thread.
    private let sumsCapacity: Int
    private let sums: UnsafeMutablePointer<Float>

    /// `sumsFloats`: room for the partial sums of the largest `run` that fuses its channel means (`sumsFloats(…)` of it;
    /// larger ones take a separate pass).
    init(loop: ParallelLoop, maxPatchRows: Int, directScratchFloats: Int = 0, sumsFloats: Int = 0) {
        self.loop = loop
        scratchPerThread = maxPatchRows * Self.tileWidth
        scratch = .allocateAligned(loop.threads * scratchPerThread)
        packScratchPerThread = max(KernelTable.productScratchFloats, directScratchFloats)
        packScratch = .allocateAligned(loop.threads * packScratchPerThread)
        sumsCapacity = sumsFloats
        sums = .allocateAligned(max(1, sumsFloats))
    }

    /// The column split's chunks (`ParallelLoop.forEachChunk`) of a product with `columns` columns: whole units of 32
    /// columns (micro-kernel tiles stay whole), at most `tileWidth` wide where the columns allow, and a multiple of
    /// `threads` of them, so each thread's first share is as large as the others' (1568 columns over 2 threads as 8
    /// chunks of 192–224, not 7 of 224).
    struct ColumnChunks {
        let count: Int
        let columns: Int
        private let units: Int

        init(columns: Int, threads: Int) {
            self.columns = columns
            units = (columns + 31) / 32
            let wanted = ((columns + tileWidth - 1) / tileWidth + threads - 1) / threads * threads
            count = max(1, min(units, wanted))
        }

        /// Columns of chunk `chunk`.
        func range(_ chunk: Int) -> Range<Int> {
            min(columns, 32 * (units * chunk / count))..<min(columns, 32 * (units * (chunk + 1) / count))
        }
    }

    /// Floats of partial sums a `run` fusing the channel means of `outChannels` × `batch` planes of `planeSize` needs with
    /// `threads` threads: a slot of `outChannels` per column chunk and image it touches (at most chunks + batch − 1),
    /// or one of `outChannels` × `batch` per thread (the channel split).
    static func sumsFloats(outChannels: Int, batch: Int, planeSize: Int, threads: Int) -> Int {
        let chunks = ColumnChunks(columns: batch * planeSize, threads: threads).count
        return outChannels * max(chunks + batch - 1, threads * batch)
    }

    func deallocate() {
        scratch.deallocate()
        packScratch.deallocate()
        sums.deallocate()
    }

    /// Thread `part`'s scratch for `PackedMatrix.multiply`.
    func packScratch(_ part: Int) -> UnsafeMutablePointer<Float> { packScratch + part * packScratchPerThread }

    /// output (Cout, N·Ho·Wo) = W (Cout, Cin·k·k) ∗ input + bias, ReLU if asked. With `channelMeans`, also the mean
    /// of every output (channel, image) plane into it ((Cout, N), SE's squeeze): with the engine's kernels each
    /// thread sums the tiles it just wrote while they are still in its cache, instead of a pass over the whole output.
    /// With bf16 products the operand (the activation, or the unfolded patches) is converted to bf16 pairs on its way
    /// in, tile by tile, where it is unfolded.
    ///
    /// `split` is the engine's decision for this input size (`schedule`), computed here when not given.
    ///
    /// With `residual` (epilogue `.bias`, a table with `gemm_residual`, the column split or one image's channel split),
    /// the output is y = relu(conv · SE's scale + shortcut) (`Residual`).
    func run(
        _ plan: ConvolutionPlan, input: PlanarTensor, output: UnsafeMutablePointer<Float>, epilogue: Epilogue,
        channelMeans: UnsafeMutablePointer<Float>? = nil, residual: Residual? = nil, split: ConvolutionSplit? = nil
    ) {
        let shape = plan.layer.shape
        let kernels = plan.kernels
        let outH = shape.outputSide(input.height)
        let outW = shape.outputSide(input.width)
        let columns = input.batch * outH * outW
        let k = shape.inChannels * shape.kernel * shape.kernel
        // A 1×1 stride-1 convolution on a channel-major tensor reads its input as the GEMM operand directly (fp32).
        let direct = shape.kernel == 1 && shape.stride == 1 && input.channelStride == input.columns
        precondition(input.quads == plan.takesQuads, "the plan was made for its input's format")
        // bf16 products read their operand as bf16 pairs, int8 ones as u8 quads: converted (quantized at the layer's input
        // scale) from the activation or the unfolded patches, unless the input is pairs or quads already; unfolded quads are
        // the operand as they are (rows of (channel group, ky, kx), `operandRows` of them).
        // Pairs are unfolded as they are (a 1×1 stride-2 subsample moves whole 4-byte elements).
        precondition(
            !input.pairs || (shape.kernel == 1 && plan.packed != nil && kernels.kGroup == 2), "bf16 pairs are a 1×1 bf16 product's operand")
        let packsOperand = plan.packed != nil && kernels.kGroup > 1 && !input.quads && !input.pairs
        let operandRows = input.quads ? k / 4 : input.pairs ? (k + 1) / 2 : k
        let scale = plan.packed?.operandScale ?? 1
        let relu = epilogue != .bias
        var outputScale: Float? = nil
        if case .quantized(let scale) = epilogue { outputScale = scale }
        precondition(outputScale == nil || (channelMeans == nil && shape.outChannels % 4 == 0), "quads are whole groups, not summed")
        precondition(
            residual == nil
                || (epilogue == .bias && kernels.hasResidualProducts && (split == .columns || (split == .channels && input.batch == 1))),
            "the residual epilogue on column chunks, or on one image's output channels")
        let planeSize = outH * outW
        let batch = input.batch
        let split = split ?? schedule(plan, batch: input.batch, height: input.height, width: input.width)
        precondition((split == .rows) == (plan.direct != nil), "the direct 7×7 kernel splits rows, and only it")
        let splitByK = split == .depth
        let chunks = ColumnChunks(columns: columns, threads: threads)
        let byChunks = split == .columns
        let fusedSums =
            channelMeans != nil && !splitByK && plan.packed != nil
            && Self.sumsFloats(outChannels: shape.outChannels, batch: batch, planeSize: planeSize, threads: threads) <= sumsCapacity
        let addRowSums = kernels.table.pointee.add_row_sums!
        let cout = shape.outChannels
        defer {
            if let channelMeans {
                if fusedSums && byChunks {
                    // Chunk c's sums over image n's columns are in slot c + n: added in chunk order, so the means do not
                    // depend on which thread ran which chunk.
                    channelMeans.update(repeating: 0, count: cout * batch)
                    for c in 0..<chunks.count {
                        let range = chunks.range(c)
                        for n in range.lowerBound / planeSize...(range.upperBound - 1) / planeSize {
                            let slot = sums + (c + n) * cout
                            for r in 0..<cout { channelMeans[r * batch + n] += slot[r] }
                        }
                    }
                    let inverse = 1 / Float(planeSize)
                    for i in 0..<cout * batch { channelMeans[i] *= inverse }
                } else if fusedSums {
                    // Each thread's partial sums (zero where it wrote nothing) → means.
                    let inverse = 1 / Float(planeSize)
                    for i in 0..<cout * batch {
                        var total: Float = 0
                        for part in 0..<threads { total += sums[part * cout * batch + i] }
                        channelMeans[i] = total * inverse
                    }
                } else {
                    Kernels.channelMeans(
                        output, channels: cout, batch: batch, planeSize: planeSize, into: channelMeans, loop: loop, kernels: kernels)
                }
            }
        }
        /// Output rows `rows` × columns `range`, just written, to partial sums: chunk `chunk`'s slots (column split), else
        /// thread `part`'s.
        func addSums(_ part: Int, chunk: Int? = nil, rows: Range<Int>, columns range: Range<Int>) {
            guard fusedSums, !rows.isEmpty else { return }
            var j = range.lowerBound
            while j < range.upperBound {
                let image = j / planeSize
                let end = min(range.upperBound, (image + 1) * planeSize)
                var target = sums + part * cout * batch + rows.lowerBound * batch + image
                var stride = batch
                if let chunk {
                    // The chunk's slot for this image, rows contiguous, cleared first.
                    target = sums + (chunk + image) * cout + rows.lowerBound
                    target.update(repeating: 0, count: rows.count)
                    stride = 1
                }
                addRowSums(output + rows.lowerBound * columns + j, Int32(rows.count), Int32(end - j), columns, target, stride)
                j = end
            }
        }
        /// Where the residual epilogue writes output column `j` (of image `j / planeSize`), and its rows' distance.
        func residualOutput(_ residual: Residual, column j: Int) -> (UnsafeMutablePointer<Float>, Int) {
            guard let destination = residual.destination else { return (output + j, columns) }
            let image = j / planeSize
            return (destination.base + (destination.first + image) * planeSize + (j - image * planeSize), destination.count * planeSize)
        }
        func clearSums(_ part: Int) {
            if fusedSums { (sums + part * cout * batch).update(repeating: 0, count: cout * batch) }
        }

        if split == .rows, let direct = plan.direct {
            // Output rows of all images, in equal shares over the threads.
            precondition(direct.scratchFloats(width: input.width) <= packScratchPerThread, "the runner was sized for narrower inputs")
            let rows = input.batch * outH
            loop.forEachPart(min(threads, rows)) { part in
                let parts = min(threads, rows)
                var row = rows * part / parts
                let end = rows * (part + 1) / parts
                while row < end {
                    let image = row / outH
                    let last = min(end, (image + 1) * outH)
                    direct.run(
                        input: input, image: image, rows: row - image * outH..<last - image * outH, output: output, relu: relu,
                        scratch: packScratch(part))
                    row = last
                }
            }
            return
        }

        /// Groups `groups` of patch rows (bf16 pairs, int8 quads) of columns `range` as the product's operand at `out`
        /// (rows `ld` apart, group q at out + (q − groups.lowerBound)·ld), on thread `part`: unfolded a chunk of groups at a
        /// time into the thread's pack scratch and converted from there, so the fp32 patches never exist whole (they would
        /// spill from L2: layer3's stride-2 3×3 is 2304 rows).
        func unfoldConverting(_ part: Int, groups: Range<Int>, columns range: Range<Int>, into out: UnsafeMutablePointer<Float>, ld: Int) {
            let group = kernels.kGroup
            precondition(group * range.count <= packScratchPerThread, "a group of patch rows fits a pack scratch")
            let chunk = packScratchPerThread / (group * range.count)
            let staging = packScratch(part)
            var q = groups.lowerBound
            while q < groups.upperBound {
                let count = min(chunk, groups.upperBound - q)
                let rows = group * q..<min(k, group * (q + count))
                fillPatches(
                    shape, input: input, outH: outH, outW: outW, rows: rows, columns: range, into: staging, leadingDimension: range.count,
                    kernels: kernels)
                kernels.packOperand(
                    staging, rows: rows.count, columns: range.count, ldb: range.count, into: out + (q - groups.lowerBound) * ld, ldOut: ld,
                    scale: scale)
                q += count
            }
        }

        /// Column chunk `chunk` (`chunks`), on thread `part`: its patches unfolded (or its columns of a 1×1 stride-1
        /// convolution's input, converted for bf16 and int8 products) into the thread's tile, multiplied, its sums taken
        /// while the output is in cache.
        func columnChunk(_ part: Int, _ chunk: Int) {
            let range = chunks.range(chunk)
            let (j, width) = (range.lowerBound, range.count)
            let tile = scratch + part * scratchPerThread
            var operand = UnsafePointer(tile)
            var ld = width
            if direct && !packsOperand {
                operand = UnsafePointer(input.data + j)
                ld = columns
            } else if direct {
                kernels.packOperand(input.data + j, rows: k, columns: width, ldb: columns, into: tile, ldOut: width, scale: scale)
            } else if packsOperand {
                unfoldConverting(part, groups: 0..<(k + kernels.kGroup - 1) / kernels.kGroup, columns: range, into: tile, ld: width)
            } else {
                fillPatches(
                    shape, input: input, outH: outH, outW: outW, rows: 0..<operandRows, columns: j..<j + width, into: tile,
                    leadingDimension: width, kernels: kernels)
            }
            if let residual, let packed = plan.packed {
                // Image by image within the chunk: SE's scale is one value per row of an image.
                var start = j
                while start < j + width {
                    let image = start / planeSize
                    let end = min(j + width, (image + 1) * planeSize)
                    let (out, ldOut) = residualOutput(residual, column: start)
                    packed.multiply(
                        n: end - start, b: operand + (start - j), ldb: ld, c: out, ldc: ldOut,
                        scale: residual.scale.map { $0 + image * cout }, shortcut: residual.shortcut + start, ldShortcut: columns,
                        shortcutPairs: residual.shortcutPairs, outputPairs: residual.outputPairs, scratch: packScratch(part))
                    start = end
                }
                return
            }
            plan.multiply(
                part: 0, of: 1, n: width, b: operand, ldb: ld, c: output + j, ldc: columns, relu: relu, scratch: packScratch(part),
                outputScale: outputScale)
            addSums(part, chunk: chunk, rows: 0..<cout, columns: j..<j + width)
        }

        if split == .depth, let packed = plan.packed {
            precondition(!input.quads && outputScale == nil, "int8 products are never split by K")
            precondition(!input.pairs, "deep products split by K read fp32 activations")
            // Deep and narrow (layer3–4's stride-2 3×3 at batch 1: 2304 × 196, 4608 × 49): split K, so each thread
            // unfolds and then reads only its own rows of B (split by M, both threads would read all of it, half of it
            // written by the other core), then add the partial products. Equal shares of whole operand elements (bf16
            // pairs), not of the packed weights' 512-deep blocks: 2304 as 1024 + 1280 kept one thread waiting.
            let group = kernels.kGroup
            let elements = (k + group - 1) / group
            loop.forEachPart(threads) { part in
                let rows = min(k, elements * part / threads * group)..<min(k, elements * (part + 1) / threads * group)
                let region = scratch + rows.lowerBound * columns
                var operand = direct ? UnsafePointer(input.data) : UnsafePointer(scratch)
                if !direct {
                    fillPatches(
                        shape, input: input, outH: outH, outW: outW, rows: rows, columns: 0..<columns, into: region,
                        leadingDimension: columns, kernels: kernels)
                }
                if packsOperand {
                    kernels.packOperand(
                        direct ? input.data + rows.lowerBound * columns : region, rows: rows.count, columns: columns, ldb: columns,
                        into: region, ldOut: columns)
                    // The kernel reads pair row r/2 of the operand at operand + (r/2)·columns for r in `rows`: this part's
                    // pairs start at `region`.
                    operand = UnsafePointer(region - rows.lowerBound / 2 * columns)
                }
                let target = part == 0 ? output : packScratch(part)
                let done = packed.multiplyPartial(
                    kRange: rows, n: columns, b: operand, ldb: columns, c: target, ldc: columns, withBias: part == 0)
                precondition(done)
            }
            loop.forEachPart(threads) { part in
                let rows = shape.outChannels * part / threads..<shape.outChannels * (part + 1) / threads
                for r in rows {
                    let row = output + r * columns
                    for other in 1..<threads {
                        let partial = packScratch(other) + r * columns
                        for j in 0..<columns { row[j] += partial[j] }
                    }
                    if relu { for j in 0..<columns { row[j] = max(row[j], 0) } }
                }
            }
        } else if split == .columns {
            loop.forEachChunk(chunks.count, columnChunk)
        } else {
            // Few columns, or more weights than pixels (late stages at small batches): unfold all columns once
            // (rows split over threads), then split output channels, so each thread reads only its share of the weights.
            let operand: UnsafePointer<Float>
            if direct && !packsOperand {
                operand = UnsafePointer(input.data)
            } else {
                // The branch above guarantees few columns (≤ threads · tileWidth), so all of them fit the scratch.
                precondition(operandRows * columns <= threads * scratchPerThread, "unfolded layer exceeds the convolution scratch")
                if direct {
                    // bf16 pairs (int8 quads) of the activation, operand rows split over the threads.
                    let group = kernels.kGroup
                    let groups = (k + group - 1) / group
                    loop.forEachPart(threads) { part in
                        let q = groups * part / threads..<groups * (part + 1) / threads
                        kernels.packOperand(
                            input.data + group * q.lowerBound * columns, rows: min(k, group * q.upperBound) - group * q.lowerBound,
                            columns: columns, ldb: columns, into: scratch + q.lowerBound * columns, ldOut: columns, scale: scale)
                    }
                } else if packsOperand {
                    // bf16 and int8: the groups of patch rows split over the threads, each converted from its own pack scratch
                    // (in place it would have to run on one thread: layer4's stride-2 3×3 at batch 8 converted 4608 × 392
                    // values so).
                    let groups = (k + kernels.kGroup - 1) / kernels.kGroup
                    loop.forEachPart(threads) { part in
                        let share = groups * part / threads..<groups * (part + 1) / threads
                        unfoldConverting(part, groups: share, columns: 0..<columns, into: scratch + share.lowerBound * columns, ld: columns)
                    }
                } else {
                    // The operand as unfolded: fp32, or pairs and quads unfolded as they are.
                    loop.forEachPart(threads) { part in
                        let rows = operandRows * part / threads..<operandRows * (part + 1) / threads
                        fillPatches(
                            shape, input: input, outH: outH, outW: outW, rows: rows, columns: 0..<columns,
                            into: scratch + rows.lowerBound * columns, leadingDimension: columns, kernels: kernels)
                    }
                }
                operand = UnsafePointer(scratch)
            }
            if let residual, let packed = plan.packed {
                // One image: each thread's output channels in one call.
                let (out, ldOut) = residualOutput(residual, column: 0)
                loop.forEachPart(threads) { part in
                    packed.multiply(
                        panels: packed.panels * part / threads..<packed.panels * (part + 1) / threads, n: columns, b: operand,
                        ldb: columns, c: out, ldc: ldOut, scale: residual.scale, shortcut: residual.shortcut, ldShortcut: columns,
                        shortcutPairs: residual.shortcutPairs, outputPairs: residual.outputPairs, scratch: packScratch(part))
                }
                return
            }
            loop.forEachPart(threads) { part in
                clearSums(part)
                plan.multiply(
                    part: part, of: threads, n: columns, b: operand, ldb: columns, c: output, ldc: columns, relu: relu,
                    scratch: packScratch(part), outputScale: outputScale)
                addSums(part, rows: plan.rows(part: part, of: threads), columns: 0..<columns)
            }
        }
    }

    /// How `run` splits `plan` over the threads for an input of `batch` × `height` × `width`: the direct 7×7 kernel by
    /// output rows; a deep, narrow product by K (`splitsByK`); few columns, or more weights than pixels (late stages at
    /// small batches), by output channels; the rest by columns.
    func schedule(_ plan: ConvolutionPlan, batch: Int, height: Int, width: Int) -> ConvolutionSplit {
        if plan.direct != nil { return .rows }
        let shape = plan.layer.shape
        let columns = batch * shape.outputSide(height) * shape.outputSide(width)
        let k = shape.inChannels * shape.kernel * shape.kernel
        if threads > 1, let packed = plan.packed, splitsByK(packed: packed, k: k, columns: columns) { return .depth }
        if threads == 1 { return .columns }
        let fewColumns =
            columns < threads * Self.minimumColumnsPerThread || (columns <= threads * Self.tileWidth && shape.outChannels >= columns)
        return !fewColumns || shape.outChannels < threads * 16 ? .columns : .channels
    }

    /// Whether a product is split over threads by K: deep (≥ 2048), narrow (the small-n kernel's ≤ 200 columns) and small
    /// enough that a thread's partial product fits its pack scratch, on the AVX-512 small-n kernel. Beside layer4's 3×3
    /// and conv1 at batch 1, layer3's stride-2 3×3 (2304 × 196), where each thread's half of the unfolded patches then
    /// stays in its L2 instead of being read from L3 once per panel (faster on that layer, docs/performance.md).
    private func splitsByK(packed: PackedMatrix, k: Int, columns: Int) -> Bool {
        // int8 products keep all of K in s32 registers: never split by K.
        packed.kernels.instructionSet == .avx512 && packed.kernels.precision != .int8 && k >= 2048 && columns <= 200
            && packed.rows * columns <= KernelTable.productScratchFloats
    }

    /// The table's unfolding (`im2col`): compiled for the kernels' instruction set, or for baseline x86-64 with OpenBLAS.
    private func fillPatches(
        _ shape: ConvolutionShape, input: PlanarTensor, outH: Int, outW: Int, rows: Range<Int>,
        columns: Range<Int>, into out: UnsafeMutablePointer<Float>, leadingDimension: Int, kernels: KernelTable
    ) {
        kernels.table.pointee.im2col(
            input.data, input.channelStride, input.imageStride, Int32(input.height), Int32(input.width),
            Int32(shape.kernel), Int32(shape.stride), Int32(shape.padding), Int32(outH), Int32(outW), Int32(rows.lowerBound),
            Int32(rows.upperBound), Int32(columns.lowerBound), Int32(columns.upperBound), out, leadingDimension)
    }
}
