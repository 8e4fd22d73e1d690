/* iotctl.c - `iotctl`, the command-line client of the iotcored control plane.
 *
 * Turns a command line into AWS IoT control-plane REST calls (rest-json as
 * botocore's iot/2015-05-28 model defines them, plus the iotcored-only
 * GET /iotcored/root-ca and /iotcored/status), SigV4-signed for service
 * "iot", sent over blocking HTTP/1.1 or HTTPS (always verified: there is no
 * insecure mode) on one connection per request, and prints the answers. It
 * owns its settings (flag > environment > config file > default) and the
 * files `cert create` writes. It must not know the daemon beyond the wire,
 * and keeps nothing a server sends beyond a 64 KiB head and a 16 MiB body.
 * Exit status: 0; 1 for an API error; sysexits(3) otherwise (iotctl.1).
 * Refs: RFC 9112 (framing, chunked), RFC 3986 2.3 (unreserved characters).
 */
#include "iotcored/alloc.h"
#include "iotcored/buf.h"
#include "iotcored/error.h"
#include "iotcored/sigv4.h"
#include "iotcored/str.h"
#include "iotcored/version.h"

#include <cjson/cJSON.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define CTL_EX_API 1 /* the server answered with an API error */
#define CTL_DEFAULT_ENDPOINT "http://127.0.0.1:8080"
#define CTL_DEFAULT_REGION "us-east-1"
#define CTL_SERVICE "iot"
#define CTL_MAX_BODY_BYTES ((size_t)16 << 20)  /* response body, decoded */
#define CTL_MAX_HEAD_BYTES ((size_t)64 << 10)  /* status line + headers */
#define CTL_MAX_RAW_BYTES (CTL_MAX_BODY_BYTES + ((size_t)1 << 20))
#define CTL_MAX_INPUT_BYTES ((size_t)1 << 20)  /* policy file, config file */
#define CTL_IO_TIMEOUT_S 30                    /* connect, each read/write */
#define CTL_DEADLINE_S 300                     /* a whole response */
#define CTL_MAX_PAGES 10000                    /* list pagination guard */
#define CTL_MAX_POSITIONAL 4

/* ---- settings ----------------------------------------------------------- */

typedef enum {
    CTL_ENDPOINT = 0,
    CTL_ACCESS_KEY,
    CTL_SECRET,
    CTL_REGION,
    CTL_CAFILE,
    CTL_N_SETTINGS
} ctl_setting_t;

/* One row per setting; resolve_settings() applies the precedence
 * flag > environment (first non-empty variable) > config file > default. */
static const struct ctl_setting_def_s {
    const char *conf;   /* config file directive */
    const char *flag;   /* long option */
    const char *env[2]; /* environment variables, NULL-padded */
    const char *dflt;   /* NULL: unset */
} setting_defs[CTL_N_SETTINGS] = {
    [CTL_ENDPOINT] = {"endpoint", "--endpoint", {"IOTCTL_ENDPOINT", NULL},
                      CTL_DEFAULT_ENDPOINT},
    [CTL_ACCESS_KEY] = {"access_key_id", "--access-key-id",
                        {"AWS_ACCESS_KEY_ID", NULL}, NULL},
    [CTL_SECRET] = {"secret_access_key", "--secret-access-key",
                    {"AWS_SECRET_ACCESS_KEY", NULL}, NULL},
    [CTL_REGION] = {"region", "--region", {"AWS_REGION", "AWS_DEFAULT_REGION"},
                    CTL_DEFAULT_REGION},
    [CTL_CAFILE] = {"cafile", "--cafile", {"IOTCTL_CAFILE", NULL}, NULL},
};

/* The endpoint URL taken apart. */
typedef struct ctl_url_s {
    bool is_tls;           /* https:// */
    bool is_ip;            /* host is an IPv4/IPv6 literal (no SNI) */
    char host[256];        /* without IPv6 brackets */
    char port[6];          /* decimal */
    char host_header[270]; /* Host: value, port omitted when default */
} ctl_url_t;

/* The run's context; everything lives here (no globals). */
typedef struct ctl_s {
    char *set[CTL_N_SETTINGS]; /* owned; NULL while unset */
    ctl_url_t url;
    bool is_dry_run;           /* print requests, send nothing */
    SSL_CTX *ssl_ctx;          /* owned; made on the first https request */
} ctl_t;

/* One request. path and query are already percent-encoded. */
typedef struct ctl_request_s {
    const char *method;
    const char *path;      /* "/things/a%3Ab" */
    const char *query;     /* "setAsActive=true" or "" */
    const char *principal; /* x-amzn-principal header, or NULL */
    const char *body;      /* JSON, or NULL for no body */
} ctl_request_t;

typedef struct ctl_response_s {
    int status;              /* 200..599 (1xx are skipped) */
    char error_type[128];    /* x-amzn-ErrorType up to ':', "" if absent */
    char *body;              /* owned, NUL-terminated, never NULL once parsed */
    size_t body_len;
} ctl_response_t;

typedef enum {
    FRAME_NONE = 0, /* 204/304: no body */
    FRAME_LENGTH,   /* Content-Length */
    FRAME_CHUNKED,  /* Transfer-Encoding: chunked */
    FRAME_EOF,      /* until the server closes */
} ctl_framing_t;

/* How far the chunked body has been checked, so that each read continues
 * where the last one stopped instead of rescanning (offsets from the body
 * start, which no longer moves once the head is complete). */
typedef struct ctl_chunk_scan_s {
    size_t pos;   /* next chunk-size line */
    size_t total; /* decoded bytes before pos */
} ctl_chunk_scan_t;

typedef struct ctl_head_s {
    size_t head_len;         /* bytes up to and including the empty line */
    int status;
    ctl_framing_t framing;
    size_t content_length;   /* FRAME_LENGTH only */
    char error_type[128];
} ctl_head_t;

/* A command: words, handler, usage (the arguments after the words). */
typedef struct ctl_cmd_s ctl_cmd_t;
typedef int (*ctl_cmd_fn)(ctl_t *c, const ctl_cmd_t *cmd, int argc,
                          char **argv);
struct ctl_cmd_s {
    const char *group;
    const char *verb; /* NULL for a one-word command */
    ctl_cmd_fn fn;
    const char *arg;  /* handler-specific constant (certificate status) */
    const char *usage;
};

/* ---- small helpers ------------------------------------------------------ */

