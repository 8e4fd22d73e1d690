/* test_http_parse.c - HTTP/1.x request framing: whole requests, every split
 * of the input, pipelining, keep-alive, limits, malformed input, upgrades,
 * header lookup, percent-decoding and query parameters. */
#include "iotcored/buf.h"
#include "iotcored/error.h"
#include "iotcored/http_parse.h"
#include "suites.h"

#include <string.h>

static const ic_http_limits_t lim = {8192, 32, 65536};

/* ---- helpers ------------------------------------------------------------ */

/* One line per request, with every field the parser produces, so two runs
 * can be compared byte for byte. Also checks the NUL/length invariants. */
static void dump(const ic_http_request_t *r, ic_buf_t *out) {
    size_t i;
    ck_assert_ptr_nonnull(r->method);
    ck_assert_ptr_nonnull(r->path);
    ck_assert_ptr_nonnull(r->query);
    ck_assert_uint_eq(strlen(r->target), r->target_len);
    ck_assert(memcmp(r->target, r->path, strlen(r->path)) == 0);
    ck_assert((r->body == NULL) == (r->body_len == 0));
    ic_buf_appendf(out, "%s [%s] path=[%s] query=[%s] 1.%d ka=%d up=%d",
                   r->method, r->target, r->path, r->query, r->version_minor,
                   r->keep_alive, r->is_upgrade);
    for (i = 0; i < r->n_headers; i++) {
        const ic_http_header_t *h = &r->headers[i];
        ck_assert_uint_eq(strlen(h->name), h->name_len);
        ck_assert_uint_eq(strlen(h->value), h->value_len);
        ic_buf_appendf(out, " {%s: %s}", h->name, h->value);
    }
    ic_buf_appendf(out, " body(%zu)=", r->body_len);
    ic_buf_append(out, r->body, r->body_len);
    ic_buf_append_str(out, "\n");
}

/* Feed one piece the way a connection would: hand out each ready request,
 * release it, and feed the rest again. *abs counts bytes consumed so far.
 * Returns 0 (piece consumed), 2 (stopped at an upgrade) or the error. */
static int feed_piece(ic_http_parser_t *p, const uint8_t *d, size_t n,
                      size_t *abs, ic_buf_t *out) {
    size_t used;
    ic_http_parse_err_t err;
    int rc;
    while (n > 0) {
        used = 12345;
        rc = ic_http_parser_feed(p, d, n, &used, &err);
        if (rc < 0) {
            ic_buf_appendf(out, "ERR %s err=%d\n", ic_errname(rc), (int)err);
            return rc;
        }
        ck_assert_uint_le(used, n);
        if (rc == 0)
            ck_assert_uint_eq(used, n);
        d += used;
        n -= used;
        *abs += used;
        if (rc == 1) {
            const ic_http_request_t *r = ic_http_parser_request(p);
            ck_assert_ptr_nonnull(r);
            dump(r, out);
            if (r->is_upgrade) {
                ic_buf_appendf(out, "UPGRADE at %zu\n", *abs);
                return 2;
            }
            ic_http_parser_next(p);
            ck_assert_ptr_null(ic_http_parser_request(p));
        }
    }
    return 0;
}

/* Feed s in pieces cut at cut[0] < cut[1] < ... (none: whole), collecting
 * the dumps (and how it ended) in out. */
static void run(const ic_http_limits_t *l, const char *s, size_t n,
                const size_t *cut, size_t ncut, ic_buf_t *out) {
    ic_http_parser_t *p = ic_http_parser_new(l);
    size_t start = 0, abs = 0, i;
    int rc = 0;
    for (i = 0; i <= ncut && rc == 0; i++) {
        size_t end = i < ncut ? cut[i] : n;
        rc = feed_piece(p, (const uint8_t *)s + start, end - start, &abs, out);
        start = end;
    }
    if (rc == 0)
        ic_buf_appendf(out, "END held=%zu\n", ic_http_parser_held(p));
    ic_http_parser_free(p);
}

static void run_bytewise(const ic_http_limits_t *l, const char *s, size_t n,
                         ic_buf_t *out) {
    ic_http_parser_t *p = ic_http_parser_new(l);
    size_t i, abs = 0;
    int rc = 0;
    for (i = 0; i < n && rc == 0; i++)
        rc = feed_piece(p, (const uint8_t *)s + i, 1, &abs, out);
    if (rc == 0)
        ic_buf_appendf(out, "END held=%zu\n", ic_http_parser_held(p));
    ic_http_parser_free(p);
}

static char *str(ic_buf_t *b) {
    ic_buf_put_u8(b, 0);
    b->len--;
    return (char *)b->data;
}

/* Parse one complete request from a string; the parser is returned so the
 * request stays valid. */
