#include "compute_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

/* Four activation rows by two output rows per step: each block's weight bytes are loaded once
   for four rows, each row's once for two outputs. The int32 dot of one block is converted to
   f32 and scaled by the weight block's scale (scales differ per block, so the int32 sums cannot
   run across blocks); the activation row's scale is applied once at the end. */
#define ROWS 4
#define OUTS 2

/* |x| (unsigned) and w carrying x's sign: |x| * (sign(x) w) = x w, the operand order
   vpmaddubsw and vpdpbusd need (unsigned by signed). |x| <= 127 and |w| <= 127, so vpmaddubsw's
   pair sums (at most 2 * 127 * 127 = 32258) never saturate. */
__attribute__((target("avx2,fma"))) static inline __m256i dot32_avx2(__m256i ax, __m256i x,
                                                                      __m256i w) {
  __m256i sw = _mm256_sign_epi8(w, x);
  __m256i pairs = _mm256_maddubs_epi16(ax, sw);
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

__attribute__((target("avx2,fma"))) static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) static inline void store(float *y, float value, int accumulate) {
  *y = accumulate ? *y + value : value;
}

#define INT8_PRODUCT(NAME, TARGET, DOT)                                                           \
  __attribute__((target(TARGET))) void NAME(const int8_t *x, const float *xScale, int rows,       \
                                            const int8_t *w, const float *wScale, int blocks,     \
                                            int o0, int o1, float *y, int ldy, int accumulate) {  \
    const long stride = (long)blocks * 32;                                                        \
    int i = 0;                                                                                    \
    for (; i < rows; i += ROWS) {                                                                 \
      int nr = rows - i < ROWS ? rows - i : ROWS;                                                 \
      const int8_t *xr[ROWS];                                                                     \
      for (int r = 0; r < ROWS; r++) xr[r] = x + (long)(i + (r < nr ? r : 0)) * stride;           \
      for (int o = o0; o < o1; o += OUTS) {                                                       \
        int no = o1 - o < OUTS ? o1 - o : OUTS;                                                   \
        const int8_t *wr[OUTS];                                                                   \
        const float *sr[OUTS];                                                                    \
        for (int c = 0; c < OUTS; c++) {                                                          \
          int oc = o + (c < no ? c : 0);                                                          \
          wr[c] = w + (long)oc * stride;                                                          \
          sr[c] = wScale + (long)oc * blocks;                                                     \
        }                                                                                         \
        __m256 acc[ROWS][OUTS];                                                                   \
        for (int r = 0; r < ROWS; r++)                                                            \
          for (int c = 0; c < OUTS; c++) acc[r][c] = _mm256_setzero_ps();                         \
        for (int b = 0; b < blocks; b++) {                                                        \
          __m256i wv[OUTS];                                                                       \
          __m256 sv[OUTS];                                                                        \
          for (int c = 0; c < OUTS; c++) {                                                        \
            wv[c] = _mm256_loadu_si256((const __m256i *)(wr[c] + 32 * b));                       \
            sv[c] = _mm256_set1_ps(sr[c][b]);                                                     \
          }                                                                                       \
          for (int r = 0; r < ROWS; r++) {                                                        \
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xr[r] + 32 * b));                  \
            __m256i ax = _mm256_sign_epi8(xv, xv);                                                \
            for (int c = 0; c < OUTS; c++) {                                                      \
              __m256 d = _mm256_cvtepi32_ps(DOT(ax, xv, wv[c]));                                  \
              acc[r][c] = _mm256_fmadd_ps(d, sv[c], acc[r][c]);                                   \
            }                                                                                     \
          }                                                                                       \
        }                                                                                         \
        for (int r = 0; r < nr; r++)                                                              \
          for (int c = 0; c < no; c++)                                                            \
            store(y + (long)(i + r) * ldy + o + c, hsum8(acc[r][c]) * xScale[i + r], accumulate); \
      }                                                                                           \
    }                                                                                             \
  }

INT8_PRODUCT(trolley_q8_int8_product_avx2, "avx2,fma", dot32_avx2)

__attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni"))) static inline __m256i dot32_vnni(
    __m256i ax, __m256i x, __m256i w) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, _mm256_sign_epi8(w, x));
}

INT8_PRODUCT(trolley_q8_int8_product_vnni, "avx2,fma,avx512f,avx512vl,avx512vnni", dot32_vnni)

__attribute__((target("avx512f,avx512bf16"))) void trolley_bf16_product_avx512(
    const uint16_t *x, int rows, const uint16_t *w, int k2, int o0, int o1, float *y, int ldy,
    int accumulate) {
  /* 32 bf16 values (16 pairs) per vdpbf16ps; the tail under a mask. */
  for (int i = 0; i < rows; i++) {
    const uint16_t *xr = x + (long)i * k2;
    for (int o = o0; o < o1; o++) {
      const uint16_t *wr = w + (long)o * k2;
      __m512 acc = _mm512_setzero_ps();
      int k = 0;
      for (; k + 32 <= k2; k += 32) {
        __m512bh xv = (__m512bh)_mm512_loadu_si512((const void *)(xr + k));
        __m512bh wv = (__m512bh)_mm512_loadu_si512((const void *)(wr + k));
        acc = _mm512_dpbf16_ps(acc, xv, wv);
      }
      if (k < k2) {
        __mmask32 m = (__mmask32)((1ull << (k2 - k)) - 1);
        __m512bh xv = (__m512bh)_mm512_maskz_loadu_epi16(m, xr + k);
        __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(m, wr + k);
        acc = _mm512_dpbf16_ps(acc, xv, wv);
      }
      float s = _mm512_reduce_add_ps(acc);
      float *t = y + (long)i * ldy + o;
      *t = accumulate ? *t + s : s;
    }
  }
}

#else
/* Not x86-64: the Swift side never selects these (the detection answers no). */
void trolley_q8_int8_product_avx2(const int8_t *x, const float *xScale, int rows, const int8_t *w,
                                  const float *wScale, int blocks, int o0, int o1, float *y,
                                  int ldy, int accumulate) {}
void trolley_q8_int8_product_vnni(const int8_t *x, const float *xScale, int rows, const int8_t *w,
                                  const float *wScale, int blocks, int o0, int o1, float *y,
                                  int ldy, int accumulate) {}
void trolley_bf16_product_avx512(const uint16_t *x, int rows, const uint16_t *w, int k2, int o0,
                                 int o1, float *y, int ldy, int accumulate) {}
#endif
