/* engine.c - the Rules Engine: the topic rules and their execution
 * (aws-iot-rules.md 1, 8, 10, 11).
 *
 *   router publish -> ic_engine_tap: match FROM filters (a trie of the
 *        enabled rules), queue (rule, message, publisher)   [no evaluation]
 *   check handle   -> exec: SET/WHERE/SELECT (rules/sql.c), every action
 *        (rules/actions.c) independently -> all done -> error action once
 *        with every failure -> counters
 *
 * Owns the rules (name -> compiled rule, refcounted so an execution in
 * flight survives a replace or delete), the FROM trie, the queue and the
 * executions. Writes rules through to the store. It must not know HTTP or
 * sockets (actions use the injected transport) or answer API callers
 * (api/ctl_rules.c maps the results). Loop thread only.
 *
 * EMULATOR choices: an SQL evaluation error is logged and counted and, as
 * on AWS, runs no error action unless rules_sql_error_action is on (U02,
 * then one failure with failedAction "SqlEvaluation"); the error document's
 * topic is the topic as published (Basic Ingest prefix included, U40);
 * Basic Ingest does not check FROM (U86); a FROM under $aws/rules/ never
 * matches (U14); the queue is bounded (rules_queue_max) and a message
 * beyond it is dropped for rules with a RuleMessageThrottled log line.
 */
#include "iotcored/engine.h"

#include "iotcored/alloc.h"
#include "iotcored/clock.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/map.h"
#include "iotcored/ruledb.h"
#include "iotcored/str.h"
#include "iotcored/trie.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RULES 1000    /* AWS 8.2 */
#define MAX_ACTIONS 10    /* AWS 8.2 */
#define MAX_RULE_BYTES (256 * 1024)
#define BATCH 64          /* executions started per check/idle callback */

typedef struct rule_s {
    uint32_t refs;
    char *name;
    cJSON *payload;           /* as stored: TopicRulePayload */
    char *tags;               /* JSON array text */
    int64_t created_ms;
    bool disabled;
    bool is_live;             /* still in the table */
    char version[16];         /* effective SQL version */
    ic_sql_t *sql;            /* NULL: stored rule that no longer compiles */
    char *from;               /* FROM filter, "" none */
    bool in_trie;
    ic_action_t *actions[MAX_ACTIONS];
    size_t n_actions;
    ic_action_t *error_action;
    /* counters */
    uint64_t matched, fired, sql_errors, failures, error_runs;
    char last_error[300];
    int64_t last_error_ms;
} rule_t;

/* What every rule matched by one message shares: its publisher and its
 * payload parsed once (made at the tap, refcounted by items and runs). */
typedef struct tap_s {
    unsigned refs;
    ic_sql_payload_t *parsed; /* ref held; NULL for a single rule */
    bool is_mqtt5;
    const char *client_id, *principal, *source_ip; /* into src[] */
    char src[];               /* client ID \0 principal \0 ip \0 */
} tap_t;

typedef struct item_s {
    rule_t *r;                /* ref held */
    ic_msg_t *m;              /* ref held */
    tap_t *tap;               /* ref held */
    uint16_t topic_off;       /* Basic Ingest: the rest starts here */
    int64_t now_ms;
} item_t;

static void tap_unref(tap_t *t) {
    if (t == NULL || --t->refs > 0)
        return;
    ic_sql_payload_unref(t->parsed);
    free(t);
}

static tap_t *tap_new(const ic_msg_t *m, const ic_engine_src_t *src, bool share) {
    size_t a = 0, b = 0, c = 0;
    tap_t *t;
    if (src) {
        a = src->client_id ? strlen(src->client_id) : 0;
        b = src->principal ? strlen(src->principal) : 0;
        c = src->source_ip ? strlen(src->source_ip) : 0;
    }
    t = ic_xmalloc(sizeof(*t) + a + b + c + 3);
    memset(t, 0, sizeof(*t));
    t->refs = 1;
    t->src[0] = t->src[a + 1] = t->src[a + b + 2] = '\0';
    if (src) {
        memcpy(t->src, src->client_id ? src->client_id : "", a + 1);
        memcpy(t->src + a + 1, src->principal ? src->principal : "", b + 1);
        memcpy(t->src + a + b + 2, src->source_ip ? src->source_ip : "", c + 1);
        t->client_id = src->client_id ? t->src : NULL;
        t->principal = src->principal ? t->src + a + 1 : NULL;
        t->source_ip = src->source_ip ? t->src + a + b + 2 : NULL;
        t->is_mqtt5 = src->is_mqtt5;
    }
    if (share)
        t->parsed = ic_sql_payload_new(m->payload, m->payload_len);
    return t;
}

