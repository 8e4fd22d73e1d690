/* test_registry.c - the certificate registry's rules on real certificates
 * (made by the local-CA code into a temp directory), without a store. */
#include "iotcored/error.h"
#include "iotcored/pki.h"
#include "iotcored/registry.h"
#include "suites.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 65536);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_gt((int)fread(buf, 1, 65535, f), 0);
    fclose(f);
    return buf;
}

static size_t der_of(const char *pem, uint8_t **out) {
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    int n;
    *out = NULL;
    n = i2d_X509(x, out);
    X509_free(x);
    BIO_free(b);
    return (size_t)n;
}

START_TEST(rules) {
    char dir[] = "/tmp/ic_reg_XXXXXX", err[256], id[65], ca_id[65], cmd[128];
    ic_pki_paths_t p;
    ic_registry_t *r = ic_registry_new(NULL);
    ic_auth_result_t a;
    char *ca, *leaf;
    uint8_t *der;
    size_t len;
    int64_t now = 1800000000000; /* 2027: inside the leaf's validity */
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(ic_pki_ensure(dir, "ep.example", false, err, sizeof(err)), 0);
    ic_pki_paths(dir, &p);
    ca = slurp(p.ca_cert);
    leaf = slurp(p.cert);
    len = der_of(leaf, &der);

    /* unknown: refused */
    ic_registry_authenticate(r, der, len, now, &a);
    ck_assert_int_eq(a.verdict, IC_AUTH_REFUSED);
    ck_assert_str_eq(a.why, "certificate is not registered");
    ck_assert_int_eq((int)strlen(a.cert_id), 64);

    /* a leaf is not a CA; the CA registers, with JITR the leaf is pending */
    ck_assert_int_eq(ic_registry_add_ca(r, leaf, true, true, now, ca_id, err,
                                        sizeof(err)),
                     IC_EINVAL);
    ck_assert_int_eq(ic_registry_add_ca(r, ca, true, true, now, ca_id, err,
                                        sizeof(err)),
                     0);
    ic_registry_authenticate(r, der, len, now, &a);
    ck_assert_int_eq(a.verdict, IC_AUTH_JITR);
    ck_assert_str_eq(a.ca_id, ca_id);
    ck_assert_int_eq(ic_registry_status(r, a.cert_id), IC_CERT_PENDING_ACTIVATION);

    /* activate: accepted; then the rules on status and validity */
    ck_assert_int_eq(ic_registry_set_status(r, a.cert_id, IC_CERT_ACTIVE, now), 0);
    ic_registry_authenticate(r, der, len, now, &a);
    ck_assert_int_eq(a.verdict, IC_AUTH_OK);
    ic_registry_authenticate(r, der, len, now + 3000LL * 86400 * 1000, &a);
    ck_assert_str_eq(a.why, "certificate has expired");
    ck_assert_int_eq(ic_registry_set_status(r, a.cert_id, IC_CERT_REVOKED, now), 0);
    ic_registry_authenticate(r, der, len, now, &a);
    ck_assert_str_eq(a.why, "certificate is REVOKED");
    ck_assert_int_eq(ic_registry_set_status(r, "nope", IC_CERT_ACTIVE, now),
                     IC_ENOTFOUND);

    /* registering twice: EEXIST; garbage: EINVAL */
    ck_assert_int_eq(ic_registry_add_cert(r, leaf, IC_CERT_ACTIVE, NULL, now, id,
                                          err, sizeof(err)),
                     IC_EEXIST);
    ck_assert_int_eq(ic_registry_add_cert(r, "not a pem", IC_CERT_ACTIVE, NULL, now,
                                          id, err, sizeof(err)),
                     IC_EINVAL);
    ck_assert_str_eq(ic_cert_status_name(IC_CERT_REGISTER_INACTIVE),
                     "REGISTER_INACTIVE");
    ck_assert_int_eq(ic_cert_status_parse("PENDING_TRANSFER"), IC_CERT_PENDING_TRANSFER);
    ck_assert_int_eq(ic_cert_status_parse("bogus"), -1);

    OPENSSL_free(der);
    free(ca);
    free(leaf);
    ic_registry_free(r);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(registration_code_proof) {
    char dir[] = "/tmp/ic_reg2_XXXXXX", other[] = "/tmp/ic_reg3_XXXXXX", cmd[512];
    char err[256], why[256];
    ic_pki_paths_t p, q;
    ic_registry_t *r = ic_registry_new(NULL);
    const char *code = ic_registry_registration_code(r);
    char *ca, *verif;
    ck_assert_int_eq((int)strlen(code), 64);
    ck_assert_str_eq(code, ic_registry_registration_code(r)); /* stable */
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_ptr_nonnull(mkdtemp(other));
    ck_assert_int_eq(ic_pki_ensure(dir, "ep", false, err, sizeof(err)), 0);
    ck_assert_int_eq(ic_pki_ensure(other, "ep", false, err, sizeof(err)), 0);
    ic_pki_paths(dir, &p);
    ic_pki_paths(other, &q);
    /* a verification certificate: CN = the code, signed by the CA key */
    snprintf(cmd, sizeof(cmd),
             "cd %s && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
             "-out v.key 2>/dev/null && openssl req -new -key v.key -subj /CN=%s "
             "-out v.csr && openssl x509 -req -in v.csr -CA ca.pem -CAkey ca.key "
             "-CAcreateserial -days 1 -out v.pem 2>/dev/null",
             dir, code);
    ck_assert_int_eq(system(cmd), 0);
    ca = slurp(p.ca_cert);
    snprintf(cmd, sizeof(cmd), "%s/v.pem", dir);
    verif = slurp(cmd);
    ck_assert_int_eq(ic_registry_check_verification(r, ca, verif, why, sizeof(why)), 0);
    free(ca);
    /* another CA did not sign it */
    ca = slurp(q.ca_cert);
    ck_assert_int_eq(ic_registry_check_verification(r, ca, verif, why, sizeof(why)),
                     IC_EINVAL);
    ck_assert_str_eq(why, "the verification certificate is not signed by the CA");
    free(ca);
    /* a leaf whose CN is not the code */
    ca = slurp(p.ca_cert);
    free(verif);
    verif = slurp(p.cert);
    ck_assert_int_eq(ic_registry_check_verification(r, ca, verif, why, sizeof(why)),
                     IC_EINVAL);
    ck_assert_str_eq(why, "the verification certificate's CN is not the registration code");
    free(ca);
    free(verif);
    ic_registry_free(r);
    snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, other);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *ic_registry_suite(void) {
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("certificates");
    tcase_add_test(tc, rules);
    tcase_add_test(tc, registration_code_proof);
    suite_add_tcase(s, tc);
    return s;
}
