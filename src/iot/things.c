/* things.c - the thing registry: things, thing types, static thing groups
 * and principal attachments, with AWS's naming rules and limits.
 *
 * Owns the in-memory registry and decides every rule (see things.h); it
 * writes through to the store (store/thingdb.c) and encodes attributes as
 * JSON there with cJSON, the only place they are serialised. It neither
 * serves an API (the control plane will) nor touches connections: proto.c
 * asks which thing a connection is. Loop thread only. Registry changes are
 * rare, so lists are scanned linearly.
 */
#include "iotcored/things.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/map.h"
#include "iotcored/str.h"
#include "iotcored/thingdb.h"

#include <cjson/cJSON.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTRS_UNTYPED 3
#define MAX_ATTRS_TYPED 50
#define MAX_GROUP_DEPTH 7
#define MAX_GROUPS_PER_THING 10

typedef struct type_s {
    char *name;
    char *description;
    char id[37];
    char *props;          /* thingTypeProperties JSON as given ("{}") */
    bool is_deprecated;
    int64_t deprecated_ms;
    int64_t created_ms;
} type_t;

typedef struct group_s {
    char *name;
    char *parent; /* NULL for a root */
    char id[37];
    char *props;  /* thingGroupProperties JSON as given ("{}") */
    int64_t version;
    int64_t created_ms;
} group_t;

typedef struct link_s {
    char *a, *b;     /* member: (group, thing); principal: (thing, principal) */
    bool exclusive;  /* principal links only */
} link_t;

typedef struct links_s {
    link_t *v;
    size_t n, cap;
} links_t;

struct ic_things_s {
    ic_db_t *db;
    ic_map_t things; /* name -> ic_thing_t* */
    ic_map_t types;  /* name -> type_t* */
    ic_map_t groups; /* name -> group_t* */
    links_t members;
    links_t principals;
    uint64_t gen;    /* bumped by every change (authorization caches) */
};


/* ---- lifetime ------------------------------------------------------------------ */

ic_things_t *ic_things_new(ic_db_t *db) {
    ic_things_t *t = ic_xcalloc(1, sizeof(*t));
    t->db = db;
    ic_map_init(&t->things);
    ic_map_init(&t->types);
    ic_map_init(&t->groups);
    return t;
}

static void free_attrs(ic_attr_t *a, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        free((char *)(uintptr_t)a[i].key);
        free((char *)(uintptr_t)a[i].value);
    }
    free(a);
}

static void free_thing(ic_thing_t *th) {
    free(th->name);
    free(th->type);
    free_attrs(th->attrs, th->n_attrs);
    free(th);
}

static void free_links(links_t *l) {
    size_t i;
    for (i = 0; i < l->n; i++) {
        free(l->v[i].a);
        free(l->v[i].b);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static void free_type(type_t *ty) {
    free(ty->name);
    free(ty->description);
    free(ty->props);
    free(ty);
}

static void free_group(group_t *g) {
    free(g->name);
    free(g->parent);
    free(g->props);
    free(g);
}


static void clear(ic_things_t *t) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    while ((e = ic_map_next(&t->things, &it)) != NULL)
        free_thing(e->val);
    memset(&it, 0, sizeof(it));
    while ((e = ic_map_next(&t->types, &it)) != NULL)
        free_type(e->val);
    memset(&it, 0, sizeof(it));
    while ((e = ic_map_next(&t->groups, &it)) != NULL)
        free_group(e->val);
    ic_map_free(&t->things);
    ic_map_free(&t->types);
    ic_map_free(&t->groups);
    free_links(&t->members);
    free_links(&t->principals);
}

void ic_things_free(ic_things_t *t) {
    if (t == NULL)
        return;
    clear(t);
    free(t);
}

size_t ic_things_count(const ic_things_t *t) {
    return t->things.n;
}

const ic_thing_t *ic_things_get(const ic_things_t *t, const char *name) {
    return ic_map_get(&t->things, name, strlen(name));
}

/* ---- rules ----------------------------------------------------------------------- */

static bool chars_ok(const char *s, size_t max, const char *extra, bool empty_ok) {
    size_t n = strlen(s), i;
    if (n > max || (n == 0 && !empty_ok))
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr(extra, c)))
            return false;
    }
    return true;
}

