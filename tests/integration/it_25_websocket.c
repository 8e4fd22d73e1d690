/* it_25_websocket.c - MQTT over WebSocket (wss://host:PORT/mqtt on a
 * `protocol alpn` listener, SigV4 presigned URL made with a configured
 * credential, subprotocol mqtt) with real clients and byte-exact ones:
 *
 *   - the AWS IoT Device SDK v2 for JavaScript (MQTT 3.1.1 and 5 builders),
 *     the v1 SDK (aws-iot-device-sdk, subprotocol mqttv3.1, no
 *     X-Amz-Expires), MQTT.js (a session token appended after signing) and
 *     Debian's paho (MQTT 3.1.1 and 5), each a subscribe + QoS 1 publish
 *     round trip with exact payloads (one of 100 000 bytes);
 *   - refusals, each with its HTTP status or close code and log line, while
 *     a plain MQTT client stays connected and working: wrong signature,
 *     expired URL, unsigned (403), no or another subprotocol (400),
 *     Sec-WebSocket-Version 8 (426 + Sec-WebSocket-Version: 13), an
 *     unmasked frame (1002), a frame declaring more than the maximum packet
 *     size (1009 before any payload), a text frame (1003)
 *     (py/ws_raw.py performs the handshake and crafts the frames);
 *   - lifecycle events: connected with the access key as principal, a
 *     WebSocket Close as the client's DISCONNECT (no will), a dropped
 *     connection (CONNECTION_LOST, will sent) and websocket_max_lifetime
 *     (WEBSOCKET_TTL_EXPIRATION, will sent; plain MQTT not affected). */
#include "harness.h"
#include "rawmqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define MAX_PACKET "149504" /* max_packet_size 146K, in bytes */

#define CONF(extra)                                                            \
    "connect_rate_limit 0\nmax_packet_size 146K\n" extra                       \
    "credentials " AKID " " SECRET "\n" ICH_MQTT_LISTENER                      \
    "listener alpn\n  bind 127.0.0.1\n  port 0\n  protocol alpn\n"

#define WS_OPEN "websocket open peer=127.0.0.1 principal=" AKID

static char ca[256], port[16];

static void start(ich_t *h, const char *conf) {
    ich_start(h, conf);
    snprintf(ca, sizeof(ca), "%s/data/ca.pem", h->dir);
    snprintf(port, sizeof(port), "%d", ich_port(h, "alpn"));
}

/* Run a client to completion; it must exit 0 and print every line of want
 * (NULL-ended). Returns its output (free it). */
static char *run_client(const char *const argv[], const char *const want[]) {
    char *out = NULL, cmd[1024] = "";
    int rc = ich_run(argv, NULL, 90000, &out), i;
    for (i = 0; argv[i]; i++)
        snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "",
                 argv[i]);
    ck_assert_msg(rc == 0, "`%s` exited %d:\n%s", cmd, rc, out);
    for (i = 0; want[i]; i++)
        ck_assert_msg(strstr(out, want[i]) != NULL, "`%s` did not print \"%s\":\n%s",
                      cmd, want[i], out);
    return out;
}

/* The daemon logged `client connected client_id=id ` right after a
 * `websocket open` line for the access key: that client came over
 * WebSocket, authenticated by SigV4. */
static void logged_ws_client(const ich_t *h, const char *id, const char *version) {
    char key[160], *log, *at, *line;
    size_t n = strlen(WS_OPEN "\n");
    snprintf(key, sizeof(key), "client connected client_id=%s peer=127.0.0.1 version=%s ",
             id, version);
    ck_assert_msg(ich_wait_log(h, key, 1, 5000), "no \"%s\" in the log", key);
    log = ich_slurp(h->log);
    at = strstr(log, key);
    ck_assert_ptr_nonnull(at);
    for (line = at; line > log && line[-1] != '\n'; line--)
        ;
    ck_assert_msg(line >= log + n && memcmp(line - n, WS_OPEN "\n", n) == 0,
                  "the line before \"%s\" does not end with \"" WS_OPEN "\":\n%.*s", key,
                  (int)(at - log > 300 ? 300 : at - log), at - (at - log > 300 ? 300 : at - log));
    free(log);
}

