/* trie.c - the subscription index: one node per filter level.
 *
 *   root (level "", parent NULL, never freed before the trie)
 *    │
 *    ├─ kids ─┬─ [0] "sensor" ─┬─ kids ─┬─ [1] "a" ─ ...
 *    │        ├─ [1] NULL      │        └─ [3] ""  (a level may be empty)
 *    │        ├─ [2] "$aws"    ├─ plus ── "+" ── kids ── "temp"
 *    │        └─ [3] NULL      │                          subs:   [s1 q1]
 *    │                         │                          groups: ["g" {s3 s4} cursor]
 *    │                         └─ hash ── "#"  subs: [s2 q0]   (always a leaf)
 *    ├─ plus ── "+" ...        (skipped for topics starting with '$')
 *    └─ hash ── "#" ...        (skipped for topics starting with '$')
 *
 *   kids: open addressing, linear probing, capacity a power of two, load at
 *         most 3/4, deletion by backward shift (no tombstones), keyed by the
 *         level bytes. "+" and "#" never enter it: they are `plus`/`hash`.
 *   subs: direct subscribers (owner, opts), each owner at most once.
 *   groups: shared subscriptions at this filter, one per share name; each
 *         holds its members (owner, opts) and a round-robin cursor that the
 *         router advances.
 *
 * Single job: map filters to subscribers and, given a topic, visit every
 * subscription whose filter matches. Owns the nodes, level copies, arrays
 * and groups; the owners are opaque pointers it never dereferences. It must
 * not validate filters (topic.c does, the caller checks first), choose a
 * group member (router.c does) or touch the loop, I/O or the clock (STYLE
 * P2). Not thread-safe: the loop thread owns it, like the router.
 *
 * Invariants (ic_trie_check): count equals the stored subscriptions; every
 * child points back at its parent; no node except the root is without
 * subscribers, groups and children (remove prunes up to the root); a "#"
 * node has no children; every entry of a kids table is found by a lookup of
 * its own level; groups are non-empty with distinct names.
 *
 * Matching allocates nothing. It recurses once per topic level, so depth is
 * bounded by the trie depth, itself bounded by the slash limit of validated
 * filters (8 levels on AWS). The callbacks run during the walk and must not
 * modify the trie. References: MQTT 5.0 4.7 (wildcards, '$' topics), 4.8.2
 * (shared subscriptions); Mosquitto subs.c; the Redis rax.h diagram.
 */
#include "iotcored/trie.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/topic.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define KIDS_MIN_CAP 4 /* slots in a table's first allocation */

typedef struct sub_s {
    void *owner;  /* borrowed, opaque; unique within its array */
    uint8_t opts; /* subscription options, stored as given */
} sub_t;

struct ic_trie_group_s {
    char *name;      /* owned copy of the share name, not NUL-terminated */
    size_t name_len; /* bytes, >= 1 */
    sub_t *m;        /* members; n >= 1 while the group exists */
    size_t n, cap;   /* members used / allocated */
    size_t cursor;   /* next member to try; caller-advanced, used mod n */
};

typedef struct node_s node_t;
struct node_s {
    node_t *parent;          /* NULL only for the root */
    node_t **kids;           /* literal children, cap_kids slots, NULL = free */
    size_t n_kids, cap_kids; /* used slots; cap 0 or a power of two */
    node_t *plus;            /* the "+" child or NULL */
    node_t *hash;            /* the "#" child or NULL; always a leaf */
    sub_t *subs;             /* direct subscribers */
    size_t n_subs, cap_subs;
    ic_trie_group_t **groups; /* shared groups; pointers stay put */
    size_t n_groups, cap_groups;
    uint32_t level_hash; /* level_hash(level, len) */
    size_t len;          /* level bytes */
    char level[];        /* level text, not NUL-terminated */
};

struct ic_trie_s {
    node_t *root;
    size_t count;             /* direct subscriptions + group members */
    bool hash_matches_parent; /* false = AWS, true = MQTT */
};

