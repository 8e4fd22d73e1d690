/* lifecycle.c - AWS IoT lifecycle events (aws-iot-dataplane.md 2).
 *
 * Owns the per-client-ID record of the last versionNumber and when the
 * client went offline, and builds the event documents; every event is an
 * ordinary QoS 1 message published through the router. It must not touch
 * connections or sessions: the protocol layer calls in. Loop thread only.
 *
 * EMULATOR choices (2.2-2.4): principalIdentifier is the certificate ID
 * ("" for a connection without one: a plaintext listener with a
 * listener_policy); thingName appears whenever the connection is
 * associated with a thing; clientInitiatedDisconnect is true exactly for
 * CLIENT_INITIATED_DISCONNECT; a record is forgotten (the version restarts
 * at 0) once its client has been offline for max(1 h, session expiry).
 */
#include "iotcored/lifecycle.h"

#include "iotcored/alloc.h"
#include "iotcored/buf.h"
#include "iotcored/map.h"
#include "iotcored/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESET_MS (3600 * 1000LL) /* AWS 2.4: about one hour offline */

typedef struct rec_s {
    int64_t version;
    int64_t offline_since_ms; /* 0 while connected */
    int64_t keep_ms;          /* offline time after which the record goes */
    uint32_t online;          /* live connections with this client ID */
} rec_t;

struct ic_lifecycle_s {
    ic_router_t *router;
    ic_map_t clients; /* client ID -> rec_t* */
    ic_buf_t out;     /* event document being built */
};

ic_lifecycle_t *ic_lifecycle_new(ic_router_t *router) {
    ic_lifecycle_t *lc = ic_xcalloc(1, sizeof(*lc));
    lc->router = router;
    ic_map_init(&lc->clients);
    ic_buf_init(&lc->out);
    return lc;
}

void ic_lifecycle_free(ic_lifecycle_t *lc) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    if (lc == NULL)
        return;
    while ((e = ic_map_next(&lc->clients, &it)) != NULL)
        free(e->val);
    ic_map_free(&lc->clients);
    ic_buf_free(&lc->out);
    free(lc);
}

size_t ic_lifecycle_count(const ic_lifecycle_t *lc) {
    return lc->clients.n;
}

/* AWS 2.1: no events for client IDs with wildcard characters. */
static bool silent(const char *id) {
    return strpbrk(id, "+#") != NULL;
}

/* A JSON string (the IDs and topics are UTF-8 already checked by the
 * codec; escape what JSON requires). */
static void put_str(ic_buf_t *b, const char *s, size_t n) {
    size_t i;
    ic_buf_append(b, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            ic_buf_append(b, esc, 2);
        } else if (c < 0x20) {
            ic_buf_appendf(b, "\\u%04x", c);
        } else {
            ic_buf_append(b, &s[i], 1);
        }
    }
    ic_buf_append(b, "\"", 1);
}

static void put_field(ic_buf_t *b, const char *key, const char *val) {
    ic_buf_appendf(b, ",\"%s\":", key);
    put_str(b, val, strlen(val));
}

/* {"clientId", ["thingName",] "timestamp", "eventType", ... : the common
 * head, in the order of AWS's examples. */
static void head(ic_buf_t *b, const ic_lifecycle_who_t *w, const char *type,
                 int64_t now_ms) {
    ic_buf_reset(b);
    ic_buf_append_str(b, "{\"clientId\":");
    put_str(b, w->client_id, strlen(w->client_id));
    if (w->thing)
        put_field(b, "thingName", w->thing);
    ic_buf_appendf(b, ",\"timestamp\":%lld,\"eventType\":\"%s\"", (long long)now_ms,
                   type);
    put_field(b, "sessionIdentifier", w->session_id);
    put_field(b, "principalIdentifier", w->principal ? w->principal : "");
}

static void publish(ic_lifecycle_t *lc, const char *family, const char *event,
                    const char *client_id, int64_t now_ms) {
    char topic[512];
    int n = snprintf(topic, sizeof(topic), "$aws/events/%s/%s/%s", family, event,
                     client_id);
    ic_msg_t *m;
    if (n < 0 || (size_t)n >= sizeof(topic))
        return;
    ic_buf_append(&lc->out, "}", 1);
    m = ic_msg_new(topic, (size_t)n, lc->out.data, lc->out.len, 1, false, NULL,
                   now_ms);
    ic_router_publish(lc->router, m, now_ms);
    ic_msg_unref(m);
}

