/*
 * sessiondb.c - SQL on a session's two databases.
 *
 * Design:
 *  - One connection per session step: inbound.db is "main", outbound.db is
 *    ATTACHed as "ob". Writes that span both files (step 2) then commit
 *    atomically through SQLite's multi-file commit, which needs both files
 *    in rollback-journal mode - one more reason for journal_mode=DELETE.
 *  - outbound.db belongs to the agent. It is attached read-only unless the
 *    caller says no agent can be running, so a live agent's hot journal is
 *    never rolled back under it (SPEC §1.3).
 *  - Nothing is written unless there is something to change: a sweep over
 *    quiet sessions costs reads only, never a journal fsync.
 *  - File types are checked with lstat before SQLite opens anything, so a
 *    FIFO, a directory or a symlink in place of a database is reported and
 *    never opened (opening a FIFO would block the daemon).
 *  - Old inbound.db files lack newer columns; in write mode they are added
 *    (the file is host-owned); in read-only mode the queries substitute the
 *    column defaults instead, so a dry run changes no byte.
 */
#include "sessiondb.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rules.h"
#include "timefmt.h"

struct sessiondb {
    sqlite3 *db;
    char dir[PATH_MAX];
    int readonly;
    int agent_may_run;
    int has_ob;
    int ob_writable;
    int ob_has_ack;
    int ob_has_cstate;
    int has_trigger;
    int has_series;
    char ob_problem[1024];
};

static int fail(sessiondb *s, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s/inbound.db: %s: %s", s->dir, what,
             sqlite3_errmsg(s->db));
    return -1;
}

static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISLNK(m))
        return "a symlink";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    return "not a regular file";
}

/* 1 = regular file, 0 = absent, -1 = something else (err filled). */
static int check_file(const char *dir, const char *name, char *err,
                      size_t errlen)
{
    char p[PATH_MAX];
    struct stat st;
    if (path_join(p, sizeof p, "%s/%s", dir, name) != 0) {
        snprintf(err, errlen, "%s/%s: path too long", dir, name);
        return -1;
    }
    if (lstat(p, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", p, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is %s, not a database file", p,
                 file_kind(st.st_mode));
        return -1;
    }
    return 1;
}

/* file: URI with everything but unreserved characters percent-encoded. */
static int file_uri(char *out, size_t outlen, const char *path,
                    const char *mode)
{
    size_t o = 0;
    const char *pre = "file:";
    for (const char *c = pre; *c; c++)
        out[o++] = *c;
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        if (o + 4 >= outlen)
            return -1;
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
            (*c >= '0' && *c <= '9') || strchr("/-_.~", *c))
            out[o++] = (char)*c;
        else
            o += (size_t)snprintf(out + o, outlen - o, "%%%02X", *c);
    }
    int n = snprintf(out + o, outlen - o, "?mode=%s", mode);
    return n < 0 || (size_t)n >= outlen - o ? -1 : 0;
}

static int exec_sql(sessiondb *s, const char *sql, char *err, size_t errlen)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(s, err, errlen, sql);
    return 0;
}

static int inbound_columns(sessiondb *s, unsigned *present, char *err,
                           size_t errlen)
{
    static const char *const cols[] = {
        "id",     "seq",     "kind",       "timestamp",
        "status", "process_after", "recurrence", "tries",
        "content", "series_id", "trigger", "source_session_id",
        "on_wake"};
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA main.table_info(messages_in)", -1,
                           &st, NULL) != SQLITE_OK)
        return fail(s, err, errlen, "cannot read schema");
    *present = 0;
    int rows = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows++;
        const char *name = (const char *)sqlite3_column_text(st, 1);
        for (unsigned i = 0; name && i < sizeof cols / sizeof cols[0]; i++)
            if (!strcmp(name, cols[i]))
                *present |= 1u << i;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(s, err, errlen, "cannot read schema");
    if (rows == 0) {
        snprintf(err, errlen, "%s/inbound.db: no table messages_in", s->dir);
        return -1;
    }
    for (unsigned i = 0; i < 9; i++) /* the columns every version had */
        if (!(*present & (1u << i))) {
            snprintf(err, errlen,
                     "%s/inbound.db: wrong schema: messages_in has no "
                     "column %s",
                     s->dir, cols[i]);
            return -1;
        }
    return 0;
}

