/*
 * daemon.c - `clawsweep run` (SPEC §3).
 *
 * Design. One thread, one epoll set, five kinds of wake-up:
 *   - a timerfd (CLOCK_BOOTTIME, re-armed before every sleep) for the
 *     earliest of: the next per-session deadline the last tick reported
 *     (a process_after coming due, a claim reaching its tolerance, a
 *     heartbeat reaching the ceiling, a backoff ending), the safety
 *     interval (a full tick), the end of an event debounce, the stat-poll
 *     of the inotify fallback, the cleanup pass and the watchdog ping;
 *   - a signalfd for SIGTERM/SIGINT (stop), SIGHUP (reload), SIGCHLD
 *     (reap);
 *   - an inotify fd watching DATA (v2.db, v2.db-wal: the session set) and
 *     every active session folder (inbound.db, outbound.db, .heartbeat);
 *   - one pidfd per running `process` agent (its exit).
 * Deadlines are wall-clock instants (process_after is a wall time); the
 * timer converts them to a relative BOOTTIME sleep each time it is armed,
 * and a deadline tick only runs once the wall clock has reached it.
 *
 * Ticks. The first tick and every safety-interval tick are full (orphans
 * stopped, every session opened). Everything else is incremental: the
 * sweep ctx memoizes each session's file signatures and deadline, so a
 * session that did not change costs three stats - or none: a session
 * whose watched folder reported no event since the last tick is vouched
 * unchanged (tick_opts.unchanged), so only sessions that inotify named, or
 * that are not watched, are stat'ed. File events are
 * debounced (DEBOUNCE_MS) and spaced by a gap that grows with the cost of
 * a tick (EVENT_GAP_*), so an agent writing all the time cannot cause a
 * tick storm. Heartbeat writes wake no tick of their own: a newer
 * heartbeat can only postpone a stop, never bring one forward, and the
 * memoized deadline (computed from the older heartbeat) is never late;
 * the tick it triggers sees the changed mtime and recomputes. A
 * heartbeat that disappears can bring a stop forward, so deletion does
 * wake a tick.
 *
 * Signals. SIGTERM/SIGINT are blocked (read from the signalfd) while the
 * loop sleeps and unblocked, with a handler that only sets stop_flag,
 * while a tick runs: the tick finishes the session in hand and returns,
 * agents keep running, the daemon exits 0. SIGHUP rebuilds the whole
 * configuration generation (config, time zone, runtime, sweep ctx) from
 * the same inputs; if any part fails the old generation stays.
 *
 * Starvation guard (SPEC §2). Ticks normally come at least once per
 * interval, so a tick that starts more than two intervals after the
 * previous one ended means the host slept or starved us. The gap is
 * measured on CLOCK_MONOTONIC (starvation), CLOCK_BOOTTIME (suspend) and
 * the wall clock (a clock jump makes heartbeats look old), and the
 * largest counts; then stops are suppressed for one claim_tolerance.
 *
 * Cleanup runs in a forked child every cleanup.interval (the first after
 * five minutes, or one interval if shorter), so a long pass over a big
 * tree never delays a tick or a stop signal; the child dies with the
 * daemon (PR_SET_PDEATHSIG).
 *
 * If inotify watches run out (ENOSPC: fs.inotify.max_user_watches), the
 * daemon says so once and adds an incremental tick every STAT_GATE_MS:
 * the stat gate of the incremental tick does what the watches would have.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "janitor.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "runtime.h"
#include "store.h"
#include "sweep.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"

extern char **environ;

#define DEBOUNCE_MS 75          /* coalesce a burst of file events */
#define EVENT_GAP_MIN_MS 250    /* between event-driven ticks ... */
#define EVENT_GAP_MAX_MS 1000   /* ... growing with the tick cost, capped */
#define DEADLINE_GAP_MS 10      /* floor between deadline ticks */
#define STAT_GATE_MS 1000       /* incremental tick period without inotify */
#define CLEANUP_FIRST_MS (5 * 60 * 1000)
#define PRUNE_EVERY_MS (60 * 60 * 1000)
#define JOURNAL_KEEP 100000

