/* test_shadow_doc.c - the shadow document engine: merge, delta, metadata,
 * errors (exact documents, validation order, nothing half-applied), get,
 * delete, storage round trips, and the spec's section 1.11 walk-through.
 *
 * Expected JSON is written with single quotes (q() turns them into double
 * quotes) and compared after normalising key order (norm()); byte-exact
 * checks are used where number printing or AWS's observed text matters. */
#include "iotcored/error.h"
#include "iotcored/shadow_doc.h"
#include "suites.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ic_shadow_limits_t lim = {IC_SHADOW_MAX_DOC_BYTES, IC_SHADOW_MAX_DEPTH};

/* s with ' turned into ", in one of a few rotating static buffers. */
static const char *q(const char *s) {
    static char ring[6][16384];
    static int next;
    char *b = ring[next++ % 6];
    size_t n = strlen(s);
    ck_assert_uint_lt(n, sizeof(ring[0]));
    for (size_t i = 0; i <= n; i++)
        b[i] = s[i] == '\'' ? '"' : s[i];
    return b;
}

static int cmp_items(const void *a, const void *b) {
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* Sort object keys recursively (relinking cJSON's list: child->prev is the
 * last item). */
static void sort_tree(cJSON *v) {
    size_t n = 0, i = 0;
    cJSON **items;
    for (cJSON *c = v->child; c; c = c->next) {
        sort_tree(c);
        n++;
    }
    if (!cJSON_IsObject(v) || n < 2)
        return;
    items = malloc(n * sizeof(*items));
    for (cJSON *c = v->child; c; c = c->next)
        items[i++] = c;
    qsort(items, n, sizeof(*items), cmp_items);
    for (i = 0; i < n; i++) {
        items[i]->next = i + 1 < n ? items[i + 1] : NULL;
        items[i]->prev = i > 0 ? items[i - 1] : items[n - 1];
    }
    v->child = items[0];
    free(items);
}

/* Key-order-independent canonical text; "<null>" / "<invalid: ...>". */
static char *norm(const char *s) {
    cJSON *v;
    char *r;
    if (!s)
        return strdup("<null>");
    v = cJSON_Parse(s);
    if (!v) {
        r = malloc(strlen(s) + 16);
        sprintf(r, "<invalid: %s>", s);
        return r;
    }
    sort_tree(v);
    r = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    return r;
}

/* actual vs expected (single-quoted; NULL = expect NULL). */
#define ck_json(actual, expected)                                           \
    do {                                                                    \
        const char *e0_ = (expected);                                       \
        char *a_ = norm(actual), *e_ = norm(e0_ ? q(e0_) : NULL);           \
        ck_assert_msg(strcmp(a_, e_) == 0, "json mismatch (line %d):\n got:  %s\n want: %s", \
                      __LINE__, a_, e_);                                    \
        free(a_);                                                           \
        free(e_);                                                           \
    } while (0)

static int upd_raw(ic_shadow_doc_t **d, int64_t prev, const char *p, size_t n,
                   int64_t now, const ic_shadow_limits_t *l, ic_shadow_out_t *o) {
    return ic_shadow_update(d, prev, (const uint8_t *)p, n, now, l, o);
}

/* Update with a single-quoted payload. */
static int upd(ic_shadow_doc_t **d, const char *payload, int64_t now,
               ic_shadow_out_t *o) {
    const char *p = q(payload);
    return upd_raw(d, 0, p, strlen(p), now, &lim, o);
}

/* Update that must succeed (out freed). */
static void upd_ok(ic_shadow_doc_t **d, const char *payload, int64_t now) {
    ic_shadow_out_t o;
    int rc = upd(d, payload, now, &o);
    ck_assert_msg(rc == 0, "update %s: rc %d %s", payload, rc,
                  o.rejected ? o.rejected : "");
    ic_shadow_out_free(&o);
}

static void stored_is(const ic_shadow_doc_t *d, const char *expected) {
    char *s = ic_shadow_doc_to_json(d);
    ck_json(s, expected);
    free(s);
}

/* ---- 1.11 walk-through ------------------------------------------------ */

START_TEST(walkthrough_1_11) {
    ic_shadow_doc_t *doc = NULL;
    ic_shadow_out_t o;
    int64_t dv = -1;
    const char *c1 = "{\"clientToken\":\"c1\"}";

    /* 1: get on a fresh thing */
    ck_assert_int_eq(ic_shadow_get(NULL, "lamp", (const uint8_t *)c1, strlen(c1),
                                   500, &o), IC_ENOTFOUND);
    ck_assert_int_eq(o.code, 404);
    ck_assert_str_eq(o.rejected, "{\"code\":404,\"message\":\"No shadow exists "
                                 "with name: 'lamp'\",\"clientToken\":\"c1\"}");
    ck_assert_ptr_null(o.accepted);
    ic_shadow_out_free(&o);

    /* 2: first reported update creates v1; previous is null; no delta */
    ck_assert_int_eq(upd(&doc, "{'state':{'reported':{'color':'red'}}}", 1000, &o), 0);
    ck_assert_int_eq(o.code, 200);
    ck_json(o.accepted, "{'state':{'reported':{'color':'red'}},"
                        "'metadata':{'reported':{'color':{'timestamp':1000}}},"
                        "'version':1,'timestamp':1000}");
    ck_json(o.documents, "{'previous':null,'current':{'state':{'reported':{'color':'red'}},"
                         "'metadata':{'reported':{'color':{'timestamp':1000}}},'version':1},"
                         "'timestamp':1000}");
    ck_assert_ptr_null(o.delta);
    ck_assert_ptr_null(o.rejected);
    ic_shadow_out_free(&o);

    /* 3: desired differs -> delta */
    ck_assert_int_eq(upd(&doc, "{'state':{'desired':{'color':'green'}},'clientToken':'c2'}",
                         2000, &o), 0);
    ck_json(o.accepted, "{'state':{'desired':{'color':'green'}},"
                        "'metadata':{'desired':{'color':{'timestamp':2000}}},"
                        "'version':2,'timestamp':2000,'clientToken':'c2'}");
    ck_json(o.delta, "{'state':{'color':'green'},'metadata':{'color':{'timestamp':2000}},"
                     "'version':2,'timestamp':2000,'clientToken':'c2'}");
    ck_json(o.documents,
            "{'previous':{'state':{'reported':{'color':'red'}},"
            "'metadata':{'reported':{'color':{'timestamp':1000}}},'version':1},"
            "'current':{'state':{'desired':{'color':'green'},'reported':{'color':'red'}},"
            "'metadata':{'desired':{'color':{'timestamp':2000}},"
            "'reported':{'color':{'timestamp':1000}}},'version':2},"
            "'timestamp':2000,'clientToken':'c2'}");
    ic_shadow_out_free(&o);

    ck_assert_int_eq(ic_shadow_get(doc, "lamp", NULL, 0, 2500, &o), 0);
    ck_json(o.accepted, "{'state':{'desired':{'color':'green'},'reported':{'color':'red'},"
                        "'delta':{'color':'green'}},"
                        "'metadata':{'desired':{'color':{'timestamp':2000}},"
                        "'reported':{'color':{'timestamp':1000}}},"
                        "'version':2,'timestamp':2500}");
    ic_shadow_out_free(&o);

    /* 4: report green, delete desired: echo of null, no delta */
    ck_assert_int_eq(upd(&doc, "{'state':{'reported':{'color':'green'},'desired':null}}",
                         3000, &o), 0);
    ck_json(o.accepted, "{'state':{'reported':{'color':'green'},'desired':null},"
                        "'metadata':{'reported':{'color':{'timestamp':3000}},"
                        "'desired':{'timestamp':3000}},'version':3,'timestamp':3000}");
    ck_json(o.documents,
            "{'previous':{'state':{'desired':{'color':'green'},'reported':{'color':'red'}},"
            "'metadata':{'desired':{'color':{'timestamp':2000}},"
            "'reported':{'color':{'timestamp':1000}}},'version':2},"
            "'current':{'state':{'reported':{'color':'green'}},"
            "'metadata':{'reported':{'color':{'timestamp':3000}}},'version':3},"
            "'timestamp':3000}");
    ck_assert_ptr_null(o.delta);
    ic_shadow_out_free(&o);

    /* 5: delete; a new update continues the version */
    ck_assert_int_eq(ic_shadow_delete(&doc, "lamp", NULL, 0, 4000, &o, &dv), 0);
    ck_assert_str_eq(o.accepted, "{\"version\":3,\"timestamp\":4000}");
    ck_assert_ptr_null(doc);
    ck_assert_int_eq((int)dv, 3);
    ic_shadow_out_free(&o);
    ck_assert_int_eq(upd_raw(&doc, dv, q("{'state':{'reported':{'on':true}}}"), 34,
                             5000, &lim, &o), 0);
    ck_json(o.documents, "{'previous':null,'current':{'state':{'reported':{'on':true}},"
                         "'metadata':{'reported':{'on':{'timestamp':5000}}},'version':4},"
                         "'timestamp':5000}");
    ck_assert_int_eq((int)ic_shadow_doc_version(doc), 4);
    ic_shadow_out_free(&o);
    ic_shadow_doc_free(doc);
}
END_TEST

/* ---- merge table ------------------------------------------------------ */

typedef struct mcase_s {
    const char *name;
    const char *before; /* update at t=100 (NULL: none) */
    const char *patch;  /* update at t=200 */
    const char *stored; /* expected storage text afterwards */
} mcase_t;

static const mcase_t mcases[] = {
    {"null deletes a field", "{'state':{'reported':{'a':1,'b':2}}}",
     "{'state':{'reported':{'a':null}}}",
     "{'state':{'reported':{'b':2}},'metadata':{'reported':{'b':{'timestamp':100}}},"
     "'version':2}"},
    {"objects merge recursively, untouched timestamps kept",
     "{'state':{'reported':{'x':{'a':1,'b':2}}}}",
     "{'state':{'reported':{'x':{'b':3,'c':4}}}}",
     "{'state':{'reported':{'x':{'a':1,'b':3,'c':4}}},'metadata':{'reported':{'x':{"
     "'a':{'timestamp':100},'b':{'timestamp':200},'c':{'timestamp':200}}}},'version':2}"},
    {"arrays replace", "{'state':{'reported':{'arr':[1,2,3]}}}",
     "{'state':{'reported':{'arr':[4]}}}",
     "{'state':{'reported':{'arr':[4]}},'metadata':{'reported':{'arr':[{'timestamp':200}]}},"
     "'version':2}"},
    {"nulls stripped from a new subtree, literal {} kept",
     "{'state':{'reported':{'z':1}}}",
     "{'state':{'reported':{'n':{'a':null,'b':{'c':null},'d':1,'e':{}}}}}",
     "{'state':{'reported':{'z':1,'n':{'d':1,'e':{}}}},'metadata':{'reported':{"
     "'z':{'timestamp':100},'n':{'d':{'timestamp':200},'e':{}}}},'version':2}"},
    {"a subtree of nulls only is not inserted", "{'state':{'reported':{'z':1}}}",
     "{'state':{'reported':{'n':{'a':null,'b':{'c':null}}}}}",
     "{'state':{'reported':{'z':1}},'metadata':{'reported':{'z':{'timestamp':100}}},"
     "'version':2}"},
    {"last field removed removes the section",
     "{'state':{'desired':{'a':1},'reported':{'a':2}}}",
     "{'state':{'desired':{'a':null}}}",
     "{'state':{'reported':{'a':2}},'metadata':{'reported':{'a':{'timestamp':100}}},"
     "'version':2}"},
    {"section null removes it", "{'state':{'desired':{'a':1,'b':{'c':2}},'reported':{'a':2}}}",
     "{'state':{'desired':null}}",
     "{'state':{'reported':{'a':2}},'metadata':{'reported':{'a':{'timestamp':100}}},"
     "'version':2}"},
    {"object replaced by a number", "{'state':{'reported':{'x':{'a':1}}}}",
     "{'state':{'reported':{'x':5}}}",
     "{'state':{'reported':{'x':5}},'metadata':{'reported':{'x':{'timestamp':200}}},"
     "'version':2}"},
    {"number replaced by an object (nulls stripped)", "{'state':{'reported':{'x':5}}}",
     "{'state':{'reported':{'x':{'a':1,'b':null}}}}",
     "{'state':{'reported':{'x':{'a':1}}},'metadata':{'reported':{'x':{'a':{'timestamp':200}}}},"
     "'version':2}"},
    {"number kept when the new object is all nulls", "{'state':{'reported':{'x':5}}}",
     "{'state':{'reported':{'x':{'b':null}}}}",
     "{'state':{'reported':{'x':5}},'metadata':{'reported':{'x':{'timestamp':100}}},"
     "'version':2}"},
    {"nested delete keeps {} (GG-SM)", "{'state':{'reported':{'x':{'a':1},'y':1}}}",
     "{'state':{'reported':{'x':{'a':null}}}}",
     "{'state':{'reported':{'x':{},'y':1}},'metadata':{'reported':{'x':{},"
     "'y':{'timestamp':100}}},'version':2}"},
    {"empty state still bumps the version", "{'state':{'reported':{'a':1}}}",
     "{'state':{}}",
     "{'state':{'reported':{'a':1}},'metadata':{'reported':{'a':{'timestamp':100}}},"
     "'version':2}"},
    {"same value still bumps the version and the timestamp",
     "{'state':{'reported':{'a':1}}}", "{'state':{'reported':{'a':1}}}",
     "{'state':{'reported':{'a':1}},'metadata':{'reported':{'a':{'timestamp':200}}},"
     "'version':2}"},
    {"state null clears both sections",
     "{'state':{'desired':{'a':1},'reported':{'a':2}}}", "{'state':null}",
     "{'state':{},'metadata':{},'version':2}"},
    {"empty desired does not create a section", NULL, "{'state':{'desired':{}}}",
     "{'state':{},'metadata':{},'version':1}"},
    {"per-element array metadata, recursing", NULL,
     "{'state':{'reported':{'l':[{'a':1},[2,3],'s',{}]}}}",
     "{'state':{'reported':{'l':[{'a':1},[2,3],'s',{}]}},'metadata':{'reported':{'l':["
     "{'a':{'timestamp':200}},[{'timestamp':200},{'timestamp':200}],{'timestamp':200},{}]}},"
     "'version':1}"},
    {"delta inside state is dropped", "{'state':{'reported':{'a':1}}}",
     "{'state':{'delta':{'x':1},'reported':{'b':2}}}",
     "{'state':{'reported':{'a':1,'b':2}},'metadata':{'reported':{'a':{'timestamp':100},"
     "'b':{'timestamp':200}}},'version':2}"},
    {"unknown top-level keys ignored", NULL,
     "{'state':{'reported':{'a':1}},'metadata':{'x':1},'timestamp':5,'other':[null]}",
     "{'state':{'reported':{'a':1}},'metadata':{'reported':{'a':{'timestamp':200}}},"
     "'version':1}"},
    {"types: bool, string, float, negative", NULL,
     "{'state':{'desired':{'b':false,'s':'x','f':2.5,'n':-7}}}",
     "{'state':{'desired':{'b':false,'s':'x','f':2.5,'n':-7}},'metadata':{'desired':{"
     "'b':{'timestamp':200},'s':{'timestamp':200},'f':{'timestamp':200},"
     "'n':{'timestamp':200}}},'version':1}"},
    {"matching version accepted", "{'state':{'reported':{'a':1}}}",
     "{'state':{'reported':{'a':3}},'version':1}",
     "{'state':{'reported':{'a':3}},'metadata':{'reported':{'a':{'timestamp':200}}},"
     "'version':2}"},
    {"version 1 accepted for a new shadow", NULL,
     "{'state':{'reported':{'a':3}},'version':1}",
     "{'state':{'reported':{'a':3}},'metadata':{'reported':{'a':{'timestamp':200}}},"
     "'version':1}"},
};

START_TEST(merge_table) {
    const mcase_t *c = &mcases[_i];
    ic_shadow_doc_t *doc = NULL;
    ic_shadow_out_t o;
    int rc;
    if (c->before)
        upd_ok(&doc, c->before, 100);
    rc = upd(&doc, c->patch, 200, &o);
    ck_assert_msg(rc == 0, "%s: rc %d %s", c->name, rc, o.rejected ? o.rejected : "");
    ic_shadow_out_free(&o);
    stored_is(doc, c->stored);
    ic_shadow_doc_free(doc);
}
END_TEST

/* ---- delta table ------------------------------------------------------ */

typedef struct dcase_s {
    const char *update; /* one update at t=100 on a new shadow */
    const char *delta;  /* expected delta document, NULL = none */
} dcase_t;

static const dcase_t dcases[] = {
    {"{'state':{'desired':{'a':1,'b':2},'reported':{'a':1}}}",
     "{'state':{'b':2},'metadata':{'b':{'timestamp':100}},'version':1,'timestamp':100}"},
    {"{'state':{'desired':{'a':1},'reported':{'a':1.0}}}", NULL},
    {"{'state':{'desired':{'a':100},'reported':{'a':1e2}}}", NULL},
    {"{'state':{'desired':{'lights':{'color':{'r':255,'g':255}}},"
     "'reported':{'lights':{'color':{'r':255,'g':0}}}}}",
     "{'state':{'lights':{'color':{'g':255}}},"
     "'metadata':{'lights':{'color':{'g':{'timestamp':100}}}},'version':1,'timestamp':100}"},
    {"{'state':{'desired':{'c':[255,255,0]},'reported':{'c':[255,0,0]}}}",
     "{'state':{'c':[255,255,0]},'metadata':{'c':[{'timestamp':100},{'timestamp':100},"
     "{'timestamp':100}]},'version':1,'timestamp':100}"},
    {"{'state':{'desired':{'c':[1,2]},'reported':{'c':[1,2]}}}", NULL},
    {"{'state':{'desired':{'c':[{'x':1,'y':2}]},'reported':{'c':[{'y':2,'x':1.0}]}}}", NULL},
    {"{'state':{'desired':{'a':1},'reported':{'a':1,'only':2}}}", NULL},
    {"{'state':{'desired':{'a':1,'o':{'p':'q'}}}}",
     "{'state':{'a':1,'o':{'p':'q'}},'metadata':{'a':{'timestamp':100},"
     "'o':{'p':{'timestamp':100}}},'version':1,'timestamp':100}"},
    {"{'state':{'desired':{'a':{'b':1}},'reported':{'a':1}}}",
     "{'state':{'a':{'b':1}},'metadata':{'a':{'b':{'timestamp':100}}},'version':1,"
     "'timestamp':100}"},
    {"{'state':{'desired':{'a':1},'reported':{'a':{'b':1}}}}",
     "{'state':{'a':1},'metadata':{'a':{'timestamp':100}},'version':1,'timestamp':100}"},
    {"{'state':{'desired':{'a':'1'},'reported':{'a':1}}}",
     "{'state':{'a':'1'},'metadata':{'a':{'timestamp':100}},'version':1,'timestamp':100}"},
    {"{'state':{'desired':{'a':{}},'reported':{'b':1}}}",
     "{'state':{'a':{}},'metadata':{'a':{}},'version':1,'timestamp':100}"},
    {"{'state':{'desired':{'a':{}},'reported':{'a':{'x':1}}}}", NULL},
    {"{'state':{'reported':{'a':1}}}", NULL},
    {"{'state':{'desired':{'a':true},'reported':{'a':false}},'clientToken':'t'}",
     "{'state':{'a':true},'metadata':{'a':{'timestamp':100}},'version':1,'timestamp':100,"
     "'clientToken':'t'}"},
};

START_TEST(delta_table) {
    const dcase_t *c = &dcases[_i];
    ic_shadow_doc_t *doc = NULL;
    ic_shadow_out_t o;
    ck_assert_int_eq(upd(&doc, c->update, 100, &o), 0);
    ck_json(o.delta, c->delta);
    ic_shadow_out_free(&o);
    /* get carries the same delta state */
    ck_assert_int_eq(ic_shadow_get(doc, "t", NULL, 0, 150, &o), 0);
    {
        cJSON *g = cJSON_Parse(o.accepted);
        cJSON *d = cJSON_GetObjectItem(cJSON_GetObjectItem(g, "state"), "delta");
        cJSON *exp = c->delta ? cJSON_Parse(q(c->delta)) : NULL;
        if (exp)
            ck_assert(cJSON_Compare(d, cJSON_GetObjectItem(exp, "state"), 1));
        else
            ck_assert_ptr_null(d);
        ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(g, "metadata"), "delta"));
        cJSON_Delete(g);
        cJSON_Delete(exp);
    }
    ic_shadow_out_free(&o);
    ic_shadow_doc_free(doc);
}
END_TEST

