/* harness.c - the integration harness (see harness.h).
 *
 * Owns the run directory and the daemon process of one test. The daemon is
 * forked with PR_SET_PDEATHSIG so a test that fails mid-way (Check ends the
 * test process) never leaves a broker behind. Waits poll observable state
 * (ready file, log lines, child status) against a deadline.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(int ms) {
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

char *ich_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (f == NULL)
        return strdup("");
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    n = (long)fread(buf, 1, (size_t)n, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

void ich_init(ich_t *h) {
    memset(h, 0, sizeof(*h));
    snprintf(h->dir, sizeof(h->dir), "/tmp/iotcored-it-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(h->dir));
    snprintf(h->conf, sizeof(h->conf), "%s/iotcored.conf", h->dir);
    snprintf(h->log, sizeof(h->log), "%s/iotcored.log", h->dir);
    snprintf(h->ready, sizeof(h->ready), "%s/ready", h->dir);
    snprintf(h->stderr_path, sizeof(h->stderr_path), "%s/stderr.log", h->dir);
}

void ich_write_conf(ich_t *h, const char *body) {
    char seed[256];
    FILE *f;
    snprintf(seed, sizeof(seed), "%s/test-seed.json", h->dir);
    f = fopen(seed, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"policies\":[{\"name\":\"" ICH_POLICY "\",\"document\":"
          "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
          "\"Action\":\"iot:*\",\"Resource\":\"*\"}]}}]}\n", f);
    fclose(f);
    f = fopen(h->conf, "w");
    ck_assert_ptr_nonnull(f);
    /* a test's own `seed` line, later in body, replaces this one */
    fprintf(f, "data_dir %s/data\nlog_file %s\nlog_level info\nseed %s\n\n%s",
            h->dir, h->log, seed, body ? body : ICH_MQTT_LISTENER);
    fclose(f);
}

static const char *daemon_path(void) {
    const char *p = getenv("IOTCORED_BIN");
    return p && *p ? p : IC_BUILDDIR "/iotcored";
}

static void read_ready(ich_t *h) {
    FILE *f = fopen(h->ready, "r");
    char name[64];
    int port;
    ck_assert_ptr_nonnull(f);
    h->n_listeners = 0;
    while (h->n_listeners < ICH_MAX_LISTENERS &&
           fscanf(f, "%63s %d", name, &port) == 2) {
        snprintf(h->names[h->n_listeners], sizeof(h->names[0]), "%s", name);
        h->ports[h->n_listeners++] = port;
    }
    fclose(f);
}

static void fail_with_output(ich_t *h, const char *why) {
    char *err = ich_slurp(h->stderr_path), *log = ich_slurp(h->log);
    ck_abort_msg("%s (run dir %s)\n--- stderr ---\n%s\n--- log ---\n%s", why,
                 h->dir, err, log);
}

void ich_spawn(ich_t *h) {
    /* under valgrind a start that makes keys (local CA, seeded
     * certificates: RSA key generation) takes several times longer */
    const char *vg_env = getenv("IOTCORED_TEST_VALGRIND");
    long long deadline =
        now_ms() + (vg_env && strcmp(vg_env, "1") == 0 ? 60000 : 10000);
    int status, i;
    pid_t pid;
    unlink(h->ready);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(h->stderr_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        const char *vg = getenv("IOTCORED_TEST_VALGRIND");
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        setenv("IOTCORED_READY_FILE", h->ready, 1);
        for (i = 0; i < 4 && h->env[i]; i++)
            putenv((char *)(uintptr_t)h->env[i]);
        if (vg && *vg == '1')
            execlp("valgrind", "valgrind", "-q", "--error-exitcode=99",
                   "--leak-check=full", "--errors-for-leak-kinds=definite",
                   daemon_path(), "-c", h->conf, (char *)NULL);
        else
            execl(daemon_path(), daemon_path(), "-c", h->conf, (char *)NULL);
        _exit(127);
    }
    h->pid = pid;
    for (;;) {
        if (access(h->ready, F_OK) == 0)
            break;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            h->pid = 0;
            fail_with_output(h, "iotcored exited before it was ready");
        }
        if (now_ms() > deadline)
            fail_with_output(h, "iotcored not ready within 10 s");
        pause_ms(5);
    }
    read_ready(h);
}

void ich_start(ich_t *h, const char *body) {
    ich_init(h);
    ich_write_conf(h, body);
    ich_spawn(h);
}

int ich_port(const ich_t *h, const char *name) {
    int i;
    for (i = 0; i < h->n_listeners; i++)
        if (strcmp(h->names[i], name) == 0)
            return h->ports[i];
    ck_abort_msg("no listener %s in the ready file", name);
    return -1;
}

void ich_expect_error(ich_t *h, const char *substr) {
    ck_assert_int_lt(h->n_expected, ICH_MAX_EXPECTED);
    h->expected[h->n_expected++] = substr;
}

