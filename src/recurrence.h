/*
 * recurrence.h - the one call sweep step 5 (SPEC §2) needs: the next fire
 * time of a stored recurrence expression after now.
 */
#ifndef CLAWSWEEP_RECURRENCE_H
#define CLAWSWEEP_RECURRENCE_H

#include <stddef.h>
#include <stdint.h>

#include "tz.h"

/* Parse expr and find its first fire time strictly after now_ms in tz.
 * Returns 0 with *next_ms set, or -1 with the reason in err (the
 * expression does not parse, naming the field, or never fires): the
 * caller retires such a series. */
int recurrence_next(const char *expr, const tz_info *tz, int64_t now_ms,
                    int64_t *next_ms, char *err, size_t errlen);

/* As recurrence_next, for a series whose last occurrence fired at
 * last_fire_ms (TIME_UNKNOWN-like INT64_MIN when not known). A repeated
 * local time fires once (SPEC §5): when the hour is fixed and the answer
 * shows the same wall-clock time as the last fire - its second pass on a
 * fall-back night - the occurrence after it is returned instead. */
int recurrence_next_in_series(const char *expr, const tz_info *tz,
                              int64_t now_ms, int64_t last_fire_ms,
                              int64_t *next_ms, char *err, size_t errlen);

#endif
