/* it_19_shadow.c - the Device Shadow service over MQTT with mosquitto
 * clients: get of a missing shadow (404), update desired -> accepted,
 * documents and delta to every subscriber, reported catching up (no
 * delta), a named shadow, a rejected request, delete and the version
 * continuing, and shadows surviving a restart; with persistence_sync full,
 * the 10 in-flight requests limit (429) and acknowledged updates surviving
 * kill -9; a Last Will sent to a shadow topic reaching subscribers but not
 * the shadow service. (The AWS IoT Device SDK: it_20; REST: it_21.) */
#include "harness.h"
#include "rawmqtt.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char port[16];

static void pub(const char *topic, const char *payload) {
    const char *argv[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q",
                          "1", "-t", topic, "-m", payload, "-i", "shadow-pub",
                          NULL};
    ck_assert_int_eq(ich_run(argv, NULL, 10000, NULL), 0);
}

/* Subscribe to the thing's response topics, wait for n messages. */
static void watch(ich_proc_t *p, const ich_t *h, const char *count) {
    const char *argv[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-q",
                          "1", "-t", "$aws/things/lamp/shadow/+/+", "-t",
                          "$aws/things/lamp/shadow/name/+/+/+", "-v", "-C", count,
                          "-W", "10", "-i", "shadow-sub", NULL};
    ich_bg(p, h, argv);
}

START_TEST(shadow_over_mqtt) {
    ich_t h;
    ich_proc_t sub;
    char *out = NULL;
    ich_start(&h, "connect_rate_limit 0\n" ICH_MQTT_LISTENER);
    snprintf(port, sizeof(port), "%d", ich_port(&h, "mqtt"));
    watch(&sub, &h, "9");
    ck_assert(ich_wait_log(&h, "client subscribed client_id=shadow-sub", 2, 5000));
    pub("$aws/things/lamp/shadow/get", "{\"clientToken\":\"g1\"}");
    pub("$aws/things/lamp/shadow/update",
        "{\"state\":{\"desired\":{\"color\":\"red\"}},\"clientToken\":\"u1\"}");
    pub("$aws/things/lamp/shadow/update",
        "{\"state\":{\"reported\":{\"color\":\"red\"}}}");
    pub("$aws/things/lamp/shadow/name/cfg/update", "{\"state\":{\"reported\":{\"x\":1}}}");
    pub("$aws/things/lamp/shadow/update", "not json");
    ck_assert_int_eq(ich_bg_wait(&sub, 15000, &out), 0);
    ck_assert_msg(strstr(out, "$aws/things/lamp/shadow/get/rejected "
                              "{\"code\":404,\"message\":\"No shadow exists with "
                              "name: 'lamp'\",\"clientToken\":\"g1\"}"),
                  "%s", out);
    ck_assert_msg(strstr(out, "$aws/things/lamp/shadow/update/accepted ") &&
                      strstr(out, "\"state\":{\"desired\":{\"color\":\"red\"}}") &&
                      strstr(out, "\"version\":1,") &&
                      strstr(out, "\"clientToken\":\"u1\""),
                  "%s", out);
    ck_assert_msg(strstr(out, "$aws/things/lamp/shadow/update/delta {\"version\":1,") &&
                      strstr(out, "\"state\":{\"color\":\"red\"}"),
                  "%s", out);
    ck_assert_msg(strstr(out, "$aws/things/lamp/shadow/update/documents "
                              "{\"previous\":null,"),
                  "%s", out);
    /* reported caught up: version 2, and no second delta */
    ck_assert_msg(strstr(out, "\"version\":2"), "%s", out);
    ck_assert_msg(strstr(strstr(out, "update/delta") + 1, "update/delta") == NULL,
                  "a delta after reported caught up:\n%s", out);
    ck_assert_msg(strstr(out, "$aws/things/lamp/shadow/name/cfg/update/accepted "),
                  "%s", out);
    ck_assert_msg(strstr(out, "$aws/things/lamp/shadow/update/rejected "
                              "{\"code\":400,\"message\":\"Invalid JSON\""),
                  "%s", out);
    free(out);
    /* the shadow survives a restart; delete keeps the version going */
    ich_terminate(&h);
    ich_spawn(&h);
    snprintf(port, sizeof(port), "%d", ich_port(&h, "mqtt"));
    watch(&sub, &h, "4"); /* the log keeps the first run's two lines */
    ck_assert(ich_wait_log(&h, "client subscribed client_id=shadow-sub", 4, 5000));
    pub("$aws/things/lamp/shadow/get", "");
    pub("$aws/things/lamp/shadow/delete", "");
    pub("$aws/things/lamp/shadow/update", "{\"state\":{\"reported\":{\"on\":true}}}");
    ck_assert_int_eq(ich_bg_wait(&sub, 15000, &out), 0);
    ck_assert_msg(strstr(out, "get/accepted {\"state\":{\"desired\":{\"color\":\"red\"},"
                              "\"reported\":{\"color\":\"red\"}}") &&
                      strstr(out, "delete/accepted {\"version\":2,") &&
                      strstr(out, "\"version\":3"),
                  "%s", out);
    free(out);
    ich_stop(&h);
}
END_TEST


