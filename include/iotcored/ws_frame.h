/* ws_frame.h - WebSocket (RFC 6455) handshake maths and frame codec for
 * MQTT over WebSocket, server side (pure, L1).
 *
 * Three pieces, none of which does I/O, reads a clock or allocates on the
 * frame path:
 *   - the opening handshake: check an upgrade request the HTTP parser has
 *     produced, compute Sec-WebSocket-Accept, build the 101 response;
 *   - a streaming reader: raw bytes from the socket in (any split, any
 *     number of frames), events out. Binary and continuation payloads are
 *     unmasked in place in the caller's buffer and handed out as they
 *     arrive, because for MQTT the byte stream is the concatenation of the
 *     data frame payloads and message boundaries mean nothing [AWS IoT:
 *     "MQTT over the WebSocket protocol"];
 *   - a writer for server frames (never masked): a data frame header the
 *     caller puts in front of its own iovecs, and whole pong/close frames.
 *
 * Reading, in short (the connection layer):
 *
 *   uint8_t *p = bytes just read (plaintext, writable); size_t n;
 *   while (n > 0) {
 *       rc = ic_ws_reader_feed(&ws, p, n, &used, &ev);
 *       p += used; n -= used;
 *       if (rc < 0)   send close(ev.close_code), close when flushed; stop
 *       DATA:         feed ev.data/ev.len to the MQTT parser (its own
 *                     carry-over keeps a partial packet: the only copy)
 *       PING:         send ic_ws_write_pong(ev.data, ev.len)
 *       PONG:         nothing
 *       CLOSE:        send ic_ws_write_close(ev.close_code), close when
 *                     flushed; counts as an MQTT DISCONNECT by the client
 *   }
 * The reader consumes every byte it is given (a partial frame header is
 * kept inside it), so the transport never carries raw WebSocket bytes over
 * from one read to the next.
 *
 * References: RFC 6455 §4 (handshake), §5.2 (framing), §5.4 (fragments),
 * §5.5 (control frames), §7.4 (status codes); AWS IoT developer guide,
 * "MQTT over the WebSocket protocol" (subprotocol "mqtt").
 */
#ifndef IOTCORED_WS_FRAME_H
#define IOTCORED_WS_FRAME_H

#include "iotcored/buf.h"
#include "iotcored/http_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- constants ------------------------------------------------------------ */

#define IC_WS_VERSION "13"           /* the only Sec-WebSocket-Version */
#define IC_WS_ACCEPT_LEN 28          /* base64 of a SHA-1: 28 characters */
#define IC_WS_MAX_CONTROL_PAYLOAD 125 /* RFC 6455 §5.5 */
#define IC_WS_MAX_HEADER 10          /* server frame header: 2 + 8 (no mask) */
#define IC_WS_MAX_CONTROL_FRAME (2 + IC_WS_MAX_CONTROL_PAYLOAD) /* 127 */

/* Opcodes (RFC 6455 §5.2). */
typedef enum {
    IC_WS_OP_CONTINUATION = 0x0,
    IC_WS_OP_TEXT = 0x1,
    IC_WS_OP_BINARY = 0x2,
    IC_WS_OP_CLOSE = 0x8,
    IC_WS_OP_PING = 0x9,
    IC_WS_OP_PONG = 0xA,
} ic_ws_opcode_t;

/* Close status codes used here (RFC 6455 §7.4.1). */
#define IC_WS_CLOSE_NORMAL 1000
#define IC_WS_CLOSE_GOING_AWAY 1001
#define IC_WS_CLOSE_PROTOCOL_ERROR 1002
#define IC_WS_CLOSE_UNSUPPORTED_DATA 1003
#define IC_WS_CLOSE_NO_STATUS 1005   /* never on the wire: empty close */
#define IC_WS_CLOSE_INVALID_DATA 1007
#define IC_WS_CLOSE_POLICY 1008
#define IC_WS_CLOSE_TOO_BIG 1009
#define IC_WS_CLOSE_INTERNAL_ERROR 1011

