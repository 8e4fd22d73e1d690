/* test_things.c - thing registry rules (AWS limits), and a round trip
 * through a real SQLite store. */
#include "iotcored/error.h"
#include "iotcored/things.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char why[256];

START_TEST(names_and_attributes) {
    ic_things_t *t = ic_things_new(NULL);
    ic_attr_t four[4] = {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}};
    ic_attr_t bad_key = {"sp ace", "x"}, bad_val = {"k", "no spaces"};
    ic_attr_t ok[2] = {{"serial.no", "A-1/2@x:y#z=[0]"}, {"k", "v"}};
    char long_name[130];
    const ic_thing_t *th;
    memset(long_name, 'x', 129);
    long_name[129] = '\0';
    ck_assert(ic_things_is_valid_name("dev:1_a-b"));
    ck_assert(!ic_things_is_valid_name("dev 1"));
    ck_assert(!ic_things_is_valid_name(""));
    ck_assert(!ic_things_is_valid_name(long_name));
    long_name[128] = '\0';
    ck_assert(ic_things_is_valid_name(long_name));
    ck_assert_int_eq(ic_things_create(t, "bad name", NULL, NULL, 0, 1, why, sizeof(why)),
                     IC_EINVAL);
    ck_assert_int_eq(ic_things_create(t, "d1", NULL, &bad_key, 1, 1, why, sizeof(why)),
                     IC_EINVAL);
    ck_assert_int_eq(ic_things_create(t, "d1", NULL, &bad_val, 1, 1, why, sizeof(why)),
                     IC_EINVAL);
    /* 3 attributes without a type, 50 with one */
    ck_assert_int_eq(ic_things_create(t, "d1", NULL, four, 4, 1, why, sizeof(why)),
                     IC_EINVAL);
    ck_assert_int_eq(ic_things_create(t, "d1", NULL, ok, 2, 1, why, sizeof(why)), 0);
    th = ic_things_get(t, "d1");
    ck_assert_int_eq((int)th->n_attrs, 2);
    ck_assert_int_eq((int)th->version, 1);
    ck_assert_int_eq((int)strlen(th->id), 36);
    /* same configuration again: fine; different: exists */
    ck_assert_int_eq(ic_things_create(t, "d1", NULL, ok, 2, 1, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_things_create(t, "d1", NULL, ok, 1, 1, why, sizeof(why)),
                     IC_EEXIST);
    ic_things_free(t);
}
END_TEST

