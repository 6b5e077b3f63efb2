#include "internal.h"
#include "lanes.h"

#include <immintrin.h>
#include <stdlib.h>

// Unfolding patches for convolutions that are not 1×1 stride 1 (the engine's kernels and OpenBLAS alike), compiled for
// each ISA; baseline x86-64 without AVX2. What does not depend on the row is computed once per call: the columns cut into
// segments (a run of output columns in one output row of one image, with its input offset) and each kx's valid range;
// a row then only copies: a division and modulo per piece of a row would make unfolding cost a third of a stride-2 3×3
// layer at batch 8 (docs/performance.md).

// A run of output columns ox0 ..< ox1 of one output row of one image, written at column `column` of the unfolded rows;
// its input rows start at row iy0 (ky = 0) of the image, `offset` floats into a channel's plane of that image.
typedef struct {
    int iy0, ox0, ox1, column;
    long offset;
} segment;

// Segments are cut this many at a time (a stack array).
#define SEGMENTS 256

// target[i] = source[2·i] for i < count.
__attribute__((target("avx512f"))) static inline void copy_even_avx512(float *restrict target, const float *restrict source, int count) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (; count >= 16; count -= 16, target += 16, source += 32) {
        // source[0 ..< 31]: the second load stops before the odd element past the last one needed.
        __m512 lo = _mm512_loadu_ps(source);
        __m512 hi = load_part_avx512(source + 16, 15);
        _mm512_storeu_ps(target, _mm512_permutex2var_ps(lo, even, hi));
    }
    if (count > 0) {
        // Needs source[0 ..< 2·count − 1].
        int needed = 2 * count - 1;
        __m512 lo = load_part_avx512(source, needed);
        __m512 hi = load_part_avx512(source + 16, needed - 16);
        store_part_avx512(target, _mm512_permutex2var_ps(lo, even, hi), count);
    }
}

#define COPY_EVEN_GENERIC(target, source, count)                                                                       \
    for (int i = 0; i < (count); i++) (target)[i] = (source)[2 * i]

#define PATCHES(TARGET, NAME, COPY_EVEN)                                                                               \
    TARGET void ck_im2col_##NAME(const float *restrict input, long channel_stride, long image_stride, int height,  \
                                     int width, int kernel, int stride, int padding, int out_h, int out_w,             \
                                     int row_begin, int row_end, int column_begin, int column_end, float *restrict out, \
                                     long ld) {                                                                        \
        int plane_size = out_h * out_w;                                                                                \
        /* Per kx: output columns [lo, hi) of an output row read inside the input row, 0 ≤ ox·stride − padding + kx < W. */ \
        int lo[16], hi[16];                                                                                            \
        if (kernel > 16) abort();                                                                                      \
        for (int kx = 0; kx < kernel; kx++) {                                                                          \
            lo[kx] = padding - kx <= 0 ? 0 : (padding - kx + stride - 1) / stride;                                     \
            if (lo[kx] > out_w) lo[kx] = out_w;                                                                        \
            int last = width - 1 + padding - kx; /* ox·stride ≤ last */                                                \
            hi[kx] = last < 0 ? 0 : last / stride + 1;                                                                 \
            if (hi[kx] > out_w) hi[kx] = out_w;                                                                        \
            if (hi[kx] < lo[kx]) hi[kx] = lo[kx];                                                                      \
        }                                                                                                              \
        segment segments[SEGMENTS];                                                                                    \
        int j = column_begin;                                                                                          \
        while (j < column_end) {                                                                                       \
            int count = 0;                                                                                             \
            int n = j / plane_size, oy = (j % plane_size) / out_w, ox = j % out_w;                                     \
            while (j < column_end && count < SEGMENTS) {                                                               \
                int end = column_end - j < out_w - ox ? column_end - j : out_w - ox;                                   \
                int iy0 = oy * stride - padding;                                                                       \
                segments[count++] = (segment){iy0, ox, ox + end, j - column_begin, n * image_stride + (long)iy0 * width - padding}; \
                j += end;                                                                                              \
                ox = 0;                                                                                                \
                if (++oy == out_h) {                                                                                   \
                    oy = 0;                                                                                            \
                    n++;                                                                                               \
                }                                                                                                      \
            }                                                                                                          \
            int c = row_begin / (kernel * kernel), ky = (row_begin / kernel) % kernel, kx = row_begin % kernel;        \
            for (int row = row_begin; row < row_end; row++) {                                                          \
                const float *channel = input + c * channel_stride + (long)ky * width + kx;                             \
                float *target_row = out + (long)(row - row_begin) * ld;                                                \
                int l = lo[kx], h = hi[kx];                                                                            \
                for (int s = 0; s < count; s++) {                                                                      \
                    const segment *g = &segments[s];                                                                   \
                    float *target = target_row + g->column - g->ox0; /* target[ox] for ox in ox0 ..< ox1 */            \
                    int iy = g->iy0 + ky;                                                                              \
                    if (iy < 0 || iy >= height) {                                                                      \
                        for (int x = g->ox0; x < g->ox1; x++) target[x] = 0;                                           \
                        continue;                                                                                      \
                    }                                                                                                  \
                    const float *source = channel + g->offset;                                                         \
                    /* ox0 ≤ a ≤ b ≤ ox1: a segment can end before this kx's first valid column (a tile ending at   \
                       ox = 1 of the 7×7 stem's kx = 0), and then copies nothing. */                                   \
                    int a = l > g->ox0 ? l : g->ox0;                                                                   \
                    if (a > g->ox1) a = g->ox1;                                                                        \
                    int b = h < g->ox1 ? h : g->ox1;                                                                   \
                    if (b < a) b = a;                                                                                  \
                    for (int x = g->ox0; x < a; x++) target[x] = 0;                                                    \
                    if (stride == 2) {                                                                                 \
                        COPY_EVEN(target + a, source + 2 * a, b - a);                                                  \
                    } else if (stride == 1) {                                                                          \
                        for (int x = a; x < b; x++) target[x] = source[x];                                             \
                    } else {                                                                                           \
                        for (int x = a; x < b; x++) target[x] = source[(long)x * stride];                              \
                    }                                                                                                  \
                    for (int x = b; x < g->ox1; x++) target[x] = 0;                                                    \
                }                                                                                                      \
                if (++kx == kernel) {                                                                                  \
                    kx = 0;                                                                                            \
                    if (++ky == kernel) {                                                                              \
                        ky = 0;                                                                                        \
                        c++;                                                                                           \
                    }                                                                                                  \
                }                                                                                                      \
            }                                                                                                          \
        }                                                                                                              \
    }

PATCHES(, baseline, COPY_EVEN_GENERIC)
PATCHES(__attribute__((target("avx2,fma"))), avx2, COPY_EVEN_GENERIC)
PATCHES(__attribute__((target("avx512f"))), avx512, copy_even_avx512)
