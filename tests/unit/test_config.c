/* test_config.c - parser, errors, dump round trip, reload swap, doc drift. */
#include "iotcored/config.h"
#include "iotcored/error.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[1024];

static int parse(ic_config_t *cfg, const char *text) {
    ic_config_init(cfg);
    err[0] = '\0';
    return ic_config_parse(cfg, text, "t.conf", err, sizeof(err));
}

static void expect_error(const char *text, const char *want) {
    ic_config_t cfg;
    ck_assert_int_eq(parse(&cfg, text), IC_ECONFIG);
    ck_assert_str_eq(err, want);
    ic_config_free(&cfg);
}

START_TEST(default_values) {
    ic_config_t cfg;
    ck_assert_int_eq(parse(&cfg, "listener a\ntls off\n"), 0);
    ck_assert_str_eq(cfg.data_dir, "/var/lib/iotcored");
    ck_assert_str_eq(cfg.account_id, "123456789012");
    ck_assert_str_eq(cfg.region, "us-east-1");
    ck_assert_int_eq(cfg.log_level, 1);
    ck_assert_int_eq(cfg.persistence_sync, IC_SYNC_NORMAL);
    ck_assert_int_eq((int)cfg.n_listeners, 1);
    ck_assert_str_eq(cfg.listeners[0].bind, "0.0.0.0");
    ck_assert_int_eq(cfg.listeners[0].port, 8883);
    ic_config_free(&cfg);
}
END_TEST

START_TEST(full_file) {
    ic_config_t cfg;
    const ic_listener_conf_t *l;
    ck_assert_int_eq(parse(&cfg, "# comment\n"
                                 "data_dir \"/tmp/with space\"   # trailing\n"
                                 "log_level debug\n"
                                 "\n"
                                 "persistence_sync full\n"
                                 "listener one\n"
                                 "  bind 127.0.0.1\n"
                                 "  port 0\n"
                                 "region eu-west-1\n"
                                 "  tls off\n"
                                 "listener two\n"
                                 "  port 1883\n"
                                 "  tls off\n"),
                     0);
    ck_assert_str_eq(cfg.data_dir, "/tmp/with space");
    ck_assert_int_eq(cfg.log_level, 0);
    ck_assert_int_eq(cfg.persistence_sync, IC_SYNC_FULL);
    ck_assert_str_eq(cfg.region, "eu-west-1");
    l = ic_config_listener(&cfg, "one");
    ck_assert_ptr_nonnull(l);
    ck_assert_str_eq(l->bind, "127.0.0.1");
    ck_assert_int_eq(l->port, 0);
    ck_assert_int_eq(l->port_loc.line, 8);
    l = ic_config_listener(&cfg, "two");
    ck_assert_int_eq(l->port, 1883);
    ck_assert_int_eq(l->loc.line, 11);
    ic_config_free(&cfg);
}
END_TEST

START_TEST(errors) {
    expect_error("listener a\nbogus 1\n", "t.conf:2: unknown directive 'bogus'");
    expect_error("log_level loud\nlistener a\n",
                 "t.conf:1: log_level: invalid value 'loud' (expected one of: "
                 "debug, info, notice, warning, error)");
    expect_error("listener a\nport 70000\n",
                 "t.conf:2: port: value '70000' out of range 0..65535");
    expect_error("listener a\nport 12x\n",
                 "t.conf:2: port: invalid value '12x' (expected an integer)");
    expect_error("port 1\n", "t.conf:1: port: only valid inside a listener block");
    expect_error("listener a\nlistener a\n", "t.conf:2: listener: duplicate name 'a'");
    expect_error("listener a\nregion\n",
                 "t.conf:2: region: expects exactly one value, got 0");
    expect_error("listener a\naccount_id 12\n",
                 "t.conf:2: account_id: invalid value '12': must be 12 digits");
    expect_error("listener a\ndata_dir \"/x\n",
                 "t.conf:2: unterminated quoted string");
    expect_error("log_level info\n", "t.conf: no listener block defined");
    expect_error("tls_cert /x.pem\nlistener a\n",
                 "t.conf: tls_cert and tls_key go together");
    expect_error("listener a\n  tls maybe\n",
                 "t.conf:2: tls: invalid value 'maybe' (expected one of: off, on, "
                 "mutual)");
    expect_error("keepalive_min 60\nkeepalive_max 30\nlistener a\ntls off\n",
                 "t.conf: keepalive_min (60) is above keepalive_max (30)");
    expect_error("listener a\ntls off\nqos2_subscribe maybe\n",
                 "t.conf:3: qos2_subscribe: invalid value 'maybe' (expected one "
                 "of: no-suback, grant-qos1, disconnect)");
    expect_error("listener a\ntls off\nmax_payload_size 12Q\n",
                 "t.conf:3: max_payload_size: invalid value '12Q' (expected a "
                 "size such as 128K)");
    expect_error("listener a\ninclude /nonexistent/x.conf\n",
                 "t.conf:2: include: '/nonexistent/x.conf': cannot open: No "
                 "such file or directory");
}
END_TEST

