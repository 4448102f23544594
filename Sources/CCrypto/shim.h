// OpenSSL's libcrypto, for its SHA-256 (SHA-NI or AVX2 where the CPU has them). libpq and
// libcurl already load it into every Trolley process.
#include <openssl/sha.h>
