/* it_23_rules.c - the Rules Engine end to end (py/rules.py): topic rules
 * managed with boto3 and the AWS CLI, republish, Basic Ingest, the http
 * action against a local sink, sqs and dynamoDBv2 actions landing in a
 * local moto_server, the error action, lifecycle events feeding a rule, the
 * counters in `iotctl status`, and rules surviving a restart. */
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

static char ctl_url[64], moto_url[64], mqtt_port[16];
static ich_proc_t moto;
static int moto_port;

/* moto_server on a free port, up when it accepts a connection. */
static void start_moto(const ich_t *h) {
    char port[16];
    const char *argv[] = {"moto_server", "-H", "127.0.0.1", "-p", port, NULL};
    moto_port = ich_free_port();
    snprintf(port, sizeof(port), "%d", moto_port);
    ich_bg_listening(&moto, h, argv, moto_port, 30000);
    snprintf(moto_url, sizeof(moto_url), "http://127.0.0.1:%d", moto_port);
}

static void start(ich_t *h) {
    char body[1024];
    ich_init(h);
    start_moto(h);
    snprintf(body, sizeof(body),
             "credentials " AKID " " SECRET "\nconnect_rate_limit 0\n"
             "aws_service_endpoint %s\n" ICH_MQTT_LISTENER
             "listener control\n  bind 127.0.0.1\n  port 0\n  protocol control\n"
             "  tls off\n",
             moto_url);
    ich_write_conf(h, body);
    ich_spawn(h);
    ich_aws_env(AKID, SECRET);
    snprintf(ctl_url, sizeof(ctl_url), "http://127.0.0.1:%d", ich_port(h, "control"));
    snprintf(mqtt_port, sizeof(mqtt_port), "%d", ich_port(h, "mqtt"));
}

static void group(const char *g) {
    char *out = NULL, want[64];
    const char *argv[] = {"python3", IC_SRCDIR "/tests/integration/py/rules.py", ctl_url,
                          mqtt_port, moto_url, g, NULL};
    int rc = ich_run(argv, NULL, 120000, &out);
    snprintf(want, sizeof(want), "ok %s ", g);
    ck_assert_msg(rc == 0 && strstr(out, want), "rules.py %s exited %d:\n%s", g, rc, out);
    free(out);
}

START_TEST(rules_end_to_end) {
    ich_t h;
    char *out = NULL;
    start(&h);
    group("crud");
    group("republish");
    ck_assert(ich_wait_log(&h, "rule action failed rule=loop_", 1, 5000));
    ck_assert(ich_wait_log(&h, "error=\"Republish loop: the message has been "
                               "republished 8 times (rules_max_republish_depth)\"",
                           1, 5000));
    group("ingest");
    ck_assert(ich_wait_log(&h, "rule not found rule=nosuch_", 1, 5000));
    ck_assert(ich_wait_log(&h, "reason=RuleNotFound details=\"Rule nosuch_", 1, 5000));
    group("http");
    group("aws");
    group("error");
    ck_assert(ich_wait_log(&h, "rule error action rule=err_", 1, 5000));
    group("lifecycle");
    {
        /* a rule whose action fails: its counters and last error */
        char cmd[1024];
        const char *sh[] = {"sh", "-c", cmd, NULL};
        const char *argv[] = {IC_BUILDDIR "/iotctl", "--endpoint", ctl_url, "status",
                              NULL};
        snprintf(cmd, sizeof(cmd),
                 "/usr/bin/aws --endpoint-url %s iot create-topic-rule --rule-name "
                 "st --topic-rule-payload '{\"sql\":\"SELECT * FROM \\u0027st\\u0027\","
                 "\"actions\":[{\"http\":{\"url\":\"http://127.0.0.1:1/x\"}}]}' && "
                 "mosquitto_pub -h 127.0.0.1 -p %s -t st -m x && "
                 "mosquitto_pub -h 127.0.0.1 -p %s -t other -m x",
                 ctl_url, mqtt_port, mqtt_port);
        ck_assert_int_eq(ich_run(sh, NULL, 60000, NULL), 0);
        ck_assert(ich_wait_log(&h, "rule action failed rule=st action=HttpAction "
                                   "resource=http://127.0.0.1:1/x error=\"HTTP POST to "
                                   "http://127.0.0.1:1/x failed: connect refused\" "
                                   "matched=1 fired=1 failures=1", 1, 5000));
        ck_assert_int_eq(ich_run(argv, NULL, 10000, &out), 0);
        ck_assert_msg(strstr(out, "st matched 1 fired 1 sql-errors 0 action-failures 1 "
                                  "error-actions 0 last-error: HttpAction: HTTP POST to "
                                  "http://127.0.0.1:1/x failed: connect refused") &&
                          strstr(out, "rules not found (Basic Ingest)"),
                      "%s", out);
        free(out);
    }
    /* as it stops, the daemon logs every rule's counters */
    ich_terminate(&h);
    ck_assert(ich_wait_log(&h, "rule counters rule=st matched=1 fired=1 sql_errors=0 "
                               "action_failures=1 error_actions=0", 1, 1000));
    ich_cleanup(&h);
    ich_bg_kill(&moto, SIGTERM);
}
END_TEST

/* The AWS CLI creates a rule; it survives a restart and keeps working;
 * with no aws_service_endpoint an AWS action fails into the error action
 * with AWS's error document. */
