/* http.c - the server side of one HTTP/1.1 connection.
 *
 * Owns the connection's request parser (http_parse.c on llhttp), turns each
 * complete request into a call on the service's route table (after the
 * service's authorizer), and serialises the response: status line,
 * content-type, content-length, x-amzn-RequestId, keep-alive. The table
 * below is the single place an AWS error type becomes an HTTP status and
 * the AWS error body (`{"message": ...}` plus x-amzn-ErrorType), STYLE 3.7.
 *
 * It must not know any route's meaning (api/ does) or touch sockets
 * (net/conn.c does, through ic_http_io_t). Handlers run synchronously; a
 * response is complete when the handler returns. Loop thread only.
 */
#include "iotcored/http.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/str.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const struct {
    const char *name;
    int status;
} errs[IC_HTTP_E_COUNT] = {
    [IC_HTTP_E_INVALID_REQUEST] = {"InvalidRequestException", 400},
    [IC_HTTP_E_NOT_FOUND] = {"ResourceNotFoundException", 404},
    [IC_HTTP_E_ALREADY_EXISTS] = {"ResourceAlreadyExistsException", 409},
    [IC_HTTP_E_VERSION_CONFLICT] = {"VersionConflictException", 409},
    [IC_HTTP_E_DELETE_CONFLICT] = {"DeleteConflictException", 409},
    [IC_HTTP_E_CONFLICT] = {"ConflictException", 409},
    [IC_HTTP_E_CERT_STATE] = {"CertificateStateException", 406},
    [IC_HTTP_E_CERT_VALIDATION] = {"CertificateValidationException", 400},
    [IC_HTTP_E_CERT_CONFLICT] = {"CertificateConflictException", 409},
    [IC_HTTP_E_REGISTRATION_CODE] = {"RegistrationCodeValidationException", 400},
    [IC_HTTP_E_MALFORMED_POLICY] = {"MalformedPolicyException", 400},
    [IC_HTTP_E_VERSIONS_LIMIT] = {"VersionsLimitExceededException", 409},
    [IC_HTTP_E_LIMIT_EXCEEDED] = {"LimitExceededException", 410},
    [IC_HTTP_E_UNAUTHORIZED] = {"UnauthorizedException", 401},
    [IC_HTTP_E_FORBIDDEN] = {"ForbiddenException", 403},
    [IC_HTTP_E_ACCESS_DENIED] = {"AccessDeniedException", 403},
    [IC_HTTP_E_MISSING_AUTH] = {"MissingAuthenticationTokenException", 403},
    [IC_HTTP_E_UNRECOGNIZED_CLIENT] = {"UnrecognizedClientException", 403},
    [IC_HTTP_E_INVALID_SIGNATURE] = {"InvalidSignatureException", 403},
    [IC_HTTP_E_INCOMPLETE_SIGNATURE] = {"IncompleteSignatureException", 403},
    [IC_HTTP_E_UNKNOWN_OPERATION] = {"UnknownOperationException", 404},
    [IC_HTTP_E_METHOD_NOT_ALLOWED] = {"MethodNotAllowedException", 405},
    [IC_HTTP_E_TOO_LARGE] = {"RequestEntityTooLargeException", 413},
    [IC_HTTP_E_UNSUPPORTED_ENCODING] = {"UnsupportedDocumentEncodingException",
                                        415},
    [IC_HTTP_E_THROTTLING] = {"ThrottlingException", 429},
    [IC_HTTP_E_INTERNAL] = {"InternalFailureException", 500},
    [IC_HTTP_E_UNAVAILABLE] = {"ServiceUnavailableException", 503},
    [IC_HTTP_E_SQL_PARSE] = {"SqlParseException", 400},
    [IC_HTTP_E_INVALID_RESPONSE] = {"InvalidResponseException", 400},
};

struct ic_http_defer_s {
    ic_http_t *h;          /* NULL once the connection is gone */
    ic_http_resp_t resp;
    const char *op;        /* static: the route's operation */
    void (*gone)(void *data);
    void *gone_data;
    bool keep_alive;
    bool is_head;
};

