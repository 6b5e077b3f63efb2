import CKernels
import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which kernels the engine plans its convolutions with (`serve --kernels`, env `SERESNET_KERNELS`).
public enum KernelSelection: String, Sendable, CaseIterable {
    /// The widest of the engine's own kernels this CPU runs (AVX-512, else AVX2 + FMA), OpenBLAS without either.
    case auto
    /// The AVX-512 kernels (falls back to AVX2, then OpenBLAS, on CPUs without them).
    case avx512
    /// The AVX2 + FMA kernels, as on CPUs without AVX-512 (falls back to OpenBLAS without AVX2).
    case avx2
    /// OpenBLAS for every convolution: the reference path.
    case blas

    /// The table the engine plans with for `precision` on this CPU (baseline: OpenBLAS for the products), nil when it
    /// cannot (`Precision.problem` says why).
    public func table(precision: Precision) -> KernelTable? {
        switch precision {
        case .fp32: return KernelTable(instructionSet)
        case .bf16: return instructionSet == .avx512 ? KernelTable(.avx512, precision: .bf16) : nil
        // AVX-512 without VNNI (Skylake-SP) runs the AVX2 int8 kernels.
        case .int8:
            guard let instructionSet else { return nil }
            return (instructionSet == .avx512 ? KernelTable(.avx512, precision: .int8) : nil) ?? KernelTable(.avx2, precision: .int8)
        }
    }

    /// The instruction set the engine's kernels will run with on this CPU; nil means OpenBLAS.
    public var instructionSet: KernelInstructionSet? {
        let requested: ck_isa
        switch self {
        case .auto, .avx512: requested = CK_ISA_AVX512
        case .avx2: requested = CK_ISA_AVX2
        case .blas: return nil
        }
        return KernelInstructionSet(ck_usable(requested))
    }
}

/// An instruction set the engine's own kernels are compiled for.
public enum KernelInstructionSet: String, Sendable {
    case avx2
    case avx512

    init?(_ isa: ck_isa) {
        switch isa {
        case CK_ISA_AVX512: self = .avx512
        case CK_ISA_AVX2: self = .avx2
        default: return nil
        }
    }

    var isa: ck_isa { self == .avx512 ? CK_ISA_AVX512 : CK_ISA_AVX2 }

    /// The widest instruction set of this CPU, nil without AVX2 + FMA.
    public static var best: KernelInstructionSet? { KernelInstructionSet(ck_best_isa()) }
}

/// The number format of the products' operands (`serve --precision`, env `SERESNET_PRECISION`). Accumulation, bias,
/// ReLU, SE, the residual and everything between products stay fp32 either way.
public enum Precision: String, Sendable, CaseIterable {
    /// fp32: timm's answer to float precision (the default).
    case fp32
    /// bf16 weights and activations in the products (AVX512_BF16's VDPBF16PS), fp32 accumulation.
    case bf16
    /// s8 weights per output channel and u8 activations per tensor (scales from `seresnet calibrate`), s32 accumulation
    /// (VPDPBUSD on AVX-512 VNNI, VPMADDUBSW on AVX2); the stem, SE and everything between products stay fp32.
    case int8

    var ck: ck_precision {
        switch self {
        case .fp32: return CK_FP32
        case .bf16: return CK_BF16
        case .int8: return CK_INT8
        }
    }

    /// Why this CPU cannot run this precision with `kernels`, in words for a start-up error; nil when it can.
    public func problem(kernels: KernelSelection) -> String? {
        if self == .int8 {
            if kernels.table(precision: .int8) != nil { return nil }
            return kernels == .blas || KernelInstructionSet.best == nil
                ? "--precision int8 runs on the engine's own kernels (AVX2 or AVX-512 VNNI): use --kernels auto, or --precision fp32 on a CPU without AVX2"
                : "--precision int8 cannot run with --kernels \(kernels.rawValue) on this CPU: use --kernels auto"
        }
        guard self == .bf16 else { return nil }
        if kernels.table(precision: .bf16) != nil { return nil }
        if !KernelTable.cpuHasBF16 {
            return "--precision bf16 needs a CPU with AVX512_BF16 (VDPBF16PS: Zen 4 and later, Xeon Cooper Lake and later); "
                + "this CPU lacks it: use --precision fp32"
        }
        return "--precision bf16 runs on the engine's AVX-512 kernels, not with --kernels \(kernels.rawValue): use --kernels auto "
            + "or --precision fp32"
    }
}

