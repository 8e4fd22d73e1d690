/* codec.c - MQTT 3.1.1 and 5.0 packet decoding and encoding.
 *
 * Owns the wire format of every packet type: fixed header, variable header
 * and payload, with the reserved-bit and field rules of both versions.
 * Decoding is incremental and side-effect free until a whole packet is
 * present; results are views into the caller's bytes. It must not judge
 * what a packet means for the broker (proto.c does) and never allocates.
 * Properties are in props.c.
 */
#include "iotcored/codec.h"

#include "iotcored/error.h"

#include <string.h>

/* A cursor over one packet's body. */
typedef struct rd_s {
    const uint8_t *p;
    size_t len, pos;
    const char *why; /* first failure */
} rd_t;

static bool fail(rd_t *r, const char *why) {
    if (r->why == NULL)
        r->why = why;
    return false;
}

static bool rd_u8(rd_t *r, uint8_t *v) {
    if (r->pos + 1 > r->len)
        return fail(r, "truncated field");
    *v = r->p[r->pos++];
    return true;
}

static bool rd_u16(rd_t *r, uint16_t *v) {
    if (r->pos + 2 > r->len)
        return fail(r, "truncated field");
    *v = (uint16_t)(r->p[r->pos] << 8 | r->p[r->pos + 1]);
    r->pos += 2;
    return true;
}

static bool rd_bin(rd_t *r, ic_bytes_t *v) {
    uint16_t n;
    if (!rd_u16(r, &n) || r->pos + n > r->len)
        return fail(r, "truncated string");
    v->p = r->p + r->pos;
    v->len = n;
    r->pos += n;
    return true;
}

/* [MQTT-1.5.4-1..2] UTF-8 encoded string */
static bool rd_str(rd_t *r, ic_bytes_t *v) {
    if (!rd_bin(r, v))
        return false;
    if (!ic_codec_is_utf8(v->p, v->len))
        return fail(r, "string is not valid MQTT UTF-8");
    return true;
}

static bool rd_props(rd_t *r, uint8_t type, ic_props_t *out) {
    const char *why = NULL;
    int n = ic_props_decode(r->p + r->pos, r->len - r->pos, type, out, &why);
    if (n < 0)
        return fail(r, why ? why : "bad properties");
    r->pos += (size_t)n;
    return true;
}

static bool rd_end(rd_t *r) {
    if (r->pos != r->len)
        return fail(r, "remaining length does not match contents");
    return true;
}

/* ---- decode, one function per packet type ----------------------------------- */

static int dec_connect(rd_t *r, ic_connect_t *c) {
    ic_bytes_t name;
    uint8_t level, flags;
    bool has_will, will_retain;
    uint8_t will_qos;
    memset(c, 0, sizeof(*c));
    if (!rd_bin(r, &name) || !rd_u8(r, &level))
        return IC_EMALFORMED;
    if (name.len == 6 && memcmp(name.p, "MQIsdp", 6) == 0) {
        r->why = "MQTT 3.1 (MQIsdp) is not supported";
        return IC_EPROTO;
    }
    if (name.len != 4 || memcmp(name.p, "MQTT", 4) != 0) {
        r->why = "unknown protocol name"; /* [MQTT-3.1.2-1] */
        return IC_EPROTO;
    }
    if (level != IC_MQTT_V311 && level != IC_MQTT_V5) {
        r->why = "unsupported protocol level"; /* [MQTT-3.1.2-2] */
        return IC_EPROTO;
    }
    c->version = level;
    if (!rd_u8(r, &flags) || !rd_u16(r, &c->keep_alive))
        return IC_EMALFORMED;
    if (flags & 0x01)
        return fail(r, "reserved CONNECT flag set"), IC_EMALFORMED; /* [MQTT-3.1.2-3] */
    c->clean_start = (flags & 0x02) != 0;
    has_will = (flags & 0x04) != 0;
    will_qos = (flags >> 3) & 0x03;
    will_retain = (flags & 0x20) != 0;
    c->has_password = (flags & 0x40) != 0;
    c->has_username = (flags & 0x80) != 0;
    if (!has_will && (will_qos || will_retain)) /* [MQTT-3.1.2-11,13,15] */
        return fail(r, "will QoS/retain without will"), IC_EMALFORMED;
    if (will_qos == 3) /* [MQTT-3.1.2-14] */
        return fail(r, "will QoS 3"), IC_EMALFORMED;
    if (level == IC_MQTT_V311 && c->has_password && !c->has_username)
        return fail(r, "password without user name"), IC_EMALFORMED; /* [MQTT-3.1.2-22] */
    if (level == IC_MQTT_V5 && !rd_props(r, IC_MQTT_CONNECT, &c->props))
        return IC_EMALFORMED;
    if (!rd_str(r, &c->client_id))
        return IC_EMALFORMED;
    if (has_will) {
        c->has_will = true;
        c->will.qos = will_qos;
        c->will.retain = will_retain;
        if (level == IC_MQTT_V5 && !rd_props(r, 0, &c->will.props))
            return IC_EMALFORMED;
        if (!rd_str(r, &c->will.topic) || !rd_bin(r, &c->will.payload))
            return IC_EMALFORMED;
    }
    if (c->has_username && !rd_str(r, &c->username))
        return IC_EMALFORMED;
    if (c->has_password && !rd_bin(r, &c->password))
        return IC_EMALFORMED;
    return rd_end(r) ? 0 : IC_EMALFORMED;
}

