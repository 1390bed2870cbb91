/*
 * clawsweep-agent - the reference agent of SPEC §4.1.
 *
 * A real, small agent for the `process` runtime: it speaks the session file
 * protocol exactly as a NanoClaw container agent does, minus the model.
 * The demo and every end-to-end test run it, so it is faithful rather than
 * clever.
 *
 * Files (paths from the environment, else ./inbound.db, ./outbound.db and
 * ./.heartbeat in the working directory, which the process runtime sets to
 * the session folder):
 *   SESSION_INBOUND_DB_PATH   read only, opened per poll and closed again;
 *                             the agent never writes it (SPEC §1.4 rule 3).
 *   SESSION_OUTBOUND_DB_PATH  read-write, schema of SPEC §1.3 created if
 *                             missing, journal_mode=DELETE, opened per poll.
 *   SESSION_HEARTBEAT_PATH    an empty file whose mtime is touched.
 *   CLAWSWEEP_SESSION_ID      only used to tag log lines.
 *
 * Life cycle:
 *   1. At start delete every `processing` claim: a claim left by a former
 *      agent of this session is nobody's now.
 *   2. Every --poll-ms (200 ms): read the due pending rows of messages_in
 *      (status 'pending', trigger = 1, kind <> 'system', process_after NULL
 *      or <= now to the millisecond through timefmt_parse; an unparseable
 *      process_after is never due and logged once). Columns that an old
 *      inbound.db lacks are treated as absent: no trigger column means every
 *      row triggers, no kind column means none is 'system', and so on.
 *   3. Drop the rows already in processing_ack (any status: a completed ack
 *      waits for the sweep's ack sync), then claim all the others in one
 *      transaction (INSERT OR REPLACE ... 'processing', datetime('now')),
 *      the way NanoClaw's agent takes the whole pending batch at once.
 *   4. For each claimed message: do the "work" (sleep --work-ms), then write
 *      its reply to messages_out (next odd seq above both the largest seq in
 *      messages_out and the message's own seq, in_reply_to, kind 'chat',
 *      routing columns copied) and ack it 'completed' in one transaction.
 *   5. Exit 0 once nothing was done for --idle seconds (default 5).
 *
 * Heartbeat: touched at start, right after a claim, every second while
 * working, after each reply, and at most every 10 s while idle. Idle polls
 * are rate-limited on purpose: the daemon watches .heartbeat with inotify,
 * and a touch every 200 ms would wake it five times a second for nothing,
 * while never touching it when idle would let the 30-minute ceiling stop a
 * long-idling (--idle large) agent that is perfectly alive.
 *
 * Signals: SIGTERM/SIGINT only set a flag. A write in progress is finished
 * (each is one short transaction); work in progress is abandoned cleanly:
 * no reply is written and the claim stays 'processing', which is the truth
 * (the message was not answered) and lets the sweep count the try. Every
 * sleep is sliced into 50 ms steps, so the agent exits 0 well within 1 s.
 *
 * Fault switches for tests:
 *   --hang-after-claim   claim, then do nothing at all (no heartbeat before
 *                        or after the claim, no reply) until killed, or
 *                        until inbound.db is removed (a session folder that
 *                        is gone has nobody left to stop this agent: the
 *                        demo's hung agent ends with its demo dir).
 *   --hang-on-content S  the same hang, but only after claiming a message
 *                        whose content contains S (the heartbeat of start
 *                        up is kept). One agent command thus serves every
 *                        session while one marked message plays the stuck
 *                        agent: `clawsweep demo` relies on it.
 *   --crash-after-claim  claim, then die by SIGKILL on itself (no core dump,
 *                        no cleanup, exit status 128+9).
 *   --no-heartbeat       never touch the heartbeat file.
 *   --work-ms N          time each message takes.
 *
 * Exit status: 0 idle or terminated, 1 a database error that polling again
 * would not cure (corrupt file, unwritable outbound.db, ...), 2 bad usage.
 * A busy or locked database is retried on the next poll.
 */
