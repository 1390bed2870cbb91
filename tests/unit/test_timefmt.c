/* Unit tests for timefmt.c: every SPEC §1.5 shape, under host zones that
 * are far from UTC, must read a zone-less time as UTC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "timefmt.h"

static const int64_t NOON = 1776686400000LL; /* 2026-04-20T12:00:00Z */

static void check_shapes(void)
{
    static const struct {
        const char *text;
        int64_t want;
    } cases[] = {
        {"2026-04-20 12:00:00", NOON},
        {"2026-04-20T12:00:00", NOON},
        {"2026-04-20T12:00:00.123", NOON + 123},
        {"2026-04-20T12:00:00.5", NOON + 500},
        {"2026-04-20T12:00:00.123456", NOON + 123},
        {"2026-04-20T12:00:00Z", NOON},
        {"2026-04-20T12:00:00.123Z", NOON + 123},
        {"2026-04-20T14:00:00+02:00", NOON},
        {"2026-04-20T14:00:00+0200", NOON},
        {"2026-04-20T07:00:00-05:00", NOON},
        {"2026-04-20T17:30:00+05:30", NOON},
        {"2026-04-20 12:00", NOON},
        {"2026-04-21T00:00:00+12:00", NOON},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ms = 0;
        if (timefmt_parse(cases[i].text, &ms) != 0)
            fail_msg("did not parse: %s", cases[i].text);
        if (ms != cases[i].want)
            fail_msg("%s: got %lld want %lld", cases[i].text, (long long)ms,
                     (long long)cases[i].want);
    }
}

static void shapes_under_tokyo(void **state)
{
    (void)state;
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    check_shapes();
}

static void shapes_under_new_york(void **state)
{
    (void)state;
    setenv("TZ", "America/New_York", 1);
    tzset();
    check_shapes();
}

static void unparseable_is_unknown(void **state)
{
    (void)state;
    const char *bad[] = {"", "yesterday", "2026-13-01 00:00:00",
                         "2026-02-30 00:00:00", "2026-04-20", "2026-04-20X12:00:00",
                         "2026-04-20T25:00:00", "2026-04-20T12:00:00+2",
                         "2026-04-20T12:00:00 junk", "2026-04-20T12:00:00.",
                         "1776686400000", NULL};
    int64_t ms;
    for (int i = 0; bad[i]; i++)
        if (timefmt_parse(bad[i], &ms) == 0)
            fail_msg("parsed but should not: '%s'", bad[i]);
    assert_int_equal(timefmt_parse(NULL, &ms), -1);
}

static void leap_day_and_old_dates(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(timefmt_parse("2028-02-29T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 1835395200000LL);
    assert_int_equal(timefmt_parse("1970-01-01 00:00:00", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(timefmt_parse("1969-12-31T23:59:59Z", &ms), 0);
    assert_int_equal(ms, -1000);
}

static void format_round_trip(void **state)
{
    (void)state;
    char buf[40];
    timefmt_iso_ms(NOON + 7, buf, sizeof buf);
    assert_string_equal(buf, "2026-04-20T12:00:00.007Z");
    timefmt_sql(NOON + 999, buf, sizeof buf);
    assert_string_equal(buf, "2026-04-20 12:00:00");
    timefmt_iso_ms(-1, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    int64_t back;
    timefmt_iso_ms(NOON + 123, buf, sizeof buf);
    assert_int_equal(timefmt_parse(buf, &back), 0);
    assert_int_equal(back, NOON + 123);
}

static void ages_for_people(void **state)
{
    (void)state;
    char buf[32];
    timefmt_age(192000, buf, sizeof buf);
    assert_string_equal(buf, "3m12s");
    timefmt_age(45000, buf, sizeof buf);
    assert_string_equal(buf, "45s");
    timefmt_age(2 * 3600000 + 5 * 60000, buf, sizeof buf);
    assert_string_equal(buf, "2h05m");
    timefmt_age(TIME_UNKNOWN, buf, sizeof buf);
    assert_string_equal(buf, "-");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes_under_tokyo),
        cmocka_unit_test(shapes_under_new_york),
        cmocka_unit_test(unparseable_is_unknown),
        cmocka_unit_test(leap_day_and_old_dates),
        cmocka_unit_test(format_round_trip),
        cmocka_unit_test(ages_for_people),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
