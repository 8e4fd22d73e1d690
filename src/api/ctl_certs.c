/* ctl_certs.c - control-plane operations on device and CA certificates
 * (AWS IoT API: CreateKeysAndCertificate ... ListCACertificates).
 *
 * Turns requests into calls on the certificate registry (iot/registry.c)
 * and the local CA (net/pki.c, for certificates AWS would mint), and the
 * answers into AWS's shapes, error types and messages. A certificate that
 * stops being ACTIVE has its live connections closed here, at once, as on
 * AWS. No state of its own. Loop thread only.
 */
#include "ctl.h"

#include "iotcored/alloc.h"
#include "iotcored/config.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/pki.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PAGE 25
#define MAX_PAGE 250

/* ---- helpers ------------------------------------------------------------------------ */

static void cert_ref(ctl_t *c, cJSON *o, const char *id) {
    char arn[512];
    ic__ctl_arn(c, "cert", id, arn, sizeof(arn));
    cJSON_AddStringToObject(o, "certificateArn", arn);
    cJSON_AddStringToObject(o, "certificateId", id);
}

/* CA certificates have ARNs of their own kind (cacert/). */
static void ca_ref(ctl_t *c, cJSON *o, const char *id) {
    char arn[512];
    ic__ctl_arn(c, "cacert", id, arn, sizeof(arn));
    cJSON_AddStringToObject(o, "certificateArn", arn);
    cJSON_AddStringToObject(o, "certificateId", id);
}

static void add_validity(cJSON *o, int64_t nb, int64_t na) {
    cJSON *v = cJSON_AddObjectToObject(o, "validity");
    ic__ctl_add_time(v, "notBefore", nb);
    ic__ctl_add_time(v, "notAfter", na);
}

/* The status a register call asks for: `status` in the body, else
 * setAsActive=true in the query, else INACTIVE (aws-iot-auth.md 4.3).
 * -1 after answering 400. */
static int wanted_status(const ic_http_call_t *call, ic_http_resp_t *resp,
                         const cJSON *body) {
    const char *st = NULL;
    bool active = false;
    int v;
    if (!ic__ctl_opt_str(resp, body, "status", &st) ||
        !ic__ctl_q_bool(call, resp, "setAsActive", &active))
        return -1;
    if (st == NULL)
        return active ? IC_CERT_ACTIVE : IC_CERT_INACTIVE;
    v = ic_cert_status_parse(st);
    if (v < 0)
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value '%s' at 'status' failed "
                     "to satisfy constraint: Member must satisfy enum value set: "
                     "[ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, "
                     "REGISTER_INACTIVE, PENDING_ACTIVATION]", st);
    return v;
}

/* Register pem with status st (and CA), answering the errors. */
static bool register_pem(ctl_t *c, ic_http_resp_t *resp, const char *pem, int st,
                         const char *ca_id, char id[65]) {
    char why[256];
    int rc = ic_registry_add_cert(c->registry, pem, (ic_cert_status_t)st, ca_id,
                                  ic__ctl_now_ms(), id, why, sizeof(why));
    if (rc == IC_EEXIST) {
        ic_http_fail(resp, IC_HTTP_E_ALREADY_EXISTS,
                     "The certificate is already provisioned or registered");
        return false;
    }
    if (rc != 0) {
        ic_http_fail(resp, IC_HTTP_E_CERT_VALIDATION, "%s", why);
        return false;
    }
    ic_log_info("certificate registered", "cert_id=%s status=%s ca_id=%s", id,
                ic_cert_status_name((ic_cert_status_t)st),
                ca_id && ca_id[0] ? ca_id : "-");
    return true;
}

static const char *required_str(ic_http_resp_t *resp, const cJSON *body,
                                const char *key) {
    const char *v = NULL;
    if (!ic__ctl_opt_str(resp, body, key, &v))
        return NULL;
    if (v == NULL || v[0] == '\0')
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value null at '%s' failed to "
                     "satisfy constraint: Member must not be null", key);
    return v && v[0] ? v : NULL;
}

/* ---- minting ------------------------------------------------------------------------ */

