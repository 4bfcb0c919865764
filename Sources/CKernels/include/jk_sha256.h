// SHA-256 (FIPS 180-4), for recording and checking what a model fetch downloaded.
#ifndef JK_SHA256_H
#define JK_SHA256_H
#include <stdint.h>
#include <stddef.h>

typedef struct {
    uint32_t state[8];
    uint64_t length;      // bytes hashed so far
    uint8_t block[64];    // a partial block waiting for more input
    size_t filled;
} jk_sha256;

void jk_sha256_init(jk_sha256 *h);
void jk_sha256_update(jk_sha256 *h, const void *data, size_t n);
void jk_sha256_final(jk_sha256 *h, uint8_t digest[32]);
/// Whether the CPU's SHA extensions are used (they are where present); off forces the portable rounds.
void jk_sha256_use_extensions(int on);
int jk_sha256_uses_extensions(void);

#endif
