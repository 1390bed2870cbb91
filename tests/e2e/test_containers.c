/*
 * test_containers.c - the docker and podman runtimes against a real
 * podman (issue 3), at the runtime interface: a container with the right
 * name and labels, the agent inside answering a due message through the
 * bind mount, stops confirmed, another install's containers never listed
 * nor touched, a missing or hanging CLI reported as "unknown", and the
 * docker kind through the docker CLI talking to `podman system service`.
 *
 * The image comes from scripts/agent-image.sh (the built clawsweep-agent
 * and its libraries; no registry). Podman here needs the runc runtime and
 * lowered ulimits: a containers.conf in the test dir (CONTAINERS_CONF) and
 * runtime.args give it both. Tests that need podman skip with a printed
 * reason when it cannot run a container; the missing/hanging CLI tests
 * need none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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
#include <unistd.h>

#include "config.h"
#include "runtime.h"
#include "sha1.h"
#include "testlib.h"
#include "util.h"

#define FMT(buf, ...) \
    assert_true(snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

#define IMAGE "localhost/clawsweep-agent:e2e"
#define ULIMITS "--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"

extern char **environ;

static tl_containers g;

typedef struct {
    char *data;
    char install[9];
    cs_config cfg;
    runtime *rt;
    char dir[PATH_MAX];
} fx;

static void first_line(char *s)
{
    char *nl = strchr(s, '\n');
    if (nl)
        *nl = '\0';
}

/* ---- the one-time setup: containers.conf, image, probes -------------- */

static int group_setup(void **state)
{
    (void)state;
    return tl_containers_setup(&g, "ctr", IMAGE);
}

static int group_teardown(void **state)
{
    (void)state;
    tl_containers_teardown(&g);
    return 0;
}


/* ---- per test ---------------------------------------------------------- */

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->data = tl_tmpdir("ctrdata");
    tl_datadir_init(f->data);
    tl_add_session(f->data, "ag-test", "sess-1", "active", 1, f->dir);
    char real[PATH_MAX], hex[41];
    if (!realpath(f->data, real))
        return -1;
    sha1_hex(real, strlen(real), hex);
    memcpy(f->install, hex, 8);
    config_defaults(&f->cfg);
    FMT(f->cfg.data_dir, "%s", f->data);
    f->cfg.runtime.kind = RT_PODMAN;
    f->cfg.sweep.stop_grace_ms = 2000;
    f->cfg.runtime.cli_timeout_ms = 30000;
    FMT(f->cfg.runtime.image, "%s", IMAGE);
    FMT(f->cfg.runtime.args, "%s", ULIMITS);
    FMT(f->cfg.runtime.agent, "clawsweep-agent --idle 120 --poll-ms 100");
    *state = f;
    return 0;
}

/* Remove every container of this test's install, whatever happened. */
static void remove_install(const char *cli, const char *install)
{
    char filter[64], *out = NULL;
    snprintf(filter, sizeof filter, "label=clawsweep.install=%s", install);
    if (tl_run_words(&out, cli, "ps", "-aq", "--filter", filter, NULL) == 0) {
        char *save = NULL;
        for (char *id = strtok_r(out, "\n", &save); id;
             id = strtok_r(NULL, "\n", &save)) {
            char *o2 = NULL;
            tl_run_words(&o2, cli, "rm", "-f", "-t", "0", id, NULL);
            free(o2);
        }
    }
    free(out);
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f->rt)
        runtime_close(f->rt);
    if (g.podman[0])
        remove_install("podman", f->install);
    tl_rm_rf(f->data);
    free(f->data);
    free(f);
    return 0;
}

static void open_rt(fx *f)
{
    char err[512] = "";
    if (f->rt)
        runtime_close(f->rt);
    f->rt = NULL;
    if (runtime_open(&f->cfg, &f->rt, err, sizeof err) != 0)
        fail_msg("runtime_open: %s", err);
}

