/* http_client.c - outbound HTTP/1.1 requests on libuv, with client TLS.
 *
 * Job: carry one request per connection from a URL to a parsed response:
 * resolve (uv_getaddrinfo), connect (each address in turn), TLS through
 * memory BIOs (OpenSSL never sees the socket), write the request, frame
 * the response with llhttp in HTTP_RESPONSE mode. Owns the client's
 * SSL_CTX and, per request, its handles (timer, TCP), its SSL and the
 * response being collected. Must not: interpret statuses or bodies (a 500
 * is a response, judged by the caller), retry, pool connections, or let a
 * peer make it allocate beyond the caller's max_response_bytes (announced
 * lengths are checked before anything is reserved). Loop thread only.
 *
 * Request lifetime (P3: nothing is freed while a callback for it can fire):
 *
 *   request() -- timer armed, getaddrinfo --> connect --> [TLS] --> write
 *        \                                                            |
 *         `-- finish(rc): once; closes timer + TCP, cancels resolve <-- read
 *                  |
 *                  `-- last close / resolve callback: user cb, then free
 *
 * finish() runs only inside libuv callbacks or ic_http_client_close, and the
 * timer is open until finish, so the user callback is never synchronous.
 * References: RFC 9112 (framing), RFC 9110 9.3 (HEAD has no body), RFC 6066
 * 3 (no SNI for IP literals).
 */
#include "iotcored/http_client.h"

#include "iotcored/alloc.h"
#include "iotcored/buf.h"
#include "iotcored/error.h"
#include "iotcored/str.h"

#include <arpa/inet.h>
#include <assert.h>
#include <llhttp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define READ_CHUNK 16384
#define MAX_HOST 253
#define MAX_METHOD 32
#define WHY_LEN 256

typedef struct req_s req_t;

typedef struct hdr_span_s {
    size_t name_off, name_len;   /* into arena */
    size_t value_off, value_len; /* value_off == SIZE_MAX: empty value */
} hdr_span_t;

typedef enum { PIECE_NONE = 0, PIECE_FIELD, PIECE_VALUE } piece_t;

/* A TLS write: the ciphertext travels with its uv_write_t. */
typedef struct wbuf_s {
    uv_write_t w;
    size_t len;
    char data[];
} wbuf_t;

struct req_s {
    ic_http_client_t *c;
    req_t *prev, *next;       /* in c's in-flight list */
    ic_http_client_cb cb;
    void *data;
    /* target */
    char *host;               /* owned; no brackets */
    char port[6];
    bool is_tls, is_ip, is_head;
    uint32_t timeout_ms;
    size_t max_bytes;         /* response head + body, bytes */
    ic_buf_t out;             /* the request as sent (plaintext) */
    uv_write_t plain_w;       /* the one write of a plain request */
    /* handles and requests; each flag true while a callback can come */
    uv_timer_t timer;
    bool timer_open;
    uv_getaddrinfo_t gai;
    bool resolving;
    struct addrinfo *ai;      /* owned (uv_freeaddrinfo) */
    struct addrinfo *ai_next; /* next address to try */
    uv_tcp_t tcp;
    bool tcp_open;
    bool retrying;            /* TCP closing to try the next address */
    uv_connect_t conn;
    int last_rc;              /* last connect failure */
    /* TLS */
    SSL *ssl;                 /* owned, NULL for http:// */
    BIO *rbio, *wbio;         /* owned by ssl */
    bool tls_ready;
    /* response */
    llhttp_t ll;              /* ll.data == this request */
    ic_buf_t arena;           /* header names and values, NUL-separated */
    hdr_span_t *spans;        /* n_spans <= IC_HTTP_CLIENT_MAX_HEADERS */
    size_t n_spans, cap_spans;
    piece_t piece;
    size_t head_bytes;        /* reason phrase + header name and value
                                 bytes so far (trailers and 1xx included) */
    ic_buf_t body;
    int status;
    bool headers_done;        /* the current message's head is complete */
    bool got_bytes;           /* any response byte arrived */
    bool complete;            /* a final response is complete */
    int limit_rc;             /* set by a parser callback that refused */
    const char *limit_why;    /* static text for limit_rc */
    /* outcome */
    bool done;
    int rc;
    char why[WHY_LEN];
    char rbuf[READ_CHUNK];    /* read buffer, also TLS plaintext out */
};

