/* harness.h - start the real build/iotcored for a test, drive real clients.
 *
 * ich_start renders a config into a fresh temp directory (data, log and
 * ready file inside it, listeners on port 0), spawns the daemon and waits
 * for its ready file while watching for an early exit; it never sleeps for
 * a fixed time. ich_stop sends SIGTERM, requires exit status 0 and a log
 * without unexpected `error` lines or sanitizer reports.
 *
 * Knobs: IOTCORED_BIN (daemon path), IOTCORED_TEST_KEEP=1 (keep the run
 * directory; failed tests always keep it), IOTCORED_TEST_VALGRIND=1.
 */
#ifndef IOTCORED_HARNESS_H
#define IOTCORED_HARNESS_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ICH_MAX_LISTENERS 8
#define ICH_MAX_EXPECTED 16

typedef struct ich_s {
    char dir[128];        /* run directory */
    char conf[192];       /* rendered config */
    char log[192];        /* daemon log file */
    char ready[192];      /* ready file */
    char stderr_path[192];/* daemon stdout+stderr */
    pid_t pid;            /* 0 when not running */
    int n_listeners;
    char names[ICH_MAX_LISTENERS][64];
    int ports[ICH_MAX_LISTENERS];
    const char *expected[ICH_MAX_EXPECTED]; /* allowed error substrings */
    int n_expected;
    const char *env[4];   /* extra NAME=value for the daemon, NULL-ended */
} ich_t;

/* Every rendered config seeds an allow-all IoT policy named ICH_POLICY
 * (policies are enforced: a listener or certificate without one is denied
 * everything). Tests about the broker, not about policies, use it through
 * `listener_policy`. */
#define ICH_POLICY "test-allow-all"
#define ICH_LISTENER_POLICY "  listener_policy " ICH_POLICY "\n"

/* Default listener block: plaintext MQTT on loopback, ephemeral port. */
#define ICH_MQTT_LISTENER \
    "listener mqtt\n  bind 127.0.0.1\n  port 0\n  protocol mqtt\n  tls off\n" \
    ICH_LISTENER_POLICY

/* Prepare h: make the run directory. Call before ich_write_conf/ich_start. */
void ich_init(ich_t *h);
/* Write the config: data_dir, log_file and log_level lines, then body
 * (listeners etc.; NULL = ICH_MQTT_LISTENER). */
void ich_write_conf(ich_t *h, const char *body);
/* Spawn the daemon on h->conf and wait (10 s) for the ready file. Fails the
 * test, with the daemon's stderr and log, if it exits first. */
void ich_spawn(ich_t *h);
/* ich_init + ich_write_conf + ich_spawn. */
void ich_start(ich_t *h, const char *body);
/* Port of listener name from the ready file (fails the test if absent). */
int ich_port(const ich_t *h, const char *name);
/* An error-level log line containing substr is expected by this test. */
void ich_expect_error(ich_t *h, const char *substr);
/* SIGTERM, wait (10 s), require exit 0 and a clean log; remove the run
 * directory unless IOTCORED_TEST_KEEP=1. */
void ich_stop(ich_t *h);
/* ich_stop without removing the run directory (for restarts). */
void ich_terminate(ich_t *h);
/* SIGKILL and reap, for crash tests; the run directory stays. */
void ich_kill9(ich_t *h);
void ich_cleanup(ich_t *h);
/* Wait (up to timeout_ms) until the log holds `count` lines containing
 * substr. Returns true when it does. */
bool ich_wait_log(const ich_t *h, const char *substr, int count,
                  int timeout_ms);
/* Lines of the log containing substr. */
int ich_count_log(const ich_t *h, const char *substr);
/* The whole file at path (malloc'd, NUL-terminated; "" if absent). */
char *ich_slurp(const char *path);

/* Run argv (argv[0] looked up in PATH) with stdin from `input` (may be
 * NULL), stdout+stderr captured into *out (malloc'd, may be NULL). Kills it
 * after timeout_ms. Returns the exit status, 128+signal, or -1 on timeout. */
int ich_run(const char *const argv[], const char *input, int timeout_ms,
            char **out);

/* Each it_*.c suite file exports this; tests/integration/main.c runs it. */
Suite *ic_it_suite(void);

/* A client running in the background (stdout+stderr to a file). */
typedef struct ich_proc_s {
    pid_t pid;
    char out_path[224];
} ich_proc_t;
/* Start argv in the background. */
void ich_bg(ich_proc_t *p, const ich_t *h, const char *const argv[]);
/* Wait up to timeout_ms for it to exit; *out gets its output (malloc'd).
 * Returns the exit status, 128+signal, or -1 on timeout (then killed). */
int ich_bg_wait(ich_proc_t *p, int timeout_ms, char **out);
/* Kill it with sig and reap. */
void ich_bg_kill(ich_proc_t *p, int sig);

/* Run a scripted scenario with a real client library against listener
 * "mqtt": Debian's python3-paho-mqtt (tests/integration/py/scenarios.py)
 * or MQTT.js (tests/integration/js/scenarios.js). Fails the test unless it
 * exits 0 printing exactly "ok NAME". */
void ich_scenario_py(const ich_t *h, const char *name);
void ich_scenario_js(const ich_t *h, const char *name);

/* Connect a TCP socket to 127.0.0.1:port (blocking). Returns fd or -1. */
int ich_connect(int port);
/* A free loopback TCP port (bound, read, released). */
int ich_free_port(void);
/* ich_bg, then wait (bounded by timeout_ms) until it accepts on port;
 * fails the test if it never does. For local servers the tests start
 * (moto_server, authorizer functions). */
void ich_bg_listening(ich_proc_t *p, const ich_t *h, const char *const argv[], int port,
                      int timeout_ms);
/* The AWS CLI, boto3 and iotctl of this process sign with akid/secret in
 * us-east-1 and read no user config or credentials file. */
void ich_aws_env(const char *akid, const char *secret);
/* `sh -c cmd` within timeout_ms; fails the test (with its output) unless
 * it exits want_rc; returns the output (malloc'd). */
char *ich_sh(const char *cmd, int want_rc, int timeout_ms);
/* Run argv; fail the test (with its output) unless it exits 0. */
void ich_run_ok(const char *const argv[], int timeout_ms);
/* Through the control plane at endpoint, with iotctl: thing `thing`, the
 * IoT policy `policy` (document policy_doc) and an ACTIVE certificate
 * attached to both, its files (root-ca.pem, certificate.pem.crt,
 * private.pem.key) in h->dir/thing, whose path goes to dir. */
void ich_provision(const ich_t *h, const char *endpoint, const char *thing,
                   const char *policy, const char *policy_doc, char *dir, size_t cap);

#endif
