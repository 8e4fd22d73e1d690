/* shadow.h - the Device Shadow service (aws-iot-dataplane.md 1): requests
 * published to `$aws/things/{thing}/shadow[/name/{shadow}]/
 * {get,update,delete}` are answered on the matching accepted, rejected,
 * delta and documents topics, through the router, so policies (iot:Receive),
 * subscriptions and delivery have one path; the REST API's requests
 * (ic_shadow_svc_request) are answered through a callback and publish their
 * successful updates and deletes the same way. Shadows are kept in memory
 * and written through to the store. Loop thread only.
 */
#ifndef IOTCORED_SHADOW_H
#define IOTCORED_SHADOW_H

#include "iotcored/db.h"
#include "iotcored/msg.h"
#include "iotcored/router.h"
#include "iotcored/shadow_doc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ic_shadow_svc_s ic_shadow_svc_t;

/* db may be NULL (memory only); router and lim borrowed for the service's
 * life. window_ms: a shadow re-created this soon after its deletion
 * continues its version (AWS: 48 hours). */
ic_shadow_svc_t *ic_shadow_svc_new(ic_db_t *db, ic_router_t *router,
                                   const ic_shadow_limits_t *lim,
                                   int64_t window_ms);
void ic_shadow_svc_free(ic_shadow_svc_t *s);
/* Load every stored shadow. 0 or IC_ESTORE. */
int ic_shadow_svc_load(ic_shadow_svc_t *s);
size_t ic_shadow_svc_count(const ic_shadow_svc_t *s);
/* Durable mode (persistence_sync full): updates and deletes are answered
 * after their row is committed; other answers keep request order. */
void ic_shadow_svc_set_durable(ic_shadow_svc_t *s, bool durable);
/* The router's service callback (ic_router_service_fn); data is the
 * service. */
void ic_shadow_svc_handle(ic_msg_t *m, int64_t now_ms, void *data);

typedef enum {
    IC_SHADOW_GET = 0,
    IC_SHADOW_UPDATE = 1,
    IC_SHADOW_DELETE = 2
} ic_shadow_op_t;

typedef struct ic_shadow_result_s {
    int code;         /* 200, or the error's code (400, 404, 409, 413, 415,
                         429, 500) */
    const char *body; /* the accepted or rejected document (borrowed for
                         the callback) */
} ic_shadow_result_t;

typedef void (*ic_shadow_done_fn)(const ic_shadow_result_t *r, void *data);

/* Thing name 1-128 of [a-zA-Z0-9:_-], shadow name ("" or NULL = classic)
 * 1-64 of [$a-zA-Z0-9:_-]. */
bool ic_shadow_name_ok(const char *thing, const char *name);
/* A REST request (strings borrowed for the call). done is called exactly
 * once, from inside this call or (durable mode) after the commit; origin
 * (may be NULL) keys the in-flight limit. An invalid name is answered 400
 * "Invalid thing name" / "Invalid shadow name". */
void ic_shadow_svc_request(ic_shadow_svc_t *s, ic_shadow_op_t op,
                           const char *thing, const char *name,
                           const uint8_t *payload, size_t len,
                           const void *origin, ic_shadow_done_fn done,
                           void *data);
/* Requests answered, by op (IC_SHADOW_GET, _UPDATE, _DELETE): [op][0]
 * accepted, [op][1] rejected. */
void ic_shadow_svc_stats(const ic_shadow_svc_t *s, uint64_t out[3][2]);
/* The GetThingShadow document of a shadow (name NULL or "" = classic),
 * malloc'd, or NULL when it does not exist (get_thing_shadow() in rules). */
char *ic_shadow_svc_get_json(ic_shadow_svc_t *s, const char *thing,
                             const char *name);
/* Names of thing's live named shadows sorted, after `after` (NULL or "" =
 * from the start), at most cap into out (borrowed until the next change);
 * *more tells whether more follow. Returns how many were written. */
size_t ic_shadow_svc_list(ic_shadow_svc_t *s, const char *thing,
                          const char *after, const char **out, size_t cap,
                          bool *more);

#endif
