/* test_router.c - the publish path over real sessions, retain store, trie
 * and messages, with a recording sink in place of connections. */
#include "iotcored/codec.h"
#include "iotcored/config.h"
#include "iotcored/error.h"
#include "iotcored/msg.h"
#include "iotcored/profile.h"
#include "iotcored/retain.h"
#include "iotcored/router.h"
#include "iotcored/session.h"
#include "suites.h"

#include <stdlib.h>
#include <string.h>

typedef struct delivery_s {
    void *conn;
    char topic[64];
    uint8_t qos;
    uint16_t pid;
    bool retain, dup;
} delivery_t;

static delivery_t got[256];
static int n_got;

static void rec_publish(void *conn, ic_msg_t *m, uint8_t qos, uint16_t pid,
                        bool retain, bool dup) {
    delivery_t *d = &got[n_got++];
    d->conn = conn;
    memcpy(d->topic, m->topic, m->topic_len + 1u);
    d->qos = qos;
    d->pid = pid;
    d->retain = retain;
    d->dup = dup;
}

static const ic_session_sink_t rec = {rec_publish, NULL};

typedef struct fixture_s {
    ic_config_t cfg;
    ic_profile_t p;
    ic_sessions_t *ss;
    ic_retain_t *rt;
    ic_router_t *r;
} fixture_t;

static void fx_init(fixture_t *f, size_t max_queued) {
    ic_session_limits_t lim = {max_queued, 2};
    ic_config_init(&f->cfg);
    ic_profile_aws(&f->p, &f->cfg);
    f->ss = ic_sessions_new(NULL, &lim);
    f->rt = ic_retain_new(NULL);
    f->r = ic_router_new(&f->p, f->ss, f->rt);
    n_got = 0;
}

static void fx_fini(fixture_t *f) {
    ic_router_free(f->r);
    ic_sessions_free(f->ss);
    ic_retain_free(f->rt);
    ic_config_free(&f->cfg);
}

static ic_session_t *online(fixture_t *f, const char *id, void *conn,
                            uint32_t expiry) {
    ic_session_t *s = ic_sessions_create(f->ss, id, strlen(id), IC_MQTT_V5, expiry);
    ic_session_attach(s, conn, &rec, 2);
    return s;
}

static void publish(fixture_t *f, const char *topic, uint8_t qos, bool retain,
                    const void *origin) {
    ic_msg_t *m = ic_msg_new(topic, strlen(topic), "p", 1, qos, retain, NULL, 1000);
    m->origin = origin;
    ic_router_publish(f->r, m, 1000);
    ic_msg_unref(m);
}

START_TEST(overlapping_filters_deliver_once_at_max_qos) {
    fixture_t f;
    ic_session_t *s;
    int conn;
    fx_init(&f, 10);
    s = online(&f, "a", &conn, 0);
    ic_router_subscribe(f.r, s, "x/+", 3, 0);
    ic_router_subscribe(f.r, s, "x/#", 3, 1);
    publish(&f, "x/y", 1, false, NULL);
    ck_assert_int_eq(n_got, 1);
    ck_assert_int_eq(got[0].qos, 1);
    ck_assert_int_eq(got[0].pid, 1);
    /* AWS: x/# does not match x */
    publish(&f, "x", 1, false, NULL);
    ck_assert_int_eq(n_got, 1);
    fx_fini(&f);
}
END_TEST

START_TEST(qos_downgrade_no_local_and_rap) {
    fixture_t f;
    ic_session_t *a, *b;
    int ca, cb;
    fx_init(&f, 10);
    a = online(&f, "a", &ca, 0);
    b = online(&f, "b", &cb, 0);
    ic_router_subscribe(f.r, a, "t", 1, 0 | IC_SUBOPT_NO_LOCAL);
    ic_router_subscribe(f.r, b, "t", 1, 1 | IC_SUBOPT_RAP);
    publish(&f, "t", 1, true, a);
    ck_assert_int_eq(n_got, 1); /* a's own message skipped */
    ck_assert_ptr_eq(got[0].conn, &cb);
    ck_assert(got[0].retain); /* retain as published */
    publish(&f, "t", 1, true, b);
    ck_assert_int_eq(n_got, 3);
    ck_assert_int_eq(got[1].qos + got[2].qos, 1); /* a at QoS 0, b at 1 */
    fx_fini(&f);
}
END_TEST

START_TEST(shared_round_robin_and_offline_persistent) {
    fixture_t f;
    ic_session_t *a, *b;
    int ca, cb, i;
    fx_init(&f, 10);
    a = online(&f, "a", &ca, 0);
    b = online(&f, "b", &cb, 3600);
    ic_router_subscribe(f.r, a, "$share/g/s", 10, 1);
    ic_router_subscribe(f.r, b, "$share/g/s", 10, 1);
    for (i = 0; i < 4; i++)
        publish(&f, "s", 0, false, NULL);
    ck_assert_int_eq(n_got, 4);
    ck_assert_ptr_ne(got[0].conn, got[1].conn);
    ck_assert_ptr_eq(got[0].conn, got[2].conn);
    /* only b's persistent session offline: QoS 1 is queued for it */
    ic_session_detach(b, 2000);
    ic_session_detach(a, 2000);
    ic_router_forget(f.r, a);
    ic_sessions_destroy(f.ss, a);
    publish(&f, "s", 1, false, NULL);
    ck_assert_int_eq((int)b->q_n, 1);
    fx_fini(&f);
}
END_TEST

