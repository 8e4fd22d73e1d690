/* shadow.c - the Device Shadow service (MQTT requests and the REST API's).
 *
 * Owns the shadows (thing + shadow name -> document, or the version and
 * time of a deleted one), their write-through to the store and the
 * in-flight request counts. A request topic is parsed here, the document
 * maths is shadow_doc.c's, and every MQTT answer is published through the
 * router as an ordinary message, so every subscriber of a response topic
 * receives it (aws-iot-dataplane.md 1.2) and iot:Receive applies. REST
 * requests (api/dataplane.c) take the same path and get their answer
 * through a callback. It must not touch connections. Loop thread only.
 *
 * In durable mode (persistence_sync full) an update or delete is answered
 * only after its row is committed, and any other answer waits for the
 * writes queued before it, so answers keep request order; a request is
 * "in flight" until answered, and an origin (a connection) may have 10
 * (AWS 1.9; the 11th is refused 429). In normal mode answers go out at
 * once and the write follows in the next group commit.
 */
#include "iotcored/shadow.h"

#include "iotcored/alloc.h"
#include "iotcored/clock.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/map.h"
#include "iotcored/shadows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry_s {
    ic_shadow_doc_t *doc;   /* NULL: deleted */
    int64_t del_version;    /* version of the deleted shadow */
    int64_t deleted_ms;
} entry_t;

/* One request between its arrival and its answer. */
typedef struct pend_s {
    struct pend_s *prev, *next; /* s->pend list (orphaned at free) */
    struct ic_shadow_svc_s *s;  /* NULL once the service is gone */
    const void *origin;
    ic_shadow_op_t op;
    bool is_mqtt;               /* answers go to the response topics */
    bool is_write;              /* counted in n_writes */
    ic_shadow_out_t out;
    char prefix[256];           /* response topic prefix */
    char thing[129], name[65];
    ic_shadow_done_fn done;
    void *data;
} pend_t;

struct ic_shadow_svc_s {
    ic_db_t *db;
    ic_router_t *router;
    const ic_shadow_limits_t *lim;
    int64_t window_ms;
    ic_map_t shadows;       /* "thing\0name" -> entry_t* */
    size_t n_live;
    bool durable;           /* answer after commit */
    ic_map_t inflight;      /* origin pointer bytes -> count (uintptr_t) */
    size_t n_writes;        /* writes queued, not yet committed (durable) */
    struct pend_s *pend;    /* requests not answered yet */
    uint64_t ops[3][2];     /* by op (get, update, delete): accepted, rejected */
};

#define MAX_INFLIGHT 10 /* AWS 1.9: in-flight requests per connection */

ic_shadow_svc_t *ic_shadow_svc_new(ic_db_t *db, ic_router_t *router,
                                   const ic_shadow_limits_t *lim,
                                   int64_t window_ms) {
    ic_shadow_svc_t *s = ic_xcalloc(1, sizeof(*s));
    s->db = db;
    s->router = router;
    s->lim = lim;
    s->window_ms = window_ms;
    ic_map_init(&s->shadows);
    ic_map_init(&s->inflight);
    return s;
}

void ic_shadow_svc_set_durable(ic_shadow_svc_t *s, bool durable) {
    s->durable = durable;
}

void ic_shadow_svc_free(ic_shadow_svc_t *s) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    struct pend_s *p;
    if (s == NULL)
        return;
    /* answers still waiting for the store are dropped with the service */
    for (p = s->pend; p; p = p->next)
        p->s = NULL;
    while ((e = ic_map_next(&s->shadows, &it)) != NULL) {
        entry_t *x = e->val;
        ic_shadow_doc_free(x->doc);
        free(x);
    }
    ic_map_free(&s->shadows);
    ic_map_free(&s->inflight);
    free(s);
}

size_t ic_shadow_svc_count(const ic_shadow_svc_t *s) {
    return s->n_live;
}

