/* test_http_client.c - the outbound HTTP client against an in-process
 * loopback server on the same uv loop: a uv_tcp listener on 127.0.0.1:0
 * that frames each request with the project's own request parser and
 * answers with scripted bytes, optionally through TLS (net/tls.c with a
 * certificate from net/pki.c's local CA, made in a mkdtemp directory).
 * Covers Content-Length, chunked, close-delimited, 1xx, HEAD, 500, too
 * large (declared and streamed), too many headers, malformed, early close,
 * timeout, connection refused, a name and an IPv6 literal,
 * HTTPS (verified by CA file, by IP and by name; refused without the CA),
 * aborting at close, and every synchronous refusal. Every test ends with
 * uv_loop_close() == 0 (STYLE 3.11). */
#include "suites.h"

#include "iotcored/buf.h"
#include "iotcored/error.h"
#include "iotcored/http_client.h"
#include "iotcored/http_parse.h"
#include "iotcored/pki.h"
#include "iotcored/tls.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <uv.h>

/* --- the scripted server ------------------------------------------------ */

typedef struct server_s server_t;

typedef struct sconn_s {
    uv_tcp_t tcp;
    server_t *s;
    ic_http_parser_t *p;
    ic_tls_t *tls;
    ic_buf_t plain;
    struct sconn_s *next;
    bool closing;
} sconn_t;

struct server_s {
    uv_tcp_t listener;
    int port;
    const char *response;   /* sent once a request is complete */
    size_t response_len;
    bool is_silent;         /* never answer (the timeout case) */
    bool close_at_once;     /* close on accept, answer nothing */
    ic_tls_ctx_t *tls;      /* NULL: plain */
    sconn_t *conns;
    int n_requests;
    /* copy of the last request */
    char method[16], target[256], host[128], x_test[64], clen[16], conn[32];
    char body[256];
    size_t body_len;
};

static const ic_http_limits_t srv_limits = {65536, 100, 1 << 20};

static void sconn_closed(uv_handle_t *h) {
    sconn_t *sc = h->data;
    server_t *s = sc->s;
    sconn_t **pp;
    for (pp = &s->conns; *pp != NULL; pp = &(*pp)->next)
        if (*pp == sc) {
            *pp = sc->next;
            break;
        }
    ic_http_parser_free(sc->p);
    ic_tls_free(sc->tls);
    ic_buf_free(&sc->plain);
    free(sc);
}

static void sconn_close(sconn_t *sc) {
    if (!sc->closing) {
        sc->closing = true;
        uv_close((uv_handle_t *)&sc->tcp, sconn_closed);
    }
}

static void on_srv_written(uv_write_t *w, int status) {
    sconn_t *sc = w->data;
    (void)status;
    free(w);
    sconn_close(sc); /* every scripted answer ends the connection */
}

static void srv_send(sconn_t *sc, const void *p, size_t n) {
    ic_buf_t out;
    uv_write_t *w = malloc(sizeof(*w) + n + 65536);
    uv_buf_t b;
    char *data = (char *)(w + 1);
    ic_buf_init(&out);
    if (sc->tls != NULL) {
        ic_tls_write(sc->tls, p, n);
        ic_tls_take_output(sc->tls, &out);
    } else {
        ic_buf_append(&out, p, n);
    }
    ck_assert_uint_le(out.len, n + 65536);
    memcpy(data, out.data, out.len);
    b = uv_buf_init(data, (unsigned)out.len);
    w->data = sc;
    ck_assert_int_eq(uv_write(w, (uv_stream_t *)&sc->tcp, &b, 1, on_srv_written), 0);
    ic_buf_free(&out);
}

static void copy_header(const ic_http_request_t *rq, const char *name,
                        char *out, size_t cap) {
    const ic_http_header_t *h = ic_http_header(rq, name);
    snprintf(out, cap, "%s", h ? h->value : "");
}

