/*
 * Crash consistency (issue 6): 200 rounds on one data dir of 200 sessions
 * in mixed states. Each round the host side adds work, then a real
 * `clawsweep sweep` runs with the real agent (process runtime) and is
 * killed with SIGKILL after a random delay. After every round:
 *
 *  - PRAGMA integrity_check is ok on every database (v2.db, every
 *    inbound.db and outbound.db, clawsweep's state.db);
 *  - no messages_in row is lost (ids are a superset of the last round's);
 *  - tries never decreases;
 *  - completed/failed never goes back to pending (or paused);
 *  - at most one pending-or-paused row per recurring series;
 *  - no processing claim is deleted while the agent that held it before
 *    the round is still alive (same pid and start time), and never two
 *    agents run for one session.
 *
 * Agents are found through /proc (their environment names the session
 * and this data dir), not through clawsweep's pid files: the test checks
 * clawsweep against what really runs. At the end a sweep that is not
 * killed must exit 0 and the same invariants hold.
 *
 * The PRNG is seeded from the clock (or CRASH_SEED) and the seed printed,
 * so a failing run can be replayed; CRASH_ROUNDS overrides the count.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "testlib.h"

#define NSESS 200
#define NGROUPS 10

extern char **environ;

static uint64_t rng;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static unsigned rand_below(unsigned n) { return (unsigned)(next_rand() % n); }

typedef struct {
    char id[32];
    int tries;
    char status[16];
} msg_state;

typedef struct {
    char sid[32], gid[32];
    char in[PATH_MAX], out[PATH_MAX];
    msg_state *msgs; /* sorted by id */
    size_t nmsgs;
    int next_msg;
    /* the live agent before the round (pid 0 = none) and its claims */
    pid_t agent_pid;
    unsigned long long agent_start;
    char **claims;
    size_t nclaims;
} session;

static char *root, data[PATH_MAX], v2[PATH_MAX], state_db[PATH_MAX];
static session sess[NSESS];
static char agent_env[PATH_MAX + 128];

/* ---- fixture ---- */

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("SQL failed: %s\n  %s", msg ? msg : "?", sql);
}

