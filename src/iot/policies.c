/* policies.c - named IoT policies, their versions and their attachments to
 * targets, with AWS's naming rules and limits (see policies.h).
 *
 * Owns the in-memory policy set and decides every rule; it writes through
 * to the store (store/policydb.c) and reloads from it. It checks that a
 * document is a JSON object within the size limit and nothing more: the
 * policy language is compiled and evaluated by the policy engine, which
 * watches the generation counter. It serves no API and knows nothing of
 * certificates or groups: a target is an opaque string. Loop thread only.
 *
 *   pols       [ "a" ][ "b" ][ "c" ]            ascending name: lookup by
 *                 |                             binary search, pages by
 *                 v                             upper bound of "after"
 *              pol_t { pub: ic_policy_t, next_version }
 *                      versions[0..n) ascending id, room for 5
 *
 *   by_policy  [a,t1][a,t2][b,t1]               the same link_t objects,
 *   by_target  [a,t1][b,t1][a,t2]               sorted two ways, so both
 *                                               "targets of a policy" and
 *                                               "policies of a target" are
 *                                               one contiguous run
 *
 * Invariants: names in pols are unique and strictly ascending; every
 * policy has 1..IC_POLICY_MAX_VERSIONS versions, one of them the default,
 * and next_version is greater than every id it ever handed out; by_policy
 * and by_target hold the same n_links links, each (policy, target) once,
 * and every link names a policy in pols.
 */
#include "iotcored/policies.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/str.h"
#include "iotcored/log.h"
#include "iotcored/policydb.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME_CHARS 128 /* AWS CreatePolicy policyName */

typedef struct pol_s {
    ic_policy_t pub;      /* first: ic_policies_get hands out &pub */
    int64_t next_version; /* id of the next version; > every id used */
} pol_t;

typedef struct link_s {
    char *policy; /* owned copy */
    char *target; /* owned copy */
} link_t;

struct ic_policies_s {
    ic_db_t *db;          /* borrowed; NULL = memory only */
    pol_t **pols;         /* ascending name */
    size_t n_pols, cap_pols;
    link_t **by_policy;   /* ascending (policy, target) */
    link_t **by_target;   /* the same links, ascending (target, policy) */
    size_t n_links, cap_links; /* of both arrays */
    uint64_t generation;  /* starts at 1; +1 per change */
};


/* ---- lifetime ------------------------------------------------------------ */

ic_policies_t *ic_policies_new(ic_db_t *db) {
    ic_policies_t *p = ic_xcalloc(1, sizeof(*p));
    p->db = db;
    p->generation = 1;
    return p;
}

static void free_pol(pol_t *pol) {
    size_t i;
    for (i = 0; i < pol->pub.n_versions; i++)
        free(pol->pub.versions[i].document);
    free(pol->pub.versions);
    free(pol->pub.name);
    free(pol);
}

static void free_link(link_t *l) {
    free(l->policy);
    free(l->target);
    free(l);
}

static void clear(ic_policies_t *p) {
    size_t i;
    for (i = 0; i < p->n_pols; i++)
        free_pol(p->pols[i]);
    for (i = 0; i < p->n_links; i++)
        free_link(p->by_policy[i]);
    free(p->pols);
    free(p->by_policy);
    free(p->by_target);
    p->pols = NULL;
    p->by_policy = p->by_target = NULL;
    p->n_pols = p->cap_pols = p->n_links = p->cap_links = 0;
}

void ic_policies_free(ic_policies_t *p) {
    if (p == NULL)
        return;
    clear(p);
    free(p);
}

uint64_t ic_policies_generation(const ic_policies_t *p) {
    return p->generation;
}

size_t ic_policies_count(const ic_policies_t *p) {
    return p->n_pols;
}

/* ---- the sorted policy array ---------------------------------------------- */

