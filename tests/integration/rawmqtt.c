/* rawmqtt.c - test-side MQTT client over a blocking socket with poll
 * deadlines (see rawmqtt.h). */
#include "rawmqtt.h"

#include "harness.h"

#include "iotcored/error.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rm_open(rm_t *c, int port, uint8_t version) {
    memset(c, 0, sizeof(*c));
    c->fd = ich_connect(port);
    ck_assert_int_ge(c->fd, 0);
    c->version = version;
    ic_buf_init(&c->in);
}

void rm_close(rm_t *c) {
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    ic_buf_free(&c->in);
}

void rm_send_raw(rm_t *c, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(c->fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the broker may already have closed: tests check that */
        b += w;
        n -= (size_t)w;
    }
}

void rm_send(rm_t *c, const ic_packet_t *p) {
    ic_buf_t b;
    ic_buf_init(&b);
    ck_assert_int_eq(ic_codec_encode(&b, c->version, p), 0);
    rm_send_raw(c, b.data, b.len);
    ic_buf_free(&b);
}

int rm_recv(rm_t *c, ic_packet_t *p, int timeout_ms) {
    long long deadline = now_ms() + timeout_ms;
    if (c->used) {
        c->in.rpos = c->used;
        ic_buf_compact(&c->in);
        c->used = 0;
    }
    for (;;) {
        int n = c->in.len
                    ? ic_codec_decode(c->in.data, c->in.len, c->version,
                                      1u << 28, p)
                    : IC_EAGAIN;
        struct pollfd pf = {c->fd, POLLIN, 0};
        long long left;
        ssize_t r;
        if (n > 0) {
            c->used = (size_t)n;
            return 0;
        }
        ck_assert_msg(n == IC_EAGAIN, "broker sent an undecodable packet: %s",
                      p->why ? p->why : "?");
        left = deadline - now_ms();
        if (left <= 0)
            return -1;
        if (poll(&pf, 1, (int)left) <= 0)
            continue;
        ic_buf_reserve(&c->in, 65536);
        r = read(c->fd, c->in.data + c->in.len, 65536);
        if (r <= 0)
            return -2;
        c->in.len += (size_t)r;
    }
}

void rm_expect(rm_t *c, uint8_t type, ic_packet_t *p, int timeout_ms) {
    int rc = rm_recv(c, p, timeout_ms);
    ck_assert_msg(rc == 0, "expected packet type %u, got %s", type,
                  rc == -1 ? "timeout" : "connection closed");
    ck_assert_msg(p->type == type, "expected packet type %u, got %u", type,
                  p->type);
}

bool rm_expect_close(rm_t *c, int timeout_ms, uint8_t *last_type,
                     uint8_t *last_rc) {
    ic_packet_t p;
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - now_ms();
        int rc = rm_recv(c, &p, left > 0 ? (int)left : 0);
        if (rc == -2)
            return true;
        if (rc == -1)
            return false;
        if (last_type)
            *last_type = p.type;
        if (last_rc)
            *last_rc = p.u.ack.rc;
    }
}

void rm_connect(rm_t *c, const char *client_id, bool clean, uint16_t keepalive,
                const ic_props_t *props, ic_packet_t *ack) {
    ic_packet_t p;
    memset(&p, 0, sizeof(p));
    p.type = IC_MQTT_CONNECT;
    p.u.connect.version = c->version;
    p.u.connect.clean_start = clean;
    p.u.connect.keep_alive = keepalive;
    p.u.connect.client_id.p = (const uint8_t *)client_id;
    p.u.connect.client_id.len = strlen(client_id);
    if (props)
        p.u.connect.props = *props;
    rm_send(c, &p);
    rm_expect(c, IC_MQTT_CONNACK, ack, 5000);
}

void rm_publish(rm_t *c, const char *topic, const char *payload, uint8_t qos,
                bool retain, uint16_t pid, const ic_props_t *props) {
    ic_packet_t p;
    memset(&p, 0, sizeof(p));
    p.type = IC_MQTT_PUBLISH;
    p.u.publish.topic.p = (const uint8_t *)topic;
    p.u.publish.topic.len = strlen(topic);
    p.u.publish.payload.p = (const uint8_t *)payload;
    p.u.publish.payload.len = strlen(payload);
    p.u.publish.qos = qos;
    p.u.publish.retain = retain;
    p.u.publish.packet_id = pid;
    if (props)
        p.u.publish.props = *props;
    rm_send(c, &p);
}

void rm_subscribe(rm_t *c, uint16_t pid, const char *const *filters,
                  const uint8_t *opts, size_t n) {
    ic_packet_t p;
    size_t i;
    memset(&p, 0, sizeof(p));
    p.type = IC_MQTT_SUBSCRIBE;
    p.u.subscribe.packet_id = pid;
    p.u.subscribe.n_total = n;
    for (i = 0; i < n && i < IC_MQTT_MAX_ENTRIES; i++) {
        p.u.subscribe.e[i].filter.p = (const uint8_t *)filters[i];
        p.u.subscribe.e[i].filter.len = strlen(filters[i]);
        p.u.subscribe.e[i].opts = opts[i];
    }
    rm_send(c, &p);
}

void rm_puback(rm_t *c, uint16_t pid) {
    ic_packet_t a;
    memset(&a, 0, sizeof(a));
    a.type = IC_MQTT_PUBACK;
    a.u.ack.packet_id = pid;
    rm_send(c, &a);
}

void rm_ping(rm_t *c) {
    ic_packet_t p;
    memset(&p, 0, sizeof(p));
    p.type = IC_MQTT_PINGREQ;
    rm_send(c, &p);
    rm_expect(c, IC_MQTT_PINGRESP, &p, 5000);
}

void rm_disconnect(rm_t *c, uint8_t rc) {
    ic_packet_t p;
    memset(&p, 0, sizeof(p));
    p.type = IC_MQTT_DISCONNECT;
    p.u.ack.rc = rc;
    rm_send(c, &p);
    ck_assert(rm_expect_close(c, 5000, NULL, NULL));
    rm_close(c);
}
