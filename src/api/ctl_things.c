/* ctl_things.c - control-plane operations on things, thing types, thing
 * groups and principal attachments (AWS IoT API: CreateThing ...
 * ListPrincipalThings).
 *
 * Turns requests into calls on the thing registry (iot/things.c) and its
 * answers into AWS's response shapes and error types/messages. It holds no
 * state and no rules of its own beyond request validation: naming, limits
 * and exclusivity are the registry's. Loop thread only.
 */
#include "ctl.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PAGE 50
#define MAX_PAGE 250

/* ---- helpers ---------------------------------------------------------------------- */


/* attributePayload {attributes: {k: v}, merge} into attrs (borrowed from
 * the JSON). Returns the count or -1 after answering 400. */
static long attrs_of(const cJSON *payload, ic_attr_t *attrs, size_t cap,
                     bool *merge, ic_http_resp_t *resp) {
    const cJSON *a, *it, *m;
    size_t n = 0;
    if (merge)
        *merge = false;
    if (payload == NULL || cJSON_IsNull(payload))
        return 0;
    if (!cJSON_IsObject(payload)) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "attributePayload must be an object");
        return -1;
    }
    m = cJSON_GetObjectItemCaseSensitive(payload, "merge");
    if (merge && cJSON_IsBool(m))
        *merge = cJSON_IsTrue(m);
    a = cJSON_GetObjectItemCaseSensitive(payload, "attributes");
    if (a == NULL || cJSON_IsNull(a))
        return 0;
    if (!cJSON_IsObject(a)) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "attributePayload.attributes must be a map of strings");
        return -1;
    }
    cJSON_ArrayForEach(it, a) {
        if (!cJSON_IsString(it)) {
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "attribute %s must be a string", it->string);
            return -1;
        }
        if (n == cap) {
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "too many attributes (at most %zu)", cap);
            return -1;
        }
        attrs[n].key = it->string;
        attrs[n].value = it->valuestring;
        n++;
    }
    return (long)n;
}

static cJSON *attrs_json(const ic_thing_t *th) {
    cJSON *o = cJSON_CreateObject();
    size_t i;
    for (i = 0; i < th->n_attrs; i++)
        cJSON_AddStringToObject(o, th->attrs[i].key, th->attrs[i].value);
    return o;
}

/* Map a registry error to AWS's type; msg is the AWS text (or why). */
static void fail_rc(ic_http_resp_t *resp, int rc, const char *why) {
    ic_http_err_t e = rc == IC_ENOTFOUND   ? IC_HTTP_E_NOT_FOUND
                      : rc == IC_EEXIST    ? IC_HTTP_E_ALREADY_EXISTS
                      : rc == IC_ECONFLICT ? IC_HTTP_E_INVALID_REQUEST
                      : rc == IC_ESTORE    ? IC_HTTP_E_INTERNAL
                                           : IC_HTTP_E_INVALID_REQUEST;
    ic_http_fail(resp, e, "%s", why);
}

/* Page through sorted names: from the first > after, up to max. */
static size_t page_start(const char **names, size_t n, const char *after) {
    size_t i = 0;
    if (after && after[0])
        while (i < n && strcmp(names[i], after) <= 0)
            i++;
    return i;
}

/* Sort names, then write the page after `after` (at most max, repeats
 * once) as list_key of o, with nextToken when more follow. */
static void emit_page(ctl_t *c, cJSON *o, const char *list_key,
                      const char **names, size_t n, const char *after, long max,
                      void (*emit)(ctl_t *c, cJSON *arr, const char *name)) {
    cJSON *arr = cJSON_AddArrayToObject(o, list_key);
    const char *last = NULL;
    size_t i;
    long k = 0;
    if (n > 0)
        qsort(names, n, sizeof(*names), ic__ctl_cmp_name);
    for (i = page_start(names, n, after); i < n; i++) {
        if (last && strcmp(last, names[i]) == 0)
            continue; /* e.g. a thing in two subgroups of a hierarchy */
        if (k == max) {
            ic__ctl_add_token(o, "nextToken", last);
            break;
        }
        emit(c, arr, names[i]);
        last = names[i];
        k++;
    }
}

static void emit_string(ctl_t *c, cJSON *arr, const char *name) {
    (void)c;
    cJSON_AddItemToArray(arr, cJSON_CreateString(name));
}

static void emit_cert_arn(ctl_t *c, cJSON *arr, const char *id) {
    char arn[512];
    ic__ctl_arn(c, "cert", id, arn, sizeof(arn));
    cJSON_AddItemToArray(arr, cJSON_CreateString(arn));
}

static bool page_args(const ic_http_call_t *call, ic_http_resp_t *resp,
                      long *max, char *after, size_t cap) {
    *max = DEFAULT_PAGE;
    return ic__ctl_q_int(call, resp, "maxResults", 1, MAX_PAGE, max) &&
           ic__ctl_q_token(call, resp, "nextToken", after, cap);
}