/* Index of the first policy whose name is >= name; *found if equal. */
static size_t pol_lower(const ic_policies_t *p, const char *name, bool *found) {
    size_t lo = 0, hi = p->n_pols;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(p->pols[mid]->pub.name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (found)
        *found = lo < p->n_pols && strcmp(p->pols[lo]->pub.name, name) == 0;
    return lo;
}

static pol_t *find(const ic_policies_t *p, const char *name) {
    bool found;
    size_t i = pol_lower(p, name, &found);
    return found ? p->pols[i] : NULL;
}

static void insert_pol(ic_policies_t *p, pol_t *pol) {
    size_t i = pol_lower(p, pol->pub.name, NULL);
    if (p->n_pols == p->cap_pols) {
        p->cap_pols = p->cap_pols ? p->cap_pols * 2 : 16;
        p->pols = ic_xrealloc(p->pols, p->cap_pols * sizeof(*p->pols));
    }
    memmove(&p->pols[i + 1], &p->pols[i], (p->n_pols - i) * sizeof(*p->pols));
    p->pols[i] = pol;
    p->n_pols++;
}

static void remove_pol(ic_policies_t *p, const char *name) {
    bool found;
    size_t i = pol_lower(p, name, &found);
    if (!found)
        return;
    free_pol(p->pols[i]);
    memmove(&p->pols[i], &p->pols[i + 1], (p->n_pols - i - 1) * sizeof(*p->pols));
    p->n_pols--;
}

static pol_t *new_pol(const char *name, int64_t created_ms, int64_t updated_ms) {
    pol_t *pol = ic_xcalloc(1, sizeof(*pol));
    pol->pub.name = ic_xstrdup(name);
    pol->pub.versions = ic_xcalloc(IC_POLICY_MAX_VERSIONS,
                                   sizeof(*pol->pub.versions));
    pol->pub.created_ms = created_ms;
    pol->pub.updated_ms = updated_ms;
    pol->next_version = 1;
    return pol;
}

/* Append a version; ids only grow, so the array stays ascending. The caller
 * has checked there is room. */
static void push_version(pol_t *pol, int64_t id, const char *doc,
                         int64_t created_ms) {
    ic_policy_version_t *v = &pol->pub.versions[pol->pub.n_versions++];
    v->id = id;
    v->document = ic_xstrdup(doc);
    v->created_ms = created_ms;
    if (id >= pol->next_version)
        pol->next_version = id + 1;
}

static void persist_pol(ic_policies_t *p, const pol_t *pol) {
    if (p->db)
        ic_policydb_put_policy(p->db, pol->pub.name, pol->pub.default_version,
                               pol->next_version, pol->pub.created_ms,
                               pol->pub.updated_ms);
}

static void persist_version(ic_policies_t *p, const pol_t *pol,
                            const ic_policy_version_t *v) {
    if (p->db)
        ic_policydb_put_version(p->db, pol->pub.name, v->id, v->document,
                                v->created_ms);
}

/* ---- the two link indexes --------------------------------------------------- */

static int cmp_pair(const char *a1, const char *b1, const char *a2,
                    const char *b2) {
    int c = strcmp(a1, a2);
    return c ? c : strcmp(b1, b2);
}

/* First index in v (by_target or not) whose key is >= (k1, k2). */
static size_t link_lower(link_t *const *v, size_t n, bool by_target,
                         const char *k1, const char *k2) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const link_t *l = v[mid];
        int c = by_target ? cmp_pair(l->target, l->policy, k1, k2)
                          : cmp_pair(l->policy, l->target, k1, k2);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void grow_links(ic_policies_t *p) {
    if (p->n_links < p->cap_links)
        return;
    p->cap_links = p->cap_links ? p->cap_links * 2 : 16;
    p->by_policy = ic_xrealloc(p->by_policy, p->cap_links * sizeof(link_t *));
    p->by_target = ic_xrealloc(p->by_target, p->cap_links * sizeof(link_t *));
}

/* false if the link already exists. */
static bool add_link(ic_policies_t *p, const char *policy, const char *target) {
    size_t i = link_lower(p->by_policy, p->n_links, false, policy, target), j;
    link_t *l;
    if (i < p->n_links && strcmp(p->by_policy[i]->policy, policy) == 0 &&
        strcmp(p->by_policy[i]->target, target) == 0)
        return false;
    grow_links(p);
    l = ic_xmalloc(sizeof(*l));
    l->policy = ic_xstrdup(policy);
    l->target = ic_xstrdup(target);
    j = link_lower(p->by_target, p->n_links, true, target, policy);
    memmove(&p->by_policy[i + 1], &p->by_policy[i],
            (p->n_links - i) * sizeof(link_t *));
    memmove(&p->by_target[j + 1], &p->by_target[j],
            (p->n_links - j) * sizeof(link_t *));
    p->by_policy[i] = l;
    p->by_target[j] = l;
    p->n_links++;
    return true;
}

/* false if there was no such link. */
static bool drop_link(ic_policies_t *p, const char *policy, const char *target) {
    size_t i = link_lower(p->by_policy, p->n_links, false, policy, target), j;
    link_t *l;
    if (i == p->n_links || strcmp(p->by_policy[i]->policy, policy) != 0 ||
        strcmp(p->by_policy[i]->target, target) != 0)
        return false;
    l = p->by_policy[i];
    j = link_lower(p->by_target, p->n_links, true, target, policy);
    memmove(&p->by_policy[i], &p->by_policy[i + 1],
            (p->n_links - i - 1) * sizeof(link_t *));
    memmove(&p->by_target[j], &p->by_target[j + 1],
            (p->n_links - j - 1) * sizeof(link_t *));
    p->n_links--;
    free_link(l);
    return true;
}

/* ---- rules -------------------------------------------------------------------- */

bool ic_policies_is_valid_name(const char *name) {
    size_t n, i;
    if (name == NULL)
        return false;
    n = strlen(name);
    if (n == 0 || n > MAX_NAME_CHARS)
        return false;
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr("_+=,.@-", c)))
            return false;
    }
    return true;
}

