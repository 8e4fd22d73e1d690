/* map.h - string-keyed hash map (chained), for registries keyed by name
 * (sessions by client ID, retained messages by topic, ...).
 *
 * Keys are copied; values are borrowed pointers the caller owns. Lookups do
 * not allocate. Not thread-safe (loop thread only, like its users).
 */
#ifndef IOTCORED_MAP_H
#define IOTCORED_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ic_map_entry_s {
    struct ic_map_entry_s *next;
    uint32_t hash;
    size_t klen;
    void *val;
    char key[]; /* NUL-terminated copy */
} ic_map_entry_t;

typedef struct ic_map_s {
    ic_map_entry_t **buckets; /* cap entries; NULL while empty */
    size_t cap;               /* power of two */
    size_t n;                 /* entries */
} ic_map_t;

void ic_map_init(ic_map_t *m);
/* Free the map's own memory (not the values). */
void ic_map_free(ic_map_t *m);
void *ic_map_get(const ic_map_t *m, const char *key, size_t len);
/* Insert or replace; returns the previous value or NULL. */
void *ic_map_put(ic_map_t *m, const char *key, size_t len, void *val);
/* Remove; returns the removed value or NULL. */
void *ic_map_del(ic_map_t *m, const char *key, size_t len);
/* Iterator: zero-initialise, then call ic_map_next until it returns NULL.
 * The entry just returned may be deleted; nothing else may change. */
typedef struct ic_map_iter_s {
    size_t bucket;        /* next bucket to scan */
    ic_map_entry_t *next; /* next entry in the current chain */
} ic_map_iter_t;
ic_map_entry_t *ic_map_next(const ic_map_t *m, ic_map_iter_t *it);
uint32_t ic_map_hash(const char *key, size_t len);

#endif
