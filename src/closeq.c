/*
 * closeq.c - see closeq.h.
 *
 * A bounded ring of descriptors behind one mutex and two condition
 * variables; a thread takes up to CLOSEQ_BATCH at a time and is woken
 * only when a batch is waiting (a wake-up costs more than a close).
 * Threads get a small stack: they only ever call close().
 */
#include "closeq.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#define CLOSEQ_CAP 256
#define CLOSEQ_MAX_THREADS 64
#define CLOSEQ_STACK (64 * 1024)
#define CLOSEQ_BATCH 8

struct closeq {
    pthread_mutex_t mu;
    pthread_cond_t nonempty, nonfull;
    int fds[CLOSEQ_CAP];
    unsigned cap, head, count;
    unsigned idle; /* threads waiting for work */
    int stopping;
    unsigned nthreads;
    pthread_t threads[CLOSEQ_MAX_THREADS];
};

static void *closer(void *arg)
{
    closeq *q = arg;
    int batch[CLOSEQ_BATCH];
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->count == 0 && !q->stopping) {
            q->idle++;
            pthread_cond_wait(&q->nonempty, &q->mu);
            q->idle--;
        }
        if (q->count == 0)
            break; /* stopping, and nothing left */
        unsigned n = q->count < CLOSEQ_BATCH ? q->count : CLOSEQ_BATCH;
        for (unsigned i = 0; i < n; i++) {
            batch[i] = q->fds[q->head];
            q->head = (q->head + 1) % q->cap;
        }
        q->count -= n;
        pthread_cond_signal(&q->nonfull);
        pthread_mutex_unlock(&q->mu);
        for (unsigned i = 0; i < n; i++)
            close(batch[i]);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* Descriptors in flight: queued (cap) plus held by threads in their
 * batches; together a quarter of RLIMIT_NOFILE at most, so a full queue
 * never starves the walk of descriptors. */
static unsigned fd_budget(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur / 4 > CLOSEQ_CAP + CLOSEQ_MAX_THREADS * CLOSEQ_BATCH)
        return CLOSEQ_CAP + CLOSEQ_MAX_THREADS * CLOSEQ_BATCH;
    return (unsigned)(rl.rlim_cur / 4);
}

closeq *closeq_start(unsigned threads)
{
    unsigned budget = fd_budget();
    if (threads > budget / CLOSEQ_BATCH)
        threads = budget / CLOSEQ_BATCH;
    if (threads > CLOSEQ_MAX_THREADS)
        threads = CLOSEQ_MAX_THREADS;
    if (threads == 0)
        return NULL;
    closeq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    unsigned rest = budget - threads * CLOSEQ_BATCH;
    q->cap = rest == 0 ? 1 : rest > CLOSEQ_CAP ? CLOSEQ_CAP : rest;
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        free(q);
        return NULL;
    }
    if (pthread_cond_init(&q->nonempty, NULL) != 0) {
        pthread_mutex_destroy(&q->mu);
        free(q);
        return NULL;
    }
    if (pthread_cond_init(&q->nonfull, NULL) != 0) {
        pthread_cond_destroy(&q->nonempty);
        pthread_mutex_destroy(&q->mu);
        free(q);
        return NULL;
    }
    pthread_attr_t attr;
    int have_attr = pthread_attr_init(&attr) == 0;
    if (have_attr)
        pthread_attr_setstacksize(&attr, CLOSEQ_STACK);
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&q->threads[i], have_attr ? &attr : NULL, closer,
                           q) != 0)
            break;
        q->nthreads++;
    }
    if (have_attr)
        pthread_attr_destroy(&attr);
    if (q->nthreads == 0) {
        closeq_finish(q);
        return NULL;
    }
    return q;
}

void closeq_push(closeq *q, int fd)
{
    if (!q) {
        close(fd);
        return;
    }
    pthread_mutex_lock(&q->mu);
    while (q->count == q->cap)
        pthread_cond_wait(&q->nonfull, &q->mu);
    q->fds[(q->head + q->count) % q->cap] = fd;
    q->count++;
    if (q->idle > 0 && (q->count >= CLOSEQ_BATCH || q->count == q->cap))
        pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->mu);
}

void closeq_finish(closeq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_cond_broadcast(&q->nonempty);
    pthread_mutex_unlock(&q->mu);
    for (unsigned i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    pthread_cond_destroy(&q->nonfull);
    pthread_cond_destroy(&q->nonempty);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
