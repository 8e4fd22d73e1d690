/* broker.c - the assembly: owns the loop, the module table and signals.
 *
 * Owns the uv_loop_t, the running ic_config_t and the ordered module table.
 * It starts modules in order and stops them in reverse, one after another
 * through their completion callbacks; it writes the ready file and tells
 * systemd once everything is up. It must not contain protocol or storage
 * logic: each row of the table is a few lines of glue to a module's
 * init/start/stop/fini/reload (STYLE 3.6).
 *
 * Loop thread only. Shutdown order: signals received -> modules stopped in
 * reverse -> signal handles closed -> uv_run returns -> modules finalised ->
 * uv_loop_close must succeed (no handle left behind).
 */
#include "iotcored/broker.h"

#include "iotcored/alloc.h"
#include "iotcored/authorizers.h"
#include "iotcored/custom_auth.h"
#include "iotcored/conn.h"
#include "iotcored/control.h"
#include "iotcored/dataplane.h"
#include "iotcored/engine.h"
#include "iotcored/http_client.h"
#include "iotcored/cron.h"
#include "iotcored/ctx.h"
#include "iotcored/db.h"
#include "iotcored/error.h"
#include "iotcored/listener.h"
#include "iotcored/log.h"
#include "iotcored/meta.h"
#include "iotcored/mqtt.h"
#include "iotcored/notify.h"
#include "iotcored/profile.h"
#include "iotcored/proto.h"
#include "iotcored/str.h"
#include "iotcored/version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#define ERRLEN 1024

typedef struct module_s {
    const char *name;
    int (*init)(ic_broker_t *b, char *err, size_t errlen);
    int (*start)(ic_broker_t *b, char *err, size_t errlen);
    void (*stop)(ic_broker_t *b, ic_done_cb cb, void *data);
    void (*fini)(ic_broker_t *b);
    int (*reload)(ic_broker_t *b, const ic_config_t *next);
} module_t;

typedef struct state_s {
    ic_broker_t b;
    uv_loop_t loop;
    uv_signal_t sig_term, sig_int, sig_hup;
    size_t n_inited, n_started;
    bool is_stopping;
    char ready_path[4096]; /* "" when no ready file */
    bool ready_written;
} state_t;

/* ---- module: log ------------------------------------------------------ */

static int log_init(ic_broker_t *b, char *err, size_t errlen) {
    int rc = ic_log_open(b->cfg->log_file);
    if (rc != 0) {
        snprintf(err, errlen, "log_file: cannot open '%s': %s",
                 b->cfg->log_file, ic_strerror(rc));
        return rc;
    }
    ic_log_set_level((ic_log_level_t)b->cfg->log_level);
    return 0;
}

static int log_reload(ic_broker_t *b, const ic_config_t *next) {
    int rc;
    if (strcmp(b->cfg->log_file, next->log_file) != 0)
        rc = ic_log_open(next->log_file);
    else
        rc = ic_log_reopen(); /* logrotate: same name, new file */
    if (rc != 0) {
        ic_log_error("log reopen failed", "path=%s err=%s", next->log_file,
                     ic_errname(rc));
        return rc;
    }
    ic_log_set_level((ic_log_level_t)next->log_level);
    return 0;
}

/* ---- module: store ---------------------------------------------------- */

