/* ws_frame.c - WebSocket (RFC 6455) handshake maths and frame codec, server
 * side (pure, L1).
 *
 * Job: decide whether an upgrade request is an acceptable opening
 * handshake and compute its answer; turn the client's frames into MQTT
 * bytes and control events; encode the server's frames. Owns only the
 * reader's fixed-size state (a partial header, one control payload, the
 * fragmentation flag). Must not: do I/O, allocate per frame, buffer data
 * payloads, read the clock, or decide what a close or an error means for
 * the MQTT session (the transport and proto.c do). Any thread; no globals.
 *
 * The reader is a byte-driven state machine:
 *
 *            +-----------+  header complete, data frame  +--------+
 *     +----->|  HEADER   |------------------------------>|  DATA  |--+
 *     |      | (2..14 B) |<------------------------------| (in    |  |
 *     |      +-----------+  payload done (or empty)      | place) |<-+
 *     |        |   |   \                                 +--------+
 *     |        |   |    \ header complete, control frame
 *     |        |   |     v
 *     |        |   |   +-----------+  ping/pong done
 *     |        |   |   |  CONTROL  |-------------------------+
 *     |        |   |   | (<=125 B) |---- close done ---> CLOSED
 *     |        |   |   +-----------+
 *     |        |   +--- any violation (from any state) ---> FAILED
 *     +--------+-------------------------------------------------+
 *
 * Header rules are checked at the earliest byte that decides them: byte 0
 * (RSV, opcode, FIN of control frames, fragmentation order, text), byte 1
 * (mask bit, control length), the end of the extended length (top bit,
 * max_payload: 1009 before the masking key or any payload byte is taken).
 * Invariants: hdr_len < hdr_need while in HEADER; remaining is the payload
 * still to come in DATA/CONTROL; ctl_len + remaining <= 125 in CONTROL.
 *
 * References: RFC 6455 §4.2 (server handshake), §5.2-5.5 (framing, masking,
 * fragmentation, control frames), §7.4 (status codes), §8.1 (UTF-8).
 */
#include "iotcored/ws_frame.h"
#include "iotcored/str.h"

#include "iotcored/error.h"

#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" /* RFC 6455 §1.3 */
#define KEY_LEN 24 /* base64 of 16 bytes */

enum { ST_HEADER, ST_DATA, ST_CONTROL, ST_CLOSED, ST_FAILED };

/* ---- shared helpers ------------------------------------------------------- */

bool ic_ws_close_code_is_valid(uint16_t code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}


/* ---- handshake ------------------------------------------------------------ */

static bool is_b64(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static bool key_is_valid(const char *key) {
    size_t i;
    if (key == NULL || strlen(key) != KEY_LEN)
        return false;
    for (i = 0; i < KEY_LEN - 2; i++)
        if (!is_b64(key[i]))
            return false;
    return key[KEY_LEN - 2] == '=' && key[KEY_LEN - 1] == '=';
}

int ic_ws_accept_key(const char *key, char out[IC_WS_ACCEPT_LEN + 1]) {
    uint8_t in[KEY_LEN + sizeof(WS_GUID)];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    out[0] = '\0';
    if (!key_is_valid(key))
        return IC_EINVAL;
    memcpy(in, key, KEY_LEN);
    memcpy(in + KEY_LEN, WS_GUID, sizeof(WS_GUID) - 1);
    if (EVP_Digest(in, KEY_LEN + sizeof(WS_GUID) - 1, md, &md_len,
                   EVP_sha1(), NULL) != 1 ||
        md_len != 20)
        return IC_EINVAL; /* unreachable with a working libcrypto */
    if (EVP_EncodeBlock((unsigned char *)out, md, 20) != IC_WS_ACCEPT_LEN) {
        out[0] = '\0';
        return IC_EINVAL;
    }
    return 0;
}

/* Whether the comma-separated list v contains token tok (optional SP/HTAB
 * around elements, empty elements skipped). */
static bool list_has(const char *v, const char *tok, bool is_ci) {
    size_t tlen = strlen(tok);
    while (*v != '\0') {
        const char *s, *e;
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        s = v;
        while (*v != '\0' && *v != ',')
            v++;
        e = v;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == tlen &&
            (is_ci ? strncasecmp(s, tok, tlen) : strncmp(s, tok, tlen)) == 0)
            return true;
    }
    return false;
}

/* Over every field called name: how many there are, and whether any of
 * them lists tok (tok may be NULL). *first gets the first value. */