START_TEST(cli_restart_and_no_endpoint) {
    ich_t h;
    char cmd[2048], *out = NULL;
    const char *sh[] = {"sh", "-c", cmd, NULL};
    start(&h);
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/aws --endpoint-url %s iot create-topic-rule --rule-name keep "
             "--topic-rule-payload '{\"sql\":\"SELECT * FROM \\u0027k/in\\u0027\","
             "\"awsIotSqlVersion\":\"2016-03-23\",\"actions\":[{\"sqs\":{\"roleArn\":"
             "\"arn:aws:iam::123456789012:role/r\",\"queueUrl\":\"https://sqs.us-east-1."
             "amazonaws.com/123456789012/q\"}}],\"errorAction\":{\"republish\":"
             "{\"roleArn\":\"arn:aws:iam::123456789012:role/r\",\"topic\":\"k/err\"}}}' "
             "&& /usr/bin/aws --endpoint-url %s iot create-topic-rule --rule-name bad "
             "--topic-rule-payload '{\"sql\":\"SELECT FROM\",\"actions\":[]}' 2>&1; "
             "true",
             ctl_url, ctl_url);
    ck_assert_int_eq(ich_run(sh, NULL, 60000, &out), 0);
    ck_assert_msg(strstr(out, "An error occurred (SqlParseException) when calling the "
                              "CreateTopicRule operation: "),
                  "%s", out);
    free(out);
    ich_terminate(&h);
    ich_bg_kill(&moto, SIGTERM); /* and reaped */
    /* restart without an AWS endpoint */
    {
        char body[1024];
        snprintf(body, sizeof(body),
                 "credentials " AKID " " SECRET "\nconnect_rate_limit 0\n"
                 ICH_MQTT_LISTENER
                 "listener control\n  bind 127.0.0.1\n  port 0\n  protocol control\n"
                 "  tls off\n");
        ich_write_conf(&h, body);
        /* the seed file also makes a topic rule */
        snprintf(cmd, sizeof(cmd), "%s/test-seed.json", h.dir);
        {
            FILE *f = fopen(cmd, "w");
            ck_assert_ptr_nonnull(f);
            fputs("{\"policies\":[{\"name\":\"" ICH_POLICY "\",\"document\":"
                  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                  "\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}}],"
                  "\"topicRules\":[{\"name\":\"seeded\",\"payload\":{\"sql\":"
                  "\"SELECT VALUE n FROM 'k/seed'\",\"awsIotSqlVersion\":"
                  "\"2016-03-23\",\"actions\":[{\"republish\":{\"roleArn\":"
                  "\"arn:aws:iam::123456789012:role/r\",\"topic\":\"k/err\"}}]}}]}",
                  f);
            fclose(f);
        }
        ich_spawn(&h);
    }
    snprintf(ctl_url, sizeof(ctl_url), "http://127.0.0.1:%d", ich_port(&h, "control"));
    snprintf(mqtt_port, sizeof(mqtt_port), "%d", ich_port(&h, "mqtt"));
    {
        const char *argv[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", mqtt_port, "-t",
                              "k/err", "-C", "1", "-W", "10", "-i", "kw", NULL};
        ich_proc_t sub;
        ich_bg(&sub, &h, argv);
        ck_assert(ich_wait_log(&h, "client subscribed client_id=kw", 1, 5000));
        {
            const char *p[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", mqtt_port,
                               "-t", "k/in", "-m", "{\"a\":1}", NULL};
            ck_assert_int_eq(ich_run(p, NULL, 10000, NULL), 0);
        }
        ck_assert_int_eq(ich_bg_wait(&sub, 15000, &out), 0);
        ck_assert_msg(strstr(out, "{\"ruleName\":\"keep\",\"topic\":\"k/in\","
                                  "\"cloudwatchTraceId\":\"") &&
                          strstr(out, "\"base64OriginalPayload\":\"eyJhIjoxfQ==\","
                                      "\"failures\":[{\"failedAction\":\"SqsAction\","
                                      "\"failedResource\":\"https://sqs.us-east-1."
                                      "amazonaws.com/123456789012/q\",\"errorMessage\":"
                                      "\"no AWS service endpoint configured\"}]}"),
                      "%s", out);
        free(out);
        /* the seeded rule */
        ich_bg(&sub, &h, argv);
        ck_assert(ich_wait_log(&h, "client subscribed client_id=kw", 2, 5000));
        {
            const char *p[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", mqtt_port,
                               "-t", "k/seed", "-m", "{\"n\":42}", NULL};
            ck_assert_int_eq(ich_run(p, NULL, 10000, NULL), 0);
        }
        ck_assert_int_eq(ich_bg_wait(&sub, 15000, &out), 0);
        ck_assert_str_eq(out, "42\n");
        free(out);
        ck_assert(ich_wait_log(&h, "rule created rule=seeded", 1, 5000));
    }
    /* applied again at the next start: nothing changes */
    ich_terminate(&h);
    ich_spawn(&h);
    ck_assert(ich_wait_log(&h, "seed applied file=", 2, 5000));
    ck_assert_int_eq(ich_count_log(&h, "rule created rule=seeded"), 1);
    ck_assert_int_eq(ich_count_log(&h, "rule replaced rule=seeded"), 0);
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("23_rules");
    TCase *tc = tcase_create("rules");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, rules_end_to_end);
    tcase_add_test(tc, cli_restart_and_no_endpoint);
    suite_add_tcase(s, tc);
    return s;
}
