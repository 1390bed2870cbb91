/*
 * Hostile files (issue 6): the real `clawsweep sweep` on a data dir where
 * one session is broken in some way and one beside it is healthy. Each
 * case must produce a log line naming the broken session and its problem,
 * and the healthy session must still be swept in the same tick (its
 * orphan claim reset). Every sweep runs under `timeout -s KILL`, so a
 * FIFO that blocks or a lock that is waited on forever fails the test
 * instead of hanging it.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "testlib.h"

typedef struct {
    char *root;  /* root/data is the data dir; nothing else may appear */
    char data[PATH_MAX];
    char v2[PATH_MAX];
    char healthy_in[PATH_MAX], healthy_out[PATH_MAX];
} fixture;

static int hostile_inputs; /* counted for the README figures */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->root = tl_tmpdir("hostile");
    snprintf(f->data, sizeof f->data, "%s/data", f->root);
    tl_datadir_init(f->data);
    snprintf(f->v2, sizeof f->v2, "%s/v2.db", f->data);
    /* "sess-zz" sorts after every broken session: it is swept last, so
     * it proves the tick went on past them. */
    tl_add_session(f->data, "ag-1", "sess-zz", "active", 1, NULL);
    tl_session_file(f->healthy_in, sizeof f->healthy_in, f->data, "ag-1",
                    "sess-zz", "inbound.db");
    tl_session_file(f->healthy_out, sizeof f->healthy_out, f->data, "ag-1",
                    "sess-zz", "outbound.db");
    tl_add_message(f->healthy_in, "h-1", "chat", NULL, 0);
    tl_add_ack(f->healthy_out, "h-1", "processing", "2026-01-01 00:00:00");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tl_sql(f->v2, "UPDATE sessions SET status = 'closed'");
    char *argv[] = {(char *)tl_clawsweep_bin(), "-d", f->data, "-q",
                    "orphans", NULL};
    tl_run(argv, NULL, NULL, NULL);
    tl_rm_rf(f->root);
    free(f->root);
    free(f);
    return 0;
}

static char agent_env[PATH_MAX + 64];

/* `timeout -s KILL 60 clawsweep -d DATA sweep` with extra env. */
static int sweep(fixture *f, char **err, const char *const *extra)
{
    snprintf(agent_env, sizeof agent_env,
             "CLAWSWEEP_RUNTIME_AGENT=%s --idle 0.2 --poll-ms 50",
             tl_agent_bin());
    char *env[12];
    int k = 0;
    env[k++] = agent_env;
    for (int i = 0; extra && extra[i] && k < 11; i++)
        env[k++] = (char *)extra[i];
    env[k] = NULL;
    char *argv[] = {"/usr/bin/timeout", "-s", "KILL", "60",
                    (char *)tl_clawsweep_bin(), "-d", f->data, "sweep", NULL};
    char *e = NULL;
    int rc = tl_run(argv, env, NULL, &e);
    if (err)
        *err = e;
    else
        free(e);
    return rc;
}

static void assert_healthy_swept(fixture *f)
{
    assert_int_equal(
        tl_int(f->healthy_in, "SELECT tries FROM messages_in WHERE id='h-1'"),
        1);
    assert_int_equal(tl_int(f->healthy_out,
                            "SELECT count(*) FROM processing_ack"), 0);
}

/* Some line of err holds every one of the words. */
static void assert_line_with(const char *err, const char *w1, const char *w2)
{
    const char *p = err;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, n);
        int ok = strstr(line, w1) && (!w2 || strstr(line, w2));
        free(line);
        if (ok)
            return;
        p = nl ? nl + 1 : NULL;
    }
    fail_msg("no log line with '%s' and '%s' in:\n%s", w1, w2 ? w2 : "",
             err);
}

/* A session with one orphan claim, for cases that then break a file. */
static void broken_session(fixture *f, const char *sid, char *dir)
{
    char in[PATH_MAX], out[PATH_MAX];
    tl_add_session(f->data, "ag-1", sid, "active", 1, dir);
    snprintf(in, sizeof in, "%s/inbound.db", dir);
    snprintf(out, sizeof out, "%s/outbound.db", dir);
    tl_add_message(in, "b-1", "chat", NULL, 0);
    tl_add_ack(out, "b-1", "processing", "2026-01-01 00:00:00");
}