static void srv_feed(sconn_t *sc, const uint8_t *p, size_t n) {
    server_t *s = sc->s;
    ic_http_parse_err_t err;
    const ic_http_request_t *rq;
    size_t used;
    int rc = ic_http_parser_feed(sc->p, p, n, &used, &err);
    if (rc < 0) {
        sconn_close(sc);
        return;
    }
    if (rc != 1)
        return;
    rq = ic_http_parser_request(sc->p);
    s->n_requests++;
    snprintf(s->method, sizeof(s->method), "%s", rq->method);
    snprintf(s->target, sizeof(s->target), "%.*s", (int)rq->target_len, rq->target);
    copy_header(rq, "host", s->host, sizeof(s->host));
    copy_header(rq, "x-test", s->x_test, sizeof(s->x_test));
    copy_header(rq, "content-length", s->clen, sizeof(s->clen));
    copy_header(rq, "connection", s->conn, sizeof(s->conn));
    s->body_len = rq->body_len < sizeof(s->body) ? rq->body_len : sizeof(s->body) - 1;
    if (s->body_len > 0)
        memcpy(s->body, rq->body, s->body_len);
    s->body[s->body_len] = '\0';
    if (!s->is_silent)
        srv_send(sc, s->response, s->response_len);
}

static void srv_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
    (void)h;
    b->base = malloc(hint);
    b->len = hint;
}

static void free_write(uv_write_t *w, int status) {
    (void)status;
    free(w);
}

static void srv_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
    sconn_t *sc = st->data;
    if (n < 0 || sc->closing) {
        sconn_close(sc);
    } else if (n > 0 && sc->tls != NULL) {
        ic_buf_t out;
        int rc = ic_tls_read(sc->tls, b->base, (size_t)n, &sc->plain);
        ic_buf_init(&out);
        if (ic_tls_take_output(sc->tls, &out) > 0) {
            uv_write_t *w = malloc(sizeof(*w) + out.len);
            uv_buf_t ub = uv_buf_init((char *)(w + 1), (unsigned)out.len);
            memcpy(w + 1, out.data, out.len);
            w->data = NULL;
            uv_write(w, st, &ub, 1, free_write);
        }
        ic_buf_free(&out);
        if (rc != 0) {
            sconn_close(sc);
        } else if (sc->plain.len > 0) {
            srv_feed(sc, sc->plain.data, sc->plain.len);
            ic_buf_reset(&sc->plain);
        }
    } else if (n > 0) {
        srv_feed(sc, (const uint8_t *)b->base, (size_t)n);
    }
    free(b->base);
}

static void on_srv_conn(uv_stream_t *l, int status) {
    server_t *s = l->data;
    sconn_t *sc = calloc(1, sizeof(*sc));
    ck_assert_int_eq(status, 0);
    sc->s = s;
    uv_tcp_init(l->loop, &sc->tcp);
    sc->tcp.data = sc;
    ck_assert_int_eq(uv_accept(l, (uv_stream_t *)&sc->tcp), 0);
    sc->p = ic_http_parser_new(&srv_limits);
    ic_buf_init(&sc->plain);
    if (s->tls != NULL)
        sc->tls = ic_tls_new(s->tls);
    sc->next = s->conns;
    s->conns = sc;
    if (s->close_at_once) {
        sconn_close(sc);
        return;
    }
    uv_read_start((uv_stream_t *)&sc->tcp, srv_alloc, srv_read);
}

