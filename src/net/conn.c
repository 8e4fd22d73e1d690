/* conn.c - the connection object: uv_tcp_t, transport, write queue, close.
 *
 * Owns every client socket, the shared read buffer, each connection's
 * carry-over of a partial packet, its TLS session (pumped through tls.c,
 * with the protocol chosen by ALPN on `protocol alpn` listeners) and its
 * write queue:
 *
 *   queue (ring of entries, in order)      ctl[cur]: bytes of control
 *   [ctl 0..5][pub m1 @6][pub m2 @13]...   packets and, per PUBLISH, the
 *    \_ writing _/ \____ pending ____/     first byte + packet id + expiry
 *
 * A PUBLISH entry points at its message's shared frame; at flush it becomes
 * up to six iovecs (first byte, frame head, packet id, frame middle, expiry,
 * frame tail). One write is in flight per connection; everything queued
 * meanwhile goes out in the next one. Control bytes live in ctl[cur]; when
 * a write starts, cur flips, so the buffer the kernel reads from is never
 * reallocated during the write.
 *
 * It must not interpret MQTT: bytes go to proto.c, which drives output
 * through ic_proto_io_t. Loop thread only. A connection is freed only in
 * its uv_close callback, after proto.c has been told (ic_proto_closed).
 */
#include "iotcored/conn.h"

#include "iotcored/alloc.h"
#include "iotcored/clock.h"
#include "iotcored/error.h"
#include "iotcored/http.h"
#include "iotcored/log.h"
#include "iotcored/tls.h"
#include "iotcored/ws_frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_BUF_BYTES 65536
#define KEEP_CTL_BYTES 1024 /* ctl buffers larger than this are freed idle */
#define KEEP_IN_BYTES 4096
#define MAX_METRIC_LISTENERS 64 /* as many as a config may declare */

typedef struct ent_s {
    ic_msg_t *m;            /* NULL for control bytes; ref held */
    const ic_frame_t *f;    /* m's shared frame */
    uint32_t off;           /* into the ctl buffer of its write */
    uint32_t len;           /* control: bytes; publish: frame bytes */
    bool is_raw;            /* WebSocket: a whole frame of its own (pong,
                               close), not MQTT bytes to wrap */
} ent_t;

/* What only TLS, WebSocket and HTTP connections need: allocated by the
 * first of them (an idle plaintext MQTT connection does without). */
typedef struct ext_s {
    ic_buf_t tls_out;             /* ciphertext waiting to be written */
    ic_buf_t tls_wbuf;            /* ciphertext being written */
    ic_buf_t ws_hdr;              /* data frame headers of the write */
    ic_http_peer_t http_peer;     /* what ic_http_t sees of the peer */
} ext_t;

typedef struct conn_s {
    uv_tcp_t tcp;
    ic_conns_t *cs;
    ic_proto_t *proto;
    struct conn_s *prev, *next;   /* cs->all */
    struct conn_s *dirty_next;    /* cs->dirty */
    ic_buf_t in;                  /* carry-over of a partial packet */
    ent_t *q;                     /* ring */
    size_t q_head, q_n, q_cap;
    size_t n_writing;             /* ring-head entries in the write */
    ic_buf_t ctl[2];
    int cur;                      /* ctl receiving new bytes */
    size_t queued_bytes;          /* bytes in the queue (incl. writing) */
    uv_write_t wreq;
    uv_timer_t *throttle;         /* lazily, for throughput limiting */
    ic_tls_t *tls;                /* NULL on plaintext listeners */
    ic_http_t *http;              /* HTTP connections: the server side */
    uv_timer_t *idle;             /* HTTP connections: idle timeout */
    int protocol;                 /* ic_listener_protocol_t of the listener */
    uint8_t listener;             /* index into cs->listeners */
    ext_t *x;                     /* TLS/WebSocket/HTTP part, or NULL */
    ic_ws_reader_t *ws;           /* MQTT over WebSocket: the frame reader */
    bool ws_close_sent;           /* a Close frame is queued */
    bool is_peer_known;           /* identity handed to proto */
    bool is_alpn;                 /* listener dispatches by ALPN */
    bool is_http;                 /* HTTPS chosen: not MQTT */
    bool is_dirty, is_writing, is_closing, close_when_flushed,
        is_read_paused;
} conn_t;

