/* policy.c - the IoT policy engine: compile a document once, evaluate
 * (context, action, resource) against compiled documents (pure, L1;
 * aws-iot-auth.md 1-3).
 *
 * Owns the compiled form: per statement the effect, action patterns
 * (lowercased), resource patterns split into literal text and variable
 * references, and conditions (operator, qualifier, key, values). It must
 * not do I/O or keep state between calls; the context comes through a
 * callback. Evaluation allocates nothing for documents without variables:
 * substitution goes into fixed stack buffers, and a resource that would
 * not fit matches nothing.
 */
#include "iotcored/policy.h"

#include "iotcored/alloc.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_VALUES 16
#define SUB_MAX 2048

/* A pattern: text with ${var} references (kept verbatim; parsed at
 * evaluation), or literal when variables are off. */
typedef struct pat_s {
    char *text;
    bool has_vars;
} pat_t;

typedef struct pats_s {
    pat_t *v;
    size_t n;
} pats_t;

typedef enum {
    OP_STR_EQ, OP_STR_NE, OP_STR_EQ_IC, OP_STR_NE_IC, OP_STR_LIKE, OP_STR_NLIKE,
    OP_NUM_EQ, OP_NUM_NE, OP_NUM_LT, OP_NUM_LE, OP_NUM_GT, OP_NUM_GE,
    OP_DATE_EQ, OP_DATE_NE, OP_DATE_LT, OP_DATE_LE, OP_DATE_GT, OP_DATE_GE,
    OP_BOOL, OP_BIN_EQ, OP_IP, OP_NIP, OP_ARN_EQ, OP_ARN_NE, OP_ARN_LIKE,
    OP_ARN_NLIKE, OP_NULL
} op_t;

static const struct {
    const char *name;
    op_t op;
} ops[] = {
    {"StringEquals", OP_STR_EQ}, {"StringNotEquals", OP_STR_NE},
    {"StringEqualsIgnoreCase", OP_STR_EQ_IC},
    {"StringNotEqualsIgnoreCase", OP_STR_NE_IC}, {"StringLike", OP_STR_LIKE},
    {"StringNotLike", OP_STR_NLIKE}, {"NumericEquals", OP_NUM_EQ},
    {"NumericNotEquals", OP_NUM_NE}, {"NumericLessThan", OP_NUM_LT},
    {"NumericLessThanEquals", OP_NUM_LE}, {"NumericGreaterThan", OP_NUM_GT},
    {"NumericGreaterThanEquals", OP_NUM_GE}, {"DateEquals", OP_DATE_EQ},
    {"DateNotEquals", OP_DATE_NE}, {"DateLessThan", OP_DATE_LT},
    {"DateLessThanEquals", OP_DATE_LE}, {"DateGreaterThan", OP_DATE_GT},
    {"DateGreaterThanEquals", OP_DATE_GE}, {"Bool", OP_BOOL},
    {"BinaryEquals", OP_BIN_EQ}, {"IpAddress", OP_IP}, {"NotIpAddress", OP_NIP},
    {"ArnEquals", OP_ARN_EQ}, {"ArnNotEquals", OP_ARN_NE}, {"ArnLike", OP_ARN_LIKE},
    {"ArnNotLike", OP_ARN_NLIKE}, {"Null", OP_NULL},
};

typedef enum { Q_NONE, Q_ANY, Q_ALL } qual_t;

typedef struct cond_s {
    op_t op;
    qual_t qual;
    bool if_exists;
    char *key;
    pats_t values;
} cond_t;

typedef struct stmt_s {
    bool is_deny;
    bool not_action, not_resource;
    pats_t actions;    /* lowercased, no variables */
    pats_t resources;
    cond_t *conds;
    size_t n_conds;
    char *sid;
} stmt_t;

struct ic_policy_doc_s {
    stmt_t *st;
    size_t n;
    bool vars;        /* Version 2012-10-17: ${...} are variables */
    bool contextual;
};

const char *ic_authz_name(ic_authz_t a) {
    switch (a) {
    case IC_AUTHZ_ALLOWED: return "ALLOWED";
    case IC_AUTHZ_EXPLICIT_DENY: return "EXPLICIT_DENY";
    default: return "IMPLICIT_DENY";
    }
}

/* ---- compile ---------------------------------------------------------------------- */

