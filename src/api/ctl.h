/* ctl.h - internals shared by the control-plane files (api/control.c and
 * the api/ctl_*.c handler files). Not a module contract: only api/ includes
 * it. */
#ifndef IOTCORED_API_CTL_H
#define IOTCORED_API_CTL_H

#include "iotcored/control.h"
#include "iotcored/http.h"
#include "iotcored/policies.h"
#include "iotcored/proto.h"
#include "iotcored/registry.h"
#include "iotcored/things.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

struct ic_control_s {
    ic_broker_t *b;
    ic_registry_t *registry;  /* borrowed from the MQTT engine */
    ic_things_t *things;
    ic_policies_t *policies;
    ic_proto_env_t *env;      /* to drop connections of revoked certificates */
    ic_http_service_t svc;
    int64_t started_ms;
    bool warned_no_auth;
};

typedef struct ic_control_s ctl_t;

/* ---- shared helpers (control.c) ---------------------------------------------- */

/* "arn:aws:iot:<region>:<account>:<kind>/<name>" into out. */
void ic__ctl_arn(const ctl_t *c, const char *kind, const char *name, char *out,
                 size_t cap);
/* The certificate ID in a certificate ARN (or a bare ID), or NULL. */
const char *ic__ctl_cert_id_of(const char *principal_or_arn);
/* The JSON body as an object ({} when empty); NULL after answering 400. */
cJSON *ic__ctl_body(const ic_http_call_t *call, ic_http_resp_t *resp);
/* Validation, with AWS's "1 validation error detected: ..." message on
 * failure (resp answered, false returned). */
bool ic__ctl_check_name(ic_http_resp_t *resp, const char *field,
                        const char *value);
bool ic__ctl_check_policy_name(ic_http_resp_t *resp, const char *value);
bool ic__ctl_check_cert_id(ic_http_resp_t *resp, const char *field,
                           const char *value);
/* Optional string member of o (NULL if absent); a non-string answers 400. */
bool ic__ctl_opt_str(ic_http_resp_t *resp, const cJSON *o, const char *key,
                     const char **out);
/* Query helpers: *out set when present. Bad values answer 400. */
bool ic__ctl_q_bool(const ic_http_call_t *call, ic_http_resp_t *resp,
                    const char *key, bool *out);
bool ic__ctl_q_int(const ic_http_call_t *call, ic_http_resp_t *resp,
                   const char *key, long min, long max, long *out);
/* Query string value (decoded) into out, or false if absent. */
bool ic__ctl_q_str(const ic_http_call_t *call, const char *key, char *out,
                   size_t cap);
/* Pagination: tokens are base64 of the last key returned. Decode the
 * request's token (query key) into after ("" if none); false after answering
 * 400 for a bad token. */
bool ic__ctl_q_token(const ic_http_call_t *call, ic_http_resp_t *resp,
                     const char *key, char *after, size_t cap);
/* Add "<key>": base64(last) to o. */
void ic__ctl_add_token(cJSON *o, const char *key, const char *last);
/* Epoch seconds (with ms) as AWS rest-json timestamps. */
void ic__ctl_add_time(cJSON *o, const char *key, int64_t ms);
/* Parse a JSON sub-object from a stored JSON text. */
cJSON *ic__ctl_parse_stored(const char *json);

int64_t ic__ctl_now_ms(void);
/* qsort comparator for arrays of C strings. */
int ic__ctl_cmp_name(const void *a, const void *b);

/* ---- handlers (ctl_things.c, ctl_certs.c, ctl_policies.c) --------------------- */

#define CTL_HANDLER(name)                                                      \
    void name(const ic_http_call_t *call, ic_http_resp_t *resp, void *data)

