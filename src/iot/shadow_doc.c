/* shadow_doc.c - the Device Shadow document engine (pure, L1;
 * aws-iot-dataplane.md sections 1.3-1.9).
 *
 * Single job: turn (stored shadow, request payload, now) into the new stored
 * shadow and the exact response documents AWS publishes. It owns the stored
 * document (cJSON trees that never leave this file) and the texts it hands
 * out. It must not do I/O, read the clock, keep state between calls, route
 * messages or know about topics, names or persistence. Any thread.
 *
 * Invariants of a stored document: a section (desired, reported) is either
 * absent (NULL) or a non-empty object without nulls or duplicate keys; its
 * metadata tree has the same shape, every leaf replaced by
 * {"timestamp": s} and every array by the array of its elements' metadata;
 * version >= 1. An update works on a copy, so a rejected request leaves the
 * caller's document untouched.
 *
 *   update: utf8 -> parse -> state/desired/reported types -> clientToken ->
 *           version type -> depth -> nulls in arrays -> unknown state keys ->
 *           version match -> size lower bound -> merge (copy) -> size ->
 *           documents
 *
 * Numbers are doubles (cJSON) compared numerically; the printer here writes
 * integral values as integers so 255 and 1591141596 print exactly.
 */
#include "iotcored/shadow_doc.h"
#include "iotcored/str.h"

#include "iotcored/alloc.h"
#include "iotcored/buf.h"
#include "iotcored/error.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXACT_INT 9007199254740992.0 /* 2^53: larger doubles skip integers */

struct ic_shadow_doc_s {
    cJSON *desired;       /* non-empty object, or NULL when absent */
    cJSON *reported;      /* non-empty object, or NULL when absent */
    cJSON *desired_meta;  /* shape of desired; NULL iff desired is */
    cJSON *reported_meta; /* shape of reported; NULL iff reported is */
    int64_t version;      /* >= 1 */
};

static const char msg_invalid_json[] = "Invalid JSON";
static const char msg_too_big[] = "The payload exceeds the maximum size allowed";
static const char msg_encoding[] =
    "Unsupported documented encoding; supported encoding is UTF-8"; /* (sic) */

/* ---- small helpers ---------------------------------------------------- */

/* cJSON reports OOM as NULL; the house rule is to abort (STYLE 3.7). */
static cJSON *nn(cJSON *p) {
    if (!p) {
        fputs("iotcored: out of memory (cJSON)\n", stderr);
        abort();
    }
    return p;
}

static cJSON *get(const cJSON *obj, const char *key) {
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static cJSON *dup(const cJSON *v) {
    return nn(cJSON_Duplicate(v, 1));
}

static cJSON *new_object(void) {
    return nn(cJSON_CreateObject());
}

static void add(cJSON *obj, const char *key, cJSON *item) {
    if (!cJSON_AddItemToObject(obj, key, item))
        nn(NULL);
}

static void add_i64(cJSON *obj, const char *key, int64_t v) {
    add(obj, key, nn(cJSON_CreateNumber((double)v)));
}

static void add_str(cJSON *obj, const char *key, const char *s) {
    add(obj, key, nn(cJSON_CreateString(s)));
}

/* Replace or add obj[key] = item (item taken). */
static void set(cJSON *obj, const char *key, cJSON *item) {
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
    else
        add(obj, key, item);
}

static bool is_empty(const cJSON *v) {
    return v->child == NULL;
}

/* ---- input checks ----------------------------------------------------- */


/* What cJSON accepts but JSON (or a C string) does not: NUL bytes, raw
 * control characters inside strings, and the escape \u0000. */
static bool lex_ok(const uint8_t *p, size_t n) {
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == 0)
            return false;
        if (!in_str) {
            if (c == '"')
                in_str = true;
            continue;
        }
        if (c == '"') {
            in_str = false;
        } else if (c < 0x20) {
            return false;
        } else if (c == '\\' && i + 1 < n) {
            if (p[i + 1] == 'u' && i + 5 < n && memcmp(p + i + 2, "0000", 4) == 0)
                return false;
            i++;
        }
    }
    return true;
}

