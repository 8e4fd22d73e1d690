/* router.h - the publish path and the subscription index.
 *
 * ic_router_publish: retain update, trie match, per-session dedupe of
 * overlapping filters, shared-group member choice, no-local, QoS
 * downgrade, then hand-off to each session's delivery. Reserved-topic
 * services will register here too, so policy, retain and delivery keep one
 * code path. Loop thread only.
 */
#ifndef IOTCORED_ROUTER_H
#define IOTCORED_ROUTER_H

#include "iotcored/msg.h"
#include "iotcored/profile.h"
#include "iotcored/retain.h"
#include "iotcored/session.h"

typedef struct ic_router_s ic_router_t;

/* Borrow p, ss, rt for the router's life. */
ic_router_t *ic_router_new(const ic_profile_t *p, ic_sessions_t *ss,
                           ic_retain_t *rt);
void ic_router_free(ic_router_t *r);

/* Subscribe s to filter (as sent, `$share/...` included; already
 * validated). Records it in the session and the index. Returns 1 added,
 * 0 replaced (options updated). */
int ic_router_subscribe(ic_router_t *r, ic_session_t *s, const char *filter,
                        size_t len, uint8_t opts);
/* Returns 0 or IC_ENOENT. */
int ic_router_unsubscribe(ic_router_t *r, ic_session_t *s, const char *filter,
                          size_t len);
/* Index a subscription already recorded in s (start-up load). */
void ic_router_index(ic_router_t *r, ic_session_t *s, const ic_sub_rec_t *rec);
/* Remove all of s's subscriptions from the index (session ending). */
void ic_router_forget(ic_router_t *r, ic_session_t *s);

/* Route m (m->origin: publishing session or NULL). Takes no reference; the
 * sessions take their own. */
void ic_router_publish(ic_router_t *r, ic_msg_t *m, int64_t now_ms);

/* Send s the retained messages a new subscription is owed (AWS: only the
 * one whose topic equals the filter; none for shared subscriptions), with
 * RETAIN=1, honouring retain handling (rh) and QoS. */
void ic_router_send_retained(ic_router_t *r, ic_session_t *s,
                             const char *filter, size_t len, uint8_t opts,
                             int64_t now_ms);

/* Whether a retained publish to topic fits under max_retained_messages
 * (replacing an existing one always does). */
/* A reserved-topic service (the Device Shadow): called with every message
 * published to `$aws/things/...`, after it has been delivered to
 * subscribers; the service may publish its answers through the router
 * from inside the call. One service; fn NULL removes it. */
typedef void (*ic_router_service_fn)(ic_msg_t *m, int64_t now_ms, void *data);
void ic_router_set_service(ic_router_t *r, ic_router_service_fn fn, void *data);
/* The rules tap (the Rules Engine): called with every message published,
 * after its delivery (ingest_rule NULL), and with every Basic Ingest
 * message, which reaches no subscriber (ingest_rule = the rule name,
 * topic_off = where the topic the rule sees starts). fn NULL removes it. */
typedef void (*ic_router_tap_fn)(ic_msg_t *m, const char *ingest_rule,
                                 size_t rule_len, size_t topic_off,
                                 int64_t now_ms, void *data);
void ic_router_set_tap(ic_router_t *r, ic_router_tap_fn fn, void *data);
bool ic_router_can_retain(ic_router_t *r, const char *topic, size_t len);

uint64_t ic_router_routed(const ic_router_t *r);

#endif
