// Partial vectors: the first `count` lanes of a load or store (all for count ≥ the vector width, none for count ≤ 0);
// the other lanes read as zero and are not written, and masked-off lanes never fault. Shared by the GEMM, the stem,
// Winograd's transforms and the unfolding, each compiled per instruction set; and the AVX-512 transposes.
#ifndef CKERNELS_LANES_H
#define CKERNELS_LANES_H

#include "ckernels.h"

#include <immintrin.h>

__attribute__((target("avx2,fma"))) static inline __m256i lanes_below_avx2(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
__attribute__((target("avx2,fma"))) static inline __m256 load_part_avx2(const float *p, int count) {
    return _mm256_maskload_ps(p, lanes_below_avx2(count));
}
__attribute__((target("avx2,fma"))) static inline void store_part_avx2(float *p, __m256 v, int count) {
    _mm256_maskstore_ps(p, lanes_below_avx2(count), v);
}

__attribute__((target("avx512f"))) static inline __mmask16 lanes_below_avx512(int count) {
    return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
}
__attribute__((target("avx512f"))) static inline __m512 load_part_avx512(const float *p, int count) {
    return _mm512_maskz_loadu_ps(lanes_below_avx512(count), p);
}
__attribute__((target("avx512f"))) static inline void store_part_avx512(float *p, __m512 v, int count) {
    _mm512_mask_storeu_ps(p, lanes_below_avx512(count), v);
}

// a[j] lane i → a[i] lane j for a 16 × 16 block of floats: 4 rounds of shuffles in registers.
__attribute__((target("avx512f"), always_inline)) static inline void transpose16_avx512(__m512 *a) {
    __m512 t[16];
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
    for (int i = 0; i < 8; i++) {
        a[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        a[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}

// Stores the first `count` (≤ 16) vectors of `columns` (column j: 16 consecutive rows) as 16 rows of `count` floats, ldc
// apart: transposed in registers, then one masked store per row. The small-n kernel's output, where 16-lane scatters
// cost it 10% of its time at K = 256 and 20% at K = 128.
__attribute__((target("avx512f"), always_inline)) static inline void transpose_store_avx512(const __m512 *columns, int count,
                                                                                            float *c, int ldc) {
    __m512 a[16];
    for (int j = 0; j < 16; j++) a[j] = j < count ? columns[j] : _mm512_setzero_ps();
    transpose16_avx512(a);
    __mmask16 mask = lanes_below_avx512(count);
    for (int i = 0; i < 16; i++) _mm512_mask_storeu_ps(c + (size_t)i * ldc, mask, a[i]);
}

// The same ending a bottleneck: row i = max(row · scale[i] + res[i·ldr …], 0) (scale NULL: 1), one fused multiply-add as
// `scale_add_relu`; res may be c itself (each row's shortcut is read before the row is stored).
__attribute__((target("avx512f"), always_inline)) static inline void transpose_store_residual_avx512(
    const __m512 *columns, int count, float *c, int ldc, const float *res, int ldr, const float *scale) {
    __m512 a[16];
    for (int j = 0; j < 16; j++) a[j] = j < count ? columns[j] : _mm512_setzero_ps();
    transpose16_avx512(a);
    __mmask16 mask = lanes_below_avx512(count);
    for (int i = 0; i < 16; i++) {
        __m512 shortcut = _mm512_maskz_loadu_ps(mask, res + (size_t)i * ldr);
        __m512 y = _mm512_fmadd_ps(a[i], _mm512_set1_ps(scale ? scale[i] : 1.0f), shortcut);
        _mm512_mask_storeu_ps(c + (size_t)i * ldc, mask, _mm512_max_ps(y, _mm512_setzero_ps()));
    }
}

// bf16 pairs of two fp32 vectors: lo's values rounded to bf16 (nearest even, as VCVTNEPS2BF16) in the low halves, hi's in
// the high halves, as a bf16 product's operand holds K values k and k + 1: one VCVTNE2PS2BF16 (lo's 16 values, then hi's)
// and one word permute interleaving them (instead of two conversions, two widenings, a shift and an or).
__attribute__((target("avx512f,avx512bw,avx512bf16"), always_inline)) static inline __m512 pairs_avx512bf16(__m512 lo, __m512 hi) {
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20, 4,
                                                19, 3, 18, 2, 17, 1, 16, 0);
    __m512i both = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
    return _mm512_castsi512_ps(_mm512_permutexvar_epi16(interleave, both));
}

// The half `hi` (0: low, 1: high) of each bf16 pair of v as fp32 (exact): channel 2q or 2q + 1 of a pair row.
__attribute__((target("avx512f"), always_inline)) static inline __m512 pair_half_avx512bf16(__m512 v, int hi) {
    __m512i bits = _mm512_castps_si512(v);
    return _mm512_castsi512_ps(hi ? _mm512_and_si512(bits, _mm512_set1_epi32((int)0xffff0000u)) : _mm512_slli_epi32(bits, 16));
}

// `transpose_store_residual_avx512` with `formats` (ckernels.h's CK_RESIDUAL_…): the shortcut's rows 2q and 2q + 1 read from
// its pair row q (res + q·ldr), and/or y's written as the pair row q (c + q·ldc). Each pair row is read before it is
// written, so in place (res = c, both pairs) is safe.
__attribute__((target("avx512f,avx512bw,avx512bf16"), always_inline)) static inline void transpose_store_residual_pairs_avx512bf16(
    const __m512 *columns, int count, float *c, int ldc, const float *res, int ldr, const float *scale, int formats) {
    __m512 a[16];
    for (int j = 0; j < 16; j++) a[j] = j < count ? columns[j] : _mm512_setzero_ps();
    transpose16_avx512(a);
    __mmask16 mask = lanes_below_avx512(count);
    int shortcut_pairs = formats & CK_RESIDUAL_SHORTCUT_PAIRS, output_pairs = formats & CK_RESIDUAL_OUTPUT_PAIRS;
    // Two rows at a time: each pair row read once, before it is written.
    for (int q = 0; q < 8; q++) {
        int i = 2 * q;
        __m512 s0, s1;
        if (shortcut_pairs) {
            __m512 pair = _mm512_maskz_loadu_ps(mask, res + (size_t)q * ldr);
            s0 = pair_half_avx512bf16(pair, 0);
            s1 = pair_half_avx512bf16(pair, 1);
        } else {
            s0 = _mm512_maskz_loadu_ps(mask, res + (size_t)i * ldr);
            s1 = _mm512_maskz_loadu_ps(mask, res + (size_t)(i + 1) * ldr);
        }
        __m512 y0 = _mm512_max_ps(_mm512_fmadd_ps(a[i], _mm512_set1_ps(scale ? scale[i] : 1.0f), s0), _mm512_setzero_ps());
        __m512 y1 = _mm512_max_ps(_mm512_fmadd_ps(a[i + 1], _mm512_set1_ps(scale ? scale[i + 1] : 1.0f), s1), _mm512_setzero_ps());
        if (output_pairs) {
            _mm512_mask_storeu_ps(c + (size_t)q * ldc, mask, pairs_avx512bf16(y0, y1));
        } else {
            _mm512_mask_storeu_ps(c + (size_t)i * ldc, mask, y0);
            _mm512_mask_storeu_ps(c + (size_t)(i + 1) * ldc, mask, y1);
        }
    }
}

#endif
