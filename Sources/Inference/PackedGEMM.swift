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

    /// Output channels one micro-kernel call computes (packed weights come in panels of this many rows).
    var panelRows: Int { Int(ck_gemm_mr(isa)) }

    /// Floats per vector register.
    public var vectorWidth: Int { Int(ck_vector_width(isa)) }

    /// The widest instruction set of this CPU, nil without AVX2 + FMA.
    public static var best: KernelInstructionSet? { KernelInstructionSet(ck_best_isa()) }

    /// Measured single-core fused multiply-add ceiling in GFLOP/s: 12 independent vector FMAs per round on the
    /// calling thread (see `ck_peak_fma_loop`), the best of `repeats` runs of `rounds` rounds.
    public func peakGigaflops(rounds: Int = 20_000_000, repeats: Int = 3) -> Double {
        var best = 0.0
        for _ in 0..<repeats {
            var checksum = 0.0
            let seconds = ck_peak_fma_loop(isa, rounds, &checksum)
            precondition(checksum.isFinite)
            best = max(best, Double(rounds) * 12 * 2 * Double(vectorWidth) / seconds / 1e9)
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
/// micro-kernel reads (`ck_gemm_pack`), so no inference re-packs weights as a BLAS call does.
final class PackedMatrix: @unchecked Sendable {
    let instructionSet: KernelInstructionSet
    let rows: Int
    let columns: Int
    /// Panels of `instructionSet.panelRows` rows; the last may be padded with zero rows.
    let panels: Int
    private let data: UnsafeMutablePointer<Float>
    /// One value per padded row, or nil for none.
    private let bias: UnsafeMutablePointer<Float>?

    /// Packs the row-major `rows × columns` matrix `weights`, with `bias` (one per row) if given.
    init(_ weights: UnsafePointer<Float>, rows: Int, columns: Int, bias: [Float]?, instructionSet: KernelInstructionSet) {
        precondition(rows >= 1 && columns >= 1 && bias.map { $0.count == rows } ?? true)
        self.instructionSet = instructionSet
        self.rows = rows
        self.columns = columns
        let panelRows = instructionSet.panelRows
        panels = (rows + panelRows - 1) / panelRows
        let size = ck_gemm_packed_size(instructionSet.isa, Int32(rows), Int32(columns))
        data = .allocateAligned(size)
        ck_gemm_pack(instructionSet.isa, Int32(rows), Int32(columns), weights, Int32(columns), data)
        if let bias {
            let padded = UnsafeMutablePointer<Float>.allocateAligned(panels * panelRows)
            bias.withUnsafeBufferPointer { padded.update(from: $0.baseAddress!, count: rows) }
            self.bias = padded
        } else {
            self.bias = nil
        }
    }

    deinit {
        data.deallocate()
        bias?.deallocate()
    }

    /// Rows per panel.
    var panelRows: Int { instructionSet.panelRows }

    /// `multiply` over input columns `kRange` only (a range of whole 256-deep K blocks, or ending at `columns`), with
    /// the bias if `withBias`, no ReLU, for all panels: one thread's share of a product split by K. Returns false,
    /// computing nothing, where the kernels cannot (not the AVX-512 small-n kernel: more than 200 columns).
    func multiplyPartial(
        kRange: Range<Int>, n: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, withBias: Bool
    ) -> Bool {
        ck_gemm_partial(
            instructionSet.isa, data, Int32(rows), Int32(columns), Int32(kRange.lowerBound), Int32(kRange.upperBound), 0, Int32(panels),
            Int32(n), b, Int32(ldb), c, Int32(ldc), withBias ? bias : nil, 0) != 0
    }

    /// Floats of scratch each thread calling `multiply` needs.
    static var scratchFloats: Int { ck_gemm_scratch_size() }

    /// c[r, 0..<n] = act(bias[r] + Σ_k W[r, k] · b[k, 0..<n]) for the rows of `panels`; b rows `ldb` apart, c rows
    /// `ldc` apart (c points at row 0). Single-threaded; `scratch` holds `scratchFloats`. `next`, a matrix of the same
    /// shape the caller multiplies next over the same panels, has its first panel prefetched during the last one here.
    func multiply(
        panels: Range<Int>, n: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, relu: Bool,
        scratch: UnsafeMutablePointer<Float>, next: PackedMatrix? = nil
    ) {
        guard !panels.isEmpty && n > 0 else { return }
        precondition(next.map { $0.rows == rows && $0.columns == columns && $0.instructionSet == instructionSet } ?? true)
        ck_gemm(
            instructionSet.isa, data, Int32(rows), Int32(columns), Int32(panels.lowerBound), Int32(panels.upperBound), Int32(n), b,
            Int32(ldb), c, Int32(ldc), bias, relu ? 1 : 0, scratch, next.map { UnsafePointer($0.data) })
    }
}
