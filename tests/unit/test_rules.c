/* Unit tests for rules.c: the SPEC §2 decisions with a fixed now. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "rules.h"

#define S 1000LL
#define MIN (60 * S)
static const int64_t NOW = 1800000000000LL; /* 2027-01-15T08:00:00Z */

static cs_config cfg(void)
{
    cs_config c;
    config_defaults(&c);
    return c;
}

static stuck_reason judge(int64_t hb, int64_t started, int64_t bash,
                          const int64_t *claims, size_t n)
{
    cs_config c = cfg();
    stuck_input in = {.now_ms = NOW,
                      .heartbeat_ms = hb,
                      .started_ms = started,
                      .bash_timeout_ms = bash,
                      .claim_changed_ms = claims,
                      .nclaims = n};
    return rules_stuck(&c, &in, NULL);
}

static void stuck_fresh_heartbeat(void **state)
{
    (void)state;
    assert_int_equal(judge(NOW - 2 * S, NOW - 10 * MIN, 0, NULL, 0), STUCK_NONE);
}

static void stuck_ceiling_plus_one_second(void **state)
{
    (void)state;
    assert_int_equal(judge(NOW - 30 * MIN - S, NOW - 60 * MIN, 0, NULL, 0),
                     STUCK_CEILING);
    /* exactly at the ceiling is not past it */
    assert_int_equal(judge(NOW - 30 * MIN, NOW - 60 * MIN, 0, NULL, 0), STUCK_NONE);
}

static void stuck_absent_heartbeat_without_claim(void **state)
{
    (void)state;
    assert_int_equal(judge(TIME_UNKNOWN, NOW - 31 * MIN, 0, NULL, 0),
                     STUCK_NO_HEARTBEAT);
    assert_int_equal(judge(TIME_UNKNOWN, NOW - 5 * MIN, 0, NULL, 0), STUCK_NONE);
}

static void stuck_absent_heartbeat_with_claim(void **state)
{
    (void)state;
    int64_t claim[] = {NOW - 70 * S};
    assert_int_equal(judge(TIME_UNKNOWN, NOW - 2 * MIN, 0, claim, 1), STUCK_CLAIM);
    int64_t young[] = {NOW - 5 * S};
    assert_int_equal(judge(TIME_UNKNOWN, NOW - 2 * MIN, 0, young, 1), STUCK_NONE);
}

static void stuck_bash_two_hours_heartbeat_45_min(void **state)
{
    (void)state;
    assert_int_equal(judge(NOW - 45 * MIN, NOW - 50 * MIN, 2 * 60 * MIN, NULL, 0),
                     STUCK_NONE);
    /* without the Bash declaration the same heartbeat is past the ceiling */
    assert_int_equal(judge(NOW - 45 * MIN, NOW - 50 * MIN, 0, NULL, 0),
                     STUCK_CEILING);
}

static void stuck_claim_70s_heartbeat_before_and_after(void **state)
{
    (void)state;
    int64_t claim[] = {NOW - 70 * S};
    assert_int_equal(judge(NOW - 80 * S, NOW - 10 * MIN, 0, claim, 1), STUCK_CLAIM);
    assert_int_equal(judge(NOW - 10 * S, NOW - 10 * MIN, 0, claim, 1), STUCK_NONE);
}

static void stuck_claim_whole_seconds(void **state)
{
    (void)state;
    /* status_changed has whole seconds: a heartbeat 900 ms later in the
     * same second is not "after" it. */
    int64_t claim[] = {NOW - 70 * S};
    assert_int_equal(judge(NOW - 70 * S + 900, NOW - 10 * MIN, 0, claim, 1),
                     STUCK_CLAIM);
    assert_int_equal(judge(NOW - 69 * S, NOW - 10 * MIN, 0, claim, 1), STUCK_NONE);
}

static void stuck_claim_5s(void **state)
{
    (void)state;
    int64_t claim[] = {NOW - 5 * S};
    assert_int_equal(judge(NOW - 6 * S, NOW - 10 * MIN, 0, claim, 1), STUCK_NONE);
}