static ic_http_parser_t *one(const ic_http_limits_t *l, const char *s,
                             const ic_http_request_t **r) {
    ic_http_parser_t *p = ic_http_parser_new(l);
    size_t used = 0;
    ic_http_parse_err_t err;
    int rc = ic_http_parser_feed(p, (const uint8_t *)s, strlen(s), &used, &err);
    ck_assert_msg(rc == 1, "rc=%d (%s) for %s", rc, ic_http_parser_error(p), s);
    ck_assert_uint_eq(used, strlen(s));
    *r = ic_http_parser_request(p);
    ck_assert_ptr_nonnull(*r);
    return p;
}

/* Feed s whole to a fresh parser and return the error (asserts it is one). */
static int bad(const ic_http_limits_t *l, const char *s, size_t n,
               ic_http_parse_err_t *err) {
    ic_http_parser_t *p = ic_http_parser_new(l);
    size_t used;
    int rc = ic_http_parser_feed(p, (const uint8_t *)s, n, &used, err);
    ck_assert_msg(rc < 0, "expected an error, rc=%d for %s", rc, s);
    ck_assert_str_ne(ic_http_parser_error(p), "");
    /* dead: the same error again */
    {
        ic_http_parse_err_t err2;
        ck_assert_int_eq(ic_http_parser_feed(p, (const uint8_t *)"GET", 3,
                                             &used, &err2), rc);
        ck_assert_int_eq(err2, *err);
        ck_assert_uint_eq(used, 0);
    }
    ic_http_parser_free(p);
    return rc;
}

#define BAD(l, s, e)                                                          \
    do {                                                                      \
        ic_http_parse_err_t err_;                                             \
        int rc_ = bad((l), (s), sizeof(s) - 1, &err_);                        \
        ck_assert_int_eq(rc_, (e) == IC_HTTP_PARSE_BAD ? IC_EMALFORMED        \
                                                       : IC_ETOOBIG);         \
        ck_assert_int_eq(err_, (e));                                          \
    } while (0)

/* ---- whole requests ----------------------------------------------------- */

START_TEST(simple_get) {
    const ic_http_request_t *r;
    ic_http_parser_t *p =
        one(&lim, "GET /things/t1/shadow?name=a%20b&qos=1 HTTP/1.1\r\n"
                  "Host: localhost\r\nAccept: */*\r\n\r\n", &r);
    ck_assert_str_eq(r->method, "GET");
    ck_assert_str_eq(r->target, "/things/t1/shadow?name=a%20b&qos=1");
    ck_assert_str_eq(r->path, "/things/t1/shadow");
    ck_assert_str_eq(r->query, "name=a%20b&qos=1");
    ck_assert_int_eq(r->version_minor, 1);
    ck_assert(r->keep_alive);
    ck_assert(!r->is_upgrade);
    ck_assert_uint_eq(r->n_headers, 2);
    ck_assert_str_eq(r->headers[0].name, "Host");
    ck_assert_str_eq(r->headers[0].value, "localhost");
    ck_assert_ptr_null(r->body);
    ck_assert_uint_eq(r->body_len, 0);
    ck_assert_uint_gt(ic_http_parser_held(p), 0);
    ic_http_parser_next(p);
    ck_assert_ptr_null(ic_http_parser_request(p));
    ck_assert_uint_eq(ic_http_parser_held(p), 0);
    ic_http_parser_free(p);

    p = one(&lim, "DELETE /x HTTP/1.1\r\n\r\n", &r);
    ck_assert_str_eq(r->method, "DELETE");
    ck_assert_str_eq(r->path, "/x");
    ck_assert_str_eq(r->query, "");
    ck_assert_uint_eq(r->n_headers, 0);
    ck_assert_ptr_null(ic_http_header(r, "host"));
    ic_http_parser_free(p);

    p = one(&lim, "GET /p? HTTP/1.1\r\n\r\n", &r);
    ck_assert_str_eq(r->path, "/p");
    ck_assert_str_eq(r->query, "");
    ck_assert_str_eq(r->target, "/p?");
    ic_http_parser_free(p);
    ic_http_parser_free(NULL);
}
END_TEST

