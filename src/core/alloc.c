/* alloc.c - the ic_xmalloc family.
 *
 * Owns the allocation counter and the fault-injection countdown. It must not
 * return NULL to callers: on failure it writes one line to stderr and aborts.
 * Thread-safe (the store writer thread allocates too): counters are atomic.
 */
#include "iotcored/alloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_uint_fast64_t n_allocs;
static atomic_long fail_countdown = -1;

static void *check(void *p, size_t n) {
    if (p == NULL && n != 0) {
        fprintf(stderr, "iotcored: out of memory allocating %zu bytes\n", n);
        abort();
    }
    return p;
}

static int should_fail(void) {
    long c = atomic_load(&fail_countdown);
    if (c < 0)
        return 0;
    if (c == 0)
        return 1;
    atomic_fetch_sub(&fail_countdown, 1);
    return 0;
}

void *ic_xmalloc(size_t n) {
    atomic_fetch_add(&n_allocs, 1);
    return check(should_fail() ? NULL : malloc(n ? n : 1), n ? n : 1);
}

void *ic_xcalloc(size_t count, size_t size) {
    atomic_fetch_add(&n_allocs, 1);
    if (count == 0 || size == 0)
        count = size = 1;
    return check(should_fail() ? NULL : calloc(count, size), count * size);
}

void *ic_xrealloc(void *p, size_t n) {
    atomic_fetch_add(&n_allocs, 1);
    return check(should_fail() ? NULL : realloc(p, n ? n : 1), n ? n : 1);
}

char *ic_xstrdup(const char *s) {
    return ic_xmemdup(s, strlen(s) + 1);
}

char *ic_xstrndup(const char *s, size_t n) {
    char *d = ic_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void *ic_xmemdup(const void *p, size_t n) {
    void *d = ic_xmalloc(n);
    if (n)
        memcpy(d, p, n);
    return d;
}

uint64_t ic_alloc_count(void) {
    return atomic_load(&n_allocs);
}

void ic_alloc_fail_after(long n) {
    atomic_store(&fail_countdown, n);
}
