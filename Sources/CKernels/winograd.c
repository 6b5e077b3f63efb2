#include "internal.h"
#include "lanes.h"

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// Floats of scratch the input transforms need: `winograd_input_planes` the zero-padded rows of a channel's tile rows, the
// row transform and the transformed tiles of two channels; the 16-channel one (winograd_blocked.inc, AVX-512) a cache
// line of alignment, a ring of 8 transposed input rows and 16 tiles' α² ξ.
static size_t winograd_input_scratch(int tile, int width, int tile_rows) {
    int alpha = tile + 2;
    int tiles_wide = (width + tile - 1) / tile;
    size_t padded = (size_t)(tile * tiles_wide + 2);
    size_t planes = (size_t)(tile * tile_rows + 2) * padded + (size_t)alpha * padded + 2 * (size_t)(alpha * alpha) * (size_t)(tile_rows * tiles_wide);
    size_t blocked = 16 + (size_t)8 * 16 * ((padded + 15) / 16 * 16) + (size_t)(alpha * alpha) * 16 * 16;
    return planes > blocked ? planes : blocked;
}

// Floats of scratch the output transforms need: a strip's (2α + 1)·tile·tiles for `output2` / `output4`; the 16-channel
// one a cache line of alignment, 16 tiles' α² values and a tile row's output rows, 16 channels a column.
static size_t winograd_output_scratch(int tile, int width) {
    int alpha = tile + 2, tiles_wide = (width + tile - 1) / tile;
    size_t strip = (size_t)(2 * alpha + 1) * tile * tiles_wide;
    size_t blocked = 16 + (size_t)(alpha * alpha) * 16 * 16 + (size_t)tile * 16 * ((tile * tiles_wide + 15) / 16 * 16);
    return strip > blocked ? strip : blocked;
}

// The output transform of channels channel_begin..<channel_end and tile rows row_begin..<row_end, a strip (one channel's
// row of tiles) at a time.
#define OUTPUT_BY_STRIPS(SUFFIX)                                                                                     \
    for (int c = channel_begin; c < channel_end; c++)                                                                 \
        for (int ty = row_begin; ty < row_end; ty++) {                                                                \
            int tiles_wide = (width + tile - 1) / tile, rows = height - tile * ty < tile ? height - tile * ty : tile;  \
            const float *strip = m + (size_t)c * row_stride + (size_t)(ty - row_begin) * tiles_wide;                 \
            float *target = out + (size_t)c * channel_stride + (long)tile * ty * width;                              \
            if (tile == 4) winograd_output4_##SUFFIX(strip, xi_stride, tiles_wide, bias[c], scratch, target, width, rows); \
            else winograd_output2_##SUFFIX(strip, xi_stride, tiles_wide, bias[c], scratch, target, width, rows);      \
        }

// The transforms once (winograd_strip.inc), compiled for baseline x86-64, AVX2 and AVX-512 (where winograd_blocked.inc's,
// below, run instead, save for input pairs on a CPU without AVX512_BF16).
#define STRIPS(TARGET_ATTRIBUTE, SUFFIX)                                                                              \
    size_t ck_winograd_input_scratch_size_##SUFFIX(int tile, int width, int tile_rows) {                             \
        return winograd_input_scratch(tile, width, tile_rows);                                                        \
    }                                                                                                                 \
    TARGET_ATTRIBUTE void ck_winograd_input_##SUFFIX(int tile, const float *x, long channel_stride, int height, int width, \
                                                     int row_begin, int row_end, int channel_begin, int channel_end,   \
                                                     int pairs, float *v, size_t xi_stride, size_t row_stride,         \
                                                     float *scratch) {                                                 \
        winograd_input_planes_##SUFFIX(tile, x, channel_stride, height, width, row_begin, row_end, channel_begin,    \
                                       channel_end, pairs, v, xi_stride, row_stride, scratch);                        \
    }                                                                                                                 \
    size_t ck_winograd_output_scratch_size_##SUFFIX(int tile, int width) { return winograd_output_scratch(tile, width); } \
    TARGET_ATTRIBUTE void ck_winograd_output_##SUFFIX(int tile, const float *m, size_t xi_stride, size_t row_stride,      \
                                                      const float *bias, int height, int width, int row_begin,         \
                                                      int row_end, int channel_begin, int channel_end, float *out,     \
                                                      long channel_stride, float *scratch) {                           \
        OUTPUT_BY_STRIPS(SUFFIX)                                                                                      \
    }