static int list_has(fx *f, const char *sid)
{
    strset s = {0};
    assert_int_equal(runtime_list(f->rt, &s), 0);
    int has = strset_has(&s, sid);
    strset_free(&s);
    return has;
}

/* "<name> <install label> <session label>" of one container. */
static char *inspect(const char *cli, const char *name)
{
    char *out = NULL;
    int rc = tl_run_words(&out, cli, "inspect", "--format",
                 "{{.Name}} {{index .Config.Labels \"clawsweep.install\"}} "
                 "{{index .Config.Labels \"clawsweep.session\"}}",
                 name, NULL);
    if (rc != 0) {
        free(out);
        return NULL;
    }
    first_line(out);
    return out;
}

typedef struct {
    const char *db, *id;
} ack_wait;

static int acked(void *arg)
{
    ack_wait *w = arg;
    if (!tl_exists(w->db))
        return 0;
    return tl_int(w->db, "SELECT count(*) FROM sqlite_master WHERE "
                  "name='processing_ack'") == 1 &&
           tl_int(w->db, "SELECT count(*) FROM processing_ack WHERE "
                  "message_id='%s' AND status='completed'", w->id) == 1;
}

/* Wake, work through the bind mount, stop: the same for both kinds. */
static void wake_work_stop(fx *f, const char *cli)
{
    char inbound[PATH_MAX], outbound[PATH_MAX], err[1024] = "";
    tl_session_file(inbound, sizeof inbound, f->data, "ag-test", "sess-1",
                    "inbound.db");
    tl_session_file(outbound, sizeof outbound, f->data, "ag-test", "sess-1",
                    "outbound.db");
    tl_add_message(inbound, "m1", "chat", NULL, 0);
    open_rt(f);
    assert_false(list_has(f, "sess-1"));

    agent_ref a = {"sess-1", "ag-test", f->dir};
    if (runtime_start(f->rt, &a, err, sizeof err) != 0)
        fail_msg("start: %s", err);
    assert_true(list_has(f, "sess-1"));

    char name[128], want[256];
    FMT(name, "clawsweep-%s-sess-1", f->install);
    char *info = inspect(cli, name);
    assert_non_null(info);
    FMT(want, "%s%s %s sess-1", info[0] == '/' ? "/" : "", name, f->install);
    assert_string_equal(info, want);
    free(info);

    /* The agent inside answered m1: its ack and reply are in the host's
     * outbound.db. */
    ack_wait w = {outbound, "m1"};
    assert_true(tl_wait_for(acked, &w, 30000));
    assert_int_equal(tl_int(outbound, "SELECT count(*) FROM messages_out "
                            "WHERE in_reply_to='m1' AND seq %% 2 = 1"), 1);

    /* A second container for the session is refused by its name. */
    assert_int_equal(runtime_start(f->rt, &a, err, sizeof err), -1);

    assert_int_equal(runtime_stop(f->rt, &a, err, sizeof err), 0);
    assert_false(list_has(f, "sess-1"));
    char *out = NULL;
    char filter[160];
    FMT(filter, "label=clawsweep.session=sess-1");
    char ifilter[64];
    FMT(ifilter, "label=clawsweep.install=%s", f->install);
    assert_int_equal(tl_run_words(&out, cli, "ps", "-q", "--filter", ifilter,
                         "--filter", filter, NULL), 0);
    assert_string_equal(out, "");
    free(out);
    /* Nothing of ours running: a stop now is a confirmed no-op. */
    assert_int_equal(runtime_stop(f->rt, &a, err, sizeof err), 0);
    assert_int_equal(runtime_exit_fd(f->rt, "sess-1"), -1);
}

static void test_podman_wake_work_stop(void **state)
{
    TL_NEED_PODMAN(&g);
    wake_work_stop(*state, "podman");
}

/* An agent that hangs after its claim and ignores the polite stop (its
 * stop signal is one PID 1 ignores): stopped after the grace, confirmed
 * gone, its claim left in outbound.db for the sweep to reset. */
