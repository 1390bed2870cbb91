/*
 * test_cleanup_cli.c - `clawsweep cleanup` run as a program (SPEC §6, §7):
 * text and JSON output, --only, --dry-run, exit statuses, the cleanup lock.
 * The janitor's selection rules are covered by test_cleanup.c; this checks
 * the command around it, on a real tree, through the built binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "util.h"

#define DAY (86400LL * 1000)
#define PJ(buf, ...) assert_int_equal(path_join(buf, sizeof buf, __VA_ARGS__), 0)

typedef struct {
    char *tmp;
    char data[PATH_MAX], env_groups[PATH_MAX + 64], env_store[PATH_MAX + 64];
    char old_debug[PATH_MAX], old_log[PATH_MAX], new_log[PATH_MAX];
} fx;

static void fx_init(fx *f)
{
    memset(f, 0, sizeof *f);
    f->tmp = tl_tmpdir("cleanup-cli");
    PJ(f->data, "%s/data", f->tmp);
    tl_datadir_init(f->data);
    char store[PATH_MAX];
    PJ(store, "%s/store", f->tmp);
    assert_int_equal(mkdir_p(store), 0);
    PJ(store, "%s/store/messages.db", f->tmp);
    tl_sql(store, "CREATE TABLE sessions (group_folder TEXT, session_id "
                  "TEXT); INSERT INTO sessions VALUES ('main', 'act-1');");
    PJ(f->env_store, "CLAWSWEEP_CLEANUP_STORE_DB=%s", store);
    PJ(f->env_groups, "CLAWSWEEP_CLEANUP_GROUPS_DIR=%s/groups", f->tmp);
    int64_t now = tl_now_ms();
    PJ(f->old_debug, "%s/sessions/main/.claude/debug/old.txt", f->data);
    tl_put_file(f->old_debug, 30, now - 10 * DAY);
    PJ(f->old_log, "%s/groups/g/logs/old.log", f->tmp);
    tl_put_file(f->old_log, 20, now - 10 * DAY);
    PJ(f->new_log, "%s/groups/g/logs/new.log", f->tmp);
    tl_put_file(f->new_log, 20, now - 1 * DAY);
}

static void fx_free(fx *f)
{
    tl_rm_rf(f->tmp);
    free(f->tmp);
}

/* clawsweep -d DATA cleanup ARGS... */
static int cleanup(fx *f, const char *a1, const char *a2, const char *a3,
                   char **out, char **err)
{
    char *argv[10] = {(char *)tl_clawsweep_bin(), "-d", f->data, "cleanup"};
    int k = 4;
    if (a1)
        argv[k++] = (char *)a1;
    if (a2)
        argv[k++] = (char *)a2;
    if (a3)
        argv[k++] = (char *)a3;
    char *env[] = {f->env_groups, f->env_store, NULL};
    return tl_run(argv, env, out, err);
}

static void test_text_output(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    char *out = NULL, *err = NULL;
    assert_int_equal(cleanup(&f, "--dry-run", NULL, NULL, &out, &err), 0);
    /* each path with its type and size, then totals */
    assert_non_null(strstr(out, f.old_debug));
    assert_non_null(strstr(out, f.old_log));
    assert_null(strstr(out, f.new_log));
    assert_non_null(strstr(out, "debug"));
    assert_non_null(strstr(out, "group_logs"));
    assert_non_null(strstr(out, "total"));
    assert_non_null(strstr(out, "50")); /* 30 + 20 bytes */
    assert_true(tl_exists(f.old_debug));
    assert_true(tl_exists(f.old_log));
    free(out);
    free(err);

    assert_int_equal(cleanup(&f, NULL, NULL, NULL, &out, &err), 0);
    assert_non_null(strstr(out, f.old_log));
    assert_false(tl_exists(f.old_debug));
    assert_false(tl_exists(f.old_log));
    assert_true(tl_exists(f.new_log));
    free(out);
    free(err);
    fx_free(&f);
}