struct ic_engine_s {
    uv_loop_t *loop;
    ic_db_t *db;
    const ic_action_env_t *env;
    const ic_engine_cfg_t *cfg;
    ic_engine_lookups_t look;
    ic_map_t rules;           /* name -> rule_t* */
    ic_trie_t *trie;          /* FROM filters of enabled rules */
    size_t n_enabled;
    item_t *q;                /* ring */
    size_t q_head, q_n, q_cap;
    uv_idle_t idle;
    uv_check_t check;
    int handles_open;
    bool idle_on, stopped;
    void (*stop_cb)(void *);
    void *stop_data;
    size_t n_exec;            /* executions not finished */
    uint64_t dropped, not_found, ingested;
    /* scratch of the tap's trie walk */
    rule_t **hits;
    size_t n_hits, cap_hits;
};

static void rule_unref(rule_t *r) {
    size_t i;
    if (r == NULL || --r->refs > 0)
        return;
    for (i = 0; i < r->n_actions; i++)
        ic_action_free(r->actions[i]);
    ic_action_free(r->error_action);
    ic_sql_free(r->sql);
    cJSON_Delete(r->payload);
    free(r->tags);
    free(r->from);
    free(r->name);
    free(r);
}

/* The rule's last error, "<what>: <why>", for `iotctl status`. */
static void rule_fail(rule_t *r, const char *what, const char *why) {
    snprintf(r->last_error, sizeof(r->last_error), "%s: %s", what, why);
    r->last_error_ms = ic_clock_wall_ms();
}

/* ---- life ------------------------------------------------------------------------- */

static void on_check(uv_check_t *h);

ic_engine_t *ic_engine_new(uv_loop_t *loop, ic_db_t *db,
                           const ic_action_env_t *env,
                           const ic_engine_cfg_t *cfg,
                           const ic_engine_lookups_t *lookups) {
    ic_engine_t *e = ic_xcalloc(1, sizeof(*e));
    e->loop = loop;
    e->db = db;
    e->env = env;
    e->cfg = cfg;
    if (lookups)
        e->look = *lookups;
    ic_map_init(&e->rules);
    e->trie = ic_trie_new(false); /* AWS: a/# does not match a */
    uv_idle_init(loop, &e->idle);
    uv_check_init(loop, &e->check);
    e->idle.data = e->check.data = e;
    /* The queue is run in the check phase, right after the poll that
     * queued it (no extra loop turn per batch). Started here, before the
     * connections' check handle exists: libuv runs the most recently
     * started check handle first, so deliveries are flushed before any
     * rule runs and rules never delay them. Unref'd: it does not keep the
     * loop alive. The idle handle only keeps poll from blocking while
     * the queue is not empty. */
    uv_check_start(&e->check, on_check);
    uv_unref((uv_handle_t *)&e->check);
    e->handles_open = 2;
    return e;
}

static void drop_queue(ic_engine_t *e) {
    while (e->q_n > 0) {
        item_t *it = &e->q[e->q_head];
        rule_unref(it->r);
        ic_msg_unref(it->m);
        tap_unref(it->tap);
        e->q_head = (e->q_head + 1) % e->q_cap;
        e->q_n--;
    }
}

static void on_idle_closed(uv_handle_t *h) {
    ic_engine_t *e = h->data;
    if (--e->handles_open == 0 && e->stop_cb)
        e->stop_cb(e->stop_data);
}

void ic_engine_stop(ic_engine_t *e, void (*cb)(void *data), void *data) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *en;
    while ((en = ic_map_next(&e->rules, &it)) != NULL) {
        /* each rule's counters, once, as the daemon stops */
        const rule_t *r = en->val;
        ic_log_info("rule counters", "rule=%s matched=%llu fired=%llu sql_errors=%llu "
                    "action_failures=%llu error_actions=%llu", r->name,
                    (unsigned long long)r->matched, (unsigned long long)r->fired,
                    (unsigned long long)r->sql_errors, (unsigned long long)r->failures,
                    (unsigned long long)r->error_runs);
    }
    e->stopped = true;
    e->stop_cb = cb;
    e->stop_data = data;
    drop_queue(e);
    uv_close((uv_handle_t *)&e->idle, on_idle_closed);
    uv_close((uv_handle_t *)&e->check, on_idle_closed);
}

void ic_engine_free(ic_engine_t *e) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *en;
    if (e == NULL)
        return;
    drop_queue(e);
    while ((en = ic_map_next(&e->rules, &it)) != NULL) {
        rule_t *r = en->val;
        r->is_live = false;
        rule_unref(r);
    }
    ic_map_free(&e->rules);
    ic_trie_free(e->trie);
    free(e->q);
    free(e->hits);
    free(e);
}

size_t ic_engine_count(const ic_engine_t *e) {
    return e->rules.n;
}

const cJSON *ic_engine_payload(ic_engine_t *e, const char *name) {
    rule_t *r = ic_map_get(&e->rules, name, strlen(name));
    return r ? r->payload : NULL;
}

bool ic_engine_payload_equal(const cJSON *stored, const cJSON *payload) {
    cJSON *p = cJSON_Duplicate(payload, true);
    bool same;
    if (cJSON_GetObjectItemCaseSensitive(p, "ruleDisabled") == NULL)
        cJSON_AddBoolToObject(p, "ruleDisabled", false);
    same = cJSON_Compare(stored, p, true);
    cJSON_Delete(p);
    return same;
}

/* ---- compile --------------------------------------------------------------------- */

