/* api_auth.c - SigV4 against the `credentials` lines of the configuration
 * (aws-iot-auth.md 5.3): parse, check the scope's service, find the secret,
 * verify. Keeps no state; the HTTP errors are the caller's choice. */
#include "api_auth.h"

#include "iotcored/alloc.h"
#include "iotcored/clock.h"
#include "iotcored/log.h"
#include "iotcored/sigv4.h"
#include "iotcored/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The configured copy of the key ID (outlives the request), or NULL. */
static const char *key_of(const ic_config_t *cfg, const char *akid,
                          const char **secret) {
    size_t i;
    for (i = 0; i < cfg->credentials.n; i++)
        if (strcmp(cfg->credentials.v[2 * i], akid) == 0) {
            *secret = cfg->credentials.v[2 * i + 1];
            return cfg->credentials.v[2 * i];
        }
    return NULL;
}

const char *ic__api_credentials_policy(const ic_config_t *cfg, const char *akid) {
    size_t i;
    for (i = 0; akid && i < cfg->credentials_policy.n; i++)
        if (strcmp(cfg->credentials_policy.v[2 * i], akid) == 0)
            return cfg->credentials_policy.v[2 * i + 1];
    return NULL;
}

ic_api_auth_t ic__api_sigv4(const ic_config_t *cfg, const ic_http_request_t *req,
                            const char *const *services, const char *what,
                            const char **principal, char *why, size_t whylen) {
    ic_sigv4_auth_t *a = ic_xcalloc(1, sizeof(*a));
    const char *secret = NULL, *key;
    ic_sigv4_status_t st;
    ic_api_auth_t rc = IC_API_AUTH_OK;
    size_t i;
    why[0] = '\0';
    st = ic_sigv4_parse(req, a, why, whylen);
    if (st == IC_SIGV4_MISSING) {
        if (why[0] == '\0')
            ic_strlcpy(why, "Missing Authentication Token", whylen);
        rc = IC_API_AUTH_MISSING;
        goto out;
    }
    if (st != IC_SIGV4_OK) {
        rc = IC_API_AUTH_INCOMPLETE;
        goto out;
    }
    for (i = 0; services[i]; i++)
        if (strcmp(a->service, services[i]) == 0)
            break;
    if (services[i] == NULL) {
        snprintf(why, whylen,
                 "Credential should be scoped to correct service: '%s'. ",
                 services[0]);
        ic_log_info("http denied", "service=%s access_key=%s reason=\"signed for "
                    "service %s\"", what, a->access_key, a->service);
        rc = IC_API_AUTH_WRONG_SERVICE;
        goto out;
    }
    key = key_of(cfg, a->access_key, &secret);
    if (key == NULL) {
        ic_log_info("http denied", "service=%s access_key=%s reason=\"unknown "
                    "access key (add a credentials line)\"", what, a->access_key);
        ic_strlcpy(why, "The security token included in the request is invalid.",
                   whylen);
        rc = IC_API_AUTH_UNKNOWN_KEY;
        goto out;
    }
    st = ic_sigv4_verify(req, a, secret, ic_clock_wall_ms() / 1000, why, whylen);
    if (st != IC_SIGV4_OK) {
        ic_log_info("http denied", "service=%s access_key=%s reason=\"%s\"", what,
                    a->access_key, st == IC_SIGV4_EXPIRED ? why : "signature mismatch");
        rc = IC_API_AUTH_BAD_SIGNATURE;
        goto out;
    }
    *principal = key;
out:
    free(a);
    return rc;
}