static void test_podman_stop_hung_agent(void **state)
{
    TL_NEED_PODMAN(&g);
    fx *f = *state;
    char inbound[PATH_MAX], outbound[PATH_MAX], err[1024] = "";
    tl_session_file(inbound, sizeof inbound, f->data, "ag-test", "sess-1",
                    "inbound.db");
    tl_session_file(outbound, sizeof outbound, f->data, "ag-test", "sess-1",
                    "outbound.db");
    tl_add_message(inbound, "m1", "chat", NULL, 0);
    FMT(f->cfg.runtime.agent,
        "clawsweep-agent --idle 120 --poll-ms 100 --hang-after-claim");
    FMT(f->cfg.runtime.args, "%s --stop-signal SIGUSR2", ULIMITS);
    f->cfg.sweep.stop_grace_ms = 1000;
    open_rt(f);
    agent_ref a = {"sess-1", "ag-test", f->dir};
    if (runtime_start(f->rt, &a, err, sizeof err) != 0)
        fail_msg("start: %s", err);
    for (int i = 0; i < 300; i++) {
        if (tl_exists(outbound) &&
            tl_int(outbound, "SELECT count(*) FROM sqlite_master WHERE "
                   "name='processing_ack'") == 1 &&
            tl_int(outbound, "SELECT count(*) FROM processing_ack WHERE "
                   "status='processing'") == 1)
            break;
        usleep(100 * 1000);
    }
    assert_int_equal(tl_int(outbound, "SELECT count(*) FROM processing_ack "
                            "WHERE status='processing'"), 1);
    int64_t t0 = tl_now_ms();
    if (runtime_stop(f->rt, &a, err, sizeof err) != 0)
        fail_msg("stop: %s", err);
    assert_true(tl_now_ms() - t0 >= 1000);
    assert_false(list_has(f, "sess-1"));
    assert_int_equal(tl_int(outbound, "SELECT count(*) FROM processing_ack "
                            "WHERE status='processing'"), 1);
}

static void fake_cli(fx *f, const char *name, const char *body,
                     char *saved_path, size_t savedlen);

/* A podman wrapper first on PATH that logs every call to CALLS and,
 * for the verbs named in IGNORE, does nothing at all. */
static void wrap_podman(fx *f, const char *ignore, char *calls,
                        size_t callslen, char *saved, size_t savedlen)
{
    char body[4 * PATH_MAX];
    assert_true(snprintf(calls, callslen, "%s/calls.log", f->data) <
                (int)callslen);
    FMT(body,
        "echo \"$*\" >> %s\n"
        "case \" %s \" in *\" $1 \"*) exit 0;; esac\n"
        "exec %s \"$@\"",
        calls, ignore, g.podman);
    fake_cli(f, "podman", body, saved, savedlen);
}

static int count_lines(const char *path, const char *prefix)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, fp))
        n += strncmp(line, prefix, strlen(prefix)) == 0;
    fclose(fp);
    return n;
}

/* `stop` that leaves the container running: clawsweep kills it, then
 * confirms it is gone. The running set costs one `ps` per list. */
static void test_podman_stop_falls_back_to_kill(void **state)
{
    TL_NEED_PODMAN(&g);
    fx *f = *state;
    char calls[PATH_MAX], saved[8192], err[1024] = "";
    wrap_podman(f, "stop", calls, sizeof calls, saved, sizeof saved);
    open_rt(f);
    agent_ref a = {"sess-1", "ag-test", f->dir};
    int started = runtime_start(f->rt, &a, err, sizeof err);
    strset s = {0};
    int before = count_lines(calls, "ps ");
    int lr = runtime_list(f->rt, &s);
    int ps_calls = count_lines(calls, "ps ") - before;
    int has = strset_has(&s, "sess-1");
    strset_free(&s);
    int stopped = started == 0 ? runtime_stop(f->rt, &a, err, sizeof err)
                               : -1;
    int lr2 = runtime_list(f->rt, &s);
    int still = strset_has(&s, "sess-1");
    strset_free(&s);
    setenv("PATH", saved, 1);
    if (started != 0 || stopped != 0)
        fail_msg("start %d stop %d: %s", started, stopped, err);
    assert_int_equal(lr, 0);
    assert_true(has);
    assert_int_equal(ps_calls, 1);
    assert_int_equal(count_lines(calls, "stop -t 2 "), 1);
    assert_int_equal(count_lines(calls, "kill "), 1);
    assert_int_equal(lr2, 0);
    assert_false(still);
}