static bool name_ok(const char *n) {
    size_t i, len = strlen(n);
    if (len == 0 || len > 128)
        return false;
    for (i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

/* A rule from its TopicRulePayload, or NULL with the error kind and
 * message. */
static rule_t *compile(const char *name, const cJSON *payload,
                       ic_engine_err_t *kind, char *err, size_t errlen) {
    const cJSON *sql = cJSON_GetObjectItemCaseSensitive(payload, "sql");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(payload, "awsIotSqlVersion");
    const cJSON *acts = cJSON_GetObjectItemCaseSensitive(payload, "actions");
    const cJSON *ea = cJSON_GetObjectItemCaseSensitive(payload, "errorAction");
    const cJSON *dis = cJSON_GetObjectItemCaseSensitive(payload, "ruleDisabled");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(payload, "description");
    const cJSON *a;
    ic_sql_err_t se;
    rule_t *r;
    *kind = IC_ENGINE_E_INVALID;
    if (!cJSON_IsObject(payload)) {
        snprintf(err, errlen, "The topic rule payload must be a JSON object");
        return NULL;
    }
    if (!cJSON_IsString(sql) || sql->valuestring[0] == '\0') {
        snprintf(err, errlen, "1 validation error detected: Value null at "
                 "'topicRulePayload.sql' failed to satisfy constraint: Member must "
                 "not be null");
        return NULL;
    }
    if (!cJSON_IsArray(acts)) {
        snprintf(err, errlen, "1 validation error detected: Value null at "
                 "'topicRulePayload.actions' failed to satisfy constraint: Member "
                 "must not be null");
        return NULL;
    }
    if (cJSON_GetArraySize(acts) > MAX_ACTIONS) {
        snprintf(err, errlen, "1 validation error detected: Value at "
                 "'topicRulePayload.actions' failed to satisfy constraint: Member "
                 "must have length less than or equal to %d", MAX_ACTIONS);
        return NULL;
    }
    if (ver && !cJSON_IsString(ver)) {
        snprintf(err, errlen, "awsIotSqlVersion must be a string");
        return NULL;
    }
    if (ver && strcmp(ver->valuestring, "2015-10-08") != 0 &&
        strcmp(ver->valuestring, "2016-03-23") != 0 &&
        strcmp(ver->valuestring, "beta") != 0) {
        snprintf(err, errlen, "Unsupported SQL version: %.40s", ver->valuestring);
        return NULL;
    }
    if ((dis && !cJSON_IsBool(dis)) || (desc && !cJSON_IsString(desc))) {
        snprintf(err, errlen, "ruleDisabled must be a boolean and description a "
                 "string");
        return NULL;
    }
    r = ic_xcalloc(1, sizeof(*r));
    r->refs = 1;
    r->name = ic_xstrdup(name);
    snprintf(r->version, sizeof(r->version), "%s",
             ver ? ver->valuestring : "2015-10-08"); /* AWS 8.2: the default */
    r->disabled = cJSON_IsTrue(dis);
    /* the statement is parsed from the rule's own copy of the payload,
     * which lives as long as the compiled statement */
    r->payload = cJSON_Duplicate(payload, true);
    sql = cJSON_GetObjectItemCaseSensitive(r->payload, "sql");
    r->sql = ic_sql_parse(sql->valuestring, r->version, &se);
    if (r->sql == NULL) {
        *kind = IC_ENGINE_E_SQL;
        snprintf(err, errlen, "%s", se.message);
        rule_unref(r);
        return NULL;
    }
    r->from = ic_xstrdup(ic_sql_from(r->sql));
    cJSON_ArrayForEach(a, acts) {
        ic_action_t *x = ic_action_compile(a, r->version, err, errlen);
        if (x == NULL) {
            rule_unref(r);
            return NULL;
        }
        r->actions[r->n_actions++] = x;
    }
    if (ea && !cJSON_IsNull(ea)) {
        r->error_action = ic_action_compile(ea, r->version, err, errlen);
        if (r->error_action == NULL) {
            rule_unref(r);
            return NULL;
        }
    }
    /* what GetTopicRule echoes: the effective version and state */
    if (cJSON_GetObjectItemCaseSensitive(r->payload, "ruleDisabled") == NULL)
        cJSON_AddBoolToObject(r->payload, "ruleDisabled", false);
    *kind = IC_ENGINE_OK;
    return r;
}

static bool from_matchable(const rule_t *r) {
    return r->from[0] != '\0' && strncmp(r->from, "$aws/rules/", 11) != 0;
}

static void trie_sync(ic_engine_t *e, rule_t *r) {
    bool want = r->is_live && !r->disabled && r->sql && from_matchable(r);
    if (want == r->in_trie)
        return;
    if (want)
        ic_trie_insert(e->trie, r->from, strlen(r->from), NULL, 0, r, 0);
    else
        ic_trie_remove(e->trie, r->from, strlen(r->from), NULL, 0, r);
    r->in_trie = want;
    if (want)
        e->n_enabled++;
    else
        e->n_enabled--;
}

static void persist(ic_engine_t *e, const rule_t *r) {
    char *json;
    if (e->db == NULL)
        return;
    json = cJSON_PrintUnformatted(r->payload);
    ic_ruledb_put(e->db, r->name, json, r->tags ? r->tags : "[]", r->created_ms);
    cJSON_free(json);
}

static void install(ic_engine_t *e, rule_t *r) {
    rule_t *old = ic_map_get(&e->rules, r->name, strlen(r->name));
    if (old) {
        old->is_live = false;
        trie_sync(e, old);
        rule_unref(old);
    }
    r->is_live = true;
    ic_map_put(&e->rules, r->name, strlen(r->name), r);
    trie_sync(e, r);
}

/* ---- management ------------------------------------------------------------------ */

ic_engine_err_t ic_engine_put(ic_engine_t *e, const char *name,
                              const cJSON *payload, const char *tags,
                              bool replace, char *err, size_t errlen) {
    rule_t *old = ic_map_get(&e->rules, name, strlen(name)), *r;
    ic_engine_err_t kind;
    char *text;
    size_t size;
    if (!name_ok(name)) {
        snprintf(err, errlen, "1 validation error detected: Value '%.140s' at "
                 "'ruleName' failed to satisfy constraint: Member must satisfy "
                 "regular expression pattern: ^[a-zA-Z0-9_]+$", name);
        return IC_ENGINE_E_INVALID;
    }
    if (replace && old == NULL) {
        snprintf(err, errlen, "Access to topic rule '%s' was denied", name);
        return IC_ENGINE_E_NOT_FOUND;
    }
    if (!replace && old != NULL) {
        snprintf(err, errlen, "Topic rule with name %s already exists", name);
        return IC_ENGINE_E_EXISTS;
    }
    if (!replace && e->rules.n >= MAX_RULES) {
        snprintf(err, errlen, "The maximum number of topic rules (%d) was reached",
                 MAX_RULES);
        return IC_ENGINE_E_INVALID;
    }
    text = cJSON_PrintUnformatted(payload);
    size = text ? strlen(text) : 0;
    cJSON_free(text);
    if (size > MAX_RULE_BYTES) {
        snprintf(err, errlen, "The topic rule exceeds the maximum size of 256 KB");
        return IC_ENGINE_E_INVALID;
    }
    r = compile(name, payload, &kind, err, errlen);
    if (r == NULL)
        return kind;
    r->created_ms = old ? old->created_ms : ic_clock_wall_ms();
    r->tags = ic_xstrdup(tags ? tags : (old && old->tags ? old->tags : "[]"));
    install(e, r);
    persist(e, r);
    ic_log_info(replace ? "rule replaced" : "rule created",
                "rule=%s from=%s actions=%zu disabled=%d", name,
                r->from[0] ? r->from : "-", r->n_actions, r->disabled);
    return IC_ENGINE_OK;
}

static void add_time(cJSON *o, const char *key, int64_t ms) {
    cJSON_AddNumberToObject(o, key, (double)ms / 1000.0);
}

static void arn_of(const ic_engine_t *e, const char *name, char *out, size_t cap) {
    snprintf(out, cap, "arn:aws:iot:%s:%s:rule/%s", e->cfg->region,
             e->cfg->account_id, name);
}

cJSON *ic_engine_get(ic_engine_t *e, const char *name) {
    rule_t *r = ic_map_get(&e->rules, name, strlen(name));
    cJSON *o, *rule, *x;
    char arn[300];
    if (r == NULL)
        return NULL;
    o = cJSON_CreateObject();
    arn_of(e, name, arn, sizeof(arn));
    cJSON_AddStringToObject(o, "ruleArn", arn);
    rule = cJSON_AddObjectToObject(o, "rule");
    cJSON_AddStringToObject(rule, "ruleName", r->name);
    x = cJSON_GetObjectItemCaseSensitive(r->payload, "sql");
    cJSON_AddStringToObject(rule, "sql", x->valuestring);
    x = cJSON_GetObjectItemCaseSensitive(r->payload, "description");
    if (cJSON_IsString(x))
        cJSON_AddStringToObject(rule, "description", x->valuestring);
    add_time(rule, "createdAt", r->created_ms);
    cJSON_AddItemToObject(rule, "actions",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
                                              r->payload, "actions"),
                                          true));
    cJSON_AddBoolToObject(rule, "ruleDisabled", r->disabled);
    cJSON_AddStringToObject(rule, "awsIotSqlVersion", r->version);
    x = cJSON_GetObjectItemCaseSensitive(r->payload, "errorAction");
    if (x && !cJSON_IsNull(x))
        cJSON_AddItemToObject(rule, "errorAction", cJSON_Duplicate(x, true));
    return o;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((*(rule_t *const *)a)->name, (*(rule_t *const *)b)->name);
}