START_TEST(real_clients) {
    ich_t h;
    char *out;
    const char *sdk = IC_SRCDIR "/tests/sdk/ws.js";
    start(&h, CONF(""));
    {
        const char *argv[] = {"node", sdk, "localhost", port, ca, AKID, SECRET,
                              "v2-3", "sdk-v2-mqtt3", NULL};
        const char *want[] = {"ok publish short\n", "ok publish 100000 bytes\n",
                              "ok ws v2-3 sdk-v2-mqtt3\n", NULL};
        free(run_client(argv, want));
        logged_ws_client(&h, "sdk-v2-mqtt3", "3.1.1");
    }
    {
        const char *argv[] = {"node", sdk, "localhost", port, ca, AKID, SECRET,
                              "v2-5", "sdk-v2-mqtt5", NULL};
        const char *want[] = {"ok publish short\n", "ok publish 100000 bytes\n",
                              "ok ws v2-5 sdk-v2-mqtt5\n", NULL};
        free(run_client(argv, want));
        logged_ws_client(&h, "sdk-v2-mqtt5", "5");
    }
    {
        const char *argv[] = {"node", sdk, "localhost", port, ca, AKID, SECRET,
                              "v1", "sdk-v1", NULL};
        const char *want[] = {"ok publish short\n", "ok publish 100000 bytes\n",
                              "ok ws v1 sdk-v1\n", NULL};
        free(run_client(argv, want));
        logged_ws_client(&h, "sdk-v1", "3.1.1");
    }
    {
        /* MQTT.js, with a session token appended after signing */
        const char *argv[] = {"node", IC_SRCDIR "/tests/integration/js/wss.js",
                              "localhost", port, ca, AKID, SECRET, "mqttjs",
                              "FQoGZXIvYXdzEBYaDsession/token+==", NULL};
        const char *want[] = {"ok round 4 mqttjs-4\n", "ok round 5 mqttjs-5\n",
                              "ok wss\n", NULL};
        free(run_client(argv, want));
        logged_ws_client(&h, "mqttjs-4", "3.1.1");
        logged_ws_client(&h, "mqttjs-5", "5");
    }
    {
        const char *py = IC_SRCDIR "/tests/integration/py/ws_paho.py";
        const char *a3[] = {"/usr/bin/python3", py, "localhost", port, ca, AKID, SECRET,
                            "paho-3", NULL};
        const char *a5[] = {"/usr/bin/python3", py, "localhost", port, ca, AKID, SECRET,
                            "paho-5", "5", NULL};
        const char *w3[] = {"ok publish 100000 bytes\n", "ok ws_paho paho-3\n", NULL};
        const char *w5[] = {"ok publish 100000 bytes\n", "ok ws_paho paho-5\n", NULL};
        free(run_client(a3, w3));
        logged_ws_client(&h, "paho-3", "3.1.1");
        free(run_client(a5, w5));
        logged_ws_client(&h, "paho-5", "5");
    }
    /* one WebSocket per MQTT connection, all as the access key */
    ck_assert_int_eq(ich_count_log(&h, WS_OPEN), 7);
    ck_assert_int_eq(ich_count_log(&h, "http denied"), 0);
    ck_assert_int_eq(ich_count_log(&h, "websocket error"), 0);
    /* a wrong secret: no SDK gets in */
    {
        const char *argv[] = {"node", sdk, "localhost", port, ca, AKID, "not-the-secret",
                              "v2-5", "sdk-intruder", "15", NULL};
        int rc = ich_run(argv, NULL, 30000, &out);
        ck_assert_msg(rc == 1 && strstr(out, "FAIL connect: "), "exited %d:\n%s", rc, out);
        free(out);
    }
    ck_assert(ich_wait_log(&h, "http denied service=data access_key=" AKID
                               " reason=\"signature mismatch\"", 1, 5000));
    ck_assert_int_eq(ich_count_log(&h, "client_id=sdk-intruder"), 0);
    ich_stop(&h);
}
END_TEST

/* ws_raw.py prints "ok CASE..." per case; every case must be there. */
static char *run_raw(const char *mode, const char *arg, const char *arg2,
                     const char *const want[]) {
    const char *argv[] = {"python3", IC_SRCDIR "/tests/integration/py/ws_raw.py",
                          "localhost", port, ca, AKID, SECRET, mode, arg, arg2, NULL};
    return run_client(argv, want);
}