/* Append a QoS 0 PUBLISH (3.1.1) to buf. */
static size_t put_publish(uint8_t *buf, const char *topic, const char *payload) {
    size_t tl = strlen(topic), pl = strlen(payload), rl = 2 + tl + pl, n = 0;
    buf[n++] = 0x30;
    do { /* remaining length varint */
        uint8_t b = rl % 128;
        rl /= 128;
        buf[n++] = (uint8_t)(b | (rl ? 0x80 : 0));
    } while (rl);
    buf[n++] = (uint8_t)(tl >> 8);
    buf[n++] = (uint8_t)tl;
    memcpy(buf + n, topic, tl);
    n += tl;
    memcpy(buf + n, payload, pl);
    return n + pl;
}

static void rm_sub(rm_t *c, const char *filter) {
    ic_packet_t p;
    uint8_t opts = 0;
    rm_subscribe(c, 1, &filter, &opts, 1);
    rm_expect(c, IC_MQTT_SUBACK, &p, 5000);
}

#define ACCEPTED "$aws/things/burst/shadow/update/accepted"

/* persistence_sync full: answers wait for the commit, so 20 updates sent
 * in one write have 10 in flight: the other 10 are refused 429 with their
 * clientToken; then updates acknowledged before a kill -9 are all there. */
START_TEST(durable_inflight_and_kill9) {
    ich_t h;
    rm_t c;
    ic_packet_t p;
    uint8_t buf[8192];
    size_t n = 0;
    int i, accepted = 0, rejected = 0, last_version = 0;
    char *out = NULL;
    ich_start(&h, "connect_rate_limit 0\npersistence_sync full\n" ICH_MQTT_LISTENER);
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&c, "burst", true, 60, NULL, &p);
    rm_sub(&c, "$aws/things/burst/shadow/update/+");
    for (i = 0; i < 20; i++) {
        char payload[128];
        snprintf(payload, sizeof(payload),
                 "{\"state\":{\"reported\":{\"i\":%d}},\"clientToken\":\"t%d\"}", i, i);
        n += put_publish(buf + n, "$aws/things/burst/shadow/update", payload);
    }
    rm_send_raw(&c, buf, n); /* one write: one read on the broker's side */
    while (accepted + rejected < 20) {
        char body[512];
        ck_assert_int_eq(rm_recv(&c, &p, 10000), 0);
        ck_assert_int_eq(p.type, IC_MQTT_PUBLISH);
        snprintf(body, sizeof(body), "%.*s", (int)p.u.publish.payload.len,
                 (const char *)p.u.publish.payload.p);
        if (p.u.publish.topic.len == strlen(ACCEPTED) &&
            memcmp(p.u.publish.topic.p, ACCEPTED, strlen(ACCEPTED)) == 0) {
            char want[64];
            /* in order, and only the first ten */
            snprintf(want, sizeof(want), "\"clientToken\":\"t%d\"}", accepted);
            ck_assert_msg(strstr(body, want), "%s", body);
            accepted++;
        } else if (strstr(body, "\"code\":429")) {
            char want[128];
            snprintf(want, sizeof(want),
                     "\"message\":\"Too Many Requests\",\"timestamp\":");
            ck_assert_msg(strncmp(body, "{\"code\":429,", 12) == 0 &&
                              strstr(body, want) && strstr(body, "\"clientToken\":\"t1"),
                          "%s", body);
            rejected++;
        }
        /* documents: counted by neither */
    }
    ck_assert_int_eq(accepted, 10);
    ck_assert_int_eq(rejected, 10);
    /* each update acknowledged, then the process killed */
    for (i = 0; i < 5; i++) {
        char payload[96];
        snprintf(payload, sizeof(payload), "{\"state\":{\"reported\":{\"k\":%d}}}", i);
        rm_publish(&c, "$aws/things/burst/shadow/update", payload, 0, false, 0, NULL);
        for (;;) {
            ck_assert_int_eq(rm_recv(&c, &p, 10000), 0);
            if (p.u.publish.topic.len == strlen(ACCEPTED) &&
                memcmp(p.u.publish.topic.p, ACCEPTED, strlen(ACCEPTED)) == 0)
                break;
        }
        last_version = 10 + i + 1;
    }
    rm_close(&c);
    ich_kill9(&h);
    ich_spawn(&h);
    snprintf(port, sizeof(port), "%d", ich_port(&h, "mqtt"));
    {
        const char *argv[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t",
                              "$aws/things/burst/shadow/get/accepted", "-C", "1",
                              "-W", "10", "-i", "getter", NULL};
        ich_proc_t sub;
        char want[64];
        ich_bg(&sub, &h, argv);
        ck_assert(ich_wait_log(&h, "client subscribed client_id=getter", 1, 5000));
        pub("$aws/things/burst/shadow/get", "");
        ck_assert_int_eq(ich_bg_wait(&sub, 15000, &out), 0);
        snprintf(want, sizeof(want), "\"version\":%d,", last_version);
        ck_assert_msg(strstr(out, "\"reported\":{\"i\":9,\"k\":4}") && strstr(out, want),
                      "%s", out);
        free(out);
    }
    ich_stop(&h);
}
END_TEST