static size_t key_of(const char *thing, size_t tl, const char *name, size_t nl,
                     char *out, size_t cap) {
    if (tl + 1 + nl > cap)
        return 0;
    memcpy(out, thing, tl);
    out[tl] = '\0';
    memcpy(out + tl + 1, name, nl);
    return tl + 1 + nl;
}

static void on_row(const char *thing, const char *name, const char *doc,
                   int64_t version, int64_t deleted_ms, void *data) {
    ic_shadow_svc_t *s = data;
    char key[256];
    size_t kl = key_of(thing, strlen(thing), name, strlen(name), key, sizeof(key));
    entry_t *x;
    if (kl == 0)
        return;
    x = ic_xcalloc(1, sizeof(*x));
    x->doc = doc ? ic_shadow_doc_from_json(doc) : NULL;
    x->del_version = version;
    x->deleted_ms = deleted_ms;
    if (x->doc)
        s->n_live++;
    ic_map_put(&s->shadows, key, kl, x);
}

int ic_shadow_svc_load(ic_shadow_svc_t *s) {
    if (s->db == NULL)
        return 0;
    return ic_shadowdb_load(s->db, on_row, s) == 0 ? 0 : IC_ESTORE;
}

/* ---- requests ------------------------------------------------------------------ */

static bool name_ok(const char *p, size_t n, size_t max, bool dollar) {
    size_t i;
    if (n == 0 || n > max)
        return false;
    for (i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == ':' || c == '_' || c == '-' ||
              (dollar && c == '$')))
            return false;
    }
    return true;
}

typedef enum { OP_GET, OP_UPDATE, OP_DELETE } op_t;

/* "$aws/things/T/shadow/OP" or "$aws/things/T/shadow/name/S/OP". */
static bool parse_topic(const char *t, size_t len, const char **thing, size_t *tl,
                        const char **name, size_t *nl, op_t *op) {
    const char *p = t + 12, *end = t + len, *slash, *o;
    size_t ol;
    slash = memchr(p, '/', (size_t)(end - p));
    if (slash == NULL)
        return false;
    *thing = p;
    *tl = (size_t)(slash - p);
    p = slash + 1;
    if ((size_t)(end - p) < 7 || memcmp(p, "shadow/", 7) != 0)
        return false;
    p += 7;
    *name = "";
    *nl = 0;
    if ((size_t)(end - p) > 5 && memcmp(p, "name/", 5) == 0) {
        p += 5;
        slash = memchr(p, '/', (size_t)(end - p));
        if (slash == NULL)
            return false;
        *name = p;
        *nl = (size_t)(slash - p);
        p = slash + 1;
        if (!name_ok(*name, *nl, 64, true))
            return false;
    }
    o = p;
    ol = (size_t)(end - p);
    if (ol == 3 && memcmp(o, "get", 3) == 0)
        *op = OP_GET;
    else if (ol == 6 && memcmp(o, "update", 6) == 0)
        *op = OP_UPDATE;
    else if (ol == 6 && memcmp(o, "delete", 6) == 0)
        *op = OP_DELETE;
    else
        return false;
    return name_ok(*thing, *tl, 128, false);
}

/* ---- answers ---------------------------------------------------------------------- */


static const char *const op_names[] = {"get", "update", "delete"};

static void publish(ic_shadow_svc_t *s, const char *prefix, const char *suffix,
                    const char *payload, int64_t now_ms) {
    char topic[300];
    ic_msg_t *m;
    int n;
    if (payload == NULL)
        return;
    n = snprintf(topic, sizeof(topic), "%s/%s", prefix, suffix);
    if (n < 0 || (size_t)n >= sizeof(topic))
        return;
    m = ic_msg_new(topic, (size_t)n, payload, strlen(payload), 1, false, NULL,
                   now_ms);
    ic_router_publish(s->router, m, now_ms);
    ic_msg_unref(m);
}

