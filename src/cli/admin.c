/* admin.c - `iotcored --register-cert`, `--register-ca`, `--create-thing`.
 *
 * Owns nothing beyond one command's run: it opens the store with its own
 * loop, loads the registry, adds one certificate, flushes and closes. It
 * must not run while another process migrates the schema (the store's busy
 * timeout covers a running broker's writes).
 */
#include "iotcored/admin.h"

#include "iotcored/clock.h"
#include "iotcored/db.h"
#include "iotcored/error.h"
#include "iotcored/registry.h"
#include "iotcored/things.h"

#include <openssl/pem.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    if (f == NULL)
        return NULL;
    buf = malloc(1 << 20);
    n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* Open the store of cfg on a private loop (closed by close_store). */
static int open_store(const ic_config_t *cfg, uv_loop_t *loop, ic_db_t **db) {
    char dbpath[4096], err[512];
    mkdir(cfg->data_dir, 0750);
    snprintf(dbpath, sizeof(dbpath), "%s/iotcored.db", cfg->data_dir);
    uv_loop_init(loop);
    if (ic_db_open(db, loop, dbpath, (ic_sync_mode_t)cfg->persistence_sync, err,
                   sizeof(err)) != 0) {
        fprintf(stderr, "iotcored: %s\n", err);
        uv_loop_close(loop);
        return EX_CANTCREAT;
    }
    return EX_OK;
}

static void close_store(uv_loop_t *loop, ic_db_t *db) {
    ic_db_close(db, NULL, NULL); /* commits the queued writes */
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
}

/* Certificate ID (SHA-256 of the DER) of the PEM certificate in text. */
static int pem_cert_id(const char *text, char id[65]) {
    BIO *b = BIO_new_mem_buf(text, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    unsigned char md[32];
    unsigned int n = 0, i;
    BIO_free(b);
    if (x == NULL)
        return -1;
    X509_digest(x, EVP_sha256(), md, &n);
    X509_free(x);
    for (i = 0; i < n && i < 32; i++)
        snprintf(id + 2 * i, 3, "%02x", md[i]);
    return 0;
}

int ic_admin_create_thing(const ic_config_t *cfg, const char *name,
                          const char *cert_path) {
    uv_loop_t loop;
    ic_db_t *db;
    ic_things_t *t;
    char why[256] = "", id[65] = "";
    char *pem = NULL;
    int rc, code;
    if (cert_path) {
        pem = read_all(cert_path);
        if (pem == NULL || pem_cert_id(pem, id) != 0) {
            fprintf(stderr, "iotcored: %s: not a readable PEM certificate\n",
                    cert_path);
            free(pem);
            return EX_DATAERR;
        }
    }
    if ((code = open_store(cfg, &loop, &db)) != EX_OK) {
        free(pem);
        return code;
    }
    t = ic_things_new(db);
    rc = ic_things_load(t);
    if (rc == 0)
        rc = ic_things_create(t, name, NULL, NULL, 0, ic_clock_wall_ms(), why,
                              sizeof(why));
    if (rc == IC_EEXIST)
        rc = 0; /* keep the existing thing as it is */
    if (rc == 0 && id[0])
        rc = ic_things_attach_principal(t, name, id, false, why, sizeof(why));
    if (rc == 0) {
        printf("%s\n", name);
    } else {
        fprintf(stderr, "iotcored: thing %s: %s\n", name, why[0] ? why : ic_strerror(rc));
        code = EX_DATAERR;
    }
    close_store(&loop, db);
    ic_things_free(t);
    free(pem);
    return code;
}

int ic_admin_registration_code(const ic_config_t *cfg) {
    uv_loop_t loop;
    ic_db_t *db;
    ic_registry_t *r;
    int code = open_store(cfg, &loop, &db);
    if (code != EX_OK)
        return code;
    r = ic_registry_new(db);
    printf("%s\n", ic_registry_registration_code(r));
    close_store(&loop, db);
    ic_registry_free(r);
    return EX_OK;
}

int ic_admin_register(const ic_config_t *cfg, const char *path, bool is_ca,
                      const char *arg) {
    uv_loop_t loop;
    ic_db_t *db;
    ic_registry_t *r;
    char err[512] = "", id[65] = "";
    char *pem = read_all(path), *verif = NULL;
    const char *status = is_ca ? NULL : arg;
    int st = ic_cert_status_parse(status ? status : "ACTIVE"), rc, code;
    if (is_ca && arg && (verif = read_all(arg)) == NULL) {
        fprintf(stderr, "iotcored: %s: cannot read\n", arg);
        free(pem);
        return EX_NOINPUT;
    }
    if (pem == NULL) {
        fprintf(stderr, "iotcored: %s: cannot read\n", path);
        return EX_NOINPUT;
    }
    if (st < 0) {
        fprintf(stderr, "iotcored: unknown certificate status '%s'\n", status);
        free(pem);
        return EX_USAGE;
    }
    if ((code = open_store(cfg, &loop, &db)) != EX_OK) {
        free(pem);
        return code;
    }
    r = ic_registry_new(db);
    rc = ic_registry_load(r);
    if (rc == 0 && verif)
        rc = ic_registry_check_verification(r, pem, verif, err, sizeof(err));
    if (rc == 0 && is_ca)
        rc = ic_registry_add_ca(r, pem, true, true, ic_clock_wall_ms(), id, err,
                                sizeof(err));
    else if (rc == 0)
        rc = ic_registry_add_cert(r, pem, (ic_cert_status_t)st, NULL,
                                  ic_clock_wall_ms(), id, err, sizeof(err));
    if (rc == 0) {
        printf("%s\n", id);
    } else {
        fprintf(stderr, "iotcored: %s: %s\n", path, err[0] ? err : ic_strerror(rc));
        code = rc == IC_EEXIST ? EX_CANTCREAT : EX_DATAERR;
    }
    close_store(&loop, db);
    ic_registry_free(r);
    free(pem);
    free(verif);
    return code;
}
