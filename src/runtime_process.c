/*
 * runtime_process.c - the `process` runtime (SPEC §4): agents are plain
 * child processes.
 *
 * Design. An agent is spawned (rt_spawn) in its own process session (so one
 * started by a one-shot `sweep` lives on after clawsweep exits, and no
 * terminal signal reaches it), with cwd = the session dir and its output
 * appended to DATA/clawsweep/logs/<session>.log. What identifies it is the
 * pid file DATA/clawsweep/pids/<session>.pid, one line `PID STARTTIME`,
 * written atomically: STARTTIME is field 22 of /proc/PID/stat (clock ticks
 * since boot), so a pid the kernel has handed to some other process since
 * is never mistaken for our agent. An agent runs iff /proc/PID/stat exists,
 * its start time matches and it is not a zombie. A zombie is an agent that
 * has exited but whose parent (we, in the daemon) has not reaped it yet:
 * it is gone for every purpose, and we reap it on sight (waitpid WNOHANG,
 * harmless when it is not our child).
 *
 * A stop signals the agent's process group (it leads its own, being a
 * session leader), so tools it started go with it: SIGTERM, up to
 * stop_grace for it to exit, SIGKILL, then a bounded wait until /proc says
 * it is gone. Only then is the pid file removed and success returned: the
 * caller resets claims on that word alone (SPEC §1.4 rule 3).
 *
 * The pid file exists before the agent runs a single instruction of its
 * own: the child is forked, sets itself up, then waits on a pipe until we
 * have written its pid file, and only then execs the agent. If we are
 * killed in between, the pipe reaches EOF and the child exits without
 * ever becoming an agent - so there is never an agent clawsweep cannot
 * see, whose claims a later sweep would reset under it (found by the
 * crash test, which kills sweeps at random instants).
 *
 * A pid file is removed only after checking that it is still the very file
 * we read (same inode), so a listing never deletes the pid file of an
 * agent the daemon started a moment later. `status` and dry runs list read
 * only (runtime_read_only) and remove nothing at all.
 */
#include "runtime_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define KILL_CONFIRM_MS 5000

typedef struct {
    pid_t pid;
    unsigned long long start;
    dev_t dev; /* identity of the pid file read, for a safe removal */
    ino_t ino;
} pidrec;

/* /proc/PID/stat: 1 found (state, start time), 0 no such process, -1 an
 * unexpected error. The command name (field 2) may hold spaces and ')',
 * so the fields are counted from the last ')'. */
static int proc_stat(pid_t pid, char *state, unsigned long long *start)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ESRCH ? 0 : -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return e == ESRCH ? 0 : -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return -1;
    p += 2;
    *state = *p;
    /* p is at field 3; skip to field 22. */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return -1;
        p++;
    }
    char *end;
    errno = 0;
    *start = strtoull(p, &end, 10);
    if (errno || end == p)
        return -1;
    return 1;
}

/* 1 alive, 0 gone (a zombie counts as gone and is reaped), -1 unknown. */
static int proc_alive(pid_t pid, unsigned long long start)
{
    char state;
    unsigned long long st;
    int r = proc_stat(pid, &state, &st);
    if (r <= 0)
        return r;
    if (st != start)
        return 0;
    if (state == 'Z' || state == 'X' || state == 'x') {
        waitpid(pid, NULL, WNOHANG);
        return 0;
    }
    return 1;
}

static int pid_path(const runtime *rt, const char *sid, char *out,
                    size_t outlen)
{
    return path_join(out, outlen, "%s/%s.pid", rt->pids_dir, sid);
}

/* 1 read, 0 no pid file, -1 unreadable/malformed (logged). */
static int read_pidfile(const char *path, pidrec *r)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        log_warn("cannot read pid file", "path=%s error=%s", path,
                 strerror(errno));
        return -1;
    }
    char buf[128];
    struct stat st;
    ssize_t n = fstat(fd, &st) == 0 ? read(fd, buf, sizeof buf - 1) : -1;
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    long long pid;
    unsigned long long start;
    char extra;
    if (sscanf(buf, "%lld %llu %c", &pid, &start, &extra) != 2 || pid <= 1 ||
        pid > 0x3fffffff) {
        log_warn("malformed pid file", "path=%s", path);
        return -1;
    }
    r->pid = (pid_t)pid;
    r->start = start;
    return 1;
}

/* Remove the pid file, but only the one we read (see the top comment).
 * A NULL r removes whatever is there. */
static void remove_pidfile(const char *path, const pidrec *r)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (r && (st.st_dev != r->dev || st.st_ino != r->ino))
        return;
    if (unlink(path) != 0 && errno != ENOENT)
        log_warn("cannot remove pid file", "path=%s error=%s", path,
                 strerror(errno));
}

