#include "internal.h"
#include "lanes.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

// int8 products: weights s8 per output channel (row), activations u8 per tensor, s32 accumulation, fp32 output
// act(scale[r]·Σ + bias[r]) where scale[r] = the row's weight scale × the input's scale. Two instruction sets:
// - AVX-512 VNNI: VPDPBUSD adds the four u8·s8 products of each 32-bit lane exactly. Weights use [−127, 127].
// - AVX2: VPMADDUBSW then VPMADDWD(·, 1). VPMADDUBSW adds two u8·s8 products into an s16 with saturation, which
//   255·127·2 would exceed; as oneDNN does on CPUs without VNNI ("Nuances of int8 computations"), the weights keep 7 bits,
//   [−63, 63], so a pair sums to at most 255·63·2 = 32130 and nothing saturates: the result is exact, at the cost of one
//   bit of weight precision.

// u8 of each lane of x at `inverse` (1 / the scale): clamp(x·inverse, 0, 255) rounded to nearest even (VCVTPS2DQ),
// clamped before the conversion so values past the int32 range saturate to 255 rather than wrap. Every vector path that
// makes an operand (the epilogues, the residual add, the quantization of fp32 rows) goes through these, so the operand is
// the same wherever it is made; `quantize_u8` is their scalar twin.
__attribute__((target("avx512f"))) static inline __m512i u8_lanes_avx512(__m512 x, __m512 inverse) {
    return _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x, inverse), _mm512_setzero_ps()), _mm512_set1_ps(255)));
}
__attribute__((target("avx2"))) static inline __m256i u8_lanes_avx2(__m256 x, __m256 inverse) {
    return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(x, inverse), _mm256_setzero_ps()), _mm256_set1_ps(255)));
}
static inline uint32_t quantize_u8(float x, float inverse) {
    float q = x * inverse;
    q = q > 0 ? q : 0;
    q = q < 255 ? q : 255;
    return (uint32_t)nearbyintf(q);
}

// ---- AVX-512 VNNI: 32 rows (two vectors) × up to 14 columns (28 accumulators).
#define VI __m512i
#define VW 16
#define NPMAX 14
#define TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define NAME(x) x##_avx512vnni
#define VDOT(acc, u, s) _mm512_dpbusd_epi32((acc), (u), (s))
#define PREFETCH_C 1
TARGET static inline __m512i zero_avx512vnni(void) { return _mm512_setzero_si512(); }
TARGET static inline __m512i load_avx512vnni(const int32_t *p) { return _mm512_loadu_si512((const void *)p); }
TARGET static inline __m512i set1_avx512vnni(int32_t x) { return _mm512_set1_epi32(x); }
TARGET static inline void epilogue_avx512vnni(__m512i acc, const float *scales, const float *bias, int relu, float *out) {
    __m512 y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(scales), bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps());
    _mm512_store_ps(out, relu ? _mm512_max_ps(y, _mm512_setzero_ps()) : y);
}
// Whole 32-row panels: each half's columns transposed in registers into 16 rows (`transpose_store_avx512`, as the fp32
// small-n kernel stores), one masked store per row instead of 16 scalar stores per column.
TARGET __attribute__((always_inline)) static inline void store_whole_avx512vnni(__m512i (*acc)[2], int np, const float *scales,
                                                                              const float *bias, int relu, float *c, int ldc) {
    for (int half = 0; half < 2; half++) {
        __m512 scale = _mm512_loadu_ps(scales + 16 * half);
        __m512 shift = bias ? _mm512_loadu_ps(bias + 16 * half) : _mm512_setzero_ps();
        __m512 columns[NPMAX];
        for (int j = 0; j < np; j++) {
            __m512 y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[j][half]), scale, shift);
            columns[j] = relu ? _mm512_max_ps(y, _mm512_setzero_ps()) : y;
        }
        transpose_store_avx512(columns, np, c + (size_t)16 * half * ldc, ldc);
    }
}
// A whole panel's column as u8 quads for `gemm_quantized`: each half's 16 rows through the epilogue with ReLU, scaled by
// `inverse`, clamped and rounded (`u8_lanes_avx512`; its clamp at 0 is the ReLU) and narrowed (VPMOVDB) to 16 bytes,
// rows 4g…4g+3 in the 32-bit element g.
TARGET __attribute__((always_inline)) static inline void quads_avx512vnni(__m512i acc0, __m512i acc1, const float *scales,
                                                                          const float *bias, float inverse, __m128i *out) {
    __m512i acc[2] = {acc0, acc1};
    for (int half = 0; half < 2; half++) {
        __m512 y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[half]), _mm512_loadu_ps(scales + 16 * half),
                                   bias ? _mm512_loadu_ps(bias + 16 * half) : _mm512_setzero_ps());
        out[half] = _mm512_cvtepi32_epi8(u8_lanes_avx512(y, _mm512_set1_ps(inverse)));
    }
}
#include "gemm_int8.inc"

