/* it_18_policy.c - IoT policies enforced on real clients over mutual TLS:
 * allowed and denied connect, publish, subscribe and receive for MQTT 5
 * and 3.1.1 with mosquitto clients and paho, the decision log, a policy
 * change applied to a live connection, audit mode, a plaintext listener
 * without a policy, and TestAuthorization / GetEffectivePolicies through
 * the AWS CLI. The device is provisioned through the control plane
 * (iotctl), its certificate minted by the broker's local CA. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

/* The AWS documentation's thing-scoped policy, plus a Receive deny. */
static const char policy_doc[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":["
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
    "\"Resource\":\"arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}\"},"
    "{\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\",\"iot:Receive\"],"
    "\"Resource\":\"arn:aws:iot:us-east-1:123456789012:topic/dev/${iot:Connection.Thing.ThingName}/*\"},"
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\","
    "\"Resource\":\"arn:aws:iot:us-east-1:123456789012:topicfilter/dev/${iot:Connection.Thing.ThingName}/*\"},"
    "{\"Sid\":\"NoSecrets\",\"Effect\":\"Deny\",\"Action\":\"iot:Receive\","
    "\"Resource\":\"arn:aws:iot:us-east-1:123456789012:topic/dev/*/secret\"}]}";

static char endpoint[64], port_s[16], dir[256], ca[300], cert[300], key[300];

/* A broker with an mTLS listener `mqtt` and the control plane; thing dev1
 * with a certificate and policy_doc attached, files in dir. */
static void start(ich_t *h, const char *extra) {
    char body[2048];
    ich_init(h);
    snprintf(body, sizeof(body),
             "%scredentials " AKID " " SECRET "\nconnect_rate_limit 0\n"
             "listener mqtt\n  bind 127.0.0.1\n  port 0\n  tls mutual\n"
             "listener control\n  bind 127.0.0.1\n  port 0\n  protocol control\n"
             "  tls off\n",
             extra ? extra : "");
    ich_write_conf(h, body);
    ich_spawn(h);
    ich_aws_env(AKID, SECRET);
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d",
             ich_port(h, "control"));
    snprintf(port_s, sizeof(port_s), "%d", ich_port(h, "mqtt"));
    ich_provision(h, endpoint, "dev1", "dev-policy", policy_doc, dir, sizeof(dir));
    snprintf(ca, sizeof(ca), "%s/root-ca.pem", dir);
    snprintf(cert, sizeof(cert), "%s/certificate.pem.crt", dir);
    snprintf(key, sizeof(key), "%s/private.pem.key", dir);
}

static int mpub(const char *ver, const char *id, const char *topic, char **out) {
    const char *argv[] = {"mosquitto_pub", "-h", "localhost", "-p", port_s,
                          "--cafile", ca, "--cert", cert, "--key", key, "-V", ver,
                          "-i", id, "-q", "1", "-t", topic, "-m", "x", NULL};
    return ich_run(argv, NULL, 10000, out);
}

START_TEST(connect_allowed_and_denied) {
    ich_t h;
    char *out = NULL;
    start(&h, NULL);
    /* client ID = the thing's name: allowed, both versions */
    ck_assert_int_eq(mpub("mqttv5", "dev1", "dev/dev1/t", NULL), 0);
    ck_assert_int_eq(mpub("mqttv311", "dev1", "dev/dev1/t", NULL), 0);
    /* any other client ID: no thing, the variable is unresolved: denied.
     * MQTT 5: CONNACK 0x87; 3.1.1: closed */
    ck_assert_int_ne(mpub("mqttv5", "intruder", "dev/dev1/t", &out), 0);
    ck_assert_msg(strcasestr(out, "not authori"), "mosquitto_pub said: %s", out);
    free(out);
    ck_assert_int_ne(mpub("mqttv311", "intruder", "dev/dev1/t", NULL), 0);
    ck_assert(ich_wait_log(&h, "authorization denied client_id=intruder", 2, 5000));
    ck_assert(ich_wait_log(&h, "action=iot:Connect resource=arn:aws:iot:us-east-1:"
                               "123456789012:client/intruder decision=IMPLICIT_DENY "
                               "reason=\"variable ${iot:Connection.Thing.ThingName} "
                               "unresolved\"", 2, 5000));
    ich_stop(&h);
}
END_TEST

