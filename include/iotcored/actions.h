/* actions.h - topic-rule actions (aws-iot-rules.md 9): one compiled form
 * per action object, one run function per kind behind a small table.
 *
 * An action is compiled once (CreateTopicRule): its kind checked, its
 * required fields present, every template-capable string field parsed as a
 * substitution template. Running it renders the templates against the
 * rule's evaluation (ic_sql_run_t: the original message and SET
 * variables), then performs it: `republish` through the router, `http` as
 * a POST through the injected HTTP transport, and the actions of other AWS
 * services as their real API call (rules/aws_call.c), SigV4-signed, to the
 * configured AWS-compatible endpoint. Loop thread only.
 */
#ifndef IOTCORED_ACTIONS_H
#define IOTCORED_ACTIONS_H

#include "iotcored/http_parse.h"
#include "iotcored/router.h"
#include "iotcored/sql.h"
#include "iotcored/topic.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ic_action_s ic_action_t;

/* ---- outbound HTTP, provided by the I/O layer ------------------------------ */

typedef struct ic_action_http_req_s {
    const char *method;          /* "POST", "PUT", ... */
    const char *url;             /* http:// or https:// */
    const ic_http_header_t *headers; /* name_len and value_len are used */
    size_t n_headers;
    const uint8_t *body;
    size_t body_len;
    uint32_t timeout_ms;
    size_t max_response;         /* bytes of body kept; more is an error */
} ic_action_http_req_t;

/* rc 0: a response came (status, headers, body); else a transport failure
 * with a short reason in err. Everything borrowed for the call. Called
 * exactly once, never from inside the request call. */
typedef void (*ic_action_http_done_fn)(int rc, int status,
                                       const ic_http_header_t *headers,
                                       size_t n_headers, const uint8_t *body,
                                       size_t len, const char *err, void *data);
/* Start a request. Strings and body are borrowed for the call only. Returns
 * 0 (cb will fire) or an IC_E* (cb will not). */
typedef int (*ic_action_http_fn)(void *transport, const ic_action_http_req_t *req,
                                 ic_action_http_done_fn cb, void *data);

/* What actions need from the broker. All borrowed for the life of the
 * engine; the strings may be swapped by a reload. */
typedef struct ic_action_env_s {
    ic_router_t *router;
    ic_action_http_fn http;      /* NULL: http and AWS actions fail */
    void *http_transport;
    const char *aws_endpoint;    /* "" or NULL: AWS actions fail cleanly */
    const char *aws_region;
    const char *aws_access_key;
    const char *aws_secret_key;
    const char *account_id;
    uint32_t http_timeout_ms;    /* overall, retries included (AWS: 3000) */
    uint8_t max_hops;            /* republish loop guard */
    const ic_topic_limits_t *topic_lim; /* for rendered republish topics */
} ic_action_env_t;

/* Compile one Action object (exactly one member naming its kind). version:
 * the rule's SQL version, for the templates. NULL with AWS's message in err
 * ("InvalidRequestException"-style) on error. obj borrowed. */
ic_action_t *ic_action_compile(const cJSON *obj, const char *version, char *err,
                               size_t errlen);
void ic_action_free(ic_action_t *a);
/* The kind's API name ("republish", "http", "sqs", ...). */
const char *ic_action_kind(const ic_action_t *a);

/* The outcome of one run. Strings borrowed for the callback. */
typedef struct ic_action_result_s {
    bool ok;
    const char *failed_action;   /* AWS's class name: "RepublishAction", ... */
    const char *failed_resource; /* the rendered target */
    const char *error;           /* why (when !ok) */
} ic_action_result_t;

typedef void (*ic_action_done_fn)(const ic_action_result_t *r, void *data);

/* Run a with payload (borrowed for the call; copied when needed) against
 * run (borrowed until done fires) for rule rule_name (names a CloudWatch
 * Logs stream). hops: republish depth of the message that triggered the
 * rule. done is called exactly once, possibly from inside this call. */
void ic_action_run(const ic_action_t *a, const ic_action_env_t *env,
                   const ic_sql_run_t *run, const char *rule_name,
                   const uint8_t *payload, size_t len, uint8_t hops,
                   ic_action_done_fn done, void *data);

#endif
