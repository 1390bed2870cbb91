/*
 * log.h - one line per event on stderr: level, message, key=value fields.
 *
 * Fields are given as a small format string of space-separated
 * "key=%conv" tokens, e.g.
 *     log_info("agent started", "session=%s pid=%d", sid, (int)pid);
 * Supported conversions: %s %d %ld %lld %u %lu %llu %zu %c %f.
 * Text mode quotes values that contain spaces, quotes or control chars;
 * JSON mode (SPEC §8) emits one object per line.
 */
#ifndef CLAWSWEEP_LOG_H
#define CLAWSWEEP_LOG_H

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;
typedef enum { LOG_TEXT = 0, LOG_JSON } log_format;

void log_setup(log_level min_level, log_format format);
log_level log_min_level(void);
int log_parse_level(const char *s, log_level *out);
int log_parse_format(const char *s, log_format *out);

void log_at(log_level level, const char *msg, const char *fields, ...);

#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)

#endif
