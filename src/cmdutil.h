/*
 * cmdutil.h - what several commands share: the sweep lock, and the small
 * option scanner every command uses (so "--json", unknown options and
 * extra arguments are handled the same everywhere).
 */
#ifndef CLAWSWEEP_CMDUTIL_H
#define CLAWSWEEP_CMDUTIL_H

#include <cjson/cJSON.h>

#include "config.h"

/* Take DATA/clawsweep/<name> exclusively. Returns the fd (keep it open
 * while working) or -1 after printing why (another clawsweep holds it). */
int cmd_take_lock(const cs_config *cfg, const char *name);

/* Scan argv[1..] of a command: flags listed in flags[] ("--json",
 * "--dry-run", NULL-terminated) set the matching seen[i]; a flag written
 * with a trailing '=' ("--now=") takes a value ("--now X" or "--now=X"),
 * stored in values[i] (values may be NULL when no flag takes one);
 * everything else that starts with '-' is an error; other words are
 * positional and collected into pos[] (up to max_pos). Returns the number
 * of positional words, or -1 after printing a usage error. */
int cmd_scan(int argc, char **argv, const char *const *flags, int *seen,
             char **values, char **pos, int max_pos, const char *usage);

/* Print a cJSON document to stdout (and free it). 0 ok, -1 on OOM. */
int cmd_print_json(cJSON *doc);

#endif
