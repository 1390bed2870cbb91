/* Unit tests for config.c: durations, retention days, the INI file, the
 * environment, and every error path naming origin and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "testlib.h"

static char *write_conf(const char *dir, const char *text)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/clawsweep.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void durations(void **state)
{
    (void)state;
    int64_t ms;
    struct {
        const char *s;
        int64_t ms;
    } ok[] = {{"500ms", 500}, {"5s", 5000}, {"10m", 600000},
              {"2h", 7200000}, {"7d", 604800000}, {"0s", 0}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(parse_duration_ms(ok[i].s, &ms), 0);
        assert_int_equal(ms, ok[i].ms);
    }
    const char *bad[] = {"", "5", "-5s", "5 s", "1e99s", "5sec", "s", "1.5s",
                         "99999999999999999999s", "9223372036854775807d",
                         "+5s", " 5s", NULL};
    for (int i = 0; bad[i]; i++)
        if (parse_duration_ms(bad[i], &ms) == 0)
            fail_msg("accepted bad duration '%s'", bad[i]);
}

static void days(void **state)
{
    (void)state;
    int d;
    assert_int_equal(parse_days("7d", &d), 0);
    assert_int_equal(d, 7);
    assert_int_equal(parse_days("30", &d), 0);
    assert_int_equal(d, 30);
    const char *bad[] = {"7h", "", "d", "-1d", "1w", "99999999999d", NULL};
    for (int i = 0; bad[i]; i++)
        if (parse_days(bad[i], &d) == 0)
            fail_msg("accepted bad days '%s'", bad[i]);
}

static void defaults_match_spec(void **state)
{
    (void)state;
    cs_config c;
    config_defaults(&c);
    assert_int_equal(c.sweep.mode, MODE_OWN);
    assert_int_equal(c.sweep.interval_ms, 60000);
    assert_int_equal(c.sweep.max_tries, 5);
    assert_int_equal(c.sweep.backoff_base_ms, 5000);
    assert_int_equal(c.sweep.backoff_max_ms, 3600000);
    assert_int_equal(c.sweep.claim_tolerance_ms, 60000);
    assert_int_equal(c.sweep.ceiling_ms, 1800000);
    assert_int_equal(c.sweep.stop_grace_ms, 10000);
    assert_int_equal(c.sweep.max_concurrent, 5);
    assert_int_equal(c.sweep.busy_timeout_ms, 1000);
    assert_int_equal(c.runtime.cli_timeout_ms, 30000);
    assert_string_equal(c.runtime.agent, "clawsweep-agent");
    assert_int_equal(c.cleanup.transcripts, 7);
    assert_int_equal(c.cleanup.debug, 3);
    assert_int_equal(c.cleanup.inbox, 30);
    assert_int_equal(c.cleanup.orphan_sessions, 14);
}

static void file_values_applied(void **state)
{
    (void)state;
    char *dir = tl_tmpdir("conf");
    char *path = write_conf(dir,
                            "[sweep]\n"
                            "mode = observe   ; inline comment\n"
                            "ceiling = 45m\n"
                            "backoff_jitter = full\n"
                            "max_concurrent = 12\n"
                            "# a comment\n"
                            "[cleanup]\n"
                            "transcripts = 9d\n"
                            "debug = 4\n"
                            "[log]\nformat = json\nlevel = debug\n"
                            "[recurrence]\ntimezone =\n");
    cs_config c;
    char err[512];
    config_defaults(&c);
    assert_int_equal(config_read_file(&c, path, err, sizeof err), 0);
    assert_int_equal(c.sweep.mode, MODE_OBSERVE);
    assert_int_equal(c.sweep.ceiling_ms, 45 * 60000);
    assert_int_equal(c.sweep.backoff_jitter, JITTER_FULL);
    assert_int_equal(c.sweep.max_concurrent, 12);
    assert_int_equal(c.cleanup.transcripts, 9);
    assert_int_equal(c.cleanup.debug, 4);
    assert_int_equal(c.log.format, LOG_JSON);
    assert_int_equal(c.log.level, LOG_DEBUG);
    assert_string_equal(c.recurrence.timezone, "");
    tl_rm_rf(dir);
    free(dir);
}

static void expect_file_error(const char *text, const char *must1,
                              const char *must2)
{
    char *dir = tl_tmpdir("conf");
    char *path = write_conf(dir, text);
    cs_config c;
    char err[1024] = "";
    config_defaults(&c);
    if (config_read_file(&c, path, err, sizeof err) == 0)
        fail_msg("accepted config:\n%s", text);
    if (!strstr(err, must1) || (must2 && !strstr(err, must2)))
        fail_msg("error '%s' lacks '%s'/'%s'", err, must1, must2 ? must2 : "");
    if (!strstr(err, path))
        fail_msg("error '%s' does not name the file", err);
    tl_rm_rf(dir);
    free(dir);
}

static void file_errors_name_line_and_key(void **state)
{
    (void)state;
    expect_file_error("[sweep]\nbogus = 1\n", ":2:", "bogus");
    expect_file_error("[sweep]\n\nceiling = 10\n", ":3:", "sweep.ceiling");
    expect_file_error("[nope]\nx = 1\n", ":2:", "[nope]");
    expect_file_error("[sweep]\nceiling = 5m\nceiling = 6m\n", ":3:", "duplicate");
    expect_file_error("[sweep]\nmax_tries = 0\n", ":2:", "sweep.max_tries");
    expect_file_error("[sweep]\nmax_tries = -1\n", ":2:", "max_tries");
    expect_file_error("[sweep]\nmax_tries = 99999999999999\n", ":2:", "max_tries");
    expect_file_error("[sweep]\ninterval = 1e99s\n", ":2:", "interval");
    expect_file_error("[sweep]\ninterval =\n", ":2:", "interval");
    expect_file_error("[sweep]\nmode = maybe\n", ":2:", "own | observe");
    expect_file_error("[cleanup]\ntranscripts = 7h\n", ":2:", "whole days");
    expect_file_error("[runtime]\nkind = lxc\n", ":2:", "runtime.kind");
    expect_file_error("[log]\nlevel = loud\n", ":2:", "log.level");
    expect_file_error("[sweep]\nthis is not ini\n", ":2:", "syntax");
    expect_file_error("[sweep]\nstop_grace = 11m\n", ":2:", "out of range");
}

static void config_that_is_a_directory(void **state)
{
    (void)state;
    char *dir = tl_tmpdir("conf");
    cs_config c;
    char err[512];
    config_defaults(&c);
    assert_int_equal(config_read_file(&c, dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a regular file"));
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/none.conf", dir);
    assert_int_equal(config_read_file(&c, missing, err, sizeof err), -1);
    assert_non_null(strstr(err, "none.conf"));
    tl_rm_rf(dir);
    free(dir);
}

static void environment_overrides(void **state)
{
    (void)state;
    cs_config c;
    char err[512];
    config_defaults(&c);
    char *env[] = {"CLAWSWEEP_SWEEP_CEILING=45m", "CLAWSWEEP_RUNTIME_KIND=exec",
                   "CLAWSWEEP_CLEANUP_DEBUG=9d", "CLAWSWEEP_DATA_DIR=/x",
                   "CLAWSWEEP_SOMETHING_ELSE=1", "PATH=/bin", NULL};
    assert_int_equal(config_read_env(&c, env, err, sizeof err), 0);
    assert_int_equal(c.sweep.ceiling_ms, 45 * 60000);
    assert_int_equal(c.runtime.kind, RT_EXEC);
    assert_int_equal(c.cleanup.debug, 9);

    char *bad_key[] = {"CLAWSWEEP_SWEEP_NOPE=1", NULL};
    assert_int_equal(config_read_env(&c, bad_key, err, sizeof err), -1);
    assert_non_null(strstr(err, "CLAWSWEEP_SWEEP_NOPE"));
    char *bad_val[] = {"CLAWSWEEP_SWEEP_CEILING=forever", NULL};
    assert_int_equal(config_read_env(&c, bad_val, err, sizeof err), -1);
    assert_non_null(strstr(err, "sweep.ceiling"));
}

static void finish_checks_cross_rules(void **state)
{
    (void)state;
    cs_config c;
    char err[512];
    config_defaults(&c);
    snprintf(c.data_dir, sizeof c.data_dir, "/srv/nanoclaw/data/");
    assert_int_equal(config_finish(&c, err, sizeof err), 0);
    assert_string_equal(c.data_dir, "/srv/nanoclaw/data");
    assert_string_equal(c.cleanup.groups_dir, "/srv/nanoclaw/data/../groups");
    assert_string_equal(c.cleanup.store_db,
                        "/srv/nanoclaw/data/../store/messages.db");

    config_defaults(&c);
    c.sweep.backoff_base_ms = 10000;
    c.sweep.backoff_max_ms = 5000;
    assert_int_equal(config_finish(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "backoff_base"));

    config_defaults(&c);
    c.runtime.kind = RT_EXEC;
    assert_int_equal(config_finish(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "runtime.start_cmd"));

    config_defaults(&c);
    c.runtime.kind = RT_PODMAN;
    assert_int_equal(config_finish(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "runtime.image"));

    config_defaults(&c);
    snprintf(c.runtime.args, sizeof c.runtime.args, "--env \"A=b c");
    assert_int_equal(config_finish(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "runtime.args"));
}

static void load_in_order_of_precedence(void **state)
{
    (void)state;
    char *dir = tl_tmpdir("conf");
    write_conf(dir, "[sweep]\nceiling = 10m\ninterval = 30s\n[log]\nformat = json\n");
    config_inputs in = {.log_format = LOG_TEXT, .log_level = -1};
    snprintf(in.data_dir, sizeof in.data_dir, "%s", dir);
    char *env[] = {"CLAWSWEEP_SWEEP_CEILING=20m", NULL};
    cs_config c;
    char err[512];
    assert_int_equal(config_load(&in, env, &c, err, sizeof err), 0);
    assert_int_equal(c.sweep.interval_ms, 30000);   /* file over default */
    assert_int_equal(c.sweep.ceiling_ms, 20 * 60000); /* env over file */
    assert_int_equal(c.log.format, LOG_TEXT);         /* flag over file */
    assert_int_equal(c.log.level, LOG_INFO);          /* default */
    assert_non_null(strstr(c.config_path, "clawsweep.conf"));
    /* a reload from the kept inputs gives the same configuration */
    cs_config again;
    assert_int_equal(config_load(&c.inputs, env, &again, err, sizeof err), 0);
    assert_string_equal(again.data_dir, c.data_dir);
    assert_int_equal(again.log.format, LOG_TEXT);
    assert_int_equal(again.sweep.ceiling_ms, 20 * 60000);
    /* the data dir from the environment when no flag names one */
    config_inputs none = {.log_format = -1, .log_level = -1};
    char envdir[4200];
    snprintf(envdir, sizeof envdir, "CLAWSWEEP_DATA_DIR=%s", dir);
    char *env2[] = {envdir, NULL};
    assert_int_equal(config_load(&none, env2, &again, err, sizeof err), 0);
    assert_string_equal(again.data_dir, c.data_dir);
    assert_int_equal(again.log.format, LOG_JSON);
    tl_rm_rf(dir);
    free(dir);
}

