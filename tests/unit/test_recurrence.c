/* Unit tests for recurrence.c: a repeated local time fires once per series. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "recurrence.h"
#include "timefmt.h"
#include "tz.h"

static int64_t at(const char *iso)
{
    int64_t ms = 0;
    assert_int_equal(timefmt_parse(iso, &ms), 0);
    return ms;
}

/* Europe/Madrid falls back on 2027-10-31: 03:00 CEST -> 02:00 CET. */
static void fixed_hour_fires_once_on_fall_back_night(void **state)
{
    (void)state;
    tz_info *tz;
    char err[256];
    assert_int_equal(tz_load("Europe/Madrid", &tz, err, sizeof err), 0);
    int64_t fired = at("2027-10-31T00:30:00Z"); /* 02:30 CEST */
    int64_t now = at("2027-10-31T00:31:00Z");
    int64_t next;
    /* the bare SPEC rule: reference past the first pass -> second pass */
    assert_int_equal(recurrence_next("30 2 * * *", tz, now, &next, err, sizeof err), 0);
    assert_int_equal(next, at("2027-10-31T01:30:00Z"));
    /* in a series that already fired at 02:30 CEST, the repeat is skipped */
    assert_int_equal(recurrence_next_in_series("30 2 * * *", tz, now, fired, &next,
                                               err, sizeof err), 0);
    assert_int_equal(next, at("2027-11-01T01:30:00Z"));
    /* with no known last fire, the SPEC rule stands */
    assert_int_equal(recurrence_next_in_series("30 2 * * *", tz, now, TIME_UNKNOWN,
                                               &next, err, sizeof err), 0);
    assert_int_equal(next, at("2027-10-31T01:30:00Z"));
    /* an hour that follows the clock fires in both passes */
    assert_int_equal(recurrence_next_in_series("30 * * * *", tz, now,
                                               at("2027-10-31T00:30:00Z"), &next, err,
                                               sizeof err), 0);
    assert_int_equal(next, at("2027-10-31T01:30:00Z"));
    tz_free(tz);
}

static void bad_expression_names_field(void **state)
{
    (void)state;
    tz_info *tz;
    char err[256] = "";
    assert_int_equal(tz_load("UTC", &tz, err, sizeof err), 0);
    int64_t next;
    assert_int_equal(recurrence_next_in_series("61 * * * *", tz, 0, TIME_UNKNOWN, &next,
                                               err, sizeof err), -1);
    assert_non_null(strstr(err, "minute"));
    tz_free(tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_hour_fires_once_on_fall_back_night),
        cmocka_unit_test(bad_expression_names_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
