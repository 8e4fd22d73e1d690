/* trie.c - subscription index: one node per topic level.
 *
 *   root
 *    ├─ kids{"sensor"} ── node "sensor"
 *    │                     ├─ plus ── node "+" ── kids{"temp"} ── node {subs}
 *    │                     ├─ hash ── node "#" {subs: [s2 q0]}
 *    │                     └─ kids{"a"} ── ...
 *    └─ hash ── node "#"   (never matched by "$..." topics)
 *
 *   node: parent, level bytes, kids (chained hash on the level), plus and
 *         hash children apart, subs[] (owner, opts), groups[] ($share).
 *
 * Owns the nodes, level copies, subscriber arrays and shared groups. It
 * never dereferences owners and never validates filters (topic.c does).
 * Matching walks the levels recursively (depth = topic levels, bounded by
 * the slash limit) and allocates nothing. Nodes with nothing left are
 * pruned on remove, so the trie's size follows the live subscriptions.
 */
#include "iotcored/trie.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/map.h"

#include <stdlib.h>
#include <string.h>

typedef struct sub_s {
    void *owner;
    uint8_t opts;
} sub_t;

struct ic_trie_group_s {
    char *name;
    size_t name_len;
    sub_t *m;
    size_t n, cap;
    size_t cursor;
};

typedef struct node_s {
    struct node_s *parent;
    struct node_s *chain;   /* next in the parent's kids bucket */
    char *level;            /* owned; NULL for the root */
    size_t len;
    uint32_t hash;
    struct node_s **kids;   /* buckets, cap_kids a power of two */
    size_t n_kids, cap_kids;
    struct node_s *plus, *hash_child;
    sub_t *subs;
    size_t n_subs, cap_subs;
    ic_trie_group_t *groups;
    size_t n_groups, cap_groups;
} node_t;

struct ic_trie_s {
    node_t root;
    bool hash_matches_parent;
    size_t count;
};

ic_trie_t *ic_trie_new(bool hash_matches_parent) {
    ic_trie_t *t = ic_xcalloc(1, sizeof(*t));
    t->hash_matches_parent = hash_matches_parent;
    return t;
}

static void free_node_contents(node_t *n) {
    size_t i;
    for (i = 0; i < n->cap_kids; i++) {
        node_t *k = n->kids[i], *next;
        for (; k; k = next) {
            next = k->chain;
            free_node_contents(k);
            free(k);
        }
    }
    if (n->plus) {
        free_node_contents(n->plus);
        free(n->plus);
    }
    if (n->hash_child) {
        free_node_contents(n->hash_child);
        free(n->hash_child);
    }
    for (i = 0; i < n->n_groups; i++) {
        free(n->groups[i].name);
        free(n->groups[i].m);
    }
    free(n->groups);
    free(n->subs);
    free(n->kids);
    free(n->level);
}

void ic_trie_free(ic_trie_t *t) {
    if (t == NULL)
        return;
    free_node_contents(&t->root);
    free(t);
}

/* ---- children ------------------------------------------------------------- */

static node_t *find_kid(const node_t *n, const char *l, size_t len, uint32_t h) {
    node_t *k;
    if (n->cap_kids == 0)
        return NULL;
    for (k = n->kids[h & (n->cap_kids - 1)]; k; k = k->chain)
        if (k->hash == h && k->len == len && memcmp(k->level, l, len) == 0)
            return k;
    return NULL;
}

static void grow_kids(node_t *n) {
    size_t cap = n->cap_kids ? n->cap_kids * 2 : 4, i;
    node_t **b = ic_xcalloc(cap, sizeof(*b));
    for (i = 0; i < n->cap_kids; i++) {
        node_t *k = n->kids[i], *next;
        for (; k; k = next) {
            next = k->chain;
            k->chain = b[k->hash & (cap - 1)];
            b[k->hash & (cap - 1)] = k;
        }
    }
    free(n->kids);
    n->kids = b;
    n->cap_kids = cap;
}

static node_t *new_node(node_t *parent, const char *l, size_t len) {
    node_t *k = ic_xcalloc(1, sizeof(*k));
    k->parent = parent;
    k->level = ic_xstrndup(l, len);
    k->len = len;
    k->hash = ic_map_hash(l, len);
    return k;
}

