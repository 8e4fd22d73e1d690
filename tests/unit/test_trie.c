/* test_trie.c - unit suite for mqtt/trie.c.
 *
 * Single job: show that the trie stores, replaces, removes and matches
 * subscriptions exactly as the reference matcher ic_topic_matches says it
 * should. Unit cases cover insert/replace/remove/ENOENT, shared groups and
 * their cursor, '$' topics and pruning; the differential test drives seeded
 * random (owner, filter[, share]) inserts and removes, runs ic_trie_check
 * after every mutation, and compares every match with a linear scan, in both
 * profiles (STYLE 3.11, after SQLite's sqlite3BitvecBuiltinTest). It owns
 * its model of what is subscribed and must not test topic validation
 * (test_topic.c does) or depend on the loop, files or the clock.
 */
#include "iotcored/error.h"
#include "iotcored/topic.h"
#include "iotcored/trie.h"
#include "suites.h"

#include <stdio.h>
#include <string.h>

Suite *ic_trie_suite(void);

#define MAX_HITS 4096

typedef struct group_hit_s {
    ic_trie_group_t *g;
    const char *name;
    size_t name_len;
    size_t size;
} group_hit_t;

typedef struct hits_s {
    size_t n;
    void *owner[MAX_HITS];
    uint8_t opts[MAX_HITS];
    size_t n_groups;
    group_hit_t groups[MAX_HITS];
} hits_t;

static void on_sub(void *owner, uint8_t opts, void *data) {
    hits_t *h = data;
    ck_assert_uint_lt(h->n, MAX_HITS);
    h->owner[h->n] = owner;
    h->opts[h->n++] = opts;
}

static void on_group(ic_trie_group_t *g, void *data) {
    hits_t *h = data;
    group_hit_t *x;
    ck_assert_uint_lt(h->n_groups, MAX_HITS);
    x = &h->groups[h->n_groups++];
    x->g = g;
    x->name = ic_trie_group_name(g, &x->name_len);
    x->size = ic_trie_group_size(g);
}

/* Static: a hits_t is too large for a comfortable stack frame. */
static hits_t hits;

static const hits_t *match(ic_trie_t *t, const char *topic) {
    memset(&hits, 0, sizeof(hits));
    ic_trie_match(t, topic, strlen(topic), on_sub, on_group, &hits);
    return &hits;
}

static int ins(ic_trie_t *t, const char *f, const char *share, void *owner,
               uint8_t opts) {
    return ic_trie_insert(t, f, strlen(f), share, share ? strlen(share) : 0,
                          owner, opts);
}

static int rem(ic_trie_t *t, const char *f, const char *share, void *owner) {
    return ic_trie_remove(t, f, strlen(f), share, share ? strlen(share) : 0,
                          owner);
}

static bool hit(const hits_t *h, const void *owner, uint8_t opts) {
    size_t i;
    for (i = 0; i < h->n; i++)
        if (h->owner[i] == owner && h->opts[i] == opts)
            return true;
    return false;
}

/* ---- unit cases ----------------------------------------------------------------- */

START_TEST(empty) {
    ic_trie_t *t = ic_trie_new(false);
    ck_assert(ic_trie_check(t));
    ck_assert_uint_eq(ic_trie_count(t), 0);
    ck_assert_uint_eq(match(t, "a")->n, 0);
    ck_assert_int_eq(rem(t, "a", NULL, t), IC_ENOENT);
    ck_assert_int_eq(rem(t, "a/+/#", "g", t), IC_ENOENT);
    ck_assert(ic_trie_check(t));
    ic_trie_free(t);
    ic_trie_free(NULL);
}
END_TEST

