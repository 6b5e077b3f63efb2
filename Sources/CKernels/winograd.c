#include "ckernels.h"

#include <stddef.h>
#include <stdlib.h>

#define TARGET __attribute__((target("avx2,fma")))
#define NAME(x) winograd_##x##_avx2
#include "winograd_strip.inc"
#undef TARGET
#undef NAME

#define TARGET __attribute__((target("avx512f")))
#define NAME(x) winograd_##x##_avx512
#include "winograd_strip.inc"
#undef TARGET
#undef NAME

void ck_winograd_input_strip(ck_isa isa, int tile, const float *d, int padded, int tiles, float *t, float *v,
                             size_t step) {
    if (isa == CK_ISA_NONE) abort();  // only called for plans with the engine's kernels
    if (isa == CK_ISA_AVX512) {
        if (tile == 4) winograd_input4_avx512(d, padded, tiles, t, v, step);
        else winograd_input2_avx512(d, padded, tiles, t, v, step);
    } else {
        if (tile == 4) winograd_input4_avx2(d, padded, tiles, t, v, step);
        else winograd_input2_avx2(d, padded, tiles, t, v, step);
    }
}

void ck_winograd_output_strip(ck_isa isa, int tile, const float *m, size_t step, int tiles, float bias, float *s,
                              float *out, int width, int rows) {
    if (isa == CK_ISA_NONE) abort();
    if (isa == CK_ISA_AVX512) {
        if (tile == 4) winograd_output4_avx512(m, step, tiles, bias, s, out, width, rows);
        else winograd_output2_avx512(m, step, tiles, bias, s, out, width, rows);
    } else {
        if (tile == 4) winograd_output4_avx2(m, step, tiles, bias, s, out, width, rows);
        else winograd_output2_avx2(m, step, tiles, bias, s, out, width, rows);
    }
}