/* Names of all things/groups/types, sorted; caller frees. */
static const char **all_names(size_t (*list)(const ic_things_t *, const char **,
                                             size_t),
                              const ic_things_t *t, size_t *n) {
    size_t total = list(t, NULL, 0);
    const char **v = ic_xmalloc((total + 1) * sizeof(*v));
    *n = list(t, v, total);
    return v;
}

static void group_ref(ctl_t *c, cJSON *arr, const char *name) {
    cJSON *g = cJSON_CreateObject();
    char arn[512];
    ic__ctl_arn(c, "thinggroup", name, arn, sizeof(arn));
    cJSON_AddStringToObject(g, "groupName", name);
    cJSON_AddStringToObject(g, "groupArn", arn);
    cJSON_AddItemToArray(arr, g);
}

/* ---- things ----------------------------------------------------------------------- */

CTL_HANDLER(ic__ctl_create_thing) {
    ctl_t *c = data;
    const char *name = ic_http_label(call, "thingName"), *type = NULL;
    ic_attr_t attrs[64];
    char why[512], arn[512];
    cJSON *body, *o;
    const ic_thing_t *th;
    long n;
    int rc;
    if (!ic__ctl_check_name(resp, "thingName", name) ||
        (body = ic__ctl_body(call, resp)) == NULL)
        return;
    if (!ic__ctl_opt_str(resp, body, "thingTypeName", &type) ||
        (n = attrs_of(cJSON_GetObjectItemCaseSensitive(body, "attributePayload"),
                      attrs, 64, NULL, resp)) < 0)
        goto out;
    if (type && !ic_things_get_type(c->things, type, &(ic_thing_type_t){0})) {
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "Thing Type %s cannot be found.",
                     type);
        goto out;
    }
    rc = ic_things_create(c->things, name, type, attrs, (size_t)n,
                          ic__ctl_now_ms(), why, sizeof(why));
    if (rc == IC_EEXIST) {
        ic_http_fail(resp, IC_HTTP_E_ALREADY_EXISTS,
                     "Thing %s already exists in account with different "
                     "attributes", name);
        goto out;
    }
    if (rc == IC_EPROTO) { /* AWS's own spelling */
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Can not create new thing with depreated thing type:%s",
                     type);
        goto out;
    }
    if (rc != 0) {
        fail_rc(resp, rc, why);
        goto out;
    }
    th = ic_things_get(c->things, name);
    ic__ctl_arn(c, "thing", name, arn, sizeof(arn));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "thingName", name);
    cJSON_AddStringToObject(o, "thingArn", arn);
    cJSON_AddStringToObject(o, "thingId", th->id);
    ic_http_json(resp, o);
out:
    cJSON_Delete(body);
}

static const ic_thing_t *thing_or_404(ctl_t *c, const char *name,
                                      ic_http_resp_t *resp) {
    const ic_thing_t *th = ic_things_get(c->things, name);
    if (th == NULL)
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "Thing %s cannot be found.", name);
    return th;
}

CTL_HANDLER(ic__ctl_describe_thing) {
    ctl_t *c = data;
    const char *name = ic_http_label(call, "thingName");
    const ic_thing_t *th;
    char arn[512];
    cJSON *o;
    if (!ic__ctl_check_name(resp, "thingName", name) ||
        (th = thing_or_404(c, name, resp)) == NULL)
        return;
    ic__ctl_arn(c, "thing", name, arn, sizeof(arn));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "defaultClientId", th->name);
    cJSON_AddStringToObject(o, "thingName", th->name);
    cJSON_AddStringToObject(o, "thingId", th->id);
    cJSON_AddStringToObject(o, "thingArn", arn);
    if (th->type)
        cJSON_AddStringToObject(o, "thingTypeName", th->type);
    cJSON_AddItemToObject(o, "attributes", attrs_json(th));
    cJSON_AddNumberToObject(o, "version", (double)th->version);
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_update_thing) {
    ctl_t *c = data;
    const char *name = ic_http_label(call, "thingName"), *type = NULL;
    ic_attr_t attrs[64];
    char why[512];
    cJSON *body, *ev, *rm;
    bool merge = false, remove_type;
    int64_t expected = -1;
    long n;
    int rc;
    if (!ic__ctl_check_name(resp, "thingName", name) ||
        (body = ic__ctl_body(call, resp)) == NULL)
        return;
    if (!ic__ctl_opt_str(resp, body, "thingTypeName", &type) ||
        (n = attrs_of(cJSON_GetObjectItemCaseSensitive(body, "attributePayload"),
                      attrs, 64, &merge, resp)) < 0)
        goto out;
    ev = cJSON_GetObjectItemCaseSensitive(body, "expectedVersion");
    if (cJSON_IsNumber(ev))
        expected = (int64_t)ev->valuedouble;
    rm = cJSON_GetObjectItemCaseSensitive(body, "removeThingType");
    remove_type = cJSON_IsTrue(rm);
    if (remove_type && type) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Cannot set removeThingType to true and specify a thing "
                     "type at the same time");
        goto out;
    }
    if (thing_or_404(c, name, resp) == NULL)
        goto out;
    if (type && !ic_things_get_type(c->things, type, &(ic_thing_type_t){0})) {
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "Thing Type %s cannot be found.",
                     type);
        goto out;
    }
    rc = ic_things_update(c->things, name, remove_type ? "" : type, attrs,
                          (size_t)n,
                          /* no attributePayload: attributes unchanged */
                          cJSON_GetObjectItemCaseSensitive(body, "attributePayload")
                              ? merge
                              : true,
                          expected, why, sizeof(why));
    if (rc == IC_ECONFLICT)
        ic_http_fail(resp, IC_HTTP_E_VERSION_CONFLICT,
                     "The version for thing %s does not match the expected "
                     "version.", name);
    else if (rc == IC_EPROTO)
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Can not update a thing to use deprecated thing type: %s",
                     type);
    else if (rc != 0)
        fail_rc(resp, rc, why);
    else
        ic_http_json(resp, cJSON_CreateObject());