START_TEST(insert_replace_remove) {
    ic_trie_t *t = ic_trie_new(false);
    int a, b;
    ck_assert_int_eq(ins(t, "a/+", NULL, &a, 0), 1);
    ck_assert_int_eq(ins(t, "a/+", NULL, &a, 1), 0); /* replaces opts */
    ck_assert_int_eq(ins(t, "a/+", NULL, &b, 2), 1);
    ck_assert_int_eq(ins(t, "a/#", NULL, &b, 3), 1);
    ck_assert_uint_eq(ic_trie_count(t), 3);
    ck_assert(ic_trie_check(t));
    ck_assert_uint_eq(match(t, "a/x")->n, 3);
    ck_assert(hit(&hits, &a, 1));
    ck_assert(!hit(&hits, &a, 0));
    ck_assert(hit(&hits, &b, 2));
    ck_assert(hit(&hits, &b, 3));
    ck_assert_uint_eq(match(t, "a")->n, 0); /* AWS: a/# !~ a */
    ck_assert_uint_eq(match(t, "a/x/y")->n, 1);
    /* absent owner, absent filter, a prefix of a stored filter */
    ck_assert_int_eq(rem(t, "a/#", NULL, &a), IC_ENOENT);
    ck_assert_int_eq(rem(t, "a/x", NULL, &a), IC_ENOENT);
    ck_assert_int_eq(rem(t, "a", NULL, &a), IC_ENOENT);
    ck_assert_int_eq(rem(t, "a/+/b", NULL, &a), IC_ENOENT);
    ck_assert_int_eq(rem(t, "a/+", "g", &a), IC_ENOENT); /* not shared */
    ck_assert(ic_trie_check(t));
    ck_assert_uint_eq(ic_trie_count(t), 3);
    ck_assert_int_eq(rem(t, "a/+", NULL, &a), 0);
    ck_assert_int_eq(rem(t, "a/+", NULL, &a), IC_ENOENT);
    ck_assert(ic_trie_check(t));
    ck_assert_int_eq(rem(t, "a/+", NULL, &b), 0);
    ck_assert_int_eq(rem(t, "a/#", NULL, &b), 0);
    ck_assert_uint_eq(ic_trie_count(t), 0);
    ck_assert(ic_trie_check(t));
    ck_assert_uint_eq(match(t, "a/x")->n, 0);
    ic_trie_free(t);
}
END_TEST

START_TEST(parent_rule) {
    ic_trie_t *aws = ic_trie_new(false), *mqtt = ic_trie_new(true);
    int a;
    ins(aws, "sensor/#", NULL, &a, 0);
    ins(mqtt, "sensor/#", NULL, &a, 0);
    ck_assert_uint_eq(match(aws, "sensor")->n, 0);
    ck_assert_uint_eq(match(mqtt, "sensor")->n, 1);
    ck_assert_uint_eq(match(aws, "sensor/")->n, 1);
    ck_assert_uint_eq(match(aws, "sensor/a")->n, 1);
    ck_assert_uint_eq(match(aws, "sensor/a/b")->n, 1);
    ck_assert_uint_eq(match(aws, "sensors")->n, 0);
    ins(aws, "+/#", NULL, &a, 1);
    ins(mqtt, "+/#", NULL, &a, 1);
    ck_assert_uint_eq(match(aws, "x")->n, 0);
    ck_assert_uint_eq(match(mqtt, "x")->n, 1);
    ck_assert_uint_eq(match(mqtt, "sensor")->n, 2);
    ic_trie_free(aws);
    ic_trie_free(mqtt);
}
END_TEST

START_TEST(empty_levels) {
    ic_trie_t *t = ic_trie_new(false);
    int a;
    ins(t, "a/+", NULL, &a, 1);
    ins(t, "/", NULL, &a, 2);
    ins(t, "+/+", NULL, &a, 3);
    ins(t, "a//b", NULL, &a, 4);
    ck_assert(ic_trie_check(t));
    ck_assert_uint_eq(match(t, "a/")->n, 2); /* a/+ and +/+ */
    ck_assert(hit(&hits, &a, 1) && hit(&hits, &a, 3));
    ck_assert_uint_eq(match(t, "/")->n, 2); /* / and +/+ */
    ck_assert_uint_eq(match(t, "a//b")->n, 1);
    ck_assert_uint_eq(match(t, "a/b")->n, 2);
    ic_trie_free(t);
}
END_TEST

