/* custom_auth.c - custom authorizers at work: pick the authorizer, find the
 * token and signature, verify, invoke the function, judge the answer
 * (aws-iot-auth.md 6.3, 6.4; see custom_auth.h).
 *
 *   invoke ──> authorizer? token? signature ok? ──no──────────────┐
 *                 │ yes                                            │
 *                 ├─ cached (allowed, not expired, same generation)┤
 *                 │                                                v
 *                 └─ event JSON ─> transport (URL or Lambda) ─> done queue
 *                                   (timeout_ms)     answer judged  │
 *                                                       idle handle v
 *                                                        cb (unless cancelled)
 *
 * Owns the calls in flight, the done queue (every result goes through it,
 * so a callback never runs inside invoke) and the result cache. It must
 * not open sockets (the transport is injected), apply policies (auth.c
 * evaluates the documents) or close connections (the caller does, with
 * the result). Loop thread only.
 *
 * A call is freed after its callback returns, or, when cancelled, as soon
 * as nothing can reach it any more: at once if it is queued, when the
 * transport's completion arrives if it is in flight.
 */
#include "iotcored/custom_auth.h"

#include "iotcored/alloc.h"
#include "iotcored/buf.h"
#include "iotcored/clock.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/map.h"
#include "iotcored/policies.h"
#include "iotcored/policy.h"
#include "iotcored/sigv4.h"
#include "iotcored/str.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SIG_CHARS 4096 /* a base64 signature (API: 2560) */
#define MAX_SIG_BYTES 2048 /* RSA up to 16384 bits */
#define REASON_CAP 512

typedef struct entry_s {
    uint64_t expires_ms;        /* uv_now of expiry */
    uint64_t generation;        /* the authorizers' generation when made */
    ic_custom_auth_resp_t resp;
} entry_t;

struct ic_custom_auth_call_s {
    ic_custom_auth_t *ca;
    ic_custom_auth_cb cb;
    void *data;
    struct ic_custom_auth_call_s *next; /* in the done queue */
    bool is_cancelled;
    bool is_in_transport;
    bool is_delivering;
    bool is_lambda;
    ic_custom_auth_status_t status;
    char authorizer[129];
    char conn_id[129];
    char reason[REASON_CAP];
    char key[65];               /* cache key (hex SHA-256), "" = no caching */
    uint64_t generation;
    bool caching_for_http;
    bool is_cached;
    ic_custom_auth_resp_t resp;
};

typedef struct ic_custom_auth_call_s call_t;

struct ic_custom_auth_s {
    uv_loop_t *loop;
    ic_authorizers_t *reg;
    ic_custom_auth_env_t env;
    uv_idle_t idle;             /* delivers the done queue */
    call_t *done_head, *done_tail;
    size_t n_calls;             /* not yet freed */
    ic_map_t cache;             /* key -> entry_t* */
    uint64_t cache_generation;  /* the generation its entries were made at */
    bool is_stopping;
    ic_done_cb stop_cb;
    void *stop_data;
};

/* ======================================================================
 * Pure parts.
 * ====================================================================== */

/* s[0..n) percent-decoded (an invalid escape is kept as it is), malloc'd. */
static char *pct_decode(const char *s, size_t n) {
    ic_buf_t b;
    ic_buf_init(&b);
    ic_buf_append_pct_decoded(&b, s, n);
    ic_buf_put_u8(&b, 0);
    return (char *)b.data;
}

/* The decoded value of key in query q[0..n) ("a=1&b=2"), or NULL. */
static char *query_get(const char *q, size_t n, const char *key) {
    size_t i = 0, klen = strlen(key);
    while (i < n) {
        size_t end = i, eq;
        char *k;
        bool hit;
        while (end < n && q[end] != '&')
            end++;
        eq = i;
        while (eq < end && q[eq] != '=')
            eq++;
        k = pct_decode(q + i, eq - i);
        hit = strlen(k) == klen && memcmp(k, key, klen) == 0;
        free(k);
        if (hit)
            return eq < end ? pct_decode(q + eq + 1, end - eq - 1) : ic_xstrdup("");
        i = end + 1;
    }
    return NULL;
}

char *ic_custom_auth_param(const ic_custom_auth_req_t *req, const char *key) {
    size_t i, klen = strlen(key);
    const char *u;
    for (i = 0; i < req->n_headers && req->headers; i++) {
        const ic_http_header_t *h = &req->headers[i];
        if (h->name_len == klen && strncasecmp(h->name, key, klen) == 0)
            return ic_xstrndup(h->value, h->value_len);
    }
    if (req->query) {
        char *v = query_get(req->query, strlen(req->query), key);
        if (v)
            return v;
    }
    /* aws-iot-auth.md 6.3: "<user>?x-amz-customauthorizer-name=...&..." */
    if (req->mqtt_username && (u = strchr(req->mqtt_username, '?')) != NULL)
        return query_get(u + 1, strlen(u + 1), key);
    return NULL;
}