/// One of CKernels' dispatch tables (`ck_kernels_for`): an instruction set's kernels for one precision. Every kernel
/// call goes through the table a plan chose at load; `baseline` (x86-64 without AVX2) has every operation but the
/// products, which then run on OpenBLAS.
public struct KernelTable: @unchecked Sendable, Equatable {
    let table: UnsafePointer<ck_kernels>

    /// The table of `instructionSet` (nil: baseline) and `precision`, nil when this CPU cannot run it.
    public init?(_ instructionSet: KernelInstructionSet?, precision: Precision = .fp32) {
        guard let table = ck_kernels_for(instructionSet?.isa ?? CK_ISA_NONE, precision.ck) else { return nil }
        self.table = table
    }

    /// Baseline x86-64: every CPU runs it.
    public static let baseline = KernelTable(nil)!

    /// Whether this CPU has AVX512_BF16 (and AVX-512).
    public static var cpuHasBF16: Bool { ck_has_avx512_bf16() != 0 }

    public static func == (a: KernelTable, b: KernelTable) -> Bool { a.table == b.table }

    /// Nil for baseline x86-64.
    public var instructionSet: KernelInstructionSet? { KernelInstructionSet(table.pointee.isa) }
    public var precision: Precision {
        switch table.pointee.precision {
        case CK_BF16: return .bf16
        case CK_INT8: return .int8
        default: return .fp32
        }
    }
    /// Whether products can write their output as the next product's u8 operand (int8 tables: `gemm_quantized`).
    var quantizesOutput: Bool { table.pointee.gemm_quantized != nil }
    /// Whether the products can end a bottleneck in their epilogue (`gemm_residual`: fp32 and bf16 tables).
    var hasResidualProducts: Bool { table.pointee.gemm_residual != nil }
    /// Whether Winograd's output transform can write its output as this table's 1×1 operand (bf16 tables:
    /// `winograd_output_pairs`).
    var writesWinogradPairs: Bool { table.pointee.winograd_output_pairs != nil }
    /// Whether the table has the engine's products (packed GEMM, direct stem); baseline's run on OpenBLAS.
    public var hasProducts: Bool { table.pointee.gemm_mr > 0 }
    /// "avx512", "avx512 bf16", "avx2 int8 (AVX-VNNI)", "baseline": what `/v1/model` and `bench` report.
    public var name: String { String(cString: table.pointee.name) }
    /// int8 tables: the weights' range, ±127 with VNNI, ±63 on AVX2's VPMADDUBSW; 0 for other tables.
    var int8WeightLimit: Int { Int(table.pointee.int8_weight_limit) }

    /// Output channels one micro-kernel call computes (packed weights come in panels of this many rows).
    var panelRows: Int { Int(table.pointee.gemm_mr) }
    /// K values one element of a product operand holds (2 for bf16 pairs).
    var kGroup: Int { Int(table.pointee.k_group) }
    /// Floats of per-thread scratch a product of any table needs.
    static let productScratchFloats = Int(CK_GEMM_SCRATCH_FLOATS)

    /// Measured single-core multiply-add ceiling in GFLOP/s: 12 independent vector multiply-adds per round on the
    /// calling thread (`peak_fma_loop`: FMAs, or VDPBF16PS for bf16), the best of `repeats` runs of `rounds` rounds; 0
    /// for baseline.
    public func peakGigaflops(rounds: Int = 20_000_000, repeats: Int = 3) -> Double {
        guard let peak = table.pointee.peak_fma_loop else { return 0 }
        var best = 0.0
        for _ in 0..<repeats {
            var checksum = 0.0
            let seconds = peak(rounds, &checksum)
            precondition(checksum.isFinite)
            best = max(best, Double(rounds) * 12 * Double(table.pointee.peak_flops_per_instruction) / seconds / 1e9)
        }
        return best
    }

