/*
 * config.h - clawsweep's settings (SPEC §9): defaults, the INI file,
 * CLAWSWEEP_<SECTION>_<KEY> environment variables and command-line flags,
 * in that order of increasing precedence. Every error names the file, the
 * line and the key. All durations are stored in milliseconds, retention
 * windows in whole days.
 */
#ifndef CLAWSWEEP_CONFIG_H
#define CLAWSWEEP_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

typedef enum { MODE_OWN = 0, MODE_OBSERVE } sweep_mode;
typedef enum { RT_PROCESS = 0, RT_DOCKER, RT_PODMAN, RT_EXEC } runtime_kind;
typedef enum { JITTER_NONE = 0, JITTER_FULL } jitter_kind;

#define CFG_STR 1024

/* What the command line chose. Kept in cs_config, so a reload (SIGHUP)
 * builds the configuration again from the very same inputs. */
typedef struct {
    char data_dir[PATH_MAX];    /* -d; "" = $CLAWSWEEP_DATA_DIR, else ./data */
    char config_file[PATH_MAX]; /* -c; "" = DATA/clawsweep.conf if present */
    int log_format;             /* --log-format as log_format; -1 = not given */
    int log_level;              /* -v / -q as log_level; -1 = not given */
} config_inputs;

typedef struct {
    config_inputs inputs; /* data_dir made absolute by config_load */
    char data_dir[PATH_MAX];    /* as given (made absolute by config_load) */
    char config_path[PATH_MAX]; /* the file read, "" when none */

    struct {
        sweep_mode mode;
        int64_t interval_ms;
        int max_tries;
        int64_t backoff_base_ms;
        int64_t backoff_max_ms;
        jitter_kind backoff_jitter;
        int64_t claim_tolerance_ms;
        int64_t ceiling_ms;
        int64_t stop_grace_ms;
        int max_concurrent;
        int64_t busy_timeout_ms;
    } sweep;

    struct {
        char timezone[128]; /* "" = TZ, /etc/localtime, UTC */
    } recurrence;

    struct {
        runtime_kind kind;
        char agent[CFG_STR];
        char image[CFG_STR];
        char args[CFG_STR];
        char start_cmd[CFG_STR];
        char stop_cmd[CFG_STR];
        char list_cmd[CFG_STR];
        int64_t cli_timeout_ms;
    } runtime;

    struct {
        int64_t interval_ms;
        int transcripts, debug, todos, telemetry, group_logs;
        int inbox, outbox, agent_logs, orphan_sessions; /* days */
        char groups_dir[PATH_MAX]; /* resolved: never "" after load */
        char store_db[PATH_MAX];   /* resolved: never "" after load */
    } cleanup;

    struct {
        log_format format;
        log_level level;
    } log;
} cs_config;

/* Where a value came from, for error messages. */
typedef struct {
    const char *file; /* file name, or "environment", or "command line" */
    int line;         /* 0 when not from a file */
} cfg_origin;

void config_defaults(cs_config *c);

/* Set one key. 0 ok, -1 with a message in err naming origin and key. */
int config_set(cs_config *c, const char *section, const char *key,
               const char *value, const cfg_origin *at, char *err,
               size_t errlen);

/* Read an INI file over c. Missing file = error. */
int config_read_file(cs_config *c, const char *path, char *err, size_t errlen);

/* Apply CLAWSWEEP_<SECTION>_<KEY> from envp (NULL-terminated). */
int config_read_env(cs_config *c, char *const *envp, char *err, size_t errlen);

/* Fill derived defaults (groups_dir, store_db) from data_dir and check
 * cross-key rules (e.g. backoff_base <= backoff_max, exec commands set). */
int config_finish(cs_config *c, char *err, size_t errlen);

/* The whole configuration in its order of precedence (SPEC §9): defaults,
 * the file, the environment envp, the command line's inputs; then
 * config_finish. 0, or -1 with a message naming file, line and key. */
int config_load(const config_inputs *in, char *const *envp, cs_config *out,
                char *err, size_t errlen);

/* "500ms" "5s" "10m" "2h" "7d" -> ms. A bare number is an error. */
int parse_duration_ms(const char *s, int64_t *ms);
/* "7d" or "7" -> days. */
int parse_days(const char *s, int *days);

#endif