static char *sha_of(const char *path)
{
    char *argv[] = {"/usr/bin/sha256sum", (char *)path, NULL};
    char *out = NULL;
    tl_run(argv, NULL, &out, NULL);
    return out;
}

static void truncated_and_empty_db(void **state)
{
    fixture *f = *state;
    char dir[PATH_MAX], p[PATH_MAX];
    broken_session(f, "sess-trunc", dir);
    snprintf(p, sizeof p, "%s/inbound.db", dir);
    for (int i = 0; i < 300; i++) {
        char id[32];
        snprintf(id, sizeof id, "pad-%d", i);
        tl_add_message(p, id, "chat", "2099-01-01T00:00:00.000Z", 0);
    }
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(truncate(p, st.st_size / 2 + 100), 0);
    /* a torn header: shorter than one page */
    broken_session(f, "sess-torn", dir);
    snprintf(p, sizeof p, "%s/inbound.db", dir);
    assert_int_equal(truncate(p, 50), 0);
    /* an empty file is an empty database: no messages_in */
    broken_session(f, "sess-empty", dir);
    snprintf(p, sizeof p, "%s/inbound.db", dir);
    assert_int_equal(truncate(p, 0), 0);
    /* a truncated outbound.db: the inbound side still works */
    broken_session(f, "sess-obtrunc", dir);
    snprintf(p, sizeof p, "%s/outbound.db", dir);
    assert_int_equal(truncate(p, 100), 0);
    hostile_inputs += 4;

    char *err = NULL;
    assert_int_equal(sweep(f, &err, NULL), 1);
    assert_line_with(err, "sess-trunc", "malformed");
    assert_line_with(err, "sess-torn", "malformed");
    assert_line_with(err, "sess-empty", "no table messages_in");
    assert_line_with(err, "sess-obtrunc", "outbound.db");
    assert_healthy_swept(f);
    free(err);
}

static void wrong_schema(void **state)
{
    fixture *f = *state;
    char dir[PATH_MAX], in[PATH_MAX], out[PATH_MAX];
    /* missing columns every version had */
    tl_add_session(f->data, "ag-1", "sess-nocol", "active", 1, dir);
    snprintf(in, sizeof in, "%s/inbound.db", dir);
    unlink(in);
    tl_sql(in, "CREATE TABLE messages_in (id TEXT PRIMARY KEY, seq INTEGER, "
               "kind TEXT, timestamp TEXT, content TEXT)");
    /* messages_in is a view */
    tl_add_session(f->data, "ag-1", "sess-view", "active", 1, dir);
    snprintf(in, sizeof in, "%s/inbound.db", dir);
    unlink(in);
    tl_sql(in, "CREATE TABLE t (x); CREATE VIEW messages_in AS SELECT x AS "
               "id, x AS seq, x AS kind, x AS timestamp, x AS status, x AS "
               "process_after, x AS recurrence, x AS tries, x AS content "
               "FROM t; INSERT INTO t VALUES ('v')");
    /* wrong types in every column the sweep reads */
    tl_add_session(f->data, "ag-1", "sess-types", "active", 1, dir);
    snprintf(in, sizeof in, "%s/inbound.db", dir);
    snprintf(out, sizeof out, "%s/outbound.db", dir);
    tl_sql(in, "INSERT INTO messages_in (id, seq, kind, timestamp, status, "
               "process_after, recurrence, series_id, tries, trigger, content) "
               "VALUES ('t-abc', 2, 'chat', 'x', 'pending', NULL, NULL, "
               "'t-abc', 'abc', 1, 'c'),"
               "('t-blob', 4, X'00ff', X'01', 'pending', X'0102', NULL, "
               "X'02', X'ff', 'yes', X'00'),"
               "('t-int-after', 6, 'chat', 5, 'pending', 12345, NULL, "
               "'t-int-after', 1e300, 1, 'c'),"
               "('t-rec', 8, 'task', 0, 'completed', NULL, 42, NULL, -5, 1, "
               "'c'),"
               "(NULL, 10, 'chat', 'x', 'pending', NULL, NULL, NULL, NULL, "
               "1, 'c'),"
               "('t-null-status', 12, 'chat', 'x', NULL, NULL, NULL, NULL, "
               "0, 1, 'c')");
    tl_add_ack(out, "t-abc", "processing", "not a time");
    tl_add_ack(out, "t-blob", "processing", "2026-01-01 00:00:00");
    tl_add_ack(out, "t-int-after", "processing", "2026-01-01 00:00:00");
    tl_sql(out, "INSERT INTO processing_ack VALUES (X'00', 'processing', "
                "X'01'); INSERT INTO processing_ack VALUES (NULL, "
                "'processing', 5)");
    tl_sql(out, "INSERT INTO container_state VALUES (1, 42, 'abc', X'00', "
                "'x')");
    /* outbound tables with missing columns */
    tl_add_session(f->data, "ag-1", "sess-obcols", "active", 1, dir);
    snprintf(out, sizeof out, "%s/outbound.db", dir);
    unlink(out);
    tl_sql(out, "CREATE TABLE processing_ack (message_id TEXT); "
                "INSERT INTO processing_ack VALUES ('x')");
    hostile_inputs += 4;

    char *err = NULL;
    assert_int_equal(sweep(f, &err, NULL), 1);
    assert_line_with(err, "sess-nocol", "no column status");
    assert_line_with(err, "sess-view", "sess-view");
    assert_line_with(err, "sess-obcols", "sess-obcols");
    /* wrong types never crash the tick; the bad time is named, and so
     * is every tries that is no whole number (text, a blob, a real) */
    assert_line_with(err, "sess-types", "t-int-after");
    assert_line_with(err, "message=t-abc", "tries is not a whole number");
    assert_line_with(err, "message=t-int-after",
                     "tries is not a whole number");
    /* a try is counted on the mistyped rows and the value repaired */
    snprintf(in, sizeof in, "%s/v2-sessions/ag-1/sess-types/inbound.db",
             f->data);
    assert_int_equal(tl_int(in, "SELECT typeof(tries) = 'integer' AND tries "
                                "= 1 FROM messages_in WHERE id = 't-abc'"),
                     1);
    assert_int_equal(tl_int(in, "SELECT count(*) FROM messages_in"), 6);
    assert_healthy_swept(f);
    free(err);
}

