/* ruledb.c - row <-> value mapping of the topic_rules table (schema:
 * migrate.c step 7). Keeps no state; rules/engine.c decides. */
#include "iotcored/ruledb.h"

#include <string.h>

#define T(s) IC_DB_TEXTV((s), strlen(s))

int ic_ruledb_put(ic_db_t *db, const char *name, const char *payload,
                  const char *tags, int64_t created_ms) {
    ic_db_val_t v[4] = {T(name), T(payload), T(tags), IC_DB_INTV(created_ms)};
    return ic_db_exec(db,
                      "INSERT INTO topic_rules(name, payload, tags, created_ms) "
                      "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(name) DO UPDATE SET "
                      "payload = excluded.payload, tags = excluded.tags, "
                      "created_ms = excluded.created_ms",
                      v, 4, NULL, NULL);
}

int ic_ruledb_del(ic_db_t *db, const char *name) {
    ic_db_val_t v = T(name);
    return ic_db_exec(db, "DELETE FROM topic_rules WHERE name = ?1", &v, 1, NULL,
                      NULL);
}

typedef struct load_s {
    ic_ruledb_row_fn fn;
    void *data;
} load_t;

static int on_row(const ic_db_row_t *row, void *data) {
    load_t *l = data;
    l->fn(ic_db_row_text(row, 0), ic_db_row_text(row, 1), ic_db_row_text(row, 2),
          ic_db_row_int(row, 3), l->data);
    return 0;
}

int ic_ruledb_load(ic_db_t *db, ic_ruledb_row_fn fn, void *data) {
    load_t l = {fn, data};
    return ic_db_query(db,
                       "SELECT name, payload, tags, created_ms FROM topic_rules "
                       "ORDER BY name",
                       NULL, 0, on_row, &l);
}
