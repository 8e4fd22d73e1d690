/* it_17_control.c - the AWS IoT control plane against the real daemon:
 * boto3 and Debian's AWS CLI v2 with --endpoint-url for every operation
 * (py/control_api.py, py/control_cli.sh), the route table against the
 * botocore model, SigV4 failures, the device flow end to end (AWS CLI
 * provisioning -> mosquitto over mTLS -> UpdateCertificate INACTIVE drops
 * the live connection), the seed file, iotctl, and HTTP framing limits. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

#define CONTROL_LISTENERS                                                     \
    "credentials " AKID " " SECRET "\n"                                      \
    "connect_rate_limit 0\n"                                                  \
    "listener mqtt\n  bind 127.0.0.1\n  port 0\n  tls mutual\n"              \
    "listener control\n  bind 127.0.0.1\n  port 0\n  protocol control\n"     \
    "  tls off\n"

static char endpoint[64];

static void start_control(ich_t *h, const char *extra) {
    char body[4096];
    ich_init(h);
    snprintf(body, sizeof(body), "%s%s", extra ? extra : "", CONTROL_LISTENERS);
    ich_write_conf(h, body);
    ich_spawn(h);
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d",
             ich_port(h, "control"));
    ich_aws_env(AKID, SECRET);
    setenv("IOTCORED_BIN", getenv("IOTCORED_BIN") ? getenv("IOTCORED_BIN")
                                                  : IC_BUILDDIR "/iotcored", 0);
}

/* The boto3 script (pyenv's python3 on PATH has boto3). */
static void api_group(const char *group) {
    ich_t h;
    char *out = NULL, want[64];
    const char *argv[] = {"python3", IC_SRCDIR "/tests/integration/py/control_api.py",
                          endpoint, group, NULL};
    int rc;
    start_control(&h, NULL);
    rc = ich_run(argv, NULL, 60000, &out);
    snprintf(want, sizeof(want), "ok %s ", group);
    ck_assert_msg(rc == 0 && strstr(out, want) != NULL,
                  "control_api.py %s exited %d:\n%s", group, rc, out);
    free(out);
    ich_stop(&h);
}

START_TEST(boto3_things) { api_group("things"); }
END_TEST
START_TEST(boto3_types) { api_group("types"); }
END_TEST
START_TEST(boto3_groups) { api_group("groups"); }
END_TEST
START_TEST(boto3_principals) { api_group("principals"); }
END_TEST
START_TEST(boto3_certificates) { api_group("certificates"); }
END_TEST
START_TEST(boto3_cas) { api_group("cas"); }
END_TEST
START_TEST(boto3_policies) { api_group("policies"); }
END_TEST
START_TEST(boto3_endpoint) { api_group("endpoint"); }
END_TEST
START_TEST(boto3_errors) { api_group("errors"); }
END_TEST
START_TEST(boto3_signature) { api_group("signature"); }
END_TEST
START_TEST(routes_match_botocore_model) { api_group("routes"); }
END_TEST

START_TEST(aws_cli_v2) {
    ich_t h;
    char *out = NULL;
    const char *argv[] = {"sh", IC_SRCDIR "/tests/integration/py/control_cli.sh",
                          endpoint, NULL};
    int rc;
    start_control(&h, NULL);
    rc = ich_run(argv, NULL, 120000, &out);
    ck_assert_msg(rc == 0 && strstr(out, "ok cli") != NULL,
                  "control_cli.sh exited %d:\n%s", rc, out);
    free(out);
    ich_stop(&h);
}
END_TEST

/* The README's provisioning steps with the AWS CLI, then a device with the
 * minted certificate over mutual TLS; setting the certificate INACTIVE
 * closes its live connection at once. */
