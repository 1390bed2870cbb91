/*
 * fuzz_cron.c - libFuzzer target for the cron parser and search.
 *
 * Input layout: byte 0 picks a zone, bytes 1..8 the reference time, the
 * rest is the expression. Checks, beyond "no crash, no UB": parse either
 * succeeds or leaves a message; every fire time is a whole second strictly
 * after its reference, and a chain of them strictly increases.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "tz.h"

static const char *const zones[] = {
    "UTC", "Europe/Madrid", "America/New_York", "Asia/Kolkata",
    "Australia/Lord_Howe", "Pacific/Chatham", "Australia/Sydney",
    "America/Sao_Paulo",
};
#define NZONES (sizeof zones / sizeof zones[0])
static tz_info *loaded[NZONES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9 || size > 4096)
        return 0;
    size_t zi = data[0] % NZONES;
    if (!loaded[zi]) {
        char err[256];
        if (tz_load(zones[zi], &loaded[zi], err, sizeof err) != 0)
            return 0;
    }
    uint64_t raw = 0;
    for (int i = 1; i <= 8; i++)
        raw = raw << 8 | data[i];
    int64_t ref;
    if (data[0] & 0x80)
        ref = (int64_t)raw; /* anything, to reach CRON_ERANGE */
    else /* 1900..2300, where the search and the tz rules do real work */
        ref = -2208988800000LL + (int64_t)(raw % 12623040000000ULL);

    char *text = malloc(size - 9 + 1);
    if (!text)
        return 0;
    memcpy(text, data + 9, size - 9);
    text[size - 9] = '\0';

    cron_expr e;
    char err[128];
    err[0] = '\0';
    int rc = cron_parse(text, &e, err, sizeof err);
    if (rc != CRON_OK) {
        if (rc != CRON_EPARSE || err[0] == '\0')
            abort();
        free(text);
        return 0;
    }
    int64_t at = ref;
    for (int i = 0; i < 4; i++) {
        int64_t next;
        rc = cron_next(&e, loaded[zi], at, &next);
        if (rc != CRON_OK) {
            if (rc != CRON_ENEVER && rc != CRON_ERANGE)
                abort();
            break;
        }
        if (next <= at || next % 1000 != 0)
            abort();
        at = next;
    }
    free(text);
    return 0;
}
