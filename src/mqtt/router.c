/* router.c - the publish path: retain, match, dedupe, choose, deliver.
 *
 * Owns the subscription trie and a reusable match scratch array, so routing
 * a message allocates nothing beyond what the sessions queue. It must not
 * encode packets or touch connections: it hands (session, message, QoS,
 * RETAIN flag) to session.c, which goes through the attached sink.
 *
 * Overlapping subscriptions of one session deliver once, at the highest
 * granted QoS (MQTT 5 allows either; Mosquitto 2 and AWS deliver once).
 * Shared groups deliver to one member per group, round robin among online
 * members; with none online, to a persistent member (queued).
 */
#include "iotcored/router.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/topic.h"
#include "iotcored/trie.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct match_s {
    ic_session_t *s;
    uint8_t qos;
    bool rap; /* retain as published */
} match_t;

struct ic_router_s {
    const ic_profile_t *p;
    ic_sessions_t *ss;
    ic_retain_t *rt;
    ic_trie_t *trie;
    match_t *matches; /* scratch, reused per publish */
    size_t n_matches, cap_matches;
    ic_msg_t *cur;    /* message being routed */
    uint64_t seq;     /* message ids */
    uint64_t routed;  /* deliveries handed to sessions */
    uint64_t ingested;/* Basic Ingest messages seen */
    ic_router_service_fn service; /* reserved-topic service, or NULL */
    void *service_data;
    ic_router_tap_fn tap;         /* the rules engine, or NULL */
    void *tap_data;
};

ic_router_t *ic_router_new(const ic_profile_t *p, ic_sessions_t *ss,
                           ic_retain_t *rt) {
    ic_router_t *r = ic_xcalloc(1, sizeof(*r));
    r->p = p;
    r->ss = ss;
    r->rt = rt;
    r->trie = ic_trie_new(p->hash_matches_parent);
    return r;
}

void ic_router_free(ic_router_t *r) {
    if (r == NULL)
        return;
    ic_trie_free(r->trie);
    free(r->matches);
    free(r);
}

/* Split a filter as subscribed into (share name or none, trie filter). */
static void split(const char *f, size_t len, const char **name,
                  size_t *name_len, const char **flt, size_t *flt_len) {
    if (ic_topic_split_share(f, len, name, name_len, flt, flt_len) != 1) {
        *name = NULL;
        *name_len = 0;
        *flt = f;
        *flt_len = len;
    }
}

static void index_filter(ic_router_t *r, ic_session_t *s, const char *f,
                         size_t len, uint8_t opts) {
    const char *name, *flt;
    size_t name_len, flt_len;
    split(f, len, &name, &name_len, &flt, &flt_len);
    ic_trie_insert(r->trie, flt, flt_len, name, name_len, s, opts);
}

int ic_router_subscribe(ic_router_t *r, ic_session_t *s, const char *filter,
                        size_t len, uint8_t opts) {
    index_filter(r, s, filter, len, opts);
    return ic_session_add_sub(s, filter, len, opts);
}

static void unindex(ic_router_t *r, ic_session_t *s, const char *f,
                    size_t len) {
    const char *name, *flt;
    size_t name_len, flt_len;
    split(f, len, &name, &name_len, &flt, &flt_len);
    ic_trie_remove(r->trie, flt, flt_len, name, name_len, s);
}

int ic_router_unsubscribe(ic_router_t *r, ic_session_t *s, const char *filter,
                          size_t len) {
    if (ic_session_del_sub(s, filter, len) != 0)
        return IC_ENOENT;
    unindex(r, s, filter, len);
    return 0;
}

void ic_router_index(ic_router_t *r, ic_session_t *s, const ic_sub_rec_t *rec) {
    index_filter(r, s, rec->filter, rec->len, rec->opts);
}

void ic_router_forget(ic_router_t *r, ic_session_t *s) {
    size_t i;
    for (i = 0; i < s->n_subs; i++)
        unindex(r, s, s->subs[i].filter, s->subs[i].len);
}

/* ---- publish ------------------------------------------------------------ */

static void add_match(ic_router_t *r, ic_session_t *s, uint8_t opts,
                      bool dedupe) {
    uint8_t qos = IC_SUBOPT_QOS(opts);
    bool rap = (opts & IC_SUBOPT_RAP) != 0;
    match_t *m;
    if (qos > r->cur->qos)
        qos = r->cur->qos;
    if (dedupe && s->last_msg_id == r->cur->id) {
        m = &r->matches[s->match_idx];
        if (qos > m->qos)
            m->qos = qos;
        m->rap = m->rap || rap;
        return;
    }
    if (r->n_matches == r->cap_matches) {
        r->cap_matches = r->cap_matches ? r->cap_matches * 2 : 64;
        r->matches = ic_xrealloc(r->matches, r->cap_matches * sizeof(match_t));
    }
    if (dedupe) {
        s->last_msg_id = r->cur->id;
        s->match_idx = (uint32_t)r->n_matches;
    }
    m = &r->matches[r->n_matches++];
    m->s = s;
    m->qos = qos;
    m->rap = rap;
}

static void on_sub(void *owner, uint8_t opts, void *data) {
    ic_router_t *r = data;
    ic_session_t *s = owner;
    /* [MQTT-3.8.3-3] no local */
    if ((opts & IC_SUBOPT_NO_LOCAL) && r->cur->origin == s)
        return;
    add_match(r, s, opts, true);
}