    /// `peakGigaflops` on `threads` threads at once, summed: the ceiling for an engine with that many threads.
    public func peakGigaflops(threads: Int, rounds: Int = 20_000_000) -> Double {
        let lock = NSLock()
        var total = 0.0
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let rate = peakGigaflops(rounds: rounds, repeats: 2)
            lock.withLock { total += rate }
        }
        return total
    }

    /// A product's operand from fp32 rows (`rows` × `columns`, rows `ldb` apart) in this table's format, written at `out`
    /// with rows `ldOut` apart: bf16 pairs ((rows + 1)/2 rows); for fp32 tables nothing to do (returns false: use the
    /// rows as they are). `out` may be `b` with ldOut = ldb.
    /// For int8 tables: u8 at `scale` (the product's input scale), four rows to an element ((rows + 3)/4 rows).
    @discardableResult
    func packOperand(
        _ b: UnsafePointer<Float>, rows: Int, columns: Int, ldb: Int, into out: UnsafeMutablePointer<Float>, ldOut: Int, scale: Float = 1
    ) -> Bool {
        if let quantize = table.pointee.operand_quantize {
            if rows > 0 && columns > 0 { quantize(b, Int32(rows), Int32(columns), ldb, scale, out, ldOut) }
            return true
        }
        guard let pack = table.pointee.operand_pack else { return false }
        if rows > 0 && columns > 0 { pack(b, Int32(rows), Int32(columns), ldb, out, ldOut) }
        return true
    }

    /// Rows of a product operand for `rows` K values (pairs for bf16).
    func operandRows(_ rows: Int) -> Int { (rows + kGroup - 1) / kGroup }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// `count` zeroed floats for the kernels, free with `deallocate()`. Buffers of 2 MiB or more start on a 2 MiB
    /// boundary and ask for transparent huge pages (`MADV_HUGEPAGE`; Linux's default THP mode is "madvise"): the
    /// weights are streamed from memory on every pass, and 4 KiB pages cost a TLB miss every 4 KiB of them. Smaller
    /// buffers are cache-line aligned.
    static func allocateAligned(_ count: Int) -> UnsafeMutablePointer<Float> {
        let bytes = 4 * max(1, count)
        let huge = 2 << 20
        let raw: UnsafeMutableRawPointer
        if bytes >= huge {
            let rounded = (bytes + huge - 1) / huge * huge
            raw = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: huge)
            #if os(Linux)
                _ = madvise(raw, rounded, MADV_HUGEPAGE)
            #endif
        } else {
            raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        }
        let pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
        return pointer
    }
}

/// A weight matrix (output channels × inputs·k·k) and its bias, packed once at load into the panel order the
/// micro-kernel reads (the table's `gemm_pack`: fp32, or bf16 pairs), so no inference re-packs weights as a BLAS call does.
final class PackedMatrix: @unchecked Sendable {
    let kernels: KernelTable
    let rows: Int
    let columns: Int
    /// Panels of `kernels.panelRows` rows; the last may be padded with zero rows.
    let panels: Int
    private let data: UnsafeMutablePointer<Float>
    /// Whether `data` lives in a shared huge-page chunk (`HugePageChunks`), else it was `allocateAligned`.
    private let pooled: Bool
    /// One value per padded row, or nil for none.
    private let bias: UnsafeMutablePointer<Float>?
    /// int8 tables: the scale the product's operand is quantized with (its input's, from calibration); 1 otherwise.
    let operandScale: Float

    /// Packs the row-major `rows × columns` matrix `weights`, with `bias` (one per row) if given, for `kernels` (which
    /// must have products).
    /// An int8 table quantizes the weights per row for operands quantized at `inputScale` (required there).
    init(_ weights: UnsafePointer<Float>, rows: Int, columns: Int, bias: [Float]?, kernels: KernelTable, inputScale: Float? = nil) {
        precondition(rows >= 1 && columns >= 1 && bias.map { $0.count == rows } ?? true && kernels.hasProducts)
        precondition((kernels.precision == .int8) == (inputScale != nil), "int8 products, and only they, take an input scale")
        self.kernels = kernels
        self.rows = rows
        self.columns = columns
        operandScale = inputScale ?? 1
        let panelRows = kernels.panelRows
        panels = (rows + panelRows - 1) / panelRows
        let floats = kernels.table.pointee.gemm_packed_size(Int32(rows), Int32(columns))
        pooled = HugePageChunks.takes(bytes: 4 * floats)
        data = pooled ? HugePageChunks.shared.allocate(floats: floats) : .allocateAligned(floats)
        if let inputScale {
            kernels.table.pointee.gemm_pack_int8(Int32(rows), Int32(columns), weights, Int32(columns), inputScale, data)
        } else {
            kernels.table.pointee.gemm_pack(Int32(rows), Int32(columns), weights, Int32(columns), data)
        }
        if let bias {
            let padded = UnsafeMutablePointer<Float>.allocateAligned(panels * panelRows)
            bias.withUnsafeBufferPointer { padded.update(from: $0.baseAddress!, count: rows) }
            self.bias = padded
        } else {
            self.bias = nil
        }
    }

