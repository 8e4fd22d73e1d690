/* props.c - MQTT 5 properties: decode with validation, encode, and MQTT
 * UTF-8 checking.
 *
 * Owns the table of which property may appear in which packet and the value
 * rules [MQTT-2.2.2.2]. Decoding yields views into the caller's bytes;
 * nothing here allocates or keeps state.
 */
#include "iotcored/codec.h"
#include "iotcored/str.h"

#include "iotcored/error.h"

#include <string.h>

#define W 0 /* will properties use "type" 0 */
#define T(x) (1u << (x))
#define ACK_TYPES                                                              \
    (T(IC_MQTT_PUBACK) | T(IC_MQTT_PUBREC) | T(IC_MQTT_PUBREL) |               \
     T(IC_MQTT_PUBCOMP))

typedef enum { V_BYTE, V_U16, V_U32, V_VARINT, V_UTF8, V_BIN, V_PAIR } vkind_t;

typedef struct prop_rule_s {
    uint8_t id;
    vkind_t kind;
    uint32_t where; /* bit per packet type (bit 0: will) */
} prop_rule_t;

static const prop_rule_t rules[] = {
    {IC_PROP_PAYLOAD_FORMAT, V_BYTE, T(IC_MQTT_PUBLISH) | T(W)},
    {IC_PROP_MESSAGE_EXPIRY, V_U32, T(IC_MQTT_PUBLISH) | T(W)},
    {IC_PROP_CONTENT_TYPE, V_UTF8, T(IC_MQTT_PUBLISH) | T(W)},
    {IC_PROP_RESPONSE_TOPIC, V_UTF8, T(IC_MQTT_PUBLISH) | T(W)},
    {IC_PROP_CORRELATION_DATA, V_BIN, T(IC_MQTT_PUBLISH) | T(W)},
    {IC_PROP_SUBSCRIPTION_ID, V_VARINT, T(IC_MQTT_PUBLISH) | T(IC_MQTT_SUBSCRIBE)},
    {IC_PROP_SESSION_EXPIRY, V_U32,
     T(IC_MQTT_CONNECT) | T(IC_MQTT_CONNACK) | T(IC_MQTT_DISCONNECT)},
    {IC_PROP_ASSIGNED_CLIENT_ID, V_UTF8, T(IC_MQTT_CONNACK)},
    {IC_PROP_SERVER_KEEP_ALIVE, V_U16, T(IC_MQTT_CONNACK)},
    {IC_PROP_AUTH_METHOD, V_UTF8,
     T(IC_MQTT_CONNECT) | T(IC_MQTT_CONNACK) | T(IC_MQTT_AUTH)},
    {IC_PROP_AUTH_DATA, V_BIN,
     T(IC_MQTT_CONNECT) | T(IC_MQTT_CONNACK) | T(IC_MQTT_AUTH)},
    {IC_PROP_REQUEST_PROBLEM_INFO, V_BYTE, T(IC_MQTT_CONNECT)},
    {IC_PROP_WILL_DELAY, V_U32, T(W)},
    {IC_PROP_REQUEST_RESPONSE_INFO, V_BYTE, T(IC_MQTT_CONNECT)},
    {IC_PROP_RESPONSE_INFO, V_UTF8, T(IC_MQTT_CONNACK)},
    {IC_PROP_SERVER_REFERENCE, V_UTF8, T(IC_MQTT_CONNACK) | T(IC_MQTT_DISCONNECT)},
    {IC_PROP_REASON_STRING, V_UTF8,
     T(IC_MQTT_CONNACK) | ACK_TYPES | T(IC_MQTT_SUBACK) | T(IC_MQTT_UNSUBACK) |
         T(IC_MQTT_DISCONNECT) | T(IC_MQTT_AUTH)},
    {IC_PROP_RECEIVE_MAXIMUM, V_U16, T(IC_MQTT_CONNECT) | T(IC_MQTT_CONNACK)},
    {IC_PROP_TOPIC_ALIAS_MAXIMUM, V_U16, T(IC_MQTT_CONNECT) | T(IC_MQTT_CONNACK)},
    {IC_PROP_TOPIC_ALIAS, V_U16, T(IC_MQTT_PUBLISH)},
    {IC_PROP_MAXIMUM_QOS, V_BYTE, T(IC_MQTT_CONNACK)},
    {IC_PROP_RETAIN_AVAILABLE, V_BYTE, T(IC_MQTT_CONNACK)},
    {IC_PROP_USER, V_PAIR, 0xFFFFu & ~(T(IC_MQTT_PINGREQ) | T(IC_MQTT_PINGRESP))},
    {IC_PROP_MAXIMUM_PACKET_SIZE, V_U32, T(IC_MQTT_CONNECT) | T(IC_MQTT_CONNACK)},
    {IC_PROP_WILDCARD_SUB_AVAILABLE, V_BYTE, T(IC_MQTT_CONNACK)},
    {IC_PROP_SUB_ID_AVAILABLE, V_BYTE, T(IC_MQTT_CONNACK)},
    {IC_PROP_SHARED_SUB_AVAILABLE, V_BYTE, T(IC_MQTT_CONNACK)},
};
#define N_RULES (sizeof(rules) / sizeof(rules[0]))