/* Whether code may appear in a close frame: 1000-1003, 1007-1011 and
 * 3000-4999 (RFC 6455 §7.4.1-2). Everything else is refused: 0-999,
 * 1004-1006, 1012-2999 (1012-1014 were registered after RFC 6455 and
 * 1015 never goes on the wire; Autobahn case 7.9 refuses them too) and
 * 5000 up. */
bool ic_ws_close_code_is_valid(uint16_t code);

/* ---- handshake ------------------------------------------------------------ */

/* Sec-WebSocket-Accept for key: base64(SHA-1(key + "258EAFA5-E914-47DA-
 * 95CA-C5AB0DC85B11")) (RFC 6455 §1.3, §4.2.2), NUL-terminated, into out
 * (out parameter, 29 bytes). key (borrowed, NUL-terminated) must be the base64 form of 16
 * bytes: 22 characters of the base64 alphabet followed by "==" (the unused
 * low bits of the 22nd character are not checked, as lenient decoders do).
 * Returns 0, or IC_EINVAL for any other key (out is then ""). */
int ic_ws_accept_key(const char *key, char out[IC_WS_ACCEPT_LEN + 1]);

/* The subprotocol chosen for a connection. */
typedef enum {
    IC_WS_SUBPROTO_NONE = 0,  /* the client offered none: echo nothing */
    IC_WS_SUBPROTO_MQTT,      /* "mqtt" (AWS IoT, aws-c-mqtt, mqtt.js) */
    IC_WS_SUBPROTO_MQTTV31,   /* "mqttv3.1" (some older JS clients) */
} ic_ws_subproto_t;

/* Outcome of ic_ws_handshake_check. */
typedef struct ic_ws_handshake_s {
    int status;               /* 101 on success; else the HTTP status to
                                 answer: 400, or 426 (then add the header
                                 "Sec-WebSocket-Version: 13") */
    const char *why;          /* static reason for the log line and the
                                 error body; "" on success */
    ic_ws_subproto_t subproto;
    const char *protocol;     /* static "mqtt"/"mqttv3.1" to echo in
                                 Sec-WebSocket-Protocol, NULL for none */
    char accept[IC_WS_ACCEPT_LEN + 1]; /* Sec-WebSocket-Accept value; "" on
                                 failure */
} ic_ws_handshake_t;

/* Check that r (borrowed) is an acceptable WebSocket opening handshake
 * (RFC 6455 §4.2.1) and fill out (out parameter; always written):
 *   - method GET and HTTP/1.1 or later, a Host header;
 *   - Upgrade: a token list containing "websocket", and Connection: a
 *     token list containing "upgrade" ("keep-alive, Upgrade"), both
 *     case-insensitive, over every field of that name;
 *   - Sec-WebSocket-Version: exactly once, "13";
 *   - Sec-WebSocket-Key: exactly once, valid (see ic_ws_accept_key);
 *   - Sec-WebSocket-Protocol (every field, comma-separated tokens, compared
 *     case-sensitively): "mqtt" if offered, else "mqttv3.1" if offered;
 *     offered but neither: refused; not sent at all: accepted with
 *     IC_WS_SUBPROTO_NONE (the caller may refuse that).
 * The path, the query (SigV4), Origin and Sec-WebSocket-Extensions are
 * not looked at (no extension is ever negotiated).
 * Returns:
 *   0             acceptable: status 101, protocol and accept set;
 *   IC_EMALFORMED not a valid opening handshake (wrong method or version,
 *                 missing Host, Upgrade or Connection not asking for
 *                 websocket, missing or repeated Sec-WebSocket-Version,
 *                 missing, repeated or invalid Sec-WebSocket-Key): 400;
 *   IC_EPROTO     valid but unsupported: Sec-WebSocket-Version other than
 *                 13 (426), no acceptable subprotocol offered (400). */
