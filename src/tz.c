/*
 * tz.c - time zones without libc's global TZ state.
 *
 * localtime_r/mktime read one process-wide zone from $TZ; clawsweep needs
 * a zone per call (the configured one, a --tz flag) and exact answers
 * about gaps and repeats, so it reads the tz database itself.
 *
 * A zone is what a TZif file (RFC 8536) holds: a sorted array of
 * transition instants, each naming a local time type (offset, isdst,
 * abbreviation), and for version 2+ files a POSIX TZ rule
 * ("CET-1CEST,M3.5.0,M10.5.0/3") that extends the zone past the last
 * transition. Modern tzdata ("slim" files) stops listing transitions
 * around 2037 or even 2007 and relies on that rule, so the rule is
 * evaluated per year on demand (rule_span) instead of being expanded into
 * a table. Everything is answered through one primitive, tz_span_at: the
 * stretch of UTC time around an instant that has one offset, plus the
 * offset before it. Local-to-UTC walks the few spans near a local time.
 *
 * The built-in "UTC" is the rule "UTC0", so it needs no tzdata. Leap
 * second tables ("right/" zones) are ignored: clawsweep's clock is POSIX
 * time.
 */
#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "timefmt.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define TZIF_MAX_BYTES (1024 * 1024)
#define ABBR_MAX 16

typedef struct {
    int32_t off;
    uint8_t isdst;
    uint8_t abbr; /* index into chars */
} tz_type;

/* One date of a POSIX rule: Jn (1..365, no Feb 29), n (0..365), or
 * Mm.w.d (month, week 1..5 with 5 = last, weekday 0 = Sunday), at secs
 * local time (may be negative or past 24 h, TZif v3). */
typedef struct {
    char kind; /* 'J', 'n', 'M' */
    int mon, week, day;
    int32_t secs;
} tz_rdate;

struct tz_info {
    char name[128];
    int64_t *trans;
    uint8_t *tidx;
    size_t ntrans;
    tz_type *types;
    size_t ntypes;
    char *chars;
    size_t nchars;
    int has_rule, rule_dst;
    int32_t std_off, dst_off;
    char std_abbr[ABBR_MAX], dst_abbr[ABBR_MAX];
    tz_rdate rstart, rend;
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

/* 1970-01-01 was a Thursday. */
static int weekday_of(int64_t days)
{
    return (int)(((days + 4) % 7 + 7) % 7);
}

static void set_err(char *err, size_t errlen, const char *fmt, const char *arg)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, arg);
}

/* ---- POSIX TZ rules ---------------------------------------------- */

/* [+-]hh[:mm[:ss]], hours up to 167 (TZif v3). Returns seconds. */
static int parse_hms(const char **sp, int32_t *out)
{
    const char *s = *sp;
    int sign = 1;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (*s < '0' || *s > '9')
        return -1;
    int32_t h = 0, m = 0, sec = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 3) {
        h = h * 10 + (*s++ - '0');
        digits++;
    }
    if (h > 167)
        return -1;
    if (*s == ':') {
        s++;
        if (s[0] < '0' || s[0] > '5' || s[1] < '0' || s[1] > '9')
            return -1;
        m = (s[0] - '0') * 10 + (s[1] - '0');
        s += 2;
        if (*s == ':') {
            s++;
            if (s[0] < '0' || s[0] > '5' || s[1] < '0' || s[1] > '9')
                return -1;
            sec = (s[0] - '0') * 10 + (s[1] - '0');
            s += 2;
        }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    *sp = s;
    return 0;
}

static int parse_abbr(const char **sp, char *out)
{
    const char *s = *sp;
    size_t n = 0;
    if (*s == '<') {
        s++;
        while (*s && *s != '>') {
            char c = *s;
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (c >= '0' && c <= '9') || c == '+' || c == '-'))
                return -1;
            if (n + 1 >= ABBR_MAX)
                return -1;
            out[n++] = *s++;
        }
        if (*s != '>')
            return -1;
        s++;
    } else {
        while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) {
            if (n + 1 >= ABBR_MAX)
                return -1;
            out[n++] = *s++;
        }
    }
    if (n < 3)
        return -1;
    out[n] = '\0';
    *sp = s;
    return 0;
}

static int parse_num(const char **sp, int lo, int hi, int *out)
{
    const char *s = *sp;
    int v = 0, digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 4) {
        v = v * 10 + (*s++ - '0');
        digits++;
    }
    if (!digits || v < lo || v > hi)
        return -1;
    *out = v;
    *sp = s;
    return 0;
}

