/* test_sigv4.c - placeholder until the module lands. */
#include "suites.h"

Suite *ic_sigv4_suite(void) {
    return suite_create("sigv4");
}
