/*
 * cmd_next.c - `clawsweep next EXPR [--tz ZONE] [--from TIME] [-n N]`:
 * prints the coming fire times of a cron expression, one per line, UTC
 * first (the process_after shape) then the wall clock of the zone, so a
 * user can check an expression before an agent schedules it. The zone is
 * --tz, else recurrence.timezone, else TZ, /etc/localtime, UTC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "cron.h"
#include "timefmt.h"
#include "tz.h"

#define NEXT_MAX 1000

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "clawsweep next: %s\n", why);
    fprintf(why ? stderr : stdout,
            "usage: clawsweep next EXPR [--tz ZONE] [--from TIME] [-n N]\n");
    return why ? EXIT_USAGE : EXIT_OK;
}

/* The value of option name at argv[*i] ("--tz Z" or "--tz=Z"), or NULL
 * when argv[*i] is not that option. *missing is set when the value is. */
static const char *opt_value(char **argv, int argc, int *i, const char *name,
                             int *missing)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

int cmd_next(const cs_config *cfg, int argc, char **argv)
{
    const char *expr = NULL, *zone = NULL, *from = NULL, *count = NULL;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if ((v = opt_value(argv, argc, &i, "--tz", &missing)))
            zone = v;
        else if ((v = opt_value(argv, argc, &i, "--from", &missing)))
            from = v;
        else if ((v = opt_value(argv, argc, &i, "-n", &missing)))
            count = v;
        else if (missing)
            return usage("an option is missing its value");
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return usage(NULL);
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage("unknown option");
        else if (!expr)
            expr = argv[i];
        else
            return usage("give the expression as one argument (quote it)");
    }
    if (!expr)
        return usage("missing expression");

    int n = 5;
    if (count) {
        char *end;
        long v = strtol(count, &end, 10);
        if (*count == '\0' || *end != '\0' || v < 1 || v > NEXT_MAX) {
            fprintf(stderr, "clawsweep next: -n must be 1-%d, got '%s'\n",
                    NEXT_MAX, count);
            return EXIT_USAGE;
        }
        n = (int)v;
    }
    int64_t at;
    if (from) {
        if (timefmt_parse(from, &at) != 0) {
            fprintf(stderr, "clawsweep next: cannot read --from '%s'\n", from);
            return EXIT_USAGE;
        }
    } else {
        at = clock_now_ms();
    }

    char err[256];
    cron_expr e;
    if (cron_parse(expr, &e, err, sizeof err) != CRON_OK) {
        fprintf(stderr, "clawsweep next: invalid expression '%s': %s\n", expr,
                err);
        return EXIT_USAGE;
    }
    tz_info *tz = NULL;
    if (tz_resolve(zone ? zone : cfg->recurrence.timezone, &tz, err,
                   sizeof err) != 0) {
        fprintf(stderr, "clawsweep next: %s\n", err);
        return EXIT_USAGE;
    }
    int status = EXIT_OK;
    for (int k = 0; k < n; k++) {
        int64_t next;
        int rc = cron_next(&e, tz, at, &next);
        if (rc != CRON_OK) {
            if (k == 0) {
                fprintf(stderr, "clawsweep next: '%s' %s\n", expr,
                        rc == CRON_ENEVER ? "never fires"
                                          : "cannot be computed from --from");
                status = EXIT_USAGE;
            }
            break;
        }
        char utc[32], local[64];
        timefmt_iso_ms(next, utc, sizeof utc);
        tz_format_local(tz, next, local, sizeof local);
        printf("%s  %s\n", utc, local);
        at = next;
    }
    tz_free(tz);
    return status;
}
