/* actions.c - topic-rule actions: compile an Action object, render its
 * substitution templates, perform it (aws-iot-rules.md 7, 9).
 *
 * Owns the compiled actions (kind, parameter tree, one template per
 * template-capable string, in tree order) and the in-flight state of
 * asynchronous runs. One table row per kind: its AWS class name (for the
 * error document), its required fields and its run function. It must not
 * choose which rules run (engine.c) or open sockets itself (the HTTP
 * transport is injected). Loop thread only.
 *
 * EMULATOR choices: every string field is a template except `roleArn` and
 * header keys (U63 keeps `${` literal in the "No" fields; iotcored renders
 * all others - a literal `${` there would be rare); a republish goes
 * through the router with RETAIN 0 and a hop count, and is refused at
 * `rules_max_republish_depth` (U73); the http action allows http:// and
 * any port, retries 429/5xx within the 3 s budget, at most 3 tries (DOC).
 */
#include "iotcored/actions.h"

#include "iotcored/alloc.h"
#include "iotcored/aws_call.h"
#include "iotcored/buf.h"
#include "iotcored/clock.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/msg.h"
#include "iotcored/str.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TEMPLATES 256
#define HTTP_TRIES 3
#define HTTP_MAX_RESPONSE 16384 /* AWS: larger responses are not retried */

typedef struct kind_s {
    const char *name;      /* API member name */
    const char *cls;       /* failedAction */
    const char *const *required;
    const char *resource;  /* field naming failedResource */
    bool is_aws;           /* forwarded to the AWS endpoint */
} kind_t;

static const char *const req_republish[] = {"topic", NULL};
static const char *const req_http[] = {"url", NULL};

/* The AWS kinds' required fields are checked by aws_call at run time too;
 * the ones here are the API model's, so CreateTopicRule refuses early. */
static const char *const req_lambda[] = {"functionArn", NULL};
static const char *const req_sqs[] = {"queueUrl", NULL};
static const char *const req_sns[] = {"targetArn", NULL};
static const char *const req_ddb[] = {"tableName", "hashKeyField", "hashKeyValue", NULL};
static const char *const req_ddbv2[] = {"putItem", NULL};
static const char *const req_kinesis[] = {"streamName", NULL};
static const char *const req_firehose[] = {"deliveryStreamName", NULL};
static const char *const req_s3[] = {"bucketName", "key", NULL};
static const char *const req_cwm[] = {"metricNamespace", "metricName", "metricValue",
                                      "metricUnit", NULL};
static const char *const req_cwa[] = {"alarmName", "stateReason", "stateValue", NULL};
static const char *const req_cwl[] = {"logGroupName", NULL};
static const char *const req_es[] = {"endpoint", "index", "type", "id", NULL};
static const char *const req_sf[] = {"stateMachineName", NULL};
static const char *const req_ts[] = {"databaseName", "tableName", "dimensions", NULL};
static const char *const req_iote[] = {"inputName", NULL};
static const char *const req_sw[] = {"putAssetPropertyValueEntries", NULL};
static const char *const req_none[] = {NULL};
static const char *const req_loc[] = {"trackerName", "deviceId", "latitude",
                                      "longitude", NULL};
static const char *const req_kafka[] = {"destinationArn", "topic", NULL};
static const char *const req_sf_token[] = {"token", "url", NULL};

