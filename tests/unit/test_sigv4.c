/* test_sigv4.c - SigV4 parse, verify and sign against three references:
 * the AWS SigV4 test suite (all 34 cases of botocore's copy of it: verify
 * the signed request, and sign the unsigned one to the same header),
 * requests captured from botocore 1.43 (a real `iot` client and bare
 * SigV4Auth / SigV4QueryAuth / S3SigV4QueryAuth) and from aws-sdk-js-v3
 * (@smithy/signature-v4 5.7), all at 20261123T080950Z; plus every failure:
 * missing, incomplete (with AWS's texts), too-long fields, mismatches of
 * every signed part, clock skew and presigned expiry, and every truncation
 * of a valid header and query. The vectors were generated once, at
 * development time; the tests need neither Python nor Node. */
#include "suites.h"

#include "iotcored/error.h"
#include "iotcored/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAXH 10
#define WHY 512

#define F_PRESIGNED 1 /* auth in the query: ic_sigv4_sign cannot make it */
#define F_RAW_QUERY 2 /* botocore signed the query as sent, not re-encoded */

typedef struct hv_s {
    const char *name, *value;
} hv_t;

typedef struct vec_s {
    const char *name, *method, *path, *query, *body;
    size_t body_len;
    hv_t h[MAXH];      /* as sent; {NULL, NULL} ends the list */
    const char *authz; /* expected Authorization, when not among h */
    int flags;
} vec_t;

/* The AWS SigV4 test suite (aws-c-auth's aws-sig-v4-test-suite, as kept in
 * botocore tests/unit/auth/aws4_testsuite): the .req of each case and its
 * .authz. get-vanilla-with-session-token takes its token from the .creq;
 * get-header-value-multiline keeps its obs-fold line breaks. */
#define AWS_AKID "AKIDEXAMPLE"
#define AWS_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define AWS_NOW 1440938160 /* 20150830T123600Z */

