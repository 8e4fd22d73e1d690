/* policy.h - the IoT policy engine: compile a policy document once, then
 * evaluate (context, action, resource) against a set of compiled policies
 * (pure, L1; aws-iot-auth.md sections 1-3).
 *
 * Evaluation is IAM's: a matching Deny wins, else a matching Allow allows,
 * else the default is an implicit deny. A statement matches when its
 * Action/NotAction matches the action (case-insensitive, `*` and `?`), its
 * Resource/NotResource matches the resource ARN after policy-variable
 * substitution (case-sensitive, `*` and `?`; MQTT `+` and `#` are literal
 * characters), and every Condition holds. A variable that cannot be
 * resolved makes the entry it is in match nothing (so an Allow using it
 * grants nothing and a Deny using it denies nothing), as the spec
 * recommends; the evaluation reports which variable. Variables are only
 * substituted when Version is "2012-10-17" (IAM); otherwise `${...}` is
 * literal text.
 *
 * The context is a callback: the engine asks for the values of a key
 * (policy variables such as iot:ClientId, iot:Connection.Thing.ThingName,
 * iot:Connection.Thing.Attributes[room], iot:Certificate.Subject.CommonName,
 * and condition keys such as iot:ConnectAttributes, aws:SourceIp); the
 * caller answers from what it knows. No loop, no I/O, no globals.
 */
#ifndef IOTCORED_POLICY_H
#define IOTCORED_POLICY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ic_policy_doc_s ic_policy_doc_t;

/* Values of a context key, e.g. "iot:ClientId" -> {"dev1"},
 * "iot:ConnectAttributes" -> {"PersistentConnect", "LastWill"}. Writes up
 * to cap borrowed strings (valid until the evaluation returns) into out and
 * returns how many the key has; 0 = the key is absent (unresolvable). */
typedef size_t (*ic_policy_values_fn)(void *data, const char *key,
                                      const char **out, size_t cap);

typedef struct ic_policy_ctx_s {
    ic_policy_values_fn values;
    void *data;
} ic_policy_ctx_t;

typedef enum {
    IC_AUTHZ_ALLOWED = 0,
    IC_AUTHZ_EXPLICIT_DENY,
    IC_AUTHZ_IMPLICIT_DENY,
} ic_authz_t;

/* Why a decision was made: which policy (index into the array given to
 * ic_policy_eval) and statement decided, or the first unresolved variable
 * that kept a statement from matching. */
typedef struct ic_policy_why_s {
    int policy;            /* -1 if none */
    int statement;         /* 0-based index in the policy, -1 if none */
    char sid[128];         /* the statement's Sid, "" if none */
    char unresolved[128];  /* e.g. "iot:Connection.Thing.ThingName", "" */
} ic_policy_why_t;

/* Compile a policy document. NULL on error with AWS's
 * MalformedPolicyException-style message in why, naming the JSON path:
 * e.g. "Policy document is malformed: Statement[1].Effect must be Allow or
 * Deny". Rules: Version (string, optional), Statement (object or array,
 * non-empty), each with Effect, exactly one of Action/NotAction and one of
 * Resource/NotResource (string or non-empty array of strings), optional
 * Sid (string) and Condition (object of operator -> object of key ->
 * string/bool/number or array of them). Unknown top-level or statement
 * members, unknown condition operators -> error. Size (2048 non-whitespace
 * characters) is checked by the policy store, not here. */
ic_policy_doc_t *ic_policy_compile(const char *json, char *why, size_t whylen);
void ic_policy_doc_free(ic_policy_doc_t *d);

/* Evaluate action (e.g. "iot:Publish") on resource (a full ARN, e.g.
 * "arn:aws:iot:us-east-1:123456789012:topic/a/b") against docs[0..n).
 * why may be NULL. */
ic_authz_t ic_policy_eval(const ic_policy_doc_t *const *docs, size_t n,
                          const char *action, const char *resource,
                          const ic_policy_ctx_t *ctx, ic_policy_why_t *why);

/* Does the compiled document use any policy variable or condition (a
 * decision may then depend on more than (action, resource))? */
bool ic_policy_is_contextual(const ic_policy_doc_t *d);

const char *ic_authz_name(ic_authz_t a); /* "ALLOWED", "EXPLICIT_DENY", ... */

#endif
