/*
 * cmd_run.c - `run`: the daemon (SPEC §3, §7). It takes no arguments
 * besides --help; everything else comes from the configuration. The sweep
 * lock DATA/clawsweep/lock is held for the daemon's whole life, so a
 * second daemon (or a one-shot `sweep`) on the same data dir exits 1 with
 * a message saying why.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmdutil.h"
#include "commands.h"
#include "daemon.h"

static const char usage[] =
    "usage: clawsweep [-d DATA] [-c FILE] run\n"
    "\n"
    "Run the daemon: sweep now, then whenever something is due or changes,\n"
    "and fully at least every sweep.interval. SIGHUP reloads the config;\n"
    "SIGTERM or SIGINT stop it after the session in hand (agents keep\n"
    "running). Under systemd (NOTIFY_SOCKET) it reports READY, STATUS and\n"
    "watchdog pings. Metrics: DATA/clawsweep/metrics.prom.\n";

int cmd_run(const cs_config *cfg, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return EXIT_OK;
        }
    if (cmd_scan(argc, argv, NULL, NULL, NULL, NULL, 0, "clawsweep run") < 0)
        return EXIT_USAGE;
    int lock = cmd_take_lock(cfg, "lock");
    if (lock < 0)
        return EXIT_FAILURE_RUNTIME;
    int status = daemon_run(cfg, lock);
    close(lock);
    return status;
}