#include "schema.h"
#include "timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
#define HEARTBEAT_WORK_MS 1000
#define HEARTBEAT_IDLE_MS 10000
#define SLEEP_SLICE_MS 50
#define WARNED_MAX 1024

/* Result of one database step: done, retry on the next poll, or give up. */
enum { DB_OK = 0, DB_RETRY = 1, DB_FATAL = -1 };

typedef struct {
    const char *inbound;
    const char *outbound;
    const char *heartbeat;
    const char *session;
    long poll_ms;
    long work_ms;
    double idle_s;
    int hang_after_claim;
    const char *hang_on_content; /* NULL when off */
    int crash_after_claim;
    int no_heartbeat;
} options;

/* One due message taken from messages_in. */
typedef struct {
    char *id;
    int64_t seq; /* -1 when the file has no seq for it */
    char *platform_id, *channel_type, *thread_id;
    int claimed;
    int hang; /* content carries the --hang-on-content marker */
} message;

typedef struct {
    message *items;
    size_t len, cap;
} message_list;

static volatile sig_atomic_t g_stop;
static int g_session_gone; /* inbound.db removed while hanging */
static options g_opt;
/* Ids whose unparseable process_after was already reported (log once). */
static char *g_warned[WARNED_MAX];
static size_t g_warned_len;
/* One-time notes (missing inbound file, missing table, ...): log on change. */
static int g_inbound_state = -1;
static int64_t g_last_heartbeat_ms = INT64_MIN;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void logf_(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void logf_(const char *level, const char *fmt, ...)
{
    char ts[32], line[1024];
    timefmt_iso_ms(clock_now_ms(), ts, sizeof ts);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s clawsweep-agent[%ld] %s session=%s %s\n", ts,
            (long)getpid(), level, g_opt.session, line);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep ms in short slices; returns early (nonzero) once a stop arrived. */
static int sleep_ms(long ms)
{
    int64_t end = mono_ms() + ms;
    while (!g_stop) {
        int64_t left = end - mono_ms();
        if (left <= 0)
            return 0;
        if (left > SLEEP_SLICE_MS)
            left = SLEEP_SLICE_MS;
        struct timespec ts = {0, (long)left * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 1;
}

static void touch_heartbeat(void)
{
    if (g_opt.no_heartbeat || g_opt.hang_after_claim)
        return;
    int fd = open(g_opt.heartbeat, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY,
                  0644);
    if (fd < 0 || futimens(fd, NULL) != 0)
        logf_("warn", "event=heartbeat-failed path=%s error=\"%s\"",
              g_opt.heartbeat, strerror(errno));
    if (fd >= 0)
        close(fd);
    g_last_heartbeat_ms = mono_ms();
}

/* ---- options ----------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: clawsweep-agent [OPTIONS]\n"
          "The reference agent of clawsweep (SPEC 4.1): answers the due\n"
          "messages of one session's inbound.db in its outbound.db.\n"
          "\n"
          "  --poll-ms N          poll interval in ms (default 200)\n"
          "  --idle SECONDS       exit 0 after this long with nothing to do\n"
          "                       (default 5; fractions allowed)\n"
          "  --work-ms N          time spent on each message (default 0)\n"
          "  --no-heartbeat       never touch the heartbeat file\n"
          "  --hang-after-claim   claim due messages, then do nothing at all\n"
          "  --hang-on-content S  hang like that only after claiming a message\n"
          "                       whose content contains S\n"
          "  --crash-after-claim  claim due messages, then die by SIGKILL\n"
          "  -h, --help           this text\n"
          "\n"
          "Environment: SESSION_INBOUND_DB_PATH, SESSION_OUTBOUND_DB_PATH,\n"
          "SESSION_HEARTBEAT_PATH (default ./inbound.db, ./outbound.db,\n"
          "./.heartbeat), CLAWSWEEP_SESSION_ID (for log lines).\n",
          f);
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* 0 to run, 1 to exit 0 (help), 2 to exit 2 (bad usage). */
static int parse_options(int argc, char **argv, options *o)
{
    enum { O_POLL = 256, O_IDLE, O_WORK, O_NOHB, O_HANG, O_HANG_ON, O_CRASH };
    static const struct option longopts[] = {
        {"poll-ms", required_argument, NULL, O_POLL},
        {"idle", required_argument, NULL, O_IDLE},
        {"work-ms", required_argument, NULL, O_WORK},
        {"no-heartbeat", no_argument, NULL, O_NOHB},
        {"hang-after-claim", no_argument, NULL, O_HANG},
        {"hang-on-content", required_argument, NULL, O_HANG_ON},
        {"crash-after-claim", no_argument, NULL, O_CRASH},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    o->inbound = env_or("SESSION_INBOUND_DB_PATH", "./inbound.db");
    o->outbound = env_or("SESSION_OUTBOUND_DB_PATH", "./outbound.db");
    o->heartbeat = env_or("SESSION_HEARTBEAT_PATH", "./.heartbeat");
    o->session = env_or("CLAWSWEEP_SESSION_ID", "-");
    o->poll_ms = 200;
    o->work_ms = 0;
    o->idle_s = 5;

    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_POLL:
            if (parse_long(optarg, 1, 3600000, &o->poll_ms)) {
                fprintf(stderr, "clawsweep-agent: --poll-ms: not a number "
                                "of ms in 1..3600000: '%s'\n", optarg);
                return 2;
            }
            break;
        case O_WORK:
            if (parse_long(optarg, 0, 86400000, &o->work_ms)) {
                fprintf(stderr, "clawsweep-agent: --work-ms: not a number "
                                "of ms in 0..86400000: '%s'\n", optarg);
                return 2;
            }
            break;
        case O_IDLE: {
            char *end;
            errno = 0;
            double v = strtod(optarg, &end);
            if (errno || end == optarg || *end || !isfinite(v) || v < 0 ||
                v > 86400.0 * 365) {
                fprintf(stderr, "clawsweep-agent: --idle: not a number of "
                                "seconds >= 0: '%s'\n", optarg);
                return 2;
            }
            o->idle_s = v;
            break;
        }
        case O_NOHB:
            o->no_heartbeat = 1;
            break;
        case O_HANG:
            o->hang_after_claim = 1;
            break;
        case O_HANG_ON:
            if (!*optarg) {
                fprintf(stderr, "clawsweep-agent: --hang-on-content needs "
                                "a non-empty text\n");
                return 2;
            }
            o->hang_on_content = optarg;
            break;
        case O_CRASH:
            o->crash_after_claim = 1;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            fprintf(stderr, "clawsweep-agent: unknown option or missing "
                            "value: '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "clawsweep-agent: unexpected argument '%s'\n",
                argv[optind]);
        usage(stderr);
        return 2;
    }
    if (o->hang_after_claim && o->crash_after_claim) {
        fprintf(stderr, "clawsweep-agent: --hang-after-claim and "
                        "--crash-after-claim exclude each other\n");
        return 2;
    }
    return 0;
}

/* ---- messages ---------------------------------------------------------- */

static char *dup_col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

static void list_free(message_list *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i].id);
        free(l->items[i].platform_id);
        free(l->items[i].channel_type);
        free(l->items[i].thread_id);
    }
    free(l->items);
    l->items = NULL;
    l->len = l->cap = 0;
}