static void issue(const ic_http_call_t *call, ic_http_resp_t *resp, ctl_t *c,
                  const char *csr) {
    ic_pki_issued_t x;
    char err[256], id[65];
    bool active = false;
    cJSON *o;
    if (!ic__ctl_q_bool(call, resp, "setAsActive", &active))
        return;
    if (ic_pki_issue(c->b->cfg->data_dir, csr, &x, err, sizeof(err)) != 0) {
        ic_http_fail(resp, csr ? IC_HTTP_E_INVALID_REQUEST : IC_HTTP_E_INTERNAL,
                     "%s", err);
        return;
    }
    if (!register_pem(c, resp, x.cert_pem,
                      active ? IC_CERT_ACTIVE : IC_CERT_INACTIVE, NULL, id)) {
        ic_pki_issued_free(&x);
        return;
    }
    o = cJSON_CreateObject();
    cert_ref(c, o, id);
    cJSON_AddStringToObject(o, "certificatePem", x.cert_pem);
    if (x.key_pem) {
        cJSON *kp = cJSON_AddObjectToObject(o, "keyPair");
        cJSON_AddStringToObject(kp, "PublicKey", x.pub_pem);
        cJSON_AddStringToObject(kp, "PrivateKey", x.key_pem);
    }
    ic_pki_issued_free(&x);
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_create_keys_and_cert) {
    issue(call, resp, data, NULL);
}

CTL_HANDLER(ic__ctl_create_cert_from_csr) {
    ctl_t *c = data;
    cJSON *body = ic__ctl_body(call, resp);
    const char *csr;
    if (body == NULL)
        return;
    csr = required_str(resp, body, "certificateSigningRequest");
    if (csr != NULL) {
        if (strlen(csr) > 4096)
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "1 validation error detected: Value at "
                         "'certificateSigningRequest' failed to satisfy "
                         "constraint: Member must have length less than or equal "
                         "to 4096");
        else
            issue(call, resp, c, csr);
    }
    cJSON_Delete(body);
}

/* ---- registering --------------------------------------------------------------------- */

CTL_HANDLER(ic__ctl_register_cert) {
    ctl_t *c = data;
    cJSON *body = ic__ctl_body(call, resp), *o;
    const char *pem, *ca_pem = NULL;
    char id[65], ca_id[65] = "";
    int st;
    if (body == NULL)
        return;
    if ((pem = required_str(resp, body, "certificatePem")) == NULL ||
        !ic__ctl_opt_str(resp, body, "caCertificatePem", &ca_pem) ||
        (st = wanted_status(call, resp, body)) < 0)
        goto out;
    if (ic_registry_cert_id_of_pem(pem, id) != 0) {
        ic_http_fail(resp, IC_HTTP_E_CERT_VALIDATION,
                     "The certificate is not a valid PEM-encoded X.509 "
                     "certificate");
        goto out;
    }
    if (ca_pem) {
        if (ic_registry_cert_id_of_pem(ca_pem, ca_id) != 0 ||
            !ic_registry_get_ca(c->registry, ca_id, &(ic_ca_info_t){0})) {
            ic_http_fail(resp, IC_HTTP_E_NOT_FOUND,
                         "The CA certificate given is not registered");
            goto out;
        }
    } else if (!ic_registry_find_issuer(c->registry, pem, ca_id)) {
        ic_http_fail(resp, IC_HTTP_E_CERT_VALIDATION,
                     "The certificate is not signed by a registered CA "
                     "certificate (RegisterCertificateWithoutCA registers it "
                     "without one)");
        goto out;
    }
    if (register_pem(c, resp, pem, st, ca_id, id)) {
        o = cJSON_CreateObject();
        cert_ref(c, o, id);
        ic_http_json(resp, o);
    }
out:
    cJSON_Delete(body);
}

CTL_HANDLER(ic__ctl_register_cert_without_ca) {
    ctl_t *c = data;
    cJSON *body = ic__ctl_body(call, resp), *o;
    const char *pem;
    char id[65];
    int st;
    if (body == NULL)
        return;
    if ((pem = required_str(resp, body, "certificatePem")) != NULL &&
        (st = wanted_status(call, resp, body)) >= 0 &&
        register_pem(c, resp, pem, st, NULL, id)) {
        ic_registry_set_sni_only(c->registry, id); /* AWS: certificateMode */
        o = cJSON_CreateObject();
        cert_ref(c, o, id);
        ic_http_json(resp, o);
    }
    cJSON_Delete(body);
}

/* ---- one certificate ------------------------------------------------------------------ */