static void server_start_at(uv_loop_t *loop, server_t *s, const char *response,
                            bool is_v6) {
    struct sockaddr_storage a, ss;
    int len = sizeof(ss);
    s->response = response;
    s->response_len = response ? strlen(response) : 0;
    if (is_v6)
        uv_ip6_addr("::1", 0, (struct sockaddr_in6 *)&a);
    else
        uv_ip4_addr("127.0.0.1", 0, (struct sockaddr_in *)&a);
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    ck_assert_int_eq(uv_tcp_bind(&s->listener, (const struct sockaddr *)&a, 0), 0);
    ck_assert_int_eq(uv_listen((uv_stream_t *)&s->listener, 16, on_srv_conn), 0);
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
    s->port = is_v6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                    : ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void server_start(uv_loop_t *loop, server_t *s, const char *response) {
    server_start_at(loop, s, response, false);
}

static void server_stop(server_t *s) {
    sconn_t *sc;
    if (!uv_is_closing((uv_handle_t *)&s->listener))
        uv_close((uv_handle_t *)&s->listener, NULL);
    for (sc = s->conns; sc != NULL; sc = sc->next)
        sconn_close(sc);
}

/* --- the client side ---------------------------------------------------- */

typedef struct result_s {
    int calls;
    int rc;
    int status;
    char why[256];
    char content_type[64];
    char body[512];
    size_t body_len;        /* kept in body (capped) */
    size_t full_len;        /* as delivered */
    size_t n_headers;
    char x_extra[64];
    bool done_fired;
    int done_after_calls;   /* calls seen when the close callback ran */
    uint64_t at_ms;         /* uv_now at the callback */
    server_t *stop;         /* stopped from the callback */
} result_t;

static void on_done(void *data) {
    result_t *r = data;
    r->done_fired = true;
    r->done_after_calls = r->calls;
}

static void on_response(ic_http_client_t *c, int rc, const ic_http_response_t *res,
                        const char *why, void *data) {
    result_t *r = data;
    size_t i;
    r->calls++;
    r->rc = rc;
    r->at_ms = uv_now(uv_default_loop());
    snprintf(r->why, sizeof(r->why), "%s", why);
    if (res != NULL) {
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(why, "");
        ck_assert_ptr_nonnull(res->body);
        ck_assert_int_eq(res->body[res->body_len], 0);
        r->status = res->status;
        snprintf(r->content_type, sizeof(r->content_type), "%s", res->content_type);
        r->body_len = res->body_len < sizeof(r->body) ? res->body_len : sizeof(r->body) - 1;
        memcpy(r->body, res->body, r->body_len);
        r->body[r->body_len] = '\0';
        r->n_headers = res->n_headers;
        r->full_len = res->body_len;
        for (i = 0; i < res->n_headers; i++)
            if (res->headers[i].name_len == 7 &&
                strncasecmp(res->headers[i].name, "X-Extra", 7) == 0)
                snprintf(r->x_extra, sizeof(r->x_extra), "%s", res->headers[i].value);
    } else {
        ck_assert_int_ne(rc, 0);
        ck_assert_str_ne(why, "");
    }
    if (r->stop != NULL)
        server_stop(r->stop);
    ic_http_client_close(c, on_done, r);
}

typedef struct fixture_s {
    uv_loop_t *loop;
    server_t srv;
    ic_http_client_t *c;
    result_t res;
    char url[256];
} fixture_t;

static void fx_open(fixture_t *f, const char *response,
                    const ic_http_client_opts_t *opts) {
    char why[256];
    memset(f, 0, sizeof(*f));
    f->loop = uv_default_loop();
    server_start(f->loop, &f->srv, response);
    ck_assert_int_eq(ic_http_client_new(&f->c, f->loop, opts, why, sizeof(why)), 0);
    f->res.stop = &f->srv;
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/path?q=1", f->srv.port);
}

/* Run the loop until everything closed, then check nothing is left. */
static void fx_run_close(fixture_t *f) {
    uv_run(f->loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(f->res.calls, 1);
    ck_assert(f->res.done_fired);
    ck_assert_int_eq(f->res.done_after_calls, 1);
    ic_http_client_free(f->c);
    ck_assert_int_eq(uv_loop_close(f->loop), 0);
}

static void fx_get(fixture_t *f, const char *url, uint32_t timeout_ms,
                   size_t max_bytes) {
    ic_http_client_req_t q = {0};
    q.method = "GET";
    q.url = url ? url : f->url;
    q.timeout_ms = timeout_ms;
    q.max_response_bytes = max_bytes;
    ck_assert_int_eq(ic_http_client_request(f->c, &q, on_response, &f->res), 0);
    ck_assert_int_eq(f->res.calls, 0); /* never synchronous */
    ck_assert_uint_eq(ic_http_client_inflight(f->c), 1);
}

/* --- cases -------------------------------------------------------------- */

START_TEST(content_length_body_and_request_shape) {
    fixture_t f;
    static const ic_http_header_t hs[] = {
        {"X-Test", 6, "hello there", 11},
        {"Content-Type", 12, "application/json", 16},
    };
    ic_http_client_req_t q = {0};
    fx_open(&f, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                "X-Extra:   padded  \r\nContent-Length: 11\r\n\r\n{\"ok\":true}",
            NULL);
    q.method = "POST";
    q.url = f.url;
    q.headers = hs;
    q.n_headers = 2;
    q.body = (const uint8_t *)"{\"a\":1}";
    q.body_len = 7;
    ck_assert_int_eq(ic_http_client_request(f.c, &q, on_response, &f.res), 0);
    ck_assert_int_eq(f.res.calls, 0);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, 0);
    ck_assert_int_eq(f.res.status, 200);
    ck_assert_str_eq(f.res.content_type, "application/json");
    ck_assert_str_eq(f.res.body, "{\"ok\":true}");
    ck_assert_uint_eq(f.res.n_headers, 3);
    ck_assert_str_eq(f.res.x_extra, "padded");
    /* what the server saw */
    ck_assert_int_eq(f.srv.n_requests, 1);
    ck_assert_str_eq(f.srv.method, "POST");
    ck_assert_str_eq(f.srv.target, "/path?q=1");
    ck_assert_str_eq(f.srv.x_test, "hello there");
    ck_assert_str_eq(f.srv.clen, "7");
    ck_assert_str_eq(f.srv.conn, "close");
    ck_assert_str_eq(f.srv.body, "{\"a\":1}");
    {
        char host[64];
        snprintf(host, sizeof(host), "127.0.0.1:%d", f.srv.port);
        ck_assert_str_eq(f.srv.host, host);
    }
}
END_TEST

START_TEST(chunked_body) {
    fixture_t f;
    fx_open(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                "Content-Type: text/plain\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n"
                "0\r\nX-Trailer: t\r\n\r\n",
            NULL);
    fx_get(&f, NULL, 0, 0);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, 0);
    ck_assert_int_eq(f.res.status, 200);
    ck_assert_str_eq(f.res.body, "hello world");
    ck_assert_str_eq(f.res.content_type, "text/plain");
    ck_assert_uint_eq(f.res.n_headers, 2); /* trailers are not headers */
}
END_TEST

