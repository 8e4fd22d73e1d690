/* proto.c - the MQTT state machine of one connection.
 *
 * Owns the connection's protocol state (version, keep-alive, inbound topic
 * aliases, rate windows) and its link to a session. It turns decoded
 * packets into router and session calls, and every outcome into the exact
 * bytes the client sees: CONNACK codes, PUBACK/SUBACK/UNSUBACK reason codes
 * and server DISCONNECTs are chosen here and nowhere else. It must not touch
 * sockets (the transport's ic_proto_io_t does) or the store.
 *
 * Because they decide what the client sees at CONNECT and when it is
 * disconnected, two connection-level concerns live here too: the
 * connection's side of a custom authorizer (the CONNECT held while the
 * function decides, refreshes, disconnectAfterInSeconds; the invocation
 * itself is iot/custom_auth.c) and the lifecycle events of its connect
 * and disconnect (their documents are iot/lifecycle.c's). Their state is
 * allocated only by the connections that use it.
 *
 * Loop thread only. A connection that fails inside a callback is marked
 * closing and asked to close through the transport; it is freed only in
 * ic_proto_closed, after the transport's last callback (STYLE 3.8).
 *
 * AWS behaviour references are to ../shared/spec/aws-iot-dataplane.md 5.x.
 */
#include "iotcored/proto.h"

#include "iotcored/alloc.h"
#include "iotcored/auth.h"
#include "iotcored/clock.h"
#include "iotcored/codec.h"
#include "iotcored/error.h"
#include "iotcored/custom_auth.h"
#include "iotcored/lifecycle.h"
#include "iotcored/log.h"
#include "iotcored/str.h"
#include "iotcored/topic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_MS 10000

/* MQTT 5 reason codes used here [MQTT-2.4]. */
enum {
    RC_SUCCESS = 0x00,
    RC_NO_SUBSCRIPTION = 0x11,
    RC_DISCONNECT_WITH_WILL = 0x04,
    RC_UNSPECIFIED = 0x80,
    RC_MALFORMED = 0x81,
    RC_PROTOCOL_ERROR = 0x82,
    RC_UNSUPPORTED_VERSION = 0x84,
    RC_CLIENT_ID_INVALID = 0x85,
    RC_BAD_CREDENTIALS = 0x86,
    RC_NOT_AUTHORIZED = 0x87,
    RC_SHUTTING_DOWN = 0x8B,
    RC_KEEP_ALIVE_TIMEOUT = 0x8D,
    RC_SESSION_TAKEN_OVER = 0x8E,
    RC_FILTER_INVALID = 0x8F,
    RC_TOPIC_INVALID = 0x90,
    RC_TOPIC_ALIAS_INVALID = 0x94,
    RC_PACKET_TOO_LARGE = 0x95,
    RC_MESSAGE_RATE_TOO_HIGH = 0x96,
    RC_QUOTA_EXCEEDED = 0x97,
    RC_ADMINISTRATIVE_ACTION = 0x98,
    RC_QOS_NOT_SUPPORTED = 0x9B,
    RC_SUB_IDS_NOT_SUPPORTED = 0xA1,
};

/* MQTT 3.1.1 CONNACK return codes [MQTT-3.2.2.3]. */
enum {
    V3_BAD_VERSION = 1,
    V3_ID_REJECTED = 2,
    V3_UNAVAILABLE = 3,
    V3_BAD_CREDENTIALS = 4,
    V3_NOT_AUTHORIZED = 5,
};

typedef enum { ST_CONNECT, ST_ACTIVE, ST_CLOSING } state_t;

/* Kept apart and freed once CONNECT is decided, so an idle connection
 * pays only for its principal. */
typedef struct tls_peer_s {
    bool is_trusted;           /* chains to tls_ca (cert_auth ca) */
    char why[160];             /* why not */
    char sni[128];
    uint8_t *der;              /* the certificate, for the registry */
    size_t der_len;
} tls_peer_t;

typedef struct alias_s {
    char *topic; /* owned */
    uint16_t len;
} alias_t;

/* A connection's custom-authorizer state (most connections have none). */
typedef struct ca_s {
    ic_custom_auth_call_t *call; /* invocation in flight */
    uint8_t *connect;          /* the CONNECT waiting for it (raw bytes) */
    size_t connect_len;
    char **docs;               /* the policy documents it returned */
    size_t n_docs;
    int64_t deadline_ms;       /* disconnectAfterInSeconds (wall), 0 none */
    int64_t refresh_ms;        /* refreshAfterInSeconds (wall), 0 none */
    char *user;                /* what to send again at a refresh */
    uint8_t *pass;
    size_t pass_len;
    bool has_pass;
    char *client_id;
    char *sni;                 /* TLS server name, NULL none (kept for
                                  refreshes: the TLS peer data is not) */
    /* over WebSocket: the upgrade request's headers and raw query (one
     * allocation, strings after the array), for the event's "http" */
    ic_http_header_t *headers;
    size_t n_headers;
    const char *query;
} ca_t;

struct ic_proto_s {
    ic_proto_env_t *env;
    const ic_proto_io_t *io;
    void *io_data;
    ic_proto_t *prev, *next;   /* env->live */
    state_t state;
    uint8_t version;           /* 0 until CONNECT */
    ic_session_t *session;     /* NULL before CONNECT and after takeover */
    uint16_t keepalive_s;      /* granted */
    uint64_t opened_ms;        /* uv_now at accept */
    uint64_t last_rx_ms;       /* uv_now of the last packet */
    uint32_t client_max_packet;/* v5 CONNECT Maximum Packet Size, 0 = any */
    alias_t *aliases;          /* inbound: [topic_alias_max], lazily */
    alias_t *out_aliases;      /* outbound: [n_out_aliases], lazily */
    uint16_t n_out_aliases;    /* min(client Topic Alias Maximum, ours) */
    uint64_t rate_start_ms;    /* publish-rate window */
    uint32_t rate_count;
    uint64_t bytes_start_ms;   /* throughput window */
    uint64_t bytes_count;
    bool is_throttled;         /* stop decoding until the transport resumes */
    bool send_will;            /* publish the will when closing */
    const char *close_reason;  /* why the connection ended (log) */
    char peer[48];             /* address text (INET6_ADDRSTRLEN is 46) */
    bool needs_cert;           /* mutual TLS listener */
    bool is_not_mqtt;          /* the transport serves HTTP: no CONNECT due */
    tls_peer_t *tls;           /* what TLS said, until CONNECT is decided */
    char *principal;           /* certificate ID, NULL = none */
    bool is_cert_principal;    /* principal is a certificate ID (not an
                                  access key or an authorizer's principalId) */
    char *thing;               /* associated thing, NULL = none */
    ic_auth_conn_t *auth;      /* authorization context, from CONNECT */
    const char *anon_policy;   /* listener's, borrowed from the config */
    char *cred_policy;         /* WebSocket SigV4 with credentials_policy:
                                  replaces anon_policy (owned) */
    bool asked_persistent;     /* CONNECT attributes, for re-checks */
    bool asked_will;
    bool is_admin;             /* SigV4 by configured credentials: every
                                  action allowed (no policy context) */
    int64_t ws_deadline_ms;    /* WebSocket lifetime end (wall), 0 = none */
    /* custom authorizer (MQTT on 443 with ALPN mqtt, or a WebSocket the
     * authorizer let in) */
    bool needs_custom_auth;    /* CONNECT goes to the authorizer first */
    bool ca_done;              /* the authorizer allowed this connection */
    ca_t *ca;                  /* its state, from the first use; or NULL */
    const uint8_t *cur_raw;    /* the packet being dispatched (feed) */
    size_t cur_raw_len;
    bool lc_online;            /* a `connected` event was published */
    int64_t lc_version;        /* its versionNumber (AWS 2.4) */
};

static const ic_session_sink_t sink;

/* ---- lifecycle events (AWS 2) ---------------------------------------------- */

static void lc_who(const ic_proto_t *pr, const ic_session_t *s, const char *cid,
                   const char *sid, ic_lifecycle_who_t *w) {
    memset(w, 0, sizeof(*w));
    w->client_id = s ? s->client_id : cid;
    w->session_id = s ? s->lifecycle_id : sid;
    w->principal = pr->principal ? pr->principal : "";
    w->thing = pr->thing;
    w->ip = pr->peer;
    w->session_expiry_s = s ? s->expiry_s : 0;
}

/* The connection's session ends for this connection: `disconnected`. */
static void lc_disconnected(ic_proto_t *pr, ic_session_t *s, const char *reason) {
    ic_lifecycle_who_t w;
    if (!pr->lc_online || pr->env->lifecycle == NULL)
        return;
    pr->lc_online = false;
    lc_who(pr, s, NULL, NULL, &w);
    ic_lifecycle_disconnected(pr->env->lifecycle, &w, pr->lc_version,
                              reason ? reason : "CONNECTION_LOST",
                              ic_clock_wall_ms());
}

/* ---- output helpers -------------------------------------------------------- */

static void send_packet(ic_proto_t *pr, const ic_packet_t *pkt) {
    /* Encoded into the shared scratch buffer (no per-packet allocation);
     * the transport copies the bytes. */
    ic_buf_t *b = &pr->env->scratch;
    ic_buf_reset(b);
    ic_codec_encode(b, pr->version ? pr->version : IC_MQTT_V311, pkt);
    pr->io->send(pr->io_data, b->data, b->len);
}

/* Reason String for a server DISCONNECT: tells the client why, in words.
 * (Paho 1.6 also needs a property to read the reason code at all.) */
static const char *rc_text(uint8_t rc) {
    switch (rc) {
    case RC_MALFORMED: return "Malformed packet";
    case RC_PROTOCOL_ERROR: return "Protocol error";
    case RC_NOT_AUTHORIZED: return "Not authorized";
    case RC_SHUTTING_DOWN: return "Server shutting down";
    case RC_KEEP_ALIVE_TIMEOUT: return "Keep alive timeout";
    case RC_SESSION_TAKEN_OVER: return "Session taken over";
    case RC_FILTER_INVALID: return "Topic filter invalid";
    case RC_TOPIC_INVALID: return "Topic name invalid";
    case RC_TOPIC_ALIAS_INVALID: return "Topic alias invalid";
    case RC_PACKET_TOO_LARGE: return "Packet too large";
    case RC_MESSAGE_RATE_TOO_HIGH: return "Message rate too high";
    case RC_QUOTA_EXCEEDED: return "Quota exceeded";
    case RC_QOS_NOT_SUPPORTED: return "QoS not supported";
    case RC_SUB_IDS_NOT_SUPPORTED: return "Subscription identifiers not supported";
    default: return "Unspecified error";
    }
}

