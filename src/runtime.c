/*
 * runtime.c - the runtime interface (runtime.h) and what every backend
 * shares.
 *
 * Design. runtime_open turns cfg->runtime into a `struct runtime` that
 * holds everything already parsed (command words, directories, the TZ to
 * hand on) and a table of backend functions (runtime_process.c,
 * runtime_exec.c, runtime_container.c); the public calls only dispatch.
 * The runtime keeps its own copy of what it needs, so it outlives the
 * config it was opened from (SIGHUP reloads it).
 *
 * No shell ever runs a command clawsweep builds: every child is started
 * with fork + execve and an argv (rt_spawn), with signal dispositions and
 * the signal mask reset to default — the daemon blocks and ignores
 * signals for its own loop, and a child must not inherit that. A child
 * can be held at a gate just before its exec, so the process runtime
 * records an agent's pid before the agent runs at all.
 *
 * A CLI call (rt_run_cli: docker/podman, the exec commands) runs in its
 * own process group under a deadline. The exit of the child is watched
 * through a pidfd next to its output pipes, so a CLI that leaves a
 * background process holding the pipe does not stall us; when the
 * deadline passes the whole group gets SIGKILL, so a wrapper script and
 * whatever it started both go. A hung CLI therefore costs at most
 * runtime.cli_timeout, and the caller is told it timed out.
 */
#include "runtime_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

extern char **environ;

#define CLI_OUT_MAX (16u << 20) /* a ps listing of 10k sessions is ~0.5 MB */
#define CLI_ERR_MAX 4096u
#define REAP_AFTER_KILL_MS 5000

int64_t rt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rt_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int rt_pidfd_open(pid_t pid)
{
    /* Kernels before 5.3 (and valgrind) lack it: ask once, then stop. */
    static int missing;
    if (missing) {
        errno = ENOSYS;
        return -1;
    }
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0 && errno == ENOSYS)
        missing = 1;
    return fd;
}

/* ---- finding programs ------------------------------------------------ */

static int is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           access(path, X_OK) == 0;
}

static int search_path(const char *word, char *out, size_t outlen)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        /* An empty PATH element means the current directory. */
        int ok = n == 0 ? path_join(out, outlen, "./%s", word)
                        : path_join(out, outlen, "%.*s/%s", (int)n, path,
                                    word);
        if (ok == 0 && is_executable(out))
            return 0;
        if (!end)
            break;
        path = end + 1;
    }
    return -1;
}

int rt_resolve(const char *word, char *out, size_t outlen, char *err,
               size_t errlen)
{
    if (!word || !*word) {
        snprintf(err, errlen, "empty command");
        return -1;
    }
    if (strchr(word, '/')) {
        /* Relative paths are taken from our cwd, not the agent's. */
        if (word[0] != '/') {
            char cwd[PATH_MAX];
            if (!getcwd(cwd, sizeof cwd) ||
                path_join(out, outlen, "%s/%s", cwd, word) != 0) {
                snprintf(err, errlen, "cannot resolve %s", word);
                return -1;
            }
        } else if (path_join(out, outlen, "%s", word) != 0) {
            snprintf(err, errlen, "path too long: %s", word);
            return -1;
        }
        if (!is_executable(out)) {
            snprintf(err, errlen, "%s: %s", word,
                     access(out, F_OK) == 0 ? "not an executable file"
                                            : "no such file");
            return -1;
        }
        return 0;
    }
    if (strcmp(word, "clawsweep-agent") == 0) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
            self[n] = '\0';
            char *slash = strrchr(self, '/');
            if (slash) {
                *slash = '\0';
                if (path_join(out, outlen, "%s/%s", self, word) == 0 &&
                    is_executable(out))
                    return 0;
            }
        }
    }
    if (search_path(word, out, outlen) == 0)
        return 0;
    if (strcmp(word, "clawsweep-agent") == 0)
        snprintf(err, errlen, "%s: command not found (neither beside "
                 "clawsweep nor on PATH)", word);
    else
        snprintf(err, errlen, "%s: command not found on PATH", word);
    return -1;
}

