/* log.c - the log sink.
 *
 * Owns the output file descriptor, its path and the current level. It formats
 * a line into a stack buffer and writes it with one write(2); it never
 * allocates on the logging path and never blocks on anything but that write.
 * The sink may be swapped (SIGHUP) only from the loop thread; the store writer
 * thread only logs, so an atomic fd swap is sufficient.
 *
 * Under systemd (stderr is the journal: $JOURNAL_STREAM names its device
 * and inode, systemd.exec(5)) a stderr line starts with its sd-daemon(3)
 * priority ("<6>") and carries no timestamp: the journal keeps both.
 */
#include "iotcored/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 2048

static atomic_int log_fd = STDERR_FILENO;
static atomic_int log_level = IC_LOG_INFO;
static char *log_path; /* NULL when logging to stderr */
static int journal = -1; /* stderr is the journal: -1 unknown, 0, 1 */

/* $JOURNAL_STREAM is "DEV:INODE" of the journal's stream; it is inherited
 * by children whose stderr was redirected, so compare with fd 2. */
static bool stderr_is_journal(void) {
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
        fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev &&
           (unsigned long long)st.st_ino == ino;
}

/* sd-daemon(3) priorities: debug 7, info 6, notice 5, warning 4, error 3. */
static const char *const journal_prio[] = {"<7>", "<6>", "<5>", "<4>", "<3>"};

static const char *const level_names[] = {"debug", "info", "notice", "warning",
                                          "error"};

const char *ic_log_level_name(ic_log_level_t level) {
    if ((int)level < 0 || level > IC_LOG_ERROR)
        return "unknown";
    return level_names[level];
}

static int open_file(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    return fd < 0 ? -errno : fd;
}

int ic_log_open(const char *path) {
    int fd = STDERR_FILENO, old;
    char *copy = NULL;
    if (path != NULL && strcmp(path, "-") != 0 && path[0] != '\0') {
        fd = open_file(path);
        if (fd < 0)
            return fd;
        copy = strdup(path);
        if (copy == NULL) {
            close(fd);
            return -ENOMEM;
        }
    }
    old = atomic_exchange(&log_fd, fd);
    if (old != STDERR_FILENO)
        close(old);
    free(log_path);
    log_path = copy;
    return 0;
}

int ic_log_reopen(void) {
    int fd, old;
    if (log_path == NULL)
        return 0;
    fd = open_file(log_path);
    if (fd < 0)
        return fd;
    old = atomic_exchange(&log_fd, fd);
    if (old != STDERR_FILENO)
        close(old);
    return 0;
}

void ic_log_close(void) {
    int old = atomic_exchange(&log_fd, STDERR_FILENO);
    if (old != STDERR_FILENO)
        close(old);
    free(log_path);
    log_path = NULL;
}

void ic_log_set_level(ic_log_level_t level) {
    atomic_store(&log_level, (int)level);
}

ic_log_level_t ic_log_get_level(void) {
    return (ic_log_level_t)atomic_load(&log_level);
}

bool ic_log_is_enabled(ic_log_level_t level) {
    return (int)level >= atomic_load(&log_level);
}

void ic_log(ic_log_level_t level, const char *event, const char *fmt, ...) {
    char line[LINE_MAX_BYTES];
    struct timeval tv;
    struct tm tm;
    size_t len;
    int n;
    va_list ap;

    if (!ic_log_is_enabled(level))
        return;
    if (journal < 0)
        journal = stderr_is_journal() ? 1 : 0;
    if (journal == 1 && atomic_load(&log_fd) == STDERR_FILENO &&
        (int)level >= 0 && level <= IC_LOG_ERROR) {
        n = snprintf(line, sizeof(line), "%s%s %s", journal_prio[level],
                     ic_log_level_name(level), event);
    } else {
        gettimeofday(&tv, NULL);
        gmtime_r(&tv.tv_sec, &tm);
        n = snprintf(line, sizeof(line),
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000),
                     ic_log_level_name(level), event);
    }
    len = n < 0 ? 0 : (size_t)n;
    if (fmt != NULL && fmt[0] != '\0' && len + 2 < sizeof(line)) {
        line[len++] = ' ';
        va_start(ap, fmt);
        n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
        va_end(ap);
        if (n > 0)
            len += (size_t)n;
    }
    if (len > sizeof(line) - 2) {
        len = sizeof(line) - 2;
        memcpy(line + len - 3, "...", 3);
    }
    line[len++] = '\n';
    /* One write per line: a short write to a pipe or file is not retried,
     * losing a log tail is preferable to blocking the loop. */
    if (write(atomic_load(&log_fd), line, len) < 0) {
        /* nowhere left to report it */
    }
}
