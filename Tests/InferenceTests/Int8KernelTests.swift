import CKernels
import Foundation
import Testing

@testable import Inference

/// The int8 products (AVX-512 VNNI and AVX2) against an integer twin: the same quantization (s8 weights per row, u8
/// activations per tensor, round to nearest even), exact s32 sums, then scale · sum + bias fused in fp32 as the kernels
/// do it: the outputs must be identical, not close. Tables this CPU lacks are reported and not run.
@Suite struct Int8KernelTests {
    struct Table: CustomTestStringConvertible, Sendable {
        let name: String
        let limit: Float
        nonisolated(unsafe) let table: UnsafePointer<ck_kernels>
        var testDescription: String { name }
    }

    /// The AVX-512 VNNI table and the AVX2 one: VPMADDUBSW with 7-bit weights, or AVX-VNNI's VPDPBUSD with 8-bit ones where
    /// the CPU has it (each CPU tests the table it runs).
    static let tables: [Table] = [CK_ISA_AVX512, CK_ISA_AVX2].compactMap { isa in
        ck_kernels_for(isa, CK_INT8).map {
            Table(name: String(cString: $0.pointee.name), limit: Float($0.pointee.int8_weight_limit), table: $0)
        }
    }

    @Test func tablesThisCPULacks() {
        let missing = [("AVX-512 VNNI", CK_ISA_AVX512), ("AVX2", CK_ISA_AVX2)].filter { ck_kernels_for($0.1, CK_INT8) == nil }
        if !missing.isEmpty {
            print("Int8KernelTests: this CPU lacks \(missing.map(\.0).joined(separator: ", ")): those int8 kernels are not tested here")
        }
        if let avx2 = ck_kernels_for(CK_ISA_AVX2, CK_INT8) {
            let vnni = ck_has_avx_vnni() != 0
            if !vnni { print("Int8KernelTests: this CPU lacks AVX-VNNI: its AVX2 int8 table (VPMADDUBSW) is tested, not the AVX-VNNI one") }
            #expect(avx2.pointee.int8_weight_limit == (vnni ? 127 : 63))
        }
        #expect(ck_kernels_for(CK_ISA_NONE, CK_INT8) == nil)
        for table in Self.tables {
            #expect(table.table.pointee.precision == CK_INT8 && table.table.pointee.k_group == 4)
            #expect(table.table.pointee.gemm_pack == nil && table.table.pointee.gemm_pack_int8 != nil)
        }
    }