/* ---- environment ----------------------------------------------------- */

int rt_agent_env(const runtime *rt, const agent_ref *a, const char *dir,
                 char out[RT_AGENT_ENV_N][PATH_MAX + 64])
{
    const size_t n = PATH_MAX + 64;
    snprintf(out[0], n, "SESSION_INBOUND_DB_PATH=%s/inbound.db", dir);
    snprintf(out[1], n, "SESSION_OUTBOUND_DB_PATH=%s/outbound.db", dir);
    snprintf(out[2], n, "SESSION_HEARTBEAT_PATH=%s/.heartbeat", dir);
    snprintf(out[3], n, "NANOCLAW_AGENT_GROUP_ID=%s",
             a->group_id ? a->group_id : "");
    snprintf(out[4], n, "CLAWSWEEP_SESSION_ID=%s", a->session_id);
    snprintf(out[5], n, "TZ=%s", rt->tz);
    return RT_AGENT_ENV_N;
}

static int same_key(const char *a, const char *b)
{
    while (*a && *a == *b && *a != '=')
        a++, b++;
    return *a == '=' && *b == '=';
}

char **rt_env_merge(char *const extra[], size_t n)
{
    size_t have = 0;
    while (environ && environ[have])
        have++;
    char **env = malloc((have + n + 1) * sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < have; i++) {
        int replaced = 0;
        for (size_t j = 0; j < n && !replaced; j++)
            replaced = same_key(environ[i], extra[j]);
        if (!replaced)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < n; j++)
        env[k++] = extra[j];
    env[k] = NULL;
    return env;
}

/* The zone the agent should read local times in: the configured one, else
 * ours (TZ, then the /etc/localtime link), else UTC. */
static void pick_tz(const cs_config *cfg, char *out, size_t outlen)
{
    const char *tz = cfg->recurrence.timezone;
    if (!*tz) {
        tz = getenv("TZ");
        if (tz && *tz == ':')
            tz++;
    }
    if (tz && *tz) {
        snprintf(out, outlen, "%s", tz);
        return;
    }
    char link[PATH_MAX];
    ssize_t n = readlink("/etc/localtime", link, sizeof link - 1);
    if (n > 0) {
        link[n] = '\0';
        const char *z = strstr(link, "zoneinfo/");
        if (z && z[9]) {
            snprintf(out, outlen, "%s", z + 9);
            return;
        }
    }
    snprintf(out, outlen, "UTC");
}

/* ---- spawning -------------------------------------------------------- */

/* The child's side of rt_spawn: only async-signal-safe calls. go and
 * report are the child's ends of the two pipes; the parent's ends must be
 * closed here first, or the child would hold the write end of its own
 * gate and never see EOF when its parent dies before opening it. */
static void spawn_child(const char *path, char *const argv[],
                        const rt_spawn_opts *o, const int go[2],
                        const int report[2])
{
    if (go[1] >= 0)
        close(go[1]);
    close(report[0]);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int ok = (o->new_session ? setsid() >= 0
              : o->new_pgroup ? setpgid(0, 0) == 0
                              : 1);
    int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int null_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
    ok = ok && null_in >= 0 && null_out >= 0 && dup2(null_in, 0) == 0 &&
         dup2(o->out_fd >= 0 ? o->out_fd : null_out, 1) == 1 &&
         dup2(o->err_fd >= 0 ? o->err_fd : null_out, 2) == 2 &&
         (!o->cwd || chdir(o->cwd) == 0);
    for (int fd = 0; ok && fd <= 2; fd++) /* dup2 onto itself keeps CLOEXEC */
        ok = fcntl(fd, F_SETFD, 0) == 0;
    if (ok && go[0] >= 0) {
        char byte;
        ssize_t n;
        while ((n = read(go[0], &byte, 1)) < 0 && errno == EINTR)
            ;
        if (n != 1)
            _exit(127); /* the parent died before recording us */
    }
    if (ok)
        execve(path, argv, o->envp ? o->envp : environ);
    int code = errno;
    ssize_t ignored = write(report[1], &code, sizeof code);
    (void)ignored;
    _exit(127);
}

