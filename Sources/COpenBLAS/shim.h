#include <cblas.h>
/* openblas_set_num_threads is OpenBLAS-specific and not in every cblas.h */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

/* Tensor's decode-batch kernels prefetch the weight tiles they will read next: Swift has no
   prefetch intrinsic, and a static inline function here is compiled into the caller. From DRAM
   into L2 with locality 2 (prefetcht1): bursts of prefetcht0 from DRAM stalled on the L1's miss
   buffers and measured ~10% slower. From L2 into L1 (locality 3) one tile ahead. */
static inline __attribute__((always_inline)) void trolley_prefetch(const void *address) {
  __builtin_prefetch(address, 0, 2);
}
static inline __attribute__((always_inline)) void trolley_prefetch_l1(const void *address) {
  __builtin_prefetch(address, 0, 3);
}