START_TEST(headers) {
    const ic_http_request_t *r;
    const ic_http_header_t *h;
    ic_http_parser_t *p = one(&lim,
                              "GET / HTTP/1.1\r\n"
                              "Host: a\r\n"
                              "X-Trim: \t spaced  value \t \r\n"
                              "X-Empty:\r\n"
                              "X-Blank:   \r\n"
                              "x-amz-date: 1\r\n"
                              "X-AMZ-DATE: 2\r\n"
                              "\r\n", &r);
    ck_assert_uint_eq(r->n_headers, 6);
    h = ic_http_header(r, "x-trim");
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(h->value, "spaced  value");
    ck_assert_uint_eq(h->value_len, 13);
    ck_assert_str_eq(h->name, "X-Trim"); /* case kept */
    h = ic_http_header(r, "X-EMPTY");
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(h->value, "");
    ck_assert_uint_eq(h->value_len, 0);
    h = ic_http_header(r, "x-blank");
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(h->value, "");
    h = ic_http_header(r, "X-Amz-Date"); /* first one wins */
    ck_assert_str_eq(h->value, "1");
    ck_assert_ptr_null(ic_http_header(r, "X-Amz"));
    ck_assert_ptr_null(ic_http_header(r, "X-Amz-Date-"));
    ck_assert_ptr_null(ic_http_header(r, "Content-Length"));
    ic_http_parser_free(p);
}
END_TEST

