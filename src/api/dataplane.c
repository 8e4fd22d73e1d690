/* dataplane.c - the AWS IoT data-plane REST API (service `iotdata`): route
 * table, caller identity (SigV4 or client certificate), policy check, and
 * the Device Shadow operations.
 *
 * Owns the route table (method and URI as botocore's `iot-data` model has
 * them) and the per-request identity. The shadows are the shadow service's
 * (iot/shadow.c): a REST update is the same request as an MQTT one, so it
 * publishes accepted/documents/delta to MQTT subscribers; in durable mode
 * the answer waits for the commit (ic_http_defer). It must not choose HTTP
 * statuses (net/http.c maps AWS error types) or parse HTTP. Loop thread
 * only.
 *
 * Decisions (aws-iot-auth.md 5, EMULATOR): a request carrying a SigV4
 * signature is authenticated by it (a client certificate on the same
 * connection is then ignored); the configured credentials are
 * administrators and may do every operation; a certificate caller is
 * authorized by its policies (iot:GetThingShadow, ... on thing/<name>),
 * with no client ID and no iot:Connection.Thing.* variables (5.1). Every
 * authentication or authorization failure is 403 ForbiddenException
 * "Forbidden" (5.2); the log line says why.
 */
#include "iotcored/dataplane.h"

#include "api_auth.h"
#include "ctl.h"

#include "iotcored/alloc.h"
#include "iotcored/auth.h"
#include "iotcored/clock.h"
#include "iotcored/config.h"
#include "iotcored/conn.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/mqtt.h"
#include "iotcored/registry.h"
#include "iotcored/shadow.h"
#include "iotcored/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ic_dataplane_s {
    ic_broker_t *b;
    ic_proto_env_t *env;
    ic_http_service_t svc;
    /* identity of the request being handled (set by authorize, read by
     * the handler in the same call; requests are handled one at a time) */
    char cert_id[65];  /* certificate caller, "" for a SigV4 caller */
    char sni[128];
    const char *listener_policy; /* borrowed from the connection */
};

typedef struct ic_dataplane_s dp_t;

#define DP_HANDLER(name)                                                      \
    static void name(const ic_http_call_t *call, ic_http_resp_t *resp, void *data)

/* ---- identity ----------------------------------------------------------------------- */

static bool is_signed(const ic_http_request_t *req) {
    size_t i;
    for (i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, "authorization") == 0)
            return true;
    return strstr(req->query, "X-Amz-Algorithm=") != NULL;
}

static void forbidden(ic_http_resp_t *resp) {
    ic_http_fail(resp, IC_HTTP_E_FORBIDDEN, "Forbidden");
}

static int authorize(const ic_http_request_t *req, const ic_http_peer_t *peer,
                     ic_http_resp_t *resp, const char **principal, void *data) {
    /* the model's signing name, and the one the guide gives hand-rolled
     * clients (aws-iot-dataplane.md 1.10) */
    static const char *const services[] = {"iotdata", "iotdevicegateway", NULL};
    dp_t *d = data;
    char why[512];
    d->cert_id[0] = '\0';
    d->sni[0] = '\0';
    d->listener_policy = peer ? peer->listener_policy : NULL;
    if (is_signed(req)) {
        if (ic__api_sigv4(d->b->cfg, req, services, "data", principal, why,
                          sizeof(why)) == IC_API_AUTH_OK)
            return 0;
        forbidden(resp);
        return -1;
    }
    if (peer && peer->cert_der) {
        ic_auth_result_t a;
        if (d->env->cert_auth_registry) {
            ic_registry_authenticate(d->env->registry, peer->cert_der,
                                     peer->cert_der_len, ic_clock_wall_ms(), &a);
        } else {
            memset(&a, 0, sizeof(a));
            a.verdict = peer->cert_trusted ? IC_AUTH_OK : IC_AUTH_REFUSED;
            ic_strlcpy(a.why, "the certificate does not chain to tls_ca",
                       sizeof(a.why));
        }
        if (a.verdict == IC_AUTH_OK) {
            ic_strlcpy(d->cert_id, a.cert_id, sizeof(d->cert_id));
            ic_strlcpy(d->sni, peer->sni ? peer->sni : "", sizeof(d->sni));
            *principal = d->cert_id;
            return 0;
        }
        ic_log_info("http denied", "service=data peer=%s cert_id=%s reason=\"%s\"",
                    peer->addr, a.cert_id[0] ? a.cert_id : "-", a.why);
        forbidden(resp);
        return -1;
    }
    ic_log_info("http denied", "service=data peer=%s reason=\"not signed and no "
                "client certificate\"", peer ? peer->addr : "-");
    forbidden(resp);
    return -1;
}

