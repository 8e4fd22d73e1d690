/* test_str.c - bounded string helpers: the shared strict UTF-8 decoder,
 * validator and encoder. */
#include "iotcored/str.h"
#include "suites.h"

#include <string.h>

START_TEST(utf8_decode_table) {
    static const struct {
        const char *in;
        size_t n;
        size_t want_len;   /* 0 = invalid */
        uint32_t want_cp;
    } rows[] = {
        {"A", 1, 1, 0x41},
        {"\xC2\xA9", 2, 2, 0xA9},
        {"\xE2\x82\xAC", 3, 3, 0x20AC},
        {"\xF0\x9F\x98\x80", 4, 4, 0x1F600},
        {"\xF4\x8F\xBF\xBF", 4, 4, 0x10FFFF},
        {"\xC0\xAF", 2, 0, 0},          /* overlong '/' */
        {"\xC1\xBF", 2, 0, 0},          /* overlong */
        {"\xE0\x80\xAF", 3, 0, 0},      /* overlong */
        {"\xF0\x80\x80\xAF", 4, 0, 0},  /* overlong */
        {"\xED\xA0\x80", 3, 0, 0},      /* surrogate U+D800 */
        {"\xF4\x90\x80\x80", 4, 0, 0},  /* U+110000 */
        {"\xF5\x80\x80\x80", 4, 0, 0},  /* lead byte F5 */
        {"\x80", 1, 0, 0},              /* lone continuation */
        {"\xE2\x82", 2, 0, 0},          /* cut short */
        {"\xE2\x28\xA1", 3, 0, 0},      /* bad continuation */
    };
    size_t i;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        uint32_t cp = 0xFFFFFFFF;
        size_t got = ic_utf8_decode((const uint8_t *)rows[i].in, rows[i].n, &cp);
        ck_assert_msg(got == rows[i].want_len, "row %zu: length %zu, want %zu", i, got,
                      rows[i].want_len);
        if (got)
            ck_assert_uint_eq(cp, rows[i].want_cp);
        ck_assert(ic_utf8_valid((const uint8_t *)rows[i].in, rows[i].n) == (got != 0));
    }
    ck_assert(ic_utf8_valid((const uint8_t *)"", 0));
    ck_assert(ic_utf8_valid((const uint8_t *)"a\0b", 3)); /* U+0000 is UTF-8 */
    ck_assert(!ic_utf8_valid((const uint8_t *)"ok\xC3", 3));
}
END_TEST

START_TEST(utf8_encode_round_trip) {
    static const uint32_t cps[] = {0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF};
    size_t i;
    for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
        uint8_t b[4];
        uint32_t back;
        size_t n = ic_utf8_encode(b, cps[i]);
        ck_assert_uint_eq(ic_utf8_decode(b, n, &back), n);
        ck_assert_uint_eq(back, cps[i]);
    }
}
END_TEST

START_TEST(hexval_digits) {
    ck_assert_int_eq(ic_hexval('0'), 0);
    ck_assert_int_eq(ic_hexval('9'), 9);
    ck_assert_int_eq(ic_hexval('a'), 10);
    ck_assert_int_eq(ic_hexval('F'), 15);
    ck_assert_int_eq(ic_hexval('g'), -1);
    ck_assert_int_eq(ic_hexval('/'), -1);
    ck_assert_int_eq(ic_hexval((char)0xC3), -1); /* a signed char byte */
}
END_TEST

Suite *ic_str_suite(void) {
    Suite *s = suite_create("str");
    TCase *tc = tcase_create("utf8");
    tcase_add_test(tc, utf8_decode_table);
    tcase_add_test(tc, utf8_encode_round_trip);
    tcase_add_test(tc, hexval_digits);
    suite_add_tcase(s, tc);
    return s;
}
