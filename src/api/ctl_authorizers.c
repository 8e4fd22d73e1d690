/* ctl_authorizers.c - control-plane operations on custom authorizers (AWS
 * IoT API: CreateAuthorizer, DescribeAuthorizer, UpdateAuthorizer,
 * DeleteAuthorizer, ListAuthorizers, SetDefaultAuthorizer,
 * DescribeDefaultAuthorizer, ClearDefaultAuthorizer, TestInvokeAuthorizer).
 *
 * Checks requests against the botocore model's shapes (AWS's "1 validation
 * error detected: ..." messages), turns them into calls on the authorizer
 * registry (iot/authorizers.c) and its answers into AWS's shapes and
 * errors; TestInvokeAuthorizer runs the function through iot/custom_auth.c
 * and answers when it has (a deferred response). No state of its own.
 * Loop thread only.
 *
 * EMULATOR choices where AWS is silent: a TestInvokeAuthorizer whose token
 * signature does not verify is InvalidRequestException with the reason (the
 * function is not run, as at CONNECT); a function that fails, times out or
 * answers malformed JSON is InvalidResponseException with the reason; an
 * INACTIVE authorizer can be tested.
 */
#include "ctl.h"

#include "iotcored/alloc.h"
#include "iotcored/authorizers.h"
#include "iotcored/custom_auth.h"
#include "iotcored/error.h"
#include "iotcored/log.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PAGE 25
#define MAX_PAGE 250

static ic_authorizers_t *reg_of(void *data) {
    ctl_t *c = data;
    return c->b->authorizers;
}

static bool invalid(ic_http_resp_t *resp, const char *field, const char *value,
                    const char *constraint) {
    ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                 "1 validation error detected: Value '%.200s' at '%s' failed to "
                 "satisfy constraint: %s",
                 value, field, constraint);
    return false;
}

static bool is_null(ic_http_resp_t *resp, const char *field) {
    ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                 "1 validation error detected: Value null at '%s' failed to "
                 "satisfy constraint: Member must not be null",
                 field);
    return false;
}

/* A string of min..max characters (UTF-8 sequences count once) whose
 * characters are alphanumeric or in extra (extra NULL: any character). */
static bool check_str(ic_http_resp_t *resp, const char *field, const char *v,
                      size_t min, size_t max, const char *extra,
                      const char *pattern) {
    size_t n = 0, i;
    char rule[160];
    for (i = 0; v[i]; i++)
        if (((unsigned char)v[i] & 0xc0) != 0x80)
            n++;
    if (n < min) {
        snprintf(rule, sizeof(rule),
                 "Member must have length greater than or equal to %zu", min);
        return invalid(resp, field, v, rule);
    }
    if (n > max) {
        snprintf(rule, sizeof(rule),
                 "Member must have length less than or equal to %zu", max);
        return invalid(resp, field, v, rule);
    }
    for (i = 0; extra && v[i]; i++)
        if (!isalnum((unsigned char)v[i]) && strchr(extra, v[i]) == NULL) {
            snprintf(rule, sizeof(rule),
                     "Member must satisfy regular expression pattern: %s", pattern);
            return invalid(resp, field, v, rule);
        }
    return true;
}

static bool check_name(ic_http_resp_t *resp, const char *field, const char *v) {
    return check_str(resp, field, v, 1, 128, "_=,@-", "[\\w=,@-]+");
}

static bool opt_bool(ic_http_resp_t *resp, const cJSON *o, const char *key,
                     bool *has, bool *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *has = false;
    if (v == NULL || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsBool(v)) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value at '%s' must be a boolean",
                     key);
        return false;
    }
    *has = true;
    *out = cJSON_IsTrue(v);
    return true;
}

static void fail_by_rc(ic_http_resp_t *resp, int rc, const char *why) {
    ic_http_err_t e = IC_HTTP_E_INVALID_REQUEST;
    if (rc == IC_ENOTFOUND)
        e = IC_HTTP_E_NOT_FOUND;
    else if (rc == IC_EEXIST)
        e = IC_HTTP_E_ALREADY_EXISTS;
    else if (rc == IC_ELIMIT)
        e = IC_HTTP_E_LIMIT_EXCEEDED;
    else if (rc == IC_ECONFLICT)
        e = IC_HTTP_E_DELETE_CONFLICT;
    ic_http_fail(resp, e, "%s", why);
}