int64_t ic_lifecycle_connected(ic_lifecycle_t *lc, const ic_lifecycle_who_t *w,
                               int64_t now_ms) {
    size_t n = strlen(w->client_id);
    rec_t *r = ic_map_get(&lc->clients, w->client_id, n);
    int64_t keep = (int64_t)w->session_expiry_s * 1000;
    if (r == NULL) {
        r = ic_xcalloc(1, sizeof(*r));
        ic_map_put(&lc->clients, w->client_id, n, r);
    } else if (r->online == 0 && r->offline_since_ms &&
               now_ms - r->offline_since_ms > r->keep_ms) {
        r->version = 0;
    } else {
        r->version++;
    }
    r->online++;
    r->offline_since_ms = 0;
    r->keep_ms = keep > RESET_MS ? keep : RESET_MS;
    if (silent(w->client_id))
        return r->version;
    head(&lc->out, w, "connected", now_ms);
    put_field(&lc->out, "ipAddress", w->ip ? w->ip : "");
    ic_buf_appendf(&lc->out, ",\"versionNumber\":%lld", (long long)r->version);
    publish(lc, "presence", "connected", w->client_id, now_ms);
    return r->version;
}

void ic_lifecycle_disconnected(ic_lifecycle_t *lc, const ic_lifecycle_who_t *w,
                               int64_t version, const char *reason,
                               int64_t now_ms) {
    size_t n = strlen(w->client_id);
    rec_t *r = ic_map_get(&lc->clients, w->client_id, n);
    bool by_client = strcmp(reason, "CLIENT_INITIATED_DISCONNECT") == 0;
    if (r != NULL && r->online > 0 && --r->online == 0)
        r->offline_since_ms = now_ms;
    if (silent(w->client_id))
        return;
    head(&lc->out, w, "disconnected", now_ms);
    ic_buf_appendf(&lc->out, ",\"clientInitiatedDisconnect\":%s",
                   by_client ? "true" : "false");
    put_field(&lc->out, "disconnectReason", reason);
    ic_buf_appendf(&lc->out, ",\"versionNumber\":%lld", (long long)version);
    publish(lc, "presence", "disconnected", w->client_id, now_ms);
}

void ic_lifecycle_connect_failed(ic_lifecycle_t *lc, const ic_lifecycle_who_t *w,
                                 int64_t now_ms) {
    if (silent(w->client_id))
        return;
    head(&lc->out, w, "connect_failed", now_ms);
    put_field(&lc->out, "connectFailureReason", "AUTHORIZATION_FAILED");
    put_field(&lc->out, "ipAddress", w->ip ? w->ip : "");
    publish(lc, "presence", "connect_failed", w->client_id, now_ms);
}

void ic_lifecycle_subscriptions(ic_lifecycle_t *lc, const ic_lifecycle_who_t *w,
                                bool is_subscribe, const char *const *filters,
                                const size_t *lens, size_t n, int64_t now_ms) {
    const char *ev = is_subscribe ? "subscribed" : "unsubscribed";
    size_t i;
    if (n == 0 || silent(w->client_id))
        return;
    head(&lc->out, w, ev, now_ms);
    ic_buf_append_str(&lc->out, ",\"topics\":[");
    for (i = 0; i < n; i++) {
        if (i)
            ic_buf_append(&lc->out, ",", 1);
        put_str(&lc->out, filters[i], lens[i]);
    }
    ic_buf_append(&lc->out, "]", 1);
    publish(lc, "subscriptions", ev, w->client_id, now_ms);
}

void ic_lifecycle_sweep(ic_lifecycle_t *lc, int64_t now_ms) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    while ((e = ic_map_next(&lc->clients, &it)) != NULL) {
        rec_t *r = e->val;
        if (r->online == 0 && now_ms - r->offline_since_ms > r->keep_ms) {
            ic_map_del(&lc->clients, e->key, e->klen);
            free(r);
        }
    }
}
