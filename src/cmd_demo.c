/*
 * cmd_demo.c - `demo [DIR]`: build a small NanoClaw-style data dir on which
 * the daemon shows every one of its jobs within about two minutes, then
 * print the command that runs it.
 *
 * What the dir holds, and what `clawsweep -d DIR run` then does with it:
 *   sess-hello    a due chat message          -> wake, reply, ack sync
 *   sess-later    a message due in 30 s       -> woken on time, not at the
 *                                                next interval
 *   sess-standup  a completed task recurring  -> recurrence at once, then a
 *                 every minute (* * * * *)       wake every minute
 *   sess-stuck    a message the agent hangs   -> stop (claim-stuck), retry
 *                 on                             with backoff, stop again...
 *   sess-poison   a message with 4 tries and  -> the claim is reset (its
 *                 the claim of an agent that     last retry), then one more
 *                 crashed                        hang: stop, dead letter
 *   sess-quiet    nothing to do               -> nothing (and costs nothing)
 * plus, for `cleanup --dry-run`: an orphan session folder (inbound.db, no
 * sessions row), old v2 and v1 transcripts beside an active one, v1 debug,
 * todos and telemetry files, group logs, agent logs, an inbox folder of an
 * answered message and an outbox folder of a delivered reply.
 *
 * One agent command serves every session (runtime.agent is global), so the
 * stuck agent is made per message: the demo config runs the reference
 * agent with --hang-on-content and marks two messages with that text. The
 * config also shortens the windows (claim tolerance 10 s, backoff 2 s
 * capped at 10 s) so the story fits in two minutes, and points the v1
 * store and the group logs inside DIR, so nothing outside DIR is touched.
 *
 * Everything is written with the real schemas of SPEC §1 through SQLite;
 * old artifacts get their age with utimensat. The dir must be new or
 * empty: the demo never writes over somebody's data.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdutil.h"
#include "commands.h"
#include "schema.h"
#include "timefmt.h"
#include "util.h"

#define DAY_MS 86400000LL
#define HANG_MARK "demo:hang"

/* The v1 store: only what cleanup reads (the active v1 transcript ids). */
static const char store_schema[] =
    "CREATE TABLE sessions (group_folder TEXT PRIMARY KEY,"
    " session_id TEXT NOT NULL);";

/* A transcript id kept alive by sess-hello's continuation. */
#define ACTIVE_TRANSCRIPT "0d6c2a4e-1f3b-4c5d-8e9f-a0b1c2d3e4f5"
#define OLD_TRANSCRIPT "7b1e9c3a-5d2f-4a6b-9c8d-e7f6a5b4c3d2"
#define YOUNG_TRANSCRIPT "c4d5e6f7-0a1b-4c2d-8e3f-405162738495"
#define V1_ACTIVE "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170"
#define V1_OLD "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

typedef struct {
    char dir[PATH_MAX]; /* absolute */
    int64_t now;
    char ts[32];        /* now, SQLite shape */
    char err[PATH_MAX + 256];
} demo;