static int parse_rdate(const char **sp, tz_rdate *r)
{
    const char *s = *sp;
    memset(r, 0, sizeof *r);
    if (*s == 'J') {
        s++;
        r->kind = 'J';
        if (parse_num(&s, 1, 365, &r->day))
            return -1;
    } else if (*s == 'M') {
        s++;
        r->kind = 'M';
        if (parse_num(&s, 1, 12, &r->mon) || *s++ != '.' ||
            parse_num(&s, 1, 5, &r->week) || *s++ != '.' ||
            parse_num(&s, 0, 6, &r->day))
            return -1;
    } else {
        r->kind = 'n';
        if (parse_num(&s, 0, 365, &r->day))
            return -1;
    }
    r->secs = 7200;
    if (*s == '/') {
        s++;
        if (parse_hms(&s, &r->secs))
            return -1;
    }
    *sp = s;
    return 0;
}

/* Fill the rule fields of z from a POSIX TZ string. 0 or -1. */
static int parse_posix(const char *s, tz_info *z)
{
    int32_t off;
    if (parse_abbr(&s, z->std_abbr) || parse_hms(&s, &off))
        return -1;
    z->std_off = -off; /* POSIX offsets count west */
    z->has_rule = 1;
    z->rule_dst = 0;
    if (*s == '\0')
        return 0;
    if (parse_abbr(&s, z->dst_abbr))
        return -1;
    z->dst_off = z->std_off + 3600;
    if (*s && *s != ',') {
        if (parse_hms(&s, &off))
            return -1;
        z->dst_off = -off;
    }
    if (*s == '\0') { /* POSIX default: the US rule */
        z->rstart = (tz_rdate){'M', 3, 2, 0, 7200};
        z->rend = (tz_rdate){'M', 11, 1, 0, 7200};
    } else if (*s++ != ',' || parse_rdate(&s, &z->rstart) || *s++ != ',' ||
               parse_rdate(&s, &z->rend) || *s != '\0') {
        return -1;
    }
    z->rule_dst = 1;
    return 0;
}

/* UTC second at which a rule date of year y happens, given the offset in
 * force just before it. */
static int64_t rule_instant(const tz_rdate *r, int64_t y, int32_t off_before)
{
    int64_t day;
    if (r->kind == 'J') {
        day = days_from_civil(y, 1, 1) + r->day - 1 +
              (is_leap(y) && r->day >= 60 ? 1 : 0);
    } else if (r->kind == 'n') {
        day = days_from_civil(y, 1, 1) + r->day;
    } else {
        int64_t first = days_from_civil(y, (unsigned)r->mon, 1);
        int64_t d = first + (r->day - weekday_of(first) + 7) % 7 +
                    7 * (r->week - 1);
        if (d - first >= month_len(y, (unsigned)r->mon))
            d -= 7;
        day = d;
    }
    return day * 86400 + r->secs - off_before;
}

/* The span of t in the part of the zone governed by the rule, which
 * begins at base (INT64_MIN for a rule-only zone) after offset base_prev.
 * *isdst tells which abbreviation applies. */
static void rule_span(const tz_info *z, int64_t t, int64_t base,
                      int32_t base_prev, tz_span *o, int *isdst)
{
    *isdst = 0;
    if (!z->rule_dst) {
        o->start = base;
        o->end = INT64_MAX;
        o->off = z->std_off;
        o->prev_off = base == INT64_MIN ? z->std_off : base_prev;
        return;
    }
    struct {
        int64_t at;
        int32_t off;
        int dst;
    } ev[6], tmp;
    int64_t y0, yy;
    unsigned mm, dd;
    civil_from_days(floor_div(t + z->std_off, 86400), &y0, &mm, &dd);
    int n = 0;
    for (yy = y0 - 1; yy <= y0 + 1; yy++) {
        ev[n].at = rule_instant(&z->rstart, yy, z->std_off);
        ev[n].off = z->dst_off;
        ev[n++].dst = 1;
        ev[n].at = rule_instant(&z->rend, yy, z->dst_off);
        ev[n].off = z->std_off;
        ev[n++].dst = 0;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && ev[j].at < ev[j - 1].at; j--) {
            tmp = ev[j];
            ev[j] = ev[j - 1];
            ev[j - 1] = tmp;
        }
    int k = -1;
    for (int i = 0; i < n; i++)
        if (ev[i].at <= t)
            k = i;
    if (k < 0) { /* not reached for sane rules: before y0-1's events */
        o->start = INT64_MIN;
        o->end = ev[0].at;
        o->off = ev[0].dst ? z->std_off : z->dst_off;
        o->prev_off = o->off;
        *isdst = !ev[0].dst;
    } else {
        o->start = ev[k].at;
        o->end = k + 1 < n ? ev[k + 1].at : INT64_MAX;
        o->off = ev[k].off;
        o->prev_off = k > 0 ? ev[k - 1].off
                            : (ev[k].dst ? z->std_off : z->dst_off);
        *isdst = ev[k].dst;
    }
    if (o->start <= base) {
        o->start = base;
        o->prev_off = base == INT64_MIN ? o->off : base_prev;
    }
}