START_TEST(device_flow_end_to_end) {
    ich_t h;
    ich_proc_t sub;
    char dir[256], *out = NULL, cmd[1024], port[16], ca[300], cert[300], key[300];
    const char *prov[] = {"sh", IC_SRCDIR "/tests/integration/sh/provision.sh",
                          endpoint, dir, NULL};
    const char *pub[] = {"mosquitto_pub", "-h", "localhost", "-p", port,
                         "--cafile", ca, "--cert", cert, "--key", key,
                         "-i", "sensor-1", "-q", "1", "-t", "sensors/sensor-1/t",
                         "-m", "hello", NULL};
    const char *subv[] = {"mosquitto_sub", "-h", "localhost", "-p", port,
                          "--cafile", ca, "--cert", cert, "--key", key,
                          "-i", "sensor-1", "-q", "1", "-t", "sensors/sensor-1/#",
                          "-v", NULL};
    const char *upd[] = {"sh", "-c", cmd, NULL};
    char id[80] = "";
    int rc;
    start_control(&h, NULL);
    snprintf(dir, sizeof(dir), "%s/device", h.dir);
    rc = ich_run(prov, NULL, 60000, &out);
    ck_assert_msg(rc == 0, "provision.sh exited %d:\n%s", rc, out);
    /* last line: the certificate ID */
    {
        char *nl = out + strlen(out);
        while (nl > out && nl[-1] == '\n')
            *--nl = '\0';
        nl = strrchr(out, '\n');
        snprintf(id, sizeof(id), "%s", nl ? nl + 1 : out);
    }
    ck_assert_int_eq((int)strlen(id), 64);
    free(out);
    snprintf(port, sizeof(port), "%d", ich_port(&h, "mqtt"));
    snprintf(ca, sizeof(ca), "%s/root-ca.pem", dir);
    snprintf(cert, sizeof(cert), "%s/certificate.pem.crt", dir);
    snprintf(key, sizeof(key), "%s/private.pem.key", dir);
    rc = ich_run(pub, NULL, 10000, &out);
    ck_assert_msg(rc == 0, "mosquitto_pub with the minted certificate: %d\n%s", rc,
                  out);
    free(out);
    ck_assert(ich_wait_log(&h, "thing=sensor-1", 1, 5000));
    /* a live subscriber, then the certificate is deactivated */
    ich_bg(&sub, &h, subv);
    ck_assert(ich_wait_log(&h, "client_id=sensor-1", 3, 5000));
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/aws --endpoint-url %s --no-cli-pager iot "
             "update-certificate --certificate-id %s --new-status INACTIVE",
             endpoint, id);
    rc = ich_run(upd, NULL, 30000, &out);
    ck_assert_msg(rc == 0, "update-certificate: %d\n%s", rc, out);
    free(out);
    ck_assert(ich_wait_log(&h, "principal revoked", 1, 5000));
    ck_assert(ich_wait_log(&h, "connection closed client_id=sensor-1 peer=127.0.0.1 "
                               "reason=AUTH_ERROR", 1, 5000));
    ich_bg_kill(&sub, SIGTERM);
    ich_bg_wait(&sub, 5000, NULL);
    /* and it cannot come back */
    rc = ich_run(pub, NULL, 10000, &out);
    ck_assert_msg(rc != 0, "an INACTIVE certificate still connects:\n%s", out);
    free(out);
    ck_assert(ich_wait_log(&h, "reason=\"certificate is INACTIVE\"", 1, 5000));
    ich_stop(&h);
}
END_TEST

/* A seed file: applied at start, idempotent over restarts; a bad entry
 * stops the start and is named. */