#define COL_SERIES (1u << 9)
#define COL_TRIGGER (1u << 10)
#define COL_SOURCE (1u << 11)
#define COL_ON_WAKE (1u << 12)

static int migrate(sessiondb *s, unsigned present, char *err, size_t errlen)
{
    if ((present & (COL_SERIES | COL_TRIGGER | COL_SOURCE | COL_ON_WAKE)) ==
        (COL_SERIES | COL_TRIGGER | COL_SOURCE | COL_ON_WAKE))
        return 0;
    if (sdb_begin(s, err, errlen) != 0)
        return -1;
    /* Re-read inside the write lock: another migrator may have won. */
    if (inbound_columns(s, &present, err, errlen) != 0)
        goto fail;
    if (!(present & COL_SERIES) &&
        (exec_sql(s, "ALTER TABLE messages_in ADD COLUMN series_id TEXT", err,
                  errlen) ||
         exec_sql(s,
                  "UPDATE messages_in SET series_id = id WHERE series_id IS "
                  "NULL",
                  err, errlen) ||
         exec_sql(s,
                  "CREATE INDEX IF NOT EXISTS idx_messages_in_series ON "
                  "messages_in(series_id)",
                  err, errlen)))
        goto fail;
    if (!(present & COL_TRIGGER) &&
        exec_sql(s,
                 "ALTER TABLE messages_in ADD COLUMN trigger INTEGER NOT NULL "
                 "DEFAULT 1",
                 err, errlen))
        goto fail;
    if (!(present & COL_SOURCE) &&
        exec_sql(s, "ALTER TABLE messages_in ADD COLUMN source_session_id TEXT",
                 err, errlen))
        goto fail;
    if (!(present & COL_ON_WAKE) &&
        exec_sql(s,
                 "ALTER TABLE messages_in ADD COLUMN on_wake INTEGER NOT NULL "
                 "DEFAULT 0",
                 err, errlen))
        goto fail;
    return sdb_commit(s, err, errlen);
fail:
    sdb_rollback(s);
    return -1;
}

static int ob_probe(sessiondb *s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT name FROM ob.sqlite_master WHERE type = "
                           "'table' AND name IN ('processing_ack', "
                           "'container_state')",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    s->ob_has_ack = s->ob_has_cstate = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(st, 0);
        if (n && !strcmp(n, "processing_ack"))
            s->ob_has_ack = 1;
        else if (n && !strcmp(n, "container_state"))
            s->ob_has_cstate = 1;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int attach_ob(sessiondb *s, int writable, char *err, size_t errlen)
{
    char path[PATH_MAX], uri[PATH_MAX * 3 + 32];
    if (path_join(path, sizeof path, "%s/outbound.db", s->dir) != 0 ||
        file_uri(uri, sizeof uri, path, writable ? "rw" : "ro") != 0) {
        snprintf(err, errlen, "%s/outbound.db: path too long", s->dir);
        return -1;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "ATTACH DATABASE ?1 AS ob", -1, &st, NULL) !=
        SQLITE_OK)
        return fail(s, err, errlen, "cannot attach outbound.db");
    sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: cannot attach: %s", path,
                 sqlite3_errmsg(s->db));
        return -1;
    }
    s->has_ob = 1;
    s->ob_writable = writable;
    if (ob_probe(s) == 0)
        return 0;
    snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
    sqlite3_exec(s->db, "DETACH DATABASE ob", NULL, NULL, NULL);
    s->has_ob = 0;
    return -1;
}

