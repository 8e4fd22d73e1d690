/* metrics.c - GET /metrics on the control listener: the broker's counters
 * in the Prometheus text exposition format (version 0.0.4).
 *
 * Reads the counters the modules keep (connections per listener and
 * protocol, bytes, messages by QoS and direction, drops by reason,
 * sessions, retained messages, shadow requests, rule executions, the
 * store's queue and commit time) and prints them; keeps no state and
 * changes nothing; ic__ctl_counters_json gives the same counters to
 * /iotcored/status (`iotctl status`). Unauthenticated, like /iotcored/root-ca: Prometheus does
 * not sign requests, and the control listener is on loopback by default.
 * Loop thread only.
 */
#include "ctl.h"

#include "iotcored/auth.h"
#include "iotcored/buf.h"
#include "iotcored/conn.h"
#include "iotcored/db.h"
#include "iotcored/engine.h"
#include "iotcored/retain.h"
#include "iotcored/session.h"
#include "iotcored/shadow.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static void head(ic_buf_t *b, const char *name, const char *type, const char *help) {
    ic_buf_appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void val(ic_buf_t *b, const char *name, const char *labels, uint64_t v) {
    if (labels && labels[0])
        ic_buf_appendf(b, "%s{%s} %llu\n", name, labels, (unsigned long long)v);
    else
        ic_buf_appendf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void one(ic_buf_t *b, const char *name, const char *type, const char *help,
                uint64_t v) {
    head(b, name, type, help);
    val(b, name, NULL, v);
}

static void on_conns(const char *listener, const char *protocol, uint64_t n,
                     void *data) {
    char labels[160];
    snprintf(labels, sizeof(labels), "listener=\"%s\",protocol=\"%s\"", listener,
             protocol);
    val(data, "iotcored_connections", labels, n);
}

CTL_HANDLER(ic__ctl_metrics) {
    ctl_t *c = data;
    ic_proto_env_t *env = c->env;
    ic_buf_t *b = &resp->body;
    uint64_t bin = 0, bout = 0, total_us = 0, max_us = 0, sh[3][2];
    static const char *const ops[3] = {"get", "update", "delete"};
    char labels[96];
    int i;
    (void)call;
    ic_buf_reset(b);
    head(b, "iotcored_connections", "gauge", "Open client connections.");
    if (c->b->conns)
        ic_conns_stats(c->b->conns, on_conns, b, &bin, &bout);
    one(b, "iotcored_received_bytes_total", "counter", "Bytes read from clients.", bin);
    one(b, "iotcored_sent_bytes_total", "counter", "Bytes written to clients.", bout);
    head(b, "iotcored_messages_received_total", "counter",
         "PUBLISH packets accepted from clients, by QoS.");
    val(b, "iotcored_messages_received_total", "qos=\"0\"", env->msgs_in[0]);
    val(b, "iotcored_messages_received_total", "qos=\"1\"", env->msgs_in[1]);
    head(b, "iotcored_messages_sent_total", "counter",
         "PUBLISH packets sent to clients, by QoS.");
    val(b, "iotcored_messages_sent_total", "qos=\"0\"", env->msgs_out[0]);
    val(b, "iotcored_messages_sent_total", "qos=\"1\"", env->msgs_out[1]);
    head(b, "iotcored_dropped_total", "counter",
         "Messages and operations dropped, by reason.");
    val(b, "iotcored_dropped_total", "reason=\"policy\"",
        env->auth ? ic_auth_denials(env->auth) : 0);
    val(b, "iotcored_dropped_total", "reason=\"rate_limit\"", env->rate_limited);
    val(b, "iotcored_dropped_total", "reason=\"too_large\"", env->too_large);
    val(b, "iotcored_dropped_total", "reason=\"slow_consumer\"", env->dropped_qos0);
    val(b, "iotcored_dropped_total", "reason=\"queue_full\"",
        ic_sessions_dropped(env->sessions));
    one(b, "iotcored_sessions", "gauge", "MQTT sessions (online and persistent).",
        ic_sessions_count(env->sessions));
    one(b, "iotcored_retained_messages", "gauge", "Retained messages.",
        ic_retain_count(env->retain));
    head(b, "iotcored_shadow_requests_total", "counter",
         "Device Shadow requests answered, by operation and result.");
    ic_shadow_svc_stats(env->shadows, sh);
    for (i = 0; i < 3; i++) {
        snprintf(labels, sizeof(labels), "operation=\"%s\",result=\"accepted\"", ops[i]);
        val(b, "iotcored_shadow_requests_total", labels, sh[i][0]);
        snprintf(labels, sizeof(labels), "operation=\"%s\",result=\"rejected\"", ops[i]);
        val(b, "iotcored_shadow_requests_total", labels, sh[i][1]);
    }
    if (c->b->engine) {
        ic_engine_totals_t t;
        ic_engine_totals(c->b->engine, &t);
        one(b, "iotcored_rules", "gauge", "Topic rules.", t.rules);
        one(b, "iotcored_rule_matches_total", "counter",
            "Messages matched by a rule's FROM (or sent by Basic Ingest).", t.matched);
        one(b, "iotcored_rule_executions_total", "counter",
            "Rule executions whose WHERE held (actions run).", t.fired);
        one(b, "iotcored_rule_sql_errors_total", "counter",
            "Rule SQL evaluation errors.", t.sql_errors);
        one(b, "iotcored_rule_action_failures_total", "counter",
            "Rule actions that failed.", t.action_failures);
        one(b, "iotcored_rule_error_actions_total", "counter",
            "Error actions run.", t.error_actions);
        one(b, "iotcored_rule_queue", "gauge", "Messages waiting for rules.", t.queued);
        one(b, "iotcored_rule_dropped_total", "counter",
            "Messages dropped for rules (rules_queue_max).", t.dropped);
        one(b, "iotcored_rule_not_found_total", "counter",
            "Basic Ingest messages for a missing or disabled rule.", t.not_found);
    }
    if (c->b->db) {
        ic_db_commit_time(c->b->db, &total_us, &max_us);
        one(b, "iotcored_store_queue", "gauge",
            "Store writes queued and not yet committed.", ic_db_depth(c->b->db));
        one(b, "iotcored_store_commits_total", "counter", "Store transactions.",
            ic_db_commits(c->b->db));
        one(b, "iotcored_store_writes_total", "counter", "Store writes committed.",
            ic_db_ops(c->b->db));
        head(b, "iotcored_store_commit_seconds_total", "counter",
             "Time spent in store transactions (fsync included).");
        ic_buf_appendf(b, "iotcored_store_commit_seconds_total %.6f\n",
                       (double)total_us / 1e6);
        head(b, "iotcored_store_commit_max_seconds", "gauge",
             "Longest store transaction so far.");
        ic_buf_appendf(b, "iotcored_store_commit_max_seconds %.6f\n",
                       (double)max_us / 1e6);
    }
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- the same counters for /iotcored/status ------------------------------ */

static void add_num(cJSON *o, const char *k, uint64_t v) {
    cJSON_AddNumberToObject(o, k, (double)v);
}

/* one listener's connections, summed over its protocols */
typedef struct {
    cJSON *listeners;
} by_listener_t;

static void on_conns_json(const char *listener, const char *protocol, uint64_t n,
                          void *data) {
    by_listener_t *bl = data;
    cJSON *l, *cur;
    (void)protocol;
    cJSON_ArrayForEach(l, bl->listeners) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(l, "name");
        if (cJSON_IsString(name) && strcmp(name->valuestring, listener) == 0) {
            cur = cJSON_GetObjectItemCaseSensitive(l, "connections");
            if (cJSON_IsNumber(cur))
                cJSON_SetNumberValue(cur, cur->valuedouble + (double)n);
            else
                add_num(l, "connections", n);
            return;
        }
    }
}

void ic__ctl_counters_json(ctl_t *c, cJSON *o, cJSON *listeners) {
    ic_proto_env_t *env = c->env;
    uint64_t bin = 0, bout = 0, total_us = 0, max_us = 0, sh[3][2];
    static const char *const ops[3] = {"get", "update", "delete"};
    cJSON *x, *l;
    int i;
    by_listener_t bl = {listeners};
    cJSON_ArrayForEach(l, listeners) {
        if (!cJSON_GetObjectItemCaseSensitive(l, "connections"))
            add_num(l, "connections", 0);
    }
    if (c->b->conns)
        ic_conns_stats(c->b->conns, on_conns_json, &bl, &bin, &bout);
    add_num(o, "bytesReceived", bin);
    add_num(o, "bytesSent", bout);
    x = cJSON_AddObjectToObject(o, "messagesReceived");
    add_num(x, "qos0", env->msgs_in[0]);
    add_num(x, "qos1", env->msgs_in[1]);
    x = cJSON_AddObjectToObject(o, "messagesSent");
    add_num(x, "qos0", env->msgs_out[0]);
    add_num(x, "qos1", env->msgs_out[1]);
    x = cJSON_AddObjectToObject(o, "dropped");
    add_num(x, "policy", env->auth ? ic_auth_denials(env->auth) : 0);
    add_num(x, "rateLimit", env->rate_limited);
    add_num(x, "tooLarge", env->too_large);
    add_num(x, "slowConsumer", env->dropped_qos0);
    add_num(x, "queueFull", ic_sessions_dropped(env->sessions));
    add_num(o, "sessions", ic_sessions_count(env->sessions));
    add_num(o, "retainedMessages", ic_retain_count(env->retain));
    x = cJSON_AddObjectToObject(o, "shadowRequests");
    ic_shadow_svc_stats(env->shadows, sh);
    for (i = 0; i < 3; i++) {
        cJSON *op = cJSON_AddObjectToObject(x, ops[i]);
        add_num(op, "accepted", sh[i][0]);
        add_num(op, "rejected", sh[i][1]);
    }
    if (c->b->db) {
        ic_db_commit_time(c->b->db, &total_us, &max_us);
        x = cJSON_AddObjectToObject(o, "store");
        add_num(x, "queue", ic_db_depth(c->b->db));
        add_num(x, "commits", ic_db_commits(c->b->db));
        add_num(x, "writes", ic_db_ops(c->b->db));
        cJSON_AddNumberToObject(x, "commitSecondsTotal", (double)total_us / 1e6);
        cJSON_AddNumberToObject(x, "commitMaxSeconds", (double)max_us / 1e6);
    }
}
