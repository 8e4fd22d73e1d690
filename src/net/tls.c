/* tls.c - OpenSSL server sessions over memory BIOs.
 *
 * Owns the SSL_CTX of each TLS listener and the SSL of each connection,
 * with its two memory BIOs (network -> SSL, SSL -> network). It moves bytes
 * and reports the peer's identity; it does not decide who may connect
 * (proto.c, later the registry) and never touches sockets (conn.c).
 * Loop thread only.
 */
#include "iotcored/tls.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/str.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ic_tls_ctx_s {
    SSL_CTX *ctx;
    ic_tls_mode_t mode;
    bool is_alpn;          /* verify mode chosen per ClientHello */
    bool needs_sni;
    ic_tls_verifier verifier; /* decide in the handshake, or NULL */
    void *verifier_data;
};

struct ic_tls_s {
    SSL *ssl;
    BIO *rbio, *wbio;      /* owned by ssl */
    bool is_ready;
    bool is_trusted;
    bool is_renewed;       /* BIOs replaced after the handshake */
    char peer_id[65];
    char error[160];
    char sni[256];
    ic_alpn_t alpn;
    bool sni_missing;      /* refused by tls_require_sni */
    bool refused_in_handshake; /* the verifier said no (error says why) */
    uint8_t *peer_der;     /* client certificate until the CONNECT decision */
    size_t peer_der_len;
};

/* ALPN protocols we answer, in preference order, wire format. */
static const unsigned char alpn_wire[] = {
    14, 'x', '-', 'a', 'm', 'z', 'n', '-', 'm', 'q', 't', 't', '-', 'c', 'a',
    14, 'x', '-', 'a', 'm', 'z', 'n', '-', 'h', 't', 't', 'p', '-', 'c', 'a',
    4,  'm', 'q', 't', 't',
    8,  'h', 't', 't', 'p', '/', '1', '.', '1'};

static ic_alpn_t alpn_kind(const unsigned char *p, size_t n) {
    if (n == 14 && memcmp(p, "x-amzn-mqtt-ca", 14) == 0)
        return IC_ALPN_MQTT_CA;
    if (n == 14 && memcmp(p, "x-amzn-http-ca", 14) == 0)
        return IC_ALPN_HTTP_CA;
    if (n == 4 && memcmp(p, "mqtt", 4) == 0)
        return IC_ALPN_MQTT_CUSTOM;
    return IC_ALPN_NONE;
}

void ic_tls_openssl_error(char *out, size_t cap, const char *what) {
    unsigned long e = ERR_get_error();
    char buf[200] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    snprintf(out, cap, "%s%s%s", what, buf[0] ? ": " : "", buf);
    ERR_clear_error();
}

/* Accept any certificate during the handshake: the verification result is
 * kept (SSL_get_verify_result) and judged after it - unless the context
 * has a verifier, which decides on the leaf here (a refusal is an alert). */
static int tolerant_verify(int ok, X509_STORE_CTX *store) {
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    ic_tls_ctx_t *c = ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
    ic_tls_t *t = ssl ? SSL_get_app_data(ssl) : NULL;
    X509 *leaf;
    unsigned char *der = NULL;
    int n;
    bool accept;
    if (c == NULL || c->verifier == NULL || t == NULL ||
        X509_STORE_CTX_get_error_depth(store) != 0)
        return 1;
    leaf = X509_STORE_CTX_get_current_cert(store);
    n = leaf ? i2d_X509(leaf, &der) : -1;
    accept = n > 0 && c->verifier(der, (size_t)n, ok == 1, t->error,
                                  sizeof(t->error), c->verifier_data);
    OPENSSL_free(der);
    if (!accept)
        t->refused_in_handshake = true;
    return accept ? 1 : 0;
}

ic_tls_ctx_t *ic_tls_ctx_new(ic_tls_mode_t mode, const char *cert,
                             const char *key, const char *ca, char *err,
                             size_t errlen) {
    ic_tls_ctx_t *c = ic_xcalloc(1, sizeof(*c));
    c->mode = mode;
    c->ctx = SSL_CTX_new(TLS_server_method());
    if (c->ctx == NULL) {
        ic_tls_openssl_error(err, errlen, "cannot create TLS context");
        goto fail;
    }
    /* AWS: TLS 1.2 and 1.3, no session tickets */
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(c->ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_num_tickets(c->ctx, 0);
    SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
    /* idle connections give their record buffers back */
    SSL_CTX_set_mode(c->ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(c->ctx, cert) != 1) {
        ic_tls_openssl_error(err, errlen, "tls_cert: cannot load certificate chain");
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(c->ctx) != 1) {
        ic_tls_openssl_error(err, errlen, "tls_key: cannot load a key matching tls_cert");
        goto fail;
    }
    if (mode == IC_TLS_MUTUAL) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
        if (SSL_CTX_load_verify_locations(c->ctx, ca, NULL) != 1 || names == NULL) {
            ic_tls_openssl_error(err, errlen, "tls_ca: cannot load CA certificates");
            goto fail;
        }
        SSL_CTX_set_client_CA_list(c->ctx, names);
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                           tolerant_verify);
    }
    return c;
