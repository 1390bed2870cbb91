/*
 * fuzz_duration.c - libFuzzer target for the config value parsers
 * parse_duration_ms and parse_days (SPEC §9).
 *
 * Beyond "no crash, no UB": an accepted duration is never negative, is a
 * whole multiple of its unit, and round-trips through "<ms>ms"; accepted
 * days are never negative; neither accepts a sign, a space or an empty
 * number.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 128)
        return 0;
    char text[129];
    memcpy(text, data, size);
    text[size] = '\0';
    int bad_char = text[0] == '\0' || strpbrk(text, "+- \t.eE") != NULL;

    int64_t ms = -1;
    if (parse_duration_ms(text, &ms) == 0) {
        if (ms < 0 || bad_char)
            abort();
        char again[48];
        int64_t ms2 = -1;
        snprintf(again, sizeof again, "%lldms", (long long)ms);
        if (parse_duration_ms(again, &ms2) != 0 || ms2 != ms)
            abort();
    }
    int days = -1;
    if (parse_days(text, &days) == 0) {
        if (days < 0 || bad_char)
            abort();
    }
    return 0;
}