/* ---- span lookup --------------------------------------------------- */

static void lookup(const tz_info *z, int64_t t, tz_span *o, const char **abbr)
{
    size_t n = z->ntrans;
    int isdst = 0;
    if (n == 0 || t < z->trans[0]) {
        if (n == 0 && z->has_rule) {
            rule_span(z, t, INT64_MIN, 0, o, &isdst);
            if (abbr)
                *abbr = isdst ? z->dst_abbr : z->std_abbr;
            return;
        }
        o->start = INT64_MIN;
        o->end = n ? z->trans[0] : INT64_MAX;
        o->off = o->prev_off = z->types[0].off;
        if (abbr)
            *abbr = z->chars + z->types[0].abbr;
        return;
    }
    size_t lo = 1, hi = n; /* count of transitions <= t, in [1, n] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (z->trans[mid - 1] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    const tz_type *cur = &z->types[z->tidx[lo - 1]];
    int32_t prev = lo >= 2 ? z->types[z->tidx[lo - 2]].off : z->types[0].off;
    if (lo == n && z->has_rule) {
        rule_span(z, t, z->trans[n - 1], prev, o, &isdst);
        if (o->start == z->trans[n - 1]) {
            if (abbr)
                *abbr = z->chars + cur->abbr;
        } else if (abbr) {
            *abbr = isdst ? z->dst_abbr : z->std_abbr;
        }
        return;
    }
    o->start = z->trans[lo - 1];
    o->end = lo < n ? z->trans[lo] : INT64_MAX;
    o->off = cur->off;
    o->prev_off = prev;
    if (abbr)
        *abbr = z->chars + cur->abbr;
}

void tz_span_at(const tz_info *tz, int64_t t, tz_span *out)
{
    lookup(tz, t, out, NULL);
}

int32_t tz_offset_at(const tz_info *tz, int64_t utc_ms, const char **abbr)
{
    tz_span sp;
    lookup(tz, floor_div(utc_ms, 1000), &sp, abbr);
    return sp.off;
}

int64_t tz_to_local(const tz_info *tz, int64_t utc_ms)
{
    return utc_ms + (int64_t)tz_offset_at(tz, utc_ms, NULL) * 1000;
}

int tz_from_local(const tz_info *tz, int64_t local_ms, int64_t out[2])
{
    /* Offsets stay within +-26 h, so the instants showing this local
     * time lie within a day and change of it: walk those spans. */
    int64_t ls = floor_div(local_ms, 1000);
    int64_t t = ls - 95000, stop = ls + 95000;
    int n = 0;
    int64_t gap = 0;
    int in_gap = 0;
    tz_span sp;
    for (;;) {
        tz_span_at(tz, t, &sp);
        int64_t inst = ls - sp.off;
        if (inst >= sp.start && inst < sp.end && n < 2)
            out[n++] = local_ms - (int64_t)sp.off * 1000;
        if (sp.off > sp.prev_off && sp.start != INT64_MIN &&
            ls >= sp.start + sp.prev_off && ls < sp.start + sp.off) {
            in_gap = 1;
            gap = local_ms - (int64_t)sp.prev_off * 1000;
        }
        if (sp.end == INT64_MAX || sp.end > stop)
            break;
        t = sp.end;
    }
    if (n == 0) {
        /* A gap, or a local time no offset of a sane zone reaches. */
        out[0] = in_gap ? gap : local_ms - (int64_t)sp.off * 1000;
    }
    return n;
}

