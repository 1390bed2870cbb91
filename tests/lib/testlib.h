/*
 * testlib.h - helpers for tests that work on real files: temp dirs, real
 * SQLite databases in the NanoClaw v2 layout, and running the real
 * binaries as child processes with their output captured.
 */
#ifndef CLAWSWEEP_TESTLIB_H
#define CLAWSWEEP_TESTLIB_H

#include <stdint.h>
#include <stddef.h>

/* A new empty directory under $TMPDIR (or /tmp); caller frees the string
 * and removes the tree with tl_rm_rf. Aborts the test run on failure. */
char *tl_tmpdir(const char *tag);
void tl_rm_rf(const char *path);

/* Run SQL on a database file (created when missing). Fails the test on
 * error. */
void tl_sql(const char *db_path, const char *sql);
/* First column of the first row as an integer / malloc'd text (NULL when
 * no row or NULL). printf-style SQL. */
int64_t tl_int(const char *db_path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *tl_text(const char *db_path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The schemas of SPEC §1 are SCHEMA_CENTRAL, SCHEMA_INBOUND and
 * SCHEMA_OUTBOUND (src/schema.h). */
#include "schema.h"

/* A data dir with an empty v2.db and v2-sessions/. */
void tl_datadir_init(const char *data);
/* Add agent group (if new) + session row + session folder with inbound.db
 * (full schema) and, when with_outbound, outbound.db. Writes the session
 * dir path into dir_out (PATH_MAX) when not NULL. */
void tl_add_session(const char *data, const char *group, const char *sid,
                    const char *status, int with_outbound, char *dir_out);
/* Paths inside a session folder. */
void tl_session_file(char *out, size_t outlen, const char *data,
                     const char *group, const char *sid, const char *name);

/* Insert a pending inbound message with the given process_after (NULL for
 * none); seq is the next even seq. */
void tl_add_message(const char *inbound, const char *id, const char *kind,
                    const char *process_after, int tries);

/* Insert or replace a processing_ack row in an outbound.db. */
void tl_add_ack(const char *outbound, const char *id, const char *status,
                const char *status_changed);

/* Set a file's mtime to ms since epoch (utimensat). */
void tl_set_mtime(const char *path, int64_t ms);
/* A file of size bytes ("abc...z" repeated) with mtime ms, its missing
 * parent folders made first. */
void tl_put_file(const char *path, size_t size, int64_t ms);
void tl_touch(const char *path);
int tl_exists(const char *path);

/* Run argv (argv[0] a path) with extra env entries ("K=V", NULL-ended,
 * may be NULL), wait, capture stdout/stderr (malloc'd, NUL-terminated;
 * pass NULL to ignore). Returns the exit status, or 128+signal. */
int tl_run(char *const argv[], char *const extra_env[], char **out,
           char **err);

/* Paths of the built programs (from the environment meson sets). */
const char *tl_clawsweep_bin(void);
const char *tl_agent_bin(void);
const char *tl_source_root(void);

int64_t tl_now_ms(void);
int64_t tl_mono_ms(void);
void tl_sleep_ms(long ms);
/* The process exists and is neither a zombie nor dead (an agent outlives
 * the one-shot sweep that started it, and its new parent may be slow to
 * reap it). */
int tl_pid_alive(long pid);
/* SIGKILL every agent DATA/clawsweep/pids names, with its process group,
 * after checking /proc that the pid still is a clawsweep-agent (agents
 * outlive the sweeps and daemons that started them, on purpose). */
void tl_kill_agents(const char *data);
/* Poll cond every 50 ms up to timeout_ms; returns 1 when it became true. */
int tl_wait_for(int (*cond)(void *), void *arg, int timeout_ms);

/* PATH lookup: 0 and the full path in out, or -1. */
int tl_find_exe(const char *name, char *out, size_t outlen);
/* Run a command given as words, NULL-ended (the first resolved on PATH
 * unless it is a path); its status (127 when not found), stdout in *out
 * when out is not NULL. A failure is printed as TAP comment lines. */
int tl_run_words(char **out, const char *first, ...);
/* Print text as TAP comment lines under a heading. */
void tl_note(const char *heading, const char *text);

/* What the container tests can use here. tl_containers_setup writes a
 * containers.conf (runc, lowered ulimits: what podman needs on this kind
 * of host) and points CONTAINERS_CONF at it, builds the agent image under
 * the given tag with scripts/agent-image.sh, and checks that podman can
 * run it. podman/docker are "" when unusable, with the reason beside. */
typedef struct {
    char *root;            /* scratch dir for the whole run */
    char image[128];
    char podman[4096];
    char docker[4096];
    char why_no_podman[512];
    char why_no_docker[512];
} tl_containers;
int tl_containers_setup(tl_containers *c, const char *tag, const char *image);
void tl_containers_teardown(tl_containers *c);
/* In a cmocka test: skip it, saying why, when podman is unusable. */
#define TL_NEED_PODMAN(c)                                                 \
    do {                                                                  \
        if (!(c)->podman[0]) {                                            \
            printf("# SKIP: %s\n", (c)->why_no_podman);                   \
            skip();                                                       \
        }                                                                 \
    } while (0)

#endif
