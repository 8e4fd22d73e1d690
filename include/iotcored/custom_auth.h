/* custom_auth.h - running a custom authorizer (aws-iot-auth.md 6.3, 6.4):
 * pick the authorizer, find the token and its signature in what the client
 * sent, verify the signature, invoke the authorizer function with AWS's
 * event JSON and judge its response JSON.
 *
 * The function is reached through an injected HTTP transport (the same
 * ic_action_http_fn the Rules Engine's actions use), one of two ways:
 *   - a URL mapped to its ARN by an `authorizer_function ARN URL` config
 *     line (ARN "*" matches every function): the event is POSTed there as
 *     application/json and the response body is the function's answer;
 *   - otherwise, when aws_service_endpoint is set, the Lambda Invoke API on
 *     that endpoint (POST /2015-03-31/functions/<ARN>/invocations,
 *     RequestResponse, SigV4 for "lambda" in the ARN's region), so an
 *     authorizer deployed to LocalStack runs unchanged.
 * With neither, the authorization fails. The function has timeout_ms (AWS:
 * 5 s) from the request's start to the response's last byte.
 *
 * Results are delivered asynchronously, exactly once per accepted call,
 * unless the caller cancels first. Allowed results are cached for the
 * function's refreshAfterInSeconds, keyed by (authorizer, token, MQTT
 * username, password and client ID, TLS server name, protocols); the
 * event's HTTP headers and query string beyond the token are not part of
 * the key. Denials and failures are never cached, and any change to the
 * authorizers drops the cache. The signature is verified on every call,
 * cached or not. Loop thread only.
 */
#ifndef IOTCORED_CUSTOM_AUTH_H
#define IOTCORED_CUSTOM_AUTH_H

#include "iotcored/actions.h"
#include "iotcored/authorizers.h"
#include "iotcored/config.h"
#include "iotcored/ctx.h"
#include "iotcored/http_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define IC_CUSTOM_AUTH_TIMEOUT_MS 5000u   /* AWS: the function's time limit */
#define IC_CUSTOM_AUTH_MAX_DOCS 10        /* policyDocuments */
#define IC_CUSTOM_AUTH_MAX_PRINCIPAL 128  /* principalId characters */
#define IC_CUSTOM_AUTH_MIN_TTL_S 300      /* disconnect/refreshAfterInSeconds */
#define IC_CUSTOM_AUTH_MAX_TTL_S 86400
#define IC_CUSTOM_AUTH_MAX_RESPONSE (256u * 1024) /* bytes of a response */
#define IC_CUSTOM_AUTH_CACHE_MAX 1024     /* default cached results */

/* The parameter names AWS reads (headers, query strings, the MQTT
 * username's query). */
#define IC_CUSTOM_AUTH_NAME_PARAM "x-amz-customauthorizer-name"
#define IC_CUSTOM_AUTH_SIG_PARAM "x-amz-customauthorizer-signature"

/* Event "protocols" bits. */
#define IC_CUSTOM_AUTH_TLS 1u
#define IC_CUSTOM_AUTH_HTTP 2u
#define IC_CUSTOM_AUTH_MQTT 4u

typedef struct ic_custom_auth_s ic_custom_auth_t;
typedef struct ic_custom_auth_call_s ic_custom_auth_call_t;

/* What the module needs from the broker; copied at new, the pointers in it
 * borrowed for the module's life. functions points into the running
 * config, so a reload that swaps its pairs applies to the next call. */
typedef struct ic_custom_auth_env_s {
    ic_action_http_fn http;          /* NULL: every invocation fails */
    void *http_transport;
    const ic_cfg_pairs_t *functions; /* authorizer_function ARN URL; NULL none */
    const char *lambda_endpoint;     /* aws_service_endpoint; NULL or "" none */
    const char *lambda_region;       /* signing region when the ARN has none */
    const char *access_key;          /* SigV4 key pair for Lambda Invoke */
    const char *secret_key;
    uint32_t timeout_ms;             /* 0: IC_CUSTOM_AUTH_TIMEOUT_MS */
    size_t cache_max;                /* 0: IC_CUSTOM_AUTH_CACHE_MAX */
} ic_custom_auth_env_t;

/* One authorization request: what the client sent. Everything is borrowed
 * for the ic_custom_auth_invoke call only (copied as needed). */
