/* test_custom_auth.c - custom authorizers: the registry's rules and its
 * store round trip (iot/authorizers.c), the pure parts of custom_auth
 * (parameters, signatures with keys made here by OpenSSL, the event JSON,
 * the response checks), invocations through a fake transport on a real
 * loop (URL and Lambda Invoke routes, timeouts, the cache, cancellation,
 * callbacks never inside invoke), and a connection carrying an
 * authorizer's documents (auth.c ic_auth_conn_set_inline). */
#include "suites.h"

#include "iotcored/auth.h"
#include "iotcored/authorizers.h"
#include "iotcored/custom_auth.h"
#include "iotcored/error.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char why[512];

/* ---- keys ----------------------------------------------------------------------- */

static EVP_PKEY *rsa_key(int bits) {
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    ck_assert_ptr_nonnull(k);
    return k;
}

static char *pub_pem(EVP_PKEY *k) {
    BIO *b = BIO_new(BIO_s_mem());
    char *p, *out;
    long n;
    ck_assert_int_eq(PEM_write_bio_PUBKEY(b, k), 1);
    n = BIO_get_mem_data(b, &p);
    out = strndup(p, (size_t)n);
    BIO_free(b);
    return out;
}

/* base64 of RSA-SHA256(token) */
static char *sign(EVP_PKEY *k, const char *token) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char sig[1024];
    size_t n = sizeof(sig);
    char *out = malloc(2048);
    ck_assert_int_eq(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
    ck_assert_int_eq(EVP_DigestSign(md, sig, &n, (const unsigned char *)token,
                                    strlen(token)), 1);
    EVP_MD_CTX_free(md);
    EVP_EncodeBlock((unsigned char *)out, sig, (int)n);
    return out;
}

/* percent-encode every byte but unreserved ones (as a browser would) */
static char *urlenc(const char *s) {
    char *out = malloc(strlen(s) * 3 + 1), *o = out;
    for (; *s; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
            (*s >= '0' && *s <= '9') || strchr("-_.~", *s))
            *o++ = *s;
        else
            o += sprintf(o, "%%%02X", (unsigned char)*s);
    }
    *o = '\0';
    return out;
}

static EVP_PKEY *key1, *key2;
static char *pem1, *pem2;

static void keys_setup(void) {
    if (key1 == NULL) {
        key1 = rsa_key(2048);
        key2 = rsa_key(2048);
        pem1 = pub_pem(key1);
        pem2 = pub_pem(key2);
    }
}

/* An authorizer in a memory-only registry. */
static ic_authorizers_t *registry_with(const char *name, bool signing, const char *pem) {
    ic_authorizers_t *a = ic_authorizers_new(NULL);
    ic_authorizer_key_t k = {"k1", (char *)(uintptr_t)pem};
    ic_authorizer_spec_t s;
    memset(&s, 0, sizeof(s));
    s.function_arn = "arn:aws:lambda:us-west-2:123456789012:function:auth";
    s.signing_disabled = !signing;
    if (signing) {
        s.token_key_name = "tok";
        s.keys = &k;
        s.n_keys = 1;
        s.has_keys = true;
    }
    ck_assert_msg(ic_authorizers_create(a, name, &s, 1000, why, sizeof(why)) == 0,
                  "%s", why);
    return a;
}

/* ---- the registry --------------------------------------------------------------- */