int sdb_open(const char *dir, const sdb_open_opts *o, sessiondb **out,
             char *err, size_t errlen)
{
    *out = NULL;
    struct stat st;
    if (lstat(dir, &st) != 0) {
        snprintf(err, errlen, "%s: session folder: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: session folder is %s", dir,
                 file_kind(st.st_mode));
        return -1;
    }
    int in = check_file(dir, "inbound.db", err, errlen);
    if (in == 0)
        snprintf(err, errlen, "%s/inbound.db: missing", dir);
    if (in <= 0)
        return -1;
    int ob = check_file(dir, "outbound.db", err, errlen);
    if (ob < 0)
        return -1;
    if (check_file(dir, ".heartbeat", err, errlen) < 0)
        return -1;

    sessiondb *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", dir);
        return -1;
    }
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    s->readonly = o->readonly;
    s->agent_may_run = o->agent_may_run;

    char path[PATH_MAX];
    path_join(path, sizeof path, "%s/inbound.db", dir);
    int flags = (o->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_URI;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sdb_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, (int)o->busy_ms);
    sqlite3_extended_result_codes(s->db, 1);

    unsigned present;
    if (inbound_columns(s, &present, err, errlen) != 0)
        goto fail;
    if (!o->readonly) {
        sqlite3_stmt *jm;
        const char *mode = "";
        if (sqlite3_prepare_v2(s->db, "PRAGMA main.journal_mode", -1, &jm,
                               NULL) == SQLITE_OK &&
            sqlite3_step(jm) == SQLITE_ROW)
            mode = (const char *)sqlite3_column_text(jm, 0);
        int is_delete = mode && !strcmp(mode, "delete");
        sqlite3_finalize(jm);
        if (!is_delete &&
            exec_sql(s, "PRAGMA main.journal_mode = DELETE", err, errlen))
            goto fail;
        if (migrate(s, present, err, errlen) != 0)
            goto fail;
        present |= COL_SERIES | COL_TRIGGER | COL_SOURCE | COL_ON_WAKE;
    }
    s->has_trigger = (present & COL_TRIGGER) != 0;
    s->has_series = (present & COL_SERIES) != 0;

    if (ob == 1) {
        int writable = !o->readonly && !o->agent_may_run;
        char oberr[512];
        if (attach_ob(s, 0, oberr, sizeof oberr) == 0) {
            /* Readable as is. Attach it writable only when allowed and
             * needed later (sdb_outbound_writable). */
        } else if (writable && attach_ob(s, 1, oberr, sizeof oberr) == 0) {
            /* The writable attach let SQLite roll back the hot journal a
             * dead agent left: the confirmed-dead exception. */
        } else {
            snprintf(s->ob_problem, sizeof s->ob_problem, "%s%s", oberr,
                     o->agent_may_run ? " (agent may be running: outbound "
                                        "steps skipped this tick)"
                                      : "");
        }
    }
    *out = s;
    return 0;
fail:
    sdb_close(s);
    return -1;
}

void sdb_close(sessiondb *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s);
}

int sdb_has_outbound(const sessiondb *s) { return s->has_ob; }

const char *sdb_outbound_problem(const sessiondb *s)
{
    return s->ob_problem[0] ? s->ob_problem : NULL;
}

int sdb_outbound_writable(sessiondb *s, char *err, size_t errlen)
{
    if (s->readonly) {
        snprintf(err, errlen, "%s/outbound.db: read-only sweep", s->dir);
        return -1;
    }
    if (s->has_ob && s->ob_writable)
        return 0;
    if (s->has_ob)
        sqlite3_exec(s->db, "DETACH DATABASE ob", NULL, NULL, NULL);
    s->has_ob = 0;
    int ob = check_file(s->dir, "outbound.db", err, errlen);
    if (ob <= 0)
        return ob; /* no file: nothing to clear */
    if (attach_ob(s, 1, err, errlen) != 0)
        return -1;
    s->ob_problem[0] = '\0';
    return 0;
}

int sdb_begin(sessiondb *s, char *err, size_t errlen)
{
    return exec_sql(s, "BEGIN IMMEDIATE", err, errlen);
}

int sdb_commit(sessiondb *s, char *err, size_t errlen)
{
    if (exec_sql(s, "COMMIT", err, errlen) != 0) {
        sdb_rollback(s);
        return -1;
    }
    return 0;
}

void sdb_rollback(sessiondb *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int prepare(sessiondb *s, const char *sql, sqlite3_stmt **st,
                   char *err, size_t errlen)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return fail(s, err, errlen, "cannot prepare query");
    return 0;
}

static int step_done(sessiondb *s, sqlite3_stmt *st, char *err, size_t errlen,
                     const char *what)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fail(s, err, errlen, what);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

#define ACKED_WHERE                                                          \
    " FROM messages_in WHERE status IN ('pending', 'failed') AND id IN "      \
    "(SELECT message_id FROM ob.processing_ack WHERE status IN "             \
    "('completed', 'failed'))"

