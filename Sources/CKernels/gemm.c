#include "internal.h"
#include "lanes.h"

#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// Up to this many columns, AVX-512 uses the small-n kernel (no padding lanes; see gemm_kernel.inc).
#ifndef CK_NARROW
#define CK_NARROW 200
#endif

// ---- AVX2 + FMA: 6 rows × 16 columns, 12 accumulators (of 16 ymm registers).
#define V __m256
#define VW 8
#define PR 6
#define SR 6
#define NRV 2
#define MCP 16
#define PREFETCH_C 0
#define TARGET __attribute__((target("avx2,fma")))
#define NAME(x) x##_avx2

#define VLOAD _mm256_loadu_ps
#define VSTORE _mm256_storeu_ps
#define VFMA _mm256_fmadd_ps
#define VFMA32 _mm256_fmadd_ps
#define VBCAST _mm256_broadcast_ss
#define VSET1 _mm256_set1_ps
#define VMAX _mm256_max_ps
#define VZERO _mm256_setzero_ps
#include "gemm_kernel.inc"

// ---- AVX-512F: 8 rows × 32 columns, 16 accumulators (of 32 zmm registers); 8 rows, not 12, because every
// layer's output channels are a multiple of 8 (64 = 5 × 12 + 4 would compute 11% padding). Panels are packed
// 32 rows deep for the small-n kernel (32 rows × 12 columns, 24 accumulators), which reads a panel's rows as two
// vectors per k; the 8-row kernel reads a quarter of the panel.
#define V __m512
#define VW 16
#define PR 32
#define SR 8
#define NRV 2
#define MCP 3
#define TRANSPOSED_KERNEL
#define PREFETCH_C 1
#define TARGET __attribute__((target("avx512f")))
#define NAME(x) x##_avx512

// c[i·ldc] = v[i] for the first `count` lanes.
TARGET static inline void scatter_avx512(float *c, int ldc, __m512 v, int count) {
    if (count <= 0) return;
    __m512i index = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(ldc));
    _mm512_mask_i32scatter_ps(c, lanes_below_avx512(count), index, v, 4);
}
#define VLOAD _mm512_loadu_ps
#define VSTORE _mm512_storeu_ps
#define VFMA _mm512_fmadd_ps
#define VFMA32 _mm512_fmadd_ps
#define VBCAST(p) _mm512_set1_ps(*(p))
#define VSET1 _mm512_set1_ps
#define VMAX _mm512_max_ps
#define VZERO _mm512_setzero_ps
#include "gemm_kernel.inc"


// ---- AVX-512 with AVX512_BF16: the AVX-512 kernels over bf16 pairs. Each 4-byte element of packed A and of B holds
// K values k and k + 1 (k even) as bf16, and VDPBF16PS adds both products into an fp32 lane, so the same loops run over
// K/2 elements with the FMA replaced: twice the multiply-adds per instruction, half the bytes of weights.
#define V __m512
#define VW 16
#define PR 32
#define SR 8
#define NRV 2
#define MCP 3
#define TRANSPOSED_KERNEL
#define PREFETCH_C 1
#define NO_PEAK
#define TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))
#define NAME(x) x##_avx512bf16
#define load_part_avx512bf16 load_part_avx512
#define store_part_avx512bf16 store_part_avx512
#define scatter_avx512bf16 scatter_avx512
#define transpose_store_avx512bf16 transpose_store_avx512
#define transpose_store_residual_avx512bf16 transpose_store_residual_avx512
#define PAIRS_EPILOGUE
#define VLOAD _mm512_loadu_ps
#define VSTORE _mm512_storeu_ps
#define VFMA(a, b, c) _mm512_dpbf16_ps((c), (__m512bh)(a), (__m512bh)(b))
#define VFMA32 _mm512_fmadd_ps
#define VBCAST(p) _mm512_set1_ps(*(p))
#define VSET1 _mm512_set1_ps
#define VMAX _mm512_max_ps
#define VZERO _mm512_setzero_ps
#include "gemm_kernel.inc"