static int cmp_keys(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* No duplicate keys in any object, every number finite. */
static bool tree_ok(const cJSON *v) {
    if (cJSON_IsNumber(v))
        return isfinite(v->valuedouble);
    if (cJSON_IsObject(v)) {
        size_t n = 0, i = 0;
        bool ok = true;
        for (const cJSON *c = v->child; c; c = c->next)
            n++;
        if (n > 1) {
            const char **keys = ic_xmalloc(n * sizeof(*keys));
            for (const cJSON *c = v->child; c; c = c->next)
                keys[i++] = c->string;
            qsort(keys, n, sizeof(*keys), cmp_keys);
            for (i = 1; i < n && ok; i++)
                ok = strcmp(keys[i - 1], keys[i]) != 0;
            free(keys);
            if (!ok)
                return false;
        }
    }
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        for (const cJSON *c = v->child; c; c = c->next)
            if (!tree_ok(c))
                return false;
    }
    return true;
}

/* Parse a JSON payload strictly enough for the shadow service; NULL if it
 * is not valid JSON (UTF-8 is checked by the caller). */
static cJSON *parse_payload(const uint8_t *p, size_t n) {
    char *text;
    cJSON *v;
    if (n == 0 || !lex_ok(p, n))
        return NULL;
    text = ic_xmalloc(n + 1);
    memcpy(text, p, n);
    text[n] = '\0';
    v = cJSON_ParseWithOpts(text, NULL, 1);
    free(text);
    if (v && !tree_ok(v)) {
        cJSON_Delete(v);
        v = NULL;
    }
    return v;
}

/* GG-SM depth counting: the section object is level 1; a non-empty
 * container deeper than max is an error; scalars and {} / [] don't count. */
static bool depth_ok(const cJSON *v, int level, int max) {
    if (!(cJSON_IsObject(v) || cJSON_IsArray(v)) || is_empty(v))
        return true;
    if (level > max)
        return false;
    for (const cJSON *c = v->child; c; c = c->next)
        if (!depth_ok(c, level + 1, max))
            return false;
    return true;
}

/* AWS: arrays must not contain null (anywhere below an array). */
static bool null_in_array(const cJSON *v, bool in_array) {
    if (cJSON_IsNull(v))
        return in_array;
    if (cJSON_IsArray(v))
        in_array = true;
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        for (const cJSON *c = v->child; c; c = c->next)
            if (null_in_array(c, in_array))
                return true;
    }
    return false;
}

static bool token_ok(const cJSON *t) {
    return cJSON_IsString(t) && strlen(t->valuestring) <= IC_SHADOW_TOKEN_MAX;
}

/* A request version: a JSON number that is a non-negative integer. */
static bool version_ok(const cJSON *v) {
    double d;
    if (!cJSON_IsNumber(v))
        return false;
    d = v->valuedouble;
    return d >= 0 && d <= MAX_EXACT_INT && d == floor(d);
}

/* A lower bound of the bytes a request section adds to the merged section:
 * every non-null scalar or array member ends up there at its path as at
 * least "k":v. Lets a request that must end in 413 skip the (quadratic in
 * keys per object) merge, so a 128 KB payload cannot cost seconds. */
static size_t min_result_bytes(const cJSON *patch) {
    size_t n = 0;
    if (!cJSON_IsObject(patch))
        return 0;
    for (const cJSON *c = patch->child; c; c = c->next) {
        if (cJSON_IsObject(c))
            n += min_result_bytes(c);
        else if (!cJSON_IsNull(c))
            n += strlen(c->string) + 4;
    }
    return n;
}

/* ---- printer ---------------------------------------------------------- */

