/*
 * test_daemon.c - the real daemon (`clawsweep run`, the built binary) on a
 * real data dir, with the real reference agent through the `process`
 * runtime (SPEC §3).
 *
 * Each test builds a data dir (v2.db, session folders, clawsweep.conf),
 * starts the daemon in the background with its log in the test folder,
 * and watches the files it is meant to change. Timings are checked with
 * generous margins but always well below the safety interval (60 s by
 * default), so a pass proves the event-driven path, not the poll. The
 * teardown kills the daemon and every agent it left behind (agents
 * outlive the daemon by design), so a failed assertion leaks nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "timefmt.h"

extern char **environ;

typedef struct {
    char *data;
    char conf[PATH_MAX], log[PATH_MAX], central[PATH_MAX], state[PATH_MAX];
    char metrics[PATH_MAX];
    char inbound[PATH_MAX], outbound[PATH_MAX], heartbeat[PATH_MAX];
    pid_t pid;
} fixture;



static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->data = tl_tmpdir("daemon");
    tl_datadir_init(fx->data);
    snprintf(fx->conf, sizeof fx->conf, "%s/clawsweep.conf", fx->data);
    snprintf(fx->log, sizeof fx->log, "%s/daemon.log", fx->data);
    snprintf(fx->central, sizeof fx->central, "%s/v2.db", fx->data);
    snprintf(fx->state, sizeof fx->state, "%s/clawsweep/state.db", fx->data);
    snprintf(fx->metrics, sizeof fx->metrics, "%s/clawsweep/metrics.prom",
             fx->data);
    tl_add_session(fx->data, "ag-test", "sess-1", "active", 1, NULL);
    tl_session_file(fx->inbound, sizeof fx->inbound, fx->data, "ag-test",
                    "sess-1", "inbound.db");
    tl_session_file(fx->outbound, sizeof fx->outbound, fx->data, "ag-test",
                    "sess-1", "outbound.db");
    tl_session_file(fx->heartbeat, sizeof fx->heartbeat, fx->data, "ag-test",
                    "sess-1", ".heartbeat");
    *state = fx;
    return 0;
}

static void stop_daemon_hard(fixture *fx)
{
    if (fx->pid > 0) {
        kill(fx->pid, SIGKILL);
        waitpid(fx->pid, NULL, 0);
        fx->pid = 0;
    }
}

static int teardown(void **state)
{
    fixture *fx = *state;
    stop_daemon_hard(fx);
    tl_kill_agents(fx->data);
    if (getenv("TEST_DAEMON_KEEP"))
        fprintf(stderr, "# kept %s\n", fx->data);
    else
        tl_rm_rf(fx->data);
    free(fx->data);
    free(fx);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* clawsweep.conf with the agent command line and extra lines. */
static void write_conf(fixture *fx, const char *agent_args, const char *extra)
{
    char text[8192];
    snprintf(text, sizeof text,
             "[runtime]\nagent = %s %s\n%s\n", tl_agent_bin(),
             agent_args ? agent_args : "", extra ? extra : "");
    write_file(fx->conf, text);
}

/* Start `clawsweep -d DATA run` in the background, output appended to the
 * fixture's log. Returns the pid. */
static pid_t spawn_daemon(fixture *fx)
{
    char *argv[] = {(char *)tl_clawsweep_bin(), "-d", fx->data, "run", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, fx->log,
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(rc, 0);
    return pid;
}

static int metrics_exist(void *arg)
{
    return tl_exists(((fixture *)arg)->metrics);
}

/* Start the daemon and wait for its first tick (metrics written). */
static void start_daemon(fixture *fx)
{
    unlink(fx->metrics);
    fx->pid = spawn_daemon(fx);
    assert_true(tl_wait_for(metrics_exist, fx, 10000));
}

/* The exit status of pid within timeout_ms (128+signal), -1 if running. */
static int wait_exit(pid_t pid, int timeout_ms)
{
    int64_t until = tl_mono_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (tl_mono_ms() >= until)
            return -1;
        tl_sleep_ms(10);
    }
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static int log_has(const fixture *fx, const char *needle)
{
    char *text = read_all(fx->log);
    int found = text && strstr(text, needle) != NULL;
    free(text);
    return found;
}

static int count_in_log(const fixture *fx, const char *needle)
{
    char *text = read_all(fx->log);
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p++)
        n++;
    free(text);
    return n;
}

