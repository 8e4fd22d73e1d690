/* registry.c - certificates and CA certificates: cache, rules, persistence.
 *
 * Owns the in-memory registry (maps by certificate ID) and the decision on a
 * presented certificate (registered, status, validity, JITR). It writes
 * through to the store (store/certs.c) and parses certificates with
 * OpenSSL; parsed X509 objects are kept only for CAs (to check signatures)
 * and freed with them. It does not publish events or refuse connections:
 * proto.c acts on the verdict. Loop thread only.
 */
#include "iotcored/registry.h"

#include "iotcored/alloc.h"
#include "iotcored/certs.h"
#include "iotcored/error.h"
#include "iotcored/map.h"
#include "iotcored/meta.h"
#include "iotcored/str.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cert_s {
    char id[65];
    int status;            /* ic_cert_status_t */
    char ca_id[65];
    int64_t not_before_ms, not_after_ms;
    int64_t created_ms, updated_ms;
    char *pem;             /* as registered (DescribeCertificate) */
    bool is_sni_only;      /* registered without a CA (certificateMode) */
} cert_t;

typedef struct ca_s {
    char id[65];
    X509 *x509;
    bool is_active;
    bool auto_registration;
    int64_t created_ms, updated_ms;
    char *pem;
    bool is_sni_only;       /* certificateMode SNI_ONLY */
} ca_t;

struct ic_registry_s {
    ic_db_t *db;
    char reg_code[65];  /* "" until first asked */
    ic_map_t certs; /* id -> cert_t* */
    ic_map_t cas;   /* id -> ca_t* */
};

static const char *const status_names[] = {
    "ACTIVE", "INACTIVE", "REVOKED", "PENDING_TRANSFER", "PENDING_ACTIVATION",
    "REGISTER_INACTIVE"};

const char *ic_cert_status_name(ic_cert_status_t st) {
    return (unsigned)st < 6 ? status_names[st] : "UNKNOWN";
}

int ic_cert_status_parse(const char *name) {
    int i;
    for (i = 0; i < 6; i++)
        if (strcmp(status_names[i], name) == 0)
            return i;
    return -1;
}

ic_registry_t *ic_registry_new(ic_db_t *db) {
    ic_registry_t *r = ic_xcalloc(1, sizeof(*r));
    r->db = db;
    ic_map_init(&r->certs);
    ic_map_init(&r->cas);
    return r;
}

static void free_cert(cert_t *c) {
    if (c == NULL)
        return;
    free(c->pem);
    free(c);
}

static void free_ca(ca_t *ca) {
    if (ca == NULL)
        return;
    X509_free(ca->x509);
    free(ca->pem);
    free(ca);
}

static void clear(ic_registry_t *r) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    while ((e = ic_map_next(&r->certs, &it)) != NULL)
        free_cert(e->val);
    ic_map_free(&r->certs);
    it.bucket = 0;
    it.next = NULL;
    while ((e = ic_map_next(&r->cas, &it)) != NULL) {
        free_ca(e->val);
    }
    ic_map_free(&r->cas);
}

void ic_registry_free(ic_registry_t *r) {
    if (r == NULL)
        return;
    clear(r);
    free(r);
}

size_t ic_registry_count(const ic_registry_t *r) {
    return r->certs.n;
}

/* ---- certificate parsing ----------------------------------------------------- */

