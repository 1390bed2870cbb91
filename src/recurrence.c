/*
 * recurrence.c - parse + next for sweep step 5. Parsing again on every
 * call is cheap (well under a microsecond) and keeps no cache to go stale.
 */
#include "recurrence.h"

#include <stdint.h>
#include <stdio.h>

#include "cron.h"

int recurrence_next(const char *expr, const tz_info *tz, int64_t now_ms,
                    int64_t *next_ms, char *err, size_t errlen)
{
    cron_expr e;
    int rc = cron_parse(expr, &e, err, errlen);
    if (rc != CRON_OK)
        return -1;
    rc = cron_next(&e, tz, now_ms, next_ms);
    if (rc == CRON_OK)
        return 0;
    if (err && errlen)
        snprintf(err, errlen, "%s",
                 rc == CRON_ENEVER ? "expression never fires"
                                   : "reference time out of range");
    return -1;
}

int recurrence_next_in_series(const char *expr, const tz_info *tz,
                              int64_t now_ms, int64_t last_fire_ms,
                              int64_t *next_ms, char *err, size_t errlen)
{
    if (recurrence_next(expr, tz, now_ms, next_ms, err, errlen) != 0)
        return -1;
    cron_expr e;
    if (last_fire_ms == INT64_MIN || cron_parse(expr, &e, NULL, 0) != CRON_OK ||
        cron_hour_follows_clock(&e) ||
        tz_to_local(tz, *next_ms) != tz_to_local(tz, last_fire_ms) ||
        *next_ms == last_fire_ms)
        return 0;
    return recurrence_next(expr, tz, *next_ms, next_ms, err, errlen);
}