int ic_custom_auth_decode_signature(const char *sig, uint8_t *out, size_t cap,
                                    size_t *len) {
    char *s, *b;
    size_t n, i, k = 0, pad = 0;
    int d;
    *len = 0;
    if (sig == NULL || (n = strlen(sig)) == 0 || n > MAX_SIG_CHARS)
        return IC_EMALFORMED;
    /* browsers must URL-encode it (aws-iot-auth.md 6.3); decoding base64
     * text that holds no '%' changes nothing */
    s = strchr(sig, '%') ? pct_decode(sig, n) : ic_xstrdup(sig);
    n = strlen(s);
    b = ic_xmalloc(n + 4);
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad > 0) /* data after padding */
            goto bad;
        if (c == ' ' || c == '-') /* a form-decoded '+', base64url */
            c = '+';
        else if (c == '_')
            c = '/';
        if (!isalnum((unsigned char)c) && c != '+' && c != '/')
            goto bad;
        b[k++] = c;
    }
    if (k == 0 || k % 4 == 1 || pad > 2)
        goto bad;
    pad = (4 - k % 4) % 4;
    for (i = 0; i < pad; i++)
        b[k++] = '=';
    if (k / 4 * 3 > cap)
        goto bad;
    d = EVP_DecodeBlock(out, (const unsigned char *)b, (int)k);
    if (d < 0 || (size_t)d < pad)
        goto bad;
    *len = (size_t)d - pad; /* DecodeBlock counts the padding as zero bytes */
    free(s);
    free(b);
    return 0;
bad:
    free(s);
    free(b);
    return IC_EMALFORMED;
}

static bool verify_one(const char *pem, const char *token, const uint8_t *sig,
                       size_t siglen) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = false;
    if (k && md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1)
        ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)token,
                              strlen(token)) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    BIO_free(bio);
    return ok;
}

int ic_custom_auth_verify(const ic_authorizer_t *az, const char *token,
                          const char *signature, char *why, size_t whylen) {
    uint8_t sig[MAX_SIG_BYTES];
    size_t len, i;
    if (ic_custom_auth_decode_signature(signature, sig, sizeof(sig), &len) != 0)
        return ic_str_fail(why, whylen, IC_EMALFORMED,
                           "token signature is not base64");
    for (i = 0; i < az->n_keys; i++)
        if (verify_one(az->keys[i].pem, token ? token : "", sig, len))
            return 0;
    return ic_str_fail(why, whylen, IC_EDENIED, "token signature invalid");
}


char *ic_custom_auth_event(const ic_custom_auth_req_t *req, const char *token,
                           bool signature_verified, const char *connection_id) {
    cJSON *o = cJSON_CreateObject(), *protos, *pd, *cm;
    char *s;
    if (token)
        cJSON_AddStringToObject(o, "token", token);
    cJSON_AddBoolToObject(o, "signatureVerified", signature_verified);
    protos = cJSON_AddArrayToObject(o, "protocols");
    pd = cJSON_AddObjectToObject(o, "protocolData");
    if (req->protocols & IC_CUSTOM_AUTH_TLS) {
        cJSON *t = cJSON_AddObjectToObject(pd, "tls");
        cJSON_AddItemToArray(protos, cJSON_CreateString("tls"));
        if (req->server_name && req->server_name[0])
            cJSON_AddStringToObject(t, "serverName", req->server_name);
    }
    if (req->protocols & IC_CUSTOM_AUTH_HTTP) {
        cJSON *h = cJSON_AddObjectToObject(pd, "http");
        cJSON *hs = cJSON_AddObjectToObject(h, "headers");
        size_t i;
        cJSON_AddItemToArray(protos, cJSON_CreateString("http"));
        for (i = 0; i < req->n_headers && req->headers; i++) {
            const ic_http_header_t *x = &req->headers[i];
            char *name = ic_xstrndup(x->name, x->name_len);
            char *value = ic_xstrndup(x->value, x->value_len);
            cJSON *had = cJSON_GetObjectItemCaseSensitive(hs, name);
            if (had && cJSON_IsString(had)) { /* RFC 9110 5.3: one list */
                ic_buf_t j;
                ic_buf_init(&j);
                ic_buf_appendf(&j, "%s,%s", had->valuestring, value);
                ic_buf_put_u8(&j, 0);
                cJSON_ReplaceItemInObjectCaseSensitive(
                    hs, name, cJSON_CreateString((const char *)j.data));
                ic_buf_free(&j);
            } else {
                cJSON_AddStringToObject(hs, name, value);
            }
            free(name);
            free(value);
        }
        if (req->query && req->query[0]) {
            ic_buf_t q;
            ic_buf_init(&q);
            ic_buf_appendf(&q, "?%s", req->query);
            ic_buf_put_u8(&q, 0);
            cJSON_AddStringToObject(h, "queryString", (const char *)q.data);
            ic_buf_free(&q);
        }
    }
    if (req->protocols & IC_CUSTOM_AUTH_MQTT) {
        cJSON *m = cJSON_AddObjectToObject(pd, "mqtt");
        cJSON_AddItemToArray(protos, cJSON_CreateString("mqtt"));
        if (req->mqtt_username)
            cJSON_AddStringToObject(m, "username", req->mqtt_username);
        if (req->has_mqtt_password) {
            char *p = ic_b64_encode(req->mqtt_password, req->mqtt_password_len);
            cJSON_AddStringToObject(m, "password", p);
            free(p);
        }
        if (req->mqtt_client_id)
            cJSON_AddStringToObject(m, "clientId", req->mqtt_client_id);
    }
    cm = cJSON_AddObjectToObject(o, "connectionMetadata");
    cJSON_AddStringToObject(cm, "id", connection_id ? connection_id : "");
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

void ic_custom_auth_resp_free(ic_custom_auth_resp_t *r) {
    size_t i;
    if (r == NULL)
        return;
    for (i = 0; i < r->n_docs; i++)
        free(r->docs[i]);
    free(r->docs);
    free(r->principal_id);
    memset(r, 0, sizeof(*r));
}

static void resp_copy(ic_custom_auth_resp_t *dst, const ic_custom_auth_resp_t *src) {
    size_t i;
    *dst = *src;
    dst->principal_id = src->principal_id ? ic_xstrdup(src->principal_id) : NULL;
    dst->docs = src->n_docs ? ic_xcalloc(src->n_docs, sizeof(char *)) : NULL;
    for (i = 0; i < src->n_docs; i++)
        dst->docs[i] = ic_xstrdup(src->docs[i]);
}

static const cJSON *member(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

static bool is_principal(const char *s) {
    size_t n = strlen(s), i;
    if (n < 1 || n > IC_CUSTOM_AUTH_MAX_PRINCIPAL)
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]))
            return false;
    return true;
}