static size_t fields(const ic_http_request_t *r, const char *name,
                     const char *tok, bool is_ci, bool *has,
                     const char **first) {
    size_t i, n = 0;
    if (has)
        *has = false;
    if (first)
        *first = NULL;
    for (i = 0; i < r->n_headers; i++) {
        const ic_http_header_t *h = &r->headers[i];
        if (strcasecmp(h->name, name) != 0)
            continue;
        if (n++ == 0 && first)
            *first = h->value;
        if (tok && has && list_has(h->value, tok, is_ci))
            *has = true;
    }
    return n;
}

static int refuse(ic_ws_handshake_t *out, int rc, int status,
                  const char *why) {
    out->status = status;
    out->why = why;
    out->subproto = IC_WS_SUBPROTO_NONE;
    out->protocol = NULL;
    out->accept[0] = '\0';
    return rc;
}

int ic_ws_handshake_check(const ic_http_request_t *r, ic_ws_handshake_t *out) {
    const char *version, *key;
    bool has;
    size_t n;

    memset(out, 0, sizeof(*out));
    out->why = "";
    if (r->method == NULL || strcmp(r->method, "GET") != 0)
        return refuse(out, IC_EMALFORMED, 400,
                      "a WebSocket handshake must be a GET");
    if (r->version_minor < 1)
        return refuse(out, IC_EMALFORMED, 400,
                      "a WebSocket handshake needs HTTP/1.1");
    if (fields(r, "Host", NULL, false, NULL, NULL) == 0)
        return refuse(out, IC_EMALFORMED, 400, "missing Host header");
    fields(r, "Upgrade", "websocket", true, &has, NULL);
    if (!has)
        return refuse(out, IC_EMALFORMED, 400,
                      "Upgrade header does not ask for websocket");
    fields(r, "Connection", "upgrade", true, &has, NULL);
    if (!has)
        return refuse(out, IC_EMALFORMED, 400,
                      "Connection header does not contain upgrade");

    n = fields(r, "Sec-WebSocket-Version", NULL, false, NULL, &version);
    if (n == 0)
        return refuse(out, IC_EMALFORMED, 400,
                      "missing Sec-WebSocket-Version header");
    if (n > 1)
        return refuse(out, IC_EMALFORMED, 400,
                      "repeated Sec-WebSocket-Version header");
    if (strcmp(version, IC_WS_VERSION) != 0)
        return refuse(out, IC_EPROTO, 426,
                      "unsupported Sec-WebSocket-Version (only 13)");

    n = fields(r, "Sec-WebSocket-Key", NULL, false, NULL, &key);
    if (n == 0)
        return refuse(out, IC_EMALFORMED, 400,
                      "missing Sec-WebSocket-Key header");
    if (n > 1)
        return refuse(out, IC_EMALFORMED, 400,
                      "repeated Sec-WebSocket-Key header");
    if (ic_ws_accept_key(key, out->accept) != 0)
        return refuse(out, IC_EMALFORMED, 400,
                      "invalid Sec-WebSocket-Key (not base64 of 16 bytes)");

    n = fields(r, "Sec-WebSocket-Protocol", "mqtt", false, &has, NULL);
    if (n > 0 && has) {
        out->subproto = IC_WS_SUBPROTO_MQTT;
        out->protocol = "mqtt";
    } else if (n > 0) {
        fields(r, "Sec-WebSocket-Protocol", "mqttv3.1", false, &has, NULL);
        if (!has)
            return refuse(out, IC_EPROTO, 400,
                          "no acceptable Sec-WebSocket-Protocol (mqtt)");
        out->subproto = IC_WS_SUBPROTO_MQTTV31;
        out->protocol = "mqttv3.1";
    }
    out->status = 101;
    return 0;
}

int ic_ws_handshake_response(const ic_ws_handshake_t *hs, ic_buf_t *out) {
    if (hs->status != 101 || strlen(hs->accept) != IC_WS_ACCEPT_LEN)
        return IC_EINVAL;
    ic_buf_append_str(out, "HTTP/1.1 101 Switching Protocols\r\n"
                           "Upgrade: websocket\r\n"
                           "Connection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: ");
    ic_buf_append_str(out, hs->accept);
    ic_buf_append_str(out, "\r\n");
    if (hs->protocol != NULL) {
        ic_buf_append_str(out, "Sec-WebSocket-Protocol: ");
        ic_buf_append_str(out, hs->protocol);
        ic_buf_append_str(out, "\r\n");
    }
    ic_buf_append_str(out, "\r\n");
    return 0;
}