out:
    cJSON_Delete(body);
}

CTL_HANDLER(ic__ctl_delete_thing) {
    ctl_t *c = data;
    const char *name = ic_http_label(call, "thingName");
    const ic_thing_t *th;
    long ev = -1;
    char why[256];
    int rc;
    if (!ic__ctl_check_name(resp, "thingName", name) ||
        !ic__ctl_q_int(call, resp, "expectedVersion", 0, 0x7fffffffL, &ev))
        return;
    th = ic_things_get(c->things, name);
    if (th && ic_things_principals_of(c->things, name, NULL, NULL, 0) > 0) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Cannot delete. Thing %s is still attached to one or more "
                     "principals", name);
        return;
    }
    rc = ic_things_delete(c->things, name, ev, why, sizeof(why));
    if (rc == IC_ECONFLICT)
        ic_http_fail(resp, IC_HTTP_E_VERSION_CONFLICT,
                     "The version for thing %s does not match the expected "
                     "version.", name);
    else if (rc != 0)
        fail_rc(resp, rc, why);
    else
        ic_http_json(resp, cJSON_CreateObject());
}

CTL_HANDLER(ic__ctl_list_things) {
    ctl_t *c = data;
    char after[256], an[160] = "", av[1024] = "", tn[160] = "";
    bool has_an, has_av, has_tn, prefix = false;
    const char **names;
    size_t n, i, k = 0;
    long max;
    cJSON *o, *arr;
    const char *last = NULL;
    if (!page_args(call, resp, &max, after, sizeof(after)) ||
        !ic__ctl_q_bool(call, resp, "usePrefixAttributeValue", &prefix))
        return;
    has_an = ic__ctl_q_str(call, "attributeName", an, sizeof(an));
    has_av = ic__ctl_q_str(call, "attributeValue", av, sizeof(av));
    has_tn = ic__ctl_q_str(call, "thingTypeName", tn, sizeof(tn));
    if (has_av && !has_an) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "attributeValue requires attributeName");
        return;
    }
    names = all_names(ic_things_list, c->things, &n);
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "things");
    for (i = page_start(names, n, after); i < n; i++) {
        const ic_thing_t *th = ic_things_get(c->things, names[i]);
        cJSON *e;
        char arn[512];
        if (has_tn && (th->type == NULL || strcmp(th->type, tn) != 0))
            continue;
        if (has_an) {
            size_t j;
            bool hit = false;
            for (j = 0; j < th->n_attrs && !hit; j++)
                hit = strcmp(th->attrs[j].key, an) == 0 &&
                      (!has_av ||
                       (prefix ? strncmp(th->attrs[j].value, av, strlen(av)) == 0
                               : strcmp(th->attrs[j].value, av) == 0));
            if (!hit)
                continue;
        }
        if ((long)k == max) {
            ic__ctl_add_token(o, "nextToken", last);
            break;
        }
        e = cJSON_CreateObject();
        ic__ctl_arn(c, "thing", th->name, arn, sizeof(arn));
        cJSON_AddStringToObject(e, "thingName", th->name);
        if (th->type)
            cJSON_AddStringToObject(e, "thingTypeName", th->type);
        cJSON_AddStringToObject(e, "thingArn", arn);
        cJSON_AddItemToObject(e, "attributes", attrs_json(th));
        cJSON_AddNumberToObject(e, "version", (double)th->version);
        cJSON_AddItemToArray(arr, e);
        last = th->name;
        k++;
    }
    free(names);
    ic_http_json(resp, o);
}

/* ---- thing types -------------------------------------------------------------------- */

