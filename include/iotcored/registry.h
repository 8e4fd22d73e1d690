/* registry.h - the certificate registry: device certificates and CA
 * certificates with their AWS statuses, persisted in the store and served
 * from memory (aws-iot-auth.md 4.1-4.4).
 *
 * A certificate's ID is the lowercase hex SHA-256 of its DER. At CONNECT a
 * presented certificate is accepted only when it is registered and ACTIVE
 * and within its validity; who signed it does not matter once it is
 * registered. An unregistered certificate signed by a registered ACTIVE CA
 * with auto-registration is registered PENDING_ACTIVATION (just-in-time
 * registration) and the connection is refused.
 * Things and principal attachments come with the control plane.
 */
#ifndef IOTCORED_REGISTRY_H
#define IOTCORED_REGISTRY_H

#include "iotcored/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    IC_CERT_ACTIVE = 0,
    IC_CERT_INACTIVE,
    IC_CERT_REVOKED,
    IC_CERT_PENDING_TRANSFER,
    IC_CERT_PENDING_ACTIVATION,
    IC_CERT_REGISTER_INACTIVE,
} ic_cert_status_t;

typedef struct ic_registry_s ic_registry_t;

typedef enum {
    IC_AUTH_OK = 0,   /* registered, ACTIVE, valid now */
    IC_AUTH_REFUSED,  /* see why */
    IC_AUTH_JITR,     /* registered now as PENDING_ACTIVATION; refused */
} ic_auth_verdict_t;

typedef struct ic_auth_result_s {
    ic_auth_verdict_t verdict;
    char cert_id[65];
    char ca_id[65];   /* issuing registered CA, "" if none */
    char why[160];    /* reason of a refusal */
    int64_t registered_ms; /* JITR: registration time */
} ic_auth_result_t;

/* Status names as the AWS API spells them; parse returns -1 if unknown. */
const char *ic_cert_status_name(ic_cert_status_t st);
int ic_cert_status_parse(const char *name);

/* db may be NULL (memory only, unit tests). */
ic_registry_t *ic_registry_new(ic_db_t *db);
void ic_registry_free(ic_registry_t *r);
/* (Re)load everything from the store, replacing the cache (SIGHUP picks up
 * certificates registered offline). 0 or IC_ESTORE. */
int ic_registry_load(ic_registry_t *r);

/* Register a device certificate (PEM). ca_id: registered CA that signed it,
 * or NULL. Returns 0, IC_EEXIST, or IC_EINVAL (bad PEM, or not signed by
 * ca_id); why explains. */
int ic_registry_add_cert(ic_registry_t *r, const char *pem, ic_cert_status_t st,
                         const char *ca_id, int64_t now_ms, char id_out[65],
                         char *why, size_t whylen);
/* Register a CA certificate (PEM), ACTIVE or INACTIVE. */
int ic_registry_add_ca(ic_registry_t *r, const char *pem, bool is_active,
                       bool auto_registration, int64_t now_ms, char id_out[65],
                       char *why, size_t whylen);
/* The account's registration code (AWS GetRegistrationCode; 64 lowercase
 * hex, made once and kept in the store). */
const char *ic_registry_registration_code(ic_registry_t *r);
/* AWS RegisterCACertificate in DEFAULT mode: the verification certificate
 * must have the registration code as its subject CN and be signed by the
 * CA's key (proof of possession). IC_EINVAL with why otherwise. */
int ic_registry_check_verification(ic_registry_t *r, const char *ca_pem,
                                   const char *verification_pem, char *why,
                                   size_t whylen);
/* 0 or IC_ENOTFOUND. */
int ic_registry_set_status(ic_registry_t *r, const char *cert_id,
                           ic_cert_status_t st, int64_t now_ms);
/* Status of a registered certificate, or -1. */
int ic_registry_status(const ic_registry_t *r, const char *cert_id);
size_t ic_registry_count(const ic_registry_t *r);

/* Decide for the certificate (DER) a client presented, at CONNECT: a JITR
 * verdict registers the certificate PENDING_ACTIVATION. */
void ic_registry_authenticate(ic_registry_t *r, const uint8_t *der, size_t len,
                              int64_t now_ms, ic_auth_result_t *out);
/* The same decision without side effects (for the TLS handshake): a
 * certificate JITR would register comes back as IC_AUTH_JITR, unregistered. */
void ic_registry_check(ic_registry_t *r, const uint8_t *der, size_t len,
                       int64_t now_ms, ic_auth_result_t *out);

/* ---- for the control plane ---------------------------------------------- */

/* Borrowed views, valid until the next change to the registry. */
typedef struct ic_cert_info_s {
    const char *id;
    const char *pem;
    int status;          /* ic_cert_status_t */
    const char *ca_id;   /* "" if none */
    int64_t created_ms, updated_ms, not_before_ms, not_after_ms;
    bool is_sni_only;    /* certificateMode SNI_ONLY (registered without CA) */
} ic_cert_info_t;

typedef struct ic_ca_info_s {
    const char *id;
    const char *pem;
    bool is_active;
    bool auto_registration;
    int64_t created_ms, updated_ms, not_before_ms, not_after_ms;
    bool is_sni_only;
} ic_ca_info_t;

bool ic_registry_get(const ic_registry_t *r, const char *id, ic_cert_info_t *out);
/* Every certificate (unordered) into out, up to cap; returns the total. */
size_t ic_registry_list(const ic_registry_t *r, ic_cert_info_t *out, size_t cap);
/* 0 or IC_ENOTFOUND. The caller checks AWS's preconditions first. */
int ic_registry_delete(ic_registry_t *r, const char *id);
bool ic_registry_get_ca(const ic_registry_t *r, const char *id, ic_ca_info_t *out);
size_t ic_registry_list_cas(const ic_registry_t *r, ic_ca_info_t *out, size_t cap);
/* is_active / auto_registration: 1, 0, or -1 = unchanged. */
int ic_registry_update_ca(ic_registry_t *r, const char *id, int is_active,
                          int auto_registration, int64_t now_ms);
int ic_registry_delete_ca(ic_registry_t *r, const char *id);
size_t ic_registry_count_by_ca(const ic_registry_t *r, const char *ca_id);
/* Mark a certificate registered without a CA (certificateMode SNI_ONLY). */
int ic_registry_set_sni_only(ic_registry_t *r, const char *id);
int ic_registry_set_ca_sni_only(ic_registry_t *r, const char *id);
/* The registered CA whose key signed pem (its ID into ca_id), if any. */
bool ic_registry_find_issuer(ic_registry_t *r, const char *pem, char ca_id[65]);
/* The certificate ID of a PEM certificate; IC_EINVAL if unreadable. */
int ic_registry_cert_id_of_pem(const char *pem, char id_out[65]);

#endif
