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
#include "iotcored/log.h"
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
        ls->accept_cb(server, s->lc, ls->accept_data);
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
    ic_log_info("listener bound", "name=%s bind=%s port=%d", lc->name, lc->bind,
                s->port);
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

int ic_listeners_start(ic_listeners_t *ls, char *err, size_t errlen) {
    size_t i;
    int rc;
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
    if (ls == NULL)
        return;
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
