/* sigv4.c - AWS Signature Version 4: parse the claim, rebuild the canonical
 * request, compare the signature (pure, L1).
 *
 * Job: turn what a request claims (Authorization header or presigned query)
 * into an ic_sigv4_auth_t, and decide whether the request carries a valid
 * signature for a secret the caller looked up; also sign requests for
 * iotctl with the very same canonical-request code. Owns nothing beyond a
 * call: every input is an argument, the clock included, and every buffer
 * is bounded by the request the HTTP layer already limited. Must not: know
 * which services, regions or credentials are acceptable (the caller
 * decides), log, read the clock, or call http_parse.c (header and query
 * look-ups are done here, so the module is tested on hand-built requests).
 *
 * The canonical request is built as botocore's SigV4Auth and aws-sdk-js-v3's
 * SignatureV4 build it for non-S3 services:
 *   method \n uri \n query \n headers \n signed-headers \n payload-hash
 *   uri      dot segments and empty segments removed, then URI-encoded again
 *            (so "%3A" on the wire becomes "%253A");
 *   query    pairs split on '&' and the first '=', decoded, re-encoded per
 *            RFC 3986 (unreserved kept, uppercase hex), sorted by key then
 *            value; a key without '=' has the value "";
 *   headers  the signed names in the order given, values trimmed with inner
 *            whitespace runs collapsed, repeated headers joined by ',';
 *   payload  hex SHA-256 of the body, or UNSIGNED-PAYLOAD when the request
 *            says so in x-amz-content-sha256.
 * When that candidate does not match, verification also tries the other
 * forms real clients sign, each of which still binds the bytes received:
 * the query as sent, sorted but not re-encoded (botocore on a URL it did not
 * build); a presigned URL without X-Amz-Security-Token in the signed query
 * (AWS IoT's MQTT-over-WebSocket recipe appends it after signing); and a
 * presigned URL over UNSIGNED-PAYLOAD when there is no body (S3-style
 * presigners). Signatures are compared in constant time.
 *
 * References: AWS General Reference, "Create a signed AWS API request"
 * (SigV4); the AWS SigV4 test suite (botocore tests/unit/auth/
 * aws4_testsuite); botocore auth.py; aws-sdk-js-v3 signature-v4.
 */
#include "iotcored/sigv4.h"
#include "iotcored/str.h"

#include "iotcored/alloc.h"
#include "iotcored/buf.h"
#include "iotcored/error.h"
#include "iotcored/http_parse.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SKEW_S (15 * 60)                 /* AWS: 15 minutes either way */
#define MAX_EXPIRES_S (7 * 24 * 60 * 60) /* AWS: a presigned URL lives <= 7 days */
#define MAX_UNIX_S INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

static const char ALG[] = "AWS4-HMAC-SHA256";
static const char UNSIGNED[] = "UNSIGNED-PAYLOAD";

/* AWS's texts */
static const char MISSING_MSG[] = "Missing Authentication Token";
static const char MISMATCH_MSG[] =
    "The request signature we calculated does not match the signature you "
    "provided. Check your AWS Secret Access Key and signing method. Consult "
    "the service documentation for details.";
static const char QUERY_MSG[] =
    "AWS query-string parameters must include 'X-Amz-Algorithm', "
    "'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', "
    "'X-Amz-Date'. Re-examine the query-string parameters.";
static const char HOST_MSG[] =
    "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
    "Authorization.";

/* ---- small helpers -------------------------------------------------------- */