// ---- AVX2: 16 rows (two vectors) × up to 5 columns (10 accumulators, two weight vectors, a broadcast, the ones and a
// temporary: 15 of 16 registers).
#define VI __m256i
#define VW 8
#define NPMAX 5
#define TARGET __attribute__((target("avx2,fma")))
#define NAME(x) x##_avx2int8
TARGET static inline __m256i dot_avx2int8(__m256i acc, __m256i u, __m256i s) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}
#define VDOT(acc, u, s) dot_avx2int8((acc), (u), (s))
#define PREFETCH_C 0
TARGET static inline __m256i zero_avx2int8(void) { return _mm256_setzero_si256(); }
TARGET static inline __m256i load_avx2int8(const int32_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
TARGET static inline __m256i set1_avx2int8(int32_t x) { return _mm256_set1_epi32(x); }
TARGET static inline void epilogue_avx2int8(__m256i acc, const float *scales, const float *bias, int relu, float *out) {
    __m256 y = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(scales), bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps());
    _mm256_store_ps(out, relu ? _mm256_max_ps(y, _mm256_setzero_ps()) : y);
}
// Whole 16-row panels: each half's columns (at most 5, padded to 8) transposed in registers by an 8 × 8 transpose into 8
// rows, each stored as its first np floats (no VMASKMOVPS: microcoded and slow on AMD), instead of a tile copied out
// value by value.
TARGET __attribute__((always_inline)) static inline void store_first_avx2int8(float *p, __m256 v, int count) {
    __m128 part = _mm256_castps256_ps128(v);
    if (count >= 4) {
        _mm_storeu_ps(p, part);
        part = _mm256_extractf128_ps(v, 1);
        p += 4;
        count -= 4;
        if (count >= 4) {
            _mm_storeu_ps(p, part);
            return;
        }
    }
    if (count >= 2) {
        _mm_storel_pi((__m64 *)p, part);
        part = _mm_movehl_ps(part, part);
        p += 2;
        count -= 2;
    }
    if (count == 1) _mm_store_ss(p, part);
}
TARGET __attribute__((always_inline)) static inline void store_whole_avx2int8(__m256i (*acc)[2], int np, const float *scales,
                                                                              const float *bias, int relu, float *c, int ldc) {
    for (int half = 0; half < 2; half++) {
        __m256 scale = _mm256_loadu_ps(scales + 8 * half);
        __m256 shift = bias ? _mm256_loadu_ps(bias + 8 * half) : _mm256_setzero_ps();
        __m256 col[8];
        for (int j = 0; j < 8; j++) {
            __m256 y = j < np ? _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[j][half]), scale, shift) : _mm256_setzero_ps();
            col[j] = relu ? _mm256_max_ps(y, _mm256_setzero_ps()) : y;
        }
        __m256 t[8], u[8];
        for (int i = 0; i < 4; i++) {
            t[2 * i] = _mm256_unpacklo_ps(col[2 * i], col[2 * i + 1]);
            t[2 * i + 1] = _mm256_unpackhi_ps(col[2 * i], col[2 * i + 1]);
        }
        for (int i = 0; i < 2; i++) {
            u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
            u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
            u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
            u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
        }
        float *rows = c + (size_t)8 * half * ldc;
        for (int r = 0; r < 4; r++) {
            store_first_avx2int8(rows + (size_t)r * ldc, _mm256_permute2f128_ps(u[r], u[r + 4], 0x20), np);
            store_first_avx2int8(rows + (size_t)(r + 4) * ldc, _mm256_permute2f128_ps(u[r], u[r + 4], 0x31), np);
        }
    }
}

