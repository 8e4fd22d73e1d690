/* thingdb.h - SQL for the thing registry tables (things, thing_types,
 * thing_groups, thing_group_members, thing_principals). Writes are queued;
 * the load is a blocking read for start-up and SIGHUP. */
#ifndef IOTCORED_THINGDB_H
#define IOTCORED_THINGDB_H

#include "iotcored/db.h"

#include <stdbool.h>

int ic_thingdb_put_thing(ic_db_t *db, const char *name, const char *id,
                         const char *type, const char *attributes_json,
                         int64_t version, int64_t created_ms);
int ic_thingdb_del_thing(ic_db_t *db, const char *name);
int ic_thingdb_put_type(ic_db_t *db, const char *name, const char *description,
                        bool deprecated, int64_t created_ms, const char *id,
                        const char *props, int64_t deprecated_ms);
int ic_thingdb_del_type(ic_db_t *db, const char *name);
int ic_thingdb_put_group(ic_db_t *db, const char *name, const char *parent,
                         int64_t created_ms, const char *id, const char *props,
                         int64_t version);
int ic_thingdb_del_group(ic_db_t *db, const char *name);
int ic_thingdb_put_member(ic_db_t *db, const char *group, const char *thing);
int ic_thingdb_del_member(ic_db_t *db, const char *group, const char *thing);
int ic_thingdb_put_principal(ic_db_t *db, const char *thing,
                             const char *principal, bool exclusive);
int ic_thingdb_del_principal(ic_db_t *db, const char *thing,
                             const char *principal);

typedef struct ic_thingdb_loader_s {
    void (*type)(const char *name, const char *description, bool deprecated,
                 int64_t created_ms, const char *id, const char *props,
                 int64_t deprecated_ms, void *data);
    void (*thing)(const char *name, const char *id, const char *type,
                  const char *attributes_json, int64_t version,
                  int64_t created_ms, void *data);
    void (*group)(const char *name, const char *parent, int64_t created_ms,
                  const char *id, const char *props, int64_t version,
                  void *data);
    void (*member)(const char *group, const char *thing, void *data);
    void (*principal)(const char *thing, const char *principal, bool exclusive,
                      void *data);
    void *data;
} ic_thingdb_loader_t;

/* Types, things, groups (parents first), members, principals. */
int ic_thingdb_load(ic_db_t *db, const ic_thingdb_loader_t *l);

#endif