static ic_sigv4_status_t fail(char *why, size_t whylen, ic_sigv4_status_t st,
                              const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ic_sigv4_status_t fail(char *why, size_t whylen, ic_sigv4_status_t st,
                              const char *fmt, ...) {
    va_list ap;
    if (why != NULL && whylen > 0) {
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* Python's str.split() whitespace, as far as ASCII goes (botocore trims
 * header values with it). */
static bool is_space(int c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

/* RFC 9110 tchar: what a header name may be made of. */
static bool is_tchar(unsigned char c) {
    return is_unreserved(c) || (c != '\0' && strchr("!#$%&'*+^`|", c) != NULL);
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

static bool eq_nocase(const char *a, size_t alen, const char *b) {
    size_t blen = strlen(b);
    return alen == blen && strncasecmp(a, b, blen) == 0;
}

/* Peer text quoted in a message: at most cap - 1 bytes, anything outside
 * printable ASCII shown as '?', so a message never carries control bytes
 * into a log line or a response. */
static void printable(char *dst, size_t cap, const char *s, size_t n) {
    size_t i;
    if (n > cap - 1)
        n = cap - 1;
    for (i = 0; i < n; i++)
        dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    dst[n] = '\0';
}

/* First header called name (case-insensitive), or NULL. */
static const ic_http_header_t *find_header(const ic_http_header_t *h, size_t nh,
                                           const char *name) {
    size_t i;
    for (i = 0; i < nh; i++)
        if (h[i].name != NULL && eq_nocase(h[i].name, h[i].name_len, name))
            return &h[i];
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
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(n ? p : (const void *)"", n, md);
    hex(md, sizeof(md), out);
}

static void hmac(const void *key, size_t klen, const void *msg, size_t mlen,
                 unsigned char out[32]) {
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &n);
}

/* ---- time ----------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), so no time_t, timegm or TZ is involved. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    int64_t era;
    unsigned yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    int64_t era;
    unsigned doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m) {
    static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

static bool make_time(int64_t y, unsigned mo, unsigned d, unsigned h,
                      unsigned mi, unsigned s, int64_t *out) {
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || s > 59)
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return true;
}

static unsigned digits(const char *s, size_t n) {
    unsigned v = 0;
    size_t i;
    for (i = 0; i < n; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v;
}

/* YYYYMMDDTHHMMSSZ, a real date and time. */
static bool parse_amz(const char *s, size_t n, int64_t *t) {
    size_t i;
    if (n != 16 || s[8] != 'T' || s[15] != 'Z')
        return false;
    for (i = 0; i < 15; i++)
        if (i != 8 && !is_digit((unsigned char)s[i]))
            return false;
    return make_time(digits(s, 4), digits(s + 4, 2), digits(s + 6, 2),
                     digits(s + 9, 2), digits(s + 11, 2), digits(s + 13, 2), t);
}

/* The Date header: RFC 1123 ("Mon, 23 Nov 2026 08:09:50 GMT"; botocore
 * writes "-0000" for the zone) or the ISO 8601 basic form. */
static bool parse_http_date(const char *s, size_t n, int64_t *t) {
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    const char *p = s, *end = s + n;
    unsigned day, mon = 0, h, mi, sec, k;
    int64_t year;
    int off = 0;
    if (parse_amz(s, n, t))
        return true;
    if (n > 5 && memchr(s, ',', 5) != NULL) /* optional "Www," */
        p = (const char *)memchr(s, ',', 5) + 1;
    while (p < end && *p == ' ')
        p++;
    if (end - p < 20 || !is_digit((unsigned char)p[0]))
        return false;
    day = (unsigned)(p[0] - '0');
    p++;
    if (is_digit((unsigned char)*p))
        day = day * 10 + (unsigned)(*p++ - '0');
    if (end - p < 19 || *p++ != ' ')
        return false;
    for (k = 0; k < 12; k++)
        if (lower(p[0]) == months[3 * k] && lower(p[1]) == months[3 * k + 1] &&
            lower(p[2]) == months[3 * k + 2])
            mon = k + 1;
    p += 3;
    if (mon == 0 || *p++ != ' ')
        return false;
    for (k = 0; k < 4; k++)
        if (!is_digit((unsigned char)p[k]))
            return false;
    year = digits(p, 4);
    p += 4;
    if (end - p < 10 || p[0] != ' ' || p[3] != ':' || p[6] != ':' ||
        p[9] != ' ')
        return false;
    for (k = 1; k < 9; k++)
        if (k != 3 && k != 6 && !is_digit((unsigned char)p[k]))
            return false;
    h = digits(p + 1, 2);
    mi = digits(p + 4, 2);
    sec = digits(p + 7, 2);
    p += 10;
    if (end - p == 5 && (p[0] == '+' || p[0] == '-')) {
        for (k = 1; k < 5; k++)
            if (!is_digit((unsigned char)p[k]))
                return false;
        off = (int)(digits(p + 1, 2) * 3600 + digits(p + 3, 2) * 60);
        if (p[0] == '-')
            off = -off;
    } else if (!(end - p == 3 && (memcmp(p, "GMT", 3) == 0 ||
                                  memcmp(p, "UTC", 3) == 0)) &&
               !(end - p == 1 && *p == 'Z')) {
        return false;
    }
    if (!make_time(year, mon, day, h, mi, sec, t))
        return false;
    *t -= off;
    return true;
}

static void put_num(char *out, unsigned v, int width) {
    int i;
    for (i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void ic_sigv4_amz_date(int64_t unix_s, char out[17]) {
    int64_t days, y;
    unsigned m, d, s;
    if (unix_s < 0)
        unix_s = 0;
    if (unix_s > MAX_UNIX_S)
        unix_s = MAX_UNIX_S;
    days = unix_s / 86400;
    s = (unsigned)(unix_s % 86400);
    civil_from_days(days, &y, &m, &d);
    put_num(out, (unsigned)y, 4);
    put_num(out + 4, m, 2);
    put_num(out + 6, d, 2);
    out[8] = 'T';
    put_num(out + 9, s / 3600, 2);
    put_num(out + 11, s / 60 % 60, 2);
    put_num(out + 13, s % 60, 2);
    out[15] = 'Z';
    out[16] = '\0';
}

/* ---- encoding ------------------------------------------------------------- */

static void uri_encode(ic_buf_t *b, const char *s, size_t n) {
    static const char d[] = "0123456789ABCDEF";
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c)) {
            ic_buf_put_u8(b, c);
        } else {
            ic_buf_put_u8(b, '%');
            ic_buf_put_u8(b, (uint8_t)d[c >> 4]);
            ic_buf_put_u8(b, (uint8_t)d[c & 15]);
        }
    }
}

/* ---- canonical request ---------------------------------------------------- */

/* botocore's normalize_url_path (RFC 3986 5.2.4 plus no empty segments),
 * then quote(path, safe='/~'): the raw path is encoded a second time. */
static void canonical_uri(ic_buf_t *out, const char *path) {
    size_t n = strlen(path), nslash = 0, nseg = 0, i, p = 0;
    size_t *seg;
    if (n == 0) {
        ic_buf_put_u8(out, '/');
        return;
    }
    for (i = 0; i < n; i++)
        nslash += path[i] == '/';
    seg = ic_xmalloc((nslash + 1) * 2 * sizeof(*seg));
    while (p <= n) {
        const char *e = memchr(path + p, '/', n - p);
        size_t end = e ? (size_t)(e - path) : n, len = end - p;
        if (len == 0 || (len == 1 && path[p] == '.')) {
            /* dropped */
        } else if (len == 2 && path[p] == '.' && path[p + 1] == '.') {
            if (nseg > 0)
                nseg--;
        } else {
            seg[2 * nseg] = p;
            seg[2 * nseg + 1] = len;
            nseg++;
        }
        p = end + 1;
    }
    if (path[0] == '/')
        ic_buf_put_u8(out, '/');
    for (i = 0; i < nseg; i++) {
        if (i > 0)
            ic_buf_put_u8(out, '/');
        uri_encode(out, path + seg[2 * i], seg[2 * i + 1]);
    }
    if (nseg > 0 && path[n - 1] == '/')
        ic_buf_put_u8(out, '/');
    free(seg);
}

enum {
    Q_RAW = 1,       /* pairs as sent, not re-encoded (botocore on a raw URL) */
    Q_SKIP_SIG = 2,  /* presigned: X-Amz-Signature is not signed */
    Q_SKIP_TOKEN = 4 /* presigned, AWS IoT recipe: nor X-Amz-Security-Token */
};

typedef struct qpair_s {
    const char *k, *v;
    size_t ko, klen, vo, vlen; /* offsets into the scratch buffer */
} qpair_t;

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn) {
    size_t n = an < bn ? an : bn;
    int r = n ? memcmp(a, b, n) : 0;
    if (r != 0)
        return r;
    return an < bn ? -1 : an > bn;
}

static int cmp_pair(const void *a, const void *b) {
    const qpair_t *x = a, *y = b;
    int r = cmp_bytes(x->k, x->klen, y->k, y->klen);
    return r ? r : cmp_bytes(x->v, x->vlen, y->v, y->vlen);
}

static void canonical_query(ic_buf_t *out, const char *q, unsigned flags) {
    size_t n = 0, cap = 1, i;
    const char *p;
    qpair_t *v;
    ic_buf_t enc, dec;
    bool raw = (flags & Q_RAW) != 0, first = true;
    if (q[0] == '\0')
        return;
    for (p = q; *p; p++)
        cap += *p == '&';
    v = ic_xcalloc(cap, sizeof(*v));
    ic_buf_init(&enc);
    ic_buf_init(&dec);
    ic_buf_reserve(&enc, 1); /* enc.data is not NULL even if all is "" */
    for (p = q; p != NULL;) {
        const char *amp = strchr(p, '&'), *eq;
        size_t len = amp ? (size_t)(amp - p) : strlen(p), kl;
        eq = memchr(p, '=', len);
        kl = eq ? (size_t)(eq - p) : len;
        if (raw) {
            v[n].k = p;
            v[n].klen = kl;
            v[n].v = eq ? eq + 1 : "";
            v[n].vlen = eq ? len - kl - 1 : 0;
        } else if (len > 0) {
            /* lenient: a bad escape stays literal, so its '%' is encoded
             * as %25, as an SDK that meant a literal '%' would have sent */
            ic_buf_reset(&dec);
            ic_buf_append_pct_decoded(&dec, p, kl);
            v[n].ko = enc.len;
            uri_encode(&enc, (const char *)dec.data, dec.len);
            v[n].klen = enc.len - v[n].ko;
            ic_buf_reset(&dec);
            if (eq)
                ic_buf_append_pct_decoded(&dec, eq + 1, len - kl - 1);
            v[n].vo = enc.len;
            uri_encode(&enc, (const char *)dec.data, dec.len);
            v[n].vlen = enc.len - v[n].vo;
        }
        if (raw || len > 0)
            n++;
        p = amp ? amp + 1 : NULL;
    }
    if (!raw)
        for (i = 0; i < n; i++) {
            v[i].k = (const char *)enc.data + v[i].ko;
            v[i].v = (const char *)enc.data + v[i].vo;
        }
    qsort(v, n, sizeof(*v), cmp_pair);
    for (i = 0; i < n; i++) {
        if (((flags & Q_SKIP_SIG) && eq_nocase(v[i].k, v[i].klen, "X-Amz-Signature")) ||
            ((flags & Q_SKIP_TOKEN) &&
             eq_nocase(v[i].k, v[i].klen, "X-Amz-Security-Token")))
            continue;
        if (!first)
            ic_buf_put_u8(out, '&');
        first = false;
        ic_buf_append(out, v[i].k, v[i].klen);
        ic_buf_put_u8(out, '=');
        ic_buf_append(out, v[i].v, v[i].vlen);
    }
    ic_buf_free(&dec);
    ic_buf_free(&enc);
    free(v);
}

/* Header value trimmed, inner whitespace runs collapsed to one space. */
static void trimmed(ic_buf_t *out, const char *s, size_t n) {
    size_t i = 0, end = n;
    bool space = false;
    while (i < n && is_space((unsigned char)s[i]))
        i++;
    while (end > i && is_space((unsigned char)s[end - 1]))
        end--;
    for (; i < end; i++) {
        if (is_space((unsigned char)s[i])) {
            space = true;
            continue;
        }
        if (space)
            ic_buf_put_u8(out, ' ');
        space = false;
        ic_buf_put_u8(out, (uint8_t)s[i]);
    }
}

/* "name:value\n" for each name of the ';'-separated list, repeated headers
 * joined by ','. Returns false if one of them is absent. */
static bool canonical_headers(ic_buf_t *out, const ic_http_header_t *h,
                              size_t nh, const char *signed_headers) {
    const char *p = signed_headers;
    while (*p) {
        const char *e = strchr(p, ';');
        size_t len = e ? (size_t)(e - p) : strlen(p), i;
        bool found = false;
        ic_buf_append(out, p, len);
        ic_buf_put_u8(out, ':');
        for (i = 0; i < nh; i++) {
            if (h[i].name == NULL || h[i].name_len != len ||
                strncasecmp(h[i].name, p, len) != 0)
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

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
 * "aws4_request") */
static void signing_key(const char *secret, const char *date, const char *region,
                        const char *service, unsigned char k[32]) {
    size_t n = strlen(secret);
    char *ks = ic_xmalloc(n + 5);
    memcpy(ks, "AWS4", 4);
    memcpy(ks + 4, secret, n + 1);
    hmac(ks, n + 4, date, strlen(date), k);
    hmac(k, 32, region, strlen(region), k);
    hmac(k, 32, service, strlen(service), k);
    hmac(k, 32, "aws4_request", 12, k);
    OPENSSL_cleanse(ks, n + 5);
    free(ks);
}

typedef struct scope_s {
    const char *amz_date, *date, *region, *service;
} scope_t;

static void sign_creq(const unsigned char k[32], const scope_t *sc,
                      const ic_buf_t *creq, char out[65]) {
    char chash[65];
    unsigned char sig[32];
    ic_buf_t sts;
    sha256_hex(creq->data, creq->len, chash);
    ic_buf_init(&sts);
    ic_buf_appendf(&sts, "%s\n%s\n%s/%s/%s/aws4_request\n%s", ALG, sc->amz_date,
                   sc->date, sc->region, sc->service, chash);
    hmac(k, 32, sts.data, sts.len, sig);
    hex(sig, sizeof(sig), out);
    ic_buf_free(&sts);
}

static void assemble(ic_buf_t *c, const char *method, const ic_buf_t *uri,
                     const ic_buf_t *query, const ic_buf_t *hdrs,
                     const char *signed_headers, const char *payload) {
    ic_buf_reset(c);
    ic_buf_append_str(c, method);
    ic_buf_put_u8(c, '\n');
    ic_buf_append(c, uri->data, uri->len);
    ic_buf_put_u8(c, '\n');
    ic_buf_append(c, query->data, query->len);
    ic_buf_put_u8(c, '\n');
    ic_buf_append(c, hdrs->data, hdrs->len);
    ic_buf_put_u8(c, '\n');
    ic_buf_append_str(c, signed_headers);
    ic_buf_put_u8(c, '\n');
    ic_buf_append_str(c, payload);
}

/* ---- parsing -------------------------------------------------------------- */

static bool printable_field(const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    return true;
}

static bool copy_field(char *dst, size_t cap, const char *s, size_t n) {
    if (n == 0 || n >= cap || !printable_field(s, n))
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* "AKID/20150830/us-east-1/iot/aws4_request" */
static ic_sigv4_status_t parse_credential(ic_sigv4_auth_t *a, const char *s,
                                          size_t n, char *why, size_t whylen) {
    const char *part[5];
    size_t len[5], k = 0, i, start = 0;
    char echo[160];
    printable(echo, sizeof(echo), s, n);
    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (k < 5) {
                part[k] = s + start;
                len[k] = i - start;
            }
            k++;
            start = i + 1;
        }
    }
    if (k != 5)
        return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                    "Credential must have exactly 5 slash-delimited elements, "
                    "e.g. keyid/date/region/service/term, got '%s'",
                    echo);
    if (len[4] != 12 || memcmp(part[4], "aws4_request", 12) != 0) {
        printable(echo, sizeof(echo), part[4], len[4]);
        return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                    "Credential should be scoped with a valid terminator: "
                    "'aws4_request', not '%s'.",
                    echo);
    }
    if (!copy_field(a->access_key, sizeof(a->access_key), part[0], len[0]) ||
        !copy_field(a->region, sizeof(a->region), part[2], len[2]) ||
        !copy_field(a->service, sizeof(a->service), part[3], len[3]))
        return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                    "Credential is malformed: the access key must be 1-%zu "
                    "printable characters, the region and the service 1-%zu, "
                    "got '%s'",
                    sizeof(a->access_key) - 1, sizeof(a->region) - 1, echo);
    for (i = 0; i < len[1]; i++)
        if (!is_digit((unsigned char)part[1][i]))
            break;
    if (len[1] != 8 || i != 8)
        return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                    "Credential date must be YYYYMMDD, got '%s'", echo);
    memcpy(a->date, part[1], 8);
    a->date[8] = '\0';
    return IC_SIGV4_OK;
}

