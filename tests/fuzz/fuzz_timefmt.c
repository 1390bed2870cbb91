/*
 * fuzz_timefmt.c - libFuzzer target for the timestamp parser (SPEC §1.5).
 *
 * Beyond "no crash, no UB": a time that parses must format back to a
 * string that parses to the very same millisecond, in both written
 * shapes (ISO with milliseconds, and SQL whole seconds, which may only
 * drop the milliseconds). That round trip is what every stored
 * process_after relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char text[257];
    memcpy(text, data, size);
    text[size] = '\0';
    int64_t ms;
    if (timefmt_parse(text, &ms) != 0)
        return 0;
    if (ms == TIME_UNKNOWN)
        abort();
    char iso[64], sql[64], age[64];
    timefmt_iso_ms(ms, iso, sizeof iso);
    timefmt_sql(ms, sql, sizeof sql);
    timefmt_age(ms, age, sizeof age);
    /* A zone offset can push year 0000 or 9999 out of the four digits
     * the writers print; only times inside them must round-trip. */
    if (ms < days_from_civil(0, 1, 1) * 86400000LL ||
        ms >= days_from_civil(10000, 1, 1) * 86400000LL)
        return 0;
    int64_t back;
    if (timefmt_parse(iso, &back) != 0 || back != ms)
        abort();
    int64_t whole = ms - ((ms % 1000) + 1000) % 1000;
    if (timefmt_parse(sql, &back) != 0 || back != whole)
        abort();
    return 0;
}
