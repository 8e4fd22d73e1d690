/* it_27_custom_auth.c - custom authorizers at the entry points, with the
 * authorizer function served by a local HTTP server
 * (py/authorizer_server.py, invoked through `authorizer_function`):
 * MQTT on the 443-style listener with ALPN mqtt (mosquitto with a username
 * naming the authorizer and a password) allowed, denied, malformed and
 * slow; the policy it returns enforced; MQTT over WebSocket with the
 * authorizer named in the upgrade headers (MQTT.js) and by the CONNECT
 * username; HTTPS Publish (curl) with the authorizer's name and token in
 * the headers or the query string. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define FN "arn:aws:lambda:us-east-1:123456789012:function:auth"

static ich_proc_t fnsrv;
static char alpn_port[16], ca[300];

static void start(ich_t *h) {
    char body[1024], port[16], cmd[1024];
    int p = ich_free_port();
    const char *argv[] = {"python3", IC_SRCDIR "/tests/integration/py/authorizer_server.py",
                          port, NULL};
    ich_init(h);
    snprintf(port, sizeof(port), "%d", p);
    ich_bg_listening(&fnsrv, h, argv, p, 20000);
    snprintf(body, sizeof(body),
             "credentials " AKID " " SECRET "\nconnect_rate_limit 0\n"
             "authorizer_function " FN " http://127.0.0.1:%d/\n" ICH_MQTT_LISTENER
             "listener alpn\n  bind 127.0.0.1\n  port 0\n  protocol alpn\n"
             "listener control\n  bind 127.0.0.1\n  port 0\n  protocol control\n"
             "  tls off\n",
             p);
    ich_write_conf(h, body);
    ich_spawn(h);
    ich_aws_env(AKID, SECRET);
    snprintf(alpn_port, sizeof(alpn_port), "%d", ich_port(h, "alpn"));
    snprintf(ca, sizeof(ca), "%s/data/ca.pem", h->dir);
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/aws --endpoint-url http://127.0.0.1:%d iot create-authorizer "
             "--authorizer-name a1 --authorizer-function-arn " FN " --token-key-name "
             "token --signing-disabled --status ACTIVE >/dev/null",
             ich_port(h, "control"));
    free(ich_sh(cmd, 0, 60000));
}

static int mpub(const char *user, const char *pass, const char *topic, const char *ver,
                char **out) {
    const char *argv[] = {"mosquitto_pub", "-h", "localhost", "-p", alpn_port,
                          "--tls-alpn", "mqtt", "--cafile", ca, "-u", user, "-P", pass,
                          "-V", ver, "-q", "1", "-i", "dev-ca", "-t", topic, "-m", "x",
                          NULL};
    return ich_run(argv, NULL, 20000, out);
}

START_TEST(alpn_mqtt_username_password) {
    ich_t h;
    char *out = NULL;
    start(&h);
    /* allowed: the authorizer's policy lets it publish on ca/... */
    ck_assert_int_eq(mpub("dev?x-amz-customauthorizer-name=a1", "secret", "ca/x",
                          "mqttv5", NULL), 0);
    ck_assert(ich_wait_log(&h, "client connected client_id=dev-ca", 1, 5000));
    ck_assert(ich_wait_log(&h, "principal=alice sni=", 1, 5000));
    /* ... and nothing else: PUBACK 0x87 */
    mpub("dev?x-amz-customauthorizer-name=a1", "secret", "other/x", "mqttv5", &out);
    ck_assert_msg(strcasestr(out, "not authori"), "%s", out);
    free(out);
    ck_assert(ich_wait_log(&h, "authorization denied client_id=dev-ca principal=alice "
                               "action=iot:Publish", 1, 5000));
    /* denied by the function: MQTT 5 CONNACK 0x86, 3.1.1 CONNACK 5 */
    ck_assert_int_ne(mpub("dev?x-amz-customauthorizer-name=a1", "deny", "ca/x",
                          "mqttv5", &out), 0);
    ck_assert_msg(strcasestr(out, "bad user name or password"), "%s", out);
    free(out);
    ck_assert_int_ne(mpub("dev?x-amz-customauthorizer-name=a1", "deny", "ca/x",
                          "mqttv311", &out), 0);
    ck_assert_msg(strcasestr(out, "not authori"), "%s", out);
    free(out);
    ck_assert(ich_wait_log(&h, "connect refused peer=127.0.0.1 authorizer=a1 "
                               "reason=\"authorizer returned isAuthenticated false\"",
                           2, 5000));
    /* a malformed answer and a function too slow: refused, with the reason */
    ck_assert_int_ne(mpub("dev?x-amz-customauthorizer-name=a1", "malformed", "ca/x",
                          "mqttv5", NULL), 0);
    ck_assert(ich_wait_log(&h, "reason=\"malformed authorizer response", 1, 5000));
    ck_assert_int_ne(mpub("dev?x-amz-customauthorizer-name=a1", "slow", "ca/x",
                          "mqttv5", NULL), 0);
    ck_assert(ich_wait_log(&h, "reason=\"authorizer timed out after 5000 ms\"", 1,
                           10000));
    /* an unknown authorizer */
    ck_assert_int_ne(mpub("dev?x-amz-customauthorizer-name=nope", "secret", "ca/x",
                          "mqttv5", NULL), 0);
    ck_assert(ich_wait_log(&h, "authorizer=nope", 1, 5000));
    /* other clients unaffected: still allowed */
    ck_assert_int_eq(mpub("dev?x-amz-customauthorizer-name=a1", "secret", "ca/y",
                          "mqttv311", NULL), 0);
    ich_stop(&h);
    ich_bg_kill(&fnsrv, SIGTERM);
}
END_TEST

