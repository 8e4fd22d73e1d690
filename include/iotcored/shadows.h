/* shadows.h - SQL for the shadows table (schema step 6). Writes are queued
 * (group commit); the load is a blocking read for start-up. */
#ifndef IOTCORED_SHADOWS_H
#define IOTCORED_SHADOWS_H

#include "iotcored/db.h"

#include <stdint.h>

/* doc NULL: deleted at deleted_ms with version. cb (may be NULL) as for
 * ic_db_exec: fires once the row is committed. */
int ic_shadowdb_put(ic_db_t *db, const char *thing, const char *name,
                    const char *doc, int64_t version, int64_t deleted_ms,
                    ic_db_done_cb cb, void *data);

typedef void (*ic_shadowdb_row_fn)(const char *thing, const char *name,
                                   const char *doc, int64_t version,
                                   int64_t deleted_ms, void *data);
int ic_shadowdb_load(ic_db_t *db, ic_shadowdb_row_fn fn, void *data);

#endif