// A whole panel's column as u8 quads: the two halves' 8 rows each through the epilogue, scaled, clamped (the ReLU) and
// rounded (`u8_lanes_avx2`), then narrowed by VPACKUSDW and VPACKUSWB (within 128-bit lanes: quads 0, 2 in the low lane,
// 1, 3 in the high one) and put in order by VPERMD.
TARGET __attribute__((always_inline)) static inline void quads_avx2int8(__m256i acc0, __m256i acc1, const float *scales,
                                                                        const float *bias, float inverse, __m128i *out) {
    __m256i acc[2] = {acc0, acc1}, q[2];
    for (int half = 0; half < 2; half++) {
        __m256 y = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[half]), _mm256_loadu_ps(scales + 8 * half),
                                   bias ? _mm256_loadu_ps(bias + 8 * half) : _mm256_setzero_ps());
        q[half] = u8_lanes_avx2(y, _mm256_set1_ps(inverse));
    }
    __m256i words = _mm256_packus_epi32(q[0], q[1]);
    __m256i bytes = _mm256_packus_epi16(words, words);
    *out = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}
#include "gemm_int8.inc"

// ---- AVX-VNNI: VEX-encoded VPDPBUSD on 256-bit vectors (Alder Lake and later Intel, Zen 5), where AVX2 CPUs have it:
// the AVX2 layout (16-row panels) with full 8-bit weights, [−127, 127], four u8·s8 products per lane in one exact
// instruction; 16 rows × up to 6 columns (12 accumulators, two weight vectors, a broadcast). The epilogue, the stores and
// the quads are the AVX2 ones (a subset of this target's features).
#define VI __m256i
#define VW 8
#define NPMAX 6
#define TARGET __attribute__((target("avx2,fma,avxvnni")))
#define NAME(x) x##_avxvnni
#define VDOT(acc, u, s) _mm256_dpbusd_avx_epi32((acc), (u), (s))
#define PREFETCH_C 0
#define zero_avxvnni zero_avx2int8
#define load_avxvnni load_avx2int8
#define set1_avxvnni set1_avx2int8
#define epilogue_avxvnni epilogue_avx2int8
#define store_whole_avxvnni store_whole_avx2int8
#define quads_avxvnni quads_avx2int8
#include "gemm_int8.inc"

void ck_gemm_avx512int8(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb,
                        float *c, int ldc, const float *bias, int relu, float *scratch, const float *after) {
    (void)scratch, (void)after;
    gemm_int8_avx512vnni(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu, -1);
}

void ck_gemm_avx2int8(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb,
                      float *c, int ldc, const float *bias, int relu, float *scratch, const float *after) {
    (void)scratch, (void)after;
    gemm_int8_avx2int8(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu, -1);
}

void ck_gemm_avxvnni(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb, float *c,
                     int ldc, const float *bias, int relu, float *scratch, const float *after) {
    (void)scratch, (void)after;
    gemm_int8_avxvnni(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, relu, -1);
}

// The products whose output is the next product's operand: u8 quads at `output_scale` (ReLU included).
void ck_gemm_quantized_avx512int8(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb,
                                  float *c, int ldc, const float *bias, float output_scale) {
    float inverse = output_scale > 0 ? 1.0f / output_scale : 0;
    gemm_int8_avx512vnni(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, 1, inverse);
}

void ck_gemm_quantized_avx2int8(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb,
                                float *c, int ldc, const float *bias, float output_scale) {
    float inverse = output_scale > 0 ? 1.0f / output_scale : 0;
    gemm_int8_avx2int8(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, 1, inverse);
}