bool ic_things_is_valid_name(const char *name) {
    return chars_ok(name, 128, ":_-", false); /* AWS 7.1 */
}

static int check_attrs(const ic_attr_t *a, size_t n, char *why, size_t len) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (!chars_ok(a[i].key, 128, "_.,@/:#-", false))
            return ic_str_fail(why, len, IC_EINVAL, "invalid attribute name '%s'", a[i].key);
        if (!chars_ok(a[i].value, 800, "_.,@/:#=[]-", true))
            return ic_str_fail(why, len, IC_EINVAL, "invalid value for attribute '%s'",
                        a[i].key);
    }
    return 0;
}

static char *attrs_json(const ic_thing_t *th) {
    cJSON *o = cJSON_CreateObject();
    char *s;
    size_t i;
    for (i = 0; i < th->n_attrs; i++)
        cJSON_AddStringToObject(o, th->attrs[i].key, th->attrs[i].value);
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static void persist_thing(ic_things_t *t, const ic_thing_t *th) {
    char *json;
    t->gen++;
    if (t->db == NULL)
        return;
    json = attrs_json(th);
    ic_thingdb_put_thing(t->db, th->name, th->id, th->type, json ? json : "{}",
                         th->version, th->created_ms);
    cJSON_free(json);
}

static void set_attr(ic_thing_t *th, const char *key, const char *value) {
    size_t i;
    for (i = 0; i < th->n_attrs; i++) {
        if (strcmp(th->attrs[i].key, key) != 0)
            continue;
        free((char *)(uintptr_t)th->attrs[i].value);
        if (value[0] == '\0') { /* AWS 7.1: an empty value removes it */
            free((char *)(uintptr_t)th->attrs[i].key);
            th->attrs[i] = th->attrs[--th->n_attrs];
        } else {
            th->attrs[i].value = ic_xstrdup(value);
        }
        return;
    }
    if (value[0] == '\0')
        return;
    th->attrs = ic_xrealloc(th->attrs, (th->n_attrs + 1) * sizeof(ic_attr_t));
    th->attrs[th->n_attrs].key = ic_xstrdup(key);
    th->attrs[th->n_attrs].value = ic_xstrdup(value);
    th->n_attrs++;
}

static bool same_config(const ic_thing_t *th, const char *type,
                        const ic_attr_t *a, size_t n) {
    size_t i, k, given = 0;
    if ((th->type == NULL) != (type == NULL || type[0] == '\0') ||
        (th->type && type && strcmp(th->type, type) != 0))
        return false;
    for (i = 0; i < n; i++) {
        bool found = false;
        if (a[i].value[0] == '\0')
            continue;
        given++;
        for (k = 0; k < th->n_attrs && !found; k++)
            found = !strcmp(th->attrs[k].key, a[i].key) &&
                    !strcmp(th->attrs[k].value, a[i].value);
        if (!found)
            return false;
    }
    return given == th->n_attrs;
}

static int check_type(ic_things_t *t, const char *type, char *why, size_t len) {
    type_t *ty;
    if (type == NULL || type[0] == '\0')
        return 0;
    ty = ic_map_get(&t->types, type, strlen(type));
    if (ty == NULL)
        return ic_str_fail(why, len, IC_ENOTFOUND, "thing type %s does not exist", type);
    if (ty->is_deprecated) /* AWS 7.2: no new associations */
        return ic_str_fail(why, len, IC_EPROTO, "thing type %s is deprecated", type);
    return 0;
}


/* ---- things ------------------------------------------------------------------------ */

int ic_things_create(ic_things_t *t, const char *name, const char *type,
                     const ic_attr_t *attrs, size_t n, int64_t now_ms,
                     char *why, size_t whylen) {
    ic_thing_t *th;
    size_t i;
    int rc;
    if (!ic_things_is_valid_name(name))
        return ic_str_fail(why, whylen, IC_EINVAL, "invalid thing name '%s'", name);
    if ((rc = check_attrs(attrs, n, why, whylen)) != 0)
        return rc;
    th = ic_map_get(&t->things, name, strlen(name));
    if (th != NULL) /* AWS CreateThing: same configuration succeeds again */
        return same_config(th, type, attrs, n)
                   ? 0
                   : ic_str_fail(why, whylen, IC_EEXIST,
                          "thing %s already exists with a different configuration",
                          name);
    if ((rc = check_type(t, type, why, whylen)) != 0)
        return rc;
    if (n > (type && type[0] ? MAX_ATTRS_TYPED : MAX_ATTRS_UNTYPED))
        return ic_str_fail(why, whylen, IC_EINVAL, "too many attributes (%zu) for a thing %s",
                    n, type && type[0] ? "with a type" : "without a type");
    th = ic_xcalloc(1, sizeof(*th));
    th->name = ic_xstrdup(name);
    th->type = type && type[0] ? ic_xstrdup(type) : NULL;
    th->version = 1;
    th->created_ms = now_ms;
    ic_str_uuid(th->id);
    for (i = 0; i < n; i++)
        set_attr(th, attrs[i].key, attrs[i].value);
    ic_map_put(&t->things, name, strlen(name), th);
    persist_thing(t, th);
    return 0;
}

int ic_things_update(ic_things_t *t, const char *name, const char *type,
                     const ic_attr_t *attrs, size_t n, bool merge,
                     int64_t expected_version, char *why, size_t whylen) {
    ic_thing_t *th = ic_map_get(&t->things, name, strlen(name)), tmp;
    size_t i, count;
    int rc;
    if (th == NULL)
        return ic_str_fail(why, whylen, IC_ENOTFOUND, "thing %s does not exist", name);
    if (expected_version >= 0 && expected_version != th->version)
        return ic_str_fail(why, whylen, IC_ECONFLICT,
                    "expected version %lld, current version is %lld",
                    (long long)expected_version, (long long)th->version);
    if ((rc = check_attrs(attrs, n, why, whylen)) != 0)
        return rc;
    if (type && type[0] && (!th->type || strcmp(type, th->type) != 0) &&
        (rc = check_type(t, type, why, whylen)) != 0)
        return rc;
    /* count the attributes the thing would have, before changing it */
    memset(&tmp, 0, sizeof(tmp));
    if (merge)
        for (i = 0; i < th->n_attrs; i++)
            set_attr(&tmp, th->attrs[i].key, th->attrs[i].value);
    for (i = 0; i < n; i++)
        set_attr(&tmp, attrs[i].key, attrs[i].value);
    count = tmp.n_attrs;
    if (count > ((type ? type[0] != '\0' : th->type != NULL) ? MAX_ATTRS_TYPED
                                                             : MAX_ATTRS_UNTYPED)) {
        free_attrs(tmp.attrs, tmp.n_attrs);
        return ic_str_fail(why, whylen, IC_EINVAL, "too many attributes (%zu)", count);
    }
    free_attrs(th->attrs, th->n_attrs);
    th->attrs = tmp.attrs;
    th->n_attrs = tmp.n_attrs;
    if (type) {
        free(th->type);
        th->type = type[0] ? ic_xstrdup(type) : NULL;
    }
    th->version++;
    persist_thing(t, th);
    return 0;
}

static void drop_links(links_t *l, bool by_a, const char *name) {
    size_t i = 0;
    while (i < l->n) {
        if (strcmp(by_a ? l->v[i].a : l->v[i].b, name) == 0) {
            free(l->v[i].a);
            free(l->v[i].b);
            l->v[i] = l->v[--l->n];
        } else {
            i++;
        }
    }
}

int ic_things_delete(ic_things_t *t, const char *name, int64_t expected_version,
                     char *why, size_t whylen) {
    ic_thing_t *th = ic_map_get(&t->things, name, strlen(name));
    if (th == NULL)
        return 0; /* AWS DeleteThing: success for a missing thing */
    if (expected_version >= 0 && expected_version != th->version)
        return ic_str_fail(why, whylen, IC_ECONFLICT,
                    "expected version %lld, current version is %lld",
                    (long long)expected_version, (long long)th->version);
    drop_links(&t->members, false, name);
    drop_links(&t->principals, true, name);
    ic_map_del(&t->things, name, strlen(name));
    free_thing(th);
    t->gen++;
    if (t->db)
        ic_thingdb_del_thing(t->db, name);
    return 0;
}

/* ---- types --------------------------------------------------------------------------- */

static void persist_type(ic_things_t *t, const type_t *ty) {
    t->gen++;
    if (t->db)
        ic_thingdb_put_type(t->db, ty->name, ty->description, ty->is_deprecated,
                            ty->created_ms, ty->id, ty->props, ty->deprecated_ms);
}

int ic_things_create_type_ex(ic_things_t *t, const char *name,
                             const char *description, const char *props_json,
                             int64_t now_ms, char *why, size_t whylen) {
    type_t *ty;
    if (!ic_things_is_valid_name(name))
        return ic_str_fail(why, whylen, IC_EINVAL, "invalid thing type name '%s'", name);
    if (ic_map_get(&t->types, name, strlen(name)) != NULL)
        return ic_str_fail(why, whylen, IC_EEXIST, "thing type %s already exists", name);
    ty = ic_xcalloc(1, sizeof(*ty));
    ty->name = ic_xstrdup(name);
    ty->description = ic_xstrdup(description ? description : "");
    ty->props = ic_xstrdup(props_json && props_json[0] ? props_json : "{}");
    ic_str_uuid(ty->id);
    ty->created_ms = now_ms;
    ic_map_put(&t->types, name, strlen(name), ty);
    persist_type(t, ty);
    return 0;
}

int ic_things_create_type(ic_things_t *t, const char *name,
                          const char *description, int64_t now_ms, char *why,
                          size_t whylen) {
    return ic_things_create_type_ex(t, name, description, NULL, now_ms, why,
                                    whylen);
}

int ic_things_deprecate_type(ic_things_t *t, const char *name, bool undo) {
    return ic_things_deprecate_type_at(t, name, undo, 0);
}

int ic_things_deprecate_type_at(ic_things_t *t, const char *name, bool undo,
                                int64_t now_ms) {
    type_t *ty = ic_map_get(&t->types, name, strlen(name));
    if (ty == NULL)
        return IC_ENOTFOUND;
    ty->is_deprecated = !undo;
    ty->deprecated_ms = undo ? 0 : now_ms;
    persist_type(t, ty);
    return 0;
}

int ic_things_delete_type(ic_things_t *t, const char *name, char *why,
                          size_t whylen) {
    type_t *ty = ic_map_get(&t->types, name, strlen(name));
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    if (ty == NULL)
        return ic_str_fail(why, whylen, IC_ENOTFOUND, "thing type %s does not exist", name);
    if (!ty->is_deprecated)
        return ic_str_fail(why, whylen, IC_EPROTO,
                    "thing type %s must be deprecated before it is deleted", name);
    while ((e = ic_map_next(&t->things, &it)) != NULL) {
        const ic_thing_t *th = e->val;
        if (th->type && strcmp(th->type, name) == 0)
            return ic_str_fail(why, whylen, IC_ECONFLICT,
                        "thing type %s is still used by %s", name, th->name);
    }
    /* name may be the type's own (a borrowed view): use it before the free */
    t->gen++;
    if (t->db)
        ic_thingdb_del_type(t->db, name);
    ic_map_del(&t->types, name, strlen(name));
    free_type(ty);
    return 0;
}

/* ---- groups ------------------------------------------------------------------------- */

static const group_t *root_of(const ic_things_t *t, const group_t *g, int *depth) {
    int d = 0;
    while (g->parent && d <= MAX_GROUP_DEPTH + 1) {
        const group_t *p = ic_map_get(&t->groups, g->parent, strlen(g->parent));
        if (p == NULL)
            break;
        g = p;
        d++;
    }
    if (depth)
        *depth = d;
    return g;
}

static void persist_group(ic_things_t *t, const group_t *g) {
    t->gen++;
    if (t->db)
        ic_thingdb_put_group(t->db, g->name, g->parent, g->created_ms, g->id,
                             g->props, g->version);
}

int ic_things_create_group_ex(ic_things_t *t, const char *name,
                              const char *parent, const char *props_json,
                              int64_t now_ms, char *why, size_t whylen) {
    group_t *g, *p = NULL;
    int depth = 0;
    if (!ic_things_is_valid_name(name))
        return ic_str_fail(why, whylen, IC_EINVAL, "invalid thing group name '%s'", name);
    if (ic_map_get(&t->groups, name, strlen(name)) != NULL)
        return ic_str_fail(why, whylen, IC_EEXIST, "thing group %s already exists", name);
    if (parent && parent[0]) {
        p = ic_map_get(&t->groups, parent, strlen(parent));
        if (p == NULL)
            return ic_str_fail(why, whylen, IC_ENOTFOUND, "parent group %s does not exist",
                        parent);
        root_of(t, p, &depth);
        if (depth + 2 > MAX_GROUP_DEPTH) /* levels counted from the root = 1 */
            return ic_str_fail(why, whylen, IC_EINVAL,
                        "thing group hierarchy deeper than %d", MAX_GROUP_DEPTH);
    }
    g = ic_xcalloc(1, sizeof(*g));
    g->name = ic_xstrdup(name);
    g->parent = p ? ic_xstrdup(parent) : NULL;
    g->props = ic_xstrdup(props_json && props_json[0] ? props_json : "{}");
    g->version = 1;
    g->created_ms = now_ms;
    ic_str_uuid(g->id);
    ic_map_put(&t->groups, name, strlen(name), g);
    persist_group(t, g);
    return 0;
}

int ic_things_create_group(ic_things_t *t, const char *name, const char *parent,
                           int64_t now_ms, char *why, size_t whylen) {
    return ic_things_create_group_ex(t, name, parent, NULL, now_ms, why, whylen);
}

static void push_link(links_t *l, const char *a, const char *b, bool exclusive) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = ic_xrealloc(l->v, l->cap * sizeof(link_t));
    }
    l->v[l->n].a = ic_xstrdup(a);
    l->v[l->n].b = ic_xstrdup(b);
    l->v[l->n].exclusive = exclusive;
    l->n++;
}