typedef struct ic_custom_auth_req_s {
    /* Explicit values (TestInvokeAuthorizer); NULL: found in the client's
     * parameters below, first in headers (name compared without case,
     * value as sent), then in query (percent-decoded), then in the query
     * part of mqtt_username (after the first '?', percent-decoded; SDK
     * metrics such as SDK=...&Version=... are simply not looked at). */
    const char *authorizer;  /* else x-amz-customauthorizer-name, else the
                                default authorizer */
    const char *token;       /* else the authorizer's tokenKeyName */
    const char *signature;   /* base64, may be percent-encoded; else
                                x-amz-customauthorizer-signature */
    unsigned protocols;      /* IC_CUSTOM_AUTH_* bits of the event */
    const char *server_name; /* TLS SNI; NULL none */
    const ic_http_header_t *headers; /* HTTP request headers; may be NULL */
    size_t n_headers;
    const char *query;       /* raw query string without '?'; NULL none */
    const char *mqtt_username;  /* CONNECT username as sent; NULL none */
    const uint8_t *mqtt_password; /* CONNECT password bytes */
    size_t mqtt_password_len;
    bool has_mqtt_password;
    const char *mqtt_client_id; /* NULL: not sent */
    const char *connection_id;  /* connectionMetadata.id; NULL: a new UUID */
    bool no_cache;           /* neither read nor fill the result cache
                                (refreshes, TestInvokeAuthorizer) */
    bool allow_inactive;     /* an INACTIVE authorizer may run (tests) */
} ic_custom_auth_req_t;

typedef enum {
    IC_CUSTOM_AUTH_OK = 0,             /* allowed */
    IC_CUSTOM_AUTH_NOT_AUTHENTICATED,  /* the function said isAuthenticated
                                          false (its answer is in the result) */
    IC_CUSTOM_AUTH_NO_AUTHORIZER,      /* none named and no default, not
                                          found, or INACTIVE */
    IC_CUSTOM_AUTH_BAD_CREDENTIALS,    /* token or signature missing, signature
                                          not base64 or not valid */
    IC_CUSTOM_AUTH_BAD_RESPONSE,       /* the function's answer is malformed */
    IC_CUSTOM_AUTH_FAILED,             /* not reachable or not configured,
                                          timed out, errored, non-2xx */
    IC_CUSTOM_AUTH_CLOSED,             /* the module is stopping (a call in
                                          flight aborted by the transport's
                                          close; not logged) */
} ic_custom_auth_status_t;

/* The outcome, borrowed for the callback. */
typedef struct ic_custom_auth_result_s {
    ic_custom_auth_status_t status;
    bool is_allowed;             /* status == IC_CUSTOM_AUTH_OK */
    const char *reason;          /* for the log: "authorizer X not found",
                                    "token signature invalid", "authorizer
                                    timed out after 5000 ms", "authorizer
                                    returned isAuthenticated false",
                                    "malformed authorizer response: ...";
                                    "" when allowed */
    const char *authorizer;      /* name used, "" when none */
    const char *connection_id;   /* as sent in the event */
    /* The function's answer (OK and NOT_AUTHENTICATED; else empty). */
    const char *principal_id;    /* "" when absent */
    const char *const *policy_documents; /* JSON texts: an object given as
                                    an object is printed compactly, one given
                                    as a JSON string is that string */
    size_t n_policy_documents;
    uint32_t disconnect_after_s; /* 0 when absent */
    uint32_t refresh_after_s;    /* 0 when absent */
    bool caching_for_http;       /* the authorizer's enableCachingForHttp */
    bool is_cached;              /* served from the result cache */
} ic_custom_auth_result_t;

/* r and everything in it are borrowed for the call. The call's handle is
 * invalid once cb returns. */
typedef void (*ic_custom_auth_cb)(ic_custom_auth_t *ca,
                                  const ic_custom_auth_result_t *r, void *data);

/* ---- the service ----------------------------------------------------------- */

/* loop and reg borrowed for the module's life; env copied. Never NULL. */
ic_custom_auth_t *ic_custom_auth_new(uv_loop_t *loop, ic_authorizers_t *reg,
                                     const ic_custom_auth_env_t *env);
/* Start one authorization. Returns 0: cb fires exactly once, never from
 * inside this call (also for results known at once: unknown authorizer,
 * bad signature, a cached result), unless ic_custom_auth_cancel comes
 * first; *call (out, may be NULL) is the handle. Returns IC_ECLOSED once
 * stopping (cb never fires). req is borrowed for the call. Every denial
 * and failure is logged once here, with its reason (info; warning when the
 * function failed or answered badly). */