static cJSON *type_props(const ic_thing_type_t *ty) {
    return ic__ctl_parse_stored(ty->props_json);
}

static cJSON *type_meta(const ic_thing_type_t *ty) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddBoolToObject(m, "deprecated", ty->is_deprecated);
    if (ty->is_deprecated)
        ic__ctl_add_time(m, "deprecationDate", ty->deprecated_ms);
    ic__ctl_add_time(m, "creationDate", ty->created_ms);
    return m;
}

CTL_HANDLER(ic__ctl_create_thing_type) {
    ctl_t *c = data;
    const char *name = ic_http_label(call, "thingTypeName"), *desc = NULL;
    cJSON *body, *props, *o;
    char *props_s = NULL, why[256], arn[512];
    ic_thing_type_t ty;
    int rc;
    if (!ic__ctl_check_name(resp, "thingTypeName", name) ||
        (body = ic__ctl_body(call, resp)) == NULL)
        return;
    props = cJSON_GetObjectItemCaseSensitive(body, "thingTypeProperties");
    if (props && !cJSON_IsObject(props)) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "thingTypeProperties must be an object");
        goto out;
    }
    if (props && !ic__ctl_opt_str(resp, props, "thingTypeDescription", &desc))
        goto out;
    props_s = props ? cJSON_PrintUnformatted(props) : NULL;
    if (ic_things_get_type(c->things, name, &ty)) {
        /* AWS: creating it again with the same properties succeeds */
        cJSON *old = ic__ctl_parse_stored(ty.props_json);
        bool same = cJSON_Compare(old, props ? props : old, true);
        cJSON_Delete(old);
        if (!same) {
            ic_http_fail(resp, IC_HTTP_E_ALREADY_EXISTS,
                         "Thing Type %s already exists in account with "
                         "different properties", name);
            goto out;
        }
    } else {
        rc = ic_things_create_type_ex(c->things, name, desc, props_s,
                                      ic__ctl_now_ms(), why, sizeof(why));
        if (rc != 0) {
            fail_rc(resp, rc, why);
            goto out;
        }
        ic_things_get_type(c->things, name, &ty);
    }
    ic__ctl_arn(c, "thingtype", name, arn, sizeof(arn));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "thingTypeName", name);
    cJSON_AddStringToObject(o, "thingTypeArn", arn);
    cJSON_AddStringToObject(o, "thingTypeId", ty.id);
    ic_http_json(resp, o);
out:
    cJSON_free(props_s);
    cJSON_Delete(body);
}

static bool type_or_404(ctl_t *c, const char *name, ic_thing_type_t *ty,
                        ic_http_resp_t *resp) {
    if (!ic__ctl_check_name(resp, "thingTypeName", name))
        return false;
    if (ic_things_get_type(c->things, name, ty))
        return true;
    ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "Thing Type %s cannot be found.", name);
    return false;
}

CTL_HANDLER(ic__ctl_describe_thing_type) {
    ctl_t *c = data;
    ic_thing_type_t ty;
    char arn[512];
    cJSON *o;
    if (!type_or_404(c, ic_http_label(call, "thingTypeName"), &ty, resp))
        return;
    ic__ctl_arn(c, "thingtype", ty.name, arn, sizeof(arn));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "thingTypeName", ty.name);
    cJSON_AddStringToObject(o, "thingTypeId", ty.id);
    cJSON_AddStringToObject(o, "thingTypeArn", arn);
    cJSON_AddItemToObject(o, "thingTypeProperties", type_props(&ty));
    cJSON_AddItemToObject(o, "thingTypeMetadata", type_meta(&ty));
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_deprecate_thing_type) {
    ctl_t *c = data;
    ic_thing_type_t ty;
    cJSON *body;
    if (!type_or_404(c, ic_http_label(call, "thingTypeName"), &ty, resp) ||
        (body = ic__ctl_body(call, resp)) == NULL)
        return;
    ic_things_deprecate_type_at(
        c->things, ty.name,
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "undoDeprecate")),
        ic__ctl_now_ms());
    cJSON_Delete(body);
    ic_http_json(resp, cJSON_CreateObject());
}

CTL_HANDLER(ic__ctl_delete_thing_type) {
    ctl_t *c = data;
    ic_thing_type_t ty;
    char why[256];
    int rc;
    if (!type_or_404(c, ic_http_label(call, "thingTypeName"), &ty, resp))
        return;
    /* EMULATOR: AWS also makes you wait 5 minutes after deprecating. */
    rc = ic_things_delete_type(c->things, ty.name, why, sizeof(why));
    if (rc == IC_EPROTO)
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Thing type %s must be deprecated before it can be deleted",
                     ty.name);
    else if (rc == IC_ECONFLICT)
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Can not delete thing type %s with associated things",
                     ty.name);
    else if (rc != 0)
        fail_rc(resp, rc, why);
    else
        ic_http_json(resp, cJSON_CreateObject());
}

