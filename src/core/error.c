/* error.c - text and names for IC_E* codes.
 *
 * Owns nothing but two lookup tables. Negative errno values defer to the C
 * library for their text; names for the errno values the broker meets are
 * listed here so log lines carry stable symbols.
 */
#include "iotcored/error.h"

#include <string.h>

static const struct {
    int rc;
    const char *name;
    const char *text;
} project_errors[] = {
    {IC_EMALFORMED, "EMALFORMED", "malformed input"},
    {IC_EPROTO, "EPROTO", "protocol violation"},
    {IC_EDENIED, "EDENIED", "not authorized"},
    {IC_ENOTFOUND, "ENOTFOUND", "not found"},
    {IC_ECONFLICT, "ECONFLICT", "version conflict"},
    {IC_ETOOBIG, "ETOOBIG", "size limit exceeded"},
    {IC_ECONFIG, "ECONFIG", "invalid configuration"},
    {IC_ESTORE, "ESTORE", "store failure"},
    {IC_ECLOSED, "ECLOSED", "closed"},
    {IC_ELIMIT, "ELIMIT", "limit exceeded"},
};

static const struct {
    int err;
    const char *name;
} errno_names[] = {
    {ENOMEM, "ENOMEM"}, {EINVAL, "EINVAL"}, {EAGAIN, "EAGAIN"},
    {EIO, "EIO"}, {ENOENT, "ENOENT"}, {EEXIST, "EEXIST"},
    {EBUSY, "EBUSY"}, {ERANGE, "ERANGE"}, {EACCES, "EACCES"},
    {EPERM, "EPERM"}, {EADDRINUSE, "EADDRINUSE"},
    {EADDRNOTAVAIL, "EADDRNOTAVAIL"}, {ECONNRESET, "ECONNRESET"},
    {EPIPE, "EPIPE"}, {ETIMEDOUT, "ETIMEDOUT"}, {ECANCELED, "ECANCELED"},
    {ENOSPC, "ENOSPC"}, {EMFILE, "EMFILE"}, {ENFILE, "ENFILE"},
    {ENOTCONN, "ENOTCONN"}, {ECONNREFUSED, "ECONNREFUSED"},
    {ENOTDIR, "ENOTDIR"}, {EISDIR, "EISDIR"}, {EROFS, "EROFS"},
    {ENOBUFS, "ENOBUFS"}, {EAFNOSUPPORT, "EAFNOSUPPORT"},
};

const char *ic_strerror(int rc) {
    size_t i;
    if (rc == 0)
        return "success";
    for (i = 0; i < sizeof(project_errors) / sizeof(project_errors[0]); i++)
        if (project_errors[i].rc == rc)
            return project_errors[i].text;
    if (rc < 0 && rc > IC__EBASE)
        return strerror(-rc);
    return "unknown error";
}

const char *ic_errname(int rc) {
    size_t i;
    if (rc == 0)
        return "OK";
    for (i = 0; i < sizeof(project_errors) / sizeof(project_errors[0]); i++)
        if (project_errors[i].rc == rc)
            return project_errors[i].name;
    for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
        if (-errno_names[i].err == rc)
            return errno_names[i].name;
    return "EUNKNOWN";
}
