/* test_policies.c - policy store rules (AWS names, document size, version
 * limits and numbering, deletion conflicts), listing and pagination,
 * attachments, the generation counter, and a round trip through a real
 * SQLite store. */
#include "iotcored/error.h"
#include "iotcored/policies.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOC "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\"," \
            "\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}"
#define DOC2 "{\"Version\": \"2012-10-17\", \"Statement\": []}"
#define DOC3 "{\"v\": 3}"

static char why[512];

/* {"a":"<fill>"} with fill n copies of unit, and the whitespace pad
 * between the JSON tokens. Returns a malloc'd string. */
static char *doc_with(const char *unit, size_t n, const char *pad) {
    const char *parts[] = {"{", pad, "\"a\"", pad, ":", pad, "\""};
    size_t ulen = strlen(unit), i, len;
    char *s = malloc(32 + n * ulen + 4 * strlen(pad)), *w = s;
    for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        len = strlen(parts[i]);
        memcpy(w, parts[i], len);
        w += len;
    }
    for (i = 0; i < n; i++) {
        memcpy(w, unit, ulen);
        w += ulen;
    }
    *w++ = '"';
    len = strlen(pad);
    memcpy(w, pad, len);
    w += len;
    memcpy(w, "}", 2);
    return s;
}

START_TEST(names) {
    char name[130];
    memset(name, 'p', 129);
    name[129] = '\0';
    ck_assert(ic_policies_is_valid_name("Az09_+=,.@-"));
    ck_assert(ic_policies_is_valid_name("a"));
    ck_assert(!ic_policies_is_valid_name(""));
    ck_assert(!ic_policies_is_valid_name(NULL));
    ck_assert(!ic_policies_is_valid_name("a b"));
    ck_assert(!ic_policies_is_valid_name("a/b"));
    ck_assert(!ic_policies_is_valid_name("a:b"));
    ck_assert(!ic_policies_is_valid_name("caf\xc3\xa9"));
    ck_assert(!ic_policies_is_valid_name(name));
    name[128] = '\0';
    ck_assert(ic_policies_is_valid_name(name));
}
END_TEST