/* ---- levels and the kids table ------------------------------------------ */

/* FNV-1a, 32 bits: levels are short and the table only needs spread. */
static uint32_t level_hash(const char *l, size_t len) {
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < len; i++) {
        h ^= (unsigned char)l[i];
        h *= 16777619u;
    }
    return h;
}

static bool same_level(const node_t *k, const char *l, size_t len,
                       uint32_t h) {
    return k->level_hash == h && k->len == len &&
           (len == 0 || memcmp(k->level, l, len) == 0);
}

static bool is_wild(const char *l, size_t len, char c) {
    return len == 1 && l[0] == c;
}

/* Slot holding the child for (l, len), or the free slot that ends its probe
 * run. Precondition: cap_kids > 0. */
static size_t probe(const node_t *n, const char *l, size_t len, uint32_t h) {
    size_t mask = n->cap_kids - 1, i = h & mask;
    while (n->kids[i] != NULL && !same_level(n->kids[i], l, len, h))
        i = (i + 1) & mask;
    return i;
}

static node_t *find_kid(const node_t *n, const char *l, size_t len,
                        uint32_t h) {
    return n->cap_kids == 0 ? NULL : n->kids[probe(n, l, len, h)];
}

static void rehash(node_t *n, size_t cap) {
    node_t **old = n->kids;
    size_t old_cap = n->cap_kids, i;
    n->kids = cap ? ic_xcalloc(cap, sizeof(*n->kids)) : NULL;
    n->cap_kids = cap;
    for (i = 0; i < old_cap; i++) {
        node_t *k = old[i];
        if (k != NULL)
            n->kids[probe(n, k->level, k->len, k->level_hash)] = k;
    }
    free(old);
}

static void add_kid(node_t *n, node_t *k) {
    if ((n->n_kids + 1) * 4 > n->cap_kids * 3)
        rehash(n, n->cap_kids ? n->cap_kids * 2 : KIDS_MIN_CAP);
    n->kids[probe(n, k->level, k->len, k->level_hash)] = k;
    n->n_kids++;
}

/* Knuth's algorithm R: close the gap at `hole` by moving back every later
 * entry of the run whose home slot is not cyclically in (hole, j]. */
static void del_kid(node_t *n, const node_t *k) {
    size_t mask = n->cap_kids - 1;
    size_t hole = probe(n, k->level, k->len, k->level_hash), j = hole;
    assert(n->kids[hole] == k);
    n->kids[hole] = NULL;
    for (;;) {
        node_t *e;
        size_t home;
        j = (j + 1) & mask;
        e = n->kids[j];
        if (e == NULL)
            break;
        home = e->level_hash & mask;
        if (hole <= j ? (home <= hole || home > j)
                      : (home <= hole && home > j)) {
            n->kids[hole] = e;
            n->kids[j] = NULL;
            hole = j;
        }
    }
    n->n_kids--;
    /* Give memory back as a level empties; a load of 1/8 becomes 1/4. */
    if (n->n_kids == 0)
        rehash(n, 0);
    else if (n->cap_kids > KIDS_MIN_CAP && n->n_kids * 8 < n->cap_kids)
        rehash(n, n->cap_kids / 2);
}

static node_t *new_node(node_t *parent, const char *l, size_t len) {
    node_t *k = ic_xcalloc(1, sizeof(*k) + len);
    k->parent = parent;
    k->len = len;
    k->level_hash = level_hash(l, len);
    if (len > 0)
        memcpy(k->level, l, len);
    return k;
}

static void free_group(ic_trie_group_t *g) {
    free(g->name);
    free(g->m);
    free(g);
}

/* Depth-first; depth is the number of filter levels (see the header). */
static void free_node(node_t *n) {
    size_t i;
    for (i = 0; i < n->cap_kids; i++)
        if (n->kids[i] != NULL)
            free_node(n->kids[i]);
    if (n->plus != NULL)
        free_node(n->plus);
    if (n->hash != NULL)
        free_node(n->hash);
    for (i = 0; i < n->n_groups; i++)
        free_group(n->groups[i]);
    free(n->groups);
    free(n->subs);
    free(n->kids);
    free(n);
}