START_TEST(seed_file) {
    ich_t h;
    char seed[256], extra[512], pol[300], *out = NULL, py[2048];
    const char *argv[] = {"python3", "-c", py, NULL};
    FILE *f;
    int rc;
    ich_init(&h);
    snprintf(seed, sizeof(seed), "%s/seed.json", h.dir);
    snprintf(pol, sizeof(pol), "%s/allow.json", h.dir);
    f = fopen(pol, "w");
    fputs("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
          "\"Action\":\"iot:*\",\"Resource\":\"*\"}]}", f);
    fclose(f);
    f = fopen(seed, "w");
    fputs("{\"policies\":[{\"name\":\"allow-all\",\"file\":\"allow.json\"}],\n"
          " \"thingTypes\":[{\"name\":\"sensor\",\"description\":\"d\"}],\n"
          " \"thingGroups\":[{\"name\":\"site\"},{\"name\":\"floor1\","
          "\"parent\":\"site\"}],\n"
          " \"things\":[{\"name\":\"s1\",\"type\":\"sensor\",\"attributes\":"
          "{\"room\":\"12\"},\"groups\":[\"floor1\"]}],\n"
          " \"certificates\":[{\"generate\":\"s1-cert\",\"status\":\"ACTIVE\","
          "\"things\":[\"s1\"],\"policies\":[\"allow-all\"]}]}\n", f);
    fclose(f);
    snprintf(extra, sizeof(extra), "seed %s\n", seed);
    {
        char body[4096];
        snprintf(body, sizeof(body), "%s%s", extra, CONTROL_LISTENERS);
        ich_write_conf(&h, body);
    }
    ich_spawn(&h);
    ck_assert(ich_wait_log(&h, "seed applied", 1, 5000));
    ck_assert_int_eq(ich_count_log(&h, "changes=0"), 0);
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d",
             ich_port(&h, "control"));
    setenv("AWS_ACCESS_KEY_ID", AKID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    snprintf(py, sizeof(py),
             "import boto3\n"
             "c=boto3.client('iot',endpoint_url='%s',region_name='us-east-1')\n"
             "t=c.describe_thing(thingName='s1')\n"
             "assert t['thingTypeName']=='sensor' and t['attributes']=={'room':'12'},t\n"
             "assert [g['groupName'] for g in c.list_thing_groups_for_thing(thingName='s1')['thingGroups']]==['floor1']\n"
             "p=c.list_thing_principals(thingName='s1')['principals']\n"
             "assert len(p)==1\n"
             "assert [x['policyName'] for x in c.list_attached_policies(target=p[0])['policies']]==['allow-all']\n"
             "cid=p[0].split('/')[-1]\n"
             "assert c.describe_certificate(certificateId=cid)['certificateDescription']['status']=='ACTIVE'\n"
             "print(cid)\n",
             endpoint);
    rc = ich_run(argv, NULL, 30000, &out);
    ck_assert_msg(rc == 0, "seeded state:\n%s", out);
    free(out);
    /* restart: same state, nothing changed, files reused */
    ich_terminate(&h);
    ich_spawn(&h);
    ck_assert(ich_wait_log(&h, "changes=0", 1, 5000));
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d",
             ich_port(&h, "control"));
    snprintf(py, sizeof(py),
             "import boto3\n"
             "c=boto3.client('iot',endpoint_url='%s',region_name='us-east-1')\n"
             "assert len(c.list_certificates()['certificates'])==1\n"
             "assert len(c.list_policy_versions(policyName='allow-all')['policyVersions'])==1\n",
             endpoint);
    rc = ich_run(argv, NULL, 30000, &out);
    ck_assert_msg(rc == 0, "after restart:\n%s", out);
    free(out);
    ich_terminate(&h);
    /* a bad entry: the start fails and names it */
    f = fopen(seed, "w");
    fputs("{\"things\":[{\"name\":\"ok1\"},{\"name\":\"bad name\"}]}", f);
    fclose(f);
    ich_expect_error(&h, "things[1] (bad name)");
    {
        char *args_out = NULL;
        const char *run[] = {getenv("IOTCORED_BIN") ? getenv("IOTCORED_BIN")
                                                    : IC_BUILDDIR "/iotcored",
                             "-c", h.conf, NULL};
        rc = ich_run(run, NULL, 10000, &args_out);
        ck_assert_msg(rc != 0 && strstr(args_out, "things[1] (bad name)"),
                      "bad seed: rc=%d\n%s", rc, args_out);
        free(args_out);
    }
    ich_cleanup(&h);
}
END_TEST

/* iotctl: thing, policy, certificate into a directory, status; the files
 * it writes connect. */
