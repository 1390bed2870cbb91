/*
 * bench_cron.c - parse + next throughput of the cron engine on the vector
 * table (tests/oracle/cron_vectors.txt): each round parses every vector's
 * expression and computes its five next fire times, as cron_bench.js does
 * with npm cron-parser. Zones are loaded once, outside the timing (the
 * daemon loads its zone once too). With a third argument "oracle", only
 * the vectors cron-parser gets right are used (its wrong DST answers are
 * also its slowest). Prints one line: "c <vectors/s> ...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "timefmt.h"
#include "tz.h"

#define MAX_VEC 4096
#define MAX_ZONES 32

typedef struct {
    char expr[128];
    int zone;
    int64_t from;
    int64_t want5;
} vec;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "tests/oracle/cron_vectors.txt";
    double min_time = argc > 2 ? atof(argv[2]) : 2.0;
    int oracle_only = argc > 3 && strcmp(argv[3], "oracle") == 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    static vec v[MAX_VEC];
    char names[MAX_ZONES][64];
    tz_info *zones[MAX_ZONES];
    int nv = 0, nz = 0;
    char line[1024];
    while (nv < MAX_VEC && fgets(line, sizeof line, f)) {
        char *fld[6], *p = line;
        int k = 0;
        if (line[0] != 'V')
            continue;
        line[strcspn(line, "\n")] = '\0';
        while (k < 6 && p) {
            fld[k++] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = '\0';
        }
        if (k != 6 || (oracle_only && strcmp(fld[1], "oracle") != 0))
            continue;
        int z;
        for (z = 0; z < nz && strcmp(names[z], fld[3]) != 0; z++)
            ;
        if (z == nz) {
            char err[256];
            if (nz == MAX_ZONES ||
                tz_load(fld[3], &zones[nz], err, sizeof err) != 0) {
                fprintf(stderr, "zone %s: %s\n", fld[3], err);
                return 1;
            }
            snprintf(names[nz++], sizeof names[0], "%s", fld[3]);
        }
        vec *x = &v[nv++];
        snprintf(x->expr, sizeof x->expr, "%s", fld[2]);
        x->zone = z;
        if (timefmt_parse(fld[4], &x->from) != 0 ||
            timefmt_parse(strrchr(fld[5], ' ') + 1, &x->want5) != 0) {
            fprintf(stderr, "bad vector line\n");
            return 1;
        }
    }
    fclose(f);

    long rounds = 0;
    int64_t check = 0;
    double t0 = now_s(), el;
    do {
        for (int i = 0; i < nv; i++) {
            cron_expr e;
            int64_t at = v[i].from;
            if (cron_parse(v[i].expr, &e, NULL, 0) != CRON_OK)
                return 1;
            for (int k = 0; k < 5; k++)
                if (cron_next(&e, zones[v[i].zone], at, &at) != CRON_OK)
                    return 1;
            if (at != v[i].want5) {
                fprintf(stderr, "wrong answer for '%s'\n", v[i].expr);
                return 1;
            }
            check += at & 1;
        }
        rounds++;
        el = now_s() - t0;
    } while (el < min_time);
    printf("c %.0f vectors/s (%d vectors x %ld rounds in %.2f s, 5 next each)%s\n",
           (double)nv * rounds / el, nv, rounds, el, check ? "!" : "");
    for (int z = 0; z < nz; z++)
        tz_free(zones[z]);
    return 0;
}