static int ttl(const cJSON *o, const char *key, bool required, uint32_t *out,
               char *why, size_t whylen) {
    const cJSON *v = member(o, key);
    double d;
    if (v == NULL)
        return required ? ic_str_fail(why, whylen, IC_EMALFORMED,
                                      "%s is required", key)
                        : 0;
    d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    if (d != floor(d) || d < IC_CUSTOM_AUTH_MIN_TTL_S || d > IC_CUSTOM_AUTH_MAX_TTL_S)
        return ic_str_fail(why, whylen, IC_EMALFORMED,
                           "%s must be an integer from %d to %d", key,
                           IC_CUSTOM_AUTH_MIN_TTL_S, IC_CUSTOM_AUTH_MAX_TTL_S);
    *out = (uint32_t)d;
    return 0;
}

#define MAX_DOC_BYTES 16384 /* a policy document, kept (compact beyond) */

static int parse_docs(const cJSON *arr, ic_custom_auth_resp_t *out, char *why,
                      size_t whylen) {
    const cJSON *d;
    int n = cJSON_GetArraySize(arr), i = 0;
    if (!cJSON_IsArray(arr))
        return ic_str_fail(why, whylen, IC_EMALFORMED,
                           "policyDocuments must be an array");
    if (n > IC_CUSTOM_AUTH_MAX_DOCS)
        return ic_str_fail(why, whylen, IC_EMALFORMED,
                           "policyDocuments holds %d documents; at most %d", n,
                           IC_CUSTOM_AUTH_MAX_DOCS);
    out->docs = ic_xcalloc((size_t)n + 1, sizeof(char *));
    cJSON_ArrayForEach(d, arr) {
        char inner[300];
        char *text;
        ic_policy_doc_t *doc;
        if (cJSON_IsObject(d))
            text = cJSON_PrintUnformatted(d);
        else if (cJSON_IsString(d)) { /* JSON.stringify(policy), aws-iot-auth 6.4 */
            /* as sent (TestInvokeAuthorizer shows it so), unless it is
             * long: AWS's 2048-character rule skips whitespace, which
             * must not make a cached result large - then compact */
            cJSON *inner_doc = strlen(d->valuestring) > MAX_DOC_BYTES
                                   ? cJSON_Parse(d->valuestring)
                                   : NULL;
            if (inner_doc == NULL) { /* short, or the checker says why */
                text = ic_xstrdup(d->valuestring);
            } else {
                text = cJSON_PrintUnformatted(inner_doc);
                cJSON_Delete(inner_doc);
            }
        } else
            return ic_str_fail(why, whylen, IC_EMALFORMED,
                               "policyDocuments[%d] must be a JSON object or a "
                               "string", i);
        out->docs[out->n_docs++] = text;
        if (strlen(text) > MAX_DOC_BYTES) /* whitespace inside strings,
                                             which AWS's count skips */
            return ic_str_fail(why, whylen, IC_EMALFORMED,
                               "policyDocuments[%d] is longer than %d bytes", i,
                               MAX_DOC_BYTES);
        if (ic_policies_check_document(text, inner, sizeof(inner)) != 0 ||
            (doc = ic_policy_compile(text, inner, sizeof(inner))) == NULL)
            return ic_str_fail(why, whylen, IC_EMALFORMED, "policyDocuments[%d]: %s",
                               i, inner);
        ic_policy_doc_free(doc);
        i++;
    }
    return 0;
}

