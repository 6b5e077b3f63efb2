#include "ckernels.h"
#include "lanes.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// K block: a B micro-panel (CK_KC × NR floats: 16 KiB with AVX2, 32 KiB with AVX-512) stays in L1.
#define CK_KC 256
// Column block: packed B (CK_KC × CK_NC floats, 256 KiB) stays in L2 beside a block of A.
#define CK_NC 256
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
#define TARGET __attribute__((target("avx2,fma")))
#define NAME(x) x##_avx2

#define VLOAD _mm256_loadu_ps
#define VSTORE _mm256_storeu_ps
#define VFMA _mm256_fmadd_ps
#define VBCAST _mm256_broadcast_ss
#define VSET1 _mm256_set1_ps
#define VMAX _mm256_max_ps
#define VZERO _mm256_setzero_ps
#include "gemm_kernel.inc"
#undef V
#undef VW
#undef PR
#undef SR
#undef NRV
#undef MCP
#undef TARGET
#undef NAME
#undef VLOAD
#undef VSTORE
#undef VFMA
#undef VBCAST
#undef VSET1
#undef VMAX
#undef VZERO

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
#define TARGET __attribute__((target("avx512f")))
#define NAME(x) x##_avx512

// c[i·ldc] = v[i] for the first `count` lanes.
TARGET static inline void scatter_avx512(float *c, int ldc, __m512 v, int count) {
    if (count <= 0) return;
    __m512i index = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(ldc));
    _mm512_mask_i32scatter_ps(c, lanes_below_avx512(count), index, v, 4);
}
// Stores the first `count` (≤ 16) vectors of `columns` (column j: 16 consecutive rows) as 16 rows of `count` floats, ldc
// apart: a 16 × 16 transpose in registers (4 rounds of shuffles), then one masked store per row. The small-n kernel's
// output, where 16-lane scatters cost it 10% of its time at K = 256 and 20% at K = 128.
TARGET static inline void transpose_store_avx512(const __m512 *columns, int count, float *c, int ldc) {
    __m512 a[16], t[16];
    for (int j = 0; j < 16; j++) a[j] = j < count ? columns[j] : _mm512_setzero_ps();
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        a[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[4 * i]), _mm512_castps_pd(t[4 * i + 2])));
        a[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[4 * i]), _mm512_castps_pd(t[4 * i + 2])));
        a[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[4 * i + 1]), _mm512_castps_pd(t[4 * i + 3])));
        a[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[4 * i + 1]), _mm512_castps_pd(t[4 * i + 3])));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(a[i], a[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(a[i], a[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(a[i + 8], a[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(a[i + 8], a[i + 12], 0xdd);
    }
    __mmask16 mask = lanes_below_avx512(count);
    for (int i = 0; i < 8; i++) {
        _mm512_mask_storeu_ps(c + (size_t)i * ldc, mask, _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88));
        _mm512_mask_storeu_ps(c + (size_t)(i + 8) * ldc, mask, _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd));
    }
}
#define VLOAD _mm512_loadu_ps
#define VSTORE _mm512_storeu_ps
#define VFMA _mm512_fmadd_ps
#define VBCAST(p) _mm512_set1_ps(*(p))
#define VSET1 _mm512_set1_ps
#define VMAX _mm512_max_ps
#define VZERO _mm512_setzero_ps
#include "gemm_kernel.inc"

#define PR_AVX512 32
static const int mr_of[3] = {0, 6, PR_AVX512};
static const int nr_of[3] = {0, 16, 32};

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

int ck_gemm_mr(ck_isa isa) { return mr_of[isa]; }
int ck_gemm_nr(ck_isa isa) { return nr_of[isa]; }
int ck_vector_width(ck_isa isa) { return isa == CK_ISA_AVX512 ? 16 : isa == CK_ISA_AVX2 ? 8 : 1; }

size_t ck_gemm_packed_size(ck_isa isa, int m, int k) {
    int mr = mr_of[isa];
    if (mr == 0) return 0;
    return (size_t)((m + mr - 1) / mr * mr) * (size_t)k;
}

size_t ck_gemm_scratch_size(void) { return (size_t)CK_KC * CK_NC; }

void ck_gemm_pack(ck_isa isa, int m, int k, const float *a, int lda, float *packed) {
    int mr = mr_of[isa];
    if (mr == 0) return;
    int mp = (m + mr - 1) / mr * mr;
    for (int pc = 0; pc < k; pc += CK_KC) {
        int kc = k - pc < CK_KC ? k - pc : CK_KC;
        for (int p = 0; p < mp / mr; p++) {
            float *panel = packed + (size_t)pc * mp + (size_t)p * mr * kc;
            for (int kk = 0; kk < kc; kk++)
                for (int r = 0; r < mr; r++) {
                    int row = p * mr + r;
                    panel[kk * mr + r] = row < m ? a[(size_t)row * lda + pc + kk] : 0;
                }
        }
    }
}

void ck_gemm(ck_isa isa, const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb,
             float *c, int ldc, const float *bias, int relu, float *scratch, const float *after) {
    switch (isa) {
    case CK_ISA_AVX512:
        // The small-n kernel wastes no lanes but has fixed costs per panel and column chunk (the bias, the transposed
        // store), which a short K amortises over few multiply-adds: below K = 128 it runs only where the wide kernel
        // would compute ≥ 20% padding. Over more columns it runs column chunks outer (B read once, straight from the
        // activation, no packing) where that is faster than the wide kernel: K ≥ 256 and either K ≥ m (the
        // reducing 1×1s, stride-2 3×3s) or a share of the output channels (late stages at batch 8); docs/performance.md.
        if (n > CK_NARROW && k >= 256 && (k >= m || panel_end - panel_begin < (m + PR_AVX512 - 1) / PR_AVX512))
            gemm_columns_avx512(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu);
        else if (n <= CK_NARROW && (k >= 128 || 5 * n < 4 * ((n + 31) / 32 * 32)))
            gemm_narrow_avx512(packed, m, k, 0, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu, after);
        else
            gemm_wide_avx512(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu, scratch);
        break;
    case CK_ISA_AVX2: gemm_wide_avx2(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu, scratch); break;
    case CK_ISA_NONE: abort();  // a plan never packs for CK_ISA_NONE: OpenBLAS runs those layers
    }
}

int ck_gemm_partial(ck_isa isa, const float *packed, int m, int k, int k_begin, int k_end, int panel_begin, int panel_end, int n,
                    const float *b, int ldb, float *c, int ldc, const float *bias, int relu) {
    if (isa != CK_ISA_AVX512 || n > CK_NARROW || k_begin % CK_KC != 0 || (k_end % CK_KC != 0 && k_end != k)) return 0;
    gemm_narrow_avx512(packed, m, k, k_begin, k_end, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu, 0);
    return 1;
}

double ck_peak_fma_loop(ck_isa isa, long iterations, double *checksum) {
    switch (isa) {
    case CK_ISA_AVX512: return peak_avx512(iterations, checksum);
    case CK_ISA_AVX2: return peak_avx2(iterations, checksum);
    case CK_ISA_NONE: break;
    }
    *checksum = 0;
    return 0;
}
