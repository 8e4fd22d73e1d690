/* config_table.c - the directive table.
 *
 * One row per directive: the single place a directive is declared. The
 * parser, --dump-config, SIGHUP reload and the doc-drift test all walk it.
 * It holds data only; parsing lives in config.c.
 */
#include "iotcored/config.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

static const char *const log_levels[] = {"debug", "info", "notice", "warning",
                                         "error", NULL};
static const char *const sync_modes[] = {"normal", "full", NULL};

static const char *check_account_id(const char *v) {
    size_t i;
    for (i = 0; v[i]; i++)
        if (!isdigit((unsigned char)v[i]))
            break;
    return (i == 12 && v[i] == '\0') ? NULL : "must be 12 digits";
}

static const char *check_region(const char *v) {
    size_t i;
    if (v[0] == '\0')
        return "must not be empty";
    for (i = 0; v[i]; i++)
        if (!islower((unsigned char)v[i]) && !isdigit((unsigned char)v[i]) &&
            v[i] != '-')
            return "must contain only a-z, 0-9 and '-'";
    return NULL;
}

static const char *check_nonempty(const char *v) {
    return v[0] ? NULL : "must not be empty";
}

#define G(f) IC_CFG_GLOBAL, offsetof(ic_config_t, f)
#define L(f) IC_CFG_LISTENER, offsetof(ic_listener_conf_t, f)

static const ic_directive_t directives[] = {
    /* General */
    {"include", IC_CFG_GLOBAL, 0, IC_CFG_INCLUDE, 0, 0, NULL, false, NULL, NULL,
     "read another config file at this point (relative to this file)"},
    {"data_dir", G(data_dir), IC_CFG_PATH, 0, 0, "/var/lib/iotcored", false,
     NULL, check_nonempty, "directory holding the SQLite database iotcored.db"},
    {"log_level", G(log_level), IC_CFG_ENUM, 0, 0, "info", true, log_levels,
     NULL, "lowest level logged: debug, info, notice, warning, error"},
    {"log_file", G(log_file), IC_CFG_PATH, 0, 0, "", true, NULL, NULL,
     "append log lines to this file instead of stderr; reopened on SIGHUP"},
    {"ready_file", G(ready_file), IC_CFG_PATH, 0, 0, "", false, NULL, NULL,
     "write `NAME PORT` per listener here once all are bound"},
    {"account_id", G(account_id), IC_CFG_STRING, 0, 0, "123456789012", false,
     NULL, check_account_id, "AWS account ID used in ARNs"},
    {"region", G(region), IC_CFG_STRING, 0, 0, "us-east-1", false, NULL,
     check_region, "AWS region used in ARNs and endpoint names"},
    /* Store */
    {"persistence_sync", G(persistence_sync), IC_CFG_ENUM, 0, 0, "normal",
     false, sync_modes, NULL,
     "SQLite durability: normal survives a crash, full also a power loss"},
    /* Listeners */
    {"listener", IC_CFG_GLOBAL, 0, IC_CFG_BLOCK, 0, 0, NULL, false, NULL, NULL,
     "open a listener block named NAME"},
    {"bind", L(bind), IC_CFG_STRING, 0, 0, "0.0.0.0", false, NULL,
     check_nonempty, "IPv4 or IPv6 address the listener binds"},
    {"port", L(port), IC_CFG_INT, 0, 65535, "8883", false, NULL, NULL,
     "TCP port; 0 picks a free one (see ready_file)"},
};

const ic_directive_t *ic_config_directives(size_t *n) {
    *n = sizeof(directives) / sizeof(directives[0]);
    return directives;
}

const ic_directive_t *ic_config_find(const char *name) {
    size_t i;
    for (i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
        if (strcmp(directives[i].name, name) == 0)
            return &directives[i];
    return NULL;
}