static int has_table(const char *db, const char *table)
{
    return tl_exists(db) &&
           tl_int(db, "SELECT count(*) FROM sqlite_master WHERE type = "
                      "'table' AND name = '%s'", table) == 1;
}

static int64_t replies(const fixture *fx, const char *id)
{
    if (!has_table(fx->outbound, "messages_out"))
        return 0;
    return tl_int(fx->outbound,
                  "SELECT count(*) FROM messages_out WHERE in_reply_to = '%s'",
                  id);
}

static int64_t events(const fixture *fx, const char *kind, const char *reason)
{
    if (!has_table(fx->state, "events"))
        return 0;
    if (reason)
        return tl_int(fx->state,
                      "SELECT count(*) FROM events WHERE kind = '%s' AND "
                      "reason = '%s'", kind, reason);
    return tl_int(fx->state, "SELECT count(*) FROM events WHERE kind = '%s'",
                  kind);
}

static int claimed(void *arg)
{
    fixture *fx = arg;
    return has_table(fx->outbound, "processing_ack") &&
           tl_int(fx->outbound, "SELECT count(*) FROM processing_ack WHERE "
                                "message_id = 'm1' AND status = "
                                "'processing'") == 1;
}

static int m1_done(void *arg)
{
    fixture *fx = arg;
    char *st = tl_text(fx->inbound,
                       "SELECT status FROM messages_in WHERE id = 'm1'");
    int done = st && !strcmp(st, "completed") && replies(fx, "m1") >= 1;
    free(st);
    return done;
}

static int agent_pid(const fixture *fx)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/clawsweep/pids/sess-1.pid", fx->data);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    int pid = 0;
    if (fscanf(f, "%d", &pid) != 1)
        pid = 0;
    fclose(f);
    return pid;
}


/* ---- (1) recovery: daemon killed mid-message ------------------------- */

static void test_recovery_after_sigkill(void **state)
{
    fixture *fx = *state;
    write_conf(fx, "--work-ms 3000 --idle 2", NULL);
    tl_add_message(fx->inbound, "m1", "chat", NULL, 0);
    start_daemon(fx);
    assert_true(tl_wait_for(claimed, fx, 10000));
    assert_false(m1_done(fx));

    kill(fx->pid, SIGKILL);
    waitpid(fx->pid, NULL, 0);
    fx->pid = spawn_daemon(fx);
    int64_t t0 = tl_mono_ms();
    assert_true(tl_wait_for(m1_done, fx, 10000));
    assert_true(tl_mono_ms() - t0 <= 10000);
    /* one reply: the restarted daemon did not start a second agent on it */
    assert_int_equal(replies(fx, "m1"), 1);
    assert_int_equal(tl_int(fx->inbound, "SELECT tries FROM messages_in "
                                         "WHERE id = 'm1'"), 0);
}

/* ---- (2) a scheduled message is started when due, not at the interval */

static void test_due_message_started_on_time(void **state)
{
    fixture *fx = *state;
    write_conf(fx, "--idle 1", NULL); /* sweep.interval stays 60 s */
    start_daemon(fx);
    int64_t due_ms = tl_now_ms() + 2000;
    char when[40];
    timefmt_iso_ms(due_ms, when, sizeof when);
    tl_add_message(fx->inbound, "m1", "task", when, 0);
    assert_true(tl_wait_for(m1_done, fx, 8000));
    int64_t late = tl_now_ms() - due_ms;
    print_message("# reply %lld ms after due\n", (long long)late);
    assert_true(late <= 4000);
    assert_true(late >= 0);
}

