/* lifecycle.h - AWS IoT lifecycle events (aws-iot-dataplane.md 2):
 * `$aws/events/presence/{connected,disconnected,connect_failed}/{clientId}`
 * and `$aws/events/subscriptions/{subscribed,unsubscribed}/{clientId}`,
 * published through the router (so policies, subscriptions and rules
 * apply), with AWS's payload fields, and the per-client versionNumber of
 * 2.4. The protocol layer says what happened; this module decides what is
 * published. Loop thread only.
 */
#ifndef IOTCORED_LIFECYCLE_H
#define IOTCORED_LIFECYCLE_H

#include "iotcored/router.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ic_lifecycle_s ic_lifecycle_t;

/* Who an event is about. Strings borrowed for the call. */
typedef struct ic_lifecycle_who_s {
    const char *client_id;
    const char *session_id;  /* sessionIdentifier (a UUID) */
    const char *principal;   /* certificate ID, "" when none */
    const char *thing;       /* associated thing, NULL = none */
    const char *ip;          /* peer address (no port) */
    uint32_t session_expiry_s;
} ic_lifecycle_who_t;

/* router borrowed for the module's life. */
ic_lifecycle_t *ic_lifecycle_new(ic_router_t *router);
void ic_lifecycle_free(ic_lifecycle_t *lc);

/* A connection was accepted: publishes `connected` and returns the
 * versionNumber to stamp on its `disconnected` (0 for a client not seen
 * for max(1 h, its session expiry), else the previous one + 1). Client IDs
 * with '+' or '#' publish nothing (AWS 2.1). */
int64_t ic_lifecycle_connected(ic_lifecycle_t *lc, const ic_lifecycle_who_t *w,
                               int64_t now_ms);
/* That connection ended for reason (AWS 2.3's names). */
void ic_lifecycle_disconnected(ic_lifecycle_t *lc, const ic_lifecycle_who_t *w,
                               int64_t version, const char *reason,
                               int64_t now_ms);
/* A CONNECT was refused by authorization (AWS 2.5). */
void ic_lifecycle_connect_failed(ic_lifecycle_t *lc, const ic_lifecycle_who_t *w,
                                 int64_t now_ms);
/* A SUBSCRIBE (is_subscribe) or UNSUBSCRIBE took effect for these filters
 * (n of them; nothing is published for n == 0). */
void ic_lifecycle_subscriptions(ic_lifecycle_t *lc, const ic_lifecycle_who_t *w,
                                bool is_subscribe, const char *const *filters,
                                const size_t *lens, size_t n, int64_t now_ms);
/* Forget clients offline long enough for their version to restart. */
void ic_lifecycle_sweep(ic_lifecycle_t *lc, int64_t now_ms);
size_t ic_lifecycle_count(const ic_lifecycle_t *lc);

#endif
