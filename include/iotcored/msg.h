/* msg.h - an immutable, reference-counted application message.
 *
 * One ic_msg_t per PUBLISH accepted by the router, shared by every queue
 * that delivers it. Its PUBLISH encoding is made once per (protocol version,
 * QoS) on first use and shared by all subscribers of that kind: per
 * delivery only the first byte (DUP/QoS/RETAIN), the packet identifier and
 * the remaining message expiry differ, and those are supplied beside the
 * frame (holes at pid_off and exp_off), never written into it.
 */
#ifndef IOTCORED_MSG_H
#define IOTCORED_MSG_H

#include "iotcored/codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ic_frame_s {
    uint8_t *buf;     /* whole PUBLISH; buf[0] is a template byte */
    uint32_t len;     /* bytes */
    uint32_t pid_off; /* offset of the 2-byte packet id, 0 = none (QoS 0) */
    uint32_t exp_off; /* offset of the 4-byte message expiry, 0 = none */
} ic_frame_t;

typedef struct ic_msg_s {
    uint32_t refs;
    uint8_t qos;           /* as published: 0 or 1 */
    bool retain;           /* as published */
    bool is_will;          /* a Last Will: reserved-topic services ignore
                              it (aws-iot-dataplane.md 1.2) */
    uint8_t hops;          /* times republished by a rule (loop guard) */
    uint64_t id;           /* router sequence, for per-session dedupe */
    int64_t expires_at_ms; /* wall clock; 0 = never */
    int64_t at_ms;         /* wall clock when published (retained:
                              lastModifiedTime) */
    const void *origin;    /* publishing session (no-local), not owned */
    char *topic;           /* NUL-terminated, inline */
    uint16_t topic_len;
    uint8_t *payload;      /* inline */
    uint32_t payload_len;
    uint8_t *props;        /* encoded v5 properties to forward (payload
                              format, content type, response topic,
                              correlation data, user properties), inline */
    uint32_t props_len;
    ic_frame_t frames[2][2]; /* [is_v5][qos] lazily encoded */
} ic_msg_t;

/* Bounds for the v5 Message Expiry Interval (AWS: 1..604800 s, clamped). */
#define IC_MSG_EXPIRY_MAX_S 604800u

/* New message (refs = 1). props: decoded v5 PUBLISH or will properties, or
 * NULL. Message expiry is turned into an absolute deadline from now_ms.
 * Copies everything. */
ic_msg_t *ic_msg_new(const char *topic, size_t topic_len, const void *payload,
                     size_t payload_len, uint8_t qos, bool retain,
                     const ic_props_t *props, int64_t now_ms);
/* New message from stored parts: props_blob as in ic_msg_t.props. */
ic_msg_t *ic_msg_new_raw(const char *topic, size_t topic_len,
                         const void *payload, size_t payload_len, uint8_t qos,
                         bool retain, const void *props_blob, size_t props_len,
                         int64_t expires_at_ms);

static inline ic_msg_t *ic_msg_ref(ic_msg_t *m) {
    m->refs++;
    return m;
}
void ic_msg_unref(ic_msg_t *m); /* accepts NULL */

/* The shared PUBLISH frame for (version, qos); encoded on first call. */
const ic_frame_t *ic_msg_frame(ic_msg_t *m, uint8_t version, uint8_t qos);

bool ic_msg_is_expired(const ic_msg_t *m, int64_t now_ms);
/* Seconds left before expiry, rounded down (AWS); only if expires_at_ms. */
uint32_t ic_msg_expiry_left(const ic_msg_t *m, int64_t now_ms);

#endif