static int fail(demo *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(demo *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int sub(demo *d, char *out, const char *rel)
{
    if (path_join(out, PATH_MAX, "%s/%s", d->dir, rel) != 0)
        return fail(d, "%s/%s: path too long", d->dir, rel);
    return 0;
}

/* Run SQL (a sqlite3_mprintf format) on DIR/rel, creating the file. */
static int sql(demo *d, const char *rel, const char *fmt, ...)
{
    char path[PATH_MAX];
    if (sub(d, path, rel) != 0)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *text = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    if (!text)
        return fail(d, "out of memory");
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, text, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail(d, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_free(text);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

/* mkdir -p DIR/rel. */
static int dir(demo *d, const char *rel)
{
    char path[PATH_MAX];
    if (sub(d, path, rel) != 0)
        return -1;
    if (mkdir_p(path) != 0)
        return fail(d, "%s: %s", path, strerror(errno));
    return 0;
}

/* Set the mtime of DIR/rel to age_days ago (0 = leave it as it is). */
static int age(demo *d, const char *rel, int age_days)
{
    char path[PATH_MAX];
    if (age_days == 0)
        return 0;
    if (sub(d, path, rel) != 0)
        return -1;
    int64_t ms = d->now - age_days * DAY_MS - 3600 * 1000;
    struct timespec t[2] = {{ms / 1000, 0}, {ms / 1000, 0}};
    if (utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW) != 0)
        return fail(d, "%s: %s", path, strerror(errno));
    return 0;
}

/* Write DIR/rel (parents created) and make it age_days old. */
static int file(demo *d, const char *rel, const char *text, int age_days)
{
    char path[PATH_MAX], parent[PATH_MAX];
    if (sub(d, path, rel) != 0)
        return -1;
    snprintf(parent, sizeof parent, "%s", path);
    *strrchr(parent, '/') = '\0';
    if (mkdir_p(parent) != 0)
        return fail(d, "%s: %s", parent, strerror(errno));
    FILE *f = fopen(path, "we");
    if (!f)
        return fail(d, "%s: %s", path, strerror(errno));
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad)
        return fail(d, "%s: write failed", path);
    return age(d, rel, age_days);
}

/* A time n seconds from now, as process_after is written (SPEC §1.5). */
static void in_seconds(const demo *d, int64_t s, char *out)
{
    timefmt_iso_ms(d->now + s * 1000, out, 32);
}

static const char *const groups[][3] = {
    {"ag-family", "Family chat", "family"},
    {"ag-work", "Work assistant", "work"},
    {"ag-ops", "Ops alerts", "ops"},
};
#define NGROUPS (sizeof groups / sizeof groups[0])

static const char *const sessions[][2] = {
    {"sess-hello", "ag-family"}, {"sess-later", "ag-family"},
    {"sess-standup", "ag-work"}, {"sess-stuck", "ag-work"},
    {"sess-poison", "ag-ops"},   {"sess-quiet", "ag-ops"},
};
#define NSESSIONS (sizeof sessions / sizeof sessions[0])

static const char *group_of(const char *session)
{
    for (size_t i = 0; i < NSESSIONS; i++)
        if (!strcmp(sessions[i][0], session))
            return sessions[i][1];
    return "";
}

static int central(demo *d)
{
    if (sql(d, "v2.db", "PRAGMA journal_mode=WAL;%s", SCHEMA_CENTRAL) != 0)
        return -1;
    for (size_t i = 0; i < NGROUPS; i++)
        if (sql(d, "v2.db",
                "INSERT INTO agent_groups VALUES (%Q, %Q, %Q, 'claude', %Q)",
                groups[i][0], groups[i][1], groups[i][2], d->ts) != 0)
            return -1;
    for (size_t i = 0; i < NSESSIONS; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "v2-sessions/%s/%s", sessions[i][1],
                 sessions[i][0]);
        if (sql(d, "v2.db",
                "INSERT INTO sessions (id, agent_group_id, messaging_group_id,"
                " agent_provider, status, container_status, last_active,"
                " created_at) VALUES (%Q, %Q, 'mg-demo', 'claude', 'active',"
                " 'stopped', %Q, %Q)",
                sessions[i][0], sessions[i][1], d->ts, d->ts) != 0 ||
            dir(d, rel) != 0)
            return -1;
        snprintf(rel + strlen(rel), sizeof rel - strlen(rel), "/inbound.db");
        if (sql(d, rel, "PRAGMA journal_mode=DELETE;%s", SCHEMA_INBOUND) != 0)
            return -1;
    }
    return 0;
}

/* One inbound row; seq even as the host writes them (SPEC §1.2). The
 * content is NanoClaw's JSON shape built in SQL, so the fixed texts below
 * must hold no '"' or '\'. */
static int message(demo *d, const char *session, const char *id,
                   const char *kind, const char *status, const char *after,
                   const char *recurrence, int tries, const char *text)
{
    char rel[256];
    snprintf(rel, sizeof rel, "v2-sessions/%s/%s/inbound.db",
             group_of(session), session);
    return sql(d, rel,
               "INSERT INTO messages_in (id, seq, kind, timestamp, status,"
               " process_after, recurrence, series_id, tries, platform_id,"
               " channel_type, thread_id, content) VALUES (%Q,"
               " (SELECT CASE WHEN m < 2 THEN 2 ELSE m + 2 - m %% 2 END FROM"
               " (SELECT COALESCE(MAX(seq), 0) AS m FROM messages_in)),"
               " %Q, %Q, %Q, %Q, %Q, %Q, %d, 'demo-chat', 'demo', NULL,"
               " '{\"text\":\"' || %Q || '\"}')",
               id, kind, d->ts, status, after, recurrence, id, tries, text);
}

static int messages(demo *d)
{
    char later[32], past[32];
    in_seconds(d, 30, later);
    in_seconds(d, -3600, past);
    return message(d, "sess-hello", "msg-hello-0", "chat", "completed", NULL,
                   NULL, 0, "Thanks, that was helpful.") ||
           message(d, "sess-hello", "msg-hello-1", "chat", "pending", NULL,
                   NULL, 0, "Good morning! What is on today?") ||
           message(d, "sess-later", "msg-later-1", "chat", "pending", later,
                   NULL, 0, "Remind me in 30 seconds to stretch.") ||
           message(d, "sess-standup", "task-standup-0", "task", "completed",
                   past, "* * * * *", 0, "Post the stand-up reminder.") ||
           message(d, "sess-stuck", "msg-stuck-1", "chat", "pending", NULL,
                   NULL, 0,
                   "Summarise the logs (" HANG_MARK ": the demo agent "
                   "hangs on this message)") ||
           message(d, "sess-poison", "msg-poison-1", "webhook", "pending",
                   NULL, NULL, 4,
                   "Alert payload that crashed the agent four times ("
                   HANG_MARK ")") ||
           message(d, "sess-quiet", "msg-quiet-0", "chat", "completed", NULL,
                   NULL, 0, "See you tomorrow.")
               ? -1
               : 0;
}

/* Outbound files: a continuation that keeps a transcript active, a
 * delivered reply with an attachment, and the claim a crashed agent left. */
static int outbound(demo *d)
{
    const char *hello = "v2-sessions/ag-family/sess-hello/outbound.db";
    const char *poison = "v2-sessions/ag-ops/sess-poison/outbound.db";
    if (sql(d, hello, "PRAGMA journal_mode=DELETE;%s", SCHEMA_OUTBOUND) != 0 ||
        sql(d, hello,
            "INSERT INTO session_state VALUES ('continuation:claude', %Q, %Q);"
            "INSERT INTO messages_out (id, seq, in_reply_to, timestamp, kind,"
            " platform_id, channel_type, content) VALUES ('out-hello-0', 3,"
            " 'msg-hello-0', %Q, 'chat', 'demo-chat', 'demo',"
            " '{\"text\":\"You are welcome!\"}')",
            ACTIVE_TRANSCRIPT, d->ts, d->ts) != 0 ||
        sql(d, "v2-sessions/ag-family/sess-hello/inbound.db",
            "INSERT INTO delivered VALUES ('out-hello-0', 'p-1', 'delivered',"
            " %Q)",
            d->ts) != 0 ||
        sql(d, poison, "PRAGMA journal_mode=DELETE;%s", SCHEMA_OUTBOUND) != 0)
        return -1;
    char claimed[32];
    timefmt_sql(d->now - 10 * 60 * 1000, claimed, sizeof claimed);
    return sql(d, poison,
               "INSERT INTO processing_ack VALUES ('msg-poison-1',"
               " 'processing', %Q)",
               claimed);
}

/* A session folder nobody owns any more: inbound.db, no sessions row. */
static int orphan(demo *d)
{
    const char *base = "v2-sessions/ag-ops/sess-retired";
    const char *const files[] = {"inbound.db", "outbound.db", ".heartbeat"};
    if (dir(d, base) != 0 ||
        sql(d, "v2-sessions/ag-ops/sess-retired/inbound.db", "%s",
            SCHEMA_INBOUND) != 0 ||
        sql(d, "v2-sessions/ag-ops/sess-retired/outbound.db", "%s",
            SCHEMA_OUTBOUND) != 0 ||
        file(d, "v2-sessions/ag-ops/sess-retired/.heartbeat", "", 0) != 0)
        return -1;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "%s/%s", base, files[i]);
        if (age(d, rel, 20) != 0)
            return -1;
    }
    return age(d, base, 20);
}