START_TEST(refusals) {
    ich_t h;
    rm_t b;
    ic_packet_t p;
    const char *filter = "bystander/t";
    uint8_t opt = 1;
    int got_ack = 0, got_msg = 0;
    start(&h, CONF(""));
    /* a plain MQTT client connected throughout */
    rm_open(&b, ich_port(&h, "mqtt"), IC_MQTT_V5);
    rm_connect(&b, "bystander", true, 60, NULL, &p);
    ck_assert_int_eq(p.u.connack.rc, 0);
    rm_subscribe(&b, 1, &filter, &opt, 1);
    rm_expect(&b, IC_MQTT_SUBACK, &p, 5000);
    {
        const char *want[] = {
            "ok upgrade mqtt\n", "ok upgrade mqttv3.1\n", "ok upgrade alpn=http/1.1 ",
            "ok upgrade offered-list\n",
            "ok upgrade service=iotdata\n", "ok upgrade session-token\n",
            "ok upgrade date-2h-expires-86400\n",
            "ok refused bad-signature 403 body={\"message\":\"Forbidden\"}\n",
            "ok refused expired 403 ", "ok refused expires-60-signed-5min-ago 403\n",
            "ok refused unsigned 403 ",
            "ok refused no-subprotocol 400 ", "ok refused other-subprotocol 400\n",
            "ok refused version-8 426\n", NULL};
        free(run_raw("handshakes", NULL, NULL, want));
    }
    /* every refusal explained in the log */
    ck_assert(ich_wait_log(&h, "http denied service=data access_key=" AKID
                               " reason=\"signature mismatch\"", 1, 5000));
    ck_assert(ich_wait_log(&h, "http denied service=data access_key=" AKID
                               " reason=\"Signature expired: ", 1, 5000));
    ck_assert(ich_wait_log(&h, "http denied service=data peer=127.0.0.1 reason=\"not "
                               "signed and no client certificate\"", 1, 5000));
    ck_assert(ich_wait_log(&h, "websocket refused peer=127.0.0.1 reason=\""
                               "Sec-WebSocket-Protocol must offer mqtt\"", 1, 5000));
    ck_assert(ich_wait_log(&h, "websocket refused peer=127.0.0.1 reason=\"no acceptable "
                               "Sec-WebSocket-Protocol (mqtt)\"", 1, 5000));
    ck_assert(ich_wait_log(&h, "websocket refused peer=127.0.0.1 reason=\"unsupported "
                               "Sec-WebSocket-Version (only 13)\"", 1, 5000));
    ck_assert_int_eq(ich_count_log(&h, "http denied service=data access_key=" AKID
                                       " reason=\"Signature expired: "), 2);
    ck_assert_int_eq(ich_count_log(&h, "http denied service=data access_key="), 3);
    /* the seven good upgrades, and nothing else opened */
    ck_assert_int_eq(ich_count_log(&h, WS_OPEN), 7);
    {
        const char *want[] = {
            "ok frames ping-split-packed-fragmented\n",
            "ok frames unmasked 1002 reason='unmasked client frame'\n",
            "ok frames too-big 1009 ", "ok frames at-max-not-refused\n",
            "ok frames text 1003 ", NULL};
        free(run_raw("frames", MAX_PACKET, NULL, want));
    }
    ck_assert(ich_wait_log(&h, "websocket error peer=127.0.0.1 close_code=1002 "
                               "reason=\"unmasked client frame\"", 1, 5000));
    ck_assert(ich_wait_log(&h, "websocket error peer=127.0.0.1 close_code=1009 ", 1, 5000));
    ck_assert(ich_wait_log(&h, "websocket error peer=127.0.0.1 close_code=1003 ", 1, 5000));
    ck_assert(ich_wait_log(&h, "connection closed client_id=raw-unmasked peer=127.0.0.1 "
                               "reason=CLIENT_ERROR", 1, 5000));
    ck_assert(ich_wait_log(&h, "connection closed client_id=raw-toobig peer=127.0.0.1 "
                               "reason=CLIENT_ERROR", 1, 5000));
    /* a frame declaring exactly the maximum packet size was not refused */
    ck_assert_int_eq(ich_count_log(&h, "close_code=1009"), 1);
    ck_assert(ich_wait_log(&h, "connection closed client_id=raw-atmax peer=127.0.0.1 "
                               "reason=CONNECTION_LOST", 1, 5000));
    /* the bystander never noticed: still connected, still served */
    rm_ping(&b);
    rm_publish(&b, "bystander/t", "still here", 1, false, 7, NULL);
    while (!(got_ack && got_msg)) {
        ck_assert_int_eq(rm_recv(&b, &p, 5000), 0);
        if (p.type == IC_MQTT_PUBACK) {
            ck_assert_int_eq(p.u.ack.packet_id, 7);
            got_ack = 1;
        } else {
            ck_assert_int_eq(p.type, IC_MQTT_PUBLISH);
            ck_assert_int_eq((int)p.u.publish.payload.len, 10);
            ck_assert(memcmp(p.u.publish.payload.p, "still here", 10) == 0);
            if (p.u.publish.qos == 1)
                rm_puback(&b, p.u.publish.packet_id);
            got_msg = 1;
        }
    }
    ck_assert_int_eq(ich_count_log(&h, "client_id=bystander peer=127.0.0.1 reason="), 0);
    rm_disconnect(&b, 0);
    ich_stop(&h);
}
END_TEST