START_TEST(post_content_length) {
    const ic_http_request_t *r;
    ic_http_parser_t *p = one(&lim,
                              "POST /topics/a%2Fb?qos=1 HTTP/1.1\r\n"
                              "Host: x\r\nContent-Length: 13\r\n\r\n"
                              "{\"hello\":\"w\"}", &r);
    ck_assert_str_eq(r->method, "POST");
    ck_assert_str_eq(r->path, "/topics/a%2Fb");
    ck_assert_uint_eq(r->body_len, 13);
    ck_assert(memcmp(r->body, "{\"hello\":\"w\"}", 13) == 0);
    ck_assert_str_eq(ic_http_header(r, "content-length")->value, "13");
    ic_http_parser_free(p);

    /* binary body with NULs, and an explicit zero length */
    {
        static const char req[] = "PUT /b HTTP/1.1\r\nContent-Length: 4\r\n\r\n"
                                  "\0a\0b";
        ic_http_parser_t *q = ic_http_parser_new(&lim);
        size_t used;
        ic_http_parse_err_t err;
        ck_assert_int_eq(ic_http_parser_feed(q, (const uint8_t *)req,
                                             sizeof(req) - 1, &used, &err), 1);
        r = ic_http_parser_request(q);
        ck_assert_uint_eq(r->body_len, 4);
        ck_assert(memcmp(r->body, "\0a\0b", 4) == 0);
        ic_http_parser_free(q);
    }
    p = one(&lim, "POST /z HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r);
    ck_assert_ptr_null(r->body);
    ck_assert_uint_eq(r->body_len, 0);
    ic_http_parser_free(p);
}
END_TEST

START_TEST(chunked) {
    const ic_http_request_t *r;
    ic_http_parser_t *p = one(&lim,
                              "POST /c HTTP/1.1\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n"
                              "5\r\nhello\r\n"
                              "1;ext=1\r\n,\r\n"
                              "6\r\n world\r\n"
                              "0\r\nX-Trailer: t\r\n\r\n", &r);
    ck_assert_uint_eq(r->body_len, 12);
    ck_assert(memcmp(r->body, "hello, world", 12) == 0);
    ck_assert_uint_eq(r->n_headers, 1); /* trailers are not headers */
    ck_assert_ptr_null(ic_http_header(r, "X-Trailer"));
    ck_assert(r->keep_alive);
    ic_http_parser_free(p);

    p = one(&lim, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "0\r\n\r\n", &r);
    ck_assert_ptr_null(r->body);
    ic_http_parser_free(p);
}
END_TEST

/* ---- splitting ---------------------------------------------------------- */

typedef struct corpus_s {
    const char *s;
    size_t n; /* 0: strlen */
} corpus_t;

#define BIN(s) {s, sizeof(s) - 1}

static const corpus_t corpus[] = {
    {"GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-Long-Header-Name: some value\r\n\r\n",
     0},
    {"POST /p HTTP/1.1\r\nContent-Length: 10\r\nContent-Type: text/plain\r\n"
     "\r\n0123456789", 0},
    {"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     "3\r\nabc\r\nA;x=y\r\n0123456789\r\n0\r\nT: 1\r\n\r\n", 0},
    /* pipelined: three requests back to back, the last one closing */
    {"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
     "POST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
     "GET /3 HTTP/1.1\r\nConnection: close\r\n\r\n", 0},
    {"GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
     "GET /old2 HTTP/1.0\r\n\r\n", 0},
    BIN("GET /mqtt HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n"
        "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "\r\n\x82\x85\x00\x00\x00\x00hello"),
    {"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 0},
    {"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0},
    {"GET /ok HTTP/1.1\r\n\r\nGET /too-many HTTP/1.1\r\na: 1\r\nb: 2\r\n"
     "c: 3\r\nd: 4\r\ne: 5\r\n\r\n", 0},
    {"GET /ok HTTP/1.1\r\n\r\nPOST /big HTTP/1.1\r\nContent-Length: 100\r\n"
     "\r\n0123456789", 0},
    {"GET /ok HTTP/1.1\r\n\r\nPOST /big HTTP/1.1\r\n"
     "Transfer-Encoding: chunked\r\n\r\n20\r\n0123456789abcdef0123456789abcdef"
     "\r\n20\r\n0123456789abcdef0123456789abcdef\r\n0\r\n\r\n", 0},
    {"GET /a-very-long-target-that-does-not-fit-in-the-head-limit-at-all-"
     "no-it-does-not-0123456789012345678901234567890123456789012345678901"
     "23456789-0123456789012345678901234567890123456789 HTTP/1.1\r\n\r\n",
     0},
    /* the head measure includes the final empty line: exactly 160, 161 */
    {"POST /edge HTTP/1.1\r\nContent-Length: 2\r\nX-Pad: "
     "012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678"
     "\r\n\r\nhi", 0},
    {"POST /edge HTTP/1.1\r\nContent-Length: 2\r\nX-Pad: "
     "012345678901234567890123456789012345678901234567890123456789"
     "01234567890123456789012345678901234567890123456789"
     "\r\n\r\nhi", 0},
};

/* Small limits so the error cases of the corpus trip them. */
static const ic_http_limits_t small = {160, 4, 40};

static size_t clen(const corpus_t *c) {
    return c->n ? c->n : strlen(c->s);
}

START_TEST(split_bytewise) {
    const corpus_t *c = &corpus[_i];
    size_t n = clen(c);
    ic_buf_t whole, bytes;
    ic_buf_init(&whole);
    ic_buf_init(&bytes);
    run(&small, c->s, n, NULL, 0, &whole);
    run_bytewise(&small, c->s, n, &bytes);
    ck_assert_str_eq(str(&bytes), str(&whole));
    ic_buf_free(&whole);
    ic_buf_free(&bytes);
}
END_TEST

START_TEST(split_two_way) {
    const corpus_t *c = &corpus[_i];
    size_t n = clen(c), k;
    ic_buf_t whole, part;
    ic_buf_init(&whole);
    ic_buf_init(&part);
    run(&small, c->s, n, NULL, 0, &whole);
    for (k = 1; k < n; k++) {
        ic_buf_reset(&part);
        run(&small, c->s, n, &k, 1, &part);
        ck_assert_msg(strcmp(str(&part), str(&whole)) == 0,
                      "split at %zu:\n%s\nvs whole:\n%s", k, str(&part),
                      str(&whole));
    }
    ic_buf_free(&whole);
    ic_buf_free(&part);
}
END_TEST

/* The expected outcome of each corpus entry, fed whole. */
START_TEST(corpus_outcomes) {
    static const char *const want[] = {
        "END", "END", "END", "END", "END", "UPGRADE at 117",
        "ERR EMALFORMED err=1", "ERR EMALFORMED err=1",
        "ERR ETOOBIG err=2", "ERR ETOOBIG err=3", "ERR ETOOBIG err=3",
        "ERR ETOOBIG err=2", "body(2)=hi\nEND", "ERR ETOOBIG err=2",
    };
    size_t i;
    ck_assert_uint_eq(sizeof(want) / sizeof(want[0]),
                      sizeof(corpus) / sizeof(corpus[0]));
    for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
        ic_buf_t out;
        ic_buf_init(&out);
        run(&small, corpus[i].s, clen(&corpus[i]), NULL, 0, &out);
        ck_assert_msg(strstr(str(&out), want[i]) != NULL, "corpus %zu:\n%s",
                      i, str(&out));
        ic_buf_free(&out);
    }
}
END_TEST

/* ---- pipelining and keep-alive ----------------------------------------- */

START_TEST(pipelined) {
    static const char in[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                             "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    const size_t first = sizeof("GET /a HTTP/1.1\r\nHost: x\r\n\r\n") - 1;
    ic_http_parser_t *p = ic_http_parser_new(&lim);
    const ic_http_request_t *r;
    size_t used;
    ic_http_parse_err_t err;
    const uint8_t *d = (const uint8_t *)in;
    size_t n = sizeof(in) - 1;

    ck_assert_int_eq(ic_http_parser_feed(p, d, n, &used, &err), 1);
    ck_assert_uint_eq(used, first);
    r = ic_http_parser_request(p);
    ck_assert_str_eq(r->method, "GET");
    ck_assert_str_eq(r->path, "/a");
    /* still ready: nothing more is consumed */
    ck_assert_int_eq(ic_http_parser_feed(p, d + first, n - first, &used, &err),
                     1);
    ck_assert_uint_eq(used, 0);
    ck_assert_ptr_eq(ic_http_parser_request(p), r);
    ic_http_parser_next(p);
    ic_http_parser_next(p); /* no-op when nothing is ready */
    ck_assert_int_eq(ic_http_parser_feed(p, d + first, n - first, &used, &err),
                     1);
    ck_assert_uint_eq(used, n - first);
    r = ic_http_parser_request(p);
    ck_assert_str_eq(r->method, "POST");
    ck_assert_uint_eq(r->body_len, 3);
    ck_assert(memcmp(r->body, "abc", 3) == 0);
    ic_http_parser_next(p);
    ck_assert_int_eq(ic_http_parser_feed(p, d, 0, &used, &err), 0);
    ck_assert_uint_eq(used, 0);
    ic_http_parser_free(p);
}
END_TEST

START_TEST(keep_alive) {
    const ic_http_request_t *r;
    ic_http_parser_t *p;
    size_t used;
    ic_http_parse_err_t err;

    p = one(&lim, "GET / HTTP/1.0\r\n\r\n", &r);
    ck_assert_int_eq(r->version_minor, 0);
    ck_assert(!r->keep_alive);
    /* closing is the caller's job; the parser just goes on */
    ic_http_parser_next(p);
    ck_assert_int_eq(ic_http_parser_feed(p, (const uint8_t *)"GET / HTTP/1.0\r\n",
                                         16, &used, &err), 0);
    ck_assert_uint_eq(used, 16);
    ic_http_parser_free(p);

    p = one(&lim, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r);
    ck_assert_int_eq(r->version_minor, 0);
    ck_assert(r->keep_alive);
    ic_http_parser_free(p);

    p = one(&lim, "POST / HTTP/1.0\r\nConnection: Keep-Alive\r\n"
                  "Content-Length: 2\r\n\r\nhi", &r);
    ck_assert(r->keep_alive);
    ck_assert_uint_eq(r->body_len, 2);
    ic_http_parser_free(p);

    p = one(&lim, "GET / HTTP/1.1\r\n\r\n", &r);
    ck_assert(r->keep_alive);
    ic_http_parser_free(p);

    p = one(&lim, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &r);
    ck_assert(!r->keep_alive);
    ic_http_parser_free(p);
}
END_TEST

/* ---- limits ------------------------------------------------------------- */

START_TEST(limit_head) {
    static const ic_http_limits_t l = {64, 4, 100};
    char req[256];
    size_t i, used;
    ic_http_parse_err_t err;
    int rc = 0;
    ic_http_parser_t *p;

    BAD(&l, "GET /0123456789012345678901234567890123456789012345678901234567"
            "89 HTTP/1.1\r\n\r\n", IC_HTTP_PARSE_HEAD_TOO_BIG);
    BAD(&l, "GET / HTTP/1.1\r\nX-Big: 0123456789012345678901234567890123456789"
            "0123456789\r\n\r\n", IC_HTTP_PARSE_HEAD_TOO_BIG);

    /* Fed one byte at a time, it fails on the first byte past the limit,
     * whatever that byte is (here: whitespace no callback reports). */
    memcpy(req, "GET / HTTP/1.1\r\nX:", 18);
    memset(req + 18, ' ', sizeof(req) - 18);
    p = ic_http_parser_new(&l);
    for (i = 0; i < sizeof(req); i++) {
        rc = ic_http_parser_feed(p, (const uint8_t *)req + i, 1, &used, &err);
        if (rc != 0)
            break;
        ck_assert_uint_le(ic_http_parser_held(p), 64 + 4 * sizeof(size_t) * 4);
    }
    ck_assert_int_eq(rc, IC_ETOOBIG);
    ck_assert_int_eq(err, IC_HTTP_PARSE_HEAD_TOO_BIG);
    ck_assert_uint_eq(i, 64);
    ic_http_parser_free(p);

    /* exactly at the limit is fine: 62 bytes of head + the final CRLF */
    memset(req, 0, sizeof(req));
    memcpy(req, "GET /", 5);
    memset(req + 5, 'a', 62 - 5 - 11);
    memcpy(req + 62 - 11, " HTTP/1.1\r\n\r\n", 13);
    ck_assert_uint_eq(strlen(req), 64);
    {
        const ic_http_request_t *r;
        p = one(&l, req, &r);
        ic_http_parser_free(p);
    }
    /* one more byte, even in the final empty line, is too many */
    memmove(req + 6, req + 5, 60);
    ck_assert_uint_eq(strlen(req), 65);
    {
        ic_http_parse_err_t err2;
        ck_assert_int_eq(bad(&l, req, 65, &err2), IC_ETOOBIG);
        ck_assert_int_eq(err2, IC_HTTP_PARSE_HEAD_TOO_BIG);
    }
}
END_TEST

START_TEST(limit_headers) {
    static const ic_http_limits_t l = {8192, 3, 100};
    const ic_http_request_t *r;
    ic_http_parser_t *p = one(&l, "GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n",
                              &r);
    ck_assert_uint_eq(r->n_headers, 3);
    ic_http_parser_free(p);
    BAD(&l, "GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\nd", IC_HTTP_PARSE_HEAD_TOO_BIG);
    {
        static const ic_http_limits_t none = {8192, 0, 100};
        p = one(&none, "GET / HTTP/1.1\r\n\r\n", &r);
        ic_http_parser_free(p);
        BAD(&none, "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            IC_HTTP_PARSE_HEAD_TOO_BIG);
    }
}
END_TEST

START_TEST(limit_body) {
    static const ic_http_limits_t l = {8192, 8, 10};
    const ic_http_request_t *r;
    ic_http_parser_t *p;
    size_t used;
    ic_http_parse_err_t err;

    p = one(&l, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", &r);
    ck_assert_uint_eq(r->body_len, 10);
    ic_http_parser_free(p);

    /* refused at the head: not one body byte has been sent */
    BAD(&l, "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n",
        IC_HTTP_PARSE_BODY_TOO_BIG);
    BAD(&l, "POST / HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\n",
        IC_HTTP_PARSE_BODY_TOO_BIG);

    /* chunked: fine up to the limit, refused as soon as it grows past it */
    p = one(&l, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", &r);
    ck_assert_uint_eq(r->body_len, 10);
    ic_http_parser_free(p);

    p = ic_http_parser_new(&l);
    {
        static const char head[] = "POST / HTTP/1.1\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "5\r\n01234\r\n";
        static const char more[] = "100000\r\n012345";
        ck_assert_int_eq(ic_http_parser_feed(p, (const uint8_t *)head,
                                             sizeof(head) - 1, &used, &err), 0);
        ck_assert_int_eq(ic_http_parser_feed(p, (const uint8_t *)more,
                                             sizeof(more) - 1, &used, &err),
                         IC_ETOOBIG);
        ck_assert_int_eq(err, IC_HTTP_PARSE_BODY_TOO_BIG);
        ck_assert_str_ne(ic_http_parser_error(p), "");
    }
    ic_http_parser_free(p);

    /* trailers are bounded by the head limit, not kept */
    {
        static const ic_http_limits_t t = {80, 8, 10};
        BAD(&t, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
                "X-Trailer: 0123456789012345678901234567890123456789"
                "0123456789012345678901234567890123456789\r\n\r\n",
            IC_HTTP_PARSE_HEAD_TOO_BIG);
    }
}
END_TEST

/* A large request does not pin its memory after it is released. */
START_TEST(memory_released) {
    static const ic_http_limits_t l = {8192, 8, 1 << 20};
    static char req[100000];
    const char *head = "POST / HTTP/1.1\r\nContent-Length: 90000\r\n\r\n";
    size_t hl = strlen(head), used;
    ic_http_parse_err_t err;
    ic_http_parser_t *p = ic_http_parser_new(&l);
    memcpy(req, head, hl);
    memset(req + hl, 'z', 90000);
    ck_assert_int_eq(ic_http_parser_feed(p, (const uint8_t *)req, hl + 90000,
                                         &used, &err), 1);
    ck_assert_uint_ge(ic_http_parser_held(p), 90000);
    ck_assert_uint_eq(ic_http_parser_request(p)->body_len, 90000);
    ic_http_parser_next(p);
    ck_assert_uint_eq(ic_http_parser_held(p), 0);
    ck_assert_int_eq(ic_http_parser_feed(p, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n",
                                         18, &used, &err), 1);
    ic_http_parser_free(p);
}
END_TEST

/* ---- malformed ---------------------------------------------------------- */

START_TEST(malformed) {
    BAD(&lim, "GARBAGE\r\n\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "GET\r\n\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "GET / HTTX/1.1\r\n\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "GET / HTTP/2.0\r\n\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "G@T / HTTP/1.1\r\n\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "GET / HTTP/1.1\r\nBad\x01: x\r\n\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "GET / HTTP/1.1\r\n: x\r\n\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "GET / HTTP/1.1\r\nX : x\r\n\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "GET / HTTP/1.1\r\nX(y): x\r\n\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        IC_HTTP_PARSE_BAD);
    BAD(&lim, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
              "ffffffffffffffffff\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
              "-1\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        IC_HTTP_PARSE_BAD);
    BAD(&lim, "POST / HTTP/1.1\r\nContent-Length: 1\r\n"
              "Transfer-Encoding: chunked\r\n\r\n", IC_HTTP_PARSE_BAD);
    BAD(&lim, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        IC_HTTP_PARSE_BAD);
    BAD(&lim, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", IC_HTTP_PARSE_BAD);
}
END_TEST

/* ---- upgrade ------------------------------------------------------------ */

START_TEST(upgrade) {
    static const char in[] = "GET /mqtt HTTP/1.1\r\nHost: h\r\n"
                             "Connection: keep-alive, Upgrade\r\n"
                             "Upgrade: websocket\r\n"
                             "Sec-WebSocket-Protocol: mqtt\r\n\r\n"
                             "\x82\x02\x10\x00GET / HTTP/1.1\r\n\r\n";
    const size_t head = sizeof(in) - 1 - 4 - 18;
    ic_http_parser_t *p = ic_http_parser_new(&lim);
    const ic_http_request_t *r;
    size_t used;
    ic_http_parse_err_t err = 0;

    ck_assert_int_eq(ic_http_parser_feed(p, (const uint8_t *)in, sizeof(in) - 1,
                                         &used, &err), 1);
    ck_assert_uint_eq(used, head);
    r = ic_http_parser_request(p);
    ck_assert(r->is_upgrade);
    ck_assert_str_eq(r->path, "/mqtt");
    ck_assert_str_eq(ic_http_header(r, "upgrade")->value, "websocket");
    ck_assert_str_eq(ic_http_header(r, "sec-websocket-protocol")->value, "mqtt");
    ck_assert_ptr_null(r->body);
    /* still ready */
    ck_assert_int_eq(ic_http_parser_feed(p, (const uint8_t *)in + head, 4,
                                         &used, &err), 1);
    ck_assert_uint_eq(used, 0);
    ic_http_parser_next(p);
    /* the rest is another protocol: the parser takes no more */
    ck_assert_int_eq(ic_http_parser_feed(p, (const uint8_t *)in + head, 4,
                                         &used, &err), IC_EPROTO);
    ck_assert_int_eq(err, IC_HTTP_PARSE_BAD);
    ic_http_parser_free(p);

    /* Upgrade without "Connection: upgrade" is a plain request */
    p = one(&lim, "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", &r);
    ck_assert(!r->is_upgrade);
    ic_http_parser_free(p);
}
END_TEST

/* ---- percent-decoding and queries -------------------------------------- */

static long dec(const char *s, char *out, size_t cap) {
    return ic_http_pct_decode(s, strlen(s), out, cap);
}

START_TEST(pct_decode) {
    char out[16];
    ck_assert_int_eq(dec("a%20b", out, sizeof(out)), 3);
    ck_assert_str_eq(out, "a b");
    ck_assert_int_eq(dec("%2f%2F%41z", out, sizeof(out)), 4);
    ck_assert_str_eq(out, "//Az");
    ck_assert_int_eq(dec("a+b", out, sizeof(out)), 3);
    ck_assert_str_eq(out, "a+b");
    ck_assert_int_eq(dec("", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(dec("%e2%82%ac", out, sizeof(out)), 3);
    ck_assert_str_eq(out, "\xe2\x82\xac");
    ck_assert_int_eq(dec("%G1", out, sizeof(out)), -1);
    ck_assert_int_eq(dec("%1G", out, sizeof(out)), -1);
    ck_assert_int_eq(dec("%2", out, sizeof(out)), -1);
    ck_assert_int_eq(dec("ab%", out, sizeof(out)), -1);
    ck_assert_int_eq(dec("%00", out, sizeof(out)), -1);
    ck_assert_int_eq(dec("a%00b", out, sizeof(out)), -1);
    ck_assert_int_eq(ic_http_pct_decode("a\0b", 3, out, sizeof(out)), -1);
    /* only len bytes are read */
    ck_assert_int_eq(ic_http_pct_decode("abc%zz", 3, out, sizeof(out)), 3);
    ck_assert_int_eq(ic_http_pct_decode("a%2", 2, out, sizeof(out)), -1);
    /* out too small: cap counts the NUL */
    ck_assert_int_eq(dec("abc", out, 3), -1);
    ck_assert_int_eq(dec("abc", out, 4), 3);
    ck_assert_str_eq(out, "abc");
    ck_assert_int_eq(dec("%41%42", out, 3), 2);
    ck_assert_int_eq(dec("%41%42", out, 2), -1);
    ck_assert_int_eq(dec("", out, 1), 0);
    ck_assert_int_eq(dec("", out, 0), -1);
}
END_TEST

static long qget(const char *q, const char *k, char *out, size_t cap) {
    return ic_http_query_get(q, k, out, cap);
}

START_TEST(query_get) {
    char out[16];
    const char *q = "qos=1&retain=true&name=a%2Fb&flag&empty=&x=%G1&a=b=c";
    ck_assert_int_eq(qget(q, "qos", out, sizeof(out)), 1);
    ck_assert_str_eq(out, "1");
    ck_assert_int_eq(qget(q, "retain", out, sizeof(out)), 4);
    ck_assert_str_eq(out, "true");
    ck_assert_int_eq(qget(q, "name", out, sizeof(out)), 3);
    ck_assert_str_eq(out, "a/b");
    ck_assert_int_eq(qget(q, "flag", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(qget(q, "empty", out, sizeof(out)), 0);
    ck_assert_int_eq(qget(q, "x", out, sizeof(out)), -2);
    ck_assert_int_eq(qget(q, "a", out, sizeof(out)), 3);
    ck_assert_str_eq(out, "b=c");
    ck_assert_int_eq(qget(q, "missing", out, sizeof(out)), -1);
    ck_assert_int_eq(qget(q, "qo", out, sizeof(out)), -1);
    ck_assert_int_eq(qget(q, "qoss", out, sizeof(out)), -1);
    ck_assert_int_eq(qget(q, "Qos", out, sizeof(out)), -1); /* case matters */
    /* value too long for out */
    ck_assert_int_eq(qget("k=0123456789abcdef", "k", out, sizeof(out)), -2);
    ck_assert_int_eq(qget("k=abc", "k", out, 3), -2);
    ck_assert_int_eq(qget("k=abc", "k", out, 4), 3);
    /* first occurrence wins; empty segments are skipped */
    ck_assert_int_eq(qget("&&k=1&k=2&", "k", out, sizeof(out)), 1);
    ck_assert_str_eq(out, "1");
    /* keys compare decoded; a malformed key never matches */
    ck_assert_int_eq(qget("n%61me=v", "name", out, sizeof(out)), 1);
    ck_assert_str_eq(out, "v");
    ck_assert_int_eq(qget("k%G1=bad&k=good", "k", out, sizeof(out)), 4);
    ck_assert_str_eq(out, "good");
    ck_assert_int_eq(qget("a+b=1", "a+b", out, sizeof(out)), 1);
    ck_assert_int_eq(qget("a+b=1", "a b", out, sizeof(out)), -1);
    ck_assert_int_eq(qget("k=a%00", "k", out, sizeof(out)), -2);
    ck_assert_int_eq(qget("k=%2", "k", out, sizeof(out)), -2);
    ck_assert_int_eq(qget("", "k", out, sizeof(out)), -1);
    ck_assert_int_eq(qget(NULL, "k", out, sizeof(out)), -1);
}
END_TEST

/* The query of a parsed request feeds straight into ic_http_query_get. */
START_TEST(request_query) {
    const ic_http_request_t *r;
    char out[32];
    ic_http_parser_t *p =
        one(&lim, "POST /topics/dev%2Fa?qos=1&retain=true HTTP/1.1\r\n"
                  "Content-Length: 0\r\n\r\n", &r);
    ck_assert_int_eq(ic_http_query_get(r->query, "qos", out, sizeof(out)), 1);
    ck_assert_str_eq(out, "1");
    ck_assert_int_eq(ic_http_pct_decode(r->path, strlen(r->path), out,
                                        sizeof(out)), 13);
    ck_assert_str_eq(out, "/topics/dev/a");
    ic_http_parser_free(p);
}
END_TEST

Suite *ic_http_parse_suite(void) {
    Suite *s = suite_create("http_parse");
    TCase *tc = tcase_create("requests");
    int nc = (int)(sizeof(corpus) / sizeof(corpus[0]));
    tcase_add_test(tc, simple_get);
    tcase_add_test(tc, headers);
    tcase_add_test(tc, post_content_length);
    tcase_add_test(tc, chunked);
    tcase_add_test(tc, pipelined);
    tcase_add_test(tc, keep_alive);
    tcase_add_test(tc, upgrade);
    suite_add_tcase(s, tc);

    tc = tcase_create("splits");
    tcase_add_test(tc, corpus_outcomes);
    tcase_add_loop_test(tc, split_bytewise, 0, nc);
    tcase_add_loop_test(tc, split_two_way, 0, nc);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, limit_head);
    tcase_add_test(tc, limit_headers);
    tcase_add_test(tc, limit_body);
    tcase_add_test(tc, memory_released);
    tcase_add_test(tc, malformed);
    suite_add_tcase(s, tc);

    tc = tcase_create("query");
    tcase_add_test(tc, pct_decode);
    tcase_add_test(tc, query_get);
    tcase_add_test(tc, request_query);
    suite_add_tcase(s, tc);
    return s;
}
