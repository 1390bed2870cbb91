/*
 * config.c - SPEC §9.
 *
 * One table lists every key with its type, bounds and where it lives in
 * cs_config. The file reader, the environment reader and the command line
 * all go through config_set, so a value means the same thing wherever it
 * comes from and every error names its origin (file:line, the variable,
 * or the flag) and the key.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

typedef enum { K_DURATION, K_INT, K_DAYS, K_STRING, K_ENUM } key_type;

typedef struct {
    const char *section;
    const char *key;
    key_type type;
    size_t offset;
    int64_t min, max;        /* ms for durations, value for ints/days */
    size_t size;             /* K_STRING buffer size */
    const char *const *enum_names; /* K_ENUM: index = stored int value */
} key_spec;

static const char *const modes[] = {"own", "observe", NULL};
static const char *const kinds[] = {"process", "docker", "podman", "exec",
                                    NULL};
static const char *const jitters[] = {"none", "full", NULL};
static const char *const formats[] = {"text", "json", NULL};
static const char *const levels[] = {"debug", "info", "warn", "error", NULL};

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define OFF(f) offsetof(cs_config, f)
#define DUR(s, k, f, lo, hi) {s, k, K_DURATION, OFF(f), lo, hi, 0, NULL}
#define INT(s, k, f, lo, hi) {s, k, K_INT, OFF(f), lo, hi, 0, NULL}
#define DAYS(k) {"cleanup", #k, K_DAYS, OFF(cleanup.k), 0, 36500, 0, NULL}
#define STR(s, k, f) {s, k, K_STRING, OFF(f), 0, 0, sizeof(((cs_config *)0)->f), NULL}
#define ENUM(s, k, f, names) {s, k, K_ENUM, OFF(f), 0, 0, 0, names}

