/* mqtt.c - the MQTT engine module: assembles profile, sessions, retained
 * messages and router over the store, and runs the periodic sweep
 * (keep-alive, CONNECT timeout, session expiry, delayed wills).
 *
 * Owns those objects and the shared protocol environment. It holds no
 * protocol logic of its own (proto.c) and no sockets (net/conn.c).
 */
#include "iotcored/mqtt.h"

#include "iotcored/alloc.h"
#include "iotcored/auth.h"
#include "iotcored/clock.h"
#include "iotcored/config.h"
#include "iotcored/cron.h"
#include "iotcored/db.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/profile.h"
#include "iotcored/engine.h"
#include "iotcored/lifecycle.h"
#include "iotcored/shadow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ic_mqtt_s {
    ic_broker_t *b;
    ic_profile_t profile;
    ic_sessions_t *sessions;
    ic_retain_t *retain;
    ic_router_t *router;
    ic_registry_t *registry;
    ic_things_t *things;
    ic_policies_t *policies;
    ic_auth_t *auth;
    ic_shadow_svc_t *shadows;
    ic_lifecycle_t *lifecycle;
    ic_engine_t *engine;      /* the rules engine (borrowed), or NULL */
    ic_shadow_limits_t shadow_lim;
    uint64_t lc_swept_ms;     /* last lifecycle record sweep (loop clock) */
    uint64_t checked_epoch;   /* auth epoch live connections were checked at */
    struct reload_s *reload;  /* a registry reload waiting for the store */
    ic_proto_env_t env;
};

/* Outlives the module if the store answers after fini (m is then NULL). */
typedef struct reload_s {
    ic_mqtt_t *m;
} reload_t;

int ic_mqtt_init(ic_mqtt_t **out, ic_broker_t *b) {
    ic_mqtt_t *m = ic_xcalloc(1, sizeof(*m));
    m->b = b;
    ic_profile_aws(&m->profile, b->cfg);
    *out = m;
    return 0;
}

static void index_sub(ic_session_t *s, const ic_sub_rec_t *r, void *data) {
    ic_router_index(data, s, r);
}

static void sweep(uint64_t now_ms, void *data) {
    ic_mqtt_t *m = data;
    ic_proto_sweep(&m->env, now_ms, ic_clock_wall_ms());
    ic_mqtt_recheck(m);
    if (m->lifecycle && now_ms - m->lc_swept_ms >= 60000) {
        m->lc_swept_ms = now_ms; /* once a minute */
        ic_lifecycle_sweep(m->lifecycle, ic_clock_wall_ms());
    }
}

void ic_mqtt_recheck(ic_mqtt_t *m) {
    uint64_t e = ic_auth_epoch(m->auth);
    if (e == m->checked_epoch)
        return;
    m->checked_epoch = e;
    ic_proto_recheck(&m->env);
}

int ic_mqtt_start(ic_mqtt_t *m, char *err, size_t errlen) {
    ic_session_limits_t lim;
    int64_t now = ic_clock_wall_ms();
    lim.max_queued = m->profile.max_queued;
    lim.max_inflight = m->profile.max_inflight;
    m->sessions = ic_sessions_new(m->b->db, &lim);
    m->retain = ic_retain_new(m->b->db);
    m->router = ic_router_new(&m->profile, m->sessions, m->retain);
    m->registry = ic_registry_new(m->b->db);
    m->things = ic_things_new(m->b->db);
    m->policies = ic_policies_new(m->b->db);
    if (ic_registry_load(m->registry) != 0 || ic_things_load(m->things) != 0 ||
        ic_policies_load(m->policies) != 0 ||
        ic_retain_load(m->retain, now) != 0 ||
        ic_sessions_load(m->sessions, now, index_sub, m->router) != 0) {
        snprintf(err, errlen,
                 "cannot load certificates, retained messages and sessions");
        return IC_ESTORE;
    }
    m->env.p = &m->profile;
    m->env.router = m->router;
    m->env.sessions = m->sessions;
    m->env.loop = m->b->loop;
    m->env.registry = m->registry;
    m->env.things = m->things;
    m->env.policies = m->policies;
    m->shadow_lim.max_doc_bytes = (size_t)m->b->cfg->shadow_max_document_size;
    m->shadow_lim.max_depth = m->b->cfg->shadow_max_depth;
    m->shadows = ic_shadow_svc_new(m->b->db, m->router, &m->shadow_lim,
                                   m->b->cfg->shadow_version_window);
    if (ic_shadow_svc_load(m->shadows) != 0) {
        snprintf(err, errlen, "cannot load the device shadows");
        return IC_ESTORE;
    }
    ic_shadow_svc_set_durable(m->shadows,
                              m->b->cfg->persistence_sync == IC_SYNC_FULL);
    ic_router_set_service(m->router, ic_shadow_svc_handle, m->shadows);
    m->env.shadows = m->shadows;
    m->env.retain = m->retain;
    m->lifecycle = ic_lifecycle_new(m->router);
    m->env.lifecycle = m->lifecycle;
    m->auth = ic_auth_new(m->registry, m->things, m->policies, m->b->cfg->region,
                          m->b->cfg->account_id);
    ic_auth_set_mode(m->auth, (ic_policy_mode_t)m->b->cfg->policy_mode);
    m->env.auth = m->auth;
    m->env.cert_auth_registry = m->b->cfg->cert_auth == IC_CERT_AUTH_REGISTRY;
    m->env.account_id = m->b->cfg->account_id;
    ic_map_init(&m->env.connect_times);
    ic_buf_init(&m->env.scratch);
    /* QoS 0 to a client with this much unsent is dropped (slow consumer). */
    m->env.out_high_water = 4u * 1024 * 1024 + m->profile.max_packet;
    ic_cron_add(m->b->cron, 1000, sweep, m);
    ic_log_info("mqtt ready", "profile=%s retained=%zu sessions=%zu "
                "certificates=%zu",
                m->profile.name, ic_retain_count(m->retain),
                ic_sessions_count(m->sessions), ic_registry_count(m->registry));
    return 0;
}