START_TEST(websocket_headers) {
    ich_t h;
    char *out = NULL;
    int rc;
    start(&h);
    {
        const char *argv[] = {"node", IC_SRCDIR "/tests/integration/js/wss_custom.js",
                              "localhost", alpn_port, ca, "a1", "token", "allow", NULL};
        rc = ich_run(argv, NULL, 30000, &out);
    }
    ck_assert_msg(rc == 0 && strstr(out, "ok wss_custom"), "%s", out);
    free(out);
    ck_assert(ich_wait_log(&h, "websocket open peer=127.0.0.1 principal=alice", 1, 5000));
    {
        const char *argv[] = {"node", IC_SRCDIR "/tests/integration/js/wss_custom.js",
                              "localhost", alpn_port, ca, "a1", "token", "deny", NULL};
        rc = ich_run(argv, NULL, 30000, &out);
    }
    ck_assert_msg(rc != 0 && strstr(out, "FAIL"), "%s", out);
    free(out);
    ck_assert(ich_wait_log(&h, "websocket refused peer=127.0.0.1 authorizer=a1 "
                               "reason=\"authorizer returned isAuthenticated false\"",
                           1, 5000));
    ck_assert(ich_wait_log(&h, "op=iotcored:MqttOverWebSocket peer=127.0.0.1 "
                               "status=403", 1, 5000));
    ich_stop(&h);
    ich_bg_kill(&fnsrv, SIGTERM);
}
END_TEST

/* The AWS IoT Device SDK v2 for JavaScript with a custom authorizer:
 * direct MQTT 3.1.1 and 5 on ALPN mqtt, and MQTT 5 over WebSocket (the
 * credentials in the CONNECT); openssl s_client sees ALPN mqtt chosen. */
