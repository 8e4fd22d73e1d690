/* listener.c - bind, listen and accept, one uv_tcp_t per listener block.
 *
 * Owns the listening handles and their bound ports, and writes the ready
 * file. It does not read or write connection bytes: each accepted socket is
 * handed to the registered handler, which chooses transport and protocol.
 * Loop thread only. Ports may be 0 (ephemeral); the bound port is read back
 * with uv_tcp_getsockname and published in the ready file, which is written
 * only once every listener is bound (memcached's port file, made atomic).
 */
#include "iotcored/listener.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/clock.h"
#include "iotcored/log.h"
#include "iotcored/mqtt.h"
#include "iotcored/pki.h"
#include "iotcored/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BACKLOG 1024

typedef struct lsock_s {
    uv_tcp_t tcp;                  /* embedded: freed with the array */
    const ic_listener_conf_t *lc;  /* borrowed from the running config */
    ic_listeners_t *owner;
    int port;                      /* bound port, 0 until started */
    ic_tls_ctx_t *tls;             /* NULL for plaintext listeners */
    bool is_open;                  /* tcp initialised, needs uv_close */
} lsock_t;

struct ic_listeners_s {
    ic_broker_t *b;
    lsock_t *socks;
    size_t n;
    ic_accept_cb accept_cb;
    void *accept_data;
    size_t closing;                /* close callbacks outstanding */
    ic_done_cb stop_cb;
    void *stop_data;
};

int ic_listeners_init(ic_listeners_t **out, ic_broker_t *b) {
    ic_listeners_t *ls = ic_xcalloc(1, sizeof(*ls));
    size_t i;
    ls->b = b;
    ls->n = b->cfg->n_listeners;
    ls->socks = ic_xcalloc(ls->n ? ls->n : 1, sizeof(lsock_t));
    for (i = 0; i < ls->n; i++) {
        ls->socks[i].lc = &b->cfg->listeners[i];
        ls->socks[i].owner = ls;
    }
    *out = ls;
    return 0;
}

void ic_listeners_set_handler(ic_listeners_t *ls, ic_accept_cb cb,
                              void *data) {
    ls->accept_cb = cb;
    ls->accept_data = data;
}

static void on_refused_close(uv_handle_t *h) {
    free(h);
}

static void on_connection(uv_stream_t *server, int status) {
    lsock_t *s = server->data;
    ic_listeners_t *ls = s->owner;
    if (status < 0) {
        /* EMFILE and friends: the socket stays listening; log and go on. */
        ic_log_warn("listener accept failed", "name=%s err=%s", s->lc->name,
                    ic_errname(status));
        return;
    }
    if (ls->accept_cb != NULL) {
        ls->accept_cb(server, s->lc, s->tls, ls->accept_data);
        return;
    }
    {
        uv_tcp_t *c = ic_xmalloc(sizeof(*c));
        uv_tcp_init(server->loop, c);
        if (uv_accept(server, (uv_stream_t *)c) == 0)
            ic_log_info("connection refused", "listener=%s reason=no-protocol",
                        s->lc->name);
        uv_close((uv_handle_t *)c, on_refused_close);
    }
}

static int bind_one(lsock_t *s, uv_loop_t *loop, char *err, size_t errlen) {
    const ic_listener_conf_t *lc = s->lc;
    struct sockaddr_storage ss;
    int namelen = sizeof(ss);
    int rc;

    if (strchr(lc->bind, ':') != NULL)
        rc = uv_ip6_addr(lc->bind, lc->port, (struct sockaddr_in6 *)&ss);
    else
        rc = uv_ip4_addr(lc->bind, lc->port, (struct sockaddr_in *)&ss);
    if (rc != 0) {
        snprintf(err, errlen, "%s:%d: bind: invalid address '%s'",
                 lc->loc.file, lc->loc.line, lc->bind);
        return rc;
    }
    uv_tcp_init(loop, &s->tcp);
    s->tcp.data = s;
    s->is_open = true;
    rc = uv_tcp_bind(&s->tcp, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->tcp, BACKLOG, on_connection);
    if (rc == 0)
        rc = uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&ss, &namelen);
    if (rc != 0) {
        snprintf(err, errlen,
                 "%s:%d: port: listener %s cannot listen on %s port %d: %s",
                 lc->port_loc.file, lc->port_loc.line, lc->name, lc->bind,
                 lc->port, uv_strerror(rc));
        return rc;
    }
    s->port = ss.ss_family == AF_INET6
                  ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                  : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    ic_log_info("listener bound", "name=%s bind=%s port=%d tls=%s", lc->name,
                lc->bind, s->port,
                lc->tls == IC_TLS_MUTUAL ? "mutual" : lc->tls ? "on" : "off");
    return 0;
}

