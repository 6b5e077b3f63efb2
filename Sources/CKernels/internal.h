// The per-instruction-set entry points each kernel file defines and dispatch.c puts in the tables (ckernels.h documents
// what each does, as the table field of the same name). Suffixes: _baseline (x86-64 without AVX2), _avx2, _avx512,
// _avx512bf16 (products over bf16 pairs).
#ifndef CKERNELS_INTERNAL_H
#define CKERNELS_INTERNAL_H

#include "ckernels.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

// f rounded to bf16 as VCVTNEPS2BF16 does (nearest even, denormals to signed zero, NaN kept quiet), in the low 16 bits:
// for packing weights at load and the stem's rows.
static inline uint32_t ck_bf16_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) == 0) return (u >> 16) & 0x8000u;
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

// The half `hi` (0: low, channel 2q; 1: high, channel 2q + 1) of the bf16 pair at p, as fp32 (exact).
static inline float ck_pair_half(const float *p, int hi) {
    uint32_t u;
    memcpy(&u, p, 4);
    u = hi ? u & 0xffff0000u : u << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// *p = the bf16 pair (lo, hi), each rounded as `ck_bf16_bits`.
static inline void ck_store_pair(float *p, float lo, float hi) {
    uint32_t pair = ck_bf16_bits(lo) | ck_bf16_bits(hi) << 16;
    memcpy(p, &pair, 4);
}

// K block, in elements of a product operand (K values, or bf16 pairs): a B micro-panel (CK_KC × NR elements: 16 KiB with
// AVX2, 32 KiB with AVX-512) stays in L1.
#define CK_KC CK_GEMM_K_BLOCK
// Column block: packed B (CK_KC × CK_NC elements, 256 KiB) stays in L2 beside a block of A; it is the products' scratch.
#define CK_NC 256
_Static_assert(CK_KC * CK_NC == CK_GEMM_SCRATCH_FLOATS, "the products' scratch holds a packed block of B");

#define CK_PER_ISA(SUFFIX)                                                                                            \
    void ck_scale_add_relu_##SUFFIX(const float *x, float scale, const float *shortcut, float *out, long count);      \
    float ck_sum_##SUFFIX(const float *x, long count);                                                                \
    void ck_add_row_sums_##SUFFIX(const float *x, int rows, int columns, long ld, float *sums, long sums_stride);     \
    void ck_maxpool3x3s2_##SUFFIX(const float *in, int height, int width, float *out, float *row);                     \
    size_t ck_winograd_input_scratch_size_##SUFFIX(int tile, int width, int tile_rows);                              \
    void ck_winograd_input_##SUFFIX(int tile, const float *x, long channel_stride, int height, int width, int row_begin, \
                                    int row_end, int channel_begin, int channel_end, int pairs, float *v, size_t xi_stride, \
                                    size_t row_stride, float *scratch);                                               \
    size_t ck_winograd_output_scratch_size_##SUFFIX(int tile, int width);                                             \
    void ck_winograd_output_##SUFFIX(int tile, const float *m, size_t xi_stride, size_t row_stride, const float *bias, \
                                     int height, int width, int row_begin, int row_end, int channel_begin,            \
                                     int channel_end, float *out, long channel_stride, float *scratch);               \
    void ck_im2col_##SUFFIX(const float *input, long channel_stride, long image_stride, int height, int width,        \
                            int kernel, int stride, int padding, int out_h, int out_w, int row_begin, int row_end,    \
                            int column_begin, int column_end, float *out, long ld);
CK_PER_ISA(baseline)
CK_PER_ISA(avx2)
CK_PER_ISA(avx512)
// The bf16 table's input transform: F(2×2)'s pairs converted with VCVTNEPS2BF16, the rest as ck_winograd_input_avx512.
void ck_winograd_input_avx512bf16(int tile, const float *x, long channel_stride, int height, int width, int row_begin, int row_end,
                                  int channel_begin, int channel_end, int pairs, float *v, size_t xi_stride, size_t row_stride,
                                  float *scratch);
// The bf16 table's output transform writing the next 1×1's operand as bf16 pairs, with channel sums.
void ck_winograd_output_pairs_avx512bf16(int tile, const float *m, size_t xi_stride, size_t row_stride, const float *bias, int height,
                                         int width, int row_begin, int row_end, int channel_begin, int channel_end, float *out,
                                         long channel_stride, float *sums, float *scratch);

