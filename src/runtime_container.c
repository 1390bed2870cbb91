/*
 * runtime_container.c - the `docker` and `podman` runtimes (SPEC §4,
 * issue 3): one container per session, driven through the CLI.
 *
 * Design. Every call is one CLI process started by rt_run_cli: an argv,
 * no shell, a deadline (runtime.cli_timeout) after which the CLI is
 * killed. Ids reach an argv only after validation, and every container
 * carries two labels: clawsweep.install=<install> (8 hex of the SHA-1 of
 * the data dir's real path, so two installs on one host never see each
 * other's agents) and clawsweep.session=<session id>. The labels, not the
 * name, are the truth: the name only keeps a second container for the same
 * session from starting (the CLI refuses a duplicate name). It is
 * clawsweep-<install>-<session> when that is a valid container name of at
 * most 63 characters, else the session id is cut and an 8-hex digest of
 * the whole id is appended, so distinct long ids keep distinct names.
 *
 * Listing is one `ps --filter label=clawsweep.install=<install>` printing
 * "<session> <container id>" per running container: the sweep calls it
 * once per tick, never once per session. A CLI that is missing, fails or
 * hangs makes the answer unknown (-1, logged), never "none running".
 *
 * A stop finds the session's containers in that listing (by label, so
 * even a container started under another name is found), runs
 * `stop -t <grace>` on them, `kill` if any is still listed, and returns 0
 * only when a listing confirms none is left.
 */
#include "runtime_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sha1.h"

#define NAME_MAX_LEN 63
#define KILL_CONFIRM_MS 10000
#define CONFIRM_STEP_MS 250

static int ctr_open(runtime *rt, char *err, size_t errlen)
{
    char real[PATH_MAX], hex[41];
    if (!realpath(rt->data_dir, real)) {
        snprintf(err, errlen, "cannot resolve data dir %s: %s", rt->data_dir,
                 strerror(errno));
        return -1;
    }
    size_t n = strlen(real);
    while (n > 1 && real[n - 1] == '/')
        real[--n] = '\0';
    sha1_hex(real, n, hex);
    memcpy(rt->install, hex, 8);
    rt->install[8] = '\0';
    if (!rt->image[0]) {
        snprintf(err, errlen, "runtime.image must be set for runtime.kind "
                 "= %s", rt->cli);
        return -1;
    }
    return 0;
}

static int name_char_ok(char c, int first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return 1;
    return !first && (c == '_' || c == '.' || c == '-');
}

static int name_is_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!name_char_ok(s[i], i == 0))
            return 0;
    return 1;
}

static void ctr_name(const runtime *rt, const char *sid, char out[64])
{
    char full[512];
    snprintf(full, sizeof full, "clawsweep-%s-%s", rt->install, sid);
    if (name_is_valid(full)) {
        snprintf(out, 64, "%s", full);
        return;
    }
    char hex[41];
    sha1_hex(sid, strlen(sid), hex);
    /* 10 + 8 + 1 + 35 + 1 + 8 = 63; only characters an id may hold. */
    char cut[36];
    size_t k = 0;
    for (const char *p = sid; *p && k < sizeof cut - 1; p++)
        if (name_char_ok(*p, 0))
            cut[k++] = *p;
    cut[k] = '\0';
    snprintf(out, 64, "clawsweep-%s-%s-%.8s", rt->install, cut, hex);
}

/* "<session> <id>" per running container of this install. */
static int ctr_ps(runtime *rt, rt_cli_result *res, char *err, size_t errlen)
{
    char filter[64];
    snprintf(filter, sizeof filter, "label=clawsweep.install=%s",
             rt->install);
    /* docker's ps has a .Label function; podman's has the Labels map. */
    const char *fmt = rt->kind == RT_DOCKER
                          ? "{{.Label \"clawsweep.session\"}} {{.ID}}"
                          : "{{index .Labels \"clawsweep.session\"}} {{.ID}}";
    char *argv[] = {(char *)rt->cli, "ps", "--no-trunc", "--filter", filter,
                    "--format", (char *)fmt, NULL};
    int rc = rt_run_cli(argv, NULL, -1, rt->cli_timeout_ms, res, err,
                        errlen);
    if (rc == 0 && res->status != 0) {
        char line[256];
        rt_first_line(res->err, line, sizeof line);
        snprintf(err, errlen, "%s ps exited with status %d: %s", rt->cli,
                 res->status, line);
        rc = -1;
    }
    return rc;
}