static int list_push(message_list *l, message m)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        message *n = realloc(l->items, cap * sizeof *n);
        if (!n)
            return -1;
        l->items = n;
        l->cap = cap;
    }
    l->items[l->len++] = m;
    return 0;
}

static void warn_unparseable(const char *id, const char *pa)
{
    for (size_t i = 0; i < g_warned_len; i++)
        if (!strcmp(g_warned[i], id))
            return;
    logf_("warn", "event=bad-process-after message=%s process_after=\"%s\" "
                  "(never due until fixed)", id, pa);
    if (g_warned_len < WARNED_MAX) {
        char *c = strdup(id);
        if (c)
            g_warned[g_warned_len++] = c;
    }
}

static void warned_free(void)
{
    for (size_t i = 0; i < g_warned_len; i++)
        free(g_warned[i]);
    g_warned_len = 0;
}

/* Map a SQLite error to retry (busy, locked, a hot journal a read-only
 * connection may not roll back) or fatal, with a log line either way. */
static int db_fail(sqlite3 *db, int rc, const char *path, const char *what)
{
    int transient = (rc & 0xff) == SQLITE_BUSY ||
                    (rc & 0xff) == SQLITE_LOCKED ||
                    rc == SQLITE_READONLY_ROLLBACK;
    logf_(transient ? "warn" : "error", "event=db-%s path=%s what=\"%s\" "
          "error=\"%s\"%s", transient ? "busy" : "error", path, what,
          db ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
          transient ? " (retrying on next poll)" : "");
    return transient ? DB_RETRY : DB_FATAL;
}

