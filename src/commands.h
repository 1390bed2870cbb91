/*
 * commands.h - one entry point per command (one cmd_*.c file each).
 * argv[0] is the command name; argv holds only the command's own
 * arguments (global options were consumed by main.c). Each returns the
 * process exit status of SPEC §7: 0 ok, 1 runtime failure, 2 bad usage,
 * bad config or bad input (after printing a message naming the problem).
 */
#ifndef CLAWSWEEP_COMMANDS_H
#define CLAWSWEEP_COMMANDS_H

#include "config.h"

#define EXIT_OK 0
#define EXIT_FAILURE_RUNTIME 1
#define EXIT_USAGE 2

int cmd_run(const cs_config *cfg, int argc, char **argv);
int cmd_sweep(const cs_config *cfg, int argc, char **argv);
int cmd_status(const cs_config *cfg, int argc, char **argv);
int cmd_cleanup(const cs_config *cfg, int argc, char **argv);
int cmd_orphans(const cs_config *cfg, int argc, char **argv);
int cmd_failed(const cs_config *cfg, int argc, char **argv);
int cmd_requeue(const cs_config *cfg, int argc, char **argv);
int cmd_next(const cs_config *cfg, int argc, char **argv);
int cmd_demo(const cs_config *cfg, int argc, char **argv);

#endif
