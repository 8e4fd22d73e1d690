/* it_22_lifecycle.c - AWS IoT lifecycle events seen by real subscribers
 * (mosquitto_sub and a raw client on `$aws/events/...`): connected /
 * disconnected with every field, subscribed / unsubscribed, connect_failed,
 * versionNumber, no events for client IDs with wildcards, and each
 * disconnectReason produced by the situation that causes it:
 * CLIENT_INITIATED_DISCONNECT, CONNECTION_LOST, DUPLICATE_CLIENTID,
 * MQTT_KEEP_ALIVE_TIMEOUT, CLIENT_ERROR, AUTH_ERROR, API_INITIATED_DISCONNECT
 * (DeleteConnection through boto3's iot-data client) and
 * SERVER_INITIATED_DISCONNECT (daemon shutdown, seen by a persistent
 * session after the restart). */
#include "harness.h"
#include "rawmqtt.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

/* Plaintext MQTT under the allow-all policy, a `strict` listener whose
 * policy allows connecting only as good-*, the data plane (SigV4) and the
 * control plane. */
#define CONF                                                                   \
    "connect_rate_limit 0\nkeepalive_min 1\npublish_rate_disconnect 20\n"     \
    "credentials " AKID " " SECRET "\n" ICH_MQTT_LISTENER                      \
    "listener strict\n  bind 127.0.0.1\n  port 0\n  tls off\n"                 \
    "  listener_policy strict\n"                                               \
    "listener alpn\n  bind 127.0.0.1\n  port 0\n  protocol alpn\n"             \
    "listener control\n  bind 127.0.0.1\n  port 0\n  protocol control\n"       \
    "  tls off\n"

