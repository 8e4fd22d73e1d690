/* http.h - the HTTP/1.1 server side of a connection: request framing (via
 * http_parse), route table, response, AWS error shape.
 *
 * A service is a route table plus an authorizer, e.g. the AWS IoT control
 * plane (api/control.c). net/conn.c creates one ic_http_t per HTTP
 * connection and feeds it the bytes it reads; ic_http_t parses requests one
 * at a time, authorizes, finds the route, calls its handler (synchronously)
 * and writes the response through ic_http_io_t, keep-alive and pipelining
 * included. HTTP status codes, AWS error bodies and the x-amzn-ErrorType
 * header are chosen here and nowhere else (STYLE 3.7): handlers name an
 * AWS error type (ic_http_err_t), never a status.
 */
#ifndef IOTCORED_HTTP_H
#define IOTCORED_HTTP_H

#include "iotcored/buf.h"
#include "iotcored/http_parse.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* AWS error types; each has one HTTP status (botocore's model). */
typedef enum {
    IC_HTTP_E_INVALID_REQUEST = 0,   /* 400 InvalidRequestException */
    IC_HTTP_E_NOT_FOUND,             /* 404 ResourceNotFoundException */
    IC_HTTP_E_ALREADY_EXISTS,        /* 409 ResourceAlreadyExistsException */
    IC_HTTP_E_VERSION_CONFLICT,      /* 409 VersionConflictException */
    IC_HTTP_E_DELETE_CONFLICT,       /* 409 DeleteConflictException */
    IC_HTTP_E_CONFLICT,              /* 409 ConflictException */
    IC_HTTP_E_CERT_STATE,            /* 406 CertificateStateException */
    IC_HTTP_E_CERT_VALIDATION,       /* 400 CertificateValidationException */
    IC_HTTP_E_CERT_CONFLICT,         /* 409 CertificateConflictException */
    IC_HTTP_E_REGISTRATION_CODE,     /* 400 RegistrationCodeValidationException */
    IC_HTTP_E_MALFORMED_POLICY,      /* 400 MalformedPolicyException */
    IC_HTTP_E_VERSIONS_LIMIT,        /* 409 VersionsLimitExceededException */
    IC_HTTP_E_LIMIT_EXCEEDED,        /* 410 LimitExceededException */
    IC_HTTP_E_UNAUTHORIZED,          /* 401 UnauthorizedException */
    IC_HTTP_E_FORBIDDEN,             /* 403 ForbiddenException */
    IC_HTTP_E_ACCESS_DENIED,         /* 403 AccessDeniedException */
    IC_HTTP_E_MISSING_AUTH,          /* 403 MissingAuthenticationTokenException */
    IC_HTTP_E_UNRECOGNIZED_CLIENT,   /* 403 UnrecognizedClientException */
    IC_HTTP_E_INVALID_SIGNATURE,     /* 403 InvalidSignatureException */
    IC_HTTP_E_INCOMPLETE_SIGNATURE,  /* 403 IncompleteSignatureException */
    IC_HTTP_E_UNKNOWN_OPERATION,     /* 404 UnknownOperationException */
    IC_HTTP_E_METHOD_NOT_ALLOWED,    /* 405 MethodNotAllowedException */
    IC_HTTP_E_TOO_LARGE,             /* 413 RequestEntityTooLargeException */
    IC_HTTP_E_UNSUPPORTED_ENCODING,  /* 415 UnsupportedDocumentEncodingException */
    IC_HTTP_E_THROTTLING,            /* 429 ThrottlingException */
    IC_HTTP_E_INTERNAL,              /* 500 InternalFailureException */
    IC_HTTP_E_UNAVAILABLE,           /* 503 ServiceUnavailableException */
    IC_HTTP_E_SQL_PARSE,             /* 400 SqlParseException */
    IC_HTTP_E_INVALID_RESPONSE,      /* 400 InvalidResponseException */
    IC_HTTP_E_COUNT
} ic_http_err_t;