static void put_string(ic_buf_t *b, const char *s) {
    ic_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': ic_buf_append(b, "\\\"", 2); break;
        case '\\': ic_buf_append(b, "\\\\", 2); break;
        case '\b': ic_buf_append(b, "\\b", 2); break;
        case '\f': ic_buf_append(b, "\\f", 2); break;
        case '\n': ic_buf_append(b, "\\n", 2); break;
        case '\r': ic_buf_append(b, "\\r", 2); break;
        case '\t': ic_buf_append(b, "\\t", 2); break;
        default:
            if (*p < 0x20)
                ic_buf_appendf(b, "\\u%04x", *p);
            else
                ic_buf_append(b, p, 1);
        }
    }
    ic_buf_append(b, "\"", 1);
}

/* Integral values print as integers; others as the shortest of %.15g and
 * %.17g that reads back exactly (what cJSON does, minus its int range). */
static void put_number(ic_buf_t *b, double d) {
    char tmp[40];
    if (!isfinite(d)) {
        ic_buf_append_str(b, "null");
    } else if (d == floor(d) && fabs(d) < 9.2e18) {
        ic_buf_appendf(b, "%" PRId64, (int64_t)d);
    } else {
        snprintf(tmp, sizeof(tmp), "%.15g", d);
        if (strtod(tmp, NULL) != d)
            snprintf(tmp, sizeof(tmp), "%.17g", d);
        ic_buf_append_str(b, tmp);
    }
}

static void put_value(ic_buf_t *b, const cJSON *v) {
    const cJSON *c;
    if (cJSON_IsNull(v)) {
        ic_buf_append_str(b, "null");
    } else if (cJSON_IsTrue(v)) {
        ic_buf_append_str(b, "true");
    } else if (cJSON_IsFalse(v)) {
        ic_buf_append_str(b, "false");
    } else if (cJSON_IsNumber(v)) {
        put_number(b, v->valuedouble);
    } else if (cJSON_IsString(v)) {
        put_string(b, v->valuestring);
    } else if (cJSON_IsArray(v)) {
        ic_buf_append(b, "[", 1);
        for (c = v->child; c; c = c->next) {
            put_value(b, c);
            if (c->next)
                ic_buf_append(b, ",", 1);
        }
        ic_buf_append(b, "]", 1);
    } else if (cJSON_IsObject(v)) {
        ic_buf_append(b, "{", 1);
        for (c = v->child; c; c = c->next) {
            put_string(b, c->string);
            ic_buf_append(b, ":", 1);
            put_value(b, c);
            if (c->next)
                ic_buf_append(b, ",", 1);
        }
        ic_buf_append(b, "}", 1);
    } else {
        ic_buf_append_str(b, "null");
    }
}

/* Compact text of v, owned by the caller. */
static char *print(const cJSON *v) {
    ic_buf_t b;
    ic_buf_init(&b);
    put_value(&b, v);
    ic_buf_append(&b, "", 1);
    return (char *)b.data;
}

/* Print and free v (taken). */
static char *print_take(cJSON *v) {
    char *s = print(v);
    cJSON_Delete(v);
    return s;
}

static size_t printed_len(const cJSON *v) {
    char *s;
    size_t n;
    if (!v)
        return 0;
    s = print(v);
    n = strlen(s);
    free(s);
    return n;
}

/* ---- merge, metadata, delta ------------------------------------------- */

static cJSON *timestamp_of(int64_t now_s) {
    cJSON *m = new_object();
    add_i64(m, "timestamp", now_s);
    return m;
}

/* Metadata mirroring v: leaves (null included) -> {"timestamp"}, objects
 * -> objects of their members' metadata, arrays -> per-element arrays. */