static int dec_connack(rd_t *r, uint8_t version, ic_connack_t *c) {
    uint8_t flags;
    memset(c, 0, sizeof(*c));
    if (!rd_u8(r, &flags) || !rd_u8(r, &c->rc))
        return IC_EMALFORMED;
    if (flags & 0xFE)
        return fail(r, "reserved CONNACK flags set"), IC_EMALFORMED;
    c->session_present = flags & 1;
    if (version == IC_MQTT_V5 && !rd_props(r, IC_MQTT_CONNACK, &c->props))
        return IC_EMALFORMED;
    return rd_end(r) ? 0 : IC_EMALFORMED;
}

static int dec_publish(rd_t *r, uint8_t version, uint8_t flags,
                       ic_publish_t *p) {
    memset(p, 0, sizeof(*p));
    p->dup = (flags & 0x08) != 0;
    p->qos = (flags >> 1) & 0x03;
    p->retain = flags & 0x01;
    if (p->qos == 3) /* [MQTT-3.3.1-4] */
        return fail(r, "PUBLISH QoS 3"), IC_EMALFORMED;
    if (p->dup && p->qos == 0) /* [MQTT-3.3.1-2] */
        return fail(r, "DUP set on QoS 0"), IC_EMALFORMED;
    if (!rd_str(r, &p->topic))
        return IC_EMALFORMED;
    if (p->qos > 0) {
        if (!rd_u16(r, &p->packet_id))
            return IC_EMALFORMED;
        if (p->packet_id == 0) /* [MQTT-2.2.1-3] */
            return fail(r, "packet identifier 0"), IC_EMALFORMED;
    }
    if (version == IC_MQTT_V5 && !rd_props(r, IC_MQTT_PUBLISH, &p->props))
        return IC_EMALFORMED;
    p->payload.p = r->p + r->pos;
    p->payload.len = r->len - r->pos;
    r->pos = r->len;
    return 0;
}

static int dec_ack(rd_t *r, uint8_t version, uint8_t type, ic_ack_t *a) {
    memset(a, 0, sizeof(*a));
    if (!rd_u16(r, &a->packet_id))
        return IC_EMALFORMED;
    if (a->packet_id == 0)
        return fail(r, "packet identifier 0"), IC_EMALFORMED;
    if (version == IC_MQTT_V5) {
        /* [MQTT-3.4.2.1] reason code and properties may be omitted */
        if (r->pos < r->len && !rd_u8(r, &a->rc))
            return IC_EMALFORMED;
        if (r->pos < r->len && !rd_props(r, type, &a->props))
            return IC_EMALFORMED;
    }
    return rd_end(r) ? 0 : IC_EMALFORMED;
}

