/*
 * runtime_exec.c - the `exec` runtime (SPEC §4): the operator's own
 * commands start, stop and list agents, for hosts that start their
 * containers themselves.
 *
 * Design. runtime.start_cmd / stop_cmd / list_cmd were split into words
 * once at open; per call each word gets {session}, {group} and {dir}
 * substituted inside it and the argv is run with rt_run_cli — no shell
 * sees an id, and ids were validated before they got here. Every call has
 * the cli_timeout deadline (a stop gets stop_grace on top, since stop_cmd
 * may wait for its agent).
 *
 * start_cmd gets the agent environment with host paths, and its output
 * goes to DATA/clawsweep/logs/<session>.log like a process agent's: a
 * start_cmd that leaves the agent in the background must not leave it
 * writing into a pipe we close. list_cmd prints one running session id
 * per line; anything that is not a valid id is logged and ignored. A
 * list_cmd that fails or times out makes the list unknown (-1), never
 * empty. A stop is confirmed only when list_cmd, run after stop_cmd, no
 * longer names the session (polled briefly, as a listing may lag).
 */
#include "runtime_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define CONFIRM_MS 2000
#define CONFIRM_STEP_MS 200

static int exec_list(runtime *rt, strset *running)
{
    char err[512] = "";
    rt_cli_result res;
    char **argv = rt_template(rt->list_cmd, NULL);
    if (!argv) {
        log_error("out of memory running list_cmd", "");
        return -1;
    }
    int rc = rt_run_cli(argv, NULL, -1, rt->cli_timeout_ms, &res, err,
                        sizeof err);
    if (rc == 0 && res.status != 0) {
        char line[256];
        rt_first_line(res.err, line, sizeof line);
        log_error("list_cmd failed: running agents unknown this tick",
                  "cmd=%s status=%d stderr=%s", argv[0], res.status, line);
        rc = -1;
    } else if (rc != 0) {
        log_error("list_cmd failed: running agents unknown this tick",
                  "cmd=%s error=%s", argv[0], err);
    } else if (rt_parse_ids(res.out, "list_cmd", running) != 0) {
        log_error("out of memory parsing list_cmd output", "");
        rc = -1;
    }
    rt_cli_free(&res);
    words_free(argv);
    return rc;
}

static int exec_start(runtime *rt, const agent_ref *a, char *err,
                      size_t errlen)
{
    char logfile[PATH_MAX];
    if (mkdir_p(rt->logs_dir) != 0 ||
        path_join(logfile, sizeof logfile, "%s/%s.log", rt->logs_dir,
                  a->session_id) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", rt->logs_dir,
                 strerror(errno));
        return -1;
    }
    int logfd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
                                  O_NOFOLLOW, 0640);
    if (logfd < 0) {
        snprintf(err, errlen, "cannot open agent log %s: %s", logfile,
                 strerror(errno));
        return -1;
    }
    char vars[RT_AGENT_ENV_N][PATH_MAX + 64];
    char *extra[RT_AGENT_ENV_N];
    int nv = rt_agent_env(rt, a, a->session_dir, vars);
    for (int i = 0; i < nv; i++)
        extra[i] = vars[i];
    char **envp = rt_env_merge(extra, (size_t)nv);
    char **argv = rt_template(rt->start_cmd, a);
    int rc = -1;
    if (!envp || !argv) {
        snprintf(err, errlen, "out of memory");
    } else {
        rt_cli_result res;
        rc = rt_run_cli(argv, envp, logfd, rt->cli_timeout_ms, &res, err,
                        errlen);
        if (rc == 0 && res.status != 0) {
            snprintf(err, errlen, "start_cmd %s exited with status %d "
                     "(output in %s)", argv[0], res.status, logfile);
            rc = -1;
        }
        rt_cli_free(&res);
    }
    if (rc == 0)
        log_info("agent started", "session=%s cmd=%s", a->session_id,
                 argv[0]);
    close(logfd);
    free(envp);
    words_free(argv);
    return rc;
}

static int exec_stop(runtime *rt, const agent_ref *a, char *err,
                     size_t errlen)
{
    char **argv = rt_template(rt->stop_cmd, a);
    if (!argv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char cerr[512] = "";
    rt_cli_result res;
    int rc = rt_run_cli(argv, NULL, -1, rt->cli_timeout_ms + rt->stop_grace_ms,
                        &res, cerr, sizeof cerr);
    if (rc != 0 || res.status != 0) {
        /* Not fatal by itself: the agent may have been gone already. The
         * listing below decides. */
        char line[256];
        rt_first_line(res.err, line, sizeof line);
        log_warn("stop_cmd failed", "session=%s cmd=%s status=%d error=%s",
                 a->session_id, argv[0], res.status, rc ? cerr : line);
    }
    rt_cli_free(&res);
    words_free(argv);

    int64_t until = rt_now_ms() + CONFIRM_MS;
    for (;;) {
        strset running = {0};
        int lr = exec_list(rt, &running);
        int still = lr == 0 && strset_has(&running, a->session_id);
        strset_free(&running);
        if (lr != 0) {
            snprintf(err, errlen, "stop not confirmed: list_cmd failed");
            return -1;
        }
        if (!still) {
            log_info("agent stopped", "session=%s", a->session_id);
            return 0;
        }
        if (rt_now_ms() >= until) {
            snprintf(err, errlen, "stop not confirmed: list_cmd still "
                     "lists the session after stop_cmd");
            return -1;
        }
        rt_sleep_ms(CONFIRM_STEP_MS);
    }
}

const runtime_ops runtime_exec_ops = {
    "exec", NULL, exec_list, exec_start, exec_stop, NULL,
};
