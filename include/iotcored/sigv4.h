/* sigv4.h - AWS Signature Version 4: parse, verify, sign (pure, L1).
 *
 * Verification rebuilds the canonical request from what was received (raw
 * path, query, the signed headers, the body) exactly as the AWS SDKs build
 * it (botocore auth.py, aws-sdk-js-v3 signature-v4): path segments
 * normalised and URI-encoded a second time (non-S3 services), query pairs
 * decoded, re-encoded per RFC 3986 and sorted, header values trimmed with
 * inner whitespace runs collapsed. HMAC-SHA256 and SHA-256 from OpenSSL; no
 * clock (the caller passes now), no globals.
 */
#ifndef IOTCORED_SIGV4_H
#define IOTCORED_SIGV4_H

#include "iotcored/http_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a request claims: from the Authorization header or a presigned
 * query string. Strings are NUL-terminated copies. */
typedef struct ic_sigv4_auth_s {
    char access_key[129];
    char date[9];            /* YYYYMMDD of the credential scope */
    char region[64];
    char service[64];        /* e.g. iot, execute-api, iotdata */
    char signed_headers[1024]; /* "host;x-amz-date", lowercase, ';'-joined */
    char signature[65];      /* lowercase hex */
    char amz_date[17];       /* YYYYMMDDTHHMMSSZ (x-amz-date header, or
                                X-Amz-Date in a presigned query) */
    char security_token[2048]; /* x-amz-security-token, "" if none */
    long expires_s;          /* presigned X-Amz-Expires, 0 for header auth */
    bool is_presigned;
} ic_sigv4_auth_t;

typedef enum {
    IC_SIGV4_OK = 0,
    IC_SIGV4_MISSING,       /* no Authorization header / no X-Amz-* query:
                               403 MissingAuthenticationTokenException */
    IC_SIGV4_INCOMPLETE,    /* malformed header or missing x-amz-date:
                               IncompleteSignatureException */
    IC_SIGV4_MISMATCH,      /* signature differs: InvalidSignatureException */
    IC_SIGV4_EXPIRED,       /* clock skew > 15 min, or presigned URL past
                               X-Amz-Expires: InvalidSignatureException with
                               the message in why */
} ic_sigv4_status_t;

/* Parse the Authorization header of r (or, when absent and the query has
 * X-Amz-Algorithm, the presigned query form) into out. why (may be NULL)
 * gets AWS's message for the status. r is borrowed; out and why are out
 * parameters (out is zeroed first; why is "" on success).
 *
 * Header form: "AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/region/service/
 * aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>", the
 * parameters in any order, separated by ',' and/or whitespace (botocore and
 * aws-sdk-js-v3 write ", "). The request time comes from x-amz-date, else
 * from Date (RFC 1123, as botocore writes it, or ISO 8601 basic).
 * Presigned form: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
 * X-Amz-SignedHeaders, X-Amz-Signature, optional X-Amz-Expires (1..604800)
 * and X-Amz-Security-Token, values percent-decoded.
 * IC_SIGV4_MISSING: "Missing Authentication Token". IC_SIGV4_INCOMPLETE:
 * AWS's list of what is missing ("Authorization header requires
 * 'Credential' parameter. ..."), or what is malformed: a credential
 * without its 5 parts or its aws4_request terminator, a date that is not
 * ISO 8601 basic, "host" not among the signed headers, a signature that is
 * not 64 hex digits, X-Amz-Expires out of range. A field longer than its
 * out member is INCOMPLETE, never truncated; quoted peer text in why is
 * printable ASCII only. */
ic_sigv4_status_t ic_sigv4_parse(const ic_http_request_t *r,
                                 ic_sigv4_auth_t *out, char *why,
                                 size_t whylen);

/* Verify a parsed request with the secret of out->access_key: date skew
 * against now_s (unix seconds; 15 minutes either way, messages as AWS:
 * "Signature expired: 20260101T000000Z is now earlier than
 * 20260101T001000Z (20260101T002500Z - 15 min.)" and "Signature not yet
 * current: ... is still later than ... (... + 15 min.)"), then the
 * signature. The body's SHA-256 is computed here unless the request sends
 * x-amz-content-sha256 UNSIGNED-PAYLOAD.
 *
 * r, a and secret are borrowed; why is an out parameter. A presigned
 * request is valid from X-Amz-Date - 15 min to X-Amz-Date + X-Amz-Expires
 * ("Signature expired: <X-Amz-Date> is now earlier than <now - expires>
 * (<now> - 5 min.)", "N sec." when not whole minutes); without
 * X-Amz-Expires the 15 minutes apply both ways. A credential scope dated
 * another day than the request is IC_SIGV4_MISMATCH with AWS's "Date in
 * Credential scope does not match YYYYMMDD from ISO-8601 version of date
 * from HTTP: ..." text; so is a signed header that was not sent.
 * A claimed x-amz-content-sha256 other than UNSIGNED-PAYLOAD is not
 * trusted: the body's own hash is used. Besides the canonical request of
 * the file header, the other forms real clients sign are accepted (each
 * still covers the bytes received): the query sorted as sent without
 * re-encoding (botocore on a URL it did not build), a presigned URL whose
 * X-Amz-Security-Token was appended after signing (AWS IoT's WebSocket
 * recipe), and a bodiless presigned URL signed over UNSIGNED-PAYLOAD
 * (S3-style presigners). The signature is compared in constant time. */
ic_sigv4_status_t ic_sigv4_verify(const ic_http_request_t *r,
                                  const ic_sigv4_auth_t *a, const char *secret,
                                  int64_t now_s, char *why, size_t whylen);

/* Sign a request (for iotctl): given method, raw path, raw query (may be
 * ""), headers that must include host and x-amz-date (all of them are
 * signed), body, credentials, region, service, writes the value of the
 * Authorization header into out. Returns 0 or IC_ETOOBIG (out too small).
 *
 * All pointers are borrowed but out (cap bytes, written NUL-terminated;
 * "" on any error, never a cut header). The output is botocore's: "AWS4-
 * HMAC-SHA256 Credential=AKID/YYYYMMDD/region/service/aws4_request,
 * SignedHeaders=<every header name, lowercase, sorted, once>,
 * Signature=<hex>". A Date header may stand in for x-amz-date; an
 * x-amz-content-sha256 header, when given, is the payload hash (as
 * botocore). Also returns IC_EINVAL when there is no valid x-amz-date (or
 * Date) header, or a header name is empty or not an RFC 9110 token. */
int ic_sigv4_sign(const char *method, const char *path, const char *query,
                  const ic_http_header_t *headers, size_t n_headers,
                  const uint8_t *body, size_t body_len, const char *access_key,
                  const char *secret, const char *region, const char *service,
                  char *out, size_t cap);

/* Format unix seconds as YYYYMMDDTHHMMSSZ (UTC) into out[17]; values
 * outside 1970..9999 are clamped to the nearest end. */
void ic_sigv4_amz_date(int64_t unix_s, char out[17]);

#endif