    deinit {
        if pooled { HugePageChunks.shared.free(data) } else { data.deallocate() }
        bias?.deallocate()
    }

    /// Rows per panel.
    var panelRows: Int { kernels.panelRows }

    /// `multiply` over input columns `kRange` only (bounds multiples of `kernels.kGroup`, or ending at `columns`), with
    /// the bias if `withBias`, no ReLU, for all panels: one thread's share of a product split by K (`b` is the whole
    /// operand; the part reads its rows). Returns false, computing nothing, where the kernels cannot (not the AVX-512
    /// small-n kernel: more than 200 columns).
    func multiplyPartial(
        kRange: Range<Int>, n: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, withBias: Bool
    ) -> Bool {
        kernels.table.pointee.gemm_partial(
            data, Int32(rows), Int32(columns), Int32(kRange.lowerBound), Int32(kRange.upperBound), 0, Int32(panels), Int32(n), b,
            Int32(ldb), c, Int32(ldc), withBias ? bias : nil, 0) != 0
    }

    /// c[r, 0..<n] = relu((bias[r] + Σ_k W[r, k] · b[k, 0..<n]) · scale[r] + shortcut[r, 0..<n]) for the rows of
    /// `panels` (all when nil; `gemm_residual`, scale nil: 1): a bottleneck's conv3, SE's scale, residual add and ReLU at
    /// once. c, scale and shortcut point at row 0.
    /// `shortcut` (rows `ldShortcut` apart) may be `c` itself when K is one block (`CK_GEMM_K_BLOCK` elements).
    /// With `shortcutPairs` / `outputPairs` (bf16 tables, K one block) the shortcut / c are bf16 pair rows (rows 2q and
    /// 2q + 1 in the pair row q), as the next 1×1 reads its operand; in place both or neither.
    func multiply(
        panels: Range<Int>? = nil, n: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        scale: UnsafePointer<Float>?, shortcut: UnsafePointer<Float>, ldShortcut: Int, shortcutPairs: Bool = false,
        outputPairs: Bool = false, scratch: UnsafeMutablePointer<Float>
    ) {
        let panels = panels ?? 0..<self.panels
        precondition(
            UnsafePointer(c) != shortcut || kernels.operandRows(columns) <= Int(CK_GEMM_K_BLOCK), "in place only over one block of K")
        precondition(
            !(shortcutPairs || outputPairs)
                || (kernels.kGroup == 2 && rows % 2 == 0 && kernels.operandRows(columns) <= Int(CK_GEMM_K_BLOCK)
                    && (UnsafePointer(c) != shortcut || shortcutPairs == outputPairs)),
            "pairs in the residual epilogue: bf16, whole pairs of rows, one block of K, in place both or neither")
        guard n > 0 && !panels.isEmpty else { return }
        let formats = (shortcutPairs ? CK_RESIDUAL_SHORTCUT_PAIRS : 0) | (outputPairs ? CK_RESIDUAL_OUTPUT_PAIRS : 0)
        kernels.table.pointee.gemm_residual(
            data, Int32(rows), Int32(columns), Int32(panels.lowerBound), Int32(panels.upperBound), Int32(n), b, Int32(ldb), c,
            Int32(ldc), bias, scale, shortcut, Int32(ldShortcut), Int32(formats), scratch)
    }

