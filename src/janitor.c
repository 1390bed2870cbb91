/*
 * janitor.c - artifact cleanup, SPEC §6. See janitor.h.
 *
 * Design. One pass visits the places of SPEC §6 in a fixed order: the v1
 * leftovers under DATA/sessions/ (transcripts, debug, todos, telemetry),
 * the v2 tree under DATA/v2-sessions/ (transcripts under .claude-shared,
 * then each session folder: orphan check, inbox, outbox), GROUPS/<g>/logs
 * and DATA/clawsweep/logs. Every step below a root goes through safefs
 * (directory handles, no symlink followed, no mount crossed, re-check and
 * flock test right before unlinkat), so this file only decides *what* goes.
 *
 * Decisions: an entry goes when its age in whole days, rounded down, is
 * greater than its type's window (find -mtime +N). A folder entry (inbox
 * and outbox messages, orphan sessions, tool-results folders) is as old as
 * the newest thing in it, and its removal keeps any file that became newer
 * than what was measured when it was selected.
 *
 * Active sets are read from SQLite only when a candidate needs them, and
 * an unreadable set (missing or locked file, missing table) skips exactly
 * the entries it protects, with an error naming the file: it never counts
 * as "nothing is active". The one exception is SPEC §1.3: a v2
 * outbound.db that does not exist, or has no session_state table, holds no
 * continuation, so it protects nothing (its agent never saved one).
 *
 * Nothing is collected: entries are reported through a callback as they go,
 * so memory stays flat whatever the size of the tree.
 */
#include "janitor.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "closeq.h"
#include "log.h"
#include "safefs.h"
#include "util.h"

#define DAY_MS 86400000LL
#define MARK_DEPTH 128
/* Threads closing removed files (closeq.h). They sleep on the device, not
 * the CPU, so more threads than cores help: on a 2-vCPU VM with discard,
 * 4 threads made a real run 2.5x faster, 8 about 3.5x, 16 and 32 no more
 * (bench/cleanup, 200,000 entries). */
#define CLOSE_THREADS 8

static const char *const type_names[JT_COUNT] = {
    "transcripts", "debug",  "todos",      "telemetry",      "group_logs",
    "inbox",       "outbox", "agent_logs", "orphan_sessions"};

const char *janitor_type_name(janitor_type t)
{
    return (unsigned)t < JT_COUNT ? type_names[t] : "all";
}

int janitor_parse_types(const char *list, unsigned *mask, char *err,
                        size_t errlen)
{
    *mask = 0;
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        int found = -1;
        for (int t = 0; t < JT_COUNT; t++)
            if (strlen(type_names[t]) == n && !strncmp(type_names[t], p, n))
                found = t;
        if (found < 0) {
            snprintf(err, errlen,
                     "unknown cleanup type '%.*s' (known: transcripts, debug, "
                     "todos, telemetry, group_logs, inbox, outbox, agent_logs, "
                     "orphan_sessions)",
                     (int)(n > 64 ? 64 : n), p);
            return -1;
        }
        *mask |= 1u << found;
        if (!end)
            return 0;
        p = end + 1;
    }
}

/* An active set read on demand: 0 not yet, 1 read, -1 unreadable. */
typedef struct {
    int state;
    strset ids;
} idset;

typedef struct {
    const cs_config *cfg;
    const janitor_opts *o;
    janitor_report *rep;
    sfs_dir data;
    idset v1_active;    /* STORE sessions.session_id */
    idset v2_sessions;  /* v2.db sessions.id (orphan check) */
    closeq *cq;         /* last closes of removed files (real runs) */
} jctx;

static int wanted(const jctx *j, janitor_type t)
{
    return (j->o->types >> t) & 1u;
}

static int window_days(const jctx *j, janitor_type t)
{
    const cs_config *c = j->cfg;
    switch (t) {
    case JT_TRANSCRIPTS: return c->cleanup.transcripts;
    case JT_DEBUG: return c->cleanup.debug;
    case JT_TODOS: return c->cleanup.todos;
    case JT_TELEMETRY: return c->cleanup.telemetry;
    case JT_GROUP_LOGS: return c->cleanup.group_logs;
    case JT_INBOX: return c->cleanup.inbox;
    case JT_OUTBOX: return c->cleanup.outbox;
    case JT_AGENT_LOGS: return c->cleanup.agent_logs;
    case JT_ORPHAN_SESSIONS: return c->cleanup.orphan_sessions;
    default: return INT_MAX;
    }
}

