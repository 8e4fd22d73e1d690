/* str.h - bounded string helpers (no strcpy/sprintf anywhere else). */
#ifndef IOTCORED_STR_H
#define IOTCORED_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copy src into dst (capacity cap, cap > 0), always NUL-terminated. Returns
 * strlen(src); a result >= cap means the copy was truncated. */
size_t ic_strlcpy(char *dst, const char *src, size_t cap);

/* snprintf into dst; returns 0, or IC_ETOOBIG when the text was truncated. */
int ic_strfmt(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write a reason into why (why may be NULL or len 0) and return rc: the
 * "fail with a why" of the registries. */
int ic_str_fail(char *why, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool ic_str_has_prefix(const char *s, const char *prefix);

/* Parse a whole decimal integer (optional sign); 0 or IC_EINVAL/IC_ERANGE. */
int ic_str_to_i64(const char *s, int64_t *out);

/* The value of hex digit c (0-9, a-f, A-F), or -1. */
int ic_hexval(int c);

/* A random (version 4) UUID, lowercase, into out[37]. */
void ic_str_uuid(char out[37]);

/* UTF-8 (RFC 3629), strict: no overlong forms, no surrogates, nothing
 * above U+10FFFF. ic_utf8_decode: length (1..4) of the sequence at
 * p[0..n) and its code point in *cp, or 0 when it is invalid or cut short.
 * ic_utf8_valid: the whole of p[0..n) is (U+0000 included; MQTT strings
 * also refuse it, see ic_codec_is_utf8). ic_utf8_encode: cp (a valid
 * scalar value) into out, returns its length. */
size_t ic_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp);
bool ic_utf8_valid(const uint8_t *p, size_t n);
size_t ic_utf8_encode(uint8_t out[4], uint32_t cp);

#endif