/* ---- (3) an agent exit is noticed at once ---------------------------- */

static int marked_stopped(void *arg)
{
    fixture *fx = arg;
    char *st = tl_text(fx->central, "SELECT container_status FROM sessions "
                                    "WHERE id = 'sess-1'");
    int stopped = st && !strcmp(st, "stopped");
    free(st);
    return stopped;
}

static int marked_running(void *arg) { return !marked_stopped(arg); }

static void test_agent_exit_noticed(void **state)
{
    fixture *fx = *state;
    write_conf(fx, "--idle 1", NULL);
    tl_add_message(fx->inbound, "m1", "chat", NULL, 0);
    start_daemon(fx);
    assert_true(tl_wait_for(marked_running, fx, 5000));
    int pid = agent_pid(fx);
    assert_true(pid > 0);
    assert_true(tl_wait_for(m1_done, fx, 5000));
    /* the agent exits after 1 s idle; wait for that on our own */
    int64_t until = tl_mono_ms() + 6000;
    while (tl_pid_alive(pid) && tl_mono_ms() < until)
        tl_sleep_ms(10);
    assert_false(tl_pid_alive(pid));
    int64_t gone = tl_mono_ms();
    assert_true(tl_wait_for(marked_stopped, fx, 3000));
    print_message("# exit noticed after %lld ms\n",
                  (long long)(tl_mono_ms() - gone));
    assert_true(tl_mono_ms() - gone < 3000);
    assert_true(events(fx, "exit", NULL) >= 1);
}

/* ---- (4) SIGHUP: a bad config is refused, a good one applied --------- */

static void test_sighup_bad_config_kept(void **state)
{
    fixture *fx = *state;
    write_conf(fx, "--idle 1", NULL);
    start_daemon(fx);
    write_file(fx->conf, "[sweep]\ninterval = soon\n");
    kill(fx->pid, SIGHUP);
    int64_t until = tl_mono_ms() + 5000;
    while (!log_has(fx, "config reload failed") && tl_mono_ms() < until)
        tl_sleep_ms(20);
    assert_true(log_has(fx, "config reload failed"));
    assert_true(log_has(fx, "interval"));
    assert_int_equal(wait_exit(fx->pid, 300), -1); /* still running */

    /* the old config (the agent) still works */
    tl_add_message(fx->inbound, "m1", "chat", NULL, 0);
    assert_true(tl_wait_for(m1_done, fx, 8000));

    /* a good config is applied */
    write_conf(fx, "--idle 1", "[log]\nlevel = debug\n");
    kill(fx->pid, SIGHUP);
    until = tl_mono_ms() + 5000;
    while (!log_has(fx, "config reloaded") && tl_mono_ms() < until)
        tl_sleep_ms(20);
    assert_true(log_has(fx, "config reloaded"));
    kill(fx->pid, SIGTERM);
    assert_int_equal(wait_exit(fx->pid, 3000), 0);
    fx->pid = 0;
}

/* ---- (5) SIGTERM: exit 0 quickly, agents left running ---------------- */

static void test_sigterm_exits_fast(void **state)
{
    fixture *fx = *state;
    write_conf(fx, "--work-ms 5000 --idle 5", NULL);
    tl_add_message(fx->inbound, "m1", "chat", NULL, 0);
    start_daemon(fx);
    assert_true(tl_wait_for(claimed, fx, 10000));
    int pid = agent_pid(fx);
    assert_true(pid > 0);
    int64_t t0 = tl_mono_ms();
    kill(fx->pid, SIGTERM);
    int st = wait_exit(fx->pid, 2000);
    int64_t took = tl_mono_ms() - t0;
    fx->pid = 0;
    print_message("# SIGTERM exit after %lld ms\n", (long long)took);
    assert_int_equal(st, 0);
    assert_true(took < 2000);
    assert_true(tl_pid_alive(pid));
}

