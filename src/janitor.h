/*
 * janitor.h - artifact cleanup (SPEC §6): one pass over the data dir, the
 * groups dir and clawsweep's own logs, removing (or, in a dry run, listing)
 * every entry of the selected types that is older than its window and that
 * no active session still needs. The CLI (`cleanup`) and the daemon call
 * the same janitor_run.
 *
 * Entries are streamed to a callback as they go, never collected: a pass
 * over a million files runs in a few megabytes.
 */
#ifndef CLAWSWEEP_JANITOR_H
#define CLAWSWEEP_JANITOR_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef enum {
    JT_TRANSCRIPTS = 0,
    JT_DEBUG,
    JT_TODOS,
    JT_TELEMETRY,
    JT_GROUP_LOGS,
    JT_INBOX,
    JT_OUTBOX,
    JT_AGENT_LOGS,
    JT_ORPHAN_SESSIONS,
    JT_COUNT
} janitor_type;

#define JANITOR_ALL ((1u << JT_COUNT) - 1u)

/* "transcripts", "group_logs", ... (the [cleanup] key of each type). */
const char *janitor_type_name(janitor_type t);
/* "debug,todos" -> mask of (1u << type). 0, or -1 with a message naming
 * the unknown type in err. */
int janitor_parse_types(const char *list, unsigned *mask, char *err,
                        size_t errlen);

/* An entry that went (or, in a dry run, would go). */
typedef struct {
    janitor_type type;
    const char *path;  /* valid during the callback only */
    uint64_t bytes;    /* freed (or that would be freed) */
    const char *archive; /* orphan_sessions: the archive written, else NULL */
} janitor_entry;

typedef struct {
    uint64_t entries[JT_COUNT], bytes[JT_COUNT];
    uint64_t total_entries, total_bytes;
    uint64_t scanned;      /* directory entries looked at */
    uint64_t kept_changed; /* selected, then kept: changed, locked, newer */
    unsigned skipped;      /* types (partly) skipped: active set unreadable */
    unsigned errors;       /* errors, each already logged */
} janitor_report;

typedef struct {
    unsigned types; /* mask of (1u << janitor_type) */
    int dry_run;
    int64_t now_ms;
    /* Each entry that went / would go (may be NULL). */
    void (*on_entry)(void *ctx, const janitor_entry *e);
    /* Each error (also logged): the type it hit (JT_COUNT for the whole
     * pass), the file it names, what went wrong. May be NULL. */
    void (*on_error)(void *ctx, janitor_type t, const char *file,
                     const char *msg);
    /* Test hook, NULL in production: called after an entry is selected and
     * before its removal is attempted (the window a concurrent writer has). */
    void (*before_remove)(void *ctx, const janitor_entry *e);
    void *ctx;
} janitor_opts;

#define JANITOR_BUSY 1 /* another pass holds DATA/clawsweep/cleanup.lock */

/* One pass. A real run holds DATA/clawsweep/cleanup.lock (flock) for its
 * duration; a dry run changes nothing and takes no lock. Returns 0 (see
 * rep->errors for per-file errors), JANITOR_BUSY, or -1 when the pass could
 * not start (the data dir cannot be opened). rep is always filled. */
int janitor_run(const cs_config *cfg, const janitor_opts *o,
                janitor_report *rep);

#endif
