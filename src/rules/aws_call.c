/* aws_call.c - topic-rule actions as AWS API requests (pure, L1).
 *
 * Job: turn (kind, rendered params, payload, endpoint, now, seed) into the
 * exact HTTP requests AWS IoT sends to the target service, and read the
 * service's answer back into success or an errorMessage. Owns the requests
 * it builds (ic_aws_call_t) and nothing else. Must not: send anything,
 * read a clock or a random source (now and seed are inputs), keep state
 * between calls, or decide retries and error actions (that is the rules
 * engine; ic_aws_call_check only says whether trying again may help).
 *
 * Serialisation follows botocore 1.43 (the reference the unit tests were
 * generated from): json.dumps with ", " / ": " separators and ASCII-only
 * \uXXXX escapes, blobs as base64, form bodies with quote_plus, rest
 * labels percent-encoded with only unreserved characters left, JSON
 * timestamps as integer epoch seconds and rest-json ones as ISO 8601,
 * doubles written as Python writes floats ("23.0", "1e+20"). Numbers taken
 * from the payload keep their text exactly (DynamoDB N, Timestream
 * MeasureValue). Every request is signed with ic_sigv4_sign over all of
 * its headers. AWS: aws-iot-rules.md 9 (actions), 10.3 (error document).
 */
#include "iotcored/aws_call.h"

#include "iotcored/alloc.h"
#include "iotcored/buf.h"
#include "iotcored/error.h"
#include "iotcored/http_parse.h"
#include "iotcored/sigv4.h"
#include "iotcored/str.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define JSON_MAX_DEPTH 64
#define AUTH_CAP 4096
#define MAX_HOST 300

/* ======================================================================
 * Payload JSON: a small strict reader (RFC 8259) that keeps each value's
 * text, so numbers travel exactly as written, and decodes strings.
 * ====================================================================== */

typedef enum { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ } jtype_t;

typedef struct jnode_s jnode_t;
struct jnode_s {
    jtype_t type;
    const char *raw;   /* the value's text in the payload (borrowed) */
    size_t raw_len;
    char *s;           /* J_STR: decoded UTF-8, owned, NUL-terminated */
    size_t s_len;      /* may contain NULs (\u0000) */
    char *key;         /* member name when inside an object (owned) */
    size_t key_len;
    jnode_t *kids;     /* J_ARR / J_OBJ members in order (owned) */
    size_t n, cap;
    bool is_int;       /* J_NUM without fraction or exponent */
};

typedef struct jp_s {
    const char *p, *end;
    int depth;
} jp_t;

static void jnode_fini(jnode_t *n) {
    size_t i;
    for (i = 0; i < n->n; i++)
        jnode_fini(&n->kids[i]);
    free(n->kids);
    free(n->s);
    free(n->key);
}

static void put_utf8(ic_buf_t *b, uint32_t c) {
    uint8_t u8[4];
    ic_buf_append(b, u8, ic_utf8_encode(u8, c));
}

static void jp_ws(jp_t *j) {
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex4(const char *p, const char *end, uint32_t *out) {
    uint32_t v = 0;
    int i;
    if (end - p < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* At '"': decode the string into *out (owned). */
static int jp_string(jp_t *j, char **out, size_t *len) {
    ic_buf_t b;
    uint32_t cp, lo;
    size_t k;
    ic_buf_init(&b);
    j->p++;
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            *len = b.len;
            ic_buf_put_u8(&b, '\0');
            *out = (char *)b.data;
            return 0;
        }
        if (c < 0x20)
            break;
        if (c == '\\') {
            if (j->end - j->p < 2)
                break;
            switch (j->p[1]) {
            case '"': ic_buf_put_u8(&b, '"'); break;
            case '\\': ic_buf_put_u8(&b, '\\'); break;
            case '/': ic_buf_put_u8(&b, '/'); break;
            case 'b': ic_buf_put_u8(&b, '\b'); break;
            case 'f': ic_buf_put_u8(&b, '\f'); break;
            case 'n': ic_buf_put_u8(&b, '\n'); break;
            case 'r': ic_buf_put_u8(&b, '\r'); break;
            case 't': ic_buf_put_u8(&b, '\t'); break;
            case 'u':
                if (hex4(j->p + 2, j->end, &cp) != 0)
                    goto fail;
                j->p += 4;
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    goto fail; /* lone low surrogate */
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (j->end - j->p < 8 || j->p[2] != '\\' || j->p[3] != 'u' ||
                        hex4(j->p + 4, j->end, &lo) != 0 || lo < 0xdc00 ||
                        lo > 0xdfff)
                        goto fail;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    j->p += 6;
                }
                put_utf8(&b, cp);
                break;
            default:
                goto fail;
            }
            j->p += 2;
            continue;
        }
        k = ic_utf8_decode((const unsigned char *)j->p, (size_t)(j->end - j->p), &cp);
        if (k == 0)
            break;
        ic_buf_append(&b, j->p, k);
        j->p += k;
    }
fail:
    ic_buf_free(&b);
    return IC_EINVAL;
}

static int jp_value(jp_t *j, jnode_t *n);

static jnode_t *jp_add(jnode_t *parent) {
    if (parent->n == parent->cap) {
        parent->cap = parent->cap ? parent->cap * 2 : 4;
        parent->kids = ic_xrealloc(parent->kids, parent->cap * sizeof(jnode_t));
    }
    memset(&parent->kids[parent->n], 0, sizeof(jnode_t));
    return &parent->kids[parent->n++];
}

static int jp_number(jp_t *j, jnode_t *n) {
    const char *p = j->p;
    n->type = J_NUM;
    n->is_int = true;
    if (p < j->end && *p == '-')
        p++;
    if (p < j->end && *p == '0') {
        p++;
    } else if (p < j->end && *p >= '1' && *p <= '9') {
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return IC_EINVAL;
    }
    if (p < j->end && *p == '.') {
        n->is_int = false;
        p++;
        if (p >= j->end || *p < '0' || *p > '9')
            return IC_EINVAL;
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        n->is_int = false;
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= j->end || *p < '0' || *p > '9')
            return IC_EINVAL;
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    j->p = p;
    return 0;
}

static int jp_lit(jp_t *j, const char *word, jtype_t t, jnode_t *n) {
    size_t len = strlen(word);
    if ((size_t)(j->end - j->p) < len || memcmp(j->p, word, len) != 0)
        return IC_EINVAL;
    j->p += len;
    n->type = t;
    return 0;
}

static int jp_container(jp_t *j, jnode_t *n, bool is_obj) {
    char close = is_obj ? '}' : ']';
    jnode_t *kid;
    int rc;
    n->type = is_obj ? J_OBJ : J_ARR;
    if (++j->depth > JSON_MAX_DEPTH)
        return IC_EINVAL;
    j->p++;
    jp_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        size_t key_len = 0;
        jp_ws(j);
        if (is_obj) {
            if (j->p >= j->end || *j->p != '"' ||
                jp_string(j, &key, &key_len) != 0)
                return IC_EINVAL;
            jp_ws(j);
            if (j->p >= j->end || *j->p != ':') {
                free(key);
                return IC_EINVAL;
            }
            j->p++;
        }
        kid = jp_add(n);
        kid->key = key;
        kid->key_len = key_len;
        rc = jp_value(j, kid);
        if (rc != 0)
            return rc;
        jp_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            j->depth--;
            return 0;
        }
        return IC_EINVAL;
    }
}

static int jp_value(jp_t *j, jnode_t *n) {
    const char *start;
    int rc;
    jp_ws(j);
    if (j->p >= j->end)
        return IC_EINVAL;
    start = j->p;
    switch (*j->p) {
    case '{': rc = jp_container(j, n, true); break;
    case '[': rc = jp_container(j, n, false); break;
    case '"':
        n->type = J_STR;
        rc = jp_string(j, &n->s, &n->s_len);
        break;
    case 't': rc = jp_lit(j, "true", J_TRUE, n); break;
    case 'f': rc = jp_lit(j, "false", J_FALSE, n); break;
    case 'n': rc = jp_lit(j, "null", J_NULL, n); break;
    default: rc = jp_number(j, n); break;
    }
    n->raw = start;
    n->raw_len = (size_t)(j->p - start);
    return rc;
}

/* Parse a whole document; *out is zeroed and owned by the caller after 0
 * (jnode_fini). */
static int json_parse(const uint8_t *p, size_t len, jnode_t *out) {
    jp_t j = {(const char *)p, (const char *)p + len, 0};
    int rc;
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return IC_EINVAL;
    rc = jp_value(&j, out);
    jp_ws(&j);
    if (rc == 0 && j.p != j.end)
        rc = IC_EINVAL;
    if (rc != 0) {
        jnode_fini(out);
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

/* ======================================================================
 * Writers: JSON as Python's json.dumps writes it, base64, percent codes,
 * Python float text, ISO 8601, UUIDs.
 * ====================================================================== */

/* A JSON string with ensure_ascii escaping; IC_EINVAL if s is not UTF-8. */
static int jw_str(ic_buf_t *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k;
    uint32_t cp;
    ic_buf_put_u8(b, '"');
    while (i < n) {
        k = ic_utf8_decode(p + i, n - i, &cp);
        if (k == 0)
            return IC_EINVAL;
        i += k;
        switch (cp) {
        case '"': ic_buf_append_str(b, "\\\""); continue;
        case '\\': ic_buf_append_str(b, "\\\\"); continue;
        case '\n': ic_buf_append_str(b, "\\n"); continue;
        case '\r': ic_buf_append_str(b, "\\r"); continue;
        case '\t': ic_buf_append_str(b, "\\t"); continue;
        case '\b': ic_buf_append_str(b, "\\b"); continue;
        case '\f': ic_buf_append_str(b, "\\f"); continue;
        default: break;
        }
        if (cp >= 0x20 && cp <= 0x7e) {
            ic_buf_put_u8(b, (uint8_t)cp);
            continue;
        }
        if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000, hi = 0xd800 | (v >> 10), lo = 0xdc00 | (v & 0x3ff);
            ic_buf_appendf(b, "\\u%c%c%c%c", hex[hi >> 12], hex[(hi >> 8) & 15],
                           hex[(hi >> 4) & 15], hex[hi & 15]);
            cp = lo;
        }
        ic_buf_appendf(b, "\\u%c%c%c%c", hex[cp >> 12], hex[(cp >> 8) & 15],
                       hex[(cp >> 4) & 15], hex[cp & 15]);
    }
    ic_buf_put_u8(b, '"');
    return 0;
}

/* `"name": ` after a ", " unless it is the first member. */
static void jw_key(ic_buf_t *b, bool *first, const char *name) {
    if (!*first)
        ic_buf_append_str(b, ", ");
    *first = false;
    jw_str(b, name, strlen(name)); /* names here are ASCII constants */
    ic_buf_append_str(b, ": ");
}

static void jw_sep(ic_buf_t *b, bool *first) {
    if (!*first)
        ic_buf_append_str(b, ", ");
    *first = false;
}


/* A JSON string holding base64 of p[0..n) (+ sep). */
static void jw_b64(ic_buf_t *b, const uint8_t *p, size_t n, const char *sep) {
    ic_buf_t tmp;
    ic_buf_init(&tmp);
    ic_buf_append(&tmp, p, n);
    if (sep != NULL)
        ic_buf_append_str(&tmp, sep);
    ic_buf_put_u8(b, '"');
    ic_buf_append_b64(b, tmp.data, tmp.len);
    ic_buf_put_u8(b, '"');
    ic_buf_free(&tmp);
}

static bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

/* Percent-encode (botocore percent_encode): unreserved characters and, when
 * keep_slash, '/' stay; space is %20 (form: '+'). */
static void pct_put(ic_buf_t *b, const char *s, size_t n, bool keep_slash,
                    bool form) {
    static const char d[] = "0123456789ABCDEF";
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            ic_buf_put_u8(b, c);
        } else if (form && c == ' ') {
            ic_buf_put_u8(b, '+');
        } else {
            ic_buf_put_u8(b, '%');
            ic_buf_put_u8(b, (uint8_t)d[c >> 4]);
            ic_buf_put_u8(b, (uint8_t)d[c & 15]);
        }
    }
}

static void form_pair(ic_buf_t *b, const char *k, const char *v, size_t vlen) {
    if (b->len > 0)
        ic_buf_put_u8(b, '&');
    pct_put(b, k, strlen(k), false, true);
    ic_buf_put_u8(b, '=');
    pct_put(b, v, vlen, false, true);
}