int sdb_ack_sync(sessiondb *s, int apply, int *count, char *err,
                 size_t errlen)
{
    *count = 0;
    if (!s->has_ob || !s->ob_has_ack)
        return 0;
    sqlite3_stmt *st;
    if (prepare(s, "SELECT count(*)" ACKED_WHERE, &st, err, errlen) != 0)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        *count = sqlite3_column_int(st, 0);
    if (sqlite3_finalize(st) != SQLITE_OK)
        return fail(s, err, errlen, "ack sync");
    if (*count == 0 || !apply)
        return 0;
    if (sdb_begin(s, err, errlen) != 0)
        return -1;
    if (exec_sql(s,
                 "UPDATE messages_in SET status = 'completed' WHERE rowid IN "
                 "(SELECT rowid" ACKED_WHERE ")",
                 err, errlen) != 0) {
        sdb_rollback(s);
        return -1;
    }
    *count = sqlite3_changes(s->db);
    return sdb_commit(s, err, errlen);
}

/* tries as NanoClaw writes it: a whole number >= 0, NULL meaning 0.
 * Anything else (text, a real, a blob, a negative) reads as 0 and sets
 * *bad, so the caller can name it; the next retry writes a good value. */
static int col_tries(sqlite3_stmt *st, int i, int *bad)
{
    *bad = 0;
    int type = sqlite3_column_type(st, i);
    if (type == SQLITE_NULL)
        return 0;
    if (type == SQLITE_INTEGER) {
        sqlite3_int64 v = sqlite3_column_int64(st, i);
        if (v >= 0 && v <= INT_MAX)
            return (int)v;
    }
    *bad = 1;
    return 0;
}

static int64_t parse_col_time(sqlite3_stmt *st, int i, int *present)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (present)
        *present = t != NULL;
    int64_t ms;
    if (!t || timefmt_parse((const char *)t, &ms) != 0)
        return TIME_UNKNOWN;
    return ms;
}

static char *dup_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

void sdb_claims_free(sdb_claim *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].message_id);
        free(v[i].status);
    }
    free(v);
}

int sdb_claims(sessiondb *s, sdb_claim **out, size_t *n, char *err,
               size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (!s->has_ob || !s->ob_has_ack)
        return 0;
    sqlite3_stmt *st;
    if (prepare(s,
                "SELECT a.message_id, a.status_changed, m.status, m.tries, "
                "m.process_after FROM ob.processing_ack a LEFT JOIN "
                "messages_in m ON m.id = a.message_id WHERE a.status = "
                "'processing'",
                &st, err, errlen) != 0)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            sdb_claim *nv = realloc(*out, cap * sizeof *nv);
            if (!nv)
                goto oom;
            *out = nv;
        }
        sdb_claim *c = &(*out)[*n];
        memset(c, 0, sizeof *c);
        (*n)++;
        c->message_id = dup_text(st, 0);
        if (!c->message_id)
            c->message_id = strdup("");
        c->changed_ms = parse_col_time(st, 1, NULL);
        c->status = dup_text(st, 2);
        c->tries = col_tries(st, 3, &c->tries_bad);
        c->process_after_ms = parse_col_time(st, 4, &c->has_process_after);
        if (!c->message_id)
            goto oom;
    }
    if (rc != SQLITE_DONE) {
        fail(s, err, errlen, "cannot read claims");
        goto out_fail;
    }
    sqlite3_finalize(st);
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory reading claims", s->dir);
out_fail:
    sqlite3_finalize(st);
    sdb_claims_free(*out, *n);
    *out = NULL;
    *n = 0;
    return -1;
}

