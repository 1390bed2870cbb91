/*
 * test_agent.c - the real clawsweep-agent binary (SPEC §4.1) on real
 * session databases in a temp folder.
 *
 * Each test builds a session folder (inbound.db with the SPEC §1.2 schema,
 * optionally outbound.db), runs the agent with the SESSION_* environment
 * the runtimes give it, and reads back what it wrote. Blocking runs use
 * tl_run; the fault switches that never end on their own (--hang-after-
 * claim) and the signal tests spawn the agent in the background and stop
 * it themselves, and the teardown kills anything still running so a failed
 * assertion never leaks a process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "timefmt.h"

extern char **environ;

typedef struct {
    char *dir;
    char inbound[PATH_MAX], outbound[PATH_MAX], heartbeat[PATH_MAX];
    char log[PATH_MAX];
    char env_in[PATH_MAX + 32], env_out[PATH_MAX + 32], env_hb[PATH_MAX + 32];
    char *env[5];
    pid_t pid; /* a background agent, 0 when none */
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = tl_tmpdir("agent");
    snprintf(fx->inbound, sizeof fx->inbound, "%s/inbound.db", fx->dir);
    snprintf(fx->outbound, sizeof fx->outbound, "%s/outbound.db", fx->dir);
    snprintf(fx->heartbeat, sizeof fx->heartbeat, "%s/.heartbeat", fx->dir);
    snprintf(fx->log, sizeof fx->log, "%s/agent.log", fx->dir);
    snprintf(fx->env_in, sizeof fx->env_in, "SESSION_INBOUND_DB_PATH=%s",
             fx->inbound);
    snprintf(fx->env_out, sizeof fx->env_out, "SESSION_OUTBOUND_DB_PATH=%s",
             fx->outbound);
    snprintf(fx->env_hb, sizeof fx->env_hb, "SESSION_HEARTBEAT_PATH=%s",
             fx->heartbeat);
    fx->env[0] = fx->env_in;
    fx->env[1] = fx->env_out;
    fx->env[2] = fx->env_hb;
    fx->env[3] = "CLAWSWEEP_SESSION_ID=sess-test";
    fx->env[4] = NULL;
    tl_sql(fx->inbound, SCHEMA_INBOUND);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    if (fx->pid > 0) {
        kill(fx->pid, SIGKILL);
        waitpid(fx->pid, NULL, 0);
    }
    tl_rm_rf(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* Run the agent to completion with the given options (NULL-ended). */
static int run_agent(fixture *fx, char **err, ...)
{
    char *argv[16];
    int n = 0;
    argv[n++] = (char *)tl_agent_bin();
    va_list ap;
    va_start(ap, err);
    for (char *a; n < 15 && (a = va_arg(ap, char *)) != NULL;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return tl_run(argv, fx->env, NULL, err);
}

/* Start the agent in the background, output to agent.log. */
static void spawn_agent(fixture *fx, char *const args[])
{
    char *argv[16];
    int n = 0;
    argv[n++] = (char *)tl_agent_bin();
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;

    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    char **envp = calloc(n_env + 5, sizeof *envp);
    assert_non_null(envp);
    size_t k = 0;
    for (int i = 0; fx->env[i]; i++)
        envp[k++] = fx->env[i];
    for (size_t i = 0; i < n_env; i++)
        if (strncmp(environ[i], "SESSION_", 8) &&
            strncmp(environ[i], "CLAWSWEEP_SESSION_ID=", 21))
            envp[k++] = environ[i];

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, fx->log,
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&fx->pid, argv[0], &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    assert_int_equal(rc, 0);
}

/* Wait up to timeout_ms for the background agent; its exit status as
 * tl_run reports it (128+signal), or -1 when it is still running. */
static int wait_agent(fixture *fx, int timeout_ms)
{
    for (int waited = 0;; waited += 20) {
        int status;
        pid_t r = waitpid(fx->pid, &status, WNOHANG);
        if (r == fx->pid) {
            fx->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status)
                                     : 128 + WTERMSIG(status);
        }
        if (waited >= timeout_ms)
            return -1;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int has_table(const char *db, const char *table)
{
    return tl_exists(db) &&
           tl_int(db, "SELECT count(*) FROM sqlite_master WHERE type = "
                      "'table' AND name = '%s'", table) == 1;
}

/* processing_ack status of a message (malloc'd), NULL when none. */
static char *ack_status(fixture *fx, const char *id)
{
    if (!has_table(fx->outbound, "processing_ack"))
        return NULL;
    return tl_text(fx->outbound,
                   "SELECT status FROM processing_ack WHERE message_id = '%s'",
                   id);
}

static int ack_is(fixture *fx, const char *id, const char *want)
{
    char *s = ack_status(fx, id);
    int eq = s && !strcmp(s, want);
    free(s);
    return eq;
}

static int64_t replies_to(fixture *fx, const char *id)
{
    if (!has_table(fx->outbound, "messages_out"))
        return 0;
    return tl_int(fx->outbound,
                  "SELECT count(*) FROM messages_out WHERE in_reply_to = '%s'",
                  id);
}

static int64_t count_rows(const char *db, const char *table)
{
    if (!has_table(db, table))
        return 0;
    return tl_int(db, "SELECT count(*) FROM %s", table);
}



static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

/* --- a due message: claimed, answered, acked, heartbeat -------------- */

static void test_due_message_processed(void **state)
{
    fixture *fx = *state;
    char past[32];
    timefmt_iso_ms(tl_now_ms() - 1000, past, sizeof past);
    tl_add_message(fx->inbound, "m-now", "chat", NULL, 0);
    tl_add_message(fx->inbound, "m-past", "task", past, 2);
    tl_sql(fx->inbound, "UPDATE messages_in SET platform_id = 'tg:42', "
                        "channel_type = 'telegram', thread_id = 't7' "
                        "WHERE id = 'm-now'");
    char *before = slurp(fx->inbound);

    char *err = NULL;
    int rc = run_agent(fx, &err, "--idle", "0.3", "--poll-ms", "20", NULL);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(err, "event=claimed message=m-now"));
    assert_non_null(strstr(err, "session=sess-test"));
    free(err);

    for (int i = 0; i < 2; i++) {
        const char *id = i ? "m-past" : "m-now";
        assert_true(ack_is(fx, id, "completed"));
        assert_int_equal(replies_to(fx, id), 1);
        assert_int_equal(tl_int(fx->outbound, "SELECT seq %% 2 FROM "
                                "messages_out WHERE in_reply_to = '%s'", id),
                         1);
        char *content = tl_text(fx->outbound, "SELECT content FROM "
                                "messages_out WHERE in_reply_to = '%s'", id);
        char want[64];
        snprintf(want, sizeof want, "{\"text\":\"reply to %s\"}", id);
        assert_string_equal(content, want);
        free(content);
    }
    assert_int_equal(tl_int(fx->outbound, "SELECT count(DISTINCT seq) FROM "
                                          "messages_out"), 2);
    /* The reply is a chat message routed where the message came from. */
    assert_int_equal(tl_int(fx->outbound,
                            "SELECT count(*) FROM messages_out WHERE "
                            "in_reply_to = 'm-now' AND kind = 'chat' AND "
                            "platform_id = 'tg:42' AND channel_type = "
                            "'telegram' AND thread_id = 't7' AND timestamp "
                            "GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
                            " [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'"),
                     1);
    assert_true(tl_exists(fx->heartbeat));
    char *mode = tl_text(fx->outbound, "PRAGMA journal_mode");
    assert_non_null(mode);
    assert_string_equal(mode, "delete");
    free(mode);

    /* The agent never writes inbound.db: not a byte changed. */
    char *after = slurp(fx->inbound);
    assert_non_null(before);
    assert_non_null(after);
    assert_string_equal(before, after);
    assert_int_equal(tl_int(fx->inbound, "SELECT count(*) FROM messages_in "
                                         "WHERE status = 'pending'"), 2);
    free(before);
    free(after);
}

/* --- what is not due is not touched ----------------------------------- */

static void test_future_and_unparseable_not_processed(void **state)
{
    fixture *fx = *state;
    char future[32];
    timefmt_iso_ms(tl_now_ms() + 3600 * 1000, future, sizeof future);
    tl_add_message(fx->inbound, "m-future", "chat", future, 0);
    tl_add_message(fx->inbound, "m-garbage", "chat", "next tuesday", 0);

    char *err = NULL;
    assert_int_equal(
        run_agent(fx, &err, "--idle", "0.3", "--poll-ms", "20", NULL), 0);
    /* logged once, not on every poll */
    const char *w = strstr(err, "bad-process-after message=m-garbage");
    assert_non_null(w);
    assert_null(strstr(w + 1, "bad-process-after message=m-garbage"));
    free(err);

    assert_int_equal(count_rows(fx->outbound, "processing_ack"), 0);
    assert_int_equal(count_rows(fx->outbound, "messages_out"), 0);
}

static void test_trigger0_and_system_not_processed(void **state)
{
    fixture *fx = *state;
    tl_add_message(fx->inbound, "m-context", "chat", NULL, 0);
    tl_sql(fx->inbound,
           "UPDATE messages_in SET trigger = 0 WHERE id = 'm-context'");
    tl_add_message(fx->inbound, "m-system", "system", NULL, 0);
    tl_add_message(fx->inbound, "m-done", "chat", NULL, 0);
    tl_add_message(fx->inbound, "m-paused", "chat", NULL, 0);
    tl_sql(fx->inbound, "UPDATE messages_in SET status = 'completed' WHERE "
                        "id = 'm-done'; UPDATE messages_in SET status = "
                        "'paused' WHERE id = 'm-paused'");

    assert_int_equal(
        run_agent(fx, NULL, "--idle", "0.3", "--poll-ms", "20", NULL), 0);
    assert_int_equal(count_rows(fx->outbound, "processing_ack"), 0);
    assert_int_equal(count_rows(fx->outbound, "messages_out"), 0);
}

/* Due is decided to the millisecond with the zone honoured (SPEC §1.5),
 * and a message coming due while the agent runs is picked up. */
static void test_due_time_zone_and_polling(void **state)
{
    fixture *fx = *state;
    /* An hour ago in UTC, written as +02:00 wall time (an hour ahead of
     * now): due only if the zone is read. */
    int64_t t = tl_now_ms() - 3600 * 1000;
    char zoned[40], utc[32];
    timefmt_iso_ms(t + 2 * 3600 * 1000, utc, sizeof utc);
    snprintf(zoned, sizeof zoned, "%.23s+02:00", utc);
    tl_add_message(fx->inbound, "m-zoned", "chat", zoned, 0);

    int64_t due = tl_now_ms() + 1500;
    char soon[32], due_sql[32];
    timefmt_iso_ms(due, soon, sizeof soon);
    timefmt_sql(due, due_sql, sizeof due_sql);
    tl_add_message(fx->inbound, "m-soon", "chat", soon, 0);

    assert_int_equal(
        run_agent(fx, NULL, "--idle", "3", "--poll-ms", "20", NULL), 0);
    assert_true(ack_is(fx, "m-zoned", "completed"));
    assert_true(ack_is(fx, "m-soon", "completed"));
    /* claimed and acked no earlier than the second it came due */
    assert_int_equal(tl_int(fx->outbound, "SELECT status_changed >= '%s' FROM "
                            "processing_ack WHERE message_id = 'm-soon'",
                            due_sql),
                     1);
}

/* --- start-up cleanup and the ack table -------------------------------- */

static void test_stale_claims_deleted_at_start(void **state)
{
    fixture *fx = *state;
    tl_sql(fx->outbound, SCHEMA_OUTBOUND);
    tl_sql(fx->outbound,
           "INSERT INTO processing_ack VALUES "
           "('old-claim', 'processing', '2026-01-01 00:00:00'),"
           "('m-acked', 'completed', '2026-01-01 00:00:00'),"
           "('old-failed', 'failed', '2026-01-01 00:00:00')");
    /* Still pending in inbound (the sweep has not synced the ack yet):
     * must not be answered twice. */
    tl_add_message(fx->inbound, "m-acked", "chat", NULL, 0);

    char *err = NULL;
    assert_int_equal(
        run_agent(fx, &err, "--idle", "0.3", "--poll-ms", "20", NULL), 0);
    assert_non_null(strstr(err, "stale-claims-deleted count=1"));
    free(err);
    assert_null(ack_status(fx, "old-claim"));
    assert_true(ack_is(fx, "m-acked", "completed"));
    assert_true(ack_is(fx, "old-failed", "failed"));
    assert_int_equal(count_rows(fx->outbound, "messages_out"), 0);
}

static void test_odd_seq_above_existing(void **state)
{
    fixture *fx = *state;
    tl_sql(fx->outbound, SCHEMA_OUTBOUND);
    tl_sql(fx->outbound, "INSERT INTO messages_out (id, seq, timestamp, kind, "
                         "content) VALUES ('earlier', 7, '2026-01-01 "
                         "00:00:00', 'chat', '{}'), ('even-odd', 10, "
                         "'2026-01-01 00:00:00', 'chat', '{}')");
    tl_add_message(fx->inbound, "m-a", "chat", NULL, 0);
    tl_add_message(fx->inbound, "m-b", "chat", NULL, 0);

    assert_int_equal(
        run_agent(fx, NULL, "--idle", "0.3", "--poll-ms", "20", NULL), 0);
    assert_int_equal(tl_int(fx->outbound, "SELECT seq FROM messages_out "
                                          "WHERE in_reply_to = 'm-a'"), 11);
    assert_int_equal(tl_int(fx->outbound, "SELECT seq FROM messages_out "
                                          "WHERE in_reply_to = 'm-b'"), 13);
}

/* An old inbound.db without trigger (nor series_id, on_wake, ...). */
static void test_legacy_inbound(void **state)
{
    fixture *fx = *state;
    unlink(fx->inbound);
    tl_sql(fx->inbound,
           "CREATE TABLE messages_in (id TEXT PRIMARY KEY, seq INTEGER "
           "UNIQUE, kind TEXT NOT NULL, timestamp TEXT NOT NULL, status TEXT "
           "DEFAULT 'pending', process_after TEXT, content TEXT NOT NULL);"
           "INSERT INTO messages_in (id, seq, kind, timestamp, content) "
           "VALUES ('old-chat', 2, 'chat', '2026-01-01 00:00:00', '{}'),"
           "('old-system', 4, 'system', '2026-01-01 00:00:00', '{}');");

    assert_int_equal(
        run_agent(fx, NULL, "--idle", "0.3", "--poll-ms", "20", NULL), 0);
    assert_true(ack_is(fx, "old-chat", "completed"));
    assert_int_equal(replies_to(fx, "old-chat"), 1);
    assert_null(ack_status(fx, "old-system"));
}

/* --- fault switches ----------------------------------------------------- */

static int claimed_cond(void *arg)
{
    return ack_is(arg, "m-hang", "processing");
}

static void test_hang_after_claim(void **state)
{
    fixture *fx = *state;
    tl_add_message(fx->inbound, "m-hang", "chat", NULL, 0);
    char *args[] = {"--hang-after-claim", "--poll-ms", "20", "--idle", "0.2",
                    NULL};
    spawn_agent(fx, args);
    assert_true(tl_wait_for(claimed_cond, fx, 10000));
    /* Well past --idle, and past a heartbeat's one-second tick. */
    tl_sleep_ms(1500);
    assert_int_equal(wait_agent(fx, 0), -1); /* still there */
    assert_false(tl_exists(fx->heartbeat));
    assert_true(ack_is(fx, "m-hang", "processing"));
    assert_int_equal(count_rows(fx->outbound, "messages_out"), 0);

    /* It still dies on SIGTERM, promptly, and leaves its claim. */
    int64_t t0 = tl_mono_ms();
    kill(fx->pid, SIGTERM);
    int rc = wait_agent(fx, 2000);
    assert_int_equal(rc, 0);
    assert_true(tl_mono_ms() - t0 < 1000);
    assert_true(ack_is(fx, "m-hang", "processing"));
    assert_false(tl_exists(fx->heartbeat));
}

static void test_crash_after_claim(void **state)
{
    fixture *fx = *state;
    tl_add_message(fx->inbound, "m-crash", "chat", NULL, 0);
    int rc = run_agent(fx, NULL, "--crash-after-claim", "--poll-ms", "20",
                       NULL);
    assert_int_equal(rc, 128 + SIGKILL);
    assert_true(ack_is(fx, "m-crash", "processing"));
    assert_int_equal(count_rows(fx->outbound, "messages_out"), 0);
    /* A crash left no hot journal: the file opens and reads cleanly. */
    char journal[PATH_MAX + 16];
    snprintf(journal, sizeof journal, "%s-journal", fx->outbound);
    assert_false(tl_exists(journal));

    /* The next agent cleans the orphan claim and answers the message. */
    assert_int_equal(
        run_agent(fx, NULL, "--idle", "0.3", "--poll-ms", "20", NULL), 0);
    assert_true(ack_is(fx, "m-crash", "completed"));
    assert_int_equal(replies_to(fx, "m-crash"), 1);
}

static void test_no_heartbeat(void **state)
{
    fixture *fx = *state;
    tl_add_message(fx->inbound, "m-quiet", "chat", NULL, 0);
    assert_int_equal(run_agent(fx, NULL, "--no-heartbeat", "--work-ms",
                               "1200", "--idle", "0.2", "--poll-ms", "20",
                               NULL),
                     0);
    assert_true(ack_is(fx, "m-quiet", "completed"));
    assert_false(tl_exists(fx->heartbeat));
}

static int working_cond(void *arg)
{
    return ack_is(arg, "m-work", "processing");
}

static int done_cond(void *arg)
{
    return ack_is(arg, "m-work", "completed");
}

static void test_heartbeat_while_working(void **state)
{
    fixture *fx = *state;
    tl_add_message(fx->inbound, "m-work", "chat", NULL, 0);
    char *args[] = {"--work-ms", "3000", "--poll-ms", "20", "--idle", "0.2",
                    NULL};
    spawn_agent(fx, args);
    assert_true(tl_wait_for(working_cond, fx, 10000));
    assert_true(tl_exists(fx->heartbeat));
    /* Age it, then see the working agent touch it again. */
    int64_t old = tl_now_ms() - 3600 * 1000;
    tl_set_mtime(fx->heartbeat, old);
    tl_sleep_ms(1300);
    assert_true(ack_is(fx, "m-work", "processing")); /* still working */
    struct stat st;
    assert_int_equal(stat(fx->heartbeat, &st), 0);
    assert_true((int64_t)st.st_mtime * 1000 > tl_now_ms() - 5000);

    assert_true(tl_wait_for(done_cond, fx, 10000));
    assert_int_equal(wait_agent(fx, 5000), 0);
    assert_int_equal(replies_to(fx, "m-work"), 1);
}

static void test_sigterm_while_working(void **state)
{
    fixture *fx = *state;
    tl_add_message(fx->inbound, "m-work", "chat", NULL, 0);
    char *args[] = {"--work-ms", "20000", "--poll-ms", "20", NULL};
    spawn_agent(fx, args);
    assert_true(tl_wait_for(working_cond, fx, 10000));
    int64_t t0 = tl_mono_ms();
    kill(fx->pid, SIGTERM);
    assert_int_equal(wait_agent(fx, 2000), 0);
    assert_true(tl_mono_ms() - t0 < 1000);
    /* abandoned cleanly: no reply, the claim left for the sweep */
    assert_int_equal(count_rows(fx->outbound, "messages_out"), 0);
    assert_true(ack_is(fx, "m-work", "processing"));
}

static int heartbeat_cond(void *arg)
{
    return tl_exists(((fixture *)arg)->heartbeat);
}

static void test_sigterm_while_idle(void **state)
{
    fixture *fx = *state;
    char *args[] = {"--idle", "60", NULL};
    spawn_agent(fx, args);
    assert_true(tl_wait_for(heartbeat_cond, fx, 10000));
    tl_sleep_ms(300);
    int64_t t0 = tl_mono_ms();
    kill(fx->pid, SIGTERM);
    assert_int_equal(wait_agent(fx, 2000), 0);
    assert_true(tl_mono_ms() - t0 < 1000);
}

/* --- exit statuses ------------------------------------------------------ */

static void test_idle_exit(void **state)
{
    fixture *fx = *state;
    int64_t t0 = tl_mono_ms();
    assert_int_equal(run_agent(fx, NULL, "--idle", "1", NULL), 0);
    int64_t took = tl_mono_ms() - t0;
    assert_true(took >= 900);
    assert_true(took < 5000);
    /* It created outbound.db with the SPEC §1.3 schema, in DELETE mode. */
    assert_true(has_table(fx->outbound, "messages_out"));
    assert_true(has_table(fx->outbound, "processing_ack"));
    assert_true(has_table(fx->outbound, "session_state"));
    assert_true(has_table(fx->outbound, "container_state"));
    assert_true(tl_exists(fx->heartbeat));
}

static void test_missing_inbound_idles(void **state)
{
    fixture *fx = *state;
    unlink(fx->inbound);
    char *err = NULL;
    assert_int_equal(run_agent(fx, &err, "--idle", "0.2", "--poll-ms", "20",
                               NULL),
                     0);
    assert_non_null(strstr(err, "missing"));
    free(err);
    assert_false(tl_exists(fx->inbound)); /* never created by the agent */
}

static void write_garbage(const char *path)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 4096; i++)
        fputc("not a database\n"[i % 15], f);
    fclose(f);
}

