/* db.c - the only sqlite3_open: connections, writer thread, group commit.
 *
 * Owns two SQLite connections (writer, reader), the writer thread, the op
 * queues and the statement cache. The loop thread stages ops and hands a
 * loop turn's worth to the writer at once (in the prepare phase, before
 * the loop would block: one lock and one wake-up per turn, not per op), and
 * receives results through a uv_async; the writer thread takes every op
 * handed over so far, runs them in one IMMEDIATE transaction and commits,
 * so one fsync covers many writes (group commit). It must not run application logic: callbacks
 * run on the loop thread only.
 *
 * Invariants: `pending` and `done` are touched only under `lock`; the writer
 * connection and its statement cache are touched only by the writer thread
 * after ic_db_open returns; the reader connection only by the loop thread.
 * Committed means durable against a process crash in WAL mode with
 * synchronous=NORMAL, and against power loss with synchronous=FULL.
 */
#include "iotcored/db.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/migrate.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_CACHE 64
#define BATCH_MAX 4096 /* ops per transaction; bounds a transaction's size */

typedef struct op_s {
    struct op_s *next;
    const char *sql; /* NULL = flush marker */
    ic_db_val_t *vals;
    size_t n_vals;
    ic_db_done_cb cb;
    void *data;
    int rc;
} op_t;

struct ic_db_row_s {
    sqlite3_stmt *st;
};

struct ic_db_s {
    uv_loop_t *loop;
    uv_async_t async;  /* writer -> loop: results ready / writer exited */
    uv_prepare_t prepare;          /* loop: hands `stage` to the writer */
    int handles_open;              /* async (+ prepare) until closed */
    op_t *stage, **stage_tail;     /* loop thread only: not handed over yet */
    uv_thread_t thread;
    uv_mutex_t lock;
    uv_cond_t cond;
    op_t *pending, **pending_tail; /* loop -> writer */
    op_t *done, **done_tail;       /* writer -> loop */
    bool stopping;                 /* under lock: writer exits when drained */
    bool writer_exited;            /* under lock */
    bool closing;                  /* loop thread: ic_db_close called */
    sqlite3 *wdb;                  /* writer thread only */
    sqlite3 *rdb;                  /* loop thread only */
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[STMT_CACHE]; /* writer thread only */
    size_t n_cache;
    atomic_uint_fast64_t commits;  /* transactions committed (writer) */
    uint64_t queued;               /* ops queued (loop thread) */
    atomic_uint_fast64_t commit_us;     /* total transaction time, us */
    atomic_uint_fast64_t commit_max_us; /* longest transaction, us */
    atomic_uint_fast64_t ops;      /* ops applied (writer) */
    ic_db_closed_cb closed_cb;
    void *closed_data;
};

/* ---- helpers shared by both threads ---------------------------------- */

static int bind_vals(sqlite3_stmt *st, const ic_db_val_t *v, size_t n) {
    size_t i;
    int rc = SQLITE_OK;
    for (i = 0; i < n && rc == SQLITE_OK; i++) {
        int idx = (int)i + 1;
        switch (v[i].type) {
        case IC_DB_NULL:
            rc = sqlite3_bind_null(st, idx);
            break;
        case IC_DB_INT:
            rc = sqlite3_bind_int64(st, idx, v[i].i);
            break;
        case IC_DB_TEXT:
            rc = sqlite3_bind_text(st, idx, v[i].p, (int)v[i].len,
                                   SQLITE_STATIC);
            break;
        case IC_DB_BLOB:
            rc = sqlite3_bind_blob(st, idx, v[i].p ? v[i].p : "", (int)v[i].len,
                                   SQLITE_STATIC);
            break;
        }
    }
    return rc;
}

static int open_conn(const char *path, sqlite3 **out, ic_sync_mode_t sync,
                     char *err, size_t errlen) {
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, &msg) !=
            SQLITE_OK ||
        sqlite3_exec(db,
                     sync == IC_SYNC_FULL ? "PRAGMA synchronous=FULL"
                                          : "PRAGMA synchronous=NORMAL",
                     NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, &msg) !=
            SQLITE_OK)
        goto fail;
    *out = db;
    return 0;
fail:
    snprintf(err, errlen, "cannot open database %s: %s", path,
             msg ? msg : db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_free(msg);
    sqlite3_close(db);
    return IC_ESTORE;
}

/* ---- writer thread ---------------------------------------------------- */

