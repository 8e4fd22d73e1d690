/* ctl_authz.c - the control-plane answers to "why was this allowed or
 * denied": TestAuthorization and GetEffectivePolicies, with AWS's shapes.
 *
 * Both ask the same engine the broker uses for live connections
 * (iot/auth.c), for a principal given in the request, so the answer is the
 * one a device would get. No state of its own. Loop thread only.
 */
#include "ctl.h"

#include "iotcored/alloc.h"
#include "iotcored/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *action_of(const char *type) {
    if (strcmp(type, "PUBLISH") == 0)
        return "iot:Publish";
    if (strcmp(type, "SUBSCRIBE") == 0)
        return "iot:Subscribe";
    if (strcmp(type, "RECEIVE") == 0)
        return "iot:Receive";
    if (strcmp(type, "CONNECT") == 0)
        return "iot:Connect";
    return NULL;
}

static void policy_ref(ctl_t *c, cJSON *arr, const char *name) {
    cJSON *e = cJSON_CreateObject();
    char arn[512];
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "policyName");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) {
            cJSON_Delete(e);
            return;
        }
    }
    ic__ctl_arn(c, "policy", name, arn, sizeof(arn));
    cJSON_AddStringToObject(e, "policyName", name);
    cJSON_AddStringToObject(e, "policyArn", arn);
    cJSON_AddItemToArray(arr, e);
}

/* names of a JSON string array into out (borrowed), up to cap */
static size_t names_of(const cJSON *arr, const char **out, size_t cap) {
    const cJSON *it;
    size_t n = 0;
    cJSON_ArrayForEach(it, arr) {
        if (cJSON_IsString(it) && n < cap)
            out[n++] = it->valuestring;
    }
    return n;
}

CTL_HANDLER(ic__ctl_test_authorization) {
    ctl_t *c = data;
    cJSON *body = ic__ctl_body(call, resp), *o, *results;
    const cJSON *infos, *info;
    const char *principal = NULL, *add[16], *skip[16];
    char client_id[256];
    ic_auth_test_t t;
    if (body == NULL)
        return;
    if (!ic__ctl_opt_str(resp, body, "principal", &principal))
        goto out;
    infos = cJSON_GetObjectItemCaseSensitive(body, "authInfos");
    if (!cJSON_IsArray(infos) || cJSON_GetArraySize(infos) == 0) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value null at 'authInfos' "
                     "failed to satisfy constraint: Member must not be null");
        goto out;
    }
    memset(&t, 0, sizeof(t));
    if (principal) {
        t.cert_id = ic__ctl_cert_id_of(principal);
        if (t.cert_id == NULL) {
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "Principal %s is not a certificate ARN of this account "
                         "(Cognito identities are not emulated)", principal);
            goto out;
        }
    }
    if (ic__ctl_q_str(call, "clientId", client_id, sizeof(client_id)))
        t.client_id = client_id;
    t.add = add;
    t.n_add = names_of(cJSON_GetObjectItemCaseSensitive(body, "policyNamesToAdd"),
                       add, 16);
    t.skip = skip;
    t.n_skip = names_of(cJSON_GetObjectItemCaseSensitive(body,
                                                         "policyNamesToSkip"),
                        skip, 16);
    o = cJSON_CreateObject();
    results = cJSON_AddArrayToObject(o, "authResults");
    cJSON_ArrayForEach(info, infos) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(info, "actionType");
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(info, "resources"), *r;
        const char *action = cJSON_IsString(type) ? action_of(type->valuestring)
                                                  : NULL;
        cJSON *e, *allowed, *denied, *implicit, *explicit_, *missing;
        ic_authz_t overall = IC_AUTHZ_ALLOWED;
        if (action == NULL) {
            cJSON_Delete(o);
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "1 validation error detected: Value at "
                         "'authInfos.member.actionType' failed to satisfy "
                         "constraint: Member must satisfy enum value set: "
                         "[PUBLISH, SUBSCRIBE, RECEIVE, CONNECT]");
            goto out;
        }
        e = cJSON_CreateObject();
        cJSON_AddItemToObject(e, "authInfo", cJSON_Duplicate(info, true));
        allowed = cJSON_AddObjectToObject(e, "allowed");
        cJSON *allowed_p = cJSON_AddArrayToObject(allowed, "policies");
        denied = cJSON_AddObjectToObject(e, "denied");
        implicit = cJSON_AddArrayToObject(cJSON_AddObjectToObject(denied,
                                                                  "implicitDeny"),
                                          "policies");
        explicit_ = cJSON_AddArrayToObject(cJSON_AddObjectToObject(denied,
                                                                   "explicitDeny"),
                                           "policies");
        missing = cJSON_CreateArray();
        cJSON_ArrayForEach(r, res) {
            ic_policy_why_t why;
            char pol[160];
            ic_authz_t d;
            if (!cJSON_IsString(r))
                continue;
            d = ic_auth_test(c->env->auth, &t, action, r->valuestring, &why, pol,
                             sizeof(pol));
            if (why.unresolved[0]) {
                const cJSON *m;
                bool dup = false;
                cJSON_ArrayForEach(m, missing) dup =
                    dup || strcmp(m->valuestring, why.unresolved) == 0;
                if (!dup)
                    cJSON_AddItemToArray(missing, cJSON_CreateString(why.unresolved));
            }
            if (d == IC_AUTHZ_ALLOWED && pol[0])
                policy_ref(c, allowed_p, pol);
            else if (d == IC_AUTHZ_EXPLICIT_DENY) {
                if (pol[0])
                    policy_ref(c, explicit_, pol);
                overall = IC_AUTHZ_EXPLICIT_DENY;
            } else if (d == IC_AUTHZ_IMPLICIT_DENY) {
                const char *names[64];
                size_t n = ic_auth_effective(c->env->auth, t.cert_id, NULL,
                                             names, 64), i;
                for (i = 0; i < n && i < 64; i++)
                    policy_ref(c, implicit, names[i]);
                if (overall == IC_AUTHZ_ALLOWED)
                    overall = IC_AUTHZ_IMPLICIT_DENY;
            }
        }
        cJSON_AddStringToObject(e, "authDecision", ic_authz_name(overall));
        cJSON_AddItemToObject(e, "missingContextValues", missing);
        cJSON_AddItemToArray(results, e);
    }
    ic_http_json(resp, o);
