/*
 * store.c - reading the host app's central DB.
 *
 * The host keeps v2.db in WAL mode and may write it at any moment, so this
 * module opens it per call, read-only for reads, with a busy timeout, and
 * closes it before returning: a held read transaction would pin the WAL.
 */
#include "store.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int open_central(const char *data_dir, int64_t busy_ms, int flags,
                        sqlite3 **db, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if (path_join(path, sizeof path, "%s/v2.db", data_dir) != 0) {
        snprintf(err, errlen, "%s/v2.db: path too long", data_dir);
        return -1;
    }
    if (sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOFOLLOW, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open: %s", path,
                 *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(*db, (int)busy_ms);
    return 0;
}

static char *dup_col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

void session_row_free(session_row *r)
{
    free(r->id);
    free(r->group_id);
    free(r->container_status);
    r->id = r->group_id = r->container_status = NULL;
}

void session_list_free(session_list *l)
{
    for (size_t i = 0; i < l->len; i++)
        session_row_free(&l->v[i]);
    free(l->v);
    l->v = NULL;
    l->len = 0;
}

int store_active_sessions(const char *data_dir, int64_t busy_ms,
                          session_list *out, char *err, size_t errlen)
{
    out->v = NULL;
    out->len = 0;
    sqlite3 *db;
    if (open_central(data_dir, busy_ms, SQLITE_OPEN_READONLY, &db, err,
                     errlen) != 0)
        return -1;
    sqlite3_stmt *st = NULL;
    const char *sql =
        "SELECT s.id, s.agent_group_id, s.container_status FROM sessions s "
        "JOIN agent_groups g ON g.id = s.agent_group_id "
        "WHERE s.status = 'active' ORDER BY s.id";
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    size_t cap = 0;
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        if ((rc = sqlite3_step(st)) != SQLITE_ROW)
            break;
        if (out->len == cap) {
            cap = cap ? cap * 2 : 64;
            session_row *nv = realloc(out->v, cap * sizeof *nv);
            if (!nv) {
                rc = SQLITE_NOMEM;
                break;
            }
            out->v = nv;
        }
        session_row *r = &out->v[out->len];
        r->id = dup_col(st, 0);
        r->group_id = dup_col(st, 1);
        r->container_status = dup_col(st, 2);
        out->len++;
        if (!r->id || !r->group_id) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s/v2.db: cannot read sessions: %s", data_dir,
                 rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
        sqlite3_finalize(st);
        sqlite3_close(db);
        session_list_free(out);
        return -1;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}

int store_set_container_status(const char *data_dir, int64_t busy_ms,
                               const char *session_id, const char *status,
                               char *err, size_t errlen)
{
    sqlite3 *db;
    if (open_central(data_dir, busy_ms, SQLITE_OPEN_READWRITE, &db, err,
                     errlen) != 0)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        db,
        "UPDATE sessions SET container_status = ?1 WHERE id = ?2 AND "
        "container_status IS NOT ?1",
        -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, session_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen,
                 "%s/v2.db: cannot set container_status of %s: %s", data_dir,
                 session_id, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        sqlite3_close(db);
        return -1;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}

int store_find_session(const char *data_dir, int64_t busy_ms,
                       const char *session_id, session_row *row, char *status,
                       size_t status_len, char *err, size_t errlen)
{
    memset(row, 0, sizeof *row);
    sqlite3 *db;
    if (open_central(data_dir, busy_ms, SQLITE_OPEN_READONLY, &db, err,
                     errlen) != 0)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, agent_group_id, container_status, "
                                "status FROM sessions WHERE id = ?1",
                                -1, &st, NULL);
    int found = 0;
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        row->id = dup_col(st, 0);
        row->group_id = dup_col(st, 1);
        row->container_status = dup_col(st, 2);
        const unsigned char *s = sqlite3_column_text(st, 3);
        snprintf(status, status_len, "%s", s ? (const char *)s : "");
        found = row->id && row->group_id ? 1 : -1;
        if (found < 0) {
            snprintf(err, errlen, "out of memory");
            session_row_free(row);
        }
    } else if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s/v2.db: cannot read sessions: %s", data_dir,
                 sqlite3_errmsg(db));
        found = -1;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return found;
}
