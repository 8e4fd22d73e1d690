/* topic.c - topic name and filter rules: MQTT 5 section 4.7 with AWS IoT
 * Core's size and depth limits, $share and Basic Ingest splitting, and the
 * reference matcher.
 *
 * Single job: say whether bytes form a valid topic name or filter, split the
 * two reserved prefixes, and decide whether one filter matches one topic. It
 * owns nothing: every function is pure over caller-owned bytes, allocates
 * nothing and keeps no state (STYLE P2), so it is safe from any thread. It
 * must not decide what an invalid topic costs the client (proto.c maps the
 * result to a reason code), must not check UTF-8 or U+0000 (the codec does,
 * [MQTT-1.5.4-1..2]), and must not index subscriptions (trie.c does).
 *
 * ic_topic_matches is the reference matcher: deliberately a plain level by
 * level walk with no cleverness, because the trie's differential test trusts
 * it. Spec tags use MQTT 5 numbering. References: MQTT 5.0 section 4.7 and
 * 4.8.2; AWS IoT Core "Topics" and "Quotas" pages (topic size, slashes,
 * Basic Ingest, shared subscriptions).
 */
#include "iotcored/topic.h"

#include "iotcored/error.h"

#include <string.h>

#define SHARE_PREFIX "$share/"
#define SHARE_PREFIX_LEN (sizeof(SHARE_PREFIX) - 1)
#define INGEST_PREFIX "$aws/rules/"
#define INGEST_PREFIX_LEN (sizeof(INGEST_PREFIX) - 1)
#define SHARE_NAME_MAX 128 /* bytes; AWS: shared subscriptions */

static int fail(const char **why, const char *rule, int rc) {
    if (why != NULL)
        *why = rule;
    return rc;
}

static bool has_prefix(const char *s, size_t len, const char *p, size_t plen) {
    return len >= plen && memcmp(s, p, plen) == 0;
}

/* End (exclusive) of the level starting at `at`. */
static size_t level_end(const char *s, size_t len, size_t at) {
    while (at < len && s[at] != '/')
        at++;
    return at;
}

static bool is_level(const char *s, size_t at, size_t end, char c) {
    return end - at == 1 && s[at] == c;
}

/* AWS: quotas "topic size" and "maximum number of slashes". The caller has
 * already cut off any prefix that does not count. */
static int check_limits(const char *t, size_t len,
                        const ic_topic_limits_t *lim, const char **why) {
    size_t i;
    int slashes = 0;
    if (len > lim->max_bytes)
        return fail(why, "topic longer than max_topic_length", IC_ETOOBIG);
    for (i = 0; i < len; i++)
        if (t[i] == '/' && ++slashes > lim->max_slashes)
            return fail(why, "more '/' than max_topic_slashes", IC_ETOOBIG);
    return 0;
}

/* The part of t that the AWS limits apply to. */
static void counted_part(const char *t, size_t len, const char **part,
                         size_t *part_len) {
    const char *rule, *rest;
    size_t rule_len, rest_len;
    /* AWS: "$aws/rules/<rule>/" does not count toward size or slashes */
    if (ic_topic_split_ingest(t, len, &rule, &rule_len, &rest, &rest_len) ==
        1) {
        *part = rest;
        *part_len = rest_len;
    } else {
        *part = t;
        *part_len = len;
    }
}

int ic_topic_check_name(const char *t, size_t len, const ic_topic_limits_t *lim,
                        const char **why) {
    const char *rule, *rest, *part;
    size_t rule_len, rest_len, part_len, i;
    if (len == 0) /* [MQTT-4.7.3-1] */
        return fail(why, "empty topic name", IC_EINVAL);
    for (i = 0; i < len; i++)
        if (t[i] == '+' || t[i] == '#') /* [MQTT-4.7.0-1] [MQTT-3.3.2-2] */
            return fail(why, "wildcard in topic name", IC_EINVAL);
    if (ic_topic_split_ingest(t, len, &rule, &rule_len, &rest, &rest_len) < 0)
        return fail(why, "empty rule name in Basic Ingest topic", IC_EINVAL);
    counted_part(t, len, &part, &part_len);
    return check_limits(part, part_len, lim, why);
}

