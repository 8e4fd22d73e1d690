/* it_04_retain.c - retained messages, AWS rules: delivered on subscribe only
 * to the exact topic, RETAIN=1 then and RETAIN=0 on live forwards, empty
 * payload deletes, refused on reserved topics, kept across restarts. */
#include "harness.h"
#include "rawmqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void pub_retained(rm_t *c, const char *topic, const char *payload,
                         uint16_t pid) {
    ic_packet_t p;
    rm_publish(c, topic, payload, 1, true, pid, NULL);
    rm_expect(c, IC_MQTT_PUBACK, &p, 5000);
    ck_assert_int_eq(p.u.ack.packet_id, pid);
}

static void subscribe1(rm_t *c, const char *filter, uint8_t opts) {
    ic_packet_t p;
    rm_subscribe(c, 1, &filter, &opts, 1);
    rm_expect(c, IC_MQTT_SUBACK, &p, 5000);
    ck_assert_int_eq((int)p.u.suback.rcs.len, 1);
    ck_assert_int_eq(p.u.suback.rcs.p[0], IC_SUBOPT_QOS(opts));
}

static void expect_publish(rm_t *c, const char *topic, const char *payload,
                           bool retain) {
    ic_packet_t p;
    rm_expect(c, IC_MQTT_PUBLISH, &p, 5000);
    ck_assert_int_eq((int)p.u.publish.topic.len, (int)strlen(topic));
    ck_assert(memcmp(p.u.publish.topic.p, topic, strlen(topic)) == 0);
    ck_assert_int_eq((int)p.u.publish.payload.len, (int)strlen(payload));
    ck_assert(memcmp(p.u.publish.payload.p, payload, strlen(payload)) == 0);
    ck_assert_int_eq(p.u.publish.retain, retain);
    if (p.u.publish.qos == 1)
        rm_puback(c, p.u.publish.packet_id);
}

START_TEST(exact_filter_only_and_flags) {
    ich_t h;
    rm_t pub, exact, wild, live;
    ic_packet_t ack;
    ich_start(&h, NULL);
    rm_open(&pub, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&pub, "r-pub", true, 60, NULL, &ack);
    pub_retained(&pub, "r/t", "kept", 1);

    /* exact filter: gets the stored copy with RETAIN=1 */
    rm_open(&exact, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&exact, "r-exact", true, 60, NULL, &ack);
    subscribe1(&exact, "r/t", 1);
    expect_publish(&exact, "r/t", "kept", true);

    /* wildcard filter: nothing on subscribe, then live traffic only */
    rm_open(&wild, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&wild, "r-wild", true, 60, NULL, &ack);
    subscribe1(&wild, "r/+", 1);
    pub_retained(&pub, "r/t", "second", 2);
    /* live forwards carry RETAIN=0 for both */
    expect_publish(&wild, "r/t", "second", false);
    expect_publish(&exact, "r/t", "second", false);

    /* a new exact subscriber now sees the replacement */
    rm_open(&live, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&live, "r-live", true, 60, NULL, &ack);
    subscribe1(&live, "r/t", 1);
    expect_publish(&live, "r/t", "second", true);

    /* an empty payload deletes it, and is still forwarded live */
    pub_retained(&pub, "r/t", "", 3);
    expect_publish(&live, "r/t", "", false);
    rm_close(&live);
    rm_open(&live, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&live, "r-live2", true, 60, NULL, &ack);
    subscribe1(&live, "r/t", 1);
    rm_publish(&pub, "r/t", "sentinel", 0, false, 0, NULL);
    expect_publish(&live, "r/t", "sentinel", false);

    rm_close(&pub);
    rm_close(&exact);
    rm_close(&wild);
    rm_close(&live);
    ich_stop(&h);
}
END_TEST

START_TEST(retained_survive_restart) {
    ich_t h;
    rm_t c;
    ic_packet_t ack;
    ich_start(&h, NULL);
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V5);
    rm_connect(&c, "r-keep", true, 60, NULL, &ack);
    pub_retained(&c, "keep/me", "across-restarts", 7);
    rm_close(&c);
    ich_terminate(&h);
    ich_spawn(&h);
    ck_assert(ich_wait_log(&h, "mqtt ready profile=aws retained=1 ", 1, 5000));
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V5);
    rm_connect(&c, "r-keep2", true, 60, NULL, &ack);
    subscribe1(&c, "keep/me", 1);
    expect_publish(&c, "keep/me", "across-restarts", true);
    rm_close(&c);
    ich_stop(&h);
}
END_TEST