static const key_spec keys[] = {
    ENUM("sweep", "mode", sweep.mode, modes),
    DUR("sweep", "interval", sweep.interval_ms, 100, 7 * DAY),
    INT("sweep", "max_tries", sweep.max_tries, 1, 1000),
    DUR("sweep", "backoff_base", sweep.backoff_base_ms, 1, DAY),
    DUR("sweep", "backoff_max", sweep.backoff_max_ms, 1, 30 * DAY),
    ENUM("sweep", "backoff_jitter", sweep.backoff_jitter, jitters),
    DUR("sweep", "claim_tolerance", sweep.claim_tolerance_ms, SEC, DAY),
    DUR("sweep", "ceiling", sweep.ceiling_ms, SEC, 7 * DAY),
    DUR("sweep", "stop_grace", sweep.stop_grace_ms, 0, 10 * MIN),
    INT("sweep", "max_concurrent", sweep.max_concurrent, 1, 100000),
    DUR("sweep", "busy_timeout", sweep.busy_timeout_ms, 0, MIN),
    STR("recurrence", "timezone", recurrence.timezone),
    ENUM("runtime", "kind", runtime.kind, kinds),
    STR("runtime", "agent", runtime.agent),
    STR("runtime", "image", runtime.image),
    STR("runtime", "args", runtime.args),
    STR("runtime", "start_cmd", runtime.start_cmd),
    STR("runtime", "stop_cmd", runtime.stop_cmd),
    STR("runtime", "list_cmd", runtime.list_cmd),
    DUR("runtime", "cli_timeout", runtime.cli_timeout_ms, 100, 10 * MIN),
    DUR("cleanup", "interval", cleanup.interval_ms, MIN, 365 * DAY),
    DAYS(transcripts), DAYS(debug), DAYS(todos), DAYS(telemetry),
    DAYS(group_logs), DAYS(inbox), DAYS(outbox), DAYS(agent_logs),
    DAYS(orphan_sessions),
    STR("cleanup", "groups_dir", cleanup.groups_dir),
    STR("cleanup", "store_db", cleanup.store_db),
    ENUM("log", "format", log.format, formats),
    ENUM("log", "level", log.level, levels),
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const char *const sections[] = {"sweep", "recurrence", "runtime",
                                       "cleanup", "log", NULL};

void config_defaults(cs_config *c)
{
    memset(c, 0, sizeof *c);
    c->inputs.log_format = c->inputs.log_level = -1;
    snprintf(c->data_dir, sizeof c->data_dir, "./data");
    c->sweep.mode = MODE_OWN;
    c->sweep.interval_ms = 60 * SEC;
    c->sweep.max_tries = 5;
    c->sweep.backoff_base_ms = 5 * SEC;
    c->sweep.backoff_max_ms = HOUR;
    c->sweep.backoff_jitter = JITTER_NONE;
    c->sweep.claim_tolerance_ms = 60 * SEC;
    c->sweep.ceiling_ms = 30 * MIN;
    c->sweep.stop_grace_ms = 10 * SEC;
    c->sweep.max_concurrent = 5;
    c->sweep.busy_timeout_ms = SEC;
    c->runtime.kind = RT_PROCESS;
    snprintf(c->runtime.agent, sizeof c->runtime.agent, "clawsweep-agent");
    c->runtime.cli_timeout_ms = 30 * SEC;
    c->cleanup.interval_ms = 24 * HOUR;
    c->cleanup.transcripts = 7;
    c->cleanup.debug = 3;
    c->cleanup.todos = 3;
    c->cleanup.telemetry = 7;
    c->cleanup.group_logs = 7;
    c->cleanup.inbox = 30;
    c->cleanup.outbox = 7;
    c->cleanup.agent_logs = 14;
    c->cleanup.orphan_sessions = 14;
    c->log.format = LOG_TEXT;
    c->log.level = LOG_INFO;
}

/* Digits only, no sign, no overflow past max. */
static int parse_uint(const char *s, size_t n, int64_t max, int64_t *out)
{
    if (n == 0)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (v > (max - (s[i] - '0')) / 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int parse_duration_ms(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t mult;
    } units[] = {{"ms", 1}, {"s", SEC}, {"m", MIN}, {"h", HOUR}, {"d", DAY}};
    size_t n = strspn(s, "0123456789");
    const char *unit = s + n;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(unit, units[i].unit) != 0)
            continue;
        int64_t v;
        if (parse_uint(s, n, INT64_MAX / units[i].mult, &v) != 0)
            return -1;
        *ms = v * units[i].mult;
        return 0;
    }
    return -1;
}

int parse_days(const char *s, int *days)
{
    size_t n = strspn(s, "0123456789");
    if (strcmp(s + n, "") != 0 && strcmp(s + n, "d") != 0)
        return -1;
    int64_t v;
    if (parse_uint(s, n, INT32_MAX, &v) != 0)
        return -1;
    *days = (int)v;
    return 0;
}

static void origin_text(const cfg_origin *at, char *out, size_t len)
{
    if (at && at->line > 0)
        snprintf(out, len, "%s:%d", at->file, at->line);
    else
        snprintf(out, len, "%s", at && at->file ? at->file : "config");
}

static const key_spec *find_key(const char *section, const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].section, section) && !strcmp(keys[i].key, key))
            return &keys[i];
    return NULL;
}

static int known_section(const char *section)
{
    for (const char *const *s = sections; *s; s++)
        if (!strcmp(*s, section))
            return 1;
    return 0;
}

static void describe_duration(int64_t ms, char *out, size_t len)
{
    if (ms % DAY == 0 && ms)
        snprintf(out, len, "%lldd", (long long)(ms / DAY));
    else if (ms % HOUR == 0 && ms)
        snprintf(out, len, "%lldh", (long long)(ms / HOUR));
    else if (ms % MIN == 0 && ms)
        snprintf(out, len, "%lldm", (long long)(ms / MIN));
    else if (ms % SEC == 0)
        snprintf(out, len, "%llds", (long long)(ms / SEC));
    else
        snprintf(out, len, "%lldms", (long long)ms);
}