/* Content changes only. IN_ATTRIB and IN_CLOSE_WRITE are left out on
 * purpose: SQLite raises both on every open and close of a database, even
 * a read-only one (the -wal and -shm files), so the daemon's own reads
 * would wake it again forever; and the touch of a heartbeat (IN_ATTRIB)
 * never needs a tick (see above). */
#define CHANGE_EVENTS                                                      \
    (IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM)
#define WATCH_MASK (CHANGE_EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

enum { EV_TIMER = 1, EV_SIGNAL, EV_INOTIFY, EV_PIDFD };

static volatile sig_atomic_t stop_flag;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct {
    char *sid;
    int wd;    /* -1: not watched (retried at the next reconcile) */
    int dirty; /* an event since the last tick (or newly watched) */
} watch;

typedef struct {
    char *sid;
    int fd;
} exit_watch;

/* A configuration and everything built from it; a reload replaces it
 * whole or not at all. */
typedef struct {
    cs_config cfg;
    tz_info *tz;
    runtime *rt;
    sweep_ctx *ctx;
} generation;

typedef struct {
    generation *g;
    journal *j;
    notifier nt;
    metrics m;
    int lock_fd;
    int epfd, tfd, sfd, ifd;
    int data_wd;
    watch *w; /* sorted by session id */
    size_t nw;
    size_t *by_wd; /* indices into w of watched entries, sorted by wd */
    size_t nby;
    int all_dirty; /* events were lost (queue overflow): trust none */
    exit_watch *x;
    size_t nx, capx;
    int gating;         /* watches ran out: poll by stat */
    int need_reconcile; /* the session set may have changed */
    /* schedule: CLOCK_BOOTTIME ms, except the *_w wall-clock values */
    int64_t event_at; /* 0 = no event pending */
    int64_t full_at, cleanup_at, ping_at, prune_at;
    int64_t last_end_b, last_end_m, last_end_w;
    int64_t last_tick_ms;
    int64_t deadline_w;       /* INT64_MAX = none */
    int64_t suppress_until_w; /* starvation guard */
    pid_t cleanup_pid;
    int ready_sent;
} daemon_state;

/* ---- clocks ---------------------------------------------------------- */

static int64_t clock_ms_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t boot_ms(void) { return clock_ms_of(CLOCK_BOOTTIME); }
static int64_t mono_ms(void) { return clock_ms_of(CLOCK_MONOTONIC); }

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* ---- signals --------------------------------------------------------- */

static void stop_signals(sigset_t *s)
{
    sigemptyset(s);
    sigaddset(s, SIGTERM);
    sigaddset(s, SIGINT);
}

/* While a tick runs, SIGTERM/SIGINT reach the handler (stop_flag), so the
 * tick can end after the session in hand. */
static void stop_signals_unblock(void)
{
    sigset_t s;
    stop_signals(&s);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
}

static void stop_signals_block(void)
{
    sigset_t s;
    stop_signals(&s);
    sigprocmask(SIG_BLOCK, &s, NULL);
}

static int signals_setup(sigset_t *all)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(all);
    sigaddset(all, SIGTERM);
    sigaddset(all, SIGINT);
    sigaddset(all, SIGHUP);
    sigaddset(all, SIGCHLD);
    return sigprocmask(SIG_BLOCK, all, NULL);
}

/* ---- configuration generations --------------------------------------- */

static void generation_free(generation *g)
{
    if (!g)
        return;
    sweep_ctx_free(g->ctx);
    runtime_close(g->rt);
    tz_free(g->tz);
    free(g);
}

