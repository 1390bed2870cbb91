/*
 * bench_sweep - one sweep tick over N generated sessions, timed in process
 * on one core. Usage: bench_sweep N [DIR]
 *
 * Each session gets a real inbound.db (5 messages: completed, pending in
 * the future, a dead letter, a recurring task done and re-cloned) and a
 * real outbound.db (acks, session_state), in journal_mode=DELETE - the
 * shape of a quiet, healthy install. No agent runs and nothing is due, so
 * the figure is the open-read-close cost per session (SPEC §1.4 rule 2),
 * which is what a full sweep pays for every session on every interval.
 * The first tick also pays the one-off writes (ack sync, recurrence); the
 * steady-state ticks after it are what a daemon pays.
 */
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "journal.h"
#include "log.h"
#include "runtime.h"
#include "schema.h"
#include "sweep.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"

static void exec_or_die(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench: %s\n  %s\n", msg, sql);
        exit(1);
    }
}

static void make_db(const char *path, const char *schema, const char *rows)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        exit(1);
    exec_or_die(db, "PRAGMA synchronous = OFF; PRAGMA journal_mode = DELETE;");
    exec_or_die(db, schema);
    exec_or_die(db, rows);
    sqlite3_close(db);
}

static const char inbound_rows[] =
    "INSERT INTO messages_in (id, seq, kind, timestamp, status, "
    "process_after, recurrence, series_id, content) VALUES "
    "('m1', 2, 'chat', '2026-01-01 00:00:00', 'completed', NULL, NULL, 'm1', 'hi'),"
    "('m2', 4, 'chat', '2026-01-01 00:00:00', 'pending', "
    "'2099-01-01T00:00:00.000Z', NULL, 'm2', 'later'),"
    "('m3', 6, 'chat', '2026-01-01 00:00:00', 'failed', NULL, NULL, 'm3', 'dead'),"
    "('t1', 8, 'task', '2026-01-01 00:00:00', 'completed', NULL, '0 9 * * *', "
    "'t1', 'daily'),"
    "('m4', 10, 'chat', '2026-01-01 00:00:00', 'completed', NULL, NULL, 'm4', 'ok');";

static const char outbound_rows[] =
    "INSERT INTO processing_ack VALUES ('m1', 'completed', '2026-01-01 00:00:00'),"
    "('m4', 'completed', '2026-01-01 00:00:00');"
    "INSERT INTO messages_out VALUES ('r1', 3, 'm1', '2026-01-01 00:00:00', "
    "NULL, NULL, 'chat', NULL, NULL, NULL, 'reply');";

static void generate(const char *data, int n)
{
    char p[PATH_MAX];
    mkdir(data, 0755);
    snprintf(p, sizeof p, "%s/v2-sessions", data);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/v2.db", data);
    sqlite3 *db;
    sqlite3_open(p, &db);
    exec_or_die(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;");
    exec_or_die(db, SCHEMA_CENTRAL);
    exec_or_die(db, "BEGIN;");
    for (int g = 0; g < (n + 99) / 100; g++) {
        char *sql = sqlite3_mprintf("INSERT INTO agent_groups VALUES ('ag-%d', "
                                    "'g', 'f%d', NULL, '2026');",
                                    g, g);
        exec_or_die(db, sql);
        sqlite3_free(sql);
        snprintf(p, sizeof p, "%s/v2-sessions/ag-%d", data, g);
        mkdir(p, 0755);
    }
    for (int i = 0; i < n; i++) {
        char *sql = sqlite3_mprintf("INSERT INTO sessions (id, agent_group_id, "
                                    "created_at) VALUES ('sess-%06d', 'ag-%d', "
                                    "'2026');",
                                    i, i / 100);
        exec_or_die(db, sql);
        sqlite3_free(sql);
        snprintf(p, sizeof p, "%s/v2-sessions/ag-%d/sess-%06d", data, i / 100, i);
        mkdir(p, 0755);
        char f[PATH_MAX + 32];
        snprintf(f, sizeof f, "%s/inbound.db", p);
        make_db(f, SCHEMA_INBOUND, inbound_rows);
        snprintf(f, sizeof f, "%s/outbound.db", p);
        make_db(f, SCHEMA_OUTBOUND, outbound_rows);
    }
    exec_or_die(db, "COMMIT");
    sqlite3_close(db);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_sweep N [DIR]\n");
        return 2;
    }
    int n = atoi(argv[1]);
    char dir[PATH_MAX];
    if (argc > 2)
        snprintf(dir, sizeof dir, "%s", argv[2]);
    else
        snprintf(dir, sizeof dir, "/tmp/clawsweep-bench-sweep-%d", n);
    struct stat st;
    double t0 = seconds();
    if (stat(dir, &st) != 0) {
        generate(dir, n);
        printf("generated %d sessions in %.1f s (%s)\n", n, seconds() - t0, dir);
    }

    log_setup(LOG_ERROR, LOG_TEXT);
    cs_config cfg;
    char err[1024];
    config_defaults(&cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
    if (config_finish(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    tz_info *tz;
    runtime *rt;
    journal *j;
    sweep_ctx *ctx;
    if (tz_resolve("UTC", &tz, err, sizeof err) || runtime_open(&cfg, &rt, err, sizeof err) ||
        journal_open(cfg.data_dir, 0, &j, err, sizeof err) ||
        sweep_ctx_new(&cfg, rt, tz, j, &ctx)) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    for (int round = 0; round < 4; round++) {
        tick_opts o = {.full = 1, .now_ms = clock_now_ms()};
        tick_result r;
        double a = seconds();
        sweep_tick(ctx, &o, &r);
        double took = seconds() - a;
        printf("%-12s %6d sessions: %8.1f ms  %6.1f us/session  (swept %zu, "
               "failed %zu, acks %zu, recurrences %zu)\n",
               round == 0 ? "first tick" : "steady tick", n, took * 1e3,
               took * 1e6 / n, r.swept, r.failed, r.acks, r.recurrences);
        tick_result_free(&r);
    }
    tick_opts inc = {.incremental = 1, .now_ms = clock_now_ms()};
    tick_result r;
    double a = seconds();
    sweep_tick(ctx, &inc, &r);
    double took = seconds() - a;
    printf("%-12s %6d sessions: %8.1f ms  (skipped %zu unchanged)\n",
           "incremental", n, took * 1e3, r.skipped);
    tick_result_free(&r);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS %ld KiB\n", ru.ru_maxrss);
    sweep_ctx_free(ctx);
    journal_close(j);
    runtime_close(rt);
    tz_free(tz);
    return 0;
}