int ic_custom_auth_parse(const uint8_t *body, size_t len,
                         ic_custom_auth_resp_t *out, char *why, size_t whylen) {
    cJSON *o;
    const cJSON *v;
    int rc = 0;
    bool auth;
    memset(out, 0, sizeof(*out));
    if (why && whylen)
        why[0] = '\0';
    o = body && len ? cJSON_ParseWithLength((const char *)body, len) : NULL;
    if (o == NULL || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return ic_str_fail(why, whylen, IC_EMALFORMED, "not a JSON object");
    }
    v = member(o, "isAuthenticated");
    if (v == NULL || !cJSON_IsBool(v)) {
        rc = ic_str_fail(why, whylen, IC_EMALFORMED,
                         "isAuthenticated must be a boolean");
        goto out;
    }
    auth = out->is_authenticated = cJSON_IsTrue(v);
    if ((v = member(o, "principalId")) != NULL) {
        if (!cJSON_IsString(v) || !is_principal(v->valuestring)) {
            rc = ic_str_fail(why, whylen, IC_EMALFORMED,
                             "principalId must match [a-zA-Z0-9]{1,%d}",
                             IC_CUSTOM_AUTH_MAX_PRINCIPAL);
            goto out;
        }
        out->principal_id = ic_xstrdup(v->valuestring);
    } else if (auth) {
        rc = ic_str_fail(why, whylen, IC_EMALFORMED, "principalId is required");
        goto out;
    }
    if ((v = member(o, "policyDocuments")) != NULL) {
        if ((rc = parse_docs(v, out, why, whylen)) != 0)
            goto out;
    } else if (auth) {
        rc = ic_str_fail(why, whylen, IC_EMALFORMED, "policyDocuments is required");
        goto out;
    }
    if ((rc = ttl(o, "disconnectAfterInSeconds", auth, &out->disconnect_after_s,
                  why, whylen)) != 0 ||
        (rc = ttl(o, "refreshAfterInSeconds", auth, &out->refresh_after_s, why,
                  whylen)) != 0)
        goto out;
out:
    cJSON_Delete(o);
    return rc;
}

/* ======================================================================
 * The service.
 * ====================================================================== */

static void on_idle(uv_idle_t *h);

ic_custom_auth_t *ic_custom_auth_new(uv_loop_t *loop, ic_authorizers_t *reg,
                                     const ic_custom_auth_env_t *env) {
    ic_custom_auth_t *ca = ic_xcalloc(1, sizeof(*ca));
    ca->loop = loop;
    ca->reg = reg;
    ca->env = *env;
    if (ca->env.timeout_ms == 0)
        ca->env.timeout_ms = IC_CUSTOM_AUTH_TIMEOUT_MS;
    if (ca->env.cache_max == 0)
        ca->env.cache_max = IC_CUSTOM_AUTH_CACHE_MAX;
    ic_map_init(&ca->cache);
    uv_idle_init(loop, &ca->idle);
    ca->idle.data = ca;
    return ca;
}

static void cache_clear(ic_custom_auth_t *ca) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    while ((e = ic_map_next(&ca->cache, &it)) != NULL) {
        entry_t *en = e->val;
        ic_custom_auth_resp_free(&en->resp);
        free(en);
    }
    ic_map_free(&ca->cache);
    ic_map_init(&ca->cache);
}

void ic_custom_auth_free(ic_custom_auth_t *ca) {
    if (ca == NULL)
        return;
    cache_clear(ca);
    ic_map_free(&ca->cache);
    free(ca);
}

size_t ic_custom_auth_pending(const ic_custom_auth_t *ca) {
    return ca->n_calls;
}

static void call_free(call_t *c) {
    c->ca->n_calls--;
    ic_custom_auth_resp_free(&c->resp);
    free(c);
}

/* ---- the result cache --------------------------------------------------------- */

static void hash_field(EVP_MD_CTX *md, const void *p, size_t n) {
    uint8_t len[8];
    size_t i;
    for (i = 0; i < 8; i++) /* length-prefixed: fields cannot run together */
        len[i] = (uint8_t)((uint64_t)n >> (8 * i));
    EVP_DigestUpdate(md, len, 8);
    if (p == NULL) {
        static const uint8_t absent = 0xff;
        EVP_DigestUpdate(md, &absent, 1);
    } else if (n) {
        EVP_DigestUpdate(md, p, n);
    }
}

static void str_field(EVP_MD_CTX *md, const char *s) {
    hash_field(md, s, s ? strlen(s) : 0);
}