typedef enum { K_DIR, K_SYMLINK_OUT, K_FIFO } kind;

static void make_hostile(const char *path, kind k, const char *outside)
{
    unlink(path);
    if (k == K_DIR)
        assert_int_equal(mkdir(path, 0755), 0);
    else if (k == K_SYMLINK_OUT)
        assert_int_equal(symlink(outside, path), 0);
    else
        assert_int_equal(mkfifo(path, 0644), 0);
}

static void files_that_are_dirs_symlinks_fifos(void **state)
{
    fixture *f = *state;
    /* a valid database outside the tree, with a claim to reset: a sweep
     * that followed the link would change it */
    char outside[PATH_MAX];
    snprintf(outside, sizeof outside, "%s/outside.db", f->root);
    tl_sql(outside, "PRAGMA journal_mode=DELETE");
    tl_sql(outside, "CREATE TABLE IF NOT EXISTS messages_in (id TEXT PRIMARY "
                    "KEY, seq INTEGER UNIQUE, kind TEXT NOT NULL, timestamp "
                    "TEXT NOT NULL, status TEXT DEFAULT 'pending', "
                    "process_after TEXT, recurrence TEXT, series_id TEXT, "
                    "tries INTEGER DEFAULT 0, trigger INTEGER NOT NULL "
                    "DEFAULT 1, platform_id TEXT, channel_type TEXT, "
                    "thread_id TEXT, content TEXT NOT NULL, source_session_id "
                    "TEXT, on_wake INTEGER NOT NULL DEFAULT 0);"
                    "CREATE TABLE processing_ack (message_id TEXT PRIMARY "
                    "KEY, status TEXT NOT NULL, status_changed TEXT NOT "
                    "NULL);");
    tl_add_message(outside, "b-1", "chat", NULL, 0);
    tl_add_ack(outside, "b-1", "processing", "2026-01-01 00:00:00");
    char *sum_before = sha_of(outside);

    static const char *const files[] = {"inbound.db", "outbound.db",
                                        ".heartbeat"};
    static const char *const kinds[] = {"dir", "link", "fifo"};
    static const char *const problem[] = {"a directory", "a symlink",
                                          "a FIFO"};
    for (int fi = 0; fi < 3; fi++)
        for (int k = 0; k < 3; k++) {
            char sid[64], dir[PATH_MAX], p[PATH_MAX];
            snprintf(sid, sizeof sid, "sess-%s-%s",
                     fi == 0 ? "in" : fi == 1 ? "out" : "hb", kinds[k]);
            broken_session(f, sid, dir);
            snprintf(p, sizeof p, "%s/%s", dir, files[fi]);
            make_hostile(p, (kind)k, outside);
            hostile_inputs++;
        }
    char *err = NULL;
    int64_t t0 = tl_now_ms();
    assert_int_equal(sweep(f, &err, NULL), 1);
    assert_true(tl_now_ms() - t0 < 30000);
    for (int fi = 0; fi < 3; fi++)
        for (int k = 0; k < 3; k++) {
            char sid[64];
            snprintf(sid, sizeof sid, "sess-%s-%s",
                     fi == 0 ? "in" : fi == 1 ? "out" : "hb", kinds[k]);
            char what[64];
            snprintf(what, sizeof what, "%s is %s", files[fi], problem[k]);
            assert_line_with(err, sid, what);
        }
    char *sum_after = sha_of(outside);
    assert_string_equal(sum_before, sum_after);
    assert_healthy_swept(f);
    free(sum_before);
    free(sum_after);
    free(err);
}

