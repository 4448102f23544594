#include <cblas.h>
/* openblas_set_num_threads is OpenBLAS-specific and not in every cblas.h */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

/* Tensor's decode-batch kernels prefetch the weight tile they will read next: Swift has no
   prefetch intrinsic, and a static inline function here is compiled into the caller. Locality 2
   (prefetcht1, into L2): a tile's burst of L1 prefetches (prefetcht0) stalled on the L1's miss
   buffers and measured ~10% slower. */
static inline __attribute__((always_inline)) void trolley_prefetch(const void *address) {
  __builtin_prefetch(address, 0, 2);
}
