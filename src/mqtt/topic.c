/* topic.c - topic name and filter rules (MQTT 4.7 with AWS IoT limits).
 *
 * Pure functions over caller-owned bytes; nothing here allocates or keeps
 * state. It must not decide what happens to an invalid topic (proto.c maps
 * the result to a reason code) and does not check UTF-8 (the codec does).
 */
#include "iotcored/topic.h"

#include "iotcored/error.h"

#include <string.h>

#define SHARE_PREFIX "$share/"
#define INGEST_PREFIX "$aws/rules/"
#define SHARE_NAME_MAX 128

static int check_limits(const char *t, size_t len, const ic_topic_limits_t *lim,
                        const char **why) {
    size_t i;
    int slashes = 0;
    if (len > lim->max_bytes) {
        if (why)
            *why = "topic longer than max_topic_length";
        return IC_ETOOBIG;
    }
    for (i = 0; i < len; i++)
        if (t[i] == '/')
            slashes++;
    if (slashes > lim->max_slashes) {
        if (why)
            *why = "more '/' in topic than max_topic_slashes";
        return IC_ETOOBIG;
    }
    return 0;
}

int ic_topic_split_ingest(const char *t, size_t len, const char **rule,
                          size_t *rule_len, const char **rest,
                          size_t *rest_len) {
    size_t plen = sizeof(INGEST_PREFIX) - 1, i;
    if (len < plen || memcmp(t, INGEST_PREFIX, plen) != 0)
        return 0;
    for (i = plen; i < len && t[i] != '/'; i++)
        ;
    if (i == plen)
        return IC_EINVAL;
    *rule = t + plen;
    *rule_len = i - plen;
    *rest = i < len ? t + i + 1 : t + len;
    *rest_len = i < len ? len - i - 1 : 0;
    return 1;
}

int ic_topic_check_name(const char *t, size_t len, const ic_topic_limits_t *lim,
                        const char **why) {
    const char *rule, *rest;
    size_t rule_len, rest_len, i;
    int rc;
    if (len == 0) {
        if (why)
            *why = "empty topic";
        return IC_EINVAL;
    }
    for (i = 0; i < len; i++) {
        if (t[i] == '+' || t[i] == '#') { /* [MQTT-3.3.2-2] */
            if (why)
                *why = "wildcard in topic name";
            return IC_EINVAL;
        }
    }
    rc = ic_topic_split_ingest(t, len, &rule, &rule_len, &rest, &rest_len);
    if (rc < 0) {
        if (why)
            *why = "empty rule name in Basic Ingest topic";
        return IC_EINVAL;
    }
    if (rc == 1) /* AWS: the $aws/rules/<rule>/ prefix does not count */
        return check_limits(rest, rest_len, lim, why);
    return check_limits(t, len, lim, why);
}

int ic_topic_check_filter(const char *f, size_t len,
                          const ic_topic_limits_t *lim, const char **why) {
    size_t i;
    if (len == 0) {
        if (why)
            *why = "empty topic filter"; /* [MQTT-4.7.3-1] */
        return IC_EINVAL;
    }
    for (i = 0; i < len; i++) {
        bool starts = i == 0 || f[i - 1] == '/';
        bool ends = i + 1 == len || f[i + 1] == '/';
        if (f[i] == '+' && !(starts && ends)) { /* [MQTT-4.7.1-2] */
            if (why)
                *why = "'+' must occupy a whole level";
            return IC_EINVAL;
        }
        if (f[i] == '#' && !(starts && i + 1 == len)) { /* [MQTT-4.7.1-1] */
            if (why)
                *why = "'#' must be the whole last level";
            return IC_EINVAL;
        }
    }
    return check_limits(f, len, lim, why);
}

int ic_topic_split_share(const char *f, size_t len, const char **name,
                         size_t *name_len, const char **filter,
                         size_t *filter_len) {
    size_t plen = sizeof(SHARE_PREFIX) - 1, i;
    if (len < plen || memcmp(f, SHARE_PREFIX, plen) != 0)
        return 0;
    for (i = plen; i < len && f[i] != '/'; i++)
        if (f[i] == '+' || f[i] == '#')
            return IC_EINVAL;
    /* AWS 5.8: name non-empty, <= 128, then '/' and a non-empty filter */
    if (i == plen || i - plen > SHARE_NAME_MAX || i + 1 >= len)
        return IC_EINVAL;
    *name = f + plen;
    *name_len = i - plen;
    *filter = f + i + 1;
    *filter_len = len - i - 1;
    return 1;
}

bool ic_topic_matches(const char *filter, size_t flen, const char *topic,
                      size_t tlen, bool hash_matches_parent) {
    size_t fi = 0, ti = 0;
    /* [MQTT-4.7.2-1] wildcard-first filters never match $ topics */
    if (tlen > 0 && topic[0] == '$' && flen > 0 &&
        (filter[0] == '+' || filter[0] == '#'))
        return false;
    for (;;) {
        size_t fe = fi, te = ti;
        while (fe < flen && filter[fe] != '/')
            fe++;
        if (fe - fi == 1 && filter[fi] == '#')
            return true; /* matches this level and everything below */
        while (te < tlen && topic[te] != '/')
            te++;
        if (ti > tlen)
            return false; /* topic ran out of levels */
        if (!(fe - fi == 1 && filter[fi] == '+') &&
            (fe - fi != te - ti || memcmp(filter + fi, topic + ti, fe - fi) != 0))
            return false;
        /* both at end? */
        if (fe >= flen && te >= tlen)
            return true;
        if (fe >= flen)
            return false; /* filter done, topic has more levels */
        if (te >= tlen) {
            /* topic done, filter has more: only a parent match via "/#" */
            return hash_matches_parent && flen - fe == 2 && filter[fe + 1] == '#';
        }
        fi = fe + 1;
        ti = te + 1;
    }
}