static sqlite3 *open_rw(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        fail_msg("open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
    sqlite3_busy_timeout(db, 10000);
    return db;
}

/* The host side adds a message (BEGIN IMMEDIATE, even seq). */
static void host_add(session *s, const char *kind, const char *process_after,
                     int tries, const char *status, const char *recurrence,
                     int trigger)
{
    char id[32];
    snprintf(id, sizeof id, "%s-%d", s->sid + 5, s->next_msg++);
    sqlite3 *db = open_rw(s->in);
    char *sql = sqlite3_mprintf(
        "BEGIN IMMEDIATE; INSERT INTO messages_in (id, seq, kind, timestamp, "
        "status, process_after, recurrence, series_id, tries, trigger, "
        "content) VALUES (%Q, (SELECT CASE WHEN m < 2 THEN 2 ELSE m + 2 - "
        "(m %% 2) END FROM (SELECT COALESCE(MAX(seq), 0) AS m FROM "
        "messages_in)), %Q, datetime('now'), %Q, %Q, %Q, %Q, %d, %d, "
        "'{\"text\":\"hi\"}'); COMMIT;",
        id, kind, status, process_after, recurrence,
        recurrence ? "rec" : id, tries, trigger);
    /* a recurring series gets its own series id */
    if (recurrence) {
        sqlite3_free(sql);
        sql = sqlite3_mprintf(
            "BEGIN IMMEDIATE; INSERT INTO messages_in (id, seq, kind, "
            "timestamp, status, process_after, recurrence, series_id, tries, "
            "trigger, content) VALUES (%Q, (SELECT CASE WHEN m < 2 THEN 2 "
            "ELSE m + 2 - (m %% 2) END FROM (SELECT COALESCE(MAX(seq), 0) AS "
            "m FROM messages_in)), %Q, datetime('now'), %Q, %Q, %Q, "
            "'rec-' || %Q, %d, %d, '{\"text\":\"hi\"}'); COMMIT;",
            id, kind, status, process_after, recurrence, id, tries, trigger);
    }
    exec_sql(db, sql);
    sqlite3_free(sql);
    sqlite3_close(db);
}

static void plant_claim(session *s, const char *id)
{
    sqlite3 *db = open_rw(s->out);
    char *sql = sqlite3_mprintf("INSERT OR REPLACE INTO processing_ack VALUES "
                                "(%Q, 'processing', '2026-01-01 00:00:00')",
                                id);
    exec_sql(db, sql);
    sqlite3_free(sql);
    sqlite3_close(db);
}

static void iso_in(int64_t delta_ms, char *out, size_t len)
{
    int64_t ms = tl_now_ms() + delta_ms;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s.%03dZ", b, (int)(ms % 1000));
}

static void build_data_dir(void)
{
    tl_datadir_init(data);
    for (int i = 0; i < NSESS; i++) {
        session *s = &sess[i];
        snprintf(s->sid, sizeof s->sid, "sess-%03d", i);
        snprintf(s->gid, sizeof s->gid, "ag-%02d", i % NGROUPS);
        tl_add_session(data, s->gid, s->sid, "active", 1, NULL);
        tl_session_file(s->in, sizeof s->in, data, s->gid, s->sid,
                        "inbound.db");
        tl_session_file(s->out, sizeof s->out, data, s->gid, s->sid,
                        "outbound.db");
        char when[40];
        switch (i % 8) {
        case 0: /* due now */
            host_add(s, "chat", NULL, 0, "pending", NULL, 1);
            host_add(s, "chat", NULL, 1, "pending", NULL, 1);
            break;
        case 1: /* stale claims of a dead agent, dead letters near */
            for (int t = 0; t < 6; t++) {
                host_add(s, "chat", NULL, t, "pending", NULL, 1);
                char id[32];
                snprintf(id, sizeof id, "%s-%d", s->sid + 5, s->next_msg - 1);
                plant_claim(s, id);
            }
            break;
        case 2: /* recurring tasks: one done (to be cloned), one pending */
            host_add(s, "task", NULL, 0, "completed", "*/3 * * * * *", 1);
            host_add(s, "task", NULL, 0, "pending", "*/2 * * * * *", 1);
            break;
        case 3: /* coming due during the run */
            iso_in((int64_t)rand_below(60000), when, sizeof when);
            host_add(s, "chat", when, 0, "pending", NULL, 1);
            break;
        case 4: /* paused, failed, context-only and system rows */
            host_add(s, "chat", NULL, 0, "paused", NULL, 1);
            host_add(s, "chat", NULL, 5, "failed", NULL, 1);
            host_add(s, "chat", NULL, 0, "pending", NULL, 0);
            host_add(s, "system", NULL, 0, "pending", NULL, 1);
            break;
        case 5: /* a paused recurring series: never cloned twice */
            host_add(s, "task", NULL, 0, "completed", "* * * * *", 1);
            host_add(s, "task", NULL, 0, "paused", NULL, 1);
            tl_sql(s->in, "UPDATE messages_in SET series_id = (SELECT "
                          "series_id FROM messages_in ORDER BY seq LIMIT 1)");
            break;
        default: /* quiet: history only */
            host_add(s, "chat", NULL, 0, "completed", NULL, 1);
            break;
        }
    }
}

/* ---- agents, as /proc sees them ---- */

typedef struct {
    pid_t pid;
    unsigned long long start;
    int session; /* index into sess */
} agent_proc;

/* Start time, state and session id (field 6) of a process. */
static int proc_start_time(pid_t pid, unsigned long long *start, char *state,
                           long *sid)
{
    char p[64], buf[1024];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    if (!rp)
        return -1;
    /* fields after comm: 3 state ... 22 starttime */
    char *tok = rp + 2;
    *state = *tok;
    for (int field = 3; field < 22; field++) {
        tok = strchr(tok, ' ');
        if (!tok)
            return -1;
        tok++;
        if (field == 5)
            *sid = strtol(tok, NULL, 10);
    }
    *start = strtoull(tok, NULL, 10);
    return 0;
}

/* Every live agent working on this data dir. */
static size_t list_agents(agent_proc *out, size_t max)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    char want[PATH_MAX + 40];
    snprintf(want, sizeof want, "SESSION_INBOUND_DB_PATH=%s/", data);
    while ((de = readdir(d)) && n < max) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        pid_t pid = (pid_t)atoi(de->d_name);
        char p[64], comm[64] = "";
        snprintf(p, sizeof p, "/proc/%d/comm", (int)pid);
        FILE *f = fopen(p, "re");
        if (!f)
            continue;
        if (!fgets(comm, sizeof comm, f))
            comm[0] = '\0';
        fclose(f);
        if (strncmp(comm, "clawsweep-agent", 15) != 0)
            continue;
        snprintf(p, sizeof p, "/proc/%d/environ", (int)pid);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        static char env[65536];
        ssize_t len = read(fd, env, sizeof env - 1);
        close(fd);
        if (len <= 0)
            continue;
        env[len] = '\0';
        int mine = 0, idx = -1;
        for (char *e = env; e < env + len; e += strlen(e) + 1) {
            if (!strncmp(e, want, strlen(want)))
                mine = 1;
            if (!strncmp(e, "CLAWSWEEP_SESSION_ID=sess-", 26))
                idx = atoi(e + 26);
        }
        char state;
        unsigned long long start;
        long psid = 0;
        /* An agent leads its own session (the runtime setsid()s it); a
         * process it forks (a sanitizer's symbolizer, say) is not one. */
        if (!mine || idx < 0 || idx >= NSESS ||
            proc_start_time(pid, &start, &state, &psid) != 0 ||
            state == 'Z' || psid != (long)pid)
            continue;
        out[n].pid = pid;
        out[n].start = start;
        out[n].session = idx;
        n++;
    }
    closedir(d);
    return n;
}

