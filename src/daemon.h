/*
 * daemon.h - the clawsweep daemon (SPEC §3): orphan reaping and a first
 * full tick at start, then one event loop that sleeps until a deadline,
 * a file change, an agent exit, a signal or the safety interval.
 */
#ifndef CLAWSWEEP_DAEMON_H
#define CLAWSWEEP_DAEMON_H

#include "config.h"

/* Run until SIGTERM/SIGINT. The caller holds DATA/clawsweep/lock as
 * lock_fd (closed in helper children so a pass that outlives a moment of
 * the daemon never holds it). cfg is copied: a SIGHUP reload rebuilds it
 * from the same inputs (file, environment, the command line's log
 * options). Returns the exit status: 0 after a signal, 1 when the daemon
 * could not start. */
int daemon_run(const cs_config *cfg, int lock_fd);

#endif
