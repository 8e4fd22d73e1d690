/* sql.c - AWS IoT SQL (pure, L1; aws-iot-rules.md 1-7, 12-14): parse a
 * statement or a substitution template into an AST, evaluate it on one
 * message.
 *
 * Single job: text in, AST out; (AST, message context) in, output payload or
 * rendered text out. It owns the AST (one arena per statement/template) and
 * every value of an evaluation (one arena per run or render, freed at once).
 * It must not route messages, run actions, log, read the clock or keep state
 * between calls; any thread. Randomness (rand(), newuuid()) comes from
 * OpenSSL's RAND_bytes; time patterns and zones live in sql_time.c.
 *
 *   text -> lexer (on demand, positions are byte offsets) -> recursive-descent
 *   parser (depth-checked) -> AST -> eval(scope, node) -> values -> JSON
 *
 * Values (spec 4.1): Undefined, Null, Boolean, Int (int64_t; overflow
 * promotes to Decimal, U30), Decimal (double, U33; an integer literal beyond
 * int64 keeps its digits for output), String (bytes + length), Array, Object
 * (insertion-ordered, keys unique, hashed when large). Values are immutable
 * once built, so runs and renders share the parsed payload without copies.
 *
 * Bounds (sql.h): statement size, expression depth (parser, evaluator and
 * dotted aliases), JSON depth, arena bytes and work units of one
 * evaluation; exceeding a runtime bound is an evaluation error, never a
 * crash. Regexes are POSIX ERE (glibc) with Java's syntax translated (U48,
 * no PCRE2 in the build); what cannot be translated is refused (Undefined).
 * Number text goes through strtod/snprintf, so LC_NUMERIC must stay "C"
 * (the daemon never calls setlocale).
 *
 * The built-in functions (section "functions") share the value machinery
 * with the evaluator; they stay in this file rather than behind a private
 * header (src/rules/ has none).
 */

#include "iotcored/sql.h"
#include "iotcored/str.h"

#include "iotcored/alloc.h"
#include "iotcored/topic.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { VER_2015 = 0, VER_2016 = 1 };

/* ---- arena ------------------------------------------------------------
 * Blocks of memory freed together. ar_alloc returns NULL only when the
 * arena's byte limit would be exceeded (the caller turns that into an
 * evaluation error); running out of memory aborts (ic_xmalloc). */

#define AR_ALIGN 16u
#define AR_CHUNK 16384u

typedef struct ar_blk_s {
    struct ar_blk_s *next;
    size_t used, cap; /* bytes of data[] */
    _Alignas(16) unsigned char data[];
} ar_blk_t;

typedef struct arena_s {
    ar_blk_t *head;  /* current chunk first; big blocks behind it */
    size_t total;    /* bytes allocated from the system */
    size_t limit;    /* total may not exceed this */
} arena_t;

static void ar_init(arena_t *a, size_t limit) {
    a->head = NULL;
    a->total = 0;
    a->limit = limit;
}

/* Standard-size chunks freed by one evaluation are kept for the next
 * (per thread, a few): a rule evaluated for every message would otherwise
 * malloc and free a 16 KiB chunk each time. */
#define AR_SPARE_MAX 8
static _Thread_local ar_blk_t *ar_spare;
static _Thread_local unsigned ar_n_spare;

static void ar_free(arena_t *a) {
    ar_blk_t *b = a->head;
    while (b) {
        ar_blk_t *n = b->next;
        if (b->cap == AR_CHUNK && ar_n_spare < AR_SPARE_MAX) {
            b->next = ar_spare;
            ar_spare = b;
            ar_n_spare++;
        } else {
            free(b);
        }
        b = n;
    }
    a->head = NULL;
    a->total = 0;
}

static size_t ar_round(size_t n) {
    return (n + AR_ALIGN - 1) & ~(size_t)(AR_ALIGN - 1);
}

static void *ar_alloc(arena_t *a, size_t n) {
    ar_blk_t *b;
    size_t cap;
    if (n > a->limit)
        return NULL;
    n = ar_round(n ? n : 1);
    if (a->head && a->head->cap - a->head->used >= n) {
        void *p = a->head->data + a->head->used;
        a->head->used += n;
        return p;
    }
    cap = n > AR_CHUNK / 4 ? n : AR_CHUNK;
    if (a->total + cap + sizeof(ar_blk_t) > a->limit)
        return NULL;
    if (cap == AR_CHUNK && ar_spare) {
        b = ar_spare;
        ar_spare = b->next;
        ar_n_spare--;
    } else {
        b = ic_xmalloc(sizeof(ar_blk_t) + cap);
    }
    b->cap = cap;
    b->used = n;
    a->total += cap + sizeof(ar_blk_t);
    if (cap == n && a->head) { /* a big block: keep the current chunk on top */
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    return b->data;
}

/* Grow the allocation p (old bytes) to n bytes; in place when p is the last
 * allocation of the current chunk. NULL when over the limit. */
static void *ar_grow(arena_t *a, void *p, size_t old, size_t n) {
    void *q;
    if (p && a->head && (unsigned char *)p + ar_round(old) == a->head->data + a->head->used &&
        (size_t)((unsigned char *)p - a->head->data) + ar_round(n) <= a->head->cap) {
        a->head->used = (size_t)((unsigned char *)p - a->head->data) + ar_round(n);
        return p;
    }
    q = ar_alloc(a, n);
    if (q && old)
        memcpy(q, p, old);
    return q;
}

/* ---- values ------------------------------------------------------------ */

typedef enum {
    V_UNDEF = 0, V_NULL, V_BOOL, V_INT, V_DEC, V_STR, V_ARR, V_OBJ
} vtype_t;

typedef struct str_s {
    const char *p; /* not NUL-terminated in general */
    size_t n;
} str_t;

typedef struct arr_s arr_t;
typedef struct obj_s obj_t;

typedef struct val_s {
    vtype_t t;
    union {
        bool b;
        int64_t i;
        struct {
            double d;
            const char *txt; /* digits of an integer too big for Int, or NULL */
        } dec;
        str_t s;
        arr_t *a;
        obj_t *o;
    } u;
} val_t;

struct arr_s {
    size_t n, cap;
    val_t *v;
};

struct obj_s {
    size_t n, cap;     /* members, in insertion order; keys unique */
    str_t *k;
    val_t *v;
    uint32_t *idx;     /* open-addressing index (slot = member + 1) or NULL */
    size_t idx_cap;    /* power of two >= 2n when idx is set */
    uint64_t owner;    /* projection that may still modify it (0 = none) */
};

static const val_t UNDEF = {.t = V_UNDEF};

/* ---- evaluation state --------------------------------------------------- */

typedef struct sel_s sel_t;
typedef struct node_s node_t;

typedef enum { PAY_OBJ, PAY_EMPTY, PAY_RAW } paykind_t;

typedef struct ev_s {
    arena_t *ar;
    const ic_sql_ctx_t *ctx;
    int ver;                 /* VER_* */
    const char *ver_name;    /* what sql_version() answers */
    val_t payload;           /* V_OBJ for JSON-object and empty payloads */
    paykind_t pay;
    const val_t *vars;       /* SET values, by slot */
    const str_t *var_names;  /* slot names (template lookups) */
    size_t n_vars;
    uint64_t steps;          /* work units so far */
    uint64_t serial;         /* projection counter (obj_t.owner) */
    bool failed;             /* an evaluation error happened: err is set */
    char err[256];
    const char *warning;     /* a remark for the log (static text) or NULL */
} ev_t;

/* The current document: the payload at top level, an element in a nested
 * SELECT (spec 3.7). */
typedef struct scope_s {
    const val_t *doc;
    bool top;
    str_t alias;             /* FROM src AS alias (len 0: none) */
} scope_t;

__attribute__((format(printf, 2, 3)))
static void ev_fail(ev_t *ev, const char *fmt, ...) {
    va_list ap;
    if (ev->failed)
        return;
    ev->failed = true;
    va_start(ap, fmt);
    vsnprintf(ev->err, sizeof(ev->err), fmt, ap);
    va_end(ap);
}

static void ev_limit(ev_t *ev) {
    ev_fail(ev, "evaluation exceeds the memory limit (%u bytes)", (unsigned)IC_SQL_MAX_RUN_BYTES);
}

static void *ev_alloc(ev_t *ev, size_t n) {
    void *p = ar_alloc(ev->ar, n);
    if (!p)
        ev_limit(ev);
    return p;
}

/* Charge n work units; false (and an error) once over the budget. */
static bool ev_charge(ev_t *ev, uint64_t n) {
    ev->steps += n;
    if (ev->steps > IC_SQL_MAX_STEPS) {
        ev_fail(ev, "evaluation exceeds the work limit (%u steps)",
                (unsigned)IC_SQL_MAX_STEPS);
        return false;
    }
    return !ev->failed;
}

static val_t v_bool(bool b) {
    val_t v = {.t = V_BOOL};
    v.u.b = b;
    return v;
}

static val_t v_int(int64_t i) {
    val_t v = {.t = V_INT};
    v.u.i = i;
    return v;
}

/* A Decimal; NaN and infinities are not values (spec 4.6): Undefined. */
static val_t v_dec(double d) {
    val_t v = {.t = V_DEC};
    if (!isfinite(d))
        return UNDEF;
    v.u.dec.d = d;
    v.u.dec.txt = NULL;
    return v;
}

static val_t v_str(const char *p, size_t n) {
    val_t v = {.t = V_STR};
    v.u.s.p = p;
    v.u.s.n = n;
    return v;
}

static val_t v_null(void) {
    val_t v = {.t = V_NULL};
    return v;
}

static bool str_eq(str_t a, str_t b) {
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static bool str_eq_c(str_t a, const char *c) {
    size_t n = strlen(c);
    return a.n == n && memcmp(a.p, c, n) == 0;
}

static bool str_ieq_c(str_t a, const char *c) {
    size_t n = strlen(c);
    if (a.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)a.p[i]) != tolower((unsigned char)c[i]))
            return false;
    return true;
}

static char *ev_strdup(ev_t *ev, const char *p, size_t n) {
    char *q = ev_alloc(ev, n + 1);
    if (!q)
        return NULL;
    if (n)
        memcpy(q, p, n);
    q[n] = '\0';
    return q;
}

/* ---- arrays and objects ------------------------------------------------- */

static arr_t *arr_new(ev_t *ev, size_t cap) {
    arr_t *a = ev_alloc(ev, sizeof(*a));
    if (!a)
        return NULL;
    a->n = 0;
    a->cap = cap;
    a->v = NULL;
    if (cap && !(a->v = ev_alloc(ev, cap * sizeof(val_t))))
        return NULL;
    return a;
}

static bool arr_push(ev_t *ev, arr_t *a, val_t v) {
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 4;
        val_t *nv;
        if (nc > SIZE_MAX / sizeof(val_t) / 2 ||
            !(nv = ar_grow(ev->ar, a->v, a->cap * sizeof(val_t), nc * sizeof(val_t)))) {
            ev_limit(ev);
            return false;
        }
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = v;
    return ev_charge(ev, 1);
}

static val_t v_arr(arr_t *a) {
    val_t v = {.t = V_ARR};
    if (!a)
        return UNDEF;
    v.u.a = a;
    return v;
}

static val_t v_obj(obj_t *o) {
    val_t v = {.t = V_OBJ};
    if (!o)
        return UNDEF;
    v.u.o = o;
    return v;
}

static obj_t *obj_new(ev_t *ev) {
    obj_t *o = ev_alloc(ev, sizeof(*o));
    if (o)
        memset(o, 0, sizeof(*o));
    return o;
}

static uint32_t key_hash(str_t k) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < k.n; i++)
        h = (h ^ (unsigned char)k.p[i]) * 16777619u;
    return h;
}

#define OBJ_INDEX_MIN 12 /* members before an object gets a hash index */

static bool obj_reindex(ev_t *ev, obj_t *o, size_t want) {
    size_t cap = 32;
    uint32_t *idx;
    while (cap < want * 2)
        cap *= 2;
    if (!(idx = ev_alloc(ev, cap * sizeof(uint32_t))))
        return false;
    memset(idx, 0, cap * sizeof(uint32_t));
    for (size_t i = 0; i < o->n; i++) {
        size_t s = key_hash(o->k[i]) & (cap - 1);
        while (idx[s])
            s = (s + 1) & (cap - 1);
        idx[s] = (uint32_t)i + 1;
    }
    o->idx = idx;
    o->idx_cap = cap;
    return true;
}

static long obj_find(const obj_t *o, str_t k) {
    if (o->idx) {
        size_t s = key_hash(k) & (o->idx_cap - 1);
        while (o->idx[s]) {
            if (str_eq(o->k[o->idx[s] - 1], k))
                return (long)o->idx[s] - 1;
            s = (s + 1) & (o->idx_cap - 1);
        }
        return -1;
    }
    for (size_t i = 0; i < o->n; i++)
        if (str_eq(o->k[i], k))
            return (long)i;
    return -1;
}

static const val_t *obj_get(const obj_t *o, str_t k) {
    long i = obj_find(o, k);
    return i < 0 ? NULL : &o->v[i];
}

/* Set k: replace in place when present (first position kept, U18), append
 * otherwise. The key bytes must outlive the object (arena or AST). */
static bool obj_set(ev_t *ev, obj_t *o, str_t k, val_t v) {
    long i = obj_find(o, k);
    if (i >= 0) {
        o->v[i] = v;
        return true;
    }
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 4;
        str_t *nk;
        val_t *nv;
        if (nc > UINT32_MAX / 4 ||
            !(nk = ar_grow(ev->ar, o->k, o->cap * sizeof(str_t), nc * sizeof(str_t))) ||
            !(nv = ar_grow(ev->ar, o->v, o->cap * sizeof(val_t), nc * sizeof(val_t)))) {
            ev_limit(ev);
            return false;
        }
        o->k = nk;
        o->v = nv;
        o->cap = nc;
    }
    o->k[o->n] = k;
    o->v[o->n] = v;
    o->n++;
    if (o->idx && o->n * 2 <= o->idx_cap) {
        size_t s = key_hash(k) & (o->idx_cap - 1);
        while (o->idx[s])
            s = (s + 1) & (o->idx_cap - 1);
        o->idx[s] = (uint32_t)o->n;
    } else if (o->n >= OBJ_INDEX_MIN && !obj_reindex(ev, o, o->n)) {
        return false;
    }
    return ev_charge(ev, 1);
}

/* A private shallow copy (for merging dotted aliases into an existing
 * object without touching the shared original). */
static obj_t *obj_copy(ev_t *ev, const obj_t *src) {
    obj_t *o = obj_new(ev);
    if (!o)
        return NULL;
    for (size_t i = 0; i < src->n; i++)
        if (!obj_set(ev, o, src->k[i], src->v[i]))
            return NULL;
    return o;
}

/* ---- string builder (arena) --------------------------------------------- */

typedef struct sb_s {
    ev_t *ev;
    char *p;
    size_t n, cap;
    bool failed;
} sb_t;

static void sb_init(sb_t *b, ev_t *ev) {
    b->ev = ev;
    b->p = NULL;
    b->n = b->cap = 0;
    b->failed = false;
}

static bool sb_reserve(sb_t *b, size_t extra) {
    size_t nc;
    char *np;
    if (b->failed)
        return false;
    if (extra > IC_SQL_MAX_RUN_BYTES || b->n + extra > IC_SQL_MAX_RUN_BYTES) {
        b->failed = true;
        ev_limit(b->ev);
        return false;
    }
    if (b->n + extra + 1 <= b->cap)
        return true;
    nc = b->cap ? b->cap : 64;
    while (nc < b->n + extra + 1)
        nc *= 2;
    np = ar_grow(b->ev->ar, b->p, b->cap, nc);
    if (!np) {
        b->failed = true;
        ev_limit(b->ev);
        return false;
    }
    b->p = np;
    b->cap = nc;
    b->p[b->n] = '\0'; /* always a C string, even before the first add */
    return true;
}


static void sb_add(sb_t *b, const void *p, size_t n) {
    if (!sb_reserve(b, n))
        return;
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_addc(sb_t *b, char c) {
    sb_add(b, &c, 1);
}

static void sb_adds(sb_t *b, const char *s) {
    sb_add(b, s, strlen(s));
}

static bool sb_str(sb_t *b, str_t *out) {
    if (b->failed || b->ev->failed)
        return false;
    if (!b->p && !sb_reserve(b, 0))
        return false;
    out->p = b->p;
    out->n = b->n;
    return true;
}

static val_t sb_val(sb_t *b) {
    str_t s;
    return sb_str(b, &s) ? v_str(s.p, s.n) : UNDEF;
}

/* ---- UTF-8 -------------------------------------------------------------- */

/* Lenient decoder for strings that may hold arbitrary bytes (decode(),
 * U51): an invalid byte counts as one character. */
static size_t utf8_next(const char *p, size_t n, uint32_t *cp) {
    size_t l = ic_utf8_decode((const unsigned char *)p, n, cp);
    if (l == 0) {
        *cp = (unsigned char)p[0];
        return 1;
    }
    return l;
}

static size_t utf8_count(str_t s) {
    size_t n = 0;
    uint32_t c;
    for (size_t i = 0; i < s.n; n++)
        i += utf8_next(s.p + i, s.n - i, &c);
    return n;
}

/* Byte offset of character ci (clamped to the end). */
static size_t utf8_offset(str_t s, size_t ci) {
    size_t i = 0;
    uint32_t c;
    while (ci-- > 0 && i < s.n)
        i += utf8_next(s.p + i, s.n - i, &c);
    return i;
}

/* ---- numbers ------------------------------------------------------------
 * Rendering (spec 4.6, U33): Int as digits; Decimal as the shortest text
 * that round-trips the double, plain between 1e-7 and 1e21, else d.dddEx;
 * integral Decimals print as Int under 2016-03-23 and with ".0" under
 * 2015-10-08. */

#define NUM_BUF 40

static size_t fmt_int(int64_t i, char *out) {
    return (size_t)snprintf(out, NUM_BUF, "%" PRId64, i);
}

static size_t fmt_dec(double d, int ver, char *out) {
    char tmp[40], digits[24];
    int prec, exp10, nd = 0;
    size_t o = 0;
    bool neg;
    const char *e;
    if (d == 0)
        d = 0; /* -0 prints as 0 */
    if (ver == VER_2016 && d == floor(d) && fabs(d) < 9007199254740992.0)
        return (size_t)snprintf(out, NUM_BUF, "%" PRId64, (int64_t)d);
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    neg = tmp[0] == '-';
    for (const char *p = tmp + neg; *p && *p != 'e'; p++)
        if (isdigit((unsigned char)*p))
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    e = strchr(tmp, 'e');
    exp10 = e ? atoi(e + 1) : 0;
    if (neg)
        out[o++] = '-';
    if (d != 0 && (fabs(d) >= 1e21 || fabs(d) < 1e-7)) {
        out[o++] = digits[0];
        out[o++] = '.';
        if (nd > 1) {
            memcpy(out + o, digits + 1, (size_t)nd - 1);
            o += (size_t)nd - 1;
        } else {
            out[o++] = '0';
        }
        o += (size_t)snprintf(out + o, NUM_BUF - o, "E%d", exp10);
        return o;
    }
    if (exp10 >= 0) {
        for (int i = 0; i <= exp10; i++)
            out[o++] = i < nd ? digits[i] : '0';
        if (nd > exp10 + 1) {
            out[o++] = '.';
            for (int i = exp10 + 1; i < nd; i++)
                out[o++] = digits[i];
        } else if (ver == VER_2015) {
            out[o++] = '.';
            out[o++] = '0';
        }
    } else {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -exp10 - 1; i++)
            out[o++] = '0';
        memcpy(out + o, digits, (size_t)nd);
        o += (size_t)nd;
    }
    out[o] = '\0';
    return o;
}

/* Append the text of an Int or Decimal. */
static void sb_num(sb_t *b, const val_t *v, int ver) {
    char buf[NUM_BUF];
    if (v->t == V_DEC && v->u.dec.txt)
        sb_adds(b, v->u.dec.txt);
    else
        sb_add(b, buf, v->t == V_INT ? fmt_int(v->u.i, buf) : fmt_dec(v->u.dec.d, ver, buf));
}