static void on_group(ic_trie_group_t *g, void *data) {
    ic_router_t *r = data;
    size_t n = ic_trie_group_size(g), i, *cur = ic_trie_group_cursor(g);
    ic_session_t *pick = NULL;
    uint8_t opts = 0;
    for (i = 0; i < n && pick == NULL; i++) {
        size_t k = (*cur + i) % n;
        ic_session_t *s = ic_trie_group_member(g, k, &opts);
        if (ic_session_is_online(s)) {
            pick = s;
            *cur = k + 1;
        }
    }
    /* Nobody online: QoS 1 waits with a persistent member (AWS 5.8). */
    for (i = 0; i < n && pick == NULL && r->cur->qos > 0; i++) {
        size_t k = (*cur + i) % n;
        ic_session_t *s = ic_trie_group_member(g, k, &opts);
        if (s->expiry_s > 0) {
            pick = s;
            *cur = k + 1;
        }
    }
    if (pick)
        add_match(r, pick, opts, false);
}

void ic_router_publish(ic_router_t *r, ic_msg_t *m, int64_t now_ms) {
    size_t i;
    const char *rule, *rest;
    size_t rule_len, rest_len;
    m->id = ++r->seq;
    /* AWS 3: Basic Ingest bypasses the broker; it goes to its rule only,
     * never to subscribers. With no such rule it is dropped silently. */
    if (ic_topic_split_ingest(m->topic, m->topic_len, &rule, &rule_len, &rest,
                              &rest_len) == 1) {
        r->ingested++;
        if (r->tap)
            r->tap(m, rule, rule_len, (size_t)(rest - m->topic), now_ms,
                   r->tap_data);
        else
            ic_log_debug("basic ingest", "rule=%.*s delivered=0 "
                         "reason=rule-not-found", (int)rule_len, rule);
        return;
    }
    if (m->retain)
        ic_retain_set(r->rt, m, now_ms);
    r->cur = m;
    r->n_matches = 0;
    ic_trie_match(r->trie, m->topic, m->topic_len, on_sub, on_group, r);
    /* Deliver after matching: delivery may not re-enter the trie walk. */
    for (i = 0; i < r->n_matches; i++) {
        match_t *x = &r->matches[i];
        /* Live forwards carry RETAIN=0 unless Retain As Published (AWS
         * 5.6, [MQTT-3.3.1-12/13]). */
        ic_session_deliver(x->s, m, x->qos, x->rap && m->retain, now_ms);
    }
    r->routed += r->n_matches;
    r->cur = NULL;
    /* reserved-topic services answer after the request was delivered, so
     * their publishes may re-enter the router */
    if (r->service && !m->is_will && m->topic_len > 12 && memcmp(m->topic, "$aws/things/", 12) == 0)
        r->service(m, now_ms, r->service_data);
    if (r->tap)
        r->tap(m, NULL, 0, 0, now_ms, r->tap_data);
}

void ic_router_set_tap(ic_router_t *r, ic_router_tap_fn fn, void *data) {
    r->tap = fn;
    r->tap_data = data;
}

void ic_router_set_service(ic_router_t *r, ic_router_service_fn fn, void *data) {
    r->service = fn;
    r->service_data = data;
}

typedef struct retained_ctx_s {
    ic_router_t *r;
    ic_session_t *s;
    const char *filter;
    size_t len;
    uint8_t qos;
    int64_t now_ms;
} retained_ctx_t;

static void send_one_retained(ic_msg_t *m, void *data) {
    retained_ctx_t *c = data;
    uint8_t qos = m->qos < c->qos ? m->qos : c->qos;
    if (ic_topic_matches(c->filter, c->len, m->topic, m->topic_len,
                         c->r->p->hash_matches_parent))
        ic_session_deliver(c->s, m, qos, true, c->now_ms);
}

void ic_router_send_retained(ic_router_t *r, ic_session_t *s,
                             const char *filter, size_t len, uint8_t opts,
                             int64_t now_ms) {
    const char *name, *flt;
    size_t name_len, flt_len;
    if (ic_topic_split_share(filter, len, &name, &name_len, &flt, &flt_len) == 1)
        return; /* AWS 5.8: shared subscribers get no retained messages */
    if (r->p->retain_exact_only) {
        ic_msg_t *m = ic_retain_get(r->rt, filter, len, now_ms);
        if (m != NULL) {
            uint8_t qos = IC_SUBOPT_QOS(opts);
            ic_session_deliver(s, m, m->qos < qos ? m->qos : qos, true, now_ms);
        }
    } else {
        retained_ctx_t c = {r, s, filter, len, IC_SUBOPT_QOS(opts), now_ms};
        ic_retain_foreach(r->rt, now_ms, send_one_retained, &c);
    }
}

bool ic_router_can_retain(ic_router_t *r, const char *topic, size_t len) {
    if (r->p->max_retained == 0 || ic_retain_count(r->rt) < r->p->max_retained)
        return true;
    return ic_retain_get(r->rt, topic, len, INT64_MIN + 1) != NULL;
}

uint64_t ic_router_routed(const ic_router_t *r) {
    return r->routed;
}
