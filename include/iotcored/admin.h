/* admin.h - offline administration from the command line, until the
 * control plane (and iotctl) exists: register certificates straight into
 * the store. A running broker picks them up on SIGHUP. */
#ifndef IOTCORED_ADMIN_H
#define IOTCORED_ADMIN_H

#include "iotcored/config.h"

#include <stdbool.h>
#include <stddef.h>

/* Register the PEM certificate at path: a device certificate with status
 * (ACTIVE, INACTIVE, ...) in `arg` or, with is_ca, a CA certificate
 * (ACTIVE, auto-registration enabled) whose proof of possession, when
 * `arg` names a verification certificate, is checked against the
 * registration code. Prints the certificate ID on success. Returns a
 * sysexits(3) code; errors are printed as one line. */
int ic_admin_register(const ic_config_t *cfg, const char *path, bool is_ca,
                      const char *arg);
/* Print the account's registration code (AWS GetRegistrationCode). */
int ic_admin_registration_code(const ic_config_t *cfg);

/* Create thing `name` (no type, no attributes; an existing one is kept)
 * and, when cert_path is given, attach that certificate to it
 * (non-exclusive). Prints the thing name. Returns a sysexits(3) code. */
int ic_admin_create_thing(const ic_config_t *cfg, const char *name,
                          const char *cert_path);

#endif