void ck_gemm_quantized_avxvnni(const float *packed, int m, int k, int panel_begin, int panel_end, int n, const float *b, int ldb,
                               float *c, int ldc, const float *bias, float output_scale) {
    float inverse = output_scale > 0 ? 1.0f / output_scale : 0;
    gemm_int8_avxvnni(packed, m, k, panel_begin, panel_end, n, b, ldb, c, ldc, bias, 1, inverse);
}

// Packed size, in 4-byte units, for panels of `mr` rows: the s8 weights (K padded to groups of 4) and the rows' scales.
static size_t packed_size_int8(int mr, int m, int k) {
    size_t mp = (size_t)((m + mr - 1) / mr * mr);
    return mp * (size_t)((k + 3) / 4) + mp;
}
size_t ck_gemm_packed_size_avx512int8(int m, int k) { return packed_size_int8(32, m, k); }
size_t ck_gemm_packed_size_avx2int8(int m, int k) { return packed_size_int8(16, m, k); }
size_t ck_gemm_packed_size_avxvnni(int m, int k) { return packed_size_int8(16, m, k); }

// Quantizes each row of the m×k fp32 matrix `a` to s8 with its own scale, max|row| / limit (round to nearest even;
// an all-zero row gets scale 0), and packs it as the kernels read it (panels of `mr` rows, groups of 4 K values per
// 4-byte element, zero past m and k), followed by the rows' output scales: row scale × `input_scale`.
static void pack_int8(int mr, int limit, int m, int k, const float *a, int lda, float input_scale, float *packed) {
    int mp = (m + mr - 1) / mr * mr;
    int kq = (k + 3) / 4;
    int8_t *weights = (int8_t *)packed;
    float *scales = packed + (size_t)mp * kq;
    memset(packed, 0, packed_size_int8(mr, m, k) * 4);
    for (int r = 0; r < m; r++) {
        const float *row = a + (size_t)r * lda;
        float largest = 0;
        for (int i = 0; i < k; i++) largest = fmaxf(largest, fabsf(row[i]));
        float scale = largest / (float)limit;
        scales[r] = scale * input_scale;
        if (largest == 0) continue;
        int panel = r / mr, within = r % mr;
        for (int i = 0; i < k; i++) {
            float q = nearbyintf(row[i] / scale);
            q = q > (float)limit ? (float)limit : q < -(float)limit ? -(float)limit : q;
            weights[(((size_t)panel * kq + (size_t)(i / 4)) * mr + within) * 4 + i % 4] = (int8_t)q;
        }
    }
}
void ck_gemm_pack_avx512int8(int m, int k, const float *a, int lda, float input_scale, float *packed) {
    pack_int8(32, 127, m, k, a, lda, input_scale, packed);
}
void ck_gemm_pack_avx2int8(int m, int k, const float *a, int lda, float input_scale, float *packed) {
    pack_int8(16, 63, m, k, a, lda, input_scale, packed);
}
void ck_gemm_pack_avxvnni(int m, int k, const float *a, int lda, float input_scale, float *packed) {
    pack_int8(16, 127, m, k, a, lda, input_scale, packed);
}

// The operand: u8 = clamp(round(x / scale), 0, 255) (nearest even), rows 4q…4q+3 of each column in the bytes of
// out[q·ld_out + j] (row 4q in the lowest; zero past `rows`). Per group of 4 rows and 16 (8) columns, each row scaled,
// clamped and rounded (`u8_lanes_*`) and shifted into its byte of one 32-bit lane.
__attribute__((target("avx512f,avx512bw"))) void ck_operand_quantize_avx512int8(const float *b, int rows, int columns, long ldb,
                                                                                float scale, float *out, long ld_out) {
    __m512 inverse = _mm512_set1_ps(scale > 0 ? 1.0f / scale : 0);
    for (int q = 0; q < (rows + 3) / 4; q++) {
        int32_t *target = (int32_t *)(out + (size_t)q * ld_out);
        for (int j = 0; j < columns; j += 16) {
            __mmask16 mask = lanes_below_avx512(columns - j);
            __m512i packed = _mm512_setzero_si512();
            for (int t = 0; t < 4 && 4 * q + t < rows; t++) {
                __m512i v = u8_lanes_avx512(_mm512_maskz_loadu_ps(mask, b + (size_t)(4 * q + t) * ldb + j), inverse);
                packed = _mm512_or_si512(packed, _mm512_slli_epi32(v, 8 * t));
            }
            _mm512_mask_storeu_epi32(target + j, mask, packed);
        }
    }
}