static void session_folder_is_a_symlink(void **state)
{
    fixture *f = *state;
    /* a real session folder elsewhere, reached through a symlink */
    char elsewhere[PATH_MAX], in[PATH_MAX], out[PATH_MAX], link[PATH_MAX];
    snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", f->root);
    mkdir(elsewhere, 0755);
    snprintf(in, sizeof in, "%s/inbound.db", elsewhere);
    snprintf(out, sizeof out, "%s/outbound.db", elsewhere);
    tl_sql(in, SCHEMA_INBOUND);
    tl_sql(out, SCHEMA_OUTBOUND);
    tl_add_message(in, "l-1", "chat", NULL, 0);
    tl_add_ack(out, "l-1", "processing", "2026-01-01 00:00:00");
    tl_sql(f->v2, "INSERT INTO sessions (id, agent_group_id, status, "
                  "created_at) VALUES ('sess-link', 'ag-1', 'active', "
                  "'2026-01-01')");
    snprintf(link, sizeof link, "%s/v2-sessions/ag-1/sess-link", f->data);
    assert_int_equal(symlink(elsewhere, link), 0);
    /* and a group folder that is a symlink too */
    char gl[PATH_MAX];
    tl_sql(f->v2, "INSERT INTO agent_groups VALUES ('ag-link', 'x', "
                  "'ag-link', NULL, '2026'); INSERT INTO sessions (id, "
                  "agent_group_id, status, created_at) VALUES "
                  "('sess-in-linked-group', 'ag-link', 'active', '2026')");
    char gdir[PATH_MAX];
    snprintf(gdir, sizeof gdir, "%s/group-elsewhere", f->root);
    mkdir(gdir, 0755);
    snprintf(gl, sizeof gl, "%s/sess-in-linked-group", gdir);
    assert_int_equal(symlink(elsewhere, gl), 0);
    snprintf(gl, sizeof gl, "%s/v2-sessions/ag-link", f->data);
    assert_int_equal(symlink(gdir, gl), 0);
    hostile_inputs += 2;
    char *before = sha_of(in), *before_out = sha_of(out);
    char *err = NULL;
    assert_int_equal(sweep(f, &err, NULL), 1);
    assert_line_with(err, "sess-link", "symlink");
    assert_line_with(err, "sess-in-linked-group", "symlink");
    char *after = sha_of(in), *after_out = sha_of(out);
    assert_string_equal(before, after);
    assert_string_equal(before_out, after_out);
    assert_healthy_swept(f);
    free(before);
    free(after);
    free(before_out);
    free(after_out);
    free(err);
}

