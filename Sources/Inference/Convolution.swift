import CBLAS

/// Runs convolutions as GEMMs split over the engine's threads, with the bias/ReLU epilogue fused per tile.
///
/// OpenBLAS is kept single-threaded and the engine parallelizes itself: each thread takes a contiguous share
/// of the output columns (pixels), unfolds patches for a tile of at most `tileWidth` columns into its own
/// scratch (small enough to stay in L2), multiplies into an output tile pre-filled with the bias (β = 1, so
/// OpenBLAS skips its separate pass zeroing C), and applies ReLU while the tile is still in cache. That avoids OpenBLAS's worker threads spinning against ours (no oversubscription) and the
/// memory traffic of a whole-layer im2col buffer. Layers with too few columns to split (late stages at
/// batch 1) are split over output channels instead.
struct ConvolutionRunner {
    static let tileWidth = 256
    /// Below this many columns per thread, output channels are split instead of columns.
    static let minimumColumnsPerThread = 64

    let loop: ParallelLoop
    var threads: Int { loop.threads }
    /// threads × maxPatchRows × tileWidth floats.
    private let scratch: UnsafeMutablePointer<Float>
    private let scratchPerThread: Int

    enum Epilogue { case bias, biasReLU }

    init(loop: ParallelLoop, maxPatchRows: Int) {
        self.loop = loop
        scratchPerThread = maxPatchRows * Self.tileWidth
        scratch = .allocate(capacity: loop.threads * scratchPerThread)
        scratch.initialize(repeating: 0, count: loop.threads * scratchPerThread)
    }

    func deallocate() { scratch.deallocate() }

    /// output (Cout, N·Ho·Wo) = W (Cout, Cin·k·k) ∗ input + bias, ReLU if asked.
    func run(_ layer: ConvolutionLayer, input: PlanarTensor, output: UnsafeMutablePointer<Float>, epilogue: Epilogue) {
        let shape = layer.shape
        let outH = shape.outputSide(input.height)
        let outW = shape.outputSide(input.width)
        let columns = input.batch * outH * outW
        let k = shape.inChannels * shape.kernel * shape.kernel
        // A 1×1 stride-1 convolution on a channel-major tensor reads its input as the GEMM operand directly.
        let direct = shape.kernel == 1 && shape.stride == 1 && input.channelStride == input.columns
        layer.weights.withUnsafeBufferPointer { weightBuffer in
            layer.bias.withUnsafeBufferPointer { biasBuffer in
                let weights = weightBuffer.baseAddress!
                let bias = biasBuffer.baseAddress!
                let relu = epilogue == .biasReLU

                func columnShare(_ part: Int, of parts: Int) {
                    // Shares are multiples of 16 columns so GEMM micro-tiles stay whole.
                    let unit = 16
                    let units = (columns + unit - 1) / unit
                    let start = min(columns, units * part / parts * unit)
                    let end = min(columns, units * (part + 1) / parts * unit)
                    let tile = scratch + part * scratchPerThread
                    var j = start
                    while j < end {
                        let width = min(Self.tileWidth, end - j)
                        let operand: UnsafePointer<Float>
                        let ldb: Int
                        if direct {
                            operand = UnsafePointer(input.data + j)
                            ldb = columns
                        } else {
                            fillPatches(
                                shape, input: input, outH: outH, outW: outW, rows: 0..<k, columns: j..<j + width, into: tile,
                                leadingDimension: width)
                            operand = UnsafePointer(tile)
                            ldb = width
                        }
                        Kernels.fillRows(output + j, rows: 0..<shape.outChannels, width: width, leadingDimension: columns, values: bias)
                        Kernels.gemm(
                            m: shape.outChannels, n: width, k: k, a: weights, lda: k, b: operand, ldb: ldb, c: output + j, ldc: columns,
                            accumulate: true)
                        if relu { Kernels.relu(output + j, rows: 0..<shape.outChannels, width: width, leadingDimension: columns) }
                        j += width
                    }
                }

                if threads == 1 {
                    columnShare(0, of: 1)
                } else if !(columns < threads * Self.minimumColumnsPerThread
                    || (columns <= threads * Self.tileWidth && shape.outChannels >= columns))
                    || shape.outChannels < threads * 16
                {
                    loop.forEachPart(threads) { columnShare($0, of: threads) }
                } else {
                    // Few columns, or more weights than pixels (late stages at small batches): unfold all columns once
                    // (rows split over threads), then split output channels, so each thread packs only its share
                    // of the weights instead of all of them.
                    let operand: UnsafePointer<Float>
                    if direct {
                        operand = UnsafePointer(input.data)
                    } else {
                        loop.forEachPart(threads) { part in
                            let rows = k * part / threads..<k * (part + 1) / threads
                            fillPatches(
                                shape, input: input, outH: outH, outW: outW, rows: rows, columns: 0..<columns,
                                into: scratch + rows.lowerBound * columns, leadingDimension: columns)
                        }
                        operand = UnsafePointer(scratch)
                    }
                    loop.forEachPart(threads) { part in
                        let rows = shape.outChannels * part / threads..<shape.outChannels * (part + 1) / threads
                        Kernels.fillRows(output, rows: rows, width: columns, leadingDimension: columns, values: bias)
                        Kernels.gemm(
                            m: rows.count, n: columns, k: k, a: weights + rows.lowerBound * k, lda: k, b: operand, ldb: columns,
                            c: output + rows.lowerBound * columns, ldc: columns, accumulate: true)
                        if relu { Kernels.relu(output, rows: rows, width: columns, leadingDimension: columns) }
                    }
                }
            }
        }
    }

    private func fillPatches(
        _ shape: ConvolutionShape, input: PlanarTensor, outH: Int, outW: Int, rows: Range<Int>,
        columns: Range<Int>, into out: UnsafeMutablePointer<Float>, leadingDimension: Int
    ) {
        if shape.kernel == 1 && shape.padding == 0 {
            Kernels.subsample(
                input, stride: shape.stride, outHeight: outH, outWidth: outW, rows: rows, columns: columns, into: out,
                leadingDimension: leadingDimension)
        } else {
            Kernels.im2col(
                input, kernel: shape.kernel, stride: shape.stride, padding: shape.padding, outHeight: outH, outWidth: outW,
                rows: rows, columns: columns, into: out, leadingDimension: leadingDimension)
        }
    }
}