/* A finite double as Python's repr() writes it: the shortest digits that
 * read back to v; positional for exponents -4..15 (with ".0" when
 * integral), else d.ddde+XX. out needs 32 bytes. */
static void py_float(double v, char *out, size_t cap) {
    char tmp[40], digits[24];
    int prec, exp10 = 0, nd = 0, i;
    const char *p;
    size_t o = 0;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    p = tmp;
    if (*p == '-') {
        out[o++] = '-';
        p++;
    }
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    digits[nd] = '\0';
    if (*p == 'e')
        exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        digits[--nd] = '\0';
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 < 0) {
            o += (size_t)snprintf(out + o, cap - o, "0.");
            for (i = 0; i < -exp10 - 1; i++)
                out[o++] = '0';
            snprintf(out + o, cap - o, "%s", digits);
        } else {
            for (i = 0; i <= exp10; i++)
                out[o++] = i < nd ? digits[i] : '0';
            out[o++] = '.';
            if (nd > exp10 + 1)
                snprintf(out + o, cap - o, "%s", digits + exp10 + 1);
            else
                snprintf(out + o, cap - o, "0");
        }
    } else {
        out[o++] = digits[0];
        if (nd > 1)
            o += (size_t)snprintf(out + o, cap - o, ".%s", digits + 1);
        snprintf(out + o, cap - o, "e%c%02d", exp10 < 0 ? '-' : '+',
                 exp10 < 0 ? -exp10 : exp10);
    }
}

/* ISO 8601 UTC as botocore writes it: seconds, or microseconds when the
 * fraction is not zero. */
static void iso8601(int64_t unix_us, char *out, size_t cap) {
    int64_t s = unix_us / 1000000, us = unix_us % 1000000;
    time_t t;
    struct tm tm;
    int y;
    if (us < 0) {
        us += 1000000;
        s--;
    }
    t = (time_t)s;
    gmtime_r(&t, &tm);
    y = tm.tm_year + 1900;
    if (y < 0 || y > 9999) /* callers keep times within 0000..9999 */
        y = y < 0 ? 0 : 9999;
    if (us == 0)
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", y,
                 (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100,
                 tm.tm_min % 100, tm.tm_sec % 100);
    else
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", y,
                 (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100,
                 tm.tm_min % 100, tm.tm_sec % 100, (int)us);
}

static void sha256_hex(const uint8_t *p, size_t n, char out[65]) {
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int len = 0, i;
    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    for (i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* ======================================================================
 * Strict number texts from rendered parameters.
 * ====================================================================== */

/* Decimal (JSON-like, leading '+' allowed, surrounding spaces not) to a
 * finite double. */
static bool parse_double(const char *s, double *out) {
    const char *p = s;
    char *end;
    bool digits = false;
    if (*p == '+' || *p == '-')
        p++;
    while (*p >= '0' && *p <= '9') {
        p++;
        digits = true;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            p++;
            digits = true;
        }
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p != '\0')
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);
}

static bool parse_i64(const char *s, int64_t *out) {
    return ic_str_to_i64(s, out) == 0;
}

/* ======================================================================
 * Building requests.
 * ====================================================================== */

enum { CHECK_NONE = 0, CHECK_FIREHOSE_BATCH, CHECK_IOTEVENTS, CHECK_SITEWISE,
       CHECK_ANALYTICS, CHECK_LOCATION, CHECK_LOGS };

/* A URL split for requests and signing. */
typedef struct url_s {
    char origin[MAX_HOST + 16]; /* scheme://authority as given */
    char host[MAX_HOST + 1];    /* Host header: authority minus a default port */
    const char *path;           /* into the URL: up to '?' / '#' */
    size_t path_len;
    const char *query;          /* after '?', up to '#' */
    size_t query_len;
} url_t;

static int url_split(const char *url, url_t *u) {
    const char *p, *auth;
    size_t alen, slen, i;
    bool tls;
    memset(u, 0, sizeof(*u));
    if (url == NULL)
        return IC_EINVAL;
    for (p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
            return IC_EINVAL;
    if (strncasecmp(url, "http://", 7) == 0) {
        tls = false;
        slen = 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        tls = true;
        slen = 8;
    } else {
        return IC_EINVAL;
    }
    auth = url + slen;
    alen = strcspn(auth, "/?#");
    if (alen == 0 || alen > MAX_HOST || memchr(auth, '@', alen) != NULL)
        return IC_EINVAL;
    for (i = 0; i < alen; i++) {
        unsigned char c = (unsigned char)auth[i];
        if (!(is_unreserved(c) || c == ':' || c == '[' || c == ']'))
            return IC_EINVAL;
    }
    snprintf(u->origin, sizeof(u->origin), "%s%.*s", tls ? "https://" : "http://",
             (int)alen, auth);
    snprintf(u->host, sizeof(u->host), "%.*s", (int)alen, auth);
    /* botocore and AWS sign the Host without a default port */
    slen = strlen(u->host);
    if (!tls && slen > 3 && strcmp(u->host + slen - 3, ":80") == 0)
        u->host[slen - 3] = '\0';
    else if (tls && slen > 4 && strcmp(u->host + slen - 4, ":443") == 0)
        u->host[slen - 4] = '\0';
    p = auth + alen;
    u->path = p;
    u->path_len = strcspn(p, "?#");
    if (p[u->path_len] == '?') {
        u->query = p + u->path_len + 1;
        u->query_len = strcspn(u->query, "#");
    } else {
        u->query = "";
    }
    return 0;
}

typedef struct bld_s {
    const ic_aws_call_in_t *in;
    ic_aws_call_t *call;
    char *why;
    size_t whylen;
    uint32_t n_uuids;     /* UUIDs handed out so far */
    jnode_t doc;          /* the payload, when it is JSON */
    bool is_json;
    char **scratch;       /* strings made from non-string params */
    size_t n_scratch;
} bld_t;

static int fail(bld_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(bld_t *b, const char *fmt, ...) {
    va_list ap;
    if (b->why != NULL && b->whylen > 0) {
        va_start(ap, fmt);
        vsnprintf(b->why, b->whylen, fmt, ap);
        va_end(ap);
    }
    return IC_EINVAL;
}

/* UUID number n_uuids, version 4 form, from SHA-256(seed || n). */
static void next_uuid(bld_t *b, char out[37]) {
    static const char hex[] = "0123456789abcdef";
    uint8_t in[20], md[32];
    unsigned int len = 0;
    int i, o = 0;
    memcpy(in, b->in->seed, 16);
    in[16] = (uint8_t)(b->n_uuids >> 24);
    in[17] = (uint8_t)(b->n_uuids >> 16);
    in[18] = (uint8_t)(b->n_uuids >> 8);
    in[19] = (uint8_t)b->n_uuids;
    b->n_uuids++;
    EVP_Digest(in, sizeof(in), md, &len, EVP_sha256(), NULL);
    md[6] = (uint8_t)((md[6] & 0x0f) | 0x40);
    md[8] = (uint8_t)((md[8] & 0x3f) | 0x80);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[md[i] >> 4];
        out[o++] = hex[md[i] & 15];
    }
    out[o] = '\0';
}

/* --- parameters --------------------------------------------------------- */

static const char *keep(bld_t *b, char *s) {
    b->scratch = ic_xrealloc(b->scratch, (b->n_scratch + 1) * sizeof(char *));
    b->scratch[b->n_scratch++] = s;
    return s;
}

/* A string field: 0 with *out (NULL when absent and optional) or
 * IC_EINVAL. Numbers and booleans are taken as their JSON text. */
static int get_str(bld_t *b, const cJSON *p, const char *name, bool required,
                   const char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, name);
    *out = NULL;
    if (v == NULL || cJSON_IsNull(v)) {
        if (required)
            return fail(b, "%s is required", name);
        return 0;
    }
    if (cJSON_IsString(v)) {
        *out = v->valuestring;
        return 0;
    }
    if (cJSON_IsNumber(v) || cJSON_IsBool(v)) {
        *out = keep(b, cJSON_PrintUnformatted(v));
        return 0;
    }
    return fail(b, "%s must be a string", name);
}

static int get_bool(bld_t *b, const cJSON *p, const char *name, bool *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, name);
    *out = false;
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return 0;
    }
    if (cJSON_IsString(v) && strcasecmp(v->valuestring, "true") == 0) {
        *out = true;
        return 0;
    }
    if (cJSON_IsString(v) && strcasecmp(v->valuestring, "false") == 0)
        return 0;
    return fail(b, "%s must be true or false", name);
}