static void test_corrupt_inbound(void **state)
{
    fixture *fx = *state;
    write_garbage(fx->inbound);
    char *err = NULL;
    assert_int_equal(run_agent(fx, &err, "--idle", "0.3", NULL), 1);
    assert_non_null(strstr(err, fx->inbound));
    assert_non_null(strstr(err, "error"));
    free(err);
}

static void test_corrupt_outbound(void **state)
{
    fixture *fx = *state;
    write_garbage(fx->outbound);
    char *err = NULL;
    assert_int_equal(run_agent(fx, &err, "--idle", "0.3", NULL), 1);
    assert_non_null(strstr(err, fx->outbound));
    free(err);
}

static void test_usage(void **state)
{
    fixture *fx = *state;
    char *err = NULL;
    assert_int_equal(run_agent(fx, &err, "--idle", "soon", NULL), 2);
    assert_non_null(strstr(err, "--idle"));
    free(err);
    assert_int_equal(run_agent(fx, NULL, "--bogus", NULL), 2);
    assert_int_equal(run_agent(fx, NULL, "--poll-ms", "0", NULL), 2);
    assert_int_equal(run_agent(fx, NULL, "--work-ms", NULL), 2);
    assert_int_equal(run_agent(fx, NULL, "stray", NULL), 2);
    assert_int_equal(run_agent(fx, NULL, "--help", NULL), 0);
    assert_false(tl_exists(fx->outbound)); /* bad usage touches nothing */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_due_message_processed),
        T(test_future_and_unparseable_not_processed),
        T(test_trigger0_and_system_not_processed),
        T(test_due_time_zone_and_polling),
        T(test_stale_claims_deleted_at_start),
        T(test_odd_seq_above_existing),
        T(test_legacy_inbound),
        T(test_hang_after_claim),
        T(test_crash_after_claim),
        T(test_no_heartbeat),
        T(test_heartbeat_while_working),
        T(test_sigterm_while_working),
        T(test_sigterm_while_idle),
        T(test_idle_exit),
        T(test_missing_inbound_idles),
        T(test_corrupt_inbound),
        T(test_corrupt_outbound),
        T(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
