/* session.h - MQTT sessions and the session table.
 *
 *   ic_sessions_t (client ID -> session)
 *     session ── subs[]            filters as the client gave them
 *             ── inflight[window]  QoS 1 sent, awaiting PUBACK (pid order)
 *             ── queue (ring)      QoS 1 waiting for a window slot or for
 *                                  the client to come back
 *             ── will              published on abnormal disconnect
 *             ── conn/sink         attached connection, NULL while offline
 *
 *   states:  online (conn attached) ──detach──> offline ──expiry──> gone
 *                    ^────────────── attach (resume) ───┘
 *
 * Persistent sessions (expiry > 0) are written through to the store:
 * subscriptions as they change, QoS 1 messages queued while offline as
 * they arrive, in-flight messages when the session goes offline, and
 * everything at shutdown. They are loaded back at start, offline.
 * Loop thread only. Sessions never see sockets: delivery goes through the
 * sink the protocol layer attached.
 */
#ifndef IOTCORED_SESSION_H
#define IOTCORED_SESSION_H

#include "iotcored/db.h"
#include "iotcored/map.h"
#include "iotcored/msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ic_session_s ic_session_t;
typedef struct ic_sessions_s ic_sessions_t;

/* Implemented by the protocol layer: write one PUBLISH to the attached
 * connection. pid is 0 for QoS 0. */
typedef struct ic_session_sink_s {
    void (*publish)(void *conn, ic_msg_t *m, uint8_t qos, uint16_t pid,
                    bool retain, bool dup);
    /* May the connection receive m now (iot:Receive)? Asked before a
     * message is sent or put in flight; a refused message is dropped, as
     * AWS drops it. NULL = always. */
    bool (*may_receive)(void *conn, const ic_msg_t *m);
} ic_session_sink_t;

typedef struct ic_sub_rec_s {
    char *filter;  /* as subscribed, $share prefix included; owned */
    uint16_t len;
    uint8_t opts;  /* SUBSCRIBE options byte (granted QoS in bits 0-1) */
} ic_sub_rec_t;

typedef struct ic_inflight_s {
    ic_msg_t *m;   /* ref held */
    uint16_t pid;
    bool retain;   /* RETAIN flag it was sent with */
    uint64_t seq;  /* store row, 0 = not persisted */
} ic_inflight_t;

typedef struct ic_qent_s {
    ic_msg_t *m;   /* ref held */
    bool retain;
    uint64_t seq;  /* store row, 0 = not persisted */
} ic_qent_t;

struct ic_session_s {
    char *client_id;         /* owned, NUL-terminated */
    uint16_t client_id_len;
    uint8_t version;         /* IC_MQTT_V311 / IC_MQTT_V5: no crossing */
    uint32_t expiry_s;       /* session expiry interval; 0 = clean */
    int64_t offline_since;   /* wall ms when detached; 0 while online */
    void *conn;              /* attached connection or NULL */
    const ic_session_sink_t *sink;
    ic_sub_rec_t *subs;
    size_t n_subs, cap_subs;
    ic_inflight_t *inflight; /* grown on demand, n_inflight <= window */
    size_t n_inflight, cap_inflight;
    uint16_t window;         /* min(client Receive Maximum, server max) */
    uint16_t next_pid;
    ic_qent_t *q;            /* ring */
    size_t q_head, q_n, q_cap;
    ic_msg_t *will;          /* ref held, or NULL */
    uint32_t will_delay_s;
    uint32_t will_expiry_s;  /* v5 will Message Expiry; counts from publish */
    int64_t will_at;         /* wall ms to publish a delayed will; 0 none */
    uint64_t last_msg_id;    /* router: dedupe of overlapping filters */
    uint32_t match_idx;      /* router: slot in its match scratch */
    uint64_t dropped;        /* QoS 1 messages dropped (queue full/expired) */
    bool is_persisted;       /* a sessions row exists */
    char lifecycle_id[37];   /* sessionIdentifier of lifecycle events (a
                                UUID, "" until the first connect) */
    ic_sessions_t *table;
};