static size_t inflight_add(ic_shadow_svc_t *s, const void *origin, int d) {
    uintptr_t n;
    if (origin == NULL)
        return 0;
    n = (uintptr_t)ic_map_get(&s->inflight, (const char *)&origin, sizeof(origin));
    n = (uintptr_t)((intptr_t)n + d);
    if (n == 0)
        ic_map_del(&s->inflight, (const char *)&origin, sizeof(origin));
    else
        ic_map_put(&s->inflight, (const char *)&origin, sizeof(origin), (void *)n);
    return (size_t)n;
}

/* Publish what the request's source should see, tell the caller, forget
 * the request. MQTT: every answer on its topic. REST (aws-iot-dataplane.md
 * 1.10, EMULATOR): a successful update publishes accepted, documents and
 * delta, a successful delete delete/accepted; nothing else. */
static void finish(pend_t *p) {
    ic_shadow_svc_t *s = p->s;
    ic_shadow_result_t r;
    int64_t now_ms = ic_clock_wall_ms();
    if (s != NULL) {
        const char *op = op_names[p->op];
        s->ops[p->op][p->out.rejected ? 1 : 0]++;
        if (p->out.rejected) {
            char suffix[32];
            ic_log_info("shadow rejected", "thing=%s shadow=%s op=%s code=%d "
                        "source=%s", p->thing, p->name[0] ? p->name : "-", op,
                        p->out.code, p->is_mqtt ? "mqtt" : "http");
            snprintf(suffix, sizeof(suffix), "%s/rejected", op);
            if (p->is_mqtt)
                publish(s, p->prefix, suffix, p->out.rejected, now_ms);
        } else {
            ic_log_debug("shadow", "thing=%s shadow=%s op=%s source=%s", p->thing,
                         p->name[0] ? p->name : "-", op, p->is_mqtt ? "mqtt" : "http");
            if (p->op == IC_SHADOW_UPDATE) {
                publish(s, p->prefix, "update/accepted", p->out.accepted, now_ms);
                publish(s, p->prefix, "update/documents", p->out.documents, now_ms);
                publish(s, p->prefix, "update/delta", p->out.delta, now_ms);
            } else if (p->op == IC_SHADOW_DELETE || p->is_mqtt) {
                publish(s, p->prefix,
                        p->op == IC_SHADOW_DELETE ? "delete/accepted" : "get/accepted",
                        p->out.accepted, now_ms);
            }
        }
        inflight_add(s, p->origin, -1);
        if (p->prev)
            p->prev->next = p->next;
        else
            s->pend = p->next;
        if (p->next)
            p->next->prev = p->prev;
    }
    if (p->done) {
        r.code = p->out.rejected ? p->out.code : 200;
        r.body = p->out.rejected ? p->out.rejected : p->out.accepted;
        p->done(&r, p->data);
    }
    ic_shadow_out_free(&p->out);
    free(p);
}

/* The row of a write is committed (durable mode), or every write queued
 * before an answer is. A store failure turns an answer into a 500: the
 * change is in memory but not on disk, and the client must not believe it
 * durable. */
static void on_committed(int rc, void *data) {
    pend_t *p = data;
    if (p->s && p->is_write)
        p->s->n_writes--;
    if (rc != 0 && p->s) {
        ic_log_error("shadow store failed", "thing=%s shadow=%s op=%s rc=%d",
                     p->thing, p->name[0] ? p->name : "-", op_names[p->op], rc);
        if (p->out.rejected == NULL) {
            ic_shadow_out_free(&p->out);
            ic_shadow_reject(500, "Internal service failure", NULL, 0,
                             ic_clock_wall_ms() / 1000, &p->out);
        }
    }
    finish(p);
}