int config_set(cs_config *c, const char *section, const char *key,
               const char *value, const cfg_origin *at, char *err,
               size_t errlen)
{
    char where[PATH_MAX + 32];
    origin_text(at, where, sizeof where);
    if (!known_section(section)) {
        snprintf(err, errlen, "%s: unknown section [%s]", where, section);
        return -1;
    }
    const key_spec *k = find_key(section, key);
    if (!k) {
        snprintf(err, errlen, "%s: unknown key '%s' in [%s]", where, key,
                 section);
        return -1;
    }
    char *field = (char *)c + k->offset;
    switch (k->type) {
    case K_DURATION: {
        int64_t ms;
        char lo[32], hi[32];
        describe_duration(k->min, lo, sizeof lo);
        describe_duration(k->max, hi, sizeof hi);
        if (parse_duration_ms(value, &ms) != 0) {
            snprintf(err, errlen,
                     "%s: %s.%s = '%s': not a duration (a whole number "
                     "with a unit: ms, s, m, h, d; e.g. 30s)",
                     where, section, key, value);
            return -1;
        }
        if (ms < k->min || ms > k->max) {
            snprintf(err, errlen, "%s: %s.%s = '%s': out of range (%s to %s)",
                     where, section, key, value, lo, hi);
            return -1;
        }
        *(int64_t *)field = ms;
        return 0;
    }
    case K_INT: {
        int64_t v;
        if (parse_uint(value, strlen(value), INT32_MAX, &v) != 0 ||
            v < k->min || v > k->max) {
            snprintf(err, errlen,
                     "%s: %s.%s = '%s': must be a whole number from %lld to "
                     "%lld",
                     where, section, key, value, (long long)k->min,
                     (long long)k->max);
            return -1;
        }
        *(int *)field = (int)v;
        return 0;
    }
    case K_DAYS: {
        int d;
        if (parse_days(value, &d) != 0 || d > k->max) {
            snprintf(err, errlen,
                     "%s: %s.%s = '%s': retention must be whole days, like "
                     "7d or 7 (0 to %lld)",
                     where, section, key, value, (long long)k->max);
            return -1;
        }
        *(int *)field = d;
        return 0;
    }
    case K_STRING:
        if (strlen(value) >= k->size) {
            snprintf(err, errlen, "%s: %s.%s: value too long (max %zu bytes)",
                     where, section, key, k->size - 1);
            return -1;
        }
        if (strchr(value, '\n')) {
            snprintf(err, errlen, "%s: %s.%s: value contains a newline",
                     where, section, key);
            return -1;
        }
        snprintf(field, k->size, "%s", value);
        return 0;
    case K_ENUM:
        for (int i = 0; k->enum_names[i]; i++)
            if (!strcmp(value, k->enum_names[i])) {
                *(int *)field = i;
                return 0;
            }
        {
            char allowed[128] = "";
            for (int i = 0; k->enum_names[i]; i++) {
                strncat(allowed, i ? " | " : "",
                        sizeof allowed - strlen(allowed) - 1);
                strncat(allowed, k->enum_names[i],
                        sizeof allowed - strlen(allowed) - 1);
            }
            snprintf(err, errlen, "%s: %s.%s = '%s': must be one of %s",
                     where, section, key, value, allowed);
        }
        return -1;
    }
    return -1;
}

/* inih's handler is not told the line, so the reader counts lines. */
typedef struct {
    FILE *f;
    int line;
    cs_config *c;
    const char *path;
    char *err;
    size_t errlen;
    int failed;
    unsigned char seen[sizeof keys / sizeof keys[0]];
} file_ctx;

static char *reader(char *buf, int size, void *stream)
{
    file_ctx *ctx = stream;
    char *r = fgets(buf, size, ctx->f);
    if (r)
        ctx->line++;
    return r;
}