/* Old artifacts of every type of SPEC §6, and a few that must be kept. */
static int artifacts(demo *d)
{
    const char *line = "{\"type\":\"user\",\"message\":\"...\"}\n";
    return
        /* v2 transcripts: old and active (kept), old (goes with its
         * tool-results folder), young (kept) */
        file(d, "v2-sessions/ag-family/.claude-shared/projects/"
                "-workspace-agent/" ACTIVE_TRANSCRIPT ".jsonl", line, 12) ||
        file(d, "v2-sessions/ag-family/.claude-shared/projects/"
                "-workspace-agent/" OLD_TRANSCRIPT ".jsonl", line, 12) ||
        file(d, "v2-sessions/ag-family/.claude-shared/projects/"
                "-workspace-agent/" OLD_TRANSCRIPT "/tool-results/ls.txt",
             "README.md\n", 12) ||
        file(d, "v2-sessions/ag-family/.claude-shared/projects/"
                "-workspace-agent/" YOUNG_TRANSCRIPT ".jsonl", line, 2) ||
        /* inbox of an answered message, outbox of a delivered reply */
        file(d, "v2-sessions/ag-family/sess-hello/inbox/msg-hello-0/"
                "photo.jpg", "JPEG...", 40) ||
        age(d, "v2-sessions/ag-family/sess-hello/inbox/msg-hello-0", 40) ||
        file(d, "v2-sessions/ag-family/sess-hello/outbox/out-hello-0/"
                "report.pdf", "%PDF-1.4...", 10) ||
        age(d, "v2-sessions/ag-family/sess-hello/outbox/out-hello-0", 10) ||
        /* clawsweep's own agent log of a session long gone */
        file(d, "clawsweep/logs/sess-retired.log", "old agent output\n", 20) ||
        /* v1 leftovers */
        dir(d, "store") ||
        sql(d, "store/messages.db", "%s", store_schema) ||
        sql(d, "store/messages.db",
            "INSERT INTO sessions VALUES ('main', %Q)", V1_ACTIVE) ||
        file(d, "sessions/main/.claude/projects/-workspace-group/" V1_ACTIVE
                ".jsonl", line, 30) ||
        file(d, "sessions/main/.claude/projects/-workspace-group/" V1_OLD
                ".jsonl", line, 30) ||
        file(d, "sessions/main/.claude/debug/latest", "", 30) ||
        file(d, "sessions/main/.claude/debug/" V1_OLD ".txt", "debug\n", 5) ||
        file(d, "sessions/main/.claude/todos/" V1_OLD "-agent.json", "[]\n",
             5) ||
        file(d, "sessions/main/.claude/telemetry/" V1_OLD ".json", "{}\n",
             10) ||
        file(d, "groups/family/logs/container-old.log", "v1 group log\n", 10) ||
        file(d, "groups/family/logs/container-today.log", "v1 group log\n", 0)
            ? -1
            : 0;
}