static void persist(ic_shadow_svc_t *s, pend_t *p, const entry_t *x) {
    char *json;
    int rc;
    if (s->db == NULL) {
        finish(p);
        return;
    }
    json = x->doc ? ic_shadow_doc_to_json(x->doc) : NULL;
    rc = ic_shadowdb_put(s->db, p->thing, p->name, json,
                         x->doc ? ic_shadow_doc_version(x->doc) : x->del_version,
                         x->deleted_ms, s->durable ? on_committed : NULL, p);
    free(json);
    if (s->durable && rc == 0) {
        p->is_write = true;
        s->n_writes++;
        return;
    }
    finish(p);
}

/* An answer that writes nothing: at once, unless (durable mode) writes
 * queued before it are not committed yet. */
static void answer(ic_shadow_svc_t *s, pend_t *p) {
    if (s->durable && s->n_writes > 0 && s->db &&
        ic_db_flush(s->db, on_committed, p) == 0)
        return;
    finish(p);
}

/* ---- requests ---------------------------------------------------------------------- */

static void request(ic_shadow_svc_t *s, pend_t *p, const uint8_t *payload,
                    size_t len, int64_t now_ms) {
    char key[256];
    size_t tl = strlen(p->thing), nl = strlen(p->name), kl;
    const char *label = nl ? p->name : p->thing;
    int64_t now_s = now_ms / 1000, deleted_version = 0;
    entry_t *x;
    int rc;
    p->s = s;
    p->next = s->pend;
    if (p->next)
        p->next->prev = p;
    s->pend = p;
    if (inflight_add(s, p->origin, +1) > MAX_INFLIGHT) {
        /* aws-iot-dataplane.md 1.6: no literal text documented (EMULATOR) */
        ic_shadow_reject(429, "Too Many Requests", payload, len, now_s, &p->out);
        finish(p);
        return;
    }
    kl = key_of(p->thing, tl, p->name, nl, key, sizeof(key));
    x = ic_map_get(&s->shadows, key, kl);
    switch (p->op) {
    case IC_SHADOW_UPDATE: {
        int64_t prev = 0;
        bool had = x && x->doc;
        if (x == NULL) {
            x = ic_xcalloc(1, sizeof(*x));
            ic_map_put(&s->shadows, key, kl, x);
        } else if (x->doc == NULL && now_ms - x->deleted_ms < s->window_ms) {
            prev = x->del_version; /* AWS 1.9: the version continues */
        }
        rc = ic_shadow_update(&x->doc, prev, payload, len, now_s, s->lim, &p->out);
        if (rc == 0) {
            if (!had)
                s->n_live++;
            persist(s, p, x);
            return;
        }
        if (x->doc == NULL && x->deleted_ms == 0) /* never existed */
            free(ic_map_del(&s->shadows, key, kl));
        break;
    }
    case IC_SHADOW_GET:
        ic_shadow_get(x ? x->doc : NULL, label, payload, len, now_s, &p->out);
        break;
    case IC_SHADOW_DELETE:
    default: {
        ic_shadow_doc_t *none = NULL;
        bool had = x && x->doc;
        rc = ic_shadow_delete(x ? &x->doc : &none, label, payload, len, now_s,
                              &p->out, &deleted_version);
        if (rc == 0 && x) {
            if (had)
                s->n_live--;
            x->del_version = deleted_version;
            x->deleted_ms = now_ms;
            persist(s, p, x);
            return;
        }
        break;
    }
    }
    answer(s, p);
}

static pend_t *pend_new(ic_shadow_op_t op, const char *thing, size_t tl,
                        const char *name, size_t nl, const void *origin) {
    pend_t *p = ic_xcalloc(1, sizeof(*p));
    p->op = op;
    p->origin = origin;
    snprintf(p->thing, sizeof(p->thing), "%.*s", (int)tl, thing);
    snprintf(p->name, sizeof(p->name), "%.*s", (int)nl, name);
    if (nl)
        snprintf(p->prefix, sizeof(p->prefix), "$aws/things/%s/shadow/name/%s",
                 p->thing, p->name);
    else
        snprintf(p->prefix, sizeof(p->prefix), "$aws/things/%s/shadow", p->thing);
    return p;
}

