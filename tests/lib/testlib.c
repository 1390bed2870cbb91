/*
 * testlib.c - see testlib.h. Test helpers abort the test binary (via
 * cmocka's fail_msg where a test is running, stderr + exit otherwise) on
 * setup errors: a test whose fixture cannot be built must not pass.
 */
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "testlib: %s: %s\n", what, detail ? detail : "");
    exit(99);
}

char *tl_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/clawsweep-%s-XXXXXX",
             base && *base ? base : "/tmp", tag ? tag : "t");
    if (!mkdtemp(tmpl))
        die("mkdtemp", strerror(errno));
    char *dir = strdup(tmpl);
    if (!dir)
        die("strdup", "out of memory");
    return dir;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        chmod(p, 0700), rmdir(p);
    else
        unlink(p);
    return 0;
}

void tl_rm_rf(const char *path)
{
    if (path)
        nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die(path, db ? sqlite3_errmsg(db) : "open failed");
    sqlite3_busy_timeout(db, 5000);
    return db;
}

void tl_sql(const char *db_path, const char *sql)
{
    sqlite3 *db = open_db(db_path);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "testlib: SQL failed on %s: %s\n  %s\n", db_path,
                msg ? msg : "?", sql);
        exit(99);
    }
    sqlite3_close(db);
}

static sqlite3_stmt *prepare_v(sqlite3 *db, const char *fmt, va_list ap)
{
    char *sql = sqlite3_vmprintf(fmt, ap);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "testlib: prepare failed: %s\n  %s\n",
                sqlite3_errmsg(db), sql);
        exit(99);
    }
    sqlite3_free(sql);
    return st;
}

int64_t tl_int(const char *db_path, const char *fmt, ...)
{
    sqlite3 *db = open_db(db_path);
    va_list ap;
    va_start(ap, fmt);
    sqlite3_stmt *st = prepare_v(db, fmt, ap);
    va_end(ap);
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

char *tl_text(const char *db_path, const char *fmt, ...)
{
    sqlite3 *db = open_db(db_path);
    va_list ap;
    va_start(ap, fmt);
    sqlite3_stmt *st = prepare_v(db, fmt, ap);
    va_end(ap);
    char *v = NULL;
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

void tl_datadir_init(const char *data)
{
    char p[PATH_MAX];
    mkdir(data, 0755);
    snprintf(p, sizeof p, "%s/v2-sessions", data);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/v2.db", data);
    tl_sql(p, "PRAGMA journal_mode=WAL;");
    tl_sql(p, SCHEMA_CENTRAL);
}

void tl_session_file(char *out, size_t outlen, const char *data,
                     const char *group, const char *sid, const char *name)
{
    snprintf(out, outlen, "%s/v2-sessions/%s/%s%s%s", data, group, sid,
             name && *name ? "/" : "", name ? name : "");
}

void tl_add_session(const char *data, const char *group, const char *sid,
                    const char *status, int with_outbound, char *dir_out)
{
    char p[PATH_MAX], dir[PATH_MAX];
    snprintf(p, sizeof p, "%s/v2.db", data);
    sqlite3 *db = open_db(p);
    char *sql = sqlite3_mprintf(
        "INSERT OR IGNORE INTO agent_groups VALUES (%Q, %Q, %Q, NULL, "
        "'2026-01-01 00:00:00');"
        "INSERT INTO sessions (id, agent_group_id, status, created_at) "
        "VALUES (%Q, %Q, %Q, '2026-01-01 00:00:00');",
        group, group, group, sid, group, status);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die("add session", msg);
    sqlite3_free(sql);
    sqlite3_close(db);

    snprintf(dir, sizeof dir, "%s/v2-sessions/%s", data, group);
    mkdir(dir, 0755);
    tl_session_file(dir, sizeof dir, data, group, sid, NULL);
    mkdir(dir, 0755);
    tl_session_file(p, sizeof p, data, group, sid, "inbound.db");
    tl_sql(p, SCHEMA_INBOUND);
    if (with_outbound) {
        tl_session_file(p, sizeof p, data, group, sid, "outbound.db");
        tl_sql(p, SCHEMA_OUTBOUND);
    }
    if (dir_out)
        snprintf(dir_out, PATH_MAX, "%s", dir);
}

void tl_add_message(const char *inbound, const char *id, const char *kind,
                    const char *process_after, int tries)
{
    sqlite3 *db = open_db(inbound);
    char *sql = sqlite3_mprintf(
        "INSERT INTO messages_in (id, seq, kind, timestamp, status, "
        "process_after, series_id, tries, content) VALUES (%Q, "
        "(SELECT CASE WHEN m < 2 THEN 2 ELSE m + 2 - (m %% 2) END FROM "
        "(SELECT COALESCE(MAX(seq), 0) AS m FROM messages_in)), %Q, "
        "'2026-01-01 00:00:00', 'pending', %Q, %Q, %d, "
        "'{\"text\":\"hello\"}')",
        id, kind, process_after, id, tries);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die("add message", msg);
    sqlite3_free(sql);
    sqlite3_close(db);
}

void tl_add_ack(const char *outbound, const char *id, const char *status,
                const char *status_changed)
{
    sqlite3 *db = open_db(outbound);
    char *sql = sqlite3_mprintf("INSERT OR REPLACE INTO processing_ack VALUES "
                                "(%Q, %Q, %Q)",
                                id, status, status_changed);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die("add ack", msg);
    sqlite3_free(sql);
    sqlite3_close(db);
}

void tl_put_file(const char *path, size_t size, int64_t ms)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir ||
        !strrchr(dir, '/'))
        die("tl_put_file", path);
    *strrchr(dir, '/') = '\0';
    if (mkdir_p(dir) != 0)
        die("tl_put_file", dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        die("tl_put_file", path);
    for (size_t i = 0; i < size; i++)
        fputc('a' + (int)(i % 26), fp);
    if (fclose(fp) != 0)
        die("tl_put_file", path);
    tl_set_mtime(path, ms);
}

void tl_set_mtime(const char *path, int64_t ms)
{
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = ms / 1000;
    ts[0].tv_nsec = ts[1].tv_nsec = (ms % 1000) * 1000000L;
    if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0)
        die(path, strerror(errno));
}

