/*
 * End to end: `clawsweep sweep` with the real reference agent on the
 * `process` runtime - processing, a hung agent stopped and its message
 * retried, a crashed agent's claim reset, dead letter after max_tries,
 * `failed` and `requeue`.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "testlib.h"

typedef struct {
    char *data;
    char in[PATH_MAX], out[PATH_MAX], v2[PATH_MAX], pidfile[PATH_MAX];
    char agent_env[PATH_MAX + 128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->data = tl_tmpdir("e2e");
    tl_datadir_init(f->data);
    tl_add_session(f->data, "ag-e2e", "sess-1", "active", 0, NULL);
    tl_session_file(f->in, sizeof f->in, f->data, "ag-e2e", "sess-1", "inbound.db");
    tl_session_file(f->out, sizeof f->out, f->data, "ag-e2e", "sess-1", "outbound.db");
    snprintf(f->v2, sizeof f->v2, "%s/v2.db", f->data);
    snprintf(f->pidfile, sizeof f->pidfile, "%s/clawsweep/pids/sess-1.pid", f->data);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tl_sql(f->v2, "UPDATE sessions SET status = 'closed'");
    char *argv[] = {(char *)tl_clawsweep_bin(), "-d", f->data, "-q", "orphans", NULL};
    char *env[] = {"CLAWSWEEP_SWEEP_STOP_GRACE=1s", NULL};
    tl_run(argv, env, NULL, NULL);
    tl_rm_rf(f->data);
    free(f->data);
    free(f);
    return 0;
}

static int sweep(fixture *f, const char *agent_args, char **out, char **err)
{
    snprintf(f->agent_env, sizeof f->agent_env, "CLAWSWEEP_RUNTIME_AGENT=%s %s",
             tl_agent_bin(), agent_args);
    char *env[] = {f->agent_env, "CLAWSWEEP_SWEEP_CLAIM_TOLERANCE=1s",
                   "CLAWSWEEP_SWEEP_STOP_GRACE=1s",
                   "CLAWSWEEP_SWEEP_BACKOFF_BASE=1ms",
                   "CLAWSWEEP_SWEEP_BACKOFF_MAX=10ms", NULL};
    char *argv[] = {(char *)tl_clawsweep_bin(), "-d", f->data, "sweep", NULL};
    return tl_run(argv, env, out, err);
}

static pid_t agent_pid(fixture *f)
{
    FILE *fp = fopen(f->pidfile, "r");
    if (!fp)
        return -1;
    long pid = -1;
    if (fscanf(fp, "%ld", &pid) != 1)
        pid = -1;
    fclose(fp);
    return (pid_t)pid;
}

static int claimed(void *arg)
{
    fixture *f = arg;
    return tl_exists(f->out) &&
           tl_int(f->out, "SELECT count(*) FROM sqlite_master WHERE name='processing_ack'") == 1 &&
           tl_int(f->out, "SELECT count(*) FROM processing_ack WHERE status='processing'") > 0;
}

static int completed_ack(void *arg)
{
    fixture *f = arg;
    return tl_exists(f->out) &&
           tl_int(f->out, "SELECT count(*) FROM sqlite_master WHERE name='processing_ack'") == 1 &&
           tl_int(f->out, "SELECT count(*) FROM processing_ack WHERE status='completed'") > 0;
}


static int agent_gone(void *arg)
{
    fixture *f = arg;
    pid_t pid = agent_pid(f);
    return pid <= 0 || !tl_pid_alive(pid);
}

static void due_message_processed_and_synced(void **state)
{
    fixture *f = *state;
    tl_add_message(f->in, "m-1", "chat", NULL, 0);
    assert_int_equal(sweep(f, "--idle 0.5 --poll-ms 50", NULL, NULL), 0);
    assert_true(agent_pid(f) > 0);
    assert_true(tl_wait_for(completed_ack, f, 10000));
    assert_int_equal(tl_int(f->out, "SELECT count(*) FROM messages_out WHERE in_reply_to='m-1'"), 1);
    assert_true(tl_wait_for(agent_gone, f, 5000));
    assert_int_equal(sweep(f, "--idle 0.5", NULL, NULL), 0);
    char *st = tl_text(f->in, "SELECT status FROM messages_in WHERE id='m-1'");
    assert_string_equal(st, "completed");
    free(st);
    char *cs = tl_text(f->v2, "SELECT container_status FROM sessions WHERE id='sess-1'");
    assert_string_equal(cs, "stopped");
    free(cs);
}

static void hung_agent_stopped_and_message_reset(void **state)
{
    fixture *f = *state;
    tl_add_message(f->in, "m-hang", "chat", NULL, 0);
    assert_int_equal(sweep(f, "--hang-after-claim --poll-ms 50", NULL, NULL), 0);
    pid_t pid = agent_pid(f);
    assert_true(pid > 0);
    assert_true(tl_wait_for(claimed, f, 10000));
    /* claim_tolerance is 1 s and status_changed has whole seconds */
    sleep(3);
    char *out = NULL;
    assert_int_equal(sweep(f, "--hang-after-claim --poll-ms 50", &out, NULL), 0);
    assert_non_null(strstr(out, "reason=claim-stuck"));
    free(out);
    assert_false(tl_pid_alive(pid)); /* the stop was confirmed: pid gone */
    assert_false(tl_exists(f->pidfile));
    assert_int_equal(tl_int(f->in, "SELECT tries FROM messages_in WHERE id='m-hang'"), 1);
    assert_int_equal(tl_int(f->out, "SELECT count(*) FROM processing_ack WHERE status='processing'"), 0);
    char state_db[PATH_MAX];
    snprintf(state_db, sizeof state_db, "%s/clawsweep/state.db", f->data);
    assert_int_equal(tl_int(state_db, "SELECT count(*) FROM events WHERE kind='stop' AND reason='claim-stuck'"), 1);
}

