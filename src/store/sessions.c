/* sessions.c - row <-> value mapping for persistent MQTT sessions.
 *
 * Owns the SQL of the sessions, subscriptions and session_messages tables
 * (schema in migrate.c step 2). It keeps no state and makes no decisions:
 * session.c decides what to write and when.
 */
#include "iotcored/sessions.h"

#include "iotcored/error.h"

#include <string.h>

int ic_sessions_row_put(ic_db_t *db, const char *id, size_t len, int version,
                        uint32_t expiry_s, int64_t offline_since) {
    ic_db_val_t v[4] = {IC_DB_TEXTV(id, len), IC_DB_INTV(version),
                        IC_DB_INTV(expiry_s), IC_DB_INTV(offline_since)};
    /* Upsert, never REPLACE: REPLACE would cascade-delete the children. */
    return ic_db_exec(db,
                      "INSERT INTO sessions(client_id, version, expiry_s, "
                      "offline_since_ms) VALUES(?1, ?2, ?3, ?4) "
                      "ON CONFLICT(client_id) DO UPDATE SET "
                      "version = excluded.version, expiry_s = excluded.expiry_s, "
                      "offline_since_ms = excluded.offline_since_ms",
                      v, 4, NULL, NULL);
}

int ic_sessions_row_del(ic_db_t *db, const char *id, size_t len) {
    ic_db_val_t v = IC_DB_TEXTV(id, len);
    return ic_db_exec(db, "DELETE FROM sessions WHERE client_id = ?1", &v, 1,
                      NULL, NULL);
}

int ic_sessions_sub_put(ic_db_t *db, const char *id, size_t len,
                        const char *filter, size_t flen, uint8_t opts) {
    ic_db_val_t v[3] = {IC_DB_TEXTV(id, len), IC_DB_TEXTV(filter, flen),
                        IC_DB_INTV(opts)};
    return ic_db_exec(db,
                      "INSERT INTO subscriptions(client_id, filter, opts) "
                      "VALUES(?1, ?2, ?3) ON CONFLICT(client_id, filter) "
                      "DO UPDATE SET opts = excluded.opts",
                      v, 3, NULL, NULL);
}

int ic_sessions_sub_del(ic_db_t *db, const char *id, size_t len,
                        const char *filter, size_t flen) {
    ic_db_val_t v[2] = {IC_DB_TEXTV(id, len), IC_DB_TEXTV(filter, flen)};
    return ic_db_exec(db,
                      "DELETE FROM subscriptions WHERE client_id = ?1 AND "
                      "filter = ?2",
                      v, 2, NULL, NULL);
}

int ic_sessions_msg_put(ic_db_t *db, const char *id, size_t len, uint64_t seq,
                        const ic_msg_t *m, bool retain) {
    ic_db_val_t v[8] = {IC_DB_TEXTV(id, len),
                        IC_DB_INTV(seq),
                        IC_DB_TEXTV(m->topic, m->topic_len),
                        IC_DB_BLOBV(m->payload, m->payload_len),
                        IC_DB_INTV(m->qos),
                        IC_DB_INTV(retain),
                        IC_DB_BLOBV(m->props, m->props_len),
                        IC_DB_INTV(m->expires_at_ms)};
    return ic_db_exec(db,
                      "INSERT OR IGNORE INTO session_messages(client_id, seq, "
                      "topic, payload, qos, retain, props, expires_at_ms) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                      v, 8, NULL, NULL);
}

int ic_sessions_msg_del(ic_db_t *db, const char *id, size_t len, uint64_t seq) {
    ic_db_val_t v[2] = {IC_DB_TEXTV(id, len), IC_DB_INTV(seq)};
    return ic_db_exec(db,
                      "DELETE FROM session_messages WHERE client_id = ?1 AND "
                      "seq = ?2",
                      v, 2, NULL, NULL);
}

static int on_session(const ic_db_row_t *row, void *data) {
    const ic_sessions_loader_t *l = data;
    const char *id = ic_db_row_text(row, 0);
    l->session(id, strlen(id), (int)ic_db_row_int(row, 1),
               (uint32_t)ic_db_row_int(row, 2), ic_db_row_int(row, 3), l->data);
    return 0;
}

static int on_sub(const ic_db_row_t *row, void *data) {
    const ic_sessions_loader_t *l = data;
    const char *id = ic_db_row_text(row, 0);
    const char *f = ic_db_row_text(row, 1);
    l->sub(id, strlen(id), f, strlen(f), (uint8_t)ic_db_row_int(row, 2),
           l->data);
    return 0;
}

static int on_msg(const ic_db_row_t *row, void *data) {
    const ic_sessions_loader_t *l = data;
    const char *id = ic_db_row_text(row, 0);
    const char *topic = ic_db_row_text(row, 2);
    size_t plen, prlen;
    const void *payload = ic_db_row_blob(row, 3, &plen);
    const void *props = ic_db_row_blob(row, 6, &prlen);
    ic_msg_t *m = ic_msg_new_raw(topic, strlen(topic), payload, plen,
                                 (uint8_t)ic_db_row_int(row, 4),
                                 ic_db_row_int(row, 5) != 0, props, prlen,
                                 ic_db_row_int(row, 7));
    l->msg(id, strlen(id), (uint64_t)ic_db_row_int(row, 1), m,
           ic_db_row_int(row, 5) != 0, l->data);
    return 0;
}

int ic_sessions_load_rows(ic_db_t *db, const ic_sessions_loader_t *l) {
    int rc = ic_db_query(db,
                         "SELECT client_id, version, expiry_s, offline_since_ms "
                         "FROM sessions",
                         NULL, 0, on_session, (void *)(uintptr_t)l);
    if (rc == 0)
        rc = ic_db_query(db,
                         "SELECT client_id, filter, opts FROM subscriptions",
                         NULL, 0, on_sub, (void *)(uintptr_t)l);
    if (rc == 0)
        rc = ic_db_query(db,
                         "SELECT client_id, seq, topic, payload, qos, retain, "
                         "props, expires_at_ms FROM session_messages "
                         "ORDER BY client_id, seq",
                         NULL, 0, on_msg, (void *)(uintptr_t)l);
    return rc;
}