size_t ic_things_groups_of(const ic_things_t *t, const char *thing,
                           const char **out, size_t cap) {
    size_t i, n = 0;
    for (i = 0; i < t->members.n; i++)
        if (strcmp(t->members.v[i].b, thing) == 0) {
            if (n < cap)
                out[n] = t->members.v[i].a;
            n++;
        }
    return n;
}

int ic_things_add_to_group(ic_things_t *t, const char *group, const char *thing,
                           char *why, size_t whylen) {
    const group_t *g = ic_map_get(&t->groups, group, strlen(group)), *root;
    const char *mine[MAX_GROUPS_PER_THING + 1];
    size_t n, i;
    if (g == NULL)
        return ic_str_fail(why, whylen, IC_ENOTFOUND, "thing group %s does not exist", group);
    if (ic_map_get(&t->things, thing, strlen(thing)) == NULL)
        return ic_str_fail(why, whylen, IC_ENOTFOUND, "thing %s does not exist", thing);
    n = ic_things_groups_of(t, thing, mine, MAX_GROUPS_PER_THING + 1);
    root = root_of(t, g, NULL);
    for (i = 0; i < n && i <= MAX_GROUPS_PER_THING; i++) {
        const group_t *o = ic_map_get(&t->groups, mine[i], strlen(mine[i]));
        if (strcmp(mine[i], group) == 0)
            return 0; /* already a member */
        if (o && root_of(t, o, NULL) == root) /* AWS 7.3 */
            return ic_str_fail(why, whylen, IC_ECONFLICT,
                        "thing %s is already in group %s of the same hierarchy",
                        thing, mine[i]);
    }
    if (n >= MAX_GROUPS_PER_THING)
        return ic_str_fail(why, whylen, IC_EINVAL, "thing %s is already in %d groups",
                    thing, MAX_GROUPS_PER_THING);
    push_link(&t->members, group, thing, false);
    t->gen++;
    if (t->db)
        ic_thingdb_put_member(t->db, group, thing);
    return 0;
}

