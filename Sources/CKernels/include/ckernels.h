#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>

/// Instruction sets the kernels are compiled for. Each variant is built for its own target with
/// `__attribute__((target(...)))` (never `-march`), so one binary runs on every x86-64 CPU and the engine
/// picks a variant once, at start-up. Every call names its ISA: nothing here is global state.
typedef enum {
    /// No AVX2/FMA: the engine uses OpenBLAS for everything.
    CK_ISA_NONE = 0,
    /// AVX2 + FMA3, 8 floats a vector (Haswell and later Intel, every Zen).
    CK_ISA_AVX2 = 1,
    /// AVX-512F, 16 floats a vector (Skylake-SP and later Intel, Zen 4 and later).
    CK_ISA_AVX512 = 2,
} ck_isa;

/// The widest instruction set this CPU and its operating system support (cpuid and xgetbv, through the
/// compiler's `__builtin_cpu_supports`).
ck_isa ck_best_isa(void);

/// `isa` if this CPU supports it, else the widest it supports that is narrower.
ck_isa ck_usable(ck_isa isa);

/// Rows of A (output channels) one micro-kernel call computes: packed A is padded to a multiple of this.
int ck_gemm_mr(ck_isa isa);

/// Columns (pixels) one micro-kernel call computes.
int ck_gemm_nr(ck_isa isa);

/// Floats a vector holds (8 or 16; 1 for CK_ISA_NONE).
int ck_vector_width(ck_isa isa);

/// Floats of packed A for an m×k matrix (rows padded to `ck_gemm_mr`).
size_t ck_gemm_packed_size(ck_isa isa, int m, int k);

/// Floats of the per-thread scratch `ck_gemm` packs B into.
size_t ck_gemm_scratch_size(void);

/// Packs the row-major m×k matrix `a` (rows `lda` apart) into the order the micro-kernel reads: blocks of K,
/// then panels of `ck_gemm_mr` rows, then for each k the panel's rows (zero past m). Done once, at load.
void ck_gemm_pack(ck_isa isa, int m, int k, const float *a, int lda, float *packed);

/// C[r, 0..<n] = act(bias[r] + Σ_k A[r, k] · B[k, 0..<n]) for the rows of panels panel_begin..<panel_end
/// (rows panel·mr ..< min(m, (panel + 1)·mr)). `packed` is A from `ck_gemm_pack` with the same ISA; B is
/// row-major k×n with rows `ldb` apart; C rows are `ldc` apart. `bias` is NULL (zero) or has a value for every row
/// of the panels (padded to whole panels). `relu` non-zero clamps at zero. `scratch` holds `ck_gemm_scratch_size()`
/// floats. Single-threaded: callers split panels or columns over their threads. `after` is NULL or the packed matrix of
/// the same shape the caller multiplies next over the same panels (a hint: the small-n kernel prefetches its first
/// panel while computing the last one here).
void ck_gemm(ck_isa isa, const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb,
             float *c, int ldc, const float *bias, int relu, float *scratch, const float *after);

/// `ck_gemm` over K rows k_begin..<k_end only (multiples of the K block, 256, or k_end = k), for splitting a deep,
/// narrow product over threads by K: each part then reads only its share of B. Only the AVX-512 small-n kernel
/// does this (n ≤ 200); returns 0, computing nothing, where it does not apply.
int ck_gemm_partial(ck_isa isa, const float *packed, int m, int k, int k_begin, int k_end, int panel_begin, int panel_end, int n,
                    const float *b, int ldb, float *c, int ldc, const float *bias, int relu);

/// Times `iterations` rounds of 12 independent vector FMAs (latency hidden, nothing else in the loop) on the
/// calling thread and returns the seconds taken: flops = iterations × 12 × 2 × ck_vector_width(isa). The
/// machine's measured ceiling for the kernels. `checksum` receives the accumulators' sum (keeps the loop alive).
double ck_peak_fma_loop(ck_isa isa, long iterations, double *checksum);

/// Winograd F(tile×tile, 3×3) input transform of one row of tiles (tile 2 or 4, α = tile + 2): `d` holds the α
/// input rows of the strip, each `padded` ≥ tile·tiles + 2 floats (zero outside the image); writes
/// V[ξ][x] = (Bᵀ d B)[ξ] for tile x at v[ξ·step + x]. `t` is scratch of α·padded floats. AVX2 or AVX-512 `isa`.
void ck_winograd_input_strip(ck_isa isa, int tile, const float *d, int padded, int tiles, float *t, float *v,
                             size_t step);

