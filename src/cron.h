/*
 * cron.h - cron expressions as NanoClaw's scheduler writes them (SPEC §5,
 * npm cron-parser as the reference): parse into a compact bitmask form,
 * then find the next fire time strictly after an instant in a time zone.
 * Pure: no I/O, no clock, no allocation.
 */
#ifndef CLAWSWEEP_CRON_H
#define CLAWSWEEP_CRON_H

#include <stddef.h>
#include <stdint.h>

#include "tz.h"

#define CRON_OK 0
#define CRON_EPARSE (-1) /* the expression is invalid (message names field) */
#define CRON_ENEVER (-2) /* it never fires (e.g. "30 2 31 2 *") */
#define CRON_ERANGE (-3) /* the reference time is out of range */

/* Parsed form; fill it with cron_parse, read it only through cron_next.
 * Bit n of a mask = value n is allowed. */
typedef struct {
    uint64_t sec, min;
    uint32_t hour;
    uint32_t dom;      /* bits 1..31 */
    uint16_t mon;      /* bits 1..12 */
    uint8_t dow;       /* bits 0..6, Sunday = 0 */
    uint8_t dow_last;  /* "5L": bits 0..6, last such weekday of the month */
    uint8_t nth_dow;   /* "1#2": weekday ... */
    uint8_t nth;       /* ... and its occurrence 1..5 (0 = none) */
    uint8_t flags;
} cron_expr;

/* Parse 5 fields (min hour dom month dow) or 6 (sec first), or a macro
 * (@yearly @annually @monthly @weekly @daily @hourly). Returns CRON_OK,
 * or CRON_EPARSE with a message naming the field in err, e.g.
 * "day-of-week: value 8 out of range 0-7". */
int cron_parse(const char *text, cron_expr *out, char *err, size_t errlen);

/* 1 when the hour field follows the clock ("*", "?" or a step over all
 * hours), 0 when hours are fixed (SPEC §5's two daylight-saving rules). */
int cron_hour_follows_clock(const cron_expr *e);

/* The first fire time strictly after after_ms (UTC ms), reading the
 * fields in zone tz with SPEC §5's daylight-saving rules:
 *  - hour field fixed: a local time in a spring-forward gap fires moved
 *    forward by the gap; a repeated local time fires at its first
 *    occurrence, or at its second when after_ms is past the first;
 *  - hour field "*" or a step over all hours: the clock is followed, gap
 *    times are skipped and both passes of a repeated hour fire.
 * Returns CRON_OK with *next_ms set (a whole second), CRON_ENEVER when
 * nothing fires within 400 years, or CRON_ERANGE for an after_ms beyond
 * year +-30000. */
int cron_next(const cron_expr *e, const tz_info *tz, int64_t after_ms,
              int64_t *next_ms);

#endif