static bool one_of(const char *s, const char *const *set) {
    for (; *set != NULL; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

/* jw_str for a parameter: a value that is not UTF-8 fails the action. */
static int jw_param(bld_t *b, ic_buf_t *out, const char *name, const char *v) {
    if (jw_str(out, v, strlen(v)) != 0)
        return fail(b, "%s is not valid UTF-8", name);
    return 0;
}

/* The payload as a JSON string (the API takes text). */
static int jw_payload_text(bld_t *b, ic_buf_t *out, const char *hint) {
    const ic_aws_call_in_t *in = b->in;
    if (jw_str(out, (const char *)in->payload, in->payload_len) != 0)
        return fail(b, "payload is not valid UTF-8 text%s", hint);
    return 0;
}

/* --- requests ----------------------------------------------------------- */

static void req_header(ic_aws_req_t *r, const char *name, const char *value) {
    ic_http_header_t *h;
    r->headers = ic_xrealloc(r->headers, (r->n_headers + 1) * sizeof(*r->headers));
    h = &r->headers[r->n_headers++];
    h->name = ic_xstrdup(name);
    h->name_len = strlen(name);
    h->value = ic_xstrdup(value);
    h->value_len = strlen(value);
}

static ic_aws_req_t *new_req(bld_t *b, const char *method, const char *op,
                             const char *service) {
    ic_aws_call_t *c = b->call;
    ic_aws_req_t *r;
    c->reqs = ic_xrealloc(c->reqs, (c->n_reqs + 1) * sizeof(*c->reqs));
    r = &c->reqs[c->n_reqs++];
    memset(r, 0, sizeof(*r));
    r->method = method;
    r->operation = op;
    snprintf(r->service, sizeof(r->service), "%s", service);
    return r;
}

static void req_take_body(ic_aws_req_t *r, ic_buf_t *body) {
    if (body->len > 0) {
        r->body = body->data;
        r->body_len = body->len;
    } else {
        ic_buf_free(body);
    }
    ic_buf_init(body);
}

typedef struct hv_s {
    const char *name, *value;
} hv_t;

/* S3 signs the path as sent (no normalisation, no second encoding), while
 * ic_sigv4_sign normalises and encodes once more. Handing it the decoded
 * path gives S3's canonical URI back, as long as no segment is empty, "."
 * or "..": those keys are refused. */
static int s3_sign_path(bld_t *b, const char *path, ic_buf_t *out) {
    size_t n = strlen(path), i, seg = 0;
    char *dec = ic_xmalloc(n + 1);
    long len = ic_http_pct_decode(path, n, dec, n + 1);
    if (len < 0) {
        free(dec);
        return fail(b, "key cannot be encoded");
    }
    for (i = 1; i <= (size_t)len; i++) {
        if (i == (size_t)len || dec[i] == '/') {
            size_t sl = i - seg - 1;
            const char *s = dec + seg + 1;
            bool last = i == (size_t)len;
            if ((sl == 0 && !last) || (sl == 1 && s[0] == '.') ||
                (sl == 2 && s[0] == '.' && s[1] == '.')) {
                free(dec);
                return fail(b, "key has an empty, \".\" or \"..\" path segment");
            }
            seg = i;
        }
    }
    ic_buf_append(out, dec, (size_t)len);
    ic_buf_put_u8(out, '\0');
    free(dec);
    return 0;
}

/* Add one signed request: base URL (its path prefixes path), method,
 * path (already percent-encoded; "" for "/"), extra headers, body (taken).
 * is_s3: S3's canonical path rules. */
static int add_signed(bld_t *b, const url_t *base, const char *method,
                      const char *op, const char *service, const char *region,
                      const char *path, bool is_s3, const hv_t *extra,
                      size_t n_extra, ic_buf_t *body) {
    const ic_aws_endpoint_t *ep = b->in->ep;
    ic_buf_t full, url, spath;
    ic_aws_req_t *r;
    char amz[17], auth[AUTH_CAP];
    size_t plen = base->path_len, i;
    int rc;

    ic_buf_init(&full);
    ic_buf_init(&url);
    ic_buf_init(&spath);
    while (plen > 0 && base->path[plen - 1] == '/')
        plen--;
    ic_buf_append(&full, base->path, plen);
    ic_buf_append_str(&full, path[0] ? path : "/");
    ic_buf_put_u8(&full, '\0');
    if (is_s3) {
        rc = s3_sign_path(b, (const char *)full.data, &spath);
        if (rc != 0)
            goto done;
    } else {
        ic_buf_append(&spath, full.data, full.len);
    }
    ic_buf_append_str(&url, base->origin);
    ic_buf_append_str(&url, (const char *)full.data);
    if (base->query_len > 0) {
        ic_buf_put_u8(&url, '?');
        ic_buf_append(&url, base->query, base->query_len);
    }
    ic_buf_put_u8(&url, '\0');

    r = new_req(b, method, op, service);
    r->url = (char *)url.data;
    ic_buf_init(&url);
    ic_sigv4_amz_date(b->in->now_ms / 1000, amz);
    req_header(r, "Host", base->host);
    req_header(r, "X-Amz-Date", amz);
    if (ep->session_token != NULL && ep->session_token[0] != '\0')
        req_header(r, "X-Amz-Security-Token", ep->session_token);
    for (i = 0; i < n_extra; i++)
        req_header(r, extra[i].name, extra[i].value);
    req_take_body(r, body);
    {
        char *q = ic_xstrndup(base->query, base->query_len);
        rc = ic_sigv4_sign(method, (const char *)spath.data, q, r->headers,
                           r->n_headers, r->body, r->body_len, ep->access_key,
                           ep->secret_key, region, service, auth, sizeof(auth));
        free(q);
    }
    if (rc != 0) {
        rc = fail(b, "cannot sign the %s request", op);
        goto done;
    }
    req_header(r, "Authorization", auth);
done:
    ic_buf_free(&full);
    ic_buf_free(&url);
    ic_buf_free(&spath);
    ic_buf_free(body);
    return rc;
}

static int endpoint_url(bld_t *b, url_t *u) {
    const ic_aws_endpoint_t *ep = b->in->ep;
    if (url_split(ep->url, u) != 0)
        return fail(b, "aws endpoint URL %.200s is invalid", ep->url);
    return 0;
}

/* POST / with an awsJson body (X-Amz-Target prefix.op). */
static int aws_json(bld_t *b, const char *service, const char *prefix,
                    const char *op, const char *version, bool query_mode,
                    ic_buf_t *body) {
    char target[128], ctype[64];
    hv_t h[3];
    size_t n = 0;
    url_t u;
    int rc = endpoint_url(b, &u);
    if (rc != 0) {
        ic_buf_free(body);
        return rc;
    }
    snprintf(target, sizeof(target), "%s.%s", prefix, op);
    snprintf(ctype, sizeof(ctype), "application/x-amz-json-%s", version);
    h[n++] = (hv_t){"X-Amz-Target", target};
    h[n++] = (hv_t){"Content-Type", ctype};
    if (query_mode) /* botocore, for services that were query-protocol */
        h[n++] = (hv_t){"x-amzn-query-mode", "true"};
    return add_signed(b, &u, "POST", op, service, b->in->ep->region, "", false,
                      h, n, body);
}

/* POST {path} with a rest-json body. */
static int rest_json(bld_t *b, const char *service, const char *op,
                     const char *path, ic_buf_t *body) {
    hv_t h[1] = {{"Content-Type", "application/json"}};
    url_t u;
    int rc = endpoint_url(b, &u);
    if (rc != 0) {
        ic_buf_free(body);
        return rc;
    }
    return add_signed(b, &u, "POST", op, service, b->in->ep->region, path,
                      false, h, 1, body);
}

/* ======================================================================
 * The kinds.
 * ====================================================================== */

static int k_sqs(bld_t *b, const cJSON *p) {
    const char *q;
    bool b64, first = true;
    ic_buf_t body;
    int rc;
    if ((rc = get_str(b, p, "queueUrl", true, &q)) != 0 ||
        (rc = get_bool(b, p, "useBase64", &b64)) != 0)
        return rc;
    ic_buf_init(&body);
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "QueueUrl");
    rc = jw_param(b, &body, "queueUrl", q);
    jw_key(&body, &first, "MessageBody");
    if (b64) /* AWS: useBase64 sends the payload bytes base64-encoded */
        jw_b64(&body, b->in->payload, b->in->payload_len, NULL);
    else if (rc == 0)
        rc = jw_payload_text(b, &body, " (set useBase64 for binary)");
    ic_buf_put_u8(&body, '}');
    if (rc != 0) {
        ic_buf_free(&body);
        return rc;
    }
    return aws_json(b, "sqs", "AmazonSQS", "SendMessage", "1.0", true, &body);
}

static int k_sns(bld_t *b, const cJSON *p) {
    static const char *const formats[] = {"RAW", "JSON", NULL};
    const char *arn, *fmt;
    hv_t h[1] = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    ic_buf_t body;
    url_t u;
    int rc;
    if ((rc = get_str(b, p, "targetArn", true, &arn)) != 0 ||
        (rc = get_str(b, p, "messageFormat", false, &fmt)) != 0)
        return rc;
    if (fmt != NULL && !one_of(fmt, formats))
        return fail(b, "messageFormat must be RAW or JSON");
    if (!ic_utf8_valid(b->in->payload, b->in->payload_len))
        return fail(b, "payload is not valid UTF-8 text");
    if ((rc = endpoint_url(b, &u)) != 0)
        return rc;
    ic_buf_init(&body);
    form_pair(&body, "Action", "Publish", 7);
    form_pair(&body, "Version", "2010-03-31", 10);
    form_pair(&body, "TargetArn", arn, strlen(arn));
    form_pair(&body, "Message", (const char *)b->in->payload, b->in->payload_len);
    if (fmt != NULL && strcmp(fmt, "JSON") == 0) /* per-protocol messages */
        form_pair(&body, "MessageStructure", "json", 4);
    return add_signed(b, &u, "POST", "Publish", "sns", b->in->ep->region, "",
                      false, h, 1, &body);
}

static int k_lambda(bld_t *b, const cJSON *p) {
    hv_t h[1] = {{"X-Amz-Invocation-Type", "Event"}}; /* asynchronous [DOC] */
    const char *fn;
    ic_buf_t path, body;
    url_t u;
    int rc;
    if ((rc = get_str(b, p, "functionArn", true, &fn)) != 0)
        return rc;
    if (!b->is_json) /* U75: binary payloads must be wrapped by the SQL */
        return fail(b, "payload is not JSON (Lambda takes a JSON event)");
    if ((rc = endpoint_url(b, &u)) != 0)
        return rc;
    ic_buf_init(&path);
    ic_buf_init(&body);
    ic_buf_append_str(&path, "/2015-03-31/functions/");
    pct_put(&path, fn, strlen(fn), false, false);
    ic_buf_append_str(&path, "/invocations");
    ic_buf_put_u8(&path, '\0');
    ic_buf_append(&body, b->in->payload, b->in->payload_len);
    rc = add_signed(b, &u, "POST", "Invoke", "lambda", b->in->ep->region,
                    (const char *)path.data, false, h, 1, &body);
    ic_buf_free(&path);
    return rc;
}

/* A payload value as a DynamoDB AttributeValue (U77). */
static void ddb_av(ic_buf_t *o, const jnode_t *v) {
    bool first = true;
    size_t i;
    switch (v->type) {
    case J_STR:
        ic_buf_append_str(o, "{\"S\": ");
        jw_str(o, v->s, v->s_len);
        break;
    case J_NUM:
        ic_buf_append_str(o, "{\"N\": \"");
        ic_buf_append(o, v->raw, v->raw_len);
        ic_buf_put_u8(o, '"');
        break;
    case J_TRUE:
    case J_FALSE:
        ic_buf_appendf(o, "{\"BOOL\": %s", v->type == J_TRUE ? "true" : "false");
        break;
    case J_NULL:
        ic_buf_append_str(o, "{\"NULL\": true");
        break;
    case J_OBJ:
        ic_buf_append_str(o, "{\"M\": {");
        for (i = 0; i < v->n; i++) {
            jw_sep(o, &first);
            jw_str(o, v->kids[i].key, v->kids[i].key_len);
            ic_buf_append_str(o, ": ");
            ddb_av(o, &v->kids[i]);
        }
        ic_buf_put_u8(o, '}');
        break;
    case J_ARR:
        ic_buf_append_str(o, "{\"L\": [");
        for (i = 0; i < v->n; i++) {
            jw_sep(o, &first);
            ddb_av(o, &v->kids[i]);
        }
        ic_buf_put_u8(o, ']');
        break;
    }
    ic_buf_put_u8(o, '}');
}

/* One key attribute: {"name": {"S"|"N": "value"}}. */
static int ddb_key_attr(bld_t *b, ic_buf_t *o, bool *first, const char *field,
                        const char *value, const char *type, const char *what) {
    double d;
    bool is_num;
    int rc;
    if (type != NULL && strcmp(type, "STRING") != 0 && strcmp(type, "NUMBER") != 0)
        return fail(b, "%sKeyType must be STRING or NUMBER", what);
    is_num = type != NULL && strcmp(type, "NUMBER") == 0;
    if (is_num && !parse_double(value, &d))
        return fail(b, "%sKeyValue %.100s is not a number (%sKeyType NUMBER)",
                    what, value, what);
    jw_sep(o, first);
    if ((rc = jw_param(b, o, "key field", field)) != 0)
        return rc;
    ic_buf_appendf(o, ": {\"%s\": ", is_num ? "N" : "S");
    if ((rc = jw_param(b, o, "key value", value)) != 0)
        return rc;
    ic_buf_put_u8(o, '}');
    return 0;
}

static int k_dynamodb(bld_t *b, const cJSON *p) {
    const char *table, *hf, *hv, *ht, *rf, *rv, *rt, *pf, *op;
    ic_buf_t body, key, val;
    bool first = true, kfirst = true;
    const char *opname;
    int rc;
    if ((rc = get_str(b, p, "tableName", true, &table)) != 0 ||
        (rc = get_str(b, p, "hashKeyField", true, &hf)) != 0 ||
        (rc = get_str(b, p, "hashKeyValue", true, &hv)) != 0 ||
        (rc = get_str(b, p, "hashKeyType", false, &ht)) != 0 ||
        (rc = get_str(b, p, "rangeKeyField", false, &rf)) != 0 ||
        (rc = get_str(b, p, "rangeKeyValue", false, &rv)) != 0 ||
        (rc = get_str(b, p, "rangeKeyType", false, &rt)) != 0 ||
        (rc = get_str(b, p, "payloadField", false, &pf)) != 0 ||
        (rc = get_str(b, p, "operation", false, &op)) != 0)
        return rc;
    if (rf != NULL && rv == NULL)
        return fail(b, "rangeKeyValue is required with rangeKeyField");
    if (pf == NULL || pf[0] == '\0')
        pf = "payload"; /* DOC: the default column */
    if (op == NULL || op[0] == '\0' || strcasecmp(op, "INSERT") == 0)
        opname = "PutItem";
    else if (strcasecmp(op, "UPDATE") == 0)
        opname = "UpdateItem";
    else if (strcasecmp(op, "DELETE") == 0)
        opname = "DeleteItem";
    else
        return fail(b, "operation %.50s is not INSERT, UPDATE or DELETE", op);

    ic_buf_init(&body);
    ic_buf_init(&key);
    ic_buf_init(&val);
    rc = ddb_key_attr(b, &key, &kfirst, hf, hv, ht, "hash");
    if (rc == 0 && rf != NULL)
        rc = ddb_key_attr(b, &key, &kfirst, rf, rv, rt, "range");
    /* U76: a JSON object payload is a Map, anything else Binary */
    if (b->is_json && b->doc.type == J_OBJ) {
        ddb_av(&val, &b->doc);
    } else {
        ic_buf_append_str(&val, "{\"B\": ");
        jw_b64(&val, b->in->payload, b->in->payload_len, NULL);
        ic_buf_put_u8(&val, '}');
    }
    if (rc != 0)
        goto done;
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "TableName");
    if ((rc = jw_param(b, &body, "tableName", table)) != 0)
        goto done;
    if (strcmp(opname, "PutItem") == 0) {
        jw_key(&body, &first, "Item");
        ic_buf_put_u8(&body, '{');
        ic_buf_append(&body, key.data, key.len);
        ic_buf_append_str(&body, ", ");
        if ((rc = jw_param(b, &body, "payloadField", pf)) != 0)
            goto done;
        ic_buf_append_str(&body, ": ");
        ic_buf_append(&body, val.data, val.len);
        ic_buf_put_u8(&body, '}');
    } else {
        jw_key(&body, &first, "Key");
        ic_buf_put_u8(&body, '{');
        ic_buf_append(&body, key.data, key.len);
        ic_buf_put_u8(&body, '}');
        if (strcmp(opname, "UpdateItem") == 0) {
            jw_key(&body, &first, "UpdateExpression");
            ic_buf_append_str(&body, "\"SET #p = :p\"");
            jw_key(&body, &first, "ExpressionAttributeNames");
            ic_buf_append_str(&body, "{\"#p\": ");
            if ((rc = jw_param(b, &body, "payloadField", pf)) != 0)
                goto done;
            ic_buf_put_u8(&body, '}');
            jw_key(&body, &first, "ExpressionAttributeValues");
            ic_buf_append_str(&body, "{\":p\": ");
            ic_buf_append(&body, val.data, val.len);
            ic_buf_put_u8(&body, '}');
        }
    }
    ic_buf_put_u8(&body, '}');
    rc = aws_json(b, "dynamodb", "DynamoDB_20120810", opname, "1.0", false, &body);
done:
    ic_buf_free(&body);
    ic_buf_free(&key);
    ic_buf_free(&val);
    return rc;
}

