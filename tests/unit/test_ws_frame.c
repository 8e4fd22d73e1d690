/* test_ws_frame.c - WebSocket handshake and frame codec: the RFC 6455
 * accept-key example (§1.3) and other keys, the opening-handshake checks
 * (table), the 101 response, the RFC §5.7 example frames, one stream fed
 * whole, byte by byte and in random pieces giving the same events, every
 * protocol violation with its close code (also under every split), the
 * payload limit at and one past the maximum, pings inside a fragmented
 * message, and the writer's 7/16/64-bit length forms and control frames
 * (also read back through the reader after client-side masking). */
#include "suites.h"

#include "iotcored/buf.h"
#include "iotcored/error.h"
#include "iotcored/http_parse.h"
#include "iotcored/ws_frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t KEY[4] = {0x37, 0xfa, 0x21, 0x3d}; /* RFC 6455 §5.7 */

/* ---- frame building (client side) ------------------------------------------ */

/* Append a client frame header: b0 (FIN|RSV|opcode), the length `declared`
 * in form `form` (0: minimal, 126: 16-bit, 127: 64-bit), then key (if not
 * NULL, with the MASK bit). */
static void chdr(ic_buf_t *b, uint8_t b0, const uint8_t *key,
                 uint64_t declared, int form) {
    uint8_t m = key ? 0x80 : 0;
    int i;
    if (form == 0)
        form = declared <= 125 ? 0 : declared <= 0xFFFF ? 126 : 127;
    ic_buf_put_u8(b, b0);
    if (form == 0) {
        ic_buf_put_u8(b, (uint8_t)(m | declared));
    } else if (form == 126) {
        ic_buf_put_u8(b, (uint8_t)(m | 126));
        ic_buf_put_u16(b, (uint16_t)declared);
    } else {
        ic_buf_put_u8(b, (uint8_t)(m | 127));
        for (i = 0; i < 8; i++)
            ic_buf_put_u8(b, (uint8_t)(declared >> (56 - 8 * i)));
    }
    if (key)
        ic_buf_append(b, key, 4);
}

/* Append a whole client frame with payload p[0..len), masked with key. */
static void cframe_form(ic_buf_t *b, uint8_t b0, const uint8_t *key,
                        const void *p, size_t len, int form) {
    size_t i, at;
    chdr(b, b0, key, len, form);
    at = b->len;
    ic_buf_append(b, p, len);
    if (key)
        for (i = 0; i < len; i++)
            b->data[at + i] ^= key[i & 3];
}

static void cframe(ic_buf_t *b, uint8_t b0, const void *p, size_t len) {
    cframe_form(b, b0, KEY, p, len, 0);
}

/* A close frame from the client: code (then reason bytes). */
static void cclose(ic_buf_t *b, uint16_t code, const void *reason,
                   size_t rlen) {
    uint8_t pl[125];
    pl[0] = (uint8_t)(code >> 8);
    pl[1] = (uint8_t)code;
    memcpy(pl + 2, reason, rlen);
    cframe(b, 0x88, pl, 2 + rlen);
}

/* ---- driving the reader ------------------------------------------------------ */

/* The size of the next piece: mode 0 whole; 1..999 fixed pieces of that
 * many bytes; >= 1000 pseudo-random pieces of 1..(mode - 1000) bytes. */
static size_t piece(int mode, uint32_t *seed, size_t rem) {
    size_t k;
    if (mode == 0)
        return rem;
    if (mode < 1000)
        k = (size_t)mode;
    else {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 17;
        *seed ^= *seed << 5;
        k = 1 + *seed % (uint32_t)(mode - 1000);
    }
    return k < rem ? k : rem;
}

static void hex(ic_buf_t *out, const uint8_t *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        ic_buf_appendf(out, "%02x", p[i]);
}

/* Feed in[0..n) to a fresh reader in pieces (each in a buffer of its exact
 * size, so ASan sees any overread), checking the contract on every call.
 * Data bytes go to stream; every other outcome is a line in log, with the
 * input offset reached and the data offset at that point. */
static void drive(uint64_t max, const uint8_t *in, size_t n, int mode,
                  ic_buf_t *stream, ic_buf_t *log) {
    ic_ws_reader_t r;
    size_t off = 0;
    uint32_t seed = 0x9e3779b9u ^ (uint32_t)mode;
    bool is_done = false;

    ic_ws_reader_init(&r, max);
    while (off < n && !is_done) {
        size_t len = piece(mode, &seed, n - off), pos = 0;
        uint8_t *p = malloc(len);
        ck_assert_ptr_nonnull(p);
        memcpy(p, in + off, len);
        while (pos < len) {
            size_t used = 12345, used2 = 12345;
            ic_ws_event_t ev, ev2;
            int rc = ic_ws_reader_feed(&r, p + pos, len - pos, &used, &ev);
            ck_assert_uint_le(used, len - pos);
            pos += used;
            if (rc < 0) {
                ic_buf_appendf(log, "ERR in=%zu data=%zu %s code=%u why=%s\n",
                               off + pos, stream->len, ic_errname(rc),
                               ev.close_code, ev.why);
                /* sticky: the same answer, nothing consumed */
                ck_assert_int_eq(ic_ws_reader_feed(&r, p + pos, len - pos,
                                                   &used2, &ev2), rc);
                ck_assert_uint_eq(used2, 0);
                ck_assert_uint_eq(ev2.close_code, ev.close_code);
                if (rc != IC_ECLOSED) {
                    uint8_t fr[IC_WS_MAX_CONTROL_FRAME];
                    ck_assert(ev.why[0] != '\0');
                    /* the reason fits a close frame sent back */
                    ck_assert_int_eq(ic_ws_write_close(fr, ev.close_code,
                                                       ev.why),
                                     (int)(4 + strlen(ev.why)));
                }
                is_done = true;
                break;
            }
            switch (rc) {
            case IC_WS_EV_NONE:
                ck_assert_uint_eq(pos, len);
                break;
            case IC_WS_EV_DATA:
                ck_assert_uint_gt(ev.len, 0);
                ck_assert_ptr_eq(ev.data, p + pos - ev.len); /* in place */
                ic_buf_append(stream, ev.data, ev.len);
                break;
            case IC_WS_EV_PING:
            case IC_WS_EV_PONG:
                ck_assert_uint_le(ev.len, 125);
                ck_assert((ev.data == NULL) == (ev.len == 0));
                ic_buf_appendf(log, "%s in=%zu data=%zu [",
                               rc == IC_WS_EV_PING ? "PING" : "PONG",
                               off + pos, stream->len);
                hex(log, ev.data, ev.len);
                ic_buf_append_str(log, "]\n");
                break;
            case IC_WS_EV_CLOSE:
                ck_assert_uint_le(ev.len, 123);
                ic_buf_appendf(log, "CLOSE in=%zu data=%zu code=%u [",
                               off + pos, stream->len, ev.close_code);
                ic_buf_append(log, ev.data, ev.len);
                ic_buf_append_str(log, "]\n");
                break;
            default:
                ck_abort_msg("unknown event %d", rc);
            }
            ck_assert_int_eq((int)ev.type, rc);
        }
        free(p);
        off += len;
    }
}

static const int MODES[] = {0, 1, 2, 3, 5, 7, 13, 64, 1008, 1030, 1300};

