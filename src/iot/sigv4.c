/* sigv4.c - AWS Signature Version 4: parse the claim, rebuild the canonical
 * request, compare the signature (pure, L1).
 *
 * Owns nothing beyond the call: every input is an argument, the clock
 * included. The canonical request is built as botocore's SigV4Auth and
 * aws-sdk-js-v3 build it for non-S3 services: the path normalised and
 * URI-encoded again, the query pairs decoded, re-encoded (RFC 3986) and
 * sorted, the signed headers lowercased with trimmed values. It must not
 * know which service or which credentials are acceptable (the caller
 * decides) and never logs.
 */
#include "iotcored/sigv4.h"

#include "iotcored/alloc.h"
#include "iotcored/buf.h"
#include "iotcored/error.h"
#include "iotcored/str.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SKEW_S (15 * 60)

static const char MISMATCH_MSG[] =
    "The request signature we calculated does not match the signature you "
    "provided. Check your AWS Secret Access Key and signing method. Consult "
    "the service documentation for details.";

static void say(char *why, size_t len, const char *msg) {
    if (why && len)
        snprintf(why, len, "%s", msg);
}

static const ic_http_header_t *header(const ic_http_request_t *r,
                                      const char *name) {
    size_t i;
    for (i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return &r->headers[i];
    return NULL;
}

static void hex(const unsigned char *p, size_t n, char *out) {
    static const char d[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha256_hex(const void *p, size_t n, char out[65]) {
    unsigned char md[32];
    SHA256(p, n, md);
    hex(md, 32, out);
}

static void hmac(const void *key, size_t klen, const void *msg, size_t mlen,
                 unsigned char out[32]) {
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &n);
}

/* ---- encoding -------------------------------------------------------------------- */

static bool unreserved(unsigned char c) {
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static void uri_encode(ic_buf_t *b, const char *s, size_t n, bool keep_slash) {
    static const char d[] = "0123456789ABCDEF";
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            ic_buf_put_u8(b, c);
        } else {
            ic_buf_put_u8(b, '%');
            ic_buf_put_u8(b, (uint8_t)d[c >> 4]);
            ic_buf_put_u8(b, (uint8_t)d[c & 15]);
        }
    }
}

static int hexval(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into b (a bad escape is kept literally, as the
 * SDKs would have encoded a literal '%'). */
static void pct_decode(ic_buf_t *b, const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
            (l = hexval(s[i + 2])) >= 0) {
            ic_buf_put_u8(b, (uint8_t)(h * 16 + l));
            i += 2;
        } else {
            ic_buf_put_u8(b, (uint8_t)s[i]);
        }
    }
}

/* Canonical URI: remove dot segments and empty segments as botocore's
 * _normalize_url_path does, keep a trailing slash, then encode the path as
 * received once more (non-S3 double encoding). */
static void canonical_uri(ic_buf_t *out, const char *path) {
    ic_buf_t norm;
    const char **seg;
    size_t nseg = 0, cap = 1, i;
    const char *p;
    bool trailing = path[0] && path[strlen(path) - 1] == '/';
    for (p = path; *p; p++)
        cap += *p == '/';
    seg = ic_xmalloc(cap * 2 * sizeof(*seg));
    p = path;
    while (*p) {
        const char *e;
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        e = strchr(p, '/');
        if (e == NULL)
            e = p + strlen(p);
        if (e - p == 1 && p[0] == '.') {
            /* drop */
        } else if (e - p == 2 && p[0] == '.' && p[1] == '.') {
            if (nseg > 0)
                nseg--;
        } else {
            seg[2 * nseg] = p;
            seg[2 * nseg + 1] = e;
            nseg++;
        }
        p = e;
    }
    ic_buf_init(&norm);
    for (i = 0; i < nseg; i++) {
        ic_buf_put_u8(&norm, '/');
        ic_buf_append(&norm, seg[2 * i], (size_t)(seg[2 * i + 1] - seg[2 * i]));
    }
    if (nseg == 0 || trailing)
        ic_buf_put_u8(&norm, '/');
    uri_encode(out, (const char *)norm.data, norm.len, true);
    ic_buf_free(&norm);
    free(seg);
}

typedef struct qpair_s {
    char *k, *v; /* encoded canonical forms */
} qpair_t;

static int cmp_pair(const void *a, const void *b) {
    const qpair_t *x = a, *y = b;
    int r = strcmp(x->k, y->k);
    return r ? r : strcmp(x->v, y->v);
}