/* A String that converts to a number: ^-?\d+(\.\d+)?([eE]-?\d+)?$ (4.3). */
static bool str_numeric(str_t s, double *out) {
    size_t i = 0;
    char buf[64], *heap = NULL;
    const char *p;
    if (i < s.n && s.p[i] == '-')
        i++;
    if (i >= s.n || !isdigit((unsigned char)s.p[i]))
        return false;
    while (i < s.n && isdigit((unsigned char)s.p[i]))
        i++;
    if (i < s.n && s.p[i] == '.') {
        i++;
        if (i >= s.n || !isdigit((unsigned char)s.p[i]))
            return false;
        while (i < s.n && isdigit((unsigned char)s.p[i]))
            i++;
    }
    if (i < s.n && (s.p[i] == 'e' || s.p[i] == 'E')) {
        i++;
        if (i < s.n && s.p[i] == '-')
            i++;
        if (i >= s.n || !isdigit((unsigned char)s.p[i]))
            return false;
        while (i < s.n && isdigit((unsigned char)s.p[i]))
            i++;
    }
    if (i != s.n)
        return false;
    if (s.n < sizeof(buf)) {
        memcpy(buf, s.p, s.n);
        buf[s.n] = '\0';
        p = buf;
    } else {
        heap = ic_xstrndup(s.p, s.n);
        p = heap;
    }
    *out = strtod(p, NULL);
    free(heap);
    return isfinite(*out);
}

/* Int or Decimal as a double. */
static double num_d(const val_t *v) {
    return v->t == V_INT ? (double)v->u.i : v->u.dec.d;
}

static bool is_num(const val_t *v) {
    return v->t == V_INT || v->t == V_DEC;
}

/* Truncate toward zero into int64 (U32); false when out of range. */
static bool d_to_i64(double d, int64_t *out) {
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return false; /* also NaN */
    *out = (int64_t)trunc(d);
    return true;
}

/* Compare two numbers exactly enough: -1, 0, 1. */
static int num_cmp(const val_t *a, const val_t *b) {
    if (a->t == V_INT && b->t == V_INT)
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    if (a->t == V_INT || b->t == V_INT) {
        /* Int vs Decimal: exact when the double is integral and in range */
        const val_t *iv = a->t == V_INT ? a : b, *dv = a->t == V_INT ? b : a;
        double d = dv->u.dec.d;
        int64_t di;
        int r;
        if (d == trunc(d) && d_to_i64(d, &di))
            r = iv->u.i < di ? -1 : iv->u.i > di;
        else
            r = (double)iv->u.i < d ? -1 : (double)iv->u.i > d;
        return a->t == V_INT ? r : -r;
    }
    return a->u.dec.d < b->u.dec.d ? -1 : a->u.dec.d > b->u.dec.d;
}

/* ---- JSON reader ---------------------------------------------------------
 * Strict RFC 8259 into values: valid UTF-8, no control characters in
 * strings, no lone surrogates, depth <= IC_SQL_MAX_JSON_DEPTH, finite
 * numbers. Strings without escapes point into the input (which outlives
 * the run: payload, decoded bytes, callback text copied into the arena). */

typedef struct jr_s {
    ev_t *ev;
    const char *p, *end;
    int depth;
} jr_t;

static void jr_ws(jr_t *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static bool hex4(const char *p, const char *end, uint32_t *out) {
    uint32_t v = 0;
    if (end - p < 4)
        return false;
    for (int i = 0; i < 4; i++) {
        int h = ic_hexval((unsigned char)p[i]);
        if (h < 0)
            return false;
        v = (v << 4) | (uint32_t)h;
    }
    *out = v;
    return true;
}

static bool jr_string(jr_t *r, str_t *out) {
    const char *start = ++r->p, *q;
    bool esc = false;
    sb_t b;
    /* scan and validate first */
    for (q = start;; ) {
        uint32_t c;
        size_t l;
        if (q >= r->end)
            return false;
        if (*q == '"')
            break;
        if (*q == '\\') {
            esc = true;
            q += 2;
            continue;
        }
        if ((unsigned char)*q < 0x20)
            return false;
        l = ic_utf8_decode((const unsigned char *)q, (size_t)(r->end - q), &c);
        if (!l)
            return false;
        q += l;
    }
    if (!esc) {
        out->p = start;
        out->n = (size_t)(q - start);
        r->p = q + 1;
        return ev_charge(r->ev, 1 + out->n / 64);
    }
    sb_init(&b, r->ev);
    if (!sb_reserve(&b, (size_t)(q - start)))
        return false;
    for (q = start; *q != '"';) {
        if (*q != '\\') {
            const char *run = q;
            while (*q != '\\' && *q != '"')
                q++;
            sb_add(&b, run, (size_t)(q - run));
            continue;
        }
        q++;
        switch (*q) {
        case '"': case '\\': case '/':
            sb_addc(&b, *q);
            q++;
            break;
        case 'b': sb_addc(&b, '\b'); q++; break;
        case 'f': sb_addc(&b, '\f'); q++; break;
        case 'n': sb_addc(&b, '\n'); q++; break;
        case 'r': sb_addc(&b, '\r'); q++; break;
        case 't': sb_addc(&b, '\t'); q++; break;
        case 'u': {
            uint32_t c, lo;
            char u8[4];
            if (!hex4(q + 1, r->end, &c))
                return false;
            q += 5;
            if (c >= 0xDC00 && c <= 0xDFFF)
                return false;
            if (c >= 0xD800 && c <= 0xDBFF) {
                if (r->end - q < 6 || q[0] != '\\' || q[1] != 'u' || !hex4(q + 2, r->end, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return false;
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            }
            sb_add(&b, u8, ic_utf8_encode((uint8_t *)u8, c));
            break;
        }
        default:
            return false;
        }
    }
    r->p = q + 1;
    return sb_str(&b, out) && ev_charge(r->ev, 1 + out->n / 64);
}

static bool jr_number(jr_t *r, val_t *out) {
    const char *s = r->p, *q = r->p;
    bool is_int = true;
    char buf[64];
    char *txt;
    size_t n;
    if (q < r->end && *q == '-')
        q++;
    if (q >= r->end || !isdigit((unsigned char)*q))
        return false;
    if (*q == '0')
        q++;
    else
        while (q < r->end && isdigit((unsigned char)*q))
            q++;
    if (q < r->end && *q == '.') {
        is_int = false;
        q++;
        if (q >= r->end || !isdigit((unsigned char)*q))
            return false;
        while (q < r->end && isdigit((unsigned char)*q))
            q++;
    }
    if (q < r->end && (*q == 'e' || *q == 'E')) {
        is_int = false;
        q++;
        if (q < r->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= r->end || !isdigit((unsigned char)*q))
            return false;
        while (q < r->end && isdigit((unsigned char)*q))
            q++;
    }
    n = (size_t)(q - s);
    r->p = q;
    if (n < sizeof(buf)) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        txt = buf;
    } else if (!(txt = ev_strdup(r->ev, s, n))) {
        return false;
    }
    if (is_int) {
        char *e;
        long long ll;
        errno = 0;
        ll = strtoll(txt, &e, 10);
        if (errno == 0) {
            *out = v_int((int64_t)ll);
            return ev_charge(r->ev, 1);
        }
    }
    *out = v_dec(strtod(txt, NULL));
    if (out->t == V_UNDEF)
        return false; /* beyond the double range: not representable */
    if (is_int) { /* an Int beyond int64: keep its digits for output */
        if (txt == buf && !(txt = ev_strdup(r->ev, s, n)))
            return false;
        out->u.dec.txt = txt;
    }
    return ev_charge(r->ev, 1);
}

static bool jr_value(jr_t *r, val_t *out) {
    jr_ws(r);
    if (r->p >= r->end || r->ev->failed)
        return false;
    switch (*r->p) {
    case '{': {
        obj_t *o;
        if (++r->depth > IC_SQL_MAX_JSON_DEPTH || !(o = obj_new(r->ev)))
            return false;
        r->p++;
        jr_ws(r);
        if (r->p < r->end && *r->p == '}') {
            r->p++;
        } else {
            for (;;) {
                str_t k;
                val_t v;
                jr_ws(r);
                if (r->p >= r->end || *r->p != '"' || !jr_string(r, &k))
                    return false;
                jr_ws(r);
                if (r->p >= r->end || *r->p != ':')
                    return false;
                r->p++;
                if (!jr_value(r, &v) || !obj_set(r->ev, o, k, v))
                    return false;
                jr_ws(r);
                if (r->p < r->end && *r->p == ',') {
                    r->p++;
                    continue;
                }
                if (r->p < r->end && *r->p == '}') {
                    r->p++;
                    break;
                }
                return false;
            }
        }
        r->depth--;
        *out = v_obj(o);
        return true;
    }
    case '[': {
        arr_t *a;
        if (++r->depth > IC_SQL_MAX_JSON_DEPTH || !(a = arr_new(r->ev, 0)))
            return false;
        r->p++;
        jr_ws(r);
        if (r->p < r->end && *r->p == ']') {
            r->p++;
        } else {
            for (;;) {
                val_t v;
                if (!jr_value(r, &v) || !arr_push(r->ev, a, v))
                    return false;
                jr_ws(r);
                if (r->p < r->end && *r->p == ',') {
                    r->p++;
                    continue;
                }
                if (r->p < r->end && *r->p == ']') {
                    r->p++;
                    break;
                }
                return false;
            }
        }
        r->depth--;
        *out = v_arr(a);
        return true;
    }
    case '"': {
        str_t s;
        if (!jr_string(r, &s))
            return false;
        *out = v_str(s.p, s.n);
        return true;
    }
    case 't':
        if (r->end - r->p >= 4 && memcmp(r->p, "true", 4) == 0) {
            r->p += 4;
            *out = v_bool(true);
            return true;
        }
        return false;
    case 'f':
        if (r->end - r->p >= 5 && memcmp(r->p, "false", 5) == 0) {
            r->p += 5;
            *out = v_bool(false);
            return true;
        }
        return false;
    case 'n':
        if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0) {
            r->p += 4;
            *out = v_null();
            return true;
        }
        return false;
    default:
        return jr_number(r, out);
    }
}

/* Parse a whole JSON document. false: not JSON (or ev failed: check it). */
static bool json_parse(ev_t *ev, const char *p, size_t n, val_t *out) {
    jr_t r = {ev, p, p + n, 0};
    if (!jr_value(&r, out))
        return false;
    jr_ws(&r);
    return r.p == r.end;
}

/* ---- JSON writer ---------------------------------------------------------
 * Compact, insertion order, Undefined members and elements skipped; strings
 * escape only '"', '\' and control characters (U34). */

static void jw_str(sb_t *b, str_t s) {
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    sb_addc(b, '"');
    while (i < s.n) {
        size_t run = i;
        while (i < s.n && (unsigned char)s.p[i] >= 0x20 && s.p[i] != '"' && s.p[i] != '\\')
            i++;
        sb_add(b, s.p + run, i - run);
        if (i >= s.n)
            break;
        switch (s.p[i]) {
        case '"': sb_adds(b, "\\\""); break;
        case '\\': sb_adds(b, "\\\\"); break;
        case '\n': sb_adds(b, "\\n"); break;
        case '\r': sb_adds(b, "\\r"); break;
        case '\t': sb_adds(b, "\\t"); break;
        case '\b': sb_adds(b, "\\b"); break;
        case '\f': sb_adds(b, "\\f"); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[((unsigned char)s.p[i]) >> 4],
                         hex[s.p[i] & 0xF]};
            sb_add(b, u, 6);
        }
        }
        i++;
    }
    sb_addc(b, '"');
}

static void jw_val(sb_t *b, const val_t *v, int ver) {
    if (!ev_charge(b->ev, 1)) {
        b->failed = true;
        return;
    }
    switch (v->t) {
    case V_UNDEF: break;
    case V_NULL: sb_adds(b, "null"); break;
    case V_BOOL: sb_adds(b, v->u.b ? "true" : "false"); break;
    case V_INT:
    case V_DEC: sb_num(b, v, ver); break;
    case V_STR: jw_str(b, v->u.s); break;
    case V_ARR: {
        bool first = true;
        sb_addc(b, '[');
        for (size_t i = 0; i < v->u.a->n && !b->failed; i++) {
            if (v->u.a->v[i].t == V_UNDEF)
                continue;
            if (!first)
                sb_addc(b, ',');
            first = false;
            jw_val(b, &v->u.a->v[i], ver);
        }
        sb_addc(b, ']');
        break;
    }
    case V_OBJ: {
        bool first = true;
        sb_addc(b, '{');
        for (size_t i = 0; i < v->u.o->n && !b->failed; i++) {
            if (v->u.o->v[i].t == V_UNDEF)
                continue;
            if (!first)
                sb_addc(b, ',');
            first = false;
            jw_str(b, v->u.o->k[i]);
            sb_addc(b, ':');
            jw_val(b, &v->u.o->v[i], ver);
        }
        sb_addc(b, '}');
        break;
    }
    }
}

/* ---- conversions (spec 4.4) ------------------------------------------- */

/* To-String: false for Null and Undefined (and on a limit error). */
static bool to_str(ev_t *ev, const val_t *v, str_t *out) {
    sb_t b;
    switch (v->t) {
    case V_STR:
        *out = v->u.s;
        return true;
    case V_BOOL:
        out->p = v->u.b ? "true" : "false";
        out->n = v->u.b ? 4 : 5;
        return true;
    case V_INT:
    case V_DEC:
    case V_ARR:
    case V_OBJ:
        sb_init(&b, ev);
        if (is_num(v))
            sb_num(&b, v, ev->ver);
        else
            jw_val(&b, v, ev->ver);
        return sb_str(&b, out);
    default:
        return false;
    }
}

/* Int or Decimal; a numeric String becomes a Decimal (4.3). */
static bool as_num(const val_t *v, val_t *out) {
    double d;
    if (is_num(v)) {
        *out = *v;
        return true;
    }
    if (v->t == V_STR && str_numeric(v->u.s, &d)) {
        *out = v_dec(d);
        return out->t == V_DEC;
    }
    return false;
}

static bool as_double(const val_t *v, double *d) {
    val_t n;
    if (!as_num(v, &n))
        return false;
    *d = num_d(&n);
    return true;
}

/* To-Int: Decimals and numeric strings truncated toward zero (U32). */
static bool as_int(const val_t *v, int64_t *i) {
    val_t n;
    if (!as_num(v, &n))
        return false;
    if (n.t == V_INT) {
        *i = n.u.i;
        return true;
    }
    return d_to_i64(n.u.dec.d, i);
}

/* To-Boolean: -1 when not convertible. */
static int as_bool(const val_t *v) {
    if (v->t == V_BOOL)
        return v->u.b;
    if (v->t == V_STR) {
        if (str_ieq_c(v->u.s, "true"))
            return 1;
        if (str_ieq_c(v->u.s, "false"))
            return 0;
    }
    return -1;
}

/* Equality without conversion (5.3): -1 Undefined, 0 false, 1 true. */
static int val_eq(ev_t *ev, const val_t *a, const val_t *b) {
    if (a->t == V_UNDEF || b->t == V_UNDEF)
        return -1;
    if (!ev_charge(ev, 1))
        return -1;
    if (is_num(a) && is_num(b))
        return num_cmp(a, b) == 0;
    if (a->t != b->t)
        return 0;
    switch (a->t) {
    case V_NULL: return 1;
    case V_BOOL: return a->u.b == b->u.b;
    case V_STR: return str_eq(a->u.s, b->u.s);
    case V_ARR:
        if (a->u.a->n != b->u.a->n)
            return 0;
        for (size_t i = 0; i < a->u.a->n; i++)
            if (val_eq(ev, &a->u.a->v[i], &b->u.a->v[i]) != 1)
                return 0;
        return 1;
    case V_OBJ: {
        size_t na = 0, nb = 0;
        for (size_t i = 0; i < a->u.o->n; i++)
            na += a->u.o->v[i].t != V_UNDEF;
        for (size_t i = 0; i < b->u.o->n; i++)
            nb += b->u.o->v[i].t != V_UNDEF;
        if (na != nb)
            return 0;
        for (size_t i = 0; i < a->u.o->n; i++) {
            const val_t *o;
            if (a->u.o->v[i].t == V_UNDEF)
                continue;
            o = obj_get(b->u.o, a->u.o->k[i]);
            if (!o || val_eq(ev, &a->u.o->v[i], o) != 1)
                return 0;
        }
        return 1;
    }
    default:
        return 0;
    }
}

/* ---- AST ---------------------------------------------------------------- */

typedef enum {
    N_LIT, N_FIELD, N_STAR, N_VAR, N_PATH, N_INDEX, N_NEG, N_POS, N_NOT, N_BIN,
    N_CALL, N_CAST, N_CASE, N_EXISTS, N_SUBQ, N_OBJ, N_ARR
} nkind_t;

typedef enum {
    OP_AND, OP_OR, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_ADD, OP_SUB,
    OP_MUL, OP_DIV, OP_MOD, OP_IN
} op_t;

typedef enum { CT_STR, CT_INT, CT_DEC, CT_BOOL } cast_t;

typedef val_t (*fn_impl_t)(ev_t *ev, const scope_t *sc, const node_t *call,
                           const val_t *a, size_t n);

typedef enum { FK_PURE, FK_EXT } fkind_t;

typedef struct fn_s {
    const char *name;   /* canonical spelling (lower case compare) */
    uint8_t min, max;   /* arity; other counts -> Undefined */
    bool v2016;         /* 2016-03-23 only (U12) */
    fkind_t kind;       /* FK_EXT: needs an AWS service (U59) */
    fn_impl_t f;
} fn_t;

struct node_s {
    nkind_t k;
    int op;             /* N_BIN: op_t; N_CAST: cast_t */
    int depth;          /* 1 + the deepest child; <= IC_SQL_MAX_DEPTH */
    int var;            /* N_VAR: slot, -1 = by name (templates) */
    val_t lit;          /* N_LIT */
    str_t name;         /* N_FIELD, N_PATH member, N_VAR, N_CALL as written */
    node_t *a, *b;      /* operands; N_PATH/N_INDEX base a (index b);
                           N_CASE operand a, ELSE b */
    node_t **args;      /* N_CALL args, N_ARR items, N_OBJ values,
                           N_CASE when/then pairs */
    str_t *keys;        /* N_OBJ keys */
    size_t n;           /* entries in args (and keys) */
    const fn_t *fn;     /* N_CALL */
    sel_t *sel;         /* N_SUBQ, N_EXISTS */
};

typedef struct item_s {
    node_t *expr;
    str_t *path;        /* output key (alias segments or the implicit key) */
    size_t n_path;      /* 0: a bare '*' (copy the document's members) */
} item_t;

struct sel_s {
    bool is_value;      /* SELECT VALUE: items[0].expr is the value */
    item_t *items;
    size_t n_items;
    node_t *from;       /* nested SELECT source; NULL at top level */
    bool from_star;     /* FROM * */
    str_t as;           /* FROM src AS name */
    node_t *where;      /* NULL: none */
};

static const fn_t *fn_lookup(str_t name);

/* ---- lexer ---------------------------------------------------------------
 * On demand: lex_at(pos) returns the token starting at or after pos, so the
 * parser can peek, switch to raw topic-filter text after FROM, and stop at a
 * template's closing brace without lexing the text behind it. */

typedef enum { T_EOF, T_ERR, T_IDENT, T_STR, T_NUM, T_VAR, T_OP } ttype_t;

enum {
    K_NONE, K_SELECT, K_VALUE, K_AS, K_FROM, K_WHERE, K_AND, K_OR, K_NOT, K_IN,
    K_CASE, K_WHEN, K_THEN, K_ELSE, K_END, K_CAST, K_EXISTS, K_NULL, K_TRUE,
    K_FALSE, K_SET
};

static const char *const keywords[] = {
    "", "select", "value", "as", "from", "where", "and", "or", "not", "in",
    "case", "when", "then", "else", "end", "cast", "exists", "null", "true",
    "false", "set"
};