static const vec_t aws_suite[] = {
    {"get-header-key-duplicate", "GET", "/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"My-Header1", "value2"},
         {"My-Header1", "value2"},
         {"My-Header1", "value1"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea", 0},
    {"get-header-value-multiline", "GET", "/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"My-Header1", "value1\015\012  value2\015\012     value3"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd", 0},
    {"get-header-value-order", "GET", "/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"My-Header1", "value4"},
         {"My-Header1", "value1"},
         {"My-Header1", "value3"},
         {"My-Header1", "value2"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01", 0},
    {"get-header-value-trim", "GET", "/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"My-Header1", "value1"},
         {"My-Header2", "\"a   b   c\""},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736", 0},
    {"get-unreserved", "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f", 0},
    {"get-utf8", "GET", "/\341\210\264", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85", 0},
    {"get-vanilla-empty-query-key", "GET", "/", "Param1=value1", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb", 0},
    {"get-vanilla-query-order-encoded", "GET", "/", "Param-3=Value3&Param=Value2&%E1%88%B4=Value1", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac", 0},
    {"get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500", 0},
    {"get-vanilla-query-order-key", "GET", "/", "Param1=value2&Param1=Value1", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1", 0},
    {"get-vanilla-query-order-value", "GET", "/", "Param1=value2&Param1=value1", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694", 0},
    {"get-vanilla-query-unreserved", "GET", "/", "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197", 0},
    {"get-vanilla-query", "GET", "/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", 0},
    {"get-vanilla-utf8-query", "GET", "/", "\341\210\264=bar", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04", 0},
    {"get-vanilla-with-session-token", "GET", "/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
         {"X-Amz-Security-Token", "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8", 0},
    {"get-vanilla", "GET", "/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", 0},
    {"get-relative-relative", "GET", "/example1/example2/../..", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", 0},
    {"get-relative", "GET", "/example/..", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", 0},
    {"get-slash-dot-slash", "GET", "/./", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", 0},
    {"get-slash-pointless-dot", "GET", "/./example", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5", 0},
    {"get-slash", "GET", "//", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", 0},
    {"get-slashes", "GET", "//example//", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84", 0},
    {"get-space", "GET", "/example space/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741", 0},
    {"get-special-character", "GET", "/example/$delete", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=a853c9b21b528b19643d00910d35b83a10c366a10833ceefb45edd6c80e40f27", 0},
    {"post-header-key-case", "POST", "/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b", 0},
    {"post-header-key-sort", "POST", "/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"My-Header1", "value1"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c", 0},
    {"post-header-value-case", "POST", "/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"My-Header1", "VALUE1"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d", 0},
    {"post-sts-header-after", "POST", "/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b", 0},
    {"post-sts-header-before", "POST", "/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
         {"X-Amz-Security-Token", "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead", 0},
    {"post-vanilla-empty-query-value", "POST", "/", "Param1=value1", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11", 0},
    {"post-vanilla-query", "POST", "/", "Param1=value1", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11", 0},
    {"post-vanilla", "POST", "/", "", "", 0, {
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b", 0},
    {"post-x-www-form-urlencoded-parameters", "POST", "/", "", "Param1=value1", 13, {
         {"Content-Type", "application/x-www-form-urlencoded; charset=utf8"},
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe", 0},
    {"post-x-www-form-urlencoded", "POST", "/", "", "Param1=value1", 13, {
         {"Content-Type", "application/x-www-form-urlencoded"},
         {"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
     }, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a", 0},
};

/* botocore 1.43.11 and @smithy/signature-v4 5.7.5, frozen at NOW: boto_*
 * went through a real `iot` client (captured at before-send; User-Agent
 * shortened, it is not signed), the rest through SigV4Auth / SigV4QueryAuth
 * / S3SigV4QueryAuth on an AWSRequest, js_* through SignatureV4.sign and
 * .presign. presign_token_after follows AWS IoT's WebSocket recipe (token
 * appended after signing); presign_unsigned is S3-style (UNSIGNED-PAYLOAD);
 * raw_query_unencoded is botocore signing "b=x/y&a=1:2&a=0" as sent. */
#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define DATE "20261123T080950Z"
#define NOW 1795421390 /* 2026-11-23T08:09:50Z */

static const vec_t sdk[] = {
    {"boto_create_thing", "POST", "/things/foo", "", "{\"attributePayload\": {\"attributes\": {\"color\": \"red\"}}}", 54, {
         {"Host", "127.0.0.1:8080"},
         {"Content-Type", "application/json"},
         {"User-Agent", "Botocore/1.43.11 ua/2.1 lang/python#3.11.7"},
         {"X-Amz-Date", "20261123T080950Z"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=50eb1480c2f39cb714781818677cb46a7032699576462fd74b2edf326344cdb6"},
         {"amz-sdk-invocation-id", "0b536b8f-631d-4265-8c19-12f6dd0cd286"},
         {"amz-sdk-request", "attempt=1"},
         {"Content-Length", "54"},
     }, NULL, 0},
    {"boto_list_things", "GET", "/things", "maxResults=2&nextToken=a%2Fb", "", 0, {
         {"Host", "127.0.0.1:8080"},
         {"User-Agent", "Botocore/1.43.11 ua/2.1 lang/python#3.11.7"},
         {"X-Amz-Date", "20261123T080950Z"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=87bf16deeeb95536c9b1711fbcd0f10958ac51829c19edc6bba1c3f4d2f93b79"},
         {"amz-sdk-invocation-id", "c4128f64-8d3e-4814-ae8f-51fca6e180e4"},
         {"amz-sdk-request", "attempt=1"},
     }, NULL, 0},
    {"boto_list_attached_policies", "POST", "/attached-policies/arn%3Aaws%3Aiot%3Aus-east-1%3A123456789012%3Acert%2Fabc", "recursive=false", "", 0, {
         {"Host", "127.0.0.1:8080"},
         {"User-Agent", "Botocore/1.43.11 ua/2.1 lang/python#3.11.7"},
         {"X-Amz-Date", "20261123T080950Z"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=e021068746ebba22daec10976bc1ff744440aa80c20039a66a0e86ab2b490360"},
         {"amz-sdk-invocation-id", "8241b511-449c-4e3c-921a-85edfab5271d"},
         {"amz-sdk-request", "attempt=1"},
         {"Content-Length", "0"},
     }, NULL, 0},
    {"boto_delete_thing", "DELETE", "/things/t1", "expectedVersion=3", "", 0, {
         {"Host", "127.0.0.1:8080"},
         {"User-Agent", "Botocore/1.43.11 ua/2.1 lang/python#3.11.7"},
         {"X-Amz-Date", "20261123T080950Z"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=b0928c5133de8ec2cf27088105d20530b1faf3a3411dcdb9bc5cab5efb2add64"},
         {"amz-sdk-invocation-id", "8497e70b-e991-499d-9bd1-08cabc128c7a"},
         {"amz-sdk-request", "attempt=1"},
         {"Content-Length", "0"},
     }, NULL, 0},
    {"boto_describe_thing_space", "GET", "/things/a%20b~c", "", "", 0, {
         {"Host", "127.0.0.1:8080"},
         {"User-Agent", "Botocore/1.43.11 ua/2.1 lang/python#3.11.7"},
         {"X-Amz-Date", "20261123T080950Z"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=75096519eb5d76ceedee92f1f3635beb1e5c736230a7a83602595c0dfe7e7c80"},
         {"amz-sdk-invocation-id", "acdd394e-9e29-4de8-9b99-9275100ec1c1"},
         {"amz-sdk-request", "attempt=1"},
     }, NULL, 0},
    {"put_thing_json", "PUT", "/things/foo", "", "{\"a\":1}", 7, {
         {"Host", "127.0.0.1:8080"},
         {"Content-Type", "application/json"},
         {"X-Amz-Date", "20261123T080950Z"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=94ba474bbb9fa6e4935ea01a520eca840872de0f9d12a9de91b4cb69b9d608e2"},
     }, NULL, 0},
    {"get_things_query", "GET", "/things", "maxResults=2&nextToken=a%2Fb", "", 0, {
         {"Host", "127.0.0.1:8080"},
         {"X-Amz-Date", "20261123T080950Z"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=87bf16deeeb95536c9b1711fbcd0f10958ac51829c19edc6bba1c3f4d2f93b79"},
     }, NULL, 0},
    {"post_path_colon", "POST", "/attached-policies/arn%3Aaws%3Aiot%3Aus-east-1%3A123456789012%3Acert%2Fabc", "recursive=false", "", 0, {
         {"Host", "127.0.0.1:8080"},
         {"X-Amz-Date", "20261123T080950Z"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=e021068746ebba22daec10976bc1ff744440aa80c20039a66a0e86ab2b490360"},
     }, NULL, 0},
    {"delete_query", "DELETE", "/things/t1", "expectedVersion=3", "", 0, {
         {"Host", "127.0.0.1:8080"},
         {"X-Amz-Date", "20261123T080950Z"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=b0928c5133de8ec2cf27088105d20530b1faf3a3411dcdb9bc5cab5efb2add64"},
     }, NULL, 0},
    {"raw_query_unencoded", "GET", "/things", "b=x/y&a=1:2&a=0", "", 0, {
         {"Host", "127.0.0.1:8080"},
         {"X-Amz-Date", "20261123T080950Z"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=f7a8ebcd2e4be7f3e6e4b69160cbbc79fdd61cb73245854362b78fdc65e1866b"},
     }, NULL, F_RAW_QUERY},
    {"header_spaces", "GET", "/things", "", "", 0, {
         {"Host", "127.0.0.1:8080"},
         {"X-Custom", "  a   b \011 c  "},
         {"X-Amz-Date", "20261123T080950Z"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date;x-custom, Signature=f11e26d9793b7e0979563c1205ca4fb9e14cc5276c86db1a96d8eda9622a9e01"},
     }, NULL, 0},
    {"date_header", "GET", "/things", "", "", 0, {
         {"Host", "127.0.0.1:8080"},
         {"Date", "Mon, 23 Nov 2026 08:09:50 -0000"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=date;host, Signature=e9d6d59a12172e9129951ff18f78c7362220167d495e161b1c274c2ff88d6fcc"},
     }, NULL, 0},
    {"unsigned_payload", "POST", "/things/u", "", "{\"x\":2}", 7, {
         {"Host", "127.0.0.1:8443"},
         {"Content-Type", "application/json"},
         {"X-Amz-Date", "20261123T080950Z"},
         {"X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=3fbfada63464a8200d2f4979717304c8bfa27ddca9676b2fc923a9e34d2d090e"},
     }, NULL, 0},
    {"session_token", "GET", "/things", "", "", 0, {
         {"Host", "127.0.0.1:8080"},
         {"X-Amz-Date", "20261123T080950Z"},
         {"X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLE//token+/="},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=7a402923ec7b94bc72699c4153b6c3192b51c6d8e288679b55cc83a27ed2f64b"},
     }, NULL, 0},
    {"execute_api", "GET", "/things", "", "", 0, {
         {"Host", "127.0.0.1:8080"},
         {"X-Amz-Date", "20261123T080950Z"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=f1d9b40e6a66fa66a76efc5cfd4eee4f1bb56b1e96847477b627b1b3d4692b51"},
     }, NULL, 0},
    {"presign_mqtt", "GET", "/mqtt", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261123%2Fus-east-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20261123T080950Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=63ad260424b763736662f23db90b6c607c18df666bd74b5535b829b47287a386", "", 0, {
         {"Host", "127.0.0.1:8443"},
     }, NULL, F_PRESIGNED},
    {"presign_token", "GET", "/mqtt", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261123%2Fus-east-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20261123T080950Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Security-Token=Tok%2Fen%2B%3D&X-Amz-Signature=0856baad3c8f722d95b34aba67555e21e131b5f22cdace55f4b0180be9437897", "", 0, {
         {"Host", "127.0.0.1:8443"},
     }, NULL, F_PRESIGNED},
    {"presign_things", "GET", "/things", "maxResults=5&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261123%2Fus-east-1%2Fiot%2Faws4_request&X-Amz-Date=20261123T080950Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=4610aefced2de1b69b73023570381de2c6e00e1aa91a5a643894ed7eb1b970da", "", 0, {
         {"Host", "127.0.0.1:8080"},
     }, NULL, F_PRESIGNED},
    {"presign_token_after", "GET", "/mqtt", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261123%2Fus-east-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20261123T080950Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=308bd7fe2944b3e2b2b4dc5dd884d5d64209b7760038fdf7028882a7412f988c&X-Amz-Security-Token=Tok%2Fen%2B%3D", "", 0, {
         {"Host", "127.0.0.1:8443"},
     }, NULL, F_PRESIGNED},
    {"presign_unsigned", "GET", "/mqtt", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261123%2Fus-east-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20261123T080950Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=04c32af58dec2eba20af1bae8d8da252bebbd9910cc2fc6004d38e095bcaaef0", "", 0, {
         {"Host", "127.0.0.1:8443"},
     }, NULL, F_PRESIGNED},
    {"js_put_thing", "PUT", "/things/foo", "", "{\"a\":1}", 7, {
         {"host", "127.0.0.1:8080"},
         {"content-type", "application/json"},
         {"x-amz-date", "20261123T080950Z"},
         {"x-amz-content-sha256", "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"},
         {"authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=8e1a7236c0befb8d5e335252b9afa259034e93ce40f9df951baa1fec894d0e09"},
     }, NULL, 0},
    {"js_list_things", "GET", "/things", "maxResults=2&nextToken=a%2Fb", "", 0, {
         {"host", "127.0.0.1:8080"},
         {"x-amz-date", "20261123T080950Z"},
         {"x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
         {"authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=a3be4ee33a772ff6e490ff0a0656b2ecd34a06ad5bc121db0a640291153399ff"},
     }, NULL, 0},
    {"js_attached", "POST", "/attached-policies/arn%3Aaws%3Aiot%3Aus-east-1%3A123456789012%3Acert%2Fabc", "recursive=false", "", 0, {
         {"host", "127.0.0.1:8080"},
         {"x-amz-date", "20261123T080950Z"},
         {"x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
         {"authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=43c9f4f2a81f79cf6cb0658dfc96e9c131a92a992e5c8540db6d9ce62344f6d5"},
     }, NULL, 0},
    {"js_delete", "DELETE", "/things/t1", "expectedVersion=3", "", 0, {
         {"host", "127.0.0.1:8080"},
         {"x-amz-date", "20261123T080950Z"},
         {"x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
         {"authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=c96b4ae70a9fb565351b6c6cfe7ca3f4824319b4b7f2c011b54b03709ad7aa1c"},
     }, NULL, 0},
    {"js_query_special", "GET", "/things", "a%20b=c%2Bd%2Ae&%C3%A9=~%21%27%28%29", "", 0, {
         {"host", "127.0.0.1:8080"},
         {"x-amz-date", "20261123T080950Z"},
         {"x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
         {"authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=e2a2bfc5f9ab53eb89115934ce5f3afc3ffb405d111f62e0945e83fc444eeeb0"},
     }, NULL, 0},
    {"js_presign_mqtt", "GET", "/mqtt", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261123%2Fus-east-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20261123T080950Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=63ad260424b763736662f23db90b6c607c18df666bd74b5535b829b47287a386", "", 0, {
         {"host", "127.0.0.1:8443"},
     }, NULL, F_PRESIGNED},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- request building ------------------------------------------------------ */

typedef struct req_s {
    ic_http_request_t r;
    ic_http_header_t h[MAXH + 2];
} req_t;

static void add(req_t *q, const char *name, const char *value) {
    ic_http_header_t *h = &q->h[q->r.n_headers++];
    ck_assert_uint_le(q->r.n_headers, N(q->h));
    h->name = name;
    h->name_len = strlen(name);
    h->value = value;
    h->value_len = strlen(value);
}

/* Drop every header called name; returns how many were dropped. */
static size_t drop(req_t *q, const char *name) {
    size_t i, j = 0, n = q->r.n_headers;
    for (i = 0; i < n; i++)
        if (strcasecmp(q->h[i].name, name) != 0)
            q->h[j++] = q->h[i];
    q->r.n_headers = j;
    return n - j;
}

static ic_http_header_t *get(req_t *q, const char *name) {
    size_t i;
    for (i = 0; i < q->r.n_headers; i++)
        if (strcasecmp(q->h[i].name, name) == 0)
            return &q->h[i];
    return NULL;
}

static void set(req_t *q, const char *name, const char *value) {
    ic_http_header_t *h = get(q, name);
    ck_assert_ptr_nonnull(h);
    h->value = value;
    h->value_len = strlen(value);
}

static void from(req_t *q, const vec_t *v) {
    size_t i;
    memset(q, 0, sizeof(*q));
    q->r.method = v->method;
    q->r.path = v->path;
    q->r.query = v->query;
    q->r.body = v->body_len ? (const uint8_t *)v->body : NULL;
    q->r.body_len = v->body_len;
    q->r.headers = q->h;
    for (i = 0; i < MAXH && v->h[i].name != NULL; i++)
        add(q, v->h[i].name, v->h[i].value);
    if (v->authz != NULL)
        add(q, "Authorization", v->authz);
}

static const vec_t *find(const vec_t *t, size_t n, const char *name) {
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    ck_abort_msg("no vector %s", name);
    return NULL;
}

static const vec_t *V(const char *name) { return find(sdk, N(sdk), name); }

static ic_sigv4_status_t check(const req_t *q, const char *secret, long now,
                               char *why) {
    ic_sigv4_auth_t a;
    ic_sigv4_status_t st = ic_sigv4_parse(&q->r, &a, why, WHY);
    if (st != IC_SIGV4_OK)
        return st;
    return ic_sigv4_verify(&q->r, &a, secret, now, why, WHY);
}

#define OK(q, secret, now)                                                   \
    do {                                                                     \
        char why_[WHY] = "";                                                 \
        ck_assert_msg(check((q), (secret), (now), why_) == IC_SIGV4_OK,      \
                      "line %d: %s", __LINE__, why_);                        \
    } while (0)

#define FAILS(q, secret, now, st, msg)                                       \
    do {                                                                     \
        char why_[WHY] = "";                                                 \
        ck_assert_int_eq(check((q), (secret), (now), why_), (st));           \
        if ((msg) != NULL)                                                   \
            ck_assert_str_eq(why_, (const char *)(msg));                     \
    } while (0)

static const char MISMATCH[] =
    "The request signature we calculated does not match the signature you "
    "provided. Check your AWS Secret Access Key and signing method. Consult "
    "the service documentation for details.";

/* Sign the headers v->authz (or its Authorization header) says were signed
 * and compare with it. */
static void sign_like(const vec_t *v, const char *akid, const char *secret) {
    req_t q, s;
    ic_sigv4_auth_t a;
    char why[WHY], out[1024];
    const ic_http_header_t *au;
    size_t i;
    from(&q, v);
    ck_assert_int_eq(ic_sigv4_parse(&q.r, &a, why, sizeof(why)), IC_SIGV4_OK);
    memset(&s, 0, sizeof(s));
    for (i = 0; i < q.r.n_headers; i++) {
        char name[64];
        size_t k;
        const char *p;
        for (k = 0; k < q.h[i].name_len && k < sizeof(name) - 1; k++)
            name[k] = (char)tolower((unsigned char)q.h[i].name[k]);
        name[k] = '\0';
        for (p = a.signed_headers; (p = strstr(p, name)) != NULL; p++)
            if ((p == a.signed_headers || p[-1] == ';') &&
                (p[k] == ';' || p[k] == '\0'))
                break;
        if (p != NULL)
            s.h[s.r.n_headers++] = q.h[i];
    }
    ck_assert_int_eq(ic_sigv4_sign(v->method, v->path, v->query, s.h,
                                   s.r.n_headers, (const uint8_t *)v->body,
                                   v->body_len, akid, secret, a.region,
                                   a.service, out, sizeof(out)),
                     0);
    au = NULL;
    for (i = 0; i < q.r.n_headers; i++)
        if (strcasecmp(q.h[i].name, "authorization") == 0)
            au = &q.h[i];
    ck_assert_ptr_nonnull(au);
    ck_assert_msg(strcmp(out, au->value) == 0, "%s:\n got %s\nwant %s", v->name,
                  out, au->value);
}

/* ---- the references ------------------------------------------------------- */

START_TEST(aws_test_suite) {
    size_t i;
    for (i = 0; i < N(aws_suite); i++) {
        const vec_t *v = &aws_suite[i];
        req_t q;
        char why[WHY] = "";
        from(&q, v);
        ck_assert_msg(check(&q, AWS_SECRET, AWS_NOW, why) == IC_SIGV4_OK,
                      "%s: %s", v->name, why);
        sign_like(v, AWS_AKID, AWS_SECRET);
    }
}
END_TEST

START_TEST(aws_test_suite_tampered) {
    /* every case fails with a wrong secret and with its signature altered */
    size_t i;
    for (i = 0; i < N(aws_suite); i++) {
        const vec_t *v = &aws_suite[i];
        char authz[512];
        req_t q;
        from(&q, v);
        FAILS(&q, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz", AWS_NOW,
              IC_SIGV4_MISMATCH, MISMATCH);
        snprintf(authz, sizeof(authz), "%s", v->authz);
        authz[strlen(authz) - 1] = authz[strlen(authz) - 1] == '0' ? '1' : '0';
        set(&q, "Authorization", authz);
        FAILS(&q, AWS_SECRET, AWS_NOW, IC_SIGV4_MISMATCH, MISMATCH);
    }
}
END_TEST

START_TEST(sdk_golden) {
    size_t i;
    for (i = 0; i < N(sdk); i++) {
        const vec_t *v = &sdk[i];
        req_t q;
        char why[WHY] = "";
        from(&q, v);
        ck_assert_msg(check(&q, SECRET, NOW, why) == IC_SIGV4_OK, "%s: %s",
                      v->name, why);
        if (!(v->flags & (F_PRESIGNED | F_RAW_QUERY)))
            sign_like(v, AKID, SECRET);
    }
}
END_TEST

START_TEST(sdk_golden_wrong_secret) {
    size_t i;
    for (i = 0; i < N(sdk); i++) {
        req_t q;
        from(&q, &sdk[i]);
        FAILS(&q, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEz", NOW,
              IC_SIGV4_MISMATCH, MISMATCH);
    }
}
END_TEST

/* ---- what a request claims ------------------------------------------------ */

START_TEST(parse_fields) {
    req_t q;
    ic_sigv4_auth_t a;
    char why[WHY];
    from(&q, V("session_token"));
    ck_assert_int_eq(ic_sigv4_parse(&q.r, &a, why, sizeof(why)), IC_SIGV4_OK);
    ck_assert_str_eq(a.access_key, AKID);
    ck_assert_str_eq(a.date, "20261123");
    ck_assert_str_eq(a.region, "us-east-1");
    ck_assert_str_eq(a.service, "iot");
    ck_assert_str_eq(a.signed_headers, "host;x-amz-date;x-amz-security-token");
    ck_assert_str_eq(a.signature,
                     "7a402923ec7b94bc72699c4153b6c3192b51c6d8e288679b55cc83a27ed2f64b");
    ck_assert_str_eq(a.amz_date, DATE);
    ck_assert_str_eq(a.security_token, "FQoGZXIvYXdzEXAMPLE//token+/=");
    ck_assert_int_eq(a.expires_s, 0);
    ck_assert(!a.is_presigned);

    from(&q, V("presign_token"));
    ck_assert_int_eq(ic_sigv4_parse(&q.r, &a, why, sizeof(why)), IC_SIGV4_OK);
    ck_assert(a.is_presigned);
    ck_assert_str_eq(a.access_key, AKID);
    ck_assert_str_eq(a.service, "iotdevicegateway");
    ck_assert_str_eq(a.signed_headers, "host");
    ck_assert_str_eq(a.amz_date, DATE);
    ck_assert_str_eq(a.security_token, "Tok/en+=");
    ck_assert_int_eq(a.expires_s, 86400);
    ck_assert_str_eq(a.signature,
                     "0856baad3c8f722d95b34aba67555e21e131b5f22cdace55f4b0180be9437897");

    /* the Date header (botocore's "-0000" zone) stands in for x-amz-date */
    from(&q, V("date_header"));
    ck_assert_int_eq(ic_sigv4_parse(&q.r, &a, why, sizeof(why)), IC_SIGV4_OK);
    ck_assert_str_eq(a.amz_date, DATE);
    set(&q, "Date", "Mon, 23 Nov 2026 08:09:50 GMT");
    ck_assert_int_eq(ic_sigv4_parse(&q.r, &a, why, sizeof(why)), IC_SIGV4_OK);
    ck_assert_str_eq(a.amz_date, DATE);
    set(&q, "Date", "23 nov 2026 09:09:50 +0100");
    ck_assert_int_eq(ic_sigv4_parse(&q.r, &a, why, sizeof(why)), IC_SIGV4_OK);
    ck_assert_str_eq(a.amz_date, DATE);
    set(&q, "Date", DATE);
    ck_assert_int_eq(ic_sigv4_parse(&q.r, &a, why, sizeof(why)), IC_SIGV4_OK);
    ck_assert_str_eq(a.amz_date, DATE);
}
END_TEST

/* form with "{SIG}" replaced by sig */
static void fill(char *out, size_t cap, const char *form, const char *sig) {
    const char *p = strstr(form, "{SIG}");
    ck_assert_ptr_nonnull(p);
    snprintf(out, cap, "%.*s%s%s", (int)(p - form), form, sig, p + 5);
}

/* The Authorization header of put_thing_json, respaced. */
START_TEST(header_spacing_variants) {
    static const char *const forms[] = {
        "AWS4-HMAC-SHA256 Credential=" AKID "/20261123/us-east-1/iot/aws4_request,"
        "SignedHeaders=content-type;host;x-amz-date,Signature={SIG}",
        "AWS4-HMAC-SHA256   Credential=" AKID "/20261123/us-east-1/iot/aws4_request ,  "
        "SignedHeaders=content-type;host;x-amz-date ,Signature={SIG}  ",
        "AWS4-HMAC-SHA256\tCredential=" AKID "/20261123/us-east-1/iot/aws4_request,\t"
        "SignedHeaders=content-type;host;x-amz-date, Signature={SIG}",
        "AWS4-HMAC-SHA256 Signature={SIG}, Credential=" AKID
        "/20261123/us-east-1/iot/aws4_request, SignedHeaders=content-type;host;x-amz-date",
        "AWS4-HMAC-SHA256 Credential=" AKID "/20261123/us-east-1/iot/aws4_request "
        "SignedHeaders=content-type;host;x-amz-date Signature={SIG}",
    };
    static const char sig[] =
        "94ba474bbb9fa6e4935ea01a520eca840872de0f9d12a9de91b4cb69b9d608e2";
    char authz[512], upper[65];
    size_t i;
    req_t q;
    for (i = 0; i < N(forms); i++) {
        from(&q, V("put_thing_json"));
        fill(authz, sizeof(authz), forms[i], sig);
        set(&q, "Authorization", authz);
        OK(&q, SECRET, NOW);
    }
    /* uppercase hex is read as the same signature */
    for (i = 0; i < 64; i++)
        upper[i] = (char)toupper((unsigned char)sig[i]);
    upper[64] = '\0';
    fill(authz, sizeof(authz), forms[0], upper);
    set(&q, "Authorization", authz);
    OK(&q, SECRET, NOW);
    /* header names are matched whatever their case; unsigned ones are free */
    from(&q, V("boto_create_thing"));
    q.h[1].name = "CONTENT-TYPE";
    set(&q, "User-Agent", "curl/8");
    add(&q, "X-Unsigned", "anything");
    OK(&q, SECRET, NOW);
}
END_TEST

START_TEST(missing) {
    req_t q;
    ic_sigv4_auth_t a;
    from(&q, V("put_thing_json"));
    drop(&q, "Authorization");
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISSING, "Missing Authentication Token");
    q.r.query = "maxResults=2&X-Amz-Signature=00";
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISSING, "Missing Authentication Token");
    q.r.query = NULL;
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISSING, "Missing Authentication Token");
    ck_assert_int_eq(ic_sigv4_parse(&q.r, &a, NULL, 0), IC_SIGV4_MISSING);
}
END_TEST

static void incomplete_at(int line, const char *authz, const char *want) {
    req_t q;
    char why[WHY] = "";
    from(&q, V("put_thing_json"));
    set(&q, "Authorization", authz);
    ck_assert_msg(check(&q, SECRET, NOW, why) == IC_SIGV4_INCOMPLETE,
                  "line %d: %s", line, why);
    if (want != NULL)
        ck_assert_msg(strcmp(why, want) == 0, "line %d: %s", line, why);
}
#define incomplete(authz, want) incomplete_at(__LINE__, (authz), (want))

#define CRED "Credential=" AKID "/20261123/us-east-1/iot/aws4_request"
#define SH "SignedHeaders=content-type;host;x-amz-date"
#define SIG "Signature=94ba474bbb9fa6e4935ea01a520eca840872de0f9d12a9de91b4cb69b9d608e2"

START_TEST(incomplete_messages) {
    char big[3000], authz[3400];
    req_t q;
    incomplete("AWS4-HMAC-SHA256 " CRED ", " SH,
               "Authorization header requires 'Signature' parameter.");
    incomplete("AWS4-HMAC-SHA256 " CRED ", " SH ", Signature=",
               "Authorization header requires 'Signature' parameter.");
    incomplete("AWS4-HMAC-SHA256 " SIG,
               "Authorization header requires 'Credential' parameter. "
               "Authorization header requires 'SignedHeaders' parameter.");
    incomplete("Basic dXNlcjpwYXNz",
               "Authorization header requires 'Credential' parameter. "
               "Authorization header requires 'Signature' parameter. "
               "Authorization header requires 'SignedHeaders' parameter.");
    incomplete("AWS4-HMAC-SHA256", "Authorization header requires 'Credential' "
                                   "parameter. Authorization header requires "
                                   "'Signature' parameter. Authorization header "
                                   "requires 'SignedHeaders' parameter.");
    incomplete("AWS4-HMAC-SHA256X " CRED ", " SH ", " SIG,
               "Authorization header requires 'Credential' parameter. "
               "Authorization header requires 'Signature' parameter. "
               "Authorization header requires 'SignedHeaders' parameter.");
    incomplete("AWS4-HMAC-SHA256 " CRED ", " SH ", " SIG ", junk",
               "Invalid key=value pair (missing equal-sign) in Authorization "
               "header (hashed with SHA-256 and encoded with Base64): "
               "'eWKiLREakg0yRmahuIots/hk2G7lVI6ftRRw+O9Zgmc='.");
    incomplete("AWS4-HMAC-SHA256 Credential=" AKID "/20261123/us-east-1/iot, " SH
               ", " SIG,
               "Credential must have exactly 5 slash-delimited elements, e.g. "
               "keyid/date/region/service/term, got '" AKID
               "/20261123/us-east-1/iot'");
    incomplete("AWS4-HMAC-SHA256 Credential=" AKID
               "/20261123/us-east-1/iot/aws4_request/x, " SH ", " SIG,
               "Credential must have exactly 5 slash-delimited elements, e.g. "
               "keyid/date/region/service/term, got '" AKID
               "/20261123/us-east-1/iot/aws4_request/x'");
    incomplete("AWS4-HMAC-SHA256 Credential=" AKID
               "/20261123/us-east-1/iot/aws4_reques, " SH ", " SIG,
               "Credential should be scoped with a valid terminator: "
               "'aws4_request', not 'aws4_reques'.");
    incomplete("AWS4-HMAC-SHA256 Credential=" AKID "/2026-11-23/us-east-1/iot/"
               "aws4_request, " SH ", " SIG,
               "Credential date must be YYYYMMDD, got '" AKID
               "/2026-11-23/us-east-1/iot/aws4_request'");
    incomplete("AWS4-HMAC-SHA256 Credential=/20261123/us-east-1/iot/aws4_request, " SH
               ", " SIG,
               NULL);
    incomplete("AWS4-HMAC-SHA256 " CRED ", SignedHeaders=content-type;x-amz-date, " SIG,
               "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
               "Authorization.");
    incomplete("AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;;x-amz-date, " SIG,
               "SignedHeaders has an empty header name.");
    incomplete("AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x:y, " SIG,
               "SignedHeaders must be ';'-separated header names.");
    incomplete("AWS4-HMAC-SHA256 " CRED ", " SH ", " SIG "0",
               "Signature must be 64 hexadecimal digits.");
    incomplete("AWS4-HMAC-SHA256 " CRED ", " SH
               ", Signature=94ba474bbb9fa6e4935ea01a520eca840872de0f9d12a9de91b4cb69b9d608e",
               "Signature must be 64 hexadecimal digits.");
    incomplete("AWS4-HMAC-SHA256 " CRED ", " SH
               ", Signature=94ba474bbb9fa6e4935ea01a520eca840872de0f9d12a9de91b4cb69b9d608eg",
               "Signature must be 64 hexadecimal digits.");

    /* no date at all, or one that is not ISO 8601 basic */
    from(&q, V("put_thing_json"));
    drop(&q, "X-Amz-Date");
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE,
          "Authorization header requires existence of either a 'X-Amz-Date' or "
          "a 'Date' header.");
    set(&q, "Authorization", "AWS4-HMAC-SHA256 " CRED);
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE,
          "Authorization header requires 'Signature' parameter. Authorization "
          "header requires 'SignedHeaders' parameter. Authorization header "
          "requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    from(&q, V("put_thing_json"));
    set(&q, "X-Amz-Date", "2026-11-23T08:09:50Z");
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE,
          "Date must be in ISO-8601 'basic format'. Got '2026-11-23T08:09:50Z'. "
          "See http://en.wikipedia.org/wiki/ISO_8601");
    set(&q, "X-Amz-Date", "20261323T080950Z"); /* month 13 */
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE, NULL);
    set(&q, "X-Amz-Date", "20260229T080950Z"); /* not a leap year */
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE, NULL);
    from(&q, V("date_header"));
    set(&q, "Date", "yesterday");
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE,
          "Date must be in ISO-8601 'basic format'. Got 'yesterday'. See "
          "http://en.wikipedia.org/wiki/ISO_8601");
    set(&q, "Date", "Mon, 31 Feb 2026 08:09:50 GMT");
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE, NULL);

    /* control bytes of the peer never reach the message */
    incomplete("AWS4-HMAC-SHA256 Credential=a\001b/1/2/3, " SH ", " SIG,
               "Credential must have exactly 5 slash-delimited elements, e.g. "
               "keyid/date/region/service/term, got 'a?b/1/2/3'");

    /* a too-long field is refused, never truncated */
    memset(big, 'A', sizeof(big));
    big[128] = '\0';
    snprintf(authz, sizeof(authz),
             "AWS4-HMAC-SHA256 Credential=%s/20261123/us-east-1/iot/aws4_request, "
             SH ", " SIG, big);
    from(&q, V("put_thing_json"));
    set(&q, "Authorization", authz);
    OK(&q, SECRET, NOW); /* the access key only picks the secret */
    {
        ic_sigv4_auth_t a;
        ck_assert_int_eq(ic_sigv4_parse(&q.r, &a, NULL, 0), IC_SIGV4_OK);
        ck_assert_uint_eq(strlen(a.access_key), 128);
    }
    big[128] = 'A';
    big[129] = '\0';
    snprintf(authz, sizeof(authz),
             "AWS4-HMAC-SHA256 Credential=%s/20261123/us-east-1/iot/aws4_request, "
             SH ", " SIG, big);
    incomplete(authz, NULL);
    big[129] = 'A';
    big[64] = '\0';
    snprintf(authz, sizeof(authz),
             "AWS4-HMAC-SHA256 Credential=" AKID "/20261123/%s/iot/aws4_request, "
             SH ", " SIG, big);
    incomplete(authz, NULL);
    snprintf(authz, sizeof(authz),
             "AWS4-HMAC-SHA256 Credential=" AKID "/20261123/us-east-1/%s/aws4_request, "
             SH ", " SIG, big);
    incomplete(authz, NULL);
    big[64] = 'A';
    memset(big, 'a', 1020);
    big[1020] = '\0';
    snprintf(authz, sizeof(authz), "AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;%s, " SIG,
             big);
    incomplete(authz, "SignedHeaders is longer than 1023 characters.");
    big[1020] = 'a';
    memset(big, 'T', 2048);
    big[2048] = '\0';
    from(&q, V("session_token"));
    set(&q, "X-Amz-Security-Token", big);
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE,
          "X-Amz-Security-Token is longer than 2047 characters.");
    big[2047] = '\0'; /* fits, but it is not the signed token */
    set(&q, "X-Amz-Security-Token", big);
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
}
END_TEST

START_TEST(mismatches) {
    req_t q;
    char authz[512];
    /* every signed part, tampered */
    from(&q, V("put_thing_json"));
    FAILS(&q, "wrong", NOW, IC_SIGV4_MISMATCH, MISMATCH);
    q.r.body = (const uint8_t *)"{\"a\":2}";
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    q.r.body_len = 0;
    q.r.body = NULL;
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    from(&q, V("put_thing_json"));
    q.r.method = "POST";
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    from(&q, V("put_thing_json"));
    q.r.path = "/things/bar";
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    q.r.path = "/things/foo/";
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    q.r.path = "/things/fo%6F"; /* the same path to a decoder, not to SigV4 */
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    q.r.path = "/things/./x/../foo"; /* normalised: the same */
    OK(&q, SECRET, NOW);
    from(&q, V("put_thing_json"));
    q.r.query = "x=1";
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    from(&q, V("put_thing_json"));
    set(&q, "Host", "127.0.0.1:8081");
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    from(&q, V("put_thing_json"));
    set(&q, "Content-Type", "text/plain");
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    add(&q, "Content-Type", "application/json"); /* a second one is joined */
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    from(&q, V("put_thing_json"));
    set(&q, "X-Amz-Date", "20261123T080951Z");
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    /* a signed header that was not sent */
    from(&q, V("put_thing_json"));
    ck_assert_uint_eq(drop(&q, "Content-Type"), 1);
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    from(&q, V("get_things_query"));
    snprintf(authz, sizeof(authz), "%s", get(&q, "Authorization")->value);
    memcpy(strstr(authz, "host;x-amz-date"), "host;x-amz-dat3", 15);
    set(&q, "Authorization", authz);
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    /* the query as sent and re-encoded are both bound to the signature */
    from(&q, V("get_things_query"));
    q.r.query = "maxResults=2&nextToken=a/b";
    OK(&q, SECRET, NOW); /* decodes to the same pairs */
    q.r.query = "nextToken=a%2Fb&maxResults=2";
    OK(&q, SECRET, NOW); /* order does not matter */
    q.r.query = "maxResults=2&nextToken=a%2Fc";
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    q.r.query = "maxResults=2&nextToken=a%2Fb&x";
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    from(&q, V("raw_query_unencoded"));
    q.r.query = "b=x/y&a=1:2&a=1";
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    /* the Date header is signed too */
    from(&q, V("date_header"));
    set(&q, "Date", "Mon, 23 Nov 2026 08:09:50 GMT");
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    /* a scope for another day */
    from(&q, V("put_thing_json"));
    snprintf(authz, sizeof(authz), "%s", get(&q, "Authorization")->value);
    memcpy(strstr(authz, "/20261123/"), "/20261122/", 10);
    set(&q, "Authorization", authz);
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH,
          "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
          "version of date from HTTP: '20261122' != '20261123', from "
          "'20261123T080950Z'.");
    /* another region or service in the scope changes the key */
    from(&q, V("put_thing_json"));
    snprintf(authz, sizeof(authz), "%s", get(&q, "Authorization")->value);
    memcpy(strstr(authz, "us-east-1"), "us-east-2", 9);
    set(&q, "Authorization", authz);
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
}
END_TEST

START_TEST(payload_hash) {
    req_t q;
    /* UNSIGNED-PAYLOAD: the body is not covered */
    from(&q, V("unsigned_payload"));
    q.r.body = (const uint8_t *)"anything else";
    q.r.body_len = strlen("anything else");
    OK(&q, SECRET, NOW);
    set(&q, "X-Amz-Content-SHA256", "unsigned-payload");
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    /* claiming UNSIGNED-PAYLOAD on a request signed over its body fails */
    from(&q, V("put_thing_json"));
    add(&q, "X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD");
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    /* a claimed hash must be the body's (js signs x-amz-content-sha256) */
    from(&q, V("js_put_thing"));
    OK(&q, SECRET, NOW);
    q.r.body = (const uint8_t *)"{\"a\":2}";
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    /* a presigned URL binds the (empty) body */
    from(&q, V("presign_mqtt"));
    q.r.body = (const uint8_t *)"x";
    q.r.body_len = 1;
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
}
END_TEST

START_TEST(presigned) {
    req_t q;
    char query[1024], *p;
    /* AWS IoT's recipe: the token is outside the signature */
    from(&q, V("presign_token_after"));
    OK(&q, SECRET, NOW);
    /* botocore's: the token is signed */
    from(&q, V("presign_token"));
    snprintf(query, sizeof(query), "%s", q.r.query);
    memcpy(strstr(query, "Tok%2Fen"), "Tok%2Fem", 8);
    q.r.query = query;
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    /* the signed query parameters */
    from(&q, V("presign_things"));
    snprintf(query, sizeof(query), "%s", q.r.query);
    memcpy(strstr(query, "maxResults=5"), "maxResults=6", 12);
    q.r.query = query;
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    from(&q, V("presign_things"));
    snprintf(query, sizeof(query), "%s", q.r.query);
    memcpy(strstr(query, "Expires=60"), "Expires=90", 10);
    q.r.query = query;
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    from(&q, V("presign_mqtt"));
    set(&q, "Host", "localhost:8443");
    FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    /* an Authorization header wins over the query */
    from(&q, V("presign_mqtt"));
    add(&q, "Authorization", "AWS4-HMAC-SHA256 " CRED);
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE, NULL);

    /* what the query must carry */
    from(&q, V("presign_things"));
    snprintf(query, sizeof(query), "%s", q.r.query);
    p = strstr(query, "&X-Amz-Signature=");
    *p = '\0';
    q.r.query = query;
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE,
          "AWS query-string parameters must include 'X-Amz-Algorithm', "
          "'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', "
          "'X-Amz-Date'. Re-examine the query-string parameters.");
    q.r.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256";
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE,
          "AWS query-string parameters must include 'X-Amz-Algorithm', "
          "'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', "
          "'X-Amz-Date'. Re-examine the query-string parameters.");
    q.r.query = "X-Amz-Algorithm=AWS4-HMAC-SHA1";
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE,
          "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
    q.r.query = "X-Amz-Algorithm=%ZZ";
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE,
          "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");

#define PRE "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AKID \
            "%2F20261123%2Fus-east-1%2Fiot%2Faws4_request&X-Amz-SignedHeaders=host" \
            "&X-Amz-Signature=4610aefced2de1b69b73023570381de2c6e00e1aa91a5a643894ed7eb1b970da"
    q.r.query = PRE "&X-Amz-Date=20261123T080950Z&X-Amz-Expires=604801";
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE,
          "X-Amz-Expires must be less than a week (in seconds); that is, the "
          "given X-Amz-Expires must be less than 604800 seconds");
    q.r.query = PRE "&X-Amz-Date=20261123T080950Z&X-Amz-Expires=60s";
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE, "X-Amz-Expires should be a number");
    q.r.query = PRE "&X-Amz-Date=20261123T080950Z&X-Amz-Expires=-5";
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE, "X-Amz-Expires should be a number");
    q.r.query = PRE "&X-Amz-Date=20261123T080950Z&X-Amz-Expires=99999999999999999999";
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE, "X-Amz-Expires should be a number");
    q.r.query = PRE "&X-Amz-Date=20261123T080950Z&X-Amz-Expires=0";
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE, NULL);
    q.r.query = PRE "&X-Amz-Date=2026-11-23";
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE,
          "Date must be in ISO-8601 'basic format'. Got '2026-11-23'. See "
          "http://en.wikipedia.org/wiki/ISO_8601");
    q.r.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AKID
                "/20261123/us-east-1/iot/aws4_request&X-Amz-SignedHeaders=x-amz-date"
                "&X-Amz-Date=20261123T080950Z&X-Amz-Signature=4610aefced2de1b69b73"
                "023570381de2c6e00e1aa91a5a643894ed7eb1b970da";
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE,
          "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
          "Authorization.");
    q.r.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AKID
                "%2F20261123%2Fus-east-1%2Fiot%00%2Faws4_request&X-Amz-SignedHeaders=host"
                "&X-Amz-Date=20261123T080950Z&X-Amz-Signature=4610aefced2de1b69b73"
                "023570381de2c6e00e1aa91a5a643894ed7eb1b970da";
    FAILS(&q, SECRET, NOW, IC_SIGV4_INCOMPLETE, "X-Amz-Credential is malformed or too long.");
}
END_TEST

/* ---- time ----------------------------------------------------------------- */

START_TEST(clock_skew) {
    req_t q;
    from(&q, V("put_thing_json"));
    OK(&q, SECRET, NOW + 15 * 60);
    OK(&q, SECRET, NOW - 15 * 60);
    FAILS(&q, SECRET, NOW + 15 * 60 + 1, IC_SIGV4_EXPIRED, NULL);
    FAILS(&q, SECRET, NOW - 15 * 60 - 1, IC_SIGV4_EXPIRED, NULL);
    /* AWS's messages, 16 minutes either way */
    FAILS(&q, SECRET, NOW + 16 * 60, IC_SIGV4_EXPIRED,
          "Signature expired: 20261123T080950Z is now earlier than "
          "20261123T081050Z (20261123T082550Z - 15 min.)");
    FAILS(&q, SECRET, NOW - 16 * 60, IC_SIGV4_EXPIRED,
          "Signature not yet current: 20261123T080950Z is still later than "
          "20261123T080850Z (20261123T075350Z + 15 min.)");
    /* the time is checked before the signature */
    FAILS(&q, "wrong", NOW + 16 * 60, IC_SIGV4_EXPIRED, NULL);
}
END_TEST

START_TEST(presigned_expiry) {
    req_t q;
    from(&q, V("presign_mqtt")); /* X-Amz-Expires=300 */
    OK(&q, SECRET, NOW + 300);
    FAILS(&q, SECRET, NOW + 301, IC_SIGV4_EXPIRED,
          "Signature expired: 20261123T080950Z is now earlier than "
          "20261123T080951Z (20261123T081451Z - 5 min.)");
    from(&q, V("presign_things")); /* X-Amz-Expires=60 */
    FAILS(&q, SECRET, NOW + 3600, IC_SIGV4_EXPIRED,
          "Signature expired: 20261123T080950Z is now earlier than "
          "20261123T090850Z (20261123T090950Z - 1 min.)");
    from(&q, V("presign_token")); /* X-Amz-Expires=86400: longer than the skew */
    OK(&q, SECRET, NOW + 86400);
    FAILS(&q, SECRET, NOW + 86401, IC_SIGV4_EXPIRED, NULL);
    /* signed in the future: the 15 minutes still apply */
    OK(&q, SECRET, NOW - 15 * 60);
    FAILS(&q, SECRET, NOW - 16 * 60, IC_SIGV4_EXPIRED,
          "Signature not yet current: 20261123T080950Z is still later than "
          "20261123T080850Z (20261123T075350Z + 15 min.)");
}
END_TEST

START_TEST(amz_date) {
    static const struct {
        int64_t t;
        const char *s;
    } rows[] = {
        {0, "19700101T000000Z"},
        {-1, "19700101T000000Z"},
        {951868800, "20000301T000000Z"},
        {951868799, "20000229T235959Z"},
        {1709164800, "20240229T000000Z"},
        {4107542399, "21000228T235959Z"},
        {4107542400, "21000301T000000Z"},
        {NOW, DATE},
        {AWS_NOW, "20150830T123600Z"},
        {INT64_C(253402300799), "99991231T235959Z"},
        {INT64_MAX, "99991231T235959Z"},
    };
    char d[17];
    size_t i;
    for (i = 0; i < N(rows); i++) {
        ic_sigv4_amz_date(rows[i].t, d);
        ck_assert_str_eq(d, rows[i].s);
    }
}
END_TEST

/* ---- signing -------------------------------------------------------------- */

START_TEST(sign_contract) {
    ic_http_header_t h[3] = {
        {"Host", 4, "127.0.0.1:8080", 14},
        {"X-Amz-Date", 10, DATE, 16},
        {"x-amz-date", 10, DATE, 16},
    };
    char out[512], small[512];
    size_t len;
    req_t q;
    /* the header names are lowercased, sorted and given once (botocore
     * signs GET /things to the same header) */
    ck_assert_int_eq(ic_sigv4_sign("GET", "/things", "", h, 2, NULL, 0, AKID, SECRET,
                                   "us-east-1", "iot", out, sizeof(out)),
                     0);
    ck_assert_str_eq(out, "AWS4-HMAC-SHA256 Credential=" AKID
                          "/20261123/us-east-1/iot/aws4_request, "
                          "SignedHeaders=host;x-amz-date, Signature="
                          "ed62b60f5ae0a0caebcb1d73b309aea4edac37c26b40102515c26ff07ad2dcf6");
    len = strlen(out);
    /* out too small: IC_ETOOBIG and an empty string, never a cut header */
    memset(small, 'x', sizeof(small));
    ck_assert_int_eq(ic_sigv4_sign("GET", "/things", "", h, 2, NULL, 0, AKID, SECRET,
                                   "us-east-1", "iot", small, len),
                     IC_ETOOBIG);
    ck_assert_str_eq(small, "");
    ck_assert_int_eq(ic_sigv4_sign("GET", "/things", "", h, 2, NULL, 0, AKID, SECRET,
                                   "us-east-1", "iot", small, len + 1),
                     0);
    ck_assert_str_eq(small, out);
    ck_assert_int_eq(ic_sigv4_sign("GET", "/things", "", h, 2, NULL, 0, AKID, SECRET,
                                   "us-east-1", "iot", NULL, 0),
                     IC_ETOOBIG);
    /* no date to sign with */
    ck_assert_int_eq(ic_sigv4_sign("GET", "/things", "", h, 1, NULL, 0, AKID, SECRET,
                                   "us-east-1", "iot", out, sizeof(out)),
                     IC_EINVAL);
    h[1].value = "2026-11-23";
    h[1].value_len = 10;
    ck_assert_int_eq(ic_sigv4_sign("GET", "/things", "", h, 2, NULL, 0, AKID, SECRET,
                                   "us-east-1", "iot", out, sizeof(out)),
                     IC_EINVAL);
    ck_assert_str_eq(out, "");
    /* a header name that cannot be listed in SignedHeaders */
    h[1].value = DATE;
    h[1].value_len = 16;
    h[0].name = "Ho;st";
    ck_assert_int_eq(ic_sigv4_sign("GET", "/things", "", h, 2, NULL, 0, AKID, SECRET,
                                   "us-east-1", "iot", out, sizeof(out)),
                     IC_EINVAL);
    h[0].name_len = 0;
    ck_assert_int_eq(ic_sigv4_sign("GET", "/things", "", h, 2, NULL, 0, AKID, SECRET,
                                   "us-east-1", "iot", out, sizeof(out)),
                     IC_EINVAL);
    /* "execute-api" as the Debian AWS CLI signs it: the same as botocore */
    from(&q, V("execute_api"));
    ck_assert_int_eq(ic_sigv4_sign("GET", "/things", NULL, q.h, 2, NULL, 0, AKID,
                                   SECRET, "us-east-1", "execute-api", out,
                                   sizeof(out)),
                     0);
    ck_assert_str_eq(out, get(&q, "Authorization")->value);
}
END_TEST

/* Whatever the client sends, what ic_sigv4_sign makes verifies. */
START_TEST(sign_verify_round_trip) {
    static const struct {
        const char *method, *path, *query, *body;
    } rows[] = {
        {"GET", "/", "", ""},
        {"GET", "", "", ""},
        {"GET", "/", "=", ""},
        {"GET", "/", "&", ""},
        {"GET", "/a b/../c//d/", "z=1&a=%2f&a=%2F&b&=x&&", ""},
        {"POST", "/topics/a%2Fb%2F%23", "qos=1", "{\"msg\":\"h\\u00e9\"}"},
        {"PUT", "/things/%E2%82%AC/shadow", "name=%E2%82%AC+x%20y", "\x01\x02"},
        {"DELETE", "/./..//x/./", "%41=%42&a=b", ""},
        {"PATCH", "/things/t?", "!*'()=~", "x"},
    };
    size_t i;
    for (i = 0; i < N(rows); i++) {
        req_t q;
        char authz[512];
        memset(&q, 0, sizeof(q));
        q.r.method = rows[i].method;
        q.r.path = rows[i].path;
        q.r.query = rows[i].query;
        q.r.body = (const uint8_t *)rows[i].body;
        q.r.body_len = strlen(rows[i].body);
        q.r.headers = q.h;
        add(&q, "Host", "iot.local:8443");
        add(&q, "X-Amz-Date", DATE);
        add(&q, "X-Thing", "  two   words ");
        add(&q, "x-thing", "again");
        ck_assert_int_eq(ic_sigv4_sign(q.r.method, q.r.path, q.r.query, q.h,
                                       q.r.n_headers, q.r.body, q.r.body_len, AKID,
                                       SECRET, "eu-west-1", "iot", authz,
                                       sizeof(authz)),
                         0);
        ck_assert_ptr_nonnull(strstr(authz, "SignedHeaders=host;x-amz-date;x-thing,"));
        add(&q, "Authorization", authz);
        OK(&q, SECRET, NOW);
        q.r.body_len = q.r.body_len ? q.r.body_len - 1 : 0;
        if (strlen(rows[i].body) > 0)
            FAILS(&q, SECRET, NOW, IC_SIGV4_MISMATCH, MISMATCH);
    }
}
END_TEST

/* ---- robustness ----------------------------------------------------------- */

/* Every prefix of a valid Authorization header and of a valid presigned
 * query: never OK before the end, never past a buffer (ASan), and every
 * why buffer size works. */
START_TEST(truncations) {
    const vec_t *v = V("session_token");
    const char *full;
    char cut[1024], why[WHY];
    size_t n, len, wl;
    req_t q;
    from(&q, v);
    full = get(&q, "Authorization")->value;
    len = strlen(full);
    for (n = 0; n < len; n++) {
        memcpy(cut, full, n);
        cut[n] = '\0';
        set(&q, "Authorization", cut);
        ck_assert_int_eq(check(&q, SECRET, NOW, why), IC_SIGV4_INCOMPLETE);
    }
    v = V("presign_things");
    from(&q, v);
    len = strlen(v->query);
    for (n = 0; n < len; n++) {
        ic_sigv4_status_t st;
        memcpy(cut, v->query, n);
        cut[n] = '\0';
        q.r.query = cut;
        st = check(&q, SECRET, NOW, why);
        ck_assert_msg(st == IC_SIGV4_MISSING || st == IC_SIGV4_INCOMPLETE ||
                          st == IC_SIGV4_MISMATCH,
                      "%zu: %d", n, st);
    }
    /* any why length, including none */
    from(&q, V("put_thing_json"));
    for (wl = 0; wl < 40; wl++) {
        ic_sigv4_auth_t a;
        memset(why, '#', sizeof(why));
        ck_assert_int_eq(ic_sigv4_parse(&q.r, &a, why, wl), IC_SIGV4_OK);
        ck_assert_int_eq(ic_sigv4_verify(&q.r, &a, SECRET, NOW + 3600, why, wl),
                         IC_SIGV4_EXPIRED);
        if (wl > 0)
            ck_assert_uint_eq(strlen(why), wl - 1);
        ck_assert_int_eq(why[wl], '#');
    }
}
END_TEST

/* Random bytes where the peer controls them: parse and verify never crash
 * and only ever answer with a status. */
START_TEST(random_input) {
    uint32_t seed = 0x5197a4u;
    char authz[300], query[300], path[64], date[20];
    int round;
    req_t q;
    for (round = 0; round < 20000; round++) {
        static const char alphabet[] =
            "AWS4-HMAC-SHA256 Credential=/aws4_request,SignedHeaders=host;"
            "Signature=0123456789abcdef%&X-Amz-Algorithm=Date=Expires \t\001\377";
        size_t i, n;
        ic_sigv4_status_t st;
        char why[WHY];
        seed = seed * 1103515245u + 12345u;
        n = (seed >> 8) % sizeof(authz);
        for (i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            authz[i] = alphabet[(seed >> 8) % (sizeof(alphabet) - 1)];
            if (authz[i] == '\0')
                authz[i] = 'x';
        }
        authz[n] = '\0';
        memcpy(query, authz, n + 1);
        for (i = 0; i + 1 < sizeof(path) && i < n; i++)
            path[i] = authz[i];
        path[i] = '\0';
        memcpy(date, authz, n < 16 ? n : 16);
        date[n < 16 ? n : 16] = '\0';
        from(&q, V("put_thing_json"));
        q.r.path = path;
        if (round % 3 == 0) {
            drop(&q, "Authorization");
            q.r.query = query;
        } else {
            set(&q, "Authorization", round % 3 == 1 ? authz : "AWS4-HMAC-SHA256 " CRED ", " SH ", " SIG);
            q.r.query = query;
        }
        if (round % 5 == 0)
            set(&q, "X-Amz-Date", date);
        st = check(&q, SECRET, NOW, why);
        ck_assert(st == IC_SIGV4_OK || st == IC_SIGV4_MISSING ||
                  st == IC_SIGV4_INCOMPLETE || st == IC_SIGV4_MISMATCH ||
                  st == IC_SIGV4_EXPIRED);
    }
}
END_TEST

Suite *ic_sigv4_suite(void) {
    Suite *s = suite_create("sigv4");
    TCase *ref = tcase_create("references");
    TCase *claims = tcase_create("claims");
    TCase *time = tcase_create("time");
    TCase *sign = tcase_create("sign");
    TCase *robust = tcase_create("robustness");
    tcase_add_test(ref, aws_test_suite);
    tcase_add_test(ref, aws_test_suite_tampered);
    tcase_add_test(ref, sdk_golden);
    tcase_add_test(ref, sdk_golden_wrong_secret);
    tcase_add_test(claims, parse_fields);
    tcase_add_test(claims, header_spacing_variants);
    tcase_add_test(claims, missing);
    tcase_add_test(claims, incomplete_messages);
    tcase_add_test(claims, mismatches);
    tcase_add_test(claims, payload_hash);
    tcase_add_test(claims, presigned);
    tcase_add_test(time, clock_skew);
    tcase_add_test(time, presigned_expiry);
    tcase_add_test(time, amz_date);
    tcase_add_test(sign, sign_contract);
    tcase_add_test(sign, sign_verify_round_trip);
    tcase_add_test(robust, truncations);
    tcase_add_test(robust, random_input);
    suite_add_tcase(s, ref);
    suite_add_tcase(s, claims);
    suite_add_tcase(s, time);
    suite_add_tcase(s, sign);
    suite_add_tcase(s, robust);
    return s;
}