static cJSON *meta_of(const cJSON *v, int64_t now_s) {
    cJSON *m;
    if (cJSON_IsObject(v)) {
        m = new_object();
        for (const cJSON *c = v->child; c; c = c->next)
            add(m, c->string, meta_of(c, now_s));
        return m;
    }
    if (cJSON_IsArray(v)) {
        m = nn(cJSON_CreateArray());
        for (const cJSON *c = v->child; c; c = c->next)
            if (!cJSON_AddItemToArray(m, meta_of(c, now_s)))
                nn(NULL);
        return m;
    }
    return timestamp_of(now_s);
}

/* A copy of object v without null members; NULL when v had members but
 * none survived (a literal {} is kept). GG-SM createMergeTree. */
static cJSON *strip_nulls(const cJSON *v) {
    cJSON *t = new_object();
    for (const cJSON *c = v->child; c; c = c->next) {
        if (cJSON_IsNull(c))
            continue;
        if (cJSON_IsObject(c)) {
            cJSON *s = strip_nulls(c);
            if (s)
                add(t, c->string, s);
        } else {
            add(t, c->string, dup(c));
        }
    }
    if (is_empty(t) && !is_empty(v)) {
        cJSON_Delete(t);
        return NULL;
    }
    return t;
}

/* AWS: shadow/merge. dst and meta are objects of the same shape; patch is
 * an object. */
static void merge(cJSON *dst, cJSON *meta, const cJSON *patch, int64_t now_s) {
    for (const cJSON *v = patch->child; v; v = v->next) {
        const char *k = v->string;
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(dst, k);
        if (cJSON_IsNull(v)) {
            cJSON_DeleteItemFromObjectCaseSensitive(dst, k);
            cJSON_DeleteItemFromObjectCaseSensitive(meta, k);
        } else if (cJSON_IsObject(v) && cJSON_IsObject(cur)) {
            cJSON *m = cJSON_GetObjectItemCaseSensitive(meta, k);
            if (!cJSON_IsObject(m)) {
                m = new_object();
                set(meta, k, m);
            }
            merge(cur, m, v, now_s);
        } else if (cJSON_IsObject(v)) {
            cJSON *t = strip_nulls(v);
            if (t) {
                set(meta, k, meta_of(t, now_s));
                set(dst, k, t);
            }
        } else {
            set(dst, k, dup(v));
            set(meta, k, meta_of(v, now_s));
        }
    }
}

/* Apply a request section (absent, null or object) to a stored section. */
static void apply_section(cJSON **sec, cJSON **meta, const cJSON *patch,
                          int64_t now_s) {
    if (!patch)
        return;
    if (!cJSON_IsNull(patch)) {
        if (!*sec) {
            *sec = new_object();
            *meta = new_object();
        }
        merge(*sec, *meta, patch, now_s);
        if (!is_empty(*sec))
            return;
    }
    /* AWS: shadow/empty-section-disappears (with its metadata) */
    cJSON_Delete(*sec);
    cJSON_Delete(*meta);
    *sec = NULL;
    *meta = NULL;
}

/* Semantic equality: numbers numerically, objects regardless of order. */
static bool equal(const cJSON *a, const cJSON *b) {
    int ta = a->type & 0xFF, tb = b->type & 0xFF;
    if (ta != tb)
        return false;
    if (cJSON_IsNumber(a))
        return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!equal(x, y))
                return false;
        return !x && !y;
    }
    if (cJSON_IsObject(a)) {
        int na = 0, nb = 0;
        for (const cJSON *x = a->child; x; x = x->next) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y || !equal(x, y))
                return false;
            na++;
        }
        for (const cJSON *y = b->child; y; y = y->next)
            nb++;
        return na == nb;
    }
    return true;
}

/* AWS: shadow/delta. Desired fields that differ from reported (r may be
 * NULL), with the full path; *meta_out gets the matching slice of dm. */
