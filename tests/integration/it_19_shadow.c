/* it_19_shadow.c - the Device Shadow service over MQTT with mosquitto
 * clients: get of a missing shadow (404), update desired -> accepted,
 * documents and delta to every subscriber, reported catching up (no
 * delta), a named shadow, a rejected request, delete and the version
 * continuing, and shadows surviving a restart. (The AWS IoT Device SDK and
 * the HTTPS API come with the rest of issue 8.) */
#include "harness.h"

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

Suite *ic_it_suite(void) {
    Suite *s = suite_create("19_shadow");
    TCase *tc = tcase_create("shadow");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, shadow_over_mqtt);
    suite_add_tcase(s, tc);
    return s;
}