static bool is_empty(const node_t *n) {
    return n->n_subs == 0 && n->n_groups == 0 && n->n_kids == 0 &&
           n->plus == NULL && n->hash == NULL;
}

/* The node for filter, created level by level when `create`. */
static node_t *walk(ic_trie_t *t, const char *f, size_t len, bool create) {
    node_t *n = t->root;
    size_t at = 0;
    for (;;) {
        size_t end = at;
        const char *l = f + at;
        node_t **wild = NULL, *k;
        while (end < len && f[end] != '/')
            end++;
        if (is_wild(l, end - at, '+'))
            wild = &n->plus;
        else if (is_wild(l, end - at, '#'))
            wild = &n->hash;
        if (wild != NULL) {
            if (*wild == NULL && create)
                *wild = new_node(n, l, 1);
            k = *wild;
        } else {
            k = find_kid(n, l, end - at, level_hash(l, end - at));
            if (k == NULL && create) {
                k = new_node(n, l, end - at);
                add_kid(n, k);
            }
        }
        if (k == NULL || end == len)
            return k;
        n = k;
        at = end + 1;
    }
}

/* Free n and every ancestor left empty by it, stopping at the root. */
static void prune(node_t *n) {
    while (n->parent != NULL && is_empty(n)) {
        node_t *p = n->parent;
        if (p->plus == n)
            p->plus = NULL;
        else if (p->hash == n)
            p->hash = NULL;
        else
            del_kid(p, n);
        free_node(n);
        n = p;
    }
}

/* ---- subscriber arrays and groups ----------------------------------------- */

static sub_t *find_sub(sub_t *a, size_t n, const void *owner) {
    size_t i;
    for (i = 0; i < n; i++)
        if (a[i].owner == owner)
            return &a[i];
    return NULL;
}

/* Returns 1 when added, 0 when owner was there and its opts replaced. */
static int put_sub(sub_t **a, size_t *n, size_t *cap, void *owner,
                   uint8_t opts) {
    sub_t *s = find_sub(*a, *n, owner);
    if (s != NULL) {
        s->opts = opts;
        return 0;
    }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 2;
        *a = ic_xrealloc(*a, *cap * sizeof(**a));
    }
    (*a)[*n].owner = owner;
    (*a)[*n].opts = opts;
    (*n)++;
    return 1;
}

/* Returns the removed index, or n when owner is absent. Order is kept so a
 * group's round robin stays fair across removals. */
static size_t del_sub(sub_t *a, size_t *n, const void *owner) {
    sub_t *s = find_sub(a, *n, owner);
    size_t i;
    if (s == NULL)
        return *n;
    i = (size_t)(s - a);
    memmove(s, s + 1, (*n - i - 1) * sizeof(*a));
    (*n)--;
    return i;
}

static size_t find_group(const node_t *n, const char *name, size_t len) {
    size_t i;
    for (i = 0; i < n->n_groups; i++)
        if (n->groups[i]->name_len == len &&
            memcmp(n->groups[i]->name, name, len) == 0)
            return i;
    return n->n_groups;
}

static ic_trie_group_t *add_group(node_t *n, const char *name, size_t len) {
    ic_trie_group_t *g = ic_xcalloc(1, sizeof(*g));
    g->name = ic_xmemdup(name, len);
    g->name_len = len;
    if (n->n_groups == n->cap_groups) {
        n->cap_groups = n->cap_groups ? n->cap_groups * 2 : 1;
        n->groups = ic_xrealloc(n->groups, n->cap_groups * sizeof(*n->groups));
    }
    n->groups[n->n_groups++] = g;
    return g;
}

/* ---- public API ------------------------------------------------------------- */

ic_trie_t *ic_trie_new(bool hash_matches_parent) {
    ic_trie_t *t = ic_xcalloc(1, sizeof(*t));
    t->root = new_node(NULL, "", 0);
    t->hash_matches_parent = hash_matches_parent;
    return t;
}

