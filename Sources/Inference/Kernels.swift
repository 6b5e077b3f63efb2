import CBLAS
import CKernels
import Dispatch
import Foundation

/// Splits loops over the engine's threads (a `WorkerPool`). With one thread everything runs inline, so two
/// single-threaded engines side by side never start extra work on each other's core.
struct ParallelLoop: Sendable {
    let threads: Int
    private let pool: WorkerPool

    /// A loop over `threads` threads: the caller plus `threads − 1` pool workers started here.
    init(threads: Int) {
        precondition(threads >= 1)
        self.threads = threads
        pool = WorkerPool(workers: threads - 1)
    }

    /// Calls `body` on disjoint subranges covering 0..<count (in parallel when threads > 1 and it pays).
    func run(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = min(threads, max(1, count / max(1, minimumPerThread)))
        if parts <= 1 {
            body(0..<count)
            return
        }
        pool.run(parts: parts) { part in body(count * part / parts..<count * (part + 1) / parts) }
    }

    /// Calls `body(part)` for part in 0..<parts (parts ≤ threads), in parallel; part 0 on the calling thread.
    func forEachPart(_ parts: Int, _ body: (Int) -> Void) {
        pool.run(parts: parts, body)
    }

    /// Calls `body(part, chunk)` for every chunk in 0..<chunks, over up to `threads` parts that share them out as they
    /// go (`WorkerPool.runChunks`): what a chunk computes must not depend on the part that runs it.
    func forEachChunk(_ chunks: Int, _ body: (_ part: Int, _ chunk: Int) -> Void) {
        pool.runChunks(chunks, parts: max(1, min(threads, chunks)), body)
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
    /// Whether `data` holds u8 quads (int8 products' operand, `gemm_quantized`'s output): channels 4g…4g+3 of a pixel in
    /// the bytes of one 4-byte element of group g's plane; strides count elements, planes are per group of 4 channels.
    var quads = false
    /// Whether `data` holds bf16 pairs (bf16 products' operand, `winograd_output_pairs`' output): channels 2q and 2q + 1 of
    /// a pixel in one 4-byte element of row q's plane, 2q in the low half; strides count elements.
    var pairs = false

    /// (C, N, H, W) tensor in `data`.
    static func channelMajor(_ data: UnsafeMutablePointer<Float>, channels: Int, batch: Int, height: Int, width: Int) -> PlanarTensor {
        PlanarTensor(
            data: data, channels: channels, batch: batch, height: height, width: width,
            channelStride: batch * height * width, imageStride: height * width)
    }

    /// (C/4, N, H, W) u8 quads in `data` (`quads`), `channels` a multiple of 4.
    static func channelMajorQuads(_ data: UnsafeMutablePointer<Float>, channels: Int, batch: Int, height: Int, width: Int) -> PlanarTensor {
        precondition(channels % 4 == 0)
        return PlanarTensor(
            data: data, channels: channels, batch: batch, height: height, width: width, channelStride: batch * height * width,
            imageStride: height * width, quads: true)
    }

    /// (C/2, N, H, W) bf16 pairs in `data` (`pairs`).
    static func channelMajorPairs(_ data: UnsafeMutablePointer<Float>, channels: Int, batch: Int, height: Int, width: Int) -> PlanarTensor {
        PlanarTensor(
            data: data, channels: channels, batch: batch, height: height, width: width, channelStride: batch * height * width,
            imageStride: height * width, pairs: true)
    }

    /// (N, C, H, W) tensor in `data`.
    static func imageMajor(_ data: UnsafeMutablePointer<Float>, channels: Int, batch: Int, height: Int, width: Int) -> PlanarTensor {
        PlanarTensor(
            data: data, channels: channels, batch: batch, height: height, width: width,
            channelStride: height * width, imageStride: channels * height * width)
    }

    /// Columns of the GEMM view (N·H·W) when channel-major.
    var columns: Int { batch * height * width }
}

/// The engine's kernels. Each has a naive twin in the tests.
enum Kernels {
    /// C(m×n) = A(m×k) · B(k×n), row-major, with leading dimensions.
    static func gemm(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false
    ) {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
            a, Int32(lda), b, Int32(ldb), accumulate ? 1 : 0, c, Int32(ldc))
    }

    /// x[c, 0..<width] = values[c] for the given rows (a bias to accumulate a GEMM onto). Rows are `leadingDimension` apart.
    static func fillRows(
        _ x: UnsafeMutablePointer<Float>, rows: Range<Int>, width: Int, leadingDimension: Int, values: UnsafePointer<Float>
    ) {
        for c in rows { (x + c * leadingDimension).update(repeating: values[c], count: width) }
    }

    /// x = max(x, 0) for the given rows. Rows are `leadingDimension` apart.
    static func relu(_ x: UnsafeMutablePointer<Float>, rows: Range<Int>, width: Int, leadingDimension: Int) {
        for c in rows {
            let row = x + c * leadingDimension
            for j in 0..<width { row[j] = max(row[j], 0) }
        }
    }