/* A certificate caller needs the action on thing/<name> from its policies
 * or the listener's (listener_policy); SigV4 callers are the configured
 * administrators. */
static bool allowed(dp_t *d, const ic_http_call_t *call, ic_auth_action_t act,
                    const char *thing, ic_http_resp_t *resp) {
    ic_auth_conn_t *ac;
    bool ok;
    if (d->cert_id[0] == '\0' || d->env->auth == NULL)
        return true;
    ac = ic_auth_conn_new(d->env->auth, d->cert_id, d->listener_policy, NULL,
                          call->peer, d->sni);
    ok = ic_auth_allow(d->env->auth, ac, act, thing, strlen(thing), NULL);
    ic_auth_conn_free(ac);
    if (!ok)
        forbidden(resp);
    return ok;
}

/* ---- shadow operations ------------------------------------------------------------ */

/* One REST shadow request; answered inside the handler or, in durable
 * mode, after the commit. */
typedef struct rest_s {
    bool in_handler, answered;
    ic_http_resp_t *resp;
    ic_http_defer_t *defer;
} rest_t;

static ic_http_err_t err_of(int code) {
    switch (code) {
    case 404: return IC_HTTP_E_NOT_FOUND;
    case 409: return IC_HTTP_E_CONFLICT;
    case 413: return IC_HTTP_E_TOO_LARGE;
    case 415: return IC_HTTP_E_UNSUPPORTED_ENCODING;
    case 429: return IC_HTTP_E_THROTTLING;
    case 500: return IC_HTTP_E_INTERNAL;
    default: return IC_HTTP_E_INVALID_REQUEST;
    }
}

static void on_done(const ic_shadow_result_t *r, void *data) {
    rest_t *x = data;
    ic_http_resp_t *resp = x->in_handler ? x->resp : ic_http_defer_resp(x->defer);
    if (r->code == 200) {
        ic_buf_reset(&resp->body);
        ic_buf_append_str(&resp->body, r->body ? r->body : "{}");
    } else {
        /* the shadow's error document as the body (aws-iot-dataplane.md
         * 1.10, EMULATOR), with the exception's type and status */
        ic_http_fail_body(resp, err_of(r->code), r->body ? r->body : "{}");
    }
    if (x->in_handler) {
        x->answered = true;
        return;
    }
    ic_http_finish(x->defer);
    free(x);
}

/* `?name=`: absent = the classic shadow; present and empty is not the
 * classic shadow (400, EMULATOR 1.10). false after answering. */
static bool shadow_name(const ic_http_call_t *call, ic_http_resp_t *resp,
                        char *name, size_t cap) {
    if (!ic__ctl_q_str(call, "name", name, cap)) {
        name[0] = '\0';
        return true;
    }
    if (name[0] == '\0' || !ic_shadow_name_ok("t", name)) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "Invalid shadow name");
        return false;
    }
    return true;
}

static void shadow_op(const ic_http_call_t *call, ic_http_resp_t *resp, dp_t *d,
                      ic_shadow_op_t op, ic_auth_action_t act) {
    const char *thing = ic_http_label(call, "thingName");
    char name[80];
    rest_t *x;
    if (!ic_shadow_name_ok(thing, NULL)) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "Invalid thing name");
        return;
    }
    if (!shadow_name(call, resp, name, sizeof(name)) ||
        !allowed(d, call, act, thing, resp))
        return;
    x = ic_xcalloc(1, sizeof(*x));
    x->in_handler = true;
    x->resp = resp;
    ic_shadow_svc_request(d->env->shadows, op, thing, name,
                          op == IC_SHADOW_UPDATE ? call->req->body : NULL,
                          op == IC_SHADOW_UPDATE ? call->req->body_len : 0,
                          call->http, on_done, x);
    x->in_handler = false;
    if (x->answered) {
        free(x);
        return;
    }
    x->defer = ic_http_defer(call, resp);
}

