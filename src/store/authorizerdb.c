/* authorizerdb.c - row <-> value mapping of the authorizers table (schema:
 * migrate.c step 8).
 *
 * Owns only SQL text. Keeps no state and decides nothing: authorizers.c
 * enforces AWS's rules and calls in here to write through and to load.
 * Writes go through the db writer queue (ic_db_exec), so they are applied
 * in call order; the load is a blocking read on the reader connection.
 * The default authorizer is a flag on its row (at most one row has it), so
 * deleting an authorizer can never leave a dangling default.
 */
#include "iotcored/authorizerdb.h"

#include <string.h>

#define T(s) IC_DB_TEXTV((s), strlen(s))

int ic_authorizerdb_put(ic_db_t *db, const ic_authorizerdb_row_t *r) {
    ic_db_val_t v[11] = {T(r->name),
                         T(r->function_arn),
                         T(r->token_key_name),
                         T(r->keys),
                         T(r->is_active ? "ACTIVE" : "INACTIVE"),
                         IC_DB_INTV(r->signing_disabled),
                         IC_DB_INTV(r->caching_for_http),
                         T(r->tags),
                         IC_DB_INTV(r->is_default),
                         IC_DB_INTV(r->created_ms),
                         IC_DB_INTV(r->updated_ms)};
    return ic_db_exec(db,
                      "INSERT INTO authorizers(name, function_arn, token_key_name, "
                      "keys, status, signing_disabled, caching_for_http, tags, "
                      "is_default, created_ms, updated_ms) VALUES(?1, ?2, ?3, ?4, "
                      "?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT(name) DO UPDATE "
                      "SET function_arn = excluded.function_arn, token_key_name = "
                      "excluded.token_key_name, keys = excluded.keys, status = "
                      "excluded.status, signing_disabled = excluded.signing_disabled, "
                      "caching_for_http = excluded.caching_for_http, tags = "
                      "excluded.tags, updated_ms = excluded.updated_ms",
                      v, 11, NULL, NULL);
}

int ic_authorizerdb_del(ic_db_t *db, const char *name) {
    ic_db_val_t v = T(name);
    return ic_db_exec(db, "DELETE FROM authorizers WHERE name = ?1", &v, 1, NULL,
                      NULL);
}

int ic_authorizerdb_set_default(ic_db_t *db, const char *name) {
    ic_db_val_t v = name ? T(name) : IC_DB_NULLV;
    /* one statement: name = NULL is never true, so NULL clears them all */
    return ic_db_exec(db,
                      "UPDATE authorizers SET is_default = (name IS ?1) WHERE "
                      "is_default <> (name IS ?1)",
                      &v, 1, NULL, NULL);
}

typedef struct load_s {
    ic_authorizerdb_row_fn fn;
    void *data;
} load_t;

static int on_row(const ic_db_row_t *row, void *data) {
    load_t *l = data;
    ic_authorizerdb_row_t r;
    r.name = ic_db_row_text(row, 0);
    r.function_arn = ic_db_row_text(row, 1);
    r.token_key_name = ic_db_row_text(row, 2);
    r.keys = ic_db_row_text(row, 3);
    r.is_active = strcmp(ic_db_row_text(row, 4), "ACTIVE") == 0;
    r.signing_disabled = ic_db_row_int(row, 5) != 0;
    r.caching_for_http = ic_db_row_int(row, 6) != 0;
    r.tags = ic_db_row_text(row, 7);
    r.is_default = ic_db_row_int(row, 8) != 0;
    r.created_ms = ic_db_row_int(row, 9);
    r.updated_ms = ic_db_row_int(row, 10);
    l->fn(&r, l->data);
    return 0;
}

int ic_authorizerdb_load(ic_db_t *db, ic_authorizerdb_row_fn fn, void *data) {
    load_t l = {fn, data};
    return ic_db_query(db,
                       "SELECT name, function_arn, token_key_name, keys, status, "
                       "signing_disabled, caching_for_http, tags, is_default, "
                       "created_ms, updated_ms FROM authorizers ORDER BY name",
                       NULL, 0, on_row, &l);
}
