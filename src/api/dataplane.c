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
#include "iotcored/authorizers.h"
#include "iotcored/custom_auth.h"
#include "iotcored/clock.h"
#include "iotcored/config.h"
#include "iotcored/conn.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/mqtt.h"
#include "iotcored/msg.h"
#include "iotcored/profile.h"
#include "iotcored/proto.h"
#include "iotcored/retain.h"
#include "iotcored/router.h"
#include "iotcored/topic.h"
#include "iotcored/ws_frame.h"
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
    char sigv4_policy[129]; /* signed by a key with a credentials_policy */
    bool is_custom;    /* neither signed nor a certificate: a custom
                          authorizer decides (WebSocket, Publish) */
    /* a Publish the authorizer allowed: its documents decide (set only
     * while that request is being handled) */
    const ic_custom_auth_result_t *custom_result;
    size_t n_pub_ca;   /* Publishes waiting for their authorizer */
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
    d->sigv4_policy[0] = '\0';
    d->listener_policy = peer ? peer->listener_policy : NULL;
    d->is_custom = false;
    if (peer && peer->sni)
        ic_strlcpy(d->sni, peer->sni, sizeof(d->sni));
    if (is_signed(req)) {
        if (ic__api_sigv4(d->b->cfg, req, services, "data", principal, why,
                          sizeof(why)) == IC_API_AUTH_OK) {
            const char *pol = ic__api_credentials_policy(d->b->cfg, *principal);
            if (pol)
                ic_strlcpy(d->sigv4_policy, pol, sizeof(d->sigv4_policy));
            return 0;
        }
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
    if (d->b->custom_auth && d->b->authorizers &&
        ic_authorizers_count(d->b->authorizers) > 0) {
        /* a custom authorizer will decide (aws-iot-auth.md 6.3) */
        d->is_custom = true;
        *principal = "";
        return 0;
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
    if (d->custom_result) {
        /* the authorizer's documents, as for an MQTT connection */
        const ic_custom_auth_result_t *r = d->custom_result;
        char why[200];
        ac = ic_auth_conn_new(d->env->auth, NULL, d->listener_policy, NULL,
                              call->peer, d->sni);
        ok = ic_auth_conn_set_inline(ac, r->principal_id, r->policy_documents,
                                     r->n_policy_documents, why, sizeof(why)) == 0 &&
             ic_auth_allow(d->env->auth, ac, act, thing, strlen(thing), NULL);
        ic_auth_conn_free(ac);
        if (!ok)
            forbidden(resp);
        return ok;
    }
    if (d->is_custom) {
        /* AWS 5.1: custom authorizers serve Publish only over HTTPS */
        ic_log_info("http denied", "service=data peer=%s reason=\"custom "
                    "authorizer credentials are accepted for Publish and "
                    "WebSocket only\"",
                    call->peer);
        forbidden(resp);
        return false;
    }
    if (d->sigv4_policy[0] && d->env->auth) {
        /* credentials_policy: that policy decides, as for a device */
        ac = ic_auth_conn_new(d->env->auth, NULL, d->sigv4_policy, NULL, call->peer,
                              d->sni);
        ok = ic_auth_allow(d->env->auth, ac, act, thing, strlen(thing), NULL);
        ic_auth_conn_free(ac);
        if (!ok)
            forbidden(resp);
        return ok;
    }
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

/* ---- publish and retained messages ---------------------------------------------------- */



static void put_u16_str(ic_buf_t *b, const char *s, size_t n) {
    uint8_t h[2] = {(uint8_t)(n >> 8), (uint8_t)n};
    ic_buf_append(b, h, 2);
    ic_buf_append(b, s, n);
}

/* x-amz-mqtt5-user-properties: base64 of a JSON array of one-member
 * objects ([{"deviceName":"alpha"},...]) as encoded user properties. */
static bool user_props(const char *hdr, ic_buf_t *out, size_t *n) {
    ic_buf_t raw;
    cJSON *arr, *e;
    bool ok = false;
    ic_buf_init(&raw);
    *n = 0;
    if (!ic_buf_b64_decode(&raw, hdr, strlen(hdr)))
        goto out;
    arr = cJSON_ParseWithLength((const char *)raw.data, raw.len);
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        goto out;
    }
    ok = true;
    cJSON_ArrayForEach(e, arr) {
        uint8_t id = IC_PROP_USER;
        if (!cJSON_IsObject(e) || e->child == NULL || e->child->next != NULL ||
            !cJSON_IsString(e->child) || strlen(e->child->string) > 65535 ||
            strlen(e->child->valuestring) > 65535) {
            ok = false;
            break;
        }
        ic_buf_append(out, &id, 1);
        put_u16_str(out, e->child->string, strlen(e->child->string));
        put_u16_str(out, e->child->valuestring, strlen(e->child->valuestring));
        (*n)++;
    }
    cJSON_Delete(arr);
out:
    ic_buf_free(&raw);
    return ok;
}

static const char *hdr_of(const ic_http_call_t *call, const char *name) {
    const ic_http_header_t *h = ic_http_header(call->req, name);
    return h ? h->value : NULL;
}

/* An HTTP Publish waiting for its custom authorizer: the request, copied. */
typedef struct pub_ca_s {
    dp_t *d;
    ic_http_defer_t *defer;
    ic_custom_auth_call_t *call;
    char *topic, *query, *method, *path;
    uint8_t *body;
    size_t body_len;
    ic_http_header_t *headers;
    size_t n_headers;
    char peer[64], sni[128];
    const char *listener_policy;
} pub_ca_t;

static void publish_impl(const ic_http_call_t *call, ic_http_resp_t *resp,
                         dp_t *d);

static void pub_ca_free(pub_ca_t *x) {
    size_t i;
    x->d->n_pub_ca--;
    for (i = 0; i < x->n_headers; i++) {
        free((char *)(uintptr_t)x->headers[i].name);
        free((char *)(uintptr_t)x->headers[i].value);
    }
    free(x->headers);
    free(x->topic);
    free(x->query);
    free(x->method);
    free(x->path);
    free(x->body);
    free(x);
}

static void on_pub_custom(ic_custom_auth_t *ca, const ic_custom_auth_result_t *r,
                          void *data) {
    pub_ca_t *x = data;
    dp_t *d = x->d;
    ic_http_resp_t *resp = ic_http_defer_resp(x->defer);
    (void)ca;
    if (!r->is_allowed) {
        forbidden(resp);
    } else {
        /* the request again, now with the authorizer's documents */
        ic_http_request_t req;
        ic_http_call_t call;
        memset(&req, 0, sizeof(req));
        memset(&call, 0, sizeof(call));
        req.method = x->method;
        req.path = x->path;
        req.query = x->query;
        req.headers = x->headers;
        req.n_headers = x->n_headers;
        req.body = x->body;
        req.body_len = x->body_len;
        call.req = &req;
        call.label_names[0] = "topic";
        call.label_values[0] = x->topic;
        call.n_labels = 1;
        call.principal = r->principal_id;
        call.peer = x->peer;
        ic_strlcpy(d->sni, x->sni, sizeof(d->sni));
        d->cert_id[0] = '\0';
        d->listener_policy = x->listener_policy;
        d->is_custom = false;
        d->custom_result = r;
        publish_impl(&call, resp, d);
        d->custom_result = NULL;
    }
    ic_http_finish(x->defer);
    pub_ca_free(x);
}

/* The client went away before the authorizer answered: nothing is
 * published. */
static void on_pub_gone(void *data) {
    pub_ca_t *x = data;
    ic_log_info("http publish abandoned", "peer=%s topic=%s reason=\"the client "
                "left before its authorizer answered\"", x->peer, x->topic);
    ic_custom_auth_cancel(x->call);
    ic_http_finish(x->defer);
    pub_ca_free(x);
}

/* At most this many HTTPS Publishes wait for their authorizer at once (each
 * holds its payload, at most max_payload bytes); beyond, 429. */
#define MAX_PUB_CA 256

/* AWS: a payload over 128 KiB (max_payload) is refused (413). */
static bool payload_fits(dp_t *d, const ic_http_call_t *call, ic_http_resp_t *resp) {
    if (call->req->body_len <= d->env->p->max_payload)
        return true;
    ic_http_fail(resp, IC_HTTP_E_TOO_LARGE,
                 "The payload exceeds the maximum size allowed (%u bytes)",
                 (unsigned)d->env->p->max_payload);
    return false;
}

DP_HANDLER(publish) {
    dp_t *d = data;
    if (d->is_custom) {
        /* AWS 5.3: the authorizer's name, token and signature in the
         * headers or query string; answered when it has decided */
        const ic_http_request_t *rq = call->req;
        ic_custom_auth_req_t req;
        pub_ca_t *x;
        size_t i;
        if (!payload_fits(d, call, resp))
            return;
        if (d->n_pub_ca >= MAX_PUB_CA) {
            ic_http_fail(resp, IC_HTTP_E_THROTTLING, "Rate exceeded");
            return;
        }
        x = ic_xcalloc(1, sizeof(*x));
        d->n_pub_ca++;
        x->d = d;
        x->topic = ic_xstrdup(ic_http_label(call, "topic"));
        x->query = ic_xstrdup(rq->query);
        x->method = ic_xstrdup(rq->method);
        x->path = ic_xstrdup(rq->path);
        x->body = rq->body_len ? ic_xmemdup(rq->body, rq->body_len) : NULL;
        x->body_len = rq->body_len;
        x->headers = ic_xcalloc(rq->n_headers + 1, sizeof(*x->headers));
        for (i = 0; i < rq->n_headers; i++) {
            x->headers[i].name = ic_xstrdup(rq->headers[i].name);
            x->headers[i].name_len = rq->headers[i].name_len;
            x->headers[i].value = ic_xstrdup(rq->headers[i].value);
            x->headers[i].value_len = rq->headers[i].value_len;
        }
        x->n_headers = rq->n_headers;
        ic_strlcpy(x->peer, call->peer, sizeof(x->peer));
        ic_strlcpy(x->sni, d->sni, sizeof(x->sni));
        x->listener_policy = d->listener_policy;
        memset(&req, 0, sizeof(req));
        req.protocols = IC_CUSTOM_AUTH_TLS | IC_CUSTOM_AUTH_HTTP;
        req.server_name = d->sni[0] ? d->sni : NULL;
        req.headers = rq->headers;
        req.n_headers = rq->n_headers;
        req.query = rq->query[0] ? rq->query : NULL;
        if (ic_custom_auth_invoke(d->b->custom_auth, &req, on_pub_custom, x,
                                  &x->call) != 0) {
            pub_ca_free(x);
            forbidden(resp);
            return;
        }
        x->defer = ic_http_defer(call, resp);
        ic_http_defer_on_gone(x->defer, on_pub_gone, x);
        return;
    }
    publish_impl(call, resp, d);
}

static void publish_impl(const ic_http_call_t *call, ic_http_resp_t *resp,
                         dp_t *d) {
    const char *topic = ic_http_label(call, "topic"), *why = NULL, *h;
    char ct[256] = "", rt[512] = "";
    long qos = 0, expiry = -1;
    bool retain = false;
    int64_t now = ic_clock_wall_ms();
    ic_buf_t corr, user;
    ic_props_t props;
    ic_msg_t *m;
    cJSON *o;
    char tid[37];
    size_t n_user = 0;
    if (!payload_fits(d, call, resp) ||
        !ic__ctl_q_int(call, resp, "qos", 0, 1, &qos) ||
        !ic__ctl_q_bool(call, resp, "retain", &retain) ||
        !ic__ctl_q_int(call, resp, "messageExpiry", 0, 0xffffffffL, &expiry))
        return;
    if (ic_topic_check_name(topic, strlen(topic), &d->env->p->topic, &why) != 0) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "Invalid topic: %s", why);
        return;
    }
    if (retain && topic[0] == '$') {
        /* AWS 5.6: reserved topics cannot be retained */
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Retained messages are not allowed on reserved topics");
        return;
    }
    if (!allowed(d, call, IC_ACT_PUBLISH, topic, resp) ||
        (retain && !allowed(d, call, IC_ACT_RETAIN, topic, resp)))
        return;
    memset(&props, 0, sizeof(props));
    ic_buf_init(&corr);
    ic_buf_init(&user);
    if (ic__ctl_q_str(call, "contentType", ct, sizeof(ct)) && ct[0]) {
        props.present |= IC_PROP_BIT(IC_PROP_CONTENT_TYPE);
        props.content_type.p = (const uint8_t *)ct;
        props.content_type.len = strlen(ct);
    }
    if (ic__ctl_q_str(call, "responseTopic", rt, sizeof(rt)) && rt[0]) {
        if (strpbrk(rt, "+#")) {
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "responseTopic must not contain wildcards");
            goto out;
        }
        props.present |= IC_PROP_BIT(IC_PROP_RESPONSE_TOPIC);
        props.response_topic.p = (const uint8_t *)rt;
        props.response_topic.len = strlen(rt);
    }
    if (expiry >= 0) {
        props.present |= IC_PROP_BIT(IC_PROP_MESSAGE_EXPIRY);
        props.message_expiry = (uint32_t)expiry;
    }
    if ((h = hdr_of(call, "x-amz-mqtt5-payload-format-indicator")) != NULL) {
        if (strcmp(h, "UTF8_DATA") == 0)
            props.payload_format = 1;
        else if (strcmp(h, "UNSPECIFIED_BYTES") != 0) {
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "x-amz-mqtt5-payload-format-indicator must be "
                         "UNSPECIFIED_BYTES or UTF8_DATA");
            goto out;
        }
        props.present |= IC_PROP_BIT(IC_PROP_PAYLOAD_FORMAT);
    }
    if ((h = hdr_of(call, "x-amz-mqtt5-correlation-data")) != NULL) {
        if (!ic_buf_b64_decode(&corr, h, strlen(h))) {
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "x-amz-mqtt5-correlation-data is not valid base64");
            goto out;
        }
        props.present |= IC_PROP_BIT(IC_PROP_CORRELATION_DATA);
        props.correlation_data.p = corr.data;
        props.correlation_data.len = corr.len;
    }
    if ((h = hdr_of(call, "x-amz-mqtt5-user-properties")) != NULL) {
        if (!user_props(h, &user, &n_user)) {
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "x-amz-mqtt5-user-properties must be base64 of a JSON "
                         "array of single-pair objects");
            goto out;
        }
        if (n_user) {
            props.present |= IC_PROP_BIT(IC_PROP_USER);
            props.n_user = n_user;
            props.user_raw.p = user.data;
            props.user_raw.len = user.len;
        }
    }
    if (retain && call->req->body_len > 0 &&
        !ic_router_can_retain(d->env->router, topic, strlen(topic))) {
        ic_http_fail(resp, IC_HTTP_E_THROTTLING,
                     "The retained message limit (max_retained_messages) is "
                     "reached");
        goto out;
    }
    m = ic_msg_new(topic, strlen(topic), call->req->body, call->req->body_len,
                   (uint8_t)qos, retain, props.present ? &props : NULL, now);
    ic_router_publish(d->env->router, m, now);
    ic_msg_unref(m);
    ic_log_debug("http publish", "topic=%s qos=%ld retain=%d bytes=%zu by=%s", topic,
                 qos, retain, call->req->body_len, call->principal);
    ic_str_uuid(tid);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "message", "OK");
    cJSON_AddStringToObject(o, "traceId", tid);
    ic_http_json(resp, o);