START_TEST(close_delimited_body) {
    fixture_t f;
    fx_open(&f, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", NULL);
    fx_get(&f, NULL, 0, 0);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, 0);
    ck_assert_str_eq(f.res.body, "until the end");
}
END_TEST

START_TEST(interim_then_final_and_head) {
    fixture_t f;
    ic_http_client_req_t q = {0};
    fx_open(&f, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n"
                "X-Extra: yes\r\n\r\n", NULL);
    fx_get(&f, NULL, 0, 0);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, 0);
    ck_assert_int_eq(f.res.status, 204);
    ck_assert_str_eq(f.res.x_extra, "yes");
    ck_assert_uint_eq(f.res.body_len, 0);

    /* HEAD: Content-Length describes a body that is not sent */
    fx_open(&f, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", NULL);
    q.method = "HEAD";
    q.url = f.url;
    ck_assert_int_eq(ic_http_client_request(f.c, &q, on_response, &f.res), 0);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, 0);
    ck_assert_int_eq(f.res.status, 200);
    ck_assert_uint_eq(f.res.body_len, 0);
    ck_assert_str_eq(f.srv.method, "HEAD");
    ck_assert_str_eq(f.srv.clen, ""); /* no Content-Length on a bodiless HEAD */
}
END_TEST

START_TEST(status_500_is_a_response) {
    fixture_t f;
    fx_open(&f, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                "Content-Length: 27\r\n\r\n{\"message\":\"internal boom\"}",
            NULL);
    fx_get(&f, NULL, 0, 0);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, 0);
    ck_assert_int_eq(f.res.status, 500);
    ck_assert_str_eq(f.res.body, "{\"message\":\"internal boom\"}");
}
END_TEST

