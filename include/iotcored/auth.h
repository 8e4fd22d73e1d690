/* auth.h - authorization of a connection's actions by the IoT policies in
 * effect for its principal (aws-iot-auth.md 1-3, 4.7).
 *
 * ic_auth_t holds the compiled policies (the store's documents, compiled
 * once per version) and answers "may this connection do this action on this
 * resource". A connection's context (ic_auth_conn_t) knows its principal
 * (certificate ID, or the listener's anonymous policy), client ID, source
 * address, SNI, and the thing it is associated with; it caches decisions
 * per (action, resource) so the publish path costs a hash lookup. Any
 * change to policies, attachments, things or groups invalidates every
 * cache at once (generation counters). Every denial is logged with the
 * reason (or, in audit mode, allowed and logged as "would deny"). Loop
 * thread only.
 */
#ifndef IOTCORED_AUTH_H
#define IOTCORED_AUTH_H

#include "iotcored/policies.h"
#include "iotcored/policy.h"
#include "iotcored/registry.h"
#include "iotcored/things.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct ic_auth_s ic_auth_t;
typedef struct ic_auth_conn_s ic_auth_conn_t;

typedef enum { IC_POLICY_ENFORCE = 0, IC_POLICY_AUDIT = 1 } ic_policy_mode_t;

typedef enum {
    IC_ACT_CONNECT = 0,  /* iot:Connect, client/<client id> */
    IC_ACT_PUBLISH,      /* iot:Publish, topic/<topic> */
    IC_ACT_RETAIN,       /* iot:RetainPublish, topic/<topic> */
    IC_ACT_SUBSCRIBE,    /* iot:Subscribe, topicfilter/<filter as sent> */
    IC_ACT_RECEIVE,      /* iot:Receive, topic/<topic> */
    IC_ACT_GET_SHADOW,   /* iot:GetThingShadow, thing/<thing> (REST) */
    IC_ACT_UPDATE_SHADOW,/* iot:UpdateThingShadow, thing/<thing> */
    IC_ACT_DELETE_SHADOW,/* iot:DeleteThingShadow, thing/<thing> */
    IC_ACT_LIST_SHADOWS, /* iot:ListNamedShadowsForThing, thing/<thing> */
    IC_ACT_DELETE_CONNECTION, /* iot:DeleteConnection, client/<client id> */
    IC_ACT_GET_RETAINED, /* iot:GetRetainedMessage, topic/<topic> */
    IC_ACT_LIST_RETAINED,/* iot:ListRetainedMessages, topic/<name> ("*") */
    IC_ACT_COUNT
} ic_auth_action_t;

/* What CONNECT adds to the context of iot:Connect. */
typedef struct ic_auth_connect_s {
    bool persistent;         /* iot:ConnectAttributes PersistentConnect */
    bool has_will;           /* ... LastWill */
    const char *will_topic;  /* iot:LastWillTopic (as a topic ARN) */
    size_t will_topic_len;
} ic_auth_connect_t;

/* All borrowed for the life of the ic_auth_t. */
ic_auth_t *ic_auth_new(ic_registry_t *reg, ic_things_t *things,
                       ic_policies_t *policies, const char *region,
                       const char *account);
void ic_auth_free(ic_auth_t *a);
void ic_auth_set_mode(ic_auth_t *a, ic_policy_mode_t mode);
/* Authorization decisions that denied (in audit mode: would have). */
uint64_t ic_auth_denials(const ic_auth_t *a);
/* Changes whenever policies, attachments, things or groups change. */
uint64_t ic_auth_epoch(ic_auth_t *a);

/* A connection's context. cert_id: the certificate principal, or NULL;
 * client_id NULL: an HTTPS caller, which has no client ID and no
 * iot:Connection.Thing.* (aws-iot-auth.md 5.1);
 * anon_policy: the listener's policy (listener_policy), in effect in
 * addition to the principal's (NULL or "" = none). Strings copied. */
ic_auth_conn_t *ic_auth_conn_new(ic_auth_t *a, const char *cert_id,
                                 const char *anon_policy, const char *client_id,
                                 const char *source_ip, const char *sni);
void ic_auth_conn_free(ic_auth_conn_t *c);
/* Make the policy documents a custom authorizer returned (docs[0..n),
 * JSON texts, borrowed; compiled and kept by c) the connection's policy
 * set, in place of the policies attached to its principal; the listener's
 * policy (anon_policy) still applies in addition. principal_id (borrowed;
 * may be NULL) names the documents in denial log lines
 * ("customauth:<principal>#<i>"). Calling it again (a refresh) replaces
 * the documents; either way the connection's cached decisions are
 * dropped. n == 0 is valid: authenticated, allowed nothing. Returns 0, or,
 * with nothing changed: IC_EMALFORMED when a document does not compile
 * (why: "policy document 1: Policy document is malformed: ..."),
 * IC_ETOOBIG when n > 63. why may be NULL. */
int ic_auth_conn_set_inline(ic_auth_conn_t *c, const char *principal_id,
                            const char *const *docs, size_t n, char *why,
                            size_t whylen);
/* The thing the connection is associated with (aws-iot-auth.md 4.7: the
 * client ID names a thing the certificate is attached to, or the
 * certificate is exclusively attached to one thing), or NULL. */
const char *ic_auth_conn_thing(ic_auth_t *a, ic_auth_conn_t *c);

/* May c do act on name[0..len)? cx only for IC_ACT_CONNECT (may be NULL).
 * A denial is logged (info) with client ID, principal, action, resource
 * and reason; in audit mode it is logged as "would deny" and allowed. */
bool ic_auth_allow(ic_auth_t *a, ic_auth_conn_t *c, ic_auth_action_t act,
                   const char *name, size_t len, const ic_auth_connect_t *cx);

/* ---- for the control plane (TestAuthorization, GetEffectivePolicies) ---- */

typedef struct ic_auth_test_s {
    const char *cert_id;          /* principal, or NULL */
    const char *client_id;        /* NULL = unknown (variables unresolved) */
    const char *thing_name;       /* NULL = from the client ID */
    const char *const *add;       /* policyNamesToAdd */
    size_t n_add;
    const char *const *skip;      /* policyNamesToSkip */
    size_t n_skip;
} ic_auth_test_t;

/* Decide (action, resource ARN) for a synthetic principal. why and the
 * deciding policy's name (into policy, "" if none) are filled. Returns the
 * decision; missing (out, may be NULL) gets unresolved variable names. */
ic_authz_t ic_auth_test(ic_auth_t *a, const ic_auth_test_t *t,
                        const char *action, const char *resource,
                        ic_policy_why_t *why, char *policy, size_t policy_cap);
/* Names of the policies in effect for a principal (cert attached +
 * inherited through the thing's groups), up to cap; returns the total. */
size_t ic_auth_effective(ic_auth_t *a, const char *cert_id,
                         const char *thing_name, const char **out, size_t cap);

#endif