    /// means[c, n] = mean over H·W of x[c, n, ·] (SE's squeeze and the head's global pooling). (C, N, H, W) → (C, N)
    /// The sums run in the table's `sum` (16 running sums).
    static func channelMeans(
        _ x: UnsafePointer<Float>, channels: Int, batch: Int, planeSize: Int,
        into means: UnsafeMutablePointer<Float>, loop: ParallelLoop, kernels: KernelTable
    ) {
        let inverse = 1 / Float(planeSize)
        let sum = kernels.table.pointee.sum!
        loop.run(channels * batch, minimumPerThread: 16) { range in
            for plane in range { means[plane] = sum(x + plane * planeSize, planeSize) * inverse }
        }
    }

    /// Where `scaleAddReLU` writes: images `first ..< first + batch` of a (C, `count`, H, W) tensor at `base`.
    struct Destination {
        let base: UnsafeMutablePointer<Float>
        let first: Int
        let count: Int
    }

    /// y[c, n, ·] = relu(x[c, n, ·] · scale[c, n] + shortcut[c, n, ·]); scale nil means 1. y is x itself, or with
    /// `destination` the images it names of a larger batch's tensor (the image-by-image stages' last block writes its
    /// output straight into the batch's layout). The pass is the table's `scale_add_relu`.
    static func scaleAddReLU(
        _ x: UnsafeMutablePointer<Float>, scale: UnsafePointer<Float>?, shortcut: UnsafePointer<Float>,
        channels: Int, batch: Int, planeSize: Int, loop: ParallelLoop, kernels: KernelTable,
        into destination: Destination? = nil
    ) {
        let scaleAddReLU = kernels.table.pointee.scale_add_relu!
        loop.run(channels * batch, minimumPerThread: 8) { range in
            for plane in range {
                let row = x + plane * planeSize
                let out = destination.map { $0.base + ((plane / batch) * $0.count + $0.first + plane % batch) * planeSize } ?? row
                scaleAddReLU(row, scale?[plane] ?? 1, shortcut + plane * planeSize, out, planeSize)
            }
        }
    }

    /// `scaleAddReLU`, also writing the output as the next int8 product's operand: u8 quads at `scale` into
    /// `quads`, a (C/4, `count`, H, W) tensor of 4-byte elements of which it writes images `first ..< first + batch`
    /// (`Destination` in units of quads) — the next block's conv1 (and downsample) then read it without quantizing. One
    /// pass per group of 4 channels of an image (`scale_add_relu_quantize` of an int8 `kernels` table).
    static func scaleAddReLU(
        _ x: UnsafeMutablePointer<Float>, scale: UnsafePointer<Float>?, shortcut: UnsafePointer<Float>,
        channels: Int, batch: Int, planeSize: Int, loop: ParallelLoop, kernels: KernelTable,
        into destination: Destination? = nil, quantizingAt quadScale: Float, quads: Destination
    ) {
        precondition(channels % 4 == 0 && quads.count >= batch)
        let quantize = kernels.table.pointee.scale_add_relu_quantize!
        let groups = channels / 4
        let outImages = destination?.count ?? batch
        let outFirst = destination?.first ?? 0
        let out = destination?.base ?? x
        // Without SE every scale is 1: one value, read with stride 0.
        let one: [Float] = [1]
        one.withUnsafeBufferPointer { one in
            loop.run(groups * batch, minimumPerThread: 2) { range in
                for item in range {
                    let (group, image) = (item / batch, item % batch)
                    let plane = 4 * group * batch + image
                    quantize(
                        x + plane * planeSize, batch * planeSize, scale.map { $0 + plane } ?? one.baseAddress!, scale == nil ? 0 : batch,
                        shortcut + plane * planeSize, batch * planeSize, out + (4 * group * outImages + outFirst + image) * planeSize,
                        outImages * planeSize, quadScale, quads.base + (group * quads.count + quads.first + image) * planeSize, planeSize)
                }
            }
        }
    }

    /// Squeeze-excitation MLP on pooled means: scale(C×N) = σ(W2 · relu(W1 · means + b1) + b2).
    /// `hidden` is scratch of (se.hidden × N). Each layer's rows are split over the loop's threads: at batch 1
    /// these are matrix-vector products that only stream the weights, so both cores share the reading.
    static func squeezeExcitation(
        _ se: SqueezeExcitation, means: UnsafePointer<Float>, batch: Int,
        hidden: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>, loop: ParallelLoop
    ) {
        se.reduceWeight.withUnsafeBufferPointer { w1 in
            loop.run(se.hidden, minimumPerThread: 16) { rows in
                gemm(
                    m: rows.count, n: batch, k: se.channels, a: w1.baseAddress! + rows.lowerBound * se.channels, lda: se.channels,
                    b: means, ldb: batch, c: hidden + rows.lowerBound * batch, ldc: batch)
                for r in rows {
                    for n in 0..<batch { hidden[r * batch + n] = max(hidden[r * batch + n] + se.reduceBias[r], 0) }
                }
            }
        }
        se.expandWeight.withUnsafeBufferPointer { w2 in
            loop.run(se.channels, minimumPerThread: 64) { rows in
                gemm(
                    m: rows.count, n: batch, k: se.hidden, a: w2.baseAddress! + rows.lowerBound * se.hidden, lda: se.hidden,
                    b: hidden, ldb: batch, c: scale + rows.lowerBound * batch, ldc: batch)
                for c in rows {
                    for n in 0..<batch { scale[c * batch + n] = sigmoid(scale[c * batch + n] + se.expandBias[c]) }
                }
            }
        }
    }

