/* it_13_config.c - the daemon's command line and config handling: -t,
 * --dump-config, --version, bad files, port in use, SIGHUP reload, and the
 * systemd notify protocol. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char *bin(void) {
    const char *p = getenv("IOTCORED_BIN");
    return p && *p ? p : IC_BUILDDIR "/iotcored";
}

static int run_daemon(const char *a1, const char *a2, const char *a3, char **out) {
    const char *argv[] = {bin(), a1, a2, a3, NULL};
    return ich_run(argv, NULL, 10000, out);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_mode_accepts_valid) {
    ich_t h;
    char *out;
    ich_init(&h);
    ich_write_conf(&h, NULL);
    ck_assert_int_eq(run_daemon("-t", "-c", h.conf, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, ": configuration ok"));
    free(out);
    /* -t binds nothing and creates no data directory */
    {
        char data[256];
        snprintf(data, sizeof(data), "%s/data", h.dir);
        ck_assert_int_ne(access(data, F_OK), 0);
    }
    ich_cleanup(&h);
}
END_TEST

START_TEST(bad_configs_rejected) {
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"listener a\nfrobnicate 1\n", ":2: unknown directive 'frobnicate'\n"},
        {"log_level loud\nlistener a\n",
         ":1: log_level: invalid value 'loud' (expected one of: debug, info, "
         "notice, warning, error)\n"},
        {"listener a\n  port -1\n", ":2: port: value '-1' out of range 0..65535\n"},
        {"listener a\n  port 1883\n  persistence_sync maybe\n",
         ":3: persistence_sync: invalid value 'maybe' (expected one of: "
         "normal, full)\n"},
        {"data_dir /tmp\n", ": no listener block defined\n"},
    };
    ich_t h;
    size_t i;
    ich_init(&h);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out, want[512];
        write_file(h.conf, cases[i].text);
        ck_assert_int_eq(run_daemon("-t", "-c", h.conf, &out), 78);
        snprintf(want, sizeof(want), "iotcored: %s%s", h.conf, cases[i].want);
        ck_assert_str_eq(out, want);
        free(out);
        /* the same error when starting for real, and nothing started */
        ck_assert_int_eq(run_daemon("-c", h.conf, NULL, &out), 78);
        ck_assert_str_eq(out, want);
        free(out);
    }
    ich_cleanup(&h);
}
END_TEST

START_TEST(unreadable_config) {
    ich_t h;
    char *out, want[512];
    ich_init(&h);
    /* a directory cannot be read as a file, even by root */
    ck_assert_int_eq(run_daemon("-c", h.dir, NULL, &out), 78);
    snprintf(want, sizeof(want), "iotcored: %s: cannot read: Is a directory\n", h.dir);
    ck_assert_str_eq(out, want);
    free(out);
    ck_assert_int_eq(run_daemon("-c", "/nonexistent/iotcored.conf", NULL, &out), 78);
    ck_assert_str_eq(out, "iotcored: /nonexistent/iotcored.conf: cannot open: No "
                          "such file or directory\n");
    free(out);
    ich_cleanup(&h);
}
END_TEST

START_TEST(port_in_use) {
    ich_t a, b;
    char body[256], *out, want[512];
    ich_start(&a, NULL);
    ich_init(&b);
    snprintf(body, sizeof(body),
             "listener first\n  bind 127.0.0.1\n  port 0\n  tls off\n"
             "listener taken\n  bind 127.0.0.1\n  port %d\n  tls off\n",
             ich_port(&a, "mqtt"));
    ich_write_conf(&b, body);
    ck_assert_int_eq(run_daemon("-c", b.conf, NULL, &out), 71);
    snprintf(want, sizeof(want),
             "%s:12: port: listener taken cannot listen on 127.0.0.1 port %d: "
             "address already in use",
             b.conf, ich_port(&a, "mqtt"));
    ck_assert_msg(strstr(out, want) != NULL, "got: %s", out);
    free(out);
    /* nothing half-started: no ready file, the log says why, first unbound */
    ck_assert_int_ne(access(b.ready, F_OK), 0);
    ck_assert_int_eq(ich_count_log(&b, "iotcored start failed"), 1);
    ck_assert_int_eq(ich_count_log(&b, "iotcored ready"), 0);
    ich_cleanup(&b);
    ich_stop(&a);
}
END_TEST

START_TEST(dump_config_and_version) {
    ich_t h;
    char *out;
    ich_init(&h);
    ich_write_conf(&h, "region eu-central-1\nlistener x\n  port 0\n  tls off\n");
    ck_assert_int_eq(run_daemon("--dump-config", "-c", h.conf, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "\nregion eu-central-1\n"));
    ck_assert_ptr_nonnull(strstr(out, "\naccount_id 123456789012\n"));
    ck_assert_ptr_nonnull(strstr(out, "\npersistence_sync normal\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nlistener x\n  bind 0.0.0.0\n  port 0\n  protocol mqtt\n  tls off\n"));
    free(out);
    ck_assert_int_eq(run_daemon("--version", NULL, NULL, &out), 0);
    ck_assert(strncmp(out, "iotcored ", 9) == 0);
    free(out);
    ck_assert_int_eq(run_daemon("--bogus", NULL, NULL, &out), 64);
    free(out);
    ich_cleanup(&h);
}
END_TEST

