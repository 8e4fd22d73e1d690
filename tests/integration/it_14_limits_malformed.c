/* it_14_limits_malformed.c - AWS limits and bad input, byte-exact with the
 * project's codec as the client: payload and topic limits, filter counts,
 * QoS 2, keep-alive clamping, client IDs, protocol errors, topic aliases,
 * rate limits, message expiry, and random garbage that must not hurt
 * anyone else. */
#include "harness.h"
#include "rawmqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONF ICH_MQTT_LISTENER "connect_rate_limit 0\n"

static void connect_ok(rm_t *c, const ich_t *h, uint8_t v, const char *id) {
    ic_packet_t ack;
    rm_open(c, ich_port(h, "mqtt"), v);
    rm_connect(c, id, true, 60, NULL, &ack);
    ck_assert_int_eq(ack.u.connack.rc, 0);
}

/* The broker closes c; for MQTT 5 the last packet is DISCONNECT rc. */
static void expect_disconnect(rm_t *c, int rc) {
    uint8_t type = 0, got = 0;
    ck_assert(rm_expect_close(c, 5000, &type, &got));
    if (rc < 0) {
        ck_assert_int_eq(type, 0); /* closed without a packet */
    } else {
        ck_assert_int_eq(type, IC_MQTT_DISCONNECT);
        ck_assert_int_eq(got, rc);
    }
    rm_close(c);
}

static void ping(rm_t *c) {
    rm_ping(c);
}

static char *big(size_t n) {
    char *s = malloc(n + 1);
    memset(s, 'x', n);
    s[n] = '\0';
    return s;
}

START_TEST(oversized_payload) {
    ich_t h;
    rm_t c;
    char *payload = big(128 * 1024 + 1);
    ich_start(&h, CONF);
    connect_ok(&c, &h, IC_MQTT_V5, "big5");
    rm_publish(&c, "big/t", payload, 1, false, 1, NULL);
    expect_disconnect(&c, 0x95);
    connect_ok(&c, &h, IC_MQTT_V311, "big3");
    rm_publish(&c, "big/t", payload, 1, false, 1, NULL);
    expect_disconnect(&c, -1);
    free(payload);
    /* exactly 128 KiB is fine */
    payload = big(128 * 1024);
    connect_ok(&c, &h, IC_MQTT_V5, "big5ok");
    rm_publish(&c, "big/t", payload, 0, false, 0, NULL);
    ping(&c);
    rm_close(&c);
    free(payload);
    /* a packet over max_packet_size is refused from its header alone */
    {
        static const uint8_t hdr[] = {0x30, 0xff, 0xff, 0x7f}; /* 2 MiB */
        connect_ok(&c, &h, IC_MQTT_V5, "huge5");
        rm_send_raw(&c, hdr, sizeof(hdr));
        expect_disconnect(&c, 0x95);
    }
    ich_stop(&h);
}
END_TEST

START_TEST(topic_limits) {
    ich_t h;
    rm_t c;
    ic_packet_t p;
    char *longtopic = big(257);
    ich_start(&h, CONF);
    connect_ok(&c, &h, IC_MQTT_V5, "slash5");
    rm_publish(&c, "a/b/c/d/e/f/g/h", "7 slashes", 1, false, 1, NULL);
    rm_expect(&c, IC_MQTT_PUBACK, &p, 5000);
    ck_assert_int_eq(p.u.ack.rc, 0x00);
    rm_publish(&c, "a/b/c/d/e/f/g/h/i", "8 slashes", 1, false, 2, NULL);
    rm_expect(&c, IC_MQTT_PUBACK, &p, 5000);
    ck_assert_int_eq(p.u.ack.rc, 0x90);
    rm_publish(&c, longtopic, "257 bytes", 1, false, 3, NULL);
    rm_expect(&c, IC_MQTT_PUBACK, &p, 5000);
    ck_assert_int_eq(p.u.ack.rc, 0x90);
    /* the Basic Ingest prefix does not count */
    rm_publish(&c, "$aws/rules/r/a/b/c/d/e/f/g/h", "ingest", 1, false, 4, NULL);
    rm_expect(&c, IC_MQTT_PUBACK, &p, 5000);
    ck_assert_int_eq(p.u.ack.rc, 0x00);
    {
        const char *f[] = {"a/b/c/d/e/f/g/+", "a/b/c/d/e/f/g/h/#",
                           "$share/grp/a/b/c/d/e/f/g/h", "a/#/b", "$aws/rules/r/#"};
        uint8_t o[] = {1, 1, 1, 1, 1};
        rm_subscribe(&c, 5, f, o, 5);
        rm_expect(&c, IC_MQTT_SUBACK, &p, 5000);
        ck_assert_int_eq((int)p.u.suback.rcs.len, 5);
        ck_assert_int_eq(p.u.suback.rcs.p[0], 1);
        ck_assert_int_eq(p.u.suback.rcs.p[1], 0x8F);
        ck_assert_int_eq(p.u.suback.rcs.p[2], 1); /* $share/grp/ excluded */
        ck_assert_int_eq(p.u.suback.rcs.p[3], 0x8F);
        ck_assert_int_eq(p.u.suback.rcs.p[4], 0x8F); /* ingest: publish only */
    }
    rm_close(&c);
    /* MQTT 3.1.1 has no PUBACK codes: the connection is closed */
    connect_ok(&c, &h, IC_MQTT_V311, "slash3");
    rm_publish(&c, "a/b/c/d/e/f/g/h/i", "8 slashes", 1, false, 1, NULL);
    expect_disconnect(&c, -1);
    free(longtopic);
    ich_stop(&h);
}
END_TEST