out:
    ic_buf_free(&corr);
    ic_buf_free(&user);
}

/* The user properties of a message's forwarded property block, as AWS's
 * JSON array of one-member objects (owned), or NULL when it has none. */
static char *user_props_json(const ic_msg_t *m) {
    const uint8_t *p = m->props, *end = p + m->props_len;
    cJSON *arr = NULL;
    char *s;
    while (p < end) {
        uint8_t id = *p++;
        size_t l1, l2;
        if (id == 0x01) {
            p += 1;
        } else if (id == 0x02) {
            p += 4;
        } else if (id == 0x03 || id == 0x08 || id == 0x09) {
            if (end - p < 2)
                break;
            p += 2 + (size_t)(p[0] << 8 | p[1]);
        } else if (id == 0x26) {
            cJSON *o;
            char *k, *v;
            if (end - p < 2)
                break;
            l1 = (size_t)(p[0] << 8 | p[1]);
            if ((size_t)(end - p) < 4 + l1)
                break;
            l2 = (size_t)(p[2 + l1] << 8 | p[3 + l1]);
            if ((size_t)(end - p) < 4 + l1 + l2)
                break;
            k = ic_xstrndup((const char *)p + 2, l1);
            v = ic_xstrndup((const char *)p + 4 + l1, l2);
            if (arr == NULL)
                arr = cJSON_CreateArray();
            o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, k, v);
            cJSON_AddItemToArray(arr, o);
            free(k);
            free(v);
            p += 4 + l1 + l2;
        } else {
            break;
        }
    }
    if (arr == NULL)
        return NULL;
    s = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    return s;
}

