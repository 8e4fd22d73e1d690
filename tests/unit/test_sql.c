/* test_sql.c - AWS IoT SQL (aws-iot-rules.md): every worked example of
 * section 14 as a table row, the type system and Undefined tables of section
 * 4, every function, substitution templates, SqlParseException messages,
 * the message-context functions and the bounds on hostile input.
 *
 * Rows give the expected outgoing payload byte-exact, or one of
 *   "!nofire"          WHERE was not true (or the FROM filter did not match)
 *   "!error:<text>"    evaluation error (IC_SQL_ERROR) with that text
 *   "!parse:<text>"    SqlParseException message
 * Expression rows run "SELECT VALUE <expr> FROM 't/#'" on a fixed payload,
 * so an Undefined value is the empty string. */
#include "iotcored/alloc.h"
#include "iotcored/sql.h"
#include "iotcored/topic.h"
#include "suites.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V15 "2015-10-08"
#define V16 "2016-03-23"

/* ---- harness ------------------------------------------------------------- */

typedef struct opts_s {
    const char *ver;        /* NULL: 2016-03-23 */
    const char *topic;      /* NULL: "t/x" */
    const void *payload;    /* NULL: "{}" */
    size_t payload_len;     /* 0 with payload set: strlen */
    const ic_sql_ctx_t *ctx; /* template for the other context fields */
} opts_t;

/* Run sql on a message; the result as a malloc'd string per the row
 * conventions. A publish to $aws/rules/<rule>/rest runs with topic rest
 * and no FROM check (U86); any other topic must match FROM. */
static char *run_full(const char *sql, const opts_t *o) {
    ic_sql_err_t err;
    ic_sql_ctx_t c;
    ic_sql_t *q;
    ic_sql_run_t *r;
    char *res;
    const char *topic = o->topic ? o->topic : "t/x", *rule, *rest;
    size_t rule_len, rest_len;
    bool ingest;
    q = ic_sql_parse(sql, o->ver ? o->ver : V16, &err);
    if (!q) {
        res = malloc(strlen(err.message) + 8);
        sprintf(res, "!parse:%s", err.message);
        return res;
    }
    if (o->ctx)
        c = *o->ctx;
    else
        memset(&c, 0, sizeof(c));
    ingest = ic_topic_split_ingest(topic, strlen(topic), &rule, &rule_len, &rest, &rest_len) == 1;
    if (!ingest && *ic_sql_from(q) &&
        !ic_topic_matches(ic_sql_from(q), strlen(ic_sql_from(q)), topic, strlen(topic), false)) {
        ic_sql_free(q);
        return strdup("!nofire");
    }
    c.topic = ingest ? strndup(rest, rest_len) : topic;
    c.payload = (const uint8_t *)(o->payload ? o->payload : "{}");
    c.payload_len = o->payload && o->payload_len ? o->payload_len
                                                 : strlen((const char *)c.payload);
    if (!o->ctx)
        c.now_ms = 1700000000123;
    r = ic_sql_run(q, &c);
    switch (ic_sql_run_result(r)) {
    case IC_SQL_NOT_FIRED:
        res = strdup("!nofire");
        break;
    case IC_SQL_ERROR:
        res = malloc(strlen(ic_sql_run_error(r)) + 8);
        sprintf(res, "!error:%s", ic_sql_run_error(r));
        break;
    default: {
        size_t n;
        const uint8_t *out = ic_sql_run_output(r, &n);
        res = malloc(n + 1);
        memcpy(res, out, n);
        res[n] = '\0';
    }
    }
    ic_sql_run_free(r);
    ic_sql_free(q);
    if (ingest)
        free((char *)(uintptr_t)c.topic);
    return res;
}

static char *run_sql(const char *ver, const char *topic, const char *payload, const char *sql) {
    opts_t o = {ver, topic, payload, 0, NULL};
    return run_full(sql, &o);
}

#define ck_run(ver, topic, payload, sql, want)                                       \
    do {                                                                             \
        char *got_ = run_sql(ver, topic, payload, sql);                              \
        ck_assert_msg(strcmp(got_, want) == 0, "%s\n got:  %s\n want: %s", sql, got_, \
                      want);                                                         \
        free(got_);                                                                  \
    } while (0)

/* ---- 14: worked examples ------------------------------------------------ */

#define P1 "{\"color\":\"red\",\"temperature\":50}"
#define PE "{\"e\":[{\"n\":\"temperature\",\"u\":\"Cel\",\"t\":1234,\"v\":22.5},{\"n\":\"light\",\"u\":\"lm\",\"t\":1235,\"v\":135},{\"n\":\"acidity\",\"u\":\"pH\",\"t\":1235,\"v\":7}]}"
#define PW37 "{\"temperature\":38,\"humidity\":80,\"barometer\":1013,\"wind\":{\"velocity\":22,\"bearing\":255}}"
#define PW38 "{\"temperature\":28,\"humidity\":80,\"barometer\":1013,\"wind\":{\"velocity\":22,\"bearing\":255}}"
#define PT "{\"attributes\":{\"data1\":1,\"data2\":2},\"values\":[{\"a\":3},{\"b\":4},{\"c\":5}]}"
#define PW42 "{\"temperature\":23.07,\"humidity\":49.9397,\"light\":5.0}"
#define SQL_W15 "SELECT decode(encode(*, 'base64'), 'base64') AS value FROM 'topic/subtopic' WHERE decode(encode(*, 'base64'), 'base64') > 50"
#define SQL_W21 "SELECT CASE color WHEN 'green' THEN 'go' WHEN 'yellow' THEN 'caution' WHEN 'red' THEN 'stop' ELSE 'you are not at a stop light' END as instructions FROM 'topic/subtopic'"
#define SQL_W37 "SELECT topic(2) as device_id, temperature as reported_temperature, 30 as max_temperature FROM 'device/+/data' WHERE temperature > 30"
#define SQL_W42 "SELECT temperature, humidity, cast(light as double) as newLight FROM 'test/test4'"
#define SQL_W48 "SELECT (SELECT * FROM Pos WHERE L1 <> isNull(SELECT VALUE L1 FROM Pos) ) as required_array FROM 'test/test3'"
#define W48_OUT "{\"required_array\":[{\"L1\":36.9039996,\"L2\":-25.263283700000002,\"S\":5},{\"L1\":36.90399959999998,\"L2\":-25.263283700000077,\"S\":6}]}"

static const struct example_s {
    const char *id, *ver, *topic, *payload, *sql, *want;
} examples[] = {
    {"W01", NULL, "topic/subtopic", P1, "SELECT * FROM 'topic/subtopic'", P1},
    {"W02", NULL, "topic/subtopic", P1, "SELECT color FROM 'topic/subtopic'", "{\"color\":\"red\"}"},
    {"W03", NULL, "topic/subtopic", P1, "SELECT color AS my_color FROM 'topic/subtopic'",
     "{\"my_color\":\"red\"}"},
    {"W04", NULL, "topic/subtopic", P1,
     "SELECT color as my_color, temperature as fahrenheit FROM 'topic/subtopic'",
     "{\"my_color\":\"red\",\"fahrenheit\":50}"},
    {"W05", NULL, "topic/subtopic", P1, "SELECT *, 15 as speed FROM 'topic/subtopic'",
     "{\"color\":\"red\",\"temperature\":50,\"speed\":15}"},
    {"W06", NULL, "topic/subtopic", P1, "SELECT VALUE color FROM 'topic/subtopic'", "\"red\""},
    {"W07", NULL, "topic/subtopic",
     "{\"color\":{\"red\":255,\"green\":0,\"blue\":0},\"temperature\":50}",
     "SELECT color.red as red_value FROM 'topic/subtopic'", "{\"red_value\":255}"},
    {"W08", NULL, "topic/subtopic", P1,
     "SELECT (temperature - 32) * 5 / 9 AS celsius, upper(color) as my_color FROM 'topic/subtopic'",
     "{\"celsius\":10,\"my_color\":\"RED\"}"},
    {"W09", NULL, "topic/subtopic", "{\"color\":\"red\",\"temperature\":100}",
     "SELECT color AS rgb FROM 'topic/subtopic' WHERE temperature > 50", "{\"rgb\":\"red\"}"},
    {"W10", NULL, "topic/subtopic", "{\"color\":\"red\",\"temperature\":40}",
     "SELECT color AS my_color FROM 'topic/subtopic' WHERE temperature > 50 AND color <> 'red'",
     "!nofire"},
    {"W11", NULL, "topic/subtopic-2", "{\"temperature\":50}",
     "SELECT temperature AS t FROM 'topic/subtopic'", "!nofire"},
    {"W12", NULL, "topic/subtopic-3/details", "{\"temperature\":70}",
     "SELECT temperature AS t FROM 'topic/#'", "{\"t\":70}"},
    {"W13", NULL, "topic-2/subtopic-x", "{\"temperature\":80}",
     "SELECT temperature AS t FROM 'topic/#'", "!nofire"},
    {"W14a", NULL, "topic/subtopic-3/details", "{\"temperature\":70}",
     "SELECT temperature AS t FROM 'topic/+'", "!nofire"},
    {"W14b", NULL, "topic/subtopic-2", "{\"temperature\":60}",
     "SELECT temperature AS t FROM 'topic/+'", "{\"t\":60}"},
    {"W15", NULL, "topic/subtopic", "80", SQL_W15, "{\"value\":80}"},
    {"W16", NULL, "topic/subtopic", "10", SQL_W15, "!nofire"},
    {"W17", NULL, "a/b", "{\"foo\":null}", "SELECT foo, bar FROM 'a/b'", "{\"foo\":null}"},
    {"W18", NULL, "topic/subtopic", "{}", "SELECT NULL AS n FROM 'topic/subtopic'",
     "{\"n\":null}"},
    {"W19", NULL, "topic/subtopic", "{\"lat_long\":[47.606,-122.332]}",
     "SELECT {'latitude': get(lat_long, 0),'longitude':get(lat_long, 1)} as lat_long FROM 'topic/subtopic'",
     "{\"lat_long\":{\"latitude\":47.606,\"longitude\":-122.332}}"},
    {"W20", NULL, "topic/subtopic", "{\"lat\":47.606,\"long\":-122.332}",
     "SELECT [lat,long] as lat_long FROM 'topic/subtopic'",
     "{\"lat_long\":[47.606,-122.332]}"},
    {"W21", NULL, "topic/subtopic", "{\"color\":\"yellow\"}", SQL_W21,
     "{\"instructions\":\"caution\"}"},
    {"W22", NULL, "topic/subtopic", "{\"color\":\"blue\"}", SQL_W21,
     "{\"instructions\":\"you are not at a stop light\"}"},
    {"W23", NULL, "topic/subtopic", "{\"color\":\"blue\"}",
     "SELECT CASE color WHEN 'green' THEN 'go' END AS i FROM 'topic/subtopic'", "{}"},
    {"W24", NULL, "my/topic", PE, "SELECT (SELECT VALUE n FROM e) as sensors FROM 'my/topic'",
     "{\"sensors\":[\"temperature\",\"light\",\"acidity\"]}"},
    {"W25", NULL, "my/topic", PE,
     "SELECT (SELECT v FROM e WHERE n = 'temperature') as temperature FROM 'my/topic'",
     "{\"temperature\":[{\"v\":22.5}]}"},
    {"W26", NULL, "topic", PE,
     "SELECT get((SELECT v FROM e WHERE n = 'temperature'), 0).v as temperature FROM 'topic'",
     "{\"temperature\":22.5}"},
    {"W27", NULL, "topic", "{\"a\":{\"b\":\"c\"},\"arr\":[1,2,3,4]}",
     "SELECT VALUE arr FROM 'topic'", "[1,2,3,4]"},
    {"W28", NULL, "iot/rules", "{\"mydata\":{\"item2\":{\"0\":{\"my-key\":\"myValue\"}}}}",
     "SELECT * from 'iot/rules' WHERE get(get(get(mydata,\"item2\"),\"0\"),\"my-key\") = \"myValue\"",
     "{\"mydata\":{\"item2\":{\"0\":{\"my-key\":\"myValue\"}}}}"},
    {"W29", NULL, "topic/x",
     "{\"deviceid\":\"iot123\",\"temp\":54.98,\"humidity\":32.43,\"coords\":{\"latitude\":47.615694,\"longitude\":-122.3359976}}",
     "SELECT temp, md5(deviceid) AS hashed_id FROM 'topic/#'",
     "{\"temp\":54.98,\"hashed_id\":\"e37f81fb397e595c4aeb5645b8cbbbd1\"}"},
    {"W30", NULL, "topic/subtopic", "{\"encoded_temp\":\"eyAidGVtcGVyYXR1cmUiOiAzMyB9Cg==\"}",
     "SELECT decode(encoded_temp,\"base64\").temperature AS temp from 'topic/subtopic'",
     "{\"temp\":33}"},
    {"W31", NULL, "A/B", PT,
     "select value transform(\"enrichArray\", attributes, values) from 'A/B'",
     "[{\"a\":3,\"data1\":1,\"data2\":2},{\"b\":4,\"data1\":1,\"data2\":2},{\"c\":5,\"data1\":1,\"data2\":2}]"},
    {"W32", NULL, "A/B", PT,
     "select value transform(\"enrichArray\", {\"key\": attributes.data1}, values) from 'A/B'",
     "[{\"a\":3,\"key\":1},{\"b\":4,\"key\":1},{\"c\":5,\"key\":1}]"},
    {"W33", NULL, "A/B",
     "{\"data1\":\"example\",\"data2\":{\"a\":\"first attribute\",\"b\":\"second attribute\",\"c\":[{\"x\":{\"someInt\":5,\"someString\":\"hello\"},\"y\":true},{\"x\":{\"someInt\":10,\"someString\":\"world\"},\"y\":false}]}}",
     "select value transform('enrichArray', (select a, b from data2), (select value c from data2)) from 'A/B'",
     "[{\"x\":{\"someInt\":5,\"someString\":\"hello\"},\"y\":true,\"a\":\"first attribute\",\"b\":\"second attribute\"},{\"x\":{\"someInt\":10,\"someString\":\"world\"},\"y\":false,\"a\":\"first attribute\",\"b\":\"second attribute\"}]"},
    {"W34", NULL, "A/B", "{}",
     "SELECT parse_time(\"yyyy.MM.dd G 'at' HH:mm:ss z\", 100000000, 'America/Belize' ) as ts FROM 'A/B'",
     "{\"ts\":\"1970.01.01 AD at 21:46:40 CST\"}"},
    {"W35", NULL, "my/iot/topic", "{\"deviceid\":\"iot123\",\"temp\":54.98}",
     "SELECT *, timestamp() AS timestamp FROM 'my/iot/topic'",
     "{\"deviceid\":\"iot123\",\"temp\":54.98,\"timestamp\":1700000000123}"},
    {"W36", NULL, "$aws/rules/BuildingManager/Buildings/Building5/Floor2/Room201/Lights", "{}",
     "SELECT topic() AS t, topic(3) AS f FROM 'Buildings/#'",
     "{\"t\":\"Buildings/Building5/Floor2/Room201/Lights\",\"f\":\"Floor2\"}"},
    {"W37", NULL, "device/32/data", PW37, SQL_W37,
     "{\"device_id\":\"32\",\"reported_temperature\":38,\"max_temperature\":30}"},
    {"W38", NULL, "device/33/data", PW38, SQL_W37, "!nofire"},
    {"W39", NULL, "device/22/data", PW38,
     "SELECT topic(2) as device_id, temperature FROM 'device/+/data'",
     "{\"device_id\":\"22\",\"temperature\":28}"},
    {"W40", NULL, "device/32/data", PW37,
     "SELECT cast(topic(2) AS DECIMAL) as device_id, temperature as reported_temperature, 30 as max_temperature, 'arn:aws:sns:us-east-1:57EXAMPLE833:high_temp_notice' as notify_topic_arn FROM 'device/+/data' WHERE temperature > 30",
     "{\"device_id\":32,\"reported_temperature\":38,\"max_temperature\":30,\"notify_topic_arn\":\"arn:aws:sns:us-east-1:57EXAMPLE833:high_temp_notice\"}"},
    {"W41", NULL, "device/22/data", PW38,
     "SELECT temperature, humidity, barometer, wind.velocity as wind_velocity, wind.bearing as wind_bearing FROM 'device/+/data'",
     "{\"temperature\":28,\"humidity\":80,\"barometer\":1013,\"wind_velocity\":22,\"wind_bearing\":255}"},
    {"W42", NULL, "test/test4", PW42, SQL_W42,
     "{\"temperature\":23.07,\"humidity\":49.9397,\"newLight\":5}"},
    {"W43", V15, "test/test4", PW42, SQL_W42,
     "{\"temperature\":23.07,\"humidity\":49.9397,\"newLight\":5.0}"},
    {"W44", NULL, "123/ACT_123/slider/req", "{\"values\":[50,100]}",
     "SELECT *, topic(1) as deviceId, topic(2) as actuatorId, topic(3) as cmd FROM '+/+/+/req'",
     "{\"values\":[50,100],\"deviceId\":\"123\",\"actuatorId\":\"ACT_123\",\"cmd\":\"slider\"}"},
    {"W45", NULL, "test/test1", "{\"foo\":\"bar\"}",
     "SELECT get((SELECT *, topic() as topic FROM *),0) as data FROM 'test/test1'",
     "{\"data\":{\"foo\":\"bar\",\"topic\":\"test/test1\"}}"},
    {"W46", NULL, "test/test2", "{\"messages\":[{\"message\":\"a\"},{\"message\":\"b\"}]}",
     "SELECT VALUE *.messages FROM 'test/test2'", "[{\"message\":\"a\"},{\"message\":\"b\"}]"},
    {"W47", NULL, "test/test6",
     "{\"state\":{\"command\":\"DOOR_OPEN\",\"debug\":\"FALSE\"},\"version\":\"3.1\"}",
     "SELECT state.debug AS state.debug, state.command AS state.command, version FROM 'test/test6' WHERE IsUndefined(state.debug) = False OR IsUndefined(state.command) = False",
     "{\"state\":{\"debug\":\"FALSE\",\"command\":\"DOOR_OPEN\"},\"version\":\"3.1\"}"},
    {"W48", NULL, "test/test3",
     "{\"Pos\":[{\"L1\":36.9039996,\"L2\":-25.263283700000002,\"S\":5},{\"L1\":36.90399959999998,\"L2\":-25.263283700000077,\"S\":6},{\"L2\":-25.263283700000002,\"S\":7}]}",
     SQL_W48, W48_OUT},
    {"W48-long", NULL, "test/test3",
     "{\"Pos\":[{\"L1\":36.903999599999999,\"L2\":-25.263283700000002,\"S\":5},{\"L1\":36.90399959999998,\"L2\":-25.263283700000077,\"S\":6},{\"L2\":-25.263283700000002,\"S\":7}]}",
     SQL_W48, W48_OUT},
    {"W49", NULL, "a/b", "{\"x\":1}", "SELECT '10' + 3 AS s, '10' - 3 AS d, 3 + 'x' AS t FROM 'a/b'",
     "{\"s\":\"103\",\"d\":7,\"t\":\"3x\"}"},
    {"W50", NULL, "a/b", "{\"temperature\":50}", "SELECT * FROM 'a/b' WHERE '50' = temperature",
     "!nofire"},
    {"W51", NULL, "a/b", "{\"temperature\":50}",
     "SELECT * FROM 'a/b' WHERE '50' >= temperature AND temperature = 50.0",
     "{\"temperature\":50}"},
    {"W52a", NULL, "a/b", "{\"t\":60}", "SELECT * FROM 'a/b' WHERE missing > 1", "!nofire"},
    {"W52b", NULL, "a/b", "{\"t\":60}", "SELECT * FROM 'a/b' WHERE NOT (missing > 1)", "!nofire"},
    {"W53a", NULL, "a/b", "{\"s\":\"TRUE\",\"n\":1}", "SELECT * FROM 'a/b' WHERE s AND NOT 'false'",
     "{\"s\":\"TRUE\",\"n\":1}"},
    {"W53b", NULL, "a/b", "{\"s\":\"TRUE\",\"n\":1}", "SELECT * FROM 'a/b' WHERE n AND s", "!nofire"},
    {"W55", NULL, "bin/x", "hi", "SELECT encode(*, 'base64') AS data FROM 'bin/x'",
     "{\"data\":\"aGk=\"}"},
    /* 11.1: Basic Ingest without trailing levels (U85) */
    {"U85", NULL, "$aws/rules/r", "{}", "SELECT topic() AS t, topic(1) AS l FROM 'x'", "{\"t\":\"\"}"},
    {"U54", NULL, "/a/b", "{}", "SELECT topic(1) AS l1, topic(2) AS l2, topic(4) AS l4 FROM '+/+/+'",
     "{\"l1\":\"\",\"l2\":\"a\"}"},

};

