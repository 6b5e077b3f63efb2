#include "ckernels.h"

#include <stdlib.h>

// Plain loops compiled for each ISA so the compiler vectorises them with its vectors (Swift code is compiled
// for baseline x86-64, i.e. SSE2).

#define ELEMENTWISE(TARGET, NAME)                                                                                     \
    TARGET static void NAME##_scale_add_relu(float *restrict x, float s, const float *restrict shortcut, long count) { \
        for (long i = 0; i < count; i++) {                                                                            \
            float y = x[i] * s + shortcut[i];                                                                         \
            x[i] = y > 0 ? y : 0;                                                                                     \
        }                                                                                                             \
    }                                                                                                                 \
    TARGET static float NAME##_sum(const float *restrict x, long count) {                                             \
        float lanes[16] = {0};                                                                                        \
        long i = 0;                                                                                                   \
        for (; i + 16 <= count; i += 16)                                                                              \
            for (int j = 0; j < 16; j++) lanes[j] += x[i + j];                                                        \
        float sum = 0;                                                                                                \
        for (int j = 0; j < 16; j++) sum += lanes[j];                                                                 \
        for (; i < count; i++) sum += x[i];                                                                           \
        return sum;                                                                                                   \
    }

ELEMENTWISE(__attribute__((target("avx2,fma"))), avx2)
ELEMENTWISE(__attribute__((target("avx512f"))), avx512)

void ck_scale_add_relu(ck_isa isa, float *x, float scale, const float *shortcut, long count) {
    if (isa == CK_ISA_NONE) abort();  // only called for plans with the engine's kernels
    if (isa == CK_ISA_AVX512) avx512_scale_add_relu(x, scale, shortcut, count);
    else avx2_scale_add_relu(x, scale, shortcut, count);
}

float ck_sum(ck_isa isa, const float *x, long count) {
    if (isa == CK_ISA_NONE) abort();
    return isa == CK_ISA_AVX512 ? avx512_sum(x, count) : avx2_sum(x, count);
}