    /// c[r, 0..<n] = act(bias[r] + Σ_k W[r, k] · b[k, 0..<n]) for the rows of `panels`; b in the kernels' operand format
    /// (`KernelTable.packOperand`: fp32 rows, or bf16 pair rows) with rows `ldb` apart, c rows `ldc` apart (c points at
    /// row 0). Single-threaded; `scratch` holds `KernelTable.productScratchFloats`. `next`, a matrix of the same shape the
    /// caller multiplies next over the same panels, has its first panel prefetched during the last one here.
    ///
    /// With `outputScale` (int8 tables: the next product's input scale), C is that product's operand instead, u8 quads with
    /// ReLU (`gemm_quantized`): rows 4g…4g+3 in the bytes of c[g·ldc + j].
    func multiply(
        panels: Range<Int>, n: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, relu: Bool,
        scratch: UnsafeMutablePointer<Float>, next: PackedMatrix? = nil, outputScale: Float? = nil
    ) {
        guard !panels.isEmpty && n > 0 else { return }
        if let outputScale {
            kernels.table.pointee.gemm_quantized(
                data, Int32(rows), Int32(columns), Int32(panels.lowerBound), Int32(panels.upperBound), Int32(n), b, Int32(ldb), c,
                Int32(ldc), bias, outputScale)
            return
        }
        precondition(next.map { $0.rows == rows && $0.columns == columns && $0.kernels == kernels } ?? true)
        kernels.table.pointee.gemm(
            data, Int32(rows), Int32(columns), Int32(panels.lowerBound), Int32(panels.upperBound), Int32(n), b, Int32(ldb), c,
            Int32(ldc), bias, relu ? 1 : 0, scratch, next.map { UnsafePointer($0.data) })
    }
}

/// The packed weights of 64 KiB up to 2 MiB — most matrices: the 1×1s', each of Winograd's α² products, SE's — share
/// chunks of 2 MiB aligned to 2 MiB and advised to be transparent huge pages, as `allocateAligned` gives larger buffers.
/// Every pass streams all the weights, and on 4 KiB pages those matrices cost a TLB miss every 4 KiB of them (about 50
/// MB of a bf16 engine's weights were in 4 KiB pages). Each allocation goes into the first chunk with room for it,
/// cache-line aligned; a chunk is freed when the last allocation in it is.
final class HugePageChunks: @unchecked Sendable {
    static let shared = HugePageChunks()
    static let chunkBytes = 2 << 20

    /// Whether a buffer of `bytes` belongs in a chunk: smaller ones are not worth a TLB entry of their own, larger ones get
    /// huge pages from `allocateAligned`.
    static func takes(bytes: Int) -> Bool { bytes >= 64 << 10 && bytes < chunkBytes }

    private struct Chunk {
        let base: UnsafeMutableRawPointer
        var used: Int
        var live: Int
    }
    private let lock = NSLock()
    private var chunks: [Chunk] = []

    /// `floats` zeroed floats (at most a chunk's), free with `free`.
    func allocate(floats: Int) -> UnsafeMutablePointer<Float> {
        let bytes = (4 * floats + 63) / 64 * 64
        precondition(floats >= 1 && bytes <= Self.chunkBytes)
        lock.lock()
        defer { lock.unlock() }
        var index = chunks.firstIndex { $0.used + bytes <= Self.chunkBytes }
        if index == nil {
            let base = UnsafeMutableRawPointer.allocate(byteCount: Self.chunkBytes, alignment: Self.chunkBytes)
            #if os(Linux)
                _ = madvise(base, Self.chunkBytes, MADV_HUGEPAGE)
            #endif
            chunks.append(Chunk(base: base, used: 0, live: 0))
            index = chunks.count - 1
        }
        let pointer = (chunks[index!].base + chunks[index!].used).bindMemory(to: Float.self, capacity: floats)
        chunks[index!].used += bytes
        chunks[index!].live += 1
        pointer.initialize(repeating: 0, count: floats)
        return pointer
    }

    func free(_ pointer: UnsafeMutablePointer<Float>) {
        let base = UnsafeMutableRawPointer(bitPattern: UInt(bitPattern: pointer) & ~UInt(Self.chunkBytes - 1))!
        lock.lock()
        defer { lock.unlock() }
        let index = chunks.firstIndex { $0.base == base }!
        chunks[index].live -= 1
        if chunks[index].live == 0 { chunks.remove(at: index).base.deallocate() }
    }
}
