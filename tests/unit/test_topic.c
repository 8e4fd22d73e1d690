/* test_topic.c - unit suite for mqtt/topic.c.
 *
 * Single job: pin topic.c's contract down with tables: valid and invalid
 * names and filters, the AWS size and slash limits with the Basic Ingest and
 * $share prefixes left out of the count, the two splitters, and the
 * reference matcher in both profiles (AWS parent rule, '$' rule). It owns
 * only its tables and must not test the trie (test_trie.c does) or depend on
 * the loop, files or the clock: topic.c is pure.
 */
#include "iotcored/error.h"
#include "iotcored/topic.h"
#include "suites.h"

#include <stdio.h>
#include <string.h>

Suite *ic_topic_suite(void);

#define N_ROWS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const ic_topic_limits_t aws = {256, 7};

/* ---- names and filters ------------------------------------------------------ */

typedef struct check_row_s {
    const char *s;
    int rc;
} check_row_t;

static const check_row_t name_rows[] = {
    {"a", 0},
    {"a/b", 0},
    {"/", 0},
    {"//", 0},
    {"a/", 0},
    {"/a", 0},
    {" ", 0},
    {"sensor/temp", 0},
    {"$aws/things/t1/shadow/update", 0},
    {"$SYS/broker", 0},
    {"$", 0},
    {"a$b", 0},
    {"a/b/c/d/e/f/g/h", 0},            /* 7 slashes */
    {"a/b/c/d/e/f/g/h/i", IC_ETOOBIG}, /* 8 slashes */
    {"////////", IC_ETOOBIG},
    {"///////", 0},
    {"", IC_EINVAL},            /* [MQTT-4.7.3-1] */
    {"+", IC_EINVAL},           /* [MQTT-4.7.0-1] */
    {"#", IC_EINVAL},
    {"a/+", IC_EINVAL},
    {"a/#", IC_EINVAL},
    {"a#", IC_EINVAL},
    {"a+b", IC_EINVAL},
    {"a/b/c/d/e/f/g/h/+", IC_EINVAL}, /* form is checked before limits */
    /* AWS: the Basic Ingest prefix does not count */
    {"$aws/rules/r", 0},
    {"$aws/rules/r/", 0},
    {"$aws/rules/r/a/b/c/d/e/f/g/h", 0},
    {"$aws/rules/r/a/b/c/d/e/f/g/h/i", IC_ETOOBIG},
    {"$aws/rules/", IC_EINVAL},
    {"$aws/rules//a", IC_EINVAL},
    {"$aws/rules", 0},             /* not Basic Ingest: 1 slash */
    {"$aws/rulesx/a/b/c/d/e/f", 0}, /* 7 slashes, all counted */
    {"$aws/rulesx/a/b/c/d/e/f/g", IC_ETOOBIG},
    {"$AWS/rules/r/a/b/c/d/e/f/g/h", IC_ETOOBIG}, /* prefix is case-exact */
};

static const check_row_t filter_rows[] = {
    {"a", 0},
    {"#", 0},
    {"+", 0},
    {"/", 0},
    {"+/+", 0},
    {"/#", 0},
    {"+/#", 0},
    {"a/+/b/#", 0},
    {"a//+", 0},
    {"$aws/things/+/shadow/#", 0},
    {"$share", 0}, /* a plain filter: $share needs its '/' */
    {"a/b/c/d/e/f/g/#", 0},
    {"a/b/c/d/e/f/g/h/#", IC_ETOOBIG},
    {"+/+/+/+/+/+/+/+", 0},
    {"+/+/+/+/+/+/+/+/+", IC_ETOOBIG},
    {"", IC_EINVAL},      /* [MQTT-4.7.3-1] */
    {"a/#/b", IC_EINVAL}, /* [MQTT-4.7.1-1] */
    {"#/", IC_EINVAL},
    {"##", IC_EINVAL},
    {"a#", IC_EINVAL},
    {"a/b#", IC_EINVAL},
    {"#a", IC_EINVAL},
    {"a/b+", IC_EINVAL}, /* [MQTT-4.7.1-2] */
    {"+a", IC_EINVAL},
    {"a/++", IC_EINVAL},
    {"a/+b/c", IC_EINVAL},
    {"+#", IC_EINVAL},
    {"a/b/c/d/e/f/g/h/i/a#", IC_EINVAL}, /* form before limits */
    /* AWS: the Basic Ingest prefix is measured like a name's */
    {"$aws/rules/r/a/b/c/d/e/f/g/#", 0},
    {"$aws/rules/r/a/b/c/d/e/f/g/h/#", IC_ETOOBIG},
};

