/* policydb.h - SQL for the policy tables (policies, policy_versions,
 * policy_targets; schema step 5 in migrate.c). Writes are queued; the load
 * is a blocking read for start-up and SIGHUP.
 *
 * Every put/del queues one or more statements with ic_db_exec and returns
 * its result: 0 (queued; the write commits later, in queue order) or
 * IC_ECLOSED once the db is closing. Strings are borrowed for the call
 * (ic_db_exec copies them). Rules (limits, what may be deleted) are
 * policies.c's; these functions write what they are told.
 */
#ifndef IOTCORED_POLICYDB_H
#define IOTCORED_POLICYDB_H

#include "iotcored/db.h"

#include <stdint.h>

/* Insert the policy row, or update default_version, next_version and
 * updated_ms of an existing one (never a REPLACE: that would cascade to
 * the policy's versions and targets). */
int ic_policydb_put_policy(ic_db_t *db, const char *name,
                           int64_t default_version, int64_t next_version,
                           int64_t created_ms, int64_t updated_ms);
/* Delete the policy with its versions and targets. */
int ic_policydb_del_policy(ic_db_t *db, const char *name);
/* Insert or overwrite one version. The policy row must be queued first. */
int ic_policydb_put_version(ic_db_t *db, const char *policy, int64_t version,
                            const char *document, int64_t created_ms);
int ic_policydb_del_version(ic_db_t *db, const char *policy, int64_t version);
/* Attach (idempotent) / detach one target. */
int ic_policydb_put_target(ic_db_t *db, const char *policy, const char *target);
int ic_policydb_del_target(ic_db_t *db, const char *policy, const char *target);
/* Detach target from every policy. */
int ic_policydb_del_target_all(ic_db_t *db, const char *target);

/* Row callbacks for ic_policydb_load; strings are borrowed for the call. */
typedef struct ic_policydb_loader_s {
    void (*policy)(const char *name, int64_t default_version,
                   int64_t next_version, int64_t created_ms,
                   int64_t updated_ms, void *data);
    void (*version)(const char *policy, int64_t version, const char *document,
                    int64_t created_ms, void *data);
    void (*target)(const char *policy, const char *target, void *data);
    void *data;
} ic_policydb_loader_t;

/* Policies (ascending name), then versions (ascending policy, version),
 * then targets (ascending policy, target), each through l (borrowed).
 * Sees committed writes only. 0 or IC_ESTORE. */
int ic_policydb_load(ic_db_t *db, const ic_policydb_loader_t *l);

#endif