static const char strict_v1[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
    "\"Action\":\"iot:Connect\",\"Resource\":\"arn:aws:iot:us-east-1:123456789012:"
    "client/good-*\"}]}";
static const char strict_v2[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\","
    "\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}";

static char endpoint[64];

static void start(ich_t *h) {
    char cmd[1024];
    ich_start(h, CONF);
    ich_aws_env(AKID, SECRET);
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", ich_port(h, "control"));
    snprintf(cmd, sizeof(cmd), "/usr/bin/aws --endpoint-url %s iot create-policy "
             "--policy-name strict --policy-document '%s' >/dev/null",
             endpoint, strict_v1);
    free(ich_sh(cmd, 0, 60000));
}

/* A raw watcher subscribed to every lifecycle topic. */
static void watch(rm_t *w, const ich_t *h, const char *id) {
    ic_packet_t p;
    const char *filters[] = {"$aws/events/presence/+/+",
                             "$aws/events/subscriptions/+/+"};
    uint8_t opts[] = {1, 1};
    rm_open(w, ich_port(h, "mqtt"), IC_MQTT_V311);
    rm_connect(w, id, true, 60, NULL, &p);
    rm_subscribe(w, 1, filters, opts, 2);
    rm_expect(w, IC_MQTT_SUBACK, &p, 5000);
}

/* The next event on topic (others are skipped unless strict); returns its
 * payload (static buffer). */
static const char *next_event_ex(rm_t *w, const char *topic, bool strict) {
    static char body[2048];
    ic_packet_t p;
    for (;;) {
        int rc = rm_recv(w, &p, 10000);
        ck_assert_msg(rc == 0, "no event on %s (rc %d)", topic, rc);
        if (p.type != IC_MQTT_PUBLISH)
            continue;
        if (p.u.publish.qos == 1)
            rm_puback(w, p.u.publish.packet_id);
        if (p.u.publish.topic.len == strlen(topic) &&
            memcmp(p.u.publish.topic.p, topic, p.u.publish.topic.len) == 0) {
            snprintf(body, sizeof(body), "%.*s", (int)p.u.publish.payload.len,
                     (const char *)p.u.publish.payload.p);
            return body;
        }
        ck_assert_msg(!strict, "wanted %s next, got %.*s", topic,
                      (int)p.u.publish.topic.len, (const char *)p.u.publish.topic.p);
    }
}

static const char *next_event(rm_t *w, const char *topic) {
    return next_event_ex(w, topic, false);
}

static void has(const char *body, const char *part) {
    ck_assert_msg(strstr(body, part) != NULL, "%s lacks %s", body, part);
}

static void connect_raw(rm_t *c, const ich_t *h, const char *listener,
                        const char *id, uint16_t keepalive, uint8_t version) {
    ic_packet_t p;
    rm_open(c, ich_port(h, listener), version);
    rm_connect(c, id, true, keepalive, NULL, &p);
}

START_TEST(presence_and_subscriptions) {
    ich_t h;
    rm_t w, c;
    ic_packet_t p;
    const char *e;
    const char *filters[] = {"a/b", "c/+"};
    uint8_t opts[] = {0, 1};
    ich_proc_t msub;
    char port[16], *out = NULL;
    start(&h);
    snprintf(port, sizeof(port), "%d", ich_port(&h, "mqtt"));
    {
        /* mosquitto_sub sees the events too */
        const char *argv[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t",
                              "$aws/events/presence/+/+", "-v", "-C", "2", "-W",
                              "20", "-i", "msub", NULL};
        ich_bg(&msub, &h, argv);
        ck_assert(ich_wait_log(&h, "client subscribed client_id=msub", 1, 5000));
    }
    watch(&w, &h, "watcher");
    /* connected: every field of AWS 2.2, in AWS's order */
    connect_raw(&c, &h, "mqtt", "dev-1", 60, IC_MQTT_V5);
    e = next_event(&w, "$aws/events/presence/connected/dev-1");
    ck_assert_msg(strncmp(e, "{\"clientId\":\"dev-1\",\"timestamp\":", 32) == 0, "%s", e);
    has(e, ",\"eventType\":\"connected\",\"sessionIdentifier\":\"");
    has(e, "\",\"principalIdentifier\":\"\",\"ipAddress\":\"127.0.0.1\","
           "\"versionNumber\":0}");
    rm_subscribe(&c, 1, filters, opts, 2);
    rm_expect(&c, IC_MQTT_SUBACK, &p, 5000);
    e = next_event(&w, "$aws/events/subscriptions/subscribed/dev-1");
    has(e, "\"eventType\":\"subscribed\"");
    has(e, "\"topics\":[\"a/b\",\"c/+\"]}");
    {
        ic_packet_t u;
        memset(&u, 0, sizeof(u));
        u.type = IC_MQTT_UNSUBSCRIBE;
        u.u.subscribe.packet_id = 2;
        u.u.subscribe.n_total = 1;
        u.u.subscribe.e[0].filter.p = (const uint8_t *)"c/+";
        u.u.subscribe.e[0].filter.len = 3;
        rm_send(&c, &u);
        rm_expect(&c, IC_MQTT_UNSUBACK, &p, 5000);
    }
    e = next_event(&w, "$aws/events/subscriptions/unsubscribed/dev-1");
    has(e, "\"topics\":[\"c/+\"]}");
    rm_disconnect(&c, 0);
    e = next_event(&w, "$aws/events/presence/disconnected/dev-1");
    has(e, "\"eventType\":\"disconnected\"");
    ck_assert_int_eq(ich_bg_wait(&msub, 15000, &out), 0);
    ck_assert_msg(strstr(out, "$aws/events/presence/connected/watcher {\"clientId\":"
                              "\"watcher\",") &&
                      strstr(out, "$aws/events/presence/connected/dev-1 {\"clientId\":"
                                  "\"dev-1\","),
                  "%s", out);
    free(out);
    has(e, "\"clientInitiatedDisconnect\":true,\"disconnectReason\":"
           "\"CLIENT_INITIATED_DISCONNECT\",\"versionNumber\":0}");
    /* reconnecting: the version goes up; dropped without DISCONNECT:
     * CONNECTION_LOST with the same version */
    connect_raw(&c, &h, "mqtt", "dev-1", 60, IC_MQTT_V311);
    e = next_event(&w, "$aws/events/presence/connected/dev-1");
    has(e, "\"versionNumber\":1}");
    rm_close(&c);
    e = next_event(&w, "$aws/events/presence/disconnected/dev-1");
    has(e, "\"clientInitiatedDisconnect\":false,\"disconnectReason\":"
           "\"CONNECTION_LOST\",\"versionNumber\":1}");
    /* a client ID with a wildcard character: no events at all */
    connect_raw(&c, &h, "mqtt", "odd+id", 60, IC_MQTT_V311);
    rm_disconnect(&c, 0);
    connect_raw(&c, &h, "mqtt", "dev-2", 60, IC_MQTT_V311);
    next_event_ex(&w, "$aws/events/presence/connected/dev-2", true);
    rm_close(&c);
    ck_assert_int_eq(ich_count_log(&h, "client connected client_id=odd+id"), 1);
    rm_close(&w);
    ich_stop(&h);
}
END_TEST

START_TEST(disconnect_reasons) {
    ich_t h;
    rm_t w, c, c2;
    const char *e;
    char cmd[1024];
    uint8_t type = 0, rc = 0;
    start(&h);
    watch(&w, &h, "watcher");
    /* DUPLICATE_CLIENTID: the older connection; its event first */
    connect_raw(&c, &h, "mqtt", "twin", 60, IC_MQTT_V311);
    next_event(&w, "$aws/events/presence/connected/twin");
    connect_raw(&c2, &h, "mqtt", "twin", 60, IC_MQTT_V311);
    e = next_event(&w, "$aws/events/presence/disconnected/twin");
    has(e, "\"disconnectReason\":\"DUPLICATE_CLIENTID\",\"versionNumber\":0}");
    e = next_event(&w, "$aws/events/presence/connected/twin");
    has(e, "\"versionNumber\":1}");
    rm_close(&c);
    rm_disconnect(&c2, 0);
    next_event(&w, "$aws/events/presence/disconnected/twin");
    /* MQTT_KEEP_ALIVE_TIMEOUT: keep-alive 1 s, silent */
    connect_raw(&c, &h, "mqtt", "sleepy", 1, IC_MQTT_V5);
    ck_assert(rm_expect_close(&c, 5000, &type, &rc));
    rm_close(&c);
    e = next_event(&w, "$aws/events/presence/disconnected/sleepy");
    has(e, "\"disconnectReason\":\"MQTT_KEEP_ALIVE_TIMEOUT\"");
    /* CLIENT_ERROR: a second CONNECT on the connection */
    connect_raw(&c, &h, "mqtt", "rude", 60, IC_MQTT_V311);
    {
        ic_packet_t p;
        memset(&p, 0, sizeof(p));
        p.type = IC_MQTT_CONNECT;
        p.u.connect.version = IC_MQTT_V311;
        p.u.connect.clean_start = true;
        p.u.connect.keep_alive = 60;
        p.u.connect.client_id.p = (const uint8_t *)"rude";
        p.u.connect.client_id.len = 4;
        rm_send(&c, &p);
    }
    ck_assert(rm_expect_close(&c, 5000, NULL, NULL));
    rm_close(&c);
    e = next_event(&w, "$aws/events/presence/disconnected/rude");
    has(e, "\"disconnectReason\":\"CLIENT_ERROR\"");
    /* THROTTLED (publish_rate_disconnect 20): 100 publishes a second are
     * allowed, the next 20 discarded, then the connection closed with
     * MQTT 5 DISCONNECT 0x96 */
    connect_raw(&c, &h, "mqtt", "flood", 60, IC_MQTT_V5);
    next_event(&w, "$aws/events/presence/connected/flood");
    {
        int i;
        for (i = 0; i < 130; i++)
            rm_publish(&c, "flood/x", "x", 0, false, 0, NULL);
    }
    ck_assert(rm_expect_close(&c, 5000, &type, &rc));
    ck_assert_int_eq(type, IC_MQTT_DISCONNECT);
    ck_assert_int_eq(rc, 0x96);
    rm_close(&c);
    e = next_event(&w, "$aws/events/presence/disconnected/flood");
    has(e, "\"clientInitiatedDisconnect\":false,\"disconnectReason\":\"THROTTLED\"");
    ck_assert(ich_wait_log(&h, "publish rate exceeded client_id=flood discarded=20 "
                               "reason=publish_rate_disconnect", 1, 5000));
    /* connect_failed: not authorized to connect on the strict listener */
    {
        ic_packet_t p;
        rm_open(&c, ich_port(&h, "strict"), IC_MQTT_V5);
        rm_connect(&c, "bad-1", true, 60, NULL, &p);
        ck_assert_int_eq(p.u.connack.rc, 0x87);
        rm_close(&c);
    }
    e = next_event(&w, "$aws/events/presence/connect_failed/bad-1");
    ck_assert_msg(strncmp(e, "{\"clientId\":\"bad-1\",\"timestamp\":", 32) == 0, "%s", e);
    has(e, "\"eventType\":\"connect_failed\",\"sessionIdentifier\":\"");
    has(e, "\"connectFailureReason\":\"AUTHORIZATION_FAILED\",\"ipAddress\":\"127.0.0.1\"}");
    /* AUTH_ERROR: the policy stops allowing a live connection */
    connect_raw(&c, &h, "strict", "good-1", 60, IC_MQTT_V5);
    next_event(&w, "$aws/events/presence/connected/good-1");
    snprintf(cmd, sizeof(cmd), "/usr/bin/aws --endpoint-url %s iot create-policy-version "
             "--policy-name strict --set-as-default --policy-document '%s' >/dev/null",
             endpoint, strict_v2);
    free(ich_sh(cmd, 0, 60000));
    ck_assert(rm_expect_close(&c, 5000, &type, &rc));
    rm_close(&c);
    e = next_event(&w, "$aws/events/presence/disconnected/good-1");
    has(e, "\"disconnectReason\":\"AUTH_ERROR\"");
    /* API_INITIATED_DISCONNECT: DeleteConnection (boto3 iot-data, SigV4) */
    connect_raw(&c, &h, "mqtt", "victim", 60, IC_MQTT_V5);
    next_event(&w, "$aws/events/presence/connected/victim");
    snprintf(cmd, sizeof(cmd),
             "python3 -c \"import boto3;c=boto3.client('iot-data',endpoint_url="
             "'https://localhost:%d',verify='%s/data/ca.pem',region_name='us-east-1');"
             "c.delete_connection(clientId='victim',preventWillMessage=True);"
             "print(c.delete_connection.__name__)\"",
             ich_port(&h, "alpn"), h.dir);
    free(ich_sh(cmd, 0, 60000));
    ck_assert(rm_expect_close(&c, 5000, &type, &rc));
    ck_assert_int_eq(type, IC_MQTT_DISCONNECT);
    ck_assert_int_eq(rc, 0x98);
    rm_close(&c);
    e = next_event(&w, "$aws/events/presence/disconnected/victim");
    has(e, "\"clientInitiatedDisconnect\":false,\"disconnectReason\":"
           "\"API_INITIATED_DISCONNECT\"");
    ck_assert(ich_wait_log(&h, "connection deleted client_id=victim by=" AKID, 1, 5000));
    rm_close(&w);
    ich_stop(&h);
}
END_TEST

/* SERVER_INITIATED_DISCONNECT: the daemon stops; a persistent session
 * watching the events gets it after the restart. */
START_TEST(server_shutdown_reason) {
    ich_t h;
    rm_t w, c;
    ic_packet_t p;
    const char *e;
    const char *filter = "$aws/events/presence/disconnected/+";
    uint8_t opts = 1;
    ich_start(&h, "connect_rate_limit 0\n" ICH_MQTT_LISTENER);
    rm_open(&w, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&w, "keeper", false, 60, NULL, &p);
    rm_subscribe(&w, 1, &filter, &opts, 1);
    rm_expect(&w, IC_MQTT_SUBACK, &p, 5000);
    rm_disconnect(&w, 0);
    connect_raw(&c, &h, "mqtt", "bystander", 60, IC_MQTT_V5);
    ich_terminate(&h);
    rm_close(&c);
    ich_spawn(&h);
    rm_open(&w, ich_port(&h, "mqtt"), IC_MQTT_V311);
    rm_connect(&w, "keeper", false, 60, NULL, &p);
    ck_assert(p.u.connack.session_present);
    e = next_event(&w, "$aws/events/presence/disconnected/bystander");
    has(e, "\"clientInitiatedDisconnect\":false,\"disconnectReason\":"
           "\"SERVER_INITIATED_DISCONNECT\"");
    rm_close(&w);
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("22_lifecycle");
    TCase *tc = tcase_create("lifecycle");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, presence_and_subscriptions);
    tcase_add_test(tc, disconnect_reasons);
    tcase_add_test(tc, server_shutdown_reason);
    suite_add_tcase(s, tc);
    return s;
}
