/*
 * cron.c - parse cron expressions and find their next fire time.
 *
 * Parsing turns each field into a bitmask (bit n = value n allowed) plus
 * the few things a mask cannot say: "L" in day-of-month, "nL" and "n#k"
 * in day-of-week, whether each day field is restricted (SPEC §5: not "*"
 * or "?"; both restricted means either may match) and whether the hour
 * field covers every hour (which switches the daylight-saving rules).
 * Accepted syntax follows npm cron-parser 5.x, except where SPEC §5 is
 * stricter (no @minutely/@secondly, no empty expression) or more precise.
 *
 * The search for the next fire time has two layers:
 *  - civil_next finds the first matching wall-clock second at or after a
 *    local time, below a limit: month, then day (a 31-bit mask of the
 *    month's matching days, built once per month), then hour, minute,
 *    second, each by a find-next-set-bit. No loop runs per second or per
 *    minute, so "* * * * * *" and "0 0 29 2 *" cost the same.
 *  - cron_next walks the spans of the zone (stretches of UTC with one
 *    offset, tz.h) forward from the reference. In a span, local time is
 *    UTC + offset, so the clock-following rule is just "the natural matches
 *    of each span". With a fixed hour field two corrections apply at the
 *    span's start: matches inside a spring-forward gap fire at
 *    local - (offset before the gap), and matches inside the second pass of
 *    a repeated stretch fire only when the reference is already past their
 *    first pass. Every candidate of a span lies inside that span, so the
 *    first span holding one holds the answer.
 * Searches stop after ~400 years (the Gregorian cycle): beyond that an
 * expression never fires.
 */
#include "cron.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "timefmt.h"

#define F_DOM_LAST 0x01
#define F_DOM_RESTRICTED 0x02
#define F_DOW_RESTRICTED 0x04
#define F_HOUR_WILD 0x08

#define MAX_TEXT 1024
#define SEARCH_YEARS 401
/* |after_ms| bound: about year 30000, far from int64 overflow. */
#define MAX_ABS_MS 885000000000000LL

enum { FS_SEC, FS_MIN, FS_HOUR, FS_DOM, FS_MON, FS_DOW };

static const struct {
    const char *name;
    int lo, hi;
} fields[6] = {
    {"second", 0, 59},      {"minute", 0, 59}, {"hour", 0, 23},
    {"day-of-month", 1, 31}, {"month", 1, 12},  {"day-of-week", 0, 7},
};

static const char *const month_names[12] = {"JAN", "FEB", "MAR", "APR",
                                            "MAY", "JUN", "JUL", "AUG",
                                            "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[7] = {"SUN", "MON", "TUE", "WED",
                                         "THU", "FRI", "SAT"};

