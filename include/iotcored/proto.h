/* proto.h - the per-connection MQTT state machine.
 *
 *   CONNECT --(valid CONNECT)--> ACTIVE --(DISCONNECT / error / kick)--> CLOSED
 *
 * The transport feeds bytes in (ic_proto_feed) and is driven through the
 * ic_proto_io_t it registered: control packets and shared PUBLISH frames
 * go out through it, and it is asked to close. This is the only place
 * where a codec or routing result becomes an MQTT reason code, CONNACK
 * return code or DISCONNECT (STYLE 3.7 "map once, at the edge").
 */
#ifndef IOTCORED_PROTO_H
#define IOTCORED_PROTO_H

#include "iotcored/http_parse.h"
#include "iotcored/map.h"
#include "iotcored/msg.h"
#include "iotcored/policies.h"
#include "iotcored/profile.h"
#include "iotcored/registry.h"
#include "iotcored/things.h"
#include "iotcored/router.h"
#include "iotcored/session.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct ic_proto_s ic_proto_t;

/* Implemented by the transport (net/conn.c). */
typedef struct ic_proto_io_s {
    /* Queue control-packet bytes (copied). */
    void (*send)(void *io, const uint8_t *p, size_t n);
    /* Queue a shared PUBLISH frame of m (a reference is taken) with the
     * per-delivery first byte, packet id and remaining expiry. */
    void (*send_publish)(void *io, ic_msg_t *m, const ic_frame_t *f,
                         uint8_t byte0, uint16_t pid, uint32_t expiry_left);
    /* Flush what is queued, then close; ic_proto_closed follows. */
    void (*close)(void *io);
    /* Stop reading for ms milliseconds (throughput limit); ic_proto_feed
     * stops consuming, and the transport feeds the unconsumed bytes again
     * when the pause ends. */
    void (*throttle)(void *io, uint32_t ms);
    /* Bytes queued and not yet written. */
    size_t (*queued)(void *io);
    /* End a throttle pause now (may be NULL): the bytes held are fed. */
    void (*resume)(void *io);
} ic_proto_io_t;

/* Shared by every connection; owned by mqtt.c. */
typedef struct ic_proto_env_s {
    const ic_profile_t *p;
    ic_router_t *router;
    ic_sessions_t *sessions;
    uv_loop_t *loop;
    ic_map_t connect_times;   /* client ID -> last CONNECT (uv_now ms) */
    ic_proto_t *live;         /* every open connection (keep-alive sweep) */
    size_t n_live;
    size_t out_high_water;    /* queued bytes above which QoS 0 is dropped */
    bool is_shutting_down;
    ic_buf_t scratch;         /* control packet encoding, reused */
    ic_registry_t *registry;  /* certificate registry */
    ic_things_t *things;      /* thing registry */
    ic_policies_t *policies;  /* IoT policies and their attachments */
    struct ic_auth_s *auth;   /* policy decisions; NULL = everything allowed
                                 (unit tests of the broker alone) */
    bool cert_auth_registry;  /* cert_auth registry (else: chain to tls_ca) */
    struct ic_shadow_svc_s *shadows; /* the Device Shadow service (REST) */
    struct ic_lifecycle_s *lifecycle; /* lifecycle events; NULL = none */
    struct ic_retain_s *retain;     /* retained messages (REST reads) */
    struct ic_custom_auth_s *custom_auth; /* custom authorizers; NULL none */
    const char *account_id;   /* borrowed from the config */
    uint64_t n_assigned;      /* assigned client IDs handed out */
    uint64_t dropped_qos0;    /* slow-consumer drops */
    uint64_t msgs_in[2];      /* PUBLISHes accepted from clients, by QoS */
    uint64_t msgs_out[2];     /* PUBLISHes sent to clients, by QoS */
    uint64_t too_large;       /* publishes over max_payload (disconnected) */
    uint64_t rate_limited;    /* publishes discarded by publish_rate */
} ic_proto_env_t;

/* A new connection from peer (text address, copied). */
ic_proto_t *ic_proto_new(ic_proto_env_t *env, const ic_proto_io_t *io,
                         void *io_data, const char *peer);
/* The connection must present a trusted client certificate (mutual TLS);
 * until ic_proto_set_peer says so, CONNECT is refused. */
void ic_proto_require_peer(ic_proto_t *pr, bool required);
/* What TLS learned about the peer: certificate ID (SHA-256 hex), whether
 * it chains to a trusted CA, why not, and the SNI host. Strings copied. */
void ic_proto_set_peer(ic_proto_t *pr, const char *cert_id, bool is_trusted,
                       const char *why, const char *sni, const uint8_t *der,
                       size_t der_len);
