/* aws_call.h - the HTTP requests that perform a topic-rule action on
 * another AWS service, and the reading of their responses (pure, L1).
 *
 * Given an action's kind (its API member name: "sqs", "dynamoDBv2", ...),
 * its parameter object with every substitution template already rendered
 * (field names as in aws-iot-rules.md 9), the payload (the SELECT output),
 * an endpoint (base URL, region, credentials, account) and the time, build
 * the request(s) AWS IoT makes: the real service API call, serialised as
 * botocore 1.43 serialises it (protocol, X-Amz-Target, content type, JSON
 * with ", "/": " separators and \uXXXX escapes, form encoding) and
 * SigV4-signed for the service's signing name. No I/O, no clock, no
 * randomness: the caller passes now and a random seed.
 *
 *   kind              API call (signing name)               protocol
 *   sqs               SendMessage (sqs)                     JSON 1.0
 *   sns               Publish (sns)                         query (form)
 *   lambda            Invoke, InvocationType Event (lambda) rest-json
 *   dynamoDB          PutItem | UpdateItem | DeleteItem     JSON 1.0
 *   dynamoDBv2        PutItem (dynamodb)                    JSON 1.0
 *   kinesis           PutRecord (kinesis)                   JSON 1.1
 *   firehose          PutRecord | PutRecordBatch (firehose) JSON 1.1
 *   s3                PutObject, path style (s3)            rest-xml
 *   cloudwatchMetric  PutMetricData (monitoring)            JSON 1.0
 *   cloudwatchAlarm   SetAlarmState (monitoring)            JSON 1.0
 *   cloudwatchLogs    CreateLogStream + PutLogEvents (logs) JSON 1.1
 *   stepFunctions     StartExecution (states)               JSON 1.0
 *   timestream        WriteRecords (timestream)             JSON 1.0
 *   iotEvents         BatchPutMessage (ioteventsdata)       rest-json
 *   iotSiteWise       BatchPutAssetPropertyValue (iotsitewise) rest-json
 *   iotAnalytics      BatchPutMessage (iotanalytics)        rest-json
 *   location          BatchUpdateDevicePosition (geo)       rest-json
 *   elasticsearch,    PUT {endpoint}/{index}/{type}/{id} (es) JSON document
 *   openSearch
 *   http, salesforce  POST to the rendered url (http may be SigV4-signed)
 *
 * Every AWS kind goes to the endpoint's URL except elasticsearch and
 * openSearch, which go to the action's own `endpoint`. Host prefixes of the
 * model ("data." for SiteWise, "tracking." for Location) and Timestream
 * endpoint discovery are not applied: the endpoint is one configured
 * emulator or gateway (as botocore with inject_host_prefix=False).
 */
#ifndef IOTCORED_AWS_CALL_H
#define IOTCORED_AWS_CALL_H

#include "iotcored/http_parse.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where forwarded calls go and how they are signed. */
typedef struct ic_aws_endpoint_s {
    const char *url;           /* "http://127.0.0.1:5000" or https://...;
                                  a path, if any, prefixes every request */
    const char *region;        /* "us-east-1": signing region, ARNs */
    const char *access_key;
    const char *secret_key;
    const char *session_token; /* x-amz-security-token; NULL or "": none */
    const char *account_id;    /* 12 digits, for ARNs made from names */
} ic_aws_endpoint_t;

/* One action run. All pointers are borrowed for the call. */
typedef struct ic_aws_call_in_s {
    const char *kind;          /* API member name of the action */
    const cJSON *params;       /* the rendered parameter object */
    const uint8_t *payload;    /* SELECT output; NULL iff payload_len == 0 */
    size_t payload_len;
    const ic_aws_endpoint_t *ep; /* NULL: no endpoint configured */
    int64_t now_ms;            /* unix milliseconds: signing time, default
                                  timestamps (metric, log event, record) */
    const char *rule_name;     /* names the CloudWatch Logs stream (U79);
                                  NULL: "iotcored" */
    uint8_t seed[16];          /* random bytes from the caller; the UUIDs a
                                  call needs (partition key, execution name,
                                  message and entry IDs) derive from it */
} ic_aws_call_in_t;

