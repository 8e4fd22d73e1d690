/* http_parse.h - HTTP/1.1 request framing on top of llhttp (pure, L1).
 *
 * A parser takes the bytes of one connection as they arrive and yields
 * complete requests, one at a time (pipelining-safe: bytes of the next
 * request stay unconsumed until the current one has been handled). Limits
 * on the request head (bytes, header count) and the body are checked
 * before anything is allocated or copied, so a peer cannot make it grow
 * beyond them. No sockets, no loop, no clock.
 */
#ifndef IOTCORED_HTTP_PARSE_H
#define IOTCORED_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ic_http_header_s {
    const char *name;  /* as sent (case kept), NUL-terminated */
    size_t name_len;
    const char *value; /* leading/trailing whitespace removed, NUL-terminated */
    size_t value_len;
} ic_http_header_t;

typedef struct ic_http_limits_s {
    size_t max_head_bytes;  /* request line + headers (431 beyond) */
    size_t max_headers;     /* header fields (431 beyond) */
    size_t max_body_bytes;  /* body (413 beyond; checked on Content-Length
                               before reading, and while reading chunks) */
} ic_http_limits_t;

typedef struct ic_http_request_s {
    const char *method;     /* "GET", "POST", ... NUL-terminated */
    const char *target;     /* request-target as sent: "/path?query" */
    size_t target_len;
    const char *path;       /* target up to '?' (or '#'), NUL-terminated
                               copy, raw (not percent-decoded) */
    const char *query;      /* after '?' up to any '#', NUL-terminated, ""
                               if none; raw */
    ic_http_header_t *headers;
    size_t n_headers;
    const uint8_t *body;    /* NULL iff body_len == 0 */
    size_t body_len;
    int version_minor;      /* 0 or 1 (HTTP/1.x) */
    bool keep_alive;        /* llhttp_should_keep_alive */
    bool is_upgrade;        /* Connection: upgrade + Upgrade: header (or
                               CONNECT): the bytes after it are not HTTP */
} ic_http_request_t;

typedef enum {
    IC_HTTP_PARSE_BAD = 1,       /* malformed: answer 400, close */
    IC_HTTP_PARSE_HEAD_TOO_BIG,  /* answer 431, close */
    IC_HTTP_PARSE_BODY_TOO_BIG,  /* answer 413, close */
} ic_http_parse_err_t;

typedef struct ic_http_parser_s ic_http_parser_t;

/* lim is borrowed (copied). Never NULL (allocation failure aborts). Free
 * with ic_http_parser_free, which accepts NULL. */
ic_http_parser_t *ic_http_parser_new(const ic_http_limits_t *lim);
void ic_http_parser_free(ic_http_parser_t *p);

/* Feed bytes (borrowed: nothing points into data after the call). Sets
 * *used to the bytes consumed. Returns:
 *   1  a complete request is ready (ic_http_parser_request); *used may be
 *      < n: the rest belongs to the next request and must be fed again
 *      after ic_http_parser_next();
 *   0  all n consumed, more bytes needed;
 *   IC_EMALFORMED / IC_ETOOBIG: error; *err says which status applies and
 *      ic_http_parser_error() gives a short reason for the log line. The
 *      parser is then dead (the connection is answered and closed): every
 *      later feed returns the same error.
 *   IC_EPROTO (*err IC_HTTP_PARSE_BAD): fed again after an upgrade request
 *      was released (a caller bug: those bytes are another protocol).
 * *err is written only on error.
 * While a request is ready, feeding returns 1 again with *used = 0.
 *
 * Limits: the head (raw bytes from the first byte of the method through
 * the empty line that ends the headers) and the header count are checked as
 * the bytes arrive, before a fragment is kept; a head over the limit is
 * refused however the input was split. A declared Content-Length above
 * max_body_bytes is refused before any body byte is read, a chunked body as
 * it grows; chunked trailers are counted against max_head_bytes but not
 * kept. Header names must be RFC 9110 tokens.
 *
 * Upgrade: a request with "Connection: upgrade" and "Upgrade:" (or a
 * CONNECT) comes out with is_upgrade = true and *used just past its head
 * (past its body, if it declared one); the bytes after it are the new
 * protocol and are never consumed. After ic_http_parser_next() such a
 * parser accepts no more bytes.
 *
 * After a request with keep_alive == false the parser goes on parsing what
 * follows (llhttp is built without LLHTTP_STRICT_MODE); the caller is the
 * one that must close the connection after answering it. */
int ic_http_parser_feed(ic_http_parser_t *p, const uint8_t *data, size_t n,
                        size_t *used, ic_http_parse_err_t *err);
/* The ready request (borrowed; valid until ic_http_parser_next/free), or
 * NULL. */
const ic_http_request_t *ic_http_parser_request(const ic_http_parser_t *p);
/* Release the ready request and get ready for the next one (a no-op when
 * none is ready). Memory kept between requests is bounded: a large arena
 * is released rather than reused. */
void ic_http_parser_next(ic_http_parser_t *p);
/* Short static reason for the last error ("" if none); never NULL. */
const char *ic_http_parser_error(const ic_http_parser_t *p);
/* Bytes held for a request in progress (for memory accounting). */
size_t ic_http_parser_held(const ic_http_parser_t *p);

/* Helpers on a request. Header lookup is case-insensitive; NULL if absent
 * (the first one if repeated). */
const ic_http_header_t *ic_http_header(const ic_http_request_t *r,
                                       const char *name);
/* Percent-decode src[0..len) into out (cap bytes incl. NUL). '+' is kept
 * as '+' (not form encoding). src is borrowed, out is an out-parameter.
 * Returns the decoded length, or -1 on a bad escape ("%G1", a truncated
 * "%2"), an embedded NUL (raw or "%00"), or if it does not fit (out is
 * then "" when cap > 0). */
long ic_http_pct_decode(const char *src, size_t len, char *out, size_t cap);
/* Query parameter `key` of query (the part after '?', borrowed),
 * percent-decoded into out (cap bytes incl. NUL). Pairs are split on '&'
 * and the first '='; keys are compared after percent-decoding, the first
 * match wins, and a key without '=' has the value "". Returns the length,
 * -1 if absent (or query is NULL), -2 if the value is malformed or does
 * not fit. A pair whose key is malformed never matches. */
long ic_http_query_get(const char *query, const char *key, char *out,
                       size_t cap);

#endif