void tz_format_local(const tz_info *tz, int64_t utc_ms, char *out,
                     size_t outlen)
{
    const char *abbr = "";
    int32_t off = tz_offset_at(tz, utc_ms, &abbr);
    int64_t local = utc_ms + (int64_t)off * 1000;
    int64_t days = floor_div(local, 86400000);
    int64_t msod = local - days * 86400000;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int32_t a = off < 0 ? -off : off;
    char offs[16];
    if (a % 60)
        snprintf(offs, sizeof offs, "%c%02d:%02d:%02d", off < 0 ? '-' : '+',
                 (int)(a / 3600), (int)(a / 60 % 60), (int)(a % 60));
    else
        snprintf(offs, sizeof offs, "%c%02d:%02d", off < 0 ? '-' : '+',
                 (int)(a / 3600), (int)(a / 60 % 60));
    snprintf(out, outlen, "%04lld-%02u-%02uT%02d:%02d:%02d.%03d%s %s",
             (long long)y, m, d, (int)(msod / 3600000),
             (int)(msod / 60000 % 60), (int)(msod / 1000 % 60),
             (int)(msod % 1000), offs, abbr);
}

/* ---- TZif files ---------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Parse a whole TZif image into z. 0 or -1. */
static int parse_tzif(const unsigned char *b, size_t len, tz_info *z)
{
    if (len < 44 || memcmp(b, "TZif", 4) != 0)
        return -1;
    int version = b[4] ? b[4] - '0' : 1;
    size_t tsize = 4;
    const unsigned char *h = b;
    size_t at = 0;
    uint64_t c[6]; /* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 6; i++)
            c[i] = be32(h + 20 + 4 * i);
        if (c[3] > 1000000 || c[4] == 0 || c[4] > 256 || c[5] > 65536 ||
            c[2] > 100000 || (c[0] && c[0] != c[4]) || (c[1] && c[1] != c[4]))
            return -1;
        uint64_t body = c[3] * tsize + c[3] + c[4] * 6 + c[5] +
                        c[2] * (tsize + 4) + c[1] + c[0];
        if ((uint64_t)(len - at) < 44 + body)
            return -1;
        if (pass == 0 && version >= 2) {
            at += 44 + (size_t)body;
            h = b + at;
            if (len - at < 44 || memcmp(h, "TZif", 4) != 0)
                return -1;
            tsize = 8;
            continue;
        }
        break;
    }
    size_t timecnt = (size_t)c[3], typecnt = (size_t)c[4],
           charcnt = (size_t)c[5];
    const unsigned char *p = h + 44;
    z->trans = malloc((timecnt ? timecnt : 1) * sizeof *z->trans);
    z->tidx = malloc(timecnt ? timecnt : 1);
    z->types = malloc(typecnt * sizeof *z->types);
    z->chars = malloc(charcnt + 1);
    if (!z->trans || !z->tidx || !z->types || !z->chars)
        return -1;
    for (size_t i = 0; i < timecnt; i++, p += tsize) {
        z->trans[i] = tsize == 8 ? be64(p) : (int64_t)(int32_t)be32(p);
        if (i && z->trans[i] <= z->trans[i - 1])
            return -1;
    }
    for (size_t i = 0; i < timecnt; i++, p++) {
        if (*p >= typecnt)
            return -1;
        z->tidx[i] = *p;
    }
    for (size_t i = 0; i < typecnt; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < -89999 || off > 93599 || p[5] >= charcnt + (charcnt == 0))
            return -1;
        z->types[i].off = off;
        z->types[i].isdst = p[4];
        z->types[i].abbr = p[5];
    }
    memcpy(z->chars, p, charcnt);
    z->chars[charcnt] = '\0';
    p += charcnt + c[2] * (tsize + 4) + c[1] + c[0];
    z->ntrans = timecnt;
    z->ntypes = typecnt;
    z->nchars = charcnt;
    if (tsize == 8 && (size_t)(p - b) < len && *p == '\n') {
        const unsigned char *q = p + 1;
        const unsigned char *e = memchr(q, '\n', len - (size_t)(q - b));
        if (!e)
            return -1;
        if (e > q) {
            char rule[256];
            size_t rl = (size_t)(e - q);
            if (rl >= sizeof rule)
                return -1;
            memcpy(rule, q, rl);
            rule[rl] = '\0';
            if (parse_posix(rule, z))
                return -1;
        }
    }
    return 0;
}

static tz_info *tz_new(const char *name)
{
    tz_info *z = calloc(1, sizeof *z);
    if (z)
        snprintf(z->name, sizeof z->name, "%s", name);
    return z;
}

void tz_free(tz_info *tz)
{
    if (!tz)
        return;
    free(tz->trans);
    free(tz->tidx);
    free(tz->types);
    free(tz->chars);
    free(tz);
}

const char *tz_name(const tz_info *tz)
{
    return tz->name;
}

/* A zone made of a POSIX rule alone ("UTC0", $TZ="CET-1CEST,..."). */
static int from_posix(const char *rule, const char *name, tz_info **out)
{
    tz_info *z = tz_new(name);
    if (!z)
        return -1;
    z->types = calloc(1, sizeof *z->types);
    z->chars = calloc(1, 1);
    if (!z->types || !z->chars || parse_posix(rule, z)) {
        tz_free(z);
        return -1;
    }
    z->types[0].off = z->std_off;
    z->ntypes = 1;
    *out = z;
    return 0;
}

static int load_path(const char *path, const char *name, tz_info **out,
                     char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        set_err(err, errlen, "unknown time zone '%s'", name);
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > TZIF_MAX_BYTES) {
        close(fd);
        set_err(err, errlen, "unknown time zone '%s' (not a zone file)", name);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    unsigned char *buf = malloc(len ? len : 1);
    size_t got = 0;
    while (buf && got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    tz_info *z = tz_new(name);
    if (!buf || !z || got != len || parse_tzif(buf, len, z) != 0) {
        free(buf);
        tz_free(z);
        set_err(err, errlen, "unknown time zone '%s' (not a valid TZif file)",
                name);
        return -1;
    }
    free(buf);
    *out = z;
    return 0;
}

/* An IANA name: relative, components of [A-Za-z0-9_+-.] that are not
 * "." or "..", so it can only name a file below ZONEINFO_DIR. */
static int name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 100 || n[0] == '/' || n[len - 1] == '/')
        return 0;
    const char *comp = n;
    for (const char *p = n;; p++) {
        char ch = *p;
        if (ch == '/' || ch == '\0') {
            size_t cl = (size_t)(p - comp);
            if (cl == 0 || (cl == 1 && comp[0] == '.') ||
                (cl == 2 && comp[0] == '.' && comp[1] == '.'))
                return 0;
            if (ch == '\0')
                return 1;
            comp = p + 1;
            continue;
        }
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '+' ||
              ch == '-' || ch == '.'))
            return 0;
    }
}

