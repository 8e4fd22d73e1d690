/* authorizers.h - custom authorizers and the account's default authorizer,
 * in memory over the store (aws-iot-auth.md 6.3; AWS API CreateAuthorizer
 * ... ClearDefaultAuthorizer).
 *
 * Rules enforced here, as AWS: names 1-128 of [\w=,@-]; a token key name
 * 1-128 of [a-zA-Z0-9_-]; public key names 1-128 of [a-zA-Z0-9:_-] and
 * values that are PEM RSA public keys of at least 2048 bits; an authorizer
 * with signing enabled (the default) has a token key name and at least one
 * public key, and signingDisabled never changes after creation; an ACTIVE
 * authorizer, or the default one, cannot be deleted; at most
 * IC_AUTHORIZER_MAX authorizers. Shape checks of the API's own (lengths,
 * enum values) are the control plane's. Every change bumps a generation
 * counter, so custom_auth can drop what it cached for the old settings.
 * Loop thread only.
 */
#ifndef IOTCORED_AUTHORIZERS_H
#define IOTCORED_AUTHORIZERS_H

#include "iotcored/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IC_AUTHORIZER_MAX 32      /* AWS quota: custom authorizers per account */
#define IC_AUTHORIZER_MAX_KEYS 16 /* iotcored's bound: public keys per
                                     authorizer (each is tried per CONNECT) */
#define IC_AUTHORIZER_MAX_ARN 2048 /* AuthorizerFunctionArn */
#define IC_AUTHORIZER_MAX_KEY_PEM 5120 /* KeyValue */
#define IC_AUTHORIZER_MIN_KEY_BITS 2048

typedef struct ic_authorizers_s ic_authorizers_t;

typedef struct ic_authorizer_key_s {
    char *name; /* 1-128 of [a-zA-Z0-9:_-] */
    char *pem;  /* RSA public key (PEM), >= 2048 bits */
} ic_authorizer_key_t;

/* Views handed out by ic_authorizers_get/_list/_default are owned by the
 * module and valid until the next change (any call below that is not a
 * query, and ic_authorizers_load). */
typedef struct ic_authorizer_s {
    char *name;
    char *function_arn;         /* authorizerFunctionArn, as given */
    char *token_key_name;       /* NULL when none */
    ic_authorizer_key_t *keys;  /* ascending name, n_keys entries */
    size_t n_keys;
    bool is_active;             /* status ACTIVE (else INACTIVE) */
    bool signing_disabled;
    bool caching_for_http;      /* enableCachingForHttp */
    char *tags;                 /* JSON array of {Key, Value}, "[]" none */
    int64_t created_ms;
    int64_t updated_ms;
} ic_authorizer_t;

/* What CreateAuthorizer and UpdateAuthorizer set; all borrowed for the
 * call. For an update, NULL / has_* false leave a field as it is;
 * signing_disabled and tags are read by create only. keys replace the
 * whole map when has_keys. */
typedef struct ic_authorizer_spec_s {
    const char *function_arn;   /* create: required */
    const char *token_key_name;
    const ic_authorizer_key_t *keys;
    size_t n_keys;
    bool has_keys;
    bool has_status;
    bool is_active;             /* create default: true (ACTIVE) */
    bool signing_disabled;
    bool has_caching;
    bool caching_for_http;      /* create default: false */
    const char *tags;           /* JSON array text; NULL = "[]" */
} ic_authorizer_spec_t;

/* db (borrowed; must outlive a) may be NULL (memory only). Never NULL. */
ic_authorizers_t *ic_authorizers_new(ic_db_t *db);
/* Accepts NULL. Queued writes are the db's and still commit. */
void ic_authorizers_free(ic_authorizers_t *a);
/* (Re)load everything from the store, replacing the cache; bumps the
 * generation. Rows that break an invariant (keys that are not a JSON
 * object of strings, a second default) are repaired with a warning. 0
 * (also when db is NULL) or IC_ESTORE (the cache then holds what was
 * read). */
int ic_authorizers_load(ic_authorizers_t *a);

/* AuthorizerName: 1-128 of [A-Za-z0-9_=,@-]; NULL is not valid. */
bool ic_authorizers_is_valid_name(const char *name);
/* 0, or IC_EINVAL with why ("... is not an RSA public key in PEM form",
 * "... is an RSA key of N bits; at least 2048 are required"). pem may be
 * NULL (invalid). */
int ic_authorizers_check_key(const char *key_name, const char *pem, char *why,
                             size_t whylen);

/* Every call returns 0 or an IC_E* with AWS's message in why (may be
 * NULL). Strings are borrowed and may be ones this module handed out.
 * create: IC_EINVAL (name, function ARN missing or too long, token key
 *   name, a key, more than IC_AUTHORIZER_MAX_KEYS keys, signing enabled
 *   without a token key name or keys: "tokenKeyName and
 *   tokenSigningPublicKeys are required when signing is enabled"),
 *   IC_EEXIST ("The authorizer NAME already exists"), IC_ELIMIT ("The
 *   maximum number of authorizers (32) has been reached").
 * update: IC_ENOTFOUND ("The authorizer NAME does not exist"), IC_EINVAL
 *   (as create; also keys emptied while signing is enabled). */
int ic_authorizers_create(ic_authorizers_t *a, const char *name,
                          const ic_authorizer_spec_t *spec, int64_t now_ms,
                          char *why, size_t whylen);
int ic_authorizers_update(ic_authorizers_t *a, const char *name,
                          const ic_authorizer_spec_t *spec, int64_t now_ms,
                          char *why, size_t whylen);
/* IC_ENOTFOUND; IC_ECONFLICT when ACTIVE ("Cannot delete an ACTIVE
 * authorizer (name=NAME): set its status to INACTIVE first", checked
 * first) or the default ("Cannot delete the default authorizer
 * (name=NAME): clear the default authorizer first"). */
int ic_authorizers_delete(ic_authorizers_t *a, const char *name, char *why,
                          size_t whylen);

/* NULL when there is no such authorizer. */
const ic_authorizer_t *ic_authorizers_get(const ic_authorizers_t *a,
                                          const char *name);
/* Authorizers in ascending name (byte) order: the first at most cap whose
 * name is > after (NULL or "" = from the start) go to out; returns how many
 * were stored. */
size_t ic_authorizers_list(const ic_authorizers_t *a, const char *after,
                           const ic_authorizer_t **out, size_t cap);
size_t ic_authorizers_count(const ic_authorizers_t *a);

/* The default authorizer, or NULL when none is set. */
const ic_authorizer_t *ic_authorizers_default(const ic_authorizers_t *a);
/* IC_ENOTFOUND (no such authorizer), IC_EEXIST when another authorizer is
 * the default ("The default authorizer is already set (name=OTHER)";
 * AWS: ResourceAlreadyExistsException; clear it first). Setting the
 * current default again is 0 and changes nothing. */
int ic_authorizers_set_default(ic_authorizers_t *a, const char *name, char *why,
                               size_t whylen);
/* 0, or IC_ENOTFOUND when no default is set ("No default authorizer is
 * set"). */
int ic_authorizers_clear_default(ic_authorizers_t *a, char *why, size_t whylen);

/* Starts at 1; bumped by every change and by ic_authorizers_load. */
uint64_t ic_authorizers_generation(const ic_authorizers_t *a);

#endif
