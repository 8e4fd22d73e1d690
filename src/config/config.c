/* config.c - parse config files into ic_config_t.
 *
 * Owns the tokenizer, the per-type setters and formatters, and include
 * handling. It reads files but has no other side effect: nothing is bound,
 * opened or logged here, so `iotcored -t` and SIGHUP reload can parse a file
 * without disturbing a running broker. Errors are written once, as
 * `file:line: message`, into the caller's buffer.
 */
#include "iotcored/config.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/str.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INCLUDE_DEPTH 8
#define MAX_FILE_BYTES (1024 * 1024)
#define MAX_TOKENS 16
#define MAX_LISTENERS 64

typedef struct parse_s {
    ic_config_t *cfg;
    char *err;
    size_t errlen;
    int depth;
    ic_listener_conf_t *cur; /* open listener block, or NULL */
} parse_t;

static int parse_text(parse_t *ps, const char *text, const char *file);

static int fail(parse_t *ps, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(parse_t *ps, const char *file, int line, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(ps->err, ps->errlen, "%s:%d: %s", file, line, msg);
    else
        snprintf(ps->err, ps->errlen, "%s: %s", file, msg);
    return IC_ECONFIG;
}

static void *field(const ic_directive_t *d, void *base) {
    return (char *)base + d->offset;
}

static const void *cfield(const ic_directive_t *d, const void *base) {
    return (const char *)base + d->offset;
}

/* ---- value parsing ---------------------------------------------------- */

static int parse_scaled(const char *v, const char *const *units,
                        const int64_t *mult, int64_t *out) {
    char *end;
    long long n;
    size_t i;
    if (!isdigit((unsigned char)v[0]))
        return IC_EINVAL;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno == ERANGE)
        return IC_ERANGE;
    for (i = 0; units[i]; i++) {
        if (strcmp(end, units[i]) == 0) {
            if (mult[i] != 0 && n > INT64_MAX / mult[i])
                return IC_ERANGE;
            *out = (int64_t)n * mult[i];
            return 0;
        }
    }
    return IC_EINVAL;
}

static const char *const size_units[] = {"", "B", "K", "KB", "KiB", "M", "MB",
                                         "MiB", "G", "GB", "GiB", NULL};
static const int64_t size_mult[] = {1, 1, 1024, 1024, 1024, 1048576, 1048576,
                                    1048576, 1073741824, 1073741824,
                                    1073741824};
static const char *const dur_units[] = {"", "ms", "s", "m", "h", "d", NULL};
static const int64_t dur_mult[] = {1000, 1, 1000, 60000, 3600000, 86400000};