START_TEST(name_table) {
    const check_row_t *r = &name_rows[_i];
    const char *why = NULL;
    int rc = ic_topic_check_name(r->s, strlen(r->s), &aws, &why);
    ck_assert_msg(rc == r->rc, "name \"%s\": rc %d, want %d", r->s, rc, r->rc);
    ck_assert_msg((rc == 0) == (why == NULL), "name \"%s\": why %s", r->s,
                  why ? why : "(none)");
    /* why is optional */
    ck_assert_int_eq(ic_topic_check_name(r->s, strlen(r->s), &aws, NULL),
                     r->rc);
}
END_TEST

START_TEST(filter_table) {
    const check_row_t *r = &filter_rows[_i];
    const char *why = NULL;
    int rc = ic_topic_check_filter(r->s, strlen(r->s), &aws, &why);
    ck_assert_msg(rc == r->rc, "filter \"%s\": rc %d, want %d", r->s, rc,
                  r->rc);
    ck_assert_msg((rc == 0) == (why == NULL), "filter \"%s\"", r->s);
    ck_assert_int_eq(ic_topic_check_filter(r->s, strlen(r->s), &aws, NULL),
                     r->rc);
}
END_TEST

/* Lengths are counted, not NUL-terminated: a view into a larger buffer. */
START_TEST(views_not_strings) {
    const char *buf = "a/b+c";
    ck_assert_int_eq(ic_topic_check_name(buf, 3, &aws, NULL), 0);
    ck_assert_int_eq(ic_topic_check_name(buf, 4, &aws, NULL), IC_EINVAL);
    ck_assert_int_eq(ic_topic_check_filter("a/#/b", 3, &aws, NULL), 0);
    ck_assert(ic_topic_matches("a/#/b", 3, "a/x", 3, false));
}
END_TEST

/* ---- limits ------------------------------------------------------------------- */

static size_t fill(char *buf, const char *prefix, size_t body, char c) {
    size_t n = strlen(prefix);
    memcpy(buf, prefix, n);
    memset(buf + n, c, body);
    buf[n + body] = '\0';
    return n + body;
}

START_TEST(byte_limit) {
    char buf[600];
    const char *why = NULL;
    size_t n;
    n = fill(buf, "", 256, 'x');
    ck_assert_int_eq(ic_topic_check_name(buf, n, &aws, NULL), 0);
    ck_assert_int_eq(ic_topic_check_filter(buf, n, &aws, NULL), 0);
    n = fill(buf, "", 257, 'x');
    ck_assert_int_eq(ic_topic_check_name(buf, n, &aws, &why), IC_ETOOBIG);
    ck_assert_ptr_nonnull(why);
    ck_assert_int_eq(ic_topic_check_filter(buf, n, &aws, NULL), IC_ETOOBIG);
    /* AWS: 256 bytes after "$aws/rules/<rule>/" */
    n = fill(buf, "$aws/rules/my_rule/", 256, 'x');
    ck_assert_int_eq(ic_topic_check_name(buf, n, &aws, NULL), 0);
    n = fill(buf, "$aws/rules/my_rule/", 257, 'x');
    ck_assert_int_eq(ic_topic_check_name(buf, n, &aws, NULL), IC_ETOOBIG);
    /* a look-alike prefix counts in full */
    n = fill(buf, "$aws/rulez/my_rule/", 240, 'x');
    ck_assert_int_eq(ic_topic_check_name(buf, n, &aws, NULL), IC_ETOOBIG);
}
END_TEST

/* AWS: "$share/<name>/" does not count: the caller splits it off first and
 * checks only the filter, so a full-size filter fits behind a long name. */