/* Drive in every mode; all must agree with the whole-input run. Returns
 * the log of that run (caller frees) and its data in stream. */
static void drive_all(uint64_t max, const ic_buf_t *in, ic_buf_t *stream,
                      ic_buf_t *log) {
    size_t i;
    ic_buf_init(stream);
    ic_buf_init(log);
    drive(max, in->data, in->len, 0, stream, log);
    for (i = 1; i < N_ELEM(MODES); i++) {
        ic_buf_t s2, l2;
        ic_buf_init(&s2);
        ic_buf_init(&l2);
        drive(max, in->data, in->len, MODES[i], &s2, &l2);
        ck_assert_msg(s2.len == stream->len &&
                          (s2.len == 0 ||
                           memcmp(s2.data, stream->data, s2.len) == 0),
                      "mode %d: data differs", MODES[i]);
        ic_buf_put_u8(&l2, 0);
        ic_buf_put_u8(log, 0);
        ck_assert_msg(strcmp((char *)l2.data, (char *)log->data) == 0,
                      "mode %d:\n%s\nwhole:\n%s", MODES[i], (char *)l2.data,
                      (char *)log->data);
        log->len--;
        ic_buf_free(&s2);
        ic_buf_free(&l2);
    }
    ic_buf_put_u8(log, 0);
    log->len--;
}

static void check_stream(const ic_buf_t *s, const char *want) {
    ck_assert_uint_eq(s->len, strlen(want));
    if (s->len)
        ck_assert_mem_eq(s->data, want, s->len);
}

/* ---- handshake --------------------------------------------------------------- */

