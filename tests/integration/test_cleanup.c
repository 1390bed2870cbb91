/*
 * test_cleanup.c - artifact cleanup (SPEC §6) through the janitor API, on
 * real trees in temp dirs: NanoClaw v1 and v2 layouts, real SQLite active
 * sets, ages set with utimensat. Every test asserts what is on disk after
 * the pass, not what the janitor says it did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "janitor.h"
#include "log.h"
#include "testlib.h"
#include "util.h"

#define DAY (86400LL * 1000)
#define HOUR (3600LL * 1000)
/* build a path into a buffer; the test fails if it does not fit */
#define PJ(buf, ...) assert_int_equal(path_join(buf, sizeof buf, __VA_ARGS__), 0)

/* ---- fixture ---------------------------------------------------------- */

typedef struct {
    char *tmp;
    char data[PATH_MAX], groups[PATH_MAX], store[PATH_MAX];
    cs_config cfg;
    int64_t now;
} fx;

typedef struct {
    int n;
    janitor_type type[512];
    char *path[512];
    uint64_t bytes[512];
    char *archive[512];
    int errors;
    char err_file[PATH_MAX];
    /* before_remove hook: act on this path */
    const char *touch_path; /* when the hook sees this entry... */
    const char *victim;     /* ...change this file (NULL: the entry) */
    int64_t victim_mtime;   /* to this mtime (0: 5 s older) */
    int append;             /* or append a byte to it */
} seen;

static void seen_free(seen *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->path[i]);
        free(s->archive[i]);
    }
    s->n = 0;
}

static void on_entry(void *ctx, const janitor_entry *e)
{
    seen *s = ctx;
    if (s->n >= 512)
        return;
    s->type[s->n] = e->type;
    s->path[s->n] = strdup(e->path);
    s->archive[s->n] = e->archive ? strdup(e->archive) : NULL;
    s->bytes[s->n++] = e->bytes;
}

static void on_error(void *ctx, janitor_type t, const char *file,
                     const char *msg)
{
    seen *s = ctx;
    (void)t;
    (void)msg;
    s->errors++;
    snprintf(s->err_file, sizeof s->err_file, "%s", file);
}

static void before_remove(void *ctx, const janitor_entry *e)
{
    seen *s = ctx;
    if (!s->touch_path || strcmp(e->path, s->touch_path) != 0)
        return;
    const char *v = s->victim ? s->victim : e->path;
    if (s->append) {
        int fd = open(v, O_WRONLY | O_APPEND);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "x", 1), 1);
        close(fd);
    } else if (s->victim_mtime) {
        tl_set_mtime(v, s->victim_mtime);
    } else {
        /* still old enough to go, but no longer the file selected */
        struct stat st;
        assert_int_equal(lstat(v, &st), 0);
        tl_set_mtime(v, (int64_t)st.st_mtim.tv_sec * 1000 - 5000);
    }
}

static int run(fx *f, unsigned types, int dry, seen *s, janitor_report *rep)
{
    janitor_opts o = {.types = types,
                      .dry_run = dry,
                      .now_ms = f->now,
                      .on_entry = on_entry,
                      .on_error = on_error,
                      .before_remove = before_remove,
                      .ctx = s};
    return janitor_run(&f->cfg, &o, rep);
}

static int has_entry(const seen *s, const char *path)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->path[i], path))
            return 1;
    return 0;
}

/* f->tmp-relative path */
static const char *P(const fx *f, const char *rel)
{
    static char bufs[8][PATH_MAX];
    static int k;
    char *b = bufs[k++ % 8];
    assert_int_equal(path_join(b, PATH_MAX, "%s/%s", f->tmp, rel), 0);
    return b;
}

static int64_t age_ms;
static int age_one(const char *p, const struct stat *st, int flag,
                   struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    tl_set_mtime(p, age_ms);
    return 0;
}