static bool is_json_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int ic_policies_check_document(const char *doc, char *why, size_t whylen) {
    const unsigned char *s;
    const char *end = NULL;
    size_t n = 0;
    cJSON *json;
    bool is_object;
    if (doc == NULL)
        return ic_str_fail(why, whylen, IC_EMALFORMED, "Policy document is not valid JSON");
    /* AWS: policy/document-size. Counted before parsing, so an oversized
     * document costs no allocation. Characters, not bytes: a UTF-8
     * continuation byte belongs to the character already counted. */
    for (s = (const unsigned char *)doc; *s; s++) {
        if (is_json_space(*s) || (*s & 0xc0) == 0x80)
            continue;
        if (++n > IC_POLICY_MAX_DOC_CHARS)
            return ic_str_fail(why, whylen, IC_EMALFORMED,
                        "Policy document exceeds the maximum size of %d "
                        "characters", IC_POLICY_MAX_DOC_CHARS);
    }
    json = cJSON_ParseWithOpts(doc, &end, true);
    if (json == NULL)
        return ic_str_fail(why, whylen, IC_EMALFORMED, "Policy document is not valid JSON");
    is_object = cJSON_IsObject(json);
    cJSON_Delete(json);
    if (!is_object)
        return ic_str_fail(why, whylen, IC_EMALFORMED,
                    "Policy document is not a JSON object");
    return 0;
}

static int bad_name(const char *name, char *why, size_t whylen) {
    return ic_str_fail(why, whylen, IC_EINVAL,
                "invalid policy name '%s': 1-128 characters of "
                "[A-Za-z0-9_+=,.@-]", name ? name : "");
}

/* ---- policies ------------------------------------------------------------------ */

const ic_policy_t *ic_policies_get(const ic_policies_t *p, const char *name) {
    pol_t *pol = find(p, name);
    return pol ? &pol->pub : NULL;
}

const ic_policy_version_t *ic_policies_get_version(const ic_policy_t *pol,
                                                  int64_t id) {
    size_t i;
    for (i = 0; i < pol->n_versions; i++)
        if (pol->versions[i].id == id)
            return &pol->versions[i];
    return NULL;
}