static void cli_config_errors_exit_2(void **state)
{
    (void)state;
    char *dir = tl_tmpdir("conf");
    char *path = write_conf(dir, "[sweep]\nceiling = soon\n");
    char *err = NULL;
    char *argv[] = {(char *)tl_clawsweep_bin(), "-c", path, "status", NULL};
    assert_int_equal(tl_run(argv, NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "sweep.ceiling"));
    assert_non_null(strstr(err, ":2:"));
    free(err);
    char *empty = tl_tmpdir("conf-empty");
    char *argv3[] = {(char *)tl_clawsweep_bin(), "-d", empty, "status", NULL};
    char *env[] = {"CLAWSWEEP_SWEEP_BOGUS=1", NULL};
    assert_int_equal(tl_run(argv3, env, NULL, &err), 2);
    assert_non_null(strstr(err, "CLAWSWEEP_SWEEP_BOGUS"));
    free(err);
    tl_rm_rf(empty);
    free(empty);
    char *argv2[] = {(char *)tl_clawsweep_bin(), "-d", dir, "status", NULL};
    /* the data dir's clawsweep.conf is read without -c */
    assert_int_equal(tl_run(argv2, NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "clawsweep.conf:2:"));
    free(err);
    tl_rm_rf(dir);
    free(dir);
}

