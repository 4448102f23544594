#ifndef TROLLEY_PROCESSOR_H
#define TROLLEY_PROCESSOR_H

/* What Swift cannot say by itself: which vector extensions this CPU and OS support (checked once,
   at run time, to choose a kernel), and cache-prefetch hints (Swift has no prefetch intrinsic; a
   static inline function here is compiled into its Swift caller). */

/* 1 when the CPU has AVX-512F and the OS saves the ZMM and mask registers; 0 otherwise. */
int trolley_cpu_has_avx512f(void);

/* 1 when AVX-512F is usable (above) and the CPU has AVX512-VNNI (vpdpbusd). */
int trolley_cpu_has_avx512_vnni(void);

/* 1 when AVX-512F is usable (above) and the CPU has AVX512-BF16 (vdpbf16ps). */
int trolley_cpu_has_avx512_bf16(void);

/* 1 when the CPU has the SHA extensions (sha256rnds2...) and the SSSE3/SSE4.1 shuffles SHA-256's
   rounds need with them (Digest's fast path). */
int trolley_cpu_has_sha_extensions(void);

/* From DRAM into L2 with locality 2 (prefetcht1): bursts of prefetcht0 from DRAM stalled on the
   L1's miss buffers and measured ~10% slower in the tiled decode-batch kernel. */
static inline __attribute__((always_inline)) void trolley_prefetch(const void *address) {
  __builtin_prefetch(address, 0, 2);
}

/* From L2 (or DRAM) into L1 (locality 3). */
static inline __attribute__((always_inline)) void trolley_prefetch_l1(const void *address) {
  __builtin_prefetch(address, 0, 3);
}

/* A spin-wait hint (x86 `pause`): lets the sibling hardware thread run and saves power while a
   kernel thread waits a few microseconds for its next task. */
static inline __attribute__((always_inline)) void trolley_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

#endif
