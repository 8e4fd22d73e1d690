/* authorizers.c - custom authorizers and the default authorizer, with
 * AWS's naming rules and limits (see authorizers.h).
 *
 * Owns the in-memory authorizer set and decides every rule; it writes
 * through to the store (store/authorizerdb.c) and reloads from it. It
 * checks that public keys are RSA keys of at least 2048 bits (OpenSSL
 * parses them) and nothing about the function: invoking it, verifying
 * token signatures and reading its answer are custom_auth.c's. It serves
 * no API. Loop thread only.
 *
 *   azs   [ "a" ][ "b" ][ "c" ]     ascending name: lookup by binary
 *                                   search, pages by upper bound of "after"
 *   dflt  -> one of them, or NULL
 *
 * Invariants: names in azs are unique and strictly ascending; every
 * authorizer's keys are ascending by name, unique, at most
 * IC_AUTHORIZER_MAX_KEYS; an authorizer with signing enabled has a token
 * key name and at least one key; dflt is NULL or points into azs.
 */
#include "iotcored/authorizers.h"

#include "iotcored/alloc.h"
#include "iotcored/authorizerdb.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/str.h"

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME 128 /* AuthorizerName, TokenKeyName, KeyName */

struct ic_authorizers_s {
    ic_db_t *db;            /* borrowed; NULL = memory only */
    ic_authorizer_t **azs;  /* ascending name */
    size_t n, cap;
    ic_authorizer_t *dflt;  /* the default authorizer, or NULL */
    uint64_t generation;    /* starts at 1; +1 per change */
};

/* ---- lifetime -------------------------------------------------------------- */

ic_authorizers_t *ic_authorizers_new(ic_db_t *db) {
    ic_authorizers_t *a = ic_xcalloc(1, sizeof(*a));
    a->db = db;
    a->generation = 1;
    return a;
}

static void free_keys(ic_authorizer_key_t *keys, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        free(keys[i].name);
        free(keys[i].pem);
    }
    free(keys);
}

static void free_az(ic_authorizer_t *az) {
    if (az == NULL)
        return;
    free(az->name);
    free(az->function_arn);
    free(az->token_key_name);
    free_keys(az->keys, az->n_keys);
    free(az->tags);
    free(az);
}

static void clear(ic_authorizers_t *a) {
    size_t i;
    for (i = 0; i < a->n; i++)
        free_az(a->azs[i]);
    free(a->azs);
    a->azs = NULL;
    a->n = a->cap = 0;
    a->dflt = NULL;
}

void ic_authorizers_free(ic_authorizers_t *a) {
    if (a == NULL)
        return;
    clear(a);
    free(a);
}

uint64_t ic_authorizers_generation(const ic_authorizers_t *a) {
    return a->generation;
}

size_t ic_authorizers_count(const ic_authorizers_t *a) {
    return a->n;
}

/* ---- the sorted array -------------------------------------------------------- */

static size_t lower(const ic_authorizers_t *a, const char *name, bool *found) {
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(a->azs[mid]->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (found)
        *found = lo < a->n && strcmp(a->azs[lo]->name, name) == 0;
    return lo;
}

static ic_authorizer_t *find(const ic_authorizers_t *a, const char *name) {
    bool found;
    size_t i;
    if (name == NULL)
        return NULL;
    i = lower(a, name, &found);
    return found ? a->azs[i] : NULL;
}

static void insert(ic_authorizers_t *a, ic_authorizer_t *az) {
    size_t i = lower(a, az->name, NULL);
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 8;
        a->azs = ic_xrealloc(a->azs, a->cap * sizeof(*a->azs));
    }
    memmove(&a->azs[i + 1], &a->azs[i], (a->n - i) * sizeof(*a->azs));
    a->azs[i] = az;
    a->n++;
}

/* ---- rules ------------------------------------------------------------------- */

static bool chars_ok(const char *s, size_t max, const char *extra) {
    size_t n, i;
    if (s == NULL)
        return false;
    n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr(extra, c)))
            return false;
    }
    return true;
}

bool ic_authorizers_is_valid_name(const char *name) {
    return chars_ok(name, MAX_NAME, "_=,@-");
}

