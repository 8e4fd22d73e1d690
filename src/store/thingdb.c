/* thingdb.c - row <-> value mapping of the thing registry tables (schema:
 * migrate.c step 4). Keeps no state; things.c decides. */
#include "iotcored/thingdb.h"

#include <string.h>

#define T(s) IC_DB_TEXTV((s), strlen(s))
#define TN(s) ((s) && (s)[0] ? T(s) : IC_DB_NULLV)

int ic_thingdb_put_thing(ic_db_t *db, const char *name, const char *id,
                         const char *type, const char *attributes_json,
                         int64_t version, int64_t created_ms) {
    ic_db_val_t v[6] = {T(name), T(id), TN(type), T(attributes_json),
                        IC_DB_INTV(version), IC_DB_INTV(created_ms)};
    return ic_db_exec(db,
                      "INSERT INTO things(name, id, type, attributes, version, "
                      "created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(name) "
                      "DO UPDATE SET type = excluded.type, attributes = "
                      "excluded.attributes, version = excluded.version",
                      v, 6, NULL, NULL);
}

int ic_thingdb_del_thing(ic_db_t *db, const char *name) {
    ic_db_val_t v = T(name);
    int rc = ic_db_exec(db, "DELETE FROM things WHERE name = ?1", &v, 1, NULL, NULL);
    if (rc == 0)
        rc = ic_db_exec(db, "DELETE FROM thing_group_members WHERE thing_name = ?1",
                        &v, 1, NULL, NULL);
    if (rc == 0)
        rc = ic_db_exec(db, "DELETE FROM thing_principals WHERE thing_name = ?1", &v,
                        1, NULL, NULL);
    return rc;
}

int ic_thingdb_put_type(ic_db_t *db, const char *name, const char *description,
                        bool deprecated, int64_t created_ms, const char *id,
                        const char *props, int64_t deprecated_ms) {
    ic_db_val_t v[7] = {T(name), T(description), IC_DB_INTV(deprecated),
                        IC_DB_INTV(created_ms), T(id), T(props),
                        IC_DB_INTV(deprecated_ms)};
    return ic_db_exec(db,
                      "INSERT INTO thing_types(name, description, deprecated, "
                      "created_ms, id, props, deprecated_ms) VALUES(?1, ?2, ?3, "
                      "?4, ?5, ?6, ?7) ON CONFLICT(name) DO "
                      "UPDATE SET deprecated = excluded.deprecated, "
                      "deprecated_ms = excluded.deprecated_ms",
                      v, 7, NULL, NULL);
}

int ic_thingdb_del_type(ic_db_t *db, const char *name) {
    ic_db_val_t v = T(name);
    return ic_db_exec(db, "DELETE FROM thing_types WHERE name = ?1", &v, 1, NULL,
                      NULL);
}

int ic_thingdb_put_group(ic_db_t *db, const char *name, const char *parent,
                         int64_t created_ms, const char *id, const char *props,
                         int64_t version) {
    ic_db_val_t v[6] = {T(name), TN(parent), IC_DB_INTV(created_ms), T(id),
                        T(props), IC_DB_INTV(version)};
    return ic_db_exec(db,
                      "INSERT INTO thing_groups(name, parent, created_ms, id, "
                      "props, version) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
                      "ON CONFLICT(name) DO UPDATE SET props = excluded.props, "
                      "version = excluded.version",
                      v, 6, NULL, NULL);
}

int ic_thingdb_del_group(ic_db_t *db, const char *name) {
    ic_db_val_t v = T(name);
    int rc = ic_db_exec(db, "DELETE FROM thing_group_members WHERE group_name = ?1",
                        &v, 1, NULL, NULL);
    if (rc == 0)
        rc = ic_db_exec(db, "DELETE FROM thing_groups WHERE name = ?1", &v, 1,
                        NULL, NULL);
    return rc;
}

int ic_thingdb_put_member(ic_db_t *db, const char *group, const char *thing) {
    ic_db_val_t v[2] = {T(group), T(thing)};
    return ic_db_exec(db,
                      "INSERT OR IGNORE INTO thing_group_members(group_name, "
                      "thing_name) VALUES(?1, ?2)",
                      v, 2, NULL, NULL);
}

int ic_thingdb_del_member(ic_db_t *db, const char *group, const char *thing) {
    ic_db_val_t v[2] = {T(group), T(thing)};
    return ic_db_exec(db,
                      "DELETE FROM thing_group_members WHERE group_name = ?1 AND "
                      "thing_name = ?2",
                      v, 2, NULL, NULL);
}