/* The errno a child reported on the exec_err pipe, 0 for EOF (it ran). */
static int exec_result(int fd)
{
    int code = 0;
    ssize_t n;
    while ((n = read(fd, &code, sizeof code)) < 0 && errno == EINTR)
        ;
    close(fd);
    return n == (ssize_t)sizeof code ? code : 0;
}

int rt_spawn(const char *path, char *const argv[], const rt_spawn_opts *o,
             pid_t *pid, char *err, size_t errlen)
{
    int go[2] = {-1, -1}, report[2];
    if ((o->gate && pipe2(go, O_CLOEXEC) != 0) ||
        pipe2(report, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        if (go[0] >= 0)
            close(go[0]), close(go[1]);
        return -1;
    }
    pid_t c = fork();
    if (c == 0)
        spawn_child(path, argv, o, go, report);
    int saved = errno;
    close(report[1]);
    if (go[0] >= 0)
        close(go[0]);
    if (c < 0) {
        snprintf(err, errlen, "cannot start %s: fork: %s", path,
                 strerror(saved));
        close(report[0]);
        if (go[1] >= 0)
            close(go[1]);
        return -1;
    }
    *pid = c;
    if (o->gate) {
        o->gate->go = go[1];
        o->gate->exec_err = report[0];
        return 0;
    }
    int code = exec_result(report[0]);
    if (code) {
        snprintf(err, errlen, "cannot start %s%s%s: %s", path,
                 o->cwd ? " in " : "", o->cwd ? o->cwd : "", strerror(code));
        waitpid(c, NULL, 0);
        return -1;
    }
    return 0;
}

int rt_gate_open(rt_gate *g, const char *path, char *err, size_t errlen)
{
    int code = write(g->go, "g", 1) == 1 ? 0 : errno;
    close(g->go);
    int ran = exec_result(g->exec_err);
    g->go = g->exec_err = -1;
    if (ran)
        code = ran;
    if (code) {
        snprintf(err, errlen, "cannot start %s: %s", path, strerror(code));
        return -1;
    }
    return 0;
}

void rt_gate_drop(rt_gate *g)
{
    close(g->go);
    close(g->exec_err);
    g->go = g->exec_err = -1;
}

/* ---- running a CLI under a deadline ---------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap, max;
} growbuf;

/* Read what is there; 1 at EOF (or a read error), 0 when more may come. */
static int drain(int fd, growbuf *g)
{
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            size_t keep = (size_t)n;
            if (g->len + keep > g->max)
                keep = g->max - g->len; /* over the cap: read and drop */
            if (keep && g->len + keep + 1 > g->cap) {
                size_t cap = g->cap ? g->cap : 4096;
                while (cap < g->len + keep + 1)
                    cap *= 2;
                char *nb = realloc(g->buf, cap);
                if (!nb)
                    keep = 0; /* drop rather than fail the call */
                else
                    g->buf = nb, g->cap = cap;
            }
            if (keep)
                memcpy(g->buf + g->len, chunk, keep), g->len += keep;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        return 1;
    }
}

static char *finish_buf(growbuf *g)
{
    if (!g->buf)
        return strdup("");
    g->buf[g->len] = '\0';
    return g->buf;
}

static int exit_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 255;
}

/* Wait for pid for at most ms; 1 reaped (status in *st), 0 not yet. */
static int reap_within(pid_t pid, int *st, int64_t ms)
{
    int64_t until = rt_now_ms() + ms;
    for (;;) {
        pid_t r = waitpid(pid, st, WNOHANG);
        if (r == pid)
            return 1;
        if (r < 0 && errno != EINTR) {
            *st = 255 << 8; /* not ours to reap (SIGCHLD ignored?) */
            return 1;
        }
        if (rt_now_ms() >= until)
            return 0;
        rt_sleep_ms(10);
    }
}

