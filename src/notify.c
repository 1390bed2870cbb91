/*
 * notify.c - sd_notify(3) over the documented datagram protocol.
 *
 * The socket is opened once and kept: the daemon pings after every tick,
 * and a connectionless sendto per message is all the protocol needs.
 * WATCHDOG_USEC is honoured only when WATCHDOG_PID is absent or names
 * this process (systemd sets it for the main process; a child that
 * inherited the variables must not think it is supervised). The daemon
 * pings at half the watchdog period, as sd_watchdog_enabled(3) advises.
 */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

static int parse_u64(const char *s, unsigned long long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static void read_watchdog(notifier *n)
{
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    unsigned long long us, p;
    if (!usec)
        return;
    if (parse_u64(usec, &us) != 0 || us == 0) {
        log_warn("ignoring malformed WATCHDOG_USEC", "value=%s", usec);
        return;
    }
    if (pid && (parse_u64(pid, &p) != 0 || p != (unsigned long long)getpid()))
        return; /* meant for another process */
    n->watchdog_ms = (int64_t)(us / 2000);
    if (n->watchdog_ms < 1)
        n->watchdog_ms = 1;
}

int notify_open(notifier *n)
{
    memset(n, 0, sizeof *n);
    n->fd = -1;
    const char *path = getenv("NOTIFY_SOCKET");
    int rc = 0;
    if (path && *path) {
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        size_t len = strlen(path);
        if ((path[0] != '/' && path[0] != '@') || len >= sizeof sa.sun_path) {
            log_error("ignoring unusable NOTIFY_SOCKET", "value=%s", path);
            rc = -1;
        } else {
            memcpy(sa.sun_path, path, len);
            if (path[0] == '@')
                sa.sun_path[0] = '\0'; /* abstract namespace, no NUL end */
            socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un,
                                                    sun_path) + len +
                                           (path[0] == '/'));
            n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (n->fd < 0) {
                log_error("cannot create notify socket", "error=%s",
                          strerror(errno));
                rc = -1;
            } else {
                n->addr = sa;
                n->addrlen = (unsigned)salen;
                read_watchdog(n);
            }
        }
    }
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    return rc;
}

int notify_send(notifier *n, const char *msg)
{
    static int last_errno;
    if (n->fd < 0)
        return 0;
    ssize_t w;
    do
        w = sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL,
                   (const struct sockaddr *)&n->addr,
                   (socklen_t)n->addrlen);
    while (w < 0 && errno == EINTR);
    if (w < 0) {
        if (errno != last_errno)
            log_warn("cannot notify systemd", "error=%s", strerror(errno));
        last_errno = errno;
        return -1;
    }
    last_errno = 0;
    return 0;
}

void notify_close(notifier *n)
{
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
}
