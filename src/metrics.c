/*
 * metrics.c - see metrics.h.
 *
 * The file is rebuilt whole after every tick (a few kB) and replaced with
 * write_file_atomic, so the textfile collector never reads half a file.
 * Every family gets its # HELP and # TYPE lines before its samples, as the
 * exposition format requires; stops are one counter family with a
 * `reason` label (the SPEC §2 names, plus "orphan").
 */
#include "metrics.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "util.h"

typedef struct {
    char *buf;
    size_t len, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->buf ? b->buf + b->len : NULL,
                          b->buf ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if (b->buf && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->oom = 1;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
}

static void family(sbuf *b, const char *name, const char *type,
                   const char *help)
{
    put(b, "# HELP clawsweep_%s %s\n# TYPE clawsweep_%s %s\n", name, help,
        name, type);
}

static void counter(sbuf *b, const char *name, const char *help, uint64_t v)
{
    family(b, name, "counter", help);
    put(b, "clawsweep_%s %llu\n", name, (unsigned long long)v);
}

static void gauge(sbuf *b, const char *name, const char *help, double v)
{
    family(b, name, "gauge", help);
    put(b, "clawsweep_%s %.17g\n", name, v);
}

void metrics_add_tick(metrics *m, const tick_result *r, int full,
                      double seconds, int64_t now_ms)
{
    if (full)
        m->ticks_full++;
    else
        m->ticks_incremental++;
    m->swept += r->swept;
    m->skipped += r->skipped;
    m->failed += r->failed;
    m->acks += r->acks;
    m->wakes += r->wakes;
    m->retries += r->retries;
    m->dead_letters += r->dead_letters;
    m->recurrences += r->recurrences;
    m->orphans += r->orphans;
    for (int k = STUCK_CEILING; k <= STUCK_CLAIM; k++)
        m->stops[k] += r->stops[k];
    m->tick_seconds_total += seconds;
    m->sessions = r->sessions;
    m->running = r->running;
    m->due = r->due;
    m->last_tick_seconds = seconds;
    m->last_tick_ms = now_ms;
    m->next_deadline_ms = r->next_deadline_ms;
}

int metrics_render(const metrics *m, char **out, size_t *len)
{
    sbuf b = {0};
    family(&b, "ticks_total", "counter",
           "Sweep ticks run, by kind (full: safety interval or start; "
           "incremental: a deadline or a file change).");
    put(&b, "clawsweep_ticks_total{kind=\"full\"} %llu\n",
        (unsigned long long)m->ticks_full);
    put(&b, "clawsweep_ticks_total{kind=\"incremental\"} %llu\n",
        (unsigned long long)m->ticks_incremental);
    counter(&b, "tick_errors_total",
            "Ticks that could not run (central DB unreadable).",
            m->tick_errors);
    counter(&b, "sessions_swept_total",
            "Sessions opened and processed by a tick.", m->swept);
    counter(&b, "sessions_skipped_total",
            "Sessions left unopened by an incremental tick (unchanged).",
            m->skipped);
    counter(&b, "sessions_failed_total",
            "Sessions that could not be swept (each logged).", m->failed);
    counter(&b, "acks_total", "Messages marked completed from agent acks.",
            m->acks);
    counter(&b, "wakes_total", "Agents started for due messages.", m->wakes);
    family(&b, "stops_total", "counter",
           "Agents stopped, by reason (orphan: session not active).");
    for (int k = STUCK_CEILING; k <= STUCK_CLAIM; k++)
        put(&b, "clawsweep_stops_total{reason=\"%s\"} %llu\n",
            rules_stuck_name((stuck_reason)k),
            (unsigned long long)m->stops[k]);
    put(&b, "clawsweep_stops_total{reason=\"orphan\"} %llu\n",
        (unsigned long long)m->orphans);
    counter(&b, "retries_total",
            "Orphan claims reset for another try (tries + 1, backoff).",
            m->retries);
    counter(&b, "dead_letters_total",
            "Messages failed after max_tries (dead letters).",
            m->dead_letters);
    counter(&b, "recurrences_total", "Next rows of recurring messages "
            "inserted.", m->recurrences);
    counter(&b, "cleanup_runs_total", "Artifact cleanup passes started.",
            m->cleanup_runs);
    counter(&b, "cleanup_failures_total",
            "Artifact cleanup passes that failed or found errors.",
            m->cleanup_failures);
    counter(&b, "config_reloads_total", "SIGHUP config reloads applied.",
            m->reloads);
    counter(&b, "config_reload_failures_total",
            "SIGHUP config reloads refused (bad config; old one kept).",
            m->reload_failures);
    family(&b, "tick_seconds_total", "counter",
           "Time spent in ticks, in seconds.");
    put(&b, "clawsweep_tick_seconds_total %.6f\n", m->tick_seconds_total);
    gauge(&b, "tick_duration_seconds", "Duration of the last tick.",
          m->last_tick_seconds);
    gauge(&b, "last_tick_timestamp_seconds",
          "When the last tick ran (Unix time).",
          (double)m->last_tick_ms / 1000.0);
    gauge(&b, "next_deadline_timestamp_seconds",
          "The next known per-session deadline (Unix time; 0 = none).",
          m->next_deadline_ms == INT64_MAX ? 0.0
                                           : (double)m->next_deadline_ms /
                                                 1000.0);
    gauge(&b, "start_timestamp_seconds", "When the daemon started (Unix "
          "time).", (double)m->start_ms / 1000.0);
    gauge(&b, "sessions", "Active sessions seen by the last tick.",
          (double)m->sessions);
    gauge(&b, "running_agents", "Agents of active sessions running.",
          (double)m->running);
    gauge(&b, "due_messages", "Messages that would wake an agent now.",
          (double)m->due);
    gauge(&b, "inotify_watches", "Session folders watched with inotify.",
          (double)m->watches);
    gauge(&b, "stat_gating", "1 when inotify watches ran out and sessions "
          "are polled by stat instead.", m->stat_gating);
    gauge(&b, "stops_suppressed", "1 while the starvation guard holds back "
          "stops after a late tick.", m->stops_suppressed);
    gauge(&b, "observe_mode", "1 in observe mode (nothing is changed, "
          "counters are what would have been done).", m->observe);
    if (b.oom) {
        free(b.buf);
        return -1;
    }
    *out = b.buf;
    *len = b.len;
    return 0;
}

int metrics_write(const metrics *m, const char *data_dir)
{
    char path[PATH_MAX];
    if (path_join(path, sizeof path, "%s/clawsweep/metrics.prom", data_dir) !=
        0)
        return -1;
    char *text;
    size_t len;
    if (metrics_render(m, &text, &len) != 0)
        return -1;
    int rc = write_file_atomic(path, text, len);
    free(text);
    return rc;
}