int rt_run_cli(char *const argv[], char *const envp[], int out_fd,
               int64_t timeout_ms, rt_cli_result *res, char *err,
               size_t errlen)
{
    char path[PATH_MAX];
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    growbuf gout = {NULL, 0, 0, CLI_OUT_MAX}, gerr = {NULL, 0, 0, CLI_ERR_MAX};
    pid_t pid = -1;
    int pidfd = -1, rc = -1, status = 255 << 8, reaped = 0;

    memset(res, 0, sizeof *res);
    res->status = 255;
    if (rt_resolve(argv[0], path, sizeof path, err, errlen) != 0)
        goto out;
    if (out_fd < 0) {
        if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
            snprintf(err, errlen, "pipe: %s", strerror(errno));
            goto out;
        }
        fcntl(po[0], F_SETFL, O_NONBLOCK);
        fcntl(pe[0], F_SETFL, O_NONBLOCK);
    }
    rt_spawn_opts so = {NULL, out_fd >= 0 ? out_fd : po[1],
                        out_fd >= 0 ? out_fd : pe[1], 0, 1, envp, NULL};
    if (rt_spawn(path, argv, &so, &pid, err, errlen) != 0) {
        pid = -1;
        goto out;
    }
    if (po[1] >= 0)
        close(po[1]), po[1] = -1;
    if (pe[1] >= 0)
        close(pe[1]), pe[1] = -1;

    pidfd = rt_pidfd_open(pid);
    int64_t deadline = rt_now_ms() + timeout_ms;
    int out_eof = po[0] < 0, err_eof = pe[0] < 0;
    for (;;) {
        struct pollfd pf[3];
        nfds_t n = 0;
        int io = -1, ie = -1, ip = -1;
        if (!out_eof)
            io = (int)n, pf[n++] = (struct pollfd){po[0], POLLIN, 0};
        if (!err_eof)
            ie = (int)n, pf[n++] = (struct pollfd){pe[0], POLLIN, 0};
        if (pidfd >= 0)
            ip = (int)n, pf[n++] = (struct pollfd){pidfd, POLLIN, 0};
        int64_t left = deadline - rt_now_ms();
        if (left <= 0)
            break;
        /* Without a pidfd, look at the child every 20 ms. */
        int wait_ms = pidfd >= 0 ? (int)(left > 60000 ? 60000 : left)
                                 : (int)(left > 20 ? 20 : left);
        int r = poll(pf, n, wait_ms);
        if (r < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            break;
        }
        if (io >= 0 && pf[io].revents)
            out_eof = drain(po[0], &gout);
        if (ie >= 0 && pf[ie].revents)
            err_eof = drain(pe[0], &gerr);
        if (ip < 0 || pf[ip].revents) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid || (w < 0 && errno == ECHILD)) {
                reaped = 1;
                break;
            }
        }
    }
    if (reaped) {
        /* Whatever the child wrote before it exited is in the pipes; a
         * background process it left behind may keep them open, so take
         * what is there and do not wait for EOF. */
        if (!out_eof)
            drain(po[0], &gout);
        if (!err_eof)
            drain(pe[0], &gerr);
        res->status = exit_code(status);
        rc = 0;
    } else {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        if (!reap_within(pid, &status, REAP_AFTER_KILL_MS))
            log_error("CLI child did not die after SIGKILL", "pid=%d",
                      (int)pid);
        res->timed_out = 1;
        res->status = 128 + SIGKILL;
        snprintf(err, errlen, "%s timed out after %lld ms and was killed",
                 argv[0], (long long)timeout_ms);
    }
out:
    if (pidfd >= 0)
        close(pidfd);
    for (int i = 0; i < 2; i++) {
        if (po[i] >= 0)
            close(po[i]);
        if (pe[i] >= 0)
            close(pe[i]);
    }
    res->out = finish_buf(&gout);
    res->err = finish_buf(&gerr);
    return rc;
}