static const prop_rule_t *rule_of(uint32_t id) {
    size_t i;
    for (i = 0; i < N_RULES; i++)
        if (rules[i].id == id)
            return &rules[i];
    return NULL;
}

/* ---- UTF-8 ----------------------------------------------------------------- */

bool ic_codec_is_utf8(const uint8_t *s, size_t len) {
    /* no U+0000 [MQTT-1.5.4-2], no surrogates [MQTT-1.5.4-1] */
    return memchr(s, 0, len) == NULL && ic_utf8_valid(s, len);
}

/* ---- decode ------------------------------------------------------------------ */

static bool get_u16(const uint8_t *p, size_t len, size_t *pos, uint16_t *v) {
    if (*pos + 2 > len)
        return false;
    *v = (uint16_t)(p[*pos] << 8 | p[*pos + 1]);
    *pos += 2;
    return true;
}

static bool get_bin(const uint8_t *p, size_t len, size_t *pos, ic_bytes_t *v) {
    uint16_t n;
    if (!get_u16(p, len, pos, &n) || *pos + n > len)
        return false;
    v->p = p + *pos;
    v->len = n;
    *pos += n;
    return true;
}

static int bad(const char **why, const char *text) {
    if (why)
        *why = text;
    return IC_EMALFORMED;
}