void ic_trie_free(ic_trie_t *t) {
    if (t == NULL)
        return;
    free_node(t->root);
    free(t);
}

int ic_trie_insert(ic_trie_t *t, const char *filter, size_t len,
                   const char *share, size_t share_len, void *owner,
                   uint8_t opts) {
    node_t *n = walk(t, filter, len, true);
    int added;
    if (share == NULL || share_len == 0) {
        added = put_sub(&n->subs, &n->n_subs, &n->cap_subs, owner, opts);
    } else {
        size_t i = find_group(n, share, share_len);
        ic_trie_group_t *g = i < n->n_groups ? n->groups[i]
                                             : add_group(n, share, share_len);
        added = put_sub(&g->m, &g->n, &g->cap, owner, opts);
    }
    t->count += (size_t)added;
    return added;
}

int ic_trie_remove(ic_trie_t *t, const char *filter, size_t len,
                   const char *share, size_t share_len, void *owner) {
    node_t *n = walk(t, filter, len, false);
    if (n == NULL)
        return IC_ENOENT;
    if (share == NULL || share_len == 0) {
        size_t before = n->n_subs;
        if (del_sub(n->subs, &n->n_subs, owner) == before)
            return IC_ENOENT;
    } else {
        size_t gi = find_group(n, share, share_len), before, i, cur;
        ic_trie_group_t *g;
        if (gi == n->n_groups)
            return IC_ENOENT;
        g = n->groups[gi];
        before = g->n;
        i = del_sub(g->m, &g->n, owner);
        if (i == before)
            return IC_ENOENT;
        if (g->n == 0) {
            free_group(g);
            n->groups[gi] = n->groups[--n->n_groups];
        } else {
            /* Whoever was next in the round robin stays next. */
            cur = g->cursor % before;
            if (i < cur)
                cur--;
            g->cursor = cur % g->n;
        }
    }
    t->count--;
    prune(n);
    return 0;
}

typedef struct visit_s {
    ic_trie_sub_cb sub_cb;     /* may be NULL */
    ic_trie_group_cb group_cb; /* may be NULL */
    void *data;
    bool hash_matches_parent;
    bool is_reserved; /* the topic starts with '$' */
    const char *topic;
    size_t len; /* topic bytes */
} visit_t;

static void emit(node_t *n, const visit_t *v) {
    size_t i;
    if (v->sub_cb != NULL)
        for (i = 0; i < n->n_subs; i++)
            v->sub_cb(n->subs[i].owner, n->subs[i].opts, v->data);
    if (v->group_cb != NULL)
        for (i = 0; i < n->n_groups; i++)
            v->group_cb(n->groups[i], v->data);
}

static void match_level(node_t *n, size_t at, bool at_root, const visit_t *v);

/* k matched the level ending at `end`: finish there or go one level down. */
static void descend(node_t *k, size_t end, const visit_t *v) {
    if (end < v->len) {
        match_level(k, end + 1, false, v);
        return;
    }
    emit(k, v);
    /* [MQTT-4.7.1-1] "a/#" also matches "a". AWS: it does not. */
    if (v->hash_matches_parent && k->hash != NULL)
        emit(k->hash, v);
}

/* Match the topic level starting at `at` against n's children. */
static void match_level(node_t *n, size_t at, bool at_root, const visit_t *v) {
    size_t end = at;
    node_t *k;
    while (end < v->len && v->topic[end] != '/')
        end++;
    /* [MQTT-4.7.2-1] no wildcard first level for topics starting with '$' */
    if (!(at_root && v->is_reserved)) {
        if (n->hash != NULL) /* [MQTT-4.7.1-1] this level and all below */
            emit(n->hash, v);
        if (n->plus != NULL) /* [MQTT-4.7.1-2] exactly one level */
            descend(n->plus, end, v);
    }
    k = find_kid(n, v->topic + at, end - at,
                 level_hash(v->topic + at, end - at));
    if (k != NULL)
        descend(k, end, v);
}

