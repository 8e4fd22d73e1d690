/* test_trie.c - the subscription trie: unit cases, and a differential test
 * against the reference matcher (ic_topic_matches) over random filters and
 * topics with ic_trie_check after every mutation, in both profiles. */
#include "iotcored/error.h"
#include "iotcored/topic.h"
#include "iotcored/trie.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OWNERS 8
#define FILTERS 64

typedef struct hits_s {
    int n;
    void *owner[256];
    uint8_t opts[256];
    int groups;
} hits_t;

static void on_sub(void *owner, uint8_t opts, void *data) {
    hits_t *h = data;
    h->owner[h->n] = owner;
    h->opts[h->n++] = opts;
}

static void on_group(ic_trie_group_t *g, void *data) {
    hits_t *h = data;
    (void)g;
    h->groups++;
}

static hits_t match(ic_trie_t *t, const char *topic) {
    hits_t h;
    memset(&h, 0, sizeof(h));
    ic_trie_match(t, topic, strlen(topic), on_sub, on_group, &h);
    return h;
}

START_TEST(insert_replace_remove) {
    ic_trie_t *t = ic_trie_new(false);
    int a, b;
    hits_t h;
    ck_assert_int_eq(ic_trie_insert(t, "a/+", 3, NULL, 0, &a, 0), 1);
    ck_assert_int_eq(ic_trie_insert(t, "a/+", 3, NULL, 0, &a, 1), 0);
    ck_assert_int_eq(ic_trie_insert(t, "a/#", 3, NULL, 0, &b, 0), 1);
    ck_assert_int_eq((int)ic_trie_count(t), 2);
    ck_assert(ic_trie_check(t));
    h = match(t, "a/x");
    ck_assert_int_eq(h.n, 2);
    h = match(t, "a");
    ck_assert_int_eq(h.n, 0); /* AWS parent rule */
    ck_assert_int_eq(ic_trie_remove(t, "a/+", 3, NULL, 0, &b), IC_ENOENT);
    ck_assert_int_eq(ic_trie_remove(t, "a/x", 3, NULL, 0, &a), IC_ENOENT);
    ck_assert_int_eq(ic_trie_remove(t, "a/+", 3, NULL, 0, &a), 0);
    ck_assert_int_eq(ic_trie_remove(t, "a/#", 3, NULL, 0, &b), 0);
    ck_assert_int_eq((int)ic_trie_count(t), 0);
    ck_assert(ic_trie_check(t));
    ic_trie_free(t);
}
END_TEST

START_TEST(shared_groups) {
    ic_trie_t *t = ic_trie_new(false);
    int a, b, c;
    hits_t h;
    ic_trie_insert(t, "s/t", 3, "g", 1, &a, 1);
    ic_trie_insert(t, "s/t", 3, "g", 1, &b, 0);
    ic_trie_insert(t, "s/+", 3, "h", 1, &c, 0);
    ic_trie_insert(t, "s/t", 3, NULL, 0, &c, 0);
    ck_assert_int_eq((int)ic_trie_count(t), 4);
    h = match(t, "s/t");
    ck_assert_int_eq(h.n, 1);
    ck_assert_int_eq(h.groups, 2);
    ck_assert_int_eq(ic_trie_remove(t, "s/t", 3, "g", 1, &a), 0);
    ck_assert_int_eq(ic_trie_remove(t, "s/t", 3, "g", 1, &a), IC_ENOENT);
    ck_assert(ic_trie_check(t));
    ic_trie_free(t);
}
END_TEST

START_TEST(dollar_topics) {
    ic_trie_t *t = ic_trie_new(true);
    int a;
    ic_trie_insert(t, "#", 1, NULL, 0, &a, 0);
    ic_trie_insert(t, "+/x", 3, NULL, 0, &a, 0);
    ck_assert_int_eq(match(t, "$aws/x").n, 0);
    ck_assert_int_eq(match(t, "y/x").n, 2);
    ic_trie_insert(t, "$aws/#", 6, NULL, 0, &a, 0);
    ck_assert_int_eq(match(t, "$aws/x").n, 1);
    ic_trie_free(t);
}
END_TEST

/* ---- differential ----------------------------------------------------------- */

static const char *const levels[] = {"a", "b", "c", "", "$x"};

static void random_topic(unsigned *seed, char *out, bool is_filter) {
    int n = rand_r(seed) % 4 + 1, i;
    out[0] = '\0';
    for (i = 0; i < n; i++) {
        int r = rand_r(seed) % (is_filter ? 7 : 5);
        const char *l;
        if (i > 0)
            strcat(out, "/");
        if (is_filter && r == 5)
            l = "+";
        else if (is_filter && r == 6) {
            strcat(out, "#");
            return;
        } else
            l = levels[r % 5];
        if (strcmp(l, "$x") == 0 && i > 0)
            l = "d";
        strcat(out, l);
    }
}

static void differential(bool parent) {
    ic_trie_t *t = ic_trie_new(parent);
    bool has[OWNERS][FILTERS];
    char filters[FILTERS][64];
    int owners[OWNERS];
    unsigned seed = parent ? 7 : 3;
    int i, step;
    memset(has, 0, sizeof(has));
    for (i = 0; i < FILTERS; i++) {
        random_topic(&seed, filters[i], true);
        /* keep one spelling per filter text */
    }
    for (step = 0; step < 4000; step++) {
        int o = rand_r(&seed) % OWNERS, f = rand_r(&seed) % FILTERS, k;
        char topic[64];
        hits_t h;
        int want = 0;
        bool dup = false;
        for (k = 0; k < f; k++)
            dup = dup || strcmp(filters[k], filters[f]) == 0;
        if (dup)
            continue;
        if (has[o][f]) {
            ck_assert_int_eq(ic_trie_remove(t, filters[f], strlen(filters[f]),
                                            NULL, 0, &owners[o]), 0);
            has[o][f] = false;
        } else {
            ck_assert_int_eq(ic_trie_insert(t, filters[f], strlen(filters[f]),
                                            NULL, 0, &owners[o], (uint8_t)f), 1);
            has[o][f] = true;
        }
        ck_assert(ic_trie_check(t));
        random_topic(&seed, topic, false);
        h = match(t, topic);
        for (o = 0; o < OWNERS; o++)
            for (f = 0; f < FILTERS; f++)
                if (has[o][f] && ic_topic_matches(filters[f], strlen(filters[f]),
                                                  topic, strlen(topic), parent)) {
                    bool found = false;
                    want++;
                    for (k = 0; k < h.n; k++)
                        found = found || (h.owner[k] == &owners[o] && h.opts[k] == f);
                    ck_assert_msg(found, "missing %s for topic %s", filters[f], topic);
                }
        ck_assert_msg(h.n == want, "topic %s: trie %d, reference %d", topic, h.n,
                      want);
    }
    ic_trie_free(t);
}

START_TEST(differential_aws) {
    differential(false);
}
END_TEST

START_TEST(differential_mqtt) {
    differential(true);
}
END_TEST

Suite *ic_trie_suite(void) {
    Suite *s = suite_create("trie");
    TCase *tc = tcase_create("trie");
    tcase_add_test(tc, insert_replace_remove);
    tcase_add_test(tc, shared_groups);
    tcase_add_test(tc, dollar_topics);
    tcase_add_test(tc, differential_aws);
    tcase_add_test(tc, differential_mqtt);
    suite_add_tcase(s, tc);
    return s;
}