static void describe_enum(const ic_directive_t *d, char *out, size_t cap) {
    size_t i, len = 0;
    out[0] = '\0';
    for (i = 0; d->enum_names[i]; i++) {
        int n = snprintf(out + len, cap - len, "%s%s", i ? ", " : "",
                         d->enum_names[i]);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
}

/* Set d's field in base from text v. Returns 0 or writes a reason (without
 * location) into why. */
static int set_value(const ic_directive_t *d, void *base, const char *v,
                     char *why, size_t whylen) {
    int64_t n = 0;
    int rc;
    size_t i;
    switch (d->type) {
    case IC_CFG_BOOL:
        if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true"))
            *(int *)field(d, base) = 1;
        else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false"))
            *(int *)field(d, base) = 0;
        else {
            snprintf(why, whylen, "invalid value '%s' (expected on or off)", v);
            return IC_EINVAL;
        }
        return 0;
    case IC_CFG_INT:
    case IC_CFG_SIZE:
    case IC_CFG_DURATION:
        if (d->type == IC_CFG_INT)
            rc = ic_str_to_i64(v, &n);
        else if (d->type == IC_CFG_SIZE)
            rc = parse_scaled(v, size_units, size_mult, &n);
        else
            rc = parse_scaled(v, dur_units, dur_mult, &n);
        if (rc != 0) {
            snprintf(why, whylen, "invalid value '%s' (expected %s)", v,
                     d->type == IC_CFG_INT    ? "an integer"
                     : d->type == IC_CFG_SIZE ? "a size such as 128K"
                                              : "a duration such as 30s");
            return IC_EINVAL;
        }
        if (n < d->min || n > d->max) {
            snprintf(why, whylen, "value '%s' out of range %lld..%lld", v,
                     (long long)d->min, (long long)d->max);
            return IC_ERANGE;
        }
        if (d->type == IC_CFG_INT)
            *(int *)field(d, base) = (int)n;
        else
            *(int64_t *)field(d, base) = n;
        return 0;
    case IC_CFG_STRING:
    case IC_CFG_PATH: {
        const char *reason = d->check ? d->check(v) : NULL;
        char **slot = field(d, base);
        if (reason != NULL) {
            snprintf(why, whylen, "invalid value '%s': %s", v, reason);
            return IC_EINVAL;
        }
        free(*slot);
        *slot = ic_xstrdup(v);
        return 0;
    }
    case IC_CFG_ENUM:
        for (i = 0; d->enum_names[i]; i++) {
            if (strcmp(d->enum_names[i], v) == 0) {
                *(int *)field(d, base) = (int)i;
                return 0;
            }
        }
        {
            char list[256];
            describe_enum(d, list, sizeof(list));
            snprintf(why, whylen, "invalid value '%s' (expected one of: %s)", v,
                     list);
        }
        return IC_EINVAL;
    case IC_CFG_INCLUDE:
    case IC_CFG_BLOCK:
    case IC_CFG_PAIRS:
        break;
    }
    snprintf(why, whylen, "cannot be set");
    return IC_EINVAL;
}

static void apply_defaults(ic_cfg_scope_t scope, void *base) {
    size_t n, i;
    char why[256];
    const ic_directive_t *d = ic_config_directives(&n);
    for (i = 0; i < n; i++) {
        if (d[i].scope != scope || d[i].defval == NULL)
            continue;
        /* Defaults are ours; a failure here is a table bug. */
        if (set_value(&d[i], base, d[i].defval, why, sizeof(why)) != 0) {
            fprintf(stderr, "iotcored: bad default for %s: %s\n", d[i].name,
                    why);
            abort();
        }
    }
}

static void add_pair(ic_cfg_pairs_t *p, const char *a, const char *b) {
    p->v = ic_xrealloc(p->v, (p->n + 1) * 2 * sizeof(char *));
    p->v[2 * p->n] = ic_xstrdup(a);
    p->v[2 * p->n + 1] = ic_xstrdup(b);
    p->n++;
}

static void free_fields(ic_cfg_scope_t scope, void *base) {
    size_t n, i, j;
    const ic_directive_t *d = ic_config_directives(&n);
    for (i = 0; i < n; i++) {
        if (d[i].scope == scope && d[i].type == IC_CFG_PAIRS) {
            ic_cfg_pairs_t *p = field(&d[i], base);
            for (j = 0; j < 2 * p->n; j++)
                free(p->v[j]);
            free(p->v);
            p->v = NULL;
            p->n = 0;
        }
        if (d[i].scope == scope &&
            (d[i].type == IC_CFG_STRING || d[i].type == IC_CFG_PATH)) {
            char **slot = field(&d[i], base);
            free(*slot);
            *slot = NULL;
        }
    }
}

void ic_config_init(ic_config_t *cfg) {
    memset(cfg, 0, sizeof(*cfg));
    apply_defaults(IC_CFG_GLOBAL, cfg);
}

void ic_config_free(ic_config_t *cfg) {
    size_t i;
    if (cfg == NULL)
        return;
    free_fields(IC_CFG_GLOBAL, cfg);
    for (i = 0; i < cfg->n_listeners; i++) {
        free_fields(IC_CFG_LISTENER, &cfg->listeners[i]);
        free(cfg->listeners[i].name);
    }
    free(cfg->listeners);
    for (i = 0; i < cfg->n_files; i++)
        free(cfg->files[i]);
    free(cfg->files);
    free(cfg->path);
    memset(cfg, 0, sizeof(*cfg));
}

/* ---- tokenizer -------------------------------------------------------- */

/* Split line (modified in place) into tokens. Double quotes group words;
 * inside them \" and \\ escape. '#' outside quotes at a token start begins a
 * comment. Returns the token count or -1 with why set. */
static int tokenize(char *line, char **tok, const char **why) {
    int n = 0;
    char *p = line, *w;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p == '\0' || *p == '#' || *p == '\n')
            return n;
        if (n == MAX_TOKENS) {
            *why = "too many values on one line";
            return -1;
        }
        if (*p == '"') {
            tok[n++] = w = ++p;
            while (*p != '"') {
                if (*p == '\0' || *p == '\n') {
                    *why = "unterminated quoted string";
                    return -1;
                }
                if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                    p++;
                *w++ = *p++;
            }
            p++;
            if (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r') {
                *why = "text after closing quote";
                return -1;
            }
            *w = '\0';
            if (*p != '\0')
                p++;
        } else {
            tok[n++] = p;
            while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
                p++;
            if (*p != '\0')
                *p++ = '\0';
        }
    }
}

