#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>

/// Instruction sets the kernels are compiled for. Each variant is built for its own target with
/// `__attribute__((target(...)))` (never `-march`), so one binary runs on every x86-64 CPU and the engine
/// picks a table (`ck_kernels_for`) once, at start-up. Nothing here is global state.
typedef enum {
    /// Baseline x86-64 (no AVX2/FMA): OpenBLAS runs the products, the other operations are compiled for SSE2.
    CK_ISA_NONE = 0,
    /// AVX2 + FMA3, 8 floats a vector (Haswell and later Intel, every Zen).
    CK_ISA_AVX2 = 1,
    /// AVX-512F, 16 floats a vector (Skylake-SP and later Intel, Zen 4 and later).
    CK_ISA_AVX512 = 2,
} ck_isa;

/// Number formats the products (GEMMs) can take their operands in. Accumulation, bias, ReLU and everything outside
/// the products stay fp32.
typedef enum {
    /// fp32 operands: the default, timm's answer to float precision.
    CK_FP32 = 0,
    /// bf16 operands (round to nearest even, as VCVTNEPS2BF16), K taken in pairs by VDPBF16PS, fp32 accumulation.
    /// Needs AVX512_BF16.
    CK_BF16 = 1,
    /// s8 weights per output channel and u8 activations per tensor (each with its own scale), K taken in groups of 4,
    /// s32 accumulation, fp32 output. VPDPBUSD on AVX-512 VNNI (and AVX-VNNI); VPMADDUBSW + VPMADDWD on AVX2, with 7-bit
    /// weights.
    CK_INT8 = 2,
} ck_precision;

/// The widest instruction set this CPU and its operating system support (cpuid and xgetbv, through the
/// compiler's `__builtin_cpu_supports`).
ck_isa ck_best_isa(void);

/// `isa` if this CPU supports it, else the widest it supports that is narrower.
ck_isa ck_usable(ck_isa isa);

/// Non-zero when this CPU has AVX512_BF16 (VDPBF16PS, VCVTNEPS2BF16) and AVX-512.
int ck_has_avx512_bf16(void);

/// Non-zero when this CPU has AVX512_VNNI (VPDPBUSD) and AVX-512 BW.
int ck_has_avx512_vnni(void);

/// Non-zero when this CPU has AVX-VNNI (VEX-encoded VPDPBUSD on 256-bit vectors) and AVX2.
int ck_has_avx_vnni(void);

/// Floats of per-thread scratch the products (`gemm`) of every table need.
#define CK_GEMM_SCRATCH_FLOATS 65536
/// Elements of K (K values, or bf16 pairs) the wide kernel takes in one block (`gemm_residual`).
#define CK_GEMM_K_BLOCK 256
/// `gemm_residual`'s formats: the shortcut, the output as bf16 pair rows.
#define CK_RESIDUAL_SHORTCUT_PAIRS 1
#define CK_RESIDUAL_OUTPUT_PAIRS 2

