/* log.h - levelled one-line logging.
 *
 * Every line reads `<UTC timestamp> <level> <event> key=value ...`, e.g.
 *   2026-11-23T03:04:53.123Z info listener bound name=mqtt port=1883
 * The sink (stderr or a file) is the one mutable global allowed by STYLE 3.6.
 * Each line is emitted with a single write(2), so lines from the store writer
 * thread and the loop thread never interleave.
 */
#ifndef IOTCORED_LOG_H
#define IOTCORED_LOG_H

#include <stdbool.h>

typedef enum {
    IC_LOG_DEBUG = 0,
    IC_LOG_INFO,
    IC_LOG_NOTICE,
    IC_LOG_WARNING,
    IC_LOG_ERROR,
} ic_log_level_t;

/* Direct output to `path` (append, created 0640), or stderr when path is
 * NULL or "-". Returns 0 or a negative errno; on failure the old sink stays. */
int ic_log_open(const char *path);
/* Reopen the current file (after rotation). No-op for stderr. */
int ic_log_reopen(void);
void ic_log_close(void);

void ic_log_set_level(ic_log_level_t level);
ic_log_level_t ic_log_get_level(void);
bool ic_log_is_enabled(ic_log_level_t level);

/* Name of a level ("debug" .. "error"). */
const char *ic_log_level_name(ic_log_level_t level);

/* Emit `event` followed by the formatted key=value text (may be ""). Lines
 * longer than 2 KiB are truncated and end in "...". */
void ic_log(ic_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define ic_log_debug(...)                                                      \
    do {                                                                       \
        if (ic_log_is_enabled(IC_LOG_DEBUG))                                   \
            ic_log(IC_LOG_DEBUG, __VA_ARGS__);                                 \
    } while (0)
#define ic_log_info(...) ic_log(IC_LOG_INFO, __VA_ARGS__)
#define ic_log_notice(...) ic_log(IC_LOG_NOTICE, __VA_ARGS__)
#define ic_log_warn(...) ic_log(IC_LOG_WARNING, __VA_ARGS__)
#define ic_log_error(...) ic_log(IC_LOG_ERROR, __VA_ARGS__)

#endif