/* ---- (6) one daemon per data dir ------------------------------------- */

static void test_second_daemon_refused(void **state)
{
    fixture *fx = *state;
    write_conf(fx, "--idle 1", NULL);
    start_daemon(fx);
    char *argv[] = {(char *)tl_clawsweep_bin(), "-d", fx->data, "run", NULL};
    char *err = NULL;
    int st = tl_run(argv, NULL, NULL, &err);
    assert_int_equal(st, 1);
    assert_non_null(err);
    assert_non_null(strstr(err, "already"));
    free(err);
    assert_int_equal(wait_exit(fx->pid, 100), -1);
}

/* ---- (7) metrics parse as Prometheus text; a stop is journaled -------- */

static int is_name_start(int c) { return isalpha(c) || c == '_' || c == ':'; }
static int is_name_char(int c) { return isalnum(c) || c == '_' || c == ':'; }

/* Prometheus text exposition format 0.0.4, the parts a textfile uses:
 * "# HELP name text", "# TYPE name type", samples "name{l="v",...} value".
 * HELP/TYPE at most once per family and before its samples. Returns NULL
 * when the text is valid, else a description of the first problem. */
static const char *prom_check(char *text, int *nsamples)
{
    static char why[256];
    char typed[64][96];
    size_t ntyped = 0;
    char sampled[64][96];
    size_t nsampled = 0;
    *nsamples = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') {
            char kw[8], name[96], rest[256];
            int n = sscanf(line, "# %7s %95s %255[^\n]", kw, name, rest);
            if (n >= 1 && strcmp(kw, "HELP") && strcmp(kw, "TYPE"))
                continue; /* a plain comment */
            if (n < 3)
                return snprintf(why, sizeof why, "bad line: %s", line), why;
            if (!strcmp(kw, "TYPE")) {
                if (strcmp(rest, "counter") && strcmp(rest, "gauge") &&
                    strcmp(rest, "histogram") && strcmp(rest, "summary") &&
                    strcmp(rest, "untyped"))
                    return snprintf(why, sizeof why, "bad type: %s", line), why;
                for (size_t i = 0; i < ntyped; i++)
                    if (!strcmp(typed[i], name))
                        return snprintf(why, sizeof why, "TYPE twice: %s", name), why;
                for (size_t i = 0; i < nsampled; i++)
                    if (!strcmp(sampled[i], name))
                        return snprintf(why, sizeof why, "TYPE after samples: %s", name), why;
                if (ntyped < 64)
                    snprintf(typed[ntyped++], sizeof typed[0], "%s", name);
            }
            continue;
        }
        const char *p = line;
        char name[96];
        size_t nl = 0;
        if (!is_name_start((unsigned char)*p))
            return snprintf(why, sizeof why, "bad metric name: %s", line), why;
        while (is_name_char((unsigned char)*p) && nl < sizeof name - 1)
            name[nl++] = *p++;
        name[nl] = '\0';
        if (*p == '{') {
            p++;
            while (*p != '}') {
                if (!is_name_start((unsigned char)*p))
                    return snprintf(why, sizeof why, "bad label: %s", line), why;
                while (is_name_char((unsigned char)*p))
                    p++;
                if (p[0] != '=' || p[1] != '"')
                    return snprintf(why, sizeof why, "bad label: %s", line), why;
                p += 2;
                while (*p && *p != '"') {
                    if (*p == '\\' && p[1])
                        p++;
                    p++;
                }
                if (*p != '"')
                    return snprintf(why, sizeof why, "unterminated label: %s", line), why;
                p++;
                if (*p == ',')
                    p++;
                else if (*p != '}')
                    return snprintf(why, sizeof why, "bad label list: %s", line), why;
            }
            p++;
        }
        if (*p != ' ')
            return snprintf(why, sizeof why, "no value: %s", line), why;
        p++;
        char *end;
        if (!strcmp(p, "+Inf") || !strcmp(p, "-Inf") || !strcmp(p, "NaN"))
            end = (char *)p + strlen(p);
        else
            strtod(p, &end);
        if (end == p || (*end && *end != ' '))
            return snprintf(why, sizeof why, "bad value: %s", line), why;
        int known = 0;
        for (size_t i = 0; i < ntyped; i++)
            if (!strcmp(typed[i], name))
                known = 1;
        if (!known)
            return snprintf(why, sizeof why, "sample before TYPE: %s", name), why;
        if (nsampled < 64)
            snprintf(sampled[nsampled++], sizeof sampled[0], "%s", name);
        (*nsamples)++;
    }
    return NULL;
}

