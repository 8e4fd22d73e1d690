/* config_table.c - the directive table.
 *
 * One row per directive: the single place a directive is declared. The
 * parser, --dump-config, SIGHUP reload and the doc-drift test all walk it.
 * It holds data only; parsing lives in config.c.
 */
#include "iotcored/config.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

static const char *const log_levels[] = {"debug", "info", "notice", "warning",
                                         "error", NULL};
static const char *const sync_modes[] = {"normal", "full", NULL};
static const char *const protocols[] = {"mqtt", "alpn", "https", "control",
                                         NULL};
static const char *const control_auths[] = {"sigv4", "none", NULL};
static const char *const policy_modes[] = {"enforce", "audit", NULL};
static const char *const key_types[] = {"ecdsa", "rsa", NULL};
static const char *const cert_auths[] = {"registry", "ca", NULL};
static const char *const refusal_points[] = {"connect", "handshake", NULL};
static const char *const tls_modes[] = {"off", "on", "mutual", NULL};
static const char *const qos2_modes[] = {"no-suback", "grant-qos1",
                                         "disconnect", NULL};

static const char *check_account_id(const char *v) {
    size_t i;
    for (i = 0; v[i]; i++)
        if (!isdigit((unsigned char)v[i]))
            break;
    return (i == 12 && v[i] == '\0') ? NULL : "must be 12 digits";
}

static const char *check_region(const char *v) {
    size_t i;
    if (v[0] == '\0')
        return "must not be empty";
    for (i = 0; v[i]; i++)
        if (!islower((unsigned char)v[i]) && !isdigit((unsigned char)v[i]) &&
            v[i] != '-')
            return "must contain only a-z, 0-9 and '-'";
    return NULL;
}

static const char *check_url(const char *v) {
    if (v[0] == '\0' || strncmp(v, "http://", 7) == 0 ||
        strncmp(v, "https://", 8) == 0)
        return NULL;
    return "must be an http:// or https:// URL";
}

static const char *check_nonempty(const char *v) {
    return v[0] ? NULL : "must not be empty";
}

#define G(f) IC_CFG_GLOBAL, offsetof(ic_config_t, f)
#define L(f) IC_CFG_LISTENER, offsetof(ic_listener_conf_t, f)

