/* http_parse.c - HTTP/1.x request framing on top of llhttp.
 *
 * Job: turn the byte stream of one connection into complete requests, one at
 * a time. llhttp does all the tokenizing (request line, headers,
 * Content-Length, chunked bodies); this file only collects the fragments its
 * callbacks deliver into one per-parser arena and, when a message is
 * complete, pauses llhttp so the bytes of the next request stay with the
 * caller. Owns the llhttp state, the arena and the header tables. Limits
 * (head bytes, header count, body bytes) are checked before a fragment is
 * appended, so what a peer can make it hold is bounded by the limits.
 * Must not: do I/O, read a clock, keep globals, choose an HTTP status (that
 * is net/http.c; ic_http_parse_err_t only names the case), or write its own
 * tokenizer. Pure L1 (STYLE 3.3); RFC 9112 framing as llhttp implements it.
 *
 *   arena: METHOD\0 TARGET\0 name\0 value\0 ... name\0 value\0 BODY PATH\0 QUERY\0
 *          |<-------------------- head ------------------->|      |<- built ->|
 *
 * Offsets (never pointers) are recorded while the arena may still move; the
 * pointers of ic_http_request_t are made only once the message is complete.
 */
#include "iotcored/http_parse.h"
#include "iotcored/str.h"

#include "iotcored/alloc.h"
#include "iotcored/buf.h"
#include "iotcored/error.h"

#include <llhttp.h>

#include <stdlib.h>
#include <string.h>

/* Above these the arena / header tables are released between requests, so
 * one big request does not pin its memory for the connection's life. */
#define ARENA_KEEP_BYTES 16384
#define HEADERS_KEEP 64

#define NO_OFF ((size_t)-1)

typedef enum {
    PIECE_NONE = 0, /* between elements */
    PIECE_METHOD,
    PIECE_URL,
    PIECE_FIELD,
    PIECE_VALUE,
} piece_t;

typedef struct hdr_span_s {
    size_t name_off, name_len;   /* into arena */
    size_t value_off, value_len; /* value_off NO_OFF until the value starts */
} hdr_span_t;

struct ic_http_parser_s {
    llhttp_t ll;            /* ll.data == this parser */
    ic_http_limits_t lim;   /* copied at new */
    ic_buf_t arena;         /* every byte of the request in progress */
    hdr_span_t *spans;      /* n_spans <= lim.max_headers */
    size_t n_spans, cap_spans;
    ic_http_header_t *headers; /* built at completion, cap_headers entries */
    size_t cap_headers;
    piece_t piece;          /* element the last fragment belonged to */
    size_t method_off, method_len; /* arena offsets, bytes */
    size_t url_off, url_len;
    size_t body_off, body_len;
    size_t trailer_bytes;   /* chunked trailer bytes seen (not stored) */
    /* Head accounting, in raw bytes as they arrive on the wire: */
    const char *feed_base;  /* data of the feed in progress */
    size_t head_start;      /* offset in this feed where the head began */
    size_t head_prev;       /* head bytes that arrived in earlier feeds */
    bool in_head;           /* method seen, headers not yet complete */
    bool headers_done;      /* on_headers_complete ran for this message */
    bool head_paused;       /* llhttp paused at the end of the head */
    bool complete;          /* on_message_complete ran for this message */
    bool keep_alive;        /* llhttp_should_keep_alive at completion */
    bool ready;             /* req is valid until ic_http_parser_next */
    bool upgraded;          /* the ready request switched protocols */
    bool spent;             /* upgraded and released: no HTTP follows */
    int fail_rc;            /* 0, or the sticky error of a dead parser */
    ic_http_parse_err_t fail_err;
    const char *reason;     /* static text for the log line, never NULL */
    ic_http_request_t req;
};

static ic_http_parser_t *of(llhttp_t *ll) {
    return ll->data;
}