ck_isa ck_best_isa(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return CK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CK_ISA_AVX2;
    return CK_ISA_NONE;
}

ck_isa ck_usable(ck_isa isa) {
    ck_isa best = ck_best_isa();
    return isa < best ? isa : best;
}

int ck_has_avx512_bf16(void) {
    __builtin_cpu_init();
    // The bf16 kernels also use AVX-512 BW (word permutes), which every CPU with AVX512_BF16 has.
    return ck_best_isa() == CK_ISA_AVX512 && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16");
}

int ck_has_avx512_vnni(void) {
    __builtin_cpu_init();
    return ck_best_isa() == CK_ISA_AVX512 && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
}

int ck_has_avx_vnni(void) {
    __builtin_cpu_init();
    return ck_usable(CK_ISA_AVX2) == CK_ISA_AVX2 && __builtin_cpu_supports("avxvnni");
}

// Packs rows into panels of `mr`, K in blocks of CK_KC elements, each element `group` K values (1: fp32, 2: bf16 pair).
static void pack_panels(int mr, int group, int m, int k, const float *a, int lda, float *packed) {
    int mp = (m + mr - 1) / mr * mr;
    int elements = (k + group - 1) / group;
    for (int pc = 0; pc < elements; pc += CK_KC) {
        int kc = elements - pc < CK_KC ? elements - pc : CK_KC;
        for (int p = 0; p < mp / mr; p++) {
            float *panel = packed + (size_t)pc * mp + (size_t)p * mr * kc;
            for (int kk = 0; kk < kc; kk++)
                for (int r = 0; r < mr; r++) {
                    int row = p * mr + r;
                    float *target = panel + kk * mr + r;
                    if (group == 1) {
                        *target = row < m ? a[(size_t)row * lda + pc + kk] : 0;
                        continue;
                    }
                    int k0 = 2 * (pc + kk);
                    uint32_t lo = row < m ? ck_bf16_bits(a[(size_t)row * lda + k0]) : 0;
                    uint32_t hi = row < m && k0 + 1 < k ? ck_bf16_bits(a[(size_t)row * lda + k0 + 1]) : 0;
                    uint32_t pair = lo | hi << 16;
                    memcpy(target, &pair, 4);
                }
        }
    }
}

#define PACKING(SUFFIX, MR, GROUP)                                                                                    \
    size_t ck_gemm_packed_size_##SUFFIX(int m, int k) {                                                              \
        return (size_t)((m + MR - 1) / MR * MR) * (size_t)((k + GROUP - 1) / GROUP);                                 \
    }                                                                                                                 \
    void ck_gemm_pack_##SUFFIX(int m, int k, const float *a, int lda, float *packed) {                               \
        pack_panels(MR, GROUP, m, k, a, lda, packed);                                                                 \
    }
PACKING(avx2, 6, 1)
PACKING(avx512, 32, 1)
PACKING(avx512bf16, 32, 2)

void ck_gemm_avx2(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb, float *c, int ldc,
                  const float *bias, int relu, float *scratch, const float *after) {
    (void)after;
    gemm_wide_avx2(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu, scratch, 0, 0, 0, 0);
}

// fp32 tables: `formats` is 0 (no pairs).
void ck_gemm_residual_avx2(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb,
                           float *c, int ldc, const float *bias, const float *scale, const float *shortcut, int ld_shortcut,
                           int formats, float *scratch) {
    (void)formats;
    gemm_wide_avx2(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, 1, scratch, shortcut, ld_shortcut, scale, 0);
}

int ck_gemm_partial_avx2(const float *packed, int m, int k, int k_begin, int k_end, int panel_begin, int panel_end, int n,
                         const float *b, int ldb, float *c, int ldc, const float *bias, int relu) {
    (void)packed, (void)m, (void)k, (void)k_begin, (void)k_end, (void)panel_begin, (void)panel_end, (void)n, (void)b, (void)ldb;
    (void)c, (void)ldc, (void)bias, (void)relu;
    return 0;
}

