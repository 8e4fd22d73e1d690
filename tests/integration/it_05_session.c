/* it_05_session.c - persistent sessions: MQTT 3.1.1 clean session 0, MQTT 5
 * Clean Start + Session Expiry; queued QoS 1 (not QoS 0) while offline,
 * redelivery of unacknowledged messages with DUP, across a disconnect and
 * across a daemon restart; no crossing of protocol versions. */
#include "harness.h"
#include "rawmqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF ICH_MQTT_LISTENER "connect_rate_limit 0\n"

static void sub1(rm_t *c, const char *filter) {
    ic_packet_t p;
    uint8_t opts = 1;
    rm_subscribe(c, 1, &filter, &opts, 1);
    rm_expect(c, IC_MQTT_SUBACK, &p, 5000);
    ck_assert_int_eq(p.u.suback.rcs.p[0], 1);
}

static void send_disconnect(rm_t *c) {
    rm_disconnect(c, 0);
}

static void publish_as(const ich_t *h, const char *topic, const char *payload,
                       uint8_t qos) {
    rm_t c;
    ic_packet_t p;
    rm_open(&c, ich_port(h, "mqtt"), IC_MQTT_V311);
    rm_connect(&c, "s-pub", true, 60, NULL, &p);
    rm_publish(&c, topic, payload, qos, false, qos ? 1 : 0, NULL);
    if (qos)
        rm_expect(&c, IC_MQTT_PUBACK, &p, 5000);
    send_disconnect(&c);
}

static void expect_pub(rm_t *c, const char *payload, bool dup, bool ack) {
    ic_packet_t p;
    rm_expect(c, IC_MQTT_PUBLISH, &p, 5000);
    ck_assert_int_eq((int)p.u.publish.payload.len, (int)strlen(payload));
    ck_assert(memcmp(p.u.publish.payload.p, payload, strlen(payload)) == 0);
    ck_assert_int_eq(p.u.publish.dup, dup);
    if (ack)
        rm_puback(c, p.u.publish.packet_id);
}

/* Nothing more arrives: a PINGREQ round trip comes back first. */
static void expect_nothing_more(rm_t *c) {
    rm_ping(c);
}

static void offline_queue(bool restart) {
    ich_t h;
    rm_t c;
    ic_packet_t ack;
    ich_start(&h, CONF);
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&c, "persist-3", false, 60, NULL, &ack);
    ck_assert_int_eq(ack.u.connack.session_present, 0);
    sub1(&c, "ps/t");
    send_disconnect(&c);

    publish_as(&h, "ps/t", "q1-a", 1);
    publish_as(&h, "ps/t", "q0-b", 0); /* QoS 0: not queued offline */
    publish_as(&h, "ps/t", "q1-c", 1);
    if (restart) {
        ich_terminate(&h);
        ich_spawn(&h);
    }
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&c, "persist-3", false, 60, NULL, &ack);
    ck_assert_int_eq(ack.u.connack.rc, 0);
    ck_assert_int_eq(ack.u.connack.session_present, 1);
    /* no SUBSCRIBE needed: the subscription is part of the session */
    expect_pub(&c, "q1-a", false, true);
    expect_pub(&c, "q1-c", false, true);
    expect_nothing_more(&c);
    publish_as(&h, "ps/t", "live", 1);
    expect_pub(&c, "live", false, true);
    send_disconnect(&c);

    /* clean session 1 discards it */
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&c, "persist-3", true, 60, NULL, &ack);
    ck_assert_int_eq(ack.u.connack.session_present, 0);
    send_disconnect(&c);
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&c, "persist-3", false, 60, NULL, &ack);
    ck_assert_int_eq(ack.u.connack.session_present, 0);
    send_disconnect(&c);
    ich_stop(&h);
}

START_TEST(queue_across_disconnect) {
    offline_queue(false);
}
END_TEST

START_TEST(queue_across_restart) {
    offline_queue(true);
}
END_TEST

