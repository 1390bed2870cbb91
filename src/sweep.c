/*
 * sweep.c - one tick of SPEC §2.
 *
 * A tick is two passes. The first visits every active session on its own
 * (an error in one is logged with its id and the tick goes on): ack sync,
 * orphan-claim reset when no agent runs, the stuck rules when one does,
 * recurrences, then it counts what is due. The second pass starts agents
 * for sessions with due work, oldest due first, while fewer than
 * max_concurrent run - it needs every session's answer, so it cannot be
 * done inside the first. Starting last also gives "skip the stuck rules
 * for an agent started in this tick" for free.
 *
 * Whether an agent runs comes from one runtime_list per tick. When the
 * runtime cannot tell, nothing is started, stopped or reset in that tick:
 * a guess could start a duplicate agent or delete a live claim.
 *
 * Every change is reported as a sweep_action (printed by `sweep
 * --dry-run`/`--json`, logged always) and, in a real run, journaled.
 */
#include "sweep.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "recurrence.h"
#include "rules.h"
#include "sessiondb.h"
#include "store.h"
#include "timefmt.h"

typedef enum { AGENT_NO, AGENT_YES, AGENT_UNKNOWN } agent_state;

/* What identifies a file's version: the part of struct stat the stat gate
 * compares (a third of its size: the memo holds one per session file). */
typedef struct {
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
} file_sig;

/* What the daemon remembers of a session between ticks, so an unchanged
 * session costs three stat calls instead of two SQLite opens. */
typedef struct {
    char *id;
    file_sig files[3]; /* inbound.db, outbound.db, .heartbeat */
    int64_t deadline_ms;
    agent_state agent;
    int failed;
    size_t due;  /* its due messages, still counted when skipped */
    uint64_t would; /* observe mode: digest of what its last sweep would
                       have done, so the journal hears of each change once */
    int waiting; /* due work and no agent (no slot, or start backoff):
                    never skipped, so a freed slot or an ended backoff
                    is acted on by the next incremental tick */
} session_memo;

struct sweep_ctx {
    const cs_config *cfg;
    runtime *rt;
    const tz_info *tz;
    journal *j;
    strset logged_bad_times; /* "session/message" already reported */
    session_memo *memo;
    size_t nmemo;
};

typedef struct {
    const session_row *row;
    char dir[PATH_MAX];
    int64_t oldest_due_ms;
    int due;
    int running_after; /* an agent still runs after the session's steps */
} wake_candidate;

static const char *const file_names[3] = {"inbound.db", "outbound.db",
                                          ".heartbeat"};

int sweep_ctx_new(const cs_config *cfg, runtime *rt, const tz_info *tz,
                  journal *j, sweep_ctx **out)
{
    sweep_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    c->cfg = cfg;
    c->rt = rt;
    c->tz = tz;
    c->j = j;
    *out = c;
    return 0;
}

static void memo_free(sweep_ctx *c)
{
    for (size_t i = 0; i < c->nmemo; i++)
        free(c->memo[i].id);
    free(c->memo);
    c->memo = NULL;
    c->nmemo = 0;
}

void sweep_ctx_free(sweep_ctx *c)
{
    if (!c)
        return;
    strset_free(&c->logged_bad_times);
    memo_free(c);
    free(c);
}

void tick_result_free(tick_result *r)
{
    free(r->actions);
    r->actions = NULL;
    r->nactions = r->cap = 0;
}

