/*
 * metrics.h - the daemon's numbers in Prometheus text format (SPEC §3),
 * written to DATA/clawsweep/metrics.prom after each tick for
 * node_exporter's textfile collector. Counters add up over the life of
 * the daemon; gauges describe the last tick.
 */
#ifndef CLAWSWEEP_METRICS_H
#define CLAWSWEEP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sweep.h"

typedef struct {
    /* counters */
    uint64_t ticks_full, ticks_incremental, tick_errors;
    uint64_t swept, skipped, failed;
    uint64_t acks, wakes, retries, dead_letters, recurrences;
    uint64_t stops[4];   /* by stuck_reason; [0] unused */
    uint64_t orphans;    /* stops of agents whose session is not active */
    uint64_t cleanup_runs, cleanup_failures;
    uint64_t reloads, reload_failures;
    double tick_seconds_total;
    /* gauges */
    size_t sessions, running, due;
    double last_tick_seconds;
    int64_t last_tick_ms;      /* wall clock, ms since epoch; 0 = never */
    int64_t next_deadline_ms;  /* INT64_MAX = none */
    int64_t start_ms;
    size_t watches;
    int stat_gating, observe, stops_suppressed;
} metrics;

/* Add one tick's result (full or incremental). */
void metrics_add_tick(metrics *m, const tick_result *r, int full,
                      double seconds, int64_t now_ms);

/* Render the text exposition format into a malloc'd buffer (*out, *len).
 * 0 ok, -1 out of memory. */
int metrics_render(const metrics *m, char **out, size_t *len);

/* Render and write DATA/clawsweep/metrics.prom atomically. 0 or -1. */
int metrics_write(const metrics *m, const char *data_dir);

#endif