/* Neither `stop` nor `kill` work: the stop is reported unconfirmed. */
static void test_podman_stop_unconfirmed(void **state)
{
    TL_NEED_PODMAN(&g);
    fx *f = *state;
    char calls[PATH_MAX], saved[8192], err[1024] = "";
    wrap_podman(f, "stop kill", calls, sizeof calls, saved, sizeof saved);
    open_rt(f);
    agent_ref a = {"sess-1", "ag-test", f->dir};
    int started = runtime_start(f->rt, &a, err, sizeof err);
    int stopped = started == 0 ? runtime_stop(f->rt, &a, err, sizeof err)
                               : 0;
    setenv("PATH", saved, 1);
    assert_int_equal(started, 0);
    assert_int_equal(stopped, -1);
    assert_non_null(strstr(err, "still running"));
    assert_true(list_has(f, "sess-1"));
}

/* runtime_list names every session of this install (orphans too: the
 * caller decides), never another install's, and a stop never touches
 * another install's container even for the same session id. */
static void test_podman_install_isolation(void **state)
{
    TL_NEED_PODMAN(&g);
    fx *f = *state;
    char err[1024] = "";
    open_rt(f);

    /* A foreign install's container for "sess-1". */
    char *out = NULL;
    char vol[PATH_MAX + 16];
    FMT(vol, "%s:/workspace", f->dir);
    char fname[64];
    FMT(fname, "clawsweep-foreign-%d", (int)getpid());
    int rc = tl_run_words(&out, "podman", "run", "-d", "--rm", "--name", fname,
                 "--ulimit", "nofile=1024:1024", "--ulimit",
                 "nproc=1024:1024", "--label",
                 "clawsweep.install=0badf00d", "--label",
                 "clawsweep.session=sess-1", "-v", vol, IMAGE,
                 "clawsweep-agent", "--idle", "120", NULL);
    free(out);
    assert_int_equal(rc, 0);

    strset s = {0};
    assert_int_equal(runtime_list(f->rt, &s), 0);
    assert_int_equal(s.len, 0);
    strset_free(&s);
    agent_ref a = {"sess-1", "ag-test", f->dir};
    assert_int_equal(runtime_stop(f->rt, &a, err, sizeof err), 0);
    char *info = inspect("podman", fname);
    assert_non_null(info); /* still there */
    free(info);

    /* Ours: a session and an orphan whose row does not exist, with a
     * long id that does not fit a container name. */
    char long1[128], long2[128];
    memset(long1, 'x', 100);
    long1[100] = '\0';
    memcpy(long1, "orphan-", 7);
    FMT(long2, "%s", long1);
    long2[99] = 'y'; /* same first characters, different id */
    char odir[PATH_MAX];
    FMT(odir, "%s/orphan", f->data);
    assert_int_equal(mkdir_p(odir), 0);
    if (runtime_start(f->rt, &a, err, sizeof err) != 0)
        fail_msg("start: %s", err);
    agent_ref o1 = {long1, "ag-test", odir}, o2 = {long2, "ag-test", odir};
    if (runtime_start(f->rt, &o1, err, sizeof err) != 0)
        fail_msg("start long1: %s", err);
    if (runtime_start(f->rt, &o2, err, sizeof err) != 0)
        fail_msg("start long2: %s", err);
    assert_int_equal(runtime_list(f->rt, &s), 0);
    assert_int_equal(s.len, 3);
    assert_true(strset_has(&s, "sess-1"));
    assert_true(strset_has(&s, long1));
    assert_true(strset_has(&s, long2));
    strset_free(&s);

    /* The long ids got valid, distinct names of at most 63 characters. */
    char ifilter[64];
    FMT(ifilter, "label=clawsweep.install=%s", f->install);
    assert_int_equal(tl_run_words(&out, "podman", "ps", "--filter", ifilter,
                         "--format", "{{.Names}}", NULL), 0);
    int names = 0;
    char *save = NULL;
    for (char *nm = strtok_r(out, "\n", &save); nm;
         nm = strtok_r(NULL, "\n", &save), names++) {
        assert_true(strlen(nm) <= 63);
        assert_true(strncmp(nm, "clawsweep-", 10) == 0);
    }
    free(out);
    assert_int_equal(names, 3);

    /* Stops by label, one session at a time. */
    agent_ref stop1 = {long1, "", ""};
    assert_int_equal(runtime_stop(f->rt, &stop1, err, sizeof err), 0);
    assert_int_equal(runtime_list(f->rt, &s), 0);
    assert_int_equal(s.len, 2);
    assert_false(strset_has(&s, long1));
    strset_free(&s);

    /* The foreign container outlived all of it. */
    info = inspect("podman", fname);
    assert_non_null(info);
    free(info);
    out = NULL;
    tl_run_words(&out, "podman", "rm", "-f", "-t", "0", fname, NULL);
    free(out);
}

