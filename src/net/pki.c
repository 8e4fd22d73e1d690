/* pki.c - generate the local root CA and server certificate.
 *
 * Owns the X.509 construction of those two certificates and writing them
 * (keys mode 0600) into data_dir. Runs once at start, before listeners are
 * bound; it never overwrites files that exist, so a CA handed to devices
 * stays valid across restarts. It does not load certificates for serving
 * (tls.c does).
 */
#include "iotcored/pki.h"

#include "iotcored/alloc.h"
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
#include <stdlib.h>
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

/* ---- device certificates (CreateKeysAndCertificate, CreateCertificateFromCsr) */

static char *bio_string(BIO *b) {
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *s = ic_xmalloc((size_t)(n > 0 ? n : 0) + 1);
    if (n > 0)
        memcpy(s, data, (size_t)n);
    s[n > 0 ? n : 0] = '\0';
    return s;
}

static char *pem_of_cert(X509 *x) {
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL;
    if (b && PEM_write_bio_X509(b, x))
        s = bio_string(b);
    BIO_free(b);
    return s;
}

/* A device certificate as AWS issues them: CN "AWS IoT Certificate",
 * clientAuth, valid until the end of 2049. */
static X509 *make_device_cert(EVP_PKEY *pub, X509 *ca, EVP_PKEY *ca_key) {
    X509 *x = X509_new();
    unsigned char serial[20];
    BIGNUM *bn;
    X509_NAME *name;
    ASN1_TIME *end = ASN1_TIME_new();
    bool ok = x != NULL && end != NULL;
    RAND_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    ok = ok && X509_set_version(x, 2) &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
         ASN1_TIME_set_string(end, "20491231235959Z") &&
         X509_set1_notAfter(x, end) && X509_set_pubkey(x, pub);
    name = X509_get_subject_name(x);
    ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                          (const unsigned char *)"AWS IoT Certificate",
                                          -1, -1, 0) &&
         X509_set_issuer_name(x, X509_get_subject_name(ca));
    ok = ok && add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
         add_ext(x, ca, NID_key_usage, "critical,digitalSignature") == 0 &&
         add_ext(x, ca, NID_ext_key_usage, "clientAuth") == 0 &&
         add_ext(x, ca, NID_subject_key_identifier, "hash") == 0 &&
         add_ext(x, ca, NID_authority_key_identifier, "keyid") == 0;
    ok = ok && X509_sign(x, ca_key, EVP_sha256()) > 0;
    ASN1_TIME_free(end);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int ic_pki_issue(const char *dir, const char *csr_pem, ic_pki_issued_t *out,
                 char *err, size_t errlen) {
    ic_pki_paths_t p;
    EVP_PKEY *ca_key = NULL, *key = NULL;
    X509 *ca = NULL, *cert = NULL;
    X509_REQ *req = NULL;
    BIO *b = NULL;
    int rc = 0;
    memset(out, 0, sizeof(*out));
    ic_pki_paths(dir, &p);
    ca = read_cert(p.ca_cert);
    ca_key = read_key(p.ca_key);
    if (ca == NULL || ca_key == NULL) {
        rc = fail(err, errlen, "cannot read ca.pem/ca.key");
        goto out;
    }
    if (csr_pem != NULL) {
        b = BIO_new_mem_buf(csr_pem, -1);
        req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
        key = req ? X509_REQ_get_pubkey(req) : NULL;
        if (key == NULL || X509_REQ_verify(req, key) != 1) {
            ERR_clear_error();
            snprintf(err, errlen, "the certificate signing request is not valid");
            rc = IC_EINVAL;
            goto out;
        }
    } else {
        key = EVP_RSA_gen(2048);
        if (key == NULL) {
            rc = fail(err, errlen, "cannot make a key pair");
            goto out;
        }
        BIO_free(b);
        b = BIO_new(BIO_s_mem());
        if (b == NULL || !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)) {
            rc = fail(err, errlen, "cannot encode the private key");
            goto out;
        }
        out->key_pem = bio_string(b);
        BIO_free(b);
        b = BIO_new(BIO_s_mem());
        if (b == NULL || !PEM_write_bio_PUBKEY(b, key)) {
            rc = fail(err, errlen, "cannot encode the public key");
            goto out;
        }
        out->pub_pem = bio_string(b);
    }
    cert = make_device_cert(key, ca, ca_key);
    out->cert_pem = cert ? pem_of_cert(cert) : NULL;
    if (out->cert_pem == NULL)
        rc = fail(err, errlen, "cannot sign the certificate");
out:
    if (rc != 0)
        ic_pki_issued_free(out);
    BIO_free(b);
    X509_REQ_free(req);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    X509_free(ca);
    X509_free(cert);
    return rc;
}

void ic_pki_issued_free(ic_pki_issued_t *x) {
    free(x->cert_pem);
    if (x->key_pem)
        OPENSSL_cleanse(x->key_pem, strlen(x->key_pem));
    free(x->key_pem);
    free(x->pub_pem);
    memset(x, 0, sizeof(*x));
}
