/*
 * cmd_status.c - `status [--json] [--now TIME] [SESSION]`: per active
 * session the agent, the heartbeat age, the queue counts (pending, due,
 * processing claims, failed), the next due time and the last event from
 * clawsweep's journal. Read-only: no lock, no write, safe beside a
 * running daemon. The table is sorted with problems first; colour only
 * on a terminal and never with NO_COLOR.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdutil.h"
#include "commands.h"
#include "journal.h"
#include "log.h"
#include "runtime.h"
#include "sessiondb.h"
#include "store.h"
#include "timefmt.h"
#include "util.h"

typedef struct {
    const session_row *row;
    int running;       /* 1 yes, 0 no, -1 unknown */
    int64_t heartbeat_ms;
    sdb_queue q;
    size_t processing;
    char error[512];
    journal_entry last;
    int has_last;
    int rank; /* higher = more of a problem */
} status_line;

static int64_t mtime_ms(const char *dir, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    if (path_join(p, sizeof p, "%s/%s", dir, name) != 0 || lstat(p, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return TIME_UNKNOWN;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

static void gather(const cs_config *cfg, journal *j, const strset *running,
                   int known, int64_t now, status_line *l)
{
    const session_row *row = l->row;
    l->running = known ? strset_has(running, row->id) : -1;
    l->heartbeat_ms = TIME_UNKNOWN;
    l->q.oldest_due_ms = l->q.next_due_ms = INT64_MAX;
    l->has_last = journal_last_event(j, row->id, NULL, &l->last) == 1;
    char dir[PATH_MAX];
    if (!id_is_valid(row->id) || !id_is_valid(row->group_id)) {
        snprintf(l->error, sizeof l->error, "invalid id");
    } else if (path_join(dir, sizeof dir, "%s/v2-sessions/%s/%s", cfg->data_dir,
                         row->group_id, row->id) != 0) {
        snprintf(l->error, sizeof l->error, "path too long");
    } else {
        l->heartbeat_ms = mtime_ms(dir, ".heartbeat");
        sdb_open_opts oo = {1, 1, cfg->sweep.busy_timeout_ms};
        sessiondb *s;
        sdb_claim *claims = NULL;
        size_t n = 0;
        if (sdb_open(dir, &oo, &s, l->error, sizeof l->error) == 0) {
            if (sdb_queue_summary(s, now, &l->q, NULL, l->error,
                                  sizeof l->error) == 0 &&
                sdb_claims(s, &claims, &n, l->error, sizeof l->error) == 0)
                l->processing = n;
            sdb_claims_free(claims, n);
            sdb_close(s);
        }
    }
    if (l->error[0])
        l->rank = 4;
    else if (l->q.failed > 0)
        l->rank = 3;
    else if (l->processing > 0 && l->running == 0)
        l->rank = 2;
    else if (l->q.due > 0)
        l->rank = 1;
}

static int by_problem(const void *a, const void *b)
{
    const status_line *x = a, *y = b;
    if (x->rank != y->rank)
        return y->rank - x->rank;
    return strcmp(x->row->id, y->row->id);
}

static const char *agent_word(int running)
{
    return running < 0 ? "unknown" : running ? "running" : "-";
}

static void next_due_text(const status_line *l, int64_t now, char *out,
                          size_t len)
{
    if (l->q.due > 0)
        snprintf(out, len, "now");
    else if (l->q.next_due_ms == INT64_MAX)
        snprintf(out, len, "-");
    else {
        char age[32];
        timefmt_age(l->q.next_due_ms - now, age, sizeof age);
        snprintf(out, len, "in %s", age);
    }
}

static void last_event_text(const status_line *l, int64_t now, char *out,
                            size_t len)
{
    if (l->error[0]) {
        snprintf(out, len, "error: %s", l->error);
        return;
    }
    if (!l->has_last) {
        snprintf(out, len, "-");
        return;
    }
    char age[32];
    timefmt_age(now - l->last.at_ms, age, sizeof age);
    snprintf(out, len, "%s%s%s %s ago", l->last.kind,
             l->last.reason[0] ? " " : "", l->last.reason, age);
}

static void print_table(status_line *lines, size_t n, int64_t now)
{
    int colour = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    int w_id = 7, w_group = 5;
    for (size_t i = 0; i < n; i++) {
        int a = (int)strlen(lines[i].row->id), b = (int)strlen(lines[i].row->group_id);
        w_id = a > w_id ? a : w_id;
        w_group = b > w_group ? b : w_group;
    }
    printf("%-*s  %-*s  %-7s  %9s  %7s  %4s  %4s  %6s  %-10s  %s\n", w_id,
           "SESSION", w_group, "GROUP", "AGENT", "HEARTBEAT", "PENDING", "DUE",
           "PROC", "FAILED", "NEXT DUE", "LAST EVENT");
    for (size_t i = 0; i < n; i++) {
        status_line *l = &lines[i];
        char hb[32], next[48], last[700];
        if (l->heartbeat_ms == TIME_UNKNOWN)
            snprintf(hb, sizeof hb, "-");
        else
            timefmt_age(now - l->heartbeat_ms, hb, sizeof hb);
        next_due_text(l, now, next, sizeof next);
        last_event_text(l, now, last, sizeof last);
        const char *on = "", *off = "";
        if (colour && l->rank >= 3)
            on = "\033[31m", off = "\033[0m";
        else if (colour && l->rank == 2)
            on = "\033[33m", off = "\033[0m";
        printf("%s%-*s  %-*s  %-7s  %9s  %7d  %4d  %4zu  %6d  %-10s  %s%s\n", on,
               w_id, l->row->id, w_group, l->row->group_id,
               agent_word(l->running), hb, l->q.pending, l->q.due, l->processing,
               l->q.failed, next, last, off);
    }
    if (n == 0)
        printf("(no active sessions)\n");
}

static cJSON *lines_json(status_line *lines, size_t n, int64_t now)
{
    char when[32];
    cJSON *doc = cJSON_CreateObject();
    timefmt_iso_ms(now, when, sizeof when);
    cJSON_AddStringToObject(doc, "now", when);
    cJSON *arr = cJSON_AddArrayToObject(doc, "sessions");
    for (size_t i = 0; i < n; i++) {
        status_line *l = &lines[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "session", l->row->id);
        cJSON_AddStringToObject(o, "group", l->row->group_id);
        if (l->running < 0)
            cJSON_AddNullToObject(o, "agent_running");
        else
            cJSON_AddBoolToObject(o, "agent_running", l->running);
        if (l->heartbeat_ms == TIME_UNKNOWN)
            cJSON_AddNullToObject(o, "heartbeat_age_s");
        else
            cJSON_AddNumberToObject(o, "heartbeat_age_s",
                                    (double)(now - l->heartbeat_ms) / 1000.0);
        cJSON_AddNumberToObject(o, "pending", l->q.pending);
        cJSON_AddNumberToObject(o, "due", l->q.due);
        cJSON_AddNumberToObject(o, "processing", (double)l->processing);
        cJSON_AddNumberToObject(o, "failed", l->q.failed);
        if (l->q.due > 0)
            cJSON_AddStringToObject(o, "next_due", when);
        else if (l->q.next_due_ms == INT64_MAX)
            cJSON_AddNullToObject(o, "next_due");
        else {
            char nd[32];
            timefmt_iso_ms(l->q.next_due_ms, nd, sizeof nd);
            cJSON_AddStringToObject(o, "next_due", nd);
        }
        if (l->has_last) {
            char at[32];
            timefmt_iso_ms(l->last.at_ms, at, sizeof at);
            cJSON *e = cJSON_AddObjectToObject(o, "last_event");
            cJSON_AddStringToObject(e, "kind", l->last.kind);
            cJSON_AddStringToObject(e, "reason", l->last.reason);
            cJSON_AddStringToObject(e, "message", l->last.message);
            cJSON_AddStringToObject(e, "at", at);
        } else {
            cJSON_AddNullToObject(o, "last_event");
        }
        if (l->error[0])
            cJSON_AddStringToObject(o, "error", l->error);
        cJSON_AddItemToArray(arr, o);
    }
    return doc;
}

int cmd_status(const cs_config *cfg, int argc, char **argv)
{
    static const char *const flags[] = {"--json", "--now=", NULL};
    int seen[2] = {0, 0};
    char *values[2] = {NULL, NULL};
    char *pos[1] = {NULL};
    const char *usage = "clawsweep status [--json] [--now TIME] [SESSION]";
    int npos = cmd_scan(argc, argv, flags, seen, values, pos, 1, usage);
    if (npos < 0)
        return EXIT_USAGE;
    int64_t now = clock_now_ms();
    if (values[1] && timefmt_parse(values[1], &now) != 0) {
        fprintf(stderr, "clawsweep status: --now '%s' is not a time\n", values[1]);
        return EXIT_USAGE;
    }
    char err[1024];
    session_list sessions;
    if (store_active_sessions(cfg->data_dir, cfg->sweep.busy_timeout_ms,
                              &sessions, err, sizeof err) != 0) {
        fprintf(stderr, "clawsweep: %s\n", err);
        return EXIT_FAILURE_RUNTIME;
    }
    journal *j = NULL;
    if (journal_open(cfg->data_dir, 1, &j, err, sizeof err) != 0)
        fprintf(stderr, "clawsweep: state: %s (events unavailable)\n", err);
    runtime *rt = NULL;
    strset running = {0};
    int known = 0;
    if (runtime_open(cfg, &rt, err, sizeof err) == 0) {
        runtime_read_only(rt);
        known = runtime_list(rt, &running) == 0;
        strset_sort(&running);
    } else {
        fprintf(stderr, "clawsweep: runtime: %s\n", err);
    }
    status_line *lines = calloc(sessions.len ? sessions.len : 1, sizeof *lines);
    size_t n = 0;
    int rc = EXIT_OK;
    for (size_t i = 0; lines && i < sessions.len; i++) {
        if (npos == 1 && strcmp(sessions.v[i].id, pos[0]) != 0)
            continue;
        lines[n].row = &sessions.v[i];
        gather(cfg, j, &running, known, now, &lines[n]);
        n++;
    }
    if (!lines) {
        rc = EXIT_FAILURE_RUNTIME;
    } else if (npos == 1 && n == 0) {
        fprintf(stderr, "clawsweep status: no active session '%s'\n", pos[0]);
        rc = EXIT_USAGE;
    } else {
        qsort(lines, n, sizeof *lines, by_problem);
        if (seen[0])
            cmd_print_json(lines_json(lines, n, now));
        else
            print_table(lines, n, now);
    }
    free(lines);
    strset_free(&running);
    runtime_close(rt);
    journal_close(j);
    session_list_free(&sessions);
    return rc;
}
