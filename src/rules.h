/*
 * rules.h - the decisions of SPEC §2 as pure functions of (state, now,
 * config). No I/O here: sweep.c gathers the state, asks, and acts.
 */
#ifndef CLAWSWEEP_RULES_H
#define CLAWSWEEP_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "timefmt.h"

/* backoff(t) = min(backoff_base * 2^t, backoff_max); with full jitter a
 * uniform value in [0, that] drawn from rand64. */
int64_t rules_backoff_ms(const cs_config *cfg, int tries_before,
                         uint64_t rand64);

/* Start-failure backoff: backoff(n) on the n-th failure in a row, capped
 * at 5 minutes (SPEC §2). */
int64_t rules_start_backoff_ms(const cs_config *cfg, int failures);

/* Only trigger = 1 rows that are not kind 'system' ever wake an agent. */
int rules_can_wake(int trigger, const char *kind);

/* A message is due (would wake an agent) when pending, it can wake, and
 * process_after is none or <= now. An unparseable
 * process_after (has_process_after && after_ms == TIME_UNKNOWN) is never
 * due. */
int rules_is_due(const char *status, int trigger, const char *kind,
                 int has_process_after, int64_t after_ms, int64_t now_ms);

/* Step 2: what to do with a message whose claim an agent left behind. */
typedef enum {
    RESET_NOTHING,     /* message not pending: only the claim goes */
    RESET_SKIP_FUTURE, /* process_after in the future: already rescheduled */
    RESET_DEAD_LETTER, /* tries >= max_tries: status = 'failed' */
    RESET_RETRY        /* tries += 1, process_after = now + backoff */
} reset_action;

typedef struct {
    reset_action action;
    int new_tries;
    int64_t new_process_after_ms;
} reset_decision;

reset_decision rules_reset_claim(const cs_config *cfg, const char *status,
                                 int tries, int has_process_after,
                                 int64_t after_ms, int64_t now_ms,
                                 uint64_t rand64);

/* Step 4: the stuck rules for a running agent. */
typedef enum {
    STUCK_NONE = 0,
    STUCK_CEILING,      /* "absolute-ceiling" */
    STUCK_NO_HEARTBEAT, /* "no-heartbeat" */
    STUCK_CLAIM         /* "claim-stuck" */
} stuck_reason;

const char *rules_stuck_name(stuck_reason r);

typedef struct {
    int64_t now_ms;
    int64_t heartbeat_ms;   /* mtime of .heartbeat, TIME_UNKNOWN = absent */
    int64_t started_ms;     /* when clawsweep started/first saw the agent */
    int64_t bash_timeout_ms; /* declared Bash timeout, 0 = none */
    const int64_t *claim_changed_ms; /* processing claims' status_changed;
                                        TIME_UNKNOWN = unparseable */
    size_t nclaims;
    int started_this_tick;
    int64_t stops_suppressed_until_ms; /* starvation guard; 0 = none */
} stuck_input;

/* Returns the first rule that fires; *claim_index tells which claim for
 * STUCK_CLAIM (may be NULL). */
stuck_reason rules_stuck(const cs_config *cfg, const stuck_input *in,
                         size_t *claim_index);

/* Earliest future instant at which rules_stuck could change its answer
 * without any file changing (for the daemon's timer); INT64_MAX = none. */
int64_t rules_stuck_deadline(const cs_config *cfg, const stuck_input *in);

#endif
