/* test_sigv4.c - SigV4 verification and signing against AWS's own test
 * vector and golden requests signed by botocore (SigV4Auth, service iot),
 * plus every failure: missing, malformed, wrong secret, tampering, skew. */
#include "suites.h"

#include "iotcored/sigv4.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define DATE "20261123T080950Z"
#define NOW 1795421390 /* 2026-11-23T08:09:50Z */

typedef struct golden_s {
    const char *method, *path, *query, *body, *sig;
} golden_t;

/* Made with botocore 1.43 SigV4Auth(creds, 'iot', 'us-east-1') on
 * http://127.0.0.1:8080 at 20261123T080950Z. */
static const golden_t golden[] = {
    {"PUT", "/things/foo", "", "{\"a\":1}",
     "900d0c95e429521e6a0144ea0aa1550cc436813b3042d760c4930013ede11cc9"},
    {"GET", "/things", "maxResults=2&nextToken=a%2Fb", "",
     "87bf16deeeb95536c9b1711fbcd0f10958ac51829c19edc6bba1c3f4d2f93b79"},
    {"POST",
     "/attached-policies/arn%3Aaws%3Aiot%3Aus-east-1%3A123456789012%3Acert%2Fabc",
     "recursive=false", "",
     "e021068746ebba22daec10976bc1ff744440aa80c20039a66a0e86ab2b490360"},
    {"DELETE", "/things/t1", "expectedVersion=3", "",
     "b0928c5133de8ec2cf27088105d20530b1faf3a3411dcdb9bc5cab5efb2add64"},
};

typedef struct req_s {
    ic_http_request_t r;
    ic_http_header_t h[4];
    char authz[512];
} req_t;

static void hdr(ic_http_header_t *h, const char *n, const char *v) {
    h->name = n;
    h->name_len = strlen(n);
    h->value = v;
    h->value_len = strlen(v);
}

static void make(req_t *q, const char *method, const char *path,
                 const char *query, const char *body, const char *host,
                 const char *date, const char *authz) {
    memset(q, 0, sizeof(*q));
    q->r.method = method;
    q->r.path = path;
    q->r.query = query;
    q->r.body = body[0] ? (const uint8_t *)body : NULL;
    q->r.body_len = strlen(body);
    hdr(&q->h[0], "Host", host);
    hdr(&q->h[1], "X-Amz-Date", date);
    q->r.headers = q->h;
    q->r.n_headers = 2;
    if (authz) {
        snprintf(q->authz, sizeof(q->authz), "%s", authz);
        hdr(&q->h[2], "Authorization", q->authz);
        q->r.n_headers = 3;
    }
}

static void authz_of(const golden_t *g, char *out, size_t cap) {
    snprintf(out, cap,
             "AWS4-HMAC-SHA256 Credential=" AKID "/20261123/us-east-1/iot/"
             "aws4_request, SignedHeaders=host;x-amz-date, Signature=%s",
             g->sig);
}

static ic_sigv4_status_t check(const req_t *q, const char *secret, long now,
                               char *why) {
    ic_sigv4_auth_t a;
    ic_sigv4_status_t st = ic_sigv4_parse(&q->r, &a, why, 512);
    if (st != IC_SIGV4_OK)
        return st;
    return ic_sigv4_verify(&q->r, &a, secret, now, why, 512);
}

START_TEST(aws_get_vanilla) {
    /* AWS's SigV4 test suite, get-vanilla */
    req_t q;
    char why[512];
    make(&q, "GET", "/", "", "", "example.amazonaws.com", "20150830T123600Z",
         "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
         "aws4_request, SignedHeaders=host;x-amz-date, "
         "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    ck_assert_int_eq(check(&q, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                           1440938160, why),
                     IC_SIGV4_OK);
}
END_TEST

START_TEST(botocore_golden_verify_and_sign) {
    size_t i;
    for (i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
        const golden_t *g = &golden[i];
        req_t q;
        char a[512], why[512], out[512];
        authz_of(g, a, sizeof(a));
        make(&q, g->method, g->path, g->query, g->body, "127.0.0.1:8080", DATE, a);
        ck_assert_msg(check(&q, SECRET, NOW, why) == IC_SIGV4_OK, "%s %s: %s",
                      g->method, g->path, why);
        make(&q, g->method, g->path, g->query, g->body, "127.0.0.1:8080", DATE,
             NULL);
        ck_assert_int_eq(ic_sigv4_sign(g->method, g->path, g->query, q.h, 2,
                                       q.r.body, q.r.body_len, AKID, SECRET,
                                       "us-east-1", "iot", out, sizeof(out)),
                         0);
        ck_assert_str_eq(out, a);
    }
}
END_TEST