int tz_load(const char *name, tz_info **out, char *err, size_t errlen)
{
    if (strcmp(name, "UTC") == 0) {
        if (from_posix("UTC0", "UTC", out) == 0)
            return 0;
        set_err(err, errlen, "out of memory loading '%s'", name);
        return -1;
    }
    if (!name_ok(name)) {
        set_err(err, errlen, "invalid time zone name '%s'", name);
        return -1;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/%s", ZONEINFO_DIR, name);
    return load_path(path, name, out, err, errlen);
}

/* An absolute path from $TZ or /etc/localtime: no "." or ".." parts. */
static int abs_path_ok(const char *p)
{
    return p[0] == '/' && strlen(p) < 200 && name_ok(p + 1);
}

/* The zone name a path shows: "Europe/Madrid" for a file (or symlink)
 * under the zoneinfo tree, else the path itself. */
static void display_name(const char *path, char *out, size_t outlen)
{
    char link[256];
    const char *shown = path;
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n > 0) {
        link[n] = '\0';
        shown = link;
    }
    const char *z = strstr(shown, "zoneinfo/");
    if (z && name_ok(z + 9))
        shown = z + 9;
    size_t l = strlen(shown);
    if (l >= outlen)
        l = outlen - 1;
    memcpy(out, shown, l);
    out[l] = '\0';
}

int tz_resolve(const char *configured, tz_info **out, char *err,
               size_t errlen)
{
    if (configured && *configured)
        return tz_load(configured, out, err, errlen);
    const char *env = getenv("TZ");
    if (env && *env) {
        const char *v = env[0] == ':' ? env + 1 : env;
        if (v[0] == '/') {
            if (!abs_path_ok(v)) {
                set_err(err, errlen, "invalid time zone path '%s' in TZ", v);
                return -1;
            }
            char shown[128];
            display_name(v, shown, sizeof shown);
            return load_path(v, shown, out, err, errlen);
        }
        if (name_ok(v) && tz_load(v, out, NULL, 0) == 0)
            return 0;
        if (from_posix(v, v, out) == 0)
            return 0;
        set_err(err, errlen, "unknown time zone '%s' in TZ", v);
        return -1;
    }
    if (access("/etc/localtime", R_OK) == 0) {
        char shown[128];
        display_name("/etc/localtime", shown, sizeof shown);
        return load_path("/etc/localtime", shown, out, err, errlen);
    }
    return tz_load("UTC", out, err, errlen);
}