// The AVX-512 kernels' choice, over `k` elements (K values, or bf16 pairs). The small-n kernel wastes no lanes but has
// fixed costs per panel and column chunk (the bias, the transposed store), which a short K amortises over few
// multiply-adds: below 128 elements it runs only where the wide kernel would compute ≥ 20% padding. Over more columns
// it runs column chunks outer (B read once, straight from the activation, no packing) where that is faster than the
// wide kernel: ≥ 256 elements and either K ≥ m (the reducing 1×1s, stride-2 3×3s) or a share of the output channels
// (late stages at batch 8); docs/performance.md.
enum { AVX512_WIDE, AVX512_NARROW, AVX512_COLUMNS };
static int avx512_kernel(int m, int k, int panel_begin, int panel_end, int n) {
    if (n > CK_NARROW && k >= 256 && (k >= m || panel_end - panel_begin < (m + 31) / 32)) return AVX512_COLUMNS;
    if (n <= CK_NARROW && (k >= 128 || 5 * n < 4 * ((n + 31) / 32 * 32))) return AVX512_NARROW;
    return AVX512_WIDE;
}
#define AVX512_GEMM(SUFFIX)                                                                                           \
    static void gemm_##SUFFIX(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, \
                              int ldb, float *c, int ldc, const float *bias, int relu, float *scratch, const float *after) { \
        int kernel = avx512_kernel(m, k, panel_begin, panel_end, n);                                                  \
        if (kernel == AVX512_COLUMNS)                                                                                 \
            gemm_columns_##SUFFIX(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu);             \
        else if (kernel == AVX512_NARROW)                                                                             \
            gemm_narrow_##SUFFIX(packed, m, k, 0, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu, after, 0, 0, 0, 0); \
        else                                                                                                          \
            gemm_wide_##SUFFIX(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu, scratch, 0, 0, 0, 0); \
    }
AVX512_GEMM(avx512)
AVX512_GEMM(avx512bf16)

void ck_gemm_avx512(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb, float *c,
                    int ldc, const float *bias, int relu, float *scratch, const float *after) {
    gemm_avx512(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu, scratch, after);
}

int ck_gemm_partial_avx512(const float *packed, int m, int k, int k_begin, int k_end, int panel_begin, int panel_end, int n,
                           const float *b, int ldb, float *c, int ldc, const float *bias, int relu) {
    if (n > CK_NARROW) return 0;
    gemm_narrow_avx512(packed, m, k, k_begin, k_end, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu, 0, 0, 0, 0, 0);
    return 1;
}

void ck_gemm_residual_avx512(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb,
                             float *c, int ldc, const float *bias, const float *scale, const float *shortcut, int ld_shortcut,
                             int formats, float *scratch) {
    (void)formats;
    if (avx512_kernel(m, k, panel_begin, panel_end, n) == AVX512_NARROW)
        gemm_narrow_avx512(packed, m, k, 0, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, 1, 0, shortcut, ld_shortcut, scale, 0);
    else
        gemm_wide_avx512(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, 1, scratch, shortcut, ld_shortcut, scale, 0);
}

// bf16: the same over (k + 1)/2 pair elements; B is in pair rows (`operand_pack`).
void ck_gemm_avx512bf16(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb,
                        float *c, int ldc, const float *bias, int relu, float *scratch, const float *after) {
    gemm_avx512bf16(packed, m, (k + 1) / 2, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu, scratch, after);
}

