/* test_codec.c - golden vectors for every packet type in both versions:
 * decode, byte-exact re-encode, every truncation point is "need more",
 * malformed vectors map to their documented error; random bytes never
 * crash. Vectors are hand-assembled from the MQTT 3.1.1 and 5.0 specs. */
#include "iotcored/codec.h"
#include "iotcored/error.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vec_s {
    uint8_t version;
    const char *hex;
    uint8_t type;
} vec_t;

static const vec_t golden[] = {
    /* MQTT 3.1.1 */
    {4, "100f00044d5154540402003c0003616263", IC_MQTT_CONNECT},
    {4, "101a00044d51545404ee000a00016300017400027770000175000170", IC_MQTT_CONNECT},
    {4, "20020100", IC_MQTT_CONNACK},
    {4, "30070003612f626869", IC_MQTT_PUBLISH},
    {4, "3b090003612f6200076869", IC_MQTT_PUBLISH},
    {4, "40020007", IC_MQTT_PUBACK},
    {4, "50020007", IC_MQTT_PUBREC},
    {4, "62020007", IC_MQTT_PUBREL},
    {4, "70020007", IC_MQTT_PUBCOMP},
    {4, "820c00010003612f2b0100012300", IC_MQTT_SUBSCRIBE},
    {4, "900400010180", IC_MQTT_SUBACK},
    {4, "a20700020003612f62", IC_MQTT_UNSUBSCRIBE},
    {4, "b0020002", IC_MQTT_UNSUBACK},
    {4, "c000", IC_MQTT_PINGREQ},
    {4, "d000", IC_MQTT_PINGRESP},
    {4, "e000", IC_MQTT_DISCONNECT},
    /* MQTT 5 */
    {5, "101800044d5154540502003c08110000003c2100140003616263", IC_MQTT_CONNECT},
    {5, "102200044d515454050e003c000001630c18000000052600016b00017600017400027770",
     IC_MQTT_CONNECT},
    {5, "200700000424012501", IC_MQTT_CONNACK},
    {5, "321c0003612f620001120101020000003c030001742600016b0001766869", IC_MQTT_PUBLISH},
    {5, "30080000032300016869", IC_MQTT_PUBLISH},
    {5, "40020007", IC_MQTT_PUBACK},
    {5, "4003000790", IC_MQTT_PUBACK},
    {5, "400a000787061f00036e6f70", IC_MQTT_PUBACK},
    {5, "820b0001020b050003612f622d", IC_MQTT_SUBSCRIBE},
    {5, "90050001000187", IC_MQTT_SUBACK},
    {5, "a20800020000 03612f62", IC_MQTT_UNSUBSCRIBE},
    {5, "b00400020011", IC_MQTT_UNSUBACK},
    {5, "e000", IC_MQTT_DISCONNECT},
    {5, "e007040511 0000000a", IC_MQTT_DISCONNECT},
    {5, "f00118", IC_MQTT_AUTH},
    {5, "c000", IC_MQTT_PINGREQ},
};

typedef struct bad_s {
    uint8_t version;
    const char *hex;
    int rc;
} bad_t;