__attribute__((target("avx2,fma"))) void ck_operand_quantize_avx2int8(const float *b, int rows, int columns, long ldb, float scale,
                                                                      float *out, long ld_out) {
    __m256 inverse = _mm256_set1_ps(scale > 0 ? 1.0f / scale : 0);
    for (int q = 0; q < (rows + 3) / 4; q++) {
        int32_t *target = (int32_t *)(out + (size_t)q * ld_out);
        for (int j = 0; j < columns; j += 8) {
            // Whole vectors unmasked (VMASKMOVPS stores are microcoded and slow on AMD), the tail masked.
            int whole = columns - j >= 8;
            __m256i mask = lanes_below_avx2(columns - j);
            __m256i packed = _mm256_setzero_si256();
            for (int t = 0; t < 4 && 4 * q + t < rows; t++) {
                const float *row = b + (size_t)(4 * q + t) * ldb + j;
                __m256i v = u8_lanes_avx2(whole ? _mm256_loadu_ps(row) : _mm256_maskload_ps(row, mask), inverse);
                packed = _mm256_or_si256(packed, _mm256_slli_epi32(v, 8 * t));
            }
            if (whole) _mm256_storeu_si256((__m256i *)(target + j), packed);
            else _mm256_maskstore_epi32(target + j, mask, packed);
        }
    }
}

// A block's output and the next block's operand in one pass, for a group of 4 channels of one image: y_t = max(x_t·scale_t +
// shortcut_t, 0) (one FMA, as `scale_add_relu`) into out_t, and their u8 at `scale` into the quads (as `operand_quantize`).
__attribute__((target("avx512f,avx512bw"))) void ck_scale_add_relu_quantize_avx512int8(
    const float *x, long x_stride, const float *scales, long scales_stride, const float *shortcut, long shortcut_stride,
    float *out, long out_stride, float scale, float *quads, long count) {
    __m512 inverse = _mm512_set1_ps(scale > 0 ? 1.0f / scale : 0);
    __m512 zero = _mm512_setzero_ps();
    for (long i = 0; i < count; i += 16) {
        __mmask16 mask = lanes_below_avx512(count - i > 16 ? 16 : (int)(count - i));
        __m512i packed = _mm512_setzero_si512();
        for (int t = 0; t < 4; t++) {
            __m512 v = _mm512_maskz_loadu_ps(mask, x + t * x_stride + i);
            __m512 y = _mm512_fmadd_ps(v, _mm512_set1_ps(scales[t * scales_stride]),
                                       _mm512_maskz_loadu_ps(mask, shortcut + t * shortcut_stride + i));
            y = _mm512_max_ps(y, zero);
            _mm512_mask_storeu_ps(out + t * out_stride + i, mask, y);
            __m512i q = u8_lanes_avx512(y, inverse);
            packed = _mm512_or_si512(packed, _mm512_slli_epi32(q, 8 * t));
        }
        _mm512_mask_storeu_epi32(quads + i, mask, packed);
    }
}

