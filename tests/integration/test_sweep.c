/*
 * Integration tests of one sweep tick (SPEC §2 steps 1-5) on real data
 * dirs: the real `clawsweep sweep` binary on real SQLite files, with the
 * real reference agent where an agent is started.
 */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
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
    char *data;
    char in[PATH_MAX], out[PATH_MAX], dir[PATH_MAX];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->data = tl_tmpdir("sweep");
    tl_datadir_init(f->data);
    tl_add_session(f->data, "ag-1", "sess-a", "active", 1, f->dir);
    tl_session_file(f->in, sizeof f->in, f->data, "ag-1", "sess-a", "inbound.db");
    tl_session_file(f->out, sizeof f->out, f->data, "ag-1", "sess-a", "outbound.db");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    /* stop any agent a test left running */
    char *argv[] = {(char *)tl_clawsweep_bin(), "-d", f->data, "-q", "orphans", NULL};
    char v2[PATH_MAX];
    snprintf(v2, sizeof v2, "%s/v2.db", f->data);
    tl_sql(v2, "UPDATE sessions SET status = 'closed'");
    tl_run(argv, NULL, NULL, NULL);
    tl_rm_rf(f->data);
    free(f->data);
    free(f);
    return 0;
}

static char agent_cmd[PATH_MAX + 64];

/* Run `clawsweep -d DATA sweep ARGS...` with extra env; returns status. */
static int sweep(fixture *f, char **out, char **err, const char *arg1,
                 const char *const *env_extra)
{
    snprintf(agent_cmd, sizeof agent_cmd, "CLAWSWEEP_RUNTIME_AGENT=%s --idle 0.5 --poll-ms 50",
             tl_agent_bin());
    char *env[16];
    int k = 0;
    env[k++] = agent_cmd;
    for (int i = 0; env_extra && env_extra[i] && k < 14; i++)
        env[k++] = (char *)env_extra[i];
    env[k] = NULL;
    char *argv[] = {(char *)tl_clawsweep_bin(), "-d", f->data, "sweep",
                    (char *)arg1, NULL};
    return tl_run(argv, env, out, err);
}

static void ack_sync_completes_pending_and_failed(void **state)
{
    fixture *f = *state;
    const char *future = "2099-01-01T00:00:00.000Z";
    tl_add_message(f->in, "m-done", "chat", future, 0);
    tl_add_message(f->in, "m-failed", "chat", future, 2);
    tl_add_message(f->in, "m-paused", "chat", future, 0);
    tl_sql(f->in, "UPDATE messages_in SET status = 'failed' WHERE id = 'm-failed';"
                  "UPDATE messages_in SET status = 'paused' WHERE id = 'm-paused'");
    tl_add_ack(f->out, "m-done", "completed", "2026-01-01 00:00:00");
    tl_add_ack(f->out, "m-failed", "failed", "2026-01-01 00:00:00");
    tl_add_ack(f->out, "m-paused", "completed", "2026-01-01 00:00:00");
    char *out = NULL;
    assert_int_equal(sweep(f, &out, NULL, NULL, NULL), 0);
    char *s = tl_text(f->in, "SELECT status FROM messages_in WHERE id = 'm-done'");
    assert_string_equal(s, "completed");
    free(s);
    s = tl_text(f->in, "SELECT status FROM messages_in WHERE id = 'm-failed'");
    assert_string_equal(s, "completed");
    free(s);
    s = tl_text(f->in, "SELECT status FROM messages_in WHERE id = 'm-paused'");
    assert_string_equal(s, "paused");
    free(s);
    assert_non_null(strstr(out, "ack-sync"));
    free(out);
}

