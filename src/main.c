/*
 * main.c - the command line front (SPEC §7): global options, the
 * configuration in its order of precedence (flag > environment > file >
 * default, SPEC §9), then one command. No sweep logic lives here.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "util.h"

#ifndef CLAWSWEEP_VERSION
#define CLAWSWEEP_VERSION "0.1.0"
#endif

extern char **environ;

static const char usage_text[] =
    "usage: clawsweep [-d DATA] [-c FILE] [--log-format text|json] [-v|-q] "
    "COMMAND ...\n"
    "\n"
    "Keeps the agent sessions of a NanoClaw-style host healthy.\n"
    "\n"
    "commands:\n"
    "  run                          the daemon\n"
    "  sweep [--dry-run] [--json]   one tick over all active sessions, then "
    "exit\n"
    "  status [--json] [SESSION]    agents, heartbeats, queue counts, last "
    "event\n"
    "  cleanup [--dry-run] [--json] [--only TYPE,...]\n"
    "                               prune old artifacts\n"
    "  orphans [--dry-run]          stop agents whose session is not active\n"
    "  failed [--json] [SESSION]    dead letters\n"
    "  requeue SESSION MESSAGE      failed -> pending, tries = 0\n"
    "  next EXPR [--tz ZONE] [--from TIME] [-n N]\n"
    "                               next fire times of a cron expression\n"
    "  demo [DIR]                   create a demo data dir\n"
    "  help, --help, --version\n"
    "\n"
    "options:\n"
    "  -d, --data-dir DATA   the data dir (default ./data, or "
    "$CLAWSWEEP_DATA_DIR)\n"
    "  -c, --config FILE     config file (default DATA/clawsweep.conf if "
    "present)\n"
    "  --log-format FMT      text or json\n"
    "  -v, --verbose         debug logging\n"
    "  -q, --quiet           errors only\n"
    "\n"
    "exit status: 0 ok, 1 runtime failure, 2 bad usage, config or input.\n";

typedef struct {
    const char *name;
    int (*fn)(const cs_config *, int, char **);
} command;

static const command commands[] = {
    {"run", cmd_run},         {"sweep", cmd_sweep},   {"status", cmd_status},
    {"cleanup", cmd_cleanup}, {"orphans", cmd_orphans}, {"failed", cmd_failed},
    {"requeue", cmd_requeue}, {"next", cmd_next},     {"demo", cmd_demo},
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "clawsweep: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nRun 'clawsweep --help' for usage.\n");
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const char *data_dir = NULL, *config_path = NULL, *format_arg = NULL;
    int verbosity = 0; /* -1 quiet, 1 verbose */
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return EXIT_OK;
        }
        if (!strcmp(a, "--version")) {
            printf("clawsweep %s\n", CLAWSWEEP_VERSION);
            return EXIT_OK;
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbosity = 1;
            continue;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            verbosity = -1;
            continue;
        }
        const char **target = NULL;
        if (!strcmp(a, "-d") || !strcmp(a, "--data-dir"))
            target = &data_dir;
        else if (!strcmp(a, "-c") || !strcmp(a, "--config"))
            target = &config_path;
        else if (!strcmp(a, "--log-format"))
            target = &format_arg;
        else
            return usage_error("unknown option '%s'", a);
        if (i + 1 >= argc || argv[i + 1][0] == '\0')
            return usage_error("option '%s' needs a value", a);
        *target = argv[++i];
    }
    if (i >= argc)
        return usage_error("%s", "no command given");
    const char *name = argv[i];
    if (!strcmp(name, "help")) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    const command *cmd = NULL;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (!strcmp(commands[k].name, name))
            cmd = &commands[k];
    if (!cmd)
        return usage_error("unknown command '%s'", name);

    config_inputs in = {.log_format = -1, .log_level = -1};
    if ((data_dir && path_join(in.data_dir, sizeof in.data_dir, "%s", data_dir)) ||
        (config_path &&
         path_join(in.config_file, sizeof in.config_file, "%s", config_path)))
        return usage_error("%s", "path too long");
    if (format_arg) {
        log_format f;
        if (log_parse_format(format_arg, &f) != 0)
            return usage_error("--log-format '%s': must be text or json",
                               format_arg);
        in.log_format = (int)f;
    }
    if (verbosity)
        in.log_level = verbosity > 0 ? LOG_DEBUG : LOG_ERROR;

    static cs_config cfg; /* large: keep it off the stack */
    char err[2048];
    if (config_load(&in, environ, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "clawsweep: %s\n", err);
        return EXIT_USAGE;
    }
    log_setup(cfg.log.level, cfg.log.format);
    return cmd->fn(&cfg, argc - i, argv + i);
}