/* Report one action: into the result list and to the log. */
static void record(const tick_opts *o, tick_result *r, const char *session,
                   const char *message, const char *action,
                   const char *detail_fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void record(const tick_opts *o, tick_result *r, const char *session,
                   const char *message, const char *action,
                   const char *detail_fmt, ...)
{
    sweep_action a;
    memset(&a, 0, sizeof a);
    snprintf(a.session, sizeof a.session, "%s", session ? session : "");
    snprintf(a.message, sizeof a.message, "%s", message ? message : "");
    snprintf(a.action, sizeof a.action, "%s", action);
    va_list ap;
    va_start(ap, detail_fmt);
    vsnprintf(a.detail, sizeof a.detail, detail_fmt, ap);
    va_end(ap);
    if (r->nactions == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        sweep_action *na = realloc(r->actions, cap * sizeof *na);
        if (na) {
            r->actions = na;
            r->cap = cap;
        }
    }
    if (r->nactions < r->cap)
        r->actions[r->nactions++] = a;
    log_info(o->dry_run ? "would do" : "did", "action=%s session=%s message=%s detail=%s",
             a.action, a.session, a.message, a.detail);
}

static void journal_note(sweep_ctx *c, const tick_opts *o, const char *sid,
                         const char *mid, const char *kind,
                         const char *reason, const char *detail)
{
    if (!o->dry_run && c->j &&
        journal_event(c->j, o->now_ms, sid, mid, kind, reason, detail) != 0)
        log_warn("cannot write journal", "session=%s event=%s", sid, kind);
}

static void set_container_status(sweep_ctx *c, const char *sid,
                                 const char *status)
{
    char err[512];
    if (store_set_container_status(c->cfg->data_dir, c->cfg->sweep.busy_timeout_ms,
                                   sid, status, err, sizeof err) != 0)
        log_warn("cannot update container_status", "session=%s error=%s", sid,
                 err);
}

static uint64_t jitter_rand(const sweep_ctx *c)
{
    return c->cfg->sweep.backoff_jitter == JITTER_FULL ? random_u64() : 0;
}

/* ---- Step 2: reset the claims an agent that is gone left behind ---- */

typedef struct {
    char *id;
    reset_decision d;
} reset_done;

/* A mistyped tries counts as 0 (the retry writes a good value): say so. */
static void warn_bad_tries(const char *sid, const sdb_claim *cl)
{
    if (cl->tries_bad)
        log_warn("tries is not a whole number; counted as 0",
                 "session=%s message=%s", sid, cl->message_id);
}

static int reset_orphan_claims(sweep_ctx *c, const tick_opts *o,
                               sessiondb *s, const char *sid, tick_result *r)
{
    char err[1024];
    sdb_claim *claims;
    size_t n;
    if (sdb_claims(s, &claims, &n, err, sizeof err) != 0) {
        log_error("cannot read claims", "session=%s error=%s", sid, err);
        return -1;
    }
    if (n == 0)
        return 0;
    if (o->dry_run) {
        for (size_t i = 0; i < n; i++) {
            warn_bad_tries(sid, &claims[i]);
            reset_decision d = rules_reset_claim(
                c->cfg, claims[i].status, claims[i].tries,
                claims[i].has_process_after, claims[i].process_after_ms,
                o->now_ms, 0);
            if (d.action == RESET_RETRY)
                record(o, r, sid, claims[i].message_id, "retry",
                       "tries %d -> %d", claims[i].tries, d.new_tries);
            else if (d.action == RESET_DEAD_LETTER)
                record(o, r, sid, claims[i].message_id, "dead-letter",
                       "tries %d >= max_tries %d", claims[i].tries,
                       c->cfg->sweep.max_tries);
        }
        record(o, r, sid, NULL, "clear-claims", "%zu processing claim(s)", n);
        sdb_claims_free(claims, n);
        return 0;
    }
    sdb_claims_free(claims, n);

    if (sdb_outbound_writable(s, err, sizeof err) < 0) {
        log_error("cannot open outbound.db to reset claims", "session=%s error=%s",
                  sid, err);
        return -1;
    }
    if (sdb_begin(s, err, sizeof err) != 0) {
        log_error("cannot reset claims", "session=%s error=%s", sid, err);
        return -1;
    }
    /* Read again under the write lock: this is the state we change. */
    if (sdb_claims(s, &claims, &n, err, sizeof err) != 0)
        goto fail;
    reset_done *done = calloc(n ? n : 1, sizeof *done);
    if (!done) {
        snprintf(err, sizeof err, "out of memory");
        sdb_claims_free(claims, n);
        goto fail;
    }
    size_t ndone = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        warn_bad_tries(sid, &claims[i]);
        reset_decision d = rules_reset_claim(
            c->cfg, claims[i].status, claims[i].tries,
            claims[i].has_process_after, claims[i].process_after_ms,
            o->now_ms, jitter_rand(c));
        if (d.action == RESET_RETRY)
            rc = sdb_retry(s, claims[i].message_id, d.new_tries,
                           d.new_process_after_ms, err, sizeof err);
        else if (d.action == RESET_DEAD_LETTER)
            rc = sdb_dead_letter(s, claims[i].message_id, err, sizeof err);
        else
            continue;
        done[ndone].id = claims[i].message_id;
        claims[i].message_id = NULL; /* moved */
        done[ndone++].d = d;
    }
    sdb_claims_free(claims, n);
    if (rc == 0)
        rc = sdb_clear_claims(s, err, sizeof err);
    if (rc == 0)
        rc = sdb_commit(s, err, sizeof err);
    else
        sdb_rollback(s);
    for (size_t i = 0; i < ndone; i++) {
        if (rc == 0) {
            char when[32], detail[96];
            if (done[i].d.action == RESET_RETRY) {
                timefmt_iso_ms(done[i].d.new_process_after_ms, when, sizeof when);
                snprintf(detail, sizeof detail, "tries=%d process_after=%s",
                         done[i].d.new_tries, when);
                record(o, r, sid, done[i].id, "retry", "%s", detail);
                journal_note(c, o, sid, done[i].id, "retry", NULL, detail);
                r->retries++;
            } else {
                snprintf(detail, sizeof detail, "tries=%d max_tries=%d",
                         done[i].d.new_tries, c->cfg->sweep.max_tries);
                record(o, r, sid, done[i].id, "dead-letter", "%s", detail);
                journal_note(c, o, sid, done[i].id, "dead-letter",
                             "max-tries", detail);
                r->dead_letters++;
            }
        }
        free(done[i].id);
    }
    free(done);
    if (rc != 0) {
        log_error("cannot reset claims", "session=%s error=%s", sid, err);
        return -1;
    }
    record(o, r, sid, NULL, "clear-claims", "orphan claims deleted");
    return 0;
fail:
    sdb_rollback(s);
    log_error("cannot reset claims", "session=%s error=%s", sid, err);
    return -1;
}