int ic_things_remove_from_group(ic_things_t *t, const char *group,
                                const char *thing) {
    size_t i;
    for (i = 0; i < t->members.n; i++) {
        link_t *l = &t->members.v[i];
        if (strcmp(l->a, group) == 0 && strcmp(l->b, thing) == 0) {
            free(l->a);
            free(l->b);
            *l = t->members.v[--t->members.n];
            t->gen++;
            if (t->db)
                ic_thingdb_del_member(t->db, group, thing);
            return 0;
        }
    }
    return IC_ENOTFOUND;
}

/* ---- principals ------------------------------------------------------------------------ */

/* "arn:aws:iot:REGION:ACCOUNT:cert/ID" -> "ID"; anything else as given. */
static const char *principal_key(const char *p) {
    const char *c = strstr(p, ":cert/");
    return ic_str_has_prefix(p, "arn:") && c ? c + 6 : p;
}

int ic_things_attach_principal(ic_things_t *t, const char *thing,
                               const char *principal, bool exclusive,
                               char *why, size_t whylen) {
    const char *key = principal_key(principal);
    size_t i;
    if (ic_map_get(&t->things, thing, strlen(thing)) == NULL)
        return ic_str_fail(why, whylen, IC_ENOTFOUND, "thing %s does not exist", thing);
    for (i = 0; i < t->principals.n; i++) {
        link_t *l = &t->principals.v[i];
        if (strcmp(l->b, key) != 0)
            continue;
        if (strcmp(l->a, thing) == 0) {
            if (l->exclusive != exclusive) {
                l->exclusive = exclusive;
                t->gen++;
                if (t->db)
                    ic_thingdb_put_principal(t->db, thing, key, exclusive);
            }
            return 0;
        }
        /* AWS 4.7: an exclusive principal belongs to one thing only */
        if (exclusive || l->exclusive)
            return ic_str_fail(why, whylen, IC_ECONFLICT,
                        "principal is %s attached to thing %s",
                        l->exclusive ? "exclusively" : "already", l->a);
    }
    push_link(&t->principals, thing, key, exclusive);
    t->gen++;
    if (t->db)
        ic_thingdb_put_principal(t->db, thing, key, exclusive);
    return 0;
}