static void orphan_claims_reset_with_backoff(void **state)
{
    fixture *f = *state;
    tl_add_message(f->in, "m-1", "chat", NULL, 0);
    tl_add_message(f->in, "m-2", "chat", NULL, 3);
    tl_add_message(f->in, "m-5", "chat", NULL, 5);
    tl_add_message(f->in, "m-future", "chat", "2099-01-01T00:00:00.000Z", 1);
    tl_add_message(f->in, "m-done", "chat", NULL, 0);
    tl_sql(f->in, "UPDATE messages_in SET status = 'completed' WHERE id = 'm-done'");
    const char *old = "2026-01-01 00:00:00";
    tl_add_ack(f->out, "m-1", "processing", old);
    tl_add_ack(f->out, "m-2", "processing", old);
    tl_add_ack(f->out, "m-5", "processing", old);
    tl_add_ack(f->out, "m-future", "processing", old);
    tl_add_ack(f->out, "m-done", "processing", old);
    tl_add_ack(f->out, "ghost", "processing", old);
    tl_sql(f->out, "INSERT INTO container_state VALUES (1, 'Bash', 5000, "
                   "'2026-01-01 00:00:00', '2026-01-01 00:00:00')");
    int64_t before = tl_now_ms();
    char *out = NULL;
    assert_int_equal(sweep(f, &out, NULL, "--json", NULL), 0);
    int64_t after = tl_now_ms();

    assert_int_equal(tl_int(f->in, "SELECT tries FROM messages_in WHERE id='m-1'"), 1);
    assert_int_equal(tl_int(f->in, "SELECT tries FROM messages_in WHERE id='m-2'"), 4);
    char *pa = tl_text(f->in, "SELECT process_after FROM messages_in WHERE id='m-1'");
    int64_t ms = 0;
    /* backoff(0) = 5 s; backoff(3) = 40 s */
    assert_non_null(pa);
    assert_int_equal(strlen(pa), 24); /* YYYY-MM-DDTHH:MM:SS.sssZ */
    char *iso = pa;
    {
        struct tm tm = {0};
        int msec = 0;
        sscanf(iso, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &msec);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        ms = (int64_t)timegm(&tm) * 1000 + msec;
    }
    assert_true(ms >= before + 5000 && ms <= after + 5000);
    free(pa);
    char *st = tl_text(f->in, "SELECT status FROM messages_in WHERE id='m-5'");
    assert_string_equal(st, "failed");
    free(st);
    assert_int_equal(tl_int(f->in, "SELECT tries FROM messages_in WHERE id='m-future'"), 1);
    /* every processing claim is gone, container_state cleared */
    assert_int_equal(tl_int(f->out, "SELECT count(*) FROM processing_ack"), 0);
    assert_int_equal(tl_int(f->out, "SELECT count(*) FROM container_state"), 0);
    assert_non_null(strstr(out, "\"action\":\t\"dead-letter\""));
    free(out);
    /* the journal records the dead letter and `failed` shows why */
    char *argv[] = {(char *)tl_clawsweep_bin(), "-d", f->data, "failed", NULL};
    assert_int_equal(tl_run(argv, NULL, &out, NULL), 0);
    assert_non_null(strstr(out, "m-5"));
    assert_non_null(strstr(out, "dead-letter"));
    free(out);
}