/* ---- Step 4: a running agent that is stuck is stopped ---- */

static int64_t heartbeat_ms(const char *dir)
{
    char p[PATH_MAX];
    struct stat st;
    if (path_join(p, sizeof p, "%s/.heartbeat", dir) != 0 || lstat(p, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return TIME_UNKNOWN;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* Returns 1 when the agent was stopped (confirmed), 0 when not stuck, -1
 * when a stop could not be confirmed or the state not read. */
static int stuck_step(sweep_ctx *c, const tick_opts *o, sessiondb *s,
                      const session_row *row, const char *dir,
                      int64_t started_ms, tick_result *r, int64_t *deadline)
{
    char err[1024];
    sdb_claim *claims;
    size_t n;
    int64_t bash_ms;
    if (sdb_claims(s, &claims, &n, err, sizeof err) != 0 ||
        sdb_bash_timeout(s, &bash_ms, err, sizeof err) != 0) {
        log_error("cannot read agent state", "session=%s error=%s", row->id, err);
        return -1;
    }
    int64_t *changed = calloc(n ? n : 1, sizeof *changed);
    if (!changed) {
        sdb_claims_free(claims, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        changed[i] = claims[i].changed_ms;
    stuck_input in = {
        .now_ms = o->now_ms,
        .heartbeat_ms = heartbeat_ms(dir),
        .started_ms = started_ms,
        .bash_timeout_ms = bash_ms,
        .claim_changed_ms = changed,
        .nclaims = n,
        .started_this_tick = 0,
        .stops_suppressed_until_ms = o->stops_suppressed_until_ms,
    };
    if (in.started_ms == TIME_UNKNOWN)
        in.started_ms = o->now_ms; /* first seen now */
    size_t which = 0;
    stuck_reason why = rules_stuck(c->cfg, &in, &which);
    int64_t next = rules_stuck_deadline(c->cfg, &in);
    if (next < *deadline)
        *deadline = next;
    char claim_id[130] = "";
    if (why == STUCK_CLAIM)
        snprintf(claim_id, sizeof claim_id, "%s", claims[which].message_id);
    sdb_claims_free(claims, n);
    free(changed);
    if (why == STUCK_NONE)
        return 0;

    const char *reason = rules_stuck_name(why);
    if (o->dry_run) {
        record(o, r, row->id, claim_id, "stop", "reason=%s", reason);
        r->stops[why]++;
        return 0;
    }
    agent_ref a = {row->id, row->group_id, dir};
    log_warn("stopping stuck agent", "session=%s reason=%s message=%s", row->id,
             reason, claim_id);
    if (runtime_stop(c->rt, &a, err, sizeof err) != 0) {
        log_error("stop not confirmed; claims left alone",
                  "session=%s reason=%s error=%s", row->id, reason, err);
        journal_note(c, o, row->id, NULL, "stop-unconfirmed", reason, err);
        return -1;
    }
    r->stops[why]++;
    record(o, r, row->id, claim_id, "stop", "reason=%s", reason);
    journal_note(c, o, row->id, claim_id[0] ? claim_id : NULL, "stop", reason,
                 NULL);
    journal_agent_clear(c->j, row->id);
    set_container_status(c, row->id, "stopped");
    /* The agent is confirmed gone: the reset of step 2 runs now. */
    if (reset_orphan_claims(c, o, s, row->id, r) != 0)
        return -1;
    return 1;
}

/* ---- Step 5: recurrences ---- */

static int recurrence_step(sweep_ctx *c, const tick_opts *o, sessiondb *s,
                           const char *sid, tick_result *r, int64_t *deadline)
{
    (void)deadline;
    char err[1024];
    sdb_recurring_row *rows;
    size_t n;
    if (sdb_recurring(s, &rows, &n, err, sizeof err) != 0) {
        log_error("cannot read recurring messages", "session=%s error=%s", sid,
                  err);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        sdb_recurring_row *row = &rows[i];
        int64_t next = 0;
        char why[256];
        int parsed = recurrence_next_in_series(row->recurrence, c->tz,
                                               o->now_ms, row->fired_ms, &next,
                                               why, sizeof why) == 0;
        if (o->dry_run) {
            int has_open = 0;
            sdb_series_has_open(s, row->series_id, &has_open, err, sizeof err);
            char when[32] = "";
            if (parsed)
                timefmt_iso_ms(next, when, sizeof when);
            if (!parsed)
                record(o, r, sid, row->id, "retire-recurrence",
                       "bad recurrence '%s': %s", row->recurrence, why);
            else if (has_open)
                record(o, r, sid, row->id, "end-recurrence",
                       "series %s already has a pending or paused row",
                       row->series_id);
            else
                record(o, r, sid, row->id, "recur", "next=%s", when);
            continue;
        }
        if ((rc = sdb_begin(s, err, sizeof err)) != 0)
            break;
        int has_open = 0;
        char new_id[64] = "";
        if (parsed &&
            (rc = sdb_series_has_open(s, row->series_id, &has_open, err,
                                      sizeof err)) == 0 &&
            !has_open) {
            char rnd[7];
            random_suffix(rnd, 6);
            snprintf(new_id, sizeof new_id, "%s-%lld-%s",
                     strcmp(row->kind, "task") == 0 ? "task" : "msg",
                     (long long)o->now_ms, rnd);
            rc = sdb_insert_next(s, row->id, new_id, next, o->now_ms, err,
                                 sizeof err);
        }
        if (rc == 0)
            rc = sdb_clear_recurrence(s, row->id, err, sizeof err);
        if (rc == 0)
            rc = sdb_commit(s, err, sizeof err);
        else
            sdb_rollback(s);
        if (rc != 0)
            break;
        if (!parsed) {
            log_error("recurrence retired: expression does not parse",
                      "session=%s message=%s recurrence=%s error=%s", sid,
                      row->id, row->recurrence, why);
            record(o, r, sid, row->id, "retire-recurrence",
                   "bad recurrence '%s'", row->recurrence);
            journal_note(c, o, sid, row->id, "recurrence-retired", why,
                         row->recurrence);
        } else if (has_open) {
            record(o, r, sid, row->id, "end-recurrence",
                   "series %s already has a pending or paused row",
                   row->series_id);
        } else {
            char when[32], detail[160];
            timefmt_iso_ms(next, when, sizeof when);
            snprintf(detail, sizeof detail, "new=%s process_after=%s", new_id,
                     when);
            record(o, r, sid, row->id, "recur", "%s", detail);
            journal_note(c, o, sid, row->id, "recurrence", NULL, detail);
            r->recurrences++;
        }
    }
    sdb_recurring_free(rows, n);
    if (rc != 0) {
        log_error("cannot apply recurrence", "session=%s error=%s", sid, err);
        return -1;
    }
    return 0;
}

/* ---- one session: steps 1, 2, 4, 5, and what step 3 needs ---- */

static void session_paths_stat(const char *dir, file_sig files[3])
{
    char p[PATH_MAX];
    for (int i = 0; i < 3; i++) {
        struct stat st;
        memset(&files[i], 0, sizeof files[i]);
        if (path_join(p, sizeof p, "%s/%s", dir, file_names[i]) == 0 &&
            lstat(p, &st) == 0)
            files[i] = (file_sig){st.st_ino, st.st_size, st.st_mtim,
                                  st.st_ctim};
    }
}

static int same_files(const file_sig a[3], const file_sig b[3])
{
    for (int i = 0; i < 3; i++)
        if (a[i].ino != b[i].ino || a[i].size != b[i].size ||
            a[i].mtime.tv_sec != b[i].mtime.tv_sec ||
            a[i].mtime.tv_nsec != b[i].mtime.tv_nsec ||
            a[i].ctime.tv_sec != b[i].ctime.tv_sec ||
            a[i].ctime.tv_nsec != b[i].ctime.tv_nsec)
            return 0;
    return 1;
}

static int sweep_session(sweep_ctx *c, const tick_opts *o,
                         const session_row *row, agent_state agent,
                         wake_candidate *cand, tick_result *r,
                         int64_t *deadline)
{
    const char *sid = row->id;
    char err[1024];
    cand->due = 0;
    cand->running_after = agent == AGENT_YES;

    /* Bookkeeping of the agents clawsweep knows about. */
    int64_t started = journal_agent_started(c->j, sid);
    if (!o->dry_run && agent == AGENT_YES && started == TIME_UNKNOWN) {
        journal_agent_set(c->j, sid, o->now_ms);
        started = o->now_ms;
        /* Also the repair for a sweep killed between starting this agent
         * and marking it: NanoClaw delivers only for 'running'. */
        set_container_status(c, sid, "running");
        log_info("agent found running", "session=%s", sid);
    } else if (!o->dry_run && agent == AGENT_NO && started != TIME_UNKNOWN) {
        journal_agent_clear(c->j, sid);
        set_container_status(c, sid, "stopped");
        journal_note(c, o, sid, NULL, "exit", NULL, NULL);
        log_info("agent gone", "session=%s", sid);
    }

    sdb_open_opts oo = {o->dry_run, agent != AGENT_NO,
                        c->cfg->sweep.busy_timeout_ms};
    sessiondb *s;
    if (sdb_open(cand->dir, &oo, &s, err, sizeof err) != 0) {
        log_error("session skipped", "session=%s error=%s", sid, err);
        return -1;
    }
    int failed = 0;
    const char *obp = sdb_outbound_problem(s);
    if (obp)
        log_warn("outbound.db not readable", "session=%s error=%s", sid, obp);

    /* Step 1: ack sync. */
    int n;
    if (sdb_ack_sync(s, !o->dry_run, &n, err, sizeof err) != 0) {
        log_error("ack sync failed", "session=%s error=%s", sid, err);
        failed = 1;
    } else if (n > 0) {
        record(o, r, sid, NULL, "ack-sync", "%d message(s) completed", n);
        r->acks += (size_t)n;
    }

    /* Step 2: no agent running - reset orphan claims. */
    if (agent == AGENT_NO && reset_orphan_claims(c, o, s, sid, r) != 0)
        failed = 1;

    /* Step 4: running agent - stuck rules. */
    if (agent == AGENT_YES) {
        int st = stuck_step(c, o, s, row, cand->dir, started, r, deadline);
        if (st < 0)
            failed = 1;
        else if (st == 1)
            agent = AGENT_NO;
    }
    cand->running_after = agent == AGENT_YES;

    /* Step 5: recurrences. */
    if (recurrence_step(c, o, s, sid, r, deadline) != 0)
        failed = 1;

    /* What step 3 needs. */
    sdb_queue q;
    strset bad = {0};
    if (sdb_queue_summary(s, o->now_ms, &q, &bad, err, sizeof err) != 0) {
        log_error("cannot read queue", "session=%s error=%s", sid, err);
        failed = 1;
    } else {
        for (size_t i = 0; i < bad.len; i++) {
            char key[300];
            snprintf(key, sizeof key, "%s/%s", sid, bad.items[i]);
            if (strset_has(&c->logged_bad_times, key))
                continue;
            strset_add(&c->logged_bad_times, key);
            strset_sort(&c->logged_bad_times);
            log_error("unparseable process_after: message never due",
                      "session=%s message=%s", sid, bad.items[i]);
        }
        r->due += (size_t)q.due;
        if (q.next_due_ms < *deadline)
            *deadline = q.next_due_ms;
        if (q.due > 0 && agent == AGENT_NO) {
            cand->due = q.due;
            cand->oldest_due_ms = q.oldest_due_ms;
        }
    }
    strset_free(&bad);
    sdb_close(s);
    return failed ? -1 : 0;
}

/* ---- step 3: wake, oldest due first, within max_concurrent ---- */

static int by_oldest_due(const void *a, const void *b)
{
    const wake_candidate *x = a, *y = b;
    if (x->oldest_due_ms != y->oldest_due_ms)
        return x->oldest_due_ms < y->oldest_due_ms ? -1 : 1;
    return strcmp(x->row->id, y->row->id);
}

static void wake_step(sweep_ctx *c, const tick_opts *o, wake_candidate *cands,
                      size_t ncand, size_t running, tick_result *r)
{
    qsort(cands, ncand, sizeof *cands, by_oldest_due);
    for (size_t i = 0; i < ncand; i++) {
        wake_candidate *w = &cands[i];
        const char *sid = w->row->id;
        start_state ss;
        journal_start_state(c->j, sid, &ss);
        if (ss.failures > 0 && o->now_ms < ss.next_try_ms) {
            if (ss.next_try_ms < r->next_deadline_ms)
                r->next_deadline_ms = ss.next_try_ms;
            continue;
        }
        if (running >= (size_t)c->cfg->sweep.max_concurrent) {
            log_debug("wake waits for a free slot", "session=%s due=%d", sid,
                      w->due);
            continue;
        }
        if (o->dry_run) {
            record(o, r, sid, NULL, "wake", "%d due message(s)", w->due);
            running++;
            r->wakes++;
            continue;
        }
        char hb[PATH_MAX], err[1024];
        if (path_join(hb, sizeof hb, "%s/.heartbeat", w->dir) == 0 &&
            unlink(hb) != 0 && errno != ENOENT)
            log_warn("cannot remove leftover heartbeat", "session=%s error=%s",
                     sid, strerror(errno));
        agent_ref a = {sid, w->row->group_id, w->dir};
        if (runtime_start(c->rt, &a, err, sizeof err) != 0) {
            int failures = ss.failures + 1;
            int64_t next = o->now_ms + rules_start_backoff_ms(c->cfg, ss.failures);
            journal_start_failed(c->j, sid, failures, next, err);
            /* Logged once per state change, not every tick. */
            if (failures == 1 || strcmp(ss.last_error, err) != 0) {
                log_error("agent start failed; backing off",
                          "session=%s error=%s failures=%d", sid, err, failures);
                journal_note(c, o, sid, NULL, "start-failed", NULL, err);
            } else {
                log_debug("agent start failed again", "session=%s failures=%d",
                          sid, failures);
            }
            if (next < r->next_deadline_ms)
                r->next_deadline_ms = next;
            r->failed++;
            continue;
        }
        if (ss.failures > 0) {
            journal_start_ok(c->j, sid);
            log_info("agent start works again", "session=%s after_failures=%d",
                     sid, ss.failures);
        }
        journal_agent_set(c->j, sid, o->now_ms);
        set_container_status(c, sid, "running");
        record(o, r, sid, NULL, "wake", "%d due message(s)", w->due);
        journal_note(c, o, sid, NULL, "start", NULL, NULL);
        r->wakes++;
        running++;
        /* The new agent has one ceiling to write its first heartbeat. */
        int64_t d = o->now_ms + c->cfg->sweep.ceiling_ms + 1;
        if (d < r->next_deadline_ms)
            r->next_deadline_ms = d;
    }
    r->running = running;
}

/* ---- orphans ---- */

static int reap(sweep_ctx *c, const tick_opts *o, const session_list *active,
                const strset *running, tick_result *r)
{
    strset act = {0};
    for (size_t i = 0; i < active->len; i++)
        strset_add(&act, active->v[i].id);
    strset_sort(&act);
    int count = 0;
    for (size_t i = 0; i < running->len; i++) {
        const char *sid = running->items[i];
        if (strset_has(&act, sid))
            continue;
        count++;
        if (o->dry_run) {
            record(o, r, sid, NULL, "stop-orphan", "session not active");
            continue;
        }
        char err[1024];
        agent_ref a = {sid, "", ""};
        if (runtime_stop(c->rt, &a, err, sizeof err) != 0) {
            log_error("orphan stop not confirmed", "session=%s error=%s", sid,
                      err);
            r->failed++;
            continue;
        }
        journal_agent_clear(c->j, sid);
        record(o, r, sid, NULL, "stop-orphan", "session not active");
        journal_note(c, o, sid, NULL, "stop", "orphan", NULL);
        r->orphans++;
    }
    strset_free(&act);
    return count;
}

int sweep_reap_orphans(sweep_ctx *c, const tick_opts *o, tick_result *r)
{
    char err[1024];
    session_list active;
    if (store_active_sessions(c->cfg->data_dir, c->cfg->sweep.busy_timeout_ms,
                              &active, err, sizeof err) != 0) {
        log_error("cannot read sessions", "error=%s", err);
        return -1;
    }
    strset running = {0};
    int count = -1;
    if (runtime_list(c->rt, &running) == 0)
        count = reap(c, o, &active, &running, r);
    strset_free(&running);
    session_list_free(&active);
    return count;
}

/* ---- observe mode: the journal hears what a sweep would do ---- */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull; /* a separator: "ab","c" != "a","bc" */
}

/* Journal actions[from..] as "would-<action>" events when they differ from
 * what the session's previous sweep would have done (previous), so a state
 * that stays the same is recorded once, not on every tick. Returns their
 * digest. */
static uint64_t journal_would(sweep_ctx *c, const tick_opts *o,
                              const tick_result *r, size_t from,
                              uint64_t previous)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = from; i < r->nactions; i++) {
        h = fnv1a(h, r->actions[i].action);
        h = fnv1a(h, r->actions[i].message);
        h = fnv1a(h, r->actions[i].detail);
    }
    if (h == previous || !c->j)
        return h;
    for (size_t i = from; i < r->nactions; i++) {
        const sweep_action *a = &r->actions[i];
        char kind[32];
        snprintf(kind, sizeof kind, "would-%s", a->action);
        if (journal_event(c->j, o->now_ms, a->session,
                          a->message[0] ? a->message : NULL, kind, NULL,
                          a->detail) != 0)
            log_warn("cannot write journal", "session=%s event=%s", a->session,
                     kind);
    }
    return h;
}

/* ---- the tick ---- */

static session_memo *memo_find(sweep_ctx *c, const char *id)
{
    size_t lo = 0, hi = c->nmemo;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(c->memo[mid].id, id);
        if (cmp == 0)
            return &c->memo[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int sweep_tick(sweep_ctx *c, const tick_opts *o, tick_result *r)
{
    char err[1024];
    memset(r, 0, sizeof *r);
    r->next_deadline_ms = INT64_MAX;

    session_list active;
    if (store_active_sessions(c->cfg->data_dir, c->cfg->sweep.busy_timeout_ms,
                              &active, err, sizeof err) != 0) {
        log_error("cannot read sessions; tick skipped", "error=%s", err);
        return -1;
    }
    r->sessions = active.len;

    strset running = {0};
    int known = runtime_list(c->rt, &running) == 0;
    if (!known) {
        r->runtime_unknown = 1;
        log_error("runtime cannot tell which agents run: no start, stop or "
                  "claim reset this tick",
                  NULL);
    } else {
        strset_sort(&running);
        if (o->full)
            reap(c, o, &active, &running, r);
    }

    wake_candidate *cands = calloc(active.len ? active.len : 1, sizeof *cands);
    session_memo *memo = calloc(active.len ? active.len : 1, sizeof *memo);
    if (!cands || !memo) {
        free(cands);
        free(memo);
        strset_free(&running);
        session_list_free(&active);
        log_error("out of memory", NULL);
        return -1;
    }
    size_t ncand = 0, nmemo = 0, n_running = 0;
    for (size_t i = 0; i < active.len; i++) {
        if (o->stop_flag && *o->stop_flag)
            break;
        const session_row *row = &active.v[i];
        if (!id_is_valid(row->id) || !id_is_valid(row->group_id)) {
            log_error("session skipped: invalid id (allowed: "
                      "[A-Za-z0-9][A-Za-z0-9_.-]{0,127})",
                      "session=%s group=%s", row->id, row->group_id);
            r->failed++;
            continue;
        }
        agent_state agent = !known ? AGENT_UNKNOWN
                            : strset_has(&running, row->id) ? AGENT_YES
                                                           : AGENT_NO;
        wake_candidate *w = &cands[ncand];
        w->row = row;
        if (path_join(w->dir, sizeof w->dir, "%s/v2-sessions/%s/%s",
                      c->cfg->data_dir, row->group_id, row->id) != 0) {
            log_error("session skipped: path too long", "session=%s", row->id);
            r->failed++;
            continue;
        }
        session_memo *m = &memo[nmemo];
        if (!(m->id = strdup(row->id)))
            continue;
        nmemo++;
        m->agent = agent;
        session_memo *old = memo_find(c, row->id);
        if (o->incremental && old && o->unchanged &&
            o->unchanged(o->unchanged_arg, row->id))
            memcpy(m->files, old->files, sizeof m->files);
        else
            session_paths_stat(w->dir, m->files);
        if (o->incremental && old && !old->failed && !old->waiting &&
            old->agent == agent && o->now_ms < old->deadline_ms &&
            same_files(old->files, m->files)) {
            m->deadline_ms = old->deadline_ms;
            m->due = old->due;
            m->would = old->would;
            r->due += old->due;
            if (agent == AGENT_YES)
                n_running++;
            if (m->deadline_ms < r->next_deadline_ms)
                r->next_deadline_ms = m->deadline_ms;
            r->skipped++;
            continue;
        }
        int64_t deadline = INT64_MAX;
        size_t due_before = r->due, actions_before = r->nactions;
        int rc = sweep_session(c, o, row, agent, w, r, &deadline);
        if (o->dry_run && o->journal_would)
            m->would = journal_would(c, o, r, actions_before,
                                     old ? old->would : 0);
        m->failed = rc != 0;
        m->deadline_ms = deadline;
        m->due = r->due - due_before;
        m->waiting = w->due > 0;
        /* m->files stays what the files were before this sweep: a change
         * made while it ran - by the host, the agent or this sweep itself -
         * makes the next incremental tick look again rather than pass for
         * something already swept. */
        if (rc != 0)
            r->failed++;
        else
            r->swept++;
        if (deadline < r->next_deadline_ms)
            r->next_deadline_ms = deadline;
        if (w->running_after)
            n_running++;
        if (w->due > 0)
            ncand++;
    }
    if (known)
        wake_step(c, o, cands, ncand, n_running, r);
    else
        r->running = 0;

    memo_free(c);
    c->memo = memo;
    c->nmemo = nmemo;
    /* memo entries follow active (sorted by id), so memo_find can bsearch */
    free(cands);
    strset_free(&running);
    session_list_free(&active);
    return 0;
}
