/* codec.h - MQTT 3.1.1 and 5.0 packets: decode and encode, no I/O.
 *
 * ic_codec_decode follows the picohttpparser contract: it returns the number
 * of bytes the packet used (> 0), IC_EAGAIN when more input is needed (and
 * then has no side effect), or a negative error. Decoded packets are views:
 * every ic_bytes_t points into the caller's input buffer and is valid only as
 * long as those bytes are. Nothing here allocates.
 *
 * Errors:
 *   IC_EMALFORMED  the bytes violate the packet format (bad varint, reserved
 *                  flags, bad UTF-8, truncated fields, duplicate property,
 *                  property not allowed in this packet, bad property value,
 *                  remaining length not matching the contents);
 *   IC_EPROTO      well-formed but a protocol error (unknown packet type 0,
 *                  AUTH in 3.1.1, QoS 3, unsupported protocol name/level);
 *   IC_ETOOBIG     the remaining length exceeds max_packet (decided from the
 *                  fixed header alone, before the body arrives).
 * On error, pkt->why names the rule that failed (static string).
 *
 * Encoding appends one whole packet to an ic_buf_t. Properties are written
 * in ascending identifier order, user properties last in their given order,
 * so golden vectors in that canonical order round-trip byte for byte.
 */
#ifndef IOTCORED_CODEC_H
#define IOTCORED_CODEC_H

#include "iotcored/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IC_MQTT_V311 4 /* protocol level of MQTT 3.1.1 */
#define IC_MQTT_V5 5

typedef enum {
    IC_MQTT_CONNECT = 1,
    IC_MQTT_CONNACK = 2,
    IC_MQTT_PUBLISH = 3,
    IC_MQTT_PUBACK = 4,
    IC_MQTT_PUBREC = 5,
    IC_MQTT_PUBREL = 6,
    IC_MQTT_PUBCOMP = 7,
    IC_MQTT_SUBSCRIBE = 8,
    IC_MQTT_SUBACK = 9,
    IC_MQTT_UNSUBSCRIBE = 10,
    IC_MQTT_UNSUBACK = 11,
    IC_MQTT_PINGREQ = 12,
    IC_MQTT_PINGRESP = 13,
    IC_MQTT_DISCONNECT = 14,
    IC_MQTT_AUTH = 15,
} ic_mqtt_type_t;

/* A view of bytes owned by someone else. */
typedef struct ic_bytes_s {
    const uint8_t *p;
    size_t len;
} ic_bytes_t;

/* MQTT 5 property identifiers [MQTT-2.2.2.2]. */
enum {
    IC_PROP_PAYLOAD_FORMAT = 0x01,
    IC_PROP_MESSAGE_EXPIRY = 0x02,
    IC_PROP_CONTENT_TYPE = 0x03,
    IC_PROP_RESPONSE_TOPIC = 0x08,
    IC_PROP_CORRELATION_DATA = 0x09,
    IC_PROP_SUBSCRIPTION_ID = 0x0B,
    IC_PROP_SESSION_EXPIRY = 0x11,
    IC_PROP_ASSIGNED_CLIENT_ID = 0x12,
    IC_PROP_SERVER_KEEP_ALIVE = 0x13,
    IC_PROP_AUTH_METHOD = 0x15,
    IC_PROP_AUTH_DATA = 0x16,
    IC_PROP_REQUEST_PROBLEM_INFO = 0x17,
    IC_PROP_WILL_DELAY = 0x18,
    IC_PROP_REQUEST_RESPONSE_INFO = 0x19,
    IC_PROP_RESPONSE_INFO = 0x1A,
    IC_PROP_SERVER_REFERENCE = 0x1C,
    IC_PROP_REASON_STRING = 0x1F,
    IC_PROP_RECEIVE_MAXIMUM = 0x21,
    IC_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,
    IC_PROP_TOPIC_ALIAS = 0x23,
    IC_PROP_MAXIMUM_QOS = 0x24,
    IC_PROP_RETAIN_AVAILABLE = 0x25,
    IC_PROP_USER = 0x26,
    IC_PROP_MAXIMUM_PACKET_SIZE = 0x27,
    IC_PROP_WILDCARD_SUB_AVAILABLE = 0x28,
    IC_PROP_SUB_ID_AVAILABLE = 0x29,
    IC_PROP_SHARED_SUB_AVAILABLE = 0x2A,
};