/* State of a session's agent: 1 running (r filled), 0 not running (a
 * stale pid file is removed, unless read only), -1 unknown. */
static int session_state(const runtime *rt, const char *sid, pidrec *r)
{
    char path[PATH_MAX];
    if (pid_path(rt, sid, path, sizeof path) != 0)
        return -1;
    int got = read_pidfile(path, r);
    if (got == 0)
        return 0;
    if (got < 0) {
        struct stat st;
        /* Malformed content can never name a live agent: drop it. */
        if (!rt->read_only && lstat(path, &st) == 0 && S_ISREG(st.st_mode))
            remove_pidfile(path, NULL);
        return 0;
    }
    int alive = proc_alive(r->pid, r->start);
    if (alive == 0 && !rt->read_only) {
        log_debug("removing stale pid file", "session=%s pid=%d", sid,
                  (int)r->pid);
        remove_pidfile(path, r);
    }
    return alive;
}

/* write_file_atomic's "<sid>.pid.tmp.<writer pid>" left by a sweep
 * killed mid-write: removed once its writer is gone (a live writer, or a
 * reused pid, keeps it until a later look). */
static void drop_leftover_tmp(const runtime *rt, DIR *d, const char *name)
{
    const char *tag = strstr(name, ".pid.tmp.");
    if (!tag || rt->read_only)
        return;
    char *end;
    errno = 0;
    long writer = strtol(tag + 9, &end, 10);
    if (errno || *end || end == tag + 9 || writer <= 1)
        return;
    if (kill((pid_t)writer, 0) == 0 || errno != ESRCH)
        return;
    if (unlinkat(dirfd(d), name, 0) == 0)
        log_info("removed a pid file a killed sweep left half-written",
                 "dir=%s file=%s", rt->pids_dir, name);
}

