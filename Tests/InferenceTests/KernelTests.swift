import CKernels
import Foundation
import TestSupport
import Testing

@testable import Inference

/// Every fast kernel against a naive twin on random small shapes (odd sizes, stride 2, padding).
@Suite struct KernelTests {
    struct ConvolutionCase: CustomTestStringConvertible, Sendable {
        let inChannels, outChannels, kernel, stride, padding, batch, height, width: Int
        var testDescription: String { "\(inChannels)→\(outChannels) k\(kernel) s\(stride) p\(padding) n\(batch) \(height)×\(width)" }
    }

    static let convolutionCases: [ConvolutionCase] = [
        .init(inChannels: 3, outChannels: 8, kernel: 7, stride: 2, padding: 3, batch: 2, height: 23, width: 17),
        // The direct 7×7 kernel: output rows wider than one block of pixels (112 on AVX-512, 16 on AVX2), channels not a
        // multiple of its channel block (3 or 5), thread shares that cross images.
        .init(inChannels: 4, outChannels: 11, kernel: 7, stride: 2, padding: 3, batch: 3, height: 9, width: 250),
        .init(inChannels: 5, outChannels: 7, kernel: 3, stride: 1, padding: 1, batch: 1, height: 9, width: 11),
        .init(inChannels: 6, outChannels: 4, kernel: 3, stride: 2, padding: 1, batch: 3, height: 13, width: 8),
        .init(inChannels: 16, outChannels: 40, kernel: 1, stride: 1, padding: 0, batch: 2, height: 15, width: 15),
        .init(inChannels: 12, outChannels: 33, kernel: 1, stride: 2, padding: 0, batch: 2, height: 11, width: 7),
        // Wide enough for several 256-column tiles per thread, and narrow enough (3×3 output) to split channels.
        .init(inChannels: 4, outChannels: 8, kernel: 3, stride: 1, padding: 1, batch: 2, height: 30, width: 29),
        .init(inChannels: 64, outChannels: 96, kernel: 3, stride: 2, padding: 1, batch: 1, height: 5, width: 6),
        .init(inChannels: 1, outChannels: 2, kernel: 3, stride: 1, padding: 1, batch: 1, height: 1, width: 1),
        // More than one K block (256) of the packed GEMM, rows not a multiple of any panel height, 7×7 like layer4.
        .init(inChannels: 300, outChannels: 37, kernel: 1, stride: 1, padding: 0, batch: 1, height: 7, width: 7),
        .init(inChannels: 40, outChannels: 19, kernel: 3, stride: 2, padding: 1, batch: 3, height: 14, width: 13),
        // Deep and narrow, split over threads by K on AVX-512 (a K not a multiple of the 256-deep blocks).
        .init(inChannels: 2100, outChannels: 40, kernel: 1, stride: 1, padding: 0, batch: 1, height: 7, width: 7),
        .init(inChannels: 2100, outChannels: 40, kernel: 1, stride: 1, padding: 0, batch: 1, height: 10, width: 12),
        .init(inChannels: 240, outChannels: 24, kernel: 3, stride: 1, padding: 1, batch: 1, height: 6, width: 5),
        // More columns than one column block (256) per thread.
        .init(inChannels: 24, outChannels: 16, kernel: 1, stride: 1, padding: 0, batch: 3, height: 17, width: 23),
        // K ≥ 256 over more than 200 columns: the small-n kernel with column chunks outer (AVX-512), straight from the
        // activation (1×1) and from unfolded stride-2 tiles.
        .init(inChannels: 260, outChannels: 40, kernel: 1, stride: 1, padding: 0, batch: 2, height: 12, width: 11),
        .init(inChannels: 32, outChannels: 20, kernel: 3, stride: 2, padding: 1, batch: 2, height: 30, width: 29),
        // One output column per row: with two threads the channel split unfolds all 300 columns at once, more runs
        // of columns (one per output row) than unfolding cuts at a time (256).
        .init(inChannels: 2, outChannels: 320, kernel: 3, stride: 2, padding: 1, batch: 1, height: 600, width: 1),
        // Stride-2 output rows wider than one AVX-512 vector (the unfolding's permute loop); the column-outer kernel
        // over two blocks of weight panels (K = 2100: one 32-row panel per 512 KiB block).
        .init(inChannels: 3, outChannels: 8, kernel: 3, stride: 2, padding: 1, batch: 1, height: 10, width: 40),
        .init(inChannels: 2100, outChannels: 40, kernel: 1, stride: 1, padding: 0, batch: 1, height: 15, width: 15),
    ]

    /// Every table this CPU runs: baseline (OpenBLAS products), AVX2, AVX-512, AVX-512 with bf16 products, and int8 products
    /// on AVX2 and AVX-512 VNNI. Tables the CPU lacks are reported once (`tablesThisCPULacks`) and not run.
    static let tables: [KernelTable] = [
        KernelTable(nil), KernelTable(.avx2), KernelTable(.avx512), KernelTable(.avx512, precision: .bf16),
        KernelTable(.avx2, precision: .int8), KernelTable(.avx512, precision: .int8),
    ].compactMap { $0 }
    /// The fp32 ones (Winograd's products read fp32 transforms).
    static let fp32Tables = tables.filter { $0.precision == .fp32 }
    /// (threads, table): one and two threads with each table.
    static let threadsAndKernels: [(Int, KernelTable)] = [1, 2].flatMap { t in tables.map { (t, $0) } }

    /// The packed weights' shared huge-page chunks: allocations zeroed, cache-line aligned, disjoint, each in the first
    /// 2 MiB-aligned chunk with room for it.
    @Test func hugePageChunksPackWeightsFirstFit() {
        let chunks = HugePageChunks()
        func chunk(_ p: UnsafeMutablePointer<Float>) -> UInt { UInt(bitPattern: p) & ~UInt(HugePageChunks.chunkBytes - 1) }
        let sizes = [250_000, 16_385, 375_000, 100_000]  // floats: 1 MB, 64 KiB + 4 B, 1.5 MB, 400 KB
        #expect(sizes.allSatisfy { HugePageChunks.takes(bytes: 4 * $0) } && !HugePageChunks.takes(bytes: 64 << 10 - 4))
        #expect(!HugePageChunks.takes(bytes: HugePageChunks.chunkBytes))
        let pointers = sizes.map { chunks.allocate(floats: $0) }
        for (p, size) in zip(pointers, sizes) {
            #expect(UInt(bitPattern: p) % 64 == 0)
            #expect(UnsafeBufferPointer(start: p, count: size).allSatisfy { $0 == 0 })
            p.update(repeating: 1, count: size)
        }
        // 1 MB and 64 KiB share the first chunk; 1.5 MB more need a second; 400 KB still fit the first, after the others.
        #expect(chunk(pointers[0]) == chunk(pointers[1]) && chunk(pointers[2]) != chunk(pointers[0]))
        #expect(chunk(pointers[3]) == chunk(pointers[0]) && pointers[3] >= pointers[1] + sizes[1])
        #expect(pointers[1] >= pointers[0] + sizes[0])
        for p in pointers { chunks.free(p) }
    }

    @Test func tablesThisCPULacks() {
        let missing = [
            ("AVX2", KernelTable(.avx2)), ("AVX-512", KernelTable(.avx512)), ("AVX512_BF16", KernelTable(.avx512, precision: .bf16)),
            ("AVX2 int8", KernelTable(.avx2, precision: .int8)), ("AVX512_VNNI", KernelTable(.avx512, precision: .int8)),
        ]
        .filter { $0.1 == nil }.map(\.0)
        if !missing.isEmpty { print("KernelTests: this CPU lacks \(missing.joined(separator: ", ")): those kernels are not tested here") }
        #expect(Self.tables.contains(.baseline))
    }

    /// x rounded to bf16 as VCVTNEPS2BF16 does (nearest even; denormals to signed zero): the bf16 twins' inputs.
    static func bf16(_ x: Float) -> Float {
        let bits = x.bitPattern
        if bits & 0x7f80_0000 == 0 { return Float(bitPattern: bits & 0x8000_0000) }
        if x.isNaN { return x }
        let rounded = (bits &+ 0x7fff &+ ((bits >> 16) & 1)) & 0xffff_0000
        return Float(bitPattern: rounded)
    }

    static func randomLayer(_ c: ConvolutionCase, seed: UInt64) -> ConvolutionLayer {
        var random = SeededRandom(seed: seed)
        let shape = ConvolutionShape(
            outChannels: c.outChannels, inChannels: c.inChannels, kernel: c.kernel, stride: c.stride, padding: c.padding)
        return ConvolutionLayer(
            shape: shape,
            weights: (0..<c.outChannels * c.inChannels * c.kernel * c.kernel).map { _ in Float(random.normal()) },
            bias: (0..<c.outChannels).map { _ in Float(random.normal()) })
    }

    /// SE weights and biases drawn from a standard normal distribution.
    static func randomSqueezeExcitation(channels: Int, hidden: Int, seed: UInt64) -> SqueezeExcitation {
        var random = SeededRandom(seed: seed)
        return SqueezeExcitation(
            channels: channels, hidden: hidden,
            reduceWeight: (0..<hidden * channels).map { _ in Float(random.normal()) },
            reduceBias: (0..<hidden).map { _ in Float(random.normal()) },
            expandWeight: (0..<channels * hidden).map { _ in Float(random.normal()) },
            expandBias: (0..<channels).map { _ in Float(random.normal()) })
    }