static const kind_t kinds[] = {
    {"republish", "RepublishAction", req_republish, "topic", false},
    {"http", "HttpAction", req_http, "url", false},
    {"lambda", "LambdaAction", req_lambda, "functionArn", true},
    {"sqs", "SqsAction", req_sqs, "queueUrl", true},
    {"sns", "SnsAction", req_sns, "targetArn", true},
    {"dynamoDB", "DynamoDBAction", req_ddb, "tableName", true},
    {"dynamoDBv2", "DynamoDBv2Action", req_ddbv2, "putItem", true},
    {"kinesis", "KinesisAction", req_kinesis, "streamName", true},
    {"firehose", "FirehoseAction", req_firehose, "deliveryStreamName", true},
    {"s3", "S3Action", req_s3, "bucketName", true},
    {"cloudwatchMetric", "CloudwatchMetricAction", req_cwm, "metricName", true},
    {"cloudwatchAlarm", "CloudwatchAlarmAction", req_cwa, "alarmName", true},
    {"cloudwatchLogs", "CloudwatchLogsAction", req_cwl, "logGroupName", true},
    {"elasticsearch", "ElasticsearchAction", req_es, "endpoint", true},
    {"openSearch", "OpenSearchAction", req_es, "endpoint", true},
    {"salesforce", "SalesforceAction", req_sf_token, "url", true},
    {"iotAnalytics", "IotAnalyticsAction", req_none, "channelName", true},
    {"iotEvents", "IotEventsAction", req_iote, "inputName", true},
    {"iotSiteWise", "IotSiteWiseAction", req_sw, "putAssetPropertyValueEntries", true},
    {"stepFunctions", "StepFunctionsAction", req_sf, "stateMachineName", true},
    {"timestream", "TimestreamAction", req_ts, "tableName", true},
    {"kafka", "KafkaAction", req_kafka, "topic", true},
    {"location", "LocationAction", req_loc, "trackerName", true},
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

struct ic_action_s {
    const kind_t *kind;
    cJSON *params;               /* the member's object, as given */
    ic_sql_tmpl_t **tmpls;       /* per rendered string, in tree order */
    size_t n_tmpls;
};

const char *ic_action_kind(const ic_action_t *a) {
    return a->kind->name;
}

/* ---- templates ------------------------------------------------------------------- */

static bool is_literal_field(const char *key, bool in_headers) {
    return key && (strcmp(key, "roleArn") == 0 || (in_headers && strcmp(key, "key") == 0));
}

/* Visit every templated string of tree in a fixed order. */
typedef bool (*visit_fn)(cJSON *node, void *data);

static bool walk(cJSON *node, bool in_headers, visit_fn fn, void *data) {
    cJSON *c;
    if (cJSON_IsString(node))
        return fn(node, data);
    for (c = node->child; c; c = c->next) {
        bool hdr = in_headers || (c->string && (strcmp(c->string, "headers") == 0 ||
                                                strcmp(c->string, "userProperties") == 0));
        if (cJSON_IsString(c) && is_literal_field(c->string, in_headers))
            continue;
        if (!walk(c, hdr, fn, data))
            return false;
    }
    return true;
}

typedef struct compile_s {
    ic_action_t *a;
    const char *version;
    char *err;
    size_t errlen;
} compile_t;

static bool compile_one(cJSON *node, void *data) {
    compile_t *c = data;
    ic_sql_err_t e;
    ic_sql_tmpl_t *t;
    if (c->a->n_tmpls == MAX_TEMPLATES) {
        snprintf(c->err, c->errlen, "too many fields in a %s action", c->a->kind->name);
        return false;
    }
    t = ic_sql_tmpl_parse(node->valuestring, c->version, &e);
    if (t == NULL) {
        snprintf(c->err, c->errlen, "Invalid substitution template in %s action "
                 "field '%s': %s", c->a->kind->name, node->string ? node->string : "",
                 e.message);
        return false;
    }
    c->a->tmpls[c->a->n_tmpls++] = t;
    return true;
}

ic_action_t *ic_action_compile(const cJSON *obj, const char *version, char *err,
                               size_t errlen) {
    const cJSON *member;
    const kind_t *k = NULL;
    ic_action_t *a;
    compile_t c;
    size_t i;
    if (!cJSON_IsObject(obj) || obj->child == NULL || obj->child->next != NULL) {
        snprintf(err, errlen, "An action must name exactly one action type");
        return NULL;
    }
    member = obj->child;
    for (i = 0; i < N_KINDS; i++)
        if (strcmp(kinds[i].name, member->string) == 0)
            k = &kinds[i];
    if (k == NULL) {
        snprintf(err, errlen, "Unknown action type: %.64s", member->string);
        return NULL;
    }
    if (!cJSON_IsObject(member)) {
        snprintf(err, errlen, "The %s action must be an object", k->name);
        return NULL;
    }
    for (i = 0; k->required[i]; i++)
        if (cJSON_GetObjectItemCaseSensitive(member, k->required[i]) == NULL) {
            snprintf(err, errlen, "The %s action is missing the required field %s",
                     k->name, k->required[i]);
            return NULL;
        }
    a = ic_xcalloc(1, sizeof(*a));
    a->kind = k;
    a->params = cJSON_Duplicate(member, true);
    a->tmpls = ic_xcalloc(MAX_TEMPLATES, sizeof(*a->tmpls));
    c.a = a;
    c.version = version;
    c.err = err;
    c.errlen = errlen;
    if (!walk(a->params, false, compile_one, &c)) {
        ic_action_free(a);
        return NULL;
    }
    return a;
}

void ic_action_free(ic_action_t *a) {
    size_t i;
    if (a == NULL)
        return;
    for (i = 0; i < a->n_tmpls; i++)
        ic_sql_tmpl_free(a->tmpls[i]);
    free(a->tmpls);
    cJSON_Delete(a->params);
    free(a);
}

typedef struct render_s {
    const ic_action_t *a;
    const ic_sql_run_t *run;
    size_t i;
    char err[256];
} render_t;

static bool render_one(cJSON *node, void *data) {
    render_t *r = data;
    char *s = ic_sql_tmpl_render(r->a->tmpls[r->i++], r->run, r->err, sizeof(r->err));
    if (s == NULL)
        return false;
    cJSON_SetValuestring(node, s);
    free(s);
    return true;
}

/* The parameters with every template rendered (owned), or NULL with err. */
static cJSON *render(const ic_action_t *a, const ic_sql_run_t *run, char *err,
                     size_t errlen) {
    cJSON *p = cJSON_Duplicate(a->params, true);
    render_t r;
    memset(&r, 0, sizeof(r));
    r.a = a;
    r.run = run;
    if (!walk(p, false, render_one, &r)) {
        snprintf(err, errlen, "%s", r.err);
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

static const char *str_of(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void finish(const ic_action_t *a, const char *resource, const char *error,
                   ic_action_done_fn done, void *data) {
    ic_action_result_t r;
    r.ok = error == NULL;
    r.failed_action = a->kind->cls;
    r.failed_resource = resource ? resource : "";
    r.error = error;
    done(&r, data);
}

/* ---- republish ------------------------------------------------------------------- */


static void put_u16_str(ic_buf_t *b, const char *s) {
    size_t n = strlen(s);
    uint8_t h[2] = {(uint8_t)(n >> 8), (uint8_t)n};
    ic_buf_append(b, h, 2);
    ic_buf_append(b, s, n);
}

/* The republish `headers` as MQTT 5 properties (buffers kept in bufs). */
static const char *headers_to_props(const cJSON *h, ic_props_t *p, ic_buf_t *corr,
                                    ic_buf_t *user) {
    const char *s;
    const cJSON *up;
    memset(p, 0, sizeof(*p));
    if (h == NULL)
        return NULL;
    if ((s = str_of(h, "payloadFormatIndicator")) != NULL) {
        if (strcmp(s, "UTF8_DATA") == 0)
            p->payload_format = 1;
        else if (strcmp(s, "UNSPECIFIED_BYTES") != 0)
            return "payloadFormatIndicator must be UNSPECIFIED_BYTES or UTF8_DATA";
        p->present |= IC_PROP_BIT(IC_PROP_PAYLOAD_FORMAT);
    }
    if ((s = str_of(h, "contentType")) != NULL && s[0]) {
        p->present |= IC_PROP_BIT(IC_PROP_CONTENT_TYPE);
        p->content_type.p = (const uint8_t *)s;
        p->content_type.len = strlen(s);
    }
    if ((s = str_of(h, "responseTopic")) != NULL && s[0]) {
        if (strpbrk(s, "+#"))
            return "responseTopic must not contain wildcards";
        p->present |= IC_PROP_BIT(IC_PROP_RESPONSE_TOPIC);
        p->response_topic.p = (const uint8_t *)s;
        p->response_topic.len = strlen(s);
    }
    if ((s = str_of(h, "correlationData")) != NULL && s[0]) {
        if (!ic_buf_b64_decode(corr, s, strlen(s)))
            return "correlationData is not valid base64";
        p->present |= IC_PROP_BIT(IC_PROP_CORRELATION_DATA);
        p->correlation_data.p = corr->data;
        p->correlation_data.len = corr->len;
    }
    if ((s = str_of(h, "messageExpiry")) != NULL && s[0]) {
        int64_t v;
        if (ic_str_to_i64(s, &v) != 0 || v < 0 || v > 0xffffffffLL)
            return "messageExpiry must be a number of seconds";
        p->present |= IC_PROP_BIT(IC_PROP_MESSAGE_EXPIRY);
        p->message_expiry = (uint32_t)v;
    }
    up = cJSON_GetObjectItemCaseSensitive(h, "userProperties");
    if (cJSON_IsArray(up)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, up) {
            const char *k = str_of(e, "key"), *v = str_of(e, "value");
            uint8_t id = IC_PROP_USER;
            if (k == NULL || v == NULL)
                return "userProperties entries need key and value";
            ic_buf_append(user, &id, 1);
            put_u16_str(user, k);
            put_u16_str(user, v);
            p->n_user++;
        }
        if (p->n_user) {
            p->present |= IC_PROP_BIT(IC_PROP_USER);
            p->user_raw.p = user->data;
            p->user_raw.len = user->len;
        }
    }
    return NULL;
}

static void run_republish(const ic_action_t *a, const ic_action_env_t *env,
                          const cJSON *p, const uint8_t *payload, size_t len,
                          uint8_t hops, ic_action_done_fn done, void *data) {
    const char *topic = str_of(p, "topic"), *why = NULL, *herr;
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(p, "qos");
    uint8_t qos = 0;
    int64_t now = ic_clock_wall_ms();
    ic_buf_t corr, user;
    ic_props_t props;
    ic_msg_t *m;
    char err[160];
    if (cJSON_IsNumber(q))
        qos = q->valueint == 1 ? 1 : 0;
    if (topic == NULL || ic_topic_check_name(topic, strlen(topic), env->topic_lim,
                                             &why) != 0) {
        snprintf(err, sizeof(err), "Invalid republish topic '%.64s': %s",
                 topic ? topic : "", why ? why : "invalid");
        finish(a, topic, err, done, data);
        return;
    }
    if ((size_t)hops + 1 >= env->max_hops) {
        snprintf(err, sizeof(err), "Republish loop: the message has been republished "
                 "%u times (rules_max_republish_depth)", (unsigned)hops + 1);
        finish(a, topic, err, done, data);
        return;
    }
    ic_buf_init(&corr);
    ic_buf_init(&user);
    herr = headers_to_props(cJSON_GetObjectItemCaseSensitive(p, "headers"), &props,
                            &corr, &user);
    if (herr) {
        finish(a, topic, herr, done, data);
    } else {
        m = ic_msg_new(topic, strlen(topic), payload, len, qos, false,
                       props.present ? &props : NULL, now);
        m->hops = (uint8_t)(hops + 1);
        ic_router_publish(env->router, m, now);
        ic_msg_unref(m);
        finish(a, topic, NULL, done, data);
    }
    ic_buf_free(&corr);
    ic_buf_free(&user);
}

/* ---- http -------------------------------------------------------------------------- */

typedef struct http_call_s {
    const ic_action_t *a;
    const ic_action_env_t *env;
    ic_action_done_fn done;
    void *data;
    char *url;
    ic_http_header_t *headers; /* names and values owned */
    size_t n_headers;
    uint8_t *body;
    size_t len;
    int tries;
    int64_t started_ms;
} http_call_t;

static void http_call_free(http_call_t *h) {
    size_t i;
    for (i = 0; i < h->n_headers; i++) {
        free((char *)(uintptr_t)h->headers[i].name);
        free((char *)(uintptr_t)h->headers[i].value);
    }
    free(h->headers);
    free(h->url);
    free(h->body);
    free(h);
}

static void http_send(http_call_t *h);

static void on_http(int rc, int status, const ic_http_header_t *headers,
                    size_t n_headers, const uint8_t *body, size_t len,
                    const char *err, void *data) {
    http_call_t *h = data;
    char msg[512];
    int64_t left = (int64_t)h->env->http_timeout_ms -
                   (ic_clock_wall_ms() - h->started_ms);
    (void)headers;
    (void)n_headers;
    (void)body;
    (void)len;
    if (rc == 0 && status >= 200 && status < 300) {
        finish(h->a, h->url, NULL, h->done, h->data);
        http_call_free(h);
        return;
    }
    if (rc == 0 && (status == 429 || status >= 500) && h->tries < HTTP_TRIES &&
        left > 0) {
        http_send(h);
        return;
    }
    if (rc == 0)
        snprintf(msg, sizeof(msg), "HTTP POST to %.200s returned %d (after %d "
                 "tries)", h->url, status, h->tries);
    else
        snprintf(msg, sizeof(msg), "HTTP POST to %.200s failed: %s", h->url,
                 err ? err : ic_errname(rc));
    finish(h->a, h->url, msg, h->done, h->data);
    http_call_free(h);
}

static void http_send(http_call_t *h) {
    ic_action_http_req_t req;
    int64_t left = (int64_t)h->env->http_timeout_ms -
                   (ic_clock_wall_ms() - h->started_ms);
    int rc;
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = h->url;
    req.headers = h->headers;
    req.n_headers = h->n_headers;
    req.body = h->body;
    req.body_len = h->len;
    req.timeout_ms = left > 0 ? (uint32_t)left : 1;
    req.max_response = HTTP_MAX_RESPONSE;
    h->tries++;
    rc = h->env->http(h->env->http_transport, &req, on_http, h);
    if (rc != 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "HTTP POST to %.200s failed: %s", h->url,
                 ic_errname(rc));
        finish(h->a, h->url, msg, h->done, h->data);
        http_call_free(h);
    }
}

static void set_header(ic_http_header_t *h, const char *name, const char *value) {
    h->name = ic_xstrdup(name);
    h->name_len = strlen(name);
    h->value = ic_xstrdup(value);
    h->value_len = strlen(value);
}

static bool looks_json(const uint8_t *p, size_t n) {
    cJSON *o = cJSON_ParseWithLength((const char *)p, n);
    bool ok = o != NULL;
    cJSON_Delete(o);
    return ok;
}

static void run_http(const ic_action_t *a, const ic_action_env_t *env,
                     const cJSON *p, const uint8_t *payload, size_t len,
                     ic_action_done_fn done, void *data) {
    const char *url = str_of(p, "url");
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(p, "headers"), *e;
    bool has_ct = false;
    http_call_t *h;
    size_t n = 0;
    if (url == NULL || (strncasecmp(url, "http://", 7) != 0 &&
                        strncasecmp(url, "https://", 8) != 0)) {
        finish(a, url, "The url must be http:// or https://", done, data);
        return;
    }
    if (env->http == NULL) {
        finish(a, url, "no HTTP transport", done, data);
        return;
    }
    h = ic_xcalloc(1, sizeof(*h));
    h->a = a;
    h->env = env;
    h->done = done;
    h->data = data;
    h->url = ic_xstrdup(url);
    h->headers = ic_xcalloc((size_t)cJSON_GetArraySize(hs) + 2, sizeof(*h->headers));
    if (cJSON_IsArray(hs)) {
        cJSON_ArrayForEach(e, hs) {
            const char *k = str_of(e, "key"), *v = str_of(e, "value");
            if (k == NULL || v == NULL || strpbrk(k, "\r\n: ") || strpbrk(v, "\r\n"))
                continue;
            if (strcasecmp(k, "content-type") == 0)
                has_ct = true;
            set_header(&h->headers[n++], k, v);
        }
    }
    if (!has_ct) /* AWS: JSON payloads as JSON, anything else as bytes */
        set_header(&h->headers[n++], "Content-Type",
                   looks_json(payload, len) ? "application/json"
                                            : "application/octet-stream");
    h->n_headers = n;
    h->body = len ? ic_xmemdup(payload, len) : NULL;
    h->len = len;
    h->started_ms = ic_clock_wall_ms();
    http_send(h);
}

/* ---- AWS services ------------------------------------------------------------------ */

static void run_aws(const ic_action_t *a, const ic_action_env_t *env,
                    const cJSON *p, const char *rule_name, const uint8_t *payload,
                    size_t len, ic_action_done_fn done, void *data);

/* ---- run ----------------------------------------------------------------------------- */

void ic_action_run(const ic_action_t *a, const ic_action_env_t *env,
                   const ic_sql_run_t *run, const char *rule_name,
                   const uint8_t *payload, size_t len, uint8_t hops,
                   ic_action_done_fn done, void *data) {
    char err[300];
    cJSON *p = render(a, run, err, sizeof(err));
    const char *resource;
    if (p == NULL) {
        char msg[400];
        snprintf(msg, sizeof(msg), "Failed to render a substitution template: %s", err);
        finish(a, str_of(a->params, a->kind->resource), msg, done, data);
        return;
    }
    resource = str_of(p, a->kind->resource);
    if (strcmp(a->kind->name, "republish") == 0)
        run_republish(a, env, p, payload, len, hops, done, data);
    else if (strcmp(a->kind->name, "http") == 0)
        run_http(a, env, p, payload, len, done, data);
    else if ((env->aws_endpoint == NULL || env->aws_endpoint[0] == '\0') &&
             strcmp(a->kind->name, "salesforce") != 0)
        finish(a, resource, "no AWS service endpoint configured", done, data);
    else
        run_aws(a, env, p, rule_name, payload, len, done, data);
    cJSON_Delete(p);
}

/* One forwarded AWS call: its requests in order, each tried up to
 * HTTP_TRIES times while the service says retrying may help (429/5xx,
 * throttling), within the action's time budget. */
typedef struct aws_run_s {
    const ic_action_t *a;
    const ic_action_env_t *env;
    ic_action_done_fn done;
    void *data;
    ic_aws_call_t *call;
    size_t step;
    int tries;
    char *resource;
    int64_t started_ms;
} aws_run_t;

static void aws_finish(aws_run_t *w, const char *error) {
    finish(w->a, w->resource, error, w->done, w->data);
    ic_aws_call_free(w->call);
    free(w->resource);
    free(w);
}

static void aws_send(aws_run_t *w);

static void on_aws(int rc, int status, const ic_http_header_t *headers,
                   size_t n_headers, const uint8_t *body, size_t len,
                   const char *err, void *data) {
    aws_run_t *w = data;
    const ic_aws_req_t *req = &w->call->reqs[w->step];
    char why[512], msg[700];
    int64_t left = (int64_t)w->env->http_timeout_ms -
                   (ic_clock_wall_ms() - w->started_ms);
    int crc;
    if (rc != 0) {
        snprintf(msg, sizeof(msg), "%s %s to %.200s failed: %s", req->operation,
                 req->method, req->url, err ? err : ic_errname(rc));
        aws_finish(w, msg);
        return;
    }
    crc = ic_aws_call_check(req, status, headers, n_headers, body, len, why,
                            sizeof(why));
    if (crc == 0) {
        if (++w->step == w->call->n_reqs) {
            aws_finish(w, NULL);
            return;
        }
        w->tries = 0;
        aws_send(w);
        return;
    }
    if (crc == IC_EBUSY && w->tries < HTTP_TRIES && left > 0) {
        aws_send(w);
        return;
    }
    snprintf(msg, sizeof(msg), "%s failed: %s", req->operation, why);
    aws_finish(w, msg);
}

static void aws_send(aws_run_t *w) {
    const ic_aws_req_t *r = &w->call->reqs[w->step];
    ic_action_http_req_t req;
    int64_t left = (int64_t)w->env->http_timeout_ms -
                   (ic_clock_wall_ms() - w->started_ms);
    int rc;
    memset(&req, 0, sizeof(req));
    req.method = r->method;
    req.url = r->url;
    req.headers = r->headers;
    req.n_headers = r->n_headers;
    req.body = r->body;
    req.body_len = r->body_len;
    req.timeout_ms = left > 0 ? (uint32_t)left : 1;
    req.max_response = 1u << 20;
    w->tries++;
    rc = w->env->http ? w->env->http(w->env->http_transport, &req, on_aws, w)
                      : IC_ECLOSED;
    if (rc != 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s failed: %s", r->operation, ic_errname(rc));
        aws_finish(w, msg);
    }
}

static void run_aws(const ic_action_t *a, const ic_action_env_t *env,
                    const cJSON *p, const char *rule_name, const uint8_t *payload,
                    size_t len, ic_action_done_fn done, void *data) {
    ic_aws_endpoint_t ep;
    ic_aws_call_in_t in;
    aws_run_t *w = ic_xcalloc(1, sizeof(*w));
    char why[512];
    memset(&ep, 0, sizeof(ep));
    ep.url = env->aws_endpoint;
    ep.region = env->aws_region;
    ep.access_key = env->aws_access_key;
    ep.secret_key = env->aws_secret_key;
    ep.account_id = env->account_id;
    memset(&in, 0, sizeof(in));
    in.kind = a->kind->name;
    in.params = p;
    in.payload = len ? payload : NULL;
    in.payload_len = len;
    in.ep = env->aws_endpoint && env->aws_endpoint[0] ? &ep : NULL;
    in.now_ms = ic_clock_wall_ms();
    in.rule_name = rule_name;
    if (RAND_bytes(in.seed, sizeof(in.seed)) != 1)
        memset(in.seed, 0, sizeof(in.seed));
    w->a = a;
    w->env = env;
    w->done = done;
    w->data = data;
    w->resource = ic_aws_call_resource(a->kind->name, p);
    w->started_ms = in.now_ms;
    if (ic_aws_call_build(&in, &w->call, why, sizeof(why)) != 0) {
        aws_finish(w, why);
        return;
    }
    aws_send(w);
}