START_TEST(registry_rules) {
    ic_authorizers_t *a = ic_authorizers_new(NULL);
    ic_authorizer_spec_t s;
    ic_authorizer_key_t keys[2];
    const ic_authorizer_t *az, *list[40];
    char name[32];
    uint64_t g;
    int i;
    EVP_PKEY *small = rsa_key(1024), *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char *small_pem = pub_pem(small), *ec_pem = pub_pem(ec);
    keys_setup();
    memset(&s, 0, sizeof(s));
    /* signing enabled (the default) needs a token key name and keys */
    s.function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f";
    ck_assert_int_eq(ic_authorizers_create(a, "a1", &s, 1, why, sizeof(why)), IC_EINVAL);
    ck_assert_str_eq(why, "tokenKeyName and tokenSigningPublicKeys are required when "
                          "signing is enabled");
    s.token_key_name = "token";
    keys[0] = (ic_authorizer_key_t){"k:1", small_pem};
    s.keys = keys;
    s.n_keys = 1;
    s.has_keys = true;
    ck_assert_int_eq(ic_authorizers_create(a, "a1", &s, 1, why, sizeof(why)), IC_EINVAL);
    ck_assert_str_eq(why, "The public key k:1 is an RSA key of 1024 bits; at least "
                          "2048 are required");
    keys[0].pem = ec_pem;
    ck_assert_int_eq(ic_authorizers_create(a, "a1", &s, 1, why, sizeof(why)), IC_EINVAL);
    ck_assert_str_eq(why, "The public key k:1 is not an RSA public key in PEM form");
    keys[0].pem = "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n";
    ck_assert_int_eq(ic_authorizers_create(a, "a1", &s, 1, why, sizeof(why)), IC_EINVAL);
    keys[0] = (ic_authorizer_key_t){"k2", pem2};
    keys[1] = (ic_authorizer_key_t){"k1", pem1};
    s.n_keys = 2;
    ck_assert_int_eq(ic_authorizers_create(a, "bad name", &s, 1, why, sizeof(why)),
                     IC_EINVAL);
    ck_assert_int_eq(ic_authorizers_create(a, "a1", &s, 5, why, sizeof(why)), 0);
    az = ic_authorizers_get(a, "a1");
    ck_assert_ptr_nonnull(az);
    ck_assert(az->is_active); /* ACTIVE unless told */
    ck_assert(!az->signing_disabled);
    ck_assert_str_eq(az->keys[0].name, "k1"); /* sorted */
    ck_assert_str_eq(az->tags, "[]");
    ck_assert_int_eq(ic_authorizers_create(a, "a1", &s, 1, why, sizeof(why)), IC_EEXIST);
    ck_assert_str_eq(why, "The authorizer a1 already exists");
    /* update: keys emptied while signing is enabled */
    memset(&s, 0, sizeof(s));
    s.has_keys = true;
    ck_assert_int_eq(ic_authorizers_update(a, "a1", &s, 6, why, sizeof(why)), IC_EINVAL);
    ck_assert_int_eq((int)ic_authorizers_get(a, "a1")->n_keys, 2); /* unchanged */
    memset(&s, 0, sizeof(s));
    s.has_status = true;
    s.is_active = false;
    s.function_arn = ic_authorizers_get(a, "a1")->function_arn; /* its own string */
    g = ic_authorizers_generation(a);
    ck_assert_int_eq(ic_authorizers_update(a, "a1", &s, 7, why, sizeof(why)), 0);
    ck_assert(ic_authorizers_generation(a) > g);
    ck_assert(!ic_authorizers_get(a, "a1")->is_active);
    ck_assert_int_eq((int)ic_authorizers_get(a, "a1")->updated_ms, 7);
    ck_assert_int_eq(ic_authorizers_update(a, "zz", &s, 7, why, sizeof(why)),
                     IC_ENOTFOUND);
    /* default: set, set again (no-op), another (conflict), delete (conflict) */
    ck_assert_int_eq(ic_authorizers_set_default(a, "nope", why, sizeof(why)),
                     IC_ENOTFOUND);
    ck_assert_int_eq(ic_authorizers_set_default(a, "a1", why, sizeof(why)), 0);
    ck_assert_int_eq(ic_authorizers_set_default(a, "a1", why, sizeof(why)), 0);
    memset(&s, 0, sizeof(s));
    s.function_arn = "arn:x";
    s.signing_disabled = true;
    ck_assert_int_eq(ic_authorizers_create(a, "a2", &s, 1, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_authorizers_set_default(a, "a2", why, sizeof(why)), IC_EEXIST);
    ck_assert_str_eq(why, "The default authorizer is already set (name=a1)");
    ck_assert_int_eq(ic_authorizers_delete(a, "a1", why, sizeof(why)), IC_ECONFLICT);
    ck_assert_str_eq(why, "Cannot delete the default authorizer (name=a1): clear the "
                          "default authorizer first");
    ck_assert_int_eq(ic_authorizers_delete(a, "a2", why, sizeof(why)), IC_ECONFLICT);
    ck_assert_str_eq(why, "Cannot delete an ACTIVE authorizer (name=a2): set its "
                          "status to INACTIVE first");
    ck_assert_int_eq(ic_authorizers_clear_default(a, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_authorizers_clear_default(a, why, sizeof(why)), IC_ENOTFOUND);
    ck_assert_ptr_null(ic_authorizers_default(a));
    ck_assert_int_eq(ic_authorizers_delete(a, "a1", why, sizeof(why)), 0);
    ck_assert_int_eq(ic_authorizers_delete(a, "a1", why, sizeof(why)), IC_ENOTFOUND);
    /* the account limit */
    for (i = 0; i < IC_AUTHORIZER_MAX - 1; i++) {
        snprintf(name, sizeof(name), "n%02d", i);
        ck_assert_int_eq(ic_authorizers_create(a, name, &s, 1, why, sizeof(why)), 0);
    }
    ck_assert_int_eq(ic_authorizers_create(a, "one-more", &s, 1, why, sizeof(why)),
                     IC_ELIMIT);
    ck_assert_int_eq((int)ic_authorizers_list(a, "n29", list, 40), 1);
    ck_assert_str_eq(list[0]->name, "n30");
    ck_assert_int_eq((int)ic_authorizers_list(a, NULL, list, 40), IC_AUTHORIZER_MAX);
    ck_assert_str_eq(list[0]->name, "a2");
    ic_authorizers_free(a);
    free(small_pem);
    free(ec_pem);
    EVP_PKEY_free(small);
    EVP_PKEY_free(ec);
}
END_TEST

static void run_until_closed(uv_loop_t *loop, ic_db_t *db) {
    ic_db_close(db, NULL, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(loop), 0);
}

START_TEST(store_round_trip) {
    char dir[] = "/tmp/ic_authz_XXXXXX", path[128], err[256], cmd[160];
    uv_loop_t loop;
    ic_db_t *db;
    ic_authorizers_t *a;
    const ic_authorizer_t *az;
    ic_authorizer_key_t k[1];
    ic_authorizer_spec_t s;
    keys_setup();
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/iotcored.db", dir);
    uv_loop_init(&loop);
    ck_assert_int_eq(ic_db_open(&db, &loop, path, IC_SYNC_NORMAL, err, sizeof(err)), 0);
    a = ic_authorizers_new(db);
    memset(&s, 0, sizeof(s));
    k[0] = (ic_authorizer_key_t){"main", pem1};
    s.function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f";
    s.token_key_name = "tkn";
    s.keys = k;
    s.n_keys = 1;
    s.has_keys = true;
    s.has_caching = true;
    s.caching_for_http = true;
    s.tags = "[{\"Key\":\"a\",\"Value\":\"b\"}]";
    ck_assert_int_eq(ic_authorizers_create(a, "kept", &s, 11, why, sizeof(why)), 0);
    memset(&s, 0, sizeof(s));
    s.function_arn = "arn:g";
    s.signing_disabled = true;
    s.has_status = true;
    ck_assert_int_eq(ic_authorizers_create(a, "gone", &s, 12, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_authorizers_create(a, "dflt", &s, 13, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_authorizers_set_default(a, "dflt", why, sizeof(why)), 0);
    ck_assert_int_eq(ic_authorizers_delete(a, "gone", why, sizeof(why)), 0);
    ic_authorizers_free(a);
    run_until_closed(&loop, db);

    uv_loop_init(&loop);
    ck_assert_int_eq(ic_db_open(&db, &loop, path, IC_SYNC_NORMAL, err, sizeof(err)), 0);
    a = ic_authorizers_new(db);
    ck_assert_int_eq(ic_authorizers_load(a), 0);
    ck_assert_int_eq((int)ic_authorizers_count(a), 2);
    az = ic_authorizers_get(a, "kept");
    ck_assert_ptr_nonnull(az);
    ck_assert_str_eq(az->function_arn, "arn:aws:lambda:us-east-1:123456789012:function:f");
    ck_assert_str_eq(az->token_key_name, "tkn");
    ck_assert_int_eq((int)az->n_keys, 1);
    ck_assert_str_eq(az->keys[0].name, "main");
    ck_assert_str_eq(az->keys[0].pem, pem1);
    ck_assert(az->caching_for_http && az->is_active && !az->signing_disabled);
    ck_assert_str_eq(az->tags, "[{\"Key\":\"a\",\"Value\":\"b\"}]");
    ck_assert_int_eq((int)az->created_ms, 11);
    ck_assert_ptr_nonnull(ic_authorizers_default(a));
    ck_assert_str_eq(ic_authorizers_default(a)->name, "dflt");
    ck_assert_ptr_null(ic_authorizers_get(a, "gone"));
    ck_assert_ptr_null(ic_authorizers_get(a, "dflt")->token_key_name);
    ic_authorizers_free(a);
    run_until_closed(&loop, db);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- pure parts ------------------------------------------------------------------- */

START_TEST(params) {
    ic_http_header_t h[2] = {{"X-Amz-CustomAuthorizer-Name", 27, "fromHeader", 10},
                             {"tok", 3, "a%20b", 5}};
    ic_custom_auth_req_t r;
    char *v;
    memset(&r, 0, sizeof(r));
    r.mqtt_username = "user?x-amz-customauthorizer-name=fromUser&tok=t%2B1&"
                      "x-amz-customauthorizer-signature=c2ln%3D&SDK=PythonV2&"
                      "Version=1.2";
    v = ic_custom_auth_param(&r, "x-amz-customauthorizer-name");
    ck_assert_str_eq(v, "fromUser");
    free(v);
    v = ic_custom_auth_param(&r, "tok");
    ck_assert_str_eq(v, "t+1"); /* percent-decoded; a '+' stays a '+' */
    free(v);
    v = ic_custom_auth_param(&r, "x-amz-customauthorizer-signature");
    ck_assert_str_eq(v, "c2ln=");
    free(v);
    ck_assert_ptr_null(ic_custom_auth_param(&r, "user"));
    ck_assert_ptr_null(ic_custom_auth_param(&r, "Tok")); /* query: case counts */
    r.query = "tok=fromQuery&empty";
    v = ic_custom_auth_param(&r, "tok");
    ck_assert_str_eq(v, "fromQuery");
    free(v);
    v = ic_custom_auth_param(&r, "empty");
    ck_assert_str_eq(v, "");
    free(v);
    r.headers = h;
    r.n_headers = 2;
    v = ic_custom_auth_param(&r, "x-amz-customauthorizer-name");
    ck_assert_str_eq(v, "fromHeader"); /* headers first, name without case */
    free(v);
    v = ic_custom_auth_param(&r, "tok");
    ck_assert_str_eq(v, "a%20b"); /* a header value is as sent */
    free(v);
    r.mqtt_username = "plain";
    r.headers = NULL;
    r.query = NULL;
    ck_assert_ptr_null(ic_custom_auth_param(&r, "tok"));
}
END_TEST

START_TEST(signatures) {
    uint8_t out[600];
    size_t n;
    char *s, *enc, *form, *url;
    ic_authorizers_t *a;
    const ic_authorizer_t *az;
    ic_authorizer_key_t k[2];
    ic_authorizer_spec_t sp;
    keys_setup();
    ck_assert_int_eq(ic_custom_auth_decode_signature("AAFwdw==", out, sizeof(out), &n), 0);
    ck_assert_int_eq((int)n, 4);
    ck_assert(memcmp(out, "\x00\x01pw", 4) == 0);
    ck_assert_int_eq(ic_custom_auth_decode_signature("AAFwdw", out, sizeof(out), &n), 0);
    ck_assert_int_eq((int)n, 4);
    ck_assert_int_eq(ic_custom_auth_decode_signature("AAFwdw%3D%3D", out, sizeof(out), &n), 0);
    ck_assert_int_eq((int)n, 4);
    ck_assert_int_eq(ic_custom_auth_decode_signature("+/8=", out, sizeof(out), &n), 0);
    ck_assert(n == 2 && out[0] == 0xfb && out[1] == 0xff);
    ck_assert_int_eq(ic_custom_auth_decode_signature(" /8=", out, sizeof(out), &n), 0);
    ck_assert(n == 2 && out[0] == 0xfb); /* a form-decoded '+' */
    ck_assert_int_eq(ic_custom_auth_decode_signature("-_8", out, sizeof(out), &n), 0);
    ck_assert(n == 2 && out[0] == 0xfb && out[1] == 0xff); /* base64url */
    ck_assert_int_eq(ic_custom_auth_decode_signature("", out, sizeof(out), &n), IC_EMALFORMED);
    ck_assert_int_eq(ic_custom_auth_decode_signature("a", out, sizeof(out), &n), IC_EMALFORMED);
    ck_assert_int_eq(ic_custom_auth_decode_signature("ab!c", out, sizeof(out), &n), IC_EMALFORMED);
    ck_assert_int_eq(ic_custom_auth_decode_signature("ab=c", out, sizeof(out), &n), IC_EMALFORMED);
    ck_assert_int_eq(ic_custom_auth_decode_signature("AAAAAAAA", out, 3, &n), IC_EMALFORMED);

    /* a signature made here verifies against the key; twice encoded forms
     * of it too; another token or key does not */
    a = ic_authorizers_new(NULL);
    memset(&sp, 0, sizeof(sp));
    k[0] = (ic_authorizer_key_t){"other", pem2};
    k[1] = (ic_authorizer_key_t){"right", pem1};
    sp.function_arn = "arn:f";
    sp.token_key_name = "t";
    sp.keys = k;
    sp.n_keys = 2;
    sp.has_keys = true;
    ck_assert_int_eq(ic_authorizers_create(a, "az", &sp, 1, why, sizeof(why)), 0);
    az = ic_authorizers_get(a, "az");
    s = sign(key1, "my-token");
    ck_assert_int_eq(ic_custom_auth_verify(az, "my-token", s, why, sizeof(why)), 0);
    enc = urlenc(s);
    ck_assert_ptr_nonnull(strchr(enc, '%'));
    ck_assert_int_eq(ic_custom_auth_verify(az, "my-token", enc, why, sizeof(why)), 0);
    form = strdup(s);
    for (url = form; *url; url++)
        if (*url == '+')
            *url = ' ';
    ck_assert_int_eq(ic_custom_auth_verify(az, "my-token", form, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_custom_auth_verify(az, "my-tokeN", s, why, sizeof(why)),
                     IC_EDENIED);
    ck_assert_str_eq(why, "token signature invalid");
    ck_assert_int_eq(ic_custom_auth_verify(az, "my-token", "***", why, sizeof(why)),
                     IC_EMALFORMED);
    ck_assert_str_eq(why, "token signature is not base64");
    free(s);
    s = sign(key2, "my-token"); /* the other listed key */
    ck_assert_int_eq(ic_custom_auth_verify(az, "my-token", s, why, sizeof(why)), 0);
    free(s);
    free(enc);
    free(form);
    ic_authorizers_free(a);
}
END_TEST

START_TEST(event_json) {
    ic_http_header_t h[3] = {{"Host", 4, "h", 1}, {"X-Tok", 5, "a", 1},
                             {"X-Tok", 5, "b", 1}};
    ic_custom_auth_req_t r;
    char *e;
    memset(&r, 0, sizeof(r));
    r.protocols = IC_CUSTOM_AUTH_TLS | IC_CUSTOM_AUTH_HTTP | IC_CUSTOM_AUTH_MQTT;
    r.server_name = "iot.example.com";
    r.headers = h;
    r.n_headers = 3;
    r.query = "a=1&b=2";
    r.mqtt_username = "u?x=1";
    r.mqtt_password = (const uint8_t *)"\x00\x01pw";
    r.mqtt_password_len = 4;
    r.has_mqtt_password = true;
    r.mqtt_client_id = "c1";
    e = ic_custom_auth_event(&r, "tok", true, "conn-1");
    ck_assert_str_eq(e, "{\"token\":\"tok\",\"signatureVerified\":true,\"protocols\":"
                        "[\"tls\",\"http\",\"mqtt\"],\"protocolData\":{\"tls\":"
                        "{\"serverName\":\"iot.example.com\"},\"http\":{\"headers\":"
                        "{\"Host\":\"h\",\"X-Tok\":\"a,b\"},\"queryString\":\"?a=1&b=2\"},"
                        "\"mqtt\":{\"username\":\"u?x=1\",\"password\":\"AAFwdw==\","
                        "\"clientId\":\"c1\"}},\"connectionMetadata\":{\"id\":"
                        "\"conn-1\"}}");
    free(e);
    /* MQTT on ALPN mqtt: no token (signing disabled), no client ID sent */
    memset(&r, 0, sizeof(r));
    r.protocols = IC_CUSTOM_AUTH_TLS | IC_CUSTOM_AUTH_MQTT;
    r.server_name = "x";
    r.mqtt_username = "u";
    e = ic_custom_auth_event(&r, NULL, false, "c");
    ck_assert_str_eq(e, "{\"signatureVerified\":false,\"protocols\":[\"tls\",\"mqtt\"],"
                        "\"protocolData\":{\"tls\":{\"serverName\":\"x\"},\"mqtt\":"
                        "{\"username\":\"u\"}},\"connectionMetadata\":{\"id\":\"c\"}}");
    free(e);
}
END_TEST

#define POLICY "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\"," \
               "\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}"

static int parse(const char *body, ic_custom_auth_resp_t *r) {
    int rc = ic_custom_auth_parse((const uint8_t *)body, strlen(body), r, why,
                                  sizeof(why));
    return rc;
}

static void parse_fails(const char *body, const char *reason) {
    ic_custom_auth_resp_t r;
    ck_assert_int_eq(parse(body, &r), IC_EMALFORMED);
    ck_assert_msg(strcmp(why, reason) == 0, "%s: want \"%s\", got \"%s\"", body,
                  reason, why);
    ic_custom_auth_resp_free(&r);
}

#define OK_TAIL ",\"disconnectAfterInSeconds\":86400,\"refreshAfterInSeconds\":300}"

START_TEST(responses) {
    ic_custom_auth_resp_t r;
    char big[4096], many[8192];
    int i;
    /* documents as objects and as JSON strings */
    ck_assert_int_eq(parse("{\"isAuthenticated\":true,\"principalId\":\"dev1\","
                           "\"policyDocuments\":[" POLICY ",\"" 
                           "{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":"
                           "{\\\"Effect\\\":\\\"Deny\\\",\\\"Action\\\":\\\"iot:*\\\","
                           "\\\"Resource\\\":\\\"*\\\"}}\"]" OK_TAIL, &r), 0);
    ck_assert(r.is_authenticated);
    ck_assert_str_eq(r.principal_id, "dev1");
    ck_assert_int_eq((int)r.n_docs, 2);
    ck_assert_str_eq(r.docs[0], POLICY);
    ck_assert_str_eq(r.docs[1], "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":"
                                "\"Deny\",\"Action\":\"iot:*\",\"Resource\":\"*\"}}");
    ck_assert_int_eq((int)r.disconnect_after_s, 86400);
    ck_assert_int_eq((int)r.refresh_after_s, 300);
    ic_custom_auth_resp_free(&r);
    /* not authenticated: only isAuthenticated is needed */
    ck_assert_int_eq(parse("{\"isAuthenticated\":false}", &r), 0);
    ck_assert(!r.is_authenticated);
    ck_assert_ptr_null(r.principal_id);
    ic_custom_auth_resp_free(&r);
    ck_assert_int_eq(parse("{\"isAuthenticated\":true,\"principalId\":\"p\","
                           "\"policyDocuments\":[],\"extra\":1" OK_TAIL, &r), 0);
    ck_assert_int_eq((int)r.n_docs, 0);
    ic_custom_auth_resp_free(&r);
    {
        /* a string document padded with whitespace (which AWS's length
         * rule does not count) is kept compact */
        size_t pad = 100000, k;
        char *body = malloc(pad + 512);
        int n = snprintf(body, 512, "{\"isAuthenticated\":true,\"principalId\":\"p\","
                         "\"policyDocuments\":[\"{\\\"Version\\\":");
        for (k = 0; k < pad; k++)
            body[n + k] = ' ';
        snprintf(body + n + pad, 512, "\\\"2012-10-17\\\",\\\"Statement\\\":"
                 "{\\\"Effect\\\":\\\"Allow\\\",\\\"Action\\\":\\\"iot:*\\\","
                 "\\\"Resource\\\":\\\"*\\\"}}\"]" OK_TAIL);
        ck_assert_int_eq(parse(body, &r), 0);
        ck_assert_str_eq(r.docs[0], "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":"
                                    "\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}}");
        ic_custom_auth_resp_free(&r);
        free(body);
    }

    parse_fails("[]", "not a JSON object");
    parse_fails("{\"isAuthenticated\":true", "not a JSON object");
    parse_fails("{}", "isAuthenticated must be a boolean");
    parse_fails("{\"isAuthenticated\":\"true\"}", "isAuthenticated must be a boolean");
    parse_fails("{\"isAuthenticated\":true}", "principalId is required");
    parse_fails("{\"isAuthenticated\":true,\"principalId\":\"a-b\"}",
                "principalId must match [a-zA-Z0-9]{1,128}");
    parse_fails("{\"isAuthenticated\":false,\"principalId\":\"\"}",
                "principalId must match [a-zA-Z0-9]{1,128}");
    memset(big, 'a', 129);
    snprintf(big + 129, sizeof(big) - 129, "\"}");
    snprintf(many, sizeof(many), "{\"isAuthenticated\":true,\"principalId\":\"%s", big);
    parse_fails(many, "principalId must match [a-zA-Z0-9]{1,128}");
    parse_fails("{\"isAuthenticated\":true,\"principalId\":\"p\"}",
                "policyDocuments is required");
    parse_fails("{\"isAuthenticated\":true,\"principalId\":\"p\",\"policyDocuments\":{}}",
                "policyDocuments must be an array");
    parse_fails("{\"isAuthenticated\":true,\"principalId\":\"p\",\"policyDocuments\":[1]}",
                "policyDocuments[0] must be a JSON object or a string");
    parse_fails("{\"isAuthenticated\":true,\"principalId\":\"p\",\"policyDocuments\":"
                "[" POLICY ",\"not json\"]}",
                "policyDocuments[1]: Policy document is not valid JSON");
    parse_fails("{\"isAuthenticated\":true,\"principalId\":\"p\",\"policyDocuments\":"
                "[{\"Statement\":[{\"Effect\":\"Maybe\",\"Action\":\"iot:*\","
                "\"Resource\":\"*\"}]}]}",
                "policyDocuments[0]: Policy document is malformed: Statement[0].Effect "
                "must be Allow or Deny");
    /* 11 documents */
    snprintf(many, sizeof(many), "{\"isAuthenticated\":true,\"principalId\":\"p\","
                                 "\"policyDocuments\":[");
    for (i = 0; i < 11; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s" POLICY,
                 i ? "," : "");
    snprintf(many + strlen(many), sizeof(many) - strlen(many), "]" OK_TAIL);
    parse_fails(many, "policyDocuments holds 11 documents; at most 10");
    /* a document over 2048 characters (whitespace not counted) */
    snprintf(big, sizeof(big), "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                               "\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"");
    while (strlen(big) < 2100)
        strcat(big, "aaaaaaaaaa");
    strcat(big, "\"}]}");
    snprintf(many, sizeof(many), "{\"isAuthenticated\":true,\"principalId\":\"p\","
                                 "\"policyDocuments\":[%s]" OK_TAIL, big);
    parse_fails(many, "policyDocuments[0]: Policy document exceeds the maximum size "
                      "of 2048 characters");
    /* TTLs */
#define HEAD "{\"isAuthenticated\":true,\"principalId\":\"p\",\"policyDocuments\":[],"
    parse_fails(HEAD "\"refreshAfterInSeconds\":300}",
                "disconnectAfterInSeconds is required");
    parse_fails(HEAD "\"disconnectAfterInSeconds\":300}",
                "refreshAfterInSeconds is required");
    parse_fails(HEAD "\"disconnectAfterInSeconds\":299,\"refreshAfterInSeconds\":300}",
                "disconnectAfterInSeconds must be an integer from 300 to 86400");
    parse_fails(HEAD "\"disconnectAfterInSeconds\":300,\"refreshAfterInSeconds\":86401}",
                "refreshAfterInSeconds must be an integer from 300 to 86400");
    parse_fails(HEAD "\"disconnectAfterInSeconds\":300.5,\"refreshAfterInSeconds\":300}",
                "disconnectAfterInSeconds must be an integer from 300 to 86400");
    parse_fails(HEAD "\"disconnectAfterInSeconds\":\"300\",\"refreshAfterInSeconds\":300}",
                "disconnectAfterInSeconds must be an integer from 300 to 86400");
    parse_fails("{\"isAuthenticated\":false,\"refreshAfterInSeconds\":5}",
                "refreshAfterInSeconds must be an integer from 300 to 86400");
    ck_assert_int_eq(parse(HEAD "\"disconnectAfterInSeconds\":300,"
                           "\"refreshAfterInSeconds\":86400}", &r), 0);
    ic_custom_auth_resp_free(&r);
#undef HEAD
}
END_TEST

/* ---- invocations through a fake transport ------------------------------------------ */

typedef struct fake_s {
    int calls;
    char url[1024];
    char headers[4096];          /* "Name: value\n" ... */
    char body[4096];
    uint32_t timeout_ms;
    ic_action_http_done_fn cb;
    void *data;
    int rc;                      /* returned by the request call */
} fake_t;

static bool inside_invoke;

static int fake_http(void *transport, const ic_action_http_req_t *req,
                     ic_action_http_done_fn cb, void *data) {
    fake_t *f = transport;
    size_t i;
    if (f->rc != 0)
        return f->rc;
    f->calls++;
    snprintf(f->url, sizeof(f->url), "%s", req->url);
    f->headers[0] = '\0';
    for (i = 0; i < req->n_headers; i++)
        snprintf(f->headers + strlen(f->headers), sizeof(f->headers) - strlen(f->headers),
                 "%.*s: %.*s\n", (int)req->headers[i].name_len, req->headers[i].name,
                 (int)req->headers[i].value_len, req->headers[i].value);
    snprintf(f->body, sizeof(f->body), "%.*s", (int)req->body_len,
             (const char *)req->body);
    f->timeout_ms = req->timeout_ms;
    f->cb = cb;
    f->data = data;
    return 0;
}

static void complete(fake_t *f, int rc, int status, const char *body,
                     const ic_http_header_t *h, size_t nh) {
    ic_action_http_done_fn cb = f->cb;
    ck_assert_ptr_nonnull(cb);
    f->cb = NULL;
    cb(rc, status, h, nh, (const uint8_t *)body, body ? strlen(body) : 0,
       rc ? "some transport error" : "", f->data);
}

typedef struct got_s {
    int n;
    ic_custom_auth_status_t status;
    char reason[512], authorizer[130], principal[130], conn[130];
    size_t n_docs;
    char doc0[2100];
    uint32_t refresh, disconnect;
    bool cached, caching_for_http;
} got_t;

static void on_result(ic_custom_auth_t *ca, const ic_custom_auth_result_t *r,
                      void *data) {
    got_t *g = data;
    (void)ca;
    ck_assert_msg(!inside_invoke, "callback from inside invoke");
    g->n++;
    g->status = r->status;
    ck_assert_int_eq(r->is_allowed, r->status == IC_CUSTOM_AUTH_OK);
    snprintf(g->reason, sizeof(g->reason), "%s", r->reason);
    snprintf(g->authorizer, sizeof(g->authorizer), "%s", r->authorizer);
    snprintf(g->principal, sizeof(g->principal), "%s", r->principal_id);
    snprintf(g->conn, sizeof(g->conn), "%s", r->connection_id);
    g->n_docs = r->n_policy_documents;
    snprintf(g->doc0, sizeof(g->doc0), "%s",
             r->n_policy_documents ? r->policy_documents[0] : "");
    g->refresh = r->refresh_after_s;
    g->disconnect = r->disconnect_after_s;
    g->cached = r->is_cached;
    g->caching_for_http = r->caching_for_http;
}

typedef struct rig_s {
    uv_loop_t loop;
    fake_t fake;
    ic_authorizers_t *reg;
    ic_custom_auth_t *ca;
    ic_cfg_pairs_t pairs;
    char *pv[4];
} rig_t;

static void rig_up(rig_t *r, ic_authorizers_t *reg, const char *url,
                   const char *lambda) {
    ic_custom_auth_env_t env;
    memset(r, 0, sizeof(*r));
    uv_loop_init(&r->loop);
    r->reg = reg;
    r->pv[0] = "arn:aws:lambda:us-west-2:123456789012:function:auth";
    r->pv[1] = (char *)(uintptr_t)url;
    r->pairs.v = r->pv;
    r->pairs.n = url ? 1 : 0;
    memset(&env, 0, sizeof(env));
    env.http = fake_http;
    env.http_transport = &r->fake;
    env.functions = &r->pairs;
    env.lambda_endpoint = lambda;
    env.lambda_region = "eu-west-1";
    env.access_key = "AKIDTEST";
    env.secret_key = "secret";
    r->ca = ic_custom_auth_new(&r->loop, reg, &env);
}

static void rig_down(rig_t *r) {
    ic_custom_auth_stop(r->ca, NULL, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    ck_assert_int_eq((int)ic_custom_auth_pending(r->ca), 0);
    ic_custom_auth_free(r->ca);
    ic_authorizers_free(r->reg);
    ck_assert_int_eq(uv_loop_close(&r->loop), 0);
}

static int invoke(rig_t *r, const ic_custom_auth_req_t *req, got_t *g,
                  ic_custom_auth_call_t **call) {
    int rc;
    inside_invoke = true;
    rc = ic_custom_auth_invoke(r->ca, req, on_result, g, call);
    inside_invoke = false;
    return rc;
}

static void spin(rig_t *r) {
    uv_run(&r->loop, UV_RUN_NOWAIT);
}

#define ALLOW "{\"isAuthenticated\":true,\"principalId\":\"dev1\"," \
              "\"policyDocuments\":[" POLICY "]" OK_TAIL

START_TEST(invoke_url) {
    rig_t r;
    got_t g;
    ic_custom_auth_req_t req;
    char *sig;
    keys_setup();
    rig_up(&r, registry_with("az", true, pem1), "http://127.0.0.1:9/auth", NULL);
    memset(&req, 0, sizeof(req));
    req.protocols = IC_CUSTOM_AUTH_TLS | IC_CUSTOM_AUTH_MQTT;
    req.server_name = "ep";
    req.mqtt_client_id = "c1";
    req.connection_id = "conn-7";

    /* no authorizer named and no default: known at once, delivered later */
    memset(&g, 0, sizeof(g));
    req.mqtt_username = "u";
    ck_assert_int_eq(invoke(&r, &req, &g, NULL), 0);
    ck_assert_int_eq(g.n, 0);
    spin(&r);
    ck_assert_int_eq(g.n, 1);
    ck_assert_int_eq(g.status, IC_CUSTOM_AUTH_NO_AUTHORIZER);
    ck_assert_str_eq(g.reason, "no authorizer named and no default authorizer set");
    /* named but unknown */
    memset(&g, 0, sizeof(g));
    req.mqtt_username = "u?x-amz-customauthorizer-name=nope";
    invoke(&r, &req, &g, NULL);
    spin(&r);
    ck_assert_str_eq(g.reason, "authorizer nope not found");
    /* the token or its signature missing, or a bad signature: the function
     * is not called */
    memset(&g, 0, sizeof(g));
    req.mqtt_username = "u?x-amz-customauthorizer-name=az";
    invoke(&r, &req, &g, NULL);
    spin(&r);
    ck_assert_int_eq(g.status, IC_CUSTOM_AUTH_BAD_CREDENTIALS);
    ck_assert_str_eq(g.reason, "token missing (tok)");
    memset(&g, 0, sizeof(g));
    req.mqtt_username = "u?x-amz-customauthorizer-name=az&tok=T1";
    invoke(&r, &req, &g, NULL);
    spin(&r);
    ck_assert_str_eq(g.reason, "token signature missing");
    sig = sign(key2, "T1"); /* not the authorizer's key */
    {
        char user[1200];
        char *enc = urlenc(sig);
        snprintf(user, sizeof(user),
                 "u?x-amz-customauthorizer-name=az&tok=T1&"
                 "x-amz-customauthorizer-signature=%s&SDK=PythonV2&Version=1", enc);
        memset(&g, 0, sizeof(g));
        req.mqtt_username = user;
        invoke(&r, &req, &g, NULL);
        spin(&r);
        ck_assert_str_eq(g.reason, "token signature invalid");
        ck_assert_int_eq(r.fake.calls, 0);
        free(enc);
        free(sig);
        sig = sign(key1, "T1");
        enc = urlenc(sig);
        snprintf(user, sizeof(user),
                 "u?x-amz-customauthorizer-name=az&tok=T1&"
                 "x-amz-customauthorizer-signature=%s&SDK=PythonV2&Version=1", enc);
        free(enc);
        /* good: the event goes to the mapped URL, with 5 s */
        memset(&g, 0, sizeof(g));
        ck_assert_int_eq(invoke(&r, &req, &g, NULL), 0);
        ck_assert_int_eq(r.fake.calls, 1);
        ck_assert_str_eq(r.fake.url, "http://127.0.0.1:9/auth");
        ck_assert_int_eq((int)r.fake.timeout_ms, 5000);
        ck_assert_str_eq(r.fake.headers, "Content-Type: application/json\n");
        ck_assert_ptr_nonnull(strstr(r.fake.body, "{\"token\":\"T1\",\"signatureVerified\""
                                                  ":true,\"protocols\":[\"tls\",\"mqtt\"]"));
        ck_assert_ptr_nonnull(strstr(r.fake.body, "\"connectionMetadata\":{\"id\":"
                                                  "\"conn-7\"}"));
        spin(&r);
        ck_assert_int_eq(g.n, 0);
        complete(&r.fake, 0, 200, ALLOW, NULL, 0);
        ck_assert_int_eq(g.n, 0); /* not from inside the transport's callback */
        spin(&r);
        ck_assert_int_eq(g.n, 1);
        ck_assert_int_eq(g.status, IC_CUSTOM_AUTH_OK);
        ck_assert_str_eq(g.reason, "");
        ck_assert_str_eq(g.authorizer, "az");
        ck_assert_str_eq(g.principal, "dev1");
        ck_assert_str_eq(g.conn, "conn-7");
        ck_assert_int_eq((int)g.n_docs, 1);
        ck_assert_str_eq(g.doc0, POLICY);
        ck_assert_int_eq((int)g.refresh, 300);
        ck_assert_int_eq((int)g.disconnect, 86400);
        ck_assert(!g.cached);
        /* the same credentials again: from the cache */
        memset(&g, 0, sizeof(g));
        invoke(&r, &req, &g, NULL);
        ck_assert_int_eq(r.fake.calls, 1);
        spin(&r);
        ck_assert_int_eq(g.status, IC_CUSTOM_AUTH_OK);
        ck_assert(g.cached);
        ck_assert_str_eq(g.principal, "dev1");
        /* another client ID is another key; no_cache skips it */
        memset(&g, 0, sizeof(g));
        req.mqtt_client_id = "c2";
        invoke(&r, &req, &g, NULL);
        ck_assert_int_eq(r.fake.calls, 2);
        complete(&r.fake, 0, 200, "{\"isAuthenticated\":false}", NULL, 0);
        spin(&r);
        ck_assert_int_eq(g.status, IC_CUSTOM_AUTH_NOT_AUTHENTICATED);
        ck_assert_str_eq(g.reason, "authorizer returned isAuthenticated false");
        memset(&g, 0, sizeof(g));
        invoke(&r, &req, &g, NULL); /* a denial is not cached */
        ck_assert_int_eq(r.fake.calls, 3);
        complete(&r.fake, UV_ETIMEDOUT, 0, NULL, NULL, 0);
        spin(&r);
        ck_assert_int_eq(g.status, IC_CUSTOM_AUTH_FAILED);
        ck_assert_str_eq(g.reason, "authorizer timed out after 5000 ms");
        memset(&g, 0, sizeof(g));
        req.mqtt_client_id = "c1";
        req.no_cache = true;
        invoke(&r, &req, &g, NULL);
        ck_assert_int_eq(r.fake.calls, 4);
        complete(&r.fake, 0, 200, "{\"isAuthenticated\":true}", NULL, 0);
        spin(&r);
        ck_assert_int_eq(g.status, IC_CUSTOM_AUTH_BAD_RESPONSE);
        ck_assert_str_eq(g.reason, "malformed authorizer response: principalId is "
                                   "required");
        memset(&g, 0, sizeof(g));
        invoke(&r, &req, &g, NULL);
        complete(&r.fake, 0, 502, "<html>bad gateway</html>", NULL, 0);
        spin(&r);
        ck_assert_str_eq(g.reason, "authorizer function failed: HTTP 502: <html>bad "
                                   "gateway</html>");
        memset(&g, 0, sizeof(g));
        invoke(&r, &req, &g, NULL);
        complete(&r.fake, UV_ECONNREFUSED, 0, NULL, NULL, 0);
        spin(&r);
        ck_assert_str_eq(g.reason, "authorizer function unreachable: some transport "
                                   "error");
        /* the transport refuses at once */
        memset(&g, 0, sizeof(g));
        r.fake.rc = IC_ELIMIT;
        ck_assert_int_eq(invoke(&r, &req, &g, NULL), 0);
        spin(&r);
        ck_assert_int_eq(g.status, IC_CUSTOM_AUTH_FAILED);
        ck_assert_str_eq(g.reason, "authorizer function unreachable: cannot POST to "
                                   "http://127.0.0.1:9/auth: ELIMIT");
        r.fake.rc = 0;
        /* a change to the authorizers drops the cache */
        req.no_cache = false;
        {
            ic_authorizer_spec_t s;
            memset(&s, 0, sizeof(s));
            s.has_caching = true;
            s.caching_for_http = true;
            ck_assert_int_eq(ic_authorizers_update(r.reg, "az", &s, 2, why, sizeof(why)), 0);
        }
        memset(&g, 0, sizeof(g));
        invoke(&r, &req, &g, NULL);
        ck_assert_int_eq(r.fake.calls, 7);
        complete(&r.fake, 0, 200, ALLOW, NULL, 0);
        spin(&r);
        ck_assert(!g.cached && g.caching_for_http);
        /* HTTP requests (HTTPS Publish, WebSocket upgrade headers): reused
         * only with enableCachingForHttp (on now) and a token */
        {
            ic_custom_auth_req_t hr = req;
            ic_authorizer_spec_t s;
            int k;
            hr.protocols = IC_CUSTOM_AUTH_TLS | IC_CUSTOM_AUTH_HTTP;
            for (k = 0; k < 2; k++) {
                memset(&g, 0, sizeof(g));
                invoke(&r, &hr, &g, NULL);
                if (k == 0)
                    complete(&r.fake, 0, 200, ALLOW, NULL, 0);
                spin(&r);
                ck_assert_int_eq(g.status, IC_CUSTOM_AUTH_OK);
                ck_assert(g.cached == (k == 1));
            }
            ck_assert_int_eq(r.fake.calls, 8);
            memset(&s, 0, sizeof(s));
            s.has_caching = true;
            s.caching_for_http = false;
            ck_assert_int_eq(ic_authorizers_update(r.reg, "az", &s, 3, why, sizeof(why)),
                             0);
            for (k = 0; k < 2; k++) {
                memset(&g, 0, sizeof(g));
                invoke(&r, &hr, &g, NULL);
                complete(&r.fake, 0, 200, ALLOW, NULL, 0);
                spin(&r);
                ck_assert_int_eq(g.status, IC_CUSTOM_AUTH_OK);
                ck_assert(!g.cached);
            }
            ck_assert_int_eq(r.fake.calls, 10);
        }
        /* INACTIVE: refused, unless allowed (TestInvokeAuthorizer) */
        {
            ic_authorizer_spec_t s;
            memset(&s, 0, sizeof(s));
            s.has_status = true;
            ic_authorizers_update(r.reg, "az", &s, 4, why, sizeof(why));
        }
        memset(&g, 0, sizeof(g));
        invoke(&r, &req, &g, NULL);
        spin(&r);
        ck_assert_str_eq(g.reason, "authorizer az is INACTIVE");
    }
    free(sig);
    rig_down(&r);
}
END_TEST

START_TEST(invoke_default_and_cancel) {
    rig_t r;
    got_t g, g2;
    ic_custom_auth_req_t req;
    ic_custom_auth_call_t *call = NULL;
    rig_up(&r, registry_with("open", false, NULL), "http://h/x", NULL);
    ck_assert_int_eq(ic_authorizers_set_default(r.reg, "open", why, sizeof(why)), 0);
    memset(&req, 0, sizeof(req));
    req.protocols = IC_CUSTOM_AUTH_HTTP;
    req.query = "a=1";
    /* signing disabled: no token needed; the default authorizer runs */
    memset(&g, 0, sizeof(g));
    ck_assert_int_eq(invoke(&r, &req, &g, &call), 0);
    ck_assert_ptr_nonnull(call);
    ck_assert_int_eq(r.fake.calls, 1);
    ck_assert_ptr_nonnull(strstr(r.fake.body, "\"signatureVerified\":false,"
                                              "\"protocols\":[\"http\"]"));
    ck_assert_ptr_null(strstr(r.fake.body, "\"token\""));
    ck_assert_int_eq((int)ic_custom_auth_pending(r.ca), 1);
    /* cancelled while in the transport: no callback, freed at completion */
    ic_custom_auth_cancel(call);
    complete(&r.fake, 0, 200, ALLOW, NULL, 0);
    spin(&r);
    ck_assert_int_eq(g.n, 0);
    ck_assert_int_eq((int)ic_custom_auth_pending(r.ca), 0);
    /* cancelled while queued */
    memset(&g, 0, sizeof(g));
    req.authorizer = "missing";
    invoke(&r, &req, &g, &call);
    memset(&g2, 0, sizeof(g2));
    invoke(&r, &req, &g2, NULL);
    ic_custom_auth_cancel(call);
    spin(&r);
    ck_assert_int_eq(g.n, 0);
    ck_assert_int_eq(g2.n, 1);
    /* stop: what is queued is delivered; new calls are refused */
    memset(&g, 0, sizeof(g));
    invoke(&r, &req, &g, NULL);
    ic_custom_auth_stop(r.ca, NULL, NULL);
    ck_assert_int_eq(g.n, 1);
    ck_assert_int_eq(ic_custom_auth_invoke(r.ca, &req, on_result, &g, NULL), IC_ECLOSED);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    ic_custom_auth_free(r.ca);
    ic_authorizers_free(r.reg);
    ck_assert_int_eq(uv_loop_close(&r.loop), 0);
}
END_TEST

START_TEST(invoke_lambda) {
    rig_t r;
    got_t g;
    ic_custom_auth_req_t req;
    ic_http_header_t fe = {"X-Amz-Function-Error", 20, "Unhandled", 9};
    rig_up(&r, registry_with("lam", false, NULL), NULL, "http://127.0.0.1:4566/");
    memset(&req, 0, sizeof(req));
    req.authorizer = "lam";
    req.protocols = IC_CUSTOM_AUTH_MQTT;
    req.mqtt_username = "u";
    memset(&g, 0, sizeof(g));
    invoke(&r, &req, &g, NULL);
    ck_assert_int_eq(r.fake.calls, 1);
    ck_assert_str_eq(r.fake.url, "http://127.0.0.1:4566/2015-03-31/functions/"
                                 "arn%3Aaws%3Alambda%3Aus-west-2%3A123456789012%3A"
                                 "function%3Aauth/invocations");
    ck_assert_ptr_nonnull(strstr(r.fake.headers, "Host: 127.0.0.1:4566\n"));
    ck_assert_ptr_nonnull(strstr(r.fake.headers, "X-Amz-Invocation-Type: "
                                                 "RequestResponse\n"));
    /* signed for lambda in the ARN's region */
    ck_assert_ptr_nonnull(strstr(r.fake.headers, "Authorization: AWS4-HMAC-SHA256 "
                                                 "Credential=AKIDTEST/"));
    ck_assert_ptr_nonnull(strstr(r.fake.headers, "/us-west-2/lambda/aws4_request, "
                                                 "SignedHeaders=content-type;host;"
                                                 "x-amz-date;x-amz-invocation-type, "
                                                 "Signature="));
    complete(&r.fake, 0, 200, "{\"errorMessage\":\"boom\"}", &fe, 1);
    spin(&r);
    ck_assert_int_eq(g.status, IC_CUSTOM_AUTH_FAILED);
    ck_assert_str_eq(g.reason, "authorizer function error (Unhandled): "
                               "{.errorMessage.:.boom.}");
    memset(&g, 0, sizeof(g));
    invoke(&r, &req, &g, NULL);
    complete(&r.fake, 0, 200, ALLOW, NULL, 0);
    spin(&r);
    ck_assert_int_eq(g.status, IC_CUSTOM_AUTH_OK);
    rig_down(&r);
    /* neither a URL nor an endpoint */
    rig_up(&r, registry_with("lam", false, NULL), NULL, NULL);
    memset(&g, 0, sizeof(g));
    invoke(&r, &req, &g, NULL);
    spin(&r);
    ck_assert_int_eq(r.fake.calls, 0);
    ck_assert_str_eq(g.reason, "no authorizer_function line for "
                               "arn:aws:lambda:us-west-2:123456789012:function:auth "
                               "and no aws_service_endpoint for Lambda Invoke");
    rig_down(&r);
}
END_TEST

/* ---- a connection carrying an authorizer's documents -------------------------------- */

START_TEST(inline_policies) {
    ic_registry_t *reg = ic_registry_new(NULL);
    ic_things_t *things = ic_things_new(NULL);
    ic_policies_t *pols = ic_policies_new(NULL);
    ic_auth_t *a = ic_auth_new(reg, things, pols, "us-east-1", "123456789012");
    ic_auth_conn_t *c = ic_auth_conn_new(a, NULL, NULL, "dev1", "127.0.0.1", "ep");
    const char *docs[2] = {
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
        "[\"iot:Connect\",\"iot:Publish\"],\"Resource\":[\"arn:aws:iot:*:*:client/"
        "${iot:ClientId}\",\"arn:aws:iot:*:*:topic/t/*\"]}]}",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":"
        "\"iot:Publish\",\"Resource\":\"arn:aws:iot:*:*:topic/t/secret\"}]}"};
    const char *bad[1] = {"{\"Statement\":[]}"};
    ck_assert(!ic_auth_allow(a, c, IC_ACT_PUBLISH, "t/1", 3, NULL));
    ck_assert_int_eq(ic_auth_conn_set_inline(c, "dev1", docs, 2, why, sizeof(why)), 0);
    ck_assert(ic_auth_allow(a, c, IC_ACT_CONNECT, "dev1", 4, NULL));
    ck_assert(!ic_auth_allow(a, c, IC_ACT_CONNECT, "dev2", 4, NULL));
    ck_assert(ic_auth_allow(a, c, IC_ACT_PUBLISH, "t/1", 3, NULL)); /* the cached
                                                                       denial went */
    ck_assert(!ic_auth_allow(a, c, IC_ACT_PUBLISH, "t/secret", 8, NULL));
    /* a refresh with other documents replaces them, cached decisions too */
    ck_assert_int_eq(ic_auth_conn_set_inline(c, "dev1", docs + 1, 1, why, sizeof(why)), 0);
    ck_assert(!ic_auth_allow(a, c, IC_ACT_PUBLISH, "t/1", 3, NULL));
    /* a document that does not compile changes nothing */
    ck_assert_int_eq(ic_auth_conn_set_inline(c, "dev1", bad, 1, why, sizeof(why)),
                     IC_EMALFORMED);
    ck_assert_msg(strncmp(why, "policy document 0: ", 19) == 0, "%s", why);
    ck_assert_int_eq(ic_auth_conn_set_inline(c, "dev1", docs, 2, why, sizeof(why)), 0);
    ck_assert(ic_auth_allow(a, c, IC_ACT_PUBLISH, "t/1", 3, NULL));
    ck_assert_int_eq(ic_auth_conn_set_inline(c, "dev1", NULL, 0, why, sizeof(why)), 0);
    ck_assert(!ic_auth_allow(a, c, IC_ACT_PUBLISH, "t/1", 3, NULL));
    ic_auth_conn_free(c);
    ic_auth_free(a);
    ic_policies_free(pols);
    ic_things_free(things);
    ic_registry_free(reg);
}
END_TEST

Suite *ic_custom_auth_suite(void) {
    Suite *s = suite_create("custom_auth");
    TCase *tc = tcase_create("authorizers");
    tcase_set_timeout(tc, 60); /* RSA key generation */
    tcase_add_test(tc, registry_rules);
    tcase_add_test(tc, store_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("pure");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, params);
    tcase_add_test(tc, signatures);
    tcase_add_test(tc, event_json);
    tcase_add_test(tc, responses);
    suite_add_tcase(s, tc);
    tc = tcase_create("invoke");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, invoke_url);
    tcase_add_test(tc, invoke_default_and_cancel);
    tcase_add_test(tc, invoke_lambda);
    tcase_add_test(tc, inline_policies);
    suite_add_tcase(s, tc);
    return s;
}