static int claim_stuck_stopped(void *arg)
{
    return events(arg, "stop", "claim-stuck") >= 1;
}

static void test_metrics_and_stop_journaled(void **state)
{
    fixture *fx = *state;
    write_conf(fx, "--hang-after-claim",
               "[sweep]\nclaim_tolerance = 1s\nstop_grace = 2s\n");
    tl_add_message(fx->inbound, "m1", "chat", NULL, 0);
    start_daemon(fx);
    assert_true(tl_wait_for(claim_stuck_stopped, fx, 15000));

    /* the metrics after that stop's tick */
    int64_t until = tl_mono_ms() + 3000;
    char *text = NULL;
    for (;;) {
        free(text);
        text = read_all(fx->metrics);
        assert_non_null(text);
        if (strstr(text, "clawsweep_stops_total{reason=\"claim-stuck\"} 1") ||
            tl_mono_ms() >= until)
            break;
        tl_sleep_ms(50);
    }
    assert_non_null(strstr(text, "clawsweep_stops_total{reason=\"claim-stuck\"} 1"));
    assert_non_null(strstr(text, "# HELP clawsweep_wakes_total "));
    assert_non_null(strstr(text, "# TYPE clawsweep_tick_duration_seconds gauge"));
    int n;
    const char *why = prom_check(text, &n);
    if (why)
        fail_msg("metrics.prom: %s", why);
    assert_true(n >= 20);
    free(text);

    /* the checker itself refuses broken text */
    char bad1[] = "clawsweep_x 1\n";
    assert_non_null(prom_check(bad1, &n));
    char bad2[] = "# TYPE a counter\na{l=\"v\" 1\n";
    assert_non_null(prom_check(bad2, &n));
    char bad3[] = "# TYPE a counter\na one\n";
    assert_non_null(prom_check(bad3, &n));

    /* the journal row says why */
    char *reason = tl_text(fx->state, "SELECT reason FROM events WHERE kind = "
                                      "'stop' ORDER BY id LIMIT 1");
    assert_string_equal(reason, "claim-stuck");
    free(reason);
    assert_true(tl_int(fx->state, "SELECT count(*) FROM events WHERE kind = "
                                  "'stop' AND session_id = 'sess-1' AND "
                                  "at_ms > 0") >= 1);
}

/* ---- (8) a heartbeat touch moves no deadline wrongly ----------------- */

static int64_t metric(const char *path, const char *sample)
{
    char *text = read_all(path);
    assert_non_null(text);
    char key[200];
    snprintf(key, sizeof key, "\n%s", sample); /* a sample, not its HELP */
    const char *p = strstr(text, key);
    int64_t v = -1;
    if (p)
        v = (int64_t)strtod(p + strlen(key), NULL);
    free(text);
    return v;
}