static cJSON *delta_of(const cJSON *d, const cJSON *dm, const cJSON *r,
                       cJSON **meta_out) {
    cJSON *delta = new_object(), *meta = new_object();
    for (const cJSON *dv = d->child; dv; dv = dv->next) {
        const char *k = dv->string;
        const cJSON *rv = r ? cJSON_GetObjectItemCaseSensitive(r, k) : NULL;
        const cJSON *mv = cJSON_GetObjectItemCaseSensitive(dm, k);
        if (rv && cJSON_IsObject(dv) && cJSON_IsObject(rv)) {
            cJSON *sm, *sub = delta_of(dv, mv, rv, &sm);
            if (!is_empty(sub)) {
                add(delta, k, sub);
                add(meta, k, sm);
            } else {
                cJSON_Delete(sub);
                cJSON_Delete(sm);
            }
        } else if (!rv || !equal(dv, rv)) {
            add(delta, k, dup(dv));
            add(meta, k, mv ? dup(mv) : new_object());
        }
    }
    *meta_out = meta;
    return delta;
}

/* ---- documents -------------------------------------------------------- */

static void doc_clear(ic_shadow_doc_t *d) {
    cJSON_Delete(d->desired);
    cJSON_Delete(d->reported);
    cJSON_Delete(d->desired_meta);
    cJSON_Delete(d->reported_meta);
}

void ic_shadow_doc_free(ic_shadow_doc_t *doc) {
    if (!doc)
        return;
    doc_clear(doc);
    free(doc);
}

static cJSON *dup_or_null(const cJSON *v) {
    return v ? dup(v) : NULL;
}

static ic_shadow_doc_t *doc_clone(const ic_shadow_doc_t *d) {
    ic_shadow_doc_t *n = ic_xcalloc(1, sizeof(*n));
    n->desired = dup_or_null(d->desired);
    n->reported = dup_or_null(d->reported);
    n->desired_meta = dup_or_null(d->desired_meta);
    n->reported_meta = dup_or_null(d->reported_meta);
    n->version = d->version;
    return n;
}

/* {"desired"?,"reported"?} of the given sections (copied). */
static cJSON *sections(const cJSON *desired, const cJSON *reported) {
    cJSON *o = new_object();
    if (desired)
        add(o, "desired", dup(desired));
    if (reported)
        add(o, "reported", dup(reported));
    return o;
}

/* {"state","metadata","version"}: storage and documents previous/current. */
static cJSON *doc_tree(const ic_shadow_doc_t *d) {
    cJSON *o = new_object();
    add(o, "state", sections(d->desired, d->reported));
    add(o, "metadata", sections(d->desired_meta, d->reported_meta));
    add_i64(o, "version", d->version);
    return o;
}

int64_t ic_shadow_doc_version(const ic_shadow_doc_t *doc) {
    return doc->version;
}

char *ic_shadow_doc_to_json(const ic_shadow_doc_t *doc) {
    return print_take(doc_tree(doc));
}

/* A stored section and its metadata: both absent, or both objects with
 * the section non-empty. */
static bool take_section(const cJSON *state, const cJSON *metadata,
                         const char *key, cJSON **sec, cJSON **meta) {
    const cJSON *s = get(state, key), *m = get(metadata, key);
    if (!s && !m)
        return true;
    if (!cJSON_IsObject(s) || is_empty(s) || !cJSON_IsObject(m))
        return false;
    *sec = dup(s);
    *meta = dup(m);
    return true;
}

ic_shadow_doc_t *ic_shadow_doc_from_json(const char *stored) {
    cJSON *root = stored ? cJSON_Parse(stored) : NULL;
    const cJSON *state = get(root, "state"), *metadata = get(root, "metadata");
    const cJSON *ver = get(root, "version");
    ic_shadow_doc_t *d = ic_xcalloc(1, sizeof(*d));
    if (!cJSON_IsObject(state) || !cJSON_IsObject(metadata) ||
        !version_ok(ver) || ver->valuedouble < 1)
        goto fail;
    if (!take_section(state, metadata, "desired", &d->desired, &d->desired_meta) ||
        !take_section(state, metadata, "reported", &d->reported,
                      &d->reported_meta))
        goto fail;
    d->version = (int64_t)ver->valuedouble;
    cJSON_Delete(root);
    return d;
fail:
    ic_shadow_doc_free(d);
    cJSON_Delete(root);
    return NULL;
}