START_TEST(filters_per_subscribe_and_per_connection) {
    ich_t h;
    rm_t c;
    ic_packet_t p;
    char names[60][16];
    const char *f[9];
    uint8_t o[9];
    int i;
    ich_start(&h, CONF);
    ich_scenario_py(&h, "nine_filters");
    connect_ok(&c, &h, IC_MQTT_V5, "many5");
    for (i = 0; i < 60; i++)
        snprintf(names[i], sizeof(names[i]), "s/%d", i);
    /* 50 subscriptions per connection: 6 packets of 8, then 2 more fit */
    for (i = 0; i < 7; i++) {
        int k;
        for (k = 0; k < 8; k++) {
            f[k] = names[i * 8 + k];
            o[k] = 0;
        }
        rm_subscribe(&c, (uint16_t)(i + 1), f, o, 8);
        rm_expect(&c, IC_MQTT_SUBACK, &p, 5000);
        for (k = 0; k < 8; k++)
            ck_assert_int_eq(p.u.suback.rcs.p[k], i * 8 + k < 50 ? 0 : 0x97);
    }
    rm_close(&c);
    ich_stop(&h);
}
END_TEST

START_TEST(qos2) {
    ich_t h;
    rm_t c, pub;
    const char *f = "q2/t";
    uint8_t o = 2;
    ich_start(&h, CONF);
    connect_ok(&c, &h, IC_MQTT_V5, "q2pub5");
    rm_publish(&c, "q2/t", "x", 2, false, 1, NULL);
    expect_disconnect(&c, 0x9B);
    connect_ok(&c, &h, IC_MQTT_V311, "q2pub3");
    rm_publish(&c, "q2/t", "x", 2, false, 1, NULL);
    expect_disconnect(&c, -1);
    ich_scenario_py(&h, "qos2_publish");
    /* SUBSCRIBE asking QoS 2: no SUBACK, nothing subscribed (AWS 5.2) */
    connect_ok(&c, &h, IC_MQTT_V311, "q2sub3");
    rm_subscribe(&c, 7, &f, &o, 1);
    ping(&c); /* PINGRESP arrives, no SUBACK before it */
    connect_ok(&pub, &h, IC_MQTT_V311, "q2p");
    rm_publish(&pub, "q2/t", "not delivered", 0, false, 0, NULL);
    ping(&pub);
    ping(&c);
    rm_close(&pub);
    rm_close(&c);
    ich_stop(&h);
}
END_TEST

START_TEST(qos2_subscribe_grant_qos1_directive) {
    ich_t h;
    rm_t c;
    ic_packet_t p;
    const char *f = "q2/t";
    uint8_t o = 2;
    ich_start(&h, CONF "qos2_subscribe grant-qos1\n");
    connect_ok(&c, &h, IC_MQTT_V311, "q2g");
    rm_subscribe(&c, 7, &f, &o, 1);
    rm_expect(&c, IC_MQTT_SUBACK, &p, 5000);
    ck_assert_int_eq(p.u.suback.rcs.p[0], 1);
    rm_close(&c);
    ich_stop(&h);
}
END_TEST

