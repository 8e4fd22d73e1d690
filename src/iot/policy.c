/* policy.c - the IoT policy engine: compile a policy document once, then
 * decide (action, resource, context) against compiled documents (pure, L1;
 * aws-iot-auth.md sections 0-3, IAM's policy grammar and condition operators).
 *
 * Single job: turn policy JSON into a compiled form and evaluate it. It owns
 * that compiled form and nothing else: the cJSON tree lives only inside
 * ic_policy_compile. It must not do I/O, read the clock, keep state between
 * calls or know where context values come from; it asks the caller's
 * callback. Evaluation allocates nothing: substituted patterns go into
 * fixed stack buffers, and an entry whose substitution would not fit
 * matches nothing. Any thread, no loop.
 *
 * Compiled pattern text ("encoded"): literal bytes stand for themselves;
 * ESC (0x01) introduces a token so that literal `*`, `?` and ESC can never
 * be confused with wildcards (substituted values and `${*}` are literal):
 *
 *     ESC '*'  any run of characters (including '/' and ':')
 *     ESC '?'  exactly one (UTF-8) character
 *     ESC ESC  a literal 0x01 byte
 *     ESC 'v'  the next variable of pat_t.vars (only before substitution)
 *
 *   doc -> stmt[] -> { actions: pat[], resources: pat[], conds: cond[] }
 *                      cond = { operator, set qualifier, key, values: pat[] }
 */
#include "iotcored/policy.h"

#include "iotcored/alloc.h"
#include "iotcored/str.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ESC '\x01'
#define MAX_VALUES 16      /* values asked of the callback per key */
#define CERT_MAX_VALUES 5  /* AWS: certificate arrays truncated to 5 */
#define CERT_MAX_LEN 1024  /* AWS: longer certificate values not substituted */
#define SUB_MAX 4096       /* bytes of one substituted pattern, encoded */
#define PATH_MAX_LEN 256   /* JSON path in compile messages (truncated) */

#define IDX_FIRST (-1) /* plain variable: the first value */
#define IDX_LIST (-2)  /* `.List`: every value (condition keys only) */

static const char malformed[] = "Policy document is malformed: ";

/* A variable reference `${name}` or a condition key. */
typedef struct pvar_s {
    char *key;     /* asked of the callback: alias and .List/.N resolved */
    char *name;    /* as written in the policy, for why->unresolved */
    char *dflt;    /* `${name, 'default'}` text, NULL if none */
    int index;     /* IDX_FIRST, IDX_LIST or N >= 0 (`.N`, certificate) */
    bool is_cert;  /* iot:Certificate.*: AWS's certificate-value rules */
} pvar_t;

typedef struct pat_s {
    char *text;    /* encoded (see the header), NUL-terminated */
    pvar_t *vars;  /* one per ESC 'v' in text, in order */
    size_t n_vars;
} pat_t;

typedef struct pats_s {
    pat_t *v;
    size_t n;
} pats_t;

typedef enum {
    OP_STR, OP_STR_IC, OP_LIKE, OP_NUM, OP_DATE, OP_BOOL, OP_BIN, OP_IP,
    OP_ARN, OP_NULL
} op_t;

typedef enum { CMP_EQ, CMP_LT, CMP_LE, CMP_GT, CMP_GE } cmp_t;

typedef enum { SET_ONE, SET_ANY, SET_ALL } set_t;

static const struct {
    const char *name;
    op_t op;
    cmp_t cmp;
    bool negate;
} ops[] = {
    {"StringEquals", OP_STR, CMP_EQ, false},
    {"StringNotEquals", OP_STR, CMP_EQ, true},
    {"StringEqualsIgnoreCase", OP_STR_IC, CMP_EQ, false},
    {"StringNotEqualsIgnoreCase", OP_STR_IC, CMP_EQ, true},
    {"StringLike", OP_LIKE, CMP_EQ, false},
    {"StringNotLike", OP_LIKE, CMP_EQ, true},
    {"NumericEquals", OP_NUM, CMP_EQ, false},
    {"NumericNotEquals", OP_NUM, CMP_EQ, true},
    {"NumericLessThan", OP_NUM, CMP_LT, false},
    {"NumericLessThanEquals", OP_NUM, CMP_LE, false},
    {"NumericGreaterThan", OP_NUM, CMP_GT, false},
    {"NumericGreaterThanEquals", OP_NUM, CMP_GE, false},
    {"DateEquals", OP_DATE, CMP_EQ, false},
    {"DateNotEquals", OP_DATE, CMP_EQ, true},
    {"DateLessThan", OP_DATE, CMP_LT, false},
    {"DateLessThanEquals", OP_DATE, CMP_LE, false},
    {"DateGreaterThan", OP_DATE, CMP_GT, false},
    {"DateGreaterThanEquals", OP_DATE, CMP_GE, false},
    {"Bool", OP_BOOL, CMP_EQ, false},
    {"BinaryEquals", OP_BIN, CMP_EQ, false},
    {"IpAddress", OP_IP, CMP_EQ, false},
    {"NotIpAddress", OP_IP, CMP_EQ, true},
    /* IAM: ArnEquals and ArnLike both take wildcards */
    {"ArnEquals", OP_ARN, CMP_EQ, false},
    {"ArnNotEquals", OP_ARN, CMP_EQ, true},
    {"ArnLike", OP_ARN, CMP_EQ, false},
    {"ArnNotLike", OP_ARN, CMP_EQ, true},
    {"Null", OP_NULL, CMP_EQ, false},
};