int ic_authorizers_check_key(const char *key_name, const char *pem, char *why,
                             size_t whylen) {
    BIO *b;
    EVP_PKEY *k;
    int bits;
    if (!chars_ok(key_name, MAX_NAME, ":_-"))
        return ic_str_fail(why, whylen, IC_EINVAL,
                           "Invalid public key name '%.128s': 1-128 characters of "
                           "[a-zA-Z0-9:_-]", key_name ? key_name : "");
    if (pem == NULL || strlen(pem) > IC_AUTHORIZER_MAX_KEY_PEM)
        return ic_str_fail(why, whylen, IC_EINVAL,
                           "The public key %s is not an RSA public key in PEM form",
                           key_name);
    b = BIO_new_mem_buf(pem, -1);
    k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (k == NULL || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
        EVP_PKEY_free(k);
        return ic_str_fail(why, whylen, IC_EINVAL,
                           "The public key %s is not an RSA public key in PEM form",
                           key_name);
    }
    bits = EVP_PKEY_get_bits(k);
    EVP_PKEY_free(k);
    if (bits < IC_AUTHORIZER_MIN_KEY_BITS) /* AWS: config-custom-auth */
        return ic_str_fail(why, whylen, IC_EINVAL,
                           "The public key %s is an RSA key of %d bits; at least "
                           "%d are required", key_name, bits,
                           IC_AUTHORIZER_MIN_KEY_BITS);
    return 0;
}

static int cmp_key(const void *x, const void *y) {
    return strcmp(((const ic_authorizer_key_t *)x)->name,
                  ((const ic_authorizer_key_t *)y)->name);
}

/* Check keys[0..n) and copy them, sorted, into *out. */
static int copy_keys(const ic_authorizer_key_t *keys, size_t n,
                     ic_authorizer_key_t **out, char *why, size_t whylen) {
    ic_authorizer_key_t *k;
    size_t i;
    int rc;
    *out = NULL;
    if (n > IC_AUTHORIZER_MAX_KEYS)
        return ic_str_fail(why, whylen, IC_EINVAL,
                           "tokenSigningPublicKeys holds %zu keys; at most %d are "
                           "accepted", n, IC_AUTHORIZER_MAX_KEYS);
    for (i = 0; i < n; i++)
        if ((rc = ic_authorizers_check_key(keys[i].name, keys[i].pem, why,
                                           whylen)) != 0)
            return rc;
    if (n == 0)
        return 0;
    k = ic_xcalloc(n, sizeof(*k));
    for (i = 0; i < n; i++) {
        k[i].name = ic_xstrdup(keys[i].name);
        k[i].pem = ic_xstrdup(keys[i].pem);
    }
    qsort(k, n, sizeof(*k), cmp_key);
    for (i = 1; i < n; i++)
        if (strcmp(k[i - 1].name, k[i].name) == 0) {
            free_keys(k, n);
            return ic_str_fail(why, whylen, IC_EINVAL,
                               "The public key name %s is repeated", keys[i].name);
        }
    *out = k;
    return 0;
}

static int check_arn(const char *arn, char *why, size_t whylen) {
    if (arn == NULL || arn[0] == '\0')
        return ic_str_fail(why, whylen, IC_EINVAL,
                           "authorizerFunctionArn is required");
    if (strlen(arn) > IC_AUTHORIZER_MAX_ARN)
        return ic_str_fail(why, whylen, IC_EINVAL,
                           "authorizerFunctionArn is longer than %d characters",
                           IC_AUTHORIZER_MAX_ARN);
    return 0;
}

static int check_token_key(const char *k, char *why, size_t whylen) {
    if (k != NULL && !chars_ok(k, MAX_NAME, "_-"))
        return ic_str_fail(why, whylen, IC_EINVAL,
                           "Invalid tokenKeyName '%.128s': 1-128 characters of "
                           "[a-zA-Z0-9_-]", k);
    return 0;
}

static int signing_complete(const ic_authorizer_t *az, char *why, size_t whylen) {
    if (!az->signing_disabled && (az->token_key_name == NULL || az->n_keys == 0))
        return ic_str_fail(why, whylen, IC_EINVAL,
                           "tokenKeyName and tokenSigningPublicKeys are required "
                           "when signing is enabled");
    return 0;
}

/* ---- persistence ------------------------------------------------------------- */