/* Connect and send a packet that is not CONNECT: the broker logs a
 * "protocol error" line at info level and closes. Returns once the broker
 * has closed (it has handled the packet: a later reload cannot overtake
 * it). */
static void probe(const ich_t *h) {
    int fd = ich_connect(ich_port(h, "mqtt"));
    static const unsigned char connack[] = {0x20, 0x02, 0x00, 0x00};
    struct timeval tv = {10, 0};
    char buf[64];
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, connack, sizeof(connack)), (int)sizeof(connack));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
}

START_TEST(sighup_reloads_log_level) {
    ich_t h;
    int fd, refused;
    ich_start(&h, NULL);
    /* at info, a protocol error is logged */
    probe(&h);
    ck_assert(ich_wait_log(&h, "protocol error", 1, 5000));
    /* raise the level and change a non-reloadable directive */
    {
        FILE *f = fopen(h.conf, "a");
        fputs("log_level warning\nregion eu-west-1\n", f);
        fclose(f);
    }
    kill(h.pid, SIGHUP);
    ck_assert(ich_wait_log(&h, "warning config reload ignored directive=region "
                               "reason=restart-required",
                           1, 5000));
    /* at warning, a protocol error is no longer logged */
    refused = ich_count_log(&h, "protocol error");
    probe(&h);
    /* back to info, and the next refused connection shows again */
    {
        FILE *f = fopen(h.conf, "a");
        fputs("log_level info\n", f);
        fclose(f);
    }
    kill(h.pid, SIGHUP);
    ck_assert(ich_wait_log(&h, "info config reloaded", 1, 5000));
    ck_assert_int_eq(ich_count_log(&h, "protocol error"), refused);
    probe(&h);
    ck_assert(ich_wait_log(&h, "protocol error", refused + 1, 5000));
    /* still serving after a reload of a broken file */
    {
        FILE *f = fopen(h.conf, "a");
        fputs("port\n", f);
        fclose(f);
    }
    kill(h.pid, SIGHUP);
    ck_assert(ich_wait_log(&h, "error config reload failed", 1, 5000));
    ich_expect_error(&h, "config reload failed");
    fd = ich_connect(ich_port(&h, "mqtt"));
    ck_assert_int_ge(fd, 0);
    close(fd);
    ich_stop(&h);
}
END_TEST

START_TEST(sighup_reopens_log_file) {
    ich_t h;
    char moved[256];
    ich_start(&h, NULL);
    snprintf(moved, sizeof(moved), "%s.1", h.log);
    ck_assert_int_eq(rename(h.log, moved), 0);
    kill(h.pid, SIGHUP);
    ck_assert(ich_wait_log(&h, "config reloaded", 1, 5000));
    ich_stop(&h);
}
END_TEST

START_TEST(notify_socket) {
    ich_t h;
    struct sockaddr_un sa;
    char env[256], msg[128];
    int fd;
    ssize_t n;
    struct timeval tv = {10, 0};
    ich_init(&h);
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s/notify", h.dir);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", sa.sun_path);
    h.env[0] = env;
    ich_write_conf(&h, NULL);
    ich_spawn(&h);
    n = recv(fd, msg, sizeof(msg) - 1, 0);
    ck_assert_int_gt(n, 0);
    msg[n] = '\0';
    ck_assert_str_eq(msg, "READY=1");
    kill(h.pid, SIGHUP);
    n = recv(fd, msg, sizeof(msg) - 1, 0);
    msg[n > 0 ? n : 0] = '\0';
    ck_assert_str_eq(msg, "RELOADING=1");
    n = recv(fd, msg, sizeof(msg) - 1, 0);
    msg[n > 0 ? n : 0] = '\0';
    ck_assert_str_eq(msg, "READY=1");
    ich_stop(&h);
    n = recv(fd, msg, sizeof(msg) - 1, 0);
    msg[n > 0 ? n : 0] = '\0';
    ck_assert_str_eq(msg, "STOPPING=1");
    close(fd);
}
END_TEST

START_TEST(unwritable_data_dir) {
    ich_t h;
    char *out;
    ich_init(&h);
    /* data_dir below a regular file cannot be created */
    write_file(h.log, "");
    {
        FILE *f = fopen(h.conf, "w");
        fprintf(f, "data_dir %s/iotcored.log/sub\n%s", h.dir, ICH_MQTT_LISTENER);
        fclose(f);
    }
    ck_assert_int_eq(run_daemon("-c", h.conf, NULL, &out), 71);
    ck_assert_ptr_nonnull(strstr(out, "iotcored: data_dir: cannot create"));
    ck_assert_ptr_nonnull(strstr(out, "Not a directory"));
    free(out);
    ich_cleanup(&h);
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("13_config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, test_mode_accepts_valid);
    tcase_add_test(tc, bad_configs_rejected);
    tcase_add_test(tc, unreadable_config);
    tcase_add_test(tc, port_in_use);
    tcase_add_test(tc, dump_config_and_version);
    tcase_add_test(tc, sighup_reloads_log_level);
    tcase_add_test(tc, sighup_reopens_log_file);
    tcase_add_test(tc, notify_socket);
    tcase_add_test(tc, unwritable_data_dir);
    suite_add_tcase(s, tc);
    return s;
}