static ic_policy_doc_t *bad(ic_policy_doc_t *d, char *why, size_t len,
                            const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void free_pats(pats_t *p) {
    size_t i;
    for (i = 0; i < p->n; i++)
        free(p->v[i].text);
    free(p->v);
}

void ic_policy_doc_free(ic_policy_doc_t *d) {
    size_t i, j;
    if (d == NULL)
        return;
    for (i = 0; i < d->n; i++) {
        stmt_t *s = &d->st[i];
        free_pats(&s->actions);
        free_pats(&s->resources);
        for (j = 0; j < s->n_conds; j++) {
            free(s->conds[j].key);
            free_pats(&s->conds[j].values);
        }
        free(s->conds);
        free(s->sid);
    }
    free(d->st);
    free(d);
}

static ic_policy_doc_t *bad(ic_policy_doc_t *d, char *why, size_t len,
                            const char *fmt, ...) {
    va_list ap;
    int n = 0;
    if (why && len) {
        n = snprintf(why, len, "Policy document is malformed: ");
        if (n > 0 && (size_t)n < len) {
            va_start(ap, fmt);
            vsnprintf(why + n, len - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    ic_policy_doc_free(d);
    return NULL;
}

/* string-or-array of strings (or, for condition values, bools/numbers) */
static int load_pats(const cJSON *v, pats_t *out, bool lower, bool scalars,
                     bool vars, bool *any_vars) {
    const cJSON *it;
    size_t n = 0, i;
    if (cJSON_IsArray(v)) {
        n = (size_t)cJSON_GetArraySize(v);
        if (n == 0 && !scalars)
            return -1;
    } else if (cJSON_IsString(v) || (scalars && (cJSON_IsBool(v) || cJSON_IsNumber(v)))) {
        n = 1;
    } else {
        return -1;
    }
    out->v = ic_xcalloc(n ? n : 1, sizeof(pat_t));
    out->n = 0;
    for (i = 0; i < n; i++) {
        char buf[64];
        const char *s;
        it = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, (int)i) : v;
        if (cJSON_IsString(it))
            s = it->valuestring;
        else if (scalars && cJSON_IsBool(it))
            s = cJSON_IsTrue(it) ? "true" : "false";
        else if (scalars && cJSON_IsNumber(it)) {
            snprintf(buf, sizeof(buf), "%.17g", it->valuedouble);
            s = buf;
        } else
            return -1;
        out->v[out->n].text = ic_xstrdup(s);
        if (lower) {
            char *p;
            for (p = out->v[out->n].text; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        }
        out->v[out->n].has_vars = vars && strstr(s, "${") != NULL;
        if (out->v[out->n].has_vars && any_vars)
            *any_vars = true;
        out->n++;
    }
    return 0;
}

static int parse_op(const char *name, cond_t *c) {
    char base[128];
    size_t n, i;
    c->qual = Q_NONE;
    if (strncmp(name, "ForAnyValue:", 12) == 0) {
        c->qual = Q_ANY;
        name += 12;
    } else if (strncmp(name, "ForAllValues:", 13) == 0) {
        c->qual = Q_ALL;
        name += 13;
    }
    n = strlen(name);
    if (n >= sizeof(base))
        return -1;
    memcpy(base, name, n + 1);
    c->if_exists = n > 8 && strcmp(base + n - 8, "IfExists") == 0;
    if (c->if_exists)
        base[n - 8] = '\0';
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(ops[i].name, base) == 0) {
            c->op = ops[i].op;
            return c->op == OP_NULL && c->if_exists ? -1 : 0;
        }
    return -1;
}

static int load_stmt(ic_policy_doc_t *d, const cJSON *s, size_t idx, char *why,
                     size_t len) {
    stmt_t *st = &d->st[idx];
    const cJSON *m, *eff = NULL, *act = NULL, *nact = NULL, *res = NULL, *nres = NULL,
                    *cond = NULL, *sid = NULL;
    if (!cJSON_IsObject(s)) {
        bad(NULL, why, len, "Statement[%zu] must be an object", idx);
        return -1;
    }
    cJSON_ArrayForEach(m, s) {
        if (strcmp(m->string, "Effect") == 0) eff = m;
        else if (strcmp(m->string, "Action") == 0) act = m;
        else if (strcmp(m->string, "NotAction") == 0) nact = m;
        else if (strcmp(m->string, "Resource") == 0) res = m;
        else if (strcmp(m->string, "NotResource") == 0) nres = m;
        else if (strcmp(m->string, "Condition") == 0) cond = m;
        else if (strcmp(m->string, "Sid") == 0) sid = m;
        else {
            bad(NULL, why, len, "Statement[%zu].%s is not a statement element",
                idx, m->string);
            return -1;
        }
    }
    if (!cJSON_IsString(eff) || (strcmp(eff->valuestring, "Allow") != 0 &&
                                 strcmp(eff->valuestring, "Deny") != 0)) {
        bad(NULL, why, len, "Statement[%zu].Effect must be Allow or Deny", idx);
        return -1;
    }
    st->is_deny = strcmp(eff->valuestring, "Deny") == 0;
    if ((act != NULL) == (nact != NULL)) {
        bad(NULL, why, len, "Statement[%zu] needs exactly one of Action or NotAction",
            idx);
        return -1;
    }
    if ((res != NULL) == (nres != NULL)) {
        bad(NULL, why, len,
            "Statement[%zu] needs exactly one of Resource or NotResource", idx);
        return -1;
    }
    if (sid && !cJSON_IsString(sid)) {
        bad(NULL, why, len, "Statement[%zu].Sid must be a string", idx);
        return -1;
    }
    st->sid = ic_xstrdup(sid ? sid->valuestring : "");
    st->not_action = nact != NULL;
    st->not_resource = nres != NULL;
    if (load_pats(act ? act : nact, &st->actions, true, false, false, NULL) != 0) {
        bad(NULL, why, len, "Statement[%zu].%s must be a string or a non-empty "
            "array of strings", idx, act ? "Action" : "NotAction");
        return -1;
    }
    if (load_pats(res ? res : nres, &st->resources, false, false, d->vars,
                  &d->contextual) != 0) {
        bad(NULL, why, len, "Statement[%zu].%s must be a string or a non-empty "
            "array of strings", idx, res ? "Resource" : "NotResource");
        return -1;
    }
    if (cond) {
        const cJSON *o, *k;
        size_t n = 0;
        if (!cJSON_IsObject(cond)) {
            bad(NULL, why, len, "Statement[%zu].Condition must be an object", idx);
            return -1;
        }
        cJSON_ArrayForEach(o, cond) {
            if (!cJSON_IsObject(o)) {
                bad(NULL, why, len, "Statement[%zu].Condition.%s must be an object",
                    idx, o->string);
                return -1;
            }
            n += (size_t)cJSON_GetArraySize(o);
        }
        st->conds = ic_xcalloc(n ? n : 1, sizeof(cond_t));
        d->contextual = true;
        cJSON_ArrayForEach(o, cond) {
            cond_t proto;
            memset(&proto, 0, sizeof(proto));
            if (parse_op(o->string, &proto) != 0) {
                bad(NULL, why, len,
                    "Statement[%zu].Condition.%s is not a condition operator", idx,
                    o->string);
                return -1;
            }
            cJSON_ArrayForEach(k, o) {
                cond_t *c = &st->conds[st->n_conds];
                *c = proto;
                c->key = ic_xstrdup(k->string);
                if (load_pats(k, &c->values, false, true, d->vars, NULL) != 0) {
                    free(c->key);
                    free_pats(&c->values);
                    bad(NULL, why, len,
                        "Statement[%zu].Condition.%s.%s must be a value or an "
                        "array of values", idx, o->string, k->string);
                    return -1;
                }
                st->n_conds++;
            }
        }
    }
    return 0;
}

ic_policy_doc_t *ic_policy_compile(const char *json, char *why, size_t whylen) {
    cJSON *root = cJSON_Parse(json), *m, *ver = NULL, *stmts = NULL;
    ic_policy_doc_t *d = ic_xcalloc(1, sizeof(*d));
    size_t n, i;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return bad(d, why, whylen, "the document is not a JSON object");
    }
    cJSON_ArrayForEach(m, root) {
        if (strcmp(m->string, "Version") == 0)
            ver = m;
        else if (strcmp(m->string, "Statement") == 0)
            stmts = m;
        else if (strcmp(m->string, "Id") != 0) {
            cJSON_Delete(root);
            return bad(d, why, whylen, "%s is not a policy element", m->string);
        }
    }
    if (ver && !cJSON_IsString(ver)) {
        cJSON_Delete(root);
        return bad(d, why, whylen, "Version must be a string");
    }
    d->vars = ver && strcmp(ver->valuestring, "2012-10-17") == 0;
    if (stmts == NULL || (!cJSON_IsObject(stmts) && !cJSON_IsArray(stmts)) ||
        (cJSON_IsArray(stmts) && cJSON_GetArraySize(stmts) == 0)) {
        cJSON_Delete(root);
        return bad(d, why, whylen, "Statement must be an object or a non-empty array");
    }
    n = cJSON_IsArray(stmts) ? (size_t)cJSON_GetArraySize(stmts) : 1;
    d->st = ic_xcalloc(n, sizeof(stmt_t));
    for (i = 0; i < n; i++) {
        d->n = i + 1;
        if (load_stmt(d, cJSON_IsArray(stmts) ? cJSON_GetArrayItem(stmts, (int)i)
                                              : stmts,
                      i, why, whylen) != 0) {
            cJSON_Delete(root);
            ic_policy_doc_free(d);
            return NULL;
        }
    }
    cJSON_Delete(root);
    return d;
}

bool ic_policy_is_contextual(const ic_policy_doc_t *d) {
    return d->contextual;
}

/* ---- matching ---------------------------------------------------------------------- */

/* Glob with * and ?; case-insensitive when ic. */
static bool glob(const char *p, const char *s, bool ic) {
    const char *star = NULL, *mark = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            mark = s;
        } else if (*p == '?' ||
                   (ic ? tolower((unsigned char)*p) == tolower((unsigned char)*s)
                       : *p == *s)) {
            if (*p == '\0')
                break;
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++mark;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

typedef struct ev_s {
    const ic_policy_ctx_t *ctx;
    char unresolved[128];
} ev_t;

static void note_unresolved(ev_t *e, const char *name, size_t n) {
    if (e->unresolved[0] == '\0')
        snprintf(e->unresolved, sizeof(e->unresolved), "%.*s", (int)n, name);
}

static bool safe_value(const char *v) {
    return strlen(v) <= 1024 && strpbrk(v, "*$+?#") == NULL;
}

/* Values of a variable/key, with the certificate suffixes handled: .List
 * (all), .N (1-based, beyond the first). */
static size_t key_values(ev_t *e, const char *name, size_t n, const char **out,
                         size_t cap) {
    char key[256], *dot;
    long idx = -1;
    bool is_list = false;
    size_t got;
    const char *tmp[MAX_VALUES];
    if (n >= sizeof(key) || e->ctx == NULL || e->ctx->values == NULL)
        return 0;
    memcpy(key, name, n);
    key[n] = '\0';
    if (strcasecmp(key, "iot:Thing.ThingName") == 0)
        snprintf(key, sizeof(key), "iot:Connection.Thing.ThingName");
    dot = strrchr(key, '.');
    if (strncasecmp(key, "iot:Certificate.", 16) == 0 && dot) {
        if (strcasecmp(dot, ".List") == 0) {
            is_list = true;
            *dot = '\0';
        } else if (isdigit((unsigned char)dot[1])) {
            char *end;
            idx = strtol(dot + 1, &end, 10);
            if (*end == '\0')
                *dot = '\0';
            else
                idx = -1;
        }
    }
    got = e->ctx->values(e->ctx->data, key, tmp, MAX_VALUES);
    if (got > MAX_VALUES)
        got = MAX_VALUES;
    if (strncasecmp(key, "iot:Certificate.", 16) == 0 && got > 5)
        got = 5; /* AWS: arrays truncated to 5 */
    if (idx >= 0) {
        if ((size_t)idx >= got || cap == 0)
            return 0;
        out[0] = tmp[idx];
        return 1;
    }
    if (!is_list && got > 1 && strncasecmp(key, "iot:Certificate.", 16) == 0)
        got = 1; /* the plain variable is the first value */
    if (got > cap)
        got = cap;
    memcpy(out, tmp, got * sizeof(*out));
    return got;
}

/* Substitute ${...} in pattern text into out. Literal escapes ${*} ${?}
 * ${$} become \x01 \x02 '$' markers so glob treats them literally. false if
 * a variable is unresolved or the result does not fit. */
static bool substitute(ev_t *e, const char *p, char *out, size_t cap) {
    size_t o = 0;
    while (*p) {
        if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p + 2, '}');
            const char *name = p + 2, *v = NULL, *def = NULL;
            size_t nlen, dlen = 0, vlen;
            const char *vals[MAX_VALUES];
            if (end == NULL)
                return false;
            nlen = (size_t)(end - name);
            if (nlen == 1 && (name[0] == '*' || name[0] == '?' || name[0] == '$')) {
                if (o + 1 >= cap)
                    return false;
                out[o++] = name[0] == '*' ? '\x01' : name[0] == '?' ? '\x02' : '$';
                p = end + 1;
                continue;
            }
            {
                /* ${key, 'default'} */
                const char *comma = memchr(name, ',', nlen);
                if (comma) {
                    const char *q1 = memchr(comma, '\'', (size_t)(end - comma));
                    const char *q2 = q1 ? memchr(q1 + 1, '\'', (size_t)(end - q1 - 1))
                                        : NULL;
                    if (q1 && q2) {
                        def = q1 + 1;
                        dlen = (size_t)(q2 - q1 - 1);
                    }
                    nlen = (size_t)(comma - name);
                    while (nlen > 0 && name[nlen - 1] == ' ')
                        nlen--;
                }
            }
            if (key_values(e, name, nlen, vals, 1) == 1 && safe_value(vals[0])) {
                v = vals[0];
                vlen = strlen(v);
            } else if (def) {
                v = def;
                vlen = dlen;
            } else {
                note_unresolved(e, name, nlen);
                return false;
            }
            if (o + vlen >= cap)
                return false;
            {
                /* substituted text is literal: protect * and ? */
                size_t k;
                for (k = 0; k < vlen; k++)
                    out[o++] = v[k] == '*' ? '\x01' : v[k] == '?' ? '\x02' : v[k];
            }
            p = end + 1;
            continue;
        }
        if (o + 1 >= cap)
            return false;
        out[o++] = *p++;
    }
    out[o] = '\0';
    return true;
}

/* glob where \x01 and \x02 in the pattern are literal '*' and '?' */
static bool glob_lit(const char *p, const char *s, bool ic) {
    if (strchr(p, '\x01') == NULL && strchr(p, '\x02') == NULL)
        return glob(p, s, ic);
    /* rare: compare literally where marked by walking both */
    {
        const char *star = NULL, *mark = NULL;
        while (*s) {
            if (*p == '*') {
                star = p++;
                mark = s;
            } else if (*p && (*p == '?' ||
                              (*p == '\x01' && *s == '*') ||
                              (*p == '\x02' && *s == '?') ||
                              (ic ? tolower((unsigned char)*p) ==
                                        tolower((unsigned char)*s)
                                  : *p == *s))) {
                p++;
                s++;
            } else if (star) {
                p = star + 1;
                s = ++mark;
            } else {
                return false;
            }
        }
        while (*p == '*')
            p++;
        return *p == '\0';
    }
}

/* Policy text may escape RFC 4514 specials with a backslash: drop them. */
static void unescape(const char *in, char *out, size_t cap) {
    size_t o = 0;
    for (; *in && o + 1 < cap; in++) {
        if (*in == '\\' && in[1] && strchr(",\"\\+=<>;", in[1]))
            in++;
        out[o++] = *in;
    }
    out[o] = '\0';
}

static bool pat_match(ev_t *e, const pat_t *pt, const char *s, bool ic,
                      bool allow_glob, bool *unresolved) {
    char sub[SUB_MAX], un[SUB_MAX];
    const char *p = pt->text;
    if (pt->has_vars) {
        if (!substitute(e, p, sub, sizeof(sub))) {
            if (unresolved)
                *unresolved = true;
            return false;
        }
        p = sub;
    }
    if (strchr(p, '\\')) {
        unescape(p, un, sizeof(un));
        p = un;
    }
    if (!allow_glob) {
        /* exact comparison; markers stand for themselves */
        const char *a = p, *b = s;
        for (; *a && *b; a++, b++) {
            char ca = *a == '\x01' ? '*' : *a == '\x02' ? '?' : *a;
            if (ic ? tolower((unsigned char)ca) != tolower((unsigned char)*b)
                   : ca != *b)
                return false;
        }
        return *a == '\0' && *b == '\0';
    }
    return glob_lit(p, s, ic);
}

static bool any_resource(ev_t *e, const stmt_t *st, const char *resource,
                         bool *unresolved) {
    size_t i;
    for (i = 0; i < st->resources.n; i++)
        if (strcmp(st->resources.v[i].text, "*") == 0 ||
            pat_match(e, &st->resources.v[i], resource, false, true, unresolved))
            return true;
    return false;
}

static bool any_action(const stmt_t *st, const char *action) {
    char low[128];
    size_t i;
    for (i = 0; action[i] && i + 1 < sizeof(low); i++)
        low[i] = (char)tolower((unsigned char)action[i]);
    low[i] = '\0';
    for (i = 0; i < st->actions.n; i++)
        if (glob(st->actions.v[i].text, low, false))
            return true;
    return false;
}

/* ---- conditions -------------------------------------------------------------------- */

static bool parse_ip(const char *s, unsigned char addr[16], int *bits, int *family) {
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, addr) == 1)
        *family = 4;
    else if (inet_pton(AF_INET6, buf, addr) == 1)
        *family = 6;
    else
        return false;
    *bits = *family == 4 ? 32 : 128;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (*end || b < 0 || b > *bits)
            return false;
        *bits = (int)b;
    }
    return true;
}

