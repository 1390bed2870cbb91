/*
 * log.c - SPEC §8 log lines.
 *
 * The field list is a format string of "key=%conv" tokens rather than
 * pre-rendered text, so the same call produces a readable text line or a
 * JSON object with one member per field. Each line is built in one buffer
 * and written with a single write(2), so lines from the daemon and its
 * children never interleave mid-line.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timefmt.h"

static log_level min_level = LOG_INFO;
static log_format out_format = LOG_TEXT;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_setup(log_level level, log_format format)
{
    min_level = level;
    out_format = format;
}

log_level log_min_level(void) { return min_level; }

int log_parse_level(const char *s, log_level *out)
{
    for (int i = LOG_DEBUG; i <= LOG_ERROR; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    return -1;
}

int log_parse_format(const char *s, log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = LOG_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_JSON;
    else
        return -1;
    return 0;
}

typedef struct {
    char buf[8192];
    size_t len;
} line_buf;

static void put(line_buf *b, const char *s, size_t n)
{
    size_t room = sizeof b->buf - 2 - b->len; /* keep room for "\n\0" */
    if (n > room)
        n = room;
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

static void puts_(line_buf *b, const char *s) { put(b, s, strlen(s)); }

static void put_json_string(line_buf *b, const char *s)
{
    put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(b, esc, 2);
        } else if (c == '\n') {
            put(b, "\\n", 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(b, esc, 6);
        } else {
            put(b, (const char *)&c, 1);
        }
    }
    put(b, "\"", 1);
}

static int needs_quotes(const char *s)
{
    if (*s == '\0')
        return 1;
    for (; *s; s++)
        if (*s == ' ' || *s == '"' || *s == '=' || (unsigned char)*s < 0x20)
            return 1;
    return 0;
}

static void put_text_value(line_buf *b, const char *s)
{
    if (!needs_quotes(s)) {
        puts_(b, s);
        return;
    }
    /* The JSON escaping rules are also a fine unambiguous quoting. */
    put_json_string(b, s);
}

/* Render one conversion into val; advances the va_list. Returns the
 * number of format chars consumed after '%', 0 on an unknown conversion. */
static size_t render_conv(const char *f, va_list *ap, char *val, size_t vlen,
                          int *is_number)
{
    *is_number = 1;
    if (f[0] == 's') {
        const char *s = va_arg(*ap, const char *);
        snprintf(val, vlen, "%s", s ? s : "");
        *is_number = 0;
        return 1;
    }
    if (f[0] == 'c') {
        snprintf(val, vlen, "%c", va_arg(*ap, int));
        *is_number = 0;
        return 1;
    }
    if (f[0] == 'd') {
        snprintf(val, vlen, "%d", va_arg(*ap, int));
        return 1;
    }
    if (f[0] == 'u') {
        snprintf(val, vlen, "%u", va_arg(*ap, unsigned));
        return 1;
    }
    if (f[0] == 'f') {
        snprintf(val, vlen, "%.3f", va_arg(*ap, double));
        return 1;
    }
    if (f[0] == 'z' && f[1] == 'u') {
        snprintf(val, vlen, "%zu", va_arg(*ap, size_t));
        return 2;
    }
    if (f[0] == 'l' && f[1] == 'd') {
        snprintf(val, vlen, "%ld", va_arg(*ap, long));
        return 2;
    }
    if (f[0] == 'l' && f[1] == 'u') {
        snprintf(val, vlen, "%lu", va_arg(*ap, unsigned long));
        return 2;
    }
    if (f[0] == 'l' && f[1] == 'l' && f[2] == 'd') {
        snprintf(val, vlen, "%lld", va_arg(*ap, long long));
        return 3;
    }
    if (f[0] == 'l' && f[1] == 'l' && f[2] == 'u') {
        snprintf(val, vlen, "%llu", va_arg(*ap, unsigned long long));
        return 3;
    }
    return 0;
}

void log_at(log_level level, const char *msg, const char *fields, ...)
{
    if (level < min_level)
        return;
    line_buf b;
    b.len = 0;
    char ts[32];
    timefmt_iso_ms(clock_now_ms(), ts, sizeof ts);

    if (out_format == LOG_JSON) {
        puts_(&b, "{\"time\":\"");
        puts_(&b, ts);
        puts_(&b, "\",\"level\":\"");
        puts_(&b, level_names[level]);
        puts_(&b, "\",\"msg\":");
        put_json_string(&b, msg);
    } else {
        puts_(&b, ts);
        puts_(&b, " ");
        puts_(&b, level_names[level]);
        puts_(&b, " ");
        puts_(&b, msg);
    }

    va_list ap;
    va_start(ap, fields);
    const char *f = fields ? fields : "";
    while (*f) {
        while (*f == ' ')
            f++;
        const char *eq = strchr(f, '=');
        if (!*f || !eq)
            break;
        char key[64];
        size_t klen = (size_t)(eq - f) < sizeof key - 1 ? (size_t)(eq - f)
                                                         : sizeof key - 1;
        memcpy(key, f, klen);
        key[klen] = '\0';
        f = eq + 1;
        char val[4096];
        int is_number = 0;
        if (*f == '%') {
            size_t used = render_conv(f + 1, &ap, val, sizeof val, &is_number);
            if (used == 0)
                break; /* unknown conversion: stop rather than misread args */
            f += 1 + used;
        } else {
            size_t n = strcspn(f, " ");
            snprintf(val, sizeof val, "%.*s", (int)n, f);
            f += n;
            is_number = 0;
        }
        if (out_format == LOG_JSON) {
            puts_(&b, ",");
            put_json_string(&b, key);
            puts_(&b, ":");
            if (is_number)
                puts_(&b, val);
            else
                put_json_string(&b, val);
        } else {
            puts_(&b, " ");
            puts_(&b, key);
            puts_(&b, "=");
            put_text_value(&b, val);
        }
    }
    va_end(ap);
    if (out_format == LOG_JSON)
        puts_(&b, "}");
    b.buf[b.len++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, b.buf, b.len);
    (void)ignored;
}