enum {
    P_LPAREN = 1, P_RPAREN, P_LBRACK, P_RBRACK, P_LBRACE, P_RBRACE, P_COMMA,
    P_DOT, P_COLON, P_STAR, P_PLUS, P_MINUS, P_SLASH, P_PCT, P_EQ, P_NE, P_LT,
    P_LE, P_GT, P_GE, P_SEMI
};

typedef struct tok_s {
    ttype_t t;
    int kw;             /* T_IDENT: K_* */
    int op;             /* T_OP: P_* */
    size_t pos, end;    /* byte offsets in the source */
    const char *msg;    /* T_ERR */
} tok_t;

typedef struct ps_s {
    const char *src;
    size_t len;
    arena_t *ar;
    int ver;
    tok_t cur;
    int rec;            /* parser recursion depth */
    bool failed;
    ic_sql_err_t *err;
    bool tmpl;          /* template: @vars resolved by name at render */
    char warning[128];  /* first create-time remark, "" when none */
    str_t vars[IC_SQL_MAX_VARS]; /* declared so far */
    size_t n_vars;
} ps_t;

static bool is_ident0(int c) {
    return isalpha(c) || c == '_';
}

static bool is_ident(int c) {
    return isalnum(c) || c == '_';
}

static bool is_blank(int c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static tok_t lex_at(const ps_t *ps, size_t i) {
    const char *s = ps->src;
    size_t n = ps->len;
    tok_t t = {.t = T_EOF};
    int c;
    while (i < n && is_blank((unsigned char)s[i]))
        i++;
    t.pos = t.end = i;
    if (i >= n)
        return t;
    c = (unsigned char)s[i];
    if (is_ident0(c)) {
        size_t j = i;
        while (j < n && is_ident((unsigned char)s[j]))
            j++;
        t.t = T_IDENT;
        t.end = j;
        for (int k = 1; k < (int)(sizeof(keywords) / sizeof(keywords[0])); k++)
            if (strlen(keywords[k]) == j - i && strncasecmp(keywords[k], s + i, j - i) == 0)
                t.kw = k;
        return t;
    }
    if (isdigit(c)) {
        size_t j = i;
        while (j < n && isdigit((unsigned char)s[j]))
            j++;
        if (j + 1 < n && s[j] == '.' && isdigit((unsigned char)s[j + 1])) {
            j++;
            while (j < n && isdigit((unsigned char)s[j]))
                j++;
        }
        if (j < n && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < n && (s[k] == '+' || s[k] == '-'))
                k++;
            if (k < n && isdigit((unsigned char)s[k])) {
                while (k < n && isdigit((unsigned char)s[k]))
                    k++;
                j = k;
            }
        }
        t.t = T_NUM;
        t.end = j;
        return t;
    }
    if (c == '\'' || c == '"') {
        size_t j = i + 1;
        for (;;) {
            if (j >= n) {
                t.t = T_ERR;
                t.msg = "Unterminated string literal";
                t.end = n;
                return t;
            }
            if (s[j] == '\\') {
                j += 2;
                continue;
            }
            if ((unsigned char)s[j] == c) {
                if (j + 1 < n && (unsigned char)s[j + 1] == c) {
                    j += 2;
                    continue;
                }
                break;
            }
            j++;
        }
        t.t = T_STR;
        t.end = j + 1;
        return t;
    }
    if (c == '@') {
        size_t j = i + 1;
        while (j < n && is_ident((unsigned char)s[j]))
            j++;
        t.end = j;
        if (j == i + 1) {
            t.t = T_ERR;
            t.msg = "Invalid variable name";
        } else if (j - i - 1 > 64) {
            t.t = T_ERR;
            t.msg = "Variable name longer than 64 characters";
        } else {
            t.t = T_VAR;
        }
        return t;
    }
    t.t = T_OP;
    t.end = i + 1;
    switch (c) {
    case '(': t.op = P_LPAREN; break;
    case ')': t.op = P_RPAREN; break;
    case '[': t.op = P_LBRACK; break;
    case ']': t.op = P_RBRACK; break;
    case '{': t.op = P_LBRACE; break;
    case '}': t.op = P_RBRACE; break;
    case ',': t.op = P_COMMA; break;
    case '.': t.op = P_DOT; break;
    case ':': t.op = P_COLON; break;
    case '*': t.op = P_STAR; break;
    case '+': t.op = P_PLUS; break;
    case '%': t.op = P_PCT; break;
    case '=': t.op = P_EQ; break;
    case ';': t.op = P_SEMI; break;
    case '-':
        if (i + 1 < n && s[i + 1] == '-') {
            t.t = T_ERR;
            t.msg = "Comments are not supported";
        }
        t.op = P_MINUS;
        break;
    case '/':
        if (i + 1 < n && s[i + 1] == '*') {
            t.t = T_ERR;
            t.msg = "Comments are not supported";
        }
        t.op = P_SLASH;
        break;
    case '<':
        t.op = P_LT;
        if (i + 1 < n && s[i + 1] == '=') {
            t.op = P_LE;
            t.end++;
        } else if (i + 1 < n && s[i + 1] == '>') {
            t.op = P_NE;
            t.end++;
        }
        break;
    case '>':
        t.op = P_GT;
        if (i + 1 < n && s[i + 1] == '=') {
            t.op = P_GE;
            t.end++;
        }
        break;
    case '!': /* U08: != as a synonym of <> */
        if (i + 1 < n && s[i + 1] == '=') {
            t.op = P_NE;
            t.end++;
            break;
        }
        /* fall through */
    default: {
        uint32_t cp;
        size_t l = ic_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        t.t = T_ERR;
        t.msg = "Unexpected character";
        t.end = i + (l ? l : 1);
    }
    }
    return t;
}

/* ---- parser --------------------------------------------------------------- */

static void *ps_alloc(ps_t *ps, size_t n) {
    void *p = ar_alloc(ps->ar, n);
    if (!p) { /* the AST arena's limit is far above any 256 KiB statement */
        fputs("iotcored: sql: AST arena limit\n", stderr);
        abort();
    }
    memset(p, 0, n);
    return p;
}

