/* it_06_will.c - Last Will and Testament: sent on every disconnect that is
 * not a client DISCONNECT (network drop, keep-alive timeout, takeover),
 * kept back by a normal DISCONNECT, sent for MQTT 5 DISCONNECT 0x04, and
 * delayed by the MQTT 5 Will Delay Interval. */
#include "harness.h"
#include "rawmqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF ICH_MQTT_LISTENER "connect_rate_limit 0\nkeepalive_min 1\n"

static void connect_with_will(rm_t *c, const ich_t *h, uint8_t version,
                              const char *id, uint16_t keepalive,
                              uint32_t will_delay, uint32_t expiry) {
    ic_packet_t p, ack;
    rm_open(c, ich_port(h, "mqtt"), version);
    memset(&p, 0, sizeof(p));
    p.type = IC_MQTT_CONNECT;
    p.u.connect.version = version;
    p.u.connect.clean_start = expiry == 0;
    p.u.connect.keep_alive = keepalive;
    p.u.connect.client_id.p = (const uint8_t *)id;
    p.u.connect.client_id.len = strlen(id);
    p.u.connect.has_will = true;
    p.u.connect.will.topic.p = (const uint8_t *)"will/t";
    p.u.connect.will.topic.len = 6;
    p.u.connect.will.payload.p = (const uint8_t *)id;
    p.u.connect.will.payload.len = strlen(id);
    p.u.connect.will.qos = 1;
    if (will_delay) {
        p.u.connect.will.props.present = IC_PROP_BIT(IC_PROP_WILL_DELAY);
        p.u.connect.will.props.will_delay = will_delay;
    }
    if (expiry) {
        p.u.connect.props.present = IC_PROP_BIT(IC_PROP_SESSION_EXPIRY);
        p.u.connect.props.session_expiry = expiry;
    }
    rm_send(c, &p);
    rm_expect(c, IC_MQTT_CONNACK, &ack, 5000);
    ck_assert_int_eq(ack.u.connack.rc, 0);
}

static void watcher(rm_t *w, const ich_t *h) {
    ic_packet_t p;
    const char *f = "will/t";
    uint8_t opts = 1;
    rm_open(w, ich_port(h, "mqtt"), IC_MQTT_V311);
    rm_connect(w, "watcher", true, 60, NULL, &p);
    rm_subscribe(w, 1, &f, &opts, 1);
    rm_expect(w, IC_MQTT_SUBACK, &p, 5000);
}

/* The next message on the watcher is the will of `id`. */
static void expect_will(rm_t *w, const char *id, int timeout_ms) {
    ic_packet_t p;
    rm_expect(w, IC_MQTT_PUBLISH, &p, timeout_ms);
    ck_assert_int_eq((int)p.u.publish.payload.len, (int)strlen(id));
    ck_assert(memcmp(p.u.publish.payload.p, id, strlen(id)) == 0);
    if (p.u.publish.qos)
        rm_puback(w, p.u.publish.packet_id);
}

static void sentinel(const ich_t *h) {
    rm_t c;
    ic_packet_t p;
    rm_open(&c, ich_port(h, "mqtt"), IC_MQTT_V311);
    rm_connect(&c, "sentinel", true, 60, NULL, &p);
    rm_publish(&c, "will/t", "sentinel", 1, false, 1, NULL);
    rm_expect(&c, IC_MQTT_PUBACK, &p, 5000);
    rm_close(&c);
}

static void send_disconnect(rm_t *c, uint8_t rc) {
    rm_disconnect(c, rc);
}

START_TEST(network_drop_sends_will) {
    ich_t h;
    rm_t w, c;
    ich_start(&h, CONF);
    watcher(&w, &h);
    connect_with_will(&c, &h, IC_MQTT_V311, "drop-3", 60, 0, 0);
    rm_close(&c);
    expect_will(&w, "drop-3", 5000);
    connect_with_will(&c, &h, IC_MQTT_V5, "drop-5", 60, 0, 0);
    rm_close(&c);
    expect_will(&w, "drop-5", 5000);
    rm_close(&w);
    ich_stop(&h);
}
END_TEST