typedef struct cond_s {
    op_t op;
    cmp_t cmp;       /* Numeric*, Date* */
    set_t set;       /* ForAnyValue: / ForAllValues: */
    bool negate;     /* Not* operators: holds when no policy value matches */
    bool if_exists;  /* ...IfExists: a missing key makes it hold */
    pvar_t key;
    pats_t values;   /* may be empty (ForAllValues:StringEquals []) */
} cond_t;

typedef struct stmt_s {
    bool is_deny;
    bool is_not_action;
    bool is_not_resource;
    char *sid;       /* "" if none */
    pats_t actions;  /* glob, matched case-insensitively, no variables */
    pats_t resources;
    cond_t *conds;   /* ANDed */
    size_t n_conds;
} stmt_t;

struct ic_policy_doc_s {
    stmt_t *st;
    size_t n;
    bool has_vars;      /* Version "2012-10-17": ${...} are variables */
    bool is_contextual; /* some variable or condition */
};

const char *ic_authz_name(ic_authz_t a) {
    switch (a) {
    case IC_AUTHZ_ALLOWED:
        return "ALLOWED";
    case IC_AUTHZ_EXPLICIT_DENY:
        return "EXPLICIT_DENY";
    case IC_AUTHZ_IMPLICIT_DENY:
        return "IMPLICIT_DENY";
    }
    return "IMPLICIT_DENY";
}

static char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---- freeing ---------------------------------------------------------------------- */

static void pvar_fini(pvar_t *v) {
    free(v->key);
    free(v->name);
    free(v->dflt);
}