static void hundred_thousand_claims(void **state)
{
    fixture *f = *state;
    char dir[PATH_MAX], in[PATH_MAX], out[PATH_MAX];
    tl_add_session(f->data, "ag-1", "sess-big", "active", 1, dir);
    snprintf(in, sizeof in, "%s/inbound.db", dir);
    snprintf(out, sizeof out, "%s/outbound.db", dir);
    tl_sql(in, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM "
               "n WHERE i < 100000) INSERT INTO messages_in (id, seq, kind, "
               "timestamp, status, series_id, tries, content) SELECT "
               "'m-' || i, 2 * i, 'chat', '2026-01-01 00:00:00', 'pending', "
               "'m-' || i, i % 6, 'x' FROM n");
    tl_sql(out, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM "
                "n WHERE i < 100000) INSERT INTO processing_ack SELECT 'm-' "
                "|| i, 'processing', '2026-01-01 00:00:00' FROM n");
    hostile_inputs++;
    int64_t t0 = tl_now_ms();
    char *err = NULL;
    int rc = sweep(f, &err, NULL);
    int64_t took = tl_now_ms() - t0;
    printf("# 100000 claims reset in one sweep: %lld ms\n", (long long)took);
    if (rc != 0)
        fail_msg("sweep exit %d: %.2000s", rc, err);
    free(err);
    assert_int_equal(tl_int(out, "SELECT count(*) FROM processing_ack"), 0);
    /* tries 0..4 counted one more; tries 5 (= max_tries) dead-lettered */
    assert_int_equal(tl_int(in, "SELECT count(*) FROM messages_in WHERE "
                                "status = 'pending' AND tries = "
                                "(CAST(substr(id, 3) AS INTEGER) %% 6) + 1"),
                     100000 - 100000 / 6);
    assert_int_equal(tl_int(in, "SELECT count(*) FROM messages_in WHERE "
                                "status = 'failed'"), 100000 / 6);
    assert_true(took < 120000);
    assert_healthy_swept(f);
}

static void ten_megabyte_message(void **state)
{
    fixture *f = *state;
    char dir[PATH_MAX], in[PATH_MAX], out[PATH_MAX];
    tl_add_session(f->data, "ag-1", "sess-huge", "active", 1, dir);
    snprintf(in, sizeof in, "%s/inbound.db", dir);
    snprintf(out, sizeof out, "%s/outbound.db", dir);
    /* a completed recurring 10 MB task (cloned), and a 10 MB orphan claim */
    tl_sql(in, "INSERT INTO messages_in (id, seq, kind, timestamp, status, "
               "recurrence, series_id, content) VALUES ('big-rec', 2, 'task', "
               "'2026-01-01 00:00:00', 'completed', '0 9 * * *', 'big-rec', "
               "printf('%.*c', 10485760, 'x')),"
               "('big-claim', 4, 'chat', '2026-01-01 00:00:00', 'pending', "
               "NULL, 'big-claim', printf('%.*c', 10485760, 'y'))");
    tl_add_ack(out, "big-claim", "processing", "2026-01-01 00:00:00");
    hostile_inputs++;
    char *err = NULL;
    int rc = sweep(f, &err, NULL);
    if (rc != 0)
        fail_msg("sweep exit %d: %.2000s", rc, err);
    free(err);
    assert_int_equal(tl_int(in, "SELECT count(*) FROM messages_in WHERE "
                                "series_id = 'big-rec' AND status = "
                                "'pending' AND length(content) = 10485760"),
                     1);
    assert_int_equal(tl_int(in, "SELECT tries FROM messages_in WHERE id = "
                                "'big-claim'"), 1);
    assert_healthy_swept(f);
}

static int names_ok;
static int check_name(const char *p, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st;
    (void)flag;
    const char *name = p + ftw->base;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || strchr("_.-", *c))) {
            fprintf(stderr, "unexpected file name: %s\n", p);
            names_ok = 0;
        }
    return 0;
}