/* ';'-separated header names, "host" among them. */
static ic_sigv4_status_t check_signed_headers(const char *s, const char *what,
                                              char *why, size_t whylen) {
    const char *p = s;
    bool has_host = false;
    while (true) {
        const char *e = strchr(p, ';');
        size_t len = e ? (size_t)(e - p) : strlen(p), i;
        if (len == 0)
            return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                        "%s has an empty header name.", what);
        for (i = 0; i < len; i++)
            if (!is_tchar((unsigned char)p[i]))
                return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                            "%s must be ';'-separated header names.", what);
        has_host = has_host || eq_nocase(p, len, "host");
        if (e == NULL)
            break;
        p = e + 1;
    }
    if (!has_host)
        return fail(why, whylen, IC_SIGV4_INCOMPLETE, "%s", HOST_MSG);
    return IC_SIGV4_OK;
}

/* 64 hex digits, kept in lowercase. */
static bool copy_signature(char out[65], const char *s, size_t n) {
    size_t i;
    if (n != 64)
        return false;
    for (i = 0; i < 64; i++) {
        if (ic_hexval(s[i]) < 0)
            return false;
        out[i] = (char)lower(s[i]);
    }
    out[64] = '\0';
    return true;
}

static const char SIGNATURE_MSG[] = "Signature must be 64 hexadecimal digits.";
static const char DATE_FORMAT_MSG[] =
    "Date must be in ISO-8601 'basic format'. Got '%s'. See "
    "http://en.wikipedia.org/wiki/ISO_8601";