static bool ip_in(const char *ip, const char *cidr) {
    unsigned char a[16], b[16];
    int ab, bb, af, bf, i;
    if (!parse_ip(ip, a, &ab, &af) || !parse_ip(cidr, b, &bb, &bf) || af != bf)
        return false;
    for (i = 0; i < bb; i++) {
        int byte = i / 8, bit = 7 - i % 8;
        if (((a[byte] >> bit) & 1) != ((b[byte] >> bit) & 1))
            return false;
    }
    return true;
}

static bool num(const char *s, double *out) {
    char *end;
    if (*s == '\0')
        return false;
    *out = strtod(s, &end);
    return *end == '\0';
}

static bool date_of(const char *s, double *out) {
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (num(s, out))
        return true;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec) >= 3) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        *out = (double)timegm(&tm);
        return true;
    }
    return false;
}

/* One context value against one policy value (already substituted). */
static bool compare(op_t op, const char *ctx, const char *pol) {
    double a, b;
    switch (op) {
    case OP_STR_EQ: case OP_STR_NE: case OP_BIN_EQ:
        return strcmp(ctx, pol) == 0;
    case OP_STR_EQ_IC: case OP_STR_NE_IC:
        return strcasecmp(ctx, pol) == 0;
    case OP_STR_LIKE: case OP_STR_NLIKE: case OP_ARN_LIKE: case OP_ARN_NLIKE:
        return glob_lit(pol, ctx, false);
    case OP_ARN_EQ: case OP_ARN_NE:
        return glob_lit(pol, ctx, false);
    case OP_BOOL:
        return strcasecmp(ctx, pol) == 0;
    case OP_IP: case OP_NIP:
        return ip_in(ctx, pol);
    case OP_NUM_EQ: case OP_NUM_NE:
        return num(ctx, &a) && num(pol, &b) && a == b;
    case OP_NUM_LT: return num(ctx, &a) && num(pol, &b) && a < b;
    case OP_NUM_LE: return num(ctx, &a) && num(pol, &b) && a <= b;
    case OP_NUM_GT: return num(ctx, &a) && num(pol, &b) && a > b;
    case OP_NUM_GE: return num(ctx, &a) && num(pol, &b) && a >= b;
    case OP_DATE_EQ: case OP_DATE_NE:
        return date_of(ctx, &a) && date_of(pol, &b) && a == b;
    case OP_DATE_LT: return date_of(ctx, &a) && date_of(pol, &b) && a < b;
    case OP_DATE_LE: return date_of(ctx, &a) && date_of(pol, &b) && a <= b;
    case OP_DATE_GT: return date_of(ctx, &a) && date_of(pol, &b) && a > b;
    case OP_DATE_GE: return date_of(ctx, &a) && date_of(pol, &b) && a >= b;
    case OP_NULL:
        return false;
    }
    return false;
}

