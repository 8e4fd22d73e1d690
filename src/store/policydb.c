/* policydb.c - row <-> value mapping of the policy tables (schema:
 * migrate.c step 5): policies, policy_versions, policy_targets.
 *
 * Owns only SQL text. Keeps no state and decides nothing: policies.c
 * enforces the AWS rules and calls in here to write through and to load.
 * Writes go through the db writer queue (ic_db_exec), so they are applied in
 * call order; the load is a blocking read on the reader connection.
 * Foreign keys are on (db.c), so the policy row is always written before
 * its versions and targets, and deleted after them.
 */
#include "iotcored/policydb.h"

#include <string.h>

#define T(s) IC_DB_TEXTV((s), strlen(s))

int ic_policydb_put_policy(ic_db_t *db, const char *name,
                           int64_t default_version, int64_t next_version,
                           int64_t created_ms, int64_t updated_ms) {
    ic_db_val_t v[5] = {T(name), IC_DB_INTV(default_version),
                        IC_DB_INTV(next_version), IC_DB_INTV(created_ms),
                        IC_DB_INTV(updated_ms)};
    /* DO UPDATE, not INSERT OR REPLACE: a replace deletes the row first and
     * the ON DELETE CASCADE would take the versions and targets with it. */
    return ic_db_exec(db,
                      "INSERT INTO policies(name, default_version, next_version, "
                      "created_ms, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5) "
                      "ON CONFLICT(name) DO UPDATE SET default_version = "
                      "excluded.default_version, next_version = "
                      "excluded.next_version, updated_ms = excluded.updated_ms",
                      v, 5, NULL, NULL);
}

int ic_policydb_del_policy(ic_db_t *db, const char *name) {
    ic_db_val_t v = T(name);
    /* The cascade would do this; explicit deletes keep the store right
     * even on a connection opened without foreign_keys. */
    int rc = ic_db_exec(db, "DELETE FROM policy_targets WHERE policy = ?1", &v, 1,
                        NULL, NULL);
    if (rc == 0)
        rc = ic_db_exec(db, "DELETE FROM policy_versions WHERE policy = ?1", &v,
                        1, NULL, NULL);
    if (rc == 0)
        rc = ic_db_exec(db, "DELETE FROM policies WHERE name = ?1", &v, 1, NULL,
                        NULL);
    return rc;
}

int ic_policydb_put_version(ic_db_t *db, const char *policy, int64_t version,
                            const char *document, int64_t created_ms) {
    ic_db_val_t v[4] = {T(policy), IC_DB_INTV(version), T(document),
                        IC_DB_INTV(created_ms)};
    return ic_db_exec(db,
                      "INSERT INTO policy_versions(policy, version, document, "
                      "created_ms) VALUES(?1, ?2, ?3, ?4) ON CONFLICT(policy, "
                      "version) DO UPDATE SET document = excluded.document, "
                      "created_ms = excluded.created_ms",
                      v, 4, NULL, NULL);
}

int ic_policydb_del_version(ic_db_t *db, const char *policy, int64_t version) {
    ic_db_val_t v[2] = {T(policy), IC_DB_INTV(version)};
    return ic_db_exec(db,
                      "DELETE FROM policy_versions WHERE policy = ?1 AND "
                      "version = ?2",
                      v, 2, NULL, NULL);
}

int ic_policydb_put_target(ic_db_t *db, const char *policy, const char *target) {
    ic_db_val_t v[2] = {T(policy), T(target)};
    return ic_db_exec(db,
                      "INSERT OR IGNORE INTO policy_targets(policy, target) "
                      "VALUES(?1, ?2)",
                      v, 2, NULL, NULL);
}

int ic_policydb_del_target(ic_db_t *db, const char *policy, const char *target) {
    ic_db_val_t v[2] = {T(policy), T(target)};
    return ic_db_exec(db,
                      "DELETE FROM policy_targets WHERE policy = ?1 AND "
                      "target = ?2",
                      v, 2, NULL, NULL);
}

int ic_policydb_del_target_all(ic_db_t *db, const char *target) {
    ic_db_val_t v = T(target);
    return ic_db_exec(db, "DELETE FROM policy_targets WHERE target = ?1", &v, 1,
                      NULL, NULL);
}

static int on_policy(const ic_db_row_t *r, void *d) {
    const ic_policydb_loader_t *l = d;
    l->policy(ic_db_row_text(r, 0), ic_db_row_int(r, 1), ic_db_row_int(r, 2),
              ic_db_row_int(r, 3), ic_db_row_int(r, 4), l->data);
    return 0;
}

static int on_version(const ic_db_row_t *r, void *d) {
    const ic_policydb_loader_t *l = d;
    l->version(ic_db_row_text(r, 0), ic_db_row_int(r, 1), ic_db_row_text(r, 2),
               ic_db_row_int(r, 3), l->data);
    return 0;
}

static int on_target(const ic_db_row_t *r, void *d) {
    const ic_policydb_loader_t *l = d;
    l->target(ic_db_row_text(r, 0), ic_db_row_text(r, 1), l->data);
    return 0;
}

int ic_policydb_load(ic_db_t *db, const ic_policydb_loader_t *l) {
    void *d = (void *)(uintptr_t)l;
    int rc = ic_db_query(db,
                         "SELECT name, default_version, next_version, created_ms, "
                         "updated_ms FROM policies ORDER BY name",
                         NULL, 0, on_policy, d);
    if (rc == 0)
        rc = ic_db_query(db,
                         "SELECT policy, version, document, created_ms FROM "
                         "policy_versions ORDER BY policy, version",
                         NULL, 0, on_version, d);
    if (rc == 0)
        rc = ic_db_query(db,
                         "SELECT policy, target FROM policy_targets ORDER BY "
                         "policy, target",
                         NULL, 0, on_target, d);
    return rc;
}
