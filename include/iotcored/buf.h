/* buf.h - growable byte buffer with a read cursor.
 *
 *   data                rpos               len            cap
 *   |--- consumed ------|--- unread -------|--- spare ----|
 *
 * Writers append at len; readers advance rpos; ic_buf_compact moves the
 * unread bytes to the front. Big-endian and MQTT varint primitives live here
 * so every codec shares one implementation.
 */
#ifndef IOTCORED_BUF_H
#define IOTCORED_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ic_buf_s {
    uint8_t *data; /* owned; NULL while cap == 0 */
    size_t len;    /* bytes written */
    size_t cap;    /* bytes allocated */
    size_t rpos;   /* read cursor, rpos <= len */
} ic_buf_t;

void ic_buf_init(ic_buf_t *b);
void ic_buf_free(ic_buf_t *b);
/* Ensure room for `extra` more bytes after len. */
void ic_buf_reserve(ic_buf_t *b, size_t extra);
void ic_buf_append(ic_buf_t *b, const void *p, size_t n);
void ic_buf_append_str(ic_buf_t *b, const char *s);
void ic_buf_appendf(ic_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ic_buf_put_u8(ic_buf_t *b, uint8_t v);
void ic_buf_put_u16(ic_buf_t *b, uint16_t v);
void ic_buf_put_u32(ic_buf_t *b, uint32_t v);
/* MQTT variable byte integer, v <= 268435455. */
void ic_buf_put_varint(ic_buf_t *b, uint32_t v);
/* Length-prefixed (u16) byte string. */
void ic_buf_put_bin(ic_buf_t *b, const void *p, uint16_t n);
/* Drop everything before rpos. */
void ic_buf_compact(ic_buf_t *b);
/* Forget all content, keep the allocation. */
void ic_buf_reset(ic_buf_t *b);

static inline size_t ic_buf_unread(const ic_buf_t *b) { return b->len - b->rpos; }

/* Decode an MQTT variable byte integer from p[0..n). Returns bytes used (1-4),
 * IC_EAGAIN if more input is needed, IC_EMALFORMED for a 5th byte or a
 * non-minimal encoding [MQTT-1.5.5-1]. */
int ic_varint_decode(const uint8_t *p, size_t n, uint32_t *out);
/* Bytes needed to encode v as a variable byte integer (1-4). */
int ic_varint_size(uint32_t v);

/* Base64 (RFC 4648 alphabet, padded), the one codec the modules share.
 * ic_buf_append_b64: the encoding of p[0..n) appended to b (no NUL).
 * ic_b64_encode: the same as a malloc'd NUL-terminated string.
 * ic_buf_b64_decode: in[0..n), padded to a multiple of 4, decoded into out
 * (its contents replaced); false when it is not base64. */
void ic_buf_append_b64(ic_buf_t *b, const void *p, size_t n);
/* s[0..n) percent-decoded and appended to b, leniently: an invalid escape
 * stays as it is (for the strict form see ic_http_pct_decode). */
void ic_buf_append_pct_decoded(ic_buf_t *b, const char *s, size_t n);
char *ic_b64_encode(const void *p, size_t n);
bool ic_buf_b64_decode(ic_buf_t *out, const char *in, size_t n);

#endif