START_TEST(dollar_topics) {
    ic_trie_t *t = ic_trie_new(true);
    int a;
    ins(t, "#", NULL, &a, 1);
    ins(t, "+/x", NULL, &a, 2);
    ins(t, "+/#", NULL, &a, 3);
    ins(t, "#", "g", &a, 4);
    ck_assert_uint_eq(match(t, "$aws/x")->n, 0); /* [MQTT-4.7.2-1] */
    ck_assert_uint_eq(hits.n_groups, 0);
    ck_assert_uint_eq(match(t, "$")->n, 0);
    ck_assert_uint_eq(match(t, "y/x")->n, 3);
    ck_assert_uint_eq(hits.n_groups, 1);
    ins(t, "$aws/#", NULL, &a, 5);
    ins(t, "$aws/+", NULL, &a, 6);
    ck_assert_uint_eq(match(t, "$aws/x")->n, 2);
    ck_assert(hit(&hits, &a, 5) && hit(&hits, &a, 6));
    ck_assert_uint_eq(match(t, "$aws")->n, 1); /* parent rule, profile MQTT */
    /* only the first level is special */
    ck_assert_uint_eq(match(t, "y/$x")->n, 2); /* # and +/# */
    ic_trie_free(t);
}
END_TEST

START_TEST(shared_groups) {
    ic_trie_t *t = ic_trie_new(false);
    int a, b, c;
    const hits_t *h;
    uint8_t opts = 0;
    ck_assert_int_eq(ins(t, "s/t", "g", &a, 1), 1);
    ck_assert_int_eq(ins(t, "s/t", "g", &b, 0), 1);
    ck_assert_int_eq(ins(t, "s/t", "g", &b, 2), 0); /* replaces */
    ck_assert_int_eq(ins(t, "s/+", "h", &c, 0), 1);
    ck_assert_int_eq(ins(t, "s/t", "h", &c, 0), 1); /* same name, other filter */
    ck_assert_int_eq(ins(t, "s/t", NULL, &c, 0), 1); /* plain and shared coexist */
    ck_assert_uint_eq(ic_trie_count(t), 5);
    ck_assert(ic_trie_check(t));
    h = match(t, "s/t");
    ck_assert_uint_eq(h->n, 1);
    ck_assert_uint_eq(h->n_groups, 3); /* once per group, not per member */
    h = match(t, "s/u");
    ck_assert_uint_eq(h->n, 0);
    ck_assert_uint_eq(h->n_groups, 1);
    ck_assert_uint_eq(h->groups[0].name_len, 1);
    ck_assert(memcmp(h->groups[0].name, "h", 1) == 0);
    /* members and opts of g */
    h = match(t, "s/t");
    {
        size_t i;
        ic_trie_group_t *g = NULL;
        for (i = 0; i < h->n_groups; i++)
            if (h->groups[i].name[0] == 'g')
                g = h->groups[i].g;
        ck_assert_ptr_nonnull(g);
        ck_assert_uint_eq(ic_trie_group_size(g), 2);
        ck_assert_ptr_eq(ic_trie_group_member(g, 0, &opts), &a);
        ck_assert_uint_eq(opts, 1);
        ck_assert_ptr_eq(ic_trie_group_member(g, 1, &opts), &b);
        ck_assert_uint_eq(opts, 2);
        ck_assert_ptr_eq(ic_trie_group_member(g, 1, NULL), &b);
    }
    ck_assert_int_eq(rem(t, "s/t", "g", &c), IC_ENOENT);
    ck_assert_int_eq(rem(t, "s/t", "x", &a), IC_ENOENT);
    ck_assert_int_eq(rem(t, "s/t", NULL, &a), IC_ENOENT);
    ck_assert_int_eq(rem(t, "s/t", "g", &a), 0);
    ck_assert_int_eq(rem(t, "s/t", "g", &a), IC_ENOENT);
    ck_assert(ic_trie_check(t));
    ck_assert_int_eq(rem(t, "s/t", "g", &b), 0); /* group g disappears */
    ck_assert(ic_trie_check(t));
    h = match(t, "s/t");
    ck_assert_uint_eq(h->n_groups, 2);
    ck_assert_uint_eq(ic_trie_count(t), 3);
    ic_trie_free(t);
}
END_TEST

typedef struct rr_s {
    void *picked[16];
    size_t n;
} rr_t;