/* A reported-only update re-publishes an unchanged delta (resulting-shadow
 * rule); reported catching up ends it. */
START_TEST(delta_resulting_shadow) {
    ic_shadow_doc_t *doc = NULL;
    ic_shadow_out_t o;
    upd_ok(&doc, "{'state':{'desired':{'a':1,'b':2}}}", 100);
    ck_assert_int_eq(upd(&doc, "{'state':{'reported':{'c':3}}}", 200, &o), 0);
    ck_json(o.delta, "{'state':{'a':1,'b':2},'metadata':{'a':{'timestamp':100},"
                     "'b':{'timestamp':100}},'version':2,'timestamp':200}");
    ic_shadow_out_free(&o);
    ck_assert_int_eq(upd(&doc, "{'state':{'reported':{'a':1}}}", 300, &o), 0);
    ck_json(o.delta, "{'state':{'b':2},'metadata':{'b':{'timestamp':100}},'version':3,"
                     "'timestamp':300}");
    ic_shadow_out_free(&o);
    ck_assert_int_eq(upd(&doc, "{'state':{'reported':{'b':2.0}}}", 400, &o), 0);
    ck_assert_ptr_null(o.delta);
    ic_shadow_out_free(&o);
    ic_shadow_doc_free(doc);
}
END_TEST