static char big_chunked[4096], big_close[4096], many_headers[8192];

START_TEST(too_large_responses) {
    fixture_t f;
    size_t i, n;
    /* declared: refused before any body byte */
    fx_open(&f, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nabc", NULL);
    fx_get(&f, NULL, 0, 1024);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, IC_ETOOBIG);
    ck_assert_str_eq(f.res.why, "response too large");

    /* streamed: chunked and close-delimited bodies over the bound */
    n = (size_t)snprintf(big_chunked, sizeof(big_chunked),
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (i = 0; i < 10; i++)
        n += (size_t)snprintf(big_chunked + n, sizeof(big_chunked) - n,
                              "100\r\n%0256d\r\n", 0);
    snprintf(big_chunked + n, sizeof(big_chunked) - n, "0\r\n\r\n");
    fx_open(&f, big_chunked, NULL);
    fx_get(&f, NULL, 0, 1024);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, IC_ETOOBIG);
    ck_assert_str_eq(f.res.why, "response too large");

    n = (size_t)snprintf(big_close, sizeof(big_close), "HTTP/1.1 200 OK\r\n\r\n");
    memset(big_close + n, 'x', 2000);
    big_close[n + 2000] = '\0';
    fx_open(&f, big_close, NULL);
    fx_get(&f, NULL, 0, 1024);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, IC_ETOOBIG);

    /* the bound counts the body plus the status text "OK": 2002 fits */
    fx_open(&f, big_close, NULL);
    fx_get(&f, NULL, 0, 2001);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, IC_ETOOBIG);
    fx_open(&f, big_close, NULL);
    fx_get(&f, NULL, 0, 2002);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, 0);
    ck_assert_uint_eq(f.res.full_len, 2000);

    /* more header fields than IC_HTTP_CLIENT_MAX_HEADERS */
    n = (size_t)snprintf(many_headers, sizeof(many_headers), "HTTP/1.1 200 OK\r\n");
    for (i = 0; i <= IC_HTTP_CLIENT_MAX_HEADERS; i++)
        n += (size_t)snprintf(many_headers + n, sizeof(many_headers) - n,
                              "H%zu: v\r\n", i);
    snprintf(many_headers + n, sizeof(many_headers) - n, "Content-Length: 0\r\n\r\n");
    fx_open(&f, many_headers, NULL);
    fx_get(&f, NULL, 0, 0);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, IC_ETOOBIG);
}
END_TEST

START_TEST(malformed_and_early_close) {
    fixture_t f;
    fx_open(&f, "SMTP ready\r\n\r\n", NULL);
    fx_get(&f, NULL, 0, 0);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, IC_EMALFORMED);
    ck_assert(strncmp(f.res.why, "bad response: ", 14) == 0);

    /* a Content-Length body cut short by the close */
    fx_open(&f, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", NULL);
    fx_get(&f, NULL, 0, 0);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, IC_EIO);
    ck_assert_str_eq(f.res.why, "connection closed before the response was complete");

    /* accepted, then closed without a byte */
    fx_open(&f, NULL, NULL);
    f.srv.close_at_once = true;
    fx_get(&f, NULL, 0, 0);
    fx_run_close(&f);
    ck_assert(f.res.rc == IC_EIO);
}
END_TEST