void ic_engine_list(ic_engine_t *e, const char *after, const char *topic,
                    int disabled, size_t max, cJSON *into, char *last,
                    size_t last_cap) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *en;
    rule_t **all = ic_xcalloc(e->rules.n + 1, sizeof(*all));
    size_t n = 0, i, added = 0;
    bool more = false;
    last[0] = '\0';
    while ((en = ic_map_next(&e->rules, &it)) != NULL)
        all[n++] = en->val;
    if (n > 1)
        qsort(all, n, sizeof(*all), cmp_name);
    for (i = 0; i < n; i++) {
        rule_t *r = all[i];
        cJSON *o;
        char arn[300];
        if (after && after[0] && strcmp(r->name, after) <= 0)
            continue;
        if (topic && strcmp(r->from, topic) != 0) /* U66: equal topicPattern */
            continue;
        if (disabled >= 0 && r->disabled != (disabled == 1))
            continue;
        if (added == max) {
            more = true;
            break;
        }
        o = cJSON_CreateObject();
        arn_of(e, r->name, arn, sizeof(arn));
        cJSON_AddStringToObject(o, "ruleArn", arn);
        cJSON_AddStringToObject(o, "ruleName", r->name);
        if (r->from[0]) /* U15: no FROM, no topicPattern */
            cJSON_AddStringToObject(o, "topicPattern", r->from);
        add_time(o, "createdAt", r->created_ms);
        cJSON_AddBoolToObject(o, "ruleDisabled", r->disabled);
        cJSON_AddItemToArray(into, o);
        added++;
    }
    if (more) {
        /* the token names the last summary returned */
        cJSON *lo = cJSON_GetArrayItem(into, cJSON_GetArraySize(into) - 1);
        snprintf(last, last_cap, "%s",
                 cJSON_GetObjectItemCaseSensitive(lo, "ruleName")->valuestring);
    }
    free(all);
}

