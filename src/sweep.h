/*
 * sweep.h - one sweep tick over every active session (SPEC §2), for the
 * one-shot `sweep` command and for the daemon. The tick knows the runtime
 * only through runtime.h and the files only through sessiondb.h/store.h;
 * the decisions are rules.h.
 */
#ifndef CLAWSWEEP_SWEEP_H
#define CLAWSWEEP_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "journal.h"
#include "runtime.h"
#include "tz.h"

typedef struct sweep_ctx sweep_ctx;

typedef struct {
    int dry_run;        /* compute and report, change nothing */
    int full;           /* a full sweep also stops orphan agents */
    int incremental;    /* daemon: skip sessions with unchanged files and
                           no deadline passed */
    int journal_would;  /* with dry_run (observe mode): journal what each
                           session's sweep would do, once per change */
    int64_t now_ms;
    int64_t stops_suppressed_until_ms; /* starvation guard (daemon only) */
    volatile int *stop_flag; /* set by a signal: finish this session, stop */
    /* Daemon, incremental ticks: the caller (inotify) vouches that the
     * session's files have not changed since the last tick when this
     * returns 1, so its stat gate is skipped. NULL = stat every session. */
    int (*unchanged)(void *arg, const char *session_id);
    void *unchanged_arg;
} tick_opts;

/* One thing the tick did (or, dry, would do). */
typedef struct {
    char session[130];
    char message[130];
    char action[24];
    char detail[200];
} sweep_action;

typedef struct {
    size_t sessions;   /* active sessions seen */
    size_t swept;      /* opened and processed */
    size_t skipped;    /* unchanged, not reopened (incremental) */
    size_t failed;     /* could not be swept: unreadable DB, failed start,
                          unconfirmed stop, invalid id */
    size_t acks, wakes, retries, dead_letters, recurrences, orphans;
    size_t stops[4];   /* by stuck_reason */
    size_t running;    /* agents of active sessions running after the tick */
    size_t due;        /* due messages across sessions */
    int runtime_unknown;
    int64_t next_deadline_ms; /* INT64_MAX when none */
    sweep_action *actions;
    size_t nactions, cap;
} tick_result;

/* The ctx borrows cfg, rt, tz and j (j may be NULL in a dry run with no
 * state.db yet); it owns its caches. */
int sweep_ctx_new(const cs_config *cfg, runtime *rt, const tz_info *tz,
                  journal *j, sweep_ctx **out);
void sweep_ctx_free(sweep_ctx *c);

/* 0 when the tick ran (r->failed may still count sessions that could not
 * be swept), -1 when it could not start (central DB unreadable; logged). */
int sweep_tick(sweep_ctx *c, const tick_opts *o, tick_result *r);
void tick_result_free(tick_result *r);

/* Stop agents of this install whose session is not active (or list them
 * when dry). Returns the number stopped/listed, -1 when unknown. */
int sweep_reap_orphans(sweep_ctx *c, const tick_opts *o, tick_result *r);

#endif