/* The find -mtime +N rule: whole days of age, rounded down, > N. */
static int is_old(const jctx *j, janitor_type t, int64_t mtime_ms)
{
    int64_t age = j->o->now_ms - mtime_ms;
    if (age < 0)
        return 0;
    return age / DAY_MS > (int64_t)window_days(j, t);
}

static void jerror(jctx *j, janitor_type t, const char *file,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void jerror(jctx *j, janitor_type t, const char *file,
                   const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_error("cleanup error", "type=%s file=%s error=%s",
              janitor_type_name(t), file, msg);
    j->rep->errors++;
    if (j->o->on_error)
        j->o->on_error(j->o->ctx, t, file, msg);
}

static void skip_types(jctx *j, unsigned mask, const char *file,
                       const char *why)
{
    mask &= j->o->types;
    if (!mask)
        return;
    j->rep->skipped |= mask;
    char names[256] = "";
    for (int t = 0; t < JT_COUNT; t++)
        if ((mask >> t) & 1u) {
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s", l ? "," : "",
                     type_names[t]);
        }
    for (int t = 0; t < JT_COUNT; t++)
        if ((mask >> t) & 1u) {
            jerror(j, (janitor_type)t, file,
                   "active set unreadable (%s): skipping %s", why, names);
            break; /* one error line for the set, naming every type */
        }
}

static void report(jctx *j, janitor_type t, const char *path, uint64_t bytes,
                   const char *archive)
{
    janitor_report *r = j->rep;
    r->entries[t]++;
    r->bytes[t] += bytes;
    r->total_entries++;
    r->total_bytes += bytes;
    log_debug(j->o->dry_run ? "cleanup would remove" : "cleanup removed",
              "type=%s path=%s bytes=%llu", type_names[t], path,
              (unsigned long long)bytes);
    if (j->o->on_entry) {
        janitor_entry e = {t, path, bytes, archive};
        j->o->on_entry(j->o->ctx, &e);
    }
}

static void hook(jctx *j, janitor_type t, const char *path, uint64_t bytes)
{
    if (j->o->before_remove) {
        janitor_entry e = {t, path, bytes, NULL};
        j->o->before_remove(j->o->ctx, &e);
    }
}

static void kept(jctx *j, janitor_type t, const char *path, int rc)
{
    j->rep->kept_changed++;
    log_info("cleanup kept", "type=%s path=%s reason=%s", type_names[t], path,
             rc == SFS_LOCKED ? "locked" : "changed");
}

/* ---- active sets ------------------------------------------------------ */

/* Read column 0 of sql from db into ids. missing_ok: a missing file or
 * table is an empty set (SPEC §1.3 for outbound.db). 0, or -1 with err. */
static int read_ids(const jctx *j, const char *db, const char *sql,
                    int missing_ok, strset *ids, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(db, &st) != 0) {
        if (errno == ENOENT && missing_ok)
            return 0;
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "not a regular file");
        return -1;
    }
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s", h ? sqlite3_errmsg(h) : "cannot open");
        sqlite3_close(h);
        return -1;
    }
    int64_t bt = j->cfg->sweep.busy_timeout_ms;
    sqlite3_busy_timeout(h, bt > INT_MAX ? INT_MAX : (int)bt);
    sqlite3_stmt *q = NULL;
    rc = sqlite3_prepare_v2(h, sql, -1, &q, NULL);
    if (rc != SQLITE_OK) {
        const char *m = sqlite3_errmsg(h);
        int no_table = !strncmp(m, "no such table", 13);
        snprintf(err, errlen, "%s", m);
        sqlite3_close(h);
        return no_table && missing_ok ? 0 : -1;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(q, 0);
        if (v && strset_add(ids, (const char *)v) != 0) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "%s", sqlite3_errmsg(h));
    sqlite3_finalize(q);
    sqlite3_close(h);
    if (rc != SQLITE_DONE)
        return -1;
    strset_sort(ids);
    return 0;
}

/* Load a central set once; on failure skip the types in mask. */
static int need_set(jctx *j, idset *s, const char *db, const char *sql,
                    unsigned mask)
{
    if (s->state == 0) {
        char err[256];
        if (read_ids(j, db, sql, 0, &s->ids, err, sizeof err) == 0) {
            s->state = 1;
        } else {
            s->state = -1;
            strset_free(&s->ids);
            skip_types(j, mask, db, err);
        }
    }
    return s->state == 1;
}

static int contains_any(const strset *s, const char *name)
{
    for (size_t i = 0; i < s->len; i++)
        if (s->items[i][0] && strstr(name, s->items[i]))
            return 1;
    return 0;
}

