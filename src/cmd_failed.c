/*
 * cmd_failed.c - `failed [--json] [SESSION]`: dead letters (status =
 * 'failed') with why they died, from clawsweep's journal when it knows.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cmdutil.h"
#include "commands.h"
#include "journal.h"
#include "sessiondb.h"
#include "store.h"
#include "timefmt.h"
#include "util.h"

typedef struct {
    const char *session;
    journal *j;
    cJSON *list;
    int count;
} failed_ctx;

static int one_failed(const sdb_failed_row *row, void *arg)
{
    failed_ctx *f = arg;
    journal_entry e;
    int known = row->id && journal_last_event(f->j, f->session, row->id, &e) == 1;
    char why[400] = "", when[32] = "";
    if (known) {
        timefmt_iso_ms(e.at_ms, when, sizeof when);
        snprintf(why, sizeof why, "%s%s%s at %s", e.kind, e.reason[0] ? ": " : "",
                 e.reason, when);
    }
    f->count++;
    if (f->list) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "session", f->session);
        cJSON_AddStringToObject(o, "message", row->id ? row->id : "");
        cJSON_AddStringToObject(o, "kind", row->kind ? row->kind : "");
        cJSON_AddStringToObject(o, "timestamp", row->timestamp ? row->timestamp : "");
        cJSON_AddNumberToObject(o, "tries", row->tries);
        if (known) {
            cJSON_AddStringToObject(o, "event", e.kind);
            cJSON_AddStringToObject(o, "reason", e.reason);
            cJSON_AddStringToObject(o, "at", when);
        }
        cJSON_AddItemToArray(f->list, o);
    } else {
        printf("%-28s %-32s %-8s tries=%-2d %s\n", f->session,
               row->id ? row->id : "?", row->kind ? row->kind : "?", row->tries,
               known ? why : "(no clawsweep record)");
    }
    return 0;
}

static int list_session(const cs_config *cfg, journal *j, const session_row *row,
                        cJSON *list, int *count)
{
    char dir[PATH_MAX], err[1024];
    if (!id_is_valid(row->id) || !id_is_valid(row->group_id)) {
        fprintf(stderr, "clawsweep: session '%s' skipped: invalid id\n", row->id);
        return -1;
    }
    if (path_join(dir, sizeof dir, "%s/v2-sessions/%s/%s", cfg->data_dir,
                  row->group_id, row->id) != 0)
        return -1;
    sdb_open_opts oo = {1, 1, cfg->sweep.busy_timeout_ms};
    sessiondb *s;
    if (sdb_open(dir, &oo, &s, err, sizeof err) != 0) {
        fprintf(stderr, "clawsweep: session %s: %s\n", row->id, err);
        return -1;
    }
    failed_ctx f = {row->id, j, list, 0};
    int rc = sdb_each_failed(s, one_failed, &f, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "clawsweep: session %s: %s\n", row->id, err);
    *count += f.count;
    sdb_close(s);
    return rc;
}

int cmd_failed(const cs_config *cfg, int argc, char **argv)
{
    static const char *const flags[] = {"--json", NULL};
    int seen[1] = {0};
    char *pos[1] = {NULL};
    int npos = cmd_scan(argc, argv, flags, seen, NULL, pos, 1,
                        "clawsweep failed [--json] [SESSION]");
    if (npos < 0)
        return EXIT_USAGE;
    if (npos == 1 && !id_is_valid(pos[0])) {
        fprintf(stderr, "clawsweep failed: '%s' is not a valid session id\n",
                pos[0]);
        return EXIT_USAGE;
    }
    char err[1024];
    journal *j = NULL;
    if (journal_open(cfg->data_dir, 1, &j, err, sizeof err) != 0)
        fprintf(stderr, "clawsweep: state: %s (reasons unavailable)\n", err);
    session_list sessions = {0};
    session_row one;
    char status[32];
    int rc = 0, count = 0;
    if (npos == 1) {
        int found = store_find_session(cfg->data_dir, cfg->sweep.busy_timeout_ms,
                                       pos[0], &one, status, sizeof status, err,
                                       sizeof err);
        if (found <= 0) {
            if (found == 0)
                fprintf(stderr, "clawsweep failed: no session '%s'\n", pos[0]);
            else
                fprintf(stderr, "clawsweep: %s\n", err);
            journal_close(j);
            return found == 0 ? EXIT_USAGE : EXIT_FAILURE_RUNTIME;
        }
        sessions.v = &one;
        sessions.len = 1;
    } else if (store_active_sessions(cfg->data_dir, cfg->sweep.busy_timeout_ms,
                                     &sessions, err, sizeof err) != 0) {
        fprintf(stderr, "clawsweep: %s\n", err);
        journal_close(j);
        return EXIT_FAILURE_RUNTIME;
    }
    cJSON *doc = seen[0] ? cJSON_CreateObject() : NULL;
    cJSON *list = doc ? cJSON_AddArrayToObject(doc, "failed") : NULL;
    for (size_t i = 0; i < sessions.len; i++)
        if (list_session(cfg, j, &sessions.v[i], list, &count) != 0)
            rc = EXIT_FAILURE_RUNTIME;
    if (doc) {
        cJSON_AddNumberToObject(doc, "count", count);
        cmd_print_json(doc);
    } else if (count == 0) {
        printf("no dead letters\n");
    }
    if (npos == 1)
        session_row_free(&one);
    else
        session_list_free(&sessions);
    journal_close(j);
    return rc;
}
