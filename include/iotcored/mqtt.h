/* mqtt.h - the MQTT engine as a service module: profile, sessions,
 * retained messages, router and the environment shared by every protocol
 * state machine, plus its periodic sweeps. */
#ifndef IOTCORED_MQTT_H
#define IOTCORED_MQTT_H

#include "iotcored/ctx.h"
#include "iotcored/proto.h"

#include <stddef.h>

typedef struct ic_mqtt_s ic_mqtt_t;

/* Build the profile from b->cfg. No I/O. */
int ic_mqtt_init(ic_mqtt_t **out, ic_broker_t *b);
/* Create sessions/retain/router over b->db, load persisted state, register
 * the 1 s sweep with b->cron. */
int ic_mqtt_start(ic_mqtt_t *m, char *err, size_t errlen);
ic_proto_env_t *ic_mqtt_env(ic_mqtt_t *m);
/* Policies or attachments may have changed: re-check iot:Connect of live
 * connections now (also done every second by the sweep). */
void ic_mqtt_recheck(ic_mqtt_t *m);
/* Feed every published message to the rules engine (NULL: stop). e
 * borrowed until set to NULL. */
struct ic_engine_s;
struct ic_engine_lookups_s;
void ic_mqtt_set_engine(ic_mqtt_t *m, struct ic_engine_s *e);
/* The lookups the engine's SQL functions use (get_thing_shadow). */
void ic_mqtt_engine_lookups(ic_mqtt_t *m, struct ic_engine_lookups_s *out);
struct ic_router_s *ic_mqtt_router(ic_mqtt_t *m);
/* SIGHUP: reload the certificate registry from the store. */
int ic_mqtt_reload(ic_mqtt_t *m, const ic_config_t *next);
/* Save persistent sessions (connections are already closed). */
void ic_mqtt_stop(ic_mqtt_t *m, ic_done_cb cb, void *data);
void ic_mqtt_fini(ic_mqtt_t *m);

#endif
