/* retained.c - row <-> message mapping for retained messages.
 *
 * Owns the SQL of the `retained` table (schema: migrate.c step 2); keeps no
 * state. retain.c decides when to write.
 */
#include "iotcored/retained.h"

#include <string.h>

int ic_retained_put(ic_db_t *db, const ic_msg_t *m, int64_t now_ms) {
    ic_db_val_t v[6] = {IC_DB_TEXTV(m->topic, m->topic_len),
                        IC_DB_BLOBV(m->payload, m->payload_len),
                        IC_DB_INTV(m->qos),
                        IC_DB_BLOBV(m->props, m->props_len),
                        IC_DB_INTV(m->expires_at_ms),
                        IC_DB_INTV(now_ms)};
    return ic_db_exec(db,
                      "INSERT INTO retained(topic, payload, qos, props, "
                      "expires_at_ms, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
                      "ON CONFLICT(topic) DO UPDATE SET payload = "
                      "excluded.payload, qos = excluded.qos, props = "
                      "excluded.props, expires_at_ms = excluded.expires_at_ms, "
                      "updated_ms = excluded.updated_ms",
                      v, 6, NULL, NULL);
}

int ic_retained_del(ic_db_t *db, const char *topic, size_t len) {
    ic_db_val_t v = IC_DB_TEXTV(topic, len);
    return ic_db_exec(db, "DELETE FROM retained WHERE topic = ?1", &v, 1, NULL,
                      NULL);
}

typedef struct load_s {
    void (*cb)(ic_msg_t *m, void *data);
    void *data;
} load_t;

static int on_row(const ic_db_row_t *row, void *data) {
    load_t *l = data;
    const char *topic = ic_db_row_text(row, 0);
    size_t plen, prlen;
    const void *payload = ic_db_row_blob(row, 1, &plen);
    const void *props = ic_db_row_blob(row, 3, &prlen);
    ic_msg_t *m = ic_msg_new_raw(topic, strlen(topic), payload, plen,
                                 (uint8_t)ic_db_row_int(row, 2), true, props, prlen,
                                 ic_db_row_int(row, 4));
    m->at_ms = ic_db_row_int(row, 5);
    l->cb(m, l->data);
    return 0;
}

int ic_retained_load(ic_db_t *db, void (*cb)(ic_msg_t *m, void *data),
                     void *data) {
    load_t l = {cb, data};
    return ic_db_query(db,
                       "SELECT topic, payload, qos, props, expires_at_ms, "
                       "updated_ms FROM retained",
                       NULL, 0, on_row, &l);
}