static void pats_fini(pats_t *p) {
    size_t i, j;
    for (i = 0; i < p->n; i++) {
        for (j = 0; j < p->v[i].n_vars; j++)
            pvar_fini(&p->v[i].vars[j]);
        free(p->v[i].vars);
        free(p->v[i].text);
    }
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

void ic_policy_doc_free(ic_policy_doc_t *d) {
    size_t i, j;
    if (d == NULL)
        return;
    for (i = 0; i < d->n; i++) {
        stmt_t *s = &d->st[i];
        pats_fini(&s->actions);
        pats_fini(&s->resources);
        for (j = 0; j < s->n_conds; j++) {
            pvar_fini(&s->conds[j].key);
            pats_fini(&s->conds[j].values);
        }
        free(s->conds);
        free(s->sid);
    }
    free(d->st);
    free(d);
}

/* ---- compiling patterns ------------------------------------------------------------ */

enum {
    PM_GLOB = 1, /* `*` and `?` are wildcards */
    PM_VARS = 2, /* `${...}` are variables (Version 2012-10-17) */
    PM_DN = 4,   /* RFC 4514 backslash escapes stand for the character */
};

/* Fill v for the variable or key name[0..len) as written. */
static void pvar_init(pvar_t *v, const char *name, size_t len) {
    static const char cert[] = "iot:Certificate.";
    size_t klen = len;
    memset(v, 0, sizeof(*v));
    v->name = ic_xstrndup(name, len);
    v->index = IDX_FIRST;
    /* spec 2.2 [REC]: iot:Thing.ThingName is an alias */
    if (strcasecmp(v->name, "iot:Thing.ThingName") == 0) {
        v->key = ic_xstrdup("iot:Connection.Thing.ThingName");
        return;
    }
    v->is_cert = len > sizeof(cert) - 1 &&
                 strncasecmp(v->name, cert, sizeof(cert) - 1) == 0;
    if (v->is_cert) {
        /* AWS: `.List` all values, `.N` values[N] (`.1` is the second) */
        const char *dot = strrchr(v->name, '.');
        const char *sfx = dot + 1;
        size_t sl = strlen(sfx), i;
        if (strcasecmp(sfx, "List") == 0) {
            v->index = IDX_LIST;
            klen = (size_t)(dot - v->name);
        } else if (sl > 0 && sl <= 4 && strspn(sfx, "0123456789") == sl) {
            for (i = 0, v->index = 0; i < sl; i++)
                v->index = v->index * 10 + (sfx[i] - '0');
            klen = (size_t)(dot - v->name);
        }
    }
    v->key = ic_xstrndup(v->name, klen);
}

/* Parse the variable after "${" at s. Returns the bytes consumed through
 * the closing brace, or 0 if s is not a variable (then `${` is text). */
static size_t parse_var(const char *s, pvar_t *v) {
    size_t i = 0, n0, n1, d0 = 0, d1 = 0, end;
    int depth = 0;
    /* Attributes[...] names may contain ',' */
    while (s[i] && s[i] != '}' && !(s[i] == ',' && depth == 0)) {
        if (s[i] == '[')
            depth++;
        else if (s[i] == ']' && depth > 0)
            depth--;
        i++;
    }
    if (s[i] == '\0')
        return 0;
    for (n0 = 0; n0 < i && s[n0] == ' '; n0++)
        ;
    for (n1 = i; n1 > n0 && s[n1 - 1] == ' '; n1--)
        ;
    if (n1 == n0)
        return 0;
    end = i + 1;
    if (s[i] == ',') { /* IAM: ${name, 'default'} */
        const char *q;
        size_t j = i + 1;
        while (s[j] == ' ')
            j++;
        if (s[j] != '\'' || (q = strchr(s + j + 1, '\'')) == NULL)
            return 0;
        d0 = j + 1;
        d1 = (size_t)(q - s);
        for (j = d1 + 1; s[j] == ' '; j++)
            ;
        if (s[j] != '}')
            return 0;
        end = j + 1;
    }
    pvar_init(v, s + n0, n1 - n0);
    if (s[i] == ',')
        v->dflt = ic_xstrndup(s + d0, d1 - d0);
    return end;
}

/* Compile policy text s into pt under mode (PM_*). */
static void pat_compile(pat_t *pt, const char *s, unsigned mode) {
    size_t len = strlen(s), o = 0, cap_vars = 0;
    char *out = ic_xmalloc(2 * len + 1); /* every byte becomes at most two */
    memset(pt, 0, sizeof(*pt));
    while (*s) {
        char c = *s;
        if ((mode & PM_VARS) && s[0] == '$' && s[1] == '{') {
            pvar_t v;
            size_t used;
            /* IAM: ${*} ${?} ${$} are the literal characters */
            if ((s[2] == '*' || s[2] == '?' || s[2] == '$') && s[3] == '}') {
                out[o++] = s[2];
                s += 4;
                continue;
            }
            if ((used = parse_var(s + 2, &v)) > 0) {
                if (pt->n_vars == cap_vars) {
                    cap_vars = cap_vars ? 2 * cap_vars : 2;
                    pt->vars = ic_xrealloc(pt->vars, cap_vars * sizeof(*pt->vars));
                }
                pt->vars[pt->n_vars++] = v;
                out[o++] = ESC;
                out[o++] = 'v';
                s += 2 + used;
                continue;
            }
        }
        if ((mode & PM_DN) && c == '\\' && s[1]) {
            int h = ic_hexval(s[1]), l = h >= 0 ? ic_hexval(s[2]) : -1;
            if (strchr(",\"\\+=<>;# ", s[1]) != NULL) {
                c = s[1];
                s++;
            } else if (h >= 0 && l >= 0 && (h || l)) {
                c = (char)(h << 4 | l);
                s += 2;
            }
            if (c == ESC)
                out[o++] = ESC;
            out[o++] = c;
            s++;
            continue;
        }
        if ((mode & PM_GLOB) && (c == '*' || c == '?'))
            out[o++] = ESC;
        else if (c == ESC)
            out[o++] = ESC;
        out[o++] = c;
        s++;
    }
    out[o] = '\0';
    pt->text = out;
}

/* ---- compiling documents ----------------------------------------------------------- */

typedef struct cs_s {
    char *why;
    size_t whylen;
    ic_policy_doc_t *d;
} cs_t;

static int fail(cs_t *cs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write the MalformedPolicyException-style message; returns -1. */
static int fail(cs_t *cs, const char *fmt, ...) {
    va_list ap;
    size_t n;
    if (cs->why == NULL || cs->whylen == 0)
        return -1;
    n = ic_strlcpy(cs->why, malformed, cs->whylen);
    if (n < cs->whylen) {
        va_start(ap, fmt);
        vsnprintf(cs->why + n, cs->whylen - n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *scalar_text(const cJSON *it, char *buf, size_t cap) {
    if (cJSON_IsString(it))
        return it->valuestring;
    if (cJSON_IsBool(it))
        return cJSON_IsTrue(it) ? "true" : "false";
    if (cJSON_IsNumber(it)) {
        /* the shortest form that reads back the same */
        snprintf(buf, cap, "%.15g", it->valuedouble);
        if (strtod(buf, NULL) != it->valuedouble)
            snprintf(buf, cap, "%.17g", it->valuedouble);
        return buf;
    }
    return NULL;
}

/* A string or an array of strings (is_cond: of strings, booleans and
 * numbers, possibly empty) at path into out. */
static int load_pats(cs_t *cs, const cJSON *v, const char *path, unsigned mode,
                     bool is_cond, pats_t *out) {
    const cJSON *it;
    size_t n, i = 0;
    char buf[64];
    const char *what = is_cond ? "a string, number or boolean"
                               : "a string";
    if (cJSON_IsArray(v)) {
        n = (size_t)cJSON_GetArraySize(v);
        if (n == 0 && !is_cond)
            return fail(cs, "%s must be a string or a non-empty array of strings",
                        path);
    } else if (cJSON_IsString(v) ||
               (is_cond && (cJSON_IsBool(v) || cJSON_IsNumber(v)))) {
        n = 1;
    } else {
        return is_cond ? fail(cs, "%s must be a string, number, boolean or an "
                                  "array of them", path)
                       : fail(cs, "%s must be a string or a non-empty array of "
                                  "strings", path);
    }
    out->v = ic_xcalloc(n ? n : 1, sizeof(*out->v));
    out->n = 0;
    it = cJSON_IsArray(v) ? v->child : v;
    for (; i < n && it; i++, it = it->next) {
        const char *s = scalar_text(it, buf, sizeof(buf));
        if (s == NULL || (!is_cond && !cJSON_IsString(it)))
            return fail(cs, "%s[%zu] must be %s", path, i, what);
        pat_compile(&out->v[out->n], s, mode);
        if (out->v[out->n].n_vars > 0)
            cs->d->is_contextual = true;
        out->n++;
    }
    return 0;
}

/* Operator name -> c; -1 if unknown. Names are matched case-insensitively. */
static int parse_op(const char *name, cond_t *c) {
    size_t n, i, blen;
    c->set = SET_ONE;
    if (strncasecmp(name, "ForAnyValue:", 12) == 0) {
        c->set = SET_ANY;
        name += 12;
    } else if (strncasecmp(name, "ForAllValues:", 13) == 0) {
        c->set = SET_ALL;
        name += 13;
    }
    n = blen = strlen(name);
    c->if_exists = n > 8 && strcasecmp(name + n - 8, "IfExists") == 0;
    if (c->if_exists)
        blen = n - 8;
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strlen(ops[i].name) == blen && strncasecmp(ops[i].name, name, blen) == 0) {
            c->op = ops[i].op;
            c->cmp = ops[i].cmp;
            c->negate = ops[i].negate;
            /* IAM: IfExists can be added to any operator except Null */
            return c->op == OP_NULL && c->if_exists ? -1 : 0;
        }
    return -1;
}

static int load_conditions(cs_t *cs, stmt_t *st, const cJSON *cond,
                           const char *spath) {
    const cJSON *o, *k;
    size_t n = 0;
    char path[PATH_MAX_LEN], kpath[PATH_MAX_LEN];
    if (!cJSON_IsObject(cond))
        return fail(cs, "%s.Condition must be an object", spath);
    cJSON_ArrayForEach(o, cond) {
        cond_t proto;
        snprintf(path, sizeof(path), "%s.Condition.%s", spath, o->string);
        memset(&proto, 0, sizeof(proto));
        if (parse_op(o->string, &proto) != 0)
            return fail(cs, "%s is not a valid condition operator", path);
        if (!cJSON_IsObject(o))
            return fail(cs, "%s must be an object", path);
        n += (size_t)cJSON_GetArraySize(o);
    }
    st->conds = ic_xcalloc(n ? n : 1, sizeof(*st->conds));
    cJSON_ArrayForEach(o, cond) {
        cond_t proto;
        unsigned mode;
        memset(&proto, 0, sizeof(proto));
        parse_op(o->string, &proto);
        mode = cs->d->has_vars ? PM_VARS : 0;
        if (proto.op == OP_LIKE || proto.op == OP_ARN)
            mode |= PM_GLOB;
        cJSON_ArrayForEach(k, o) {
            cond_t *c = &st->conds[st->n_conds++];
            *c = proto;
            pvar_init(&c->key, k->string, strlen(k->string));
            snprintf(kpath, sizeof(kpath), "%s.Condition.%s.%s", spath, o->string,
                     k->string);
            /* spec 2.3: certificate values may be written RFC 4514-escaped */
            if (load_pats(cs, k, kpath, mode | (c->key.is_cert ? PM_DN : 0), true,
                          &c->values) != 0)
                return -1;
        }
    }
    if (st->n_conds > 0)
        cs->d->is_contextual = true;
    return 0;
}

static int load_stmt(cs_t *cs, stmt_t *st, const cJSON *s, const char *path) {
    const cJSON *m, *eff = NULL, *act = NULL, *nact = NULL, *res = NULL,
                    *nres = NULL, *cond = NULL, *sid = NULL;
    char mpath[PATH_MAX_LEN];
    if (!cJSON_IsObject(s))
        return fail(cs, "%s must be an object", path);
    cJSON_ArrayForEach(m, s) {
        static const char *const names[] = {"Effect", "Action", "NotAction",
                                            "Resource", "NotResource",
                                            "Condition", "Sid"};
        const cJSON **slot[] = {&eff, &act, &nact, &res, &nres, &cond, &sid};
        size_t i;
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strcmp(m->string, names[i]) == 0)
                break;
        if (i == sizeof(names) / sizeof(names[0]))
            return fail(cs, "%s.%s is not a valid statement element", path,
                        m->string);
        if (*slot[i] != NULL)
            return fail(cs, "%s.%s appears more than once", path, m->string);
        *slot[i] = m;
    }
    if (eff == NULL)
        return fail(cs, "%s is missing Effect", path);
    if (!cJSON_IsString(eff) || (strcmp(eff->valuestring, "Allow") != 0 &&
                                 strcmp(eff->valuestring, "Deny") != 0))
        return fail(cs, "%s.Effect must be Allow or Deny", path);
    st->is_deny = strcmp(eff->valuestring, "Deny") == 0;
    if (act && nact)
        return fail(cs, "%s has both Action and NotAction", path);
    if (!act && !nact)
        return fail(cs, "%s is missing Action or NotAction", path);
    if (res && nres)
        return fail(cs, "%s has both Resource and NotResource", path);
    if (!res && !nres)
        return fail(cs, "%s is missing Resource or NotResource", path);
    if (sid && !cJSON_IsString(sid))
        return fail(cs, "%s.Sid must be a string", path);
    st->sid = ic_xstrdup(sid ? sid->valuestring : "");
    st->is_not_action = nact != NULL;
    st->is_not_resource = nres != NULL;
    snprintf(mpath, sizeof(mpath), "%s.%s", path, act ? "Action" : "NotAction");
    if (load_pats(cs, act ? act : nact, mpath, PM_GLOB, false, &st->actions) != 0)
        return -1;
    snprintf(mpath, sizeof(mpath), "%s.%s", path, res ? "Resource" : "NotResource");
    if (load_pats(cs, res ? res : nres, mpath,
                  PM_GLOB | (cs->d->has_vars ? PM_VARS : 0), false,
                  &st->resources) != 0)
        return -1;
    return cond ? load_conditions(cs, st, cond, path) : 0;
}

static int load_doc(cs_t *cs, const char *json) {
    const char *end = NULL;
    cJSON *root;
    const cJSON *m, *ver = NULL, *stmts = NULL, *id = NULL, *s;
    size_t n, i;
    char path[32];
    int rc = -1;
    if (json == NULL)
        return fail(cs, "the document is empty");
    root = cJSON_ParseWithOpts(json, &end, true);
    if (root == NULL)
        return fail(cs, "not valid JSON (at offset %zu)",
                    end && end >= json ? (size_t)(end - json) : (size_t)0);
    if (!cJSON_IsObject(root)) {
        fail(cs, "the document must be a JSON object");
        goto out;
    }
    cJSON_ArrayForEach(m, root) {
        const cJSON **slot = strcmp(m->string, "Version") == 0     ? &ver
                             : strcmp(m->string, "Statement") == 0 ? &stmts
                             : strcmp(m->string, "Id") == 0        ? &id
                                                                   : NULL;
        if (slot == NULL) {
            fail(cs, "%s is not a valid policy element", m->string);
            goto out;
        }
        if (*slot != NULL) {
            fail(cs, "%s appears more than once", m->string);
            goto out;
        }
        *slot = m;
    }
    if (ver && (!cJSON_IsString(ver) ||
                (strcmp(ver->valuestring, "2012-10-17") != 0 &&
                 strcmp(ver->valuestring, "2008-10-17") != 0))) {
        fail(cs, "Version must be \"2012-10-17\" or \"2008-10-17\"");
        goto out;
    }
    if (id && !cJSON_IsString(id)) {
        fail(cs, "Id must be a string");
        goto out;
    }
    /* spec 1.1 [REC]: variables only with Version 2012-10-17, as IAM */
    cs->d->has_vars = ver && strcmp(ver->valuestring, "2012-10-17") == 0;
    if (stmts == NULL) {
        fail(cs, "Statement is missing");
        goto out;
    }
    if (!(cJSON_IsObject(stmts) ||
          (cJSON_IsArray(stmts) && cJSON_GetArraySize(stmts) > 0))) {
        fail(cs, "Statement must be an object or a non-empty array of objects");
        goto out;
    }
    n = cJSON_IsArray(stmts) ? (size_t)cJSON_GetArraySize(stmts) : 1;
    cs->d->st = ic_xcalloc(n, sizeof(*cs->d->st));
    s = cJSON_IsArray(stmts) ? stmts->child : stmts;
    for (i = 0; i < n && s; i++, s = s->next) {
        cs->d->n = i + 1;
        if (cJSON_IsArray(stmts))
            snprintf(path, sizeof(path), "Statement[%zu]", i);
        else
            snprintf(path, sizeof(path), "Statement");
        if (load_stmt(cs, &cs->d->st[i], s, path) != 0)
            goto out;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

ic_policy_doc_t *ic_policy_compile(const char *json, char *why, size_t whylen) {
    cs_t cs;
    cs.why = why;
    cs.whylen = whylen;
    cs.d = ic_xcalloc(1, sizeof(*cs.d));
    if (why && whylen)
        why[0] = '\0';
    if (load_doc(&cs, json) != 0) {
        ic_policy_doc_free(cs.d);
        return NULL;
    }
    return cs.d;
}

bool ic_policy_is_contextual(const ic_policy_doc_t *d) {
    return d != NULL && d->is_contextual;
}

/* ---- matching ---------------------------------------------------------------------- */

static const char *utf8_next(const char *s) {
    s++;
    while ((*s & 0xC0) == 0x80)
        s++;
    return s;
}

/* Does subject s match encoded pattern p? `*` backtracks to the last star
 * only (linear in practice, no recursion). */
static bool glob(const char *p, const char *s, bool icase) {
    const char *sp = NULL, *ss = NULL;
    for (;;) {
        if (p[0] == ESC && p[1] == '*') {
            while (p[0] == ESC && p[1] == '*')
                p += 2;
            if (*p == '\0')
                return true;
            sp = p;
            ss = s;
            continue;
        }
        if (*s == '\0')
            return *p == '\0';
        if (p[0] == ESC && p[1] == '?') {
            p += 2;
            s = utf8_next(s);
            continue;
        }
        if (*p != '\0') {
            char c = *p;
            size_t pl = 1;
            if (c == ESC) {
                c = p[1] == ESC ? ESC : '\0'; /* ESC 'v' cannot match */
                pl = 2;
            }
            if (c != '\0' && (icase ? lower(c) == lower(*s) : c == *s)) {
                p += pl;
                s++;
                continue;
            }
        }
        if (sp == NULL)
            return false;
        ss = utf8_next(ss);
        s = ss;
        p = sp;
    }
}

typedef struct ev_s {
    const ic_policy_ctx_t *ctx;
    const char *unres; /* first unresolved variable of the current part */
} ev_t;

/* The values of key (clamped), as the callback reports them. */
static size_t ask(const ev_t *e, const pvar_t *v, const char **out) {
    size_t n;
    if (e->ctx == NULL || e->ctx->values == NULL)
        return 0;
    n = e->ctx->values(e->ctx->data, v->key, out, MAX_VALUES);
    if (n > MAX_VALUES)
        n = MAX_VALUES;
    if (v->is_cert && n > CERT_MAX_VALUES)
        n = CERT_MAX_VALUES;
    return n;
}

/* Values of a condition key into out[MAX_VALUES]; 0 = missing. */
static size_t key_values(const ev_t *e, const pvar_t *k, const char **out) {
    size_t n = ask(e, k, out), idx;
    if (!k->is_cert || k->index == IDX_LIST)
        return n;
    /* certificate keys: the plain name is the first value, .N is values[N] */
    idx = k->index >= 0 ? (size_t)k->index : 0;
    if (idx >= n)
        return 0;
    out[0] = out[idx];
    return 1;
}

/* The value substituted for v, or NULL (unresolved). */
static const char *var_value(const ev_t *e, const pvar_t *v) {
    const char *vals[MAX_VALUES], *s;
    size_t n = ask(e, v, vals);
    size_t idx = v->index >= 0 ? (size_t)v->index : 0;
    if (v->index == IDX_LIST || idx >= n)
        return v->dflt;
    s = vals[idx];
    /* AWS: certificate values that are long or hold a wildcard or `$` are
     * not substituted */
    if (v->is_cert && (strlen(s) > CERT_MAX_LEN || strpbrk(s, "*$+?#") != NULL))
        return v->dflt;
    return s;
}

typedef enum { SUB_OK, SUB_UNUSABLE } sub_t;

/* Substitute pt's variables into buf (SUB_MAX); *out is the text to match.
 * SUB_UNUSABLE: a variable is unresolved (noted) or the result is too long. */
static sub_t subst(ev_t *e, const pat_t *pt, char *buf, const char **out) {
    const char *p = pt->text;
    size_t o = 0, vi = 0;
    if (pt->n_vars == 0) {
        *out = pt->text;
        return SUB_OK;
    }
    while (*p) {
        if (p[0] == ESC && p[1] == 'v') {
            const pvar_t *v = &pt->vars[vi++];
            const char *s = var_value(e, v);
            if (s == NULL) {
                if (e->unres == NULL)
                    e->unres = v->name;
                return SUB_UNUSABLE;
            }
            for (; *s; s++) { /* a substituted value is literal text */
                if (o + 3 > SUB_MAX)
                    return SUB_UNUSABLE;
                if (*s == ESC)
                    buf[o++] = ESC;
                buf[o++] = *s;
            }
            p += 2;
            continue;
        }
        if (o + 3 > SUB_MAX)
            return SUB_UNUSABLE;
        if (p[0] == ESC) {
            buf[o++] = *p++;
            if (*p == '\0')
                break;
        }
        buf[o++] = *p++;
    }
    buf[o] = '\0';
    *out = buf;
    return SUB_OK;
}

/* ---- condition values ----------------------------------------------------------------- */

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* A decimal number as IAM's Numeric* take it (no hex, inf or nan). */
static bool parse_num(const char *s, double *out) {
    const char *p = s;
    bool dig = false;
    if (*p == '+' || *p == '-')
        p++;
    for (; is_digit(*p); p++)
        dig = true;
    if (*p == '.')
        for (p++; is_digit(*p); p++)
            dig = true;
    if (!dig)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return false;
        while (is_digit(*p))
            p++;
    }
    if (*p != '\0')
        return false;
    *out = strtod(s, NULL);
    return true;
}

static bool fixed_digits(const char **s, int n, int *out) {
    int v = 0, i;
    for (i = 0; i < n; i++) {
        if (!is_digit((*s)[i]))
            return false;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m) {
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* Epoch seconds, or ISO 8601: YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z|+hh[:]mm]
 * (UTC when no zone is given). */
static bool parse_date(const char *s, double *out) {
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
    double frac = 0, scale = 0.1;
    if (parse_num(s, out))
        return true;
    if (!fixed_digits(&p, 4, &y) || *p != '-' || (p++, !fixed_digits(&p, 2, &mo)) ||
        *p != '-' || (p++, !fixed_digits(&p, 2, &d)))
        return false;
    if (*p == 'T' || *p == 't') {
        p++;
        if (!fixed_digits(&p, 2, &h) || *p != ':' || (p++, !fixed_digits(&p, 2, &mi)))
            return false;
        if (*p == ':') {
            p++;
            if (!fixed_digits(&p, 2, &sec))
                return false;
            if (*p == '.') {
                if (!is_digit(*++p))
                    return false;
                for (; is_digit(*p); p++, scale /= 10)
                    frac += (*p - '0') * scale;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            sign = *p++ == '-' ? -1 : 1;
            if (!fixed_digits(&p, 2, &oh))
                return false;
            if (*p == ':')
                p++;
            if (!fixed_digits(&p, 2, &om) || oh > 23 || om > 59)
                return false;
        }
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        h > 23 || mi > 59 || sec > 60)
        return false;
    *out = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600 + mi * 60 + sec +
           frac - sign * (oh * 3600 + om * 60);
    return true;
}

static bool parse_bool(const char *s, bool *out) {
    if (strcasecmp(s, "true") == 0)
        *out = true;
    else if (strcasecmp(s, "false") == 0)
        *out = false;
    else
        return false;
    return true;
}

typedef struct ipnet_s {
    int family;          /* 4 or 6 */
    unsigned char a[16]; /* network order; IPv4 in a[0..4) */
    int bits;            /* prefix length */
} ipnet_t;

/* An address, or with allow_prefix a CIDR block. IPv4-mapped IPv6
 * (::ffff:a.b.c.d) is taken as IPv4. */
static bool parse_ip(const char *s, ipnet_t *n, bool allow_prefix) {
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t)(slash - s) : strlen(s);
    if ((slash && !allow_prefix) || len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(n, 0, sizeof(*n));
    if (inet_pton(AF_INET, buf, n->a) == 1) {
        n->family = 4;
        n->bits = 32;
    } else if (inet_pton(AF_INET6, buf, n->a) == 1) {
        n->family = 6;
        n->bits = 128;
    } else {
        return false;
    }
    if (slash) {
        const char *p = slash + 1;
        int b = 0;
        if (!is_digit(*p))
            return false;
        for (; is_digit(*p) && b <= 128; p++)
            b = b * 10 + (*p - '0');
        if (*p != '\0' || b > n->bits)
            return false;
        n->bits = b;
    }
    if (n->family == 6 && n->bits >= 96 && memcmp(n->a, mapped, 12) == 0) {
        memmove(n->a, n->a + 12, 4);
        memset(n->a + 4, 0, 12);
        n->family = 4;
        n->bits -= 96;
    }
    return true;
}

static bool ip_in(const ipnet_t *ip, const ipnet_t *net) {
    int full = net->bits / 8, rem = net->bits % 8;
    if (ip->family != net->family || memcmp(ip->a, net->a, (size_t)full) != 0)
        return false;
    return rem == 0 || ((ip->a[full] ^ net->a[full]) & (0xFF00 >> rem) & 0xFF) == 0;
}

typedef struct b64_s {
    const char *p;
    unsigned acc;
    int bits;
} b64_t;

static int b64_digit(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (is_digit(c))
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Next decoded byte; -1 at the end, -2 if the text is not base64. */
static int b64_next(b64_t *b) {
    while (b->bits < 8) {
        int v;
        if (*b->p == '\0' || *b->p == '=') {
            while (*b->p == '=')
                b->p++;
            return *b->p == '\0' ? -1 : -2;
        }
        if ((v = b64_digit(*b->p++)) < 0)
            return -2;
        b->acc = (b->acc << 6 | (unsigned)v) & 0xFFFFu;
        b->bits += 6;
    }
    b->bits -= 8;
    return (int)(b->acc >> b->bits) & 0xFF;
}

/* IAM BinaryEquals: both sides are base64; compare the bytes they encode. */
static bool b64_equal(const char *x, const char *y) {
    b64_t a = {x, 0, 0}, b = {y, 0, 0};
    for (;;) {
        int ca = b64_next(&a), cb = b64_next(&b);
        if (ca == -2 || cb == -2 || ca != cb)
            return false;
        if (ca == -1)
            return true;
    }
}

/* One policy value, substituted and parsed once per condition. */
typedef struct pval_s {
    const char *text; /* encoded */
    bool ok;          /* parsed (Numeric, Date, Bool, Null, IP) */
    bool b;
    double num;
    ipnet_t net;
} pval_t;

static void pval_prepare(const cond_t *c, const char *text, pval_t *pv) {
    pv->text = text;
    switch (c->op) {
    case OP_NUM:
        pv->ok = parse_num(text, &pv->num);
        break;
    case OP_DATE:
        pv->ok = parse_date(text, &pv->num);
        break;
    case OP_BOOL:
    case OP_NULL:
        pv->ok = parse_bool(text, &pv->b);
        break;
    case OP_IP:
        pv->ok = parse_ip(text, &pv->net, true);
        break;
    default:
        pv->ok = true;
    }
}

static bool cmp_holds(cmp_t cmp, double a, double b) {
    switch (cmp) {
    case CMP_EQ:
        return a == b;
    case CMP_LT:
        return a < b;
    case CMP_LE:
        return a <= b;
    case CMP_GT:
        return a > b;
    case CMP_GE:
        return a >= b;
    }
    return false;
}

/* Does context value x match the (positive form of the) operator against
 * policy value pv? */
static bool value_match(const cond_t *c, const pval_t *pv, const char *x) {
    double v;
    bool b;
    ipnet_t ip;
    if (!pv->ok)
        return false;
    switch (c->op) {
    case OP_STR:
    case OP_LIKE:
    case OP_ARN:
        return glob(pv->text, x, false);
    case OP_STR_IC:
        return glob(pv->text, x, true);
    case OP_NUM:
        return parse_num(x, &v) && cmp_holds(c->cmp, v, pv->num);
    case OP_DATE:
        return parse_date(x, &v) && cmp_holds(c->cmp, v, pv->num);
    case OP_BOOL:
        return parse_bool(x, &b) && b == pv->b;
    case OP_BIN:
        return b64_equal(x, pv->text);
    case OP_IP:
        return parse_ip(x, &ip, false) && ip_in(&ip, &pv->net);
    case OP_NULL:
        break;
    }
    return false;
}

/* IAM: values of one key are ORed; negated operators hold when no value
 * matches. A policy value with an unresolved variable matches nothing; for
 * a negated operator it makes the condition fail (so neither an Allow nor
 * a Deny applies through it). */
static bool cond_holds(ev_t *e, const cond_t *c) {
    const char *cv[MAX_VALUES], *t;
    char buf[SUB_MAX];
    size_t n = key_values(e, &c->key, cv), i, j;
    uint32_t hit = 0, all;
    bool poisoned = false;
    pval_t pv;
    if (c->op == OP_NULL) { /* "true": the key is absent */
        for (j = 0; j < c->values.n; j++) {
            if (subst(e, &c->values.v[j], buf, &t) != SUB_OK)
                continue;
            pval_prepare(c, t, &pv);
            if (pv.ok && pv.b == (n == 0))
                return true;
        }
        return false;
    }
    if (n == 0) /* IAM: a missing key; ForAllValues holds on an empty set */
        return c->if_exists || c->set == SET_ALL;
    all = ((uint32_t)1 << n) - 1;
    for (j = 0; j < c->values.n; j++) {
        if (subst(e, &c->values.v[j], buf, &t) != SUB_OK) {
            poisoned = true;
            continue;
        }
        pval_prepare(c, t, &pv);
        for (i = 0; i < n; i++)
            if (!(hit >> i & 1) && value_match(c, &pv, cv[i]))
                hit |= (uint32_t)1 << i;
        if (hit == all && !c->negate)
            break;
    }
    if (c->negate) {
        if (poisoned)
            return false;
        /* ForAnyValue: some context value matches none; otherwise none of
         * the context values matches any policy value */
        return c->set == SET_ANY ? hit != all : hit == 0;
    }
    return c->set == SET_ALL ? hit == all : hit != 0;
}

/* ---- evaluation ------------------------------------------------------------------------ */

static bool actions_match(const stmt_t *st, const char *action) {
    size_t i;
    for (i = 0; i < st->actions.n; i++)
        if (glob(st->actions.v[i].text, action, true))
            return true;
    return false;
}

/* Does Resource / NotResource admit resource? An entry that cannot be
 * substituted matches nothing; under NotResource it keeps the statement
 * from applying at all. */
static bool resources_match(ev_t *e, const stmt_t *st, const char *resource) {
    char buf[SUB_MAX];
    const char *t;
    bool unusable = false;
    size_t i;
    for (i = 0; i < st->resources.n; i++) {
        if (subst(e, &st->resources.v[i], buf, &t) != SUB_OK) {
            unusable = true;
            continue;
        }
        if (glob(t, resource, false))
            return !st->is_not_resource;
    }
    return st->is_not_resource && !unusable;
}

static void set_why(ic_policy_why_t *why, int policy, int statement,
                    const char *sid, const char *unres) {
    if (why == NULL)
        return;
    why->policy = policy;
    why->statement = statement;
    ic_strlcpy(why->sid, sid ? sid : "", sizeof(why->sid));
    ic_strlcpy(why->unresolved, unres ? unres : "", sizeof(why->unresolved));
}

ic_authz_t ic_policy_eval(const ic_policy_doc_t *const *docs, size_t n,
                          const char *action, const char *resource,
                          const ic_policy_ctx_t *ctx, ic_policy_why_t *why) {
    ev_t e;
    const char *first = NULL, *allow_sid = NULL;
    int allow_p = -1, allow_s = -1;
    size_t i, j, k;
    e.ctx = ctx;
    e.unres = NULL;
    for (i = 0; docs && action && resource && i < n; i++) {
        const ic_policy_doc_t *d = docs[i];
        for (j = 0; d && j < d->n; j++) {
            const stmt_t *st = &d->st[j];
            if (actions_match(st, action) == st->is_not_action)
                continue;
            e.unres = NULL;
            if (!resources_match(&e, st, resource)) {
                first = first ? first : e.unres;
                continue;
            }
            for (k = 0; k < st->n_conds; k++) {
                e.unres = NULL;
                if (!cond_holds(&e, &st->conds[k]))
                    break;
            }
            if (k < st->n_conds) {
                first = first ? first : e.unres;
                continue;
            }
            if (st->is_deny) { /* the first matching Deny decides */
                set_why(why, (int)i, (int)j, st->sid, first);
                return IC_AUTHZ_EXPLICIT_DENY;
            }
            if (allow_p < 0) {
                allow_p = (int)i;
                allow_s = (int)j;
                allow_sid = st->sid;
            }
        }
    }
    set_why(why, allow_p, allow_s, allow_sid, first);
    return allow_p >= 0 ? IC_AUTHZ_ALLOWED : IC_AUTHZ_IMPLICIT_DENY;
}
