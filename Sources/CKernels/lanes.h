// Partial vectors: the first `count` lanes of a load or store (all for count ≥ the vector width, none for count ≤ 0);
// the other lanes read as zero and are not written, and masked-off lanes never fault. Shared by the GEMM, the stem and
// the unfolding, each compiled per instruction set.
#ifndef CKERNELS_LANES_H
#define CKERNELS_LANES_H

#include <immintrin.h>

__attribute__((target("avx2,fma"))) static inline __m256i lanes_below_avx2(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
__attribute__((target("avx2,fma"))) static inline __m256 load_part_avx2(const float *p, int count) {
    return _mm256_maskload_ps(p, lanes_below_avx2(count));
}
__attribute__((target("avx2,fma"))) static inline void store_part_avx2(float *p, __m256 v, int count) {
    _mm256_maskstore_ps(p, lanes_below_avx2(count), v);
}

__attribute__((target("avx512f"))) static inline __mmask16 lanes_below_avx512(int count) {
    return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
}
__attribute__((target("avx512f"))) static inline __m512 load_part_avx512(const float *p, int count) {
    return _mm512_maskz_loadu_ps(lanes_below_avx512(count), p);
}
__attribute__((target("avx512f"))) static inline void store_part_avx512(float *p, __m512 v, int count) {
    _mm512_mask_storeu_ps(p, lanes_below_avx512(count), v);
}

#endif