struct ic_conns_s {
    uv_loop_t *loop;
    ic_proto_env_t *env;
    uv_check_t check;             /* end of loop turn: flush */
    uv_idle_t idle;               /* keeps poll from blocking while dirty */
    conn_t *all;
    size_t n;
    conn_t *dirty;
    uv_buf_t *iov;                /* flush scratch */
    size_t iov_cap;
    uint8_t *rbuf;                /* shared read buffer */
    ic_buf_t plain;               /* shared: decrypted bytes of one read */
    bool is_rbuf_busy;
    bool is_stopping;
    size_t max_conns;             /* 0 = no limit */
    int handles_open;             /* check + idle */
    const ic_http_service_t *http_svc[4]; /* by ic_listener_protocol_t */
    ic_http_limits_t http_lim;
    uint64_t http_idle_ms;
    uint64_t ws_max_payload;      /* largest WebSocket frame accepted */
    char *listeners[MAX_METRIC_LISTENERS]; /* names seen at accept (metrics;
                                             owned) */
    size_t n_listeners;
    uint64_t bytes_in, bytes_out; /* on the wire (TLS included) */
    int64_t ws_lifetime_ms;       /* WebSocket connection TTL, 0 = none */
    ic_done_cb stop_cb;
    void *stop_data;
};

static const ic_proto_io_t io_ops;

static ext_t *ext(conn_t *c) {
    if (c->x == NULL)
        c->x = ic_xcalloc(1, sizeof(*c->x));
    return c->x;
}
static void flush(conn_t *c);
static void conn_close_now(conn_t *c);

/* ---- manager ---------------------------------------------------------------- */

static void on_check(uv_check_t *h) {
    ic_conns_t *cs = h->data;
    while (cs->dirty) {
        conn_t *c = cs->dirty;
        cs->dirty = c->dirty_next;
        c->dirty_next = NULL;
        c->is_dirty = false;
        flush(c);
    }
    uv_idle_stop(&cs->idle);
}

static void on_idle(uv_idle_t *h) {
    (void)h; /* exists only so that uv_run polls without blocking */
}

ic_conns_t *ic_conns_new(uv_loop_t *loop, ic_proto_env_t *env,
                         size_t max_conns) {
    ic_conns_t *cs = ic_xcalloc(1, sizeof(*cs));
    cs->max_conns = max_conns;
    cs->loop = loop;
    cs->env = env;
    cs->rbuf = ic_xmalloc(READ_BUF_BYTES);
    uv_check_init(loop, &cs->check);
    uv_idle_init(loop, &cs->idle);
    cs->check.data = cs->idle.data = cs;
    uv_check_start(&cs->check, on_check);
    /* The check handle must not keep the loop alive by itself. */
    uv_unref((uv_handle_t *)&cs->check);
    cs->handles_open = 2;
    return cs;
}

void ic_conns_set_http(ic_conns_t *cs, int protocol,
                       const ic_http_service_t *svc) {
    if (protocol >= 0 && protocol < 4)
        cs->http_svc[protocol] = svc;
}

void ic_conns_set_http_limits(ic_conns_t *cs, const ic_http_limits_t *lim,
                              uint64_t idle_ms) {
    cs->http_lim = *lim;
    cs->http_idle_ms = idle_ms;
}

void ic_conns_set_websocket(ic_conns_t *cs, uint64_t max_payload,
                            int64_t lifetime_ms) {
    cs->ws_max_payload = max_payload;
    cs->ws_lifetime_ms = lifetime_ms;
}

size_t ic_conns_count(const ic_conns_t *cs) {
    return cs->n;
}

static void mark_dirty(conn_t *c) {
    if (c->is_dirty)
        return;
    c->is_dirty = true;
    c->dirty_next = c->cs->dirty;
    c->cs->dirty = c;
    uv_idle_start(&c->cs->idle, on_idle);
}

/* ---- queue ---------------------------------------------------------------------- */

static ent_t *push_ent(conn_t *c) {
    if (c->q_n == c->q_cap) {
        size_t cap = c->q_cap ? c->q_cap * 2 : 2, i;
        ent_t *q = ic_xmalloc(cap * sizeof(*q));
        for (i = 0; i < c->q_n; i++)
            q[i] = c->q[(c->q_head + i) % c->q_cap];
        free(c->q);
        c->q = q;
        c->q_cap = cap;
        c->q_head = 0;
    }
    return &c->q[(c->q_head + c->q_n++) % c->q_cap];
}

/* A client that sends but never reads would make its queue grow without
 * bound (acknowledgements pile up): past twice the high-water mark it is
 * disconnected. QoS 0 is already dropped at the high-water mark. */