/* ---- iterating the direct children of a directory ---------------------- */

typedef void (*child_fn)(jctx *j, const sfs_dir *parent, const sfs_entry *e,
                         void *arg);
typedef struct {
    jctx *j;
    child_fn fn;
    void *arg;
    int dirs_only;
} children_ctx;

static int children_visit(void *ctx, const sfs_entry *e, int when)
{
    children_ctx *c = ctx;
    if (when == SFS_VISIT_DIR_POST)
        return 0;
    c->j->rep->scanned++;
    if (!c->dirs_only || when == SFS_VISIT_DIR_PRE) {
        sfs_dir parent = {e->dirfd, e->st.st_dev};
        c->fn(c->j, &parent, e, c->arg);
    }
    return 1; /* never descend: fn opens what it needs */
}

/* Call fn for each child (each subdirectory when dirs_only) of dir. */
static void each_child(jctx *j, const sfs_dir *dir, const char *path,
                       int dirs_only, child_fn fn, void *arg)
{
    children_ctx c = {j, fn, arg, dirs_only};
    if (sfs_walk(dir, path, children_visit, &c) != 0)
        jerror(j, JT_COUNT, path, "cannot read directory: %s",
               strerror(errno));
}

/* Open name in parent for a walk; quietly nothing when it is absent. */
static int open_opt(jctx *j, const sfs_dir *parent, const char *ppath,
                    const char *name, sfs_dir *out, char *path, size_t plen)
{
    if (path_join(path, plen, "%s/%s", ppath, name) != 0)
        return -1;
    int rc = sfs_open_sub(parent, name, out);
    if (rc == SFS_OK)
        return 0;
    if (rc == SFS_NOTDIR || rc == SFS_XDEV)
        log_warn("cleanup: not descending", "path=%s reason=%s", path,
                 rc == SFS_XDEV ? "mount point" : "not a directory");
    else if (rc == SFS_ERR)
        jerror(j, JT_COUNT, path, "cannot open: %s", strerror(errno));
    return -1;
}

/* ---- removing ------------------------------------------------------------ */

/* A selected file (regular or symlink): report it, or remove and report. */
static void take_file(jctx *j, janitor_type t, const sfs_entry *e)
{
    uint64_t bytes = (uint64_t)e->st.st_size;
    if (j->o->dry_run) {
        report(j, t, e->path, bytes, NULL);
        return;
    }
    hook(j, t, e->path, bytes);
    int rc = sfs_remove_file(e->dirfd, e->name, &e->st, j->cq);
    if (rc == SFS_OK)
        report(j, t, e->path, bytes, NULL);
    else if (rc == SFS_CHANGED || rc == SFS_LOCKED)
        kept(j, t, e->path, rc);
    else if (rc == SFS_ERR)
        jerror(j, t, e->path, "cannot remove: %s", strerror(errno));
}

/* A selected folder measured at (bytes, newest): report or remove. */
static void take_tree(jctx *j, janitor_type t, const sfs_dir *parent,
                      const char *name, const char *path, uint64_t bytes,
                      const struct timespec *newest, const char *archive)
{
    if (j->o->dry_run) {
        report(j, t, path, bytes, NULL);
        return;
    }
    if (!archive)
        hook(j, t, path, bytes);
    uint64_t freed = 0;
    int rc = sfs_remove_tree(parent, name, newest, &freed, j->cq);
    if (rc == SFS_OK || (rc == SFS_KEPT && freed > 0))
        report(j, t, path, freed, archive);
    if (rc == SFS_KEPT)
        kept(j, t, path, SFS_CHANGED);
    else if (rc == SFS_ERR)
        jerror(j, t, path, "cannot remove: %s", strerror(errno));
}

/* Files at any depth below a folder (debug, todos, telemetry, group and
 * agent logs); directories the pass empties go too, the root stays. */
typedef int (*keep_fn)(jctx *j, const char *name);
typedef struct {
    jctx *j;
    janitor_type t;
    keep_fn keep;
    uint64_t removed;
    uint64_t mark[MARK_DEPTH];
} files_ctx;