/* The router's use of the cursor: take the member at it, move it on. */
static void pick_next(ic_trie_group_t *g, void *data) {
    rr_t *r = data;
    size_t *cur = ic_trie_group_cursor(g);
    size_t n = ic_trie_group_size(g);
    r->picked[r->n++] = ic_trie_group_member(g, *cur % n, NULL);
    *cur = (*cur % n) + 1;
}

static void *rr(ic_trie_t *t) {
    rr_t r;
    memset(&r, 0, sizeof(r));
    ic_trie_match(t, "q", 1, NULL, pick_next, &r);
    ck_assert_uint_eq(r.n, 1);
    return r.picked[0];
}

START_TEST(group_cursor) {
    ic_trie_t *t = ic_trie_new(false);
    int m[4];
    int i;
    for (i = 0; i < 4; i++)
        ins(t, "q", "g", &m[i], 0);
    ck_assert_ptr_eq(rr(t), &m[0]);
    ck_assert_ptr_eq(rr(t), &m[1]);
    /* the cursor persists across matches and survives a replace */
    ins(t, "q", "g", &m[0], 1);
    ck_assert_ptr_eq(rr(t), &m[2]);
    /* removing a member before the cursor keeps the next one next */
    rem(t, "q", "g", &m[0]);
    ck_assert(ic_trie_check(t));
    ck_assert_ptr_eq(rr(t), &m[3]);
    ck_assert_ptr_eq(rr(t), &m[1]);
    /* removing the member at the cursor hands the turn to its successor */
    rem(t, "q", "g", &m[2]);
    ck_assert(ic_trie_check(t));
    ck_assert_ptr_eq(rr(t), &m[3]);
    ck_assert_ptr_eq(rr(t), &m[1]);
    /* a new member joins at the end of the round */
    ins(t, "q", "g", &m[0], 0);
    ck_assert_ptr_eq(rr(t), &m[3]);
    ck_assert_ptr_eq(rr(t), &m[0]);
    ck_assert_ptr_eq(rr(t), &m[1]);
    ic_trie_free(t);
}
END_TEST

/* Many siblings force the kids table through growth and shrinking. */
START_TEST(wide_level) {
    ic_trie_t *t = ic_trie_new(false);
    char f[32];
    int a, i, j;
    for (i = 0; i < 500; i++) {
        snprintf(f, sizeof(f), "w/%d", i);
        ck_assert_int_eq(ins(t, f, NULL, &a, (uint8_t)(i & 0xff)), 1);
        if (i % 50 == 0)
            ck_assert(ic_trie_check(t));
    }
    ck_assert(ic_trie_check(t));
    for (i = 0; i < 500; i++) {
        snprintf(f, sizeof(f), "w/%d", i);
        ck_assert_uint_eq(match(t, f)->n, 1);
        ck_assert_uint_eq(hits.opts[0], (uint8_t)(i & 0xff));
    }
    ck_assert_uint_eq(match(t, "w/500")->n, 0);
    /* remove in a scattered order so backward shifts cross wrap-arounds */
    for (j = 0; j < 7; j++) {
        for (i = j; i < 500; i += 7) {
            snprintf(f, sizeof(f), "w/%d", i);
            ck_assert_int_eq(rem(t, f, NULL, &a), 0);
        }
        ck_assert(ic_trie_check(t));
        for (i = 0; i < 500; i++) {
            snprintf(f, sizeof(f), "w/%d", i);
            ck_assert_uint_eq(match(t, f)->n, i % 7 > j ? 1u : 0u);
        }
    }
    ck_assert_uint_eq(ic_trie_count(t), 0);
    ic_trie_free(t);
}
END_TEST

/* Remove prunes: a deep filter leaves nothing behind, and the check would
 * fail on any empty non-root node left over. */
START_TEST(prune) {
    ic_trie_t *t = ic_trie_new(false);
    int a, b;
    ins(t, "a/b/c/d/e/f/g/h", NULL, &a, 0);
    ins(t, "a/b/+/#", NULL, &b, 0);
    ins(t, "a/b", "g", &b, 0);
    ck_assert_int_eq(rem(t, "a/b/c/d/e/f/g/h", NULL, &a), 0);
    ck_assert(ic_trie_check(t));
    ck_assert_uint_eq(match(t, "a/b/c/d")->n, 1);
    ck_assert_int_eq(rem(t, "a/b/+/#", NULL, &b), 0);
    ck_assert(ic_trie_check(t));
    ck_assert_int_eq(rem(t, "a/b", "g", &b), 0);
    ck_assert(ic_trie_check(t));
    ck_assert_uint_eq(ic_trie_count(t), 0);
    /* the trie is usable again after emptying */
    ins(t, "a/b", NULL, &a, 0);
    ck_assert_uint_eq(match(t, "a/b")->n, 1);
    ck_assert(ic_trie_check(t));
    ic_trie_free(t);
}
END_TEST

