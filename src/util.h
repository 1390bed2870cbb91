/*
 * util.h - small helpers shared by every module: id validation, paths,
 * splitting command settings into argv words, string sets.
 */
#ifndef CLAWSWEEP_UTIL_H
#define CLAWSWEEP_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* SPEC §1: ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$ and not "." / ".." */
int id_is_valid(const char *id);

/* snprintf into a fixed buffer; returns 0, or -1 when it does not fit. */
int path_join(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* mkdir -p for a directory we own (mode 0750). 0 or -1 with errno. */
int mkdir_p(const char *path);

/* Split a command setting into words at spaces, double quotes grouping
 * (SPEC §4). *argv is a NULL-terminated malloc'd array owned by the
 * caller (free with words_free). Returns the word count, or -1 on an
 * unterminated quote. */
int words_split(const char *s, char ***argv);
void words_free(char **argv);

/* An owned set of strings. Lookups are linear until strset_sort, then
 * binary; adding clears the sorted state. Zero-initialise before use. */
typedef struct {
    char **items;
    size_t len, cap;
    int sorted;
} strset;
int strset_add(strset *s, const char *item);
int strset_has(const strset *s, const char *item);
void strset_sort(strset *s);
void strset_free(strset *s);

/* Write a whole file atomically: temp file in the same dir + rename. */
int write_file_atomic(const char *path, const char *data, size_t len);



/* 64 random bits (getrandom; never blocks). */
uint64_t random_u64(void);
/* n random characters from [a-z0-9] plus NUL into out (n+1 bytes). */
void random_suffix(char *out, size_t n);

/* Take an exclusive flock on path (created 0640). Returns the fd, -1 when
 * another process holds it (errno EWOULDBLOCK) or on error. */
int lock_file(const char *path);
#endif