/* Bit for property id in ic_props_t.present. */
#define IC_PROP_BIT(id) (UINT64_C(1) << (id))

/* Decoded or to-be-encoded MQTT 5 properties. A field is meaningful only
 * when its bit is set in `present` (user properties: when n_user > 0). */
typedef struct ic_props_s {
    uint64_t present;             /* IC_PROP_BIT(id) per property present */
    uint8_t payload_format;       /* 0 or 1 */
    uint32_t message_expiry;      /* seconds */
    ic_bytes_t content_type;      /* UTF-8 */
    ic_bytes_t response_topic;    /* UTF-8 */
    ic_bytes_t correlation_data;  /* binary */
    uint32_t subscription_id;     /* 1..268435455 (first one only) */
    uint32_t session_expiry;      /* seconds */
    ic_bytes_t assigned_client_id;
    uint16_t server_keep_alive;   /* seconds */
    ic_bytes_t auth_method;
    ic_bytes_t auth_data;
    uint8_t request_problem_info; /* 0 or 1 */
    uint32_t will_delay;          /* seconds */
    uint8_t request_response_info;/* 0 or 1 */
    ic_bytes_t response_info;
    ic_bytes_t server_reference;
    ic_bytes_t reason_string;
    uint16_t receive_maximum;     /* >= 1 */
    uint16_t topic_alias_maximum;
    uint16_t topic_alias;         /* >= 1 */
    uint8_t maximum_qos;          /* 0 or 1 */
    uint8_t retain_available;
    uint32_t maximum_packet_size; /* >= 1 */
    uint8_t wildcard_sub_available;
    uint8_t sub_id_available;
    uint8_t shared_sub_available;
    /* User properties, order preserved. Decode: n_user counts them and
     * user_raw views the concatenated encoded entries ONLY when they were
     * contiguous in the input; use ic_props_user_copy for the general case.
     * Encode: user_raw holds pre-encoded entries (0x26, key, value)... and
     * is appended verbatim after the other properties. */
    size_t n_user;
    ic_bytes_t user_raw;
    ic_bytes_t block;             /* decode: the whole property block */
} ic_props_t;

typedef struct ic_will_s {
    ic_bytes_t topic;
    ic_bytes_t payload;
    uint8_t qos;
    bool retain;
    ic_props_t props; /* v5 will properties */
} ic_will_t;

typedef struct ic_connect_s {
    uint8_t version;   /* IC_MQTT_V311 or IC_MQTT_V5 */
    bool clean_start;  /* 3.1.1: clean session */
    uint16_t keep_alive;
    ic_bytes_t client_id;
    bool has_will;
    ic_will_t will;
    bool has_username;
    ic_bytes_t username;
    bool has_password;
    ic_bytes_t password;
    ic_props_t props;
} ic_connect_t;

typedef struct ic_connack_s {
    bool session_present;
    uint8_t rc; /* 3.1.1 return code or v5 reason code */
    ic_props_t props;
} ic_connack_t;

typedef struct ic_publish_s {
    bool dup;
    uint8_t qos; /* 0, 1 or 2 */
    bool retain;
    ic_bytes_t topic;    /* may be empty in v5 with a topic alias */
    uint16_t packet_id;  /* qos > 0 only */
    ic_props_t props;
    ic_bytes_t payload;
} ic_publish_t;

/* PUBACK, PUBREC, PUBREL, PUBCOMP, and (rc/props only) DISCONNECT, AUTH. */
typedef struct ic_ack_s {
    uint16_t packet_id;
    uint8_t rc; /* v5 reason code; 0 when absent */
    ic_props_t props;
} ic_ack_t;