/* 1-based line and column (in characters) of byte offset pos. */
static void line_col(const char *s, size_t len, size_t pos, int *line, int *col) {
    int l = 1, c = 1;
    for (size_t i = 0; i < pos && i < len; i++) {
        if (s[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)s[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

__attribute__((format(printf, 3, 4)))
static void perr(ps_t *ps, size_t pos, const char *fmt, ...) {
    char what[200];
    va_list ap;
    int line, col;
    if (ps->failed)
        return;
    ps->failed = true;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    line_col(ps->src, ps->len, pos, &line, &col);
    if (ps->err) {
        ps->err->line = line;
        ps->err->column = col;
        snprintf(ps->err->message, sizeof(ps->err->message), "%s at line %d, column %d",
                 what, line, col);
    }
}

/* The token's source text for messages, cut at 40 bytes. */
static int tok_text(const ps_t *ps, const tok_t *t, const char **p) {
    size_t n = t->end - t->pos;
    *p = ps->src + t->pos;
    if (n > 40) {
        n = 40;
        while (n > 0 && ((unsigned char)(*p)[n] & 0xC0) == 0x80)
            n--;
    }
    return (int)n;
}

static void ps_unexpected(ps_t *ps) {
    const char *p;
    int n;
    if (ps->cur.t == T_ERR) {
        n = tok_text(ps, &ps->cur, &p);
        if (strcmp(ps->cur.msg, "Unexpected character") == 0)
            perr(ps, ps->cur.pos, "Unexpected character '%.*s'", n, p);
        else
            perr(ps, ps->cur.pos, "%s", ps->cur.msg);
    } else if (ps->cur.t == T_EOF) {
        perr(ps, ps->cur.pos, "Unexpected end of input");
    } else {
        n = tok_text(ps, &ps->cur, &p);
        perr(ps, ps->cur.pos, "Unexpected token '%.*s'", n, p);
    }
}

static void ps_expected(ps_t *ps, const char *what) {
    const char *p;
    int n;
    if (ps->cur.t == T_ERR) {
        ps_unexpected(ps);
    } else if (ps->cur.t == T_EOF) {
        perr(ps, ps->cur.pos, "Expected %s but found end of input", what);
    } else {
        n = tok_text(ps, &ps->cur, &p);
        perr(ps, ps->cur.pos, "Expected %s but found '%.*s'", what, n, p);
    }
}

static void ps_next(ps_t *ps) {
    ps->cur = lex_at(ps, ps->cur.end);
}

static bool is_op(const ps_t *ps, int op) {
    return ps->cur.t == T_OP && ps->cur.op == op;
}

static bool is_kw(const ps_t *ps, int kw) {
    return ps->cur.t == T_IDENT && ps->cur.kw == kw;
}

static bool expect_op(ps_t *ps, int op, const char *what) {
    if (!is_op(ps, op)) {
        ps_expected(ps, what);
        return false;
    }
    ps_next(ps);
    return true;
}

static bool expect_kw(ps_t *ps, int kw, const char *what) {
    if (!is_kw(ps, kw)) {
        ps_expected(ps, what);
        return false;
    }
    ps_next(ps);
    return true;
}

static bool need_2016(ps_t *ps, size_t pos, const char *what) {
    if (ps->ver == VER_2016)
        return true;
    perr(ps, pos, "%s requires SQL version 2016-03-23", what);
    return false;
}

static bool enter(ps_t *ps) {
    if (++ps->rec > IC_SQL_MAX_DEPTH) {
        perr(ps, ps->cur.pos, "Expression nested too deeply (more than %d levels)",
             IC_SQL_MAX_DEPTH);
        return false;
    }
    return true;
}

static str_t tok_ident(const ps_t *ps, const tok_t *t) {
    str_t s = {ps->src + t->pos, t->end - t->pos};
    return s;
}

/* Decode a string literal (U04): doubled quotes, JSON backslash escapes;
 * other backslash sequences are kept as written. */
static str_t tok_string(ps_t *ps, const tok_t *t) {
    const char *s = ps->src + t->pos + 1, *e = ps->src + t->end - 1;
    char q = ps->src[t->pos];
    char *o = ps_alloc(ps, (size_t)(e - s) + 1), *w = o;
    str_t r;
    while (s < e) {
        if (*s == q && s + 1 < e && s[1] == q) {
            *w++ = q;
            s += 2;
        } else if (*s == '\\' && s + 1 < e) {
            uint32_t c, lo;
            switch (s[1]) {
            case '"': case '\'': case '\\': case '/': *w++ = s[1]; s += 2; break;
            case 'b': *w++ = '\b'; s += 2; break;
            case 'f': *w++ = '\f'; s += 2; break;
            case 'n': *w++ = '\n'; s += 2; break;
            case 'r': *w++ = '\r'; s += 2; break;
            case 't': *w++ = '\t'; s += 2; break;
            case 'u':
                if (hex4(s + 2, e, &c)) {
                    s += 6;
                    if (c >= 0xD800 && c <= 0xDBFF && e - s >= 6 && s[0] == '\\' &&
                        s[1] == 'u' && hex4(s + 2, e, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                        c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                        s += 6;
                    } else if (c >= 0xD800 && c <= 0xDFFF) {
                        c = 0xFFFD; /* a lone surrogate is not UTF-8 */
                    }
                    w += ic_utf8_encode((uint8_t *)w, c);
                    break;
                }
                __attribute__((fallthrough)); /* not \uXXXX: kept as written */
            default:
                *w++ = *s++;
                *w++ = *s++;
            }
        } else {
            *w++ = *s++;
        }
    }
    *w = '\0';
    r.p = o;
    r.n = (size_t)(w - o);
    return r;
}

static val_t tok_number(ps_t *ps, const tok_t *t) {
    size_t n = t->end - t->pos;
    char *txt = ps_alloc(ps, n + 1);
    bool is_int = true;
    val_t v;
    memcpy(txt, ps->src + t->pos, n);
    txt[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)txt[i]))
            is_int = false;
    if (is_int) {
        char *e;
        unsigned long long u;
        errno = 0;
        u = strtoull(txt, &e, 10);
        if (errno == 0 && u <= (unsigned long long)INT64_MAX)
            return v_int((int64_t)u);
    }
    v = v_dec(strtod(txt, NULL));
    if (v.t == V_UNDEF) {
        perr(ps, t->pos, "Number out of range '%s'", txt);
        return v;
    }
    if (is_int)
        v.u.dec.txt = txt;
    return v;
}

static node_t *mk(ps_t *ps, nkind_t k, size_t pos) {
    node_t *n = ps_alloc(ps, sizeof(*n));
    (void)pos; /* positions are reported from tokens, not kept in nodes */
    n->k = k;
    n->depth = 1;
    n->var = -1;
    return n;
}

/* Set n's depth from its children; false (error) when too deep. */
static bool fix_depth(ps_t *ps, node_t *n, size_t pos) {
    int d = 0;
    if (n->a && n->a->depth > d)
        d = n->a->depth;
    if (n->b && n->b->depth > d)
        d = n->b->depth;
    for (size_t i = 0; i < n->n; i++)
        if (n->args[i]->depth > d)
            d = n->args[i]->depth;
    n->depth = d + 1;
    if (n->depth > IC_SQL_MAX_DEPTH) {
        perr(ps, pos, "Expression nested too deeply (more than %d levels)", IC_SQL_MAX_DEPTH);
        return false;
    }
    return true;
}

/* Growable pointer list in the AST arena. */
typedef struct plist_s {
    void **v;
    size_t n, cap;
} plist_t;

static void pl_push(ps_t *ps, plist_t *l, void *p) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 4;
        void **nv = ps_alloc(ps, nc * sizeof(void *));
        if (l->n)
            memcpy(nv, l->v, l->n * sizeof(void *));
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = p;
}

static node_t *parse_expr(ps_t *ps);
static sel_t *parse_subquery(ps_t *ps);

/* A nested SELECT node is as deep as its deepest expression plus one, so
 * the evaluator's recursion stays within IC_SQL_MAX_DEPTH across nesting. */
static node_t *mk_sel_node(ps_t *ps, nkind_t k, sel_t *s, size_t pos) {
    node_t *n = mk(ps, k, pos);
    int d = 0;
    n->sel = s;
    for (size_t i = 0; i < s->n_items; i++)
        if (s->items[i].expr->depth > d)
            d = s->items[i].expr->depth;
    if (s->from && s->from->depth > d)
        d = s->from->depth;
    if (s->where && s->where->depth > d)
        d = s->where->depth;
    n->depth = d + 2;
    if (n->depth > IC_SQL_MAX_DEPTH) {
        perr(ps, pos, "Expression nested too deeply (more than %d levels)", IC_SQL_MAX_DEPTH);
        return NULL;
    }
    return n;
}

static node_t *mk_bin(ps_t *ps, int op, node_t *l, node_t *r, size_t pos) {
    node_t *n = mk(ps, N_BIN, pos);
    n->op = op;
    n->a = l;
    n->b = r;
    return fix_depth(ps, n, pos) ? n : NULL;
}

static node_t *parse_call(ps_t *ps) {
    tok_t name = ps->cur;
    str_t id = tok_ident(ps, &name);
    const fn_t *fn = fn_lookup(id);
    node_t *n;
    plist_t args = {0};
    if (!fn) {
        perr(ps, name.pos, "Unknown function '%.*s'", (int)id.n, id.p);
        return NULL;
    }
    if (fn->v2016) {
        char what[80];
        snprintf(what, sizeof(what), "Function '%s'", fn->name);
        if (!need_2016(ps, name.pos, what))
            return NULL;
    }
    n = mk(ps, N_CALL, name.pos);
    n->name = id;
    n->fn = fn;
    ps_next(ps); /* name */
    ps_next(ps); /* ( */
    if (!is_op(ps, P_RPAREN)) {
        for (;;) {
            node_t *a;
            if (is_kw(ps, K_SELECT)) { /* VT: isNull(SELECT VALUE L1 FROM Pos) */
                size_t pos = ps->cur.pos;
                sel_t *s;
                if (!need_2016(ps, pos, "Nested SELECT") || !(s = parse_subquery(ps)) ||
                    !(a = mk_sel_node(ps, N_SUBQ, s, pos)))
                    return NULL;
            } else if (!(a = parse_expr(ps))) {
                return NULL;
            }
            pl_push(ps, &args, a);
            if (args.n > 255) {
                perr(ps, ps->cur.pos, "Too many arguments");
                return NULL;
            }
            if (!is_op(ps, P_COMMA))
                break;
            ps_next(ps);
        }
    }
    if (!expect_op(ps, P_RPAREN, "')'"))
        return NULL;
    n->args = (node_t **)args.v;
    n->n = args.n;
    /* spec 3.9: no variable as a mode or roleArn argument */
    if (n->n > 0) {
        size_t k = SIZE_MAX;
        if (strcmp(fn->name, "transform") == 0)
            k = 0;
        else if (strcmp(fn->name, "machinelearning_predict") == 0)
            k = 1;
        else if (strcmp(fn->name, "get_thing_shadow") == 0 ||
                 strcmp(fn->name, "get_registry_data") == 0 ||
                 strcmp(fn->name, "get_dynamodb") == 0 || strcmp(fn->name, "get_secret") == 0)
            k = n->n - 1;
        if (k < n->n && n->args[k]->k == N_VAR) {
            perr(ps, name.pos, "Variable '@%.*s' cannot be the %s argument of %s",
                 (int)n->args[k]->name.n, n->args[k]->name.p, k == 0 ? "mode" : "roleArn",
                 fn->name);
            return NULL;
        }
    }
    return fix_depth(ps, n, name.pos) ? n : NULL;
}


static node_t *parse_case(ps_t *ps) {
    size_t pos = ps->cur.pos;
    node_t *n = mk(ps, N_CASE, pos);
    plist_t pairs = {0};
    ps_next(ps);
    if (is_kw(ps, K_WHEN)) { /* U25 */
        perr(ps, ps->cur.pos, "Searched CASE (CASE WHEN condition) is not supported");
        return NULL;
    }
    if (!(n->a = parse_expr(ps)))
        return NULL;
    if (!is_kw(ps, K_WHEN)) {
        ps_expected(ps, "'WHEN'");
        return NULL;
    }
    while (is_kw(ps, K_WHEN)) {
        node_t *w, *t;
        ps_next(ps);
        if (!(w = parse_expr(ps)) || !expect_kw(ps, K_THEN, "'THEN'") || !(t = parse_expr(ps)))
            return NULL;
        pl_push(ps, &pairs, w);
        pl_push(ps, &pairs, t);
    }
    if (is_kw(ps, K_ELSE)) {
        ps_next(ps);
        if (!(n->b = parse_expr(ps)))
            return NULL;
    }
    if (!expect_kw(ps, K_END, "'END'"))
        return NULL;
    n->args = (node_t **)pairs.v;
    n->n = pairs.n;
    return fix_depth(ps, n, pos) ? n : NULL;
}

static node_t *parse_cast(ps_t *ps) {
    static const struct {
        const char *name;
        cast_t t;
        bool v2016;
    } types[] = {
        {"string", CT_STR, false}, {"nvarchar", CT_STR, false}, {"text", CT_STR, false},
        {"ntext", CT_STR, false}, {"varchar", CT_STR, false}, {"int", CT_INT, false},
        {"integer", CT_INT, false}, {"double", CT_DEC, false}, {"decimal", CT_DEC, true},
        {"bool", CT_BOOL, true}, {"boolean", CT_BOOL, true},
    };
    size_t pos = ps->cur.pos, i;
    node_t *n = mk(ps, N_CAST, pos);
    str_t ty;
    ps_next(ps);
    if (!expect_op(ps, P_LPAREN, "'('") || !(n->a = parse_expr(ps)) ||
        !expect_kw(ps, K_AS, "'AS'"))
        return NULL;
    if (ps->cur.t != T_IDENT) {
        ps_expected(ps, "a type name");
        return NULL;
    }
    ty = tok_ident(ps, &ps->cur);
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (str_ieq_c(ty, types[i].name))
            break;
    if (i == sizeof(types) / sizeof(types[0])) {
        perr(ps, ps->cur.pos, "Unknown type '%.*s'", (int)ty.n, ty.p);
        return NULL;
    }
    if (types[i].v2016) {
        char what[80];
        snprintf(what, sizeof(what), "Type '%.*s'", (int)ty.n, ty.p);
        if (!need_2016(ps, ps->cur.pos, what))
            return NULL;
    }
    n->op = types[i].t;
    ps_next(ps);
    if (!expect_op(ps, P_RPAREN, "')'"))
        return NULL;
    return fix_depth(ps, n, pos) ? n : NULL;
}

/* {'k': expr, ...} and [expr, ...], one trailing comma allowed (U06). */
static node_t *parse_literal(ps_t *ps, bool is_obj) {
    size_t pos = ps->cur.pos;
    node_t *n = mk(ps, is_obj ? N_OBJ : N_ARR, pos);
    plist_t vals = {0}, keys = {0};
    int close = is_obj ? P_RBRACE : P_RBRACK;
    if (!need_2016(ps, pos, is_obj ? "Object literal" : "Array literal"))
        return NULL;
    ps_next(ps);
    while (!is_op(ps, close)) {
        node_t *v;
        if (is_obj) {
            str_t *k;
            if (ps->cur.t != T_STR) {
                ps_expected(ps, "a quoted key");
                return NULL;
            }
            k = ps_alloc(ps, sizeof(*k));
            *k = tok_string(ps, &ps->cur);
            pl_push(ps, &keys, k);
            ps_next(ps);
            if (!expect_op(ps, P_COLON, "':'"))
                return NULL;
        }
        if (!(v = parse_expr(ps)))
            return NULL;
        pl_push(ps, &vals, v);
        if (is_op(ps, P_COMMA)) {
            ps_next(ps);
            continue;
        }
        if (!is_op(ps, close)) {
            ps_expected(ps, is_obj ? "',' or '}'" : "',' or ']'");
            return NULL;
        }
    }
    ps_next(ps);
    n->args = (node_t **)vals.v;
    n->n = vals.n;
    if (is_obj) {
        n->keys = ps_alloc(ps, (keys.n ? keys.n : 1) * sizeof(str_t));
        for (size_t i = 0; i < keys.n; i++)
            n->keys[i] = *(str_t *)keys.v[i];
    }
    return fix_depth(ps, n, pos) ? n : NULL;
}

static node_t *parse_primary(ps_t *ps) {
    tok_t t = ps->cur;
    node_t *n;
    switch (t.t) {
    case T_NUM:
        n = mk(ps, N_LIT, t.pos);
        n->lit = tok_number(ps, &t);
        ps_next(ps);
        return ps->failed ? NULL : n;
    case T_STR: {
        str_t s = tok_string(ps, &t);
        n = mk(ps, N_LIT, t.pos);
        n->lit = v_str(s.p, s.n);
        ps_next(ps);
        return n;
    }
    case T_VAR: {
        str_t name = {ps->src + t.pos + 1, t.end - t.pos - 1};
        n = mk(ps, N_VAR, t.pos);
        n->name = name;
        if (!ps->tmpl) {
            size_t i;
            for (i = 0; i < ps->n_vars; i++)
                if (str_eq(ps->vars[i], name))
                    break;
            if (i == ps->n_vars) {
                perr(ps, t.pos, "Undeclared variable '@%.*s'", (int)name.n, name.p);
                return NULL;
            }
            n->var = (int)i;
        }
        ps_next(ps);
        return n;
    }
    case T_OP:
        switch (t.op) {
        case P_STAR:
            ps_next(ps);
            return mk(ps, N_STAR, t.pos);
        case P_LPAREN:
            ps_next(ps);
            if (is_kw(ps, K_SELECT)) {
                sel_t *s;
                if (!need_2016(ps, ps->cur.pos, "Nested SELECT") || !(s = parse_subquery(ps)) ||
                    !(n = mk_sel_node(ps, N_SUBQ, s, t.pos)))
                    return NULL;
            } else if (!(n = parse_expr(ps))) {
                return NULL;
            }
            return expect_op(ps, P_RPAREN, "')'") ? n : NULL;
        case P_LBRACE:
            return parse_literal(ps, true);
        case P_LBRACK:
            return parse_literal(ps, false);
        default:
            break;
        }
        break;
    case T_IDENT:
        switch (t.kw) {
        case K_NULL:
        case K_TRUE:
        case K_FALSE:
            n = mk(ps, N_LIT, t.pos);
            n->lit = t.kw == K_NULL ? v_null() : v_bool(t.kw == K_TRUE);
            ps_next(ps);
            return n;
        case K_CASE:
            return parse_case(ps);
        case K_CAST:
            return parse_cast(ps);
        case K_EXISTS: {
            sel_t *s;
            if (!need_2016(ps, t.pos, "EXISTS"))
                return NULL;
            ps_next(ps);
            if (!expect_op(ps, P_LPAREN, "'('"))
                return NULL;
            if (!is_kw(ps, K_SELECT)) {
                ps_expected(ps, "'SELECT'");
                return NULL;
            }
            if (!(s = parse_subquery(ps)) || !expect_op(ps, P_RPAREN, "')'"))
                return NULL;
            return mk_sel_node(ps, N_EXISTS, s, t.pos);
        }
        case K_NONE:
        case K_VALUE: {
            tok_t nx = lex_at(ps, t.end);
            if (nx.t == T_OP && nx.op == P_LPAREN)
                return parse_call(ps);
            n = mk(ps, N_FIELD, t.pos);
            n->name = tok_ident(ps, &t);
            ps_next(ps);
            return n;
        }
        default:
            break;
        }
        break;
    default:
        break;
    }
    ps_unexpected(ps);
    return NULL;
}

static node_t *parse_postfix(ps_t *ps) {
    node_t *n = parse_primary(ps);
    while (n) {
        size_t pos = ps->cur.pos;
        node_t *p;
        if (is_op(ps, P_DOT)) {
            ps_next(ps);
            if (ps->cur.t != T_IDENT) {
                ps_expected(ps, "a field name");
                return NULL;
            }
            p = mk(ps, N_PATH, pos);
            p->a = n;
            p->name = tok_ident(ps, &ps->cur);
            ps_next(ps);
        } else if (is_op(ps, P_LBRACK)) { /* U22 */
            ps_next(ps);
            p = mk(ps, N_INDEX, pos);
            p->a = n;
            if (!(p->b = parse_expr(ps)) || !expect_op(ps, P_RBRACK, "']'"))
                return NULL;
        } else {
            break;
        }
        n = fix_depth(ps, p, pos) ? p : NULL;
    }
    return n;
}

static node_t *parse_unary(ps_t *ps) {
    if (is_op(ps, P_MINUS) || is_op(ps, P_PLUS)) {
        size_t pos = ps->cur.pos;
        bool neg = ps->cur.op == P_MINUS;
        node_t *x, *n;
        if (!enter(ps))
            return NULL;
        ps_next(ps);
        x = parse_unary(ps);
        ps->rec--;
        if (!x)
            return NULL;
        if (x->k == N_LIT && is_num(&x->lit) && neg) { /* fold -literal */
            val_t *v = &x->lit;
            if (v->t == V_INT) {
                v->u.i = -v->u.i;
            } else if (v->u.dec.txt && strcmp(v->u.dec.txt, "9223372036854775808") == 0) {
                *v = v_int(INT64_MIN);
            } else {
                v->u.dec.d = -v->u.dec.d;
                if (v->u.dec.txt) {
                    size_t l = strlen(v->u.dec.txt);
                    char *t = ps_alloc(ps, l + 2);
                    t[0] = '-';
                    memcpy(t + 1, v->u.dec.txt, l + 1);
                    v->u.dec.txt = t;
                }
            }
            return x;
        }
        n = mk(ps, neg ? N_NEG : N_POS, pos);
        n->a = x;
        return fix_depth(ps, n, pos) ? n : NULL;
    }
    return parse_postfix(ps);
}

static node_t *parse_mul(ps_t *ps) {
    node_t *l = parse_unary(ps);
    while (l && (is_op(ps, P_STAR) || is_op(ps, P_SLASH) || is_op(ps, P_PCT))) {
        size_t pos = ps->cur.pos;
        int op = ps->cur.op == P_STAR ? OP_MUL : ps->cur.op == P_SLASH ? OP_DIV : OP_MOD;
        node_t *r;
        ps_next(ps);
        if (!(r = parse_unary(ps)))
            return NULL;
        l = mk_bin(ps, op, l, r, pos);
    }
    return l;
}

static node_t *parse_add(ps_t *ps) {
    node_t *l = parse_mul(ps);
    while (l && (is_op(ps, P_PLUS) || is_op(ps, P_MINUS))) {
        size_t pos = ps->cur.pos;
        int op = ps->cur.op == P_PLUS ? OP_ADD : OP_SUB;
        node_t *r;
        ps_next(ps);
        if (!(r = parse_mul(ps)))
            return NULL;
        l = mk_bin(ps, op, l, r, pos);
    }
    return l;
}

static node_t *parse_cmp(ps_t *ps) {
    node_t *l = parse_add(ps), *r;
    size_t pos = ps->cur.pos;
    int op = -1;
    if (!l)
        return NULL;
    if (ps->cur.t == T_OP) {
        switch (ps->cur.op) {
        case P_EQ: op = OP_EQ; break;
        case P_NE:
            op = OP_NE;
            if (ps->src[pos] == '!' && !ps->warning[0]) { /* U08 */
                int line, col;
                line_col(ps->src, ps->len, pos, &line, &col);
                snprintf(ps->warning, sizeof(ps->warning),
                         "'!=' is not AWS IoT SQL, read as '<>' at line %d, column %d", line,
                         col);
            }
            break;
        case P_LT: op = OP_LT; break;
        case P_LE: op = OP_LE; break;
        case P_GT: op = OP_GT; break;
        case P_GE: op = OP_GE; break;
        default: break;
        }
    } else if (is_kw(ps, K_IN)) {
        op = OP_IN;
    }
    if (op < 0)
        return l;
    ps_next(ps);
    if (!(r = parse_add(ps)))
        return NULL;
    return mk_bin(ps, op, l, r, pos);
}

static node_t *parse_not(ps_t *ps) {
    if (is_kw(ps, K_NOT)) {
        size_t pos = ps->cur.pos;
        node_t *x, *n;
        if (!enter(ps))
            return NULL;
        ps_next(ps);
        x = parse_not(ps);
        ps->rec--;
        if (!x)
            return NULL;
        n = mk(ps, N_NOT, pos);
        n->a = x;
        return fix_depth(ps, n, pos) ? n : NULL;
    }
    return parse_cmp(ps);
}

static node_t *parse_and(ps_t *ps) {
    node_t *l = parse_not(ps);
    while (l && is_kw(ps, K_AND)) {
        size_t pos = ps->cur.pos;
        node_t *r;
        ps_next(ps);
        if (!(r = parse_not(ps)))
            return NULL;
        l = mk_bin(ps, OP_AND, l, r, pos);
    }
    return l;
}

static node_t *parse_expr(ps_t *ps) {
    node_t *l;
    if (!enter(ps))
        return NULL;
    l = parse_and(ps);
    while (l && is_kw(ps, K_OR)) {
        size_t pos = ps->cur.pos;
        node_t *r;
        ps_next(ps);
        if (!(r = parse_and(ps))) {
            l = NULL;
            break;
        }
        l = mk_bin(ps, OP_OR, l, r, pos);
    }
    ps->rec--;
    return l;
}

/* U03: after SELECT, VALUE is the keyword only when an expression follows
 * (not FROM, ',', AS, '.', an operator or the end). */
static bool value_is_keyword(const ps_t *ps) {
    tok_t nx = lex_at(ps, ps->cur.end);
    switch (nx.t) {
    case T_STR:
    case T_NUM:
    case T_VAR:
        return true;
    case T_IDENT:
        return nx.kw == K_NONE || nx.kw == K_VALUE || nx.kw == K_NOT || nx.kw == K_CASE ||
               nx.kw == K_CAST || nx.kw == K_EXISTS || nx.kw == K_NULL || nx.kw == K_TRUE ||
               nx.kw == K_FALSE;
    case T_OP:
        return nx.op == P_LPAREN || nx.op == P_LBRACE || nx.op == P_LBRACK ||
               nx.op == P_STAR || nx.op == P_MINUS || nx.op == P_PLUS;
    default:
        return false;
    }
}

/* The output key of an unaliased item (U17): last path segment, function
 * name in lower case, else _N. */
static void implicit_key(ps_t *ps, item_t *it, size_t index) {
    node_t *e = it->expr;
    str_t *k = ps_alloc(ps, sizeof(*k));
    if (e->k == N_FIELD || e->k == N_PATH) {
        *k = e->name;
    } else if (e->k == N_CALL || e->k == N_CAST) {
        const char *src = e->k == N_CALL ? e->name.p : "cast";
        size_t n = e->k == N_CALL ? e->name.n : 4;
        char *o = ps_alloc(ps, n + 1);
        for (size_t i = 0; i < n; i++)
            o[i] = (char)tolower((unsigned char)src[i]);
        k->p = o;
        k->n = n;
    } else {
        char *o = ps_alloc(ps, 24);
        k->n = (size_t)snprintf(o, 24, "_%zu", index + 1);
        k->p = o;
    }
    it->path = k;
    it->n_path = 1;
}

/* After SELECT: VALUE expr | item {, item}. */
static bool parse_select_list(ps_t *ps, sel_t *sel) {
    plist_t items = {0};
    ps_next(ps); /* SELECT */
    if (is_kw(ps, K_VALUE) && value_is_keyword(ps)) {
        item_t *it = ps_alloc(ps, sizeof(*it));
        ps_next(ps);
        sel->is_value = true;
        if (!(it->expr = parse_expr(ps)))
            return false;
        sel->items = it;
        sel->n_items = 1;
        return true;
    }
    for (;;) {
        item_t *it = ps_alloc(ps, sizeof(*it));
        if (!(it->expr = parse_expr(ps)))
            return false;
        if (is_kw(ps, K_AS)) {
            plist_t segs = {0};
            ps_next(ps);
            for (;;) {
                str_t *s;
                /* keywords make fine aliases (AS value, AS timestamp) except
                 * the clause words that would swallow the rest */
                if (ps->cur.t != T_IDENT ||
                    (segs.n == 0 && (ps->cur.kw == K_FROM || ps->cur.kw == K_WHERE))) {
                    ps_expected(ps, "an alias");
                    return false;
                }
                if (segs.n == IC_SQL_MAX_DEPTH) { /* the output's nesting */
                    perr(ps, ps->cur.pos, "Alias nested too deeply (more than %d levels)",
                         IC_SQL_MAX_DEPTH);
                    return false;
                }
                s = ps_alloc(ps, sizeof(*s));
                *s = tok_ident(ps, &ps->cur);
                pl_push(ps, &segs, s);
                ps_next(ps);
                if (!is_op(ps, P_DOT))
                    break;
                ps_next(ps);
            }
            it->path = ps_alloc(ps, segs.n * sizeof(str_t));
            for (size_t i = 0; i < segs.n; i++)
                it->path[i] = *(str_t *)segs.v[i];
            it->n_path = segs.n;
        } else if (it->expr->k != N_STAR) {
            implicit_key(ps, it, items.n);
        }
        pl_push(ps, &items, it);
        if (!is_op(ps, P_COMMA))
            break;
        ps_next(ps);
    }
    sel->items = ps_alloc(ps, items.n * sizeof(item_t));
    for (size_t i = 0; i < items.n; i++)
        sel->items[i] = *(item_t *)items.v[i];
    sel->n_items = items.n;
    return true;
}

/* SELECT ... FROM (expr | *) [AS name] [WHERE expr] (spec 3.7). */
static sel_t *parse_subquery(ps_t *ps) {
    sel_t *sel = ps_alloc(ps, sizeof(*sel));
    if (!enter(ps))
        return NULL;
    if (!parse_select_list(ps, sel) || !expect_kw(ps, K_FROM, "'FROM'") ||
        !(sel->from = parse_expr(ps)))
        return NULL;
    sel->from_star = sel->from->k == N_STAR;
    if (is_kw(ps, K_AS)) {
        ps_next(ps);
        if (ps->cur.t != T_IDENT) {
            ps_expected(ps, "a name");
            return NULL;
        }
        sel->as = tok_ident(ps, &ps->cur);
        ps_next(ps);
    }
    if (is_kw(ps, K_WHERE)) {
        ps_next(ps);
        if (!(sel->where = parse_expr(ps)))
            return NULL;
    }
    ps->rec--;
    return sel;
}

/* ---- evaluation ------------------------------------------------------------ */

static val_t eval(ev_t *ev, const scope_t *sc, const node_t *n);

/* The document `*` names: the payload object at top level (Undefined for a
 * binary payload, U28), the current element in a nested SELECT. */
static val_t star_val(const ev_t *ev, const scope_t *sc) {
    if (sc->top)
        return ev->pay == PAY_RAW ? UNDEF : ev->payload;
    return *sc->doc;
}

static val_t field(const ev_t *ev, const scope_t *sc, str_t name) {
    val_t doc;
    const val_t *m;
    if (!sc->top && sc->alias.n && str_eq(sc->alias, name))
        return *sc->doc;
    doc = star_val(ev, sc);
    if (doc.t != V_OBJ || !(m = obj_get(doc.u.o, name)))
        return UNDEF;
    return *m;
}

/* get(c, k) and c[k] (spec 6.3, U22, U49). */
static val_t get_elem(ev_t *ev, const val_t *c, const val_t *k) {
    int64_t i;
    const val_t *m;
    switch (c->t) {
    case V_ARR:
        if (!as_int(k, &i) || i < 0 || (uint64_t)i >= c->u.a->n)
            return UNDEF;
        return c->u.a->v[i];
    case V_STR: {
        size_t off, len;
        uint32_t cp;
        if (!as_int(k, &i) || i < 0)
            return UNDEF;
        off = utf8_offset(c->u.s, (size_t)i);
        if (off >= c->u.s.n)
            return UNDEF;
        len = utf8_next(c->u.s.p + off, c->u.s.n - off, &cp);
        return v_str(c->u.s.p + off, len);
    }
    case V_OBJ:
        if (k->t != V_STR || !(m = obj_get(c->u.o, k->u.s)))
            return UNDEF;
        return *m;
    default:
        (void)ev;
        return UNDEF;
    }
}

static val_t str_concat(ev_t *ev, str_t a, str_t b) {
    sb_t sb;
    sb_init(&sb, ev);
    sb_add(&sb, a.p, a.n);
    sb_add(&sb, b.p, b.n);
    return sb_val(&sb);
}

/* + - * / % (spec 5.4). */
static val_t arith(ev_t *ev, int op, const val_t *l, const val_t *r) {
    val_t x, y;
    double a, b, res;
    if (l->t == V_UNDEF || r->t == V_UNDEF)
        return UNDEF;
    if (op == OP_ADD && (l->t == V_STR || r->t == V_STR)) {
        str_t sa, sb;
        if (!to_str(ev, l, &sa) || !to_str(ev, r, &sb))
            return UNDEF;
        return str_concat(ev, sa, sb);
    }
    if (!as_num(l, &x) || !as_num(r, &y))
        return UNDEF;
    if (x.t == V_INT && y.t == V_INT) {
        int64_t i = x.u.i, j = y.u.i, k;
        switch (op) {
        case OP_ADD:
            if (!__builtin_add_overflow(i, j, &k))
                return v_int(k);
            break; /* U30: recompute as Decimal */
        case OP_SUB:
            if (!__builtin_sub_overflow(i, j, &k))
                return v_int(k);
            break;
        case OP_MUL:
            if (!__builtin_mul_overflow(i, j, &k))
                return v_int(k);
            break;
        case OP_DIV: /* U36 truncating, U37 zero */
            if (j == 0)
                return UNDEF;
            if (i == INT64_MIN && j == -1)
                break;
            return v_int(i / j);
        case OP_MOD:
            if (j == 0)
                return UNDEF;
            return v_int(j == -1 ? 0 : i % j);
        default:
            return UNDEF;
        }
    }
    a = num_d(&x);
    b = num_d(&y);
    switch (op) {
    case OP_ADD: res = a + b; break;
    case OP_SUB: res = a - b; break;
    case OP_MUL: res = a * b; break;
    case OP_DIV:
        if (b == 0)
            return UNDEF;
        res = a / b;
        break;
    case OP_MOD:
        if (b == 0)
            return UNDEF;
        res = fmod(a, b);
        break;
    default:
        return UNDEF;
    }
    return v_dec(res);
}

static val_t eval_bin(ev_t *ev, const scope_t *sc, const node_t *n) {
    val_t l = eval(ev, sc, n->a), r = eval(ev, sc, n->b), x, y;
    int bl, br, e, c;
    switch (n->op) {
    case OP_AND: /* U35: both sides, strict */
    case OP_OR:
        bl = as_bool(&l);
        br = as_bool(&r);
        if (bl < 0 || br < 0)
            return UNDEF;
        return v_bool(n->op == OP_AND ? (bl && br) : (bl || br));
    case OP_EQ:
    case OP_NE:
        e = val_eq(ev, &l, &r);
        if (e < 0)
            return UNDEF;
        return v_bool(n->op == OP_EQ ? e == 1 : e == 0);
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
        if (!as_num(&l, &x) || !as_num(&r, &y))
            return UNDEF;
        c = num_cmp(&x, &y);
        switch (n->op) {
        case OP_LT: return v_bool(c < 0);
        case OP_LE: return v_bool(c <= 0);
        case OP_GT: return v_bool(c > 0);
        default: return v_bool(c >= 0);
        }
    case OP_IN: /* U10 */
        if (l.t == V_UNDEF || r.t != V_ARR)
            return UNDEF;
        for (size_t i = 0; i < r.u.a->n; i++)
            if (val_eq(ev, &l, &r.u.a->v[i]) == 1)
                return v_bool(true);
        return v_bool(false);
    default:
        return arith(ev, n->op, &l, &r);
    }
}

/* cast(v AS t) (spec 4.5). */
static val_t eval_cast(ev_t *ev, const val_t *v, int type) {
    str_t s;
    int64_t i;
    double d;
    switch (type) {
    case CT_STR:
        return to_str(ev, v, &s) ? v_str(s.p, s.n) : UNDEF;
    case CT_INT:
        if (v->t == V_BOOL)
            return v_int(v->u.b);
        return as_int(v, &i) ? v_int(i) : UNDEF;
    case CT_DEC:
        if (v->t == V_BOOL)
            return v_dec(v->u.b ? 1.0 : 0.0);
        if (v->t == V_DEC)
            return *v;
        return as_double(v, &d) ? v_dec(d) : UNDEF;
    default: /* CT_BOOL */
        if (v->t == V_INT)
            return v_bool(v->u.i != 0);
        if (v->t == V_DEC)
            return v_bool(v->u.dec.d != 0);
        i = as_bool(v);
        return i < 0 ? UNDEF : v_bool(i == 1);
    }
}

/* Insert v at the dotted path into o (U18 in place); intermediate objects
 * that are not this projection's own are copied first. */
static bool set_path(ev_t *ev, obj_t *o, const str_t *path, size_t n, val_t v, uint64_t serial) {
    for (size_t i = 0; i + 1 < n; i++) {
        const val_t *cur = obj_get(o, path[i]);
        obj_t *child;
        if (cur && cur->t == V_OBJ && cur->u.o->owner == serial)
            child = cur->u.o;
        else if (cur && cur->t == V_OBJ)
            child = obj_copy(ev, cur->u.o);
        else
            child = obj_new(ev);
        if (!child)
            return false;
        child->owner = serial;
        if (!obj_set(ev, o, path[i], v_obj(child)))
            return false;
        o = child;
    }
    return obj_set(ev, o, path[n - 1], v);
}

/* One row of a SELECT list: the object (or the VALUE) for document sc. */
static val_t project(ev_t *ev, const scope_t *sc, const sel_t *sel) {
    obj_t *o;
    uint64_t serial;
    if (sel->is_value)
        return eval(ev, sc, sel->items[0].expr);
    if (!(o = obj_new(ev)))
        return UNDEF;
    serial = ++ev->serial;
    o->owner = serial;
    for (size_t i = 0; i < sel->n_items && !ev->failed; i++) {
        const item_t *it = &sel->items[i];
        val_t v;
        if (it->n_path == 0) { /* bare *: the document's members */
            val_t doc = star_val(ev, sc);
            if (sc->top && ev->pay == PAY_RAW) /* U28 */
                ev->warning = "SELECT * on a non-JSON payload contributed no fields";
            if (doc.t == V_OBJ)
                for (size_t j = 0; j < doc.u.o->n; j++)
                    if (!obj_set(ev, o, doc.u.o->k[j], doc.u.o->v[j]))
                        return UNDEF;
            continue;
        }
        v = eval(ev, sc, it->expr);
        if (v.t == V_UNDEF) /* omitted (spec 3.4) */
            continue;
        if (!set_path(ev, o, it->path, it->n_path, v, serial))
            return UNDEF;
    }
    o->owner = 0;
    return ev->failed ? UNDEF : v_obj(o);
}

static bool where_true(ev_t *ev, const scope_t *sc, const node_t *where) {
    val_t w;
    if (!where)
        return true;
    w = eval(ev, sc, where);
    return as_bool(&w) == 1;
}

/* Nested SELECT (spec 3.7, U23, U24). */
static val_t eval_subq(ev_t *ev, const scope_t *sc, const sel_t *sel) {
    scope_t in = {.top = false, .alias = sel->as};
    val_t src, r;
    arr_t *out;
    if (sel->from_star) { /* the whole payload as a one-row table */
        src = star_val(ev, sc);
        in.doc = &src;
        if (!(out = arr_new(ev, 1)))
            return UNDEF;
        if (where_true(ev, &in, sel->where)) {
            r = project(ev, &in, sel);
            if (r.t != V_UNDEF && !arr_push(ev, out, r))
                return UNDEF;
        }
        return ev->failed ? UNDEF : v_arr(out);
    }
    src = eval(ev, sc, sel->from);
    if (src.t == V_OBJ) {
        in.doc = &src;
        if (!where_true(ev, &in, sel->where))
            return UNDEF;
        return project(ev, &in, sel);
    }
    if (src.t != V_ARR)
        return UNDEF;
    if (!(out = arr_new(ev, 0)))
        return UNDEF;
    for (size_t i = 0; i < src.u.a->n && !ev->failed; i++) {
        in.doc = &src.u.a->v[i];
        if (!where_true(ev, &in, sel->where))
            continue;
        r = project(ev, &in, sel);
        if (r.t != V_UNDEF && !arr_push(ev, out, r))
            return UNDEF;
    }
    return ev->failed ? UNDEF : v_arr(out);
}

static val_t eval_call(ev_t *ev, const scope_t *sc, const node_t *n) {
    const fn_t *fn = n->fn;
    val_t small[8], *a = small;
    if (fn->kind == FK_EXT) { /* U59: no aws_service_endpoint in this build */
        ev_fail(ev, "function %s needs an AWS service and is not available", fn->name);
        return UNDEF;
    }
    if (n->n < fn->min || n->n > fn->max)
        return UNDEF; /* wrong arity (spec 6) */
    if (n->n > 8 && !(a = ev_alloc(ev, n->n * sizeof(val_t))))
        return UNDEF;
    for (size_t i = 0; i < n->n; i++)
        a[i] = eval(ev, sc, n->args[i]);
    if (ev->failed)
        return UNDEF;
    return fn->f(ev, sc, n, a, n->n);
}

static val_t eval(ev_t *ev, const scope_t *sc, const node_t *n) {
    val_t v, k;
    if (!ev_charge(ev, 1))
        return UNDEF;
    switch (n->k) {
    case N_LIT:
        return n->lit;
    case N_STAR:
        return star_val(ev, sc);
    case N_FIELD:
        return field(ev, sc, n->name);
    case N_VAR:
        if (n->var >= 0)
            return (size_t)n->var < ev->n_vars ? ev->vars[n->var] : UNDEF;
        for (size_t i = 0; i < ev->n_vars; i++) /* template: by name */
            if (str_eq(ev->var_names[i], n->name))
                return ev->vars[i];
        return UNDEF;
    case N_PATH: {
        const val_t *m;
        v = eval(ev, sc, n->a);
        if (v.t != V_OBJ || !(m = obj_get(v.u.o, n->name)))
            return UNDEF;
        return *m;
    }
    case N_INDEX:
        v = eval(ev, sc, n->a);
        k = eval(ev, sc, n->b);
        return get_elem(ev, &v, &k);
    case N_NEG:
    case N_POS: { /* U05 */
        val_t x;
        v = eval(ev, sc, n->a);
        if (!as_num(&v, &x))
            return UNDEF;
        if (n->k == N_POS)
            return x;
        if (x.t == V_INT)
            return x.u.i == INT64_MIN ? v_dec(-(double)x.u.i) : v_int(-x.u.i);
        return v_dec(-x.u.dec.d);
    }
    case N_NOT: {
        int b;
        v = eval(ev, sc, n->a);
        b = as_bool(&v);
        return b < 0 ? UNDEF : v_bool(!b);
    }
    case N_BIN:
        return eval_bin(ev, sc, n);
    case N_CALL:
        return eval_call(ev, sc, n);
    case N_CAST:
        v = eval(ev, sc, n->a);
        return eval_cast(ev, &v, n->op);
    case N_CASE: /* spec 3.8 */
        v = eval(ev, sc, n->a);
        if (v.t == V_UNDEF)
            return UNDEF;
        for (size_t i = 0; i + 1 < n->n && !ev->failed; i += 2) {
            k = eval(ev, sc, n->args[i]);
            if (val_eq(ev, &v, &k) == 1)
                return eval(ev, sc, n->args[i + 1]);
        }
        return n->b ? eval(ev, sc, n->b) : UNDEF;
    case N_EXISTS:
        v = eval_subq(ev, sc, n->sel);
        return v_bool(v.t == V_ARR && v.u.a->n > 0);
    case N_SUBQ:
        return eval_subq(ev, sc, n->sel);
    case N_OBJ: {
        obj_t *o = obj_new(ev);
        if (!o)
            return UNDEF;
        for (size_t i = 0; i < n->n; i++) {
            v = eval(ev, sc, n->args[i]);
            if (v.t != V_UNDEF && !obj_set(ev, o, n->keys[i], v))
                return UNDEF;
        }
        return v_obj(o);
    }
    case N_ARR: {
        arr_t *a = arr_new(ev, n->n);
        if (!a)
            return UNDEF;
        for (size_t i = 0; i < n->n; i++) {
            v = eval(ev, sc, n->args[i]);
            if (v.t != V_UNDEF && !arr_push(ev, a, v))
                return UNDEF;
        }
        return v_arr(a);
    }
    }
    return UNDEF;
}

/* ---- functions (spec 6) ----------------------------------------------------
 * Each gets its evaluated arguments (arity already checked against the
 * table). Wrong types give Undefined; only service failures are errors. */

#define U_ __attribute__((unused))
#define FN(name)                                                            \
    static val_t name(ev_t *ev U_, const scope_t *sc U_, const node_t *call U_, \
                      const val_t *a U_, size_t n U_)

/* -- math -- */

static val_t math1(const val_t *x, double (*f)(double)) {
    double d;
    return as_double(x, &d) ? v_dec(f(d)) : UNDEF;
}

FN(f_acos) { return math1(&a[0], acos); }
FN(f_asin) { return math1(&a[0], asin); }
FN(f_atan) { return math1(&a[0], atan); }
FN(f_cos) { return math1(&a[0], cos); }
FN(f_sin) { return math1(&a[0], sin); }
FN(f_tan) { return math1(&a[0], tan); }
FN(f_cosh) { return math1(&a[0], cosh); }
FN(f_sinh) { return math1(&a[0], sinh); }
FN(f_tanh) { return math1(&a[0], tanh); }
FN(f_exp) { return math1(&a[0], exp); }
FN(f_ln) { return math1(&a[0], log); }
FN(f_log) { return math1(&a[0], log10); }
FN(f_sqrt) { return math1(&a[0], sqrt); }

FN(f_atan2) {
    double y, x;
    return as_double(&a[0], &y) && as_double(&a[1], &x) ? v_dec(atan2(y, x)) : UNDEF;
}

FN(f_power) {
    double x, y;
    return as_double(&a[0], &x) && as_double(&a[1], &y) ? v_dec(pow(x, y)) : UNDEF;
}

FN(f_abs) {
    val_t x;
    if (!as_num(&a[0], &x))
        return UNDEF;
    if (x.t == V_INT)
        return x.u.i == INT64_MIN ? v_dec(9223372036854775808.0)
                                  : v_int(x.u.i < 0 ? -x.u.i : x.u.i);
    return v_dec(fabs(x.u.dec.d));
}

/* ceil/floor/round: Int result (a Decimal when beyond int64). */
static val_t to_whole(const val_t *x, double (*f)(double)) {
    val_t v;
    int64_t i;
    double d;
    if (!as_num(x, &v))
        return UNDEF;
    if (v.t == V_INT)
        return v;
    d = f(v.u.dec.d);
    return d_to_i64(d, &i) ? v_int(i) : v_dec(d);
}

FN(f_ceil) { return to_whole(&a[0], ceil); }
FN(f_floor) { return to_whole(&a[0], floor); }
FN(f_round) { return to_whole(&a[0], round); } /* half away from zero */

FN(f_sign) {
    val_t x;
    double d;
    if (!as_num(&a[0], &x))
        return UNDEF;
    d = num_d(&x);
    if (x.t == V_INT)
        return v_int(x.u.i > 0 ? 1 : x.u.i < 0 ? -1 : 0);
    return v_int(d > 0 ? 1 : d < 0 ? -1 : 0);
}

/* The shortest round-trip digits of |d| (no trailing zeros) and the
 * decimal exponent of the first one. */
static int shortest_digits(double d, char *digits, int *exp10) {
    char tmp[40];
    int prec, nd = 0;
    const char *e;
    d = fabs(d);
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    for (const char *p = tmp; *p && *p != 'e'; p++)
        if (isdigit((unsigned char)*p))
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    e = strchr(tmp, 'e');
    *exp10 = e ? atoi(e + 1) : 0;
    return nd;
}

/* trunc(n, d): cut the decimal text of n after d places (spec 6.1). */
FN(f_trunc) {
    val_t x;
    double dd, r;
    int places, nd, exp10, keep;
    char digits[24], txt[48];
    int64_t i;
    if (!as_num(&a[0], &x) || !as_double(&a[1], &dd))
        return UNDEF;
    if (x.t == V_INT)
        return x;
    dd = floor(dd);
    places = dd < 0 ? 0 : dd > 34 ? 34 : (int)dd;
    nd = shortest_digits(x.u.dec.d, digits, &exp10);
    keep = exp10 + 1 + places; /* digits that stay */
    if (keep <= 0)
        return v_int(0);
    if (keep < nd)
        nd = keep;
    snprintf(txt, sizeof(txt), "%s0.%.*se%d", x.u.dec.d < 0 ? "-" : "", nd, digits, exp10 + 1);
    r = strtod(txt, NULL);
    if (r == floor(r) && d_to_i64(r, &i))
        return v_int(i);
    return v_dec(r);
}

FN(f_mod) { return arith(ev, OP_MOD, &a[0], &a[1]); }

FN(f_nanvl) {
    return a[0].t == V_UNDEF || a[0].t == V_NULL ? a[1] : a[0];
}

FN(f_rand) {
    uint64_t r;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1) {
        ev_fail(ev, "rand(): no randomness available");
        return UNDEF;
    }
    return v_dec((double)(r >> 11) * 0x1.0p-53);
}

FN(f_bitand) {
    int64_t x, y;
    return as_int(&a[0], &x) && as_int(&a[1], &y) ? v_int(x & y) : UNDEF;
}

FN(f_bitor) {
    int64_t x, y;
    return as_int(&a[0], &x) && as_int(&a[1], &y) ? v_int(x | y) : UNDEF;
}

FN(f_bitxor) {
    int64_t x, y;
    return as_int(&a[0], &x) && as_int(&a[1], &y) ? v_int(x ^ y) : UNDEF;
}

/* U38: complement within the value's bit length for a > 0. */
FN(f_bitnot) {
    int64_t x;
    uint64_t u, mask;
    if (!as_int(&a[0], &x))
        return UNDEF;
    if (x < 0)
        return v_int(~x);
    if (x == 0)
        return v_int(1);
    u = (uint64_t)x;
    mask = (UINT64_C(1) << (64 - __builtin_clzll(u))) - 1;
    return v_int((int64_t)(u ^ mask));
}

/* -- strings -- */

FN(f_chr) {
    int64_t c;
    char *s;
    if (!as_int(&a[0], &c) || c < 0 || c > 127) /* U39 */
        return UNDEF;
    if (!(s = ev_alloc(ev, 1)))
        return UNDEF;
    s[0] = (char)c;
    return v_str(s, 1);
}

/* U41: one argument unchanged; an Array anywhere splices; else strings. */
FN(f_concat) {
    bool has_arr = false, has_str = false;
    if (n == 1)
        return a[0];
    for (size_t i = 0; i < n; i++) {
        if (a[i].t == V_UNDEF)
            return UNDEF;
        has_arr |= a[i].t == V_ARR;
        has_str |= a[i].t == V_STR;
    }
    if (has_arr) {
        arr_t *r = arr_new(ev, 0);
        if (!r)
            return UNDEF;
        for (size_t i = 0; i < n; i++) {
            if (a[i].t == V_ARR) {
                for (size_t j = 0; j < a[i].u.a->n; j++)
                    if (!arr_push(ev, r, a[i].u.a->v[j]))
                        return UNDEF;
            } else if (!arr_push(ev, r, a[i])) {
                return UNDEF;
            }
        }
        return v_arr(r);
    }
    if (has_str) {
        sb_t b;
        sb_init(&b, ev);
        for (size_t i = 0; i < n; i++) {
            str_t s;
            if (!to_str(ev, &a[i], &s))
                return UNDEF;
            sb_add(&b, s.p, s.n);
        }
        return sb_val(&b);
    }
    return UNDEF;
}

static bool two_str(ev_t *ev, const val_t *a, str_t *x, str_t *y) {
    return to_str(ev, &a[0], x) && to_str(ev, &a[1], y);
}

FN(f_startswith) {
    str_t s, t;
    if (!two_str(ev, a, &s, &t))
        return UNDEF;
    return v_bool(t.n <= s.n && memcmp(s.p, t.p, t.n) == 0);
}

FN(f_endswith) {
    str_t s, t;
    if (!two_str(ev, a, &s, &t))
        return UNDEF;
    return v_bool(t.n <= s.n && memcmp(s.p + s.n - t.n, t.p, t.n) == 0);
}

/* Byte offset of t in s, or -1. */
static long str_find(str_t s, str_t t, size_t from) {
    if (t.n == 0)
        return from <= s.n ? (long)from : -1;
    for (size_t i = from; i + t.n <= s.n; i++)
        if (s.p[i] == t.p[0] && memcmp(s.p + i, t.p, t.n) == 0)
            return (long)i;
    return -1;
}

FN(f_indexof) {
    str_t s, t;
    long i;
    str_t pre;
    if (!two_str(ev, a, &s, &t))
        return UNDEF;
    if (!ev_charge(ev, s.n / 64))
        return UNDEF;
    i = str_find(s, t, 0);
    if (i < 0)
        return v_int(-1); /* U42 */
    pre.p = s.p;
    pre.n = (size_t)i;
    return v_int((int64_t)utf8_count(pre));
}

FN(f_length) {
    str_t s;
    return to_str(ev, &a[0], &s) ? v_int((int64_t)utf8_count(s)) : UNDEF; /* U43 */
}

FN(f_numbytes) {
    str_t s;
    return to_str(ev, &a[0], &s) ? v_int((int64_t)s.n) : UNDEF;
}

/* Simple case mapping: ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic. */
static uint32_t case_map(uint32_t c, bool up) {
    if (up) {
        if ((c >= 'a' && c <= 'z') || (c >= 0xE0 && c <= 0xFE && c != 0xF7) ||
            (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) || (c >= 0x430 && c <= 0x44F))
            return c - 0x20;
        if (c == 0xFF)
            return 0x178;
        if (c == 0x3C2)
            return 0x3A3;
        if (c >= 0x450 && c <= 0x45F)
            return c - 0x50;
        if (((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) && (c & 1))
            return c - 1;
        if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) && !(c & 1))
            return c - 1;
    } else {
        if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
            (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) || (c >= 0x410 && c <= 0x42F))
            return c + 0x20;
        if (c == 0x178)
            return 0xFF;
        if (c >= 0x400 && c <= 0x40F)
            return c + 0x50;
        if (((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) && !(c & 1))
            return c + 1;
        if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) && (c & 1))
            return c + 1;
    }
    return c;
}