/* Decode one property value at p[*pos..len) into out. */
static int decode_value(const prop_rule_t *r, const uint8_t *p, size_t len,
                        size_t *pos, ic_props_t *out, const char **why) {
    uint8_t b = 0;
    uint16_t u16 = 0;
    uint32_t u32 = 0;
    ic_bytes_t s = {NULL, 0}, s2 = {NULL, 0};
    int n;
    switch (r->kind) {
    case V_BYTE:
        if (*pos + 1 > len)
            return bad(why, "truncated property");
        b = p[(*pos)++];
        if (b > 1)
            return bad(why, "property value must be 0 or 1");
        break;
    case V_U16:
        if (!get_u16(p, len, pos, &u16))
            return bad(why, "truncated property");
        break;
    case V_U32:
        if (*pos + 4 > len)
            return bad(why, "truncated property");
        u32 = (uint32_t)p[*pos] << 24 | (uint32_t)p[*pos + 1] << 16 |
              (uint32_t)p[*pos + 2] << 8 | p[*pos + 3];
        *pos += 4;
        break;
    case V_VARINT:
        n = ic_varint_decode(p + *pos, len - *pos, &u32);
        if (n < 0)
            return bad(why, "bad variable byte integer in property");
        *pos += (size_t)n;
        break;
    case V_UTF8:
    case V_BIN:
        if (!get_bin(p, len, pos, &s))
            return bad(why, "truncated property");
        if (r->kind == V_UTF8 && !ic_codec_is_utf8(s.p, s.len))
            return bad(why, "property is not valid UTF-8");
        break;
    case V_PAIR:
        if (!get_bin(p, len, pos, &s) || !get_bin(p, len, pos, &s2))
            return bad(why, "truncated user property");
        if (!ic_codec_is_utf8(s.p, s.len) || !ic_codec_is_utf8(s2.p, s2.len))
            return bad(why, "user property is not valid UTF-8");
        break;
    }
    switch (r->id) {
    case IC_PROP_PAYLOAD_FORMAT: out->payload_format = b; break;
    case IC_PROP_MESSAGE_EXPIRY: out->message_expiry = u32; break;
    case IC_PROP_CONTENT_TYPE: out->content_type = s; break;
    case IC_PROP_RESPONSE_TOPIC: out->response_topic = s; break;
    case IC_PROP_CORRELATION_DATA: out->correlation_data = s; break;
    case IC_PROP_SUBSCRIPTION_ID:
        if (u32 == 0)
            return bad(why, "subscription identifier 0");
        if (!(out->present & IC_PROP_BIT(IC_PROP_SUBSCRIPTION_ID)))
            out->subscription_id = u32;
        break;
    case IC_PROP_SESSION_EXPIRY: out->session_expiry = u32; break;
    case IC_PROP_ASSIGNED_CLIENT_ID: out->assigned_client_id = s; break;
    case IC_PROP_SERVER_KEEP_ALIVE: out->server_keep_alive = u16; break;
    case IC_PROP_AUTH_METHOD: out->auth_method = s; break;
    case IC_PROP_AUTH_DATA: out->auth_data = s; break;
    case IC_PROP_REQUEST_PROBLEM_INFO: out->request_problem_info = b; break;
    case IC_PROP_WILL_DELAY: out->will_delay = u32; break;
    case IC_PROP_REQUEST_RESPONSE_INFO: out->request_response_info = b; break;
    case IC_PROP_RESPONSE_INFO: out->response_info = s; break;
    case IC_PROP_SERVER_REFERENCE: out->server_reference = s; break;
    case IC_PROP_REASON_STRING: out->reason_string = s; break;
    case IC_PROP_RECEIVE_MAXIMUM:
        if (u16 == 0)
            return bad(why, "receive maximum 0"); /* [MQTT-3.1.2-?] */
        out->receive_maximum = u16;
        break;
    case IC_PROP_TOPIC_ALIAS_MAXIMUM: out->topic_alias_maximum = u16; break;
    case IC_PROP_TOPIC_ALIAS:
        out->topic_alias = u16; /* 0 is a protocol error, judged by proto */
        break;
    case IC_PROP_MAXIMUM_QOS: out->maximum_qos = b; break;
    case IC_PROP_RETAIN_AVAILABLE: out->retain_available = b; break;
    case IC_PROP_USER: out->n_user++; break;
    case IC_PROP_MAXIMUM_PACKET_SIZE:
        if (u32 == 0)
            return bad(why, "maximum packet size 0");
        out->maximum_packet_size = u32;
        break;
    case IC_PROP_WILDCARD_SUB_AVAILABLE: out->wildcard_sub_available = b; break;
    case IC_PROP_SUB_ID_AVAILABLE: out->sub_id_available = b; break;
    case IC_PROP_SHARED_SUB_AVAILABLE: out->shared_sub_available = b; break;
    default: break;
    }
    return 0;
}

