#ifndef TROLLEY_COMPUTE_KERNELS_H
#define TROLLEY_COMPUTE_KERNELS_H

#include <stdint.h>

/* The reduced-precision prefill products (`--compute int8|bf16`), in C because they are made of
   instructions Swift cannot express (vpmaddubsw, vpdpbusd, vdpbf16ps). Each instruction set has
   its own function, compiled for it by a target attribute; the caller picks one at run time from
   trolley_cpu_has_* (CProcessor), so the file builds and runs on any x86-64 CPU with AVX2. */

/* int8 activations times q8 weights, int32 dot per block of 32:
     y[i * ldy + o] (+)= xScale[i] * sum_b wScale[o * blocks + b] * dot32(x[i, b], w[o, b])
   for rows i < rows and outputs o in [o0, o1). x is rows x (blocks * 32) int8 with row stride
   blocks * 32 (a partial last block zero-padded), values in -127...127; w likewise per output
   row, values in -127...127. accumulate != 0 adds into y. */
void trolley_q8_int8_product_avx2(const int8_t *x, const float *xScale, int rows, const int8_t *w,
                                  const float *wScale, int blocks, int o0, int o1, float *y,
                                  int ldy, int accumulate);
/* The same with vpdpbusd (AVX512-VNNI on 256-bit vectors); call only when the CPU has it. */
void trolley_q8_int8_product_vnni(const int8_t *x, const float *xScale, int rows, const int8_t *w,
                                  const float *wScale, int blocks, int o0, int o1, float *y,
                                  int ldy, int accumulate);

/* bf16 x bf16 with f32 accumulation, pairs of k per vdpbf16ps:
     y[i * ldy + o] (+)= sum_k x[i, k] * w[o, k]
   x: rows x k2 bf16 (row stride k2), w: outputs x k2 bf16 (row stride k2), k2 even (a padded
   odd k is a zero). Call only when the CPU has AVX512-BF16. */
void trolley_bf16_product_avx512(const uint16_t *x, int rows, const uint16_t *w, int k2, int o0,
                                 int o1, float *y, int ldy, int accumulate);

#endif