START_TEST(share_prefix_not_counted) {
    char buf[600];
    const char *name, *flt;
    size_t name_len, flt_len, n;
    memcpy(buf, "$share/", 7);
    memset(buf + 7, 'g', 128);
    n = 7 + 128;
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "/a/b/c/d/e/f/g/");
    memset(buf + n, 'x', 256 - 14);
    n += 256 - 14;
    ck_assert_int_eq(ic_topic_split_share(buf, n, &name, &name_len, &flt,
                                          &flt_len),
                     1);
    ck_assert_uint_eq(name_len, 128);
    ck_assert_uint_eq(flt_len, 256);
    ck_assert_int_eq(ic_topic_check_filter(flt, flt_len, &aws, NULL), 0);
    /* one more byte or slash in the filter is too much */
    buf[n] = '/';
    ck_assert_int_eq(ic_topic_split_share(buf, n + 1, &name, &name_len, &flt,
                                          &flt_len),
                     1);
    ck_assert_int_eq(ic_topic_check_filter(flt, flt_len, &aws, NULL),
                     IC_ETOOBIG);
}
END_TEST

START_TEST(other_limits) {
    const ic_topic_limits_t small = {8, 2};
    ck_assert_int_eq(ic_topic_check_name("a/b/c", 5, &small, NULL), 0);
    ck_assert_int_eq(ic_topic_check_name("a/b/c/d", 7, &small, NULL),
                     IC_ETOOBIG);
    ck_assert_int_eq(ic_topic_check_name("abcdefgh", 8, &small, NULL), 0);
    ck_assert_int_eq(ic_topic_check_name("abcdefghi", 9, &small, NULL),
                     IC_ETOOBIG);
    ck_assert_int_eq(ic_topic_check_filter("+/+/#", 5, &small, NULL), 0);
    ck_assert_int_eq(ic_topic_check_filter("+/+/+/#", 7, &small, NULL),
                     IC_ETOOBIG);
}
END_TEST

/* ---- splitting ----------------------------------------------------------------- */

typedef struct split_row_s {
    const char *in;
    int rc;
    const char *a; /* share name / rule, when rc == 1 */
    const char *b; /* filter / rest, when rc == 1 */
} split_row_t;

static const split_row_t share_rows[] = {
    {"$share/g/a/b", 1, "g", "a/b"},
    {"$share/group-1/#", 1, "group-1", "#"},
    {"$share/g/+", 1, "g", "+"},
    {"$share/g//", 1, "g", "/"},
    {"$share/g/$aws/x", 1, "g", "$aws/x"},
    {"$share/g/a/b/c/d/e/f/g/h/#", 1, "g", "a/b/c/d/e/f/g/h/#"},
    {"a/b", 0, NULL, NULL},
    {"$share", 0, NULL, NULL},
    {"$shares/g/a", 0, NULL, NULL},
    {"$SHARE/g/a", 0, NULL, NULL},
    {"share/g/a", 0, NULL, NULL},
    {"$share/", IC_EINVAL, NULL, NULL},  /* [MQTT-4.8.2-1] */
    {"$share//a", IC_EINVAL, NULL, NULL},
    {"$share/g", IC_EINVAL, NULL, NULL}, /* [MQTT-4.8.2-2] */
    {"$share/g/", IC_EINVAL, NULL, NULL},
    {"$share/g+/a", IC_EINVAL, NULL, NULL},
    {"$share/+/a", IC_EINVAL, NULL, NULL},
    {"$share/#/a", IC_EINVAL, NULL, NULL},
    {"$share/a#b/a", IC_EINVAL, NULL, NULL},
};

static const split_row_t ingest_rows[] = {
    {"$aws/rules/r1/x/y", 1, "r1", "x/y"},
    {"$aws/rules/r1", 1, "r1", ""},
    {"$aws/rules/r1/", 1, "r1", ""},
    {"$aws/rules/r1//", 1, "r1", "/"},
    {"$aws/rules/my_rule/a/b/c/d/e/f/g/h", 1, "my_rule", "a/b/c/d/e/f/g/h"},
    {"$aws/things/x", 0, NULL, NULL},
    {"$aws/rules", 0, NULL, NULL},
    {"$aws/rulesx/r", 0, NULL, NULL},
    {"aws/rules/r/x", 0, NULL, NULL},
    {"$aws/rules/", IC_EINVAL, NULL, NULL},
    {"$aws/rules//x", IC_EINVAL, NULL, NULL},
};

