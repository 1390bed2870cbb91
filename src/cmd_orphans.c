/*
 * cmd_orphans.c - `orphans [--dry-run]`: stop agents of this install whose
 * session is not active (SPEC §4, §7); list them under --dry-run.
 */
#include <stdio.h>
#include <unistd.h>

#include "cmdutil.h"
#include "commands.h"
#include "sweep.h"
#include "timefmt.h"

int cmd_orphans(const cs_config *cfg, int argc, char **argv)
{
    static const char *const flags[] = {"--dry-run", NULL};
    int seen[1] = {0};
    if (cmd_scan(argc, argv, flags, seen, NULL, NULL, 0,
                 "clawsweep orphans [--dry-run]") < 0)
        return EXIT_USAGE;
    int dry = seen[0] || cfg->sweep.mode == MODE_OBSERVE;
    char err[1024];
    int lock = -1;
    if (!dry && (lock = cmd_take_lock(cfg, "lock")) < 0)
        return EXIT_FAILURE_RUNTIME;
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
    if (sweep_ctx_new(cfg, rt, NULL, j, &ctx) != 0)
        goto out;
    tick_opts o = {.dry_run = dry, .full = 1, .now_ms = clock_now_ms()};
    tick_result r = {0};
    int n = sweep_reap_orphans(ctx, &o, &r);
    for (size_t i = 0; i < r.nactions; i++)
        printf("%s %s\n", dry ? "would stop" : "stopped", r.actions[i].session);
    if (n >= 0)
        printf("%d orphan agent(s) %s\n", n, dry ? "found" : "handled");
    status = n < 0 || r.failed ? EXIT_FAILURE_RUNTIME : EXIT_OK;
    tick_result_free(&r);
out:
    sweep_ctx_free(ctx);
    journal_close(j);
    runtime_close(rt);
    if (lock >= 0)
        close(lock);
    return status;
}