/* Record the first failure only; later ones are consequences of it. */
static int fail(ic_http_parser_t *p, int rc, ic_http_parse_err_t err,
                const char *reason) {
    if (p->fail_rc == 0) {
        p->fail_rc = rc;
        p->fail_err = err;
        p->reason = reason;
    }
    return -1;
}

/* Raw head bytes from the first byte of the method to `end` (a pointer into
 * the current feed). */
static size_t head_bytes_to(const ic_http_parser_t *p, const char *end) {
    return p->head_prev + (size_t)(end - p->feed_base) - p->head_start;
}

/* Common entry of the head callbacks: limit check before anything is kept. */
static int head_fragment(ic_http_parser_t *p, const char *at, size_t len) {
    if (!p->in_head) {
        p->in_head = true;
        p->head_start = (size_t)(at - p->feed_base);
        p->head_prev = 0;
    }
    if (head_bytes_to(p, at + len) > p->lim.max_head_bytes)
        return fail(p, IC_ETOOBIG, IC_HTTP_PARSE_HEAD_TOO_BIG,
                    "request head larger than max_head_bytes");
    return 0;
}

static void end_piece(ic_http_parser_t *p) {
    ic_buf_put_u8(&p->arena, 0);
    p->piece = PIECE_NONE;
}

static int on_method(llhttp_t *ll, const char *at, size_t len) {
    ic_http_parser_t *p = of(ll);
    if (head_fragment(p, at, len) != 0)
        return -1;
    if (p->piece != PIECE_METHOD) {
        p->piece = PIECE_METHOD;
        p->method_off = p->arena.len;
    }
    ic_buf_append(&p->arena, at, len);
    p->method_len += len;
    return 0;
}

static int on_url(llhttp_t *ll, const char *at, size_t len) {
    ic_http_parser_t *p = of(ll);
    if (head_fragment(p, at, len) != 0)
        return -1;
    if (p->piece != PIECE_URL) {
        p->piece = PIECE_URL;
        p->url_off = p->arena.len;
    }
    ic_buf_append(&p->arena, at, len);
    p->url_len += len;
    return 0;
}

/* Chunked trailers come through the header callbacks after the body; they
 * are not part of the request we hand out, so they are only counted. */
static int trailer_fragment(ic_http_parser_t *p, size_t len) {
    p->trailer_bytes += len;
    if (p->trailer_bytes > p->lim.max_head_bytes)
        return fail(p, IC_ETOOBIG, IC_HTTP_PARSE_HEAD_TOO_BIG,
                    "chunked trailers larger than max_head_bytes");
    return 0;
}

/* RFC 9110 5.1: field-name = token. llhttp as Debian builds it (not
 * LLHTTP_STRICT_MODE) lets spaces through ("Bad Name", "X :"), which would
 * make names that ic_http_header can never find; refuse them here. */