/* ---- files ------------------------------------------------------------ */

static const char *intern_file(ic_config_t *cfg, const char *file) {
    cfg->files = ic_xrealloc(cfg->files, (cfg->n_files + 1) * sizeof(char *));
    cfg->files[cfg->n_files] = ic_xstrdup(file);
    return cfg->files[cfg->n_files++];
}

static int read_file(const char *path, char **out, char *why, size_t whylen) {
    FILE *f = fopen(path, "rb");
    char *text;
    size_t n;
    if (f == NULL) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return IC_ECONFIG;
    }
    text = ic_xmalloc(MAX_FILE_BYTES + 1);
    n = fread(text, 1, MAX_FILE_BYTES + 1, f);
    if (ferror(f)) {
        snprintf(why, whylen, "cannot read: %s", strerror(errno));
        fclose(f);
        free(text);
        return IC_ECONFIG;
    }
    fclose(f);
    if (n > MAX_FILE_BYTES) {
        snprintf(why, whylen, "file larger than %d bytes", MAX_FILE_BYTES);
        free(text);
        return IC_ECONFIG;
    }
    text[n] = '\0';
    *out = text;
    return 0;
}

static int include_file(parse_t *ps, const char *from, int line,
                        const char *path) {
    char full[4096], why[256];
    char *text = NULL;
    const char *slash = strrchr(from, '/');
    int rc;
    if (ps->depth >= MAX_INCLUDE_DEPTH)
        return fail(ps, from, line, "include: nested deeper than %d",
                    MAX_INCLUDE_DEPTH);
    if (path[0] == '/' || slash == NULL)
        rc = ic_strfmt(full, sizeof(full), "%s", path);
    else
        rc = ic_strfmt(full, sizeof(full), "%.*s/%s", (int)(slash - from), from,
                       path);
    if (rc != 0)
        return fail(ps, from, line, "include: path too long");
    if (read_file(full, &text, why, sizeof(why)) != 0)
        return fail(ps, from, line, "include: '%s': %s", full, why);
    ps->depth++;
    rc = parse_text(ps, text, intern_file(ps->cfg, full));
    ps->depth--;
    free(text);
    return rc;
}

static int open_listener(parse_t *ps, const char *file, int line,
                         const char *name) {
    ic_config_t *cfg = ps->cfg;
    ic_listener_conf_t *l;
    size_t i;
    for (i = 0; name[i]; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
            name[i] != '_')
            return fail(ps, file, line,
                        "listener: invalid name '%s' (use a-z, 0-9, '-', '_')",
                        name);
    if (ic_config_listener(cfg, name) != NULL)
        return fail(ps, file, line, "listener: duplicate name '%s'", name);
    if (cfg->n_listeners == MAX_LISTENERS)
        return fail(ps, file, line, "listener: more than %d listeners",
                    MAX_LISTENERS);
    cfg->listeners = ic_xrealloc(cfg->listeners, (cfg->n_listeners + 1) *
                                                     sizeof(*cfg->listeners));
    l = &cfg->listeners[cfg->n_listeners++];
    memset(l, 0, sizeof(*l));
    apply_defaults(IC_CFG_LISTENER, l);
    l->name = ic_xstrdup(name);
    l->loc.file = file;
    l->loc.line = line;
    l->port_loc = l->loc;
    ps->cur = l;
    return 0;
}

