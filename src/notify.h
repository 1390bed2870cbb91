/*
 * notify.h - the systemd service notification protocol (sd_notify(3)),
 * spoken directly: one datagram of "KEY=VALUE\n" lines to the AF_UNIX
 * socket named by $NOTIFY_SOCKET (a path, or '@' for the abstract
 * namespace). No libsystemd. Without $NOTIFY_SOCKET every call is a no-op,
 * so the daemon needs no "am I under systemd" branches.
 */
#ifndef CLAWSWEEP_NOTIFY_H
#define CLAWSWEEP_NOTIFY_H

#include <stdint.h>
#include <sys/un.h>

typedef struct {
    int fd;               /* -1 when not under systemd */
    int64_t watchdog_ms;  /* ping at least this often; 0 = no watchdog */
    struct sockaddr_un addr;
    unsigned addrlen;
} notifier;

/* Read $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID and remove them
 * from the environment (agents must not inherit them). Returns 0 (n->fd
 * is -1 when there is no socket), or -1 when the variable is malformed or
 * the socket cannot be created (logged; n then acts as absent). */
int notify_open(notifier *n);

/* Send one message, e.g. "READY=1\nSTATUS=idle". 0 ok or not under
 * systemd, -1 when the send failed (logged once per errno). */
int notify_send(notifier *n, const char *msg);

void notify_close(notifier *n);

#endif