static bool negated(op_t op) {
    return op == OP_STR_NE || op == OP_STR_NE_IC || op == OP_STR_NLIKE ||
           op == OP_NUM_NE || op == OP_DATE_NE || op == OP_NIP ||
           op == OP_ARN_NE || op == OP_ARN_NLIKE;
}

/* Does one context value satisfy the operator against the policy values
 * (ORed; for negated operators: equal to none)? Unresolved policy values
 * match nothing. */
static bool value_ok(ev_t *e, const cond_t *c, const char *v) {
    size_t i;
    bool hit = false;
    for (i = 0; i < c->values.n && !hit; i++) {
        char sub[SUB_MAX], un[SUB_MAX];
        const char *p = c->values.v[i].text;
        if (c->values.v[i].has_vars) {
            if (!substitute(e, p, sub, sizeof(sub)))
                continue;
            p = sub;
        }
        if (strchr(p, '\\')) {
            unescape(p, un, sizeof(un));
            p = un;
        }
        hit = compare(c->op, v, p);
    }
    return negated(c->op) ? !hit : hit;
}

static bool cond_holds(ev_t *e, const cond_t *c) {
    const char *vals[MAX_VALUES];
    size_t n = key_values(e, c->key, strlen(c->key), vals, MAX_VALUES), i;
    bool present = n > 0 || strcasecmp(c->key, "iot:ConnectAttributes") == 0;
    if (c->op == OP_NULL) {
        /* "true": the key is absent */
        bool want_absent = c->values.n > 0 && strcasecmp(c->values.v[0].text, "true") == 0;
        return want_absent ? !present || n == 0 : n > 0;
    }
    if (c->qual == Q_ALL) {
        for (i = 0; i < n; i++)
            if (!value_ok(e, c, vals[i]))
                return false;
        return true; /* empty or missing set: true */
    }
    if (c->qual == Q_ANY) {
        for (i = 0; i < n; i++)
            if (value_ok(e, c, vals[i]))
                return true;
        return false;
    }
    if (n == 0) {
        if (!c->if_exists)
            note_unresolved(e, c->key, strlen(c->key));
        return c->if_exists;
    }
    return value_ok(e, c, vals[0]);
}