START_TEST(publish_denied) {
    ich_t h;
    char *out = NULL;
    start(&h, NULL);
    /* MQTT 5 QoS 1: PUBACK 0x87 */
    mpub("mqttv5", "dev1", "other/t", &out);
    ck_assert_msg(strcasestr(out, "not authori"), "mosquitto_pub v5 said: %s", out);
    free(out);
    ck_assert(ich_wait_log(&h, "action=iot:Publish resource=arn:aws:iot:us-east-1:"
                               "123456789012:topic/other/t decision=IMPLICIT_DENY "
                               "reason=\"no statement allows\"", 1, 5000));
    /* MQTT 3.1.1: the connection is closed */
    ck_assert_int_ne(mpub("mqttv311", "dev1", "other/t", NULL), 0);
    ck_assert(ich_wait_log(&h, "reason=FORBIDDEN_ACCESS", 1, 5000));
    ich_stop(&h);
}
END_TEST

/* Subscribe and receive with paho (Debian's), both versions, from a
 * script: SUBACK 0x87 for the denied filter in MQTT 5, a closed
 * connection in 3.1.1; a message on dev/dev1/secret is never delivered
 * while dev/dev1/ok is. */
START_TEST(subscribe_and_receive_paho) {
    ich_t h;
    char *out = NULL, script[6144];
    const char *argv[] = {"/usr/bin/python3", "-c", script, NULL};
    start(&h, NULL);
    snprintf(script, sizeof(script),
             "import ssl,sys,time,threading\n"
             "import paho.mqtt.client as mqtt\n"
             "def client(v):\n"
             "  c=mqtt.Client(client_id='dev1',protocol=v)\n"
             "  c.tls_set(ca_certs='%s',certfile='%s',keyfile='%s')\n"
             "  return c\n"
             "got=[];subs={};ev=threading.Event();gone=threading.Event()\n"
             "def on_sub(c,u,mid,rcs,props=None):\n"
             "  subs[mid]=[int(getattr(r,'value',r)) for r in rcs];ev.set()\n"
             "def on_msg(c,u,m): got.append(m.topic)\n"
             "def on_dis(c,u,rc,props=None): gone.set()\n"
             "c=client(mqtt.MQTTv5);c.on_subscribe=on_sub;c.on_message=on_msg\n"
             "c.connect('localhost',%s);c.loop_start();time.sleep(0)\n"
             "r,mid=c.subscribe([('dev/dev1/#',1),('other/#',1)])\n"
             "assert ev.wait(5),'no SUBACK'\n"
             "assert subs[mid]==[1,135],subs\n"
             "c.publish('dev/dev1/secret','s',qos=1).wait_for_publish(5)\n"
             "c.publish('dev/dev1/ok','o',qos=1).wait_for_publish(5)\n"
             "t0=time.time()\n"
             "while 'dev/dev1/ok' not in got and time.time()-t0<5: time.sleep(0.05)\n"
             "assert got==['dev/dev1/ok'],got\n"
             "c.disconnect();c.loop_stop()\n"
             "got.clear();ev.clear()\n"
             "c=client(mqtt.MQTTv311);c.on_subscribe=on_sub;c.on_message=on_msg\n"
             "c.connect('localhost',%s);c.loop_start()\n"
             "r,mid=c.subscribe('dev/dev1/#',1)\n"
             "assert ev.wait(5),'no 3.1.1 SUBACK'\n"
             "c.publish('dev/dev1/secret','s',qos=1).wait_for_publish(5)\n"
             "c.publish('dev/dev1/ok','o',qos=1).wait_for_publish(5)\n"
             "t0=time.time()\n"
             "while 'dev/dev1/ok' not in got and time.time()-t0<5: time.sleep(0.05)\n"
             "assert got==['dev/dev1/ok'],got\n"
             "c.disconnect();c.loop_stop()\n"
             "c=client(mqtt.MQTTv311);c.on_disconnect=on_dis\n"
             "c.connect('localhost',%s);c.loop_start()\n"
             "c.subscribe('other/#',1)\n"
             "assert gone.wait(5),'3.1.1 connection not closed on a denied SUBSCRIBE'\n"
             "c.loop_stop()\n"
             "print('ok')\n",
             ca, cert, key, port_s, port_s, port_s);
    ck_assert_msg(ich_run(argv, NULL, 30000, &out) == 0 && strstr(out, "ok"),
                  "paho: %s", out);
    free(out);
    ck_assert(ich_wait_log(&h, "action=iot:Receive resource=arn:aws:iot:us-east-1:"
                               "123456789012:topic/dev/dev1/secret "
                               "decision=EXPLICIT_DENY reason=\"explicit deny by "
                               "policy dev-policy statement 3 (NoSecrets)\"", 1, 5000));
    ck_assert(ich_wait_log(&h, "action=iot:Subscribe resource=arn:aws:iot:us-east-1:"
                               "123456789012:topicfilter/other/#", 2, 5000));
    ich_stop(&h);
}
END_TEST