START_TEST(sdk_v2_and_openssl) {
    ich_t h;
    char *out = NULL, cmd[1024];
    static const char *const modes[] = {"direct3", "direct5", "ws5"};
    size_t i;
    start(&h);
    for (i = 0; i < 3; i++) {
        char id[32], want[48];
        const char *argv[] = {"node", IC_SRCDIR "/tests/sdk/custom_auth.js", "localhost",
                              alpn_port, ca, "a1", "secret", modes[i], id, NULL};
        int rc;
        snprintf(id, sizeof(id), "sdk-%s", modes[i]);
        rc = ich_run(argv, NULL, 40000, &out);
        snprintf(want, sizeof(want), "ok custom_auth %s", modes[i]);
        ck_assert_msg(rc == 0 && strstr(out, want), "%s: %s", modes[i], out);
        free(out);
    }
    ck_assert_int_eq(ich_count_log(&h, "principal=alice sni="), 3);
    {
        /* over WebSocket the event also has the upgrade request (protocol
         * "http": its headers) */
        char *ev = ich_slurp(fnsrv.out_path), *line;
        ck_assert_ptr_nonnull(ev);
        line = strstr(ev, "\"clientId\": \"sdk-ws5\"");
        ck_assert_msg(line != NULL, "%s", ev);
        while (line > ev && line[-1] != '\n')
            line--;
        *strchrnul(line, '\n') = '\0';
        ck_assert_msg(strstr(line, "\"protocols\": [\"tls\", \"http\", \"mqtt\"]") &&
                          strcasestr(line, "\"sec-websocket-protocol\": \"mqtt\"") &&
                          strstr(line, "\"serverName\": \"localhost\""),
                      "%s", line);
        free(ev);
    }
    snprintf(cmd, sizeof(cmd),
             "echo | openssl s_client -connect 127.0.0.1:%s -servername localhost "
             "-alpn mqtt -CAfile %s 2>/dev/null | grep -E '^ALPN protocol|Verify "
             "return code'", alpn_port, ca);
    {
        const char *sh[] = {"sh", "-c", cmd, NULL};
        ck_assert_int_eq(ich_run(sh, NULL, 10000, &out), 0);
    }
    ck_assert_msg(strstr(out, "ALPN protocol: mqtt\n") &&
                      strstr(out, "Verify return code: 0 (ok)"),
                  "%s", out);
    free(out);
    ich_stop(&h);
    ich_bg_kill(&fnsrv, SIGTERM);
}
END_TEST

/* HTTPS Publish with a custom authorizer (aws-iot-auth.md 5.3): the
 * authorizer's name and token in headers or in the query string; the
 * policy it returns decides the topic; a denial is a 403 and publishes
 * nothing. */