static void test_heartbeat_touch(void **state)
{
    fixture *fx = *state;
    write_conf(fx, "--idle 1", "[log]\nlevel = debug\n");
    /* a message due in 30 s: a deadline the touch must not move */
    char when[40];
    timefmt_iso_ms(tl_now_ms() + 30000, when, sizeof when);
    tl_add_message(fx->inbound, "m1", "task", when, 0);
    start_daemon(fx);
    tl_sleep_ms(400); /* let the first tick's own writes settle */
    int64_t next0 = metric(fx->metrics,
                           "clawsweep_next_deadline_timestamp_seconds ");
    int64_t ticks0 = metric(fx->metrics,
                            "clawsweep_ticks_total{kind=\"incremental\"} ");
    assert_true(next0 > 0);
    int did0 = count_in_log(fx, " did ");

    for (int i = 0; i < 5; i++) {
        tl_touch(fx->heartbeat);
        tl_sleep_ms(100);
    }
    tl_sleep_ms(800);
    int64_t ticks1 = metric(fx->metrics,
                            "clawsweep_ticks_total{kind=\"incremental\"} ");
    int64_t next1 = metric(fx->metrics,
                           "clawsweep_next_deadline_timestamp_seconds ");
    print_message("# incremental ticks %lld -> %lld\n", (long long)ticks0,
                  (long long)ticks1);
    assert_true(ticks1 - ticks0 <= 1);
    assert_int_equal(next1, next0);
    assert_int_equal(count_in_log(fx, " did "), did0);
    assert_int_equal(events(fx, "start", NULL), 0);
    assert_int_equal(events(fx, "stop", NULL), 0);
    assert_int_equal(agent_pid(fx), 0);

    /* while a real change to inbound.db does wake a tick at once */
    tl_sql(fx->inbound, "UPDATE messages_in SET content = '{\"text\":\"x\"}'");
    int64_t until = tl_mono_ms() + 2000;
    while (metric(fx->metrics, "clawsweep_ticks_total{kind=\"incremental\"} ") ==
               ticks1 &&
           tl_mono_ms() < until)
        tl_sleep_ms(20);
    assert_true(metric(fx->metrics,
                       "clawsweep_ticks_total{kind=\"incremental\"} ") > ticks1);
}

/* ---- observe mode: compute and report, change nothing ----------------- */

static void test_observe_mode(void **state)
{
    fixture *fx = *state;
    write_conf(fx, "--idle 1", "[sweep]\nmode = observe\n");
    tl_add_message(fx->inbound, "m1", "chat", NULL, 0);
    start_daemon(fx);
    tl_sleep_ms(500);
    assert_true(log_has(fx, "would do"));
    assert_true(log_has(fx, "action=wake"));
    assert_int_equal(agent_pid(fx), 0);
    char *st = tl_text(fx->inbound, "SELECT status FROM messages_in WHERE id "
                                    "= 'm1'");
    assert_string_equal(st, "pending");
    free(st);
    assert_true(metric(fx->metrics, "clawsweep_observe_mode ") == 1);
    kill(fx->pid, SIGTERM);
    assert_int_equal(wait_exit(fx->pid, 2000), 0);
    fx->pid = 0;
}

/* ---- a new session in v2.db is picked up without the interval --------- */

static int new_session_done(void *arg)
{
    fixture *fx = arg;
    char ib[PATH_MAX], ob[PATH_MAX];
    tl_session_file(ib, sizeof ib, fx->data, "ag-test", "sess-2", "inbound.db");
    tl_session_file(ob, sizeof ob, fx->data, "ag-test", "sess-2", "outbound.db");
    char *st = tl_text(ib, "SELECT status FROM messages_in WHERE id = 'n1'");
    int done = st && !strcmp(st, "completed");
    free(st);
    return done;
}

static void test_new_session_picked_up(void **state)
{
    fixture *fx = *state;
    write_conf(fx, "--idle 1", NULL);
    start_daemon(fx);
    /* the folder first (as the host does), then the row */
    char dir[PATH_MAX], ib[PATH_MAX];
    tl_session_file(dir, sizeof dir, fx->data, "ag-test", "sess-2", NULL);
    tl_add_session(fx->data, "ag-test", "sess-2", "active", 0, NULL);
    tl_session_file(ib, sizeof ib, fx->data, "ag-test", "sess-2", "inbound.db");
    tl_add_message(ib, "n1", "chat", NULL, 0);
    assert_true(tl_wait_for(new_session_done, fx, 8000));
}

