/* it_15_restart_persistence.c - state in the store survives graceful
 * restarts and kill -9. */
#include "harness.h"

START_TEST(boot_counter_survives_restart_and_kill9) {
    ich_t h;
    ich_start(&h, NULL);
    /* writes are asynchronous: kill only once the counter is committed */
    ck_assert(ich_wait_log(&h, "store boot recorded boot=1", 1, 5000));
    ich_kill9(&h);
    /* same run directory, same database: it opens cleanly after the kill */
    ich_spawn(&h);
    ck_assert(ich_wait_log(&h, " boot=2 ", 1, 5000));
    ich_terminate(&h);
    ich_spawn(&h);
    ck_assert(ich_wait_log(&h, " boot=3 ", 1, 5000));
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("15_restart_persistence");
    TCase *tc = tcase_create("restart");
    tcase_add_test(tc, boot_counter_survives_restart_and_kill9);
    suite_add_tcase(s, tc);
    return s;
}