CTL_HANDLER(ic__ctl_create_thing);
CTL_HANDLER(ic__ctl_describe_thing);
CTL_HANDLER(ic__ctl_update_thing);
CTL_HANDLER(ic__ctl_delete_thing);
CTL_HANDLER(ic__ctl_list_things);
CTL_HANDLER(ic__ctl_create_thing_type);
CTL_HANDLER(ic__ctl_describe_thing_type);
CTL_HANDLER(ic__ctl_deprecate_thing_type);
CTL_HANDLER(ic__ctl_delete_thing_type);
CTL_HANDLER(ic__ctl_list_thing_types);
CTL_HANDLER(ic__ctl_create_thing_group);
CTL_HANDLER(ic__ctl_describe_thing_group);
CTL_HANDLER(ic__ctl_update_thing_group);
CTL_HANDLER(ic__ctl_delete_thing_group);
CTL_HANDLER(ic__ctl_list_thing_groups);
CTL_HANDLER(ic__ctl_add_thing_to_group);
CTL_HANDLER(ic__ctl_remove_thing_from_group);
CTL_HANDLER(ic__ctl_list_things_in_group);
CTL_HANDLER(ic__ctl_list_groups_for_thing);
CTL_HANDLER(ic__ctl_attach_thing_principal);
CTL_HANDLER(ic__ctl_detach_thing_principal);
CTL_HANDLER(ic__ctl_list_thing_principals);
CTL_HANDLER(ic__ctl_list_principal_things);

CTL_HANDLER(ic__ctl_create_keys_and_cert);
CTL_HANDLER(ic__ctl_create_cert_from_csr);
CTL_HANDLER(ic__ctl_register_cert);
CTL_HANDLER(ic__ctl_register_cert_without_ca);
CTL_HANDLER(ic__ctl_describe_cert);
CTL_HANDLER(ic__ctl_update_cert);
CTL_HANDLER(ic__ctl_delete_cert);
CTL_HANDLER(ic__ctl_list_certs);
CTL_HANDLER(ic__ctl_list_certs_by_ca);
CTL_HANDLER(ic__ctl_get_registration_code);
CTL_HANDLER(ic__ctl_register_ca);
CTL_HANDLER(ic__ctl_describe_ca);
CTL_HANDLER(ic__ctl_update_ca);
CTL_HANDLER(ic__ctl_delete_ca);
CTL_HANDLER(ic__ctl_list_cas);

CTL_HANDLER(ic__ctl_create_policy);
CTL_HANDLER(ic__ctl_get_policy);
CTL_HANDLER(ic__ctl_delete_policy);
CTL_HANDLER(ic__ctl_list_policies);
CTL_HANDLER(ic__ctl_create_policy_version);
CTL_HANDLER(ic__ctl_get_policy_version);
CTL_HANDLER(ic__ctl_list_policy_versions);
CTL_HANDLER(ic__ctl_delete_policy_version);
CTL_HANDLER(ic__ctl_set_default_policy_version);
CTL_HANDLER(ic__ctl_attach_policy);
CTL_HANDLER(ic__ctl_detach_policy);
CTL_HANDLER(ic__ctl_list_attached_policies);
CTL_HANDLER(ic__ctl_list_targets_for_policy);

CTL_HANDLER(ic__ctl_test_authorization);
/* metrics.c */
CTL_HANDLER(ic__ctl_metrics);
/* The /metrics counters as JSON members of o (/iotcored/status), and each
 * entry of listeners (objects with "name") given its "connections". */
void ic__ctl_counters_json(ctl_t *c, cJSON *o, cJSON *listeners);
/* ctl_rules.c */
CTL_HANDLER(ic__ctl_create_topic_rule);
CTL_HANDLER(ic__ctl_replace_topic_rule);
CTL_HANDLER(ic__ctl_get_topic_rule);
CTL_HANDLER(ic__ctl_list_topic_rules);
CTL_HANDLER(ic__ctl_enable_topic_rule);
CTL_HANDLER(ic__ctl_disable_topic_rule);
CTL_HANDLER(ic__ctl_delete_topic_rule);
CTL_HANDLER(ic__ctl_get_effective_policies);
/* ctl_authorizers.c */
CTL_HANDLER(ic__ctl_create_authorizer);
CTL_HANDLER(ic__ctl_describe_authorizer);
CTL_HANDLER(ic__ctl_update_authorizer);
CTL_HANDLER(ic__ctl_delete_authorizer);
CTL_HANDLER(ic__ctl_list_authorizers);
CTL_HANDLER(ic__ctl_set_default_authorizer);
CTL_HANDLER(ic__ctl_describe_default_authorizer);
CTL_HANDLER(ic__ctl_clear_default_authorizer);
CTL_HANDLER(ic__ctl_test_invoke_authorizer);

/* Used by the seed file too: the same rules as the API. */
int ic__ctl_seed_apply(ctl_t *c, const char *path, char *err, size_t errlen);

#endif
