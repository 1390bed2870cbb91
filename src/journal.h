/*
 * journal.h - clawsweep's own state, DATA/clawsweep/state.db (WAL,
 * clawsweep-owned): which agents it started and when, start-failure
 * backoff per session, and the event history (stops with reason, dead
 * letters, retries, failed starts, recurrences) that `status` and `failed`
 * show. Bounded: old events are pruned.
 */
#ifndef CLAWSWEEP_JOURNAL_H
#define CLAWSWEEP_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct journal journal;

/* readonly: open an existing state.db for reading, or return 0 with
 * *out = NULL when there is none (every lookup then answers "nothing"). */
int journal_open(const char *data_dir, int readonly, journal **out, char *err,
                 size_t errlen);
void journal_close(journal *j);

int journal_event(journal *j, int64_t at_ms, const char *session,
                  const char *message, const char *kind, const char *reason,
                  const char *detail);

/* When clawsweep started (or first saw) the session's agent;
 * TIME_UNKNOWN when it has no record. */
int64_t journal_agent_started(journal *j, const char *session);
int journal_agent_set(journal *j, const char *session, int64_t started_ms);
int journal_agent_clear(journal *j, const char *session);
/* Every session with an agent record. */
int journal_agents(journal *j, strset *out);

typedef struct {
    int failures;       /* in a row; 0 = last start worked */
    int64_t next_try_ms;
    char last_error[256];
} start_state;
int journal_start_state(journal *j, const char *session, start_state *st);
int journal_start_failed(journal *j, const char *session, int failures,
                         int64_t next_try_ms, const char *error);
int journal_start_ok(journal *j, const char *session);

typedef struct {
    int64_t at_ms;
    char kind[32];
    char reason[64];
    char message[130];
    char detail[256];
} journal_entry;
/* 1 found, 0 none, -1 error. message may be NULL (any). */
int journal_last_event(journal *j, const char *session, const char *message,
                       journal_entry *e);

/* Keep the newest keep events. */
int journal_prune(journal *j, int keep);

#endif
