/* policies.h - named IoT policies with versions, and their attachments to
 * targets, in memory over the store (aws-iot-auth.md 7.4; AWS API
 * CreatePolicy ... ListTargetsForPolicy).
 *
 * Rules enforced here, as AWS: policy names 1-128 of [\w+=,.@-]; a
 * document is JSON, at most 2048 characters not counting whitespace
 * (deeper checks of the policy language are the policy engine's); at most
 * 5 versions per policy; the default version cannot be deleted; a policy
 * with more than its default version, or attached to any target, cannot be
 * deleted. Version IDs are "1", "2", ... and never reused within a policy.
 * A target is an ARN as the API gives it (certificate ARN, thing-group
 * ARN) or a Cognito identity ID; it is stored as given. Every change bumps
 * a generation counter so the policy engine can drop cached decisions.
 * Loop thread only.
 */
#ifndef IOTCORED_POLICIES_H
#define IOTCORED_POLICIES_H

#include "iotcored/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IC_POLICY_MAX_VERSIONS 5
#define IC_POLICY_MAX_DOC_CHARS 2048 /* excluding whitespace */

typedef struct ic_policies_s ic_policies_t;

/* Views handed out by ic_policies_get/_list are owned by the module and
 * valid until the next change to the policy set (any call below that is
 * not a query, and ic_policies_load). */
typedef struct ic_policy_version_s {
    int64_t id;          /* 1, 2, ... */
    char *document;      /* as given (owned) */
    int64_t created_ms;
} ic_policy_version_t;

typedef struct ic_policy_s {
    char *name;
    int64_t default_version;       /* id of the default version */
    ic_policy_version_t *versions; /* ascending id, 1..5 entries */
    size_t n_versions;
    int64_t created_ms;
    int64_t updated_ms;            /* last version or default change */
} ic_policy_t;

/* db (borrowed; must outlive p) may be NULL (memory only). Never NULL. */
ic_policies_t *ic_policies_new(ic_db_t *db);
/* Accepts NULL. Queued writes are the db's and still commit. */
void ic_policies_free(ic_policies_t *p);
/* (Re)load everything from the store, replacing the cache; bumps the
 * generation. Rows that break an invariant (a policy with no version, a
 * default naming no version) are repaired with a warning. 0 (also when db
 * is NULL) or IC_ESTORE (the cache then holds what was read). */
int ic_policies_load(ic_policies_t *p);

/* 1-128 characters of [A-Za-z0-9_+=,.@-]; NULL is not valid. */
bool ic_policies_is_valid_name(const char *name);
/* 0, or IC_EMALFORMED with why: "Policy document exceeds the maximum size
 * of 2048 characters" (every character but space, tab, CR and LF counts,
 * inside strings too; a UTF-8 sequence is one character), "Policy document
 * is not valid JSON" (also for NULL), or "Policy document is not a JSON
 * object". The size is checked first, before anything is allocated. */
int ic_policies_check_document(const char *doc, char *why, size_t whylen);

/* Every call returns 0 or: IC_EINVAL (bad name; why says so),
 * IC_EMALFORMED (document), IC_EEXIST, IC_ENOTFOUND (policy or version),
 * IC_ELIMIT (a sixth version: VersionsLimitExceeded), IC_ECONFLICT
 * (deleting the default version, or a policy still attached or with
 * non-default versions: why says which). why may be NULL; when set it
 * holds AWS's message text. All strings are borrowed, and may be strings
 * this module handed out. Checks run in this order: name, document,
 * existence, then the state rules.
 *
 * create: version 1 becomes the default. IC_EINVAL, IC_EMALFORMED,
 *   IC_EEXIST ("Policy cannot be created - name already exists
 *   (name=NAME)").
 * delete: IC_ENOTFOUND; IC_ECONFLICT when attached ("The policy cannot be
 *   deleted as the policy is attached to one or more principals
 *   (name=NAME)", checked first) or with more than one version ("Cannot
 *   delete the policy because it has one or more policy versions attached
 *   to it (name=NAME)"). */
int ic_policies_create(ic_policies_t *p, const char *name, const char *doc,
                       int64_t now_ms, char *why, size_t whylen);
int ic_policies_delete(ic_policies_t *p, const char *name, char *why,
                       size_t whylen);
/* *id_out (may be NULL) gets the new version's id, one more than any id
 * the policy ever had. IC_EINVAL, IC_EMALFORMED, IC_ENOTFOUND, IC_ELIMIT
 * ("The policy NAME already has the maximum number of versions (5)"). */
int ic_policies_create_version(ic_policies_t *p, const char *name,
                               const char *doc, bool set_as_default,
                               int64_t now_ms, int64_t *id_out, char *why,
                               size_t whylen);
/* IC_ENOTFOUND (policy, or "Policy version not found"), IC_ECONFLICT
 * ("Cannot delete the default version of a policy"). The id is never
 * reused. */
int ic_policies_delete_version(ic_policies_t *p, const char *name, int64_t id,
                               char *why, size_t whylen);
/* 0 or IC_ENOTFOUND (policy or version). Setting the current default again
 * changes nothing (no generation bump). */
int ic_policies_set_default(ic_policies_t *p, const char *name, int64_t id,
                            int64_t now_ms);
/* NULL when there is no such policy / version. */
const ic_policy_t *ic_policies_get(const ic_policies_t *p, const char *name);
const ic_policy_version_t *ic_policies_get_version(const ic_policy_t *pol,
                                                  int64_t id);
/* Policies in ascending name (byte) order, for pagination: the first at
 * most cap policies whose name is > after (after NULL or "" = from the
 * start) go to out; returns how many were stored. Ask for one more than a
 * page to learn whether another page follows. */
size_t ic_policies_list(const ic_policies_t *p, const char *after,
                        const ic_policy_t **out, size_t cap);
size_t ic_policies_count(const ic_policies_t *p);

/* Attaching twice is not an error; detaching what is not attached is
 * IC_ENOTFOUND only when the policy does not exist (AWS: no-op). attach:
 * 0, IC_ENOTFOUND (policy), IC_EINVAL (target NULL or ""). No cap on
 * policies per target is enforced here. */
int ic_policies_attach(ic_policies_t *p, const char *name, const char *target);
int ic_policies_detach(ic_policies_t *p, const char *name, const char *target);
/* Names of policies attached to target (borrowed, valid until the next
 * change), ascending; the first up to cap go to out; returns the total
 * count (which may exceed cap). */
size_t ic_policies_of_target(const ic_policies_t *p, const char *target,
                             const char **out, size_t cap);
/* Targets of a policy (borrowed), ascending; total count returned. */
size_t ic_policies_targets(const ic_policies_t *p, const char *name,
                           const char **out, size_t cap);
/* Remove every attachment of target (a certificate or group deleted). */
void ic_policies_detach_target(ic_policies_t *p, const char *target);
/* Starts at 1; bumped by every change to a policy, version, default or
 * attachment, and by ic_policies_load. Calls that change nothing (attach
 * twice, detach what is not attached) leave it alone. */
uint64_t ic_policies_generation(const ic_policies_t *p);

#endif