int ic_policies_create(ic_policies_t *p, const char *name, const char *doc,
                       int64_t now_ms, char *why, size_t whylen) {
    pol_t *pol;
    int rc;
    if (!ic_policies_is_valid_name(name))
        return bad_name(name, why, whylen);
    if ((rc = ic_policies_check_document(doc, why, whylen)) != 0)
        return rc;
    if (find(p, name) != NULL) /* AWS: CreatePolicy ResourceAlreadyExists */
        return ic_str_fail(why, whylen, IC_EEXIST,
                    "Policy cannot be created - name already exists (name=%s)",
                    name);
    pol = new_pol(name, now_ms, now_ms);
    push_version(pol, pol->next_version, doc, now_ms);
    pol->pub.default_version = pol->pub.versions[0].id;
    insert_pol(p, pol);
    persist_pol(p, pol);
    persist_version(p, pol, &pol->pub.versions[0]);
    p->generation++;
    return 0;
}

int ic_policies_delete(ic_policies_t *p, const char *name, char *why,
                       size_t whylen) {
    pol_t *pol = find(p, name);
    size_t i;
    if (pol == NULL)
        return ic_str_fail(why, whylen, IC_ENOTFOUND, "Policy not found");
    i = link_lower(p->by_policy, p->n_links, false, name, "");
    if (i < p->n_links && strcmp(p->by_policy[i]->policy, name) == 0)
        return ic_str_fail(why, whylen, IC_ECONFLICT, /* AWS: DeleteConflict */
                    "The policy cannot be deleted as the policy is attached "
                    "to one or more principals (name=%s)", name);
    if (pol->pub.n_versions > 1)
        return ic_str_fail(why, whylen, IC_ECONFLICT, /* AWS: DeleteConflict, its
                                                  * doubled "than" included */
                    "The policy cannot be deleted as versions other than than "
                    "default version exist");
    /* name may be pol's own (from ic_policies_list): use it before the free */
    if (p->db)
        ic_policydb_del_policy(p->db, name);
    remove_pol(p, name);
    p->generation++;
    return 0;
}

/* ---- versions ------------------------------------------------------------------- */

int ic_policies_create_version(ic_policies_t *p, const char *name,
                               const char *doc, bool set_as_default,
                               int64_t now_ms, int64_t *id_out, char *why,
                               size_t whylen) {
    pol_t *pol;
    const ic_policy_version_t *v;
    int rc;
    if (!ic_policies_is_valid_name(name))
        return bad_name(name, why, whylen);
    if ((rc = ic_policies_check_document(doc, why, whylen)) != 0)
        return rc;
    if ((pol = find(p, name)) == NULL)
        return ic_str_fail(why, whylen, IC_ENOTFOUND, "Policy not found");
    if (pol->pub.n_versions >= IC_POLICY_MAX_VERSIONS) /* AWS: VersionsLimitExceeded */
        return ic_str_fail(why, whylen, IC_ELIMIT,
                    "The policy %s already has the maximum number of versions "
                    "(%d)", name, IC_POLICY_MAX_VERSIONS);
    push_version(pol, pol->next_version, doc, now_ms);
    v = &pol->pub.versions[pol->pub.n_versions - 1];
    if (set_as_default)
        pol->pub.default_version = v->id;
    pol->pub.updated_ms = now_ms;
    /* the policy row carries next_version, so it is written every time */
    persist_pol(p, pol);
    persist_version(p, pol, v);
    if (id_out)
        *id_out = v->id;
    p->generation++;
    return 0;
}

int ic_policies_delete_version(ic_policies_t *p, const char *name, int64_t id,
                               char *why, size_t whylen) {
    pol_t *pol = find(p, name);
    ic_policy_version_t *v;
    size_t i;
    if (pol == NULL)
        return ic_str_fail(why, whylen, IC_ENOTFOUND, "Policy not found");
    v = (ic_policy_version_t *)(uintptr_t)ic_policies_get_version(&pol->pub, id);
    if (v == NULL)
        return ic_str_fail(why, whylen, IC_ENOTFOUND, "Policy version not found");
    if (id == pol->pub.default_version) /* AWS: DeletePolicyVersion */
        return ic_str_fail(why, whylen, IC_ECONFLICT,
                    "Cannot delete the default version of a policy");
    i = (size_t)(v - pol->pub.versions);
    free(v->document);
    memmove(&pol->pub.versions[i], &pol->pub.versions[i + 1],
            (pol->pub.n_versions - i - 1) * sizeof(*v));
    pol->pub.n_versions--;
    if (p->db)
        ic_policydb_del_version(p->db, name, id);
    p->generation++;
    return 0;
}