static int config_file(demo *d)
{
    char text[3 * PATH_MAX];
    snprintf(text, sizeof text,
             "; Written by `clawsweep demo`. Short windows so that a stop, a\n"
             "; retry and a dead letter all happen within two minutes; see\n"
             "; clawsweep.conf(5) for every key and its real default.\n"
             "\n"
             "[sweep]\n"
             "interval = 15s\n"
             "claim_tolerance = 10s\n"
             "backoff_base = 2s\n"
             "backoff_max = 10s\n"
             "stop_grace = 2s\n"
             "\n"
             "[runtime]\n"
             "kind = process\n"
             "; The reference agent; it hangs after claiming a message whose\n"
             "; content holds the marker, which plays the stuck agent.\n"
             "agent = clawsweep-agent --idle 5 --hang-on-content " HANG_MARK
             "\n"
             "\n"
             "[cleanup]\n"
             "; Keep the demo's v1 store and group logs inside the demo dir.\n"
             "groups_dir = %s/groups\n"
             "store_db = %s/store/messages.db\n",
             d->dir, d->dir);
    return file(d, "clawsweep.conf", text, 0);
}

/* DIR must not exist yet, or be an empty directory. */
static int prepare(demo *d, const char *given)
{
    if (mkdir_p(given) != 0)
        return fail(d, "cannot create %s: %s", given, strerror(errno));
    DIR *dh = opendir(given);
    if (!dh)
        return fail(d, "cannot open %s: %s", given, strerror(errno));
    struct dirent *e;
    int used = 0;
    while ((e = readdir(dh)))
        used |= strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(dh);
    if (used)
        return fail(d,
                    "%s is not empty; the demo only writes a new or empty "
                    "directory (remove it, or name another)",
                    given);
    if (!realpath(given, d->dir))
        return fail(d, "%s: %s", given, strerror(errno));
    return 0;
}