static val_t map_case(ev_t *ev, const val_t *v, bool up) {
    str_t s;
    sb_t b;
    if (!to_str(ev, v, &s))
        return UNDEF;
    sb_init(&b, ev);
    if (!sb_reserve(&b, s.n))
        return UNDEF;
    for (size_t i = 0; i < s.n;) {
        uint32_t c;
        size_t l = ic_utf8_decode((const unsigned char *)s.p + i, s.n - i, &c);
        char u8[4];
        if (!l) { /* a raw byte (decode() output): keep it */
            sb_add(&b, s.p + i, 1);
            i++;
            continue;
        }
        sb_add(&b, u8, ic_utf8_encode((uint8_t *)u8, case_map(c, up)));
        i += l;
    }
    return sb_val(&b);
}

FN(f_lower) { return map_case(ev, &a[0], false); }
FN(f_upper) { return map_case(ev, &a[0], true); }

/* lpad/rpad: add n spaces (0..1000, rounded down). */
static val_t pad(ev_t *ev, const val_t *a, bool left) {
    str_t s;
    double d;
    size_t k;
    sb_t b;
    if (!to_str(ev, &a[0], &s) || !as_double(&a[1], &d))
        return UNDEF;
    d = floor(d);
    k = d < 0 ? 0 : d > 1000 ? 1000 : (size_t)d;
    sb_init(&b, ev);
    if (!left)
        sb_add(&b, s.p, s.n);
    for (size_t i = 0; i < k; i++)
        sb_addc(&b, ' ');
    if (left)
        sb_add(&b, s.p, s.n);
    return sb_val(&b);
}