struct ic_http_s {
    const ic_http_service_t *svc;
    const ic_http_io_t *io;
    void *io_data;
    ic_http_parser_t *parser;
    ic_buf_t out;        /* response being built */
    char peer[64];
    const ic_http_peer_t *peer_info;
    ic_http_defer_t *pending; /* the request being answered later */
    ic_buf_t backlog;    /* bytes read while a request is pending */
    size_t backlog_max;
    ic_http_upgrade_t up; /* set by ic_http_accept_upgrade */
    bool is_upgrading;
    bool is_closed;
    bool in_feed;
};

const char *ic_http_err_name(ic_http_err_t e) {
    return (unsigned)e < IC_HTTP_E_COUNT ? errs[e].name : "InternalFailureException";
}

int ic_http_err_status(ic_http_err_t e) {
    return (unsigned)e < IC_HTTP_E_COUNT ? errs[e].status : 500;
}

static const char *reason_phrase(int status) {
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

/* ---- responses ------------------------------------------------------------- */

static void resp_init(ic_http_resp_t *r) {
    memset(r, 0, sizeof(*r));
    r->status = 200;
    r->content_type = "application/json";
    ic_buf_init(&r->headers);
    ic_buf_init(&r->body);
}

static void resp_free(ic_http_resp_t *r) {
    ic_buf_free(&r->headers);
    ic_buf_free(&r->body);
}

void ic_http_header_add(ic_http_resp_t *resp, const char *name,
                        const char *value) {
    ic_buf_appendf(&resp->headers, "%s: %s\r\n", name, value);
}

void ic_http_fail(ic_http_resp_t *resp, ic_http_err_t e, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    cJSON *o;
    char *s;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if ((unsigned)e >= IC_HTTP_E_COUNT)
        e = IC_HTTP_E_INTERNAL;
    ic_buf_reset(&resp->body);
    ic_buf_reset(&resp->headers);
    resp->status = errs[e].status;
    resp->is_error = true;
    resp->content_type = "application/json";
    /* SDKs take the part before ':' (aws-iot-auth.md 5.2). */
    ic_buf_appendf(&resp->headers, "x-amzn-ErrorType: %s:\r\n", errs[e].name);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "message", msg);
    s = cJSON_PrintUnformatted(o);
    ic_buf_append_str(&resp->body, s);
    cJSON_free(s);
    cJSON_Delete(o);
}

void ic_http_fail_body(ic_http_resp_t *resp, ic_http_err_t e, const char *body) {
    ic_http_fail(resp, e, "%s", "");
    ic_buf_reset(&resp->body);
    ic_buf_append_str(&resp->body, body);
}

void ic_http_json(ic_http_resp_t *resp, cJSON *body) {
    char *s = cJSON_PrintUnformatted(body);
    ic_buf_reset(&resp->body);
    ic_buf_append_str(&resp->body, s ? s : "{}");
    cJSON_free(s);
    cJSON_Delete(body);
    resp->content_type = "application/json";
}


static void send_response(ic_http_t *h, ic_http_resp_t *r, bool keep_alive,
                          bool is_head) {
    char rid[37], date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    ic_str_uuid(rid);
    ic_buf_reset(&h->out);
    if (r->status == 101) /* no body, no content headers [RFC 9110 15.2] */
        ic_buf_appendf(&h->out, "HTTP/1.1 101 Switching Protocols\r\n");
    else
        ic_buf_appendf(&h->out,
                       "HTTP/1.1 %d %s\r\n"
                       "date: %s\r\n"
                       "content-type: %s\r\n"
                       "content-length: %zu\r\n"
                       "x-amzn-RequestId: %s\r\n",
                       r->status, reason_phrase(r->status), date, r->content_type,
                       r->body.len, rid);
    if (r->headers.len)
        ic_buf_append(&h->out, r->headers.data, r->headers.len);
    if (!keep_alive && r->status != 101)
        ic_buf_append_str(&h->out, "connection: close\r\n");
    ic_buf_append_str(&h->out, "\r\n");
    if (!is_head && r->body.len)
        ic_buf_append(&h->out, r->body.data, r->body.len);
    h->io->send(h->io_data, h->out.data, h->out.len);
    if (h->out.cap > 65536) {
        ic_buf_free(&h->out);
        ic_buf_init(&h->out);
    }
}

/* ---- routing ------------------------------------------------------------------ */

void ic_http_call_clear(ic_http_call_t *call) {
    size_t i;
    for (i = 0; i < call->n_labels; i++)
        free(call->label_values[i]);
    call->n_labels = 0;
}