/* How to call this very binary: relative to the working directory when it
 * lies below it (build/clawsweep), else its absolute path. */
static void self_path(char *out, size_t len)
{
    char exe[PATH_MAX], cwd[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(out, len, "clawsweep");
        return;
    }
    exe[n] = '\0';
    size_t c = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
    if (c > 1 && !strncmp(exe, cwd, c) && exe[c] == '/')
        snprintf(out, len, "%s", exe + c + 1);
    else
        snprintf(out, len, "%s", exe);
}

int cmd_demo(const cs_config *cfg, int argc, char **argv)
{
    (void)cfg; /* the demo writes its own config into DIR */
    char *pos[1] = {NULL};
    int npos = cmd_scan(argc, argv, (const char *const[]){NULL}, NULL, NULL,
                        pos, 1, "clawsweep demo [DIR]");
    if (npos < 0)
        return EXIT_USAGE;
    const char *given = npos ? pos[0] : "demo-data";
    demo d;
    memset(&d, 0, sizeof d);
    d.now = clock_now_ms();
    timefmt_sql(d.now, d.ts, sizeof d.ts);
    if (prepare(&d, given) != 0) {
        fprintf(stderr, "clawsweep demo: %s\n", d.err);
        return EXIT_USAGE;
    }
    if (central(&d) || messages(&d) || outbound(&d) || orphan(&d) ||
        artifacts(&d) || config_file(&d)) {
        fprintf(stderr,
                "clawsweep demo: %s\n(the half-built demo is left in %s; "
                "remove it before trying again)\n",
                d.err, d.dir);
        return EXIT_FAILURE_RUNTIME;
    }
    char self[PATH_MAX];
    self_path(self, sizeof self);
    printf("Demo data dir created: %s\n"
           "\n"
           "  sess-hello    a due message            -> wake, reply, ack sync\n"
           "  sess-later    a message due in 30 s    -> woken right on time\n"
           "  sess-standup  a task every minute      -> recurrence, then a "
           "wake each minute\n"
           "  sess-stuck    the agent hangs on it    -> stop (claim-stuck), "
           "retry, stop ...\n"
           "  sess-poison   4 tries + a crashed claim -> retry, stop, dead "
           "letter\n"
           "  sess-quiet    nothing to do            -> nothing\n"
           "  + an orphan session folder and old artifacts for cleanup\n"
           "\n"
           "Run the daemon on it (Ctrl-C to stop; agents keep their logs "
           "in %s/clawsweep/logs/):\n"
           "\n"
           "  %s -d %s run\n"
           "\n"
           "Then, in another terminal:\n"
           "\n"
           "  %s -d %s status\n"
           "  %s -d %s failed\n"
           "  %s -d %s cleanup --dry-run\n",
           d.dir, given, self, given, self, given, self, given, self, given);
    return EXIT_OK;
}