    /// σ(z) = 1 / (1 + e^−z): SE's gate.
    @inline(__always) static func sigmoid(_ z: Float) -> Float { 1 / (1 + exp(-z)) }

    /// The same with the MLP's weights packed for the engine's GEMM (`reduce` hidden × C with its bias, `expand`
    /// C × hidden with its bias), each product's panels split over the loop's threads.
    static func squeezeExcitation(
        reduce: PackedMatrix, expand: PackedMatrix, means: UnsafePointer<Float>, batch: Int, hidden: UnsafeMutablePointer<Float>,
        scale: UnsafeMutablePointer<Float>, loop: ParallelLoop, scratch: (Int) -> UnsafeMutablePointer<Float>
    ) {
        let threads = loop.threads
        loop.forEachPart(threads) { part in
            let panels = reduce.panels * part / threads..<reduce.panels * (part + 1) / threads
            reduce.multiply(panels: panels, n: batch, b: means, ldb: batch, c: hidden, ldc: batch, relu: true, scratch: scratch(part))
        }
        loop.forEachPart(threads) { part in
            let panels = expand.panels * part / threads..<expand.panels * (part + 1) / threads
            expand.multiply(
                panels: panels, n: batch, b: UnsafePointer(hidden), ldb: batch, c: scale, ldc: batch, relu: false, scratch: scratch(part))
            let rows = min(expand.rows, panels.lowerBound * expand.panelRows)..<min(expand.rows, panels.upperBound * expand.panelRows)
            for i in rows.lowerBound * batch..<rows.upperBound * batch { scale[i] = sigmoid(scale[i]) }
        }
    }

    /// 3×3 stride-2 pad-1 max pooling (padding never wins, as in PyTorch), each plane by the table's `maxpool3x3s2`.
    /// (C, N, H, W) → (C, N, H', W')
    static func maxPool3x3Stride2(_ input: PlanarTensor, into output: UnsafeMutablePointer<Float>, loop: ParallelLoop, kernels: KernelTable)
    {
        let outH = (input.height + 2 - 3) / 2 + 1
        let outW = (input.width + 2 - 3) / 2 + 1
        let maxPool = kernels.table.pointee.maxpool3x3s2!
        loop.run(input.channels * input.batch, minimumPerThread: 8) { range in
            for plane in range {
                let c = plane / input.batch
                let n = plane % input.batch
                let source = input.data + c * input.channelStride + n * input.imageStride
                let out = output + plane * outH * outW
                withUnsafeTemporaryAllocation(of: Float.self, capacity: input.width) { row in
                    maxPool(source, Int32(input.height), Int32(input.width), out, row.baseAddress!)
                }
            }
        }
    }

    /// The same with the classifier packed for the engine's GEMM (classes × C with its bias): logitsᵀ (classes × N)
    /// into `transposed`, panels split over the loop's threads, then transposed into `logits`.
    static func classifier(
        packed: PackedMatrix, features: UnsafePointer<Float>, batch: Int, transposed: UnsafeMutablePointer<Float>,
        into logits: UnsafeMutablePointer<Float>, loop: ParallelLoop, scratch: (Int) -> UnsafeMutablePointer<Float>
    ) {
        let threads = loop.threads
        let classes = packed.rows
        loop.forEachPart(threads) { part in
            let panels = packed.panels * part / threads..<packed.panels * (part + 1) / threads
            packed.multiply(
                panels: panels, n: batch, b: features, ldb: batch, c: transposed, ldc: batch, relu: false, scratch: scratch(part))
        }
        for k in 0..<classes {
            for n in 0..<batch { logits[n * classes + k] = transposed[k * batch + n] }
        }
    }

    /// logits(N × classes) = featuresᵀ · Wᵀ + b, with features (C × N) and W (classes × C); classes split over
    /// the loop's threads (the weights are the bulk of the reading).
    static func classifier(
        features: UnsafePointer<Float>, batch: Int, featureCount: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, classes: Int,
        into logits: UnsafeMutablePointer<Float>, loop: ParallelLoop
    ) {
        loop.run(classes, minimumPerThread: 64) { range in
            for n in 0..<batch { (logits + n * classes + range.lowerBound).update(from: bias + range.lowerBound, count: range.count) }
            cblas_sgemm(
                CblasRowMajor, CblasTrans, CblasTrans, Int32(batch), Int32(range.count), Int32(featureCount), 1,
                features, Int32(batch), weight + range.lowerBound * featureCount, Int32(featureCount), 1,
                logits + range.lowerBound, Int32(classes))
        }
    }
}
