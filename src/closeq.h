/*
 * closeq.h - close descriptors of just-unlinked files on background
 * threads.
 *
 * Unlinking a file that is still open only drops its name: the filesystem
 * frees its blocks when the last descriptor closes. On ext4 that final
 * close truncates the inode, and with the `discard` mount option (usual on
 * SSDs and VMs) it waits for the device to trim every freed extent, which
 * costs 50-100 us per file, far more than every other step of a removal.
 * Those waits are on the device, not the CPU, so they overlap: handing the
 * close to a few threads makes a real cleanup run several times faster,
 * while the removal itself (flock, re-check, unlinkat) stays on the one
 * thread that decided it.
 */
#ifndef CLAWSWEEP_CLOSEQ_H
#define CLAWSWEEP_CLOSEQ_H

typedef struct closeq closeq;

/* Start a queue served by `threads` threads. NULL when threads is 0 or the
 * threads cannot be started: closeq_push then closes inline, so a NULL
 * queue is always usable. */
closeq *closeq_start(unsigned threads);

/* Give fd to the queue; it is closed soon, on another thread. Blocks while
 * the queue is full, so the descriptors in flight stay bounded. */
void closeq_push(closeq *q, int fd);

/* Close everything still queued, stop the threads, free q (NULL is fine).
 * When it returns, every pushed descriptor is closed. */
void closeq_finish(closeq *q);

#endif