static const ic_directive_t directives[] = {
    /* General */
    {"include", IC_CFG_GLOBAL, 0, IC_CFG_INCLUDE, 0, 0, NULL, false, NULL, NULL,
     "read another config file at this point (relative to this file)"},
    {"data_dir", G(data_dir), IC_CFG_PATH, 0, 0, "/var/lib/iotcored", false,
     NULL, check_nonempty, "directory holding the SQLite database iotcored.db"},
    {"log_level", G(log_level), IC_CFG_ENUM, 0, 0, "info", true, log_levels,
     NULL, "lowest level logged: debug, info, notice, warning, error"},
    {"log_file", G(log_file), IC_CFG_PATH, 0, 0, "", true, NULL, NULL,
     "append log lines to this file instead of stderr; reopened on SIGHUP"},
    {"ready_file", G(ready_file), IC_CFG_PATH, 0, 0, "", false, NULL, NULL,
     "write `NAME PORT` per listener here once all are bound"},
    {"account_id", G(account_id), IC_CFG_STRING, 0, 0, "123456789012", false,
     NULL, check_account_id, "AWS account ID used in ARNs"},
    {"region", G(region), IC_CFG_STRING, 0, 0, "us-east-1", false, NULL,
     check_region, "AWS region used in ARNs and endpoint names"},
    /* TLS */
    {"endpoint", G(endpoint), IC_CFG_STRING, 0, 0, "", false, NULL, NULL,
     "endpoint host name; empty = iotcored-ats.iot.REGION.amazonaws.com"},
    {"tls_cert", G(tls_cert), IC_CFG_PATH, 0, 0, "", true, NULL, NULL,
     "server certificate chain (PEM); empty = generated in data_dir"},
    {"tls_key", G(tls_key), IC_CFG_PATH, 0, 0, "", true, NULL, NULL,
     "private key of tls_cert (PEM); empty = generated in data_dir"},
    {"tls_ca", G(tls_ca), IC_CFG_PATH, 0, 0, "", true, NULL, NULL,
     "CA certificates that sign device certificates; empty = the local CA"},
    {"cert_auth", G(cert_auth), IC_CFG_ENUM, 0, 0, "registry", false, cert_auths,
     NULL, "device certificates accepted: registry (registered and ACTIVE, as "
           "AWS) or ca (any chaining to tls_ca)"},
    {"cert_refusal", G(cert_refusal), IC_CFG_ENUM, 0, 0, "connect", false,
     refusal_points, NULL,
     "where a refused device certificate is turned away: connect (after the "
     "handshake, at CONNECT) or handshake (TLS alert)"},
    {"ca_key_type", G(ca_key_type), IC_CFG_ENUM, 0, 0, "ecdsa", false, key_types,
     NULL, "key of a generated local CA and server certificate: ecdsa (P-256) "
           "or rsa (2048)"},
    {"tls_require_sni", G(tls_require_sni), IC_CFG_BOOL, 0, 0, "off", false,
     NULL, NULL, "refuse TLS handshakes that carry no SNI host name"},
    /* Store */
    {"persistence_sync", G(persistence_sync), IC_CFG_ENUM, 0, 0, "normal",
     false, sync_modes, NULL,
     "SQLite durability: normal survives a crash, full also a power loss"},
    /* MQTT broker */
    {"max_payload_size", G(max_payload_size), IC_CFG_SIZE, 1, 268435455,
     "128K", false, NULL, NULL,
     "largest PUBLISH payload; a larger one disconnects the client"},
    {"max_packet_size", G(max_packet_size), IC_CFG_SIZE, 64, 268435460,
     "146K", false, NULL, NULL,
     "largest MQTT packet accepted (MQTT 5 CONNACK Maximum Packet Size)"},
    {"max_topic_length", G(max_topic_length), IC_CFG_INT, 1, 65535, "256",
     false, NULL, NULL, "longest topic name or filter, in bytes"},
    {"max_topic_slashes", G(max_topic_slashes), IC_CFG_INT, 0, 1000, "7",
     false, NULL, NULL, "most '/' characters in a topic name or filter"},
    {"keepalive_min", G(keepalive_min), IC_CFG_INT, 1, 65535, "30", false,
     NULL, NULL, "smaller requested keep-alives are raised to this (seconds)"},
    {"keepalive_max", G(keepalive_max), IC_CFG_INT, 1, 65535, "1200", false,
     NULL, NULL, "0 and larger keep-alives are lowered to this (seconds)"},
    {"receive_maximum", G(receive_maximum), IC_CFG_INT, 1, 65535, "100",
     false, NULL, NULL, "MQTT 5 Receive Maximum sent in CONNACK"},
    {"max_inflight_messages", G(max_inflight_messages), IC_CFG_INT, 1, 65535,
     "100", false, NULL, NULL, "outbound unacknowledged QoS 1 per client"},
    {"max_queued_messages", G(max_queued_messages), IC_CFG_INT, 0, 10000000,
     "1000", false, NULL, NULL,
     "QoS 1 messages queued per session beyond the in-flight window"},
    {"topic_alias_maximum", G(topic_alias_maximum), IC_CFG_INT, 0, 65535, "8",
     false, NULL, NULL, "MQTT 5 Topic Alias Maximum sent in CONNACK"},
    {"max_filters_per_subscribe", G(max_filters_per_subscribe), IC_CFG_INT, 1,
     65535, "8", false, NULL, NULL,
     "topic filters honoured per SUBSCRIBE; the rest are refused"},
    {"max_subscriptions_per_connection", G(max_subscriptions_per_connection),
     IC_CFG_INT, 1, 10000000, "50", false, NULL, NULL,
     "subscriptions one session may hold"},
    {"session_expiry_default", G(session_expiry_default), IC_CFG_DURATION, 0,
     INT64_C(31536000000), "1h", false, NULL, NULL,
     "expiry of MQTT 3.1.1 persistent sessions"},
    {"session_expiry_max", G(session_expiry_max), IC_CFG_DURATION, 0,
     INT64_C(31536000000), "7d", false, NULL, NULL,
     "cap on the MQTT 5 Session Expiry Interval"},
    {"publish_rate_limit", G(publish_rate_limit), IC_CFG_INT, 0, 100000000,
     "100", false, NULL, NULL,
     "inbound publishes per second per connection, excess discarded (0 = off)"},
    {"publish_rate_disconnect", G(publish_rate_disconnect), IC_CFG_INT, 0, 100000000,
     "0", false, NULL, NULL,
     "publishes discarded by publish_rate_limit within one second that close the "
     "connection with lifecycle reason THROTTLED (0 = never, as AWS)"},
    {"throughput_limit", G(throughput_limit), IC_CFG_SIZE, 0,
     INT64_C(1099511627776), "512K", false, NULL, NULL,
     "inbound bytes per second per connection, excess delayed (0 = off)"},
    {"connect_rate_limit", G(connect_rate_limit), IC_CFG_INT, 0, 1000000, "1",
     false, NULL, NULL, "CONNECTs per second per client ID (0 = off)"},
    {"qos2_subscribe", G(qos2_subscribe), IC_CFG_ENUM, 0, 0, "no-suback",
     false, qos2_modes, NULL,
     "answer to a SUBSCRIBE asking QoS 2: no-suback, grant-qos1, disconnect"},
    {"max_retained_messages", G(max_retained_messages), IC_CFG_INT, 0,
     100000000, "100000", false, NULL, NULL,
     "retained messages kept; at the maximum new ones are refused (0 = no limit)"},
    {"max_connections", G(max_connections), IC_CFG_INT, 0, 10000000, "100000",
     false, NULL, NULL,
     "concurrent client connections; more are closed at accept (0 = no limit)"},
    /* Device Shadow */
    {"shadow_max_document_size", G(shadow_max_document_size), IC_CFG_SIZE, 1024,
     1048576, "8K", false, NULL, NULL,
     "largest desired + reported of a shadow (413 beyond; AWS: 8 KB)"},
    {"shadow_max_depth", G(shadow_max_depth), IC_CFG_INT, 1, 32, "6", false, NULL,
     NULL, "deepest nesting in desired or reported (AWS: 6)"},
    {"shadow_version_window", G(shadow_version_window), IC_CFG_DURATION, 0,
     31536000000LL, "2d", false, NULL, NULL,
     "a shadow re-created this soon after its deletion continues its version"},
    /* Rules Engine */
    {"rules_sql_error_action", G(rules_sql_error_action), IC_CFG_BOOL, 0, 0,
     "off", false, NULL, NULL,
     "also run a rule's error action when its SQL fails (AWS: only actions)"},
    {"rules_max_republish_depth", G(rules_max_republish_depth), IC_CFG_INT, 1,
     64, "8", false, NULL, NULL,
     "republish hops after which a message is not republished again (loops)"},
    {"rules_queue_max", G(rules_queue_max), IC_CFG_INT, 1, 10000000, "100000",
     false, NULL, NULL,
     "messages waiting for rules; beyond it they are dropped for rules"},
    {"rules_http_timeout", G(rules_http_timeout), IC_CFG_DURATION, 100, 60000,
     "3s", false, NULL, NULL,
     "time an http or AWS-service action may take, retries included"},
    {"aws_service_endpoint", G(aws_service_endpoint), IC_CFG_STRING, 0, 0, "",
     false, NULL, check_url,
     "AWS-compatible endpoint (LocalStack, moto) for the actions of other AWS "
     "services; empty: those actions fail into the error action"},
    {"aws_service_region", G(aws_service_region), IC_CFG_STRING, 0, 0, "", false,
     NULL, NULL, "region the forwarded calls are signed for (empty: region)"},
    {"aws_service_access_key", G(aws_service_access_key), IC_CFG_STRING, 0, 0,
     "", false, NULL, NULL,
     "access key ID for the forwarded calls (empty: the first credentials)"},
    {"aws_service_secret_key", G(aws_service_secret_key), IC_CFG_STRING, 0, 0,
     "", false, NULL, NULL, "its secret key"},
    /* Custom authorizers */
    {"authorizer_function", G(authorizer_functions), IC_CFG_PAIRS, 0, 0, NULL,
     true, NULL, NULL,
     "ARN URL: run the custom authorizer function ARN (\"*\": any) by POSTing "
     "AWS's event JSON to URL (repeatable); unmapped functions go to Lambda "
     "Invoke on aws_service_endpoint"},
    /* Control plane */
    {"credentials", G(credentials), IC_CFG_PAIRS, 0, 0, NULL, true, NULL, NULL,
     "ACCESS_KEY_ID SECRET: credentials accepted in SigV4 signatures "
     "(repeatable)"},
    {"credentials_policy", G(credentials_policy), IC_CFG_PAIRS, 0, 0, NULL, true, NULL,
     NULL, "ACCESS_KEY_ID POLICY: data-plane callers signing with that key (HTTPS, "
     "MQTT over WebSocket) are authorized by that IoT policy instead of allowed "
     "everything (repeatable)"},
    {"control_auth", G(control_auth), IC_CFG_ENUM, 0, 0, "sigv4", true,
     control_auths, NULL,
     "sigv4 (every control-plane request signed) or none (no check; logged)"},
    {"policy_mode", G(policy_mode), IC_CFG_ENUM, 0, 0, "enforce", true,
     policy_modes, NULL,
     "enforce IoT policies, or audit (allow, and log what would be denied)"},
    {"seed", G(seed), IC_CFG_PATH, 0, 0, "", false, NULL, NULL,
     "JSON file of policies, things, groups and certificates applied at start"},
    {"http_max_body_size", G(http_max_body_size), IC_CFG_SIZE, 1024,
     67108864, "1M", true, NULL, NULL,
     "largest HTTP request body accepted (413 beyond)"},
    {"http_max_header_size", G(http_max_header_size), IC_CFG_SIZE, 1024,
     1048576, "16K", true, NULL, NULL,
     "largest HTTP request line plus headers accepted (431 beyond)"},
    {"websocket_max_lifetime", G(websocket_max_lifetime), IC_CFG_DURATION, 0,
     31536000000LL, "24h", false, NULL, NULL,
     "MQTT over WebSocket connections are closed after this long "
     "(WEBSOCKET_TTL_EXPIRATION; 0 = never; AWS: 24 h)"},
    {"http_idle_timeout", G(http_idle_timeout), IC_CFG_DURATION, 1000,
     86400000, "60s", true, NULL, NULL,
     "an HTTP connection idle this long is closed"},
    /* Listeners */
    {"listener", IC_CFG_GLOBAL, 0, IC_CFG_BLOCK, 0, 0, NULL, false, NULL, NULL,
     "open a listener block named NAME"},
    {"bind", L(bind), IC_CFG_STRING, 0, 0, "0.0.0.0", false, NULL,
     check_nonempty, "IPv4 or IPv6 address the listener binds"},
    {"port", L(port), IC_CFG_INT, 0, 65535, "8883", false, NULL, NULL,
     "TCP port; 0 picks a free one (see ready_file)"},
    {"protocol", L(protocol), IC_CFG_ENUM, 0, 0, "mqtt", false, protocols,
     NULL, "what the listener speaks: mqtt, alpn, https or control"},
    {"tls", L(tls), IC_CFG_ENUM, 0, 0, "mutual", false, tls_modes, NULL,
     "off (plaintext), on (server certificate), mutual (client certificate "
     "required)"},
    {"listener_policy", L(listener_policy), IC_CFG_STRING, 0, 0, "", false,
     NULL, NULL,
     "named IoT policy in effect for every connection of this listener, in "
     "addition to its principal's"},
};

const ic_directive_t *ic_config_directives(size_t *n) {
    *n = sizeof(directives) / sizeof(directives[0]);
    return directives;
}

const ic_directive_t *ic_config_find(const char *name) {
    size_t i;
    for (i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
        if (strcmp(directives[i].name, name) == 0)
            return &directives[i];
    return NULL;
}