static void crashed_agent_claim_reset(void **state)
{
    fixture *f = *state;
    tl_add_message(f->in, "m-crash", "chat", NULL, 0);
    assert_int_equal(sweep(f, "--crash-after-claim --poll-ms 50", NULL, NULL), 0);
    assert_true(tl_wait_for(claimed, f, 10000));
    assert_true(tl_wait_for(agent_gone, f, 5000));
    assert_int_equal(sweep(f, "--crash-after-claim --poll-ms 50", NULL, NULL), 0);
    assert_int_equal(tl_int(f->in, "SELECT tries FROM messages_in WHERE id='m-crash'"), 1);
    char *st = tl_text(f->in, "SELECT status FROM messages_in WHERE id='m-crash'");
    assert_string_equal(st, "pending");
    free(st);
}

static void fifth_failure_dead_letters_then_requeue(void **state)
{
    fixture *f = *state;
    tl_add_message(f->in, "m-poison", "chat", NULL, 0);
    /* each round: a sweep starts an agent that crashes on the message; the
     * next sweep counts the try (backoff is 1-10 ms here) and restarts */
    for (int round = 0; round < 12; round++) {
        char *st = tl_text(f->in, "SELECT status FROM messages_in WHERE id='m-poison'");
        int failed = st && strcmp(st, "failed") == 0;
        free(st);
        if (failed)
            break;
        usleep(50000);
        sweep(f, "--crash-after-claim --poll-ms 20", NULL, NULL);
        tl_wait_for(agent_gone, f, 5000);
    }
    char *st = tl_text(f->in, "SELECT status FROM messages_in WHERE id='m-poison'");
    assert_string_equal(st, "failed");
    free(st);
    assert_int_equal(tl_int(f->in, "SELECT tries FROM messages_in WHERE id='m-poison'"), 5);

    char *out = NULL;
    char *failed_argv[] = {(char *)tl_clawsweep_bin(), "-d", f->data, "failed", "--json", NULL};
    assert_int_equal(tl_run(failed_argv, NULL, &out, NULL), 0);
    assert_non_null(strstr(out, "\"m-poison\""));
    assert_non_null(strstr(out, "max-tries"));
    free(out);

    char *rq[] = {(char *)tl_clawsweep_bin(), "-d", f->data, "requeue", "sess-1", "m-poison", NULL};
    assert_int_equal(tl_run(rq, NULL, NULL, NULL), 0);
    st = tl_text(f->in, "SELECT status || '/' || tries || '/' || COALESCE(process_after, 'null') "
                        "FROM messages_in WHERE id='m-poison'");
    assert_string_equal(st, "pending/0/null");
    free(st);
    /* a message that is not a dead letter cannot be requeued */
    assert_int_equal(tl_run(rq, NULL, NULL, NULL), 2);
    /* and now a healthy agent answers it */
    assert_int_equal(sweep(f, "--idle 0.5 --poll-ms 50", NULL, NULL), 0);
    assert_true(tl_wait_for(completed_ack, f, 10000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(due_message_processed_and_synced, setup, teardown),
        cmocka_unit_test_setup_teardown(hung_agent_stopped_and_message_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(crashed_agent_claim_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(fifth_failure_dead_letters_then_requeue, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
