/* config.h - the configuration: its shape, its directive table, its parser.
 *
 * The file format is line-oriented `directive value...` with `#` comments,
 * `listener NAME` opening a per-listener scope that lasts until the next
 * `listener`, and `include PATH` (relative to the including file). Parsing is
 * pure: it reads files and fills an ic_config_t, nothing else. Errors are one
 * line, `file:line: message`.
 *
 * Every directive is a row of the table in config_table.c (name, scope, type,
 * field offset, range, default, reloadable, doc). Adding a directive means
 * adding a field here, a row there, and a paragraph in man/iotcored.conf.5
 * and conf/iotcored.conf (a unit test fails until all three agree).
 */
#ifndef IOTCORED_CONFIG_H
#define IOTCORED_CONFIG_H

#include "iotcored/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    IC_CFG_GLOBAL,
    IC_CFG_LISTENER,
} ic_cfg_scope_t;

typedef enum {
    IC_CFG_BOOL,     /* int: on|off|yes|no|true|false */
    IC_CFG_INT,      /* int, checked against min..max */
    IC_CFG_SIZE,     /* int64_t bytes; suffixes K, M, G (powers of 1024) */
    IC_CFG_DURATION, /* int64_t milliseconds; suffixes ms, s, m, h, d; bare = s */
    IC_CFG_STRING,   /* char *, owned */
    IC_CFG_PATH,     /* char *, owned; "" means unset */
    IC_CFG_ENUM,     /* int index into enum_names */
    IC_CFG_INCLUDE,  /* `include PATH`: parser keyword, no storage */
    IC_CFG_BLOCK,    /* `listener NAME`: parser keyword, opens a scope */
    IC_CFG_PAIRS,    /* ic_cfg_pairs_t: `directive A B`, repeatable; each
                        line appends one pair */
} ic_cfg_type_t;

typedef struct ic_cfg_pairs_s {
    char **v;   /* owned: v[2i] and v[2i+1] are pair i */
    size_t n;   /* pairs */
} ic_cfg_pairs_t;

typedef struct ic_directive_s {
    const char *name;
    ic_cfg_scope_t scope;
    size_t offset;                  /* into ic_config_t or ic_listener_conf_t */
    ic_cfg_type_t type;
    int64_t min, max;               /* INT/SIZE/DURATION range, inclusive */
    const char *defval;             /* default, as it would be written */
    bool reloadable;                /* applied on SIGHUP without restart */
    const char *const *enum_names;  /* ENUM: NULL-terminated */
    /* Optional extra validation of a string value; returns NULL when valid,
     * else a static reason. */
    const char *(*check)(const char *value);
    const char *doc;                /* one line */
} ic_directive_t;

typedef struct ic_srcloc_s {
    const char *file; /* borrowed from ic_config_t.files */
    int line;         /* 1-based; 0 = default, not from a file */
} ic_srcloc_t;

typedef enum { IC_SYNC_NORMAL = 0, IC_SYNC_FULL = 1 } ic_sync_mode_t;
typedef enum {
    IC_PROTO_MQTT = 0,
    IC_PROTO_ALPN = 1,
    IC_PROTO_HTTPS = 2,
    IC_PROTO_CONTROL = 3  /* the AWS IoT control-plane API (HTTP) */
} ic_listener_protocol_t;
typedef enum { IC_CONTROL_AUTH_SIGV4 = 0, IC_CONTROL_AUTH_NONE = 1 } ic_control_auth_t;
typedef enum { IC_KEY_ECDSA = 0, IC_KEY_RSA = 1 } ic_key_type_t;
typedef enum { IC_CERT_AUTH_REGISTRY = 0, IC_CERT_AUTH_CA = 1 } ic_cert_auth_t;

typedef struct ic_listener_conf_s {
    char *name;           /* unique among listeners */
    char *bind;           /* IPv4 or IPv6 literal */
    int port;             /* 0 = ephemeral */
    int protocol;         /* ic_listener_protocol_t */
    int tls;              /* ic_tls_mode_t: off, on, mutual */
    char *listener_policy; /* policy added for every connection, "" none */
    ic_srcloc_t loc;      /* the `listener` line */
    ic_srcloc_t port_loc; /* the `port` line (or loc if defaulted) */
} ic_listener_conf_t;

