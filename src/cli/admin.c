/* admin.c - `iotcored --register-cert` and `--register-ca`.
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

int ic_admin_register(const ic_config_t *cfg, const char *path, bool is_ca,
                      const char *status) {
    uv_loop_t loop;
    ic_db_t *db = NULL;
    ic_registry_t *r;
    char dbpath[4096], err[512] = "", id[65] = "";
    char *pem = read_all(path);
    int st = ic_cert_status_parse(status ? status : "ACTIVE"), rc, code = EX_OK;
    if (pem == NULL) {
        fprintf(stderr, "iotcored: %s: cannot read\n", path);
        return EX_NOINPUT;
    }
    if (st < 0) {
        fprintf(stderr, "iotcored: unknown certificate status '%s'\n", status);
        free(pem);
        return EX_USAGE;
    }
    mkdir(cfg->data_dir, 0750);
    snprintf(dbpath, sizeof(dbpath), "%s/iotcored.db", cfg->data_dir);
    uv_loop_init(&loop);
    if (ic_db_open(&db, &loop, dbpath, (ic_sync_mode_t)cfg->persistence_sync, err,
                   sizeof(err)) != 0) {
        fprintf(stderr, "iotcored: %s\n", err);
        free(pem);
        uv_loop_close(&loop);
        return EX_CANTCREAT;
    }
    r = ic_registry_new(db);
    rc = ic_registry_load(r);
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
    ic_db_close(db, NULL, NULL); /* commits the queued write */
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    ic_registry_free(r);
    free(pem);
    return code;
}
