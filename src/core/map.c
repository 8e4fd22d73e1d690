/* map.c - chained string hash map.
 *
 * Owns the bucket array and the entries (key copies); never the values.
 * FNV-1a hashing; the table doubles when the load factor passes 1. Entries
 * are singly linked per bucket, so removal during iteration of the current
 * entry is safe when the iterator already holds the next pointer.
 */
#include "iotcored/map.h"

#include "iotcored/alloc.h"

#include <stdlib.h>
#include <string.h>

uint32_t ic_map_hash(const char *key, size_t len) {
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < len; i++) {
        h ^= (uint8_t)key[i];
        h *= 16777619u;
    }
    return h;
}

void ic_map_init(ic_map_t *m) {
    memset(m, 0, sizeof(*m));
}

void ic_map_free(ic_map_t *m) {
    size_t i;
    for (i = 0; i < m->cap; i++) {
        ic_map_entry_t *e = m->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(m->buckets);
    memset(m, 0, sizeof(*m));
}

static ic_map_entry_t **find(const ic_map_t *m, const char *key, size_t len,
                             uint32_t h) {
    ic_map_entry_t **pp;
    if (m->cap == 0)
        return NULL;
    for (pp = &m->buckets[h & (m->cap - 1)]; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && (*pp)->klen == len &&
            memcmp((*pp)->key, key, len) == 0)
            return pp;
    return NULL;
}

void *ic_map_get(const ic_map_t *m, const char *key, size_t len) {
    ic_map_entry_t **pp = find(m, key, len, ic_map_hash(key, len));
    return pp ? (*pp)->val : NULL;
}

static void grow(ic_map_t *m) {
    size_t cap = m->cap ? m->cap * 2 : 16, i;
    ic_map_entry_t **b = ic_xcalloc(cap, sizeof(*b));
    for (i = 0; i < m->cap; i++) {
        ic_map_entry_t *e = m->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (cap - 1)];
            b[e->hash & (cap - 1)] = e;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->cap = cap;
}

void *ic_map_put(ic_map_t *m, const char *key, size_t len, void *val) {
    uint32_t h = ic_map_hash(key, len);
    ic_map_entry_t **pp = find(m, key, len, h), *e;
    if (pp) {
        void *old = (*pp)->val;
        (*pp)->val = val;
        return old;
    }
    if (m->n + 1 > m->cap)
        grow(m);
    e = ic_xmalloc(sizeof(*e) + len + 1);
    e->hash = h;
    e->klen = len;
    e->val = val;
    memcpy(e->key, key, len);
    e->key[len] = '\0';
    e->next = m->buckets[h & (m->cap - 1)];
    m->buckets[h & (m->cap - 1)] = e;
    m->n++;
    return NULL;
}

void *ic_map_del(ic_map_t *m, const char *key, size_t len) {
    ic_map_entry_t **pp = find(m, key, len, ic_map_hash(key, len)), *e;
    void *val;
    if (pp == NULL)
        return NULL;
    e = *pp;
    *pp = e->next;
    val = e->val;
    free(e);
    m->n--;
    return val;
}

ic_map_entry_t *ic_map_next(const ic_map_t *m, ic_map_iter_t *it) {
    ic_map_entry_t *e = it->next;
    while (e == NULL && it->bucket < m->cap)
        e = m->buckets[it->bucket++];
    it->next = e ? e->next : NULL;
    return e;
}
