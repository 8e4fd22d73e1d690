/* test_db.c - the store: group commit, per-op results, close drains, reopen,
 * schema guard, and durability of every acknowledged write across kill -9. */
#include "iotcored/db.h"
#include "iotcored/error.h"
#include "iotcored/migrate.h"
#include "suites.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64], path[128];

static void setup(void) {
    snprintf(dir, sizeof(dir), "/tmp/ic_db_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/iotcored.db", dir);
}

static void teardown(void) {
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static ic_db_t *open_db(uv_loop_t *loop) {
    ic_db_t *db = NULL;
    char err[256];
    int rc = ic_db_open(&db, loop, path, IC_SYNC_NORMAL, err, sizeof(err));
    ck_assert_msg(rc == 0, "%s", err);
    return db;
}

static void close_db(uv_loop_t *loop, ic_db_t *db) {
    ic_db_close(db, NULL, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(loop), 0);
}

typedef struct {
    int ok, conflict, other;
} tally_t;

static void count_cb(int rc, void *data) {
    tally_t *t = data;
    if (rc == 0)
        t->ok++;
    else if (rc == IC_ECONFLICT)
        t->conflict++;
    else
        t->other++;
}

static int count_rows(const ic_db_row_t *row, void *data) {
    *(int64_t *)data = ic_db_row_int(row, 0);
    return 0;
}

START_TEST(group_commit) {
    uv_loop_t loop;
    ic_db_t *db;
    tally_t t = {0, 0, 0};
    int64_t n = -1;
    int i;
    uv_loop_init(&loop);
    db = open_db(&loop);
    ck_assert_int_eq(ic_db_schema_version(db), ic_migrate_latest());
    ck_assert_int_eq(ic_db_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)",
                                NULL, 0, count_cb, &t),
                     0);
    for (i = 0; i < 2000; i++) {
        ic_db_val_t v[2] = {IC_DB_INTV(i), IC_DB_BLOBV("\0ab", 3)};
        ck_assert_int_eq(ic_db_exec(db, "INSERT INTO t(id, v) VALUES(?1, ?2)", v,
                                    2, count_cb, &t),
                         0);
    }
    /* callbacks never run inside the call */
    ck_assert_int_eq(t.ok, 0);
    ic_db_flush(db, count_cb, &t);
    while (t.ok < 2002)
        uv_run(&loop, UV_RUN_ONCE);
    ck_assert_int_eq(t.conflict + t.other, 0);
    ck_assert_int_eq((int)ic_db_ops(db), 2002);
    /* many ops per transaction */
    ck_assert_int_lt((int)ic_db_commits(db), 200);
    ck_assert_int_eq(ic_db_query(db, "SELECT count(*) FROM t", NULL, 0,
                                 count_rows, &n),
                     0);
    ck_assert_int_eq((int)n, 2000);
    close_db(&loop, db);
}
END_TEST

START_TEST(failed_op_does_not_sink_batch) {
    uv_loop_t loop;
    ic_db_t *db;
    tally_t t = {0, 0, 0};
    int64_t n = -1;
    ic_db_val_t one = IC_DB_INTV(1), two = IC_DB_INTV(2);
    uv_loop_init(&loop);
    db = open_db(&loop);
    ic_db_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY)", NULL, 0, count_cb, &t);
    ic_db_exec(db, "INSERT INTO t(id) VALUES(?1)", &one, 1, count_cb, &t);
    ic_db_exec(db, "INSERT INTO t(id) VALUES(?1)", &one, 1, count_cb, &t);
    ic_db_exec(db, "INSERT INTO t(id) VALUES(?1)", &two, 1, count_cb, &t);
    ic_db_exec(db, "INSERT INTO nosuch(id) VALUES(1)", NULL, 0, count_cb, &t);
    while (t.ok + t.conflict + t.other < 5)
        uv_run(&loop, UV_RUN_ONCE);
    ck_assert_int_eq(t.ok, 3);
    ck_assert_int_eq(t.conflict, 1);
    ck_assert_int_eq(t.other, 1);
    ic_db_query(db, "SELECT count(*) FROM t", NULL, 0, count_rows, &n);
    ck_assert_int_eq((int)n, 2);
    close_db(&loop, db);
}
END_TEST

START_TEST(close_drains_then_reopen) {
    uv_loop_t loop;
    ic_db_t *db;
    tally_t t = {0, 0, 0};
    int64_t n = -1;
    int i;
    uv_loop_init(&loop);
    db = open_db(&loop);
    ic_db_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY)", NULL, 0, count_cb, &t);
    for (i = 0; i < 500; i++) {
        ic_db_val_t v = IC_DB_INTV(i);
        ic_db_exec(db, "INSERT INTO t(id) VALUES(?1)", &v, 1, count_cb, &t);
    }
    /* close right away: every queued op still commits and reports */
    ic_db_close(db, NULL, NULL);
    ck_assert_int_eq(ic_db_exec(db, "SELECT 1", NULL, 0, NULL, NULL), IC_ECLOSED);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    ck_assert_int_eq(t.ok, 501);

    uv_loop_init(&loop);
    db = open_db(&loop);
    ic_db_query(db, "SELECT count(*) FROM t", NULL, 0, count_rows, &n);
    ck_assert_int_eq((int)n, 500);
    close_db(&loop, db);
}
END_TEST