static bool cert_or_404(ctl_t *c, const ic_http_call_t *call,
                        ic_http_resp_t *resp, ic_cert_info_t *ci) {
    const char *id = ic_http_label(call, "certificateId");
    if (!ic__ctl_check_cert_id(resp, "certificateId", id))
        return false;
    if (ic_registry_get(c->registry, id, ci))
        return true;
    ic_http_fail(resp, IC_HTTP_E_NOT_FOUND,
                 "The certificate given in the principal does not exist.");
    return false;
}

CTL_HANDLER(ic__ctl_describe_cert) {
    ctl_t *c = data;
    ic_cert_info_t ci;
    cJSON *o, *d;
    char gen[32];
    if (!cert_or_404(c, call, resp, &ci))
        return;
    o = cJSON_CreateObject();
    d = cJSON_AddObjectToObject(o, "certificateDescription");
    cert_ref(c, d, ci.id);
    if (ci.ca_id[0])
        cJSON_AddStringToObject(d, "caCertificateId", ci.ca_id);
    cJSON_AddStringToObject(d, "status", ic_cert_status_name(ci.status));
    cJSON_AddStringToObject(d, "certificatePem", ci.pem);
    cJSON_AddStringToObject(d, "ownedBy", c->b->cfg->account_id);
    ic__ctl_add_time(d, "creationDate", ci.created_ms);
    ic__ctl_add_time(d, "lastModifiedDate", ci.updated_ms);
    cJSON_AddNumberToObject(d, "customerVersion", 1);
    snprintf(gen, sizeof(gen), "%" PRId64, ci.updated_ms);
    cJSON_AddStringToObject(d, "generationId", gen);
    add_validity(d, ci.not_before_ms, ci.not_after_ms);
    cJSON_AddStringToObject(d, "certificateMode", ci.is_sni_only ? "SNI_ONLY"
                                                                  : "DEFAULT");
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_update_cert) {
    ctl_t *c = data;
    ic_cert_info_t ci;
    char st_s[40];
    int st;
    if (!cert_or_404(c, call, resp, &ci))
        return;
    if (!ic__ctl_q_str(call, "newStatus", st_s, sizeof(st_s))) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value null at 'newStatus' "
                     "failed to satisfy constraint: Member must not be null");
        return;
    }
    st = ic_cert_status_parse(st_s);
    if (st < 0) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value '%s' at 'newStatus' "
                     "failed to satisfy constraint: Member must satisfy enum "
                     "value set: [ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, "
                     "REGISTER_INACTIVE, PENDING_ACTIVATION]", st_s);
        return;
    }
    /* AWS: transfer states are set by the transfer APIs only, and a revoked
     * certificate stays revoked. */
    if (st == IC_CERT_PENDING_TRANSFER || st == IC_CERT_PENDING_ACTIVATION ||
        st == IC_CERT_REGISTER_INACTIVE) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "Cannot update certificate %s to status %s", ci.id, st_s);
        return;
    }
    if (ci.status == IC_CERT_REVOKED && st != IC_CERT_REVOKED) {
        ic_http_fail(resp, IC_HTTP_E_CERT_STATE,
                     "Certificate %s is revoked and cannot be changed to %s",
                     ci.id, st_s);
        return;
    }
    ic_registry_set_status(c->registry, ci.id, (ic_cert_status_t)st,
                           ic__ctl_now_ms());
    ic_log_info("certificate updated", "cert_id=%s status=%s", ci.id, st_s);
    if (st != IC_CERT_ACTIVE)
        ic_proto_disconnect_principal(c->env, ci.id, "certificate is no longer "
                                                      "ACTIVE");
    ic_http_json(resp, cJSON_CreateObject());
}