typedef struct ic_http_resp_s {
    int status;          /* 200 unless set */
    const char *content_type; /* static string */
    ic_buf_t headers;    /* extra "name: value\r\n" lines */
    ic_buf_t body;
    bool is_error;
} ic_http_resp_t;

#define IC_HTTP_MAX_LABELS 4

typedef struct ic_http_route_s ic_http_route_t;
typedef struct ic_http_s ic_http_t;
typedef struct ic_http_defer_s ic_http_defer_t;

/* Who is on the other end, as the transport knows it (borrowed for the
 * life of the ic_http_t). */
typedef struct ic_http_peer_s {
    const char *addr;         /* "ip:port" */
    const uint8_t *cert_der;  /* mutual TLS: the client certificate, else NULL */
    size_t cert_der_len;
    bool cert_trusted;        /* it chains to tls_ca */
    const char *sni;          /* "" when none */
    const char *listener_policy; /* in effect for every caller, "" = none */
} ic_http_peer_t;

/* What a handler gets: the request, its route and the URI labels,
 * percent-decoded (so a label may contain '/', e.g. a certificate ARN). */
typedef struct ic_http_call_s {
    const ic_http_request_t *req;
    const ic_http_route_t *route;
    const char *label_names[IC_HTTP_MAX_LABELS];
    char *label_values[IC_HTTP_MAX_LABELS];  /* owned by the call */
    size_t n_labels;
    const char *principal; /* who signed (access key ID), "" if no auth */
    const char *peer;      /* "ip:port" */
    const ic_http_peer_t *peer_info; /* may be NULL */
    ic_http_t *http;       /* for ic_http_defer */
    bool keep_alive, is_head;
} ic_http_call_t;

typedef void (*ic_http_handler_fn)(const ic_http_call_t *call,
                                   ic_http_resp_t *resp, void *data);

struct ic_http_route_s {
    const char *op;      /* AWS operation name, e.g. "CreateThing" */
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/things/{thingName}/principals"; a {label}
                            matches one non-empty path segment; {label+}
                            matches the rest of the path */
    ic_http_handler_fn fn;
};

/* Returns 0 to let the request through (*principal set, borrowed from the
 * service), or fills resp with the refusal and returns non-zero. */
typedef int (*ic_http_auth_fn)(const ic_http_request_t *req,
                               const ic_http_peer_t *peer,
                               ic_http_resp_t *resp, const char **principal,
                               void *data);

typedef struct ic_http_service_s {
    const char *name;              /* for log lines: "control" */
    const ic_http_route_t *routes;
    size_t n_routes;
    ic_http_auth_fn authorize;     /* NULL = no authentication */
    /* After every handled request (may be NULL): e.g. apply a change to
     * live connections. */
    void (*after)(const ic_http_call_t *call, const ic_http_resp_t *resp,
                  void *data);
    void *data;                    /* passed to authorize, handlers, after */
} ic_http_service_t;

/* What a handler that accepted a protocol upgrade (the 101 response it
 * filled) tells the transport about the caller. */
struct ic_custom_auth_result_s;
typedef struct ic_http_upgrade_s {
    char principal[160];      /* the authenticated caller (access key ID) */
    bool is_admin;            /* configured credentials: every action */
    char policy[129];         /* else their credentials_policy ("" = none) */
    /* a custom authorizer let the caller in (its principal, documents and
     * TTLs; borrowed for the upgrade call), or NULL */
    const struct ic_custom_auth_result_s *custom;
    /* no credentials yet: a custom authorizer decides at CONNECT (the
     * username/password route over WebSocket) */
    bool is_connect_auth;
    /* is_connect_auth: the upgrade request, borrowed for the upgrade call
     * (its headers and query go into the authorizer's event) */
    const struct ic_http_request_s *req;
} ic_http_upgrade_t;