static node_t *get_or_add_kid(node_t *n, const char *l, size_t len) {
    node_t *k;
    uint32_t h;
    if (len == 1 && l[0] == '+') {
        if (n->plus == NULL)
            n->plus = new_node(n, l, len);
        return n->plus;
    }
    if (len == 1 && l[0] == '#') {
        if (n->hash_child == NULL)
            n->hash_child = new_node(n, l, len);
        return n->hash_child;
    }
    h = ic_map_hash(l, len);
    k = find_kid(n, l, len, h);
    if (k)
        return k;
    if (n->n_kids + 1 > n->cap_kids)
        grow_kids(n);
    k = new_node(n, l, len);
    k->chain = n->kids[h & (n->cap_kids - 1)];
    n->kids[h & (n->cap_kids - 1)] = k;
    n->n_kids++;
    return k;
}

static node_t *lookup_kid(const node_t *n, const char *l, size_t len) {
    if (len == 1 && l[0] == '+')
        return n->plus;
    if (len == 1 && l[0] == '#')
        return n->hash_child;
    return find_kid(n, l, len, ic_map_hash(l, len));
}

static void unlink_kid(node_t *parent, node_t *k) {
    node_t **pp;
    if (parent->plus == k) {
        parent->plus = NULL;
        return;
    }
    if (parent->hash_child == k) {
        parent->hash_child = NULL;
        return;
    }
    for (pp = &parent->kids[k->hash & (parent->cap_kids - 1)]; *pp;
         pp = &(*pp)->chain) {
        if (*pp == k) {
            *pp = k->chain;
            parent->n_kids--;
            return;
        }
    }
}

static bool is_empty(const node_t *n) {
    return n->n_subs == 0 && n->n_groups == 0 && n->n_kids == 0 &&
           n->plus == NULL && n->hash_child == NULL;
}

/* Walk the filter's levels; create nodes when `create`. */
static node_t *walk(ic_trie_t *t, const char *f, size_t len, bool create) {
    node_t *n = &t->root;
    size_t i = 0;
    for (;;) {
        size_t e = i;
        while (e < len && f[e] != '/')
            e++;
        n = create ? get_or_add_kid(n, f + i, e - i)
                   : lookup_kid(n, f + i, e - i);
        if (n == NULL || e >= len)
            return n;
        i = e + 1;
    }
}

/* ---- insert / remove ------------------------------------------------------ */

static int put_sub(sub_t **arr, size_t *n, size_t *cap, void *owner,
                   uint8_t opts) {
    size_t i;
    for (i = 0; i < *n; i++) {
        if ((*arr)[i].owner == owner) {
            (*arr)[i].opts = opts;
            return 0;
        }
    }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 2;
        *arr = ic_xrealloc(*arr, *cap * sizeof(sub_t));
    }
    (*arr)[*n].owner = owner;
    (*arr)[*n].opts = opts;
    (*n)++;
    return 1;
}

static int del_sub(sub_t *arr, size_t *n, void *owner) {
    size_t i;
    for (i = 0; i < *n; i++) {
        if (arr[i].owner == owner) {
            memmove(&arr[i], &arr[i + 1], (*n - i - 1) * sizeof(sub_t));
            (*n)--;
            return 0;
        }
    }
    return IC_ENOENT;
}

static ic_trie_group_t *find_group(node_t *n, const char *name, size_t len) {
    size_t i;
    for (i = 0; i < n->n_groups; i++)
        if (n->groups[i].name_len == len &&
            memcmp(n->groups[i].name, name, len) == 0)
            return &n->groups[i];
    return NULL;
}

int ic_trie_insert(ic_trie_t *t, const char *filter, size_t len,
                   const char *share, size_t share_len, void *owner,
                   uint8_t opts) {
    node_t *n = walk(t, filter, len, true);
    int added;
    if (share == NULL || share_len == 0) {
        added = put_sub(&n->subs, &n->n_subs, &n->cap_subs, owner, opts);
    } else {
        ic_trie_group_t *g = find_group(n, share, share_len);
        if (g == NULL) {
            if (n->n_groups == n->cap_groups) {
                n->cap_groups = n->cap_groups ? n->cap_groups * 2 : 1;
                n->groups = ic_xrealloc(n->groups,
                                        n->cap_groups * sizeof(ic_trie_group_t));
            }
            g = &n->groups[n->n_groups++];
            memset(g, 0, sizeof(*g));
            g->name = ic_xstrndup(share, share_len);
            g->name_len = share_len;
        }
        added = put_sub(&g->m, &g->n, &g->cap, owner, opts);
    }
    t->count += (size_t)added;
    return added;
}

static void prune(node_t *n) {
    while (n->parent != NULL && is_empty(n)) {
        node_t *parent = n->parent;
        unlink_kid(parent, n);
        free_node_contents(n);
        free(n);
        n = parent;
    }
}

