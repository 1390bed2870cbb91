/*
 * runtime_impl.h - private to runtime*.c: the backend table, the runtime
 * object every backend shares, and the helpers runtime.c gives them
 * (spawning without a shell, running a CLI under a deadline, the agent
 * environment). Nothing outside the runtime modules includes this.
 */
#ifndef CLAWSWEEP_RUNTIME_IMPL_H
#define CLAWSWEEP_RUNTIME_IMPL_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime.h"

typedef struct {
    const char *name;
    int (*open)(runtime *rt, char *err, size_t errlen); /* may be NULL */
    int (*list)(runtime *rt, strset *running);
    int (*start)(runtime *rt, const agent_ref *a, char *err, size_t errlen);
    int (*stop)(runtime *rt, const agent_ref *a, char *err, size_t errlen);
    int (*exit_fd)(runtime *rt, const char *session_id);
} runtime_ops;

struct runtime {
    const runtime_ops *ops;
    runtime_kind kind;
    char data_dir[PATH_MAX];  /* absolute, as configured */
    char pids_dir[PATH_MAX];  /* DATA/clawsweep/pids */
    char logs_dir[PATH_MAX];  /* DATA/clawsweep/logs */
    char tz[128];             /* TZ handed to every agent */
    int64_t stop_grace_ms;
    int64_t cli_timeout_ms;
    char **agent;             /* runtime.agent words */
    char **args;              /* runtime.args words (containers) */
    char image[CFG_STR];
    char **start_cmd, **stop_cmd, **list_cmd; /* exec templates */
    const char *cli;          /* "docker" / "podman" */
    char install[9];          /* 8 hex of sha1(realpath(data_dir)) */
    int read_only;            /* list without tidying (runtime_read_only) */
};

extern const runtime_ops runtime_process_ops;
extern const runtime_ops runtime_exec_ops;
extern const runtime_ops runtime_container_ops;

/* Find an executable: a word with a '/' is taken as it is, a bare
 * `clawsweep-agent` is looked for beside the running binary first, any
 * other bare word on PATH. 0, or -1 with a reason in err. */
int rt_resolve(const char *word, char *out, size_t outlen, char *err,
               size_t errlen);

/* The agent's environment variables of SPEC §4 ("K=V" strings, paths as
 * the agent sees them: dir is the session dir on the host or
 * "/workspace" in a container). Returns the number of entries (6). */
#define RT_AGENT_ENV_N 6
int rt_agent_env(const runtime *rt, const agent_ref *a, const char *dir,
                 char out[RT_AGENT_ENV_N][PATH_MAX + 64]);

/* environ with the given "K=V" entries replacing same-named ones. The
 * array is malloc'd (free with free(); the strings are borrowed). */
char **rt_env_merge(char *const extra[], size_t n);

/* A child held just before its exec (rt_spawn_opts.gate): the caller
 * records it first (a pid file), then rt_gate_open lets it run the
 * program, or rt_gate_drop makes it exit without ever running it. */
typedef struct {
    int go;       /* write end: one byte = exec */
    int exec_err; /* read end: an errno if the exec failed, EOF if it ran */
} rt_gate;

/* How a child is set up by rt_spawn. */
typedef struct {
    const char *cwd;   /* NULL = ours */
    int out_fd;        /* stdout (-1 = /dev/null) */
    int err_fd;        /* stderr (-1 = /dev/null) */
    int new_session;   /* setsid(): survive our exit, own process group */
    int new_pgroup;    /* own process group (so a timeout kills it all) */
    char *const *envp; /* NULL = environ */
    rt_gate *gate;     /* NULL = exec at once */
} rt_spawn_opts;

/* fork + execve of path with argv (no shell); signals and mask reset to
 * default, stdin /dev/null. Without a gate it returns once the exec has
 * happened (or failed). 0 with *pid, or -1 with a reason in err. */
int rt_spawn(const char *path, char *const argv[], const rt_spawn_opts *o,
             pid_t *pid, char *err, size_t errlen);
/* 0 when the held child now runs its program; -1 (reason in err) when the
 * exec failed - the child has exited, the caller reaps it. */
int rt_gate_open(rt_gate *g, const char *path, char *err, size_t errlen);
void rt_gate_drop(rt_gate *g);

/* The result of one CLI call. */
typedef struct {
    int status;    /* exit status, or 128+signal */
    int timed_out; /* killed after the deadline */
    char *out;     /* stdout, NUL-terminated, malloc'd */
    char *err;     /* stderr (first few KiB), NUL-terminated, malloc'd */
} rt_cli_result;

/* Run argv[0] (resolved on PATH) with stdout/stderr captured, in its own
 * process group; the whole group is SIGKILLed when it runs past
 * timeout_ms. envp NULL = environ; out_fd >= 0 sends both streams there
 * instead of capturing. Returns 0 when it ran (see res->status), -1 when
 * it could not be started or timed out (reason in err, logged by the
 * caller). res is filled in both cases; free with rt_cli_free. */
int rt_run_cli(char *const argv[], char *const envp[], int out_fd,
               int64_t timeout_ms, rt_cli_result *res, char *err,
               size_t errlen);
void rt_cli_free(rt_cli_result *res);

/* The first line of a CLI's stderr (or stdout), trimmed, for messages. */
void rt_first_line(const char *text, char *out, size_t outlen);

/* Parse a listing: one session id per line; invalid ids are logged and
 * skipped. 0, or -1 on out of memory. */
int rt_parse_ids(const char *text, const char *source, strset *into);

/* Duplicate a NULL-terminated word array with {session} {group} {dir}
 * substituted inside each word. NULL on out of memory / too long. */
char **rt_template(char *const *words, const agent_ref *a);

/* pidfd_open(2), or -1 (errno ENOSYS where the kernel lacks it). */
int rt_pidfd_open(pid_t pid);

int64_t rt_now_ms(void);
void rt_sleep_ms(int64_t ms);

#endif