static void stuck_bash_600s_claim_300s(void **state)
{
    (void)state;
    int64_t claim[] = {NOW - 300 * S};
    assert_int_equal(judge(NOW - 301 * S, NOW - 10 * MIN, 600 * S, claim, 1),
                     STUCK_NONE);
    int64_t old[] = {NOW - 601 * S};
    assert_int_equal(judge(NOW - 602 * S, NOW - 20 * MIN, 600 * S, old, 1),
                     STUCK_CLAIM);
}

static void stuck_unparseable_claim_time(void **state)
{
    (void)state;
    int64_t claim[] = {TIME_UNKNOWN};
    assert_int_equal(judge(NOW - 10 * MIN, NOW - 20 * MIN, 0, claim, 1), STUCK_NONE);
}

static void stuck_started_this_tick_and_guard(void **state)
{
    (void)state;
    cs_config c = cfg();
    int64_t claim[] = {NOW - 70 * S};
    stuck_input in = {.now_ms = NOW, .heartbeat_ms = NOW - 40 * MIN,
                      .started_ms = NOW - 60 * MIN, .claim_changed_ms = claim,
                      .nclaims = 1, .started_this_tick = 1};
    assert_int_equal(rules_stuck(&c, &in, NULL), STUCK_NONE);
    in.started_this_tick = 0;
    in.stops_suppressed_until_ms = NOW + 1;
    assert_int_equal(rules_stuck(&c, &in, NULL), STUCK_NONE);
    in.stops_suppressed_until_ms = NOW;
    assert_int_equal(rules_stuck(&c, &in, NULL), STUCK_CEILING);
}

static void stuck_reports_which_claim(void **state)
{
    (void)state;
    cs_config c = cfg();
    int64_t claims[] = {NOW - 5 * S, NOW - 90 * S};
    stuck_input in = {.now_ms = NOW, .heartbeat_ms = NOW - 100 * S,
                      .started_ms = NOW - 5 * MIN, .claim_changed_ms = claims,
                      .nclaims = 2};
    size_t which = 99;
    assert_int_equal(rules_stuck(&c, &in, &which), STUCK_CLAIM);
    assert_int_equal(which, 1);
}

static void stuck_deadline(void **state)
{
    (void)state;
    cs_config c = cfg();
    int64_t claim[] = {NOW - 10 * S};
    stuck_input in = {.now_ms = NOW, .heartbeat_ms = NOW - 20 * S,
                      .started_ms = NOW - 5 * MIN, .claim_changed_ms = claim,
                      .nclaims = 1};
    /* the claim reaches its 60 s tolerance 50 s from now */
    assert_int_equal(rules_stuck_deadline(&c, &in), NOW - 10 * S + 60 * S + 1);
    in.nclaims = 0;
    assert_int_equal(rules_stuck_deadline(&c, &in), NOW - 20 * S + 30 * MIN + 1);
}

static void backoff_doubles_and_caps(void **state)
{
    (void)state;
    cs_config c = cfg();
    int64_t want[] = {5 * S, 10 * S, 20 * S, 40 * S, 80 * S};
    for (int t = 0; t < 5; t++)
        assert_int_equal(rules_backoff_ms(&c, t, 0), want[t]);
    c.sweep.backoff_max_ms = 30 * S;
    assert_int_equal(rules_backoff_ms(&c, 3, 0), 30 * S);
    assert_int_equal(rules_backoff_ms(&c, 1000, 0), 30 * S); /* no overflow */
}

static void backoff_full_jitter_bounds(void **state)
{
    (void)state;
    cs_config c = cfg();
    c.sweep.backoff_jitter = JITTER_FULL;
    int64_t lo = INT64_MAX, hi = 0;
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t d = rules_backoff_ms(&c, 2, x);
        assert_true(d >= 0 && d <= 20 * S);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    assert_true(lo < 2 * S);  /* spread over the whole window */
    assert_true(hi > 18 * S);
}

