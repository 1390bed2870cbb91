/*
 * fuzz_config.c - libFuzzer target for the config file reader (SPEC §9):
 * inih plus config_set's per-key parsing, then config_finish's cross-key
 * rules, exactly as `clawsweep -c FILE` runs them.
 *
 * The input is written to a memfd and read back through /proc/self/fd,
 * so the real file path (fopen, fstat, line counting) is exercised.
 * Beyond "no crash, no UB": a failure always leaves a message, and a
 * config that is accepted holds every value inside its documented range.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ranges(const cs_config *c)
{
    if (c->sweep.max_tries < 1 || c->sweep.max_concurrent < 1 ||
        c->sweep.interval_ms < 100 || c->sweep.backoff_base_ms < 1 ||
        c->sweep.backoff_base_ms > c->sweep.backoff_max_ms ||
        c->sweep.claim_tolerance_ms < 1000 || c->sweep.ceiling_ms < 1000 ||
        c->sweep.stop_grace_ms < 0 || c->sweep.busy_timeout_ms < 0 ||
        c->sweep.busy_timeout_ms > 60000 || c->cleanup.transcripts < 0 ||
        c->cleanup.orphan_sessions < 0 || c->runtime.cli_timeout_ms < 100)
        abort();
    if (memchr(c->recurrence.timezone, '\0', sizeof c->recurrence.timezone) ==
            NULL ||
        memchr(c->runtime.agent, '\0', sizeof c->runtime.agent) == NULL ||
        memchr(c->cleanup.store_db, '\0', sizeof c->cleanup.store_db) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz-config", 0)) < 0)
        abort();
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    cs_config c;
    char err[2048];
    config_defaults(&c);
    snprintf(c.data_dir, sizeof c.data_dir, "/nonexistent/fuzz-data");
    err[0] = '\0';
    if (config_read_file(&c, path, err, sizeof err) != 0) {
        if (err[0] == '\0')
            abort();
        return 0;
    }
    err[0] = '\0';
    if (config_finish(&c, err, sizeof err) != 0) {
        if (err[0] == '\0')
            abort();
        return 0;
    }
    check_ranges(&c);
    return 0;
}