static char *encode_part(const char *s, size_t n) {
    ic_buf_t d, e;
    char *r;
    ic_buf_init(&d);
    ic_buf_init(&e);
    pct_decode(&d, s, n);
    uri_encode(&e, (const char *)d.data, d.len, false);
    ic_buf_put_u8(&e, 0);
    r = ic_xstrdup((const char *)e.data);
    ic_buf_free(&d);
    ic_buf_free(&e);
    return r;
}

/* skip: a key to leave out (X-Amz-Signature for presigned), or NULL. */
static void canonical_query(ic_buf_t *out, const char *q, const char *skip) {
    qpair_t *v = NULL;
    size_t n = 0, cap = 0, i;
    const char *p = q;
    while (p && *p) {
        const char *amp = strchr(p, '&'), *eq;
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > 0) {
            eq = memchr(p, '=', len);
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                v = ic_xrealloc(v, cap * sizeof(*v));
            }
            v[n].k = encode_part(p, eq ? (size_t)(eq - p) : len);
            v[n].v = eq ? encode_part(eq + 1, len - (size_t)(eq - p) - 1)
                        : ic_xstrdup("");
            if (skip && strcmp(v[n].k, skip) == 0) {
                free(v[n].k);
                free(v[n].v);
            } else {
                n++;
            }
        }
        p = amp ? amp + 1 : NULL;
    }
    if (n > 0) /* v is NULL for an empty query */
        qsort(v, n, sizeof(*v), cmp_pair);
    for (i = 0; i < n; i++) {
        if (i)
            ic_buf_put_u8(out, '&');
        ic_buf_append_str(out, v[i].k);
        ic_buf_put_u8(out, '=');
        ic_buf_append_str(out, v[i].v);
        free(v[i].k);
        free(v[i].v);
    }
    free(v);
}

/* Header value trimmed, inner runs of spaces collapsed to one. */
static void trimmed(ic_buf_t *out, const char *s, size_t n) {
    size_t i = 0, end = n;
    bool space = false;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t'))
        end--;
    for (; i < end; i++) {
        if (s[i] == ' ' || s[i] == '\t') {
            space = true;
            continue;
        }
        if (space)
            ic_buf_put_u8(out, ' ');
        space = false;
        ic_buf_put_u8(out, (uint8_t)s[i]);
    }
}

/* Canonical headers for the ';'-joined lowercase list `signed_headers`.
 * Returns false if one of them is absent. */
static bool canonical_headers(ic_buf_t *out, const ic_http_header_t *h, size_t nh,
                              const char *signed_headers) {
    const char *p = signed_headers;
    while (*p) {
        const char *e = strchr(p, ';');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        size_t i;
        bool found = false;
        ic_buf_append(out, p, len);
        ic_buf_put_u8(out, ':');
        for (i = 0; i < nh; i++) {
            if (h[i].name_len != len || strncasecmp(h[i].name, p, len) != 0)
                continue;
            if (found)
                ic_buf_put_u8(out, ',');
            trimmed(out, h[i].value, h[i].value_len);
            found = true;
        }
        if (!found)
            return false;
        ic_buf_put_u8(out, '\n');
        p = e ? e + 1 : p + len;
    }
    return true;
}

/* The signature over a canonical request. */
static void signature(const char *creq, size_t creq_len, const char *amz_date,
                      const char *date, const char *region, const char *service,
                      const char *secret, char out[65]) {
    char chash[65], kstart[300];
    unsigned char k[32], sig[32];
    ic_buf_t sts;
    sha256_hex(creq, creq_len, chash);
    ic_buf_init(&sts);
    ic_buf_appendf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
                   amz_date, date, region, service, chash);
    snprintf(kstart, sizeof(kstart), "AWS4%s", secret);
    hmac(kstart, strlen(kstart), date, strlen(date), k);
    hmac(k, 32, region, strlen(region), k);
    hmac(k, 32, service, strlen(service), k);
    hmac(k, 32, "aws4_request", 12, k);
    hmac(k, 32, sts.data, sts.len, sig);
    hex(sig, 32, out);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(kstart, sizeof(kstart));
    ic_buf_free(&sts);
}

