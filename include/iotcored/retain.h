/* retain.h - the retained-message index (one message per topic), written
 * through to the store. AWS 5.6: an empty payload deletes; expired
 * messages (v5 Message Expiry) are not delivered. Loop thread only. */
#ifndef IOTCORED_RETAIN_H
#define IOTCORED_RETAIN_H

#include "iotcored/db.h"
#include "iotcored/msg.h"

typedef struct ic_retain_s ic_retain_t;

/* db may be NULL (no persistence). */
ic_retain_t *ic_retain_new(ic_db_t *db);
void ic_retain_free(ic_retain_t *rt);
/* Load stored messages, dropping expired ones. 0 or IC_ESTORE. */
int ic_retain_load(ic_retain_t *rt, int64_t now_ms);
/* Store m (ref taken) as the retained message of its topic, or delete the
 * topic's message when m has an empty payload. */
void ic_retain_set(ic_retain_t *rt, ic_msg_t *m, int64_t now_ms);
/* The live retained message of topic (borrowed), or NULL. */
ic_msg_t *ic_retain_get(ic_retain_t *rt, const char *topic, size_t len,
                        int64_t now_ms);
/* Visit every live retained message (for wildcard matching and listing). */
void ic_retain_foreach(ic_retain_t *rt, int64_t now_ms,
                       void (*fn)(ic_msg_t *m, void *data), void *data);
size_t ic_retain_count(const ic_retain_t *rt);

#endif