/* Build tz, runtime and sweep ctx for g->cfg. 0, or -1 with err set. */
static int generation_build(generation *g, journal *j, char *err,
                            size_t errlen)
{
    char e[1024];
    if (tz_resolve(g->cfg.recurrence.timezone, &g->tz, e, sizeof e) != 0) {
        snprintf(err, errlen, "recurrence.timezone: %s", e);
        return -1;
    }
    if (runtime_open(&g->cfg, &g->rt, e, sizeof e) != 0) {
        snprintf(err, errlen, "runtime: %s", e);
        return -1;
    }
    if (sweep_ctx_new(&g->cfg, g->rt, g->tz, j, &g->ctx) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* ---- systemd --------------------------------------------------------- */

static void notify_tick(daemon_state *d)
{
    char msg[256];
    snprintf(msg, sizeof msg,
             "%sSTATUS=%s%zu session(s), %zu agent(s) running, %zu due\n"
             "WATCHDOG=1",
             d->ready_sent ? "" : "READY=1\n",
             d->g->cfg.sweep.mode == MODE_OBSERVE ? "observe: " : "",
             d->m.sessions, d->m.running, d->m.due);
    notify_send(&d->nt, msg);
    d->ready_sent = 1;
    if (d->nt.watchdog_ms)
        d->ping_at = boot_ms() + d->nt.watchdog_ms;
}

/* ---- exit watches (pidfds of process agents) ------------------------- */

static void exit_watch_drop(daemon_state *d, size_t i)
{
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->x[i].fd, NULL);
    close(d->x[i].fd);
    free(d->x[i].sid);
    d->x[i] = d->x[--d->nx];
}

static int exit_watch_has(const daemon_state *d, const char *sid)
{
    for (size_t i = 0; i < d->nx; i++)
        if (!strcmp(d->x[i].sid, sid))
            return 1;
    return 0;
}

/* After a tick: a pidfd for every running agent that has none yet, none
 * for agents that are gone. Only the process runtime has pidfds. */
static void exit_watches_refresh(daemon_state *d)
{
    if (d->g->cfg.runtime.kind != RT_PROCESS)
        return;
    strset run = {0};
    if (runtime_list(d->g->rt, &run) != 0) {
        strset_free(&run);
        return;
    }
    strset_sort(&run);
    for (size_t i = d->nx; i-- > 0;)
        if (!strset_has(&run, d->x[i].sid))
            exit_watch_drop(d, i);
    for (size_t i = 0; i < run.len; i++) {
        const char *sid = run.items[i];
        if (exit_watch_has(d, sid))
            continue;
        if (d->nx == d->capx) {
            size_t cap = d->capx ? d->capx * 2 : 8;
            exit_watch *nx = realloc(d->x, cap * sizeof *nx);
            if (!nx)
                break;
            d->x = nx;
            d->capx = cap;
        }
        int fd = runtime_exit_fd(d->g->rt, sid);
        if (fd < 0)
            continue;
        char *id = strdup(sid);
        struct epoll_event ev = {.events = EPOLLIN,
                                 .data.u64 = ((uint64_t)EV_PIDFD << 32) |
                                             (uint32_t)fd};
        if (!id || epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            free(id);
            close(fd);
            continue;
        }
        d->x[d->nx++] = (exit_watch){id, fd};
    }
    strset_free(&run);
}

/* ---- inotify --------------------------------------------------------- */

static void watches_free(daemon_state *d)
{
    for (size_t i = 0; i < d->nw; i++)
        free(d->w[i].sid);
    free(d->w);
    d->w = NULL;
    d->nw = 0;
    free(d->by_wd);
    d->by_wd = NULL;
    d->nby = 0;
}

static int by_wd_cmp(const void *a, const void *b, void *arg)
{
    const watch *w = arg;
    int x = w[*(const size_t *)a].wd, y = w[*(const size_t *)b].wd;
    return (x > y) - (x < y);
}

static void index_by_wd(daemon_state *d)
{
    free(d->by_wd);
    d->nby = 0;
    d->by_wd = malloc((d->nw ? d->nw : 1) * sizeof *d->by_wd);
    if (!d->by_wd) {
        d->all_dirty = 1; /* without the index no event can be placed */
        return;
    }
    for (size_t i = 0; i < d->nw; i++)
        if (d->w[i].wd >= 0)
            d->by_wd[d->nby++] = i;
    qsort_r(d->by_wd, d->nby, sizeof *d->by_wd, by_wd_cmp, d->w);
}

static watch *watch_of_wd(daemon_state *d, int wd)
{
    size_t lo = 0, hi = d->nby;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        watch *w = &d->w[d->by_wd[mid]];
        if (w->wd == wd)
            return w;
        if (w->wd < wd)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* tick_opts.unchanged: 1 when inotify vouches that nothing in the
 * session's folder changed since the last tick. */
static int vouch_unchanged(void *arg, const char *sid)
{
    const daemon_state *d = arg;
    if (d->all_dirty)
        return 0;
    size_t lo = 0, hi = d->nw;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(d->w[mid].sid, sid);
        if (cmp == 0)
            return d->w[mid].wd >= 0 && !d->w[mid].dirty;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static void set_gating(daemon_state *d, int on)
{
    if (on && !d->gating)
        log_warn("inotify watches exhausted (fs.inotify.max_user_watches); "
                 "unwatched sessions are checked by stat instead",
                 "every_ms=%d", STAT_GATE_MS);
    else if (!on && d->gating)
        log_info("inotify watches available again", NULL);
    d->gating = on;
    d->m.stat_gating = on;
}

/* Watch DATA and the folder of every active session, and only those. The
 * table stays sorted by session id, like store_active_sessions. */
static void watches_reconcile(daemon_state *d)
{
    d->need_reconcile = 0;
    if (d->ifd < 0) {
        set_gating(d, 1);
        return;
    }
    const cs_config *cfg = &d->g->cfg;
    int enospc = 0;
    if (d->data_wd < 0) {
        d->data_wd = inotify_add_watch(d->ifd, cfg->data_dir, WATCH_MASK);
        if (d->data_wd < 0) {
            if (errno == ENOSPC)
                enospc = 1;
            else
                log_warn("cannot watch the data dir", "dir=%s error=%s",
                         cfg->data_dir, strerror(errno));
        }
    }
    char err[1024];
    session_list act;
    if (store_active_sessions(cfg->data_dir, cfg->sweep.busy_timeout_ms, &act,
                              err, sizeof err) != 0) {
        log_warn("cannot list sessions to watch", "error=%s", err);
        return; /* the next full tick tries again */
    }
    watch *nw = calloc(act.len ? act.len : 1, sizeof *nw);
    if (!nw) {
        session_list_free(&act);
        return;
    }
    size_t n = 0, k = 0, watched = 0;
    for (size_t i = 0; i < act.len; i++) {
        const session_row *row = &act.v[i];
        if (!id_is_valid(row->id) || !id_is_valid(row->group_id))
            continue; /* the tick reports it */
        while (k < d->nw && strcmp(d->w[k].sid, row->id) < 0) {
            if (d->w[k].wd >= 0)
                inotify_rm_watch(d->ifd, d->w[k].wd);
            free(d->w[k].sid);
            k++;
        }
        if (k < d->nw && !strcmp(d->w[k].sid, row->id) && d->w[k].wd >= 0) {
            nw[n++] = d->w[k++];
            watched++;
            continue;
        }
        char *sid = NULL;
        if (k < d->nw && !strcmp(d->w[k].sid, row->id))
            sid = d->w[k++].sid; /* known, not watched yet: try again */
        else if (!(sid = strdup(row->id)))
            continue;
        char dir[PATH_MAX];
        int wd = -1;
        if (path_join(dir, sizeof dir, "%s/v2-sessions/%s/%s", cfg->data_dir,
                      row->group_id, row->id) == 0 &&
            (wd = inotify_add_watch(d->ifd, dir, WATCH_MASK)) < 0) {
            if (errno == ENOSPC)
                enospc = 1;
            else
                log_debug("session folder not watched", "session=%s error=%s",
                          row->id, strerror(errno));
        }
        if (wd >= 0)
            watched++;
        nw[n++] = (watch){sid, wd, 1}; /* what happened before: unknown */
    }
    for (; k < d->nw; k++) {
        if (d->w[k].wd >= 0)
            inotify_rm_watch(d->ifd, d->w[k].wd);
        free(d->w[k].sid);
    }
    free(d->w);
    d->w = nw;
    d->nw = n;
    index_by_wd(d);
    session_list_free(&act);
    d->m.watches = watched;
    set_gating(d, enospc);
}

static void schedule_event_tick(daemon_state *d)
{
    if (d->event_at)
        return;
    int64_t gap = max64(EVENT_GAP_MIN_MS, 4 * d->last_tick_ms);
    gap = min64(gap, EVENT_GAP_MAX_MS);
    d->event_at = max64(boot_ms() + DEBOUNCE_MS, d->last_end_b + gap);
}

static int is_session_file(const char *name)
{
    return !strcmp(name, "inbound.db") || !strcmp(name, "outbound.db");
}

static void inotify_drain(daemon_state *d)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(d->ifd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *e = (const struct inotify_event *)(void *)p;
            p += sizeof *e + e->len;
            if (e->mask & IN_Q_OVERFLOW) {
                log_debug("inotify queue overflow", NULL);
                d->all_dirty = 1;
                d->need_reconcile = 1;
                schedule_event_tick(d);
                continue;
            }
            if (e->mask & IN_IGNORED) {
                /* the folder went away (or was unwatched by us) */
                if (e->wd == d->data_wd)
                    d->data_wd = -1;
                for (size_t i = 0; i < d->nw; i++)
                    if (d->w[i].wd == e->wd) {
                        d->w[i].wd = -1;
                        d->need_reconcile = 1;
                        schedule_event_tick(d);
                        break;
                    }
                continue;
            }
            if (!e->len)
                continue;
            if (e->wd == d->data_wd) {
                if (!strcmp(e->name, "v2.db") || !strcmp(e->name, "v2.db-wal")) {
                    d->need_reconcile = 1;
                    schedule_event_tick(d);
                }
            } else if (is_session_file(e->name) ||
                       (!strcmp(e->name, ".heartbeat") &&
                        (e->mask & (IN_DELETE | IN_MOVED_FROM)))) {
                watch *w = watch_of_wd(d, e->wd);
                if (w)
                    w->dirty = 1;
                schedule_event_tick(d);
            }
        }
    }
}

/* ---- children -------------------------------------------------------- */

static void reap_children(daemon_state *d)
{
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
        if (p != d->cleanup_pid) {
            /* an agent we started (a pidfd says so too, where there is
             * one): its exit is worth a tick */
            log_debug("child reaped", "pid=%d", (int)p);
            schedule_event_tick(d);
            continue;
        }
        d->cleanup_pid = 0;
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (code == 0) {
            log_info("cleanup pass finished", "pid=%d", (int)p);
            continue;
        }
        if (code == 3) {
            log_info("cleanup skipped: another pass is running", NULL);
            continue;
        }
        d->m.cleanup_failures++;
        log_warn("cleanup pass failed", "status=%d", code);
    }
}