static int dec_subscribe(rd_t *r, uint8_t version, uint8_t type,
                         ic_subscribe_t *s) {
    s->packet_id = 0;
    s->n_total = 0;
    memset(&s->props, 0, sizeof(s->props));
    if (!rd_u16(r, &s->packet_id))
        return IC_EMALFORMED;
    if (s->packet_id == 0)
        return fail(r, "packet identifier 0"), IC_EMALFORMED;
    if (version == IC_MQTT_V5 && !rd_props(r, type, &s->props))
        return IC_EMALFORMED;
    while (r->pos < r->len) {
        ic_sub_entry_t e = {{NULL, 0}, 0};
        if (!rd_str(r, &e.filter))
            return IC_EMALFORMED;
        if (type == IC_MQTT_SUBSCRIBE) {
            if (!rd_u8(r, &e.opts))
                return IC_EMALFORMED;
            if (IC_SUBOPT_QOS(e.opts) == 3) /* [MQTT-3.8.3-5] */
                return fail(r, "subscription QoS 3"), IC_EMALFORMED;
            if (version == IC_MQTT_V311 && (e.opts & 0xFC))
                return fail(r, "reserved subscription option bits"), IC_EMALFORMED;
            if (version == IC_MQTT_V5 &&
                ((e.opts & 0xC0) || IC_SUBOPT_RH(e.opts) == 3))
                return fail(r, "reserved subscription option bits"), IC_EMALFORMED;
        }
        if (s->n_total < IC_MQTT_MAX_ENTRIES)
            s->e[s->n_total] = e;
        s->n_total++;
    }
    if (s->n_total == 0) /* [MQTT-3.8.3-2], [MQTT-3.10.3-2] */
        return fail(r, "no topic filters"), IC_EMALFORMED;
    return 0;
}

static int dec_suback(rd_t *r, uint8_t version, uint8_t type, ic_suback_t *s) {
    memset(s, 0, sizeof(*s));
    if (!rd_u16(r, &s->packet_id))
        return IC_EMALFORMED;
    if (version == IC_MQTT_V5 && !rd_props(r, type, &s->props))
        return IC_EMALFORMED;
    s->rcs.p = r->p + r->pos;
    s->rcs.len = r->len - r->pos;
    r->pos = r->len;
    if (type == IC_MQTT_SUBACK && s->rcs.len == 0)
        return fail(r, "SUBACK without codes"), IC_EMALFORMED;
    if (type == IC_MQTT_UNSUBACK && version == IC_MQTT_V311 && s->rcs.len)
        return fail(r, "remaining length does not match contents"), IC_EMALFORMED;
    return 0;
}

static int dec_disconnect(rd_t *r, uint8_t version, uint8_t type, ic_ack_t *a) {
    memset(a, 0, sizeof(*a));
    if (version == IC_MQTT_V5) {
        if (r->pos < r->len && !rd_u8(r, &a->rc))
            return IC_EMALFORMED;
        if (r->pos < r->len && !rd_props(r, type, &a->props))
            return IC_EMALFORMED;
    }
    return rd_end(r) ? 0 : IC_EMALFORMED;
}

/* Required fixed-header flags per type; 0xFF = PUBLISH (checked apart). */
static const uint8_t required_flags[16] = {0, 0, 0, 0xFF, 0, 0, 2, 0,
                                           2, 0, 2, 0, 0, 0, 0, 0};