FN(f_lpad) { return pad(ev, a, true); }
FN(f_rpad) { return pad(ev, a, false); }

static bool is_trim(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n'; /* U44 */
}

static val_t trim(ev_t *ev, const val_t *v, bool left, bool right) {
    str_t s;
    if (!to_str(ev, v, &s))
        return UNDEF;
    while (left && s.n && is_trim(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (right && s.n && is_trim(s.p[s.n - 1]))
        s.n--;
    return v_str(s.p, s.n);
}

FN(f_ltrim) { return trim(ev, &a[0], true, false); }
FN(f_rtrim) { return trim(ev, &a[0], false, true); }
FN(f_trim) { return trim(ev, &a[0], true, true); }

FN(f_replace) {
    str_t s, from, to;
    sb_t b;
    size_t i = 0;
    long j;
    if (!two_str(ev, a, &s, &from) || !to_str(ev, &a[2], &to))
        return UNDEF;
    if (from.n == 0) /* U45 */
        return v_str(s.p, s.n);
    if (!ev_charge(ev, s.n / 64))
        return UNDEF;
    sb_init(&b, ev);
    while ((j = str_find(s, from, i)) >= 0) {
        sb_add(&b, s.p + i, (size_t)j - i);
        sb_add(&b, to.p, to.n);
        i = (size_t)j + from.n;
    }
    sb_add(&b, s.p + i, s.n - i);
    return sb_val(&b);
}

/* Clamp a numeric index to [0, len] (characters). */
static bool index_arg(const val_t *v, size_t len, size_t *out) {
    double d;
    if (!as_double(v, &d))
        return false;
    d = trunc(d);
    *out = d < 0 ? 0 : d > (double)len ? len : (size_t)d;
    return true;
}

FN(f_substring) {
    str_t s;
    size_t len, i, j, bi, bj;
    if (!to_str(ev, &a[0], &s))
        return UNDEF;
    len = utf8_count(s);
    if (!index_arg(&a[1], len, &i))
        return UNDEF;
    j = len;
    if (n == 3 && !index_arg(&a[2], len, &j))
        return UNDEF;
    if (i >= j)
        return v_str("", 0);
    bi = utf8_offset(s, i);
    bj = utf8_offset(s, j);
    return v_str(s.p + bi, bj - bi);
}

/* -- regular expressions (U48) --
 * Java syntax translated to POSIX ERE: \d \D \w \W \s \S (also inside
 * brackets), \t \n \r \f \xhh \uhhhh, escaped punctuation, (?:...) and a
 * leading (?i). Refused (Undefined): back-references, look-around, other
 * (?...) groups, lazy and possessive quantifiers, \p{..}, \Q..\E, nested or
 * intersected classes, counted repetitions whose nesting multiplies beyond
 * 1000. Matching is POSIX leftmost-longest on bytes, '.' matches a newline. */

#define RE_MAX_PATTERN 4096
#define RE_MAX_GROUPS 32
#define RE_MAX_REPEAT 1000

typedef struct re_s {
    regex_t re;
    int n_java;                  /* capturing groups of the Java pattern */
    int map[RE_MAX_GROUPS + 1];  /* Java group -> POSIX group */
} re_t;

static bool re_special(int c) {
    return strchr(".[]{}()*+?^$|\\", c) != NULL && c != '\0';
}

static void re_lit(sb_t *o, int c) {
    if (re_special(c))
        sb_addc(o, '\\');
    sb_addc(o, (char)c);
}

/* \xhh or \uhhhh at p[i] (p[i] is 'x' or 'u'); bytes appended to u8. */
static bool re_hex_escape(str_t p, size_t *i, char *u8, size_t *len) {
    uint32_t c = 0;
    int nd = p.p[*i] == 'x' ? 2 : 4;
    if (*i + (size_t)nd >= p.n)
        return false;
    for (int k = 1; k <= nd; k++) {
        int h = ic_hexval((unsigned char)p.p[*i + (size_t)k]);
        if (h < 0)
            return false;
        c = (c << 4) | (uint32_t)h;
    }
    if (c == 0 || (c >= 0xD800 && c <= 0xDFFF))
        return false;
    *i += (size_t)nd;
    *len = ic_utf8_encode((uint8_t *)u8, c);
    return true;
}

static int re_ctl_escape(int e) {
    switch (e) {
    case 't': return '\t';
    case 'n': return '\n';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'a': return '\a';
    case 'e': return 0x1B;
    default: return -1;
    }
}

/* A bracket expression starting after '['; *i ends after ']'. */
static bool re_class(str_t p, size_t *i, sb_t *o) {
    sb_t items;
    bool neg = false, first = true, rb = false, lb = false, caret = false, dash = false;
    size_t k = *i;
    sb_init(&items, o->ev);
    if (k < p.n && p.p[k] == '^') {
        neg = true;
        k++;
    }
    for (;;) {
        int c, lo;
        if (k >= p.n)
            return false;
        c = (unsigned char)p.p[k];
        if (c == ']' && !first)
            break;
        first = false;
        if (c == '[' || (c == '&' && k + 1 < p.n && p.p[k + 1] == '&'))
            return false;
        if (c == '\\') {
            int e;
            if (k + 1 >= p.n)
                return false;
            e = (unsigned char)p.p[k + 1];
            k += 2;
            switch (e) {
            case 'd': sb_adds(&items, "0-9"); continue;
            case 'w': sb_adds(&items, "[:alnum:]_"); continue;
            case 's': sb_adds(&items, "[:space:]"); continue;
            case 'x':
            case 'u': {
                char u8[4];
                size_t l;
                k--;
                if (!re_hex_escape(p, &k, u8, &l) || l != 1)
                    return false;
                k++;
                c = (unsigned char)u8[0];
                break;
            }
            default:
                if (re_ctl_escape(e) >= 0)
                    c = re_ctl_escape(e);
                else if (isalnum(e))
                    return false;
                else
                    c = e;
            }
        } else if (c >= 0x80) { /* a multi-byte character: literal bytes */
            uint32_t cp;
            size_t l = ic_utf8_decode((const unsigned char *)p.p + k, p.n - k, &cp);
            if (!l || (k + l < p.n && p.p[k + l] == '-'))
                return false;
            sb_add(&items, p.p + k, l);
            k += l;
            continue;
        } else {
            k++;
        }
        /* a range c-hi? */
        if (k + 1 < p.n && p.p[k] == '-' && p.p[k + 1] != ']') {
            int hi = (unsigned char)p.p[k + 1];
            if (hi == '\\' || hi == '[' || hi >= 0x80 || c == ']' || c == '^' || c == '-' ||
                hi == '^' || hi < c)
                return false;
            lo = c;
            {
                char r[3] = {(char)lo, '-', (char)hi};
                sb_add(&items, r, 3);
            }
            k += 2;
            continue;
        }
        switch (c) {
        case ']': rb = true; break;
        case '[': lb = true; break;
        case '^': caret = true; break;
        case '-': dash = true; break;
        default: sb_addc(&items, (char)c);
        }
    }
    *i = k + 1;
    if (items.n == 0 && !rb && !lb && caret && !neg) {
        sb_adds(o, dash ? "[-^]" : "\\^");
        return true;
    }
    if (items.n == 0 && !rb && !lb && !caret && !dash)
        return false;
    sb_addc(o, '[');
    if (neg)
        sb_addc(o, '^');
    if (rb)
        sb_addc(o, ']');
    sb_add(o, items.p, items.n);
    if (lb)
        sb_addc(o, '[');
    if (caret)
        sb_addc(o, '^');
    if (dash)
        sb_addc(o, '-');
    sb_addc(o, ']');
    return !o->failed;
}

static bool re_translate(str_t p, sb_t *o, re_t *re, int *flags) {
    size_t i = 0;
    int depth = 0, n_posix = 0;
    long cur[RE_MAX_GROUPS + 2], last = 1; /* repetition products (nesting) */
    cur[0] = 1;
    re->n_java = 0;
    re->map[0] = 0;
    if (p.n >= 4 && memcmp(p.p, "(?i)", 4) == 0) {
        *flags |= REG_ICASE;
        i = 4;
    }
    while (i < p.n) {
        int c = (unsigned char)p.p[i];
        if (c == '\0')
            return false;
        if (c == '\\') {
            int e, ctl;
            if (i + 1 >= p.n)
                return false;
            e = (unsigned char)p.p[i + 1];
            i += 2;
            last = 1;
            switch (e) {
            case 'd': sb_adds(o, "[0-9]"); continue;
            case 'D': sb_adds(o, "[^0-9]"); continue;
            case 'w': sb_adds(o, "[[:alnum:]_]"); continue;
            case 'W': sb_adds(o, "[^[:alnum:]_]"); continue;
            case 's': sb_adds(o, "[[:space:]]"); continue;
            case 'S': sb_adds(o, "[^[:space:]]"); continue;
            case 'b': sb_adds(o, "\\b"); continue;
            case 'B': sb_adds(o, "\\B"); continue;
            case 'x':
            case 'u': {
                char u8[4];
                size_t l;
                i--;
                if (!re_hex_escape(p, &i, u8, &l))
                    return false;
                i++;
                if (l == 1)
                    re_lit(o, (unsigned char)u8[0]);
                else
                    sb_add(o, u8, l);
                continue;
            }
            default:
                ctl = re_ctl_escape(e);
                if (ctl >= 0)
                    sb_addc(o, (char)ctl);
                else if (isalnum(e)) /* back-references, \p, \Q, \A, \z ... */
                    return false;
                else
                    re_lit(o, e);
                continue;
            }
        }
        if (c == '[') {
            i++;
            if (!re_class(p, &i, o))
                return false;
            last = 1;
            continue;
        }
        if (c == '(') {
            if (depth >= RE_MAX_GROUPS || n_posix >= RE_MAX_GROUPS)
                return false;
            if (i + 1 < p.n && p.p[i + 1] == '?') {
                if (i + 2 >= p.n || p.p[i + 2] != ':')
                    return false;
                i += 3;
            } else {
                re->map[++re->n_java] = n_posix + 1;
                i++;
            }
            n_posix++;
            cur[++depth] = 1;
            sb_addc(o, '(');
            continue;
        }
        if (c == ')') {
            if (depth == 0)
                return false;
            last = cur[depth--];
            if (last > cur[depth])
                cur[depth] = last;
            sb_addc(o, ')');
            i++;
            continue;
        }
        if (c == '*' || c == '+' || c == '?' || c == '{') {
            if (c == '{') {
                long m = 0, mx;
                size_t j = i + 1;
                long hi = -1;
                if (j >= p.n || !isdigit((unsigned char)p.p[j]))
                    return false;
                while (j < p.n && isdigit((unsigned char)p.p[j]) && m <= RE_MAX_REPEAT)
                    m = m * 10 + (p.p[j++] - '0');
                if (j < p.n && p.p[j] == ',') {
                    j++;
                    if (j < p.n && isdigit((unsigned char)p.p[j])) {
                        hi = 0;
                        while (j < p.n && isdigit((unsigned char)p.p[j]) && hi <= RE_MAX_REPEAT)
                            hi = hi * 10 + (p.p[j++] - '0');
                    }
                }
                if (j >= p.n || p.p[j] != '}' || (hi >= 0 && hi < m))
                    return false;
                mx = hi >= 0 ? hi : m;
                if (mx > RE_MAX_REPEAT || last * (mx ? mx : 1) > RE_MAX_REPEAT)
                    return false;
                last *= mx ? mx : 1;
                if (last > cur[depth])
                    cur[depth] = last;
                sb_add(o, p.p + i, j + 1 - i);
                i = j + 1;
            } else {
                sb_addc(o, (char)c);
                i++;
            }
            if (i < p.n && (p.p[i] == '?' || p.p[i] == '+')) /* lazy/possessive */
                return false;
            continue;
        }
        last = 1;
        sb_addc(o, (char)c);
        i++;
    }
    return depth == 0 && !o->failed;
}

static bool re_compile(ev_t *ev, str_t pat, re_t *re) {
    sb_t o;
    int flags = REG_EXTENDED;
    str_t t;
    if (pat.n > RE_MAX_PATTERN)
        return false;
    sb_init(&o, ev);
    if (!re_translate(pat, &o, re, &flags) || !sb_str(&o, &t))
        return false;
    if (!ev_charge(ev, 100 + pat.n * 10))
        return false;
    return regcomp(&re->re, t.p, flags) == 0;
}

/* Find the next match in s at or after from; m[0..RE_MAX_GROUPS]. */
static bool re_find(ev_t *ev, re_t *re, str_t s, size_t from, regmatch_t *m) {
    if (!ev_charge(ev, 1 + (s.n - from) / 16))
        return false;
    m[0].rm_so = (regoff_t)from;
    m[0].rm_eo = (regoff_t)s.n;
    return regexec(&re->re, s.p, RE_MAX_GROUPS + 1, m, REG_STARTEND) == 0;
}

FN(f_regexp_matches) {
    str_t s, p;
    re_t re;
    regmatch_t m[RE_MAX_GROUPS + 1];
    bool r;
    if (!two_str(ev, a, &s, &p) || !re_compile(ev, p, &re))
        return UNDEF;
    r = re_find(ev, &re, s, 0, m);
    regfree(&re.re);
    return ev->failed ? UNDEF : v_bool(r);
}

FN(f_regexp_substr) {
    str_t s, p;
    re_t re;
    regmatch_t m[RE_MAX_GROUPS + 1];
    val_t r = UNDEF;
    if (!two_str(ev, a, &s, &p) || !re_compile(ev, p, &re))
        return UNDEF;
    if (re_find(ev, &re, s, 0, m)) /* no match: Undefined (U46) */
        r = v_str(s.p + m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so));
    regfree(&re.re);
    return r;
}

/* Java's appendReplacement: \x literal, $n groups (greedy while the group
 * exists). false for a malformed replacement. */
static bool re_subst(sb_t *b, const re_t *re, str_t s, const regmatch_t *m, str_t rep) {
    for (size_t i = 0; i < rep.n; i++) {
        char c = rep.p[i];
        if (c == '\\') {
            if (++i >= rep.n)
                return false;
            sb_addc(b, rep.p[i]);
        } else if (c == '$') {
            int g;
            const regmatch_t *gm;
            if (++i >= rep.n || !isdigit((unsigned char)rep.p[i]))
                return false;
            g = rep.p[i] - '0';
            if (g > re->n_java)
                return false;
            while (i + 1 < rep.n && isdigit((unsigned char)rep.p[i + 1]) &&
                   g * 10 + (rep.p[i + 1] - '0') <= re->n_java)
                g = g * 10 + (rep.p[++i] - '0');
            gm = &m[re->map[g]];
            if (gm->rm_so >= 0)
                sb_add(b, s.p + gm->rm_so, (size_t)(gm->rm_eo - gm->rm_so));
        } else {
            sb_addc(b, c);
        }
    }
    return true;
}

FN(f_regexp_replace) {
    str_t s, p, rep;
    re_t re;
    regmatch_t m[RE_MAX_GROUPS + 1];
    sb_t b;
    size_t pos = 0;
    bool ok = true;
    if (!two_str(ev, a, &s, &p) || !to_str(ev, &a[2], &rep) || !re_compile(ev, p, &re))
        return UNDEF;
    sb_init(&b, ev);
    while (pos <= s.n && re_find(ev, &re, s, pos, m)) {
        size_t so = (size_t)m[0].rm_so, eo = (size_t)m[0].rm_eo;
        sb_add(&b, s.p + pos, so - pos);
        if (!(ok = re_subst(&b, &re, s, m, rep)))
            break;
        if (eo == so) { /* an empty match: step over one character */
            uint32_t cp;
            size_t l = so < s.n ? utf8_next(s.p + so, s.n - so, &cp) : 1;
            if (so < s.n)
                sb_add(&b, s.p + so, l);
            pos = so + l;
        } else {
            pos = eo;
        }
    }
    if (ok && pos < s.n)
        sb_add(&b, s.p + pos, s.n - pos);
    regfree(&re.re);
    return ok ? sb_val(&b) : UNDEF;
}

/* -- digests -- */

/* MD2 (RFC 1319): not in OpenSSL 3's default provider (U47). */
static void md2(const unsigned char *m, size_t n, unsigned char out[16]) {
    static const unsigned char S[256] = {
        41, 46, 67, 201, 162, 216, 124, 1, 61, 54, 84, 161, 236, 240, 6, 19, 98, 167, 5, 243,
        192, 199, 115, 140, 152, 147, 43, 217, 188, 76, 130, 202, 30, 155, 87, 60, 253, 212,
        224, 22, 103, 66, 111, 24, 138, 23, 229, 18, 190, 78, 196, 214, 218, 158, 222, 73, 160,
        251, 245, 142, 187, 47, 238, 122, 169, 104, 121, 145, 21, 178, 7, 63, 148, 194, 16, 137,
        11, 34, 95, 33, 128, 127, 93, 154, 90, 144, 50, 39, 53, 62, 204, 231, 191, 247, 151, 3,
        255, 25, 48, 179, 72, 165, 181, 209, 215, 94, 146, 42, 172, 86, 170, 198, 79, 184, 56,
        210, 150, 164, 125, 182, 118, 252, 107, 226, 156, 116, 4, 241, 69, 157, 112, 89, 100,
        113, 135, 32, 134, 91, 207, 101, 230, 45, 168, 2, 27, 96, 37, 173, 174, 176, 185, 246,
        28, 70, 97, 105, 52, 64, 126, 15, 85, 71, 163, 35, 221, 81, 175, 58, 195, 92, 249, 206,
        186, 197, 234, 38, 44, 83, 13, 110, 133, 40, 132, 9, 211, 223, 205, 244, 65, 129, 77,
        82, 106, 220, 55, 200, 108, 193, 171, 250, 36, 225, 123, 8, 12, 189, 177, 74, 120, 136,
        149, 139, 227, 99, 232, 109, 233, 203, 213, 254, 59, 0, 29, 57, 242, 239, 183, 14, 102,
        88, 208, 228, 166, 119, 114, 248, 235, 117, 75, 10, 49, 68, 80, 180, 143, 237, 31, 26,
        219, 153, 141, 51, 159, 17, 131, 20};
    unsigned char x[48] = {0}, c[16] = {0}, blk[16], l = 0;
    size_t nblocks = n / 16 + 1;
    for (size_t b = 0; b <= nblocks; b++) {
        unsigned t = 0;
        if (b < nblocks) {
            size_t off = b * 16;
            for (size_t j = 0; j < 16; j++)
                blk[j] = off + j < n ? m[off + j] : (unsigned char)(16 - n % 16);
            for (size_t j = 0; j < 16; j++) {
                c[j] ^= S[blk[j] ^ l];
                l = c[j];
            }
        } else {
            memcpy(blk, c, 16); /* the checksum block */
        }
        for (size_t j = 0; j < 16; j++) {
            x[16 + j] = blk[j];
            x[32 + j] = (unsigned char)(x[16 + j] ^ x[j]);
        }
        for (unsigned j = 0; j < 18; j++) {
            for (size_t k = 0; k < 48; k++)
                t = x[k] ^= S[t];
            t = (t + j) & 0xFF;
        }
    }
    memcpy(out, x, 16);
}

static val_t hex_val(ev_t *ev, const unsigned char *h, size_t n) {
    static const char hex[] = "0123456789abcdef";
    char *o = ev_alloc(ev, n * 2);
    if (!o)
        return UNDEF;
    for (size_t i = 0; i < n; i++) {
        o[2 * i] = hex[h[i] >> 4];
        o[2 * i + 1] = hex[h[i] & 0xF];
    }
    return v_str(o, n * 2);
}

static val_t digest(ev_t *ev, const val_t *v, const EVP_MD *md) {
    str_t s;
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    if (!to_str(ev, v, &s) || !ev_charge(ev, s.n / 64))
        return UNDEF;
    if (!md) {
        md2((const unsigned char *)s.p, s.n, h);
        return hex_val(ev, h, 16);
    }
    if (EVP_Digest(s.p, s.n, h, &hl, md, NULL) != 1)
        return UNDEF;
    return hex_val(ev, h, hl);
}

FN(f_md2) { return digest(ev, &a[0], NULL); }
FN(f_md5) { return digest(ev, &a[0], EVP_md5()); }
FN(f_sha1) { return digest(ev, &a[0], EVP_sha1()); }
FN(f_sha224) { return digest(ev, &a[0], EVP_sha224()); }
FN(f_sha256) { return digest(ev, &a[0], EVP_sha256()); }
FN(f_sha384) { return digest(ev, &a[0], EVP_sha384()); }
FN(f_sha512) { return digest(ev, &a[0], EVP_sha512()); }

/* -- conversion, collections, encoding -- */

FN(f_get) { return get_elem(ev, &a[0], &a[1]); }
FN(f_get_or_default) { return a[0].t == V_UNDEF ? a[1] : a[0]; } /* U50 */
FN(f_isnull) { return v_bool(a[0].t == V_NULL); }
FN(f_isundefined) { return v_bool(a[0].t == V_UNDEF); }

static val_t b64_encode(ev_t *ev, const void *p, size_t n) {
    size_t outn = 4 * ((n + 2) / 3);
    unsigned char *o;
    if (n > (size_t)IC_SQL_MAX_RUN_BYTES || !(o = ev_alloc(ev, outn + 1)) ||
        !ev_charge(ev, n / 64))
        return UNDEF;
    if (n)
        EVP_EncodeBlock(o, p, (int)n);
    return v_str((const char *)o, outn);
}

/* Java's basic decoder: RFC 4648 alphabet, '=' padding optional but right
 * when present, no whitespace. false: not base64. */
static bool b64_decode(ev_t *ev, str_t s, str_t *out) {
    size_t n = s.n, pad = 0, full;
    unsigned char *in, *o;
    int r;
    while (n > 0 && s.p[n - 1] == '=' && pad < 3) {
        n--;
        pad++;
    }
    if (pad > 2 || n % 4 == 1 || (pad && (n + pad) % 4 != 0))
        return false;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s.p[i];
        if (!isalnum(c) && c != '+' && c != '/')
            return false;
    }
    full = (n + 3) / 4 * 4;
    if (!(in = ev_alloc(ev, full + 1)) || !(o = ev_alloc(ev, full / 4 * 3 + 1)))
        return false;
    memcpy(in, s.p, n);
    memset(in + n, '=', full - n);
    r = full ? EVP_DecodeBlock(o, in, (int)full) : 0;
    if (r < 0)
        return false;
    out->p = (const char *)o;
    out->n = (size_t)r - (full - n);
    return true;
}