/* ---- errors ----------------------------------------------------------- */

typedef struct ecase_s {
    const char *payload; /* single-quoted; raw bytes allowed */
    int rc;
    const char *rejected; /* expected document; T = 900 */
} ecase_t;

#define TOK65 "'12345678901234567890123456789012345678901234567890123456789012345'"
/* 5 container levels; inside a section's key that makes 6 */
#define DEEP5 "{'a':{'b':{'c':{'d':{'e':1}}}}}"

static const ecase_t ecases[] = {
    {"", IC_EINVAL, "{'code':400,'message':'Invalid JSON','timestamp':900}"},
    {"{", IC_EINVAL, "{'code':400,'message':'Invalid JSON','timestamp':900}"},
    {"{'state':{}} x", IC_EINVAL, "{'code':400,'message':'Invalid JSON','timestamp':900}"},
    {"{'state':{'reported':{'a':1,'a':2}}}", IC_EINVAL,
     "{'code':400,'message':'Invalid JSON','timestamp':900}"},
    {"{'state':{'reported':{'a':'x\ty'}}}", IC_EINVAL,
     "{'code':400,'message':'Invalid JSON','timestamp':900}"},
    {"{'state':{'reported':{'a':'x\\u0000y'}}}", IC_EINVAL,
     "{'code':400,'message':'Invalid JSON','timestamp':900}"},
    {"{'state':{'reported':{'a':1e999}}}", IC_EINVAL,
     "{'code':400,'message':'Invalid JSON','timestamp':900}"},
    {"\xff", IC_EINVAL,
     "{'code':415,'message':'Unsupported documented encoding; supported encoding is UTF-8',"
     "'timestamp':900}"},
    {"{'state':{'reported':{'a':'\xc3\x28'}},'clientToken':'t'}", IC_EINVAL,
     "{'code':415,'message':'Unsupported documented encoding; supported encoding is UTF-8',"
     "'timestamp':900}"},
    {"{'state':{'reported':{'a':'\xc0\xaf'}}}", IC_EINVAL,
     "{'code':415,'message':'Unsupported documented encoding; supported encoding is UTF-8',"
     "'timestamp':900}"},
    {"{'state':{'reported':{'a':'\xed\xa0\x80'}}}", IC_EINVAL,
     "{'code':415,'message':'Unsupported documented encoding; supported encoding is UTF-8',"
     "'timestamp':900}"},
    {"{'hello':'world'}", IC_EINVAL,
     "{'code':400,'message':'Missing required node: state','timestamp':900}"},
    {"{'clientToken':'t1'}", IC_EINVAL,
     "{'code':400,'message':'Missing required node: state','timestamp':900,'clientToken':'t1'}"},
    {"[1]", IC_EINVAL, "{'code':400,'message':'Missing required node: state','timestamp':900}"},
    {"{'state':5,'clientToken':'t'}", IC_EINVAL,
     "{'code':400,'message':'State node must be an object','timestamp':900,'clientToken':'t'}"},
    {"{'state':[],'clientToken':" TOK65 "}", IC_EINVAL,
     "{'code':400,'message':'State node must be an object','timestamp':900}"},
    {"{'state':{'desired':[1]}}", IC_EINVAL,
     "{'code':400,'message':'Desired node must be an object','timestamp':900}"},
    {"{'state':{'desired':'x','reported':1}}", IC_EINVAL,
     "{'code':400,'message':'Desired node must be an object','timestamp':900}"},
    {"{'state':{'reported':true},'clientToken':'t'}", IC_EINVAL,
     "{'code':400,'message':'Reported node must be an object','timestamp':900,"
     "'clientToken':'t'}"},
    {"{'state':{'reported':{}},'clientToken':" TOK65 "}", IC_EINVAL,
     "{'code':400,'message':'Invalid clientToken','timestamp':900}"},
    {"{'state':{'reported':{}},'clientToken':5,'version':'x'}", IC_EINVAL,
     "{'code':400,'message':'Invalid clientToken','timestamp':900}"},
    {"{'state':{'reported':{}},'clientToken':null}", IC_EINVAL,
     "{'code':400,'message':'Invalid clientToken','timestamp':900}"},
    {"{'state':{'reported':{}},'version':-1,'clientToken':'t'}", IC_EINVAL,
     "{'code':400,'message':'Invalid version','timestamp':900,'clientToken':'t'}"},
    {"{'state':{'reported':{}},'version':1.5}", IC_EINVAL,
     "{'code':400,'message':'Invalid version','timestamp':900}"},
    {"{'state':{'reported':{}},'version':'1'}", IC_EINVAL,
     "{'code':400,'message':'Invalid version','timestamp':900}"},
    {"{'state':{'reported':{'x':{'y':" DEEP5 "}}},'version':null}", IC_EINVAL,
     "{'code':400,'message':'Invalid version','timestamp':900}"},
    {"{'state':{'reported':{'x':{'y':" DEEP5 "}}},'clientToken':'t'}", IC_EINVAL,
     "{'code':400,'message':'JSON contains too many levels of nesting; maximum is 6',"
     "'timestamp':900,'clientToken':'t'}"},
    {"{'state':{'desired':{'x':[[[[[[1]]]]]]}}}", IC_EINVAL,
     "{'code':400,'message':'JSON contains too many levels of nesting; maximum is 6',"
     "'timestamp':900}"},
    {"{'state':{'desired':{'x':[null],'y':{'z':" DEEP5 "}}}}", IC_EINVAL,
     "{'code':400,'message':'JSON contains too many levels of nesting; maximum is 6',"
     "'timestamp':900}"},
    {"{'state':{'reported':{'x':[1,null]},'foo':1},'clientToken':'t'}", IC_EINVAL,
     "{'code':400,'message':'Invalid JSON','timestamp':900,'clientToken':'t'}"},
    {"{'state':{'reported':{'x':[{'a':null}]}}}", IC_EINVAL,
     "{'code':400,'message':'Invalid JSON','timestamp':900}"},
    {"{'state':{'reported':{'a':1},'foo':{}},'version':7}", IC_EINVAL,
     "{'code':400,'message':'State contains an invalid node','timestamp':900}"},
    {"{'state':{'metadata':{}}}", IC_EINVAL,
     "{'code':400,'message':'State contains an invalid node','timestamp':900}"},
    {"{'state':{'reported':{'a':2}},'version':7,'clientToken':'c'}", IC_ECONFLICT,
     "{'code':409,'message':'Version conflict','clientToken':'c'}"},
    {"{'state':{'reported':{'a':2}},'version':0}", IC_ECONFLICT,
     "{'code':409,'message':'Version conflict'}"},
};