/* One HTTP request of a call: exactly what to send. Content-Length (and
 * Connection) are left to the transport; every header here is signed. */
typedef struct ic_aws_req_s {
    const char *method;        /* "POST" or "PUT" (static) */
    char *url;                 /* owned; full URL, path percent-encoded */
    ic_http_header_t *headers; /* owned; names and values owned and
                                  NUL-terminated; Host first and
                                  Authorization last when signed */
    size_t n_headers;
    uint8_t *body;             /* owned; NULL iff body_len == 0 */
    size_t body_len;
    char service[64];          /* SigV4 signing name ("sqs", "monitoring",
                                  ...), "" when the request is not signed */
    const char *operation;     /* API operation, e.g. "SendMessage" (static) */
    bool ok_if_exists;         /* ResourceAlreadyExistsException is success
                                  (CreateLogStream) */
    int check_;                /* private: which partial-failure fields the
                                  response may carry */
} ic_aws_req_t;

/* The requests of one action run, to be sent in order; the run fails at
 * the first request that fails (ic_aws_call_check). */
typedef struct ic_aws_call_s {
    ic_aws_req_t *reqs;        /* owned, n_reqs >= 1 */
    size_t n_reqs;
} ic_aws_call_t;

/* Build the requests for in. *out (out parameter) is a new call, owned by
 * the caller (ic_aws_call_free), or NULL on error. why (may be NULL) gets
 * the reason, which is meant as the action's errorMessage. Returns 0, or
 * IC_EINVAL:
 *   "action kafka is not supported" (kafka, republish, unknown kinds);
 *   "no AWS service endpoint configured" (ep NULL for an AWS kind, or for
 *     http with auth.sigv4);
 *   "aws endpoint URL ... is invalid", "... url is invalid";
 *   a missing or mistyped required field ("queueUrl is required");
 *   an invalid rendered value (a non-numeric metricValue or hashKeyValue
 *     of type NUMBER, an unknown stateValue, cannedAcl, separator,
 *     operation or unit, a payload that dynamoDBv2 or timestream needs as
 *     a JSON object, a non-UTF-8 payload where the API takes text, more
 *     elements than the batch limit, messageId with batchMode, ...). */
int ic_aws_call_build(const ic_aws_call_in_t *in, ic_aws_call_t **out,
                      char *why, size_t whylen);

/* Free a call and everything it owns (NULL is fine). */
void ic_aws_call_free(ic_aws_call_t *call);

/* Judge the response to req (borrowed, from a call): status, its headers
 * (borrowed, may be NULL when n_headers is 0) and body (borrowed; NULL iff
 * body_len == 0). Returns 0 when the request succeeded (2xx without
 * per-record failures in the body; or, for ok_if_exists,
 * ResourceAlreadyExistsException), else with why (may be NULL) set to
 * "<Code>: <Message> (HTTP <status>)" taken from the AWS error (JSON
 * __type/code or the x-amzn-ErrorType / x-amzn-query-error header, and
 * message/Message; XML <Code>/<Message>; OpenSearch error.type/reason),
 * or "HTTP <status>: <start of the body>" when there is none:
 *   IC_EBUSY  429, 5xx or a throttling code: trying again may succeed;
 *   IC_EIO    anything else, including a 2xx whose body reports failed
 *             records (Firehose FailedPutCount, IoT Events, IoT Analytics
 *             and SiteWise error entries, Location Errors, CloudWatch Logs
 *             rejectedLogEventsInfo). */
int ic_aws_call_check(const ic_aws_req_t *req, int status,
                      const ic_http_header_t *headers, size_t n_headers,
                      const uint8_t *body, size_t body_len, char *why,
                      size_t whylen);

/* failedAction of the error document (aws-iot-rules.md 10.3, U84) for a
 * kind: "SqsAction", "RepublishAction", ...; NULL for an unknown kind. */
const char *ic_aws_call_action_name(const char *kind);

/* failedResource for a kind and its rendered params (borrowed): queueUrl,
 * tableName, "databaseName.tableName", ... (U84). Returns a new string
 * owned by the caller (free), "" when the field is absent; never NULL. */
char *ic_aws_call_resource(const char *kind, const cJSON *params);

#endif