CTL_HANDLER(ic__ctl_delete_cert) {
    ctl_t *c = data;
    ic_cert_info_t ci;
    bool force = false;
    char arn[512], id[65];
    const char *thing;
    if (!cert_or_404(c, call, resp, &ci) ||
        !ic__ctl_q_bool(call, resp, "forceDelete", &force))
        return;
    ic__ctl_arn(c, "cert", ci.id, arn, sizeof(arn));
    if (ci.status == IC_CERT_ACTIVE) {
        ic_http_fail(resp, IC_HTTP_E_CERT_STATE,
                     "Certificate must be deactivated (not ACTIVE) before "
                     "deletion. Id: %s", ci.id);
        return;
    }
    if (ic_things_of_principal(c->things, ci.id, &thing, 1) > 0) {
        ic_http_fail(resp, IC_HTTP_E_DELETE_CONFLICT,
                     "Things must be detached before deletion (arn: %s)", arn);
        return;
    }
    if (ic_policies_of_target(c->policies, arn, NULL, 0) > 0) {
        if (!force) {
            ic_http_fail(resp, IC_HTTP_E_DELETE_CONFLICT,
                         "Certificate policies must be detached before deletion "
                         "(arn: %s)", arn);
            return;
        }
        ic_policies_detach_target(c->policies, arn);
    }
    memcpy(id, ci.id, 65);
    ic_proto_disconnect_principal(c->env, id, "certificate deleted");
    ic_registry_delete(c->registry, id);
    ic_log_info("certificate deleted", "cert_id=%s", id);
    ic_http_json(resp, cJSON_CreateObject());
}

/* ---- listing -------------------------------------------------------------------------- */

typedef struct row_s {
    const char *id;
    int64_t created_ms;
    int status;       /* certificates: ic_cert_status_t; CAs: 1 active */
    bool is_sni_only;
} row_t;

static int cmp_row(const void *a, const void *b, void *arg) {
    const row_t *x = a, *y = b;
    bool newest_first = *(const bool *)arg;
    int r = x->created_ms < y->created_ms ? -1 : x->created_ms > y->created_ms;
    if (r == 0)
        r = strcmp(x->id, y->id);
    return newest_first ? -r : r;
}

/* Marker = base64("<created_ms>:<id>") of the last row returned. */
static bool after_marker(const row_t *r, const char *marker, bool newest_first) {
    char key[128];
    int cmp;
    if (marker[0] == '\0')
        return true;
    snprintf(key, sizeof(key), "%020" PRId64 ":%s", r->created_ms, r->id);
    cmp = strcmp(key, marker);
    return newest_first ? cmp < 0 : cmp > 0;
}

static void list_rows(ctl_t *c, const ic_http_call_t *call, ic_http_resp_t *resp,
                      row_t *rows, size_t n, bool is_ca) {
    long page = DEFAULT_PAGE;
    bool asc = false;
    char marker[256];
    bool newest_first;
    size_t i, k = 0;
    const row_t *last = NULL;
    cJSON *o, *arr;
    if (!ic__ctl_q_int(call, resp, "pageSize", 1, MAX_PAGE, &page) ||
        !ic__ctl_q_bool(call, resp, "isAscendingOrder", &asc) ||
        !ic__ctl_q_token(call, resp, "marker", marker, sizeof(marker)))
        return;
    newest_first = !asc; /* AWS: by creation date, descending by default */
    qsort_r(rows, n, sizeof(*rows), cmp_row, &newest_first);
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "certificates");
    for (i = 0; i < n; i++) {
        cJSON *e;
        if (!after_marker(&rows[i], marker, newest_first))
            continue;
        if ((long)k == page) {
            char key[128];
            snprintf(key, sizeof(key), "%020" PRId64 ":%s", last->created_ms,
                     last->id);
            ic__ctl_add_token(o, "nextMarker", key);
            break;
        }
        e = cJSON_CreateObject();
        if (is_ca)
            ca_ref(c, e, rows[i].id);
        else
            cert_ref(c, e, rows[i].id);
        if (is_ca) {
            cJSON_AddStringToObject(e, "status", rows[i].status ? "ACTIVE"
                                                                : "INACTIVE");
        } else {
            cJSON_AddStringToObject(e, "status", ic_cert_status_name(rows[i].status));
            cJSON_AddStringToObject(e, "certificateMode",
                                    rows[i].is_sni_only ? "SNI_ONLY" : "DEFAULT");
        }
        ic__ctl_add_time(e, "creationDate", rows[i].created_ms);
        cJSON_AddItemToArray(arr, e);
        last = &rows[i];
        k++;
    }
    ic_http_json(resp, o);
}

static void list_certs(ctl_t *c, const ic_http_call_t *call, ic_http_resp_t *resp,
                       const char *ca_id) {
    size_t n = ic_registry_list(c->registry, NULL, 0), i, k = 0;
    ic_cert_info_t *all = ic_xmalloc((n + 1) * sizeof(*all));
    row_t *rows = ic_xmalloc((n + 1) * sizeof(*rows));
    n = ic_registry_list(c->registry, all, n);
    for (i = 0; i < n; i++) {
        if (ca_id && strcmp(all[i].ca_id, ca_id) != 0)
            continue;
        rows[k].id = all[i].id;
        rows[k].created_ms = all[i].created_ms;
        rows[k].status = all[i].status;
        rows[k].is_sni_only = all[i].is_sni_only;
        k++;
    }
    list_rows(c, call, resp, rows, k, false);
    free(rows);
    free(all);
}