/* ---- lifecycle -------------------------------------------------------------- */

/* Everything the watcher received, "topic payload\n" each. */
static char seen[16384];

static void watch(rm_t *w, const ich_t *h) {
    ic_packet_t p;
    const char *filters[] = {"$aws/events/presence/+/+", "will/#"};
    uint8_t opts[] = {1, 1};
    seen[0] = '\0';
    rm_open(w, ich_port(h, "mqtt"), IC_MQTT_V311);
    rm_connect(w, "watcher", true, 60, NULL, &p);
    rm_subscribe(w, 1, filters, opts, 2);
    rm_expect(w, IC_MQTT_SUBACK, &p, 5000);
}

/* The payload of the next message on topic (others are recorded in seen
 * and skipped); static buffer. */
static const char *next_on(rm_t *w, const char *topic) {
    static char body[2048];
    ic_packet_t p;
    for (;;) {
        int rc = rm_recv(w, &p, 10000);
        size_t n = strlen(seen);
        ck_assert_msg(rc == 0, "nothing on %s (rc %d); seen:\n%s", topic, rc, seen);
        if (p.type != IC_MQTT_PUBLISH)
            continue;
        if (p.u.publish.qos == 1)
            rm_puback(w, p.u.publish.packet_id);
        snprintf(seen + n, sizeof(seen) - n, "%.*s %.*s\n", (int)p.u.publish.topic.len,
                 (const char *)p.u.publish.topic.p, (int)p.u.publish.payload.len,
                 (const char *)p.u.publish.payload.p);
        if (p.u.publish.topic.len == strlen(topic) &&
            memcmp(p.u.publish.topic.p, topic, p.u.publish.topic.len) == 0) {
            snprintf(body, sizeof(body), "%.*s", (int)p.u.publish.payload.len,
                     (const char *)p.u.publish.payload.p);
            return body;
        }
    }
}

static void has(const char *body, const char *part) {
    ck_assert_msg(strstr(body, part) != NULL, "%s lacks %s", body, part);
}

START_TEST(lifecycle_close_and_lost) {
    ich_t h;
    rm_t w;
    const char *e;
    start(&h, CONF(""));
    watch(&w, &h);
    {
        const char *want[] = {"ok close ws-close-1\n", NULL};
        free(run_raw("close", "ws-close-1", NULL, want));
    }
    e = next_on(&w, "$aws/events/presence/connected/ws-close-1");
    ck_assert_msg(strncmp(e, "{\"clientId\":\"ws-close-1\",\"timestamp\":", 37) == 0, "%s", e);
    has(e, "\"eventType\":\"connected\"");
    has(e, "\"principalIdentifier\":\"" AKID "\",\"ipAddress\":\"127.0.0.1\","
           "\"versionNumber\":0}");
    e = next_on(&w, "$aws/events/presence/disconnected/ws-close-1");
    has(e, "\"eventType\":\"disconnected\"");
    has(e, "\"principalIdentifier\":\"" AKID "\"");
    has(e, "\"clientInitiatedDisconnect\":true,\"disconnectReason\":"
           "\"CLIENT_INITIATED_DISCONNECT\",\"versionNumber\":0}");
    ck_assert(ich_wait_log(&h, "connection closed client_id=ws-close-1 peer=127.0.0.1 "
                               "reason=CLIENT_INITIATED_DISCONNECT", 1, 5000));
    /* no will: a marker published now is the next message under will/ */
    rm_publish(&w, "will/marker", "marker", 0, false, 0, NULL);
    next_on(&w, "will/marker");
    ck_assert_msg(strstr(seen, "will/ws-close-1") == NULL,
                  "a WebSocket Close sent the will:\n%s", seen);
    /* dropped without a Close: CONNECTION_LOST, and the will goes out */
    {
        const char *want[] = {"ok lost ws-lost-1\n", NULL};
        free(run_raw("lost", "ws-lost-1", NULL, want));
    }
    e = next_on(&w, "$aws/events/presence/connected/ws-lost-1");
    has(e, "\"principalIdentifier\":\"" AKID "\"");
    e = next_on(&w, "will/ws-lost-1");
    ck_assert_str_eq(e, "gone ws-lost-1");
    rm_publish(&w, "will/marker", "marker", 0, false, 0, NULL);
    next_on(&w, "will/marker");
    ck_assert_msg(strstr(seen, "$aws/events/presence/disconnected/ws-lost-1 ") != NULL,
                  "no disconnected event for ws-lost-1:\n%s", seen);
    has(strstr(seen, "$aws/events/presence/disconnected/ws-lost-1 "),
        "\"clientInitiatedDisconnect\":false,\"disconnectReason\":\"CONNECTION_LOST\"");
    rm_close(&w);
    ich_stop(&h);
}
END_TEST