/* ---- request bodies -------------------------------------------------------------- */

/* The parts of Create/UpdateAuthorizer's body; keys point into the body. */
typedef struct spec_s {
    ic_authorizer_spec_t s;
    ic_authorizer_key_t keys[IC_AUTHORIZER_MAX_KEYS + 1];
    char *tags;                 /* owned JSON text, or NULL */
} spec_t;

static bool read_keys(ic_http_resp_t *resp, const cJSON *body, spec_t *sp) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "tokenSigningPublicKeys"),
                *k;
    size_t n = 0;
    if (m == NULL || cJSON_IsNull(m))
        return true;
    if (!cJSON_IsObject(m)) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value at "
                     "'tokenSigningPublicKeys' must be a map of strings");
        return false;
    }
    cJSON_ArrayForEach(k, m) {
        if (!cJSON_IsString(k)) {
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "1 validation error detected: Value at "
                         "'tokenSigningPublicKeys.%.128s' must be a string",
                         k->string);
            return false;
        }
        if (!check_str(resp, "tokenSigningPublicKeys.key", k->string, 1, 128,
                       ":_-", "[a-zA-Z0-9:_-]+") ||
            !check_str(resp, "tokenSigningPublicKeys.value", k->valuestring, 0,
                       IC_AUTHORIZER_MAX_KEY_PEM, NULL, NULL))
            return false;
        if (n == IC_AUTHORIZER_MAX_KEYS) {
            ic_http_fail(resp, IC_HTTP_E_LIMIT_EXCEEDED,
                         "An authorizer has at most %d token signing public keys",
                         IC_AUTHORIZER_MAX_KEYS);
            return false;
        }
        sp->keys[n].name = k->string;
        sp->keys[n].pem = k->valuestring;
        n++;
    }
    sp->s.keys = sp->keys;
    sp->s.n_keys = n;
    sp->s.has_keys = true;
    return true;
}

static bool read_tags(ic_http_resp_t *resp, const cJSON *body, spec_t *sp) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "tags"), *e;
    cJSON *out;
    if (t == NULL || cJSON_IsNull(t))
        return true;
    if (!cJSON_IsArray(t)) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value at 'tags' must be a list");
        return false;
    }
    out = cJSON_CreateArray();
    cJSON_ArrayForEach(e, t) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "Key");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "Value");
        cJSON *tag;
        if (!cJSON_IsString(k)) {
            cJSON_Delete(out);
            return is_null(resp, "tags.member.Key");
        }
        if (!check_str(resp, "tags.member.Key", k->valuestring, 1, 128, NULL, NULL) ||
            (cJSON_IsString(v) &&
             !check_str(resp, "tags.member.Value", v->valuestring, 0, 256, NULL,
                        NULL))) {
            cJSON_Delete(out);
            return false;
        }
        tag = cJSON_CreateObject();
        cJSON_AddStringToObject(tag, "Key", k->valuestring);
        if (cJSON_IsString(v))
            cJSON_AddStringToObject(tag, "Value", v->valuestring);
        cJSON_AddItemToArray(out, tag);
    }
    sp->tags = cJSON_PrintUnformatted(out);
    sp->s.tags = sp->tags;
    cJSON_Delete(out);
    return true;
}

/* Everything but the name; false after answering. */
static bool read_spec(ic_http_resp_t *resp, const cJSON *body, bool is_create,
                      spec_t *sp) {
    const char *arn = NULL, *tk = NULL, *status = NULL;
    bool has;
    memset(sp, 0, sizeof(*sp));
    if (!ic__ctl_opt_str(resp, body, "authorizerFunctionArn", &arn) ||
        !ic__ctl_opt_str(resp, body, "tokenKeyName", &tk) ||
        !ic__ctl_opt_str(resp, body, "status", &status))
        return false;
    if (arn == NULL && is_create)
        return is_null(resp, "authorizerFunctionArn");
    if (arn && !check_str(resp, "authorizerFunctionArn", arn, 0,
                          IC_AUTHORIZER_MAX_ARN, NULL, NULL))
        return false;
    if (tk && !check_str(resp, "tokenKeyName", tk, 1, 128, "_-", "[a-zA-Z0-9_-]+"))
        return false;
    if (status && strcmp(status, "ACTIVE") != 0 && strcmp(status, "INACTIVE") != 0)
        return invalid(resp, "status", status,
                       "Member must satisfy enum value set: [ACTIVE, INACTIVE]");
    sp->s.function_arn = arn;
    sp->s.token_key_name = tk;
    sp->s.has_status = status != NULL;
    sp->s.is_active = status == NULL || strcmp(status, "ACTIVE") == 0;
    if (!read_keys(resp, body, sp) ||
        !opt_bool(resp, body, "enableCachingForHttp", &sp->s.has_caching,
                  &sp->s.caching_for_http))
        return false;
    if (is_create && (!opt_bool(resp, body, "signingDisabled", &has,
                                &sp->s.signing_disabled) ||
                      !read_tags(resp, body, sp)))
        return false;
    return true;
}

