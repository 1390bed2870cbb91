/*
 * test_cron.c - the cron engine against the generated vector table
 * (tests/oracle/cron_vectors.txt: npm cron-parser, with SPEC §5 winning
 * where they disagree), the invalid-expression list, hand-written DST
 * cases of SPEC §5, and recurrence_next.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cron.h"
#include "recurrence.h"
#include "timefmt.h"
#include "tz.h"

static int64_t T(const char *iso)
{
    int64_t ms;
    assert_int_equal(timefmt_parse(iso, &ms), 0);
    return ms;
}

static FILE *open_vectors(void)
{
    const char *src = getenv("CLAWSWEEP_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/oracle/cron_vectors.txt",
             src ? src : ".");
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (set CLAWSWEEP_SRC)", path);
    return f;
}

/* Split line at tabs into at most n fields; returns the count. */
static int split_tabs(char *line, char **f, int n)
{
    int k = 0;
    line[strcspn(line, "\n")] = '\0';
    while (k < n) {
        f[k++] = line;
        char *tab = strchr(line, '\t');
        if (!tab)
            break;
        *tab = '\0';
        line = tab + 1;
    }
    return k;
}

static void test_vectors(void **state)
{
    (void)state;
    FILE *f = open_vectors();
    char line[1024];
    int vectors = 0, hand = 0, failures = 0;
    char zone_name[128] = "";
    tz_info *tz = NULL;
    while (fgets(line, sizeof line, f)) {
        char *fld[6];
        if (line[0] != 'V' || split_tabs(line, fld, 6) != 6)
            continue;
        vectors++;
        hand += strcmp(fld[1], "hand") == 0;
        if (strcmp(zone_name, fld[3]) != 0) {
            char err[256];
            tz_free(tz);
            tz = NULL;
            if (tz_load(fld[3], &tz, err, sizeof err) != 0)
                fail_msg("zone %s: %s", fld[3], err);
            snprintf(zone_name, sizeof zone_name, "%s", fld[3]);
        }
        cron_expr e;
        char err[256];
        if (cron_parse(fld[2], &e, err, sizeof err) != CRON_OK) {
            print_error("'%s': parse failed: %s\n", fld[2], err);
            failures++;
            continue;
        }
        int64_t at = T(fld[4]);
        char *want = fld[5];
        for (int i = 0; i < 5; i++) {
            char w[32];
            size_t wl = strcspn(want, " ");
            snprintf(w, sizeof w, "%.*s", (int)wl, want);
            want += wl + (want[wl] == ' ');
            int64_t next = 0, expect = T(w);
            int rc = cron_next(&e, tz, at, &next);
            if (rc != CRON_OK || next != expect) {
                char got[32];
                timefmt_iso_ms(next, got, sizeof got);
                print_error("'%s' %s from %s #%d: want %s got %s (rc %d) [%s]\n",
                            fld[2], fld[3], fld[4], i + 1, w, got, rc, fld[1]);
                failures++;
                break;
            }
            at = next;
        }
    }
    fclose(f);
    tz_free(tz);
    print_message("# %d vectors (%d hand-checked), %d failed\n", vectors, hand,
                  failures);
    assert_true(vectors >= 300);
    assert_int_equal(failures, 0);
}

static void test_invalid_from_table(void **state)
{
    (void)state;
    FILE *f = open_vectors();
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char *fld[4];
        if (line[0] != 'E' || split_tabs(line, fld, 4) < 3)
            continue;
        cron_expr e;
        char err[256] = "";
        int rc = cron_parse(fld[1], &e, err, sizeof err);
        if (rc != CRON_EPARSE)
            fail_msg("'%s' was accepted", fld[1]);
        if (!strstr(err, fld[2]))
            fail_msg("'%s': error '%s' does not name '%s'", fld[1], err,
                     fld[2]);
        n++;
    }
    fclose(f);
    assert_true(n >= 40);
}