FN(f_encode) {
    str_t s;
    if (a[1].t != V_STR || !str_eq_c(a[1].u.s, "base64"))
        return UNDEF;
    if (call->args[0]->k == N_STAR && sc->top) /* the raw payload bytes */
        return b64_encode(ev, ev->ctx->payload, ev->ctx->payload ? ev->ctx->payload_len : 0);
    if (!to_str(ev, &a[0], &s))
        return UNDEF;
    return b64_encode(ev, s.p, s.n);
}

FN(f_decode) {
    str_t bytes;
    val_t v;
    if (a[1].t != V_STR || !str_eq_c(a[1].u.s, "base64") || a[0].t != V_STR)
        return UNDEF;
    if (!b64_decode(ev, a[0].u.s, &bytes))
        return ev->failed ? UNDEF : v_null(); /* not decodable: Null [DOC] */
    if (json_parse(ev, bytes.p, bytes.n, &v))
        return v;
    if (ev->failed)
        return UNDEF;
    return v_str(bytes.p, bytes.n); /* U51: the bytes, UTF-8 or not */
}

/* transform('enrichArray', obj, arr) (U52). */
FN(f_transform) {
    arr_t *r;
    val_t out;
    sb_t b;
    if (a[0].t != V_STR || !str_eq_c(a[0].u.s, "enrichArray") || a[1].t != V_OBJ ||
        a[2].t != V_ARR)
        return UNDEF;
    if (!(r = arr_new(ev, a[2].u.a->n)))
        return UNDEF;
    for (size_t i = 0; i < a[2].u.a->n; i++) {
        const val_t *el = &a[2].u.a->v[i];
        obj_t *o;
        if (el->t != V_OBJ)
            continue;
        if (!(o = obj_copy(ev, el->u.o)))
            return UNDEF;
        for (size_t j = 0; j < a[1].u.o->n; j++)
            if (!obj_set(ev, o, a[1].u.o->k[j], a[1].u.o->v[j]))
                return UNDEF;
        if (!arr_push(ev, r, v_obj(o)))
            return UNDEF;
    }
    out = v_arr(r);
    sb_init(&b, ev);
    jw_val(&b, &out, ev->ver);
    if (b.failed || ev->failed || b.n > 131072)
        return UNDEF;
    return out;
}