int ic_things_detach_principal(ic_things_t *t, const char *thing,
                               const char *principal) {
    const char *key = principal_key(principal);
    size_t i;
    for (i = 0; i < t->principals.n; i++) {
        link_t *l = &t->principals.v[i];
        if (strcmp(l->a, thing) == 0 && strcmp(l->b, key) == 0) {
            free(l->a);
            free(l->b);
            *l = t->principals.v[--t->principals.n];
            t->gen++;
            if (t->db)
                ic_thingdb_del_principal(t->db, thing, key);
            return 0;
        }
    }
    return IC_ENOTFOUND;
}

size_t ic_things_of_principal(const ic_things_t *t, const char *principal,
                              const char **out, size_t cap) {
    const char *key = principal_key(principal);
    size_t i, n = 0;
    for (i = 0; i < t->principals.n; i++)
        if (strcmp(t->principals.v[i].b, key) == 0) {
            if (n < cap)
                out[n] = t->principals.v[i].a;
            n++;
        }
    return n;
}

const char *ic_things_connection_thing(const ic_things_t *t,
                                       const char *principal,
                                       const char *client_id) {
    const char *key = principal_key(principal);
    size_t i;
    for (i = 0; i < t->principals.n; i++)
        if (strcmp(t->principals.v[i].a, client_id) == 0 &&
            strcmp(t->principals.v[i].b, key) == 0)
            return t->principals.v[i].a;
    return NULL;
}

