#include "internal.h"

// Plain loops compiled for each ISA so the compiler vectorises them with its vectors.

#define ELEMENTWISE(TARGET, NAME)                                                                                     \
    /* In place and into another buffer: separate loops, so each vectorises without a run-time overlap check (which   \
       in place would fail and fall back to scalar code). */                                                          \
    TARGET static void NAME##_scale_add_relu(float *restrict x, float s, const float *restrict shortcut, long count) { \
        for (long i = 0; i < count; i++) {                                                                            \
            float y = x[i] * s + shortcut[i];                                                                         \
            x[i] = y > 0 ? y : 0;                                                                                     \
        }                                                                                                             \
    }                                                                                                                 \
    TARGET static void NAME##_scale_add_relu_into(const float *restrict x, float s, const float *restrict shortcut,   \
                                                  float *restrict out, long count) {                                  \
        for (long i = 0; i < count; i++) {                                                                            \
            float y = x[i] * s + shortcut[i];                                                                         \
            out[i] = y > 0 ? y : 0;                                                                                   \
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
    }                                                                                                                 \
    TARGET static void NAME##_add_row_sums(const float *restrict x, int rows, int columns, long ld, float *restrict sums, \
                                           long sums_stride) {                                                       \
        for (int r = 0; r < rows; r++) sums[r * sums_stride] += NAME##_sum(x + r * ld, columns);                      \
    }

#define MAXPOOL(TARGET, NAME)                                                                                         \
    /* One plane: per output row the column-wise max of its (up to) three input rows into `row`, then the max of    \
       each window of three neighbouring columns, stride 2; the padding never wins, as in PyTorch. */               \
    TARGET static void NAME##_maxpool(const float *restrict in, int height, int width, float *restrict out,           \
                                      float *restrict row) {                                                          \
        int out_h = (height - 1) / 2 + 1, out_w = (width - 1) / 2 + 1;                                               \
        for (int oy = 0; oy < out_h; oy++) {                                                                          \
            int y0 = 2 * oy - 1 < 0 ? 0 : 2 * oy - 1, y1 = 2 * oy + 1 < height ? 2 * oy + 1 : height - 1;             \
            for (int x = 0; x < width; x++) row[x] = in[(long)y0 * width + x];                                        \
            for (int y = y0 + 1; y <= y1; y++)                                                                        \
                for (int x = 0; x < width; x++) {                                                                     \
                    float v = in[(long)y * width + x];                                                                \
                    row[x] = v > row[x] ? v : row[x];                                                                 \
                }                                                                                                     \
            float *target = out + (long)oy * out_w;                                                                   \
            target[0] = width > 1 && row[1] > row[0] ? row[1] : row[0];                                               \
            int inner = (width - 2) / 2; /* windows with all three columns: ox = 1 ..< inner + 1 */                   \
            for (int ox = 1; ox <= inner; ox++) {                                                                     \
                float a = row[2 * ox - 1], b = row[2 * ox], c = row[2 * ox + 1];                                      \
                float m = a > b ? a : b;                                                                              \
                target[ox] = m > c ? m : c;                                                                           \
            }                                                                                                         \
            for (int ox = inner + 1 > 1 ? inner + 1 : 1; ox < out_w; ox++) {                                         \
                int x = 2 * ox;                                                                                       \
                float m = row[x - 1] > row[x] ? row[x - 1] : row[x];                                                  \
                if (x + 1 < width && row[x + 1] > m) m = row[x + 1];                                                  \
                target[ox] = m;                                                                                       \
            }                                                                                                         \
        }                                                                                                             \
    }

// Each operation once, compiled three times: for baseline x86-64 (the tables of CPUs without AVX2, whose products run on
// OpenBLAS), AVX2 and AVX-512. `dispatch.c` puts them in the tables.
#define OPERATIONS(TARGET, NAME)                                                                                      \
    ELEMENTWISE(TARGET, NAME)                                                                                         \
    MAXPOOL(TARGET, NAME)                                                                                             \
    TARGET void ck_scale_add_relu_##NAME(const float *x, float scale, const float *shortcut, float *out, long count) {        \
        if (out == x) NAME##_scale_add_relu(out, scale, shortcut, count);                                             \
        else NAME##_scale_add_relu_into(x, scale, shortcut, out, count);                                              \
    }                                                                                                                 \
    TARGET float ck_sum_##NAME(const float *x, long count) { return NAME##_sum(x, count); }                                  \
    TARGET void ck_add_row_sums_##NAME(const float *x, int rows, int columns, long ld, float *sums, long sums_stride) {       \
        NAME##_add_row_sums(x, rows, columns, ld, sums, sums_stride);                                                 \
    }                                                                                                                 \
    TARGET void ck_maxpool3x3s2_##NAME(const float *in, int height, int width, float *out, float *row) {                     \
        NAME##_maxpool(in, height, width, out, row);                                                                  \
    }

OPERATIONS(, baseline)
OPERATIONS(__attribute__((target("avx2,fma"))), avx2)
OPERATIONS(__attribute__((target("avx512f"))), avx512)
