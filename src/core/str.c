/* str.c - bounded string helpers.
 *
 * Pure functions over caller-owned buffers; nothing here allocates.
 */
#include "iotcored/str.h"

#include "iotcored/error.h"

#include <errno.h>
#include <stdarg.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t ic_strlcpy(char *dst, const char *src, size_t cap) {
    size_t len = strlen(src);
    size_t n = len < cap ? len : cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return len;
}

int ic_strfmt(char *dst, size_t cap, const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        return IC_ETOOBIG;
    return 0;
}

bool ic_str_has_prefix(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int ic_str_to_i64(const char *s, int64_t *out) {
    char *end;
    long long v;
    if (s == NULL || *s == '\0')
        return IC_EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end != '\0')
        return IC_EINVAL;
    if (errno == ERANGE)
        return IC_ERANGE;
    *out = (int64_t)v;
    return 0;
}

int ic_str_fail(char *why, size_t len, int rc, const char *fmt, ...) {
    va_list ap;
    if (why && len) {
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void ic_str_uuid(char out[37]) {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1)
        memset(b, 0, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* RFC 4122 version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
             b[11], b[12], b[13], b[14], b[15]);
}