int ic_codec_decode(const uint8_t *buf, size_t len, uint8_t version,
                    uint32_t max_packet, ic_packet_t *pkt) {
    uint32_t rem;
    size_t total;
    int n, rc;
    rd_t r;
    pkt->why = NULL;
    if (len < 2)
        return IC_EAGAIN;
    n = ic_varint_decode(buf + 1, len - 1, &rem);
    if (n == IC_EAGAIN)
        return IC_EAGAIN;
    pkt->type = buf[0] >> 4;
    pkt->flags = buf[0] & 0x0F;
    if (n < 0) {
        pkt->why = "bad remaining length";
        return IC_EMALFORMED;
    }
    pkt->remaining = rem;
    total = 1 + (size_t)n + rem;
    if (total > max_packet) {
        pkt->why = "packet larger than the maximum packet size";
        return IC_ETOOBIG;
    }
    if (len < total)
        return IC_EAGAIN;
    if (pkt->type == 0 || (pkt->type == IC_MQTT_AUTH && version != IC_MQTT_V5 &&
                           version != 0)) {
        pkt->why = pkt->type == 0 ? "reserved packet type 0" : "AUTH in MQTT 3.1.1";
        return IC_EPROTO;
    }
    if (required_flags[pkt->type] != 0xFF &&
        pkt->flags != required_flags[pkt->type]) {
        pkt->why = "reserved fixed-header flags"; /* [MQTT-2.2.2-2] */
        return IC_EMALFORMED;
    }
    r.p = buf + 1 + n;
    r.len = rem;
    r.pos = 0;
    r.why = NULL;
    switch (pkt->type) {
    case IC_MQTT_CONNECT:
        rc = dec_connect(&r, &pkt->u.connect);
        break;
    case IC_MQTT_CONNACK:
        rc = dec_connack(&r, version, &pkt->u.connack);
        break;
    case IC_MQTT_PUBLISH:
        rc = dec_publish(&r, version, pkt->flags, &pkt->u.publish);
        break;
    case IC_MQTT_PUBACK:
    case IC_MQTT_PUBREC:
    case IC_MQTT_PUBREL:
    case IC_MQTT_PUBCOMP:
        rc = dec_ack(&r, version, pkt->type, &pkt->u.ack);
        break;
    case IC_MQTT_SUBSCRIBE:
    case IC_MQTT_UNSUBSCRIBE:
        rc = dec_subscribe(&r, version, pkt->type, &pkt->u.subscribe);
        break;
    case IC_MQTT_SUBACK:
    case IC_MQTT_UNSUBACK:
        rc = dec_suback(&r, version, pkt->type, &pkt->u.suback);
        break;
    case IC_MQTT_PINGREQ:
    case IC_MQTT_PINGRESP:
        rc = rd_end(&r) ? 0 : IC_EMALFORMED;
        break;
    default: /* DISCONNECT, AUTH */
        rc = dec_disconnect(&r, version, pkt->type, &pkt->u.ack);
        break;
    }
    if (rc != 0) {
        pkt->why = r.why ? r.why : "malformed packet";
        return rc;
    }
    return (int)total;
}

/* ---- encode ------------------------------------------------------------------ */

static bool fits16(size_t n) {
    return n <= 0xFFFF;
}

static void put_props(ic_buf_t *b, uint8_t version, const ic_props_t *p) {
    if (version == IC_MQTT_V5)
        ic_props_encode(b, p);
}

static int enc_connect(ic_buf_t *b, const ic_connect_t *c) {
    uint8_t flags = 0;
    if (!fits16(c->client_id.len) || !fits16(c->will.topic.len) ||
        !fits16(c->will.payload.len) || !fits16(c->username.len) ||
        !fits16(c->password.len))
        return IC_EINVAL;
    ic_buf_put_bin(b, "MQTT", 4);
    ic_buf_put_u8(b, c->version);
    if (c->clean_start)
        flags |= 0x02;
    if (c->has_will)
        flags |= (uint8_t)(0x04 | (c->will.qos & 3) << 3 | (c->will.retain ? 0x20 : 0));
    if (c->has_password)
        flags |= 0x40;
    if (c->has_username)
        flags |= 0x80;
    ic_buf_put_u8(b, flags);
    ic_buf_put_u16(b, c->keep_alive);
    put_props(b, c->version, &c->props);
    ic_buf_put_bin(b, c->client_id.p, (uint16_t)c->client_id.len);
    if (c->has_will) {
        put_props(b, c->version, &c->will.props);
        ic_buf_put_bin(b, c->will.topic.p, (uint16_t)c->will.topic.len);
        ic_buf_put_bin(b, c->will.payload.p, (uint16_t)c->will.payload.len);
    }
    if (c->has_username)
        ic_buf_put_bin(b, c->username.p, (uint16_t)c->username.len);
    if (c->has_password)
        ic_buf_put_bin(b, c->password.p, (uint16_t)c->password.len);
    return 0;
}

static void enc_ack(ic_buf_t *b, uint8_t version, const ic_ack_t *a) {
    ic_buf_put_u16(b, a->packet_id);
    /* [MQTT-3.4.2.1] shortest form when success and no properties */
    if (version == IC_MQTT_V5 && (a->rc != 0 || ic_props_size(&a->props) != 0)) {
        ic_buf_put_u8(b, a->rc);
        if (ic_props_size(&a->props) != 0)
            ic_props_encode(b, &a->props);
    }
}