/* ic_trie_free releases a populated trie (ASan reports any leak). */
START_TEST(free_populated) {
    ic_trie_t *t = ic_trie_new(true);
    int a, b;
    ins(t, "a/+/#", NULL, &a, 0);
    ins(t, "a/+/#", "g", &b, 0);
    ins(t, "#", "h", &a, 0);
    ins(t, "$aws/x", NULL, &b, 0);
    ic_trie_free(t);
}
END_TEST

/* ---- differential ------------------------------------------------------------- */

#define OWNERS 6
#define FILTERS 64 /* distinct filters in the pool; index fits in opts */
#define SHARES 3   /* none, "g1", "g2" */
#define STEPS 6000
#define TOPICS_PER_STEP 3

static const char *const share_names[SHARES] = {NULL, "g1", "g2"};
static const char *const literals[] = {"a", "b", "c", ""};
#define N_LITERALS 4

/* splitmix64: seeded, identical on every platform. */
static uint64_t next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static unsigned roll(uint64_t *s, unsigned n) {
    return (unsigned)(next(s) % n);
}

static void append(char *out, size_t cap, const char *level, bool first) {
    size_t n = strlen(out);
    ck_assert_uint_lt(n + strlen(level) + 2, cap);
    if (!first)
        out[n++] = '/';
    memcpy(out + n, level, strlen(level) + 1);
}

/* A valid filter of 1..5 levels over a, b, c, "", +, and a final #; some
 * start with a '$' level. */
static void random_filter(uint64_t *s, char *out, size_t cap) {
    unsigned levels = 1 + roll(s, 5), i;
    out[0] = '\0';
    for (i = 0; i < levels; i++) {
        unsigned r = roll(s, 10);
        const char *l;
        if (i == 0 && roll(s, 6) == 0)
            l = roll(s, 2) ? "$s" : "$";
        else if (r < 6)
            l = literals[r % N_LITERALS];
        else if (r < 8)
            l = "+";
        else
            l = "#";
        append(out, cap, l, i == 0);
        if (strcmp(l, "#") == 0)
            break;
    }
}

static void random_literal(uint64_t *s, char *out, size_t cap, bool first) {
    append(out, cap, literals[roll(s, N_LITERALS)], first);
}

/* Half the topics are random; half are made from a pool filter (wildcards
 * filled in, a final "#" sometimes dropped to probe the parent rule) so
 * matches are common. Some start with a '$' level. */
static void random_topic(uint64_t *s, char filters[][32], char *out,
                         size_t cap) {
    const char *f;
    size_t at = 0, len;
    unsigned i, n;
    bool first = true;
    out[0] = '\0';
    if (roll(s, 2) == 0) {
        n = 1 + roll(s, 5);
        for (i = 0; i < n; i++) {
            if (i == 0 && roll(s, 5) == 0)
                append(out, cap, roll(s, 2) ? "$s" : "$", true);
            else
                random_literal(s, out, cap, i == 0);
        }
        return;
    }
    f = filters[roll(s, FILTERS)];
    len = strlen(f);
    for (;;) {
        size_t end = at;
        char level[32];
        while (end < len && f[end] != '/')
            end++;
        memcpy(level, f + at, end - at);
        level[end - at] = '\0';
        if (strcmp(level, "#") == 0) {
            n = roll(s, 4); /* 0 = the parent itself */
            if (n == 0 && first)
                n = 1;
            for (i = 0; i < n; i++)
                random_literal(s, out, cap, first && i == 0);
            return;
        }
        if (strcmp(level, "+") == 0)
            random_literal(s, out, cap, first);
        else
            append(out, cap, level, first);
        first = false;
        if (end == len)
            return;
        at = end + 1;
    }
}