static void der_id(const uint8_t *der, size_t len, char out[65]) {
    unsigned char md[32];
    unsigned int n = 0, i;
    EVP_Digest(der, len, md, &n, EVP_sha256(), NULL);
    for (i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static X509 *parse_pem(const char *pem) {
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

static void x509_id(X509 *x, char out[65]) {
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    out[0] = '\0';
    if (n > 0)
        der_id(der, (size_t)n, out);
    OPENSSL_free(der);
}

static int64_t asn1_ms(const ASN1_TIME *t) {
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm) * 1000;
}

static cert_t *new_cert(X509 *x, int status, const char *ca_id, const char *id,
                        const char *pem, int64_t created_ms, int64_t updated_ms) {
    cert_t *c = ic_xcalloc(1, sizeof(*c));
    ic_strlcpy(c->id, id, sizeof(c->id));
    c->pem = ic_xstrdup(pem);
    c->created_ms = created_ms;
    c->updated_ms = updated_ms;
    c->status = status;
    ic_strlcpy(c->ca_id, ca_id ? ca_id : "", sizeof(c->ca_id));
    c->not_before_ms = asn1_ms(X509_get0_notBefore(x));
    c->not_after_ms = asn1_ms(X509_get0_notAfter(x));
    return c;
}

/* The registered CA whose key signed x, or NULL. */
static ca_t *issuing_ca(ic_registry_t *r, X509 *x) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    while ((e = ic_map_next(&r->cas, &it)) != NULL) {
        ca_t *ca = e->val;
        EVP_PKEY *k;
        if (X509_check_issued(ca->x509, x) != X509_V_OK)
            continue;
        k = X509_get0_pubkey(ca->x509);
        /* same subject is not enough (a fake CA): the signature decides */
        if (k && X509_verify(x, k) == 1)
            return ca;
    }
    return NULL;
}

/* ---- loading ------------------------------------------------------------------ */

static void load_ca(const char *id, const char *pem, const char *status,
                    bool auto_reg, int64_t created_ms, int64_t updated_ms,
                    const char *props, void *data) {
    ic_registry_t *r = data;
    ca_t *ca;
    X509 *x = parse_pem(pem);
    if (x == NULL)
        return;
    ca = ic_xcalloc(1, sizeof(*ca));
    ca->pem = ic_xstrdup(pem);
    ca->created_ms = created_ms;
    ca->updated_ms = updated_ms;
    ca->is_sni_only = props && strstr(props, "\"SNI_ONLY\"") != NULL;
    ic_strlcpy(ca->id, id, sizeof(ca->id));
    ca->x509 = x;
    ca->is_active = strcmp(status, "ACTIVE") == 0;
    ca->auto_registration = auto_reg;
    free_ca(ic_map_put(&r->cas, id, strlen(id), ca));
}

static void load_cert(const char *id, const char *pem, const char *status,
                      const char *ca_id, int64_t created_ms, int64_t updated_ms,
                      const char *props, void *data) {
    ic_registry_t *r = data;
    X509 *x = parse_pem(pem);
    int st = ic_cert_status_parse(status);
    if (x == NULL || st < 0) {
        X509_free(x);
        return;
    }
    {
        cert_t *c = new_cert(x, st, ca_id, id, pem, created_ms, updated_ms);
        c->is_sni_only = props && strstr(props, "\"SNI_ONLY\"") != NULL;
        free_cert(ic_map_put(&r->certs, id, strlen(id), c));
    }
    X509_free(x);
}

int ic_registry_load(ic_registry_t *r) {
    ic_certs_loader_t l = {load_cert, load_ca, r};
    if (r->db == NULL)
        return 0;
    clear(r);
    ic_map_init(&r->certs);
    ic_map_init(&r->cas);
    return ic_certs_load(r->db, &l);
}

/* ---- registration ----------------------------------------------------------------- */

int ic_registry_add_cert(ic_registry_t *r, const char *pem, ic_cert_status_t st,
                         const char *ca_id, int64_t now_ms, char id_out[65],
                         char *why, size_t whylen) {
    X509 *x = parse_pem(pem);
    int rc = 0;
    if (x == NULL) {
        snprintf(why, whylen, "not a PEM certificate");
        return IC_EINVAL;
    }
    x509_id(x, id_out);
    if (ic_map_get(&r->certs, id_out, 64) != NULL) {
        snprintf(why, whylen, "certificate %s is already registered", id_out);
        rc = IC_EEXIST;
    } else if (ca_id && ca_id[0]) {
        ca_t *ca = ic_map_get(&r->cas, ca_id, strlen(ca_id));
        if (ca == NULL || issuing_ca(r, x) != ca) {
            snprintf(why, whylen, "certificate was not signed by CA %s", ca_id);
            rc = IC_EINVAL;
        }
    }
    if (rc == 0) {
        ic_map_put(&r->certs, id_out, 64,
                   new_cert(x, st, ca_id, id_out, pem, now_ms, now_ms));
        if (r->db)
            ic_certs_put(r->db, id_out, pem, ic_cert_status_name(st), ca_id,
                         now_ms, now_ms);
    }
    X509_free(x);
    return rc;
}

int ic_registry_add_ca(ic_registry_t *r, const char *pem, bool is_active,
                       bool auto_registration, int64_t now_ms, char id_out[65],
                       char *why, size_t whylen) {
    X509 *x = parse_pem(pem);
    ca_t *ca;
    if (x == NULL) {
        snprintf(why, whylen, "not a PEM certificate");
        return IC_EINVAL;
    }
    if (X509_check_ca(x) == 0) {
        snprintf(why, whylen, "not a CA certificate");
        X509_free(x);
        return IC_EINVAL;
    }
    x509_id(x, id_out);
    if (ic_map_get(&r->cas, id_out, 64) != NULL) {
        snprintf(why, whylen, "CA certificate %s is already registered", id_out);
        X509_free(x);
        return IC_EEXIST;
    }
    ca = ic_xcalloc(1, sizeof(*ca));
    ic_strlcpy(ca->id, id_out, sizeof(ca->id));
    ca->x509 = x;
    ca->is_active = is_active;
    ca->auto_registration = auto_registration;
    ca->pem = ic_xstrdup(pem);
    ca->created_ms = ca->updated_ms = now_ms;
    ic_map_put(&r->cas, id_out, 64, ca);
    if (r->db)
        ic_certs_put_ca(r->db, id_out, pem, is_active ? "ACTIVE" : "INACTIVE",
                        auto_registration, now_ms, now_ms);
    return 0;
}

int ic_registry_set_status(ic_registry_t *r, const char *cert_id,
                           ic_cert_status_t st, int64_t now_ms) {
    cert_t *c = ic_map_get(&r->certs, cert_id, strlen(cert_id));
    ic_db_val_t v[3];
    if (c == NULL)
        return IC_ENOTFOUND;
    c->status = (int)st;
    c->updated_ms = now_ms;
    if (r->db) {
        v[0] = IC_DB_TEXTV(ic_cert_status_name(st), strlen(ic_cert_status_name(st)));
        v[1] = IC_DB_INTV(now_ms);
        v[2] = IC_DB_TEXTV(cert_id, strlen(cert_id));
        ic_db_exec(r->db,
                   "UPDATE certificates SET status = ?1, updated_ms = ?2 "
                   "WHERE id = ?3",
                   v, 3, NULL, NULL);
    }
    return 0;
}

int ic_registry_status(const ic_registry_t *r, const char *cert_id) {
    const cert_t *c = ic_map_get(&r->certs, cert_id, strlen(cert_id));
    return c ? c->status : -1;
}

/* ---- the decision at CONNECT -------------------------------------------------------- */

static void decide(ic_registry_t *r, const uint8_t *der, size_t len,
                   int64_t now_ms, bool may_register, ic_auth_result_t *out) {
    const uint8_t *p = der;
    X509 *x;
    cert_t *c;
    ca_t *ca;
    memset(out, 0, sizeof(*out));
    out->verdict = IC_AUTH_REFUSED;
    der_id(der, len, out->cert_id);
    c = ic_map_get(&r->certs, out->cert_id, 64);
    if (c != NULL) {
        ic_strlcpy(out->ca_id, c->ca_id, sizeof(out->ca_id));
        if (c->status != IC_CERT_ACTIVE) {
            /* AWS 4.2: only ACTIVE connects (JITR re-announces a pending one) */
            snprintf(out->why, sizeof(out->why), "certificate is %s",
                     ic_cert_status_name((ic_cert_status_t)c->status));
            if (c->status == IC_CERT_PENDING_ACTIVATION && c->ca_id[0])
                out->verdict = IC_AUTH_JITR;
        } else if (now_ms < c->not_before_ms) {
            snprintf(out->why, sizeof(out->why), "certificate is not yet valid");
        } else if (now_ms > c->not_after_ms) {
            snprintf(out->why, sizeof(out->why), "certificate has expired");
        } else {
            out->verdict = IC_AUTH_OK;
        }
        return;
    }
    x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL) {
        snprintf(out->why, sizeof(out->why), "unreadable certificate");
        return;
    }
    ca = issuing_ca(r, x);
    if (ca && ca->is_active && ca->auto_registration && !may_register) {
        ic_strlcpy(out->ca_id, ca->id, sizeof(out->ca_id));
        out->verdict = IC_AUTH_JITR;
        snprintf(out->why, sizeof(out->why), "certificate is not registered yet");
    } else if (ca && ca->is_active && ca->auto_registration) {
        /* AWS 4.4 JITR: register PENDING_ACTIVATION, refuse this attempt */
        BIO *b = BIO_new(BIO_s_mem());
        char *pem = NULL;
        long n;
        PEM_write_bio_X509(b, x);
        n = BIO_get_mem_data(b, &pem);
        char *copy = ic_xstrndup(pem, (size_t)n);
        ic_map_put(&r->certs, out->cert_id, 64,
                   new_cert(x, IC_CERT_PENDING_ACTIVATION, ca->id, out->cert_id,
                            copy, now_ms, now_ms));
        if (r->db)
            ic_certs_put(r->db, out->cert_id, copy, "PENDING_ACTIVATION", ca->id,
                         now_ms, now_ms);
        free(copy);
        BIO_free(b);
        ic_strlcpy(out->ca_id, ca->id, sizeof(out->ca_id));
        out->registered_ms = now_ms;
        out->verdict = IC_AUTH_JITR;
        snprintf(out->why, sizeof(out->why),
                 "certificate registered PENDING_ACTIVATION by just-in-time "
                 "registration");
    } else if (ca && !ca->is_active) {
        snprintf(out->why, sizeof(out->why),
                 "certificate is not registered (its CA %.12s... is INACTIVE)", ca->id);
    } else {
        snprintf(out->why, sizeof(out->why), "certificate is not registered");
    }
    X509_free(x);
}

