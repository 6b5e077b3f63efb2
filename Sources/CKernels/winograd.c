#include "internal.h"

#include <stddef.h>

// The strip transforms once (winograd_strip.inc), compiled for baseline x86-64, AVX2 and AVX-512.
#define STRIPS(TARGET_ATTRIBUTE, SUFFIX)                                                                              \
    TARGET_ATTRIBUTE void ck_winograd_input_strip_##SUFFIX(int tile, const float *d, int padded, int tiles, float *t, float *v,       \
                                          size_t step) {                                                              \
        if (tile == 4) winograd_input4_##SUFFIX(d, padded, tiles, t, v, step);                                       \
        else winograd_input2_##SUFFIX(d, padded, tiles, t, v, step);                                                  \
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
