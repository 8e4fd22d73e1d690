/* pki.c - generate the local root CA and server certificate.
 *
 * Owns the X.509 construction of those two certificates and writing them
 * (keys mode 0600) into data_dir. Runs once at start, before listeners are
 * bound; it never overwrites files that exist, so a CA handed to devices
 * stays valid across restarts. It does not load certificates for serving
 * (tls.c does).
 */
#include "iotcored/pki.h"

#include "iotcored/error.h"
#include "iotcored/str.h"
#include "iotcored/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CA_DAYS 3650
#define SERVER_DAYS 825

void ic_pki_paths(const char *dir, ic_pki_paths_t *out) {
    snprintf(out->ca_cert, sizeof(out->ca_cert), "%s/ca.pem", dir);
    snprintf(out->ca_key, sizeof(out->ca_key), "%s/ca.key", dir);
    snprintf(out->cert, sizeof(out->cert), "%s/server.pem", dir);
    snprintf(out->key, sizeof(out->key), "%s/server.key", dir);
}

static int fail(char *err, size_t errlen, const char *what) {
    char msg[256];
    snprintf(msg, sizeof(msg), "local CA: %s", what);
    ic_tls_openssl_error(err, errlen, msg);
    return IC_EIO;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL)
        return -1;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return 0;
}

/* A certificate for key, signed by (issuer, issuer_key), or self-signed
 * when issuer is NULL. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer,
                       EVP_PKEY *issuer_key, int days, const char *san) {
    X509 *x = X509_new();
    unsigned char serial[16];
    BIGNUM *bn;
    X509_NAME *name;
    bool ok = x != NULL;
    RAND_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    ok = ok && X509_set_version(x, 2) && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
         X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) &&
         X509_set_pubkey(x, key);
    name = X509_get_subject_name(x);
    ok = ok && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                          (const unsigned char *)"iotcored", -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)cn, -1, -1, 0);
    ok = ok && X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    if (ok && issuer == NULL) {
        ok = add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
             add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") == 0 &&
             add_ext(x, x, NID_subject_key_identifier, "hash") == 0;
    } else if (ok) {
        ok = add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
             add_ext(x, issuer, NID_key_usage, "critical,digitalSignature") == 0 &&
             add_ext(x, issuer, NID_ext_key_usage, "serverAuth") == 0 &&
             add_ext(x, issuer, NID_subject_alt_name, san) == 0 &&
             add_ext(x, issuer, NID_authority_key_identifier, "keyid") == 0;
    }
    ok = ok && X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int write_key(const char *path, EVP_PKEY *key) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int ok;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int write_cert(const char *path, X509 *x) {
    FILE *f = fopen(path, "w");
    int ok;
    if (f == NULL)
        return -1;
    ok = PEM_write_X509(f, x);
    return fclose(f) == 0 && ok ? 0 : -1;
}

static EVP_PKEY *read_key(const char *path) {
    FILE *f = fopen(path, "r");
    EVP_PKEY *k;
    if (f == NULL)
        return NULL;
    k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

static X509 *read_cert(const char *path) {
    FILE *f = fopen(path, "r");
    X509 *x;
    if (f == NULL)
        return NULL;
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

static EVP_PKEY *new_key(bool use_rsa) {
    return use_rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
}

int ic_pki_ensure(const char *dir, const char *endpoint, bool use_rsa,
                  char *err, size_t errlen) {
    ic_pki_paths_t p;
    EVP_PKEY *ca_key = NULL, *key = NULL;
    X509 *ca = NULL, *cert = NULL;
    char host[256] = "localhost", san[1024];
    int rc = 0;
    ic_pki_paths(dir, &p);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "local CA: cannot create %s: %s", dir, strerror(errno));
        return IC_EIO;
    }
    if (access(p.ca_cert, F_OK) == 0 && access(p.ca_key, F_OK) == 0) {
        ca = read_cert(p.ca_cert);
        ca_key = read_key(p.ca_key);
        if (ca == NULL || ca_key == NULL) {
            rc = fail(err, errlen, "cannot read ca.pem/ca.key");
            goto out;
        }
    } else {
        ca_key = new_key(use_rsa);
        ca = ca_key ? make_cert(ca_key, "iotcored local root CA", NULL, NULL,
                                CA_DAYS, NULL)
                    : NULL;
        if (ca == NULL || write_key(p.ca_key, ca_key) != 0 ||
            write_cert(p.ca_cert, ca) != 0) {
            rc = fail(err, errlen, "cannot create the root CA");
            goto out;
        }
    }
    if (access(p.cert, F_OK) == 0 && access(p.key, F_OK) == 0)
        goto out;
    gethostname(host, sizeof(host) - 1);
    snprintf(san, sizeof(san),
             "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:%s,DNS:%s", host, endpoint);
    key = new_key(use_rsa);
    cert = key ? make_cert(key, endpoint, ca, ca_key, SERVER_DAYS, san) : NULL;
    if (cert == NULL || write_key(p.key, key) != 0 || write_cert(p.cert, cert) != 0)
        rc = fail(err, errlen, "cannot create the server certificate");
out:
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    X509_free(ca);
    X509_free(cert);
    return rc;
}