__attribute__((target("avx2,fma"))) void ck_scale_add_relu_quantize_avx2int8(
    const float *x, long x_stride, const float *scales, long scales_stride, const float *shortcut, long shortcut_stride,
    float *out, long out_stride, float scale, float *quads, long count) {
    __m256 inverse = _mm256_set1_ps(scale > 0 ? 1.0f / scale : 0);
    __m256 zero = _mm256_setzero_ps();
    // Whole vectors unmasked (VMASKMOVPS stores are microcoded and slow on AMD), the tail masked.
    for (long i = 0; i < count; i += 8) {
        int whole = count - i >= 8;
        __m256i mask = lanes_below_avx2(whole ? 8 : (int)(count - i));
        __m256i packed = _mm256_setzero_si256();
        for (int t = 0; t < 4; t++) {
            const float *xi = x + t * x_stride + i, *si = shortcut + t * shortcut_stride + i;
            float *oi = out + t * out_stride + i;
            __m256 v = whole ? _mm256_loadu_ps(xi) : _mm256_maskload_ps(xi, mask);
            __m256 s = whole ? _mm256_loadu_ps(si) : _mm256_maskload_ps(si, mask);
            __m256 y = _mm256_fmadd_ps(v, _mm256_set1_ps(scales[t * scales_stride]), s);
            y = _mm256_max_ps(y, zero);
            if (whole) _mm256_storeu_ps(oi, y);
            else _mm256_maskstore_ps(oi, mask, y);
            __m256i q = u8_lanes_avx2(y, inverse);
            packed = _mm256_or_si256(packed, _mm256_slli_epi32(q, 8 * t));
        }
        if (whole) _mm256_storeu_si256((__m256i *)((int *)quads + i), packed);
        else _mm256_maskstore_epi32((int *)quads + i, mask, packed);
    }
}

int ck_gemm_partial_int8(const float *packed, int m, int k, int k_begin, int k_end, int panel_begin, int panel_end, int n,
                         const float *b, int ldb, float *c, int ldc, const float *bias, int relu) {
    (void)packed, (void)m, (void)k, (void)k_begin, (void)k_end, (void)panel_begin, (void)panel_end, (void)n, (void)b;
    (void)ldb, (void)c, (void)ldc, (void)bias, (void)relu;
    return 0;
}

// The peak loops' shared parts: seconds between two clock readings, and the accumulators' sum (keeps the loops alive).
static double seconds_between(const struct timespec *start, const struct timespec *end) {
    return (double)(end->tv_sec - start->tv_sec) + (double)(end->tv_nsec - start->tv_nsec) * 1e-9;
}
static double sum_of(const int32_t *lanes, int count) {
    double sum = 0;
    for (int i = 0; i < count; i++) sum += lanes[i];
    return sum;
}

// 12 independent VPDPBUSD chains: 64 multiply-adds (128 integer operations) per instruction.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) double ck_peak_avx512int8(long iterations, double *checksum) {
    __m512i acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_epi32(i);
    __m512i x = _mm512_set1_epi8(1), y = _mm512_set1_epi8(1);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < iterations; i++) {
        for (int j = 0; j < 12; j++) acc[j] = _mm512_dpbusd_epi32(acc[j], x, y);
        __asm__ volatile("" : "+x"(x));
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    *checksum = sum_of((const int32_t *)acc, 12 * 16);
    return seconds_between(&start, &end);
}

// 12 independent VEX VPDPBUSD chains: 32 multiply-adds per instruction.
__attribute__((target("avx2,fma,avxvnni"))) double ck_peak_avxvnni(long iterations, double *checksum) {
    __m256i acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_epi32(i);
    __m256i x = _mm256_set1_epi8(1), y = _mm256_set1_epi8(1);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < iterations; i++) {
        for (int j = 0; j < 12; j++) acc[j] = _mm256_dpbusd_avx_epi32(acc[j], x, y);
        __asm__ volatile("" : "+x"(x));
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    *checksum = sum_of((const int32_t *)acc, 12 * 8);
    return seconds_between(&start, &end);
}

// 12 independent VPMADDUBSW + VPMADDWD + VPADDD chains: 32 multiply-adds per three instructions, counted per chain step.
__attribute__((target("avx2,fma"))) double ck_peak_avx2int8(long iterations, double *checksum) {
    __m256i acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_epi32(i);
    __m256i x = _mm256_set1_epi8(1), y = _mm256_set1_epi8(1), ones = _mm256_set1_epi16(1);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < iterations; i++) {
        // x is opaque to the compiler at every step, so no chain shares another's products.
        for (int j = 0; j < 12; j++) {
            acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), ones));
            __asm__ volatile("" : "+x"(x));
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    *checksum = sum_of((const int32_t *)acc, 12 * 8);
    return seconds_between(&start, &end);
}