static void dry_run_changes_no_byte(void **state)
{
    fixture *f = *state;
    tl_add_message(f->in, "m-1", "chat", NULL, 0);
    tl_add_message(f->in, "m-5", "chat", NULL, 5);
    tl_add_ack(f->out, "m-1", "processing", "2026-01-01 00:00:00");
    tl_add_ack(f->out, "m-5", "processing", "2026-01-01 00:00:00");
    tl_sql(f->in, "UPDATE messages_in SET recurrence = '0 9 * * *', status = "
                  "'completed' WHERE id = 'm-1'");
    char *list_before = NULL, *list_after = NULL;
    /* v2.db is the host's WAL database: any reader, the host's own included,
     * creates its -wal/-shm companions. Everything else must stay as is. */
    char *ls[] = {"/usr/bin/find", f->data, "-mindepth", "1", "(", "-name", "v2.db-*", "-prune", ")",
                  "-o", "-printf", "%p %s %T@ %m\n", NULL};
    tl_run(ls, NULL, &list_before, NULL);
    char *sum[] = {"/usr/bin/sh", "-c", "cd \"$0\" && find . -type f ! -name 'v2.db-*' -print0 | sort -z | xargs -0 sha256sum", f->data, NULL};
    char *sums_before = NULL, *sums_after = NULL;
    tl_run(sum, NULL, &sums_before, NULL);
    char *out = NULL;
    assert_int_equal(sweep(f, &out, NULL, "--dry-run", NULL), 0);
    tl_run(ls, NULL, &list_after, NULL);
    tl_run(sum, NULL, &sums_after, NULL);
    assert_string_equal(list_before, list_after);
    assert_string_equal(sums_before, sums_after);
    assert_non_null(strstr(out, "would dead-letter"));
    assert_non_null(strstr(out, "would recur"));
    free(out);
    free(list_before);
    free(list_after);
    free(sums_before);
    free(sums_after);
}

static void legacy_inbound_is_migrated(void **state)
{
    fixture *f = *state;
    unlink(f->in);
    tl_sql(f->in, "CREATE TABLE messages_in (id TEXT PRIMARY KEY, seq INTEGER "
                  "UNIQUE, kind TEXT NOT NULL, timestamp TEXT NOT NULL, status "
                  "TEXT DEFAULT 'pending', process_after TEXT, recurrence TEXT, "
                  "tries INTEGER DEFAULT 0, platform_id TEXT, channel_type TEXT, "
                  "thread_id TEXT, content TEXT NOT NULL);"
                  "INSERT INTO messages_in (id, seq, kind, timestamp, status, "
                  "process_after, content) VALUES ('old-1', 2, 'chat', "
                  "'2026-01-01 00:00:00', 'completed', NULL, 'x')");
    char *err = NULL;
    assert_int_equal(sweep(f, NULL, &err, NULL, NULL), 0);
    free(err);
    char *sid = tl_text(f->in, "SELECT series_id FROM messages_in WHERE id='old-1'");
    assert_string_equal(sid, "old-1");
    free(sid);
    assert_int_equal(tl_int(f->in, "SELECT trigger FROM messages_in WHERE id='old-1'"), 1);
    assert_int_equal(tl_int(f->in, "SELECT on_wake FROM messages_in WHERE id='old-1'"), 0);
    assert_int_equal(tl_int(f->in, "SELECT count(*) FROM pragma_table_info('messages_in') "
                                   "WHERE name = 'source_session_id'"), 1);
    assert_int_equal(tl_int(f->in, "SELECT count(*) FROM sqlite_master WHERE name = "
                                   "'idx_messages_in_series'"), 1);
    char *jm = tl_text(f->in, "PRAGMA journal_mode");
    assert_string_equal(jm, "delete");
    free(jm);
}