/* x-amz-date, else Date (RFC 1123 or ISO 8601 basic). 1 found, 0 absent,
 * -1 present but unreadable (why says so). */
static int request_date(const ic_http_request_t *r, ic_sigv4_auth_t *out,
                        char *why, size_t whylen) {
    const ic_http_header_t *h = find_header(r->headers, r->n_headers, "x-amz-date");
    int64_t t;
    char echo[64];
    if (h != NULL) {
        if (!parse_amz(h->value, h->value_len, &t)) {
            printable(echo, sizeof(echo), h->value, h->value_len);
            fail(why, whylen, IC_SIGV4_INCOMPLETE, DATE_FORMAT_MSG, echo);
            return -1;
        }
        memcpy(out->amz_date, h->value, 16);
        out->amz_date[16] = '\0';
        return 1;
    }
    h = find_header(r->headers, r->n_headers, "date");
    if (h == NULL)
        return 0;
    if (!parse_http_date(h->value, h->value_len, &t)) {
        printable(echo, sizeof(echo), h->value, h->value_len);
        fail(why, whylen, IC_SIGV4_INCOMPLETE, DATE_FORMAT_MSG, echo);
        return -1;
    }
    ic_sigv4_amz_date(t, out->amz_date);
    return 1;
}

static ic_sigv4_status_t parse_header_auth(const ic_http_request_t *r,
                                           const ic_http_header_t *h,
                                           ic_sigv4_auth_t *out, char *why,
                                           size_t whylen) {
    const size_t alen = sizeof(ALG) - 1;
    const char *p = h->value, *end = h->value + h->value_len;
    bool has_c = false, has_h = false, has_s = false;
    const ic_http_header_t *tok;
    ic_sigv4_status_t st;
    int has_d;

    /* Another scheme ("Basic ...", SigV4a) finds none of the parameters and
     * gets AWS's list of what is required. */
    if (h->value_len >= alen && memcmp(p, ALG, alen) == 0 &&
        (h->value_len == alen || is_space((unsigned char)p[alen])))
        p += alen;
    else
        p = end;
    while (p < end) {
        const char *t, *eq, *val;
        size_t klen, vlen;
        while (p < end && (is_space((unsigned char)*p) || *p == ','))
            p++;
        if (p >= end)
            break;
        t = p;
        while (p < end && !is_space((unsigned char)*p) && *p != ',')
            p++;
        eq = memchr(t, '=', (size_t)(p - t));
        if (eq == NULL) {
            unsigned char md[SHA256_DIGEST_LENGTH], b64[48];
            SHA256((const unsigned char *)h->value, h->value_len, md);
            EVP_EncodeBlock(b64, md, sizeof(md));
            return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                        "Invalid key=value pair (missing equal-sign) in "
                        "Authorization header (hashed with SHA-256 and encoded "
                        "with Base64): '%s'.",
                        (const char *)b64);
        }
        klen = (size_t)(eq - t);
        val = eq + 1;
        vlen = (size_t)(p - val);
        if (vlen == 0)
            continue; /* "Signature=" is as good as no Signature */
        if (klen == 10 && memcmp(t, "Credential", 10) == 0) {
            st = parse_credential(out, val, vlen, why, whylen);
            if (st != IC_SIGV4_OK)
                return st;
            has_c = true;
        } else if (klen == 13 && memcmp(t, "SignedHeaders", 13) == 0) {
            if (!copy_field(out->signed_headers, sizeof(out->signed_headers),
                            val, vlen))
                return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                            "SignedHeaders is longer than %zu characters.",
                            sizeof(out->signed_headers) - 1);
            st = check_signed_headers(out->signed_headers, "SignedHeaders", why,
                                      whylen);
            if (st != IC_SIGV4_OK)
                return st;
            has_h = true;
        } else if (klen == 9 && memcmp(t, "Signature", 9) == 0) {
            if (!copy_signature(out->signature, val, vlen))
                return fail(why, whylen, IC_SIGV4_INCOMPLETE, "%s",
                            SIGNATURE_MSG);
            has_s = true;
        }
    }
    has_d = request_date(r, out, why, whylen);
    if (has_d < 0)
        return IC_SIGV4_INCOMPLETE;
    if (!has_c || !has_s || !has_h || !has_d) {
        char msg[400];
        snprintf(msg, sizeof(msg), "%s%s%s%s",
                 has_c ? "" : "Authorization header requires 'Credential' "
                              "parameter. ",
                 has_s ? "" : "Authorization header requires 'Signature' "
                              "parameter. ",
                 has_h ? "" : "Authorization header requires 'SignedHeaders' "
                              "parameter. ",
                 has_d ? "" : "Authorization header requires existence of "
                              "either a 'X-Amz-Date' or a 'Date' header. ");
        msg[strlen(msg) - 1] = '\0'; /* the last space */
        return fail(why, whylen, IC_SIGV4_INCOMPLETE, "%s", msg);
    }
    tok = find_header(r->headers, r->n_headers, "x-amz-security-token");
    if (tok != NULL) {
        if (tok->value_len >= sizeof(out->security_token) ||
            memchr(tok->value, '\0', tok->value_len) != NULL)
            return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                        "X-Amz-Security-Token is longer than %zu characters.",
                        sizeof(out->security_token) - 1);
        memcpy(out->security_token, tok->value, tok->value_len);
        out->security_token[tok->value_len] = '\0';
    }
    return IC_SIGV4_OK;
}

