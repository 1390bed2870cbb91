/*
 * test_container_sweep.c - the container runtimes at the sweep level
 * (issue 3): the real `clawsweep` binary with runtime.kind = podman (and
 * docker through podman's API service) against a real podman, on real
 * data dirs.
 *
 *   - a due message wakes a container with the right name, labels, mount
 *     and environment; the agent inside answers through the bind mount;
 *     the next sweep syncs the ack; container_status goes running ->
 *     stopped once the agent idles out;
 *   - an agent hanging after its claim is stopped for claim-stuck,
 *     confirmed gone, its message reset and its claim deleted;
 *   - orphans (our install label, session closed or unknown) are listed
 *     by `orphans --dry-run`, stopped by `orphans` and by `run` at start;
 *     another install's container survives all of it;
 *   - a missing or hanging container CLI fails the sweep (exit 1, logged)
 *     and nothing is started or reset in that tick.
 *
 * Configuration goes through CLAWSWEEP_<SECTION>_<KEY> variables. The
 * image is built by scripts/agent-image.sh under a tag of this process's
 * own, so runs in other build dirs never remove it under us. Podman here
 * needs the runc runtime and lowered ulimits: a containers.conf in the
 * scratch dir (CONTAINERS_CONF, inherited by clawsweep and by podman's
 * API service) and runtime.args give both. Every container a test starts
 * by hand carries an owner label, and teardown removes those and every
 * container of the test's install. Tests that need podman skip with a
 * printed reason when it cannot run a container.
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
#include <time.h>
#include <unistd.h>

#include "sha1.h"
#include "testlib.h"

#define FMT(buf, ...) \
    assert_true(snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

#define ULIMITS "--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
#define FOREIGN_INSTALL "0badf00d"
#define MAX_ENV 24

extern char **environ;

static tl_containers g;   /* image: this process's own tag */
static char owner[64];    /* label on every container started by hand */

typedef struct {
    char *data;
    char install[9];
    char dir[PATH_MAX], in[PATH_MAX], out[PATH_MAX];
    char v2[PATH_MAX], state[PATH_MAX];
    char name[128];          /* container name of sess-1 */
    const char *cli;         /* "podman" or "docker" for checks */
    char *env[MAX_ENV + 1];  /* "K=V" for clawsweep, owned */
    pid_t svc;               /* podman system service, 0 when none */
    char sock[PATH_MAX];
    pid_t daemon;            /* clawsweep run, 0 when none */
} fx;

/* ---- small helpers ------------------------------------------------------ */

/* Non-empty lines in s. */
static int count_lines(const char *s)
{
    int n = 0;
    for (const char *p = s; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        n += len > 0;
        p += len + (nl != NULL);
    }
    return n;
}

/* ---- the one-time setup: containers.conf, image, probes -------------- */

static int group_setup(void **state)
{
    (void)state;
    char image[128];
    snprintf(image, sizeof image, "localhost/clawsweep-agent:sweep-%d",
             (int)getpid());
    snprintf(owner, sizeof owner, "clawsweep-e2e.owner=sweep-%d",
             (int)getpid());
    return tl_containers_setup(&g, "ctrsweep", image);
}

static int group_teardown(void **state)
{
    (void)state;
    tl_containers_teardown(&g);
    return 0;
}


/* ---- the clawsweep environment of a fixture ---------------------------- */

/* Set "K=V", replacing an entry with the same K. */
static void env_set(fx *f, const char *kv)
{
    const char *eq = strchr(kv, '=');
    assert_non_null(eq);
    size_t kl = (size_t)(eq - kv) + 1;
    int i = 0;
    for (; f->env[i]; i++)
        if (strncmp(f->env[i], kv, kl) == 0)
            break;
    assert_true(i < MAX_ENV);
    free(f->env[i]);
    f->env[i] = strdup(kv);
    assert_non_null(f->env[i]);
}