static int k_dynamodbv2(bld_t *b, const cJSON *p) {
    const cJSON *put = cJSON_GetObjectItemCaseSensitive(p, "putItem");
    const char *table;
    ic_buf_t body;
    bool first = true, mfirst = true;
    size_t i;
    int rc;
    if (!cJSON_IsObject(put))
        return fail(b, "putItem is required");
    if ((rc = get_str(b, put, "tableName", true, &table)) != 0)
        return rc;
    if (!b->is_json || b->doc.type != J_OBJ) /* DOC: members become attributes */
        return fail(b, "payload is not a JSON object (dynamoDBv2 writes its "
                       "members as attributes)");
    ic_buf_init(&body);
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "TableName");
    if ((rc = jw_param(b, &body, "tableName", table)) != 0) {
        ic_buf_free(&body);
        return rc;
    }
    jw_key(&body, &first, "Item");
    ic_buf_put_u8(&body, '{');
    for (i = 0; i < b->doc.n; i++) {
        jw_sep(&body, &mfirst);
        jw_str(&body, b->doc.kids[i].key, b->doc.kids[i].key_len);
        ic_buf_append_str(&body, ": ");
        ddb_av(&body, &b->doc.kids[i]);
    }
    ic_buf_append_str(&body, "}}");
    return aws_json(b, "dynamodb", "DynamoDB_20120810", "PutItem", "1.0", false,
                    &body);
}

static int k_kinesis(bld_t *b, const cJSON *p) {
    const char *stream, *pk;
    char uuid[37];
    ic_buf_t body;
    bool first = true;
    int rc;
    if ((rc = get_str(b, p, "streamName", true, &stream)) != 0 ||
        (rc = get_str(b, p, "partitionKey", false, &pk)) != 0)
        return rc;
    if (pk == NULL || pk[0] == '\0') { /* U78; an empty render too */
        next_uuid(b, uuid);
        pk = uuid;
    }
    ic_buf_init(&body);
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "StreamName");
    rc = jw_param(b, &body, "streamName", stream);
    jw_key(&body, &first, "Data");
    jw_b64(&body, b->in->payload, b->in->payload_len, NULL);
    jw_key(&body, &first, "PartitionKey");
    if (rc == 0)
        rc = jw_param(b, &body, "partitionKey", pk);
    ic_buf_put_u8(&body, '}');
    if (rc != 0) {
        ic_buf_free(&body);
        return rc;
    }
    return aws_json(b, "kinesis", "Kinesis_20131202", "PutRecord", "1.1", false,
                    &body);
}

static int k_firehose(bld_t *b, const cJSON *p) {
    static const char *const seps[] = {"\n", "\t", "\r\n", ",", NULL};
    const char *name, *sep;
    bool batch, first = true, rfirst = true;
    ic_buf_t body;
    size_t i;
    int rc;
    if ((rc = get_str(b, p, "deliveryStreamName", true, &name)) != 0 ||
        (rc = get_str(b, p, "separator", false, &sep)) != 0 ||
        (rc = get_bool(b, p, "batchMode", &batch)) != 0)
        return rc;
    if (sep != NULL && sep[0] == '\0')
        sep = NULL;
    if (sep != NULL && !one_of(sep, seps))
        return fail(b, "separator must be \\n, \\t, \\r\\n or ,");
    batch = batch && b->is_json && b->doc.type == J_ARR;
    if (batch && (b->doc.n == 0 || b->doc.n > 500))
        return fail(b, "batchMode payload must be an array of 1 to 500 records");
    ic_buf_init(&body);
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "DeliveryStreamName");
    if ((rc = jw_param(b, &body, "deliveryStreamName", name)) != 0) {
        ic_buf_free(&body);
        return rc;
    }
    if (batch) { /* DOC: one record per element */
        jw_key(&body, &first, "Records");
        ic_buf_put_u8(&body, '[');
        for (i = 0; i < b->doc.n; i++) {
            jw_sep(&body, &rfirst);
            ic_buf_append_str(&body, "{\"Data\": ");
            jw_b64(&body, (const uint8_t *)b->doc.kids[i].raw,
                   b->doc.kids[i].raw_len, sep);
            ic_buf_put_u8(&body, '}');
        }
        ic_buf_append_str(&body, "]}");
    } else {
        jw_key(&body, &first, "Record");
        ic_buf_append_str(&body, "{\"Data\": ");
        jw_b64(&body, b->in->payload, b->in->payload_len, sep);
        ic_buf_append_str(&body, "}}");
    }
    rc = aws_json(b, "firehose", "Firehose_20150804",
                  batch ? "PutRecordBatch" : "PutRecord", "1.1", false, &body);
    if (rc == 0 && batch)
        b->call->reqs[b->call->n_reqs - 1].check_ = CHECK_FIREHOSE_BATCH;
    return rc;
}

static int k_s3(bld_t *b, const cJSON *p) {
    static const char *const acls[] = {
        "private", "public-read", "public-read-write", "aws-exec-read",
        "authenticated-read", "bucket-owner-read", "bucket-owner-full-control",
        "log-delivery-write", NULL};
    const char *bucket, *key, *acl;
    char hash[65];
    hv_t h[2];
    size_t n = 0;
    ic_buf_t path, body;
    url_t u;
    int rc;
    if ((rc = get_str(b, p, "bucketName", true, &bucket)) != 0 ||
        (rc = get_str(b, p, "key", true, &key)) != 0 ||
        (rc = get_str(b, p, "cannedAcl", false, &acl)) != 0)
        return rc;
    if (bucket[0] == '\0' || key[0] == '\0')
        return fail(b, "%s is empty", bucket[0] ? "key" : "bucketName");
    if (acl != NULL && !one_of(acl, acls))
        return fail(b, "cannedAcl %.50s is not a canned ACL", acl);
    if ((rc = endpoint_url(b, &u)) != 0)
        return rc;
    sha256_hex(b->in->payload, b->in->payload_len, hash);
    if (acl != NULL)
        h[n++] = (hv_t){"x-amz-acl", acl};
    h[n++] = (hv_t){"X-Amz-Content-SHA256", hash};
    ic_buf_init(&path);
    ic_buf_init(&body);
    ic_buf_put_u8(&path, '/');
    pct_put(&path, bucket, strlen(bucket), false, false);
    ic_buf_put_u8(&path, '/');
    pct_put(&path, key, strlen(key), true, false); /* {Key+}: '/' kept */
    ic_buf_put_u8(&path, '\0');
    ic_buf_append(&body, b->in->payload, b->in->payload_len);
    rc = add_signed(b, &u, "PUT", "PutObject", "s3", b->in->ep->region,
                    (const char *)path.data, true, h, n, &body);
    ic_buf_free(&path);
    return rc;
}

static int k_cw_metric(bld_t *b, const cJSON *p) {
    const char *ns, *name, *value, *unit, *ts;
    ic_buf_t body;
    bool first = true, mfirst = true;
    char num[40];
    double v, tsd;
    int64_t t;
    int rc;
    if ((rc = get_str(b, p, "metricNamespace", true, &ns)) != 0 ||
        (rc = get_str(b, p, "metricName", true, &name)) != 0 ||
        (rc = get_str(b, p, "metricValue", true, &value)) != 0 ||
        (rc = get_str(b, p, "metricUnit", true, &unit)) != 0 ||
        (rc = get_str(b, p, "metricTimestamp", false, &ts)) != 0)
        return rc;
    if (!parse_double(value, &v)) /* DOC: parsed as a double */
        return fail(b, "metricValue %.100s is not a number", value);
    if (ts != NULL && ts[0] != '\0') {
        if (!parse_double(ts, &tsd) || tsd < 0 || tsd > 253402300799.0)
            return fail(b, "metricTimestamp %.100s is not epoch seconds", ts);
        t = (int64_t)tsd; /* botocore: whole seconds */
    } else {
        t = b->in->now_ms / 1000;
    }
    py_float(v, num, sizeof(num));
    ic_buf_init(&body);
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "Namespace");
    rc = jw_param(b, &body, "metricNamespace", ns);
    jw_key(&body, &first, "MetricData");
    ic_buf_put_u8(&body, '[');
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &mfirst, "MetricName");
    if (rc == 0)
        rc = jw_param(b, &body, "metricName", name);
    jw_key(&body, &mfirst, "Timestamp");
    ic_buf_appendf(&body, "%lld", (long long)t);
    jw_key(&body, &mfirst, "Value");
    ic_buf_append_str(&body, num);
    jw_key(&body, &mfirst, "Unit");
    if (rc == 0)
        rc = jw_param(b, &body, "metricUnit", unit);
    ic_buf_append_str(&body, "}]}");
    if (rc != 0) {
        ic_buf_free(&body);
        return rc;
    }
    return aws_json(b, "monitoring", "GraniteServiceVersion20100801",
                    "PutMetricData", "1.0", true, &body);
}

static int k_cw_alarm(bld_t *b, const cJSON *p) {
    static const char *const states[] = {"OK", "ALARM", "INSUFFICIENT_DATA", NULL};
    const char *name, *reason, *state;
    ic_buf_t body;
    bool first = true;
    int rc;
    if ((rc = get_str(b, p, "alarmName", true, &name)) != 0 ||
        (rc = get_str(b, p, "stateReason", true, &reason)) != 0 ||
        (rc = get_str(b, p, "stateValue", true, &state)) != 0)
        return rc;
    if (!one_of(state, states))
        return fail(b, "stateValue %.50s is not OK, ALARM or INSUFFICIENT_DATA",
                    state);
    ic_buf_init(&body);
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "AlarmName");
    rc = jw_param(b, &body, "alarmName", name);
    jw_key(&body, &first, "StateValue");
    ic_buf_append_str(&body, "\"");
    ic_buf_append_str(&body, state);
    ic_buf_append_str(&body, "\"");
    jw_key(&body, &first, "StateReason");
    if (rc == 0)
        rc = jw_param(b, &body, "stateReason", reason);
    ic_buf_put_u8(&body, '}');
    if (rc != 0) {
        ic_buf_free(&body);
        return rc;
    }
    return aws_json(b, "monitoring", "GraniteServiceVersion20100801",
                    "SetAlarmState", "1.0", true, &body);
}

typedef struct log_ev_s {
    int64_t ts;
    const jnode_t *node; /* batch element, or NULL for the whole payload */
    size_t order;
} log_ev_t;