/* Set the mtime of a whole tree (children first, then their folders). */
static void age_tree(const char *path, int64_t mtime)
{
    age_ms = mtime;
    assert_int_equal(nftw(path, age_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void fx_init(fx *f)
{
    memset(f, 0, sizeof *f);
    f->tmp = tl_tmpdir("cleanup");
    snprintf(f->data, sizeof f->data, "%s/data", f->tmp);
    snprintf(f->groups, sizeof f->groups, "%s/groups", f->tmp);
    snprintf(f->store, sizeof f->store, "%s/store/messages.db", f->tmp);
    tl_datadir_init(f->data);
    assert_int_equal(mkdir_p(P(f, "store")), 0);
    tl_sql(f->store, "CREATE TABLE sessions (group_folder TEXT PRIMARY KEY, "
                     "session_id TEXT NOT NULL);"
                     "INSERT INTO sessions VALUES ('main', 'v1-active');");
    config_defaults(&f->cfg);
    snprintf(f->cfg.data_dir, sizeof f->cfg.data_dir, "%s", f->data);
    snprintf(f->cfg.cleanup.groups_dir, sizeof f->cfg.cleanup.groups_dir,
             "%s", f->groups);
    snprintf(f->cfg.cleanup.store_db, sizeof f->cfg.cleanup.store_db, "%s",
             f->store);
    f->cfg.sweep.busy_timeout_ms = 200;
    f->now = tl_now_ms();
}

static void fx_free(fx *f)
{
    tl_rm_rf(f->tmp);
    free(f->tmp);
}

/* Ages at the boundary of a window of n days: kept / removed. */
static int64_t kept_at(const fx *f, int n) { return f->now - n * DAY - HOUR; }
static int64_t gone_at(const fx *f, int n) { return f->now - (n + 1) * DAY; }

/* The full tree: for every type one entry at exactly N days (+1 h: still
 * N whole days) and one at N+1 days. */
static void build_boundary_tree(fx *f)
{
    const cs_config *c = &f->cfg;
    char sdir[PATH_MAX];
    tl_add_session(f->data, "ag", "sess-1", "active", 1, sdir);
    char in[PATH_MAX], out[PATH_MAX];
    PJ(in, "%s/inbound.db", sdir);
    PJ(out, "%s/outbound.db", sdir);
    tl_sql(in, "INSERT INTO messages_in (id, seq, kind, timestamp, status, "
               "content) VALUES ('m-old', 2, 'chat', 't', 'completed', 'x'),"
               "('m-new', 4, 'chat', 't', 'completed', 'x'),"
               "('m-pending', 6, 'chat', 't', 'pending', 'x'),"
               "('m-paused', 8, 'chat', 't', 'paused', 'x'),"
               "('m-failed', 10, 'chat', 't', 'failed', 'x');"
               "INSERT INTO delivered (message_out_id, delivered_at) VALUES "
               "('o-old', 't'), ('o-new', 't');");
    tl_sql(out, "INSERT INTO session_state VALUES ('continuation:claude', "
                "'cont-active', 't'), ('sdk_session_id', 'sdk-active', 't');");

    /* v1 */
    tl_put_file(P(f, "data/sessions/main/.claude/projects/-w/t-new.jsonl"), 10,
        kept_at(f, c->cleanup.transcripts));
    tl_put_file(P(f, "data/sessions/main/.claude/projects/-w/t-old.jsonl"), 10,
        gone_at(f, c->cleanup.transcripts));
    tl_put_file(P(f, "data/sessions/main/.claude/debug/d-new.txt"), 5,
        kept_at(f, c->cleanup.debug));
    tl_put_file(P(f, "data/sessions/main/.claude/debug/d-old.txt"), 5,
        gone_at(f, c->cleanup.debug));
    tl_put_file(P(f, "data/sessions/main/.claude/todos/td-new.json"), 5,
        kept_at(f, c->cleanup.todos));
    tl_put_file(P(f, "data/sessions/main/.claude/todos/td-old.json"), 5,
        gone_at(f, c->cleanup.todos));
    tl_put_file(P(f, "data/sessions/main/.claude/telemetry/tm-new.json"), 5,
        kept_at(f, c->cleanup.telemetry));
    tl_put_file(P(f, "data/sessions/main/.claude/telemetry/tm-old.json"), 5,
        gone_at(f, c->cleanup.telemetry));
    /* v2 transcripts */
    tl_put_file(P(f, "data/v2-sessions/ag/.claude-shared/projects/-workspace-agent/"
             "v2-new.jsonl"),
        10, kept_at(f, c->cleanup.transcripts));
    tl_put_file(P(f, "data/v2-sessions/ag/.claude-shared/projects/-workspace-agent/"
             "v2-old.jsonl"),
        10, gone_at(f, c->cleanup.transcripts));
    /* group logs, at depth */
    tl_put_file(P(f, "groups/g1/logs/l-new.log"), 3, kept_at(f, c->cleanup.group_logs));
    tl_put_file(P(f, "groups/g1/logs/l-old.log"), 3, gone_at(f, c->cleanup.group_logs));
    tl_put_file(P(f, "groups/g1/logs/sub/l-old2.log"), 3,
        gone_at(f, c->cleanup.group_logs));
    /* agent logs */
    tl_put_file(P(f, "data/clawsweep/logs/a-new.log"), 3,
        kept_at(f, c->cleanup.agent_logs));
    tl_put_file(P(f, "data/clawsweep/logs/a-old.log"), 3,
        gone_at(f, c->cleanup.agent_logs));
    /* inbox / outbox folders (age = newest inside) */
    const char *inbox[] = {"m-old", "m-new", "m-pending", "m-paused",
                           "m-failed", "m-gone"};
    for (int i = 0; i < 6; i++) {
        char p[PATH_MAX], d[PATH_MAX];
        PJ(d, "data/v2-sessions/ag/sess-1/inbox/%s",
                 inbox[i]);
        PJ(p, "%s/photo.jpg", d);
        tl_put_file(P(f, p), 100, 0);
        age_tree(P(f, d), i == 1 ? kept_at(f, c->cleanup.inbox)
                                 : gone_at(f, c->cleanup.inbox));
    }
    const char *outbox[] = {"o-old", "o-new", "o-undelivered"};
    for (int i = 0; i < 3; i++) {
        char p[PATH_MAX], d[PATH_MAX];
        PJ(d, "data/v2-sessions/ag/sess-1/outbox/%s",
                 outbox[i]);
        PJ(p, "%s/reply.pdf", d);
        tl_put_file(P(f, p), 50, 0);
        age_tree(P(f, d), i == 1 ? kept_at(f, c->cleanup.outbox)
                                 : gone_at(f, c->cleanup.outbox));
    }
    /* orphan session folders: inbound.db, no row in sessions */
    const char *orphans[] = {"sess-orphan-new", "sess-orphan-old"};
    for (int i = 0; i < 2; i++) {
        char d[PATH_MAX], db[PATH_MAX];
        PJ(d, "%s/v2-sessions/ag/%s", f->data, orphans[i]);
        PJ(db, "%s/inbound.db", d);
        assert_int_equal(mkdir_p(d), 0);
        tl_sql(db, SCHEMA_INBOUND);
        age_tree(d, i == 0 ? kept_at(f, c->cleanup.orphan_sessions)
                           : gone_at(f, c->cleanup.orphan_sessions));
    }
}

static void test_boundaries(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    build_boundary_tree(&f);
    seen s = {0};
    janitor_report rep;
    assert_int_equal(run(&f, JANITOR_ALL, 0, &s, &rep), 0);
    assert_int_equal(rep.errors, 0);

    const char *kept[] = {
        "data/sessions/main/.claude/projects/-w/t-new.jsonl",
        "data/sessions/main/.claude/debug/d-new.txt",
        "data/sessions/main/.claude/todos/td-new.json",
        "data/sessions/main/.claude/telemetry/tm-new.json",
        ("data/v2-sessions/ag/.claude-shared/projects/-workspace-agent/"
         "v2-new.jsonl"),
        "groups/g1/logs/l-new.log",
        "data/clawsweep/logs/a-new.log",
        "data/v2-sessions/ag/sess-1/inbox/m-new/photo.jpg",
        "data/v2-sessions/ag/sess-1/inbox/m-pending/photo.jpg",
        "data/v2-sessions/ag/sess-1/inbox/m-paused/photo.jpg",
        "data/v2-sessions/ag/sess-1/outbox/o-new/reply.pdf",
        "data/v2-sessions/ag/sess-1/outbox/o-undelivered/reply.pdf",
        "data/v2-sessions/ag/sess-orphan-new/inbound.db",
        "data/v2-sessions/ag/sess-1/inbound.db",
        "groups/g1/logs",
    };
    const char *gone[] = {
        "data/sessions/main/.claude/projects/-w/t-old.jsonl",
        "data/sessions/main/.claude/debug/d-old.txt",
        "data/sessions/main/.claude/todos/td-old.json",
        "data/sessions/main/.claude/telemetry/tm-old.json",
        ("data/v2-sessions/ag/.claude-shared/projects/-workspace-agent/"
         "v2-old.jsonl"),
        "groups/g1/logs/l-old.log",
        "groups/g1/logs/sub", /* emptied by the pass */
        "data/clawsweep/logs/a-old.log",
        "data/v2-sessions/ag/sess-1/inbox/m-old",
        "data/v2-sessions/ag/sess-1/inbox/m-failed",
        "data/v2-sessions/ag/sess-1/inbox/m-gone",
        "data/v2-sessions/ag/sess-1/outbox/o-old",
        "data/v2-sessions/ag/sess-orphan-old",
    };
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
        if (!tl_exists(P(&f, kept[i])))
            fail_msg("removed but should be kept: %s", kept[i]);
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
        if (tl_exists(P(&f, gone[i])))
            fail_msg("kept but should be removed: %s", gone[i]);
    /* every type reported exactly what went */
    assert_int_equal(rep.entries[JT_TRANSCRIPTS], 2);
    assert_int_equal(rep.entries[JT_DEBUG], 1);
    assert_int_equal(rep.entries[JT_TODOS], 1);
    assert_int_equal(rep.entries[JT_TELEMETRY], 1);
    assert_int_equal(rep.entries[JT_GROUP_LOGS], 2);
    assert_int_equal(rep.entries[JT_AGENT_LOGS], 1);
    assert_int_equal(rep.entries[JT_INBOX], 3);
    assert_int_equal(rep.bytes[JT_INBOX], 300);
    assert_int_equal(rep.entries[JT_OUTBOX], 1);
    assert_int_equal(rep.entries[JT_ORPHAN_SESSIONS], 1);
    assert_int_equal(rep.total_entries, (uint64_t)s.n);
    assert_true(has_entry(&s, P(&f, "data/sessions/main/.claude/debug/"
                                    "d-old.txt")));

    /* a second pass finds nothing more */
    seen s2 = {0};
    assert_int_equal(run(&f, JANITOR_ALL, 0, &s2, &rep), 0);
    assert_int_equal(rep.total_entries, 0);
    seen_free(&s);
    seen_free(&s2);
    fx_free(&f);
}

/* --only: just the named types. */
static void test_only_types(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    build_boundary_tree(&f);
    seen s = {0};
    janitor_report rep;
    unsigned mask;
    char err[256];
    assert_int_equal(janitor_parse_types("debug,group_logs", &mask, err,
                                         sizeof err), 0);
    assert_int_equal(janitor_parse_types("debug,nope", &mask, err,
                                         sizeof err), -1);
    assert_non_null(strstr(err, "nope"));
    assert_int_equal(janitor_parse_types("debug,group_logs", &mask, err,
                                         sizeof err), 0);
    assert_int_equal(run(&f, mask, 0, &s, &rep), 0);
    assert_false(tl_exists(P(&f, "data/sessions/main/.claude/debug/"
                                 "d-old.txt")));
    assert_false(tl_exists(P(&f, "groups/g1/logs/l-old.log")));
    assert_true(tl_exists(P(&f, "data/sessions/main/.claude/todos/"
                                "td-old.json")));
    assert_true(tl_exists(P(&f, "data/v2-sessions/ag/sess-orphan-old")));
    assert_int_equal(rep.total_entries, 3);
    seen_free(&s);
    fx_free(&f);
}

static void test_active_transcripts(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    build_boundary_tree(&f);
    int64_t old = f.now - 60 * DAY;
    /* v1: the active id (and its tool-results folder) stays */
    tl_put_file(P(&f, "data/sessions/main/.claude/projects/-w/v1-active.jsonl"), 9,
        old);
    tl_put_file(P(&f, "data/sessions/main/.claude/projects/-w/v1-active/tool.txt"),
        9, old);
    /* an inactive one goes with its folder, even a fresh folder */
    tl_put_file(P(&f, "data/sessions/main/.claude/projects/-w/v1-gone.jsonl"), 9,
        old);
    tl_put_file(P(&f, "data/sessions/main/.claude/projects/-w/v1-gone/sub/r.txt"), 7,
        f.now);
    /* a tool-results folder without a transcript stays */
    tl_put_file(P(&f, "data/sessions/main/.claude/projects/-w/lonely/r.txt"), 7, old);
    /* substring of an active id is not the id */
    tl_put_file(P(&f, "data/sessions/main/.claude/projects/-w/v1-activ.jsonl"), 9,
        old);
    /* debug: latest and <active>.txt stay */
    tl_put_file(P(&f, "data/sessions/main/.claude/debug/latest"), 1, old);
    tl_put_file(P(&f, "data/sessions/main/.claude/debug/v1-active.txt"), 1, old);
    /* todos / telemetry: names containing an active id stay */
    tl_put_file(P(&f, "data/sessions/main/.claude/todos/v1-active-agent-x.json"), 1,
        old);
    tl_put_file(P(&f, "data/sessions/main/.claude/telemetry/1p.v1-active.json"), 1,
        old);
    /* v2: continuation:* and sdk_session_id values stay */
    const char *v2 = "data/v2-sessions/ag/.claude-shared/projects/"
                     "-workspace-agent/";
    char p[PATH_MAX];
    PJ(p, "%scont-active.jsonl", v2);
    tl_put_file(P(&f, p), 9, old);
    PJ(p, "%scont-active/t.txt", v2);
    tl_put_file(P(&f, p), 9, old);
    PJ(p, "%ssdk-active.jsonl", v2);
    tl_put_file(P(&f, p), 9, old);
    PJ(p, "%sv1-active.jsonl", v2); /* v1 ids: not v2's */
    tl_put_file(P(&f, p), 9, old);

    seen s = {0};
    janitor_report rep;
    assert_int_equal(run(&f, JANITOR_ALL, 0, &s, &rep), 0);
    assert_int_equal(rep.errors, 0);
    const char *kept[] = {
        "data/sessions/main/.claude/projects/-w/v1-active.jsonl",
        "data/sessions/main/.claude/projects/-w/v1-active/tool.txt",
        "data/sessions/main/.claude/projects/-w/lonely/r.txt",
        "data/sessions/main/.claude/debug/latest",
        "data/sessions/main/.claude/debug/v1-active.txt",
        "data/sessions/main/.claude/todos/v1-active-agent-x.json",
        "data/sessions/main/.claude/telemetry/1p.v1-active.json",
    };
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
        if (!tl_exists(P(&f, kept[i])))
            fail_msg("active entry removed: %s", kept[i]);
    assert_false(tl_exists(
        P(&f, "data/sessions/main/.claude/projects/-w/v1-gone.jsonl")));
    assert_false(
        tl_exists(P(&f, "data/sessions/main/.claude/projects/-w/v1-gone")));
    assert_false(tl_exists(
        P(&f, "data/sessions/main/.claude/projects/-w/v1-activ.jsonl")));
    PJ(p, "%scont-active.jsonl", v2);
    assert_true(tl_exists(P(&f, p)));
    PJ(p, "%scont-active/t.txt", v2);
    assert_true(tl_exists(P(&f, p)));
    PJ(p, "%ssdk-active.jsonl", v2);
    assert_true(tl_exists(P(&f, p)));
    PJ(p, "%sv1-active.jsonl", v2);
    assert_false(tl_exists(P(&f, p)));
    seen_free(&s);
    fx_free(&f);
}

/* An active set that cannot be read skips the types it protects, with an
 * error naming the file, and removes nothing of them. */
static void test_unreadable_active_sets(void **state)
{
    (void)state;
    for (int mode = 0; mode < 4; mode++) {
        fx f;
        fx_init(&f);
        build_boundary_tree(&f);
        const char *bad = NULL;
        if (mode == 0) { /* STORE missing */
            assert_int_equal(unlink(f.store), 0);
            bad = f.store;
        } else if (mode == 1) { /* STORE without the sessions table */
            tl_sql(f.store, "DROP TABLE sessions");
            bad = f.store;
        } else if (mode == 2) { /* STORE locked by a writer */
            bad = f.store;
        } else { /* a v2 outbound.db that is not a database */
            char ob[PATH_MAX];
            tl_session_file(ob, sizeof ob, f.data, "ag", "sess-1",
                            "outbound.db");
            FILE *fp = fopen(ob, "w");
            fputs("this is not a database, not even close to one......"
                  "..............................................",
                  fp);
            fclose(fp);
            bad = NULL;
        }
        pid_t holder = -1;
        int pipefd[2];
        if (mode == 2) {
            /* a child holds an exclusive transaction on the file */
            assert_int_equal(pipe(pipefd), 0);
            holder = fork();
            if (holder == 0) {
                close(pipefd[0]);
                sqlite3 *db = NULL;
                if (sqlite3_open(f.store, &db) != SQLITE_OK ||
                    sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) !=
                        SQLITE_OK ||
                    write(pipefd[1], "k", 1) != 1)
                    _exit(1);
                pause();
                _exit(0);
            }
            close(pipefd[1]);
            char c;
            assert_int_equal(read(pipefd[0], &c, 1), 1);
            close(pipefd[0]);
        }
        seen s = {0};
        janitor_report rep;
        assert_int_equal(run(&f, JANITOR_ALL, 0, &s, &rep), 0);
        if (holder > 0) {
            kill(holder, SIGKILL);
            waitpid(holder, NULL, 0);
        }
        assert_true(rep.errors >= 1);
        if (mode < 3) {
            assert_string_equal(s.err_file, bad);
            unsigned v1 = (1u << JT_TRANSCRIPTS) | (1u << JT_DEBUG) |
                          (1u << JT_TODOS) | (1u << JT_TELEMETRY);
            assert_int_equal(rep.skipped & v1, v1);
            assert_true(tl_exists(P(&f, "data/sessions/main/.claude/"
                                        "projects/-w/t-old.jsonl")));
            assert_true(tl_exists(P(&f, "data/sessions/main/.claude/debug/"
                                        "d-old.txt")));
            assert_true(tl_exists(P(&f, "data/sessions/main/.claude/todos/"
                                        "td-old.json")));
            assert_true(tl_exists(P(&f, "data/sessions/main/.claude/"
                                        "telemetry/tm-old.json")));
            /* v2 transcripts have their own set: they still go */
            assert_false(tl_exists(P(&f, "data/v2-sessions/ag/.claude-shared/"
                                         "projects/-workspace-agent/"
                                         "v2-old.jsonl")));
        } else {
            assert_non_null(strstr(s.err_file, "sess-1/outbound.db"));
            assert_true(rep.skipped & (1u << JT_TRANSCRIPTS));
            assert_true(tl_exists(P(&f, "data/v2-sessions/ag/.claude-shared/"
                                        "projects/-workspace-agent/"
                                        "v2-old.jsonl")));
            /* v1 transcripts have their own set: they still go */
            assert_false(tl_exists(P(&f, "data/sessions/main/.claude/"
                                         "projects/-w/t-old.jsonl")));
        }
        /* types that need no such set went on */
        assert_false(tl_exists(P(&f, "groups/g1/logs/l-old.log")));
        assert_false(tl_exists(P(&f, "data/clawsweep/logs/a-old.log")));
        seen_free(&s);
        fx_free(&f);
    }
}

/* inbound.db without messages_in / delivered: inbox and outbox skipped. */
static void test_unreadable_inbound(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    build_boundary_tree(&f);
    char in[PATH_MAX];
    tl_session_file(in, sizeof in, f.data, "ag", "sess-1", "inbound.db");
    tl_sql(in, "DROP TABLE messages_in; DROP TABLE delivered;");
    seen s = {0};
    janitor_report rep;
    assert_int_equal(run(&f, JANITOR_ALL, 0, &s, &rep), 0);
    assert_int_equal(rep.errors, 2);
    assert_string_equal(s.err_file, in);
    assert_true(rep.skipped & (1u << JT_INBOX));
    assert_true(rep.skipped & (1u << JT_OUTBOX));
    assert_true(tl_exists(P(&f, "data/v2-sessions/ag/sess-1/inbox/m-old")));
    assert_true(tl_exists(P(&f, "data/v2-sessions/ag/sess-1/inbox/m-gone")));
    assert_true(tl_exists(P(&f, "data/v2-sessions/ag/sess-1/outbox/o-old")));
    seen_free(&s);
    fx_free(&f);
}

/* v2.db unreadable: no orphan is judged. */
static void test_unreadable_central_db(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    build_boundary_tree(&f);
    char v2[PATH_MAX];
    PJ(v2, "%s/v2.db", f.data);
    tl_sql(v2, "DROP TABLE sessions");
    seen s = {0};
    janitor_report rep;
    assert_int_equal(run(&f, JANITOR_ALL, 0, &s, &rep), 0);
    assert_int_equal(rep.errors, 1);
    assert_string_equal(s.err_file, v2);
    assert_true(rep.skipped & (1u << JT_ORPHAN_SESSIONS));
    assert_true(tl_exists(P(&f, "data/v2-sessions/ag/sess-orphan-old")));
    assert_true(tl_exists(P(&f, "data/v2-sessions/ag/sess-1")));
    seen_free(&s);
    fx_free(&f);
}

/* Symlinks: never followed, at most removed themselves. */
static void test_symlinks(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    build_boundary_tree(&f);
    int64_t old = f.now - 400 * DAY;
    const char *outside[] = {"outside/a.log", "outside/sub/b.jsonl",
                             "outside/inbound.db", "outside/photo.jpg"};
    for (int i = 0; i < 4; i++)
        tl_put_file(P(&f, outside[i]), 10, old);
    tl_put_file(P(&f, "groups/g1/notlogs/keep.log"), 10, old);
    age_tree(P(&f, "outside"), old);
    /* a symlink to the outside dir in every place that is walked */
    const char *links[] = {
        "data/sessions/main/.claude/debug/out",
        "data/sessions/main/.claude/todos/out",
        "data/sessions/main/.claude/projects/-w/out.jsonl",
        "data/sessions/main/.claude/projects/out",
        "data/v2-sessions/ag/out",
        "data/v2-sessions/ag/sess-1/inbox/m-link",
        "data/clawsweep/logs/out",
        "groups/g2/logs", /* the logs folder itself is a symlink */
        "groups/g3",      /* a group folder that is a symlink */
        "data/sessions/link",
    };
    for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
        char d[PATH_MAX];
        PJ(d, "%s", P(&f, links[i]));
        char parent[PATH_MAX];
        PJ(parent, "%s", d);
        *strrchr(parent, '/') = '\0';
        assert_int_equal(mkdir_p(parent), 0);
        assert_int_equal(symlink(P(&f, "outside"), d), 0);
        tl_set_mtime(d, old);
    }
    /* a symlinked dir inside the tree, pointing at a folder of the tree
     * that no type owns */
    assert_int_equal(symlink(P(&f, "groups/g1/notlogs"),
                             P(&f, "groups/g1/logs/inner")), 0);
    tl_set_mtime(P(&f, "groups/g1/logs/inner"), f.now);

    seen s = {0};
    janitor_report rep;
    assert_int_equal(run(&f, JANITOR_ALL, 0, &s, &rep), 0);
    for (int i = 0; i < 4; i++)
        if (!tl_exists(P(&f, outside[i])))
            fail_msg("outside file removed: %s", outside[i]);
    assert_true(tl_exists(P(&f, "groups/g1/notlogs/keep.log")));
    assert_true(tl_exists(P(&f, "groups/g1/logs/inner")));
    /* old symlinks where files are cleaned went themselves */
    assert_false(tl_exists(P(&f, "data/sessions/main/.claude/debug/out")));
    assert_false(tl_exists(P(&f, "data/clawsweep/logs/out")));
    /* symlinks that stand for folders were not entered nor removed */
    assert_true(tl_exists(P(&f, "groups/g2/logs")));
    assert_true(tl_exists(P(&f, "data/v2-sessions/ag/sess-1/inbox/m-link")));
    /* the rest of the pass went on */
    assert_false(tl_exists(P(&f, "groups/g1/logs/l-old.log")));
    seen_free(&s);
    fx_free(&f);
}

/* A file that changes between selection and removal is kept. */
static void test_changed_after_selection(void **state)
{
    (void)state;
    for (int append = 0; append < 2; append++) {
        fx f;
        fx_init(&f);
        build_boundary_tree(&f);
        char target[PATH_MAX];
        PJ(target, "%s",
                 P(&f, "data/sessions/main/.claude/debug/d-old.txt"));
        seen s = {.touch_path = target, .append = append};
        janitor_report rep;
        assert_int_equal(run(&f, JANITOR_ALL, 0, &s, &rep), 0);
        assert_true(tl_exists(target));
        assert_false(has_entry(&s, target));
        assert_int_equal(rep.entries[JT_DEBUG], 0);
        assert_int_equal(rep.kept_changed, 1);
        assert_false(tl_exists(P(&f, "groups/g1/logs/l-old.log")));
        seen_free(&s);
        fx_free(&f);
    }
}

/* A folder entry where a file inside changes after selection: that file
 * and its folders stay, the rest goes. */
static void test_folder_changed_after_selection(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    build_boundary_tree(&f);
    const char *d = "data/v2-sessions/ag/sess-1/inbox/m-old";
    tl_put_file(P(&f, "data/v2-sessions/ag/sess-1/inbox/m-old/sub/second.txt"), 10,
        0);
    age_tree(P(&f, d), gone_at(&f, f.cfg.cleanup.inbox));
    char folder[PATH_MAX], inner[PATH_MAX], other[PATH_MAX];
    PJ(folder, "%s", P(&f, d));
    PJ(inner, "%s/sub/second.txt", folder);
    PJ(other, "%s/photo.jpg", folder);
    seen s = {.touch_path = folder, .victim = inner, .victim_mtime = f.now};
    janitor_report rep;
    assert_int_equal(run(&f, 1u << JT_INBOX, 0, &s, &rep), 0);
    assert_true(tl_exists(inner));
    assert_false(tl_exists(other));
    assert_int_equal(rep.kept_changed, 1);
    /* what did go is reported with the bytes it freed */
    assert_true(has_entry(&s, folder));
    assert_int_equal(rep.bytes[JT_INBOX], 100 + 100 + 100);
    seen_free(&s);
    fx_free(&f);
}

/* A file held with flock by another process is kept. */
static void test_flock_kept(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    build_boundary_tree(&f);
    const char *locked = P(&f, "data/clawsweep/logs/a-old.log");
    char lp[PATH_MAX];
    PJ(lp, "%s", locked);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(pipefd[0]);
        int fd = open(lp, O_RDONLY);
        if (fd < 0 || flock(fd, LOCK_EX) != 0)
            _exit(1);
        if (write(pipefd[1], "k", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(pipefd[1]);
    char c;
    assert_int_equal(read(pipefd[0], &c, 1), 1);
    close(pipefd[0]);
    seen s = {0};
    janitor_report rep;
    int rc = run(&f, JANITOR_ALL, 0, &s, &rep);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_int_equal(rc, 0);
    assert_true(tl_exists(lp));
    assert_false(has_entry(&s, lp));
    assert_int_equal(rep.kept_changed, 1);
    assert_false(tl_exists(P(&f, "groups/g1/logs/l-old.log")));
    seen_free(&s);
    fx_free(&f);
}

/* ---- tree snapshots ---------------------------------------------------- */

static char *snap_buf;
static size_t snap_len, snap_cap;
static size_t snap_root;
static int snap_one(const char *p, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)flag;
    (void)ftw;
    size_t pl = strlen(p);
    if (pl > 4 && !strcmp(p + pl - 4, "-shm"))
        return 0;
    char line[PATH_MAX + 128];
    int n = snprintf(line, sizeof line, "%s %o %lld %lld.%09ld\n",
                     p + snap_root, (unsigned)st->st_mode,
                     (long long)st->st_size, (long long)st->st_mtim.tv_sec,
                     st->st_mtim.tv_nsec);
    if (snap_len + (size_t)n + 1 > snap_cap) {
        snap_cap = (snap_cap + (size_t)n + 1) * 2;
        snap_buf = realloc(snap_buf, snap_cap);
        assert_non_null(snap_buf);
    }
    memcpy(snap_buf + snap_len, line, (size_t)n + 1);
    snap_len += (size_t)n;
    return 0;
}

static char *snapshot(const char *root)
{
    snap_buf = NULL;
    snap_len = snap_cap = 0;
    snap_root = strlen(root);
    assert_int_equal(nftw(root, snap_one, 16, FTW_PHYS), 0);
    return snap_buf ? snap_buf : strdup("");
}

static void test_dry_run_changes_nothing(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    build_boundary_tree(&f);
    /* v2.db is WAL and, on a real host, always open by the host app, so
     * its -wal and -shm files exist; a reader (any reader) uses them. Hold
     * it open the same way, and leave SQLite's shared-memory index out of
     * the comparison: it is not data. */
    char v2[PATH_MAX];
    PJ(v2, "%s/v2.db", f.data);
    sqlite3 *host = NULL;
    assert_int_equal(sqlite3_open(v2, &host), SQLITE_OK);
    assert_int_equal(sqlite3_exec(host, "SELECT count(*) FROM sessions", NULL,
                                  NULL, NULL), SQLITE_OK);
    char *before = snapshot(f.tmp);
    seen s = {0};
    janitor_report rep;
    assert_int_equal(run(&f, JANITOR_ALL, 1, &s, &rep), 0);
    char *after = snapshot(f.tmp);
    if (strcmp(before, after) != 0) {
        /* show only the lines that differ */
        for (char *l = strtok(before, "\n"); l; l = strtok(NULL, "\n"))
            if (!strstr(after, l))
                print_message("# before only: %s\n", l);
        fail_msg("the dry run changed the tree");
    }
    /* it listed what a real run removes: same entries, same sizes */
    assert_int_equal(rep.errors, 0);
    assert_int_equal(rep.total_entries, 13);
    assert_true(has_entry(&s, P(&f, "data/v2-sessions/ag/sess-orphan-old")));
    assert_int_equal(rep.bytes[JT_INBOX], 300);
    janitor_report real;
    seen s2 = {0};
    assert_int_equal(run(&f, JANITOR_ALL, 0, &s2, &real), 0);
    assert_int_equal(real.total_entries, rep.total_entries);
    for (int t = 0; t < JT_COUNT; t++)
        if (t != JT_ORPHAN_SESSIONS) /* an orphan's dbs may differ */
            assert_int_equal(real.bytes[t], rep.bytes[t]);
    sqlite3_close(host);
    free(before);
    free(after);
    seen_free(&s);
    seen_free(&s2);
    fx_free(&f);
}

/* ---- orphan archive ------------------------------------------------------ */

typedef struct {
    char name[256];
    char data[256];
    int type;
} arc_item;

static void test_orphan_archived(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    build_boundary_tree(&f);
    const char *base = "data/v2-sessions/ag/sess-orphan-old";
    tl_put_file(P(&f, "data/v2-sessions/ag/sess-orphan-old/.heartbeat"), 0, 0);
    tl_put_file(P(&f, "data/v2-sessions/ag/sess-orphan-old/outbox/o1/reply.txt"), 11,
        0);
    tl_put_file(P(&f, "data/v2-sessions/ag/sess-orphan-old/inbox/i1/deep/x.bin"), 70,
        0);
    assert_int_equal(symlink("inbox/i1",
                             P(&f, "data/v2-sessions/ag/sess-orphan-old/"
                                   "ln")), 0);
    age_tree(P(&f, base), gone_at(&f, f.cfg.cleanup.orphan_sessions));
    /* a session with a row, as old, is not an orphan; nor .claude-shared */
    char live[PATH_MAX];
    tl_add_session(f.data, "ag", "sess-closed", "closed", 0, live);
    age_tree(live, f.now - 365 * DAY);
    tl_put_file(P(&f, "data/v2-sessions/ag/.claude-shared/inbound.db"), 10,
        f.now - 365 * DAY);

    seen s = {0};
    janitor_report rep;
    assert_int_equal(run(&f, 1u << JT_ORPHAN_SESSIONS, 0, &s, &rep), 0);
    assert_int_equal(rep.errors, 0);
    assert_int_equal(s.n, 1);
    assert_false(tl_exists(P(&f, base)));
    assert_true(tl_exists(live));
    assert_true(tl_exists(P(&f, "data/v2-sessions/ag/.claude-shared/"
                                "inbound.db")));
    assert_non_null(s.archive[0]);
    char prefix[PATH_MAX];
    PJ(prefix, "%s/clawsweep/archive/ag/sess-orphan-old-",
             f.data);
    assert_memory_equal(s.archive[0], prefix, strlen(prefix));
    assert_non_null(strstr(s.archive[0], "Z.tar.gz"));

    /* open it and compare with what was there */
    struct archive *a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_filename(a, s.archive[0], 4096),
                     ARCHIVE_OK);
    struct archive_entry *ae;
    int found = 0;
    while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(ae);
        char buf[256] = "";
        ssize_t n = archive_read_data(a, buf, sizeof buf - 1);
        if (!strcmp(name, "sess-orphan-old/outbox/o1/reply.txt")) {
            assert_int_equal(n, 11);
            assert_string_equal(buf, "abcdefghijk");
            found |= 1;
        } else if (!strcmp(name, "sess-orphan-old/inbox/i1/deep/x.bin")) {
            assert_int_equal(n, 70);
            assert_int_equal(archive_entry_mtime(ae),
                             gone_at(&f, f.cfg.cleanup.orphan_sessions) /
                                 1000);
            found |= 2;
        } else if (!strcmp(name, "sess-orphan-old/inbound.db")) {
            assert_true(archive_entry_size(ae) > 0);
            found |= 4;
        } else if (!strcmp(name, "sess-orphan-old/ln")) {
            assert_int_equal(archive_entry_filetype(ae), AE_IFLNK);
            assert_string_equal(archive_entry_symlink(ae), "inbox/i1");
            found |= 8;
        } else if (!strcmp(name, "sess-orphan-old/.heartbeat")) {
            found |= 16;
        } else if (!strcmp(name, "sess-orphan-old") ||
                   !strcmp(name, "sess-orphan-old/")) {
            assert_int_equal(archive_entry_filetype(ae), AE_IFDIR);
            found |= 32;
        }
    }
    archive_read_free(a);
    assert_int_equal(found, 63);
    /* no temp file left beside it */
    char adir[PATH_MAX];
    PJ(adir, "%s/clawsweep/archive/ag", f.data);
    DIR *dh = opendir(adir);
    assert_non_null(dh);
    int files = 0;
    struct dirent *de;
    while ((de = readdir(dh)))
        if (de->d_name[0] != '.' || strstr(de->d_name, ".tmp"))
            files++;
    closedir(dh);
    assert_int_equal(files, 1);
    seen_free(&s);
    fx_free(&f);
}