START_TEST(worked_examples) {
    const struct example_s *e = &examples[_i];
    char *got = run_sql(e->ver, e->topic, e->payload, e->sql);
    ck_assert_msg(strcmp(got, e->want) == 0, "%s: %s\n got:  %s\n want: %s", e->id, e->sql, got,
                  e->want);
    free(got);
}
END_TEST

/* W54: binary bytes pass through SELECT * untouched; W56 lives in the
 * template tests (its error-action key). */
START_TEST(binary_passthrough) {
    static const uint8_t bytes[] = {0x01, 0x02, 0xFF};
    opts_t o = {NULL, "bin/x", bytes, sizeof(bytes), NULL};
    char *got = run_full("SELECT * FROM 'bin/x'", &o);
    ck_assert_uint_eq(strlen(got), 3);
    ck_assert_int_eq(memcmp(got, bytes, 3), 0);
    free(got);
    got = run_full("SELECT VALUE * FROM 'bin/x'", &o);
    ck_assert_int_eq(memcmp(got, bytes, 3), 0);
    free(got);
    got = run_full("SELECT encode(*, 'base64') AS data FROM 'bin/x'", &o);
    ck_assert_str_eq(got, "{\"data\":\"AQL/\"}");
    free(got);
}
END_TEST

/* ---- 4, 5: types, Undefined, conversions, operators, rendering ---------- */

#define PDOC "{\"i\":5,\"d\":2.5,\"w\":5.0,\"s\":\"str\",\"n\":\"10\",\"b\":true,\"z\":null,\"a\":[1,2,3],\"o\":{\"k\":\"v\",\"n\":{\"x\":1}},\"big\":123456789012345678901234567890}"

typedef struct expr_row_s {
    const char *ver, *expr, *want;
} expr_row_t;

static void check_expr(const expr_row_t *r) {
    char sql[1024];
    char *got;
    snprintf(sql, sizeof(sql), "SELECT VALUE %s FROM 't/#'", r->expr);
    got = run_sql(r->ver, "t/x", PDOC, sql);
    ck_assert_msg(strcmp(got, r->want) == 0, "[%s] %s\n got:  %s\n want: %s",
                  r->ver ? r->ver : V16, r->expr, got, r->want);
    free(got);
}

static const expr_row_t types[] = {
    /* 4.1 Undefined vs Null */
    {NULL, "z", "null"},
    {NULL, "missing", ""},
    {NULL, "isNull(z)", "true"},
    {NULL, "isNull(missing)", "false"},
    {NULL, "isUndefined(missing)", "true"},
    {NULL, "isUndefined(z)", "false"},
    {NULL, "o.n.x", "1"},
    {NULL, "o.missing.x", ""},
    {NULL, "s.x", ""},          /* a step through a non-object */
    {NULL, "a.x", ""},
    {NULL, "*.o.k", "\"v\""},
    /* 4.3 String -> number */
    {NULL, "'0' + 0 - 0", "0"}, /* '0' + 0 concatenates: "00" - 0 = 0.0 */
    {NULL, "'0' - 0", "0"},
    {NULL, "'-1.2' * 1", "-1.2"},
    {NULL, "'5E-12' * 1", "5.0E-12"},
    {NULL, "'1e3' * 1", "1000"},
    {NULL, "'+5' * 1", ""},
    {NULL, "' 5' * 1", ""},
    {NULL, "'.5' * 1", ""},
    {NULL, "'5.' * 1", ""},
    {NULL, "'1e+3' * 1", ""},
    {NULL, "'0x10' * 1", ""},
    {NULL, "'NaN' * 1", ""},
    /* 4.4 implicit conversions */
    {NULL, "b * 1", ""},        /* Boolean -> Decimal: Undefined */
    {NULL, "z * 1", ""},
    {NULL, "a * 1", ""},
    {NULL, "o - 1", ""},
    {NULL, "bitand(5.9, 7)", "5"},     /* To-Int truncates (U32) */
    {NULL, "bitand(-5.9, -1)", "-5"},
    {NULL, "bitand('6.7', 7)", "6"},
    {NULL, "bitand(true, 1)", ""},
    {NULL, "'TRUE' AND true", "true"},
    {NULL, "'False' OR false", "false"},
    {NULL, "1 AND true", ""},
    {NULL, "z AND true", ""},
    {NULL, "'yes' AND true", ""},
    {NULL, "NOT 'TrUe'", "false"},
    {NULL, "NOT 1", ""},
    {NULL, "'a' + 1", "\"a1\""},
    {NULL, "'a' + 1.5", "\"a1.5\""},
    {NULL, "'a' + w", "\"a5\""},
    {V15, "'a' + w", "\"a5.0\""},
    {NULL, "'a' + true", "\"atrue\""},
    {NULL, "'a' + [1,'x']", "\"a[1,\\\"x\\\"]\""},
    {NULL, "'a' + o", "\"a{\\\"k\\\":\\\"v\\\",\\\"n\\\":{\\\"x\\\":1}}\""},
    {NULL, "'a' + z", ""},
    {NULL, "'a' + missing", ""},
    {NULL, "s + big", "\"str123456789012345678901234567890\""},
    /* 4.5 cast */
    {NULL, "cast(5 as Decimal)", "5"},
    {V15, "cast(5 as Double)", "5.0"},
    {V15, "cast(w as double)", "5.0"},
    {NULL, "cast(2.7 as Int)", "2"},
    {NULL, "cast(-2.7 as Integer)", "-2"},
    {NULL, "cast('12.9' as int)", "12"},
    {NULL, "cast('abc' as Int)", ""},
    {NULL, "cast(true as Int)", "1"},
    {NULL, "cast(false as Decimal)", "0"},
    {V15, "cast(true as Double)", "1.0"},
    {NULL, "cast(0 as Boolean)", "false"},
    {NULL, "cast(2.5 as Bool)", "true"},
    {NULL, "cast('TRUE' as Boolean)", "true"},
    {NULL, "cast('yes' as Boolean)", ""},
    {NULL, "cast([1,'a'] as String)", "\"[1,\\\"a\\\"]\""},
    {NULL, "cast(2.5 as varchar)", "\"2.5\""},
    {NULL, "cast(true as Text)", "\"true\""},
    {NULL, "cast(z as String)", ""},
    {NULL, "cast(z as Decimal)", ""},
    {NULL, "cast(z as Int)", ""},
    {NULL, "cast(o as Int)", ""},
    {NULL, "cast(missing as nvarchar)", ""},
    {NULL, "CAST(topic(1) AS DECIMAL)", "1"}, /* topic 1/... set below */
    /* 5.3 equality without conversion */
    {NULL, "'50' = 50", "false"},
    {NULL, "'50' <> 50", "true"},
    {NULL, "5 = 5.0", "true"},
    {NULL, "i = w", "true"},
    {NULL, "2.5 = d", "true"},
    {NULL, "'str' = s", "true"},
    {NULL, "'STR' = s", "false"},
    {NULL, "[1,2] = [1,2]", "true"},
    {NULL, "[1,2] = [2,1]", "false"},
    {NULL, "[1,2] = [1,2,3]", "false"},
    {NULL, "{'a':1,'b':2} = {'b':2.0,'a':1}", "true"},
    {NULL, "{'a':1} = {'a':1,'b':2}", "false"},
    {NULL, "z = null", "true"},
    {NULL, "z <> null", "false"},
    {NULL, "z = 0", "false"},
    {NULL, "true = 'true'", "false"},
    {NULL, "b = true", "true"},
    {NULL, "missing = 1", ""},
    {NULL, "missing <> 1", ""},
    {NULL, "1 != 2", "true"},   /* U08 */
    {NULL, "big = big", "true"},
    /* 5.2 ordering with numeric strings */
    {NULL, "'50' >= 50", "true"},
    {NULL, "'2' < '10'", "true"},
    {NULL, "n > 9.5", "true"},
    {NULL, "'abc' > 1", ""},
    {NULL, "true > false", ""},
    {NULL, "z < 1", ""},
    {NULL, "a < 1", ""},
    {NULL, "1.5 <= 1", "false"},
    {NULL, "9007199254740993 > 9007199254740992", "true"},
    /* 5.4 arithmetic */
    {NULL, "7 / 2", "3"},
    {NULL, "-7 / 2", "-3"},
    {NULL, "7 % -2", "1"},
    {NULL, "-7 % 2", "-1"},
    {NULL, "7.0 / 2", "3.5"},
    {V15, "7.0 / 2", "3.5"},
    {NULL, "d * 2", "5"},
    {V15, "d * 2", "5.0"},
    {NULL, "5.5 % 2", "1.5"},
    {NULL, "1 / 0", ""},
    {NULL, "1 % 0", ""},
    {NULL, "1.5 / 0", ""},
    {NULL, "1.5 % 0.0", ""},
    {NULL, "'10' - '3'", "7"},
    {NULL, "'10' * 'x'", ""},
    /* U30: overflow recomputes as a Decimal (a double: shortest form) */
    {NULL, "9223372036854775807 + 1", "9223372036854776000"},
    {NULL, "-9223372036854775808 - 1", "-9223372036854776000"},
    {NULL, "5000000000 * 5000000000", "25000000000000000000"},
    {V15, "5000000000 * 5000000000", "25000000000000000000.0"},
    {NULL, "-9223372036854775808 / -1", "9223372036854776000"},
    {NULL, "-9223372036854775808 % -1", "0"},
    {NULL, "0.1 + 0.2", "0.30000000000000004"},
    {NULL, "100.0 / 3", "33.333333333333336"},
    {NULL, "-s", ""},
    {NULL, "-n", "-10"},
    {V15, "-n", "-10.0"},
    {NULL, "+n", "10"},
    {NULL, "-b", ""},
    {NULL, "-missing", ""},
    {NULL, "-(i)", "-5"},
    {NULL, "- -5", "5"},
    {NULL, "1 + 2 * 3 - 4 / 2", "5"},   /* U09 precedence */
    {NULL, "(1 + 2) * 3", "9"},
    {NULL, "1 < 2 AND 2 < 3 OR false", "true"},
    {NULL, "NOT 1 = 2", "true"},
    {NULL, "NOT true AND false", "false"},
    /* IN (U10) */
    {NULL, "2 IN [1,2]", "true"},
    {NULL, "2 in a", "true"},
    {NULL, "'2' IN [1,2]", "false"},
    {NULL, "4 IN a", "false"},
    {NULL, "missing IN [1]", ""},
    {NULL, "1 IN 1", ""},
    {NULL, "{'a':1} IN [{'a':1.0}]", "true"},
    /* U35 strict logic */
    {NULL, "true OR missing", ""},
    {NULL, "false AND missing", ""},
    /* 4.6 number rendering */
    {NULL, "5.0", "5"},
    {V15, "5.0", "5.0"},
    {NULL, "w", "5"},
    {V15, "w", "5.0"},
    {NULL, "2.5", "2.5"},
    {NULL, "1E3", "1000"},
    {V15, "1E3", "1000.0"},
    {NULL, "1e21", "1.0E21"},
    {V15, "1e21", "1.0E21"},
    {NULL, "1.5e300", "1.5E300"},
    {NULL, "1e20", "100000000000000000000"},
    {V15, "1e20", "100000000000000000000.0"},
    {NULL, "5E-12", "5.0E-12"},
    {NULL, "-2.411E247", "-2.411E247"},
    {NULL, "0.0000001", "0.0000001"},
    {NULL, "0.00000001", "1.0E-8"},
    {NULL, "1.5e-8", "1.5E-8"},
    {NULL, "-0.0", "0"},
    {V15, "-0.0", "0.0"},
    {NULL, "123456789012345678901234567890", "123456789012345678901234567890"},
    {NULL, "-123456789012345678901234567890", "-123456789012345678901234567890"},
    {NULL, "big", "123456789012345678901234567890"},
    {NULL, "9223372036854775807", "9223372036854775807"},
    {NULL, "-9223372036854775808", "-9223372036854775808"},
    {NULL, "36.903999599999999", "36.9039996"},
    {NULL, "-25.263283700000002", "-25.263283700000002"},
    /* literals and lexical forms */
    {NULL, "'it''s'", "\"it's\""},
    {NULL, "\"say \"\"hi\"\"\"", "\"say \\\"hi\\\"\""},
    {NULL, "'a\\nb\\t\\u00e9\\/'", "\"a\\nb\\té/\""},
    {NULL, "'\\d\\q'", "\"\\\\d\\\\q\""},
    {NULL, "'\\ud83d\\ude00'", "\"\xF0\x9F\x98\x80\""},
    {NULL, "''", "\"\""},
    {NULL, "\"\"", "\"\""},
    {NULL, "NULL", "null"},
    {NULL, "Null", "null"},
    {NULL, "TRUE", "true"},
    {NULL, "False", "false"},
    {NULL, "chr(1) + chr(31) + '\"' + '\\\\'", "\"\\u0001\\u001f\\\"\\\\\""},
    {NULL, "{'k': 1, \"key-with-hyphen\": 2,}", "{\"k\":1,\"key-with-hyphen\":2}"},
    {NULL, "[1, 2,]", "[1,2]"},
    {NULL, "[]", "[]"},
    {NULL, "{}", "{}"},
    {NULL, "{'a': missing, 'b': 1}", "{\"b\":1}"},
    {NULL, "[1, missing, 2]", "[1,2]"},
    {NULL, "{'a': 1, 'a': 2}", "{\"a\":2}"},
    {NULL, "{'p': *}.p.i", "5"},
    /* paths: [n], get() (U22, U49) */
    {NULL, "a[1]", "2"},
    {NULL, "a[1.9]", "2"},
    {NULL, "a['0']", "1"},
    {NULL, "a[3]", ""},
    {NULL, "a[-1]", ""},
    {NULL, "o['k']", "\"v\""},
    {NULL, "o[0]", ""},
    {NULL, "s[1]", "\"t\""},
    {NULL, "s[3]", ""},
    {NULL, "get(o, 'n').x", "1"},
    {NULL, "get('abc', 1)", "\"b\""},
    {NULL, "get('héllo', 1)", "\"é\""},
    {NULL, "get(a, '2')", "3"},
    {NULL, "get(a, 'x')", ""},
    {NULL, "get(o, 1)", ""},
    {NULL, "get(5, 0)", ""},
    {NULL, "[[1,2],[3]][0][1]", "2"},
    /* nested SELECT (3.7) */
    {NULL, "(SELECT VALUE k FROM o)", "\"v\""},
    {NULL, "(SELECT k FROM o WHERE k = 'x')", ""},
    {NULL, "(SELECT VALUE x FROM a AS x WHERE x > 1)", "[2,3]"},
    {NULL, "(SELECT VALUE i FROM a)", "[]"},   /* U24: outer fields invisible */
    {NULL, "(SELECT VALUE @v FROM a)", ""},    /* (no SET: parse error row below) */
    {NULL, "(SELECT * FROM s)", ""},
    {NULL, "(SELECT * FROM missing)", ""},
    {NULL, "(SELECT * FROM a)", "[{},{},{}]"},
    {NULL, "(SELECT VALUE topic() FROM a WHERE 1 = 1)", "[\"t/x\",\"t/x\",\"t/x\"]"},
    {NULL, "(SELECT i FROM * WHERE i = 6)", "[]"},
    {NULL, "EXISTS(SELECT * FROM a)", "true"},
    {NULL, "EXISTS(SELECT * FROM a AS e WHERE e > 5)", "false"},
    {NULL, "EXISTS(SELECT * FROM missing)", "false"},
    /* CASE (3.8) */
    {NULL, "CASE i WHEN 5.0 THEN 'five' ELSE 'other' END", "\"five\""},
    {NULL, "CASE missing WHEN 1 THEN 1 ELSE 2 END", ""},
    {NULL, "CASE i WHEN missing THEN 1 ELSE 2 END", "2"},
    {NULL, "CASE i WHEN 1 THEN 1 WHEN 2 + 3 THEN 'expr' END", "\"expr\""},
    {NULL, "case s when 'str' then upper(s) end", "\"STR\""},
};