static sqlite3_stmt *cached_stmt(ic_db_t *db, const char *sql) {
    size_t i;
    sqlite3_stmt *st = NULL;
    for (i = 0; i < db->n_cache; i++)
        if (db->cache[i].sql == sql)
            return db->cache[i].st;
    if (sqlite3_prepare_v3(db->wdb, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                           NULL) != SQLITE_OK)
        return NULL;
    if (db->n_cache < STMT_CACHE) {
        db->cache[db->n_cache].sql = sql;
        db->cache[db->n_cache].st = st;
        db->n_cache++;
    }
    return st;
}

static bool is_cached(ic_db_t *db, sqlite3_stmt *st) {
    size_t i;
    for (i = 0; i < db->n_cache; i++)
        if (db->cache[i].st == st)
            return true;
    return false;
}

static int run_op(ic_db_t *db, op_t *op) {
    sqlite3_stmt *st;
    int rc;
    if (op->sql == NULL)
        return 0;
    st = cached_stmt(db, op->sql);
    if (st == NULL) {
        ic_log_error("store prepare failed", "err=\"%s\" sql=\"%.80s\"",
                     sqlite3_errmsg(db->wdb), op->sql);
        return IC_ESTORE;
    }
    rc = bind_vals(st, op->vals, op->n_vals);
    if (rc == SQLITE_OK) {
        do
            rc = sqlite3_step(st);
        while (rc == SQLITE_ROW);
    }
    /* A constraint violation is an answer the caller handles (IC_ECONFLICT);
     * anything else is a store fault and is logged here, once. */
    if (rc != SQLITE_DONE && (rc & 0xff) != SQLITE_CONSTRAINT)
        ic_log_error("store write failed", "err=\"%s\" sql=\"%.80s\"",
                     sqlite3_errmsg(db->wdb), op->sql);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (!is_cached(db, st))
        sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    return (rc & 0xff) == SQLITE_CONSTRAINT ? IC_ECONFLICT : IC_ESTORE;
}

static void run_batch(ic_db_t *db, op_t *batch, size_t n) {
    op_t *op;
    int rc = sqlite3_exec(db->wdb, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        /* A failing statement rolls back only itself (ON CONFLICT ABORT);
         * the others in the batch still commit - unless SQLite rolled the
         * whole transaction back (full disk, I/O error, out of memory):
         * then nothing of the batch is in, and the rest must not run on
         * in autocommit mode. */
        for (op = batch; op; op = op->next) {
            op->rc = run_op(db, op);
            if (op->rc != 0 && sqlite3_get_autocommit(db->wdb)) {
                rc = SQLITE_ABORT;
                break;
            }
        }
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db->wdb, "COMMIT", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        ic_log_error("store commit failed", "err=\"%s\" ops=%zu",
                     sqlite3_errmsg(db->wdb), n);
        sqlite3_exec(db->wdb, "ROLLBACK", NULL, NULL, NULL);
        for (op = batch; op; op = op->next)
            op->rc = IC_ESTORE;
    }
}

static void writer_main(void *arg) {
    ic_db_t *db = arg;
    for (;;) {
        op_t *batch, *last;
        size_t n = 1;
        uv_mutex_lock(&db->lock);
        while (db->pending == NULL && !db->stopping)
            uv_cond_wait(&db->cond, &db->lock);
        if (db->pending == NULL) {
            db->writer_exited = true;
            uv_mutex_unlock(&db->lock);
            uv_async_send(&db->async);
            return;
        }
        batch = last = db->pending;
        while (last->next && n < BATCH_MAX) {
            last = last->next;
            n++;
        }
        db->pending = last->next;
        if (db->pending == NULL)
            db->pending_tail = &db->pending;
        last->next = NULL;
        uv_mutex_unlock(&db->lock);

        {
            uint64_t t0 = uv_hrtime(), us;
            run_batch(db, batch, n);
            us = (uv_hrtime() - t0) / 1000;
            atomic_fetch_add(&db->commit_us, us);
            if (us > atomic_load(&db->commit_max_us))
                atomic_store(&db->commit_max_us, us);
        }

        uv_mutex_lock(&db->lock);
        *db->done_tail = batch;
        db->done_tail = &last->next;
        atomic_fetch_add(&db->commits, 1);
        atomic_fetch_add(&db->ops, n);
        uv_mutex_unlock(&db->lock);
        uv_async_send(&db->async);
    }
}

/* ---- loop thread ------------------------------------------------------ */

static void free_op(op_t *op) {
    free(op);
}