static int files_visit(void *ctx, const sfs_entry *e, int when)
{
    files_ctx *f = ctx;
    jctx *j = f->j;
    if (when == SFS_VISIT_DIR_PRE) {
        if (e->depth < MARK_DEPTH)
            f->mark[e->depth] = f->removed;
        return 0;
    }
    if (when == SFS_VISIT_DIR_POST) {
        if (!j->o->dry_run && e->depth < MARK_DEPTH &&
            f->mark[e->depth] != f->removed)
            sfs_remove_dir(e->dirfd, e->name, j->cq); /* only if empty */
        return 0;
    }
    j->rep->scanned++;
    if (!S_ISREG(e->st.st_mode) && !S_ISLNK(e->st.st_mode))
        return 0;
    if (f->keep && f->keep(j, e->name))
        return 0;
    if (!is_old(j, f->t, sfs_mtime_ms(&e->st)))
        return 0;
    uint64_t before = j->rep->entries[f->t];
    take_file(j, f->t, e);
    if (j->rep->entries[f->t] != before)
        f->removed++;
    return 0;
}

static void clean_files(jctx *j, janitor_type t, const sfs_dir *parent,
                        const char *ppath, const char *name, keep_fn keep)
{
    char path[PATH_MAX];
    sfs_dir d;
    if (open_opt(j, parent, ppath, name, &d, path, sizeof path) != 0)
        return;
    files_ctx f = {.j = j, .t = t, .keep = keep};
    if (sfs_walk(&d, path, files_visit, &f) != 0)
        jerror(j, t, path, "cannot read directory: %s", strerror(errno));
    sfs_close(&d);
}

/* ---- transcripts ---------------------------------------------------------- */

/* One projects/<p>/ folder: <id>.jsonl files not in active (+ <id>/). */
static void transcript_child(jctx *j, const sfs_dir *proj,
                             const sfs_entry *e, void *arg)
{
    const strset *active = arg;
    size_t n = strlen(e->name);
    if (S_ISDIR(e->st.st_mode) || n <= 6 ||
        strcmp(e->name + n - 6, ".jsonl") != 0)
        return;
    if (!S_ISREG(e->st.st_mode) && !S_ISLNK(e->st.st_mode))
        return;
    char id[NAME_MAX + 1];
    memcpy(id, e->name, n - 6);
    id[n - 6] = '\0';
    if (strset_has(active, id) || !is_old(j, JT_TRANSCRIPTS,
                                          sfs_mtime_ms(&e->st)))
        return;

    /* the tool-results folder beside it goes with it, whatever its age */
    char fpath[PATH_MAX];
    size_t plen = strlen(e->path);
    memcpy(fpath, e->path, plen - 6);
    fpath[plen - 6] = '\0';
    uint64_t fbytes = 0;
    struct timespec fnewest;
    int has_folder =
        sfs_measure_tree(proj, id, &fbytes, &fnewest) == SFS_OK;

    uint64_t before = j->rep->entries[JT_TRANSCRIPTS];
    take_file(j, JT_TRANSCRIPTS, e);
    if (has_folder && (j->o->dry_run ||
                       j->rep->entries[JT_TRANSCRIPTS] != before))
        take_tree(j, JT_TRANSCRIPTS, proj, id, fpath, fbytes, &fnewest,
                  NULL);
}

static void project_dir(jctx *j, const sfs_dir *projects,
                        const sfs_entry *e, void *arg)
{
    sfs_dir p;
    if (sfs_open_sub(projects, e->name, &p) != SFS_OK)
        return;
    each_child(j, &p, e->path, 0, transcript_child, arg);
    sfs_close(&p);
}

/* <dir>/projects/<p>/<id>.jsonl for every project folder. */
static void clean_transcripts(jctx *j, const sfs_dir *dir, const char *dpath,
                              const strset *active)
{
    char path[PATH_MAX];
    sfs_dir projects;
    if (open_opt(j, dir, dpath, "projects", &projects, path, sizeof path))
        return;
    each_child(j, &projects, path, 1, project_dir, (void *)active);
    sfs_close(&projects);
}

/* ---- v1: DATA/sessions/<folder>/.claude/ -------------------------------- */

#define V1_TYPES                                                          \
    ((1u << JT_TRANSCRIPTS) | (1u << JT_DEBUG) | (1u << JT_TODOS) |       \
     (1u << JT_TELEMETRY))

static int keep_debug(jctx *j, const char *name)
{
    if (!strcmp(name, "latest"))
        return 1;
    char id[NAME_MAX + 1];
    snprintf(id, sizeof id, "%s", name);
    size_t n = strlen(id);
    if (n > 4 && !strcmp(id + n - 4, ".txt"))
        id[n - 4] = '\0';
    return strset_has(&j->v1_active.ids, id);
}

static int keep_named_active(jctx *j, const char *name)
{
    return contains_any(&j->v1_active.ids, name);
}