static void missing_outbound_and_missing_tables(void **state)
{
    fixture *f = *state;
    unlink(f->out);
    tl_add_message(f->in, "m-1", "chat", "2099-01-01T00:00:00.000Z", 0);
    assert_int_equal(sweep(f, NULL, NULL, NULL, NULL), 0);
    /* an outbound.db without processing_ack/container_state is empty */
    tl_sql(f->out, "CREATE TABLE messages_out (id TEXT PRIMARY KEY, seq INTEGER, "
                   "timestamp TEXT NOT NULL, kind TEXT NOT NULL, content TEXT NOT NULL)");
    assert_int_equal(sweep(f, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(tl_int(f->in, "SELECT tries FROM messages_in"), 0);
}

static void bad_sessions_do_not_stop_the_tick(void **state)
{
    fixture *f = *state;
    char dir[PATH_MAX], p[PATH_MAX];
    /* a corrupt inbound.db */
    tl_add_session(f->data, "ag-1", "sess-corrupt", "active", 1, dir);
    snprintf(p, sizeof p, "%s/inbound.db", dir);
    FILE *fp = fopen(p, "w");
    fputs("this is not a database, just text that is long enough to look like a header\n", fp);
    fclose(fp);
    /* an inbound.db without messages_in */
    tl_add_session(f->data, "ag-1", "sess-notable", "active", 1, dir);
    snprintf(p, sizeof p, "%s/inbound.db", dir);
    unlink(p);
    tl_sql(p, "CREATE TABLE other (x)");
    /* an inbound.db that is a FIFO */
    tl_add_session(f->data, "ag-1", "sess-fifo", "active", 1, dir);
    snprintf(p, sizeof p, "%s/inbound.db", dir);
    unlink(p);
    mkfifo(p, 0644);
    /* closed session and missing agent group: skipped, untouched */
    tl_add_session(f->data, "ag-1", "sess-closed", "closed", 1, dir);
    char closed_in[PATH_MAX];
    snprintf(closed_in, sizeof closed_in, "%s/inbound.db", dir);
    tl_add_message(closed_in, "c-1", "chat", NULL, 0);
    tl_add_ack(strcat(dir, "/outbound.db"), "c-1", "processing", "2026-01-01 00:00:00");
    char v2[PATH_MAX];
    snprintf(v2, sizeof v2, "%s/v2.db", f->data);
    tl_sql(v2, "INSERT INTO sessions (id, agent_group_id, status, created_at) VALUES "
               "('sess-nogroup', 'ag-missing', 'active', '2026-01-01');"
               "INSERT INTO agent_groups VALUES ('ag;rm -rf', 'x', 'x2', NULL, '2026');"
               "INSERT INTO sessions (id, agent_group_id, status, created_at) VALUES "
               "('sess $(touch pwned)', 'ag;rm -rf', 'active', '2026-01-01')");
    /* the healthy session still gets its orphan claim reset */
    tl_add_message(f->in, "m-1", "chat", NULL, 0);
    tl_add_ack(f->out, "m-1", "processing", "2026-01-01 00:00:00");

    char *err = NULL;
    assert_int_equal(sweep(f, NULL, &err, NULL, NULL), 1);
    assert_int_equal(tl_int(f->in, "SELECT tries FROM messages_in WHERE id='m-1'"), 1);
    assert_non_null(strstr(err, "sess-corrupt"));
    assert_non_null(strstr(err, "not a database"));
    assert_non_null(strstr(err, "no table messages_in"));
    assert_non_null(strstr(err, "FIFO"));
    assert_non_null(strstr(err, "invalid id"));
    assert_null(strstr(err, "sess-closed"));
    assert_null(strstr(err, "sess-nogroup"));
    assert_int_equal(tl_int(closed_in, "SELECT tries FROM messages_in"), 0);
    assert_false(tl_exists("pwned"));
    free(err);
}

static void locked_db_is_skipped_after_busy_timeout(void **state)
{
    fixture *f = *state;
    char dir[PATH_MAX], locked_in[PATH_MAX];
    tl_add_session(f->data, "ag-1", "sess-locked", "active", 1, dir);
    snprintf(locked_in, sizeof locked_in, "%s/inbound.db", dir);
    tl_add_message(f->in, "m-1", "chat", NULL, 0);
    tl_add_ack(f->out, "m-1", "processing", "2026-01-01 00:00:00");
    /* another process holds an exclusive lock on sess-locked's inbound.db */
    pid_t pid = fork();
    if (pid == 0) {
        sqlite3 *db;
        sqlite3_open(locked_in, &db);
        sqlite3_exec(db, "BEGIN EXCLUSIVE; UPDATE messages_in SET tries = tries",
                     NULL, NULL, NULL);
        sleep(4);
        _exit(0);
    }
    usleep(300000);
    const char *env[] = {"CLAWSWEEP_SWEEP_BUSY_TIMEOUT=300ms", NULL};
    char *err = NULL;
    int64_t t0 = tl_now_ms();
    assert_int_equal(sweep(f, NULL, &err, NULL, env), 1);
    assert_true(tl_now_ms() - t0 < 3500);
    assert_non_null(strstr(err, "sess-locked"));
    assert_non_null(strstr(err, "locked"));
    assert_int_equal(tl_int(f->in, "SELECT tries FROM messages_in WHERE id='m-1'"), 1);
    free(err);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void second_sweeper_is_refused(void **state)
{
    fixture *f = *state;
    char lock[PATH_MAX], cdir[PATH_MAX];
    snprintf(cdir, sizeof cdir, "%s/clawsweep", f->data);
    mkdir(cdir, 0755);
    snprintf(lock, sizeof lock, "%s/lock", cdir);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"/usr/bin/flock", lock, "/bin/sleep", "3", NULL};
        execv(argv[0], argv);
        _exit(127);
    }
    usleep(300000);
    char *err = NULL;
    assert_int_equal(sweep(f, NULL, &err, NULL, NULL), 1);
    assert_non_null(strstr(err, "another clawsweep"));
    free(err);
    /* reading commands need no lock */
    char *argv[] = {(char *)tl_clawsweep_bin(), "-d", f->data, "status", NULL};
    assert_int_equal(tl_run(argv, NULL, NULL, NULL), 0);
    assert_int_equal(sweep(f, NULL, NULL, "--dry-run", NULL), 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int done_cond(void *arg)
{
    const char *out = arg;
    return tl_int(out, "SELECT count(*) FROM processing_ack WHERE status = 'completed'") > 0;
}

static void wake_oldest_due_first_within_max_concurrent(void **state)
{
    fixture *f = *state;
    char dir_b[PATH_MAX], in_b[PATH_MAX], out_b[PATH_MAX];
    tl_add_session(f->data, "ag-1", "sess-b", "active", 1, dir_b);
    snprintf(in_b, sizeof in_b, "%s/inbound.db", dir_b);
    snprintf(out_b, sizeof out_b, "%s/outbound.db", dir_b);
    /* sess-b's message has been due longer */
    tl_add_message(f->in, "a-1", "chat", "2026-03-01T00:00:00.000Z", 0);
    tl_add_message(in_b, "b-1", "chat", "2026-02-01T00:00:00.000Z", 0);
    /* context-only and system rows never wake */
    tl_add_message(f->in, "a-ctx", "chat", NULL, 0);
    tl_sql(f->in, "UPDATE messages_in SET trigger = 0 WHERE id = 'a-ctx'");
    const char *env[] = {"CLAWSWEEP_SWEEP_MAX_CONCURRENT=1", NULL};
    char *out = NULL;
    assert_int_equal(sweep(f, &out, NULL, NULL, env), 0);
    assert_non_null(strstr(out, "wake"));
    assert_non_null(strstr(out, "session=sess-b"));
    assert_null(strstr(out, "wake             session=sess-a"));
    free(out);
    char pidfile[PATH_MAX];
    snprintf(pidfile, sizeof pidfile, "%s/clawsweep/pids/sess-b.pid", f->data);
    assert_true(tl_exists(pidfile));
    char v2[PATH_MAX];
    snprintf(v2, sizeof v2, "%s/v2.db", f->data);
    char *cs = tl_text(v2, "SELECT container_status FROM sessions WHERE id='sess-b'");
    assert_string_equal(cs, "running");
    free(cs);
    /* the real agent answers; the next sweep syncs the ack */
    assert_true(tl_wait_for(done_cond, out_b, 10000));
    assert_int_equal(tl_int(out_b, "SELECT count(*) FROM messages_out WHERE in_reply_to = 'b-1' AND seq %% 2 = 1"), 1);
    int64_t t0 = tl_now_ms();
    while (tl_now_ms() - t0 < 5000 && sweep(f, NULL, NULL, NULL, env) == 0 &&
           tl_int(in_b, "SELECT count(*) FROM messages_in WHERE status = 'completed'") == 0)
        usleep(100000);
    char *st = tl_text(in_b, "SELECT status FROM messages_in WHERE id='b-1'");
    assert_string_equal(st, "completed");
    free(st);
}

static void recurrence_creates_exactly_one_follow_up(void **state)
{
    fixture *f = *state;
    tl_add_message(f->in, "task-1", "task", "2099-01-01T00:00:00.000Z", 0);
    tl_sql(f->in, "UPDATE messages_in SET status = 'completed', recurrence = "
                  "'0 9 * * *', platform_id = 'p1', channel_type = 'tg' WHERE id = 'task-1';");
    tl_add_message(f->in, "bad-1", "chat", NULL, 0);
    tl_sql(f->in, "UPDATE messages_in SET status = 'completed', recurrence = "
                  "'61 * * * *' WHERE id = 'bad-1';"
                  "INSERT INTO messages_in (id, seq, kind, timestamp, status, "
                  "recurrence, series_id, content) VALUES ('dead-1', 100, 'task', "
                  "'2026-01-01 00:00:00', 'failed', '* * * * *', 'dead-1', 'x')");
    const char *env[] = {"CLAWSWEEP_RECURRENCE_TIMEZONE=UTC", NULL};
    char *err = NULL;
    assert_int_equal(sweep(f, NULL, &err, NULL, env), 0);
    assert_int_equal(sweep(f, NULL, NULL, NULL, env), 0);
    assert_int_equal(tl_int(f->in, "SELECT count(*) FROM messages_in WHERE series_id = "
                                   "'task-1' AND status = 'pending'"), 1);
    char *id = tl_text(f->in, "SELECT id FROM messages_in WHERE series_id = 'task-1' "
                              "AND status = 'pending'");
    assert_non_null(id);
    assert_int_equal(strncmp(id, "task-", 5), 0);
    assert_int_equal(strlen(id), strlen("task-1234567890123-abcdef"));
    free(id);
    char *pa = tl_text(f->in, "SELECT process_after FROM messages_in WHERE series_id = "
                              "'task-1' AND status = 'pending'");
    assert_non_null(strstr(pa, "T09:00:00.000Z"));
    free(pa);
    assert_int_equal(tl_int(f->in, "SELECT seq %% 2 FROM messages_in WHERE series_id = "
                                   "'task-1' AND status = 'pending'"), 0);
    char *pid = tl_text(f->in, "SELECT platform_id FROM messages_in WHERE series_id = "
                               "'task-1' AND status = 'pending'");
    assert_string_equal(pid, "p1");
    free(pid);
    assert_int_equal(tl_int(f->in, "SELECT recurrence IS NULL FROM messages_in WHERE id = 'task-1'"), 1);
    /* a bad expression is retired, logged once with the expression */
    assert_int_equal(tl_int(f->in, "SELECT recurrence IS NULL FROM messages_in WHERE id = 'bad-1'"), 1);
    assert_non_null(strstr(err, "61 * * * *"));
    free(err);
    /* dead letters are never cloned */
    assert_int_equal(tl_int(f->in, "SELECT count(*) FROM messages_in WHERE series_id = 'dead-1'"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ack_sync_completes_pending_and_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(orphan_claims_reset_with_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(dry_run_changes_no_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(legacy_inbound_is_migrated, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_outbound_and_missing_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_sessions_do_not_stop_the_tick, setup, teardown),
        cmocka_unit_test_setup_teardown(locked_db_is_skipped_after_busy_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(second_sweeper_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(wake_oldest_due_first_within_max_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(recurrence_creates_exactly_one_follow_up, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