const char *ic_http_label(const ic_http_call_t *call, const char *name) {
    size_t i;
    for (i = 0; i < call->n_labels; i++)
        if (strcmp(call->label_names[i], name) == 0)
            return call->label_values[i];
    return NULL;
}

/* Does pattern match path? Labels are collected into call (which the
 * caller clears). Returns the number of literal segments + 1, or 0. */
static int match(const char *pattern, const char *path, ic_http_call_t *call) {
    const char *p = pattern, *s = path;
    int literals = 1;
    while (*p == '/' && *s == '/') {
        const char *pe, *se;
        p++;
        s++;
        pe = strchr(p, '/');
        if (pe == NULL)
            pe = p + strlen(p);
        se = strchr(s, '/');
        if (se == NULL)
            se = s + strlen(s);
        if (*p == '{') {
            bool greedy = pe - p >= 3 && pe[-2] == '+';
            const char *end = greedy ? s + strlen(s) : se;
            size_t vlen = (size_t)(end - s);
            char *val;
            long dl;
            if (vlen == 0 || call->n_labels >= IC_HTTP_MAX_LABELS)
                return 0;
            val = ic_xmalloc(vlen + 1);
            dl = ic_http_pct_decode(s, vlen, val, vlen + 1);
            if (dl <= 0) {
                free(val);
                return 0;
            }
            call->label_names[call->n_labels] = p; /* points at "{name}" */
            call->label_values[call->n_labels++] = val;
            if (greedy)
                return literals;
            s = se;
        } else {
            if ((pe - p) != (se - s) || memcmp(p, s, (size_t)(pe - p)) != 0)
                return 0;
            literals++;
            s = se;
        }
        p = pe;
    }
    if (*p == '\0' && (*s == '\0' || (s[0] == '/' && s[1] == '\0')))
        return literals;
    return 0;
}

/* Label names point into the pattern as "{name}" or "{name+}"; give the
 * call plain names (static per route: kept in a small table). */
static const char *label_name(const char *brace, char *buf, size_t cap) {
    size_t n = strcspn(brace + 1, "+}");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, brace + 1, n);
    buf[n] = '\0';
    return buf;
}

const ic_http_route_t *ic_http_route_find(const ic_http_service_t *svc,
                                          const char *method, const char *path,
                                          ic_http_call_t *call,
                                          bool *path_known) {
    const ic_http_route_t *best = NULL;
    int best_score = 0;
    size_t i;
    *path_known = false;
    memset(call, 0, sizeof(*call));
    for (i = 0; i < svc->n_routes; i++) {
        const ic_http_route_t *r = &svc->routes[i];
        ic_http_call_t tmp;
        int score;
        memset(&tmp, 0, sizeof(tmp));
        score = match(r->pattern, path, &tmp);
        if (score > 0 && strcmp(r->method, method) != 0) {
            *path_known = true;
            score = 0;
        }
        if (score > best_score) {
            ic_http_call_clear(call);
            *call = tmp;
            best = r;
            best_score = score;
        } else {
            ic_http_call_clear(&tmp);
        }
    }
    return best;
}

/* ---- requests ------------------------------------------------------------------ */

