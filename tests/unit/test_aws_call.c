/* test_aws_call.c - rule actions as AWS API requests.
 *
 * The table below was generated once, at development time, by a scratch
 * script that is not kept in the tree (the tests need no Python): each
 * case's action was also expressed as the API call AWS IoT makes and
 * serialised by botocore 1.43.11 (boto3 clients on http://127.0.0.1:5000,
 * us-east-1, inject_host_prefix off, requests captured at before-send), so
 * method,
 * path, X-Amz-Target, Content-Type, the other protocol headers and the
 * body are botocore's bytes; the Authorization is botocore's SigV4Auth (or
 * S3SigV4Auth) over the same headers at 20261123T080950Z. IoT Analytics
 * left the SDK before 1.43, so its body is json.dumps of the AWS API
 * reference shape, as botocore's JSON serialiser would write it. UUIDs the
 * builder derives from the seed were recomputed in Python (SHA-256 of seed
 * and counter, version 4 bits) and given to botocore as plain values.
 * Besides the table: invalid rendered parameters, unsupported kinds, the
 * endpoint rules, http/salesforce/OpenSearch requests, the error-body
 * readings of ic_aws_call_check, and failedAction/failedResource names. */
#include "suites.h"

#include "iotcored/aws_call.h"
#include "iotcored/error.h"
#include "iotcored/sigv4.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NOW_MS 1795421390123LL /* 2026-11-23T08:09:50.123Z */

static const ic_aws_endpoint_t ep = {
    "http://127.0.0.1:5000", "us-east-1", "AKIDTEST", "secret", NULL,
    "123456789012"};

typedef struct exp_req_s {
    const char *method, *path, *target, *ctype;
    const char *extra; /* "name: value;name: value" */
    const char *body;
    size_t body_len;
    const char *authz;
} exp_req_t;

typedef struct vec_s {
    const char *name, *kind, *params, *payload;
    size_t payload_len;
    const char *rule;
    exp_req_t reqs[3];
} vec_t;