START_TEST(accept_key_vectors) {
    static const struct {
        const char *key, *accept;
    } v[] = {
        /* RFC 6455 §1.3 */
        {"dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
        {"x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk="},
        {"AQIDBAUGBwgJCgsMDQ4PEA==", "C/0nmHhBztSRGR1CwL6Tf4ZjwpY="},
    };
    size_t i;
    for (i = 0; i < N_ELEM(v); i++) {
        char out[IC_WS_ACCEPT_LEN + 1];
        memset(out, 'x', sizeof(out));
        ck_assert_int_eq(ic_ws_accept_key(v[i].key, out), 0);
        ck_assert_str_eq(out, v[i].accept);
    }
}
END_TEST

START_TEST(accept_key_invalid) {
    static const char *bad[] = {
        "",
        "dGhlIHNhbXBsZSBub25jZQ=",   /* 23 characters */
        "dGhlIHNhbXBsZSBub25jZQ===", /* 25 */
        "dGhlIHNhbXBsZSBub25jZQ",    /* no padding */
        "dGhlIHNhbXBsZSBub25jZQAA",  /* 18 bytes, not 16 */
        "dGhlIHNhbXBsZSBub25jZ===",  /* 15 bytes + junk */
        "dGhlIHNhbXBsZSBub25j=Q==",  /* '=' inside */
        "dGhlIHNhbXBsZSBub25jZ-==",  /* base64url */
        "dGhlIHNhbXBsZSBub25jZQ== ", /* trailing space */
        "dGhlIHNhbXBsZSBub25jZQ==dGhlIHNhbXBsZSBub25jZQ==",
        "the sample nonce",
    };
    size_t i;
    char out[IC_WS_ACCEPT_LEN + 1];
    for (i = 0; i < N_ELEM(bad); i++) {
        memset(out, 'x', sizeof(out));
        ck_assert_msg(ic_ws_accept_key(bad[i], out) == IC_EINVAL, "%s",
                      bad[i]);
        ck_assert_str_eq(out, "");
    }
    ck_assert_int_eq(ic_ws_accept_key(NULL, out), IC_EINVAL);
}
END_TEST

#define MAXH 12

typedef struct hs_case_s {
    const char *name;
    const char *method;       /* NULL: GET */
    int minor;                /* HTTP/1.minor; -1: 1 */
    const char *h[MAXH];      /* "Name: value", NULL-terminated; "-Name"
                                 drops that base header */
    int rc, status;
    const char *protocol;     /* expected echo, NULL for none */
    const char *why;          /* expected substring of why */
} hs_case_t;

static const char *const BASE[] = {
    "Host: example.iot.us-east-1.amazonaws.com",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Version: 13",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Protocol: mqtt",
};

static const hs_case_t HS[] = {
    {"aws sdk", NULL, -1, {NULL}, 0, 101, "mqtt", ""},
    {"keep-alive, Upgrade", NULL, -1,
     {"-Connection", "Connection: keep-alive, Upgrade"}, 0, 101, "mqtt", ""},
    {"tokens any case", NULL, -1,
     {"-Connection", "-Upgrade", "Connection: UPGRADE", "Upgrade: WebSocket"},
     0, 101, "mqtt", ""},
    {"lowercase names", NULL, -1,
     {"-Connection", "-Upgrade", "-Sec-WebSocket-Key", "connection: upgrade",
      "upgrade: websocket", "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ=="},
     0, 101, "mqtt", ""},
    {"Connection in two fields", NULL, -1,
     {"-Connection", "Connection: keep-alive", "Connection: upgrade"},
     0, 101, "mqtt", ""},
    {"Connection list with blanks", NULL, -1,
     {"-Connection", "Connection: ,keep-alive ,\t upgrade\t,"},
     0, 101, "mqtt", ""},
    {"mqttv3.1 only", NULL, -1,
     {"-Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: mqttv3.1"},
     0, 101, "mqttv3.1", ""},
    {"mqtt preferred", NULL, -1,
     {"-Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: mqttv3.1, mqtt"},
     0, 101, "mqtt", ""},
    {"protocol in two fields", NULL, -1,
     {"-Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: wamp",
      "Sec-WebSocket-Protocol: mqtt"},
     0, 101, "mqtt", ""},
    {"no protocol offered", NULL, -1, {"-Sec-WebSocket-Protocol"},
     0, 101, NULL, ""},
    {"no acceptable protocol", NULL, -1,
     {"-Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: wamp, chat"},
     IC_EPROTO, 400, NULL, "Sec-WebSocket-Protocol"},
    {"protocol is case-sensitive", NULL, -1,
     {"-Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: MQTT"},
     IC_EPROTO, 400, NULL, "Sec-WebSocket-Protocol"},
    {"mqtt as a prefix is not mqtt", NULL, -1,
     {"-Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: mqtt5, xmqtt"},
     IC_EPROTO, 400, NULL, "Sec-WebSocket-Protocol"},
    {"version 8", NULL, -1,
     {"-Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"},
     IC_EPROTO, 426, NULL, "Version"},
    {"version 14", NULL, -1,
     {"-Sec-WebSocket-Version", "Sec-WebSocket-Version: 14"},
     IC_EPROTO, 426, NULL, "Version"},
    {"version list", NULL, -1,
     {"-Sec-WebSocket-Version", "Sec-WebSocket-Version: 13, 8"},
     IC_EPROTO, 426, NULL, "Version"},
    {"version missing", NULL, -1, {"-Sec-WebSocket-Version"},
     IC_EMALFORMED, 400, NULL, "missing Sec-WebSocket-Version"},
    {"version repeated", NULL, -1, {"Sec-WebSocket-Version: 13"},
     IC_EMALFORMED, 400, NULL, "repeated Sec-WebSocket-Version"},
    {"key missing", NULL, -1, {"-Sec-WebSocket-Key"},
     IC_EMALFORMED, 400, NULL, "missing Sec-WebSocket-Key"},
    {"key repeated", NULL, -1,
     {"Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw=="},
     IC_EMALFORMED, 400, NULL, "repeated Sec-WebSocket-Key"},
    {"key invalid", NULL, -1,
     {"-Sec-WebSocket-Key", "Sec-WebSocket-Key: not-a-key"},
     IC_EMALFORMED, 400, NULL, "invalid Sec-WebSocket-Key"},
    {"key of 20 bytes", NULL, -1,
     {"-Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
     IC_EMALFORMED, 400, NULL, "invalid Sec-WebSocket-Key"},
    {"POST", "POST", -1, {NULL}, IC_EMALFORMED, 400, NULL, "GET"},
    {"HTTP/1.0", NULL, 0, {NULL}, IC_EMALFORMED, 400, NULL, "HTTP/1.1"},
    {"Host missing", NULL, -1, {"-Host"}, IC_EMALFORMED, 400, NULL, "Host"},
    {"Upgrade missing", NULL, -1, {"-Upgrade"},
     IC_EMALFORMED, 400, NULL, "Upgrade"},
    {"Upgrade h2c", NULL, -1, {"-Upgrade", "Upgrade: h2c"},
     IC_EMALFORMED, 400, NULL, "Upgrade"},
    {"Connection missing", NULL, -1, {"-Connection"},
     IC_EMALFORMED, 400, NULL, "Connection"},
    {"Connection keep-alive", NULL, -1,
     {"-Connection", "Connection: keep-alive"},
     IC_EMALFORMED, 400, NULL, "Connection"},
    {"Connection upgrades (not a token)", NULL, -1,
     {"-Connection", "Connection: upgrades"},
     IC_EMALFORMED, 400, NULL, "Connection"},
    /* version is judged before the key: a v8 client learns about 13 */
    {"version 8 with a bad key", NULL, -1,
     {"-Sec-WebSocket-Version", "Sec-WebSocket-Version: 8",
      "-Sec-WebSocket-Key", "Sec-WebSocket-Key: x"},
     IC_EPROTO, 426, NULL, "Version"},
};

/* Build the request of case c: BASE minus the "-Name" entries, plus the
 * others. Strings are copied into arena (kept by the caller). */
static void build_req(const hs_case_t *c, ic_http_request_t *r,
                      ic_http_header_t *hv, char arena[][160]) {
    size_t i, j, n = 0;
    memset(r, 0, sizeof(*r));
    r->method = c->method ? c->method : "GET";
    r->target = r->path = "/mqtt";
    r->target_len = 5;
    r->query = "";
    r->version_minor = c->minor < 0 ? 1 : c->minor;
    r->keep_alive = true;
    r->is_upgrade = true;
    for (i = 0; i < N_ELEM(BASE) + MAXH; i++) {
        const char *line = i < N_ELEM(BASE) ? BASE[i] : c->h[i - N_ELEM(BASE)];
        char *colon;
        if (line == NULL)
            break;
        if (line[0] == '-')
            continue;
        if (i < N_ELEM(BASE)) {
            bool is_dropped = false;
            for (j = 0; j < MAXH && c->h[j]; j++)
                if (c->h[j][0] == '-' &&
                    strncmp(c->h[j] + 1, line, strlen(c->h[j] + 1)) == 0 &&
                    line[strlen(c->h[j] + 1)] == ':')
                    is_dropped = true;
            if (is_dropped)
                continue;
        }
        snprintf(arena[n], 160, "%s", line);
        colon = strchr(arena[n], ':');
        ck_assert_ptr_nonnull(colon);
        *colon = '\0';
        hv[n].name = arena[n];
        hv[n].name_len = strlen(arena[n]);
        hv[n].value = colon + 2;
        hv[n].value_len = strlen(colon + 2);
        n++;
    }
    r->headers = hv;
    r->n_headers = n;
}

START_TEST(handshake_table) {
    const hs_case_t *c = &HS[_i];
    ic_http_request_t r;
    ic_http_header_t hv[N_ELEM(BASE) + MAXH];
    char arena[N_ELEM(BASE) + MAXH][160];
    ic_ws_handshake_t hs;
    int rc;

    build_req(c, &r, hv, arena);
    memset(&hs, 0x5a, sizeof(hs));
    rc = ic_ws_handshake_check(&r, &hs);
    ck_assert_msg(rc == c->rc, "%s: rc %s (%s)", c->name, ic_errname(rc),
                  hs.why);
    ck_assert_msg(hs.status == c->status, "%s: status %d", c->name,
                  hs.status);
    ck_assert_ptr_nonnull(hs.why);
    ck_assert_msg(strstr(hs.why, c->why) != NULL, "%s: why \"%s\"", c->name,
                  hs.why);
    if (c->protocol == NULL) {
        ck_assert_ptr_null(hs.protocol);
        ck_assert_int_eq(hs.subproto, IC_WS_SUBPROTO_NONE);
    } else {
        ck_assert_str_eq(hs.protocol, c->protocol);
        ck_assert_int_eq(hs.subproto, strcmp(c->protocol, "mqtt") == 0
                                          ? IC_WS_SUBPROTO_MQTT
                                          : IC_WS_SUBPROTO_MQTTV31);
    }
    if (rc == 0) {
        ck_assert_str_eq(hs.why, "");
        ck_assert_str_eq(hs.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    } else {
        ck_assert(hs.why[0] != '\0');
        ck_assert_str_eq(hs.accept, "");
    }
}
END_TEST

/* A real request through http_parse, then the check and the response. */
START_TEST(handshake_via_http_parse) {
    static const char req[] =
        "GET /mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256 HTTP/1.1\r\n"
        "Host: localhost:8443\r\n"
        "Upgrade: websocket\r\n"
        "Connection: keep-alive, Upgrade\r\n"
        "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
        "Sec-WebSocket-Protocol: mqttv3.1\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Origin: http://example.com\r\n"
        "\r\n"
        "\x82\x85";
    static const ic_http_limits_t lim = {8192, 32, 0};
    ic_http_parser_t *p = ic_http_parser_new(&lim);
    ic_http_parse_err_t err;
    size_t used;
    ic_ws_handshake_t hs;
    ic_buf_t out;
    const char *want = "HTTP/1.1 101 Switching Protocols\r\n"
                       "Upgrade: websocket\r\n"
                       "Connection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n"
                       "Sec-WebSocket-Protocol: mqttv3.1\r\n"
                       "\r\n";

    ck_assert_int_eq(ic_http_parser_feed(p, (const uint8_t *)req,
                                         sizeof(req) - 1, &used, &err), 1);
    ck_assert_uint_eq(used, sizeof(req) - 3); /* frame bytes left over */
    ck_assert(ic_http_parser_request(p)->is_upgrade);
    ck_assert_int_eq(ic_ws_handshake_check(ic_http_parser_request(p), &hs), 0);
    ck_assert_int_eq(hs.subproto, IC_WS_SUBPROTO_MQTTV31);
    ic_buf_init(&out);
    ic_buf_append_str(&out, "x");
    ck_assert_int_eq(ic_ws_handshake_response(&hs, &out), 0);
    ck_assert_uint_eq(out.len, 1 + strlen(want));
    ck_assert_mem_eq(out.data + 1, want, strlen(want));
    ic_buf_free(&out);
    ic_http_parser_free(p);
}
END_TEST

START_TEST(handshake_response) {
    ic_ws_handshake_t hs;
    ic_buf_t out;
    const char *want = "HTTP/1.1 101 Switching Protocols\r\n"
                       "Upgrade: websocket\r\n"
                       "Connection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                       "\r\n";
    memset(&hs, 0, sizeof(hs));
    hs.status = 101;
    hs.why = "";
    ck_assert_int_eq(ic_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", hs.accept), 0);
    ic_buf_init(&out);
    ck_assert_int_eq(ic_ws_handshake_response(&hs, &out), 0); /* no protocol */
    ck_assert_uint_eq(out.len, strlen(want));
    ck_assert_mem_eq(out.data, want, out.len);
    ic_buf_reset(&out);
    hs.protocol = "mqtt";
    ck_assert_int_eq(ic_ws_handshake_response(&hs, &out), 0);
    ic_buf_put_u8(&out, 0);
    ck_assert_ptr_nonnull(strstr((char *)out.data,
                                 "\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"));
    ic_buf_reset(&out);
    hs.status = 426; /* a refused handshake has no 101 */
    ck_assert_int_eq(ic_ws_handshake_response(&hs, &out), IC_EINVAL);
    hs.status = 101;
    hs.accept[0] = '\0';
    ck_assert_int_eq(ic_ws_handshake_response(&hs, &out), IC_EINVAL);
    ck_assert_uint_eq(out.len, 0);
    ic_buf_free(&out);
}
END_TEST

/* ---- reader: RFC 6455 §5.7 examples -------------------------------------------- */

static int feed_once(ic_ws_reader_t *r, uint8_t *p, size_t n, size_t *used,
                     ic_ws_event_t *ev) {
    return ic_ws_reader_feed(r, p, n, used, ev);
}

START_TEST(rfc_masked_hello) {
    /* §5.7 "A single-frame masked text message", as binary (MQTT) */
    uint8_t f[] = {0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f,
                   0x9f, 0x4d, 0x51, 0x58};
    ic_ws_reader_t r;
    ic_ws_event_t ev;
    size_t used;
    ic_ws_reader_init(&r, 1024);
    ck_assert_int_eq(feed_once(&r, f, sizeof(f), &used, &ev), IC_WS_EV_DATA);
    ck_assert_uint_eq(used, sizeof(f));
    ck_assert_ptr_eq(ev.data, f + 6); /* unmasked in place */
    ck_assert_uint_eq(ev.len, 5);
    ck_assert_mem_eq(f + 6, "Hello", 5);
    ck_assert_int_eq(feed_once(&r, f, 0, &used, &ev), IC_WS_EV_NONE);
    ck_assert_uint_eq(used, 0);

    /* the very bytes of the RFC (text) are refused: 1003 */
    {
        uint8_t t[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f,
                       0x9f, 0x4d, 0x51, 0x58};
        ic_ws_reader_init(&r, 1024);
        ck_assert_int_eq(feed_once(&r, t, sizeof(t), &used, &ev), IC_EPROTO);
        ck_assert_uint_eq(ev.close_code, 1003);
        ck_assert_uint_eq(used, 1);
    }
    /* and the RFC's unmasked "Hello" from a client: 1002 */
    {
        uint8_t u[] = {0x82, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
        ic_ws_reader_init(&r, 1024);
        ck_assert_int_eq(feed_once(&r, u, sizeof(u), &used, &ev),
                         IC_EMALFORMED);
        ck_assert_uint_eq(ev.close_code, 1002);
        ck_assert_uint_eq(used, 2);
    }
}
END_TEST

START_TEST(rfc_fragmented_hel_lo) {
    /* §5.7 "A fragmented unmasked text message", masked and binary */
    ic_buf_t in, s, log;
    ic_buf_init(&in);
    cframe(&in, 0x02, "Hel", 3);
    cframe(&in, 0x80, "lo", 2);
    drive_all(16, &in, &s, &log);
    check_stream(&s, "Hello");
    ck_assert_str_eq((char *)log.data, "");
    ic_buf_free(&in);
    ic_buf_free(&s);
    ic_buf_free(&log);
}
END_TEST

START_TEST(rfc_ping_pong) {
    /* §5.7 masked "Hello" pong (the RFC's bytes) and the same as a ping */
    uint8_t pong[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f,
                      0x9f, 0x4d, 0x51, 0x58};
    uint8_t ping[sizeof(pong)];
    uint8_t out[IC_WS_MAX_CONTROL_FRAME];
    const uint8_t want[] = {0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    ic_ws_reader_t r;
    ic_ws_event_t ev;
    size_t used;
    int n;

    memcpy(ping, pong, sizeof(pong));
    ping[0] = 0x89;
    ic_ws_reader_init(&r, 0);
    ck_assert_int_eq(feed_once(&r, pong, sizeof(pong), &used, &ev),
                     IC_WS_EV_PONG);
    ck_assert_uint_eq(used, sizeof(pong));
    ck_assert_uint_eq(ev.len, 5);
    ck_assert_mem_eq(ev.data, "Hello", 5);
    ck_assert_int_eq(feed_once(&r, ping, sizeof(ping), &used, &ev),
                     IC_WS_EV_PING);
    ck_assert_uint_eq(ev.len, 5);
    ck_assert_mem_eq(ev.data, "Hello", 5);
    /* the answer: the RFC's unmasked frame, as a pong */
    n = ic_ws_write_pong(out, ev.data, ev.len);
    ck_assert_int_eq(n, (int)sizeof(want));
    ck_assert_mem_eq(out, want, sizeof(want));
    /* empty ping */
    {
        uint8_t e[] = {0x89, 0x80, 1, 2, 3, 4};
        ck_assert_int_eq(feed_once(&r, e, sizeof(e), &used, &ev),
                         IC_WS_EV_PING);
        ck_assert_uint_eq(ev.len, 0);
        ck_assert_ptr_null(ev.data);
        ck_assert_int_eq(ic_ws_write_pong(out, NULL, 0), 2);
        ck_assert_uint_eq(out[0], 0x8a);
        ck_assert_uint_eq(out[1], 0);
    }
}
END_TEST

START_TEST(rfc_length_forms) {
    /* §5.7: 256 bytes in the 16-bit form, 64 KiB in the 64-bit form; also
     * the same small payload in all three forms (non-minimal accepted) */
    static uint8_t big[65536];
    ic_buf_t in, s, log;
    size_t i;
    for (i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7 + (i >> 8));
    ic_buf_init(&in);
    cframe(&in, 0x82, big, 256);
    ck_assert_uint_eq(in.data[1], 0x80 | 126);
    ck_assert_uint_eq(in.data[2], 0x01);
    ck_assert_uint_eq(in.data[3], 0x00);
    i = in.len;
    cframe(&in, 0x82, big, 65536);
    ck_assert_uint_eq(in.data[i + 1], 0x80 | 127);
    ck_assert_mem_eq(in.data + i + 2, "\0\0\0\0\0\x01\0\0", 8);
    cframe_form(&in, 0x82, KEY, "abc", 3, 126);
    cframe_form(&in, 0x82, KEY, "def", 3, 127);
    cframe_form(&in, 0x82, KEY, "gh", 2, 0);
    drive_all(65536, &in, &s, &log);
    ck_assert_uint_eq(s.len, 256 + 65536 + 8);
    ck_assert_mem_eq(s.data, big, 256);
    ck_assert_mem_eq(s.data + 256, big, 65536);
    ck_assert_mem_eq(s.data + 256 + 65536, "abcdefgh", 8);
    ck_assert_str_eq((char *)log.data, "");
    ic_buf_free(&in);
    ic_buf_free(&s);
    ic_buf_free(&log);
}
END_TEST

/* ---- reader: one stream, any split ---------------------------------------------- */

START_TEST(stream_any_split) {
    ic_buf_t in, s, log;
    uint8_t pay[300];
    size_t i;
    const char *want =
        "PING in=16 data=2 [7031]\n"
        "PONG in=36 data=4 []\n"
        "CLOSE in=695 data=604 code=1000 [bye \xce\xba\xe1\xbd\xb9]\n"
        "ERR in=695 data=604 ECLOSED code=0 why=\n";
    for (i = 0; i < sizeof(pay); i++)
        pay[i] = (uint8_t)(255 - i);
    ic_buf_init(&in);
    cframe(&in, 0x02, "MQ", 2);                 /* 8: start, no FIN */
    cframe(&in, 0x89, "p1", 2);                 /* 8: ping inside */
    cframe(&in, 0x00, "", 0);                   /* 6: empty continuation */
    cframe(&in, 0x80, "TT", 2);                 /* 8: final continuation */
    cframe(&in, 0x8a, "", 0);                   /* 6: empty pong */
    cframe(&in, 0x82, "", 0);                   /* 6: empty binary */
    cframe(&in, 0x82, pay, sizeof(pay));        /* 8 + 300 */
    cframe_form(&in, 0x02, KEY, pay, 7, 127);   /* 14 + 7 */
    cframe(&in, 0x00, pay + 7, 293);            /* 8 + 293 */
    cframe(&in, 0x80, "", 0);                   /* 6: FIN on empty */
    cclose(&in, 1000, "bye \xce\xba\xe1\xbd\xb9", 9); /* 6 + 11 */
    cframe(&in, 0x82, "after", 5);              /* dropped */
    drive_all(300, &in, &s, &log);
    ck_assert_uint_eq(s.len, 604);
    ck_assert_mem_eq(s.data, "MQTT", 4);
    ck_assert_mem_eq(s.data + 4, pay, 300);
    ck_assert_mem_eq(s.data + 304, pay, 300);
    ck_assert_msg(strcmp((char *)log.data, want) == 0, "%s", (char *)log.data);
    ic_buf_free(&in);
    ic_buf_free(&s);
    ic_buf_free(&log);
}
END_TEST

/* Control frames between the fragments of a message are allowed; so is a
 * close, which ends everything. */
START_TEST(control_inside_fragments) {
    ic_buf_t in, s, log;
    ic_buf_init(&in);
    cframe(&in, 0x02, "ab", 2);
    cframe(&in, 0x89, "x", 1);
    cframe(&in, 0x00, "cd", 2);
    cframe(&in, 0x8a, "y", 1);
    cframe(&in, 0x89, "z", 1);
    cframe(&in, 0x00, "ef", 2);
    cclose(&in, 1001, "", 0);
    drive_all(10, &in, &s, &log);
    check_stream(&s, "abcdef");
    ck_assert_str_eq((char *)log.data,
                     "PING in=15 data=2 [78]\n"
                     "PONG in=30 data=4 [79]\n"
                     "PING in=37 data=4 [7a]\n"
                     "CLOSE in=53 data=6 code=1001 []\n");
    ic_buf_free(&in);
    ic_buf_free(&s);
    ic_buf_free(&log);
}
END_TEST

/* ---- reader: violations -------------------------------------------------------- */

typedef struct bad_s {
    const char *name;
    int rc;
    unsigned code;
} bad_t;

/* Build violation number i into in (after a valid prefix where the rule
 * needs one); returns its expectation. */
static bad_t bad_frame(int i, ic_buf_t *in, uint64_t *max) {
    static const uint8_t ops[] = {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF};
    static const uint16_t bad_codes[] = {0,    1,    999,  1004, 1005, 1006,
                                         1012, 1013, 1014, 1015, 1016, 1100,
                                         2000, 2999, 5000, 65535};
    static const char *const bad_utf8[] = {
        "\xff", "\xc0\x80", "\xc1\xbf", "\xed\xa0\x80", "\xe2\x82",
        "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "ok\x80", "\xe0\x80\xaf",
        "\xf0\x80\x80\xaf",
    };
    int k = 0;
    *max = 1000;
#define CASE(cond) if (i == k++)
    CASE(1) { cframe(in, 0xC2, "x", 1); return (bad_t){"RSV1", IC_EMALFORMED, 1002}; }
    CASE(1) { cframe(in, 0xA2, "x", 1); return (bad_t){"RSV2", IC_EMALFORMED, 1002}; }
    CASE(1) { cframe(in, 0x92, "x", 1); return (bad_t){"RSV3", IC_EMALFORMED, 1002}; }
    CASE(1) { cframe(in, 0xC9, "", 0); return (bad_t){"RSV1 ping", IC_EMALFORMED, 1002}; }
    for (size_t j = 0; j < N_ELEM(ops); j++)
        CASE(1) {
            cframe(in, (uint8_t)(0x80 | ops[j]), "x", 1);
            return (bad_t){"reserved opcode", IC_EMALFORMED, 1002};
        }
    CASE(1) { cframe_form(in, 0x82, NULL, "x", 1, 0); return (bad_t){"unmasked binary", IC_EMALFORMED, 1002}; }
    CASE(1) { cframe_form(in, 0x89, NULL, "", 0, 0); return (bad_t){"unmasked ping", IC_EMALFORMED, 1002}; }
    CASE(1) { cframe(in, 0x82, "ok", 2); cframe_form(in, 0x88, NULL, "\x03\xe8", 2, 0);
              return (bad_t){"unmasked close after data", IC_EMALFORMED, 1002}; }
    CASE(1) { cframe(in, 0x09, "x", 1); return (bad_t){"ping without FIN", IC_EMALFORMED, 1002}; }
    CASE(1) { cframe(in, 0x0A, "x", 1); return (bad_t){"pong without FIN", IC_EMALFORMED, 1002}; }
    CASE(1) { cframe(in, 0x08, "\x03\xe8", 2); return (bad_t){"close without FIN", IC_EMALFORMED, 1002}; }
    CASE(1) { uint8_t z[126] = {0}; cframe(in, 0x89, z, 126);
              return (bad_t){"ping of 126", IC_EMALFORMED, 1002}; }
    CASE(1) { cframe_form(in, 0x89, KEY, "x", 1, 126); return (bad_t){"ping in 16-bit form", IC_EMALFORMED, 1002}; }
    CASE(1) { cframe_form(in, 0x88, KEY, "\x03\xe8", 2, 127); return (bad_t){"close in 64-bit form", IC_EMALFORMED, 1002}; }
    CASE(1) { cframe(in, 0x81, "hi", 2); return (bad_t){"text", IC_EPROTO, 1003}; }
    CASE(1) { cframe(in, 0x01, "hi", 2); return (bad_t){"text fragment", IC_EPROTO, 1003}; }
    CASE(1) { cframe(in, 0x80, "x", 1); return (bad_t){"continuation first", IC_EPROTO, 1002}; }
    CASE(1) { cframe(in, 0x82, "a", 1); cframe(in, 0x00, "x", 1);
              return (bad_t){"continuation after a whole message", IC_EPROTO, 1002}; }
    CASE(1) { cframe(in, 0x02, "a", 1); cframe(in, 0x80, "b", 1); cframe(in, 0x80, "x", 1);
              return (bad_t){"continuation after the final one", IC_EPROTO, 1002}; }
    CASE(1) { cframe(in, 0x02, "a", 1); cframe(in, 0x82, "x", 1);
              return (bad_t){"binary inside a message", IC_EPROTO, 1002}; }
    CASE(1) { cframe(in, 0x02, "a", 1); cframe(in, 0x81, "x", 1);
              return (bad_t){"text inside a message", IC_EPROTO, 1002}; }
    CASE(1) { *max = UINT64_MAX; chdr(in, 0x82, KEY, UINT64_C(1) << 63, 127);
              return (bad_t){"64-bit length top bit", IC_EMALFORMED, 1002}; }
    CASE(1) { *max = UINT64_MAX; chdr(in, 0x82, KEY, UINT64_MAX, 127);
              return (bad_t){"64-bit length all ones", IC_EMALFORMED, 1002}; }
    CASE(1) { chdr(in, 0x82, KEY, UINT64_C(1) << 40, 127);
              return (bad_t){"huge frame", IC_ETOOBIG, 1009}; }
    CASE(1) { cframe(in, 0x88, "\x03", 1); return (bad_t){"close of 1 byte", IC_EMALFORMED, 1002}; }
    CASE(1) { /* a ping leaves "\x03\xe8" behind: byte 2 must not be read */
              cframe(in, 0x89, "\x03\xe8", 2); cframe(in, 0x88, "\x03", 1);
              return (bad_t){"close of 1 byte after a ping", IC_EMALFORMED, 1002}; }
    for (size_t j = 0; j < N_ELEM(bad_codes); j++)
        CASE(1) {
            cclose(in, bad_codes[j], "", 0);
            return (bad_t){"invalid close code", IC_EMALFORMED, 1002};
        }
    for (size_t j = 0; j < N_ELEM(bad_utf8); j++)
        CASE(1) {
            cclose(in, 1000, bad_utf8[j], strlen(bad_utf8[j]));
            return (bad_t){"close reason not UTF-8", IC_EMALFORMED, 1007};
        }
#undef CASE
    return (bad_t){NULL, 0, 0};
}

static int n_bad(void) {
    ic_buf_t b;
    uint64_t max;
    int i = 0;
    ic_buf_init(&b);
    while (bad_frame(i, &b, &max).name != NULL)
        i++;
    ic_buf_free(&b);
    return i;
}

START_TEST(violations) {
    ic_buf_t in, s, log;
    uint64_t max;
    bad_t b;
    char want[128], *err;
    ic_buf_init(&in);
    b = bad_frame(_i, &in, &max);
    ck_assert_ptr_nonnull(b.name);
    cframe(&in, 0x82, "never", 5); /* nothing after the violation is read */
    drive_all(max, &in, &s, &log);
    err = strstr((char *)log.data, "ERR ");
    ck_assert_msg(err != NULL, "%s: no error:\n%s", b.name, (char *)log.data);
    snprintf(want, sizeof(want), " %s code=%u why=", ic_errname(b.rc), b.code);
    ck_assert_msg(strstr(err, want) != NULL, "%s: want%s got %s", b.name,
                  want, err);
    ck_assert_msg(strchr(err, '\n')[1] == '\0', "%s: more after the error",
                  b.name);
    ck_assert_msg(s.len < 5 || memcmp(s.data + s.len - 5, "never", 5) != 0,
                  "%s: read past the error", b.name);
    ic_buf_free(&in);
    ic_buf_free(&s);
    ic_buf_free(&log);
}
END_TEST

/* Valid close codes and reasons come out as CLOSE events. */
START_TEST(close_valid) {
    static const uint16_t codes[] = {1000, 1001, 1002, 1003, 1007, 1008,
                                     1009, 1010, 1011, 3000, 3999, 4000,
                                     4999};
    static const char *const reasons[] = {"", "bye", "\xce\xba\xe1\xbd\xb9",
                                          "\xf0\x9f\x98\x80", "a\0b",
                                          "\xef\xbf\xbf\xf4\x8f\xbf\xbf"};
    static const size_t rlens[] = {0, 3, 5, 4, 3, 7};
    size_t i;
    for (i = 0; i < N_ELEM(codes) * N_ELEM(reasons); i++) {
        uint16_t code = codes[i % N_ELEM(codes)];
        size_t j = i % N_ELEM(reasons);
        ic_buf_t in;
        ic_ws_reader_t r;
        ic_ws_event_t ev;
        size_t used;
        ic_buf_init(&in);
        cclose(&in, code, reasons[j], rlens[j]);
        ic_ws_reader_init(&r, 0);
        ck_assert_int_eq(ic_ws_reader_feed(&r, in.data, in.len, &used, &ev),
                         IC_WS_EV_CLOSE);
        ck_assert_uint_eq(used, in.len);
        ck_assert_uint_eq(ev.close_code, code);
        ck_assert_uint_eq(ev.len, rlens[j]);
        if (rlens[j])
            ck_assert_mem_eq(ev.data, reasons[j], rlens[j]);
        else
            ck_assert_ptr_null(ev.data);
        ic_buf_free(&in);
    }
    /* the longest reason: 123 bytes */
    {
        char rs[124];
        ic_buf_t in;
        ic_ws_reader_t r;
        ic_ws_event_t ev;
        size_t used;
        memset(rs, 'r', 123);
        ic_buf_init(&in);
        cclose(&in, 4000, rs, 123);
        ic_ws_reader_init(&r, 0);
        ck_assert_int_eq(ic_ws_reader_feed(&r, in.data, in.len, &used, &ev),
                         IC_WS_EV_CLOSE);
        ck_assert_uint_eq(ev.len, 123);
        ic_buf_free(&in);
    }
}
END_TEST

START_TEST(close_empty_and_after) {
    uint8_t f[] = {0x88, 0x80, 9, 9, 9, 9, 0x82, 0x80, 1, 2, 3, 4};
    uint8_t out[IC_WS_MAX_CONTROL_FRAME];
    ic_ws_reader_t r;
    ic_ws_event_t ev;
    size_t used;
    ic_ws_reader_init(&r, 10);
    ck_assert_int_eq(ic_ws_reader_feed(&r, f, sizeof(f), &used, &ev),
                     IC_WS_EV_CLOSE);
    ck_assert_uint_eq(used, 6);
    ck_assert_uint_eq(ev.close_code, IC_WS_CLOSE_NO_STATUS);
    ck_assert_uint_eq(ev.len, 0);
    /* echo it as is: an empty close */
    ck_assert_int_eq(ic_ws_write_close(out, ev.close_code, NULL), 2);
    ck_assert_uint_eq(out[0], 0x88);
    ck_assert_uint_eq(out[1], 0);
    /* nothing more is read */
    ck_assert_int_eq(ic_ws_reader_feed(&r, f + 6, 6, &used, &ev), IC_ECLOSED);
    ck_assert_uint_eq(used, 0);
    ck_assert_uint_eq(ev.close_code, 0);
}
END_TEST

/* ---- reader: the payload limit ------------------------------------------------- */

START_TEST(max_payload_boundary) {
    static const struct {
        uint64_t max;
        size_t hdr; /* client header size for max + 1 */
    } v[] = {{100, 6}, {125, 8}, {1000, 8}, {65535, 14}, {70000, 14}};
    size_t i, j;
    for (i = 0; i < N_ELEM(v); i++) {
        size_t len = (size_t)v[i].max;
        uint8_t *pl = calloc(1, len + 1);
        ic_buf_t in, s, log;
        ic_ws_reader_t r;
        ic_ws_event_t ev;
        size_t used;
        int rc;
        for (j = 0; j <= len; j++)
            pl[j] = (uint8_t)j;
        /* exactly the maximum: accepted */
        ic_buf_init(&in);
        cframe(&in, 0x82, pl, len);
        drive_all(v[i].max, &in, &s, &log);
        ck_assert_uint_eq(s.len, len);
        ck_assert_mem_eq(s.data, pl, len);
        ck_assert_str_eq((char *)log.data, "");
        ic_buf_free(&s);
        ic_buf_free(&log);
        /* one over, all its bytes present: refused from the header, no
         * payload byte consumed nor unmasked, not even the masking key */
        ic_buf_reset(&in);
        cframe(&in, 0x82, pl, len + 1);
        ck_assert_uint_eq(in.len, v[i].hdr + len + 1);
        ic_ws_reader_init(&r, v[i].max);
        rc = ic_ws_reader_feed(&r, in.data, in.len, &used, &ev);
        ck_assert_int_eq(rc, IC_ETOOBIG);
        ck_assert_uint_eq(ev.close_code, 1009);
        ck_assert_uint_eq(used, v[i].hdr - 4);
        ck_assert_uint_eq(in.data[v[i].hdr], (uint8_t)(0 ^ KEY[0]));
        /* in a continuation too */
        ic_buf_reset(&in);
        cframe(&in, 0x02, "a", 1);
        cframe(&in, 0x80, pl, len + 1);
        ic_ws_reader_init(&r, v[i].max);
        ck_assert_int_eq(ic_ws_reader_feed(&r, in.data, in.len, &used, &ev),
                         IC_WS_EV_DATA);
        ck_assert_int_eq(ic_ws_reader_feed(&r, in.data + used,
                                           in.len - used, &used, &ev),
                         IC_ETOOBIG);
        ck_assert_uint_eq(ev.close_code, 1009);
        ic_buf_free(&in);
        free(pl);
    }
    /* control frames have their own limit (125), whatever max is */
    {
        ic_buf_t in;
        ic_ws_reader_t r;
        ic_ws_event_t ev;
        size_t used;
        uint8_t z[125] = {0};
        ic_buf_init(&in);
        cframe(&in, 0x89, z, 125);
        ic_ws_reader_init(&r, 0);
        ck_assert_int_eq(ic_ws_reader_feed(&r, in.data, in.len, &used, &ev),
                         IC_WS_EV_PING);
        ck_assert_uint_eq(ev.len, 125);
        /* and an empty data frame is fine with max 0 */
        ic_buf_reset(&in);
        cframe(&in, 0x82, "", 0);
        ck_assert_int_eq(ic_ws_reader_feed(&r, in.data, in.len, &used, &ev),
                         IC_WS_EV_NONE);
        ck_assert_uint_eq(used, in.len);
        ic_buf_free(&in);
    }
}
END_TEST

/* DATA events are the frame's bytes as they arrive, never more than one
 * frame, and a partial header is kept inside the reader. */
START_TEST(data_as_it_arrives) {
    ic_buf_t in;
    ic_ws_reader_t r;
    ic_ws_event_t ev;
    size_t used;
    ic_buf_init(&in);
    cframe(&in, 0x82, "0123456789", 10); /* 6 + 10 */
    cframe(&in, 0x82, "abc", 3);         /* 6 + 3 */
    ic_ws_reader_init(&r, 100);
    /* 3 header bytes: kept */
    ck_assert_int_eq(ic_ws_reader_feed(&r, in.data, 3, &used, &ev),
                     IC_WS_EV_NONE);
    ck_assert_uint_eq(used, 3);
    /* rest of header + 4 payload bytes */
    ck_assert_int_eq(ic_ws_reader_feed(&r, in.data + 3, 7, &used, &ev),
                     IC_WS_EV_DATA);
    ck_assert_uint_eq(used, 7);
    ck_assert_uint_eq(ev.len, 4);
    ck_assert_mem_eq(ev.data, "0123", 4);
    /* the rest of frame 1 and all of frame 2 in one go: two events */
    ck_assert_int_eq(ic_ws_reader_feed(&r, in.data + 10, in.len - 10, &used,
                                       &ev),
                     IC_WS_EV_DATA);
    ck_assert_uint_eq(used, 6);
    ck_assert_mem_eq(ev.data, "456789", 6);
    ck_assert_int_eq(ic_ws_reader_feed(&r, in.data + 16, in.len - 16, &used,
                                       &ev),
                     IC_WS_EV_DATA);
    ck_assert_uint_eq(used, 9);
    ck_assert_uint_eq(ev.len, 3);
    ck_assert_ptr_eq(ev.data, in.data + 22);
    ck_assert_mem_eq(ev.data, "abc", 3);
    ic_buf_free(&in);
}
END_TEST

/* ---- writer ------------------------------------------------------------------- */

START_TEST(writer_lengths) {
    static const struct {
        uint64_t len;
        int n;
        const char *hdr;
    } v[] = {
        {0, 2, "\x82\x00"},
        {1, 2, "\x82\x01"},
        {125, 2, "\x82\x7d"},
        {126, 4, "\x82\x7e\x00\x7e"},
        {256, 4, "\x82\x7e\x01\x00"},
        {65535, 4, "\x82\x7e\xff\xff"},
        {65536, 10, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"},
        {UINT64_C(0x7fffffffffffffff), 10,
         "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff"},
    };
    size_t i;
    for (i = 0; i < N_ELEM(v); i++) {
        uint8_t hdr[IC_WS_MAX_HEADER];
        int n = ic_ws_frame_header(hdr, IC_WS_OP_BINARY, true, v[i].len);
        ck_assert_int_eq(n, v[i].n);
        ck_assert_mem_eq(hdr, v[i].hdr, (size_t)n);
    }
}
END_TEST

START_TEST(writer_rfc_and_invalid) {
    uint8_t hdr[IC_WS_MAX_HEADER];
    /* §5.7 fragmented "Hel" + "lo" headers (text, as the RFC) */
    ck_assert_int_eq(ic_ws_frame_header(hdr, IC_WS_OP_TEXT, false, 3), 2);
    ck_assert_mem_eq(hdr, "\x01\x03", 2);
    ck_assert_int_eq(ic_ws_frame_header(hdr, IC_WS_OP_CONTINUATION, true, 2),
                     2);
    ck_assert_mem_eq(hdr, "\x80\x02", 2);
    ck_assert_int_eq(ic_ws_frame_header(hdr, IC_WS_OP_PING, true, 5), 2);
    ck_assert_mem_eq(hdr, "\x89\x05", 2);
    /* refused */
    ck_assert_int_eq(ic_ws_frame_header(hdr, IC_WS_OP_BINARY, true,
                                        UINT64_C(1) << 63),
                     IC_EINVAL);
    ck_assert_int_eq(ic_ws_frame_header(hdr, IC_WS_OP_PING, false, 0),
                     IC_EINVAL);
    ck_assert_int_eq(ic_ws_frame_header(hdr, IC_WS_OP_CLOSE, true, 126),
                     IC_EINVAL);
    ck_assert_int_eq(ic_ws_frame_header(hdr, (ic_ws_opcode_t)3, true, 0),
                     IC_EINVAL);
    ck_assert_int_eq(ic_ws_frame_header(hdr, (ic_ws_opcode_t)0xB, true, 0),
                     IC_EINVAL);
}
END_TEST

START_TEST(writer_control) {
    uint8_t out[IC_WS_MAX_CONTROL_FRAME], pl[126];
    char reason[125];
    memset(pl, 'p', sizeof(pl));
    ck_assert_int_eq(ic_ws_write_pong(out, pl, 125), 127);
    ck_assert_mem_eq(out, "\x8a\x7d", 2);
    ck_assert_int_eq(ic_ws_write_pong(out, pl, 126), IC_EINVAL);

    ck_assert_int_eq(ic_ws_write_close(out, 1000, NULL), 4);
    ck_assert_mem_eq(out, "\x88\x02\x03\xe8", 4);
    ck_assert_int_eq(ic_ws_write_close(out, 1009, "too big"), 11);
    ck_assert_mem_eq(out, "\x88\x09\x03\xf1too big", 11);
    ck_assert_int_eq(ic_ws_write_close(out, 4999, ""), 4);
    ck_assert_int_eq(ic_ws_write_close(out, IC_WS_CLOSE_NO_STATUS, ""), 2);
    ck_assert_int_eq(ic_ws_write_close(out, IC_WS_CLOSE_NO_STATUS, "x"),
                     IC_EINVAL);
    ck_assert_int_eq(ic_ws_write_close(out, 1004, NULL), IC_EINVAL);
    ck_assert_int_eq(ic_ws_write_close(out, 1006, NULL), IC_EINVAL);
    ck_assert_int_eq(ic_ws_write_close(out, 1015, NULL), IC_EINVAL);
    ck_assert_int_eq(ic_ws_write_close(out, 999, NULL), IC_EINVAL);
    ck_assert_int_eq(ic_ws_write_close(out, 5000, NULL), IC_EINVAL);
    ck_assert_int_eq(ic_ws_write_close(out, 1000, "\xc0\x80"), IC_EINVAL);
    memset(reason, 'r', 123);
    reason[123] = '\0';
    ck_assert_int_eq(ic_ws_write_close(out, 1000, reason), 127);
    reason[123] = 'r';
    reason[124] = '\0';
    ck_assert_int_eq(ic_ws_write_close(out, 1000, reason), IC_EINVAL);
}
END_TEST

/* Server frames, masked the way a client would, read back by the reader:
 * the writer and reader agree on every length form. */
START_TEST(writer_reader_round_trip) {
    static const uint64_t lens[] = {0, 125, 126, 65535, 65536};
    static uint8_t pl[65536];
    ic_buf_t in, s, log;
    size_t i, j, want = 0;
    uint8_t out[IC_WS_MAX_CONTROL_FRAME];
    int n;
    for (i = 0; i < sizeof(pl); i++)
        pl[i] = (uint8_t)(i ^ (i >> 9));
    ic_buf_init(&in);
    for (i = 0; i < N_ELEM(lens); i++) {
        uint8_t hdr[IC_WS_MAX_HEADER];
        size_t at;
        n = ic_ws_frame_header(hdr, IC_WS_OP_BINARY, true, lens[i]);
        ck_assert_int_gt(n, 0);
        /* client form: MASK bit + key after the header */
        hdr[1] |= 0x80;
        ic_buf_append(&in, hdr, (size_t)n);
        ic_buf_append(&in, KEY, 4);
        at = in.len;
        ic_buf_append(&in, pl, (size_t)lens[i]);
        for (j = 0; j < lens[i]; j++)
            in.data[at + j] ^= KEY[j & 3];
        want += (size_t)lens[i];
    }
    n = ic_ws_write_close(out, 3000, "done");
    ck_assert_int_gt(n, 0);
    out[1] |= 0x80;
    ic_buf_append(&in, out, 2);
    ic_buf_append(&in, KEY, 4);
    for (j = 2; j < (size_t)n; j++)
        ic_buf_put_u8(&in, (uint8_t)(out[j] ^ KEY[(j - 2) & 3]));
    drive_all(65536, &in, &s, &log);
    ck_assert_uint_eq(s.len, want);
    for (i = 0, j = 0; i < N_ELEM(lens); j += (size_t)lens[i], i++)
        ck_assert_mem_eq(s.data + j, pl, (size_t)lens[i]);
    ck_assert_ptr_nonnull(strstr((char *)log.data, "code=3000 [done]"));
    ic_buf_free(&in);
    ic_buf_free(&s);
    ic_buf_free(&log);
}
END_TEST

START_TEST(close_code_validity) {
    unsigned c;
    for (c = 0; c <= 65535; c++) {
        bool want = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1011) ||
                    (c >= 3000 && c <= 4999);
        ck_assert_msg(ic_ws_close_code_is_valid((uint16_t)c) == want, "%u",
                      c);
    }
}
END_TEST

Suite *ic_ws_frame_suite(void) {
    Suite *s = suite_create("ws_frame");
    TCase *tc = tcase_create("handshake");
    tcase_add_test(tc, accept_key_vectors);
    tcase_add_test(tc, accept_key_invalid);
    tcase_add_loop_test(tc, handshake_table, 0, (int)N_ELEM(HS));
    tcase_add_test(tc, handshake_via_http_parse);
    tcase_add_test(tc, handshake_response);
    suite_add_tcase(s, tc);

    tc = tcase_create("reader");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, rfc_masked_hello);
    tcase_add_test(tc, rfc_fragmented_hel_lo);
    tcase_add_test(tc, rfc_ping_pong);
    tcase_add_test(tc, rfc_length_forms);
    tcase_add_test(tc, stream_any_split);
    tcase_add_test(tc, control_inside_fragments);
    tcase_add_loop_test(tc, violations, 0, n_bad());
    tcase_add_test(tc, close_valid);
    tcase_add_test(tc, close_empty_and_after);
    tcase_add_test(tc, max_payload_boundary);
    tcase_add_test(tc, data_as_it_arrives);
    tcase_add_test(tc, close_code_validity);
    suite_add_tcase(s, tc);

    tc = tcase_create("writer");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, writer_lengths);
    tcase_add_test(tc, writer_rfc_and_invalid);
    tcase_add_test(tc, writer_control);
    tcase_add_test(tc, writer_reader_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
