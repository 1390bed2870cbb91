/*
 * test_tz.c - zone loading, UTC <-> local conversion, gaps and repeats
 * (including 30- and 45-minute zones and years served by the POSIX footer
 * rule), zone name safety, and the TZ resolution order of SPEC §5.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "timefmt.h"
#include "tz.h"

static int64_t T(const char *iso)
{
    int64_t ms;
    assert_int_equal(timefmt_parse(iso, &ms), 0);
    return ms;
}

static tz_info *load(const char *name)
{
    tz_info *tz = NULL;
    char err[256];
    if (tz_load(name, &tz, err, sizeof err) != 0)
        fail_msg("%s: %s", name, err);
    return tz;
}

static void check_off(const tz_info *tz, const char *iso, int32_t off,
                      const char *abbr)
{
    const char *a = NULL;
    int32_t got = tz_offset_at(tz, T(iso), &a);
    if (got != off || strcmp(a, abbr) != 0)
        fail_msg("%s at %s: want %d %s, got %d %s", tz_name(tz), iso, off,
                 abbr, got, a);
}

static void test_offsets(void **state)
{
    (void)state;
    tz_info *utc = load("UTC");
    check_off(utc, "2027-06-01T00:00:00Z", 0, "UTC");
    assert_string_equal(tz_name(utc), "UTC");
    tz_free(utc);

    tz_info *m = load("Europe/Madrid");
    check_off(m, "2027-01-15T12:00:00Z", 3600, "CET");
    check_off(m, "2027-07-15T12:00:00Z", 7200, "CEST");
    check_off(m, "2027-03-28T00:59:59Z", 3600, "CET");
    check_off(m, "2027-03-28T01:00:00Z", 7200, "CEST");
    check_off(m, "2027-10-31T00:59:59Z", 7200, "CEST");
    check_off(m, "2027-10-31T01:00:00Z", 3600, "CET");
    check_off(m, "2100-07-01T00:00:00Z", 7200, "CEST"); /* footer rule */
    check_off(m, "2400-01-01T00:00:00Z", 3600, "CET");
    check_off(m, "1850-01-01T00:00:00Z", -884, "LMT"); /* before any rule */
    tz_free(m);

    tz_info *k = load("Asia/Kolkata");
    check_off(k, "2028-03-01T00:00:00Z", 19800, "IST");
    tz_free(k);

    tz_info *lh = load("Australia/Lord_Howe");
    check_off(lh, "2027-07-01T00:00:00Z", 37800, "+1030");
    check_off(lh, "2028-01-01T00:00:00Z", 39600, "+11");
    tz_free(lh);

    tz_info *ch = load("Pacific/Chatham");
    check_off(ch, "2027-07-01T00:00:00Z", 45900, "+1245");
    check_off(ch, "2028-01-01T00:00:00Z", 49500, "+1345");
    tz_free(ch);

    tz_info *ny = load("America/New_York");
    check_off(ny, "2027-03-14T06:59:59Z", -18000, "EST");
    check_off(ny, "2027-03-14T07:00:00Z", -14400, "EDT");
    tz_free(ny);
}

static void test_spans(void **state)
{
    (void)state;
    tz_info *m = load("Europe/Madrid");
    tz_span sp;
    tz_span_at(m, T("2027-06-01T00:00:00Z") / 1000, &sp);
    assert_int_equal(sp.start, T("2027-03-28T01:00:00Z") / 1000);
    assert_int_equal(sp.end, T("2027-10-31T01:00:00Z") / 1000);
    assert_int_equal(sp.off, 7200);
    assert_int_equal(sp.prev_off, 3600);
    tz_span_at(m, T("2028-01-01T00:00:00Z") / 1000, &sp);
    assert_int_equal(sp.start, T("2027-10-31T01:00:00Z") / 1000);
    assert_int_equal(sp.end, T("2028-03-26T01:00:00Z") / 1000);
    assert_int_equal(sp.off, 3600);
    assert_int_equal(sp.prev_off, 7200);
    tz_free(m);

    tz_info *u = load("UTC");
    tz_span_at(u, 0, &sp);
    assert_true(sp.start == INT64_MIN && sp.end == INT64_MAX);
    tz_free(u);

    /* Southern hemisphere: DST spans the new year. */
    tz_info *s = load("Australia/Sydney");
    tz_span_at(s, T("2028-01-01T00:00:00Z") / 1000, &sp);
    assert_int_equal(sp.start, T("2027-10-02T16:00:00Z") / 1000);
    assert_int_equal(sp.end, T("2028-04-01T16:00:00Z") / 1000);
    assert_int_equal(sp.off, 39600);
    tz_free(s);
}