/* ---- shapes ------------------------------------------------------------------------ */

static void name_and_arn(ctl_t *c, cJSON *o, const char *name) {
    char arn[512];
    ic__ctl_arn(c, "authorizer", name, arn, sizeof(arn));
    cJSON_AddStringToObject(o, "authorizerName", name);
    cJSON_AddStringToObject(o, "authorizerArn", arn);
}

static cJSON *description(ctl_t *c, const ic_authorizer_t *az) {
    cJSON *o = cJSON_CreateObject();
    size_t i;
    name_and_arn(c, o, az->name);
    cJSON_AddStringToObject(o, "authorizerFunctionArn", az->function_arn);
    if (az->token_key_name)
        cJSON_AddStringToObject(o, "tokenKeyName", az->token_key_name);
    if (az->n_keys > 0) {
        cJSON *k = cJSON_AddObjectToObject(o, "tokenSigningPublicKeys");
        for (i = 0; i < az->n_keys; i++)
            cJSON_AddStringToObject(k, az->keys[i].name, az->keys[i].pem);
    }
    cJSON_AddStringToObject(o, "status", az->is_active ? "ACTIVE" : "INACTIVE");
    ic__ctl_add_time(o, "creationDate", az->created_ms);
    ic__ctl_add_time(o, "lastModifiedDate", az->updated_ms);
    cJSON_AddBoolToObject(o, "signingDisabled", az->signing_disabled);
    cJSON_AddBoolToObject(o, "enableCachingForHttp", az->caching_for_http);
    return o;
}

static const ic_authorizer_t *authorizer_or_404(ctl_t *c, const ic_http_call_t *call,
                                                ic_http_resp_t *resp) {
    const char *name = ic_http_label(call, "authorizerName");
    const ic_authorizer_t *az;
    if (!check_name(resp, "authorizerName", name))
        return NULL;
    az = ic_authorizers_get(reg_of(c), name);
    if (az == NULL)
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "The authorizer %s does not exist",
                     name);
    return az;
}

/* ---- CRUD ---------------------------------------------------------------------------- */

static void put(const ic_http_call_t *call, ic_http_resp_t *resp, ctl_t *c,
                bool is_create) {
    const char *name = ic_http_label(call, "authorizerName");
    cJSON *body, *o;
    spec_t sp;
    char why[512];
    int rc;
    memset(&sp, 0, sizeof(sp));
    if (!check_name(resp, "authorizerName", name) ||
        (body = ic__ctl_body(call, resp)) == NULL)
        return;
    if (!read_spec(resp, body, is_create, &sp))
        goto out;
    rc = is_create ? ic_authorizers_create(reg_of(c), name, &sp.s, ic__ctl_now_ms(),
                                           why, sizeof(why))
                   : ic_authorizers_update(reg_of(c), name, &sp.s, ic__ctl_now_ms(),
                                           why, sizeof(why));
    if (rc != 0) {
        fail_by_rc(resp, rc, why);
        goto out;
    }
    ic_log_info(is_create ? "authorizer created" : "authorizer updated",
                "authorizer=%s", name);
    o = cJSON_CreateObject();
    name_and_arn(c, o, name);
    ic_http_json(resp, o);
out:
    cJSON_free(sp.tags);
    cJSON_Delete(body);
}

CTL_HANDLER(ic__ctl_create_authorizer) {
    put(call, resp, data, true);
}

CTL_HANDLER(ic__ctl_update_authorizer) {
    put(call, resp, data, false);
}