START_TEST(lifecycle_ttl) {
    ich_t h;
    rm_t w;
    const char *e;
    char *out, *at;
    long after_ms = -1;
    start(&h, CONF("websocket_max_lifetime 2s\n"));
    watch(&w, &h);
    {
        /* busy (PINGREQ every 0.5 s) yet closed after 2 s */
        const char *want[] = {"ok hold ws-ttl-1 after_ms=", NULL};
        out = run_raw("hold", "ws-ttl-1", "10", want);
    }
    at = strstr(out, "after_ms=");
    ck_assert(sscanf(at, "after_ms=%ld", &after_ms) == 1);
    ck_assert_msg(after_ms >= 1900 && after_ms <= 6000,
                  "closed %ld ms after the CONNACK (lifetime 2 s, sweep every second):\n%s",
                  after_ms, out);
    free(out);
    e = next_on(&w, "$aws/events/presence/connected/ws-ttl-1");
    has(e, "\"principalIdentifier\":\"" AKID "\"");
    e = next_on(&w, "$aws/events/presence/disconnected/ws-ttl-1");
    has(e, "\"principalIdentifier\":\"" AKID "\"");
    has(e, "\"clientInitiatedDisconnect\":false,\"disconnectReason\":"
           "\"WEBSOCKET_TTL_EXPIRATION\",\"versionNumber\":0}");
    ck_assert(ich_wait_log(&h, "connection closed client_id=ws-ttl-1 peer=127.0.0.1 "
                               "reason=WEBSOCKET_TTL_EXPIRATION", 1, 5000));
    /* the will goes out (AWS 2.3: LWT sent for WEBSOCKET_TTL_EXPIRATION) */
    rm_publish(&w, "will/marker", "marker", 0, false, 0, NULL);
    next_on(&w, "will/marker");
    ck_assert_msg(strstr(seen, "will/ws-ttl-1 gone ws-ttl-1\n") != NULL,
                  "no will after WEBSOCKET_TTL_EXPIRATION:\n%s", seen);
    /* the watcher (plain MQTT, connected longer than 2 s) is not affected */
    rm_ping(&w);
    ck_assert_int_eq(ich_count_log(&h, "client_id=watcher peer=127.0.0.1 reason="), 0);
    rm_close(&w);
    ich_stop(&h);
}
END_TEST

/* credentials_policy: a key whose callers are authorized by an IoT policy
 * (here: connect as paho-lim*, publish, receive and subscribe on
 * paho/paho-lim*) instead of being administrators, over WebSocket (paho)
 * and HTTPS Publish (the AWS CLI). */