void ic_registry_authenticate(ic_registry_t *r, const uint8_t *der, size_t len,
                              int64_t now_ms, ic_auth_result_t *out) {
    decide(r, der, len, now_ms, true, out);
}

void ic_registry_check(ic_registry_t *r, const uint8_t *der, size_t len,
                       int64_t now_ms, ic_auth_result_t *out) {
    decide(r, der, len, now_ms, false, out);
}

const char *ic_registry_registration_code(ic_registry_t *r) {
    unsigned char b[32];
    size_t i;
    if (r->reg_code[0])
        return r->reg_code;
    if (r->db)
        ic_meta_get_text(r->db, "registration_code", r->reg_code,
                         sizeof(r->reg_code));
    if (strlen(r->reg_code) != 64) {
        RAND_bytes(b, sizeof(b));
        for (i = 0; i < sizeof(b); i++)
            snprintf(r->reg_code + 2 * i, 3, "%02x", b[i]);
        if (r->db)
            ic_meta_set(r->db, "registration_code", r->reg_code, NULL, NULL);
    }
    return r->reg_code;
}

int ic_registry_check_verification(ic_registry_t *r, const char *ca_pem,
                                   const char *verification_pem, char *why,
                                   size_t whylen) {
    X509 *ca = parse_pem(ca_pem), *v = parse_pem(verification_pem);
    char cn[256] = "";
    int rc = 0;
    if (ca == NULL || v == NULL) {
        snprintf(why, whylen, "not a PEM certificate");
        rc = IC_EINVAL;
    } else {
        X509_NAME_get_text_by_NID(X509_get_subject_name(v), NID_commonName, cn,
                                  sizeof(cn));
        if (strcmp(cn, ic_registry_registration_code(r)) != 0) {
            snprintf(why, whylen,
                     "the verification certificate's CN is not the registration code");
            rc = IC_EINVAL;
        } else if (X509_verify(v, X509_get0_pubkey(ca)) != 1) {
            snprintf(why, whylen,
                     "the verification certificate is not signed by the CA");
            rc = IC_EINVAL;
        }
    }
    X509_free(ca);
    X509_free(v);
    return rc;
}