CTL_HANDLER(ic__ctl_list_certs) {
    list_certs(data, call, resp, NULL);
}

CTL_HANDLER(ic__ctl_list_certs_by_ca) {
    ctl_t *c = data;
    const char *ca = ic_http_label(call, "caCertificateId");
    if (!ic__ctl_check_cert_id(resp, "caCertificateId", ca))
        return;
    list_certs(c, call, resp, ca);
}

CTL_HANDLER(ic__ctl_list_cas) {
    ctl_t *c = data;
    size_t n = ic_registry_list_cas(c->registry, NULL, 0), i;
    ic_ca_info_t *all = ic_xmalloc((n + 1) * sizeof(*all));
    row_t *rows = ic_xmalloc((n + 1) * sizeof(*rows));
    n = ic_registry_list_cas(c->registry, all, n);
    for (i = 0; i < n; i++) {
        rows[i].id = all[i].id;
        rows[i].created_ms = all[i].created_ms;
        rows[i].status = all[i].is_active;
        rows[i].is_sni_only = false;
    }
    list_rows(c, call, resp, rows, n, true);
    free(rows);
    free(all);
}

/* ---- CA certificates ------------------------------------------------------------------- */

CTL_HANDLER(ic__ctl_get_registration_code) {
    ctl_t *c = data;
    cJSON *o = cJSON_CreateObject();
    (void)call;
    cJSON_AddStringToObject(o, "registrationCode",
                            ic_registry_registration_code(c->registry));
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_register_ca) {
    ctl_t *c = data;
    cJSON *body = ic__ctl_body(call, resp), *o;
    const char *pem, *verif = NULL, *mode = NULL;
    bool active = false, auto_reg = false;
    char why[256], id[65];
    int rc;
    if (body == NULL)
        return;
    if ((pem = required_str(resp, body, "caCertificate")) == NULL ||
        !ic__ctl_opt_str(resp, body, "verificationCertificate", &verif) ||
        !ic__ctl_opt_str(resp, body, "certificateMode", &mode) ||
        !ic__ctl_q_bool(call, resp, "setAsActive", &active) ||
        !ic__ctl_q_bool(call, resp, "allowAutoRegistration", &auto_reg))
        goto out;
    if (mode && strcmp(mode, "DEFAULT") != 0 && strcmp(mode, "SNI_ONLY") != 0) {
        ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                     "1 validation error detected: Value '%s' at "
                     "'certificateMode' failed to satisfy constraint: Member "
                     "must satisfy enum value set: [DEFAULT, SNI_ONLY]", mode);
        goto out;
    }
    if (mode == NULL || strcmp(mode, "DEFAULT") == 0) {
        /* DEFAULT mode: proof of possession (aws-iot-auth.md 4.3) */
        if (verif == NULL) {
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "The verification certificate is required in DEFAULT "
                         "mode");
            goto out;
        }
        if (ic_registry_check_verification(c->registry, pem, verif, why,
                                           sizeof(why)) != 0) {
            ic_http_fail(resp,
                         strstr(why, "registration code")
                             ? IC_HTTP_E_REGISTRATION_CODE
                             : IC_HTTP_E_CERT_VALIDATION,
                         "%s", why);
            goto out;
        }
    }
    rc = ic_registry_add_ca(c->registry, pem, active, auto_reg, ic__ctl_now_ms(),
                            id, why, sizeof(why));
    if (rc == IC_EEXIST) {
        ic_http_fail(resp, IC_HTTP_E_ALREADY_EXISTS,
                     "The CA certificate is already registered");
        goto out;
    }
    if (rc != 0) {
        ic_http_fail(resp, IC_HTTP_E_CERT_VALIDATION, "%s", why);
        goto out;
    }
    if (mode && strcmp(mode, "SNI_ONLY") == 0)
        ic_registry_set_ca_sni_only(c->registry, id);
    ic_log_info("ca registered", "ca_id=%s status=%s auto_registration=%d", id,
                active ? "ACTIVE" : "INACTIVE", auto_reg);
    o = cJSON_CreateObject();
    ca_ref(c, o, id);
    ic_http_json(resp, o);
