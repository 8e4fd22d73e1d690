/* things.h - the thing registry: things with attributes, thing types (with
 * deprecation), static thing groups (nested), and principals attached to
 * things, in memory over the store (aws-iot-auth.md 7.1-7.4, 4.7).
 *
 * Rules enforced here, with AWS's limits: names 1-128 of [a-zA-Z0-9:_-];
 * attribute keys <= 128 of [a-zA-Z0-9_.,@/:#-], values <= 800 of
 * [a-zA-Z0-9_.,@/:#=[]-]; at most 3 attributes without a type, 50 with
 * one; no new associations to a deprecated type; a group has one parent
 * fixed at creation, hierarchies at most 7 deep; a thing is in at most 10
 * groups and never in two groups of one hierarchy; an exclusive principal
 * is attached to that one thing only. Principals are certificate IDs (a
 * certificate ARN is reduced to its ID). The control plane (issue 6) puts
 * the AWS API on top of these calls. Loop thread only.
 */
#ifndef IOTCORED_THINGS_H
#define IOTCORED_THINGS_H

#include "iotcored/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ic_things_s ic_things_t;

typedef struct ic_attr_s {
    const char *key;   /* borrowed in calls; owned inside ic_thing_t */
    const char *value; /* "" in an update removes the attribute */
} ic_attr_t;

typedef struct ic_thing_s {
    char *name;
    char id[37];       /* UUID form, made at creation */
    char *type;        /* NULL = no type */
    ic_attr_t *attrs;  /* owned strings */
    size_t n_attrs;
    int64_t version;   /* 1 at creation, +1 per update */
    int64_t created_ms;
} ic_thing_t;

/* db may be NULL (memory only). */
ic_things_t *ic_things_new(ic_db_t *db);
void ic_things_free(ic_things_t *t);
/* (Re)load from the store. 0 or IC_ESTORE. */
int ic_things_load(ic_things_t *t);

bool ic_things_is_valid_name(const char *name);

/* Every call returns 0 or: IC_EINVAL (a rule; why says which),
 * IC_EEXIST, IC_ENOTFOUND, IC_ECONFLICT (version, exclusivity, hierarchy),
 * IC_EPROTO (deprecated type). why may be NULL. */
int ic_things_create(ic_things_t *t, const char *name, const char *type,
                     const ic_attr_t *attrs, size_t n, int64_t now_ms,
                     char *why, size_t whylen);
/* type: NULL = unchanged, "" = remove it. merge: keep attributes not
 * named (an empty value removes one); otherwise replace them all.
 * expected_version < 0: no check. */
int ic_things_update(ic_things_t *t, const char *name, const char *type,
                     const ic_attr_t *attrs, size_t n, bool merge,
                     int64_t expected_version, char *why, size_t whylen);
/* Deleting a thing that does not exist succeeds (AWS). Its group
 * memberships and principal attachments go with it. */
int ic_things_delete(ic_things_t *t, const char *name, int64_t expected_version,
                     char *why, size_t whylen);
const ic_thing_t *ic_things_get(const ic_things_t *t, const char *name);
size_t ic_things_count(const ic_things_t *t);

int ic_things_create_type(ic_things_t *t, const char *name,
                          const char *description, int64_t now_ms, char *why,
                          size_t whylen);
int ic_things_deprecate_type(ic_things_t *t, const char *name, bool undo);
/* Only a deprecated type no thing uses can be deleted. */
int ic_things_delete_type(ic_things_t *t, const char *name, char *why,
                          size_t whylen);

int ic_things_create_group(ic_things_t *t, const char *name, const char *parent,
                           int64_t now_ms, char *why, size_t whylen);
int ic_things_add_to_group(ic_things_t *t, const char *group, const char *thing,
                           char *why, size_t whylen);
int ic_things_remove_from_group(ic_things_t *t, const char *group,
                                const char *thing);
/* Groups of a thing (borrowed names), up to cap; returns the count. */
size_t ic_things_groups_of(const ic_things_t *t, const char *thing,
                           const char **out, size_t cap);

int ic_things_attach_principal(ic_things_t *t, const char *thing,
                               const char *principal, bool exclusive,
                               char *why, size_t whylen);
int ic_things_detach_principal(ic_things_t *t, const char *thing,
                               const char *principal);
/* Things a principal is attached to (borrowed names), up to cap. */
size_t ic_things_of_principal(const ic_things_t *t, const char *principal,
                              const char **out, size_t cap);
/* The thing a connection is associated with (aws-iot-auth.md 4.7): the
 * thing named by the client ID when principal is attached to it, else
 * NULL. */
const char *ic_things_connection_thing(const ic_things_t *t,
                                       const char *principal,
                                       const char *client_id);

/* ---- for the control plane ---------------------------------------------- */

/* Borrowed views, valid until the next change. */
typedef struct ic_thing_type_s {
    const char *name, *id, *description;
    const char *props_json;   /* thingTypeProperties as given, "{}" if none */
    bool is_deprecated;
    int64_t deprecated_ms, created_ms;
} ic_thing_type_t;

typedef struct ic_thing_group_s {
    const char *name, *id;
    const char *parent;       /* NULL for a root group */
    const char *props_json;   /* thingGroupProperties as given, "{}" */
    int64_t version, created_ms;
} ic_thing_group_t;

int ic_things_create_type_ex(ic_things_t *t, const char *name,
                             const char *description, const char *props_json,
                             int64_t now_ms, char *why, size_t whylen);
int ic_things_deprecate_type_at(ic_things_t *t, const char *name, bool undo,
                                int64_t now_ms);
int ic_things_create_group_ex(ic_things_t *t, const char *name,
                              const char *parent, const char *props_json,
                              int64_t now_ms, char *why, size_t whylen);
/* 0, IC_ENOTFOUND, IC_ECONFLICT (version). */
int ic_things_update_group(ic_things_t *t, const char *name,
                           const char *props_json, int64_t expected_version,
                           int64_t *new_version);
/* A missing group succeeds (AWS); one with child groups is IC_EPROTO;
 * version mismatch IC_ECONFLICT. Memberships go with it. */
int ic_things_delete_group(ic_things_t *t, const char *name,
                           int64_t expected_version, char *why, size_t whylen);
bool ic_things_get_type(const ic_things_t *t, const char *name,
                        ic_thing_type_t *out);
bool ic_things_get_group(const ic_things_t *t, const char *name,
                         ic_thing_group_t *out);
/* Bumped by every change (authorization caches compare it). */
uint64_t ic_things_generation(const ic_things_t *t);
/* Names (borrowed), sorted ascending, up to cap; return the total. */
size_t ic_things_list(const ic_things_t *t, const char **out, size_t cap);
size_t ic_things_list_types(const ic_things_t *t, const char **out, size_t cap);
size_t ic_things_list_groups(const ic_things_t *t, const char **out, size_t cap);
size_t ic_things_members(const ic_things_t *t, const char *group,
                         const char **out, size_t cap);
/* Principals (certificate IDs) attached to thing; exclusive may be NULL. */
size_t ic_things_principals_of(const ic_things_t *t, const char *thing,
                               const char **out, bool *exclusive, size_t cap);

#endif
