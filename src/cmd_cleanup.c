/*
 * cmd_cleanup.c - `clawsweep cleanup [--dry-run] [--json] [--only TYPE,...]`
 * (SPEC §6, §7): one janitor pass, printing each entry that went (or would
 * go) with its type and size, then totals per type and overall.
 *
 * Output is streamed as the janitor reports entries, never collected, so a
 * pass over a million files prints in constant memory. --json writes one
 * document: the entries array is streamed element by element (each element
 * printed by cJSON), and the totals, skips and errors follow it.
 * Exit: 0 all done, 1 a runtime failure (an error on some entry, a type
 * skipped because its active set is unreadable, another pass running),
 * 2 bad usage.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "janitor.h"
#include "timefmt.h"

typedef struct {
    int json;
    int dry_run;
    unsigned long long n; /* entries printed */
    cJSON *errors;        /* array, --json only */
} out_ctx;

static void usage(FILE *f)
{
    fputs("usage: clawsweep cleanup [--dry-run] [--json] [--only TYPE,...]\n"
          "types: transcripts debug todos telemetry group_logs inbox outbox\n"
          "       agent_logs orphan_sessions\n",
          f);
}

static void print_entry(void *ctx, const janitor_entry *e)
{
    out_ctx *o = ctx;
    if (!o->json) {
        printf("%-15s %12llu  %s%s%s\n", janitor_type_name(e->type),
               (unsigned long long)e->bytes, e->path,
               e->archive ? "  archived to " : "",
               e->archive ? e->archive : "");
        return;
    }
    cJSON *obj = cJSON_CreateObject();
    char *s = NULL;
    if (obj && cJSON_AddStringToObject(obj, "type",
                                       janitor_type_name(e->type)) &&
        cJSON_AddStringToObject(obj, "path", e->path) &&
        cJSON_AddNumberToObject(obj, "bytes", (double)e->bytes) &&
        (!e->archive || cJSON_AddStringToObject(obj, "archive", e->archive)))
        s = cJSON_PrintUnformatted(obj);
    if (s) {
        printf("%s%s", o->n ? "," : "", s);
        o->n++;
    }
    cJSON_free(s);
    cJSON_Delete(obj);
}

static void note_error(void *ctx, janitor_type t, const char *file,
                       const char *msg)
{
    out_ctx *o = ctx;
    if (!o->errors)
        return;
    cJSON *e = cJSON_CreateObject();
    if (!e)
        return;
    cJSON_AddStringToObject(e, "type", janitor_type_name(t));
    cJSON_AddStringToObject(e, "file", file);
    cJSON_AddStringToObject(e, "error", msg);
    cJSON_AddItemToArray(o->errors, e);
}

static void print_text_totals(const janitor_report *r, unsigned types,
                              int dry_run)
{
    printf("%s%-15s %8s %14s\n", r->total_entries ? "\n" : "", "type",
           "entries", dry_run ? "would free" : "freed");
    for (int t = 0; t < JT_COUNT; t++) {
        if (!((types >> t) & 1u))
            continue;
        printf("%-15s %8llu %14llu%s\n", janitor_type_name((janitor_type)t),
               (unsigned long long)r->entries[t],
               (unsigned long long)r->bytes[t],
               ((r->skipped >> t) & 1u) ? "  (skipped in part: active set "
                                          "unreadable)"
                                        : "");
    }
    printf("%-15s %8llu %14llu\n", "total",
           (unsigned long long)r->total_entries,
           (unsigned long long)r->total_bytes);
    if (dry_run)
        printf("dry run: nothing was removed\n");
}

/* The part of the JSON document after the entries array. */
static int print_json_tail(const janitor_report *r, unsigned types,
                           cJSON *errors)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *totals = cJSON_AddObjectToObject(root, "totals");
    cJSON *skipped = cJSON_AddArrayToObject(root, "skipped");
    if (!root || !totals || !skipped) {
        cJSON_Delete(root);
        cJSON_Delete(errors);
        return -1;
    }
    for (int t = 0; t < JT_COUNT; t++) {
        if (!((types >> t) & 1u))
            continue;
        const char *name = janitor_type_name((janitor_type)t);
        cJSON *one = cJSON_AddObjectToObject(totals, name);
        if (one) {
            cJSON_AddNumberToObject(one, "entries", (double)r->entries[t]);
            cJSON_AddNumberToObject(one, "bytes", (double)r->bytes[t]);
        }
        if ((r->skipped >> t) & 1u)
            cJSON_AddItemToArray(skipped, cJSON_CreateString(name));
    }
    cJSON *total = cJSON_AddObjectToObject(root, "total");
    if (total) {
        cJSON_AddNumberToObject(total, "entries", (double)r->total_entries);
        cJSON_AddNumberToObject(total, "bytes", (double)r->total_bytes);
    }
    cJSON_AddNumberToObject(root, "kept_changed", (double)r->kept_changed);
    cJSON_AddItemToObject(root, "errors", errors);
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s)
        return -1;
    printf(",%s\n", s + 1); /* splice: drop the object's own '{' */
    cJSON_free(s);
    return 0;
}

int cmd_cleanup(const cs_config *cfg, int argc, char **argv)
{
    out_ctx o = {0};
    unsigned types = JANITOR_ALL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *only = NULL;
        if (!strcmp(a, "--dry-run"))
            o.dry_run = 1;
        else if (!strcmp(a, "--json"))
            o.json = 1;
        else if (!strcmp(a, "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strncmp(a, "--only=", 7))
            only = a + 7;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else {
            fprintf(stderr, "clawsweep cleanup: %s '%s'\n",
                    !strcmp(a, "--only") ? "missing value for"
                                         : "unknown argument",
                    a);
            usage(stderr);
            return EXIT_USAGE;
        }
        if (only) {
            char err[256];
            if (janitor_parse_types(only, &types, err, sizeof err) != 0) {
                fprintf(stderr, "clawsweep cleanup: --only: %s\n", err);
                return EXIT_USAGE;
            }
        }
    }

    if (o.json) {
        o.errors = cJSON_CreateArray();
        if (!o.errors) {
            fprintf(stderr, "clawsweep cleanup: out of memory\n");
            return EXIT_FAILURE_RUNTIME;
        }
        printf("{\"dry_run\":%s,\"entries\":[", o.dry_run ? "true" : "false");
    }
    janitor_opts jo = {.types = types,
                       .dry_run = o.dry_run,
                       .now_ms = clock_now_ms(),
                       .on_entry = print_entry,
                       .on_error = note_error,
                       .ctx = &o};
    janitor_report rep;
    int rc = janitor_run(cfg, &jo, &rep);
    if (rc == JANITOR_BUSY)
        fprintf(stderr,
                "clawsweep cleanup: another cleanup pass is running on %s "
                "(%s/clawsweep/cleanup.lock is held)\n",
                cfg->data_dir, cfg->data_dir);

    if (o.json) {
        printf("]");
        if (print_json_tail(&rep, types, o.errors) != 0)
            rc = -1;
    } else if (rc != JANITOR_BUSY) {
        print_text_totals(&rep, types, o.dry_run);
    }
    if (fflush(stdout) != 0)
        rc = -1;
    return rc == 0 && rep.errors == 0 ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}
