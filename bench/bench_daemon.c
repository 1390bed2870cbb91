/*
 * bench_daemon.c - the daemon's cost (issue 5), driven by bench/daemon.
 *
 *   bench_daemon N CLAWSWEEP AGENT WORKDIR     (WORKDIR: an empty folder)
 *
 * Builds a data dir of N active sessions (a real WAL v2.db, and a real
 * inbound.db + outbound.db per session holding a few finished messages,
 * so a tick reads real rows and finds nothing to do), pins itself - and so
 * every process it starts - to one CPU, and measures:
 *   1. a full tick and an incremental tick with nothing changed, in this
 *      process (the same sweep_tick the daemon runs);
 *   2. the peak RSS (VmHWM) of a real `clawsweep run` after its first
 *      ticks, and again after it woke agents;
 *   3. the CPU of 10 idle minutes: a real daemon with sweep.interval = 1s
 *      runs its safety-interval full ticks; CPU per full tick x 10 is what
 *      ten minutes cost at the default 60 s interval (idle = no event and
 *      no deadline, so the safety interval is all the daemon does);
 *   4. due-to-start latency: messages whose process_after falls due at
 *      spread instants over ~10 s in 50 sessions; the start of each agent
 *      is seen as its pid file appearing (inotify on DATA/clawsweep/pids);
 *      latency = that instant - process_after. p50, p99, max.
 * Prints one block of numbers. Targets (issue 5): incremental tick
 * <= 20 ms and RSS <= 16 MB at 10,000 sessions, latency p99 <= 1 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "journal.h"
#include "log.h"
#include "runtime.h"
#include "schema.h"
#include "sweep.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"

extern char **environ;

#define LAT_SESSIONS 50

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_daemon: %s: %s\n", what, detail);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die("sql", msg ? msg : sql);
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("open", path);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("read", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        die("read", path);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static void put_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) != 0)
        die("write", path);
}

/* ---- the data dir -------------------------------------------------------- */

/* Template session DBs (small pages), copied into every session folder. */
static void make_templates(const char *work, char *in_t, char *out_t)
{
    path_join(in_t, PATH_MAX, "%s/inbound.tpl", work);
    path_join(out_t, PATH_MAX, "%s/outbound.tpl", work);
    sqlite3 *db = open_db(in_t);
    exec_sql(db, "PRAGMA page_size = 1024; PRAGMA journal_mode = DELETE;");
    exec_sql(db, SCHEMA_INBOUND);
    exec_sql(db,
             "INSERT INTO messages_in (id, seq, kind, timestamp, status, "
             "series_id, content) VALUES "
             "('h1', 2, 'chat', '2026-01-01 00:00:00', 'completed', 'h1', "
             "'{\"text\":\"hi\"}'),"
             "('h2', 4, 'chat', '2026-01-01 00:01:00', 'completed', 'h2', "
             "'{\"text\":\"hi\"}'),"
             "('h3', 6, 'task', '2026-01-01 00:02:00', 'completed', 'h3', "
             "'{\"text\":\"hi\"}');");
    sqlite3_close(db);
    db = open_db(out_t);
    exec_sql(db, "PRAGMA page_size = 1024; PRAGMA journal_mode = DELETE;");
    exec_sql(db, SCHEMA_OUTBOUND);
    exec_sql(db,
             "INSERT INTO messages_out (id, seq, in_reply_to, timestamp, "
             "kind, content) VALUES "
             "('o1', 1, 'h1', '2026-01-01 00:00:01', 'chat', 'ok'),"
             "('o2', 3, 'h2', '2026-01-01 00:01:01', 'chat', 'ok'),"
             "('o3', 5, 'h3', '2026-01-01 00:02:01', 'chat', 'ok');"
             "INSERT INTO processing_ack VALUES "
             "('h1', 'completed', '2026-01-01 00:00:01'),"
             "('h2', 'completed', '2026-01-01 00:01:01'),"
             "('h3', 'completed', '2026-01-01 00:02:01');");
    sqlite3_close(db);
}

