/* meta.c - SQL for the `meta` table (broker facts such as the boot count).
 *
 * Owns the row <-> value mapping for meta; opens nothing and keeps no state.
 */
#include "iotcored/meta.h"

#include "iotcored/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_int(const ic_db_row_t *row, void *data) {
    *(int64_t *)data = strtoll(ic_db_row_text(row, 0), NULL, 10);
    return 0;
}

int ic_meta_get_int(ic_db_t *db, const char *key, int64_t dflt, int64_t *out) {
    ic_db_val_t v = IC_DB_TEXTV(key, strlen(key));
    *out = dflt;
    return ic_db_query(db, "SELECT value FROM meta WHERE key = ?1", &v, 1,
                       read_int, out);
}

typedef struct text_s {
    char *out;
    size_t cap;
} text_t;

static int read_text(const ic_db_row_t *row, void *data) {
    text_t *t = data;
    snprintf(t->out, t->cap, "%s", ic_db_row_text(row, 0));
    return 0;
}

int ic_meta_get_text(ic_db_t *db, const char *key, char *out, size_t cap) {
    ic_db_val_t v = IC_DB_TEXTV(key, strlen(key));
    text_t t = {out, cap};
    out[0] = '\0';
    return ic_db_query(db, "SELECT value FROM meta WHERE key = ?1", &v, 1,
                       read_text, &t);
}

int ic_meta_set(ic_db_t *db, const char *key, const char *value,
                ic_db_done_cb cb, void *data) {
    ic_db_val_t v[2] = {IC_DB_TEXTV(key, strlen(key)),
                        IC_DB_TEXTV(value, strlen(value))};
    return ic_db_exec(db,
                      "INSERT INTO meta(key, value) VALUES(?1, ?2) "
                      "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                      v, 2, cb, data);
}