static int cmp_ev(const void *a, const void *c) {
    const log_ev_t *x = a, *y = c;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static const jnode_t *member(const jnode_t *obj, const char *name) {
    size_t i, n = strlen(name);
    for (i = obj->n; i-- > 0;) /* the last one wins, as in Python */
        if (obj->kids[i].key_len == n && memcmp(obj->kids[i].key, name, n) == 0)
            return &obj->kids[i];
    return NULL;
}

static int k_cw_logs(bld_t *b, const cJSON *p) {
    const char *group;
    char stream[160];
    bool batch, first = true, efirst = true;
    log_ev_t *ev = NULL;
    size_t n_ev = 0, i;
    ic_buf_t body;
    int rc;
    if ((rc = get_str(b, p, "logGroupName", true, &group)) != 0 ||
        (rc = get_bool(b, p, "batchMode", &batch)) != 0)
        return rc;
    /* U79: the engine's own stream */
    snprintf(stream, sizeof(stream), "iotcored-%.128s",
             b->in->rule_name ? b->in->rule_name : "");
    if (b->in->rule_name == NULL)
        snprintf(stream, sizeof(stream), "iotcored");
    if (batch) { /* DOC-live: an array of {"timestamp": ms, "message": ...} */
        if (!b->is_json || b->doc.type != J_ARR || b->doc.n == 0 ||
            b->doc.n > 10000)
            return fail(b, "batchMode payload must be an array of 1 to 10000 "
                           "{\"timestamp\", \"message\"} objects");
        ev = ic_xcalloc(b->doc.n, sizeof(*ev));
        for (i = 0; i < b->doc.n; i++) {
            const jnode_t *e = &b->doc.kids[i], *ts, *msg;
            int64_t t = b->in->now_ms;
            if (e->type != J_OBJ || (msg = member(e, "message")) == NULL) {
                free(ev);
                return fail(b, "batchMode element %zu has no message", i);
            }
            ts = member(e, "timestamp");
            if (ts != NULL) {
                char tmp[32];
                snprintf(tmp, sizeof(tmp), "%.*s", (int)ts->raw_len, ts->raw);
                if (ts->type != J_NUM || !ts->is_int || !parse_i64(tmp, &t)) {
                    free(ev);
                    return fail(b, "batchMode element %zu: timestamp is not "
                                   "epoch milliseconds", i);
                }
            }
            ev[n_ev].ts = t;
            ev[n_ev].node = msg;
            ev[n_ev].order = n_ev;
            n_ev++;
        }
        /* PutLogEvents wants them in chronological order */
        qsort(ev, n_ev, sizeof(*ev), cmp_ev);
    } else {
        ev = ic_xcalloc(1, sizeof(*ev));
        ev[0].ts = b->in->now_ms;
        n_ev = 1;
    }

    ic_buf_init(&body);
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "logGroupName");
    rc = jw_param(b, &body, "logGroupName", group);
    jw_key(&body, &first, "logStreamName");
    jw_str(&body, stream, strlen(stream));
    ic_buf_put_u8(&body, '}');
    if (rc == 0)
        rc = aws_json(b, "logs", "Logs_20140328", "CreateLogStream", "1.1",
                      false, &body);
    else
        ic_buf_free(&body);
    if (rc != 0) {
        free(ev);
        return rc;
    }
    b->call->reqs[b->call->n_reqs - 1].ok_if_exists = true;

    first = true;
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "logGroupName");
    jw_param(b, &body, "logGroupName", group);
    jw_key(&body, &first, "logStreamName");
    jw_str(&body, stream, strlen(stream));
    jw_key(&body, &first, "logEvents");
    ic_buf_put_u8(&body, '[');
    for (i = 0; i < n_ev && rc == 0; i++) {
        bool f2 = true;
        const jnode_t *m = ev[i].node;
        jw_sep(&body, &efirst);
        ic_buf_put_u8(&body, '{');
        jw_key(&body, &f2, "timestamp");
        ic_buf_appendf(&body, "%lld", (long long)ev[i].ts);
        jw_key(&body, &f2, "message");
        if (m == NULL)
            rc = jw_payload_text(b, &body, "");
        else if (m->type == J_STR)
            jw_str(&body, m->s, m->s_len);
        else /* a non-string message is logged as its JSON text */
            jw_str(&body, m->raw, m->raw_len);
        ic_buf_put_u8(&body, '}');
    }
    ic_buf_append_str(&body, "]}");
    free(ev);
    if (rc != 0) {
        ic_buf_free(&body);
        return rc;
    }
    rc = aws_json(b, "logs", "Logs_20140328", "PutLogEvents", "1.1", false, &body);
    if (rc == 0)
        b->call->reqs[b->call->n_reqs - 1].check_ = CHECK_LOGS;
    return rc;
}

static int k_stepfunctions(bld_t *b, const cJSON *p) {
    const ic_aws_endpoint_t *ep = b->in->ep;
    const char *name, *prefix;
    char uuid[37];
    ic_buf_t body, arn, exec;
    bool first = true;
    int rc;
    if ((rc = get_str(b, p, "stateMachineName", true, &name)) != 0 ||
        (rc = get_str(b, p, "executionNamePrefix", false, &prefix)) != 0)
        return rc;
    if (ep->account_id == NULL || ep->account_id[0] == '\0')
        return fail(b, "no account ID configured (the state machine ARN needs one)");
    if (prefix == NULL)
        prefix = "";
    if (strlen(prefix) + 36 > 80) /* StartExecution: name 1..80 */
        return fail(b, "executionNamePrefix is longer than 44 characters");
    next_uuid(b, uuid);
    ic_buf_init(&body);
    ic_buf_init(&arn);
    ic_buf_init(&exec);
    ic_buf_appendf(&arn, "arn:aws:states:%s:%s:stateMachine:%s", ep->region,
                   ep->account_id, name);
    ic_buf_appendf(&exec, "%s%s", prefix, uuid);
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "stateMachineArn");
    rc = jw_str(&body, (const char *)arn.data, arn.len) != 0
             ? fail(b, "stateMachineName is not valid UTF-8") : 0;
    jw_key(&body, &first, "name");
    if (rc == 0 && jw_str(&body, (const char *)exec.data, exec.len) != 0)
        rc = fail(b, "executionNamePrefix is not valid UTF-8");
    jw_key(&body, &first, "input");
    if (rc == 0)
        rc = jw_payload_text(b, &body, "");
    ic_buf_put_u8(&body, '}');
    ic_buf_free(&arn);
    ic_buf_free(&exec);
    if (rc != 0) {
        ic_buf_free(&body);
        return rc;
    }
    return aws_json(b, "states", "AWSStepFunctions", "StartExecution", "1.0",
                    false, &body);
}

/* "timestamp": {"value", "unit"} of timestream and location, to a value in
 * its unit and the unit's name. Default: now in milliseconds. */
static int get_time(bld_t *b, const cJSON *p, int64_t *value, const char **unit) {
    static const char *const units[] = {"SECONDS", "MILLISECONDS", "MICROSECONDS",
                                        "NANOSECONDS", NULL};
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(p, "timestamp");
    const char *v, *u;
    int rc;
    *value = b->in->now_ms;
    *unit = "MILLISECONDS";
    if (ts == NULL || cJSON_IsNull(ts))
        return 0;
    if (!cJSON_IsObject(ts))
        return fail(b, "timestamp must be an object {value, unit}");
    if ((rc = get_str(b, ts, "value", true, &v)) != 0 ||
        (rc = get_str(b, ts, "unit", false, &u)) != 0)
        return rc;
    if (!parse_i64(v, value) || *value < 0)
        return fail(b, "timestamp value %.50s is not a whole number", v);
    if (u != NULL && u[0] != '\0') {
        if (!one_of(u, units))
            return fail(b, "timestamp unit %.50s is not SECONDS, MILLISECONDS, "
                           "MICROSECONDS or NANOSECONDS", u);
        *unit = u;
    }
    return 0;
}

static int k_timestream(bld_t *b, const cJSON *p) {
    const cJSON *dims = cJSON_GetObjectItemCaseSensitive(p, "dimensions"), *d;
    const char *db, *table, *unit;
    ic_buf_t body, dj;
    bool first = true, rfirst = true, dfirst = true;
    int64_t t;
    size_t i, n_rec = 0;
    int rc;
    if ((rc = get_str(b, p, "databaseName", true, &db)) != 0 ||
        (rc = get_str(b, p, "tableName", true, &table)) != 0 ||
        (rc = get_time(b, p, &t, &unit)) != 0)
        return rc;
    if (!cJSON_IsArray(dims) || cJSON_GetArraySize(dims) < 1 ||
        cJSON_GetArraySize(dims) > 128)
        return fail(b, "dimensions must be an array of 1 to 128 {name, value}");
    if (!b->is_json || b->doc.type != J_OBJ) /* DOC: one record per member */
        return fail(b, "payload is not a JSON object (timestream writes one "
                       "record per member)");
    for (i = 0; i < b->doc.n; i++)
        n_rec += b->doc.kids[i].type != J_NULL;
    if (n_rec == 0 || n_rec > 100)
        return fail(b, "payload must have 1 to 100 non-null members");

    ic_buf_init(&dj);
    ic_buf_put_u8(&dj, '[');
    cJSON_ArrayForEach(d, dims) {
        const char *dn, *dv;
        bool f2 = true;
        if (!cJSON_IsObject(d) || (rc = get_str(b, d, "name", true, &dn)) != 0 ||
            (rc = get_str(b, d, "value", true, &dv)) != 0) {
            ic_buf_free(&dj);
            return rc ? rc : fail(b, "dimensions must hold {name, value} objects");
        }
        jw_sep(&dj, &dfirst);
        ic_buf_put_u8(&dj, '{');
        jw_key(&dj, &f2, "Name");
        rc = jw_param(b, &dj, "dimension name", dn);
        jw_key(&dj, &f2, "Value");
        if (rc == 0)
            rc = jw_param(b, &dj, "dimension value", dv);
        ic_buf_put_u8(&dj, '}');
        if (rc != 0) {
            ic_buf_free(&dj);
            return rc;
        }
    }
    ic_buf_put_u8(&dj, ']');

    ic_buf_init(&body);
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "DatabaseName");
    rc = jw_param(b, &body, "databaseName", db);
    jw_key(&body, &first, "TableName");
    if (rc == 0)
        rc = jw_param(b, &body, "tableName", table);
    jw_key(&body, &first, "Records");
    ic_buf_put_u8(&body, '[');
    for (i = 0; i < b->doc.n; i++) {
        const jnode_t *m = &b->doc.kids[i];
        const char *type;
        bool f2 = true;
        if (m->type == J_NULL)
            continue; /* nothing to write */
        jw_sep(&body, &rfirst);
        ic_buf_put_u8(&body, '{');
        jw_key(&body, &f2, "Dimensions");
        ic_buf_append(&body, dj.data, dj.len);
        jw_key(&body, &f2, "MeasureName");
        jw_str(&body, m->key, m->key_len);
        jw_key(&body, &f2, "MeasureValue");
        switch (m->type) {
        case J_TRUE:
        case J_FALSE:
            type = "BOOLEAN";
            ic_buf_append_str(&body, m->type == J_TRUE ? "\"true\"" : "\"false\"");
            break;
        case J_NUM: /* DOC: whole numbers bigint, decimals double */
            type = m->is_int ? "BIGINT" : "DOUBLE";
            jw_str(&body, m->raw, m->raw_len);
            break;
        case J_STR:
            type = "VARCHAR";
            jw_str(&body, m->s, m->s_len);
            break;
        default: /* objects and arrays as their JSON text */
            type = "VARCHAR";
            jw_str(&body, m->raw, m->raw_len);
            break;
        }
        jw_key(&body, &f2, "MeasureValueType");
        ic_buf_appendf(&body, "\"%s\"", type);
        jw_key(&body, &f2, "Time");
        ic_buf_appendf(&body, "\"%lld\"", (long long)t);
        jw_key(&body, &f2, "TimeUnit");
        ic_buf_appendf(&body, "\"%s\"", unit);
        ic_buf_put_u8(&body, '}');
    }
    ic_buf_append_str(&body, "]}");
    ic_buf_free(&dj);
    if (rc != 0) {
        ic_buf_free(&body);
        return rc;
    }
    return aws_json(b, "timestream", "Timestream_20181101", "WriteRecords", "1.0",
                    false, &body);
}


/* Message i of a batchMode payload (its JSON text), else the whole
 * payload, as a base64 "payload" value (IoT Events, IoT Analytics). */
static void jw_message_b64(const bld_t *b, ic_buf_t *o, bool batch, size_t i) {
    if (batch)
        jw_b64(o, (const uint8_t *)b->doc.kids[i].raw, b->doc.kids[i].raw_len, NULL);
    else
        jw_b64(o, b->in->payload, b->in->payload_len, NULL);
}