/* Note a change of inbound state (present, missing file, missing table)
 * once instead of on every poll. */
static void inbound_state(int state, const char *msg)
{
    if (state == g_inbound_state)
        return;
    g_inbound_state = state;
    if (msg)
        logf_("info", "event=inbound path=%s %s", g_opt.inbound, msg);
}

enum { COL_ID, COL_SEQ, COL_KIND, COL_STATUS, COL_PROCESS_AFTER, COL_TRIGGER,
       COL_PLATFORM, COL_CHANNEL, COL_THREAD, COL_CONTENT, COL_COUNT };
static const char *const col_names[COL_COUNT] = {
    "id", "seq", "kind", "status", "process_after", "trigger",
    "platform_id", "channel_type", "thread_id", "content"};

/* Which of the columns we use this inbound.db has (old files lack some). */
static int read_columns(sqlite3 *db, int have[COL_COUNT], int *ncols)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA table_info(messages_in)", -1,
                                &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    memset(have, 0, sizeof(int) * COL_COUNT);
    *ncols = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        (*ncols)++;
        for (int i = 0; name && i < COL_COUNT; i++)
            if (!strcmp(name, col_names[i]))
                have[i] = 1;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int query_due(sqlite3 *db, const int have[COL_COUNT],
                     message_list *out)
{
    char sql[512];
#define COL(c) (have[c] ? col_names[c] : "NULL")
    snprintf(sql, sizeof sql,
             "SELECT id, %s, %s, %s, %s, %s, %s FROM messages_in "
             "WHERE status = 'pending'%s%s%s",
             COL(COL_SEQ), COL(COL_PROCESS_AFTER), COL(COL_PLATFORM),
             COL(COL_CHANNEL), COL(COL_THREAD), COL(COL_CONTENT),
             have[COL_TRIGGER] ? " AND \"trigger\" = 1" : "",
             have[COL_KIND] ? " AND kind <> 'system'" : "",
             have[COL_SEQ] ? " ORDER BY seq" : "");
#undef COL
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    int64_t now = clock_now_ms();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *pa = (const char *)sqlite3_column_text(st, 2);
        const char *content = (const char *)sqlite3_column_text(st, 6);
        if (!id)
            continue;
        if (pa) {
            int64_t due;
            if (timefmt_parse(pa, &due) != 0) {
                warn_unparseable(id, pa);
                continue;
            }
            if (due > now)
                continue;
        }
        message m = {
            .id = strdup(id),
            .seq = sqlite3_column_type(st, 1) == SQLITE_INTEGER
                       ? sqlite3_column_int64(st, 1)
                       : -1,
            .platform_id = dup_col(st, 3),
            .channel_type = dup_col(st, 4),
            .thread_id = dup_col(st, 5),
            .hang = g_opt.hang_on_content && content &&
                    strstr(content, g_opt.hang_on_content) != NULL,
        };
        if (!m.id || list_push(out, m) != 0) {
            free(m.id);
            free(m.platform_id);
            free(m.channel_type);
            free(m.thread_id);
            sqlite3_finalize(st);
            return SQLITE_NOMEM;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Read the due pending rows of inbound.db, read only, open-use-close. */
static int read_due(message_list *out)
{
    if (access(g_opt.inbound, F_OK) != 0) {
        inbound_state(1, "missing: nothing to do");
        return DB_OK;
    }
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(g_opt.inbound, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        int r = db_fail(db, rc, g_opt.inbound, "open read-only");
        sqlite3_close(db);
        return r;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    /* No journal_mode pragma here: a read-only connection cannot change
     * it, and the host side keeps inbound.db in DELETE mode (SPEC §1.4). */
    int have[COL_COUNT], ncols = 0, r = DB_OK;
    rc = read_columns(db, have, &ncols);
    if (rc != SQLITE_OK) {
        r = db_fail(db, rc, g_opt.inbound, "read messages_in columns");
    } else if (ncols == 0) {
        inbound_state(2, "has no messages_in table yet: nothing to do");
    } else if (!have[COL_ID] || !have[COL_STATUS]) {
        inbound_state(3, "messages_in lacks id or status: nothing to do");
    } else {
        inbound_state(0, NULL);
        rc = query_due(db, have, out);
        if (rc != SQLITE_OK)
            r = db_fail(db, rc, g_opt.inbound, "read due messages");
    }
    sqlite3_close(db);
    return r;
}

static int exec_sql(sqlite3 *db, const char *sql, const char *what)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? DB_OK : db_fail(db, rc, g_opt.outbound, what);
}

/* Open outbound.db read-write (created when missing) with its schema. */
static int open_outbound(sqlite3 **out)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(g_opt.outbound, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        int r = db_fail(db, rc, g_opt.outbound, "open read-write");
        sqlite3_close(db);
        return r;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    int r = exec_sql(db, "PRAGMA journal_mode=DELETE", "set journal_mode");
    if (r == DB_OK)
        r = exec_sql(db, SCHEMA_OUTBOUND, "create schema");
    if (r != DB_OK) {
        sqlite3_close(db);
        return r;
    }
    *out = db;
    return DB_OK;
}

static void rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

static int delete_stale_claims(void)
{
    sqlite3 *db = NULL;
    int r = open_outbound(&db);
    if (r != DB_OK)
        return r;
    r = exec_sql(db, "DELETE FROM processing_ack WHERE status = 'processing'",
                 "delete stale claims");
    if (r == DB_OK && sqlite3_changes(db) > 0)
        logf_("info", "event=stale-claims-deleted count=%d",
              sqlite3_changes(db));
    sqlite3_close(db);
    return r;
}

/* Claim every due message that has no processing_ack row yet, in one
 * transaction. Sets .claimed and *n. */
static int claim(message_list *l, size_t *n)
{
    *n = 0;
    sqlite3 *db = NULL;
    int r = open_outbound(&db);
    if (r != DB_OK)
        return r;
    sqlite3_stmt *has = NULL, *ins = NULL;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(
            db, "SELECT 1 FROM processing_ack WHERE message_id = ?", -1, &has,
            NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(
            db, "INSERT OR REPLACE INTO processing_ack (message_id, status, "
                "status_changed) VALUES (?, 'processing', datetime('now'))",
            -1, &ins, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < l->len; i++) {
        sqlite3_bind_text(has, 1, l->items[i].id, -1, SQLITE_STATIC);
        rc = sqlite3_step(has);
        sqlite3_reset(has);
        if (rc == SQLITE_ROW) {
            rc = SQLITE_OK; /* already claimed or acked */
            continue;
        }
        if (rc != SQLITE_DONE)
            break;
        sqlite3_bind_text(ins, 1, l->items[i].id, -1, SQLITE_STATIC);
        rc = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (rc != SQLITE_DONE)
            break;
        rc = SQLITE_OK;
        l->items[i].claimed = 1;
        (*n)++;
    }
    sqlite3_finalize(has);
    sqlite3_finalize(ins);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        r = db_fail(db, rc, g_opt.outbound, "claim messages");
        rollback(db);
        for (size_t i = 0; i < l->len; i++)
            l->items[i].claimed = 0;
        *n = 0;
    }
    sqlite3_close(db);
    for (size_t i = 0; r == DB_OK && i < l->len; i++)
        if (l->items[i].claimed)
            logf_("info", "event=claimed message=%s", l->items[i].id);
    return r;
}

/* {"text":"reply to <id>"} with the id JSON-escaped. Caller frees. */
static char *reply_json(const char *id)
{
    size_t len = strlen(id);
    char *out = malloc(len * 6 + 32);
    if (!out)
        return NULL;
    char *p = out + sprintf(out, "{\"text\":\"reply to ");
    for (const unsigned char *s = (const unsigned char *)id; *s; s++) {
        if (*s == '"' || *s == '\\')
            p += sprintf(p, "\\%c", *s);
        else if (*s < 0x20)
            p += sprintf(p, "\\u%04x", *s);
        else
            *p++ = (char)*s;
    }
    strcpy(p, "\"}");
    return out;
}

static void new_reply_id(char *out, size_t outlen)
{
    unsigned char r[3];
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        int64_t m = mono_ms() ^ ((int64_t)getpid() << 16);
        r[0] = (unsigned char)m, r[1] = (unsigned char)(m >> 8),
        r[2] = (unsigned char)(m >> 16);
    }
    snprintf(out, outlen, "msg-%lld-%02x%02x%02x", (long long)clock_now_ms(),
             r[0], r[1], r[2]);
}

/* Write the reply and ack the message, both in one transaction. */
static int reply_and_ack(const message *m)
{
    char *content = reply_json(m->id);
    if (!content) {
        logf_("error", "event=out-of-memory message=%s", m->id);
        return DB_FATAL;
    }
    sqlite3 *db = NULL;
    int r = open_outbound(&db);
    if (r != DB_OK) {
        free(content);
        return r;
    }
    char out_id[64], ts[32];
    new_reply_id(out_id, sizeof out_id);
    timefmt_sql(clock_now_ms(), ts, sizeof ts);

    sqlite3_stmt *ins = NULL, *ack = NULL;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    /* Next odd seq above both messages_out's largest and the message's
     * own, so replies stay odd, unique and ordered after what they answer. */
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(
            db,
            "INSERT INTO messages_out (id, seq, in_reply_to, timestamp, kind, "
            "platform_id, channel_type, thread_id, content) "
            "SELECT ?1, m + 1 + (m % 2 <> 0), ?2, ?3, 'chat', ?4, ?5, ?6, ?7 "
            "FROM (SELECT MAX(COALESCE((SELECT MAX(seq) FROM messages_out), "
            "0), ?8) AS m)",
            -1, &ins, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(ins, 1, out_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, m->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, ts, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, m->platform_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, m->channel_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 6, m->thread_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 7, content, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 8, m->seq > 0 ? m->seq : 0);
        rc = sqlite3_step(ins) == SQLITE_DONE ? SQLITE_OK
                                              : sqlite3_errcode(db);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(
            db, "INSERT OR REPLACE INTO processing_ack (message_id, status, "
                "status_changed) VALUES (?, 'completed', datetime('now'))",
            -1, &ack, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(ack, 1, m->id, -1, SQLITE_STATIC);
        rc = sqlite3_step(ack) == SQLITE_DONE ? SQLITE_OK
                                              : sqlite3_errcode(db);
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(ack);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        r = db_fail(db, rc, g_opt.outbound, "write reply and ack");
        rollback(db);
    } else {
        logf_("info", "event=replied message=%s reply=%s", m->id, out_id);
    }
    sqlite3_close(db);
    free(content);
    return r;
}

/* The simulated work: --work-ms of sleep, heartbeat every second. Returns
 * nonzero when a stop signal cut it short. */
static int work(const message *m)
{
    logf_("info", "event=working message=%s work_ms=%ld", m->id,
          g_opt.work_ms);
    int64_t end = mono_ms() + g_opt.work_ms;
    for (;;) {
        int64_t left = end - mono_ms();
        if (left <= 0)
            return g_stop != 0;
        if (sleep_ms(left < HEARTBEAT_WORK_MS ? (long)left
                                              : HEARTBEAT_WORK_MS))
            return 1;
        touch_heartbeat();
    }
}

/* Claimed and then nothing at all, not even a heartbeat, until killed
 * or until the session's inbound.db is removed. */
static void hang(void)
{
    logf_("info", "event=hanging (%s)", g_opt.hang_after_claim
                                             ? "--hang-after-claim"
                                             : "--hang-on-content");
    while (!g_stop && !sleep_ms(1000))
        if (access(g_opt.inbound, F_OK) != 0 && errno == ENOENT) {
            g_session_gone = 1;
            return;
        }
}

/* One poll: DB_OK with *did_work set when something was claimed. */
static int poll_once(int *did_work)
{
    message_list due = {0};
    size_t n = 0;
    *did_work = 0;
    int r = read_due(&due);
    if (r == DB_OK && due.len > 0)
        r = claim(&due, &n);
    if (r != DB_OK || n == 0) {
        list_free(&due);
        return r;
    }
    *did_work = 1;
    int marked = 0;
    for (size_t i = 0; i < due.len; i++)
        marked |= due.items[i].claimed && due.items[i].hang;
    if (g_opt.hang_after_claim || marked) {
        list_free(&due);
        hang();
        return DB_OK;
    }
    if (g_opt.crash_after_claim) {
        logf_("info", "event=crashing (--crash-after-claim)");
        /* Freed only so memory checkers see a clean death, not a leak. */
        list_free(&due);
        warned_free();
        raise(SIGKILL);
    }
    touch_heartbeat();
    for (size_t i = 0; r == DB_OK && i < due.len && !g_stop; i++) {
        if (!due.items[i].claimed)
            continue;
        if (work(&due.items[i])) {
            logf_("info", "event=abandoned message=%s (stop signal; claim "
                  "left for the sweep)", due.items[i].id);
            break;
        }
        r = reply_and_ack(&due.items[i]);
        if (r == DB_OK)
            touch_heartbeat();
    }
    list_free(&due);
    /* A reply that could not be written for a passing lock is retried:
     * the claim stays and the sweep's rules decide. Only fatal ends us. */
    return r == DB_FATAL ? DB_FATAL : DB_OK;
}

int main(int argc, char **argv)
{
    int pr = parse_options(argc, argv, &g_opt);
    if (pr == 1)
        return 0;
    if (pr == 2)
        return 2;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    logf_("info", "event=start pid=%ld inbound=%s outbound=%s heartbeat=%s "
          "poll_ms=%ld idle_s=%g work_ms=%ld%s%s%s%s%s", (long)getpid(),
          g_opt.inbound, g_opt.outbound, g_opt.heartbeat, g_opt.poll_ms,
          g_opt.idle_s, g_opt.work_ms,
          g_opt.hang_after_claim ? " hang-after-claim" : "",
          g_opt.hang_on_content ? " hang-on-content=" : "",
          g_opt.hang_on_content ? g_opt.hang_on_content : "",
          g_opt.crash_after_claim ? " crash-after-claim" : "",
          g_opt.no_heartbeat ? " no-heartbeat" : "");
    touch_heartbeat();

    int r;
    do {
        r = delete_stale_claims();
    } while (r == DB_RETRY && !g_stop && !sleep_ms(g_opt.poll_ms));
    if (r == DB_FATAL) {
        warned_free();
        return 1;
    }

    const int64_t idle_ms = (int64_t)(g_opt.idle_s * 1000.0 + 0.5);
    int64_t last_work = mono_ms();
    const char *why = "stop signal";
    while (!g_stop) {
        int did_work = 0;
        r = poll_once(&did_work);
        if (r == DB_FATAL)
            break;
        if (g_session_gone) {
            why = "inbound.db removed";
            break;
        }
        int64_t now = mono_ms();
        if (did_work) {
            last_work = now;
            continue; /* more may have come due meanwhile */
        }
        if (now - last_work >= idle_ms) {
            why = "idle";
            break;
        }
        if (g_last_heartbeat_ms == INT64_MIN || /* never: no overflow */
            now - g_last_heartbeat_ms >= HEARTBEAT_IDLE_MS)
            touch_heartbeat();
        sleep_ms(g_opt.poll_ms);
    }
    warned_free();
    if (r == DB_FATAL) {
        logf_("error", "event=exit status=1 (database error above)");
        return 1;
    }
    logf_("info", "event=exit status=0 reason=%s", why);
    return 0;
}