static void send_disconnect_packet(ic_proto_t *pr, uint8_t rc) {
    ic_packet_t pkt;
    const char *text = rc_text(rc);
    memset(&pkt, 0, sizeof(pkt));
    pkt.type = IC_MQTT_DISCONNECT;
    pkt.u.ack.rc = rc;
    pkt.u.ack.props.present = IC_PROP_BIT(IC_PROP_REASON_STRING);
    pkt.u.ack.props.reason_string.p = (const uint8_t *)text;
    pkt.u.ack.props.reason_string.len = strlen(text);
    send_packet(pr, &pkt);
}

static void begin_close(ic_proto_t *pr, const char *reason) {
    if (pr->state == ST_CLOSING)
        return;
    pr->state = ST_CLOSING;
    if (pr->close_reason == NULL)
        pr->close_reason = reason;
    pr->io->close(pr->io_data);
}

/* End the connection with a server DISCONNECT (MQTT 5) or a bare close
 * (MQTT 3.1.1, which has no server DISCONNECT). */
static int disconnect(ic_proto_t *pr, uint8_t rc, const char *reason) {
    if (pr->state == ST_CLOSING)
        return IC_ECLOSED;
    if (pr->version == IC_MQTT_V5 && pr->state == ST_ACTIVE)
        send_disconnect_packet(pr, rc);
    ic_log_info("client disconnected", "client_id=%s peer=%s reason=%s rc=0x%02x",
                pr->session ? pr->session->client_id : "-", pr->peer, reason, rc);
    pr->close_reason = reason;
    begin_close(pr, reason);
    return IC_ECLOSED;
}

static void send_ack(ic_proto_t *pr, uint8_t type, uint16_t pid, uint8_t rc) {
    ic_packet_t pkt;
    memset(&pkt, 0, sizeof(pkt));
    pkt.type = type;
    pkt.u.ack.packet_id = pid;
    pkt.u.ack.rc = rc;
    send_packet(pr, &pkt);
}

/* ---- lifecycle ------------------------------------------------------------- */

ic_proto_t *ic_proto_new(ic_proto_env_t *env, const ic_proto_io_t *io,
                         void *io_data, const char *peer) {
    ic_proto_t *pr = ic_xcalloc(1, sizeof(*pr));
    pr->env = env;
    pr->io = io;
    pr->io_data = io_data;
    pr->opened_ms = pr->last_rx_ms = uv_now(env->loop);
    ic_strlcpy(pr->peer, peer, sizeof(pr->peer));
    pr->next = env->live;
    if (env->live)
        env->live->prev = pr;
    env->live = pr;
    env->n_live++;
    return pr;
}

void ic_proto_require_peer(ic_proto_t *pr, bool required) {
    pr->needs_cert = required;
}

static void forget_tls_peer(ic_proto_t *pr) {
    if (pr->tls == NULL)
        return;
    free(pr->tls->der);
    free(pr->tls);
    pr->tls = NULL;
}

void ic_proto_set_peer(ic_proto_t *pr, const char *cert_id, bool is_trusted,
                       const char *why, const char *sni, const uint8_t *der,
                       size_t der_len) {
    forget_tls_peer(pr);
    pr->tls = ic_xcalloc(1, sizeof(*pr->tls));
    pr->tls->der = der ? ic_xmemdup(der, der_len) : NULL;
    pr->tls->der_len = der ? der_len : 0;
    ic_strlcpy(pr->tls->why, why, sizeof(pr->tls->why));
    ic_strlcpy(pr->tls->sni, sni, sizeof(pr->tls->sni));
    pr->tls->is_trusted = is_trusted;
    free(pr->principal);
    pr->principal = cert_id[0] ? ic_xstrdup(cert_id) : NULL;
    pr->is_cert_principal = true;
}

const char *ic_proto_peer(const ic_proto_t *pr) {
    return pr->peer;
}

const char *ic_proto_principal(const ic_proto_t *pr) {
    return pr->principal ? pr->principal : "";
}

const char *ic_proto_anonymous_policy(const ic_proto_t *pr) {
    return pr->anon_policy ? pr->anon_policy : "";
}

const uint8_t *ic_proto_peer_cert(const ic_proto_t *pr, size_t *len,
                                  bool *is_trusted, const char **sni) {
    *len = 0;
    *is_trusted = false;
    *sni = "";
    if (pr->tls == NULL)
        return NULL;
    *len = pr->tls->der_len;
    *is_trusted = pr->tls->is_trusted;
    *sni = pr->tls->sni;
    return pr->tls->der;
}

static void free_aliases(ic_proto_t *pr) {
    uint16_t i;
    for (i = 0; pr->aliases && i < pr->env->p->topic_alias_max; i++)
        free(pr->aliases[i].topic);
    for (i = 0; pr->out_aliases && i < pr->n_out_aliases; i++)
        free(pr->out_aliases[i].topic);
    free(pr->aliases);
    free(pr->out_aliases);
    pr->aliases = pr->out_aliases = NULL;
}

static void end_session(ic_proto_env_t *env, ic_session_t *s) {
    ic_router_forget(env->router, s);
    ic_sessions_destroy(env->sessions, s);
}

static void publish_will(ic_proto_env_t *env, ic_session_t *s,
                         int64_t now_wall) {
    ic_msg_t *will = s->will;
    if (will == NULL)
        return;
    s->will = NULL;
    s->will_at = 0;
    will->origin = s;
    if (s->will_expiry_s) {
        uint32_t e = s->will_expiry_s < 1 ? 1 : s->will_expiry_s;
        will->expires_at_ms =
            now_wall + (int64_t)(e > IC_MSG_EXPIRY_MAX_S ? IC_MSG_EXPIRY_MAX_S : e) * 1000;
    }
    ic_log_debug("will published", "client_id=%s topic=%s", s->client_id,
                 will->topic);
    ic_router_publish(env->router, will, now_wall);
    ic_msg_unref(will);
}

/* Detach pr from its session: publish or schedule the will, then end or
 * park the session. */
static void ca_free(ic_proto_t *pr);

static void release_session(ic_proto_t *pr, bool with_will) {
    ic_session_t *s = pr->session;
    int64_t now = ic_clock_wall_ms();
    ic_proto_env_t *env = pr->env;
    if (s == NULL)
        return;
    pr->session = NULL;
    ic_session_detach(s, now);
    if (!with_will || env->is_shutting_down) {
        ic_session_set_will(s, NULL, 0);
    } else if (s->will != NULL) {
        /* [MQTT-3.1.3-9] a delayed will waits for the delay or the end of
         * the session, whichever is first. */
        uint32_t delay = s->will_delay_s;
        if (delay > s->expiry_s)
            delay = s->expiry_s;
        if (delay == 0)
            publish_will(env, s, now);
        else
            s->will_at = now + (int64_t)delay * 1000;
    }
    if (s->expiry_s == 0)
        end_session(env, s);
}

void ic_proto_closed(ic_proto_t *pr) {
    ic_proto_env_t *env = pr->env;
    if (pr->state != ST_CLOSING && pr->close_reason == NULL)
        pr->close_reason = "CONNECTION_LOST";
    if (pr->session) {
        ic_log_info("connection closed", "client_id=%s peer=%s reason=%s",
                    pr->session->client_id, pr->peer,
                    pr->close_reason ? pr->close_reason : "CONNECTION_LOST");
        lc_disconnected(pr, pr->session, pr->close_reason);
    }
    release_session(pr, pr->send_will);
    if (pr->prev)
        pr->prev->next = pr->next;
    else
        env->live = pr->next;
    if (pr->next)
        pr->next->prev = pr->prev;
    env->n_live--;
    free_aliases(pr);
    forget_tls_peer(pr);
    ca_free(pr);
    free(pr->principal);
    free(pr->cred_policy);
    free(pr->thing);
    ic_auth_conn_free(pr->auth);
    free(pr);
}

/* ---- authorization ----------------------------------------------------------- */

/* Policies decide (iot/auth.c); without an engine (unit tests) all goes. */
static bool allowed(ic_proto_t *pr, ic_auth_action_t act, const char *name,
                    size_t len, const ic_auth_connect_t *cx) {
    if (pr->env->auth == NULL || pr->auth == NULL)
        return true;
    return ic_auth_allow(pr->env->auth, pr->auth, act, name, len, cx);
}

void ic_proto_set_anonymous_policy(ic_proto_t *pr, const char *name) {
    pr->anon_policy = name;
}

/* ---- CONNECT ----------------------------------------------------------------- */

/* CONNACK with a refusal code, then close (the caller has logged why). */
static int refuse_quietly(ic_proto_t *pr, uint8_t v5_rc, uint8_t v3_rc,
                          const char *reason) {
    ic_packet_t pkt;
    memset(&pkt, 0, sizeof(pkt));
    pkt.type = IC_MQTT_CONNACK;
    pkt.u.connack.rc = pr->version == IC_MQTT_V5 ? v5_rc : v3_rc;
    send_packet(pr, &pkt);
    pr->close_reason = reason;
    begin_close(pr, reason);
    return IC_ECLOSED;
}

static int refuse(ic_proto_t *pr, uint8_t v5_rc, uint8_t v3_rc,
                  const char *reason) {
    ic_log_info("connect refused", "peer=%s reason=\"%s\" rc=0x%02x", pr->peer,
                reason, pr->version == IC_MQTT_V5 ? v5_rc : v3_rc);
    return refuse_quietly(pr, v5_rc, v3_rc, reason);
}

static int check_will(ic_proto_t *pr, const ic_connect_t *c) {
    const ic_profile_t *p = pr->env->p;
    const char *why = NULL;
    if (!c->has_will)
        return 0;
    if (c->will.qos > p->maximum_qos) {
        /* AWS 5.2: v5 CONNACK 0x9B; v3.1.1 has no code for it, refuse
         * the connection without CONNACK. */
        if (pr->version == IC_MQTT_V5)
            return refuse(pr, RC_QOS_NOT_SUPPORTED, 0, "will QoS 2 not supported");
        ic_log_info("connect refused", "peer=%s reason=\"will QoS 2 not supported\"",
                    pr->peer);
        begin_close(pr, "CLIENT_ERROR");
        return IC_ECLOSED;
    }
    if (ic_topic_check_name((const char *)c->will.topic.p, c->will.topic.len,
                            &p->topic, &why) != 0 ||
        (c->will.retain && ic_topic_is_reserved((const char *)c->will.topic.p,
                                                c->will.topic.len))) {
        if (why == NULL)
            why = "retained will on a reserved topic";
        if (pr->version == IC_MQTT_V5)
            return refuse(pr, RC_TOPIC_INVALID, 0, why);
        ic_log_info("connect refused", "peer=%s reason=\"will topic: %s\"",
                    pr->peer, why);
        begin_close(pr, "CLIENT_ERROR");
        return IC_ECLOSED;
    }
    if (c->will.payload.len > p->max_payload) {
        if (pr->version == IC_MQTT_V5)
            return refuse(pr, RC_PACKET_TOO_LARGE, 0, "will payload too large");
        begin_close(pr, "CLIENT_ERROR");
        return IC_ECLOSED;
    }
    return 0;
}