static int k_iotevents(bld_t *b, const cJSON *p) {
    const char *input, *mid;
    bool batch, first = true, mfirst = true;
    char uuid[37];
    ic_buf_t body;
    size_t i, n;
    int rc;
    if ((rc = get_str(b, p, "inputName", true, &input)) != 0 ||
        (rc = get_str(b, p, "messageId", false, &mid)) != 0 ||
        (rc = get_bool(b, p, "batchMode", &batch)) != 0)
        return rc;
    if (batch && mid != NULL && mid[0] != '\0') /* DOC */
        return fail(b, "messageId is not allowed with batchMode");
    batch = batch && b->is_json && b->doc.type == J_ARR;
    n = batch ? b->doc.n : 1;
    if (batch && (n == 0 || n > 10))
        return fail(b, "batchMode payload must be an array of 1 to 10 messages");
    ic_buf_init(&body);
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "messages");
    ic_buf_put_u8(&body, '[');
    for (i = 0; i < n && rc == 0; i++) {
        bool f2 = true;
        jw_sep(&body, &mfirst);
        ic_buf_put_u8(&body, '{');
        jw_key(&body, &f2, "messageId");
        if (mid != NULL && mid[0] != '\0') {
            rc = jw_param(b, &body, "messageId", mid);
        } else {
            next_uuid(b, uuid);
            jw_str(&body, uuid, 36);
        }
        jw_key(&body, &f2, "inputName");
        if (rc == 0)
            rc = jw_param(b, &body, "inputName", input);
        jw_key(&body, &f2, "payload");
        jw_message_b64(b, &body, batch, i);
        ic_buf_put_u8(&body, '}');
    }
    ic_buf_append_str(&body, "]}");
    if (rc != 0) {
        ic_buf_free(&body);
        return rc;
    }
    rc = rest_json(b, "ioteventsdata", "BatchPutMessage", "/inputs/messages", &body);
    if (rc == 0)
        b->call->reqs[b->call->n_reqs - 1].check_ = CHECK_IOTEVENTS;
    return rc;
}

/* One SiteWise "value": exactly one typed member, rendered as text. */
static int sw_value(bld_t *b, ic_buf_t *o, const cJSON *v, size_t e, size_t k) {
    static const char *const kinds[] = {"stringValue", "integerValue",
                                        "doubleValue", "booleanValue", NULL};
    const char *which = NULL, *s = NULL, *t;
    char num[40];
    size_t i, found = 0;
    int64_t iv;
    double dv;
    int rc;
    if (!cJSON_IsObject(v))
        return fail(b, "entry %zu value %zu: value is required", e, k);
    for (i = 0; kinds[i] != NULL; i++) {
        if ((rc = get_str(b, v, kinds[i], false, &t)) != 0)
            return rc;
        if (t != NULL) {
            which = kinds[i];
            s = t;
            found++;
        }
    }
    if (found != 1)
        return fail(b, "entry %zu value %zu: give exactly one of stringValue, "
                       "integerValue, doubleValue, booleanValue", e, k);
    ic_buf_appendf(o, "{\"%s\": ", which);
    if (strcmp(which, "stringValue") == 0) {
        if ((rc = jw_param(b, o, "stringValue", s)) != 0)
            return rc;
    } else if (strcmp(which, "integerValue") == 0) {
        if (!parse_i64(s, &iv) || iv < INT32_MIN || iv > INT32_MAX)
            return fail(b, "integerValue %.50s is not a 32-bit integer", s);
        ic_buf_appendf(o, "%lld", (long long)iv);
    } else if (strcmp(which, "doubleValue") == 0) {
        if (!parse_double(s, &dv))
            return fail(b, "doubleValue %.50s is not a number", s);
        py_float(dv, num, sizeof(num));
        ic_buf_append_str(o, num);
    } else {
        if (strcasecmp(s, "true") != 0 && strcasecmp(s, "false") != 0)
            return fail(b, "booleanValue %.50s is not true or false", s);
        ic_buf_append_str(o, strcasecmp(s, "true") == 0 ? "true" : "false");
    }
    ic_buf_put_u8(o, '}');
    return 0;
}

static int k_sitewise(bld_t *b, const cJSON *p) {
    static const char *const qualities[] = {"GOOD", "BAD", "UNCERTAIN", NULL};
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(p,
                               "putAssetPropertyValueEntries"), *e;
    ic_buf_t body;
    bool first = true, efirst = true;
    size_t ei = 0;
    int rc = 0;
    if (!cJSON_IsArray(entries) || cJSON_GetArraySize(entries) < 1 ||
        cJSON_GetArraySize(entries) > 10)
        return fail(b, "putAssetPropertyValueEntries must be an array of 1 to 10 "
                       "entries");
    ic_buf_init(&body);
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "entries");
    ic_buf_put_u8(&body, '[');
    cJSON_ArrayForEach(e, entries) {
        const char *id, *asset, *prop, *alias;
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(e, "propertyValues"), *v;
        char uuid[37];
        bool f2 = true, vfirst = true;
        size_t vi = 0;
        if (!cJSON_IsObject(e)) {
            rc = fail(b, "entry %zu is not an object", ei);
            break;
        }
        if ((rc = get_str(b, e, "entryId", false, &id)) != 0 ||
            (rc = get_str(b, e, "assetId", false, &asset)) != 0 ||
            (rc = get_str(b, e, "propertyId", false, &prop)) != 0 ||
            (rc = get_str(b, e, "propertyAlias", false, &alias)) != 0)
            break;
        if ((alias == NULL || alias[0] == '\0') &&
            (asset == NULL || prop == NULL || asset[0] == '\0' || prop[0] == '\0')) {
            rc = fail(b, "entry %zu needs propertyAlias or assetId and propertyId", ei);
            break;
        }
        if (!cJSON_IsArray(vals) || cJSON_GetArraySize(vals) < 1 ||
            cJSON_GetArraySize(vals) > 10) {
            rc = fail(b, "entry %zu: propertyValues must hold 1 to 10 values", ei);
            break;
        }
        if (id == NULL || id[0] == '\0') {
            next_uuid(b, uuid);
            id = uuid;
        }
        jw_sep(&body, &efirst);
        ic_buf_put_u8(&body, '{');
        jw_key(&body, &f2, "entryId");
        rc = jw_param(b, &body, "entryId", id);
        if (rc == 0 && asset != NULL && asset[0] != '\0') {
            jw_key(&body, &f2, "assetId");
            rc = jw_param(b, &body, "assetId", asset);
        }
        if (rc == 0 && prop != NULL && prop[0] != '\0') {
            jw_key(&body, &f2, "propertyId");
            rc = jw_param(b, &body, "propertyId", prop);
        }
        if (rc == 0 && alias != NULL && alias[0] != '\0') {
            jw_key(&body, &f2, "propertyAlias");
            rc = jw_param(b, &body, "propertyAlias", alias);
        }
        if (rc != 0)
            break;
        jw_key(&body, &f2, "propertyValues");
        ic_buf_put_u8(&body, '[');
        cJSON_ArrayForEach(v, vals) {
            const cJSON *ts = cJSON_GetObjectItemCaseSensitive(v, "timestamp");
            const char *secs, *nanos, *quality;
            int64_t s, ns = 0;
            bool f3 = true;
            if (!cJSON_IsObject(v) || !cJSON_IsObject(ts)) {
                rc = fail(b, "entry %zu value %zu: timestamp is required", ei, vi);
                break;
            }
            if ((rc = get_str(b, ts, "timeInSeconds", true, &secs)) != 0 ||
                (rc = get_str(b, ts, "offsetInNanos", false, &nanos)) != 0 ||
                (rc = get_str(b, v, "quality", false, &quality)) != 0)
                break;
            if (!parse_i64(secs, &s) || s < 1) {
                rc = fail(b, "timeInSeconds %.50s is not epoch seconds", secs);
                break;
            }
            if (nanos != NULL && (!parse_i64(nanos, &ns) || ns < 0 || ns > 999999999)) {
                rc = fail(b, "offsetInNanos %.50s is not 0..999999999", nanos);
                break;
            }
            if (quality != NULL && !one_of(quality, qualities)) {
                rc = fail(b, "quality %.50s is not GOOD, BAD or UNCERTAIN", quality);
                break;
            }
            jw_sep(&body, &vfirst);
            ic_buf_put_u8(&body, '{');
            jw_key(&body, &f3, "value");
            if ((rc = sw_value(b, &body, cJSON_GetObjectItemCaseSensitive(v, "value"),
                               ei, vi)) != 0)
                break;
            jw_key(&body, &f3, "timestamp");
            ic_buf_appendf(&body, "{\"timeInSeconds\": %lld", (long long)s);
            if (nanos != NULL)
                ic_buf_appendf(&body, ", \"offsetInNanos\": %lld", (long long)ns);
            ic_buf_put_u8(&body, '}');
            if (quality != NULL) {
                jw_key(&body, &f3, "quality");
                ic_buf_appendf(&body, "\"%s\"", quality);
            }
            ic_buf_put_u8(&body, '}');
            vi++;
        }
        if (rc != 0)
            break;
        ic_buf_append_str(&body, "]}");
        ei++;
    }
    if (rc != 0) {
        ic_buf_free(&body);
        return rc;
    }
    ic_buf_append_str(&body, "]}");
    rc = rest_json(b, "iotsitewise", "BatchPutAssetPropertyValue", "/properties",
                   &body);
    if (rc == 0)
        b->call->reqs[b->call->n_reqs - 1].check_ = CHECK_SITEWISE;
    return rc;
}

static int k_iotanalytics(bld_t *b, const cJSON *p) {
    const char *name, *arn;
    bool batch, first = true, mfirst = true;
    char uuid[37];
    ic_buf_t body;
    size_t i, n;
    int rc;
    if ((rc = get_str(b, p, "channelName", false, &name)) != 0 ||
        (rc = get_str(b, p, "channelArn", false, &arn)) != 0 ||
        (rc = get_bool(b, p, "batchMode", &batch)) != 0)
        return rc;
    if ((name == NULL || name[0] == '\0') && arn != NULL) {
        const char *slash = strstr(arn, ":channel/"); /* deprecated form */
        name = slash ? slash + 9 : NULL;
    }
    if (name == NULL || name[0] == '\0')
        return fail(b, "channelName is required");
    batch = batch && b->is_json && b->doc.type == J_ARR;
    n = batch ? b->doc.n : 1;
    if (batch && (n == 0 || n > 100))
        return fail(b, "batchMode payload must be an array of 1 to 100 messages");
    ic_buf_init(&body);
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "channelName");
    rc = jw_param(b, &body, "channelName", name);
    jw_key(&body, &first, "messages");
    ic_buf_put_u8(&body, '[');
    for (i = 0; i < n; i++) {
        bool f2 = true;
        jw_sep(&body, &mfirst);
        ic_buf_put_u8(&body, '{');
        jw_key(&body, &f2, "messageId");
        next_uuid(b, uuid);
        jw_str(&body, uuid, 36);
        jw_key(&body, &f2, "payload");
        jw_message_b64(b, &body, batch, i);
        ic_buf_put_u8(&body, '}');
    }
    ic_buf_append_str(&body, "]}");
    if (rc != 0) {
        ic_buf_free(&body);
        return rc;
    }
    rc = rest_json(b, "iotanalytics", "BatchPutMessage", "/messages/batch", &body);
    if (rc == 0)
        b->call->reqs[b->call->n_reqs - 1].check_ = CHECK_ANALYTICS;
    return rc;
}

