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
 * returns how many the key has; 0 = the key is absent (unresolvable); an
 * empty set is also 0. May be called several times per evaluation.
 *
 * key is the variable name or condition key as written in the policy
 * (e.g. "IOT:ClientId" if the policy spells it so): the callback matches
 * names case-insensitively (IAM). The engine normalises only two things:
 * the alias iot:Thing.ThingName is asked as iot:Connection.Thing.ThingName,
 * and an iot:Certificate.* name loses a `.List` or `.N` suffix (the engine
 * asks for the base key's values, in certificate order, and picks them). */
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
 * that kept a statement from matching.
 *
 * ALLOWED: the first allowing statement (in policy, then statement order).
 * EXPLICIT_DENY: the first matching Deny (evaluation stops there).
 * IMPLICIT_DENY: policy and statement -1, sid "".
 * unresolved, whatever the decision: the first variable (name as written,
 * without `${}`) that made an entry of a statement whose action matched
 * unusable, when that statement's Resource/NotResource or the condition
 * holding the entry then failed; "" if none. */
typedef struct ic_policy_why_s {
    int policy;            /* -1 if none */
    int statement;         /* 0-based index in the policy, -1 if none */
    char sid[128];         /* the statement's Sid, "" if none */
    char unresolved[128];  /* e.g. "iot:Connection.Thing.ThingName", "" */
} ic_policy_why_t;

/* Compile a policy document (json borrowed; the result is the caller's,
 * released with ic_policy_doc_free). NULL on error with AWS's
 * MalformedPolicyException-style message in why (out, may be NULL, always
 * terminated), naming the JSON path: e.g. "Policy document is malformed:
 * Statement[1].Effect must be Allow or Deny",
 * "...: Statement[0].Condition.StringEquals.iot:ClientId[1] must be a
 * string, number or boolean"; a single-object Statement is "Statement".
 * Rules: Version (optional, "2012-10-17" or "2008-10-17"), Id (optional
 * string), Statement (object or non-empty array), each with Effect ("Allow"
 * or "Deny"), exactly one of Action/NotAction and one of
 * Resource/NotResource (string or non-empty array of strings), optional
 * Sid (string) and Condition (object of operator -> object of key ->
 * string/bool/number or a possibly empty array of them). Unknown or
 * repeated top-level or statement members, unknown condition operators
 * (names compared case-insensitively; `ForAnyValue:`/`ForAllValues:`
 * prefix, `IfExists` suffix except on Null) -> error. Numbers in conditions
 * are compared as text in their shortest round-trip form. Size (2048
 * non-whitespace characters) is checked by the policy store, not here. */
ic_policy_doc_t *ic_policy_compile(const char *json, char *why, size_t whylen);
void ic_policy_doc_free(ic_policy_doc_t *d);

/* Evaluate action (e.g. "iot:Publish") on resource (a full ARN, e.g.
 * "arn:aws:iot:us-east-1:123456789012:topic/a/b") against docs[0..n)
 * (NULL entries are skipped). All pointers borrowed; why (out) may be NULL;
 * ctx may be NULL (no key has a value). Allocates nothing.
 *
 * Details the spec leaves open, as decided here:
 * - Substituted values are literal text (a client ID "*" is no wildcard; a
 *   client ID "+" does match a literal `+`, AWS's documented pitfall).
 *   `${name, 'default'}` (IAM) gives the default when name is unresolved.
 *   A substitution longer than 4 KiB makes the entry match nothing.
 * - iot:Certificate.*: a plain name is the first value, `.N` is the value
 *   at index N (`.1` the second, `.0` the first), arrays are cut to 5;
 *   in `${}` a `.List` name, an index out of range, a value over 1024
 *   characters or one holding `* $ + ? #` is unresolved. As condition keys
 *   the values are used as they are (`.List` = all of them). Condition
 *   values for certificate keys may escape RFC 4514 specials with a
 *   backslash (`O\=Amazon.com`, `\2C`); the escape stands for the
 *   character.
 * - NotResource with an unresolved entry applies to nothing. A negated
 *   operator (StringNotEquals, NotIpAddress, ...) with an unresolved value
 *   does not hold. Either way an Allow grants and a Deny denies nothing.
 * - Conditions: operators and keys ANDed, values ORed. A missing key
 *   fails every operator except Null, ...IfExists (holds) and
 *   ForAllValues (holds); ForAnyValue on a missing key fails. Without a
 *   set prefix a multi-valued key holds if any value matches (negated: if
 *   none matches any policy value). ArnEquals and ArnLike both take `*`
 *   and `?` (IAM), `*` spanning ':' as in Resource. Date*: epoch seconds or
 *   ISO 8601 (UTC unless a zone is given). IpAddress: IPv4/IPv6 with CIDR;
 *   an IPv4-mapped IPv6 address is compared as IPv4. BinaryEquals compares
 *   the bytes the base64 texts encode. Bool: "true"/"false", any case. */
ic_authz_t ic_policy_eval(const ic_policy_doc_t *const *docs, size_t n,
                          const char *action, const char *resource,
                          const ic_policy_ctx_t *ctx, ic_policy_why_t *why);

/* Does the compiled document use any policy variable or condition (a
 * decision may then depend on more than (action, resource))? `${*}`-style
 * escapes, `${...}` text without Version 2012-10-17 and an empty Condition
 * object do not count. false for NULL. */
bool ic_policy_is_contextual(const ic_policy_doc_t *d);

const char *ic_authz_name(ic_authz_t a); /* "ALLOWED", "EXPLICIT_DENY", ... */

#endif