/* The first word of each line, the session, into a listing for
 * rt_parse_ids; when want is set, also the ids of its containers. */
static int split_ps(const char *out, strset *sessions, const char *want,
                    strset *ids)
{
    char *copy = strdup(out);
    if (!copy)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        char *sp = strrchr(line, ' ');
        char *cid = sp ? sp + 1 : NULL;
        if (sp)
            *sp = '\0';
        if (sessions)
            rc = rt_parse_ids(line, "container label clawsweep.session",
                              sessions);
        if (rc == 0 && want && cid && strcmp(line, want) == 0 &&
            !strset_has(ids, cid))
            rc = strset_add(ids, cid);
    }
    free(copy);
    return rc;
}

static int ctr_list(runtime *rt, strset *running)
{
    char err[512] = "";
    rt_cli_result res;
    int rc = ctr_ps(rt, &res, err, sizeof err);
    if (rc != 0)
        log_error("container CLI failed: running agents unknown this tick",
                  "cli=%s install=%s error=%s", rt->cli, rt->install, err);
    else if (split_ps(res.out, running, NULL, NULL) != 0) {
        log_error("out of memory parsing the container list", "");
        rc = -1;
    }
    rt_cli_free(&res);
    return rc;
}

/* The container ids of one session: 0 (ids filled, maybe none), -1. */
static int session_containers(runtime *rt, const char *sid, strset *ids,
                              char *err, size_t errlen)
{
    rt_cli_result res;
    int rc = ctr_ps(rt, &res, err, errlen);
    if (rc == 0 && split_ps(res.out, NULL, sid, ids) != 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    rt_cli_free(&res);
    return rc;
}

static int ctr_start(runtime *rt, const agent_ref *a, char *err,
                     size_t errlen)
{
    const char *sid = a->session_id;
    if (strpbrk(a->session_dir, ":,")) {
        snprintf(err, errlen, "session dir %s holds ':' or ',' and cannot "
                 "be bind-mounted with -v", a->session_dir);
        return -1;
    }
    char name[64], lab_inst[64], lab_sess[256], vol[PATH_MAX + 16];
    ctr_name(rt, sid, name);
    snprintf(lab_inst, sizeof lab_inst, "clawsweep.install=%s", rt->install);
    snprintf(lab_sess, sizeof lab_sess, "clawsweep.session=%s", sid);
    if (path_join(vol, sizeof vol, "%s:/workspace", a->session_dir) != 0) {
        snprintf(err, errlen, "session dir path too long");
        return -1;
    }
    char vars[RT_AGENT_ENV_N][PATH_MAX + 64];
    int nv = rt_agent_env(rt, a, "/workspace", vars);

    size_t nargs = 0, nagent = 0;
    while (rt->args[nargs])
        nargs++;
    while (rt->agent[nagent])
        nagent++;
    size_t cap = 16 + 2 * (size_t)nv + nargs + nagent;
    char **argv = calloc(cap, sizeof *argv);
    if (!argv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0;
    argv[k++] = (char *)rt->cli;
    argv[k++] = "run";
    argv[k++] = "-d";
    argv[k++] = "--rm";
    argv[k++] = "--name";
    argv[k++] = name;
    argv[k++] = "--label";
    argv[k++] = lab_inst;
    argv[k++] = "--label";
    argv[k++] = lab_sess;
    argv[k++] = "-v";
    argv[k++] = vol;
    for (int i = 0; i < nv; i++) {
        argv[k++] = "-e";
        argv[k++] = vars[i];
    }
    for (size_t i = 0; i < nargs; i++)
        argv[k++] = rt->args[i];
    argv[k++] = rt->image;
    for (size_t i = 0; i < nagent; i++)
        argv[k++] = rt->agent[i];
    argv[k] = NULL;

    rt_cli_result res;
    int rc = rt_run_cli(argv, NULL, -1, rt->cli_timeout_ms, &res, err,
                        errlen);
    if (rc == 0 && res.status != 0) {
        char line[400];
        rt_first_line(res.err[0] ? res.err : res.out, line, sizeof line);
        snprintf(err, errlen, "%s run exited with status %d: %s", rt->cli,
                 res.status, line);
        rc = -1;
    }
    if (rc == 0) {
        char cid[13]; /* the short id, as `ps` shows it */
        rt_first_line(res.out, cid, sizeof cid);
        log_info("agent container started", "session=%s name=%s id=%s",
                 sid, name, cid);
    }
    rt_cli_free(&res);
    free(argv);
    return rc;
}

/* Run `<cli> <verb> [extra] <ids...>`; failures are only logged, since
 * the listing afterwards decides. */
static void ctr_verb(runtime *rt, const char *verb, const char *extra1,
                     const char *extra2, const strset *ids, int64_t timeout,
                     const char *sid)
{
    char **argv = calloc(ids->len + 6, sizeof *argv);
    if (!argv)
        return;
    size_t k = 0;
    argv[k++] = (char *)rt->cli;
    argv[k++] = (char *)verb;
    if (extra1)
        argv[k++] = (char *)extra1;
    if (extra2)
        argv[k++] = (char *)extra2;
    for (size_t i = 0; i < ids->len; i++)
        argv[k++] = ids->items[i];
    argv[k] = NULL;
    char err[512] = "";
    rt_cli_result res;
    int rc = rt_run_cli(argv, NULL, -1, timeout, &res, err, sizeof err);
    if (rc != 0 || res.status != 0) {
        char line[256];
        rt_first_line(res.err, line, sizeof line);
        log_warn("container CLI call failed", "session=%s cli=%s verb=%s "
                 "status=%d error=%s", sid, rt->cli, verb, res.status,
                 rc ? err : line);
    }
    rt_cli_free(&res);
    free(argv);
}

static int ctr_stop(runtime *rt, const agent_ref *a, char *err,
                    size_t errlen)
{
    const char *sid = a->session_id;
    strset ids = {0};
    if (session_containers(rt, sid, &ids, err, errlen) != 0)
        return -1;
    if (ids.len == 0) {
        strset_free(&ids);
        return 0;
    }
    int64_t t0 = rt_now_ms();
    char secs[24];
    snprintf(secs, sizeof secs, "%lld",
             (long long)((rt->stop_grace_ms + 999) / 1000));
    ctr_verb(rt, "stop", "-t", secs, &ids, rt->cli_timeout_ms +
             rt->stop_grace_ms, sid);

    int forced = 0, rc = -1;
    int64_t until = 0;
    for (;;) {
        strset left = {0};
        if (session_containers(rt, sid, &left, err, errlen) != 0) {
            strset_free(&left);
            break; /* unknown: not confirmed */
        }
        if (left.len == 0) {
            strset_free(&left);
            rc = 0;
            break;
        }
        if (!forced) {
            forced = 1;
            log_warn("agent container still running after stop, killing it",
                     "session=%s cli=%s", sid, rt->cli);
            ctr_verb(rt, "kill", NULL, NULL, &left, rt->cli_timeout_ms, sid);
            until = rt_now_ms() + KILL_CONFIRM_MS;
        } else if (rt_now_ms() >= until) {
            snprintf(err, errlen, "container still running %d ms after "
                     "kill", KILL_CONFIRM_MS);
            strset_free(&left);
            break;
        } else {
            rt_sleep_ms(CONFIRM_STEP_MS);
        }
        strset_free(&left);
    }
    if (rc == 0)
        log_info("agent container stopped", "session=%s forced=%d ms=%lld",
                 sid, forced, (long long)(rt_now_ms() - t0));
    strset_free(&ids);
    return rc;
}

const runtime_ops runtime_container_ops = {
    "container", ctr_open, ctr_list, ctr_start, ctr_stop, NULL,
};