    static func randomValues(_ count: Int, seed: UInt64) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in Float(random.uniform(-1, 1)) }
    }

    /// The textbook 7-loop convolution on an (N, C, H, W) input; output (Cout, N, Ho, Wo), + bias, optional ReLU.
    static func naiveConvolution(_ layer: ConvolutionLayer, input: [Float], batch: Int, height: Int, width: Int, relu: Bool) -> [Float] {
        let s = layer.shape
        let outH = s.outputSide(height)
        let outW = s.outputSide(width)
        var out = [Float](repeating: 0, count: s.outChannels * batch * outH * outW)
        for o in 0..<s.outChannels {
            for n in 0..<batch {
                for oy in 0..<outH {
                    for ox in 0..<outW {
                        var sum = Double(layer.bias[o])
                        for i in 0..<s.inChannels {
                            for ky in 0..<s.kernel {
                                for kx in 0..<s.kernel {
                                    let y = oy * s.stride - s.padding + ky
                                    let x = ox * s.stride - s.padding + kx
                                    guard y >= 0, y < height, x >= 0, x < width else { continue }
                                    sum +=
                                        Double(layer.weights[((o * s.inChannels + i) * s.kernel + ky) * s.kernel + kx])
                                        * Double(input[((n * s.inChannels + i) * height + y) * width + x])
                                }
                            }
                        }
                        out[((o * batch + n) * outH + oy) * outW + ox] = relu ? Float(max(sum, 0)) : Float(sum)
                    }
                }
            }
        }
        return out
    }

    /// (N, C, H, W) → (C, N, H, W)
    static func channelMajor(_ x: [Float], batch: Int, channels: Int, planeSize: Int) -> [Float] {
        var out = x
        for n in 0..<batch {
            for c in 0..<channels {
                for j in 0..<planeSize { out[(c * batch + n) * planeSize + j] = x[(n * channels + c) * planeSize + j] }
            }
        }
        return out
    }

    static func relativeError(_ actual: [Float], _ expected: [Float]) -> Float {
        let scale = max(1, expected.map(abs).max() ?? 0)
        return maxAbsoluteDifference(actual, expected) / scale
    }

    /// A random layer of case `c` planned for `kernels`, a random (N, C, H, W) input and the naive convolution's output;
    /// where the plan's products are bf16, the naive convolution of the bf16-rounded weights and input (its twin); where
    /// they are int8 (input scale 1/255), of the weights quantized per output channel and the input quantized to u8, both
    /// dequantized (its twin: the kernels' sums are exact, so only the final scaling rounds).
    static func planned(
        _ c: ConvolutionCase, kernels: KernelTable, seeds: (layer: UInt64, input: UInt64), relu: Bool
    ) -> (plan: ConvolutionPlan, input: [Float], expected: [Float]) {
        let layer = randomLayer(c, seed: seeds.layer)
        let input = randomValues(c.batch * c.inChannels * c.height * c.width, seed: seeds.input)
        let inputScale: Float = 1 / 255
        let plan = ConvolutionPlan(layer, kernels: kernels, inputScale: kernels.precision == .int8 ? inputScale : nil)
        if plan.kernels.precision == .int8 && plan.packed != nil {
            let limit = Float(kernels.int8WeightLimit)
            let perRow = c.inChannels * c.kernel * c.kernel
            var weights = layer.weights
            for o in 0..<c.outChannels {
                let rows = o * perRow..<(o + 1) * perRow
                let largest = weights[rows].map(abs).max() ?? 0
                let scale = largest / limit
                for i in rows {
                    weights[i] = largest == 0 ? 0 : min(limit, max(-limit, (weights[i] / scale).rounded(.toNearestOrEven))) * scale
                }
            }
            let quantized = input.map { min(255, max(0, ($0 * (1 / inputScale)).rounded(.toNearestOrEven))) * inputScale }
            let expected = naiveConvolution(
                ConvolutionLayer(shape: layer.shape, weights: weights, bias: layer.bias), input: quantized, batch: c.batch,
                height: c.height, width: c.width, relu: relu)
            return (plan, input, expected)
        }
        if plan.kernels.precision == .bf16 && (plan.packed != nil || plan.direct != nil) {
            let rounded = ConvolutionLayer(shape: layer.shape, weights: layer.weights.map(bf16), bias: layer.bias)
            let expected = naiveConvolution(
                rounded, input: input.map(bf16), batch: c.batch, height: c.height, width: c.width, relu: relu)
            return (plan, input, expected)
        }
        let expected = naiveConvolution(layer, input: input, batch: c.batch, height: c.height, width: c.width, relu: relu)
        return (plan, input, expected)
    }

    @Test(arguments: convolutionCases, threadsAndKernels)
    func convolutionMatchesNaiveLoops(_ c: ConvolutionCase, setting: (threads: Int, kernels: KernelTable)) {
        let (threads, kernels) = setting
        let (plan, input, expected) = Self.planned(c, kernels: kernels, seeds: (7, 11), relu: true)
        let runner = ConvolutionRunner(loop: ParallelLoop(threads: threads), maxPatchRows: c.inChannels * c.kernel * c.kernel)
        defer { runner.deallocate() }
        var output = [Float](repeating: .nan, count: expected.count)
        // Both input layouts the engine uses: the network input (N, C, H, W) and activations (C, N, H, W).
        for channelMajor in [false, true] {
            var source =
                channelMajor ? Self.channelMajor(input, batch: c.batch, channels: c.inChannels, planeSize: c.height * c.width) : input
            source.withUnsafeMutableBufferPointer { x in
                let tensor =
                    channelMajor
                    ? PlanarTensor.channelMajor(x.baseAddress!, channels: c.inChannels, batch: c.batch, height: c.height, width: c.width)
                    : PlanarTensor.imageMajor(x.baseAddress!, channels: c.inChannels, batch: c.batch, height: c.height, width: c.width)
                output.withUnsafeMutableBufferPointer { runner.run(plan, input: tensor, output: $0.baseAddress!, epilogue: .biasReLU) }
            }
            #expect(Self.relativeError(output, expected) < 1e-5, "\(c.testDescription) channelMajor=\(channelMajor) \(plan.algorithm)")
        }
    }

    /// int8's chained intermediates: a convolution whose input arrives as u8 quads (`takesQuads`: 3×3 patches unfolded from
    /// quads, weights in (group, ky, kx, channel % 4) order) and whose output leaves quantized (`.quantized`) gives exactly
    /// the bytes the fp32 route gives: the fp32 input quantized by the product, the fp32 output quantized after.
    @Test(
        arguments: convolutionCases.filter { $0.inChannels % 4 == 0 && $0.outChannels % 4 == 0 && $0.kernel != 7 },
        threadsAndKernels.filter { $0.1.precision == .int8 })
    func quantizedChainMatchesTheFP32Route(_ c: ConvolutionCase, setting: (threads: Int, kernels: KernelTable)) {
        let (threads, kernels) = setting
        let layer = Self.randomLayer(c, seed: 17)
        let (inputScale, outputScale): (Float, Float) = (1 / 255, 1 / 40)
        // Inputs on the u8 grid (non-negative, some past 255 steps: clamped), so the fp32 route sees the quads' values.
        let grid = Self.randomValues(c.batch * c.inChannels * c.height * c.width, seed: 19).map {
            min(255, max(0, (($0 + 0.2) * 230).rounded())) * inputScale
        }
        let input = Self.channelMajor(grid, batch: c.batch, channels: c.inChannels, planeSize: c.height * c.width)
        let columns = c.batch * c.height * c.width
        var quads = [UInt32](repeating: 0, count: c.inChannels / 4 * columns)
        for (i, x) in input.enumerated() {
            quads[(i / columns) / 4 * columns + i % columns] |=
                UInt32(Int8KernelTests.quantized(x, scale: inputScale)) << (8 * ((i / columns) % 4))
        }
        let runner = ConvolutionRunner(loop: ParallelLoop(threads: threads), maxPatchRows: c.inChannels * c.kernel * c.kernel)
        defer { runner.deallocate() }
        let outColumns = c.batch * layer.shape.outputSide(c.height) * layer.shape.outputSide(c.width)
        var fp32 = [Float](repeating: .nan, count: c.outChannels * outColumns)
        var source = input
        source.withUnsafeMutableBufferPointer { x in
            let tensor = PlanarTensor.channelMajor(
                x.baseAddress!, channels: c.inChannels, batch: c.batch, height: c.height, width: c.width)
            let plan = ConvolutionPlan(layer, kernels: kernels, inputScale: inputScale)
            fp32.withUnsafeMutableBufferPointer { runner.run(plan, input: tensor, output: $0.baseAddress!, epilogue: .biasReLU) }
        }
        var chained = [UInt32](repeating: 0xdead_beef, count: c.outChannels / 4 * outColumns)
        quads.withUnsafeMutableBytes { raw in
            let x = raw.baseAddress!.assumingMemoryBound(to: Float.self)
            let tensor = PlanarTensor.channelMajorQuads(
                x, channels: c.inChannels, batch: c.batch, height: c.height, width: c.width)
            let plan = ConvolutionPlan(layer, kernels: kernels, inputScale: inputScale, takesQuads: true)
            chained.withUnsafeMutableBytes {
                runner.run(
                    plan, input: tensor, output: $0.baseAddress!.assumingMemoryBound(to: Float.self),
                    epilogue: .quantized(scale: outputScale))
            }
        }
        var wrong = 0
        for (i, y) in fp32.enumerated() {
            let byte = Int((chained[(i / outColumns) / 4 * outColumns + i % outColumns] >> (8 * ((i / outColumns) % 4))) & 0xff)
            if byte != Int8KernelTests.quantized(y, scale: outputScale) { wrong += 1 }
        }
        #expect(wrong == 0, "\(c.testDescription) \(kernels.name), \(threads) threads: \(wrong) of \(fp32.count) bytes differ")
    }

    /// A 1×1 bf16 product whose input is already bf16 pairs (the residual stream, `PlanarTensor.channelMajorPairs`): read
    /// as it is (stride 1) or subsampled as whole pairs (stride 2, a downsample), the output is bit for bit the one of the
    /// fp32 input, which the product converts itself; one and two threads, the column split and the channel split.
    @Test(
        .enabled(if: KernelTable.cpuHasBF16, "this CPU lacks AVX512_BF16"),
        arguments: [
            ConvolutionCase(inChannels: 64, outChannels: 96, kernel: 1, stride: 2, padding: 0, batch: 2, height: 28, width: 27),
            ConvolutionCase(inChannels: 64, outChannels: 96, kernel: 1, stride: 2, padding: 0, batch: 1, height: 7, width: 8),
            ConvolutionCase(inChannels: 128, outChannels: 32, kernel: 1, stride: 1, padding: 0, batch: 2, height: 15, width: 15),
            ConvolutionCase(inChannels: 128, outChannels: 32, kernel: 1, stride: 1, padding: 0, batch: 1, height: 5, width: 4),
        ], [1, 2])
    func pairsInputIsTheConvertedInput(_ c: ConvolutionCase, threads: Int) {
        let kernels = KernelTable(.avx512, precision: .bf16)!
        let (plan, input, _) = Self.planned(c, kernels: kernels, seeds: (17, 19), relu: true)
        let runner = ConvolutionRunner(loop: ParallelLoop(threads: threads), maxPatchRows: c.inChannels)
        defer { runner.deallocate() }
        var x = Self.channelMajor(input, batch: c.batch, channels: c.inChannels, planeSize: c.height * c.width)
        let columns = c.batch * c.height * c.width
        var pairs = [Float](repeating: .nan, count: c.inChannels / 2 * columns)
        #expect(
            x.withUnsafeBufferPointer {
                kernels.packOperand($0.baseAddress!, rows: c.inChannels, columns: columns, ldb: columns, into: &pairs, ldOut: columns)
            })
        let outputs = [false, true].map { fromPairs in
            let outH = (c.height - 1) / c.stride + 1
            let outW = (c.width - 1) / c.stride + 1
            var output = [Float](repeating: .nan, count: c.outChannels * c.batch * outH * outW)
            if fromPairs {
                pairs.withUnsafeMutableBufferPointer { p in
                    let tensor = PlanarTensor.channelMajorPairs(
                        p.baseAddress!, channels: c.inChannels, batch: c.batch, height: c.height, width: c.width)
                    output.withUnsafeMutableBufferPointer { runner.run(plan, input: tensor, output: $0.baseAddress!, epilogue: .biasReLU) }
                }
            } else {
                x.withUnsafeMutableBufferPointer { p in
                    let tensor = PlanarTensor.channelMajor(
                        p.baseAddress!, channels: c.inChannels, batch: c.batch, height: c.height, width: c.width)
                    output.withUnsafeMutableBufferPointer { runner.run(plan, input: tensor, output: $0.baseAddress!, epilogue: .biasReLU) }
                }
            }
            return output
        }
        #expect(!outputs[1].contains { $0.isNaN } && outputs[1] == outputs[0], "\(c.testDescription), \(threads) threads")
    }

    /// The channel means `run` takes tile by tile from its own output (SE's squeeze), and its separate pass where the
    /// fused sums do not apply (OpenBLAS, the direct 7×7 kernel, a K split, or a runner sized for fewer means).
    @Test(arguments: convolutionCases, threadsAndKernels)
    func convolutionChannelMeansMatchTheOutput(_ c: ConvolutionCase, setting: (threads: Int, kernels: KernelTable)) {
        let (threads, kernels) = setting
        let (plan, input, expected) = Self.planned(c, kernels: kernels, seeds: (5, 13), relu: false)
        let planeSize = expected.count / (c.outChannels * c.batch)
        let expectedMeans = (0..<c.outChannels * c.batch).map { plane in
            Float(expected[plane * planeSize..<(plane + 1) * planeSize].reduce(0.0) { $0 + Double($1) } / Double(planeSize))
        }
        let fused = ConvolutionRunner.sumsFloats(outChannels: c.outChannels, batch: c.batch, planeSize: planeSize, threads: threads)
        for capacity in [fused, 0] {
            let runner = ConvolutionRunner(
                loop: ParallelLoop(threads: threads), maxPatchRows: c.inChannels * c.kernel * c.kernel, sumsFloats: capacity)
            defer { runner.deallocate() }
            var source = Self.channelMajor(input, batch: c.batch, channels: c.inChannels, planeSize: c.height * c.width)
            var output = [Float](repeating: .nan, count: expected.count)
            var means = [Float](repeating: .nan, count: c.outChannels * c.batch)
            source.withUnsafeMutableBufferPointer { x in
                let tensor = PlanarTensor.channelMajor(
                    x.baseAddress!, channels: c.inChannels, batch: c.batch, height: c.height, width: c.width)
                output.withUnsafeMutableBufferPointer { out in
                    means.withUnsafeMutableBufferPointer {
                        runner.run(plan, input: tensor, output: out.baseAddress!, epilogue: .bias, channelMeans: $0.baseAddress!)
                    }
                }
            }
            #expect(Self.relativeError(output, expected) < 1e-5, "\(c.testDescription) \(plan.algorithm)")
            #expect(Self.relativeError(means, expectedMeans) < 1e-5, "\(c.testDescription) capacity \(capacity) \(plan.algorithm)")
        }
    }

    @Test(
        arguments: [
            (5, 6, 1, 9, 11), (8, 3, 2, 7, 7), (128, 130, 1, 6, 5), (3, 4, 3, 1, 2), (16, 16, 2, 14, 14), (260, 9, 1, 8, 8),
            (128, 130, 2, 30, 29), (8, 8, 2, 70, 66),
        ],
        threadsAndKernels.filter { $0.1.precision != .int8 })
    func winogradMatchesNaiveLoops(_ dims: (Int, Int, Int, Int, Int), setting: (threads: Int, kernels: KernelTable)) {
        let (threads, kernels) = setting
        let (cin, cout, batch, height, width) = dims
        let c = ConvolutionCase(
            inChannels: cin, outChannels: cout, kernel: 3, stride: 1, padding: 1, batch: batch, height: height, width: width)
        let layer = Self.randomLayer(c, seed: 3)
        let input = Self.randomValues(batch * cin * height * width, seed: 5)
        let expected = Self.naiveConvolution(layer, input: input, batch: batch, height: height, width: width, relu: true)
        var x = Self.channelMajor(input, batch: batch, channels: cin, planeSize: height * width)
        let runner = ConvolutionRunner(loop: ParallelLoop(threads: threads), maxPatchRows: 1)
        defer { runner.deallocate() }
        // F(2×2) and F(4×4) with every table (baseline's transforms with OpenBLAS products); F(4×4)'s transforms have
        // entries up to 8, so its rounding error is larger. With bf16 products both round the transformed weights and
        // inputs to 8 significant bits, so a bf16 tolerance against the fp32 naive loops: F(2×2) measured at most 0.0047
        // of the largest output over these cases; F(4×4)'s output transform amplifies the rounding to 0.080 at most (the
        // engine runs it in bf16 only on layer1, where the network's agreement with fp32 holds: docs/precision.md).
        let tiles = kernels.precision == .bf16 ? [(2, Float(1e-2)), (4, Float(0.1))] : [(2, Float(1e-5)), (4, Float(2e-5))]
        for (tile, tolerance) in tiles {
            let winograd = WinogradWeights(layer, tile: tile, kernels: kernels)
            let sizes = winograd.workspaceSizes(batch: batch, height: height, width: width, threads: threads)
            var v = [Float](repeating: .nan, count: sizes.input)
            var m = [Float](repeating: .nan, count: sizes.product)
            var output = [Float](repeating: .nan, count: expected.count)
            x.withUnsafeMutableBufferPointer { x in
                winograd.run(
                    input: .channelMajor(x.baseAddress!, channels: cin, batch: batch, height: height, width: width),
                    output: output.withUnsafeMutableBufferPointer { $0.baseAddress! },
                    transformedInput: v.withUnsafeMutableBufferPointer { $0.baseAddress! },
                    products: m.withUnsafeMutableBufferPointer { $0.baseAddress! }, loop: runner.loop, packScratch: runner.packScratch)
            }
            #expect(
                Self.relativeError(output, expected) < tolerance,
                "\(c.testDescription) F(\(tile)×\(tile)) \(kernels.name): \(Self.relativeError(output, expected))")
        }
    }

    struct UnfoldingCase: CustomTestStringConvertible, Sendable {
        let channels, kernel, stride, padding, batch, height, width: Int
        let columns: Range<Int>
        var testDescription: String { "c\(channels) k\(kernel) s\(stride) p\(padding) n\(batch) \(height)×\(width) columns \(columns)" }
    }

    /// Unfolding alone (`ck_im2col`) against the definition, rows written `ld` apart with a guard between them: a tile
    /// ending one column into an output row (the 7×7 stem's kx = 0 reads nothing there), stride-2 rows wider than one
    /// vector, 1×1 subsampling, a column range starting mid-row; under every instruction set.
    @Test(arguments: [
        UnfoldingCase(channels: 3, kernel: 7, stride: 2, padding: 3, batch: 2, height: 20, width: 9, columns: 0..<56),
        UnfoldingCase(channels: 3, kernel: 7, stride: 2, padding: 3, batch: 2, height: 20, width: 9, columns: 56..<100),
        UnfoldingCase(channels: 2, kernel: 3, stride: 2, padding: 1, batch: 1, height: 9, width: 41, columns: 3..<100),
        UnfoldingCase(channels: 4, kernel: 1, stride: 2, padding: 0, batch: 2, height: 8, width: 34, columns: 0..<68),
    ])
    func unfoldingMatchesTheDefinition(_ c: UnfoldingCase) {
        let outH = (c.height + 2 * c.padding - c.kernel) / c.stride + 1
        let outW = (c.width + 2 * c.padding - c.kernel) / c.stride + 1
        let rows = c.channels * c.kernel * c.kernel
        let ld = c.columns.count + 3
        let guardValue: Float = 12345
        // Channel-major (C, N, H, W), as activations are.
        let input = Self.randomValues(c.channels * c.batch * c.height * c.width, seed: 40)
        for table in Self.fp32Tables {
            var out = [Float](repeating: guardValue, count: rows * ld)
            table.table.pointee.im2col(
                input, c.batch * c.height * c.width, c.height * c.width, Int32(c.height), Int32(c.width), Int32(c.kernel),
                Int32(c.stride), Int32(c.padding), Int32(outH), Int32(outW), 0, Int32(rows), Int32(c.columns.lowerBound),
                Int32(c.columns.upperBound), &out, ld)
            var wrong = 0
            for r in 0..<rows {
                let (channel, ky, kx) = (r / (c.kernel * c.kernel), (r / c.kernel) % c.kernel, r % c.kernel)
                for j in 0..<ld {
                    var expected = guardValue
                    if j < c.columns.count {
                        let column = c.columns.lowerBound + j
                        let (n, oy, ox) = (column / (outH * outW), (column / outW) % outH, column % outW)
                        let (iy, ix) = (oy * c.stride - c.padding + ky, ox * c.stride - c.padding + kx)
                        let inside = iy >= 0 && iy < c.height && ix >= 0 && ix < c.width
                        expected = inside ? input[((channel * c.batch + n) * c.height + iy) * c.width + ix] : 0
                    }
                    if out[r * ld + j] != expected { wrong += 1 }
                }
            }
            #expect(wrong == 0, "\(c.testDescription) \(table.name)")
        }
    }

    /// The packed GEMM alone against a Double-accumulated triple loop: edges in every dimension (rows past a panel,
    /// columns past a micro-tile and a column block, K past a K block), with and without bias, split into row shares
    /// and by K.
    @Test(
        arguments: [
            (1, 1, 1), (7, 300, 49), (64, 147, 33), (17, 513, 300), (130, 16, 600), (24, 256, 32), (100, 256, 230), (40, 1100, 49),
        ],
        tables.filter { $0.hasProducts && $0.precision != .int8 })
    func packedGEMMMatchesNaiveLoops(_ dims: (Int, Int, Int), kernels: KernelTable) throws {
        let (m, k, n) = dims
        let a = Self.randomValues(m * k, seed: 21)
        let ldb = n + 3
        let b = Self.randomValues(k * ldb, seed: 22)
        let bias = Self.randomValues(m, seed: 23)
        // The bf16 twin multiplies the bf16-rounded operands exactly (in Double).
        let rounded: (Float) -> Float = kernels.precision == .bf16 ? Self.bf16 : { $0 }
        // The product's operand: fp32 rows as they are, or bf16 pairs (converted out of place here).
        var operand = [Float](repeating: .nan, count: kernels.operandRows(k) * ldb)
        let packsOperand = b.withUnsafeBufferPointer { b in
            kernels.packOperand(b.baseAddress!, rows: k, columns: n, ldb: ldb, into: &operand, ldOut: ldb)
        }
        if !packsOperand { operand = b }
        for (withBias, relu) in [(true, true), (false, false)] {
            var expected = [Float](repeating: 0, count: m * n)
            for r in 0..<m {
                for j in 0..<n {
                    var sum = withBias ? Double(bias[r]) : 0
                    for i in 0..<k { sum += Double(rounded(a[r * k + i])) * Double(rounded(b[i * ldb + j])) }
                    expected[r * n + j] = Float(relu ? max(sum, 0) : sum)
                }
            }
            let packed = a.withUnsafeBufferPointer {
                PackedMatrix($0.baseAddress!, rows: m, columns: k, bias: withBias ? bias : nil, kernels: kernels)
            }
            var c = [Float](repeating: .nan, count: m * n)
            var scratch = [Float](repeating: .nan, count: KernelTable.productScratchFloats)
            for parts in [1, 3] {
                for part in 0..<parts {
                    let panels = packed.panels * part / parts..<packed.panels * (part + 1) / parts
                    operand.withUnsafeBufferPointer { b in
                        packed.multiply(
                            panels: panels, n: n, b: b.baseAddress!, ldb: ldb, c: &c, ldc: n, relu: relu, scratch: &scratch)
                    }
                }
                #expect(Self.relativeError(c, expected) < 1e-5, "\(m)×\(k)·\(k)×\(n) \(kernels.name) bias \(withBias) parts \(parts)")
            }
            // Split by K (the AVX-512 small-n kernel, up to 200 columns): three shares that start and end inside the
            // weights' K blocks, the bias in the first, added up as the engine's depth split adds them.
            let group = kernels.kGroup
            let bounds = [0, k / 3 / group * group, 2 * k / 3 / group * group, k]
            var total = [Float](repeating: 0, count: m * n)
            var split = true
            for share in 0..<3 where split {
                var partial = [Float](repeating: .nan, count: m * n)
                split = operand.withUnsafeBufferPointer { b in
                    packed.multiplyPartial(
                        kRange: bounds[share]..<bounds[share + 1], n: n, b: b.baseAddress!, ldb: ldb, c: &partial, ldc: n,
                        withBias: withBias && share == 0)
                }
                for i in total.indices { total[i] += partial[i] }
            }
            #expect(split == (kernels.instructionSet == .avx512 && n <= 200), "\(kernels.name) splits K where the small-n kernel runs")
            if split {
                if relu { total = total.map { max($0, 0) } }
                #expect(Self.relativeError(total, expected) < 1e-5, "\(m)×\(k)·\(k)×\(n) \(kernels.name) bias \(withBias) split by K")
            }
        }
    }

    /// A residual product's inputs: a random m × k layer with a bias packed for `kernels`, a random k × n operand in the
    /// table's format (rows `ldb` = n + 5 apart), SE-like scales (≥ 0.5), and `gemm`'s plain products of the two (n
    /// columns a row, no ReLU); seeds `seed`…`seed + 3`.
    static func residualCase(
        m: Int, k: Int, n: Int, kernels: KernelTable, seed: UInt64
    ) -> (packed: PackedMatrix, operand: [Float], ldb: Int, scale: [Float], products: [Float]) {
        let a = randomValues(m * k, seed: seed)
        let ldb = n + 5
        let b = randomValues(k * ldb, seed: seed + 1)
        let bias = randomValues(m, seed: seed + 2)
        let scale = randomValues(m, seed: seed + 3).map { 0.5 + abs($0) }
        var operand = [Float](repeating: .nan, count: kernels.operandRows(k) * ldb)
        if !b.withUnsafeBufferPointer({ kernels.packOperand($0.baseAddress!, rows: k, columns: n, ldb: ldb, into: &operand, ldOut: ldb) }) {
            operand = b
        }
        let packed = a.withUnsafeBufferPointer { PackedMatrix($0.baseAddress!, rows: m, columns: k, bias: bias, kernels: kernels) }
        var scratch = [Float](repeating: .nan, count: KernelTable.productScratchFloats)
        var products = [Float](repeating: .nan, count: m * n)
        operand.withUnsafeBufferPointer { b in
            packed.multiply(
                panels: 0..<packed.panels, n: n, b: b.baseAddress!, ldb: ldb, c: &products, ldc: n, relu: false, scratch: &scratch)
        }
        return (packed, operand, ldb, scale, products)
    }

    /// `packed`'s residual products (`gemm_residual`) into a fresh NaN-filled C of `packed.rows` rows `ldc` apart, its
    /// panels in `parts` calls of equal shares (the channel split's calls).
    static func residualProducts(
        _ packed: PackedMatrix, operand: [Float], ldb: Int, n: Int, parts: Int, ldc: Int, scale: [Float]?, shortcut: [Float],
        ldShortcut: Int, shortcutPairs: Bool = false, outputPairs: Bool = false
    ) -> [Float] {
        var c = [Float](repeating: .nan, count: packed.rows * ldc)
        var scratch = [Float](repeating: .nan, count: KernelTable.productScratchFloats)
        func multiply(part: Int, scale: UnsafePointer<Float>?) {
            operand.withUnsafeBufferPointer { b in
                packed.multiply(
                    panels: packed.panels * part / parts..<packed.panels * (part + 1) / parts, n: n, b: b.baseAddress!, ldb: ldb, c: &c,
                    ldc: ldc, scale: scale, shortcut: shortcut, ldShortcut: ldShortcut, shortcutPairs: shortcutPairs,
                    outputPairs: outputPairs, scratch: &scratch)
            }
        }
        for part in 0..<parts {
            if let scale {
                scale.withUnsafeBufferPointer { multiply(part: part, scale: $0.baseAddress) }
            } else {
                multiply(part: part, scale: nil)
            }
        }
        return c
    }

    /// The residual epilogue (`gemm_residual`) against its definition: the products of `gemm`, then `scale_add_relu`
    /// row by row, bit for bit; into another buffer (all panels at once and in shares), over the shortcut itself (K one
    /// block), and without SE's scale. The wide kernel and (AVX-512, up to 200 columns) the small-n one, rows past the
    /// last whole tile or panel (37: AVX2's 6-row and AVX-512's 8-row tiles, a 5-row last panel), partial column tiles.
    @Test(
        arguments: [(64, 64, 224), (37, 70, 45), (256, 128, 196), (40, 300, 33), (8, 2, 1), (96, 256, 49), (64, 200, 230)],
        tables.filter { $0.hasResidualProducts })
    func residualProductsAreGEMMThenScaleAddReLU(_ dims: (Int, Int, Int), kernels: KernelTable) {
        let (m, k, n) = dims
        let (packed, operand, ldb, scale, products) = Self.residualCase(m: m, k: k, n: n, kernels: kernels, seed: 31)
        let ldShortcut = n + 3
        let shortcut = Self.randomValues(m * ldShortcut, seed: 35)
        var scratch = [Float](repeating: .nan, count: KernelTable.productScratchFloats)
        let scaleAddReLU = kernels.table.pointee.scale_add_relu!
        for withScale in [true, false] {
            var expected = [Float](repeating: .nan, count: m * n)
            for r in 0..<m {
                products.withUnsafeBufferPointer { x in
                    shortcut.withUnsafeBufferPointer { s in
                        expected.withUnsafeMutableBufferPointer {
                            scaleAddReLU(
                                x.baseAddress! + r * n, withScale ? scale[r] : 1, s.baseAddress! + r * ldShortcut, $0.baseAddress! + r * n,
                                n)
                        }
                    }
                }
            }
            let ldc = n + 1
            // All panels in one call, and in three shares of them (the channel split's calls).
            for parts in [1, 3] {
                let c = Self.residualProducts(
                    packed, operand: operand, ldb: ldb, n: n, parts: parts, ldc: ldc, scale: withScale ? scale : nil, shortcut: shortcut,
                    ldShortcut: ldShortcut)
                let into = (0..<m).flatMap { r in c[r * ldc..<r * ldc + n] }
                #expect(into == expected, "\(m)×\(k)·\(k)×\(n) \(kernels.name) into another buffer, scale \(withScale), \(parts) parts")
            }
            guard kernels.operandRows(k) <= Int(CK_GEMM_K_BLOCK) else { continue }
            var inPlace = shortcut
            scale.withUnsafeBufferPointer { scale in
                operand.withUnsafeBufferPointer { b in
                    inPlace.withUnsafeMutableBufferPointer {
                        packed.multiply(
                            n: n, b: b.baseAddress!, ldb: ldb, c: $0.baseAddress!, ldc: ldShortcut,
                            scale: withScale ? scale.baseAddress! : nil,
                            shortcut: $0.baseAddress!, ldShortcut: ldShortcut, scratch: &scratch)
                    }
                }
            }
            let over = (0..<m).flatMap { r in inPlace[r * ldShortcut..<r * ldShortcut + n] }
            #expect(over == expected, "\(m)×\(k)·\(k)×\(n) \(kernels.name) over the shortcut, scale \(withScale)")
            #expect(
                (0..<m).allSatisfy { r in
                    inPlace[r * ldShortcut + n..<(r + 1) * ldShortcut] == shortcut[r * ldShortcut + n..<(r + 1) * ldShortcut]
                },
                "columns past n untouched")
        }
    }

    /// The bf16 residual epilogue on bf16 pair rows (`gemm_residual`'s formats): the shortcut read from pairs, y written
    /// as pairs, or both (into another buffer and over the shortcut), against the fp32 epilogue on the pairs' values
    /// followed by `operand_pack`, bit for bit. The wide kernel (230 columns; 38 rows: a 6-row last tile) and the small-n
    /// one (a 6-row last panel at 38 rows, an 8-row one at 40), in one call and in three shares of the panels.
    @Test(
        .enabled(if: KernelTable.cpuHasBF16, "this CPU lacks AVX512_BF16"),
        arguments: [(64, 64, 224), (38, 70, 45), (38, 70, 230), (256, 128, 196), (40, 300, 33), (96, 256, 49), (64, 200, 230)])
    func residualProductsReadAndWriteBF16Pairs(_ dims: (Int, Int, Int)) {
        let (m, k, n) = dims
        let kernels = KernelTable(.avx512, precision: .bf16)!
        let (packed, operand, ldb, scale, products) = Self.residualCase(m: m, k: k, n: n, kernels: kernels, seed: 41)
        let ld = n + 3
        let pairRows = m / 2
        var scratch = [Float](repeating: .nan, count: KernelTable.productScratchFloats)
        // The shortcut in fp32 and as pairs; the values the pairs hold (bf16, exact in fp32).
        let shortcut = Self.randomValues(m * ld, seed: 45)
        var shortcutPairs = [Float](repeating: .nan, count: pairRows * ld)
        #expect(
            shortcut.withUnsafeBufferPointer {
                kernels.packOperand($0.baseAddress!, rows: m, columns: n, ldb: ld, into: &shortcutPairs, ldOut: ld)
            })
        func half(_ pairs: [Float], row r: Int, column j: Int) -> Float {
            let bits = pairs[r / 2 * ld + j].bitPattern
            return Float(bitPattern: r % 2 == 1 ? bits & 0xFFFF_0000 : bits << 16)
        }
        let scaleAddReLU = kernels.table.pointee.scale_add_relu!
        for readsPairs in [false, true] {
            // y in fp32 from the shortcut's values as the kernel reads them, and as pair rows.
            var values = shortcut
            if readsPairs { for r in 0..<m { for j in 0..<n { values[r * ld + j] = half(shortcutPairs, row: r, column: j) } } }
            var expected = [Float](repeating: .nan, count: m * ld)
            for r in 0..<m {
                products.withUnsafeBufferPointer { x in
                    values.withUnsafeBufferPointer { v in
                        expected.withUnsafeMutableBufferPointer {
                            scaleAddReLU(x.baseAddress! + r * n, scale[r], v.baseAddress! + r * ld, $0.baseAddress! + r * ld, n)
                        }
                    }
                }
            }
            var expectedPairs = [Float](repeating: .nan, count: pairRows * ld)
            _ = expected.withUnsafeBufferPointer {
                kernels.packOperand($0.baseAddress!, rows: m, columns: n, ldb: ld, into: &expectedPairs, ldOut: ld)
            }
            for writesPairs in [false, true] where readsPairs || writesPairs {
                let source = readsPairs ? shortcutPairs : shortcut
                for parts in [1, 3] {
                    let c = Self.residualProducts(
                        packed, operand: operand, ldb: ldb, n: n, parts: parts, ldc: ld, scale: scale, shortcut: source, ldShortcut: ld,
                        shortcutPairs: readsPairs, outputPairs: writesPairs)
                    let label = "\(m)×\(k)·\(k)×\(n) reads pairs \(readsPairs) writes pairs \(writesPairs), \(parts) parts"
                    if writesPairs {
                        #expect((0..<pairRows).allSatisfy { q in c[q * ld..<q * ld + n] == expectedPairs[q * ld..<q * ld + n] }, "\(label)")
                        #expect((pairRows * ld..<m * ld).allSatisfy { c[$0].isNaN }, "no pair row past m / 2: \(label)")
                    } else {
                        #expect((0..<m).allSatisfy { r in c[r * ld..<r * ld + n] == expected[r * ld..<r * ld + n] }, "\(label)")
                    }
                    #expect(
                        (0..<m).allSatisfy { r in c[r * ld + n..<(r + 1) * ld].allSatisfy(\.isNaN) }, "columns past n untouched: \(label)")
                }
                guard readsPairs && writesPairs else { continue }
                // In place: y's pair rows over the shortcut's.
                var inPlace = shortcutPairs
                scale.withUnsafeBufferPointer { scale in
                    operand.withUnsafeBufferPointer { b in
                        inPlace.withUnsafeMutableBufferPointer {
                            packed.multiply(
                                n: n, b: b.baseAddress!, ldb: ldb, c: $0.baseAddress!, ldc: ld, scale: scale.baseAddress!,
                                shortcut: $0.baseAddress!, ldShortcut: ld, shortcutPairs: true, outputPairs: true, scratch: &scratch)
                        }
                    }
                }
                #expect(
                    (0..<pairRows).allSatisfy { q in inPlace[q * ld..<q * ld + n] == expectedPairs[q * ld..<q * ld + n] },
                    "\(m)×\(k)·\(k)×\(n) in place")
            }
        }
    }

    /// SE's first layer folded with conv3 (`SqueezeExcitationPlan.reduceFromInput`), fed the channel means of conv3's
    /// input, against SE on the means of conv3's output (the twin in Double), batch 3: the same scales.
    @Test(arguments: fp32Tables.filter { $0.hasProducts })
    func squeezeFromConv3InputIsSqueezeFromItsOutput(kernels: KernelTable) {
        let (inputs, channels, hidden, batch, planeSize) = (48, 80, 20, 3, 29)
        let se = Self.randomSqueezeExcitation(channels: channels, hidden: hidden, seed: 44)
        let weights = Self.randomValues(channels * inputs, seed: 45)
        let bias = Self.randomValues(channels, seed: 46)
        let x = Self.randomValues(inputs * batch * planeSize, seed: 47)
        // The twin: conv3's output planes, their means, SE's MLP, all in Double.
        var expected = [Float](repeating: 0, count: channels * batch)
        for n in 0..<batch {
            var means = [Double](repeating: 0, count: channels)
            for c in 0..<channels {
                var total = 0.0
                for j in 0..<planeSize {
                    var y = Double(bias[c])
                    for i in 0..<inputs { y += Double(weights[c * inputs + i]) * Double(x[(i * batch + n) * planeSize + j]) }
                    total += y
                }
                means[c] = total / Double(planeSize)
            }
            var h = [Double](repeating: 0, count: hidden)
            for r in 0..<hidden {
                var z = Double(se.reduceBias[r])
                for c in 0..<channels { z += Double(se.reduceWeight[r * channels + c]) * means[c] }
                h[r] = max(0, z)
            }
            for c in 0..<channels {
                var z = Double(se.expandBias[c])
                for r in 0..<hidden { z += Double(se.expandWeight[c * hidden + r]) * h[r] }
                expected[c * batch + n] = Float(1 / (1 + Foundation.exp(-z)))
            }
        }
        let conv3 = ConvolutionLayer(
            shape: ConvolutionShape(outChannels: channels, inChannels: inputs, kernel: 1, stride: 1, padding: 0), weights: weights,
            bias: bias)
        let plan = SqueezeExcitationPlan(se, kernels: kernels, conv3: conv3)
        let loop = ParallelLoop(threads: 2)
        var inputMeans = [Float](repeating: 0, count: inputs * batch)
        x.withUnsafeBufferPointer { x in
            Kernels.channelMeans(
                x.baseAddress!, channels: inputs, batch: batch, planeSize: planeSize, into: &inputMeans, loop: loop, kernels: kernels)
        }
        var hiddenScratch = [Float](repeating: 0, count: hidden * batch)
        var scale = [Float](repeating: .nan, count: channels * batch)
        let scratch = UnsafeMutablePointer<Float>.allocateAligned(2 * KernelTable.productScratchFloats)
        defer { scratch.deallocate() }
        Kernels.squeezeExcitation(
            reduce: plan.reduceFromInput!, expand: plan.expand, means: inputMeans, batch: batch, hidden: &hiddenScratch, scale: &scale,
            loop: loop, scratch: { scratch + $0 * KernelTable.productScratchFloats })
        #expect(Self.relativeError(scale, expected) < 1e-5, "\(kernels.name)")
    }

    /// The bf16 operand conversion against the twin: pairs of rows, odd row counts, partial vectors, in place.
    @Test(.enabled(if: KernelTable.cpuHasBF16, "this CPU lacks AVX512_BF16"), arguments: [(1, 1), (2, 16), (3, 17), (7, 40), (6, 33)])
    func bf16OperandPairsMatchTheTwin(_ dims: (Int, Int)) throws {
        let kernels = try #require(KernelTable(.avx512, precision: .bf16))
        let (rows, columns) = dims
        let ld = columns + 2
        // Ties, values that round up and down, a denormal and ±0 among random values.
        var b = Self.randomValues(rows * ld, seed: 50)
        let specials: [Float] = [1 + 1.0 / 256, 1 + 3.0 / 256, Float(bitPattern: 0x3f80_8001), 1e-40, -0.0, 0]
        for (i, value) in specials.enumerated() where i < b.count { b[i] = value }
        var out = [Float](repeating: .nan, count: (rows + 1) / 2 * ld)
        kernels.packOperand(b, rows: rows, columns: columns, ldb: ld, into: &out, ldOut: ld)
        var inPlace = b
        inPlace.withUnsafeMutableBufferPointer {
            kernels.packOperand($0.baseAddress!, rows: rows, columns: columns, ldb: ld, into: $0.baseAddress!, ldOut: ld)
        }
        for q in 0..<(rows + 1) / 2 {
            for j in 0..<columns {
                let lo = Self.bf16(b[2 * q * ld + j]).bitPattern >> 16
                let hi = 2 * q + 1 < rows ? Self.bf16(b[(2 * q + 1) * ld + j]).bitPattern >> 16 : 0
                #expect(out[q * ld + j].bitPattern == lo | hi << 16, "rows \(rows) pair row \(q) column \(j)")
                #expect(inPlace[q * ld + j].bitPattern == lo | hi << 16, "in place: rows \(rows) pair row \(q) column \(j)")
            }
        }
    }

    struct WinogradInputCase: CustomTestStringConvertible, Sendable {
        let tile, channels, height, width: Int
        let rows: Range<Int>
        let channelRange: Range<Int>
        var testDescription: String { "F(\(tile)×\(tile)) c\(channels) \(height)×\(width) tile rows \(rows) channels \(channelRange)" }
    }

    /// AVX-512's input transform (16 channels at a time, through register transposes) against the planar one AVX2 runs, bit
    /// for bit: fp32 rows with the AVX-512 table, bf16 pairs with the bf16 table (the planar pairs round as VCVTNEPS2BF16
    /// does). Channel counts that end in a partial block of 16, a range starting past 0, a range of tile rows, rows
    /// wider than one 16-column block, a partial last group of 16 tiles, an image smaller than one tile.
    @Test(
        .enabled(if: KernelTable(.avx512) != nil && KernelTable(.avx2) != nil, "this CPU lacks AVX-512"),
        arguments: [
            WinogradInputCase(tile: 2, channels: 37, height: 13, width: 11, rows: 1..<5, channelRange: 2..<37),
            WinogradInputCase(tile: 4, channels: 37, height: 13, width: 11, rows: 1..<3, channelRange: 2..<37),
            WinogradInputCase(tile: 2, channels: 20, height: 7, width: 41, rows: 0..<4, channelRange: 0..<20),
            WinogradInputCase(tile: 4, channels: 20, height: 9, width: 41, rows: 0..<3, channelRange: 0..<20),
            WinogradInputCase(tile: 4, channels: 64, height: 28, width: 28, rows: 0..<7, channelRange: 16..<64),
            WinogradInputCase(tile: 2, channels: 3, height: 1, width: 1, rows: 0..<1, channelRange: 0..<3),
        ])
    func winogradInputInChannelBlocksIsThePlanarTransform(_ c: WinogradInputCase) throws {
        let planar = try #require(KernelTable(.avx2)).table.pointee
        let blocked = try #require(KernelTable(.avx512)).table.pointee
        let x = Self.randomValues(c.channels * c.height * c.width, seed: 61)
        let tilesWide = (c.width + c.tile - 1) / c.tile
        let tiles = c.rows.count * tilesWide
        let points = (c.tile + 2) * (c.tile + 2)
        func transform(_ table: ck_kernels, pairs: Bool) -> [Float] {
            var v = [Float](repeating: .nan, count: points * c.channels * tiles)
            let floats = table.winograd_input_scratch_size(Int32(c.tile), Int32(c.width), Int32(c.rows.count))
            var scratch = [Float](repeating: 0, count: floats)
            x.withUnsafeBufferPointer { x in
                table.winograd_input(
                    Int32(c.tile), x.baseAddress!, c.height * c.width, Int32(c.height), Int32(c.width), Int32(c.rows.lowerBound),
                    Int32(c.rows.upperBound), Int32(c.channelRange.lowerBound), Int32(c.channelRange.upperBound), pairs ? 1 : 0, &v,
                    c.channels * tiles, tiles, &scratch)
            }
            return v
        }
        // NaN where nothing was written: the same elements in both.
        #expect(transform(blocked, pairs: false).map(\.bitPattern) == transform(planar, pairs: false).map(\.bitPattern), "fp32 rows")
        guard let bf16 = KernelTable(.avx512, precision: .bf16) else {
            print("KernelTests: this CPU lacks AVX512_BF16: the bf16 pairs of the AVX-512 input transform are not tested here")
            return
        }
        #expect(transform(bf16.table.pointee, pairs: true).map(\.bitPattern) == transform(planar, pairs: true).map(\.bitPattern), "pairs")
    }

    /// AVX-512's output transform (16 channels at a time) against the planar one AVX2 runs, bit for bit, bias and ReLU
    /// included, on the same cases (a range of tile rows, the last one cut by the image's height, a channel range starting
    /// past 0 and ending in a partial block, planes further apart than their size) and on layer4's 7×7 map.
    @Test(
        .enabled(if: KernelTable(.avx512) != nil && KernelTable(.avx2) != nil, "this CPU lacks AVX-512"),
        arguments: [
            WinogradInputCase(tile: 2, channels: 37, height: 13, width: 11, rows: 1..<7, channelRange: 3..<37),
            WinogradInputCase(tile: 4, channels: 37, height: 13, width: 11, rows: 1..<4, channelRange: 3..<37),
            WinogradInputCase(tile: 2, channels: 20, height: 7, width: 41, rows: 0..<4, channelRange: 0..<20),
            WinogradInputCase(tile: 4, channels: 20, height: 9, width: 41, rows: 0..<3, channelRange: 0..<20),
            WinogradInputCase(tile: 2, channels: 48, height: 7, width: 7, rows: 0..<4, channelRange: 0..<48),
            WinogradInputCase(tile: 4, channels: 3, height: 1, width: 1, rows: 0..<1, channelRange: 0..<3),
        ])
    func winogradOutputInChannelBlocksIsThePlanarTransform(_ c: WinogradInputCase) throws {
        let planar = try #require(KernelTable(.avx2)).table.pointee
        let blocked = try #require(KernelTable(.avx512)).table.pointee
        let tilesWide = (c.width + c.tile - 1) / c.tile
        let tiles = c.rows.count * tilesWide
        let points = (c.tile + 2) * (c.tile + 2)
        let m = Self.randomValues(points * c.channels * tiles, seed: 62).map { 4 * $0 }
        let bias = Self.randomValues(c.channels, seed: 63)
        let channelStride = c.height * c.width + 5
        func transform(_ table: ck_kernels) -> [Float] {
            var out = [Float](repeating: .nan, count: c.channels * channelStride)
            var scratch = [Float](repeating: 0, count: table.winograd_output_scratch_size(Int32(c.tile), Int32(c.width)))
            table.winograd_output(
                Int32(c.tile), m, c.channels * tiles, tiles, bias, Int32(c.height), Int32(c.width), Int32(c.rows.lowerBound),
                Int32(c.rows.upperBound), Int32(c.channelRange.lowerBound), Int32(c.channelRange.upperBound), &out, channelStride,
                &scratch)
            return out
        }
        let expected = transform(planar)
        #expect(transform(blocked).map(\.bitPattern) == expected.map(\.bitPattern))
        // Outside the tile rows and channels asked for, nothing is written.
        let firstRow = c.tile * c.rows.lowerBound
        #expect(expected[c.channelRange.lowerBound * channelStride + firstRow * c.width].isNaN == false)
        if c.channelRange.lowerBound > 0 { #expect(expected[0].isNaN) }
    }

    /// Winograd's input transform writing the bf16 products' operand: bit for bit the pairs `packOperand` makes of its fp32
    /// output, for F(2×2) and F(4×4), a range of tile rows, an odd channel count (the last pair's high half zero) and a
    /// channel range starting past 0.
    @Test(.enabled(if: KernelTable.cpuHasBF16, "this CPU lacks AVX512_BF16"), arguments: [2, 4])
    func winogradInputPairsAreThePackedTransform(_ tile: Int) throws {
        let kernels = try #require(KernelTable(.avx512, precision: .bf16))
        let table = kernels.table.pointee
        let (channels, height, width) = (7, 11, 13)
        let x = Self.randomValues(channels * height * width, seed: 60)
        let tilesWide = (width + tile - 1) / tile
        let rows = 1..<3
        let tiles = rows.count * tilesWide
        let points = (tile + 2) * (tile + 2)
        var scratch = [Float](repeating: 0, count: table.winograd_input_scratch_size(Int32(tile), Int32(width), Int32(rows.count)))
        func transform(_ channelRange: Range<Int>, pairs: Bool) -> [Float] {
            var v = [Float](repeating: .nan, count: points * channels * tiles)
            x.withUnsafeBufferPointer { x in
                table.winograd_input(
                    Int32(tile), x.baseAddress!, height * width, Int32(height), Int32(width), Int32(rows.lowerBound),
                    Int32(rows.upperBound),
                    Int32(channelRange.lowerBound), Int32(channelRange.upperBound), pairs ? 1 : 0, &v, channels * tiles, tiles, &scratch)
            }
            return v
        }
        let fp32 = transform(0..<channels, pairs: false)
        let pairs = transform(2..<channels, pairs: true)
        for xi in 0..<points {
            var expected = [Float](repeating: .nan, count: (channels + 1) / 2 * tiles)
            fp32.withUnsafeBufferPointer {
                kernels.packOperand(
                    $0.baseAddress! + xi * channels * tiles, rows: channels, columns: tiles, ldb: tiles, into: &expected, ldOut: tiles)
            }
            for q in 1..<(channels + 1) / 2 {
                for t in 0..<tiles {
                    #expect(
                        pairs[xi * channels * tiles + q * tiles + t].bitPattern == expected[q * tiles + t].bitPattern,
                        "F(\(tile)×\(tile)) ξ \(xi) pair row \(q) tile \(t)")
                }
            }
            // Pair row 0 is outside the range: untouched.
            #expect(pairs[xi * channels * tiles].isNaN)
        }
    }

    /// Winograd's output transform writing the next 1×1's operand (`winograd_output_pairs`): bit for bit the pairs
    /// `packOperand` makes of the fp32 transform's output, for F(2×2) and F(4×4), a range of tile rows cut by the image's
    /// height, a channel range starting past 0 and ending odd (the last pair's high half zero), planes further apart than
    /// their size; and each channel's sum of the fp32 outputs over the rows written, added to what `sums` held.
    @Test(.enabled(if: KernelTable.cpuHasBF16, "this CPU lacks AVX512_BF16"), arguments: [2, 4])
    func winogradOutputPairsAreThePackedTransform(_ tile: Int) throws {
        let kernels = try #require(KernelTable(.avx512, precision: .bf16))
        let table = kernels.table.pointee
        let (channels, height, width) = (37, 13, 11)
        let (rows, channelRange) = (1..<4, 2..<channels)
        let tilesWide = (width + tile - 1) / tile
        let tiles = rows.count * tilesWide
        let points = (tile + 2) * (tile + 2)
        let m = Self.randomValues(points * channels * tiles, seed: 64).map { 4 * $0 }
        let bias = Self.randomValues(channels, seed: 65)
        let channelStride = height * width + 5
        var scratch = [Float](repeating: 0, count: table.winograd_output_scratch_size(Int32(tile), Int32(width)))
        var fp32 = [Float](repeating: 0, count: channels * channelStride)
        table.winograd_output(
            Int32(tile), m, channels * tiles, tiles, bias, Int32(height), Int32(width), Int32(rows.lowerBound), Int32(rows.upperBound),
            Int32(channelRange.lowerBound), Int32(channelRange.upperBound), &fp32, channelStride, &scratch)
        var pairs = [Float](repeating: .nan, count: (channels + 1) / 2 * channelStride)
        var sums = [Float](repeating: 1, count: channels)
        table.winograd_output_pairs(
            Int32(tile), m, channels * tiles, tiles, bias, Int32(height), Int32(width), Int32(rows.lowerBound), Int32(rows.upperBound),
            Int32(channelRange.lowerBound), Int32(channelRange.upperBound), &pairs, channelStride, &sums, &scratch)
        // The rows the tile rows cover, within the image.
        let pixels = (tile * rows.lowerBound * width)..<(min(height, tile * rows.upperBound) * width)
        var expected = [Float](repeating: .nan, count: (channels + 1) / 2 * channelStride)
        _ = fp32.withUnsafeBufferPointer {
            kernels.packOperand(
                $0.baseAddress! + channelRange.lowerBound * channelStride + pixels.lowerBound, rows: channelRange.count,
                columns: pixels.count, ldb: channelStride, into: &expected, ldOut: channelStride)
        }
        for q in channelRange.lowerBound / 2..<(channels + 1) / 2 {
            for j in pixels {
                #expect(
                    pairs[q * channelStride + j].bitPattern
                        == expected[(q - channelRange.lowerBound / 2) * channelStride + j - pixels.lowerBound].bitPattern,
                    "F(\(tile)×\(tile)) pair row \(q) pixel \(j)")
            }
        }
        // Outside the channels and rows asked for, nothing is written.
        #expect(pairs[0].isNaN && pairs[channelStride + pixels.lowerBound - 1].isNaN && pairs[channelStride + pixels.upperBound].isNaN)
        for c in 0..<channels {
            let exact = channelRange.contains(c) ? pixels.reduce(1.0) { $0 + Double(fp32[c * channelStride + $1]) } : 1
            #expect(
                abs(Double(sums[c]) - exact) <= 1e-5 * max(1, abs(exact)), "F(\(tile)×\(tile)) channel \(c): \(sums[c]) against \(exact)")
        }
    }

    /// Winograd writing conv3's operand (`run(…, pairs:)`), split by tile rows and by channels: bit for bit the pairs of its
    /// fp32 output, and the same channel means up to their order of summation.
    @Test(.enabled(if: KernelTable.cpuHasBF16, "this CPU lacks AVX512_BF16"), arguments: [(64, 2, 28), (128, 1, 7)])
    func winogradRunWritesThePairsOfItsOutput(_ dims: (channels: Int, batch: Int, side: Int)) throws {
        let kernels = try #require(KernelTable(.avx512, precision: .bf16))
        let (channels, batch, side) = dims
        let c = ConvolutionCase(
            inChannels: channels, outChannels: channels, kernel: 3, stride: 1, padding: 1, batch: batch, height: side, width: side)
        let winograd = WinogradWeights(Self.randomLayer(c, seed: 66), tile: 2, kernels: kernels)
        let threads = 2
        #expect(winograd.splitsByChannels(batch: batch, height: side, width: side) == (side == 7), "both of run's splits are tested")
        var x = Self.randomValues(channels * batch * side * side, seed: 67)
        let runner = ConvolutionRunner(loop: ParallelLoop(threads: threads), maxPatchRows: 1)
        defer { runner.deallocate() }
        let sizes = winograd.workspaceSizes(batch: batch, height: side, width: side, threads: threads)
        var v = [Float](repeating: .nan, count: sizes.input)
        var m = [Float](repeating: .nan, count: sizes.product)
        var sums = [Float](repeating: .nan, count: winograd.sumsFloats(batch: batch, height: side, width: side))
        func run(pairs: KernelTable?) -> (output: [Float], means: [Float]) {
            var output = [Float](repeating: .nan, count: channels * batch * side * side)
            var means = [Float](repeating: .nan, count: channels * batch)
            x.withUnsafeMutableBufferPointer { x in
                winograd.run(
                    input: .channelMajor(x.baseAddress!, channels: channels, batch: batch, height: side, width: side),
                    output: output.withUnsafeMutableBufferPointer { $0.baseAddress! },
                    transformedInput: v.withUnsafeMutableBufferPointer { $0.baseAddress! },
                    products: m.withUnsafeMutableBufferPointer { $0.baseAddress! }, loop: runner.loop, packScratch: runner.packScratch,
                    means: means.withUnsafeMutableBufferPointer { $0.baseAddress! },
                    sums: sums.withUnsafeMutableBufferPointer { $0.baseAddress! }, pairs: pairs)
            }
            return (output, means)
        }
        let fp32 = run(pairs: nil)
        let pairs = run(pairs: kernels)
        let columns = batch * side * side
        var expected = [Float](repeating: .nan, count: channels / 2 * columns)
        _ = kernels.packOperand(fp32.output, rows: channels, columns: columns, ldb: columns, into: &expected, ldOut: columns)
        #expect(Array(pairs.output.prefix(expected.count)).map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(Self.relativeError(pairs.means, fp32.means) < 1e-5)
    }

    @Test(
        arguments: [(2, 3, 7, 9), (1, 4, 1, 1), (3, 2, 8, 8), (1, 1, 2, 5), (2, 1, 5, 2), (1, 1, 3, 3), (2, 2, 112, 112)],
        fp32Tables)
    func maxPoolMatchesNaiveLoops(_ dims: (Int, Int, Int, Int), kernels: KernelTable) {
        let (channels, batch, height, width) = dims
        var x = Self.randomValues(channels * batch * height * width, seed: 9)
        let outH = (height - 1) / 2 + 1
        let outW = (width - 1) / 2 + 1
        var expected = [Float](repeating: 0, count: channels * batch * outH * outW)
        for plane in 0..<channels * batch {
            for oy in 0..<outH {
                for ox in 0..<outW {
                    var best = -Float.infinity
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            let y = 2 * oy - 1 + ky
                            let xx = 2 * ox - 1 + kx
                            if y >= 0, y < height, xx >= 0, xx < width { best = max(best, x[plane * height * width + y * width + xx]) }
                        }
                    }
                    expected[plane * outH * outW + oy * outW + ox] = best
                }
            }
        }
        var output = [Float](repeating: .nan, count: expected.count)
        x.withUnsafeMutableBufferPointer { x in
            output.withUnsafeMutableBufferPointer { out in
                Kernels.maxPool3x3Stride2(
                    .channelMajor(x.baseAddress!, channels: channels, batch: batch, height: height, width: width),
                    into: out.baseAddress!, loop: ParallelLoop(threads: 2), kernels: kernels)
            }
        }
        #expect(output == expected, "\(dims) \(kernels.name)")
    }

    /// The column split's chunks cover the columns once, in order, none empty, whole units of 32 columns but the last,
    /// as many in each thread's share, at most `tileWidth` wide where the columns allow.
    @Test(arguments: [1, 2, 3])
    func columnChunksCoverTheColumnsInEqualShares(threads: Int) {
        for columns in [1, 31, 32, 33, 49, 64, 96, 100, 196, 392, 784, 1568, 3136, 6272, 25088] {
            let chunks = ConvolutionRunner.ColumnChunks(columns: columns, threads: threads)
            let ranges = (0..<chunks.count).map(chunks.range)
            let description = "\(columns) columns, \(threads) threads: \(ranges)"
            #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == columns, "\(description)")
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(description)")
            #expect(ranges.allSatisfy { !$0.isEmpty && $0.lowerBound % 32 == 0 }, "\(description)")
            let units = (columns + 31) / 32
            if units >= threads { #expect(chunks.count % threads == 0, "\(description)") }
            if units >= threads * 8 { #expect(ranges.allSatisfy { $0.count <= ConvolutionRunner.tileWidth }, "\(description)") }
        }
    }

    /// Many back-to-back regions (workers spinning) and regions after a pause (workers asleep) each cover
    /// every index exactly once; parts fewer than threads leave the idle worker out.
    @Test(arguments: [1, 2, 3])
    func parallelLoopCoversEveryIndexOnce(threads: Int) {
        let loop = ParallelLoop(threads: threads)
        for round in 0..<2_000 {
            let count = round % 37
            var hits = [Int](repeating: 0, count: count)
            hits.withUnsafeMutableBufferPointer { hits in
                loop.run(count) { range in for i in range { hits[i] += 1 } }
            }
            #expect(hits.allSatisfy { $0 == 1 }, "round \(round)")
            if round % 500 == 499 { usleep(300_000) }
        }
        var parts = [Int](repeating: 0, count: threads)
        parts.withUnsafeMutableBufferPointer { parts in loop.forEachPart(1) { parts[$0] += 1 } }
        #expect(parts == [1] + [Int](repeating: 0, count: threads - 1))
    }

    /// Chunks dealt with stealing (`forEachChunk`) are each run exactly once, by a part below the thread count, also
    /// when one part's chunks are slow (the others then take chunks from the end of its share).
    @Test(arguments: [1, 2, 3])
    func parallelLoopRunsEveryChunkOnce(threads: Int) {
        let loop = ParallelLoop(threads: threads)
        for round in 0..<600 {
            let count = round % 41
            var hits = [Int](repeating: 0, count: count)
            var parts = [Int](repeating: -1, count: count)
            hits.withUnsafeMutableBufferPointer { hits in
                parts.withUnsafeMutableBufferPointer { parts in
                    loop.forEachChunk(count) { part, chunk in
                        if round % 3 == 0 && part == 0 { usleep(50) }
                        hits[chunk] += 1
                        parts[chunk] = part
                    }
                }
            }
            #expect(hits.allSatisfy { $0 == 1 }, "round \(round)")
            #expect(parts.allSatisfy { $0 >= 0 && $0 < threads }, "round \(round)")
        }
    }

    @Test(arguments: fp32Tables)
    func squeezeExcitationMatchesScalarTwin(kernels: KernelTable) {
        // Wide enough that both MLP layers split their rows over the two threads.
        let channels = 160
        let hidden = 40
        let batch = 3
        let planeSize = 37  // past the 16 running sums and the vector loops, with a tail
        let se = Self.randomSqueezeExcitation(channels: channels, hidden: hidden, seed: 21)
        let x = Self.randomValues(channels * batch * planeSize, seed: 22)
        let shortcut = Self.randomValues(channels * batch * planeSize, seed: 23)

        // Scalar twin: y = relu(x · σ(W2 relu(W1 mean(x) + b1) + b2) + shortcut), per image.
        var expected = [Float](repeating: 0, count: x.count)
        for n in 0..<batch {
            let means = (0..<channels).map { c in
                (0..<planeSize).reduce(0.0) { $0 + Double(x[(c * batch + n) * planeSize + $1]) } / Double(planeSize)
            }
            let h = (0..<hidden).map { r in
                max(0, (0..<channels).reduce(Double(se.reduceBias[r])) { $0 + Double(se.reduceWeight[r * channels + $1]) * means[$1] })
            }
            for c in 0..<channels {
                let z = (0..<hidden).reduce(Double(se.expandBias[c])) { $0 + Double(se.expandWeight[c * hidden + $1]) * h[$1] }
                let scale = 1 / (1 + exp(-z))
                for j in 0..<planeSize {
                    let i = (c * batch + n) * planeSize + j
                    expected[i] = Float(max(0, Double(x[i]) * scale + Double(shortcut[i])))
                }
            }
        }

        var y = x
        var means = [Float](repeating: 0, count: channels * batch)
        var hiddenScratch = [Float](repeating: 0, count: hidden * batch)
        var scale = [Float](repeating: 0, count: channels * batch)
        let loop = ParallelLoop(threads: 2)
        y.withUnsafeMutableBufferPointer { y in
            Kernels.channelMeans(
                y.baseAddress!, channels: channels, batch: batch, planeSize: planeSize, into: &means, loop: loop, kernels: kernels)
            Kernels.squeezeExcitation(se, means: means, batch: batch, hidden: &hiddenScratch, scale: &scale, loop: loop)
            Kernels.scaleAddReLU(
                y.baseAddress!, scale: scale, shortcut: shortcut, channels: channels, batch: batch, planeSize: planeSize, loop: loop,
                kernels: kernels)
        }
        #expect(Self.relativeError(y, expected) < 1e-5)
    }

    @Test func globalPoolingAndClassifierMatchScalarTwin() {
        let channels = 17
        let batch = 3
        let planeSize = 10
        let classes = 150  // classes split over two threads
        let x = Self.randomValues(channels * batch * planeSize, seed: 31)
        let weight = Self.randomValues(classes * channels, seed: 32)
        let bias = Self.randomValues(classes, seed: 33)
        var expected = [Float](repeating: 0, count: batch * classes)
        for n in 0..<batch {
            for k in 0..<classes {
                var sum = Double(bias[k])
                for c in 0..<channels {
                    let mean = (0..<planeSize).reduce(0.0) { $0 + Double(x[(c * batch + n) * planeSize + $1]) } / Double(planeSize)
                    sum += Double(weight[k * channels + c]) * mean
                }
                expected[n * classes + k] = Float(sum)
            }
        }
        var means = [Float](repeating: 0, count: channels * batch)
        var logits = [Float](repeating: .nan, count: batch * classes)
        Kernels.channelMeans(
            x, channels: channels, batch: batch, planeSize: planeSize, into: &means, loop: ParallelLoop(threads: 1), kernels: .baseline)
        Kernels.classifier(
            features: means, batch: batch, featureCount: channels, weight: weight, bias: bias, classes: classes, into: &logits,
            loop: ParallelLoop(threads: 2))
        #expect(Self.relativeError(logits, expected) < 1e-5)
    }
}