START_TEST(type_rows) {
    const expr_row_t *r = &types[_i];
    if (strstr(r->expr, "topic(1)")) { /* needs a numeric topic level */
        char *got = run_sql(NULL, "1/x", PDOC, "SELECT VALUE CAST(topic(1) AS DECIMAL) FROM '+/x'");
        ck_assert_str_eq(got, r->want);
        free(got);
        return;
    }
    if (strstr(r->expr, "@v")) {
        char *got = run_sql(NULL, "t/x", PDOC, "SET @v = 1 SELECT VALUE (SELECT VALUE @v FROM a) FROM 't/#'");
        ck_assert_str_eq(got, "[1,1,1]");
        free(got);
        return;
    }
    check_expr(r);
}
END_TEST

/* 3.4: the output object, keys, omission, duplicates, dotted aliases. */
START_TEST(select_list) {
    /* unaliased keys (U17) */
    ck_run(NULL, "t/x", PDOC, "SELECT o.n.x, upper(s), Upper(s) , 1 + 1, @v, a[0] FROM 't/x'",
           "!parse:Undeclared variable '@v' at line 1, column 43");
    ck_run(NULL, "t/x", PDOC,
           "SET @v = 3 SELECT o.n.x, UPPER(s), 1 + 1, @v, a[0], cast(i as String), 'lit', CASE i WHEN 5 THEN 1 END FROM 't/x'",
           "{\"x\":1,\"upper\":\"STR\",\"_3\":2,\"_4\":3,\"_5\":1,\"cast\":\"5\",\"_7\":\"lit\",\"_8\":1}");
    /* U18: duplicates in place, last wins */
    ck_run(NULL, "t/x", "{\"temperature\":1,\"x\":2}", "SELECT *, 15 AS temperature FROM 't/x'",
           "{\"temperature\":15,\"x\":2}");
    ck_run(NULL, "t/x", "{}", "SELECT 1 AS a, 2 AS b, 3 AS a FROM 't/x'", "{\"a\":3,\"b\":2}");
    /* U19 every item Undefined; 3.4 omitted items */
    ck_run(NULL, "t/x", "{}", "SELECT x, y.z, get(a, 9) FROM 't/x'", "{}");
    /* dotted aliases merge into a copy of the payload's object */
    ck_run(NULL, "t/x", "{\"o\":{\"k\":\"v\"}}", "SELECT *, 1 AS o.x, get(*, 'o') AS orig FROM 't/x'",
           "{\"o\":{\"k\":\"v\",\"x\":1},\"orig\":{\"k\":\"v\"}}");
    ck_run(NULL, "t/x", "{}", "SELECT 1 AS a, 2 AS a.b, 3 AS a.c.d FROM 't/x'",
           "{\"a\":{\"b\":2,\"c\":{\"d\":3}}}");
    /* * AS name */
    ck_run(NULL, "t/x", "{\"a\":1}", "SELECT * AS message, 2 AS b FROM 't/x'",
           "{\"message\":{\"a\":1},\"b\":2}");
    /* U21: SELECT VALUE of Undefined is an empty payload */
    ck_run(NULL, "t/x", "{}", "SELECT VALUE missing FROM 't/x'", "");
    /* U20: a top-level array in 2015 too */
    ck_run(V15, "t/x", "{\"arr\":[1,2.0]}", "SELECT VALUE arr FROM 't/x'", "[1,2.0]");
    /* U03: a field named value */
    ck_run(NULL, "t/x", "{\"value\":5,\"x\":1}", "SELECT value FROM 't/x'", "{\"value\":5}");
    ck_run(NULL, "t/x", "{\"value\":5,\"x\":1}", "SELECT value, x FROM 't/x'",
           "{\"value\":5,\"x\":1}");
    ck_run(NULL, "t/x", "{\"value\":5,\"x\":1}", "SELECT value AS v FROM 't/x'", "{\"v\":5}");
    ck_run(NULL, "t/x", "{\"value\":5,\"x\":1}", "SELECT VALUE value FROM 't/x'", "5");
    /* keyword-named aliases and fields */
    ck_run(NULL, "t/x", "{}", "SELECT timestamp() AS timestamp, 1 AS value, 2 AS x.end FROM 't/x'",
           "{\"timestamp\":1700000000123,\"value\":1,\"x\":{\"end\":2}}");
    /* case-insensitive keywords and functions */
    ck_run(NULL, "t/x", "{\"a\":1.5}", "select Round(a) as r, ISUNDEFINED(b) As u from 't/x' where A is_missing",
           "!parse:Unexpected token 'is_missing' at line 1, column 62");
    ck_run(NULL, "t/x", "{\"a\":1.5}", "select Round(a) as r, ISUNDEFINED(b) As u From 't/x' wHeRe a > 1",
           "{\"r\":2,\"u\":true}");
    /* statements across lines, trailing semicolon */
    ck_run(NULL, "t/x", "{\"a\":1}", "SELECT a\n  FROM 't/x'\n  WHERE a = 1;", "{\"a\":1}");
    /* WHERE results (1.2, U91) */
    ck_run(NULL, "t/x", "{\"s\":\"TRUE\"}", "SELECT 1 AS x FROM 't/x' WHERE s", "{\"x\":1}");
    ck_run(NULL, "t/x", "{\"s\":\"yes\"}", "SELECT 1 AS x FROM 't/x' WHERE s", "!nofire");
    ck_run(NULL, "t/x", "{}", "SELECT 1 AS x FROM 't/x' WHERE 1", "!nofire");
    ck_run(NULL, "t/x", "{}", "SELECT 1 AS x FROM 't/x' WHERE null", "!nofire");
    ck_run(NULL, "t/x", "{}", "SELECT 1 AS x FROM 't/x' WHERE {}", "!nofire");
    /* WHERE cannot see aliases */
    ck_run(NULL, "t/x", "{}", "SELECT 1 AS x FROM 't/x' WHERE x = 1", "!nofire");
    /* FROM forms (U07) */
    ck_run(NULL, "t/x", "{\"a\":1}", "SELECT a FROM t/# WHERE a = 1", "{\"a\":1}");
    ck_run(NULL, "t/x", "{\"a\":1}", "SELECT a FROM \"t/+\"", "{\"a\":1}");
    ck_run(NULL, "t/x", "{\"a\":1}", "SELECT a", "{\"a\":1}"); /* no FROM */
}
END_TEST

/* SET (3.9) */
START_TEST(set_clause) {
    ck_run(NULL, "t/x", "{\"o\":{\"p\":{\"q\":7}},\"t\":20}",
           "SET @a = 1, @b = @a + 1, @o = o SELECT @b AS b, @o.p.q AS q, (SELECT VALUE @a FROM [1,2]) AS sub FROM 't/x' WHERE @b = 2 AND t > 10",
           "{\"b\":2,\"q\":7,\"sub\":[1,1]}");
    ck_run(NULL, "t/x", "{}", "SET @a = missing SELECT isUndefined(@a) AS u FROM 't/x'",
           "{\"u\":true}");
    ck_run(NULL, "t/x", "{}", "SET @a = 1, @a = 2 SELECT @a FROM 't/x'",
           "!parse:Variable '@a' is already set at line 1, column 13");
    ck_run(NULL, "t/x", "{}", "SET @a = @b, @b = 1 SELECT 1 FROM 't/x'",
           "!parse:Undeclared variable '@b' at line 1, column 10");
    ck_run(NULL, "t/x", "{}",
           "SET @a=1,@b=1,@c=1,@d=1,@e=1,@f=1,@g=1,@h=1,@i=1,@j=1,@k=1 SELECT 1 FROM 't/x'",
           "!parse:Too many variables (at most 10) at line 1, column 55");
    ck_run(NULL, "t/x", "{}", "SET @a = 1 SELECT 1 AS x FROM 't/x' SET @b = 2",
           "!parse:Unexpected token 'SET' at line 1, column 37");
    ck_run(NULL, "t/x", "{}",
           "SET @aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1 SELECT 1 FROM 't'",
           "!parse:Variable name longer than 64 characters at line 1, column 5");
    ck_run(V15, "t/x", "{}", "SET @a = 1 SELECT @a FROM 't/x'",
           "!parse:SET requires SQL version 2016-03-23 at line 1, column 1");
    ck_run(NULL, "t/x", "{}", "SET @m = 'enrichArray' SELECT transform(@m, {}, []) FROM 't/x'",
           "!parse:Variable '@m' cannot be the mode argument of transform at line 1, column 31");
    ck_run(NULL, "t/x", "{}", "SET @r = 'arn' SELECT get_thing_shadow('t', @r) FROM 't/x'",
           "!parse:Variable '@r' cannot be the roleArn argument of get_thing_shadow at line 1, column 23");
    ck_run(NULL, "t/x", "{}", "SET @t = 't1' SELECT VALUE get_thing_shadow(@t, 'arn') FROM 't/x'",
           "!error:get_thing_shadow: nothing found for thing 't1'");

}
END_TEST

