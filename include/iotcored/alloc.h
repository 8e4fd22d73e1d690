/* alloc.h - allocation that never returns NULL.
 *
 * Every peer-controlled size is checked against a configured limit before it
 * reaches these functions (STYLE 3.7), so running out of memory is a local
 * fault: the process logs one line and aborts. A test hook can make the next
 * allocations fail to exercise that path.
 */
#ifndef IOTCORED_ALLOC_H
#define IOTCORED_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *ic_xmalloc(size_t n);
void *ic_xcalloc(size_t count, size_t size);
void *ic_xrealloc(void *p, size_t n);
char *ic_xstrdup(const char *s);
char *ic_xstrndup(const char *s, size_t n); /* result NUL-terminated */
void *ic_xmemdup(const void *p, size_t n);

/* Allocation calls made so far (all threads); for tests and stats. */
uint64_t ic_alloc_count(void);

/* Test hook: after `n` more successful allocations, the next one fails as if
 * the system were out of memory (and so aborts). Negative disables. */
void ic_alloc_fail_after(long n);

#endif
