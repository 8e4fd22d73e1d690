/* topic.h - MQTT topic names and filters with AWS IoT Core's rules.
 *
 * Pure functions. AWS differences from MQTT (dataplane spec 5.11):
 *   - size <= max_bytes (256) and <= max_slashes (7) '/' characters; the
 *     Basic Ingest prefix `$aws/rules/<rule>/` and the shared prefix
 *     `$share/<name>/` do not count toward either limit;
 *   - `sensor/#` does not match `sensor` (hash_matches_parent = false);
 *     the strict-MQTT profile sets it true.
 * Both profiles: filters starting with a wildcard never match `$` topics
 * [MQTT-4.7.2-1]. UTF-8 validity is the codec's job, not checked here.
 */
#ifndef IOTCORED_TOPIC_H
#define IOTCORED_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ic_topic_limits_s {
    size_t max_bytes; /* 256 for AWS */
    int max_slashes;  /* 7 for AWS */
} ic_topic_limits_t;

/* A topic name for PUBLISH: non-empty, no '+' or '#', within limits (after
 * removing a Basic Ingest prefix). Returns 0, IC_EINVAL (bad form) or
 * IC_ETOOBIG (over a limit); *why (may be NULL) names the rule. */
int ic_topic_check_name(const char *t, size_t len, const ic_topic_limits_t *lim,
                        const char **why);

/* A topic filter (without any $share prefix): non-empty; '#' only as the
 * whole last level; '+' only as a whole level; within limits. Returns 0,
 * IC_EINVAL or IC_ETOOBIG; *why names the rule. */
int ic_topic_check_filter(const char *f, size_t len,
                          const ic_topic_limits_t *lim, const char **why);

/* Split `$share/<name>/<filter>`. Returns 1 and sets the views when f is a
 * shared subscription, 0 when it is not (views untouched), IC_EINVAL when it
 * starts with `$share/` but is malformed (empty or over-128-byte name, name
 * containing '+', '#' or '/', empty filter). */
int ic_topic_split_share(const char *f, size_t len, const char **name,
                         size_t *name_len, const char **filter,
                         size_t *filter_len);

/* Split a Basic Ingest topic `$aws/rules/<rule>[/<rest>]`. Returns 1 and
 * sets the views when t is one (rest may be empty), 0 otherwise, IC_EINVAL
 * for `$aws/rules/` with an empty rule name. */
int ic_topic_split_ingest(const char *t, size_t len, const char **rule,
                          size_t *rule_len, const char **rest,
                          size_t *rest_len);

/* Whether filter matches topic. The reference matcher: the trie must agree
 * with it (differential test). */
bool ic_topic_matches(const char *filter, size_t flen, const char *topic,
                      size_t tlen, bool hash_matches_parent);

static inline bool ic_topic_is_reserved(const char *t, size_t len) {
    return len > 0 && t[0] == '$';
}

#endif
