/* listener.h - bound listening sockets, one per `listener` block.
 *
 * A service module (STYLE 3.6). Start binds every configured listener or
 * none: if one fails, those already bound are closed before start returns.
 * Accepted connections go to the handler set with ic_listeners_set_handler;
 * with no handler a connection is closed at once.
 */
#ifndef IOTCORED_LISTENER_H
#define IOTCORED_LISTENER_H

#include "iotcored/config.h"
#include "iotcored/ctx.h"
#include "iotcored/tls.h"

#include <stddef.h>

typedef struct ic_listeners_s ic_listeners_t;

/* Called on the loop thread for each pending connection on `server`; the
 * handler must uv_accept it into a handle it owns (or close a refused one).
 * lc is borrowed for the call. */
typedef void (*ic_accept_cb)(uv_stream_t *server, const ic_listener_conf_t *lc,
                             ic_tls_ctx_t *tls, void *data);

/* Allocate state for every listener in b->cfg. No I/O. */
int ic_listeners_init(ic_listeners_t **out, ic_broker_t *b);
/* Bind and listen on all. Returns 0, or a negative errno with
 * `file:line: port: ...` in err and nothing left bound. */
int ic_listeners_start(ic_listeners_t *ls, char *err, size_t errlen);
void ic_listeners_set_handler(ic_listeners_t *ls, ic_accept_cb cb, void *data);
/* SIGHUP: reload the TLS certificates and keys (all listeners or none). */
int ic_listeners_reload(ic_listeners_t *ls, const ic_config_t *next);
/* Close every listening handle; cb fires after the last close callback. */
void ic_listeners_stop(ic_listeners_t *ls, ic_done_cb cb, void *data);
void ic_listeners_fini(ic_listeners_t *ls);

/* Bound port of listener `name`, or IC_ENOENT. */
int ic_listeners_port(const ic_listeners_t *ls, const char *name);
/* Write `NAME PORT` per listener to path atomically (path.tmp + rename). */
int ic_listeners_write_ready(const ic_listeners_t *ls, const char *path);

#endif