struct ic_http_client_s {
    uv_loop_t *loop;          /* borrowed */
    SSL_CTX *ssl_ctx;         /* owned */
    size_t max_inflight;      /* 0 = no limit */
    req_t *head;              /* in-flight requests */
    size_t n_inflight;
    uv_timer_t closer;        /* never started; closed by close() so that
                                 its callback makes the done callback
                                 asynchronous even with nothing in flight */
    bool closing;             /* close() was called */
    bool closer_closed;       /* closer's close callback ran */
    bool done_fired;
    ic_done_cb done_cb;
    void *done_data;
};

/* --- small helpers ------------------------------------------------------ */

static bool is_tchar(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') ||
           (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static bool is_token(const char *s, size_t n) {
    size_t i;
    if (n == 0)
        return false;
    for (i = 0; i < n; i++)
        if (!is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

static bool name_is(const ic_http_header_t *h, const char *name) {
    return h->name_len == strlen(name) &&
           strncasecmp(h->name, name, h->name_len) == 0;
}

/* --- URL ---------------------------------------------------------------- */

typedef struct target_s {
    bool is_tls, is_ip;
    char host[MAX_HOST + 1];   /* without brackets */
    char port[6];
    bool default_port;
    const char *path;          /* into the URL: from '/' or '?' */
    size_t path_len;           /* up to any '#' */
} target_t;

static bool host_name_ok(const char *h, size_t n) {
    size_t i;
    if (n == 0 || n > MAX_HOST)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)h[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_'))
            return false;
    }
    return true;
}

static int parse_url(const char *url, target_t *t) {
    const char *p, *auth_end, *hend, *colon = NULL;
    struct in6_addr a6;
    struct in_addr a4;
    size_t alen, i;
    long port;

    memset(t, 0, sizeof(*t));
    if (strncasecmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        p = url + 8;
        t->is_tls = true;
    } else {
        return IC_EINVAL;
    }
    alen = strcspn(p, "/?#");
    auth_end = p + alen;
    if (memchr(p, '@', alen) != NULL)
        return IC_EINVAL; /* userinfo is not for us (and hides the host) */
    if (alen > 0 && p[0] == '[') {
        hend = memchr(p, ']', alen);
        if (hend == NULL || (size_t)(hend - p - 1) > MAX_HOST)
            return IC_EINVAL;
        memcpy(t->host, p + 1, (size_t)(hend - p - 1));
        t->host[hend - p - 1] = '\0';
        if (inet_pton(AF_INET6, t->host, &a6) != 1)
            return IC_EINVAL;
        t->is_ip = true;
        if (hend + 1 < auth_end) {
            if (hend[1] != ':')
                return IC_EINVAL;
            colon = hend + 1;
        }
    } else {
        colon = memchr(p, ':', alen);
        hend = colon ? colon : auth_end;
        if (!host_name_ok(p, (size_t)(hend - p)))
            return IC_EINVAL;
        memcpy(t->host, p, (size_t)(hend - p));
        t->host[hend - p] = '\0';
        t->is_ip = inet_pton(AF_INET, t->host, &a4) == 1;
    }
    if (colon != NULL) {
        size_t plen = (size_t)(auth_end - colon - 1);
        if (plen == 0 || plen > 5)
            return IC_EINVAL;
        port = 0;
        for (i = 0; i < plen; i++) {
            if (colon[1 + i] < '0' || colon[1 + i] > '9')
                return IC_EINVAL;
            port = port * 10 + (colon[1 + i] - '0');
        }
        if (port < 1 || port > 65535)
            return IC_EINVAL;
    } else {
        port = t->is_tls ? 443 : 80;
    }
    snprintf(t->port, sizeof(t->port), "%ld", port);
    t->default_port = port == (t->is_tls ? 443 : 80);
    t->path = auth_end;
    t->path_len = strcspn(auth_end, "#");
    for (i = 0; i < t->path_len; i++) {
        unsigned char ch = (unsigned char)t->path[i];
        if (ch <= 0x20 || ch == 0x7f)
            return IC_EINVAL; /* would split the request line */
    }
    return 0;
}

/* The request bytes: request line, Host unless given, the caller's fields,
 * Content-Length, Connection: close, body. */
static int build_request(const ic_http_client_req_t *q, const target_t *t,
                         ic_buf_t *out) {
    bool has_host = false, needs_len;
    size_t i, j;

    if (q->method == NULL || strlen(q->method) > MAX_METHOD ||
        !is_token(q->method, strlen(q->method)))
        return IC_EINVAL;
    if (q->n_headers > 0 && q->headers == NULL)
        return IC_EINVAL;
    if (q->body_len > 0 && q->body == NULL)
        return IC_EINVAL;
    for (i = 0; i < q->n_headers; i++) {
        const ic_http_header_t *h = &q->headers[i];
        if (h->name == NULL || !is_token(h->name, h->name_len) ||
            (h->value == NULL && h->value_len > 0))
            return IC_EINVAL;
        for (j = 0; j < h->value_len; j++) {
            unsigned char ch = (unsigned char)h->value[j];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return IC_EINVAL; /* CR/LF would inject header lines */
        }
        if (name_is(h, "content-length") || name_is(h, "transfer-encoding") ||
            name_is(h, "connection"))
            return IC_EINVAL;
        if (name_is(h, "host"))
            has_host = true;
    }
    ic_buf_appendf(out, "%s ", q->method);
    if (t->path_len == 0 || t->path[0] == '?')
        ic_buf_put_u8(out, '/');
    ic_buf_append(out, t->path, t->path_len);
    ic_buf_append_str(out, " HTTP/1.1\r\n");
    if (!has_host) {
        const char *l = strchr(t->host, ':') ? "[" : "";
        const char *r = l[0] ? "]" : "";
        if (t->default_port)
            ic_buf_appendf(out, "Host: %s%s%s\r\n", l, t->host, r);
        else
            ic_buf_appendf(out, "Host: %s%s%s:%s\r\n", l, t->host, r, t->port);
    }
    for (i = 0; i < q->n_headers; i++) {
        ic_buf_append(out, q->headers[i].name, q->headers[i].name_len);
        ic_buf_append_str(out, ": ");
        if (q->headers[i].value_len > 0)
            ic_buf_append(out, q->headers[i].value, q->headers[i].value_len);
        ic_buf_append_str(out, "\r\n");
    }
    needs_len = q->body_len > 0 || strcmp(q->method, "POST") == 0 ||
                strcmp(q->method, "PUT") == 0 || strcmp(q->method, "PATCH") == 0;
    if (needs_len)
        ic_buf_appendf(out, "Content-Length: %zu\r\n", q->body_len);
    ic_buf_append_str(out, "Connection: close\r\n\r\n");
    if (q->body_len > 0)
        ic_buf_append(out, q->body, q->body_len);
    return 0;
}

/* --- completion --------------------------------------------------------- */

static void unlink_req(ic_http_client_t *c, req_t *r) {
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        c->head = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    c->n_inflight--;
}

static void req_free(req_t *r) {
    if (r->ai != NULL)
        uv_freeaddrinfo(r->ai);
    SSL_free(r->ssl); /* frees both BIOs */
    ic_buf_free(&r->out);
    ic_buf_free(&r->arena);
    ic_buf_free(&r->body);
    free(r->spans);
    free(r->host);
    free(r);
}

static void maybe_closed(ic_http_client_t *c) {
    if (c->closing && c->closer_closed && c->head == NULL && !c->done_fired) {
        c->done_fired = true;
        if (c->done_cb != NULL)
            c->done_cb(c->done_data); /* may free c: nothing after this */
    }
}

/* Deliver once nothing of the request can call back any more. */
static void maybe_complete(req_t *r) {
    ic_http_client_t *c = r->c;
    ic_http_header_t *hv = NULL;
    ic_http_response_t res;
    size_t i;

    if (!r->done || r->resolving || r->tcp_open || r->timer_open)
        return;
    unlink_req(c, r);
    if (r->rc == 0) {
        memset(&res, 0, sizeof(res));
        res.status = r->status;
        res.content_type = "";
        if (r->n_spans > 0)
            hv = ic_xcalloc(r->n_spans, sizeof(*hv));
        for (i = 0; i < r->n_spans; i++) {
            const hdr_span_t *s = &r->spans[i];
            const char *a = (const char *)r->arena.data;
            hv[i].name = a + s->name_off;
            hv[i].name_len = s->name_len;
            if (s->value_off == SIZE_MAX) {
                hv[i].value = "";
                hv[i].value_len = 0;
            } else {
                size_t n = s->value_len;
                while (n > 0 && (a[s->value_off + n - 1] == ' ' ||
                                 a[s->value_off + n - 1] == '\t'))
                    n--;
                r->arena.data[s->value_off + n] = '\0';
                hv[i].value = a + s->value_off;
                hv[i].value_len = n;
            }
            if (res.content_type[0] == '\0' && name_is(&hv[i], "content-type"))
                res.content_type = hv[i].value;
        }
        res.headers = hv;
        res.n_headers = r->n_spans;
        ic_buf_put_u8(&r->body, '\0');
        res.body = r->body.data;
        res.body_len = r->body.len - 1;
        r->cb(c, 0, &res, "", r->data);
        free(hv);
    } else {
        r->cb(c, r->rc, NULL, r->why, r->data);
    }
    req_free(r);
    maybe_closed(c);
}

static void on_timer_closed(uv_handle_t *h) {
    req_t *r = h->data;
    r->timer_open = false;
    maybe_complete(r);
}

static void on_tcp_closed(uv_handle_t *h);

/* The outcome of r, decided once: close everything, deliver later. */
static void finish(req_t *r, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finish(req_t *r, int rc, const char *fmt, ...) {
    va_list ap;
    if (r->done)
        return;
    r->done = true;
    r->rc = rc;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
    if (r->timer_open && !uv_is_closing((uv_handle_t *)&r->timer))
        uv_close((uv_handle_t *)&r->timer, on_timer_closed);
    if (r->resolving)
        uv_cancel((uv_req_t *)&r->gai); /* its callback still comes */
    if (r->tcp_open && !uv_is_closing((uv_handle_t *)&r->tcp))
        uv_close((uv_handle_t *)&r->tcp, on_tcp_closed);
    maybe_complete(r);
}

/* --- response parsing (llhttp callbacks) -------------------------------- */

static req_t *of(llhttp_t *ll) {
    return ll->data;
}

static int refuse(req_t *r, int rc, const char *why) {
    if (r->limit_rc == 0) {
        r->limit_rc = rc;
        r->limit_why = why;
    }
    return -1;
}

static int count_head(req_t *r, size_t len) {
    r->head_bytes += len;
    if (r->head_bytes > r->max_bytes)
        return refuse(r, IC_ETOOBIG, "response too large");
    return 0;
}

static int on_status(llhttp_t *ll, const char *at, size_t len) {
    (void)at;
    return count_head(of(ll), len);
}

static int on_header_field(llhttp_t *ll, const char *at, size_t len) {
    req_t *r = of(ll);
    hdr_span_t *s;
    if (count_head(r, len) != 0)
        return -1;
    if (r->headers_done)
        return 0; /* chunked trailer: counted, not kept */
    if (r->piece != PIECE_FIELD) {
        if (r->n_spans >= IC_HTTP_CLIENT_MAX_HEADERS)
            return refuse(r, IC_ETOOBIG, "response has too many header fields");
        if (r->n_spans == r->cap_spans) {
            r->cap_spans = r->cap_spans ? r->cap_spans * 2 : 16;
            r->spans = ic_xrealloc(r->spans, r->cap_spans * sizeof(*r->spans));
        }
        s = &r->spans[r->n_spans++];
        s->name_off = r->arena.len;
        s->name_len = 0;
        s->value_off = SIZE_MAX;
        s->value_len = 0;
        r->piece = PIECE_FIELD;
    }
    s = &r->spans[r->n_spans - 1];
    ic_buf_append(&r->arena, at, len);
    s->name_len += len;
    return 0;
}

static int on_header_value(llhttp_t *ll, const char *at, size_t len) {
    req_t *r = of(ll);
    hdr_span_t *s;
    if (count_head(r, len) != 0)
        return -1;
    if (r->headers_done)
        return 0;
    if (r->n_spans == 0) /* llhttp never sends a value first; be safe */
        return refuse(r, IC_EMALFORMED, "header value without a name");
    s = &r->spans[r->n_spans - 1];
    if (s->value_off == SIZE_MAX)
        s->value_off = r->arena.len;
    r->piece = PIECE_VALUE;
    ic_buf_append(&r->arena, at, len);
    s->value_len += len;
    return 0;
}

/* Each name and value ends in a NUL once complete. */
static int on_header_piece_complete(llhttp_t *ll) {
    req_t *r = of(ll);
    if (r->headers_done)
        return 0;
    if (r->piece == PIECE_NONE && r->n_spans > 0 &&
        r->spans[r->n_spans - 1].value_off == SIZE_MAX)
        r->spans[r->n_spans - 1].value_off = r->arena.len; /* empty value */
    ic_buf_put_u8(&r->arena, '\0');
    r->piece = PIECE_NONE;
    return 0;
}

static int on_headers_complete(llhttp_t *ll) {
    req_t *r = of(ll);
    size_t room;
    r->headers_done = true;
    r->piece = PIECE_NONE;
    if (llhttp_get_http_major(ll) != 1)
        return refuse(r, IC_EMALFORMED, "bad response: not HTTP/1.x");
    r->status = ll->status_code;
    if (r->status < 200 && r->status != 101)
        return 0; /* interim: no body, the final response follows */
    if (r->is_head)
        return 1; /* RFC 9110 9.3.2: the fields describe a body not sent */
    /* content_length is the declared length here (0 when chunked): refuse
     * before a single body byte is stored */
    room = r->max_bytes - r->head_bytes;
    if ((ll->flags & F_CONTENT_LENGTH) != 0) {
        if (ll->content_length > room)
            return refuse(r, IC_ETOOBIG, "response too large");
        ic_buf_reserve(&r->body, (size_t)ll->content_length + 1);
    }
    return 0;
}

static int on_body(llhttp_t *ll, const char *at, size_t len) {
    req_t *r = of(ll);
    /* head_bytes + body.len <= max_bytes holds here */
    if (len > r->max_bytes - r->head_bytes - r->body.len)
        return refuse(r, IC_ETOOBIG, "response too large");
    ic_buf_append(&r->body, at, len);
    return 0;
}

static int on_message_complete(llhttp_t *ll) {
    req_t *r = of(ll);
    if (r->status < 200 && r->status != 101) {
        /* 1xx: forget its fields (head_bytes keeps counting, a status
         * line at least 16 bytes, so endless interim responses still end
         * in "response too large") */
        if (count_head(r, 16) != 0)
            return -1;
        ic_buf_reset(&r->arena);
        r->n_spans = 0;
        r->headers_done = false;
        return 0;
    }
    r->complete = true;
    return HPE_PAUSED;
}

/* Immutable and shared by every request (llhttp keeps a pointer to it). */
static const llhttp_settings_t parse_settings = {
    .on_status = on_status,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_field_complete = on_header_piece_complete,
    .on_header_value_complete = on_header_piece_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void feed(req_t *r, const char *p, size_t n) {
    llhttp_errno_t e;
    r->got_bytes = true;
    e = llhttp_execute(&r->ll, p, n);
    if (e == HPE_OK)
        return;
    if ((e == HPE_PAUSED && r->complete) || e == HPE_PAUSED_UPGRADE)
        finish(r, 0, "%s", "");
    else if (r->limit_rc != 0)
        finish(r, r->limit_rc, "%s", r->limit_why);
    else
        finish(r, IC_EMALFORMED, "bad response: %s",
               llhttp_get_error_reason(&r->ll));
}

static void on_eof(req_t *r) {
    if (!r->got_bytes) {
        finish(r, IC_EIO, "%s", "connection closed before a response");
        return;
    }
    llhttp_finish(&r->ll); /* completes a close-delimited body */
    if (r->complete)
        finish(r, 0, "%s", "");
    else if (r->limit_rc != 0)
        finish(r, r->limit_rc, "%s", r->limit_why);
    else
        finish(r, IC_EIO, "%s", "connection closed before the response was complete");
}

/* --- I/O ---------------------------------------------------------------- */

static void on_plain_written(uv_write_t *w, int status) {
    req_t *r = w->data;
    if (status < 0 && !r->done && !r->got_bytes)
        finish(r, IC_EIO, "send: %s", uv_strerror(status));
}

static void on_tls_written(uv_write_t *w, int status) {
    wbuf_t *b = (wbuf_t *)w; /* w is the first member */
    req_t *r = w->data;
    free(b);
    if (status < 0 && !r->done && !r->got_bytes)
        finish(r, IC_EIO, "send: %s", uv_strerror(status));
}

/* Send whatever OpenSSL has queued for the peer. */
static void tls_flush(req_t *r) {
    size_t n;
    while (!r->done && (n = BIO_ctrl_pending(r->wbio)) > 0) {
        wbuf_t *b = ic_xmalloc(sizeof(*b) + n);
        int got = BIO_read(r->wbio, b->data, (int)(n > INT32_MAX ? INT32_MAX : n));
        uv_buf_t ub;
        int rc;
        if (got <= 0) {
            free(b);
            return;
        }
        b->len = (size_t)got;
        b->w.data = r;
        ub = uv_buf_init(b->data, (unsigned)b->len);
        rc = uv_write(&b->w, (uv_stream_t *)&r->tcp, &ub, 1, on_tls_written);
        if (rc < 0) {
            free(b);
            finish(r, IC_EIO, "send: %s", uv_strerror(rc));
        }
    }
}

static void tls_fail(req_t *r) {
    long v = SSL_get_verify_result(r->ssl);
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    if (v != X509_V_OK)
        finish(r, IC_EPROTO, "TLS: certificate verify failed (%s)",
               X509_verify_cert_error_string(v));
    else
        finish(r, IC_EPROTO, "TLS: %s", reason ? reason : "handshake failed");
    ERR_clear_error();
}

static void send_plain(req_t *r) {
    uv_buf_t ub = uv_buf_init((char *)r->out.data, (unsigned)r->out.len);
    int rc;
    r->plain_w.data = r;
    rc = uv_write(&r->plain_w, (uv_stream_t *)&r->tcp, &ub, 1, on_plain_written);
    if (rc < 0)
        finish(r, IC_EIO, "send: %s", uv_strerror(rc));
}

static void tls_step(req_t *r) {
    size_t got;
    int k;
    if (!r->tls_ready) {
        ERR_clear_error();
        k = SSL_do_handshake(r->ssl);
        if (k != 1) {
            if (SSL_get_error(r->ssl, k) == SSL_ERROR_WANT_READ) {
                tls_flush(r);
                return;
            }
            tls_fail(r);
            return;
        }
        r->tls_ready = true;
        ERR_clear_error();
        if (SSL_write_ex(r->ssl, r->out.data, r->out.len, &got) != 1) {
            tls_fail(r);
            return;
        }
    }
    while (!r->done) {
        ERR_clear_error();
        /* the ciphertext is in rbio already, so rbuf is free for plaintext */
        k = SSL_read_ex(r->ssl, r->rbuf, sizeof(r->rbuf), &got);
        if (k == 1) {
            feed(r, r->rbuf, got);
            continue;
        }
        switch (SSL_get_error(r->ssl, k)) {
        case SSL_ERROR_WANT_READ:
            tls_flush(r);
            return;
        case SSL_ERROR_ZERO_RETURN:
            on_eof(r);
            return;
        default:
            tls_fail(r);
            return;
        }
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
    req_t *r = h->data;
    (void)hint;
    *buf = uv_buf_init(r->rbuf, sizeof(r->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    req_t *r = s->data;
    if (r->done || n == 0)
        return;
    if (n == UV_EOF) {
        /* TLS without close_notify is taken as the end too (common) */
        on_eof(r);
        return;
    }
    if (n < 0) {
        finish(r, IC_EIO, "receive: %s", uv_strerror((int)n));
        return;
    }
    if (r->ssl == NULL) {
        feed(r, buf->base, (size_t)n);
        return;
    }
    if (BIO_write(r->rbio, buf->base, (int)n) != (int)n) {
        finish(r, IC_EIO, "%s", "TLS: buffer write failed");
        return;
    }
    tls_step(r);
}

static int tls_setup(req_t *r) {
    r->ssl = SSL_new(r->c->ssl_ctx);
    if (r->ssl == NULL)
        return IC_EIO;
    r->rbio = BIO_new(BIO_s_mem());
    r->wbio = BIO_new(BIO_s_mem());
    if (r->rbio == NULL || r->wbio == NULL) {
        BIO_free(r->rbio);
        BIO_free(r->wbio);
        r->rbio = r->wbio = NULL;
        return IC_EIO;
    }
    BIO_set_mem_eof_return(r->rbio, -1); /* empty means "retry", not EOF */
    SSL_set_bio(r->ssl, r->rbio, r->wbio);
    SSL_set_connect_state(r->ssl);
    if (r->is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(r->ssl), r->host) != 1)
            return IC_EIO;
    } else {
        if (SSL_set_tlsext_host_name(r->ssl, r->host) != 1 ||
            SSL_set1_host(r->ssl, r->host) != 1)
            return IC_EIO;
    }
    return 0;
}

static void try_connect(req_t *r);

static void connect_failed(req_t *r, int rc) {
    r->last_rc = rc;
    if (r->ai_next != NULL) {
        /* a fresh handle for the next address once this one is closed */
        r->retrying = true;
        if (!uv_is_closing((uv_handle_t *)&r->tcp))
            uv_close((uv_handle_t *)&r->tcp, on_tcp_closed);
        return;
    }
    if (rc == UV_ECONNREFUSED)
        finish(r, rc, "%s", "connect refused");
    else
        finish(r, rc, "connect: %s", uv_strerror(rc));
}

static void on_connect(uv_connect_t *cr, int status) {
    req_t *r = cr->data;
    int rc;
    if (r->done)
        return; /* UV_ECANCELED: the handle is closing */
    if (status < 0) {
        connect_failed(r, status);
        return;
    }
    uv_tcp_nodelay(&r->tcp, 1);
    rc = uv_read_start((uv_stream_t *)&r->tcp, on_alloc, on_read);
    if (rc < 0) {
        finish(r, IC_EIO, "receive: %s", uv_strerror(rc));
        return;
    }
    if (r->is_tls) {
        if (tls_setup(r) != 0) {
            finish(r, IC_EPROTO, "%s", "TLS: cannot start a session");
            ERR_clear_error();
            return;
        }
        tls_step(r); /* ClientHello */
    } else {
        send_plain(r);
    }
}

static void on_tcp_closed(uv_handle_t *h) {
    req_t *r = h->data;
    r->tcp_open = false;
    if (r->done) {
        maybe_complete(r);
        return;
    }
    if (r->retrying) {
        r->retrying = false;
        try_connect(r);
    }
}

static void try_connect(req_t *r) {
    struct addrinfo *a;
    int rc;
    while (r->ai_next != NULL && r->ai_next->ai_family != AF_INET &&
           r->ai_next->ai_family != AF_INET6)
        r->ai_next = r->ai_next->ai_next;
    a = r->ai_next;
    if (a == NULL) {
        finish(r, r->last_rc ? r->last_rc : UV_EAI_NONAME, "resolve %s: %s",
               r->host, "no usable address");
        return;
    }
    r->ai_next = a->ai_next;
    while (r->ai_next != NULL && r->ai_next->ai_family != AF_INET &&
           r->ai_next->ai_family != AF_INET6)
        r->ai_next = r->ai_next->ai_next;
    rc = uv_tcp_init(r->c->loop, &r->tcp);
    if (rc < 0) {
        finish(r, rc, "socket: %s", uv_strerror(rc));
        return;
    }
    r->tcp_open = true;
    r->tcp.data = r;
    r->conn.data = r;
    rc = uv_tcp_connect(&r->conn, &r->tcp, a->ai_addr, on_connect);
    if (rc < 0)
        connect_failed(r, rc);
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res) {
    req_t *r = g->data;
    r->resolving = false;
    if (r->done) {
        if (res != NULL)
            uv_freeaddrinfo(res);
        maybe_complete(r);
        return;
    }
    if (status < 0) {
        finish(r, status, "resolve %s: %s", r->host, uv_strerror(status));
        return;
    }
    r->ai = res;
    r->ai_next = res;
    try_connect(r);
}

static void on_timeout(uv_timer_t *t) {
    req_t *r = t->data;
    finish(r, UV_ETIMEDOUT, "timeout after %u ms", r->timeout_ms);
}

/* --- API ---------------------------------------------------------------- */

int ic_http_client_new(ic_http_client_t **out, uv_loop_t *loop,
                       const ic_http_client_opts_t *opts, char *why,
                       size_t whylen) {
    static const ic_http_client_opts_t defaults = {0};
    ic_http_client_t *c;
    int rc;

    *out = NULL;
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (opts == NULL)
        opts = &defaults;
    c = ic_xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->max_inflight = opts->max_inflight;
    c->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (c->ssl_ctx == NULL) {
        rc = ic_str_fail(why, whylen, IC_EIO, "cannot create a TLS context");
        goto fail;
    }
    SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(c->ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
    if (!opts->no_default_ca && SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1) {
        rc = ic_str_fail(why, whylen, IC_EIO, "cannot load the system CA paths");
        goto fail;
    }
    if (opts->ca_file != NULL &&
        SSL_CTX_load_verify_locations(c->ssl_ctx, opts->ca_file, NULL) != 1) {
        rc = ic_str_fail(why, whylen, IC_ECONFIG,
                         "%s: cannot load CA certificates", opts->ca_file);
        goto fail;
    }
    rc = uv_timer_init(loop, &c->closer);
    if (rc < 0) {
        rc = ic_str_fail(why, whylen, rc, "timer: %s", uv_strerror(rc));
        goto fail;
    }
    c->closer.data = c;
    *out = c;
    return 0;
fail:
    ERR_clear_error();
    SSL_CTX_free(c->ssl_ctx);
    free(c);
    return rc;
}

int ic_http_client_request(ic_http_client_t *c, const ic_http_client_req_t *q,
                           ic_http_client_cb cb, void *data) {
    struct addrinfo hints;
    target_t t;
    req_t *r;
    int rc;

    if (c->closing)
        return IC_ECLOSED;
    if (q == NULL || q->url == NULL || cb == NULL || parse_url(q->url, &t) != 0)
        return IC_EINVAL;
    if (c->max_inflight > 0 && c->n_inflight >= c->max_inflight)
        return IC_ELIMIT;
    r = ic_xcalloc(1, sizeof(*r));
    ic_buf_init(&r->out);
    rc = build_request(q, &t, &r->out);
    if (rc != 0) {
        ic_buf_free(&r->out);
        free(r);
        return rc;
    }
    r->c = c;
    r->cb = cb;
    r->data = data;
    r->host = ic_xstrdup(t.host);
    memcpy(r->port, t.port, sizeof(r->port));
    r->is_tls = t.is_tls;
    r->is_ip = t.is_ip;
    r->is_head = strcmp(q->method, "HEAD") == 0;
    r->timeout_ms = q->timeout_ms ? q->timeout_ms : IC_HTTP_CLIENT_TIMEOUT_MS;
    r->max_bytes = q->max_response_bytes ? q->max_response_bytes
                                         : IC_HTTP_CLIENT_MAX_RESPONSE;
    ic_buf_init(&r->arena);
    ic_buf_init(&r->body);
    llhttp_init(&r->ll, HTTP_RESPONSE, &parse_settings);
    r->ll.data = r;

    /* in the list and timed from here on: every path ends in finish() */
    r->next = c->head;
    if (c->head != NULL)
        c->head->prev = r;
    c->head = r;
    c->n_inflight++;
    uv_timer_init(c->loop, &r->timer); /* cannot fail on Unix */
    r->timer.data = r;
    r->timer_open = true;
    uv_timer_start(&r->timer, on_timeout, r->timeout_ms, 0);

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV | (r->is_ip ? AI_NUMERICHOST : 0);
    r->gai.data = r;
    rc = uv_getaddrinfo(c->loop, &r->gai, on_resolved, r->host, r->port, &hints);
    if (rc < 0)
        finish(r, rc, "resolve %s: %s", r->host, uv_strerror(rc));
    else
        r->resolving = true;
    return 0;
}

size_t ic_http_client_inflight(const ic_http_client_t *c) {
    return c->n_inflight;
}

static void on_closer_closed(uv_handle_t *h) {
    ic_http_client_t *c = h->data;
    c->closer_closed = true;
    maybe_closed(c);
}

void ic_http_client_close(ic_http_client_t *c, ic_done_cb cb, void *data) {
    req_t *r, *next;
    if (c->closing)
        return;
    c->closing = true;
    c->done_cb = cb;
    c->done_data = data;
    uv_close((uv_handle_t *)&c->closer, on_closer_closed);
    for (r = c->head; r != NULL; r = next) {
        next = r->next;
        finish(r, IC_ECLOSED, "%s", "client closed");
    }
}

void ic_http_client_free(ic_http_client_t *c) {
    if (c == NULL)
        return;
    assert(c->done_fired); /* handles may not outlive their owner */
    SSL_CTX_free(c->ssl_ctx);
    free(c);
}