/* Each case against an existing shadow (v1) and against no shadow; the
 * document must come out untouched. */
START_TEST(error_table) {
    const ecase_t *c = &ecases[_i];
    ic_shadow_doc_t *doc = NULL, *none = NULL;
    ic_shadow_out_t o;
    const char *p = q(c->payload);
    char *before, *after;
    int rc;

    upd_ok(&doc, "{'state':{'reported':{'a':1},'desired':{'a':0}}}", 100);
    before = ic_shadow_doc_to_json(doc);
    rc = upd_raw(&doc, 0, p, strlen(p), 900, &lim, &o);
    ck_assert_msg(rc == c->rc, "%s: rc %d", c->payload, rc);
    ck_json(o.rejected, c->rejected);
    {
        cJSON *r = cJSON_Parse(o.rejected);
        ck_assert_int_eq(o.code, cJSON_GetObjectItem(r, "code")->valueint);
        cJSON_Delete(r);
    }
    ck_assert_ptr_null(o.accepted);
    ck_assert_ptr_null(o.documents);
    ck_assert_ptr_null(o.delta);
    after = ic_shadow_doc_to_json(doc);
    ck_assert_str_eq(before, after);
    ic_shadow_out_free(&o);

    /* no shadow: the same answer except that a version check is 400 */
    rc = upd_raw(&none, 0, p, strlen(p), 900, &lim, &o);
    if (c->rc == IC_ECONFLICT) {
        ck_assert_int_eq(rc, IC_EINVAL);
        ck_assert_int_eq(o.code, 400);
    } else {
        ck_assert_int_eq(rc, c->rc);
        ck_json(o.rejected, c->rejected);
    }
    ck_assert_ptr_null(none);
    ic_shadow_out_free(&o);
    free(before);
    free(after);
    ic_shadow_doc_free(doc);
}
END_TEST

