/* certs.c - row <-> value mapping of the certificate registry tables
 * (schema: migrate.c step 3). Keeps no state; registry.c decides. */
#include "iotcored/certs.h"

#include <string.h>

int ic_certs_put(ic_db_t *db, const char *id, const char *pem, const char *status,
                 const char *ca_id, int64_t created_ms, int64_t updated_ms) {
    ic_db_val_t v[6] = {IC_DB_TEXTV(id, strlen(id)),
                        IC_DB_TEXTV(pem, strlen(pem)),
                        IC_DB_TEXTV(status, strlen(status)),
                        ca_id && ca_id[0] ? IC_DB_TEXTV(ca_id, strlen(ca_id))
                                          : IC_DB_NULLV,
                        IC_DB_INTV(created_ms),
                        IC_DB_INTV(updated_ms)};
    return ic_db_exec(db,
                      "INSERT INTO certificates(id, pem, status, ca_id, "
                      "created_ms, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
                      "ON CONFLICT(id) DO UPDATE SET status = excluded.status, "
                      "ca_id = excluded.ca_id, updated_ms = excluded.updated_ms",
                      v, 6, NULL, NULL);
}

int ic_certs_put_ca(ic_db_t *db, const char *id, const char *pem,
                    const char *status, bool auto_registration,
                    int64_t created_ms, int64_t updated_ms) {
    ic_db_val_t v[6] = {IC_DB_TEXTV(id, strlen(id)),
                        IC_DB_TEXTV(pem, strlen(pem)),
                        IC_DB_TEXTV(status, strlen(status)),
                        IC_DB_INTV(auto_registration),
                        IC_DB_INTV(created_ms),
                        IC_DB_INTV(updated_ms)};
    return ic_db_exec(db,
                      "INSERT INTO ca_certificates(id, pem, status, "
                      "auto_registration, created_ms, updated_ms) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE "
                      "SET status = excluded.status, auto_registration = "
                      "excluded.auto_registration, updated_ms = excluded.updated_ms",
                      v, 6, NULL, NULL);
}

static int on_ca(const ic_db_row_t *row, void *data) {
    const ic_certs_loader_t *l = data;
    l->ca(ic_db_row_text(row, 0), ic_db_row_text(row, 1), ic_db_row_text(row, 2),
          ic_db_row_int(row, 3) != 0, ic_db_row_int(row, 4),
          ic_db_row_int(row, 5), ic_db_row_text(row, 6), l->data);
    return 0;
}

static int on_cert(const ic_db_row_t *row, void *data) {
    const ic_certs_loader_t *l = data;
    l->cert(ic_db_row_text(row, 0), ic_db_row_text(row, 1), ic_db_row_text(row, 2),
            ic_db_row_is_null(row, 3) ? "" : ic_db_row_text(row, 3),
            ic_db_row_int(row, 4), ic_db_row_int(row, 5), ic_db_row_text(row, 6),
            l->data);
    return 0;
}

int ic_certs_load(ic_db_t *db, const ic_certs_loader_t *l) {
    int rc = ic_db_query(db,
                         "SELECT id, pem, status, auto_registration, created_ms, "
                         "updated_ms, props FROM ca_certificates",
                         NULL, 0, on_ca, (void *)(uintptr_t)l);
    if (rc == 0)
        rc = ic_db_query(db,
                         "SELECT id, pem, status, ca_id, created_ms, updated_ms, "
                         "props FROM certificates",
                         NULL, 0, on_cert, (void *)(uintptr_t)l);
    return rc;
}

int ic_certs_delete(ic_db_t *db, const char *id) {
    ic_db_val_t v[1] = {IC_DB_TEXTV(id, strlen(id))};
    return ic_db_exec(db, "DELETE FROM certificates WHERE id = ?1", v, 1, NULL,
                      NULL);
}

int ic_certs_delete_ca(ic_db_t *db, const char *id) {
    ic_db_val_t v[1] = {IC_DB_TEXTV(id, strlen(id))};
    return ic_db_exec(db, "DELETE FROM ca_certificates WHERE id = ?1", v, 1,
                      NULL, NULL);
}

int ic_certs_set_props(ic_db_t *db, const char *id, const char *props) {
    ic_db_val_t v[2] = {IC_DB_TEXTV(props, strlen(props)),
                        IC_DB_TEXTV(id, strlen(id))};
    return ic_db_exec(db, "UPDATE certificates SET props = ?1 WHERE id = ?2", v,
                      2, NULL, NULL);
}

int ic_certs_set_ca_props(ic_db_t *db, const char *id, const char *props) {
    ic_db_val_t v[2] = {IC_DB_TEXTV(props, strlen(props)),
                        IC_DB_TEXTV(id, strlen(id))};
    return ic_db_exec(db, "UPDATE ca_certificates SET props = ?1 WHERE id = ?2",
                      v, 2, NULL, NULL);
}
