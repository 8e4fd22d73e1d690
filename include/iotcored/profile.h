/* profile.h - every rule where AWS IoT Core's broker differs from the MQTT
 * specification, in one struct (dataplane spec section 5).
 *
 * The router, sessions and protocol state machine read their limits and
 * behavioural switches from here only, so a strict-MQTT profile can be added
 * without touching them. ic_profile_aws builds the AWS profile, with the
 * configurable limits taken from the config.
 */
#ifndef IOTCORED_PROFILE_H
#define IOTCORED_PROFILE_H

#include "iotcored/config.h"
#include "iotcored/topic.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    IC_QOS2_SUB_NO_SUBACK = 0, /* AWS text: no SUBACK is sent */
    IC_QOS2_SUB_GRANT_QOS1,    /* grant QoS 1 instead (Mosquitto-like) */
    IC_QOS2_SUB_DISCONNECT,    /* close the connection */
} ic_qos2_sub_t;

typedef struct ic_profile_s {
    const char *name;
    bool hash_matches_parent;   /* AWS: false (`a/#` !~ `a`) */
    bool retain_exact_only;     /* AWS: retained sent on subscribe only to a
                                   filter equal to the topic */
    bool refuse_dollar_client_id; /* AWS: `$` client IDs are reserved */
    ic_topic_limits_t topic;    /* AWS: 256 bytes, 7 slashes */
    uint16_t keepalive_min_s;   /* AWS: 30 (1..29 raised) */
    uint16_t keepalive_max_s;   /* AWS: 1200 (0 and larger lowered) */
    uint8_t maximum_qos;        /* AWS: 1 */
    uint16_t client_id_max;     /* AWS: 128 bytes */
    uint32_t max_payload;       /* AWS: 128 KiB, larger disconnects */
    uint32_t max_packet;        /* v5 Maximum Packet Size we accept */
    uint16_t receive_maximum;   /* advertised in v5 CONNACK */
    uint16_t max_inflight;      /* outbound unacked QoS 1 per client */
    uint32_t max_queued;        /* per-session queue depth */
    uint16_t topic_alias_max;   /* AWS: 8 */
    uint16_t max_filters;       /* per SUBSCRIBE, AWS: 8 */
    uint32_t max_subscriptions; /* per connection, AWS: 50 */
    uint32_t session_expiry_default_s; /* AWS: 3600 (MQTT 3 persistent) */
    uint32_t session_expiry_max_s;     /* AWS: up to 7 days */
    uint32_t publish_rate;      /* inbound publishes/s per connection, 0 off */
    uint32_t rate_disconnect;   /* discarded in one second -> THROTTLED, 0 never */
    uint32_t throughput_bps;    /* inbound bytes/s per connection, 0 off */
    uint32_t connect_rate;      /* CONNECTs/s per client ID, 0 off */
    ic_qos2_sub_t qos2_subscribe;
    uint32_t max_retained;      /* retained messages kept, 0 = no limit */
} ic_profile_t;

void ic_profile_aws(ic_profile_t *p, const ic_config_t *cfg);

/* Keep-alive the server uses for a requested value (AWS 5.4). */
uint16_t ic_profile_keepalive(const ic_profile_t *p, uint16_t requested);

#endif