#define AKID2 "AKIAI44QH8DHBEXAMPLE"
#define SECRET2 "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
START_TEST(credentials_policy) {
    ich_t h;
    char seed[300], conf[1200], cmd[1024], *out = NULL;
    FILE *f;
    const char *py = IC_SRCDIR "/tests/integration/py/ws_paho.py";
    int rc;
    ich_init(&h);
    snprintf(seed, sizeof(seed), "%s/seed.json", h.dir);
    f = fopen(seed, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"policies\": [{\"name\": \"" ICH_POLICY "\", \"document\": {\"Version\": "
          "\"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": "
          "\"iot:*\", \"Resource\": \"*\"}]}},\n"
          " {\"name\": \"limited\", \"document\": {\"Version\": \"2012-10-17\", "
          "\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"iot:Connect\", "
          "\"Resource\": \"arn:aws:iot:*:*:client/paho-lim*\"}, {\"Effect\": \"Allow\", "
          "\"Action\": [\"iot:Publish\", \"iot:Receive\"], \"Resource\": "
          "\"arn:aws:iot:*:*:topic/paho/paho-lim*\"}, {\"Effect\": \"Allow\", "
          "\"Action\": \"iot:Subscribe\", \"Resource\": "
          "\"arn:aws:iot:*:*:topicfilter/paho/paho-lim*\"}]}}]}\n",
          f);
    fclose(f);
    snprintf(conf, sizeof(conf),
             CONF("credentials " AKID2 " " SECRET2 "\ncredentials_policy " AKID2
                  " limited\nseed %s\n") "listener control\n  bind 127.0.0.1\n"
                                          "  port 0\n  protocol control\n  tls off\n",
             seed);
    ich_write_conf(&h, conf);
    ich_spawn(&h);
    snprintf(ca, sizeof(ca), "%s/data/ca.pem", h.dir);
    snprintf(port, sizeof(port), "%d", ich_port(&h, "alpn"));
    {
        /* allowed by the policy: the whole round trip */
        const char *argv[] = {"/usr/bin/python3", py, "localhost", port, ca, AKID2,
                              SECRET2, "paho-lim1", NULL};
        const char *want[] = {"ok ws_paho paho-lim1\n", NULL};
        free(run_client(argv, want));
    }
    {
        /* another client ID: iot:Connect denied */
        const char *argv[] = {"/usr/bin/python3", py, "localhost", port, ca, AKID2,
                              SECRET2, "paho-other", "5", NULL};
        rc = ich_run(argv, NULL, 30000, &out);
        ck_assert_msg(rc != 0 && strstr(out, "FAIL"), "exited %d:\n%s", rc, out);
        free(out);
    }
    ck_assert(ich_wait_log(&h, "action=iot:Connect resource=arn:aws:iot:us-east-1:"
                               "123456789012:client/paho-other", 1, 5000));
    /* HTTPS Publish signed by the key: inside the policy 200, outside 403 */
    snprintf(cmd, sizeof(cmd),
             "AWS_ACCESS_KEY_ID=" AKID2 " AWS_SECRET_ACCESS_KEY=" SECRET2
             " AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null "
             "AWS_SHARED_CREDENTIALS_FILE=/dev/null /usr/bin/aws --endpoint-url "
             "https://localhost:%s --ca-bundle %s iot-data publish --topic %s "
             "--payload aGk= 2>&1",
             port, ca, "paho/paho-lim1");
    {
        const char *sh[] = {"sh", "-c", cmd, NULL};
        rc = ich_run(sh, NULL, 60000, &out);
        ck_assert_msg(rc == 0, "exited %d:\n%s", rc, out);
        free(out);
    }
    {
        char *t = strstr(cmd, "paho/paho-lim1");
        memcpy(t, "else/paho-lim1", 14);
    }
    {
        const char *sh[] = {"sh", "-c", cmd, NULL};
        rc = ich_run(sh, NULL, 60000, &out);
        ck_assert_msg(rc != 0 && strstr(out, "(ForbiddenException)") &&
                          strstr(out, "Forbidden"),
                      "exited %d:\n%s", rc, out);
        free(out);
    }
    /* the key may not use the control plane (it could lift its policy) */
    snprintf(cmd, sizeof(cmd),
             "AWS_ACCESS_KEY_ID=" AKID2 " AWS_SECRET_ACCESS_KEY=" SECRET2
             " AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null "
             "AWS_SHARED_CREDENTIALS_FILE=/dev/null /usr/bin/aws --endpoint-url "
             "http://127.0.0.1:%d iot list-things 2>&1",
             ich_port(&h, "control"));
    {
        const char *sh[] = {"sh", "-c", cmd, NULL};
        rc = ich_run(sh, NULL, 60000, &out);
        ck_assert_msg(rc != 0 && strstr(out, "(AccessDeniedException)") &&
                          strstr(out, "User: " AKID2 " is not authorized to use the "
                                      "control plane"),
                      "exited %d:\n%s", rc, out);
        free(out);
    }
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("25_websocket");
    TCase *tc = tcase_create("websocket");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, real_clients);
    tcase_add_test(tc, credentials_policy);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, lifecycle_close_and_lost);
    tcase_add_test(tc, lifecycle_ttl);
    suite_add_tcase(s, tc);
    return s;
}