/// Winograd output transform of one row of tiles: y = relu(Aᵀ M A + bias) from M[ξ][x] at m[ξ·step + x], written as
/// `rows` (≤ tile) output rows of `width` floats, `width` apart, at `out` (columns past the image are dropped).
/// `s` is scratch of (2·α + 1)·tile·tiles floats.
void ck_winograd_output_strip(ck_isa isa, int tile, const float *m, size_t step, int tiles, float bias, float *s,
                              float *out, int width, int rows);

/// out[i] = max(x[i]·scale + shortcut[i], 0) for i < count (SE's scale, the residual add and ReLU in one pass); `out` is
/// `x` or does not overlap it.
void ck_scale_add_relu(ck_isa isa, const float *x, float scale, const float *shortcut, float *out, long count);

/// Σ x[i] for i < count, in 16 running sums (channel means for SE and global pooling).
float ck_sum(ck_isa isa, const float *x, long count);

/// Patches of a convolution (kernel × kernel, `stride`, `padding`) unfolded as GEMM operand rows: row r = (channel,
/// ky, kx) for r in row_begin..<row_end, output columns column_begin..<column_end (image, oy, ox over out_h × out_w),
/// written at out[(r − row_begin)·ld + (column − column_begin)], zero where the patch leaves the input. `input`:
/// channel c of image n at input + c·channel_stride + n·image_stride, height × width. A 1×1 kernel with padding 0 is
/// the subsampled input of a strided 1×1 convolution. `kernel` ≤ 16. Any `isa`, CK_ISA_NONE included (baseline x86-64).
void ck_im2col(ck_isa isa, const float *input, long channel_stride, long image_stride, int height, int width, int kernel, int stride,
               int padding, int out_h, int out_w, int row_begin, int row_end, int column_begin, int column_end, float *out, long ld);

/// sums[r·sums_stride] += Σ x[r·ld + j] for j < columns, for each r < rows (each row as `ck_sum` adds it): SE's channel
/// sums taken from a tile of a convolution's output while it is still in cache.
void ck_add_row_sums(ck_isa isa, const float *x, int rows, int columns, long ld, float *sums, long sums_stride);

/// 3×3 stride-2 pad-1 max pooling of one height × width plane into ((height − 1)/2 + 1) × ((width − 1)/2 + 1);
/// `row` is scratch of `width` floats.
void ck_maxpool3x3s2(ck_isa isa, const float *in, int height, int width, float *out, float *row);

/// Floats of packed weights and bias `ck_conv7x7s2_pack` writes for a 7×7 convolution of in_channels → out_channels.
size_t ck_conv7x7s2_packed_size(ck_isa isa, int out_channels, int in_channels);

/// Packs `weights` (out_channels × in_channels × 7 × 7, as PyTorch stores them) and `bias` (out_channels, or NULL for
/// zero) into blocks of output channels, tap by tap, in the order `ck_conv7x7s2` reads them. Done once, at load.
void ck_conv7x7s2_pack(ck_isa isa, int out_channels, int in_channels, const float *weights, const float *bias, float *packed);

/// Floats of scratch `ck_conv7x7s2` needs for input rows `width` wide.
size_t ck_conv7x7s2_scratch_size(ck_isa isa, int in_channels, int width);

/// The stem: 7×7 convolution, stride 2, padding 3, + bias (+ ReLU if `relu`), computed directly (no unfolded patches),
/// for output rows row_begin..<row_end of one image. `in`: in_channels planes of height × width, `in_stride` floats
/// apart; `out`: out_channels planes of ((height − 1)/2 + 1) × ((width − 1)/2 + 1), `out_stride` apart. Single-threaded
/// (callers split rows); `scratch` holds `ck_conv7x7s2_scratch_size` floats. AVX2 or AVX-512 `isa`; at most 64 input channels.
void ck_conv7x7s2(ck_isa isa, const float *packed, int out_channels, int in_channels, const float *in, long in_stride, int height,
                  int width, int row_begin, int row_end, float *out, long out_stride, int relu, float *scratch);

#endif