static void keepalive_case(const ich_t *h, uint16_t asked, int want) {
    rm_t c;
    ic_packet_t ack;
    rm_open(&c, ich_port(h, "mqtt"), IC_MQTT_V5);
    rm_connect(&c, "ka5", true, asked, NULL, &ack);
    if (want < 0) {
        ck_assert(!(ack.u.connack.props.present &
                    IC_PROP_BIT(IC_PROP_SERVER_KEEP_ALIVE)));
    } else {
        ck_assert(ack.u.connack.props.present &
                  IC_PROP_BIT(IC_PROP_SERVER_KEEP_ALIVE));
        ck_assert_int_eq(ack.u.connack.props.server_keep_alive, want);
    }
    rm_close(&c);
}

START_TEST(keepalive_clamped) {
    ich_t h;
    ich_start(&h, CONF);
    keepalive_case(&h, 5, 30);
    keepalive_case(&h, 0, 1200);
    keepalive_case(&h, 2000, 1200);
    keepalive_case(&h, 60, -1);
    ich_stop(&h);
}
END_TEST

static uint8_t connack_rc(const ich_t *h, uint8_t v, const char *id, bool clean) {
    rm_t c;
    ic_packet_t ack;
    uint8_t rc;
    rm_open(&c, ich_port(h, "mqtt"), v);
    rm_connect(&c, id, clean, 60, NULL, &ack);
    rc = ack.u.connack.rc;
    if (rc != 0)
        ck_assert(rm_expect_close(&c, 5000, NULL, NULL));
    rm_close(&c);
    return rc;
}

START_TEST(client_ids) {
    ich_t h;
    char *id129 = big(129), *id128 = big(128);
    rm_t c;
    ic_packet_t ack;
    ich_start(&h, CONF);
    ck_assert_int_eq(connack_rc(&h, IC_MQTT_V5, id129, true), 0x85);
    ck_assert_int_eq(connack_rc(&h, IC_MQTT_V311, id129, true), 2);
    ck_assert_int_eq(connack_rc(&h, IC_MQTT_V5, id128, true), 0);
    ck_assert_int_eq(connack_rc(&h, IC_MQTT_V5, "$reserved", true), 0x85);
    ck_assert_int_eq(connack_rc(&h, IC_MQTT_V311, "$reserved", true), 2);
    ck_assert_int_eq(connack_rc(&h, IC_MQTT_V311, "", false), 2);
    ck_assert_int_eq(connack_rc(&h, IC_MQTT_V311, "", true), 0);
    /* MQTT 5 empty ID: the server assigns one */
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V5);
    rm_connect(&c, "", true, 60, NULL, &ack);
    ck_assert_int_eq(ack.u.connack.rc, 0);
    ck_assert(ack.u.connack.props.present &
              IC_PROP_BIT(IC_PROP_ASSIGNED_CLIENT_ID));
    ck_assert_int_gt((int)ack.u.connack.props.assigned_client_id.len, 0);
    rm_close(&c);
    free(id129);
    free(id128);
    ich_stop(&h);
}
END_TEST