/* Options byte of a SUBSCRIBE entry [MQTT-3.8.3.1]. */
#define IC_SUBOPT_QOS(o) ((o) & 0x03)
#define IC_SUBOPT_NO_LOCAL 0x04
#define IC_SUBOPT_RAP 0x08 /* retain as published */
#define IC_SUBOPT_RH(o) (((o) >> 4) & 0x03) /* retain handling */

#define IC_MQTT_MAX_ENTRIES 32 /* entries kept per SUBSCRIBE/UNSUBSCRIBE */

typedef struct ic_sub_entry_s {
    ic_bytes_t filter;
    uint8_t opts; /* SUBSCRIBE only */
} ic_sub_entry_t;

/* SUBSCRIBE and UNSUBSCRIBE. n_total counts every entry in the packet;
 * only the first min(n_total, IC_MQTT_MAX_ENTRIES) are in `e`. */
typedef struct ic_subscribe_s {
    uint16_t packet_id;
    ic_props_t props;
    size_t n_total;
    ic_sub_entry_t e[IC_MQTT_MAX_ENTRIES];
} ic_subscribe_t;

/* SUBACK and UNSUBACK (3.1.1 UNSUBACK has no codes). */
typedef struct ic_suback_s {
    uint16_t packet_id;
    ic_props_t props;
    ic_bytes_t rcs; /* one code per entry */
} ic_suback_t;

typedef struct ic_packet_s {
    uint8_t type;           /* ic_mqtt_type_t */
    uint8_t flags;          /* low nibble of the fixed header */
    uint32_t remaining;     /* remaining length */
    const char *why;        /* on error: the rule that failed */
    union {
        ic_connect_t connect;
        ic_connack_t connack;
        ic_publish_t publish;
        ic_ack_t ack;       /* PUBACK..PUBCOMP, DISCONNECT, AUTH */
        ic_subscribe_t subscribe; /* SUBSCRIBE, UNSUBSCRIBE */
        ic_suback_t suback; /* SUBACK, UNSUBACK */
    } u;
} ic_packet_t;

/* Decode one packet from buf[0..len). `version` is the connection's
 * protocol level (IC_MQTT_V311/V5); CONNECT carries its own and ignores it.
 * max_packet bounds the whole packet size in bytes (fixed header included).
 * Returns bytes consumed, IC_EAGAIN, IC_EMALFORMED, IC_EPROTO or IC_ETOOBIG.
 * Server-bound and client-bound packets both decode (tests, bench client). */
int ic_codec_decode(const uint8_t *buf, size_t len, uint8_t version,
                    uint32_t max_packet, ic_packet_t *pkt);

/* Append pkt, encoded for `version`, to out. pkt->type selects the union
 * member; pkt->flags is ignored (derived from the fields). Properties are
 * written only for v5. Returns 0, or IC_EINVAL if a field cannot be encoded
 * (string over 65535 bytes, remaining length over 268435455). */
int ic_codec_encode(ic_buf_t *out, uint8_t version, const ic_packet_t *pkt);

/* Encoded size of the property block of p, length prefix excluded. */
size_t ic_props_size(const ic_props_t *p);
/* Append the property block (varint length + properties) to out. */
void ic_props_encode(ic_buf_t *out, const ic_props_t *p);
/* Decode a property block (varint length + properties) at p[0..len) for
 * packet type `type` (IC_MQTT_* or 0 for will properties). Returns bytes
 * used or IC_EMALFORMED (why set). Checks: allowed in this packet, no
 * duplicates except user properties, valid UTF-8, value ranges. */
int ic_props_decode(const uint8_t *p, size_t len, uint8_t type,
                    ic_props_t *out, const char **why);
/* Bytes needed for the encoded user property entries of a decoded p. */
size_t ic_props_user_size(const ic_props_t *p);
/* Copy the encoded user property entries of a decoded p, in order, to out
 * (ic_props_user_size bytes). */
void ic_props_user_copy(const ic_props_t *p, uint8_t *out);

/* Whether s[0..len) is well-formed MQTT UTF-8: valid UTF-8, no U+0000, no
 * surrogates [MQTT-1.5.4-1..2]. */
bool ic_codec_is_utf8(const uint8_t *s, size_t len);

#endif
