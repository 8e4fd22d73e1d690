/* pki.h - the broker's local certificate authority.
 *
 * When no tls_cert/tls_key/tls_ca are configured, iotcored makes its own:
 * a root CA (ECDSA P-256, or RSA 2048) and a server certificate it signs, whose SANs
 * cover localhost, 127.0.0.1, ::1, the host name and the endpoint name.
 * The root CA (ca.pem) is what devices trust in place of AmazonRootCA1.pem
 * and, until the registry exists, what signs accepted device certificates.
 */
#ifndef IOTCORED_PKI_H
#define IOTCORED_PKI_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ic_pki_paths_s {
    char ca_cert[4096], ca_key[4096], cert[4096], key[4096];
} ic_pki_paths_t;

/* Paths of the generated files inside dir. */
void ic_pki_paths(const char *dir, ic_pki_paths_t *out);
/* Create whatever of them is missing (existing files are kept). Returns 0,
 * or IC_EIO with a one-line reason in err. */
int ic_pki_ensure(const char *dir, const char *endpoint, bool use_rsa,
                  char *err, size_t errlen);

/* A device certificate signed by the local CA in dir (AWS
 * CreateKeysAndCertificate / CreateCertificateFromCsr). */
typedef struct ic_pki_issued_s {
    char *cert_pem;  /* owned */
    char *key_pem;   /* owned; NULL when issued from a CSR */
    char *pub_pem;   /* owned; NULL when issued from a CSR */
} ic_pki_issued_t;

/* csr_pem NULL: make an RSA 2048 key pair (as AWS does) and certify it;
 * otherwise certify the CSR's key (its signature is checked). Returns 0,
 * IC_EINVAL (bad CSR) or IC_EIO, with a reason in err. */
int ic_pki_issue(const char *dir, const char *csr_pem, ic_pki_issued_t *out,
                 char *err, size_t errlen);
void ic_pki_issued_free(ic_pki_issued_t *x);

#endif