START_TEST(unacked_redelivered_with_dup) {
    ich_t h;
    rm_t c;
    ic_packet_t ack;
    ich_start(&h, CONF);
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&c, "dup-3", false, 60, NULL, &ack);
    sub1(&c, "dup/t");
    publish_as(&h, "dup/t", "unacked", 1);
    expect_pub(&c, "unacked", false, false); /* no PUBACK */
    rm_close(&c);                             /* network drop */
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&c, "dup-3", false, 60, NULL, &ack);
    ck_assert_int_eq(ack.u.connack.session_present, 1);
    expect_pub(&c, "unacked", true, true);    /* [MQTT-4.4.0-1] DUP=1 */
    expect_nothing_more(&c);
    send_disconnect(&c);
    ich_stop(&h);
}
END_TEST

START_TEST(mqtt5_session_expiry) {
    ich_t h;
    rm_t c;
    ic_packet_t ack;
    ic_props_t props;
    ich_start(&h, CONF);
    /* expiry 0: the session ends with the connection */
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V5);
    rm_connect(&c, "exp-5", false, 60, NULL, &ack);
    ck_assert_int_eq(ack.u.connack.session_present, 0);
    sub1(&c, "e/t");
    send_disconnect(&c);
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V5);
    rm_connect(&c, "exp-5", false, 60, NULL, &ack);
    ck_assert_int_eq(ack.u.connack.session_present, 0);
    send_disconnect(&c);
    /* a huge expiry is capped at 7 days and the capped value returned */
    memset(&props, 0, sizeof(props));
    props.present = IC_PROP_BIT(IC_PROP_SESSION_EXPIRY);
    props.session_expiry = 0xFFFFFFFFu;
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V5);
    rm_connect(&c, "exp-5", false, 60, &props, &ack);
    ck_assert(ack.u.connack.props.present & IC_PROP_BIT(IC_PROP_SESSION_EXPIRY));
    ck_assert_uint_eq(ack.u.connack.props.session_expiry, 604800);
    sub1(&c, "e/t");
    send_disconnect(&c);
    publish_as(&h, "e/t", "waiting", 1);
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V5);
    props.session_expiry = 60;
    rm_connect(&c, "exp-5", false, 60, &props, &ack);
    ck_assert_int_eq(ack.u.connack.session_present, 1);
    ck_assert(!(ack.u.connack.props.present & IC_PROP_BIT(IC_PROP_SESSION_EXPIRY)));
    expect_pub(&c, "waiting", false, true);
    send_disconnect(&c);
    /* sessions do not cross protocol versions (AWS 5.1) */
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&c, "exp-5", false, 60, NULL, &ack);
    ck_assert_int_eq(ack.u.connack.session_present, 0);
    send_disconnect(&c);
    ich_stop(&h);
}
END_TEST

START_TEST(mosquitto_persistent_session) {
    ich_t h;
    char port[16], *out = NULL;
    ich_proc_t sub;
    ich_start(&h, CONF);
    snprintf(port, sizeof(port), "%d", ich_port(&h, "mqtt"));
    {
        const char *argv[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", port,
                              "-c", "-i", "mosq-persist", "-q", "1", "-t",
                              "mp/t", "-C", "1", "-W", "10", NULL};
        ich_bg(&sub, &h, argv);
        ck_assert(ich_wait_log(&h, "client subscribed client_id=mosq-persist", 1,
                               10000));
        publish_as(&h, "mp/t", "online", 1);
        ck_assert_int_eq(ich_bg_wait(&sub, 10000, &out), 0);
        ck_assert_str_eq(out, "online\n");
        free(out);
    }
    publish_as(&h, "mp/t", "while-offline", 1);
    {
        const char *argv[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", port,
                              "-c", "-i", "mosq-persist", "-q", "1", "-t",
                              "mp/t", "-C", "1", "-W", "10", NULL};
        ck_assert_int_eq(ich_run(argv, NULL, 15000, &out), 0);
        ck_assert_str_eq(out, "while-offline\n");
        free(out);
    }
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("05_session");
    TCase *tc = tcase_create("session");
    tcase_add_test(tc, queue_across_disconnect);
    tcase_add_test(tc, queue_across_restart);
    tcase_add_test(tc, unacked_redelivered_with_dup);
    tcase_add_test(tc, mqtt5_session_expiry);
    tcase_add_test(tc, mosquitto_persistent_session);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