fail:
    ic_tls_ctx_free(c);
    return NULL;
}

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
    unsigned char *sel = NULL;
    (void)ssl;
    (void)arg;
    /* "Select the negotiated ALPN value exactly as offered" (4.8 [REC]) */
    if (SSL_select_next_proto(&sel, outlen, alpn_wire, sizeof(alpn_wire), in,
                              inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK; /* go on without ALPN: HTTPS */
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* Does the ClientHello offer an ALPN protocol that needs a certificate? */
static bool offers_cert_alpn(SSL *ssl) {
    const unsigned char *ext;
    size_t len, pos = 2;
    if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation,
                                   &ext, &len) || len < 2)
        return false;
    while (pos < len) {
        size_t n = ext[pos++];
        ic_alpn_t k;
        if (pos + n > len)
            return false;
        k = alpn_kind(ext + pos, n);
        if (k == IC_ALPN_MQTT_CA || k == IC_ALPN_HTTP_CA)
            return true;
        if (k == IC_ALPN_MQTT_CUSTOM)
            return false; /* preferred over nothing: no certificate */
        pos += n;
    }
    return false;
}

static int on_client_hello(SSL *ssl, int *alert, void *arg) {
    ic_tls_ctx_t *c = arg;
    const unsigned char *ext;
    size_t len;
    if (c->needs_sni &&
        !SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len)) {
        ic_tls_t *t = SSL_get_app_data(ssl);
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        if (t)
            t->sni_missing = true;
        return SSL_CLIENT_HELLO_ERROR;
    }
    if (c->is_alpn && offers_cert_alpn(ssl))
        SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       tolerant_verify);
    return SSL_CLIENT_HELLO_SUCCESS;
}

void ic_tls_ctx_set_verifier(ic_tls_ctx_t *c, ic_tls_verifier fn, void *data) {
    c->verifier = fn;
    c->verifier_data = data;
    SSL_CTX_set_app_data(c->ctx, c);
}

void ic_tls_ctx_strict(ic_tls_ctx_t *c) {
    if (c->mode == IC_TLS_MUTUAL && !c->is_alpn)
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                           NULL);
}

void ic_tls_ctx_use_alpn(ic_tls_ctx_t *c) {
    c->is_alpn = true;
    /* nothing requested by default; the ClientHello decides */
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_alpn_select_cb(c->ctx, select_alpn, c);
    SSL_CTX_set_client_hello_cb(c->ctx, on_client_hello, c);
}

void ic_tls_ctx_require_sni(ic_tls_ctx_t *c, bool required) {
    c->needs_sni = required;
    SSL_CTX_set_client_hello_cb(c->ctx, on_client_hello, c);
}

void ic_tls_ctx_free(ic_tls_ctx_t *c) {
    if (c == NULL)
        return;
    SSL_CTX_free(c->ctx);
    free(c);
}

ic_tls_t *ic_tls_new(ic_tls_ctx_t *ctx) {
    ic_tls_t *t = ic_xcalloc(1, sizeof(*t));
    t->ssl = SSL_new(ctx->ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
        fprintf(stderr, "iotcored: out of memory creating a TLS session\n");
        abort();
    }
    BIO_set_mem_eof_return(t->rbio, -1);
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_app_data(t->ssl, t);
    SSL_set_accept_state(t->ssl);
    return t;
}

void ic_tls_free(ic_tls_t *t) {
    if (t == NULL)
        return;
    free(t->peer_der);
    SSL_free(t->ssl);
    free(t);
}

static void learn_peer(ic_tls_t *t) {
    X509 *peer = SSL_get1_peer_certificate(t->ssl);
    const char *sni = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);
    long vr = SSL_get_verify_result(t->ssl);
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    if (sni)
        ic_strlcpy(t->sni, sni, sizeof(t->sni));
    SSL_get0_alpn_selected(t->ssl, &alpn, &alpn_len);
    t->alpn = alpn ? alpn_kind(alpn, alpn_len) : IC_ALPN_NONE;
    if (peer != NULL) {
        unsigned char md[32];
        unsigned int len = 0, i;
        /* AWS 4.1: certificate ID = SHA-256 of the DER, lowercase hex */
        X509_digest(peer, EVP_sha256(), md, &len);
        for (i = 0; i < len && i < 32; i++)
            snprintf(t->peer_id + 2 * i, 3, "%02x", md[i]);
        {
            unsigned char *der = NULL;
            int n = i2d_X509(peer, &der);
            if (n > 0) {
                t->peer_der = ic_xmemdup(der, (size_t)n);
                t->peer_der_len = (size_t)n;
            }
            OPENSSL_free(der);
        }
        X509_free(peer); /* STYLE 3.8: freed right after extraction */
    }
    t->is_trusted = peer != NULL && vr == X509_V_OK;
    if (peer == NULL)
        ic_strlcpy(t->error, "no client certificate", sizeof(t->error));
    else if (vr != X509_V_OK)
        snprintf(t->error, sizeof(t->error), "certificate not trusted: %s",
                 X509_verify_cert_error_string(vr));
}