static void check_split(const split_row_t *r, int rc, const char *a,
                        size_t a_len, const char *b, size_t b_len) {
    ck_assert_msg(rc == r->rc, "\"%s\": rc %d, want %d", r->in, rc, r->rc);
    if (r->rc != 1) {
        /* views untouched */
        ck_assert_ptr_null(a);
        ck_assert_ptr_null(b);
        return;
    }
    ck_assert_msg(a_len == strlen(r->a) && memcmp(a, r->a, a_len) == 0,
                  "\"%s\": first part \"%.*s\"", r->in, (int)a_len, a);
    ck_assert_msg(b_len == strlen(r->b) &&
                      (b_len == 0 || memcmp(b, r->b, b_len) == 0),
                  "\"%s\": second part \"%.*s\"", r->in, (int)b_len, b);
    /* views point into the input */
    ck_assert(a >= r->in && a + a_len <= r->in + strlen(r->in));
    ck_assert(b >= r->in && b + b_len <= r->in + strlen(r->in));
}

START_TEST(share_table) {
    const split_row_t *r = &share_rows[_i];
    const char *a = NULL, *b = NULL;
    size_t a_len = 0, b_len = 0;
    int rc = ic_topic_split_share(r->in, strlen(r->in), &a, &a_len, &b, &b_len);
    check_split(r, rc, a, a_len, b, b_len);
}
END_TEST

START_TEST(ingest_table) {
    const split_row_t *r = &ingest_rows[_i];
    const char *a = NULL, *b = NULL;
    size_t a_len = 0, b_len = 0;
    int rc =
        ic_topic_split_ingest(r->in, strlen(r->in), &a, &a_len, &b, &b_len);
    check_split(r, rc, a, a_len, b, b_len);
}
END_TEST

START_TEST(share_name_length) {
    char buf[200];
    const char *name, *flt;
    size_t name_len, flt_len;
    memcpy(buf, "$share/", 7);
    memset(buf + 7, 'n', 128);
    memcpy(buf + 135, "/a", 2);
    ck_assert_int_eq(ic_topic_split_share(buf, 137, &name, &name_len, &flt,
                                          &flt_len),
                     1);
    ck_assert_uint_eq(name_len, 128);
    memset(buf + 7, 'n', 129);
    memcpy(buf + 136, "/a", 2);
    ck_assert_int_eq(ic_topic_split_share(buf, 138, &name, &name_len, &flt,
                                          &flt_len),
                     IC_EINVAL);
}
END_TEST

START_TEST(reserved) {
    ck_assert(ic_topic_is_reserved("$aws/x", 6));
    ck_assert(ic_topic_is_reserved("$", 1));
    ck_assert(!ic_topic_is_reserved("a/$", 3));
    ck_assert(!ic_topic_is_reserved("$", 0));
}
END_TEST

/* ---- matching ------------------------------------------------------------------- */

typedef struct match_row_s {
    const char *f, *t;
    bool aws;  /* hash_matches_parent = false */
    bool mqtt; /* hash_matches_parent = true */
} match_row_t;