DP_HANDLER(get_retained) {
    dp_t *d = data;
    const char *topic = ic_http_label(call, "topic");
    ic_msg_t *m;
    cJSON *o;
    char *b64, *up;
    if (!allowed(d, call, IC_ACT_GET_RETAINED, topic, resp))
        return;
    m = ic_retain_get(d->env->retain, topic, strlen(topic), ic_clock_wall_ms());
    if (m == NULL) {
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND,
                     "No retained message exists for topic: %.300s", topic);
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "topic", m->topic);
    b64 = ic_b64_encode(m->payload, m->payload_len);
    cJSON_AddStringToObject(o, "payload", b64);
    free(b64);
    cJSON_AddNumberToObject(o, "qos", m->qos);
    cJSON_AddNumberToObject(o, "lastModifiedTime", (double)m->at_ms);
    up = user_props_json(m);
    if (up) {
        b64 = ic_b64_encode((const uint8_t *)up, strlen(up));
        cJSON_AddStringToObject(o, "userProperties", b64);
        free(b64);
        cJSON_free(up);
    }
    ic_http_json(resp, o);
}

typedef struct collect_s {
    ic_msg_t **v;
    size_t n, cap;
    const char *after;
} collect_t;

static void on_retained(ic_msg_t *m, void *data) {
    collect_t *c = data;
    if (c->after[0] && strcmp(m->topic, c->after) <= 0)
        return;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = ic_xrealloc(c->v, c->cap * sizeof(*c->v));
    }
    c->v[c->n++] = m;
}