/* 3.10: non-JSON payloads, strict JSON. */
START_TEST(payloads) {
    /* binary: fields Undefined, * contributes nothing (U28) */
    ck_run(NULL, "t/x", "hello", "SELECT *, timestamp() AS ts FROM 't/x'", "{\"ts\":1700000000123}");
    ck_run(NULL, "t/x", "hello", "SELECT * AS x, 1 AS y FROM 't/x'", "{\"y\":1}");
    ck_run(NULL, "t/x", "hello", "SELECT a FROM 't/x'", "{}");
    ck_run(NULL, "t/x", "hello", "SELECT * FROM 't/x' WHERE device_type = 'thermostat'", "!nofire");
    ck_run(NULL, "t/x", "hello", "SELECT * FROM 't/x' WHERE true", "hello");
    ck_run(NULL, "t/x", "hello", "SELECT VALUE decode(encode(*, 'base64'), 'base64') FROM 't/x'",
           "\"hello\"");
    /* valid JSON that is not an object is binary (U27) */
    ck_run(NULL, "t/x", "[1, 2]", "SELECT * FROM 't/x'", "[1, 2]");
    ck_run(NULL, "t/x", "\"x\"", "SELECT * FROM 't/x'", "\"x\"");
    ck_run(NULL, "t/x", "[1,2]", "SELECT VALUE decode(encode(*, 'base64'), 'base64')[1] FROM 't/x'",
           "2");
    /* empty payload is {} (U29) */
    ck_run(NULL, "t/x", "", "SELECT * FROM 't/x'", "{}");
    ck_run(NULL, "t/x", "", "SELECT *, 1 AS a FROM 't/x'", "{\"a\":1}");
    /* SELECT VALUE * keeps the bytes as they came */
    ck_run(NULL, "t/x", "{ \"a\" : 1 }", "SELECT VALUE * FROM 't/x'", "{ \"a\" : 1 }");
    ck_run(NULL, "t/x", "{ \"a\" : 1 }", "SELECT * FROM 't/x'", "{\"a\":1}");
    /* strict JSON: these are binary, so SELECT * echoes them */
    ck_run(NULL, "t/x", "{\"a\":1,}", "SELECT * FROM 't/x'", "{\"a\":1,}");
    ck_run(NULL, "t/x", "{\"a\":01}", "SELECT * FROM 't/x'", "{\"a\":01}");
    ck_run(NULL, "t/x", "{\"a\":\"\x01\"}", "SELECT * FROM 't/x'", "{\"a\":\"\x01\"}");
    ck_run(NULL, "t/x", "{\"a\":\"\xC3\"}", "SELECT * FROM 't/x'", "{\"a\":\"\xC3\"}");
    ck_run(NULL, "t/x", "{\"a\":\"\\ud800\"}", "SELECT * FROM 't/x'", "{\"a\":\"\\ud800\"}");
    ck_run(NULL, "t/x", "{\"a\":1} x", "SELECT * FROM 't/x'", "{\"a\":1} x");
    ck_run(NULL, "t/x", "{'a':1}", "SELECT * FROM 't/x'", "{'a':1}");
    ck_run(NULL, "t/x", "{\"a\":1e400}", "SELECT * FROM 't/x'", "{\"a\":1e400}");
    ck_run(NULL, "t/x", "{\"a\":NaN}", "SELECT * FROM 't/x'", "{\"a\":NaN}");
    ck_run(NULL, "t/x", "{\"a\":tru}", "SELECT * FROM 't/x'", "{\"a\":tru}");
    /* accepted forms */
    ck_run(NULL, "t/x", " \r\n\t{\"a\":\"\\ud83d\\ude00\\u00e9\\\"\\/\\n\"}\n",
           "SELECT * FROM 't/x'", "{\"a\":\"\xF0\x9F\x98\x80\xC3\xA9\\\"/\\n\"}");
    ck_run(NULL, "t/x", "{\"a\":1,\"a\":2,\"b\":3}", "SELECT * FROM 't/x'", "{\"a\":2,\"b\":3}");
    ck_run(NULL, "t/x", "{\"x\":1.0,\"y\":1e2,\"z\":-0,\"w\":1.5E300,\"v\":-0.0}",
           "SELECT * FROM 't/x'", "{\"x\":1,\"y\":100,\"z\":0,\"w\":1.5E300,\"v\":0}");
    ck_run(V15, "t/x", "{\"x\":1.0,\"y\":1e2,\"z\":-0,\"w\":1.5E300,\"v\":-0.0}",
           "SELECT * FROM 't/x'", "{\"x\":1.0,\"y\":100.0,\"z\":0,\"w\":1.5E300,\"v\":0.0}");
    ck_run(NULL, "t/x", "{\"big\":-123456789012345678901234567890,\"i\":9223372036854775807}",
           "SELECT * FROM 't/x'",
           "{\"big\":-123456789012345678901234567890,\"i\":9223372036854775807}");
    /* a payload nested deeper than IC_SQL_MAX_JSON_DEPTH is binary */
    {
        char deep[2 * IC_SQL_MAX_JSON_DEPTH + 32], *p = deep;
        p += sprintf(p, "{\"a\":");
        for (int i = 0; i < IC_SQL_MAX_JSON_DEPTH; i++)
            *p++ = '[';
        for (int i = 0; i < IC_SQL_MAX_JSON_DEPTH; i++)
            *p++ = ']';
        strcpy(p, "}");
        ck_run(NULL, "t/x", deep, "SELECT 1 AS one, * FROM 't/x'", "{\"one\":1}");
        deep[5 + IC_SQL_MAX_JSON_DEPTH - 1] = ' ';
        deep[5 + IC_SQL_MAX_JSON_DEPTH] = ' ';
        {
            char *got = run_sql(NULL, "t/x", deep, "SELECT 1 AS one, * FROM 't/x'");
            ck_assert_msg(strncmp(got, "{\"one\":1,\"a\":[[[", 16) == 0, "%s", got);
            free(got);
        }
    }
}
END_TEST

/* ---- 6: functions --------------------------------------------------------- */