/* A new default policy version without iot:Connect: the live connection
 * is dropped at once; the AWS CLI's test-authorization agrees. */
START_TEST(policy_change_applies_to_live_connection) {
    ich_t h;
    ich_proc_t sub;
    char *out = NULL, cmd[2048], arn[256];
    const char *sh[] = {"sh", "-c", cmd, NULL};
    const char *subv[] = {"mosquitto_sub", "-h", "localhost", "-p", port_s,
                          "--cafile", ca, "--cert", cert, "--key", key, "-V",
                          "mqttv5", "-i", "dev1", "-t", "dev/dev1/#", NULL};
    start(&h, NULL);
    ich_bg(&sub, &h, subv);
    ck_assert(ich_wait_log(&h, "client subscribed client_id=dev1", 1, 5000));
    /* test-authorization before the change: ALLOWED */
    snprintf(cmd, sizeof(cmd),
             "ID=$(openssl x509 -in %s -outform DER | sha256sum | cut -c1-64); "
             "/usr/bin/aws --endpoint-url %s --output json iot test-authorization "
             "--principal arn:aws:iot:us-east-1:123456789012:cert/$ID --client-id dev1 "
             "--auth-infos 'actionType=PUBLISH,resources=arn:aws:iot:us-east-1:"
             "123456789012:topic/dev/dev1/t' 'actionType=PUBLISH,resources=arn:aws:"
             "iot:us-east-1:123456789012:topic/other' | python3 -c 'import json,sys;"
             "r=json.load(sys.stdin)[\"authResults\"];"
             "print(r[0][\"authDecision\"],r[1][\"authDecision\"],"
             "r[0][\"allowed\"][\"policies\"][0][\"policyName\"])'",
             cert, endpoint);
    ck_assert_int_eq(ich_run(sh, NULL, 30000, &out), 0);
    ck_assert_msg(strstr(out, "ALLOWED IMPLICIT_DENY dev-policy"), "%s", out);
    free(out);
    /* get-effective-policies names it */
    snprintf(cmd, sizeof(cmd),
             "ID=$(openssl x509 -in %s -outform DER | sha256sum | cut -c1-64); "
             "/usr/bin/aws --endpoint-url %s --output text iot get-effective-policies "
             "--principal arn:aws:iot:us-east-1:123456789012:cert/$ID --thing-name dev1 "
             "--query 'effectivePolicies[].policyName'",
             cert, endpoint);
    ck_assert_int_eq(ich_run(sh, NULL, 30000, &out), 0);
    ck_assert_msg(strstr(out, "dev-policy"), "%s", out);
    free(out);
    /* the change */
    snprintf(arn, sizeof(arn), "%s/deny.json", h.dir);
    {
        FILE *f = fopen(arn, "w");
        fputs("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
              "\"Action\":\"iot:Publish\",\"Resource\":\"*\"}]}", f);
        fclose(f);
    }
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/aws --endpoint-url %s iot create-policy-version "
             "--policy-name dev-policy --policy-document file://%s --set-as-default",
             endpoint, arn);
    ck_assert_int_eq(ich_run(sh, NULL, 30000, &out), 0);
    free(out);
    ck_assert(ich_wait_log(&h, "client disconnected client_id=dev1 peer=127.0.0.1 "
                               "reason=AUTH_ERROR rc=0x87", 1, 5000));
    ich_bg_kill(&sub, SIGTERM);
    ich_bg_wait(&sub, 5000, NULL);
    ich_stop(&h);
}
END_TEST