/* Output of a connection, implemented by net/conn.c. */
typedef struct ic_http_io_s {
    void (*send)(void *io, const uint8_t *p, size_t n);
    void (*close)(void *io);  /* after what was sent is flushed */
    /* After a 101 response has been sent: the connection now speaks the
     * upgraded protocol; rest are the bytes read after the request (may be
     * 0), borrowed for the call. The ic_http_t parses nothing more. */
    void (*upgrade)(void *io, const ic_http_upgrade_t *u, const uint8_t *rest,
                    size_t n);
} ic_http_io_t;

/* svc, io, peer and lim are borrowed for the life of the ic_http_t (peer
 * may be NULL). */
ic_http_t *ic_http_new(const ic_http_service_t *svc, const ic_http_io_t *io,
                       void *io_data, const ic_http_peer_t *peer,
                       const ic_http_limits_t *lim);
void ic_http_free(ic_http_t *h);
/* Bytes read from the peer (borrowed). Every complete request is answered
 * before this returns. Returns 0, or IC_ECLOSED once the connection is to
 * be closed (answered first when there was something to say). */
int ic_http_feed(ic_http_t *h, const uint8_t *p, size_t n);

/* ---- for handlers --------------------------------------------------------- */

/* Answer later (a handler whose answer waits for the store): takes resp
 * over (the handler must not touch it again) and holds back the requests
 * pipelined behind this one. Fill ic_http_defer_resp(d), then call
 * ic_http_finish(d) exactly once; it sends the response (or, if the
 * connection has gone meanwhile, only frees d) and serves the next
 * request. The service's `after` hook is not called for deferred
 * requests. */
ic_http_defer_t *ic_http_defer(const ic_http_call_t *call, ic_http_resp_t *resp);
/* Accept the request's upgrade: the handler has set resp->status 101 and
 * the headers; once it is sent the transport switches (io->upgrade). u is
 * copied. */
void ic_http_accept_upgrade(const ic_http_call_t *call, const ic_http_upgrade_t *u);
ic_http_resp_t *ic_http_defer_resp(ic_http_defer_t *d);
/* Called once, from ic_http_free, if the connection goes away while d is
 * pending: the handler stops its work; it must still call
 * ic_http_finish(d) (which then only frees d), now or later. */
void ic_http_defer_on_gone(ic_http_defer_t *d, void (*gone)(void *data), void *data);
void ic_http_finish(ic_http_defer_t *d);
/* ic_http_finish for a deferred request whose answer is a 101 (resp filled
 * by the caller): sent, then the transport switches (io->upgrade) with the
 * bytes that arrived meanwhile. u borrowed for the call. */
void ic_http_finish_upgrade(ic_http_defer_t *d, const ic_http_upgrade_t *u);

/* Make resp an AWS error: status from the type, body {"message": ...},
 * x-amzn-ErrorType header. */
void ic_http_fail(ic_http_resp_t *resp, ic_http_err_t e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with a JSON body of the caller's (borrowed) instead of
 * {"message": ...} (the shadow's error documents). */
void ic_http_fail_body(ic_http_resp_t *resp, ic_http_err_t e, const char *body);
/* Answer 200 (or resp->status if set) with body as JSON; takes body. */
void ic_http_json(ic_http_resp_t *resp, cJSON *body);
void ic_http_header_add(ic_http_resp_t *resp, const char *name,
                        const char *value);
/* Label value by name, NULL if the route has none. */
const char *ic_http_label(const ic_http_call_t *call, const char *name);
/* The AWS error type's name and status. */
const char *ic_http_err_name(ic_http_err_t e);
int ic_http_err_status(ic_http_err_t e);

/* Route lookup (exposed for tests): the best route for method and raw
 * path: literal segments beat labels. Returns NULL with *path_known set
 * when the path matches a route of another method (405). Labels go to
 * call. */
const ic_http_route_t *ic_http_route_find(const ic_http_service_t *svc,
                                          const char *method, const char *path,
                                          ic_http_call_t *call,
                                          bool *path_known);
void ic_http_call_clear(ic_http_call_t *call);

#endif