static int parse_line(parse_t *ps, char *text, const char *file, int line) {
    char *tok[MAX_TOKENS];
    const char *why = NULL;
    char reason[384];
    const ic_directive_t *d;
    void *base;
    int n = tokenize(text, tok, &why);
    if (n < 0)
        return fail(ps, file, line, "%s", why);
    if (n == 0)
        return 0;
    d = ic_config_find(tok[0]);
    if (d == NULL)
        return fail(ps, file, line, "unknown directive '%s'", tok[0]);
    if (d->type == IC_CFG_PAIRS) {
        if (n != 3)
            return fail(ps, file, line, "%s: expects two values, got %d",
                        d->name, n - 1);
        add_pair(field(d, d->scope == IC_CFG_LISTENER ? (void *)ps->cur
                                                      : (void *)ps->cfg),
                 tok[1], tok[2]);
        return 0;
    }
    if (n != 2)
        return fail(ps, file, line, "%s: expects exactly one value, got %d",
                    d->name, n - 1);
    if (d->type == IC_CFG_INCLUDE)
        return include_file(ps, file, line, tok[1]);
    if (d->type == IC_CFG_BLOCK)
        return open_listener(ps, file, line, tok[1]);
    if (d->scope == IC_CFG_LISTENER) {
        if (ps->cur == NULL)
            return fail(ps, file, line,
                        "%s: only valid inside a listener block", d->name);
        base = ps->cur;
        if (strcmp(d->name, "port") == 0) {
            ps->cur->port_loc.file = file;
            ps->cur->port_loc.line = line;
        }
    } else {
        base = ps->cfg;
    }
    if (set_value(d, base, tok[1], reason, sizeof(reason)) != 0)
        return fail(ps, file, line, "%s: %s", d->name, reason);
    return 0;
}

static int parse_text(parse_t *ps, const char *text, const char *file) {
    const char *p = text;
    int line = 0, rc;
    char buf[4096];
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        line++;
        if (len >= sizeof(buf))
            return fail(ps, file, line, "line longer than %zu bytes",
                        sizeof(buf) - 1);
        memcpy(buf, p, len);
        buf[len] = '\0';
        if (memchr(buf, '\0', len) != NULL || strlen(buf) != len)
            return fail(ps, file, line, "NUL byte in line");
        rc = parse_line(ps, buf, file, line);
        if (rc != 0)
            return rc;
        p += len + (nl ? 1 : 0);
    }
    return 0;
}

