/* conn.h - client connections: socket I/O, write batching, close.
 *
 * ic_conns_t is a service module: it accepts connections handed over by the
 * listeners, reads into one shared buffer, feeds the protocol state machine
 * and owns each connection's write queue. Output produced during a loop
 * turn is flushed once per connection at the end of the turn, with one
 * writev for everything queued (control packets and shared PUBLISH frames
 * alike), never one syscall per message.
 */
#ifndef IOTCORED_CONN_H
#define IOTCORED_CONN_H

#include "iotcored/config.h"
#include "iotcored/ctx.h"
#include "iotcored/http.h"
#include "iotcored/proto.h"
#include "iotcored/tls.h"

#include <stddef.h>
#include <uv.h>

typedef struct ic_conns_s ic_conns_t;

/* max_conns: concurrent connections beyond which accepts are closed
 * (0 = no limit). */
ic_conns_t *ic_conns_new(uv_loop_t *loop, ic_proto_env_t *env,
                         size_t max_conns);
/* An ic_accept_cb (listener.h); data is the ic_conns_t. */
void ic_conns_accept(uv_stream_t *server, const ic_listener_conf_t *lc,
                     ic_tls_ctx_t *tls, void *data);
/* Disconnect everyone (MQTT 5: DISCONNECT 0x8B), flush, close; cb once the
 * last connection and the module's own handles are closed. */
void ic_conns_stop(ic_conns_t *cs, ic_done_cb cb, void *data);
void ic_conns_free(ic_conns_t *cs);
size_t ic_conns_count(const ic_conns_t *cs);
/* The HTTP service answering connections of listeners with this protocol
 * (ic_listener_protocol_t), borrowed; NULL = the 501 placeholder. */
void ic_conns_set_http(ic_conns_t *cs, int protocol,
                       const ic_http_service_t *svc);
/* Limits for every HTTP connection (lim copied); applies to connections
 * made afterwards; idle_ms closes idle HTTP connections. */
void ic_conns_set_http_limits(ic_conns_t *cs, const ic_http_limits_t *lim,
                              uint64_t idle_ms);

/* A listener's name, so that its counters show from the start (0 until
 * its first connection). */
void ic_conns_add_listener(ic_conns_t *cs, const char *name);
/* Metrics: fn per (listener, protocol "mqtt"|"websocket"|"http") with the
 * open connections, and the bytes read and written so far. */
typedef void (*ic_conns_stat_fn)(const char *listener, const char *protocol,
                                 uint64_t n, void *data);
void ic_conns_stats(const ic_conns_t *cs, ic_conns_stat_fn fn, void *data,
                    uint64_t *bytes_in, uint64_t *bytes_out);
/* MQTT over WebSocket: the largest frame payload accepted (1009 beyond)
 * and the connection lifetime (ms, 0 = none; AWS: 24 h). */
void ic_conns_set_websocket(ic_conns_t *cs, uint64_t max_payload,
                            int64_t lifetime_ms);

#endif