static int agent_alive(pid_t pid, unsigned long long start)
{
    unsigned long long s;
    char state;
    long psid;
    return proc_start_time(pid, &s, &state, &psid) == 0 && s == start &&
           state != 'Z';
}

/* ---- invariants ---- */

static int by_id(const void *a, const void *b)
{
    return strcmp(((const msg_state *)a)->id, ((const msg_state *)b)->id);
}

static void integrity_ok(const char *path, int round)
{
    sqlite3 *db = open_rw(path);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) !=
        SQLITE_OK)
        fail_msg("round %d: %s: %s", round, path, sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    const char *r = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0)
                                     : sqlite3_errmsg(db);
    if (!r || strcmp(r, "ok") != 0)
        fail_msg("round %d: integrity_check %s: %s", round, path,
                 r ? r : "?");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static int total_claims_kept, total_msgs;

static void check_session(session *s, int round)
{
    integrity_ok(s->in, round);
    integrity_ok(s->out, round);
    sqlite3 *db = open_rw(s->in);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT id, tries, status FROM "
                                        "messages_in ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    size_t cap = s->nmsgs + 16, n = 0;
    msg_state *now = calloc(cap, sizeof *now);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap *= 2;
            now = realloc(now, cap * sizeof *now);
        }
        snprintf(now[n].id, sizeof now[n].id, "%s",
                 (const char *)sqlite3_column_text(st, 0));
        now[n].tries = sqlite3_column_int(st, 1);
        const unsigned char *stt = sqlite3_column_text(st, 2);
        snprintf(now[n].status, sizeof now[n].status, "%s",
                 stt ? (const char *)stt : "");
        n++;
    }
    sqlite3_finalize(st);
    /* one pending-or-paused row per recurring series */
    assert_int_equal(sqlite3_prepare_v2(
                         db,
                         "SELECT series_id, count(*) FROM messages_in WHERE "
                         "status IN ('pending', 'paused') AND series_id IN "
                         "(SELECT series_id FROM messages_in WHERE "
                         "recurrence IS NOT NULL OR series_id LIKE 'rec-%' "
                         "OR id <> series_id) GROUP BY series_id HAVING "
                         "count(*) > 1",
                         -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        fail_msg("round %d: %s: series %s has %d pending/paused rows", round,
                 s->sid, sqlite3_column_text(st, 0),
                 sqlite3_column_int(st, 1));
    sqlite3_finalize(st);
    sqlite3_close(db);
    qsort(now, n, sizeof *now, by_id);
    for (size_t i = 0; i < s->nmsgs; i++) {
        msg_state *old = &s->msgs[i];
        msg_state *cur = bsearch(old, now, n, sizeof *now, by_id);
        if (!cur)
            fail_msg("round %d: %s: message %s lost", round, s->sid, old->id);
        if (cur->tries < old->tries)
            fail_msg("round %d: %s: %s tries %d -> %d", round, s->sid,
                     old->id, old->tries, cur->tries);
        if ((!strcmp(old->status, "completed") ||
             !strcmp(old->status, "failed")) &&
            (!strcmp(cur->status, "pending") || !strcmp(cur->status, "paused")))
            fail_msg("round %d: %s: %s went %s -> %s", round, s->sid, old->id,
                     old->status, cur->status);
    }
    free(s->msgs);
    s->msgs = now;
    s->nmsgs = n;
    total_msgs += (int)n;

    /* claims of an agent alive before and after the round survive */
    if (s->agent_pid && agent_alive(s->agent_pid, s->agent_start)) {
        for (size_t i = 0; i < s->nclaims; i++) {
            char *q = sqlite3_mprintf("SELECT count(*) FROM processing_ack "
                                      "WHERE message_id = %Q", s->claims[i]);
            int64_t kept = tl_int(s->out, "%s", q);
            sqlite3_free(q);
            if (kept != 1)
                fail_msg("round %d: %s: claim %s deleted while its agent "
                         "(pid %d) runs",
                         round, s->sid, s->claims[i], (int)s->agent_pid);
            total_claims_kept++;
        }
    }
}

static void snapshot_agents(int round)
{
    static agent_proc ag[1024];
    size_t n = list_agents(ag, 1024);
    for (int i = 0; i < NSESS; i++) {
        session *s = &sess[i];
        for (size_t k = 0; k < s->nclaims; k++)
            free(s->claims[k]);
        free(s->claims);
        s->claims = NULL;
        s->nclaims = 0;
        s->agent_pid = 0;
    }
    for (size_t k = 0; k < n; k++) {
        session *s = &sess[ag[k].session];
        if (s->agent_pid)
            fail_msg("round %d: two agents run for %s (pids %d and %d)",
                     round, s->sid, (int)s->agent_pid, (int)ag[k].pid);
        s->agent_pid = ag[k].pid;
        s->agent_start = ag[k].start;
        sqlite3 *db = open_rw(s->out);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT message_id FROM "
                                            "processing_ack WHERE status = "
                                            "'processing'",
                                            -1, &st, NULL),
                         SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            s->claims = realloc(s->claims, (s->nclaims + 1) * sizeof *s->claims);
            s->claims[s->nclaims++] =
                strdup((const char *)sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
}

static void check_all(int round)
{
    integrity_ok(v2, round);
    if (tl_exists(state_db))
        integrity_ok(state_db, round);
    total_msgs = 0;
    for (int i = 0; i < NSESS; i++)
        check_session(&sess[i], round);
}

/* ---- one round ---- */

static void host_activity(void)
{
    static agent_proc ag[1024];
    size_t n = list_agents(ag, 1024);
    for (int k = 0; k < 4; k++) {
        session *s = &sess[rand_below(NSESS)];
        char when[40];
        iso_in((int64_t)rand_below(5000), when, sizeof when);
        host_add(s, "chat", rand_below(2) ? NULL : when, 0, "pending", NULL,
                 1);
    }
    /* an agent crashed: its claim is left behind (never under a live one) */
    for (int k = 0; k < 2; k++) {
        int i = (int)rand_below(NSESS);
        int live = 0;
        for (size_t a = 0; a < n; a++)
            live |= ag[a].session == i;
        session *s = &sess[i];
        if (live || s->nmsgs == 0)
            continue;
        host_add(s, "chat", NULL, (int)rand_below(6), "pending", NULL, 1);
        char id[32];
        snprintf(id, sizeof id, "%s-%d", s->sid + 5, s->next_msg - 1);
        plant_claim(s, id);
    }
}

static pid_t start_sweep(void)
{
    char *argv[] = {(char *)tl_clawsweep_bin(), "-q", "-d", data, "sweep",
                    NULL};
    static char *envp[256];
    size_t k = 0;
    envp[k++] = agent_env;
    envp[k++] = "CLAWSWEEP_SWEEP_MAX_CONCURRENT=8";
    envp[k++] = "CLAWSWEEP_SWEEP_BACKOFF_BASE=1s";
    envp[k++] = "CLAWSWEEP_SWEEP_BACKOFF_MAX=4s";
    envp[k++] = "CLAWSWEEP_RECURRENCE_TIMEZONE=UTC";
    for (size_t i = 0; environ[i] && k < 250; i++)
        if (strncmp(environ[i], "CLAWSWEEP_", 10) != 0 ||
            !strncmp(environ[i], "CLAWSWEEP_BIN=", 14) ||
            !strncmp(environ[i], "CLAWSWEEP_AGENT_BIN=", 20) ||
            !strncmp(environ[i], "CLAWSWEEP_SRC=", 14))
            envp[k++] = environ[i];
    envp[k] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/sweeps.log", root);
    posix_spawn_file_actions_addopen(&fa, 2, log,
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(rc, 0);
    return pid;
}

static int sweep_to_end(void)
{
    int status;
    pid_t pid = start_sweep();
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void two_hundred_killed_sweeps(void **state)
{
    (void)state;
    const char *seed_env = getenv("CRASH_SEED");
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0)
                             : (uint64_t)tl_now_ms() ^ (uint64_t)getpid();
    if (!seed)
        seed = 1;
    rng = seed;
    const char *rounds_env = getenv("CRASH_ROUNDS");
    int rounds = rounds_env ? atoi(rounds_env) : 200;
    printf("# crash test seed: %llu (replay with CRASH_SEED=%llu)\n",
           (unsigned long long)seed, (unsigned long long)seed);
    fflush(stdout);

    root = tl_tmpdir("crash");
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(v2, sizeof v2, "%s/v2.db", data);
    snprintf(state_db, sizeof state_db, "%s/clawsweep/state.db", data);
    snprintf(agent_env, sizeof agent_env,
             "CLAWSWEEP_RUNTIME_AGENT=%s --idle 1 --poll-ms 100 --work-ms 300",
             tl_agent_bin());
    build_data_dir();
    check_all(0);

    /* How long a whole sweep takes here sets the range of kill delays. */
    int64_t t0 = tl_now_ms();
    int rc = sweep_to_end();
    int64_t full_ms = tl_now_ms() - t0;
    printf("# one full sweep of %d sessions: %lld ms (exit %d)\n", NSESS,
           (long long)full_ms, rc);
    check_all(0);
    if (full_ms < 50)
        full_ms = 50;

    int killed = 0, finished = 0;
    int64_t started = tl_now_ms();
    for (int round = 1; round <= rounds; round++) {
        host_activity();
        snapshot_agents(round);
        /* uniform over the length of a recent whole sweep: most kills
         * land mid-run, a few after it ended */
        unsigned delay = rand_below((unsigned)(full_ms * 11 / 10) + 1);
        pid_t pid = start_sweep();
        struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
            killed++;
        } else {
            finished++;
            /* it ended before the kill: follow how long sweeps take now */
            int64_t took = (int64_t)delay;
            full_ms = (full_ms * 3 + took) / 4;
            if (full_ms < 20)
                full_ms = 20;
        }
        check_all(round);
        if (round % 25 == 0) {
            printf("# round %d: %d killed, %d finished first, %d messages, "
                   "%d live claims checked, %lld s\n",
                   round, killed, finished, total_msgs, total_claims_kept,
                   (long long)((tl_now_ms() - started) / 1000));
            fflush(stdout);
        }
    }
    /* a clean sweep at the end: every session swept */
    snapshot_agents(rounds + 1);
    rc = sweep_to_end();
    if (rc != 0) {
        char log[PATH_MAX];
        snprintf(log, sizeof log, "tail -n 30 %s/sweeps.log >&2", root);
        if (system(log) < 0)
            perror("system");
    }
    assert_int_equal(rc, 0);
    check_all(rounds + 1);
    printf("# crash test: %d rounds, %d sweeps killed mid-run, %d finished "
           "before the kill, final sweep exit %d, %d messages, %d live "
           "claims checked, %lld s\n",
           rounds, killed, finished, rc, total_msgs, total_claims_kept,
           (long long)((tl_now_ms() - started) / 1000));
}

static int teardown(void **state)
{
    (void)state;
    if (!root)
        return 0;
    /* stop every agent: close the sessions and reap them as orphans */
    tl_sql(v2, "UPDATE sessions SET status = 'closed'");
    char *argv[] = {(char *)tl_clawsweep_bin(), "-q", "-d", data, "orphans",
                    NULL};
    tl_run(argv, NULL, NULL, NULL);
    for (int i = 0; i < NSESS; i++) {
        for (size_t k = 0; k < sess[i].nclaims; k++)
            free(sess[i].claims[k]);
        free(sess[i].claims);
        free(sess[i].msgs);
    }
    if (!getenv("CRASH_KEEP"))
        tl_rm_rf(root);
    else
        fprintf(stderr, "kept %s\n", root);
    free(root);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(two_hundred_killed_sweeps, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