/* A fake CLI directory first on PATH. */
static void fake_cli(fx *f, const char *name, const char *body,
                     char *saved_path, size_t savedlen)
{
    char dir[PATH_MAX], path[PATH_MAX + 16], newpath[16384];
    FMT(dir, "%s/fakebin", f->data);
    assert_int_equal(mkdir_p(dir), 0);
    FMT(path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "#!/bin/sh\n%s\n", body);
    fclose(fp);
    chmod(path, 0755);
    snprintf(saved_path, savedlen, "%s", getenv("PATH"));
    FMT(newpath, "%s:%s", dir, saved_path);
    setenv("PATH", newpath, 1);
}

static void test_missing_cli_is_unknown(void **state)
{
    fx *f = *state;
    char saved[8192], empty[PATH_MAX], err[1024] = "";
    snprintf(saved, sizeof saved, "%s", getenv("PATH"));
    FMT(empty, "%s/nothing-here", f->data);
    assert_int_equal(mkdir_p(empty), 0);
    setenv("PATH", empty, 1);
    for (int kind = 0; kind < 2; kind++) {
        f->cfg.runtime.kind = kind ? RT_DOCKER : RT_PODMAN;
        open_rt(f);
        strset s = {0};
        assert_int_equal(runtime_list(f->rt, &s), -1);
        strset_free(&s);
        agent_ref a = {"sess-1", "ag-test", f->dir};
        assert_int_equal(runtime_start(f->rt, &a, err, sizeof err), -1);
        assert_non_null(strstr(err, kind ? "docker: command not found"
                                         : "podman: command not found"));
        assert_int_equal(runtime_stop(f->rt, &a, err, sizeof err), -1);
    }
    setenv("PATH", saved, 1);
}

