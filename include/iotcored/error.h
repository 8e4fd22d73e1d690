/* error.h - the project's error vocabulary.
 *
 * Every fallible function returns int: 0 on success, a negative IC_E* on
 * failure. Where an errno value fits, IC_E* is that errno negated, which is
 * also what libuv returns on Unix, so uv_* results pass through unchanged.
 * Project-specific codes live in a reserved range below IC__EBASE.
 */
#ifndef IOTCORED_ERROR_H
#define IOTCORED_ERROR_H

#include <errno.h>

#define IC_ENOMEM (-ENOMEM)
#define IC_EINVAL (-EINVAL)
#define IC_EAGAIN (-EAGAIN)   /* incremental decoder: need more input */
#define IC_EIO (-EIO)
#define IC_ENOENT (-ENOENT)
#define IC_EEXIST (-EEXIST)
#define IC_EBUSY (-EBUSY)
#define IC_ERANGE (-ERANGE)

#define IC__EBASE (-10000)
#define IC_EMALFORMED (IC__EBASE - 1) /* peer sent bytes that violate the format */
#define IC_EPROTO (IC__EBASE - 2)     /* well-formed but not allowed here */
#define IC_EDENIED (IC__EBASE - 3)    /* authorization failure */
#define IC_ENOTFOUND (IC__EBASE - 4)  /* named entity does not exist */
#define IC_ECONFLICT (IC__EBASE - 5)  /* version conflict */
#define IC_ETOOBIG (IC__EBASE - 6)    /* a size limit was exceeded */
#define IC_ECONFIG (IC__EBASE - 7)    /* configuration is invalid */
#define IC_ESTORE (IC__EBASE - 8)     /* the SQLite store failed */
#define IC_ECLOSED (IC__EBASE - 9)    /* object is closing or closed */
#define IC_ELIMIT (IC__EBASE - 10)    /* a rate or count limit was hit */
#define IC__ELAST (IC__EBASE - 10)

/* Human-readable text for rc (static storage, never NULL). */
const char *ic_strerror(int rc);
/* Symbolic name for rc, e.g. "EMALFORMED", "EADDRINUSE" (never NULL). */
const char *ic_errname(int rc);

#endif
