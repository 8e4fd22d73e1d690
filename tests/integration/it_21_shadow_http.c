/* it_21_shadow_http.c - the Device Shadow REST API (AWS IoT data plane)
 * on a 443-style listener (`protocol alpn`: SigV4 without ALPN, client
 * certificates with ALPN x-amzn-http-ca) and an 8443-style one (`protocol
 * https`, mutual TLS): boto3's iot-data client, hand-signed requests with
 * both signing names and certificate callers under their policy
 * (py/shadow_http.py), Debian's AWS CLI v2 `aws iot-data` with
 * --endpoint-url and --ca-bundle, curl --cert, and mosquitto_sub watching
 * the MQTT topics a REST update publishes to. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define ARN "arn:aws:iot:us-east-1:123456789012:"

/* dev1 may use its own shadows over MQTT and REST, and nothing else; no
 * iot:DeleteThingShadow. */
static const char policy_doc[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":["
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN
    "client/${iot:Connection.Thing.ThingName}\"},"
    "{\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\",\"iot:Receive\"],"
    "\"Resource\":\"" ARN "topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*\"},"
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":\"" ARN
    "topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*\"},"
    "{\"Effect\":\"Allow\",\"Action\":[\"iot:GetThingShadow\",\"iot:UpdateThingShadow\","
    "\"iot:ListNamedShadowsForThing\"],\"Resource\":\"" ARN "thing/dev1\"},"
    /* HTTPS has no client ID, so no thing variables: a literal name */
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"" ARN
    "topic/$aws/things/dev1/shadow/update\"}]}";

static char dir[256], ca[300], cert[300], key[300], sigv4_url[64], mtls_url[64],
    mqtt_port[16];

static void start(ich_t *h, const char *extra) {
    char body[2048], endpoint[64];
    ich_init(h);
    snprintf(body, sizeof(body),
             "%scredentials " AKID " " SECRET "\nconnect_rate_limit 0\n"
             "listener mqtt\n  bind 127.0.0.1\n  port 0\n  tls mutual\n"
             "listener https\n  bind 127.0.0.1\n  port 0\n  protocol https\n"
             "  tls mutual\n"
             "listener alpn\n  bind 127.0.0.1\n  port 0\n  protocol alpn\n"
             "listener control\n  bind 127.0.0.1\n  port 0\n  protocol control\n"
             "  tls off\n",
             extra ? extra : "");
    ich_write_conf(h, body);
    ich_spawn(h);
    ich_aws_env(AKID, SECRET);
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", ich_port(h, "control"));
    snprintf(sigv4_url, sizeof(sigv4_url), "https://localhost:%d", ich_port(h, "alpn"));
    snprintf(mtls_url, sizeof(mtls_url), "https://localhost:%d", ich_port(h, "https"));
    snprintf(mqtt_port, sizeof(mqtt_port), "%d", ich_port(h, "mqtt"));
    ich_provision(h, endpoint, "dev1", "dev-policy", policy_doc, dir, sizeof(dir));
    snprintf(ca, sizeof(ca), "%s/root-ca.pem", dir);
    snprintf(cert, sizeof(cert), "%s/certificate.pem.crt", dir);
    snprintf(key, sizeof(key), "%s/private.pem.key", dir);
}

START_TEST(boto3_and_signed_requests) {
    ich_t h;
    char *out = NULL;
    int rc;
    start(&h, NULL);
    {
        const char *argv[] = {"python3", IC_SRCDIR "/tests/integration/py/shadow_http.py",
                              sigv4_url, ca, mtls_url, cert, key, "dev1",
                              getenv("IOTCORED_BIN") ? getenv("IOTCORED_BIN")
                                                     : IC_BUILDDIR "/iotcored",
                              NULL};
        rc = ich_run(argv, NULL, 120000, &out);
    }
    ck_assert_msg(rc == 0 && strstr(out, "ok shadow_http "), "shadow_http.py exited %d:\n%s",
                  rc, out);
    free(out);
    /* every refusal explained in the log */
    ck_assert(ich_wait_log(&h, "http denied service=data access_key=" AKID
                               " reason=\"signature mismatch\"", 1, 5000));
    ck_assert(ich_wait_log(&h, "reason=\"signed for service iot\"", 1, 5000));
    ck_assert(ich_wait_log(&h, "reason=\"not signed and no client certificate\"", 1, 5000));
    ck_assert(ich_wait_log(&h, "authorization denied client_id=- principal=", 1, 5000));
    ck_assert(ich_wait_log(&h, "action=iot:GetThingShadow resource=" ARN
                               "thing/rest1 decision=IMPLICIT_DENY", 1, 5000));
    ich_stop(&h);
}
END_TEST

/* Debian's AWS CLI v2 exactly as a user would run it, and curl --cert on
 * the 8443-style listener; mosquitto_sub (as dev1, under its policy) sees
 * what a REST update publishes. */
START_TEST(aws_cli_curl_and_mqtt_watchers) {
    ich_t h;
    ich_proc_t sub;
    char cmd[2048], *out;
    const char *aws = "/usr/bin/aws";
    start(&h, NULL);
    {
        const char *argv[] = {"mosquitto_sub", "-h", "localhost", "-p", mqtt_port,
                              "--cafile", ca, "--cert", cert, "--key", key, "-i",
                              "dev1", "-q", "1", "-t",
                              "$aws/things/dev1/shadow/update/+", "-t",
                              "$aws/things/dev1/shadow/delete/+", "-v", "-C", "4",
                              "-W", "30", NULL};
        ich_bg(&sub, &h, argv);
    }
    ck_assert(ich_wait_log(&h, "client subscribed client_id=dev1", 1, 10000));
    /* update-thing-shadow with desired: accepted + documents + delta on MQTT */
    snprintf(cmd, sizeof(cmd),
             "%s --endpoint-url %s --ca-bundle %s iot-data update-thing-shadow "
             "--thing-name dev1 --cli-binary-format raw-in-base64-out --payload "
             "'{\"state\":{\"desired\":{\"fan\":\"on\"}},\"clientToken\":\"cli-1\"}' "
             "%s/upd.json && cat %s/upd.json",
             aws, sigv4_url, ca, h.dir, h.dir);
    out = ich_sh(cmd, 0, 60000);
    ck_assert_msg(strstr(out, "{\"state\":{\"desired\":{\"fan\":\"on\"}},\"metadata\":"
                              "{\"desired\":{\"fan\":{\"timestamp\":") &&
                      strstr(out, "\"version\":1,") &&
                      strstr(out, "\"clientToken\":\"cli-1\"}"),
                  "%s", out);
    free(out);
    snprintf(cmd, sizeof(cmd),
             "%s --endpoint-url %s --ca-bundle %s iot-data get-thing-shadow "
             "--thing-name dev1 %s/get.json && cat %s/get.json",
             aws, sigv4_url, ca, h.dir, h.dir);
    out = ich_sh(cmd, 0, 60000);
    ck_assert_msg(strstr(out, "\"delta\":{\"fan\":\"on\"}"), "%s", out);
    free(out);
    snprintf(cmd, sizeof(cmd),
             "%s --endpoint-url %s --ca-bundle %s iot-data update-thing-shadow "
             "--thing-name dev1 --shadow-name cfg --cli-binary-format "
             "raw-in-base64-out --payload '{\"state\":{\"reported\":{\"v\":1}}}' "
             "/dev/null && %s --endpoint-url %s --ca-bundle %s iot-data "
             "list-named-shadows-for-thing --thing-name dev1 --output json",
             aws, sigv4_url, ca, aws, sigv4_url, ca);
    out = ich_sh(cmd, 0, 60000);
    ck_assert_msg(strstr(out, "\"results\": [\n        \"cfg\"\n    ]"), "%s", out);
    free(out);
    snprintf(cmd, sizeof(cmd),
             "%s --endpoint-url %s --ca-bundle %s iot-data delete-thing-shadow "
             "--thing-name dev1 %s/del.json && cat %s/del.json",
             aws, sigv4_url, ca, h.dir, h.dir);
    out = ich_sh(cmd, 0, 60000);
    ck_assert_msg(strstr(out, "{\"version\":1,\"timestamp\":"), "%s", out);
    free(out);
    snprintf(cmd, sizeof(cmd),
             "%s --endpoint-url %s --ca-bundle %s iot-data get-thing-shadow "
             "--thing-name dev1 /dev/null 2>&1",
             aws, sigv4_url, ca);
    out = ich_sh(cmd, 254, 60000);
    ck_assert_msg(strstr(out, "An error occurred (ResourceNotFoundException) when "
                              "calling the GetThingShadow operation: No shadow exists "
                              "with name: 'dev1'"),
                  "%s", out);
    free(out);
    ck_assert_int_eq(ich_bg_wait(&sub, 20000, &out), 0);
    ck_assert_msg(strstr(out, "$aws/things/dev1/shadow/update/accepted {\"state\":"
                              "{\"desired\":{\"fan\":\"on\"}}") &&
                      strstr(out, "$aws/things/dev1/shadow/update/documents "
                                  "{\"previous\":null,") &&
                      strstr(out, "$aws/things/dev1/shadow/update/delta {\"version\":1,") &&
                      strstr(out, "$aws/things/dev1/shadow/delete/accepted "
                                  "{\"version\":1,"),
                  "%s", out);
    /* the failed GET published nothing */
    ck_assert_ptr_null(strstr(out, "rejected"));
    free(out);
    /* curl with the device certificate on the 8443-style listener, and on
     * the 443-style one with ALPN x-amzn-http-ca (curl cannot choose ALPN:
     * openssl s_client does) */
    snprintf(cmd, sizeof(cmd),
             "curl -s -w ' %%{http_code}' --cacert %s --cert %s --key %s "
             "%s/things/dev1/shadow -d '{\"state\":{\"reported\":{\"t\":21.5}}}'",
             ca, cert, key, mtls_url);
    out = ich_sh(cmd, 0, 60000);
    ck_assert_msg(strstr(out, "\"state\":{\"reported\":{\"t\":21.5}}") &&
                      strstr(out, "\"version\":2,") && strstr(out, "} 200"),
                  "%s", out);
    free(out);
    snprintf(cmd, sizeof(cmd),
             "printf 'GET /things/dev1/shadow HTTP/1.1\\r\\nHost: localhost\\r\\n"
             "Connection: close\\r\\n\\r\\n' | openssl s_client -quiet -connect "
             "127.0.0.1:%s -servername localhost -alpn x-amzn-http-ca -CAfile %s "
             "-cert %s -key %s 2>/dev/null; true",
             strrchr(sigv4_url, ':') + 1, ca, cert, key);
    out = ich_sh(cmd, 0, 60000);
    ck_assert_msg(strstr(out, "HTTP/1.1 200 OK") &&
                      strstr(out, "\"reported\":{\"t\":21.5}"),
                  "%s", out);
    free(out);
    /* HTTP Publish into the shadow's request topic, by the AWS CLI (SigV4)
     * and by curl with the device certificate (its policy allows it): the
     * shadow service answers both on MQTT */
    {
        const char *argv[] = {"mosquitto_sub", "-h", "localhost", "-p", mqtt_port,
                              "--cafile", ca, "--cert", cert, "--key", key, "-i",
                              "dev1", "-q", "1", "-t",
                              "$aws/things/dev1/shadow/update/accepted", "-C", "2",
                              "-W", "30", NULL};
        ich_bg(&sub, &h, argv);
    }
    ck_assert(ich_wait_log(&h, "client subscribed client_id=dev1", 2, 10000));
    snprintf(cmd, sizeof(cmd),
             "%s --endpoint-url %s --ca-bundle %s iot-data publish --topic "
             "'$aws/things/dev1/shadow/update' --qos 1 --cli-binary-format "
             "raw-in-base64-out --payload '{\"state\":{\"reported\":{\"via\":"
             "\"cli\"}}}' && curl -s -w ' %%{http_code}' --cacert %s --cert %s "
             "--key %s '%s/topics/$aws/things/dev1/shadow/update?qos=1' -d "
             "'{\"state\":{\"reported\":{\"via\":\"curl\"}}}'",
             aws, sigv4_url, ca, ca, cert, key, mtls_url);
    out = ich_sh(cmd, 0, 60000);
    ck_assert_msg(strstr(out, "{\"message\":\"OK\",\"traceId\":\"") &&
                      strstr(out, "} 200"),
                  "%s", out);
    free(out);
    ck_assert_int_eq(ich_bg_wait(&sub, 20000, &out), 0);
    ck_assert_msg(strstr(out, "{\"state\":{\"reported\":{\"via\":\"cli\"}}") &&
                      strstr(out, "{\"state\":{\"reported\":{\"via\":\"curl\"}}"),
                  "%s", out);
    free(out);
    /* what happened shows in the Prometheus metrics (control listener) */
    snprintf(cmd, sizeof(cmd), "curl -s http://127.0.0.1:%d/metrics",
             ich_port(&h, "control"));
    out = ich_sh(cmd, 0, 60000);
    ck_assert_msg(strstr(out, "# TYPE iotcored_shadow_requests_total counter\n") &&
                      strstr(out, "iotcored_shadow_requests_total{operation=\"get\","
                                  "result=\"rejected\"} 1\n") &&
                      strstr(out, "iotcored_shadow_requests_total{operation=\"delete\","
                                  "result=\"accepted\"} 1\n") &&
                      strstr(out, "iotcored_connections{listener=\"control\","
                                  "protocol=\"http\"} 1\n") &&
                      strstr(out, "iotcored_messages_sent_total{qos=\"1\"} ") &&
                      !strstr(out, "iotcored_messages_sent_total{qos=\"1\"} 0\n") &&
                      strstr(out, "iotcored_store_commits_total "),
                  "%.3000s", out);
    free(out);
    /* ... and in iotctl status */
    snprintf(cmd, sizeof(cmd), IC_BUILDDIR "/iotctl --endpoint http://127.0.0.1:%d status",
             ich_port(&h, "control"));
    out = ich_sh(cmd, 0, 60000);
    ck_assert_msg(strstr(out, "\nshadow get      accepted ") &&
                      strstr(out, ", rejected 1\nshadow update") &&
                      strstr(out, "\nshadow delete   accepted 1, rejected 0\n") &&
                      strstr(out, "\nmessages out    qos0 ") &&
                      !strstr(out, "\nmessages out    qos0 0, qos1 0\n") &&
                      strstr(out, "\ndropped         policy ") &&
                      strstr(out, "\nstore           queue ") &&
                      strstr(out, "\nlistener        control port ") &&
                      strstr(out, " connection"),
                  "%.3000s", out);
    free(out);
    ich_stop(&h);
}
END_TEST

/* persistence_sync full: a REST update is answered after its commit (the
 * deferred path), pipelined requests behind it keep their order. */
START_TEST(durable_rest_pipelined) {
    ich_t h;
    char cmd[2048], *out;
    start(&h, "persistence_sync full\n");
    snprintf(cmd, sizeof(cmd),
             "(printf 'POST /things/dev1/shadow HTTP/1.1\\r\\nHost: localhost\\r\\n"
             "Content-Length: 30\\r\\n\\r\\n{\"state\":{\"reported\":{\"n\":1}}}"
             "POST /things/dev1/shadow HTTP/1.1\\r\\nHost: localhost\\r\\n"
             "Content-Length: 30\\r\\n\\r\\n{\"state\":{\"reported\":{\"n\":2}}}"
             "GET /things/dev1/shadow HTTP/1.1\\r\\nHost: localhost\\r\\n"
             "Connection: close\\r\\n\\r\\n') | openssl s_client -quiet "
             "-connect 127.0.0.1:%s -servername localhost -CAfile %s -cert %s "
             "-key %s 2>/dev/null; true",
             strrchr(mtls_url, ':') + 1, ca, cert, key);
    out = ich_sh(cmd, 0, 60000);
    {
        const char *a = strstr(out, "\"reported\":{\"n\":1}}");
        const char *b = a ? strstr(a, "\"reported\":{\"n\":2}}") : NULL;
        const char *c = b ? strstr(b, "\"reported\":{\"n\":2}},\"metadata\"") : NULL;
        ck_assert_msg(a && b && c && strstr(c, "\"version\":2"), "%s", out);
    }
    free(out);
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("21_shadow_http");
    TCase *tc = tcase_create("shadow_http");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, boto3_and_signed_requests);
    tcase_add_test(tc, aws_cli_curl_and_mqtt_watchers);
    tcase_add_test(tc, durable_rest_pipelined);
    suite_add_tcase(s, tc);
    return s;
}
