/*
 * safefs.c - see safefs.h.
 *
 * The walk is a plain recursive descent, one open directory per level (the
 * depth is capped so a hostile tree cannot exhaust descriptors), with one
 * path buffer shared by all levels: memory stays O(depth) however many
 * entries a tree holds, which is what lets a pass over a million files run
 * in a few megabytes.
 *
 * Removal of a file is: open it O_NOFOLLOW|O_NONBLOCK (a symlink or a
 * swapped name fails here), take LOCK_EX|LOCK_NB (someone else holds it:
 * keep it), fstat the handle and compare inode, type, size and mtime with
 * what was selected, fstatat the name once more to be sure it still names
 * that inode, and only then unlinkat. A symlink cannot be opened without
 * following it, so it is compared by lstat alone. Anything that is neither
 * a regular file nor a symlink is never removed.
 *
 * The descriptor held through the unlinkat (and one opened on a directory
 * before its rmdir) goes to a closeq when the caller gives one: the last
 * close is where the filesystem frees the blocks, see closeq.h.
 */
#include "safefs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deeper than this is not descended: every level holds a descriptor. */
#define SFS_MAX_DEPTH 64

int64_t sfs_mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

static int ts_after(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec > b->tv_sec ||
           (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* A directory that is the root of a mount (a bind mount of the same
 * filesystem keeps st_dev, so st_dev alone does not see it). */
static int is_mount_root(int fd)
{
#ifdef STATX_ATTR_MOUNT_ROOT
    struct statx sx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_TYPE,
              &sx) == 0 &&
        (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
        return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
#else
    (void)fd;
#endif
    return 0;
}

int sfs_open_root(const char *path, sfs_dir *out)
{
    out->fd = -1;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? SFS_GONE
               : errno == ENOTDIR ? SFS_NOTDIR
                                  : SFS_ERR;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return SFS_ERR;
    }
    out->fd = fd;
    out->dev = st.st_dev;
    return SFS_OK;
}

/* Open name in dirfd as a directory on device dev; *st gets its stat. */
static int open_sub_at(int dirfd, dev_t dev, const char *name, int *fd_out,
                       struct stat *st)
{
    int fd = openat(dirfd, name,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? SFS_GONE
               : (errno == ENOTDIR || errno == ELOOP) ? SFS_NOTDIR
                                                      : SFS_ERR;
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return SFS_ERR;
    }
    if (st->st_dev != dev || is_mount_root(fd)) {
        close(fd);
        return SFS_XDEV;
    }
    *fd_out = fd;
    return SFS_OK;
}

int sfs_open_sub(const sfs_dir *parent, const char *name, sfs_dir *out)
{
    struct stat st;
    out->fd = -1;
    int rc = open_sub_at(parent->fd, parent->dev, name, &out->fd, &st);
    if (rc == SFS_OK)
        out->dev = st.st_dev;
    return rc;
}

void sfs_close(sfs_dir *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
}

typedef struct {
    sfs_visit_fn fn;
    void *ctx;
    dev_t dev;
    char path[PATH_MAX];
    size_t rel_off; /* where the relative part starts in path */
} walker;

/* Walk the directory open as DIR d, whose path fills w->path[0..plen). */
static int walk_dir(walker *w, DIR *d, size_t plen, int depth)
{
    int dfd = dirfd(d);
    struct dirent *de;
    int rc = 0;
    errno = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if (nm[0] == '.' && (!nm[1] || (nm[1] == '.' && !nm[2])))
            continue;
        size_t nl = strlen(nm);
        if (plen + 1 + nl >= sizeof w->path)
            continue; /* cannot be named in a message: leave it alone */
        w->path[plen] = '/';
        memcpy(w->path + plen + 1, nm, nl + 1);

        sfs_entry e = {.dirfd = dfd, .name = nm, .path = w->path,
                       .rel = w->path + w->rel_off, .depth = depth};
        if (fstatat(dfd, nm, &e.st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* vanished meanwhile */
        if (e.st.st_dev != w->dev)
            continue; /* a file bind-mounted in: not ours */
        if (!S_ISDIR(e.st.st_mode)) {
            int r = w->fn(w->ctx, &e, SFS_VISIT_FILE);
            rc = r < 0 ? r : 0;
            continue;
        }
        int pre = w->fn(w->ctx, &e, SFS_VISIT_DIR_PRE);
        if (pre < 0) {
            rc = pre;
            break;
        }
        if (pre == 1 || depth >= SFS_MAX_DEPTH)
            continue;
        int sub;
        struct stat st2;
        if (open_sub_at(dfd, w->dev, nm, &sub, &st2) != SFS_OK)
            continue; /* a mount point, swapped for a symlink, or gone */
        if (st2.st_ino != e.st.st_ino) {
            close(sub);
            continue; /* replaced between the two looks */
        }
        DIR *sd = fdopendir(sub);
        if (!sd) {
            close(sub);
            continue;
        }
        rc = walk_dir(w, sd, plen + 1 + nl, depth + 1);
        closedir(sd);
        /* the deeper levels reused the buffer: restore our name */
        w->path[plen] = '/';
        memcpy(w->path + plen + 1, nm, nl + 1);
        e.name = nm;
        if (rc == 0) {
            int r = w->fn(w->ctx, &e, SFS_VISIT_DIR_POST);
            rc = r < 0 ? r : 0;
        }
    }
    w->path[plen] = '\0';
    return rc;
}

int sfs_walk(const sfs_dir *root, const char *path, sfs_visit_fn fn,
             void *ctx)
{
    walker w = {.fn = fn, .ctx = ctx, .dev = root->dev};
    size_t plen = strlen(path);
    if (plen >= sizeof w.path) {
        errno = ENAMETOOLONG;
        return SFS_ERR;
    }
    memcpy(w.path, path, plen + 1);
    w.rel_off = plen + 1;
    /* fdopendir owns its descriptor: give it a copy, rewound, so the
     * caller's handle stays open and can be walked again. */
    int fd = fcntl(root->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return SFS_ERR;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        errno = e;
        return SFS_ERR;
    }
    rewinddir(d);
    int rc = walk_dir(&w, d, plen, 1);
    closedir(d);
    return rc;
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           (a->st_mode & S_IFMT) == (b->st_mode & S_IFMT) &&
           a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int sfs_remove_file(int dirfd, const char *name, const struct stat *sel,
                    closeq *cq)
{
    struct stat now;
    if (S_ISLNK(sel->st_mode)) {
        if (fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) != 0)
            return errno == ENOENT ? SFS_GONE : SFS_ERR;
        if (!same_file(sel, &now))
            return SFS_CHANGED;
        if (unlinkat(dirfd, name, 0) != 0)
            return errno == ENOENT ? SFS_GONE : SFS_ERR;
        return SFS_OK;
    }
    if (!S_ISREG(sel->st_mode))
        return SFS_CHANGED;

    int fd = openat(dirfd, name,
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? SFS_GONE
               : errno == ELOOP ? SFS_CHANGED
                                : SFS_ERR;
    int rc = SFS_OK;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK ? SFS_LOCKED : SFS_ERR;
    } else if (fstat(fd, &now) != 0) {
        rc = SFS_ERR;
    } else if (!same_file(sel, &now)) {
        rc = SFS_CHANGED;
    } else {
        struct stat byname;
        if (fstatat(dirfd, name, &byname, AT_SYMLINK_NOFOLLOW) != 0)
            rc = errno == ENOENT ? SFS_GONE : SFS_ERR;
        else if (!same_file(&now, &byname))
            rc = SFS_CHANGED;
        else if (unlinkat(dirfd, name, 0) != 0)
            rc = errno == ENOENT ? SFS_GONE : SFS_ERR;
    }
    int e = errno;
    if (rc == SFS_OK)
        closeq_push(cq, fd); /* frees the blocks, and releases our lock */
    else
        close(fd);
    errno = e;
    return rc;
}

int sfs_remove_dir(int dirfd, const char *name, closeq *cq)
{
    /* Not opened (a symlink, no permission): rmdir frees it inline. */
    int fd = openat(dirfd, name,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int rc = unlinkat(dirfd, name, AT_REMOVEDIR);
    int e = errno;
    if (fd >= 0 && rc == 0)
        closeq_push(cq, fd);
    else if (fd >= 0)
        close(fd);
    errno = e;
    return rc;
}

typedef struct {
    uint64_t bytes;
    struct timespec newest;
} measure_ctx;

static int measure_visit(void *ctx, const sfs_entry *e, int when)
{
    measure_ctx *m = ctx;
    if (when == SFS_VISIT_DIR_POST)
        return 0;
    if (S_ISREG(e->st.st_mode))
        m->bytes += (uint64_t)e->st.st_size;
    if (ts_after(&e->st.st_mtim, &m->newest))
        m->newest = e->st.st_mtim;
    return 0;
}

int sfs_measure_tree(const sfs_dir *parent, const char *name,
                     uint64_t *bytes, struct timespec *newest)
{
    sfs_dir d;
    int fd;
    struct stat st;
    int rc = open_sub_at(parent->fd, parent->dev, name, &fd, &st);
    if (rc != SFS_OK)
        return rc;
    d.fd = fd;
    d.dev = st.st_dev;
    measure_ctx m = {.bytes = 0, .newest = st.st_mtim};
    rc = sfs_walk(&d, name, measure_visit, &m);
    sfs_close(&d);
    if (rc != 0)
        return SFS_ERR;
    *bytes = m.bytes;
    *newest = m.newest;
    return SFS_OK;
}

typedef struct {
    const struct timespec *max;
    closeq *cq;
    uint64_t freed;
    int kept;
} remove_ctx;

static int remove_visit(void *ctx, const sfs_entry *e, int when)
{
    remove_ctx *r = ctx;
    if (when == SFS_VISIT_DIR_PRE)
        return 0;
    if (when == SFS_VISIT_DIR_POST) {
        if (sfs_remove_dir(e->dirfd, e->name, r->cq) != 0 && errno != ENOENT)
            r->kept++;
        return 0;
    }
    if (ts_after(&e->st.st_mtim, r->max)) {
        r->kept++;
        return 0;
    }
    int rc = sfs_remove_file(e->dirfd, e->name, &e->st, r->cq);
    if (rc == SFS_OK) {
        if (S_ISREG(e->st.st_mode))
            r->freed += (uint64_t)e->st.st_size;
    } else if (rc != SFS_GONE) {
        r->kept++;
    }
    return 0;
}

int sfs_remove_tree(const sfs_dir *parent, const char *name,
                    const struct timespec *max_mtime, uint64_t *freed,
                    closeq *cq)
{
    sfs_dir d;
    int fd;
    struct stat st;
    *freed = 0;
    int rc = open_sub_at(parent->fd, parent->dev, name, &fd, &st);
    if (rc != SFS_OK)
        return rc;
    d.fd = fd;
    d.dev = st.st_dev;
    remove_ctx r = {.max = max_mtime, .cq = cq, .freed = 0, .kept = 0};
    rc = sfs_walk(&d, name, remove_visit, &r);
    sfs_close(&d);
    *freed = r.freed;
    if (rc != 0)
        return SFS_ERR;
    if (sfs_remove_dir(parent->fd, name, cq) != 0) {
        if (errno == ENOENT)
            return r.kept ? SFS_KEPT : SFS_OK;
        return errno == ENOTEMPTY || errno == EEXIST ? SFS_KEPT : SFS_ERR;
    }
    return SFS_OK;
}