int ic_policies_set_default(ic_policies_t *p, const char *name, int64_t id,
                            int64_t now_ms) {
    pol_t *pol = find(p, name);
    if (pol == NULL || ic_policies_get_version(&pol->pub, id) == NULL)
        return IC_ENOTFOUND;
    if (pol->pub.default_version == id)
        return 0; /* nothing changes, so no generation bump */
    pol->pub.default_version = id;
    pol->pub.updated_ms = now_ms;
    persist_pol(p, pol);
    p->generation++;
    return 0;
}

size_t ic_policies_list(const ic_policies_t *p, const char *after,
                        const ic_policy_t **out, size_t cap) {
    size_t i = 0, n = 0;
    if (after && after[0]) {
        bool found;
        i = pol_lower(p, after, &found);
        if (found)
            i++;
    }
    for (; i < p->n_pols && n < cap; i++)
        out[n++] = &p->pols[i]->pub;
    return n;
}

/* ---- attachments ----------------------------------------------------------------- */

int ic_policies_attach(ic_policies_t *p, const char *name, const char *target) {
    if (target == NULL || target[0] == '\0')
        return IC_EINVAL;
    if (find(p, name) == NULL)
        return IC_ENOTFOUND;
    if (!add_link(p, name, target))
        return 0; /* AWS: attaching again is not an error */
    if (p->db)
        ic_policydb_put_target(p->db, name, target);
    p->generation++;
    return 0;
}

int ic_policies_detach(ic_policies_t *p, const char *name, const char *target) {
    pol_t *pol = find(p, name);
    char *t;
    if (pol == NULL)
        return IC_ENOTFOUND;
    if (target == NULL)
        return 0;
    /* name and target may be the link's own strings (handed out by
     * ic_policies_of_target / ic_policies_targets), which drop_link frees:
     * work on the policy's name and a copy of the target instead */
    t = ic_xstrdup(target);
    if (drop_link(p, pol->pub.name, t)) {
        if (p->db)
            ic_policydb_del_target(p->db, pol->pub.name, t);
        p->generation++;
    } /* else AWS: detaching what is not attached is a no-op */
    free(t);
    return 0;
}

size_t ic_policies_of_target(const ic_policies_t *p, const char *target,
                             const char **out, size_t cap) {
    size_t i = link_lower(p->by_target, p->n_links, true, target, ""), n = 0;
    for (; i < p->n_links && strcmp(p->by_target[i]->target, target) == 0; i++) {
        if (n < cap)
            out[n] = p->by_target[i]->policy;
        n++;
    }
    return n;
}

size_t ic_policies_targets(const ic_policies_t *p, const char *name,
                           const char **out, size_t cap) {
    size_t i = link_lower(p->by_policy, p->n_links, false, name, ""), n = 0;
    for (; i < p->n_links && strcmp(p->by_policy[i]->policy, name) == 0; i++) {
        if (n < cap)
            out[n] = p->by_policy[i]->target;
        n++;
    }
    return n;
}

void ic_policies_detach_target(ic_policies_t *p, const char *target) {
    size_t j = link_lower(p->by_target, p->n_links, true, target, "");
    char *t;
    if (j == p->n_links || strcmp(p->by_target[j]->target, target) != 0)
        return;
    t = ic_xstrdup(target); /* target may be a link's own string */
    /* drop_link shifts the run down, so j stays on the next match */
    while (j < p->n_links && strcmp(p->by_target[j]->target, t) == 0)
        drop_link(p, find(p, p->by_target[j]->policy)->pub.name, t);
    if (p->db)
        ic_policydb_del_target_all(p->db, t);
    p->generation++;
    free(t);
}