void ic_shadow_svc_handle(ic_msg_t *m, int64_t now_ms, void *data) {
    ic_shadow_svc_t *s = data;
    const char *thing, *name;
    size_t tl, nl;
    op_t op;
    pend_t *p;
    if (!parse_topic(m->topic, m->topic_len, &thing, &tl, &name, &nl, &op))
        return;
    p = pend_new((ic_shadow_op_t)op, thing, tl, name, nl, m->origin);
    p->is_mqtt = true;
    request(s, p, m->payload, m->payload_len, now_ms);
}

bool ic_shadow_name_ok(const char *thing, const char *name) {
    return name_ok(thing, strlen(thing), 128, false) &&
           (name == NULL || name[0] == '\0' ||
            name_ok(name, strlen(name), 64, true));
}

void ic_shadow_svc_request(ic_shadow_svc_t *s, ic_shadow_op_t op,
                           const char *thing, const char *name,
                           const uint8_t *payload, size_t len,
                           const void *origin, ic_shadow_done_fn done,
                           void *data) {
    pend_t *p;
    if (name == NULL)
        name = "";
    p = pend_new(op, thing, strlen(thing), name, strlen(name), origin);
    p->done = done;
    p->data = data;
    if (!ic_shadow_name_ok(thing, name)) {
        p->s = NULL; /* not listed: answered at once */
        ic_shadow_reject(400, name[0] && !name_ok(name, strlen(name), 64, true)
                                  ? "Invalid shadow name"
                                  : "Invalid thing name",
                         NULL, 0, ic_clock_wall_ms() / 1000, &p->out);
        finish(p);
        return;
    }
    request(s, p, payload, len, ic_clock_wall_ms());
}

/* ---- listing ------------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t ic_shadow_svc_list(ic_shadow_svc_t *s, const char *thing,
                          const char *after, const char **out, size_t cap,
                          bool *more) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    size_t tl = strlen(thing), n = 0, all_cap = 16, i;
    const char **all = ic_xmalloc(all_cap * sizeof(*all));
    *more = false;
    while ((e = ic_map_next(&s->shadows, &it)) != NULL) {
        entry_t *x = e->val;
        if (x->doc == NULL || e->klen <= tl + 1 || memcmp(e->key, thing, tl) != 0 ||
            e->key[tl] != '\0')
            continue;
        if (after && after[0] && strcmp(e->key + tl + 1, after) <= 0)
            continue;
        if (n == all_cap) {
            all_cap *= 2;
            all = ic_xrealloc(all, all_cap * sizeof(*all));
        }
        all[n++] = e->key + tl + 1;
    }
    if (n > 0)
        qsort(all, n, sizeof(*all), cmp_str);
    for (i = 0; i < n && i < cap; i++)
        out[i] = all[i];
    *more = n > cap;
    free(all);
    return i;
}

char *ic_shadow_svc_get_json(ic_shadow_svc_t *s, const char *thing,
                             const char *name) {
    char key[256];
    size_t kl;
    entry_t *x;
    ic_shadow_out_t out;
    char *json = NULL;
    if (name == NULL)
        name = "";
    kl = key_of(thing, strlen(thing), name, strlen(name), key, sizeof(key));
    x = kl ? ic_map_get(&s->shadows, key, kl) : NULL;
    if (x == NULL || x->doc == NULL)
        return NULL;
    memset(&out, 0, sizeof(out));
    if (ic_shadow_get(x->doc, name[0] ? name : thing, NULL, 0,
                      ic_clock_wall_ms() / 1000, &out) == 0) {
        json = out.accepted;
        out.accepted = NULL;
    }
    ic_shadow_out_free(&out);
    return json;
}

void ic_shadow_svc_stats(const ic_shadow_svc_t *s, uint64_t out[3][2]) {
    memcpy(out, s->ops, sizeof(s->ops));
}