int ic_tls_read(ic_tls_t *t, const void *in, size_t n, ic_buf_t *plain) {
    int rc;
    if (n > 0 && BIO_write(t->rbio, in, (int)n) != (int)n) {
        ic_strlcpy(t->error, "TLS buffer write failed", sizeof(t->error));
        return IC_EPROTO;
    }
    if (!t->is_ready) {
        rc = SSL_do_handshake(t->ssl);
        if (rc != 1) {
            int e = SSL_get_error(t->ssl, rc);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return 0;
            if (t->refused_in_handshake) {
                ERR_clear_error(); /* t->error holds the verifier's reason */
            } else if (t->sni_missing) {
                ERR_clear_error();
                ic_strlcpy(t->error, "TLS handshake refused: no SNI host name "
                           "(tls_require_sni on)", sizeof(t->error));
            } else {
                ic_tls_openssl_error(t->error, sizeof(t->error), "TLS handshake failed");
            }
            return IC_EPROTO;
        }
        t->is_ready = true;
        learn_peer(t);
    }
    for (;;) {
        ic_buf_reserve(plain, 16384);
        rc = SSL_read(t->ssl, plain->data + plain->len, (int)(plain->cap - plain->len));
        if (rc > 0) {
            plain->len += (size_t)rc;
            continue;
        }
        rc = SSL_get_error(t->ssl, rc);
        if (rc == SSL_ERROR_WANT_READ || rc == SSL_ERROR_WANT_WRITE)
            return 0;
        if (rc == SSL_ERROR_ZERO_RETURN) {
            ic_strlcpy(t->error, "peer closed the TLS session", sizeof(t->error));
            return IC_ECLOSED;
        }
        ic_tls_openssl_error(t->error, sizeof(t->error), "TLS read failed");
        return IC_EPROTO;
    }
}

int ic_tls_write(ic_tls_t *t, const void *p, size_t n) {
    /* a memory BIO never blocks: the whole record goes in or it failed */
    if (n == 0)
        return 0;
    if (SSL_write(t->ssl, p, (int)n) != (int)n) {
        ic_tls_openssl_error(t->error, sizeof(t->error), "TLS write failed");
        return IC_EPROTO;
    }
    return 0;
}

/* Memory BIOs keep the buffer of their largest use: after the handshake
 * (certificate chains both ways) that is several KB per idle connection.
 * Once both are empty, swap in fresh ones. */
static void renew_bios(ic_tls_t *t) {
    BIO *r, *w;
    if (t->is_renewed || !t->is_ready || BIO_ctrl_pending(t->rbio) != 0 ||
        BIO_ctrl_pending(t->wbio) != 0)
        return;
    r = BIO_new(BIO_s_mem());
    w = BIO_new(BIO_s_mem());
    if (r == NULL || w == NULL) {
        BIO_free(r);
        BIO_free(w);
        return;
    }
    BIO_set_mem_eof_return(r, -1);
    SSL_set_bio(t->ssl, r, w); /* frees the old pair */
    t->rbio = r;
    t->wbio = w;
    t->is_renewed = true;
}

size_t ic_tls_take_output(ic_tls_t *t, ic_buf_t *out) {
    size_t pending = BIO_ctrl_pending(t->wbio);
    int n;
    if (pending == 0) {
        renew_bios(t);
        return 0;
    }
    ic_buf_reserve(out, pending);
    n = BIO_read(t->wbio, out->data + out->len, (int)pending);
    if (n <= 0)
        return 0;
    out->len += (size_t)n;
    renew_bios(t);
    return (size_t)n;
}

bool ic_tls_is_ready(const ic_tls_t *t) {
    return t->is_ready;
}

bool ic_tls_is_peer_trusted(const ic_tls_t *t) {
    return t->is_trusted;
}

const char *ic_tls_peer_id(const ic_tls_t *t) {
    return t->peer_id;
}

const char *ic_tls_error(const ic_tls_t *t) {
    return t->error;
}

const uint8_t *ic_tls_peer_der(const ic_tls_t *t, size_t *len) {
    *len = t->peer_der_len;
    return t->peer_der;
}

void ic_tls_drop_peer_der(ic_tls_t *t) {
    free(t->peer_der);
    t->peer_der = NULL;
    t->peer_der_len = 0;
}

ic_alpn_t ic_tls_alpn(const ic_tls_t *t) {
    return t->alpn;
}

const char *ic_tls_sni(const ic_tls_t *t) {
    return t->sni;
}
