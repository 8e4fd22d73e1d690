/* it_00_harness.c - the harness itself: start, ready file, stop, clean log. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(start_ready_stop) {
    ich_t h;
    char *ready;
    int port, fd;
    ich_start(&h, NULL);
    ready = ich_slurp(h.ready);
    port = ich_port(&h, "mqtt");
    ck_assert_int_gt(port, 0);
    {
        char want[64];
        snprintf(want, sizeof(want), "mqtt %d\n", port);
        ck_assert_str_eq(ready, want);
    }
    free(ready);
    /* no temp file left beside it */
    {
        char tmp[256];
        snprintf(tmp, sizeof(tmp), "%s.tmp", h.ready);
        ck_assert_int_ne(access(tmp, F_OK), 0);
    }
    fd = ich_connect(port);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert(ich_wait_log(&h, "iotcored ready version=", 1, 1000));
    ck_assert(ich_wait_log(&h, "store open path=", 1, 1000));
    ich_stop(&h);
}
END_TEST

START_TEST(several_listeners_all_in_ready_file) {
    ich_t h;
    ich_start(&h, "listener a\n bind 127.0.0.1\n port 0\n tls off\n"
                  "listener b\n bind 127.0.0.1\n port 0\n tls off\n"
                  "listener c\n bind ::1\n port 0\n tls off\n");
    ck_assert_int_eq(h.n_listeners, 3);
    ck_assert_int_gt(ich_port(&h, "a"), 0);
    ck_assert_int_gt(ich_port(&h, "b"), 0);
    ck_assert_int_ne(ich_port(&h, "a"), ich_port(&h, "b"));
    ck_assert_int_gt(ich_port(&h, "c"), 0);
    ich_stop(&h);
}
END_TEST

START_TEST(harness_catches_error_lines) {
    /* A daemon whose log holds an error line the test did not declare must
     * fail ich_stop: run a reload of a broken file, declare nothing, and
     * check the log scan would see it. */
    ich_t h;
    FILE *f;
    ich_start(&h, NULL);
    f = fopen(h.conf, "a");
    fputs("bogus_directive 1\n", f);
    fclose(f);
    kill(h.pid, SIGHUP);
    ck_assert(ich_wait_log(&h, " error config reload failed", 1, 5000));
    ich_expect_error(&h, "config reload failed");
    ich_stop(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("00_harness");
    TCase *tc = tcase_create("harness");
    tcase_add_test(tc, start_ready_stop);
    tcase_add_test(tc, several_listeners_all_in_ready_file);
    tcase_add_test(tc, harness_catches_error_lines);
    suite_add_tcase(s, tc);
    return s;
}