static const bad_t malformed[] = {
    {5, "30ffffffff01", IC_EMALFORMED},                 /* 5-byte varint */
    {4, "30800000", IC_EMALFORMED},                     /* overlong varint */
    {4, "a30700020003612f62", IC_EMALFORMED},           /* UNSUBSCRIBE flags */
    {4, "c100", IC_EMALFORMED},                         /* PINGREQ flags */
    {4, "80060001000161 01", IC_EMALFORMED},            /* SUBSCRIBE flags 0 */
    {4, "30050001ff6869", IC_EMALFORMED},               /* bad UTF-8 */
    {4, "30050001006869", IC_EMALFORMED},               /* U+0000 */
    {4, "30070003eda0806869", IC_EMALFORMED},           /* surrogate */
    {4, "30060003c0af6869", IC_EMALFORMED},             /* overlong UTF-8 */
    {5, "3009000161040101010168", IC_EMALFORMED},       /* duplicate property */
    {5, "300a00016105110000000168", IC_EMALFORMED},     /* not allowed here */
    {5, "300700016102010268", IC_EMALFORMED},           /* payload format 2 */
    {5, "30060001610107 68", IC_EMALFORMED},           /* unknown property */
    {4, "4003000700", IC_EMALFORMED},                   /* trailing bytes */
    {4, "36050001610001", IC_EMALFORMED},               /* QoS 3 */
    {4, "320700016100006869", IC_EMALFORMED},           /* packet id 0 */
    {4, "38050001616869", IC_EMALFORMED},               /* DUP on QoS 0 */
    {4, "82020001", IC_EMALFORMED},                     /* empty SUBSCRIBE */
    {4, "8206000100016104", IC_EMALFORMED},             /* 3.1.1 option bits */
    {5, "820700010000016130", IC_EMALFORMED},           /* v5 RH 3 */
    {4, "100f00044d5154540403003c0003616263", IC_EMALFORMED}, /* reserved */
    {4, "100f00044d515454041a003c0003616263", IC_EMALFORMED}, /* will QoS 3 */
    {4, "100f00044d5154540410003c0003616263", IC_EMALFORMED}, /* QoS w/o will */
    {4, "100f00044d5154540442003c0003616263", IC_EMALFORMED}, /* pass w/o user */
    {4, "100f00044d5154580402003c0003616263", IC_EPROTO},     /* name MQTX */
    {4, "100f00044d5154540302003c0003616263", IC_EPROTO},     /* level 3 */
    {4, "101100064d514973647003 02003c0003616263", IC_EPROTO},/* MQIsdp */
    {4, "0000", IC_EPROTO},                             /* type 0 */
    {4, "f000", IC_EPROTO},                             /* AUTH in 3.1.1 */
    {4, "300500ff616263", IC_EMALFORMED},               /* topic beyond end */
};