/* policy_mode audit: allowed, logged as would-deny. */
START_TEST(audit_mode) {
    ich_t h;
    start(&h, "policy_mode audit\n");
    ck_assert_int_eq(mpub("mqttv5", "intruder", "other/t", NULL), 0);
    ck_assert(ich_wait_log(&h, "authorization would deny client_id=intruder", 2, 5000));
    ck_assert_int_eq(ich_count_log(&h, "authorization denied"), 0);
    ich_stop(&h);
}
END_TEST

/* A plaintext listener has no principal: without listener_policy nothing
 * is allowed; with it, its policy decides. */
START_TEST(plaintext_listener_needs_a_policy) {
    ich_t h;
    char port[16];
    const char *pub[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-V",
                         "mqttv5", "-i", "p1", "-q", "1", "-t", "a/b", "-m", "x",
                         NULL};
    ich_start(&h, "connect_rate_limit 0\nlistener bare\n  bind 127.0.0.1\n  port 0\n  tls off\n"
                  "listener mqtt\n  bind 127.0.0.1\n  port 0\n  tls off\n"
                  ICH_LISTENER_POLICY);
    snprintf(port, sizeof(port), "%d", ich_port(&h, "bare"));
    ck_assert_int_ne(ich_run(pub, NULL, 10000, NULL), 0);
    ck_assert(ich_wait_log(&h, "reason=\"no policy in effect for the principal\"", 1,
                           5000));
    snprintf(port, sizeof(port), "%d", ich_port(&h, "mqtt"));
    ck_assert_int_eq(ich_run(pub, NULL, 10000, NULL), 0);
    ich_stop(&h);
}
END_TEST

/* EXCLUSIVE_THING: a certificate exclusively attached to one thing is
 * associated with it whatever the client ID, even when the thing has
 * several certificates (rotation); TestAuthorization shows it. */
START_TEST(exclusive_thing_association) {
    ich_t h;
    char *out = NULL, py[4096];
    const char *argv[] = {"python3", "-c", py, NULL};
    start(&h, NULL);
    snprintf(py, sizeof(py),
             "import boto3,json\n"
             "c=boto3.client('iot',endpoint_url='%s',region_name='us-east-1')\n"
             "c.create_thing(thingName='rot')\n"
             "arns=[c.create_keys_and_certificate(setAsActive=True)['certificateArn'] for i in range(4)]\n"
             "c.attach_thing_principal(thingName='rot',principal=arns[0],thingPrincipalType='EXCLUSIVE_THING')\n"
             "for a in arns[1:]: c.attach_thing_principal(thingName='rot',principal=a)\n"
             "doc={'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'iot:Publish',"
             "'Resource':'arn:aws:iot:us-east-1:123456789012:topic/${iot:Connection.Thing.ThingName}/*'}]}\n"
             "c.create_policy(policyName='rot-p',policyDocument=json.dumps(doc))\n"
             "res='arn:aws:iot:us-east-1:123456789012:topic/rot/t'\n"
             "def ask(arn,cid):\n"
             "  r=c.test_authorization(principal=arn,clientId=cid,policyNamesToAdd=['rot-p'],"
             "authInfos=[{'actionType':'PUBLISH','resources':[res]}])['authResults'][0]\n"
             "  return r['authDecision'],r['missingContextValues']\n"
             "assert ask(arns[0],'any-id')==('ALLOWED',[]),ask(arns[0],'any-id')\n"
             "d=ask(arns[1],'any-id')\n"
             "assert d[0]=='IMPLICIT_DENY' and d[1]==['iot:Connection.Thing.ThingName'],d\n"
             "assert ask(arns[1],'rot')==('ALLOWED',[])\n"
             "print('ok')\n",
             endpoint);
    ck_assert_msg(ich_run(argv, NULL, 60000, &out) == 0 && strstr(out, "ok"), "%s", out);
    free(out);
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("18_policy");
    TCase *tc = tcase_create("policy");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, connect_allowed_and_denied);
    tcase_add_test(tc, publish_denied);
    tcase_add_test(tc, subscribe_and_receive_paho);
    tcase_add_test(tc, policy_change_applies_to_live_connection);
    tcase_add_test(tc, audit_mode);
    tcase_add_test(tc, plaintext_listener_needs_a_policy);
    tcase_add_test(tc, exclusive_thing_association);
    suite_add_tcase(s, tc);
    return s;
}