static void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void errorf(const char *fmt, ...) {
    va_list ap;
    fputs("iotctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Copy s into out (cap > 0) with control characters and DEL replaced by '?',
 * so that server-supplied text cannot drive the terminal. */
static const char *printable(const char *s, char *out, size_t cap) {
    size_t i = 0;
    for (; *s != '\0' && i + 1 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        out[i++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    out[i] = '\0';
    return out;
}

static void print_kv(const char *key, const char *value) {
    char safe[2048];
    printf("%-15s %s\n", key, printable(value ? value : "-", safe, sizeof(safe)));
}

static bool is_unreserved(unsigned char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
           ch == '~';
}

/* Append s percent-encoded: everything but RFC 3986 unreserved characters,
 * upper-case hex (what botocore does for URI labels and query values). */
static void append_pct(ic_buf_t *b, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (is_unreserved(ch)) {
            ic_buf_put_u8(b, ch);
        } else {
            ic_buf_put_u8(b, '%');
            ic_buf_put_u8(b, (uint8_t)hex[ch >> 4]);
            ic_buf_put_u8(b, (uint8_t)hex[ch & 15]);
        }
    }
}

/* NUL-terminate b without counting the NUL; returns the text. */
static char *buf_cstr(ic_buf_t *b) {
    ic_buf_reserve(b, 1);
    b->data[b->len] = '\0';
    return (char *)b->data;
}

static bool has_ctl_chars(const char *s) {
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* Read all of path ("-" = stdin) into *out (owned, NUL-terminated).
 * Returns 0, IC_ENOENT, IC_ETOOBIG (more than max bytes) or IC_EIO with
 * errno-based text in err. */
static int read_bounded(const char *path, size_t max, char **out,
                        size_t *out_len, char *err, size_t errlen) {
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    ic_buf_t b;
    int rc = 0;

    *out = NULL;
    if (f == NULL) {
        int e = errno;
        ic_strfmt(err, errlen, "%s: %s", path, strerror(e));
        return e == ENOENT ? IC_ENOENT : IC_EIO;
    }
    ic_buf_init(&b);
    for (;;) {
        size_t n;
        ic_buf_reserve(&b, 8192);
        n = fread(b.data + b.len, 1, b.cap - b.len, f);
        b.len += n;
        if (b.len > max) {
            ic_strfmt(err, errlen, "%s: larger than %zu bytes", path, max);
            rc = IC_ETOOBIG;
            break;
        }
        if (n == 0) {
            if (ferror(f)) {
                ic_strfmt(err, errlen, "%s: read error", path);
                rc = IC_EIO;
            }
            break;
        }
    }
    if (!is_stdin)
        fclose(f);
    if (rc != 0) {
        ic_buf_free(&b);
        return rc;
    }
    *out = buf_cstr(&b);
    *out_len = b.len;
    return 0;
}

/* ---- settings: config file, environment, flags -------------------------- */

/* Parse the config file text (pure): `directive value` lines, '#' starts a
 * comment at the beginning of a line or after whitespace. Sets only the
 * settings still NULL in set[] (the file has the lowest precedence but
 * defaults). Returns 0 or IC_ECONFIG with "file:line: message" in err. */
static int parse_config(const char *text, const char *path,
                        char *set[CTL_N_SETTINGS], char *err, size_t errlen) {
    bool seen[CTL_N_SETTINGS] = {false};
    const char *p = text;
    int line_no = 0;

    while (*p != '\0') {
        const char *eol = strchr(p, '\n'), *end, *k, *v, *hash;
        size_t klen, i;
        int idx = -1;

        line_no++;
        end = eol ? eol : p + strlen(p);
        /* A comment: '#' first on the line or after a blank. */
        for (hash = p; hash < end; hash++)
            if (*hash == '#' && (hash == p || hash[-1] == ' ' || hash[-1] == '\t'))
                break;
        k = p;
        while (k < hash && (*k == ' ' || *k == '\t' || *k == '\r'))
            k++;
        while (hash > k && (hash[-1] == ' ' || hash[-1] == '\t' || hash[-1] == '\r'))
            hash--;
        if (k < hash) {
            v = k;
            while (v < hash && *v != ' ' && *v != '\t')
                v++;
            klen = (size_t)(v - k);
            while (v < hash && (*v == ' ' || *v == '\t'))
                v++;
            for (i = 0; i < CTL_N_SETTINGS; i++)
                if (strlen(setting_defs[i].conf) == klen &&
                    strncmp(setting_defs[i].conf, k, klen) == 0)
                    idx = (int)i;
            if (idx < 0) {
                ic_strfmt(err, errlen, "%s:%d: unknown directive '%.*s'", path,
                          line_no, (int)klen, k);
                return IC_ECONFIG;
            }
            if (v == hash) {
                ic_strfmt(err, errlen, "%s:%d: %s needs a value", path, line_no,
                          setting_defs[idx].conf);
                return IC_ECONFIG;
            }
            if (seen[idx]) {
                ic_strfmt(err, errlen, "%s:%d: %s given twice", path, line_no,
                          setting_defs[idx].conf);
                return IC_ECONFIG;
            }
            seen[idx] = true;
            if (set[idx] == NULL)
                set[idx] = ic_xstrndup(v, (size_t)(hash - v));
        }
        p = eol ? eol + 1 : end;
    }
    return 0;
}

/* Fill the settings the flags left unset: environment, then the config file
 * ($IOTCTL_CONFIG, which must exist, or ~/.config/iotctl.conf, which may
 * not), then defaults. Returns 0 or an exit status (message printed). */
static int resolve_settings(ctl_t *c) {
    const char *explicit_path = getenv("IOTCTL_CONFIG");
    const char *home = getenv("HOME");
    char path[4096], err[1024];
    char *text = NULL;
    size_t i, j, len;
    int rc;

    for (i = 0; i < CTL_N_SETTINGS; i++) {
        for (j = 0; j < 2 && c->set[i] == NULL; j++) {
            const char *v = setting_defs[i].env[j] ? getenv(setting_defs[i].env[j])
                                                   : NULL;
            if (v != NULL && *v != '\0')
                c->set[i] = ic_xstrdup(v);
        }
    }

    path[0] = '\0';
    if (explicit_path != NULL && *explicit_path != '\0')
        ic_strlcpy(path, explicit_path, sizeof(path));
    else if (home != NULL && *home != '\0' &&
             ic_strfmt(path, sizeof(path), "%s/.config/iotctl.conf", home) != 0)
        path[0] = '\0';
    if (path[0] != '\0') {
        rc = read_bounded(path, CTL_MAX_INPUT_BYTES, &text, &len, err, sizeof(err));
        if (rc == IC_ENOENT && explicit_path == NULL) {
            rc = 0; /* the default file is optional */
        } else if (rc != 0) {
            errorf("%s", err);
            return EX_CONFIG;
        } else {
            rc = parse_config(text, path, c->set, err, sizeof(err));
            free(text);
            if (rc != 0) {
                errorf("%s", err);
                return EX_CONFIG;
            }
        }
    }

    for (i = 0; i < CTL_N_SETTINGS; i++)
        if (c->set[i] == NULL && setting_defs[i].dflt != NULL)
            c->set[i] = ic_xstrdup(setting_defs[i].dflt);

    if ((c->set[CTL_ACCESS_KEY] == NULL) != (c->set[CTL_SECRET] == NULL)) {
        errorf("%s without %s: give both or neither",
               c->set[CTL_ACCESS_KEY] ? "access key ID" : "secret access key",
               c->set[CTL_ACCESS_KEY] ? "secret access key" : "access key ID");
        return EX_CONFIG;
    }
    return EX_OK;
}

/* Take an endpoint URL apart (pure): http:// or https://, a host name or an
 * IPv4 or [IPv6] literal, an optional port, an optional trailing "/".
 * Returns 0 or IC_EINVAL with the reason in err. */
static int parse_endpoint(const char *url, ctl_url_t *u, char *err,
                          size_t errlen) {
    const char *p, *host, *host_end, *port = NULL;
    size_t host_len, port_len = 0, i;
    unsigned char addr[16];
    bool is_bracketed;
    long port_no;

    memset(u, 0, sizeof(*u));
    if (strncasecmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        p = url + 8;
        u->is_tls = true;
    } else {
        ic_strfmt(err, errlen, "endpoint %s: not an http:// or https:// URL", url);
        return IC_EINVAL;
    }
    is_bracketed = *p == '[';
    if (is_bracketed) {
        host = p + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL) {
            ic_strfmt(err, errlen, "endpoint %s: unterminated [", url);
            return IC_EINVAL;
        }
        p = host_end + 1;
    } else {
        host = p;
        while (*p != '\0' && *p != ':' && *p != '/')
            p++;
        host_end = p;
    }
    host_len = (size_t)(host_end - host);
    if (*p == ':') {
        port = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        port_len = (size_t)(p - port);
    }
    if (*p == '/')
        p++;
    if (*p != '\0') {
        ic_strfmt(err, errlen,
                  "endpoint %s: only scheme, host and port are allowed", url);
        return IC_EINVAL;
    }
    if (host_len == 0 || host_len >= sizeof(u->host)) {
        ic_strfmt(err, errlen, "endpoint %s: bad host", url);
        return IC_EINVAL;
    }
    for (i = 0; i < host_len; i++) {
        unsigned char ch = (unsigned char)host[i];
        if (!is_unreserved(ch) && ch != ':') {
            ic_strfmt(err, errlen, "endpoint %s: bad host", url);
            return IC_EINVAL;
        }
    }
    memcpy(u->host, host, host_len);
    u->host[host_len] = '\0';
    if (port != NULL) {
        char tmp[8];
        int64_t v;
        if (port_len == 0 || port_len > 5) {
            ic_strfmt(err, errlen, "endpoint %s: bad port", url);
            return IC_EINVAL;
        }
        memcpy(tmp, port, port_len);
        tmp[port_len] = '\0';
        if (ic_str_to_i64(tmp, &v) != 0 || v < 1 || v > 65535) {
            ic_strfmt(err, errlen, "endpoint %s: bad port", url);
            return IC_EINVAL;
        }
        port_no = (long)v;
    } else {
        port_no = u->is_tls ? 443 : 80;
    }
    ic_strfmt(u->port, sizeof(u->port), "%ld", port_no);
    u->is_ip = inet_pton(AF_INET, u->host, addr) == 1 ||
               inet_pton(AF_INET6, u->host, addr) == 1;
    if ((is_bracketed || strchr(u->host, ':') != NULL) &&
        inet_pton(AF_INET6, u->host, addr) != 1) {
        ic_strfmt(err, errlen, "endpoint %s: bad IPv6 address", url);
        return IC_EINVAL;
    }
    /* botocore leaves the port out of Host when it is the scheme's. */
    if (port_no == (u->is_tls ? 443 : 80))
        ic_strfmt(u->host_header, sizeof(u->host_header),
                  strchr(u->host, ':') ? "[%s]" : "%s", u->host);
    else
        ic_strfmt(u->host_header, sizeof(u->host_header),
                  strchr(u->host, ':') ? "[%s]:%ld" : "%s:%ld", u->host, port_no);
    return 0;
}

/* ---- HTTP response parsing (pure) --------------------------------------- */

/* Next line of p[pos..n): sets *line_len (without CR LF) and returns the
 * offset after its LF, or 0 if no LF yet. */
static size_t next_line(const char *p, size_t n, size_t pos, size_t *line_len) {
    const char *nl = pos < n ? memchr(p + pos, '\n', n - pos) : NULL;
    size_t end;
    if (nl == NULL)
        return 0;
    end = (size_t)(nl - p);
    *line_len = end - pos;
    if (*line_len > 0 && p[end - 1] == '\r')
        (*line_len)--;
    return end + 1;
}

static bool header_is(const char *name, size_t name_len, const char *want) {
    return strlen(want) == name_len && strncasecmp(name, want, name_len) == 0;
}

/* Parse a response head at p[0..n). Returns 0 (h filled), IC_EAGAIN (the
 * head is incomplete; no side effects), IC_EMALFORMED or IC_ETOOBIG. */
static int parse_head(const char *p, size_t n, ctl_head_t *h, char *err,
                      size_t errlen) {
    size_t pos, len, next;
    bool has_length = false, is_chunked = false;

    memset(h, 0, sizeof(*h));
    next = next_line(p, n, 0, &len);
    if (next == 0)
        goto need_more;
    if (len < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' ||
        p[8] != ' ' || p[9] < '1' || p[9] > '5' || p[10] < '0' ||
        p[10] > '9' || p[11] < '0' || p[11] > '9' || (len > 12 && p[12] != ' ')) {
        ic_strfmt(err, errlen, "malformed status line");
        return IC_EMALFORMED;
    }
    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    for (pos = next;; pos = next) {
        const char *name = p + pos, *colon, *v, *ve;
        size_t name_len;
        next = next_line(p, n, pos, &len);
        if (next == 0)
            goto need_more;
        if (next > CTL_MAX_HEAD_BYTES) {
            ic_strfmt(err, errlen, "response head larger than %zu bytes",
                      CTL_MAX_HEAD_BYTES);
            return IC_ETOOBIG;
        }
        if (len == 0)
            break;
        colon = memchr(name, ':', len);
        if (colon == NULL || colon == name || *name == ' ' || *name == '\t') {
            ic_strfmt(err, errlen, "malformed header line");
            return IC_EMALFORMED;
        }
        name_len = (size_t)(colon - name);
        v = colon + 1;
        ve = name + len;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (header_is(name, name_len, "content-length")) {
            size_t cl = 0;
            const char *q;
            if (v == ve) {
                ic_strfmt(err, errlen, "malformed content-length");
                return IC_EMALFORMED;
            }
            for (q = v; q < ve; q++) {
                if (*q < '0' || *q > '9') {
                    ic_strfmt(err, errlen, "malformed content-length");
                    return IC_EMALFORMED;
                }
                cl = cl * 10 + (size_t)(*q - '0');
                if (cl > CTL_MAX_BODY_BYTES) {
                    ic_strfmt(err, errlen, "response body larger than %zu bytes",
                              CTL_MAX_BODY_BYTES);
                    return IC_ETOOBIG;
                }
            }
            if (has_length && cl != h->content_length) {
                ic_strfmt(err, errlen, "conflicting content-length headers");
                return IC_EMALFORMED;
            }
            has_length = true;
            h->content_length = cl;
        } else if (header_is(name, name_len, "transfer-encoding")) {
            /* chunked must be the final coding; nothing else is decoded. */
            if ((size_t)(ve - v) != 7 || strncasecmp(v, "chunked", 7) != 0) {
                ic_strfmt(err, errlen, "unsupported transfer-encoding %.*s",
                          (int)(ve - v), v);
                return IC_EMALFORMED;
            }
            is_chunked = true;
        } else if (header_is(name, name_len, "x-amzn-errortype")) {
            /* "Type:http://internal.amazon.com/..." -> "Type" */
            const char *c2 = memchr(v, ':', (size_t)(ve - v));
            size_t tlen = (size_t)((c2 ? c2 : ve) - v);
            if (tlen >= sizeof(h->error_type))
                tlen = sizeof(h->error_type) - 1;
            memcpy(h->error_type, v, tlen);
            h->error_type[tlen] = '\0';
        }
    }
    h->head_len = next;
    if (h->status == 204 || h->status == 304 || h->status < 200)
        h->framing = FRAME_NONE;
    else if (is_chunked)
        h->framing = FRAME_CHUNKED; /* RFC 9112 6.3: wins over a length */
    else if (has_length)
        h->framing = FRAME_LENGTH;
    else
        h->framing = FRAME_EOF;
    return 0;

need_more:
    if (n > CTL_MAX_HEAD_BYTES) {
        ic_strfmt(err, errlen, "response head larger than %zu bytes",
                  CTL_MAX_HEAD_BYTES);
        return IC_ETOOBIG;
    }
    return IC_EAGAIN;
}

/* Decode a chunked body at p[0..n). With out NULL only measures, starting
 * from and updating *scan (which may be NULL: from the start). Returns 0
 * with *body_len set, IC_EAGAIN, IC_EMALFORMED or IC_ETOOBIG. */
static int decode_chunked(const char *p, size_t n, char *out, size_t *body_len,
                          ctl_chunk_scan_t *scan, char *err, size_t errlen) {
    size_t pos = 0, total = 0, len, next;

    if (out == NULL && scan != NULL) {
        pos = scan->pos;
        total = scan->total;
    }

    for (;;) {
        size_t size = 0, i;
        int digits = 0;
        next = next_line(p, n, pos, &len);
        if (next == 0) {
            if (n - pos <= 4096)
                return IC_EAGAIN;
            ic_strfmt(err, errlen, "malformed chunk size");
            return IC_EMALFORMED;
        }
        for (i = pos; i < pos + len; i++) {
            char ch = p[i];
            int d = (ch >= '0' && ch <= '9')   ? ch - '0'
                    : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                    : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
                                               : -1;
            if (d < 0)
                break;
            size = size * 16 + (size_t)d;
            if (size > CTL_MAX_BODY_BYTES) {
                ic_strfmt(err, errlen, "response body larger than %zu bytes",
                          CTL_MAX_BODY_BYTES);
                return IC_ETOOBIG;
            }
            digits++;
        }
        if (digits == 0 ||
            (i < pos + len && p[i] != ';' && p[i] != ' ' && p[i] != '\t')) {
            ic_strfmt(err, errlen, "malformed chunk size");
            return IC_EMALFORMED;
        }
        pos = next;
        if (size == 0)
            break;
        if (total + size > CTL_MAX_BODY_BYTES) {
            ic_strfmt(err, errlen, "response body larger than %zu bytes",
                      CTL_MAX_BODY_BYTES);
            return IC_ETOOBIG;
        }
        if (n - pos < size + 1)
            return IC_EAGAIN;
        if (out != NULL)
            memcpy(out + total, p + pos, size);
        total += size;
        pos += size;
        if (p[pos] == '\r') {
            if (n - pos < 2)
                return IC_EAGAIN;
            pos++;
        }
        if (p[pos] != '\n') {
            ic_strfmt(err, errlen, "malformed chunk");
            return IC_EMALFORMED;
        }
        pos++;
        if (out == NULL && scan != NULL) {
            scan->pos = pos;
            scan->total = total;
        }
    }
    /* Trailer fields, up to the empty line; ignored. */
    for (;;) {
        next = next_line(p, n, pos, &len);
        if (next == 0) {
            if (n - pos <= CTL_MAX_HEAD_BYTES)
                return IC_EAGAIN;
            ic_strfmt(err, errlen, "chunked trailer larger than %zu bytes",
                      CTL_MAX_HEAD_BYTES);
            return IC_ETOOBIG;
        }
        pos = next;
        if (len == 0)
            break;
    }
    *body_len = total;
    return 0;
}

/* Parse a whole response from p[0..n); is_eof says the peer has closed;
 * scan carries chunked-body progress between calls on the same growing
 * buffer (zeroed before the first). Returns 0 (rs filled, rs->body owned by
 * the caller), IC_EAGAIN (read more; nothing but scan changed),
 * IC_EMALFORMED or IC_ETOOBIG. */
static int parse_response(const char *p, size_t n, bool is_eof,
                          ctl_chunk_scan_t *scan, ctl_response_t *rs,
                          char *err, size_t errlen) {
    ctl_head_t h;
    size_t off = 0, start, body_len = 0;
    int rc;

    for (;;) {
        rc = parse_head(p + off, n - off, &h, err, errlen);
        if (rc == IC_EAGAIN && is_eof) {
            ic_strfmt(err, errlen, "connection closed before the response");
            return IC_EMALFORMED;
        }
        if (rc != 0)
            return rc;
        if (h.status >= 200)
            break;
        off += h.head_len; /* 100 Continue and friends: the next head */
    }
    start = off + h.head_len;
    switch (h.framing) {
    case FRAME_NONE:
        break;
    case FRAME_LENGTH:
        if (n - start < h.content_length)
            goto need_more;
        body_len = h.content_length;
        break;
    case FRAME_CHUNKED:
        rc = decode_chunked(p + start, n - start, NULL, &body_len, scan, err,
                            errlen);
        if (rc == IC_EAGAIN)
            goto need_more;
        if (rc != 0)
            return rc;
        break;
    case FRAME_EOF:
        if (n - start > CTL_MAX_BODY_BYTES) {
            ic_strfmt(err, errlen, "response body larger than %zu bytes",
                      CTL_MAX_BODY_BYTES);
            return IC_ETOOBIG;
        }
        if (!is_eof)
            return IC_EAGAIN;
        body_len = n - start;
        break;
    }
    rs->status = h.status;
    memcpy(rs->error_type, h.error_type, sizeof(rs->error_type));
    rs->body = ic_xmalloc(body_len + 1);
    if (h.framing == FRAME_CHUNKED)
        decode_chunked(p + start, n - start, rs->body, &body_len, NULL, err,
                       errlen);
    else
        memcpy(rs->body, p + start, body_len);
    rs->body[body_len] = '\0';
    rs->body_len = body_len;
    return 0;

need_more:
    if (is_eof) {
        ic_strfmt(err, errlen, "connection closed in the middle of the body");
        return IC_EMALFORMED;
    }
    return IC_EAGAIN;
}

static void response_free(ctl_response_t *rs) {
    free(rs->body);
    rs->body = NULL;
}

/* ---- transport ---------------------------------------------------------- */

typedef struct ctl_conn_s {
    int fd;   /* -1 when closed */
    SSL *ssl; /* owned; NULL for plain HTTP */
} ctl_conn_t;

static void tls_error(const char *what, char *err, size_t errlen) {
    unsigned long e = ERR_get_error();
    char buf[256];
    if (e != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        ic_strfmt(err, errlen, "%s: %s", what, buf);
    } else {
        ic_strfmt(err, errlen, "%s: %s", what,
                  errno ? strerror(errno) : "connection closed");
    }
    ERR_clear_error();
}

/* Make the client SSL_CTX: TLS 1.2 or later, peer verification on, trust
 * anchors from cafile or the system store. Returns 0 or IC_ECONFIG. */
static int tls_ctx_make(ctl_t *c, char *err, size_t errlen) {
    const char *cafile = c->set[CTL_CAFILE];
    if (c->ssl_ctx != NULL)
        return 0;
    if (cafile != NULL && access(cafile, R_OK) != 0) {
        ic_strfmt(err, errlen, "cafile %s: %s", cafile, strerror(errno));
        return IC_ECONFIG;
    }
    c->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (c->ssl_ctx == NULL) {
        tls_error("SSL_CTX_new", err, errlen);
        return IC_ECONFIG;
    }
    SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
    if (cafile != NULL ? SSL_CTX_load_verify_locations(c->ssl_ctx, cafile, NULL) != 1
                       : SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1) {
        tls_error(cafile ? cafile : "system CA store", err, errlen);
        return IC_ECONFIG;
    }
    return 0;
}

static void conn_close(ctl_conn_t *cn) {
    if (cn->ssl != NULL) {
        SSL_shutdown(cn->ssl);
        SSL_free(cn->ssl);
        cn->ssl = NULL;
    }
    if (cn->fd >= 0)
        close(cn->fd);
    cn->fd = -1;
}

/* Connect to the endpoint (every address getaddrinfo gives, in order) and,
 * for https, complete a verified handshake. Returns 0 or IC_EIO. */
static int conn_open(ctl_t *c, ctl_conn_t *cn, char *err, size_t errlen) {
    const ctl_url_t *u = &c->url;
    struct addrinfo hints, *res = NULL, *ai;
    struct timeval tv = {CTL_IO_TIMEOUT_S, 0};
    int rc, saved = 0;

    cn->fd = -1;
    cn->ssl = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        ic_strfmt(err, errlen, "%s: %s", u->host, gai_strerror(rc));
        return IC_EIO;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        cn->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (cn->fd < 0) {
            saved = errno;
            continue;
        }
        /* On Linux SO_SNDTIMEO bounds connect(2) as well. */
        setsockopt(cn->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(cn->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(cn->fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        saved = errno == EINPROGRESS ? ETIMEDOUT : errno;
        close(cn->fd);
        cn->fd = -1;
    }
    freeaddrinfo(res);
    if (cn->fd < 0) {
        ic_strfmt(err, errlen, "connect to %s port %s: %s", u->host, u->port,
                  strerror(saved));
        return IC_EIO;
    }
    if (!u->is_tls)
        return 0;

    cn->ssl = SSL_new(c->ssl_ctx);
    if (cn->ssl == NULL || SSL_set_fd(cn->ssl, cn->fd) != 1) {
        tls_error("SSL_new", err, errlen);
        goto fail;
    }
    if (u->is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(cn->ssl), u->host) != 1) {
            tls_error("set expected IP address", err, errlen);
            goto fail;
        }
    } else if (SSL_set_tlsext_host_name(cn->ssl, u->host) != 1 ||
               SSL_set1_host(cn->ssl, u->host) != 1) {
        tls_error("set expected host name", err, errlen);
        goto fail;
    }
    errno = 0;
    if (SSL_connect(cn->ssl) != 1) {
        long vr = SSL_get_verify_result(cn->ssl);
        if (vr != X509_V_OK) {
            ic_strfmt(err, errlen,
                      "TLS handshake with %s: server certificate not trusted: %s%s",
                      u->host, X509_verify_cert_error_string(vr),
                      c->set[CTL_CAFILE] ? "" : " (see --cafile)");
            ERR_clear_error();
        } else {
            char what[300];
            ic_strfmt(what, sizeof(what), "TLS handshake with %s", u->host);
            tls_error(what, err, errlen);
        }
        goto fail;
    }
    return 0;

fail:
    conn_close(cn);
    return IC_EIO;
}

static int conn_write_all(ctl_conn_t *cn, const uint8_t *p, size_t n, char *err,
                          size_t errlen) {
    while (n > 0) {
        ssize_t w;
        if (cn->ssl != NULL) {
            int cap = n > INT32_MAX ? INT32_MAX : (int)n;
            errno = 0;
            w = SSL_write(cn->ssl, p, cap);
            if (w <= 0) {
                tls_error("TLS write", err, errlen);
                return IC_EIO;
            }
        } else {
            w = send(cn->fd, p, n, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                ic_strfmt(err, errlen, "send: %s",
                          errno == EAGAIN ? "timed out" : strerror(errno));
                return IC_EIO;
            }
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read up to cap bytes. Returns the count, 0 at the end of the stream, or
 * IC_EIO. */
static long conn_read(ctl_conn_t *cn, uint8_t *p, size_t cap, char *err,
                      size_t errlen) {
    if (cn->ssl != NULL) {
        int n, e;
        errno = 0;
        n = SSL_read(cn->ssl, p, cap > INT32_MAX ? INT32_MAX : (int)cap);
        if (n > 0)
            return n;
        e = SSL_get_error(cn->ssl, n);
        if (e == SSL_ERROR_ZERO_RETURN)
            return 0;
        tls_error("TLS read", err, errlen);
        return IC_EIO;
    }
    for (;;) {
        ssize_t n = recv(cn->fd, p, cap, 0);
        if (n >= 0)
            return (long)n;
        if (errno == EINTR)
            continue;
        ic_strfmt(err, errlen, "recv: %s",
                  errno == EAGAIN ? "timed out" : strerror(errno));
        return IC_EIO;
    }
}

/* ---- requests ----------------------------------------------------------- */

/* Serialise rq as it goes on the wire, signed when credentials are set.
 * Returns 0, or an exit status with the message printed. */
static int build_request(ctl_t *c, const ctl_request_t *rq, ic_buf_t *out) {
    ic_http_header_t h[4];
    char amz_date[17], auth[1024];
    size_t n = 0, body_len = rq->body ? strlen(rq->body) : 0;
    bool has_length = strcmp(rq->method, "GET") != 0; /* as botocore */

    if (rq->principal != NULL && has_ctl_chars(rq->principal)) {
        errorf("principal contains control characters");
        return EX_PROTOCOL;
    }
    ic_sigv4_amz_date((int64_t)time(NULL), amz_date);
    /* Every header here is signed; names in lower case as in the canonical
     * request. content-length is left unsigned, as botocore does. */
    h[n++] = (ic_http_header_t){"host", 4, c->url.host_header,
                                strlen(c->url.host_header)};
    h[n++] = (ic_http_header_t){"x-amz-date", 10, amz_date, strlen(amz_date)};
    if (rq->body != NULL)
        h[n++] = (ic_http_header_t){"content-type", 12, "application/json", 16};
    if (rq->principal != NULL)
        h[n++] = (ic_http_header_t){"x-amzn-principal", 16, rq->principal,
                                    strlen(rq->principal)};
    auth[0] = '\0';
    if (c->set[CTL_ACCESS_KEY] != NULL &&
        ic_sigv4_sign(rq->method, rq->path, rq->query, h, n,
                      (const uint8_t *)rq->body, body_len, c->set[CTL_ACCESS_KEY],
                      c->set[CTL_SECRET], c->set[CTL_REGION], CTL_SERVICE, auth,
                      sizeof(auth)) != 0) {
        errorf("cannot sign the request");
        return EX_SOFTWARE;
    }

    ic_buf_appendf(out, "%s %s%s%s HTTP/1.1\r\n", rq->method, rq->path,
                   rq->query[0] ? "?" : "", rq->query);
    ic_buf_appendf(out, "Host: %s\r\n", c->url.host_header);
    ic_buf_appendf(out, "X-Amz-Date: %s\r\n", amz_date);
    if (rq->body != NULL)
        ic_buf_append_str(out, "Content-Type: application/json\r\n");
    if (has_length)
        ic_buf_appendf(out, "Content-Length: %zu\r\n", body_len);
    if (rq->principal != NULL)
        ic_buf_appendf(out, "X-Amzn-Principal: %s\r\n", rq->principal);
    if (auth[0] != '\0')
        ic_buf_appendf(out, "Authorization: %s\r\n", auth);
    ic_buf_append_str(out, "User-Agent: iotctl/" IC_VERSION "\r\n"
                           "Connection: close\r\n\r\n");
    if (body_len > 0)
        ic_buf_append(out, rq->body, body_len);
    return EX_OK;
}

/* Send rq and read the response into rs. Returns EX_OK (any HTTP status:
 * the caller looks at rs->status), or an exit status with the message
 * printed. Under --dry-run the request is printed instead and rs is left
 * with status 0 and an empty body. */
static int ctl_send(ctl_t *c, const ctl_request_t *rq, ctl_response_t *rs) {
    ic_buf_t req, in;
    ctl_conn_t cn = {-1, NULL};
    ctl_chunk_scan_t scan = {0, 0};
    struct timespec t0, now;
    char err[512];
    bool is_eof = false;
    int rc;

    memset(rs, 0, sizeof(*rs));
    ic_buf_init(&req);
    ic_buf_init(&in);
    rc = build_request(c, rq, &req);
    if (rc != EX_OK)
        goto out;
    if (c->is_dry_run) {
        fwrite(req.data, 1, req.len, stdout);
        if (rq->body != NULL && rq->body[0] != '\0')
            fputc('\n', stdout);
        rs->body = ic_xstrdup("");
        goto out;
    }
    if (conn_open(c, &cn, err, sizeof(err)) != 0 ||
        conn_write_all(&cn, req.data, req.len, err, sizeof(err)) != 0) {
        errorf("%s", err);
        rc = EX_UNAVAILABLE;
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        long n;
        /* Each read has its own timeout; this bounds a server that drips. */
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > CTL_DEADLINE_S) {
            errorf("no complete response from %s within %d seconds",
                   c->set[CTL_ENDPOINT], CTL_DEADLINE_S);
            rc = EX_UNAVAILABLE;
            goto out;
        }
        ic_buf_reserve(&in, 16384);
        n = conn_read(&cn, in.data + in.len, in.cap - in.len, err, sizeof(err));
        if (n < 0) {
            errorf("%s", err);
            rc = EX_UNAVAILABLE;
            goto out;
        }
        if (n == 0)
            is_eof = true;
        in.len += (size_t)n;
        if (in.len > CTL_MAX_RAW_BYTES) {
            errorf("response larger than %zu bytes", CTL_MAX_RAW_BYTES);
            rc = EX_PROTOCOL;
            goto out;
        }
        rc = parse_response((const char *)in.data, in.len, is_eof, &scan, rs,
                            err, sizeof(err));
        if (rc == 0)
            break;
        if (rc != IC_EAGAIN) {
            errorf("bad response from %s: %s", c->set[CTL_ENDPOINT], err);
            rc = EX_PROTOCOL;
            goto out;
        }
    }
    rc = EX_OK;
out:
    conn_close(&cn);
    ic_buf_free(&in);
    ic_buf_free(&req);
    return rc;
}

/* Print `iotctl: <ErrorType>: <message>` for an error response; returns
 * CTL_EX_API. */
static int report_api_error(const ctl_response_t *rs) {
    cJSON *j = cJSON_ParseWithLength(rs->body, rs->body_len);
    const cJSON *m = NULL, *t = NULL;
    char type[128], msg[1024], safe_type[128], safe_msg[1024];

    if (j != NULL) {
        m = cJSON_GetObjectItemCaseSensitive(j, "message");
        if (!cJSON_IsString(m))
            m = cJSON_GetObjectItemCaseSensitive(j, "Message");
        t = cJSON_GetObjectItemCaseSensitive(j, "__type");
    }
    if (rs->error_type[0] != '\0')
        ic_strlcpy(type, rs->error_type, sizeof(type));
    else if (cJSON_IsString(t))
        ic_strfmt(type, sizeof(type), "%.*s",
                  (int)strcspn(t->valuestring, ":#"), t->valuestring);
    else
        ic_strfmt(type, sizeof(type), "HTTP %d", rs->status);
    if (cJSON_IsString(m))
        ic_strlcpy(msg, m->valuestring, sizeof(msg));
    else if (j == NULL && rs->body_len > 0)
        ic_strlcpy(msg, rs->body, sizeof(msg));
    else
        ic_strfmt(msg, sizeof(msg), "HTTP status %d", rs->status);
    msg[strcspn(msg, "\r\n")] = '\0';
    errorf("%s: %s", printable(type, safe_type, sizeof(safe_type)),
           printable(msg, safe_msg, sizeof(safe_msg)));
    cJSON_Delete(j);
    return CTL_EX_API;
}

/* Send rq and expect 2xx with a JSON object body (empty counts as {}).
 * *out (may be NULL) gets the owned tree; under --dry-run *out is NULL.
 * Returns EX_OK or an exit status with the message printed. */
static int ctl_call_json(ctl_t *c, const ctl_request_t *rq, cJSON **out) {
    ctl_response_t rs;
    cJSON *j = NULL;
    int rc;

    if (out != NULL)
        *out = NULL;
    rc = ctl_send(c, rq, &rs);
    if (rc != EX_OK || c->is_dry_run)
        goto out;
    if (rs.status < 200 || rs.status > 299) {
        rc = report_api_error(&rs);
        goto out;
    }
    j = rs.body_len == 0 ? cJSON_CreateObject()
                         : cJSON_ParseWithLength(rs.body, rs.body_len);
    if (!cJSON_IsObject(j)) {
        errorf("bad response from %s: body is not a JSON object",
               c->set[CTL_ENDPOINT]);
        cJSON_Delete(j);
        rc = EX_PROTOCOL;
        goto out;
    }
    if (out != NULL)
        *out = j;
    else
        cJSON_Delete(j);
out:
    response_free(&rs);
    return rc;
}

/* Build "/prefix/<label>/suffix" with label percent-encoded; owned result. */
static char *make_path(const char *prefix, const char *label, const char *suffix) {
    ic_buf_t b;
    ic_buf_init(&b);
    ic_buf_append_str(&b, prefix);
    if (label != NULL)
        append_pct(&b, label);
    if (suffix != NULL)
        ic_buf_append_str(&b, suffix);
    return buf_cstr(&b);
}

static const char *json_str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Write s as a JSON string literal; control characters escaped, so that
 * nothing a server sends can drive the terminal. */
static void put_json_string(const char *s, FILE *f) {
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch == '\t')
            fputs("\\t", f);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* Pretty-print v with two-space indentation (cJSON_Print uses tabs). */
static void put_json(const cJSON *v, int depth, FILE *f) {
    const cJSON *it;
    bool is_obj = cJSON_IsObject(v);
    char *num;

    if (cJSON_IsString(v)) {
        put_json_string(v->valuestring, f);
    } else if (is_obj || cJSON_IsArray(v)) {
        if (v->child == NULL) {
            fputs(is_obj ? "{}" : "[]", f);
            return;
        }
        fputc(is_obj ? '{' : '[', f);
        for (it = v->child; it != NULL; it = it->next) {
            fprintf(f, "\n%*s", 2 * (depth + 1), "");
            if (is_obj) {
                put_json_string(it->string ? it->string : "", f);
                fputs(": ", f);
            }
            put_json(it, depth + 1, f);
            if (it->next != NULL)
                fputc(',', f);
        }
        fprintf(f, "\n%*s%c", 2 * depth, "", is_obj ? '}' : ']');
    } else {
        num = cJSON_PrintUnformatted(v); /* numbers, true, false, null */
        fputs(num ? num : "null", f);
        cJSON_free(num);
    }
}

/* Print j pretty unless it is an empty object. */
static void print_json(const cJSON *j) {
    if (j == NULL || (cJSON_IsObject(j) && j->child == NULL))
        return;
    put_json(j, 0, stdout);
    fputc('\n', stdout);
}

/* ---- command-line helpers ----------------------------------------------- */

static int usage_error(const ctl_cmd_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int usage_error(const ctl_cmd_t *cmd, const char *fmt, ...) {
    va_list ap;
    fputs("iotctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cmd != NULL)
        fprintf(stderr, "usage: iotctl %s%s%s%s%s\n", cmd->group,
                cmd->verb ? " " : "", cmd->verb ? cmd->verb : "",
                cmd->usage[0] ? " " : "", cmd->usage);
    else
        fputs("Try 'iotctl --help'.\n", stderr);
    return EX_USAGE;
}

/* Match argv[*i] as `name VALUE` or `name=VALUE`. Returns 1 (advancing *i
 * past a separate value), 0 if argv[*i] is another word, -1 if the value
 * is missing. */
static int take_opt(int argc, char **argv, int *i, const char *name,
                    const char **val) {
    size_t len = strlen(name);
    if (strncmp(argv[*i], name, len) != 0)
        return 0;
    if (argv[*i][len] == '=') {
        *val = argv[*i] + len + 1;
        return 1;
    }
    if (argv[*i][len] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *val = argv[++*i];
    return 1;
}

/* Split a command's arguments into positionals and the options in opts
 * (NULL-terminated names; each value goes to vals[k]; a name ending in
 * "..." may repeat and is handed to on_repeat instead). "--" ends options.
 * Returns EX_OK or EX_USAGE (message printed). */
typedef int (*ctl_repeat_fn)(const char *value, void *data);
static int split_args(const ctl_cmd_t *cmd, int argc, char **argv,
                      const char *const *opts, const char **vals,
                      ctl_repeat_fn on_repeat, void *data, const char **pos,
                      int *n_pos, int min_pos, int max_pos) {
    bool is_opts_done = false;
    int i, k;

    *n_pos = 0;
    for (i = 0; i < argc; i++) {
        bool is_matched = false;
        if (!is_opts_done && strcmp(argv[i], "--") == 0) {
            is_opts_done = true;
            continue;
        }
        if (!is_opts_done && argv[i][0] == '-' && argv[i][1] != '\0') {
            for (k = 0; opts != NULL && opts[k] != NULL && !is_matched; k++) {
                char name[64];
                size_t len = strcspn(opts[k], ".");
                const char *v = NULL;
                int rc;
                ic_strfmt(name, sizeof(name), "%.*s", (int)len, opts[k]);
                rc = take_opt(argc, argv, &i, name, &v);
                if (rc < 0)
                    return usage_error(cmd, "%s needs a value", name);
                if (rc == 0)
                    continue;
                is_matched = true;
                if (opts[k][len] == '.') {
                    if (on_repeat(v, data) != 0)
                        return usage_error(cmd, "bad %s value '%s'", name, v);
                } else if (vals[k] != NULL) {
                    return usage_error(cmd, "%s given twice", name);
                } else {
                    vals[k] = v;
                }
            }
            if (!is_matched)
                return usage_error(cmd, "unknown option %s", argv[i]);
            continue;
        }
        if (*n_pos >= max_pos)
            return usage_error(cmd, "unexpected argument '%s'", argv[i]);
        pos[(*n_pos)++] = argv[i];
    }
    if (*n_pos < min_pos)
        return usage_error(cmd, "missing arguments");
    for (k = 0; k < *n_pos; k++)
        if (pos[k][0] == '\0')
            return usage_error(cmd, "empty argument");
    return EX_OK;
}

/* ---- commands ----------------------------------------------------------- */

static int add_attr(const char *kv, void *data) {
    cJSON *attrs = data;
    const char *eq = strchr(kv, '=');
    char key[256];
    if (eq == NULL || eq == kv || (size_t)(eq - kv) >= sizeof(key))
        return -1;
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    /* A repeated key keeps its place and takes the last value. */
    if (cJSON_GetObjectItemCaseSensitive(attrs, key) != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(attrs, key,
                                               cJSON_CreateString(eq + 1));
    else
        cJSON_AddStringToObject(attrs, key, eq + 1);
    return 0;
}

/* CreateThing: POST /things/{thingName}. */
static int cmd_thing_create(ctl_t *c, const ctl_cmd_t *cmd, int argc,
                            char **argv) {
    static const char *const opts[] = {"--type", "--attr...", NULL};
    const char *vals[2] = {NULL, NULL}, *pos[CTL_MAX_POSITIONAL];
    cJSON *body = cJSON_CreateObject(), *attrs = cJSON_CreateObject(), *resp = NULL;
    ctl_request_t rq = {"POST", NULL, "", NULL, NULL};
    char *text = NULL, *path = NULL;
    int n_pos, rc;

    rc = split_args(cmd, argc, argv, opts, vals, add_attr, attrs, pos, &n_pos, 1, 1);
    if (rc != EX_OK)
        goto out;
    if (vals[0] != NULL)
        cJSON_AddStringToObject(body, "thingTypeName", vals[0]);
    if (attrs->child != NULL) {
        cJSON *payload = cJSON_AddObjectToObject(body, "attributePayload");
        cJSON_AddItemToObject(payload, "attributes", attrs);
        attrs = NULL;
    }
    text = cJSON_PrintUnformatted(body);
    path = make_path("/things/", pos[0], NULL);
    rq.path = path;
    rq.body = text;
    rc = ctl_call_json(c, &rq, &resp);
    if (rc == EX_OK && resp != NULL) {
        print_kv("thingName", json_str(resp, "thingName"));
        print_kv("thingArn", json_str(resp, "thingArn"));
    }
out:
    cJSON_Delete(resp);
    cJSON_Delete(attrs);
    cJSON_Delete(body);
    cJSON_free(text);
    free(path);
    return rc;
}

/* ListThings / ListCertificates: follow the pagination token and print one
 * object holding every page's items. */
static int list_all(ctl_t *c, const char *path, const char *items,
                    const char *token_out, const char *token_in) {
    cJSON *all = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(all, items);
    char *token = NULL;
    int rc = EX_OK, page;

    for (page = 0; page < CTL_MAX_PAGES; page++) {
        ctl_request_t rq = {"GET", path, "", NULL, NULL};
        ic_buf_t q;
        cJSON *resp = NULL, *arr, *it;
        const char *next;

        ic_buf_init(&q);
        if (token != NULL) {
            ic_buf_appendf(&q, "%s=", token_in);
            append_pct(&q, token);
        }
        rq.query = buf_cstr(&q);
        rc = ctl_call_json(c, &rq, &resp);
        ic_buf_free(&q);
        if (rc != EX_OK || resp == NULL) {
            cJSON_Delete(resp);
            break;
        }
        arr = cJSON_GetObjectItemCaseSensitive(resp, items);
        if (arr != NULL && !cJSON_IsArray(arr)) {
            errorf("bad response from %s: %s is not an array",
                   c->set[CTL_ENDPOINT], items);
            cJSON_Delete(resp);
            rc = EX_PROTOCOL;
            break;
        }
        while (arr != NULL && (it = cJSON_DetachItemFromArray(arr, 0)) != NULL)
            cJSON_AddItemToArray(list, it);
        next = json_str(resp, token_out);
        if (next == NULL || next[0] == '\0' ||
            (token != NULL && strcmp(next, token) == 0)) {
            cJSON_Delete(resp);
            break;
        }
        free(token);
        token = ic_xstrdup(next);
        cJSON_Delete(resp);
    }
    if (rc == EX_OK && !c->is_dry_run)
        print_json(all);
    free(token);
    cJSON_Delete(all);
    return rc;
}

static int cmd_thing_list(ctl_t *c, const ctl_cmd_t *cmd, int argc, char **argv) {
    const char *pos[CTL_MAX_POSITIONAL];
    int n_pos, rc = split_args(cmd, argc, argv, NULL, NULL, NULL, NULL, pos,
                               &n_pos, 0, 0);
    return rc != EX_OK ? rc : list_all(c, "/things", "things", "nextToken",
                                       "nextToken");
}

/* DescribeThing GET / DeleteThing DELETE /things/{thingName}. */
static int cmd_thing_one(ctl_t *c, const ctl_cmd_t *cmd, int argc, char **argv) {
    const char *pos[CTL_MAX_POSITIONAL];
    ctl_request_t rq = {cmd->arg, NULL, "", NULL, NULL};
    cJSON *resp = NULL;
    char *path;
    int n_pos, rc = split_args(cmd, argc, argv, NULL, NULL, NULL, NULL, pos,
                               &n_pos, 1, 1);
    if (rc != EX_OK)
        return rc;
    path = make_path("/things/", pos[0], NULL);
    rq.path = path;
    rc = ctl_call_json(c, &rq, &resp);
    print_json(resp);
    cJSON_Delete(resp);
    free(path);
    return rc;
}

/* CreatePolicy: POST /policies/{policyName} {"policyDocument": FILE}. */
static int cmd_policy_create(ctl_t *c, const ctl_cmd_t *cmd, int argc,
                             char **argv) {
    const char *pos[CTL_MAX_POSITIONAL];
    ctl_request_t rq = {"POST", NULL, "", NULL, NULL};
    cJSON *body = NULL, *resp = NULL;
    char *doc = NULL, *text = NULL, *path = NULL, err[512];
    size_t len;
    int n_pos, rc;

    rc = split_args(cmd, argc, argv, NULL, NULL, NULL, NULL, pos, &n_pos, 2, 2);
    if (rc != EX_OK)
        return rc;
    if (read_bounded(pos[1], CTL_MAX_INPUT_BYTES, &doc, &len, err, sizeof(err)) != 0) {
        errorf("%s", err);
        return EX_NOINPUT;
    }
    if (strlen(doc) != len) {
        errorf("%s: contains a NUL byte", pos[1]);
        free(doc);
        return EX_DATAERR;
    }
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "policyDocument", doc);
    text = cJSON_PrintUnformatted(body);
    path = make_path("/policies/", pos[0], NULL);
    rq.path = path;
    rq.body = text;
    rc = ctl_call_json(c, &rq, &resp);
    if (rc == EX_OK && resp != NULL) {
        print_kv("policyName", json_str(resp, "policyName"));
        print_kv("policyArn", json_str(resp, "policyArn"));
        print_kv("policyVersionId", json_str(resp, "policyVersionId"));
    }
    cJSON_Delete(resp);
    cJSON_Delete(body);
    cJSON_free(text);
    free(path);
    free(doc);
    return rc;
}

/* Create path exclusively (never overwrite, never follow a link) with mode,
 * write data, close. Returns 0 or IC_EIO (message printed). */
static int write_new_file(const char *path, const char *data, mode_t mode) {
    size_t n = strlen(data);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    int e = 0;
    if (fd < 0) {
        errorf("%s: %s", path, strerror(errno));
        return IC_EIO;
    }
    while (n > 0 && e == 0) {
        ssize_t w = write(fd, data, n);
        if (w < 0 && errno != EINTR)
            e = errno;
        if (w > 0) {
            data += w;
            n -= (size_t)w;
        }
    }
    if (e == 0 && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && e == 0)
        e = errno;
    if (e != 0) {
        errorf("%s: %s", path, strerror(e));
        unlink(path);
        return IC_EIO;
    }
    return 0;
}

/* The files `cert create` writes into --out, in this order. */
enum { CERT_PEM = 0, CERT_PRIVATE, CERT_PUBLIC, CERT_ROOT_CA, CERT_N_FILES };
static const struct {
    const char *name;
    const char *label; /* in the summary */
    mode_t mode;
} cert_files[CERT_N_FILES] = {
    [CERT_PEM] = {"certificate.pem.crt", "certificate", 0644},
    [CERT_PRIVATE] = {"private.pem.key", "privateKey", 0600},
    [CERT_PUBLIC] = {"public.pem.key", "publicKey", 0644},
    [CERT_ROOT_CA] = {"root-ca.pem", "rootCA", 0644},
};

/* Make sure dir exists (created 0700 if missing) and holds none of the
 * files; fills paths. Returns EX_OK or EX_CANTCREAT (message printed). */
static int prepare_out_dir(const char *dir, char paths[CERT_N_FILES][4096]) {
    struct stat st;
    size_t dlen = strlen(dir);
    int i;

    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    for (i = 0; i < CERT_N_FILES; i++) {
        if (ic_strfmt(paths[i], sizeof(paths[i]), "%.*s%s%s", (int)dlen, dir,
                      dir[dlen - 1] == '/' ? "" : "/", cert_files[i].name) != 0) {
            errorf("%s: path too long", dir);
            return EX_CANTCREAT;
        }
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        errorf("%s: %s", dir, strerror(errno));
        return EX_CANTCREAT;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        errorf("%s: not a directory", dir);
        return EX_CANTCREAT;
    }
    for (i = 0; i < CERT_N_FILES; i++) {
        if (lstat(paths[i], &st) == 0 || errno != ENOENT) {
            errorf("%s: already exists; not overwriting", paths[i]);
            return EX_CANTCREAT;
        }
    }
    return EX_OK;
}

/* GET /iotcored/root-ca into *pem (owned). Under --dry-run *pem is "". */
static int fetch_root_ca(ctl_t *c, char **pem) {
    ctl_request_t rq = {"GET", "/iotcored/root-ca", "", NULL, NULL};
    ctl_response_t rs;
    int rc = ctl_send(c, &rq, &rs);

    *pem = NULL;
    if (rc != EX_OK || c->is_dry_run)
        goto out;
    if (rs.status < 200 || rs.status > 299) {
        rc = report_api_error(&rs);
        goto out;
    }
    if (strlen(rs.body) != rs.body_len ||
        strstr(rs.body, "-----BEGIN CERTIFICATE-----") == NULL) {
        errorf("bad response from %s: the root CA is not a PEM certificate",
               c->set[CTL_ENDPOINT]);
        rc = EX_PROTOCOL;
        goto out;
    }
    *pem = rs.body;
    rs.body = NULL;
out:
    response_free(&rs);
    return rc;
}

/* CreateKeysAndCertificate (active), write the files, then
 * AttachThingPrincipal and AttachPolicy when asked. The root CA is fetched
 * first so that a server without one fails before a certificate exists. */
static int cmd_cert_create(ctl_t *c, const ctl_cmd_t *cmd, int argc,
                           char **argv) {
    static const char *const opts[] = {"--thing", "--policy", "--out", NULL};
    const char *vals[3] = {NULL, NULL, NULL}, *pos[CTL_MAX_POSITIONAL];
    const char *thing, *policy, *dir, *contents[CERT_N_FILES], *id, *arn;
    char paths[CERT_N_FILES][4096];
    char *root_ca = NULL, *path = NULL, *text = NULL;
    cJSON *resp = NULL, *body = NULL;
    const cJSON *keys;
    ctl_request_t rq = {"POST", "/keys-and-certificate", "setAsActive=true",
                        NULL, NULL};
    int n_pos, rc, i;

    rc = split_args(cmd, argc, argv, opts, vals, NULL, NULL, pos, &n_pos, 0, 0);
    if (rc != EX_OK)
        return rc;
    thing = vals[0];
    policy = vals[1];
    dir = vals[2];
    if (dir == NULL || dir[0] == '\0')
        return usage_error(cmd, "--out DIR is required");
    if ((thing != NULL && thing[0] == '\0') || (policy != NULL && policy[0] == '\0'))
        return usage_error(cmd, "empty name");

    if (!c->is_dry_run && (rc = prepare_out_dir(dir, paths)) != EX_OK)
        return rc;
    if ((rc = fetch_root_ca(c, &root_ca)) != EX_OK)
        goto out;
    if ((rc = ctl_call_json(c, &rq, &resp)) != EX_OK)
        goto out;
    if (c->is_dry_run) {
        /* No answer to take the ARN from: show the rest with a stand-in. */
        id = "0000000000000000000000000000000000000000000000000000000000000000";
        arn = "arn:aws:iot:us-east-1:000000000000:cert/"
              "0000000000000000000000000000000000000000000000000000000000000000";
    } else {
        id = json_str(resp, "certificateId");
        arn = json_str(resp, "certificateArn");
        keys = cJSON_GetObjectItemCaseSensitive(resp, "keyPair");
        contents[CERT_PEM] = json_str(resp, "certificatePem");
        contents[CERT_PRIVATE] = json_str(keys, "PrivateKey");
        contents[CERT_PUBLIC] = json_str(keys, "PublicKey");
        contents[CERT_ROOT_CA] = root_ca;
        if (id == NULL || arn == NULL || contents[CERT_PEM] == NULL ||
            contents[CERT_PRIVATE] == NULL || contents[CERT_PUBLIC] == NULL) {
            errorf("bad response from %s: CreateKeysAndCertificate answer "
                   "lacks certificateId, certificateArn, certificatePem or "
                   "keyPair", c->set[CTL_ENDPOINT]);
            rc = EX_PROTOCOL;
            goto out;
        }
        print_kv("certificateId", id);
        print_kv("certificateArn", arn);
        for (i = 0; i < CERT_N_FILES; i++) {
            if (write_new_file(paths[i], contents[i], cert_files[i].mode) != 0) {
                rc = EX_CANTCREAT;
                goto out;
            }
            print_kv(cert_files[i].label, paths[i]);
        }
    }

    if (thing != NULL) {
        ctl_request_t at = {"PUT", NULL, "", arn, NULL};
        path = make_path("/things/", thing, "/principals");
        at.path = path;
        if ((rc = ctl_call_json(c, &at, NULL)) != EX_OK)
            goto out;
        if (!c->is_dry_run)
            print_kv("thing", thing);
    }
    if (policy != NULL) {
        ctl_request_t ap = {"PUT", NULL, "", NULL, NULL};
        free(path);
        path = make_path("/target-policies/", policy, NULL);
        body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "target", arn);
        text = cJSON_PrintUnformatted(body);
        ap.path = path;
        ap.body = text;
        if ((rc = ctl_call_json(c, &ap, NULL)) != EX_OK)
            goto out;
        if (!c->is_dry_run)
            print_kv("policy", policy);
    }
out:
    cJSON_Delete(resp);
    cJSON_Delete(body);
    cJSON_free(text);
    free(path);
    free(root_ca);
    return rc;
}

static int cmd_cert_list(ctl_t *c, const ctl_cmd_t *cmd, int argc, char **argv) {
    const char *pos[CTL_MAX_POSITIONAL];
    int n_pos, rc = split_args(cmd, argc, argv, NULL, NULL, NULL, NULL, pos,
                               &n_pos, 0, 0);
    return rc != EX_OK ? rc : list_all(c, "/certificates", "certificates",
                                       "nextMarker", "marker");
}

/* UpdateCertificate: PUT /certificates/{certificateId}?newStatus=S. */
static int cmd_cert_status(ctl_t *c, const ctl_cmd_t *cmd, int argc,
                           char **argv) {
    const char *pos[CTL_MAX_POSITIONAL];
    ctl_request_t rq = {"PUT", NULL, NULL, NULL, NULL};
    char *path, query[64];
    int n_pos, rc = split_args(cmd, argc, argv, NULL, NULL, NULL, NULL, pos,
                               &n_pos, 1, 1);
    if (rc != EX_OK)
        return rc;
    ic_strfmt(query, sizeof(query), "newStatus=%s", cmd->arg);
    path = make_path("/certificates/", pos[0], NULL);
    rq.path = path;
    rq.query = query;
    rc = ctl_call_json(c, &rq, NULL);
    if (rc == EX_OK && !c->is_dry_run) {
        char safe[256];
        printf("%s %s\n", printable(pos[0], safe, sizeof(safe)), cmd->arg);
    }
    free(path);
    return rc;
}

static void print_count(const cJSON *j, const char *key, const char *label) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    char num[32];
    if (cJSON_IsNumber(v))
        ic_strfmt(num, sizeof(num), "%.0f", v->valuedouble);
    print_kv(label, cJSON_IsNumber(v) ? num : NULL);
}

/* "label  k1 v1, k2 v2, ..." from the numbers of object key of j (keys
 * and labels paired in names: key, label, key, label, ..., NULL). */
static void print_group(const cJSON *j, const char *key, const char *label,
                        const char *const *names) {
    const cJSON *o = key ? cJSON_GetObjectItemCaseSensitive(j, key) : j;
    char line[512] = "";
    size_t k;
    if (!cJSON_IsObject(o))
        return;
    for (k = 0; names[k]; k += 2) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, names[k]);
        size_t len = strlen(line);
        ic_strfmt(line + len, sizeof(line) - len, "%s%s %.0f", len ? ", " : "",
                  names[k + 1], cJSON_IsNumber(v) ? v->valuedouble : 0.0);
    }
    print_kv(label, line);
}

/* The traffic counters (the same as GET /metrics). */
static void print_traffic(const cJSON *resp) {
    static const char *const qos[] = {"qos0", "qos0", "qos1", "qos1", NULL};
    static const char *const bytes[] = {"bytesReceived", "in", "bytesSent", "out",
                                        NULL};
    static const char *const drops[] = {
        "policy", "policy", "rateLimit", "rate-limit", "tooLarge", "too-large",
        "slowConsumer", "slow-consumer", "queueFull", "queue-full", NULL};
    static const char *const results[] = {"accepted", "accepted", "rejected",
                                          "rejected", NULL};
    static const char *const ops[] = {"get", "update", "delete"};
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(resp, "shadowRequests");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(resp, "store");
    char label[32], line[256];
    size_t i;
    print_group(resp, "messagesReceived", "messages in", qos);
    print_group(resp, "messagesSent", "messages out", qos);
    if (cJSON_GetObjectItemCaseSensitive(resp, "bytesReceived"))
        print_group(resp, NULL, "bytes", bytes);
    print_group(resp, "dropped", "dropped", drops);
    print_count(resp, "sessions", "sessions");
    print_count(resp, "retainedMessages", "retained");
    for (i = 0; cJSON_IsObject(sh) && i < 3; i++) {
        ic_strfmt(label, sizeof(label), "shadow %s", ops[i]);
        print_group(sh, ops[i], label, results);
    }
    if (cJSON_IsObject(st)) {
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(st, "queue");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(st, "commits");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(st, "writes");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(st, "commitSecondsTotal");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(st, "commitMaxSeconds");
        double nc = cJSON_IsNumber(c) ? c->valuedouble : 0;
        ic_strfmt(line, sizeof(line),
                  "queue %.0f, commits %.0f, writes %.0f, commit avg %.3f ms, "
                  "max %.3f ms",
                  cJSON_IsNumber(q) ? q->valuedouble : 0, nc,
                  cJSON_IsNumber(w) ? w->valuedouble : 0,
                  nc > 0 && cJSON_IsNumber(t) ? t->valuedouble * 1e3 / nc : 0.0,
                  cJSON_IsNumber(m) ? m->valuedouble * 1e3 : 0.0);
        print_kv("store", line);
    }
}

/* GET /iotcored/status, printed for people. */
static int cmd_status(ctl_t *c, const ctl_cmd_t *cmd, int argc, char **argv) {
    const char *pos[CTL_MAX_POSITIONAL];
    ctl_request_t rq = {"GET", "/iotcored/status", "", NULL, NULL};
    const cJSON *up, *listeners, *l;
    cJSON *resp = NULL;
    char line[512];
    int n_pos, rc = split_args(cmd, argc, argv, NULL, NULL, NULL, NULL, pos,
                               &n_pos, 0, 0);
    if (rc != EX_OK)
        return rc;
    rc = ctl_call_json(c, &rq, &resp);
    if (rc != EX_OK || resp == NULL)
        goto out;
    print_kv("endpoint", c->set[CTL_ENDPOINT]);
    print_kv("version", json_str(resp, "version"));
    up = cJSON_GetObjectItemCaseSensitive(resp, "uptimeSeconds");
    if (cJSON_IsNumber(up) && up->valuedouble >= 0 && up->valuedouble < 1e12) {
        long long s = (long long)up->valuedouble;
        ic_strfmt(line, sizeof(line), "%lldd %02lldh %02lldm %02llds", s / 86400,
                  s / 3600 % 24, s / 60 % 60, s % 60);
        print_kv("uptime", line);
    } else {
        print_kv("uptime", NULL);
    }
    print_count(resp, "connections", "connections");
    print_count(resp, "things", "things");
    print_count(resp, "certificates", "certificates");
    print_count(resp, "policies", "policies");
    listeners = cJSON_GetObjectItemCaseSensitive(resp, "listeners");
    if (!cJSON_IsArray(listeners))
        listeners = NULL;
    cJSON_ArrayForEach(l, listeners) {
        const char *name = json_str(l, "name");
        const cJSON *port = cJSON_GetObjectItemCaseSensitive(l, "port");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(l, "connections");
        if (cJSON_IsNumber(port))
            ic_strfmt(line, sizeof(line), "%s port %.0f", name ? name : "?",
                      port->valuedouble);
        else
            ic_strfmt(line, sizeof(line), "%s", name ? name : "?");
        if (cJSON_IsNumber(n))
            ic_strfmt(line + strlen(line), sizeof(line) - strlen(line),
                      ", %.0f connection%s", n->valuedouble,
                      n->valuedouble == 1 ? "" : "s");
        print_kv("listener", line);
    }
    print_traffic(resp);
    {
        /* the Rules Engine: totals, then one line per rule */
        const cJSON *re = cJSON_GetObjectItemCaseSensitive(resp, "rulesEngine");
        const cJSON *rules = cJSON_GetObjectItemCaseSensitive(re, "topicRules"), *r;
        if (cJSON_IsObject(re)) {
            print_count(re, "rules", "rules");
            print_count(re, "ruleNotFound", "rules not found (Basic Ingest)");
            print_count(re, "dropped", "rule messages dropped");
        }
        if (!cJSON_IsArray(rules))
            rules = NULL;
        cJSON_ArrayForEach(r, rules) {
            const char *name = json_str(r, "name"), *last = json_str(r, "lastError");
            double v[5] = {0, 0, 0, 0, 0};
            static const char *const keys[5] = {"matched", "fired", "sqlErrors",
                                                "actionFailures", "errorActions"};
            int k;
            for (k = 0; k < 5; k++) {
                const cJSON *x = cJSON_GetObjectItemCaseSensitive(r, keys[k]);
                if (cJSON_IsNumber(x))
                    v[k] = x->valuedouble;
            }
            ic_strfmt(line, sizeof(line),
                      "%s%s matched %.0f fired %.0f sql-errors %.0f action-failures "
                      "%.0f error-actions %.0f%s%.200s",
                      name ? name : "?",
                      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "disabled"))
                          ? " (disabled)"
                          : "",
                      v[0], v[1], v[2], v[3], v[4], last ? " last-error: " : "",
                      last ? last : "");
            print_kv("rule", line);
        }
    }
out:
    cJSON_Delete(resp);
    return rc;
}

static const ctl_cmd_t commands[] = {
    {"thing", "create", cmd_thing_create, NULL,
     "NAME [--type TYPE] [--attr KEY=VALUE]..."},
    {"thing", "list", cmd_thing_list, NULL, ""},
    {"thing", "describe", cmd_thing_one, "GET", "NAME"},
    {"thing", "delete", cmd_thing_one, "DELETE", "NAME"},
    {"policy", "create", cmd_policy_create, NULL, "NAME FILE"},
    {"cert", "create", cmd_cert_create, NULL,
     "--out DIR [--thing NAME] [--policy NAME]"},
    {"cert", "list", cmd_cert_list, NULL, ""},
    {"cert", "activate", cmd_cert_status, "ACTIVE", "ID"},
    {"cert", "deactivate", cmd_cert_status, "INACTIVE", "ID"},
    {"cert", "revoke", cmd_cert_status, "REVOKED", "ID"},
    {"status", NULL, cmd_status, NULL, ""},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f) {
    size_t i;
    fputs("usage: iotctl [options] command [arguments]\n\ncommands:\n", f);
    for (i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %s%s%s%s%s\n", commands[i].group,
                commands[i].verb ? " " : "",
                commands[i].verb ? commands[i].verb : "",
                commands[i].usage[0] ? " " : "", commands[i].usage);
    fputs("\noptions (also accepted after the command):\n"
          "  --endpoint URL           control plane (default " CTL_DEFAULT_ENDPOINT ")\n"
          "  --access-key-id ID       SigV4 access key ID\n"
          "  --secret-access-key KEY  SigV4 secret access key\n"
          "  --region REGION          SigV4 region (default " CTL_DEFAULT_REGION ")\n"
          "  --cafile PATH            CA bundle that https:// endpoints are\n"
          "                           verified against (default: system store)\n"
          "  --dry-run                print the signed requests, send nothing\n"
          "  -h, --help               this help\n"
          "  --version                print the version\n"
          "\nenvironment: IOTCTL_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY\n"
          "  AWS_REGION AWS_DEFAULT_REGION IOTCTL_CAFILE IOTCTL_CONFIG\n"
          "config file: $IOTCTL_CONFIG or ~/.config/iotctl.conf\n", f);
}

static bool is_group(const char *word) {
    size_t i;
    for (i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].group, word) == 0)
            return true;
    return false;
}