CTL_HANDLER(ic__ctl_describe_authorizer) {
    ctl_t *c = data;
    const ic_authorizer_t *az = authorizer_or_404(c, call, resp);
    cJSON *o;
    if (az == NULL)
        return;
    o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "authorizerDescription", description(c, az));
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_delete_authorizer) {
    ctl_t *c = data;
    const char *name = ic_http_label(call, "authorizerName");
    char why[512];
    int rc;
    if (!check_name(resp, "authorizerName", name))
        return;
    rc = ic_authorizers_delete(reg_of(c), name, why, sizeof(why));
    if (rc != 0) {
        fail_by_rc(resp, rc, why);
        return;
    }
    ic_log_info("authorizer deleted", "authorizer=%s", name);
    ic_http_json(resp, cJSON_CreateObject());
}

CTL_HANDLER(ic__ctl_list_authorizers) {
    ctl_t *c = data;
    ic_authorizers_t *reg = reg_of(c);
    size_t n = ic_authorizers_count(reg), i, k = 0;
    const ic_authorizer_t **all = ic_xmalloc((n + 1) * sizeof(*all));
    long page = DEFAULT_PAGE;
    bool asc = true, has_status;
    char marker[256], status[16] = "";
    const char *last = NULL;
    cJSON *o, *arr;
    has_status = ic__ctl_q_str(call, "status", status, sizeof(status));
    if (!ic__ctl_q_int(call, resp, "pageSize", 1, MAX_PAGE, &page) ||
        !ic__ctl_q_bool(call, resp, "isAscendingOrder", &asc) ||
        !ic__ctl_q_token(call, resp, "marker", marker, sizeof(marker)))
        goto out;
    if (has_status && strcmp(status, "ACTIVE") != 0 &&
        strcmp(status, "INACTIVE") != 0) {
        invalid(resp, "status", status,
                "Member must satisfy enum value set: [ACTIVE, INACTIVE]");
        goto out;
    }
    n = ic_authorizers_list(reg, NULL, all, n);
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "authorizers");
    for (i = 0; i < n; i++) {
        const ic_authorizer_t *az = asc ? all[i] : all[n - 1 - i];
        if (marker[0] && (asc ? strcmp(az->name, marker) <= 0
                              : strcmp(az->name, marker) >= 0))
            continue;
        if (has_status && az->is_active != (strcmp(status, "ACTIVE") == 0))
            continue;
        if ((long)k == page) {
            ic__ctl_add_token(o, "nextMarker", last);
            break;
        }
        {
            cJSON *e = cJSON_CreateObject();
            name_and_arn(c, e, az->name);
            cJSON_AddItemToArray(arr, e);
        }
        last = az->name;
        k++;
    }
    ic_http_json(resp, o);
out:
    free(all);
}

/* ---- the default authorizer --------------------------------------------------------- */

CTL_HANDLER(ic__ctl_set_default_authorizer) {
    ctl_t *c = data;
    cJSON *body, *o;
    const char *name = NULL;
    char why[512];
    int rc;
    if ((body = ic__ctl_body(call, resp)) == NULL)
        return;
    if (!ic__ctl_opt_str(resp, body, "authorizerName", &name))
        goto out;
    if (name == NULL) {
        is_null(resp, "authorizerName");
        goto out;
    }
    if (!check_name(resp, "authorizerName", name))
        goto out;
    rc = ic_authorizers_set_default(reg_of(c), name, why, sizeof(why));
    if (rc != 0) {
        fail_by_rc(resp, rc, why);
        goto out;
    }
    ic_log_info("default authorizer set", "authorizer=%s", name);
    o = cJSON_CreateObject();
    name_and_arn(c, o, name);
    ic_http_json(resp, o);
out:
    cJSON_Delete(body);
}

CTL_HANDLER(ic__ctl_describe_default_authorizer) {
    ctl_t *c = data;
    const ic_authorizer_t *az = ic_authorizers_default(reg_of(c));
    cJSON *o;
    (void)call;
    if (az == NULL) {
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "No default authorizer is set");
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "authorizerDescription", description(c, az));
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_clear_default_authorizer) {
    ctl_t *c = data;
    char why[256];
    (void)call;
    if (ic_authorizers_clear_default(reg_of(c), why, sizeof(why)) != 0) {
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "%s", why);
        return;
    }
    ic_log_info("default authorizer cleared", "%s", "");
    ic_http_json(resp, cJSON_CreateObject());
}