START_TEST(failures) {
    const golden_t *g = &golden[0];
    req_t q;
    char a[512], why[512];
    authz_of(g, a, sizeof(a));
    /* no Authorization */
    make(&q, g->method, g->path, g->query, g->body, "127.0.0.1:8080", DATE, NULL);
    ck_assert_int_eq(check(&q, SECRET, NOW, why), IC_SIGV4_MISSING);
    ck_assert_str_eq(why, "Missing Authentication Token");
    /* malformed: no Signature */
    make(&q, g->method, g->path, g->query, g->body, "127.0.0.1:8080", DATE,
         "AWS4-HMAC-SHA256 Credential=" AKID "/20261123/us-east-1/iot/aws4_request, "
         "SignedHeaders=host;x-amz-date");
    ck_assert_int_eq(check(&q, SECRET, NOW, why), IC_SIGV4_INCOMPLETE);
    ck_assert_ptr_nonnull(strstr(why, "'Signature'"));
    make(&q, g->method, g->path, g->query, g->body, "127.0.0.1:8080", DATE,
         "Basic dXNlcjpwYXNz");
    ck_assert_int_eq(check(&q, SECRET, NOW, why), IC_SIGV4_INCOMPLETE);
    /* wrong secret */
    make(&q, g->method, g->path, g->query, g->body, "127.0.0.1:8080", DATE, a);
    ck_assert_int_eq(check(&q, "wrong", NOW, why), IC_SIGV4_MISMATCH);
    ck_assert_ptr_nonnull(strstr(why, "The request signature we calculated does "
                                      "not match the signature you provided."));
    /* tampered body, path, query, signed header */
    make(&q, g->method, g->path, g->query, "{\"a\":2}", "127.0.0.1:8080", DATE, a);
    ck_assert_int_eq(check(&q, SECRET, NOW, why), IC_SIGV4_MISMATCH);
    make(&q, g->method, "/things/bar", g->query, g->body, "127.0.0.1:8080", DATE, a);
    ck_assert_int_eq(check(&q, SECRET, NOW, why), IC_SIGV4_MISMATCH);
    make(&q, g->method, g->path, "x=1", g->body, "127.0.0.1:8080", DATE, a);
    ck_assert_int_eq(check(&q, SECRET, NOW, why), IC_SIGV4_MISMATCH);
    make(&q, g->method, g->path, g->query, g->body, "127.0.0.1:8081", DATE, a);
    ck_assert_int_eq(check(&q, SECRET, NOW, why), IC_SIGV4_MISMATCH);
    /* a signed header that is absent */
    make(&q, g->method, g->path, g->query, g->body, "127.0.0.1:8080", DATE,
         "AWS4-HMAC-SHA256 Credential=" AKID "/20261123/us-east-1/iot/aws4_request, "
         "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature="
         "900d0c95e429521e6a0144ea0aa1550cc436813b3042d760c4930013ede11cc9");
    ck_assert_int_eq(check(&q, SECRET, NOW, why), IC_SIGV4_MISMATCH);
}
END_TEST

START_TEST(clock_skew) {
    const golden_t *g = &golden[0];
    req_t q;
    char a[512], why[512];
    authz_of(g, a, sizeof(a));
    make(&q, g->method, g->path, g->query, g->body, "127.0.0.1:8080", DATE, a);
    /* 14 minutes either way is fine */
    ck_assert_int_eq(check(&q, SECRET, NOW + 14 * 60, why), IC_SIGV4_OK);
    ck_assert_int_eq(check(&q, SECRET, NOW - 14 * 60, why), IC_SIGV4_OK);
    /* 16 minutes late: AWS's message */
    ck_assert_int_eq(check(&q, SECRET, NOW + 16 * 60, why), IC_SIGV4_EXPIRED);
    ck_assert_str_eq(why, "Signature expired: 20261123T080950Z is now earlier than "
                          "20261123T081050Z (20261123T082550Z - 15 min.)");
    /* 16 minutes early */
    ck_assert_int_eq(check(&q, SECRET, NOW - 16 * 60, why), IC_SIGV4_EXPIRED);
    ck_assert_str_eq(why, "Signature not yet current: 20261123T080950Z is still "
                          "later than 20261123T080850Z (20261123T075350Z + 15 "
                          "min.)");
}
END_TEST

START_TEST(amz_date) {
    char d[17];
    ic_sigv4_amz_date(NOW, d);
    ck_assert_str_eq(d, DATE);
}
END_TEST

Suite *ic_sigv4_suite(void) {
    Suite *s = suite_create("sigv4");
    TCase *tc = tcase_create("sigv4");
    tcase_add_test(tc, aws_get_vanilla);
    tcase_add_test(tc, botocore_golden_verify_and_sign);
    tcase_add_test(tc, failures);
    tcase_add_test(tc, clock_skew);
    tcase_add_test(tc, amz_date);
    suite_add_tcase(s, tc);
    return s;
}
