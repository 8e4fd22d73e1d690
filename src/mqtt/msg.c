/* msg.c - immutable refcounted messages and their shared PUBLISH frames.
 *
 * Owns each message's single allocation (header, topic, payload, forwarded
 * properties) and its lazily built frames. It must not know about
 * subscribers or connections: per-delivery bytes (first byte, packet id,
 * remaining expiry) are the caller's. Loop thread only (refcounts are not
 * atomic).
 */
#include "iotcored/msg.h"

#include "iotcored/alloc.h"

#include <stdlib.h>
#include <string.h>

static ic_msg_t *alloc_msg(size_t topic_len, size_t payload_len,
                           size_t props_len) {
    ic_msg_t *m = ic_xmalloc(sizeof(*m) + topic_len + 1 + payload_len + props_len);
    memset(m, 0, sizeof(*m));
    m->refs = 1;
    m->topic = (char *)(m + 1);
    m->payload = (uint8_t *)m->topic + topic_len + 1;
    m->props = m->payload + payload_len;
    m->topic_len = (uint16_t)topic_len;
    m->payload_len = (uint32_t)payload_len;
    m->props_len = (uint32_t)props_len;
    return m;
}

ic_msg_t *ic_msg_new_raw(const char *topic, size_t topic_len,
                         const void *payload, size_t payload_len, uint8_t qos,
                         bool retain, const void *props_blob, size_t props_len,
                         int64_t expires_at_ms) {
    ic_msg_t *m = alloc_msg(topic_len, payload_len, props_len);
    memcpy(m->topic, topic, topic_len);
    m->topic[topic_len] = '\0';
    if (payload_len)
        memcpy(m->payload, payload, payload_len);
    if (props_len)
        memcpy(m->props, props_blob, props_len);
    m->qos = qos;
    m->retain = retain;
    m->expires_at_ms = expires_at_ms;
    return m;
}

/* The forwarded subset of a PUBLISH's properties, re-encoded: payload
 * format, content type, response topic, correlation data, then user
 * properties in order. Topic alias and subscription identifiers are
 * per-hop; message expiry is kept as a deadline. */
static size_t forwarded_props(const ic_props_t *in, ic_buf_t *out) {
    ic_props_t p;
    size_t user_len;
    uint8_t *user = NULL;
    memset(&p, 0, sizeof(p));
    p.present = in->present & (IC_PROP_BIT(IC_PROP_PAYLOAD_FORMAT) |
                               IC_PROP_BIT(IC_PROP_CONTENT_TYPE) |
                               IC_PROP_BIT(IC_PROP_RESPONSE_TOPIC) |
                               IC_PROP_BIT(IC_PROP_CORRELATION_DATA));
    p.payload_format = in->payload_format;
    p.content_type = in->content_type;
    p.response_topic = in->response_topic;
    p.correlation_data = in->correlation_data;
    user_len = ic_props_user_size(in);
    if (user_len) {
        user = ic_xmalloc(user_len);
        ic_props_user_copy(in, user);
        p.n_user = in->n_user;
        p.user_raw.p = user;
        p.user_raw.len = user_len;
    }
    ic_props_encode(out, &p);
    free(user);
    /* drop the varint length prefix: the blob is the bare property list */
    {
        uint32_t n;
        int used = ic_varint_decode(out->data, out->len, &n);
        memmove(out->data, out->data + used, out->len - (size_t)used);
        out->len -= (size_t)used;
    }
    return out->len;
}

ic_msg_t *ic_msg_new(const char *topic, size_t topic_len, const void *payload,
                     size_t payload_len, uint8_t qos, bool retain,
                     const ic_props_t *props, int64_t now_ms) {
    ic_buf_t blob;
    ic_msg_t *m;
    int64_t expires = 0;
    ic_buf_init(&blob);
    if (props != NULL) {
        forwarded_props(props, &blob);
        if (props->present & IC_PROP_BIT(IC_PROP_MESSAGE_EXPIRY)) {
            /* AWS: 0 is raised to 1, more than 7 days is clamped. */
            uint32_t s = props->message_expiry;
            if (s < 1)
                s = 1;
            if (s > IC_MSG_EXPIRY_MAX_S)
                s = IC_MSG_EXPIRY_MAX_S;
            expires = now_ms + (int64_t)s * 1000;
        }
    }
    m = ic_msg_new_raw(topic, topic_len, payload, payload_len, qos, retain,
                       blob.data, blob.len, expires);
    m->at_ms = now_ms;
    ic_buf_free(&blob);
    return m;
}

void ic_msg_unref(ic_msg_t *m) {
    int v, q;
    if (m == NULL || --m->refs > 0)
        return;
    for (v = 0; v < 2; v++)
        for (q = 0; q < 2; q++)
            free(m->frames[v][q].buf);
    free(m);
}

static void encode_frame(ic_msg_t *m, uint8_t version, uint8_t qos,
                         ic_frame_t *f) {
    bool is_v5 = version == IC_MQTT_V5;
    uint32_t props_len = 0, rem;
    ic_buf_t b;
    if (is_v5)
        props_len = m->props_len + (m->expires_at_ms ? 5u : 0u);
    rem = 2u + m->topic_len + (qos ? 2u : 0u) +
          (is_v5 ? (uint32_t)ic_varint_size(props_len) + props_len : 0u) +
          m->payload_len;
    ic_buf_init(&b);
    ic_buf_reserve(&b, 5 + rem);
    ic_buf_put_u8(&b, (uint8_t)(IC_MQTT_PUBLISH << 4 | qos << 1));
    ic_buf_put_varint(&b, rem);
    ic_buf_put_bin(&b, m->topic, m->topic_len);
    f->pid_off = 0;
    if (qos) {
        f->pid_off = (uint32_t)b.len;
        ic_buf_put_u16(&b, 0);
    }
    f->exp_off = 0;
    if (is_v5) {
        ic_buf_put_varint(&b, props_len);
        if (m->expires_at_ms) {
            ic_buf_put_u8(&b, IC_PROP_MESSAGE_EXPIRY);
            f->exp_off = (uint32_t)b.len;
            ic_buf_put_u32(&b, 0);
        }
        ic_buf_append(&b, m->props, m->props_len);
    }
    ic_buf_append(&b, m->payload, m->payload_len);
    f->buf = b.data;
    f->len = (uint32_t)b.len;
}

const ic_frame_t *ic_msg_frame(ic_msg_t *m, uint8_t version, uint8_t qos) {
    ic_frame_t *f = &m->frames[version == IC_MQTT_V5][qos ? 1 : 0];
    if (f->buf == NULL)
        encode_frame(m, version, qos ? 1 : 0, f);
    return f;
}

bool ic_msg_is_expired(const ic_msg_t *m, int64_t now_ms) {
    return m->expires_at_ms != 0 && now_ms >= m->expires_at_ms;
}

uint32_t ic_msg_expiry_left(const ic_msg_t *m, int64_t now_ms) {
    if (m->expires_at_ms == 0 || now_ms >= m->expires_at_ms)
        return 0;
    return (uint32_t)((m->expires_at_ms - now_ms) / 1000);
}