static void env_setf(fx *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void env_setf(fx *f, const char *fmt, ...)
{
    char buf[PATH_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && n < (int)sizeof buf);
    env_set(f, buf);
}

/* `clawsweep -d DATA <cmd> [arg]` with the fixture's environment; stdout
 * and stderr in *out / *err when wanted (else printed on failure). */
static int cs(fx *f, char **out, char **err, const char *cmd,
              const char *arg)
{
    char *argv[] = {(char *)tl_clawsweep_bin(), "-d", f->data, (char *)cmd,
                    (char *)arg, NULL};
    char *o = NULL, *e = NULL;
    int rc = tl_run(argv, f->env, &o, &e);
    printf("# clawsweep %s %s -> %d\n", cmd, arg ? arg : "", rc);
    if (out)
        *out = o;
    else
        free(o);
    if (err)
        *err = e;
    else
        free(e);
    return rc;
}

/* cs() that must exit 0; else its output is printed and the test fails. */
static void cs_ok(fx *f, char **out, char **err, const char *cmd,
                  const char *arg)
{
    int rc = cs(f, out, err, cmd, arg);
    if (rc != 0) {
        tl_note("stdout:", *out);
        tl_note("stderr:", *err);
        fail_msg("clawsweep %s exited %d", cmd, rc);
    }
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->data = tl_tmpdir("ctrsweepdata");
    tl_datadir_init(f->data);
    tl_add_session(f->data, "ag-test", "sess-1", "active", 1, f->dir);
    tl_session_file(f->in, sizeof f->in, f->data, "ag-test", "sess-1",
                    "inbound.db");
    tl_session_file(f->out, sizeof f->out, f->data, "ag-test", "sess-1",
                    "outbound.db");
    snprintf(f->v2, sizeof f->v2, "%s/v2.db", f->data);
    snprintf(f->state, sizeof f->state, "%s/clawsweep/state.db", f->data);
    char real[PATH_MAX], hex[41];
    if (!realpath(f->data, real))
        return -1;
    sha1_hex(real, strlen(real), hex);
    memcpy(f->install, hex, 8);
    snprintf(f->name, sizeof f->name, "clawsweep-%s-sess-1", f->install);
    f->cli = "podman";
    *state = f;
    env_set(f, "CLAWSWEEP_RUNTIME_KIND=podman");
    env_setf(f, "CLAWSWEEP_RUNTIME_IMAGE=%s", g.image);
    env_set(f, "CLAWSWEEP_RUNTIME_ARGS=" ULIMITS);
    env_set(f, "CLAWSWEEP_RUNTIME_AGENT=clawsweep-agent --idle 120 "
               "--poll-ms 100");
    env_set(f, "CLAWSWEEP_RUNTIME_CLI_TIMEOUT=60s");
    env_set(f, "CLAWSWEEP_SWEEP_STOP_GRACE=1s");
    env_set(f, "CLAWSWEEP_LOG_LEVEL=info");
    return 0;
}

static void rm_by_filter(const char *filter)
{
    char *out = NULL;
    if (tl_run_words(&out, "podman", "ps", "-aq", "--filter", filter, NULL) == 0) {
        char *save = NULL;
        for (char *id = strtok_r(out, "\n", &save); id;
             id = strtok_r(NULL, "\n", &save)) {
            char *o2 = NULL;
            tl_run_words(&o2, "podman", "rm", "-f", "-t", "0", id, NULL);
            free(o2);
        }
    }
    free(out);
}

static void stop_child(pid_t *pid)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    for (int i = 0; i < 150; i++) {
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            *pid = 0;
            return;
        }
        usleep(100 * 1000);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    stop_child(&f->daemon);
    if (g.podman[0]) {
        char filter[128];
        snprintf(filter, sizeof filter, "label=clawsweep.install=%s",
                 f->install);
        rm_by_filter(filter);
        snprintf(filter, sizeof filter, "label=%s", owner);
        rm_by_filter(filter);
    }
    stop_child(&f->svc);
    unsetenv("DOCKER_HOST");
    if (f->sock[0])
        unlink(f->sock);
    for (int i = 0; f->env[i]; i++)
        free(f->env[i]);
    tl_rm_rf(f->data);
    free(f->data);
    free(f);
    return 0;
}

/* ---- container checks --------------------------------------------------- */

/* Number of running containers with the label filter (and a second one
 * when not NULL), through the fixture's CLI; -1 when the CLI fails. */