START_TEST(documents) {
    char *d;
    ck_assert_int_eq(ic_policies_check_document(DOC, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_policies_check_document(DOC2, NULL, 0), 0);
    ck_assert_int_eq(ic_policies_check_document("{", why, sizeof(why)),
                     IC_EMALFORMED);
    ck_assert_str_eq(why, "Policy document is not valid JSON");
    ck_assert_int_eq(ic_policies_check_document("", why, sizeof(why)),
                     IC_EMALFORMED);
    ck_assert_int_eq(ic_policies_check_document(NULL, why, sizeof(why)),
                     IC_EMALFORMED);
    ck_assert_int_eq(ic_policies_check_document("{} x", why, sizeof(why)),
                     IC_EMALFORMED);
    ck_assert_int_eq(ic_policies_check_document(" {} \r\n", why, sizeof(why)), 0);
    ck_assert_int_eq(ic_policies_check_document("[]", why, sizeof(why)),
                     IC_EMALFORMED);
    ck_assert_str_eq(why, "Policy document is not a JSON object");
    ck_assert_int_eq(ic_policies_check_document("\"s\"", why, sizeof(why)),
                     IC_EMALFORMED);

    /* 2048 characters exactly: {"a":" is 6, "} is 2 */
    d = doc_with("x", 2040, "");
    ck_assert_int_eq(ic_policies_check_document(d, why, sizeof(why)), 0);
    free(d);
    d = doc_with("x", 2041, "");
    ck_assert_int_eq(ic_policies_check_document(d, why, sizeof(why)),
                     IC_EMALFORMED);
    ck_assert_str_eq(why,
                     "Policy document exceeds the maximum size of 2048 characters");
    free(d);
    /* whitespace does not count, wherever it is */
    d = doc_with("x", 2040, " \t\r\n   ");
    ck_assert_int_gt((int)strlen(d), 2048);
    ck_assert_int_eq(ic_policies_check_document(d, why, sizeof(why)), 0);
    free(d);
    d = doc_with("x ", 2040, "");
    ck_assert_int_eq(ic_policies_check_document(d, why, sizeof(why)), 0);
    free(d);
    /* characters, not bytes: e-acute is two bytes, one character */
    d = doc_with("\xc3\xa9", 2040, "");
    ck_assert_int_eq(ic_policies_check_document(d, why, sizeof(why)), 0);
    free(d);
    d = doc_with("\xc3\xa9", 2041, "");
    ck_assert_int_eq(ic_policies_check_document(d, why, sizeof(why)),
                     IC_EMALFORMED);
    free(d);
    /* the size is checked before the syntax */
    d = doc_with("x", 3000, "");
    d[0] = '[';
    ck_assert_int_eq(ic_policies_check_document(d, why, sizeof(why)),
                     IC_EMALFORMED);
    ck_assert_str_eq(why,
                     "Policy document exceeds the maximum size of 2048 characters");
    free(d);
}
END_TEST

START_TEST(create_and_get) {
    ic_policies_t *p = ic_policies_new(NULL);
    const ic_policy_t *pol;
    const ic_policy_version_t *v;
    ck_assert_int_eq(ic_policies_create(p, "bad name", DOC, 1, why, sizeof(why)),
                     IC_EINVAL);
    ck_assert_int_eq(ic_policies_create(p, "ok", "{nope", 1, why, sizeof(why)),
                     IC_EMALFORMED);
    ck_assert_str_eq(why, "Policy document is not valid JSON");
    ck_assert_int_eq((int)ic_policies_count(p), 0);
    ck_assert_int_eq(ic_policies_create(p, "ok", DOC, 7, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_policies_create(p, "ok", DOC2, 8, why, sizeof(why)),
                     IC_EEXIST);
    ck_assert_str_eq(why,
                     "Policy cannot be created - name already exists (name=ok)");
    ck_assert_int_eq(ic_policies_create(p, "ok", DOC2, 8, NULL, 0), IC_EEXIST);
    ck_assert_int_eq((int)ic_policies_count(p), 1);
    pol = ic_policies_get(p, "ok");
    ck_assert_ptr_nonnull(pol);
    ck_assert_str_eq(pol->name, "ok");
    ck_assert_int_eq((int)pol->n_versions, 1);
    ck_assert_int_eq((int)pol->default_version, 1);
    ck_assert_int_eq((int)pol->created_ms, 7);
    ck_assert_int_eq((int)pol->updated_ms, 7);
    v = ic_policies_get_version(pol, 1);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v->document, DOC);
    ck_assert_int_eq((int)v->created_ms, 7);
    ck_assert_ptr_null(ic_policies_get_version(pol, 2));
    ck_assert_ptr_null(ic_policies_get(p, "other"));
    ic_policies_free(p);
}
END_TEST

START_TEST(versions) {
    ic_policies_t *p = ic_policies_new(NULL);
    const ic_policy_t *pol;
    int64_t id = 0;
    int i;
    char doc[32];
    ck_assert_int_eq(ic_policies_create_version(p, "nope", DOC, false, 1, &id, why,
                                                sizeof(why)),
                     IC_ENOTFOUND);
    ck_assert_int_eq(ic_policies_create(p, "p", DOC, 1, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_policies_create_version(p, "p", "[", false, 1, &id, why,
                                                sizeof(why)),
                     IC_EMALFORMED);
    for (i = 2; i <= 5; i++) {
        snprintf(doc, sizeof(doc), "{\"v\":%d}", i);
        ck_assert_int_eq(ic_policies_create_version(p, "p", doc, false, 10 * i, &id,
                                                    why, sizeof(why)),
                         0);
        ck_assert_int_eq((int)id, i);
    }
    pol = ic_policies_get(p, "p");
    ck_assert_int_eq((int)pol->n_versions, 5);
    ck_assert_int_eq((int)pol->default_version, 1); /* not set as default */
    ck_assert_int_eq((int)pol->updated_ms, 50);
    for (i = 0; i < 5; i++)
        ck_assert_int_eq((int)pol->versions[i].id, i + 1);
    /* AWS: at most 5 versions */
    ck_assert_int_eq(ic_policies_create_version(p, "p", DOC3, false, 60, &id, why,
                                                sizeof(why)),
                     IC_ELIMIT);
    ck_assert_str_eq(why, "The policy p already has the maximum number of "
                          "versions (5)");
    /* the default version cannot go */
    ck_assert_int_eq(ic_policies_delete_version(p, "p", 1, why, sizeof(why)),
                     IC_ECONFLICT);
    ck_assert_str_eq(why, "Cannot delete the default version of a policy");
    ck_assert_int_eq(ic_policies_delete_version(p, "p", 9, why, sizeof(why)),
                     IC_ENOTFOUND);
    ck_assert_int_eq(ic_policies_delete_version(p, "zz", 2, why, sizeof(why)),
                     IC_ENOTFOUND);
    /* ids are never reused: deleting 5 (the highest) and 2 frees room, the
     * next version is 6 */
    ck_assert_int_eq(ic_policies_delete_version(p, "p", 5, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_policies_delete_version(p, "p", 2, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_policies_delete_version(p, "p", 2, why, sizeof(why)),
                     IC_ENOTFOUND);
    ck_assert_int_eq(ic_policies_create_version(p, "p", DOC3, true, 70, &id, why,
                                                sizeof(why)),
                     0);
    ck_assert_int_eq((int)id, 6);
    pol = ic_policies_get(p, "p");
    ck_assert_int_eq((int)pol->default_version, 6);
    ck_assert_int_eq((int)pol->n_versions, 4);
    ck_assert_int_eq((int)pol->versions[0].id, 1);
    ck_assert_int_eq((int)pol->versions[1].id, 3);
    ck_assert_int_eq((int)pol->versions[2].id, 4);
    ck_assert_int_eq((int)pol->versions[3].id, 6);
    ck_assert_str_eq(ic_policies_get_version(pol, 6)->document, DOC3);
    ck_assert_ptr_null(ic_policies_get_version(pol, 2));
    ck_assert_int_eq(ic_policies_create_version(p, "p", DOC3, false, 71, NULL, why,
                                                sizeof(why)),
                     0); /* id_out may be NULL; this is 7 */
    ck_assert_int_eq((int)ic_policies_get(p, "p")->versions[4].id, 7);
    /* set-default */
    ck_assert_int_eq(ic_policies_set_default(p, "p", 2, 80), IC_ENOTFOUND);
    ck_assert_int_eq(ic_policies_set_default(p, "zz", 1, 80), IC_ENOTFOUND);
    ck_assert_int_eq(ic_policies_set_default(p, "p", 3, 80), 0);
    pol = ic_policies_get(p, "p");
    ck_assert_int_eq((int)pol->default_version, 3);
    ck_assert_int_eq((int)pol->updated_ms, 80);
    /* version 1 is no longer the default: it can go now */
    ck_assert_int_eq(ic_policies_delete_version(p, "p", 1, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_policies_delete_version(p, "p", 3, why, sizeof(why)),
                     IC_ECONFLICT);
    ic_policies_free(p);
}
END_TEST

START_TEST(delete_rules) {
    ic_policies_t *p = ic_policies_new(NULL);
    int64_t id;
    ck_assert_int_eq(ic_policies_delete(p, "p", why, sizeof(why)), IC_ENOTFOUND);
    ic_policies_create(p, "p", DOC, 1, why, sizeof(why));
    ic_policies_create_version(p, "p", DOC2, true, 2, &id, why, sizeof(why));
    ck_assert_int_eq(ic_policies_delete(p, "p", why, sizeof(why)), IC_ECONFLICT);
    ck_assert_str_eq(why, "The policy cannot be deleted as versions other than "
                          "than default version exist");
    ck_assert_int_eq(ic_policies_attach(p, "p", "cert-arn"), 0);
    /* attachment is reported first, as AWS does */
    ck_assert_int_eq(ic_policies_delete(p, "p", why, sizeof(why)), IC_ECONFLICT);
    ck_assert_str_eq(why, "The policy cannot be deleted as the policy is attached "
                          "to one or more principals (name=p)");
    ck_assert_int_eq(ic_policies_delete_version(p, "p", 1, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_policies_delete(p, "p", why, sizeof(why)), IC_ECONFLICT);
    ck_assert_str_eq(why, "The policy cannot be deleted as the policy is attached "
                          "to one or more principals (name=p)");
    ck_assert_int_eq(ic_policies_detach(p, "p", "cert-arn"), 0);
    ck_assert_int_eq(ic_policies_delete(p, "p", NULL, 0), 0);
    ck_assert_ptr_null(ic_policies_get(p, "p"));
    ck_assert_int_eq((int)ic_policies_count(p), 0);
    ck_assert_int_eq(ic_policies_delete(p, "p", why, sizeof(why)), IC_ENOTFOUND);
    /* a recreated policy starts again at version 1 */
    ck_assert_int_eq(ic_policies_create(p, "p", DOC3, 3, why, sizeof(why)), 0);
    ck_assert_int_eq((int)ic_policies_get(p, "p")->default_version, 1);
    ic_policies_free(p);
}
END_TEST

START_TEST(listing) {
    ic_policies_t *p = ic_policies_new(NULL);
    const char *order[] = {"c", "a", "e", "B", "d", "b"};
    const ic_policy_t *out[8];
    size_t i;
    for (i = 0; i < 6; i++)
        ck_assert_int_eq(ic_policies_create(p, order[i], DOC, 1, why, sizeof(why)),
                         0);
    ck_assert_int_eq((int)ic_policies_count(p), 6);
    ck_assert_int_eq((int)ic_policies_list(p, NULL, out, 8), 6);
    ck_assert_str_eq(out[0]->name, "B"); /* byte order: upper case first */
    ck_assert_str_eq(out[1]->name, "a");
    ck_assert_str_eq(out[2]->name, "b");
    ck_assert_str_eq(out[5]->name, "e");
    /* pages of 2 */
    ck_assert_int_eq((int)ic_policies_list(p, "", out, 2), 2);
    ck_assert_str_eq(out[0]->name, "B");
    ck_assert_str_eq(out[1]->name, "a");
    ck_assert_int_eq((int)ic_policies_list(p, out[1]->name, out, 2), 2);
    ck_assert_str_eq(out[0]->name, "b");
    ck_assert_str_eq(out[1]->name, "c");
    ck_assert_int_eq((int)ic_policies_list(p, "c", out, 2), 2);
    ck_assert_str_eq(out[0]->name, "d");
    ck_assert_str_eq(out[1]->name, "e");
    ck_assert_int_eq((int)ic_policies_list(p, "e", out, 2), 0);
    /* after need not exist */
    ck_assert_int_eq((int)ic_policies_list(p, "bb", out, 8), 3);
    ck_assert_str_eq(out[0]->name, "c");
    ck_assert_int_eq((int)ic_policies_list(p, "zzz", out, 8), 0);
    ck_assert_int_eq((int)ic_policies_list(p, NULL, out, 0), 0);
    /* deletes keep the order */
    ck_assert_int_eq(ic_policies_delete(p, "b", why, sizeof(why)), 0);
    ck_assert_int_eq((int)ic_policies_list(p, "a", out, 8), 3);
    ck_assert_str_eq(out[0]->name, "c");
    /* a name borrowed from a listing may be passed back */
    ck_assert_int_eq((int)ic_policies_list(p, NULL, out, 1), 1);
    ck_assert_int_eq(ic_policies_delete(p, out[0]->name, why, sizeof(why)), 0);
    ck_assert_ptr_null(ic_policies_get(p, "B"));
    ck_assert_int_eq((int)ic_policies_count(p), 4);
    ic_policies_free(p);
}
END_TEST

START_TEST(attachments) {
    ic_policies_t *p = ic_policies_new(NULL);
    const char *t[] = {"t4", "t2", "t5", "t1", "t3"};
    const char *out[8];
    size_t i;
    ic_policies_create(p, "c", DOC, 1, why, sizeof(why));
    ic_policies_create(p, "a", DOC, 1, why, sizeof(why));
    ic_policies_create(p, "b", DOC, 1, why, sizeof(why));
    ck_assert_int_eq(ic_policies_attach(p, "zz", "t1"), IC_ENOTFOUND);
    ck_assert_int_eq(ic_policies_attach(p, "a", ""), IC_EINVAL);
    ck_assert_int_eq(ic_policies_attach(p, "a", NULL), IC_EINVAL);
    for (i = 0; i < 5; i++)
        ck_assert_int_eq(ic_policies_attach(p, "a", t[i]), 0);
    ck_assert_int_eq(ic_policies_attach(p, "a", "t3"), 0); /* again: fine */
    ck_assert_int_eq(ic_policies_attach(p, "c", "t3"), 0);
    ck_assert_int_eq(ic_policies_attach(p, "b", "t3"), 0);
    /* targets of a policy: ascending, total beyond cap */
    ck_assert_int_eq((int)ic_policies_targets(p, "a", out, 8), 5);
    for (i = 0; i < 5; i++) {
        char want[4];
        snprintf(want, sizeof(want), "t%zu", i + 1);
        ck_assert_str_eq(out[i], want);
    }
    ck_assert_int_eq((int)ic_policies_targets(p, "a", out, 2), 5);
    ck_assert_str_eq(out[0], "t1");
    ck_assert_str_eq(out[1], "t2");
    ck_assert_int_eq((int)ic_policies_targets(p, "a", NULL, 0), 5);
    ck_assert_int_eq((int)ic_policies_targets(p, "b", out, 8), 1);
    ck_assert_int_eq((int)ic_policies_targets(p, "zz", out, 8), 0);
    /* policies of a target: ascending, total beyond cap */
    ck_assert_int_eq((int)ic_policies_of_target(p, "t3", out, 8), 3);
    ck_assert_str_eq(out[0], "a");
    ck_assert_str_eq(out[1], "b");
    ck_assert_str_eq(out[2], "c");
    ck_assert_int_eq((int)ic_policies_of_target(p, "t3", out, 1), 3);
    ck_assert_str_eq(out[0], "a");
    ck_assert_int_eq((int)ic_policies_of_target(p, "t1", out, 8), 1);
    ck_assert_int_eq((int)ic_policies_of_target(p, "t", out, 8), 0);
    ck_assert_int_eq((int)ic_policies_of_target(p, "t30", out, 8), 0);
    /* detach: unknown policy is not found, unknown link is a no-op */
    ck_assert_int_eq(ic_policies_detach(p, "zz", "t1"), IC_ENOTFOUND);
    ck_assert_int_eq(ic_policies_detach(p, "b", "t1"), 0);
    ck_assert_int_eq((int)ic_policies_targets(p, "a", out, 8), 5);
    /* borrowed strings from the module may be passed back */
    ck_assert_int_eq((int)ic_policies_targets(p, "a", out, 1), 5);
    ck_assert_int_eq(ic_policies_detach(p, "a", out[0]), 0); /* t1 */
    ck_assert_int_eq((int)ic_policies_targets(p, "a", out, 8), 4);
    ck_assert_str_eq(out[0], "t2");
    ck_assert_int_eq((int)ic_policies_of_target(p, "t1", out, 8), 0);
    /* detach a target from everything (certificate deleted) */
    ck_assert_int_eq((int)ic_policies_targets(p, "b", out, 8), 1);
    ic_policies_detach_target(p, out[0]); /* t3, borrowed */
    ck_assert_int_eq((int)ic_policies_of_target(p, "t3", out, 8), 0);
    ck_assert_int_eq((int)ic_policies_targets(p, "a", out, 8), 3);
    ck_assert_str_eq(out[0], "t2");
    ck_assert_str_eq(out[1], "t4");
    ck_assert_str_eq(out[2], "t5");
    ck_assert_int_eq((int)ic_policies_targets(p, "b", out, 8), 0);
    ck_assert_int_eq((int)ic_policies_targets(p, "c", out, 8), 0);
    ic_policies_detach_target(p, "nothing");
    /* with no attachment left, b can be deleted; a cannot */
    ck_assert_int_eq(ic_policies_delete(p, "b", why, sizeof(why)), 0);
    ck_assert_int_eq(ic_policies_delete(p, "a", why, sizeof(why)), IC_ECONFLICT);
    ic_policies_free(p);
}
END_TEST

START_TEST(generation) {
    ic_policies_t *p = ic_policies_new(NULL);
    uint64_t g = ic_policies_generation(p);
    int64_t id;
#define BUMPS(call, n)                                                          \
    do {                                                                        \
        (void)(call);                                                           \
        ck_assert_uint_eq(ic_policies_generation(p), g + (n));                  \
        g = ic_policies_generation(p);                                          \
    } while (0)
    ck_assert_uint_ge(g, 1);
    BUMPS(ic_policies_create(p, "p", DOC, 1, why, sizeof(why)), 1);
    BUMPS(ic_policies_create(p, "p", DOC, 1, why, sizeof(why)), 0);
    BUMPS(ic_policies_create(p, "bad name", DOC, 1, why, sizeof(why)), 0);
    BUMPS(ic_policies_create_version(p, "p", DOC2, false, 2, &id, why, sizeof(why)),
          1);
    BUMPS(ic_policies_set_default(p, "p", 1, 3), 0); /* already the default */
    BUMPS(ic_policies_set_default(p, "p", 2, 3), 1);
    BUMPS(ic_policies_set_default(p, "p", 9, 3), 0);
    BUMPS(ic_policies_delete_version(p, "p", 2, why, sizeof(why)), 0);
    BUMPS(ic_policies_delete_version(p, "p", 1, why, sizeof(why)), 1);
    BUMPS(ic_policies_attach(p, "p", "t"), 1);
    BUMPS(ic_policies_attach(p, "p", "t"), 0);
    BUMPS(ic_policies_attach(p, "p", "u"), 1);
    BUMPS(ic_policies_detach(p, "p", "v"), 0);
    BUMPS(ic_policies_detach(p, "p", "u"), 1);
    BUMPS(ic_policies_delete(p, "p", why, sizeof(why)), 0);
    ic_policies_detach_target(p, "nothing");
    BUMPS(0, 0);
    ic_policies_detach_target(p, "t");
    BUMPS(0, 1);
    BUMPS(ic_policies_delete(p, "p", why, sizeof(why)), 1);
    BUMPS(ic_policies_load(p), 0); /* no store: nothing loaded */
#undef BUMPS
    ic_policies_free(p);
}
END_TEST

static void run_loop_until_closed(uv_loop_t *loop, ic_db_t *db) {
    ic_db_close(db, NULL, NULL); /* drains and commits every queued write */
    uv_run(loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(loop), 0);
}

static ic_policies_t *reopen(uv_loop_t *loop, ic_db_t **db, const char *path) {
    char err[256];
    ic_policies_t *p;
    uv_loop_init(loop);
    ck_assert_int_eq(ic_db_open(db, loop, path, IC_SYNC_NORMAL, err, sizeof(err)),
                     0);
    p = ic_policies_new(*db);
    ck_assert_int_eq(ic_policies_load(p), 0);
    return p;
}

START_TEST(store_round_trip) {
    char dir[] = "/tmp/ic_policies_XXXXXX", path[128], cmd[160];
    uv_loop_t loop;
    ic_db_t *db;
    ic_policies_t *p;
    const ic_policy_t *pol, *list[4];
    const char *out[4];
    int64_t id;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/iotcored.db", dir);
    p = reopen(&loop, &db, path);
    ck_assert_int_eq((int)ic_policies_count(p), 0);

    ck_assert_int_eq(ic_policies_create(p, "a", DOC, 10, why, sizeof(why)), 0);
    ic_policies_create_version(p, "a", DOC2, false, 20, &id, why, sizeof(why));
    ic_policies_create_version(p, "a", DOC3, true, 30, &id, why, sizeof(why));
    ic_policies_create_version(p, "a", DOC, false, 40, &id, why, sizeof(why));
    ck_assert_int_eq((int)id, 4);
    ck_assert_int_eq(ic_policies_delete_version(p, "a", 4, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_policies_delete_version(p, "a", 2, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_policies_create(p, "b", DOC2, 50, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_policies_create(p, "c", DOC, 60, why, sizeof(why)), 0);
    ck_assert_int_eq((int)ic_policies_list(p, "b", list, 4), 1);
    ck_assert_int_eq(ic_policies_delete(p, list[0]->name, why, sizeof(why)), 0);
    ic_policies_attach(p, "a", "cert1");
    ic_policies_attach(p, "a", "cert2");
    ic_policies_attach(p, "a", "cert3");
    ic_policies_attach(p, "b", "group1");
    ic_policies_attach(p, "b", "cert1");
    ic_policies_attach(p, "b", "cert2");
    ic_policies_detach(p, "a", "cert3");
    ic_policies_detach_target(p, "cert2");
    ic_policies_free(p);
    run_loop_until_closed(&loop, db);

    p = reopen(&loop, &db, path);
    ck_assert_uint_gt(ic_policies_generation(p), 1);
    ck_assert_int_eq((int)ic_policies_count(p), 2);
    ck_assert_ptr_null(ic_policies_get(p, "c"));
    pol = ic_policies_get(p, "a");
    ck_assert_ptr_nonnull(pol);
    ck_assert_int_eq((int)pol->default_version, 3);
    ck_assert_int_eq((int)pol->created_ms, 10);
    ck_assert_int_eq((int)pol->updated_ms, 40);
    ck_assert_int_eq((int)pol->n_versions, 2);
    ck_assert_int_eq((int)pol->versions[0].id, 1);
    ck_assert_str_eq(pol->versions[0].document, DOC);
    ck_assert_int_eq((int)pol->versions[0].created_ms, 10);
    ck_assert_int_eq((int)pol->versions[1].id, 3);
    ck_assert_str_eq(pol->versions[1].document, DOC3);
    ck_assert_int_eq((int)pol->versions[1].created_ms, 30);
    pol = ic_policies_get(p, "b");
    ck_assert_ptr_nonnull(pol);
    ck_assert_int_eq((int)pol->default_version, 1);
    ck_assert_int_eq((int)pol->n_versions, 1);
    ck_assert_str_eq(pol->versions[0].document, DOC2);
    ck_assert_int_eq((int)pol->created_ms, 50);
    ck_assert_int_eq((int)ic_policies_list(p, NULL, list, 4), 2);
    ck_assert_str_eq(list[0]->name, "a");
    ck_assert_str_eq(list[1]->name, "b");
    ck_assert_int_eq((int)ic_policies_of_target(p, "cert1", out, 4), 2);
    ck_assert_str_eq(out[0], "a");
    ck_assert_str_eq(out[1], "b");
    ck_assert_int_eq((int)ic_policies_of_target(p, "cert2", out, 4), 0);
    ck_assert_int_eq((int)ic_policies_of_target(p, "cert3", out, 4), 0);
    ck_assert_int_eq((int)ic_policies_targets(p, "a", out, 4), 1);
    ck_assert_int_eq((int)ic_policies_targets(p, "b", out, 4), 2);
    ck_assert_str_eq(out[0], "cert1");
    ck_assert_str_eq(out[1], "group1");
    /* numbering survives the restart: 4 was used (and deleted) */
    ck_assert_int_eq(ic_policies_create_version(p, "a", DOC2, false, 90, &id, why,
                                                sizeof(why)),
                     0);
    ck_assert_int_eq((int)id, 5);
    /* updating the policy row must not cascade to versions or targets */
    ck_assert_int_eq(ic_policies_set_default(p, "a", 1, 95), 0);
    ic_policies_free(p);
    run_loop_until_closed(&loop, db);

    p = reopen(&loop, &db, path);
    pol = ic_policies_get(p, "a");
    ck_assert_ptr_nonnull(pol);
    ck_assert_int_eq((int)pol->default_version, 1);
    ck_assert_int_eq((int)pol->updated_ms, 95);
    ck_assert_int_eq((int)pol->n_versions, 3);
    ck_assert_int_eq((int)pol->versions[2].id, 5);
    ck_assert_str_eq(pol->versions[2].document, DOC2);
    ck_assert_int_eq((int)ic_policies_targets(p, "a", out, 4), 1);
    ck_assert_str_eq(out[0], "cert1");
    /* delete everything: nothing comes back */
    ic_policies_detach_target(p, "cert1");
    ic_policies_detach(p, "b", "group1");
    ck_assert_int_eq(ic_policies_delete(p, "b", why, sizeof(why)), 0);
    ic_policies_delete_version(p, "a", 3, why, sizeof(why));
    ic_policies_delete_version(p, "a", 5, why, sizeof(why));
    ck_assert_int_eq(ic_policies_delete(p, "a", why, sizeof(why)), 0);
    ic_policies_free(p);
    run_loop_until_closed(&loop, db);

    p = reopen(&loop, &db, path);
    ck_assert_int_eq((int)ic_policies_count(p), 0);
    ck_assert_int_eq((int)ic_policies_of_target(p, "cert1", out, 4), 0);
    /* a recreated policy starts again at version 1 */
    ck_assert_int_eq(ic_policies_create(p, "a", DOC, 100, why, sizeof(why)), 0);
    ck_assert_int_eq((int)ic_policies_get(p, "a")->default_version, 1);
    ic_policies_free(p);
    run_loop_until_closed(&loop, db);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *ic_policies_suite(void) {
    Suite *s = suite_create("policies");
    TCase *tc = tcase_create("store");
    tcase_add_test(tc, names);
    tcase_add_test(tc, documents);
    tcase_add_test(tc, create_and_get);
    tcase_add_test(tc, versions);
    tcase_add_test(tc, delete_rules);
    tcase_add_test(tc, listing);
    tcase_add_test(tc, attachments);
    tcase_add_test(tc, generation);
    tcase_add_test(tc, store_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
