/* it_16_bench_smoke.c - a short run of iotcored-bench against the real
 * daemon: a few hundred messages per scenario must all arrive (no loss, no
 * duplicates) and the JSON report must parse. The figures themselves are
 * measured by `make bench`, never asserted here. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF ICH_MQTT_LISTENER "publish_rate_limit 0\nconnect_rate_limit 0\n" \
                               "throughput_limit 0\n"

static void smoke(const ich_t *h, const char *const *args, const char *check) {
    char port[16], pid[16], *out = NULL, *json;
    const char *argv[32];
    const char *py[] = {"/usr/bin/python3", "-c", check, NULL};
    int n = 0, rc;
    snprintf(port, sizeof(port), "%d", ich_port(h, "mqtt"));
    snprintf(pid, sizeof(pid), "%d", (int)h->pid);
    argv[n++] = IC_BUILDDIR "/iotcored-bench";
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--broker-pid";
    argv[n++] = pid;
    argv[n++] = "--json";
    while (*args)
        argv[n++] = *args++;
    argv[n] = NULL;
    rc = ich_run(argv, NULL, 30000, &out);
    ck_assert_msg(rc == 0, "bench exited %d: %s", rc, out);
    json = strrchr(out, '{');
    ck_assert_ptr_nonnull(json);
    rc = ich_run(py, json, 10000, NULL);
    ck_assert_msg(rc == 0, "report check failed for: %s", json);
    free(out);
}

#define NO_LOSS                                                                \
    "import json,sys; d=json.loads(sys.stdin.read()); "                        \
    "assert d['loss']==0 and d['duplicates']==0, d; "                          \
    "assert d['expected']==d['received']>0, d; "                               \
    "assert d['p99_us']>0 and d['broker_cpu_s']>=0, d"

START_TEST(p2p_qos1) {
    ich_t h;
    const char *args[] = {"--scenario", "p2p", "--pubs", "5", "--rate", "100",
                          "--qos", "1", "--warmup", "0.2", "--duration", "1",
                          "--drain", "0.5", NULL};
    ich_start(&h, CONF);
    smoke(&h, args, NO_LOSS);
    ich_stop(&h);
}
END_TEST

START_TEST(fanout_and_shared_fanin_v5) {
    ich_t h;
    const char *fan[] = {"--scenario", "fanout", "--pubs", "1", "--subs", "20",
                         "--rate", "200", "--version", "5", "--warmup", "0.2",
                         "--duration", "1", "--drain", "0.5", NULL};
    const char *fanin[] = {"--scenario", "fanin", "--pubs", "10", "--subs", "2",
                           "--share", "--rate", "20", "--qos", "1", "--warmup",
                           "0.2", "--duration", "1", "--drain", "0.5", NULL};
    ich_start(&h, CONF);
    smoke(&h, fan, NO_LOSS);
    smoke(&h, fanin, NO_LOSS);
    ich_stop(&h);
}
END_TEST

START_TEST(idle_connections) {
    ich_t h;
    const char *args[] = {"--scenario", "conn", "--conns", "200", NULL};
    ich_start(&h, CONF);
    smoke(&h, args,
          "import json,sys; d=json.loads(sys.stdin.read()); "
          "assert d['rss_after_kb']>0 and d['bytes_per_conn']>=0, d");
    ich_stop(&h);
}
END_TEST

/* --via-rule: every message reaches its subscriber only through a
 * republish rule with a WHERE clause on the JSON payload (bench.sh rules). */
START_TEST(through_a_rule) {
    ich_t h;
    char seed[300], conf[600];
    FILE *f;
    const char *args[] = {"--scenario", "p2p", "--pubs", "5", "--via-rule", "--rate",
                          "100", "--warmup", "0.2", "--duration", "1", "--drain",
                          "0.5", NULL};
    ich_init(&h);
    snprintf(seed, sizeof(seed), "%s/seed.json", h.dir);
    f = fopen(seed, "w");
    ck_assert_ptr_nonnull(f);
    /* (this seed replaces the harness's: its allow-all policy again) */
    fputs("{\"policies\": [{\"name\": \"" ICH_POLICY "\", \"document\": "
          "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", "
          "\"Action\": \"iot:*\", \"Resource\": \"*\"}]}}],\n"
          "\"topicRules\": [{\"name\": \"via\", \"payload\": {\"sql\": \"SELECT * "
          "FROM 'bench/in/+' WHERE v < 1000\", \"actions\": [{\"republish\": "
          "{\"roleArn\": \"arn:aws:iam::123456789012:role/r\", \"topic\": "
          "\"bench/out/${topic(3)}\"}}]}}]}",
          f);
    fclose(f);
    snprintf(conf, sizeof(conf), CONF "seed %s\n", seed);
    ich_write_conf(&h, conf);
    ich_spawn(&h);
    smoke(&h, args, NO_LOSS);
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("16_bench_smoke");
    TCase *tc = tcase_create("bench");
    tcase_add_test(tc, p2p_qos1);
    tcase_add_test(tc, fanout_and_shared_fanin_v5);
    tcase_add_test(tc, idle_connections);
    tcase_add_test(tc, through_a_rule);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
