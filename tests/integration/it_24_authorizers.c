/* it_24_authorizers.c - custom authorizers end to end (py/authorizers.py):
 * every control-plane operation with boto3 (shapes against botocore's
 * model, errors by code and message), TestInvokeAuthorizer running
 * authorizer functions served by a local Python HTTP server - through an
 * `authorizer_function` URL and through Lambda Invoke on
 * aws_service_endpoint (SigV4 checked by botocore) - for allowed, denied,
 * malformed, slow (the 5 s limit), badly signed and unsigned tokens, the
 * denials in the log with their reasons, the AWS CLI, and authorizers and
 * the default one surviving a restart. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define MAPPED "arn:aws:lambda:us-east-1:123456789012:function:pyauth"
#define SCRIPT IC_SRCDIR "/tests/integration/py/authorizers.py"

static char ctl_url[64], fn_port[16];
static ich_proc_t functions;

/* The authorizer functions, up when they accept a connection. */
static void start_functions(const ich_t *h) {
    const char *argv[] = {"python3", SCRIPT, "serve", fn_port, NULL};
    int port = ich_free_port();
    snprintf(fn_port, sizeof(fn_port), "%d", port);
    ich_bg_listening(&functions, h, argv, port, 20000);
}

static void write_conf(ich_t *h) {
    char body[1024];
    snprintf(body, sizeof(body),
             "credentials " AKID " " SECRET "\n"
             "aws_service_endpoint http://127.0.0.1:%s\n"
             "authorizer_function " MAPPED " http://127.0.0.1:%s/authorize\n"
             "listener control\n  bind 127.0.0.1\n  port 0\n  protocol control\n"
             "  tls off\n",
             fn_port, fn_port);
    ich_write_conf(h, body);
}

static void up(ich_t *h) {
    ich_spawn(h);
    snprintf(ctl_url, sizeof(ctl_url), "http://127.0.0.1:%d", ich_port(h, "control"));
}

static void group(const char *g) {
    char *out = NULL, want[64];
    const char *argv[] = {"python3", SCRIPT, ctl_url, fn_port, g, NULL};
    int rc = ich_run(argv, NULL, 120000, &out);
    snprintf(want, sizeof(want), "ok %s ", g);
    ck_assert_msg(rc == 0 && strstr(out, want), "authorizers.py %s exited %d:\n%s", g,
                  rc, out);
    free(out);
}

START_TEST(authorizers_end_to_end) {
    ich_t h;
    char cmd[2048], *out = NULL;
    const char *sh[] = {"sh", "-c", cmd, NULL};
    ich_init(&h);
    start_functions(&h);
    ich_aws_env(AKID, SECRET);
    write_conf(&h);
    up(&h);
    ck_assert(ich_wait_log(&h, "custom authorizers ready authorizers=0 functions=1", 1,
                           5000));
    group("crud");
    ck_assert(ich_wait_log(&h, "authorizer created authorizer=crud-a", 1, 5000));
    ck_assert(ich_wait_log(&h, "default authorizer set authorizer=keep", 1, 5000));
    group("invoke");
    /* every denial is logged once, with its reason */
    ck_assert(ich_wait_log(&h, "custom auth denied authorizer=signed connection=", 1,
                           5000));
    ck_assert(ich_wait_log(&h, "result=bad_credentials reason=\"token signature "
                               "invalid\"", 2, 5000));
    ck_assert(ich_wait_log(&h, "result=failed reason=\"authorizer timed out after "
                               "5000 ms\"", 1, 5000));
    ck_assert(ich_wait_log(&h, "result=not_authenticated reason=\"authorizer returned "
                               "isAuthenticated false\"", 1, 5000));
    ck_assert(ich_wait_log(&h, "result=bad_response reason=\"malformed authorizer "
                               "response: principalId must match [a-zA-Z0-9]{1,128}\"",
                           1, 5000));
    group("lambda");

    /* the AWS CLI, once */
    snprintf(cmd, sizeof(cmd),
             "KEYS=$(openssl genrsa 2048 2>/dev/null | openssl rsa -pubout "
             "2>/dev/null | python3 -c 'import json,sys; "
             "print(json.dumps({\"k1\": sys.stdin.read()}))') && "
             "/usr/bin/aws --endpoint-url %s iot create-authorizer --authorizer-name "
             "cli-az --authorizer-function-arn " MAPPED " --token-key-name tok "
             "--token-signing-public-keys \"$KEYS\" --status INACTIVE --output json && "
             "/usr/bin/aws --endpoint-url %s iot describe-authorizer --authorizer-name "
             "cli-az --output json && "
             "/usr/bin/aws --endpoint-url %s iot delete-authorizer --authorizer-name "
             "keep 2>&1; true",
             ctl_url, ctl_url, ctl_url);
    ck_assert_int_eq(ich_run(sh, NULL, 60000, &out), 0);
    ck_assert_msg(strstr(out, "\"authorizerArn\": \"arn:aws:iot:us-east-1:"
                              "123456789012:authorizer/cli-az\"") &&
                      strstr(out, "\"status\": \"INACTIVE\"") &&
                      strstr(out, "\"tokenKeyName\": \"tok\"") &&
                      strstr(out, "-----BEGIN PUBLIC KEY-----") &&
                      strstr(out, "An error occurred (DeleteConflictException) when "
                                  "calling the DeleteAuthorizer operation: Cannot delete "
                                  "an ACTIVE authorizer (name=keep)"),
                  "%s", out);
    free(out);

    /* a restart: the authorizers and the default come back from the store */
    ich_terminate(&h);
    up(&h);
    ck_assert(ich_wait_log(&h, "custom authorizers ready authorizers=2 functions=1", 1,
                           5000));
    group("persisted");
    ich_stop(&h);
    ich_bg_kill(&functions, SIGTERM); /* and reaped */
}
END_TEST

Suite *ic_it_suite(void) {
    Suite *s = suite_create("24_authorizers");
    TCase *tc = tcase_create("authorizers");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, authorizers_end_to_end);
    suite_add_tcase(s, tc);
    return s;
}
