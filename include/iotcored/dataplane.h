/* dataplane.h - the AWS IoT data-plane REST API as a service module
 * (aws-iot-auth.md 5, aws-iot-dataplane.md 1.10): served on listeners with
 * `protocol https` (8443, mutual TLS) and on `protocol alpn` listeners for
 * connections that do not choose MQTT (443: no ALPN / http/1.1 with SigV4,
 * x-amzn-http-ca with a client certificate). Callers are certificates,
 * authorized by their IoT policies, or the configured SigV4 credentials
 * (signing names iotdata and iotdevicegateway), which may do everything.
 * Operations: Publish, GetRetainedMessage, ListRetainedMessages,
 * DeleteConnection, and the Device Shadow's GetThingShadow,
 * UpdateThingShadow, DeleteThingShadow and ListNamedShadowsForThing.
 */
#ifndef IOTCORED_DATAPLANE_H
#define IOTCORED_DATAPLANE_H

#include "iotcored/ctx.h"
#include "iotcored/http.h"

#include <stddef.h>

typedef struct ic_dataplane_s ic_dataplane_t;

/* No I/O. */
int ic_dataplane_init(ic_dataplane_t **out, ic_broker_t *b);
/* Register the service with the connections module (after mqtt, conns). */
int ic_dataplane_start(ic_dataplane_t *d, char *err, size_t errlen);
void ic_dataplane_fini(ic_dataplane_t *d);
/* Print "Operation METHOD pattern" per route (`iotcored --routes`). */
void ic_dataplane_print_routes(void);

#endif