/* ---- reader --------------------------------------------------------------- */

void ic_ws_reader_init(ic_ws_reader_t *r, uint64_t max_payload_bytes) {
    memset(r, 0, sizeof(*r));
    r->max_payload = max_payload_bytes;
    r->state = ST_HEADER;
    r->hdr_need = 2;
    r->why = "";
}

static bool is_control(uint8_t op) { return (op & 0x8) != 0; }

/* Kill r with rc and code; fill ev the way every later call will. */
static int fail(ic_ws_reader_t *r, ic_ws_event_t *ev, int rc, uint16_t code,
                const char *why) {
    r->state = ST_FAILED;
    r->err = rc;
    r->err_code = code;
    r->why = why;
    ev->type = IC_WS_EV_NONE;
    ev->close_code = code;
    ev->why = why;
    return rc;
}

/* Byte 0: FIN, RSV1-3, opcode [RFC 6455 §5.2, §5.4, §5.5]. */
static int check_byte0(ic_ws_reader_t *r, ic_ws_event_t *ev) {
    uint8_t b = r->hdr[0], op = b & 0x0F;
    bool is_fin = (b & 0x80) != 0;
    if (b & 0x70)
        return fail(r, ev, IC_EMALFORMED, IC_WS_CLOSE_PROTOCOL_ERROR,
                    "RSV bits set without a negotiated extension");
    switch (op) {
    case IC_WS_OP_CONTINUATION:
        if (!r->is_in_message)
            return fail(r, ev, IC_EPROTO, IC_WS_CLOSE_PROTOCOL_ERROR,
                        "continuation frame without a message in progress");
        break;
    case IC_WS_OP_TEXT:
    case IC_WS_OP_BINARY:
        if (r->is_in_message)
            return fail(r, ev, IC_EPROTO, IC_WS_CLOSE_PROTOCOL_ERROR,
                        "new data frame inside a fragmented message");
        if (op == IC_WS_OP_TEXT)
            return fail(r, ev, IC_EPROTO, IC_WS_CLOSE_UNSUPPORTED_DATA,
                        "text frame (MQTT over WebSocket is binary)");
        break;
    case IC_WS_OP_CLOSE:
    case IC_WS_OP_PING:
    case IC_WS_OP_PONG:
        if (!is_fin)
            return fail(r, ev, IC_EMALFORMED, IC_WS_CLOSE_PROTOCOL_ERROR,
                        "fragmented control frame");
        break;
    default:
        return fail(r, ev, IC_EMALFORMED, IC_WS_CLOSE_PROTOCOL_ERROR,
                    "reserved opcode");
    }
    r->opcode = op;
    return 0;
}

/* Byte 1: MASK, 7-bit length; sets the header size. */
static int check_byte1(ic_ws_reader_t *r, ic_ws_event_t *ev) {
    uint8_t b = r->hdr[1], len7 = b & 0x7F;
    if (!(b & 0x80)) /* [RFC 6455 §5.1: client frames are masked] */
        return fail(r, ev, IC_EMALFORMED, IC_WS_CLOSE_PROTOCOL_ERROR,
                    "unmasked client frame");
    if (is_control(r->opcode) && len7 > IC_WS_MAX_CONTROL_PAYLOAD)
        return fail(r, ev, IC_EMALFORMED, IC_WS_CLOSE_PROTOCOL_ERROR,
                    "control frame payload over 125 bytes");
    r->hdr_need = (uint8_t)(2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4);
    return 0;
}

/* The payload length, once hdr holds bytes 0..1 and any extended length. */
static uint64_t header_len(const ic_ws_reader_t *r) {
    uint8_t len7 = r->hdr[1] & 0x7F;
    uint64_t v = 0;
    int i;
    if (len7 < 126)
        return len7;
    if (len7 == 126)
        return (uint64_t)r->hdr[2] << 8 | r->hdr[3];
    for (i = 0; i < 8; i++)
        v = v << 8 | r->hdr[2 + i];
    return v;
}