static int cmp_topic(const void *a, const void *b) {
    return strcmp((*(ic_msg_t *const *)a)->topic, (*(ic_msg_t *const *)b)->topic);
}

DP_HANDLER(list_retained) {
    dp_t *d = data;
    char after[1100];
    long max = 200;
    collect_t c;
    cJSON *o, *arr;
    size_t i;
    if (!ic__ctl_q_int(call, resp, "maxResults", 1, 200, &max) ||
        !ic__ctl_q_token(call, resp, "nextToken", after, sizeof(after)) ||
        !allowed(d, call, IC_ACT_LIST_RETAINED, "*", resp))
        return;
    memset(&c, 0, sizeof(c));
    c.after = after;
    ic_retain_foreach(d->env->retain, ic_clock_wall_ms(), on_retained, &c);
    if (c.n > 1)
        qsort(c.v, c.n, sizeof(*c.v), cmp_topic);
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "retainedTopics");
    for (i = 0; i < c.n && i < (size_t)max; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "topic", c.v[i]->topic);
        cJSON_AddNumberToObject(e, "payloadSize", c.v[i]->payload_len);
        cJSON_AddNumberToObject(e, "qos", c.v[i]->qos);
        cJSON_AddNumberToObject(e, "lastModifiedTime", (double)c.v[i]->at_ms);
        cJSON_AddItemToArray(arr, e);
    }
    if (c.n > (size_t)max)
        ic__ctl_add_token(o, "nextToken", c.v[max - 1]->topic);
    free(c.v);
    ic_http_json(resp, o);
}