/* ---- TestInvokeAuthorizer ----------------------------------------------------------- */

/* InvalidResponseException: the function answered badly or not at all. */
static void fail_invalid_response(ic_http_resp_t *resp, const char *msg) {
    ic_http_fail(resp, IC_HTTP_E_INVALID_RESPONSE, "%s", msg);
}

typedef struct test_s {
    ic_http_defer_t *d;
    char *password;        /* decoded mqttContext.password */
} test_t;

static void test_done(ic_custom_auth_t *ca, const ic_custom_auth_result_t *r,
                      void *data) {
    test_t *t = data;
    ic_http_resp_t *resp = ic_http_defer_resp(t->d);
    cJSON *o, *docs;
    size_t i;
    (void)ca;
    switch (r->status) {
    case IC_CUSTOM_AUTH_OK:
    case IC_CUSTOM_AUTH_NOT_AUTHENTICATED:
        o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "isAuthenticated", r->status == IC_CUSTOM_AUTH_OK);
        if (r->principal_id[0])
            cJSON_AddStringToObject(o, "principalId", r->principal_id);
        docs = cJSON_AddArrayToObject(o, "policyDocuments");
        for (i = 0; i < r->n_policy_documents; i++) /* the model: strings */
            cJSON_AddItemToArray(docs, cJSON_CreateString(r->policy_documents[i]));
        if (r->refresh_after_s)
            cJSON_AddNumberToObject(o, "refreshAfterInSeconds", r->refresh_after_s);
        if (r->disconnect_after_s)
            cJSON_AddNumberToObject(o, "disconnectAfterInSeconds",
                                    r->disconnect_after_s);
        ic_http_json(resp, o);
        break;
    case IC_CUSTOM_AUTH_NO_AUTHORIZER:
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "%s", r->reason);
        break;
    case IC_CUSTOM_AUTH_BAD_CREDENTIALS:
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "%s", r->reason);
        break;
    case IC_CUSTOM_AUTH_BAD_RESPONSE:
    case IC_CUSTOM_AUTH_FAILED:
        fail_invalid_response(resp, r->reason);
        break;
    case IC_CUSTOM_AUTH_CLOSED:
        ic_http_fail(resp, IC_HTTP_E_UNAVAILABLE, "%s", r->reason);
        break;
    }
    ic_http_finish(t->d);
    free(t->password);
    free(t);
}

static bool ctx_str(ic_http_resp_t *resp, const cJSON *o, const char *key,
                    const char *field, size_t max, const char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (v == NULL || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v)) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value at '%s' must be a string",
                     field);
        return false;
    }
    if (!check_str(resp, field, v->valuestring, 1, max, NULL, NULL))
        return false;
    *out = v->valuestring;
    return true;
}

static bool is_b64(const char *s) {
    size_t n = strlen(s), i, pad = 0;
    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        if (s[i] == '=') {
            pad++;
            continue;
        }
        if (pad || (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/'))
            return false;
    }
    return pad <= 2;
}

/* mqttContext.password: a blob, base64 in JSON; decoded into t. */
static bool read_password(ic_http_resp_t *resp, const cJSON *mqtt, test_t *t,
                          size_t *len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(mqtt, "password");
    size_t n, pad = 0;
    int d;
    *len = 0;
    if (v == NULL || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v) || (n = strlen(v->valuestring)) % 4 != 0 ||
        !is_b64(v->valuestring) || n > 87384) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value at 'mqttContext.password' "
                     "must be base64-encoded binary data");
        return false;
    }
    t->password = ic_xmalloc(n / 4 * 3 + 1);
    d = EVP_DecodeBlock((unsigned char *)t->password,
                        (const unsigned char *)v->valuestring, (int)n);
    while (n > 0 && v->valuestring[n - 1] == '=') {
        n--;
        pad++;
    }
    *len = d > 0 ? (size_t)d - pad : 0;
    if (*len == 0 || *len > 65535) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value at 'mqttContext.password' "
                     "failed to satisfy constraint: Member must have length between "
                     "1 and 65535");
        return false;
    }
    return true;
}