static void v1_folder(jctx *j, const sfs_dir *sessions, const sfs_entry *e,
                      void *arg)
{
    (void)arg;
    char path[PATH_MAX];
    sfs_dir folder, claude;
    if (sfs_open_sub(sessions, e->name, &folder) != SFS_OK)
        return;
    int rc = open_opt(j, &folder, e->path, ".claude", &claude, path,
                      sizeof path);
    sfs_close(&folder);
    if (rc != 0)
        return;
    if (need_set(j, &j->v1_active, j->cfg->cleanup.store_db,
                 "SELECT session_id FROM sessions", V1_TYPES)) {
        if (wanted(j, JT_TRANSCRIPTS))
            clean_transcripts(j, &claude, path, &j->v1_active.ids);
        if (wanted(j, JT_DEBUG))
            clean_files(j, JT_DEBUG, &claude, path, "debug", keep_debug);
        if (wanted(j, JT_TODOS))
            clean_files(j, JT_TODOS, &claude, path, "todos",
                        keep_named_active);
        if (wanted(j, JT_TELEMETRY))
            clean_files(j, JT_TELEMETRY, &claude, path, "telemetry",
                        keep_named_active);
    }
    sfs_close(&claude);
}

static void clean_v1(jctx *j)
{
    char path[PATH_MAX];
    sfs_dir sessions;
    if (open_opt(j, &j->data, j->cfg->data_dir, "sessions", &sessions, path,
                 sizeof path))
        return;
    each_child(j, &sessions, path, 1, v1_folder, NULL);
    sfs_close(&sessions);
}

/* ---- v2: DATA/v2-sessions/<ag>/ ------------------------------------------ */

typedef struct {
    const char *group;  /* <ag> */
    const char *gpath;  /* DATA/v2-sessions/<ag> */
    strset active;      /* continuation ids of the group's sessions */
    char bad_db[PATH_MAX];
    char err[256];
} group_ctx;

/* Is there a regular file name in dir (never through a symlink)? */
static int has_file(const sfs_dir *dir, const char *name)
{
    struct stat st;
    return fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISREG(st.st_mode);
}

static void group_active_child(jctx *j, const sfs_dir *g, const sfs_entry *e,
                               void *arg)
{
    group_ctx *gc = arg;
    (void)g;
    if (gc->bad_db[0] || e->name[0] == '.')
        return;
    char db[PATH_MAX];
    if (path_join(db, sizeof db, "%s/outbound.db", e->path) != 0)
        return;
    if (read_ids(j, db,
                 "SELECT value FROM session_state WHERE key LIKE "
                 "'continuation:%' OR key = 'sdk_session_id'",
                 1, &gc->active, gc->err, sizeof gc->err) != 0)
        snprintf(gc->bad_db, sizeof gc->bad_db, "%s", db);
}

static void v2_transcripts(jctx *j, const sfs_dir *group, group_ctx *gc)
{
    char path[PATH_MAX];
    sfs_dir shared;
    if (open_opt(j, group, gc->gpath, ".claude-shared", &shared, path,
                 sizeof path))
        return;
    each_child(j, group, gc->gpath, 1, group_active_child, gc);
    strset_sort(&gc->active);
    if (gc->bad_db[0])
        skip_types(j, 1u << JT_TRANSCRIPTS, gc->bad_db, gc->err);
    else
        clean_transcripts(j, &shared, path, &gc->active);
    sfs_close(&shared);
}

/* inbox/<msg>/ or outbox/<msg>/ of one session. */
typedef struct {
    janitor_type t;
    const char *inbound; /* path of the session's inbound.db */
    idset set;           /* inbox: messages still needed; outbox: delivered */
} box_ctx;

static void box_child(jctx *j, const sfs_dir *box, const sfs_entry *e,
                      void *arg)
{
    box_ctx *b = arg;
    if (b->set.state < 0)
        return;
    uint64_t bytes;
    struct timespec newest;
    if (sfs_measure_tree(box, e->name, &bytes, &newest) != SFS_OK)
        return;
    int64_t ms = (int64_t)newest.tv_sec * 1000 + newest.tv_nsec / 1000000;
    if (!is_old(j, b->t, ms))
        return;
    const char *sql =
        b->t == JT_INBOX
            ? "SELECT id FROM messages_in WHERE status IS NULL OR status NOT "
              "IN ('completed', 'failed')"
            : "SELECT message_out_id FROM delivered WHERE status = "
              "'delivered'";
    if (!need_set(j, &b->set, b->inbound, sql, 1u << b->t))
        return;
    int listed = strset_has(&b->set.ids, e->name);
    if (b->t == JT_INBOX ? listed : !listed)
        return;
    take_tree(j, b->t, box, e->name, e->path, bytes, &newest, NULL);
}