int ic_trie_remove(ic_trie_t *t, const char *filter, size_t len,
                   const char *share, size_t share_len, void *owner) {
    node_t *n = walk(t, filter, len, false);
    if (n == NULL)
        return IC_ENOENT;
    if (share == NULL || share_len == 0) {
        if (del_sub(n->subs, &n->n_subs, owner) != 0)
            return IC_ENOENT;
    } else {
        ic_trie_group_t *g = find_group(n, share, share_len);
        if (g == NULL || del_sub(g->m, &g->n, owner) != 0)
            return IC_ENOENT;
        if (g->n == 0) {
            size_t i = (size_t)(g - n->groups);
            free(g->name);
            free(g->m);
            n->groups[i] = n->groups[--n->n_groups];
        } else if (g->cursor >= g->n) {
            g->cursor = 0;
        }
    }
    t->count--;
    prune(n);
    return 0;
}

/* ---- match ----------------------------------------------------------------- */

typedef struct visit_s {
    ic_trie_sub_cb sub_cb;
    ic_trie_group_cb group_cb;
    void *data;
    bool hash_matches_parent;
} visit_t;

static void emit(const node_t *n, const visit_t *v) {
    size_t i;
    for (i = 0; i < n->n_subs; i++)
        v->sub_cb(n->subs[i].owner, n->subs[i].opts, v->data);
    if (v->group_cb)
        for (i = 0; i < n->n_groups; i++)
            v->group_cb(&n->groups[i], v->data);
}

/* off: start of the current level; off > len means no levels are left. */
static void match(const node_t *n, const char *t, size_t len, size_t off,
                  bool first, const visit_t *v) {
    size_t e, next;
    const node_t *k;
    bool wild_ok = !(first && len > 0 && t[0] == '$'); /* [MQTT-4.7.2-1] */
    if (off > len) {
        emit(n, v);
        /* MQTT: "a/#" also matches "a"; AWS: it does not */
        if (v->hash_matches_parent && n->hash_child)
            emit(n->hash_child, v);
        return;
    }
    e = off;
    while (e < len && t[e] != '/')
        e++;
    next = e < len ? e + 1 : len + 1;
    if (wild_ok && n->hash_child)
        emit(n->hash_child, v);
    if (wild_ok && n->plus)
        match(n->plus, t, len, next, false, v);
    k = find_kid(n, t + off, e - off, ic_map_hash(t + off, e - off));
    if (k)
        match(k, t, len, next, false, v);
}

void ic_trie_match(ic_trie_t *t, const char *topic, size_t len,
                   ic_trie_sub_cb sub_cb, ic_trie_group_cb group_cb,
                   void *data) {
    visit_t v = {sub_cb, group_cb, data, t->hash_matches_parent};
    match(&t->root, topic, len, 0, true, &v);
}

size_t ic_trie_group_size(const ic_trie_group_t *g) {
    return g->n;
}

void *ic_trie_group_member(const ic_trie_group_t *g, size_t i, uint8_t *opts) {
    if (opts)
        *opts = g->m[i].opts;
    return g->m[i].owner;
}

size_t *ic_trie_group_cursor(ic_trie_group_t *g) {
    return &g->cursor;
}

const char *ic_trie_group_name(const ic_trie_group_t *g, size_t *len) {
    *len = g->name_len;
    return g->name;
}

size_t ic_trie_count(const ic_trie_t *t) {
    return t->count;
}

/* ---- invariants ------------------------------------------------------------- */

static bool check_node(const node_t *n, size_t *count) {
    size_t i, kids = 0;
    if (n->parent != NULL && is_empty(n))
        return false;
    *count += n->n_subs;
    for (i = 0; i < n->n_groups; i++) {
        if (n->groups[i].n == 0 || n->groups[i].cursor > n->groups[i].n)
            return false;
        *count += n->groups[i].n;
    }
    for (i = 0; i < n->cap_kids; i++) {
        const node_t *k;
        for (k = n->kids[i]; k; k = k->chain) {
            kids++;
            if (k->parent != n || (k->hash & (n->cap_kids - 1)) != i ||
                k->hash != ic_map_hash(k->level, k->len) ||
                find_kid(n, k->level, k->len, k->hash) != k ||
                !check_node(k, count))
                return false;
        }
    }
    if (kids != n->n_kids)
        return false;
    if (n->plus && (n->plus->parent != n || !check_node(n->plus, count)))
        return false;
    if (n->hash_child &&
        (n->hash_child->parent != n || !check_node(n->hash_child, count)))
        return false;
    return true;
}

bool ic_trie_check(const ic_trie_t *t) {
    size_t count = 0;
    return check_node(&t->root, &count) && count == t->count;
}