/* Kick the connection currently attached to s (AWS 5.3: new one wins). */
static void take_over(ic_proto_t *old) {
    ic_session_t *s = old->session;
    int64_t now = ic_clock_wall_ms();
    if (old->version == IC_MQTT_V5 && old->state == ST_ACTIVE)
        send_disconnect_packet(old, RC_SESSION_TAKEN_OVER);
    ic_log_info("session takeover", "client_id=%s old_peer=%s", s->client_id,
                old->peer);
    /* The old connection's will is published (AWS: DUPLICATE_CLIENTID
     * sends the LWT); the session itself goes to the new connection. */
    /* AWS 2.4: the old connection's event before the new one's */
    lc_disconnected(old, s, "DUPLICATE_CLIENTID");
    old->session = NULL;
    ic_session_detach(s, now);
    publish_will(old->env, s, now);
    old->close_reason = "DUPLICATE_CLIENTID";
    begin_close(old, "DUPLICATE_CLIENTID");
}

static void assign_id(ic_proto_t *pr, char *out, size_t cap) {
    /* Unique for the process life; AWS's format is not documented. */
    uint64_t n = ++pr->env->n_assigned;
    snprintf(out, cap, "iotcored-%016llx%08x", (unsigned long long)n,
             (unsigned)(ic_clock_wall_ms() & 0xffffffff));
}

static bool connect_throttled(ic_proto_t *pr, const char *id, size_t len) {
    ic_proto_env_t *env = pr->env;
    uint64_t now = uv_now(env->loop), last;
    uint32_t rate = env->p->connect_rate;
    void *v;
    if (rate == 0)
        return false;
    v = ic_map_get(&env->connect_times, id, len);
    last = (uint64_t)(uintptr_t)v;
    ic_map_put(&env->connect_times, id, len, (void *)(uintptr_t)(now ? now : 1));
    return v != NULL && now - last < 1000 / rate;
}

static void build_will(ic_proto_t *pr, const ic_connect_t *c) {
    ic_msg_t *m;
    uint32_t delay = 0;
    if (!c->has_will) {
        ic_session_set_will(pr->session, NULL, 0);
        return;
    }
    m = ic_msg_new((const char *)c->will.topic.p, c->will.topic.len,
                   c->will.payload.p, c->will.payload.len, c->will.qos,
                   c->will.retain,
                   pr->version == IC_MQTT_V5 ? &c->will.props : NULL,
                   ic_clock_wall_ms());
    if (pr->version == IC_MQTT_V5 &&
        (c->will.props.present & IC_PROP_BIT(IC_PROP_WILL_DELAY)))
        delay = c->will.props.will_delay;
    ic_session_set_will(pr->session, m, delay);
    /* AWS 5.7: a will's Message Expiry starts when it is published. */
    pr->session->will_expiry_s =
        m->expires_at_ms ? c->will.props.message_expiry : 0;
}

static int on_connect_accepted(ic_proto_t *pr, const ic_connect_t *c);

/* AWS 4.4: tell subscribers a certificate was registered just in time. */
static void publish_jitr(ic_proto_t *pr, const ic_auth_result_t *a) {
    char topic[128], payload[512];
    int64_t now = ic_clock_wall_ms();
    ic_msg_t *m;
    snprintf(topic, sizeof(topic), "$aws/events/certificates/registered/%s",
             a->ca_id);
    snprintf(payload, sizeof(payload),
             "{\"certificateId\":\"%s\",\"caCertificateId\":\"%s\","
             "\"timestamp\":%lld,\"certificateStatus\":\"PENDING_ACTIVATION\","
             "\"awsAccountId\":\"%s\",\"certificateRegistrationTimestamp\":"
             "\"%lld\"}",
             a->cert_id, a->ca_id, (long long)now, pr->env->account_id,
             (long long)(a->registered_ms ? a->registered_ms : now));
    m = ic_msg_new(topic, strlen(topic), payload, strlen(payload), 1, false, NULL,
                   now);
    ic_router_publish(pr->env->router, m, now);
    ic_msg_unref(m);
}

/* cert_auth registry: the certificate must be registered and ACTIVE
 * (aws-iot-auth.md 4.1-4.4). The handshake completed; refuse here: MQTT 5
 * CONNACK 0x87, MQTT 3.1.1 a close (4.6 [REC]). */
static int authenticate(ic_proto_t *pr, const ic_connect_t *c) {
    ic_auth_result_t a;
    if (pr->tls == NULL || pr->tls->der == NULL) {
        memset(&a, 0, sizeof(a));
        ic_strlcpy(a.why, "no client certificate", sizeof(a.why));
        a.verdict = IC_AUTH_REFUSED;
    } else {
        ic_registry_authenticate(pr->env->registry, pr->tls->der,
                                 pr->tls->der_len, ic_clock_wall_ms(), &a);
    }
    if (a.verdict == IC_AUTH_OK)
        return 0;
    ic_log_info("connect refused", "peer=%s client_id=%.*s cert_id=%s reason=\"%s\"",
                pr->peer, (int)c->client_id.len, (const char *)c->client_id.p,
                a.cert_id[0] ? a.cert_id : "-", a.why);
    if (a.verdict == IC_AUTH_JITR)
        publish_jitr(pr, &a);
    if (pr->version == IC_MQTT_V5)
        return refuse_quietly(pr, RC_NOT_AUTHORIZED, 0, "AUTH_ERROR");
    begin_close(pr, "AUTH_ERROR");
    return IC_ECLOSED;
}

static int start_custom_auth(ic_proto_t *pr, const ic_connect_t *c);

static int on_connect(ic_proto_t *pr, const ic_connect_t *c) {
    ic_proto_env_t *env = pr->env;
    pr->version = c->version;
    if (pr->needs_custom_auth && !pr->ca_done)
        return start_custom_auth(pr, c);
    if (pr->needs_cert && env->cert_auth_registry)
        return authenticate(pr, c) == 0 ? on_connect_accepted(pr, c) : IC_ECLOSED;
    return on_connect_accepted(pr, c);
}

/* iot:Connect on client/<id> with the connect attributes, and the will's
 * iot:Publish (+ RetainPublish) on its topic (aws-iot-auth.md 1.2). A
 * denial: MQTT 5 CONNACK 0x87, MQTT 3.1.1 a close (1.6). */
static int authorize_connect(ic_proto_t *pr, const ic_connect_t *c,
                             const char *id, size_t id_len) {
    ic_proto_env_t *env = pr->env;
    ic_auth_connect_t cx;
    char cid[256];
    if (env->auth == NULL || pr->is_admin)
        return 0;
    snprintf(cid, sizeof(cid), "%.*s", (int)id_len, id);
    memset(&cx, 0, sizeof(cx));
    cx.persistent = c->version == IC_MQTT_V5
                        ? (c->props.present & IC_PROP_BIT(IC_PROP_SESSION_EXPIRY)) &&
                              c->props.session_expiry > 0
                        : !c->clean_start;
    cx.has_will = c->has_will;
    cx.will_topic = (const char *)c->will.topic.p;
    cx.will_topic_len = c->will.topic.len;
    pr->asked_persistent = cx.persistent;
    pr->asked_will = cx.has_will;
    ic_auth_conn_free(pr->auth);
    pr->auth = ic_auth_conn_new(env->auth, pr->principal,
                                pr->cred_policy ? pr->cred_policy : pr->anon_policy, cid,
                                pr->peer, pr->tls ? pr->tls->sni : NULL);
    if (pr->ca_done) {
        /* the authorizer's documents are the connection's policies */
        char why[200];
        if (ic_auth_conn_set_inline(pr->auth, pr->principal,
                                    (const char *const *)pr->ca->docs, pr->ca->n_docs,
                                    why, sizeof(why)) != 0) {
            ic_log_info("connect refused", "peer=%s client_id=%s reason=\"%s\"",
                        pr->peer, cid, why);
            if (pr->version == IC_MQTT_V5)
                return refuse_quietly(pr, RC_NOT_AUTHORIZED, 0, "AUTH_ERROR");
            begin_close(pr, "AUTH_ERROR");
            return IC_ECLOSED;
        }
    }
    if (ic_auth_allow(env->auth, pr->auth, IC_ACT_CONNECT, cid, strlen(cid), &cx) &&
        (!c->has_will ||
         (ic_auth_allow(env->auth, pr->auth, IC_ACT_PUBLISH,
                        (const char *)c->will.topic.p, c->will.topic.len, NULL) &&
          (!c->will.retain ||
           ic_auth_allow(env->auth, pr->auth, IC_ACT_RETAIN,
                         (const char *)c->will.topic.p, c->will.topic.len,
                         NULL)))))
        return 0;
    if (env->lifecycle) {
        /* AWS 2.5: not authorized to connect, or to publish the will */
        ic_lifecycle_who_t w;
        char sid[37];
        ic_str_uuid(sid);
        lc_who(pr, NULL, cid, sid, &w);
        ic_lifecycle_connect_failed(env->lifecycle, &w, ic_clock_wall_ms());
    }
    if (pr->version == IC_MQTT_V5)
        return refuse_quietly(pr, RC_NOT_AUTHORIZED, 0, "AUTH_ERROR");
    begin_close(pr, "AUTH_ERROR");
    return IC_ECLOSED;
}

/* ---- custom authorizers (aws-iot-auth.md 6.3-6.4) -------------------------- */

static int dispatch(ic_proto_t *pr, ic_packet_t *pkt, size_t wire);

static ca_t *ca_part(ic_proto_t *pr) {
    if (pr->ca == NULL)
        pr->ca = ic_xcalloc(1, sizeof(*pr->ca));
    return pr->ca;
}

static void ca_forget_docs(ic_proto_t *pr) {
    size_t i;
    if (pr->ca == NULL)
        return;
    for (i = 0; i < pr->ca->n_docs; i++)
        free(pr->ca->docs[i]);
    free(pr->ca->docs);
    pr->ca->docs = NULL;
    pr->ca->n_docs = 0;
}

