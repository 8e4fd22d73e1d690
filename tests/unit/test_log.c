/* test_log.c - line format, levels and reopen. */
#include "iotcored/log.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    static char buf[8192];
    size_t n;
    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

START_TEST(format_and_level) {
    char path[] = "/tmp/ic_log_XXXXXX";
    int fd = mkstemp(path);
    char *text, *sp;
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(ic_log_open(path), 0);
    ic_log_set_level(IC_LOG_INFO);
    ic_log_debug("hidden", "k=%d", 1);
    ic_log_info("listener bound", "name=%s port=%d", "mqtt", 1883);
    ic_log_error("thing failed", "err=%s", "EIO");
    ic_log_close();
    text = slurp(path);
    ck_assert_ptr_null(strstr(text, "hidden"));
    /* "YYYY-MM-DDTHH:MM:SS.mmmZ level event k=v" */
    ck_assert_int_eq(text[4], '-');
    ck_assert_int_eq(text[10], 'T');
    ck_assert_int_eq(text[23], 'Z');
    sp = strchr(text, ' ');
    ck_assert_ptr_nonnull(sp);
    ck_assert(strncmp(sp, " info listener bound name=mqtt port=1883\n", 41) == 0);
    ck_assert_ptr_nonnull(strstr(text, " error thing failed err=EIO\n"));
    unlink(path);
}
END_TEST

START_TEST(long_line_truncated) {
    char path[] = "/tmp/ic_log_XXXXXX";
    int fd = mkstemp(path);
    char big[4000], *text;
    close(fd);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(ic_log_open(path), 0);
    ic_log_info("big", "v=%s", big);
    ic_log_close();
    text = slurp(path);
    ck_assert_int_le((int)strlen(text), 2048);
    ck_assert_ptr_nonnull(strstr(text, "...\n"));
    unlink(path);
}
END_TEST

START_TEST(open_failure_keeps_sink) {
    ck_assert_int_lt(ic_log_open("/nonexistent-dir/x.log"), 0);
    ck_assert(ic_log_is_enabled(IC_LOG_ERROR));
}
END_TEST

Suite *ic_log_suite(void) {
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, format_and_level);
    tcase_add_test(tc, long_line_truncated);
    tcase_add_test(tc, open_failure_keeps_sink);
    suite_add_tcase(s, tc);
    return s;
}