ic_engine_err_t ic_engine_set_disabled(ic_engine_t *e, const char *name,
                                       bool disabled) {
    rule_t *r = ic_map_get(&e->rules, name, strlen(name));
    if (r == NULL)
        return IC_ENGINE_E_NOT_FOUND;
    r->disabled = disabled;
    cJSON_ReplaceItemInObjectCaseSensitive(r->payload, "ruleDisabled",
                                           cJSON_CreateBool(disabled));
    trie_sync(e, r);
    persist(e, r);
    ic_log_info(disabled ? "rule disabled" : "rule enabled", "rule=%s", name);
    return IC_ENGINE_OK;
}

ic_engine_err_t ic_engine_delete(ic_engine_t *e, const char *name) {
    rule_t *r = ic_map_get(&e->rules, name, strlen(name));
    if (r == NULL)
        return IC_ENGINE_E_NOT_FOUND;
    ic_map_del(&e->rules, name, strlen(name));
    r->is_live = false;
    trie_sync(e, r);
    if (e->db)
        ic_ruledb_del(e->db, name);
    ic_log_info("rule deleted", "rule=%s", name);
    rule_unref(r);
    return IC_ENGINE_OK;
}

static void on_row(const char *name, const char *payload, const char *tags,
                   int64_t created_ms, void *data) {
    ic_engine_t *e = data;
    cJSON *p = cJSON_Parse(payload);
    ic_engine_err_t kind;
    char err[300];
    rule_t *r = p ? compile(name, p, &kind, err, sizeof(err)) : NULL;
    if (r == NULL) {
        ic_log_error("rule not loaded", "rule=%s reason=\"%s\"", name,
                     p ? err : "stored payload is not JSON");
        cJSON_Delete(p);
        return;
    }
    cJSON_Delete(p);
    r->created_ms = created_ms;
    r->tags = ic_xstrdup(tags);
    install(e, r);
}

int ic_engine_load(ic_engine_t *e) {
    if (e->db == NULL)
        return 0;
    return ic_ruledb_load(e->db, on_row, e) == 0 ? 0 : IC_ESTORE;
}

void ic_engine_totals(const ic_engine_t *e, ic_engine_totals_t *t) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *en;
    memset(t, 0, sizeof(*t));
    while ((en = ic_map_next(&e->rules, &it)) != NULL) {
        const rule_t *r = en->val;
        t->matched += r->matched;
        t->fired += r->fired;
        t->sql_errors += r->sql_errors;
        t->action_failures += r->failures;
        t->error_actions += r->error_runs;
    }
    t->rules = e->rules.n;
    t->queued = e->q_n;
    t->dropped = e->dropped;
    t->not_found = e->not_found;
}

