/* control.c - the AWS IoT control-plane service: route table, SigV4
 * authentication, shared request helpers, DescribeEndpoint and iotcored's
 * own two routes; the service module's life cycle.
 *
 * Owns the route table (method and URI of every operation exactly as the
 * botocore model `iot/2015-05-28` has them; a test compares) and the
 * credential check. The operations themselves live in ctl_things.c,
 * ctl_certs.c and ctl_policies.c; the registries they act on are the MQTT
 * engine's, so a change applies to live connections at once. It must not
 * choose HTTP statuses (net/http.c maps AWS error types) or parse HTTP.
 * Loop thread only.
 */
#include "ctl.h"

#include "api_auth.h"

#include "iotcored/alloc.h"
#include "iotcored/clock.h"
#include "iotcored/config.h"
#include "iotcored/conn.h"
#include "iotcored/engine.h"
#include "iotcored/error.h"
#include "iotcored/listener.h"
#include "iotcored/log.h"
#include "iotcored/mqtt.h"
#include "iotcored/pki.h"
#include "iotcored/sigv4.h"
#include "iotcored/str.h"
#include "iotcored/version.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers --------------------------------------------------------------- */

int ic__ctl_cmp_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int64_t ic__ctl_now_ms(void) {
    return ic_clock_wall_ms();
}

void ic__ctl_arn(const ctl_t *c, const char *kind, const char *name, char *out,
                 size_t cap) {
    snprintf(out, cap, "arn:aws:iot:%s:%s:%s/%s", c->b->cfg->region,
             c->b->cfg->account_id, kind, name);
}

const char *ic__ctl_cert_id_of(const char *p) {
    const char *slash = strstr(p, ":cert/");
    const char *id = slash ? slash + 6 : p;
    size_t i;
    for (i = 0; id[i]; i++)
        if (!isxdigit((unsigned char)id[i]))
            return NULL;
    return i == 64 ? id : NULL;
}

cJSON *ic__ctl_body(const ic_http_call_t *call, ic_http_resp_t *resp) {
    const ic_http_request_t *r = call->req;
    cJSON *o;
    if (r->body_len == 0)
        return cJSON_CreateObject();
    o = cJSON_ParseWithLength((const char *)r->body, r->body_len);
    if (o == NULL || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "The request body is not a JSON object");
        return NULL;
    }
    return o;
}

static bool validation(ic_http_resp_t *resp, const char *field,
                       const char *value, const char *constraint) {
    ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                 "1 validation error detected: Value '%.200s' at '%s' failed "
                 "to satisfy constraint: %s",
                 value, field, constraint);
    return false;
}

static bool chars_in(const char *s, const char *extra) {
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
            return false;
    return true;
}

bool ic__ctl_check_name(ic_http_resp_t *resp, const char *field,
                        const char *value) {
    size_t n = strlen(value);
    if (n < 1 || n > 128)
        return validation(resp, field, value,
                          "Member must have length less than or equal to 128");
    if (!chars_in(value, ":_-"))
        return validation(resp, field, value,
                          "Member must satisfy regular expression pattern: "
                          "[a-zA-Z0-9:_-]+");
    return true;
}

bool ic__ctl_check_policy_name(ic_http_resp_t *resp, const char *value) {
    size_t n = strlen(value);
    if (n < 1 || n > 128)
        return validation(resp, "policyName", value,
                          "Member must have length less than or equal to 128");
    if (!chars_in(value, "_+=,.@-"))
        return validation(resp, "policyName", value,
                          "Member must satisfy regular expression pattern: "
                          "[\\w+=,.@-]+");
    return true;
}

bool ic__ctl_check_cert_id(ic_http_resp_t *resp, const char *field,
                           const char *value) {
    size_t i, n = strlen(value);
    if (n != 64)
        return validation(resp, field, value,
                          "Member must have length greater than or equal to 64");
    for (i = 0; i < n; i++)
        if (!isxdigit((unsigned char)value[i]))
            return validation(resp, field, value,
                              "Member must satisfy regular expression pattern: "
                              "(0x)?[a-fA-F0-9]+");
    return true;
}

bool ic__ctl_opt_str(ic_http_resp_t *resp, const cJSON *o, const char *key,
                     const char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (v == NULL || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v)) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value at '%s' must be a string",
                     key);
        return false;
    }
    *out = v->valuestring;
    return true;
}