static int k_location(bld_t *b, const cJSON *p) {
    const char *tracker, *dev, *lat, *lon, *unit;
    char slat[40], slon[40], iso[80];
    double dlat, dlon;
    int64_t t, us;
    ic_buf_t body, path;
    bool first = true, f2 = true;
    int rc;
    if ((rc = get_str(b, p, "trackerName", true, &tracker)) != 0 ||
        (rc = get_str(b, p, "deviceId", true, &dev)) != 0 ||
        (rc = get_str(b, p, "latitude", true, &lat)) != 0 ||
        (rc = get_str(b, p, "longitude", true, &lon)) != 0 ||
        (rc = get_time(b, p, &t, &unit)) != 0)
        return rc;
    if (!parse_double(lat, &dlat) || dlat < -90 || dlat > 90)
        return fail(b, "latitude %.50s is not a number in -90..90", lat);
    if (!parse_double(lon, &dlon) || dlon < -180 || dlon > 180)
        return fail(b, "longitude %.50s is not a number in -180..180", lon);
    if (strcmp(unit, "SECONDS") == 0)
        us = t > INT64_MAX / 1000000 ? INT64_MAX : t * 1000000;
    else if (strcmp(unit, "MILLISECONDS") == 0)
        us = t > INT64_MAX / 1000 ? INT64_MAX : t * 1000;
    else if (strcmp(unit, "MICROSECONDS") == 0)
        us = t;
    else
        us = t / 1000;
    if (us > 253402300799999999LL)
        return fail(b, "timestamp is after year 9999");
    iso8601(us, iso, sizeof(iso));
    py_float(dlon, slon, sizeof(slon));
    py_float(dlat, slat, sizeof(slat));
    ic_buf_init(&body);
    ic_buf_init(&path);
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &first, "Updates");
    ic_buf_put_u8(&body, '[');
    ic_buf_put_u8(&body, '{');
    jw_key(&body, &f2, "DeviceId");
    rc = jw_param(b, &body, "deviceId", dev);
    jw_key(&body, &f2, "Position"); /* [longitude, latitude] */
    ic_buf_appendf(&body, "[%s, %s]", slon, slat);
    jw_key(&body, &f2, "SampleTime");
    ic_buf_appendf(&body, "\"%s\"", iso);
    ic_buf_append_str(&body, "}]}");
    ic_buf_append_str(&path, "/tracking/v0/trackers/");
    pct_put(&path, tracker, strlen(tracker), false, false);
    ic_buf_append_str(&path, "/positions");
    ic_buf_put_u8(&path, '\0');
    if (rc == 0)
        rc = rest_json(b, "geo", "BatchUpdateDevicePosition",
                       (const char *)path.data, &body);
    else
        ic_buf_free(&body);
    ic_buf_free(&path);
    if (rc == 0)
        b->call->reqs[b->call->n_reqs - 1].check_ = CHECK_LOCATION;
    return rc;
}

static int k_search(bld_t *b, const cJSON *p) {
    hv_t h[1] = {{"Content-Type", "application/json"}};
    const char *endpoint, *index, *type, *id;
    ic_buf_t path, body;
    url_t u;
    int rc;
    if ((rc = get_str(b, p, "endpoint", true, &endpoint)) != 0 ||
        (rc = get_str(b, p, "index", true, &index)) != 0 ||
        (rc = get_str(b, p, "type", true, &type)) != 0 ||
        (rc = get_str(b, p, "id", true, &id)) != 0)
        return rc;
    if (url_split(endpoint, &u) != 0)
        return fail(b, "endpoint %.200s is not an http(s) URL", endpoint);
    if (index[0] == '\0' || type[0] == '\0' || id[0] == '\0')
        return fail(b, "index, type and id must not be empty");
    if (!b->is_json || b->doc.type != J_OBJ)
        return fail(b, "payload is not a JSON object (a search document)");
    ic_buf_init(&path);
    ic_buf_init(&body);
    ic_buf_put_u8(&path, '/');
    pct_put(&path, index, strlen(index), false, false);
    ic_buf_put_u8(&path, '/');
    pct_put(&path, type, strlen(type), false, false);
    ic_buf_put_u8(&path, '/');
    pct_put(&path, id, strlen(id), false, false);
    ic_buf_put_u8(&path, '\0');
    ic_buf_append(&body, b->in->payload, b->in->payload_len);
    /* U80: PUT {endpoint}/{index}/{type}/{id}, SigV4 service es */
    rc = add_signed(b, &u, "PUT", "IndexDocument", "es", b->in->ep->region,
                    (const char *)path.data, false, h, 1, &body);
    ic_buf_free(&path);
    return rc;
}

/* http and salesforce: a POST to the rendered URL, no AWS endpoint. */
static int add_plain(bld_t *b, const char *url, const hv_t *hs, size_t n,
                     const char *op) {
    ic_aws_req_t *r = new_req(b, "POST", op, "");
    size_t i;
    r->url = ic_xstrdup(url);
    for (i = 0; i < n; i++)
        req_header(r, hs[i].name, hs[i].value);
    if (b->in->payload_len > 0) {
        r->body = ic_xmemdup(b->in->payload, b->in->payload_len);
        r->body_len = b->in->payload_len;
    }
    return 0;
}

static bool header_ok(const char *k, const char *v) {
    const char *c;
    if (k[0] == '\0')
        return false;
    for (c = k; *c; c++)
        if (!(is_unreserved((unsigned char)*c) ||
              strchr("!#$%&'*+^`|", *c) != NULL))
            return false;
    for (c = v; *c; c++)
        if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
            return false;
    return true;
}

static int k_http(bld_t *b, const cJSON *p) {
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(p, "headers"), *e;
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(p, "auth");
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(auth, "sigv4");
    const char *url, *region = NULL, *service = NULL;
    hv_t *h;
    size_t n = 0, cap;
    bool has_ct = false;
    url_t u;
    int rc;
    if ((rc = get_str(b, p, "url", true, &url)) != 0)
        return rc;
    if (url_split(url, &u) != 0)
        return fail(b, "url %.200s is not an http(s) URL", url);
    if (hs != NULL && !cJSON_IsArray(hs))
        return fail(b, "headers must be an array of {key, value}");
    if (cJSON_IsObject(sig)) {
        if ((rc = get_str(b, sig, "signingRegion", true, &region)) != 0 ||
            (rc = get_str(b, sig, "serviceName", true, &service)) != 0)
            return rc;
        if (region[0] == '\0' || strlen(region) > 63 || service[0] == '\0' ||
            strlen(service) > 63 || strchr(region, '/') || strchr(service, '/'))
            return fail(b, "auth.sigv4 signingRegion and serviceName must be 1 to "
                           "63 characters without '/'");
        if (b->in->ep == NULL || b->in->ep->access_key == NULL ||
            b->in->ep->secret_key == NULL)
            return fail(b, "no AWS service endpoint configured");
    }
    cap = (size_t)cJSON_GetArraySize(hs) + 1;
    h = ic_xcalloc(cap, sizeof(*h));
    cJSON_ArrayForEach(e, hs) {
        const char *k, *v;
        if (!cJSON_IsObject(e) || (rc = get_str(b, e, "key", true, &k)) != 0 ||
            (rc = get_str(b, e, "value", true, &v)) != 0) {
            free(h);
            return rc ? rc : fail(b, "headers must hold {key, value} objects");
        }
        if (!header_ok(k, v)) {
            free(h);
            return fail(b, "header %.100s is invalid", k);
        }
        if (strcasecmp(k, "content-type") == 0)
            has_ct = true;
        if (strcasecmp(k, "content-length") == 0 || strcasecmp(k, "host") == 0 ||
            strcasecmp(k, "connection") == 0 ||
            strcasecmp(k, "transfer-encoding") == 0)
            continue; /* the transport's */
        h[n++] = (hv_t){k, v};
    }
    if (!has_ct) /* DOC: JSON payloads as JSON, anything else as bytes */
        h[n++] = (hv_t){"Content-Type", b->is_json ? "application/json"
                                                   : "application/octet-stream"};
    if (region != NULL) {
        ic_buf_t body;
        char *path = ic_xstrndup(u.path, u.path_len);
        ic_buf_init(&body);
        ic_buf_append(&body, b->in->payload, b->in->payload_len);
        /* the action's own URL, signed for the named service */
        u.path = "";
        u.path_len = 0;
        rc = add_signed(b, &u, "POST", "Post", service, region, path, false, h,
                        n, &body);
        free(path);
    } else {
        rc = add_plain(b, url, h, n, "Post");
    }
    free(h);
    return rc;
}

static int k_salesforce(bld_t *b, const cJSON *p) {
    const char *token, *url;
    char *bearer;
    hv_t h[2];
    url_t u;
    int rc;
    if ((rc = get_str(b, p, "token", true, &token)) != 0 ||
        (rc = get_str(b, p, "url", true, &url)) != 0)
        return rc;
    if (url_split(url, &u) != 0)
        return fail(b, "url %.200s is not an http(s) URL", url);
    if (!header_ok("Authorization", token))
        return fail(b, "token is invalid");
    bearer = ic_xmalloc(strlen(token) + 8);
    snprintf(bearer, strlen(token) + 8, "Bearer %s", token);
    h[0] = (hv_t){"Content-Type", "application/json"};
    h[1] = (hv_t){"Authorization", bearer};
    rc = add_plain(b, url, h, 2, "Post");
    free(bearer);
    return rc;
}

/* ======================================================================
 * The kind table and the API.
 * ====================================================================== */

typedef int (*build_fn)(bld_t *b, const cJSON *p);

typedef struct kind_s {
    const char *name;     /* API member name */
    const char *cls;      /* failedAction (U84) */
    build_fn build;       /* NULL: not an HTTP call here */
    bool needs_ep;        /* forwarded to the AWS endpoint */
} kind_t;

static const kind_t kinds[] = {
    {"republish", "RepublishAction", NULL, false},
    {"http", "HttpAction", k_http, false},
    {"lambda", "LambdaAction", k_lambda, true},
    {"sqs", "SqsAction", k_sqs, true},
    {"sns", "SnsAction", k_sns, true},
    {"dynamoDB", "DynamoDBAction", k_dynamodb, true},
    {"dynamoDBv2", "DynamoDBv2Action", k_dynamodbv2, true},
    {"kinesis", "KinesisAction", k_kinesis, true},
    {"firehose", "FirehoseAction", k_firehose, true},
    {"s3", "S3Action", k_s3, true},
    {"cloudwatchMetric", "CloudwatchMetricAction", k_cw_metric, true},
    {"cloudwatchAlarm", "CloudwatchAlarmAction", k_cw_alarm, true},
    {"cloudwatchLogs", "CloudwatchLogsAction", k_cw_logs, true},
    {"elasticsearch", "ElasticsearchAction", k_search, true},
    {"openSearch", "OpenSearchAction", k_search, true},
    {"salesforce", "SalesforceAction", k_salesforce, false},
    {"iotAnalytics", "IotAnalyticsAction", k_iotanalytics, true},
    {"iotEvents", "IotEventsAction", k_iotevents, true},
    {"iotSiteWise", "IotSiteWiseAction", k_sitewise, true},
    {"stepFunctions", "StepFunctionsAction", k_stepfunctions, true},
    {"timestream", "TimestreamAction", k_timestream, true},
    {"kafka", "KafkaAction", NULL, false},
    {"location", "LocationAction", k_location, true},
};

