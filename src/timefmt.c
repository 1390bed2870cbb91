/*
 * timefmt.c - SPEC §1.5 timestamps.
 *
 * Every stored time is turned into milliseconds since the epoch with pure
 * arithmetic (days_from_civil), never with mktime/timegm and never through
 * the host's TZ: a zone-less time is UTC on every host. That single rule
 * is what keeps containers from looking hours stale on non-UTC hosts.
 */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Howard Hinnant's civil-date algorithms. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

/* Zone suffix: "", "Z", "+HH:MM", "+HHMM", "+HH". Sets offset minutes. */
static int parse_zone(const char *p, int *offset_min)
{
    *offset_min = 0;
    if (*p == '\0')
        return 0;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return 0;
    if (*p != '+' && *p != '-')
        return -1;
    int sign = *p == '-' ? -1 : 1, hh, mm = 0;
    p++;
    if (read_digits(&p, 2, &hh) != 0)
        return -1;
    if (*p == ':')
        p++;
    if (*p != '\0' && read_digits(&p, 2, &mm) != 0)
        return -1;
    if (*p != '\0' || hh > 23 || mm > 59)
        return -1;
    *offset_min = sign * (hh * 60 + mm);
    return 0;
}

int timefmt_parse(const char *s, int64_t *ms)
{
    if (!s)
        return -1;
    const char *p = s;
    int y, mo, d, h, mi, sec = 0, frac_ms = 0, off;
    if (read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) ||
        *p++ != '-' || read_digits(&p, 2, &d))
        return -1;
    if (*p != ' ' && *p != 'T' && *p != 't')
        return -1;
    p++;
    if (read_digits(&p, 2, &h) || *p++ != ':' || read_digits(&p, 2, &mi))
        return -1;
    if (*p == ':') {
        p++;
        if (read_digits(&p, 2, &sec))
            return -1;
        if (*p == '.') {
            p++;
            int digits = 0;
            while (*p >= '0' && *p <= '9') {
                if (digits < 3)
                    frac_ms = frac_ms * 10 + (*p - '0');
                digits++;
                p++;
            }
            if (digits == 0)
                return -1;
            for (int i = digits; i < 3; i++)
                frac_ms *= 10;
        }
    }
    if (parse_zone(p, &off) != 0)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 60)
        return -1;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off * 60;
    *ms = secs * 1000 + frac_ms;
    return 0;
}

static void split_ms(int64_t ms, int64_t *y, unsigned *mo, unsigned *d,
                     int *h, int *mi, int *s, int *frac)
{
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    *frac = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    civil_from_days(days, y, mo, d);
    *h = (int)(rem / 3600);
    *mi = (int)(rem % 3600 / 60);
    *s = (int)(rem % 60);
}

void timefmt_iso_ms(int64_t ms, char *out, unsigned outlen)
{
    int64_t y;
    unsigned mo, d;
    int h, mi, s, frac;
    split_ms(ms, &y, &mo, &d, &h, &mi, &s, &frac);
    snprintf(out, outlen, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
             (long long)y, mo, d, h, mi, s, frac);
}

void timefmt_sql(int64_t ms, char *out, unsigned outlen)
{
    int64_t y;
    unsigned mo, d;
    int h, mi, s, frac;
    split_ms(ms, &y, &mo, &d, &h, &mi, &s, &frac);
    snprintf(out, outlen, "%04lld-%02u-%02u %02d:%02d:%02d", (long long)y,
             mo, d, h, mi, s);
}

void timefmt_age(int64_t ms, char *out, unsigned outlen)
{
    if (ms == TIME_UNKNOWN) {
        snprintf(out, outlen, "-");
        return;
    }
    const char *sign = ms < 0 ? "-" : "";
    int64_t s = (ms < 0 ? -ms : ms) / 1000;
    if (s < 60)
        snprintf(out, outlen, "%s%llds", sign, (long long)s);
    else if (s < 3600)
        snprintf(out, outlen, "%s%lldm%02llds", sign, (long long)(s / 60),
                 (long long)(s % 60));
    else if (s < 86400)
        snprintf(out, outlen, "%s%lldh%02lldm", sign, (long long)(s / 3600),
                 (long long)(s % 3600 / 60));
    else
        snprintf(out, outlen, "%s%lldd%02lldh", sign, (long long)(s / 86400),
                 (long long)(s % 86400 / 3600));
}

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