/* AWS 1.2: a Last Will to a shadow topic reaches subscribers, but the
 * shadow service ignores it. */
START_TEST(will_to_shadow_topic_ignored) {
    ich_t h;
    ich_proc_t sub;
    char *out = NULL;
    ich_start(&h, "connect_rate_limit 0\n" ICH_MQTT_LISTENER);
    snprintf(port, sizeof(port), "%d", ich_port(&h, "mqtt"));
    {
        const char *argv[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t",
                              "$aws/things/willy/shadow/update/#", "-t",
                              "$aws/things/willy/shadow/update", "-t",
                              "$aws/things/willy/shadow/get/+", "-v", "-C", "2",
                              "-W", "10", "-i", "will-watch", NULL};
        ich_bg(&sub, &h, argv);
    }
    ck_assert(ich_wait_log(&h, "client subscribed client_id=will-watch", 1, 5000));
    {
        /* a subscriber stays connected; killing it sends the will */
        const char *argv[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-i",
                              "willy", "-t", "x/y", "--will-topic",
                              "$aws/things/willy/shadow/update", "--will-payload",
                              "{\"state\":{\"reported\":{\"online\":false}}}", NULL};
        ich_proc_t dev;
        ich_bg(&dev, &h, argv);
        ck_assert(ich_wait_log(&h, "client subscribed client_id=willy", 1, 5000));
        ich_bg_kill(&dev, SIGKILL);
        ich_bg_wait(&dev, 5000, NULL);
    }
    ck_assert(ich_wait_log(&h, "connection closed client_id=willy peer=127.0.0.1 "
                               "reason=CONNECTION_LOST", 1, 5000));
    pub("$aws/things/willy/shadow/get", "");
    ck_assert_int_eq(ich_bg_wait(&sub, 15000, &out), 0);
    ck_assert_msg(strstr(out, "$aws/things/willy/shadow/update {\"state\":{\"reported\":"
                              "{\"online\":false}}}\n") &&
                      strstr(out, "$aws/things/willy/shadow/get/rejected "
                                  "{\"code\":404,"),
                  "%s", out);
    ck_assert_ptr_null(strstr(out, "accepted"));
    free(out);
    ich_stop(&h);
}
END_TEST

/* Bad requests over MQTT: each gets its exact rejected document (with the
 * clientToken when one could be read) and nothing is stored, before or
 * after a restart. */