/* ---- loading ---------------------------------------------------------------------------- */

static void load_type(const char *name, const char *description, bool deprecated,
                      int64_t created_ms, const char *id, const char *props,
                      int64_t deprecated_ms, void *data) {
    ic_things_t *t = data;
    type_t *ty = ic_xcalloc(1, sizeof(*ty));
    ty->name = ic_xstrdup(name);
    ty->description = ic_xstrdup(description);
    ty->props = ic_xstrdup(props && props[0] ? props : "{}");
    ic_strlcpy(ty->id, id, sizeof(ty->id));
    if (ty->id[0] == '\0')
        ic_str_uuid(ty->id);
    ty->is_deprecated = deprecated;
    ty->deprecated_ms = deprecated_ms;
    ty->created_ms = created_ms;
    ic_map_put(&t->types, name, strlen(name), ty);
}

static void load_thing(const char *name, const char *id, const char *type,
                       const char *json, int64_t version, int64_t created_ms,
                       void *data) {
    ic_things_t *t = data;
    ic_thing_t *th = ic_xcalloc(1, sizeof(*th));
    cJSON *o = cJSON_Parse(json), *it;
    th->name = ic_xstrdup(name);
    ic_strlcpy(th->id, id, sizeof(th->id));
    th->type = type ? ic_xstrdup(type) : NULL;
    th->version = version;
    th->created_ms = created_ms;
    cJSON_ArrayForEach(it, o) {
        if (cJSON_IsString(it))
            set_attr(th, it->string, it->valuestring);
    }
    cJSON_Delete(o);
    ic_map_put(&t->things, name, strlen(name), th);
}