static void ca_free(ic_proto_t *pr) {
    if (pr->ca == NULL)
        return;
    if (pr->ca->call)
        ic_custom_auth_cancel(pr->ca->call);
    pr->ca->call = NULL;
    ca_forget_docs(pr);
    free(pr->ca->connect);
    free(pr->ca->user);
    free(pr->ca->pass);
    free(pr->ca->client_id);
    free(pr->ca->headers);
    free(pr->ca->sni);
    free(pr->ca);
    pr->ca = NULL;
}

/* Take the authorizer's answer: principal, policy documents, TTLs. */
static void ca_take(ic_proto_t *pr, const ic_custom_auth_result_t *r) {
    int64_t now = ic_clock_wall_ms();
    size_t i;
    ca_forget_docs(pr);
    (void)ca_part(pr);
    pr->ca->docs = ic_xcalloc(r->n_policy_documents + 1, sizeof(char *));
    for (i = 0; i < r->n_policy_documents; i++)
        pr->ca->docs[i] = ic_xstrdup(r->policy_documents[i]);
    pr->ca->n_docs = r->n_policy_documents;
    free(pr->principal);
    pr->principal = r->principal_id[0] ? ic_xstrdup(r->principal_id) : NULL;
    pr->is_cert_principal = false;
    if (r->disconnect_after_s && pr->ca->deadline_ms == 0) /* not extended */
        pr->ca->deadline_ms = now + (int64_t)r->disconnect_after_s * 1000;
    pr->ca->refresh_ms = r->refresh_after_s ? now + (int64_t)r->refresh_after_s * 1000
                                           : 0;
}

static void on_custom_auth(ic_custom_auth_t *ca, const ic_custom_auth_result_t *r,
                           void *data) {
    ic_proto_t *pr = data;
    ic_packet_t pkt;
    uint8_t *raw = pr->ca->connect;
    size_t len = pr->ca->connect_len;
    (void)ca;
    pr->ca->call = NULL;
    pr->ca->connect = NULL;
    if (pr->state == ST_CLOSING) {
        free(raw);
        return;
    }
    if (!r->is_allowed) {
        /* the module logged why; the client sees not authorized */
        ic_log_info("connect refused", "peer=%s authorizer=%s reason=\"%s\"", pr->peer,
                    r->authorizer[0] ? r->authorizer : "-", r->reason);
        refuse_quietly(pr, r->status == IC_CUSTOM_AUTH_NOT_AUTHENTICATED ||
                                   r->status == IC_CUSTOM_AUTH_BAD_CREDENTIALS
                               ? RC_BAD_CREDENTIALS
                               : RC_NOT_AUTHORIZED,
                       V3_NOT_AUTHORIZED, "AUTH_ERROR");
        free(raw);
        return;
    }
    ca_take(pr, r);
    pr->ca_done = true;
    /* the CONNECT again, now authorized; then whatever followed it */
    if (ic_codec_decode(raw, len, IC_MQTT_V311, pr->env->p->max_packet, &pkt) > 0) {
        pr->cur_raw = raw;
        pr->cur_raw_len = len;
        dispatch(pr, &pkt, len);
        pr->cur_raw = NULL;
    }
    free(raw);
    if (pr->state != ST_CLOSING && pr->io->resume)
        pr->io->resume(pr->io_data);
}

/* The authorizer's event from what the connection sent: TLS (SNI), MQTT
 * (CONNECT credentials) and, over WebSocket, the upgrade request. */
static void ca_req(const ic_proto_t *pr, ic_custom_auth_req_t *req) {
    const ca_t *ca = pr->ca;
    memset(req, 0, sizeof(*req));
    req->protocols = IC_CUSTOM_AUTH_TLS | IC_CUSTOM_AUTH_MQTT;
    req->server_name = ca->sni;
    req->mqtt_username = ca->user;
    req->mqtt_password = ca->pass;
    req->mqtt_password_len = ca->pass_len;
    req->has_mqtt_password = ca->has_pass;
    req->mqtt_client_id = ca->client_id;
    if (ca->headers != NULL) {
        req->protocols |= IC_CUSTOM_AUTH_HTTP;
        req->headers = ca->headers;
        req->n_headers = ca->n_headers;
        req->query = ca->query && ca->query[0] ? ca->query : NULL;
    }
}

static int start_custom_auth(ic_proto_t *pr, const ic_connect_t *c) {
    ic_proto_env_t *env = pr->env;
    ic_custom_auth_req_t req;
    int rc;
    if (env->custom_auth == NULL || pr->cur_raw == NULL)
        return refuse(pr, RC_NOT_AUTHORIZED, V3_NOT_AUTHORIZED,
                      "custom authorizers are not available");
    (void)ca_part(pr);
    free(pr->ca->user);
    free(pr->ca->pass);
    free(pr->ca->client_id);
    free(pr->ca->sni);
    pr->ca->sni = pr->tls && pr->tls->sni[0] ? ic_xstrdup(pr->tls->sni) : NULL;
    pr->ca->user = c->has_username ? ic_xstrndup((const char *)c->username.p,
                                                c->username.len)
                                  : NULL;
    pr->ca->has_pass = c->has_password;
    pr->ca->pass = c->has_password && c->password.len
                      ? ic_xmemdup(c->password.p, c->password.len)
                      : NULL;
    pr->ca->pass_len = c->has_password ? c->password.len : 0;
    pr->ca->client_id = c->client_id.len ? ic_xstrndup((const char *)c->client_id.p,
                                                      c->client_id.len)
                                        : NULL;
    ca_req(pr, &req);
    free(pr->ca->connect);
    pr->ca->connect = ic_xmemdup(pr->cur_raw, pr->cur_raw_len);
    pr->ca->connect_len = pr->cur_raw_len;
    rc = ic_custom_auth_invoke(env->custom_auth, &req, on_custom_auth, pr,
                               &pr->ca->call);
    if (rc != 0) {
        free(pr->ca->connect);
        pr->ca->connect = NULL;
        pr->ca->call = NULL;
        return refuse(pr, RC_NOT_AUTHORIZED, V3_NOT_AUTHORIZED,
                      "custom authorizers are stopping");
    }
    /* hold the input until the answer (transport keeps what follows) */
    pr->is_throttled = true;
    pr->io->throttle(pr->io_data, 3600 * 1000);
    return 0;
}

/* A refresh's answer (refreshAfterInSeconds): new documents, or out. */
static void on_custom_refresh(ic_custom_auth_t *ca, const ic_custom_auth_result_t *r,
                              void *data) {
    ic_proto_t *pr = data;
    char why[200];
    (void)ca;
    pr->ca->call = NULL;
    if (pr->state != ST_ACTIVE)
        return;
    if (!r->is_allowed) {
        disconnect(pr, RC_NOT_AUTHORIZED, "AUTH_ERROR");
        return;
    }
    ca_take(pr, r);
    if (pr->auth &&
        ic_auth_conn_set_inline(pr->auth, pr->principal,
                                (const char *const *)pr->ca->docs, pr->ca->n_docs,
                                why, sizeof(why)) != 0) {
        ic_log_info("custom auth refresh refused", "client_id=%s reason=\"%s\"",
                    pr->session ? pr->session->client_id : "-", why);
        disconnect(pr, RC_NOT_AUTHORIZED, "AUTH_ERROR");
    }
}

static void custom_auth_refresh(ic_proto_t *pr) {
    ic_custom_auth_req_t req;
    ca_req(pr, &req);
    req.no_cache = true;
    pr->ca->refresh_ms = 0;
    if (ic_custom_auth_invoke(pr->env->custom_auth, &req, on_custom_refresh, pr,
                              &pr->ca->call) != 0)
        pr->ca->call = NULL;
}

void ic_proto_require_custom_auth(ic_proto_t *pr, const ic_http_header_t *headers,
                                  size_t n_headers, const char *query) {
    pr->needs_custom_auth = true;
    pr->needs_cert = false;
    if (headers != NULL || query != NULL) {
        /* copied into one block (the HTTP parser's request is gone by
         * CONNECT); sizes are the parser's, already bounded */
        ca_t *ca = ca_part(pr);
        size_t i, bytes = n_headers * sizeof(*headers) + (query ? strlen(query) : 0) + 1;
        char *p;
        for (i = 0; i < n_headers; i++)
            bytes += headers[i].name_len + headers[i].value_len + 2;
        free(ca->headers);
        ca->headers = ic_xmalloc(bytes);
        p = (char *)(ca->headers + n_headers);
        for (i = 0; i < n_headers; i++) {
            ic_http_header_t *h = &ca->headers[i];
            h->name = memcpy(p, headers[i].name, headers[i].name_len);
            p[headers[i].name_len] = '\0';
            h->name_len = headers[i].name_len;
            p += h->name_len + 1;
            h->value = memcpy(p, headers[i].value, headers[i].value_len);
            p[headers[i].value_len] = '\0';
            h->value_len = headers[i].value_len;
            p += h->value_len + 1;
        }
        ca->n_headers = n_headers;
        ca->query = query ? strcpy(p, query) : NULL;
        if (ca->query == NULL)
            *p = '\0';
    }
}

void ic_proto_set_custom_auth(ic_proto_t *pr, const ic_custom_auth_result_t *r) {
    ca_take(pr, r);
    pr->ca_done = true;
    pr->needs_custom_auth = false;
}

