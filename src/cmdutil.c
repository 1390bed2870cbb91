/*
 * cmdutil.c - shared command plumbing (see cmdutil.h).
 */
#include "cmdutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int cmd_take_lock(const cs_config *cfg, const char *name)
{
    char dir[PATH_MAX], path[PATH_MAX];
    if (path_join(dir, sizeof dir, "%s/clawsweep", cfg->data_dir) != 0 ||
        path_join(path, sizeof path, "%s/%s", dir, name) != 0) {
        fprintf(stderr, "clawsweep: %s: path too long\n", cfg->data_dir);
        return -1;
    }
    if (mkdir_p(dir) != 0) {
        fprintf(stderr, "clawsweep: cannot create %s: %s\n", dir,
                strerror(errno));
        return -1;
    }
    int fd = lock_file(path);
    if (fd < 0) {
        if (errno == EWOULDBLOCK)
            fprintf(stderr,
                    "clawsweep: another clawsweep is already working on %s "
                    "(%s is locked)\n",
                    cfg->data_dir, path);
        else
            fprintf(stderr, "clawsweep: cannot lock %s: %s\n", path,
                    strerror(errno));
    }
    return fd;
}

int cmd_scan(int argc, char **argv, const char *const *flags, int *seen,
             char **values, char **pos, int max_pos, const char *usage)
{
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] != '\0') {
            int matched = 0;
            for (int f = 0; flags && flags[f] && !matched; f++) {
                size_t fl = strlen(flags[f]);
                int takes_value = fl > 0 && flags[f][fl - 1] == '=';
                if (!takes_value) {
                    if (!strcmp(a, flags[f]))
                        seen[f] = matched = 1;
                    continue;
                }
                if (!strncmp(a, flags[f], fl)) { /* --now=X */
                    values[f] = argv[i] + fl;
                } else if (!strncmp(a, flags[f], fl - 1) && a[fl - 1] == '\0') {
                    if (i + 1 >= argc) {
                        fprintf(stderr,
                                "clawsweep %s: option '%s' needs a value\n"
                                "usage: %s\n",
                                argv[0], a, usage);
                        return -1;
                    }
                    values[f] = argv[++i];
                } else {
                    continue;
                }
                seen[f] = matched = 1;
            }
            if (!matched) {
                fprintf(stderr, "clawsweep %s: unknown option '%s'\nusage: %s\n",
                        argv[0], a, usage);
                return -1;
            }
            continue;
        }
        if (npos >= max_pos) {
            fprintf(stderr, "clawsweep %s: unexpected argument '%s'\nusage: %s\n",
                    argv[0], a, usage);
            return -1;
        }
        pos[npos++] = argv[i];
    }
    return npos;
}

int cmd_print_json(cJSON *doc)
{
    char *text = doc ? cJSON_Print(doc) : NULL;
    cJSON_Delete(doc);
    if (!text) {
        fprintf(stderr, "clawsweep: out of memory writing JSON\n");
        return -1;
    }
    fputs(text, stdout);
    fputc('\n', stdout);
    free(text);
    return 0;
}
