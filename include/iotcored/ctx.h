/* ctx.h - the broker context handed to every service module.
 *
 * STYLE 3.6 has service modules take `ic_broker_t *b` at init. The struct is
 * a plain bag of borrowed pointers to the shared services, filled in by the
 * assembly (core/broker.c, L4) as modules start. It lives in this L0 header,
 * with forward declarations only, so that modules of any layer can receive
 * it without including a higher layer's header (why it is not broker.h).
 */
#ifndef IOTCORED_CTX_H
#define IOTCORED_CTX_H

#include <stdint.h>
#include <uv.h>

struct ic_config_s;
struct ic_db_s;
struct ic_listeners_s;
struct ic_cron_s;
struct ic_mqtt_s;
struct ic_conns_s;
struct ic_control_s;
struct ic_dataplane_s;
struct ic_engine_s;
struct ic_rules_mod_s;
struct ic_authorizers_s;
struct ic_custom_auth_s;
struct ic_custom_auth_mod_s;

typedef void (*ic_done_cb)(void *data);

typedef struct ic_broker_s {
    uv_loop_t *loop;                 /* owned by core/broker.c */
    struct ic_config_s *cfg;         /* running config; reloadable fields
                                        change on SIGHUP */
    struct ic_db_s *db;              /* set by the store module's start */
    struct ic_listeners_s *listeners;
    struct ic_cron_s *cron;          /* periodic tasks */
    struct ic_mqtt_s *mqtt;          /* MQTT engine (router, sessions) */
    struct ic_conns_s *conns;        /* client connections */
    struct ic_control_s *control;    /* control-plane API */
    struct ic_dataplane_s *dataplane; /* data-plane REST API */
    struct ic_engine_s *engine;      /* the Rules Engine (topic rules) */
    struct ic_rules_mod_s *rules;    /* its wiring (core/broker.c) */
    struct ic_authorizers_s *authorizers; /* custom authorizers (registry) */
    struct ic_custom_auth_s *custom_auth; /* runs them (iot/custom_auth.c) */
    struct ic_custom_auth_mod_s *custom_auth_mod; /* its wiring (core/broker.c) */
    uint64_t boot_count;             /* starts recorded in the store */
} ic_broker_t;

#endif