static void test_invalid_messages(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"0 0 * * 8", "day-of-week: value 8 out of range 0-7"},
        {"60 * * * *", "minute: value 60 out of range 0-59"},
        {"0 0 * * 1#6", "day-of-week: occurrence after '#' must be 1-5"},
        {"30-10 * * * *", "minute: range 30-10 is backwards"},
        {"30 2 31 2 *", "day-of-month: no chosen month has that day"},
        {"", "expression is empty"},
        {"   ", "expression is empty"},
        {"@minutely", "unknown macro '@minutely'"},
        {"1 2 3 4 5 6 7", "expected 5 or 6 fields, got 7"},
        {"*/0 * * * *", "minute: step must be at least 1"},
        {"0 0 * * L", "day-of-week: 'L' needs a weekday"},
        {"0 0 1 * 1#2,3", "day-of-week: '#' cannot be combined with a list"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cron_expr e;
        char err[256] = "";
        assert_int_equal(cron_parse(cases[i][0], &e, err, sizeof err),
                         CRON_EPARSE);
        if (strncmp(err, cases[i][1], strlen(cases[i][1])) != 0)
            fail_msg("'%s': got '%s', want '%s...'", cases[i][0], err,
                     cases[i][1]);
    }
    /* NULL and a tiny buffer are safe. */
    cron_expr e;
    char small[8];
    assert_int_equal(cron_parse(NULL, &e, NULL, 0), CRON_EPARSE);
    assert_int_equal(cron_parse("99 * * * *", &e, small, sizeof small),
                     CRON_EPARSE);
    assert_int_equal(strlen(small), sizeof small - 1);
    char big[3000];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(cron_parse(big, &e, NULL, 0), CRON_EPARSE);
}

static void test_accepts(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "@YEARLY", "@Daily", "  0 0 * * *  ", "0\t0 * * *", "0 0 * * 1,1,2",
        "0 0 * * sunL", "0 0 l * *", "*/100 * * * *", "0 0 * * 0-7",
        "0 0 ? ? ? ?", "0 0 * * 7#1", "59 59 23 31 12 7",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cron_expr e;
        char err[256];
        if (cron_parse(ok[i], &e, err, sizeof err) != CRON_OK)
            fail_msg("'%s' rejected: %s", ok[i], err);
    }
}

static void expect_seq(const char *expr, const char *zone, const char *from,
                       const char *const *want, int n)
{
    tz_info *tz;
    char err[256];
    cron_expr e;
    assert_int_equal(tz_load(zone, &tz, err, sizeof err), 0);
    assert_int_equal(cron_parse(expr, &e, err, sizeof err), CRON_OK);
    int64_t at = T(from);
    for (int i = 0; i < n; i++) {
        int64_t next;
        assert_int_equal(cron_next(&e, tz, at, &next), CRON_OK);
        char got[32];
        timefmt_iso_ms(next, got, sizeof got);
        if (strcmp(got, want[i]) != 0)
            fail_msg("'%s' %s from %s #%d: want %s got %s", expr, zone, from,
                     i + 1, want[i], got);
        at = next;
    }
    tz_free(tz);
}