static int owner_ids[OWNERS]; /* owners are the addresses of these */

static int owner_index(const void *p) {
    int o;
    for (o = 0; o < OWNERS; o++)
        if (p == &owner_ids[o])
            return o;
    return -1;
}

/* has[o][f][s]: owner o holds filter f under share s (0 = not shared). The
 * trie stores opts = f, so every hit names its filter. */
typedef struct model_s {
    bool has[OWNERS][FILTERS][SHARES];
    size_t count;
} model_t;

static void compare(ic_trie_t *t, const model_t *m, char filters[][32],
                    const char *topic, bool parent) {
    bool fm[FILTERS], seen[OWNERS][FILTERS], seen_group[FILTERS][SHARES];
    size_t want_subs = 0, want_groups = 0, i, k;
    int f, o, s;
    const hits_t *h = match(t, topic);
    memset(seen, 0, sizeof(seen));
    memset(seen_group, 0, sizeof(seen_group));
    for (f = 0; f < FILTERS; f++)
        fm[f] = ic_topic_matches(filters[f], strlen(filters[f]), topic,
                                 strlen(topic), parent);
    /* direct: the trie's hits are exactly the model's matching pairs */
    for (i = 0; i < h->n; i++) {
        o = owner_index(h->owner[i]);
        f = h->opts[i];
        ck_assert_msg(o >= 0 && f < FILTERS, "unknown hit");
        ck_assert_msg(fm[f] && m->has[o][f][0],
                      "topic \"%s\": trie matched \"%s\" for owner %d, "
                      "reference did not",
                      topic, filters[f], o);
        ck_assert_msg(!seen[o][f], "topic \"%s\": \"%s\" reported twice",
                      topic, filters[f]);
        seen[o][f] = true;
    }
    for (o = 0; o < OWNERS; o++)
        for (f = 0; f < FILTERS; f++)
            if (fm[f] && m->has[o][f][0])
                want_subs++;
    ck_assert_msg(h->n == want_subs,
                  "topic \"%s\": trie %zu direct hits, reference %zu", topic,
                  h->n, want_subs);
    /* shared: one report per live (filter, share), with all its members */
    for (i = 0; i < h->n_groups; i++) {
        const group_hit_t *g = &h->groups[i];
        size_t members = 0;
        uint8_t opts;
        for (s = 1; s < SHARES; s++)
            if (g->name_len == strlen(share_names[s]) &&
                memcmp(g->name, share_names[s], g->name_len) == 0)
                break;
        ck_assert_int_lt(s, SHARES);
        ck_assert_uint_ge(g->size, 1);
        ic_trie_group_member(g->g, 0, &opts);
        f = opts;
        ck_assert_msg(f < FILTERS && fm[f],
                      "topic \"%s\": group %s reported for a filter the "
                      "reference does not match",
                      topic, share_names[s]);
        ck_assert_msg(!seen_group[f][s], "topic \"%s\": group reported twice",
                      topic);
        seen_group[f][s] = true;
        for (k = 0; k < g->size; k++) {
            o = owner_index(ic_trie_group_member(g->g, k, &opts));
            ck_assert(o >= 0);
            ck_assert_int_eq(opts, f);
            ck_assert(m->has[o][f][s]);
        }
        for (o = 0; o < OWNERS; o++)
            members += m->has[o][f][s];
        ck_assert_uint_eq(members, g->size);
    }
    for (f = 0; f < FILTERS; f++) {
        for (s = 1; s < SHARES && fm[f]; s++) {
            bool any = false;
            for (o = 0; o < OWNERS; o++)
                any = any || m->has[o][f][s];
            want_groups += any;
        }
    }
    ck_assert_msg(h->n_groups == want_groups,
                  "topic \"%s\": trie %zu groups, reference %zu", topic,
                  h->n_groups, want_groups);
}

static int apply(ic_trie_t *t, const char *f, int s, int o, bool insert,
                 uint8_t opts) {
    const char *share = share_names[s];
    size_t share_len = share ? strlen(share) : 0;
    if (insert)
        return ic_trie_insert(t, f, strlen(f), share, share_len, &owner_ids[o],
                              opts);
    return ic_trie_remove(t, f, strlen(f), share, share_len, &owner_ids[o]);
}