static void clean_box(jctx *j, janitor_type t, const sfs_dir *sess,
                      const char *spath)
{
    char path[PATH_MAX], inbound[PATH_MAX];
    sfs_dir box;
    if (path_join(inbound, sizeof inbound, "%s/inbound.db", spath) != 0 ||
        open_opt(j, sess, spath, t == JT_INBOX ? "inbox" : "outbox", &box,
                 path, sizeof path))
        return;
    box_ctx b = {.t = t, .inbound = inbound};
    each_child(j, &box, path, 1, box_child, &b);
    strset_free(&b.set.ids);
    sfs_close(&box);
}

/* ---- orphan session folders ---------------------------------------------- */

typedef struct {
    struct archive *a;
    const char *top; /* <sid> */
    int failed;
    char buf[65536];
} archive_ctx;

static int archive_visit(void *ctx, const sfs_entry *e, int when)
{
    archive_ctx *ac = ctx;
    if (when == SFS_VISIT_DIR_POST || ac->failed)
        return 0;
    char name[PATH_MAX];
    if (path_join(name, sizeof name, "%s/%s", ac->top, e->rel) != 0)
        return 0;
    struct stat st = e->st;
    char target[PATH_MAX];
    int fd = -1;
    if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlinkat(e->dirfd, e->name, target, sizeof target - 1);
        if (n < 0)
            return 0;
        target[n] = '\0';
    } else if (S_ISREG(st.st_mode)) {
        fd = openat(e->dirfd, e->name,
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) != 0 || st.st_ino != e->st.st_ino) {
            if (fd >= 0)
                close(fd);
            return 0;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        return 0; /* sockets, fifos, devices: not session data */
    }
    struct archive_entry *ae = archive_entry_new();
    if (!ae) {
        ac->failed = 1;
        if (fd >= 0)
            close(fd);
        return 0;
    }
    archive_entry_copy_stat(ae, &st);
    archive_entry_set_pathname(ae, name);
    if (S_ISLNK(st.st_mode))
        archive_entry_set_symlink(ae, target);
    if (archive_write_header(ac->a, ae) != ARCHIVE_OK)
        ac->failed = 1;
    archive_entry_free(ae);
    if (fd >= 0) {
        ssize_t n;
        while (!ac->failed && (n = read(fd, ac->buf, sizeof ac->buf)) > 0)
            if (archive_write_data(ac->a, ac->buf, (size_t)n) < 0)
                ac->failed = 1;
        close(fd);
    }
    return 0;
}

/* Write DATA/clawsweep/archive/<ag>/<sid>-<UTC>.tar.gz from the open
 * session folder; *out gets its path. 0, or -1 with err. */
