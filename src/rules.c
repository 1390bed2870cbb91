/*
 * rules.c - SPEC §2 decisions, pure. Each function reads like the SPEC
 * sentence it implements; sweep.c supplies the facts.
 */
#include "rules.h"

#include <string.h>

int64_t rules_backoff_ms(const cs_config *cfg, int tries_before,
                         uint64_t rand64)
{
    int64_t cap = cfg->sweep.backoff_max_ms;
    int64_t d = cfg->sweep.backoff_base_ms;
    for (int i = 0; i < tries_before && d < cap; i++)
        d = d > cap / 2 ? cap : d * 2;
    if (d > cap)
        d = cap;
    if (cfg->sweep.backoff_jitter == JITTER_FULL)
        d = (int64_t)(rand64 % (uint64_t)(d + 1));
    return d;
}

int64_t rules_start_backoff_ms(const cs_config *cfg, int failures)
{
    const int64_t cap = 5 * 60 * 1000;
    int64_t d = cfg->sweep.backoff_base_ms;
    for (int i = 0; i < failures && d < cap; i++)
        d = d > cap / 2 ? cap : d * 2;
    return d > cap ? cap : d;
}

int rules_can_wake(int trigger, const char *kind)
{
    return trigger == 1 && !(kind && strcmp(kind, "system") == 0);
}

int rules_is_due(const char *status, int trigger, const char *kind,
                 int has_process_after, int64_t after_ms, int64_t now_ms)
{
    if (!status || strcmp(status, "pending") != 0 ||
        !rules_can_wake(trigger, kind))
        return 0;
    if (!has_process_after)
        return 1;
    return after_ms != TIME_UNKNOWN && after_ms <= now_ms;
}

reset_decision rules_reset_claim(const cs_config *cfg, const char *status,
                                 int tries, int has_process_after,
                                 int64_t after_ms, int64_t now_ms,
                                 uint64_t rand64)
{
    reset_decision d = {RESET_NOTHING, tries, 0};
    if (!status || strcmp(status, "pending") != 0)
        return d;
    if (has_process_after && after_ms != TIME_UNKNOWN && after_ms > now_ms) {
        d.action = RESET_SKIP_FUTURE;
        return d;
    }
    if (tries >= cfg->sweep.max_tries) {
        d.action = RESET_DEAD_LETTER;
        return d;
    }
    d.action = RESET_RETRY;
    d.new_tries = tries + 1;
    d.new_process_after_ms = now_ms + rules_backoff_ms(cfg, tries, rand64);
    return d;
}

const char *rules_stuck_name(stuck_reason r)
{
    switch (r) {
    case STUCK_CEILING:
        return "absolute-ceiling";
    case STUCK_NO_HEARTBEAT:
        return "no-heartbeat";
    case STUCK_CLAIM:
        return "claim-stuck";
    default:
        return "none";
    }
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* Whole seconds, rounded down (also for times before 1970). */
static int64_t whole_seconds(int64_t ms)
{
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

static int heartbeat_after(int64_t hb_ms, int64_t changed_ms)
{
    return hb_ms != TIME_UNKNOWN &&
           whole_seconds(hb_ms) > whole_seconds(changed_ms);
}

stuck_reason rules_stuck(const cs_config *cfg, const stuck_input *in,
                         size_t *claim_index)
{
    if (in->started_this_tick)
        return STUCK_NONE;
    if (in->now_ms < in->stops_suppressed_until_ms)
        return STUCK_NONE;
    const int64_t ceiling = max64(cfg->sweep.ceiling_ms, in->bash_timeout_ms);
    const int64_t tolerance =
        max64(cfg->sweep.claim_tolerance_ms, in->bash_timeout_ms);

    if (in->heartbeat_ms != TIME_UNKNOWN &&
        in->now_ms - in->heartbeat_ms > ceiling)
        return STUCK_CEILING;
    if (in->heartbeat_ms == TIME_UNKNOWN && in->started_ms != TIME_UNKNOWN &&
        in->now_ms - in->started_ms > cfg->sweep.ceiling_ms)
        return STUCK_NO_HEARTBEAT;
    for (size_t i = 0; i < in->nclaims; i++) {
        int64_t changed = in->claim_changed_ms[i];
        if (changed == TIME_UNKNOWN)
            continue; /* a claim with an unknown time is never stuck */
        if (in->now_ms - changed > tolerance &&
            !heartbeat_after(in->heartbeat_ms, changed)) {
            if (claim_index)
                *claim_index = i;
            return STUCK_CLAIM;
        }
    }
    return STUCK_NONE;
}

int64_t rules_stuck_deadline(const cs_config *cfg, const stuck_input *in)
{
    int64_t next = INT64_MAX;
    if (in->now_ms < in->stops_suppressed_until_ms)
        next = in->stops_suppressed_until_ms;
    const int64_t ceiling = max64(cfg->sweep.ceiling_ms, in->bash_timeout_ms);
    const int64_t tolerance =
        max64(cfg->sweep.claim_tolerance_ms, in->bash_timeout_ms);
    int64_t t;
    if (in->heartbeat_ms != TIME_UNKNOWN) {
        t = in->heartbeat_ms + ceiling + 1;
        if (t > in->now_ms && t < next)
            next = t;
    } else if (in->started_ms != TIME_UNKNOWN) {
        t = in->started_ms + cfg->sweep.ceiling_ms + 1;
        if (t > in->now_ms && t < next)
            next = t;
    }
    for (size_t i = 0; i < in->nclaims; i++) {
        int64_t changed = in->claim_changed_ms[i];
        if (changed == TIME_UNKNOWN || heartbeat_after(in->heartbeat_ms, changed))
            continue;
        t = changed + tolerance + 1;
        if (t > in->now_ms && t < next)
            next = t;
    }
    return next;
}