static const match_row_t match_rows[] = {
    {"a", "a", true, true},
    {"a", "b", false, false},
    {"a", "A", false, false}, /* case-sensitive [MQTT-4.7.3-4] */
    {"a", "a/", false, false},
    {"a", "/a", false, false},
    {"a/b", "a/b", true, true},
    {"a/b", "a/c", false, false},
    {"a/b", "a", false, false},
    {"a/b", "a/b/c", false, false},
    {"/", "/", true, true},
    {"a/", "a/", true, true},
    {"a/", "a", false, false},
    {"a//b", "a//b", true, true},
    {"a//b", "a/b", false, false},
    /* '+' is exactly one level, even an empty one */
    {"+", "a", true, true},
    {"+", "", true, true},
    {"+", "a/b", false, false},
    {"+", "/", false, false},
    {"a/+", "a/b", true, true},
    {"a/+", "a/", true, true},
    {"a/+", "a", false, false},
    {"a/+", "a/b/c", false, false},
    {"+/+", "/x", true, true},
    {"+/+", "/", true, true},
    {"+/+", "x", false, false},
    {"/+", "/x", true, true},
    {"/+", "x", false, false},
    {"+/b/+", "a/b/c", true, true},
    {"+/b/+", "a/c/c", false, false},
    /* '#' */
    {"#", "a", true, true},
    {"#", "a/b/c", true, true},
    {"#", "/", true, true},
    {"#", "", true, true},
    {"a/#", "a/b", true, true},
    {"a/#", "a/b/c", true, true},
    {"a/#", "a/", true, true},
    {"a/#", "a", false, true}, /* AWS: sensor/# does not match sensor */
    {"a/#", "b", false, false},
    {"a/#", "ab", false, false},
    {"a/b/#", "a/b", false, true},
    {"a/b/#", "a", false, false},
    {"a/+/#", "a/x", false, true},
    {"a/+/#", "a/x/y", true, true},
    {"a/+/#", "a", false, false},
    {"+/#", "a", false, true},
    {"/#", "/", true, true},
    {"/#", "", false, true},
    {"a/+/c/#", "a/b/c/d/e", true, true},
    {"a/+/c/#", "a/b/c", false, true},
    {"a/+/c/#", "a/b/d/e", false, false},
    /* [MQTT-4.7.2-1] '$' topics and wildcard-first filters */
    {"#", "$aws/x", false, false},
    {"#", "$", false, false},
    {"+", "$x", false, false},
    {"+/x", "$aws/x", false, false},
    {"+/#", "$aws/x", false, false},
    {"$aws/#", "$aws/x", true, true},
    {"$aws/#", "$aws", false, true},
    {"$aws/+/x", "$aws/t/x", true, true},
    {"$aws/+", "$aws/t", true, true},
    {"$SYS/#", "$SYS/broker", true, true},
    {"$+/x", "$+/x", true, true}, /* literal "$+" level, never valid */
    {"a/#", "a/$x", true, true},  /* the rule is for the first level only */
    {"a/+", "a/$x", true, true},
    {"+/+", "a/$", true, true},
};

START_TEST(match_table) {
    const match_row_t *r = &match_rows[_i];
    ck_assert_msg(ic_topic_matches(r->f, strlen(r->f), r->t, strlen(r->t),
                                   false) == r->aws,
                  "aws: \"%s\" vs \"%s\", want %d", r->f, r->t, r->aws);
    ck_assert_msg(ic_topic_matches(r->f, strlen(r->f), r->t, strlen(r->t),
                                   true) == r->mqtt,
                  "mqtt: \"%s\" vs \"%s\", want %d", r->f, r->t, r->mqtt);
}
END_TEST

Suite *ic_topic_suite(void) {
    Suite *s = suite_create("topic");
    TCase *tc = tcase_create("check");
    tcase_add_loop_test(tc, name_table, 0, N_ROWS(name_rows));
    tcase_add_loop_test(tc, filter_table, 0, N_ROWS(filter_rows));
    tcase_add_test(tc, views_not_strings);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, byte_limit);
    tcase_add_test(tc, share_prefix_not_counted);
    tcase_add_test(tc, other_limits);
    suite_add_tcase(s, tc);
    tc = tcase_create("split");
    tcase_add_loop_test(tc, share_table, 0, N_ROWS(share_rows));
    tcase_add_loop_test(tc, ingest_table, 0, N_ROWS(ingest_rows));
    tcase_add_test(tc, share_name_length);
    tcase_add_test(tc, reserved);
    suite_add_tcase(s, tc);
    tc = tcase_create("match");
    tcase_add_loop_test(tc, match_table, 0, N_ROWS(match_rows));
    suite_add_tcase(s, tc);
    return s;
}