/* ---- loading ------------------------------------------------------------------------ */

static void load_policy(const char *name, int64_t default_version,
                        int64_t next_version, int64_t created_ms,
                        int64_t updated_ms, void *data) {
    ic_policies_t *p = data;
    pol_t *pol;
    if (find(p, name) != NULL)
        return;
    pol = new_pol(name, created_ms, updated_ms);
    pol->pub.default_version = default_version;
    pol->next_version = next_version > 0 ? next_version : 1;
    insert_pol(p, pol);
}

static void load_version(const char *policy, int64_t id, const char *document,
                         int64_t created_ms, void *data) {
    ic_policies_t *p = data;
    pol_t *pol = find(p, policy);
    if (pol == NULL || pol->pub.n_versions >= IC_POLICY_MAX_VERSIONS ||
        (pol->pub.n_versions &&
         pol->pub.versions[pol->pub.n_versions - 1].id >= id)) {
        ic_log_warn("policy version skipped", "policy=%s version=%lld", policy,
                    (long long)id);
        return;
    }
    push_version(pol, id, document, created_ms);
}

static void load_target(const char *policy, const char *target, void *data) {
    ic_policies_t *p = data;
    if (find(p, policy) == NULL)
        return;
    /* rows arrive in (policy, target) order: by_policy appends; by_target
     * is sorted once at the end */
    grow_links(p);
    p->by_policy[p->n_links] = ic_xmalloc(sizeof(link_t));
    p->by_policy[p->n_links]->policy = ic_xstrdup(policy);
    p->by_policy[p->n_links]->target = ic_xstrdup(target);
    p->by_target[p->n_links] = p->by_policy[p->n_links];
    p->n_links++;
}

static int cmp_by_policy(const void *a, const void *b) {
    const link_t *x = *(link_t *const *)a, *y = *(link_t *const *)b;
    return cmp_pair(x->policy, x->target, y->policy, y->target);
}

static int cmp_by_target(const void *a, const void *b) {
    const link_t *x = *(link_t *const *)a, *y = *(link_t *const *)b;
    return cmp_pair(x->target, x->policy, y->target, y->policy);
}

/* Restore the invariants a damaged store could break: a policy without
 * versions is dropped (nothing to evaluate, nothing the API can show); a
 * default that names no version falls back to the newest one. */
static void repair(ic_policies_t *p) {
    size_t i = 0;
    while (i < p->n_pols) {
        pol_t *pol = p->pols[i];
        if (pol->pub.n_versions == 0) {
            ic_log_warn("policy dropped", "policy=%s reason=no_versions",
                        pol->pub.name);
            remove_pol(p, pol->pub.name);
            continue;
        }
        if (ic_policies_get_version(&pol->pub, pol->pub.default_version) == NULL) {
            pol->pub.default_version =
                pol->pub.versions[pol->pub.n_versions - 1].id;
            ic_log_warn("policy default repaired", "policy=%s version=%lld",
                        pol->pub.name, (long long)pol->pub.default_version);
        }
        i++;
    }
    i = 0;
    while (i < p->n_links) {
        if (find(p, p->by_policy[i]->policy) == NULL) {
            free_link(p->by_policy[i]);
            memmove(&p->by_policy[i], &p->by_policy[i + 1],
                    (p->n_links - i - 1) * sizeof(link_t *));
            p->n_links--;
        } else {
            i++;
        }
    }
    if (p->n_links == 0) /* the arrays may be NULL */
        return;
    memcpy(p->by_target, p->by_policy, p->n_links * sizeof(link_t *));
    qsort(p->by_policy, p->n_links, sizeof(link_t *), cmp_by_policy);
    qsort(p->by_target, p->n_links, sizeof(link_t *), cmp_by_target);
}

int ic_policies_load(ic_policies_t *p) {
    ic_policydb_loader_t l = {load_policy, load_version, load_target, p};
    int rc;
    if (p->db == NULL)
        return 0;
    clear(p);
    rc = ic_policydb_load(p->db, &l);
    repair(p);
    p->generation++; /* everything may have changed */
    return rc;
}
