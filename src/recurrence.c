/*
 * recurrence.c - parse + next for sweep step 5. Parsing again on every
 * call is cheap (well under a microsecond) and keeps no cache to go stale.
 */
#include "recurrence.h"

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