static void on_sock_closed(uv_handle_t *h) {
    lsock_t *s = h->data;
    ic_listeners_t *ls = s->owner;
    s->is_open = false;
    if (--ls->closing == 0 && ls->stop_cb) {
        ic_done_cb cb = ls->stop_cb;
        ls->stop_cb = NULL;
        cb(ls->stop_data);
    }
}

static size_t close_all(ic_listeners_t *ls) {
    size_t i;
    for (i = 0; i < ls->n; i++) {
        if (ls->socks[i].is_open &&
            !uv_is_closing((uv_handle_t *)&ls->socks[i].tcp)) {
            ls->closing++;
            uv_close((uv_handle_t *)&ls->socks[i].tcp, on_sock_closed);
        }
    }
    return ls->closing;
}

/* Certificate files to serve with: configured, or the local CA's. */
static int tls_files(const ic_config_t *cfg, ic_pki_paths_t *p, char *err,
                     size_t errlen) {
    char endpoint[512];
    int rc;
    ic_pki_paths(cfg->data_dir, p);
    ic_config_endpoint(cfg, endpoint, sizeof(endpoint));
    if (cfg->tls_cert[0] == '\0' || cfg->tls_ca[0] == '\0') {
        rc = ic_pki_ensure(cfg->data_dir, endpoint, cfg->ca_key_type == IC_KEY_RSA,
                           err, errlen);
        if (rc != 0)
            return rc;
    }
    if (cfg->tls_cert[0]) {
        ic_strlcpy(p->cert, cfg->tls_cert, sizeof(p->cert));
        ic_strlcpy(p->key, cfg->tls_key, sizeof(p->key));
    }
    if (cfg->tls_ca[0])
        ic_strlcpy(p->ca_cert, cfg->tls_ca, sizeof(p->ca_cert));
    return 0;
}

/* cert_refusal handshake with cert_auth registry: the registry decides on
 * the leaf inside the handshake. A certificate just-in-time registration
 * would take goes through: registration happens at CONNECT (4.4 [OBS]). */
static bool verify_in_handshake(const uint8_t *der, size_t len, bool chain_ok,
                                char *why, size_t whylen, void *data) {
    ic_listeners_t *ls = data;
    ic_auth_result_t a;
    (void)chain_ok;
    ic_registry_check(ic_mqtt_env(ls->b->mqtt)->registry, der, len,
                      ic_clock_wall_ms(), &a);
    if (a.verdict != IC_AUTH_REFUSED)
        return true;
    snprintf(why, whylen, "%s (cert_id=%s)", a.why, a.cert_id);
    return false;
}