static void session_path(char *out, const char *data, int i, const char *name)
{
    if (path_join(out, PATH_MAX, "%s/v2-sessions/ag-%03d/sess-%06d%s%s", data,
                  i % 100, i, name ? "/" : "", name ? name : "") != 0)
        die("path too long", data);
}

static void gen(const char *work, const char *data, int n)
{
    char in_t[PATH_MAX], out_t[PATH_MAX], p[PATH_MAX];
    make_templates(work, in_t, out_t);
    size_t in_len, out_len;
    char *in_b = slurp(in_t, &in_len), *out_b = slurp(out_t, &out_len);

    mkdir(data, 0755);
    path_join(p, sizeof p, "%s/v2.db", data);
    sqlite3 *db = open_db(p);
    exec_sql(db, "PRAGMA journal_mode = WAL;");
    exec_sql(db, SCHEMA_CENTRAL);
    exec_sql(db, "BEGIN;");
    for (int g = 0; g < 100; g++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO agent_groups VALUES ('ag-%03d', 'g%d', 'g%d', "
                 "NULL, '2026-01-01 00:00:00');",
                 g, g, g);
        exec_sql(db, sql);
        path_join(p, sizeof p, "%s/v2-sessions", data);
        mkdir(p, 0755);
        path_join(p, sizeof p, "%s/v2-sessions/ag-%03d", data, g);
        mkdir(p, 0755);
    }
    for (int i = 0; i < n; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO sessions (id, agent_group_id, created_at) "
                 "VALUES ('sess-%06d', 'ag-%03d', '2026-01-01 00:00:00');",
                 i, i % 100);
        exec_sql(db, sql);
        session_path(p, data, i, NULL);
        mkdir(p, 0755);
        session_path(p, data, i, "inbound.db");
        put_file(p, in_b, in_len);
        session_path(p, data, i, "outbound.db");
        put_file(p, out_b, out_len);
    }
    exec_sql(db, "COMMIT;");
    sqlite3_close(db);
    free(in_b);
    free(out_b);
}

/* ---- 1. ticks in this process ---------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int vouch_all(void *arg, const char *sid)
{
    (void)arg;
    (void)sid;
    return 1;
}

/* Median and max of 21 incremental ticks with nothing changed. */
static void incr_ticks(sweep_ctx *ctx, int vouched, double *med, double *max)
{
    double incr[21];
    for (int k = 0; k < 21; k++) {
        tick_opts o = {.incremental = 1, .now_ms = clock_now_ms()};
        if (vouched)
            o.unchanged = vouch_all;
        tick_result r;
        double t0 = now_s();
        if (sweep_tick(ctx, &o, &r) != 0)
            die("tick", "incremental tick failed");
        incr[k] = (now_s() - t0) * 1000;
        if (r.swept != 0)
            fprintf(stderr, "bench_daemon: incremental tick swept %zu "
                            "session(s)\n", r.swept);
        tick_result_free(&r);
    }
    qsort(incr, 21, sizeof incr[0], cmp_double);
    *med = incr[10];
    *max = incr[20];
}