static int mkdir_p(const char *path) {
    char tmp[4096];
    char *p;
    if (ic_strfmt(tmp, sizeof(tmp), "%s", path) != 0)
        return IC_ETOOBIG;
    for (p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* The boot counter is committed (the store's writes are asynchronous):
 * from here on a crash cannot lose it - the observable point tests use. */
static void on_boot_recorded(int rc, void *data) {
    ic_broker_t *b = data;
    if (rc == 0)
        ic_log_info("store boot recorded", "boot=%llu",
                    (unsigned long long)b->boot_count);
}

static int store_start(ic_broker_t *b, char *err, size_t errlen) {
    char path[4096], boots[32];
    int64_t n = 0;
    int rc = mkdir_p(b->cfg->data_dir);
    if (rc != 0) {
        snprintf(err, errlen, "data_dir: cannot create '%s': %s",
                 b->cfg->data_dir, ic_strerror(rc));
        return rc;
    }
    if (ic_strfmt(path, sizeof(path), "%s/iotcored.db", b->cfg->data_dir)) {
        snprintf(err, errlen, "data_dir: path too long");
        return IC_ETOOBIG;
    }
    rc = ic_db_open(&b->db, b->loop, path,
                    (ic_sync_mode_t)b->cfg->persistence_sync, err, errlen);
    if (rc != 0)
        return rc;
    if (ic_meta_get_int(b->db, "boot_count", 0, &n) != 0) {
        snprintf(err, errlen, "cannot read the store's boot counter");
        ic_db_close(b->db, NULL, NULL);
        b->db = NULL;
        return IC_ESTORE;
    }
    b->boot_count = (uint64_t)n + 1;
    snprintf(boots, sizeof(boots), "%llu", (unsigned long long)b->boot_count);
    ic_meta_set(b->db, "boot_count", boots, on_boot_recorded, b);
    ic_log_info("store open", "path=%s schema=%d boot=%s sync=%s", path,
                ic_db_schema_version(b->db), boots,
                b->cfg->persistence_sync == IC_SYNC_FULL ? "full" : "normal");
    return 0;
}

static void store_stop(ic_broker_t *b, ic_done_cb cb, void *data) {
    ic_db_t *db = b->db;
    b->db = NULL;
    ic_db_close(db, cb, data);
}

/* ---- module: cron ----------------------------------------------------- */

static int cron_start(ic_broker_t *b, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    /* The timer handle is made here, not at init: a module that fails to
     * start must leave no initialised handle behind. */
    b->cron = ic_cron_new(b->loop, 250);
    ic_cron_start(b->cron);
    return 0;
}

static void cron_stop(ic_broker_t *b, ic_done_cb cb, void *data) {
    ic_cron_stop(b->cron, cb, data);
}

static void cron_fini(ic_broker_t *b) {
    ic_cron_free(b->cron);
    b->cron = NULL;
}

/* ---- module: mqtt ----------------------------------------------------- */

static int mqtt_init(ic_broker_t *b, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    return ic_mqtt_init(&b->mqtt, b);
}

static int mqtt_start(ic_broker_t *b, char *err, size_t errlen) {
    return ic_mqtt_start(b->mqtt, err, errlen);
}

static void mqtt_stop(ic_broker_t *b, ic_done_cb cb, void *data) {
    ic_mqtt_stop(b->mqtt, cb, data);
}

static int mqtt_reload(ic_broker_t *b, const ic_config_t *next) {
    return ic_mqtt_reload(b->mqtt, next);
}

static void mqtt_fini(ic_broker_t *b) {
    ic_mqtt_fini(b->mqtt);
    b->mqtt = NULL;
}

/* ---- module: rules ---------------------------------------------------- */

/* The Rules Engine's wiring: what its actions may use (the router, the
 * outbound HTTP transport, the AWS endpoint) and its limits, from the
 * config. */
struct ic_rules_mod_s {
    ic_action_env_t env;
    ic_engine_cfg_t cfg;
    ic_http_client_t *http;   /* outbound calls of http and AWS actions */
    ic_done_cb stop_cb;
    void *stop_data;
};

typedef struct http_call_s {
    ic_action_http_done_fn cb;
    void *data;
} http_call_t;

static void on_http_done(ic_http_client_t *c, int rc, const ic_http_response_t *res,
                         const char *why, void *data) {
    http_call_t *h = data;
    (void)c;
    if (rc == 0)
        h->cb(0, res->status, res->headers, res->n_headers, res->body,
              res->body_len, "", h->data);
    else
        h->cb(rc, 0, NULL, 0, NULL, 0, why && why[0] ? why : ic_errname(rc),
              h->data);
    free(h);
}

/* The actions' transport (ic_action_http_fn) on the HTTP client. */
static int http_adapter(void *transport, const ic_action_http_req_t *req,
                        ic_action_http_done_fn cb, void *data) {
    ic_http_client_req_t r;
    http_call_t *h;
    int rc;
    memset(&r, 0, sizeof(r));
    r.method = req->method;
    r.url = req->url;
    r.headers = req->headers;
    r.n_headers = req->n_headers;
    r.body = req->body;
    r.body_len = req->body_len;
    r.timeout_ms = req->timeout_ms;
    r.max_response_bytes = req->max_response;
    h = ic_xmalloc(sizeof(*h));
    h->cb = cb;
    h->data = data;
    rc = ic_http_client_request(transport, &r, on_http_done, h);
    if (rc != 0)
        free(h);
    return rc;
}

static int rules_init(ic_broker_t *b, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    b->rules = ic_xcalloc(1, sizeof(*b->rules));
    return 0;
}

static void rules_stop(ic_broker_t *b, ic_done_cb cb, void *data);

static void rules_nothing(void *data) {
    (void)data;
}

static int rules_start(ic_broker_t *b, char *err, size_t errlen) {
    struct ic_rules_mod_s *rm = b->rules;
    const ic_config_t *cfg = b->cfg;
    ic_engine_lookups_t look;
    ic_action_env_t *env = &rm->env;
    char why[256] = "";
    env->router = ic_mqtt_router(b->mqtt);
    if (ic_http_client_new(&rm->http, b->loop, NULL, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "rules: cannot make the HTTP client: %s", why);
        return IC_ECONFIG;
    }
    env->http = http_adapter;
    env->http_transport = rm->http;
    env->aws_endpoint = cfg->aws_service_endpoint;
    env->aws_region = cfg->aws_service_region[0] ? cfg->aws_service_region
                                                 : cfg->region;
    env->aws_access_key = cfg->aws_service_access_key;
    env->aws_secret_key = cfg->aws_service_secret_key;
    if (env->aws_access_key[0] == '\0' && cfg->credentials.n > 0) {
        env->aws_access_key = cfg->credentials.v[0];
        env->aws_secret_key = cfg->credentials.v[1];
    }
    env->account_id = cfg->account_id;
    env->http_timeout_ms = (uint32_t)cfg->rules_http_timeout;
    env->max_hops = (uint8_t)cfg->rules_max_republish_depth;
    env->topic_lim = &ic_mqtt_env(b->mqtt)->p->topic;
    rm->cfg.region = cfg->region;
    rm->cfg.account_id = cfg->account_id;
    rm->cfg.sql_error_action = cfg->rules_sql_error_action != 0;
    rm->cfg.queue_max = (size_t)cfg->rules_queue_max;
    ic_mqtt_engine_lookups(b->mqtt, &look);
    b->engine = ic_engine_new(b->loop, b->db, env, &rm->cfg, &look);
    if (ic_engine_load(b->engine) != 0) {
        /* not started, so not stopped: close the handles made so far
         * here (the loop runs once more before the modules' fini) */
        snprintf(err, errlen, "cannot load the topic rules");
        rules_stop(b, rules_nothing, NULL);
        return IC_ESTORE;
    }
    ic_mqtt_set_engine(b->mqtt, b->engine);
    ic_log_info("rules ready", "rules=%zu aws_endpoint=%s",
                ic_engine_count(b->engine),
                env->aws_endpoint[0] ? env->aws_endpoint : "-");
    return 0;
}

static void rules_stopped(void *data) {
    ic_broker_t *b = data;
    b->rules->stop_cb(b->rules->stop_data);
}

/* The HTTP client first: its aborted calls finish their executions. */
static void rules_http_closed(void *data) {
    ic_broker_t *b = data;
    ic_engine_stop(b->engine, rules_stopped, b);
}

static void rules_stop(ic_broker_t *b, ic_done_cb cb, void *data) {
    ic_mqtt_set_engine(b->mqtt, NULL);
    b->rules->stop_cb = cb;
    b->rules->stop_data = data;
    ic_http_client_close(b->rules->http, rules_http_closed, b);
}

static void rules_fini(ic_broker_t *b) {
    ic_engine_free(b->engine);
    b->engine = NULL;
    if (b->rules)
        ic_http_client_free(b->rules->http);
    free(b->rules);
    b->rules = NULL;
}

/* ---- module: custom_auth ---------------------------------------------- */

/* Custom authorizers: the registry (persisted) and the module that runs
 * their functions, through an HTTP client of its own. At stop the client
 * is closed first: its aborted calls complete (as failures) before the
 * module stops delivering. The connections that could be waiting for a
 * result have stopped before (conns comes later in the table). */
struct ic_custom_auth_mod_s {
    ic_http_client_t *http;   /* authorizer functions and Lambda Invoke */
    ic_done_cb stop_cb;
    void *stop_data;
};

static int custom_auth_init(ic_broker_t *b, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    b->custom_auth_mod = ic_xcalloc(1, sizeof(*b->custom_auth_mod));
    return 0;
}

static int custom_auth_start(ic_broker_t *b, char *err, size_t errlen) {
    struct ic_custom_auth_mod_s *m = b->custom_auth_mod;
    const ic_config_t *cfg = b->cfg;
    ic_custom_auth_env_t env;
    char why[256] = "";
    b->authorizers = ic_authorizers_new(b->db);
    if (ic_authorizers_load(b->authorizers) != 0) {
        snprintf(err, errlen, "cannot load the custom authorizers");
        return IC_ESTORE;
    }
    /* handles last: a failed start leaves none behind */
    if (ic_http_client_new(&m->http, b->loop, NULL, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "custom_auth: cannot make the HTTP client: %s", why);
        return IC_ECONFIG;
    }
    memset(&env, 0, sizeof(env));
    env.http = http_adapter;
    env.http_transport = m->http;
    env.functions = &cfg->authorizer_functions; /* swapped in place on reload */
    env.lambda_endpoint = cfg->aws_service_endpoint;
    env.lambda_region = cfg->aws_service_region[0] ? cfg->aws_service_region
                                                   : cfg->region;
    env.access_key = cfg->aws_service_access_key;
    env.secret_key = cfg->aws_service_secret_key;
    if (env.access_key[0] == '\0' && cfg->credentials.n > 0) {
        env.access_key = cfg->credentials.v[0];
        env.secret_key = cfg->credentials.v[1];
    }
    b->custom_auth = ic_custom_auth_new(b->loop, b->authorizers, &env);
    /* MQTT on 443 with ALPN mqtt asks it at CONNECT */
    ic_mqtt_env(b->mqtt)->custom_auth = b->custom_auth;
    ic_log_info("custom authorizers ready", "authorizers=%zu functions=%zu",
                ic_authorizers_count(b->authorizers),
                cfg->authorizer_functions.n);
    return 0;
}

static void custom_auth_stopped(void *data) {
    ic_broker_t *b = data;
    b->custom_auth_mod->stop_cb(b->custom_auth_mod->stop_data);
}

static void custom_auth_http_closed(void *data) {
    ic_broker_t *b = data;
    ic_custom_auth_stop(b->custom_auth, custom_auth_stopped, b);
}

static void custom_auth_stop(ic_broker_t *b, ic_done_cb cb, void *data) {
    ic_mqtt_env(b->mqtt)->custom_auth = NULL;
    b->custom_auth_mod->stop_cb = cb;
    b->custom_auth_mod->stop_data = data;
    ic_http_client_close(b->custom_auth_mod->http, custom_auth_http_closed, b);
}

static void custom_auth_fini(ic_broker_t *b) {
    ic_custom_auth_free(b->custom_auth);
    b->custom_auth = NULL;
    ic_authorizers_free(b->authorizers);
    b->authorizers = NULL;
    if (b->custom_auth_mod)
        ic_http_client_free(b->custom_auth_mod->http);
    free(b->custom_auth_mod);
    b->custom_auth_mod = NULL;
}

/* ---- module: conns ---------------------------------------------------- */

static void http_limits(ic_conns_t *cs, const ic_config_t *cfg) {
    ic_http_limits_t lim;
    lim.max_head_bytes = (size_t)cfg->http_max_header_size;
    lim.max_headers = 100;
    lim.max_body_bytes = (size_t)cfg->http_max_body_size;
    ic_conns_set_http_limits(cs, &lim, (uint64_t)cfg->http_idle_timeout);
}

/* MQTT over WebSocket: a frame may hold up to two packets of the largest
 * size accepted (clients pack several into one frame; the MQTT parser
 * still bounds each packet), and connections live websocket_max_lifetime. */
static void ws_limits(ic_broker_t *b, const ic_config_t *cfg) {
    ic_conns_set_websocket(b->conns,
                           2 * (uint64_t)ic_mqtt_env(b->mqtt)->p->max_packet + 16,
                           cfg->websocket_max_lifetime);
}

static int conns_start(ic_broker_t *b, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    b->conns = ic_conns_new(b->loop, ic_mqtt_env(b->mqtt),
                            (size_t)b->cfg->max_connections);
    http_limits(b->conns, b->cfg);
    ws_limits(b, b->cfg);
    return 0;
}

static int conns_reload(ic_broker_t *b, const ic_config_t *next) {
    http_limits(b->conns, next);
    return 0;
}

static void conns_stop(ic_broker_t *b, ic_done_cb cb, void *data) {
    ic_conns_stop(b->conns, cb, data);
}

static void conns_fini(ic_broker_t *b) {
    ic_conns_free(b->conns);
    b->conns = NULL;
}

/* ---- module: control -------------------------------------------------- */

static int control_init(ic_broker_t *b, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    return ic_control_init(&b->control, b);
}

static int control_start(ic_broker_t *b, char *err, size_t errlen) {
    return ic_control_start(b->control, err, errlen);
}

static int control_reload(ic_broker_t *b, const ic_config_t *next) {
    return ic_control_reload(b->control, next);
}

static void control_fini(ic_broker_t *b) {
    ic_control_fini(b->control);
    b->control = NULL;
}

/* ---- module: dataplane ------------------------------------------------ */

static int dataplane_init(ic_broker_t *b, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    return ic_dataplane_init(&b->dataplane, b);
}

static int dataplane_start(ic_broker_t *b, char *err, size_t errlen) {
    return ic_dataplane_start(b->dataplane, err, errlen);
}

static void dataplane_fini(ic_broker_t *b) {
    ic_dataplane_fini(b->dataplane);
    b->dataplane = NULL;
}

/* ---- module: listeners ------------------------------------------------ */

static int listeners_init(ic_broker_t *b, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    return ic_listeners_init(&b->listeners, b);
}

static int listeners_start(ic_broker_t *b, char *err, size_t errlen) {
    size_t i;
    for (i = 0; i < b->cfg->n_listeners; i++)
        ic_conns_add_listener(b->conns, b->cfg->listeners[i].name);
    ic_listeners_set_handler(b->listeners, ic_conns_accept, b->conns);
    return ic_listeners_start(b->listeners, err, errlen);
}

static void listeners_stop(ic_broker_t *b, ic_done_cb cb, void *data) {
    ic_listeners_stop(b->listeners, cb, data);
}

static int listeners_reload(ic_broker_t *b, const ic_config_t *next) {
    return ic_listeners_reload(b->listeners, next);
}

static void listeners_fini(ic_broker_t *b) {
    ic_listeners_fini(b->listeners);
    b->listeners = NULL;
}

/* ---- the table -------------------------------------------------------- */

static const module_t modules[] = {
    {"log", log_init, NULL, NULL, NULL, log_reload},
    {"store", NULL, store_start, store_stop, NULL, NULL},
    {"cron", NULL, cron_start, cron_stop, cron_fini, NULL},
    {"mqtt", mqtt_init, mqtt_start, mqtt_stop, mqtt_fini, mqtt_reload},
    {"rules", rules_init, rules_start, rules_stop, rules_fini, NULL},
    {"custom_auth", custom_auth_init, custom_auth_start, custom_auth_stop,
     custom_auth_fini, NULL},
    {"conns", NULL, conns_start, conns_stop, conns_fini, conns_reload},
    {"control", control_init, control_start, NULL, control_fini,
     control_reload},
    {"dataplane", dataplane_init, dataplane_start, NULL, dataplane_fini, NULL},
    {"listeners", listeners_init, listeners_start, listeners_stop,
     listeners_fini, listeners_reload},
};
#define N_MODULES (sizeof(modules) / sizeof(modules[0]))

/* ---- stop ------------------------------------------------------------- */

static void stop_next(void *data);

static void close_signals(state_t *st) {
    uv_close((uv_handle_t *)&st->sig_term, NULL);
    uv_close((uv_handle_t *)&st->sig_int, NULL);
    uv_close((uv_handle_t *)&st->sig_hup, NULL);
}

static void stop_next(void *data) {
    state_t *st = data;
    while (st->n_started > 0) {
        const module_t *m = &modules[--st->n_started];
        if (m->stop) {
            ic_log_debug("module stop", "name=%s", m->name);
            m->stop(&st->b, stop_next, st);
            return;
        }
    }
    close_signals(st);
}

static void begin_stop(state_t *st, const char *why) {
    if (st->is_stopping)
        return;
    st->is_stopping = true;
    ic_log_info("iotcored stopping", "reason=%s", why);
    ic_notify("STOPPING=1");
    stop_next(st);
}

/* ---- reload ----------------------------------------------------------- */

static void reload(state_t *st) {
    ic_config_t next;
    char err[ERRLEN];
    size_t n, i, changed = 0, done;
    const ic_directive_t *d = ic_config_directives(&n);
    int rc = 0;

    ic_config_init(&next);
    if (ic_config_load(&next, st->b.cfg->path, err, sizeof(err)) != 0) {
        ic_log_error("config reload failed", "err=\"%s\"", err);
        ic_config_free(&next);
        return;
    }
    ic_notify("RELOADING=1");
    for (i = 0; i < n; i++) {
        if (d[i].scope != IC_CFG_GLOBAL || d[i].type == IC_CFG_INCLUDE ||
            d[i].type == IC_CFG_BLOCK || ic_config_same(&d[i], st->b.cfg, &next))
            continue;
        if (d[i].reloadable)
            changed++;
        else
            ic_log_warn("config reload ignored",
                        "directive=%s reason=restart-required", d[i].name);
    }
    if (!ic_config_listeners_same(st->b.cfg, &next))
        ic_log_warn("config reload ignored",
                    "directive=listener reason=restart-required");
    for (done = 0; done < N_MODULES && rc == 0; done++)
        if (modules[done].reload)
            rc = modules[done].reload(&st->b, &next);
    if (rc != 0) {
        /* All or none: put back the modules already moved to `next`. */
        for (i = 0; i + 1 < done; i++)
            if (modules[i].reload)
                modules[i].reload(&st->b, st->b.cfg);
        ic_log_error("config reload failed", "err=%s", ic_errname(rc));
    } else {
        ic_config_swap_reloadable(st->b.cfg, &next);
        ic_log_info("config reloaded", "path=%s changed=%zu", st->b.cfg->path,
                    changed);
    }
    ic_config_free(&next);
    ic_notify("READY=1");
}

static void on_signal(uv_signal_t *h, int signum) {
    state_t *st = h->data;
    if (signum == SIGHUP)
        reload(st);
    else
        begin_stop(st, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- run -------------------------------------------------------------- */

static void ready(state_t *st) {
    const char *env = getenv("IOTCORED_READY_FILE");
    const char *path = env && env[0] ? env : st->b.cfg->ready_file;
    int rc;
    if (path[0] != '\0') {
        ic_strlcpy(st->ready_path, path, sizeof(st->ready_path));
        rc = ic_listeners_write_ready(st->b.listeners, path);
        if (rc != 0)
            ic_log_error("ready file write failed", "path=%s err=%s", path,
                         ic_errname(rc));
        else
            st->ready_written = true;
    }
    ic_notify("READY=1");
    ic_log_info("iotcored ready", "version=%s pid=%ld", IC_VERSION,
                (long)getpid());
}

int ic_broker_run(ic_config_t *cfg) {
    state_t *st = ic_xcalloc(1, sizeof(*st));
    char err[ERRLEN] = "";
    int rc = 0, code = EX_OK;
    size_t i;

    st->b.cfg = cfg;
    st->b.loop = &st->loop;
    uv_loop_init(&st->loop);
    uv_signal_init(&st->loop, &st->sig_term);
    uv_signal_init(&st->loop, &st->sig_int);
    uv_signal_init(&st->loop, &st->sig_hup);
    st->sig_term.data = st->sig_int.data = st->sig_hup.data = st;

    for (i = 0; i < N_MODULES && rc == 0; i++) {
        if (modules[i].init)
            rc = modules[i].init(&st->b, err, sizeof(err));
        if (rc == 0)
            st->n_inited++;
    }
    if (rc == 0)
        ic_log_info("iotcored starting", "version=%s config=%s", IC_VERSION,
                    cfg->path);
    for (i = 0; i < st->n_inited && rc == 0; i++) {
        if (modules[i].start)
            rc = modules[i].start(&st->b, err, sizeof(err));
        if (rc == 0)
            st->n_started++;
    }
    if (rc != 0) {
        /* One line on stderr even when logging to a file: the operator
         * starting the daemon must see why it did not start. */
        fprintf(stderr, "iotcored: %s\n", err);
        if (st->n_inited > 0 && cfg->log_file[0] != '\0')
            ic_log_error("iotcored start failed", "err=\"%s\"", err);
        code = EX_OSERR;
        st->is_stopping = true;
        stop_next(st);
    } else {
        uv_signal_start(&st->sig_term, on_signal, SIGTERM);
        uv_signal_start(&st->sig_int, on_signal, SIGINT);
        uv_signal_start(&st->sig_hup, on_signal, SIGHUP);
        ready(st);
    }

    uv_run(&st->loop, UV_RUN_DEFAULT);

    for (i = st->n_inited; i-- > 0;)
        if (modules[i].fini)
            modules[i].fini(&st->b);
    if (st->ready_written)
        unlink(st->ready_path);
    rc = uv_loop_close(&st->loop);
    if (rc != 0) {
        ic_log_error("loop close failed", "err=%s", ic_errname(rc));
        code = EX_SOFTWARE;
    } else if (code == EX_OK) {
        ic_log_info("iotcored stopped", "pid=%ld", (long)getpid());
    }
    ic_config_free(cfg);
    free(st);
    return code;
}