void ic_trie_match(ic_trie_t *t, const char *topic, size_t len,
                   ic_trie_sub_cb sub_cb, ic_trie_group_cb group_cb,
                   void *data) {
    visit_t v;
    v.sub_cb = sub_cb;
    v.group_cb = group_cb;
    v.data = data;
    v.hash_matches_parent = t->hash_matches_parent;
    v.is_reserved = ic_topic_is_reserved(topic, len);
    v.topic = topic;
    v.len = len;
    match_level(t->root, 0, true, &v);
}

size_t ic_trie_group_size(const ic_trie_group_t *g) {
    return g->n;
}

void *ic_trie_group_member(const ic_trie_group_t *g, size_t i, uint8_t *opts) {
    assert(i < g->n);
    if (opts != NULL)
        *opts = g->m[i].opts;
    return g->m[i].owner;
}

size_t *ic_trie_group_cursor(ic_trie_group_t *g) {
    return &g->cursor;
}

const char *ic_trie_group_name(const ic_trie_group_t *g, size_t *len) {
    if (len != NULL)
        *len = g->name_len;
    return g->name;
}

size_t ic_trie_count(const ic_trie_t *t) {
    return t->count;
}

/* ---- invariants --------------------------------------------------------------- */

static bool subs_unique(const sub_t *a, size_t n) {
    size_t i, j;
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++)
            if (a[i].owner == a[j].owner)
                return false;
    return true;
}

static bool check_groups(const node_t *n, size_t *count) {
    size_t i, j;
    if (n->n_groups > n->cap_groups)
        return false;
    for (i = 0; i < n->n_groups; i++) {
        const ic_trie_group_t *g = n->groups[i];
        if (g->n == 0 || g->n > g->cap || g->name_len == 0 ||
            !subs_unique(g->m, g->n))
            return false;
        for (j = i + 1; j < n->n_groups; j++)
            if (g->name_len == n->groups[j]->name_len &&
                memcmp(g->name, n->groups[j]->name, g->name_len) == 0)
                return false;
        *count += g->n;
    }
    return true;
}

static bool check_node(const node_t *n, size_t *count);

static bool check_kids(const node_t *n, size_t *count) {
    size_t i, used = 0;
    if (n->cap_kids == 0)
        return n->n_kids == 0 && n->kids == NULL;
    if ((n->cap_kids & (n->cap_kids - 1)) != 0 ||
        n->n_kids * 4 > n->cap_kids * 3)
        return false;
    for (i = 0; i < n->cap_kids; i++) {
        const node_t *k = n->kids[i];
        if (k == NULL)
            continue;
        used++;
        if (k->parent != n || k->level_hash != level_hash(k->level, k->len) ||
            is_wild(k->level, k->len, '+') || is_wild(k->level, k->len, '#') ||
            find_kid(n, k->level, k->len, k->level_hash) != k ||
            !check_node(k, count))
            return false;
    }
    return used == n->n_kids;
}

static bool check_node(const node_t *n, size_t *count) {
    if (n->parent != NULL && is_empty(n))
        return false;
    if (n->n_subs > n->cap_subs || !subs_unique(n->subs, n->n_subs))
        return false;
    *count += n->n_subs;
    if (!check_groups(n, count) || !check_kids(n, count))
        return false;
    if (n->plus != NULL &&
        (n->plus->parent != n || !is_wild(n->plus->level, n->plus->len, '+') ||
         !check_node(n->plus, count)))
        return false;
    if (n->hash != NULL &&
        (n->hash->parent != n || !is_wild(n->hash->level, n->hash->len, '#') ||
         n->hash->n_kids != 0 || n->hash->plus != NULL ||
         n->hash->hash != NULL || !check_node(n->hash, count)))
        return false;
    return true;
}

bool ic_trie_check(const ic_trie_t *t) {
    size_t count = 0;
    return t->root != NULL && t->root->parent == NULL && t->root->len == 0 &&
           check_node(t->root, &count) && count == t->count;
}
