/* db.h - the SQLite store: one database, one writer thread, group commit.
 *
 *   loop thread                          writer thread
 *   ic_db_exec(sql, vals) --queue-->     BEGIN IMMEDIATE
 *                                          op 1 .. op n (all queued so far)
 *                                        COMMIT
 *   done callbacks (rc per op) <--async-- results
 *
 * The event loop never waits on disk: writes are queued and applied by the
 * writer thread, many per transaction; results come back to the loop thread
 * through a uv_async. Hot data is read once at start (ic_db_query, which does
 * block and is for init-time cache loading and tests only) and served from
 * in-memory caches by the modules that own it.
 *
 * Only src/store/ includes sqlite3.h; nothing SQLite-typed crosses this API.
 */
#ifndef IOTCORED_DB_H
#define IOTCORED_DB_H

#include "iotcored/config.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct ic_db_s ic_db_t;
typedef struct ic_db_row_s ic_db_row_t;

typedef enum {
    IC_DB_NULL,
    IC_DB_INT,
    IC_DB_TEXT,
    IC_DB_BLOB,
} ic_db_type_t;

/* A bound value; borrowed by ic_db_exec/ic_db_query, which copy it. */
typedef struct ic_db_val_s {
    ic_db_type_t type;
    int64_t i;     /* IC_DB_INT */
    const void *p; /* IC_DB_TEXT / IC_DB_BLOB */
    size_t len;    /* bytes at p */
} ic_db_val_t;

#define IC_DB_INTV(v) ((ic_db_val_t){IC_DB_INT, (int64_t)(v), NULL, 0})
#define IC_DB_TEXTV(s, n) ((ic_db_val_t){IC_DB_TEXT, 0, (s), (n)})
#define IC_DB_BLOBV(b, n) ((ic_db_val_t){IC_DB_BLOB, 0, (b), (n)})
#define IC_DB_NULLV ((ic_db_val_t){IC_DB_NULL, 0, NULL, 0})

/* Runs on the loop thread after the op's transaction committed (rc 0) or
 * failed (IC_ESTORE, or IC_ECONFLICT for a constraint violation). */
typedef void (*ic_db_done_cb)(int rc, void *data);
/* Called per row by ic_db_query; non-zero stops the query with that rc. */
typedef int (*ic_db_row_cb)(const ic_db_row_t *row, void *data);
typedef void (*ic_db_closed_cb)(void *data);

/* Open (creating) the database at path: WAL mode, synchronous per `sync`,
 * migrations applied, writer thread started, async handle on loop. On
 * failure returns IC_ESTORE with a one-line message in err. */
int ic_db_open(ic_db_t **out, uv_loop_t *loop, const char *path,
               ic_sync_mode_t sync, char *err, size_t errlen);

/* Queue one statement. sql is borrowed for the life of the db (it keys the
 * statement cache: pass string literals). vals are copied. cb (may be NULL)
 * fires exactly once, never from inside this call. Returns 0, or IC_ECLOSED
 * once ic_db_close was called (cb then never fires). */
int ic_db_exec(ic_db_t *db, const char *sql, const ic_db_val_t *vals,
               size_t n_vals, ic_db_done_cb cb, void *data);
/* cb fires once every op queued before this call has been committed. */
int ic_db_flush(ic_db_t *db, ic_db_done_cb cb, void *data);

/* Blocking read on the reader connection (sees committed writes only). For
 * init-time cache loads and tests; never on a per-message path. */
int ic_db_query(ic_db_t *db, const char *sql, const ic_db_val_t *vals,
                size_t n_vals, ic_db_row_cb cb, void *data);
int64_t ic_db_row_int(const ic_db_row_t *row, int col);
/* Borrowed until the row callback returns. Text is NUL-terminated. */
const char *ic_db_row_text(const ic_db_row_t *row, int col);
const void *ic_db_row_blob(const ic_db_row_t *row, int col, size_t *len);
bool ic_db_row_is_null(const ic_db_row_t *row, int col);

/* Schema version now in the file (PRAGMA user_version). */
int ic_db_schema_version(ic_db_t *db);
/* Transactions committed and ops applied so far (loop-thread view). */
uint64_t ic_db_commits(const ic_db_t *db);
uint64_t ic_db_ops(const ic_db_t *db);
/* Ops queued and not yet applied (loop thread). */
size_t ic_db_depth(const ic_db_t *db);
/* Time spent in transactions (BEGIN to COMMIT, fsync included): total and
 * longest, microseconds. */
void ic_db_commit_time(const ic_db_t *db, uint64_t *total_us, uint64_t *max_us);

/* Stop intake, let the writer drain and commit everything queued, run the
 * remaining done callbacks, close connections and handles, then call cb
 * (from the loop, exactly once) and free db. */
void ic_db_close(ic_db_t *db, ic_db_closed_cb cb, void *data);

#endif
