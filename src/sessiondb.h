/*
 * sessiondb.h - every SQL statement on a session's inbound.db and
 * outbound.db (SPEC §1.2-1.4). A handle is one connection to inbound.db
 * with outbound.db ATTACHed as "ob", opened for one session step and
 * closed right after (rule 1.4.2). This module decides nothing.
 */
#ifndef CLAWSWEEP_SESSIONDB_H
#define CLAWSWEEP_SESSIONDB_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct sessiondb sessiondb;

typedef struct {
    int readonly;      /* dry run / observe: never write a byte */
    int agent_may_run; /* outbound read-only; a hot journal is not touched */
    int64_t busy_ms;
} sdb_open_opts;

/* Check the files' types without opening them (a FIFO must never block),
 * open inbound.db, migrate old columns (unless readonly), attach
 * outbound.db when it exists. 0, or -1 with err naming file and problem. */
int sdb_open(const char *session_dir, const sdb_open_opts *o, sessiondb **out,
             char *err, size_t errlen);
void sdb_close(sessiondb *s);

/* outbound.db state: attached and readable? Why not (for a log line)? */
int sdb_has_outbound(const sessiondb *s);
const char *sdb_outbound_problem(const sessiondb *s); /* NULL when none */
/* Re-attach outbound.db read-write (the agent is confirmed gone); this
 * rolls back a hot journal the dead agent left. */
int sdb_outbound_writable(sessiondb *s, char *err, size_t errlen);

int sdb_begin(sessiondb *s, char *err, size_t errlen); /* BEGIN IMMEDIATE */
int sdb_commit(sessiondb *s, char *err, size_t errlen);
void sdb_rollback(sessiondb *s);

/* Step 1: messages with a completed/failed ack that are pending/failed.
 * apply = 0 only counts. */
int sdb_ack_sync(sessiondb *s, int apply, int *count, char *err,
                 size_t errlen);

typedef struct {
    char *message_id;
    int64_t changed_ms;   /* TIME_UNKNOWN when unparseable */
    char *status;         /* of the message; NULL when no such message */
    int tries;            /* 0 when tries_bad */
    int tries_bad;        /* tries held no whole number >= 0 (text, ...) */
    int has_process_after;
    int64_t process_after_ms; /* TIME_UNKNOWN when unparseable */
} sdb_claim;

/* The 'processing' rows of processing_ack joined to their messages. */
int sdb_claims(sessiondb *s, sdb_claim **out, size_t *n, char *err,
               size_t errlen);
void sdb_claims_free(sdb_claim *v, size_t n);

/* Step 2 writes (inside sdb_begin/sdb_commit). */
int sdb_retry(sessiondb *s, const char *id, int tries, int64_t after_ms,
              char *err, size_t errlen);
int sdb_dead_letter(sessiondb *s, const char *id, char *err, size_t errlen);
/* Delete every 'processing' claim and clear container_state (outbound). */
int sdb_clear_claims(sessiondb *s, char *err, size_t errlen);

typedef struct {
    int pending;     /* status pending */
    int due;         /* would wake an agent now */
    int failed;      /* dead letters */
    int paused;
    int64_t oldest_due_ms; /* due time of the oldest due row, or INT64_MAX */
    int64_t next_due_ms;   /* earliest future process_after, or INT64_MAX */
} sdb_queue;

/* Count the queue. Ids of pending rows whose process_after does not parse
 * are added to bad_times (may be NULL). */
int sdb_queue_summary(sessiondb *s, int64_t now_ms, sdb_queue *q,
                      strset *bad_times, char *err, size_t errlen);

/* container_state: declared Bash timeout in ms (0 when none). */
int sdb_bash_timeout(sessiondb *s, int64_t *ms, char *err, size_t errlen);

/* Step 5 */
typedef struct {
    char *id;
    char *kind;
    char *recurrence;
    char *series_id;
    int64_t fired_ms; /* its process_after; TIME_UNKNOWN when none */
} sdb_recurring_row;
int sdb_recurring(sessiondb *s, sdb_recurring_row **out, size_t *n, char *err,
                  size_t errlen);
void sdb_recurring_free(sdb_recurring_row *v, size_t n);
/* Does the series already hold a pending or paused row? */
int sdb_series_has_open(sessiondb *s, const char *series_id, int *has,
                        char *err, size_t errlen);
/* Clone old_id as new_id (pending, tries 0, even seq, timestamp now,
 * process_after = after_ms). */
int sdb_insert_next(sessiondb *s, const char *old_id, const char *new_id,
                    int64_t after_ms, int64_t now_ms, char *err,
                    size_t errlen);
int sdb_clear_recurrence(sessiondb *s, const char *id, char *err,
                         size_t errlen);

/* requeue: failed -> pending, tries 0, process_after NULL. *changed = 0
 * when the message is not failed (or does not exist). */
int sdb_requeue(sessiondb *s, const char *id, int *changed, char *err,
                size_t errlen);

typedef struct {
    const char *id, *kind, *timestamp, *content;
    int tries;
} sdb_failed_row;
typedef int (*sdb_failed_fn)(const sdb_failed_row *row, void *arg);
int sdb_each_failed(sessiondb *s, sdb_failed_fn fn, void *arg, char *err,
                    size_t errlen);

/* The next even seq (SPEC §1.2). */
int sdb_next_even_seq(sessiondb *s, int64_t *seq, char *err, size_t errlen);

#endif
