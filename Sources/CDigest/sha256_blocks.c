#include "sha256_blocks.h"

const uint32_t trolley_sha256_round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

#if defined(__x86_64__)
#include <immintrin.h>

/* sha256rnds2 keeps the working variables as two registers, {a, b, e, f} and {c, d, g, h}
   (highest lane first), and does two rounds per call with the message-plus-constant words in the
   low two lanes of its third operand; each group of four rounds is two calls. The message
   schedule W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16] is built four words at a time:
   sha256msg1 adds σ0 terms, an alignr supplies W[t-7], sha256msg2 adds the σ1 terms (which
   depend on words of the same group, hence the separate instruction). */
__attribute__((target("sha,ssse3,sse4.1"))) void trolley_sha256_blocks_shani(
    uint32_t state[8], const uint8_t *data, size_t blocks) {
  /* Big-endian words: reverse the bytes of each 32-bit lane. */
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i abcd = _mm_loadu_si128((const __m128i *)&state[0]); /* lanes a b c d */
  __m128i efgh = _mm_loadu_si128((const __m128i *)&state[4]); /* lanes e f g h */
  abcd = _mm_shuffle_epi32(abcd, 0xB1);                        /* b a d c */
  efgh = _mm_shuffle_epi32(efgh, 0x1B);                        /* h g f e */
  __m128i abef = _mm_alignr_epi8(abcd, efgh, 8);               /* f e b a */
  __m128i cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);            /* h g d c */

  for (size_t block = 0; block < blocks; block++, data += 64) {
    const __m128i abef_start = abef;
    const __m128i cdgh_start = cdgh;
    __m128i w[4];
    for (int part = 0; part < 4; part++) {
      w[part] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * part)), byte_swap);
    }
#pragma clang loop unroll(full)
    for (int group = 0; group < 16; group++) {
      __m128i words = _mm_add_epi32(
          w[group & 3], _mm_loadu_si128((const __m128i *)&trolley_sha256_round_constants[4 * group]));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, words);
      if (group < 12) {
        /* W[4(group+4) ...]: from W[4group ...] (w[group]) onward, replacing w[group]. */
        __m128i next = _mm_sha256msg1_epu32(w[group & 3], w[(group + 1) & 3]);
        next = _mm_add_epi32(next, _mm_alignr_epi8(w[(group + 3) & 3], w[(group + 2) & 3], 4));
        w[group & 3] = _mm_sha256msg2_epu32(next, w[(group + 3) & 3]);
      }
      words = _mm_shuffle_epi32(words, 0x0E);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, words);
    }
    abef = _mm_add_epi32(abef, abef_start);
    cdgh = _mm_add_epi32(cdgh, cdgh_start);
  }

  __m128i feba = _mm_shuffle_epi32(abef, 0x1B);     /* a b e f (lowest first) */
  __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);     /* g h c d */
  abcd = _mm_blend_epi16(feba, dchg, 0xF0);         /* a b c d */
  efgh = _mm_alignr_epi8(dchg, feba, 8);            /* e f g h */
  _mm_storeu_si128((__m128i *)&state[0], abcd);
  _mm_storeu_si128((__m128i *)&state[4], efgh);
}
#else
void trolley_sha256_blocks_shani(uint32_t state[8], const uint8_t *data, size_t blocks) {
  (void)state;
  (void)data;
  (void)blocks;
}
#endif