START_TEST(unreadable_file) {
    ic_config_t cfg;
    ic_config_init(&cfg);
    ck_assert_int_eq(ic_config_load(&cfg, "/nonexistent/iotcored.conf", err,
                                    sizeof(err)),
                     IC_ECONFIG);
    ck_assert_str_eq(err, "/nonexistent/iotcored.conf: cannot open: No such "
                          "file or directory");
    ic_config_free(&cfg);
}
END_TEST

START_TEST(include_relative) {
    char dir[] = "/tmp/ic_cfg_XXXXXX";
    char main_path[256], inc_path[256];
    FILE *f;
    ic_config_t cfg;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(main_path, sizeof(main_path), "%s/main.conf", dir);
    snprintf(inc_path, sizeof(inc_path), "%s/extra.conf", dir);
    f = fopen(inc_path, "w");
    fputs("region ap-south-1\nbogus\n", f);
    fclose(f);
    f = fopen(main_path, "w");
    fputs("listener a\ninclude extra.conf\n", f);
    fclose(f);
    ic_config_init(&cfg);
    ck_assert_int_eq(ic_config_load(&cfg, main_path, err, sizeof(err)),
                     IC_ECONFIG);
    /* the error names the included file and its line */
    ck_assert_ptr_nonnull(strstr(err, "/extra.conf:2: unknown directive 'bogus'"));
    ck_assert_str_eq(cfg.region, "ap-south-1");
    ic_config_free(&cfg);
    unlink(inc_path);
    unlink(main_path);
    rmdir(dir);
}
END_TEST

START_TEST(dump_round_trips) {
    ic_config_t a, b;
    ic_buf_t d1, d2;
    ck_assert_int_eq(parse(&a, "data_dir \"a b\\\\c\"\nlog_file \"\"\n"
                               "listener x\nport 0\nbind ::1\ntls off\n"),
                     0);
    ic_buf_init(&d1);
    ic_buf_init(&d2);
    ic_config_dump(&a, &d1);
    ic_buf_put_u8(&d1, 0);
    ck_assert_int_eq(parse(&b, (const char *)d1.data), 0);
    ck_assert_str_eq(b.data_dir, "a b\\c");
    ic_config_dump(&b, &d2);
    ic_buf_put_u8(&d2, 0);
    /* first line names the source; compare the rest */
    ck_assert_str_eq(strchr((char *)d1.data, '\n'), strchr((char *)d2.data, '\n'));
    ic_buf_free(&d1);
    ic_buf_free(&d2);
    ic_config_free(&a);
    ic_config_free(&b);
}
END_TEST