static void cli_usage_errors_exit_2(void **state)
{
    (void)state;
    const char *bin = tl_clawsweep_bin();
    char *cases[][6] = {
        {(char *)bin, NULL},
        {(char *)bin, "frobnicate", NULL},
        {(char *)bin, "--bogus", "status", NULL},
        {(char *)bin, "-d", NULL},
        {(char *)bin, "sweep", "--bogus", NULL},
        {(char *)bin, "sweep", "extra", NULL},
        {(char *)bin, "requeue", NULL},
        {(char *)bin, "requeue", "only-one", NULL},
        {(char *)bin, "requeue", "a", "b", "c", NULL},
        {(char *)bin, "requeue", "../etc", "m", NULL},
        {(char *)bin, "failed", "a", "b", NULL},
        {(char *)bin, "status", "--now", "yesterday", NULL},
        {(char *)bin, "--log-format", "xml", "status", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *err = NULL;
        int rc = tl_run(cases[i], NULL, NULL, &err);
        if (rc != 2 || strlen(err) == 0)
            fail_msg("case %zu (%s): exit %d, stderr '%s'", i,
                     cases[i][1] ? cases[i][1] : "(none)", rc, err);
        free(err);
    }
    char *out = NULL;
    char *help[] = {(char *)bin, "--help", NULL};
    assert_int_equal(tl_run(help, NULL, &out, NULL), 0);
    assert_non_null(strstr(out, "requeue SESSION MESSAGE"));
    free(out);
    char *ver[] = {(char *)bin, "--version", NULL};
    assert_int_equal(tl_run(ver, NULL, &out, NULL), 0);
    assert_non_null(strstr(out, "clawsweep "));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations),
        cmocka_unit_test(days),
        cmocka_unit_test(defaults_match_spec),
        cmocka_unit_test(file_values_applied),
        cmocka_unit_test(file_errors_name_line_and_key),
        cmocka_unit_test(config_that_is_a_directory),
        cmocka_unit_test(environment_overrides),
        cmocka_unit_test(finish_checks_cross_rules),
        cmocka_unit_test(load_in_order_of_precedence),
        cmocka_unit_test(cli_config_errors_exit_2),
        cmocka_unit_test(cli_usage_errors_exit_2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