/* Seeded random walk: phases of 500 steps alternate between mostly adding
 * and mostly removing, so the trie both fills up and prunes back. */
static void differential(uint64_t seed, bool parent) {
    static model_t m;
    static const ic_topic_limits_t aws = {256, 7};
    char filters[FILTERS][32], topic[64];
    ic_trie_t *t = ic_trie_new(parent);
    int n = 0, step, k, o, f, s;
    memset(&m, 0, sizeof(m));
    while (n < FILTERS) {
        bool dup = false;
        random_filter(&seed, filters[n], sizeof(filters[n]));
        ck_assert_msg(ic_topic_check_filter(filters[n], strlen(filters[n]),
                                            &aws, NULL) == 0,
                      "generated an invalid filter \"%s\"", filters[n]);
        for (k = 0; k < n; k++)
            dup = dup || strcmp(filters[k], filters[n]) == 0;
        n += !dup;
    }
    for (step = 0; step < STEPS; step++) {
        unsigned p_insert = (step / 500) % 2 == 0 ? 75 : 25;
        bool insert = roll(&seed, 100) < p_insert;
        o = (int)roll(&seed, OWNERS);
        f = (int)roll(&seed, FILTERS);
        s = (int)roll(&seed, SHARES);
        if (insert) {
            ck_assert_int_eq(apply(t, filters[f], s, o, true, (uint8_t)f),
                             m.has[o][f][s] ? 0 : 1);
            m.count += !m.has[o][f][s];
            m.has[o][f][s] = true;
        } else {
            ck_assert_int_eq(apply(t, filters[f], s, o, false, 0),
                             m.has[o][f][s] ? 0 : IC_ENOENT);
            m.count -= m.has[o][f][s];
            m.has[o][f][s] = false;
        }
        ck_assert_msg(ic_trie_check(t), "seed step %d: check failed after %s "
                      "\"%s\"", step, insert ? "insert" : "remove", filters[f]);
        ck_assert_uint_eq(ic_trie_count(t), m.count);
        for (k = 0; k < TOPICS_PER_STEP; k++) {
            random_topic(&seed, filters, topic, sizeof(topic));
            compare(t, &m, filters, topic, parent);
        }
    }
    /* drain: everything goes, the trie prunes back to a bare root */
    for (o = 0; o < OWNERS; o++)
        for (f = 0; f < FILTERS; f++)
            for (s = 0; s < SHARES; s++)
                if (m.has[o][f][s]) {
                    ck_assert_int_eq(apply(t, filters[f], s, o, false, 0), 0);
                    m.has[o][f][s] = false;
                    m.count--;
                    ck_assert(ic_trie_check(t));
                }
    ck_assert_uint_eq(ic_trie_count(t), 0);
    for (k = 0; k < 20; k++) {
        random_topic(&seed, filters, topic, sizeof(topic));
        compare(t, &m, filters, topic, parent);
    }
    ic_trie_free(t);
}

#define DIFF_SEEDS 4

/* _i: seed in the high bits, profile in the low bit. */
START_TEST(differential_run) {
    differential(0x1c0ffee0u + (uint64_t)(_i / 2), _i % 2 == 1);
}
END_TEST

Suite *ic_trie_suite(void) {
    Suite *s = suite_create("trie");
    TCase *tc = tcase_create("unit");
    tcase_add_test(tc, empty);
    tcase_add_test(tc, insert_replace_remove);
    tcase_add_test(tc, parent_rule);
    tcase_add_test(tc, empty_levels);
    tcase_add_test(tc, dollar_topics);
    tcase_add_test(tc, shared_groups);
    tcase_add_test(tc, group_cursor);
    tcase_add_test(tc, wide_level);
    tcase_add_test(tc, prune);
    tcase_add_test(tc, free_populated);
    suite_add_tcase(s, tc);
    tc = tcase_create("differential");
    tcase_set_timeout(tc, 60); /* sanitizer builds are slower */
    tcase_add_loop_test(tc, differential_run, 0, 2 * DIFF_SEEDS);
    suite_add_tcase(s, tc);
    return s;
}
