/* test_error.c - every IC_E* code has a name and a text. */
#include "iotcored/error.h"
#include "suites.h"

#include <string.h>

START_TEST(project_codes_named) {
    int rc;
    for (rc = IC__EBASE - 1; rc >= IC__ELAST; rc--) {
        ck_assert_str_ne(ic_errname(rc), "EUNKNOWN");
        ck_assert_str_ne(ic_strerror(rc), "unknown error");
    }
}
END_TEST

START_TEST(errno_codes) {
    ck_assert_str_eq(ic_errname(-EADDRINUSE), "EADDRINUSE");
    ck_assert_str_eq(ic_errname(IC_EAGAIN), "EAGAIN");
    ck_assert_str_eq(ic_strerror(-ENOENT), strerror(ENOENT));
    ck_assert_str_eq(ic_errname(0), "OK");
    ck_assert_str_eq(ic_errname(-99999), "EUNKNOWN");
}
END_TEST

Suite *ic_error_suite(void) {
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, project_codes_named);
    tcase_add_test(tc, errno_codes);
    suite_add_tcase(s, tc);
    return s;
}