START_TEST(timeout_when_the_server_never_answers) {
    fixture_t f;
    uint64_t t0;
    fx_open(&f, NULL, NULL);
    f.srv.is_silent = true;
    uv_update_time(f.loop);
    t0 = uv_now(f.loop);
    fx_get(&f, NULL, 200, 0);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, UV_ETIMEDOUT);
    ck_assert_str_eq(f.res.why, "timeout after 200 ms");
    ck_assert_uint_ge(f.res.at_ms - t0, 200);
    ck_assert_uint_lt(f.res.at_ms - t0, 1500);
    ck_assert_int_eq(f.srv.n_requests, 1); /* it did arrive */
}
END_TEST

START_TEST(connection_refused) {
    fixture_t f;
    char url[64];
    fx_open(&f, NULL, NULL);
    /* a port that was just free: bind it, then close it */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", f.srv.port);
    server_stop(&f.srv);
    uv_run(f.loop, UV_RUN_NOWAIT);
    f.res.stop = NULL;
    fx_get(&f, url, 2000, 0);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, UV_ECONNREFUSED);
    ck_assert_str_eq(f.res.why, "connect refused");
}
END_TEST

START_TEST(names_resolve_and_fall_back) {
    fixture_t f;
    char url[64];
    /* localhost may resolve to ::1 first; the server is on 127.0.0.1 only */
    fx_open(&f, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", NULL);
    snprintf(url, sizeof(url), "http://localhost:%d", f.srv.port);
    fx_get(&f, url, 0, 0);
    fx_run_close(&f);
    ck_assert_int_eq(f.res.rc, 0);
    ck_assert_str_eq(f.res.body, "ok");
    ck_assert_str_eq(f.srv.target, "/");
}
END_TEST

START_TEST(ipv6_literal) {
    uv_loop_t *loop = uv_default_loop();
    server_t srv;
    result_t r;
    ic_http_client_t *c;
    char url[64], host[32];
    ic_http_client_req_t q = {0};
    memset(&srv, 0, sizeof(srv));
    memset(&r, 0, sizeof(r));
    server_start_at(loop, &srv, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6", true);
    r.stop = &srv;
    ck_assert_int_eq(ic_http_client_new(&c, loop, NULL, NULL, 0), 0);
    snprintf(url, sizeof(url), "http://[::1]:%d/six", srv.port);
    q.method = "GET";
    q.url = url;
    ck_assert_int_eq(ic_http_client_request(c, &q, on_response, &r), 0);
    uv_run(loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_str_eq(r.body, "v6");
    snprintf(host, sizeof(host), "[::1]:%d", srv.port);
    ck_assert_str_eq(srv.host, host);
    ck_assert_str_eq(srv.target, "/six");
    ic_http_client_free(c);
    ck_assert_int_eq(uv_loop_close(loop), 0);
}
END_TEST

START_TEST(close_aborts_in_flight) {
    fixture_t f;
    result_t second;
    ic_http_client_req_t q = {0};
    fx_open(&f, NULL, NULL);
    f.srv.is_silent = true;
    memset(&second, 0, sizeof(second));
    q.method = "GET";
    q.url = f.url;
    q.timeout_ms = 5000;
    ck_assert_int_eq(ic_http_client_request(f.c, &q, on_response, &f.res), 0);
    ck_assert_int_eq(ic_http_client_request(f.c, &q, on_response, &second), 0);
    ck_assert_uint_eq(ic_http_client_inflight(f.c), 2);
    uv_run(f.loop, UV_RUN_NOWAIT); /* let them get going */
    ic_http_client_close(f.c, on_done, &f.res);
    ic_http_client_close(f.c, on_done, &second); /* a no-op */
    ck_assert_int_eq(f.res.calls, 0);
    ck_assert_int_eq(ic_http_client_request(f.c, &q, on_response, &f.res), IC_ECLOSED);
    server_stop(&f.srv);
    uv_run(f.loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(f.res.calls, 1);
    ck_assert_int_eq(second.calls, 1);
    ck_assert_int_eq(f.res.rc, IC_ECLOSED);
    ck_assert_int_eq(second.rc, IC_ECLOSED);
    ck_assert_str_eq(f.res.why, "client closed");
    ck_assert(f.res.done_fired);
    ck_assert(!second.done_fired);
    ck_assert_uint_eq(ic_http_client_inflight(f.c), 0);
    ic_http_client_free(f.c);
    ck_assert_int_eq(uv_loop_close(f.loop), 0);
}
END_TEST

START_TEST(close_with_nothing_in_flight_is_async) {
    uv_loop_t *loop = uv_default_loop();
    ic_http_client_t *c;
    result_t r;
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ic_http_client_new(&c, loop, NULL, NULL, 0), 0);
    ic_http_client_close(c, on_done, &r);
    ck_assert(!r.done_fired);
    uv_run(loop, UV_RUN_DEFAULT);
    ck_assert(r.done_fired);
    ic_http_client_free(c);
    ck_assert_int_eq(uv_loop_close(loop), 0);
}
END_TEST

START_TEST(synchronous_refusals) {
    uv_loop_t *loop = uv_default_loop();
    ic_http_client_t *c;
    ic_http_client_opts_t o = {0};
    ic_http_client_req_t q = {0};
    result_t r;
    char why[256];
    size_t i;
    static const char *bad_urls[] = {
        "ftp://h/", "http://", "http:///x", "http://a b/", "http://h:0/",
        "http://h:99999/", "http://h:/", "http://h:8x/", "http://u@h/",
        "http://[::1/", "http://[::1]x/", "http://[zz]/", "http://h/a b",
        "http://h/a\r\nX: y", "https://exa$mple.com/", "//h/",
    };
    static const ic_http_header_t crlf = {"X-A", 3, "a\r\nX-B: b", 9};
    static const ic_http_header_t space_name = {"X A", 3, "a", 1};
    static const ic_http_header_t clen = {"content-length", 14, "5", 1};
    static const ic_http_header_t te = {"Transfer-Encoding", 17, "chunked", 7};
    static const ic_http_header_t conn = {"Connection", 10, "keep-alive", 10};
    const ic_http_header_t *bad_headers[] = {&crlf, &space_name, &clen, &te, &conn};

    memset(&r, 0, sizeof(r));
    o.ca_file = "/nonexistent/ca.pem";
    ck_assert_int_eq(ic_http_client_new(&c, loop, &o, why, sizeof(why)), IC_ECONFIG);
    ck_assert_ptr_null(c);
    ck_assert(strstr(why, "/nonexistent/ca.pem") != NULL);

    o.ca_file = NULL;
    o.max_inflight = 1;
    ck_assert_int_eq(ic_http_client_new(&c, loop, &o, why, sizeof(why)), 0);
    q.method = "GET";
    for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        q.url = bad_urls[i];
        ck_assert_msg(ic_http_client_request(c, &q, on_response, &r) == IC_EINVAL,
                      "url %s", bad_urls[i]);
    }
    q.url = "http://127.0.0.1:1/";
    for (i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
        q.headers = bad_headers[i];
        q.n_headers = 1;
        ck_assert_int_eq(ic_http_client_request(c, &q, on_response, &r), IC_EINVAL);
    }
    q.headers = NULL;
    q.n_headers = 0;
    q.method = "BAD METHOD";
    ck_assert_int_eq(ic_http_client_request(c, &q, on_response, &r), IC_EINVAL);
    q.method = "";
    ck_assert_int_eq(ic_http_client_request(c, &q, on_response, &r), IC_EINVAL);
    q.method = "GET";
    ck_assert_int_eq(ic_http_client_request(c, &q, NULL, &r), IC_EINVAL);
    ck_assert_uint_eq(ic_http_client_inflight(c), 0);
    /* max_inflight (the loop's clock read now: making the client, which
     * loads the system CA store, takes seconds under valgrind) */
    q.timeout_ms = 2000;
    uv_update_time(loop);
    ck_assert_int_eq(ic_http_client_request(c, &q, on_response, &r), 0);
    ck_assert_int_eq(ic_http_client_request(c, &q, on_response, &r), IC_ELIMIT);
    uv_run(loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(r.calls, 1);
    ck_assert(r.done_fired);
    ck_assert_int_eq(r.rc, UV_ECONNREFUSED);
    ck_assert_int_eq(ic_http_client_request(c, &q, on_response, &r), IC_ECLOSED);
    ic_http_client_free(c);
    ck_assert_int_eq(uv_loop_close(loop), 0);
}
END_TEST

/* --- HTTPS --------------------------------------------------------------- */

static char pki_dir[64];
static ic_pki_paths_t pki;

static void pki_setup(void) {
    char err[256];
    snprintf(pki_dir, sizeof(pki_dir), "/tmp/ic_http_client_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(pki_dir));
    ck_assert_msg(ic_pki_ensure(pki_dir, "localhost", false, err, sizeof(err)) == 0,
                  "%s", err);
    ic_pki_paths(pki_dir, &pki);
}

static void pki_teardown(void) {
    DIR *d = opendir(pki_dir);
    struct dirent *e;
    char p[512];
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", pki_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(pki_dir);
}

static void https_case(const char *host, bool with_ca, result_t *out,
                       server_t *srv_out) {
    fixture_t f;
    ic_http_client_opts_t o = {0};
    char err[256], url[128];
    o.ca_file = with_ca ? pki.ca_cert : NULL;
    o.no_default_ca = true;
    fx_open(&f, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                "Content-Length: 6\r\n\r\nsecure", &o);
    f.srv.tls = ic_tls_ctx_new(IC_TLS_ON, pki.cert, pki.key, NULL, err, sizeof(err));
    ck_assert_msg(f.srv.tls != NULL, "%s", err);
    snprintf(url, sizeof(url), "https://%s:%d/s", host, f.srv.port);
    fx_get(&f, url, 3000, 0);
    fx_run_close(&f);
    ic_tls_ctx_free(f.srv.tls);
    *out = f.res;
    *srv_out = f.srv;
}

START_TEST(https_verified) {
    result_t r;
    server_t s;
    pki_setup();
    https_case("127.0.0.1", true, &r, &s); /* IP SAN */
    ck_assert_msg(r.rc == 0, "%s", r.why);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "secure");
    ck_assert_str_eq(s.target, "/s");
    https_case("localhost", true, &r, &s); /* DNS SAN, SNI */
    ck_assert_msg(r.rc == 0, "%s", r.why);
    ck_assert_str_eq(r.body, "secure");
    pki_teardown();
}
END_TEST

START_TEST(https_unknown_ca_refused) {
    result_t r;
    server_t s;
    pki_setup();
    https_case("127.0.0.1", false, &r, &s);
    ck_assert_int_eq(r.rc, IC_EPROTO);
    ck_assert(strncmp(r.why, "TLS: certificate verify failed (", 32) == 0);
    ck_assert_int_eq(s.n_requests, 0); /* nothing was sent in clear or not */
    pki_teardown();
}
END_TEST

Suite *ic_http_client_suite(void) {
    Suite *s = suite_create("http_client");
    TCase *tc = tcase_create("http_client");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, content_length_body_and_request_shape);
    tcase_add_test(tc, chunked_body);
    tcase_add_test(tc, close_delimited_body);
    tcase_add_test(tc, interim_then_final_and_head);
    tcase_add_test(tc, status_500_is_a_response);
    tcase_add_test(tc, too_large_responses);
    tcase_add_test(tc, malformed_and_early_close);
    tcase_add_test(tc, timeout_when_the_server_never_answers);
    tcase_add_test(tc, connection_refused);
    tcase_add_test(tc, names_resolve_and_fall_back);
    tcase_add_test(tc, ipv6_literal);
    tcase_add_test(tc, close_aborts_in_flight);
    tcase_add_test(tc, close_with_nothing_in_flight_is_async);
    tcase_add_test(tc, synchronous_refusals);
    tcase_add_test(tc, https_verified);
    tcase_add_test(tc, https_unknown_ca_refused);
    suite_add_tcase(s, tc);
    return s;
}