void tl_touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        die(path, strerror(errno));
    futimens(fd, NULL);
    close(fd);
}

int tl_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static char *slurp_fd(int fd)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        die("malloc", "out of memory");
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                die("realloc", "out of memory");
            buf = nb;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

int tl_run(char *const argv[], char *const extra_env[], char **out,
           char **err)
{
    char tpl_out[] = "/tmp/tl-out-XXXXXX", tpl_err[] = "/tmp/tl-err-XXXXXX";
    int fo = mkstemp(tpl_out), fe = mkstemp(tpl_err);
    if (fo < 0 || fe < 0)
        die("mkstemp", strerror(errno));
    unlink(tpl_out);
    unlink(tpl_err);

    size_t n_env = 0, n_extra = 0;
    while (environ[n_env])
        n_env++;
    while (extra_env && extra_env[n_extra])
        n_extra++;
    char **envp = calloc(n_env + n_extra + 1, sizeof *envp);
    if (!envp)
        die("calloc", "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n_extra; i++)
        envp[k++] = extra_env[i];
    for (size_t i = 0; i < n_env; i++) {
        /* extra entries override inherited ones with the same name */
        const char *eq = strchr(environ[i], '=');
        size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        int shadowed = 0;
        for (size_t j = 0; j < n_extra; j++)
            if (!strncmp(extra_env[j], environ[i], nl) &&
                extra_env[j][nl] == '=')
                shadowed = 1;
        if (!shadowed)
            envp[k++] = environ[i];
    }

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fo, 1);
    posix_spawn_file_actions_adddup2(&fa, fe, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    if (rc != 0)
        die(argv[0], strerror(rc));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (out)
        *out = slurp_fd(fo);
    if (err)
        *err = slurp_fd(fe);
    close(fo);
    close(fe);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

const char *tl_clawsweep_bin(void)
{
    return env_or("CLAWSWEEP_BIN", "build/clawsweep");
}

const char *tl_agent_bin(void)
{
    return env_or("CLAWSWEEP_AGENT_BIN", "build/clawsweep-agent");
}

const char *tl_source_root(void)
{
    return env_or("CLAWSWEEP_SRC", ".");
}

int64_t tl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tl_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tl_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void tl_kill_agents(const char *data)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/clawsweep/pids", data);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[PATH_MAX * 2], cmdline[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        long pid = 0;
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        int got = fscanf(f, "%ld", &pid);
        fclose(f);
        if (got != 1 || pid <= 1)
            continue;
        snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
        f = fopen(path, "re");
        if (!f)
            continue;
        size_t n = fread(cmdline, 1, sizeof cmdline - 1, f);
        fclose(f);
        cmdline[n] = '\0';
        if (strstr(cmdline, "clawsweep-agent")) {
            kill((pid_t)-pid, SIGKILL);
            kill((pid_t)pid, SIGKILL);
        }
    }
    closedir(d);
}

