/* session.c - session state: subscriptions, in-flight and queued QoS 1
 * messages, will, expiry, and the table of sessions by client ID.
 *
 * Owns every ic_session_t and the message references they hold. It decides
 * what a persistent session writes to the store and when (store/sessions.c
 * only knows the SQL). It must not touch sockets, the trie or the clock:
 * delivery goes through the attached sink, times come in as arguments.
 * Loop thread only. See session.h for the structure diagram.
 *
 * Invariants: n_inflight <= window; every inflight and queue entry holds one
 * message reference; a session row exists in the store iff is_persisted.
 */
#include "iotcored/session.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/sessions.h"

#include <stdlib.h>
#include <string.h>

struct ic_sessions_s {
    ic_map_t map;            /* client ID -> ic_session_t* */
    ic_db_t *db;             /* NULL = no persistence */
    ic_session_limits_t lim;
    uint64_t next_seq;       /* session_messages.seq allocator */
    uint64_t dropped;        /* QoS 1 messages dropped, every session */
};

ic_sessions_t *ic_sessions_new(ic_db_t *db, const ic_session_limits_t *lim) {
    ic_sessions_t *ss = ic_xcalloc(1, sizeof(*ss));
    ic_map_init(&ss->map);
    ss->db = db;
    ss->lim = *lim;
    ss->next_seq = 1;
    return ss;
}

static void free_session(ic_session_t *s) {
    size_t i;
    for (i = 0; i < s->n_subs; i++)
        free(s->subs[i].filter);
    free(s->subs);
    for (i = 0; i < s->n_inflight; i++)
        ic_msg_unref(s->inflight[i].m);
    free(s->inflight);
    for (i = 0; i < s->q_n; i++)
        ic_msg_unref(s->q[(s->q_head + i) % s->q_cap].m);
    free(s->q);
    ic_msg_unref(s->will);
    free(s->client_id);
    free(s);
}

void ic_sessions_free(ic_sessions_t *ss) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    if (ss == NULL)
        return;
    while ((e = ic_map_next(&ss->map, &it)) != NULL)
        free_session(e->val);
    ic_map_free(&ss->map);
    free(ss);
}

uint64_t ic_sessions_dropped(const ic_sessions_t *ss) {
    return ss->dropped;
}

size_t ic_sessions_count(const ic_sessions_t *ss) {
    return ss->map.n;
}

ic_session_t *ic_sessions_get(ic_sessions_t *ss, const char *id, size_t len) {
    return ic_map_get(&ss->map, id, len);
}

ic_session_t *ic_sessions_next(ic_sessions_t *ss, ic_map_iter_t *it) {
    ic_map_entry_t *e = ic_map_next(&ss->map, it);
    return e ? e->val : NULL;
}

static bool persists(const ic_session_t *s) {
    return s->table->db != NULL && s->expiry_s > 0;
}

static void persist_row(ic_session_t *s) {
    ic_sessions_row_put(s->table->db, s->client_id, s->client_id_len,
                        s->version, s->expiry_s, s->offline_since);
    s->is_persisted = true;
}

ic_session_t *ic_sessions_create(ic_sessions_t *ss, const char *id,
                                 size_t len, uint8_t version,
                                 uint32_t expiry_s) {
    ic_session_t *s = ic_xcalloc(1, sizeof(*s));
    s->client_id = ic_xstrndup(id, len);
    s->client_id_len = (uint16_t)len;
    s->version = version;
    s->expiry_s = expiry_s;
    s->next_pid = 1;
    s->table = ss;
    ic_map_put(&ss->map, id, len, s);
    if (persists(s))
        persist_row(s);
    return s;
}

void ic_sessions_destroy(ic_sessions_t *ss, ic_session_t *s) {
    ic_map_del(&ss->map, s->client_id, s->client_id_len);
    if (s->is_persisted && ss->db)
        ic_sessions_row_del(ss->db, s->client_id, s->client_id_len);
    free_session(s);
}