static void check_log(ich_t *h) {
    char *log = ich_slurp(h->log), *line = log, *next;
    for (; line && *line; line = next) {
        char *sp = strchr(line, ' ');
        int i, ok = 0;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strstr(line, "Sanitizer") || strstr(line, "runtime error"))
            ck_abort_msg("sanitizer report in log: %s (run dir %s)", line, h->dir);
        if (sp == NULL || strncmp(sp, " error ", 7) != 0)
            continue;
        for (i = 0; i < h->n_expected; i++)
            if (strstr(line, h->expected[i]))
                ok = 1;
        if (!ok)
            ck_abort_msg("unexpected error in log: %s (run dir %s)", line, h->dir);
    }
    free(log);
    log = ich_slurp(h->stderr_path);
    if (strstr(log, "Sanitizer") || strstr(log, "runtime error"))
        ck_abort_msg("sanitizer report on stderr (run dir %s):\n%s", h->dir, log);
    free(log);
}

void ich_cleanup(ich_t *h) {
    const char *keep = getenv("IOTCORED_TEST_KEEP");
    char cmd[256];
    if (keep && *keep == '1')
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "harness: could not remove %s\n", h->dir);
}

void ich_terminate(ich_t *h) {
    long long deadline = now_ms() + 10000;
    int status = 0;
    ck_assert_int_gt(h->pid, 0);
    kill(h->pid, SIGTERM);
    for (;;) {
        if (waitpid(h->pid, &status, WNOHANG) == h->pid)
            break;
        if (now_ms() > deadline) {
            kill(h->pid, SIGKILL);
            waitpid(h->pid, &status, 0);
            h->pid = 0;
            fail_with_output(h, "iotcored did not stop within 10 s of SIGTERM");
        }
        pause_ms(5);
    }
    h->pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char why[128];
        snprintf(why, sizeof(why), "iotcored stopped with %s %d",
                 WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        fail_with_output(h, why);
    }
    check_log(h);
}

void ich_stop(ich_t *h) {
    ich_terminate(h);
    ich_cleanup(h);
}

void ich_kill9(ich_t *h) {
    int status;
    ck_assert_int_gt(h->pid, 0);
    kill(h->pid, SIGKILL);
    waitpid(h->pid, &status, 0);
    h->pid = 0;
}

int ich_count_log(const ich_t *h, const char *substr) {
    char *log = ich_slurp(h->log), *p = log;
    int n = 0;
    while ((p = strstr(p, substr)) != NULL) {
        n++;
        p = strchr(p, '\n');
        if (p == NULL)
            break;
    }
    free(log);
    return n;
}

bool ich_wait_log(const ich_t *h, const char *substr, int count,
                  int timeout_ms) {
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        if (ich_count_log(h, substr) >= count)
            return true;
        if (now_ms() > deadline)
            return false;
        pause_ms(5);
    }
}