cJSON *ic_engine_status(const ic_engine_t *e) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *en;
    cJSON *o = cJSON_CreateObject(), *rules = cJSON_CreateArray();
    cJSON_AddNumberToObject(o, "rules", (double)e->rules.n);
    cJSON_AddNumberToObject(o, "enabled", (double)e->n_enabled);
    cJSON_AddNumberToObject(o, "queued", (double)e->q_n);
    cJSON_AddNumberToObject(o, "running", (double)e->n_exec);
    cJSON_AddNumberToObject(o, "dropped", (double)e->dropped);
    cJSON_AddNumberToObject(o, "ingested", (double)e->ingested);
    cJSON_AddNumberToObject(o, "ruleNotFound", (double)e->not_found);
    while ((en = ic_map_next(&e->rules, &it)) != NULL) {
        const rule_t *r = en->val;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", r->name);
        cJSON_AddBoolToObject(x, "disabled", r->disabled);
        cJSON_AddNumberToObject(x, "matched", (double)r->matched);
        cJSON_AddNumberToObject(x, "fired", (double)r->fired);
        cJSON_AddNumberToObject(x, "sqlErrors", (double)r->sql_errors);
        cJSON_AddNumberToObject(x, "actionFailures", (double)r->failures);
        cJSON_AddNumberToObject(x, "errorActions", (double)r->error_runs);
        if (r->last_error[0]) {
            cJSON_AddStringToObject(x, "lastError", r->last_error);
            add_time(x, "lastErrorAt", r->last_error_ms);
        }
        cJSON_AddItemToArray(rules, x);
    }
    cJSON_AddItemToObject(o, "topicRules", rules);
    return o;
}

/* ---- tap: queue ------------------------------------------------------------------ */

static void on_idle(uv_idle_t *h);

static void enqueue(ic_engine_t *e, rule_t *r, ic_msg_t *m, size_t topic_off,
                    tap_t *tap, int64_t now_ms) {
    item_t *it;
    if (e->q_n >= e->cfg->queue_max) {
        if (e->dropped++ % 1000 == 0)
            ic_log_warn("rule message throttled", "rule=%s topic=%s dropped=%llu "
                        "reason=\"rules_queue_max reached\"", r->name, m->topic,
                        (unsigned long long)e->dropped);
        return;
    }
    if (e->q_n == e->q_cap) {
        size_t cap = e->q_cap ? e->q_cap * 2 : 64, i;
        item_t *q = ic_xcalloc(cap, sizeof(*q));
        for (i = 0; i < e->q_n; i++)
            q[i] = e->q[(e->q_head + i) % e->q_cap];
        free(e->q);
        e->q = q;
        e->q_cap = cap;
        e->q_head = 0;
    }
    it = &e->q[(e->q_head + e->q_n) % e->q_cap];
    memset(it, 0, sizeof(*it));
    it->r = r;
    r->refs++;
    it->m = ic_msg_ref(m);
    it->topic_off = (uint16_t)topic_off;
    it->now_ms = now_ms;
    it->tap = tap;
    tap->refs++;
    e->q_n++;
    r->matched++;
    if (!e->idle_on) {
        uv_idle_start(&e->idle, on_idle);
        e->idle_on = true;
    }
}

static void on_hit(void *owner, uint8_t opts, void *data) {
    ic_engine_t *e = data;
    (void)opts;
    if (e->n_hits == e->cap_hits) {
        e->cap_hits = e->cap_hits ? e->cap_hits * 2 : 16;
        e->hits = ic_xrealloc(e->hits, e->cap_hits * sizeof(*e->hits));
    }
    e->hits[e->n_hits++] = owner;
}

static void on_group(ic_trie_group_t *g, void *data) {
    (void)g;
    (void)data;
}

void ic_engine_tap(ic_engine_t *e, ic_msg_t *m, const char *ingest_rule,
                   size_t rule_len, size_t topic_off, const ic_engine_src_t *src,
                   int64_t now_ms) {
    size_t i;
    tap_t *tap;
    if (e == NULL || e->stopped)
        return;
    if (ingest_rule) {
        rule_t *r = ic_map_get(&e->rules, ingest_rule, rule_len);
        e->ingested++;
        if (r == NULL || r->disabled || r->sql == NULL) {
            /* AWS 11.1: RuleNotFound, the device sees nothing */
            e->not_found++;
            ic_log_info("rule not found", "rule=%.*s topic=%s reason=RuleNotFound "
                        "details=\"Rule %.*s not found\"", (int)rule_len,
                        ingest_rule, m->topic, (int)rule_len, ingest_rule);
            return;
        }
        if (e->q_n < e->cfg->queue_max) {
            tap = tap_new(m, src, false);
            enqueue(e, r, m, topic_off, tap, now_ms);
            tap_unref(tap);
        } else {
            enqueue(e, r, m, topic_off, NULL, now_ms); /* counted, dropped */
        }
        return;
    }
    if (e->n_enabled == 0)
        return;
    e->n_hits = 0;
    ic_trie_match(e->trie, m->topic, m->topic_len, on_hit, on_group, e);
    if (e->n_hits == 0)
        return;
    /* one publisher copy and (for several rules) one parse for them all */
    tap = e->q_n < e->cfg->queue_max ? tap_new(m, src, e->n_hits > 1) : NULL;
    for (i = 0; i < e->n_hits; i++)
        enqueue(e, e->hits[i], m, 0, tap, now_ms);
    tap_unref(tap);
}

/* ---- execution ------------------------------------------------------------------- */

typedef struct exec_s {
    ic_engine_t *e;
    rule_t *r;                /* ref held */
    ic_msg_t *m;              /* ref held */
    tap_t *tap;               /* ref held */
    char trace_id[37];
    ic_sql_ctx_t ctx;
    ic_sql_user_prop_t *ups;
    char *props;              /* decoded property strings (owned) */
    ic_sql_run_t *run;
    uint8_t *out;             /* the SELECT output (owned copy) */
    size_t out_len;
    size_t pending;
    cJSON *failures;          /* array, NULL until one */
    uint8_t hops;
} exec_t;