START_TEST(retain_on_reserved_topic_refused) {
    ich_t h;
    rm_t c;
    ic_packet_t p;
    uint8_t type = 0, rc = 0;
    ich_start(&h, NULL);
    /* MQTT 5 QoS 1: PUBACK 0x90 Topic Name invalid, connection stays */
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V5);
    rm_connect(&c, "r-res5", true, 60, NULL, &p);
    rm_publish(&c, "$aws/things/x/shadow/update", "{}", 1, true, 9, NULL);
    rm_expect(&c, IC_MQTT_PUBACK, &p, 5000);
    ck_assert_int_eq(p.u.ack.packet_id, 9);
    ck_assert_int_eq(p.u.ack.rc, 0x90);
    rm_publish(&c, "fine", "x", 1, false, 10, NULL);
    rm_expect(&c, IC_MQTT_PUBACK, &p, 5000);
    ck_assert_int_eq(p.u.ack.rc, 0);
    /* MQTT 5 QoS 0: DISCONNECT 0x90 */
    rm_publish(&c, "$aws/x", "{}", 0, true, 0, NULL);
    ck_assert(rm_expect_close(&c, 5000, &type, &rc));
    ck_assert_int_eq(type, IC_MQTT_DISCONNECT);
    ck_assert_int_eq(rc, 0x90);
    rm_close(&c);
    /* MQTT 3.1.1: the connection is closed */
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&c, "r-res3", true, 60, NULL, &p);
    rm_publish(&c, "$aws/x", "{}", 1, true, 1, NULL);
    type = 0;
    ck_assert(rm_expect_close(&c, 5000, &type, NULL));
    ck_assert_int_eq(type, 0); /* no PUBACK first */
    rm_close(&c);
    ich_stop(&h);
}
END_TEST

START_TEST(retained_quota) {
    ich_t h;
    rm_t c;
    ic_packet_t p;
    static const struct {
        const char *topic, *payload;
        uint8_t rc;
    } steps[] = {
        {"q/1", "a", 0x00},  {"q/2", "b", 0x00},
        {"q/3", "c", 0x97},  /* at max_retained_messages 2: throttled */
        {"q/1", "a2", 0x00}, /* replacing still works */
        {"q/2", "", 0x00},   /* deleting too */
        {"q/3", "c", 0x00},  /* and frees a slot */
    };
    size_t i;
    ich_start(&h, ICH_MQTT_LISTENER "max_retained_messages 2\n");
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V5);
    rm_connect(&c, "rq", true, 60, NULL, &p);
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        rm_publish(&c, steps[i].topic, steps[i].payload, 1, true, (uint16_t)(i + 1),
                   NULL);
        rm_expect(&c, IC_MQTT_PUBACK, &p, 5000);
        ck_assert_msg(p.u.ack.rc == steps[i].rc, "step %zu: rc 0x%02x", i,
                      p.u.ack.rc);
    }
    ck_assert(ich_wait_log(&h, "reason=\"max_retained_messages reached\"", 1, 1000));
    rm_close(&c);
    ich_stop(&h);
}
END_TEST

START_TEST(mqttjs_retain) {
    ich_t h;
    ich_start(&h, NULL);
    ich_scenario_js(&h, "retain");
    ich_stop(&h);
}
END_TEST

START_TEST(mosquitto_retained_flag) {
    ich_t h;
    char port[16], *out = NULL;
    int rc;
    ich_start(&h, NULL);
    snprintf(port, sizeof(port), "%d", ich_port(&h, "mqtt"));
    {
        const char *argv[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", port,
                              "-q", "1", "-r", "-t", "mr/t", "-m", "stored",
                              NULL};
        ck_assert_int_eq(ich_run(argv, NULL, 10000, NULL), 0);
    }
    {
        /* --retained-only: exits at the first non-retained message */
        const char *argv[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", port,
                              "-V", "mqttv5", "-t", "mr/t", "-C", "1", "-W",
                              "10", "-F", "%t %p r=%r", NULL};
        rc = ich_run(argv, NULL, 15000, &out);
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(out, "mr/t stored r=1\n");
        free(out);
    }
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("04_retain");
    TCase *tc = tcase_create("retain");
    tcase_add_test(tc, exact_filter_only_and_flags);
    tcase_add_test(tc, retained_survive_restart);
    tcase_add_test(tc, retain_on_reserved_topic_refused);
    tcase_add_test(tc, mqttjs_retain);
    tcase_add_test(tc, retained_quota);
    tcase_add_test(tc, mosquitto_retained_flag);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
