/* retain.c - retained messages by topic, write-through to the store.
 *
 * Owns the topic -> message map and one reference per stored message. It
 * decides nothing about delivery (the router chooses who gets a retained
 * message on subscribe) and never touches SQL directly (store/retained.c).
 */
#include "iotcored/retain.h"

#include "iotcored/alloc.h"
#include "iotcored/map.h"
#include "iotcored/retained.h"

#include <stdlib.h>

struct ic_retain_s {
    ic_map_t map; /* topic -> ic_msg_t* (ref held) */
    ic_db_t *db;
};

ic_retain_t *ic_retain_new(ic_db_t *db) {
    ic_retain_t *rt = ic_xcalloc(1, sizeof(*rt));
    ic_map_init(&rt->map);
    rt->db = db;
    return rt;
}

void ic_retain_free(ic_retain_t *rt) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    if (rt == NULL)
        return;
    while ((e = ic_map_next(&rt->map, &it)) != NULL)
        ic_msg_unref(e->val);
    ic_map_free(&rt->map);
    free(rt);
}

typedef struct load_s {
    ic_retain_t *rt;
    int64_t now_ms;
} load_t;

static void load_one(ic_msg_t *m, void *data) {
    load_t *l = data;
    if (ic_msg_is_expired(m, l->now_ms)) {
        ic_retained_del(l->rt->db, m->topic, m->topic_len);
        ic_msg_unref(m);
        return;
    }
    ic_msg_unref(ic_map_put(&l->rt->map, m->topic, m->topic_len, m));
}

int ic_retain_load(ic_retain_t *rt, int64_t now_ms) {
    load_t l = {rt, now_ms};
    return rt->db ? ic_retained_load(rt->db, load_one, &l) : 0;
}

void ic_retain_set(ic_retain_t *rt, ic_msg_t *m, int64_t now_ms) {
    if (m->payload_len == 0) {
        ic_msg_unref(ic_map_del(&rt->map, m->topic, m->topic_len));
        if (rt->db)
            ic_retained_del(rt->db, m->topic, m->topic_len);
        return;
    }
    ic_msg_unref(ic_map_put(&rt->map, m->topic, m->topic_len, ic_msg_ref(m)));
    if (rt->db)
        ic_retained_put(rt->db, m, now_ms);
}

ic_msg_t *ic_retain_get(ic_retain_t *rt, const char *topic, size_t len,
                        int64_t now_ms) {
    ic_msg_t *m = ic_map_get(&rt->map, topic, len);
    return m && !ic_msg_is_expired(m, now_ms) ? m : NULL;
}

void ic_retain_foreach(ic_retain_t *rt, int64_t now_ms,
                       void (*fn)(ic_msg_t *m, void *data), void *data) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    while ((e = ic_map_next(&rt->map, &it)) != NULL)
        if (!ic_msg_is_expired(e->val, now_ms))
            fn(e->val, data);
}

size_t ic_retain_count(const ic_retain_t *rt) {
    return rt->map.n;
}