static void load_group(const char *name, const char *parent, int64_t created_ms,
                       const char *id, const char *props, int64_t version,
                       void *data) {
    ic_things_t *t = data;
    group_t *g = ic_xcalloc(1, sizeof(*g));
    g->name = ic_xstrdup(name);
    g->parent = parent ? ic_xstrdup(parent) : NULL;
    g->props = ic_xstrdup(props && props[0] ? props : "{}");
    ic_strlcpy(g->id, id, sizeof(g->id));
    if (g->id[0] == '\0')
        ic_str_uuid(g->id);
    g->version = version > 0 ? version : 1;
    g->created_ms = created_ms;
    ic_map_put(&t->groups, name, strlen(name), g);
}

static void load_member(const char *group, const char *thing, void *data) {
    push_link(&((ic_things_t *)data)->members, group, thing, false);
}

static void load_principal(const char *thing, const char *principal,
                           bool exclusive, void *data) {
    push_link(&((ic_things_t *)data)->principals, thing, principal, exclusive);
}

int ic_things_load(ic_things_t *t) {
    ic_thingdb_loader_t l = {load_type, load_thing, load_group, load_member,
                             load_principal, t};
    if (t->db == NULL)
        return 0;
    clear(t);
    t->gen++;
    ic_map_init(&t->things);
    ic_map_init(&t->types);
    ic_map_init(&t->groups);
    return ic_thingdb_load(t->db, &l);
}

/* ---- queries and changes for the control plane ------------------------------------ */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys of map m, sorted, into out (up to cap); returns the total. */
static size_t sorted_keys(const ic_map_t *m, const char **out, size_t cap) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    size_t n = 0;
    while ((e = ic_map_next((ic_map_t *)(uintptr_t)m, &it)) != NULL) {
        if (n < cap)
            out[n] = e->key;
        n++;
    }
    if (out != NULL && cap > 0)
        qsort(out, n < cap ? n : cap, sizeof(*out), cmp_str);
    return n;
}

uint64_t ic_things_generation(const ic_things_t *t) {
    return t->gen;
}