START_TEST(updates_versions_and_types) {
    ic_things_t *t = ic_things_new(NULL);
    ic_attr_t a = {"color", "red"}, rm = {"color", ""}, b = {"size", "L"};
    const ic_thing_t *th;
    ck_assert_int_eq(ic_things_create(t, "d", NULL, &a, 1, 1, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_things_update(t, "d", NULL, &b, 1, true, 1, why, sizeof(why)), 0);
    th = ic_things_get(t, "d");
    ck_assert_int_eq((int)th->n_attrs, 2);
    ck_assert_int_eq((int)th->version, 2);
    ck_assert_int_eq(ic_things_update(t, "d", NULL, &rm, 1, true, 1, why, sizeof(why)),
                     IC_ECONFLICT); /* stale expected version */
    ck_assert_int_eq(ic_things_update(t, "d", NULL, &rm, 1, true, 2, why, sizeof(why)), 0);
    ck_assert_int_eq((int)ic_things_get(t, "d")->n_attrs, 1);
    ck_assert_int_eq(ic_things_update(t, "d", "sensor", NULL, 0, true, -1, why,
                                      sizeof(why)),
                     IC_ENOTFOUND);
    ck_assert_int_eq(ic_things_create_type(t, "sensor", "desc", 1, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_things_create_type(t, "sensor", "desc", 1, why, sizeof(why)),
                     IC_EEXIST);
    ck_assert_int_eq(ic_things_update(t, "d", "sensor", NULL, 0, true, -1, why,
                                      sizeof(why)),
                     0);
    ck_assert_str_eq(ic_things_get(t, "d")->type, "sensor");
    /* deprecated: no new associations, and only deleted once unused */
    ck_assert_int_eq(ic_things_delete_type(t, "sensor", why, sizeof(why)), IC_EPROTO);
    ck_assert_int_eq(ic_things_deprecate_type(t, "sensor", false), 0);
    ck_assert_int_eq(ic_things_create(t, "e", "sensor", NULL, 0, 1, why, sizeof(why)),
                     IC_EPROTO);
    ck_assert_int_eq(ic_things_delete_type(t, "sensor", why, sizeof(why)), IC_ECONFLICT);
    ck_assert_int_eq(ic_things_update(t, "d", "", NULL, 0, true, -1, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_things_delete_type(t, "sensor", why, sizeof(why)), 0);
    /* delete: version checked; missing thing is fine */
    ck_assert_int_eq(ic_things_delete(t, "d", 1, why, sizeof(why)), IC_ECONFLICT);
    ck_assert_int_eq(ic_things_delete(t, "d", -1, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_things_delete(t, "d", -1, why, sizeof(why)), 0);
    ic_things_free(t);
}
END_TEST

START_TEST(groups) {
    ic_things_t *t = ic_things_new(NULL);
    char name[16], parent[16] = "";
    const char *mine[16];
    int i;
    ic_things_create(t, "d", NULL, NULL, 0, 1, why, sizeof(why));
    /* a hierarchy at most 7 deep */
    for (i = 1; i <= 8; i++) {
        int rc;
        snprintf(name, sizeof(name), "g%d", i);
        rc = ic_things_create_group(t, name, parent, 1, why, sizeof(why));
        ck_assert_int_eq(rc, i <= 7 ? 0 : IC_EINVAL);
        snprintf(parent, sizeof(parent), "%s", name);
    }
    ck_assert_int_eq(ic_things_create_group(t, "x", "nope", 1, why, sizeof(why)),
                     IC_ENOTFOUND);
    ck_assert_int_eq(ic_things_add_to_group(t, "g3", "d", why, sizeof(why)), 0);
    /* never two groups of the same hierarchy */
    ck_assert_int_eq(ic_things_add_to_group(t, "g5", "d", why, sizeof(why)),
                     IC_ECONFLICT);
    /* at most 10 groups */
    for (i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        ic_things_create_group(t, name, NULL, 1, why, sizeof(why));
        ck_assert_int_eq(ic_things_add_to_group(t, name, "d", why, sizeof(why)),
                         i < 9 ? 0 : IC_EINVAL);
    }
    ck_assert_int_eq((int)ic_things_groups_of(t, "d", mine, 16), 10);
    ck_assert_int_eq(ic_things_remove_from_group(t, "g3", "d"), 0);
    ck_assert_int_eq(ic_things_remove_from_group(t, "g3", "d"), IC_ENOTFOUND);
    ic_things_free(t);
}
END_TEST

START_TEST(principals) {
    ic_things_t *t = ic_things_new(NULL);
    const char *cert = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const char *arn = "arn:aws:iot:us-east-1:123456789012:cert/"
                      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const char *out[4];
    ic_things_create(t, "a", NULL, NULL, 0, 1, why, sizeof(why));
    ic_things_create(t, "b", NULL, NULL, 0, 1, why, sizeof(why));
    ck_assert_int_eq(ic_things_attach_principal(t, "zz", cert, false, why, sizeof(why)),
                     IC_ENOTFOUND);
    ck_assert_int_eq(ic_things_attach_principal(t, "a", arn, false, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_things_attach_principal(t, "b", cert, false, why, sizeof(why)), 0);
    ck_assert_int_eq((int)ic_things_of_principal(t, cert, out, 4), 2);
    /* exclusive: one thing only */
    ck_assert_int_eq(ic_things_attach_principal(t, "a", cert, true, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_things_detach_principal(t, "b", cert), 0);
    ck_assert_int_eq(ic_things_attach_principal(t, "b", cert, false, why, sizeof(why)),
                     IC_ECONFLICT);
    /* the connection's thing: the client ID names an attached thing */
    ck_assert_str_eq(ic_things_connection_thing(t, cert, "a"), "a");
    ck_assert_ptr_null(ic_things_connection_thing(t, cert, "b"));
    ck_assert_ptr_null(ic_things_connection_thing(t, "other", "a"));
    /* deleting the thing takes its attachments */
    ic_things_delete(t, "a", -1, why, sizeof(why));
    ck_assert_int_eq((int)ic_things_of_principal(t, cert, out, 4), 0);
    ic_things_free(t);
}
END_TEST

static void run_loop_until_closed(uv_loop_t *loop, ic_db_t *db) {
    ic_db_close(db, NULL, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(loop), 0);
}

START_TEST(store_round_trip) {
    char dir[] = "/tmp/ic_things_XXXXXX", path[128], err[256], cmd[160];
    uv_loop_t loop;
    ic_db_t *db;
    ic_things_t *t;
    ic_attr_t a = {"fw", "1.2.3"};
    const char *out[4];
    const ic_thing_t *th;
    char id[37];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/iotcored.db", dir);
    uv_loop_init(&loop);
    ck_assert_int_eq(ic_db_open(&db, &loop, path, IC_SYNC_NORMAL, err, sizeof(err)), 0);
    t = ic_things_new(db);
    ic_things_create_type(t, "sensor", "temperature", 1, why, sizeof(why));
    ck_assert_int_eq(ic_things_create(t, "d", "sensor", &a, 1, 5, why, sizeof(why)), 0);
    snprintf(id, sizeof(id), "%s", ic_things_get(t, "d")->id);
    ic_things_create_group(t, "root", NULL, 1, why, sizeof(why));
    ic_things_create_group(t, "child", "root", 1, why, sizeof(why));
    ic_things_add_to_group(t, "child", "d", why, sizeof(why));
    ic_things_attach_principal(t, "d", "abc", true, why, sizeof(why));
    ic_things_free(t);
    run_loop_until_closed(&loop, db);

    uv_loop_init(&loop);
    ck_assert_int_eq(ic_db_open(&db, &loop, path, IC_SYNC_NORMAL, err, sizeof(err)), 0);
    t = ic_things_new(db);
    ck_assert_int_eq(ic_things_load(t), 0);
    th = ic_things_get(t, "d");
    ck_assert_ptr_nonnull(th);
    ck_assert_str_eq(th->id, id);
    ck_assert_str_eq(th->type, "sensor");
    ck_assert_int_eq((int)th->n_attrs, 1);
    ck_assert_str_eq(th->attrs[0].value, "1.2.3");
    ck_assert_int_eq((int)ic_things_groups_of(t, "d", out, 4), 1);
    ck_assert_str_eq(out[0], "child");
    ck_assert_str_eq(ic_things_connection_thing(t, "abc", "d"), "d");
    /* the hierarchy came back: a sibling group of the same root conflicts */
    ic_things_create_group(t, "child2", "root", 1, why, sizeof(why));
    ck_assert_int_eq(ic_things_add_to_group(t, "child2", "d", why, sizeof(why)),
                     IC_ECONFLICT);
    ic_things_free(t);
    run_loop_until_closed(&loop, db);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *ic_things_suite(void) {
    Suite *s = suite_create("things");
    TCase *tc = tcase_create("registry");
    tcase_add_test(tc, names_and_attributes);
    tcase_add_test(tc, updates_versions_and_types);
    tcase_add_test(tc, groups);
    tcase_add_test(tc, principals);
    tcase_add_test(tc, store_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