static void exec_free(exec_t *x) {
    ic_sql_run_free(x->run);
    free(x->out);
    cJSON_Delete(x->failures);
    rule_unref(x->r);
    ic_msg_unref(x->m);
    free(x->ups);
    free(x->props);
    tap_unref(x->tap);
    x->e->n_exec--;
    free(x);
}

/* The MQTT 5 properties a rule can read (get_mqtt_property,
 * get_user_properties), from the message's encoded property block. */
static void decode_props(exec_t *x) {
    const uint8_t *p = x->m->props, *end = p + x->m->props_len;
    size_t n_up = 0, cap_up = 0;
    char *strings;
    size_t used = 0;
    x->ctx.payload_format = -1;
    if (x->m->props_len == 0)
        return;
    strings = ic_xmalloc((size_t)x->m->props_len * 2 + 8);
    x->props = strings;
    while (p < end) {
        uint8_t id = *p++;
        size_t l1, l2;
        switch (id) {
        case 0x01:
            if (end - p < 1)
                return;
            x->ctx.payload_format = *p++;
            break;
        case 0x02:
            if (end - p < 4)
                return;
            p += 4;
            break;
        case 0x03:
        case 0x08:
        case 0x09:
            if (end - p < 2)
                return;
            l1 = (size_t)(p[0] << 8 | p[1]);
            p += 2;
            if ((size_t)(end - p) < l1)
                return;
            if (id == 0x09) {
                x->ctx.correlation_data = p;
                x->ctx.correlation_len = l1;
            } else {
                memcpy(strings + used, p, l1);
                strings[used + l1] = '\0';
                if (id == 0x03)
                    x->ctx.content_type = strings + used;
                else
                    x->ctx.response_topic = strings + used;
                used += l1 + 1;
            }
            p += l1;
            break;
        case 0x26:
            if (end - p < 2)
                return;
            l1 = (size_t)(p[0] << 8 | p[1]);
            if ((size_t)(end - p) < 2 + l1 + 2)
                return;
            l2 = (size_t)(p[2 + l1] << 8 | p[3 + l1]);
            if ((size_t)(end - p) < 4 + l1 + l2)
                return;
            if (n_up == cap_up) {
                cap_up = cap_up ? cap_up * 2 : 4;
                x->ups = ic_xrealloc(x->ups, cap_up * sizeof(*x->ups));
            }
            memcpy(strings + used, p + 2, l1);
            strings[used + l1] = '\0';
            x->ups[n_up].key = strings + used;
            used += l1 + 1;
            memcpy(strings + used, p + 4 + l1, l2);
            strings[used + l2] = '\0';
            x->ups[n_up].value = strings + used;
            used += l2 + 1;
            n_up++;
            p += 4 + l1 + l2;
            break;
        default:
            return; /* nothing else is forwarded with a message */
        }
    }
    x->ctx.user_props = x->ups;
    x->ctx.n_user_props = n_up;
}

static void add_failure(exec_t *x, const char *action, const char *resource,
                        const char *msg) {
    cJSON *f = cJSON_CreateObject();
    if (x->failures == NULL)
        x->failures = cJSON_CreateArray();
    cJSON_AddStringToObject(f, "failedAction", action);
    cJSON_AddStringToObject(f, "failedResource", resource);
    cJSON_AddStringToObject(f, "errorMessage", msg);
    cJSON_AddItemToArray(x->failures, f);
}

static void on_error_action(const ic_action_result_t *res, void *data) {
    exec_t *x = data;
    if (!res->ok) {
        /* U81: logged only, no recursion */
        ic_log_info("rule error action failed", "rule=%s action=%s resource=%s "
                    "error=\"%s\"", x->r->name, res->failed_action,
                    res->failed_resource, res->error);
        rule_fail(x->r, "error action failed", res->error);
    }
    exec_free(x);
}

/* AWS 10.3: the error document, keys in AWS's order. */
static char *error_document(exec_t *x) {
    cJSON *o = cJSON_CreateObject();
    char *b64 = ic_b64_encode(x->m->payload, x->m->payload_len), *s;
    if (x->trace_id[0] == '\0')
        ic_str_uuid(x->trace_id);
    cJSON_AddStringToObject(o, "ruleName", x->r->name);
    cJSON_AddStringToObject(o, "topic", x->m->topic); /* U40: as published */
    cJSON_AddStringToObject(o, "cloudwatchTraceId", x->trace_id);
    cJSON_AddStringToObject(o, "clientId", x->ctx.client_id ? x->ctx.client_id
                                                            : "n/a");
    cJSON_AddStringToObject(o, "base64OriginalPayload", b64);
    cJSON_AddItemToObject(o, "failures", x->failures);
    x->failures = NULL;
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(b64);
    return s;
}

