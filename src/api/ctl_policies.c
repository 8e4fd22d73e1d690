/* ctl_policies.c - control-plane operations on IoT policies, their
 * versions and attachments (AWS IoT API: CreatePolicy ...
 * ListTargetsForPolicy).
 *
 * Turns requests into calls on the policy store (iot/policies.c) and its
 * answers into AWS's shapes and errors. Targets are kept in one canonical
 * form (this account's certificate or thing-group ARN) so that lookups by
 * certificate work however the caller spelled the ARN. No state of its
 * own. Loop thread only.
 */
#include "ctl.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/policy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PAGE 25
#define MAX_PAGE 250


static void policy_arn(ctl_t *c, const char *name, char *out, size_t cap) {
    ic__ctl_arn(c, "policy", name, out, cap);
}

static void add_version_id(cJSON *o, const char *key, int64_t id) {
    char v[32];
    snprintf(v, sizeof(v), "%" PRId64, id);
    cJSON_AddStringToObject(o, key, v);
}

static const char *doc_of(ic_http_resp_t *resp, const cJSON *body) {
    const char *doc = NULL;
    char why[256];
    if (!ic__ctl_opt_str(resp, body, "policyDocument", &doc))
        return NULL;
    if (doc == NULL) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value null at "
                     "'policyDocument' failed to satisfy constraint: Member must "
                     "not be null");
        return NULL;
    }
    if (ic_policies_check_document(doc, why, sizeof(why)) != 0) {
        ic_http_fail(resp, IC_HTTP_E_MALFORMED_POLICY, "%s", why);
        return NULL;
    }
    {
        /* the policy language itself: the engine names the JSON path */
        ic_policy_doc_t *d = ic_policy_compile(doc, why, sizeof(why));
        if (d == NULL) {
            ic_http_fail(resp, IC_HTTP_E_MALFORMED_POLICY, "%s", why);
            return NULL;
        }
        ic_policy_doc_free(d);
    }
    return doc;
}

static const ic_policy_t *policy_or_404(ctl_t *c, const ic_http_call_t *call,
                                        ic_http_resp_t *resp) {
    const char *name = ic_http_label(call, "policyName");
    const ic_policy_t *p;
    if (!ic__ctl_check_policy_name(resp, name))
        return NULL;
    p = ic_policies_get(c->policies, name);
    if (p == NULL)
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "Policy not found");
    return p;
}

CTL_HANDLER(ic__ctl_create_policy) {
    ctl_t *c = data;
    const char *name = ic_http_label(call, "policyName"), *doc;
    cJSON *body, *o;
    char why[256], arn[512];
    int rc;
    if (!ic__ctl_check_policy_name(resp, name) ||
        (body = ic__ctl_body(call, resp)) == NULL)
        return;
    if ((doc = doc_of(resp, body)) == NULL)
        goto out;
    rc = ic_policies_create(c->policies, name, doc, ic__ctl_now_ms(), why,
                            sizeof(why));
    if (rc == IC_EEXIST) {
        ic_http_fail(resp, IC_HTTP_E_ALREADY_EXISTS,
                     "Policy cannot be created - name already exists (name=%s)",
                     name);
        goto out;
    }
    if (rc != 0) {
        ic_http_fail(resp, rc == IC_EMALFORMED ? IC_HTTP_E_MALFORMED_POLICY
                                               : IC_HTTP_E_INVALID_REQUEST,
                     "%s", why);
        goto out;
    }
    policy_arn(c, name, arn, sizeof(arn));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "policyName", name);
    cJSON_AddStringToObject(o, "policyArn", arn);
    cJSON_AddStringToObject(o, "policyDocument", doc);
    cJSON_AddStringToObject(o, "policyVersionId", "1");
    ic_http_json(resp, o);
out:
    cJSON_Delete(body);
}