static void test_json_output(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    char *out = NULL, *err = NULL;
    assert_int_equal(cleanup(&f, "--json", "--only", "group_logs", &out,
                             &err), 0);
    cJSON *doc = cJSON_Parse(out);
    if (!doc)
        fail_msg("not one JSON document: %s", out);
    cJSON *entries = cJSON_GetObjectItem(doc, "entries");
    assert_int_equal(cJSON_GetArraySize(entries), 1);
    cJSON *e = cJSON_GetArrayItem(entries, 0);
    assert_string_equal(cJSON_GetObjectItem(e, "type")->valuestring,
                        "group_logs");
    assert_string_equal(cJSON_GetObjectItem(e, "path")->valuestring,
                        f.old_log);
    assert_int_equal(cJSON_GetObjectItem(e, "bytes")->valueint, 20);
    cJSON *totals = cJSON_GetObjectItem(doc, "totals");
    assert_non_null(cJSON_GetObjectItem(totals, "group_logs"));
    assert_null(cJSON_GetObjectItem(totals, "debug")); /* not selected */
    cJSON *total = cJSON_GetObjectItem(doc, "total");
    assert_int_equal(cJSON_GetObjectItem(total, "entries")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(total, "bytes")->valueint, 20);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(doc, "dry_run")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "errors")),
                     0);
    cJSON_Delete(doc);
    assert_false(tl_exists(f.old_log));
    assert_true(tl_exists(f.old_debug)); /* --only left it */
    free(out);
    free(err);
    fx_free(&f);
}

static void test_bad_usage(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    char *out = NULL, *err = NULL;
    assert_int_equal(cleanup(&f, "--only", "debug,bogus", NULL, &out, &err),
                     2);
    assert_non_null(strstr(err, "bogus"));
    free(out);
    free(err);
    assert_int_equal(cleanup(&f, "--frobnicate", NULL, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "--frobnicate"));
    free(out);
    free(err);
    assert_int_equal(cleanup(&f, "--only", NULL, NULL, &out, &err), 2);
    free(out);
    free(err);
    assert_true(tl_exists(f.old_log));
    fx_free(&f);
}

/* An unreadable active set: exit 1, error naming the file, JSON errors. */
static void test_unreadable_set_exit_1(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    char store[PATH_MAX];
    PJ(store, "%s/store/messages.db", f.tmp);
    assert_int_equal(unlink(store), 0);
    char *out = NULL, *err = NULL;
    assert_int_equal(cleanup(&f, "--json", NULL, NULL, &out, &err), 1);
    assert_non_null(strstr(err, store));
    cJSON *doc = cJSON_Parse(out);
    assert_non_null(doc);
    cJSON *errors = cJSON_GetObjectItem(doc, "errors");
    assert_true(cJSON_GetArraySize(errors) >= 1);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(errors, 0), "file")->valuestring,
        store);
    cJSON *skipped = cJSON_GetObjectItem(doc, "skipped");
    assert_true(cJSON_GetArraySize(skipped) >= 1);
    cJSON_Delete(doc);
    assert_true(tl_exists(f.old_debug)); /* never "nothing is active" */
    assert_false(tl_exists(f.old_log));  /* the rest went on */
    free(out);
    free(err);
    fx_free(&f);
}

/* Two passes never overlap: a held cleanup.lock makes the second exit 1. */
static void test_lock_held_exit_1(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    char lock[PATH_MAX];
    PJ(lock, "%s/clawsweep", f.data);
    assert_int_equal(mkdir_p(lock), 0);
    PJ(lock, "%s/clawsweep/cleanup.lock", f.data);
    int fd = open(lock, O_RDWR | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    char *out = NULL, *err = NULL;
    assert_int_equal(cleanup(&f, NULL, NULL, NULL, &out, &err), 1);
    assert_non_null(strstr(err, "cleanup.lock"));
    assert_true(tl_exists(f.old_log));
    free(out);
    free(err);
    /* a dry run needs no lock */
    assert_int_equal(cleanup(&f, "--dry-run", NULL, NULL, &out, &err), 0);
    assert_non_null(strstr(out, f.old_log));
    free(out);
    free(err);
    close(fd);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_output),
        cmocka_unit_test(test_json_output),
        cmocka_unit_test(test_bad_usage),
        cmocka_unit_test(test_unreadable_set_exit_1),
        cmocka_unit_test(test_lock_held_exit_1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