DP_HANDLER(get_shadow) {
    shadow_op(call, resp, data, IC_SHADOW_GET, IC_ACT_GET_SHADOW);
}

DP_HANDLER(update_shadow) {
    shadow_op(call, resp, data, IC_SHADOW_UPDATE, IC_ACT_UPDATE_SHADOW);
}

DP_HANDLER(delete_shadow) {
    shadow_op(call, resp, data, IC_SHADOW_DELETE, IC_ACT_DELETE_SHADOW);
}

#define LIST_DEFAULT 25  /* UNCONFIRMED; GG-SM's default (1.10) */
#define LIST_MAX 100

DP_HANDLER(list_named_shadows) {
    dp_t *d = data;
    const char *thing = ic_http_label(call, "thingName");
    const char *names[LIST_MAX];
    char after[80];
    long page = LIST_DEFAULT;
    bool more = false;
    size_t n, i;
    cJSON *o, *arr;
    if (!ic_shadow_name_ok(thing, NULL)) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "Invalid thing name");
        return;
    }
    if (!ic__ctl_q_int(call, resp, "pageSize", 1, LIST_MAX, &page) ||
        !ic__ctl_q_token(call, resp, "nextToken", after, sizeof(after)) ||
        !allowed(d, call, IC_ACT_LIST_SHADOWS, thing, resp))
        return;
    n = ic_shadow_svc_list(d->env->shadows, thing, after, names, (size_t)page,
                           &more);
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "results");
    for (i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(names[i]));
    if (more && n > 0)
        ic__ctl_add_token(o, "nextToken", names[n - 1]);
    cJSON_AddNumberToObject(o, "timestamp", (double)(ic_clock_wall_ms() / 1000));
    ic_http_json(resp, o);
}

/* ---- connections ------------------------------------------------------------------ */

DP_HANDLER(delete_connection) {
    dp_t *d = data;
    const char *id = ic_http_label(call, "clientId");
    bool clean = false, prevent_will = false;
    int rc;
    if (id[0] == '$' || strlen(id) > 128) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "Invalid clientId: %.140s", id);
        return;
    }
    if (!ic__ctl_q_bool(call, resp, "cleanSession", &clean) ||
        !ic__ctl_q_bool(call, resp, "preventWillMessage", &prevent_will) ||
        !allowed(d, call, IC_ACT_DELETE_CONNECTION, id, resp))
        return;
    rc = ic_proto_delete_connection(d->env, id, clean, prevent_will);
    if (rc == IC_ENOTFOUND) {
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND,
                     "No connection or session found for client ID %s", id);
        return;
    }
    ic_log_info("connection deleted", "client_id=%s by=%s clean_session=%d "
                "prevent_will=%d", id, call->principal, clean, prevent_will);
}

static const ic_http_route_t routes[] = {
    {"DeleteConnection", "DELETE", "/connections/{clientId}", delete_connection},
    {"GetThingShadow", "GET", "/things/{thingName}/shadow", get_shadow},
    {"UpdateThingShadow", "POST", "/things/{thingName}/shadow", update_shadow},
    {"DeleteThingShadow", "DELETE", "/things/{thingName}/shadow", delete_shadow},
    {"ListNamedShadowsForThing", "GET",
     "/api/things/shadow/ListNamedShadowsForThing/{thingName}", list_named_shadows},
};

void ic_dataplane_print_routes(void) {
    size_t i;
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        printf("%s %s %s\n", routes[i].op, routes[i].method, routes[i].pattern);
}

/* ---- module -------------------------------------------------------------------------- */

int ic_dataplane_init(ic_dataplane_t **out, ic_broker_t *b) {
    dp_t *d = ic_xcalloc(1, sizeof(*d));
    d->b = b;
    d->svc.name = "data";
    d->svc.routes = routes;
    d->svc.n_routes = sizeof(routes) / sizeof(routes[0]);
    d->svc.authorize = authorize;
    d->svc.data = d;
    *out = d;
    return 0;
}

int ic_dataplane_start(ic_dataplane_t *d, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    d->env = ic_mqtt_env(d->b->mqtt);
    ic_conns_set_http(d->b->conns, IC_PROTO_HTTPS, &d->svc);
    return 0;
}

void ic_dataplane_fini(ic_dataplane_t *d) {
    free(d);
}