out:
    cJSON_Delete(body);
}

static bool ca_or_404(ctl_t *c, const ic_http_call_t *call, ic_http_resp_t *resp,
                      ic_ca_info_t *ca) {
    const char *id = ic_http_label(call, "caCertificateId");
    if (!ic__ctl_check_cert_id(resp, "caCertificateId", id))
        return false;
    if (ic_registry_get_ca(c->registry, id, ca))
        return true;
    ic_http_fail(resp, IC_HTTP_E_NOT_FOUND, "The CA certificate %s does not exist.",
                 id);
    return false;
}

CTL_HANDLER(ic__ctl_describe_ca) {
    ctl_t *c = data;
    ic_ca_info_t ca;
    cJSON *o, *d;
    char gen[32];
    if (!ca_or_404(c, call, resp, &ca))
        return;
    o = cJSON_CreateObject();
    d = cJSON_AddObjectToObject(o, "certificateDescription");
    ca_ref(c, d, ca.id);
    cJSON_AddStringToObject(d, "status", ca.is_active ? "ACTIVE" : "INACTIVE");
    cJSON_AddStringToObject(d, "certificatePem", ca.pem);
    cJSON_AddStringToObject(d, "ownedBy", c->b->cfg->account_id);
    ic__ctl_add_time(d, "creationDate", ca.created_ms);
    cJSON_AddStringToObject(d, "autoRegistrationStatus",
                            ca.auto_registration ? "ENABLE" : "DISABLE");
    ic__ctl_add_time(d, "lastModifiedDate", ca.updated_ms);
    cJSON_AddNumberToObject(d, "customerVersion", 1);
    snprintf(gen, sizeof(gen), "%" PRId64, ca.updated_ms);
    cJSON_AddStringToObject(d, "generationId", gen);
    add_validity(d, ca.not_before_ms, ca.not_after_ms);
    cJSON_AddStringToObject(d, "certificateMode", ca.is_sni_only ? "SNI_ONLY"
                                                                  : "DEFAULT");
    cJSON_AddObjectToObject(o, "registrationConfig");
    ic_http_json(resp, o);
}

CTL_HANDLER(ic__ctl_update_ca) {
    ctl_t *c = data;
    ic_ca_info_t ca;
    char st[32], ar[32];
    int active = -1, auto_reg = -1;
    if (!ca_or_404(c, call, resp, &ca))
        return;
    if (ic__ctl_q_str(call, "newStatus", st, sizeof(st))) {
        if (strcmp(st, "ACTIVE") == 0 || strcmp(st, "INACTIVE") == 0)
            active = strcmp(st, "ACTIVE") == 0;
        else {
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "1 validation error detected: Value '%s' at 'newStatus' "
                         "failed to satisfy constraint: Member must satisfy enum "
                         "value set: [ACTIVE, INACTIVE]", st);
            return;
        }
    }
    if (ic__ctl_q_str(call, "newAutoRegistrationStatus", ar, sizeof(ar))) {
        if (strcmp(ar, "ENABLE") == 0 || strcmp(ar, "DISABLE") == 0)
            auto_reg = strcmp(ar, "ENABLE") == 0;
        else {
            ic_http_fail(resp, IC_HTTP_E_INVALID_REQUEST,
                         "1 validation error detected: Value '%s' at "
                         "'newAutoRegistrationStatus' failed to satisfy "
                         "constraint: Member must satisfy enum value set: "
                         "[ENABLE, DISABLE]", ar);
            return;
        }
    }
    ic_registry_update_ca(c->registry, ca.id, active, auto_reg, ic__ctl_now_ms());
    ic_http_json(resp, cJSON_CreateObject());
}

CTL_HANDLER(ic__ctl_delete_ca) {
    ctl_t *c = data;
    ic_ca_info_t ca;
    if (!ca_or_404(c, call, resp, &ca))
        return;
    if (ca.is_active) {
        ic_http_fail(resp, IC_HTTP_E_CERT_STATE,
                     "The CA certificate must be deactivated (INACTIVE) before "
                     "deletion. Id: %s", ca.id);
        return;
    }
    ic_registry_delete_ca(c->registry, ca.id);
    ic_http_json(resp, cJSON_CreateObject());
}