typedef struct ic_session_limits_s {
    size_t max_queued;       /* offline/overflow queue depth per session */
    uint16_t max_inflight;   /* outbound unacked QoS 1 */
} ic_session_limits_t;

/* ---- the table ---------------------------------------------------------- */

/* db may be NULL (no persistence, unit tests). */
ic_sessions_t *ic_sessions_new(ic_db_t *db, const ic_session_limits_t *lim);
/* Free every session (no store writes). */
void ic_sessions_free(ic_sessions_t *ss);
size_t ic_sessions_count(const ic_sessions_t *ss);
/* Messages dropped by every session (queue full, expired, iot:Receive
 * denied). */
uint64_t ic_sessions_dropped(const ic_sessions_t *ss);
ic_session_t *ic_sessions_get(ic_sessions_t *ss, const char *id, size_t len);
/* Create a session (must not exist). Persisted when expiry_s > 0. */
ic_session_t *ic_sessions_create(ic_sessions_t *ss, const char *id,
                                 size_t len, uint8_t version,
                                 uint32_t expiry_s);
/* Remove s from the table and the store and free it. Subscriptions must
 * already be gone from the router. */
void ic_sessions_destroy(ic_sessions_t *ss, ic_session_t *s);
/* Load persisted sessions (offline) with their subscriptions and queued
 * messages; on_sub is called per subscription so the router can index it.
 * Sessions already expired at now_ms are dropped. Returns 0 or IC_ESTORE. */
int ic_sessions_load(ic_sessions_t *ss, int64_t now_ms,
                     void (*on_sub)(ic_session_t *s, const ic_sub_rec_t *r,
                                    void *data),
                     void *data);
/* Write every persistent session's unsaved in-flight and queued messages
 * and its offline time (shutdown). */
void ic_sessions_save_all(ic_sessions_t *ss, int64_t now_ms);
/* Iterate (zero-init it): the returned session may be destroyed before
 * the next call. */
ic_session_t *ic_sessions_next(ic_sessions_t *ss, ic_map_iter_t *it);

/* ---- one session ---------------------------------------------------------- */

/* Set the expiry (persisting the change). */
void ic_session_set_expiry(ic_session_t *s, uint32_t expiry_s);
/* Add or update a subscription; returns 1 added, 0 replaced. */
int ic_session_add_sub(ic_session_t *s, const char *filter, size_t len,
                       uint8_t opts);
/* Remove; returns 0 or IC_ENOENT. */
int ic_session_del_sub(ic_session_t *s, const char *filter, size_t len);
/* Attach a connection. window = outbound in-flight limit for it. */
void ic_session_attach(ic_session_t *s, void *conn,
                       const ic_session_sink_t *sink, uint16_t window);
/* Resend in-flight messages (DUP) and start draining the queue; call after
 * CONNACK with session present. */
void ic_session_resume(ic_session_t *s, int64_t now_ms);
/* Detach the connection; the session goes offline. */
void ic_session_detach(ic_session_t *s, int64_t now_ms);
/* Deliver m at qos (already min(publish, subscription)). QoS 0 is dropped
 * while offline; QoS 1 waits in the queue (bounded). */
void ic_session_deliver(ic_session_t *s, ic_msg_t *m, uint8_t qos, bool retain,
                        int64_t now_ms);
/* A PUBACK arrived: free the slot, send the next queued message. Returns 0
 * or IC_ENOENT for an unknown packet id. */
int ic_session_puback(ic_session_t *s, uint16_t pid, int64_t now_ms);
/* Replace the will (ref taken on m; NULL clears). */
void ic_session_set_will(ic_session_t *s, ic_msg_t *m, uint32_t delay_s);
static inline bool ic_session_is_online(const ic_session_t *s) {
    return s->conn != NULL;
}

#endif