/* ---- MQTT over WebSocket ---------------------------------------------------------- */

static void ws_accept(ic_http_resp_t *resp, const ic_ws_handshake_t *hs) {
    resp->status = 101;
    ic_http_header_add(resp, "Upgrade", "websocket");
    ic_http_header_add(resp, "Connection", "Upgrade");
    ic_http_header_add(resp, "Sec-WebSocket-Accept", hs->accept);
    ic_http_header_add(resp, "Sec-WebSocket-Protocol", hs->protocol);
}

/* A WebSocket upgrade waiting for its custom authorizer. */
typedef struct ws_ca_s {
    ic_http_defer_t *defer;
    ic_ws_handshake_t hs;
    char peer[64];
} ws_ca_t;

static void on_ws_custom(ic_custom_auth_t *ca, const ic_custom_auth_result_t *r,
                         void *data) {
    ws_ca_t *x = data;
    ic_http_resp_t *resp = ic_http_defer_resp(x->defer);
    ic_http_upgrade_t u;
    (void)ca;
    if (!r->is_allowed) {
        ic_log_info("websocket refused", "peer=%s authorizer=%s reason=\"%s\"",
                    x->peer, r->authorizer[0] ? r->authorizer : "-", r->reason);
        forbidden(resp);
        ic_http_finish(x->defer);
        free(x);
        return;
    }
    ws_accept(resp, &x->hs);
    memset(&u, 0, sizeof(u));
    ic_strlcpy(u.principal, r->principal_id, sizeof(u.principal));
    u.custom = r;
    ic_http_finish_upgrade(x->defer, &u);
    free(x);
}