static char *keys_json(const ic_authorizer_t *az) {
    cJSON *o = cJSON_CreateObject();
    char *s;
    size_t i;
    for (i = 0; i < az->n_keys; i++)
        cJSON_AddStringToObject(o, az->keys[i].name, az->keys[i].pem);
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static void persist(ic_authorizers_t *a, const ic_authorizer_t *az) {
    ic_authorizerdb_row_t r;
    char *keys;
    if (a->db == NULL)
        return;
    keys = keys_json(az);
    r.name = az->name;
    r.function_arn = az->function_arn;
    r.token_key_name = az->token_key_name ? az->token_key_name : "";
    r.keys = keys ? keys : "{}";
    r.tags = az->tags;
    r.is_active = az->is_active;
    r.signing_disabled = az->signing_disabled;
    r.caching_for_http = az->caching_for_http;
    r.is_default = a->dflt == az;
    r.created_ms = az->created_ms;
    r.updated_ms = az->updated_ms;
    ic_authorizerdb_put(a->db, &r);
    cJSON_free(keys);
}

/* ---- operations ------------------------------------------------------------------ */

const ic_authorizer_t *ic_authorizers_get(const ic_authorizers_t *a,
                                          const char *name) {
    return find(a, name);
}

const ic_authorizer_t *ic_authorizers_default(const ic_authorizers_t *a) {
    return a->dflt;
}

int ic_authorizers_create(ic_authorizers_t *a, const char *name,
                          const ic_authorizer_spec_t *spec, int64_t now_ms,
                          char *why, size_t whylen) {
    ic_authorizer_t *az;
    ic_authorizer_key_t *keys = NULL;
    int rc;
    if (!ic_authorizers_is_valid_name(name))
        return ic_str_fail(why, whylen, IC_EINVAL,
                           "Invalid authorizer name '%.128s': 1-128 characters of "
                           "[\\w=,@-]", name ? name : "");
    if ((rc = check_arn(spec->function_arn, why, whylen)) != 0 ||
        (rc = check_token_key(spec->token_key_name, why, whylen)) != 0)
        return rc;
    if (find(a, name) != NULL) /* AWS: ResourceAlreadyExistsException */
        return ic_str_fail(why, whylen, IC_EEXIST,
                           "The authorizer %s already exists", name);
    if (a->n >= IC_AUTHORIZER_MAX) /* AWS: LimitExceededException */
        return ic_str_fail(why, whylen, IC_ELIMIT,
                           "The maximum number of authorizers (%d) has been "
                           "reached", IC_AUTHORIZER_MAX);
    if (spec->has_keys &&
        (rc = copy_keys(spec->keys, spec->n_keys, &keys, why, whylen)) != 0)
        return rc;
    az = ic_xcalloc(1, sizeof(*az));
    az->keys = keys;
    az->n_keys = keys ? spec->n_keys : 0;
    az->signing_disabled = spec->signing_disabled;
    az->token_key_name = spec->token_key_name ? ic_xstrdup(spec->token_key_name)
                                              : NULL;
    if ((rc = signing_complete(az, why, whylen)) != 0) {
        free_az(az);
        return rc;
    }
    az->name = ic_xstrdup(name);
    az->function_arn = ic_xstrdup(spec->function_arn);
    /* AWS: an authorizer created without a status is ACTIVE */
    az->is_active = spec->has_status ? spec->is_active : true;
    az->caching_for_http = spec->has_caching && spec->caching_for_http;
    az->tags = ic_xstrdup(spec->tags ? spec->tags : "[]");
    az->created_ms = az->updated_ms = now_ms;
    insert(a, az);
    persist(a, az);
    a->generation++;
    return 0;
}

int ic_authorizers_update(ic_authorizers_t *a, const char *name,
                          const ic_authorizer_spec_t *spec, int64_t now_ms,
                          char *why, size_t whylen) {
    ic_authorizer_t *az = find(a, name), next;
    ic_authorizer_key_t *keys = NULL;
    int rc;
    if (az == NULL)
        return ic_str_fail(why, whylen, IC_ENOTFOUND,
                           "The authorizer %s does not exist", name ? name : "");
    if ((spec->function_arn && (rc = check_arn(spec->function_arn, why, whylen))) ||
        (rc = check_token_key(spec->token_key_name, why, whylen)) != 0)
        return rc;
    if (spec->has_keys &&
        (rc = copy_keys(spec->keys, spec->n_keys, &keys, why, whylen)) != 0)
        return rc;
    /* judge the result before changing anything */
    next = *az;
    if (spec->token_key_name)
        next.token_key_name = (char *)(uintptr_t)spec->token_key_name;
    if (spec->has_keys)
        next.n_keys = keys ? spec->n_keys : 0;
    if ((rc = signing_complete(&next, why, whylen)) != 0) {
        free_keys(keys, keys ? spec->n_keys : 0);
        return rc;
    }
    if (spec->function_arn) {
        char *arn = ic_xstrdup(spec->function_arn); /* may be az's own */
        free(az->function_arn);
        az->function_arn = arn;
    }
    if (spec->token_key_name) {
        char *k = ic_xstrdup(spec->token_key_name);
        free(az->token_key_name);
        az->token_key_name = k;
    }
    if (spec->has_keys) {
        free_keys(az->keys, az->n_keys);
        az->keys = keys;
        az->n_keys = next.n_keys;
    }
    if (spec->has_status)
        az->is_active = spec->is_active;
    if (spec->has_caching)
        az->caching_for_http = spec->caching_for_http;
    az->updated_ms = now_ms;
    persist(a, az);
    a->generation++;
    return 0;
}

int ic_authorizers_delete(ic_authorizers_t *a, const char *name, char *why,
                          size_t whylen) {
    bool found;
    size_t i = name ? lower(a, name, &found) : 0;
    ic_authorizer_t *az;
    if (name == NULL || !found)
        return ic_str_fail(why, whylen, IC_ENOTFOUND,
                           "The authorizer %s does not exist", name ? name : "");
    az = a->azs[i];
    if (az->is_active) /* AWS: an authorizer is set INACTIVE before deletion */
        return ic_str_fail(why, whylen, IC_ECONFLICT,
                           "Cannot delete an ACTIVE authorizer (name=%s): set its "
                           "status to INACTIVE first", az->name);
    if (a->dflt == az)
        return ic_str_fail(why, whylen, IC_ECONFLICT,
                           "Cannot delete the default authorizer (name=%s): clear "
                           "the default authorizer first", az->name);
    if (a->db)
        ic_authorizerdb_del(a->db, az->name);
    memmove(&a->azs[i], &a->azs[i + 1], (a->n - i - 1) * sizeof(*a->azs));
    a->n--;
    free_az(az);
    a->generation++;
    return 0;
}

size_t ic_authorizers_list(const ic_authorizers_t *a, const char *after,
                           const ic_authorizer_t **out, size_t cap) {
    size_t i = 0, n = 0;
    if (after && after[0]) {
        bool found;
        i = lower(a, after, &found);
        if (found)
            i++;
    }
    for (; i < a->n && n < cap; i++)
        out[n++] = a->azs[i];
    return n;
}

int ic_authorizers_set_default(ic_authorizers_t *a, const char *name, char *why,
                               size_t whylen) {
    ic_authorizer_t *az = find(a, name);
    if (az == NULL)
        return ic_str_fail(why, whylen, IC_ENOTFOUND,
                           "The authorizer %s does not exist", name ? name : "");
    if (a->dflt == az)
        return 0;
    if (a->dflt != NULL) /* AWS: SetDefaultAuthorizer ResourceAlreadyExists */
        return ic_str_fail(why, whylen, IC_EEXIST,
                           "The default authorizer is already set (name=%s)",
                           a->dflt->name);
    a->dflt = az;
    if (a->db)
        ic_authorizerdb_set_default(a->db, az->name);
    a->generation++;
    return 0;
}

int ic_authorizers_clear_default(ic_authorizers_t *a, char *why, size_t whylen) {
    if (a->dflt == NULL)
        return ic_str_fail(why, whylen, IC_ENOTFOUND,
                           "No default authorizer is set");
    a->dflt = NULL;
    if (a->db)
        ic_authorizerdb_set_default(a->db, NULL);
    a->generation++;
    return 0;
}

/* ---- loading ------------------------------------------------------------------- */

static void load_row(const ic_authorizerdb_row_t *r, void *data) {
    ic_authorizers_t *a = data;
    ic_authorizer_t *az;
    cJSON *keys = cJSON_Parse(r->keys), *k;
    size_t n = 0;
    if (find(a, r->name) != NULL || !ic_authorizers_is_valid_name(r->name)) {
        ic_log_warn("authorizer skipped", "authorizer=%s reason=invalid_row",
                    r->name);
        cJSON_Delete(keys);
        return;
    }
    az = ic_xcalloc(1, sizeof(*az));
    az->name = ic_xstrdup(r->name);
    az->function_arn = ic_xstrdup(r->function_arn);
    az->token_key_name = r->token_key_name[0] ? ic_xstrdup(r->token_key_name) : NULL;
    az->is_active = r->is_active;
    az->signing_disabled = r->signing_disabled;
    az->caching_for_http = r->caching_for_http;
    az->tags = ic_xstrdup(r->tags[0] ? r->tags : "[]");
    az->created_ms = r->created_ms;
    az->updated_ms = r->updated_ms;
    if (!cJSON_IsObject(keys))
        ic_log_warn("authorizer keys dropped", "authorizer=%s reason=not_an_object",
                    r->name);
    else {
        az->keys = ic_xcalloc((size_t)cJSON_GetArraySize(keys) + 1,
                              sizeof(*az->keys));
        cJSON_ArrayForEach(k, keys) {
            if (!cJSON_IsString(k) || n == IC_AUTHORIZER_MAX_KEYS)
                continue;
            az->keys[n].name = ic_xstrdup(k->string);
            az->keys[n].pem = ic_xstrdup(k->valuestring);
            n++;
        }
        az->n_keys = n;
        qsort(az->keys, n, sizeof(*az->keys), cmp_key);
    }
    cJSON_Delete(keys);
    insert(a, az);
    if (r->is_default) {
        if (a->dflt != NULL)
            ic_log_warn("authorizer default repaired", "authorizer=%s kept=%s",
                        r->name, a->dflt->name);
        else
            a->dflt = az;
    }
}

int ic_authorizers_load(ic_authorizers_t *a) {
    int rc;
    if (a->db == NULL)
        return 0;
    clear(a);
    rc = ic_authorizerdb_load(a->db, load_row, a);
    a->generation++;
    return rc;
}