static const struct {
    const char *name, *expansion;
} macros[] = {
    {"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},   {"@hourly", "0 * * * *"},
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_len(int64_t y, unsigned m)
{
    static const unsigned char len[12] = {31, 28, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29u : len[m - 1];
}

static int upper(int c)
{
    return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* ---- parsing -------------------------------------------------------- */

typedef struct {
    const char *s; /* the item's text, not NUL-terminated */
    size_t len;
    size_t pos;
} cursor;

static int fail(char *err, size_t errlen, int f, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int f, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", fields[f].name, msg);
    return CRON_EPARSE;
}

/* A number or (month, day-of-week) a three-letter name at the cursor. */
static int parse_value(cursor *c, int f, int *v, char *err, size_t errlen)
{
    size_t p = c->pos;
    if (p < c->len && c->s[p] >= '0' && c->s[p] <= '9') {
        int n = 0, digits = 0;
        while (p < c->len && c->s[p] >= '0' && c->s[p] <= '9') {
            if (++digits > 5)
                return fail(err, errlen, f, "number too long in '%.*s'",
                            (int)c->len, c->s);
            n = n * 10 + (c->s[p++] - '0');
        }
        c->pos = p;
        *v = n;
        return CRON_OK;
    }
    const char *const *names = f == FS_MON ? month_names
                               : f == FS_DOW ? day_names
                                             : NULL;
    int count = f == FS_MON ? 12 : 7;
    if (names && c->len - p >= 3) {
        for (int i = 0; i < count; i++) {
            if (upper(c->s[p]) == names[i][0] &&
                upper(c->s[p + 1]) == names[i][1] &&
                upper(c->s[p + 2]) == names[i][2]) {
                size_t q = p + 3;
                /* a longer word ("MONDAY") is not a name */
                if (q < c->len && upper(c->s[q]) >= 'A' &&
                    upper(c->s[q]) <= 'Z')
                    break;
                c->pos = q;
                *v = f == FS_MON ? i + 1 : i;
                return CRON_OK;
            }
        }
    }
    if (p >= c->len)
        return fail(err, errlen, f, "missing value in '%.*s'", (int)c->len,
                    c->s);
    return fail(err, errlen, f, "invalid value '%.*s'", (int)c->len, c->s);
}

static int check_range(int f, int v, char *err, size_t errlen)
{
    if (v < fields[f].lo || v > fields[f].hi)
        return fail(err, errlen, f, "value %d out of range %d-%d", v,
                    fields[f].lo, fields[f].hi);
    return CRON_OK;
}

/* One list item of field f into *mask (or the L/# parts of e). *wild is
 * set when the item spans the whole field. */
static int parse_item(const char *s, size_t len, int f, int in_list,
                      uint64_t *mask, cron_expr *e, int *full, char *err,
                      size_t errlen)
{
    cursor c = {s, len, 0};
    int lo, hi, step = 1, rc;
    *full = 0;
    if (len == 0)
        return fail(err, errlen, f, "empty list item");
    if (f == FS_DOM && len == 1 && upper(s[0]) == 'L') {
        e->flags |= F_DOM_LAST;
        return CRON_OK;
    }
    if (f == FS_DOW && len == 1 && upper(s[0]) == 'L')
        return fail(err, errlen, f,
                    "'L' needs a weekday before it (e.g. 5L)");
    if (f == FS_DOW && upper(s[len - 1]) == 'L') {
        c.len = len - 1;
        if ((rc = parse_value(&c, f, &lo, err, errlen)) != CRON_OK)
            return rc;
        if (c.pos != c.len)
            return fail(err, errlen, f, "invalid item '%.*s'", (int)len, s);
        if ((rc = check_range(f, lo, err, errlen)) != CRON_OK)
            return rc;
        e->dow_last |= (uint8_t)(1u << (lo % 7));
        return CRON_OK;
    }
    const char *hash = memchr(s, '#', len);
    if (f == FS_DOW && hash) {
        if (in_list)
            return fail(err, errlen, f,
                        "'#' cannot be combined with a list in '%.*s'", (int)len, s);
        c.len = (size_t)(hash - s);
        if ((rc = parse_value(&c, f, &lo, err, errlen)) != CRON_OK)
            return rc;
        if (c.pos != c.len)
            return fail(err, errlen, f, "invalid item '%.*s'", (int)len, s);
        if ((rc = check_range(f, lo, err, errlen)) != CRON_OK)
            return rc;
        cursor n = {hash + 1, len - c.len - 1, 0};
        int k;
        if (n.len != 1 || n.s[0] < '1' || n.s[0] > '5' ||
            parse_value(&n, FS_SEC, &k, NULL, 0) != CRON_OK)
            return fail(err, errlen, f,
                        "occurrence after '#' must be 1-5 in '%.*s'", (int)len, s);
        e->nth_dow = (uint8_t)(lo % 7);
        e->nth = (uint8_t)k;
        return CRON_OK;
    }
    if (s[0] == '*' || s[0] == '?') {
        lo = fields[f].lo;
        hi = fields[f].hi;
        c.pos = 1;
        *full = 1;
    } else {
        if ((rc = parse_value(&c, f, &lo, err, errlen)) != CRON_OK)
            return rc;
        hi = lo;
        if (c.pos < c.len && s[c.pos] == '-') {
            c.pos++;
            if ((rc = parse_value(&c, f, &hi, err, errlen)) != CRON_OK)
                return rc;
        } else if (c.pos < c.len && s[c.pos] == '/') {
            hi = fields[f].hi; /* "5/15": from 5 to the end */
        }
    }
    if (c.pos < c.len && s[c.pos] == '/') {
        c.pos++;
        if (c.pos >= c.len || s[c.pos] < '0' || s[c.pos] > '9')
            return fail(err, errlen, f, "step must be a number in '%.*s'", (int)len, s);
        if ((rc = parse_value(&c, FS_SEC, &step, err, errlen)) != CRON_OK)
            return fail(err, errlen, f, "step too large in '%.*s'", (int)len, s);
        if (step < 1)
            return fail(err, errlen, f, "step must be at least 1 in '%.*s'", (int)len, s);
    }
    if (c.pos != c.len)
        return fail(err, errlen, f, "invalid item '%.*s'", (int)len, s);
    if ((rc = check_range(f, lo, err, errlen)) != CRON_OK ||
        (rc = check_range(f, hi, err, errlen)) != CRON_OK)
        return rc;
    if (lo > hi) {
        return fail(err, errlen, f, "range %d-%d is backwards", lo, hi);
    }
    if (lo == fields[f].lo && hi == fields[f].hi)
        *full = 1;
    for (int v = lo; v <= hi; v += step)
        *mask |= 1ULL << (f == FS_DOW ? v % 7 : v);
    return CRON_OK;
}

static int parse_field(const char *s, size_t len, int f, cron_expr *e,
                       char *err, size_t errlen)
{
    uint64_t mask = 0;
    int items = 0, full = 0, rc;
    int in_list = memchr(s, ',', len) != NULL;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ',')
            continue;
        if ((rc = parse_item(s + start, i - start, f, in_list, &mask, e,
                             &full, err, errlen)) != CRON_OK)
            return rc;
        items++;
        start = i + 1;
    }
    int plain = len == 1 && (s[0] == '*' || s[0] == '?');
    switch (f) {
    case FS_SEC:
        e->sec = mask;
        break;
    case FS_MIN:
        e->min = mask;
        break;
    case FS_HOUR:
        e->hour = (uint32_t)mask;
        if (items == 1 && full)
            e->flags |= F_HOUR_WILD;
        break;
    case FS_DOM:
        e->dom = (uint32_t)mask;
        if (!plain)
            e->flags |= F_DOM_RESTRICTED;
        break;
    case FS_MON:
        e->mon = (uint16_t)mask;
        break;
    default:
        e->dow = (uint8_t)mask;
        if (!plain)
            e->flags |= F_DOW_RESTRICTED;
        break;
    }
    return CRON_OK;
}

int cron_parse(const char *text, cron_expr *out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    memset(out, 0, sizeof *out);
    if (!text) {
        if (err && errlen)
            snprintf(err, errlen, "expression is empty");
        return CRON_EPARSE;
    }
    size_t tl = strnlen(text, MAX_TEXT + 1);
    if (tl > MAX_TEXT) {
        if (err && errlen)
            snprintf(err, errlen, "expression longer than %d characters",
                     MAX_TEXT);
        return CRON_EPARSE;
    }
    while (*text == ' ' || *text == '\t')
        text++;
    if (*text == '@') {
        size_t n = strcspn(text, " \t");
        const char *rest = text + n;
        while (*rest == ' ' || *rest == '\t')
            rest++;
        for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
            if (!*rest && strlen(macros[i].name) == n &&
                strncasecmp(text, macros[i].name, n) == 0)
                return cron_parse(macros[i].expansion, out, err, errlen);
        if (err && errlen)
            snprintf(err, errlen,
                     "unknown macro '%.*s' (use @yearly, @annually, "
                     "@monthly, @weekly, @daily or @hourly)",
                     (int)(n > 32 ? 32 : n), text);
        return CRON_EPARSE;
    }
    const char *start[7];
    size_t len[7];
    int n = 0;
    for (const char *p = text; *p;) {
        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        size_t l = strcspn(p, " \t");
        if (n < 7) {
            start[n] = p;
            len[n] = l;
        }
        n++;
        p += l;
    }
    if (n != 5 && n != 6) {
        if (err && errlen) {
            if (n == 0)
                snprintf(err, errlen, "expression is empty");
            else
                snprintf(err, errlen, "expected 5 or 6 fields, got %d", n);
        }
        return CRON_EPARSE;
    }
    int first = n == 5 ? FS_MIN : FS_SEC;
    if (n == 5)
        out->sec = 1; /* second 0 */
    for (int i = 0; i < n; i++) {
        int rc = parse_field(start[i], len[i], first + i, out, err, errlen);
        if (rc != CRON_OK) {
            memset(out, 0, sizeof *out);
            return rc;
        }
    }
    /* Like cron-parser, refuse a day-of-month that no chosen month has
     * ("30 2 31 2 *"): it would never fire. */
    if ((out->flags & (F_DOM_RESTRICTED | F_DOW_RESTRICTED)) ==
            F_DOM_RESTRICTED &&
        !(out->flags & F_DOM_LAST)) {
        uint32_t possible = 0;
        for (unsigned m = 1; m <= 12; m++)
            if (out->mon & (1u << m)) {
                unsigned ml = m == 2 ? 29 : month_len(2001, m);
                possible |= (uint32_t)(((1ULL << ml) - 1) << 1);
            }
        if (!(out->dom & possible)) {
            memset(out, 0, sizeof *out);
            return fail(err, errlen, FS_DOM,
                        "no chosen month has that day");
        }
    }
    return CRON_OK;
}

/* ---- searching ------------------------------------------------------ */

static int next_bit(uint64_t mask, int from)
{
    if (from >= 64)
        return -1;
    uint64_t m = mask & (~0ULL << from);
    return m ? __builtin_ctzll(m) : -1;
}

/* The days of month m of year y that match, as bits 1..31. */
static uint32_t month_days(const cron_expr *e, int64_t y, unsigned m)
{
    unsigned ml = month_len(y, m);
    uint32_t all = (uint32_t)(((1ULL << ml) - 1) << 1);
    int dom_r = (e->flags & F_DOM_RESTRICTED) != 0;
    int dow_r = (e->flags & F_DOW_RESTRICTED) != 0;
    if (!dom_r && !dow_r)
        return all;
    uint32_t dm = 0, wm = 0;
    if (dom_r) {
        dm = e->dom & all;
        if (e->flags & F_DOM_LAST)
            dm |= 1u << ml;
    }
    if (dow_r) {
        int64_t d1 = days_from_civil(y, m, 1);
        int wd1 = (int)(((d1 + 4) % 7 + 7) % 7);
        for (int w = 0; w < 7; w++) {
            unsigned first = 1 + (unsigned)((w - wd1 + 7) % 7);
            if (e->dow & (1u << w))
                for (unsigned d = first; d <= ml; d += 7)
                    wm |= 1u << d;
            if (e->dow_last & (1u << w))
                wm |= 1u << (first + 7 * ((ml - first) / 7));
            if (e->nth && e->nth_dow == w) {
                unsigned d = first + 7u * (e->nth - 1u);
                if (d <= ml)
                    wm |= 1u << d;
            }
        }
    }
    if (dom_r && dow_r)
        return dm | wm;
    return dom_r ? dm : wm;
}

/* The first matching time of day at or after h:mi:s, as seconds. */
static int time_in_day(const cron_expr *e, int h, int mi, int s, int64_t *sod)
{
    for (;;) {
        int hh = next_bit(e->hour, h);
        if (hh < 0)
            return 0;
        if (hh != h)
            mi = s = 0;
        int mm = next_bit(e->min, mi);
        if (mm < 0) {
            h = hh + 1;
            mi = s = 0;
            continue;
        }
        if (mm != mi)
            s = 0;
        int ss = next_bit(e->sec, s);
        if (ss < 0) {
            h = hh;
            mi = mm + 1;
            s = 0;
            if (mi > 59) {
                h = hh + 1;
                mi = 0;
            }
            continue;
        }
        *sod = (int64_t)hh * 3600 + mm * 60 + ss;
        return 1;
    }
}

/* First matching local second L with from <= L < limit, within
 * SEARCH_YEARS of from. 1 and *out, or 0. */
static int civil_next(const cron_expr *e, int64_t from, int64_t limit,
                      int64_t *out)
{
    if (from >= limit)
        return 0;
    int64_t days = floor_div(from, 86400);
    int64_t sod = from - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int h = (int)(sod / 3600), mi = (int)(sod / 60 % 60), s = (int)(sod % 60);
    int64_t ystop = y + SEARCH_YEARS;
    while (y <= ystop) {
        if (!(e->mon & (1u << m))) {
            int nm = next_bit(e->mon, (int)m + 1);
            if (nm < 0) {
                y++;
                nm = next_bit(e->mon, 1);
            }
            m = (unsigned)nm;
            d = 1;
            h = mi = s = 0;
            if (days_from_civil(y, m, 1) * 86400 >= limit)
                return 0;
            continue;
        }
        uint32_t dm = month_days(e, y, m) & (uint32_t)(~0ULL << d);
        if (!dm) {
            if (++m > 12) {
                m = 1;
                y++;
            }
            d = 1;
            h = mi = s = 0;
            if (days_from_civil(y, m, 1) * 86400 >= limit)
                return 0;
            continue;
        }
        unsigned nd = (unsigned)__builtin_ctz(dm);
        if (nd != d) {
            d = nd;
            h = mi = s = 0;
        }
        int64_t day0 = days_from_civil(y, m, d) * 86400;
        if (day0 >= limit)
            return 0;
        int64_t t;
        if (time_in_day(e, h, mi, s, &t)) {
            if (day0 + t >= limit)
                return 0;
            *out = day0 + t;
            return 1;
        }
        h = mi = s = 0;
        if (++d > month_len(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    return 0;
}

int cron_next(const cron_expr *e, const tz_info *tz, int64_t after_ms,
              int64_t *next_ms)
{
    if (after_ms < -MAX_ABS_MS || after_ms > MAX_ABS_MS)
        return CRON_ERANGE;
    if (!e->mon || !e->hour || !e->min || !e->sec)
        return CRON_ENEVER; /* not from cron_parse */
    int fixed = !(e->flags & F_HOUR_WILD);
    int64_t t = floor_div(after_ms, 1000) + 1;
    int64_t tstop = t + (int64_t)SEARCH_YEARS * 366 * 86400;
    tz_span sp;
    while (t < tstop) {
        tz_span_at(tz, t, &sp);
        int64_t limit = sp.end == INT64_MAX ? INT64_MAX : sp.end + sp.off;
        int64_t best = INT64_MAX, L;
        int bounded = sp.start != INT64_MIN;
        if (civil_next(e, t + sp.off, limit, &L)) {
            if (fixed && bounded && sp.off < sp.prev_off) {
                /* Second pass of a repeated stretch: fire only if the
                 * first pass (one repeat earlier) is already behind us. */
                int64_t rep = sp.prev_off - sp.off;
                int64_t r1 = sp.start + sp.prev_off;
                if (L < r1 && !(after_ms > (L - sp.off - rep) * 1000) &&
                    !civil_next(e, r1, limit, &L))
                    L = INT64_MAX;
            }
            if (L != INT64_MAX)
                best = L - sp.off;
        }
        if (fixed && bounded && sp.off > sp.prev_off) {
            /* Local times skipped by the gap fire moved forward by it. */
            int64_t g0 = sp.start + sp.prev_off, g1 = sp.start + sp.off;
            int64_t from = t + sp.prev_off > g0 ? t + sp.prev_off : g0;
            if (civil_next(e, from, g1, &L) && L - sp.prev_off < best)
                best = L - sp.prev_off;
        }
        if (best != INT64_MAX) {
            *next_ms = best * 1000;
            return CRON_OK;
        }
        if (sp.end == INT64_MAX)
            return CRON_ENEVER;
        t = sp.end;
    }
    return CRON_ENEVER;
}

int cron_hour_follows_clock(const cron_expr *e)
{
    return (e->flags & F_HOUR_WILD) != 0;
}
