/* authorizerdb.h - SQL for the authorizers table (schema step 8 in
 * migrate.c). Writes are queued (group commit, applied in call order): 0,
 * or IC_ECLOSED once the db is closing. The load is a blocking read for
 * start-up. Strings are borrowed for the call (ic_db_exec copies them).
 * Rules (names, limits, what may be deleted) are authorizers.c's; these
 * functions write what they are told.
 */
#ifndef IOTCORED_AUTHORIZERDB_H
#define IOTCORED_AUTHORIZERDB_H

#include "iotcored/db.h"

#include <stdbool.h>
#include <stdint.h>

/* One row. Strings never NULL. */
typedef struct ic_authorizerdb_row_s {
    const char *name;
    const char *function_arn;
    const char *token_key_name; /* "" = none */
    const char *keys;           /* JSON object: key name -> PEM */
    const char *tags;           /* JSON array of {Key, Value} */
    bool is_active;             /* status ACTIVE, else INACTIVE */
    bool signing_disabled;
    bool caching_for_http;
    bool is_default;            /* the account's default authorizer */
    int64_t created_ms;
    int64_t updated_ms;
} ic_authorizerdb_row_t;

/* Insert the row, or update every column of an existing one except
 * is_default and created_ms (ic_authorizerdb_set_default owns the first;
 * the second never changes). */
int ic_authorizerdb_put(ic_db_t *db, const ic_authorizerdb_row_t *r);
int ic_authorizerdb_del(ic_db_t *db, const char *name);
/* Make name (NULL: none) the only row with is_default set. */
int ic_authorizerdb_set_default(ic_db_t *db, const char *name);

/* Called per stored row, in name order; r and its strings are borrowed for
 * the call. */
typedef void (*ic_authorizerdb_row_fn)(const ic_authorizerdb_row_t *r,
                                       void *data);
/* Every committed row. 0 or IC_ESTORE. */
int ic_authorizerdb_load(ic_db_t *db, ic_authorizerdb_row_fn fn, void *data);

#endif
