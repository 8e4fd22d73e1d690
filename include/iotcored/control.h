/* control.h - the AWS IoT control-plane API as a service module: the route
 * table `aws iot --endpoint-url` and boto3 talk to, served by listeners
 * with `protocol control`, SigV4-authenticated with the configured
 * credentials; and the seed file applied at start.
 */
#ifndef IOTCORED_CONTROL_H
#define IOTCORED_CONTROL_H

#include "iotcored/config.h"
#include "iotcored/ctx.h"
#include "iotcored/http.h"

#include <stddef.h>

typedef struct ic_control_s ic_control_t;

/* No I/O. */
int ic_control_init(ic_control_t **out, ic_broker_t *b);
/* Apply the seed file (if configured) and register the service with the
 * connections module. 0, or IC_ECONFIG with the failing seed entry named
 * in err. */
int ic_control_start(ic_control_t *c, char *err, size_t errlen);
/* Credentials and control_auth are re-read from next (borrowed: the
 * broker swaps it in). */
int ic_control_reload(ic_control_t *c, const ic_config_t *next);
void ic_control_fini(ic_control_t *c);

const ic_http_service_t *ic_control_service(ic_control_t *c);
/* Print "Operation METHOD pattern" per route (for the route-vs-model
 * test: `iotcored --routes`). */
void ic_control_print_routes(void);

#endif