static void on_closed(uv_handle_t *h) {
    ic_db_t *db = h->data;
    ic_db_closed_cb cb = db->closed_cb;
    void *data = db->closed_data;
    if (--db->handles_open > 0)
        return;
    uv_mutex_destroy(&db->lock);
    uv_cond_destroy(&db->cond);
    free(db);
    if (cb)
        cb(data);
}

static void finish_close(ic_db_t *db) {
    size_t i;
    uv_thread_join(&db->thread);
    for (i = 0; i < db->n_cache; i++)
        sqlite3_finalize(db->cache[i].st);
    db->n_cache = 0;
    sqlite3_close(db->wdb);
    sqlite3_close(db->rdb);
    db->wdb = db->rdb = NULL;
    uv_close((uv_handle_t *)&db->prepare, on_closed);
    uv_close((uv_handle_t *)&db->async, on_closed);
}

static void on_async(uv_async_t *a) {
    ic_db_t *db = a->data;
    op_t *list, *next;
    bool exited;
    uv_mutex_lock(&db->lock);
    list = db->done;
    db->done = NULL;
    db->done_tail = &db->done;
    exited = db->writer_exited;
    uv_mutex_unlock(&db->lock);
    for (; list; list = next) {
        next = list->next;
        if (list->cb)
            list->cb(list->rc, list->data);
        free_op(list);
    }
    if (exited && db->closing)
        finish_close(db);
}

static int enqueue(ic_db_t *db, const char *sql, const ic_db_val_t *vals,
                   size_t n, ic_db_done_cb cb, void *data) {
    size_t bytes = sizeof(op_t) + n * sizeof(ic_db_val_t), i;
    op_t *op;
    uint8_t *p;
    if (db->closing)
        return IC_ECLOSED;
    for (i = 0; i < n; i++)
        bytes += vals[i].len + 1;
    /* One allocation per op: header, value array, then value bytes. */
    op = ic_xmalloc(bytes);
    memset(op, 0, sizeof(*op));
    op->sql = sql;
    op->cb = cb;
    op->data = data;
    op->n_vals = n;
    op->vals = (ic_db_val_t *)(op + 1);
    p = (uint8_t *)(op->vals + n);
    for (i = 0; i < n; i++) {
        op->vals[i] = vals[i];
        if (vals[i].type == IC_DB_TEXT || vals[i].type == IC_DB_BLOB) {
            if (vals[i].len)
                memcpy(p, vals[i].p, vals[i].len);
            p[vals[i].len] = '\0';
            op->vals[i].p = p;
            p += vals[i].len + 1;
        }
    }
    db->queued++;
    *db->stage_tail = op;
    db->stage_tail = &op->next;
    return 0;
}

/* Everything staged goes to the writer: one lock, one wake-up. */
static void hand_over(ic_db_t *db) {
    if (db->stage == NULL)
        return;
    uv_mutex_lock(&db->lock);
    *db->pending_tail = db->stage;
    db->pending_tail = db->stage_tail;
    uv_cond_signal(&db->cond);
    uv_mutex_unlock(&db->lock);
    db->stage = NULL;
    db->stage_tail = &db->stage;
}

static void on_prepare(uv_prepare_t *h) {
    hand_over(h->data);
}

int ic_db_exec(ic_db_t *db, const char *sql, const ic_db_val_t *vals,
               size_t n_vals, ic_db_done_cb cb, void *data) {
    return enqueue(db, sql, vals, n_vals, cb, data);
}

int ic_db_flush(ic_db_t *db, ic_db_done_cb cb, void *data) {
    return enqueue(db, NULL, NULL, 0, cb, data);
}

