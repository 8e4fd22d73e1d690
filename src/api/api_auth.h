/* api_auth.h - SigV4 with the configured credentials, shared by the
 * control plane (api/control.c) and the data plane (api/dataplane.c).
 * Internal to api/. */
#ifndef IOTCORED_API_AUTH_H
#define IOTCORED_API_AUTH_H

#include "iotcored/config.h"
#include "iotcored/http_parse.h"

#include <stddef.h>

typedef enum {
    IC_API_AUTH_OK = 0,
    IC_API_AUTH_MISSING,       /* not signed */
    IC_API_AUTH_INCOMPLETE,    /* malformed signature fields */
    IC_API_AUTH_WRONG_SERVICE, /* scoped to a service not accepted here */
    IC_API_AUTH_UNKNOWN_KEY,   /* no credentials line for the access key */
    IC_API_AUTH_BAD_SIGNATURE  /* mismatch or expired */
} ic_api_auth_t;

/* Check req's SigV4 signature (header or presigned query). services: the
 * accepted credential-scope service names, NULL-terminated. On success
 * *principal is the access key ID (borrowed from cfg). On failure why
 * holds AWS's message for the client; unknown keys and mismatches are
 * logged ("<what> denied ... reason=..."). */
ic_api_auth_t ic__api_sigv4(const ic_config_t *cfg, const ic_http_request_t *req,
                            const char *const *services, const char *what,
                            const char **principal, char *why, size_t whylen);

/* The IoT policy a `credentials_policy` line gives the access key akid
 * (borrowed from cfg), or NULL: the key's callers are administrators. */
const char *ic__api_credentials_policy(const ic_config_t *cfg, const char *akid);

#endif