static ic_sigv4_status_t parse_query_auth(const char *q, ic_sigv4_auth_t *out,
                                          char *why, size_t whylen) {
    char buf[512], echo[64];
    long n, nc, nd, nh, ns, ne;
    int64_t t;
    ic_sigv4_status_t st;
    size_t i;

    out->is_presigned = true;
    n = ic_http_query_get(q, "X-Amz-Algorithm", buf, sizeof(buf));
    if (n < 0 || strcmp(buf, ALG) != 0)
        return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                    "X-Amz-Algorithm only supports \"%s\"", ALG);
    nc = ic_http_query_get(q, "X-Amz-Credential", buf, sizeof(buf));
    nd = ic_http_query_get(q, "X-Amz-Date", out->amz_date, sizeof(out->amz_date));
    nh = ic_http_query_get(q, "X-Amz-SignedHeaders", out->signed_headers,
                     sizeof(out->signed_headers));
    ns = ic_http_query_get(q, "X-Amz-Signature", out->signature, sizeof(out->signature));
    if (nc == -1 || nd == -1 || nh == -1 || ns == -1 || nc == 0 || nh == 0 ||
        ns == 0)
        return fail(why, whylen, IC_SIGV4_INCOMPLETE, "%s", QUERY_MSG);
    if (nc < 0)
        return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                    "X-Amz-Credential is malformed or too long.");
    st = parse_credential(out, buf, (size_t)nc, why, whylen);
    if (st != IC_SIGV4_OK)
        return st;
    if (nd < 0 || !parse_amz(out->amz_date, (size_t)nd, &t)) {
        n = ic_http_query_get(q, "X-Amz-Date", buf, sizeof(buf));
        printable(echo, sizeof(echo), buf, n > 0 ? (size_t)n : 0);
        out->amz_date[0] = '\0';
        return fail(why, whylen, IC_SIGV4_INCOMPLETE, DATE_FORMAT_MSG, echo);
    }
    if (nh < 0)
        return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                    "X-Amz-SignedHeaders is malformed or longer than %zu "
                    "characters.",
                    sizeof(out->signed_headers) - 1);
    st = check_signed_headers(out->signed_headers, "X-Amz-SignedHeaders", why,
                              whylen);
    if (st != IC_SIGV4_OK)
        return st;
    n = ic_http_query_get(q, "X-Amz-Signature", buf, sizeof(buf));
    if (n < 0 || !copy_signature(out->signature, buf, (size_t)n))
        return fail(why, whylen, IC_SIGV4_INCOMPLETE, "%s", SIGNATURE_MSG);
    ne = ic_http_query_get(q, "X-Amz-Expires", buf, sizeof(buf));
    if (ne != -1) {
        long v = 0;
        if (ne <= 0 || ne > 7)
            return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                        "X-Amz-Expires should be a number");
        for (i = 0; i < (size_t)ne; i++) {
            if (!is_digit((unsigned char)buf[i]))
                return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                            "X-Amz-Expires should be a number");
            v = v * 10 + (buf[i] - '0');
        }
        if (v > MAX_EXPIRES_S)
            return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                        "X-Amz-Expires must be less than a week (in seconds); "
                        "that is, the given X-Amz-Expires must be less than "
                        "%d seconds",
                        MAX_EXPIRES_S);
        if (v == 0)
            return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                        "X-Amz-Expires must be at least 1 second");
        out->expires_s = v;
    }
    n = ic_http_query_get(q, "X-Amz-Security-Token", out->security_token,
                    sizeof(out->security_token));
    if (n == -2) {
        out->security_token[0] = '\0';
        return fail(why, whylen, IC_SIGV4_INCOMPLETE,
                    "X-Amz-Security-Token is malformed or longer than %zu "
                    "characters.",
                    sizeof(out->security_token) - 1);
    }
    return IC_SIGV4_OK;
}