static const vec_t vecs[] = {
    {"sqs", "sqs", "{\"roleArn\": \"arn:aws:iam::123456789012:role/r\", \"queueUrl\": \"http://127.0.0.1:5000/123456789012/q1\"}", "{\"temp\":21.5,\"s\":\"\303\251\\n\"}", 24, "myRule", {
         {"POST", "/", "AmazonSQS.SendMessage", "application/x-amz-json-1.0", "x-amzn-query-mode: true", "{\"QueueUrl\": \"http://127.0.0.1:5000/123456789012/q1\", \"MessageBody\": \"{\\\"temp\\\":21.5,\\\"s\\\":\\\"\\u00e9\\\\n\\\"}\"}", 107,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode, Signature=c5b5a8418c926721427e4d87c54fcbd7a2c6466c3b45e23bfa7d01df20b4e6e1"},
     }},
    {"sqs_base64", "sqs", "{\"queueUrl\": \"http://127.0.0.1:5000/123456789012/q1\", \"useBase64\": true}", "\000\001\377binary", 9, "myRule", {
         {"POST", "/", "AmazonSQS.SendMessage", "application/x-amz-json-1.0", "x-amzn-query-mode: true", "{\"QueueUrl\": \"http://127.0.0.1:5000/123456789012/q1\", \"MessageBody\": \"AAH/YmluYXJ5\"}", 84,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode, Signature=d09ab6d90edc1d9bb501aaddae47cb4092435b039f0a47df221b263bd7e5027c"},
     }},
    {"sns_raw", "sns", "{\"targetArn\": \"arn:aws:sns:us-east-1:123456789012:t1\", \"messageFormat\": \"RAW\"}", "{\"a\":\"b c&d=e+f/\303\251*~\"}", 22, "myRule", {
         {"POST", "/", "", "application/x-www-form-urlencoded; charset=utf-8", "", "Action=Publish&Version=2010-03-31&TargetArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3At1&Message=%7B%22a%22%3A%22b+c%26d%3De%2Bf%2F%C3%A9%2A~%22%7D", 150,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/sns/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=d15cc93ecaf42595782687d1f5fa9ffed394449aea988350c1d091a5a2c35785"},
     }},
    {"sns_json", "sns", "{\"targetArn\": \"arn:aws:sns:us-east-1:123456789012:t1\", \"messageFormat\": \"JSON\"}", "{\"default\":\"x\"}", 15, "myRule", {
         {"POST", "/", "", "application/x-www-form-urlencoded; charset=utf-8", "", "Action=Publish&Version=2010-03-31&TargetArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3At1&Message=%7B%22default%22%3A%22x%22%7D&MessageStructure=json", 151,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/sns/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=4d496d971fd7f3198cb2cbf475b273d1f0b8a6f2317fbe3977f0c3922c116c73"},
     }},
    {"lambda", "lambda", "{\"functionArn\": \"arn:aws:lambda:us-east-1:123456789012:function:fn\"}", "{\"a\":1}", 7, "myRule", {
         {"POST", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afn/invocations", "", "", "x-amz-invocation-type: Event", "{\"a\":1}", 7,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date;x-amz-invocation-type, Signature=cfca8df20dba172a0b4d7536ffd4f628892c2965c292e22292ce84305c45ff05"},
     }},
    {"ddb_insert", "dynamoDB", "{\"tableName\": \"t\", \"hashKeyField\": \"id\", \"hashKeyValue\": \"dev1\", \"rangeKeyField\": \"ts\", \"rangeKeyValue\": \"1700000000\", \"rangeKeyType\": \"NUMBER\"}", "{\"temp\":21.5,\"on\":true,\"n\":null,\"l\":[1,\"x\"],\"o\":{\"k\":\"v\"}}", 58, "myRule", {
         {"POST", "/", "DynamoDB_20120810.PutItem", "application/x-amz-json-1.0", "", "{\"TableName\": \"t\", \"Item\": {\"id\": {\"S\": \"dev1\"}, \"ts\": {\"N\": \"1700000000\"}, \"payload\": {\"M\": {\"temp\": {\"N\": \"21.5\"}, \"on\": {\"BOOL\": true}, \"n\": {\"NULL\": true}, \"l\": {\"L\": [{\"N\": \"1\"}, {\"S\": \"x\"}]}, \"o\": {\"M\": {\"k\": {\"S\": \"v\"}}}}}}}", 231,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=6e2364330c65ee051812f9a4aad6d940df9ef072aa714bb6a87214eeba802703"},
     }},
    {"ddb_update_binary", "dynamoDB", "{\"tableName\": \"t\", \"hashKeyField\": \"id\", \"hashKeyValue\": \"42\", \"hashKeyType\": \"NUMBER\", \"payloadField\": \"data\", \"operation\": \"UPDATE\"}", "\000\001\377binary", 9, "myRule", {
         {"POST", "/", "DynamoDB_20120810.UpdateItem", "application/x-amz-json-1.0", "", "{\"TableName\": \"t\", \"Key\": {\"id\": {\"N\": \"42\"}}, \"UpdateExpression\": \"SET #p = :p\", \"ExpressionAttributeNames\": {\"#p\": \"data\"}, \"ExpressionAttributeValues\": {\":p\": {\"B\": \"AAH/YmluYXJ5\"}}}", 185,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=d6d70f183d1b2f46bad123285aee1fa75a8547b7573b2c98101aa4c21b1df69f"},
     }},
    {"ddb_delete", "dynamoDB", "{\"tableName\": \"t\", \"hashKeyField\": \"id\", \"hashKeyValue\": \"dev1\", \"operation\": \"DELETE\"}", "{\"a\":1}", 7, "myRule", {
         {"POST", "/", "DynamoDB_20120810.DeleteItem", "application/x-amz-json-1.0", "", "{\"TableName\": \"t\", \"Key\": {\"id\": {\"S\": \"dev1\"}}}", 48,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=dd3692015cf27de791cd0c6dedac687f720859f662e4a5fd988bc6340b85accc"},
     }},
    {"ddbv2", "dynamoDBv2", "{\"roleArn\": \"r\", \"putItem\": {\"tableName\": \"t2\"}}", "{\"id\":\"dev1\",\"temp\":21.50,\"big\":12345678901234567890,\"ok\":false,\"tags\":[\"a\",{\"b\":null}],\"uni\":\"\303\251\\ud83d\\ude00\\u0001\"}", 117, "myRule", {
         {"POST", "/", "DynamoDB_20120810.PutItem", "application/x-amz-json-1.0", "", "{\"TableName\": \"t2\", \"Item\": {\"id\": {\"S\": \"dev1\"}, \"temp\": {\"N\": \"21.50\"}, \"big\": {\"N\": \"12345678901234567890\"}, \"ok\": {\"BOOL\": false}, \"tags\": {\"L\": [{\"S\": \"a\"}, {\"M\": {\"b\": {\"NULL\": true}}}]}, \"uni\": {\"S\": \"\\u00e9\\ud83d\\ude00\\u0001\"}}}", 236,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=b246808ef6ed89638ad7864f1fa73b9d9621cec840daeb0f3d5d2c2b81f14712"},
     }},
    {"kinesis", "kinesis", "{\"streamName\": \"s1\", \"partitionKey\": \"pk-1\"}", "{\"a\":1}", 7, "myRule", {
         {"POST", "/", "Kinesis_20131202.PutRecord", "application/x-amz-json-1.1", "", "{\"StreamName\": \"s1\", \"Data\": \"eyJhIjoxfQ==\", \"PartitionKey\": \"pk-1\"}", 68,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=763bd977aa1d5f89f3bed07d7ba2b4a2a2838372b38f2a45b2da35af8c675869"},
     }},
    {"kinesis_uuid", "kinesis", "{\"streamName\": \"s1\"}", "{\"a\":1}", 7, "myRule", {
         {"POST", "/", "Kinesis_20131202.PutRecord", "application/x-amz-json-1.1", "", "{\"StreamName\": \"s1\", \"Data\": \"eyJhIjoxfQ==\", \"PartitionKey\": \"07d4424e-3c62-42d9-af95-3193cad3570c\"}", 100,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=9e0ab05baefdc080b16f0d820696c8cfbc9e0586e9860b5fc0f2a94ceba7d0f3"},
     }},
    {"firehose", "firehose", "{\"deliveryStreamName\": \"d1\", \"separator\": \"\\n\"}", "{\"a\":1}", 7, "myRule", {
         {"POST", "/", "Firehose_20150804.PutRecord", "application/x-amz-json-1.1", "", "{\"DeliveryStreamName\": \"d1\", \"Record\": {\"Data\": \"eyJhIjoxfQo=\"}}", 64,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/firehose/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=8fbc22226007f18a1b088abc850f15a58c207a381d9a76ac22524307f779b732"},
     }},
    {"firehose_batch", "firehose", "{\"deliveryStreamName\": \"d1\", \"separator\": \",\", \"batchMode\": true}", "[{\"a\":1},{\"b\":[2,3]}]", 21, "myRule", {
         {"POST", "/", "Firehose_20150804.PutRecordBatch", "application/x-amz-json-1.1", "", "{\"DeliveryStreamName\": \"d1\", \"Records\": [{\"Data\": \"eyJhIjoxfSw=\"}, {\"Data\": \"eyJiIjpbMiwzXX0s\"}]}", 97,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/firehose/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=1e75cb2b8a958983b0c1b3b3afb6902a09b249fd5eea2bc2fdeade40ac067e64"},
     }},
    {"s3", "s3", "{\"bucketName\": \"b1\", \"key\": \"some/topic/my key+1.json\", \"cannedAcl\": \"bucket-owner-full-control\"}", "{\"a\":1}", 7, "myRule", {
         {"PUT", "/b1/some/topic/my%20key%2B1.json", "", "", "x-amz-acl: bucket-owner-full-control;x-amz-content-sha256: 015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862", "{\"a\":1}", 7,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-acl;x-amz-content-sha256;x-amz-date, Signature=aa019bc34a048e81e78d30d100202746d285fa8cbe90bb39cb10bbe5020290f5"},
     }},
    {"cw_metric", "cloudwatchMetric", "{\"metricNamespace\": \"IoT/ns\", \"metricName\": \"temp\", \"metricValue\": \"23\", \"metricUnit\": \"Count\", \"metricTimestamp\": \"1700000000\"}", "{}", 2, "myRule", {
         {"POST", "/", "GraniteServiceVersion20100801.PutMetricData", "application/x-amz-json-1.0", "x-amzn-query-mode: true", "{\"Namespace\": \"IoT/ns\", \"MetricData\": [{\"MetricName\": \"temp\", \"Timestamp\": 1700000000, \"Value\": 23.0, \"Unit\": \"Count\"}]}", 120,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/monitoring/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode, Signature=78cdd5ed44b209c6980529bb13ae7de106f294f218a0a36ef17c9e4ff8156392"},
     }},
    {"cw_metric_now", "cloudwatchMetric", "{\"metricNamespace\": \"ns\", \"metricName\": \"m\", \"metricValue\": \"-1.25e20\", \"metricUnit\": \"None\"}", "{}", 2, "myRule", {
         {"POST", "/", "GraniteServiceVersion20100801.PutMetricData", "application/x-amz-json-1.0", "x-amzn-query-mode: true", "{\"Namespace\": \"ns\", \"MetricData\": [{\"MetricName\": \"m\", \"Timestamp\": 1795421390, \"Value\": -1.25e+20, \"Unit\": \"None\"}]}", 117,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/monitoring/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode, Signature=d77afd4a43d4017e746a471d7a40948c441fea93777b96a4c2b705926b381d79"},
     }},
    {"cw_metric_small", "cloudwatchMetric", "{\"metricNamespace\": \"ns\", \"metricName\": \"m\", \"metricValue\": \"0.0001234\", \"metricUnit\": \"Percent\", \"metricTimestamp\": \"1700000000\"}", "{}", 2, "myRule", {
         {"POST", "/", "GraniteServiceVersion20100801.PutMetricData", "application/x-amz-json-1.0", "x-amzn-query-mode: true", "{\"Namespace\": \"ns\", \"MetricData\": [{\"MetricName\": \"m\", \"Timestamp\": 1700000000, \"Value\": 0.0001234, \"Unit\": \"Percent\"}]}", 120,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/monitoring/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode, Signature=3d5b3261fe0a49e5a049e673ecb6f74d0f723a2fb70e6daf57d61e8ba99e8554"},
     }},
    {"cw_alarm", "cloudwatchAlarm", "{\"alarmName\": \"a1\", \"stateReason\": \"too \\\"hot\\\"\", \"stateValue\": \"ALARM\"}", "{}", 2, "myRule", {
         {"POST", "/", "GraniteServiceVersion20100801.SetAlarmState", "application/x-amz-json-1.0", "x-amzn-query-mode: true", "{\"AlarmName\": \"a1\", \"StateValue\": \"ALARM\", \"StateReason\": \"too \\\"hot\\\"\"}", 72,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/monitoring/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode, Signature=7bd9270dc60bc1cf7c3efbc1feffc02b6ed671c6bc40cf130320531cbd6b2420"},
     }},
    {"cw_logs", "cloudwatchLogs", "{\"logGroupName\": \"g1\"}", "{\"a\":1}", 7, "myRule", {
         {"POST", "/", "Logs_20140328.CreateLogStream", "application/x-amz-json-1.1", "", "{\"logGroupName\": \"g1\", \"logStreamName\": \"iotcored-myRule\"}", 58,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/logs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=73f600de9f7f4f3ede57d6ccccc38fe515ef76f4e5f6dd49d8dccc4031d6cfb9"},
         {"POST", "/", "Logs_20140328.PutLogEvents", "application/x-amz-json-1.1", "", "{\"logGroupName\": \"g1\", \"logStreamName\": \"iotcored-myRule\", \"logEvents\": [{\"timestamp\": 1795421390123, \"message\": \"{\\\"a\\\":1}\"}]}", 127,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/logs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=a093af7b209c11929ba2d4344128f32c92a1cbc61b52fefaca846395c146236b"},
     }},
    {"cw_logs_batch", "cloudwatchLogs", "{\"logGroupName\": \"g1\", \"batchMode\": \"true\"}", "[{\"timestamp\":1700000000002,\"message\":\"b\"},{\"message\":\"c\"},{\"timestamp\":1700000000001,\"message\":{\"x\":1}}]", 105, "myRule", {
         {"POST", "/", "Logs_20140328.CreateLogStream", "application/x-amz-json-1.1", "", "{\"logGroupName\": \"g1\", \"logStreamName\": \"iotcored-myRule\"}", 58,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/logs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=73f600de9f7f4f3ede57d6ccccc38fe515ef76f4e5f6dd49d8dccc4031d6cfb9"},
         {"POST", "/", "Logs_20140328.PutLogEvents", "application/x-amz-json-1.1", "", "{\"logGroupName\": \"g1\", \"logStreamName\": \"iotcored-myRule\", \"logEvents\": [{\"timestamp\": 1700000000001, \"message\": \"{\\\"x\\\":1}\"}, {\"timestamp\": 1700000000002, \"message\": \"b\"}, {\"timestamp\": 1795421390123, \"message\": \"c\"}]}", 219,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/logs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=42b551a55741167c53dc3a8c2812f5704a9740d4e3c8c3c7eb4968c45d94d5a0"},
     }},
    {"sfn", "stepFunctions", "{\"stateMachineName\": \"sm\", \"executionNamePrefix\": \"p-\"}", "{\"a\":1}", 7, "myRule", {
         {"POST", "/", "AWSStepFunctions.StartExecution", "application/x-amz-json-1.0", "", "{\"stateMachineArn\": \"arn:aws:states:us-east-1:123456789012:stateMachine:sm\", \"name\": \"p-07d4424e-3c62-42d9-af95-3193cad3570c\", \"input\": \"{\\\"a\\\":1}\"}", 148,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/states/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=e6140f3e26c1b4e8c2cf3831f4cd2a59c735e7f08ba77933b2ba9c006dd601d3"},
     }},
    {"timestream", "timestream", "{\"databaseName\": \"db\", \"tableName\": \"tb\", \"dimensions\": [{\"name\": \"device\", \"value\": \"d1\"}, {\"name\": \"site\", \"value\": \"s\\u00e9\"}], \"timestamp\": {\"value\": \"1700000000\", \"unit\": \"SECONDS\"}}", "{\"temp\":21.5,\"count\":3,\"on\":true,\"name\":\"x\\\"y\",\"obj\":{\"a\":1},\"nul\":null}", 72, "myRule", {
         {"POST", "/", "Timestream_20181101.WriteRecords", "application/x-amz-json-1.0", "", "{\"DatabaseName\": \"db\", \"TableName\": \"tb\", \"Records\": [{\"Dimensions\": [{\"Name\": \"device\", \"Value\": \"d1\"}, {\"Name\": \"site\", \"Value\": \"s\\u00e9\"}], \"MeasureName\": \"temp\", \"MeasureValue\": \"21.5\", \"MeasureValueType\": \"DOUBLE\", \"Time\": \"1700000000\", \"TimeUnit\": \"SECONDS\"}, {\"Dimensions\": [{\"Name\": \"device\", \"Value\": \"d1\"}, {\"Name\": \"site\", \"Value\": \"s\\u00e9\"}], \"MeasureName\": \"count\", \"MeasureValue\": \"3\", \"MeasureValueType\": \"BIGINT\", \"Time\": \"1700000000\", \"TimeUnit\": \"SECONDS\"}, {\"Dimensions\": [{\"Name\": \"device\", \"Value\": \"d1\"}, {\"Name\": \"site\", \"Value\": \"s\\u00e9\"}], \"MeasureName\": \"on\", \"MeasureValue\": \"true\", \"MeasureValueType\": \"BOOLEAN\", \"Time\": \"1700000000\", \"TimeUnit\": \"SECONDS\"}, {\"Dimensions\": [{\"Name\": \"device\", \"Value\": \"d1\"}, {\"Name\": \"site\", \"Value\": \"s\\u00e9\"}], \"MeasureName\": \"name\", \"MeasureValue\": \"x\\\"y\", \"MeasureValueType\": \"VARCHAR\", \"Time\": \"1700000000\", \"TimeUnit\": \"SECONDS\"}, {\"Dimensions\": [{\"Name\": \"device\", \"Value\": \"d1\"}, {\"Name\": \"site\", \"Value\": \"s\\u00e9\"}], \"MeasureName\": \"obj\", \"MeasureValue\": \"{\\\"a\\\":1}\", \"MeasureValueType\": \"VARCHAR\", \"Time\": \"1700000000\", \"TimeUnit\": \"SECONDS\"}]}", 1122,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/timestream/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=36a38ea32394406d7421d754a0973c994aebbff9da906670b9b2d1f8f079e8d0"},
     }},
    {"iotevents", "iotEvents", "{\"inputName\": \"in1\", \"messageId\": \"m1\"}", "{\"a\":1}", 7, "myRule", {
         {"POST", "/inputs/messages", "", "application/json", "", "{\"messages\": [{\"messageId\": \"m1\", \"inputName\": \"in1\", \"payload\": \"eyJhIjoxfQ==\"}]}", 82,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/ioteventsdata/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=2d6d71211c3d7e2015254f90fc419d201fd528d83215fbd2edb2415fedf21259"},
     }},
    {"iotevents_batch", "iotEvents", "{\"inputName\": \"in1\", \"batchMode\": true}", "[1,{\"a\":2}]", 11, "myRule", {
         {"POST", "/inputs/messages", "", "application/json", "", "{\"messages\": [{\"messageId\": \"07d4424e-3c62-42d9-af95-3193cad3570c\", \"inputName\": \"in1\", \"payload\": \"MQ==\"}, {\"messageId\": \"067c2a58-9276-4095-a68c-8333f2d83e26\", \"inputName\": \"in1\", \"payload\": \"eyJhIjoyfQ==\"}]}", 210,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/ioteventsdata/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=9c80b60e8ee26cb6877a128eee978fa940916eeeca1a91d9c81fe0af84ce9426"},
     }},
    {"sitewise", "iotSiteWise", "{\"putAssetPropertyValueEntries\": [{\"propertyAlias\": \"/f/t\", \"propertyValues\": [{\"value\": {\"doubleValue\": \"21.5\"}, \"timestamp\": {\"timeInSeconds\": \"1700000000\", \"offsetInNanos\": \"5\"}, \"quality\": \"GOOD\"}, {\"value\": {\"doubleValue\": \"20\"}, \"timestamp\": {\"timeInSeconds\": \"1700000001\"}}]}, {\"entryId\": \"e2\", \"assetId\": \"a1b2c3d4-0000-4000-8000-000000000001\", \"propertyId\": \"a1b2c3d4-0000-4000-8000-000000000002\", \"propertyValues\": [{\"value\": {\"integerValue\": \"-7\"}, \"timestamp\": {\"timeInSeconds\": \"1700000000\"}}, {\"value\": {\"booleanValue\": \"TRUE\"}, \"timestamp\": {\"timeInSeconds\": \"1700000000\"}, \"quality\": \"BAD\"}, {\"value\": {\"stringValue\": \"s\"}, \"timestamp\": {\"timeInSeconds\": \"1700000000\"}}]}]}", "{}", 2, "myRule", {
         {"POST", "/properties", "", "application/json", "", "{\"entries\": [{\"entryId\": \"07d4424e-3c62-42d9-af95-3193cad3570c\", \"propertyAlias\": \"/f/t\", \"propertyValues\": [{\"value\": {\"doubleValue\": 21.5}, \"timestamp\": {\"timeInSeconds\": 1700000000, \"offsetInNanos\": 5}, \"quality\": \"GOOD\"}, {\"value\": {\"doubleValue\": 20.0}, \"timestamp\": {\"timeInSeconds\": 1700000001}}]}, {\"entryId\": \"e2\", \"assetId\": \"a1b2c3d4-0000-4000-8000-000000000001\", \"propertyId\": \"a1b2c3d4-0000-4000-8000-000000000002\", \"propertyValues\": [{\"value\": {\"integerValue\": -7}, \"timestamp\": {\"timeInSeconds\": 1700000000}}, {\"value\": {\"booleanValue\": true}, \"timestamp\": {\"timeInSeconds\": 1700000000}, \"quality\": \"BAD\"}, {\"value\": {\"stringValue\": \"s\"}, \"timestamp\": {\"timeInSeconds\": 1700000000}}]}]}", 701,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/iotsitewise/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=1fab6aa9ca5cd9983e6758225de6b20042c6bd6949f9f6e985ef1e799e8504c2"},
     }},
    {"location", "location", "{\"trackerName\": \"tr 1\", \"deviceId\": \"d1\", \"latitude\": \"47.25\", \"longitude\": \"-122\", \"timestamp\": {\"value\": \"1795421390123\", \"unit\": \"MILLISECONDS\"}}", "{}", 2, "myRule", {
         {"POST", "/tracking/v0/trackers/tr%201/positions", "", "application/json", "", "{\"Updates\": [{\"DeviceId\": \"d1\", \"Position\": [-122.0, 47.25], \"SampleTime\": \"2026-11-23T08:09:50.123000Z\"}]}", 107,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/geo/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ea510c6fccd1310c0c5c70cbbcec2999599a0d98657496f4f07751559d3e051a"},
     }},
    {"location_now", "location", "{\"trackerName\": \"tr\", \"deviceId\": \"d1\", \"latitude\": \"0\", \"longitude\": \"1e-5\"}", "{}", 2, "myRule", {
         {"POST", "/tracking/v0/trackers/tr/positions", "", "application/json", "", "{\"Updates\": [{\"DeviceId\": \"d1\", \"Position\": [1e-05, 0.0], \"SampleTime\": \"2026-11-23T08:09:50.123000Z\"}]}", 104,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/geo/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=90461bcf9c66562c3d0cc612d197a8701bbd01ae1d6bd7ee8add0c8cfd62bf1d"},
     }},
    {"iotanalytics", "iotAnalytics", "{\"channelArn\": \"arn:aws:iotanalytics:us-east-1:123456789012:channel/ch1\"}", "{\"a\":1}", 7, "myRule", {
         {"POST", "/messages/batch", "", "application/json", "", "{\"channelName\": \"ch1\", \"messages\": [{\"messageId\": \"07d4424e-3c62-42d9-af95-3193cad3570c\", \"payload\": \"eyJhIjoxfQ==\"}]}", 118,
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/iotanalytics/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=fcceb11daea9e9efc99e2a7e0dfdc0336fcdecd6d6c5b00cbf9f3e0ed1afcf43"},
     }},
};

static const char *hval(const ic_aws_req_t *r, const char *name) {
    size_t i;
    for (i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static void seed_in(ic_aws_call_in_t *in) {
    int i;
    for (i = 0; i < 16; i++)
        in->seed[i] = (uint8_t)(i + 1);
}

static int build(const char *kind, const char *params_json, const void *payload,
                 size_t len, const ic_aws_endpoint_t *e, ic_aws_call_t **out,
                 char *why, size_t whylen) {
    ic_aws_call_in_t in;
    cJSON *p = cJSON_Parse(params_json);
    int rc;
    ck_assert_msg(p != NULL, "bad params %s", params_json);
    memset(&in, 0, sizeof(in));
    in.kind = kind;
    in.params = p;
    in.payload = payload;
    in.payload_len = len;
    in.ep = e;
    in.now_ms = NOW_MS;
    in.rule_name = "myRule";
    seed_in(&in);
    rc = ic_aws_call_build(&in, out, why, whylen);
    cJSON_Delete(p);
    return rc;
}

/* The signature verifies with the project's own SigV4 checker. S3 signs
 * the path as sent, which the checker's (non-S3) canonical form gives for
 * the decoded path. */
static void verify_sig(const ic_aws_req_t *r, const char *path, bool is_s3) {
    ic_http_request_t hr;
    ic_sigv4_auth_t a;
    char why[512], dec[1024];
    memset(&hr, 0, sizeof(hr));
    hr.method = r->method;
    hr.target = path;
    hr.target_len = strlen(path);
    hr.path = path;
    if (is_s3) {
        ck_assert_int_ge(ic_http_pct_decode(path, strlen(path), dec, sizeof(dec)), 0);
        hr.path = dec;
    }
    hr.query = "";
    hr.headers = r->headers;
    hr.n_headers = r->n_headers;
    hr.body = r->body;
    hr.body_len = r->body_len;
    ck_assert_int_eq(ic_sigv4_parse(&hr, &a, why, sizeof(why)), IC_SIGV4_OK);
    ck_assert_msg(ic_sigv4_verify(&hr, &a, "secret", NOW_MS / 1000, why,
                                  sizeof(why)) == IC_SIGV4_OK, "%s", why);
}

START_TEST(botocore_table) {
    const vec_t *v = &vecs[_i];
    ic_aws_call_t *c = NULL;
    char why[512];
    size_t n = 0, i;
    int rc = build(v->kind, v->params, v->payload, v->payload_len, &ep, &c, why,
                   sizeof(why));
    ck_assert_msg(rc == 0, "%s: %s", v->name, why);
    while (n < 3 && v->reqs[n].method != NULL)
        n++;
    ck_assert_msg(c->n_reqs == n, "%s: %zu requests", v->name, c->n_reqs);
    for (i = 0; i < n; i++) {
        const exp_req_t *x = &v->reqs[i];
        const ic_aws_req_t *r = &c->reqs[i];
        char url[1024], extra[1024], *tok, *save = NULL;
        const char *h;
        ck_assert_str_eq(r->method, x->method);
        snprintf(url, sizeof(url), "http://127.0.0.1:5000%s", x->path);
        ck_assert_str_eq(r->url, url);
        h = hval(r, "X-Amz-Target");
        ck_assert_str_eq(h ? h : "", x->target);
        h = hval(r, "Content-Type");
        ck_assert_str_eq(h ? h : "", x->ctype);
        snprintf(extra, sizeof(extra), "%s", x->extra);
        for (tok = strtok_r(extra, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
            char *colon = strstr(tok, ": ");
            *colon = '\0';
            h = hval(r, tok);
            ck_assert_msg(h != NULL, "%s: no header %s", v->name, tok);
            ck_assert_str_eq(h, colon + 2);
        }
        ck_assert_str_eq(hval(r, "Host"), "127.0.0.1:5000");
        ck_assert_str_eq(hval(r, "X-Amz-Date"), "20261123T080950Z");
        ck_assert_msg(r->body_len == x->body_len &&
                          memcmp(r->body, x->body, x->body_len) == 0,
                      "%s body:\n got %.*s\nwant %s", v->name, (int)r->body_len,
                      (const char *)r->body, x->body);
        ck_assert_str_eq(r->headers[r->n_headers - 1].name, "Authorization");
        ck_assert_str_eq(hval(r, "Authorization"), x->authz);
        verify_sig(r, x->path, strcmp(v->kind, "s3") == 0);
    }
    ic_aws_call_free(c);
}
END_TEST

/* Protocol facts that the table shows per case, checked once more by name. */
START_TEST(signing_names_and_flags) {
    static const struct {
        const char *kind, *params, *payload, *service, *op;
    } t[] = {
        {"sqs", "{\"queueUrl\":\"q\"}", "{}", "sqs", "SendMessage"},
        {"cloudwatchAlarm", "{\"alarmName\":\"a\",\"stateReason\":\"r\",\"stateValue\":\"OK\"}",
         "{}", "monitoring", "SetAlarmState"},
        {"stepFunctions", "{\"stateMachineName\":\"sm\"}", "{}", "states", "StartExecution"},
        {"timestream", "{\"databaseName\":\"d\",\"tableName\":\"t\",\"dimensions\":[{\"name\":\"n\",\"value\":\"v\"}]}",
         "{\"a\":1}", "timestream", "WriteRecords"},
        {"iotEvents", "{\"inputName\":\"i\"}", "{}", "ioteventsdata", "BatchPutMessage"},
        {"location", "{\"trackerName\":\"t\",\"deviceId\":\"d\",\"latitude\":\"1\",\"longitude\":\"2\"}",
         "{}", "geo", "BatchUpdateDevicePosition"},
    };
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ic_aws_call_t *c;
        char why[256];
        ck_assert_msg(build(t[i].kind, t[i].params, t[i].payload, strlen(t[i].payload),
                            &ep, &c, why, sizeof(why)) == 0, "%s: %s", t[i].kind, why);
        ck_assert_str_eq(c->reqs[0].service, t[i].service);
        ck_assert_str_eq(c->reqs[0].operation, t[i].op);
        ck_assert(strstr(hval(&c->reqs[0], "Authorization"), t[i].service) != NULL);
        ic_aws_call_free(c);
    }
}
END_TEST

START_TEST(logs_stream_may_exist_and_uuids_differ) {
    ic_aws_call_t *c;
    char why[256];
    const char *b0, *b1;
    ck_assert_int_eq(build("cloudwatchLogs", "{\"logGroupName\":\"g\"}", "x", 1, &ep,
                           &c, why, sizeof(why)), 0);
    ck_assert_uint_eq(c->n_reqs, 2);
    ck_assert(c->reqs[0].ok_if_exists);
    ck_assert(!c->reqs[1].ok_if_exists);
    ic_aws_call_free(c);
    /* two messages in one batch get two IDs */
    ck_assert_int_eq(build("iotAnalytics", "{\"channelName\":\"c\",\"batchMode\":true}",
                           "[1,2]", 5, &ep, &c, why, sizeof(why)), 0);
    b0 = strstr((const char *)c->reqs[0].body, "\"messageId\": \"");
    ck_assert_ptr_nonnull(b0);
    b1 = strstr(b0 + 1, "\"messageId\": \"");
    ck_assert_ptr_nonnull(b1);
    ck_assert(strncmp(b0 + 14, b1 + 14, 36) != 0);
    ck_assert_int_eq(b0[14 + 14], '4'); /* version 4 */
    ic_aws_call_free(c);
}
END_TEST

START_TEST(session_token_and_path_prefix) {
    ic_aws_endpoint_t e = ep;
    ic_aws_call_t *c;
    char why[256];
    e.url = "https://gw.example.com:443/aws/";
    e.session_token = "TOKEN/+=";
    ck_assert_int_eq(build("kinesis", "{\"streamName\":\"s\",\"partitionKey\":\"k\"}",
                           "{}", 2, &e, &c, why, sizeof(why)), 0);
    ck_assert_str_eq(c->reqs[0].url, "https://gw.example.com:443/aws/");
    ck_assert_str_eq(hval(&c->reqs[0], "Host"), "gw.example.com");
    ck_assert_str_eq(hval(&c->reqs[0], "X-Amz-Security-Token"), "TOKEN/+=");
    ck_assert(strstr(hval(&c->reqs[0], "Authorization"),
                     "SignedHeaders=content-type;host;x-amz-date;"
                     "x-amz-security-token;x-amz-target") != NULL);
    verify_sig(&c->reqs[0], "/aws/", false);
    ic_aws_call_free(c);
}
END_TEST

START_TEST(search_http_salesforce) {
    ic_aws_call_t *c;
    char why[256];
    const char *doc = "{\"a\":1}";
    ck_assert_int_eq(build("openSearch",
                           "{\"endpoint\":\"https://search-x.us-east-1.es.amazonaws.com\","
                           "\"index\":\"idx\",\"type\":\"_doc\",\"id\":\"a b/c\"}",
                           doc, 7, &ep, &c, why, sizeof(why)), 0);
    ck_assert_str_eq(c->reqs[0].method, "PUT");
    ck_assert_str_eq(c->reqs[0].url,
                     "https://search-x.us-east-1.es.amazonaws.com/idx/_doc/a%20b%2Fc");
    ck_assert_str_eq(hval(&c->reqs[0], "Host"), "search-x.us-east-1.es.amazonaws.com");
    ck_assert_str_eq(hval(&c->reqs[0], "Content-Type"), "application/json");
    ck_assert_str_eq(c->reqs[0].service, "es");
    ck_assert_uint_eq(c->reqs[0].body_len, 7);
    verify_sig(&c->reqs[0], "/idx/_doc/a%20b%2Fc", false);
    ic_aws_call_free(c);

    /* http: no endpoint needed; content type from the payload */
    ck_assert_int_eq(build("http", "{\"url\":\"http://h:8080/in?x=1\",\"headers\":"
                           "[{\"key\":\"X-K\",\"value\":\"v\"}]}",
                           doc, 7, NULL, &c, why, sizeof(why)), 0);
    ck_assert_str_eq(c->reqs[0].method, "POST");
    ck_assert_str_eq(c->reqs[0].url, "http://h:8080/in?x=1");
    ck_assert_str_eq(hval(&c->reqs[0], "X-K"), "v");
    ck_assert_str_eq(hval(&c->reqs[0], "Content-Type"), "application/json");
    ck_assert_ptr_null(hval(&c->reqs[0], "Authorization"));
    ic_aws_call_free(c);
    ck_assert_int_eq(build("http", "{\"url\":\"http://h/\",\"headers\":[{\"key\":"
                           "\"content-type\",\"value\":\"text/csv\"}]}",
                           "a,b", 3, NULL, &c, why, sizeof(why)), 0);
    ck_assert_str_eq(hval(&c->reqs[0], "content-type"), "text/csv");
    {
        size_t i, n = 0;
        for (i = 0; i < c->reqs[0].n_headers; i++)
            n += strcasecmp(c->reqs[0].headers[i].name, "content-type") == 0;
        ck_assert_uint_eq(n, 1); /* the given one replaces the default */
    }
    ic_aws_call_free(c);
    ck_assert_int_eq(build("http", "{\"url\":\"http://h/\"}", "\001\002", 2, NULL, &c,
                           why, sizeof(why)), 0);
    ck_assert_str_eq(hval(&c->reqs[0], "Content-Type"), "application/octet-stream");
    ic_aws_call_free(c);
    /* http with SigV4 auth (API Gateway style) */
    ck_assert_int_eq(build("http", "{\"url\":\"https://api.example.com/prod/x?b=2&a=1\","
                           "\"auth\":{\"sigv4\":{\"signingRegion\":\"eu-west-1\","
                           "\"serviceName\":\"execute-api\",\"roleArn\":\"r\"}}}",
                           doc, 7, &ep, &c, why, sizeof(why)), 0);
    ck_assert_str_eq(c->reqs[0].url, "https://api.example.com/prod/x?b=2&a=1");
    ck_assert(strstr(hval(&c->reqs[0], "Authorization"),
                     "/eu-west-1/execute-api/aws4_request") != NULL);
    ic_aws_call_free(c);
    ck_assert_int_eq(build("http", "{\"url\":\"https://a/\",\"auth\":{\"sigv4\":{"
                           "\"signingRegion\":\"r\",\"serviceName\":\"s\"}}}",
                           doc, 7, NULL, &c, why, sizeof(why)), IC_EINVAL);
    ck_assert_str_eq(why, "no AWS service endpoint configured");
    ck_assert_int_eq(build("http", "{\"url\":\"http://h/\",\"headers\":[{\"key\":\"X\","
                           "\"value\":\"a\\r\\nB: c\"}]}",
                           doc, 7, NULL, &c, why, sizeof(why)), IC_EINVAL);

    ck_assert_int_eq(build("salesforce", "{\"token\":\"tok\",\"url\":\"https://sf.example.com/in\"}",
                           doc, 7, NULL, &c, why, sizeof(why)), 0);
    ck_assert_str_eq(hval(&c->reqs[0], "Authorization"), "Bearer tok");
    ck_assert_str_eq(c->reqs[0].url, "https://sf.example.com/in");
    ic_aws_call_free(c);
}
END_TEST

/* Invalid rendered parameters: IC_EINVAL and the errorMessage. */
START_TEST(invalid_parameters) {
    static const struct {
        const char *kind, *params, *payload, *why;
    } t[] = {
        {"kafka", "{\"destinationArn\":\"d\",\"topic\":\"t\"}", "{}",
         "action kafka is not supported"},
        {"republish", "{\"topic\":\"t\"}", "{}", "action republish is not supported"},
        {"nosuch", "{}", "{}", "action nosuch is not supported"},
        {"sqs", "{}", "{}", "queueUrl is required"},
        {"sqs", "{\"queueUrl\":[1]}", "{}", "queueUrl must be a string"},
        {"sqs", "{\"queueUrl\":\"q\"}", "\377",
         "payload is not valid UTF-8 text (set useBase64 for binary)"},
        {"sqs", "{\"queueUrl\":\"q\",\"useBase64\":\"maybe\"}", "{}",
         "useBase64 must be true or false"},
        {"sns", "{\"targetArn\":\"t\",\"messageFormat\":\"XML\"}", "{}",
         "messageFormat must be RAW or JSON"},
        {"lambda", "{\"functionArn\":\"f\"}", "not json", "payload is not JSON "
         "(Lambda takes a JSON event)"},
        {"cloudwatchMetric", "{\"metricNamespace\":\"n\",\"metricName\":\"m\","
         "\"metricValue\":\"12abc\",\"metricUnit\":\"Count\"}", "{}",
         "metricValue 12abc is not a number"},
        {"cloudwatchMetric", "{\"metricNamespace\":\"n\",\"metricName\":\"m\","
         "\"metricValue\":\"\",\"metricUnit\":\"Count\"}", "{}",
         "metricValue  is not a number"},
        {"cloudwatchMetric", "{\"metricNamespace\":\"n\",\"metricName\":\"m\","
         "\"metricValue\":\"1\",\"metricUnit\":\"Count\",\"metricTimestamp\":\"soon\"}",
         "{}", "metricTimestamp soon is not epoch seconds"},
        {"cloudwatchAlarm", "{\"alarmName\":\"a\",\"stateReason\":\"r\",\"stateValue\":\"ON\"}",
         "{}", "stateValue ON is not OK, ALARM or INSUFFICIENT_DATA"},
        {"dynamoDB", "{\"tableName\":\"t\",\"hashKeyField\":\"id\",\"hashKeyValue\":\"x1\","
         "\"hashKeyType\":\"NUMBER\"}", "{}",
         "hashKeyValue x1 is not a number (hashKeyType NUMBER)"},
        {"dynamoDB", "{\"tableName\":\"t\",\"hashKeyField\":\"id\",\"hashKeyValue\":\"1\","
         "\"operation\":\"UPSERT\"}", "{}", "operation UPSERT is not INSERT, UPDATE or DELETE"},
        {"dynamoDB", "{\"tableName\":\"t\",\"hashKeyField\":\"id\",\"hashKeyValue\":\"1\","
         "\"rangeKeyField\":\"r\"}", "{}", "rangeKeyValue is required with rangeKeyField"},
        {"dynamoDBv2", "{\"putItem\":{\"tableName\":\"t\"}}", "[1,2]",
         "payload is not a JSON object (dynamoDBv2 writes its members as attributes)"},
        {"dynamoDBv2", "{\"putItem\":{\"tableName\":\"t\"}}", "{\"a\":1,}",
         "payload is not a JSON object (dynamoDBv2 writes its members as attributes)"},
        {"dynamoDBv2", "{\"tableName\":\"t\"}", "{}", "putItem is required"},
        {"firehose", "{\"deliveryStreamName\":\"d\",\"separator\":\";\"}", "{}",
         "separator must be \\n, \\t, \\r\\n or ,"},
        {"firehose", "{\"deliveryStreamName\":\"d\",\"batchMode\":true}", "[]",
         "batchMode payload must be an array of 1 to 500 records"},
        {"s3", "{\"bucketName\":\"b\",\"key\":\"k\",\"cannedAcl\":\"everyone\"}", "{}",
         "cannedAcl everyone is not a canned ACL"},
        {"s3", "{\"bucketName\":\"b\",\"key\":\"a//b\"}", "{}",
         "key has an empty, \".\" or \"..\" path segment"},
        {"cloudwatchLogs", "{\"logGroupName\":\"g\",\"batchMode\":true}", "{\"a\":1}",
         "batchMode payload must be an array of 1 to 10000 {\"timestamp\", \"message\"} objects"},
        {"cloudwatchLogs", "{\"logGroupName\":\"g\",\"batchMode\":true}",
         "[{\"timestamp\":1.5,\"message\":\"m\"}]",
         "batchMode element 0: timestamp is not epoch milliseconds"},
        {"timestream", "{\"databaseName\":\"d\",\"tableName\":\"t\",\"dimensions\":[]}",
         "{\"a\":1}", "dimensions must be an array of 1 to 128 {name, value}"},
        {"timestream", "{\"databaseName\":\"d\",\"tableName\":\"t\",\"dimensions\":"
         "[{\"name\":\"n\",\"value\":\"v\"}]}", "7",
         "payload is not a JSON object (timestream writes one record per member)"},
        {"timestream", "{\"databaseName\":\"d\",\"tableName\":\"t\",\"dimensions\":"
         "[{\"name\":\"n\",\"value\":\"v\"}],\"timestamp\":{\"value\":\"x\"}}", "{\"a\":1}",
         "timestamp value x is not a whole number"},
        {"iotEvents", "{\"inputName\":\"i\",\"messageId\":\"m\",\"batchMode\":true}", "[1]",
         "messageId is not allowed with batchMode"},
        {"iotEvents", "{\"inputName\":\"i\",\"batchMode\":true}",
         "[1,2,3,4,5,6,7,8,9,10,11]", "batchMode payload must be an array of 1 to 10 messages"},
        {"iotSiteWise", "{\"putAssetPropertyValueEntries\":[{\"propertyValues\":[]}]}", "{}",
         "entry 0 needs propertyAlias or assetId and propertyId"},
        {"iotSiteWise", "{\"putAssetPropertyValueEntries\":[{\"propertyAlias\":\"a\","
         "\"propertyValues\":[{\"value\":{\"integerValue\":\"1.5\"},\"timestamp\":"
         "{\"timeInSeconds\":\"1\"}}]}]}", "{}", "integerValue 1.5 is not a 32-bit integer"},
        {"iotSiteWise", "{\"putAssetPropertyValueEntries\":[{\"propertyAlias\":\"a\","
         "\"propertyValues\":[{\"value\":{\"doubleValue\":\"1\",\"stringValue\":\"s\"},"
         "\"timestamp\":{\"timeInSeconds\":\"1\"}}]}]}", "{}",
         "entry 0 value 0: give exactly one of stringValue, integerValue, doubleValue, "
         "booleanValue"},
        {"iotAnalytics", "{\"batchMode\":true}", "[1]", "channelName is required"},
        {"location", "{\"trackerName\":\"t\",\"deviceId\":\"d\",\"latitude\":\"91\","
         "\"longitude\":\"0\"}", "{}", "latitude 91 is not a number in -90..90"},
        {"location", "{\"trackerName\":\"t\",\"deviceId\":\"d\",\"latitude\":\"1\","
         "\"longitude\":\"0\",\"timestamp\":{\"value\":\"1\",\"unit\":\"DAYS\"}}", "{}",
         "timestamp unit DAYS is not SECONDS, MILLISECONDS, MICROSECONDS or NANOSECONDS"},
        {"openSearch", "{\"endpoint\":\"ftp://x\",\"index\":\"i\",\"type\":\"t\",\"id\":\"1\"}",
         "{}", "endpoint ftp://x is not an http(s) URL"},
        {"openSearch", "{\"endpoint\":\"https://x\",\"index\":\"i\",\"type\":\"t\",\"id\":\"1\"}",
         "[]", "payload is not a JSON object (a search document)"},
        {"stepFunctions", "{\"stateMachineName\":\"s\",\"executionNamePrefix\":"
         "\"0123456789012345678901234567890123456789012345\"}", "{}",
         "executionNamePrefix is longer than 44 characters"},
    };
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ic_aws_call_t *c = (ic_aws_call_t *)1;
        char why[256];
        int rc = build(t[i].kind, t[i].params, t[i].payload, strlen(t[i].payload), &ep,
                       &c, why, sizeof(why));
        ck_assert_msg(rc == IC_EINVAL, "%s %s: rc %d", t[i].kind, t[i].params, rc);
        ck_assert_ptr_null(c);
        ck_assert_str_eq(why, t[i].why);
    }
}
END_TEST

START_TEST(endpoint_required) {
    ic_aws_endpoint_t bad = ep;
    ic_aws_call_t *c;
    char why[256];
    ck_assert_int_eq(build("sqs", "{\"queueUrl\":\"q\"}", "{}", 2, NULL, &c, why,
                           sizeof(why)), IC_EINVAL);
    ck_assert_str_eq(why, "no AWS service endpoint configured");
    bad.url = "";
    ck_assert_int_eq(build("sqs", "{\"queueUrl\":\"q\"}", "{}", 2, &bad, &c, why,
                           sizeof(why)), IC_EINVAL);
    ck_assert_str_eq(why, "no AWS service endpoint configured");
    bad.url = "localhost:4566";
    ck_assert_int_eq(build("sqs", "{\"queueUrl\":\"q\"}", "{}", 2, &bad, &c, why,
                           sizeof(why)), IC_EINVAL);
    ck_assert_str_eq(why, "aws endpoint URL localhost:4566 is invalid");
    bad = ep;
    bad.account_id = "";
    ck_assert_int_eq(build("stepFunctions", "{\"stateMachineName\":\"s\"}", "{}", 2,
                           &bad, &c, why, sizeof(why)), IC_EINVAL);
    ck_assert_str_eq(why, "no account ID configured (the state machine ARN needs one)");
    /* the params must be an object */
    ck_assert_int_eq(build("sqs", "[1]", "{}", 2, &ep, &c, why, sizeof(why)), IC_EINVAL);
    ck_assert_str_eq(why, "action sqs has no parameter object");
}
END_TEST

/* ic_aws_call_check on the error bodies of each protocol. */
START_TEST(response_checks) {
    static const ic_http_header_t h_query[] = {
        {"x-amzn-query-error", 18, "AWS.SimpleQueueService.NonExistentQueue;Sender", 46}};
    static const ic_http_header_t h_type[] = {
        {"X-Amzn-ErrorType", 16, "ResourceNotFoundException:http://internal.amazon.com/", 53}};
    static const struct {
        int status;
        const ic_http_header_t *h;
        size_t nh;
        const char *body, *why;
        int rc;
    } t[] = {
        {200, NULL, 0, "{}", "", 0},
        {202, NULL, 0, "", "", 0},
        {400, NULL, 0,
         "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
         "\"message\":\"Requested resource not found\"}",
         "ResourceNotFoundException: Requested resource not found (HTTP 400)", IC_EIO},
        {400, h_query, 1,
         "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"The "
         "specified queue does not exist.\"}",
         "AWS.SimpleQueueService.NonExistentQueue: The specified queue does not "
         "exist. (HTTP 400)", IC_EIO},
        {404, h_type, 1, "{\"Type\":\"User\",\"Message\":\"Function not found: arn\"}",
         "ResourceNotFoundException: Function not found: arn (HTTP 404)", IC_EIO},
        {404, NULL, 0,
         "<?xml version=\"1.0\"?><ErrorResponse><Error><Type>Sender</Type><Code>NotFound"
         "</Code><Message>Topic does not exist &amp; never did</Message></Error>"
         "</ErrorResponse>",
         "NotFound: Topic does not exist & never did (HTTP 404)", IC_EIO},
        {404, NULL, 0,
         "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not "
         "exist</Message><BucketName>b</BucketName></Error>",
         "NoSuchBucket: The specified bucket does not exist (HTTP 404)", IC_EIO},
        {400, NULL, 0,
         "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}",
         "ThrottlingException: Rate exceeded (HTTP 400)", IC_EBUSY},
        {503, NULL, 0, "", "HTTP 503", IC_EBUSY},
        {429, NULL, 0, "slow down\r\nplease", "HTTP 429: slow down  please", IC_EBUSY},
        {400, NULL, 0,
         "{\"error\":{\"root_cause\":[],\"type\":\"mapper_parsing_exception\",\"reason\":"
         "\"failed to parse\"},\"status\":400}",
         "mapper_parsing_exception: failed to parse (HTTP 400)", IC_EIO},
        {403, NULL, 0, "{\"message\":\"The security token included in the request is "
         "invalid.\"}", "HTTP 403: The security token included in the request is invalid.",
         IC_EIO},
    };
    ic_aws_req_t plain;
    size_t i;
    memset(&plain, 0, sizeof(plain));
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char why[512];
        int rc = ic_aws_call_check(&plain, t[i].status, t[i].h, t[i].nh,
                                   (const uint8_t *)t[i].body, strlen(t[i].body), why,
                                   sizeof(why));
        ck_assert_msg(rc == t[i].rc, "case %zu: rc %d (%s)", i, rc, why);
        ck_assert_str_eq(why, t[i].why);
    }
}
END_TEST

START_TEST(partial_failures_and_existing_streams) {
    ic_aws_call_t *c;
    char why[512];
    const char *exists = "{\"__type\":\"ResourceAlreadyExistsException\",\"message\":"
                         "\"The specified log stream already exists\"}";
    const char *fh = "{\"FailedPutCount\":1,\"Encrypted\":false,\"RequestResponses\":"
                     "[{\"RecordId\":\"r1\"},{\"ErrorCode\":\"ServiceUnavailableException\","
                     "\"ErrorMessage\":\"Slow down.\"}]}";
    const char *fh_ok = "{\"FailedPutCount\":0,\"RequestResponses\":[{\"RecordId\":\"a\"}]}";
    const char *ev = "{\"BatchPutMessageErrorEntries\":[{\"messageId\":\"m\",\"errorCode\":"
                     "\"ResourceNotFoundException\",\"errorMessage\":\"no input\"}]}";
    const char *sw = "{\"errorEntries\":[{\"entryId\":\"e\",\"errors\":[{\"errorCode\":"
                     "\"InvalidRequestException\",\"errorMessage\":\"bad alias\",\"timestamps\":[]}]}]}";
    const char *loc = "{\"Errors\":[{\"DeviceId\":\"d\",\"Error\":{\"Code\":\"ValidationError\","
                      "\"Message\":\"bad\"},\"SampleTime\":\"x\"}]}";
    const char *logs = "{\"nextSequenceToken\":\"1\",\"rejectedLogEventsInfo\":"
                       "{\"tooOldLogEventEndIndex\":0}}";

    ck_assert_int_eq(build("cloudwatchLogs", "{\"logGroupName\":\"g\"}", "x", 1, &ep, &c,
                           why, sizeof(why)), 0);
    ck_assert_int_eq(ic_aws_call_check(&c->reqs[0], 400, NULL, 0, (const uint8_t *)exists,
                                       strlen(exists), why, sizeof(why)), 0);
    ck_assert_int_eq(ic_aws_call_check(&c->reqs[1], 400, NULL, 0, (const uint8_t *)exists,
                                       strlen(exists), why, sizeof(why)), IC_EIO);
    ck_assert_int_eq(ic_aws_call_check(&c->reqs[1], 200, NULL, 0, (const uint8_t *)logs,
                                       strlen(logs), why, sizeof(why)), IC_EIO);
    ck_assert_str_eq(why, "RejectedLogEvents: {\"tooOldLogEventEndIndex\":0} (HTTP 200)");
    ck_assert_int_eq(ic_aws_call_check(&c->reqs[1], 200, NULL, 0,
                                       (const uint8_t *)"{\"nextSequenceToken\":\"1\"}", 25,
                                       why, sizeof(why)), 0);
    ic_aws_call_free(c);

    ck_assert_int_eq(build("firehose", "{\"deliveryStreamName\":\"d\",\"batchMode\":true}",
                           "[1,2]", 5, &ep, &c, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_aws_call_check(&c->reqs[0], 200, NULL, 0, (const uint8_t *)fh,
                                       strlen(fh), why, sizeof(why)), IC_EIO);
    ck_assert_str_eq(why, "1 of 2 records failed: ServiceUnavailableException: Slow down. "
                          "(HTTP 200)");
    ck_assert_int_eq(ic_aws_call_check(&c->reqs[0], 200, NULL, 0, (const uint8_t *)fh_ok,
                                       strlen(fh_ok), why, sizeof(why)), 0);
    ic_aws_call_free(c);

    ck_assert_int_eq(build("iotEvents", "{\"inputName\":\"i\"}", "{}", 2, &ep, &c, why,
                           sizeof(why)), 0);
    ck_assert_int_eq(ic_aws_call_check(&c->reqs[0], 200, NULL, 0, (const uint8_t *)ev,
                                       strlen(ev), why, sizeof(why)), IC_EIO);
    ck_assert_str_eq(why, "ResourceNotFoundException: no input (HTTP 200)");
    ck_assert_int_eq(ic_aws_call_check(&c->reqs[0], 200, NULL, 0,
                                       (const uint8_t *)"{\"BatchPutMessageErrorEntries\":[]}",
                                       34, why, sizeof(why)), 0);
    ic_aws_call_free(c);

    ck_assert_int_eq(build("iotSiteWise", "{\"putAssetPropertyValueEntries\":[{"
                           "\"propertyAlias\":\"a\",\"propertyValues\":[{\"value\":{"
                           "\"stringValue\":\"s\"},\"timestamp\":{\"timeInSeconds\":\"1\"}}]}]}",
                           "{}", 2, &ep, &c, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_aws_call_check(&c->reqs[0], 200, NULL, 0, (const uint8_t *)sw,
                                       strlen(sw), why, sizeof(why)), IC_EIO);
    ck_assert_str_eq(why, "InvalidRequestException: bad alias (HTTP 200)");
    ic_aws_call_free(c);

    ck_assert_int_eq(build("location", "{\"trackerName\":\"t\",\"deviceId\":\"d\","
                           "\"latitude\":\"1\",\"longitude\":\"2\"}",
                           "{}", 2, &ep, &c, why, sizeof(why)), 0);
    ck_assert_int_eq(ic_aws_call_check(&c->reqs[0], 200, NULL, 0, (const uint8_t *)loc,
                                       strlen(loc), why, sizeof(why)), IC_EIO);
    ck_assert_str_eq(why, "ValidationError: bad (HTTP 200)");
    ic_aws_call_free(c);
}
END_TEST

START_TEST(action_names_and_resources) {
    static const struct {
        const char *kind, *cls, *params, *resource;
    } t[] = {
        {"republish", "RepublishAction", "{\"topic\":\"a/b\"}", "a/b"},
        {"http", "HttpAction", "{\"url\":\"https://x/y\"}", "https://x/y"},
        {"lambda", "LambdaAction", "{\"functionArn\":\"arn:f\"}", "arn:f"},
        {"sqs", "SqsAction", "{\"queueUrl\":\"https://q\"}", "https://q"},
        {"sns", "SnsAction", "{\"targetArn\":\"arn:t\"}", "arn:t"},
        {"dynamoDB", "DynamoDBAction", "{\"tableName\":\"t1\"}", "t1"},
        {"dynamoDBv2", "DynamoDBv2Action", "{\"putItem\":{\"tableName\":\"t2\"}}", "t2"},
        {"kinesis", "KinesisAction", "{\"streamName\":\"s\"}", "s"},
        {"firehose", "FirehoseAction", "{\"deliveryStreamName\":\"d\"}", "d"},
        {"s3", "S3Action", "{\"bucketName\":\"b\",\"key\":\"k\"}", "b"},
        {"cloudwatchMetric", "CloudwatchMetricAction", "{\"metricName\":\"m\"}", "m"},
        {"cloudwatchAlarm", "CloudwatchAlarmAction", "{\"alarmName\":\"a\"}", "a"},
        {"cloudwatchLogs", "CloudwatchLogsAction", "{\"logGroupName\":\"g\"}", "g"},
        {"elasticsearch", "ElasticsearchAction", "{\"endpoint\":\"https://e\"}", "https://e"},
        {"openSearch", "OpenSearchAction", "{\"endpoint\":\"https://o\"}", "https://o"},
        {"salesforce", "SalesforceAction", "{\"url\":\"https://sf\"}", "https://sf"},
        {"iotAnalytics", "IotAnalyticsAction", "{\"channelName\":\"c\"}", "c"},
        {"iotEvents", "IotEventsAction", "{\"inputName\":\"i\"}", "i"},
        {"iotSiteWise", "IotSiteWiseAction",
         "{\"putAssetPropertyValueEntries\":[{\"propertyAlias\":\"/a\"}]}", "/a"},
        {"stepFunctions", "StepFunctionsAction", "{\"stateMachineName\":\"sm\"}", "sm"},
        {"timestream", "TimestreamAction", "{\"databaseName\":\"d\",\"tableName\":\"t\"}", "d.t"},
        {"kafka", "KafkaAction", "{\"topic\":\"kt\"}", "kt"},
        {"location", "LocationAction", "{\"trackerName\":\"tr\"}", "tr"},
        {"sqs", "SqsAction", "{}", ""},
    };
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        cJSON *p = cJSON_Parse(t[i].params);
        char *r = ic_aws_call_resource(t[i].kind, p);
        ck_assert_str_eq(ic_aws_call_action_name(t[i].kind), t[i].cls);
        ck_assert_str_eq(r, t[i].resource);
        free(r);
        cJSON_Delete(p);
    }
    ck_assert_ptr_null(ic_aws_call_action_name("nosuch"));
    ck_assert_ptr_null(ic_aws_call_action_name(NULL));
    {
        char *r = ic_aws_call_resource("nosuch", NULL);
        ck_assert_str_eq(r, "");
        free(r);
    }
    ic_aws_call_free(NULL);
}
END_TEST

/* Payload JSON edge cases through dynamoDBv2: strict parsing, exact
 * numbers, escapes, depth. */
START_TEST(payload_json_reader) {
    static const struct {
        const char *payload;
        const char *item; /* expected "Item" JSON, NULL: refused */
    } t[] = {
        {"{\"a\":-0.5e-3}", "{\"a\": {\"N\": \"-0.5e-3\"}}"},
        {" {\"a\" : [ ] , \"b\":{}}\n", "{\"a\": {\"L\": []}, \"b\": {\"M\": {}}}"},
        {"{\"k\\u0022\":\"\\/\\b\\f\\t\"}", "{\"k\\\"\": {\"S\": \"/\\b\\f\\t\"}}"},
        {"{\"a\":\"\\ud83d\"}", NULL},        /* lone surrogate */
        {"{\"a\":01}", NULL},
        {"{\"a\":1.}", NULL},
        {"{\"a\":tru}", NULL},
        {"{\"a\":\"\x01\"}", NULL},           /* raw control character */
        {"{\"a\":\"\xc3\"}", NULL},           /* truncated UTF-8 */
        {"{\"a\":1} x", NULL},
        {"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1"
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", NULL},
    };
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ic_aws_call_t *c = NULL;
        char why[256];
        int rc = build("dynamoDBv2", "{\"putItem\":{\"tableName\":\"t\"}}", t[i].payload,
                       strlen(t[i].payload), &ep, &c, why, sizeof(why));
        if (t[i].item == NULL) {
            ck_assert_msg(rc == IC_EINVAL, "case %zu accepted", i);
            continue;
        }
        ck_assert_msg(rc == 0, "case %zu: %s", i, why);
        {
            const char *b = (const char *)c->reqs[0].body;
            const char *it = strstr(b, "\"Item\": ");
            ck_assert_ptr_nonnull(it);
            ck_assert_int_eq((int)(c->reqs[0].body_len - (size_t)(it + 8 - b) - 1),
                             (int)strlen(t[i].item));
            ck_assert(strncmp(it + 8, t[i].item, strlen(t[i].item)) == 0);
        }
        ic_aws_call_free(c);
    }
}
END_TEST

Suite *ic_aws_call_suite(void) {
    Suite *s = suite_create("aws_call");
    TCase *tc = tcase_create("aws_call");
    tcase_add_loop_test(tc, botocore_table, 0, (int)(sizeof(vecs) / sizeof(vecs[0])));
    tcase_add_test(tc, signing_names_and_flags);
    tcase_add_test(tc, logs_stream_may_exist_and_uuids_differ);
    tcase_add_test(tc, session_token_and_path_prefix);
    tcase_add_test(tc, search_http_salesforce);
    tcase_add_test(tc, invalid_parameters);
    tcase_add_test(tc, endpoint_required);
    tcase_add_test(tc, response_checks);
    tcase_add_test(tc, partial_failures_and_existing_streams);
    tcase_add_test(tc, action_names_and_resources);
    tcase_add_test(tc, payload_json_reader);
    suite_add_tcase(s, tc);
    return s;
}
