/* test_buf.c - byte buffer and varint primitives. */
#include "iotcored/buf.h"
#include "iotcored/error.h"
#include "suites.h"

#include <stdlib.h>
#include <string.h>

START_TEST(varint_round_trip) {
    static const uint32_t values[] = {0,       1,        127,      128,
                                      16383,   16384,    2097151,  2097152,
                                      268435455};
    size_t i;
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        ic_buf_t b;
        uint32_t out = 0;
        ic_buf_init(&b);
        ic_buf_put_varint(&b, values[i]);
        ck_assert_int_eq((int)b.len, ic_varint_size(values[i]));
        ck_assert_int_eq(ic_varint_decode(b.data, b.len, &out), (int)b.len);
        ck_assert_uint_eq(out, values[i]);
        /* every truncation point asks for more */
        for (size_t cut = 0; cut < b.len; cut++)
            ck_assert_int_eq(ic_varint_decode(b.data, cut, &out), IC_EAGAIN);
        ic_buf_free(&b);
    }
}
END_TEST

START_TEST(varint_malformed) {
    static const uint8_t five[] = {0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t overlong[] = {0x80, 0x00};
    uint32_t out;
    ck_assert_int_eq(ic_varint_decode(five, sizeof(five), &out), IC_EMALFORMED);
    ck_assert_int_eq(ic_varint_decode(overlong, sizeof(overlong), &out),
                     IC_EMALFORMED);
}
END_TEST

/* RFC 4648 section 10 test vectors, both ways; bad input refused. */
START_TEST(base64_vectors) {
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                      "Zm9vYmFy"};
    size_t i;
    for (i = 0; i < 7; i++) {
        ic_buf_t b;
        char *s = ic_b64_encode(plain[i], strlen(plain[i]));
        ck_assert_str_eq(s, enc[i]);
        free(s);
        ic_buf_init(&b);
        ic_buf_append_str(&b, "x");
        ic_buf_append_b64(&b, plain[i], strlen(plain[i]));
        ck_assert_int_eq((int)b.len, 1 + (int)strlen(enc[i]));
        ck_assert(memcmp(b.data + 1, enc[i], strlen(enc[i])) == 0);
        ck_assert(ic_buf_b64_decode(&b, enc[i], strlen(enc[i])));
        ck_assert_int_eq((int)b.len, (int)strlen(plain[i]));
        ck_assert(b.len == 0 || memcmp(b.data, plain[i], b.len) == 0);
        ic_buf_free(&b);
    }
    {
        ic_buf_t b;
        ic_buf_init(&b);
        ck_assert(!ic_buf_b64_decode(&b, "Zm9", 3));   /* not padded */
        ck_assert(!ic_buf_b64_decode(&b, "Zm9*", 4));  /* not the alphabet */
        ic_buf_free(&b);
    }
}
END_TEST

/* Lenient percent-decoding: good escapes decoded, bad ones kept. */
START_TEST(pct_decoded_lenient) {
    static const char *const in[] = {"a%20b", "%41%4a%4A", "100%", "%G1x", "%2", "a+b"};
    static const char *const out[] = {"a b", "AJJ", "100%", "%G1x", "%2", "a+b"};
    size_t i;
    for (i = 0; i < 6; i++) {
        ic_buf_t b;
        ic_buf_init(&b);
        ic_buf_append_pct_decoded(&b, in[i], strlen(in[i]));
        ck_assert_int_eq((int)b.len, (int)strlen(out[i]));
        ck_assert(memcmp(b.data, out[i], b.len) == 0);
        ic_buf_free(&b);
    }
}
END_TEST

START_TEST(big_endian_and_strings) {
    ic_buf_t b;
    static const uint8_t want[] = {0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
                                   0x00, 0x02, 'h',  'i'};
    ic_buf_init(&b);
    ic_buf_put_u16(&b, 0x1234);
    ic_buf_put_u32(&b, 0xdeadbeef);
    ic_buf_put_bin(&b, "hi", 2);
    ck_assert_int_eq((int)b.len, (int)sizeof(want));
    ck_assert_mem_eq(b.data, want, sizeof(want));
    b.rpos = 6;
    ic_buf_compact(&b);
    ck_assert_int_eq((int)b.len, 4);
    ck_assert_mem_eq(b.data, want + 6, 4);
    ic_buf_free(&b);
}
END_TEST

START_TEST(appendf_grows) {
    ic_buf_t b;
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ic_buf_init(&b);
    ic_buf_appendf(&b, "%s-%d", big, 42);
    ck_assert_int_eq((int)b.len, 999 + 3);
    ck_assert_mem_eq(b.data + 999, "-42", 3);
    ic_buf_free(&b);
}
END_TEST

Suite *ic_buf_suite(void) {
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, varint_round_trip);
    tcase_add_test(tc, varint_malformed);
    tcase_add_test(tc, big_endian_and_strings);
    tcase_add_test(tc, base64_vectors);
    tcase_add_test(tc, pct_decoded_lenient);
    tcase_add_test(tc, appendf_grows);
    suite_add_tcase(s, tc);
    return s;
}
