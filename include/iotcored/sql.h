/* sql.h - AWS IoT SQL, the topic-rule query language (pure, L1;
 * aws-iot-rules.md 1-7, 12-14): parse a rule's statement once, evaluate it
 * per message, and render the substitution templates of action fields.
 *
 * Both SQL versions ("2015-10-08", the default, and "2016-03-23"; "beta" is
 * read as 2016-03-23). Values follow the spec's type system (Int, Decimal,
 * Boolean, String, Array, Object, Null, Undefined) and conversion tables;
 * Undefined SELECT items are omitted. No loop, no I/O, no clock (now_ms is
 * in the context), no globals; any thread. Functions that need another AWS
 * service (aws_lambda, get_dynamodb, get_secret, machinelearning_predict)
 * are SQL evaluation errors (IC_SQL_ERROR), as are local lookups the
 * context's callbacks cannot answer.
 */
#ifndef IOTCORED_SQL_H
#define IOTCORED_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on hostile input (STYLE 3.7). Exceeding one is a parse error
 * (statement, nesting, variables) or an evaluation error (IC_SQL_ERROR:
 * memory, work); a payload nested deeper than IC_SQL_MAX_JSON_DEPTH is
 * treated as a non-JSON (binary) payload. */
#define IC_SQL_MAX_STATEMENT 262144      /* bytes of SQL or template text */
#define IC_SQL_MAX_DEPTH 64              /* expression nesting levels */
#define IC_SQL_MAX_JSON_DEPTH 128        /* JSON nesting (payload, decode()) */
#define IC_SQL_MAX_VARS 10               /* SET variables (U26) */
#define IC_SQL_MAX_RUN_BYTES (64u << 20) /* memory of one run or render */
#define IC_SQL_MAX_STEPS 20000000u       /* work units of one run or render */

typedef struct ic_sql_s ic_sql_t;           /* a parsed statement */
typedef struct ic_sql_tmpl_s ic_sql_tmpl_t; /* a parsed template string */
typedef struct ic_sql_run_s ic_sql_run_t;   /* one evaluation on one message */

/* A parse error: AWS's SqlParseException message (EMULATOR wording,
 * aws-iot-rules.md 8.4), "<what> at line L, column C", 1-based (columns
 * count characters). An unsupported version has no position: message
 * "Unsupported SQL version '<v>'", line and column 0. */
typedef struct ic_sql_err_s {
    char message[256];
    int line, column;
} ic_sql_err_t;

/* One MQTT 5 user property (duplicates allowed, order kept). */
typedef struct ic_sql_user_prop_s {
    const char *key, *value; /* NUL-terminated */
} ic_sql_user_prop_t;

/* A payload parsed once for all the rules evaluated on one message (the
 * engine makes one when a message matches several rules). Refcounted;
 * every run given it in its context holds a reference. The bytes are
 * borrowed: they must outlive every reference. */
typedef struct ic_sql_payload_s ic_sql_payload_t;
/* p may be NULL when n is 0. Parsed at the first run that uses it. */
ic_sql_payload_t *ic_sql_payload_new(const uint8_t *p, size_t n);
ic_sql_payload_t *ic_sql_payload_ref(ic_sql_payload_t *pl);
/* Accepts NULL. */
void ic_sql_payload_unref(ic_sql_payload_t *pl);

/* What an expression can see of the message (aws-iot-rules.md 1.1). All
 * pointers borrowed for the evaluation. */
typedef struct ic_sql_ctx_s {
    const char *topic;          /* as the rule sees it (no Basic Ingest prefix) */
    const uint8_t *payload;     /* raw bytes (may be NULL when len 0) */
    size_t payload_len;
    ic_sql_payload_t *parsed;   /* optional: payload/payload_len parsed
                                   once and shared (the run takes a ref) */
    const char *client_id;      /* NULL: not published over MQTT -> "n/a" */
    const char *principal;      /* principal(): NULL reads as "" */
    const char *source_ip;      /* sourceip(); NULL -> Undefined */
    const char *trace_id;       /* traceid(); NULL -> Undefined */
    char *trace_id_buf;         /* trace_id NULL: a 37-byte buffer, empty
                                   until traceid() fills it with a new
                                   UUID (made only when asked for) */
    int64_t now_ms;             /* timestamp(): frozen for the evaluation */
    const char *account_id;     /* accountid(); NULL -> Undefined */

    /* MQTT 5 properties of the publish (is_mqtt5 false: all Undefined) */
    bool is_mqtt5;
    int payload_format;         /* -1 absent, 0 bytes, 1 UTF-8 */
    const char *content_type;   /* NULL = absent */
    const char *response_topic; /* NULL = absent */
    const uint8_t *correlation_data; /* NULL = absent */
    size_t correlation_len;
    const ic_sql_user_prop_t *user_props;
    size_t n_user_props;
    /* get_thing_shadow(thing[, shadow], roleArn): the GetThingShadow JSON
     * text (malloc'd, caller frees) or NULL when there is none (then the
     * evaluation fails). shadow NULL = the classic shadow. NULL callback =
     * always none. */
    char *(*get_thing_shadow)(void *data, const char *thing, const char *shadow);
    /* get_registry_data(api, thing, roleArn): api "DescribeThing" or
     * "ListThingGroupsForThing"; the JSON text (malloc'd) or NULL. */
    char *(*get_registry_data)(void *data, const char *api, const char *thing);
    void *data;                 /* for the callbacks */
} ic_sql_ctx_t;