static int on_connect_accepted(ic_proto_t *pr, const ic_connect_t *c) {
    ic_proto_env_t *env = pr->env;
    const ic_profile_t *p = env->p;
    char assigned[64] = "";
    const char *id = (const char *)c->client_id.p;
    size_t id_len = c->client_id.len;
    uint32_t expiry = 0, requested_expiry = 0;
    uint16_t window;
    bool present = false;
    ic_session_t *s;
    ic_packet_t pkt;
    ic_connack_t *ack = &pkt.u.connack;

    if (pr->needs_cert && !env->cert_auth_registry &&
        (pr->tls == NULL || !pr->tls->is_trusted)) {
        /* aws-iot-auth.md 4.6 [REC]: the handshake completed; refuse at
         * CONNECT - MQTT 5 CONNACK 0x87, MQTT 3.1.1 a close. */
        ic_log_info("connect refused",
                    "peer=%s client_id=%.*s cert_id=%s reason=\"%s\"", pr->peer,
                    (int)id_len, id, pr->principal ? pr->principal : "-",
                    pr->tls && pr->tls->why[0] ? pr->tls->why
                                               : "no client certificate");
        if (pr->version == IC_MQTT_V5)
            return refuse_quietly(pr, RC_NOT_AUTHORIZED, 0, "AUTH_ERROR");
        begin_close(pr, "AUTH_ERROR");
        return IC_ECLOSED;
    }
    if (id_len == 0) {
        /* [MQTT-3.1.3-8] 3.1.1: an empty ID needs a clean session. */
        if (c->version == IC_MQTT_V311 && !c->clean_start)
            return refuse(pr, 0, V3_ID_REJECTED,
                          "empty client ID with a persistent session");
        assign_id(pr, assigned, sizeof(assigned));
        id = assigned;
        id_len = strlen(assigned);
    }
    if (id_len > p->client_id_max)
        return refuse(pr, RC_CLIENT_ID_INVALID, V3_ID_REJECTED,
                      "client ID longer than 128 bytes");
    if (p->refuse_dollar_client_id && id[0] == '$')
        return refuse(pr, RC_CLIENT_ID_INVALID, V3_ID_REJECTED,
                      "client ID starting with $ is reserved");
    if (check_will(pr, c) != 0)
        return IC_ECLOSED;
    if (connect_throttled(pr, id, id_len))
        return refuse(pr, RC_QUOTA_EXCEEDED, V3_UNAVAILABLE,
                      "more than connect_rate_limit CONNECTs per second");
    if (authorize_connect(pr, c, id, id_len) != 0)
        return IC_ECLOSED;

    /* Session expiry: MQTT 3.1.1 persistent sessions get the default;
     * MQTT 5 asks, capped at the maximum (AWS 5.5). */
    if (c->version == IC_MQTT_V5) {
        if (c->props.present & IC_PROP_BIT(IC_PROP_SESSION_EXPIRY))
            requested_expiry = c->props.session_expiry;
        expiry = requested_expiry > p->session_expiry_max_s
                     ? p->session_expiry_max_s
                     : requested_expiry;
    } else if (!c->clean_start) {
        expiry = p->session_expiry_default_s;
    }

    s = ic_sessions_get(env->sessions, id, id_len);
    if (s != NULL && s->conn != NULL)
        take_over(s->conn);
    if (s != NULL && (c->clean_start || s->version != c->version)) {
        /* Clean start, or a session of the other protocol version: AWS
         * sessions do not cross versions (5.1). */
        end_session(env, s);
        s = NULL;
    }
    if (s != NULL) {
        present = true;
        ic_session_set_expiry(s, expiry);
    } else {
        s = ic_sessions_create(env->sessions, id, id_len, c->version, expiry);
    }
    pr->session = s;
    pr->keepalive_s = ic_profile_keepalive(p, c->keep_alive);
    pr->send_will = true;
    if (c->version == IC_MQTT_V5 &&
        (c->props.present & IC_PROP_BIT(IC_PROP_MAXIMUM_PACKET_SIZE)))
        pr->client_max_packet = c->props.maximum_packet_size;
    /* Outbound topic aliases, when the client accepts them. */
    if (c->version == IC_MQTT_V5 &&
        (c->props.present & IC_PROP_BIT(IC_PROP_TOPIC_ALIAS_MAXIMUM)))
        pr->n_out_aliases = c->props.topic_alias_maximum < p->topic_alias_max
                                ? c->props.topic_alias_maximum
                                : p->topic_alias_max;
    window = p->max_inflight;
    if (c->version == IC_MQTT_V5 &&
        (c->props.present & IC_PROP_BIT(IC_PROP_RECEIVE_MAXIMUM)) &&
        c->props.receive_maximum < window)
        window = c->props.receive_maximum;
    build_will(pr, c);

    memset(&pkt, 0, sizeof(pkt));
    pkt.type = IC_MQTT_CONNACK;
    ack->session_present = present;
    ack->rc = 0;
    if (c->version == IC_MQTT_V5) {
        ic_props_t *q = &ack->props;
        q->present = IC_PROP_BIT(IC_PROP_RECEIVE_MAXIMUM) |
                     IC_PROP_BIT(IC_PROP_MAXIMUM_QOS) |
                     IC_PROP_BIT(IC_PROP_RETAIN_AVAILABLE) |
                     IC_PROP_BIT(IC_PROP_MAXIMUM_PACKET_SIZE) |
                     IC_PROP_BIT(IC_PROP_TOPIC_ALIAS_MAXIMUM) |
                     IC_PROP_BIT(IC_PROP_WILDCARD_SUB_AVAILABLE) |
                     IC_PROP_BIT(IC_PROP_SUB_ID_AVAILABLE) |
                     IC_PROP_BIT(IC_PROP_SHARED_SUB_AVAILABLE);
        q->receive_maximum = p->receive_maximum;
        q->maximum_qos = p->maximum_qos;
        q->retain_available = 1;
        q->maximum_packet_size = p->max_packet;
        q->topic_alias_maximum = p->topic_alias_max;
        q->wildcard_sub_available = 1;
        q->sub_id_available = 0;
        q->shared_sub_available = 1;
        if (assigned[0]) {
            q->present |= IC_PROP_BIT(IC_PROP_ASSIGNED_CLIENT_ID);
            q->assigned_client_id.p = (const uint8_t *)assigned;
            q->assigned_client_id.len = id_len;
        }
        if (pr->keepalive_s != c->keep_alive) {
            q->present |= IC_PROP_BIT(IC_PROP_SERVER_KEEP_ALIVE);
            q->server_keep_alive = pr->keepalive_s;
        }
        if (expiry != requested_expiry) {
            q->present |= IC_PROP_BIT(IC_PROP_SESSION_EXPIRY);
            q->session_expiry = expiry;
        }
    }
    pr->state = ST_ACTIVE;
    send_packet(pr, &pkt);
    ic_session_attach(s, pr, &sink, window);
    if (pr->auth) {
        /* aws-iot-auth.md 4.7: the client ID names a thing the certificate
         * is attached to, or the certificate is exclusively one thing's */
        const char *thing = ic_auth_conn_thing(env->auth, pr->auth);
        free(pr->thing);
        pr->thing = thing ? ic_xstrdup(thing) : NULL;
    } else if (pr->principal && env->things) {
        const char *thing =
            ic_things_connection_thing(env->things, pr->principal, s->client_id);
        free(pr->thing);
        pr->thing = thing ? ic_xstrdup(thing) : NULL;
    }
    ic_log_info("client connected",
                "client_id=%s peer=%s version=%s keepalive=%u clean=%d "
                "session_present=%d expiry=%u %s=%s sni=%s thing=%s",
                s->client_id, pr->peer, c->version == IC_MQTT_V5 ? "5" : "3.1.1",
                pr->keepalive_s, c->clean_start, present, expiry,
                pr->is_cert_principal || pr->principal == NULL ? "cert_id"
                                                               : "principal",
                pr->principal ? pr->principal : "-",
                pr->tls && pr->tls->sni[0] ? pr->tls->sni : "-",
                pr->thing ? pr->thing : "-");
    if (env->lifecycle) {
        ic_lifecycle_who_t w;
        /* sessionIdentifier: for the life of the session (AWS 2.2) */
        if (!present || s->lifecycle_id[0] == '\0')
            ic_str_uuid(s->lifecycle_id);
        lc_who(pr, s, NULL, NULL, &w);
        pr->lc_version = ic_lifecycle_connected(env->lifecycle, &w,
                                                ic_clock_wall_ms());
        pr->lc_online = true;
    }
    forget_tls_peer(pr);
    if (present)
        ic_session_resume(s, ic_clock_wall_ms());
    return 0;
}

/* AWS 2.2: the filters of one SUBSCRIBE / UNSUBSCRIBE that took effect. */
static void lc_subscriptions(ic_proto_t *pr, const ic_subscribe_t *sub,
                             const uint8_t *rcs, uint8_t ok_max, bool is_sub) {
    const char *filters[IC_MQTT_MAX_ENTRIES];
    size_t lens[IC_MQTT_MAX_ENTRIES], n = 0, i;
    ic_lifecycle_who_t w;
    if (pr->env->lifecycle == NULL)
        return;
    for (i = 0; i < sub->n_total && i < IC_MQTT_MAX_ENTRIES; i++) {
        if (rcs[i] > ok_max)
            continue;
        filters[n] = (const char *)sub->e[i].filter.p;
        lens[n++] = sub->e[i].filter.len;
    }
    lc_who(pr, pr->session, NULL, NULL, &w);
    ic_lifecycle_subscriptions(pr->env->lifecycle, &w, is_sub, filters, lens, n,
                               ic_clock_wall_ms());
}

/* ---- PUBLISH ------------------------------------------------------------------ */

/* Resolve an MQTT 5 topic alias [MQTT-3.3.2.3.4]. */
static int resolve_alias(ic_proto_t *pr, const ic_publish_t *pub,
                         const char **topic, size_t *len) {
    const ic_profile_t *p = pr->env->p;
    uint16_t a;
    alias_t *slot;
    if (!(pub->props.present & IC_PROP_BIT(IC_PROP_TOPIC_ALIAS))) {
        if (pub->topic.len == 0)
            return disconnect(pr, RC_PROTOCOL_ERROR, "CLIENT_ERROR");
        return 0;
    }
    a = pub->props.topic_alias;
    if (a == 0 || a > p->topic_alias_max)
        return disconnect(pr, RC_TOPIC_ALIAS_INVALID, "CLIENT_ERROR");
    if (pr->aliases == NULL)
        pr->aliases = ic_xcalloc(p->topic_alias_max, sizeof(alias_t));
    slot = &pr->aliases[a - 1];
    if (pub->topic.len > 0) {
        free(slot->topic);
        slot->topic = ic_xstrndup((const char *)pub->topic.p, pub->topic.len);
        slot->len = (uint16_t)pub->topic.len;
        return 0;
    }
    if (slot->topic == NULL)
        return disconnect(pr, RC_PROTOCOL_ERROR, "CLIENT_ERROR");
    *topic = slot->topic;
    *len = slot->len;
    return 0;
}

/* AWS 5.12: 100 publishes/s per connection, excess discarded. */
static bool over_rate(ic_proto_t *pr) {
    uint32_t rate = pr->env->p->publish_rate;
    uint64_t now = pr->last_rx_ms;
    if (rate == 0)
        return false;
    if (now - pr->rate_start_ms >= 1000) {
        pr->rate_start_ms = now;
        pr->rate_count = 0;
    }
    return ++pr->rate_count > rate;
}

/* AWS 5.12: 512 KiB/s per connection, excess delayed (reading paused). */
static void account_bytes(ic_proto_t *pr, size_t n) {
    uint64_t limit = pr->env->p->throughput_bps, now = pr->last_rx_ms;
    if (limit == 0)
        return;
    if (now - pr->bytes_start_ms >= 1000) {
        pr->bytes_start_ms = now;
        pr->bytes_count = 0;
    }
    pr->bytes_count += n;
    if (pr->bytes_count > limit) {
        pr->is_throttled = true;
        pr->io->throttle(pr->io_data,
                         (uint32_t)(1000 - (now - pr->bytes_start_ms)));
    }
}

