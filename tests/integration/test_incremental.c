/*
 * The stat gate of incremental ticks (the daemon's), driven in process on
 * a real data dir: an unchanged session is not reopened; any change to
 * its files - including one made while it was being swept - is.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "config.h"
#include "journal.h"
#include "log.h"
#include "runtime.h"
#include "sweep.h"
#include "testlib.h"
#include "timefmt.h"
#include "tz.h"

/* A sweep context on a data dir, as the daemon holds one. */
typedef struct {
    cs_config cfg;
    tz_info *tz;
    runtime *rt;
    journal *j;
    sweep_ctx *ctx;
} engine;

static void engine_open(engine *e, const char *data)
{
    char err[1024];
    log_setup(LOG_ERROR, LOG_TEXT);
    config_defaults(&e->cfg);
    snprintf(e->cfg.data_dir, sizeof e->cfg.data_dir, "%s", data);
    assert_int_equal(config_finish(&e->cfg, err, sizeof err), 0);
    assert_int_equal(tz_load("UTC", &e->tz, err, sizeof err), 0);
    assert_int_equal(runtime_open(&e->cfg, &e->rt, err, sizeof err), 0);
    assert_int_equal(journal_open(e->cfg.data_dir, 0, &e->j, err, sizeof err), 0);
    assert_int_equal(sweep_ctx_new(&e->cfg, e->rt, e->tz, e->j, &e->ctx), 0);
}

static void engine_close(engine *e)
{
    sweep_ctx_free(e->ctx);
    journal_close(e->j);
    runtime_close(e->rt);
    tz_free(e->tz);
}

static size_t tick(sweep_ctx *ctx, size_t *skipped)
{
    tick_opts o = {.incremental = 1, .now_ms = clock_now_ms()};
    tick_result r;
    assert_int_equal(sweep_tick(ctx, &o, &r), 0);
    *skipped = r.skipped;
    tick_result_free(&r);
    return r.swept;
}

static void changes_are_never_taken_for_swept(void **state)
{
    (void)state;
    char *data = tl_tmpdir("incremental");
    char in[PATH_MAX], out[PATH_MAX];
    tl_datadir_init(data);
    tl_add_session(data, "ag-1", "sess-1", "active", 1, NULL);
    tl_session_file(in, sizeof in, data, "ag-1", "sess-1", "inbound.db");
    tl_session_file(out, sizeof out, data, "ag-1", "sess-1", "outbound.db");
    tl_add_message(in, "m-1", "chat", "2099-01-01T00:00:00.000Z", 0);
    /* an ack to sync: the first sweep writes inbound.db itself */
    tl_sql(out, "INSERT INTO processing_ack VALUES ('m-1', 'completed', "
                "'2026-01-01 00:00:00')");

    engine e;
    engine_open(&e, data);
    sweep_ctx *ctx = e.ctx;

    size_t skipped;
    assert_int_equal(tick(ctx, &skipped), 1); /* first sight: swept */
    assert_int_equal(tl_int(in, "SELECT count(*) FROM messages_in WHERE status "
                                "= 'completed'"), 1);
    /* the sweep's own write happened while it ran: looked at again */
    assert_int_equal(tick(ctx, &skipped), 1);
    /* nothing changed since: not reopened */
    assert_int_equal(tick(ctx, &skipped), 0);
    assert_int_equal(skipped, 1);
    /* the host writes: swept */
    tl_add_message(in, "m-2", "chat", "2099-01-01T00:00:00.000Z", 0);
    assert_int_equal(tick(ctx, &skipped), 1);
    assert_int_equal(tick(ctx, &skipped), 0);

    engine_close(&e);
    tl_rm_rf(data);
    free(data);
}

/* Observe mode: each session's would-be actions reach the journal once per
 * change, not on every tick, and nothing else is written. */
static void observe_journals_each_change_once(void **state)
{
    (void)state;
    char *data = tl_tmpdir("observe");
    char in[PATH_MAX], out[PATH_MAX], state_db[PATH_MAX];
    tl_datadir_init(data);
    tl_add_session(data, "ag-1", "sess-1", "active", 1, NULL);
    tl_session_file(in, sizeof in, data, "ag-1", "sess-1", "inbound.db");
    tl_session_file(out, sizeof out, data, "ag-1", "sess-1", "outbound.db");
    snprintf(state_db, sizeof state_db, "%s/clawsweep/state.db", data);
    tl_add_message(in, "m-1", "chat", NULL, 0);
    tl_sql(out, "INSERT INTO processing_ack VALUES ('m-1', 'processing', "
                "'2026-01-01 00:00:00')");

    engine e;
    engine_open(&e, data);
    sweep_ctx *ctx = e.ctx;

    for (int i = 0; i < 3; i++) { /* full ticks: every session swept */
        tick_opts o = {.dry_run = 1, .journal_would = 1, .now_ms = clock_now_ms()};
        tick_result r;
        assert_int_equal(sweep_tick(ctx, &o, &r), 0);
        assert_int_equal(r.swept, 1);
        tick_result_free(&r);
    }
    assert_int_equal(tl_int(state_db, "SELECT count(*) FROM events WHERE kind = "
                                      "'would-retry' AND message_id = 'm-1'"), 1);
    assert_int_equal(tl_int(state_db, "SELECT count(*) FROM events WHERE kind = "
                                      "'would-clear-claims'"), 1);
    assert_int_equal(tl_int(state_db, "SELECT count(*) FROM events WHERE kind "
                                      "NOT LIKE 'would-%%'"), 0);
    /* nothing was done */
    assert_int_equal(tl_int(in, "SELECT tries FROM messages_in"), 0);
    assert_int_equal(tl_int(out, "SELECT count(*) FROM processing_ack"), 1);
    /* the state changes (the claim goes): the journal hears of it */
    tl_sql(out, "DELETE FROM processing_ack");
    tl_sql(in, "UPDATE messages_in SET process_after = '2099-01-01T00:00:00Z'");
    tl_sql(in, "UPDATE messages_in SET status = 'completed', recurrence = '0 9 * * *'");
    tick_opts o = {.dry_run = 1, .journal_would = 1, .now_ms = clock_now_ms()};
    tick_result r;
    assert_int_equal(sweep_tick(ctx, &o, &r), 0);
    tick_result_free(&r);
    assert_int_equal(tl_int(state_db, "SELECT count(*) FROM events WHERE kind = "
                                      "'would-recur'"), 1);

    engine_close(&e);
    tl_rm_rf(data);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(changes_are_never_taken_for_swept),
        cmocka_unit_test(observe_journals_each_change_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