int ic_ws_handshake_check(const ic_http_request_t *r, ic_ws_handshake_t *out);

/* Append the 101 response for an accepted hs (borrowed; status 101) to out
 * (borrowed, grows):
 *   HTTP/1.1 101 Switching Protocols\r\n
 *   Upgrade: websocket\r\n
 *   Connection: Upgrade\r\n
 *   Sec-WebSocket-Accept: <hs->accept>\r\n
 *   Sec-WebSocket-Protocol: <hs->protocol>\r\n   (only if protocol != NULL)
 *   \r\n
 * Returns 0, or IC_EINVAL (out untouched) if hs is not an accepted
 * handshake. */
int ic_ws_handshake_response(const ic_ws_handshake_t *hs, ic_buf_t *out);

/* ---- reader --------------------------------------------------------------- */

/* What ic_ws_reader_feed found. */
typedef enum {
    IC_WS_EV_NONE = 0,  /* no event: every byte given was consumed */
    IC_WS_EV_DATA,      /* payload bytes of a binary/continuation frame */
    IC_WS_EV_PING,      /* a whole ping: answer with a pong of data/len */
    IC_WS_EV_PONG,      /* a whole pong: ignore */
    IC_WS_EV_CLOSE,     /* a whole, valid close frame from the client */
} ic_ws_event_type_t;

typedef struct ic_ws_event_s {
    ic_ws_event_type_t type;
    const uint8_t *data;  /* DATA: unmasked bytes inside the caller's
                             buffer (p[0..n) of the call); PING/PONG:
                             payload; CLOSE: reason (valid UTF-8, not
                             NUL-terminated). PING/PONG/CLOSE bytes live in
                             the reader until its next call. NULL when
                             len == 0 */
    size_t len;           /* bytes at data; DATA: > 0; others: <= 123/125 */
    uint16_t close_code;  /* CLOSE: the code received, IC_WS_CLOSE_NO_STATUS
                             for an empty close; on error: the code to send
                             (1002, 1003, 1007 or 1009); else 0 */
    const char *why;      /* on error: static reason for the log, ASCII
                             and <= 123 bytes, so it can also be the reason
                             of the close frame sent back; else "" */
} ic_ws_event_t;

/* Server-side frame reader. Embed it (fixed size, no allocation); the
 * fields are private to ws_frame.c. */
typedef struct ic_ws_reader_s {
    uint64_t max_payload;   /* largest data frame payload accepted, bytes */
    uint64_t remaining;     /* payload bytes of the current frame to come */
    const char *why;        /* error: static reason */
    int err;                /* sticky error (negative IC_E*), 0 if none */
    uint16_t err_code;      /* close code that goes with err */
    uint8_t state;          /* header / data / control / closed / failed */
    uint8_t hdr[14];        /* the frame header so far */
    uint8_t hdr_len;        /* bytes in hdr */
    uint8_t hdr_need;       /* header size once known (2..14), else 2 */
    uint8_t opcode;         /* of the current frame */
    uint8_t mask[4];        /* masking key of the current frame */
    uint8_t mask_pos;       /* payload bytes unmasked so far, mod 4 */
    bool is_in_message;     /* a fragmented binary message is open */
    uint8_t ctl_len;        /* bytes in ctl */
    uint8_t ctl[IC_WS_MAX_CONTROL_PAYLOAD]; /* control frame payload */
} ic_ws_reader_t;

/* Get r (out parameter, caller's storage) ready for the first frame of a
 * connection. max_payload_bytes bounds the payload of one data frame
 * (binary or continuation); a frame declaring more is refused with 1009
 * from its header alone. Set it from the MQTT maximum packet size (plus
 * some slack if clients pack several packets into one frame). Nothing to
 * free. */
void ic_ws_reader_init(ic_ws_reader_t *r, uint64_t max_payload_bytes);