#define TARGET
#define NAME(x) winograd_##x##_baseline
#include "winograd_strip.inc"
#undef TARGET
#undef NAME
STRIPS(, baseline)

#define TARGET __attribute__((target("avx2,fma")))
#define NAME(x) winograd_##x##_avx2
#include "winograd_strip.inc"
#undef TARGET
#undef NAME
STRIPS(__attribute__((target("avx2,fma"))), avx2)

#define TARGET __attribute__((target("avx512f")))
#define NAME(x) winograd_##x##_avx512
#include "winograd_strip.inc"
#undef TARGET
#undef NAME

// AVX-512: the transforms 16 channels at a time (winograd_blocked.inc): the input's fp32 rows here and bf16 pairs in the
// bf16 table's entry point (VCVTNEPS2BF16), pairs without AVX512_BF16 over channel planes; the output's fp32 rows, and
// in the bf16 table also as the next 1×1's bf16 pairs (`winograd_output_pairs`).
#define TARGET __attribute__((target("avx512f")))
#define NAME(x) winograd_##x##_fp32_avx512
#define PAIRS 0
#include "winograd_blocked.inc"
#define TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))
#define NAME(x) winograd_##x##_pairs_avx512bf16
#define PAIRS 1
#include "winograd_blocked.inc"

size_t ck_winograd_input_scratch_size_avx512(int tile, int width, int tile_rows) {
    return winograd_input_scratch(tile, width, tile_rows);
}

__attribute__((target("avx512f"))) void ck_winograd_input_avx512(int tile, const float *x, long channel_stride, int height, int width,
                                                                int row_begin, int row_end, int channel_begin, int channel_end,
                                                                int pairs, float *v, size_t xi_stride, size_t row_stride,
                                                                float *scratch) {
    if (!pairs)
        winograd_input_blocked_fp32_avx512(tile, x, channel_stride, height, width, row_begin, row_end, channel_begin, channel_end, v,
                                           xi_stride, row_stride, scratch);
    else
        winograd_input_planes_avx512(tile, x, channel_stride, height, width, row_begin, row_end, channel_begin, channel_end,
                                     pairs, v, xi_stride, row_stride, scratch);
}

__attribute__((target("avx512f,avx512bw,avx512bf16"))) void ck_winograd_input_avx512bf16(int tile, const float *x, long channel_stride,
                                                                               int height, int width, int row_begin, int row_end,
                                                                               int channel_begin, int channel_end, int pairs,
                                                                               float *v, size_t xi_stride, size_t row_stride,
                                                                               float *scratch) {
    if (pairs)
        winograd_input_blocked_pairs_avx512bf16(tile, x, channel_stride, height, width, row_begin, row_end, channel_begin, channel_end,
                                                 v, xi_stride, row_stride, scratch);
    else
        ck_winograd_input_avx512(tile, x, channel_stride, height, width, row_begin, row_end, channel_begin, channel_end, pairs, v,
                                 xi_stride, row_stride, scratch);
}

size_t ck_winograd_output_scratch_size_avx512(int tile, int width) { return winograd_output_scratch(tile, width); }

__attribute__((target("avx512f"))) void ck_winograd_output_avx512(int tile, const float *m, size_t xi_stride, size_t row_stride,
                                                                 const float *bias, int height, int width, int row_begin, int row_end,
                                                                 int channel_begin, int channel_end, float *out, long channel_stride,
                                                                 float *scratch) {
    winograd_output_blocked_fp32_avx512(tile, m, xi_stride, row_stride, bias, height, width, row_begin, row_end, channel_begin,
                                        channel_end, out, channel_stride, 0, scratch);
}

__attribute__((target("avx512f,avx512bw,avx512bf16"))) void ck_winograd_output_pairs_avx512bf16(int tile, const float *m, size_t xi_stride,
                                                                                      size_t row_stride, const float *bias,
                                                                                      int height, int width, int row_begin,
                                                                                      int row_end, int channel_begin,
                                                                                      int channel_end, float *out,
                                                                                      long channel_stride, float *sums,
                                                                                      float *scratch) {
    winograd_output_blocked_pairs_avx512bf16(tile, m, xi_stride, row_stride, bias, height, width, row_begin, row_end, channel_begin,
                                             channel_end, out, channel_stride, sums, scratch);
}
