/* it_26_systemd.c - running under systemd: `make install DESTDIR=...`
 * (and PREFIX=...) lays out binaries, man pages, the config and the unit;
 * the unit passes `systemd-analyze verify`; with stderr being the journal
 * ($JOURNAL_STREAM) log lines carry sd-daemon priorities instead of
 * timestamps. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *sh(const char *cmd, int want) {
    const char *argv[] = {"sh", "-c", cmd, NULL};
    char *out = NULL;
    int rc = ich_run(argv, NULL, 120000, &out);
    ck_assert_msg(rc == want, "`%s` exited %d (want %d):\n%s", cmd, rc, want, out);
    return out;
}

START_TEST(install_and_verify) {
    char dir[] = "/tmp/iotcored-install-XXXXXX", cmd[2048], *out;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    /* DESTDIR staging, as a package build does */
    snprintf(cmd, sizeof(cmd),
             "cd %s && make -s install PREFIX=/usr DESTDIR=%s/stage >/dev/null && "
             "cd %s/stage && find . -type f | sort",
             IC_SRCDIR, dir, dir);
    out = sh(cmd, 0);
    ck_assert_msg(strstr(out, "./etc/iotcored/iotcored.conf\n") &&
                      strstr(out, "./lib/systemd/system/iotcored.service\n") &&
                      strstr(out, "./usr/bin/iotcored\n") &&
                      strstr(out, "./usr/bin/iotctl\n") &&
                      strstr(out, "./usr/lib/sysusers.d/iotcored.conf\n") &&
                      strstr(out, "./usr/share/man/man5/iotcored.conf.5\n") &&
                      strstr(out, "./usr/share/man/man8/iotcored.8\n"),
                  "%s", out);
    free(out);
    snprintf(cmd, sizeof(cmd), "cat %s/stage/lib/systemd/system/iotcored.service", dir);
    out = sh(cmd, 0);
    ck_assert_msg(strstr(out, "\nType=notify\n") &&
                      strstr(out, "\nExecStart=/usr/bin/iotcored -c "
                                  "/etc/iotcored/iotcored.conf\n") &&
                      strstr(out, "\nExecReload=/bin/kill -HUP $MAINPID\n") &&
                      strstr(out, "\nUser=iotcored\n") &&
                      strstr(out, "\nStateDirectory=iotcored\n") &&
                      strstr(out, "\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n") &&
                      strstr(out, "\nNoNewPrivileges=yes\n") &&
                      strstr(out, "\nProtectSystem=strict\n"),
                  "%s", out);
    free(out);
    /* the unit verifies where its binary really is (PREFIX install) */
    snprintf(cmd, sizeof(cmd),
             "cd %s && make -s install PREFIX=%s/prefix >/dev/null && "
             "systemd-analyze --man=no verify %s/prefix/lib/systemd/system/"
             "iotcored.service 2>&1",
             IC_SRCDIR, dir, dir);
    out = sh(cmd, 0);
    ck_assert_str_eq(out, "");
    free(out);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    free(sh(cmd, 0));
}
END_TEST

/* stderr is the journal: "<6>info ..." lines, no timestamps; elsewhere
 * the usual timestamped lines. */
START_TEST(journal_format) {
    char dir[] = "/tmp/iotcored-journal-XXXXXX", conf[256], err[256], cmd[2048];
    char *out;
    FILE *f;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(conf, sizeof(conf), "%s/iotcored.conf", dir);
    snprintf(err, sizeof(err), "%s/stderr", dir);
    f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    /* a listener that cannot bind: the daemon logs an error and exits */
    fprintf(f, "data_dir %s/data\nlistener x\n  bind 192.0.2.1\n  port 0\n"
               "  tls off\n", dir);
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             ": > %s && JOURNAL_STREAM=$(stat -c '%%d:%%i' %s) %s -c %s 2>>%s; "
             "cat %s",
             err, err, getenv("IOTCORED_BIN") ? getenv("IOTCORED_BIN")
                                               : IC_BUILDDIR "/iotcored",
             conf, err, err);
    out = sh(cmd, 0);
    ck_assert_msg(strncmp(out, "<6>info iotcored starting ", 26) == 0 &&
                      strstr(out, "\n<4>warning control plane has no credentials ") !=
                          NULL,
                  "%s", out);
    free(out);
    /* not the journal: timestamps */
    snprintf(cmd, sizeof(cmd), "JOURNAL_STREAM=1:1 %s -c %s 2>&1; true",
             getenv("IOTCORED_BIN") ? getenv("IOTCORED_BIN") : IC_BUILDDIR "/iotcored",
             conf);
    out = sh(cmd, 0);
    ck_assert_msg(out[0] == '2' && out[4] == '-' && strstr(out, "Z info iotcored "
                                                                 "starting "),
                  "%s", out);
    free(out);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    free(sh(cmd, 0));
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("26_systemd");
    TCase *tc = tcase_create("systemd");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, install_and_verify);
    tcase_add_test(tc, journal_format);
    suite_add_tcase(s, tc);
    return s;
}