static void cleanup_on_entry(void *ctx, const janitor_entry *e)
{
    (void)ctx;
    log_info("cleanup removed", "type=%s path=%s bytes=%llu%s%s",
             janitor_type_name(e->type), e->path, (unsigned long long)e->bytes,
             e->archive ? " archive=" : "", e->archive ? e->archive : "");
}

/* In the child: one janitor pass, then _exit (never return into the
 * daemon's loop or close its SQLite handles). */
static void cleanup_child(const cs_config *cfg, pid_t parent, int lock_fd)
{
    if (lock_fd >= 0)
        close(lock_fd);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(1);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    janitor_opts o;
    memset(&o, 0, sizeof o);
    o.types = JANITOR_ALL;
    o.now_ms = clock_now_ms();
    o.on_entry = cleanup_on_entry;
    janitor_report rep;
    int rc = janitor_run(cfg, &o, &rep);
    if (rc == JANITOR_BUSY)
        _exit(3);
    _exit(rc == 0 && rep.errors == 0 ? 0 : 1);
}

static void cleanup_start(daemon_state *d)
{
    d->cleanup_at = boot_ms() + d->g->cfg.cleanup.interval_ms;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        log_error("cannot start cleanup pass", "error=%s", strerror(errno));
        d->m.cleanup_failures++;
        return;
    }
    if (pid == 0)
        cleanup_child(&d->g->cfg, parent, d->lock_fd);
    d->cleanup_pid = pid;
    d->m.cleanup_runs++;
    log_info("cleanup pass started", "pid=%d", (int)pid);
}