static int reject_publish(ic_proto_t *pr, const ic_publish_t *pub, uint8_t rc,
                          const char *why) {
    ic_log_info("publish rejected", "client_id=%s topic=%.*s reason=\"%s\"",
                pr->session->client_id, (int)pub->topic.len,
                (const char *)pub->topic.p, why);
    /* MQTT 5 QoS 1 gets a PUBACK reason code; MQTT 5 QoS 0 has nowhere to
     * carry one and MQTT 3.1.1 has no codes: disconnect (AWS 4.1). */
    if (pr->version == IC_MQTT_V5 && pub->qos == 1) {
        send_ack(pr, IC_MQTT_PUBACK, pub->packet_id, rc);
        return 0;
    }
    return disconnect(pr, rc, "CLIENT_ERROR");
}

/* aws-iot-auth.md 1.6: MQTT 5 QoS 1 gets PUBACK 0x87; QoS 0 (nowhere to
 * put a code) and MQTT 3.1.1 lose the connection. auth.c logged why. */
static int deny_publish(ic_proto_t *pr, const ic_publish_t *pub) {
    if (pr->version == IC_MQTT_V5 && pub->qos == 1) {
        send_ack(pr, IC_MQTT_PUBACK, pub->packet_id, RC_NOT_AUTHORIZED);
        return 0;
    }
    return disconnect(pr, RC_NOT_AUTHORIZED, "FORBIDDEN_ACCESS");
}

static int on_publish(ic_proto_t *pr, const ic_publish_t *pub, size_t wire) {
    ic_proto_env_t *env = pr->env;
    const ic_profile_t *p = env->p;
    const char *topic = (const char *)pub->topic.p, *why = NULL;
    size_t topic_len = pub->topic.len;
    int64_t now;
    ic_msg_t *m;
    int rc;

    account_bytes(pr, wire);
    if (pub->qos > p->maximum_qos) /* AWS 5.2 */
        return disconnect(pr, RC_QOS_NOT_SUPPORTED, "CLIENT_ERROR");
    if (pr->version == IC_MQTT_V5) {
        if (pub->props.present & IC_PROP_BIT(IC_PROP_SUBSCRIPTION_ID))
            return disconnect(pr, RC_PROTOCOL_ERROR, "CLIENT_ERROR");
        if ((rc = resolve_alias(pr, pub, &topic, &topic_len)) != 0)
            return rc;
    } else if (topic_len == 0) {
        return disconnect(pr, RC_PROTOCOL_ERROR, "CLIENT_ERROR");
    }
    if (pub->payload.len > p->max_payload) { /* AWS 5.12: 128 KB */
        env->too_large++;
        return disconnect(pr, RC_PACKET_TOO_LARGE, "CLIENT_ERROR");
    }
    if (ic_topic_check_name(topic, topic_len, &p->topic, &why) != 0)
        return reject_publish(pr, pub, RC_TOPIC_INVALID, why);
    if (pub->retain && ic_topic_is_reserved(topic, topic_len))
        return reject_publish(pr, pub, RC_TOPIC_INVALID,
                              "retain is not allowed on reserved topics");
    if (!allowed(pr, IC_ACT_PUBLISH, topic, topic_len, NULL) ||
        (pub->retain && !allowed(pr, IC_ACT_RETAIN, topic, topic_len, NULL)))
        return deny_publish(pr, pub);
    if (pub->retain && pub->payload.len > 0 &&
        !ic_router_can_retain(env->router, topic, topic_len)) {
        /* AWS 5.6: at the retained-message maximum, new retained
         * publishes are throttled (replacing or deleting still works). */
        ic_log_info("publish rejected", "client_id=%s topic=%.*s reason=\"%s\"",
                    pr->session->client_id, (int)topic_len, topic,
                    "max_retained_messages reached");
        if (pub->qos == 1)
            send_ack(pr, IC_MQTT_PUBACK, pub->packet_id,
                     pr->version == IC_MQTT_V5 ? RC_QUOTA_EXCEEDED : 0);
        return 0;
    }
    if (over_rate(pr)) {
        env->rate_limited++;
        ic_log_debug("publish discarded", "client_id=%s reason=publish_rate_limit",
                     pr->session->client_id);
        /* EMULATOR (publish_rate_disconnect): AWS discards the excess and
         * does not say when it disconnects with THROTTLED; opt-in here */
        if (env->p->rate_disconnect &&
            pr->rate_count - env->p->publish_rate >= env->p->rate_disconnect) {
            ic_log_info("publish rate exceeded", "client_id=%s discarded=%u "
                        "reason=publish_rate_disconnect",
                        pr->session->client_id,
                        (unsigned)(pr->rate_count - env->p->publish_rate));
            return disconnect(pr, RC_MESSAGE_RATE_TOO_HIGH, "THROTTLED");
        }
        if (pub->qos == 1)
            send_ack(pr, IC_MQTT_PUBACK, pub->packet_id,
                     pr->version == IC_MQTT_V5 ? RC_QUOTA_EXCEEDED : 0);
        return 0;
    }
    env->msgs_in[pub->qos ? 1 : 0]++;
    now = ic_clock_wall_ms();
    m = ic_msg_new(topic, topic_len, pub->payload.p, pub->payload.len, pub->qos,
                   pub->retain, pr->version == IC_MQTT_V5 ? &pub->props : NULL,
                   now);
    m->origin = pr->session;
    ic_router_publish(env->router, m, now);
    ic_msg_unref(m);
    /* AWS 5.2: acknowledged normally even with no subscriber (0x00). */
    if (pub->qos == 1)
        send_ack(pr, IC_MQTT_PUBACK, pub->packet_id, RC_SUCCESS);
    return 0;
}

/* ---- SUBSCRIBE / UNSUBSCRIBE ------------------------------------------------ */

/* Validate one filter; returns 0 or the v5 reason code. */
static uint8_t check_filter(ic_proto_t *pr, const ic_sub_entry_t *e,
                            const char **why) {
    const ic_profile_t *p = pr->env->p;
    const char *f = (const char *)e->filter.p, *name, *flt;
    size_t len = e->filter.len, name_len, flt_len;
    const char *rule, *rest;
    size_t rule_len, rest_len;
    int sh = ic_topic_split_share(f, len, &name, &name_len, &flt, &flt_len);
    if (sh < 0) {
        *why = "malformed shared subscription";
        return RC_FILTER_INVALID;
    }
    if (sh == 0) {
        flt = f;
        flt_len = len;
    }
    if (ic_topic_check_filter(flt, flt_len, &p->topic, why) != 0)
        return RC_FILTER_INVALID;
    if (ic_topic_split_ingest(flt, flt_len, &rule, &rule_len, &rest,
                              &rest_len) != 0) {
        *why = "Basic Ingest topics cannot be subscribed to";
        return RC_FILTER_INVALID;
    }
    return 0;
}

static int on_subscribe(ic_proto_t *pr, const ic_subscribe_t *sub) {
    ic_proto_env_t *env = pr->env;
    const ic_profile_t *p = env->p;
    ic_session_t *s = pr->session;
    uint8_t codes[IC_MQTT_MAX_ENTRIES + 1], *all = codes;
    bool added[IC_MQTT_MAX_ENTRIES];
    size_t i, n = sub->n_total;
    ic_packet_t pkt;
    int64_t now;

    if (pr->version == IC_MQTT_V5 &&
        (sub->props.present & IC_PROP_BIT(IC_PROP_SUBSCRIPTION_ID)))
        return disconnect(pr, RC_SUB_IDS_NOT_SUPPORTED, "CLIENT_ERROR");
    for (i = 0; i < n && i < IC_MQTT_MAX_ENTRIES; i++) {
        if (IC_SUBOPT_QOS(sub->e[i].opts) <= p->maximum_qos)
            continue;
        /* AWS 5.2: "when QoS 2 is requested, the broker doesn't send a
         * SUBACK"; qos2_subscribe picks the alternative. */
        if (p->qos2_subscribe == IC_QOS2_SUB_NO_SUBACK) {
            ic_log_info("subscribe ignored",
                        "client_id=%s reason=\"QoS 2 requested\" "
                        "filter=%.*s",
                        s->client_id, (int)sub->e[i].filter.len,
                        (const char *)sub->e[i].filter.p);
            return 0;
        }
        if (p->qos2_subscribe == IC_QOS2_SUB_DISCONNECT)
            return disconnect(pr, RC_QOS_NOT_SUPPORTED, "CLIENT_ERROR");
    }
    if (n > IC_MQTT_MAX_ENTRIES)
        all = ic_xmalloc(n);
    now = ic_clock_wall_ms();
    for (i = 0; i < n; i++) {
        const ic_sub_entry_t *e;
        const char *why = NULL;
        uint8_t rc, opts, qos;
        if (i < IC_MQTT_MAX_ENTRIES)
            added[i] = false;
        if (i >= p->max_filters || i >= IC_MQTT_MAX_ENTRIES) {
            /* AWS 5.12: 8 filters per SUBSCRIBE; the rest are refused. */
            all[i] = pr->version == IC_MQTT_V5 ? RC_QUOTA_EXCEEDED : 0x80;
            continue;
        }
        e = &sub->e[i];
        rc = check_filter(pr, e, &why);
        if (rc == 0 && (e->opts & IC_SUBOPT_NO_LOCAL) &&
            ic_str_has_prefix((const char *)e->filter.p, "$share/")) {
            /* [MQTT-3.8.3-4] no-local on a shared subscription */
            if (all != codes)
                free(all);
            return disconnect(pr, RC_PROTOCOL_ERROR, "CLIENT_ERROR");
        }
        if (rc != 0) {
            ic_log_info("subscribe refused", "client_id=%s filter=%.*s reason=\"%s\"",
                        s->client_id, (int)e->filter.len,
                        (const char *)e->filter.p, why ? why : "invalid");
            all[i] = pr->version == IC_MQTT_V5 ? rc : 0x80;
            continue;
        }
        if (!allowed(pr, IC_ACT_SUBSCRIBE, (const char *)e->filter.p,
                     e->filter.len, NULL)) {
            /* aws-iot-auth.md 1.6: MQTT 5 SUBACK 0x87 for the filter,
             * MQTT 3.1.1 loses the connection */
            if (pr->version != IC_MQTT_V5) {
                if (all != codes)
                    free(all);
                return disconnect(pr, RC_NOT_AUTHORIZED, "FORBIDDEN_ACCESS");
            }
            all[i] = RC_NOT_AUTHORIZED;
            continue;
        }
        qos = IC_SUBOPT_QOS(e->opts);
        if (qos > p->maximum_qos)
            qos = p->maximum_qos; /* qos2_subscribe = grant-qos1 */
        opts = (uint8_t)((e->opts & ~0x03) | qos);
        if (pr->version != IC_MQTT_V5)
            opts = qos;
        if (s->n_subs >= p->max_subscriptions) {
            bool exists = false;
            size_t k;
            for (k = 0; k < s->n_subs && !exists; k++)
                exists = s->subs[k].len == e->filter.len &&
                         memcmp(s->subs[k].filter, e->filter.p, e->filter.len) == 0;
            if (!exists) {
                all[i] = pr->version == IC_MQTT_V5 ? RC_QUOTA_EXCEEDED : 0x80;
                continue;
            }
        }
        added[i] = ic_router_subscribe(env->router, s, (const char *)e->filter.p,
                                       e->filter.len, opts) == 1;
        all[i] = qos;
        ic_log_info("client subscribed", "client_id=%s filter=%.*s qos=%u",
                     s->client_id, (int)e->filter.len, (const char *)e->filter.p,
                     qos);
    }
    memset(&pkt, 0, sizeof(pkt));
    pkt.type = IC_MQTT_SUBACK;
    pkt.u.suback.packet_id = sub->packet_id;
    pkt.u.suback.rcs.p = all;
    pkt.u.suback.rcs.len = n;
    send_packet(pr, &pkt);
    lc_subscriptions(pr, sub, all, 1, true);
    /* Retained messages follow the SUBACK [MQTT-3.3.1-9], per retain
     * handling: 0 always, 1 only for a new subscription, 2 never. */
    for (i = 0; i < n && i < IC_MQTT_MAX_ENTRIES && i < p->max_filters; i++) {
        const ic_sub_entry_t *e = &sub->e[i];
        uint8_t rh = pr->version == IC_MQTT_V5 ? IC_SUBOPT_RH(e->opts) : 0;
        if (all[i] > 1 || rh == 2 || (rh == 1 && !added[i]))
            continue;
        ic_router_send_retained(env->router, s, (const char *)e->filter.p,
                                e->filter.len, all[i], now);
    }
    if (all != codes)
        free(all);
    return 0;
}

