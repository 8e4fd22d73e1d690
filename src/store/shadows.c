/* shadows.c - row <-> value mapping of the shadows table (schema: migrate.c
 * step 6). Keeps no state; iot/shadow.c decides. */
#include "iotcored/shadows.h"

#include <string.h>

int ic_shadowdb_put(ic_db_t *db, const char *thing, const char *name,
                    const char *doc, int64_t version, int64_t deleted_ms,
                    ic_db_done_cb cb, void *data) {
    ic_db_val_t v[5] = {IC_DB_TEXTV(thing, strlen(thing)),
                        IC_DB_TEXTV(name, strlen(name)),
                        doc ? IC_DB_TEXTV(doc, strlen(doc)) : IC_DB_NULLV,
                        IC_DB_INTV(version), IC_DB_INTV(deleted_ms)};
    return ic_db_exec(db,
                      "INSERT INTO shadows(thing, name, doc, version, deleted_ms) "
                      "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(thing, name) DO "
                      "UPDATE SET doc = excluded.doc, version = excluded.version, "
                      "deleted_ms = excluded.deleted_ms",
                      v, 5, cb, data);
}

typedef struct load_s {
    ic_shadowdb_row_fn fn;
    void *data;
} load_t;

static int on_row(const ic_db_row_t *row, void *data) {
    load_t *l = data;
    l->fn(ic_db_row_text(row, 0), ic_db_row_text(row, 1),
          ic_db_row_is_null(row, 2) ? NULL : ic_db_row_text(row, 2),
          ic_db_row_int(row, 3), ic_db_row_int(row, 4), l->data);
    return 0;
}

int ic_shadowdb_load(ic_db_t *db, ic_shadowdb_row_fn fn, void *data) {
    load_t l = {fn, data};
    return ic_db_query(db,
                       "SELECT thing, name, doc, version, deleted_ms FROM shadows",
                       NULL, 0, on_row, &l);
}