START_TEST(protocol_errors) {
    ich_t h;
    rm_t c;
    ic_packet_t p, ack;
    ich_start(&h, CONF);
    /* a packet before CONNECT: closed, nothing sent [MQTT-3.1.0-1] */
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V311);
    memset(&p, 0, sizeof(p));
    p.type = IC_MQTT_PINGREQ;
    rm_send(&c, &p);
    expect_disconnect(&c, -1);
    /* a second CONNECT: MQTT 5 DISCONNECT 0x82, 3.1.1 closed */
    connect_ok(&c, &h, IC_MQTT_V5, "twice5");
    memset(&p, 0, sizeof(p));
    p.type = IC_MQTT_CONNECT;
    p.u.connect.version = IC_MQTT_V5;
    p.u.connect.clean_start = true;
    p.u.connect.client_id.p = (const uint8_t *)"twice5";
    p.u.connect.client_id.len = 6;
    rm_send(&c, &p);
    expect_disconnect(&c, 0x82);
    connect_ok(&c, &h, IC_MQTT_V311, "twice3");
    p.u.connect.version = IC_MQTT_V311;
    rm_send(&c, &p);
    expect_disconnect(&c, -1);
    /* MQTT 3.1 (MQIsdp, level 3): CONNACK return code 1 */
    {
        static const uint8_t mqisdp[] = {0x10, 0x12, 0x00, 0x06, 'M', 'Q', 'I',
                                         's',  'd',  'p',  0x03, 0x02, 0x00,
                                         0x3c, 0x00, 0x04, 'o', 'l', 'd', '!'};
        rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V311);
        rm_send_raw(&c, mqisdp, sizeof(mqisdp));
        rm_expect(&c, IC_MQTT_CONNACK, &ack, 5000);
        ck_assert_int_eq(ack.u.connack.rc, 1);
        ck_assert(rm_expect_close(&c, 5000, NULL, NULL));
        rm_close(&c);
    }
    /* reserved fixed-header flags on UNSUBSCRIBE (AWS 5.13) */
    {
        static const uint8_t bad_unsub[] = {0xA0, 0x05, 0x00, 0x01, 0x00, 0x01, 'x'};
        connect_ok(&c, &h, IC_MQTT_V5, "flags5");
        rm_send_raw(&c, bad_unsub, sizeof(bad_unsub));
        expect_disconnect(&c, 0x81);
    }
    /* QoS 2 flow packets are not supported from clients */
    {
        connect_ok(&c, &h, IC_MQTT_V5, "pubrel5");
        memset(&p, 0, sizeof(p));
        p.type = IC_MQTT_PUBREL;
        p.u.ack.packet_id = 1;
        rm_send(&c, &p);
        expect_disconnect(&c, 0x82);
    }
    /* subscription identifiers: DISCONNECT 0xA1 (AWS 5.1) */
    {
        const char *f = "sid/t";
        uint8_t o = 1;
        connect_ok(&c, &h, IC_MQTT_V5, "subid5");
        memset(&p, 0, sizeof(p));
        p.type = IC_MQTT_SUBSCRIBE;
        p.u.subscribe.packet_id = 1;
        p.u.subscribe.props.present = IC_PROP_BIT(IC_PROP_SUBSCRIPTION_ID);
        p.u.subscribe.props.subscription_id = 5;
        p.u.subscribe.n_total = 1;
        p.u.subscribe.e[0].filter.p = (const uint8_t *)f;
        p.u.subscribe.e[0].filter.len = strlen(f);
        p.u.subscribe.e[0].opts = o;
        rm_send(&c, &p);
        expect_disconnect(&c, 0xA1);
    }
    ich_stop(&h);
}
END_TEST

START_TEST(topic_alias_errors) {
    ich_t h;
    rm_t c, sub;
    ic_packet_t p;
    ic_props_t props;
    const char *f = "al/#";
    uint8_t o = 0;
    ich_start(&h, CONF);
    connect_ok(&sub, &h, IC_MQTT_V311, "al-sub");
    rm_subscribe(&sub, 1, &f, &o, 1);
    rm_expect(&sub, IC_MQTT_SUBACK, &p, 5000);
    connect_ok(&c, &h, IC_MQTT_V5, "al5");
    memset(&props, 0, sizeof(props));
    props.present = IC_PROP_BIT(IC_PROP_TOPIC_ALIAS);
    props.topic_alias = 8;
    rm_publish(&c, "al/one", "first", 0, false, 0, &props);
    rm_publish(&c, "", "second", 0, false, 0, &props);
    rm_expect(&sub, IC_MQTT_PUBLISH, &p, 5000);
    ck_assert(memcmp(p.u.publish.payload.p, "first", 5) == 0);
    rm_expect(&sub, IC_MQTT_PUBLISH, &p, 5000);
    ck_assert_int_eq((int)p.u.publish.topic.len, 6);
    ck_assert(memcmp(p.u.publish.topic.p, "al/one", 6) == 0);
    ck_assert(memcmp(p.u.publish.payload.p, "second", 6) == 0);
    /* alias above Topic Alias Maximum (8): DISCONNECT 0x94 */
    props.topic_alias = 9;
    rm_publish(&c, "al/two", "x", 0, false, 0, &props);
    expect_disconnect(&c, 0x94);
    /* an alias never set: protocol error 0x82 */
    connect_ok(&c, &h, IC_MQTT_V5, "al5b");
    props.topic_alias = 3;
    rm_publish(&c, "", "x", 0, false, 0, &props);
    expect_disconnect(&c, 0x82);
    rm_close(&sub);
    ich_stop(&h);
}
END_TEST

START_TEST(publish_rate_limit) {
    ich_t h;
    rm_t c;
    ic_packet_t p;
    int i, ok = 0, quota = 0;
    ich_start(&h, CONF "publish_rate_limit 10\n");
    connect_ok(&c, &h, IC_MQTT_V5, "rate5");
    for (i = 0; i < 25; i++)
        rm_publish(&c, "rate/t", "x", 1, false, (uint16_t)(i + 1), NULL);
    for (i = 0; i < 25; i++) {
        rm_expect(&c, IC_MQTT_PUBACK, &p, 5000);
        if (p.u.ack.rc == 0)
            ok++;
        else if (p.u.ack.rc == 0x97)
            quota++;
    }
    /* at most 10 per second pass; the burst takes well under a second, but
     * may straddle one window boundary */
    ck_assert_int_le(ok, 20);
    ck_assert_int_ge(quota, 5);
    ck_assert_int_eq(ok + quota, 25);
    rm_close(&c);
    ich_stop(&h);
}
END_TEST

