/*
 * safefs.h - walking and removing files through directory handles, the way
 * systemd-tmpfiles and tmpreaper do, so a cleanup pass can never be tricked
 * into deleting something outside the tree it was given.
 *
 * Every step below a root is openat/fstatat/unlinkat relative to an open
 * directory handle, with O_NOFOLLOW: a symlink is at most removed itself,
 * never followed. A directory on another filesystem (st_dev differs, or
 * statx says it is a mount root) is never entered. A file is removed only
 * if, right before unlinkat, it is still the very file that was selected
 * (same inode, type, size and mtime) and no other process holds an flock
 * on it.
 */
#ifndef CLAWSWEEP_SAFEFS_H
#define CLAWSWEEP_SAFEFS_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "closeq.h"

/* Results of the calls below (negative = failure). */
enum {
    SFS_OK = 0,
    SFS_GONE = 1,     /* the entry no longer exists */
    SFS_CHANGED = 2,  /* not the same file as selected, or newer than allowed */
    SFS_LOCKED = 3,   /* another process holds an flock on it */
    SFS_NOTDIR = 4,   /* not a real directory (symlink, file, ...) */
    SFS_XDEV = 5,     /* on another filesystem: a mount point */
    SFS_KEPT = 6,     /* a tree was partly kept (something in it stayed) */
    SFS_ERR = -1      /* system error, errno set */
};

/* An open directory: its handle, and the device every descendant must
 * share. */
typedef struct {
    int fd;
    dev_t dev;
} sfs_dir;

/* Open a root the operator named (a symlink here is followed: the operator
 * chose it). Returns SFS_OK, SFS_GONE, SFS_NOTDIR or SFS_ERR. */
int sfs_open_root(const char *path, sfs_dir *out);
/* Open directory name in parent: never through a symlink, never onto
 * another filesystem. SFS_OK, SFS_GONE, SFS_NOTDIR, SFS_XDEV or SFS_ERR. */
int sfs_open_sub(const sfs_dir *parent, const char *name, sfs_dir *out);
void sfs_close(sfs_dir *d);

/* One entry met by sfs_walk. */
typedef struct {
    int dirfd;        /* handle of the directory holding it */
    const char *name; /* its name in dirfd */
    const char *path; /* root path + "/" + relative path, for messages */
    const char *rel;  /* path relative to the walked root */
    struct stat st;   /* lstat as seen during the walk */
    int depth;        /* 1 = a direct child of the root */
} sfs_entry;

enum { SFS_VISIT_FILE, SFS_VISIT_DIR_PRE, SFS_VISIT_DIR_POST };
/* Visitor: return 0 to go on, 1 (on DIR_PRE) to not descend, <0 to stop
 * the walk with that value. Directories on another device and entries
 * that vanish are not visited. */
typedef int (*sfs_visit_fn)(void *ctx, const sfs_entry *e, int when);

/* Walk the contents of root (not root itself), depth first. path names
 * root in messages. Returns 0, the visitor's negative value, or SFS_ERR. */
int sfs_walk(const sfs_dir *root, const char *path, sfs_visit_fn fn,
             void *ctx);

/* Remove regular file or symlink name in dirfd if it is still exactly the
 * file described by sel and not flock'ed by anyone. The descriptor that
 * held the flock is closed through cq (NULL: inline). */
int sfs_remove_file(int dirfd, const char *name, const struct stat *sel,
                    closeq *cq);

/* rmdir name in dirfd (only an empty real directory goes), its last close
 * through cq. 0, or -1 with errno as unlinkat sets it. */
int sfs_remove_dir(int dirfd, const char *name, closeq *cq);

/* Size (bytes of regular files) and newest mtime of a tree (the directory
 * name in parent, itself included). */
int sfs_measure_tree(const sfs_dir *parent, const char *name,
                     uint64_t *bytes, struct timespec *newest);

/* Remove the tree name in parent: files and symlinks whose mtime is not
 * newer than max_mtime (each via sfs_remove_file), then each directory
 * that ends up empty, the top one included. *freed counts bytes of the
 * regular files removed. SFS_OK when all went, SFS_KEPT when something
 * stayed, SFS_GONE, SFS_NOTDIR, SFS_XDEV or SFS_ERR. */
int sfs_remove_tree(const sfs_dir *parent, const char *name,
                    const struct timespec *max_mtime, uint64_t *freed,
                    closeq *cq);

/* Milliseconds since the epoch of a stat's mtime. */
int64_t sfs_mtime_ms(const struct stat *st);

#endif
