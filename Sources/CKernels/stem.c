#include "internal.h"
#include "lanes.h"

#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Block shapes measured on a single core (224² input, 3 → 64 channels, `ck_conv7x7s2` alone in a C harness): AVX2
// 5 channels × 2 vectors 130 GFLOP/s (92% of the AVX2 FMA peak; 4 × 3: 100, 2 × 7: 59, whose accumulators and
// inputs spill); AVX-512 3 × 7 245 GFLOP/s (85%; 2 × 7: 222, 4 × 7: 88, spilling). 64 channels in blocks of 5 or 3
// compute 1.5% or 3% padding.

// ---- AVX2 + FMA: 5 output channels × 2 vectors (16 pixels), 10 accumulators (of 16 ymm registers).
#define V __m256
#define VW 8
#define OCB 5
#define NV 2
#define TARGET __attribute__((target("avx2,fma")))
#define NAME(x) x##_avx2
#define VLOAD _mm256_loadu_ps
#define VSTORE _mm256_storeu_ps
#define VFMA _mm256_fmadd_ps
#define VSET1 _mm256_set1_ps
#define VMAX _mm256_max_ps
#define VZERO _mm256_setzero_ps
#define STEM_TAPS 7
#include "stem_kernel.inc"

// ---- AVX-512F: 3 output channels × 7 vectors (112 pixels: a whole row at 224²), 21 accumulators (of 32 zmm).
#define V __m512
#define VW 16
#define OCB 3
#define NV 7
#define TARGET __attribute__((target("avx512f")))
#define NAME(x) x##_avx512
#define VLOAD _mm512_loadu_ps
#define VSTORE _mm512_storeu_ps
#define VFMA _mm512_fmadd_ps
#define VSET1 _mm512_set1_ps
#define VMAX _mm512_max_ps
#define VZERO _mm512_setzero_ps
#define STEM_TAPS 7
#include "stem_kernel.inc"

// ---- AVX-512 with AVX512_BF16: the same blocks over pairs of taps (VDPBF16PS), rows as bf16 pairs.
#define V __m512
#define VW 16
#define OCB 3
#define NV 7
#define STEM_BF16
#define STEM_TAPS 4
#define TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))
#define NAME(x) x##_avx512bf16
#define store_part_avx512bf16 store_part_avx512
#define VLOAD _mm512_loadu_ps
#define VSTORE _mm512_storeu_ps
#define VFMA(a, b, c) _mm512_dpbf16_ps((c), (__m512bh)(a), (__m512bh)(b))
#define VSET1 _mm512_set1_ps
#define VMAX _mm512_max_ps
#define VZERO _mm512_setzero_ps
#include "stem_kernel.inc"

// Packing and sizes per instruction set: OCB output channels a call computes, PIXELS output pixels, TAPS packed
// weights per (channel, ky): 7, or 4 bf16 pairs.
#define STEM_ENTRY_POINTS(SUFFIX, OCB_, PIXELS, TAPS)                                                                 \
    size_t ck_conv7x7s2_packed_size_##SUFFIX(int out_channels, int in_channels) {                                    \
        return (size_t)((out_channels + OCB_ - 1) / OCB_ * OCB_) * (size_t)(in_channels * 7 * TAPS + 1);              \
    }                                                                                                                 \
    void ck_conv7x7s2_pack_##SUFFIX(int out_channels, int in_channels, const float *weights, const float *bias,       \
                                    float *packed) {                                                                  \
        stem_pack(OCB_, TAPS, out_channels, in_channels, weights, bias, packed);                                      \
    }                                                                                                                 \
    size_t ck_conv7x7s2_scratch_size_##SUFFIX(int in_channels, int width) {                                           \
        int out_w = (width - 1) / 2 + 1;                                                                              \
        return (size_t)(8 * in_channels + 1) * 2 * (size_t)((out_w + PIXELS - 1) / PIXELS * PIXELS + 4);               \
    }                                                                                                                 \
    void ck_conv7x7s2_##SUFFIX(const float *packed, int out_channels, int in_channels, const float *in, long in_stride, \
                               int height, int width, int row_begin, int row_end, float *out, long out_stride, int relu, \
                               float *scratch) {                                                                      \
        int padded = (out_channels + OCB_ - 1) / OCB_ * OCB_;                                                         \
        const float *bias = packed + (size_t)padded * in_channels * 7 * TAPS;                                         \
        if (in_channels > 64) abort(); /* the row table is sized for 64 input channels (a stem has 1 to 4) */         \
        stem_rows_##SUFFIX(packed, bias, in_channels, out_channels, in, in_stride, height, width, row_begin, row_end, \
                           out, out_stride, relu, scratch);                                                           \
    }

// Blocks of `ocb` output channels, tap by tap (`per_row` 7: each tap's fp32 weight; 4: taps 2p and 2p + 1 as a bf16 pair,
// the seventh with zero), then the bias (fp32) padded to whole blocks.
static void stem_pack(int ocb, int per_row, int out_channels, int in_channels, const float *weights, const float *bias,
                      float *packed) {
    int padded = (out_channels + ocb - 1) / ocb * ocb, taps = in_channels * 49, entries = in_channels * 7 * per_row;
    for (int b = 0; b < padded / ocb; b++)
        for (int e = 0; e < entries; e++)
            for (int o = 0; o < ocb; o++) {
                int oc = b * ocb + o;
                float *target = packed + ((size_t)b * entries + e) * ocb + o;
                if (per_row == 7) {
                    *target = oc < out_channels ? weights[(size_t)oc * taps + e] : 0;
                    continue;
                }
                int row = e / 4, kx = 2 * (e % 4);  // row = channel · 7 + ky
                const float *w = weights + (size_t)oc * taps + (size_t)row * 7;
                uint32_t pair = oc < out_channels ? ck_bf16_bits(w[kx]) | (kx + 1 < 7 ? ck_bf16_bits(w[kx + 1]) : 0) << 16 : 0;
                memcpy(target, &pair, 4);
            }
    float *packed_bias = packed + (size_t)padded * entries;
    for (int oc = 0; oc < padded; oc++) packed_bias[oc] = bias && oc < out_channels ? bias[oc] : 0;
}

STEM_ENTRY_POINTS(avx2, 5, 2 * 8, 7)
STEM_ENTRY_POINTS(avx512, 3, 7 * 16, 7)
STEM_ENTRY_POINTS(avx512bf16, 3, 7 * 16, 4)
