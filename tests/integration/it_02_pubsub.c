/* it_02_pubsub.c - publish/subscribe with real clients: mosquitto_pub and
 * mosquitto_sub (3.1.1 and 5), paho-mqtt, MQTT.js; AWS topic rules. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char port_s[16];

static const char *port_of(const ich_t *h) {
    snprintf(port_s, sizeof(port_s), "%d", ich_port(h, "mqtt"));
    return port_s;
}

/* mosquitto_pub one message; asserts it succeeded. */
static void mpub(const ich_t *h, const char *ver, const char *topic,
                 const char *msg, const char *qos) {
    const char *argv[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", port_of(h),
                          "-V", ver, "-q", qos, "-t", topic, "-m", msg, NULL};
    char *out = NULL;
    int rc = ich_run(argv, NULL, 10000, &out);
    ck_assert_msg(rc == 0, "mosquitto_pub failed (%d): %s", rc, out);
    free(out);
}

/* Start mosquitto_sub for `count` messages on filter, printing "topic
 * payload" lines, and wait until the broker has the subscription. */
static void msub(ich_t *h, ich_proc_t *p, const char *ver, const char *id,
                 const char *filter, const char *count) {
    char want[256];
    const char *argv[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", port_of(h),
                          "-V", ver, "-i", id, "-q", "1", "-t", filter, "-C",
                          count, "-W", "10", "-F", "%t %p r=%r q=%q", NULL};
    int before;
    snprintf(want, sizeof(want), "client subscribed client_id=%s filter=%s ",
             id, filter);
    before = ich_count_log(h, want);
    ich_bg(p, h, argv);
    ck_assert_msg(ich_wait_log(h, want, before + 1, 10000),
                  "mosquitto_sub %s never subscribed", id);
}

static void expect_sub_output(ich_proc_t *p, const char *want) {
    char *out = NULL;
    int rc = ich_bg_wait(p, 10000, &out);
    ck_assert_msg(rc == 0, "mosquitto_sub exited %d: %s", rc, out);
    ck_assert_str_eq(out, want);
    free(out);
}

START_TEST(mosquitto_qos0_qos1_both_versions) {
    static const char *const versions[] = {"mqttv311", "mqttv5"};
    ich_t h;
    int i;
    ich_start(&h, NULL);
    for (i = 0; i < 2; i++) {
        ich_proc_t sub;
        msub(&h, &sub, versions[i], versions[i], "m/t", "2");
        mpub(&h, versions[i], "m/t", "zero", "0");
        mpub(&h, versions[i], "m/t", "one", "1");
        expect_sub_output(&sub, "m/t zero r=0 q=0\nm/t one r=0 q=1\n");
    }
    ich_stop(&h);
}
END_TEST

START_TEST(hash_does_not_match_parent) {
    /* AWS: sensor/# matches sensor/x but not sensor (MQTT would). */
    ich_t h;
    ich_proc_t sub;
    ich_start(&h, NULL);
    msub(&h, &sub, "mqttv311", "parent", "sensor/#", "2");
    mpub(&h, "mqttv311", "sensor", "parent", "1");
    mpub(&h, "mqttv311", "sensor/", "empty-level", "1");
    mpub(&h, "mqttv311", "sensor/a/b", "child", "1");
    expect_sub_output(&sub, "sensor/ empty-level r=0 q=1\nsensor/a/b child r=0 q=1\n");
    ich_stop(&h);
}
END_TEST

START_TEST(wildcard_never_matches_dollar_topics) {
    ich_t h;
    ich_proc_t all, aws;
    ich_start(&h, NULL);
    msub(&h, &all, "mqttv5", "all", "#", "1");
    msub(&h, &aws, "mqttv5", "aws", "$aws/things/+/x", "1");
    mpub(&h, "mqttv5", "$aws/things/t1/x", "reserved", "1");
    mpub(&h, "mqttv5", "plain", "plain", "1");
    expect_sub_output(&all, "plain plain r=0 q=1\n");
    expect_sub_output(&aws, "$aws/things/t1/x reserved r=0 q=1\n");
    ich_stop(&h);
}
END_TEST

START_TEST(paho_both_versions) {
    ich_t h;
    ich_start(&h, NULL);
    ich_scenario_py(&h, "pubsub311");
    ich_scenario_py(&h, "pubsub5");
    ich_scenario_py(&h, "cross_version");
    ich_scenario_py(&h, "connack_v5");
    ich_stop(&h);
}
END_TEST

START_TEST(mqttjs_both_versions) {
    ich_t h;
    ich_start(&h, NULL);
    ich_scenario_js(&h, "pubsub5");
    ich_scenario_js(&h, "pubsub4");
    ich_stop(&h);
}
END_TEST

START_TEST(mqtt5_properties_forwarded) {
    ich_t h;
    ich_start(&h, NULL);
    ich_scenario_py(&h, "properties");
    ich_stop(&h);
}
END_TEST

START_TEST(shared_subscriptions_round_robin) {
    ich_t h;
    ich_start(&h, NULL);
    ich_scenario_py(&h, "shared");
    ich_stop(&h);
}
END_TEST

START_TEST(topic_aliases_from_client) {
    ich_t h;
    ich_start(&h, NULL);
    ich_scenario_js(&h, "topic_alias");
    ich_scenario_js(&h, "alias_out");
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("02_pubsub");
    TCase *tc = tcase_create("pubsub");
    tcase_add_test(tc, mosquitto_qos0_qos1_both_versions);
    tcase_add_test(tc, hash_does_not_match_parent);
    tcase_add_test(tc, wildcard_never_matches_dollar_topics);
    tcase_add_test(tc, paho_both_versions);
    tcase_add_test(tc, mqttjs_both_versions);
    tcase_add_test(tc, mqtt5_properties_forwarded);
    tcase_add_test(tc, shared_subscriptions_round_robin);
    tcase_add_test(tc, topic_aliases_from_client);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