/* Feed bytes read from the client. p[0..n) is borrowed and WRITABLE: data
 * payloads are unmasked in place. *used (out) is set to the bytes consumed
 * (<= n) and *ev (out) to the event; call again with p + *used while bytes
 * remain. Returns the event type:
 *   IC_WS_EV_NONE  all n bytes consumed (*used == n), no event; a partial
 *                  header or control payload is kept in r;
 *   IC_WS_EV_DATA  ev->data = p + (*used - ev->len): the unmasked payload
 *                  bytes found, as many as p holds of the current frame
 *                  (never buffered, never a whole message);
 *   IC_WS_EV_PING / IC_WS_EV_PONG / IC_WS_EV_CLOSE: a whole control frame
 *                  (possibly between fragments of a message, as allowed).
 *                  After CLOSE the reader accepts nothing more.
 * or an error, after which r is dead and returns the same error and event
 * again (ev->close_code is the code to close with, ev->why the reason):
 *   IC_EMALFORMED a frame breaks RFC 6455: RSV bits set, unknown opcode,
 *                 unmasked client frame, control frame fragmented or over
 *                 125 bytes, 64-bit length with its top bit set, close
 *                 payload of 1 byte or with an invalid code (all 1002);
 *                 close reason not UTF-8 (1007);
 *   IC_EPROTO     continuation with no message open, or a new data frame
 *                 while one is open (1002); a text frame (1003: MQTT is
 *                 binary);
 *   IC_ETOOBIG    a data frame declares more than max_payload_bytes
 *                 (1009), decided before any of its payload is consumed;
 *   IC_ECLOSED    fed after a CLOSE event (*used = 0, close_code 0): bytes
 *                 after a close frame are to be dropped.
 * Lengths in 16/64-bit form are accepted even when a shorter form would
 * do. Empty data frames produce no event. */
int ic_ws_reader_feed(ic_ws_reader_t *r, uint8_t *p, size_t n, size_t *used,
                      ic_ws_event_t *ev);

/* ---- writer --------------------------------------------------------------- */

/* Write the header of a server frame (FIN as given, RSV 0, unmasked) with
 * opcode op and a payload of payload_len bytes into hdr (out parameter,
 * IC_WS_MAX_HEADER bytes): 2 bytes up to 125, 4 up to 65535, else 10.
 * The payload itself is not touched: put hdr in front of it in a writev.
 * Typical use: one binary frame around all the MQTT bytes of one flush.
 * Returns the header size, or IC_EINVAL for an unknown opcode, a control
 * frame without FIN or over 125 bytes, or payload_len >= 2^63. */
int ic_ws_frame_header(uint8_t hdr[IC_WS_MAX_HEADER], ic_ws_opcode_t op,
                       bool fin, uint64_t payload_len);

/* A whole pong frame echoing payload[0..len) (borrowed; may be NULL when
 * len is 0) into out (out parameter, IC_WS_MAX_CONTROL_FRAME bytes).
 * Returns the frame size (2 + len), or IC_EINVAL if len > 125. */
int ic_ws_write_pong(uint8_t out[IC_WS_MAX_CONTROL_FRAME],
                     const uint8_t *payload, size_t len);

/* A whole close frame into out (out parameter, IC_WS_MAX_CONTROL_FRAME
 * bytes): code (big-endian) then reason (borrowed, NUL-terminated, NULL
 * for none). code IC_WS_CLOSE_NO_STATUS makes an empty close frame (so the
 * code of a CLOSE event can be echoed as is; reason must then be NULL or
 * ""). Returns the frame size, or IC_EINVAL if code may not be sent (see
 * ic_ws_close_code_is_valid), or the reason is over 123 bytes or not
 * UTF-8. */
int ic_ws_write_close(uint8_t out[IC_WS_MAX_CONTROL_FRAME], uint16_t code,
                      const char *reason);

#endif