bool ic__ctl_q_str(const ic_http_call_t *call, const char *key, char *out,
                   size_t cap) {
    long n = ic_http_query_get(call->req->query, key, out, cap);
    if (n == -2) {
        /* present but malformed or too long: never read as absent (that
         * would widen a filter); the value cannot be valid, keep it so */
        snprintf(out, cap, "%s", "\x7f");
        return true;
    }
    return n >= 0;
}

bool ic__ctl_q_bool(const ic_http_call_t *call, ic_http_resp_t *resp,
                    const char *key, bool *out) {
    char v[16];
    long n = ic_http_query_get(call->req->query, key, v, sizeof(v));
    if (n == -1)
        return true;
    if (n >= 0 && strcmp(v, "true") == 0)
        *out = true;
    else if (n >= 0 && strcmp(v, "false") == 0)
        *out = false;
    else {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Value for %s must be true or false", key);
        return false;
    }
    return true;
}

bool ic__ctl_q_int(const ic_http_call_t *call, ic_http_resp_t *resp,
                   const char *key, long min, long max, long *out) {
    char v[32];
    char *end;
    long x;
    long n = ic_http_query_get(call->req->query, key, v, sizeof(v));
    if (n == -1)
        return true;
    x = n > 0 ? strtol(v, &end, 10) : 0;
    if (n <= 0 || *end != '\0') {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Value for %s must be an integer", key);
        return false;
    }
    if (x < min || x > max) {
        char num[32], rule[96];
        snprintf(num, sizeof(num), "%ld", x);
        if (x < min)
            snprintf(rule, sizeof(rule),
                     "Member must have value greater than or equal to %ld", min);
        else
            snprintf(rule, sizeof(rule),
                     "Member must have value less than or equal to %ld", max);
        validation(resp, key, num, rule);
        return false;
    }
    *out = x;
    return true;
}

bool ic__ctl_q_token(const ic_http_call_t *call, ic_http_resp_t *resp,
                     const char *key, char *after, size_t cap) {
    char tok[1100];
    unsigned char dec[1100];
    long n = ic_http_query_get(call->req->query, key, tok, sizeof(tok));
    int d;
    after[0] = '\0';
    if (n == -1)
        return true;
    d = n > 0 && n % 4 == 0
            ? EVP_DecodeBlock(dec, (const unsigned char *)tok, (int)n)
            : -1;
    if (d < 0) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "Invalid %s", key);
        return false;
    }
    while (n > 0 && tok[n - 1] == '=') { /* DecodeBlock counts padding */
        n--;
        d--;
    }
    if ((size_t)d >= cap || memchr(dec, '\0', (size_t)d) != NULL) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "Invalid %s", key);
        return false;
    }
    memcpy(after, dec, (size_t)d);
    after[d] = '\0';
    return true;
}

void ic__ctl_add_token(cJSON *o, const char *key, const char *last) {
    char *enc = ic_b64_encode(last, strlen(last));
    cJSON_AddStringToObject(o, key, enc);
    free(enc);
}

void ic__ctl_add_time(cJSON *o, const char *key, int64_t ms) {
    cJSON_AddNumberToObject(o, key, (double)ms / 1000.0);
}

cJSON *ic__ctl_parse_stored(const char *json) {
    cJSON *o = cJSON_Parse(json ? json : "{}");
    return o ? o : cJSON_CreateObject();
}

/* ---- operations of this file ------------------------------------------------------ */

static CTL_HANDLER(describe_endpoint) {
    ctl_t *c = data;
    char type[160] = "iot:Data", ep[512];
    cJSON *o;
    ic__ctl_q_str(call, "endpointType", type, sizeof(type));
    if (strcmp(type, "iot:Data") != 0 && strcmp(type, "iot:Data-ATS") != 0 &&
        strcmp(type, "iot:CredentialProvider") != 0 &&
        strcmp(type, "iot:Jobs") != 0) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Endpoint type %s not recognized.", type);
        return;
    }
    /* EMULATOR: one endpoint serves every endpoint type. */
    ic_config_endpoint(c->b->cfg, ep, sizeof(ep));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "endpointAddress", ep);
    ic_http_json(resp, o);
}

