/* profile.c - the AWS IoT Core broker profile.
 *
 * Owns the mapping from config directives to broker behaviour. Pure: reads
 * the config it is given, nothing else.
 */
#include "iotcored/profile.h"

void ic_profile_aws(ic_profile_t *p, const ic_config_t *cfg) {
    p->name = "aws";
    p->hash_matches_parent = false; /* AWS: topics.md */
    p->retain_exact_only = true;    /* AWS: mqtt.html retained messages */
    p->refuse_dollar_client_id = true;
    p->topic.max_bytes = (size_t)cfg->max_topic_length;
    p->topic.max_slashes = cfg->max_topic_slashes;
    p->keepalive_min_s = (uint16_t)cfg->keepalive_min;
    p->keepalive_max_s = (uint16_t)cfg->keepalive_max;
    p->maximum_qos = 1;
    p->client_id_max = 128;
    p->max_payload = (uint32_t)cfg->max_payload_size;
    p->max_packet = (uint32_t)cfg->max_packet_size;
    p->receive_maximum = (uint16_t)cfg->receive_maximum;
    p->max_inflight = (uint16_t)cfg->max_inflight_messages;
    p->max_queued = (uint32_t)cfg->max_queued_messages;
    p->topic_alias_max = (uint16_t)cfg->topic_alias_maximum;
    p->max_filters = (uint16_t)cfg->max_filters_per_subscribe;
    p->max_subscriptions = (uint32_t)cfg->max_subscriptions_per_connection;
    p->session_expiry_default_s = (uint32_t)(cfg->session_expiry_default / 1000);
    p->session_expiry_max_s = (uint32_t)(cfg->session_expiry_max / 1000);
    p->publish_rate = (uint32_t)cfg->publish_rate_limit;
    p->rate_disconnect = (uint32_t)cfg->publish_rate_disconnect;
    p->throughput_bps = (uint32_t)cfg->throughput_limit;
    p->connect_rate = (uint32_t)cfg->connect_rate_limit;
    p->qos2_subscribe = (ic_qos2_sub_t)cfg->qos2_subscribe;
    p->max_retained = (uint32_t)cfg->max_retained_messages;
}

uint16_t ic_profile_keepalive(const ic_profile_t *p, uint16_t requested) {
    if (requested == 0 || requested > p->keepalive_max_s)
        return p->keepalive_max_s; /* AWS 5.4: 0 or > 1200 -> 1200 */
    if (requested < p->keepalive_min_s)
        return p->keepalive_min_s; /* AWS 5.4: 1..29 -> 30 */
    return requested;
}