static void bench_ticks(const char *data, const char *agent, double *full_ms,
                        double *stat_ms, double *stat_max_ms, double *vouch_ms,
                        double *vouch_max_ms)
{
    cs_config *cfg = malloc(sizeof *cfg);
    char err[1024];
    if (!cfg)
        die("malloc", "out of memory");
    config_defaults(cfg);
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", data);
    snprintf(cfg->runtime.agent, sizeof cfg->runtime.agent, "%s", agent);
    if (config_finish(cfg, err, sizeof err) != 0)
        die("config", err);
    tz_info *tz;
    runtime *rt;
    journal *j;
    sweep_ctx *ctx;
    if (tz_resolve("UTC", &tz, err, sizeof err) != 0)
        die("tz", err);
    if (runtime_open(cfg, &rt, err, sizeof err) != 0)
        die("runtime", err);
    if (journal_open(data, 0, &j, err, sizeof err) != 0)
        die("journal", err);
    if (sweep_ctx_new(cfg, rt, tz, j, &ctx) != 0)
        die("ctx", "out of memory");

    double full[3];
    for (int k = 0; k < 3; k++) {
        tick_opts o = {.full = 1, .now_ms = clock_now_ms()};
        tick_result r;
        double t0 = now_s();
        if (sweep_tick(ctx, &o, &r) != 0)
            die("tick", "full tick failed");
        full[k] = (now_s() - t0) * 1000;
        tick_result_free(&r);
    }
    qsort(full, 3, sizeof full[0], cmp_double);
    *full_ms = full[1];
    incr_ticks(ctx, 0, stat_ms, stat_max_ms);
    incr_ticks(ctx, 1, vouch_ms, vouch_max_ms);
    sweep_ctx_free(ctx);
    journal_close(j);
    runtime_close(rt);
    tz_free(tz);
    free(cfg);
}

/* ---- real daemons ---------------------------------------------------- */

static pid_t spawn_daemon(const char *bin, const char *data,
                          const char *const *env_extra, const char *log)
{
    size_t ne = 0, nx = 0;
    while (environ[ne])
        ne++;
    while (env_extra[nx])
        nx++;
    char **envp = calloc(ne + nx + 1, sizeof *envp);
    if (!envp)
        die("calloc", "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < nx; i++)
        envp[k++] = (char *)env_extra[i];
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], "CLAWSWEEP_", 10) &&
            strncmp(environ[i], "NOTIFY_SOCKET=", 14))
            envp[k++] = environ[i];
    char *argv[] = {(char *)bin, "-q", "-d", (char *)data, "run", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    pid_t pid;
    if (posix_spawn(&pid, bin, &fa, NULL, argv, envp) != 0)
        die("spawn", bin);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    return pid;
}

static void stop_daemon(pid_t pid)
{
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "bench_daemon: daemon exited with status %d\n", st);
}

/* A sample of DATA/clawsweep/metrics.prom, -1 when absent. */
static double metric(const char *data, const char *sample)
{
    char p[PATH_MAX], key[256];
    path_join(p, sizeof p, "%s/clawsweep/metrics.prom", data);
    snprintf(key, sizeof key, "\n%s ", sample);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *s = strstr(buf, key);
    return s ? strtod(s + strlen(key), NULL) : -1;
}

static void wait_first_tick(const char *data, pid_t pid)
{
    for (int i = 0; i < 1200; i++) {
        if (metric(data, "clawsweep_ticks_total{kind=\"full\"}") >= 1)
            return;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            die("daemon", "exited before its first tick (see daemon.log)");
        sleep_ms(50);
    }
    die("daemon", "no first tick within 60 s");
}

static long status_kb(pid_t pid, const char *field)
{
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
    FILE *f = fopen(p, "r");
    long v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, strlen(field)))
            v = strtol(line + strlen(field), NULL, 10);
    fclose(f);
    return v;
}