int sdb_retry(sessiondb *s, const char *id, int tries, int64_t after_ms,
              char *err, size_t errlen)
{
    char when[32];
    timefmt_iso_ms(after_ms, when, sizeof when);
    sqlite3_stmt *st;
    if (prepare(s,
                "UPDATE messages_in SET tries = ?1, process_after = ?2 WHERE "
                "id = ?3 AND status = 'pending'",
                &st, err, errlen) != 0)
        return -1;
    sqlite3_bind_int(st, 1, tries);
    sqlite3_bind_text(st, 2, when, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    return step_done(s, st, err, errlen, "retry");
}

int sdb_dead_letter(sessiondb *s, const char *id, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (prepare(s,
                "UPDATE messages_in SET status = 'failed' WHERE id = ?1 AND "
                "status = 'pending'",
                &st, err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    return step_done(s, st, err, errlen, "dead letter");
}

int sdb_clear_claims(sessiondb *s, char *err, size_t errlen)
{
    if (!s->has_ob)
        return 0;
    if (!s->ob_writable) {
        snprintf(err, errlen, "%s/outbound.db: not attached writable", s->dir);
        return -1;
    }
    if (s->ob_has_ack &&
        exec_sql(s, "DELETE FROM ob.processing_ack WHERE status = 'processing'",
                 err, errlen) != 0)
        return -1;
    if (s->ob_has_cstate &&
        exec_sql(s, "DELETE FROM ob.container_state", err, errlen) != 0)
        return -1;
    return 0;
}

int sdb_queue_summary(sessiondb *s, int64_t now_ms, sdb_queue *q,
                      strset *bad_times, char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    q->oldest_due_ms = q->next_due_ms = INT64_MAX;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT status, process_after, timestamp, %s, kind, id FROM "
             "messages_in WHERE status <> 'completed'",
             s->has_trigger ? "trigger" : "1");
    sqlite3_stmt *st;
    if (prepare(s, sql, &st, err, errlen) != 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(st, 0);
        if (!status)
            continue;
        if (!strcmp(status, "failed")) {
            q->failed++;
            continue;
        }
        if (!strcmp(status, "paused")) {
            q->paused++;
            continue;
        }
        if (strcmp(status, "pending") != 0)
            continue;
        q->pending++;
        int has_after;
        int64_t after = parse_col_time(st, 1, &has_after);
        int trigger = sqlite3_column_int(st, 3);
        const char *kind = (const char *)sqlite3_column_text(st, 4);
        if (has_after && after == TIME_UNKNOWN && bad_times) {
            const char *id = (const char *)sqlite3_column_text(st, 5);
            if (id && strset_add(bad_times, id) != 0) {
                snprintf(err, errlen, "%s: out of memory", s->dir);
                sqlite3_finalize(st);
                return -1;
            }
        }
        if (rules_is_due(status, trigger, kind, has_after, after, now_ms)) {
            q->due++;
            int64_t since = has_after ? after : parse_col_time(st, 2, NULL);
            if (since == TIME_UNKNOWN)
                since = INT64_MIN + 1;
            if (since < q->oldest_due_ms)
                q->oldest_due_ms = since;
        } else if (rules_can_wake(trigger, kind) && has_after &&
                   after != TIME_UNKNOWN &&
                   after < q->next_due_ms) {
            q->next_due_ms = after;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(s, err, errlen, "cannot read messages_in");
    return 0;
}

int sdb_bash_timeout(sessiondb *s, int64_t *ms, char *err, size_t errlen)
{
    *ms = 0;
    if (!s->has_ob || !s->ob_has_cstate)
        return 0;
    sqlite3_stmt *st;
    if (prepare(s,
                "SELECT tool_declared_timeout_ms FROM ob.container_state "
                "WHERE current_tool = 'Bash' AND tool_declared_timeout_ms > 0",
                &st, err, errlen) != 0)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ms = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(s, err, errlen, "cannot read container_state");
    return 0;
}

void sdb_recurring_free(sdb_recurring_row *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].id);
        free(v[i].kind);
        free(v[i].recurrence);
        free(v[i].series_id);
    }
    free(v);
}

int sdb_recurring(sessiondb *s, sdb_recurring_row **out, size_t *n, char *err,
                  size_t errlen)
{
    *out = NULL;
    *n = 0;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT id, kind, recurrence, %s, process_after FROM messages_in "
             "WHERE status = 'completed' AND recurrence IS NOT NULL",
             s->has_series ? "COALESCE(series_id, id)" : "id");
    sqlite3_stmt *st;
    if (prepare(s, sql, &st, err, errlen) != 0)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            sdb_recurring_row *nv = realloc(*out, cap * sizeof *nv);
            if (!nv)
                break;
            *out = nv;
        }
        sdb_recurring_row *r = &(*out)[(*n)++];
        r->id = dup_text(st, 0);
        r->kind = dup_text(st, 1);
        r->recurrence = dup_text(st, 2);
        r->series_id = dup_text(st, 3);
        r->fired_ms = parse_col_time(st, 4, NULL);
        if (!r->id || !r->kind || !r->recurrence || !r->series_id) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        if (rc == SQLITE_ROW || rc == SQLITE_NOMEM)
            snprintf(err, errlen, "%s: out of memory", s->dir);
        else
            fail(s, err, errlen, "cannot read recurring rows");
        sdb_recurring_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

