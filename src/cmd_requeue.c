/*
 * cmd_requeue.c - `requeue SESSION MESSAGE`: a dead letter goes back to
 * pending with tries = 0 and no process_after. Works beside a running
 * daemon: it is one BEGIN IMMEDIATE transaction on inbound.db, and never
 * touches outbound.db (the session's agent may be running).
 */
#include <limits.h>
#include <stdio.h>

#include "cmdutil.h"
#include "commands.h"
#include "journal.h"
#include "log.h"
#include "sessiondb.h"
#include "store.h"
#include "timefmt.h"
#include "util.h"

int cmd_requeue(const cs_config *cfg, int argc, char **argv)
{
    char *pos[2] = {NULL, NULL};
    int npos = cmd_scan(argc, argv, NULL, NULL, NULL, pos, 2,
                        "clawsweep requeue SESSION MESSAGE");
    if (npos < 0)
        return EXIT_USAGE;
    if (npos != 2) {
        fprintf(stderr, "clawsweep requeue: needs SESSION and MESSAGE\n"
                        "usage: clawsweep requeue SESSION MESSAGE\n");
        return EXIT_USAGE;
    }
    if (!id_is_valid(pos[0])) {
        fprintf(stderr, "clawsweep requeue: '%s' is not a valid session id\n",
                pos[0]);
        return EXIT_USAGE;
    }
    char err[1024], status[32], dir[PATH_MAX];
    session_row row;
    int found = store_find_session(cfg->data_dir, cfg->sweep.busy_timeout_ms,
                                   pos[0], &row, status, sizeof status, err,
                                   sizeof err);
    if (found < 0) {
        fprintf(stderr, "clawsweep: %s\n", err);
        return EXIT_FAILURE_RUNTIME;
    }
    if (found == 0) {
        fprintf(stderr, "clawsweep requeue: no session '%s'\n", pos[0]);
        return EXIT_USAGE;
    }
    int rc = EXIT_FAILURE_RUNTIME;
    if (!id_is_valid(row.group_id) ||
        path_join(dir, sizeof dir, "%s/v2-sessions/%s/%s", cfg->data_dir,
                  row.group_id, row.id) != 0) {
        fprintf(stderr, "clawsweep requeue: session '%s' has an invalid group id\n",
                pos[0]);
        session_row_free(&row);
        return EXIT_USAGE;
    }
    sdb_open_opts oo = {0, 1, 5000};
    sessiondb *s;
    if (sdb_open(dir, &oo, &s, err, sizeof err) != 0) {
        fprintf(stderr, "clawsweep: session %s: %s\n", pos[0], err);
        session_row_free(&row);
        return EXIT_FAILURE_RUNTIME;
    }
    int changed = 0;
    if (sdb_requeue(s, pos[1], &changed, err, sizeof err) != 0) {
        fprintf(stderr, "clawsweep: session %s: %s\n", pos[0], err);
    } else if (!changed) {
        fprintf(stderr,
                "clawsweep requeue: message '%s' in session '%s' is not a dead "
                "letter (no such message, or its status is not 'failed')\n",
                pos[1], pos[0]);
        rc = EXIT_USAGE;
    } else {
        printf("requeued %s in session %s: pending, tries = 0\n", pos[1], pos[0]);
        log_info("requeued", "session=%s message=%s", pos[0], pos[1]);
        journal *j = NULL;
        if (journal_open(cfg->data_dir, 0, &j, err, sizeof err) == 0) {
            journal_event(j, clock_now_ms(), pos[0], pos[1], "requeue", NULL, NULL);
            journal_close(j);
        }
        rc = EXIT_OK;
    }
    sdb_close(s);
    session_row_free(&row);
    return rc;
}