static const kind_t *find_kind(const char *name) {
    size_t i;
    if (name == NULL)
        return NULL;
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

void ic_aws_call_free(ic_aws_call_t *call) {
    size_t i, j;
    if (call == NULL)
        return;
    for (i = 0; i < call->n_reqs; i++) {
        ic_aws_req_t *r = &call->reqs[i];
        for (j = 0; j < r->n_headers; j++) {
            /* the header view is const; this module made both strings */
            free((void *)(uintptr_t)r->headers[j].name);
            free((void *)(uintptr_t)r->headers[j].value);
        }
        free(r->headers);
        free(r->url);
        free(r->body);
    }
    free(call->reqs);
    free(call);
}

int ic_aws_call_build(const ic_aws_call_in_t *in, ic_aws_call_t **out,
                      char *why, size_t whylen) {
    const kind_t *k = find_kind(in->kind);
    const ic_aws_endpoint_t *ep = in->ep;
    bld_t b;
    size_t i;
    int rc;

    *out = NULL;
    memset(&b, 0, sizeof(b));
    b.in = in;
    b.why = why;
    b.whylen = whylen;
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (k == NULL || k->build == NULL)
        return fail(&b, "action %.64s is not supported", in->kind ? in->kind : "");
    if (!cJSON_IsObject(in->params))
        return fail(&b, "action %s has no parameter object", k->name);
    if (k->needs_ep && (ep == NULL || ep->url == NULL || ep->url[0] == '\0'))
        return fail(&b, "no AWS service endpoint configured");
    if (ep != NULL && (ep->region == NULL || ep->access_key == NULL ||
                       ep->secret_key == NULL) && k->needs_ep)
        return fail(&b, "the AWS endpoint has no region or credentials");
    if (in->payload_len > 0 && in->payload == NULL)
        return fail(&b, "payload is missing");
    b.is_json = json_parse(in->payload, in->payload_len, &b.doc) == 0;
    b.call = ic_xcalloc(1, sizeof(*b.call));
    rc = k->build(&b, in->params);
    if (rc == 0 && b.call->n_reqs == 0)
        rc = fail(&b, "action %s made no request", k->name);
    if (b.is_json)
        jnode_fini(&b.doc);
    for (i = 0; i < b.n_scratch; i++)
        free(b.scratch[i]);
    free(b.scratch);
    if (rc != 0) {
        ic_aws_call_free(b.call);
        return rc;
    }
    *out = b.call;
    return 0;
}

const char *ic_aws_call_action_name(const char *kind) {
    const kind_t *k = find_kind(kind);
    return k ? k->cls : NULL;
}

static const char *pstr(const cJSON *p, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *ic_aws_call_resource(const char *kind, const cJSON *params) {
    static const struct {
        const char *kind, *field;
    } fields[] = {
        {"republish", "topic"}, {"http", "url"}, {"lambda", "functionArn"},
        {"sqs", "queueUrl"}, {"sns", "targetArn"}, {"dynamoDB", "tableName"},
        {"kinesis", "streamName"}, {"firehose", "deliveryStreamName"},
        {"s3", "bucketName"}, {"cloudwatchMetric", "metricName"},
        {"cloudwatchAlarm", "alarmName"}, {"cloudwatchLogs", "logGroupName"},
        {"elasticsearch", "endpoint"}, {"openSearch", "endpoint"},
        {"salesforce", "url"}, {"iotEvents", "inputName"},
        {"stepFunctions", "stateMachineName"}, {"kafka", "topic"},
        {"location", "trackerName"},
    };
    const char *v = NULL;
    size_t i;
    if (kind == NULL)
        return ic_xstrdup("");
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strcmp(kind, fields[i].kind) == 0)
            return ic_xstrdup((v = pstr(params, fields[i].field)) ? v : "");
    if (strcmp(kind, "dynamoDBv2") == 0) {
        v = pstr(cJSON_GetObjectItemCaseSensitive(params, "putItem"), "tableName");
    } else if (strcmp(kind, "timestream") == 0) {
        const char *db = pstr(params, "databaseName"), *t = pstr(params, "tableName");
        size_t n = strlen(db ? db : "") + strlen(t ? t : "") + 2;
        char *s = ic_xmalloc(n);
        snprintf(s, n, "%s.%s", db ? db : "", t ? t : "");
        return s;
    } else if (strcmp(kind, "iotAnalytics") == 0) {
        v = pstr(params, "channelName");
        if (v == NULL)
            v = pstr(params, "channelArn");
    } else if (strcmp(kind, "iotSiteWise") == 0) {
        const cJSON *e = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(params, "putAssetPropertyValueEntries"), 0);
        v = pstr(e, "propertyAlias");
        if (v == NULL)
            v = pstr(e, "assetId");
    }
    return ic_xstrdup(v ? v : "");
}

/* ======================================================================
 * Responses.
 * ====================================================================== */

static const char *find_header(const ic_http_header_t *h, size_t n,
                               const char *name) {
    size_t i, len = strlen(name);
    for (i = 0; h != NULL && i < n; i++)
        if (h[i].name_len == len && strncasecmp(h[i].name, name, len) == 0)
            return h[i].value;
    return NULL;
}

/* Text between <tag> and </tag> (first occurrence), XML entities decoded. */
static bool xml_text(const char *s, size_t n, const char *tag, ic_buf_t *out) {
    char open[32], close[32];
    const char *a, *e, *p;
    size_t ol, cl;
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    ol = strlen(open);
    cl = strlen(close);
    a = memmem(s, n, open, ol);
    if (a == NULL)
        return false;
    a += ol;
    e = memmem(a, n - (size_t)(a - s), close, cl);
    if (e == NULL)
        return false;
    for (p = a; p < e; p++) {
        static const struct {
            const char *ent;
            char c;
        } ents[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'},
                    {"&quot;", '"'}, {"&apos;", '\''}};
        size_t i;
        bool done = false;
        for (i = 0; *p == '&' && i < sizeof(ents) / sizeof(ents[0]); i++) {
            size_t l = strlen(ents[i].ent);
            if ((size_t)(e - p) >= l && memcmp(p, ents[i].ent, l) == 0) {
                ic_buf_put_u8(out, (uint8_t)ents[i].c);
                p += l - 1;
                done = true;
                break;
            }
        }
        if (!done)
            ic_buf_put_u8(out, (uint8_t)*p);
    }
    return true;
}

static const char *jget_str(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Printable text only (a peer's bytes go into logs and documents). */
static void put_clean(ic_buf_t *b, const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        ic_buf_put_u8(b, (c < 0x20 || c == 0x7f) ? ' ' : c);
    }
}

static bool is_throttle(const char *code) {
    static const char *const codes[] = {
        "Throttling", "ThrottlingException", "ThrottledException",
        "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "RequestLimitExceeded",
        "SlowDown", "RequestThrottled", "LimitExceededException",
        "ServiceUnavailable", "ServiceUnavailableException", NULL};
    return code != NULL && one_of(code, codes);
}

/* A 2xx body that reports per-record failures: 0, or IC_EIO with why. */
static int partial_failures(const ic_aws_req_t *req, const uint8_t *body,
                            size_t len, ic_buf_t *msg) {
    cJSON *o;
    const cJSON *arr = NULL, *e = NULL;
    const char *code = NULL, *text = NULL;
    int rc = 0, i;
    if (req->check_ == CHECK_NONE || len == 0)
        return 0;
    o = cJSON_ParseWithLength((const char *)body, len);
    if (o == NULL)
        return 0;
    switch (req->check_) {
    case CHECK_FIREHOSE_BATCH: {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "FailedPutCount");
        arr = cJSON_GetObjectItemCaseSensitive(o, "RequestResponses");
        if (!cJSON_IsNumber(f) || f->valuedouble <= 0)
            break;
        for (i = 0; i < cJSON_GetArraySize(arr); i++) {
            e = cJSON_GetArrayItem(arr, i);
            if ((code = jget_str(e, "ErrorCode")) != NULL)
                break;
        }
        text = jget_str(e, "ErrorMessage");
        ic_buf_appendf(msg, "%d of %d records failed: ", (int)f->valuedouble,
                       cJSON_GetArraySize(arr));
        rc = IC_EIO;
        break;
    }
    case CHECK_IOTEVENTS:
    case CHECK_ANALYTICS:
        arr = cJSON_GetObjectItemCaseSensitive(o, req->check_ == CHECK_IOTEVENTS
                                                      ? "BatchPutMessageErrorEntries"
                                                      : "batchPutMessageErrorEntries");
        if (cJSON_GetArraySize(arr) > 0) {
            e = cJSON_GetArrayItem(arr, 0);
            code = jget_str(e, "errorCode");
            text = jget_str(e, "errorMessage");
            rc = IC_EIO;
        }
        break;
    case CHECK_SITEWISE:
        arr = cJSON_GetObjectItemCaseSensitive(o, "errorEntries");
        if (cJSON_GetArraySize(arr) > 0) {
            e = cJSON_GetArrayItem(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "errors"), 0);
            code = jget_str(e, "errorCode");
            text = jget_str(e, "errorMessage");
            rc = IC_EIO;
        }
        break;
    case CHECK_LOCATION:
        arr = cJSON_GetObjectItemCaseSensitive(o, "Errors");
        if (cJSON_GetArraySize(arr) > 0) {
            e = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "Error");
            code = jget_str(e, "Code");
            text = jget_str(e, "Message");
            rc = IC_EIO;
        }
        break;
    case CHECK_LOGS: {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "rejectedLogEventsInfo");
        if (cJSON_IsObject(r) && r->child != NULL) {
            char *s = cJSON_PrintUnformatted(r);
            code = "RejectedLogEvents";
            put_clean(msg, s, strlen(s));
            free(s);
            rc = IC_EIO;
        }
        break;
    }
    default:
        break;
    }
    if (rc != 0 && req->check_ != CHECK_LOGS) {
        ic_buf_t t;
        ic_buf_init(&t);
        ic_buf_append_str(&t, code ? code : "Failed");
        if (text != NULL) {
            ic_buf_append_str(&t, ": ");
            ic_buf_append_str(&t, text);
        }
        put_clean(msg, (const char *)t.data, t.len);
        ic_buf_free(&t);
    } else if (rc != 0) {
        ic_buf_t t;
        ic_buf_init(&t);
        ic_buf_appendf(&t, "%s: ", code);
        ic_buf_append(&t, msg->data, msg->len);
        ic_buf_reset(msg);
        ic_buf_append(msg, t.data, t.len);
        ic_buf_free(&t);
    }
    cJSON_Delete(o);
    return rc;
}

int ic_aws_call_check(const ic_aws_req_t *req, int status,
                      const ic_http_header_t *headers, size_t n_headers,
                      const uint8_t *body, size_t body_len, char *why,
                      size_t whylen) {
    ic_buf_t code, msg, out;
    const char *h;
    cJSON *o = NULL;
    int rc = 0;

    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (body_len > 0 && body == NULL)
        body_len = 0;
    ic_buf_init(&code);
    ic_buf_init(&msg);
    ic_buf_init(&out);
    if (status >= 200 && status < 300) {
        rc = partial_failures(req, body, body_len, &msg);
        if (rc != 0)
            ic_buf_appendf(&out, "%.*s (HTTP %d)", (int)msg.len,
                           (const char *)msg.data, status);
        goto done;
    }

    /* the code: botocore's order of preference */
    if ((h = find_header(headers, n_headers, "x-amzn-query-error")) != NULL)
        ic_buf_append(&code, h, strcspn(h, ";"));
    if (body_len > 0 && (body[0] == '{' || body[0] == ' ' || body[0] == '\n'))
        o = cJSON_ParseWithLength((const char *)body, body_len);
    if (o != NULL) {
        const char *t = jget_str(o, "__type"), *m;
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(o, "error");
        if (t == NULL)
            t = jget_str(o, "code");
        if (t == NULL)
            t = jget_str(o, "Code");
        if (t == NULL && cJSON_IsObject(err)) /* OpenSearch */
            t = jget_str(err, "type");
        if (t != NULL && code.len == 0) {
            const char *hash = strrchr(t, '#');
            t = hash ? hash + 1 : t;
            ic_buf_append(&code, t, strcspn(t, ":"));
        }
        m = jget_str(o, "message");
        if (m == NULL)
            m = jget_str(o, "Message");
        if (m == NULL)
            m = jget_str(o, "errorMessage");
        if (m == NULL && cJSON_IsObject(err))
            m = jget_str(err, "reason");
        if (m != NULL)
            ic_buf_append_str(&msg, m);
    } else if (body_len > 0 && memchr(body, '<', body_len) != NULL) {
        ic_buf_t xc;
        ic_buf_init(&xc);
        if (xml_text((const char *)body, body_len, "Code", &xc) && code.len == 0)
            ic_buf_append(&code, xc.data, xc.len);
        xml_text((const char *)body, body_len, "Message", &msg);
        ic_buf_free(&xc);
    }
    if (code.len == 0 && (h = find_header(headers, n_headers, "x-amzn-ErrorType")) != NULL)
        ic_buf_append(&code, h, strcspn(h, ":"));
    ic_buf_put_u8(&code, '\0');
    code.len--;

    if (req->ok_if_exists &&
        strcmp((const char *)code.data, "ResourceAlreadyExistsException") == 0) {
        rc = 0;
        goto done;
    }
    rc = status == 429 || status >= 500 || is_throttle((const char *)code.data)
             ? IC_EBUSY : IC_EIO;
    if (code.len > 0) {
        put_clean(&out, (const char *)code.data, code.len);
        if (msg.len > 0) {
            ic_buf_append_str(&out, ": ");
            put_clean(&out, (const char *)msg.data, msg.len);
        }
        ic_buf_appendf(&out, " (HTTP %d)", status);
    } else {
        ic_buf_appendf(&out, "HTTP %d", status);
        if (msg.len > 0) {
            ic_buf_append_str(&out, ": ");
            put_clean(&out, (const char *)msg.data, msg.len);
        } else if (body_len > 0) {
            ic_buf_append_str(&out, ": ");
            put_clean(&out, (const char *)body, body_len > 200 ? 200 : body_len);
        }
    }
done:
    if (rc != 0 && why != NULL && whylen > 0)
        snprintf(why, whylen, "%.*s", (int)out.len, out.data ? (const char *)out.data : "");
    cJSON_Delete(o);
    ic_buf_free(&code);
    ic_buf_free(&msg);
    ic_buf_free(&out);
    return rc;
}