CTL_HANDLER(ic__ctl_test_invoke_authorizer) {
    ctl_t *c = data;
    const ic_authorizer_t *az = authorizer_or_404(c, call, resp);
    const cJSON *http, *mqtt, *tls, *hs, *h;
    ic_custom_auth_req_t req;
    ic_http_header_t *headers = NULL;
    size_t n_headers = 0, pwlen = 0;
    const char *qs = NULL;
    test_t *t;
    cJSON *body;
    int rc;
    if (az == NULL || (body = ic__ctl_body(call, resp)) == NULL)
        return;
    t = ic_xcalloc(1, sizeof(*t));
    memset(&req, 0, sizeof(req));
    req.authorizer = az->name;
    req.no_cache = true;
    req.allow_inactive = true;
    if (!ctx_str(resp, body, "token", "token", 6144, &req.token) ||
        !ctx_str(resp, body, "tokenSignature", "tokenSignature", 2560,
                 &req.signature))
        goto fail;
    if (req.signature && !is_b64(req.signature)) {
        invalid(resp, "tokenSignature", req.signature,
                "Member must satisfy regular expression pattern: "
                "[A-Za-z0-9+/]+={0,2}");
        goto fail;
    }
    if ((http = cJSON_GetObjectItemCaseSensitive(body, "httpContext")) != NULL &&
        cJSON_IsObject(http)) {
        req.protocols |= IC_CUSTOM_AUTH_HTTP;
        hs = cJSON_GetObjectItemCaseSensitive(http, "headers");
        if (cJSON_IsObject(hs)) {
            headers = ic_xcalloc((size_t)cJSON_GetArraySize(hs) + 1,
                                 sizeof(*headers));
            cJSON_ArrayForEach(h, hs) {
                if (!cJSON_IsString(h) ||
                    !check_str(resp, "httpContext.headers.key", h->string, 1, 8192,
                               NULL, NULL) ||
                    !check_str(resp, "httpContext.headers.value", h->valuestring, 1,
                               8192, NULL, NULL)) {
                    if (!cJSON_IsString(h))
                        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                                     "1 validation error detected: Value at "
                                     "'httpContext.headers' must be a map of "
                                     "strings");
                    goto fail;
                }
                headers[n_headers].name = h->string;
                headers[n_headers].name_len = strlen(h->string);
                headers[n_headers].value = h->valuestring;
                headers[n_headers].value_len = strlen(h->valuestring);
                n_headers++;
            }
        }
        if (!ctx_str(resp, http, "queryString", "httpContext.queryString", 4096, &qs))
            goto fail;
        req.headers = headers;
        req.n_headers = n_headers;
        req.query = qs && qs[0] == '?' ? qs + 1 : qs; /* the event adds it back */
    }
    if ((mqtt = cJSON_GetObjectItemCaseSensitive(body, "mqttContext")) != NULL &&
        cJSON_IsObject(mqtt)) {
        req.protocols |= IC_CUSTOM_AUTH_MQTT;
        if (!ctx_str(resp, mqtt, "username", "mqttContext.username", 65535,
                     &req.mqtt_username) ||
            !ctx_str(resp, mqtt, "clientId", "mqttContext.clientId", 65535,
                     &req.mqtt_client_id) ||
            !read_password(resp, mqtt, t, &pwlen))
            goto fail;
        req.has_mqtt_password = t->password != NULL;
        req.mqtt_password = (const uint8_t *)t->password;
        req.mqtt_password_len = pwlen;
    }
    if ((tls = cJSON_GetObjectItemCaseSensitive(body, "tlsContext")) != NULL &&
        cJSON_IsObject(tls)) {
        req.protocols |= IC_CUSTOM_AUTH_TLS;
        if (!ctx_str(resp, tls, "serverName", "tlsContext.serverName", 253,
                     &req.server_name))
            goto fail;
    }
    rc = c->b->custom_auth
             ? ic_custom_auth_invoke(c->b->custom_auth, &req, test_done, t, NULL)
             : IC_ECLOSED;
    if (rc != 0) {
        ic_http_fail(resp, IC_HTTP_E_UNAVAILABLE,
                     "Custom authorizers are not available: %s", ic_errname(rc));
        goto fail;
    }
    /* the callback never runs inside invoke: deferring now is in time */
    t->d = ic_http_defer(call, resp);
    free(headers);
    cJSON_Delete(body);
    return;
fail:
    free(headers);
    free(t->password);
    free(t);
    cJSON_Delete(body);
}