static bool over_limit(conn_t *c, size_t more) {
    if (c->queued_bytes + more <= 2 * c->cs->env->out_high_water)
        return false;
    ic_log_warn("slow consumer disconnected", "queued_bytes=%zu",
                c->queued_bytes);
    conn_close_now(c);
    return true;
}

static void send_bytes(conn_t *c, const uint8_t *p, size_t n, bool is_raw) {
    ic_buf_t *b = &c->ctl[c->cur];
    ent_t *e;
    if ((c->is_closing && !c->close_when_flushed) || over_limit(c, n))
        return;
    /* Adjacent control packets share one entry (one iovec). */
    if (c->q_n > c->n_writing) {
        e = &c->q[(c->q_head + c->q_n - 1) % c->q_cap];
        if (e->m == NULL && e->is_raw == is_raw && e->off + e->len == b->len) {
            ic_buf_append(b, p, n);
            e->len += (uint32_t)n;
            c->queued_bytes += n;
            mark_dirty(c);
            return;
        }
    }
    e = push_ent(c);
    e->m = NULL;
    e->f = NULL;
    e->is_raw = is_raw;
    e->off = (uint32_t)b->len;
    e->len = (uint32_t)n;
    ic_buf_append(b, p, n);
    c->queued_bytes += n;
    mark_dirty(c);
}

static void io_send(void *io, const uint8_t *p, size_t n) {
    send_bytes(io, p, n, false);
}

static void io_send_publish(void *io, ic_msg_t *m, const ic_frame_t *f,
                            uint8_t byte0, uint16_t pid, uint32_t expiry) {
    conn_t *c = io;
    ic_buf_t *b = &c->ctl[c->cur];
    uint8_t hdr[7] = {byte0,
                      (uint8_t)(pid >> 8),
                      (uint8_t)pid,
                      (uint8_t)(expiry >> 24),
                      (uint8_t)(expiry >> 16),
                      (uint8_t)(expiry >> 8),
                      (uint8_t)expiry};
    ent_t *e;
    if (c->is_closing || over_limit(c, f->len))
        return;
    e = push_ent(c);
    e->m = ic_msg_ref(m);
    e->f = f;
    e->is_raw = false;
    e->off = (uint32_t)b->len;
    e->len = f->len;
    ic_buf_append(b, hdr, sizeof(hdr));
    c->queued_bytes += f->len;
    mark_dirty(c);
}

static size_t io_queued(void *io) {
    return ((conn_t *)io)->queued_bytes;
}

/* ---- write -------------------------------------------------------------------- */

static uv_buf_t *iov_room(ic_conns_t *cs, size_t need) {
    if (need > cs->iov_cap) {
        cs->iov_cap = need * 2;
        cs->iov = ic_xrealloc(cs->iov, cs->iov_cap * sizeof(uv_buf_t));
    }
    return cs->iov;
}

static void release_head(conn_t *c, size_t n) {
    while (n-- > 0) {
        ent_t *e = &c->q[c->q_head];
        c->queued_bytes -= e->len;
        ic_msg_unref(e->m);
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_n--;
    }
    if (c->q_n == 0)
        c->q_head = 0;
}

static void trim_buf(ic_buf_t *b, size_t keep) {
    if (b->cap > keep)
        ic_buf_free(b);
    else
        ic_buf_reset(b);
}

static void on_written(uv_write_t *req, int status) {
    conn_t *c = req->data;
    int done = c->cur ^ 1;
    release_head(c, c->n_writing);
    c->n_writing = 0;
    c->is_writing = false;
    trim_buf(&c->ctl[done], KEEP_CTL_BYTES);
    if (c->tls)
        trim_buf(&c->x->tls_wbuf, KEEP_CTL_BYTES);
    if (c->ws)
        trim_buf(&c->x->ws_hdr, KEEP_CTL_BYTES);
    if (status < 0) {
        if (!c->is_closing)
            ic_log_debug("write failed", "err=%s", ic_errname(status));
        conn_close_now(c);
        return;
    }
    if (c->q_n > 0 || c->close_when_flushed ||
        (c->x && c->x->tls_out.len > 0))
        mark_dirty(c);
    if (c->q_n == 0 && c->q_cap > 64) {
        free(c->q);
        c->q = NULL;
        c->q_cap = 0;
    }
}

#define PUSH(p_, n_)                                                           \
    do {                                                                       \
        if ((n_) > 0) {                                                        \
            iov[k].base = (char *)(uintptr_t)(p_);                             \
            iov[k].len = (n_);                                                 \
            k++;                                                               \
        }                                                                      \
    } while (0)

