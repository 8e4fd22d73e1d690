/* migrate.h - ordered schema steps keyed on PRAGMA user_version. */
#ifndef IOTCORED_MIGRATE_H
#define IOTCORED_MIGRATE_H

#include <stddef.h>

struct sqlite3;

/* Highest schema version this build knows. */
int ic_migrate_latest(void);

/* Bring db up to ic_migrate_latest(), one transaction per step. A database
 * newer than this build is refused. Returns 0 or IC_ESTORE (message in err). */
int ic_migrate_apply(struct sqlite3 *db, char *err, size_t errlen);

#endif