static void test_hanging_cli_is_killed(void **state)
{
    fx *f = *state;
    char saved[8192], marker[PATH_MAX], body[PATH_MAX + 64];
    FMT(marker, "%s/fake.pid", f->data);
    /* A fake podman that leaves a child holding its stdout and hangs. */
    FMT(body, "sleep 100 & echo $! > %s; wait", marker);
    fake_cli(f, "podman", body, saved, sizeof saved);
    f->cfg.runtime.cli_timeout_ms = 500;
    open_rt(f);
    strset s = {0};
    int64_t t0 = tl_now_ms();
    int rc = runtime_list(f->rt, &s);
    int64_t took = tl_now_ms() - t0;
    strset_free(&s);
    char err[1024] = "";
    agent_ref a = {"sess-1", "ag-test", f->dir};
    int src = runtime_start(f->rt, &a, err, sizeof err);
    setenv("PATH", saved, 1);
    assert_int_equal(rc, -1);
    assert_true(took >= 500 && took < 3000);
    assert_int_equal(src, -1);
    assert_non_null(strstr(err, "timed out"));
    /* The fake's child was killed with it. */
    FILE *fp = fopen(marker, "r");
    assert_non_null(fp);
    long pid = 0;
    assert_int_equal(fscanf(fp, "%ld", &pid), 1);
    fclose(fp);
    int gone = 0;
    for (int i = 0; i < 100 && !gone; i++) {
        gone = kill((pid_t)pid, 0) != 0;
        if (!gone) {
            char p[64], st = 0;
            snprintf(p, sizeof p, "/proc/%ld/stat", pid);
            FILE *sf = fopen(p, "r");
            if (sf) {
                char buf[512];
                size_t n = fread(buf, 1, sizeof buf - 1, sf);
                buf[n] = '\0';
                char *c = strrchr(buf, ')');
                if (c)
                    st = c[2];
                fclose(sf);
            }
            gone = st == 'Z';
        }
        if (!gone)
            usleep(10 * 1000);
    }
    assert_true(gone);
}

/* A CLI that answers with an error status: unknown too, with its
 * message logged. */
static void test_failing_cli_is_unknown(void **state)
{
    fx *f = *state;
    char saved[8192];
    fake_cli(f, "podman", "echo 'Error: cannot connect' >&2; exit 125",
             saved, sizeof saved);
    open_rt(f);
    strset s = {0};
    int rc = runtime_list(f->rt, &s);
    strset_free(&s);
    char err[1024] = "";
    agent_ref a = {"sess-1", "ag-test", f->dir};
    int src = runtime_start(f->rt, &a, err, sizeof err);
    int stp = runtime_stop(f->rt, &a, err, sizeof err);
    setenv("PATH", saved, 1);
    assert_int_equal(rc, -1);
    assert_int_equal(src, -1);
    assert_int_equal(stp, -1);
    assert_non_null(strstr(err, "cannot connect"));
}

static void test_open_needs_image(void **state)
{
    fx *f = *state;
    f->cfg.runtime.image[0] = '\0';
    runtime *rt = NULL;
    char err[512];
    assert_int_equal(runtime_open(&f->cfg, &rt, err, sizeof err), -1);
    assert_non_null(strstr(err, "runtime.image"));
}

/* The docker kind, through the docker CLI, against podman's API. */
static void test_docker_kind_via_podman_service(void **state)
{
    TL_NEED_PODMAN(&g);
    if (!g.docker[0]) {
        printf("# SKIP: %s\n", g.why_no_docker);
        skip();
    }
    fx *f = *state;
    char sock[PATH_MAX], uri[PATH_MAX + 16], host[PATH_MAX + 32];
    FMT(sock, "%s/podman.sock", g.root);
    FMT(uri, "unix://%s", sock);
    char *argv[] = {g.podman, "system", "service", "--time=0", uri, NULL};
    pid_t svc;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int src = posix_spawn(&svc, g.podman, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(src, 0);
    for (int i = 0; i < 100 && !tl_exists(sock); i++)
        usleep(50 * 1000);
    FMT(host, "%s", uri);
    setenv("DOCKER_HOST", host, 1);
    char *out = NULL;
    int ok = tl_exists(sock) && tl_run_words(&out, "docker", "version", NULL) == 0;
    free(out);
    if (ok) {
        f->cfg.runtime.kind = RT_DOCKER;
        wake_work_stop(f, "docker");
    }
    unsetenv("DOCKER_HOST");
    kill(svc, SIGTERM);
    waitpid(svc, NULL, 0);
    unlink(sock);
    if (!ok)
        fail_msg("podman system service did not come up at %s", sock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_podman_wake_work_stop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_podman_stop_hung_agent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_podman_install_isolation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_podman_stop_falls_back_to_kill,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_podman_stop_unconfirmed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_cli_is_unknown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hanging_cli_is_killed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failing_cli_is_unknown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_needs_image, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_docker_kind_via_podman_service,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