static int handler(void *user, const char *section, const char *name,
                   const char *value)
{
    file_ctx *ctx = user;
    if (ctx->failed)
        return 0;
    cfg_origin at = {ctx->path, ctx->line};
    if (!name) { /* a section header with no keys yet (INI_CALL_HANDLER_ON_NEW_SECTION) */
        return 1;
    }
    const key_spec *k = find_key(section, name);
    if (k) {
        size_t idx = (size_t)(k - keys);
        if (ctx->seen[idx]) {
            snprintf(ctx->err, ctx->errlen, "%s:%d: duplicate key '%s' in [%s]",
                     ctx->path, ctx->line, name, section);
            ctx->failed = 1;
            return 0;
        }
        ctx->seen[idx] = 1;
    }
    if (config_set(ctx->c, section, name, value, &at, ctx->err, ctx->errlen) !=
        0) {
        ctx->failed = 1;
        return 0;
    }
    return 1;
}

int config_read_file(cs_config *c, const char *path, char *err, size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer forever; the type is checked before anything is read. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open config: %s", path,
                 strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: config is not a regular file", path);
        close(fd);
        return -1;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open config: %s", path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    file_ctx ctx = {.f = f, .c = c, .path = path, .err = err, .errlen = errlen};
    int rc = ini_parse_stream(reader, &ctx, handler, &ctx);
    fclose(f);
    if (ctx.failed)
        return -1;
    if (rc != 0) {
        if (rc > 0)
            snprintf(err, errlen,
                     "%s:%d: syntax error (expected [section] or key = value)",
                     path, rc);
        else
            snprintf(err, errlen, "%s: cannot read config", path);
        return -1;
    }
    snprintf(c->config_path, sizeof c->config_path, "%s", path);
    return 0;
}