FN(f_newuuid) {
    unsigned char b[16];
    char *o;
    if (RAND_bytes(b, sizeof(b)) != 1) {
        ev_fail(ev, "newuuid(): no randomness available");
        return UNDEF;
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    if (!(o = ev_alloc(ev, 37)))
        return UNDEF;
    snprintf(o, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return v_str(o, 36);
}

FN(f_timestamp) { return v_int(ev->ctx->now_ms); }

FN(f_parse_time) {
    str_t pat, tz = {"UTC", 3};
    int64_t ms;
    size_t cap;
    char *o;
    int r;
    if (!to_str(ev, &a[0], &pat) || !as_int(&a[1], &ms) || (n == 3 && !to_str(ev, &a[2], &tz)))
        return UNDEF;
    if (pat.n > 4096)
        return UNDEF;
    cap = pat.n * 64 + 64;
    if (!(o = ev_alloc(ev, cap)))
        return UNDEF;
    r = ic__sql_time_format(pat.p, pat.n, ms, tz.p, tz.n, o, cap);
    return r < 0 ? UNDEF : v_str(o, (size_t)r);
}

FN(f_time_to_epoch) {
    str_t s, pat;
    int64_t ms;
    if (!two_str(ev, a, &s, &pat) || s.n > 4096 || pat.n > 4096)
        return UNDEF;
    return ic__sql_time_parse(s.p, s.n, pat.p, pat.n, &ms) == 0 ? v_int(ms) : UNDEF;
}

/* -- message context (spec 6.4, 11.2) -- */

static val_t cstr(const char *s) {
    return s ? v_str(s, strlen(s)) : UNDEF;
}

FN(f_topic) {
    const char *t = ev->ctx->topic ? ev->ctx->topic : "";
    int64_t want;
    if (n == 0)
        return v_str(t, strlen(t));
    if (!as_int(&a[0], &want) || want < 1 || !*t) /* U54; no levels at all: U85 */
        return UNDEF;

    for (int64_t level = 1;; level++) {
        const char *e = strchr(t, '/');
        if (level == want)
            return v_str(t, e ? (size_t)(e - t) : strlen(t));
        if (!e)
            return UNDEF;
        t = e + 1;
    }
}

FN(f_clientid) { return cstr(ev->ctx->client_id ? ev->ctx->client_id : "n/a"); }
FN(f_principal) { return cstr(ev->ctx->principal ? ev->ctx->principal : ""); }
FN(f_accountid) { return cstr(ev->ctx->account_id); }
FN(f_traceid) {
    char *buf = ev->ctx->trace_id_buf;
    if (ev->ctx->trace_id || buf == NULL)
        return cstr(ev->ctx->trace_id);
    if (buf[0] == '\0')
        ic_str_uuid(buf);
    return cstr(buf);
}
FN(f_sourceip) { return cstr(ev->ctx->source_ip); }
FN(f_sql_version) { return cstr(ev->ver_name); }

/* U56 */
FN(f_get_mqtt_property) {
    const ic_sql_ctx_t *c = ev->ctx;
    if (!c->is_mqtt5 || a[0].t != V_STR)
        return UNDEF;
    if (str_eq_c(a[0].u.s, "format_indicator"))
        return cstr(c->payload_format == 1 ? "UTF8_DATA" : "UNSPECIFIED_BYTES");
    if (str_eq_c(a[0].u.s, "content_type"))
        return cstr(c->content_type);
    if (str_eq_c(a[0].u.s, "response_topic"))
        return cstr(c->response_topic);
    if (str_eq_c(a[0].u.s, "correlation_data"))
        return c->correlation_data ? b64_encode(ev, c->correlation_data, c->correlation_len)
                                   : UNDEF;
    return UNDEF;
}

FN(f_get_user_properties) {
    const ic_sql_ctx_t *c = ev->ctx;
    arr_t *r;
    str_t key = {0};
    if (!c->is_mqtt5 || c->n_user_props == 0 || (n == 1 && !to_str(ev, &a[0], &key)))
        return UNDEF;
    if (!(r = arr_new(ev, 0)))
        return UNDEF;
    for (size_t i = 0; i < c->n_user_props; i++) {
        const ic_sql_user_prop_t *p = &c->user_props[i];
        val_t v = cstr(p->value);
        if (n == 1) {
            if (str_eq_c(key, p->key) && !arr_push(ev, r, v))
                return UNDEF;
        } else {
            obj_t *o = obj_new(ev);
            str_t k = {p->key, strlen(p->key)};
            if (!o || !obj_set(ev, o, k, v) || !arr_push(ev, r, v_obj(o)))
                return UNDEF;
        }
    }
    return r->n ? v_arr(r) : UNDEF;
}

/* A callback's malloc'd JSON text as a value (copied into the arena so
 * strings can point into it). NULL text is an evaluation error (U57). */
static val_t callback_json(ev_t *ev, char *text, const char *fn, const char *thing) {
    size_t len;
    char *copy;
    val_t v;
    if (!text) {
        ev_fail(ev, "%s: nothing found for thing '%s'", fn, thing);
        return UNDEF;
    }
    len = strlen(text);
    copy = ev_strdup(ev, text, len);
    free(text);
    if (!copy)
        return UNDEF;
    if (!json_parse(ev, copy, len, &v)) {
        ev_fail(ev, "%s: the answer is not JSON", fn);
        return UNDEF;
    }
    return v;
}

FN(f_get_thing_shadow) {
    str_t thing, shadow;
    char *t, *s = NULL;
    if (!to_str(ev, &a[0], &thing) || (n == 3 && !to_str(ev, &a[1], &shadow)))
        return UNDEF;
    if (!(t = ev_strdup(ev, thing.p, thing.n)) ||
        (n == 3 && !(s = ev_strdup(ev, shadow.p, shadow.n))))
        return UNDEF;
    return callback_json(ev,
                         ev->ctx->get_thing_shadow
                             ? ev->ctx->get_thing_shadow(ev->ctx->data, t, s)
                             : NULL,
                         "get_thing_shadow", t);
}

FN(f_get_registry_data) { /* U58 */
    str_t api, thing;
    char *t;
    const char *api_name;
    if (!two_str(ev, a, &api, &thing))
        return UNDEF;
    if (str_eq_c(api, "DescribeThing"))
        api_name = "DescribeThing";
    else if (str_eq_c(api, "ListThingGroupsForThing"))
        api_name = "ListThingGroupsForThing";
    else
        return UNDEF;
    if (!(t = ev_strdup(ev, thing.p, thing.n)))
        return UNDEF;
    return callback_json(ev,
                         ev->ctx->get_registry_data
                             ? ev->ctx->get_registry_data(ev->ctx->data, api_name, t)
                             : NULL,
                         "get_registry_data", t);
}

#undef FN
#undef U_

static const fn_t functions[] = {
    /* math (6.1) */
    {"abs", 1, 1, false, FK_PURE, f_abs},
    {"acos", 1, 1, false, FK_PURE, f_acos},
    {"asin", 1, 1, false, FK_PURE, f_asin},
    {"atan", 1, 1, false, FK_PURE, f_atan},
    {"atan2", 2, 2, false, FK_PURE, f_atan2},
    {"bitand", 2, 2, false, FK_PURE, f_bitand},
    {"bitnot", 1, 1, false, FK_PURE, f_bitnot},
    {"bitor", 2, 2, false, FK_PURE, f_bitor},
    {"bitxor", 2, 2, false, FK_PURE, f_bitxor},
    {"ceil", 1, 1, false, FK_PURE, f_ceil},
    {"cos", 1, 1, false, FK_PURE, f_cos},
    {"cosh", 1, 1, false, FK_PURE, f_cosh},
    {"exp", 1, 1, false, FK_PURE, f_exp},
    {"floor", 1, 1, false, FK_PURE, f_floor},
    {"ln", 1, 1, false, FK_PURE, f_ln},
    {"log", 1, 1, false, FK_PURE, f_log},
    {"mod", 2, 2, false, FK_PURE, f_mod},
    {"nanvl", 2, 2, false, FK_PURE, f_nanvl},
    {"power", 2, 2, false, FK_PURE, f_power},
    {"rand", 0, 0, false, FK_PURE, f_rand},
    {"remainder", 2, 2, false, FK_PURE, f_mod},
    {"round", 1, 1, false, FK_PURE, f_round},
    {"sign", 1, 1, false, FK_PURE, f_sign},
    {"sin", 1, 1, false, FK_PURE, f_sin},
    {"sinh", 1, 1, false, FK_PURE, f_sinh},
    {"sqrt", 1, 1, false, FK_PURE, f_sqrt},
    {"tan", 1, 1, false, FK_PURE, f_tan},
    {"tanh", 1, 1, false, FK_PURE, f_tanh},
    {"trunc", 2, 2, false, FK_PURE, f_trunc},
    /* strings (6.2) */
    {"chr", 1, 1, false, FK_PURE, f_chr},
    {"concat", 1, 255, false, FK_PURE, f_concat},
    {"endswith", 2, 2, false, FK_PURE, f_endswith},
    {"indexof", 2, 2, true, FK_PURE, f_indexof},
    {"length", 1, 1, true, FK_PURE, f_length},
    {"lower", 1, 1, false, FK_PURE, f_lower},
    {"lpad", 2, 2, false, FK_PURE, f_lpad},
    {"ltrim", 1, 1, false, FK_PURE, f_ltrim},
    {"md2", 1, 1, false, FK_PURE, f_md2},
    {"md5", 1, 1, false, FK_PURE, f_md5},
    {"numbytes", 1, 1, true, FK_PURE, f_numbytes},
    {"regexp_matches", 2, 2, false, FK_PURE, f_regexp_matches},
    {"regexp_replace", 3, 3, false, FK_PURE, f_regexp_replace},
    {"regexp_substr", 2, 2, false, FK_PURE, f_regexp_substr},
    {"replace", 3, 3, false, FK_PURE, f_replace},
    {"rpad", 2, 2, false, FK_PURE, f_rpad},
    {"rtrim", 1, 1, false, FK_PURE, f_rtrim},
    {"sha1", 1, 1, false, FK_PURE, f_sha1},
    {"sha224", 1, 1, false, FK_PURE, f_sha224},
    {"sha256", 1, 1, false, FK_PURE, f_sha256},
    {"sha384", 1, 1, false, FK_PURE, f_sha384},
    {"sha512", 1, 1, false, FK_PURE, f_sha512},
    {"startswith", 2, 2, false, FK_PURE, f_startswith},
    {"substring", 2, 3, false, FK_PURE, f_substring},
    {"trim", 1, 1, false, FK_PURE, f_trim},
    {"upper", 1, 1, false, FK_PURE, f_upper},
    /* conversion, collections, encoding, time (6.3) */
    {"decode", 2, 2, true, FK_PURE, f_decode},
    {"encode", 2, 2, true, FK_PURE, f_encode},
    {"get", 2, 2, false, FK_PURE, f_get},
    {"get_or_default", 2, 2, false, FK_PURE, f_get_or_default},
    {"isnull", 1, 1, false, FK_PURE, f_isnull},
    {"isundefined", 1, 1, true, FK_PURE, f_isundefined},
    {"newuuid", 0, 0, false, FK_PURE, f_newuuid},
    {"parse_time", 2, 3, true, FK_PURE, f_parse_time},
    {"time_to_epoch", 2, 2, true, FK_PURE, f_time_to_epoch},
    {"timestamp", 0, 0, false, FK_PURE, f_timestamp},
    {"transform", 3, 3, true, FK_PURE, f_transform},
    /* context, MQTT 5, local services (6.4) */
    {"accountid", 0, 0, false, FK_PURE, f_accountid},
    {"clientid", 0, 0, false, FK_PURE, f_clientid},
    {"get_mqtt_property", 1, 1, false, FK_PURE, f_get_mqtt_property},
    {"get_registry_data", 3, 3, false, FK_PURE, f_get_registry_data},
    {"get_thing_shadow", 2, 3, true, FK_PURE, f_get_thing_shadow},
    {"get_user_properties", 0, 1, false, FK_PURE, f_get_user_properties},
    {"principal", 0, 0, false, FK_PURE, f_principal},
    {"sourceip", 0, 0, true, FK_PURE, f_sourceip},
    {"sql_version", 0, 0, false, FK_PURE, f_sql_version},
    {"topic", 0, 1, false, FK_PURE, f_topic},
    {"traceid", 0, 0, false, FK_PURE, f_traceid},
    /* external AWS services (U59) */
    {"aws_lambda", 0, 255, false, FK_EXT, NULL},
    {"get_dynamodb", 0, 255, true, FK_EXT, NULL},
    {"get_secret", 0, 255, false, FK_EXT, NULL},
    {"machinelearning_predict", 0, 255, false, FK_EXT, NULL},
};

static const fn_t *fn_lookup(str_t name) {
    for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++)
        if (str_ieq_c(name, functions[i].name))
            return &functions[i];
    return NULL;
}

/* ---- statements ------------------------------------------------------------ */

#define AST_LIMIT ((size_t)256 << 20) /* far above what 256 KiB of text needs */

struct ic_sql_s {
    arena_t ar;                     /* every node and string of the AST */
    int ver;                        /* VER_* */
    const char *ver_name;           /* as given: sql_version() */
    const char *from;               /* topic filter, "" when none */
    char warning[128];              /* ic_sql_warning(), "" when none */
    str_t var_names[IC_SQL_MAX_VARS];
    node_t *var_exprs[IC_SQL_MAX_VARS];
    size_t n_vars;
    sel_t sel;                      /* the top-level SELECT and WHERE */
};

/* "2015-10-08" (default), "2016-03-23", "beta" (= 2016-03-23). */
static bool parse_version(const char *v, int *ver, const char **name) {
    if (!v || strcmp(v, "2015-10-08") == 0) {
        *ver = VER_2015;
        *name = "2015-10-08";
    } else if (strcmp(v, "2016-03-23") == 0) {
        *ver = VER_2016;
        *name = "2016-03-23";
    } else if (strcmp(v, "beta") == 0) {
        *ver = VER_2016;
        *name = "beta";
    } else {
        return false;
    }
    return true;
}

static void set_err(ic_sql_err_t *err, const char *msg, int line, int col) {
    if (!err)
        return;
    snprintf(err->message, sizeof(err->message), "%s", msg);
    err->line = line;
    err->column = col;
}

static bool check_size(const char *text, const char *what, ic_sql_err_t *err) {
    char msg[128];
    if (strlen(text) <= IC_SQL_MAX_STATEMENT)
        return true;
    snprintf(msg, sizeof(msg), "%s longer than %d bytes at line 1, column 1", what,
             IC_SQL_MAX_STATEMENT);
    set_err(err, msg, 1, 1);
    return false;
}

/* FROM: a quoted or unquoted topic filter (U07), validated (U13). */
static bool parse_from(ps_t *ps, ic_sql_t *q) {
    size_t i = ps->cur.end, start, end;
    const char *s = ps->src;
    tok_t t;
    str_t f;
    int rc;
    static const ic_topic_limits_t lim = {IC_SQL_MAX_STATEMENT, IC_SQL_MAX_STATEMENT};
    char *copy;
    while (i < ps->len && is_blank((unsigned char)s[i]))
        i++;
    start = i;
    if (i < ps->len && (s[i] == '\'' || s[i] == '"')) {
        t = lex_at(ps, i);
        if (t.t != T_STR) {
            ps->cur = t;
            ps_unexpected(ps);
            return false;
        }
        f = tok_string(ps, &t);
        end = t.end;
    } else {
        while (i < ps->len && !is_blank((unsigned char)s[i]))
            i++;
        end = i;
        f.p = s + start;
        f.n = end - start;
        if (f.n == 0) {
            ps->cur = lex_at(ps, start);
            ps_expected(ps, "a topic filter");
            return false;
        }
    }
    rc = ic_topic_check_filter(f.p, f.n, &lim, NULL);
    if (rc != 0 || memchr(f.p, '\0', f.n)) {
        perr(ps, start, "Invalid topic filter '%.*s'", (int)(f.n > 100 ? 100 : f.n), f.p);
        return false;
    }
    copy = ps_alloc(ps, f.n + 1);
    memcpy(copy, f.p, f.n);
    q->from = copy;
    ps->cur.end = end;
    ps_next(ps);
    return true;
}

static bool parse_set(ps_t *ps, ic_sql_t *q) {
    if (!need_2016(ps, ps->cur.pos, "SET"))
        return false;
    ps_next(ps);
    for (;;) {
        str_t name;
        node_t *e;
        if (ps->cur.t != T_VAR) {
            ps_expected(ps, "a variable");
            return false;
        }
        name.p = ps->src + ps->cur.pos + 1;
        name.n = ps->cur.end - ps->cur.pos - 1;
        for (size_t i = 0; i < ps->n_vars; i++)
            if (str_eq(ps->vars[i], name)) {
                perr(ps, ps->cur.pos, "Variable '@%.*s' is already set", (int)name.n, name.p);
                return false;
            }
        if (ps->n_vars == IC_SQL_MAX_VARS) {
            perr(ps, ps->cur.pos, "Too many variables (at most %d)", IC_SQL_MAX_VARS);
            return false;
        }
        ps_next(ps);
        if (!expect_op(ps, P_EQ, "'='") || !(e = parse_expr(ps)))
            return false;
        /* visible from the next item on (spec 3.9) */
        q->var_names[ps->n_vars] = name;
        q->var_exprs[ps->n_vars] = e;
        ps->vars[ps->n_vars++] = name;
        q->n_vars = ps->n_vars;
        if (!is_op(ps, P_COMMA))
            return true;
        ps_next(ps);
    }
}

ic_sql_t *ic_sql_parse(const char *statement, const char *version, ic_sql_err_t *err) {
    ic_sql_t *q;
    ps_t ps;
    int ver;
    const char *ver_name;
    if (!parse_version(version, &ver, &ver_name)) {
        char msg[200];
        snprintf(msg, sizeof(msg), "Unsupported SQL version '%.64s'", version);
        set_err(err, msg, 0, 0);
        return NULL;
    }
    if (!statement)
        statement = "";
    if (!check_size(statement, "Statement", err))
        return NULL;
    q = ic_xcalloc(1, sizeof(*q));
    ar_init(&q->ar, AST_LIMIT);
    q->ver = ver;
    q->ver_name = ver_name;
    q->from = "";
    memset(&ps, 0, sizeof(ps));
    /* names and literals of the AST are views into the text: parse the
     * statement's own copy, which lives (in the arena) as long as q */
    ps.len = strlen(statement);
    {
        char *copy = ar_alloc(&q->ar, ps.len + 1);
        if (copy == NULL) {
            set_err(err, "Statement too large", 0, 0);
            ic_sql_free(q);
            return NULL;
        }
        memcpy(copy, statement, ps.len + 1);
        ps.src = copy;
    }
    ps.ar = &q->ar;
    ps.ver = ver;
    ps.err = err;
    ps.cur = lex_at(&ps, 0);
    if (ps.cur.t == T_EOF) {
        perr(&ps, ps.cur.pos, "Empty statement");
        goto fail;
    }
    if (is_kw(&ps, K_SET) && !parse_set(&ps, q))
        goto fail;
    if (!is_kw(&ps, K_SELECT)) {
        ps_expected(&ps, "'SELECT'");
        goto fail;
    }
    if (!parse_select_list(&ps, &q->sel))
        goto fail;
    if (is_kw(&ps, K_FROM) && !parse_from(&ps, q))
        goto fail;
    if (is_kw(&ps, K_WHERE)) {
        ps_next(&ps);
        if (!(q->sel.where = parse_expr(&ps)))
            goto fail;
    }
    if (is_op(&ps, P_SEMI))
        ps_next(&ps);
    if (ps.cur.t != T_EOF) {
        ps_unexpected(&ps);
        goto fail;
    }
    memcpy(q->warning, ps.warning, sizeof(q->warning));
    return q;
fail:
    ic_sql_free(q);
    return NULL;
}

void ic_sql_free(ic_sql_t *q) {
    if (!q)
        return;
    ar_free(&q->ar);
    free(q);
}

const char *ic_sql_from(const ic_sql_t *q) {
    return q->from;
}

const char *ic_sql_version(const ic_sql_t *q) {
    return q->ver == VER_2016 ? "2016-03-23" : "2015-10-08";
}

const char *ic_sql_warning(const ic_sql_t *q) {
    return q->warning[0] ? q->warning : NULL;
}

/* ---- runs -------------------------------------------------------------------- */

struct ic_sql_payload_s {
    unsigned refs;
    arena_t ar;                  /* the parsed values */
    const uint8_t *p;            /* borrowed */
    size_t n;
    bool done;                   /* parsed (or tried) */
    bool usable;                 /* the parse did not fail (memory, steps) */
    uint64_t steps;              /* its work, charged to every run using it */
    paykind_t pay;
    val_t val;
};

struct ic_sql_run_s {
    const ic_sql_t *q;           /* borrowed */
    ic_sql_payload_t *shared;    /* the shared parse in use (ref held) */
    const ic_sql_ctx_t *ctx;     /* borrowed for the life of the run */
    arena_t ar;                  /* payload values, SET values, output */
    val_t payload;               /* V_OBJ for PAY_OBJ and PAY_EMPTY */
    paykind_t pay;
    val_t vars[IC_SQL_MAX_VARS]; /* SET values (Undefined when not reached) */
    ic_sql_result_t result;
    const uint8_t *out;          /* IC_SQL_FIRED: output bytes (arena) */
    size_t out_len;
    char err[256];               /* IC_SQL_ERROR: why */
    const char *warning;         /* ic_sql_run_warning() (static text) */
};

static void ev_init(ev_t *ev, arena_t *ar, const ic_sql_ctx_t *ctx, int ver,
                    const char *ver_name) {
    memset(ev, 0, sizeof(*ev));
    ev->ar = ar;
    ev->ctx = ctx;
    ev->ver = ver;
    ev->ver_name = ver_name;
}

/* U27/U29: an object is JSON, empty is {}, anything else is binary. */
static void classify(ev_t *ev, const uint8_t *p, size_t n, paykind_t *pay,
                     val_t *out) {
    val_t v;
    *pay = PAY_RAW;
    *out = UNDEF;
    if (!p || n == 0) {
        obj_t *o = obj_new(ev);
        if (o) {
            *pay = PAY_EMPTY;
            *out = v_obj(o);
        }
        return;
    }
    if (json_parse(ev, (const char *)p, n, &v) && v.t == V_OBJ) {
        *pay = PAY_OBJ;
        *out = v;
    }
}

ic_sql_payload_t *ic_sql_payload_new(const uint8_t *p, size_t n) {
    ic_sql_payload_t *pl = ic_xcalloc(1, sizeof(*pl));
    pl->refs = 1;
    pl->p = p;
    pl->n = n;
    ar_init(&pl->ar, IC_SQL_MAX_RUN_BYTES);
    return pl;
}

ic_sql_payload_t *ic_sql_payload_ref(ic_sql_payload_t *pl) {
    pl->refs++;
    return pl;
}

void ic_sql_payload_unref(ic_sql_payload_t *pl) {
    if (pl == NULL || --pl->refs > 0)
        return;
    ar_free(&pl->ar);
    free(pl);
}

/* The run's payload value: from the shared parse when the context has
 * one for these bytes (values are never modified in place: a projection
 * copies what it changes), else parsed into the run's own arena. A shared
 * parse that failed (memory or work limits) is redone here so that the
 * run reports the error itself. */
static void classify_payload(ev_t *ev, ic_sql_run_t *r) {
    const ic_sql_ctx_t *c = r->ctx;
    ic_sql_payload_t *pl = c->parsed;
    if (pl && pl->p == c->payload && pl->n == c->payload_len) {
        if (!pl->done) {
            ev_t pev;
            ev_init(&pev, &pl->ar, c, ev->ver, ev->ver_name);
            classify(&pev, pl->p, pl->n, &pl->pay, &pl->val);
            pl->done = true;
            pl->usable = !pev.failed;
            pl->steps = pev.steps;
        }
        if (pl->usable) {
            /* the parse costs each run what it would have alone: its
             * memory and work count toward the run's limits */
            r->shared = ic_sql_payload_ref(pl);
            r->pay = pl->pay;
            r->payload = pl->val;
            r->ar.total += pl->ar.total;
            ev_charge(ev, pl->steps);
            return;
        }
    }
    classify(ev, c->payload, c->payload_len, &r->pay, &r->payload);
}

static bool set_output(ev_t *ev, ic_sql_run_t *r, const void *p, size_t n) {
    uint8_t *o = ev_alloc(ev, n + 1);
    if (!o)
        return false;
    if (n)
        memcpy(o, p, n);
    o[n] = '\0';
    r->out = o;
    r->out_len = n;
    return true;
}

static void run_eval(ev_t *ev, ic_sql_run_t *r) {
    const ic_sql_t *q = r->q;
    const sel_t *sel = &q->sel;
    const ic_sql_ctx_t *c = r->ctx;
    scope_t top = {.top = true};
    val_t out;
    sb_t b;
    bool raw_star;
    classify_payload(ev, r);
    if (ev->failed)
        return;
    ev->payload = r->payload;
    ev->pay = r->pay;
    ev->vars = r->vars;
    ev->var_names = q->var_names;
    for (size_t i = 0; i < q->n_vars && !ev->failed; i++) { /* SET, in order */
        r->vars[i] = eval(ev, &top, q->var_exprs[i]);
        ev->n_vars = i + 1;
    }
    if (ev->failed)
        return;
    if (!where_true(ev, &top, sel->where)) { /* false, Undefined, ... (1.2) */
        r->result = IC_SQL_NOT_FIRED;
        return;
    }
    if (ev->failed)
        return;
    /* raw pass-through: SELECT VALUE * always, SELECT * on a binary payload */
    raw_star = sel->n_items == 1 && sel->items[0].expr->k == N_STAR &&
               (sel->is_value || (sel->items[0].n_path == 0 && r->pay == PAY_RAW));
    if (raw_star) {
        if (set_output(ev, r, c->payload, c->payload ? c->payload_len : 0))
            r->result = IC_SQL_FIRED;
        return;
    }
    out = project(ev, &top, sel);
    if (ev->failed)
        return;
    sb_init(&b, ev);
    jw_val(&b, &out, ev->ver); /* SELECT VALUE of Undefined: empty (U21) */
    if (!sb_reserve(&b, 0))
        return;
    r->out = (const uint8_t *)b.p;
    r->out_len = b.n;
    r->result = IC_SQL_FIRED;
}

ic_sql_run_t *ic_sql_run(const ic_sql_t *q, const ic_sql_ctx_t *ctx) {
    ic_sql_run_t *r = ic_xcalloc(1, sizeof(*r));
    ev_t ev;
    r->q = q;
    r->ctx = ctx;
    r->result = IC_SQL_ERROR;
    ar_init(&r->ar, IC_SQL_MAX_RUN_BYTES);
    if (!q || !ctx) {
        snprintf(r->err, sizeof(r->err), "no statement or no message context");
        return r;
    }
    ev_init(&ev, &r->ar, ctx, q->ver, q->ver_name);
    run_eval(&ev, r);
    r->warning = ev.warning;
    if (ev.failed) {
        r->result = IC_SQL_ERROR;
        r->out = NULL;
        r->out_len = 0;
        snprintf(r->err, sizeof(r->err), "%s", ev.err);
    }
    return r;
}

ic_sql_result_t ic_sql_run_result(const ic_sql_run_t *r) {
    return r->result;
}

const uint8_t *ic_sql_run_output(const ic_sql_run_t *r, size_t *len) {
    if (r->result != IC_SQL_FIRED) {
        *len = 0;
        return NULL;
    }
    *len = r->out_len;
    return r->out;
}

const char *ic_sql_run_error(const ic_sql_run_t *r) {
    return r->result == IC_SQL_ERROR ? r->err : NULL;
}

const char *ic_sql_run_warning(const ic_sql_run_t *r) {
    return r->warning;
}

void ic_sql_run_free(ic_sql_run_t *r) {
    if (!r)
        return;
    ar_free(&r->ar);
    ic_sql_payload_unref(r->shared);
    free(r);
}

/* ---- substitution templates (spec 7) ------------------------------------------ */

typedef struct part_s {
    str_t lit;      /* literal text ($$ already turned into $) */
    node_t *expr;   /* NULL for a literal part */
} part_t;

struct ic_sql_tmpl_s {
    arena_t ar;
    int ver;
    const char *ver_name;
    part_t *parts;
    size_t n_parts;
    bool is_constant;  /* no ${...} */
};

ic_sql_tmpl_t *ic_sql_tmpl_parse(const char *text, const char *version, ic_sql_err_t *err) {
    ic_sql_tmpl_t *t;
    ps_t ps;
    plist_t parts = {0};
    char *lit;
    size_t i = 0, nl = 0;
    int ver;
    const char *ver_name;
    if (!parse_version(version, &ver, &ver_name)) {
        char msg[200];
        snprintf(msg, sizeof(msg), "Unsupported SQL version '%.64s'", version);
        set_err(err, msg, 0, 0);
        return NULL;
    }
    if (!text)
        text = "";
    if (!check_size(text, "Template", err))
        return NULL;
    t = ic_xcalloc(1, sizeof(*t));
    ar_init(&t->ar, AST_LIMIT);
    t->ver = ver;
    t->ver_name = ver_name;
    t->is_constant = true;
    memset(&ps, 0, sizeof(ps));
    ps.len = strlen(text);
    {
        char *copy = ar_alloc(&t->ar, ps.len + 1);
        if (copy == NULL) {
            set_err(err, "Template too large", 0, 0);
            ic_sql_tmpl_free(t);
            return NULL;
        }
        memcpy(copy, text, ps.len + 1);
        text = copy;
        ps.src = copy;
    }
    ps.ar = &t->ar;
    ps.ver = ver;
    ps.err = err;
    ps.tmpl = true;
    lit = ps_alloc(&ps, ps.len + 1);
    while (i <= ps.len) {
        bool at_expr = i + 1 < ps.len && text[i] == '$' && text[i + 1] == '{';
        if (i == ps.len || at_expr) { /* flush the literal */
            if (nl) {
                part_t *p = ps_alloc(&ps, sizeof(*p));
                p->lit.p = lit;
                p->lit.n = nl;
                pl_push(&ps, &parts, p);
                lit += nl + 1;
                nl = 0;
            }
            if (i == ps.len)
                break;
        }
        if (at_expr) {
            part_t *p = ps_alloc(&ps, sizeof(*p));
            ps.cur = lex_at(&ps, i + 2);
            if (is_op(&ps, P_RBRACE)) {
                perr(&ps, ps.cur.pos, "Empty expression");
                goto fail;
            }
            if (!(p->expr = parse_expr(&ps)))
                goto fail;
            if (!is_op(&ps, P_RBRACE)) {
                ps_expected(&ps, "'}'");
                goto fail;
            }
            pl_push(&ps, &parts, p);
            t->is_constant = false;
            i = ps.cur.end;
            continue;
        }
        if (text[i] == '$' && i + 1 < ps.len && text[i + 1] == '$') { /* U62 */
            lit[nl++] = '$';
            i += 2;
            continue;
        }
        lit[nl++] = text[i++];
    }
    t->parts = ps_alloc(&ps, (parts.n ? parts.n : 1) * sizeof(part_t));
    for (size_t k = 0; k < parts.n; k++)
        t->parts[k] = *(part_t *)parts.v[k];
    t->n_parts = parts.n;
    return t;
fail:
    ic_sql_tmpl_free(t);
    return NULL;
}

void ic_sql_tmpl_free(ic_sql_tmpl_t *t) {
    if (!t)
        return;
    ar_free(&t->ar);
    free(t);
}

bool ic_sql_tmpl_is_constant(const ic_sql_tmpl_t *t) {
    return t->is_constant;
}

char *ic_sql_tmpl_render(const ic_sql_tmpl_t *t, const ic_sql_run_t *r, char *err,
                         size_t errlen) {
    arena_t ar;
    ev_t ev;
    sb_t b;
    scope_t top = {.top = true};
    char *res = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!r || !r->ctx || !r->q) {
        if (err && errlen)
            snprintf(err, errlen, "no message context");
        return NULL;
    }
    ar_init(&ar, IC_SQL_MAX_RUN_BYTES);
    ev_init(&ev, &ar, r->ctx, t->ver, t->ver_name);
    ev.payload = r->payload;
    ev.pay = r->pay;
    ev.vars = r->vars;
    ev.var_names = r->q->var_names;
    ev.n_vars = r->q->n_vars;
    sb_init(&b, &ev);
    sb_reserve(&b, 0);
    for (size_t i = 0; i < t->n_parts && !ev.failed; i++) {
        const part_t *p = &t->parts[i];
        val_t v;
        str_t s;
        if (!p->expr) {
            sb_add(&b, p->lit.p, p->lit.n);
            continue;
        }
        v = eval(&ev, &top, p->expr);
        if (ev.failed)
            break;
        if (v.t == V_UNDEF || v.t == V_NULL) /* U61 */
            continue;
        if (to_str(&ev, &v, &s))
            sb_add(&b, s.p, s.n);
    }
    if (!ev.failed && !b.failed) {
        res = ic_xmalloc(b.n + 1);
        memcpy(res, b.p, b.n);
        res[b.n] = '\0';
    } else if (err && errlen) {
        snprintf(err, errlen, "%s", ev.failed ? ev.err : "template too large");
    }
    ar_free(&ar);
    return res;
}