static int proc_list(runtime *rt, strset *running)
{
    DIR *d = opendir(rt->pids_dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        log_error("cannot list agents", "dir=%s error=%s", rt->pids_dir,
                  strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        size_t n = strlen(name);
        if (name[0] == '.')
            continue;
        if (n <= 4 || strcmp(name + n - 4, ".pid") != 0) {
            drop_leftover_tmp(rt, d, name);
            continue;
        }
        char sid[256];
        if (n - 4 >= sizeof sid) {
            log_warn("ignoring pid file with an over-long name", "dir=%s",
                     rt->pids_dir);
            continue;
        }
        memcpy(sid, name, n - 4);
        sid[n - 4] = '\0';
        if (!id_is_valid(sid)) {
            log_warn("ignoring pid file with an invalid session id",
                     "dir=%s file=%s", rt->pids_dir, name);
            continue;
        }
        pidrec r;
        int st = session_state(rt, sid, &r);
        if (st < 0) {
            log_error("cannot tell whether an agent runs", "session=%s",
                      sid);
            rc = -1;
        } else if (st == 1 && strset_add(running, sid) != 0) {
            log_error("out of memory listing agents", "");
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

/* A line in the agent's own log, so an operator can tell runs apart. */
static void log_banner(int fd, const char *what, const char *sid, pid_t pid)
{
    char ts[32], line[256];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int n = snprintf(line, sizeof line, "--- clawsweep: %s session=%s "
                     "pid=%d at %s\n", what, sid, (int)pid, ts);
    if (n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) < 0)
        log_debug("cannot write to agent log", "session=%s", sid);
}

static void kill_agent(pid_t pid, int sig)
{
    /* The agent leads its own process group: signal all of it. If it is
     * not a group leader (someone else's pid file), no group has its id
     * and only the process itself is signalled. */
    if (kill(-pid, sig) != 0)
        kill(pid, sig);
}

static int proc_start(runtime *rt, const agent_ref *a, char *err,
                      size_t errlen)
{
    const char *sid = a->session_id;
    pidrec r;
    int st = session_state(rt, sid, &r);
    if (st != 0) {
        if (st > 0)
            snprintf(err, errlen, "an agent already runs for this session "
                     "(pid %d)", (int)r.pid);
        else
            snprintf(err, errlen, "cannot tell whether an agent already "
                     "runs for this session");
        return -1;
    }
    char exe[PATH_MAX], pidfile[PATH_MAX], logfile[PATH_MAX];
    if (rt_resolve(rt->agent[0], exe, sizeof exe, err, errlen) != 0)
        return -1;
    if (mkdir_p(rt->pids_dir) != 0 || mkdir_p(rt->logs_dir) != 0) {
        snprintf(err, errlen, "cannot create %s or %s: %s", rt->pids_dir,
                 rt->logs_dir, strerror(errno));
        return -1;
    }
    if (pid_path(rt, sid, pidfile, sizeof pidfile) != 0 ||
        path_join(logfile, sizeof logfile, "%s/%s.log", rt->logs_dir,
                  sid) != 0) {
        snprintf(err, errlen, "path too long under %s", rt->data_dir);
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
    if (!envp) {
        close(logfd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pid_t pid;
    rt_gate gate;
    rt_spawn_opts so = {a->session_dir, logfd, logfd, 1, 0, envp, &gate};
    int rc = rt_spawn(exe, rt->agent, &so, &pid, err, errlen);
    free(envp);
    if (rc != 0) {
        close(logfd);
        return -1;
    }

    char state;
    unsigned long long start;
    char line[64];
    if (proc_stat(pid, &state, &start) != 1) {
        snprintf(err, errlen, "agent pid %d vanished before it could be "
                 "recorded", (int)pid);
        rt_gate_drop(&gate);
        close(logfd);
        kill_agent(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    int n = snprintf(line, sizeof line, "%d %llu\n", (int)pid, start);
    if (write_file_atomic(pidfile, line, (size_t)n) != 0) {
        /* An agent we cannot track is worse than none: it never runs. */
        snprintf(err, errlen, "cannot write pid file %s: %s", pidfile,
                 strerror(errno));
        rt_gate_drop(&gate);
        close(logfd);
        waitpid(pid, NULL, 0);
        return -1;
    }
    if (rt_gate_open(&gate, exe, err, errlen) != 0) {
        close(logfd);
        waitpid(pid, NULL, 0);
        remove_pidfile(pidfile, NULL);
        return -1;
    }
    log_banner(logfd, "started", sid, pid);
    close(logfd);
    log_info("agent started", "session=%s pid=%d log=%s", sid, (int)pid,
             logfile);
    return 0;
}

/* Poll until the agent is gone or ms pass: 1 gone, 0 still there, -1
 * unknown. */
static int wait_gone(pid_t pid, unsigned long long start, int64_t ms)
{
    int64_t until = rt_now_ms() + ms;
    int64_t step = 5;
    for (;;) {
        int alive = proc_alive(pid, start);
        if (alive <= 0)
            return alive == 0 ? 1 : -1;
        int64_t left = until - rt_now_ms();
        if (left <= 0)
            return 0;
        rt_sleep_ms(step < left ? step : left);
        if (step < 100)
            step *= 2;
    }
}

static int proc_stop(runtime *rt, const agent_ref *a, char *err,
                     size_t errlen)
{
    const char *sid = a->session_id;
    char path[PATH_MAX];
    pidrec r;
    int st = session_state(rt, sid, &r);
    if (st == 0)
        return 0;
    if (st < 0 || pid_path(rt, sid, path, sizeof path) != 0) {
        snprintf(err, errlen, "cannot tell whether the agent runs");
        return -1;
    }
    int64_t t0 = rt_now_ms();
    kill_agent(r.pid, SIGTERM);
    int gone = wait_gone(r.pid, r.start, rt->stop_grace_ms);
    int forced = 0;
    if (gone == 0) {
        forced = 1;
        log_warn("agent ignored SIGTERM, killing it", "session=%s pid=%d "
                 "grace_ms=%lld", sid, (int)r.pid,
                 (long long)rt->stop_grace_ms);
        kill_agent(r.pid, SIGKILL);
        gone = wait_gone(r.pid, r.start, KILL_CONFIRM_MS);
    }
    if (gone != 1) {
        if (gone == 0)
            snprintf(err, errlen, "agent pid %d still alive %d ms after "
                     "SIGKILL", (int)r.pid, KILL_CONFIRM_MS);
        else
            snprintf(err, errlen, "cannot confirm that agent pid %d is gone "
                     "(/proc unreadable)", (int)r.pid);
        return -1;
    }
    /* The leader is gone; whatever it left in its group goes too. The
     * group id cannot have been reused while members remain. */
    kill(-r.pid, SIGKILL);
    remove_pidfile(path, &r);
    log_info("agent stopped", "session=%s pid=%d forced=%d ms=%lld", sid,
             (int)r.pid, forced, (long long)(rt_now_ms() - t0));
    return 0;
}

static int proc_exit_fd(runtime *rt, const char *sid)
{
    pidrec r;
    if (session_state(rt, sid, &r) != 1)
        return -1;
    int fd = rt_pidfd_open(r.pid);
    if (fd < 0)
        return -1;
    /* The pid could have been reused between the check and the open:
     * check again now that the fd pins the process. */
    if (proc_alive(r.pid, r.start) != 1) {
        close(fd);
        return -1;
    }
    return fd; /* pidfds are close-on-exec */
}

const runtime_ops runtime_process_ops = {
    "process", NULL, proc_list, proc_start, proc_stop, proc_exit_fd,
};