/* GET /mqtt with Upgrade: websocket (aws-iot-auth.md 6.1-6.2): the caller
 * signed the URL (SigV4, service iotdevicegateway or iotdata; checked by
 * authorize before routing); the subprotocol must be mqtt. A client
 * certificate caller is refused: AWS takes only SigV4 and custom
 * authorizers on WebSocket. */
DP_HANDLER(ws_connect) {
    dp_t *d = data;
    ic_ws_handshake_t hs;
    ic_http_upgrade_t u;
    if (!call->req->is_upgrade) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "MQTT over WebSocket: the request must upgrade to websocket");
        return;
    }
    if (d->cert_id[0]) {
        ic_log_info("websocket refused", "peer=%s reason=\"a client certificate is "
                    "not a WebSocket credential (SigV4 or a custom authorizer)\"",
                    call->peer);
        forbidden(resp);
        return;
    }
    if (ic_ws_handshake_check(call->req, &hs) != 0 ||
        hs.subproto == IC_WS_SUBPROTO_NONE) {
        const char *why = hs.status == 101 || hs.why[0] == '\0'
                              ? "Sec-WebSocket-Protocol must offer mqtt"
                              : hs.why;
        ic_log_info("websocket refused", "peer=%s reason=\"%s\"", call->peer, why);
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "%s", why);
        if (hs.status == 426) {
            resp->status = 426;
            ic_http_header_add(resp, "Sec-WebSocket-Version", IC_WS_VERSION);
        }
        return;
    }
    if (d->is_custom && ic_http_header(call->req, IC_CUSTOM_AUTH_NAME_PARAM) == NULL &&
        strstr(call->req->query, IC_CUSTOM_AUTH_NAME_PARAM "=") == NULL &&
        ic_authorizers_default(d->b->authorizers) == NULL) {
        /* no authorizer named here: the CONNECT's username names it */
        ws_accept(resp, &hs);
        memset(&u, 0, sizeof(u));
        u.is_connect_auth = true;
        u.req = call->req;
        ic_http_accept_upgrade(call, &u);
        return;
    }
    if (d->is_custom) {
        /* headers or query carry the authorizer's credentials: ask it,
         * answer 101 or 403 when it has decided */
        ic_custom_auth_req_t req;
        ws_ca_t *x = ic_xcalloc(1, sizeof(*x));
        memset(&req, 0, sizeof(req));
        req.protocols = IC_CUSTOM_AUTH_TLS | IC_CUSTOM_AUTH_HTTP;
        req.server_name = d->sni[0] ? d->sni : NULL;
        req.headers = call->req->headers;
        req.n_headers = call->req->n_headers;
        req.query = call->req->query[0] ? call->req->query : NULL;
        x->hs = hs;
        ic_strlcpy(x->peer, call->peer, sizeof(x->peer));
        if (ic_custom_auth_invoke(d->b->custom_auth, &req, on_ws_custom, x, NULL) !=
            0) {
            free(x);
            forbidden(resp);
            return;
        }
        x->defer = ic_http_defer(call, resp);
        return;
    }
    ws_accept(resp, &hs);
    memset(&u, 0, sizeof(u));
    ic_strlcpy(u.principal, call->principal, sizeof(u.principal));
    /* the configured credentials may do everything, unless a
     * credentials_policy line gives their key a policy */
    u.is_admin = d->sigv4_policy[0] == '\0';
    ic_strlcpy(u.policy, d->sigv4_policy, sizeof(u.policy));
    ic_http_accept_upgrade(call, &u);
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
    /* iotcored's own: not an operation of the iot-data model */
    {"iotcored:MqttOverWebSocket", "GET", "/mqtt", ws_connect},
    {"Publish", "POST", "/topics/{topic+}", publish},
    {"GetRetainedMessage", "GET", "/retainedMessage/{topic+}", get_retained},
    {"ListRetainedMessages", "GET", "/retainedMessage", list_retained},
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
