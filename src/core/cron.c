/* cron.c - periodic tasks on one timer (Redis serverCron + run_with_period).
 *
 * Owns the timer handle and the task list. Tasks run on the loop thread in
 * registration order; a task must be quick (it runs inside the loop turn).
 * It must not own any task state: `data` stays the registrant's.
 */
#include "iotcored/cron.h"

#include "iotcored/alloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct task_s {
    uint32_t period_ms;
    uint64_t next_ms;
    ic_cron_fn fn;
    void *data;
} task_t;

struct ic_cron_s {
    uv_timer_t timer;
    uint32_t tick_ms;
    task_t *tasks;
    size_t n, cap;
    ic_done_cb stop_cb;
    void *stop_data;
};

ic_cron_t *ic_cron_new(uv_loop_t *loop, uint32_t tick_ms) {
    ic_cron_t *c = ic_xcalloc(1, sizeof(*c));
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->tick_ms = tick_ms;
    return c;
}

void ic_cron_add(ic_cron_t *c, uint32_t period_ms, ic_cron_fn fn, void *data) {
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->tasks = ic_xrealloc(c->tasks, c->cap * sizeof(task_t));
    }
    c->tasks[c->n].period_ms = period_ms;
    c->tasks[c->n].next_ms = uv_now(c->timer.loop) + period_ms;
    c->tasks[c->n].fn = fn;
    c->tasks[c->n].data = data;
    c->n++;
}

void ic_cron_remove(ic_cron_t *c, void *data) {
    size_t i = 0;
    while (i < c->n) {
        if (c->tasks[i].data == data) {
            memmove(&c->tasks[i], &c->tasks[i + 1],
                    (c->n - i - 1) * sizeof(task_t));
            c->n--;
        } else {
            i++;
        }
    }
}

static void on_tick(uv_timer_t *t) {
    ic_cron_t *c = t->data;
    uint64_t now = uv_now(t->loop);
    size_t i;
    for (i = 0; i < c->n; i++) {
        if (now >= c->tasks[i].next_ms) {
            c->tasks[i].next_ms = now + c->tasks[i].period_ms;
            c->tasks[i].fn(now, c->tasks[i].data);
        }
    }
}

void ic_cron_start(ic_cron_t *c) {
    uv_timer_start(&c->timer, on_tick, c->tick_ms, c->tick_ms);
}

static void on_closed(uv_handle_t *h) {
    ic_cron_t *c = h->data;
    if (c->stop_cb)
        c->stop_cb(c->stop_data);
}

void ic_cron_stop(ic_cron_t *c, ic_done_cb cb, void *data) {
    c->stop_cb = cb;
    c->stop_data = data;
    uv_close((uv_handle_t *)&c->timer, on_closed);
}

void ic_cron_free(ic_cron_t *c) {
    if (c == NULL)
        return;
    free(c->tasks);
    free(c);
}