static void flush(conn_t *c) {
    ic_conns_t *cs = c->cs;
    uv_buf_t *iov;
    size_t i, k = 0;
    const uint8_t *ctl;
    int rc;
    if (c->is_writing || (c->is_closing && !c->close_when_flushed))
        return;
    if (c->q_n == 0 && (c->tls == NULL || c->x->tls_out.len == 0)) {
        if (c->close_when_flushed)
            conn_close_now(c);
        return;
    }
    iov = iov_room(cs, c->q_n * 7 + 1);
    ctl = c->ctl[c->cur].data;
    if (c->ws) /* room for a header per run, so it never moves */
        ic_buf_reserve(&c->x->ws_hdr, (c->q_n + 1) * IC_WS_MAX_HEADER);
    for (i = 0; i < c->q_n; i++) {
        const ent_t *e = &c->q[(c->q_head + i) % c->q_cap];
        const ic_frame_t *f = e->f;
        uint32_t pos = 1;
        if (c->ws && !e->is_raw &&
            (i == 0 || c->q[(c->q_head + i - 1) % c->q_cap].is_raw)) {
            /* MQTT over WebSocket: each run of MQTT bytes leaves as one
             * binary frame (message boundaries mean nothing to MQTT) */
            uint64_t run = 0;
            size_t j;
            int hl;
            for (j = i; j < c->q_n; j++) {
                const ent_t *x = &c->q[(c->q_head + j) % c->q_cap];
                if (x->is_raw)
                    break;
                run += x->len;
            }
            hl = ic_ws_frame_header(c->x->ws_hdr.data + c->x->ws_hdr.len,
                                    IC_WS_OP_BINARY, true, run);
            PUSH(c->x->ws_hdr.data + c->x->ws_hdr.len, (size_t)hl);
            c->x->ws_hdr.len += (size_t)hl;
        }
        if (e->m == NULL) {
            PUSH(ctl + e->off, e->len);
            continue;
        }
        PUSH(ctl + e->off, 1);
        if (f->pid_off) {
            PUSH(f->buf + pos, f->pid_off - pos);
            PUSH(ctl + e->off + 1, 2);
            pos = f->pid_off + 2;
        }
        if (f->exp_off) {
            PUSH(f->buf + pos, f->exp_off - pos);
            PUSH(ctl + e->off + 3, 4);
            pos = f->exp_off + 4;
        }
        PUSH(f->buf + pos, f->len - pos);
    }
    c->n_writing = c->q_n;
    c->is_writing = true;
    c->cur ^= 1;
    c->wreq.data = c;
    if (c->tls != NULL) {
        /* Encrypt the batch into one buffer: one write per loop turn still. */
        for (i = 0; i < k && ic_tls_is_ready(c->tls); i++)
            ic_tls_write(c->tls, iov[i].base, iov[i].len);
        ext_t *x = c->x;
        ic_tls_take_output(c->tls, &x->tls_out);
        ic_buf_reset(&x->tls_wbuf);
        {
            ic_buf_t tmp = x->tls_wbuf;
            x->tls_wbuf = x->tls_out;
            x->tls_out = tmp;
        }
        iov[0] = uv_buf_init((char *)x->tls_wbuf.data, (unsigned)x->tls_wbuf.len);
        k = 1;
    }
    for (i = 0; i < k; i++)
        cs->bytes_out += iov[i].len;
    rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, iov, (unsigned)k,
                  on_written);
    if (rc != 0) {
        c->is_writing = false;
        c->cur ^= 1;
        c->n_writing = 0;
        conn_close_now(c);
    }
}