static void start_backoff_capped_at_5_minutes(void **state)
{
    (void)state;
    cs_config c = cfg();
    assert_int_equal(rules_start_backoff_ms(&c, 0), 5 * S);
    assert_int_equal(rules_start_backoff_ms(&c, 3), 40 * S);
    assert_int_equal(rules_start_backoff_ms(&c, 20), 5 * MIN);
}

static void reset_claim_decisions(void **state)
{
    (void)state;
    cs_config c = cfg();
    reset_decision d = rules_reset_claim(&c, "pending", 0, 0, 0, NOW, 0);
    assert_int_equal(d.action, RESET_RETRY);
    assert_int_equal(d.new_tries, 1);
    assert_int_equal(d.new_process_after_ms, NOW + 5 * S);
    d = rules_reset_claim(&c, "pending", 3, 1, NOW - S, NOW, 0);
    assert_int_equal(d.action, RESET_RETRY);
    assert_int_equal(d.new_process_after_ms, NOW + 40 * S);
    d = rules_reset_claim(&c, "pending", 5, 0, 0, NOW, 0);
    assert_int_equal(d.action, RESET_DEAD_LETTER);
    d = rules_reset_claim(&c, "pending", 2, 1, NOW + 3 * S, NOW, 0);
    assert_int_equal(d.action, RESET_SKIP_FUTURE);
    d = rules_reset_claim(&c, "pending", 2, 1, TIME_UNKNOWN, NOW, 0);
    assert_int_equal(d.action, RESET_RETRY); /* unknown is not "future" */
    d = rules_reset_claim(&c, "completed", 0, 0, 0, NOW, 0);
    assert_int_equal(d.action, RESET_NOTHING);
    d = rules_reset_claim(&c, "paused", 0, 0, 0, NOW, 0);
    assert_int_equal(d.action, RESET_NOTHING);
    d = rules_reset_claim(&c, NULL, 0, 0, 0, NOW, 0);
    assert_int_equal(d.action, RESET_NOTHING);
}

static void due_rules(void **state)
{
    (void)state;
    assert_true(rules_is_due("pending", 1, "chat", 0, 0, NOW));
    assert_true(rules_is_due("pending", 1, "task", 1, NOW, NOW));
    assert_false(rules_is_due("pending", 1, "task", 1, NOW + 1, NOW));
    assert_false(rules_is_due("pending", 0, "chat", 0, 0, NOW));
    assert_false(rules_is_due("pending", 1, "system", 0, 0, NOW));
    assert_false(rules_is_due("pending", 1, "chat", 1, TIME_UNKNOWN, NOW));
    assert_false(rules_is_due("paused", 1, "chat", 0, 0, NOW));
    assert_false(rules_is_due("failed", 1, "chat", 0, 0, NOW));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stuck_fresh_heartbeat),
        cmocka_unit_test(stuck_ceiling_plus_one_second),
        cmocka_unit_test(stuck_absent_heartbeat_without_claim),
        cmocka_unit_test(stuck_absent_heartbeat_with_claim),
        cmocka_unit_test(stuck_bash_two_hours_heartbeat_45_min),
        cmocka_unit_test(stuck_claim_70s_heartbeat_before_and_after),
        cmocka_unit_test(stuck_claim_whole_seconds),
        cmocka_unit_test(stuck_claim_5s),
        cmocka_unit_test(stuck_bash_600s_claim_300s),
        cmocka_unit_test(stuck_unparseable_claim_time),
        cmocka_unit_test(stuck_started_this_tick_and_guard),
        cmocka_unit_test(stuck_reports_which_claim),
        cmocka_unit_test(stuck_deadline),
        cmocka_unit_test(backoff_doubles_and_caps),
        cmocka_unit_test(backoff_full_jitter_bounds),
        cmocka_unit_test(start_backoff_capped_at_5_minutes),
        cmocka_unit_test(reset_claim_decisions),
        cmocka_unit_test(due_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