START_TEST(https_publish) {
    ich_t h;
    ich_proc_t sub;
    char *out = NULL, cmd[1024], base[600];
    start(&h);
    {
        const char *argv[] = {"mosquitto_sub", "-h", "localhost", "-p", alpn_port,
                              "--tls-alpn", "mqtt", "--cafile", ca, "-u",
                              "sub?x-amz-customauthorizer-name=a1", "-P", "secret",
                              "-i", "sub-ca", "-q", "1", "-t", "ca/#", "-v", "-C", "3",
                              "-W", "30", NULL};
        ich_bg(&sub, &h, argv);
    }
    ck_assert(ich_wait_log(&h, "client subscribed client_id=sub-ca", 1, 10000));
    snprintf(base, sizeof(base),
             "curl -s -w ' %%{http_code}' --no-alpn --cacert %s -X POST "
             "--data-binary", ca);
    /* the client leaves while its authorizer thinks (2 s): nothing is
     * published; the next request, allowed after the same 2 s, is */
    snprintf(cmd, sizeof(cmd),
             "%s gone --max-time 1 -H 'x-amz-customauthorizer-name: a1' -H "
             "'token: slow2' 'https://localhost:%s/topics/ca/gone'; true", base,
             alpn_port);
    free(ich_sh(cmd, 0, 60000));
    ck_assert(ich_wait_log(&h, "http publish abandoned peer=127.0.0.1 topic=ca/gone", 1,
                           5000));
    snprintf(cmd, sizeof(cmd),
             "%s m -H 'x-amz-customauthorizer-name: a1' -H 'token: slow2' "
             "'https://localhost:%s/topics/ca/marker'", base, alpn_port);
    out = ich_sh(cmd, 0, 30000);
    ck_assert_msg(strstr(out, "\"} 200"), "%s", out);
    free(out);
    /* over 128 KiB: 413 before the authorizer is asked */
    snprintf(cmd, sizeof(cmd),
             "head -c 140000 /dev/zero | tr '\\0' x | curl -s -w ' %%{http_code}' "
             "--no-alpn --cacert %s --data-binary @- -H 'x-amz-customauthorizer-name: "
             "a1' -H 'token: allow' 'https://localhost:%s/topics/ca/big'", ca, alpn_port);
    out = ich_sh(cmd, 0, 30000);
    ck_assert_msg(strstr(out, "The payload exceeds the maximum size allowed") &&
                      strstr(out, "} 413"), "%s", out);
    free(out);
    /* allowed, named in the headers */
    snprintf(cmd, sizeof(cmd),
             "%s hello -H 'x-amz-customauthorizer-name: a1' -H 'token: allow' "
             "'https://localhost:%s/topics/ca/http?qos=1'", base, alpn_port);
    out = ich_sh(cmd, 0, 30000);
    ck_assert_msg(strstr(out, "{\"message\":\"OK\",\"traceId\":\"") &&
                      strstr(out, "\"} 200"), "%s", out);
    free(out);
    /* allowed, named in the query string (curl's default ALPN offer,
     * h2 and http/1.1: http/1.1 chosen) */
    snprintf(cmd, sizeof(cmd),
             "curl -s -w ' %%{http_code}' --cacert %s --data-binary again "
             "'https://localhost:%s/topics/ca/q?"
             "x-amz-customauthorizer-name=a1&token=allow'", ca, alpn_port);
    out = ich_sh(cmd, 0, 30000);
    ck_assert_msg(strstr(out, "\"} 200"), "%s", out);
    free(out);
    /* a topic outside the authorizer's policy, a denying function, no
     * token at all: 403, nothing published */
    snprintf(cmd, sizeof(cmd),
             "%s nope -H 'x-amz-customauthorizer-name: a1' -H 'token: allow' "
             "'https://localhost:%s/topics/other/x'", base, alpn_port);
    out = ich_sh(cmd, 0, 30000);
    ck_assert_msg(strstr(out, "\"message\":\"Forbidden\"") && strstr(out, "} 403"),
                  "%s", out);
    free(out);
    ck_assert(ich_wait_log(&h, "authorization denied", 1, 5000));
    snprintf(cmd, sizeof(cmd),
             "%s nope -H 'x-amz-customauthorizer-name: a1' -H 'token: deny' "
             "'https://localhost:%s/topics/ca/x'", base, alpn_port);
    out = ich_sh(cmd, 0, 30000);
    ck_assert_msg(strstr(out, "} 403"), "%s", out);
    free(out);
    ck_assert(ich_wait_log(&h, "reason=\"authorizer returned isAuthenticated false\"", 1,
                           5000));
    snprintf(cmd, sizeof(cmd),
             "%s nope -H 'x-amz-customauthorizer-name: a1' "
             "'https://localhost:%s/topics/ca/x'", base, alpn_port);
    out = ich_sh(cmd, 0, 30000);
    ck_assert_msg(strstr(out, "} 403"), "%s", out);
    free(out);
    /* the custom credentials are for Publish only */
    snprintf(cmd, sizeof(cmd),
             "curl -s -w ' %%{http_code}' --no-alpn --cacert %s -H "
             "'x-amz-customauthorizer-name: a1' -H 'token: allow' "
             "'https://localhost:%s/retainedMessage/ca/http'", ca, alpn_port);
    out = ich_sh(cmd, 0, 30000);
    ck_assert_msg(strstr(out, "} 403"), "%s", out);
    free(out);
    ck_assert(ich_wait_log(&h, "accepted for Publish and WebSocket only", 1, 5000));
    ck_assert_int_eq(ich_bg_wait(&sub, 30000, &out), 0);
    ck_assert_str_eq(out, "ca/marker m\nca/http hello\nca/q again\n");
    free(out);
    ich_stop(&h);
    ich_bg_kill(&fnsrv, SIGTERM);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("27_custom_auth");
    TCase *tc = tcase_create("custom_auth");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, alpn_mqtt_username_password);
    tcase_add_test(tc, websocket_headers);
    tcase_add_test(tc, sdk_v2_and_openssl);
    tcase_add_test(tc, https_publish);
    suite_add_tcase(s, tc);
    return s;
}