void ic_session_set_expiry(ic_session_t *s, uint32_t expiry_s) {
    if (s->expiry_s == expiry_s)
        return;
    s->expiry_s = expiry_s;
    if (persists(s)) {
        size_t i;
        bool was = s->is_persisted;
        persist_row(s);
        if (!was)
            for (i = 0; i < s->n_subs; i++)
                ic_sessions_sub_put(s->table->db, s->client_id,
                                    s->client_id_len, s->subs[i].filter,
                                    s->subs[i].len, s->subs[i].opts);
    } else if (s->is_persisted && s->table->db) {
        ic_sessions_row_del(s->table->db, s->client_id, s->client_id_len);
        s->is_persisted = false;
    }
}

/* ---- subscriptions ------------------------------------------------------ */

int ic_session_add_sub(ic_session_t *s, const char *filter, size_t len,
                       uint8_t opts) {
    size_t i;
    int added = 1;
    for (i = 0; i < s->n_subs; i++)
        if (s->subs[i].len == len && memcmp(s->subs[i].filter, filter, len) == 0)
            break;
    if (i < s->n_subs) {
        s->subs[i].opts = opts;
        added = 0;
    } else {
        if (s->n_subs == s->cap_subs) {
            s->cap_subs = s->cap_subs ? s->cap_subs * 2 : 4;
            s->subs = ic_xrealloc(s->subs, s->cap_subs * sizeof(ic_sub_rec_t));
        }
        s->subs[i].filter = ic_xstrndup(filter, len);
        s->subs[i].len = (uint16_t)len;
        s->subs[i].opts = opts;
        s->n_subs++;
    }
    if (s->is_persisted)
        ic_sessions_sub_put(s->table->db, s->client_id, s->client_id_len,
                            filter, len, opts);
    return added;
}

int ic_session_del_sub(ic_session_t *s, const char *filter, size_t len) {
    size_t i;
    for (i = 0; i < s->n_subs; i++) {
        if (s->subs[i].len == len && memcmp(s->subs[i].filter, filter, len) == 0) {
            free(s->subs[i].filter);
            s->subs[i] = s->subs[--s->n_subs];
            if (s->is_persisted)
                ic_sessions_sub_del(s->table->db, s->client_id,
                                    s->client_id_len, filter, len);
            return 0;
        }
    }
    return IC_ENOENT;
}

/* ---- delivery ------------------------------------------------------------ */

static uint16_t alloc_pid(ic_session_t *s) {
    for (;;) {
        uint16_t pid = s->next_pid++;
        size_t i;
        bool used = false;
        if (s->next_pid == 0)
            s->next_pid = 1;
        for (i = 0; i < s->n_inflight && !used; i++)
            used = s->inflight[i].pid == pid;
        if (!used)
            return pid;
    }
}

static void send_inflight(ic_session_t *s, ic_msg_t *m, bool retain,
                          uint64_t seq) {
    ic_inflight_t *f;
    uint16_t pid;
    /* Grown on demand up to the window: an idle session holds none. */
    if (s->n_inflight == s->cap_inflight) {
        s->cap_inflight = s->cap_inflight ? s->cap_inflight * 2 : 4;
        s->inflight = ic_xrealloc(s->inflight,
                                  s->cap_inflight * sizeof(ic_inflight_t));
    }
    /* the id is chosen among the entries already in flight */
    pid = alloc_pid(s);
    f = &s->inflight[s->n_inflight++];
    f->m = m; /* the reference moves in */
    f->pid = pid;
    f->retain = retain;
    f->seq = seq;
    s->sink->publish(s->conn, m, 1, f->pid, retain, false);
}

static void persist_msg(ic_session_t *s, ic_msg_t *m, bool retain,
                        uint64_t *seq) {
    if (!s->is_persisted || *seq != 0)
        return;
    *seq = s->table->next_seq++;
    ic_sessions_msg_put(s->table->db, s->client_id, s->client_id_len, *seq, m,
                        retain);
}

static void forget_msg(ic_session_t *s, uint64_t seq) {
    if (seq != 0 && s->is_persisted)
        ic_sessions_msg_del(s->table->db, s->client_id, s->client_id_len, seq);
}