out:
    cJSON_Delete(body);
}

CTL_HANDLER(ic__ctl_get_effective_policies) {
    ctl_t *c = data;
    cJSON *body = ic__ctl_body(call, resp), *o, *arr;
    const char *principal = NULL, *cert_id = NULL, *names[64];
    char thing[160];
    bool has_thing;
    size_t n, i;
    if (body == NULL)
        return;
    if (!ic__ctl_opt_str(resp, body, "principal", &principal))
        goto out;
    if (principal && (cert_id = ic__ctl_cert_id_of(principal)) == NULL) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Principal %s is not a certificate ARN of this account",
                     principal);
        goto out;
    }
    has_thing = ic__ctl_q_str(call, "thingName", thing, sizeof(thing));
    if (has_thing && ic_things_get(c->things, thing) == NULL) {
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "Thing %s cannot be found.", thing);
        goto out;
    }
    n = ic_auth_effective(c->env->auth, cert_id, has_thing ? thing : NULL, names,
                          64);
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "effectivePolicies");
    for (i = 0; i < n && i < 64; i++) {
        const ic_policy_t *p = ic_policies_get(c->policies, names[i]);
        const ic_policy_version_t *v =
            p ? ic_policies_get_version(p, p->default_version) : NULL;
        cJSON *e = cJSON_CreateObject();
        char arn[512];
        ic__ctl_arn(c, "policy", names[i], arn, sizeof(arn));
        cJSON_AddStringToObject(e, "policyName", names[i]);
        cJSON_AddStringToObject(e, "policyArn", arn);
        cJSON_AddStringToObject(e, "policyDocument", v ? v->document : "");
        cJSON_AddItemToArray(arr, e);
    }
    ic_http_json(resp, o);
out:
    cJSON_Delete(body);
}