#define CK_PRODUCTS(SUFFIX)                                                                                           \
    size_t ck_gemm_packed_size_##SUFFIX(int m, int k);                                                                \
    void ck_gemm_pack_##SUFFIX(int m, int k, const float *a, int lda, float *packed);                                 \
    void ck_gemm_##SUFFIX(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b,   \
                          int ldb, float *c, int ldc, const float *bias, int relu, float *scratch, const float *after); \
    int ck_gemm_partial_##SUFFIX(const float *packed, int m, int k, int k_begin, int k_end, int panel_begin,          \
                                 int panel_end, int n, const float *b, int ldb, float *c, int ldc, const float *bias, \
                                 int relu);                                                                           \
    void ck_gemm_residual_##SUFFIX(const float *packed, int m, int k, int panel_begin, int panel_end, int n,          \
                                   const float *b, int ldb, float *c, int ldc, const float *bias, const float *scale,  \
                                   const float *shortcut, int ld_shortcut, int formats, float *scratch);              \
    double ck_peak_##SUFFIX(long iterations, double *checksum);
CK_PRODUCTS(avx2)
CK_PRODUCTS(avx512)
CK_PRODUCTS(avx512bf16)

void ck_operand_pack_avx512bf16(const float *b, int rows, int columns, long ldb, float *out, long ld_out);

// int8 (gemm_int8.c): the AVX-512 VNNI and AVX2 products, sharing the operand quantization.
#define CK_INT8_PRODUCTS(SUFFIX)                                                                                      \
    size_t ck_gemm_packed_size_##SUFFIX(int m, int k);                                                                \
    void ck_gemm_pack_##SUFFIX(int m, int k, const float *a, int lda, float input_scale, float *packed);              \
    void ck_gemm_##SUFFIX(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b,   \
                          int ldb, float *c, int ldc, const float *bias, int relu, float *scratch, const float *after); \
    void ck_gemm_quantized_##SUFFIX(const float *packed, int m, int k, int panel_begin, int panel_end, int n,          \
                                    const float *b, int ldb, float *c, int ldc, const float *bias, float output_scale); \
    double ck_peak_##SUFFIX(long iterations, double *checksum);
CK_INT8_PRODUCTS(avx512int8)
CK_INT8_PRODUCTS(avx2int8)
CK_INT8_PRODUCTS(avxvnni)
void ck_operand_quantize_avx512int8(const float *b, int rows, int columns, long ldb, float scale, float *out, long ld_out);
void ck_operand_quantize_avx2int8(const float *b, int rows, int columns, long ldb, float scale, float *out, long ld_out);
void ck_scale_add_relu_quantize_avx512int8(const float *x, long x_stride, const float *scales, long scales_stride,
                                           const float *shortcut, long shortcut_stride, float *out, long out_stride, float scale,
                                           float *quads, long count);
void ck_scale_add_relu_quantize_avx2int8(const float *x, long x_stride, const float *scales, long scales_stride,
                                         const float *shortcut, long shortcut_stride, float *out, long out_stride, float scale,
                                         float *quads, long count);
int ck_gemm_partial_int8(const float *packed, int m, int k, int k_begin, int k_end, int panel_begin, int panel_end, int n,
                         const float *b, int ldb, float *c, int ldc, const float *bias, int relu);

#define CK_STEM(SUFFIX)                                                                                               \
    size_t ck_conv7x7s2_packed_size_##SUFFIX(int out_channels, int in_channels);                                     \
    void ck_conv7x7s2_pack_##SUFFIX(int out_channels, int in_channels, const float *weights, const float *bias,       \
                                    float *packed);                                                                   \
    size_t ck_conv7x7s2_scratch_size_##SUFFIX(int in_channels, int width);                                           \
    void ck_conv7x7s2_##SUFFIX(const float *packed, int out_channels, int in_channels, const float *in, long in_stride, \
                               int height, int width, int row_begin, int row_end, float *out, long out_stride, int relu, \
                               float *scratch);
CK_STEM(avx2)
CK_STEM(avx512)
CK_STEM(avx512bf16)

#endif