static int on_unsubscribe(ic_proto_t *pr, const ic_subscribe_t *sub) {
    ic_session_t *s = pr->session;
    uint8_t codes[IC_MQTT_MAX_ENTRIES + 1], *all = codes;
    size_t i, n = sub->n_total;
    ic_packet_t pkt;
    if (n > IC_MQTT_MAX_ENTRIES)
        all = ic_xmalloc(n);
    for (i = 0; i < n; i++) {
        const ic_sub_entry_t *e;
        if (i >= IC_MQTT_MAX_ENTRIES) {
            all[i] = RC_UNSPECIFIED;
            continue;
        }
        e = &sub->e[i];
        if (ic_router_unsubscribe(pr->env->router, s, (const char *)e->filter.p,
                                  e->filter.len) == 0)
            all[i] = RC_SUCCESS;
        else
            all[i] = RC_NO_SUBSCRIPTION;
    }
    memset(&pkt, 0, sizeof(pkt));
    pkt.type = IC_MQTT_UNSUBACK;
    pkt.u.suback.packet_id = sub->packet_id;
    pkt.u.suback.rcs.p = all;
    pkt.u.suback.rcs.len = pr->version == IC_MQTT_V5 ? n : 0;
    send_packet(pr, &pkt);
    lc_subscriptions(pr, sub, all, RC_SUCCESS, false);
    if (all != codes)
        free(all);
    return 0;
}

/* ---- DISCONNECT ----------------------------------------------------------------- */

static int on_disconnect(ic_proto_t *pr, const ic_ack_t *d) {
    ic_session_t *s = pr->session;
    if (pr->version == IC_MQTT_V5 &&
        (d->props.present & IC_PROP_BIT(IC_PROP_SESSION_EXPIRY))) {
        /* [MQTT-3.14.2-2] 0 -> non-zero is a protocol error (AWS 5.5). */
        if (s->expiry_s == 0 && d->props.session_expiry != 0)
            return disconnect(pr, RC_PROTOCOL_ERROR, "CLIENT_ERROR");
        ic_session_set_expiry(s, d->props.session_expiry >
                                         pr->env->p->session_expiry_max_s
                                     ? pr->env->p->session_expiry_max_s
                                     : d->props.session_expiry);
    }
    /* A normal DISCONNECT discards the will; MQTT 5 0x04 keeps it. */
    pr->send_will = pr->version == IC_MQTT_V5 && d->rc == RC_DISCONNECT_WITH_WILL;
    begin_close(pr, "CLIENT_INITIATED_DISCONNECT");
    return IC_ECLOSED;
}

/* ---- dispatch ---------------------------------------------------------------- */

static int on_decode_error(ic_proto_t *pr, int rc, const char *why) {
    uint8_t code = rc == IC_ETOOBIG ? RC_PACKET_TOO_LARGE
                   : rc == IC_EPROTO ? RC_PROTOCOL_ERROR
                                     : RC_MALFORMED;
    ic_log_info("protocol error", "peer=%s client_id=%s err=%s why=\"%s\"",
                pr->peer, pr->session ? pr->session->client_id : "-",
                ic_errname(rc), why ? why : "");
    return disconnect(pr, code, "CLIENT_ERROR");
}

static int dispatch(ic_proto_t *pr, ic_packet_t *pkt, size_t wire) {
    if (pr->state == ST_CONNECT) {
        /* [MQTT-3.1.0-1] the first packet must be CONNECT */
        if (pkt->type != IC_MQTT_CONNECT) {
            ic_log_info("protocol error", "peer=%s why=\"packet before CONNECT\"",
                        pr->peer);
            begin_close(pr, "CLIENT_ERROR");
            return IC_ECLOSED;
        }
        return on_connect(pr, &pkt->u.connect);
    }
    switch (pkt->type) {
    case IC_MQTT_PUBLISH:
        return on_publish(pr, &pkt->u.publish, wire);
    case IC_MQTT_PUBACK:
        if (ic_session_puback(pr->session, pkt->u.ack.packet_id,
                              ic_clock_wall_ms()) != 0)
            ic_log_debug("puback unknown", "client_id=%s pid=%u",
                         pr->session->client_id, pkt->u.ack.packet_id);
        return 0;
    case IC_MQTT_SUBSCRIBE:
        return on_subscribe(pr, &pkt->u.subscribe);
    case IC_MQTT_UNSUBSCRIBE:
        return on_unsubscribe(pr, &pkt->u.subscribe);
    case IC_MQTT_PINGREQ: {
        ic_packet_t resp;
        memset(&resp, 0, sizeof(resp));
        resp.type = IC_MQTT_PINGRESP;
        send_packet(pr, &resp);
        return 0;
    }
    case IC_MQTT_DISCONNECT:
        return on_disconnect(pr, &pkt->u.ack);
    case IC_MQTT_CONNECT:
        /* [MQTT-3.1.0-2] a second CONNECT (AWS: CLIENT_ERROR) */
        ic_log_info("protocol error", "client_id=%s why=\"second CONNECT\"",
                    pr->session->client_id);
        return disconnect(pr, RC_PROTOCOL_ERROR, "CLIENT_ERROR");
    default:
        /* QoS 2 flow packets, AUTH and server-to-client packets: AWS
         * supports none of them from a client (5.1). */
        ic_log_info("protocol error", "client_id=%s why=\"unexpected packet type %u\"",
                    pr->session->client_id, pkt->type);
        return disconnect(pr, RC_PROTOCOL_ERROR, "CLIENT_ERROR");
    }
}

int ic_proto_feed(ic_proto_t *pr, const uint8_t *buf, size_t len,
                  size_t *used) {
    size_t off = 0;
    int rc = 0;
    *used = 0;
    if (pr->state == ST_CLOSING) {
        *used = len;
        return IC_ECLOSED;
    }
    if (pr->ca != NULL && pr->ca->call != NULL) {
        /* a CONNECT is with the authorizer: the rest waits */
        pr->is_throttled = true;
        return 0;
    }
    /* Called again by the transport once a throttle pause is over. */
    pr->is_throttled = false;
    while (off < len && rc == 0 && !pr->is_throttled) {
        ic_packet_t pkt;
        int n = ic_codec_decode(buf + off, len - off,
                                pr->version ? pr->version : IC_MQTT_V311,
                                pr->env->p->max_packet, &pkt);
        if (n == IC_EAGAIN)
            break;
        if (n < 0) {
            if (pr->state == ST_CONNECT && n == IC_EPROTO &&
                (buf[off] >> 4) == IC_MQTT_CONNECT) {
                /* Unsupported protocol level: 3.1.1-style CONNACK 0x01
                 * [MQTT-3.1.2-2], then close. */
                pr->version = IC_MQTT_V311;
                rc = refuse(pr, RC_UNSUPPORTED_VERSION, V3_BAD_VERSION,
                            pkt.why ? pkt.why : "unsupported protocol");
            } else if (pr->state == ST_CONNECT) {
                ic_log_info("protocol error", "peer=%s err=%s why=\"%s\"",
                            pr->peer, ic_errname(n), pkt.why ? pkt.why : "");
                begin_close(pr, "CLIENT_ERROR");
                rc = IC_ECLOSED;
            } else {
                rc = on_decode_error(pr, n, pkt.why);
            }
            off = len;
            break;
        }
        pr->last_rx_ms = uv_now(pr->env->loop);
        pr->cur_raw = buf + off;
        pr->cur_raw_len = (size_t)n;
        rc = dispatch(pr, &pkt, (size_t)n);
        pr->cur_raw = NULL;
        off += (size_t)n;
    }
    *used = rc == 0 ? off : len;
    return rc;
}

/* ---- outbound ------------------------------------------------------------------ */

/* The outbound alias for m's topic: 0 = none. *is_new: the client does
 * not know it yet (send the topic with it). First come, first aliased;
 * once all slots are taken, other topics go without one. */
static uint16_t out_alias(ic_proto_t *pr, const ic_msg_t *m, bool *is_new) {
    uint16_t i;
    if (pr->out_aliases == NULL)
        pr->out_aliases = ic_xcalloc(pr->n_out_aliases, sizeof(alias_t));
    for (i = 0; i < pr->n_out_aliases; i++) {
        alias_t *a = &pr->out_aliases[i];
        if (a->topic == NULL) {
            a->topic = ic_xstrndup(m->topic, m->topic_len);
            a->len = m->topic_len;
            *is_new = true;
            return (uint16_t)(i + 1);
        }
        if (a->len == m->topic_len && memcmp(a->topic, m->topic, a->len) == 0) {
            *is_new = false;
            return (uint16_t)(i + 1);
        }
    }
    return 0;
}