/* ---- ticks ----------------------------------------------------------- */

static void starvation_guard(daemon_state *d, int64_t now_b, int64_t now_w)
{
    if (!d->last_end_b)
        return;
    int64_t gap = max64(mono_ms() - d->last_end_m,
                        max64(now_b - d->last_end_b, now_w - d->last_end_w));
    if (gap <= 2 * d->g->cfg.sweep.interval_ms)
        return;
    d->suppress_until_w = now_w + d->g->cfg.sweep.claim_tolerance_ms;
    char until[40];
    timefmt_iso_ms(d->suppress_until_w, until, sizeof until);
    log_warn("tick is late (host slept or was starved): no stop for an old "
             "heartbeat or claim until agents had one claim_tolerance",
             "late_ms=%lld until=%s", (long long)gap, until);
}

static void run_tick(daemon_state *d, int full)
{
    const cs_config *cfg = &d->g->cfg;
    int64_t now_b = boot_ms(), now_w = clock_now_ms();
    starvation_guard(d, now_b, now_w);
    tick_opts o;
    memset(&o, 0, sizeof o);
    o.dry_run = cfg->sweep.mode == MODE_OBSERVE;
    o.journal_would = o.dry_run;
    o.full = full;
    o.incremental = !full;
    o.now_ms = now_w;
    o.stops_suppressed_until_ms =
        d->suppress_until_w > now_w ? d->suppress_until_w : 0;
    o.stop_flag = &stop_flag;
    if (!full && d->ifd >= 0) {
        o.unchanged = vouch_unchanged;
        o.unchanged_arg = d;
    }
    d->m.stops_suppressed = o.stops_suppressed_until_ms != 0;

    tick_result r;
    double t0 = mono_s();
    stop_signals_unblock();
    int rc = sweep_tick(d->g->ctx, &o, &r);
    stop_signals_block();
    double secs = mono_s() - t0;

    /* what changed before this tick, it has seen; events of changes made
     * while it ran are still queued in the inotify fd */
    d->event_at = 0;
    d->all_dirty = 0;
    for (size_t i = 0; i < d->nw; i++)
        d->w[i].dirty = 0;
    d->last_end_b = boot_ms();
    d->last_end_m = mono_ms();
    d->last_end_w = clock_now_ms();
    d->last_tick_ms = (int64_t)(secs * 1000);
    if (full)
        d->full_at = d->last_end_b + cfg->sweep.interval_ms;
    if (rc == 0) {
        metrics_add_tick(&d->m, &r, full, secs, now_w);
        d->deadline_w = r.next_deadline_ms;
        log_debug("tick", "kind=%s sessions=%zu swept=%zu skipped=%zu "
                  "running=%zu due=%zu ms=%f",
                  full ? "full" : "incremental", r.sessions, r.swept,
                  r.skipped, r.running, r.due, secs * 1000);
    } else {
        d->m.tick_errors++;
        d->deadline_w = INT64_MAX;
    }
    tick_result_free(&r);
    if (metrics_write(&d->m, cfg->data_dir) != 0)
        log_warn("cannot write metrics", "dir=%s/clawsweep error=%s",
                 cfg->data_dir, strerror(errno));
    exit_watches_refresh(d);
    notify_tick(d);
}