/* SPEC §5's examples, written out. */
static void test_spec_dst_rules(void **state)
{
    (void)state;
    /* 02:30 on the spring-forward day fires at 03:30 CEST (= 01:30Z). */
    const char *gap[] = {"2027-03-27T01:30:00.000Z", "2027-03-28T01:30:00.000Z",
                         "2027-03-29T00:30:00.000Z"};
    expect_seq("30 2 * * *", "Europe/Madrid", "2027-03-27T00:00:00Z", gap, 3);
    /* Repeated 02:30: first occurrence (CEST) only... */
    const char *rep1[] = {"2027-10-31T00:30:00.000Z", "2027-11-01T01:30:00.000Z"};
    expect_seq("30 2 * * *", "Europe/Madrid", "2027-10-30T23:00:00Z", rep1, 2);
    /* ...or the second when the reference is past the first. */
    const char *rep2[] = {"2027-10-31T01:30:00.000Z", "2027-11-01T01:30:00.000Z"};
    expect_seq("30 2 * * *", "Europe/Madrid", "2027-10-31T00:31:00Z", rep2, 2);
    /* Wildcard hour: both passes of 02:30 fire, gap minutes are skipped. */
    const char *both[] = {"2027-10-31T00:30:00.000Z", "2027-10-31T01:30:00.000Z",
                          "2027-10-31T02:30:00.000Z"};
    expect_seq("30 * * * *", "Europe/Madrid", "2027-10-31T00:00:00Z", both, 3);
    const char *skip[] = {"2027-03-28T00:30:00.000Z", "2027-03-28T01:30:00.000Z"};
    expect_seq("30 * * * *", "Europe/Madrid", "2027-03-28T00:00:00Z", skip, 2);
    /* Step over all hours follows the clock too: 02:00 CEST and CET. */
    const char *step[] = {"2027-10-31T00:00:00.000Z", "2027-10-31T01:00:00.000Z",
                          "2027-10-31T03:00:00.000Z"};
    expect_seq("0 */2 * * *", "Europe/Madrid", "2027-10-30T23:00:00Z", step, 3);
    /* Lord Howe: 30-minute gap 02:00 -> 02:30; 02:15 fires at 02:45. */
    const char *lh[] = {"2027-10-02T15:45:00.000Z", "2027-10-03T15:15:00.000Z"};
    expect_seq("15 2 * * *", "Australia/Lord_Howe", "2027-10-02T14:00:00Z", lh, 2);
    /* Chatham: 45-minute offsets, gap 02:45 -> 03:45. */
    const char *ch[] = {"2027-09-25T14:05:00.000Z", "2027-09-26T13:05:00.000Z"};
    expect_seq("50 2 * * *", "Pacific/Chatham", "2027-09-25T12:00:00Z", ch, 2);
    /* Strictly after: a reference exactly on a fire time skips it. */
    const char *strict[] = {"2027-01-01T00:15:00.000Z"};
    expect_seq("*/15 * * * *", "UTC", "2027-01-01T00:00:00Z", strict, 1);
    const char *ms[] = {"2027-01-01T00:00:01.000Z"};
    expect_seq("* * * * * *", "UTC", "2027-01-01T00:00:00.500Z", ms, 1);
}

static void test_never_and_range(void **state)
{
    (void)state;
    tz_info *tz;
    char err[128];
    assert_int_equal(tz_load("UTC", &tz, err, sizeof err), 0);
    cron_expr e;
    int64_t next;
    /* Feb 29 skips 2100 (not a leap year): eight years apart. */
    assert_int_equal(cron_parse("0 0 29 2 *", &e, err, sizeof err), CRON_OK);
    assert_int_equal(cron_next(&e, tz, T("2096-03-01T00:00:00Z"), &next),
                     CRON_OK);
    assert_int_equal(next, T("2104-02-29T00:00:00Z"));
    /* A zeroed struct (not from cron_parse) never fires, no crash. */
    cron_expr zero;
    memset(&zero, 0, sizeof zero);
    assert_int_equal(cron_next(&zero, tz, 0, &next), CRON_ENEVER);
    assert_int_equal(cron_next(&e, tz, INT64_MAX, &next), CRON_ERANGE);
    assert_int_equal(cron_next(&e, tz, INT64_MIN, &next), CRON_ERANGE);
    tz_free(tz);
}

static void test_recurrence_next(void **state)
{
    (void)state;
    tz_info *tz;
    char err[256];
    assert_int_equal(tz_load("America/New_York", &tz, err, sizeof err), 0);
    int64_t next;
    assert_int_equal(recurrence_next("0 9 * * 1-5", tz,
                                     T("2027-01-01T15:00:00Z"), &next, err,
                                     sizeof err),
                     0);
    assert_int_equal(next, T("2027-01-04T14:00:00Z"));
    assert_int_equal(recurrence_next("0 9 * * MONDAY", tz, 0, &next, err,
                                     sizeof err),
                     -1);
    assert_non_null(strstr(err, "day-of-week"));
    tz_free(tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_invalid_from_table),
        cmocka_unit_test(test_invalid_messages),
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_spec_dst_rules),
        cmocka_unit_test(test_never_and_range),
        cmocka_unit_test(test_recurrence_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
