/* tls.h - TLS for client connections: one context per listener, one
 * session per connection, pumped through memory BIOs so libuv owns the
 * socket and OpenSSL never blocks or touches a file descriptor.
 *
 * Client certificates (mode mutual) are verified against the configured
 * CA, but the handshake completes for any well-formed certificate: who may
 * connect is decided after the handshake (aws-iot-auth.md 4.6 [REC]), from
 * the verification result and the certificate ID kept here.
 */
#ifndef IOTCORED_TLS_H
#define IOTCORED_TLS_H

#include "iotcored/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ic_tls_ctx_s ic_tls_ctx_t;
typedef struct ic_tls_s ic_tls_t;

typedef enum { IC_TLS_OFF = 0, IC_TLS_ON = 1, IC_TLS_MUTUAL = 2 } ic_tls_mode_t;

/* What a connection speaks, chosen by ALPN on `protocol alpn` listeners
 * (aws-iot-auth.md 4.8); always IC_ALPN_MQTT_CA on `protocol mqtt`. */
typedef enum {
    IC_ALPN_NONE = 0,     /* no ALPN, or http/1.1: HTTPS / WebSocket */
    IC_ALPN_MQTT_CA,      /* x-amzn-mqtt-ca: MQTT, client certificate */
    IC_ALPN_HTTP_CA,      /* x-amzn-http-ca: HTTPS, client certificate */
    IC_ALPN_MQTT_CUSTOM,  /* mqtt: MQTT with a custom authorizer */
} ic_alpn_t;

/* Load the server chain and key (PEM) and, for mutual, the CA that signs
 * client certificates. Returns NULL with a one-line reason in err. */
ic_tls_ctx_t *ic_tls_ctx_new(ic_tls_mode_t mode, const char *cert,
                             const char *key, const char *ca, char *err,
                             size_t errlen);
/* Make ctx dispatch by ALPN: the client certificate is requested only for
 * x-amzn-mqtt-ca and x-amzn-http-ca (so browsers on http/1.1 are never
 * prompted). */
void ic_tls_ctx_use_alpn(ic_tls_ctx_t *ctx);
/* Decide on the client certificate during the handshake (cert_refusal
 * handshake): fn returns true to accept; a refusal fails the handshake
 * with a TLS alert and why becomes the session's error. fn NULL: accept
 * everything and decide later (the default, aws-iot-auth.md 4.6 [REC]). */
typedef bool (*ic_tls_verifier)(const uint8_t *der, size_t len, bool chain_ok,
                                char *why, size_t whylen, void *data);
void ic_tls_ctx_set_verifier(ic_tls_ctx_t *ctx, ic_tls_verifier fn, void *data);
/* cert_auth ca with cert_refusal handshake: ordinary chain verification,
 * a certificate that does not chain to the CA fails the handshake. */
void ic_tls_ctx_strict(ic_tls_ctx_t *ctx);
/* Refuse handshakes without SNI (AWS's older rule; off by default). */
void ic_tls_ctx_require_sni(ic_tls_ctx_t *ctx, bool required);
void ic_tls_ctx_free(ic_tls_ctx_t *ctx);

ic_tls_t *ic_tls_new(ic_tls_ctx_t *ctx);
void ic_tls_free(ic_tls_t *t);

/* Feed ciphertext from the peer; decrypted bytes are appended to plain.
 * Returns 0, or IC_EPROTO when the TLS session failed (reason in
 * ic_tls_error). Output the peer must receive (handshake, alerts) waits
 * in the session: collect it with ic_tls_take_output. */
int ic_tls_read(ic_tls_t *t, const void *in, size_t n, ic_buf_t *plain);
/* Encrypt plaintext for the peer (only once ic_tls_is_ready). */
int ic_tls_write(ic_tls_t *t, const void *p, size_t n);
/* Move pending ciphertext for the peer to out; returns bytes moved. */
size_t ic_tls_take_output(ic_tls_t *t, ic_buf_t *out);

bool ic_tls_is_ready(const ic_tls_t *t);
/* After the handshake: whether the client certificate chains to the CA. */
bool ic_tls_is_peer_trusted(const ic_tls_t *t);
/* Lowercase hex SHA-256 of the client certificate's DER ("" if none). */
const char *ic_tls_peer_id(const ic_tls_t *t);
/* DER of the client certificate (NULL if none), kept until dropped. */
const uint8_t *ic_tls_peer_der(const ic_tls_t *t, size_t *len);
void ic_tls_drop_peer_der(ic_tls_t *t);
/* Why the peer is not trusted, or why the session failed. */
const char *ic_tls_error(const ic_tls_t *t);
/* The protocol ALPN selected (after the handshake). */
ic_alpn_t ic_tls_alpn(const ic_tls_t *t);
/* "what: <first queued OpenSSL error>" into out; clears the queue. */
void ic_tls_openssl_error(char *out, size_t cap, const char *what);
/* SNI host name sent by the client ("" if none). */
const char *ic_tls_sni(const ic_tls_t *t);

#endif