/* ---- reload ---------------------------------------------------------- */

static void reload(daemon_state *d)
{
    char err[2048];
    notify_send(&d->nt, "RELOADING=1");
    generation *ng = calloc(1, sizeof *ng);
    if (!ng) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    if (config_load(&d->g->cfg.inputs, environ, &ng->cfg, err, sizeof err) != 0 ||
        generation_build(ng, d->j, err, sizeof err) != 0)
        goto fail;
    generation_free(d->g);
    d->g = ng;
    log_setup(ng->cfg.log.level, ng->cfg.log.format);
    d->m.reloads++;
    d->m.observe = ng->cfg.sweep.mode == MODE_OBSERVE;
    d->full_at = boot_ms(); /* a new ctx knows no session: sweep them all */
    d->need_reconcile = 1;
    log_info("config reloaded", "file=%s mode=%s",
             ng->cfg.config_path[0] ? ng->cfg.config_path : "(none)",
             d->m.observe ? "observe" : "own");
    notify_send(&d->nt, "READY=1");
    return;
fail:
    generation_free(ng);
    d->m.reload_failures++;
    log_error("config reload failed; keeping the old config", "error=%s",
              err);
    notify_send(&d->nt, "READY=1");
}

/* ---- the loop -------------------------------------------------------- */

static void signals_drain(daemon_state *d)
{
    struct signalfd_siginfo si;
    for (;;) {
        ssize_t n = read(d->sfd, &si, sizeof si);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof si)
            return;
        switch (si.ssi_signo) {
        case SIGTERM:
        case SIGINT:
            stop_flag = 1;
            break;
        case SIGHUP:
            reload(d);
            break;
        case SIGCHLD:
            reap_children(d);
            break;
        default:
            break;
        }
    }
}

