/* broker.h - the assembly: loop, module table, signals.
 *
 * Modules are started in table order and stopped in reverse; a module that
 * fails to start unwinds only those already started. SIGTERM/SIGINT stop the
 * broker gracefully (exit status 0); SIGHUP re-reads the config file and
 * applies reloadable directives through the modules' reload hooks, all or
 * none.
 */
#ifndef IOTCORED_BROKER_H
#define IOTCORED_BROKER_H

#include "iotcored/config.h"

/* Run the broker until it is stopped. Takes ownership of cfg. Returns a
 * sysexits(3) code: EX_OK after a graceful stop, EX_OSERR when a module
 * could not start (the reason went to stderr and the log). */
int ic_broker_run(ic_config_t *cfg);

#endif