START_TEST(iotctl_flow) {
    ich_t h;
    char dir[256], pol[300], port[16], ca[300], cert[300], key[300], *out = NULL;
    const char *ctl = IC_BUILDDIR "/iotctl";
    const char *thing[] = {ctl, "--endpoint", endpoint, "thing", "create", "ctl-dev",
                           "--attr", "room=7", NULL};
    const char *policy[] = {ctl, "--endpoint", endpoint, "policy", "create",
                            "ctl-pol", pol, NULL};
    const char *certc[] = {ctl, "--endpoint", endpoint, "cert", "create", "--thing",
                           "ctl-dev", "--policy", "ctl-pol", "--out", dir, NULL};
    const char *status[] = {ctl, "--endpoint", endpoint, "status", NULL};
    const char *pub[] = {"mosquitto_pub", "-h", "localhost", "-p", port,
                         "--cafile", ca, "--cert", cert, "--key", key,
                         "-i", "ctl-dev", "-t", "x/y", "-m", "hi", NULL};
    FILE *f;
    int rc;
    start_control(&h, NULL);
    snprintf(dir, sizeof(dir), "%s/ctl-dev", h.dir);
    snprintf(pol, sizeof(pol), "%s/pol.json", h.dir);
    f = fopen(pol, "w");
    fputs("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
          "\"Action\":\"iot:*\",\"Resource\":\"*\"}]}", f);
    fclose(f);
    rc = ich_run(thing, NULL, 10000, &out);
    ck_assert_msg(rc == 0 && strstr(out, "arn:aws:iot:us-east-1:123456789012:thing/ctl-dev"),
                  "iotctl thing create: %d\n%s", rc, out);
    free(out);
    rc = ich_run(policy, NULL, 10000, &out);
    ck_assert_msg(rc == 0, "iotctl policy create: %d\n%s", rc, out);
    free(out);
    rc = ich_run(certc, NULL, 30000, &out);
    ck_assert_msg(rc == 0, "iotctl cert create: %d\n%s", rc, out);
    free(out);
    rc = ich_run(status, NULL, 10000, &out);
    ck_assert_msg(rc == 0 && strstr(out, "things") && strstr(out, "1"),
                  "iotctl status: %d\n%s", rc, out);
    free(out);
    snprintf(port, sizeof(port), "%d", ich_port(&h, "mqtt"));
    snprintf(ca, sizeof(ca), "%s/root-ca.pem", dir);
    snprintf(cert, sizeof(cert), "%s/certificate.pem.crt", dir);
    snprintf(key, sizeof(key), "%s/private.pem.key", dir);
    rc = ich_run(pub, NULL, 10000, &out);
    ck_assert_msg(rc == 0, "mosquitto_pub with iotctl's files: %d\n%s", rc, out);
    free(out);
    ck_assert(ich_wait_log(&h, "thing=ctl-dev", 1, 5000));
    ich_stop(&h);
}
END_TEST

/* Raw HTTP: limits checked before reading, errors in AWS's shape, keep-alive
 * and pipelining; MQTT clients are unaffected. */
static char *exchange_n(int port, const char *req, size_t len) {
    int fd = ich_connect(port);
    char *buf = calloc(1, 65536);
    size_t n = 0;
    ssize_t r;
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    shutdown(fd, SHUT_WR);
    while (n < 65535 && (r = recv(fd, buf + n, 65535 - n, 0)) > 0)
        n += (size_t)r;
    close(fd);
    return buf;
}

static char *exchange(int port, const char *req) {
    return exchange_n(port, req, strlen(req));
}

