#include "internal.h"

// The tables (MLAS's platform table, ggml's per-ISA function tables): every entry point a plan calls, filled once
// here, so no kernel switches on the instruction set. The bf16 table is the AVX-512 one with bf16 products and stem; the
// int8 tables are the AVX-512 (with VNNI) and AVX2 ones (VPMADDUBSW, or AVX-VNNI's VPDPBUSD where the CPU has it) with
// int8 products.

#define OPERATIONS(SUFFIX) OPERATIONS_WITH_INPUT(SUFFIX, SUFFIX)
// WINOGRAD_INPUT names the input transform's entry point (the bf16 table's converts pairs with VCVTNEPS2BF16).
#define OPERATIONS_WITH_INPUT(SUFFIX, WINOGRAD_INPUT)                                                                 \
    .winograd_input_scratch_size = ck_winograd_input_scratch_size_##SUFFIX, .winograd_input = ck_winograd_input_##WINOGRAD_INPUT, \
    .winograd_output_scratch_size = ck_winograd_output_scratch_size_##SUFFIX, .winograd_output = ck_winograd_output_##SUFFIX, \
    .scale_add_relu = ck_scale_add_relu_##SUFFIX, .sum = ck_sum_##SUFFIX, .add_row_sums = ck_add_row_sums_##SUFFIX,  \
    .maxpool3x3s2 = ck_maxpool3x3s2_##SUFFIX, .im2col = ck_im2col_##SUFFIX

#define STEM(SUFFIX)                                                                                                  \
    .conv7x7s2_packed_size = ck_conv7x7s2_packed_size_##SUFFIX, .conv7x7s2_pack = ck_conv7x7s2_pack_##SUFFIX,         \
    .conv7x7s2_scratch_size = ck_conv7x7s2_scratch_size_##SUFFIX, .conv7x7s2 = ck_conv7x7s2_##SUFFIX

#define PRODUCTS(SUFFIX)                                                                                              \
    .gemm_packed_size = ck_gemm_packed_size_##SUFFIX, .gemm_pack = ck_gemm_pack_##SUFFIX, .gemm = ck_gemm_##SUFFIX,   \
    .gemm_partial = ck_gemm_partial_##SUFFIX, .gemm_residual = ck_gemm_residual_##SUFFIX, .peak_fma_loop = ck_peak_##SUFFIX


static const ck_kernels baseline = {
    .isa = CK_ISA_NONE, .precision = CK_FP32, .name = "baseline", .gemm_mr = 0, .vector_width = 1, .k_group = 1,
    OPERATIONS(baseline),
};

static const ck_kernels avx2 = {
    .isa = CK_ISA_AVX2, .precision = CK_FP32, .name = "avx2", .gemm_mr = 6, .vector_width = 8, .k_group = 1,
    .peak_flops_per_instruction = 2 * 8, PRODUCTS(avx2), OPERATIONS(avx2), STEM(avx2),
};

static const ck_kernels avx512 = {
    .isa = CK_ISA_AVX512, .precision = CK_FP32, .name = "avx512", .gemm_mr = 32, .vector_width = 16, .k_group = 1,
    .peak_flops_per_instruction = 2 * 16, PRODUCTS(avx512), OPERATIONS(avx512), STEM(avx512),
};

static const ck_kernels avx512_bf16 = {
    .isa = CK_ISA_AVX512, .precision = CK_BF16, .name = "avx512 bf16", .gemm_mr = 32, .vector_width = 16, .k_group = 2,
    .peak_flops_per_instruction = 4 * 16, .operand_pack = ck_operand_pack_avx512bf16, PRODUCTS(avx512bf16),
    OPERATIONS_WITH_INPUT(avx512, avx512bf16), STEM(avx512bf16), .winograd_output_pairs = ck_winograd_output_pairs_avx512bf16,
};

// int8 products of SUFFIX; QUANTIZE names the quantizing passes (the AVX2 ones serve AVX-VNNI too).
#define INT8_PRODUCTS(SUFFIX, QUANTIZE)                                                                               \
    .gemm_packed_size = ck_gemm_packed_size_##SUFFIX, .gemm_pack_int8 = ck_gemm_pack_##SUFFIX, .gemm = ck_gemm_##SUFFIX, \
    .gemm_quantized = ck_gemm_quantized_##SUFFIX, .gemm_partial = ck_gemm_partial_int8,                              \
    .operand_quantize = ck_operand_quantize_##QUANTIZE, .scale_add_relu_quantize = ck_scale_add_relu_quantize_##QUANTIZE, \
    .peak_fma_loop = ck_peak_##SUFFIX

// int8 products (s32 accumulation: K is never split, `gemm_partial` computes nothing); the rest as the fp32 tables.
static const ck_kernels avx512_int8 = {
    .isa = CK_ISA_AVX512, .precision = CK_INT8, .name = "avx512 int8", .gemm_mr = 32, .vector_width = 16, .k_group = 4,
    .peak_flops_per_instruction = 2 * 64, .int8_weight_limit = 127,
    INT8_PRODUCTS(avx512int8, avx512int8), OPERATIONS(avx512), STEM(avx512),
};

static const ck_kernels avx2_int8 = {
    .isa = CK_ISA_AVX2, .precision = CK_INT8, .name = "avx2 int8", .gemm_mr = 16, .vector_width = 8, .k_group = 4,
    .peak_flops_per_instruction = 2 * 32, .int8_weight_limit = 63,
    INT8_PRODUCTS(avx2int8, avx2int8), OPERATIONS(avx2), STEM(avx2),
};

// AVX2 CPUs with AVX-VNNI (Alder Lake and later Intel, Zen 5 held to AVX2): VEX VPDPBUSD, full 8-bit weights.
static const ck_kernels avxvnni_int8 = {
    .isa = CK_ISA_AVX2, .precision = CK_INT8, .name = "avx2 int8 (AVX-VNNI)", .gemm_mr = 16, .vector_width = 8, .k_group = 4,
    .peak_flops_per_instruction = 2 * 32, .int8_weight_limit = 127, INT8_PRODUCTS(avxvnni, avx2int8),
    OPERATIONS(avx2), STEM(avx2),
};

const ck_kernels *ck_kernels_for(ck_isa isa, ck_precision precision) {
    if (precision == CK_INT8) {
        if (isa == CK_ISA_AVX512) return ck_has_avx512_vnni() ? &avx512_int8 : 0;
        if (isa == CK_ISA_AVX2 && ck_usable(CK_ISA_AVX2) == CK_ISA_AVX2) return ck_has_avx_vnni() ? &avxvnni_int8 : &avx2_int8;
        return 0;
    }
    if (precision == CK_BF16) {
        if (isa != CK_ISA_AVX512 || !ck_has_avx512_bf16()) return 0;
        return &avx512_bf16;
    }
    if (precision != CK_FP32 || ck_usable(isa) != isa) return 0;
    switch (isa) {
    case CK_ISA_NONE: return &baseline;
    case CK_ISA_AVX2: return &avx2;
    case CK_ISA_AVX512: return &avx512;
    }
    return 0;
}