/* ---- responses -------------------------------------------------------- */

void ic_shadow_out_free(ic_shadow_out_t *out) {
    if (!out)
        return;
    free(out->accepted);
    free(out->documents);
    free(out->delta);
    free(out->rejected);
    memset(out, 0, sizeof(*out));
}

static int code_to_rc(int code) {
    switch (code) {
    case 404: return IC_ENOTFOUND;
    case 409: return IC_ECONFLICT;
    case 413: return IC_ETOOBIG;
    default: return IC_EINVAL;
    }
}

/* Fill out->rejected and return the matching IC_E*. token borrowed (NULL =
 * none). Timestamp only where the spec's examples show one (see header). */
static int reject(ic_shadow_out_t *out, int code, const char *message,
                  int64_t now_s, const char *token) {
    cJSON *o = new_object();
    add_i64(o, "code", code);
    add_str(o, "message", message);
    if (code != 404 && code != 409)
        add_i64(o, "timestamp", now_s);
    if (token)
        add_str(o, "clientToken", token);
    out->code = code;
    out->rejected = print_take(o);
    return code_to_rc(code);
}

/* clientToken of a GET/DELETE payload: only from a valid UTF-8 JSON object
 * with a string token of <= 64 bytes; anything else is ignored. Owned. */
static char *ignored_payload_token(const uint8_t *payload, size_t len) {
    cJSON *req, *t;
    char *tok = NULL;
    if (len == 0 || !ic_utf8_valid(payload, len))
        return NULL;
    req = parse_payload(payload, len);
    t = get(req, "clientToken");
    if (token_ok(t))
        tok = ic_xstrdup(t->valuestring);
    cJSON_Delete(req);
    return tok;
}

int ic_shadow_reject(int code, const char *message, const uint8_t *payload,
                     size_t len, int64_t now_s, ic_shadow_out_t *out) {
    char *tok = ignored_payload_token(payload, len);
    int rc = reject(out, code, message, now_s, tok);
    free(tok);
    return rc;
}

static int not_found(ic_shadow_out_t *out, const char *name, int64_t now_s,
                     const char *token) {
    char *msg;
    int rc;
    size_t n = strlen(name) + 64;
    msg = ic_xmalloc(n);
    snprintf(msg, n, "No shadow exists with name: '%s'", name);
    rc = reject(out, 404, msg, now_s, token);
    free(msg);
    return rc;
}

int ic_shadow_get(const ic_shadow_doc_t *doc, const char *not_found_name,
                  const uint8_t *payload, size_t len, int64_t now_s,
                  ic_shadow_out_t *out) {
    char *token;
    cJSON *o, *state;
    int rc = 0;
    assert(out && not_found_name && (payload || len == 0));
    memset(out, 0, sizeof(*out));
    token = ignored_payload_token(payload, len);
    if (!doc) {
        rc = not_found(out, not_found_name, now_s, token);
        free(token);
        return rc;
    }
    o = new_object();
    state = sections(doc->desired, doc->reported);
    if (doc->desired) {
        cJSON *dm, *delta = delta_of(doc->desired, doc->desired_meta,
                                     doc->reported, &dm);
        cJSON_Delete(dm);
        if (is_empty(delta))
            cJSON_Delete(delta);
        else
            add(state, "delta", delta);
    }
    add(o, "state", state);
    add(o, "metadata", sections(doc->desired_meta, doc->reported_meta));
    add_i64(o, "version", doc->version);
    add_i64(o, "timestamp", now_s);
    if (token)
        add_str(o, "clientToken", token);
    out->code = 200;
    out->accepted = print_take(o);
    free(token);
    return rc;
}