int config_read_env(cs_config *c, char *const *envp, char *err, size_t errlen)
{
    static const char prefix[] = "CLAWSWEEP_";
    for (; envp && *envp; envp++) {
        const char *e = *envp;
        if (strncmp(e, prefix, sizeof prefix - 1) != 0)
            continue;
        const char *eq = strchr(e, '=');
        if (!eq)
            continue;
        const char *rest = e + sizeof prefix - 1;
        for (const char *const *s = sections; *s; s++) {
            size_t sl = strlen(*s);
            if (strncasecmp(rest, *s, sl) != 0 || rest[sl] != '_')
                continue;
            char key[64];
            size_t kl = (size_t)(eq - (rest + sl + 1));
            if (kl == 0 || kl >= sizeof key) {
                snprintf(err, errlen, "environment %.*s: unknown key",
                         (int)(eq - e), e);
                return -1;
            }
            for (size_t i = 0; i < kl; i++) {
                char ch = rest[sl + 1 + i];
                key[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
            }
            key[kl] = '\0';
            char name[128];
            snprintf(name, sizeof name, "environment %.*s", (int)(eq - e), e);
            cfg_origin at = {name, 0};
            if (config_set(c, *s, key, eq + 1, &at, err, errlen) != 0)
                return -1;
            break;
        }
    }
    return 0;
}

static int absolute_path(const char *in, char *out, size_t outlen)
{
    char real[PATH_MAX];
    if (realpath(in, real))
        return path_join(out, outlen, "%s", real);
    if (in[0] == '/')
        return path_join(out, outlen, "%s", in);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return -1;
    return path_join(out, outlen, "%s/%s", cwd, in);
}

int config_finish(cs_config *c, char *err, size_t errlen)
{
    char abs[PATH_MAX];
    if (absolute_path(c->data_dir, abs, sizeof abs) != 0) {
        snprintf(err, errlen, "data dir '%s': path too long", c->data_dir);
        return -1;
    }
    snprintf(c->data_dir, sizeof c->data_dir, "%s", abs);
    size_t n = strlen(c->data_dir);
    while (n > 1 && c->data_dir[n - 1] == '/')
        c->data_dir[--n] = '\0';

    if (!c->cleanup.groups_dir[0] &&
        path_join(c->cleanup.groups_dir, sizeof c->cleanup.groups_dir,
                  "%s/../groups", c->data_dir) != 0) {
        snprintf(err, errlen, "cleanup.groups_dir: path too long");
        return -1;
    }
    if (!c->cleanup.store_db[0] &&
        path_join(c->cleanup.store_db, sizeof c->cleanup.store_db,
                  "%s/../store/messages.db", c->data_dir) != 0) {
        snprintf(err, errlen, "cleanup.store_db: path too long");
        return -1;
    }
    if (c->sweep.backoff_base_ms > c->sweep.backoff_max_ms) {
        snprintf(err, errlen,
                 "sweep.backoff_base (%lldms) is larger than "
                 "sweep.backoff_max (%lldms)",
                 (long long)c->sweep.backoff_base_ms,
                 (long long)c->sweep.backoff_max_ms);
        return -1;
    }
    const char *need = NULL;
    if (c->runtime.kind == RT_EXEC) {
        if (!c->runtime.start_cmd[0])
            need = "runtime.start_cmd";
        else if (!c->runtime.stop_cmd[0])
            need = "runtime.stop_cmd";
        else if (!c->runtime.list_cmd[0])
            need = "runtime.list_cmd";
    } else if (c->runtime.kind == RT_DOCKER || c->runtime.kind == RT_PODMAN) {
        if (!c->runtime.image[0])
            need = "runtime.image";
    }
    if (!need && c->runtime.kind != RT_EXEC && !c->runtime.agent[0])
        need = "runtime.agent";
    if (need) {
        snprintf(err, errlen, "%s must be set for runtime.kind = %s", need,
                 kinds[c->runtime.kind]);
        return -1;
    }
    const char *cmds[] = {c->runtime.agent, c->runtime.args,
                          c->runtime.start_cmd, c->runtime.stop_cmd,
                          c->runtime.list_cmd};
    const char *names[] = {"agent", "args", "start_cmd", "stop_cmd",
                           "list_cmd"};
    for (int i = 0; i < 5; i++) {
        char **argv;
        if (words_split(cmds[i], &argv) < 0) {
            snprintf(err, errlen, "runtime.%s: unterminated double quote",
                     names[i]);
            return -1;
        }
        words_free(argv);
    }
    return 0;
}

static const char *env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (; envp && *envp; envp++)
        if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

int config_load(const config_inputs *in, char *const *envp, cs_config *out,
                char *err, size_t errlen)
{
    config_defaults(out);
    out->inputs = *in;
    const char *dir = in->data_dir[0] ? in->data_dir
                                      : env_get(envp, "CLAWSWEEP_DATA_DIR");
    if (dir && *dir &&
        path_join(out->data_dir, sizeof out->data_dir, "%s", dir) != 0) {
        snprintf(err, errlen, "data dir '%.256s...': path too long", dir);
        return -1;
    }
    char file[PATH_MAX];
    int have_file = 0;
    if (in->config_file[0])
        have_file = path_join(file, sizeof file, "%s", in->config_file) == 0;
    else
        have_file = path_join(file, sizeof file, "%s/clawsweep.conf",
                              out->data_dir) == 0 &&
                    access(file, F_OK) == 0;
    if (have_file && config_read_file(out, file, err, errlen) != 0)
        return -1;
    if (config_read_env(out, envp, err, errlen) != 0)
        return -1;
    if (in->log_format >= 0)
        out->log.format = (log_format)in->log_format;
    if (in->log_level >= 0)
        out->log.level = (log_level)in->log_level;
    if (config_finish(out, err, errlen) != 0) {
        if (out->config_path[0]) {
            char why[1024];
            snprintf(why, sizeof why, "%s", err);
            snprintf(err, errlen, "%s: %s", out->config_path, why);
        }
        return -1;
    }
    snprintf(out->inputs.data_dir, sizeof out->inputs.data_dir, "%s",
             out->data_dir);
    return 0;
}
