/* main.c - runs the one suite an integration binary is built with. Each
 * it_*.c file exports ic_it_suite(); one binary per file so `make -j` can
 * run suites side by side (every port is ephemeral). */
#include <check.h>
#include <stdlib.h>

Suite *ic_it_suite(void);

int main(void) {
    SRunner *sr = srunner_create(ic_it_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