int ic_props_decode(const uint8_t *p, size_t len, uint8_t type,
                    ic_props_t *out, const char **why) {
    uint32_t plen;
    size_t pos, end, user_start = 0, user_end = 0;
    bool contiguous = true;
    int n = ic_varint_decode(p, len, &plen);
    memset(out, 0, sizeof(*out));
    if (n < 0)
        return bad(why, "bad property length");
    pos = (size_t)n;
    if (pos + plen > len)
        return bad(why, "property length beyond packet");
    end = pos + plen;
    out->block.p = p + pos;
    out->block.len = plen;
    while (pos < end) {
        uint32_t id;
        size_t start = pos;
        const prop_rule_t *r;
        int rc;
        n = ic_varint_decode(p + pos, end - pos, &id);
        if (n < 0)
            return bad(why, "bad property identifier");
        pos += (size_t)n;
        r = rule_of(id);
        if (r == NULL)
            return bad(why, "unknown property identifier");
        if (!(r->where & T(type)))
            return bad(why, "property not allowed in this packet");
        if (id != IC_PROP_USER && id != IC_PROP_SUBSCRIPTION_ID &&
            (out->present & IC_PROP_BIT(id)))
            return bad(why, "duplicate property"); /* [MQTT-2.2.2-1] */
        if (id == IC_PROP_SUBSCRIPTION_ID && type != IC_MQTT_PUBLISH &&
            (out->present & IC_PROP_BIT(id)))
            return bad(why, "duplicate property");
        rc = decode_value(r, p, end, &pos, out, why);
        if (rc != 0)
            return rc;
        if (id == IC_PROP_USER) {
            if (out->n_user == 1)
                user_start = start;
            else if (user_end != start)
                contiguous = false;
            user_end = pos;
        } else {
            out->present |= IC_PROP_BIT(id);
        }
    }
    if (out->n_user > 0 && contiguous) {
        out->user_raw.p = p + user_start;
        out->user_raw.len = user_end - user_start;
    }
    return (int)end;
}

/* Visit each encoded user property entry of a decoded block. */
static size_t walk_user(const ic_props_t *p, uint8_t *out) {
    size_t pos = 0, total = 0;
    const uint8_t *b = p->block.p;
    if (p->n_user == 0)
        return 0;
    if (b == NULL || p->user_raw.len > 0) {
        if (out)
            memcpy(out, p->user_raw.p, p->user_raw.len);
        return p->user_raw.len;
    }
    while (pos < p->block.len) {
        size_t start = pos;
        const prop_rule_t *r = rule_of(b[pos]);
        ic_props_t scratch;
        memset(&scratch, 0, sizeof(scratch));
        pos++;
        if (r == NULL || decode_value(r, b, p->block.len, &pos, &scratch, NULL))
            break; /* cannot happen for a block that decoded */
        if (r->id == IC_PROP_USER) {
            if (out)
                memcpy(out + total, b + start, pos - start);
            total += pos - start;
        }
    }
    return total;
}

size_t ic_props_user_size(const ic_props_t *p) {
    return walk_user(p, NULL);
}

void ic_props_user_copy(const ic_props_t *p, uint8_t *out) {
    walk_user(p, out);
}

/* ---- encode ------------------------------------------------------------------- */

static size_t value_size(const prop_rule_t *r, const ic_props_t *p) {
    switch (r->kind) {
    case V_BYTE: return 1;
    case V_U16: return 2;
    case V_U32: return 4;
    case V_VARINT: return (size_t)ic_varint_size(p->subscription_id);
    default: break;
    }
    switch (r->id) {
    case IC_PROP_CONTENT_TYPE: return 2 + p->content_type.len;
    case IC_PROP_RESPONSE_TOPIC: return 2 + p->response_topic.len;
    case IC_PROP_CORRELATION_DATA: return 2 + p->correlation_data.len;
    case IC_PROP_ASSIGNED_CLIENT_ID: return 2 + p->assigned_client_id.len;
    case IC_PROP_AUTH_METHOD: return 2 + p->auth_method.len;
    case IC_PROP_AUTH_DATA: return 2 + p->auth_data.len;
    case IC_PROP_RESPONSE_INFO: return 2 + p->response_info.len;
    case IC_PROP_SERVER_REFERENCE: return 2 + p->server_reference.len;
    case IC_PROP_REASON_STRING: return 2 + p->reason_string.len;
    default: return 0;
    }
}

size_t ic_props_size(const ic_props_t *p) {
    size_t i, n = 0;
    for (i = 0; i < N_RULES; i++)
        if (rules[i].id != IC_PROP_USER && (p->present & IC_PROP_BIT(rules[i].id)))
            n += 1 + value_size(&rules[i], p);
    return n + p->user_raw.len;
}