START_TEST(swap_reloadable_only) {
    ic_config_t run, next;
    ck_assert_int_eq(parse(&run, "log_level info\ndata_dir /a\nlistener x\ntls off\n"), 0);
    ck_assert_int_eq(parse(&next, "log_level debug\nlog_file /tmp/l\n"
                                  "data_dir /b\nlistener x\ntls off\n"),
                     0);
    ck_assert(!ic_config_same(ic_config_find("log_level"), &run, &next));
    ck_assert(ic_config_listeners_same(&run, &next));
    ic_config_swap_reloadable(&run, &next);
    ck_assert_int_eq(run.log_level, 0);
    ck_assert_str_eq(run.log_file, "/tmp/l");
    ck_assert_str_eq(run.data_dir, "/a"); /* not reloadable */
    ck_assert_int_eq(next.log_level, 1);
    ic_config_free(&run);
    ic_config_free(&next);
}
END_TEST

static char *slurp(const char *rel) {
    char path[1024];
    FILE *f;
    char *buf = malloc(1 << 20);
    size_t n;
    snprintf(path, sizeof(path), "%s/%s", IC_SRCDIR, rel);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* conf/iotcored.conf shows each directive, commented, with its default. */
static bool conf_has(const char *conf, const char *name, const char *value) {
    const char *p = conf;
    char want[512];
    snprintf(want, sizeof(want), "%s%s%s", name, value ? " " : "",
             value ? value : "");
    while (p && *p) {
        const char *q = p;
        while (*q == ' ' || *q == '\t' || *q == '#')
            q++;
        if (strncmp(q, want, strlen(want)) == 0 &&
            (q[strlen(want)] == '\n' || q[strlen(want)] == ' '))
            return true;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return false;
}

START_TEST(doc_drift) {
    size_t n, i;
    const ic_directive_t *d = ic_config_directives(&n);
    char *man = slurp("man/iotcored.conf.5");
    char *conf = slurp("conf/iotcored.conf");
    ic_config_t defaults;
    ic_listener_conf_t ldef;
    ck_assert_int_eq(parse(&defaults, "listener x\n"), 0);
    ldef = defaults.listeners[0];
    for (i = 0; i < n; i++) {
        char want[256];
        ic_buf_t v;
        snprintf(want, sizeof(want), ".It Ic %s", d[i].name);
        ck_assert_msg(strstr(man, want) != NULL,
                      "directive %s missing from man/iotcored.conf.5", d[i].name);
        ic_buf_init(&v);
        /* repeatable pairs have no default value to show: presence only */
        if (d[i].type != IC_CFG_INCLUDE && d[i].type != IC_CFG_BLOCK &&
            d[i].type != IC_CFG_PAIRS) {
            ic_config_format(&d[i],
                             d[i].scope == IC_CFG_GLOBAL ? (void *)&defaults
                                                         : (void *)&ldef,
                             &v);
            ic_buf_put_u8(&v, 0);
        }
        ck_assert_msg(conf_has(conf, d[i].name, v.data ? (char *)v.data : NULL),
                      "directive %s (default %s) missing from conf/iotcored.conf",
                      d[i].name, v.data ? (char *)v.data : "-");
        ic_buf_free(&v);
    }
    ic_config_free(&defaults);
    free(man);
    free(conf);
}
END_TEST

START_TEST(shipped_configs_parse) {
    static const char *const files[] = {"conf/iotcored.conf",
                                        "conf/iotcored.dev.conf",
                                        "docker/iotcored.conf"};
    size_t i;
    for (i = 0; i < 3; i++) {
        char path[1024];
        ic_config_t cfg;
        snprintf(path, sizeof(path), "%s/%s", IC_SRCDIR, files[i]);
        ic_config_init(&cfg);
        ck_assert_msg(ic_config_load(&cfg, path, err, sizeof(err)) == 0, "%s", err);
        ic_config_free(&cfg);
    }
}
END_TEST

Suite *ic_config_suite(void) {
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, default_values);
    tcase_add_test(tc, full_file);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, unreadable_file);
    tcase_add_test(tc, include_relative);
    tcase_add_test(tc, dump_round_trips);
    tcase_add_test(tc, swap_reloadable_only);
    suite_add_tcase(s, tc);
    tc = tcase_create("docs");
    tcase_add_test(tc, doc_drift);
    tcase_add_test(tc, shipped_configs_parse);
    suite_add_tcase(s, tc);
    return s;
}