int ic_shadow_delete(ic_shadow_doc_t **doc, const char *not_found_name,
                     const uint8_t *payload, size_t len, int64_t now_s,
                     ic_shadow_out_t *out, int64_t *deleted_version) {
    char *token;
    cJSON *o;
    int rc;
    assert(doc && out && deleted_version && not_found_name &&
           (payload || len == 0));
    memset(out, 0, sizeof(*out));
    token = ignored_payload_token(payload, len);
    if (!*doc) {
        rc = not_found(out, not_found_name, now_s, token);
        free(token);
        return rc;
    }
    o = new_object();
    add_i64(o, "version", (*doc)->version);
    add_i64(o, "timestamp", now_s);
    if (token)
        add_str(o, "clientToken", token);
    out->code = 200;
    out->accepted = print_take(o);
    *deleted_version = (*doc)->version;
    ic_shadow_doc_free(*doc);
    *doc = NULL;
    free(token);
    return 0;
}

/* The three update documents. req_state is the request's state (echoed
 * without a "delta" key); prev NULL for a new shadow. */
static void update_documents(const ic_shadow_doc_t *prev,
                             const ic_shadow_doc_t *cur, const cJSON *req_state,
                             int64_t now_s, const char *token,
                             ic_shadow_out_t *out) {
    cJSON *echo = dup(req_state), *o, *meta;
    cJSON_DeleteItemFromObjectCaseSensitive(echo, "delta"); /* no-op on null */

    /* AWS: shadow/update-accepted: request state verbatim, mirrored metadata
     * (keys in the order AWS's examples show) */
    meta = meta_of(echo, now_s);
    o = new_object();
    add(o, "state", echo);
    add(o, "metadata", meta);
    add_i64(o, "version", cur->version);
    add_i64(o, "timestamp", now_s);
    if (token)
        add_str(o, "clientToken", token);
    out->accepted = print_take(o);

    /* AWS: shadow/update-documents */
    o = new_object();
    add(o, "previous", prev ? doc_tree(prev) : nn(cJSON_CreateNull()));
    add(o, "current", doc_tree(cur));
    add_i64(o, "timestamp", now_s);
    if (token)
        add_str(o, "clientToken", token);
    out->documents = print_take(o);

    /* AWS: shadow/update-delta: only when the resulting delta is non-empty */
    if (cur->desired) {
        cJSON *dm, *delta = delta_of(cur->desired, cur->desired_meta,
                                     cur->reported, &dm);
        if (is_empty(delta)) {
            cJSON_Delete(delta);
            cJSON_Delete(dm);
        } else {
            o = new_object();
            add_i64(o, "version", cur->version);
            add_i64(o, "timestamp", now_s);
            add(o, "state", delta);
            add(o, "metadata", dm);
            if (token)
                add_str(o, "clientToken", token);
            out->delta = print_take(o);
        }
    }
}