static int running_count(fx *f, const char *filter, const char *filter2)
{
    char *out = NULL;
    int rc = filter2 ? tl_run_words(&out, f->cli, "ps", "-q", "--filter", filter,
                           "--filter", filter2, NULL)
                     : tl_run_words(&out, f->cli, "ps", "-q", "--filter", filter,
                           NULL);
    int n = rc == 0 ? count_lines(out) : -1;
    free(out);
    return n;
}

static int ours_running(fx *f, const char *sid)
{
    char fi[64], fs[256];
    snprintf(fi, sizeof fi, "label=clawsweep.install=%s", f->install);
    snprintf(fs, sizeof fs, "label=clawsweep.session=%s", sid ? sid : "");
    return running_count(f, fi, sid ? fs : NULL);
}

typedef struct {
    fx *f;
    const char *sid;
} gone_wait;

static int ours_gone(void *arg)
{
    gone_wait *w = arg;
    return ours_running(w->f, w->sid) == 0;
}

/* `inspect --format fmt name`, stdout or NULL. */
static char *inspect(fx *f, const char *name, const char *fmt)
{
    char *out = NULL;
    if (tl_run_words(&out, f->cli, "inspect", "--format", fmt, name, NULL) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* A container started by hand with the given install and session labels
 * (and our owner label, for teardown). */
static void start_by_hand(fx *f, const char *name, const char *install,
                          const char *sid)
{
    char li[64], ls[256], vol[PATH_MAX + 16];
    FMT(li, "clawsweep.install=%s", install);
    FMT(ls, "clawsweep.session=%s", sid);
    FMT(vol, "%s:/workspace", f->dir);
    char *out = NULL;
    int rc = tl_run_words(&out, "podman", "run", "-d", "--rm", "--name", name,
                 "--ulimit", "nofile=1024:1024", "--ulimit",
                 "nproc=1024:1024", "--label", li, "--label", ls, "--label",
                 owner, "-v", vol, g.image, "clawsweep-agent", "--idle",
                 "300", "--poll-ms", "1000", NULL);
    free(out);
    assert_int_equal(rc, 0);
}

static int name_running(const char *name)
{
    char filter[160], *out = NULL;
    snprintf(filter, sizeof filter, "name=^%s$", name);
    int rc = tl_run_words(&out, "podman", "ps", "-q", "--filter", filter, NULL);
    int n = rc == 0 ? count_lines(out) : -1;
    free(out);
    return n;
}

/* ---- database checks ---------------------------------------------------- */

static int has_table(const char *db, const char *table)
{
    return tl_exists(db) &&
           tl_int(db, "SELECT count(*) FROM sqlite_master WHERE name='%s'",
                  table) == 1;
}

static int acked(void *arg)
{
    const char *out = arg;
    return has_table(out, "processing_ack") &&
           tl_int(out, "SELECT count(*) FROM processing_ack WHERE "
                  "message_id='m1' AND status='completed'") == 1;
}

static int claimed(void *arg)
{
    const char *out = arg;
    return has_table(out, "processing_ack") &&
           tl_int(out, "SELECT count(*) FROM processing_ack WHERE "
                  "message_id='m1' AND status='processing'") == 1;
}

static void assert_container_status(fx *f, const char *want)
{
    char *status = tl_text(f->v2, "SELECT container_status FROM sessions "
                           "WHERE id='sess-1'");
    assert_non_null(status);
    assert_string_equal(status, want);
    free(status);
}

static int events(fx *f, const char *kind, const char *reason)
{
    if (!tl_exists(f->state))
        return 0;
    if (reason)
        return (int)tl_int(f->state, "SELECT count(*) FROM events WHERE "
                           "session_id='sess-1' AND kind='%s' AND "
                           "reason='%s'", kind, reason);
    return (int)tl_int(f->state, "SELECT count(*) FROM events WHERE "
                       "session_id='sess-1' AND kind='%s'", kind);
}

static int contains(const char *hay, const char *needle)
{
    if (hay && strstr(hay, needle))
        return 1;
    char h[256];
    snprintf(h, sizeof h, "expected \"%.200s\" in:", needle);
    tl_note(h, hay ? hay : "(null)");
    return 0;
}

/* ---- scenarios shared by the podman and docker kinds ------------------ */

/* A due message wakes a container; the agent answers through the mount;
 * the next sweep syncs the ack; the agent idles out and the sweep after
 * that marks the session's container stopped. */
static void wake_ack_exit(fx *f)
{
    tl_add_message(f->in, "m1", "chat", NULL, 0);
    env_set(f, "CLAWSWEEP_RUNTIME_AGENT=clawsweep-agent --idle 4 "
               "--poll-ms 100");
    char *out = NULL, *err = NULL;
    assert_int_equal(ours_running(f, NULL), 0);

    int64_t t0 = tl_now_ms();
    cs_ok(f, &out, &err, "sweep", NULL);
    printf("# first sweep (wake) took %lld ms\n",
           (long long)(tl_now_ms() - t0));
    assert_true(contains(out, "wake"));
    assert_true(contains(out, "session=sess-1"));
    free(out);
    free(err);
    assert_container_status(f, "running");
    assert_int_equal(events(f, "start", NULL), 1);

    /* Name and labels. docker prefixes the name with '/'. */
    char *info = inspect(f, f->name,
                         "{{.Name}} {{index .Config.Labels "
                         "\"clawsweep.install\"}} {{index .Config.Labels "
                         "\"clawsweep.session\"}}");
    assert_non_null(info);
    char want[256];
    FMT(want, "%s%s %s sess-1\n", info[0] == '/' ? "/" : "", f->name,
        f->install);
    assert_string_equal(info, want);
    free(info);
    /* The agent environment, with the paths as the agent sees them. */
    info = inspect(f, f->name, "{{range .Config.Env}}{{println .}}{{end}}");
    assert_non_null(info);
    assert_true(contains(info, "SESSION_INBOUND_DB_PATH=/workspace/inbound.db\n"));
    assert_true(contains(info, "SESSION_OUTBOUND_DB_PATH=/workspace/outbound.db\n"));
    assert_true(contains(info, "SESSION_HEARTBEAT_PATH=/workspace/.heartbeat\n"));
    assert_true(contains(info, "NANOCLAW_AGENT_GROUP_ID=ag-test\n"));
    assert_true(contains(info, "CLAWSWEEP_SESSION_ID=sess-1\n"));
    assert_true(contains(info, "TZ="));
    free(info);
    /* The session dir is the bind mount. */
    info = inspect(f, f->name, "{{range .Mounts}}{{.Source}}:"
                   "{{.Destination}}{{println}}{{end}}");
    assert_non_null(info);
    char mnt[PATH_MAX + 32], real[PATH_MAX];
    assert_non_null(realpath(f->dir, real));
    FMT(mnt, "%s:/workspace\n", real);
    assert_true(contains(info, mnt));
    free(info);

    /* The agent inside answered through the mount. */
    assert_true(tl_wait_for(acked, f->out, 30000));
    assert_int_equal(tl_int(f->out, "SELECT count(*) FROM messages_out WHERE "
                            "in_reply_to='m1' AND seq %% 2 = 1"), 1);
    char *st = tl_text(f->in, "SELECT status FROM messages_in WHERE id='m1'");
    assert_string_equal(st, "pending");
    free(st);

    /* The next sweep syncs the ack and starts nothing new. */
    cs_ok(f, &out, &err, "sweep", NULL);
    assert_true(contains(out, "ack-sync"));
    assert_null(strstr(out, "wake "));
    free(out);
    free(err);
    st = tl_text(f->in, "SELECT status FROM messages_in WHERE id='m1'");
    assert_string_equal(st, "completed");
    free(st);

    /* The agent idles out; --rm removes its container. */
    gone_wait w = {f, "sess-1"};
    t0 = tl_now_ms();
    assert_true(tl_wait_for(ours_gone, &w, 60000));
    printf("# agent container exited after %lld ms more\n",
           (long long)(tl_now_ms() - t0));
    cs_ok(f, &out, &err, "sweep", NULL);
    assert_null(strstr(out, "wake "));
    free(out);
    free(err);
    assert_container_status(f, "stopped");
    assert_int_equal(events(f, "exit", NULL), 1);
    assert_int_equal(tl_int(f->in, "SELECT tries FROM messages_in WHERE "
                            "id='m1'"), 0);
}

/* An agent that claims and then hangs, silent: a later sweep stops it for
 * claim-stuck, confirms it gone and resets the message. */
static void hang_is_stopped(fx *f)
{
    tl_add_message(f->in, "m1", "chat", NULL, 0);
    env_set(f, "CLAWSWEEP_RUNTIME_AGENT=clawsweep-agent --idle 120 "
               "--poll-ms 100 --hang-after-claim");
    env_set(f, "CLAWSWEEP_SWEEP_CLAIM_TOLERANCE=1s");
    env_set(f, "CLAWSWEEP_SWEEP_STOP_GRACE=1s");
    char *out = NULL, *err = NULL;
    cs_ok(f, &out, &err, "sweep", NULL);
    assert_true(contains(out, "wake"));
    free(out);
    free(err);
    assert_int_equal(ours_running(f, "sess-1"), 1);
    assert_true(tl_wait_for(claimed, f->out, 30000));

    char *changed = tl_text(f->out, "SELECT status_changed FROM "
                            "processing_ack WHERE message_id='m1'");
    assert_non_null(changed);
    printf("# claimed at %s\n", changed);
    free(changed);

    /* Past claim_tolerance (> 1 s, status_changed has whole seconds) with
     * no heartbeat: stopped. */
    usleep(2200 * 1000);
    int64_t t0 = tl_now_ms();
    cs_ok(f, &out, &err, "sweep", NULL);
    int64_t after = tl_now_ms();
    printf("# stopping sweep took %lld ms\n", (long long)(after - t0));
    assert_true(contains(out, "reason=claim-stuck"));
    assert_true(contains(out, "retry"));
    /* Reset, so the message is not due again: no new agent. */
    assert_null(strstr(out, "wake "));
    free(out);
    free(err);

    /* Confirmed gone. */
    assert_int_equal(ours_running(f, "sess-1"), 0);
    /* The message reset: one try spent, retried after the backoff. */
    assert_int_equal(tl_int(f->in, "SELECT tries FROM messages_in WHERE "
                            "id='m1'"), 1);
    char *st = tl_text(f->in, "SELECT status FROM messages_in WHERE id='m1'");
    assert_string_equal(st, "pending");
    free(st);
    /* process_after: ISO ms UTC, later than now (backoff 5 s). */
    char *pa = tl_text(f->in, "SELECT process_after FROM messages_in WHERE "
                       "id='m1'");
    assert_non_null(pa);
    char now_iso[32];
    {
        time_t s = (time_t)(after / 1000);
        struct tm tm;
        gmtime_r(&s, &tm);
        snprintf(now_iso, sizeof now_iso,
                 "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(after % 1000));
    }
    printf("# process_after %s, now %s\n", pa, now_iso);
    assert_int_equal(strlen(pa), strlen(now_iso));
    assert_true(strcmp(pa, now_iso) > 0);
    free(pa);
    /* The claim deleted from outbound.db. */
    assert_int_equal(tl_int(f->out, "SELECT count(*) FROM processing_ack "
                            "WHERE status='processing'"), 0);
    /* Journaled, and the session's container marked stopped. */
    assert_int_equal(events(f, "stop", "claim-stuck"), 1);
    assert_int_equal(events(f, "retry", NULL), 1);
    assert_container_status(f, "stopped");
}

/* ---- podman ------------------------------------------------------------- */

static void test_podman_wake_ack_exit(void **state)
{
    TL_NEED_PODMAN(&g);
    wake_ack_exit(*state);
}

static void test_podman_hang_after_claim_stopped(void **state)
{
    TL_NEED_PODMAN(&g);
    hang_is_stopped(*state);
}

/* Our label + session closed, our label + no session row: orphans.
 * Another install's label (same session id): never touched. */
static void orphan_scene(fx *f, char *foreign, size_t foreignlen)
{
    tl_add_message(f->in, "m1", "chat", NULL, 0);
    char *out = NULL, *err = NULL;
    cs_ok(f, &out, &err, "sweep", NULL);
    free(out);
    free(err);
    assert_int_equal(ours_running(f, "sess-1"), 1);
    char ghost[128];
    FMT(ghost, "clawsweep-%s-ghost-1", f->install);
    start_by_hand(f, ghost, f->install, "ghost-1");
    assert_true((size_t)snprintf(foreign, foreignlen, "clawsweep-%s-sess-1-%d",
                                 FOREIGN_INSTALL, (int)getpid()) < foreignlen);
    start_by_hand(f, foreign, FOREIGN_INSTALL, "sess-1");
    assert_int_equal(ours_running(f, NULL), 2);
    tl_sql(f->v2, "UPDATE sessions SET status = 'closed' WHERE id='sess-1'");
}

static void test_podman_orphans_command(void **state)
{
    TL_NEED_PODMAN(&g);
    fx *f = *state;
    char foreign[128];
    orphan_scene(f, foreign, sizeof foreign);

    /* --dry-run lists both, stops nothing. */
    char *out = NULL, *err = NULL;
    cs_ok(f, &out, &err, "orphans", "--dry-run");
    assert_true(contains(out, "would stop sess-1\n"));
    assert_true(contains(out, "would stop ghost-1\n"));
    assert_true(contains(out, "2 orphan agent(s) found"));
    free(out);
    free(err);
    assert_int_equal(ours_running(f, NULL), 2);
    assert_int_equal(name_running(foreign), 1);

    int64_t t0 = tl_now_ms();
    cs_ok(f, &out, &err, "orphans", NULL);
    printf("# orphans took %lld ms\n", (long long)(tl_now_ms() - t0));
    assert_true(contains(out, "stopped sess-1\n"));
    assert_true(contains(out, "stopped ghost-1\n"));
    assert_true(contains(out, "2 orphan agent(s) handled"));
    free(out);
    free(err);
    assert_int_equal(ours_running(f, NULL), 0);
    assert_int_equal(events(f, "stop", "orphan"), 1);
    /* Another install's container survived. */
    assert_int_equal(name_running(foreign), 1);

    /* Nothing left: a second pass finds none. */
    cs_ok(f, &out, &err, "orphans", NULL);
    assert_true(contains(out, "0 orphan agent(s) handled"));
    free(out);
    free(err);
    assert_int_equal(name_running(foreign), 1);
}

/* The one-shot sweep is a full sweep: it reaps orphans too. */
static void test_podman_sweep_reaps_orphans(void **state)
{
    TL_NEED_PODMAN(&g);
    fx *f = *state;
    char foreign[128];
    orphan_scene(f, foreign, sizeof foreign);
    char *out = NULL, *err = NULL;
    cs_ok(f, &out, &err, "sweep", NULL);
    assert_true(contains(out, "stop-orphan"));
    free(out);
    free(err);
    assert_int_equal(ours_running(f, NULL), 0);
    assert_int_equal(name_running(foreign), 1);
}

typedef struct {
    fx *f;
    pid_t pid;
    int exited;
    int status;
} daemon_wait;

static int daemon_reaped(void *arg)
{
    daemon_wait *w = arg;
    if (!w->exited && waitpid(w->pid, &w->status, WNOHANG) == w->pid)
        w->exited = 1;
    if (w->exited)
        return 1;
    return ours_running(w->f, NULL) == 0;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return strdup("");
    char *buf = calloc(1, 65536);
    if (buf)
        buf[fread(buf, 1, 65535, fp)] = '\0';
    fclose(fp);
    return buf;
}

/* `clawsweep run` stops orphans at start. */
static void test_podman_run_reaps_orphans_at_start(void **state)
{
    TL_NEED_PODMAN(&g);
    fx *f = *state;
    char foreign[128];
    orphan_scene(f, foreign, sizeof foreign);

    char log[PATH_MAX];
    FMT(log, "%s/run.log", f->data);
    env_set(f, "CLAWSWEEP_SWEEP_INTERVAL=1h");
    char *argv[] = {(char *)tl_clawsweep_bin(), "-d", f->data, "run", NULL};
    /* environ with the fixture's entries first (they win). */
    size_t ne = 0, nf = 0;
    while (environ[ne])
        ne++;
    while (f->env[nf])
        nf++;
    char **envp = calloc(ne + nf + 1, sizeof *envp);
    assert_non_null(envp);
    size_t k = 0;
    for (size_t i = 0; i < nf; i++)
        envp[k++] = f->env[i];
    for (size_t i = 0; i < ne; i++)
        envp[k++] = environ[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int src = posix_spawn(&f->daemon, argv[0], &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    assert_int_equal(src, 0);

    daemon_wait w = {f, f->daemon, 0, 0};
    int64_t t0 = tl_now_ms();
    int ok = tl_wait_for(daemon_reaped, &w, 60000);
    int64_t took = tl_now_ms() - t0;
    if (w.exited) {
        f->daemon = 0;
        char *text = slurp(log);
        if (strstr(text, "not implemented")) {
            tl_note("SKIP: `clawsweep run` is not implemented in this build; "
                 "it said:", text);
            free(text);
            skip();
        }
        tl_note("run log:", text);
        free(text);
        fail_msg("clawsweep run exited early (status %d)", w.status);
    }
    assert_true(ok);
    printf("# run reaped the orphans within %lld ms\n", (long long)took);
    stop_child(&f->daemon);
    char *text = slurp(log);
    tl_note("run log:", text);
    free(text);
    assert_int_equal(ours_running(f, NULL), 0);
    assert_int_equal(name_running(foreign), 1);
    assert_int_equal(events(f, "stop", "orphan"), 1);
}

/* ---- docker, through podman's API service ------------------------------ */

static int with_docker_service(fx *f)
{
    if (!g.docker[0]) {
        printf("# SKIP: %s\n", g.why_no_docker);
        return 0;
    }
    char uri[PATH_MAX + 16];
    FMT(f->sock, "%s/podman-%d-%lld.sock", g.root, (int)getpid(),
        (long long)tl_now_ms());
    FMT(uri, "unix://%s", f->sock);
    char *argv[] = {g.podman, "system", "service", "--time=0", uri, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int src = posix_spawn(&f->svc, g.podman, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(src, 0);
    for (int i = 0; i < 200 && !tl_exists(f->sock); i++)
        usleep(50 * 1000);
    /* The test's own docker calls and clawsweep's both use it. */
    setenv("DOCKER_HOST", uri, 1);
    char *out = NULL;
    int ok = tl_exists(f->sock) && tl_run_words(&out, "docker", "version", NULL) == 0;
    free(out);
    if (!ok)
        fail_msg("podman system service did not come up at %s", f->sock);
    env_setf(f, "DOCKER_HOST=%s", uri);
    env_set(f, "CLAWSWEEP_RUNTIME_KIND=docker");
    f->cli = "docker";
    return 1;
}

static void test_docker_wake_ack_exit(void **state)
{
    TL_NEED_PODMAN(&g);
    fx *f = *state;
    if (!with_docker_service(f))
        skip();
    wake_ack_exit(f);
}

static void test_docker_hang_after_claim_stopped(void **state)
{
    TL_NEED_PODMAN(&g);
    fx *f = *state;
    if (!with_docker_service(f))
        skip();
    hang_is_stopped(f);
}

/* ---- a broken CLI: the tick changes nothing ---------------------------- */

/* A session with a stale claim (its agent would be gone if the runtime
 * could tell) and a due message. */
static void stale_claim_scene(fx *f)
{
    tl_add_message(f->in, "m1", "chat", NULL, 0);
    tl_add_message(f->in, "m2", "chat", NULL, 0);
    tl_sql(f->out, "INSERT INTO processing_ack VALUES ('m1', 'processing', "
                   "'2026-01-01 00:00:00')");
}

static void assert_nothing_changed(fx *f)
{
    assert_int_equal(tl_int(f->out, "SELECT count(*) FROM processing_ack "
                            "WHERE message_id='m1' AND status='processing'"),
                     1);
    assert_int_equal(tl_int(f->in, "SELECT sum(tries) FROM messages_in"), 0);
    assert_int_equal(tl_int(f->in, "SELECT count(*) FROM messages_in WHERE "
                            "process_after IS NOT NULL OR status <> "
                            "'pending'"), 0);
    char *status = tl_text(f->v2, "SELECT container_status FROM sessions "
                           "WHERE id='sess-1'");
    assert_true(status == NULL || strcmp(status, "running") != 0);
    free(status);
    assert_int_equal(events(f, "start", NULL), 0);
    assert_int_equal(events(f, "retry", NULL), 0);
    if (g.podman[0])
        assert_int_equal(ours_running(f, NULL), 0);
}

static void test_missing_cli_changes_nothing(void **state)
{
    fx *f = *state;
    stale_claim_scene(f);
    char empty[PATH_MAX];
    FMT(empty, "%s/nothing-here", f->data);
    assert_int_equal(mkdir(empty, 0755), 0);
    env_setf(f, "PATH=%s", empty);
    for (int kind = 0; kind < 2; kind++) {
        env_setf(f, "CLAWSWEEP_RUNTIME_KIND=%s", kind ? "docker" : "podman");
        char *out = NULL, *err = NULL;
        int rc = cs(f, &out, &err, "sweep", NULL);
        tl_note("stderr:", err);
        assert_int_equal(rc, 1);
        assert_true(contains(err, kind ? "docker: command not found"
                                       : "podman: command not found"));
        assert_true(contains(err, "runtime cannot tell"));
        assert_null(strstr(out, "wake "));
        assert_null(strstr(out, "retry"));
        free(out);
        free(err);
        assert_nothing_changed(f);
    }
    /* `orphans` cannot tell either: it fails, and says so. */
    char *out = NULL, *err = NULL;
    assert_int_equal(cs(f, &out, &err, "orphans", NULL), 1);
    assert_true(contains(err, "command not found"));
    free(out);
    free(err);
}

static void test_hanging_cli_changes_nothing(void **state)
{
    fx *f = *state;
    stale_claim_scene(f);
    char dir[PATH_MAX], path[PATH_MAX + 16], marker[PATH_MAX];
    FMT(dir, "%s/fake-podman", f->data);
    assert_int_equal(mkdir(dir, 0755), 0);
    FMT(path, "%s/podman", dir);
    FMT(marker, "%s/calls.log", f->data);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "#!/bin/sh\necho \"$*\" >> %s\nexec sleep 300\n", marker);
    fclose(fp);
    assert_int_equal(chmod(path, 0755), 0);
    env_setf(f, "PATH=%s:%s", dir, getenv("PATH"));
    env_set(f, "CLAWSWEEP_RUNTIME_CLI_TIMEOUT=1s");
    char *out = NULL, *err = NULL;
    int64_t t0 = tl_now_ms();
    int rc = cs(f, &out, &err, "sweep", NULL);
    int64_t took = tl_now_ms() - t0;
    printf("# sweep with a hanging CLI took %lld ms\n", (long long)took);
    tl_note("stderr:", err);
    assert_int_equal(rc, 1);
    assert_true(took >= 1000 && took < 10000);
    assert_true(contains(err, "timed out"));
    assert_true(contains(err, "runtime cannot tell"));
    assert_null(strstr(out, "wake "));
    free(out);
    free(err);
    /* One call, the listing; no start or stop was tried. */
    char *calls = NULL;
    {
        FILE *cf = fopen(marker, "r");
        assert_non_null(cf);
        calls = calloc(1, 4096);
        assert_non_null(calls);
        calls[fread(calls, 1, 4095, cf)] = '\0';
        fclose(cf);
    }
    assert_int_equal(count_lines(calls), 1);
    assert_int_equal(strncmp(calls, "ps ", 3), 0);
    free(calls);
    assert_nothing_changed(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_podman_wake_ack_exit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_podman_hang_after_claim_stopped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_podman_orphans_command, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_podman_sweep_reaps_orphans,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_podman_run_reaps_orphans_at_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_docker_wake_ack_exit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_docker_hang_after_claim_stopped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_cli_changes_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_hanging_cli_changes_nothing,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