CTL_HANDLER(ic__ctl_list_thing_types) {
    ctl_t *c = data;
    char after[256], only[160];
    bool has_only;
    const char **names;
    size_t n, i, k = 0;
    long max;
    cJSON *o, *arr;
    const char *last = NULL;
    if (!page_args(call, resp, &max, after, sizeof(after)))
        return;
    has_only = ic__ctl_q_str(call, "thingTypeName", only, sizeof(only));
    names = all_names(ic_things_list_types, c->things, &n);
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "thingTypes");
    for (i = page_start(names, n, after); i < n; i++) {
        ic_thing_type_t ty;
        cJSON *e;
        char arn[512];
        if (has_only && strcmp(names[i], only) != 0)
            continue;
        if ((long)k == max) {
            ic__ctl_add_token(o, "nextToken", last);
            break;
        }
        ic_things_get_type(c->things, names[i], &ty);
        ic__ctl_arn(c, "thingtype", ty.name, arn, sizeof(arn));
        e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "thingTypeName", ty.name);
        cJSON_AddStringToObject(e, "thingTypeArn", arn);
        cJSON_AddItemToObject(e, "thingTypeProperties", type_props(&ty));
        cJSON_AddItemToObject(e, "thingTypeMetadata", type_meta(&ty));
        cJSON_AddItemToArray(arr, e);
        last = ty.name;
        k++;
    }
    free(names);
    ic_http_json(resp, o);
}

/* ---- thing groups -------------------------------------------------------------------- */

static bool check_group_props(const cJSON *props, ic_http_resp_t *resp) {
    const cJSON *ap, *a, *it;
    if (props == NULL)
        return true;
    if (!cJSON_IsObject(props)) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "thingGroupProperties must be an object");
        return false;
    }
    ap = cJSON_GetObjectItemCaseSensitive(props, "attributePayload");
    a = ap ? cJSON_GetObjectItemCaseSensitive(ap, "attributes") : NULL;
    cJSON_ArrayForEach(it, a) {
        if (!cJSON_IsString(it)) {
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "attribute %s must be a string", it->string);
            return false;
        }
    }
    return true;
}

CTL_HANDLER(ic__ctl_create_thing_group) {
    ctl_t *c = data;
    const char *name = ic_http_label(call, "thingGroupName"), *parent = NULL;
    cJSON *body, *props, *o;
    char *props_s = NULL, why[256], arn[512];
    ic_thing_group_t g;
    int rc;
    if (!ic__ctl_check_name(resp, "thingGroupName", name) ||
        (body = ic__ctl_body(call, resp)) == NULL)
        return;
    props = cJSON_GetObjectItemCaseSensitive(body, "thingGroupProperties");
    if (!ic__ctl_opt_str(resp, body, "parentGroupName", &parent) ||
        !check_group_props(props, resp))
        goto out;
    props_s = props ? cJSON_PrintUnformatted(props) : NULL;
    ic__ctl_arn(c, "thinggroup", name, arn, sizeof(arn));
    if (ic_things_get_group(c->things, name, &g)) {
        cJSON *old = ic__ctl_parse_stored(g.props_json);
        bool same = cJSON_Compare(old, props ? props : old, true);
        cJSON_Delete(old);
        if (!same) {
            ic_http_fail(resp, IC_HTTP_E_ALREADY_EXISTS,
                         "Thing Group %s already exists in current account with "
                         "different properties", name);
            goto out;
        }
    } else {
        if (parent && !ic_things_get_group(c->things, parent, &g)) {
            ic_http_fail(resp, IC_HTTP_E_NOT_FOUND,
                         "Thing Group %s cannot be found.", parent);
            goto out;
        }
        rc = ic_things_create_group_ex(c->things, name, parent, props_s,
                                       ic__ctl_now_ms(), why, sizeof(why));
        if (rc != 0) {
            fail_rc(resp, rc, why);
            goto out;
        }
        ic_things_get_group(c->things, name, &g);
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "thingGroupName", name);
    cJSON_AddStringToObject(o, "thingGroupArn", arn);
    cJSON_AddStringToObject(o, "thingGroupId", g.id);
    ic_http_json(resp, o);
out:
    cJSON_free(props_s);
    cJSON_Delete(body);
}

static bool group_or_404(ctl_t *c, const char *name, ic_thing_group_t *g,
                         ic_http_resp_t *resp) {
    if (!ic__ctl_check_name(resp, "thingGroupName", name))
        return false;
    if (ic_things_get_group(c->things, name, g))
        return true;
    ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "Thing Group %s cannot be found.",
                 name);
    return false;
}

