#ifndef TROLLEY_SHA256_BLOCKS_H
#define TROLLEY_SHA256_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256's compression function through the x86 SHA extensions (sha256rnds2, sha256msg1,
   sha256msg2), which Swift cannot express. Digest calls it only when CProcessor's
   `trolley_cpu_has_sha_extensions` says the CPU has them, and keeps its portable Swift rounds for
   every other CPU (and for the test that checks both agree). */

/* FIPS 180-4's 64 round constants K, shared with Digest's portable rounds. */
extern const uint32_t trolley_sha256_round_constants[64];

/* Compresses `blocks` consecutive 64-byte blocks at `data` into `state` (a, b, ..., h in order,
   as FIPS 180-4 names them). Must only be called when `trolley_cpu_has_sha_extensions()` is 1. */
void trolley_sha256_blocks_shani(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
