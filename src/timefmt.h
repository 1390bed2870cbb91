/*
 * timefmt.h - every timestamp shape of SPEC §1.5, parsed to and formatted
 * from milliseconds since the Unix epoch (UTC). Pure: never reads the clock
 * (except clock_now_ms, which is the one place that does).
 */
#ifndef CLAWSWEEP_TIMEFMT_H
#define CLAWSWEEP_TIMEFMT_H

#include <stdint.h>

#define TIME_UNKNOWN INT64_MIN

/* Parse "YYYY-MM-DD[ T]HH:MM[:SS[.fff]][Z|±HH:MM|±HHMM|±HH]". A time
 * without a zone is UTC. Returns 0 and sets *ms, or -1 (unknown). */
int timefmt_parse(const char *s, int64_t *ms);

/* "YYYY-MM-DDTHH:MM:SS.sssZ" (the process_after shape), out >= 25 bytes. */
void timefmt_iso_ms(int64_t ms, char *out, unsigned outlen);
/* "YYYY-MM-DD HH:MM:SS" UTC (SQLite datetime('now') shape), out >= 20. */
void timefmt_sql(int64_t ms, char *out, unsigned outlen);
/* "3m12s", "2h05m", "45s", "-" for unknown: for people. */
void timefmt_age(int64_t ms, char *out, unsigned outlen);

/* Days since 1970-01-01 for a proleptic Gregorian civil date and back. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Wall clock in ms (CLOCK_REALTIME). The only clock read in this module. */
int64_t clock_now_ms(void);

#endif
