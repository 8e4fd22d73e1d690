/* http_client.h - outbound HTTP/1.1 requests on the event loop (L3).
 *
 * One client object per user (the rules engine's actions, later custom
 * authorizers); any number of requests in flight on it, each on its own
 * connection (Connection: close, no pooling). http:// and https:// URLs;
 * names are resolved with uv_getaddrinfo and every address is tried in turn.
 * HTTPS verifies the server: the system CA paths plus an optional CA file,
 * the host name (or IP literal) checked against the certificate, SNI set to
 * a host name. Responses are framed by llhttp (Content-Length, chunked or
 * close-delimited) and bounded by the caller's max_response_bytes, which is
 * checked before anything the peer announces is allocated.
 *
 * Lifecycle (STYLE 3.6, as core/cron): ic_http_client_new, any number of
 * ic_http_client_request, ic_http_client_close(cb) (aborts what is in
 * flight; cb after every handle has closed), ic_http_client_free.
 * Loop thread only.
 */
#ifndef IOTCORED_HTTP_CLIENT_H
#define IOTCORED_HTTP_CLIENT_H

#include "iotcored/ctx.h"
#include "iotcored/http_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define IC_HTTP_CLIENT_TIMEOUT_MS 3000u        /* default overall timeout */
#define IC_HTTP_CLIENT_MAX_RESPONSE (1u << 20) /* default bound, bytes */
#define IC_HTTP_CLIENT_MAX_HEADERS 100u        /* response header fields */

typedef struct ic_http_client_s ic_http_client_t;

typedef struct ic_http_client_opts_s {
    const char *ca_file;     /* PEM file of extra trusted CAs, or NULL */
    bool no_default_ca;      /* do not load the system CA paths (tests) */
    size_t max_inflight;     /* requests in flight at once; 0 = no limit */
} ic_http_client_opts_t;

typedef struct ic_http_client_req_s {
    const char *method;      /* "GET", "POST", "PUT", ...: an RFC 9110 token */
    const char *url;         /* http[s]://host[:port][/path][?query]; host a
                                name, an IPv4 literal or [IPv6]; no userinfo;
                                a #fragment is dropped */
    const ic_http_header_t *headers; /* extra header fields (name_len and
                                value_len are used), may be NULL */
    size_t n_headers;
    const uint8_t *body;     /* may be NULL when body_len == 0 */
    size_t body_len;
    uint32_t timeout_ms;     /* resolve to last response byte; 0 = default */
    size_t max_response_bytes; /* reason phrase + header names and values
                                (trailers too) + body; 0 = default */
} ic_http_client_req_t;

typedef struct ic_http_response_s {
    int status;                      /* e.g. 200, 500 */
    const ic_http_header_t *headers; /* as received, n_headers entries */
    size_t n_headers;
    const char *content_type;        /* Content-Type value, "" if none */
    const uint8_t *body;             /* never NULL; body[body_len] == 0 */
    size_t body_len;
} ic_http_response_t;

/* Completion of one request. rc is 0 when a complete response arrived
 * (whatever its status: a 500 is rc 0, status 500) and res points at it;
 * otherwise rc is an error below, res is NULL and why says it briefly
 * ("connect refused", "timeout after 3000 ms", "TLS: certificate verify
 * failed (self-signed certificate)", "response too large", ...; "" when rc
 * is 0). res, why and everything they point into are borrowed for the call.
 * The connection's handles are closed before it runs, so the callback may
 * call ic_http_client_close (and then free from the close callback). */
typedef void (*ic_http_client_cb)(ic_http_client_t *c, int rc,
                                  const ic_http_response_t *res,
                                  const char *why, void *data);

/* Make a client on loop (borrowed; must outlive the client). opts may be
 * NULL (defaults) and is copied. *out (out parameter) is the new client, or
 * NULL on error. Returns 0, IC_ECONFIG (ca_file unreadable or not PEM, why
 * says so) or IC_EIO (OpenSSL could not make a context). why (may be NULL)
 * gets the reason. */
int ic_http_client_new(ic_http_client_t **out, uv_loop_t *loop,
                       const ic_http_client_opts_t *opts, char *why,
                       size_t whylen);

/* Start one request. req and everything it points to are borrowed: all of
 * it is copied before the call returns. A Host header is added unless req
 * has one; Content-Length (always, also 0 for a bodiless POST) and
 * "Connection: close" are added and may not be given.
 *
 * Returns 0 and then cb fires exactly once, never from inside this call,
 * on the loop thread; or, with cb never called:
 *   IC_EINVAL   bad method, URL (scheme, host, port, control bytes or
 *               spaces) or header (not a token name, CR/LF/NUL in a value,
 *               or Content-Length / Transfer-Encoding / Connection given);
 *   IC_ELIMIT   max_inflight requests are already in flight;
 *   IC_ECLOSED  the client is closing or closed.
 * rc in the callback: 0; IC_ECLOSED (aborted by ic_http_client_close);
 * UV_ETIMEDOUT (timeout_ms passed first); a negative libuv code from
 * resolving (UV_EAI_*) or connecting (UV_ECONNREFUSED, ...), for the last
 * address tried; IC_EPROTO (TLS failure: handshake, certificate
 * verification); IC_ETOOBIG (response larger than max_response_bytes, or
 * more than IC_HTTP_CLIENT_MAX_HEADERS header fields); IC_EMALFORMED (not
 * HTTP/1.x); IC_EIO (the connection broke or closed before the response
 * was complete). */
int ic_http_client_request(ic_http_client_t *c, const ic_http_client_req_t *req,
                           ic_http_client_cb cb, void *data);

/* Requests in flight (started and whose callback has not run yet). */
size_t ic_http_client_inflight(const ic_http_client_t *c);

/* Stop taking requests and abort every one in flight: each callback fires
 * with IC_ECLOSED after its handles have closed, then cb(data) fires once,
 * never from inside this call (also with nothing in flight). cb may be
 * NULL. Calling it again is a no-op (the second cb never fires). */
void ic_http_client_close(ic_http_client_t *c, ic_done_cb cb, void *data);

/* Free the client (NULL is fine). Precondition: the close callback ran
 * (or may run from inside it). */
void ic_http_client_free(ic_http_client_t *c);

#endif