/* ---- evaluation ---------------------------------------------------------------------- */

ic_authz_t ic_policy_eval(const ic_policy_doc_t *const *docs, size_t n,
                          const char *action, const char *resource,
                          const ic_policy_ctx_t *ctx, ic_policy_why_t *why) {
    ev_t e;
    size_t i, j, k;
    int allow_p = -1, allow_s = -1;
    const char *allow_sid = "";
    memset(&e, 0, sizeof(e));
    e.ctx = ctx;
    for (i = 0; i < n; i++) {
        const ic_policy_doc_t *d = docs[i];
        if (d == NULL)
            continue;
        for (j = 0; j < d->n; j++) {
            const stmt_t *st = &d->st[j];
            bool ok, unres = false;
            if (any_action(st, action) == st->not_action)
                continue;
            ok = any_resource(&e, st, resource, &unres);
            if (st->not_resource) {
                /* an unresolved entry matches nothing either way: neither
                 * an Allow nor a Deny applies */
                if (ok || unres)
                    continue;
            } else if (!ok) {
                continue;
            }
            for (k = 0; k < st->n_conds; k++)
                if (!cond_holds(&e, &st->conds[k]))
                    break;
            if (k < st->n_conds)
                continue;
            if (st->is_deny) {
                if (why) {
                    memset(why, 0, sizeof(*why));
                    why->policy = (int)i;
                    why->statement = (int)j;
                    snprintf(why->sid, sizeof(why->sid), "%s", st->sid);
                }
                return IC_AUTHZ_EXPLICIT_DENY;
            }
            if (allow_p < 0) {
                allow_p = (int)i;
                allow_s = (int)j;
                allow_sid = st->sid;
            }
        }
    }
    if (why) {
        memset(why, 0, sizeof(*why));
        why->policy = allow_p;
        why->statement = allow_s;
        snprintf(why->sid, sizeof(why->sid), "%s", allow_sid);
        if (allow_p < 0)
            snprintf(why->unresolved, sizeof(why->unresolved), "%s", e.unresolved);
    }
    return allow_p >= 0 ? IC_AUTHZ_ALLOWED : IC_AUTHZ_IMPLICIT_DENY;
}