static int enc_subscribe(ic_buf_t *b, uint8_t version, uint8_t type,
                         const ic_subscribe_t *s) {
    size_t i, n = s->n_total < IC_MQTT_MAX_ENTRIES ? s->n_total : IC_MQTT_MAX_ENTRIES;
    ic_buf_put_u16(b, s->packet_id);
    put_props(b, version, &s->props);
    for (i = 0; i < n; i++) {
        if (!fits16(s->e[i].filter.len))
            return IC_EINVAL;
        ic_buf_put_bin(b, s->e[i].filter.p, (uint16_t)s->e[i].filter.len);
        if (type == IC_MQTT_SUBSCRIBE)
            ic_buf_put_u8(b, s->e[i].opts);
    }
    return 0;
}

static uint8_t first_byte(const ic_packet_t *pkt) {
    uint8_t t = pkt->type;
    if (t == IC_MQTT_PUBLISH) {
        const ic_publish_t *p = &pkt->u.publish;
        return (uint8_t)(t << 4 | (p->dup ? 0x08 : 0) | (p->qos & 3) << 1 |
                         (p->retain ? 1 : 0));
    }
    return (uint8_t)(t << 4 | required_flags[t]);
}

int ic_codec_encode(ic_buf_t *out, uint8_t version, const ic_packet_t *pkt) {
    size_t start = out->len, body, rem;
    int rc = 0, vlen;
    ic_buf_put_u8(out, first_byte(pkt));
    ic_buf_append(out, "\0\0\0\0", 4); /* room for the remaining length */
    body = out->len;
    switch (pkt->type) {
    case IC_MQTT_CONNECT:
        rc = enc_connect(out, &pkt->u.connect);
        break;
    case IC_MQTT_CONNACK:
        ic_buf_put_u8(out, pkt->u.connack.session_present ? 1 : 0);
        ic_buf_put_u8(out, pkt->u.connack.rc);
        put_props(out, version, &pkt->u.connack.props);
        break;
    case IC_MQTT_PUBLISH: {
        const ic_publish_t *p = &pkt->u.publish;
        if (!fits16(p->topic.len)) {
            rc = IC_EINVAL;
            break;
        }
        ic_buf_put_bin(out, p->topic.p, (uint16_t)p->topic.len);
        if (p->qos > 0)
            ic_buf_put_u16(out, p->packet_id);
        put_props(out, version, &p->props);
        ic_buf_append(out, p->payload.p, p->payload.len);
        break;
    }
    case IC_MQTT_PUBACK:
    case IC_MQTT_PUBREC:
    case IC_MQTT_PUBREL:
    case IC_MQTT_PUBCOMP:
        enc_ack(out, version, &pkt->u.ack);
        break;
    case IC_MQTT_SUBSCRIBE:
    case IC_MQTT_UNSUBSCRIBE:
        rc = enc_subscribe(out, version, pkt->type, &pkt->u.subscribe);
        break;
    case IC_MQTT_SUBACK:
    case IC_MQTT_UNSUBACK:
        ic_buf_put_u16(out, pkt->u.suback.packet_id);
        put_props(out, version, &pkt->u.suback.props);
        if (pkt->type == IC_MQTT_SUBACK || version == IC_MQTT_V5)
            ic_buf_append(out, pkt->u.suback.rcs.p, pkt->u.suback.rcs.len);
        break;
    case IC_MQTT_PINGREQ:
    case IC_MQTT_PINGRESP:
        break;
    case IC_MQTT_DISCONNECT:
    case IC_MQTT_AUTH:
        if (version == IC_MQTT_V5 &&
            (pkt->u.ack.rc != 0 || ic_props_size(&pkt->u.ack.props) != 0)) {
            ic_buf_put_u8(out, pkt->u.ack.rc);
            if (ic_props_size(&pkt->u.ack.props) != 0)
                ic_props_encode(out, &pkt->u.ack.props);
        }
        break;
    default:
        rc = IC_EINVAL;
        break;
    }
    rem = out->len - body;
    if (rc != 0 || rem > 268435455u) {
        out->len = start;
        return rc ? rc : IC_EINVAL;
    }
    /* Write the remaining length in its minimal size and close the gap. */
    vlen = ic_varint_size((uint32_t)rem);
    memmove(out->data + start + 1 + vlen, out->data + body, rem);
    out->len = start + 1 + (size_t)vlen + rem;
    {
        size_t save = out->len;
        out->len = start + 1;
        ic_buf_put_varint(out, (uint32_t)rem);
        out->len = save;
    }
    return 0;
}
