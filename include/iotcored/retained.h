/* retained.h - SQL for the retained table. */
#ifndef IOTCORED_RETAINED_H
#define IOTCORED_RETAINED_H

#include "iotcored/db.h"
#include "iotcored/msg.h"

int ic_retained_put(ic_db_t *db, const ic_msg_t *m, int64_t now_ms);
int ic_retained_del(ic_db_t *db, const char *topic, size_t len);
/* Blocking start-up load; cb takes over m (refs 1). */
int ic_retained_load(ic_db_t *db, void (*cb)(ic_msg_t *m, void *data),
                     void *data);

#endif