static const expr_row_t functions[] = {
    /* the spec's function table (section 14) */
    {NULL, "abs(-5)", "5"},
    {NULL, "abs(\"-5.123\")", "5.123"},
    {NULL, "acos(0)", "1.5707963267948966"},
    {NULL, "atan2(1, 0)", "1.5707963267948966"},
    {NULL, "bitand(13, 5)", "5"},
    {NULL, "bitor(8, 5)", "13"},
    {NULL, "bitxor(13, 5)", "8"},
    {NULL, "bitnot(13)", "2"},
    {NULL, "cast(true as Int)", "1"},
    {NULL, "ceil(-1.2)", "-1"},
    {NULL, "floor(-1.2)", "-2"},
    {NULL, "chr(65)", "\"A\""},
    {NULL, "concat()", ""},
    {NULL, "concat([1, 2, 3], 4)", "[1,2,3,4]"},
    {NULL, "concat([1, 2, 3], \"hello\")", "[1,2,3,\"hello\"]"},
    {NULL, "concat(1, \"hello\")", "\"1hello\""},
    {NULL, "concat(\"he\",\"is\",\"man\")", "\"heisman\""},
    {NULL, "cosh(2.3)", "5.037220649268761"},
    {NULL, "endswith(\"cat\",\"at\")", "true"},
    {NULL, "startswith(\"ranger\",\"ran\")", "true"},
    {NULL, "get([\"a\", \"b\", \"c\"], 1)", "\"b\""},
    {NULL, "get({\"a\":\"b\"}, \"a\")", "\"b\""},
    {NULL, "indexof(\"abcd\", \"bc\")", "1"},
    {NULL, "isNull(5)", "false"},
    {NULL, "isNull(Null)", "true"},
    {NULL, "isUndefined(5)", "false"},
    {NULL, "isUndefined(floor([1,2,3]))", "true"},
    {NULL, "length(\"hi\")", "2"},
    {NULL, "length(false)", "5"},
    {NULL, "numbytes(\"\xE2\x82\xAC\")", "3"},
    {NULL, "log(100)", "2"},
    {NULL, "lower([\"HELLO\"])", "\"[\\\"hello\\\"]\""},
    {NULL, "lpad(\"hello\", 2)", "\"  hello\""},
    {NULL, "rpad(1, 3)", "\"1   \""},
    {NULL, "ltrim(\" h i \")", "\"h i \""},
    {NULL, "rtrim(\" h i \")", "\" h i\""},
    {NULL, "trim(\" hi \")", "\"hi\""},
    {NULL, "mod(8, 3)", "2"},
    {NULL, "remainder(8, 3)", "2"},
    {NULL, "nanvl(8, 3)", "8"},
    {NULL, "power(2, 5)", "32"},
    {NULL, "md5(\"hello\")", "\"5d41402abc4b2a76b9719d911017c592\""},
    {NULL, "md2(\"hello\")", "\"a9046c73e00331af68917d3804f70655\""},
    {NULL, "regexp_matches(\"aaaa\", \"a{2,}\")", "true"},
    {NULL, "regexp_matches(\"aaaa\",\"b\")", "false"},
    {NULL, "regexp_replace(\"abcd\", \"b(.*)d\", \"$1\")", "\"ac\""},
    {NULL, "regexp_substr(\"hihihello\", \"hi\")", "\"hi\""},
    {NULL, "regexp_substr(\"hihihello\", \"(hi)*\")", "\"hihi\""},
    {NULL, "replace(\"abcdabcd\", \"b\", \"x\")", "\"axcdaxcd\""},
    {NULL, "round(1.5)", "2"},
    {NULL, "round(-1.5)", "-2"},
    {NULL, "round(-1.1)", "-1"},
    {NULL, "sign(-7)", "-1"},
    {NULL, "sign(0)", "0"},
    {NULL, "sign(13)", "1"},
    {NULL, "sinh(2.3)", "4.936961805545957"},
    {NULL, "sqrt(9)", "3"},
    {NULL, "tan(3)", "-0.1425465430742778"},
    {NULL, "tanh(2.3)", "0.9800963962661914"},
    {NULL, "sql_version()", "\"2016-03-23\""},
    {NULL, "substring(\"012345\", 0)", "\"012345\""},
    {NULL, "substring(\"012345\", 2.745)", "\"2345\""},
    {NULL, "substring(123, 2)", "\"3\""},
    {NULL, "substring(\"012345\", -1)", "\"012345\""},
    {NULL, "substring(true, 1.2)", "\"rue\""},
    {NULL, "substring(false, -2.411E247)", "\"false\""},
    {NULL, "substring(\"012345\", 1, 3)", "\"12\""},
    {NULL, "substring(\"012345\", -50, 50)", "\"012345\""},
    {NULL, "substring(\"012345\", 3, 1)", "\"\""},
    {NULL, "trunc(2.3123, 2)", "2.31"},
    {NULL, "trunc(2.888, 2)", "2.88"},
    {NULL, "trunc(2.00, 5)", "2"},
    {NULL, "upper([\"hello\"])", "\"[\\\"HELLO\\\"]\""},
    {NULL, "encode('red', 'base64')", "\"cmVk\""},
    {NULL, "decode('!!', 'base64')", "null"},
    {NULL, "time_to_epoch(\"18 December 2015\", \"dd MMMM yyyy\")", "1450396800000"},
    {NULL, "time_to_epoch(\"2020-04-03 09:45:18 UTC+01:00\", \"yyyy-MM-dd HH:mm:ss VV\")",
     "1585903518000"},
    {NULL, "time_to_epoch(\"2007-12-03 10:15:30.592 America/Los_Angeles\", \"yyyy-MM-dd HH:mm:ss.SSS z\")",
     "1196705730592"},
    /* math: more cases, wrong types and arity */
    {NULL, "abs(-9223372036854775808)", "9223372036854776000"},
    {NULL, "abs(-2.5)", "2.5"},
    {NULL, "abs('x')", ""},
    {NULL, "abs(true)", ""},
    {NULL, "abs(null)", ""},
    {NULL, "abs(1, 2)", ""},
    {NULL, "abs()", ""},
    {NULL, "asin(0)", "0"},
    {V15, "asin(0)", "0.0"},
    {NULL, "atan(1)", "0.7853981633974483"},
    {NULL, "acos(2)", ""},
    {NULL, "asin('0.5')", "0.5235987755982989"},
    {NULL, "cos(0)", "1"},
    {V15, "cos(0)", "1.0"},
    {NULL, "sin(0)", "0"},
    {NULL, "exp(1)", "2.718281828459045"},
    {NULL, "exp(1000)", ""},
    {NULL, "ln(1)", "0"},
    {NULL, "ln(0)", ""},
    {NULL, "ln(-1)", ""},
    {NULL, "log(0)", ""},
    {V15, "log(100)", "2.0"},
    {NULL, "power(2, 0.5)", "1.4142135623730951"},
    {NULL, "power(-8, 0.5)", ""},
    {V15, "power(2, 5)", "32.0"},
    {NULL, "sqrt(-1)", ""},
    {NULL, "sqrt('16')", "4"},
    {NULL, "ceil(1.2)", "2"},
    {NULL, "ceil(5)", "5"},
    {NULL, "ceil('1.5')", "2"},
    {NULL, "floor(1.2)", "1"},
    {NULL, "floor(1e300)", "1.0E300"},
    {NULL, "round(1.7)", "2"},
    {NULL, "round(2.5)", "3"},
    {NULL, "round(-0.4)", "0"},
    {NULL, "round('x')", ""},
    {NULL, "sign(-0.5)", "-1"},
    {NULL, "sign('3')", "1"},
    {NULL, "sign([1])", ""},
    {NULL, "trunc(2.3, 0)", "2"},
    {NULL, "trunc(-2.789, 1)", "-2.7"},
    {NULL, "trunc(5, 2)", "5"},
    {NULL, "trunc(2.345, 1.9)", "2.3"},
    {NULL, "trunc(2.345, -3)", "2"},
    {NULL, "trunc(0.0012345, 4)", "0.0012"},
    {NULL, "trunc(0.0012345, 2)", "0"},
    {NULL, "trunc(123.456, 50)", "123.456"},
    {NULL, "trunc('2.55', 1)", "2.5"},
    {NULL, "trunc(2.5, 'x')", ""},
    {NULL, "mod(-8, 3)", "-2"},
    {NULL, "mod(8.5, 3)", "2.5"},
    {NULL, "mod(8, 0)", ""},
    {NULL, "mod('8', 3)", "2"},
    {V15, "mod('8', 3)", "2.0"},
    {NULL, "remainder(-8, -3)", "-2"},
    {NULL, "nanvl(missing, 3)", "3"},
    {NULL, "nanvl(null, 3)", "3"},
    {NULL, "nanvl('x', 3)", "\"x\""},
    {NULL, "bitand(12, '10')", "8"},
    {NULL, "bitor(1.9, 2)", "3"},
    {NULL, "bitxor(-1, 0)", "-1"},
    {NULL, "bitand('a', 1)", ""},
    {NULL, "bitnot(0)", "1"},
    {NULL, "bitnot(1)", "0"},
    {NULL, "bitnot(255)", "0"},
    {NULL, "bitnot(256)", "255"},
    {NULL, "bitnot(-14)", "13"},
    {NULL, "bitnot(null)", ""},
    /* strings */
    {NULL, "chr(49)", "\"1\""},
    {NULL, "chr(65.9)", "\"A\""},
    {NULL, "chr('66')", "\"B\""},
    {NULL, "chr(128)", ""},
    {NULL, "chr(-1)", ""},
    {NULL, "chr('x')", ""},
    {NULL, "concat(1)", "1"},
    {NULL, "concat(missing)", ""},
    {NULL, "concat(1, 2)", ""},
    {NULL, "concat(1, missing, 'a')", ""},
    {NULL, "concat('a', null)", ""},
    {NULL, "concat([1], null)", "[1,null]"},
    {NULL, "concat([1], [[2]], o)", "[1,[2],{\"k\":\"v\",\"n\":{\"x\":1}}]"},
    {NULL, "concat('a', 1.5, true, [1])", "[\"a\",1.5,true,1]"},
    {NULL, "concat('a', 1.5, true, {'k': 1})", "\"a1.5true{\\\"k\\\":1}\""},
    {NULL, "endswith(123, 3)", "true"},
    {NULL, "endswith('a', 'ab')", "false"},
    {NULL, "endswith(null, 'a')", ""},
    {NULL, "startswith('abc', '')", "true"},
    {NULL, "startswith(missing, 'a')", ""},
    {NULL, "indexof('abcd', 'x')", "-1"},
    {NULL, "indexof('h\xC3\xA9llo', 'l')", "2"},
    {NULL, "indexof(12345, 34)", "2"},
    {NULL, "indexof('abc', '')", "0"},
    {NULL, "indexof(null, 'a')", ""},
    {NULL, "length('h\xC3\xA9llo')", "5"},
    {NULL, "length('\xF0\x9F\x98\x80')", "1"},
    {NULL, "length(123)", "3"},
    {NULL, "length([1,2])", "5"},
    {NULL, "length(null)", ""},
    {NULL, "numbytes('h\xC3\xA9llo')", "6"},
    {NULL, "numbytes(missing)", ""},
    {NULL, "lower('ABC \xC3\x89\xC3\x80 \xCE\x91\xCE\xA9 \xD0\x96 \xC4\x80')",
     "\"abc \xC3\xA9\xC3\xA0 \xCE\xB1\xCF\x89 \xD0\xB6 \xC4\x81\""},
    {NULL, "upper('abc \xC3\xA9\xC3\xA0 \xCE\xB1\xCF\x89 \xD0\xB6 \xC4\x81 \xC3\xBF')",
     "\"ABC \xC3\x89\xC3\x80 \xCE\x91\xCE\xA9 \xD0\x96 \xC4\x80 \xC5\xB8\""},
    {NULL, "upper(1.5)", "\"1.5\""},
    {NULL, "lower(null)", ""},
    {NULL, "lpad('a', 0)", "\"a\""},
    {NULL, "lpad('a', -3)", "\"a\""},
    {NULL, "lpad('a', 2.9)", "\"  a\""},
    {NULL, "lpad('a', 'x')", ""},
    {NULL, "length(lpad('', 5000))", "1000"},
    {NULL, "rpad(null, 2)", ""},
    {NULL, "trim('\\t\\r\\n x \\n')", "\"x\""},
    {NULL, "ltrim(5)", "\"5\""},
    {NULL, "trim(null)", ""},
    {NULL, "replace('aaa', 'a', 'bb')", "\"bbbbbb\""},
    {NULL, "replace('abc', '', 'x')", "\"abc\""},
    {NULL, "replace(1212, 1, 3)", "\"3232\""},
    {NULL, "replace('abc', 'b', null)", ""},
    {NULL, "substring('h\xC3\xA9llo', 1, 2)", "\"\xC3\xA9\""},
    {NULL, "substring('abc', 'x')", ""},
    {NULL, "substring('abc', 1, 'x')", ""},
    {NULL, "substring(null, 1)", ""},
    {NULL, "substring('abc', 1, 2, 3)", ""},
    /* regular expressions (Java syntax on POSIX ERE, U48) */
    {NULL, "regexp_substr('ab123c', '\\d+')", "\"123\""},
    {NULL, "regexp_substr('x1.5y', '[\\d.]+')", "\"1.5\""},
    {NULL, "regexp_substr('a b_c', '\\w+$')", "\"b_c\""},
    {NULL, "regexp_substr('ab  cd', '\\s+\\S')", "\"  c\""},
    {NULL, "regexp_substr('abc', '\\D+')", "\"abc\""},
    {NULL, "regexp_matches('xABCx', '(?i)abc')", "true"},
    {NULL, "regexp_matches('x', '^x$')", "true"},
    {NULL, "regexp_matches('ax', '^x')", "false"},
    {NULL, "regexp_matches('a.b', 'a\\.b')", "true"},
    {NULL, "regexp_matches('axb', 'a\\.b')", "false"},
    {NULL, "regexp_matches('a]b', '[]]')", "true"},
    {NULL, "regexp_matches('a-b', '[a\\-]')", "true"},
    {NULL, "regexp_matches('^', '[\\^]')", "true"},
    {NULL, "regexp_matches('b', '[^abc]')", "false"},
    {NULL, "regexp_matches('tab\\there', '\\t')", "true"},
    {NULL, "regexp_matches('A', '\\x41')", "true"},
    /* U04 makes '\b' a backspace; a word boundary is written '\\b' */
    {NULL, "regexp_matches('word', '\\bword\\b')", "false"},
    {NULL, "regexp_matches('word', '\\\\bword\\\\b')", "true"},
    {NULL, "regexp_matches('words', '\\\\bword\\\\b')", "false"},
    {NULL, "regexp_matches('aaa', 'a+?')", ""},       /* lazy */
    {NULL, "regexp_matches('aaa', 'a*+')", ""},       /* possessive */
    {NULL, "regexp_matches('aa', '(a)\\1')", ""},     /* back-reference */
    {NULL, "regexp_matches('ab', 'a(?=b)')", ""},     /* look-ahead */
    {NULL, "regexp_matches('ab', '(')", ""},
    {NULL, "regexp_matches('ab', '[a')", ""},
    {NULL, "regexp_matches('ab', 'a{2')", ""},
    {NULL, "regexp_matches('ab', '\\p{Alpha}')", ""},
    {NULL, "regexp_matches('ab', 'a{2000}')", ""},
    {NULL, "regexp_matches('ab', '(a{100}){100}')", ""},
    {NULL, "regexp_matches('aaa', '(a{10}){10}')", "false"},
    {NULL, "regexp_matches(null, 'a')", ""},
    {NULL, "regexp_matches(123, '2')", "true"},
    {NULL, "regexp_replace('abc', 'x*', '-')", "\"-a-b-c-\""},
    {NULL, "regexp_replace('abc', 'b*', '-')", "\"-a--c-\""},
    {NULL, "regexp_replace('ab', '(a)(b)', '$2$1')", "\"ba\""},
    {NULL, "regexp_replace('ab', '(?:a)(b)', '[$1]')", "\"[b]\""},
    {NULL, "regexp_replace('ab', '(a)', '$2')", ""},
    {NULL, "regexp_replace('ab', '(a)', '$x')", ""},
    {NULL, "regexp_replace('a.b', '\\.', '\\$')", "\"a$b\""},
    {NULL, "regexp_replace('aaa', 'a', '$0$0')", "\"aaaaaa\""},
    {NULL, "regexp_replace('2020-04-03', '(\\d+)-(\\d+)-(\\d+)', '$3/$2/$1')",
     "\"03/04/2020\""},
    {NULL, "regexp_replace('abc', '(a)|(z)', '[$2]')", "\"[]bc\""},
    {NULL, "regexp_substr('abc', 'x')", ""},
    {NULL, "regexp_substr('abc', '')", "\"\""},
    /* digests */
    {NULL, "md2('')", "\"8350e5a3e24c153df2275c9f80692773\""},
    {NULL, "md2('abc')", "\"da853b0d3f88d99b30283a69e6ded6bb\""},
    {NULL, "md2('12345678901234567890123456789012345678901234567890123456789012345678901234567890')",
     "\"d5976f79d83d3a0dc9806c3c66f3efd8\""},
    {NULL, "sha1('hello')", "\"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d\""},
    {NULL, "sha224('hello')", "\"ea09ae9cc6768c50fcee903ed054556e5bfc8347907f12598aa24193\""},
    {NULL, "sha256('hello')", "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\""},
    {NULL, "sha384('hello')",
     "\"59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90125a3c79f90397bdf5f6a13de828684f\""},
    {NULL, "sha512('hello')",
     "\"9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043\""},
    {NULL, "md5(5)", "\"e4da3b7fbbce2345d7772b0674a318d5\""},
    {NULL, "md5(null)", ""},
    /* conversion, collections, encoding */
    {NULL, "get_or_default(missing, 'd')", "\"d\""},
    {NULL, "get_or_default(null, 'd')", "null"},
    {NULL, "get_or_default(1, 'd')", "1"},
    {NULL, "isNull(missing)", "false"},
    {NULL, "isUndefined(null)", "false"},
    {NULL, "encode(5, 'base64')", "\"NQ==\""},
    {NULL, "encode('red', 'hex')", ""},
    {NULL, "encode('red', 'BASE64')", ""},
    {NULL, "encode(null, 'base64')", ""},
    {NULL, "encode(*, 'base64')", "\"" /* filled by the row runner */},
    {NULL, "decode('cmVk', 'base64')", "\"red\""},
    {NULL, "decode('cmVk', \"base64\")", "\"red\""},
    {NULL, "decode('eyJhIjpbMSwyXX0=', 'base64').a[1]", "2"},
    {NULL, "decode('eyJhIjpbMSwyXX0', 'base64')", "{\"a\":[1,2]}"},
    {NULL, "decode('ODA=', 'base64')", "80"},
    {NULL, "decode('', 'base64')", "\"\""},
    {NULL, "decode('cmV', 'base64')", "\"re\""},
    {NULL, "decode('c', 'base64')", "null"},
    {NULL, "decode('cm=k', 'base64')", "null"},
    {NULL, "decode('cmVk\\n', 'base64')", "null"},
    {NULL, "decode('/w==', 'base64')", "\"\xFF\""},
    {NULL, "decode(5, 'base64')", ""},
    {NULL, "decode('cmVk', 'hex')", ""},
    {NULL, "transform('enrichArray', {'k': 1}, [{'k': 0, 'a': 1}, 5, {'b': 2}])",
     "[{\"k\":1,\"a\":1},{\"b\":2,\"k\":1}]"},
    {NULL, "transform('other', {}, [])", ""},
    {NULL, "transform('enrichArray', [], [])", ""},
    {NULL, "transform('enrichArray', {}, {})", ""},
    /* a result over 128 KiB is Undefined (U52) */
    {NULL, "transform('enrichArray', {'x': lpad('', 1000)}, (SELECT * FROM concat(a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a)))", ""},
    {NULL, "length(cast(transform('enrichArray', {'x': lpad('', 1000)}, (SELECT * FROM concat(a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a))) as String))", "121081"},
    {NULL, "timestamp()", "1700000000123"},
    {NULL, "timestamp() = timestamp()", "true"},
    /* time: parse_time (Joda) and time_to_epoch (java.time) */
    {NULL, "parse_time('yyyy-MM-dd HH:mm:ss.SSS', 1585903518123)", "\"2020-04-03 08:45:18.123\""},
    {NULL, "parse_time(\"yyyy-MM-dd'T'HH:mm:ss.SSSZ\", 1585903518123, 'UTC')",
     "\"2020-04-03T08:45:18.123+0000\""},
    {NULL, "parse_time('yyyy-MM-dd HH:mm z ZZ ZZZ', 1585903518123, 'America/Los_Angeles')",
     "\"2020-04-03 01:45 PDT -07:00 America/Los_Angeles\""},
    {NULL, "parse_time('EEEE, MMMM d, yyyy h:mm a', 1585903518123)",
     "\"Friday, April 3, 2020 8:45 AM\""},
    {NULL, "parse_time('EEE MMM dd yy D e w x kk KK', 1585903518123)",
     "\"Fri Apr 03 20 94 5 14 2020 08 08\""},
    {NULL, "parse_time('HH:mm ZZ', 1585903518123, '+05:30')", "\"14:15 +05:30\""},
    {NULL, "parse_time('HH:mm z', 1585903518123, 'Asia/Kolkata')", "\"14:15 IST\""},
    {NULL, "parse_time('HH:mm', 1585903518123, 'UTC-5')", "\"03:45\""},
    {NULL, "parse_time('yyyy-MM-dd HH:mm:ss', -1)", "\"1969-12-31 23:59:59\""},
    {NULL, "parse_time('yyyy-MM-dd HH:mm z', 4117996800000, 'America/Los_Angeles')",
     "\"2100-06-29 17:00 PDT\""},
    {NULL, "parse_time(\"'It''s' yyyy\", 0)", "\"It's 1970\""},
    {NULL, "parse_time(\"'' yyyy\", 0)", "\"' 1970\""},
    {NULL, "parse_time(\"'open yyyy\", 0)", ""},
    {NULL, "parse_time('yyyy', '86400000')", "\"1970\""},
    {NULL, "parse_time('yyyy q', 0)", ""},
    {NULL, "parse_time('yyyy', 0, 'Mars/Base')", ""},
    {NULL, "parse_time('yyyy', 0, '../../etc/passwd')", ""},
    {NULL, "parse_time('yyyy', 'x')", ""},
    {NULL, "parse_time('yyyy')", ""},
    {NULL, "time_to_epoch('1970-01-01', 'yyyy-MM-dd')", "0"},
    {NULL, "time_to_epoch('2020-02-30', 'yyyy-MM-dd')", ""},
    {NULL, "time_to_epoch('2020-02-29', 'yyyy-MM-dd')", "1582934400000"},
    {NULL, "time_to_epoch('2020-04-03T09:45:18Z', \"yyyy-MM-dd'T'HH:mm:ssX\")", "1585907118000"},
    {NULL, "time_to_epoch('2020-04-03T10:45:18+01:00', \"yyyy-MM-dd'T'HH:mm:ssXXX\")",
     "1585907118000"},
    {NULL, "time_to_epoch('03/04/2020 09:45 PM', 'dd/MM/yyyy hh:mm a')", "1585950300000"},
    {NULL, "time_to_epoch('20200403', 'yyyyMMdd')", "1585872000000"},
    {NULL, "time_to_epoch('2020-01-15 10:00 PST', 'yyyy-MM-dd HH:mm z')", "1579111200000"},
    {NULL, "time_to_epoch('2021-03-14 02:30 America/New_York', 'yyyy-MM-dd HH:mm VV')",
     "1615707000000"},
    {NULL, "time_to_epoch('2021-11-07 01:30 America/New_York', 'yyyy-MM-dd HH:mm VV')",
     "1636263000000"},
    {NULL, "time_to_epoch('2100-07-01 12:00 America/Los_Angeles', 'yyyy-MM-dd HH:mm VV')",
     "4118151600000"},
    {NULL, "time_to_epoch('Fri, 03 Apr 2020 09:45:18 GMT', 'EEE, dd MMM yyyy HH:mm:ss z')",
     "1585907118000"},
    {NULL, "time_to_epoch('2020-04-03 25:00', 'yyyy-MM-dd HH:mm')", ""},
    {NULL, "time_to_epoch('2020-04-03 x', 'yyyy-MM-dd')", ""},
    {NULL, "time_to_epoch('2020-04-03', 'yyyy-MM-dd HH')", ""},
    {NULL, "time_to_epoch('2020', 'yyyy [MM]')", ""},
    {NULL, "time_to_epoch(null, 'yyyy')", ""},
};

/* 6.3 encode(*): the raw payload bytes, JSON or not */
START_TEST(function_rows) {
    const expr_row_t *r = &functions[_i];
    if (strcmp(r->expr, "encode(*, 'base64')") == 0) {
        char *got = run_sql(NULL, "t/x", "{ \"a\": 1 }", "SELECT VALUE encode(*, 'base64') FROM 't/x'");
        ck_assert_str_eq(got, "\"eyAiYSI6IDEgfQ==\"");
        free(got);
        return;
    }
    check_expr(r);
}
END_TEST