/* A PUBLISH with a topic alias is specific to this connection, so it is
 * encoded here rather than taken from the message's shared frame. */
static void send_aliased(ic_proto_t *pr, ic_msg_t *m, uint8_t qos, uint16_t pid,
                         bool retain, bool dup, uint16_t alias, bool is_new,
                         int64_t now) {
    ic_packet_t pkt;
    ic_publish_t *p = &pkt.u.publish;
    memset(&pkt, 0, sizeof(pkt));
    pkt.type = IC_MQTT_PUBLISH;
    p->dup = dup;
    p->qos = qos;
    p->retain = retain;
    p->packet_id = pid;
    p->topic.p = (const uint8_t *)m->topic;
    p->topic.len = is_new ? m->topic_len : 0;
    p->payload.p = m->payload;
    p->payload.len = m->payload_len;
    p->props.present = IC_PROP_BIT(IC_PROP_TOPIC_ALIAS);
    p->props.topic_alias = alias;
    if (m->expires_at_ms) {
        p->props.present |= IC_PROP_BIT(IC_PROP_MESSAGE_EXPIRY);
        p->props.message_expiry = ic_msg_expiry_left(m, now);
    }
    /* the forwarded properties are already encoded: append them as is */
    p->props.user_raw.p = m->props;
    p->props.user_raw.len = m->props_len;
    send_packet(pr, &pkt);
}

static void sink_publish(void *conn, ic_msg_t *m, uint8_t qos, uint16_t pid,
                         bool retain, bool dup) {
    ic_proto_t *pr = conn;
    const ic_frame_t *f;
    int64_t now;
    uint8_t byte0;
    if (pr->state == ST_CLOSING)
        return; /* QoS 1 stays in flight for the next connection */
    if (qos == 0 && pr->io->queued(pr->io_data) > pr->env->out_high_water) {
        pr->env->dropped_qos0++; /* slow consumer: QoS 0 is best effort */
        return;
    }
    now = m->expires_at_ms ? ic_clock_wall_ms() : 0;
    if (qos == 0 && ic_msg_is_expired(m, now))
        return;
    f = ic_msg_frame(m, pr->version, qos);
    if (qos == 0 && pr->client_max_packet && f->len > pr->client_max_packet)
        return; /* [MQTT-3.1.2-25] never exceed the client's maximum */
    if (pr->n_out_aliases > 0) {
        bool is_new = false;
        uint16_t alias = out_alias(pr, m, &is_new);
        if (alias != 0) {
            pr->env->msgs_out[qos ? 1 : 0]++;
            send_aliased(pr, m, qos, pid, retain, dup, alias, is_new, now);
            return;
        }
    }
    pr->env->msgs_out[qos ? 1 : 0]++;
    byte0 = (uint8_t)(IC_MQTT_PUBLISH << 4 | (dup ? 0x08 : 0) | qos << 1 |
                      (retain ? 1 : 0));
    pr->io->send_publish(pr->io_data, m, f, byte0, pid,
                         ic_msg_expiry_left(m, now));
}

/* iot:Receive at every delivery (aws-iot-auth.md 1.2). */
static bool sink_may_receive(void *conn, const ic_msg_t *m) {
    return allowed(conn, IC_ACT_RECEIVE, m->topic, m->topic_len, NULL);
}

static const ic_session_sink_t sink = {sink_publish, sink_may_receive};

/* ---- timers ----------------------------------------------------------------------- */

void ic_proto_sweep(ic_proto_env_t *env, uint64_t now_mono_ms,
                    int64_t now_wall_ms) {
    ic_proto_t *pr, *next;
    ic_map_iter_t it = {0, NULL};
    ic_session_t *s;
    for (pr = env->live; pr; pr = next) {
        next = pr->next;
        if (pr->state == ST_CONNECT && !pr->is_not_mqtt &&
            now_mono_ms - pr->opened_ms > CONNECT_TIMEOUT_MS) {
            ic_log_info("connect timeout", "peer=%s", pr->peer);
            begin_close(pr, "CLIENT_ERROR");
        } else if (pr->ca && pr->ca->deadline_ms &&
                   now_wall_ms >= pr->ca->deadline_ms &&
                   pr->state != ST_CLOSING) {
            /* AWS 2.3: older than the authorizer's disconnectAfterInSeconds */
            disconnect(pr, RC_NOT_AUTHORIZED, "CUSTOMAUTH_TTL_EXPIRATION");
        } else if (pr->ca && pr->ca->refresh_ms && now_wall_ms >= pr->ca->refresh_ms &&
                   pr->state == ST_ACTIVE && pr->ca->call == NULL &&
                   pr->ca->user != NULL) {
            custom_auth_refresh(pr);
        } else if (pr->ws_deadline_ms && now_wall_ms >= pr->ws_deadline_ms &&
                   pr->state != ST_CLOSING) {
            /* AWS 2.3: a WebSocket connection older than its TTL */
            disconnect(pr, RC_ADMINISTRATIVE_ACTION, "WEBSOCKET_TTL_EXPIRATION");
        } else if (pr->state == ST_ACTIVE &&
                   now_mono_ms - pr->last_rx_ms >
                       (uint64_t)pr->keepalive_s * 1500) {
            /* AWS 5.4: 1.5 x keep-alive of silence */
            disconnect(pr, RC_KEEP_ALIVE_TIMEOUT, "MQTT_KEEP_ALIVE_TIMEOUT");
        }
    }
    {
        /* the per-client-ID CONNECT clock only matters for a second */
        ic_map_iter_t ct = {0, NULL};
        ic_map_entry_t *e;
        while ((e = ic_map_next(&env->connect_times, &ct)) != NULL)
            if (now_mono_ms - (uint64_t)(uintptr_t)e->val >= 1000)
                ic_map_del(&env->connect_times, e->key, e->klen);
    }
    while ((s = ic_sessions_next(env->sessions, &it)) != NULL) {
        if (s->conn != NULL)
            continue;
        if (s->will_at && now_wall_ms >= s->will_at)
            publish_will(env, s, now_wall_ms);
        if (s->offline_since &&
            now_wall_ms >= s->offline_since + (int64_t)s->expiry_s * 1000) {
            publish_will(env, s, now_wall_ms);
            ic_log_info("session expired", "client_id=%s", s->client_id);
            end_session(env, s);
        }
    }
}

void ic_proto_shutdown_all(ic_proto_env_t *env) {
    ic_proto_t *pr, *next;
    env->is_shutting_down = true;
    for (pr = env->live; pr; pr = next) {
        next = pr->next;
        if (pr->state == ST_ACTIVE)
            disconnect(pr, RC_SHUTTING_DOWN, "SERVER_INITIATED_DISCONNECT");
        else
            begin_close(pr, "SERVER_INITIATED_DISCONNECT");
    }
}

void ic_proto_set_not_mqtt(ic_proto_t *pr) {
    pr->is_not_mqtt = true;
}

void ic_proto_set_websocket(ic_proto_t *pr, const char *principal, bool is_admin,
                            const char *policy, int64_t deadline_ms) {
    pr->is_not_mqtt = false;
    pr->opened_ms = uv_now(pr->env->loop); /* CONNECT is due from now */
    pr->needs_cert = false;
    pr->is_admin = is_admin;
    free(pr->cred_policy);
    pr->cred_policy = policy ? ic_xstrdup(policy) : NULL;
    pr->ws_deadline_ms = deadline_ms;
    free(pr->principal);
    pr->principal = principal && principal[0] ? ic_xstrdup(principal) : NULL;
    pr->is_cert_principal = false;
}

void ic_proto_transport_error(ic_proto_t *pr) {
    if (pr->state != ST_CLOSING)
        begin_close(pr, "CLIENT_ERROR");
}

void ic_proto_peer_closed(ic_proto_t *pr) {
    /* a WebSocket Close is the client's DISCONNECT (AWS 2.3): no will */
    if (pr->state == ST_CLOSING)
        return;
    pr->send_will = false;
    begin_close(pr, "CLIENT_INITIATED_DISCONNECT");
}

void ic_proto_recheck(ic_proto_env_t *env) {
    ic_proto_t *pr, *next;
    for (pr = env->live; pr; pr = next) {
        ic_auth_connect_t cx;
        next = pr->next;
        if (pr->state != ST_ACTIVE || pr->auth == NULL || pr->session == NULL)
            continue;
        memset(&cx, 0, sizeof(cx));
        cx.persistent = pr->asked_persistent;
        cx.has_will = pr->asked_will;
        if (pr->session->will) {
            cx.will_topic = pr->session->will->topic;
            cx.will_topic_len = pr->session->will->topic_len;
        }
        if (!ic_auth_allow(env->auth, pr->auth, IC_ACT_CONNECT,
                           pr->session->client_id, pr->session->client_id_len, &cx))
            disconnect(pr, RC_NOT_AUTHORIZED, "AUTH_ERROR");
    }
}

size_t ic_proto_disconnect_principal(ic_proto_env_t *env, const char *principal,
                                     const char *why) {
    ic_proto_t *pr, *next;
    size_t n = 0;
    for (pr = env->live; pr; pr = next) {
        next = pr->next;
        if (pr->principal == NULL || !pr->is_cert_principal ||
            strcmp(pr->principal, principal) != 0 ||
            pr->state == ST_CLOSING)
            continue;
        ic_log_info("principal revoked", "cert_id=%s peer=%s reason=\"%s\"",
                    principal, pr->peer, why);
        /* AWS drops the connection; MQTT 5 clients are told why first. */
        disconnect(pr, RC_NOT_AUTHORIZED, "AUTH_ERROR");
        n++;
    }
    return n;
}

/* ---- DeleteConnection (aws-iot-dataplane.md 1.10) -------------------------- */

int ic_proto_delete_connection(ic_proto_env_t *env, const char *client_id,
                               bool clean_session, bool prevent_will) {
    ic_session_t *s = ic_sessions_get(env->sessions, client_id, strlen(client_id));
    ic_proto_t *pr;
    if (s == NULL)
        return IC_ENOTFOUND;
    pr = s->conn;
    if (pr == NULL) {
        /* offline persistent session */
        if (clean_session) {
            ic_log_info("session deleted", "client_id=%s reason=DeleteConnection",
                        client_id);
            ic_session_set_will(s, NULL, 0);
            end_session(env, s);
        }
        return 0;
    }
    if (prevent_will)
        pr->send_will = false;
    if (clean_session)
        ic_session_set_expiry(s, 0); /* ends with the connection */
    disconnect(pr, RC_ADMINISTRATIVE_ACTION, "API_INITIATED_DISCONNECT");
    return 0;
}