/* Two passes never overlap. */
static void test_cleanup_lock(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    build_boundary_tree(&f);
    char lock[PATH_MAX];
    PJ(lock, "%s/clawsweep/cleanup.lock", f.data);
    int fd = open(lock, O_RDWR | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    seen s = {0};
    janitor_report rep;
    assert_int_equal(run(&f, JANITOR_ALL, 0, &s, &rep), JANITOR_BUSY);
    assert_true(tl_exists(P(&f, "groups/g1/logs/l-old.log")));
    /* a dry run needs no lock */
    assert_int_equal(run(&f, JANITOR_ALL, 1, &s, &rep), 0);
    assert_true(rep.total_entries > 0);
    close(fd);
    seen_free(&s);
    assert_int_equal(run(&f, JANITOR_ALL, 0, &s, &rep), 0);
    assert_false(tl_exists(P(&f, "groups/g1/logs/l-old.log")));
    seen_free(&s);
    fx_free(&f);
}

/* ---- mount points ---------------------------------------------------------- */

static void child_exit(fx *f, int code)
{
    free(f->tmp); /* the parent removes the tree */
    _exit(code);
}

static void test_mount_not_crossed(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    build_boundary_tree(&f);
    assert_int_equal(mkdir_p(P(&f, "groups/g1/logs/mnt")), 0);
    assert_int_equal(mkdir_p(P(&f, "groups/g1/logs/bind")), 0);
    assert_int_equal(mkdir_p(P(&f, "data/sessions/main/.claude/debug/mnt")),
                     0);
    tl_put_file(P(&f, "elsewhere/old.log"), 5, f.now - 400 * DAY);

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* exit 77: cannot set up; 0: ok; 1..: which check failed */
        if (unshare(CLONE_NEWNS) != 0)
            child_exit(&f, 77);
        if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
            child_exit(&f, 77);
        const char *mnts[] = {"groups/g1/logs/mnt",
                              "data/sessions/main/.claude/debug/mnt"};
        for (int i = 0; i < 2; i++)
            if (mount("none", P(&f, mnts[i]), "tmpfs", 0, NULL) != 0)
                child_exit(&f, 77);
        if (mount(P(&f, "elsewhere"), P(&f, "groups/g1/logs/bind"), "none",
                  MS_BIND, NULL) != 0)
            child_exit(&f, 77);
        for (int i = 0; i < 2; i++) {
            char p[PATH_MAX];
            PJ(p, "%s/old.log", P(&f, mnts[i]));
            FILE *fp = fopen(p, "w");
            if (!fp)
                child_exit(&f, 77);
            fputs("x", fp);
            fclose(fp);
            tl_set_mtime(p, f.now - 400 * DAY);
        }
        seen s = {0};
        janitor_report rep;
        janitor_opts o = {.types = JANITOR_ALL, .now_ms = f.now,
                          .on_entry = on_entry, .ctx = &s};
        if (janitor_run(&f.cfg, &o, &rep) != 0)
            child_exit(&f, 1);
        if (!tl_exists(P(&f, "groups/g1/logs/mnt/old.log")))
            child_exit(&f, 2);
        if (!tl_exists(P(&f, "data/sessions/main/.claude/debug/mnt/old.log")))
            child_exit(&f, 3);
        if (!tl_exists(P(&f, "groups/g1/logs/bind/old.log")))
            child_exit(&f, 4);
        if (tl_exists(P(&f, "groups/g1/logs/l-old.log")))
            child_exit(&f, 5); /* the rest of the pass still ran */
        seen_free(&s);
        child_exit(&f, 0);
    }
    int st = 0;
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) == 77) {
        fx_free(&f);
        print_message("# mount namespace or tmpfs mount not permitted here "
                      "(unshare(CLONE_NEWNS)/mount failed): skipping\n");
        skip();
    }
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true(tl_exists(P(&f, "elsewhere/old.log")));
    fx_free(&f);
}

int main(void)
{
    log_setup(getenv("CLEANUP_TEST_LOG") ? LOG_DEBUG : LOG_ERROR + 1, LOG_TEXT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_only_types),
        cmocka_unit_test(test_active_transcripts),
        cmocka_unit_test(test_unreadable_active_sets),
        cmocka_unit_test(test_unreadable_inbound),
        cmocka_unit_test(test_unreadable_central_db),
        cmocka_unit_test(test_symlinks),
        cmocka_unit_test(test_changed_after_selection),
        cmocka_unit_test(test_folder_changed_after_selection),
        cmocka_unit_test(test_flock_kept),
        cmocka_unit_test(test_dry_run_changes_nothing),
        cmocka_unit_test(test_orphan_archived),
        cmocka_unit_test(test_cleanup_lock),
        cmocka_unit_test(test_mount_not_crossed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