static void handle(ic_http_t *h, const ic_http_request_t *req) {
    ic_http_resp_t resp;
    ic_http_call_t call;
    const ic_http_route_t *route;
    const char *principal = "";
    bool path_known = false;
    /* a refused upgrade ends the connection: the bytes after an upgrade
     * request are not HTTP */
    bool keep_alive = req->keep_alive && !req->is_upgrade;
    bool is_head = strcmp(req->method, "HEAD") == 0;
    char names[IC_HTTP_MAX_LABELS][64];
    size_t i;

    resp_init(&resp);
    memset(&call, 0, sizeof(call));
    if (h->svc->authorize &&
        h->svc->authorize(req, h->peer_info, &resp, &principal,
                          h->svc->data) != 0) {
        ic_log_info("http denied", "service=%s peer=%s method=%s path=%s "
                    "status=%d",
                    h->svc->name, h->peer, req->method, req->path, resp.status);
        goto out;
    }
    route = ic_http_route_find(h->svc, req->method, req->path, &call,
                               &path_known);
    if (route == NULL) {
        if (path_known)
            ic_http_fail(&resp, IC_HTTP_E_METHOD_NOT_ALLOWED,
                         "Method %s is not allowed on %s", req->method,
                         req->path);
        else
            ic_http_fail(&resp, IC_HTTP_E_UNKNOWN_OPERATION,
                         "No operation at %s %s", req->method, req->path);
        goto out;
    }
    for (i = 0; i < call.n_labels; i++)
        call.label_names[i] = label_name(call.label_names[i], names[i],
                                         sizeof(names[i]));
    call.req = req;
    call.route = route;
    call.principal = principal;
    call.peer = h->peer;
    call.peer_info = h->peer_info;
    call.http = h;
    call.keep_alive = keep_alive;
    call.is_head = is_head;
    route->fn(&call, &resp, h->svc->data);
    if (h->pending) {
        /* answered later by ic_http_finish; resp was taken */
        ic_http_call_clear(&call);
        resp_free(&resp);
        return;
    }
    if (h->svc->after)
        h->svc->after(&call, &resp, h->svc->data);
    if (resp.is_error)
        ic_log_info("http error", "service=%s op=%s peer=%s status=%d "
                    "message=%.*s",
                    h->svc->name, route->op, h->peer, resp.status,
                    (int)resp.body.len, (const char *)resp.body.data);
    else
        ic_log_debug("http", "service=%s op=%s peer=%s status=%d",
                     h->svc->name, route->op, h->peer, resp.status);
out:
    if (h->is_upgrading && resp.status != 101)
        h->is_upgrading = false; /* refused after all */
    send_response(h, &resp, keep_alive || h->is_upgrading, is_head);
    ic_http_call_clear(&call);
    resp_free(&resp);
    if (!keep_alive && !h->is_upgrading) {
        h->is_closed = true;
        h->io->close(h->io_data);
    }
}

static void refuse(ic_http_t *h, int status, const char *why) {
    ic_http_resp_t resp;
    resp_init(&resp);
    if (status == 413)
        ic_http_fail(&resp, IC_HTTP_E_TOO_LARGE, "%s", why);
    else
        ic_http_fail(&resp, IC_HTTP_E_INVALID_REQUEST, "%s", why);
    resp.status = status;
    ic_log_info("http refused", "service=%s peer=%s status=%d reason=\"%s\"",
                h->svc->name, h->peer, status, why);
    send_response(h, &resp, false, false);
    resp_free(&resp);
    h->is_closed = true;
    h->io->close(h->io_data);
}

static void feed(ic_http_t *h, const uint8_t *p, size_t n) {
    while (!h->is_closed && !h->pending) {
        size_t used = 0;
        ic_http_parse_err_t err = IC_HTTP_PARSE_BAD;
        int rc = ic_http_parser_feed(h->parser, p, n, &used, &err);
        if (rc < 0) {
            refuse(h,
                   err == IC_HTTP_PARSE_BODY_TOO_BIG   ? 413
                   : err == IC_HTTP_PARSE_HEAD_TOO_BIG ? 431
                                                       : 400,
                   err == IC_HTTP_PARSE_BODY_TOO_BIG
                       ? "The request body exceeds the maximum size allowed"
                   : err == IC_HTTP_PARSE_HEAD_TOO_BIG
                       ? "The request headers exceed the maximum size allowed"
                       : ic_http_parser_error(h->parser));
            return;
        }
        p += used;
        n -= used;
        if (rc == 0)
            return;
        handle(h, ic_http_parser_request(h->parser));
        if (h->is_upgrading) {
            /* the rest is the new protocol's */
            h->is_closed = true;
            h->io->upgrade(h->io_data, &h->up, p, n);
            return;
        }
        ic_http_parser_next(h->parser);
    }
    /* A pipelined request behind a pending one waits, within bounds: one
     * more request of the largest size allowed. */
    if (h->pending && n > 0 && !h->is_closed) {
        if (h->backlog.len + n > h->backlog_max) {
            ic_log_info("http refused", "service=%s peer=%s reason=\"pipelined "
                        "requests exceed the limit while one is pending\"",
                        h->svc->name, h->peer);
            h->is_closed = true;
            h->io->close(h->io_data);
            return;
        }
        ic_buf_append(&h->backlog, p, n);
    }
}

