/* sessions.h - SQL for persistent sessions: the sessions, subscriptions and
 * session_messages tables. Writes are queued (ic_db_exec); the load is a
 * blocking read for start-up. */
#ifndef IOTCORED_SESSIONS_H
#define IOTCORED_SESSIONS_H

#include "iotcored/db.h"
#include "iotcored/msg.h"

int ic_sessions_row_put(ic_db_t *db, const char *id, size_t len, int version,
                        uint32_t expiry_s, int64_t offline_since);
int ic_sessions_row_del(ic_db_t *db, const char *id, size_t len);
int ic_sessions_sub_put(ic_db_t *db, const char *id, size_t len,
                        const char *filter, size_t flen, uint8_t opts);
int ic_sessions_sub_del(ic_db_t *db, const char *id, size_t len,
                        const char *filter, size_t flen);
int ic_sessions_msg_put(ic_db_t *db, const char *id, size_t len, uint64_t seq,
                        const ic_msg_t *m, bool retain);
int ic_sessions_msg_del(ic_db_t *db, const char *id, size_t len, uint64_t seq);

typedef struct ic_sessions_loader_s {
    void (*session)(const char *id, size_t len, int version, uint32_t expiry_s,
                    int64_t offline_since, void *data);
    void (*sub)(const char *id, size_t len, const char *filter, size_t flen,
                uint8_t opts, void *data);
    /* m is new (refs 1) and handed over */
    void (*msg)(const char *id, size_t len, uint64_t seq, ic_msg_t *m,
                bool retain, void *data);
    void *data;
} ic_sessions_loader_t;

/* Sessions first, then subscriptions, then messages in seq order. */
int ic_sessions_load_rows(ic_db_t *db, const ic_sessions_loader_t *l);

#endif
