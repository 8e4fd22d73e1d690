/* notify.h - systemd readiness notification without libsystemd. */
#ifndef IOTCORED_NOTIFY_H
#define IOTCORED_NOTIFY_H

/* Send `state` (e.g. "READY=1") as one datagram to $NOTIFY_SOCKET (a path,
 * or '@' for the abstract namespace). Returns 0, also when the variable is
 * unset; a negative errno if the send failed. */
int ic_notify(const char *state);

#endif