/* iotcored: the root CA devices trust in place of AmazonRootCA1.pem. */
static CTL_HANDLER(root_ca) {
    ctl_t *c = data;
    ic_pki_paths_t p;
    const char *path;
    FILE *f;
    char buf[4096];
    size_t n;
    (void)call;
    ic_pki_paths(c->b->cfg->data_dir, &p);
    path = c->b->cfg->tls_cert[0] && c->b->cfg->tls_ca[0] ? c->b->cfg->tls_ca
                                                           : p.ca_cert;
    f = fopen(path, "r");
    if (f == NULL) {
        ic_http_fail(resp, IC_HTTP_E_INTERNAL, "cannot read the root CA");
        return;
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && resp->body.len < 1048576)
        ic_buf_append(&resp->body, buf, n);
    fclose(f);
    resp->content_type = "application/x-pem-file";
}

static CTL_HANDLER(status) {
    ctl_t *c = data;
    cJSON *o = cJSON_CreateObject(), *ls = cJSON_AddArrayToObject(o, "listeners");
    size_t i;
    (void)call;
    cJSON_AddStringToObject(o, "version", IC_VERSION);
    cJSON_AddNumberToObject(o, "uptimeSeconds",
                            (double)((ic__ctl_now_ms() - c->started_ms) / 1000));
    cJSON_AddNumberToObject(o, "connections",
                            c->b->conns ? (double)ic_conns_count(c->b->conns) : 0);
    cJSON_AddNumberToObject(o, "things", (double)ic_things_count(c->things));
    cJSON_AddNumberToObject(o, "certificates",
                            (double)ic_registry_count(c->registry));
    cJSON_AddNumberToObject(o, "policies", (double)ic_policies_count(c->policies));
    if (c->b->engine)
        cJSON_AddItemToObject(o, "rulesEngine", ic_engine_status(c->b->engine));
    for (i = 0; i < c->b->cfg->n_listeners; i++) {
        const ic_listener_conf_t *l = &c->b->cfg->listeners[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", l->name);
        cJSON_AddNumberToObject(e, "port",
                                c->b->listeners
                                    ? ic_listeners_port(c->b->listeners, l->name)
                                    : l->port);
        cJSON_AddItemToArray(ls, e);
    }
    ic__ctl_counters_json(c, o, ls);
    ic_http_json(resp, o);
}

/* ---- the route table --------------------------------------------------------------- */

static const ic_http_route_t routes[] = {
    /* things */
    {"CreateThing", "POST", "/things/{thingName}", ic__ctl_create_thing},
    {"DescribeThing", "GET", "/things/{thingName}", ic__ctl_describe_thing},
    {"UpdateThing", "PATCH", "/things/{thingName}", ic__ctl_update_thing},
    {"DeleteThing", "DELETE", "/things/{thingName}", ic__ctl_delete_thing},
    {"ListThings", "GET", "/things", ic__ctl_list_things},
    {"CreateThingType", "POST", "/thing-types/{thingTypeName}",
     ic__ctl_create_thing_type},
    {"DescribeThingType", "GET", "/thing-types/{thingTypeName}",
     ic__ctl_describe_thing_type},
    {"DeprecateThingType", "POST", "/thing-types/{thingTypeName}/deprecate",
     ic__ctl_deprecate_thing_type},
    {"DeleteThingType", "DELETE", "/thing-types/{thingTypeName}",
     ic__ctl_delete_thing_type},
    {"ListThingTypes", "GET", "/thing-types", ic__ctl_list_thing_types},
    {"CreateThingGroup", "POST", "/thing-groups/{thingGroupName}",
     ic__ctl_create_thing_group},
    {"DescribeThingGroup", "GET", "/thing-groups/{thingGroupName}",
     ic__ctl_describe_thing_group},
    {"UpdateThingGroup", "PATCH", "/thing-groups/{thingGroupName}",
     ic__ctl_update_thing_group},
    {"DeleteThingGroup", "DELETE", "/thing-groups/{thingGroupName}",
     ic__ctl_delete_thing_group},
    {"ListThingGroups", "GET", "/thing-groups", ic__ctl_list_thing_groups},
    {"AddThingToThingGroup", "PUT", "/thing-groups/addThingToThingGroup",
     ic__ctl_add_thing_to_group},
    {"RemoveThingFromThingGroup", "PUT",
     "/thing-groups/removeThingFromThingGroup", ic__ctl_remove_thing_from_group},
    {"ListThingsInThingGroup", "GET", "/thing-groups/{thingGroupName}/things",
     ic__ctl_list_things_in_group},
    {"ListThingGroupsForThing", "GET", "/things/{thingName}/thing-groups",
     ic__ctl_list_groups_for_thing},
    {"AttachThingPrincipal", "PUT", "/things/{thingName}/principals",
     ic__ctl_attach_thing_principal},
    {"DetachThingPrincipal", "DELETE", "/things/{thingName}/principals",
     ic__ctl_detach_thing_principal},
    {"ListThingPrincipals", "GET", "/things/{thingName}/principals",
     ic__ctl_list_thing_principals},
    {"ListPrincipalThings", "GET", "/principals/things",
     ic__ctl_list_principal_things},
    /* certificates */
    {"CreateKeysAndCertificate", "POST", "/keys-and-certificate",
     ic__ctl_create_keys_and_cert},
    {"CreateCertificateFromCsr", "POST", "/certificates",
     ic__ctl_create_cert_from_csr},
    {"RegisterCertificate", "POST", "/certificate/register",
     ic__ctl_register_cert},
    {"RegisterCertificateWithoutCA", "POST", "/certificate/register-no-ca",
     ic__ctl_register_cert_without_ca},
    {"DescribeCertificate", "GET", "/certificates/{certificateId}",
     ic__ctl_describe_cert},
    {"UpdateCertificate", "PUT", "/certificates/{certificateId}",
     ic__ctl_update_cert},
    {"DeleteCertificate", "DELETE", "/certificates/{certificateId}",
     ic__ctl_delete_cert},
    {"ListCertificates", "GET", "/certificates", ic__ctl_list_certs},
    {"ListCertificatesByCA", "GET", "/certificates-by-ca/{caCertificateId}",
     ic__ctl_list_certs_by_ca},
    {"GetRegistrationCode", "GET", "/registrationcode",
     ic__ctl_get_registration_code},
    {"RegisterCACertificate", "POST", "/cacertificate", ic__ctl_register_ca},
    {"DescribeCACertificate", "GET", "/cacertificate/{caCertificateId}",
     ic__ctl_describe_ca},
    {"UpdateCACertificate", "PUT", "/cacertificate/{caCertificateId}",
     ic__ctl_update_ca},
    {"DeleteCACertificate", "DELETE", "/cacertificate/{caCertificateId}",
     ic__ctl_delete_ca},
    {"ListCACertificates", "GET", "/cacertificates", ic__ctl_list_cas},
    /* policies */
    {"CreatePolicy", "POST", "/policies/{policyName}", ic__ctl_create_policy},
    {"GetPolicy", "GET", "/policies/{policyName}", ic__ctl_get_policy},
    {"DeletePolicy", "DELETE", "/policies/{policyName}", ic__ctl_delete_policy},
    {"ListPolicies", "GET", "/policies", ic__ctl_list_policies},
    {"CreatePolicyVersion", "POST", "/policies/{policyName}/version",
     ic__ctl_create_policy_version},
    {"GetPolicyVersion", "GET", "/policies/{policyName}/version/{policyVersionId}",
     ic__ctl_get_policy_version},
    {"ListPolicyVersions", "GET", "/policies/{policyName}/version",
     ic__ctl_list_policy_versions},
    {"DeletePolicyVersion", "DELETE",
     "/policies/{policyName}/version/{policyVersionId}",
     ic__ctl_delete_policy_version},
    {"SetDefaultPolicyVersion", "PATCH",
     "/policies/{policyName}/version/{policyVersionId}",
     ic__ctl_set_default_policy_version},
    {"AttachPolicy", "PUT", "/target-policies/{policyName}",
     ic__ctl_attach_policy},
    {"DetachPolicy", "POST", "/target-policies/{policyName}",
     ic__ctl_detach_policy},
    {"ListAttachedPolicies", "POST", "/attached-policies/{target}",
     ic__ctl_list_attached_policies},
    {"ListTargetsForPolicy", "POST", "/policy-targets/{policyName}",
     ic__ctl_list_targets_for_policy},
    /* authorization questions */
    {"CreateTopicRule", "POST", "/rules/{ruleName}", ic__ctl_create_topic_rule},
    {"ReplaceTopicRule", "PATCH", "/rules/{ruleName}", ic__ctl_replace_topic_rule},
    {"GetTopicRule", "GET", "/rules/{ruleName}", ic__ctl_get_topic_rule},
    {"ListTopicRules", "GET", "/rules", ic__ctl_list_topic_rules},
    {"EnableTopicRule", "POST", "/rules/{ruleName}/enable", ic__ctl_enable_topic_rule},
    {"DisableTopicRule", "POST", "/rules/{ruleName}/disable",
     ic__ctl_disable_topic_rule},
    {"DeleteTopicRule", "DELETE", "/rules/{ruleName}", ic__ctl_delete_topic_rule},
    {"TestAuthorization", "POST", "/test-authorization",
     ic__ctl_test_authorization},
    {"GetEffectivePolicies", "POST", "/effective-policies",
     ic__ctl_get_effective_policies},
    /* custom authorizers */
    {"CreateAuthorizer", "POST", "/authorizer/{authorizerName}",
     ic__ctl_create_authorizer},
    {"DescribeAuthorizer", "GET", "/authorizer/{authorizerName}",
     ic__ctl_describe_authorizer},
    {"UpdateAuthorizer", "PUT", "/authorizer/{authorizerName}",
     ic__ctl_update_authorizer},
    {"DeleteAuthorizer", "DELETE", "/authorizer/{authorizerName}",
     ic__ctl_delete_authorizer},
    {"ListAuthorizers", "GET", "/authorizers/", ic__ctl_list_authorizers},
    {"SetDefaultAuthorizer", "POST", "/default-authorizer",
     ic__ctl_set_default_authorizer},
    {"DescribeDefaultAuthorizer", "GET", "/default-authorizer",
     ic__ctl_describe_default_authorizer},
    {"ClearDefaultAuthorizer", "DELETE", "/default-authorizer",
     ic__ctl_clear_default_authorizer},
    {"TestInvokeAuthorizer", "POST", "/authorizer/{authorizerName}/test",
     ic__ctl_test_invoke_authorizer},
    /* endpoints */
    {"DescribeEndpoint", "GET", "/endpoint", describe_endpoint},
    /* iotcored's own (not AWS operations; not in the botocore model) */
    {"iotcored:GetRootCA", "GET", "/iotcored/root-ca", root_ca},
    {"iotcored:GetStatus", "GET", "/iotcored/status", status},
    {"iotcored:Metrics", "GET", "/metrics", ic__ctl_metrics},
};

void ic_control_print_routes(void) {
    size_t i;
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        printf("%s %s %s\n", routes[i].op, routes[i].method, routes[i].pattern);
}

/* ---- authentication ----------------------------------------------------------------- */

static int authorize(const ic_http_request_t *req, const ic_http_peer_t *peer,
                     ic_http_resp_t *resp, const char **principal, void *data) {
    /* AWS CLI v2 as Debian ships it signs `aws iot` with execute-api
     * (aws-iot-auth.md 5.2a); newer SDKs with iot. */
    static const char *const services[] = {"iot", "execute-api", NULL};
    static const ic_http_err_t errs[] = {
        [IC_API_AUTH_MISSING] = IC_HTTP_E_MISSING_AUTH,
        [IC_API_AUTH_INCOMPLETE] = IC_HTTP_E_INCOMPLETE_SIGNATURE,
        [IC_API_AUTH_WRONG_SERVICE] = IC_HTTP_E_INVALID_SIGNATURE,
        [IC_API_AUTH_UNKNOWN_KEY] = IC_HTTP_E_UNRECOGNIZED_CLIENT,
        [IC_API_AUTH_BAD_SIGNATURE] = IC_HTTP_E_INVALID_SIGNATURE};
    ctl_t *c = data;
    char why[512];
    ic_api_auth_t rc;
    (void)peer; /* the control plane is SigV4 only */
    /* The root CA is public (AWS publishes AmazonRootCA1.pem): a device
     * setup script may fetch it with curl. */
    if (c->b->cfg->control_auth == IC_CONTROL_AUTH_NONE ||
        (strcmp(req->method, "GET") == 0 &&
         (strcmp(req->path, "/iotcored/root-ca") == 0 ||
          strcmp(req->path, "/metrics") == 0))) {
        *principal = "";
        return 0;
    }
    rc = ic__api_sigv4(c->b->cfg, req, services, "control", principal, why,
                       sizeof(why));
    if (rc == IC_API_AUTH_OK &&
        ic__api_credentials_policy(c->b->cfg, *principal) != NULL) {
        /* a key limited by an IoT policy must not be able to change it */
        ic_log_info("http denied", "service=control access_key=%s reason=\"the key "
                    "has a credentials_policy: data plane only\"", *principal);
        ic_http_fail(resp, IC_HTTP_E_ACCESS_DENIED,
                     "User: %s is not authorized to use the control plane (its "
                     "credentials_policy limits it to the data plane)",
                     *principal);
        return -1;
    }
    if (rc == IC_API_AUTH_OK)
        return 0;
    ic_http_fail(resp, errs[rc], "%s", why);
    return -1;
}

/* A change through the API applies to live connections at once (a
 * connection that lost iot:Connect is dropped now, not at the next sweep). */
static void after(const ic_http_call_t *call, const ic_http_resp_t *resp,
                  void *data) {
    ctl_t *c = data;
    static const char *const read_only[] = {
        "TestAuthorization", "GetEffectivePolicies", "ListAttachedPolicies",
        "ListTargetsForPolicy", NULL};
    size_t i;
    if (resp->is_error || strcmp(call->req->method, "GET") == 0)
        return;
    for (i = 0; read_only[i]; i++)
        if (strcmp(call->route->op, read_only[i]) == 0)
            return; /* POSTs that change nothing */
    ic_mqtt_recheck(c->b->mqtt);
}

/* ---- module -------------------------------------------------------------------------- */

int ic_control_init(ic_control_t **out, ic_broker_t *b) {
    ctl_t *c = ic_xcalloc(1, sizeof(*c));
    c->b = b;
    c->svc.name = "control";
    c->svc.routes = routes;
    c->svc.n_routes = sizeof(routes) / sizeof(routes[0]);
    c->svc.authorize = authorize;
    c->svc.after = after;
    c->svc.data = c;
    *out = c;
    return 0;
}

static void log_auth(const ic_config_t *cfg) {
    if (cfg->control_auth == IC_CONTROL_AUTH_NONE)
        ic_log_warn("control plane unauthenticated",
                    "reason=\"control_auth none: any request is accepted\"");
    else if (cfg->credentials.n == 0)
        ic_log_warn("control plane has no credentials",
                    "reason=\"no credentials line: every request will be "
                    "refused\"");
}

int ic_control_start(ic_control_t *c, char *err, size_t errlen) {
    ic_proto_env_t *env = ic_mqtt_env(c->b->mqtt);
    c->env = env;
    c->registry = env->registry;
    c->things = env->things;
    c->policies = env->policies;
    c->started_ms = ic__ctl_now_ms();
    {
        /* the local CA mints CreateKeysAndCertificate's certificates */
        char ep[512];
        int rc;
        ic_config_endpoint(c->b->cfg, ep, sizeof(ep));
        rc = ic_pki_ensure(c->b->cfg->data_dir, ep,
                           c->b->cfg->ca_key_type == IC_KEY_RSA, err, errlen);
        if (rc != 0)
            return rc;
    }
    if (c->b->cfg->seed[0]) {
        int rc = ic__ctl_seed_apply(c, c->b->cfg->seed, err, errlen);
        if (rc != 0)
            return rc;
    }
    ic_conns_set_http(c->b->conns, IC_PROTO_CONTROL, &c->svc);
    log_auth(c->b->cfg);
    return 0;
}

int ic_control_reload(ic_control_t *c, const ic_config_t *next) {
    /* credentials and control_auth are swapped in by the broker */
    (void)c;
    log_auth(next);
    return 0;
}

void ic_control_fini(ic_control_t *c) {
    free(c);
}

const ic_http_service_t *ic_control_service(ic_control_t *c) {
    return &c->svc;
}
