/* trie.h - the subscription trie.
 *
 *   root ──"sensor"──┬──"+"──"temp"   {subs: [s1 q1], groups: []}
 *                    ├──"#"           {subs: [s2 q0]}
 *                    └──"a"──...
 *   Each node: children in a hash keyed by level text, with '+' and '#'
 *   children held apart; a list of direct subscribers (owner, opts) and a
 *   list of shared groups ($share/<name>/...), each with its members and a
 *   round-robin cursor.
 *
 * Owners are opaque pointers (sessions); the trie never dereferences them.
 * One owner holds at most one subscription per (filter, share name): a
 * second insert replaces its options. Nodes left without subscribers or
 * children are freed on remove. Filters must already be valid
 * (ic_topic_check_filter); the trie does not re-validate.
 * Pure data structure: no loop, no I/O; match does not allocate.
 */
#ifndef IOTCORED_TRIE_H
#define IOTCORED_TRIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ic_trie_s ic_trie_t;
typedef struct ic_trie_group_s ic_trie_group_t;

/* Called by ic_trie_match per matching direct subscription. */
typedef void (*ic_trie_sub_cb)(void *owner, uint8_t opts, void *data);
/* Called by ic_trie_match per matching shared group (once per group even if
 * the group has many members). */
typedef void (*ic_trie_group_cb)(ic_trie_group_t *g, void *data);

/* hash_matches_parent: false = AWS (`a/#` does not match `a`), true = MQTT. */
ic_trie_t *ic_trie_new(bool hash_matches_parent);
void ic_trie_free(ic_trie_t *t); /* accepts NULL */

/* Add or update (owner, filter[, share]). share may be NULL (share_len 0)
 * for a plain subscription. Returns 1 when added, 0 when the existing
 * subscription's opts were replaced. filter is copied. */
int ic_trie_insert(ic_trie_t *t, const char *filter, size_t len,
                   const char *share, size_t share_len, void *owner,
                   uint8_t opts);
/* Remove (owner, filter[, share]). Returns 0 or IC_ENOENT. */
int ic_trie_remove(ic_trie_t *t, const char *filter, size_t len,
                   const char *share, size_t share_len, void *owner);

/* Visit every subscription matching topic. A topic starting with '$' is
 * not matched by filters whose first level is '+' or '#'. Callbacks must
 * not modify the trie. */
void ic_trie_match(ic_trie_t *t, const char *topic, size_t len,
                   ic_trie_sub_cb sub_cb, ic_trie_group_cb group_cb,
                   void *data);

/* Shared group access (valid during the group callback). */
size_t ic_trie_group_size(const ic_trie_group_t *g);
void *ic_trie_group_member(const ic_trie_group_t *g, size_t i, uint8_t *opts);
/* Round-robin cursor owned by the group; the caller advances it. */
size_t *ic_trie_group_cursor(ic_trie_group_t *g);
const char *ic_trie_group_name(const ic_trie_group_t *g, size_t *len);

/* Subscriptions stored (direct + shared members). */
size_t ic_trie_count(const ic_trie_t *t);
/* Invariant checker (counts, parent links, no empty leaf nodes, hash
 * consistency). Returns true when sound. For assert() and tests. */
bool ic_trie_check(const ic_trie_t *t);

#endif