START_TEST(depth_rules) {
    ic_shadow_limits_t l2 = {8192, 2};
    ic_shadow_doc_t *doc = NULL;
    ic_shadow_out_t o;
    const char *p;
    /* exactly 6 container levels counting the section; empty containers and
     * scalars at level 7 do not count */
    upd_ok(&doc, "{'state':{'reported':{'x':" DEEP5 "}}}", 1);
    upd_ok(&doc, "{'state':{'reported':{'a':{'b':{'c':{'d':{'e':{'f':{}}}}}}}}}", 2);
    upd_ok(&doc, "{'state':{'desired':{'x':[[[[[]]]]]}}}", 3);
    upd_ok(&doc, "{'state':{'desired':{'x':[[[[1]]]]}}}", 4);
    ck_assert_int_eq(upd(&doc, "{'state':{'reported':{'a':{'b':{'c':{'d':{'e':{'f':{'g':1}}}}}}}}}",
                         5, &o), IC_EINVAL);
    ic_shadow_out_free(&o);
    /* configurable maximum and message */
    p = q("{'state':{'reported':{'a':{'b':1}}}}");
    ck_assert_int_eq(upd_raw(&doc, 0, p, strlen(p), 6, &l2, &o), 0);
    ic_shadow_out_free(&o);
    p = q("{'state':{'reported':{'a':{'b':{'c':1}}}}}");
    ck_assert_int_eq(upd_raw(&doc, 0, p, strlen(p), 7, &l2, &o), IC_EINVAL);
    ck_json(o.rejected, "{'code':400,'message':'JSON contains too many levels of nesting; "
                        "maximum is 2','timestamp':7}");
    ic_shadow_out_free(&o);
    ck_assert_int_eq((int)ic_shadow_doc_version(doc), 5);
    ic_shadow_doc_free(doc);
}
END_TEST