static bool enqueue(ic_session_t *s, ic_msg_t *m, bool retain, uint64_t seq) {
    ic_qent_t *e;
    if (s->q_n >= s->table->lim.max_queued)
        return false;
    if (s->q_n == s->q_cap) {
        size_t cap = s->q_cap ? s->q_cap * 2 : 8, i;
        ic_qent_t *q = ic_xmalloc(cap * sizeof(*q));
        for (i = 0; i < s->q_n; i++)
            q[i] = s->q[(s->q_head + i) % s->q_cap];
        free(s->q);
        s->q = q;
        s->q_cap = cap;
        s->q_head = 0;
    }
    e = &s->q[(s->q_head + s->q_n++) % s->q_cap];
    e->m = m;
    e->retain = retain;
    e->seq = seq;
    if (s->conn == NULL)
        persist_msg(s, m, retain, &e->seq);
    return true;
}

static bool may_receive(const ic_session_t *s, const ic_msg_t *m) {
    return s->sink->may_receive == NULL || s->sink->may_receive(s->conn, m);
}

/* Move queued messages into free window slots, skipping expired ones and
 * those the connection may not receive (now). */
static void pump(ic_session_t *s, int64_t now_ms) {
    while (s->conn && s->q_n > 0 && s->n_inflight < s->window) {
        ic_qent_t e = s->q[s->q_head];
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_n--;
        if (ic_msg_is_expired(e.m, now_ms) || !may_receive(s, e.m)) {
            forget_msg(s, e.seq);
            ic_msg_unref(e.m);
            s->dropped++, s->table->dropped++;
            continue;
        }
        send_inflight(s, e.m, e.retain, e.seq);
    }
}

void ic_session_deliver(ic_session_t *s, ic_msg_t *m, uint8_t qos, bool retain,
                        int64_t now_ms) {
    if (ic_msg_is_expired(m, now_ms)) {
        /* AWS 5.8: an expired message is not delivered (retained copies
         * and wills can be older than the publish that routes them) */
        s->dropped++, s->table->dropped++;
        return;
    }
    if (s->conn && !may_receive(s, m)) {
        s->dropped++, s->table->dropped++; /* AWS: iot:Receive denied, silently not delivered */
        return;
    }
    if (qos == 0) {
        /* QoS 0 is never queued for an offline session (AWS 5.5). */
        if (s->conn)
            s->sink->publish(s->conn, m, 0, 0, retain, false);
        return;
    }
    if (s->conn && s->n_inflight < s->window && s->q_n == 0) {
        send_inflight(s, ic_msg_ref(m), retain, 0);
        return;
    }
    if (s->conn == NULL && s->expiry_s == 0)
        return;
    if (!enqueue(s, ic_msg_ref(m), retain, 0)) {
        ic_msg_unref(m);
        s->dropped++, s->table->dropped++;
        ic_log_debug("session queue full", "client_id=%s dropped=%llu",
                     s->client_id, (unsigned long long)s->dropped);
    }
}

int ic_session_puback(ic_session_t *s, uint16_t pid, int64_t now_ms) {
    size_t i;
    for (i = 0; i < s->n_inflight; i++) {
        if (s->inflight[i].pid == pid) {
            forget_msg(s, s->inflight[i].seq);
            ic_msg_unref(s->inflight[i].m);
            memmove(&s->inflight[i], &s->inflight[i + 1],
                    (s->n_inflight - i - 1) * sizeof(ic_inflight_t));
            s->n_inflight--;
            pump(s, now_ms);
            return 0;
        }
    }
    return IC_ENOENT;
}

/* ---- attach / detach ------------------------------------------------------ */

void ic_session_attach(ic_session_t *s, void *conn,
                       const ic_session_sink_t *sink, uint16_t window) {
    s->window = window;
    s->conn = conn;
    s->sink = sink;
    s->offline_since = 0;
    s->will_at = 0;
    if (s->is_persisted)
        persist_row(s);
}

void ic_session_resume(ic_session_t *s, int64_t now_ms) {
    size_t i;
    /* [MQTT-4.4.0-1] resend unacknowledged PUBLISH packets with DUP set. */
    for (i = 0; i < s->n_inflight; i++)
        s->sink->publish(s->conn, s->inflight[i].m, 1, s->inflight[i].pid,
                         s->inflight[i].retain, true);
    pump(s, now_ms);
}

