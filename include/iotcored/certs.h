/* certs.h - SQL for the certificate registry: the certificates and
 * ca_certificates tables. Writes are queued; the load is a blocking read
 * for start-up and SIGHUP. */
#ifndef IOTCORED_CERTS_H
#define IOTCORED_CERTS_H

#include "iotcored/db.h"

#include <stdbool.h>

int ic_certs_put(ic_db_t *db, const char *id, const char *pem, const char *status,
                 const char *ca_id, int64_t created_ms, int64_t updated_ms);
int ic_certs_put_ca(ic_db_t *db, const char *id, const char *pem,
                    const char *status, bool auto_registration,
                    int64_t created_ms, int64_t updated_ms);

typedef struct ic_certs_loader_s {
    void (*cert)(const char *id, const char *pem, const char *status,
                 const char *ca_id, int64_t created_ms, int64_t updated_ms,
                 const char *props, void *data);
    void (*ca)(const char *id, const char *pem, const char *status,
               bool auto_registration, int64_t created_ms, int64_t updated_ms,
               const char *props, void *data);
    void *data;
} ic_certs_loader_t;

int ic_certs_delete(ic_db_t *db, const char *id);
/* The certificate's extra properties (JSON object text). */
int ic_certs_set_props(ic_db_t *db, const char *id, const char *props);
int ic_certs_set_ca_props(ic_db_t *db, const char *id, const char *props);
int ic_certs_delete_ca(ic_db_t *db, const char *id);

/* CA certificates first, then certificates. */
int ic_certs_load(ic_db_t *db, const ic_certs_loader_t *l);

#endif