START_TEST(throughput_limit_delays) {
    /* 4 KiB/s: 10 KiB of publishes cannot all be read within a second;
     * they are delayed, not lost. */
    ich_t h;
    rm_t c, sub;
    ic_packet_t p;
    char *payload = big(2000);
    const char *f = "tp/t";
    uint8_t o = 1;
    struct timespec t0, t1;
    int i;
    long ms;
    ich_start(&h, CONF "throughput_limit 4K\n");
    connect_ok(&sub, &h, IC_MQTT_V5, "tp-sub");
    rm_subscribe(&sub, 1, &f, &o, 1);
    rm_expect(&sub, IC_MQTT_SUBACK, &p, 5000);
    connect_ok(&c, &h, IC_MQTT_V5, "tp-pub");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < 5; i++)
        rm_publish(&c, "tp/t", payload, 1, false, (uint16_t)(i + 1), NULL);
    for (i = 0; i < 5; i++) {
        rm_expect(&c, IC_MQTT_PUBACK, &p, 10000);
        ck_assert_int_eq(p.u.ack.rc, 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    ck_assert_msg(ms >= 900, "10 KiB at 4 KiB/s acknowledged in %ld ms", ms);
    for (i = 0; i < 5; i++) {
        rm_expect(&sub, IC_MQTT_PUBLISH, &p, 5000);
        ck_assert_int_eq((int)p.u.publish.payload.len, 2000);
    }
    free(payload);
    rm_close(&c);
    rm_close(&sub);
    ich_stop(&h);
}
END_TEST

START_TEST(max_connections_limit) {
    ich_t h;
    rm_t a, b, c;
    ich_start(&h, CONF "max_connections 2\n");
    connect_ok(&a, &h, IC_MQTT_V5, "mc1");
    connect_ok(&b, &h, IC_MQTT_V5, "mc2");
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V5);
    ck_assert(rm_expect_close(&c, 5000, NULL, NULL)); /* closed at accept */
    rm_close(&c);
    ck_assert(ich_wait_log(&h, "connection refused reason=max_connections limit=2", 1,
                           1000));
    rm_close(&a);
    /* once one leaves, a new one gets in */
    ck_assert(ich_wait_log(&h, "connection closed client_id=mc1", 1, 5000));
    connect_ok(&c, &h, IC_MQTT_V5, "mc3");
    rm_close(&b);
    rm_close(&c);
    ich_stop(&h);
}
END_TEST

START_TEST(connect_rate_limit) {
    ich_t h;
    ich_start(&h, ICH_MQTT_LISTENER); /* default: 1 CONNECT/s per client ID */
    ck_assert_int_eq(connack_rc(&h, IC_MQTT_V5, "fast", true), 0);
    ck_assert_int_eq(connack_rc(&h, IC_MQTT_V5, "fast", true), 0x97);
    ck_assert_int_eq(connack_rc(&h, IC_MQTT_V311, "fast3", true), 0);
    ck_assert_int_eq(connack_rc(&h, IC_MQTT_V311, "fast3", true), 3);
    ck_assert_int_eq(connack_rc(&h, IC_MQTT_V5, "other", true), 0);
    ich_stop(&h);
}
END_TEST