static void build_creq(ic_buf_t *c, const char *method, const char *path,
                       const char *query, const char *skip,
                       const ic_http_header_t *h, size_t nh,
                       const char *signed_headers, const char *payload_hash,
                       bool *ok) {
    ic_buf_appendf(c, "%s\n", method);
    canonical_uri(c, path);
    ic_buf_put_u8(c, '\n');
    canonical_query(c, query, skip);
    ic_buf_put_u8(c, '\n');
    *ok = canonical_headers(c, h, nh, signed_headers);
    ic_buf_appendf(c, "\n%s\n%s", signed_headers, payload_hash);
}

/* ---- parsing -------------------------------------------------------------------- */

static bool copy_field(char *dst, size_t cap, const char *s, size_t n) {
    if (n == 0 || n >= cap)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* "AKID/20150830/us-east-1/iot/aws4_request" */
static bool parse_credential(ic_sigv4_auth_t *a, const char *s, size_t n) {
    const char *parts[5];
    size_t lens[5], k = 0, i, start = 0;
    for (i = 0; i <= n && k < 5; i++) {
        if (i == n || s[i] == '/') {
            if (k < 5) {
                parts[k] = s + start;
                lens[k] = i - start;
                k++;
            }
            start = i + 1;
        }
    }
    if (k != 5 || start <= n || lens[4] != 12 ||
        memcmp(parts[4], "aws4_request", 12) != 0)
        return false;
    return copy_field(a->access_key, sizeof(a->access_key), parts[0], lens[0]) &&
           lens[1] == 8 && copy_field(a->date, sizeof(a->date), parts[1], 8) &&
           copy_field(a->region, sizeof(a->region), parts[2], lens[2]) &&
           copy_field(a->service, sizeof(a->service), parts[3], lens[3]);
}

static bool is_amz_date(const char *s) {
    size_t i;
    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return false;
    for (i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static ic_sigv4_status_t parse_header(const char *v, size_t n,
                                      ic_sigv4_auth_t *out, char *why,
                                      size_t whylen) {
    static const char alg[] = "AWS4-HMAC-SHA256";
    const char *p = v, *end = v + n;
    bool has_c = false, has_h = false, has_s = false;
    char msg[256];
    if (n < sizeof(alg) - 1 || strncmp(v, alg, sizeof(alg) - 1) != 0 ||
        (n > sizeof(alg) - 1 && v[sizeof(alg) - 1] != ' ')) {
        say(why, whylen, "Authorization header requires 'Credential' parameter. "
                         "Authorization header requires 'Signature' parameter. "
                         "Authorization header requires 'SignedHeaders' "
                         "parameter. Authorization header requires existence of "
                         "either a 'X-Amz-Date' or a 'Date' header.");
        return IC_SIGV4_INCOMPLETE;
    }
    p += sizeof(alg) - 1;
    while (p < end) {
        const char *e, *eq;
        while (p < end && (*p == ' ' || *p == ','))
            p++;
        if (p >= end)
            break;
        e = memchr(p, ',', (size_t)(end - p));
        if (e == NULL)
            e = end;
        eq = memchr(p, '=', (size_t)(e - p));
        if (eq != NULL) {
            size_t kl = (size_t)(eq - p), vl = (size_t)(e - eq - 1);
            const char *val = eq + 1;
            while (vl > 0 && val[vl - 1] == ' ')
                vl--;
            if (kl == 10 && memcmp(p, "Credential", 10) == 0)
                has_c = parse_credential(out, val, vl);
            else if (kl == 13 && memcmp(p, "SignedHeaders", 13) == 0)
                has_h = copy_field(out->signed_headers,
                                   sizeof(out->signed_headers), val, vl);
            else if (kl == 9 && memcmp(p, "Signature", 9) == 0)
                has_s = vl == 64 &&
                        copy_field(out->signature, sizeof(out->signature), val, vl);
        }
        p = e;
    }
    if (has_c && has_h && has_s)
        return IC_SIGV4_OK;
    snprintf(msg, sizeof(msg), "%s%s%s",
             has_c ? "" : "Authorization header requires 'Credential' parameter. ",
             has_s ? "" : "Authorization header requires 'Signature' parameter. ",
             has_h ? "" : "Authorization header requires 'SignedHeaders' parameter. ");
    say(why, whylen, msg);
    return IC_SIGV4_INCOMPLETE;
}

ic_sigv4_status_t ic_sigv4_parse(const ic_http_request_t *r,
                                 ic_sigv4_auth_t *out, char *why,
                                 size_t whylen) {
    const ic_http_header_t *h = header(r, "authorization");
    const ic_http_header_t *d = header(r, "x-amz-date");
    const ic_http_header_t *tok = header(r, "x-amz-security-token");
    char buf[2100];
    ic_sigv4_status_t st;
    memset(out, 0, sizeof(*out));
    if (h == NULL) {
        long n = ic_http_query_get(r->query, "X-Amz-Algorithm", buf, sizeof(buf));
        if (n < 0) {
            say(why, whylen, "Missing Authentication Token");
            return IC_SIGV4_MISSING;
        }
        out->is_presigned = true;
        if (strcmp(buf, "AWS4-HMAC-SHA256") != 0 ||
            (n = ic_http_query_get(r->query, "X-Amz-Credential", buf,
                                   sizeof(buf))) < 0 ||
            !parse_credential(out, buf, (size_t)n) ||
            ic_http_query_get(r->query, "X-Amz-Date", out->amz_date,
                              sizeof(out->amz_date)) < 0 ||
            !is_amz_date(out->amz_date) ||
            ic_http_query_get(r->query, "X-Amz-SignedHeaders", out->signed_headers,
                              sizeof(out->signed_headers)) <= 0 ||
            ic_http_query_get(r->query, "X-Amz-Signature", out->signature,
                              sizeof(out->signature)) != 64) {
            say(why, whylen, "AWS query-string parameters must include "
                             "'X-Amz-Algorithm', 'X-Amz-Credential', "
                             "'X-Amz-Signature', 'X-Amz-SignedHeaders', "
                             "'X-Amz-Date'.");
            return IC_SIGV4_INCOMPLETE;
        }
        if (ic_http_query_get(r->query, "X-Amz-Expires", buf, sizeof(buf)) > 0)
            out->expires_s = strtol(buf, NULL, 10);
        if (ic_http_query_get(r->query, "X-Amz-Security-Token", buf, sizeof(buf)) >
            0)
            ic_strlcpy(out->security_token, buf, sizeof(out->security_token));
        return IC_SIGV4_OK;
    }
    st = parse_header(h->value, h->value_len, out, why, whylen);
    if (st != IC_SIGV4_OK)
        return st;
    if (d == NULL || !copy_field(out->amz_date, sizeof(out->amz_date), d->value,
                                 d->value_len) ||
        !is_amz_date(out->amz_date)) {
        say(why, whylen, "Authorization header requires existence of either a "
                         "'X-Amz-Date' or a 'Date' header.");
        return IC_SIGV4_INCOMPLETE;
    }
    if (tok && tok->value_len < sizeof(out->security_token))
        memcpy(out->security_token, tok->value, tok->value_len + 1);
    return IC_SIGV4_OK;
}

/* ---- verification ----------------------------------------------------------------- */

static int64_t amz_time(const char *s) {
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

void ic_sigv4_amz_date(int64_t unix_s, char out[17]) {
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

ic_sigv4_status_t ic_sigv4_verify(const ic_http_request_t *r,
                                  const ic_sigv4_auth_t *a, const char *secret,
                                  int64_t now_s, char *why, size_t whylen) {
    int64_t t = amz_time(a->amz_date);
    char now_s_str[17], edge[17], payload[65], sig[65], msg[256];
    const ic_http_header_t *ph = header(r, "x-amz-content-sha256");
    ic_buf_t c;
    bool ok;
    ic_sigv4_amz_date(now_s, now_s_str);
    if (strncmp(a->amz_date, a->date, 8) != 0) {
        say(why, whylen, "Date in Credential scope does not match YYYYMMDD from "
                         "ISO-8601 version of date from HTTP.");
        return IC_SIGV4_MISMATCH;
    }
    if (a->is_presigned) {
        if (a->expires_s > 0 && now_s > t + a->expires_s) {
            ic_sigv4_amz_date(t + a->expires_s, edge);
            snprintf(msg, sizeof(msg),
                     "Signature expired: %s is now earlier than %s (%s - %ld "
                     "sec.)",
                     edge, now_s_str, now_s_str, a->expires_s);
            say(why, whylen, msg);
            return IC_SIGV4_EXPIRED;
        }
    } else if (t < now_s - SKEW_S) {
        ic_sigv4_amz_date(now_s - SKEW_S, edge);
        snprintf(msg, sizeof(msg),
                 "Signature expired: %s is now earlier than %s (%s - 15 min.)",
                 a->amz_date, edge, now_s_str);
        say(why, whylen, msg);
        return IC_SIGV4_EXPIRED;
    } else if (t > now_s + SKEW_S) {
        ic_sigv4_amz_date(now_s + SKEW_S, edge);
        snprintf(msg, sizeof(msg),
                 "Signature not yet current: %s is still later than %s (%s + 15 "
                 "min.)",
                 a->amz_date, edge, now_s_str);
        say(why, whylen, msg);
        return IC_SIGV4_EXPIRED;
    }
    if (ph && ph->value_len == 16 && memcmp(ph->value, "UNSIGNED-PAYLOAD", 16) == 0)
        ic_strlcpy(payload, "UNSIGNED-PAYLOAD", sizeof(payload));
    else if (a->is_presigned && ph == NULL && r->body_len == 0)
        ic_strlcpy(payload, "UNSIGNED-PAYLOAD", sizeof(payload));
    else
        sha256_hex(r->body ? (const void *)r->body : "", r->body_len, payload);
    ic_buf_init(&c);
    build_creq(&c, r->method, r->path, r->query,
               a->is_presigned ? "X-Amz-Signature" : NULL, r->headers,
               r->n_headers, a->signed_headers, payload, &ok);
    if (!ok) {
        ic_buf_free(&c);
        say(why, whylen, MISMATCH_MSG);
        return IC_SIGV4_MISMATCH;
    }
    signature((const char *)c.data, c.len, a->amz_date, a->date, a->region,
              a->service, secret, sig);
    ic_buf_free(&c);
    if (CRYPTO_memcmp(sig, a->signature, 64) != 0) {
        /* a presigned URL signed over an empty payload hash instead */
        say(why, whylen, MISMATCH_MSG);
        return IC_SIGV4_MISMATCH;
    }
    return IC_SIGV4_OK;
}

/* ---- signing (iotctl) -------------------------------------------------------------- */

typedef struct hsort_s {
    char *name;
    const ic_http_header_t *h;
} hsort_t;

static int cmp_h(const void *a, const void *b) {
    return strcmp(((const hsort_t *)a)->name, ((const hsort_t *)b)->name);
}

int ic_sigv4_sign(const char *method, const char *path, const char *query,
                  const ic_http_header_t *headers, size_t n_headers,
                  const uint8_t *body, size_t body_len, const char *access_key,
                  const char *secret, const char *region, const char *service,
                  char *out, size_t cap) {
    hsort_t *hs = ic_xcalloc(n_headers + 1, sizeof(*hs));
    ic_buf_t names, c;
    char payload[65], sig[65], amz[17] = "", date[9];
    size_t i, k;
    bool ok;
    int n;
    for (i = 0; i < n_headers; i++) {
        hs[i].name = ic_xstrdup(headers[i].name);
        for (k = 0; hs[i].name[k]; k++)
            hs[i].name[k] = (char)tolower((unsigned char)hs[i].name[k]);
        hs[i].h = &headers[i];
        if (strcmp(hs[i].name, "x-amz-date") == 0 && headers[i].value_len == 16)
            memcpy(amz, headers[i].value, 17);
    }
    qsort(hs, n_headers, sizeof(*hs), cmp_h);
    ic_buf_init(&names);
    for (i = 0; i < n_headers; i++) {
        if (i > 0 && strcmp(hs[i].name, hs[i - 1].name) == 0)
            continue;
        if (names.len)
            ic_buf_put_u8(&names, ';');
        ic_buf_append_str(&names, hs[i].name);
    }
    ic_buf_put_u8(&names, 0);
    memcpy(date, amz, 8);
    date[8] = '\0';
    sha256_hex(body ? (const void *)body : "", body_len, payload);
    ic_buf_init(&c);
    build_creq(&c, method, path, query ? query : "", NULL, headers, n_headers,
               (const char *)names.data, payload, &ok);
    signature((const char *)c.data, c.len, amz, date, region, service, secret, sig);
    n = snprintf(out, cap,
                 "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
                 "SignedHeaders=%s, Signature=%s",
                 access_key, date, region, service, (const char *)names.data, sig);
    ic_buf_free(&c);
    ic_buf_free(&names);
    for (i = 0; i < n_headers; i++)
        free(hs[i].name);
    free(hs);
    return n < 0 || (size_t)n >= cap ? IC_ETOOBIG : 0;
}
