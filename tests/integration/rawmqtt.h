/* rawmqtt.h - a byte-exact MQTT client for integration tests, built on the
 * project's own codec: send any packet (or raw bytes), read packets back
 * with deadlines, see exactly what the broker answers. */
#ifndef IOTCORED_RAWMQTT_H
#define IOTCORED_RAWMQTT_H

#include "iotcored/codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rm_s {
    int fd;
    uint8_t version;
    ic_buf_t in;    /* received bytes */
    size_t used;    /* bytes of the packet returned last (dropped next) */
} rm_t;

/* Connect TCP to 127.0.0.1:port; fails the test if it cannot. */
void rm_open(rm_t *c, int port, uint8_t version);
void rm_close(rm_t *c);
void rm_send(rm_t *c, const ic_packet_t *p);
void rm_send_raw(rm_t *c, const void *p, size_t n);
/* Next packet within timeout_ms: 0 = got one (views valid until the next
 * call), -1 = timeout, -2 = connection closed by the broker. */
int rm_recv(rm_t *c, ic_packet_t *p, int timeout_ms);
/* Expect a packet of `type` next (fails the test otherwise). */
void rm_expect(rm_t *c, uint8_t type, ic_packet_t *p, int timeout_ms);
/* Expect the broker to close the connection (after discarding packets,
 * which are returned in *last if not NULL: the last one seen). Returns
 * true if closed within timeout_ms. */
bool rm_expect_close(rm_t *c, int timeout_ms, uint8_t *last_type,
                     uint8_t *last_rc);

/* CONNECT with the given fields and read the CONNACK into *ack (views into
 * c->in). props may be NULL. */
void rm_connect(rm_t *c, const char *client_id, bool clean, uint16_t keepalive,
                const ic_props_t *props, ic_packet_t *ack);
void rm_publish(rm_t *c, const char *topic, const char *payload, uint8_t qos,
                bool retain, uint16_t pid, const ic_props_t *props);
void rm_subscribe(rm_t *c, uint16_t pid, const char *const *filters,
                  const uint8_t *opts, size_t n);

/* Acknowledge a received QoS 1 PUBLISH. */
void rm_puback(rm_t *c, uint16_t pid);
/* A PINGREQ/PINGRESP round trip: everything the broker sent before the
 * PINGRESP must have been read already (fails the test otherwise). */
void rm_ping(rm_t *c);
/* Send DISCONNECT (v5 reason rc), expect the close, release c. */
void rm_disconnect(rm_t *c, uint8_t rc);

#endif