int sdb_series_has_open(sessiondb *s, const char *series_id, int *has,
                        char *err, size_t errlen)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT 1 FROM messages_in WHERE %s = ?1 AND status IN "
             "('pending', 'paused') LIMIT 1",
             s->has_series ? "COALESCE(series_id, id)" : "id");
    sqlite3_stmt *st;
    if (prepare(s, sql, &st, err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, series_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(s, err, errlen, "cannot read series");
    *has = rc == SQLITE_ROW;
    return 0;
}

int sdb_next_even_seq(sessiondb *s, int64_t *seq, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (prepare(s, "SELECT COALESCE(MAX(seq), 0) FROM messages_in", &st, err,
                errlen) != 0)
        return -1;
    int rc = sqlite3_step(st);
    int64_t m = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return fail(s, err, errlen, "cannot read seq");
    *seq = m < 2 ? 2 : m + 2 - (m % 2);
    return 0;
}

int sdb_insert_next(sessiondb *s, const char *old_id, const char *new_id,
                    int64_t after_ms, int64_t now_ms, char *err, size_t errlen)
{
    int64_t seq;
    if (sdb_next_even_seq(s, &seq, err, errlen) != 0)
        return -1;
    char after[32], stamp[32];
    timefmt_iso_ms(after_ms, after, sizeof after);
    timefmt_sql(now_ms, stamp, sizeof stamp);
    sqlite3_stmt *st;
    if (prepare(s,
                "INSERT INTO messages_in (id, seq, kind, timestamp, status, "
                "process_after, recurrence, series_id, tries, trigger, "
                "platform_id, channel_type, thread_id, content, "
                "source_session_id, on_wake) SELECT ?1, ?2, kind, ?3, "
                "'pending', ?4, recurrence, COALESCE(series_id, id), 0, "
                "trigger, platform_id, channel_type, thread_id, content, "
                "source_session_id, on_wake FROM messages_in WHERE id = ?5",
                &st, err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, new_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_text(st, 3, stamp, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, after, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, old_id, -1, SQLITE_STATIC);
    return step_done(s, st, err, errlen, "insert next occurrence");
}

int sdb_clear_recurrence(sessiondb *s, const char *id, char *err,
                         size_t errlen)
{
    sqlite3_stmt *st;
    if (prepare(s, "UPDATE messages_in SET recurrence = NULL WHERE id = ?1",
                &st, err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    return step_done(s, st, err, errlen, "clear recurrence");
}

int sdb_requeue(sessiondb *s, const char *id, int *changed, char *err,
                size_t errlen)
{
    *changed = 0;
    if (sdb_begin(s, err, errlen) != 0)
        return -1;
    sqlite3_stmt *st;
    if (prepare(s,
                "UPDATE messages_in SET status = 'pending', tries = 0, "
                "process_after = NULL WHERE id = ?1 AND status = 'failed'",
                &st, err, errlen) != 0) {
        sdb_rollback(s);
        return -1;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (step_done(s, st, err, errlen, "requeue") != 0) {
        sdb_rollback(s);
        return -1;
    }
    *changed = sqlite3_changes(s->db);
    return sdb_commit(s, err, errlen);
}

int sdb_each_failed(sessiondb *s, sdb_failed_fn fn, void *arg, char *err,
                    size_t errlen)
{
    sqlite3_stmt *st;
    if (prepare(s,
                "SELECT id, kind, timestamp, content, tries FROM messages_in "
                "WHERE status = 'failed' ORDER BY seq",
                &st, err, errlen) != 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sdb_failed_row r = {
            (const char *)sqlite3_column_text(st, 0),
            (const char *)sqlite3_column_text(st, 1),
            (const char *)sqlite3_column_text(st, 2),
            (const char *)sqlite3_column_text(st, 3),
            sqlite3_column_int(st, 4)};
        if (fn(&r, arg) != 0)
            break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return fail(s, err, errlen, "cannot read failed messages");
    return 0;
}