int tl_pid_alive(long pid)
{
    char p[64], buf[512];
    snprintf(p, sizeof p, "/proc/%ld/stat", pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

int tl_wait_for(int (*cond)(void *), void *arg, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        if (cond(arg))
            return 1;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return cond(arg);
}

int tl_find_exe(const char *name, char *out, size_t outlen)
{
    const char *path = getenv("PATH");
    char buf[8192];
    snprintf(buf, sizeof buf, "%s", path ? path : "/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(buf, ":", &save); d;
         d = strtok_r(NULL, ":", &save)) {
        if (snprintf(out, outlen, "%s/%s", d, name) < (int)outlen &&
            access(out, X_OK) == 0)
            return 0;
    }
    out[0] = '\0';
    return -1;
}

void tl_note(const char *heading, const char *text)
{
    printf("# %s\n", heading);
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        printf("#   %.*s\n", len, p);
        p += len + (nl != NULL);
    }
}

int tl_run_words(char **out, const char *first, ...)
{
    char *argv[40];
    char exe[PATH_MAX];
    va_list ap;
    int n = 0;
    argv[n++] = (char *)first;
    va_start(ap, first);
    const char *w;
    while ((w = va_arg(ap, const char *)) && n < 39)
        argv[n++] = (char *)w;
    va_end(ap);
    argv[n] = NULL;
    if (first[0] != '/') {
        if (tl_find_exe(first, exe, sizeof exe) != 0) {
            if (out)
                *out = strdup("");
            return 127;
        }
        argv[0] = exe;
    }
    char *err = NULL;
    int rc = tl_run(argv, NULL, out, &err);
    if (rc != 0) {
        char h[PATH_MAX + 64];
        snprintf(h, sizeof h, "%s %s -> %d:", first, argv[1] ? argv[1] : "",
                 rc);
        tl_note(h, err);
    }
    free(err);
    return rc;
}

int tl_containers_setup(tl_containers *c, const char *tag, const char *image)
{
    memset(c, 0, sizeof *c);
    c->root = tl_tmpdir(tag);
    snprintf(c->image, sizeof c->image, "%s", image);
    char conf[PATH_MAX];
    snprintf(conf, sizeof conf, "%s/containers.conf", c->root);
    FILE *fp = fopen(conf, "w");
    if (!fp)
        return -1;
    fputs("[containers]\n"
          "default_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n"
          "[engine]\nruntime = \"runc\"\n",
          fp);
    fclose(fp);
    setenv("CONTAINERS_CONF", conf, 1);

    char podman[PATH_MAX], *out = NULL;
    if (tl_find_exe("podman", podman, sizeof podman) != 0) {
        snprintf(c->why_no_podman, sizeof c->why_no_podman,
                 "podman is not installed");
    } else {
        char script[PATH_MAX];
        snprintf(script, sizeof script, "%s/scripts/agent-image.sh",
                 tl_source_root());
        int rc = tl_run_words(&out, script, "-c", "podman", "-t", c->image,
                              tl_agent_bin(), NULL);
        free(out);
        if (rc != 0) {
            snprintf(c->why_no_podman, sizeof c->why_no_podman,
                     "scripts/agent-image.sh failed (%d)", rc);
        } else {
            /* Can it run a container at all here? */
            rc = tl_run_words(&out, "podman", "run", "--rm", "--ulimit",
                              "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                              c->image, "clawsweep-agent", "--help", NULL);
            free(out);
            if (rc != 0)
                snprintf(c->why_no_podman, sizeof c->why_no_podman,
                         "podman cannot run a container here (status %d)",
                         rc);
            else
                snprintf(c->podman, sizeof c->podman, "%s", podman);
        }
    }
    if (tl_find_exe("docker", c->docker, sizeof c->docker) != 0) {
        snprintf(c->why_no_docker, sizeof c->why_no_docker,
                 "no docker CLI on PATH");
    } else if (tl_run_words(&out, "docker", "--version", NULL) != 0) {
        snprintf(c->why_no_docker, sizeof c->why_no_docker,
                 "docker --version fails");
        c->docker[0] = '\0';
        free(out);
    } else {
        free(out);
    }
    if (!c->podman[0])
        printf("# podman tests will skip: %s\n", c->why_no_podman);
    return 0;
}

void tl_containers_teardown(tl_containers *c)
{
    if (c->podman[0]) {
        char *out = NULL;
        tl_run_words(&out, "podman", "rmi", "-f", c->image, NULL);
        free(out);
    }
    tl_rm_rf(c->root);
    free(c->root);
    c->root = NULL;
}