START_TEST(size_limit) {
    ic_shadow_limits_t small = {26, 6};
    ic_shadow_doc_t *doc = NULL;
    ic_shadow_out_t o;
    char *before, *after, *after2;
    const char *p;
    /* {"a":"123456789"} = 17 bytes; {"b":"1"} = 9 -> 26 is allowed */
    p = q("{'state':{'reported':{'a':'123456789'}}}");
    ck_assert_int_eq(upd_raw(&doc, 0, p, strlen(p), 1, &small, &o), 0);
    ic_shadow_out_free(&o);
    p = q("{'state':{'desired':{'b':'1'}}}");
    ck_assert_int_eq(upd_raw(&doc, 0, p, strlen(p), 2, &small, &o), 0);
    ic_shadow_out_free(&o);
    before = ic_shadow_doc_to_json(doc);
    /* a tiny request that makes the merged document too big */
    p = q("{'state':{'desired':{'c':1}},'clientToken':'z'}");
    ck_assert_int_eq(upd_raw(&doc, 0, p, strlen(p), 3, &small, &o), IC_ETOOBIG);
    ck_assert_int_eq(o.code, 413);
    ck_json(o.rejected, "{'code':413,'message':'The payload exceeds the maximum size allowed',"
                        "'timestamp':3,'clientToken':'z'}");
    ic_shadow_out_free(&o);
    after = ic_shadow_doc_to_json(doc);
    ck_assert_str_eq(before, after);
    /* a big request that shrinks the document is fine (nulls, metadata
     * not counted) */
    p = q("{'state':{'desired':{'b':null,'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx':null}}}");
    ck_assert_int_eq(upd_raw(&doc, 0, p, strlen(p), 4, &small, &o), 0);
    ic_shadow_out_free(&o);
    /* 409 is checked before 413 */
    p = q("{'state':{'desired':{'c':'0123456789012345678901234567890'}},'version':1}");
    ck_assert_int_eq(upd_raw(&doc, 0, p, strlen(p), 5, &small, &o), IC_ECONFLICT);
    ic_shadow_out_free(&o);
    /* the default limit: 8192 bytes of desired + reported */
    {
        char *big = malloc(20000);
        ic_shadow_doc_t *d2 = NULL;
        int n = sprintf(big, "{\"state\":{\"reported\":{\"s\":\"");
        memset(big + n, 'x', 8192 - 8);
        strcpy(big + n + 8192 - 8, "\"}}}"); /* {"s":"..."} = 8192 bytes */
        ck_assert_int_eq(upd_raw(&d2, 0, big, strlen(big), 1, &lim, &o), 0);
        ic_shadow_out_free(&o);
        ic_shadow_doc_free(d2);
        d2 = NULL;
        n = sprintf(big, "{\"state\":{\"reported\":{\"s\":\"");
        memset(big + n, 'x', 8192 - 7);
        strcpy(big + n + 8192 - 7, "\"}}}");
        ck_assert_int_eq(upd_raw(&d2, 0, big, strlen(big), 1, &lim, &o), IC_ETOOBIG);
        ck_assert_ptr_null(d2);
        ic_shadow_out_free(&o);
        /* thousands of keys: rejected by the size bound before merging */
        after2 = ic_shadow_doc_to_json(doc);
        n = sprintf(big, "{\"state\":{\"reported\":{\"o\":{");
        for (int i = 0; i < 1200; i++)
            n += sprintf(big + n, "%s\"k%d\":1", i ? "," : "", i);
        strcpy(big + n, "}}},\"clientToken\":\"b\"}");
        ck_assert_uint_lt(strlen(big), 20000);
        ck_assert_int_eq(upd_raw(&doc, 0, big, strlen(big), 6, &lim, &o), IC_ETOOBIG);
        ck_json(o.rejected, "{'code':413,'message':'The payload exceeds the maximum size "
                            "allowed','timestamp':6,'clientToken':'b'}");
        ic_shadow_out_free(&o);
        free(big);
    }
    {
        char *now = ic_shadow_doc_to_json(doc);
        ck_assert_str_eq(after2, now);
        free(now);
    }
    free(after2);
    free(before);
    free(after);
    ic_shadow_doc_free(doc);
}
END_TEST

START_TEST(versions) {
    ic_shadow_doc_t *doc = NULL;
    ic_shadow_out_t o;
    const char *p;
    /* a new shadow after a deletion continues the version */
    p = q("{'state':{'reported':{'a':1}},'version':8}");
    ck_assert_int_eq(upd_raw(&doc, 7, p, strlen(p), 1, &lim, &o), 0);
    ck_assert_int_eq((int)ic_shadow_doc_version(doc), 8);
    ic_shadow_out_free(&o);
    ic_shadow_doc_free(doc);
    doc = NULL;
    p = q("{'state':{'reported':{'a':1}},'version':7}");
    ck_assert_int_eq(upd_raw(&doc, 7, p, strlen(p), 1, &lim, &o), IC_EINVAL);
    ck_json(o.rejected, "{'code':400,'message':'Invalid version','timestamp':1}");
    ck_assert_ptr_null(doc);
    ic_shadow_out_free(&o);
    /* optimistic locking on an existing shadow */
    upd_ok(&doc, "{'state':{'reported':{'a':1}}}", 1);
    upd_ok(&doc, "{'state':{'reported':{'a':2}},'version':1}", 2);
    upd_ok(&doc, "{'state':{'reported':{'a':2}},'version':2.0}", 3);
    ck_assert_int_eq(upd(&doc, "{'state':{'reported':{'a':3}},'version':2}", 4, &o),
                     IC_ECONFLICT);
    ck_assert_str_eq(o.rejected, "{\"code\":409,\"message\":\"Version conflict\"}");
    ic_shadow_out_free(&o);
    ck_assert_int_eq((int)ic_shadow_doc_version(doc), 3);
    ic_shadow_doc_free(doc);
}
END_TEST

/* ---- response documents ----------------------------------------------- */