CTL_HANDLER(ic__ctl_get_policy) {
    ctl_t *c = data;
    const ic_policy_t *p = policy_or_404(c, call, resp);
    const ic_policy_version_t *v;
    char arn[512], gen[32];
    cJSON *o;
    if (p == NULL)
        return;
    v = ic_policies_get_version(p, p->default_version);
    policy_arn(c, p->name, arn, sizeof(arn));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "policyName", p->name);
    cJSON_AddStringToObject(o, "policyArn", arn);
    cJSON_AddStringToObject(o, "policyDocument", v ? v->document : "");
    add_version_id(o, "defaultVersionId", p->default_version);
    ic__ctl_add_time(o, "creationDate", p->created_ms);
    ic__ctl_add_time(o, "lastModifiedDate", p->updated_ms);
    snprintf(gen, sizeof(gen), "%" PRId64, p->updated_ms);
    cJSON_AddStringToObject(o, "generationId", gen);
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_delete_policy) {
    ctl_t *c = data;
    const ic_policy_t *p = policy_or_404(c, call, resp);
    char why[256];
    int rc;
    if (p == NULL)
        return;
    rc = ic_policies_delete(c->policies, p->name, why, sizeof(why));
    if (rc == IC_ECONFLICT)
        ic_http_fail(resp, IC_HTTP_E_DELETE_CONFLICT, "%s", why);
    else if (rc != 0)
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "%s", why);
    else
        ic_http_json(resp, cJSON_CreateObject());
}

static void policy_ref(ctl_t *c, cJSON *arr, const char *name) {
    cJSON *e = cJSON_CreateObject();
    char arn[512];
    policy_arn(c, name, arn, sizeof(arn));
    cJSON_AddStringToObject(e, "policyName", name);
    cJSON_AddStringToObject(e, "policyArn", arn);
    cJSON_AddItemToArray(arr, e);
}

/* names sorted ascending; asc=false pages from the end. marker = base64 of
 * the last name returned. */
static void page_names(ctl_t *c, const ic_http_call_t *call, ic_http_resp_t *resp,
                       const char **names, size_t n, const char *list_key,
                       bool as_policies) {
    long page = DEFAULT_PAGE;
    bool asc = true;
    char marker[256];
    size_t i, k = 0;
    const char *last = NULL;
    cJSON *o, *arr;
    if (!ic__ctl_q_int(call, resp, "pageSize", 1, MAX_PAGE, &page) ||
        !ic__ctl_q_bool(call, resp, "isAscendingOrder", &asc) ||
        !ic__ctl_q_token(call, resp, "marker", marker, sizeof(marker)))
        return;
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, list_key);
    for (i = 0; i < n; i++) {
        const char *name = asc ? names[i] : names[n - 1 - i];
        if (marker[0] && (asc ? strcmp(name, marker) <= 0 : strcmp(name, marker) >= 0))
            continue;
        if ((long)k == page) {
            ic__ctl_add_token(o, "nextMarker", last);
            break;
        }
        if (as_policies)
            policy_ref(c, arr, name);
        else
            cJSON_AddItemToArray(arr, cJSON_CreateString(name));
        last = name;
        k++;
    }
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_list_policies) {
    ctl_t *c = data;
    size_t n = ic_policies_count(c->policies), i;
    const ic_policy_t **all = ic_xmalloc((n + 1) * sizeof(*all));
    const char **names = ic_xmalloc((n + 1) * sizeof(*names));
    n = ic_policies_list(c->policies, NULL, all, n);
    for (i = 0; i < n; i++)
        names[i] = all[i]->name;
    page_names(c, call, resp, names, n, "policies", true);
    free(names);
    free(all);
}

/* ---- versions --------------------------------------------------------------------------- */

CTL_HANDLER(ic__ctl_create_policy_version) {
    ctl_t *c = data;
    const ic_policy_t *p = policy_or_404(c, call, resp);
    const char *doc;
    bool set_default = false;
    int64_t id = 0;
    char why[256], arn[512];
    cJSON *body, *o;
    int rc;
    if (p == NULL || !ic__ctl_q_bool(call, resp, "setAsDefault", &set_default) ||
        (body = ic__ctl_body(call, resp)) == NULL)
        return;
    if ((doc = doc_of(resp, body)) == NULL)
        goto out;
    rc = ic_policies_create_version(c->policies, p->name, doc, set_default,
                                    ic__ctl_now_ms(), &id, why, sizeof(why));
    if (rc == IC_ELIMIT) {
        ic_http_fail(resp, IC_HTTP_E_VERSIONS_LIMIT,
                     "The policy %s already has the maximum number of versions "
                     "(5)", ic_http_label(call, "policyName"));
        goto out;
    }
    if (rc != 0) {
        ic_http_fail(resp, rc == IC_EMALFORMED ? IC_HTTP_E_MALFORMED_POLICY
                                               : IC_HTTP_E_INVALID_REQUEST,
                     "%s", why);
        goto out;
    }
    p = ic_policies_get(c->policies, ic_http_label(call, "policyName"));
    policy_arn(c, p->name, arn, sizeof(arn));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "policyArn", arn);
    cJSON_AddStringToObject(o, "policyDocument", doc);
    add_version_id(o, "policyVersionId", id);
    cJSON_AddBoolToObject(o, "isDefaultVersion", p->default_version == id);
    ic_http_json(resp, o);