static int finish(parse_t *ps, const char *file) {
    const ic_config_t *cfg = ps->cfg;
    size_t i;
    if (cfg->n_listeners == 0)
        return fail(ps, file, 0, "no listener block defined");
    for (i = 0; i < cfg->n_listeners; i++) {
        const ic_listener_conf_t *l = &cfg->listeners[i];
        if ((l->protocol == IC_PROTO_ALPN || l->protocol == IC_PROTO_HTTPS) &&
            l->tls == 0)
            return fail(ps, l->loc.file, l->loc.line,
                        "listener %s: protocol %s needs TLS (tls on or mutual)",
                        l->name, l->protocol == IC_PROTO_ALPN ? "alpn" : "https");
    }
    if ((cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0'))
        return fail(ps, file, 0, "tls_cert and tls_key go together");
    if (cfg->keepalive_min > cfg->keepalive_max)
        return fail(ps, file, 0, "keepalive_min (%d) is above keepalive_max (%d)",
                    cfg->keepalive_min, cfg->keepalive_max);
    if (cfg->max_payload_size > cfg->max_packet_size)
        return fail(ps, file, 0,
                    "max_payload_size is above max_packet_size");
    return 0;
}

int ic_config_parse(ic_config_t *cfg, const char *text, const char *name,
                    char *err, size_t errlen) {
    parse_t ps = {cfg, err, errlen, 0, NULL};
    const char *file = intern_file(cfg, name);
    int rc;
    if (cfg->path == NULL)
        cfg->path = ic_xstrdup(name);
    rc = parse_text(&ps, text, file);
    return rc ? rc : finish(&ps, file);
}

int ic_config_load(ic_config_t *cfg, const char *path, char *err,
                   size_t errlen) {
    char *text = NULL, why[256];
    int rc;
    if (read_file(path, &text, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return IC_ECONFIG;
    }
    rc = ic_config_parse(cfg, text, path, err, errlen);
    free(text);
    return rc;
}

/* ---- formatting ------------------------------------------------------- */

static void format_scaled(ic_buf_t *out, int64_t v, const char *const *units,
                          const int64_t *mult, size_t first, size_t last) {
    size_t i;
    for (i = last + 1; i-- > first;) {
        if (mult[i] && v != 0 && v % mult[i] == 0) {
            ic_buf_appendf(out, "%lld%s", (long long)(v / mult[i]), units[i]);
            return;
        }
    }
    ic_buf_appendf(out, "%lld%s", (long long)(v / mult[first]), units[first]);
}

static void format_string(ic_buf_t *out, const char *s) {
    const char *p;
    bool plain = s[0] != '\0' && s[0] != '#';
    for (p = s; *p && plain; p++)
        if (*p == ' ' || *p == '\t' || *p == '"' || *p == '\\')
            plain = false;
    if (plain) {
        ic_buf_append_str(out, s);
        return;
    }
    ic_buf_put_u8(out, '"');
    for (p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            ic_buf_put_u8(out, '\\');
        ic_buf_put_u8(out, (uint8_t)*p);
    }
    ic_buf_put_u8(out, '"');
}

void ic_config_format(const ic_directive_t *d, const void *base,
                      ic_buf_t *out) {
    switch (d->type) {
    case IC_CFG_BOOL:
        ic_buf_append_str(out, *(const int *)cfield(d, base) ? "on" : "off");
        break;
    case IC_CFG_INT:
        ic_buf_appendf(out, "%d", *(const int *)cfield(d, base));
        break;
    case IC_CFG_SIZE:
        /* units: "", K, M, G at indices 0, 2, 5, 8; pick the largest exact */
        {
            int64_t v = *(const int64_t *)cfield(d, base);
            static const char *const u[] = {"", "K", "M", "G"};
            static const int64_t m[] = {1, 1024, 1048576, 1073741824};
            format_scaled(out, v, u, m, 0, 3);
        }
        break;
    case IC_CFG_DURATION: {
        int64_t v = *(const int64_t *)cfield(d, base);
        static const char *const u[] = {"ms", "s", "m", "h", "d"};
        static const int64_t m[] = {1, 1000, 60000, 3600000, 86400000};
        format_scaled(out, v, u, m, 0, 4);
        break;
    }
    case IC_CFG_STRING:
    case IC_CFG_PATH: {
        const char *s = *(char *const *)cfield(d, base);
        format_string(out, s ? s : "");
        break;
    }
    case IC_CFG_ENUM:
        ic_buf_append_str(out, d->enum_names[*(const int *)cfield(d, base)]);
        break;
    case IC_CFG_PAIRS: {
        const ic_cfg_pairs_t *p = cfield(d, base);
        size_t i;
        for (i = 0; i < p->n; i++) {
            if (i > 0)
                ic_buf_append_str(out, " ");
            format_string(out, p->v[2 * i]);
            ic_buf_append_str(out, " ");
            format_string(out, p->v[2 * i + 1]);
        }
        break;
    }
    case IC_CFG_INCLUDE:
    case IC_CFG_BLOCK:
        break;
    }
}

bool ic_config_same(const ic_directive_t *d, const void *a, const void *b) {
    ic_buf_t x, y;
    bool same;
    ic_buf_init(&x);
    ic_buf_init(&y);
    ic_config_format(d, a, &x);
    ic_config_format(d, b, &y);
    same = x.len == y.len && (x.len == 0 || memcmp(x.data, y.data, x.len) == 0);
    ic_buf_free(&x);
    ic_buf_free(&y);
    return same;
}

bool ic_config_listeners_same(const ic_config_t *a, const ic_config_t *b) {
    size_t n, i, j;
    const ic_directive_t *d = ic_config_directives(&n);
    if (a->n_listeners != b->n_listeners)
        return false;
    for (j = 0; j < a->n_listeners; j++) {
        if (strcmp(a->listeners[j].name, b->listeners[j].name) != 0)
            return false;
        for (i = 0; i < n; i++)
            if (d[i].scope == IC_CFG_LISTENER &&
                !ic_config_same(&d[i], &a->listeners[j], &b->listeners[j]))
                return false;
    }
    return true;
}

static void swap_bytes(void *a, void *b, size_t len) {
    unsigned char tmp[sizeof(ic_cfg_pairs_t)];
    memcpy(tmp, a, len);
    memcpy(a, b, len);
    memcpy(b, tmp, len);
}

void ic_config_swap_reloadable(ic_config_t *running, ic_config_t *next) {
    size_t n, i;
    const ic_directive_t *d = ic_config_directives(&n);
    for (i = 0; i < n; i++) {
        size_t len;
        if (d[i].scope != IC_CFG_GLOBAL || !d[i].reloadable)
            continue;
        switch (d[i].type) {
        case IC_CFG_SIZE:
        case IC_CFG_DURATION:
            len = sizeof(int64_t);
            break;
        case IC_CFG_STRING:
        case IC_CFG_PATH:
            len = sizeof(char *);
            break;
        case IC_CFG_BOOL:
        case IC_CFG_INT:
        case IC_CFG_ENUM:
            len = sizeof(int);
            break;
        case IC_CFG_PAIRS:
            len = sizeof(ic_cfg_pairs_t);
            break;
        default:
            continue;
        }
        swap_bytes(field(&d[i], running), field(&d[i], next), len);
    }
}

static void dump_scope(ic_cfg_scope_t scope, const void *base, ic_buf_t *out,
                       const char *indent) {
    size_t n, i;
    const ic_directive_t *d = ic_config_directives(&n);
    for (i = 0; i < n; i++) {
        if (d[i].scope != scope || d[i].type == IC_CFG_INCLUDE ||
            d[i].type == IC_CFG_BLOCK)
            continue;
        if (d[i].type == IC_CFG_PAIRS) {
            const ic_cfg_pairs_t *p = cfield(&d[i], base);
            size_t j;
            for (j = 0; j < p->n; j++) {
                ic_buf_appendf(out, "%s%s ", indent, d[i].name);
                format_string(out, p->v[2 * j]);
                ic_buf_put_u8(out, ' ');
                format_string(out, p->v[2 * j + 1]);
                ic_buf_put_u8(out, '\n');
            }
            continue;
        }
        ic_buf_appendf(out, "%s%s ", indent, d[i].name);
        ic_config_format(&d[i], base, out);
        ic_buf_put_u8(out, '\n');
    }
}

void ic_config_dump(const ic_config_t *cfg, ic_buf_t *out) {
    size_t i;
    ic_buf_appendf(out, "# effective configuration of %s\n",
                   cfg->path ? cfg->path : "(defaults)");
    dump_scope(IC_CFG_GLOBAL, cfg, out, "");
    for (i = 0; i < cfg->n_listeners; i++) {
        ic_buf_appendf(out, "\nlistener %s\n", cfg->listeners[i].name);
        dump_scope(IC_CFG_LISTENER, &cfg->listeners[i], out, "  ");
    }
}

const ic_listener_conf_t *ic_config_listener(const ic_config_t *cfg,
                                             const char *name) {
    size_t i;
    for (i = 0; i < cfg->n_listeners; i++)
        if (strcmp(cfg->listeners[i].name, name) == 0)
            return &cfg->listeners[i];
    return NULL;
}

void ic_config_endpoint(const ic_config_t *cfg, char *out, size_t cap) {
    if (cfg->endpoint[0])
        snprintf(out, cap, "%s", cfg->endpoint);
    else
        snprintf(out, cap, "iotcored-ats.iot.%s.amazonaws.com", cfg->region);
}