/* A TLS context for every TLS listener, into out[] (all or none). */
static int make_contexts(ic_listeners_t *ls, const ic_config_t *cfg,
                         ic_tls_ctx_t **out, char *err, size_t errlen) {
    ic_pki_paths_t p;
    size_t i;
    bool any = false;
    for (i = 0; i < ls->n; i++)
        any = any || ls->socks[i].lc->tls != IC_TLS_OFF;
    if (!any)
        return 0;
    if (tls_files(cfg, &p, err, errlen) != 0)
        return IC_EIO;
    for (i = 0; i < ls->n; i++) {
        const ic_listener_conf_t *lc = ls->socks[i].lc;
        char why[512];
        if (lc->tls == IC_TLS_OFF)
            continue;
        /* an ALPN listener loads the CA: x-amzn-*-ca clients present
         * certificates */
        out[i] = ic_tls_ctx_new(lc->protocol == IC_PROTO_ALPN
                                    ? IC_TLS_MUTUAL
                                    : (ic_tls_mode_t)lc->tls,
                                p.cert, p.key, p.ca_cert, why, sizeof(why));
        if (out[i] == NULL) {
            snprintf(err, errlen, "%s:%d: listener %s: %s", lc->loc.file,
                     lc->loc.line, lc->name, why);
            while (i-- > 0)
                ic_tls_ctx_free(out[i]);
            return IC_EIO;
        }
        if (lc->protocol == IC_PROTO_ALPN)
            ic_tls_ctx_use_alpn(out[i]);
        if (cfg->tls_require_sni)
            ic_tls_ctx_require_sni(out[i], true);
        if (cfg->cert_refusal == 1) {
            if (cfg->cert_auth == IC_CERT_AUTH_REGISTRY)
                ic_tls_ctx_set_verifier(out[i], verify_in_handshake, ls);
            else
                ic_tls_ctx_strict(out[i]);
        }
    }
    return 0;
}

int ic_listeners_reload(ic_listeners_t *ls, const ic_config_t *next) {
    ic_tls_ctx_t **fresh = ic_xcalloc(ls->n ? ls->n : 1, sizeof(*fresh));
    char err[1024];
    size_t i;
    if (make_contexts(ls, next, fresh, err, sizeof(err)) != 0) {
        ic_log_error("tls reload failed", "err=\"%s\"", err);
        free(fresh);
        return IC_EIO;
    }
    /* Sessions hold their own reference to the old context. */
    for (i = 0; i < ls->n; i++) {
        if (fresh[i] == NULL)
            continue;
        ic_tls_ctx_free(ls->socks[i].tls);
        ls->socks[i].tls = fresh[i];
    }
    free(fresh);
    return 0;
}

int ic_listeners_start(ic_listeners_t *ls, char *err, size_t errlen) {
    size_t i;
    int rc;
    ic_tls_ctx_t **ctxs = ic_xcalloc(ls->n ? ls->n : 1, sizeof(*ctxs));
    rc = make_contexts(ls, ls->b->cfg, ctxs, err, errlen);
    for (i = 0; i < ls->n; i++)
        ls->socks[i].tls = ctxs[i];
    free(ctxs);
    if (rc != 0)
        return rc;
    for (i = 0; i < ls->n; i++) {
        rc = bind_one(&ls->socks[i], ls->b->loop, err, errlen);
        if (rc != 0) {
            /* Nothing half-started: unbind what was bound. The close
             * callbacks run when the loop next turns. */
            close_all(ls);
            return rc;
        }
    }
    return 0;
}

void ic_listeners_stop(ic_listeners_t *ls, ic_done_cb cb, void *data) {
    ls->stop_cb = cb;
    ls->stop_data = data;
    if (close_all(ls) == 0) {
        ls->stop_cb = NULL;
        if (cb)
            cb(data);
    }
}

void ic_listeners_fini(ic_listeners_t *ls) {
    size_t i;
    if (ls == NULL)
        return;
    for (i = 0; i < ls->n; i++)
        ic_tls_ctx_free(ls->socks[i].tls);
    free(ls->socks);
    free(ls);
}

int ic_listeners_port(const ic_listeners_t *ls, const char *name) {
    size_t i;
    for (i = 0; i < ls->n; i++)
        if (strcmp(ls->socks[i].lc->name, name) == 0)
            return ls->socks[i].port;
    return IC_ENOENT;
}

int ic_listeners_write_ready(const ic_listeners_t *ls, const char *path) {
    char tmp[4096];
    FILE *f;
    size_t i;
    int rc = 0;
    if (ic_strfmt(tmp, sizeof(tmp), "%s.tmp", path) != 0)
        return IC_ETOOBIG;
    f = fopen(tmp, "w");
    if (f == NULL)
        return -errno;
    for (i = 0; i < ls->n; i++)
        fprintf(f, "%s %d\n", ls->socks[i].lc->name, ls->socks[i].port);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    return rc;
}