ic_sigv4_status_t ic_sigv4_parse(const ic_http_request_t *r,
                                 ic_sigv4_auth_t *out, char *why,
                                 size_t whylen) {
    const ic_http_header_t *h;
    const char *q = r->query ? r->query : "";
    char alg[32];
    memset(out, 0, sizeof(*out));
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    h = find_header(r->headers, r->n_headers, "authorization");
    if (h != NULL)
        return parse_header_auth(r, h, out, why, whylen);
    if (ic_http_query_get(q, "X-Amz-Algorithm", alg, sizeof(alg)) != -1)
        return parse_query_auth(q, out, why, whylen);
    return fail(why, whylen, IC_SIGV4_MISSING, "%s", MISSING_MSG);
}

/* ---- verification --------------------------------------------------------- */

/* "5 min" or "90 sec", as AWS words the window. */
static void span(char *out, size_t cap, long s) {
    if (s % 60 == 0)
        snprintf(out, cap, "%ld min", s / 60);
    else
        snprintf(out, cap, "%ld sec", s);
}

static ic_sigv4_status_t check_time(const ic_sigv4_auth_t *a, int64_t t,
                                    int64_t now_s, char *why, size_t whylen) {
    long window = a->is_presigned && a->expires_s > 0 ? a->expires_s : SKEW_S;
    char now[17], edge[17], w[32];
    ic_sigv4_amz_date(now_s, now);
    if (t < now_s - window) { /* AWS: the signature is too old */
        ic_sigv4_amz_date(now_s - window, edge);
        span(w, sizeof(w), window);
        return fail(why, whylen, IC_SIGV4_EXPIRED,
                    "Signature expired: %s is now earlier than %s (%s - %s.)",
                    a->amz_date, edge, now, w);
    }
    if (t > now_s + SKEW_S) { /* AWS: signed in the future */
        ic_sigv4_amz_date(now_s + SKEW_S, edge);
        return fail(why, whylen, IC_SIGV4_EXPIRED,
                    "Signature not yet current: %s is still later than %s (%s "
                    "+ 15 min.)",
                    a->amz_date, edge, now);
    }
    return IC_SIGV4_OK;
}

