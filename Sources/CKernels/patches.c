#include "ckernels.h"


// Unfolding patches for convolutions that are not 1×1 stride 1 (the engine's kernels and OpenBLAS alike), compiled for
// each ISA so the strided copies of stride-2 layers vectorise with its permutes; baseline x86-64 without AVX2.

#define PATCHES(TARGET, NAME)                                                                                          \
    TARGET static void NAME##_im2col(const float *restrict input, long channel_stride, long image_stride, int height,  \
                                     int width, int kernel, int stride, int padding, int out_h, int out_w,             \
                                     int row_begin, int row_end, int column_begin, int column_end, float *restrict out, \
                                     long ld) {                                                                        \
        int plane_size = out_h * out_w;                                                                                \
        for (int row = row_begin; row < row_end; row++) {                                                              \
            int c = row / (kernel * kernel), ky = (row / kernel) % kernel, kx = row % kernel;                          \
            /* Output columns [lo, hi) of an output row read inside the input row: 0 ≤ ox·stride − padding + kx < W. */ \
            int lo = padding - kx <= 0 ? 0 : (padding - kx + stride - 1) / stride;                                     \
            if (lo > out_w) lo = out_w;                                                                                \
            int last = width - 1 + padding - kx; /* ox·stride ≤ last */                                                \
            int hi = last < 0 ? 0 : last / stride + 1;                                                                 \
            if (hi > out_w) hi = out_w;                                                                                \
            if (hi < lo) hi = lo;                                                                                      \
            float *target_row = out + (long)(row - row_begin) * ld - column_begin;                                     \
            int j = column_begin;                                                                                      \
            while (j < column_end) {                                                                                   \
                int n = j / plane_size, oy = (j % plane_size) / out_w, ox0 = j % out_w;                                \
                int end = column_end < j + out_w - ox0 ? column_end : j + out_w - ox0;                                 \
                int ox1 = ox0 + end - j;                                                                               \
                float *target = target_row + j - ox0; /* target[ox] for ox in ox0 ..< ox1 */                           \
                int iy = oy * stride - padding + ky;                                                                   \
                if (iy < 0 || iy >= height) {                                                                          \
                    for (int ox = ox0; ox < ox1; ox++) target[ox] = 0;                                                 \
                } else {                                                                                               \
                    const float *source = input + c * channel_stride + n * image_stride + (long)iy * width - padding + kx; \
                    int a = lo > ox0 ? lo : ox0, b = hi < ox1 ? hi : ox1;                                              \
                    if (b < a) b = a;                                                                                  \
                    if (a > ox1) a = ox1;                                                                              \
                    for (int ox = ox0; ox < a; ox++) target[ox] = 0;                                                   \
                    if (stride == 2)                                                                                   \
                        for (int ox = a; ox < b; ox++) target[ox] = source[2 * ox];                                    \
                    else if (stride == 1)                                                                              \
                        for (int ox = a; ox < b; ox++) target[ox] = source[ox];                                        \
                    else                                                                                               \
                        for (int ox = a; ox < b; ox++) target[ox] = source[(long)ox * stride];                         \
                    for (int ox = b; ox < ox1; ox++) target[ox] = 0;                                                   \
                }                                                                                                      \
                j = end;                                                                                               \
            }                                                                                                          \
        }                                                                                                              \
    }

PATCHES(, baseline)
PATCHES(__attribute__((target("avx2,fma"))), avx2)
PATCHES(__attribute__((target("avx512f"))), avx512)

void ck_im2col(ck_isa isa, const float *input, long channel_stride, long image_stride, int height, int width, int kernel, int stride,
               int padding, int out_h, int out_w, int row_begin, int row_end, int column_begin, int column_end, float *out, long ld) {
    switch (isa) {
    case CK_ISA_AVX512:
        avx512_im2col(input, channel_stride, image_stride, height, width, kernel, stride, padding, out_h, out_w, row_begin, row_end,
                      column_begin, column_end, out, ld);
        break;
    case CK_ISA_AVX2:
        avx2_im2col(input, channel_stride, image_stride, height, width, kernel, stride, padding, out_h, out_w, row_begin, row_end,
                    column_begin, column_end, out, ld);
        break;
    case CK_ISA_NONE:
        baseline_im2col(input, channel_stride, image_stride, height, width, kernel, stride, padding, out_h, out_w, row_begin,
                        row_end, column_begin, column_end, out, ld);
        break;
    }
}
