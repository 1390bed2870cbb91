/*
 * sha1.h - SHA-1 (FIPS 180-4), only to derive short stable names: the
 * install id of a data dir and container names (SPEC §4). Not for
 * anything that needs collision resistance.
 */
#ifndef CLAWSWEEP_SHA1_H
#define CLAWSWEEP_SHA1_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[5];
    uint64_t bytes;
    unsigned char block[64];
    size_t used;
} sha1_ctx;

void sha1_init(sha1_ctx *c);
void sha1_update(sha1_ctx *c, const void *data, size_t len);
void sha1_final(sha1_ctx *c, unsigned char digest[20]);

/* The digest of data as 40 lowercase hex digits and a NUL. */
void sha1_hex(const void *data, size_t len, char hex[41]);

#endif