START_TEST(accepted_documents) {
    ic_shadow_doc_t *doc = NULL;
    ic_shadow_out_t o;
    /* DG-2019: state echoed verbatim with its nulls; metadata mirrors it */
    upd_ok(&doc, "{'state':{'desired':{'color':'red','x':{'y':1}}}}", 10);
    ck_assert_int_eq(upd(&doc, "{'state':{'reported':{'color':'green','gone':null,"
                               "'o':{'k':null,'l':[1,{'m':2}]}},'desired':null},"
                               "'clientToken':'ct'}", 20, &o), 0);
    ck_json(o.accepted,
            "{'state':{'reported':{'color':'green','gone':null,'o':{'k':null,'l':[1,{'m':2}]}},"
            "'desired':null},'metadata':{'reported':{'color':{'timestamp':20},"
            "'gone':{'timestamp':20},'o':{'k':{'timestamp':20},'l':[{'timestamp':20},"
            "{'m':{'timestamp':20}}]}},'desired':{'timestamp':20}},'version':2,'timestamp':20,"
            "'clientToken':'ct'}");
    ck_json(o.documents,
            "{'previous':{'state':{'desired':{'color':'red','x':{'y':1}}},'metadata':{'desired':"
            "{'color':{'timestamp':10},'x':{'y':{'timestamp':10}}}},'version':1},"
            "'current':{'state':{'reported':{'color':'green','o':{'l':[1,{'m':2}]}}},"
            "'metadata':{'reported':{'color':{'timestamp':20},'o':{'l':[{'timestamp':20},"
            "{'m':{'timestamp':20}}]}}},'version':2},'timestamp':20,'clientToken':'ct'}");
    ck_assert_ptr_null(o.delta);
    ic_shadow_out_free(&o);
    /* empty state: accepted with state {} and metadata {} */
    ck_assert_int_eq(upd(&doc, "{'state':{}}", 30, &o), 0);
    ck_json(o.accepted, "{'state':{},'metadata':{},'version':3,'timestamp':30}");
    ic_shadow_out_free(&o);
    /* state null: echoed, both sections gone */
    ck_assert_int_eq(upd(&doc, "{'state':null}", 40, &o), 0);
    ck_json(o.accepted, "{'state':null,'metadata':{'timestamp':40},'version':4,'timestamp':40}");
    ck_json(o.documents, "{'previous':{'state':{'reported':{'color':'green','o':{'l':[1,{'m':2}]}}},"
                         "'metadata':{'reported':{'color':{'timestamp':20},'o':{'l':[{'timestamp':20},"
                         "{'m':{'timestamp':20}}]}}},'version':3},"
                         "'current':{'state':{},'metadata':{},'version':4},'timestamp':40}");
    ic_shadow_out_free(&o);
    ck_assert_int_eq(ic_shadow_get(doc, "x", NULL, 0, 50, &o), 0);
    ck_json(o.accepted, "{'state':{},'metadata':{},'version':4,'timestamp':50}");
    ic_shadow_out_free(&o);
    /* the delta key is dropped from the echo too */
    ck_assert_int_eq(upd(&doc, "{'state':{'delta':{'a':1}}}", 60, &o), 0);
    ck_json(o.accepted, "{'state':{},'metadata':{},'version':5,'timestamp':60}");
    ic_shadow_out_free(&o);
    ic_shadow_doc_free(doc);
}
END_TEST

/* The tutorial's delta (using-device-shadows.md), checked byte for byte for
 * integer printing. */
START_TEST(tutorial_delta_numbers) {
    ic_shadow_doc_t *doc = NULL;
    ic_shadow_out_t o;
    upd_ok(&doc, "{'state':{'reported':{'ColorRGB':[255,0,0]}}}", 1591141000);
    upd_ok(&doc, "{'state':{'reported':{'ColorRGB':[255,0,0]}}}", 1591141100);
    upd_ok(&doc, "{'state':{'reported':{'ColorRGB':[255,0,0]}}}", 1591141200);
    ck_assert_int_eq(upd(&doc, "{'state':{'desired':{'ColorRGB':[255,255,0]}},"
                               "'clientToken':'21b21b21-bfd2-4279-8c65-e2f697ff4fab'}",
                         1591141596, &o), 0);
    ck_assert_str_eq(o.delta,
                     "{\"version\":4,\"timestamp\":1591141596,\"state\":{\"ColorRGB\":"
                     "[255,255,0]},\"metadata\":{\"ColorRGB\":[{\"timestamp\":1591141596},"
                     "{\"timestamp\":1591141596},{\"timestamp\":1591141596}]},"
                     "\"clientToken\":\"21b21b21-bfd2-4279-8c65-e2f697ff4fab\"}");
    ic_shadow_out_free(&o);
    ck_assert_int_eq(upd(&doc, "{'state':{'reported':{'i':12345678901234,'f':0.1,'e':1e3,"
                               "'n':-2.5e-7,'z':-0,'s':'q\\\"b\\\\\\n\\u00e9\\u0001'}}}",
                         5000000000, &o), 0);
    ck_assert_ptr_nonnull(strstr(o.accepted, "\"i\":12345678901234,\"f\":0.1,\"e\":1000,"
                                             "\"n\":-2.5e-07,\"z\":0,"
                                             "\"s\":\"q\\\"b\\\\\\n\xc3\xa9\\u0001\""));
    ck_assert_ptr_nonnull(strstr(o.accepted, "\"timestamp\":5000000000"));
    ic_shadow_out_free(&o);
    ic_shadow_doc_free(doc);
}
END_TEST

START_TEST(get_and_delete) {
    ic_shadow_doc_t *doc = NULL;
    ic_shadow_out_t o;
    int64_t dv = -1;
    const char *junk = "payload is ignored";
    const char *tok = "{\"clientToken\":\"abc\",\"other\":1}";
    const char *longtok = q("{'clientToken':" TOK65 "}");

    /* OBS-JL: 404 without a token has neither timestamp nor clientToken */
    ck_assert_int_eq(ic_shadow_get(NULL, "MyThing", NULL, 0, 1, &o), IC_ENOTFOUND);
    ck_assert_str_eq(o.rejected,
                     "{\"code\":404,\"message\":\"No shadow exists with name: 'MyThing'\"}");
    ic_shadow_out_free(&o);
    ck_assert_int_eq(ic_shadow_delete(&doc, "T~S", (const uint8_t *)tok, strlen(tok), 1,
                                      &o, &dv), IC_ENOTFOUND);
    ck_assert_str_eq(o.rejected, "{\"code\":404,\"message\":\"No shadow exists with name: "
                                 "'T~S'\",\"clientToken\":\"abc\"}");
    ck_assert_int_eq((int)dv, -1);
    ic_shadow_out_free(&o);

    upd_ok(&doc, "{'state':{'reported':{'a':1}}}", 10);
    upd_ok(&doc, "{'state':{'desired':{'a':2}}}", 20);
    /* other payloads are ignored */
    ck_assert_int_eq(ic_shadow_get(doc, "x", (const uint8_t *)junk, strlen(junk), 30, &o), 0);
    ck_json(o.accepted, "{'state':{'desired':{'a':2},'reported':{'a':1},'delta':{'a':2}},"
                        "'metadata':{'desired':{'a':{'timestamp':20}},"
                        "'reported':{'a':{'timestamp':10}}},'version':2,'timestamp':30}");
    ic_shadow_out_free(&o);
    ck_assert_int_eq(ic_shadow_get(doc, "x", (const uint8_t *)"\xff", 1, 30, &o), 0);
    ck_assert_ptr_null(strstr(o.accepted, "clientToken"));
    ic_shadow_out_free(&o);
    ck_assert_int_eq(ic_shadow_get(doc, "x", (const uint8_t *)longtok, strlen(longtok), 30,
                                   &o), 0);
    ck_assert_ptr_null(strstr(o.accepted, "clientToken"));
    ic_shadow_out_free(&o);
    ck_assert_int_eq(ic_shadow_get(doc, "x", (const uint8_t *)tok, strlen(tok), 31, &o), 0);
    ck_json(o.accepted, "{'state':{'desired':{'a':2},'reported':{'a':1},'delta':{'a':2}},"
                        "'metadata':{'desired':{'a':{'timestamp':20}},"
                        "'reported':{'a':{'timestamp':10}}},'version':2,'timestamp':31,"
                        "'clientToken':'abc'}");
    ck_assert_int_eq(o.code, 200);
    ic_shadow_out_free(&o);

    ck_assert_int_eq(ic_shadow_delete(&doc, "x", (const uint8_t *)tok, strlen(tok), 40, &o,
                                      &dv), 0);
    ck_assert_str_eq(o.accepted, "{\"version\":2,\"timestamp\":40,\"clientToken\":\"abc\"}");
    ck_assert_ptr_null(doc);
    ck_assert_int_eq((int)dv, 2);
    ic_shadow_out_free(&o);
    ck_assert_int_eq(ic_shadow_delete(&doc, "x", NULL, 0, 41, &o, &dv), IC_ENOTFOUND);
    ic_shadow_out_free(&o);
}
END_TEST