/* Every action has answered. */
static void exec_done(exec_t *x) {
    rule_t *r = x->r;
    char *doc;
    if (x->failures == NULL || r->error_action == NULL || x->e->stopped) {
        exec_free(x);
        return;
    }
    r->error_runs++;
    doc = error_document(x);
    ic_log_info("rule error action", "rule=%s action=%s", r->name,
                ic_action_kind(r->error_action));
    ic_action_run(r->error_action, x->e->env, x->run, r->name,
                  (const uint8_t *)doc, strlen(doc), x->hops, on_error_action, x);
    cJSON_free(doc);
}

static void on_action(const ic_action_result_t *res, void *data) {
    exec_t *x = data;
    if (!res->ok) {
        x->r->failures++;
        ic_log_info("rule action failed", "rule=%s action=%s resource=%s "
                    "error=\"%s\" matched=%llu fired=%llu failures=%llu",
                    x->r->name, res->failed_action, res->failed_resource, res->error,
                    (unsigned long long)x->r->matched,
                    (unsigned long long)x->r->fired,
                    (unsigned long long)x->r->failures);
        rule_fail(x->r, res->failed_action, res->error);
        add_failure(x, res->failed_action, res->failed_resource, res->error);
    } else {
        ic_log_debug("rule action", "rule=%s action=%s resource=%s", x->r->name,
                     res->failed_action, res->failed_resource);
    }
    if (--x->pending == 0)
        exec_done(x);
}

static void exec_start(ic_engine_t *e, item_t *it) {
    exec_t *x = ic_xcalloc(1, sizeof(*x));
    rule_t *r = it->r;
    const uint8_t *out;
    size_t out_len, i;
    e->n_exec++;
    x->e = e;
    x->r = r;
    x->m = it->m;
    x->tap = it->tap;
    x->hops = it->m->hops;
    x->trace_id[0] = '\0'; /* made when traceid() or an error document asks */
    x->ctx.topic = it->m->topic + it->topic_off;
    x->ctx.payload = it->m->payload;
    x->ctx.payload_len = it->m->payload_len;
    x->ctx.now_ms = it->now_ms;
    x->ctx.account_id = e->cfg->account_id;
    x->ctx.trace_id_buf = x->trace_id;
    x->ctx.client_id = x->tap->client_id;
    x->ctx.principal = x->tap->principal;
    x->ctx.source_ip = x->tap->source_ip;
    x->ctx.is_mqtt5 = x->tap->is_mqtt5;
    x->ctx.parsed = x->tap->parsed;
    if (x->ctx.is_mqtt5)
        decode_props(x);
    else
        x->ctx.payload_format = -1;
    x->ctx.get_thing_shadow = e->look.shadow;
    x->ctx.get_registry_data = e->look.registry;
    x->ctx.data = e->look.data;
    x->run = ic_sql_run(r->sql, &x->ctx);
    switch (ic_sql_run_result(x->run)) {
    case IC_SQL_NOT_FIRED:
        exec_free(x);
        return;
    case IC_SQL_ERROR:
        r->sql_errors++;
        ic_log_info("rule sql error", "rule=%s topic=%s error=\"%s\" matched=%llu "
                    "sql_errors=%llu", r->name, it->m->topic, ic_sql_run_error(x->run),
                    (unsigned long long)r->matched, (unsigned long long)r->sql_errors);
        rule_fail(r, "SQL", ic_sql_run_error(x->run));
        if (e->cfg->sql_error_action && r->error_action) {
            add_failure(x, "SqlEvaluation", r->name, ic_sql_run_error(x->run));
            exec_done(x);
        } else {
            exec_free(x);
        }
        return;
    case IC_SQL_FIRED:
    default:
        break;
    }
    r->fired++;
    ic_log_debug("rule fired", "rule=%s topic=%s actions=%zu", r->name,
                 it->m->topic, r->n_actions);
    /* a copy: rendering the actions' templates evaluates on the same run */
    out = ic_sql_run_output(x->run, &out_len);
    x->out = ic_xmemdup(out, out_len + 1);
    x->out_len = out_len;
    out = x->out;
    x->pending = r->n_actions + 1; /* +1: actions may finish synchronously */
    for (i = 0; i < r->n_actions; i++)
        ic_action_run(r->actions[i], e->env, x->run, r->name, out, out_len,
                      x->hops, on_action, x);
    if (--x->pending == 0)
        exec_done(x);
}

static void drain(ic_engine_t *e) {
    size_t n = 0;
    while (e->q_n > 0 && n++ < BATCH && !e->stopped) {
        item_t it = e->q[e->q_head];
        e->q_head = (e->q_head + 1) % e->q_cap;
        e->q_n--;
        exec_start(e, &it); /* takes the item's references */
    }
    if (e->q_n == 0 && e->idle_on && !e->stopped) {
        uv_idle_stop(&e->idle);
        e->idle_on = false;
    }
}

static void on_idle(uv_idle_t *h) {
    drain(h->data);
}

static void on_check(uv_check_t *h) {
    ic_engine_t *e = h->data;
    if (e->q_n > 0)
        drain(e);
}