/* Take the global options out of argv (anywhere before "--"), leaving the
 * command words and their arguments in rest. Returns EX_OK, EX_USAGE, or -1
 * when --help/--version has been answered. */
static int take_globals(ctl_t *c, int argc, char **argv, char **rest,
                        int *n_rest) {
    bool is_opts_done = false;
    int i;
    size_t k;

    *n_rest = 0;
    for (i = 1; i < argc; i++) {
        bool is_matched = false;
        if (!is_opts_done && strcmp(argv[i], "--") == 0)
            is_opts_done = true;
        if (is_opts_done || argv[i][0] != '-') {
            rest[(*n_rest)++] = argv[i];
            continue;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_usage(stdout);
            return -1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("iotctl %s\n", IC_VERSION);
            return -1;
        }
        if (strcmp(argv[i], "--dry-run") == 0) {
            c->is_dry_run = true;
            continue;
        }
        for (k = 0; k < CTL_N_SETTINGS && !is_matched; k++) {
            const char *v = NULL;
            int rc = take_opt(argc, argv, &i, setting_defs[k].flag, &v);
            if (rc < 0)
                return usage_error(NULL, "%s needs a value", setting_defs[k].flag);
            if (rc == 0)
                continue;
            if (v[0] == '\0')
                return usage_error(NULL, "%s needs a value", setting_defs[k].flag);
            free(c->set[k]);
            c->set[k] = ic_xstrdup(v);
            is_matched = true;
        }
        if (!is_matched)
            rest[(*n_rest)++] = argv[i]; /* a command option */
    }
    return EX_OK;
}