/// One instruction set's kernels for one precision, in one table (as MLAS's platform table): the engine picks a table
/// once, at load, and every call goes through it. Sizes are in 4-byte units ("floats"); a bf16 table's packed weights
/// and product operands hold a pair of bf16 values (K and K + 1) in each.
typedef struct ck_kernels {
    ck_isa isa;
    ck_precision precision;
    /// What `/v1/model` and `bench` call it: "avx512", "avx512 bf16", "avx2 int8 (AVX-VNNI)", "baseline"…
    const char *name;
    /// int8 tables: the weights' range, ±127 (VNNI) or ±63 (AVX2's VPMADDUBSW, whose s16 pair sums must not saturate);
    /// 0 elsewhere.
    int int8_weight_limit;
    /// Rows of A (output channels) a packed panel holds: packed A is padded to a multiple of this. 0: no products
    /// (baseline x86-64: OpenBLAS runs them).
    int gemm_mr;
    /// Floats a vector holds (8 or 16; 1 for baseline x86-64).
    int vector_width;
    /// K values one element of a product operand holds: 1 (fp32) or 2 (bf16 pairs).
    int k_group;
    /// Flops one instruction of `peak_fma_loop` does (2 per lane for an FMA, 4 per lane for VDPBF16PS).
    int peak_flops_per_instruction;

    /// Floats of packed A for an m×k matrix (rows padded to `gemm_mr`, K to `k_group`).
    size_t (*gemm_packed_size)(int m, int k);

    /// Packs the row-major m×k matrix `a` (rows `lda` apart) into the order the micro-kernel reads: blocks of K,
    /// then panels of `gemm_mr` rows, then for each k (pair) the panel's rows (zero past m and k). Done once, at load.
    void (*gemm_pack)(int m, int k, const float *a, int lda, float *packed);

    /// The product operand from fp32 rows: out[q·ld_out + j] = rows 2q and 2q + 1 of b (rows `ldb` apart) at column j
    /// as a bf16 pair (row 2q in the low half; zero past `rows`), for q < (rows + 1)/2, j < columns. `out` may be `b`
    /// itself with ld_out = ldb (converted in place). NULL for fp32 tables, whose products read fp32 rows as they are.
    void (*operand_pack)(const float *b, int rows, int columns, long ldb, float *out, long ld_out);

    /// C[r, 0..<n] = act(bias[r] + Σ_k A[r, k] · B[k, 0..<n]) for the rows of panels panel_begin..<panel_end
    /// (rows panel·mr ..< min(m, (panel + 1)·mr)). `packed` is A from `gemm_pack` of the same table; B is k×n in the
    /// table's operand format (fp32 rows, or bf16 pairs from `operand_pack`) with rows `ldb` apart; C rows are `ldc`
    /// apart. `bias` is NULL (zero) or has a value for every row of the panels (padded to whole panels). `relu` non-zero
    /// clamps at zero. `scratch` holds CK_GEMM_SCRATCH_FLOATS floats. Single-threaded: callers split panels or columns over
    /// their threads. `after` is NULL or the packed matrix of the same shape the caller multiplies next over the same
    /// panels (a hint: the small-n kernel prefetches its first panel while computing the last one here).
    void (*gemm)(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb, float *c,
                 int ldc, const float *bias, int relu, float *scratch, const float *after);

    /// `gemm` over K rows k_begin..<k_end only (multiples of `k_group`, or k_end = k), for splitting a deep, narrow
    /// product over threads by K: each part then reads only its share of B (its rows of the whole operand at `b`).
    /// Only the AVX-512 small-n kernel does this (n ≤ 200); returns 0, computing nothing, where it does not apply.
    int (*gemm_partial)(const float *packed, int m, int k, int k_begin, int k_end, int panel_begin, int panel_end, int n,
                        const float *b, int ldb, float *c, int ldc, const float *bias, int relu);

    /// fp32 and bf16 tables (NULL in the others): `gemm` with ReLU whose epilogue ends a bottleneck, on the tile in
    /// registers: c[r, j] = max((bias[r] + Σ_k W[r, k]·b[k, j]) · scale[r] + shortcut[r·ld_shortcut + j], 0) (SE's scale,
    /// NULL for 1; the residual add; the ReLU), the scale and add one fused multiply-add as `scale_add_relu` computes
    /// them, so the result is that of `gemm` followed by `scale_add_relu`. `scale` and `shortcut` point at row 0, as `c`.
    /// `shortcut` may be `c` itself (ld_shortcut = ldc) when K is a single block (at most CK_GEMM_K_BLOCK elements: 256 K values
    /// in fp32, 512 in bf16), else it does not overlap c. On AVX-512 the small-n kernel where `gemm` would run it
    /// (up to 200 columns), else the wide kernel.
    /// `formats` (0 in fp32 tables; bf16 tables, m even and K a single block): CK_RESIDUAL_SHORTCUT_PAIRS reads the shortcut
    /// as bf16 pair rows (rows 2q and 2q + 1 are the halves of the pair row at shortcut + q·ld_shortcut), and
    /// CK_RESIDUAL_OUTPUT_PAIRS writes c so (the pair row at c + q·ldc, each value rounded as `operand_pack` rounds), as
    /// the next 1×1's operand. In place (shortcut = c) both or neither.
    void (*gemm_residual)(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb,
                          float *c, int ldc, const float *bias, const float *scale, const float *shortcut, int ld_shortcut,
                          int formats, float *scratch);

    /// int8 tables only (NULL elsewhere; they have no `gemm_pack`): quantizes the row-major m×k fp32 matrix `a` (rows
    /// `lda` apart) to s8 per row — scale max|row| / `int8_weight_limit`, round to nearest even — and packs it for
    /// products whose operand is quantized with `input_scale`: the packed matrix holds each row's output scale, the
    /// row's scale × `input_scale`, which `gemm` applies before the bias. Done once, at load.
    void (*gemm_pack_int8)(int m, int k, const float *a, int lda, float input_scale, float *packed);

    /// int8 tables only: `gemm` with ReLU whose output is the operand of the next product, quantized at that product's
    /// input scale `output_scale`: C's rows r as u8 = clamp(round(act / output_scale), 0, 255) (nearest even) in byte r % 4
    /// of the 4-byte element c[(r / 4)·ldc + j] (bytes past m zero): exactly what `operand_quantize` makes of `gemm`'s fp32
    /// output, without the fp32 output. An operand for products whose K runs over channels in groups of 4 (`im2col` of
    /// such elements unfolds (channel group, ky, kx) rows, each holding 4 channels).
    void (*gemm_quantized)(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb, float *c,
                           int ldc, const float *bias, float output_scale);

    /// int8 tables only: the product operand from fp32 rows, u8 = clamp(round(x / scale), 0, 255) (nearest even): the u8
    /// values of rows 4q…4q + 3 of b (rows `ldb` apart) at column j in the four bytes of out[q·ld_out + j] (row 4q in the
    /// lowest; zero past `rows`), for q < (rows + 3)/4, j < columns.
    void (*operand_quantize)(const float *b, int rows, int columns, long ldb, float scale, float *out, long ld_out);

    /// int8 tables only: `scale_add_relu` for the 4 channels t < 4 of a group (channel t's values `x_stride`,
    /// `shortcut_stride` and `out_stride` floats after channel 0's, its scale at scales[t·scales_stride]), also writing
    /// the u8 quads of the results at `scale`, as `operand_quantize` would make of them, at quads[i]: a block's output and,
    /// at once, the next block's operand. `out` is `x` or does not overlap it.
    void (*scale_add_relu_quantize)(const float *x, long x_stride, const float *scales, long scales_stride, const float *shortcut,
                                    long shortcut_stride, float *out, long out_stride, float scale, float *quads, long count);

    /// Times `iterations` rounds of 12 independent vector multiply-adds (latency hidden, nothing else in the loop) on
    /// the calling thread and returns the seconds taken: flops = iterations × 12 × `peak_flops_per_instruction`. The
    /// machine's measured ceiling for the kernels. `checksum` receives the accumulators' sum (keeps the loop alive).
    /// NULL for baseline x86-64.
    double (*peak_fma_loop)(long iterations, double *checksum);

    /// Floats of scratch `winograd_input` needs for `tile_rows` rows of tiles of an image `width` wide.
    size_t (*winograd_input_scratch_size)(int tile, int width, int tile_rows);

    /// Winograd F(tile×tile, 3×3) input transform (tile 2 or 4, α = tile + 2, stride 1, padding 1) of tile rows
    /// row_begin..<row_end of one image, channels channel_begin..<channel_end: channel c's plane (height × width) at
    /// x + c·channel_stride. Writes V[ξ][c][t] = (Bᵀ d B)[ξ] of tile t (counted from the range's first, tiles_wide =
    /// ⌈width / tile⌉ a row) at v[ξ·xi_stride + c·row_stride + t]; with `pairs` (bf16 products' operand; channel_begin
    /// even) channels 2q and 2q + 1 as the bf16 pair v[ξ·xi_stride + q·row_stride + t] instead, 2q in the low half, rounded
    /// as `operand_pack` rounds (a channel at or past channel_end counts as zero). `scratch` holds
    /// `winograd_input_scratch_size` floats.
    void (*winograd_input)(int tile, const float *x, long channel_stride, int height, int width, int row_begin, int row_end,
                           int channel_begin, int channel_end, int pairs, float *v, size_t xi_stride, size_t row_stride,
                           float *scratch);

    /// Floats of scratch `winograd_output` needs for an image `width` wide.
    size_t (*winograd_output_scratch_size)(int tile, int width);

    /// Winograd output transform of tile rows row_begin..<row_end of one image (height × width) and output channels
    /// channel_begin..<channel_end: y = relu(Aᵀ M A + bias[c]) from M[ξ][c][t] at m[ξ·xi_stride + c·row_stride + t] (t
    /// counted from the range's first tile, tiles_wide = ⌈width / tile⌉ a row), written into channel c's plane at
    /// out + c·channel_stride (rows and columns past the image are dropped). `scratch` holds
    /// `winograd_output_scratch_size` floats.
    void (*winograd_output)(int tile, const float *m, size_t xi_stride, size_t row_stride, const float *bias, int height,
                            int width, int row_begin, int row_end, int channel_begin, int channel_end, float *out,
                            long channel_stride, float *scratch);

    /// bf16 tables: `winograd_output` writing its output as the next 1×1 convolution's operand, channels 2q and 2q + 1 as
    /// the bf16 pair at out + q·channel_stride (2q in the low half, rounded as `operand_pack` rounds; channel_begin even, a
    /// channel at or past channel_end counts as zero), and with `sums` (NULL: none) adding each channel's sum of its fp32
    /// outputs over the image's pixels to sums[c] (SE's squeeze; 16 channels a vector, tile by tile). NULL in the other
    /// tables.
    void (*winograd_output_pairs)(int tile, const float *m, size_t xi_stride, size_t row_stride, const float *bias, int height,
                                  int width, int row_begin, int row_end, int channel_begin, int channel_end, float *out,
                                  long channel_stride, float *sums, float *scratch);

    /// out[i] = max(x[i]·scale + shortcut[i], 0) for i < count (SE's scale, the residual add and ReLU in one pass); `out`
    /// is `x` or does not overlap it.
    void (*scale_add_relu)(const float *x, float scale, const float *shortcut, float *out, long count);

    /// Σ x[i] for i < count, in 16 running sums (channel means for SE and global pooling).
    float (*sum)(const float *x, long count);

    /// sums[r·sums_stride] += Σ x[r·ld + j] for j < columns, for each r < rows (each row as `sum` adds it): SE's channel
    /// sums taken from a tile of a convolution's output while it is still in cache.
    void (*add_row_sums)(const float *x, int rows, int columns, long ld, float *sums, long sums_stride);

    /// 3×3 stride-2 pad-1 max pooling of one height × width plane into ((height − 1)/2 + 1) × ((width − 1)/2 + 1);
    /// `row` is scratch of `width` floats.
    void (*maxpool3x3s2)(const float *in, int height, int width, float *out, float *row);

    /// Patches of a convolution (kernel × kernel, `stride`, `padding`) unfolded as GEMM operand rows (fp32): row r =
    /// (channel, ky, kx) for r in row_begin..<row_end, output columns column_begin..<column_end (image, oy, ox over
    /// out_h × out_w), written at out[(r − row_begin)·ld + (column − column_begin)], zero where the patch leaves the input.
    /// `input`: channel c of image n at input + c·channel_stride + n·image_stride, height × width. A 1×1 kernel with
    /// padding 0 is the subsampled input of a strided 1×1 convolution. `kernel` ≤ 16.
    void (*im2col)(const float *input, long channel_stride, long image_stride, int height, int width, int kernel, int stride,
                   int padding, int out_h, int out_w, int row_begin, int row_end, int column_begin, int column_end, float *out,
                   long ld);

    /// Floats of packed weights and bias `conv7x7s2_pack` writes for a 7×7 convolution of in_channels → out_channels.
    /// The direct 7×7 stride-2 kernel's entries are NULL for baseline x86-64.
    size_t (*conv7x7s2_packed_size)(int out_channels, int in_channels);

    /// Packs `weights` (out_channels × in_channels × 7 × 7, as PyTorch stores them) and `bias` (out_channels, or NULL for
    /// zero) into blocks of output channels, tap by tap, in the order `conv7x7s2` reads them. Done once, at load.
    void (*conv7x7s2_pack)(int out_channels, int in_channels, const float *weights, const float *bias, float *packed);

    /// Floats of scratch `conv7x7s2` needs for input rows `width` wide.
    size_t (*conv7x7s2_scratch_size)(int in_channels, int width);

    /// The stem: 7×7 convolution, stride 2, padding 3, + bias (+ ReLU if `relu`), computed directly (no unfolded
    /// patches), for output rows row_begin..<row_end of one image. `in`: in_channels planes of height × width,
    /// `in_stride` floats apart; `out`: out_channels planes of ((height − 1)/2 + 1) × ((width − 1)/2 + 1), `out_stride`
    /// apart. Single-threaded (callers split rows); `scratch` holds `conv7x7s2_scratch_size` floats. At most 64 input
    /// channels.
    void (*conv7x7s2)(const float *packed, int out_channels, int in_channels, const float *in, long in_stride, int height,
                      int width, int row_begin, int row_end, float *out, long out_stride, int relu, float *scratch);
} ck_kernels;

/// The table of `isa` and `precision`, or NULL when this CPU cannot run it (CK_BF16 needs CK_ISA_AVX512 and
/// AVX512_BF16). CK_ISA_NONE with CK_FP32 is baseline x86-64: every operation but the products and the stem.
const ck_kernels *ck_kernels_for(ck_isa isa, ck_precision precision);

#endif