    static func values(_ count: Int, seed: UInt64, in range: ClosedRange<Double>) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in Float(random.uniform(range.lowerBound, range.upperBound)) }
    }

    /// u8 of x at `scale`, as the operand quantization's twin.
    static func quantized(_ x: Float, scale: Float) -> Int {
        Int(min(255, max(0, (x * (1 / scale)).rounded(.toNearestOrEven))))
    }

    @Test(arguments: [(1, 1, 1), (8, 64, 49), (33, 100, 17), (64, 576, 200), (40, 1152, 3), (130, 16, 600), (24, 2304, 49)], tables)
    func gemmMatchesTheIntegerTwin(_ dims: (Int, Int, Int), table: Table) throws {
        let (m, k, n) = dims
        let kernels = table.table.pointee
        let a = Self.values(m * k, seed: 31, in: -1...1)
        // Activations mostly in range, some negative (clamped to 0) and some past 255 steps (clamped to 255).
        let ldb = n + 3
        let b = Self.values(k * ldb, seed: 32, in: -0.1...1.2)
        let inputScale = Float(1) / 255
        let panelRows = Int(kernels.gemm_mr)
        let panels = (m + panelRows - 1) / panelRows
        let bias = Self.values(panels * panelRows, seed: 33, in: -1...1)

        var packed = [Float](repeating: .nan, count: kernels.gemm_packed_size(Int32(m), Int32(k)))
        kernels.gemm_pack_int8(Int32(m), Int32(k), a, Int32(k), inputScale, &packed)
        let groups = (k + 3) / 4
        var operand = [Float](repeating: .nan, count: groups * ldb)
        kernels.operand_quantize(b, Int32(k), Int32(n), ldb, inputScale, &operand, ldb)

        // The operand's bytes are the twin's quantization, four rows to an element.
        let bytes = operand.withUnsafeBytes { Array($0.bindMemory(to: UInt8.self)) }
        for q in 0..<groups {
            for j in 0..<n {
                for t in 0..<4 {
                    let row = 4 * q + t
                    let want = row < k ? Self.quantized(b[row * ldb + j], scale: inputScale) : 0
                    if Int(bytes[(q * ldb + j) * 4 + t]) != want {
                        Issue.record("operand row \(row) column \(j): \(bytes[(q * ldb + j) * 4 + t]) ≠ \(want)")
                        return
                    }
                }
            }
        }

        for (withBias, relu) in [(true, true), (false, false)] {
            var expected = [Float](repeating: 0, count: m * n)
            for r in 0..<m {
                let row = a[r * k..<(r + 1) * k]
                let largest = row.map(abs).max() ?? 0
                let scale = largest / table.limit
                let weights = row.map {
                    largest == 0 ? 0 : Int(min(table.limit, max(-table.limit, ($0 / scale).rounded(.toNearestOrEven))))
                }
                let outputScale = scale * inputScale
                for j in 0..<n {
                    var sum = 0
                    for i in 0..<k { sum += weights[i] * Self.quantized(b[i * ldb + j], scale: inputScale) }
                    let y = (withBias ? bias[r] : 0).addingProduct(Float(Int32(sum)), outputScale)
                    expected[r * n + j] = relu ? max(y, 0) : y
                }
            }
            for parts in [1, 3] {
                var c = [Float](repeating: .nan, count: m * n)
                for part in 0..<parts {
                    kernels.gemm(
                        packed, Int32(m), Int32(k), Int32(panels * part / parts), Int32(panels * (part + 1) / parts), Int32(n), operand,
                        Int32(ldb), &c, Int32(n), withBias ? bias : nil, relu ? 1 : 0, nil, nil)
                }
                let wrong = zip(c, expected).filter { $0 != $1 }.count
                #expect(wrong == 0, "\(m)×\(k)·\(k)×\(n) \(table.name) bias \(withBias) parts \(parts): \(wrong) outputs differ")
            }
        }
    }

    /// `gemm_quantized` writes exactly what `operand_quantize` makes of `gemm`'s fp32 output with ReLU: whole and partial
    /// panels, column counts that leave remainders after groups of 4, rows not a multiple of 4, split over panel ranges.
    @Test(arguments: [(32, 64, 14), (16, 64, 5), (64, 128, 13), (33, 100, 17), (130, 16, 600), (6, 36, 3), (96, 576, 1)], tables)
    func quantizedOutputIsTheQuantizedFP32Output(_ dims: (Int, Int, Int), table: Table) {
        let (m, k, n) = dims
        let kernels = table.table.pointee
        let a = Self.values(m * k, seed: 41, in: -1...1)
        let b = Self.values(k * n, seed: 42, in: -0.1...1.2)
        let (inputScale, outputScale): (Float, Float) = (1 / 255, 1 / 9)
        let panelRows = Int(kernels.gemm_mr)
        let panels = (m + panelRows - 1) / panelRows
        let bias = Self.values(panels * panelRows, seed: 43, in: -1...1)
        var packed = [Float](repeating: 0, count: kernels.gemm_packed_size(Int32(m), Int32(k)))
        kernels.gemm_pack_int8(Int32(m), Int32(k), a, Int32(k), inputScale, &packed)
        var operand = [Float](repeating: 0, count: (k + 3) / 4 * n)
        kernels.operand_quantize(b, Int32(k), Int32(n), n, inputScale, &operand, n)
        var fp32 = [Float](repeating: .nan, count: m * n)
        kernels.gemm(packed, Int32(m), Int32(k), 0, Int32(panels), Int32(n), operand, Int32(n), &fp32, Int32(n), bias, 1, nil, nil)
        var expected = [Float](repeating: 0, count: (m + 3) / 4 * n)
        kernels.operand_quantize(fp32, Int32(m), Int32(n), n, outputScale, &expected, n)
        for parts in [1, 2] {
            // Rows past the output's elements are left alone: a wider ldc than n.
            let ldc = n + 2
            var quads = [Float](repeating: .nan, count: (m + 3) / 4 * ldc)
            for part in 0..<parts {
                kernels.gemm_quantized(
                    packed, Int32(m), Int32(k), Int32(panels * part / parts), Int32(panels * (part + 1) / parts), Int32(n), operand,
                    Int32(n), &quads, Int32(ldc), bias, outputScale)
            }
            var wrong = 0
            for g in 0..<(m + 3) / 4 {
                for j in 0..<n where quads[g * ldc + j].bitPattern != expected[g * n + j].bitPattern { wrong += 1 }
                #expect(quads[g * ldc + n].isNaN, "\(table.name): column past n written")
            }
            #expect(wrong == 0, "\(m)×\(k)·\(k)×\(n) \(table.name) parts \(parts): \(wrong) elements differ")
        }
    }

    /// `scale_add_relu_quantize` writes what `scale_add_relu` writes (bit for bit) and, as quads, what `operand_quantize`
    /// makes of it: whole vectors and tails, in place and into another buffer.
    @Test(arguments: [1, 7, 16, 49, 200], tables)
    func residualAddQuantizesItsOutput(count: Int, table: Table) {
        let kernels = table.table.pointee
        let fp32 = ck_kernels_for(table.table.pointee.isa, CK_FP32)!.pointee
        let stride = count + 5
        let x = Self.values(4 * stride, seed: 51, in: -2...2)
        let shortcut = Self.values(4 * stride, seed: 52, in: -1...1)
        let scales: [Float] = [0.25, 1, 0.7, 1.5]
        let quadScale: Float = 1 / 60
        var expected = [Float](repeating: 0, count: 4 * stride)
        for t in 0..<4 {
            x.withUnsafeBufferPointer { x in
                shortcut.withUnsafeBufferPointer { shortcut in
                    expected.withUnsafeMutableBufferPointer {
                        fp32.scale_add_relu(
                            x.baseAddress! + t * stride, scales[t], shortcut.baseAddress! + t * stride, $0.baseAddress! + t * stride, count)
                    }
                }
            }
        }
        var expectedQuads = [Float](repeating: 0, count: count)
        kernels.operand_quantize(expected, 4, Int32(count), stride, quadScale, &expectedQuads, count)
        for inPlace in [false, true] {
            var out = inPlace ? x : [Float](repeating: .nan, count: 4 * stride)
            var quads = [Float](repeating: .nan, count: count + 1)
            if inPlace {
                out.withUnsafeMutableBufferPointer {
                    kernels.scale_add_relu_quantize(
                        $0.baseAddress!, stride, scales, 1, shortcut, stride, $0.baseAddress!, stride, quadScale, &quads, count)
                }
            } else {
                kernels.scale_add_relu_quantize(x, stride, scales, 1, shortcut, stride, &out, stride, quadScale, &quads, count)
            }
            let wrongOutputs = (0..<4).flatMap { t in (0..<count).map { t * stride + $0 } }.filter {
                out[$0].bitPattern != expected[$0].bitPattern
            }
            #expect(wrongOutputs.isEmpty, "\(table.name) count \(count) in place \(inPlace): outputs \(wrongOutputs.prefix(4)) differ")
            let wrongQuads = (0..<count).filter { quads[$0].bitPattern != expectedQuads[$0].bitPattern }
            #expect(
                wrongQuads.isEmpty && quads[count].isNaN, "\(table.name) count \(count) in place \(inPlace): quads \(wrongQuads.prefix(4))")
        }
    }

    /// The widest sums the kernels can meet do not overflow or saturate: all weights at ±limit, all inputs at 255, K =
    /// 4608 (layer4's 3×3 unfolded).
    @Test(arguments: tables)
    func extremeValuesAreExact(table: Table) {
        let kernels = table.table.pointee
        let (m, k, n) = (kernels.gemm_mr, Int32(4608), Int32(3))
        let a = (0..<Int(m) * Int(k)).map { i -> Float in i % 3 == 0 ? -1 : 1 }
        let b = [Float](repeating: 1, count: Int(k) * Int(n))
        var packed = [Float](repeating: 0, count: kernels.gemm_packed_size(m, k))
        kernels.gemm_pack_int8(m, k, a, k, 1 / Float(255), &packed)
        var operand = [Float](repeating: 0, count: Int(k) / 4 * Int(n))
        kernels.operand_quantize(b, k, n, Int(n), 1 / Float(255), &operand, Int(n))
        var c = [Float](repeating: .nan, count: Int(m) * Int(n))
        kernels.gemm(packed, m, k, 0, 1, n, operand, n, &c, n, nil, 0, nil, nil)
        for r in 0..<Int(m) {
            // Row r: weights ±limit, 1536 of them negative; inputs 255: Σ = limit · 255 · (3072 − 1536).
            let sum = Int(table.limit) * 255 * (Int(k) - 2 * Int(k) / 3)
            let want = Float(0).addingProduct(Float(Int32(sum)), (1 / table.limit) * (1 / Float(255)))
            #expect(c[r * Int(n)] == want && c[r * Int(n) + 2] == want, "\(table.name) row \(r)")
        }
    }
}
