/*
 * util.c - small shared helpers. Nothing here knows about sessions or
 * rules; everything is a plain function over strings, paths and files.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int id_is_valid(const char *id)
{
    if (!id)
        return 0;
    size_t n = strlen(id);
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9');
        if (i == 0 ? !alnum : !(alnum || c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

int path_join(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= outlen) {
        if (outlen)
            out[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (path_join(buf, sizeof buf, "%s", path) != 0)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0750) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0750) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(buf, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

void words_free(char **argv)
{
    if (!argv)
        return;
    for (char **p = argv; *p; p++)
        free(*p);
    free(argv);
}

int words_split(const char *s, char ***out)
{
    *out = NULL;
    size_t cap = 8, n = 0;
    char **argv = calloc(cap, sizeof *argv);
    char *word = malloc(strlen(s) + 1);
    if (!argv || !word)
        goto oom;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t wl = 0;
        int in_quotes = 0;
        while (*p && (in_quotes || (*p != ' ' && *p != '\t'))) {
            if (*p == '"') {
                in_quotes = !in_quotes;
                p++;
                continue;
            }
            word[wl++] = *p++;
        }
        if (in_quotes) {
            free(word);
            words_free(argv);
            return -1;
        }
        word[wl] = '\0';
        if (n + 2 > cap) {
            cap *= 2;
            char **na = realloc(argv, cap * sizeof *na);
            if (!na)
                goto oom;
            argv = na;
        }
        if (!(argv[n] = strdup(word)))
            goto oom;
        argv[++n] = NULL;
    }
    free(word);
    *out = argv;
    return (int)n;
oom:
    free(word);
    words_free(argv);
    errno = ENOMEM;
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int strset_add(strset *s, const char *item)
{
    if (s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **ni = realloc(s->items, cap * sizeof *ni);
        if (!ni)
            return -1;
        s->items = ni;
        s->cap = cap;
    }
    if (!(s->items[s->len] = strdup(item)))
        return -1;
    s->len++;
    s->sorted = 0;
    return 0;
}

void strset_sort(strset *s)
{
    if (s->len > 1)
        qsort(s->items, s->len, sizeof *s->items, cmp_str);
    s->sorted = 1;
}

int strset_has(const strset *s, const char *item)
{
    if (s->sorted)
        return s->len && bsearch(&item, s->items, s->len, sizeof *s->items,
                                 cmp_str) != NULL;
    for (size_t i = 0; i < s->len; i++)
        if (strcmp(s->items[i], item) == 0)
            return 1;
    return 0;
}

void strset_free(strset *s)
{
    for (size_t i = 0; i < s->len; i++)
        free(s->items[i]);
    free(s->items);
    s->items = NULL;
    s->len = s->cap = 0;
    s->sorted = 0;
}

int write_file_atomic(const char *path, const char *data, size_t len)
{
    char tmp[PATH_MAX];
    if (path_join(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) != 0)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                  0644);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
fail:;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = saved;
    return -1;
}

uint64_t random_u64(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v)
        return v;
    /* Entropy pool not ready (early boot): uniqueness is what matters. */
    static uint64_t x = 0x9E3779B97F4A7C15ull;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    x ^= (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

void random_suffix(char *out, size_t n)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[random_u64() % (sizeof alphabet - 1)];
    out[n] = '\0';
}

int lock_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}