int ic_topic_check_filter(const char *f, size_t len,
                          const ic_topic_limits_t *lim, const char **why) {
    const char *part;
    size_t part_len, at = 0, end;
    if (len == 0) /* [MQTT-4.7.3-1] */
        return fail(why, "empty topic filter", IC_EINVAL);
    for (;;) {
        end = level_end(f, len, at);
        if (memchr(f + at, '#', end - at) != NULL &&
            !(is_level(f, at, end, '#') && end == len)) /* [MQTT-4.7.1-1] */
            return fail(why, "'#' must be the whole last level", IC_EINVAL);
        if (memchr(f + at, '+', end - at) != NULL &&
            !is_level(f, at, end, '+')) /* [MQTT-4.7.1-2] */
            return fail(why, "'+' must be a whole level", IC_EINVAL);
        if (end == len)
            break;
        at = end + 1;
    }
    /* A filter may name the ingest prefix too; proto.c refuses it later,
     * but the limits are measured the same way as for names. */
    counted_part(f, len, &part, &part_len);
    return check_limits(part, part_len, lim, why);
}

int ic_topic_split_share(const char *f, size_t len, const char **name,
                         size_t *name_len, const char **filter,
                         size_t *filter_len) {
    size_t at = SHARE_PREFIX_LEN, end;
    if (!has_prefix(f, len, SHARE_PREFIX, SHARE_PREFIX_LEN))
        return 0;
    end = level_end(f, len, at);
    /* [MQTT-4.8.2-1] non-empty name; AWS: at most 128 bytes */
    if (end == at || end - at > SHARE_NAME_MAX)
        return IC_EINVAL;
    /* [MQTT-4.8.2-2] no '+' or '#' in the name ('/' ends it) ... */
    if (memchr(f + at, '+', end - at) != NULL ||
        memchr(f + at, '#', end - at) != NULL)
        return IC_EINVAL;
    /* ... and it is followed by '/' and a topic filter */
    if (end == len || end + 1 == len)
        return IC_EINVAL;
    *name = f + at;
    *name_len = end - at;
    *filter = f + end + 1;
    *filter_len = len - end - 1;
    return 1;
}

int ic_topic_split_ingest(const char *t, size_t len, const char **rule,
                          size_t *rule_len, const char **rest,
                          size_t *rest_len) {
    size_t at = INGEST_PREFIX_LEN, end;
    /* AWS: Basic Ingest, "$aws/rules/<rule>/<topic>" */
    if (!has_prefix(t, len, INGEST_PREFIX, INGEST_PREFIX_LEN))
        return 0;
    end = level_end(t, len, at);
    if (end == at)
        return IC_EINVAL;
    *rule = t + at;
    *rule_len = end - at;
    *rest = end < len ? t + end + 1 : t + len;
    *rest_len = end < len ? len - end - 1 : 0;
    return 1;
}

bool ic_topic_matches(const char *filter, size_t flen, const char *topic,
                      size_t tlen, bool hash_matches_parent) {
    size_t fi = 0, ti = 0, fe, te;
    fe = level_end(filter, flen, 0);
    /* [MQTT-4.7.2-1] a wildcard first level never matches a '$' topic */
    if (ic_topic_is_reserved(topic, tlen) &&
        (is_level(filter, 0, fe, '+') || is_level(filter, 0, fe, '#')))
        return false;
    for (;;) {
        fe = level_end(filter, flen, fi);
        te = level_end(topic, tlen, ti);
        /* [MQTT-4.7.1-1] '#' takes this level and every level below */
        if (is_level(filter, fi, fe, '#'))
            return true;
        /* [MQTT-4.7.1-2] '+' takes exactly one level, even an empty one;
         * anything else must be equal byte for byte [MQTT-4.7.3-4] */
        if (!is_level(filter, fi, fe, '+') &&
            (fe - fi != te - ti ||
             memcmp(filter + fi, topic + ti, fe - fi) != 0))
            return false;
        if (fe == flen && te == tlen)
            return true;
        if (fe == flen)
            return false; /* the topic is deeper than the filter */
        if (te == tlen) {
            /* The filter is deeper. Only "<parent>/#" can still match:
             * MQTT says '#' includes the parent level [MQTT-4.7.1-1].
             * AWS: "sensor/#" does not match "sensor". */
            return hash_matches_parent && flen - fe == 2 &&
                   filter[fe + 1] == '#';
        }
        fi = fe + 1;
        ti = te + 1;
    }
}