static void pidfd_event(daemon_state *d, int fd)
{
    for (size_t i = 0; i < d->nx; i++)
        if (d->x[i].fd == fd) {
            log_debug("agent exited", "session=%s", d->x[i].sid);
            exit_watch_drop(d, i);
            break;
        }
    schedule_event_tick(d);
}

static void arm_timer(daemon_state *d, int64_t wake_b)
{
    int64_t rel = max64(wake_b - boot_ms(), 1);
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = rel / 1000;
    its.it_value.tv_nsec = (long)(rel % 1000) * 1000000L;
    timerfd_settime(d->tfd, 0, &its, NULL);
}

/* When the wall-clock deadline comes due, on the BOOTTIME axis. */
static int64_t deadline_b(const daemon_state *d, int64_t now_b, int64_t now_w)
{
    if (d->deadline_w == INT64_MAX)
        return INT64_MAX;
    int64_t in = d->deadline_w > now_w ? d->deadline_w - now_w + 1 : 0;
    if (in > 366LL * 24 * 3600 * 1000)
        return INT64_MAX;
    return max64(now_b + in, d->last_end_b + DEADLINE_GAP_MS);
}

static void loop(daemon_state *d)
{
    while (!stop_flag) {
        int64_t now_b = boot_ms(), now_w = clock_now_ms();
        int64_t wake = min64(d->full_at, deadline_b(d, now_b, now_w));
        if (d->event_at)
            wake = min64(wake, d->event_at);
        if (d->gating)
            wake = min64(wake, d->last_end_b + STAT_GATE_MS);
        if (!d->cleanup_pid)
            wake = min64(wake, d->cleanup_at);
        if (d->nt.watchdog_ms)
            wake = min64(wake, d->ping_at);
        arm_timer(d, wake);

        struct epoll_event ev[32];
        int n = epoll_wait(d->epfd, ev, 32, -1);
        if (n < 0 && errno != EINTR) {
            log_error("epoll_wait failed", "error=%s", strerror(errno));
            break;
        }
        /* signals first: a stop must win over a tick due at the same time */
        for (int i = 0; i < n; i++)
            if (ev[i].data.u64 >> 32 == EV_SIGNAL)
                signals_drain(d);
        if (stop_flag)
            break;
        for (int i = 0; i < n; i++) {
            int fd = (int)(uint32_t)ev[i].data.u64;
            switch (ev[i].data.u64 >> 32) {
            case EV_TIMER: {
                uint64_t exp;
                if (read(d->tfd, &exp, sizeof exp) < 0 && errno != EAGAIN)
                    log_debug("timerfd read failed", "error=%s",
                              strerror(errno));
                break;
            }
            case EV_INOTIFY:
                inotify_drain(d);
                break;
            case EV_PIDFD:
                pidfd_event(d, fd);
                break;
            default:
                break;
            }
        }

        now_b = boot_ms();
        now_w = clock_now_ms();
        int full = now_b >= d->full_at;
        int due = d->deadline_w != INT64_MAX && now_w >= d->deadline_w &&
                  now_b >= d->last_end_b + DEADLINE_GAP_MS;
        int event = d->event_at && now_b >= d->event_at;
        int gate = d->gating && now_b >= d->last_end_b + STAT_GATE_MS;
        if (full || due || event || gate) {
            if (d->ifd >= 0)
                inotify_drain(d); /* events that came after epoll_wait */
            if (full || d->need_reconcile)
                watches_reconcile(d);
            run_tick(d, full);
            if (stop_flag)
                break;
        }
        if (!d->cleanup_pid && boot_ms() >= d->cleanup_at)
            cleanup_start(d);
        if (boot_ms() >= d->prune_at) {
            d->prune_at = boot_ms() + PRUNE_EVERY_MS;
            if (journal_prune(d->j, JOURNAL_KEEP) != 0)
                log_warn("cannot prune the journal", NULL);
        }
        if (d->nt.watchdog_ms && boot_ms() >= d->ping_at) {
            notify_send(&d->nt, "WATCHDOG=1");
            d->ping_at = boot_ms() + d->nt.watchdog_ms;
        }
    }
}