int ic_http_feed(ic_http_t *h, const uint8_t *p, size_t n) {
    if (h->pending) {
        feed(h, p, n); /* to the backlog */
    } else if (h->backlog.len > 0) {
        ic_buf_append(&h->backlog, p, n);
    } else {
        h->in_feed = true;
        feed(h, p, n);
        h->in_feed = false;
    }
    return h->is_closed ? IC_ECLOSED : 0;
}

ic_http_defer_t *ic_http_defer(const ic_http_call_t *call, ic_http_resp_t *resp) {
    ic_http_t *h = call->http;
    ic_http_defer_t *d = ic_xcalloc(1, sizeof(*d));
    d->h = h;
    d->resp = *resp; /* taken: handle() frees a fresh one */
    resp_init(resp);
    d->op = call->route->op;
    d->keep_alive = call->keep_alive;
    d->is_head = call->is_head;
    h->pending = d;
    return d;
}

void ic_http_accept_upgrade(const ic_http_call_t *call, const ic_http_upgrade_t *u) {
    call->http->up = *u;
    call->http->is_upgrading = true;
}

ic_http_resp_t *ic_http_defer_resp(ic_http_defer_t *d) {
    return &d->resp;
}

void ic_http_defer_on_gone(ic_http_defer_t *d, void (*gone)(void *data), void *data) {
    d->gone = gone;
    d->gone_data = data;
}

void ic_http_finish_upgrade(ic_http_defer_t *d, const ic_http_upgrade_t *u) {
    ic_http_t *h = d->h;
    if (h == NULL || d->resp.status != 101) {
        ic_http_finish(d);
        return;
    }
    ic_log_debug("http", "service=%s op=%s peer=%s status=101", h->svc->name, d->op,
                 h->peer);
    send_response(h, &d->resp, true, false);
    h->pending = NULL;
    h->is_closed = true;
    {
        ic_buf_t b = h->backlog;
        ic_buf_init(&h->backlog);
        h->io->upgrade(h->io_data, u, b.data, b.len);
        ic_buf_free(&b);
    }
    resp_free(&d->resp);
    free(d);
}

void ic_http_finish(ic_http_defer_t *d) {
    ic_http_t *h = d->h;
    if (h != NULL) {
        if (d->resp.is_error)
            ic_log_info("http error", "service=%s op=%s peer=%s status=%d "
                        "message=%.*s", h->svc->name, d->op, h->peer,
                        d->resp.status, (int)d->resp.body.len,
                        (const char *)d->resp.body.data);
        else
            ic_log_debug("http", "service=%s op=%s peer=%s status=%d",
                         h->svc->name, d->op, h->peer, d->resp.status);
        send_response(h, &d->resp, d->keep_alive, d->is_head);
        h->pending = NULL;
        if (!d->keep_alive) {
            h->is_closed = true;
            h->io->close(h->io_data);
        } else if (h->backlog.len > 0 && !h->in_feed) {
            /* the requests that waited behind this one */
            ic_buf_t b = h->backlog;
            ic_buf_init(&h->backlog);
            h->in_feed = true;
            feed(h, b.data, b.len);
            h->in_feed = false;
            ic_buf_free(&b);
        }
    }
    resp_free(&d->resp);
    free(d);
}

ic_http_t *ic_http_new(const ic_http_service_t *svc, const ic_http_io_t *io,
                       void *io_data, const ic_http_peer_t *peer_info,
                       const ic_http_limits_t *lim) {
    const char *peer = peer_info ? peer_info->addr : NULL;
    ic_http_t *h = ic_xcalloc(1, sizeof(*h));
    h->svc = svc;
    h->io = io;
    h->io_data = io_data;
    snprintf(h->peer, sizeof(h->peer), "%s", peer ? peer : "");
    h->peer_info = peer_info;
    h->parser = ic_http_parser_new(lim);
    ic_buf_init(&h->out);
    ic_buf_init(&h->backlog);
    h->backlog_max = lim->max_head_bytes + lim->max_body_bytes + 4096;
    return h;
}

void ic_http_free(ic_http_t *h) {
    if (h == NULL)
        return;
    if (h->pending) {
        ic_http_defer_t *d = h->pending;
        h->pending = NULL;
        d->h = NULL; /* its answer has nowhere to go */
        if (d->gone)
            d->gone(d->gone_data);
    }
    ic_http_parser_free(h->parser);
    ic_buf_free(&h->out);
    ic_buf_free(&h->backlog);
    free(h);
}