out:
    cJSON_Delete(body);
}

static const ic_policy_version_t *version_or_404(const ic_policy_t *p,
                                                 const ic_http_call_t *call,
                                                 ic_http_resp_t *resp) {
    const char *vs = ic_http_label(call, "policyVersionId");
    const ic_policy_version_t *v = NULL;
    char *end;
    long long id = strtoll(vs, &end, 10);
    if (*end != '\0' || vs[0] < '0' || vs[0] > '9') {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value '%s' at "
                     "'policyVersionId' failed to satisfy constraint: Member must "
                     "satisfy regular expression pattern: [0-9]+", vs);
        return NULL;
    }
    v = ic_policies_get_version(p, id);
    if (v == NULL)
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "Policy version not found");
    return v;
}

CTL_HANDLER(ic__ctl_get_policy_version) {
    ctl_t *c = data;
    const ic_policy_t *p = policy_or_404(c, call, resp);
    const ic_policy_version_t *v;
    char arn[512], gen[32];
    cJSON *o;
    if (p == NULL || (v = version_or_404(p, call, resp)) == NULL)
        return;
    policy_arn(c, p->name, arn, sizeof(arn));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "policyArn", arn);
    cJSON_AddStringToObject(o, "policyName", p->name);
    cJSON_AddStringToObject(o, "policyDocument", v->document);
    add_version_id(o, "policyVersionId", v->id);
    cJSON_AddBoolToObject(o, "isDefaultVersion", p->default_version == v->id);
    ic__ctl_add_time(o, "creationDate", v->created_ms);
    ic__ctl_add_time(o, "lastModifiedDate", v->created_ms);
    snprintf(gen, sizeof(gen), "%" PRId64, v->created_ms);
    cJSON_AddStringToObject(o, "generationId", gen);
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_list_policy_versions) {
    ctl_t *c = data;
    const ic_policy_t *p = policy_or_404(c, call, resp);
    cJSON *o, *arr;
    size_t i;
    if (p == NULL)
        return;
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "policyVersions");
    for (i = p->n_versions; i-- > 0;) { /* newest first, as AWS lists them */
        cJSON *e = cJSON_CreateObject();
        add_version_id(e, "versionId", p->versions[i].id);
        cJSON_AddBoolToObject(e, "isDefaultVersion",
                              p->versions[i].id == p->default_version);
        ic__ctl_add_time(e, "createDate", p->versions[i].created_ms);
        cJSON_AddItemToArray(arr, e);
    }
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_delete_policy_version) {
    ctl_t *c = data;
    const ic_policy_t *p = policy_or_404(c, call, resp);
    const ic_policy_version_t *v;
    char why[256];
    int rc;
    if (p == NULL || (v = version_or_404(p, call, resp)) == NULL)
        return;
    if (v->id == p->default_version) {
        ic_http_fail(resp, IC_HTTP_E_DELETE_CONFLICT,
                     "Cannot delete the default version of a policy");
        return;
    }
    rc = ic_policies_delete_version(c->policies, p->name, v->id, why, sizeof(why));
    if (rc != 0)
        ic_http_fail(resp, IC_HTTP_E_DELETE_CONFLICT, "%s", why);
    else
        ic_http_json(resp, cJSON_CreateObject());
}

CTL_HANDLER(ic__ctl_set_default_policy_version) {
    ctl_t *c = data;
    const ic_policy_t *p = policy_or_404(c, call, resp);
    const ic_policy_version_t *v;
    if (p == NULL || (v = version_or_404(p, call, resp)) == NULL)
        return;
    ic_policies_set_default(c->policies, p->name, v->id, ic__ctl_now_ms());
    ic_log_info("policy default version", "policy=%s version=%" PRId64, p->name,
                v->id);
    ic_http_json(resp, cJSON_CreateObject());
}

/* ---- attachments ------------------------------------------------------------------------- */

/* A target in canonical form: this account's certificate ARN for a
 * certificate (ARN or bare ID), this account's thing-group ARN for a group.
 * false after answering. */