static void cache_key(const ic_custom_auth_req_t *req, const char *authorizer,
                      const char *token, char out[65]) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char h[32];
    unsigned int hl = 0;
    uint8_t p = (uint8_t)req->protocols;
    size_t i;
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    str_field(md, authorizer);
    str_field(md, token);
    str_field(md, req->mqtt_username);
    hash_field(md, req->has_mqtt_password ? (const void *)(req->mqtt_password
                                                               ? req->mqtt_password
                                                               : (const uint8_t *)"")
                                          : NULL,
               req->mqtt_password_len);
    str_field(md, req->mqtt_client_id);
    str_field(md, req->server_name);
    hash_field(md, &p, 1);
    EVP_DigestFinal_ex(md, h, &hl);
    EVP_MD_CTX_free(md);
    for (i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Entries made for older authorizer settings are gone. */
static void cache_check_generation(ic_custom_auth_t *ca) {
    uint64_t g = ic_authorizers_generation(ca->reg);
    if (g != ca->cache_generation) {
        cache_clear(ca);
        ca->cache_generation = g;
    }
}

static bool cache_get(ic_custom_auth_t *ca, const char *key,
                      ic_custom_auth_resp_t *out) {
    entry_t *en;
    cache_check_generation(ca);
    en = ic_map_get(&ca->cache, key, 64);
    if (en == NULL)
        return false;
    if (en->expires_ms <= uv_now(ca->loop)) {
        ic_map_del(&ca->cache, key, 64);
        ic_custom_auth_resp_free(&en->resp);
        free(en);
        return false;
    }
    resp_copy(out, &en->resp);
    return true;
}

static void cache_put(ic_custom_auth_t *ca, const char *key, uint64_t generation,
                      const ic_custom_auth_resp_t *r) {
    entry_t *en, *old;
    uint64_t now = uv_now(ca->loop);
    cache_check_generation(ca);
    if (generation != ca->cache_generation || r->refresh_after_s == 0)
        return; /* made for settings that changed meanwhile */
    if (ca->cache.n >= ca->env.cache_max) {
        /* bounded: drop what expired; if that is not enough, everything */
        ic_map_iter_t it = {0, NULL};
        ic_map_entry_t *e;
        while ((e = ic_map_next(&ca->cache, &it)) != NULL) {
            entry_t *x = e->val;
            if (x->expires_ms <= now) {
                ic_map_del(&ca->cache, e->key, e->klen);
                ic_custom_auth_resp_free(&x->resp);
                free(x);
            }
        }
        if (ca->cache.n >= ca->env.cache_max)
            cache_clear(ca);
    }
    en = ic_xcalloc(1, sizeof(*en));
    en->expires_ms = now + (uint64_t)r->refresh_after_s * 1000;
    en->generation = generation;
    resp_copy(&en->resp, r);
    old = ic_map_put(&ca->cache, key, 64, en);
    if (old) {
        ic_custom_auth_resp_free(&old->resp);
        free(old);
    }
}

/* ---- completion ------------------------------------------------------------------ */

static const char *status_name(ic_custom_auth_status_t s) {
    switch (s) {
    case IC_CUSTOM_AUTH_OK: return "allowed";
    case IC_CUSTOM_AUTH_NOT_AUTHENTICATED: return "not_authenticated";
    case IC_CUSTOM_AUTH_NO_AUTHORIZER: return "no_authorizer";
    case IC_CUSTOM_AUTH_BAD_CREDENTIALS: return "bad_credentials";
    case IC_CUSTOM_AUTH_BAD_RESPONSE: return "bad_response";
    case IC_CUSTOM_AUTH_FAILED: return "failed";
    case IC_CUSTOM_AUTH_CLOSED: return "closed";
    }
    return "?";
}

/* Queue c for delivery; the one place a call's outcome is logged. */
static void queue_done(call_t *c) {
    ic_custom_auth_t *ca = c->ca;
    if (c->status == IC_CUSTOM_AUTH_OK)
        ic_log_debug("custom auth allowed",
                     "authorizer=%s connection=%s principal=%s documents=%zu "
                     "cached=%d", c->authorizer, c->conn_id,
                     c->resp.principal_id ? c->resp.principal_id : "-",
                     c->resp.n_docs, c->is_cached ? 1 : 0);
    else if (c->status != IC_CUSTOM_AUTH_CLOSED)
        ic_log(c->status == IC_CUSTOM_AUTH_FAILED ||
                       c->status == IC_CUSTOM_AUTH_BAD_RESPONSE
                   ? IC_LOG_WARNING
                   : IC_LOG_INFO,
               "custom auth denied", "authorizer=%s connection=%s result=%s "
               "reason=\"%s\"", c->authorizer[0] ? c->authorizer : "-",
               c->conn_id, status_name(c->status), c->reason);
    c->next = NULL;
    if (ca->done_tail)
        ca->done_tail->next = c;
    else
        ca->done_head = c;
    ca->done_tail = c;
    if (!ca->is_stopping)
        uv_idle_start(&ca->idle, on_idle);
}

static void finish(call_t *c, ic_custom_auth_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finish(call_t *c, ic_custom_auth_status_t st, const char *fmt, ...) {
    va_list ap;
    c->status = st;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    va_end(ap);
    if (st != IC_CUSTOM_AUTH_OK && st != IC_CUSTOM_AUTH_NOT_AUTHENTICATED)
        ic_custom_auth_resp_free(&c->resp);
    queue_done(c);
}

static void deliver(call_t *c) {
    ic_custom_auth_result_t r;
    if (c->is_cancelled) {
        call_free(c);
        return;
    }
    memset(&r, 0, sizeof(r));
    r.status = c->status;
    r.is_allowed = c->status == IC_CUSTOM_AUTH_OK;
    r.reason = r.is_allowed ? "" : c->reason;
    r.authorizer = c->authorizer;
    r.connection_id = c->conn_id;
    r.principal_id = c->resp.principal_id ? c->resp.principal_id : "";
    r.policy_documents = (const char *const *)c->resp.docs;
    r.n_policy_documents = c->resp.n_docs;
    r.disconnect_after_s = c->resp.disconnect_after_s;
    r.refresh_after_s = c->resp.refresh_after_s;
    r.caching_for_http = c->caching_for_http;
    r.is_cached = c->is_cached;
    c->is_delivering = true;
    c->cb(c->ca, &r, c->data);
    call_free(c);
}

static void drain(ic_custom_auth_t *ca) {
    while (ca->done_head) {
        call_t *c = ca->done_head;
        ca->done_head = c->next;
        if (ca->done_head == NULL)
            ca->done_tail = NULL;
        deliver(c); /* may queue more: the loop takes them too */
    }
}

static void on_idle(uv_idle_t *h) {
    ic_custom_auth_t *ca = h->data;
    uv_idle_stop(&ca->idle);
    drain(ca);
}

void ic_custom_auth_cancel(ic_custom_auth_call_t *call) {
    if (call == NULL || call->is_delivering)
        return;
    /* queued: freed when the queue reaches it; in the transport: freed by
     * its completion */
    call->is_cancelled = true;
}

/* ---- the transport ------------------------------------------------------------------ */

static void body_start(char *out, size_t cap, const uint8_t *body, size_t len) {
    size_t i, n = 0;
    for (i = 0; i < len && n + 1 < cap && n < 200; i++)
        out[n++] = body[i] >= 0x20 && body[i] < 0x7f && body[i] != '"'
                       ? (char)body[i]
                       : '.';
    out[n] = '\0';
}

static void on_response(int rc, int status, const ic_http_header_t *headers,
                        size_t n_headers, const uint8_t *body, size_t len,
                        const char *err, void *data) {
    call_t *c = data;
    ic_custom_auth_t *ca = c->ca;
    char why[400], start[256];
    size_t i;
    c->is_in_transport = false;
    if (c->is_cancelled) {
        call_free(c);
        return;
    }
    if (rc == UV_ETIMEDOUT) {
        finish(c, IC_CUSTOM_AUTH_FAILED, "authorizer timed out after %u ms",
               ca->env.timeout_ms);
        return;
    }
    if (rc == IC_ETOOBIG) {
        finish(c, IC_CUSTOM_AUTH_BAD_RESPONSE,
               "malformed authorizer response: larger than %u bytes",
               IC_CUSTOM_AUTH_MAX_RESPONSE);
        return;
    }
    if (rc == IC_ECLOSED) { /* the transport closed: we are stopping */
        finish(c, IC_CUSTOM_AUTH_CLOSED, "authorizer call aborted: shutting down");
        return;
    }
    if (rc != 0) {
        finish(c, IC_CUSTOM_AUTH_FAILED, "authorizer function unreachable: %s",
               err && err[0] ? err : ic_errname(rc));
        return;
    }
    body_start(start, sizeof(start), body, len);
    if (status < 200 || status > 299) {
        finish(c, IC_CUSTOM_AUTH_FAILED, "authorizer function failed: HTTP %d: %s",
               status, start);
        return;
    }
    for (i = 0; c->is_lambda && i < n_headers; i++)
        if (headers[i].name_len == 20 &&
            strncasecmp(headers[i].name, "X-Amz-Function-Error", 20) == 0) {
            char fe[65];
            size_t k, fl = headers[i].value_len > 64 ? 64 : headers[i].value_len;
            for (k = 0; k < fl; k++) { /* it goes into a quoted log field */
                char ch = headers[i].value[k];
                fe[k] = ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\' ? '.' : ch;
            }
            fe[fl] = '\0';
            finish(c, IC_CUSTOM_AUTH_FAILED, "authorizer function error (%s): %s", fe,
                   start);
            return;
        }
    if (ic_custom_auth_parse(body, len, &c->resp, why, sizeof(why)) != 0) {
        finish(c, IC_CUSTOM_AUTH_BAD_RESPONSE, "malformed authorizer response: %s",
               why);
        return;
    }
    if (!c->resp.is_authenticated) {
        finish(c, IC_CUSTOM_AUTH_NOT_AUTHENTICATED,
               "authorizer returned isAuthenticated false");
        return;
    }
    if (c->key[0])
        cache_put(ca, c->key, c->generation, &c->resp);
    finish(c, IC_CUSTOM_AUTH_OK, "%s", "");
}

/* The URL of an `authorizer_function ARN URL` line for arn ("*" matches
 * every ARN, after the exact ones), or NULL. */
static const char *function_url(const ic_custom_auth_t *ca, const char *arn) {
    const ic_cfg_pairs_t *p = ca->env.functions;
    size_t i;
    if (p == NULL)
        return NULL;
    for (i = 0; i < p->n; i++)
        if (strcmp(p->v[2 * i], arn) == 0)
            return p->v[2 * i + 1];
    for (i = 0; i < p->n; i++)
        if (strcmp(p->v[2 * i], "*") == 0)
            return p->v[2 * i + 1];
    return NULL;
}

static int post_url(call_t *c, const char *url, const char *event) {
    ic_custom_auth_t *ca = c->ca;
    ic_http_header_t h[1] = {{"Content-Type", 12, "application/json", 16}};
    ic_action_http_req_t r;
    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.url = url;
    r.headers = h;
    r.n_headers = 1;
    r.body = (const uint8_t *)event;
    r.body_len = strlen(event);
    r.timeout_ms = ca->env.timeout_ms;
    r.max_response = IC_CUSTOM_AUTH_MAX_RESPONSE;
    return ca->env.http(ca->env.http_transport, &r, on_response, c);
}

static bool is_unreserved(unsigned char ch) {
    return isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

/* The signing region of a Lambda ARN (arn:aws:lambda:REGION:...), or dflt. */
static void arn_region(const char *arn, const char *dflt, char *out, size_t cap) {
    const char *p = arn;
    int colons = 0;
    while (*p && colons < 3)
        if (*p++ == ':')
            colons++;
    if (colons == 3 && *p && *p != ':' && strncmp(arn, "arn:", 4) == 0) {
        size_t n = strcspn(p, ":");
        snprintf(out, cap, "%.*s", (int)n, p);
    } else {
        snprintf(out, cap, "%s", dflt && dflt[0] ? dflt : "us-east-1");
    }
}

/* POST {endpoint}/2015-03-31/functions/{arn}/invocations, signed as
 * botocore signs Lambda Invoke (RequestResponse). */
static int invoke_lambda(call_t *c, const char *arn, const char *event,
                         char *why, size_t whylen) {
    ic_custom_auth_t *ca = c->ca;
    const char *ep = ca->env.lambda_endpoint, *hs, *ps;
    ic_buf_t url, path;
    char host[300], amz[17], region[64], auth[600];
    ic_http_header_t h[5];
    ic_action_http_req_t r;
    size_t i, hl;
    int rc;
    if (strncmp(ep, "http://", 7) == 0)
        hs = ep + 7;
    else if (strncmp(ep, "https://", 8) == 0)
        hs = ep + 8;
    else
        return ic_str_fail(why, whylen, IC_EINVAL,
                           "aws_service_endpoint %.200s is not an http(s) URL", ep);
    hl = strcspn(hs, "/?#");
    if (hl == 0 || hl >= sizeof(host))
        return ic_str_fail(why, whylen, IC_EINVAL,
                           "aws_service_endpoint %.200s has no host", ep);
    memcpy(host, hs, hl);
    host[hl] = '\0';
    ps = hs + hl;
    ic_buf_init(&path);
    ic_buf_append(&path, ps, strcspn(ps, "?#"));
    while (path.len > 0 && path.data[path.len - 1] == '/')
        path.len--;
    ic_buf_append_str(&path, "/2015-03-31/functions/");
    for (i = 0; arn[i]; i++) { /* botocore: a URI label, only -._~ kept */
        unsigned char ch = (unsigned char)arn[i];
        if (is_unreserved(ch))
            ic_buf_put_u8(&path, ch);
        else
            ic_buf_appendf(&path, "%%%02X", ch);
    }
    ic_buf_append_str(&path, "/invocations");
    ic_buf_put_u8(&path, 0);
    ic_buf_init(&url);
    ic_buf_append(&url, ep, (size_t)(hs - ep) + hl);
    ic_buf_append_str(&url, (const char *)path.data);
    ic_buf_put_u8(&url, 0);
    ic_sigv4_amz_date(ic_clock_wall_ms() / 1000, amz);
    arn_region(arn, ca->env.lambda_region, region, sizeof(region));
    h[0] = (ic_http_header_t){"Host", 4, host, strlen(host)};
    h[1] = (ic_http_header_t){"X-Amz-Date", 10, amz, 16};
    h[2] = (ic_http_header_t){"X-Amz-Invocation-Type", 21, "RequestResponse", 15};
    h[3] = (ic_http_header_t){"Content-Type", 12, "application/json", 16};
    rc = ic_sigv4_sign("POST", (const char *)path.data, "", h, 4,
                       (const uint8_t *)event, strlen(event),
                       ca->env.access_key ? ca->env.access_key : "",
                       ca->env.secret_key ? ca->env.secret_key : "", region,
                       "lambda", auth, sizeof(auth));
    if (rc != 0) {
        ic_buf_free(&url);
        ic_buf_free(&path);
        return ic_str_fail(why, whylen, rc, "cannot sign the Lambda Invoke request");
    }
    h[4] = (ic_http_header_t){"Authorization", 13, auth, strlen(auth)};
    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.url = (const char *)url.data;
    r.headers = h;
    r.n_headers = 5;
    r.body = (const uint8_t *)event;
    r.body_len = strlen(event);
    r.timeout_ms = ca->env.timeout_ms;
    r.max_response = IC_CUSTOM_AUTH_MAX_RESPONSE;
    c->is_lambda = true;
    rc = ca->env.http(ca->env.http_transport, &r, on_response, c);
    if (rc != 0)
        ic_str_fail(why, whylen, rc, "cannot send the Lambda Invoke request: %s",
                    ic_errname(rc));
    ic_buf_free(&url);
    ic_buf_free(&path);
    return rc;
}

/* ---- invoke ---------------------------------------------------------------------------- */

static const ic_authorizer_t *pick(ic_custom_auth_t *ca,
                                   const ic_custom_auth_req_t *req, call_t *c) {
    char *named = req->authorizer ? NULL
                                  : ic_custom_auth_param(req, IC_CUSTOM_AUTH_NAME_PARAM);
    const char *name = req->authorizer ? req->authorizer : named;
    const ic_authorizer_t *az;
    if (name && name[0]) {
        snprintf(c->authorizer, sizeof(c->authorizer), "%.128s", name);
        az = ic_authorizers_get(ca->reg, name);
        if (az == NULL)
            finish(c, IC_CUSTOM_AUTH_NO_AUTHORIZER, "authorizer %.128s not found",
                   name);
    } else {
        az = ic_authorizers_default(ca->reg);
        if (az == NULL)
            finish(c, IC_CUSTOM_AUTH_NO_AUTHORIZER,
                   "no authorizer named and no default authorizer set");
        else
            snprintf(c->authorizer, sizeof(c->authorizer), "%s", az->name);
    }
    free(named);
    if (az && !az->is_active && !req->allow_inactive) {
        finish(c, IC_CUSTOM_AUTH_NO_AUTHORIZER, "authorizer %s is INACTIVE",
               az->name);
        az = NULL;
    }
    return az;
}

int ic_custom_auth_invoke(ic_custom_auth_t *ca, const ic_custom_auth_req_t *req,
                          ic_custom_auth_cb cb, void *data,
                          ic_custom_auth_call_t **out) {
    const ic_authorizer_t *az;
    call_t *c;
    char *token = NULL, *sig = NULL, *event = NULL, why[300];
    const char *url;
    bool verified = false;
    int rc;
    if (out)
        *out = NULL;
    if (ca->is_stopping)
        return IC_ECLOSED;
    c = ic_xcalloc(1, sizeof(*c));
    c->ca = ca;
    c->cb = cb;
    c->data = data;
    ca->n_calls++;
    if (out)
        *out = c;
    if (req->connection_id && req->connection_id[0])
        snprintf(c->conn_id, sizeof(c->conn_id), "%.128s", req->connection_id);
    else
        ic_str_uuid(c->conn_id);
    if ((az = pick(ca, req, c)) == NULL)
        return 0;
    c->caching_for_http = az->caching_for_http;
    c->generation = ic_authorizers_generation(ca->reg);
    token = req->token ? ic_xstrdup(req->token)
            : az->token_key_name ? ic_custom_auth_param(req, az->token_key_name)
                                 : NULL;
    if (!az->signing_disabled) {
        /* aws-iot-auth.md 6.3: a bad signature never reaches the function */
        sig = req->signature ? ic_xstrdup(req->signature)
                             : ic_custom_auth_param(req, IC_CUSTOM_AUTH_SIG_PARAM);
        if (token == NULL) {
            finish(c, IC_CUSTOM_AUTH_BAD_CREDENTIALS, "token missing (%s)",
                   az->token_key_name ? az->token_key_name : "no tokenKeyName");
            goto out;
        }
        if (sig == NULL || sig[0] == '\0') {
            finish(c, IC_CUSTOM_AUTH_BAD_CREDENTIALS, "token signature missing");
            goto out;
        }
        if (ic_custom_auth_verify(az, token, sig, why, sizeof(why)) != 0) {
            finish(c, IC_CUSTOM_AUTH_BAD_CREDENTIALS, "%s", why);
            goto out;
        }
        verified = true;
    }
    /* A result is reused only for the same credentials: MQTT ones (the
     * CONNECT's username, password, client ID are in the key) or a token;
     * an HTTP request (HTTPS Publish, a WebSocket upgrade) only when the
     * authorizer enables caching for HTTP and has a token - the function
     * sees every header and the query, which the key does not hold. */
    if (!req->no_cache &&
        (!(req->protocols & IC_CUSTOM_AUTH_HTTP) ||
         (az->caching_for_http && token != NULL && token[0] != '\0'))) {
        cache_key(req, az->name, token, c->key);
        if (cache_get(ca, c->key, &c->resp)) {
            c->is_cached = true;
            finish(c, IC_CUSTOM_AUTH_OK, "%s", "");
            goto out;
        }
    }
    if (ca->env.http == NULL) {
        finish(c, IC_CUSTOM_AUTH_FAILED, "no transport for authorizer functions");
        goto out;
    }
    event = ic_custom_auth_event(req, token, verified, c->conn_id);
    if ((url = function_url(ca, az->function_arn)) != NULL) {
        rc = post_url(c, url, event);
        if (rc != 0)
            snprintf(why, sizeof(why), "cannot POST to %.200s: %s", url,
                     ic_errname(rc));
    } else if (ca->env.lambda_endpoint && ca->env.lambda_endpoint[0]) {
        rc = invoke_lambda(c, az->function_arn, event, why, sizeof(why));
    } else {
        finish(c, IC_CUSTOM_AUTH_FAILED,
               "no authorizer_function line for %.300s and no "
               "aws_service_endpoint for Lambda Invoke", az->function_arn);
        goto out;
    }
    if (rc != 0)
        finish(c, IC_CUSTOM_AUTH_FAILED, "authorizer function unreachable: %s", why);
    else
        c->is_in_transport = true;
out:
    cJSON_free(event);
    free(token);
    free(sig);
    return 0;
}

/* ---- stop ------------------------------------------------------------------------------ */

static void on_idle_closed(uv_handle_t *h) {
    ic_custom_auth_t *ca = h->data;
    if (ca->stop_cb)
        ca->stop_cb(ca->stop_data);
}

void ic_custom_auth_stop(ic_custom_auth_t *ca, ic_done_cb cb, void *data) {
    ca->is_stopping = true;
    ca->stop_cb = cb;
    ca->stop_data = data;
    uv_idle_stop(&ca->idle);
    drain(ca);
    if (ca->n_calls > 0) /* a transport that did not complete: a wiring bug */
        ic_log_warn("custom auth stopped with calls in flight", "calls=%zu",
                    ca->n_calls);
    uv_close((uv_handle_t *)&ca->idle, on_idle_closed);
}