int ich_run(const char *const argv[], const char *input, int timeout_ms,
            char **out) {
    int opipe[2], ipipe[2], status = 0;
    const char *vg_env = getenv("IOTCORED_TEST_VALGRIND");
    size_t len = 0, cap = 4096, in_len = input ? strlen(input) : 0, in_off = 0;
    char *buf = malloc(cap);
    /* a client waiting on a daemon under valgrind (RSA key generation is
     * about a hundred times slower there) gets five times longer */
    long long deadline =
        now_ms() + (long long)timeout_ms *
                       (vg_env && strcmp(vg_env, "1") == 0 ? 5 : 1);
    pid_t pid;
    bool timed_out = false;

    ck_assert_int_eq(pipe(opipe), 0);
    ck_assert_int_eq(pipe(ipipe), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(ipipe[0], STDIN_FILENO);
        dup2(opipe[1], STDOUT_FILENO);
        dup2(opipe[1], STDERR_FILENO);
        close(ipipe[1]);
        close(opipe[0]);
        execvp(argv[0], (char *const *)(uintptr_t)argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(ipipe[0]);
    close(opipe[1]);
    if (in_len == 0) {
        close(ipipe[1]);
        ipipe[1] = -1;
    }
    for (;;) {
        struct pollfd pf[2] = {{opipe[0], POLLIN, 0}, {ipipe[1], POLLOUT, 0}};
        long long left = deadline - now_ms();
        int n;
        if (left <= 0) {
            timed_out = true;
            break;
        }
        n = poll(pf, ipipe[1] >= 0 ? 2 : 1, (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (ipipe[1] >= 0 && (pf[1].revents & (POLLOUT | POLLERR))) {
            ssize_t w = write(ipipe[1], input + in_off, in_len - in_off);
            if (w > 0)
                in_off += (size_t)w;
            if (w < 0 || in_off == in_len) {
                close(ipipe[1]);
                ipipe[1] = -1;
            }
        }
        if (pf[0].revents & (POLLIN | POLLHUP)) {
            ssize_t r;
            if (len + 1024 > cap)
                buf = realloc(buf, cap *= 2);
            r = read(opipe[0], buf + len, cap - len - 1);
            if (r <= 0)
                break;
            len += (size_t)r;
        }
    }
    if (ipipe[1] >= 0)
        close(ipipe[1]);
    close(opipe[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    buf[len] = '\0';
    if (out)
        *out = buf;
    else
        free(buf);
    if (timed_out)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ich_connect(int port) {
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void ich_bg(ich_proc_t *p, const ich_t *h, const char *const argv[]) {
    static int seq;
    pid_t pid;
    snprintf(p->out_path, sizeof(p->out_path), "%s/client-%d.out", h->dir, ++seq);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_RDONLY);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(null, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execvp(argv[0], (char *const *)(uintptr_t)argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    p->pid = pid;
}

int ich_bg_wait(ich_proc_t *p, int timeout_ms, char **out) {
    long long deadline = now_ms() + timeout_ms;
    int status = 0;
    bool timed_out = false;
    for (;;) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid)
            break;
        if (now_ms() > deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            timed_out = true;
            break;
        }
        pause_ms(5);
    }
    p->pid = 0;
    if (out)
        *out = ich_slurp(p->out_path);
    if (timed_out)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ich_bg_kill(ich_proc_t *p, int sig) {
    int status;
    if (p->pid <= 0)
        return;
    kill(p->pid, sig);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
}

static void scenario(const ich_t *h, const char *interp, const char *script,
                     const char *name) {
    char port[16], path[512], want[128], *out = NULL;
    const char *argv[] = {interp, path, name, port, NULL};
    int rc;
    snprintf(port, sizeof(port), "%d", ich_port(h, "mqtt"));
    snprintf(path, sizeof(path), "%s/tests/integration/%s", IC_SRCDIR, script);
    snprintf(want, sizeof(want), "ok %s\n", name);
    rc = ich_run(argv, NULL, 20000, &out);
    ck_assert_msg(rc == 0 && strcmp(out, want) == 0,
                  "scenario %s (%s) exited %d:\n%s", name, interp, rc, out);
    free(out);
}

void ich_scenario_py(const ich_t *h, const char *name) {
    /* Debian's interpreter: python3-paho-mqtt is installed for it, not for
     * any other python3 on PATH. */
    scenario(h, "/usr/bin/python3", "py/scenarios.py", name);
}

void ich_scenario_js(const ich_t *h, const char *name) {
    scenario(h, "node", "js/scenarios.js", name);
}

int ich_free_port(void) {
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

void ich_bg_listening(ich_proc_t *p, const ich_t *h, const char *const argv[], int port,
                      int timeout_ms) {
    long long deadline;
    int fd = -1;
    ich_bg(p, h, argv);
    deadline = now_ms() + timeout_ms;
    while ((fd = ich_connect(port)) < 0 && now_ms() < deadline)
        pause_ms(50);
    ck_assert_msg(fd >= 0, "%s did not accept on port %d within %d ms", argv[0], port,
                  timeout_ms);
    close(fd);
}

void ich_aws_env(const char *akid, const char *secret) {
    setenv("AWS_ACCESS_KEY_ID", akid, 1);
    setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
    setenv("AWS_DEFAULT_REGION", "us-east-1", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_CONFIG_FILE", "/dev/null", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

void ich_run_ok(const char *const argv[], int timeout_ms) {
    char *out = NULL;
    int rc = ich_run(argv, NULL, timeout_ms, &out);
    ck_assert_msg(rc == 0, "%s exited %d:\n%s", argv[0], rc, out);
    free(out);
}

void ich_provision(const ich_t *h, const char *endpoint, const char *thing,
                   const char *policy, const char *policy_doc, char *dir, size_t cap) {
    const char *ctl = IC_BUILDDIR "/iotctl";
    char pol[512];
    FILE *f;
    snprintf(dir, cap, "%s/%s", h->dir, thing);
    snprintf(pol, sizeof(pol), "%s/%s.json", h->dir, policy);
    f = fopen(pol, "w");
    ck_assert_ptr_nonnull(f);
    fputs(policy_doc, f);
    fclose(f);
    {
        const char *a[] = {ctl, "--endpoint", endpoint, "thing", "create", thing, NULL};
        const char *b[] = {ctl, "--endpoint", endpoint, "policy", "create", policy, pol,
                           NULL};
        const char *c[] = {ctl, "--endpoint", endpoint, "cert", "create", "--thing",
                           thing, "--policy", policy, "--out", dir, NULL};
        ich_run_ok(a, 10000);
        ich_run_ok(b, 10000);
        ich_run_ok(c, 30000);
    }
}

char *ich_sh(const char *cmd, int want_rc, int timeout_ms) {
    const char *argv[] = {"sh", "-c", cmd, NULL};
    char *out = NULL;
    int rc = ich_run(argv, NULL, timeout_ms, &out);
    ck_assert_msg(rc == want_rc, "`%s` exited %d (want %d):\n%s", cmd, rc, want_rc, out);
    return out;
}