START_TEST(retained_exact_only) {
    fixture_t f;
    ic_session_t *s;
    int c;
    fx_init(&f, 10);
    s = online(&f, "a", &c, 0);
    publish(&f, "r/t", 1, true, NULL);
    ck_assert_int_eq((int)ic_retain_count(f.rt), 1);
    ic_router_send_retained(f.r, s, "r/+", 3, 1, 1000);
    ck_assert_int_eq(n_got, 0);
    ic_router_send_retained(f.r, s, "$share/g/r/t", 12, 1, 1000);
    ck_assert_int_eq(n_got, 0);
    ic_router_send_retained(f.r, s, "r/t", 3, 1, 1000);
    ck_assert_int_eq(n_got, 1);
    ck_assert(got[0].retain);
    fx_fini(&f);
}
END_TEST

START_TEST(window_queue_and_puback) {
    fixture_t f;
    ic_session_t *s;
    int c, i;
    fx_init(&f, 3);
    s = online(&f, "a", &c, 3600);
    ic_router_subscribe(f.r, s, "w", 1, 1);
    for (i = 0; i < 6; i++)
        publish(&f, "w", 1, false, NULL);
    /* window 2 in flight, 3 queued, 1 dropped */
    ck_assert_int_eq(n_got, 2);
    ck_assert_int_eq((int)s->n_inflight, 2);
    ck_assert_int_eq((int)s->q_n, 3);
    ck_assert_int_eq((int)s->dropped, 1);
    ck_assert_int_eq(ic_session_puback(s, 99, 1000), IC_ENOENT);
    ck_assert_int_eq(ic_session_puback(s, got[0].pid, 1000), 0);
    ck_assert_int_eq(n_got, 3);
    /* offline then resume: in-flight resent with DUP, in order */
    ic_session_detach(s, 1000);
    publish(&f, "w", 0, false, NULL); /* QoS 0 not queued offline */
    ck_assert_int_eq(n_got, 3);
    ic_session_attach(s, &c, &rec, 2);
    ic_session_resume(s, 1000);
    ck_assert_int_eq(n_got, 5);
    ck_assert(got[3].dup && got[4].dup);
    fx_fini(&f);
}
END_TEST

START_TEST(frame_holes) {
    ic_props_t props;
    ic_msg_t *m;
    const ic_frame_t *f;
    memset(&props, 0, sizeof(props));
    props.present = IC_PROP_BIT(IC_PROP_MESSAGE_EXPIRY) |
                    IC_PROP_BIT(IC_PROP_CONTENT_TYPE);
    props.message_expiry = 30;
    props.content_type.p = (const uint8_t *)"text/plain";
    props.content_type.len = 10;
    m = ic_msg_new("a/b", 3, "hello", 5, 1, false, &props, 5000);
    ck_assert_int_eq((int)m->expires_at_ms, 35000);
    f = ic_msg_frame(m, IC_MQTT_V5, 1);
    ck_assert_ptr_eq(f, ic_msg_frame(m, IC_MQTT_V5, 1)); /* encoded once */
    ck_assert_int_eq((int)f->pid_off, 2 + 2 + 3);
    ck_assert_int_eq(f->buf[f->exp_off - 1], IC_PROP_MESSAGE_EXPIRY);
    {
        /* with the holes filled in, it is a valid PUBLISH */
        ic_packet_t p;
        uint8_t *copy = malloc(f->len);
        memcpy(copy, f->buf, f->len);
        copy[f->pid_off + 1] = 7;
        copy[f->exp_off + 3] = 29;
        ck_assert_int_eq(ic_codec_decode(copy, f->len, IC_MQTT_V5, 1u << 20, &p),
                         (int)f->len);
        ck_assert_int_eq(p.u.publish.packet_id, 7);
        ck_assert_uint_eq(p.u.publish.props.message_expiry, 29);
        ck_assert_int_eq((int)p.u.publish.props.content_type.len, 10);
        ck_assert_int_eq((int)p.u.publish.payload.len, 5);
        free(copy);
    }
    f = ic_msg_frame(m, IC_MQTT_V311, 0);
    ck_assert_int_eq((int)f->pid_off, 0);
    ck_assert_int_eq((int)f->exp_off, 0);
    ck_assert_int_eq((int)f->len, 2 + 2 + 3 + 5);
    ck_assert_uint_eq(ic_msg_expiry_left(m, 5999), 29);
    ck_assert(ic_msg_is_expired(m, 35000));
    ic_msg_unref(m);
}
END_TEST

Suite *ic_router_suite(void) {
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("publish");
    tcase_add_test(tc, overlapping_filters_deliver_once_at_max_qos);
    tcase_add_test(tc, qos_downgrade_no_local_and_rap);
    tcase_add_test(tc, shared_round_robin_and_offline_persistent);
    tcase_add_test(tc, retained_exact_only);
    tcase_add_test(tc, window_queue_and_puback);
    tcase_add_test(tc, frame_holes);
    suite_add_tcase(s, tc);
    return s;
}