/* ---- close -------------------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *h) {
    ic_conns_t *cs = h->data;
    if (--cs->handles_open == 0 && cs->stop_cb)
        cs->stop_cb(cs->stop_data);
}

static void close_handles(ic_conns_t *cs) {
    if (uv_is_closing((uv_handle_t *)&cs->check))
        return;
    uv_close((uv_handle_t *)&cs->idle, on_handle_closed);
    uv_close((uv_handle_t *)&cs->check, on_handle_closed);
}

static void on_throttle_closed(uv_handle_t *h) {
    free(h);
}

static void on_idle_closed(uv_handle_t *h) {
    free(h);
}

static void on_closed(uv_handle_t *h) {
    conn_t *c = h->data;
    ic_conns_t *cs = c->cs;
    ic_proto_closed(c->proto);
    release_head(c, c->q_n);
    free(c->q);
    ic_buf_free(&c->ctl[0]);
    ic_buf_free(&c->ctl[1]);
    ic_buf_free(&c->in);
    if (c->x) {
        ic_buf_free(&c->x->tls_out);
        ic_buf_free(&c->x->tls_wbuf);
        ic_buf_free(&c->x->ws_hdr);
        free(c->x);
    }
    free(c->ws);
    ic_tls_free(c->tls);
    ic_http_free(c->http);
    if (c->prev)
        c->prev->next = c->next;
    else
        cs->all = c->next;
    if (c->next)
        c->next->prev = c->prev;
    cs->n--;
    free(c);
    if (cs->is_stopping && cs->n == 0)
        close_handles(cs);
}

static void conn_close_now(conn_t *c) {
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    c->is_closing = true;
    c->close_when_flushed = false;
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (c->throttle) {
        uv_close((uv_handle_t *)c->throttle, on_throttle_closed);
        c->throttle = NULL;
    }
    if (c->idle) {
        uv_close((uv_handle_t *)c->idle, on_idle_closed);
        c->idle = NULL;
    }
    /* Pending writes are cancelled; on_written runs before on_closed. */
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void send_bytes(conn_t *c, const uint8_t *p, size_t n, bool is_raw);

static void io_close(void *io) {
    conn_t *c = io;
    if (c->is_closing)
        return;
    if (c->ws && !c->ws_close_sent) {
        /* the server ends it: a closing handshake [RFC 6455 7.1], not 1006 */
        uint8_t frame[IC_WS_MAX_CONTROL_FRAME];
        int len = ic_ws_write_close(frame, IC_WS_CLOSE_NORMAL, "");
        c->ws_close_sent = true;
        if (len > 0)
            send_bytes(c, frame, (size_t)len, true);
    }
    c->is_closing = true;
    c->close_when_flushed = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    mark_dirty(c);
}

/* ---- read ---------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    conn_t *c = h->data;
    (void)suggested;
    buf->base = (char *)c->cs->rbuf;
    buf->len = READ_BUF_BYTES;
}

static void feed(conn_t *c, const uint8_t *p, size_t n) {
    size_t used = 0;
    int rc = ic_proto_feed(c->proto, p, n, &used);
    if (rc != 0) {
        ic_buf_reset(&c->in);
        return;
    }
    if (used < n) {
        if (p == c->in.data) {
            c->in.rpos = used;
            ic_buf_compact(&c->in);
        } else {
            ic_buf_append(&c->in, p + used, n - used);
        }
    } else {
        trim_buf(&c->in, KEEP_IN_BYTES);
    }
}

static void feed_bytes(conn_t *c, const uint8_t *p, size_t n) {
    if (c->in.len > 0) {
        /* A partial packet is waiting: join, then feed from the carry. */
        ic_buf_append(&c->in, p, n);
        feed(c, c->in.data, c->in.len);
    } else {
        feed(c, p, n);
    }
}

static void http_send(void *io, const uint8_t *p, size_t n) {
    io_send(io, p, n);
}

static void http_upgrade(void *io, const ic_http_upgrade_t *u, const uint8_t *rest,
                         size_t n);

static const ic_http_io_t http_io = {http_send, io_close, http_upgrade};

static void on_http_idle(uv_timer_t *t) {
    conn_t *c = t->data;
    ic_log_debug("http idle", "peer=%s", ic_proto_peer(c->proto));
    if (c->is_closing) {
        /* still not flushed a whole idle period later: the peer does not
         * read; drop it */
        conn_close_now(c);
        return;
    }
    io_close(c);
    uv_timer_start(c->idle, on_http_idle, c->cs->http_idle_ms, 0);
}

/* The connection speaks HTTP from now on: no MQTT CONNECT timeout, an idle
 * timer of its own (armed until the first request, reset by every read). */
static void http_begin(conn_t *c) {
    ic_proto_set_not_mqtt(c->proto);
    if (c->idle == NULL) {
        c->idle = ic_xmalloc(sizeof(uv_timer_t));
        uv_timer_init(c->cs->loop, c->idle);
        c->idle->data = c;
    }
    uv_timer_start(c->idle, on_http_idle, c->cs->http_idle_ms, 0);
}

/* Bytes of an HTTP connection: to the server side of the listener's
 * protocol (control plane or data plane; every protocol has one once the
 * broker has started). */