START_TEST(message_expiry_of_queued) {
    ich_t h;
    rm_t c, pub;
    ic_packet_t ack, p;
    ic_props_t props;
    const char *f = "mx/t";
    uint8_t o = 1;
    ich_start(&h, CONF);
    memset(&props, 0, sizeof(props));
    props.present = IC_PROP_BIT(IC_PROP_SESSION_EXPIRY);
    props.session_expiry = 300;
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V5);
    rm_connect(&c, "mx5", false, 60, &props, &ack);
    rm_subscribe(&c, 1, &f, &o, 1);
    rm_expect(&c, IC_MQTT_SUBACK, &p, 5000);
    rm_close(&c);
    connect_ok(&pub, &h, IC_MQTT_V5, "mxp");
    memset(&props, 0, sizeof(props));
    props.present = IC_PROP_BIT(IC_PROP_MESSAGE_EXPIRY);
    props.message_expiry = 1;
    rm_publish(&pub, "mx/t", "short-lived", 1, false, 1, &props);
    rm_expect(&pub, IC_MQTT_PUBACK, &p, 5000);
    props.message_expiry = 600;
    rm_publish(&pub, "mx/t", "long-lived", 1, false, 2, &props);
    rm_expect(&pub, IC_MQTT_PUBACK, &p, 5000);
    /* let the 1 s message expire while the subscriber is away */
    {
        struct timespec ts = {1, 300000000};
        nanosleep(&ts, NULL);
    }
    memset(&props, 0, sizeof(props));
    props.present = IC_PROP_BIT(IC_PROP_SESSION_EXPIRY);
    props.session_expiry = 300;
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V5);
    rm_connect(&c, "mx5", false, 60, &props, &ack);
    ck_assert_int_eq(ack.u.connack.session_present, 1);
    rm_expect(&c, IC_MQTT_PUBLISH, &p, 5000);
    ck_assert(memcmp(p.u.publish.payload.p, "long-lived", 10) == 0);
    /* forwarded with the remaining interval, rounded down */
    ck_assert(p.u.publish.props.present & IC_PROP_BIT(IC_PROP_MESSAGE_EXPIRY));
    ck_assert_uint_le(p.u.publish.props.message_expiry, 599);
    ck_assert_uint_ge(p.u.publish.props.message_expiry, 590);
    rm_close(&c);
    rm_close(&pub);
    ich_stop(&h);
}
END_TEST

/* Random and truncated input from many raw sockets: the broker closes them
 * and goes on serving everyone else. */
START_TEST(garbage_does_not_hurt_others) {
    ich_t h;
    rm_t good, sub;
    ic_packet_t p;
    const char *f = "alive/t";
    uint8_t o = 1;
    unsigned seed = 12345;
    int i;
    ich_start(&h, CONF);
    connect_ok(&sub, &h, IC_MQTT_V5, "survivor");
    rm_subscribe(&sub, 1, &f, &o, 1);
    rm_expect(&sub, IC_MQTT_SUBACK, &p, 5000);
    for (i = 0; i < 300; i++) {
        rm_t c;
        uint8_t buf[512];
        size_t n = (size_t)(rand_r(&seed) % sizeof(buf)) + 1, k;
        rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V5);
        for (k = 0; k < n; k++)
            buf[k] = (uint8_t)rand_r(&seed);
        if (i % 3 == 0) {
            /* a valid CONNECT first, then garbage */
            ic_packet_t ack;
            char id[32];
            snprintf(id, sizeof(id), "fuzz-%d", i);
            rm_connect(&c, id, true, 60, NULL, &ack);
        } else if (i % 3 == 1) {
            /* a truncated CONNECT */
            static const uint8_t part[] = {0x10, 0x20, 0x00, 0x04, 'M', 'Q'};
            memcpy(buf, part, sizeof(part) < n ? sizeof(part) : n);
        }
        rm_send_raw(&c, buf, n);
        rm_close(&c);
    }
    connect_ok(&good, &h, IC_MQTT_V5, "after-fuzz");
    rm_publish(&good, "alive/t", "still here", 1, false, 1, NULL);
    rm_expect(&good, IC_MQTT_PUBACK, &p, 5000);
    rm_expect(&sub, IC_MQTT_PUBLISH, &p, 5000);
    ck_assert(memcmp(p.u.publish.payload.p, "still here", 10) == 0);
    rm_close(&good);
    rm_close(&sub);
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("14_limits_malformed");
    TCase *tc = tcase_create("limits");
    tcase_add_test(tc, oversized_payload);
    tcase_add_test(tc, topic_limits);
    tcase_add_test(tc, filters_per_subscribe_and_per_connection);
    tcase_add_test(tc, qos2);
    tcase_add_test(tc, qos2_subscribe_grant_qos1_directive);
    tcase_add_test(tc, keepalive_clamped);
    tcase_add_test(tc, client_ids);
    tcase_add_test(tc, protocol_errors);
    tcase_add_test(tc, topic_alias_errors);
    tcase_add_test(tc, publish_rate_limit);
    tcase_add_test(tc, connect_rate_limit);
    tcase_add_test(tc, throughput_limit_delays);
    tcase_add_test(tc, max_connections_limit);
    tcase_add_test(tc, message_expiry_of_queued);
    tcase_add_test(tc, garbage_does_not_hurt_others);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