/* Functions with no fixed answer, and 2016-only functions in 2015. */
START_TEST(function_misc) {
    regex_t uuid;
    char *got;
    ck_assert_int_eq(regcomp(&uuid,
                             "^\"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\"$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    for (int i = 0; i < 20; i++) {
        double d;
        got = run_sql(NULL, "t/x", "{}", "SELECT VALUE newuuid() FROM 't/x'");
        ck_assert_msg(regexec(&uuid, got, 0, NULL, 0) == 0, "%s", got);
        free(got);
        got = run_sql(NULL, "t/x", "{}", "SELECT VALUE rand() FROM 't/x'");
        d = strtod(got, NULL);
        ck_assert_msg(d >= 0 && d < 1 && strlen(got) > 0, "%s", got);
        free(got);
    }
    regfree(&uuid);
    ck_run(NULL, "t/x", "{}", "SELECT VALUE newuuid() <> newuuid() FROM 't/x'", "true");
    ck_run(NULL, "t/x", "{}", "SELECT VALUE mod(cast(rand()*100000 as Int), 8) < 8 FROM 't/x'",
           "true");
    /* U12: 2016-only functions refused in 2015 rules */
    static const char *const only2016[] = {"decode", "encode", "indexof", "isUndefined",
                                           "length", "numbytes", "parse_time",
                                           "time_to_epoch", "transform", "get_dynamodb",
                                           "get_thing_shadow", "sourceip"};
    for (size_t i = 0; i < sizeof(only2016) / sizeof(only2016[0]); i++) {
        char sql[128], want[160];
        snprintf(sql, sizeof(sql), "SELECT %s(1) FROM 't'", only2016[i]);
        snprintf(want, sizeof(want),
                 "!parse:Function '%s' requires SQL version 2016-03-23 at line 1, column 8",
                 strcmp(only2016[i], "isUndefined") == 0 ? "isundefined" : only2016[i]);
        got = run_sql(V15, "t", "{}", sql);
        ck_assert_str_eq(got, want);
        free(got);
    }
    /* 2015 rules still have the 2015 functions */
    ck_run(V15, "t/x", "{\"a\":\"x\"}", "SELECT md5(a) AS h, isNull(a) AS n, sql_version() AS v FROM 't/x'",
           "{\"h\":\"9dd4e461268c8034f5c8564e155c67a6\",\"n\":false,\"v\":\"2015-10-08\"}");
}
END_TEST

/* ---- 6.4: message context, MQTT 5, local lookups, external services ----- */

static char *fake_shadow(void *data, const char *thing, const char *shadow) {
    (void)data;
    if (strcmp(thing, "t1") != 0)
        return NULL;
    if (shadow && strcmp(shadow, "named") == 0)
        return strdup("{\"state\":{\"reported\":{\"mode\":\"eco\"}},\"version\":3}");
    if (shadow)
        return NULL;
    return strdup("{\"state\":{\"reported\":{\"alarm\":true}},\"version\":7}");
}

static char *fake_registry(void *data, const char *api, const char *thing) {
    (void)data;
    if (strcmp(thing, "t1") != 0)
        return NULL;
    if (strcmp(api, "DescribeThing") == 0)
        return strdup("{\"thingName\":\"t1\",\"attributes\":{\"room\":\"201\"}}");
    return strdup("{\"thingGroups\":[\"g1\"]}");
}

static char *bad_json(void *data, const char *thing, const char *shadow) {
    (void)data;
    (void)thing;
    (void)shadow;
    return strdup("{not json");
}

static char *ctx_eval(const ic_sql_ctx_t *c, const char *expr) {
    char sql[512];
    opts_t o = {NULL, "t/x", c->payload ? (const char *)c->payload : "{}", 0, c};
    snprintf(sql, sizeof(sql), "SELECT VALUE %s FROM 't/#'", expr);
    return run_full(sql, &o);
}

#define ck_ctx(c, expr, want)                                                            \
    do {                                                                                 \
        char *got_ = ctx_eval(c, expr);                                                  \
        ck_assert_msg(strcmp(got_, want) == 0, "%s\n got:  %s\n want: %s", expr, got_, want); \
        free(got_);                                                                      \
    } while (0)

START_TEST(context_functions) {
    static const ic_sql_user_prop_t props[] = {{"k", "v1"}, {"o", "ov"}, {"k", "v2"}};
    static const uint8_t corr[] = {0x01, 0x02, 0x03};
    ic_sql_ctx_t c = {0};
    c.now_ms = 42;
    c.payload_format = -1;
    /* MQTT 3.1.1, HTTP-style absent fields */
    ck_ctx(&c, "clientid()", "\"n/a\"");
    ck_ctx(&c, "principal()", "\"\"");
    ck_ctx(&c, "traceid()", "");
    ck_ctx(&c, "sourceip()", "");
    ck_ctx(&c, "accountid()", "");
    ck_ctx(&c, "timestamp()", "42");
    ck_ctx(&c, "topic()", "\"t/x\"");
    ck_ctx(&c, "topic(2)", "\"x\"");
    ck_ctx(&c, "topic('2')", "\"x\"");
    ck_ctx(&c, "topic(1.9)", "\"t\"");
    ck_ctx(&c, "topic(0)", "");
    ck_ctx(&c, "topic(3)", "");
    ck_ctx(&c, "topic('x')", "");
    ck_ctx(&c, "get_mqtt_property('content_type')", "");
    ck_ctx(&c, "get_user_properties()", "");
    ck_ctx(&c, "get_user_properties('k')", "");
    c.client_id = "dev-1";
    c.principal = "ab12";
    c.trace_id = "7e146a2c-95b5-6caf-98b9-50e3969734c7";
    c.source_ip = "192.0.2.7";
    c.account_id = "123456789012";
    ck_ctx(&c, "clientid()", "\"dev-1\"");
    ck_ctx(&c, "clientId()", "\"dev-1\"");
    ck_ctx(&c, "principal()", "\"ab12\"");
    ck_ctx(&c, "traceid()", "\"7e146a2c-95b5-6caf-98b9-50e3969734c7\"");
    ck_ctx(&c, "sourceip()", "\"192.0.2.7\"");
    ck_ctx(&c, "accountid()", "\"123456789012\"");
    /* MQTT 5 (U56) */
    c.is_mqtt5 = true;
    ck_ctx(&c, "get_mqtt_property('format_indicator')", "\"UNSPECIFIED_BYTES\"");
    ck_ctx(&c, "get_mqtt_property('content_type')", "");
    ck_ctx(&c, "get_user_properties()", "");
    c.payload_format = 1;
    c.content_type = "application/json";
    c.response_topic = "reply/here";
    c.correlation_data = corr;
    c.correlation_len = sizeof(corr);
    c.user_props = props;
    c.n_user_props = 3;
    ck_ctx(&c, "get_mqtt_property('format_indicator')", "\"UTF8_DATA\"");
    ck_ctx(&c, "get_mqtt_property('content_type')", "\"application/json\"");
    ck_ctx(&c, "get_mqtt_property('response_topic')", "\"reply/here\"");
    ck_ctx(&c, "get_mqtt_property('correlation_data')", "\"AQID\"");
    ck_ctx(&c, "get_mqtt_property('other')", "");
    ck_ctx(&c, "get_mqtt_property(1)", "");
    ck_ctx(&c, "get_user_properties('k')", "[\"v1\",\"v2\"]");
    ck_ctx(&c, "get(get_user_properties('o'), 0)", "\"ov\"");
    ck_ctx(&c, "get_user_properties('none')", "");
    ck_ctx(&c, "get_user_properties()", "[{\"k\":\"v1\"},{\"o\":\"ov\"},{\"k\":\"v2\"}]");
    c.payload_format = 0;
    ck_ctx(&c, "get_mqtt_property('format_indicator')", "\"UNSPECIFIED_BYTES\"");
    /* local lookups (L) */
    ck_ctx(&c, "get_thing_shadow('t1', 'arn:aws:iam::1:role/r')",
           "!error:get_thing_shadow: nothing found for thing 't1'"); /* no callback */
    c.get_thing_shadow = fake_shadow;
    c.get_registry_data = fake_registry;
    ck_ctx(&c, "get_thing_shadow('t1', 'arn:aws:iam::1:role/r').state.reported.alarm", "true");
    ck_ctx(&c, "get_thing_shadow('t1', 'named', 'arn').state.reported.mode", "\"eco\"");
    ck_ctx(&c, "get_thing_shadow('t2', 'arn')", "!error:get_thing_shadow: nothing found for thing 't2'");
    ck_ctx(&c, "get_thing_shadow('t1', 'other', 'arn')",
           "!error:get_thing_shadow: nothing found for thing 't1'");
    ck_ctx(&c, "get_thing_shadow(missing, 'arn')", "");
    ck_ctx(&c, "get_thing_shadow('t1')", "");
    ck_ctx(&c, "get_registry_data('DescribeThing', 't1', 'arn').attributes.room", "\"201\"");
    ck_ctx(&c, "get_registry_data('ListThingGroupsForThing', 't1', 'arn')",
           "{\"thingGroups\":[\"g1\"]}");
    ck_ctx(&c, "get_registry_data('Other', 't1', 'arn')", "");
    ck_ctx(&c, "get_registry_data('DescribeThing', 'zz', 'arn')",
           "!error:get_registry_data: nothing found for thing 'zz'");
    c.get_thing_shadow = bad_json;
    ck_ctx(&c, "get_thing_shadow('t1', 'arn')", "!error:get_thing_shadow: the answer is not JSON");
    /* external services (U59): evaluation errors, even with wrong arity */
    ck_ctx(&c, "aws_lambda('arn:aws:lambda:us-east-1:1:function:f', {'a': 1})",
           "!error:function aws_lambda needs an AWS service and is not available");
    ck_ctx(&c, "get_dynamodb('t', 'k', 'v', 'arn')",
           "!error:function get_dynamodb needs an AWS service and is not available");
    ck_ctx(&c, "get_secret('id', 'SecretString', 'arn')",
           "!error:function get_secret needs an AWS service and is not available");
    ck_ctx(&c, "machinelearning_predict('m', 'arn', *)",
           "!error:function machinelearning_predict needs an AWS service and is not available");
    ck_ctx(&c, "AWS_LAMBDA()", "!error:function aws_lambda needs an AWS service and is not available");
    /* an error in WHERE or SET is an error, not a non-firing rule */
    {
        opts_t o = {NULL, "t/x", "{}", 0, &c};
        char *got = run_full("SELECT 1 AS a FROM 't/x' WHERE aws_lambda('f', 1) = 1", &o);
        ck_assert_str_eq(got, "!error:function aws_lambda needs an AWS service and is not available");
        free(got);
        got = run_full("SET @x = get_secret('a', 'b', 'c') SELECT 1 AS a FROM 't/x'", &o);
        ck_assert_str_eq(got, "!error:function get_secret needs an AWS service and is not available");
        free(got);
    }
}
END_TEST

/* ---- 7: substitution templates ------------------------------------------- */

static const struct tmpl_row_s {
    const char *text, *want; /* want "!parse:..." or "!error:..." */
} tmpl_rows[] = {
    {"plain text", "plain text"},
    {"", ""},
    {"${topic()}/republish", "my/iot/topic/republish"},
    {"${topic()}/${timestamp()}", "my/iot/topic/1700000000123"},
    {"a/${deviceid}/${temp}", "a/iot123/54.98"},
    {"$$aws/things/${deviceid}/shadow/update", "$aws/things/iot123/shadow/update"},
    {"$$${deviceid}", "$iot123"},
    {"$${not}", "${not}"},
    {"cost $5 and $ alone$", "cost $5 and $ alone$"},
    {"${ {'a': '}', \"b\": {'c': [1, 2]}} }", "{\"a\":\"}\",\"b\":{\"c\":[1,2]}}"},
    {"${'}'}", "}"},
    {"${o}", "{\"k\":\"v\"}"},
    {"${arr}", "[1,2.5]"},
    {"${flag}", "true"},
    {"${nothing}", ""},
    {"x${missing}y", "xy"},
    {"${@v}-${@w}", "IOT123-"},      /* SET variables visible, unknown ones Undefined */
    {"${alias}", ""},                /* SELECT aliases are not */
    {"${whole}", "5"},               /* 2016 rendering of 5.0 */
    {"${floor(timestamp() / 1E3)}", "1700000000"},
    {"${(timestamp() % 1E3) * 1E6}", "123000000"},
    {"${CASE deviceid WHEN 'iot123' THEN 'known' ELSE 'other' END}", "known"},
    {"${get(get_user_properties('k'), 0)}", ""},
    {"${replace(topic(), '/', '-') + '-' + timestamp()}", "my-iot-topic-1700000000123"},
    {"${upper(deviceid)}${'lit'}${1+1}", "IOT123lit2"},
    {"${topic()", "!parse:Expected '}' but found end of input at line 1, column 10"},
    {"${}", "!parse:Empty expression at line 1, column 3"},
    {"a/${foo(1)}", "!parse:Unknown function 'foo' at line 1, column 5"},
    {"${1 +}", "!parse:Unexpected token '}' at line 1, column 6"},
    {"${'open}", "!parse:Unterminated string literal at line 1, column 3"},
    {"${a b}", "!parse:Expected '}' but found 'b' at line 1, column 5"},
    {"x\n${!}", "!parse:Unexpected character '!' at line 2, column 3"},
    {"${aws_lambda('f', 1)}", "!error:function aws_lambda needs an AWS service and is not available"},
};

START_TEST(templates) {
    const struct tmpl_row_s *row = &tmpl_rows[_i];
    static const char payload[] =
        "{\"deviceid\":\"iot123\",\"temp\":54.98,\"o\":{\"k\":\"v\"},\"arr\":[1,2.5],\"flag\":true,\"nothing\":null,\"whole\":5.0}";
    ic_sql_err_t err;
    ic_sql_ctx_t c = {0};
    ic_sql_t *q = ic_sql_parse("SET @v = upper(deviceid) SELECT *, 1 AS alias FROM 'my/#'", V16, &err);
    ic_sql_tmpl_t *t;
    ic_sql_run_t *r;
    char e[256], *got;
    ck_assert_ptr_nonnull(q);
    c.topic = "my/iot/topic";
    c.payload = (const uint8_t *)payload;

    c.payload_len = strlen(payload);
    c.now_ms = 1700000000123;
    r = ic_sql_run(q, &c);
    ck_assert_int_eq(ic_sql_run_result(r), IC_SQL_FIRED);
    t = ic_sql_tmpl_parse(row->text, V16, &err);
    if (strncmp(row->want, "!parse:", 7) == 0) {
        ck_assert_msg(!t, "%s parsed", row->text);
        ck_assert_str_eq(err.message, row->want + 7);
    } else {
        ck_assert_msg(t != NULL, "%s: %s", row->text, err.message);
        ck_assert(ic_sql_tmpl_is_constant(t) == (strstr(row->text, "${") == NULL ||
                                                 strcmp(row->text, "$${not}") == 0));
        got = ic_sql_tmpl_render(t, r, e, sizeof(e));
        if (strncmp(row->want, "!error:", 7) == 0) {
            ck_assert_ptr_null(got);
            ck_assert_str_eq(e, row->want + 7);
        } else {
            ck_assert_msg(got != NULL, "%s: %s", row->text, e);
            ck_assert_msg(strcmp(got, row->want) == 0, "%s\n got:  %s\n want: %s", row->text, got,
                          row->want);
        }
        free(got);
        ic_sql_tmpl_free(t);
    }
    ic_sql_run_free(r);
    ic_sql_free(q);
}
END_TEST

/* W56 and the error-action case: a run that did not fire still renders,
 * from the original message; a binary payload gives empty fields; a 2015
 * template renders 2015 numbers. */
START_TEST(template_contexts) {
    ic_sql_err_t err;
    ic_sql_ctx_t c = {0};
    ic_sql_t *q = ic_sql_parse("SELECT * FROM 'testme/#' WHERE false", NULL, &err);
    ic_sql_tmpl_t *t = ic_sql_tmpl_parse(
        "${replace(topic(), '/', '-') + '-' + timestamp() + '-' + newuuid()}", V16, &err);
    ic_sql_tmpl_t *t15 = ic_sql_tmpl_parse("${v}/${v * 2}", V15, &err);
    ic_sql_run_t *r;
    regex_t key;
    char e[128], *got;
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(t15);
    c.topic = "testme/action";
    c.payload = (const uint8_t *)"{\n  \"message\": \"Hello vrom AWS IoT console\"\n}";
    c.payload_len = strlen((const char *)c.payload);
    c.now_ms = 1511213971966;
    r = ic_sql_run(q, &c);
    ck_assert_int_eq(ic_sql_run_result(r), IC_SQL_NOT_FIRED);
    got = ic_sql_tmpl_render(t, r, e, sizeof(e));
    ck_assert_int_eq(regcomp(&key, "^testme-action-1511213971966-[0-9a-f-]{36}$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    ck_assert_msg(regexec(&key, got, 0, NULL, 0) == 0, "%s", got);
    regfree(&key);
    free(got);
    ic_sql_run_free(r);
    c.payload = (const uint8_t *)"{\"v\":2.0}";
    c.payload_len = strlen((const char *)c.payload);
    r = ic_sql_run(q, &c);
    got = ic_sql_tmpl_render(t15, r, e, sizeof(e));
    ck_assert_str_eq(got, "2.0/4.0");
    free(got);
    ic_sql_run_free(r);
    c.payload = (const uint8_t *)"\x01\x02";
    c.payload_len = 2;
    r = ic_sql_run(q, &c);
    got = ic_sql_tmpl_render(t15, r, e, sizeof(e));
    ck_assert_str_eq(got, "/");
    free(got);
    ic_sql_run_free(r);
    ic_sql_tmpl_free(t);
    ic_sql_tmpl_free(t15);
    ic_sql_free(q);
    /* an error run renders too; constant templates; NULL run */
    t = ic_sql_tmpl_parse("$$aws/x", NULL, &err);
    ck_assert(ic_sql_tmpl_is_constant(t));
    got = ic_sql_tmpl_render(t, NULL, e, sizeof(e));
    ck_assert_ptr_null(got);
    ck_assert_str_eq(e, "no message context");
    ic_sql_tmpl_free(t);
    ck_assert_ptr_null(ic_sql_tmpl_parse("x", "2017-01-01", &err));
    ck_assert_str_eq(err.message, "Unsupported SQL version '2017-01-01'");
    ck_assert_ptr_null(ic_sql_tmpl_parse("${(SELECT VALUE 1 FROM a)}", V15, &err));
    ck_assert_str_eq(err.message, "Nested SELECT requires SQL version 2016-03-23 at line 1, column 4");
    ic_sql_tmpl_free(NULL);
}
END_TEST

/* ---- 8.4: SqlParseException messages --------------------------------------- */

static const struct perr_row_s {
    const char *ver, *sql, *want;
} perr_rows[] = {
    /* the spec's list (section 14) */
    {NULL, "SELECT * FROM 't' -- comment", "Comments are not supported at line 1, column 19"},
    {NULL, "SELECT * FROM 't' GROUP BY x", "Unexpected token 'GROUP' at line 1, column 19"},
    {NULL, "SELECT (1 + 2 FROM 't'", "Expected ')' but found 'FROM' at line 1, column 15"},
    {NULL, "SELECT 'abc FROM 't'", "Unexpected token 't' at line 1, column 19"},
    {NULL, "SELECT CASE a END FROM 't'", "Expected 'WHEN' but found 'END' at line 1, column 15"},
    {NULL, "SELECT VALUE a, b FROM 't'", "Unexpected token ',' at line 1, column 15"},
    {NULL, "SELECT cast(a AS blob) FROM 't'", "Unknown type 'blob' at line 1, column 18"},
    {NULL, "SELECT * FROM 'a/#/b'", "Invalid topic filter 'a/#/b' at line 1, column 15"},
    {V15, "SELECT (SELECT VALUE n FROM e) AS s FROM 't'",
     "Nested SELECT requires SQL version 2016-03-23 at line 1, column 9"},
    /* more (3.1) */
    {NULL, "", "Empty statement at line 1, column 1"},
    {NULL, "  \n ", "Empty statement at line 2, column 2"},
    {NULL, "FROM 't'", "Expected 'SELECT' but found 'FROM' at line 1, column 1"},
    {NULL, "SELECT FROM 't'", "Unexpected token 'FROM' at line 1, column 8"},
    {NULL, "SELECT", "Unexpected end of input at line 1, column 7"},
    {NULL, "SELECT a FROM 't' WHERE", "Unexpected end of input at line 1, column 24"},
    {NULL, "SELECT a FROM 't' ORDER BY a", "Unexpected token 'ORDER' at line 1, column 19"},
    {NULL, "SELECT a FROM 't' LIMIT 1", "Unexpected token 'LIMIT' at line 1, column 19"},
    {NULL, "SELECT a FROM 't' JOIN b", "Unexpected token 'JOIN' at line 1, column 19"},
    {NULL, "SELECT a FROM 't'; SELECT b", "Unexpected token 'SELECT' at line 1, column 20"},
    {NULL, "SELECT a FROM 't' WHERE a > 1 2", "Unexpected token '2' at line 1, column 31"},
    {NULL, "SELECT a /* c */ FROM 't'", "Comments are not supported at line 1, column 10"},
    {NULL, "SELECT (a FROM 't'", "Expected ')' but found 'FROM' at line 1, column 11"},
    {NULL, "SELECT a) FROM 't'", "Unexpected token ')' at line 1, column 9"},
    {NULL, "SELECT 'x", "Unterminated string literal at line 1, column 8"},
    {NULL, "SELECT \"x'", "Unterminated string literal at line 1, column 8"},
    {NULL, "SELECT a + FROM 't'", "Unexpected token 'FROM' at line 1, column 12"},
    {NULL, "SELECT a AND FROM 't'", "Unexpected token 'FROM' at line 1, column 14"},
    {NULL, "SELECT * * FROM 't'", "Unexpected token 'FROM' at line 1, column 12"},
    {NULL, "SELECT a = b = c FROM 't'", "Unexpected token '=' at line 1, column 14"},
    {NULL, "SELECT a < b > c FROM 't'", "Unexpected token '>' at line 1, column 14"},
    {NULL, "SELECT CASE WHEN a THEN 1 END FROM 't'",
     "Searched CASE (CASE WHEN condition) is not supported at line 1, column 13"},
    {NULL, "SELECT CASE a WHEN 1 THEN 2 FROM 't'", "Expected 'END' but found 'FROM' at line 1, column 29"},
    {NULL, "SELECT CASE a WHEN 1 2 END FROM 't'", "Expected 'THEN' but found '2' at line 1, column 22"},
    {NULL, "SELECT cast(a) FROM 't'", "Expected 'AS' but found ')' at line 1, column 14"},
    {NULL, "SELECT cast(a AS 5) FROM 't'", "Expected a type name but found '5' at line 1, column 18"},
    {NULL, "SELECT cast(a AS Int FROM 't'", "Expected ')' but found 'FROM' at line 1, column 22"},
    {V15, "SELECT cast(a AS Decimal) FROM 't'",
     "Type 'Decimal' requires SQL version 2016-03-23 at line 1, column 18"},
    {V15, "SELECT cast(a AS Bool) FROM 't'",
     "Type 'Bool' requires SQL version 2016-03-23 at line 1, column 18"},
    {V15, "SELECT cast(a AS Boolean) FROM 't'",
     "Type 'Boolean' requires SQL version 2016-03-23 at line 1, column 18"},
    {V15, "SELECT {'a': 1} AS o FROM 't'",
     "Object literal requires SQL version 2016-03-23 at line 1, column 8"},
    {V15, "SELECT [1] AS o FROM 't'", "Array literal requires SQL version 2016-03-23 at line 1, column 8"},
    {V15, "SELECT EXISTS(SELECT * FROM a) AS e FROM 't'",
     "EXISTS requires SQL version 2016-03-23 at line 1, column 8"},
    {V15, "SELECT isNull(SELECT VALUE a FROM b) FROM 't'",
     "Nested SELECT requires SQL version 2016-03-23 at line 1, column 15"},
    {NULL, "SELECT foo(1) FROM 't'", "Unknown function 'foo' at line 1, column 8"},
    {NULL, "SELECT coalesce(a, 1) FROM 't'", "Unknown function 'coalesce' at line 1, column 8"},
    {NULL, "SELECT now() FROM 't'", "Unknown function 'now' at line 1, column 8"},
    {NULL, "SELECT substr(a, 1) FROM 't'", "Unknown function 'substr' at line 1, column 8"},
    {NULL, "SELECT crc32(a) FROM 't'", "Unknown function 'crc32' at line 1, column 8"},
    {NULL, "SELECT abs(1 FROM 't'", "Expected ')' but found 'FROM' at line 1, column 14"},
    {NULL, "SELECT abs(1,) FROM 't'", "Unexpected token ')' at line 1, column 14"},
    {NULL, "SELECT @x FROM 't'", "Undeclared variable '@x' at line 1, column 8"},
    {NULL, "SELECT @ FROM 't'", "Invalid variable name at line 1, column 8"},
    {NULL, "SELECT a ! b", "Unexpected character '!' at line 1, column 10"},
    {NULL, "SELECT a # b", "Unexpected character '#' at line 1, column 10"},
    {NULL, "SELECT \xC3\xA9 FROM 't'", "Unexpected character '\xC3\xA9' at line 1, column 8"},
    {NULL, "SELECT a AS FROM 't'", "Expected an alias but found 'FROM' at line 1, column 13"},
    {NULL, "SELECT a AS 'x' FROM 't'", "Expected an alias but found ''x'' at line 1, column 13"},
    /* after '.', keywords are names: these read as b.FROM and a.FROM */
    {NULL, "SELECT a AS b. FROM 't'", "Unexpected token ''t'' at line 1, column 21"},
    {NULL, "SELECT a. FROM 't'", "Unexpected token ''t'' at line 1, column 16"},
    {NULL, "SELECT a AS b. 'x' FROM 't'", "Expected an alias but found ''x'' at line 1, column 16"},
    {NULL, "SELECT a. 1 FROM 't'", "Expected a field name but found '1' at line 1, column 11"},
    {NULL, "SELECT a[1 FROM 't'", "Expected ']' but found 'FROM' at line 1, column 12"},
    {NULL, "SELECT {a: 1} FROM 't'", "Expected a quoted key but found 'a' at line 1, column 9"},
    {NULL, "SELECT {'a' 1} FROM 't'", "Expected ':' but found '1' at line 1, column 13"},
    {NULL, "SELECT {'a': 1 'b': 2} FROM 't'", "Expected ',' or '}' but found ''b'' at line 1, column 16"},
    {NULL, "SELECT [1 2] FROM 't'", "Expected ',' or ']' but found '2' at line 1, column 11"},
    {NULL, "SELECT [1,,2] FROM 't'", "Unexpected token ',' at line 1, column 11"},
    {NULL, "SELECT (SELECT a) FROM 't'", "Expected 'FROM' but found ')' at line 1, column 17"},
    {NULL, "SELECT EXISTS(a) FROM 't'", "Expected 'SELECT' but found 'a' at line 1, column 15"},
    {NULL, "SELECT (SELECT a FROM b AS) FROM 't'", "Expected a name but found ')' at line 1, column 27"},
    {NULL, "SELECT * FROM", "Expected a topic filter but found end of input at line 1, column 14"},
    {NULL, "SELECT * FROM ''", "Invalid topic filter '' at line 1, column 15"},
    {NULL, "SELECT * FROM 'a/b+'", "Invalid topic filter 'a/b+' at line 1, column 15"},
    {NULL, "SELECT * FROM a/#/b WHERE x", "Invalid topic filter 'a/#/b' at line 1, column 15"},
    {NULL, "SELECT * FROM 'a/b", "Unterminated string literal at line 1, column 15"},
    {NULL, "SELECT a\n  FROM 't'\n  WHERE b >< 1", "Unexpected token '<' at line 3, column 12"},
    {NULL, "SELECT a\r\nFROM 't'\r\nWHERE !", "Unexpected character '!' at line 3, column 7"},
    {NULL, "SELECT 1e999 FROM 't'", "Number out of range '1e999' at line 1, column 8"},
    {NULL, "SELECT abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz,, FROM 't'",
     "Unexpected token ',' at line 1, column 61"},
    {NULL, "SELECT 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz' 'x'",
     "Unexpected token ''x'' at line 1, column 63"},
    {NULL, "SELECT 1 2", "Unexpected token '2' at line 1, column 10"},
    {NULL, "SELECT a b1234567890123456789012345678901234567890123456789",
     "Unexpected token 'b123456789012345678901234567890123456789' at line 1, column 10"},
    {NULL, "SELECT a FROM 't' WHERE a IN", "Unexpected end of input at line 1, column 29"},
};

START_TEST(parse_errors) {
    const struct perr_row_s *row = &perr_rows[_i];
    ic_sql_err_t err;
    ic_sql_t *q = ic_sql_parse(row->sql, row->ver ? row->ver : V16, &err);
    ck_assert_msg(!q, "%s parsed", row->sql);
    ck_assert_msg(strcmp(err.message, row->want) == 0, "%s\n got:  %s\n want: %s", row->sql,
                  err.message, row->want);
    /* the position is also given as numbers */
    {
        char tail[64];
        snprintf(tail, sizeof(tail), " at line %d, column %d", err.line, err.column);
        ck_assert_msg(strstr(err.message, tail) != NULL, "%s / %s", err.message, tail);
    }
}
END_TEST

/* ---- API, versions ------------------------------------------------------------ */

START_TEST(api) {
    ic_sql_err_t err;
    ic_sql_t *q;
    ic_sql_run_t *r;
    size_t n;
    q = ic_sql_parse("SELECT * FROM 'a/+/c'", NULL, &err);
    ck_assert_str_eq(ic_sql_from(q), "a/+/c");
    ck_assert_str_eq(ic_sql_version(q), "2015-10-08");
    ic_sql_free(q);
    q = ic_sql_parse("SELECT VALUE sql_version() FROM \"$aws/things/+/shadow/update/delta\"", "beta",
                     &err);
    ck_assert_str_eq(ic_sql_from(q), "$aws/things/+/shadow/update/delta");
    ck_assert_str_eq(ic_sql_version(q), "2016-03-23");
    {
        ic_sql_ctx_t c = {0};
        r = ic_sql_run(q, &c);
        ck_assert_int_eq(ic_sql_run_result(r), IC_SQL_FIRED);
        ck_assert_str_eq((const char *)ic_sql_run_output(r, &n), "\"beta\"");
        ck_assert_ptr_null(ic_sql_run_error(r));
        ic_sql_run_free(r);
    }
    ic_sql_free(q);
    /* warnings: != (U08) at create time, * on a binary payload (U28) per run */
    q = ic_sql_parse("SELECT *, 1 AS one FROM 't'\nWHERE 1 <> 2 AND 1 != 2", V16, &err);
    ck_assert_str_eq(ic_sql_warning(q), "'!=' is not AWS IoT SQL, read as '<>' at line 2, column 20");
    {
        ic_sql_ctx_t c = {0};
        c.payload = (const uint8_t *)"\x01";
        c.payload_len = 1;
        r = ic_sql_run(q, &c);
        ck_assert_str_eq((const char *)ic_sql_run_output(r, &n), "{\"one\":1}");
        ck_assert_str_eq(ic_sql_run_warning(r), "SELECT * on a non-JSON payload contributed no fields");
        ic_sql_run_free(r);
        c.payload = (const uint8_t *)"{}";
        c.payload_len = 2;
        r = ic_sql_run(q, &c);
        ck_assert_ptr_null(ic_sql_run_warning(r));
        ic_sql_run_free(r);
    }
    ic_sql_free(q);
    q = ic_sql_parse("SELECT 1 AS a FROM 't' WHERE 1 <> 2", V16, &err);
    ck_assert_ptr_null(ic_sql_warning(q));
    ic_sql_free(q);
    q = ic_sql_parse("SELECT 1 AS a FROM $aws/rules/x/#", V16, &err); /* U14: accepted */
    ck_assert_str_eq(ic_sql_from(q), "$aws/rules/x/#");
    ic_sql_free(q);
    q = ic_sql_parse("SELECT 1 AS a", V16, &err); /* Basic Ingest only: no FROM */
    ck_assert_str_eq(ic_sql_from(q), "");
    ic_sql_free(q);
    ck_assert_ptr_null(ic_sql_parse("SELECT 1", "2017-01-01", &err));
    ck_assert_str_eq(err.message, "Unsupported SQL version '2017-01-01'");
    ck_assert_ptr_null(ic_sql_parse(NULL, V16, &err));
    ck_assert_str_eq(err.message, "Empty statement at line 1, column 1");
    ic_sql_free(NULL);
    ic_sql_run_free(NULL);
    r = ic_sql_run(NULL, NULL);
    ck_assert_int_eq(ic_sql_run_result(r), IC_SQL_ERROR);
    ck_assert_ptr_null(ic_sql_run_output(r, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert_str_eq(ic_sql_run_error(r), "no statement or no message context");
    ic_sql_run_free(r);
    /* one parsed statement, many runs (and no state between them) */
    q = ic_sql_parse("SELECT VALUE a + 1 FROM 't'", V16, &err);
    for (int i = 0; i < 3; i++) {
        ic_sql_ctx_t c = {0};
        char payload[32];
        snprintf(payload, sizeof(payload), "{\"a\":%d}", i);
        c.payload = (const uint8_t *)payload;
        c.payload_len = strlen(payload);

        r = ic_sql_run(q, &c);
        ck_assert_int_eq(atoi((const char *)ic_sql_run_output(r, &n)), i + 1);
        ic_sql_run_free(r);
    }
    ic_sql_free(q);
}
END_TEST

/* ---- bounds on hostile input (STYLE 3.7) ------------------------------------ */

static char *repeat(const char *head, const char *unit, int n, const char *mid, const char *unit2,
                    const char *tail) {
    size_t len = strlen(head) + (strlen(unit) + strlen(unit2)) * (size_t)n + strlen(mid) +
                 strlen(tail) + 1;
    char *s = malloc(len), *p = s;
    p += sprintf(p, "%s", head);
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s", unit);
    p += sprintf(p, "%s", mid);
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s", unit2);
    sprintf(p, "%s", tail);
    return s;
}

static void parse_fails(const char *sql, const char *want_prefix) {
    ic_sql_err_t err;
    ic_sql_t *q = ic_sql_parse(sql, V16, &err);
    ck_assert_msg(!q, "parsed");
    ck_assert_msg(strncmp(err.message, want_prefix, strlen(want_prefix)) == 0, "%s", err.message);
}

static void parse_ok(const char *sql) {
    ic_sql_err_t err;
    ic_sql_t *q = ic_sql_parse(sql, V16, &err);
    ck_assert_msg(q != NULL, "%s", err.message);
    ic_sql_free(q);
}

START_TEST(limits) {
    char *s;
    static const char deep[] = "Expression nested too deeply (more than 64 levels)";
    /* nesting: parentheses, unary chains, NOT chains, operator chains, calls,
     * literals, nested SELECTs */
    s = repeat("SELECT VALUE ", "(", 40, "1", ")", " FROM 't'");
    parse_ok(s);
    free(s);
    s = repeat("SELECT VALUE ", "(", 65, "1", ")", " FROM 't'");
    parse_fails(s, deep);
    free(s);
    s = repeat("SELECT VALUE ", "(", 100000, "1", ")", " FROM 't'");
    parse_fails(s, deep);
    free(s);
    s = repeat("SELECT VALUE ", "- ", 100000, "1", "", "");
    parse_fails(s, deep);
    free(s);
    s = repeat("SELECT VALUE ", "NOT ", 1000, "true", "", "");
    parse_fails(s, deep);
    free(s);
    s = repeat("SELECT VALUE 1", " + 1", 50, "", "", "");
    parse_ok(s);
    free(s);
    s = repeat("SELECT VALUE 1", " + 1", 20000, "", "", "");
    parse_fails(s, deep);
    free(s);
    s = repeat("SELECT VALUE a", ".b", 20000, "", "", "");
    parse_fails(s, deep);
    free(s);
    s = repeat("SELECT VALUE a", "[0]", 100, "", "", "");
    parse_fails(s, deep);
    free(s);
    s = repeat("SELECT VALUE ", "abs(", 100, "1", ")", "");
    parse_fails(s, deep);
    free(s);
    s = repeat("SELECT VALUE ", "[", 100, "1", "]", "");
    parse_fails(s, deep);
    free(s);
    s = repeat("SELECT VALUE ", "{'a':", 100, "1", "}", "");
    parse_fails(s, deep);
    free(s);
    s = repeat("SELECT VALUE ", "(SELECT VALUE ", 40, "1", " FROM a)", "");
    parse_fails(s, deep);
    free(s);
    s = repeat("SELECT VALUE ", "CASE 1 WHEN 1 THEN ", 100, "1", " END", "");
    parse_fails(s, deep);
    free(s);
    s = repeat("SELECT 1 AS a", ".a", 63, "", "", " FROM 't/x'");
    parse_ok(s);
    free(s);
    s = repeat("SELECT 1 AS a", ".a", 100000, "", "", " FROM 't/x'");
    parse_fails(s, "Alias nested too deeply (more than 64 levels) at line 1, column 141");
    free(s);
    /* templates too */

    {
        ic_sql_err_t err;
        s = repeat("${", "(", 100, "1", ")", "}");
        ck_assert_ptr_null(ic_sql_tmpl_parse(s, V16, &err));
        ck_assert_msg(strncmp(err.message, deep, strlen(deep)) == 0, "%s", err.message);
        free(s);
    }
    /* a left-deep chain within the limit evaluates */
    s = repeat("SELECT VALUE 1", " + 1", 60, "", "", " FROM 't/x'");
    ck_run(NULL, "t/x", "{}", s, "61");
    free(s);
    /* statement and template size */
    s = malloc(IC_SQL_MAX_STATEMENT + 16);
    memset(s, ' ', IC_SQL_MAX_STATEMENT + 8);
    memcpy(s, "SELECT 1", 8);
    s[IC_SQL_MAX_STATEMENT + 8] = '\0';
    parse_fails(s, "Statement longer than 262144 bytes at line 1, column 1");
    {
        ic_sql_err_t err;
        ck_assert_ptr_null(ic_sql_tmpl_parse(s, V16, &err));
        ck_assert_str_eq(err.message, "Template longer than 262144 bytes at line 1, column 1");
    }
    s[IC_SQL_MAX_STATEMENT] = '\0';
    parse_ok(s);
    free(s);
    /* many arguments, many items */
    s = repeat("SELECT VALUE concat(", "'a',", 300, "'a'", "", ")");
    parse_fails(s, "Too many arguments");
    free(s);
    s = repeat("SELECT VALUE length(concat(", "'a',", 200, "'a'", "", ")) FROM 't/x'");
    ck_run(NULL, "t/x", "{}", s, "201");
    free(s);
}
END_TEST

/* Work and memory budgets turn blow-ups into evaluation errors. */
START_TEST(budgets) {
    char *payload, *p, *got;
    payload = malloc(4 * 3000 + 32);
    p = payload + sprintf(payload, "{\"arr\":[");
    for (int i = 0; i < 3000; i++)
        p += sprintf(p, "%s%d", i ? "," : "", i % 10);
    strcpy(p, "]}");
    /* 3000^3 nested iterations (through a variable: U24 hides outer fields) */
    got = run_sql(NULL, "t/x", payload,
                  "SET @a = arr SELECT VALUE (SELECT VALUE (SELECT VALUE (SELECT VALUE 1 FROM @a WHERE false) FROM @a) FROM @a) FROM 't/x'");

    ck_assert_str_eq(got, "!error:evaluation exceeds the work limit (20000000 steps)");
    free(got);
    /* doubling arrays */
    got = run_sql(NULL, "t/x", payload,
                  "SET @a = concat(arr, arr, arr, arr), @b = concat(@a, @a, @a, @a), @c = concat(@b, @b, @b, @b), @d = concat(@c, @c, @c, @c), @e = concat(@d, @d, @d, @d) SELECT VALUE length(@e) FROM 't/x'");
    ck_assert_msg(strncmp(got, "!error:evaluation exceeds the ", 30) == 0, "%s", got);
    free(got);
    /* doubling strings */
    got = run_sql(NULL, "t/x", payload,
                  "SET @a = cast(arr as String), @b = concat(@a,@a,@a,@a,@a,@a,@a,@a), @c = concat(@b,@b,@b,@b,@b,@b,@b,@b), @d = concat(@c,@c,@c,@c,@c,@c,@c,@c), @e = concat(@d,@d,@d,@d,@d,@d,@d,@d), @f = concat(@e,@e,@e,@e,@e,@e,@e,@e) SELECT VALUE numbytes(@f) FROM 't/x'");
    ck_assert_msg(strncmp(got, "!error:evaluation exceeds the ", 30) == 0, "%s", got);
    free(got);
    /* within budget: fine */
    got = run_sql(NULL, "t/x", payload, "SELECT VALUE length(cast(concat(arr, arr) as String)) FROM 't/x'");
    ck_assert_str_eq(got, "12001");

    free(got);
    free(payload);
}
END_TEST

/* The statement and template texts may be freed after parsing (the rules
 * engine parses from request bodies it then deletes); the output stays
 * valid while templates render on the same run. */
/* One parse shared by several statements (the engine's case for a
 * message matched by several rules): each run sees the payload as
 * published, whatever another projected from it; the parse outlives the
 * runs that hold it, and a run alone gives the same output. */
START_TEST(shared_parse) {
    static const char payload[] = "{\"a\":{\"b\":1,\"c\":[1,2]},\"t\":\"x\"}";
    static const char *const stmts[][2] = {
        {"SELECT *, 9 AS a.b, 'y' AS a.z FROM 'x'",
         "{\"a\":{\"b\":9,\"c\":[1,2],\"z\":\"y\"},\"t\":\"x\"}"},
        {"SELECT * FROM 'x'", "{\"a\":{\"b\":1,\"c\":[1,2]},\"t\":\"x\"}"},
        {"SELECT a.c[1] AS v, t FROM 'x' WHERE a.b = 1", "{\"v\":2,\"t\":\"x\"}"},
        {"SELECT VALUE a FROM 'x'", "{\"b\":1,\"c\":[1,2]}"},
    };
    ic_sql_payload_t *pl = ic_sql_payload_new((const uint8_t *)payload,
                                              strlen(payload));
    ic_sql_run_t *runs[4];
    ic_sql_t *qs[4];
    ic_sql_ctx_t c;
    size_t i, n;
    int pass;
    for (pass = 0; pass < 2; pass++) {
        memset(&c, 0, sizeof(c));
        c.topic = "x";
        c.payload = (const uint8_t *)payload;
        c.payload_len = strlen(payload);
        c.payload_format = -1;
        c.parsed = pass == 0 ? pl : NULL;
        for (i = 0; i < 4; i++) {
            ic_sql_err_t e;
            const uint8_t *out;
            qs[i] = ic_sql_parse(stmts[i][0], "2016-03-23", &e);
            ck_assert_ptr_nonnull(qs[i]);
            runs[i] = ic_sql_run(qs[i], &c);
            ck_assert_int_eq(ic_sql_run_result(runs[i]), IC_SQL_FIRED);
            out = ic_sql_run_output(runs[i], &n);
            ck_assert_msg(n == strlen(stmts[i][1]) && memcmp(out, stmts[i][1], n) == 0,
                          "%s: %.*s", stmts[i][0], (int)n, (const char *)out);
        }
        if (pass == 0)
            ic_sql_payload_unref(pl); /* the runs hold it now */
        for (i = 0; i < 4; i++) {
            const uint8_t *out = ic_sql_run_output(runs[i], &n);
            ck_assert_int_eq(memcmp(out, stmts[i][1], n), 0);
            ic_sql_run_free(runs[i]);
            ic_sql_free(qs[i]);
        }
    }
    /* a shared parse for other bytes is not used */
    pl = ic_sql_payload_new((const uint8_t *)"{\"t\":1}", 7);
    c.parsed = pl;
    qs[0] = ic_sql_parse("SELECT t FROM 'x'", NULL, NULL);
    ck_assert_ptr_nonnull(qs[0]);
    runs[0] = ic_sql_run(qs[0], &c);
    {
        const uint8_t *out = ic_sql_run_output(runs[0], &n);
        ck_assert_int_eq(memcmp(out, "{\"t\":\"x\"}", n), 0);
    }
    ic_sql_run_free(runs[0]);
    ic_sql_free(qs[0]);
    ic_sql_payload_unref(pl);
}
END_TEST

START_TEST(texts_are_copied) {
    static const char stmt[] = "SELECT temp, topic(2) AS d FROM 'x/+' WHERE temp > 1";
    static const char tmpl[] = "out/${topic(2)}/${temp}";
    static const char payload[] = "{\"temp\":3}";
    char *a = ic_xstrdup(stmt), *b = ic_xstrdup(tmpl), *r1;
    ic_sql_err_t e;
    ic_sql_t *q = ic_sql_parse(a, "2016-03-23", &e);
    ic_sql_tmpl_t *t = ic_sql_tmpl_parse(b, "2016-03-23", &e);
    ic_sql_ctx_t c;
    ic_sql_run_t *r;
    const uint8_t *out;
    size_t n;
    char err[64];
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_nonnull(t);
    memset(a, 'Z', strlen(a));
    memset(b, 'Z', strlen(b));
    free(a);
    free(b);
    memset(&c, 0, sizeof(c));
    c.topic = "x/d1";
    c.payload = (const uint8_t *)payload;
    c.payload_len = strlen(payload);
    c.payload_format = -1;
    r = ic_sql_run(q, &c);
    ck_assert_int_eq(ic_sql_run_result(r), IC_SQL_FIRED);
    r1 = ic_sql_tmpl_render(t, r, err, sizeof(err));
    ck_assert_str_eq(r1, "out/d1/3");
    out = ic_sql_run_output(r, &n);
    ck_assert_int_eq((int)n, 19);
    ck_assert_int_eq(memcmp(out, "{\"temp\":3,\"d\":\"d1\"}", n), 0);
    free(r1);
    ic_sql_run_free(r);
    ic_sql_tmpl_free(t);
    ic_sql_free(q);
}
END_TEST

Suite *ic_sql_suite(void) {
    Suite *s = suite_create("sql");
    TCase *tc = tcase_create("examples");
    tcase_add_loop_test(tc, worked_examples, 0, (int)(sizeof(examples) / sizeof(examples[0])));
    tcase_add_test(tc, binary_passthrough);
    suite_add_tcase(s, tc);
    tc = tcase_create("types");
    tcase_add_loop_test(tc, type_rows, 0, (int)(sizeof(types) / sizeof(types[0])));
    tcase_add_test(tc, select_list);
    tcase_add_test(tc, set_clause);
    tcase_add_test(tc, payloads);
    suite_add_tcase(s, tc);
    tc = tcase_create("functions");
    tcase_add_loop_test(tc, function_rows, 0, (int)(sizeof(functions) / sizeof(functions[0])));
    tcase_add_test(tc, function_misc);
    tcase_add_test(tc, context_functions);
    suite_add_tcase(s, tc);
    tc = tcase_create("templates");
    tcase_add_loop_test(tc, templates, 0, (int)(sizeof(tmpl_rows) / sizeof(tmpl_rows[0])));
    tcase_add_test(tc, template_contexts);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_loop_test(tc, parse_errors, 0, (int)(sizeof(perr_rows) / sizeof(perr_rows[0])));
    tcase_add_test(tc, api);
    tcase_add_test(tc, texts_are_copied);
    tcase_add_test(tc, shared_parse);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, budgets);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
