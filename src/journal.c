/*
 * journal.c - state.db.
 *
 * WAL with synchronous=NORMAL: the journal is history and bookkeeping, so
 * losing the last few rows on power loss is acceptable, while an fsync per
 * event on a busy host is not. Statements are prepared once per open.
 */
#include "journal.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "timefmt.h"

enum {
    Q_EVENT, Q_AGENT_GET, Q_AGENT_SET, Q_AGENT_DEL, Q_START_GET, Q_START_SET,
    Q_START_DEL, Q_LAST, Q_LAST_MSG, Q_COUNT
};

static const char *const queries[Q_COUNT] = {
    "INSERT INTO events (at_ms, session_id, message_id, kind, reason, "
    "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "SELECT started_ms FROM agents WHERE session_id = ?1",
    "INSERT OR REPLACE INTO agents (session_id, started_ms) VALUES (?1, ?2)",
    "DELETE FROM agents WHERE session_id = ?1",
    "SELECT failures, next_try_ms, last_error FROM start_failures WHERE "
    "session_id = ?1",
    "INSERT OR REPLACE INTO start_failures (session_id, failures, "
    "next_try_ms, last_error) VALUES (?1, ?2, ?3, ?4)",
    "DELETE FROM start_failures WHERE session_id = ?1",
    "SELECT at_ms, kind, reason, message_id, detail FROM events WHERE "
    "session_id = ?1 ORDER BY id DESC LIMIT 1",
    "SELECT at_ms, kind, reason, message_id, detail FROM events WHERE "
    "session_id = ?1 AND message_id = ?2 ORDER BY id DESC LIMIT 1",
};

struct journal {
    sqlite3 *db;
    sqlite3_stmt *st[Q_COUNT];
};

static const char schema[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = NORMAL;"
    "CREATE TABLE IF NOT EXISTS agents (session_id TEXT PRIMARY KEY, "
    "started_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS start_failures (session_id TEXT PRIMARY KEY,"
    " failures INTEGER NOT NULL, next_try_ms INTEGER NOT NULL, last_error "
    "TEXT);"
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, at_ms "
    "INTEGER NOT NULL, session_id TEXT NOT NULL, message_id TEXT, kind TEXT "
    "NOT NULL, reason TEXT, detail TEXT);"
    "CREATE INDEX IF NOT EXISTS events_by_session ON events(session_id, "
    "message_id, id);";

int journal_open(const char *data_dir, int readonly, journal **out, char *err,
                 size_t errlen)
{
    *out = NULL;
    char dir[PATH_MAX], path[PATH_MAX];
    if (path_join(dir, sizeof dir, "%s/clawsweep", data_dir) != 0 ||
        path_join(path, sizeof path, "%s/state.db", dir) != 0) {
        snprintf(err, errlen, "%s: path too long", data_dir);
        return -1;
    }
    if (readonly && access(path, F_OK) != 0)
        return 0;
    if (!readonly && mkdir_p(dir) != 0) {
        snprintf(err, errlen, "%s: cannot create: %m", dir);
        return -1;
    }
    journal *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    int flags = readonly ? SQLITE_OPEN_READONLY
                         : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &j->db, flags | SQLITE_OPEN_NOFOLLOW, NULL) !=
        SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(j->db, 5000);
    if (!readonly && sqlite3_exec(j->db, schema, NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    for (int i = 0; i < Q_COUNT; i++) {
        /* A read-only open of an older file may miss tables: such
         * statements stay NULL and their lookups answer "nothing". */
        if (sqlite3_prepare_v3(j->db, queries[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &j->st[i], NULL) != SQLITE_OK &&
            !readonly)
            goto fail;
    }
    *out = j;
    return 0;
fail:
    snprintf(err, errlen, "%s: %s", path,
             j->db ? sqlite3_errmsg(j->db) : "out of memory");
    journal_close(j);
    return -1;
}

void journal_close(journal *j)
{
    if (!j)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(j->st[i]);
    sqlite3_close(j->db);
    free(j);
}

static sqlite3_stmt *use(journal *j, int q)
{
    if (!j || !j->st[q])
        return NULL;
    sqlite3_reset(j->st[q]);
    sqlite3_clear_bindings(j->st[q]);
    return j->st[q];
}

static int run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

int journal_event(journal *j, int64_t at_ms, const char *session,
                  const char *message, const char *kind, const char *reason,
                  const char *detail)
{
    sqlite3_stmt *st = use(j, Q_EVENT);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, at_ms);
    sqlite3_bind_text(st, 2, session, -1, SQLITE_STATIC);
    bind_opt(st, 3, message);
    sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
    bind_opt(st, 5, reason);
    bind_opt(st, 6, detail);
    return run(st);
}

int64_t journal_agent_started(journal *j, const char *session)
{
    sqlite3_stmt *st = use(j, Q_AGENT_GET);
    if (!st)
        return TIME_UNKNOWN;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    int64_t v = TIME_UNKNOWN;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

int journal_agent_set(journal *j, const char *session, int64_t started_ms)
{
    sqlite3_stmt *st = use(j, Q_AGENT_SET);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, started_ms);
    return run(st);
}

int journal_agent_clear(journal *j, const char *session)
{
    sqlite3_stmt *st = use(j, Q_AGENT_DEL);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    return run(st);
}

int journal_agents(journal *j, strset *out)
{
    if (!j)
        return 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db, "SELECT session_id FROM agents", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (strset_add(out, (const char *)sqlite3_column_text(st, 0)) != 0)
            break;
    sqlite3_finalize(st);
    strset_sort(out);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void copy_col(sqlite3_stmt *st, int i, char *out, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, len, "%s", t ? (const char *)t : "");
}

int journal_start_state(journal *j, const char *session, start_state *s)
{
    memset(s, 0, sizeof *s);
    sqlite3_stmt *st = use(j, Q_START_GET);
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        s->failures = sqlite3_column_int(st, 0);
        s->next_try_ms = sqlite3_column_int64(st, 1);
        copy_col(st, 2, s->last_error, sizeof s->last_error);
    }
    sqlite3_reset(st);
    return 0;
}

int journal_start_failed(journal *j, const char *session, int failures,
                         int64_t next_try_ms, const char *error)
{
    sqlite3_stmt *st = use(j, Q_START_SET);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, failures);
    sqlite3_bind_int64(st, 3, next_try_ms);
    bind_opt(st, 4, error);
    return run(st);
}

int journal_start_ok(journal *j, const char *session)
{
    sqlite3_stmt *st = use(j, Q_START_DEL);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    return run(st);
}

int journal_last_event(journal *j, const char *session, const char *message,
                       journal_entry *e)
{
    memset(e, 0, sizeof *e);
    sqlite3_stmt *st = use(j, message ? Q_LAST_MSG : Q_LAST);
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    if (message)
        sqlite3_bind_text(st, 2, message, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        e->at_ms = sqlite3_column_int64(st, 0);
        copy_col(st, 1, e->kind, sizeof e->kind);
        copy_col(st, 2, e->reason, sizeof e->reason);
        copy_col(st, 3, e->message, sizeof e->message);
        copy_col(st, 4, e->detail, sizeof e->detail);
        found = 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -1;
}

int journal_prune(journal *j, int keep)
{
    if (!j)
        return 0;
    char sql[160];
    snprintf(sql, sizeof sql,
             "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - "
             "%d",
             keep);
    return sqlite3_exec(j->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}