static void test_local_conversion(void **state)
{
    (void)state;
    int64_t out[2];
    tz_info *m = load("Europe/Madrid");
    /* Normal. */
    assert_int_equal(tz_from_local(m, T("2027-06-01T12:00:00Z"), out), 1);
    assert_int_equal(out[0], T("2027-06-01T10:00:00Z"));
    assert_int_equal(tz_to_local(m, out[0]), T("2027-06-01T12:00:00Z"));
    /* Gap: 02:30 does not exist; mktime's answer is 03:30 CEST. */
    assert_int_equal(tz_from_local(m, T("2027-03-28T02:30:00Z"), out), 0);
    assert_int_equal(out[0], T("2027-03-28T01:30:00Z"));
    /* Repeat: 02:30 happens at 00:30Z and 01:30Z. */
    assert_int_equal(tz_from_local(m, T("2027-10-31T02:30:00Z"), out), 2);
    assert_int_equal(out[0], T("2027-10-31T00:30:00Z"));
    assert_int_equal(out[1], T("2027-10-31T01:30:00Z"));
    tz_free(m);

    tz_info *lh = load("Australia/Lord_Howe");
    /* 30-minute gap 02:00 -> 02:30 on 2027-10-03. */
    assert_int_equal(tz_from_local(lh, T("2027-10-03T02:15:00Z"), out), 0);
    assert_int_equal(out[0], T("2027-10-02T15:45:00Z"));
    assert_int_equal(tz_from_local(lh, T("2027-10-03T02:30:00Z"), out), 1);
    assert_int_equal(out[0], T("2027-10-02T15:30:00Z"));
    /* 30-minute repeat 01:30-02:00 on 2027-04-04. */
    assert_int_equal(tz_from_local(lh, T("2027-04-04T01:45:00Z"), out), 2);
    assert_int_equal(out[1] - out[0], 30 * 60 * 1000);
    tz_free(lh);

    tz_info *ch = load("Pacific/Chatham");
    assert_int_equal(tz_from_local(ch, T("2027-09-26T03:00:00Z"), out), 0);
    assert_int_equal(tz_from_local(ch, T("2027-04-04T03:00:00Z"), out), 2);
    tz_free(ch);
}

static void test_format(void **state)
{
    (void)state;
    char buf[64];
    tz_info *m = load("Europe/Madrid");
    tz_format_local(m, T("2027-03-28T01:30:00Z"), buf, sizeof buf);
    assert_string_equal(buf, "2027-03-28T03:30:00.000+02:00 CEST");
    tz_free(m);
    tz_info *ny = load("America/New_York");
    tz_format_local(ny, T("2027-01-01T09:00:00.250Z"), buf, sizeof buf);
    assert_string_equal(buf, "2027-01-01T04:00:00.250-05:00 EST");
    tz_free(ny);
    tz_info *ch = load("Pacific/Chatham");
    tz_format_local(ch, T("2027-07-01T00:00:00Z"), buf, sizeof buf);
    assert_string_equal(buf, "2027-07-01T12:45:00.000+12:45 +1245");
    tz_free(ch);
}

static void test_bad_names(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",        "../etc/passwd", "/etc/passwd", "Europe/../../etc/passwd",
        "Europe/", "Europe//Madrid", "./UTC", "Nowhere/Zone", "zone1970.tab",
        "Europe/Madrid\n", "Europe/Ma drid", "tzdata.zi",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tz_info *tz = NULL;
        char err[256] = "";
        if (tz_load(bad[i], &tz, err, sizeof err) == 0)
            fail_msg("'%s' was accepted", bad[i]);
        assert_null(tz);
        assert_non_null(strstr(err, "time zone"));
    }
}

static void test_resolve(void **state)
{
    (void)state;
    tz_info *tz = NULL;
    char err[256];
    const char *saved = getenv("TZ");
    char *keep = saved ? strdup(saved) : NULL;

    setenv("TZ", ":Europe/Madrid", 1);
    assert_int_equal(tz_resolve(NULL, &tz, err, sizeof err), 0);
    assert_string_equal(tz_name(tz), "Europe/Madrid");
    tz_free(tz);

    /* The configured zone wins over TZ. */
    assert_int_equal(tz_resolve("Asia/Kolkata", &tz, err, sizeof err), 0);
    assert_string_equal(tz_name(tz), "Asia/Kolkata");
    tz_free(tz);

    setenv("TZ", ":/usr/share/zoneinfo/Asia/Tokyo", 1);
    assert_int_equal(tz_resolve("", &tz, err, sizeof err), 0);
    assert_string_equal(tz_name(tz), "Asia/Tokyo");
    tz_free(tz);

    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    assert_int_equal(tz_resolve(NULL, &tz, err, sizeof err), 0);
    check_off(tz, "2027-07-01T00:00:00Z", 7200, "CEST");
    check_off(tz, "2027-10-31T01:00:00Z", 3600, "CET");
    tz_free(tz);

    setenv("TZ", "Nowhere/Zone", 1);
    assert_int_equal(tz_resolve(NULL, &tz, err, sizeof err), -1);
    assert_non_null(strstr(err, "Nowhere/Zone"));
    setenv("TZ", "/etc/../etc/passwd", 1);
    assert_int_equal(tz_resolve(NULL, &tz, err, sizeof err), -1);
    assert_int_equal(tz_resolve("Bad/../Name", &tz, err, sizeof err), -1);

    unsetenv("TZ");
    assert_int_equal(tz_resolve(NULL, &tz, err, sizeof err), 0);
    assert_non_null(tz_name(tz));
    tz_free(tz);

    if (keep) {
        setenv("TZ", keep, 1);
        free(keep);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_spans),
        cmocka_unit_test(test_local_conversion),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