/* ---- the cleanup pass runs inside the daemon, on its interval ----------
 * The first pass comes after min(5 min, cleanup.interval); 1m is the
 * smallest interval the config accepts, so this test waits a minute. */

static void test_cleanup_scheduled(void **state)
{
    fixture *fx = *state;
    write_conf(fx, "--idle 1", "[cleanup]\ninterval = 1m\n");
    /* an agent log old enough to go (agent_logs = 14 d) */
    char logs[PATH_MAX], old[PATH_MAX + 16];
    snprintf(logs, sizeof logs, "%s/clawsweep/logs", fx->data);
    snprintf(old, sizeof old, "%s/old.log", logs);
    char cs[PATH_MAX];
    snprintf(cs, sizeof cs, "%s/clawsweep", fx->data);
    mkdir(cs, 0750);
    mkdir(logs, 0750);
    write_file(old, "old\n");
    tl_set_mtime(old, tl_now_ms() - 30LL * 86400 * 1000);
    start_daemon(fx);
    tl_sleep_ms(55000);
    assert_false(log_has(fx, "cleanup pass started"));
    int64_t until = tl_mono_ms() + 15000;
    while (!log_has(fx, "cleanup pass finished") && tl_mono_ms() < until)
        tl_sleep_ms(50);
    assert_true(log_has(fx, "cleanup pass started"));
    assert_true(log_has(fx, "cleanup pass finished"));
    assert_false(tl_exists(old));
    kill(fx->pid, SIGTERM);
    assert_int_equal(wait_exit(fx->pid, 2000), 0);
    fx->pid = 0;
}

/* ---- systemd: READY, STATUS, WATCHDOG over an abstract NOTIFY_SOCKET --- */

static void test_sd_notify(void **state)
{
    fixture *fx = *state;
    write_conf(fx, "--idle 1", NULL);
    int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(sock >= 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    char name[64];
    snprintf(name, sizeof name, "@clawsweep-test-%d", (int)getpid());
    memcpy(sa.sun_path, name, strlen(name));
    sa.sun_path[0] = '\0';
    assert_int_equal(bind(sock, (struct sockaddr *)&sa,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
                                      strlen(name))),
                     0);
    setenv("NOTIFY_SOCKET", name, 1);
    setenv("WATCHDOG_USEC", "400000", 1); /* pings every 200 ms */
    fx->pid = spawn_daemon(fx);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");

    int ready = 0, status = 0, pings = 0;
    int64_t until = tl_mono_ms() + 3000;
    while (tl_mono_ms() < until && !(ready && status && pings >= 4)) {
        struct pollfd pf = {sock, POLLIN, 0};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        char buf[512];
        ssize_t n = recv(sock, buf, sizeof buf - 1, 0);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        ready |= strstr(buf, "READY=1") != NULL;
        if (strstr(buf, "STATUS=") && strstr(buf, "1 session(s)"))
            status = 1;
        pings += strstr(buf, "WATCHDOG=1") != NULL;
    }
    close(sock);
    assert_true(ready);
    assert_true(status);
    assert_true(pings >= 4); /* after the tick, then on the timer */
    kill(fx->pid, SIGTERM);
    assert_int_equal(wait_exit(fx->pid, 2000), 0);
    fx->pid = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recovery_after_sigkill, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_due_message_started_on_time,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_exit_noticed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sighup_bad_config_kept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_exits_fast, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_second_daemon_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_metrics_and_stop_journaled,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeat_touch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_observe_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_session_picked_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sd_notify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cleanup_scheduled, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
