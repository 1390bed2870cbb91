/*
 * test_sha1.c - SHA-1 against the FIPS 180 / RFC 3174 vectors, including
 * inputs fed in uneven pieces across block boundaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sha1.h"

static void test_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *in, *hex;
    } v[] = {
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
         "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "a49b2446a02c645bf419f995b67091253a04a259"},
        {"The quick brown fox jumps over the lazy dog",
         "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char hex[41];
        sha1_hex(v[i].in, strlen(v[i].in), hex);
        assert_string_equal(hex, v[i].hex);
    }
}

static void test_million_a_in_pieces(void **state)
{
    (void)state;
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    sha1_ctx c;
    sha1_init(&c);
    size_t left = 1000000;
    size_t step = 1;
    while (left) {
        size_t n = step < left ? step : left;
        if (n > sizeof chunk)
            n = sizeof chunk;
        sha1_update(&c, chunk, n);
        left -= n;
        step = step * 7 % 1000 + 1; /* uneven sizes, straddling blocks */
    }
    unsigned char d[20];
    sha1_final(&c, d);
    static const unsigned char want[20] = {
        0x34, 0xaa, 0x97, 0x3c, 0xd4, 0xc4, 0xda, 0xa4, 0xf6, 0x1e,
        0xeb, 0x2b, 0xdb, 0xad, 0x27, 0x31, 0x65, 0x34, 0x01, 0x6f};
    assert_memory_equal(d, want, 20);
}

static void test_lengths_around_padding(void **state)
{
    (void)state;
    /* The padding edge cases; digests from coreutils sha1sum of 'x'
     * repeated n times. */
    static const struct {
        size_t n;
        const char *hex;
    } v[] = {
        {55, "cef734ba81a024479e09eb5a75b6ddae62e6abf1"},
        {56, "901305367c259952f4e7af8323f480d59f81335b"},
        {63, "0ddc4e0cccd9a12850deb5abb0853a4425559fec"},
        {64, "bb2fa3ee7afb9f54c6dfb5d021f14b1ffe40c163"},
        {65, "78c741ddc482e4cdf8c474a0876347a0905b6233"},
        {119, "4300320394f7ee239bcdce7d3b8bcee173a0cd5c"},
        {120, "ceb2821639c4b6dcb10bce0e522ca2e608ce056d"},
    };
    char buf[200];
    memset(buf, 'x', sizeof buf);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char hex[41];
        sha1_hex(buf, v[i].n, hex);
        assert_string_equal(hex, v[i].hex);
        /* Fed in two uneven pieces, the digest is the same. */
        sha1_ctx c;
        unsigned char d[20];
        sha1_init(&c);
        sha1_update(&c, buf, v[i].n / 3);
        sha1_update(&c, buf, v[i].n - v[i].n / 3);
        sha1_final(&c, d);
        for (int k = 0; k < 20; k++)
            snprintf(hex + 2 * k, 3, "%02x", d[k]);
        assert_string_equal(hex, v[i].hex);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_million_a_in_pieces),
        cmocka_unit_test(test_lengths_around_padding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
