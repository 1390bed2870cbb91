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

#endif
