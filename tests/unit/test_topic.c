/* test_topic.c - topic names, filters, AWS limits, $share and Basic Ingest
 * splitting, and the reference matcher. */
#include "iotcored/error.h"
#include "iotcored/topic.h"
#include "suites.h"

#include <string.h>

static const ic_topic_limits_t aws = {256, 7};

static int name(const char *t) {
    return ic_topic_check_name(t, strlen(t), &aws, NULL);
}

static int filter(const char *f) {
    return ic_topic_check_filter(f, strlen(f), &aws, NULL);
}

START_TEST(names) {
    char big[300];
    const char *why = NULL;
    ck_assert_int_eq(name("a/b"), 0);
    ck_assert_int_eq(name("/"), 0);
    ck_assert_int_eq(name("$aws/things/x/shadow/update"), 0);
    ck_assert_int_eq(name(""), IC_EINVAL);
    ck_assert_int_eq(name("a/+"), IC_EINVAL);
    ck_assert_int_eq(name("a#"), IC_EINVAL);
    ck_assert_int_eq(name("a/b/c/d/e/f/g/h"), 0);
    ck_assert_int_eq(ic_topic_check_name("a/b/c/d/e/f/g/h/i", 17, &aws, &why),
                     IC_ETOOBIG);
    ck_assert_ptr_nonnull(why);
    memset(big, 'x', 256);
    big[256] = '\0';
    ck_assert_int_eq(name(big), 0);
    big[256] = 'x';
    big[257] = '\0';
    ck_assert_int_eq(name(big), IC_ETOOBIG);
    /* AWS: the Basic Ingest prefix does not count */
    ck_assert_int_eq(name("$aws/rules/r/a/b/c/d/e/f/g/h"), 0);
    ck_assert_int_eq(name("$aws/rules/r/a/b/c/d/e/f/g/h/i"), IC_ETOOBIG);
    ck_assert_int_eq(name("$aws/rules/"), IC_EINVAL);
}
END_TEST

START_TEST(filters) {
    ck_assert_int_eq(filter("#"), 0);
    ck_assert_int_eq(filter("+"), 0);
    ck_assert_int_eq(filter("a/+/b/#"), 0);
    ck_assert_int_eq(filter("+/+"), 0);
    ck_assert_int_eq(filter("a/#/b"), IC_EINVAL);
    ck_assert_int_eq(filter("a#"), IC_EINVAL);
    ck_assert_int_eq(filter("a/b+"), IC_EINVAL);
    ck_assert_int_eq(filter("+a"), IC_EINVAL);
    ck_assert_int_eq(filter(""), IC_EINVAL);
    ck_assert_int_eq(filter("a/b/c/d/e/f/g/+/#"), IC_ETOOBIG);
}
END_TEST

START_TEST(share_and_ingest) {
    const char *n, *f;
    size_t nl, fl;
    ck_assert_int_eq(ic_topic_split_share("$share/g/a/b", 12, &n, &nl, &f, &fl), 1);
    ck_assert_int_eq((int)nl, 1);
    ck_assert(memcmp(n, "g", 1) == 0);
    ck_assert_int_eq((int)fl, 3);
    ck_assert(memcmp(f, "a/b", 3) == 0);
    ck_assert_int_eq(ic_topic_split_share("a/b", 3, &n, &nl, &f, &fl), 0);
    ck_assert_int_eq(ic_topic_split_share("$share//a", 9, &n, &nl, &f, &fl), IC_EINVAL);
    ck_assert_int_eq(ic_topic_split_share("$share/g", 8, &n, &nl, &f, &fl), IC_EINVAL);
    ck_assert_int_eq(ic_topic_split_share("$share/g/", 9, &n, &nl, &f, &fl), IC_EINVAL);
    ck_assert_int_eq(ic_topic_split_share("$share/g+/a", 11, &n, &nl, &f, &fl), IC_EINVAL);
    ck_assert_int_eq(ic_topic_split_ingest("$aws/rules/r1/x/y", 17, &n, &nl, &f, &fl), 1);
    ck_assert_int_eq((int)nl, 2);
    ck_assert_int_eq((int)fl, 3);
    ck_assert_int_eq(ic_topic_split_ingest("$aws/rules/r1", 13, &n, &nl, &f, &fl), 1);
    ck_assert_int_eq((int)fl, 0);
    ck_assert_int_eq(ic_topic_split_ingest("$aws/things/x", 13, &n, &nl, &f, &fl), 0);
}
END_TEST

typedef struct mcase_s {
    const char *f, *t;
    bool aws, mqtt;
} mcase_t;

static const mcase_t mcases[] = {
    {"a/b", "a/b", true, true},
    {"a/b", "a/c", false, false},
    {"a/+", "a/b", true, true},
    {"a/+", "a/", true, true},
    {"a/+", "a", false, false},
    {"a/+", "a/b/c", false, false},
    {"a/#", "a/b/c", true, true},
    {"a/#", "a/", true, true},
    {"a/#", "a", false, true}, /* the AWS difference */
    {"#", "a/b", true, true},
    {"+/+", "/x", true, true},
    {"+", "", true, true},
    {"#", "$aws/x", false, false},
    {"+/x", "$aws/x", false, false},
    {"$aws/#", "$aws/x", true, true},
    {"$aws/+/x", "$aws/t/x", true, true},
    {"a/+/c/#", "a/b/c/d/e", true, true},
    {"a/b/#", "a/b", false, true},
    {"A", "a", false, false},
};

START_TEST(matching) {
    const mcase_t *c = &mcases[_i];
    ck_assert_msg(ic_topic_matches(c->f, strlen(c->f), c->t, strlen(c->t),
                                   false) == c->aws,
                  "aws: %s vs %s", c->f, c->t);
    ck_assert_msg(ic_topic_matches(c->f, strlen(c->f), c->t, strlen(c->t),
                                   true) == c->mqtt,
                  "mqtt: %s vs %s", c->f, c->t);
}
END_TEST

Suite *ic_topic_suite(void) {
    Suite *s = suite_create("topic");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, names);
    tcase_add_test(tc, filters);
    tcase_add_test(tc, share_and_ingest);
    tcase_add_loop_test(tc, matching, 0, (int)(sizeof(mcases) / sizeof(mcases[0])));
    suite_add_tcase(s, tc);
    return s;
}