CTL_HANDLER(ic__ctl_describe_thing_group) {
    ctl_t *c = data;
    ic_thing_group_t g, p;
    char arn[512];
    cJSON *o, *meta, *roots;
    const char *chain[8];
    int depth = 0, i;
    if (!group_or_404(c, ic_http_label(call, "thingGroupName"), &g, resp))
        return;
    ic__ctl_arn(c, "thinggroup", g.name, arn, sizeof(arn));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "thingGroupName", g.name);
    cJSON_AddStringToObject(o, "thingGroupId", g.id);
    cJSON_AddStringToObject(o, "thingGroupArn", arn);
    cJSON_AddNumberToObject(o, "version", (double)g.version);
    cJSON_AddItemToObject(o, "thingGroupProperties",
                          ic__ctl_parse_stored(g.props_json));
    meta = cJSON_AddObjectToObject(o, "thingGroupMetadata");
    if (g.parent) {
        cJSON_AddStringToObject(meta, "parentGroupName", g.parent);
        /* root first, down to the parent */
        p = g;
        while (p.parent && depth < 8 && ic_things_get_group(c->things, p.parent, &p))
            chain[depth++] = p.name;
        roots = cJSON_AddArrayToObject(meta, "rootToParentThingGroups");
        for (i = depth - 1; i >= 0; i--)
            group_ref(c, roots, chain[i]);
    }
    ic__ctl_add_time(meta, "creationDate", g.created_ms);
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_update_thing_group) {
    ctl_t *c = data;
    ic_thing_group_t g;
    cJSON *body, *props, *ev, *o;
    char *props_s;
    int64_t ver = 0;
    int rc;
    if (!group_or_404(c, ic_http_label(call, "thingGroupName"), &g, resp) ||
        (body = ic__ctl_body(call, resp)) == NULL)
        return;
    props = cJSON_GetObjectItemCaseSensitive(body, "thingGroupProperties");
    if (props == NULL) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value null at "
                     "'thingGroupProperties' failed to satisfy constraint: "
                     "Member must not be null");
        cJSON_Delete(body);
        return;
    }
    if (!check_group_props(props, resp)) {
        cJSON_Delete(body);
        return;
    }
    ev = cJSON_GetObjectItemCaseSensitive(body, "expectedVersion");
    props_s = cJSON_PrintUnformatted(props);
    rc = ic_things_update_group(c->things, g.name, props_s,
                                cJSON_IsNumber(ev) ? (int64_t)ev->valuedouble : -1,
                                &ver);
    cJSON_free(props_s);
    cJSON_Delete(body);
    if (rc == IC_ECONFLICT) {
        ic_http_fail(resp, IC_HTTP_E_VERSION_CONFLICT,
                     "The version for thing group %s does not match the "
                     "expected version.", g.name);
        return;
    }
    if (rc != 0) {
        fail_rc(resp, rc, "the thing group could not be updated");
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "version", (double)ver);
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_delete_thing_group) {
    ctl_t *c = data;
    const char *name = ic_http_label(call, "thingGroupName");
    char why[256], arn[512];
    long ev = -1;
    int rc;
    if (!ic__ctl_check_name(resp, "thingGroupName", name) ||
        !ic__ctl_q_int(call, resp, "expectedVersion", 0, 0x7fffffffL, &ev))
        return;
    rc = ic_things_delete_group(c->things, name, ev, why, sizeof(why));
    if (rc == IC_ECONFLICT)
        ic_http_fail(resp, IC_HTTP_E_VERSION_CONFLICT, "%s", why);
    else if (rc != 0)
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "%s", why);
    else {
        /* policies attached to the group go with it */
        ic__ctl_arn(c, "thinggroup", name, arn, sizeof(arn));
        ic_policies_detach_target(c->policies, arn);
        ic_http_json(resp, cJSON_CreateObject());
    }
}

static bool is_descendant(ctl_t *c, const char *name, const char *ancestor,
                          bool direct_only) {
    ic_thing_group_t g;
    int guard = 0;
    if (!ic_things_get_group(c->things, name, &g))
        return false;
    while (g.parent && guard++ < 16) {
        if (strcmp(g.parent, ancestor) == 0)
            return true;
        if (direct_only || !ic_things_get_group(c->things, g.parent, &g))
            return false;
    }
    return false;
}