void ic_session_detach(ic_session_t *s, int64_t now_ms) {
    size_t i;
    s->conn = NULL;
    s->sink = NULL;
    s->offline_since = now_ms;
    if (!s->is_persisted)
        return;
    persist_row(s);
    for (i = 0; i < s->n_inflight; i++)
        persist_msg(s, s->inflight[i].m, s->inflight[i].retain,
                    &s->inflight[i].seq);
    for (i = 0; i < s->q_n; i++) {
        ic_qent_t *e = &s->q[(s->q_head + i) % s->q_cap];
        persist_msg(s, e->m, e->retain, &e->seq);
    }
}

void ic_session_set_will(ic_session_t *s, ic_msg_t *m, uint32_t delay_s) {
    ic_msg_unref(s->will);
    s->will = m;
    if (m)
        m->is_will = true;
    s->will_delay_s = delay_s;
    s->will_at = 0;
}

/* ---- load / save ------------------------------------------------------------ */

typedef struct load_s {
    ic_sessions_t *ss;
    int64_t now_ms;
    void (*on_sub)(ic_session_t *s, const ic_sub_rec_t *r, void *data);
    void *data;
} load_t;

static void load_session(const char *id, size_t len, int version,
                         uint32_t expiry_s, int64_t offline_since, void *data) {
    load_t *l = data;
    ic_session_t *s;
    if (offline_since == 0)
        offline_since = l->now_ms;
    if (offline_since + (int64_t)expiry_s * 1000 <= l->now_ms) {
        ic_sessions_row_del(l->ss->db, id, len);
        return;
    }
    s = ic_xcalloc(1, sizeof(*s));
    s->client_id = ic_xstrndup(id, len);
    s->client_id_len = (uint16_t)len;
    s->version = (uint8_t)version;
    s->expiry_s = expiry_s;
    s->offline_since = offline_since;
    s->next_pid = 1;
    s->table = l->ss;
    s->is_persisted = true;
    ic_map_put(&l->ss->map, id, len, s);
}

static void load_sub(const char *id, size_t len, const char *filter,
                     size_t flen, uint8_t opts, void *data) {
    load_t *l = data;
    ic_session_t *s = ic_sessions_get(l->ss, id, len);
    if (s == NULL)
        return;
    if (s->n_subs == s->cap_subs) {
        s->cap_subs = s->cap_subs ? s->cap_subs * 2 : 4;
        s->subs = ic_xrealloc(s->subs, s->cap_subs * sizeof(ic_sub_rec_t));
    }
    s->subs[s->n_subs].filter = ic_xstrndup(filter, flen);
    s->subs[s->n_subs].len = (uint16_t)flen;
    s->subs[s->n_subs].opts = opts;
    l->on_sub(s, &s->subs[s->n_subs], l->data);
    s->n_subs++;
}

static void load_msg(const char *id, size_t len, uint64_t seq, ic_msg_t *m,
                     bool retain, void *data) {
    load_t *l = data;
    ic_session_t *s = ic_sessions_get(l->ss, id, len);
    if (seq >= l->ss->next_seq)
        l->ss->next_seq = seq + 1;
    if (s == NULL || !enqueue(s, m, retain, seq))
        ic_msg_unref(m);
}

int ic_sessions_load(ic_sessions_t *ss, int64_t now_ms,
                     void (*on_sub)(ic_session_t *s, const ic_sub_rec_t *r,
                                    void *data),
                     void *data) {
    load_t l = {ss, now_ms, on_sub, data};
    ic_sessions_loader_t loader = {load_session, load_sub, load_msg, &l};
    if (ss->db == NULL)
        return 0;
    return ic_sessions_load_rows(ss->db, &loader);
}

void ic_sessions_save_all(ic_sessions_t *ss, int64_t now_ms) {
    ic_map_iter_t it = {0, NULL};
    ic_session_t *s;
    while ((s = ic_sessions_next(ss, &it)) != NULL)
        if (s->is_persisted && s->conn)
            ic_session_detach(s, now_ms);
}