/* Peer address text (for the transport's logs). */
const char *ic_proto_peer(const ic_proto_t *pr);
/* What ic_proto_set_peer was told, while it is kept (until CONNECT is
 * decided; an HTTP connection keeps it): the certificate (DER, borrowed,
 * NULL if none), whether it chains to tls_ca, the SNI. */
const uint8_t *ic_proto_peer_cert(const ic_proto_t *pr, size_t *len,
                                  bool *is_trusted, const char **sni);
/* The connection switched to MQTT over WebSocket (after the HTTP upgrade):
 * a CONNECT is due from now; principal (copied; the SigV4 access key) is
 * what lifecycle events and rules see; is_admin: every action allowed (the
 * configured credentials); else policy (copied; NULL = the listener's):
 * the IoT policy that authorizes the connection (credentials_policy);
 * deadline_ms (wall, 0 = none): the connection is closed then with
 * WEBSOCKET_TTL_EXPIRATION. */
void ic_proto_set_websocket(ic_proto_t *pr, const char *principal, bool is_admin,
                            const char *policy, int64_t deadline_ms);
/* MQTT on 443 with ALPN mqtt, or a WebSocket upgraded without
 * credentials: CONNECT (username, password, client ID, SNI) goes to a
 * custom authorizer first; the connection then has the documents it
 * returned as its policies (aws-iot-auth.md 6.3-6.4). A WebSocket passes
 * its upgrade request's headers and raw query (copied; the event then has
 * protocol "http" too); MQTT passes NULL, 0, NULL. */
void ic_proto_require_custom_auth(ic_proto_t *pr, const ic_http_header_t *headers,
                                  size_t n_headers, const char *query);
/* A transport that already asked the authorizer (a WebSocket upgrade with
 * its headers): the connection's principal and policies are r's. */
struct ic_custom_auth_result_s;
void ic_proto_set_custom_auth(ic_proto_t *pr,
                              const struct ic_custom_auth_result_s *r);
/* The peer ended the transport cleanly (a WebSocket Close frame): a client
 * DISCONNECT for lifecycle purposes (CLIENT_INITIATED_DISCONNECT, no
 * will). */
void ic_proto_peer_closed(ic_proto_t *pr);
/* The transport broke the protocol (a bad WebSocket frame): CLIENT_ERROR. */
void ic_proto_transport_error(ic_proto_t *pr);
/* The certificate ID the connection authenticated with, "" if none. */
const char *ic_proto_principal(const ic_proto_t *pr);
/* The listener's policy (listener_policy), "" if none; borrowed. */
const char *ic_proto_anonymous_policy(const ic_proto_t *pr);

/* Decode and handle every whole packet in buf[0..len). *used = bytes
 * consumed (the transport keeps the rest for the next call). Returns 0, or
 * IC_ECLOSED once the connection is closing (ignore further input). */
int ic_proto_feed(ic_proto_t *pr, const uint8_t *buf, size_t len,
                  size_t *used);
/* The transport is gone (closed by either side): will, session detach or
 * end, then pr is freed. Exactly once per connection. */
void ic_proto_closed(ic_proto_t *pr);

/* Keep-alive (1.5 x) and CONNECT timeouts; session expiry and delayed
 * wills. Called by mqtt.c's cron task. */
void ic_proto_sweep(ic_proto_env_t *env, uint64_t now_mono_ms,
                    int64_t now_wall_ms);
/* Server stopping: MQTT 5 clients get DISCONNECT 0x8B; all are closed. */
void ic_proto_shutdown_all(ic_proto_env_t *env);
/* The connection turned out to speak HTTP (ALPN or an HTTP listener): the
 * CONNECT timeout no longer applies; the transport times it out itself. */
void ic_proto_set_not_mqtt(ic_proto_t *pr);
/* Policy `name` (listener_policy; borrowed) is in effect for this
 * connection in addition to its principal's; NULL = none. */
void ic_proto_set_anonymous_policy(ic_proto_t *pr, const char *name);
/* Policies or attachments changed: re-evaluate iot:Connect for every live
 * connection, disconnecting (0x87) those that lost it. */
void ic_proto_recheck(ic_proto_env_t *env);
/* A certificate stopped being ACTIVE (or was deleted): close every live
 * connection authenticated with it (MQTT 5: DISCONNECT 0x87 first).
 * Returns how many. */
size_t ic_proto_disconnect_principal(ic_proto_env_t *env, const char *principal,
                                     const char *why);

/* The data plane's DeleteConnection: disconnect the client (MQTT 5
 * DISCONNECT 0x98; lifecycle reason API_INITIATED_DISCONNECT), its will
 * published unless prevent_will; clean_session drops a persistent session
 * (also an offline one). IC_ENOTFOUND when the client is neither connected
 * nor has a session. */
int ic_proto_delete_connection(ic_proto_env_t *env, const char *client_id,
                               bool clean_session, bool prevent_will);

#endif