CTL_HANDLER(ic__ctl_list_thing_groups) {
    ctl_t *c = data;
    char after[256], parent[160], prefix[160];
    bool has_parent, has_prefix, recursive = true;
    const char **names;
    size_t n, i, k = 0;
    long max;
    cJSON *o, *arr;
    const char *last = NULL;
    ic_thing_group_t g;
    if (!page_args(call, resp, &max, after, sizeof(after)) ||
        !ic__ctl_q_bool(call, resp, "recursive", &recursive))
        return;
    has_parent = ic__ctl_q_str(call, "parentGroup", parent, sizeof(parent));
    has_prefix = ic__ctl_q_str(call, "namePrefixFilter", prefix, sizeof(prefix));
    if (has_parent && !ic_things_get_group(c->things, parent, &g)) {
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "Thing Group %s cannot be found.",
                     parent);
        return;
    }
    names = all_names(ic_things_list_groups, c->things, &n);
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "thingGroups");
    for (i = page_start(names, n, after); i < n; i++) {
        if (has_parent && !is_descendant(c, names[i], parent, !recursive))
            continue;
        if (!has_parent && !recursive) {
            ic_things_get_group(c->things, names[i], &g);
            if (g.parent)
                continue; /* recursive=false: root groups only */
        }
        if (has_prefix && strncmp(names[i], prefix, strlen(prefix)) != 0)
            continue;
        if ((long)k == max) {
            ic__ctl_add_token(o, "nextToken", last);
            break;
        }
        group_ref(c, arr, names[i]);
        last = names[i];
        k++;
    }
    free(names);
    ic_http_json(resp, o);
}

/* thingGroupName or thingGroupArn, thingName or thingArn from the body. */
static bool group_and_thing(ctl_t *c, const cJSON *body, ic_http_resp_t *resp,
                            const char **group, const char **thing) {
    const char *garn = NULL, *tarn = NULL;
    if (!ic__ctl_opt_str(resp, body, "thingGroupName", group) ||
        !ic__ctl_opt_str(resp, body, "thingGroupArn", &garn) ||
        !ic__ctl_opt_str(resp, body, "thingName", thing) ||
        !ic__ctl_opt_str(resp, body, "thingArn", &tarn))
        return false;
    if (*group == NULL && garn) {
        const char *s = strstr(garn, ":thinggroup/");
        *group = s ? s + 12 : garn;
    }
    if (*thing == NULL && tarn) {
        const char *s = strstr(tarn, ":thing/");
        *thing = s ? s + 7 : tarn;
    }
    if (*group == NULL) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Both thingGroupArn and thingGroupName are empty. Need to "
                     "specify at least one of them");
        return false;
    }
    if (*thing == NULL) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Both thingArn and thingName are empty. Need to specify at "
                     "least one of them");
        return false;
    }
    if (!ic_things_get_group(c->things, *group, &(ic_thing_group_t){0})) {
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "Thing Group %s cannot be found.",
                     *group);
        return false;
    }
    return thing_or_404(c, *thing, resp) != NULL;
}

CTL_HANDLER(ic__ctl_add_thing_to_group) {
    ctl_t *c = data;
    const char *group = NULL, *thing = NULL;
    char why[256];
    cJSON *body = ic__ctl_body(call, resp);
    int rc;
    if (body == NULL)
        return;
    if (group_and_thing(c, body, resp, &group, &thing)) {
        rc = ic_things_add_to_group(c->things, group, thing, why, sizeof(why));
        if (rc != 0 && rc != IC_EEXIST)
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "%s", why);
        else
            ic_http_json(resp, cJSON_CreateObject());
    }
    cJSON_Delete(body);
}

CTL_HANDLER(ic__ctl_remove_thing_from_group) {
    ctl_t *c = data;
    const char *group = NULL, *thing = NULL;
    cJSON *body = ic__ctl_body(call, resp);
    if (body == NULL)
        return;
    if (group_and_thing(c, body, resp, &group, &thing)) {
        ic_things_remove_from_group(c->things, group, thing);
        ic_http_json(resp, cJSON_CreateObject());
    }
    cJSON_Delete(body);
}

CTL_HANDLER(ic__ctl_list_things_in_group) {
    ctl_t *c = data;
    ic_thing_group_t g;
    char after[256];
    bool recursive = false;
    long max;
    const char **groups, **members = NULL;
    size_t ng, i, nm = 0;
    cJSON *o;
    if (!group_or_404(c, ic_http_label(call, "thingGroupName"), &g, resp) ||
        !page_args(call, resp, &max, after, sizeof(after)) ||
        !ic__ctl_q_bool(call, resp, "recursive", &recursive))
        return;
    groups = all_names(ic_things_list_groups, c->things, &ng);
    for (i = 0; i < ng; i++) {
        size_t cnt;
        if (strcmp(groups[i], g.name) != 0 &&
            !(recursive && is_descendant(c, groups[i], g.name, false)))
            continue;
        cnt = ic_things_members(c->things, groups[i], NULL, 0);
        members = ic_xrealloc(members, (nm + cnt + 1) * sizeof(*members));
        nm += ic_things_members(c->things, groups[i], members + nm, cnt);
    }
    free(groups);
    o = cJSON_CreateObject();
    emit_page(c, o, "things", members, nm, after, max, emit_string);
    free(members);
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_list_groups_for_thing) {
    ctl_t *c = data;
    const char *name = ic_http_label(call, "thingName"), *groups[16];
    char after[256];
    long max;
    size_t n;
    cJSON *o;
    if (!ic__ctl_check_name(resp, "thingName", name) ||
        thing_or_404(c, name, resp) == NULL ||
        !page_args(call, resp, &max, after, sizeof(after)))
        return;
    n = ic_things_groups_of(c->things, name, groups, 16);
    if (n > 16)
        n = 16;
    o = cJSON_CreateObject();
    emit_page(c, o, "thingGroups", groups, n, after, max, group_ref);
    ic_http_json(resp, o);
}