static int epoll_add(daemon_state *d, int fd, int type)
{
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = ((uint64_t)type << 32) | (uint32_t)fd};
    return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void state_free(daemon_state *d)
{
    while (d->nx)
        exit_watch_drop(d, d->nx - 1);
    free(d->x);
    watches_free(d);
    if (d->ifd >= 0)
        close(d->ifd);
    if (d->sfd >= 0)
        close(d->sfd);
    if (d->tfd >= 0)
        close(d->tfd);
    if (d->epfd >= 0)
        close(d->epfd);
    generation_free(d->g);
    journal_close(d->j);
    notify_close(&d->nt);
}

int daemon_run(const cs_config *cfg, int lock_fd)
{
    daemon_state d;
    memset(&d, 0, sizeof d);
    d.lock_fd = lock_fd;
    d.epfd = d.tfd = d.sfd = d.ifd = d.data_wd = -1;
    d.deadline_w = INT64_MAX;
    stop_flag = 0;
    int status = 1;
    char err[2048];
    sigset_t sigs;

    /* Ticks allocate and free arrays of one entry per session. glibc would
     * raise its mmap threshold after the first such free and serve the next
     * ones from the heap, where calloc touches every page and the heap
     * keeps them: a fixed threshold keeps them mmapped, untouched pages
     * unresident, and freed memory returned at once. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    notify_open(&d.nt);
    if (signals_setup(&sigs) != 0) {
        log_error("cannot set up signals", "error=%s", strerror(errno));
        goto out;
    }
    if (!(d.g = calloc(1, sizeof *d.g))) {
        log_error("out of memory", NULL);
        goto out;
    }
    d.g->cfg = *cfg;
    if (journal_open(cfg->data_dir, 0, &d.j, err, sizeof err) != 0) {
        log_error("cannot open the state journal", "error=%s", err);
        goto out;
    }
    if (generation_build(d.g, d.j, err, sizeof err) != 0) {
        log_error("cannot start", "error=%s", err);
        goto out;
    }
    d.epfd = epoll_create1(EPOLL_CLOEXEC);
    d.tfd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
    d.sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    if (d.epfd < 0 || d.tfd < 0 || d.sfd < 0 || epoll_add(&d, d.tfd, EV_TIMER) ||
        epoll_add(&d, d.sfd, EV_SIGNAL)) {
        log_error("cannot set up the event loop", "error=%s", strerror(errno));
        goto out;
    }
    d.ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (d.ifd < 0 || epoll_add(&d, d.ifd, EV_INOTIFY) != 0) {
        log_warn("inotify unavailable; sessions are checked by stat",
                 "error=%s", strerror(errno));
        if (d.ifd >= 0)
            close(d.ifd);
        d.ifd = -1;
    }

    int64_t start_b = boot_ms();
    d.m.start_ms = clock_now_ms();
    d.m.observe = cfg->sweep.mode == MODE_OBSERVE;
    d.m.next_deadline_ms = INT64_MAX;
    d.cleanup_at = start_b + min64(CLEANUP_FIRST_MS, cfg->cleanup.interval_ms);
    d.prune_at = start_b;
    d.ping_at = start_b + d.nt.watchdog_ms;
    log_info("daemon started", "data=%s mode=%s interval_ms=%lld pid=%d",
             cfg->data_dir, d.m.observe ? "observe" : "own",
             (long long)cfg->sweep.interval_ms, (int)getpid());

    /* Orphans first (SPEC §3), then the first full tick. */
    tick_opts o;
    memset(&o, 0, sizeof o);
    o.dry_run = d.m.observe;
    o.full = 1;
    o.now_ms = clock_now_ms();
    o.stop_flag = &stop_flag;
    tick_result rr;
    memset(&rr, 0, sizeof rr);
    stop_signals_unblock();
    sweep_reap_orphans(d.g->ctx, &o, &rr);
    stop_signals_block();
    d.m.orphans += rr.orphans;
    tick_result_free(&rr);
    if (!stop_flag) {
        watches_reconcile(&d);
        run_tick(&d, 1);
    }
    loop(&d);
    notify_send(&d.nt, "STOPPING=1");
    log_info("daemon stopping; agents left running", "pid=%d", (int)getpid());
    status = 0;
out:
    state_free(&d);
    return status;
}