ic_sigv4_status_t ic_sigv4_verify(const ic_http_request_t *r,
                                  const ic_sigv4_auth_t *a, const char *secret,
                                  int64_t now_s, char *why, size_t whylen) {
    const char *q = r->query ? r->query : "";
    const ic_http_header_t *ph;
    const char *payload[2];
    char body_hash[65], sig[65], qbuf[32];
    unsigned char k[32];
    ic_buf_t uri, hdrs, query[4], c;
    size_t nq = 0, np = 0, i, j, qi;
    unsigned qflags[4], base = a->is_presigned ? Q_SKIP_SIG : 0;
    scope_t sc = {a->amz_date, a->date, a->region, a->service};
    ic_sigv4_status_t st;
    bool ok = false;
    int64_t t;

    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (!parse_amz(a->amz_date, strnlen(a->amz_date, sizeof(a->amz_date)), &t))
        return fail(why, whylen, IC_SIGV4_INCOMPLETE, DATE_FORMAT_MSG, "");
    st = check_time(a, t, now_s, why, whylen);
    if (st != IC_SIGV4_OK)
        return st;
    if (strnlen(a->date, sizeof(a->date)) != 8 ||
        memcmp(a->amz_date, a->date, 8) != 0)
        return fail(why, whylen, IC_SIGV4_MISMATCH,
                    "Date in Credential scope does not match YYYYMMDD from "
                    "ISO-8601 version of date from HTTP: '%s' != '%.8s', from "
                    "'%s'.",
                    a->date, a->amz_date, a->amz_date);
    if (secret == NULL || a->signed_headers[0] == '\0')
        return fail(why, whylen, IC_SIGV4_MISMATCH, "%s", MISMATCH_MSG);

    ic_buf_init(&hdrs);
    if (!canonical_headers(&hdrs, r->headers, r->n_headers, a->signed_headers)) {
        /* a signed header that was not sent */
        ic_buf_free(&hdrs);
        return fail(why, whylen, IC_SIGV4_MISMATCH, "%s", MISMATCH_MSG);
    }
    ic_buf_init(&uri);
    canonical_uri(&uri, r->path && r->path[0] ? r->path : "/");

    qflags[nq++] = base;
    qflags[nq++] = base | Q_RAW;
    if (a->is_presigned && a->security_token[0] != '\0') {
        qflags[nq++] = base | Q_SKIP_TOKEN;
        qflags[nq++] = base | Q_SKIP_TOKEN | Q_RAW;
    }
    for (i = 0; i < nq; i++) {
        ic_buf_init(&query[i]);
        canonical_query(&query[i], q, qflags[i]);
    }

    ph = find_header(r->headers, r->n_headers, "x-amz-content-sha256");
    if ((ph != NULL && ph->value_len == sizeof(UNSIGNED) - 1 &&
         memcmp(ph->value, UNSIGNED, sizeof(UNSIGNED) - 1) == 0) ||
        (a->is_presigned &&
         ic_http_query_get(q, "X-Amz-Content-Sha256", qbuf, sizeof(qbuf)) > 0 &&
         strcmp(qbuf, UNSIGNED) == 0)) {
        payload[np++] = UNSIGNED;
    } else {
        /* any other claimed hash must be the body's: ours is used */
        sha256_hex(r->body, r->body_len, body_hash);
        payload[np++] = body_hash;
        if (a->is_presigned && ph == NULL && r->body_len == 0)
            payload[np++] = UNSIGNED;
    }

    signing_key(secret, a->date, a->region, a->service, k);
    ic_buf_init(&c);
    for (qi = 0; qi < nq && !ok; qi++) {
        bool dup = false;
        for (j = 0; j < qi; j++)
            dup = dup || (query[j].len == query[qi].len &&
                          (query[j].len == 0 ||
                           memcmp(query[j].data, query[qi].data, query[j].len) == 0));
        if (dup)
            continue;
        for (i = 0; i < np && !ok; i++) {
            assemble(&c, r->method ? r->method : "", &uri, &query[qi], &hdrs,
                     a->signed_headers, payload[i]);
            sign_creq(k, &sc, &c, sig);
            ok = strnlen(a->signature, sizeof(a->signature)) == 64 &&
                 CRYPTO_memcmp(sig, a->signature, 64) == 0;
        }
    }
    OPENSSL_cleanse(k, sizeof(k));
    ic_buf_free(&c);
    for (i = 0; i < nq; i++)
        ic_buf_free(&query[i]);
    ic_buf_free(&uri);
    ic_buf_free(&hdrs);
    if (!ok)
        return fail(why, whylen, IC_SIGV4_MISMATCH, "%s", MISMATCH_MSG);
    return IC_SIGV4_OK;
}

