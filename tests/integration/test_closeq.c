/*
 * test_closeq.c - the background close queue that frees removed files'
 * blocks (closeq.h): on real unlinked files in a temp dir, and on loopback
 * TCP sockets whose close() blocks for a second (SO_LINGER with unsent
 * data the peer never reads), which makes "finish waits for every close"
 * and "a full queue makes push wait" observable without racing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "closeq.h"
#include "testlib.h"

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the one opendir holds */
}

/* Create, fill and unlink file i in dir; return its still-open fd. */
static int unlinked_file(int dir, int i)
{
    char name[32];
    snprintf(name, sizeof name, "f%d", i);
    int fd = openat(dir, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    char block[4096] = {1};
    assert_int_equal(write(fd, block, sizeof block), (ssize_t)sizeof block);
    assert_int_equal(unlinkat(dir, name, 0), 0);
    return fd;
}

static int open_tmp(char **tmp, const char *tag)
{
    *tmp = tl_tmpdir(tag);
    int dir = open(*tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dir >= 0);
    return dir;
}

static void test_finish_closes_every_descriptor(void **state)
{
    (void)state;
    char *tmp;
    int dir = open_tmp(&tmp, "closeq");
    int before = open_fds();
    closeq *q = closeq_start(4);
    assert_non_null(q);
    for (int i = 0; i < 3000; i++) {
        int fd = unlinked_file(dir, i);
        assert_true(fd >= 0);
        closeq_push(q, fd);
    }
    closeq_finish(q);
    assert_int_equal(open_fds(), before);
    /* the directory is empty: the files really went */
    DIR *d = fdopendir(dup(dir));
    assert_non_null(d);
    rewinddir(d);
    int left = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        left += de->d_name[0] != '.';
    closedir(d);
    assert_int_equal(left, 0);
    close(dir);
    tl_rm_rf(tmp);
    free(tmp);
}

/* A connected loopback socket whose close() blocks about a second: the
 * peer's receive window is full and SO_LINGER waits for it. *peer gets
 * the other end, which the caller closes after. */
static int slow_closing_socket(int *peer)
{
    int small = 4096;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(l >= 0);
    assert_int_equal(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(c >= 0);
    assert_int_equal(setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    *peer = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    assert_true(*peer >= 0);
    close(l);
    struct linger lg = {.l_onoff = 1, .l_linger = 1};
    assert_int_equal(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    assert_int_equal(fcntl(c, F_SETFL, O_NONBLOCK), 0);
    char buf[4096] = {0};
    while (write(c, buf, sizeof buf) > 0)
        ;
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(fcntl(c, F_SETFL, 0), 0);
    return c;
}

static int is_closed(int fd)
{
    errno = 0;
    return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

static void test_finish_waits_for_slow_closes(void **state)
{
    (void)state;
    int fd[4], peer[4];
    for (int i = 0; i < 4; i++)
        fd[i] = slow_closing_socket(&peer[i]);
    int64_t t0 = tl_mono_ms();
    closeq *q = closeq_start(4);
    assert_non_null(q);
    for (int i = 0; i < 4; i++)
        closeq_push(q, fd[i]);
    int64_t pushed = tl_mono_ms() - t0;
    closeq_finish(q);
    int64_t finished = tl_mono_ms() - t0;
    for (int i = 0; i < 4; i++) {
        assert_true(is_closed(fd[i]));
        close(peer[i]);
    }
    assert_true(pushed < 500);    /* room in the queue: push did not wait */
    assert_true(finished >= 900); /* finish waited for the closes */
}

static void test_full_queue_makes_push_wait(void **state)
{
    (void)state;
    /* RLIMIT_NOFILE 64: 16 descriptors in flight, so 2 threads holding
     * one each and a queue of one; the fourth push waits for a close. */
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 64;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    int fd[4], peer[4];
    for (int i = 0; i < 4; i++)
        fd[i] = slow_closing_socket(&peer[i]);
    closeq *q = closeq_start(16);
    assert_non_null(q);
    int64_t t0 = tl_mono_ms();
    for (int i = 0; i < 3; i++)
        closeq_push(q, fd[i]);
    int64_t three = tl_mono_ms() - t0;
    closeq_push(q, fd[3]);
    int64_t four = tl_mono_ms() - t0;
    closeq_finish(q);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    for (int i = 0; i < 4; i++) {
        assert_true(is_closed(fd[i]));
        close(peer[i]);
    }
    assert_true(three < 500);
    assert_true(four >= 900);
}

static void test_null_queue_closes_inline(void **state)
{
    (void)state;
    char *tmp;
    int dir = open_tmp(&tmp, "closeq-null");
    closeq *q = closeq_start(0);
    assert_null(q);
    int fd = unlinked_file(dir, 0);
    assert_true(fd >= 0);
    closeq_push(q, fd);
    assert_true(is_closed(fd));
    closeq_finish(q);
    close(dir);
    tl_rm_rf(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finish_closes_every_descriptor),
        cmocka_unit_test(test_finish_waits_for_slow_closes),
        cmocka_unit_test(test_full_queue_makes_push_wait),
        cmocka_unit_test(test_null_queue_closes_inline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