size_t ic_things_list(const ic_things_t *t, const char **out, size_t cap) {
    return sorted_keys(&t->things, out, cap);
}

size_t ic_things_list_types(const ic_things_t *t, const char **out, size_t cap) {
    return sorted_keys(&t->types, out, cap);
}

size_t ic_things_list_groups(const ic_things_t *t, const char **out, size_t cap) {
    return sorted_keys(&t->groups, out, cap);
}

bool ic_things_get_type(const ic_things_t *t, const char *name,
                        ic_thing_type_t *out) {
    const type_t *ty = ic_map_get(&t->types, name, strlen(name));
    if (ty == NULL)
        return false;
    out->name = ty->name;
    out->id = ty->id;
    out->description = ty->description;
    out->props_json = ty->props;
    out->is_deprecated = ty->is_deprecated;
    out->deprecated_ms = ty->deprecated_ms;
    out->created_ms = ty->created_ms;
    return true;
}

bool ic_things_get_group(const ic_things_t *t, const char *name,
                         ic_thing_group_t *out) {
    const group_t *g = ic_map_get(&t->groups, name, strlen(name));
    if (g == NULL)
        return false;
    out->name = g->name;
    out->id = g->id;
    out->parent = g->parent;
    out->props_json = g->props;
    out->version = g->version;
    out->created_ms = g->created_ms;
    return true;
}

int ic_things_update_group(ic_things_t *t, const char *name,
                           const char *props_json, int64_t expected_version,
                           int64_t *new_version) {
    group_t *g = ic_map_get(&t->groups, name, strlen(name));
    if (g == NULL)
        return IC_ENOTFOUND;
    if (expected_version >= 0 && expected_version != g->version)
        return IC_ECONFLICT;
    free(g->props);
    g->props = ic_xstrdup(props_json && props_json[0] ? props_json : "{}");
    g->version++;
    if (new_version)
        *new_version = g->version;
    persist_group(t, g);
    return 0;
}

int ic_things_delete_group(ic_things_t *t, const char *name,
                           int64_t expected_version, char *why, size_t whylen) {
    group_t *g = ic_map_get(&t->groups, name, strlen(name));
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    if (g == NULL)
        return 0; /* AWS: deleting a group that does not exist succeeds */
    if (expected_version >= 0 && expected_version != g->version)
        return ic_str_fail(why, whylen, IC_ECONFLICT,
                    "The version for thing group %s does not match the expected "
                    "version.", name);
    while ((e = ic_map_next(&t->groups, &it)) != NULL) {
        const group_t *c = e->val;
        if (c->parent && strcmp(c->parent, name) == 0)
            return ic_str_fail(why, whylen, IC_EPROTO,
                        "Cannot delete thing group : %s when there are still "
                        "child groups attached to it", name);
    }
    drop_links(&t->members, true, name);
    ic_map_del(&t->groups, name, strlen(name));
    t->gen++;
    if (t->db)
        ic_thingdb_del_group(t->db, name);
    free_group(g);
    return 0;
}

size_t ic_things_members(const ic_things_t *t, const char *group,
                         const char **out, size_t cap) {
    size_t i, n = 0;
    for (i = 0; i < t->members.n; i++)
        if (strcmp(t->members.v[i].a, group) == 0) {
            if (n < cap)
                out[n] = t->members.v[i].b;
            n++;
        }
    if (out != NULL && cap > 0)
        qsort(out, n < cap ? n : cap, sizeof(*out), cmp_str);
    return n;
}

size_t ic_things_principals_of(const ic_things_t *t, const char *thing,
                               const char **out, bool *exclusive, size_t cap) {
    size_t i, n = 0;
    for (i = 0; i < t->principals.n; i++)
        if (strcmp(t->principals.v[i].a, thing) == 0) {
            if (n < cap) {
                out[n] = t->principals.v[i].b;
                if (exclusive)
                    exclusive[n] = t->principals.v[i].exclusive;
            }
            n++;
        }
    return n;
}