/* End of the extended length: size checks before the masking key. */
static int check_length(ic_ws_reader_t *r, ic_ws_event_t *ev) {
    uint64_t len = header_len(r);
    if (len >> 63)
        return fail(r, ev, IC_EMALFORMED, IC_WS_CLOSE_PROTOCOL_ERROR,
                    "64-bit payload length with the top bit set");
    if (!is_control(r->opcode) && len > r->max_payload)
        return fail(r, ev, IC_ETOOBIG, IC_WS_CLOSE_TOO_BIG,
                    "frame payload over the maximum");
    r->remaining = len;
    return 0;
}

/* Whole header read: take the key, update the fragmentation state. */
static void start_payload(ic_ws_reader_t *r) {
    bool is_fin = (r->hdr[0] & 0x80) != 0;
    memcpy(r->mask, r->hdr + r->hdr_need - 4, 4);
    r->mask_pos = 0;
    r->hdr_len = 0;
    r->hdr_need = 2;
    if (is_control(r->opcode)) {
        r->ctl_len = 0;
        r->state = ST_CONTROL;
        return;
    }
    /* binary starts a message unless FIN; continuation ends it with FIN */
    r->is_in_message = !is_fin;
    r->state = ST_DATA;
}

/* XOR p[0..n) with the key, starting at payload offset mask_pos. */
static void unmask(ic_ws_reader_t *r, uint8_t *p, size_t n) {
    uint8_t km[8];
    uint64_t k64, w;
    size_t i = 0, j;
    for (j = 0; j < 8; j++)
        km[j] = r->mask[(r->mask_pos + j) & 3];
    memcpy(&k64, km, 8);
    for (; i + 8 <= n; i += 8) { /* 8 is a multiple of 4: same phase */
        memcpy(&w, p + i, 8);
        w ^= k64;
        memcpy(p + i, &w, 8);
    }
    for (j = 0; i < n; i++, j++)
        p[i] ^= km[j];
    r->mask_pos = (uint8_t)((r->mask_pos + n) & 3);
}

/* A whole control payload is in ctl: the event for it. */
static int control_done(ic_ws_reader_t *r, ic_ws_event_t *ev) {
    r->state = ST_HEADER;
    ev->data = r->ctl_len ? r->ctl : NULL;
    ev->len = r->ctl_len;
    if (r->opcode == IC_WS_OP_PING) {
        ev->type = IC_WS_EV_PING;
        return IC_WS_EV_PING;
    }
    if (r->opcode == IC_WS_OP_PONG) {
        ev->type = IC_WS_EV_PONG;
        return IC_WS_EV_PONG;
    }
    /* close [RFC 6455 §5.5.1, §7.4] */
    ev->data = NULL;
    ev->len = 0;
    if (r->ctl_len == 1)
        return fail(r, ev, IC_EMALFORMED, IC_WS_CLOSE_PROTOCOL_ERROR,
                    "close frame with a 1-byte payload");
    if (r->ctl_len == 0) {
        ev->close_code = IC_WS_CLOSE_NO_STATUS;
    } else {
        uint16_t code = (uint16_t)(r->ctl[0] << 8 | r->ctl[1]);
        if (!ic_ws_close_code_is_valid(code))
            return fail(r, ev, IC_EMALFORMED, IC_WS_CLOSE_PROTOCOL_ERROR,
                        "invalid close code");
        if (!ic_utf8_valid(r->ctl + 2, (size_t)r->ctl_len - 2))
            return fail(r, ev, IC_EMALFORMED, IC_WS_CLOSE_INVALID_DATA,
                        "close reason is not UTF-8");
        ev->close_code = code;
        if (r->ctl_len > 2) {
            ev->data = r->ctl + 2;
            ev->len = (size_t)r->ctl_len - 2;
        }
    }
    r->state = ST_CLOSED;
    ev->type = IC_WS_EV_CLOSE;
    return IC_WS_EV_CLOSE;
}