void ck_gemm_residual_avx512bf16(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b,
                                 int ldb, float *c, int ldc, const float *bias, const float *scale, const float *shortcut,
                                 int ld_shortcut, int formats, float *scratch) {
    int elements = (k + 1) / 2;
    if (avx512_kernel(m, elements, panel_begin, panel_end, n) == AVX512_NARROW)
        gemm_narrow_avx512bf16(packed, m, elements, 0, elements, panel_begin, panel_end, n, b, ldb, c, ldc, bias, 1, 0, shortcut,
                               ld_shortcut, scale, formats);
    else
        gemm_wide_avx512bf16(packed, m, elements, panel_begin, panel_end, n, b, ldb, c, ldc, bias, 1, scratch, shortcut,
                             ld_shortcut, scale, formats);
}

int ck_gemm_partial_avx512bf16(const float *packed, int m, int k, int k_begin, int k_end, int panel_begin, int panel_end, int n,
                               const float *b, int ldb, float *c, int ldc, const float *bias, int relu) {
    int elements = (k + 1) / 2;
    if (n > CK_NARROW || k_begin % 2 != 0 || (k_end % 2 != 0 && k_end != k)) return 0;
    gemm_narrow_avx512bf16(packed, m, elements, k_begin / 2, (k_end + 1) / 2, panel_begin, panel_end, n, b, ldb, c, ldc, bias,
                           relu, 0, 0, 0, 0, 0);
    return 1;
}

// Rows 2q and 2q + 1 → pair row q, 16 columns at a time: each row rounded to bf16 (VCVTNEPS2BF16), widened to 32 bits,
// the odd row shifted into the high halves. In place is safe: pair row q (q ≥ 1) ends before row 2q begins, and row 0
// is read before it is written, a vector at a time.
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void ck_operand_pack_avx512bf16(const float *b, int rows, int columns, long ldb,
                                                                              float *out, long ld_out) {
    for (int q = 0; q < (rows + 1) / 2; q++) {
        const float *r0 = b + (size_t)(2 * q) * ldb;
        const float *r1 = 2 * q + 1 < rows ? r0 + ldb : 0;
        float *target = out + (size_t)q * ld_out;
        // Rows 2q + 4 and 2q + 5 fetched while these convert: each row is a short run of lines (a column chunk's), too
        // short for the hardware's stream detection, and the rows are far apart.
        const float *ahead = 2 * q + 4 < rows ? r0 + 4 * ldb : 0;
        for (int j = 0; j < columns; j += 16) {
            if (ahead) {
                _mm_prefetch((const char *)(ahead + j), _MM_HINT_T0);
                if (2 * q + 5 < rows) _mm_prefetch((const char *)(ahead + ldb + j), _MM_HINT_T0);
            }
            int count = columns - j;
            __m512 x0 = load_part_avx512(r0 + j, count);
            __m512 x1 = r1 ? load_part_avx512(r1 + j, count) : _mm512_setzero_ps();
            store_part_avx512(target + j, pairs_avx512bf16(x0, x1), count);
        }
    }
}

double ck_peak_avx2(long iterations, double *checksum) { return peak_avx2(iterations, checksum); }
double ck_peak_avx512(long iterations, double *checksum) { return peak_avx512(iterations, checksum); }

// 12 independent VDPBF16PS chains on constant bf16 operands (1 and 2⁻²⁰: the sums stay finite).
__attribute__((target("avx512f,avx512bw,avx512bf16"))) double ck_peak_avx512bf16(long iterations, double *checksum) {
    __m512 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps(0.001f * (float)i);
    __m512bh x = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1.0f), _mm512_set1_ps(1.0f));
    __m512bh y = _mm512_cvtne2ps_pbh(_mm512_set1_ps(9.5367431640625e-07f), _mm512_set1_ps(9.5367431640625e-07f));
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < iterations; i++) {
        for (int j = 0; j < 12; j++) acc[j] = _mm512_dpbf16_ps(acc[j], x, y);
        __asm__ volatile("" : "+x"(x));
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    float lanes[16];
    double sum = 0;
    for (int i = 0; i < 12; i++) {
        _mm512_storeu_ps(lanes, acc[i]);
        for (int j = 0; j < 16; j++) sum += lanes[j];
    }
    *checksum = sum;
    return (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) * 1e-9;
}