/* ---- queries and changes for the control plane ------------------------------------ */

static void info_of(const cert_t *c, ic_cert_info_t *out) {
    out->id = c->id;
    out->pem = c->pem;
    out->status = c->status;
    out->ca_id = c->ca_id;
    out->created_ms = c->created_ms;
    out->updated_ms = c->updated_ms;
    out->not_before_ms = c->not_before_ms;
    out->not_after_ms = c->not_after_ms;
    out->is_sni_only = c->is_sni_only;
}

bool ic_registry_get(const ic_registry_t *r, const char *id, ic_cert_info_t *out) {
    const cert_t *c = ic_map_get(&r->certs, id, strlen(id));
    if (c == NULL)
        return false;
    info_of(c, out);
    return true;
}

size_t ic_registry_list(const ic_registry_t *r, ic_cert_info_t *out, size_t cap) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    size_t n = 0;
    while ((e = ic_map_next((ic_map_t *)(uintptr_t)&r->certs, &it)) != NULL) {
        if (n < cap)
            info_of(e->val, &out[n]);
        n++;
    }
    return n;
}

int ic_registry_delete(ic_registry_t *r, const char *id) {
    cert_t *c = ic_map_del(&r->certs, id, strlen(id));
    if (c == NULL)
        return IC_ENOTFOUND;
    if (r->db)
        ic_certs_delete(r->db, c->id);
    free_cert(c);
    return 0;
}