static void ids_with_dots_slashes_spaces_quotes_newlines(void **state)
{
    fixture *f = *state;
    static const char *const bad[] = {
        "..",
        ".",
        "../escape",
        "../../../../../../tmp/clawsweep-hostile-escape",
        "a/b",
        "/abs",
        "sess a",
        "sess'quote",
        "sess\"dq",
        "sess\nnewline",
        "sess\ttab",
        "-dash-first",
        "",
        "sess;rm -rf x",
        "sess$(touch pwned)",
        "sess\xc3\xa9",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxx",
    };
    size_t nbad = sizeof bad / sizeof bad[0];
    for (size_t i = 0; i < nbad; i++) {
        /* as a session id in a good group, and as a group id */
        char gid[32];
        snprintf(gid, sizeof gid, "ag-bad%zu", i);
        char *sql = sqlite3_mprintf(
            "INSERT INTO sessions (id, agent_group_id, status, created_at) "
            "VALUES (%Q, 'ag-1', 'active', '2026');"
            "INSERT INTO agent_groups VALUES (%Q, 'x', %Q, NULL, '2026');"
            "INSERT INTO sessions (id, agent_group_id, status, created_at) "
            "VALUES (%Q, %Q, 'active', '2026');",
            bad[i], bad[i], gid, gid, bad[i]);
        tl_sql(f->v2, sql);
        sqlite3_free(sql);
        hostile_inputs += 2;
    }
    /* a message id with every bad character is only data: it is reset */
    tl_add_message(f->healthy_in, "m/../x 'q\"\nnl", "chat", NULL, 0);
    tl_add_ack(f->healthy_out, "m/../x 'q\"\nnl", "processing", "2026-01-01 00:00:00");
    hostile_inputs++;
    char *err = NULL;
    assert_int_equal(sweep(f, &err, NULL), 1);
    assert_line_with(err, "invalid id", "session=..");
    assert_line_with(err, "invalid id", "a/b");
    assert_line_with(err, "invalid id", "\"sess a\"");
    assert_line_with(err, "invalid id", "sess\\nnewline");
    assert_line_with(err, "invalid id", "group=\"sess;rm -rf x\"");
    /* one line per bad session, each naming it */
    size_t lines = 0;
    for (const char *p = err; (p = strstr(p, "invalid id")); p++)
        lines++;
    assert_true(lines >= 2 * nbad);
    free(err);
    assert_int_equal(tl_int(f->healthy_in, "SELECT tries FROM messages_in "
                                           "WHERE id = 'm/../x ''q\"' || "
                                           "char(10) || 'nl'"), 1);
    assert_healthy_swept(f);
    /* nothing was created outside the data dir, nor under a bad name */
    assert_false(tl_exists("/tmp/clawsweep-hostile-escape"));
    assert_false(tl_exists("pwned"));
    names_ok = 1;
    nftw(f->root, check_name, 16, FTW_PHYS);
    assert_true(names_ok);
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/escape", f->root);
    assert_false(tl_exists(p));
}

static void central_db_locked_longer_than_busy_timeout(void **state)
{
    fixture *f = *state;
    char *before_in = sha_of(f->healthy_in), *before_out = sha_of(f->healthy_out);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        /* The host app in exclusive locking mode: even WAL readers wait. */
        sqlite3 *db;
        char c = 'x';
        close(pipefd[0]);
        if (sqlite3_open(f->v2, &db) != SQLITE_OK ||
            sqlite3_exec(db,
                         "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; "
                         "UPDATE sessions SET last_active = 'x'",
                         NULL, NULL, NULL) != SQLITE_OK)
            c = 'E';
        if (write(pipefd[1], &c, 1) != 1)
            _exit(1);
        sleep(8);
        _exit(0);
    }
    close(pipefd[1]);
    char c = 0;
    assert_int_equal(read(pipefd[0], &c, 1), 1);
    close(pipefd[0]);
    assert_int_equal(c, 'x');
    hostile_inputs++;
    const char *env[] = {"CLAWSWEEP_SWEEP_BUSY_TIMEOUT=300ms", NULL};
    char *err = NULL;
    int64_t t0 = tl_now_ms();
    int rc = sweep(f, &err, env);
    int64_t took = tl_now_ms() - t0;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (rc != 1)
        fail_msg("sweep exit %d (want 1): %s", rc, err);
    assert_true(took < 6000);
    assert_line_with(err, "v2.db", "lock");
    free(err);
    /* nothing else touched: the session files are byte for byte the same */
    char *after_in = sha_of(f->healthy_in), *after_out = sha_of(f->healthy_out);
    assert_string_equal(before_in, after_in);
    assert_string_equal(before_out, after_out);
    free(before_in);
    free(before_out);
    free(after_in);
    free(after_out);
    /* once the host lets go, the next sweep does its work */
    assert_int_equal(sweep(f, NULL, NULL), 0);
    assert_healthy_swept(f);
}

static void report(void **state)
{
    (void)state;
    printf("# hostile inputs tried: %d\n", hostile_inputs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(truncated_and_empty_db, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(files_that_are_dirs_symlinks_fifos, setup, teardown),
        cmocka_unit_test_setup_teardown(session_folder_is_a_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(hundred_thousand_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(ten_megabyte_message, setup, teardown),
        cmocka_unit_test_setup_teardown(ids_with_dots_slashes_spaces_quotes_newlines, setup, teardown),
        cmocka_unit_test_setup_teardown(central_db_locked_longer_than_busy_timeout, setup, teardown),
        cmocka_unit_test(report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