/* utime + stime in seconds. */
static double cpu_s(pid_t pid)
{
    char p[64], buf[2048];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *s = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!s || sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                            "%llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Median duration of the real daemon's incremental tick after a v2.db
 * write that changes no session (from its metrics). */
static double daemon_event_ticks(const char *data)
{
    char p[PATH_MAX];
    path_join(p, sizeof p, "%s/v2.db", data);
    double d[7];
    for (int k = 0; k < 7; k++) {
        double before = metric(data, "clawsweep_ticks_total{kind=\"incremental\"}");
        sqlite3 *db = open_db(p);
        exec_sql(db, "UPDATE sessions SET last_active = datetime('now') "
                     "WHERE id = 'sess-000000'");
        sqlite3_close(db);
        for (int i = 0; i < 200; i++) {
            sleep_ms(10);
            if (metric(data, "clawsweep_ticks_total{kind=\"incremental\"}") >
                before)
                break;
        }
        d[k] = metric(data, "clawsweep_tick_duration_seconds") * 1000;
        sleep_ms(300);
    }
    qsort(d, 7, sizeof d[0], cmp_double);
    return d[3];
}

/* ---- 4. latency ------------------------------------------------------ */

static void add_due_message(const char *data, int i, int64_t due_ms)
{
    char p[PATH_MAX], when[40], sql[512];
    session_path(p, data, i, "inbound.db");
    timefmt_iso_ms(due_ms, when, sizeof when);
    snprintf(sql, sizeof sql,
             "INSERT INTO messages_in (id, seq, kind, timestamp, status, "
             "process_after, series_id, content) VALUES ('due-%d', 100, "
             "'task', '2026-01-01 00:00:00', 'pending', '%s', 'due-%d', "
             "'{\"text\":\"go\"}')",
             i, when, i);
    sqlite3 *db = open_db(p);
    exec_sql(db, sql);
    sqlite3_close(db);
}

static void bench_latency(const char *data, int n, double *p50, double *p99,
                          double *max, int *seen_out)
{
    int count = n < LAT_SESSIONS ? n : LAT_SESSIONS;
    int64_t due[LAT_SESSIONS];
    double lat[LAT_SESSIONS];
    int seen[LAT_SESSIONS] = {0};
    char pids[PATH_MAX];
    path_join(pids, sizeof pids, "%s/clawsweep/pids", data);
    mkdir_p(pids);
    int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (ifd < 0 || inotify_add_watch(ifd, pids, IN_MOVED_TO | IN_CREATE) < 0)
        die("inotify", strerror(errno));
    int64_t base = clock_now_ms() + 3000;
    int stride = n / count;
    for (int k = 0; k < count; k++) {
        due[k] = base + (int64_t)k * 200; /* one every 200 ms over 10 s */
        add_due_message(data, k * stride, due[k]);
    }
    int got = 0;
    int64_t until = base + (int64_t)count * 200 + 15000;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (got < count && clock_now_ms() < until) {
        ssize_t r = read(ifd, buf, sizeof buf);
        int64_t at = clock_now_ms();
        if (r <= 0) {
            sleep_ms(2);
            continue;
        }
        for (char *p = buf; p < buf + r;) {
            const struct inotify_event *e = (const void *)p;
            p += sizeof *e + e->len;
            int idx;
            if (!e->len || sscanf(e->name, "sess-%d.pid", &idx) != 1 ||
                strstr(e->name, ".tmp"))
                continue;
            if (idx % stride || idx / stride >= count || seen[idx / stride])
                continue;
            int k = idx / stride;
            seen[k] = 1;
            lat[got++] = (double)(at - due[k]);
        }
    }
    close(ifd);
    qsort(lat, (size_t)got, sizeof lat[0], cmp_double);
    *seen_out = got;
    if (!got) {
        *p50 = *p99 = *max = -1;
        return;
    }
    *p50 = lat[got / 2];
    size_t i99 = (size_t)((got - 1) * 0.99 + 0.5);
    *p99 = lat[i99];
    *max = lat[got - 1];
}

/* ---- main ------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_daemon N CLAWSWEEP AGENT WORKDIR\n");
        return 2;
    }
    int n = atoi(argv[1]);
    const char *bin = argv[2], *agent = argv[3];
    if (n < 1)
        die("N", argv[1]);
    const char *work = argv[4];
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0)
        fprintf(stderr, "bench_daemon: cannot pin to CPU 0: %s\n",
                strerror(errno));
    log_setup(LOG_ERROR, LOG_TEXT);

    char data[PATH_MAX], log[PATH_MAX], conf[PATH_MAX];
    if (strlen(work) > PATH_MAX - 200)
        die("path too long", work);
    path_join(data, sizeof data, "%s/data", work);
    path_join(log, sizeof log, "%s/daemon.log", work);
    double t0 = now_s();
    gen(work, data, n);
    double gen_s = now_s() - t0;

    double full_ms, stat_ms, stat_max_ms, vouch_ms, vouch_max_ms;
    bench_ticks(data, agent, &full_ms, &stat_ms, &stat_max_ms, &vouch_ms,
                &vouch_max_ms);

    /* the daemon's own config: the agent, room for the latency wakes */
    path_join(conf, sizeof conf, "%s/clawsweep.conf", data);
    FILE *f = fopen(conf, "w");
    if (!f)
        die("write", conf);
    fprintf(f, "[sweep]\nmax_concurrent = 100\n[runtime]\nagent = %s "
               "--idle 1\n", agent);
    fclose(f);

    /* 3. idle CPU: safety-interval ticks only, every second */
    const char *fast[] = {"CLAWSWEEP_SWEEP_INTERVAL=1s", NULL};
    pid_t pid = spawn_daemon(bin, data, fast, log);
    wait_first_tick(data, pid);
    sleep_ms(500);
    double c0 = cpu_s(pid);
    double f0 = metric(data, "clawsweep_ticks_total{kind=\"full\"}");
    double i0 = metric(data, "clawsweep_ticks_total{kind=\"incremental\"}");
    sleep_ms(10500);
    double c1 = cpu_s(pid);
    double f1 = metric(data, "clawsweep_ticks_total{kind=\"full\"}");
    double i1 = metric(data, "clawsweep_ticks_total{kind=\"incremental\"}");
    stop_daemon(pid);
    double per_full = f1 > f0 ? (c1 - c0) / (f1 - f0) : -1;

    /* 2 + 4. RSS and latency at the default interval */
    const char *none[] = {NULL};
    pid = spawn_daemon(bin, data, none, log);
    wait_first_tick(data, pid);
    sleep_ms(1000);
    double live_ms = daemon_event_ticks(data);
    long hwm_idle = status_kb(pid, "VmHWM:");
    double p50, p99, lmax;
    int seen;
    bench_latency(data, n, &p50, &p99, &lmax, &seen);
    long hwm_busy = status_kb(pid, "VmHWM:");
    long rss_now = status_kb(pid, "VmRSS:");
    stop_daemon(pid);

    printf("sessions:                  %d (generated in %.1f s)\n", n, gen_s);
    printf("full tick:                 %.1f ms (median of 3)\n", full_ms);
    printf("incremental tick, nothing changed (target <= 20 ms at 10,000):\n");
    printf("  daemon (inotify vouches):  %.2f ms median, %.2f ms max of 21\n",
           vouch_ms, vouch_max_ms);
    printf("  real daemon, v2.db write:  %.2f ms median of 7 (its metrics)\n",
           live_ms);
    printf("  stat gate (no inotify):    %.2f ms median, %.2f ms max of 21\n",
           stat_ms, stat_max_ms);
    printf("daemon peak RSS (VmHWM):   %.1f MB idle, %.1f MB after %d wakes; "
           "RSS now %.1f MB (target <= 16 MB at 10,000)\n",
           hwm_idle / 1024.0, hwm_busy / 1024.0, seen, rss_now / 1024.0);
    printf("idle CPU:                  %.3f s per full tick (%.0f full + %.0f "
           "incremental ticks in 10.5 s at interval 1s)\n",
           per_full, f1 - f0, i1 - i0);
    printf("  10 idle minutes at 60 s: %.2f CPU s = %.3f%% of one core\n",
           per_full * 10, per_full * 10 / 600 * 100);
    printf("due-to-start latency:      p50 %.0f ms, p99 %.0f ms, max %.0f ms "
           "over %d/%d starts (target p99 <= 1000 ms)\n",
           p50, p99, lmax, seen, n < LAT_SESSIONS ? n : LAT_SESSIONS);

    return 0;
}
