/* shadow.h - the Device Shadow service over MQTT (aws-iot-dataplane.md 1):
 * requests published to `$aws/things/{thing}/shadow[/name/{shadow}]/
 * {get,update,delete}` are answered on the matching accepted, rejected,
 * delta and documents topics, through the router, so policies (iot:Receive),
 * subscriptions and delivery have one path. Shadows are kept in memory and
 * written through to the store. Loop thread only.
 */
#ifndef IOTCORED_SHADOW_H
#define IOTCORED_SHADOW_H

#include "iotcored/db.h"
#include "iotcored/msg.h"
#include "iotcored/router.h"
#include "iotcored/shadow_doc.h"

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
/* The router's service callback (ic_router_service_fn); data is the
 * service. */
void ic_shadow_svc_handle(ic_msg_t *m, int64_t now_ms, void *data);

#endif