START_TEST(newer_schema_refused) {
    uv_loop_t loop;
    ic_db_t *db;
    char err[256] = "";
    tally_t t = {0, 0, 0};
    uv_loop_init(&loop);
    db = open_db(&loop);
    ic_db_exec(db, "PRAGMA user_version = 999", NULL, 0, count_cb, &t);
    close_db(&loop, db);
    ck_assert_int_eq(t.ok, 1);
    uv_loop_init(&loop);
    ck_assert_int_eq(ic_db_open(&db, &loop, path, IC_SYNC_NORMAL, err, sizeof(err)),
                     IC_ESTORE);
    ck_assert_ptr_nonnull(strstr(err, "schema version 999 is newer than this build"));
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* ---- kill -9 at an arbitrary moment ----------------------------------- */

typedef struct {
    ic_db_t *db;
    int fd;
    int64_t next;
    uv_idle_t idle;
} writer_t;

static void acked(int rc, void *data) {
    int64_t id = (int64_t)(intptr_t)data;
    if (rc == 0 && write(STDOUT_FILENO, &id, sizeof(id)) != sizeof(id))
        _exit(3);
}

static void produce(uv_idle_t *h) {
    writer_t *w = h->data;
    int i;
    for (i = 0; i < 50; i++, w->next++) {
        ic_db_val_t v[2] = {IC_DB_INTV(w->next), IC_DB_TEXTV("payload", 7)};
        ic_db_exec(w->db, "INSERT INTO t(id, v) VALUES(?1, ?2)", v, 2, acked,
                   (void *)(intptr_t)w->next);
    }
}

static int check_ok(const ic_db_row_t *row, void *data) {
    ck_assert_str_eq(ic_db_row_text(row, 0), "ok");
    (*(int *)data)++;
    return 0;
}

static int has_row(const ic_db_row_t *row, void *data) {
    (void)row;
    (*(int *)data)++;
    return 0;
}

START_TEST(kill9_keeps_acknowledged) {
    int pipefd[2], round;
    for (round = 0; round < 3; round++) {
        pid_t pid;
        int64_t id, acked_ids = 0, *ids = malloc(sizeof(int64_t) * 200000);
        size_t n = 0, i;
        int status, ok = 0;
        uv_loop_t loop;
        ic_db_t *db;
        ck_assert_int_eq(pipe(pipefd), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            writer_t w;
            tally_t t = {0, 0, 0};
            close(pipefd[0]);
            dup2(pipefd[1], STDOUT_FILENO);
            uv_loop_init(&loop);
            w.db = open_db(&loop);
            w.next = 1000000 * (round + 1);
            ic_db_exec(w.db, "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v)",
                       NULL, 0, count_cb, &t);
            uv_idle_init(&loop, &w.idle);
            w.idle.data = &w;
            uv_idle_start(&w.idle, produce);
            uv_run(&loop, UV_RUN_DEFAULT);
            _exit(0);
        }
        close(pipefd[1]);
        /* read acknowledgements, then kill mid-stream */
        while (acked_ids < 1500 + 700 * round &&
               read(pipefd[0], &id, sizeof(id)) == sizeof(id)) {
            ids[n++] = id;
            acked_ids++;
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        close(pipefd[0]);
        ck_assert(WIFSIGNALED(status));
        ck_assert_int_gt((int)n, 1000);

        uv_loop_init(&loop);
        db = open_db(&loop);
        ck_assert_int_eq(ic_db_query(db, "PRAGMA integrity_check", NULL, 0,
                                     check_ok, &ok),
                         0);
        ck_assert_int_eq(ok, 1);
        for (i = 0; i < n; i++) {
            ic_db_val_t v = IC_DB_INTV(ids[i]);
            int found = 0;
            ic_db_query(db, "SELECT 1 FROM t WHERE id = ?1", &v, 1, has_row, &found);
            ck_assert_msg(found == 1, "acknowledged id %lld lost", (long long)ids[i]);
        }
        close_db(&loop, db);
        free(ids);
    }
}
END_TEST

Suite *ic_db_suite(void) {
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, group_commit);
    tcase_add_test(tc, failed_op_does_not_sink_batch);
    tcase_add_test(tc, close_drains_then_reopen);
    tcase_add_test(tc, newer_schema_refused);
    tcase_add_test(tc, kill9_keeps_acknowledged);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