int ic_ws_reader_feed(ic_ws_reader_t *r, uint8_t *p, size_t n, size_t *used,
                      ic_ws_event_t *ev) {
    size_t pos = 0, k;
    int rc;

    memset(ev, 0, sizeof(*ev));
    ev->why = "";
    *used = 0;
    if (r->state == ST_FAILED) {
        ev->close_code = r->err_code;
        ev->why = r->why;
        return r->err;
    }
    if (r->state == ST_CLOSED)
        return IC_ECLOSED;

    for (;;) {
        switch (r->state) {
        case ST_HEADER:
            if (pos == n)
                goto need_more;
            r->hdr[r->hdr_len++] = p[pos++];
            rc = 0;
            if (r->hdr_len == 1)
                rc = check_byte0(r, ev);
            else if (r->hdr_len == 2)
                rc = check_byte1(r, ev);
            if (rc == 0 && r->hdr_len >= 2 && r->hdr_len == r->hdr_need - 4)
                rc = check_length(r, ev);
            if (rc != 0) {
                *used = pos;
                return rc;
            }
            if (r->hdr_len == r->hdr_need) {
                start_payload(r);
                if (r->state == ST_DATA && r->remaining == 0)
                    r->state = ST_HEADER; /* empty data frame: no event */
            }
            break;
        case ST_DATA:
            if (pos == n)
                goto need_more;
            k = n - pos;
            if (k > r->remaining)
                k = (size_t)r->remaining;
            unmask(r, p + pos, k);
            ev->type = IC_WS_EV_DATA;
            ev->data = p + pos;
            ev->len = k;
            pos += k;
            r->remaining -= k;
            if (r->remaining == 0)
                r->state = ST_HEADER;
            *used = pos;
            return IC_WS_EV_DATA;
        case ST_CONTROL:
            k = n - pos;
            if (k > r->remaining)
                k = (size_t)r->remaining;
            if (k > 0) {
                memcpy(r->ctl + r->ctl_len, p + pos, k);
                unmask(r, r->ctl + r->ctl_len, k);
                r->ctl_len = (uint8_t)(r->ctl_len + k);
                pos += k;
                r->remaining -= k;
            }
            if (r->remaining > 0)
                goto need_more;
            *used = pos;
            return control_done(r, ev);
        default:
            goto need_more; /* unreachable: CLOSED/FAILED returned above */
        }
    }
need_more:
    *used = pos;
    return IC_WS_EV_NONE;
}

/* ---- writer --------------------------------------------------------------- */

int ic_ws_frame_header(uint8_t hdr[IC_WS_MAX_HEADER], ic_ws_opcode_t op,
                       bool fin, uint64_t payload_len) {
    int i;
    switch (op) {
    case IC_WS_OP_CONTINUATION:
    case IC_WS_OP_TEXT:
    case IC_WS_OP_BINARY:
        break;
    case IC_WS_OP_CLOSE:
    case IC_WS_OP_PING:
    case IC_WS_OP_PONG:
        if (!fin || payload_len > IC_WS_MAX_CONTROL_PAYLOAD)
            return IC_EINVAL;
        break;
    default:
        return IC_EINVAL;
    }
    if (payload_len >> 63)
        return IC_EINVAL;
    hdr[0] = (uint8_t)((fin ? 0x80 : 0) | (unsigned)op);
    if (payload_len <= 125) {
        hdr[1] = (uint8_t)payload_len;
        return 2;
    }
    if (payload_len <= 0xFFFF) {
        hdr[1] = 126;
        hdr[2] = (uint8_t)(payload_len >> 8);
        hdr[3] = (uint8_t)payload_len;
        return 4;
    }
    hdr[1] = 127;
    for (i = 0; i < 8; i++)
        hdr[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
    return 10;
}

int ic_ws_write_pong(uint8_t out[IC_WS_MAX_CONTROL_FRAME],
                     const uint8_t *payload, size_t len) {
    if (len > IC_WS_MAX_CONTROL_PAYLOAD)
        return IC_EINVAL;
    out[0] = 0x80 | IC_WS_OP_PONG;
    out[1] = (uint8_t)len;
    if (len > 0)
        memcpy(out + 2, payload, len);
    return (int)(2 + len);
}

int ic_ws_write_close(uint8_t out[IC_WS_MAX_CONTROL_FRAME], uint16_t code,
                      const char *reason) {
    size_t rlen = reason ? strlen(reason) : 0;
    out[0] = 0x80 | IC_WS_OP_CLOSE;
    if (code == IC_WS_CLOSE_NO_STATUS) {
        if (rlen > 0)
            return IC_EINVAL;
        out[1] = 0;
        return 2;
    }
    if (!ic_ws_close_code_is_valid(code) ||
        rlen > IC_WS_MAX_CONTROL_PAYLOAD - 2 ||
        !ic_utf8_valid((const uint8_t *)reason, rlen))
        return IC_EINVAL;
    out[1] = (uint8_t)(2 + rlen);
    out[2] = (uint8_t)(code >> 8);
    out[3] = (uint8_t)code;
    if (rlen > 0)
        memcpy(out + 4, reason, rlen);
    return (int)(4 + rlen);
}