static bool is_tchar(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

static int on_header_field(llhttp_t *ll, const char *at, size_t len) {
    ic_http_parser_t *p = of(ll);
    hdr_span_t *h;
    size_t i;
    if (p->headers_done)
        return trailer_fragment(p, len);
    if (head_fragment(p, at, len) != 0)
        return -1;
    for (i = 0; i < len; i++)
        if (!is_tchar((unsigned char)at[i]))
            return fail(p, IC_EMALFORMED, IC_HTTP_PARSE_BAD,
                        "invalid character in header name");
    if (p->piece != PIECE_FIELD) {
        if (p->n_spans >= p->lim.max_headers)
            return fail(p, IC_ETOOBIG, IC_HTTP_PARSE_HEAD_TOO_BIG,
                        "more header fields than max_headers");
        if (p->n_spans == p->cap_spans) {
            p->cap_spans = p->cap_spans ? p->cap_spans * 2 : 16;
            if (p->cap_spans > p->lim.max_headers)
                p->cap_spans = p->lim.max_headers;
            p->spans = ic_xrealloc(p->spans, p->cap_spans * sizeof(*p->spans));
        }
        h = &p->spans[p->n_spans++];
        h->name_off = p->arena.len;
        h->name_len = 0;
        h->value_off = NO_OFF;
        h->value_len = 0;
        p->piece = PIECE_FIELD;
    }
    h = &p->spans[p->n_spans - 1];
    ic_buf_append(&p->arena, at, len);
    h->name_len += len;
    return 0;
}

static int on_header_value(llhttp_t *ll, const char *at, size_t len) {
    ic_http_parser_t *p = of(ll);
    hdr_span_t *h;
    if (p->headers_done)
        return trailer_fragment(p, len);
    if (head_fragment(p, at, len) != 0)
        return -1;
    if (p->n_spans == 0) /* llhttp never sends a value first; be safe */
        return fail(p, IC_EMALFORMED, IC_HTTP_PARSE_BAD,
                    "header value without a name");
    h = &p->spans[p->n_spans - 1];
    if (h->value_off == NO_OFF)
        h->value_off = p->arena.len;
    p->piece = PIECE_VALUE;
    ic_buf_append(&p->arena, at, len);
    h->value_len += len;
    return 0;
}

static int on_method_complete(llhttp_t *ll) {
    ic_http_parser_t *p = of(ll);
    if (p->piece != PIECE_METHOD) /* no method bytes: llhttp rejects first */
        return fail(p, IC_EMALFORMED, IC_HTTP_PARSE_BAD, "empty method");
    end_piece(p);
    return 0;
}

static int on_url_complete(llhttp_t *ll) {
    ic_http_parser_t *p = of(ll);
    if (p->piece != PIECE_URL)
        return fail(p, IC_EMALFORMED, IC_HTTP_PARSE_BAD, "empty target");
    end_piece(p);
    return 0;
}

static int on_header_field_complete(llhttp_t *ll) {
    ic_http_parser_t *p = of(ll);
    if (p->headers_done)
        return 0;
    if (p->piece != PIECE_FIELD || p->spans[p->n_spans - 1].name_len == 0)
        return fail(p, IC_EMALFORMED, IC_HTTP_PARSE_BAD, "empty header name");
    end_piece(p);
    return 0;
}

static int on_header_value_complete(llhttp_t *ll) {
    ic_http_parser_t *p = of(ll);
    hdr_span_t *h;
    if (p->headers_done)
        return 0;
    if (p->n_spans == 0)
        return fail(p, IC_EMALFORMED, IC_HTTP_PARSE_BAD,
                    "header value without a name");
    h = &p->spans[p->n_spans - 1];
    if (h->value_off == NO_OFF) /* empty value: llhttp sent no fragment */
        h->value_off = p->arena.len;
    end_piece(p);
    return 0;
}

static int on_headers_complete(llhttp_t *ll) {
    ic_http_parser_t *p = of(ll);
    p->headers_done = true;
    if (llhttp_get_http_major(ll) != 1)
        return fail(p, IC_EMALFORMED, IC_HTTP_PARSE_BAD,
                    "HTTP version is not 1.x");
    /* content_length is the declared length here (0 when chunked): refuse
     * before a single body byte is stored. */
    if (ll->content_length > p->lim.max_body_bytes)
        return fail(p, IC_ETOOBIG, IC_HTTP_PARSE_BODY_TOO_BIG,
                    "Content-Length larger than max_body_bytes");
    p->body_off = p->arena.len;
    ic_buf_reserve(&p->arena, (size_t)ll->content_length);
    /* This callback is told no position; pausing makes llhttp report where
     * the head ends, so feed() can measure it exactly (final CRLF
     * included) and give the same answer however the bytes were split. */
    p->head_paused = true;
    return HPE_PAUSED;
}

static int on_body(llhttp_t *ll, const char *at, size_t len) {
    ic_http_parser_t *p = of(ll);
    if (len > p->lim.max_body_bytes - p->body_len) /* body_len <= max */
        return fail(p, IC_ETOOBIG, IC_HTTP_PARSE_BODY_TOO_BIG,
                    "body larger than max_body_bytes");
    ic_buf_append(&p->arena, at, len);
    p->body_len += len;
    return 0;
}

static int on_message_complete(llhttp_t *ll) {
    ic_http_parser_t *p = of(ll);
    p->complete = true;
    /* Must be read now: llhttp clears the flags right after this callback. */
    p->keep_alive = llhttp_should_keep_alive(ll) != 0;
    /* An upgrade makes llhttp stop by itself (HPE_PAUSED_UPGRADE) just past
     * this message; pausing here too would only add a resume round. */
    if (llhttp_get_upgrade(ll))
        return 0;
    return HPE_PAUSED;
}

/* Immutable and shared by every parser, so not a mutable global. llhttp
 * keeps a pointer to it for the parser's life. */
static const llhttp_settings_t settings = {
    .on_method = on_method,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_method_complete = on_method_complete,
    .on_url_complete = on_url_complete,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void reset_message(ic_http_parser_t *p) {
    if (p->arena.cap > ARENA_KEEP_BYTES)
        ic_buf_free(&p->arena);
    else
        ic_buf_reset(&p->arena);
    if (p->cap_spans > HEADERS_KEEP) {
        free(p->spans);
        p->spans = NULL;
        p->cap_spans = 0;
    }
    if (p->cap_headers > HEADERS_KEEP) {
        free(p->headers);
        p->headers = NULL;
        p->cap_headers = 0;
    }
    p->n_spans = 0;
    p->piece = PIECE_NONE;
    p->method_off = p->method_len = 0;
    p->url_off = p->url_len = 0;
    p->body_off = p->body_len = 0;
    p->trailer_bytes = 0;
    p->head_start = p->head_prev = 0;
    p->in_head = p->headers_done = p->head_paused = p->complete = false;
    p->keep_alive = false;
    p->ready = p->upgraded = false;
    memset(&p->req, 0, sizeof(p->req));
}

ic_http_parser_t *ic_http_parser_new(const ic_http_limits_t *lim) {
    ic_http_parser_t *p = ic_xcalloc(1, sizeof(*p));
    p->lim = *lim;
    ic_buf_init(&p->arena);
    p->reason = "";
    llhttp_init(&p->ll, HTTP_REQUEST, &settings);
    p->ll.data = p;
    reset_message(p);
    return p;
}

void ic_http_parser_free(ic_http_parser_t *p) {
    if (p == NULL)
        return;
    ic_buf_free(&p->arena);
    free(p->spans);
    free(p->headers);
    free(p);
}

static bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

/* Turn the offsets into the request view. Everything appended to the arena
 * is appended first; pointers are taken last, once it can no longer move. */
static void build_request(ic_http_parser_t *p) {
    ic_http_request_t *r = &p->req;
    size_t i, path_len, query_len, path_off, query_off, q;
    const char *t;
    char *base;

    t = (const char *)p->arena.data + p->url_off;
    for (path_len = 0; path_len < p->url_len; path_len++)
        if (t[path_len] == '?' || t[path_len] == '#')
            break;
    q = path_len < p->url_len && t[path_len] == '?' ? path_len + 1 : p->url_len;
    for (query_len = 0; q + query_len < p->url_len; query_len++)
        if (t[q + query_len] == '#')
            break;
    /* t may move with the appends below; copy through offsets. */
    ic_buf_reserve(&p->arena, path_len + query_len + 2);
    t = (const char *)p->arena.data + p->url_off;
    path_off = p->arena.len;
    ic_buf_append(&p->arena, t, path_len);
    ic_buf_put_u8(&p->arena, 0);
    query_off = p->arena.len;
    ic_buf_append(&p->arena, t + q, query_len);
    ic_buf_put_u8(&p->arena, 0);

    if (p->n_spans > p->cap_headers) {
        free(p->headers);
        p->headers = ic_xmalloc(p->n_spans * sizeof(*p->headers));
        p->cap_headers = p->n_spans;
    }
    base = (char *)p->arena.data;
    for (i = 0; i < p->n_spans; i++) {
        hdr_span_t *h = &p->spans[i];
        /* llhttp drops leading whitespace; trailing is ours to drop. */
        while (h->value_len > 0 && is_ows(base[h->value_off + h->value_len - 1]))
            h->value_len--;
        base[h->value_off + h->value_len] = '\0';
        p->headers[i].name = base + h->name_off;
        p->headers[i].name_len = h->name_len;
        p->headers[i].value = base + h->value_off;
        p->headers[i].value_len = h->value_len;
    }

    r->method = base + p->method_off;
    r->target = base + p->url_off;
    r->target_len = p->url_len;
    r->path = base + path_off;
    r->query = base + query_off;
    r->headers = p->n_spans ? p->headers : NULL;
    r->n_headers = p->n_spans;
    r->body = p->body_len ? p->arena.data + p->body_off : NULL;
    r->body_len = p->body_len;
    r->version_minor = llhttp_get_http_minor(&p->ll);
    r->keep_alive = p->keep_alive;
    r->is_upgrade = p->upgraded;
}

static size_t pos_in(const char *pos, const uint8_t *data, size_t n) {
    const char *d = (const char *)data;
    if (pos == NULL || pos < d || pos > d + n)
        return 0;
    return (size_t)(pos - d);
}

int ic_http_parser_feed(ic_http_parser_t *p, const uint8_t *data, size_t n,
                        size_t *used, ic_http_parse_err_t *err) {
    llhttp_errno_t rc;

    *used = 0;
    if (p->fail_rc != 0)
        goto dead;
    if (p->ready)
        return 1;
    if (p->spent) {
        fail(p, IC_EPROTO, IC_HTTP_PARSE_BAD, "bytes fed after an upgrade");
        goto dead;
    }
    if (n == 0)
        return 0;

    p->feed_base = (const char *)data;
    rc = llhttp_execute(&p->ll, (const char *)data, n);
    if (rc == HPE_PAUSED && p->head_paused) {
        const char *end = llhttp_get_error_pos(&p->ll);
        p->head_paused = false;
        p->in_head = false;
        if (end == NULL || end < p->feed_base || end > p->feed_base + n)
            goto malformed; /* cannot happen with a sane llhttp */
        if (head_bytes_to(p, end) > p->lim.max_head_bytes) {
            *used = (size_t)(end - p->feed_base);
            fail(p, IC_ETOOBIG, IC_HTTP_PARSE_HEAD_TOO_BIG,
                 "request head larger than max_head_bytes");
            goto dead;
        }
        llhttp_resume(&p->ll);
        rc = llhttp_execute(&p->ll, end, (size_t)(p->feed_base + n - end));
    }
    switch (rc) {
    case HPE_OK:
        *used = n;
        if (p->in_head) {
            /* Bytes no callback reported (separators, whitespace) count too:
             * a lower bound of the final head, so checking it is safe. */
            p->head_prev += n - p->head_start;
            p->head_start = 0;
            if (p->head_prev > p->lim.max_head_bytes) {
                fail(p, IC_ETOOBIG, IC_HTTP_PARSE_HEAD_TOO_BIG,
                     "request head larger than max_head_bytes");
                goto dead;
            }
        }
        return 0;
    case HPE_PAUSED:
    case HPE_PAUSED_UPGRADE:
        if (!p->complete) /* only our on_message_complete pauses */
            break;
        *used = pos_in(llhttp_get_error_pos(&p->ll), data, n);
        p->upgraded = rc == HPE_PAUSED_UPGRADE;
        build_request(p);
        p->ready = true;
        return 1;
    case HPE_PAUSED_H2_UPGRADE:
        fail(p, IC_EMALFORMED, IC_HTTP_PARSE_BAD, "HTTP/2 is not supported");
        break;
    default:
        break;
    }
malformed:
    *used = pos_in(llhttp_get_error_pos(&p->ll), data, n);
    fail(p, IC_EMALFORMED, IC_HTTP_PARSE_BAD, llhttp_get_error_reason(&p->ll));
    if (p->reason == NULL)
        p->reason = llhttp_errno_name(rc);
dead:
    *err = p->fail_err;
    return p->fail_rc;
}

const ic_http_request_t *ic_http_parser_request(const ic_http_parser_t *p) {
    return p->ready ? &p->req : NULL;
}

void ic_http_parser_next(ic_http_parser_t *p) {
    bool upgraded = p->upgraded;
    if (!p->ready)
        return;
    reset_message(p);
    if (upgraded)
        p->spent = true; /* the rest of the stream is another protocol */
    else
        llhttp_resume(&p->ll);
}

const char *ic_http_parser_error(const ic_http_parser_t *p) {
    return p->reason;
}

size_t ic_http_parser_held(const ic_http_parser_t *p) {
    return p->arena.len + p->n_spans * sizeof(*p->spans);
}

static int lower(int c) {
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

const ic_http_header_t *ic_http_header(const ic_http_request_t *r,
                                       const char *name) {
    size_t i, j, len = strlen(name);
    for (i = 0; i < r->n_headers; i++) {
        const ic_http_header_t *h = &r->headers[i];
        if (h->name_len != len)
            continue;
        for (j = 0; j < len; j++)
            if (lower((unsigned char)h->name[j]) != lower((unsigned char)name[j]))
                break;
        if (j == len)
            return h;
    }
    return NULL;
}

/* Decode the escape at src[i] ('%' or a plain byte); -1 if malformed or NUL.
 * *adv is set to the source bytes it took. */
static int decode_at(const char *src, size_t len, size_t i, size_t *adv) {
    int hi, lo;
    if (src[i] != '%') {
        *adv = 1;
        return src[i] == '\0' ? -1 : (unsigned char)src[i];
    }
    if (len - i < 3)
        return -1;
    hi = ic_hexval(src[i + 1]);
    lo = ic_hexval(src[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
        return -1;
    *adv = 3;
    return hi * 16 + lo;
}

long ic_http_pct_decode(const char *src, size_t len, char *out, size_t cap) {
    size_t i = 0, o = 0, adv;
    int c;
    if (cap == 0)
        return -1;
    out[0] = '\0';
    while (i < len) {
        c = decode_at(src, len, i, &adv);
        if (c < 0 || o + 1 >= cap) {
            out[0] = '\0';
            return -1;
        }
        out[o++] = (char)c;
        i += adv;
    }
    out[o] = '\0';
    return (long)o;
}

/* 1 if the percent-decoded src[0..len) equals key, 0 if not or malformed. */
static int key_equals(const char *src, size_t len, const char *key) {
    size_t i = 0, k = 0, adv;
    int c;
    while (i < len) {
        c = decode_at(src, len, i, &adv);
        if (c < 0 || key[k] == '\0' || (unsigned char)key[k] != c)
            return 0;
        k++;
        i += adv;
    }
    return key[k] == '\0';
}

long ic_http_query_get(const char *query, const char *key, char *out,
                       size_t cap) {
    const char *seg = query, *end, *eq;
    long n;
    if (query == NULL)
        return -1;
    while (*seg != '\0') {
        end = strchr(seg, '&');
        if (end == NULL)
            end = seg + strlen(seg);
        eq = memchr(seg, '=', (size_t)(end - seg));
        if (key_equals(seg, (size_t)((eq ? eq : end) - seg), key)) {
            if (eq == NULL) {
                if (cap == 0)
                    return -2;
                out[0] = '\0';
                return 0;
            }
            n = ic_http_pct_decode(eq + 1, (size_t)(end - eq - 1), out, cap);
            return n < 0 ? -2 : n;
        }
        seg = *end ? end + 1 : end;
    }
    return -1;
}
