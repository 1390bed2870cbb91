/*
 * runtime.h - the one interface over every way to run an agent (SPEC §4):
 * process, docker, podman, exec. The sweep never knows which one it talks
 * to. Every call that can fail says so through its return value; "unknown"
 * (the runtime could not tell what runs) is distinct from "none running".
 */
#ifndef CLAWSWEEP_RUNTIME_H
#define CLAWSWEEP_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util.h"

typedef struct runtime runtime;

/* What identifies an agent. group_id and session_dir may be "" for an
 * orphan whose session row is gone. */
typedef struct {
    const char *session_id;
    const char *group_id;
    const char *session_dir; /* absolute host path */
} agent_ref;

/* Open the runtime described by cfg->runtime for the data dir. */
int runtime_open(const cs_config *cfg, runtime **out, char *err,
                 size_t errlen);
void runtime_close(runtime *rt);

/* From now on, runtime_list leaves the runtime's own bookkeeping as it
 * is (the process runtime removes stale pid files as it lists): for
 * `status` and dry runs, which promise to change nothing. */
void runtime_read_only(runtime *rt);

/* Fill *running with the session ids of every agent of this install that
 * runs now (one CLI call for containers). Returns 0, or -1 = unknown
 * (logged; the caller must then neither start, stop nor reset). */
int runtime_list(runtime *rt, strset *running);

/* Start an agent. 0 ok, -1 with a reason in err. */
int runtime_start(runtime *rt, const agent_ref *a, char *err, size_t errlen);

/* Polite stop, wait up to stop_grace, force, then confirm it is gone.
 * Returns 0 only when confirmed gone (or it was not running), -1 when the
 * stop could not be confirmed (reason in err). */
int runtime_stop(runtime *rt, const agent_ref *a, char *err, size_t errlen);

/* For the daemon: a pidfd that becomes readable when the session's agent
 * exits, or -1 when the runtime has none (containers, exec). The caller
 * owns and closes the fd. */
int runtime_exit_fd(runtime *rt, const char *session_id);

#endif