int ic_db_open(ic_db_t **out, uv_loop_t *loop, const char *path,
               ic_sync_mode_t sync, char *err, size_t errlen) {
    ic_db_t *db = ic_xcalloc(1, sizeof(*db));
    int rc;
    db->loop = loop;
    db->pending_tail = &db->pending;
    db->done_tail = &db->done;
    db->stage_tail = &db->stage;
    if (open_conn(path, &db->wdb, sync, err, errlen) != 0)
        goto fail;
    if (ic_migrate_apply(db->wdb, err, errlen) != 0)
        goto fail;
    if (open_conn(path, &db->rdb, sync, err, errlen) != 0)
        goto fail;
    if (uv_mutex_init(&db->lock) != 0)
        goto fail;
    if (uv_cond_init(&db->cond) != 0) {
        uv_mutex_destroy(&db->lock);
        goto fail;
    }
    rc = uv_async_init(loop, &db->async, on_async);
    if (rc == 0) {
        db->async.data = db;
        rc = uv_thread_create(&db->thread, writer_main, db);
        if (rc != 0) {
            /* The handle exists now; it must be closed, not freed. */
            snprintf(err, errlen, "cannot start store writer: %s",
                     uv_strerror(rc));
            sqlite3_close(db->wdb);
            sqlite3_close(db->rdb);
            db->wdb = db->rdb = NULL;
            db->handles_open = 1;
            uv_close((uv_handle_t *)&db->async, on_closed);
            return IC_ESTORE;
        }
        /* runs every loop turn; does not keep the loop alive by itself */
        uv_prepare_init(loop, &db->prepare);
        db->prepare.data = db;
        uv_prepare_start(&db->prepare, on_prepare);
        uv_unref((uv_handle_t *)&db->prepare);
        db->handles_open = 2;
    } else {
        snprintf(err, errlen, "cannot init store async: %s", uv_strerror(rc));
        uv_mutex_destroy(&db->lock);
        uv_cond_destroy(&db->cond);
        goto fail;
    }
    *out = db;
    return 0;
fail:
    sqlite3_close(db->wdb);
    sqlite3_close(db->rdb);
    free(db);
    return IC_ESTORE;
}

void ic_db_close(ic_db_t *db, ic_db_closed_cb cb, void *data) {
    if (db->closing)
        return;
    db->closing = true;
    db->closed_cb = cb;
    db->closed_data = data;
    hand_over(db);
    uv_mutex_lock(&db->lock);
    db->stopping = true;
    uv_cond_signal(&db->cond);
    uv_mutex_unlock(&db->lock);
    /* The writer drains `pending`, then reports writer_exited through the
     * async; on_async finishes the close. */
}

int ic_db_query(ic_db_t *db, const char *sql, const ic_db_val_t *vals,
                size_t n_vals, ic_db_row_cb cb, void *data) {
    sqlite3_stmt *st = NULL;
    ic_db_row_t row;
    int rc;
    if (sqlite3_prepare_v2(db->rdb, sql, -1, &st, NULL) != SQLITE_OK) {
        ic_log_error("store query failed", "err=\"%s\" sql=\"%.80s\"",
                     sqlite3_errmsg(db->rdb), sql);
        return IC_ESTORE;
    }
    rc = bind_vals(st, vals, n_vals);
    row.st = st;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int urc = cb ? cb(&row, data) : 0;
        if (urc != 0) {
            sqlite3_finalize(st);
            return urc;
        }
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        ic_log_error("store query failed", "err=\"%s\" sql=\"%.80s\"",
                     sqlite3_errmsg(db->rdb), sql);
        sqlite3_finalize(st);
        return IC_ESTORE;
    }
    sqlite3_finalize(st);
    return 0;
}

int64_t ic_db_row_int(const ic_db_row_t *row, int col) {
    return sqlite3_column_int64(row->st, col);
}

const char *ic_db_row_text(const ic_db_row_t *row, int col) {
    const unsigned char *t = sqlite3_column_text(row->st, col);
    return t ? (const char *)t : "";
}

const void *ic_db_row_blob(const ic_db_row_t *row, int col, size_t *len) {
    const void *p = sqlite3_column_blob(row->st, col);
    *len = (size_t)sqlite3_column_bytes(row->st, col);
    return p;
}

bool ic_db_row_is_null(const ic_db_row_t *row, int col) {
    return sqlite3_column_type(row->st, col) == SQLITE_NULL;
}

static int read_version(const ic_db_row_t *row, void *data) {
    *(int *)data = (int)ic_db_row_int(row, 0);
    return 0;
}

int ic_db_schema_version(ic_db_t *db) {
    int v = -1;
    ic_db_query(db, "PRAGMA user_version", NULL, 0, read_version, &v);
    return v;
}

uint64_t ic_db_commits(const ic_db_t *db) {
    return atomic_load(&db->commits);
}

uint64_t ic_db_ops(const ic_db_t *db) {
    return atomic_load(&db->ops);
}

size_t ic_db_depth(const ic_db_t *db) {
    uint64_t done = atomic_load(&db->ops);
    return db->queued > done ? (size_t)(db->queued - done) : 0;
}

void ic_db_commit_time(const ic_db_t *db, uint64_t *total_us, uint64_t *max_us) {
    *total_us = atomic_load(&db->commit_us);
    *max_us = atomic_load(&db->commit_max_us);
}
