/* migrate.c - the schema, as an ordered list of steps.
 *
 * Owns the DDL. Each step moves PRAGMA user_version from N-1 to N inside one
 * transaction, so a crash mid-migration leaves the previous version intact.
 * Steps are append-only: a released step is never edited, a later step fixes
 * it. Runs on the opening thread before the writer thread starts.
 */
#include "iotcored/migrate.h"

#include "iotcored/error.h"

#include <sqlite3.h>
#include <stdio.h>

static const char *const steps[] = {
    /* 1: broker metadata (boot counter, instance facts). */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ") WITHOUT ROWID;",
    /* 2: persistent MQTT sessions and retained messages. */
    "CREATE TABLE sessions ("
    "  client_id TEXT PRIMARY KEY,"
    "  version INTEGER NOT NULL,"
    "  expiry_s INTEGER NOT NULL,"
    "  offline_since_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE subscriptions ("
    "  client_id TEXT NOT NULL REFERENCES sessions(client_id)"
    "    ON DELETE CASCADE,"
    "  filter TEXT NOT NULL,"
    "  opts INTEGER NOT NULL,"
    "  PRIMARY KEY (client_id, filter)"
    ") WITHOUT ROWID;"
    "CREATE TABLE session_messages ("
    "  client_id TEXT NOT NULL REFERENCES sessions(client_id)"
    "    ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  topic TEXT NOT NULL,"
    "  payload BLOB NOT NULL,"
    "  qos INTEGER NOT NULL,"
    "  retain INTEGER NOT NULL,"
    "  props BLOB NOT NULL,"
    "  expires_at_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (client_id, seq)"
    ") WITHOUT ROWID;"
    "CREATE TABLE retained ("
    "  topic TEXT PRIMARY KEY,"
    "  payload BLOB NOT NULL,"
    "  qos INTEGER NOT NULL,"
    "  props BLOB NOT NULL,"
    "  expires_at_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;",
    /* 3: certificate registry. */
    "CREATE TABLE ca_certificates ("
    "  id TEXT PRIMARY KEY,"
    "  pem TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  auto_registration INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE certificates ("
    "  id TEXT PRIMARY KEY,"
    "  pem TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  ca_id TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;",
    /* 4: things, thing types, thing groups, principal attachments. */
    "CREATE TABLE thing_types ("
    "  name TEXT PRIMARY KEY,"
    "  description TEXT NOT NULL,"
    "  deprecated INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE things ("
    "  name TEXT PRIMARY KEY,"
    "  id TEXT NOT NULL,"
    "  type TEXT,"
    "  attributes TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE thing_groups ("
    "  name TEXT PRIMARY KEY,"
    "  parent TEXT,"
    "  created_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE thing_group_members ("
    "  group_name TEXT NOT NULL,"
    "  thing_name TEXT NOT NULL,"
    "  PRIMARY KEY (group_name, thing_name)"
    ") WITHOUT ROWID;"
    "CREATE TABLE thing_principals ("
    "  thing_name TEXT NOT NULL,"
    "  principal TEXT NOT NULL,"
    "  exclusive INTEGER NOT NULL,"
    "  PRIMARY KEY (thing_name, principal)"
    ") WITHOUT ROWID;",
    /* 5: IoT policies with versions and attachments; what the control
     * plane adds to thing types, groups and CA certificates. */
    "CREATE TABLE policies ("
    "  name TEXT PRIMARY KEY,"
    "  default_version INTEGER NOT NULL,"
    "  next_version INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE policy_versions ("
    "  policy TEXT NOT NULL REFERENCES policies(name) ON DELETE CASCADE,"
    "  version INTEGER NOT NULL,"
    "  document TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (policy, version)"
    ") WITHOUT ROWID;"
    "CREATE TABLE policy_targets ("
    "  policy TEXT NOT NULL REFERENCES policies(name) ON DELETE CASCADE,"
    "  target TEXT NOT NULL,"
    "  PRIMARY KEY (policy, target)"
    ") WITHOUT ROWID;"
    "CREATE INDEX policy_targets_by_target ON policy_targets(target);"
    "ALTER TABLE thing_types ADD COLUMN id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE thing_types ADD COLUMN props TEXT NOT NULL DEFAULT '{}';"
    "ALTER TABLE thing_types ADD COLUMN deprecated_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE thing_groups ADD COLUMN id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE thing_groups ADD COLUMN props TEXT NOT NULL DEFAULT '{}';"
    "ALTER TABLE thing_groups ADD COLUMN version INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE ca_certificates ADD COLUMN props TEXT NOT NULL DEFAULT '{}';"
    "ALTER TABLE certificates ADD COLUMN props TEXT NOT NULL DEFAULT '{}';",
    /* 6: Device Shadows (classic: name ""); a deleted shadow keeps its row
     * (doc NULL) so a re-creation within the window continues its
     * version. */
    "CREATE TABLE shadows ("
    "  thing TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  doc TEXT,"
    "  version INTEGER NOT NULL,"
    "  deleted_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (thing, name)"
    ") WITHOUT ROWID;",
    /* 7: topic rules: the TopicRulePayload as given (normalised JSON, with
     * ruleDisabled), tags as JSON. */
    "CREATE TABLE topic_rules ("
    "  name TEXT PRIMARY KEY,"
    "  payload TEXT NOT NULL,"
    "  tags TEXT NOT NULL DEFAULT '[]',"
    "  created_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;",
    /* 8: custom authorizers; keys is a JSON object (key name -> PEM),
     * token_key_name '' when none; at most one row is_default. */
    "CREATE TABLE authorizers ("
    "  name TEXT PRIMARY KEY,"
    "  function_arn TEXT NOT NULL,"
    "  token_key_name TEXT NOT NULL,"
    "  keys TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  signing_disabled INTEGER NOT NULL,"
    "  caching_for_http INTEGER NOT NULL,"
    "  tags TEXT NOT NULL DEFAULT '[]',"
    "  is_default INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;",
};

int ic_migrate_latest(void) {
    return (int)(sizeof(steps) / sizeof(steps[0]));
}

static int user_version(sqlite3 *db, int *out) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int ic_migrate_apply(sqlite3 *db, char *err, size_t errlen) {
    int v = 0, latest = ic_migrate_latest();
    char sql[64];
    char *msg = NULL;

    if (user_version(db, &v) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read schema version: %s",
                 sqlite3_errmsg(db));
        return IC_ESTORE;
    }
    if (v > latest) {
        snprintf(err, errlen,
                 "database schema version %d is newer than this build (%d)", v,
                 latest);
        return IC_ESTORE;
    }
    for (; v < latest; v++) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, steps[v], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration to schema %d failed: %s", v + 1,
                     msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return IC_ESTORE;
        }
    }
    return 0;
}