typedef enum {
    IC_SQL_NOT_FIRED = 0, /* WHERE was not true: nothing to do */
    IC_SQL_FIRED = 1,     /* output ready */
    IC_SQL_ERROR = 2      /* evaluation error (logged by the caller) */
} ic_sql_result_t;

/* Parse statement for version ("2015-10-08", "2016-03-23", "beta"; NULL =
 * "2015-10-08"). Returns a new statement owned by the caller, or NULL with
 * err filled (err borrowed, out). An unknown version is an error too
 * ("Unsupported SQL version ..."). */
ic_sql_t *ic_sql_parse(const char *statement, const char *version,
                       ic_sql_err_t *err);
void ic_sql_free(ic_sql_t *q); /* NULL is a no-op */
/* The FROM topic filter as written (quotes removed), "" when the statement
 * has none (allowed for Basic Ingest rules). Borrowed from q. */
const char *ic_sql_from(const ic_sql_t *q);
/* The version the statement was parsed for ("2015-10-08" or "2016-03-23"). */
const char *ic_sql_version(const ic_sql_t *q);
/* A create-time remark for the log, or NULL: the statement uses "!="
 * (accepted as "<>", U08). Borrowed from q. */
const char *ic_sql_warning(const ic_sql_t *q);

/* Evaluate q on one message: SET, WHERE, SELECT (aws-iot-rules.md 1.2).
 * ctx borrowed for the life of the run. Always returns a run (free with
 * ic_sql_run_free); ask it for the result. */
ic_sql_run_t *ic_sql_run(const ic_sql_t *q, const ic_sql_ctx_t *ctx);
ic_sql_result_t ic_sql_run_result(const ic_sql_run_t *r);
/* IC_SQL_FIRED: the outgoing payload: compact JSON in SELECT order, or the
 * raw bytes for SELECT * on a non-JSON payload. Borrowed from r. */
const uint8_t *ic_sql_run_output(const ic_sql_run_t *r, size_t *len);
/* IC_SQL_ERROR: why (borrowed from r). */
const char *ic_sql_run_error(const ic_sql_run_t *r);
/* A remark about this run for the log, or NULL: "*" next to other SELECT
 * items on a non-JSON payload contributed nothing (U28). Borrowed from r. */
const char *ic_sql_run_warning(const ic_sql_run_t *r);

void ic_sql_run_free(ic_sql_run_t *r);

/* A template-capable action field: literal text with ${expression} parts
 * and $$ for a literal $ (aws-iot-rules.md 7). NULL with err on an
 * unterminated or unparsable expression. version as for ic_sql_parse. */
ic_sql_tmpl_t *ic_sql_tmpl_parse(const char *text, const char *version,
                                 ic_sql_err_t *err);
void ic_sql_tmpl_free(ic_sql_tmpl_t *t);
/* Does the text contain any ${...}? (A constant field renders to itself
 * with $$ turned into $.) */
bool ic_sql_tmpl_is_constant(const ic_sql_tmpl_t *t);
/* Render against the run's message and SET variables (never its SELECT
 * aliases). Undefined and Null render as "". Returns a malloc'd string,
 * or NULL when an expression fails (err filled: the action fails). r
 * borrowed; may be a run whose result is IC_SQL_NOT_FIRED (error actions
 * use the message context only). */
char *ic_sql_tmpl_render(const ic_sql_tmpl_t *t, const ic_sql_run_t *r,
                         char *err, size_t errlen);

/* ---- directory-internal (src/rules/sql*.c only) -------------------------
 * The time half of the SQL functions (sql_time.c), kept behind plain C types
 * so that file needs none of sql.c's value machinery. */

/* parse_time(): format epoch milliseconds ms with a Joda-Time pattern in zone
 * tz (an IANA ID from the system tz database, "UTC"/"GMT"/"Z", or a fixed
 * offset such as "+01:00" or "UTC-5"). Writes a NUL-terminated string to out
 * (cap bytes). Returns its length, or -1 for an unsupported pattern letter,
 * an unknown zone or a too-small cap. Reads /usr/share/zoneinfo (the one
 * file read of the SQL module). */
int ic__sql_time_format(const char *pattern, size_t pattern_len, int64_t ms,
                        const char *tz, size_t tz_len, char *out, size_t cap);
/* time_to_epoch(): parse s with a java.time DateTimeFormatter pattern into
 * epoch milliseconds (UTC when s names no zone; midnight when it has no
 * time). Returns 0, or -1 when s does not match or names an impossible
 * date or an unknown zone. */
int ic__sql_time_parse(const char *s, size_t s_len, const char *pattern,
                       size_t pattern_len, int64_t *ms);

#endif