int main(int argc, char **argv) {
    ctl_t c;
    char **rest = ic_xcalloc((size_t)argc + 1, sizeof(char *));
    char err[512];
    const ctl_cmd_t *cmd = NULL;
    int n_rest, rc, used = 0;
    size_t i;

    memset(&c, 0, sizeof(c));
    /* A server that closes early must not kill us through SIGPIPE on a TLS
     * write (plain sends use MSG_NOSIGNAL). */
    signal(SIGPIPE, SIG_IGN);

    rc = take_globals(&c, argc, argv, rest, &n_rest);
    if (rc != EX_OK) {
        rc = rc < 0 ? EX_OK : rc;
        goto out;
    }
    if (n_rest == 0) {
        print_usage(stderr);
        rc = EX_USAGE;
        goto out;
    }
    for (i = 0; i < N_COMMANDS && cmd == NULL; i++) {
        if (strcmp(rest[0], commands[i].group) != 0)
            continue;
        if (commands[i].verb == NULL) {
            cmd = &commands[i];
            used = 1;
        } else if (n_rest > 1 && strcmp(rest[1], commands[i].verb) == 0) {
            cmd = &commands[i];
            used = 2;
        }
    }
    if (cmd == NULL) {
        if (rest[0][0] == '-')
            rc = usage_error(NULL, "unknown option %s", rest[0]);
        else if (n_rest == 1 && is_group(rest[0]))
            rc = usage_error(NULL, "'%s' needs a subcommand", rest[0]);
        else if (n_rest > 1)
            rc = usage_error(NULL, "unknown command '%s %s'", rest[0], rest[1]);
        else
            rc = usage_error(NULL, "unknown command '%s'", rest[0]);
        goto out;
    }
    if ((rc = resolve_settings(&c)) != EX_OK)
        goto out;
    if (parse_endpoint(c.set[CTL_ENDPOINT], &c.url, err, sizeof(err)) != 0) {
        errorf("%s", err);
        rc = EX_CONFIG;
        goto out;
    }
    if (c.url.is_tls && tls_ctx_make(&c, err, sizeof(err)) != 0) {
        errorf("%s", err);
        rc = EX_CONFIG;
        goto out;
    }
    rc = cmd->fn(&c, cmd, n_rest - used, rest + used);
out:
    SSL_CTX_free(c.ssl_ctx);
    for (i = 0; i < CTL_N_SETTINGS; i++)
        free(c.set[i]);
    free(rest);
    if (fflush(stdout) != 0 && rc == EX_OK)
        rc = EX_IOERR;
    return rc;
}
