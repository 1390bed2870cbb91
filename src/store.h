/*
 * store.h - the central DB DATA/v2.db, owned by the host app (SPEC §1.1).
 * Opened per call with a busy timeout, never held across a tick. The one
 * write is sessions.container_status, in own mode only.
 */
#ifndef CLAWSWEEP_STORE_H
#define CLAWSWEEP_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *id;
    char *group_id;
    char *container_status; /* may be NULL */
} session_row;

typedef struct {
    session_row *v;
    size_t len;
} session_list;

/* Active sessions whose agent group exists (sorted by id). 0 or -1 with
 * err naming v2.db and the problem. */
int store_active_sessions(const char *data_dir, int64_t busy_ms,
                          session_list *out, char *err, size_t errlen);
void session_list_free(session_list *l);

/* One session by id, whatever its status: 1 found (row filled, owned by
 * the caller: free with session_row_free), 0 not found, -1 error. */
int store_find_session(const char *data_dir, int64_t busy_ms,
                       const char *session_id, session_row *row, char *status,
                       size_t status_len, char *err, size_t errlen);
void session_row_free(session_row *r);

/* Set sessions.container_status ('running' | 'stopped'). */
int store_set_container_status(const char *data_dir, int64_t busy_ms,
                               const char *session_id, const char *status,
                               char *err, size_t errlen);

#endif
