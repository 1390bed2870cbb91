/*
 * tz.h - IANA time zones read from the system tz database (TZif files
 * under /usr/share/zoneinfo, version 1 to 4, including the POSIX TZ
 * footer rule that covers every instant after the last listed
 * transition), plus the built-in "UTC". A zone is a sorted list of spans
 * of UTC time, each with one UTC offset; everything else (local times,
 * daylight-saving gaps and repeats) is derived from that.
 *
 * Times are ms since the epoch (UTC) unless a name says seconds. A
 * "local" time is the wall clock read as if it were UTC: local =
 * utc + offset.
 */
#ifndef CLAWSWEEP_TZ_H
#define CLAWSWEEP_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct tz_info tz_info;

/* One stretch of UTC time with a single offset. start/end are UTC
 * seconds, end exclusive; INT64_MIN / INT64_MAX when unbounded. prev_off
 * is the offset in force just before start (== off when none), so a span
 * with off > prev_off begins with a spring-forward gap of local time and
 * one with off < prev_off with a repeated stretch of local time. */
typedef struct {
    int64_t start, end;
    int32_t off, prev_off; /* seconds east of UTC */
} tz_span;

/* Load a zone by IANA name ("Europe/Madrid") or "UTC". Names with a
 * leading '/', a "." or ".." component, or characters outside
 * [A-Za-z0-9/_+-.] are refused. 0 and *out (free with tz_free), or -1
 * with a message in err. */
int tz_load(const char *name, tz_info **out, char *err, size_t errlen);

/* The zone to use (SPEC §5): configured when not NULL/"", else $TZ
 * (":Name", "Name", an absolute path to a TZif file, or a POSIX rule such
 * as "CET-1CEST,M3.5.0,M10.5.0/3"), else /etc/localtime, else UTC. A
 * configured or $TZ zone that cannot be loaded is an error (-1), never a
 * silent UTC. */
int tz_resolve(const char *configured, tz_info **out, char *err,
               size_t errlen);

void tz_free(tz_info *tz);

/* The name the zone was loaded under ("Europe/Madrid", "UTC"). */
const char *tz_name(const tz_info *tz);

/* The span holding UTC second t. */
void tz_span_at(const tz_info *tz, int64_t t, tz_span *out);

/* Offset in seconds at a UTC instant; *abbr (when abbr is not NULL) is
 * set to the zone abbreviation ("CEST", "+0530"), valid while tz lives. */
int32_t tz_offset_at(const tz_info *tz, int64_t utc_ms, const char **abbr);

/* UTC -> local wall clock (ms). */
int64_t tz_to_local(const tz_info *tz, int64_t utc_ms);

/* Local wall clock (ms) -> the UTC instants that show it, ascending, in
 * out[0..n-1]; returns n: 1 normally, 2 in a fall-back repeat, 0 in a
 * spring-forward gap (then out[0] is what mktime gives: the local time
 * read with the offset before the gap, i.e. moved forward by the gap). */
int tz_from_local(const tz_info *tz, int64_t local_ms, int64_t out[2]);

/* "2027-03-28T03:30:00.000+02:00 CEST" into out (>= 48 bytes). */
void tz_format_local(const tz_info *tz, int64_t utc_ms, char *out,
                     size_t outlen);

#endif