static bool canonical_target(ctl_t *c, const char *target, char *out, size_t cap,
                             ic_http_resp_t *resp, bool must_exist) {
    const char *id = ic__ctl_cert_id_of(target), *g = strstr(target, ":thinggroup/");
    if (id) {
        ic__ctl_arn(c, "cert", id, out, cap);
        if (must_exist && !ic_registry_get(c->registry, id, &(ic_cert_info_t){0})) {
            ic_http_fail(resp, IC_HTTP_E_NOT_FOUND,
                         "The certificate given in the principal does not exist.");
            return false;
        }
        return true;
    }
    if (g && strncmp(target, "arn:", 4) == 0) {
        ic__ctl_arn(c, "thinggroup", g + 12, out, cap);
        if (must_exist &&
            !ic_things_get_group(c->things, g + 12, &(ic_thing_group_t){0})) {
            ic_http_fail(resp, IC_HTTP_E_NOT_FOUND,
                         "Thing Group %s cannot be found.", g + 12);
            return false;
        }
        return true;
    }
    ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                 "Target %s is not a certificate or thing group ARN (Cognito "
                 "identities are not emulated)", target);
    return false;
}

static void attach(const ic_http_call_t *call, ic_http_resp_t *resp, ctl_t *c,
                   bool on) {
    const ic_policy_t *p = policy_or_404(c, call, resp);
    cJSON *body;
    const char *target = NULL;
    char canon[512];
    if (p == NULL || (body = ic__ctl_body(call, resp)) == NULL)
        return;
    if (!ic__ctl_opt_str(resp, body, "target", &target))
        goto out;
    if (target == NULL) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value null at 'target' failed "
                     "to satisfy constraint: Member must not be null");
        goto out;
    }
    if (!canonical_target(c, target, canon, sizeof(canon), resp, on))
        goto out;
    if (on)
        ic_policies_attach(c->policies, p->name, canon);
    else
        ic_policies_detach(c->policies, p->name, canon);
    ic_log_info(on ? "policy attached" : "policy detached", "policy=%s target=%s",
                p->name, canon);
    ic_http_json(resp, cJSON_CreateObject());
out:
    cJSON_Delete(body);
}

CTL_HANDLER(ic__ctl_attach_policy) {
    attach(call, resp, data, true);
}

CTL_HANDLER(ic__ctl_detach_policy) {
    attach(call, resp, data, false);
}

CTL_HANDLER(ic__ctl_list_attached_policies) {
    ctl_t *c = data;
    const char *target = ic_http_label(call, "target");
    char canon[512];
    const char **names;
    size_t n;
    bool recursive = false;
    if (!ic__ctl_q_bool(call, resp, "recursive", &recursive) ||
        !canonical_target(c, target, canon, sizeof(canon), resp, true))
        return;
    n = ic_policies_of_target(c->policies, canon, NULL, 0);
    names = ic_xmalloc((n + 1) * sizeof(*names));
    n = ic_policies_of_target(c->policies, canon, names, n);
    if (recursive && strstr(canon, ":thinggroup/")) {
        /* a group inherits its ancestors' policies */
        ic_thing_group_t g;
        const char *at = strstr(canon, ":thinggroup/") + 12;
        int guard = 0;
        char parc[512];
        if (ic_things_get_group(c->things, at, &g))
            while (g.parent && guard++ < 16 &&
                   ic_things_get_group(c->things, g.parent, &g)) {
                size_t more;
                ic__ctl_arn(c, "thinggroup", g.name, parc, sizeof(parc));
                more = ic_policies_of_target(c->policies, parc, NULL, 0);
                names = ic_xrealloc(names, (n + more + 1) * sizeof(*names));
                n += ic_policies_of_target(c->policies, parc, names + n, more);
            }
    }
    if (recursive) { /* inherited ones: one sorted list without repeats */
        size_t i, k = 0;
        qsort(names, n, sizeof(*names), ic__ctl_cmp_name);
        for (i = 0; i < n; i++)
            if (k == 0 || strcmp(names[k - 1], names[i]) != 0)
                names[k++] = names[i];
        n = k;
    }
    page_names(c, call, resp, names, n, "policies", true);
    free(names);
}

CTL_HANDLER(ic__ctl_list_targets_for_policy) {
    ctl_t *c = data;
    const ic_policy_t *p = policy_or_404(c, call, resp);
    const char **targets;
    size_t n;
    if (p == NULL)
        return;
    n = ic_policies_targets(c->policies, p->name, NULL, 0);
    targets = ic_xmalloc((n + 1) * sizeof(*targets));
    n = ic_policies_targets(c->policies, p->name, targets, n);
    page_names(c, call, resp, targets, n, "targets", false);
    free(targets);
}