static void http_bytes(conn_t *c, const uint8_t *p, size_t n) {
    const ic_http_service_t *svc = c->cs->http_svc[c->protocol];
    if (svc == NULL) {
        conn_close_now(c);
        return;
    }
    if (c->http == NULL) {
        ic_http_peer_t *hp = &ext(c)->http_peer;
        hp->addr = ic_proto_peer(c->proto);
        hp->cert_der = ic_proto_peer_cert(c->proto, &hp->cert_der_len,
                                          &hp->cert_trusted, &hp->sni);
        hp->listener_policy = ic_proto_anonymous_policy(c->proto);
        c->http = ic_http_new(svc, &http_io, c, hp, &c->cs->http_lim);
    }
    http_begin(c);
    ic_http_feed(c->http, p, n);
}

/* The HTTP request was a WebSocket upgrade the data plane accepted: from
 * now on the connection carries MQTT in WebSocket frames. */
/* WebSocket bytes (plaintext, writable): frames in, MQTT bytes to proto,
 * pings answered, a Close echoed and taken as the client's DISCONNECT. */
static void ws_bytes(conn_t *c, uint8_t *p, size_t n) {
    while (n > 0 && !c->is_closing) {
        ic_ws_event_t ev;
        size_t used = 0;
        uint8_t frame[IC_WS_MAX_CONTROL_FRAME];
        int rc = ic_ws_reader_feed(c->ws, p, n, &used, &ev), len;
        p += used;
        n -= used;
        if (rc < 0) {
            ic_log_info("websocket error", "peer=%s close_code=%u reason=\"%s\"",
                        ic_proto_peer(c->proto), ev.close_code, ev.why);
            len = ic_ws_write_close(frame, ev.close_code, ev.why);
            c->ws_close_sent = true;
            if (len > 0)
                send_bytes(c, frame, (size_t)len, true);
            ic_proto_transport_error(c->proto);
            io_close(c);
            return;
        }
        switch (ev.type) {
        case IC_WS_EV_DATA:
            if (c->is_read_paused)
                /* throttled by an earlier frame of this read: kept for
                 * the end of the pause, not decoded now */
                ic_buf_append(&c->in, ev.data, ev.len);
            else
                feed_bytes(c, ev.data, ev.len);
            break;
        case IC_WS_EV_PING:
            len = ic_ws_write_pong(frame, ev.data, ev.len);
            if (len > 0)
                send_bytes(c, frame, (size_t)len, true);
            break;
        case IC_WS_EV_CLOSE:
            ic_log_debug("websocket close", "peer=%s code=%u",
                         ic_proto_peer(c->proto), ev.close_code);
            len = ic_ws_write_close(frame,
                                    ev.close_code == IC_WS_CLOSE_NO_STATUS
                                        ? IC_WS_CLOSE_NORMAL
                                        : ev.close_code,
                                    "");
            c->ws_close_sent = true;
            if (len > 0)
                send_bytes(c, frame, (size_t)len, true);
            ic_proto_peer_closed(c->proto);
            io_close(c);
            return;
        default:
            break;
        }
    }
}

/* The HTTP request was a WebSocket upgrade the data plane accepted: from
 * now on the connection carries MQTT in WebSocket frames. */
static void http_upgrade(void *io, const ic_http_upgrade_t *u, const uint8_t *rest,
                         size_t n) {
    conn_t *c = io;
    ic_conns_t *cs = c->cs;
    size_t i;
    c->is_http = false;
    /* the 101 response queued so far goes out as it is, not in a frame */
    for (i = 0; i < c->q_n; i++)
        c->q[(c->q_head + i) % c->q_cap].is_raw = true;
    if (c->idle)
        uv_timer_stop(c->idle); /* MQTT keep-alive rules from here on */
    (void)ext(c);
    c->ws = ic_xcalloc(1, sizeof(*c->ws));
    ic_ws_reader_init(c->ws, cs->ws_max_payload);
    ic_proto_set_websocket(c->proto, u->principal, u->is_admin,
                           u->policy[0] ? u->policy : NULL,
                           cs->ws_lifetime_ms ? ic_clock_wall_ms() + cs->ws_lifetime_ms
                                              : 0);
    if (u->custom)
        ic_proto_set_custom_auth(c->proto, u->custom);
    else if (u->is_connect_auth)
        ic_proto_require_custom_auth(c->proto, u->req ? u->req->headers : NULL,
                                     u->req ? u->req->n_headers : 0,
                                     u->req ? u->req->query : NULL);
    ic_log_info("websocket open", "peer=%s principal=%s", ic_proto_peer(c->proto),
                u->principal[0] ? u->principal : "-");
    if (n > 0) {
        /* bytes that came with the request: unmasked in a copy (rest may
         * be the HTTP parser's) */
        ic_buf_t tmp;
        ic_buf_init(&tmp);
        ic_buf_append(&tmp, rest, n);
        ws_bytes(c, tmp.data, tmp.len);
        ic_buf_free(&tmp);
    }
}