START_TEST(http_framing_and_limits) {
    ich_t h;
    int port;
    char *out, req[512];
    start_control(&h, "control_auth none\nhttp_max_body_size 1K\n"
                      "http_idle_timeout 1s\n");
    ck_assert(ich_wait_log(&h, "control plane unauthenticated", 1, 5000));
    port = ich_port(&h, "control");
    /* two pipelined requests on one connection, answered in order */
    out = exchange(port,
                   "GET /things HTTP/1.1\r\nHost: x\r\n\r\n"
                   "GET /things/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ck_assert_msg(strstr(out, "HTTP/1.1 200 OK") &&
                      strstr(out, "HTTP/1.1 404 Not Found") &&
                      strstr(out, "HTTP/1.1 200 OK") < strstr(out, "HTTP/1.1 404") &&
                      strstr(out, "x-amzn-ErrorType: ResourceNotFoundException:") &&
                      strstr(out, "{\"message\":\"Thing nope cannot be found.\"}"),
                  "%s", out);
    free(out);
    /* a body over http_max_body_size: 413 before the body is read */
    snprintf(req, sizeof(req),
             "POST /things/big HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    out = exchange(port, req);
    ck_assert_msg(strstr(out, "HTTP/1.1 413") &&
                      strstr(out, "RequestEntityTooLargeException"), "%s", out);
    free(out);
    /* malformed request line: 400 and closed */
    out = exchange(port, "GARBAGE\r\n\r\n");
    ck_assert_msg(strstr(out, "HTTP/1.1 400"), "%s", out);
    free(out);
    /* unknown operation and wrong method */
    out = exchange(port, "GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n");
    ck_assert_msg(strstr(out, "HTTP/1.1 404") &&
                      strstr(out, "UnknownOperationException"), "%s", out);
    free(out);
    out = exchange(port, "PUT /things HTTP/1.1\r\nConnection: close\r\n\r\n");
    ck_assert_msg(strstr(out, "HTTP/1.1 405"), "%s", out);
    free(out);
    /* the body of a bad JSON request */
    snprintf(req, sizeof(req), "POST /things/j HTTP/1.1\r\nContent-Length: 3\r\n"
                               "Connection: close\r\n\r\n{x}");
    out = exchange(port, req);
    ck_assert_msg(strstr(out, "HTTP/1.1 400") &&
                      strstr(out, "InvalidRequestException"), "%s", out);
    free(out);
    /* an idle connection is closed after http_idle_timeout; a keep-alive one
     * is answered for as long as it keeps talking */
    {
        int fd = ich_connect(port);
        char b[4096];
        struct timeval tv = {5, 0};
        ssize_t r;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        static const char get[] = "GET /things HTTP/1.1\r\n\r\n";
        ck_assert_int_gt(send(fd, get, sizeof(get) - 1, MSG_NOSIGNAL), 0);
        r = recv(fd, b, sizeof(b), 0);
        ck_assert_int_gt(r, 0);
        r = recv(fd, b, sizeof(b), 0); /* blocks until the idle close */
        ck_assert_int_eq(r, 0);
        close(fd);
    }
    /* nothing was created by the refused requests */
    out = exchange(port, "GET /things HTTP/1.1\r\nConnection: close\r\n\r\n");
    ck_assert_msg(strstr(out, "{\"things\":[]}"), "%s", out);
    free(out);
    ich_stop(&h);
}
END_TEST


Suite *ic_it_suite(void) {
    Suite *s = suite_create("17_control");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, boto3_things);
    tcase_add_test(tc, boto3_types);
    tcase_add_test(tc, boto3_groups);
    tcase_add_test(tc, boto3_principals);
    tcase_add_test(tc, boto3_certificates);
    tcase_add_test(tc, boto3_cas);
    tcase_add_test(tc, boto3_policies);
    tcase_add_test(tc, boto3_endpoint);
    tcase_add_test(tc, boto3_errors);
    tcase_add_test(tc, boto3_signature);
    tcase_add_test(tc, routes_match_botocore_model);
    tcase_add_test(tc, aws_cli_v2);
    suite_add_tcase(s, tc);
    tc = tcase_create("flows");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, device_flow_end_to_end);
    tcase_add_test(tc, seed_file);
    tcase_add_test(tc, iotctl_flow);
    tcase_add_test(tc, http_framing_and_limits);
    suite_add_tcase(s, tc);
    return s;
}