START_TEST(normal_disconnect_keeps_will_back) {
    ich_t h;
    rm_t w, c;
    ich_start(&h, CONF);
    watcher(&w, &h);
    connect_with_will(&c, &h, IC_MQTT_V311, "clean-3", 60, 0, 0);
    send_disconnect(&c, 0);
    connect_with_will(&c, &h, IC_MQTT_V5, "clean-5", 60, 0, 0);
    send_disconnect(&c, 0);
    sentinel(&h);
    expect_will(&w, "sentinel", 5000); /* no will came before it */
    /* MQTT 5 "Disconnect with Will Message" (0x04) sends it */
    connect_with_will(&c, &h, IC_MQTT_V5, "with-will-5", 60, 0, 0);
    send_disconnect(&c, 0x04);
    expect_will(&w, "with-will-5", 5000);
    rm_close(&w);
    ich_stop(&h);
}
END_TEST

START_TEST(keepalive_timeout_sends_will) {
    ich_t h;
    rm_t w, c;
    uint8_t type = 0, rc = 0;
    ich_start(&h, CONF);
    watcher(&w, &h);
    /* keep-alive 1 s (keepalive_min 1): silent for 1.5 s -> 0x8D */
    connect_with_will(&c, &h, IC_MQTT_V5, "silent-5", 1, 0, 0);
    ck_assert(rm_expect_close(&c, 5000, &type, &rc));
    ck_assert_int_eq(type, IC_MQTT_DISCONNECT);
    ck_assert_int_eq(rc, 0x8D);
    rm_close(&c);
    expect_will(&w, "silent-5", 5000);
    rm_close(&w);
    ich_stop(&h);
}
END_TEST

START_TEST(will_delay) {
    ich_t h;
    rm_t w, c;
    ich_start(&h, CONF);
    watcher(&w, &h);
    /* reconnecting within the delay cancels the will */
    connect_with_will(&c, &h, IC_MQTT_V5, "delay-5", 60, 2, 60);
    rm_close(&c);
    connect_with_will(&c, &h, IC_MQTT_V5, "delay-5", 60, 2, 60);
    send_disconnect(&c, 0);
    sentinel(&h);
    expect_will(&w, "sentinel", 5000);
    /* otherwise it is published once the delay has passed */
    connect_with_will(&c, &h, IC_MQTT_V5, "delay-5b", 60, 1, 60);
    rm_close(&c);
    expect_will(&w, "delay-5b", 5000);
    rm_close(&w);
    ich_stop(&h);
}
END_TEST

START_TEST(takeover_paho) {
    ich_t h;
    ich_start(&h, CONF);
    ich_scenario_py(&h, "takeover");
    ich_stop(&h);
}
END_TEST

START_TEST(takeover_raw_v311) {
    ich_t h;
    rm_t w, a, b;
    ic_packet_t ack;
    ich_start(&h, CONF);
    watcher(&w, &h);
    connect_with_will(&a, &h, IC_MQTT_V311, "same-id", 60, 0, 0);
    rm_open(&b, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&b, "same-id", true, 60, NULL, &ack);
    ck_assert_int_eq(ack.u.connack.rc, 0);
    /* the old connection is closed (3.1.1 has no server DISCONNECT) */
    ck_assert(rm_expect_close(&a, 5000, NULL, NULL));
    expect_will(&w, "same-id", 5000);
    rm_close(&a);
    rm_close(&b);
    rm_close(&w);
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("06_will");
    TCase *tc = tcase_create("will");
    tcase_add_test(tc, network_drop_sends_will);
    tcase_add_test(tc, normal_disconnect_keeps_will_back);
    tcase_add_test(tc, keepalive_timeout_sends_will);
    tcase_add_test(tc, will_delay);
    tcase_add_test(tc, takeover_paho);
    tcase_add_test(tc, takeover_raw_v311);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
