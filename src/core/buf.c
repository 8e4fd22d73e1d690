/* buf.c - growable byte buffer and wire primitives.
 *
 * Owns the buffer memory only. Growth doubles capacity; callers check
 * peer-controlled sizes before asking for room (STYLE 3.7). Base64 lives
 * here too: it is bytes in, bytes out of a buffer.
 */
#include "iotcored/buf.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/str.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ic_buf_init(ic_buf_t *b) {
    memset(b, 0, sizeof(*b));
}

void ic_buf_free(ic_buf_t *b) {
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void ic_buf_reserve(ic_buf_t *b, size_t extra) {
    size_t need = b->len + extra, cap;
    if (need <= b->cap)
        return;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = ic_xrealloc(b->data, cap);
    b->cap = cap;
}

void ic_buf_append(ic_buf_t *b, const void *p, size_t n) {
    if (n == 0)
        return;
    ic_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void ic_buf_append_str(ic_buf_t *b, const char *s) {
    ic_buf_append(b, s, strlen(s));
}

void ic_buf_appendf(ic_buf_t *b, const char *fmt, ...) {
    va_list ap;
    int n;
    ic_buf_reserve(b, 128);
    va_start(ap, fmt);
    n = vsnprintf((char *)b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= b->cap - b->len) {
        ic_buf_reserve(b, (size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf((char *)b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void ic_buf_put_u8(ic_buf_t *b, uint8_t v) {
    ic_buf_reserve(b, 1);
    b->data[b->len++] = v;
}

void ic_buf_put_u16(ic_buf_t *b, uint16_t v) {
    ic_buf_reserve(b, 2);
    b->data[b->len++] = (uint8_t)(v >> 8);
    b->data[b->len++] = (uint8_t)v;
}

void ic_buf_put_u32(ic_buf_t *b, uint32_t v) {
    ic_buf_reserve(b, 4);
    b->data[b->len++] = (uint8_t)(v >> 24);
    b->data[b->len++] = (uint8_t)(v >> 16);
    b->data[b->len++] = (uint8_t)(v >> 8);
    b->data[b->len++] = (uint8_t)v;
}

void ic_buf_put_varint(ic_buf_t *b, uint32_t v) {
    ic_buf_reserve(b, 4);
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        if (v)
            byte |= 0x80;
        b->data[b->len++] = byte;
    } while (v);
}

void ic_buf_put_bin(ic_buf_t *b, const void *p, uint16_t n) {
    ic_buf_put_u16(b, n);
    ic_buf_append(b, p, n);
}

void ic_buf_compact(ic_buf_t *b) {
    if (b->rpos == 0)
        return;
    memmove(b->data, b->data + b->rpos, b->len - b->rpos);
    b->len -= b->rpos;
    b->rpos = 0;
}

void ic_buf_reset(ic_buf_t *b) {
    b->len = b->rpos = 0;
}

int ic_varint_decode(const uint8_t *p, size_t n, uint32_t *out) {
    uint32_t v = 0;
    size_t i;
    for (i = 0; i < 4; i++) {
        if (i >= n)
            return IC_EAGAIN;
        v |= (uint32_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            /* [MQTT-1.5.5-1] minimal encoding: a trailing zero byte after a
             * continuation is an overlong form. */
            if (i > 0 && p[i] == 0)
                return IC_EMALFORMED;
            *out = v;
            return (int)i + 1;
        }
    }
    return IC_EMALFORMED;
}

int ic_varint_size(uint32_t v) {
    return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

#define B64_CHUNK 49152 /* input bytes per EVP call (a multiple of 3) */

void ic_buf_append_b64(ic_buf_t *b, const void *p, size_t n) {
    const unsigned char *in = p;
    while (n > 0) {
        size_t k = n < B64_CHUNK ? n : B64_CHUNK;
        ic_buf_reserve(b, 4 * ((k + 2) / 3) + 1); /* EVP writes a NUL */
        b->len += (size_t)EVP_EncodeBlock(b->data + b->len, in, (int)k);
        in += k;
        n -= k;
    }
}

char *ic_b64_encode(const void *p, size_t n) {
    ic_buf_t b;
    ic_buf_init(&b);
    ic_buf_append_b64(&b, p, n);
    ic_buf_put_u8(&b, 0);
    return (char *)b.data;
}

bool ic_buf_b64_decode(ic_buf_t *out, const char *in, size_t n) {
    int d;
    ic_buf_reset(out);
    if (n % 4 != 0 || n > INT_MAX)
        return false;
    ic_buf_reserve(out, n / 4 * 3 + 1);
    d = EVP_DecodeBlock(out->data, (const unsigned char *)in, (int)n);
    if (d < 0)
        return false;
    while (n > 0 && in[n - 1] == '=') { /* DecodeBlock counts padding */
        n--;
        d--;
    }
    out->len = (size_t)d;
    return true;
}

void ic_buf_append_pct_decoded(ic_buf_t *b, const char *s, size_t n) {
    size_t i;
    ic_buf_reserve(b, n);
    for (i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = ic_hexval(s[i + 1])) >= 0 &&
            (l = ic_hexval(s[i + 2])) >= 0) {
            ic_buf_put_u8(b, (uint8_t)(h * 16 + l));
            i += 2;
        } else {
            ic_buf_put_u8(b, (uint8_t)s[i]);
        }
    }
}
