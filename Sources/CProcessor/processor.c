#include "processor.h"

#if defined(__x86_64__)
#include <cpuid.h>

/* XCR0 through xgetbv: the register states the OS saves on a context switch. */
static unsigned long long trolley_xcr0(void) {
  unsigned int eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((unsigned long long)edx << 32) | eax;
}

int trolley_cpu_has_avx512f(void) {
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
  if (!(ecx & bit_OSXSAVE)) return 0;
  /* SSE, AVX, opmask, upper ZMM0-15 and ZMM16-31 states: bits 1, 2, 5, 6, 7. */
  if ((trolley_xcr0() & 0xE6) != 0xE6) return 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
  return (ebx & bit_AVX512F) ? 1 : 0;
}

int trolley_cpu_has_avx512_vnni(void) {
  unsigned int eax, ebx, ecx, edx;
  if (!trolley_cpu_has_avx512f()) return 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
  return (ecx & (1u << 11)) ? 1 : 0; /* CPUID.(7,0):ECX[11] AVX512_VNNI */
}

int trolley_cpu_has_avx512_bf16(void) {
  unsigned int eax, ebx, ecx, edx;
  if (!trolley_cpu_has_avx512f()) return 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || eax < 1) return 0;
  if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return 0;
  return (eax & (1u << 5)) ? 1 : 0; /* CPUID.(7,1):EAX[5] AVX512_BF16 */
}

int trolley_cpu_has_sha_extensions(void) {
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
  if (!(ecx & bit_SSSE3) || !(ecx & bit_SSE4_1)) return 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
  return (ebx & (1u << 29)) ? 1 : 0; /* CPUID.(7,0):EBX[29] SHA */
}
#else
int trolley_cpu_has_avx512f(void) { return 0; }
int trolley_cpu_has_sha_extensions(void) { return 0; }
int trolley_cpu_has_avx512_vnni(void) { return 0; }
int trolley_cpu_has_avx512_bf16(void) { return 0; }
#endif
