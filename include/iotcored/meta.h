/* meta.h - broker metadata rows (key/value) in the store. */
#ifndef IOTCORED_META_H
#define IOTCORED_META_H

#include "iotcored/db.h"

/* Blocking read for init time: the integer value of `key`, or `dflt` when
 * the row is absent. Returns 0 or IC_ESTORE. */
int ic_meta_get_int(ic_db_t *db, const char *key, int64_t dflt, int64_t *out);
/* Blocking read for init time: the text of `key` into out (cap bytes),
 * "" when absent. Returns 0 or IC_ESTORE. */
int ic_meta_get_text(ic_db_t *db, const char *key, char *out, size_t cap);
/* Queue an upsert of key = value; cb as for ic_db_exec. */
int ic_meta_set(ic_db_t *db, const char *key, const char *value,
                ic_db_done_cb cb, void *data);

#endif
