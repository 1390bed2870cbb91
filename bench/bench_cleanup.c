/*
 * bench_cleanup.c - the C half of bench/cleanup (the script drives it).
 *
 *   bench_cleanup gen ROOT N      a NanoClaw-like tree of about N entries
 *                                 (v1 leftovers, v2 sessions with inbox and
 *                                 outbox folders, group and agent logs, a few
 *                                 orphan sessions) with real SQLite active
 *                                 sets; half the entries 60 days old, half 1
 *   bench_cleanup measure -- CMD...
 *                                 run CMD, print "seconds maxrss_kb exit"
 *                                 (wait4: the peak RSS of CMD or of its
 *                                 largest descendant)
 *
 * Ages are set relative to the real clock, far from every window, so the
 * janitor and find(1) agree on what is old.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "schema.h"
#include "util.h"

#define DAY 86400LL

static time_t now_s;
static uint64_t made;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_cleanup: %s: %s\n", what, detail);
    exit(1);
}

static void mkd(const char *p)
{
    if (mkdir_p(p) != 0)
        die(p, strerror(errno));
    made++;
}

static void mkf(const char *dir, const char *name, int old)
{
    char p[PATH_MAX];
    if (path_join(p, sizeof p, "%s/%s", dir, name) != 0)
        die("path", name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die(p, strerror(errno));
    static const char body[100] = "{\"type\":\"bench\"}";
    if (write(fd, body, sizeof body) != (ssize_t)sizeof body)
        die(p, "short write");
    struct timespec ts[2] = {{now_s - (old ? 60 : 1) * DAY, 0},
                             {now_s - (old ? 60 : 1) * DAY, 0}};
    futimens(fd, ts);
    close(fd);
    made++;
}

static void set_age(const char *p, int old)
{
    struct timespec ts[2] = {{now_s - (old ? 60 : 1) * DAY, 0},
                             {now_s - (old ? 60 : 1) * DAY, 0}};
    utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
}

static void sql(const char *db, const char *s)
{
    sqlite3 *h;
    char *err = NULL;
    if (sqlite3_open(db, &h) != SQLITE_OK ||
        sqlite3_exec(h, s, NULL, NULL, &err) != SQLITE_OK)
        die(db, err ? err : sqlite3_errmsg(h));
    sqlite3_close(h);
}

static void uuid(char *out, unsigned a, unsigned b)
{
    sprintf(out, "%08x-%04x-4000-8000-%012x", a * 2654435761u, b & 0xffff,
            a ^ (b << 8));
}

static int gen(const char *root, long n)
{
    char data[PATH_MAX], p[PATH_MAX], q[PATH_MAX], name[128];
    now_s = time(NULL);
    if (path_join(data, sizeof data, "%s/data", root) != 0)
        die("path", root);
    mkd(data);
    path_join(p, sizeof p, "%s/store", root);
    mkd(p);
    path_join(p, sizeof p, "%s/store/messages.db", root);
    sql(p, "CREATE TABLE sessions (group_folder TEXT PRIMARY KEY, "
           "session_id TEXT NOT NULL)");

    /* v1: 50 folders, 50% of the entries */
    const int F = 50;
    long tr = n / 10 / F, dbg = n * 15 / 100 / F, td = n * 15 / 100 / F,
         tm = n / 10 / F;
    for (int f = 0; f < F; f++) {
        char base[PATH_MAX], act[64];
        snprintf(act, sizeof act, "v1-active-%d", f);
        char *ins = sqlite3_mprintf(
            "INSERT INTO sessions VALUES ('folder-%d', %Q)", f, act);
        sql(p, ins);
        sqlite3_free(ins);
        path_join(base, sizeof base, "%s/sessions/folder-%d/.claude", data,
                  f);
        path_join(q, sizeof q, "%s/projects/-workspace-group", base);
        mkd(q);
        for (long i = 0; i < tr; i++) {
            uuid(name, (unsigned)(f * 1000003 + i), 1);
            if (i == 0)
                snprintf(name, sizeof name, "%s", act);
            strcat(name, ".jsonl");
            mkf(q, name, i % 2 == 0);
            if (i % 10 == 0) { /* a tool-results folder */
                char tdir[PATH_MAX];
                name[strlen(name) - 6] = '\0';
                path_join(tdir, sizeof tdir, "%s/%s/tool-results", q, name);
                mkd(tdir);
                mkf(tdir, "toolu_01.txt", 1);
            }
        }
        const char *sub[3] = {"debug", "todos", "telemetry"};
        long cnt[3] = {dbg, td, tm};
        for (int s = 0; s < 3; s++) {
            path_join(q, sizeof q, "%s/%s", base, sub[s]);
            mkd(q);
            for (long i = 0; i < cnt[s]; i++) {
                uuid(name, (unsigned)(f * 7919 + i), (unsigned)s + 2);
                strcat(name, s == 0 ? ".txt" : "-agent.json");
                mkf(q, name, i % 2 == 0);
            }
        }
    }

    /* v2: 10 groups x 20 sessions */
    const int G = 10, S = 20;
    char v2db[PATH_MAX];
    path_join(v2db, sizeof v2db, "%s/v2.db", data);
    sql(v2db, "PRAGMA journal_mode=WAL;");
    sql(v2db, SCHEMA_CENTRAL);
    long v2tr = n * 5 / 100 / G, inbox = n / 10 / (G * S),
         outbox = n * 5 / 100 / (G * S);
    for (int g = 0; g < G; g++) {
        char gdir[PATH_MAX];
        path_join(gdir, sizeof gdir, "%s/v2-sessions/ag-%d", data, g);
        path_join(q, sizeof q, "%s/.claude-shared/projects/-workspace-agent",
                  gdir);
        mkd(q);
        for (long i = 0; i < v2tr; i++) {
            uuid(name, (unsigned)(g * 99991 + i), 9);
            strcat(name, ".jsonl");
            mkf(q, name, i % 2 == 0);
        }
        for (int s = 0; s < S + 1; s++) {
            char sdir[PATH_MAX], db[PATH_MAX];
            int orphan = s == S; /* one orphan session per group */
            path_join(sdir, sizeof sdir, "%s/sess-%d-%d", gdir, g, s);
            mkd(sdir);
            if (!orphan) {
                char *ins = sqlite3_mprintf(
                    "INSERT OR IGNORE INTO agent_groups VALUES ('ag-%d', "
                    "'g', 'ag-%d', NULL, 't');"
                    "INSERT INTO sessions (id, agent_group_id, created_at) "
                    "VALUES ('sess-%d-%d', 'ag-%d', 't')",
                    g, g, g, s, g);
                sql(v2db, ins);
                sqlite3_free(ins);
            }
            path_join(db, sizeof db, "%s/inbound.db", sdir);
            sql(db, "PRAGMA journal_mode=DELETE;");
            sql(db, SCHEMA_INBOUND);
            made++;
            path_join(db, sizeof db, "%s/outbound.db", sdir);
            sql(db, "CREATE TABLE session_state (key TEXT PRIMARY KEY, "
                    "value TEXT NOT NULL, updated_at TEXT NOT NULL);"
                    "INSERT INTO session_state VALUES ('continuation:claude',"
                    " 'cont-x', 't')");
            made++;
            if (orphan) {
                mkf(sdir, ".heartbeat", 1);
                for (int i = 0; i < 8; i++) {
                    snprintf(name, sizeof name, "note-%d.txt", i);
                    mkf(sdir, name, 1);
                }
                path_join(db, sizeof db, "%s/inbound.db", sdir);
                set_age(db, 1);
                path_join(db, sizeof db, "%s/outbound.db", sdir);
                set_age(db, 1);
                set_age(sdir, 1);
                continue;
            }
            path_join(db, sizeof db, "%s/inbound.db", sdir);
            sqlite3 *h;
            sqlite3_open(db, &h);
            sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
            const char *box[2] = {"inbox", "outbox"};
            long cnt[2] = {inbox, outbox};
            for (int b = 0; b < 2; b++)
                for (long i = 0; i < cnt[b]; i++) {
                    char mdir[PATH_MAX], id[64];
                    snprintf(id, sizeof id, "%s-%d-%d-%ld",
                             b ? "msg-out" : "msg-in", g, s, i);
                    path_join(mdir, sizeof mdir, "%s/%s/%s", sdir, box[b],
                              id);
                    mkd(mdir);
                    mkf(mdir, "attachment.bin", i % 2 == 0);
                    set_age(mdir, i % 2 == 0);
                    char *ins =
                        b == 0 ? sqlite3_mprintf(
                                     "INSERT INTO messages_in (id, seq, kind, "
                                     "timestamp, status, content) VALUES (%Q, "
                                     "%ld, 'chat', 't', %Q, 'x')",
                                     id, (i + 1) * 2,
                                     i % 4 == 0 ? "completed" : "pending")
                               : sqlite3_mprintf(
                                     "INSERT INTO delivered (message_out_id, "
                                     "delivered_at) SELECT %Q, 't' WHERE %d",
                                     id, (int)(i % 4 == 0));
                    sqlite3_exec(h, ins, NULL, NULL, NULL);
                    sqlite3_free(ins);
                }
            sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
            sqlite3_close(h);
        }
    }

    /* group logs: 100 groups; agent logs */
    long gl = n / 10 / 100, al = n * 2 / 100;
    for (int g = 0; g < 100; g++) {
        path_join(q, sizeof q, "%s/groups/group-%d/logs", root, g);
        mkd(q);
        for (long i = 0; i < gl; i++) {
            snprintf(name, sizeof name, "container-%ld.log", i);
            mkf(q, name, i % 2 == 0);
        }
    }
    path_join(q, sizeof q, "%s/clawsweep/logs", data);
    mkd(q);
    for (long i = 0; i < al; i++) {
        snprintf(name, sizeof name, "sess-%ld.log", i);
        mkf(q, name, i % 2 == 0);
    }
    printf("%" PRIu64 "\n", made);
    return 0;
}

static int measure(char **argv)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", strerror(errno));
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid)
        die("wait4", strerror(errno));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%.3f %ld %d\n", secs, ru.ru_maxrss,
           WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "gen"))
        return gen(argv[2], atol(argv[3]));
    if (argc >= 4 && !strcmp(argv[1], "measure") && !strcmp(argv[2], "--"))
        return measure(argv + 3);
    fprintf(stderr, "usage: bench_cleanup gen ROOT N | measure -- CMD...\n");
    return 2;
}