static size_t unhex(const char *hex, uint8_t *out) {
    size_t n = 0;
    while (*hex) {
        unsigned v;
        if (*hex == ' ') {
            hex++;
            continue;
        }
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

START_TEST(golden_round_trip) {
    const vec_t *v = &golden[_i];
    uint8_t in[512];
    size_t n = unhex(v->hex, in), cut;
    ic_packet_t p;
    ic_buf_t out;
    int rc = ic_codec_decode(in, n, v->version, 1u << 20, &p);
    ck_assert_msg(rc == (int)n, "vector %d: decode %d (%s)", _i, rc,
                  p.why ? p.why : "");
    ck_assert_int_eq(p.type, v->type);
    ic_buf_init(&out);
    ck_assert_int_eq(ic_codec_encode(&out, v->version, &p), 0);
    ck_assert_msg(out.len == n && memcmp(out.data, in, n) == 0,
                  "vector %d: re-encoding differs", _i);
    ic_buf_free(&out);
    for (cut = 0; cut < n; cut++)
        ck_assert_msg(ic_codec_decode(in, cut, v->version, 1u << 20, &p) ==
                          IC_EAGAIN,
                      "vector %d: truncated at %zu is not EAGAIN", _i, cut);
}
END_TEST

START_TEST(malformed_vectors) {
    const bad_t *b = &malformed[_i];
    uint8_t in[512];
    size_t n = unhex(b->hex, in);
    ic_packet_t p;
    int rc = ic_codec_decode(in, n, b->version, 1u << 20, &p);
    ck_assert_msg(rc == b->rc, "vector %d (%s): got %s", _i, b->hex,
                  ic_errname(rc));
    ck_assert_ptr_nonnull(p.why);
}
END_TEST

START_TEST(decoded_fields) {
    uint8_t in[512];
    ic_packet_t p;
    size_t n = unhex(golden[1].hex, in);
    ck_assert_int_gt(ic_codec_decode(in, n, 4, 1u << 20, &p), 0);
    ck_assert(p.u.connect.clean_start && p.u.connect.has_will);
    ck_assert_int_eq(p.u.connect.will.qos, 1);
    ck_assert(p.u.connect.will.retain);
    ck_assert_int_eq(p.u.connect.keep_alive, 10);
    ck_assert(memcmp(p.u.connect.will.payload.p, "wp", 2) == 0);
    ck_assert(memcmp(p.u.connect.password.p, "p", 1) == 0);

    n = unhex(golden[19].hex, in);
    ck_assert_int_gt(ic_codec_decode(in, n, 5, 1u << 20, &p), 0);
    ck_assert_int_eq(p.u.publish.qos, 1);
    ck_assert_int_eq(p.u.publish.packet_id, 1);
    ck_assert_uint_eq(p.u.publish.props.message_expiry, 60);
    ck_assert_int_eq((int)p.u.publish.props.n_user, 1);
    ck_assert_int_eq((int)ic_props_user_size(&p.u.publish.props), 7);
    ck_assert_int_eq((int)p.u.publish.payload.len, 2);

    n = unhex(golden[24].hex, in);
    ck_assert_int_gt(ic_codec_decode(in, n, 5, 1u << 20, &p), 0);
    ck_assert_uint_eq(p.u.subscribe.props.subscription_id, 5);
    ck_assert_int_eq((int)p.u.subscribe.n_total, 1);
    ck_assert_int_eq(IC_SUBOPT_QOS(p.u.subscribe.e[0].opts), 1);
    ck_assert_int_eq(IC_SUBOPT_RH(p.u.subscribe.e[0].opts), 2);
    ck_assert(p.u.subscribe.e[0].opts & IC_SUBOPT_NO_LOCAL);
}
END_TEST

START_TEST(too_big_from_header_alone) {
    static const uint8_t hdr[] = {0x30, 0xff, 0xff, 0x7f};
    ic_packet_t p;
    ck_assert_int_eq(ic_codec_decode(hdr, sizeof(hdr), 4, 1024, &p), IC_ETOOBIG);
}
END_TEST

START_TEST(user_props_not_contiguous) {
    /* user, content type, user: copy must gather both user entries */
    uint8_t in[64];
    size_t n = unhex("3017" "000161" "12" "2600016b000176" "03000174" "26000161000162" "68", in);
    ic_packet_t p;
    uint8_t copy[32];
    ck_assert_int_eq(ic_codec_decode(in, n, 5, 1u << 20, &p), (int)n);
    ck_assert_int_eq((int)p.u.publish.props.n_user, 2);
    ck_assert_int_eq((int)p.u.publish.props.user_raw.len, 0);
    ck_assert_int_eq((int)ic_props_user_size(&p.u.publish.props), 14);
    ic_props_user_copy(&p.u.publish.props, copy);
    ck_assert(memcmp(copy, "\x26\x00\x01k\x00\x01v\x26\x00\x01" "a\x00\x01" "b", 14) == 0);
}
END_TEST

START_TEST(random_bytes_never_crash) {
    unsigned seed = 42;
    int i;
    for (i = 0; i < 20000; i++) {
        uint8_t buf[64];
        size_t n = (size_t)(rand_r(&seed) % sizeof(buf)), k;
        ic_packet_t p;
        int rc;
        for (k = 0; k < n; k++)
            buf[k] = (uint8_t)rand_r(&seed);
        if (n > 0 && i % 2)
            buf[0] = (uint8_t)((rand_r(&seed) % 15 + 1) << 4);
        if (n > 1)
            buf[1] = (uint8_t)(n - 2 < 127 ? n - 2 : buf[1]);
        rc = ic_codec_decode(buf, n, (uint8_t)(i % 3 ? 5 : 4), 1u << 20, &p);
        ck_assert(rc == IC_EAGAIN || rc == IC_EMALFORMED || rc == IC_EPROTO ||
                  rc == IC_ETOOBIG || (rc > 0 && (size_t)rc <= n));
    }
}
END_TEST

START_TEST(utf8_rules) {
    ck_assert(ic_codec_is_utf8((const uint8_t *)"h\xc3\xa9llo \xf0\x9f\x98\x80", 11));
    ck_assert(!ic_codec_is_utf8((const uint8_t *)"\xed\xa0\x80", 3));
    ck_assert(!ic_codec_is_utf8((const uint8_t *)"\xf4\x90\x80\x80", 4));
    ck_assert(!ic_codec_is_utf8((const uint8_t *)"\xc3", 1));
    ck_assert(!ic_codec_is_utf8((const uint8_t *)"a\0b", 3));
}
END_TEST

Suite *ic_codec_suite(void) {
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("vectors");
    tcase_add_loop_test(tc, golden_round_trip, 0,
                        (int)(sizeof(golden) / sizeof(golden[0])));
    tcase_add_loop_test(tc, malformed_vectors, 0,
                        (int)(sizeof(malformed) / sizeof(malformed[0])));
    tcase_add_test(tc, decoded_fields);
    tcase_add_test(tc, too_big_from_header_alone);
    tcase_add_test(tc, user_props_not_contiguous);
    tcase_add_test(tc, random_bytes_never_crash);
    tcase_add_test(tc, utf8_rules);
    suite_add_tcase(s, tc);
    return s;
}
