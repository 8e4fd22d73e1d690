/* ctl_rules.c - the control plane's topic-rule operations (aws-iot-rules.md
 * 8): CreateTopicRule, ReplaceTopicRule, GetTopicRule, ListTopicRules,
 * EnableTopicRule, DisableTopicRule, DeleteTopicRule.
 *
 * Parses requests and maps the Rules Engine's results to AWS error types;
 * the rules themselves, their validation and persistence are
 * rules/engine.c's. A missing rule is 401 UnauthorizedException "Access to
 * topic rule '<name>' was denied", as AWS answers (8.1). Loop thread only.
 */
#include "ctl.h"

#include "iotcored/alloc.h"
#include "iotcored/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ic_engine_t *engine_of(void *data) {
    ctl_t *c = data;
    return c->b->engine;
}

static void fail(ic_http_resp_t *resp, ic_engine_err_t kind, const char *name,
                 const char *msg) {
    switch (kind) {
    case IC_ENGINE_E_SQL:
        ic_http_fail(resp, IC_HTTP_E_SQL_PARSE, "%s", msg);
        break;
    case IC_ENGINE_E_EXISTS:
        ic_http_fail(resp, IC_HTTP_E_ALREADY_EXISTS, "%s", msg);
        break;
    case IC_ENGINE_E_NOT_FOUND:
        ic_http_fail(resp, IC_HTTP_E_UNAUTHORIZED,
                     "Access to topic rule '%s' was denied", name);
        break;
    default:
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "%s", msg);
        break;
    }
}

/* x-amz-tagging "k1=v1&k2=v2" as a JSON array of {Key, Value}; NULL if
 * absent. Owned. */
static char *tags_of(const ic_http_call_t *call) {
    const ic_http_header_t *h = ic_http_header(call->req, "x-amz-tagging");
    cJSON *arr;
    char *s, *dup, *tok, *save = NULL;
    if (h == NULL)
        return NULL;
    arr = cJSON_CreateArray();
    dup = ic_xstrdup(h->value);
    for (tok = strtok_r(dup, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(tok, '=');
        cJSON *t = cJSON_CreateObject();
        if (eq)
            *eq = '\0';
        cJSON_AddStringToObject(t, "Key", tok);
        cJSON_AddStringToObject(t, "Value", eq ? eq + 1 : "");
        cJSON_AddItemToArray(arr, t);
    }
    free(dup);
    s = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    return s;
}

static void put(const ic_http_call_t *call, ic_http_resp_t *resp, void *data,
                bool replace) {
    const char *name = ic_http_label(call, "ruleName");
    cJSON *payload = ic__ctl_body(call, resp);
    char err[512], *tags;
    ic_engine_err_t rc;
    if (payload == NULL)
        return;
    tags = tags_of(call);
    rc = ic_engine_put(engine_of(data), name, payload, tags, replace, err,
                       sizeof(err));
    free(tags);
    cJSON_Delete(payload);
    if (rc != IC_ENGINE_OK)
        fail(resp, rc, name, err);
}

CTL_HANDLER(ic__ctl_create_topic_rule) {
    put(call, resp, data, false);
}

CTL_HANDLER(ic__ctl_replace_topic_rule) {
    put(call, resp, data, true);
}

CTL_HANDLER(ic__ctl_get_topic_rule) {
    const char *name = ic_http_label(call, "ruleName");
    cJSON *o = ic_engine_get(engine_of(data), name);
    if (o == NULL) {
        fail(resp, IC_ENGINE_E_NOT_FOUND, name, "");
        return;
    }
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_list_topic_rules) {
    char topic[512], after[256], last[256];
    long max = 1000;
    bool disabled = false, has_disabled = false;
    cJSON *o, *rules;
    bool has_topic = ic__ctl_q_str(call, "topic", topic, sizeof(topic));
    if (!ic__ctl_q_int(call, resp, "maxResults", 1, 10000, &max) ||
        !ic__ctl_q_token(call, resp, "nextToken", after, sizeof(after)))
        return;
    {
        char probe[16];
        if (ic__ctl_q_str(call, "ruleDisabled", probe, sizeof(probe))) {
            if (!ic__ctl_q_bool(call, resp, "ruleDisabled", &disabled))
                return;
            has_disabled = true;
        }
    }
    o = cJSON_CreateObject();
    rules = cJSON_AddArrayToObject(o, "rules");
    ic_engine_list(engine_of(data), after, has_topic ? topic : NULL,
                   has_disabled ? (disabled ? 1 : 0) : -1, (size_t)max, rules, last,
                   sizeof(last));
    if (last[0])
        ic__ctl_add_token(o, "nextToken", last);
    ic_http_json(resp, o);
}

static void set_disabled(const ic_http_call_t *call, ic_http_resp_t *resp,
                         void *data, bool disabled) {
    const char *name = ic_http_label(call, "ruleName");
    ic_engine_err_t rc = ic_engine_set_disabled(engine_of(data), name, disabled);
    if (rc != IC_ENGINE_OK)
        fail(resp, rc, name, "");
}

CTL_HANDLER(ic__ctl_enable_topic_rule) {
    set_disabled(call, resp, data, false);
}

CTL_HANDLER(ic__ctl_disable_topic_rule) {
    set_disabled(call, resp, data, true);
}

CTL_HANDLER(ic__ctl_delete_topic_rule) {
    const char *name = ic_http_label(call, "ruleName");
    ic_engine_err_t rc = ic_engine_delete(engine_of(data), name);
    if (rc != IC_ENGINE_OK)
        fail(resp, rc, name, "");
}