void rt_cli_free(rt_cli_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}

void rt_first_line(const char *text, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!text)
        return;
    while (*text) {
        while (*text == ' ' || *text == '\t' || *text == '\r' ||
               *text == '\n')
            text++;
        const char *end = strchr(text, '\n');
        size_t n = end ? (size_t)(end - text) : strlen(text);
        while (n && (text[n - 1] == ' ' || text[n - 1] == '\r' ||
                     text[n - 1] == '\t'))
            n--;
        if (n) {
            if (n >= outlen)
                n = outlen - 1;
            memcpy(out, text, n);
            out[n] = '\0';
            return;
        }
        if (!end)
            return;
        text = end + 1;
    }
}

int rt_parse_ids(const char *text, const char *source, strset *into)
{
    const char *p = text;
    while (p && *p) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++, n--;
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
            n--;
        if (n) {
            char id[256];
            if (n >= sizeof id) {
                log_warn("ignoring an over-long session id in a listing",
                         "source=%s", source);
            } else {
                memcpy(id, p, n);
                id[n] = '\0';
                if (!id_is_valid(id))
                    log_warn("ignoring an invalid session id in a listing",
                             "source=%s id=%s", source, id);
                else if (!strset_has(into, id) && strset_add(into, id) != 0)
                    return -1;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* ---- templates ------------------------------------------------------- */

static int append(char **buf, size_t *len, size_t *cap, const char *s,
                  size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 64;
        while (c < *len + n + 1)
            c *= 2;
        char *nb = realloc(*buf, c);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

static char *subst_word(const char *w, const agent_ref *a)
{
    static const char *const keys[] = {"{session}", "{group}", "{dir}"};
    const char *vals[3] = {a && a->session_id ? a->session_id : "",
                           a && a->group_id ? a->group_id : "",
                           a && a->session_dir ? a->session_dir : ""};
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (append(&buf, &len, &cap, "", 0) != 0)
        return NULL;
    while (*w) {
        int hit = -1;
        for (int k = 0; k < 3 && hit < 0; k++)
            if (strncmp(w, keys[k], strlen(keys[k])) == 0)
                hit = k;
        int r = hit >= 0 ? append(&buf, &len, &cap, vals[hit],
                                  strlen(vals[hit]))
                         : append(&buf, &len, &cap, w, 1);
        if (r != 0) {
            free(buf);
            return NULL;
        }
        w += hit >= 0 ? strlen(keys[hit]) : 1;
    }
    return buf;
}

char **rt_template(char *const *words, const agent_ref *a)
{
    size_t n = 0;
    while (words[n])
        n++;
    char **out = calloc(n + 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!(out[i] = subst_word(words[i], a))) {
            words_free(out);
            return NULL;
        }
    }
    return out;
}

/* ---- the interface --------------------------------------------------- */

static int split_setting(const char *name, const char *value, int required,
                         char ***out, char *err, size_t errlen)
{
    int n = words_split(value, out);
    if (n < 0) {
        snprintf(err, errlen, "runtime.%s: unterminated quote", name);
        return -1;
    }
    if (required && n == 0) {
        snprintf(err, errlen, "runtime.%s is empty", name);
        return -1;
    }
    return 0;
}

int runtime_open(const cs_config *cfg, runtime **out, char *err,
                 size_t errlen)
{
    *out = NULL;
    runtime *rt = calloc(1, sizeof *rt);
    if (!rt) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rt->kind = cfg->runtime.kind;
    rt->stop_grace_ms = cfg->sweep.stop_grace_ms;
    rt->cli_timeout_ms = cfg->runtime.cli_timeout_ms;
    snprintf(rt->image, sizeof rt->image, "%s", cfg->runtime.image);
    pick_tz(cfg, rt->tz, sizeof rt->tz);
    if (cfg->data_dir[0] != '/' ||
        path_join(rt->data_dir, sizeof rt->data_dir, "%s", cfg->data_dir) ||
        path_join(rt->pids_dir, sizeof rt->pids_dir, "%s/clawsweep/pids",
                  cfg->data_dir) ||
        path_join(rt->logs_dir, sizeof rt->logs_dir, "%s/clawsweep/logs",
                  cfg->data_dir)) {
        snprintf(err, errlen, "data dir must be an absolute path that fits: "
                 "%s", cfg->data_dir);
        goto fail;
    }

    int is_exec = rt->kind == RT_EXEC;
    if (split_setting("agent", cfg->runtime.agent, !is_exec, &rt->agent, err,
                      errlen) ||
        split_setting("args", cfg->runtime.args, 0, &rt->args, err,
                      errlen) ||
        split_setting("start_cmd", cfg->runtime.start_cmd, is_exec,
                      &rt->start_cmd, err, errlen) ||
        split_setting("stop_cmd", cfg->runtime.stop_cmd, is_exec,
                      &rt->stop_cmd, err, errlen) ||
        split_setting("list_cmd", cfg->runtime.list_cmd, is_exec,
                      &rt->list_cmd, err, errlen))
        goto fail;

    switch (rt->kind) {
    case RT_PROCESS:
        rt->ops = &runtime_process_ops;
        break;
    case RT_EXEC:
        rt->ops = &runtime_exec_ops;
        break;
    case RT_DOCKER:
    case RT_PODMAN:
        rt->ops = &runtime_container_ops;
        rt->cli = rt->kind == RT_DOCKER ? "docker" : "podman";
        break;
    default:
        snprintf(err, errlen, "unknown runtime kind %d", (int)rt->kind);
        goto fail;
    }
    if (rt->ops->open && rt->ops->open(rt, err, errlen) != 0)
        goto fail;
    *out = rt;
    return 0;
fail:
    runtime_close(rt);
    return -1;
}

void runtime_read_only(runtime *rt)
{
    rt->read_only = 1;
}

void runtime_close(runtime *rt)
{
    if (!rt)
        return;
    words_free(rt->agent);
    words_free(rt->args);
    words_free(rt->start_cmd);
    words_free(rt->stop_cmd);
    words_free(rt->list_cmd);
    free(rt);
}

int runtime_list(runtime *rt, strset *running)
{
    return rt->ops->list(rt, running);
}

static int check_ref(const agent_ref *a, int need_all, char *err,
                     size_t errlen)
{
    if (!a || !a->session_id || !id_is_valid(a->session_id)) {
        snprintf(err, errlen, "invalid session id: %s",
                 a && a->session_id ? a->session_id : "(none)");
        return -1;
    }
    if (!need_all)
        return 0;
    if (!a->group_id || !id_is_valid(a->group_id)) {
        snprintf(err, errlen, "invalid agent group id: %s",
                 a->group_id ? a->group_id : "(none)");
        return -1;
    }
    if (!a->session_dir || a->session_dir[0] != '/') {
        snprintf(err, errlen, "session dir must be an absolute path: %s",
                 a->session_dir ? a->session_dir : "(none)");
        return -1;
    }
    struct stat st;
    if (stat(a->session_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "session dir %s: %s", a->session_dir,
                 errno ? strerror(errno) : "not a directory");
        return -1;
    }
    return 0;
}

int runtime_start(runtime *rt, const agent_ref *a, char *err, size_t errlen)
{
    errno = 0;
    if (check_ref(a, 1, err, errlen) != 0)
        return -1;
    return rt->ops->start(rt, a, err, errlen);
}

int runtime_stop(runtime *rt, const agent_ref *a, char *err, size_t errlen)
{
    if (check_ref(a, 0, err, errlen) != 0)
        return -1;
    return rt->ops->stop(rt, a, err, errlen);
}

int runtime_exit_fd(runtime *rt, const char *session_id)
{
    if (!session_id || !id_is_valid(session_id) || !rt->ops->exit_fd)
        return -1;
    return rt->ops->exit_fd(rt, session_id);
}