/* After the handshake on an ALPN listener: what does this connection
 * speak? */
static void dispatch_alpn(conn_t *c) {
    switch (ic_tls_alpn(c->tls)) {
    case IC_ALPN_MQTT_CA:
        ic_proto_require_peer(c->proto, true);
        break;
    case IC_ALPN_MQTT_CUSTOM:
        /* AWS 4.8: MQTT with a custom authorizer (username/password) */
        ic_proto_require_custom_auth(c->proto, NULL, 0, NULL);
        break;
    default:
        c->is_http = true;
        c->protocol = IC_PROTO_HTTPS;
        http_begin(c);
        break;
    }
}

/* TLS: decrypt into the shared plaintext buffer, queue what the session
 * must send (handshake), tell proto who the peer is once known. */
static void tls_read(conn_t *c, const uint8_t *p, size_t n) {
    ic_buf_t *plain = &c->cs->plain;
    int rc;
    ic_buf_reset(plain);
    rc = ic_tls_read(c->tls, p, n, plain);
    if (ic_tls_take_output(c->tls, &c->x->tls_out) > 0)
        mark_dirty(c);
    if (ic_tls_is_ready(c->tls) && !c->is_peer_known) {
        c->is_peer_known = true;
        {
        size_t der_len;
        const uint8_t *der = ic_tls_peer_der(c->tls, &der_len);
        ic_proto_set_peer(c->proto, ic_tls_peer_id(c->tls),
                          ic_tls_is_peer_trusted(c->tls), ic_tls_error(c->tls),
                          ic_tls_sni(c->tls), der, der_len);
        ic_tls_drop_peer_der(c->tls); /* proto has its copy */
        }
        if (c->is_alpn)
            dispatch_alpn(c);
        if (c->is_closing)
            return;
    }
    /* Records decrypted before a close_notify still count. */
    if (plain->len > 0 && c->is_http)
        http_bytes(c, plain->data, plain->len);
    else if (plain->len > 0 && c->ws)
        ws_bytes(c, plain->data, plain->len);
    else if (plain->len > 0)
        feed_bytes(c, plain->data, plain->len);
    if (rc != 0 && !c->is_closing) {
        if (rc == IC_ECLOSED)
            ic_log_debug("tls closed", "peer=%s", ic_proto_peer(c->proto));
        else
            ic_log_info("tls failed", "peer=%s reason=\"%s\"",
                        ic_proto_peer(c->proto), ic_tls_error(c->tls));
        conn_close_now(c);
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    conn_t *c = s->data;
    if (nread > 0)
        c->cs->bytes_in += (uint64_t)nread;
    if (nread < 0) {
        conn_close_now(c);
        return;
    }
    if (nread == 0 || c->is_closing)
        return;
    if (c->tls)
        tls_read(c, (const uint8_t *)buf->base, (size_t)nread);
    else if (c->is_http)
        http_bytes(c, (const uint8_t *)buf->base, (size_t)nread);
    else if (c->ws)
        ws_bytes(c, (uint8_t *)buf->base, (size_t)nread);
    else
        feed_bytes(c, (const uint8_t *)buf->base, (size_t)nread);
}

static void on_throttle_done(uv_timer_t *t) {
    conn_t *c = t->data;
    c->is_read_paused = false;
    if (c->is_closing)
        return;
    /* Bytes read before the pause are handled first. */
    if (c->in.len > 0)
        feed(c, c->in.data, c->in.len);
    if (!c->is_closing && !c->is_read_paused)
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void io_throttle(void *io, uint32_t ms) {
    conn_t *c = io;
    if (c->is_closing || c->is_read_paused)
        return;
    if (c->throttle == NULL) {
        c->throttle = ic_xmalloc(sizeof(uv_timer_t));
        uv_timer_init(c->cs->loop, c->throttle);
        c->throttle->data = c;
    }
    c->is_read_paused = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_timer_start(c->throttle, on_throttle_done, ms ? ms : 1, 0);
}

static void io_resume(void *io) {
    conn_t *c = io;
    if (c->throttle == NULL || !c->is_read_paused || c->is_closing)
        return;
    uv_timer_stop(c->throttle);
    on_throttle_done(c->throttle);
}

static const ic_proto_io_t io_ops = {io_send, io_send_publish, io_close,
                                     io_throttle, io_queued, io_resume};

/* ---- accept ---------------------------------------------------------------------- */

static void peer_name(uv_tcp_t *t, char *out, size_t cap) {
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    out[0] = '\0';
    if (uv_tcp_getpeername(t, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&ss, out, cap);
    else
        uv_ip4_name((struct sockaddr_in *)&ss, out, cap);
}

/* The metrics slot of a listener name (added when new; the last slot is
 * shared beyond MAX_METRIC_LISTENERS). */
static size_t listener_index(ic_conns_t *cs, const char *name) {
    size_t i;
    for (i = 0; i < cs->n_listeners && strcmp(cs->listeners[i], name) != 0; i++)
        ;
    if (i == cs->n_listeners && i < MAX_METRIC_LISTENERS) {
        cs->listeners[i] = ic_xstrdup(name);
        cs->n_listeners++;
    }
    return i < MAX_METRIC_LISTENERS ? i : MAX_METRIC_LISTENERS - 1;
}

void ic_conns_add_listener(ic_conns_t *cs, const char *name) {
    (void)listener_index(cs, name);
}

void ic_conns_accept(uv_stream_t *server, const ic_listener_conf_t *lc,
                     ic_tls_ctx_t *tls, void *data) {
    ic_conns_t *cs = data;
    conn_t *c = ic_xcalloc(1, sizeof(*c));
    char peer[64];
    uv_tcp_init(cs->loop, &c->tcp);
    c->tcp.data = c;
    c->cs = cs;
    c->next = cs->all;
    if (cs->all)
        cs->all->prev = c;
    cs->all = c;
    cs->n++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || cs->is_stopping) {
        c->proto = ic_proto_new(cs->env, &io_ops, c, "");
        conn_close_now(c);
        return;
    }
    if (cs->max_conns && cs->n > cs->max_conns) {
        /* bounded memory: beyond max_connections nobody else gets in */
        ic_log_warn("connection refused", "reason=max_connections limit=%zu",
                    cs->max_conns);
        c->proto = ic_proto_new(cs->env, &io_ops, c, "");
        conn_close_now(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    peer_name(&c->tcp, peer, sizeof(peer));
    c->proto = ic_proto_new(cs->env, &io_ops, c, peer);
    if (lc->listener_policy && lc->listener_policy[0])
        ic_proto_set_anonymous_policy(c->proto, lc->listener_policy);
    c->protocol = lc->protocol;
    c->listener = (uint8_t)listener_index(cs, lc->name);
    c->is_http = lc->protocol == IC_PROTO_HTTPS ||
                 lc->protocol == IC_PROTO_CONTROL;
    if (c->is_http)
        http_begin(c);
    if (tls != NULL) {
        c->tls = ic_tls_new(tls);
        (void)ext(c);
        c->is_alpn = lc->protocol == IC_PROTO_ALPN;
        ic_proto_require_peer(c->proto, lc->tls == IC_TLS_MUTUAL);
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* ---- stop ------------------------------------------------------------------------ */

void ic_conns_stop(ic_conns_t *cs, ic_done_cb cb, void *data) {
    cs->is_stopping = true;
    cs->stop_cb = cb;
    cs->stop_data = data;
    ic_proto_shutdown_all(cs->env);
    /* The DISCONNECTs flush at the end of this loop turn; the check and
     * idle handles close after the last connection (on_closed). */
    if (cs->n == 0)
        close_handles(cs);
}

void ic_conns_free(ic_conns_t *cs) {
    size_t i;
    if (cs == NULL)
        return;
    for (i = 0; i < cs->n_listeners; i++)
        free(cs->listeners[i]);
    free(cs->iov);
    free(cs->rbuf);
    ic_buf_free(&cs->plain);
    free(cs);
}

/* ---- metrics ------------------------------------------------------------------------ */

void ic_conns_stats(const ic_conns_t *cs, ic_conns_stat_fn fn, void *data,
                    uint64_t *bytes_in, uint64_t *bytes_out) {
    /* per listener: mqtt, websocket, http */
    uint64_t n[MAX_METRIC_LISTENERS][3];
    static const char *const kinds[3] = {"mqtt", "websocket", "http"};
    const conn_t *c;
    size_t i, k;
    memset(n, 0, sizeof(n));
    for (c = cs->all; c; c = c->next) {
        if (c->is_closing)
            continue;
        n[c->listener][c->ws ? 1 : c->is_http ? 2 : 0]++;
    }
    for (i = 0; i < cs->n_listeners; i++)
        for (k = 0; k < 3; k++)
            fn(cs->listeners[i], kinds[k], n[i][k], data);
    *bytes_in = cs->bytes_in;
    *bytes_out = cs->bytes_out;
}