static void ca_info_of(const ca_t *ca, ic_ca_info_t *out) {
    out->id = ca->id;
    out->pem = ca->pem;
    out->is_active = ca->is_active;
    out->auto_registration = ca->auto_registration;
    out->created_ms = ca->created_ms;
    out->updated_ms = ca->updated_ms;
    out->not_before_ms = asn1_ms(X509_get0_notBefore(ca->x509));
    out->not_after_ms = asn1_ms(X509_get0_notAfter(ca->x509));
    out->is_sni_only = ca->is_sni_only;
}

bool ic_registry_get_ca(const ic_registry_t *r, const char *id, ic_ca_info_t *out) {
    const ca_t *ca = ic_map_get(&r->cas, id, strlen(id));
    if (ca == NULL)
        return false;
    ca_info_of(ca, out);
    return true;
}

size_t ic_registry_list_cas(const ic_registry_t *r, ic_ca_info_t *out, size_t cap) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    size_t n = 0;
    while ((e = ic_map_next((ic_map_t *)(uintptr_t)&r->cas, &it)) != NULL) {
        if (n < cap)
            ca_info_of(e->val, &out[n]);
        n++;
    }
    return n;
}

int ic_registry_update_ca(ic_registry_t *r, const char *id, int is_active,
                          int auto_registration, int64_t now_ms) {
    ca_t *ca = ic_map_get(&r->cas, id, strlen(id));
    if (ca == NULL)
        return IC_ENOTFOUND;
    if (is_active >= 0)
        ca->is_active = is_active != 0;
    if (auto_registration >= 0)
        ca->auto_registration = auto_registration != 0;
    ca->updated_ms = now_ms;
    if (r->db)
        ic_certs_put_ca(r->db, ca->id, ca->pem,
                        ca->is_active ? "ACTIVE" : "INACTIVE",
                        ca->auto_registration, ca->created_ms, now_ms);
    return 0;
}

int ic_registry_delete_ca(ic_registry_t *r, const char *id) {
    ca_t *ca = ic_map_del(&r->cas, id, strlen(id));
    if (ca == NULL)
        return IC_ENOTFOUND;
    if (r->db)
        ic_certs_delete_ca(r->db, ca->id);
    free_ca(ca);
    return 0;
}

size_t ic_registry_count_by_ca(const ic_registry_t *r, const char *ca_id) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    size_t n = 0;
    while ((e = ic_map_next((ic_map_t *)(uintptr_t)&r->certs, &it)) != NULL)
        if (strcmp(((const cert_t *)e->val)->ca_id, ca_id) == 0)
            n++;
    return n;
}

int ic_registry_cert_id_of_pem(const char *pem, char id_out[65]) {
    X509 *x = parse_pem(pem);
    if (x == NULL)
        return IC_EINVAL;
    x509_id(x, id_out);
    X509_free(x);
    return 0;
}

bool ic_registry_find_issuer(ic_registry_t *r, const char *pem, char ca_id[65]) {
    X509 *x = parse_pem(pem);
    ca_t *ca = x ? issuing_ca(r, x) : NULL;
    X509_free(x);
    ca_id[0] = '\0';
    if (ca == NULL)
        return false;
    ic_strlcpy(ca_id, ca->id, 65);
    return true;
}

int ic_registry_set_sni_only(ic_registry_t *r, const char *id) {
    cert_t *c = ic_map_get(&r->certs, id, strlen(id));
    if (c == NULL)
        return IC_ENOTFOUND;
    c->is_sni_only = true;
    if (r->db)
        ic_certs_set_props(r->db, id, "{\"certificateMode\":\"SNI_ONLY\"}");
    return 0;
}

int ic_registry_set_ca_sni_only(ic_registry_t *r, const char *id) {
    ca_t *ca = ic_map_get(&r->cas, id, strlen(id));
    if (ca == NULL)
        return IC_ENOTFOUND;
    ca->is_sni_only = true;
    if (r->db)
        ic_certs_set_ca_props(r->db, id, "{\"certificateMode\":\"SNI_ONLY\"}");
    return 0;
}