/* SIGHUP: pick up certificates registered by `iotcored --register-*`.
 * Writes made through the control plane may still be queued: reading the
 * tables before they commit would drop them from the cache, so the reload
 * runs once the queue ahead of it has been written. */
static void reload_registries(int status, void *data) {
    reload_t *r = data;
    ic_mqtt_t *m = r->m;
    int rc;
    free(r);
    if (m == NULL)
        return;
    m->reload = NULL;
    rc = status == 0 ? ic_registry_load(m->registry) : status;
    if (rc == 0)
        rc = ic_things_load(m->things);
    if (rc == 0)
        rc = ic_policies_load(m->policies);
    if (rc == 0)
        ic_log_info("registry reloaded", "certificates=%zu things=%zu policies=%zu",
                    ic_registry_count(m->registry), ic_things_count(m->things),
                    ic_policies_count(m->policies));
    else
        ic_log_error("registry reload failed", "err=%s", ic_errname(rc));
}

int ic_mqtt_reload(ic_mqtt_t *m, const ic_config_t *next) {
    reload_t *r;
    int rc;
    ic_auth_set_mode(m->auth, (ic_policy_mode_t)next->policy_mode);
    if (m->b->db == NULL || m->reload != NULL)
        return 0;
    r = ic_xmalloc(sizeof(*r));
    r->m = m;
    rc = ic_db_flush(m->b->db, reload_registries, r);
    if (rc != 0)
        free(r);
    else
        m->reload = r;
    return rc;
}

ic_proto_env_t *ic_mqtt_env(ic_mqtt_t *m) {
    return &m->env;
}

/* Exception to the callback contract (STYLE 3.7), written down: nothing
 * here is asynchronous (the store writes are queued and flushed by the
 * store module, stopped after this one), so cb runs before returning. The
 * broker's stop sequence is written to allow that. */
void ic_mqtt_stop(ic_mqtt_t *m, ic_done_cb cb, void *data) {
    ic_cron_remove(m->b->cron, m);
    ic_sessions_save_all(m->sessions, ic_clock_wall_ms());
    cb(data);
}

void ic_mqtt_fini(ic_mqtt_t *m) {
    if (m == NULL)
        return;
    if (m->reload)
        m->reload->m = NULL;
    ic_router_free(m->router);
    ic_registry_free(m->registry);
    ic_things_free(m->things);
    ic_policies_free(m->policies);
    ic_auth_free(m->auth);
    ic_shadow_svc_free(m->shadows);
    ic_lifecycle_free(m->lifecycle);
    ic_sessions_free(m->sessions);
    ic_retain_free(m->retain);
    ic_map_free(&m->env.connect_times);
    ic_buf_free(&m->env.scratch);
    free(m);
}

/* ---- the rules engine ------------------------------------------------------------- */

/* The router's tap: who published (the origin session's client and its
 * connection's principal and address, copied by the engine). */
static void rules_tap(ic_msg_t *m, const char *rule, size_t rule_len,
                      size_t topic_off, int64_t now_ms, void *data) {
    ic_mqtt_t *mq = data;
    const ic_session_t *s = m->origin;
    ic_engine_src_t src;
    if (mq->engine == NULL)
        return;
    if (s != NULL) {
        const ic_proto_t *pr = s->conn;
        memset(&src, 0, sizeof(src));
        src.client_id = s->client_id;
        src.is_mqtt5 = s->version == IC_MQTT_V5;
        src.principal = pr ? ic_proto_principal(pr) : "";
        src.source_ip = pr ? ic_proto_peer(pr) : NULL;
    }
    ic_engine_tap(mq->engine, m, rule, rule_len, topic_off, s ? &src : NULL,
                  now_ms);
}

static char *shadow_lookup(void *data, const char *thing, const char *shadow) {
    ic_mqtt_t *mq = data;
    return ic_shadow_svc_get_json(mq->shadows, thing, shadow);
}

void ic_mqtt_set_engine(ic_mqtt_t *m, ic_engine_t *e) {
    m->engine = e;
    ic_router_set_tap(m->router, e ? rules_tap : NULL, m);
}

void ic_mqtt_engine_lookups(ic_mqtt_t *m, ic_engine_lookups_t *out) {
    memset(out, 0, sizeof(*out));
    out->shadow = shadow_lookup;
    out->data = m;
}

ic_router_t *ic_mqtt_router(ic_mqtt_t *m) {
    return m->router;
}