/* ---- principals ----------------------------------------------------------------------- */

/* The x-amzn-principal header as a certificate ID, or NULL after answering. */
static const char *principal_of(const ic_http_call_t *call, ic_http_resp_t *resp,
                                bool must_exist, ctl_t *c) {
    const ic_http_header_t *h = ic_http_header(call->req, "x-amzn-principal");
    const char *id;
    if (h == NULL || h->value_len == 0) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value null at 'principal' "
                     "failed to satisfy constraint: Member must not be null");
        return NULL;
    }
    id = ic__ctl_cert_id_of(h->value);
    if (id == NULL) {
        /* EMULATOR: Cognito identities are not emulated */
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Principal %s is not a certificate ARN of this account",
                     h->value);
        return NULL;
    }
    if (must_exist && !ic_registry_get(c->registry, id, &(ic_cert_info_t){0})) {
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND,
                     "The certificate given in the principal does not exist.");
        return NULL;
    }
    return id;
}

CTL_HANDLER(ic__ctl_attach_thing_principal) {
    ctl_t *c = data;
    const char *name = ic_http_label(call, "thingName"), *id;
    char type[64] = "NON_EXCLUSIVE_THING", why[256];
    bool exclusive;
    int rc;
    if (!ic__ctl_check_name(resp, "thingName", name) ||
        thing_or_404(c, name, resp) == NULL ||
        (id = principal_of(call, resp, true, c)) == NULL)
        return;
    ic__ctl_q_str(call, "thingPrincipalType", type, sizeof(type));
    if (strcmp(type, "EXCLUSIVE_THING") != 0 &&
        strcmp(type, "NON_EXCLUSIVE_THING") != 0) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value '%s' at "
                     "'thingPrincipalType' failed to satisfy constraint: Member "
                     "must satisfy enum value set: [EXCLUSIVE_THING, "
                     "NON_EXCLUSIVE_THING]", type);
        return;
    }
    exclusive = strcmp(type, "EXCLUSIVE_THING") == 0;
    rc = ic_things_attach_principal(c->things, name, id, exclusive, why,
                                    sizeof(why));
    if (rc == IC_ECONFLICT)
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST, "%s", why);
    else if (rc != 0 && rc != IC_EEXIST)
        fail_rc(resp, rc, why);
    else
        ic_http_json(resp, cJSON_CreateObject());
}

CTL_HANDLER(ic__ctl_detach_thing_principal) {
    ctl_t *c = data;
    const char *name = ic_http_label(call, "thingName"), *id;
    if (!ic__ctl_check_name(resp, "thingName", name) ||
        thing_or_404(c, name, resp) == NULL ||
        (id = principal_of(call, resp, false, c)) == NULL)
        return;
    ic_things_detach_principal(c->things, name, id);
    ic_http_json(resp, cJSON_CreateObject());
}

CTL_HANDLER(ic__ctl_list_thing_principals) {
    ctl_t *c = data;
    const char *name = ic_http_label(call, "thingName");
    const char **ids;
    char after[256];
    long max;
    size_t n;
    cJSON *o;
    if (!ic__ctl_check_name(resp, "thingName", name) ||
        !page_args(call, resp, &max, after, sizeof(after)))
        return;
    if (ic_things_get(c->things, name) == NULL) {
        ic_http_fail(resp, IC_HTTP_E_NOT_FOUND,
                     "Failed to list principals for thing %s because the thing "
                     "does not exist in your account", name);
        return;
    }
    n = ic_things_principals_of(c->things, name, NULL, NULL, 0);
    ids = ic_xmalloc((n + 1) * sizeof(*ids));
    n = ic_things_principals_of(c->things, name, ids, NULL, n);
    o = cJSON_CreateObject();
    emit_page(c, o, "principals", ids, n, after, max, emit_cert_arn);
    free(ids);
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_list_principal_things) {
    ctl_t *c = data;
    const char *id, **names;
    char after[256];
    long max;
    size_t n;
    cJSON *o;
    if ((id = principal_of(call, resp, false, c)) == NULL ||
        !page_args(call, resp, &max, after, sizeof(after)))
        return;
    n = ic_things_of_principal(c->things, id, NULL, 0);
    names = ic_xmalloc((n + 1) * sizeof(*names));
    n = ic_things_of_principal(c->things, id, names, n);
    o = cJSON_CreateObject();
    emit_page(c, o, "things", names, n, after, max, emit_string);
    free(names);
    ic_http_json(resp, o);
}
