#include "internal.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

// Floats of scratch `winograd_input_planes` needs: the zero-padded rows of a channel's tile rows, the row transform, and
// the transformed tiles of two channels.
static size_t winograd_input_scratch(int tile, int width, int tile_rows) {
    int alpha = tile + 2;
    int tiles_wide = (width + tile - 1) / tile;
    size_t padded = (size_t)(tile * tiles_wide + 2);
    return (size_t)(tile * tile_rows + 2) * padded + (size_t)alpha * padded + 2 * (size_t)(alpha * alpha) * (size_t)(tile_rows * tiles_wide);
}

// The transforms once (winograd_strip.inc), compiled for baseline x86-64, AVX2 and AVX-512.
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
    TARGET_ATTRIBUTE void ck_winograd_output_strip_##SUFFIX(int tile, const float *m, size_t step, int tiles, float bias, float *s,   \
                                           float *out, int width, int rows) {                                         \
        if (tile == 4) winograd_output4_##SUFFIX(m, step, tiles, bias, s, out, width, rows);                         \
        else winograd_output2_##SUFFIX(m, step, tiles, bias, s, out, width, rows);                                    \
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
STRIPS(__attribute__((target("avx512f"))), avx512)
