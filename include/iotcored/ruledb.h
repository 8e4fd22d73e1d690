/* ruledb.h - SQL for the topic_rules table (schema step 7). Writes are
 * queued (group commit, applied in call order): 0 or IC_ECLOSED; the load
 * is a blocking read for start-up. Strings borrowed for the call. */
#ifndef IOTCORED_RULEDB_H
#define IOTCORED_RULEDB_H

#include "iotcored/db.h"

#include <stdint.h>

/* Insert or overwrite the rule. */
int ic_ruledb_put(ic_db_t *db, const char *name, const char *payload,
                  const char *tags, int64_t created_ms);
int ic_ruledb_del(ic_db_t *db, const char *name);

typedef void (*ic_ruledb_row_fn)(const char *name, const char *payload,
                                 const char *tags, int64_t created_ms,
                                 void *data);
/* Every stored rule, in name order. 0 or IC_ESTORE. */
int ic_ruledb_load(ic_db_t *db, ic_ruledb_row_fn fn, void *data);

#endif
