/* cron.h - one repeating uv_timer running registered periodic tasks
 * (keep-alive sweeps, session expiry, will delays). Loop thread only. */
#ifndef IOTCORED_CRON_H
#define IOTCORED_CRON_H

#include "iotcored/ctx.h"

#include <stdint.h>

typedef struct ic_cron_s ic_cron_t;
/* now_ms: uv_now of the loop (monotonic milliseconds). */
typedef void (*ic_cron_fn)(uint64_t now_ms, void *data);

ic_cron_t *ic_cron_new(uv_loop_t *loop, uint32_t tick_ms);
/* Run fn about every period_ms (rounded up to ticks). */
void ic_cron_add(ic_cron_t *c, uint32_t period_ms, ic_cron_fn fn, void *data);
/* Remove every task registered with this data pointer. */
void ic_cron_remove(ic_cron_t *c, void *data);
void ic_cron_start(ic_cron_t *c);
/* Stop and close the timer; cb after its close callback. */
void ic_cron_stop(ic_cron_t *c, ic_done_cb cb, void *data);
void ic_cron_free(ic_cron_t *c);

#endif