int ic_custom_auth_invoke(ic_custom_auth_t *ca, const ic_custom_auth_req_t *req,
                          ic_custom_auth_cb cb, void *data,
                          ic_custom_auth_call_t **call);
/* The caller goes away (connection closed): cb will not fire. call must be
 * a handle whose cb has not returned yet; cancelling from inside its own
 * callback is a no-op. */
void ic_custom_auth_cancel(ic_custom_auth_call_t *call);
/* Calls whose callback has not run yet. */
size_t ic_custom_auth_pending(const ic_custom_auth_t *ca);
/* Precondition: the transport has completed every request it took (close
 * it first: its aborted requests, rc IC_ECLOSED, complete the calls with
 * IC_CUSTOM_AUTH_CLOSED). Delivers what is queued, refuses new calls, and
 * fires cb once after its handle has closed, never from inside this call. */
void ic_custom_auth_stop(ic_custom_auth_t *ca, ic_done_cb cb, void *data);
/* Accepts NULL. Precondition: stopped (the stop callback ran). */
void ic_custom_auth_free(ic_custom_auth_t *ca);

/* ---- pure parts (exposed for tests and TestInvokeAuthorizer) --------------- */

/* The value of parameter key among the client's parameters (headers, then
 * query, then the username's query; see ic_custom_auth_req_t), or NULL.
 * New string, owned by the caller (free). */
char *ic_custom_auth_param(const ic_custom_auth_req_t *req, const char *key);

/* Decode a token signature: percent-decoding (once, when it holds '%'),
 * ' ' read as '+' (a form-decoded '+'), base64url letters accepted,
 * padding optional. 0 with *len bytes in out (cap bytes), or
 * IC_EMALFORMED (not base64, empty, or longer than cap). */
int ic_custom_auth_decode_signature(const char *sig, uint8_t *out, size_t cap,
                                    size_t *len);

/* Verify signature (as in ic_custom_auth_decode_signature) over the token's
 * bytes, RSA-SHA256 (PKCS #1 v1.5), against each of az's public keys. 0
 * when one verifies; IC_EMALFORMED ("token signature is not base64"),
 * IC_EDENIED ("token signature invalid", also with no usable key). why
 * (may be NULL) gets the reason. */
int ic_custom_auth_verify(const ic_authorizer_t *az, const char *token,
                          const char *signature, char *why, size_t whylen);

/* The event JSON sent to the function (aws-iot-auth.md 6.4): token (when
 * not NULL), signatureVerified, protocols, protocolData (tls.serverName;
 * http.headers as an object, repeated names joined with ",", and
 * http.queryString as "?<query>" when there is one; mqtt.username,
 * mqtt.password as base64, mqtt.clientId, each when sent) and
 * connectionMetadata.id. New string, owned by the caller (free). */
char *ic_custom_auth_event(const ic_custom_auth_req_t *req, const char *token,
                           bool signature_verified, const char *connection_id);

/* The function's answer, judged. */
typedef struct ic_custom_auth_resp_s {
    bool is_authenticated;
    char *principal_id;          /* NULL when absent */
    char **docs;                 /* n_docs policy documents (JSON texts) */
    size_t n_docs;
    uint32_t disconnect_after_s; /* 0 when absent */
    uint32_t refresh_after_s;    /* 0 when absent */
} ic_custom_auth_resp_t;

/* Parse body[0..len) into out (zeroed first; release with
 * ic_custom_auth_resp_free, also on error). 0, or IC_EMALFORMED with why
 * (may be NULL), e.g. "not a JSON object", "isAuthenticated must be a
 * boolean", "principalId must match [a-zA-Z0-9]{1,128}", "policyDocuments
 * holds 11 documents; at most 10", "policyDocuments[2] must be a JSON
 * object or a string", "policyDocuments[0]: Policy document exceeds the
 * maximum size of 2048 characters", "policyDocuments[1]: Policy document
 * is malformed: ...", "refreshAfterInSeconds must be an integer from 300
 * to 86400". isAuthenticated is always required; principalId,
 * policyDocuments, disconnectAfterInSeconds and refreshAfterInSeconds are
 * required when it is true, and checked whenever present. A string
 * document must itself be a JSON object; documents are also compiled by
 * the policy engine. Members AWS does not define are ignored. */
int ic_custom_auth_parse(const uint8_t *body, size_t len,
                         ic_custom_auth_resp_t *out, char *why, size_t whylen);
void ic_custom_auth_resp_free(ic_custom_auth_resp_t *r);

#endif