static void put_value(ic_buf_t *b, const prop_rule_t *r, const ic_props_t *p) {
    switch (r->id) {
    case IC_PROP_PAYLOAD_FORMAT: ic_buf_put_u8(b, p->payload_format); break;
    case IC_PROP_MESSAGE_EXPIRY: ic_buf_put_u32(b, p->message_expiry); break;
    case IC_PROP_CONTENT_TYPE:
        ic_buf_put_bin(b, p->content_type.p, (uint16_t)p->content_type.len);
        break;
    case IC_PROP_RESPONSE_TOPIC:
        ic_buf_put_bin(b, p->response_topic.p, (uint16_t)p->response_topic.len);
        break;
    case IC_PROP_CORRELATION_DATA:
        ic_buf_put_bin(b, p->correlation_data.p,
                       (uint16_t)p->correlation_data.len);
        break;
    case IC_PROP_SUBSCRIPTION_ID: ic_buf_put_varint(b, p->subscription_id); break;
    case IC_PROP_SESSION_EXPIRY: ic_buf_put_u32(b, p->session_expiry); break;
    case IC_PROP_ASSIGNED_CLIENT_ID:
        ic_buf_put_bin(b, p->assigned_client_id.p,
                       (uint16_t)p->assigned_client_id.len);
        break;
    case IC_PROP_SERVER_KEEP_ALIVE: ic_buf_put_u16(b, p->server_keep_alive); break;
    case IC_PROP_AUTH_METHOD:
        ic_buf_put_bin(b, p->auth_method.p, (uint16_t)p->auth_method.len);
        break;
    case IC_PROP_AUTH_DATA:
        ic_buf_put_bin(b, p->auth_data.p, (uint16_t)p->auth_data.len);
        break;
    case IC_PROP_REQUEST_PROBLEM_INFO: ic_buf_put_u8(b, p->request_problem_info); break;
    case IC_PROP_WILL_DELAY: ic_buf_put_u32(b, p->will_delay); break;
    case IC_PROP_REQUEST_RESPONSE_INFO: ic_buf_put_u8(b, p->request_response_info); break;
    case IC_PROP_RESPONSE_INFO:
        ic_buf_put_bin(b, p->response_info.p, (uint16_t)p->response_info.len);
        break;
    case IC_PROP_SERVER_REFERENCE:
        ic_buf_put_bin(b, p->server_reference.p, (uint16_t)p->server_reference.len);
        break;
    case IC_PROP_REASON_STRING:
        ic_buf_put_bin(b, p->reason_string.p, (uint16_t)p->reason_string.len);
        break;
    case IC_PROP_RECEIVE_MAXIMUM: ic_buf_put_u16(b, p->receive_maximum); break;
    case IC_PROP_TOPIC_ALIAS_MAXIMUM: ic_buf_put_u16(b, p->topic_alias_maximum); break;
    case IC_PROP_TOPIC_ALIAS: ic_buf_put_u16(b, p->topic_alias); break;
    case IC_PROP_MAXIMUM_QOS: ic_buf_put_u8(b, p->maximum_qos); break;
    case IC_PROP_RETAIN_AVAILABLE: ic_buf_put_u8(b, p->retain_available); break;
    case IC_PROP_MAXIMUM_PACKET_SIZE: ic_buf_put_u32(b, p->maximum_packet_size); break;
    case IC_PROP_WILDCARD_SUB_AVAILABLE: ic_buf_put_u8(b, p->wildcard_sub_available); break;
    case IC_PROP_SUB_ID_AVAILABLE: ic_buf_put_u8(b, p->sub_id_available); break;
    case IC_PROP_SHARED_SUB_AVAILABLE: ic_buf_put_u8(b, p->shared_sub_available); break;
    default: break;
    }
}

void ic_props_encode(ic_buf_t *out, const ic_props_t *p) {
    size_t i;
    ic_buf_put_varint(out, (uint32_t)ic_props_size(p));
    for (i = 0; i < N_RULES; i++) {
        if (rules[i].id == IC_PROP_USER || !(p->present & IC_PROP_BIT(rules[i].id)))
            continue;
        ic_buf_put_u8(out, rules[i].id);
        put_value(out, &rules[i], p);
    }
    ic_buf_append(out, p->user_raw.p, p->user_raw.len);
}