START_TEST(bad_documents_rejected_nothing_stored) {
    static const struct {
        const char *payload;
        const char *want; /* the rejected document up to "timestamp" or its end */
    } cases[] = {
        {"not json", "{\"code\":400,\"message\":\"Invalid JSON\",\"timestamp\":"},
        {"{\"state\":{\"reported\":{\"a\":\"\xff\"}}}",
         "{\"code\":415,\"message\":\"Unsupported documented encoding; supported "
         "encoding is UTF-8\",\"timestamp\":"},
        {"{\"state\":{\"reported\":{\"a\":[1,null]}},\"clientToken\":\"n1\"}",
         "{\"code\":400,\"message\":\"Invalid JSON\",\"timestamp\":"},
        {"{\"state\":{\"reported\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":1}}}}}}}},"
         "\"clientToken\":\"d1\"}",
         "{\"code\":400,\"message\":\"JSON contains too many levels of nesting; "
         "maximum is 6\",\"timestamp\":"},
        {"{\"state\":{\"desired\":\"on\"},\"clientToken\":\"w1\"}",
         "{\"code\":400,\"message\":\"Desired node must be an object\",\"timestamp\":"},
        {"{\"state\":{\"reported\":{\"a\":1}},\"version\":\"1\",\"clientToken\":\"v1\"}",
         "{\"code\":400,\"message\":\"Invalid version\",\"timestamp\":"},
        {"{\"state\":{\"reported\":{\"a\":1}},\"clientToken\":"
         "\"12345678901234567890123456789012345678901234567890123456789012345\"}",
         "{\"code\":400,\"message\":\"Invalid clientToken\",\"timestamp\":"},
        {"{\"clientToken\":\"s1\"}",
         "{\"code\":400,\"message\":\"Missing required node: state\",\"timestamp\":"},
    };
    ich_t h;
    rm_t c;
    ic_packet_t p;
    char big[9100];
    size_t i;
    ich_start(&h, "connect_rate_limit 0\n" ICH_MQTT_LISTENER);
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&c, "bad", true, 60, NULL, &p);
    rm_sub(&c, "$aws/things/bad/shadow/+/rejected");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]) + 1; i++) {
        const char *payload = i < sizeof(cases) / sizeof(cases[0]) ? cases[i].payload : big;
        const char *want = i < sizeof(cases) / sizeof(cases[0])
                               ? cases[i].want
                               : "{\"code\":413,\"message\":\"The payload exceeds the "
                                 "maximum size allowed\",\"timestamp\":";
        char body[512], *tok;
        if (payload == big)
            snprintf(big, sizeof(big), "{\"state\":{\"reported\":{\"x\":\"%09000d\"}},"
                     "\"clientToken\":\"b1\"}", 0);
        rm_publish(&c, "$aws/things/bad/shadow/update", payload, 0, false, 0, NULL);
        ck_assert_int_eq(rm_recv(&c, &p, 5000), 0);
        snprintf(body, sizeof(body), "%.*s", (int)p.u.publish.payload.len,
                 (const char *)p.u.publish.payload.p);
        ck_assert_msg(strncmp(body, want, strlen(want)) == 0, "case %zu: %s", i, body);
        /* the token is echoed when it could be read (a valid one) */
        tok = strstr(payload, "\"clientToken\":\"");
        if (tok && strlen(tok) < 80 && strncmp(want + 8, "400,\"message\":\"Invalid JSON",
                                                 27) != 0) {
            char t[96];
            snprintf(t, sizeof(t), ",\"clientToken\":\"%.2s\"}", tok + 15);
            ck_assert_msg(strstr(body, t), "case %zu: %s", i, body);
        }
    }
    rm_publish(&c, "$aws/things/bad/shadow/get", "{\"clientToken\":\"g\"}", 0, false, 0,
               NULL);
    ck_assert_int_eq(rm_recv(&c, &p, 5000), 0);
    ck_assert_int_eq(strncmp((const char *)p.u.publish.payload.p, "{\"code\":404,", 12), 0);
    rm_close(&c);
    ich_terminate(&h);
    ich_spawn(&h);
    rm_open(&c, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&c, "bad", true, 60, NULL, &p);
    rm_sub(&c, "$aws/things/bad/shadow/get/+");
    rm_publish(&c, "$aws/things/bad/shadow/get", "", 0, false, 0, NULL);
    ck_assert_int_eq(rm_recv(&c, &p, 5000), 0);
    ck_assert_int_eq(strncmp((const char *)p.u.publish.payload.p, "{\"code\":404,", 12), 0);
    rm_close(&c);
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("19_shadow");
    TCase *tc = tcase_create("shadow");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, shadow_over_mqtt);
    tcase_add_test(tc, durable_inflight_and_kill9);
    tcase_add_test(tc, will_to_shadow_topic_ignored);
    tcase_add_test(tc, bad_documents_rejected_nothing_stored);
    suite_add_tcase(s, tc);
    return s;
}