int ic_thingdb_put_principal(ic_db_t *db, const char *thing,
                             const char *principal, bool exclusive) {
    ic_db_val_t v[3] = {T(thing), T(principal), IC_DB_INTV(exclusive)};
    return ic_db_exec(db,
                      "INSERT INTO thing_principals(thing_name, principal, "
                      "exclusive) VALUES(?1, ?2, ?3) ON CONFLICT(thing_name, "
                      "principal) DO UPDATE SET exclusive = excluded.exclusive",
                      v, 3, NULL, NULL);
}

int ic_thingdb_del_principal(ic_db_t *db, const char *thing,
                             const char *principal) {
    ic_db_val_t v[2] = {T(thing), T(principal)};
    return ic_db_exec(db,
                      "DELETE FROM thing_principals WHERE thing_name = ?1 AND "
                      "principal = ?2",
                      v, 2, NULL, NULL);
}

static int on_type(const ic_db_row_t *r, void *d) {
    const ic_thingdb_loader_t *l = d;
    l->type(ic_db_row_text(r, 0), ic_db_row_text(r, 1), ic_db_row_int(r, 2) != 0,
            ic_db_row_int(r, 3), ic_db_row_text(r, 4), ic_db_row_text(r, 5),
            ic_db_row_int(r, 6), l->data);
    return 0;
}

static int on_thing(const ic_db_row_t *r, void *d) {
    const ic_thingdb_loader_t *l = d;
    l->thing(ic_db_row_text(r, 0), ic_db_row_text(r, 1),
             ic_db_row_is_null(r, 2) ? NULL : ic_db_row_text(r, 2),
             ic_db_row_text(r, 3), ic_db_row_int(r, 4), ic_db_row_int(r, 5), l->data);
    return 0;
}

static int on_group(const ic_db_row_t *r, void *d) {
    const ic_thingdb_loader_t *l = d;
    l->group(ic_db_row_text(r, 0), ic_db_row_is_null(r, 1) ? NULL : ic_db_row_text(r, 1),
             ic_db_row_int(r, 2), ic_db_row_text(r, 3), ic_db_row_text(r, 4),
             ic_db_row_int(r, 5), l->data);
    return 0;
}

static int on_member(const ic_db_row_t *r, void *d) {
    const ic_thingdb_loader_t *l = d;
    l->member(ic_db_row_text(r, 0), ic_db_row_text(r, 1), l->data);
    return 0;
}

static int on_principal(const ic_db_row_t *r, void *d) {
    const ic_thingdb_loader_t *l = d;
    l->principal(ic_db_row_text(r, 0), ic_db_row_text(r, 1), ic_db_row_int(r, 2) != 0,
                 l->data);
    return 0;
}

int ic_thingdb_load(ic_db_t *db, const ic_thingdb_loader_t *l) {
    void *d = (void *)(uintptr_t)l;
    int rc = ic_db_query(db, "SELECT name, description, deprecated, created_ms, "
                             "id, props, deprecated_ms FROM thing_types", NULL, 0, on_type, d);
    if (rc == 0)
        rc = ic_db_query(db, "SELECT name, id, type, attributes, version, created_ms "
                             "FROM things", NULL, 0, on_thing, d);
    /* parents before children: a group's depth is its ancestors' count */
    if (rc == 0)
        rc = ic_db_query(db,
                         "WITH RECURSIVE tree(name, parent, created_ms, id, props, "
                         " version, depth) AS ("
                         " SELECT name, parent, created_ms, id, props, version, 0 "
                         "  FROM thing_groups "
                         "  WHERE parent IS NULL UNION ALL SELECT g.name, g.parent, "
                         "  g.created_ms, g.id, g.props, g.version, t.depth + 1 "
                         "  FROM thing_groups g JOIN tree t "
                         "  ON g.parent = t.name) "
                         "SELECT name, parent, created_ms, id, props, version "
                         "FROM tree ORDER BY depth",
                         NULL, 0, on_group, d);
    if (rc == 0)
        rc = ic_db_query(db, "SELECT group_name, thing_name FROM thing_group_members",
                         NULL, 0, on_member, d);
    if (rc == 0)
        rc = ic_db_query(db, "SELECT thing_name, principal, exclusive FROM "
                             "thing_principals", NULL, 0, on_principal, d);
    return rc;
}