/* ---- storage ---------------------------------------------------------- */

START_TEST(storage_round_trip) {
    ic_shadow_doc_t *doc = NULL, *back;
    char *s1, *s2;
    upd_ok(&doc, "{'state':{'desired':{'a':[1,{'b':0.1}],'c':'\\u00e9\\n'},"
                 "'reported':{'i':1591141596,'f':3.14159,'big':9007199254740991,"
                 "'neg':-1e-300,'t':true,'o':{}}}}", 1700000000);
    upd_ok(&doc, "{'state':{'reported':{'t':false}}}", 1700000001);
    s1 = ic_shadow_doc_to_json(doc);
    ck_assert_ptr_nonnull(strstr(s1, "\"version\":2"));
    ck_assert_ptr_nonnull(strstr(s1, "\"big\":9007199254740991"));
    back = ic_shadow_doc_from_json(s1);
    ck_assert_ptr_nonnull(back);
    s2 = ic_shadow_doc_to_json(back);
    ck_assert_str_eq(s1, s2);
    ck_assert_int_eq((int)ic_shadow_doc_version(back), 2);
    free(s2);
    /* a restored document keeps working: timestamps preserved */
    upd_ok(&back, "{'state':{'reported':{'f':1}}}", 1700000002);
    stored_is(back, "{'state':{'desired':{'a':[1,{'b':0.1}],'c':'\\u00e9\\n'},"
                    "'reported':{'i':1591141596,'f':1,'big':9007199254740991,"
                    "'neg':-1e-300,'t':false,'o':{}}},"
                    "'metadata':{'desired':{'a':[{'timestamp':1700000000},{'b':{'timestamp':"
                    "1700000000}}],'c':{'timestamp':1700000000}},'reported':{'i':{'timestamp':"
                    "1700000000},'f':{'timestamp':1700000002},'big':{'timestamp':1700000000},"
                    "'neg':{'timestamp':1700000000},'t':{'timestamp':1700000001},'o':{}}},"
                    "'version':3}");
    free(s1);
    ic_shadow_doc_free(back);
    ic_shadow_doc_free(doc);

    /* an empty (state-null) shadow round-trips too */
    doc = NULL;
    upd_ok(&doc, "{'state':null}", 5);
    s1 = ic_shadow_doc_to_json(doc);
    ck_assert_str_eq(s1, "{\"state\":{},\"metadata\":{},\"version\":1}");
    back = ic_shadow_doc_from_json(s1);
    ck_assert_ptr_nonnull(back);
    free(s1);
    ic_shadow_doc_free(back);
    ic_shadow_doc_free(doc);
}
END_TEST

static const char *const bad_stored[] = {
    "",
    "{",
    "[]",
    "{\"state\":{},\"metadata\":{}}",
    "{\"state\":{},\"metadata\":{},\"version\":0}",
    "{\"state\":{},\"metadata\":{},\"version\":1.5}",
    "{\"state\":{},\"version\":1}",
    "{\"state\":{\"desired\":{\"a\":1}},\"metadata\":{},\"version\":1}",
    "{\"state\":{\"desired\":{}},\"metadata\":{\"desired\":{}},\"version\":1}",
    "{\"state\":{\"reported\":5},\"metadata\":{\"reported\":{}},\"version\":1}",
};

START_TEST(storage_rejects) {
    ck_assert_ptr_null(ic_shadow_doc_from_json(bad_stored[_i]));
}
END_TEST

START_TEST(null_safe) {
    ic_shadow_out_t o = {0};
    ic_shadow_doc_free(NULL);
    ic_shadow_out_free(NULL);
    ic_shadow_out_free(&o);
    ck_assert_ptr_null(ic_shadow_doc_from_json(NULL));
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *ic_shadow_doc_suite(void) {
    Suite *s = suite_create("shadow_doc");
    TCase *tc = tcase_create("update");
    tcase_add_test(tc, walkthrough_1_11);
    tcase_add_loop_test(tc, merge_table, 0, N(mcases));
    tcase_add_loop_test(tc, delta_table, 0, N(dcases));
    tcase_add_test(tc, delta_resulting_shadow);
    tcase_add_loop_test(tc, error_table, 0, N(ecases));
    tcase_add_test(tc, depth_rules);
    tcase_add_test(tc, size_limit);
    tcase_add_test(tc, versions);
    tcase_add_test(tc, accepted_documents);
    tcase_add_test(tc, tutorial_delta_numbers);
    suite_add_tcase(s, tc);
    tc = tcase_create("get_delete_storage");
    tcase_add_test(tc, get_and_delete);
    tcase_add_test(tc, storage_round_trip);
    tcase_add_loop_test(tc, storage_rejects, 0, N(bad_stored));
    tcase_add_test(tc, null_safe);
    suite_add_tcase(s, tc);
    return s;
}