static int write_archive(jctx *j, const sfs_dir *sess, const char *spath,
                         const char *ag, const char *sid, char *out,
                         char *err, size_t errlen)
{
    char dir[PATH_MAX], tmp[PATH_MAX], stamp[32];
    time_t secs = (time_t)(j->o->now_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    if (path_join(dir, sizeof dir, "%s/clawsweep/archive/%s",
                  j->cfg->data_dir, ag) != 0 ||
        path_join(out, PATH_MAX, "%s/%s-%s.tar.gz", dir, sid, stamp) != 0 ||
        path_join(tmp, sizeof tmp, "%s/.%s-%s.tar.gz.tmp", dir, sid,
                  stamp) != 0) {
        snprintf(err, errlen, "archive path too long");
        return -1;
    }
    if (mkdir_p(dir) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                  0640);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    archive_ctx *ac = malloc(sizeof *ac);
    struct archive *a = archive_write_new();
    int ok = ac && a && archive_write_add_filter_gzip(a) == ARCHIVE_OK &&
             archive_write_set_format_pax_restricted(a) == ARCHIVE_OK &&
             archive_write_open_fd(a, fd) == ARCHIVE_OK;
    if (ok) {
        ac->a = a;
        ac->top = sid;
        ac->failed = 0;
        /* the folder itself first, then everything in it */
        struct stat st;
        struct archive_entry *ae = archive_entry_new();
        ok = ae && fstat(sess->fd, &st) == 0;
        if (ok) {
            archive_entry_copy_stat(ae, &st);
            archive_entry_set_pathname(ae, sid);
            ok = archive_write_header(a, ae) == ARCHIVE_OK;
        }
        archive_entry_free(ae);
        ok = ok && sfs_walk(sess, spath, archive_visit, ac) == 0 &&
             !ac->failed;
        if (archive_write_close(a) != ARCHIVE_OK)
            ok = 0;
    }
    if (!ok)
        snprintf(err, errlen, "cannot write %s: %s", tmp,
                 a && archive_error_string(a) ? archive_error_string(a)
                                              : strerror(errno));
    if (a)
        archive_write_free(a);
    free(ac);
    if (ok && fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        ok = 0;
    }
    close(fd);
    /* link, not rename: never replace an archive already there */
    if (ok && link(tmp, out) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", out, strerror(errno));
        ok = 0;
    }
    unlink(tmp);
    return ok ? 0 : -1;
}

/* Returns 1 when the folder was taken as an orphan (nothing else to do). */
static int orphan_check(jctx *j, const sfs_dir *group, const sfs_dir *sess,
                        const char *ag, const sfs_entry *e)
{
    if (!has_file(sess, "inbound.db"))
        return 0;
    char v2db[PATH_MAX];
    if (path_join(v2db, sizeof v2db, "%s/v2.db", j->cfg->data_dir) != 0 ||
        !need_set(j, &j->v2_sessions, v2db, "SELECT id FROM sessions",
                  1u << JT_ORPHAN_SESSIONS))
        return 0;
    if (strset_has(&j->v2_sessions.ids, e->name))
        return 0;
    uint64_t bytes;
    struct timespec newest;
    if (sfs_measure_tree(group, e->name, &bytes, &newest) != SFS_OK)
        return 0;
    int64_t ms = (int64_t)newest.tv_sec * 1000 + newest.tv_nsec / 1000000;
    if (!is_old(j, JT_ORPHAN_SESSIONS, ms))
        return 0;
    if (!id_is_valid(ag) || !id_is_valid(e->name)) {
        log_warn("cleanup: orphan session skipped, invalid id",
                 "path=%s", e->path);
        return 0;
    }
    if (j->o->dry_run) {
        report(j, JT_ORPHAN_SESSIONS, e->path, bytes, NULL);
        return 1;
    }
    hook(j, JT_ORPHAN_SESSIONS, e->path, bytes);
    char archive[PATH_MAX], err[PATH_MAX + 128];
    if (write_archive(j, sess, e->path, ag, e->name, archive, err,
                      sizeof err) != 0) {
        jerror(j, JT_ORPHAN_SESSIONS, e->path, "not removed: %s", err);
        return 1;
    }
    log_info("cleanup archived orphan session", "session=%s group=%s archive=%s",
             e->name, ag, archive);
    take_tree(j, JT_ORPHAN_SESSIONS, group, e->name, e->path, bytes, &newest,
              archive);
    return 1;
}

static void session_folder(jctx *j, const sfs_dir *group, const sfs_entry *e,
                           void *arg)
{
    group_ctx *gc = arg;
    if (!strcmp(e->name, ".claude-shared"))
        return;
    sfs_dir sess;
    if (sfs_open_sub(group, e->name, &sess) != SFS_OK)
        return;
    int taken = wanted(j, JT_ORPHAN_SESSIONS) &&
                orphan_check(j, group, &sess, gc->group, e);
    if (!taken && wanted(j, JT_INBOX))
        clean_box(j, JT_INBOX, &sess, e->path);
    if (!taken && wanted(j, JT_OUTBOX))
        clean_box(j, JT_OUTBOX, &sess, e->path);
    sfs_close(&sess);
}

static void v2_group(jctx *j, const sfs_dir *v2, const sfs_entry *e,
                     void *arg)
{
    (void)arg;
    sfs_dir group;
    if (sfs_open_sub(v2, e->name, &group) != SFS_OK)
        return;
    group_ctx gc = {.group = e->name, .gpath = e->path};
    if (wanted(j, JT_TRANSCRIPTS))
        v2_transcripts(j, &group, &gc);
    if (j->o->types & ((1u << JT_INBOX) | (1u << JT_OUTBOX) |
                       (1u << JT_ORPHAN_SESSIONS)))
        each_child(j, &group, e->path, 1, session_folder, &gc);
    strset_free(&gc.active);
    sfs_close(&group);
}

static void clean_v2(jctx *j)
{
    char path[PATH_MAX];
    sfs_dir v2;
    if (open_opt(j, &j->data, j->cfg->data_dir, "v2-sessions", &v2, path,
                 sizeof path))
        return;
    each_child(j, &v2, path, 1, v2_group, NULL);
    sfs_close(&v2);
}

/* ---- GROUPS/<g>/logs and DATA/clawsweep/logs ----------------------------- */

static void group_logs_child(jctx *j, const sfs_dir *groups,
                             const sfs_entry *e, void *arg)
{
    (void)arg;
    sfs_dir g;
    if (sfs_open_sub(groups, e->name, &g) != SFS_OK)
        return;
    clean_files(j, JT_GROUP_LOGS, &g, e->path, "logs", NULL);
    sfs_close(&g);
}

static void clean_group_logs(jctx *j)
{
    const char *gd = j->cfg->cleanup.groups_dir;
    sfs_dir groups;
    int rc = sfs_open_root(gd, &groups);
    if (rc == SFS_GONE)
        return;
    if (rc != SFS_OK) {
        jerror(j, JT_GROUP_LOGS, gd, "cannot open groups dir: %s",
               rc == SFS_NOTDIR ? "not a directory" : strerror(errno));
        return;
    }
    each_child(j, &groups, gd, 1, group_logs_child, NULL);
    sfs_close(&groups);
}

static void clean_agent_logs(jctx *j)
{
    char path[PATH_MAX];
    sfs_dir own;
    if (open_opt(j, &j->data, j->cfg->data_dir, "clawsweep", &own, path,
                 sizeof path))
        return;
    clean_files(j, JT_AGENT_LOGS, &own, path, "logs", NULL);
    sfs_close(&own);
}

/* ---- the pass -------------------------------------------------------------- */

/* DATA/clawsweep/cleanup.lock: returns the held fd, -1 on error,
 * -2 when another pass holds it. */
static int take_lock(jctx *j)
{
    char dir[PATH_MAX], lock[PATH_MAX];
    if (path_join(dir, sizeof dir, "%s/clawsweep", j->cfg->data_dir) != 0 ||
        path_join(lock, sizeof lock, "%s/cleanup.lock", dir) != 0)
        return -1;
    if (mkdir_p(dir) != 0) {
        jerror(j, JT_COUNT, dir, "cannot create: %s", strerror(errno));
        return -1;
    }
    int fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) {
        jerror(j, JT_COUNT, lock, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        if (!busy)
            jerror(j, JT_COUNT, lock, "cannot lock: %s", strerror(errno));
        close(fd);
        return busy ? -2 : -1;
    }
    return fd;
}

int janitor_run(const cs_config *cfg, const janitor_opts *o,
                janitor_report *rep)
{
    memset(rep, 0, sizeof *rep);
    jctx j = {.cfg = cfg, .o = o, .rep = rep, .data = {.fd = -1}};

    int lock = -1;
    if (!o->dry_run) {
        lock = take_lock(&j);
        if (lock == -2) {
            log_warn("cleanup: another cleanup pass is running",
                     "data_dir=%s", cfg->data_dir);
            return JANITOR_BUSY;
        }
        if (lock < 0)
            return -1;
    }
    int rc = sfs_open_root(cfg->data_dir, &j.data);
    if (rc != SFS_OK) {
        jerror(&j, JT_COUNT, cfg->data_dir, "cannot open data dir: %s",
               rc == SFS_GONE     ? "no such directory"
               : rc == SFS_NOTDIR ? "not a directory"
                                  : strerror(errno));
        if (lock >= 0)
            close(lock);
        return -1;
    }

    if (!o->dry_run)
        j.cq = closeq_start(CLOSE_THREADS);
    if (o->types & V1_TYPES)
        clean_v1(&j);
    if (o->types & ((1u << JT_TRANSCRIPTS) | (1u << JT_INBOX) |
                    (1u << JT_OUTBOX) | (1u << JT_ORPHAN_SESSIONS)))
        clean_v2(&j);
    if (wanted(&j, JT_GROUP_LOGS))
        clean_group_logs(&j);
    if (wanted(&j, JT_AGENT_LOGS))
        clean_agent_logs(&j);
    closeq_finish(j.cq); /* the space is free when the pass says so */

    log_info(o->dry_run ? "cleanup dry run done" : "cleanup done",
             "entries=%llu bytes=%llu scanned=%llu kept_changed=%llu "
             "errors=%u",
             (unsigned long long)rep->total_entries,
             (unsigned long long)rep->total_bytes,
             (unsigned long long)rep->scanned,
             (unsigned long long)rep->kept_changed, rep->errors);
    strset_free(&j.v1_active.ids);
    strset_free(&j.v2_sessions.ids);
    sfs_close(&j.data);
    if (lock >= 0)
        close(lock);
    return 0;
}
