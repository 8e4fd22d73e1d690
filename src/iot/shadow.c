/* shadow.c - the Device Shadow service over MQTT.
 *
 * Owns the shadows (thing + shadow name -> document, or the version and
 * time of a deleted one) and their write-through to the store. A request
 * topic is parsed here, the document maths is shadow_doc.c's, and every
 * answer is published through the router as an ordinary message, so every
 * subscriber of a response topic receives it (aws-iot-dataplane.md 1.2) and
 * iot:Receive applies. It must not touch connections. Loop thread only.
 *
 * Not yet (issue 8): the 10 in-flight requests limit, skipping wills sent
 * to shadow topics, the HTTPS API.
 */
#include "iotcored/shadow.h"

#include "iotcored/alloc.h"
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

struct ic_shadow_svc_s {
    ic_db_t *db;
    ic_router_t *router;
    const ic_shadow_limits_t *lim;
    int64_t window_ms;
    ic_map_t shadows;       /* "thing\0name" -> entry_t* */
    size_t n_live;
};

ic_shadow_svc_t *ic_shadow_svc_new(ic_db_t *db, ic_router_t *router,
                                   const ic_shadow_limits_t *lim,
                                   int64_t window_ms) {
    ic_shadow_svc_t *s = ic_xcalloc(1, sizeof(*s));
    s->db = db;
    s->router = router;
    s->lim = lim;
    s->window_ms = window_ms;
    ic_map_init(&s->shadows);
    return s;
}

void ic_shadow_svc_free(ic_shadow_svc_t *s) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    if (s == NULL)
        return;
    while ((e = ic_map_next(&s->shadows, &it)) != NULL) {
        entry_t *x = e->val;
        ic_shadow_doc_free(x->doc);
        free(x);
    }
    ic_map_free(&s->shadows);
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

static void answer(ic_shadow_svc_t *s, const char *prefix, const char *suffix,
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

static void persist(ic_shadow_svc_t *s, const char *thing, const char *name,
                    const entry_t *x) {
    char *json;
    if (s->db == NULL)
        return;
    json = x->doc ? ic_shadow_doc_to_json(x->doc) : NULL;
    ic_shadowdb_put(s->db, thing, name, json,
                    x->doc ? ic_shadow_doc_version(x->doc) : x->del_version,
                    x->deleted_ms);
    free(json);
}

void ic_shadow_svc_handle(ic_msg_t *m, int64_t now_ms, void *data) {
    ic_shadow_svc_t *s = data;
    const char *thing, *name;
    size_t tl, nl, kl;
    op_t op;
    char key[256], prefix[256], tname[129], sname[65];
    entry_t *x;
    ic_shadow_out_t out;
    int64_t now_s = now_ms / 1000, deleted_version = 0;
    const char *op_name;
    int rc;
    if (!parse_topic(m->topic, m->topic_len, &thing, &tl, &name, &nl, &op))
        return;
    kl = key_of(thing, tl, name, nl, key, sizeof(key));
    if (kl == 0)
        return;
    snprintf(tname, sizeof(tname), "%.*s", (int)tl, thing);
    snprintf(sname, sizeof(sname), "%.*s", (int)nl, name);
    if (nl)
        snprintf(prefix, sizeof(prefix), "$aws/things/%s/shadow/name/%s", tname,
                 sname);
    else
        snprintf(prefix, sizeof(prefix), "$aws/things/%s/shadow", tname);
    x = ic_map_get(&s->shadows, key, kl);
    memset(&out, 0, sizeof(out));
    switch (op) {
    case OP_UPDATE: {
        int64_t prev = 0;
        bool had = x && x->doc;
        if (x == NULL) {
            x = ic_xcalloc(1, sizeof(*x));
            ic_map_put(&s->shadows, key, kl, x);
        } else if (x->doc == NULL && now_ms - x->deleted_ms < s->window_ms) {
            prev = x->del_version; /* AWS 1.9: the version continues */
        }
        op_name = "update";
        rc = ic_shadow_update(&x->doc, prev, m->payload, m->payload_len, now_s,
                              s->lim, &out);
        if (rc == 0) {
            if (!had)
                s->n_live++;
            persist(s, tname, sname, x);
            answer(s, prefix, "update/accepted", out.accepted, now_ms);
            answer(s, prefix, "update/documents", out.documents, now_ms);
            answer(s, prefix, "update/delta", out.delta, now_ms);
        }
        break;
    }
    case OP_GET:
        op_name = "get";
        rc = ic_shadow_get(x ? x->doc : NULL, nl ? sname : tname, m->payload,
                           m->payload_len, now_s, &out);
        if (rc == 0)
            answer(s, prefix, "get/accepted", out.accepted, now_ms);
        break;
    case OP_DELETE:
    default:
        op_name = "delete";
        if (x == NULL) {
            rc = ic_shadow_delete(NULL == x ? &(ic_shadow_doc_t *){NULL} : &x->doc,
                                  nl ? sname : tname, m->payload, m->payload_len,
                                  now_s, &out, &deleted_version);
        } else {
            bool had = x->doc != NULL;
            rc = ic_shadow_delete(&x->doc, nl ? sname : tname, m->payload,
                                  m->payload_len, now_s, &out, &deleted_version);
            if (rc == 0) {
                if (had)
                    s->n_live--;
                x->del_version = deleted_version;
                x->deleted_ms = now_ms;
                persist(s, tname, sname, x);
            }
        }
        if (rc == 0)
            answer(s, prefix, "delete/accepted", out.accepted, now_ms);
        break;
    }
    if (rc != 0) {
        char suffix[32];
        snprintf(suffix, sizeof(suffix), "%s/rejected", op_name);
        ic_log_info("shadow rejected", "thing=%s shadow=%s op=%s code=%d",
                    tname, nl ? sname : "-", op_name, out.code);
        answer(s, prefix, suffix, out.rejected, now_ms);
    } else {
        ic_log_debug("shadow", "thing=%s shadow=%s op=%s", tname,
                     nl ? sname : "-", op_name);
    }
    ic_shadow_out_free(&out);
}
