/* it_20_shadow_sdk.c - the Device Shadow service driven by the real AWS IoT
 * Device SDK v2 for JavaScript (aws-iot-device-sdk-v2 on aws-crt, from
 * tests/sdk, lockfile pinned) over mutual TLS, once with MQTT 3.1.1 and
 * once with MQTT 5: tests/sdk/shadow.js runs get (404), update, delta,
 * documents, a named shadow, a version conflict (409), delete and get again
 * with iotshadow.IotShadowClient, then the request-response client
 * (IotShadowClientv2, wildcard subscriptions, clientToken correlation).
 * Each device is provisioned through the control plane (iotctl) with a
 * thing-scoped shadow policy, as a real fleet would be on AWS, so the SDK's
 * every CONNECT, PUBLISH and SUBSCRIBE is also checked against it. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define ARN "arn:aws:iot:us-east-1:123456789012:"
#define THING "${iot:Connection.Thing.ThingName}"
#define SHADOW "$aws/things/" THING "/shadow"

/* The shape of AWS's documented shadow policy, scoped to the connecting
 * thing: connect as itself; publish requests to its classic and named
 * shadows; subscribe to and receive their answers and events. */
static const char policy_doc[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":["
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
    "\"Resource\":\"" ARN "client/" THING "\"},"
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":["
    "\"" ARN "topic/" SHADOW "/get\","
    "\"" ARN "topic/" SHADOW "/update\","
    "\"" ARN "topic/" SHADOW "/delete\","
    "\"" ARN "topic/" SHADOW "/name/*/get\","
    "\"" ARN "topic/" SHADOW "/name/*/update\","
    "\"" ARN "topic/" SHADOW "/name/*/delete\"]},"
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\","
    "\"Resource\":\"" ARN "topicfilter/" SHADOW "/*\"},"
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Receive\","
    "\"Resource\":\"" ARN "topic/" SHADOW "/*\"}]}";

/* What shadow.js prints when every step passes, in order. */
static const char *const steps[] = {
    "connect",          "subscribe",         "get-missing",
    "update-reported",  "subscribe-delta",   "update-desired-delta",
    "subscribe-documents", "documents",      "named-update",
    "named-get",        "version-conflict",  "get-after-conflict",
    "delete",           "get-deleted",       "no-stray-messages",
    "rr-get-missing",   "rr-delta-stream",   "rr-update",
    "rr-get",           "rr-delete",         "disconnect",
};

static bool under_valgrind(void) {
    const char *vg = getenv("IOTCORED_TEST_VALGRIND");
    return vg && strcmp(vg, "1") == 0;
}

/* A broker with an mTLS listener `mqtt` and the control plane. */
static void start(ich_t *h) {
    ich_init(h);
    ich_write_conf(h, "credentials " AKID " " SECRET "\nconnect_rate_limit 0\n"
                      "listener mqtt\n  bind 127.0.0.1\n  port 0\n  tls mutual\n"
                      "listener control\n  bind 127.0.0.1\n  port 0\n"
                      "  protocol control\n  tls off\n");
    ich_spawn(h);
    ich_aws_env(AKID, SECRET);
}

/* Thing `thing` with an ACTIVE certificate and the shadow policy, its
 * files in h->dir/thing; then shadow.js as that device. */
static void sdk_shadow(const ich_t *h, const char *thing, const char *mqtt_version) {
    char endpoint[64], port[16], dir[256], ca[300], cert[300], key[300];
    char script[512], timeout_s[16], line[96], *out = NULL;
    const char *p;
    size_t i;
    int rc;

    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", ich_port(h, "control"));
    snprintf(port, sizeof(port), "%d", ich_port(h, "mqtt"));
    ich_provision(h, endpoint, thing, "shadow-policy", policy_doc, dir, sizeof(dir));
    snprintf(ca, sizeof(ca), "%s/root-ca.pem", dir);
    snprintf(cert, sizeof(cert), "%s/certificate.pem.crt", dir);
    snprintf(key, sizeof(key), "%s/private.pem.key", dir);
    snprintf(script, sizeof(script), "%s/tests/sdk/shadow.js", IC_SRCDIR);
    /* the script's own deadline stays inside ich_run's (scaled by 5 under
     * valgrind, as this one is) */
    snprintf(timeout_s, sizeof(timeout_s), "%d", under_valgrind() ? 200 : 40);
    {
        /* `localhost`: the name a device verifies the server certificate
         * against (its SANs), as with an AWS endpoint name */
        const char *argv[] = {"node", script, "localhost", port, ca, cert, key,
                              thing, mqtt_version, timeout_s, NULL};
        rc = ich_run(argv, NULL, 60000, &out);
    }
    ck_assert_msg(rc == 0, "shadow.js (MQTT %s) exited %d:\n%s", mqtt_version, rc, out);
    /* every step, in order, and nothing failed */
    p = out;
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        const char *q;
        snprintf(line, sizeof(line), "ok %s\n", steps[i]);
        q = strstr(p, line);
        ck_assert_msg(q && (q == out || q[-1] == '\n'),
                      "shadow.js (MQTT %s) did not print '%s' (in order):\n%s",
                      mqtt_version, steps[i], out);
        p = q + strlen(line);
    }
    ck_assert_msg(strstr(out, "FAIL") == NULL, "shadow.js (MQTT %s):\n%s", mqtt_version,
                  out);
    free(out);
    /* the thing-scoped policy allowed everything the SDK did */
    ck_assert_msg(ich_count_log(h, "authorization denied") == 0,
                  "the SDK was denied something; see %s", h->log);
}

START_TEST(sdk_shadow_mqtt311) {
    ich_t h;
    start(&h);
    sdk_shadow(&h, "sdk-thing-311", "3");
    /* the SDK said goodbye with a DISCONNECT */
    ck_assert(ich_wait_log(&h, "connection closed client_id=sdk-thing-311 peer=127.0.0.1 "
                               "reason=CLIENT_INITIATED_DISCONNECT", 1, 5000));
    ich_stop(&h);
}
END_TEST

START_TEST(sdk_shadow_mqtt5) {
    ich_t h;
    start(&h);
    sdk_shadow(&h, "sdk-thing-5", "5");
    /* the SDK said goodbye with a DISCONNECT */
    ck_assert(ich_wait_log(&h, "connection closed client_id=sdk-thing-5 peer=127.0.0.1 "
                               "reason=CLIENT_INITIATED_DISCONNECT", 1, 5000));
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("20_shadow_sdk");
    TCase *tc = tcase_create("shadow_sdk");
    tcase_set_timeout(tc, under_valgrind() ? 900 : 120);
    tcase_add_test(tc, sdk_shadow_mqtt311);
    tcase_add_test(tc, sdk_shadow_mqtt5);
    suite_add_tcase(s, tc);
    return s;
}