/* ---- signing (iotctl) ----------------------------------------------------- */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ic_sigv4_sign(const char *method, const char *path, const char *query,
                  const ic_http_header_t *headers, size_t n_headers,
                  const uint8_t *body, size_t body_len, const char *access_key,
                  const char *secret, const char *region, const char *service,
                  char *out, size_t cap) {
    const ic_http_header_t *hd, *ph;
    char **names, amz[17], date[9], body_hash[65], sig[65];
    unsigned char k[32];
    ic_buf_t list, uri, q, hdrs, c, payload;
    scope_t sc = {amz, date, region, service};
    size_t i, j;
    int64_t t;
    int n, rc = 0;

    if (cap > 0)
        out[0] = '\0';
    hd = find_header(headers, n_headers, "x-amz-date");
    if (hd != NULL && parse_amz(hd->value, hd->value_len, &t)) {
        memcpy(amz, hd->value, 16);
        amz[16] = '\0';
    } else if (hd == NULL &&
               (hd = find_header(headers, n_headers, "date")) != NULL &&
               parse_http_date(hd->value, hd->value_len, &t)) {
        ic_sigv4_amz_date(t, amz);
    } else {
        return IC_EINVAL;
    }
    memcpy(date, amz, 8);
    date[8] = '\0';

    /* SignedHeaders: every name, lowercase, sorted, once */
    names = ic_xcalloc(n_headers + 1, sizeof(*names));
    for (i = 0; i < n_headers; i++) {
        names[i] = ic_xstrndup(headers[i].name, headers[i].name_len);
        for (j = 0; j < headers[i].name_len; j++) {
            if (!is_tchar((unsigned char)names[i][j]))
                rc = IC_EINVAL; /* it could not be listed in SignedHeaders */
            names[i][j] = (char)lower((unsigned char)names[i][j]);
        }
        if (j == 0)
            rc = IC_EINVAL;
    }
    if (rc != 0)
        goto done;
    if (n_headers > 0)
        qsort(names, n_headers, sizeof(*names), cmp_str);
    ic_buf_init(&list);
    for (i = 0; i < n_headers; i++) {
        if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
            continue;
        if (list.len > 0)
            ic_buf_put_u8(&list, ';');
        ic_buf_append_str(&list, names[i]);
    }
    ic_buf_put_u8(&list, '\0');

    /* as botocore: a given x-amz-content-sha256 is the payload hash */
    ic_buf_init(&payload);
    ph = find_header(headers, n_headers, "x-amz-content-sha256");
    if (ph != NULL) {
        ic_buf_append(&payload, ph->value, ph->value_len);
        ic_buf_put_u8(&payload, '\0');
    } else {
        sha256_hex(body, body_len, body_hash);
        ic_buf_append(&payload, body_hash, sizeof(body_hash));
    }

    ic_buf_init(&uri);
    ic_buf_init(&q);
    ic_buf_init(&hdrs);
    ic_buf_init(&c);
    canonical_uri(&uri, path && path[0] ? path : "/");
    canonical_query(&q, query ? query : "", 0);
    canonical_headers(&hdrs, headers, n_headers, (const char *)list.data);
    assemble(&c, method, &uri, &q, &hdrs, (const char *)list.data,
             (const char *)payload.data);
    signing_key(secret, date, region, service, k);
    sign_creq(k, &sc, &c, sig);
    OPENSSL_cleanse(k, sizeof(k));
    n = snprintf(out, cap,
                 "%s Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
                 "Signature=%s",
                 ALG, access_key, date, region, service,
                 (const char *)list.data, sig);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0'; /* never a truncated header */
        rc = IC_ETOOBIG;
    }
    ic_buf_free(&c);
    ic_buf_free(&hdrs);
    ic_buf_free(&q);
    ic_buf_free(&uri);
    ic_buf_free(&payload);
    ic_buf_free(&list);
done:
    for (i = 0; i < n_headers; i++)
        free(names[i]);
    free(names);
    return rc;
}
