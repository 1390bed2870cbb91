/*
 * cmd_sweep.c - `sweep [--dry-run] [--json]`: one full tick, then exit
 * (SPEC §2, §7). Exit 0 when every active session was swept, 1 when some
 * could not be (each logged), after sweeping all the others.
 */
#include <stdio.h>
#include <unistd.h>

#include "cmdutil.h"
#include "commands.h"
#include "log.h"
#include "rules.h"
#include "sweep.h"
#include "timefmt.h"

static cJSON *result_json(const tick_result *r, int dry, int64_t now_ms)
{
    char when[32];
    timefmt_iso_ms(now_ms, when, sizeof when);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddBoolToObject(doc, "dry_run", dry);
    cJSON_AddStringToObject(doc, "now", when);
    cJSON_AddNumberToObject(doc, "sessions", (double)r->sessions);
    cJSON_AddNumberToObject(doc, "swept", (double)r->swept);
    cJSON_AddNumberToObject(doc, "failed", (double)r->failed);
    cJSON_AddBoolToObject(doc, "runtime_unknown", r->runtime_unknown);
    cJSON_AddNumberToObject(doc, "acks", (double)r->acks);
    cJSON_AddNumberToObject(doc, "wakes", (double)r->wakes);
    cJSON_AddNumberToObject(doc, "retries", (double)r->retries);
    cJSON_AddNumberToObject(doc, "dead_letters", (double)r->dead_letters);
    cJSON_AddNumberToObject(doc, "recurrences", (double)r->recurrences);
    cJSON_AddNumberToObject(doc, "orphans_stopped", (double)r->orphans);
    cJSON *stops = cJSON_AddObjectToObject(doc, "stops");
    for (int k = STUCK_CEILING; k <= STUCK_CLAIM; k++)
        cJSON_AddNumberToObject(stops, rules_stuck_name((stuck_reason)k),
                                (double)r->stops[k]);
    cJSON *acts = cJSON_AddArrayToObject(doc, "actions");
    for (size_t i = 0; i < r->nactions; i++) {
        const sweep_action *a = &r->actions[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "session", a->session);
        if (a->message[0])
            cJSON_AddStringToObject(o, "message", a->message);
        cJSON_AddStringToObject(o, "action", a->action);
        cJSON_AddStringToObject(o, "detail", a->detail);
        cJSON_AddItemToArray(acts, o);
    }
    return doc;
}

static void print_text(const tick_result *r, int dry)
{
    for (size_t i = 0; i < r->nactions; i++) {
        const sweep_action *a = &r->actions[i];
        printf("%s%-16s session=%s%s%s %s\n", dry ? "would " : "", a->action,
               a->session, a->message[0] ? " message=" : "", a->message,
               a->detail);
    }
    printf("%s%zu session(s): %zu swept, %zu could not be swept; %zu "
           "wake(s), %zu stop(s), %zu retr%s, %zu dead letter(s), %zu "
           "recurrence(s)\n",
           dry ? "dry run: " : "", r->sessions, r->swept, r->failed, r->wakes,
           r->stops[1] + r->stops[2] + r->stops[3], r->retries,
           r->retries == 1 ? "y" : "ies", r->dead_letters, r->recurrences);
}

int cmd_sweep(const cs_config *cfg, int argc, char **argv)
{
    static const char *const flags[] = {"--dry-run", "--json", NULL};
    int seen[2] = {0, 0};
    if (cmd_scan(argc, argv, flags, seen, NULL, NULL, 0,
                 "clawsweep sweep [--dry-run] [--json]") < 0)
        return EXIT_USAGE;
    int dry = seen[0] || cfg->sweep.mode == MODE_OBSERVE;
    int json = seen[1];

    char err[1024];
    tz_info *tz = NULL;
    if (tz_resolve(cfg->recurrence.timezone, &tz, err, sizeof err) != 0) {
        fprintf(stderr, "clawsweep: recurrence.timezone: %s\n", err);
        return EXIT_USAGE;
    }
    int lock = -1;
    if (!dry && (lock = cmd_take_lock(cfg, "lock")) < 0) {
        tz_free(tz);
        return EXIT_FAILURE_RUNTIME;
    }
    int status = EXIT_FAILURE_RUNTIME;
    runtime *rt = NULL;
    journal *j = NULL;
    sweep_ctx *ctx = NULL;
    if (runtime_open(cfg, &rt, err, sizeof err) != 0) {
        fprintf(stderr, "clawsweep: runtime: %s\n", err);
        goto out;
    }
    if (dry)
        runtime_read_only(rt);
    if (journal_open(cfg->data_dir, dry, &j, err, sizeof err) != 0) {
        fprintf(stderr, "clawsweep: state: %s\n", err);
        goto out;
    }
    if (sweep_ctx_new(cfg, rt, tz, j, &ctx) != 0)
        goto out;
    tick_opts o = {.dry_run = dry, .full = 1, .now_ms = clock_now_ms()};
    tick_result r;
    int rc = sweep_tick(ctx, &o, &r);
    if (rc == 0) {
        if (json)
            cmd_print_json(result_json(&r, dry, o.now_ms));
        else
            print_text(&r, dry);
        status = r.failed || r.runtime_unknown ? EXIT_FAILURE_RUNTIME : EXIT_OK;
        if (!dry)
            journal_prune(j, 100000);
    }
    tick_result_free(&r);
out:
    sweep_ctx_free(ctx);
    journal_close(j);
    runtime_close(rt);
    tz_free(tz);
    if (lock >= 0)
        close(lock);
    return status;
}