typedef struct ic_config_s {
    char *data_dir;       /* directory holding iotcored.db */
    int log_level;        /* ic_log_level_t */
    char *log_file;       /* "" = stderr */
    char *ready_file;     /* "" = none (IOTCORED_READY_FILE overrides) */
    char *account_id;     /* 12 digits, used in ARNs */
    char *region;         /* used in ARNs and endpoints */
    int persistence_sync; /* ic_sync_mode_t */
    char *endpoint;       /* "" = <prefix>-ats.iot.<region>.amazonaws.com */
    char *tls_cert;       /* server chain PEM; "" = generated in data_dir */
    char *tls_key;        /* its key; "" = generated */
    char *tls_ca;         /* CA for client certificates; "" = generated */
    int tls_require_sni;  /* bool: refuse handshakes without SNI */
    int ca_key_type;      /* ic_key_type_t of the generated local CA */
    int cert_auth;        /* ic_cert_auth_t */
    int cert_refusal;     /* 0 = at CONNECT, 1 = in the TLS handshake */

    /* MQTT broker (AWS IoT Core limits, dataplane spec 5.12) */
    int64_t max_payload_size;  /* bytes of PUBLISH payload */
    int64_t max_packet_size;   /* bytes of a whole packet */
    int max_topic_length;      /* bytes */
    int max_topic_slashes;
    int keepalive_min;         /* seconds */
    int keepalive_max;         /* seconds */
    int receive_maximum;
    int max_inflight_messages;
    int max_queued_messages;
    int topic_alias_maximum;
    int max_filters_per_subscribe;
    int max_subscriptions_per_connection;
    int64_t session_expiry_default; /* ms */
    int64_t session_expiry_max;     /* ms */
    int publish_rate_limit;    /* per second per connection, 0 = off */
    int publish_rate_disconnect; /* discarded in a second -> THROTTLED, 0 = never */
    int64_t throughput_limit;  /* bytes per second per connection, 0 = off */
    int connect_rate_limit;    /* per second per client ID, 0 = off */
    int qos2_subscribe;        /* ic_qos2_sub_t */
    int max_retained_messages; /* 0 = no limit */
    int max_connections;       /* concurrent client connections, 0 = no limit */

    /* Device Shadow */
    int64_t shadow_max_document_size; /* bytes of desired + reported */
    int shadow_max_depth;             /* nesting levels (AWS counting) */
    int64_t shadow_version_window;    /* ms a deleted shadow's version lives */

    /* Rules Engine */
    int rules_sql_error_action;  /* bool */
    int rules_max_republish_depth;
    int rules_queue_max;
    int64_t rules_http_timeout;  /* ms */
    char *aws_service_endpoint;  /* "" = none */
    char *aws_service_region;    /* "" = region */
    char *aws_service_access_key;/* "" = the first credentials pair */
    char *aws_service_secret_key;
    ic_cfg_pairs_t authorizer_functions; /* custom authorizer ARN -> URL */

    /* Control plane and HTTP */
    ic_cfg_pairs_t credentials; /* SigV4 access key ID -> secret */
    ic_cfg_pairs_t credentials_policy; /* access key ID -> IoT policy name */
    int control_auth;          /* ic_control_auth_t */
    int policy_mode;           /* ic_policy_mode_t: enforce, audit */
    char *seed;                /* JSON seed file applied at start, "" = none */
    int64_t http_max_body_size;   /* bytes of an HTTP request body */
    int64_t http_max_header_size; /* bytes of request line + headers */
    int64_t http_idle_timeout;    /* ms a keep-alive connection may idle */
    int64_t websocket_max_lifetime; /* ms; 0 = none */

    ic_listener_conf_t *listeners; /* owned array */
    size_t n_listeners;

    char *path;    /* the main file, as given */
    char **files;  /* every file read (main + includes), owned */
    size_t n_files;
} ic_config_t;

/* Fill cfg with every default. No listeners. */
void ic_config_init(ic_config_t *cfg);
void ic_config_free(ic_config_t *cfg);

/* Read and parse `path` into cfg (which must be freshly ic_config_init'ed).
 * Returns 0, or IC_ECONFIG with a one-line message in err. On failure cfg
 * still owns whatever it parsed and must be freed. */
int ic_config_load(ic_config_t *cfg, const char *path, char *err,
                   size_t errlen);
/* Parse text as if it were file `name` (includes resolve relative to name). */
int ic_config_parse(ic_config_t *cfg, const char *text, const char *name,
                    char *err, size_t errlen);

/* The directive table, in documentation order. */
const ic_directive_t *ic_config_directives(size_t *n);
const ic_directive_t *ic_config_find(const char *name);

/* Append the value of d stored in `base` (an ic_config_t or
 * ic_listener_conf_t) in a form the parser reads back. */
void ic_config_format(const ic_directive_t *d, const void *base, ic_buf_t *out);
/* Whether two scope bases (both ic_config_t or both ic_listener_conf_t)
 * hold the same value for directive d. */
bool ic_config_same(const ic_directive_t *d, const void *a, const void *b);
/* Whether both configs declare the same listeners with the same settings. */
bool ic_config_listeners_same(const ic_config_t *a, const ic_config_t *b);
/* Exchange the values of every reloadable global directive between running
 * and next (so next, when freed, releases the old values). */
void ic_config_swap_reloadable(ic_config_t *running, ic_config_t *next);
/* The whole effective config, defaults included, as a config file. */
void ic_config_dump(const ic_config_t *cfg, ic_buf_t *out);

/* The endpoint host name: `endpoint`, or iotcored-ats.iot.REGION.amazonaws.com. */
void ic_config_endpoint(const ic_config_t *cfg, char *out, size_t cap);

const ic_listener_conf_t *ic_config_listener(const ic_config_t *cfg,
                                             const char *name);

#endif