int ic_shadow_update(ic_shadow_doc_t **doc, int64_t prev_version,
                     const uint8_t *payload, size_t len, int64_t now_s,
                     const ic_shadow_limits_t *lim, ic_shadow_out_t *out) {
    cJSON *req = NULL;
    const cJSON *state, *desired = NULL, *reported = NULL, *tok, *ver;
    const char *token = NULL;
    ic_shadow_doc_t *nd = NULL;
    char msg[96];
    int rc;
    assert(doc && lim && out && (payload || len == 0));
    memset(out, 0, sizeof(*out));

    if (!ic_utf8_valid(payload, len)) {
        rc = reject(out, 415, msg_encoding, now_s, NULL);
        goto done;
    }
    req = parse_payload(payload, len);
    if (!req) {
        rc = reject(out, 400, msg_invalid_json, now_s, NULL);
        goto done;
    }
    /* Parsed as early as possible so that even 400s carry it. */
    tok = get(req, "clientToken");
    if (token_ok(tok))
        token = tok->valuestring;
    state = get(req, "state");
    if (!state) {
        rc = reject(out, 400, "Missing required node: state", now_s, token);
        goto done;
    }
    if (!cJSON_IsObject(state) && !cJSON_IsNull(state)) {
        rc = reject(out, 400, "State node must be an object", now_s, token);
        goto done;
    }
    desired = get(state, "desired");
    reported = get(state, "reported");
    if (desired && !cJSON_IsObject(desired) && !cJSON_IsNull(desired)) {
        rc = reject(out, 400, "Desired node must be an object", now_s, token);
        goto done;
    }
    if (reported && !cJSON_IsObject(reported) && !cJSON_IsNull(reported)) {
        rc = reject(out, 400, "Reported node must be an object", now_s, token);
        goto done;
    }
    if (tok && !token_ok(tok)) {
        rc = reject(out, 400, "Invalid clientToken", now_s, NULL);
        goto done;
    }
    ver = get(req, "version");
    if (ver && !version_ok(ver)) {
        rc = reject(out, 400, "Invalid version", now_s, token);
        goto done;
    }
    if ((desired && !depth_ok(desired, 1, lim->max_depth)) ||
        (reported && !depth_ok(reported, 1, lim->max_depth))) {
        snprintf(msg, sizeof(msg),
                 "JSON contains too many levels of nesting; maximum is %d",
                 lim->max_depth);
        rc = reject(out, 400, msg, now_s, token);
        goto done;
    }
    if ((desired && null_in_array(desired, false)) ||
        (reported && null_in_array(reported, false))) {
        rc = reject(out, 400, msg_invalid_json, now_s, token);
        goto done;
    }
    if (cJSON_IsObject(state)) {
        for (const cJSON *c = state->child; c; c = c->next) {
            if (strcmp(c->string, "desired") != 0 &&
                strcmp(c->string, "reported") != 0 &&
                strcmp(c->string, "delta") != 0) {
                rc = reject(out, 400, "State contains an invalid node", now_s,
                            token);
                goto done;
            }
        }
    }
    if (ver) {
        int64_t want = (int64_t)ver->valuedouble;
        if (*doc && want != (*doc)->version) {
            /* AWS: shadow/version-conflict */
            rc = reject(out, 409, "Version conflict", now_s, token);
            goto done;
        }
        if (!*doc && want != prev_version + 1) {
            rc = reject(out, 400, "Invalid version", now_s, token);
            goto done;
        }
    }

    /* AWS: shadow/size-limit (early form of the check below) */
    if (min_result_bytes(desired) + min_result_bytes(reported) > lim->max_doc_bytes) {
        rc = reject(out, 413, msg_too_big, now_s, token);
        goto done;
    }
    if (*doc) {
        nd = doc_clone(*doc);
    } else {
        nd = ic_xcalloc(1, sizeof(*nd));
        nd->version = prev_version;
    }
    if (cJSON_IsNull(state)) {
        apply_section(&nd->desired, &nd->desired_meta, state, now_s);
        apply_section(&nd->reported, &nd->reported_meta, state, now_s);
    } else {
        apply_section(&nd->desired, &nd->desired_meta, desired, now_s);
        apply_section(&nd->reported, &nd->reported_meta, reported, now_s);
    }
    nd->version++;
    /* AWS: shadow/size-limit: the resulting desired + reported, no metadata */
    if (printed_len(nd->desired) + printed_len(nd->reported) > lim->max_doc_bytes) {
        rc = reject(out, 413, msg_too_big, now_s, token);
        goto done;
    }

    update_documents(*doc, nd, state, now_s, token, out);
    out->code = 200;
    ic_shadow_doc_free(*doc);
    *doc = nd;
    nd = NULL;
    rc = 0;
done:
    ic_shadow_doc_free(nd);
    cJSON_Delete(req);
    return rc;
}
