/* auth.c - authorization of connections by the IoT policies in effect.
 *
 *   ic_auth_t                         ic_auth_conn_t (one per connection)
 *   +--------------------------+      +-------------------------------+
 *   | compiled: "name#ver" ->  |<-----| set: docs[] + names[] (epoch)  |
 *   |   ic_policy_doc_t        |      | thing (association, epoch)    |
 *   | epoch (bumped when the   |      | cache[32]: (act, resource) -> |
 *   |  policies/things change) |      |   allow, stamped with epoch   |
 *   +--------------------------+      +-------------------------------+
 *
 * Owns the compiled documents and every connection's decision cache. The
 * policy set of a connection is the policies attached to its certificate
 * ARN plus those attached to the groups (and their ancestors) of the thing
 * it is associated with, plus the listener's policy (listener_policy). The engine
 * (policy.c) decides; this file supplies the context values (client ID,
 * thing, certificate fields, connect attributes) and logs denials. It must
 * not choose MQTT reason codes (proto.c does). Loop thread only.
 *
 * A connection authenticated by a custom authorizer carries the policy
 * documents its function returned (ic_auth_conn_set_inline): compiled and
 * owned by the connection, they replace the attached policies; the
 * listener's policy still applies in addition.
 */
#include "iotcored/auth.h"

#include "iotcored/alloc.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/map.h"
#include "iotcored/str.h"

#include <ctype.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CACHE_SLOTS 32
#define MAX_SET 64
#define MAX_GROUPS 16
#define POOL 64

static const char *const action_names[IC_ACT_COUNT] = {
    "iot:Connect", "iot:Publish", "iot:RetainPublish", "iot:Subscribe",
    "iot:Receive", "iot:GetThingShadow", "iot:UpdateThingShadow",
    "iot:DeleteThingShadow", "iot:ListNamedShadowsForThing",
    "iot:DeleteConnection", "iot:GetRetainedMessage", "iot:ListRetainedMessages"};
static const char *const action_kinds[IC_ACT_COUNT] = {
    "client", "topic", "topic", "topicfilter", "topic", "thing", "thing", "thing",
    "thing", "client", "topic", "topic"};

struct ic_auth_s {
    uint64_t denials;         /* decisions that denied (audit: would deny) */
    ic_registry_t *reg;
    ic_things_t *things;
    ic_policies_t *policies;
    const char *region, *account;
    int mode;                 /* ic_policy_mode_t */
    ic_map_t compiled;        /* "name#version" -> ic_policy_doc_t* (NULL:
                                 did not compile) */
    uint64_t seen_pol_gen, seen_thing_gen;
    uint64_t epoch;           /* bumped when either changes */
};

typedef struct slot_s {
    uint64_t epoch;           /* 0 = empty */
    uint32_t hash;
    uint8_t act;
    bool allow;
    char *res;                /* owned */
    size_t res_len;
} slot_t;

struct ic_auth_conn_s {
    char *cert_id, *anon, *client_id, *ip, *sni;
    uint64_t set_epoch;
    /* the set, sized to it (most connections have one or two policies;
     * a fixed MAX_SET array cost 1 KiB per idle connection) */
    const ic_policy_doc_t **docs; /* borrowed from a->compiled */
    const char **names;           /* borrowed from the store */
    size_t n_docs, cap_docs;
    uint64_t thing_epoch;
    char *thing;              /* owned, NULL = none */
    slot_t *cache;            /* CACHE_SLOTS, allocated at first use */
    bool is_inline;           /* a custom authorizer's documents are the set */
    ic_policy_doc_t **inline_docs; /* owned, n_inline entries */
    char **inline_names;      /* owned: "customauth:<principal>#<i>" */
    size_t n_inline;
};

/* ---- life cycle ------------------------------------------------------------- */

ic_auth_t *ic_auth_new(ic_registry_t *reg, ic_things_t *things,
                       ic_policies_t *policies, const char *region,
                       const char *account) {
    ic_auth_t *a = ic_xcalloc(1, sizeof(*a));
    a->reg = reg;
    a->things = things;
    a->policies = policies;
    a->region = region;
    a->account = account;
    a->epoch = 1;
    ic_map_init(&a->compiled);
    return a;
}

/* A document that did not compile is remembered as this marker. */
#define FAILED(a) ((void *)&(a)->compiled)

static void drop_compiled(ic_auth_t *a) {
    ic_map_iter_t it = {0, NULL};
    ic_map_entry_t *e;
    while ((e = ic_map_next(&a->compiled, &it)) != NULL)
        if (e->val != FAILED(a))
            ic_policy_doc_free(e->val);
    ic_map_free(&a->compiled);
    ic_map_init(&a->compiled);
}

void ic_auth_free(ic_auth_t *a) {
    if (a == NULL)
        return;
    drop_compiled(a);
    ic_map_free(&a->compiled);
    free(a);
}

void ic_auth_set_mode(ic_auth_t *a, ic_policy_mode_t mode) {
    a->mode = (int)mode;
}

/* Policies or things changed since we last looked: a new epoch. */
static void refresh(ic_auth_t *a) {
    uint64_t pg = ic_policies_generation(a->policies);
    uint64_t tg = ic_things_generation(a->things);
    if (pg == a->seen_pol_gen && tg == a->seen_thing_gen)
        return;
    if (pg != a->seen_pol_gen)
        drop_compiled(a);
    a->seen_pol_gen = pg;
    a->seen_thing_gen = tg;
    a->epoch++;
}

uint64_t ic_auth_epoch(ic_auth_t *a) {
    refresh(a);
    return a->epoch;
}

ic_auth_conn_t *ic_auth_conn_new(ic_auth_t *a, const char *cert_id,
                                 const char *anon_policy, const char *client_id,
                                 const char *source_ip, const char *sni) {
    ic_auth_conn_t *c = ic_xcalloc(1, sizeof(*c));
    (void)a;
    c->cert_id = cert_id && cert_id[0] ? ic_xstrdup(cert_id) : NULL;
    c->anon = anon_policy && anon_policy[0] ? ic_xstrdup(anon_policy) : NULL;
    c->client_id = client_id ? ic_xstrdup(client_id) : NULL;
    c->ip = ic_xstrdup(source_ip ? source_ip : "");
    c->sni = sni && sni[0] ? ic_xstrdup(sni) : NULL;
    return c;
}

void ic_auth_conn_free(ic_auth_conn_t *c) {
    size_t i;
    if (c == NULL)
        return;
    if (c->cache)
        for (i = 0; i < CACHE_SLOTS; i++)
            free(c->cache[i].res);
    free(c->cache);
    free(c->docs);
    free(c->names);
    free(c->cert_id);
    free(c->anon);
    free(c->client_id);
    free(c->ip);
    free(c->sni);
    free(c->thing);
    for (i = 0; i < c->n_inline; i++) {
        ic_policy_doc_free(c->inline_docs[i]);
        free(c->inline_names[i]);
    }
    free(c->inline_docs);
    free(c->inline_names);
    free(c);
}

int ic_auth_conn_set_inline(ic_auth_conn_t *c, const char *principal_id,
                            const char *const *docs, size_t n, char *why,
                            size_t whylen) {
    ic_policy_doc_t **d;
    char **names;
    size_t i, k;
    if (n > MAX_SET - 1) /* room for the listener's policy */
        return ic_str_fail(why, whylen, IC_ETOOBIG,
                           "%zu policy documents; at most %d", n, MAX_SET - 1);
    d = ic_xcalloc(n + 1, sizeof(*d));
    names = ic_xcalloc(n + 1, sizeof(*names));
    for (i = 0; i < n; i++) {
        char inner[256], name[200];
        d[i] = ic_policy_compile(docs[i], inner, sizeof(inner));
        if (d[i] == NULL) {
            for (k = 0; k < i; k++) {
                ic_policy_doc_free(d[k]);
                free(names[k]);
            }
            free(d);
            free(names);
            return ic_str_fail(why, whylen, IC_EMALFORMED,
                               "policy document %zu: %s", i, inner);
        }
        snprintf(name, sizeof(name), "customauth:%.128s#%zu",
                 principal_id && principal_id[0] ? principal_id : "-", i);
        names[i] = ic_xstrdup(name);
    }
    for (k = 0; k < c->n_inline; k++) {
        ic_policy_doc_free(c->inline_docs[k]);
        free(c->inline_names[k]);
    }
    free(c->inline_docs);
    free(c->inline_names);
    c->inline_docs = d;
    c->inline_names = names;
    c->n_inline = n;
    c->is_inline = true;
    /* the set and every cached decision were made for the old documents */
    c->set_epoch = 0;
    if (c->cache)
        for (i = 0; i < CACHE_SLOTS; i++)
            c->cache[i].epoch = 0;
    return 0;
}

/* ---- the policy set ---------------------------------------------------------- */

static const ic_policy_doc_t *compiled(ic_auth_t *a, const char *name) {
    const ic_policy_t *p = ic_policies_get(a->policies, name);
    const ic_policy_version_t *v;
    char key[200], why[256];
    ic_policy_doc_t *d;
    void *got;
    size_t klen;
    if (p == NULL || (v = ic_policies_get_version(p, p->default_version)) == NULL)
        return NULL;
    klen = (size_t)snprintf(key, sizeof(key), "%s#%lld", name,
                            (long long)v->id);
    if (klen >= sizeof(key))
        return NULL;
    if ((got = ic_map_get(&a->compiled, key, klen)) != NULL)
        return got == FAILED(a) ? NULL : got;
    d = ic_policy_compile(v->document, why, sizeof(why));
    if (d == NULL)
        ic_log_warn("policy not compiled", "policy=%s version=%lld reason=\"%s\"",
                    name, (long long)v->id, why);
    ic_map_put(&a->compiled, key, klen, d ? (void *)d : FAILED(a));
    return d;
}

static void add_target(ic_auth_t *a, const char *target, const char **names,
                       size_t *n, size_t cap) {
    const char *got[MAX_SET];
    size_t k = ic_policies_of_target(a->policies, target, got, MAX_SET), i, j;
    if (k > MAX_SET)
        k = MAX_SET;
    for (i = 0; i < k; i++) {
        bool dup = false;
        for (j = 0; j < *n && !dup; j++)
            dup = strcmp(names[j], got[i]) == 0;
        if (!dup && *n < cap)
            names[(*n)++] = got[i];
    }
}

static size_t effective(ic_auth_t *a, const char *cert_id, const char *anon,
                        const char *thing, const char **names, size_t cap) {
    char arn[512];
    size_t n = 0;
    if (cert_id) {
        snprintf(arn, sizeof(arn), "arn:aws:iot:%s:%s:cert/%s", a->region,
                 a->account, cert_id);
        add_target(a, arn, names, &n, cap);
    }
    if (anon && ic_policies_get(a->policies, anon) && n < cap) {
        /* the listener's policy, in addition (listener_policy) */
        const char *name = ic_policies_get(a->policies, anon)->name;
        size_t j;
        bool dup = false;
        for (j = 0; j < n && !dup; j++)
            dup = strcmp(names[j], name) == 0;
        if (!dup)
            names[n++] = name;
    }
    if (thing) {
        /* thing groups and their ancestors (aws-iot-auth.md 7.3) */
        const char *groups[MAX_GROUPS];
        size_t ng = ic_things_groups_of(a->things, thing, groups, MAX_GROUPS), i;
        if (ng > MAX_GROUPS)
            ng = MAX_GROUPS;
        for (i = 0; i < ng; i++) {
            ic_thing_group_t g;
            const char *name = groups[i];
            int guard = 0;
            while (name && guard++ < 16 && ic_things_get_group(a->things, name, &g)) {
                snprintf(arn, sizeof(arn), "arn:aws:iot:%s:%s:thinggroup/%s",
                         a->region, a->account, g.name);
                add_target(a, arn, names, &n, cap);
                name = g.parent;
            }
        }
    }
    return n;
}

/* The thing of the connection: the client ID's thing if the certificate is
 * attached to it, else the one thing the certificate is exclusively
 * attached to. */
static const char *associate(ic_auth_t *a, const char *cert_id,
                             const char *client_id) {
    const char *t;
    if (cert_id == NULL)
        return NULL;
    t = ic_things_connection_thing(a->things, cert_id, client_id);
    if (t == NULL) {
        const char *things[2];
        size_t n = ic_things_of_principal(a->things, cert_id, things, 2);
        if (n == 1) {
            /* sized by a first, counting call: a thing may have many
             * certificates (rotation) */
            size_t k = ic_things_principals_of(a->things, things[0], NULL, NULL, 0), i;
            const char **ids = ic_xcalloc(k + 1, sizeof(*ids));
            bool *excl = ic_xcalloc(k + 1, sizeof(*excl));
            k = ic_things_principals_of(a->things, things[0], ids, excl, k);
            for (i = 0; i < k; i++)
                if (strcmp(ids[i], cert_id) == 0 && excl[i])
                    t = things[0];
            free(ids);
            free(excl);
        }
    }
    return t;
}

/* The association for the current epoch (the caller has refreshed). */
static const char *conn_thing(ic_auth_t *a, ic_auth_conn_t *c) {
    if (c->thing_epoch != a->epoch) {
        const char *t =
            c->client_id ? associate(a, c->cert_id, c->client_id) : NULL;
        free(c->thing);
        c->thing = t ? ic_xstrdup(t) : NULL;
        c->thing_epoch = a->epoch;
    }
    return c->thing;
}

const char *ic_auth_conn_thing(ic_auth_t *a, ic_auth_conn_t *c) {
    refresh(a);
    return conn_thing(a, c);
}

static void set_reserve(ic_auth_conn_t *c, size_t n) {
    if (n <= c->cap_docs)
        return;
    c->docs = ic_xrealloc(c->docs, n * sizeof(*c->docs));
    c->names = ic_xrealloc(c->names, n * sizeof(*c->names));
    c->cap_docs = n;
}

/* The connection's policy set for the current epoch (the caller has
 * refreshed: once per check, not once per step). */
static void load_set(ic_auth_t *a, ic_auth_conn_t *c) {
    const char *names[MAX_SET];
    size_t n, i;
    const char *thing;
    if (c->set_epoch == a->epoch)
        return;
    if (c->is_inline) { /* a custom authorizer's documents + the listener's */
        set_reserve(c, c->n_inline + 1);
        c->n_docs = 0;
        for (i = 0; i < c->n_inline; i++) {
            c->docs[c->n_docs] = c->inline_docs[i];
            c->names[c->n_docs++] = c->inline_names[i];
        }
        if (c->anon && ic_policies_get(a->policies, c->anon) &&
            (c->docs[c->n_docs] = compiled(a, c->anon)) != NULL)
            c->names[c->n_docs++] = ic_policies_get(a->policies, c->anon)->name;
        c->set_epoch = a->epoch;
        return;
    }
    thing = conn_thing(a, c);
    n = effective(a, c->cert_id, c->anon, thing, names, MAX_SET);
    set_reserve(c, n ? n : 1);
    c->n_docs = 0;
    for (i = 0; i < n; i++) {
        const ic_policy_doc_t *d = compiled(a, names[i]);
        if (d) {
            c->docs[c->n_docs] = d;
            c->names[c->n_docs++] = names[i];
        }
    }
    c->set_epoch = a->epoch;
}

/* ---- context values ------------------------------------------------------------- */

typedef struct vctx_s {
    ic_auth_t *a;
    const char *cert_id, *client_id, *ip, *sni, *thing;
    const ic_auth_connect_t *cx;
    char *pool[POOL];   /* strings handed to the engine, freed after */
    size_t n_pool;
} vctx_t;

static const char *keep(vctx_t *v, const char *s, size_t n) {
    char *c;
    if (v->n_pool == POOL)
        return NULL;
    c = ic_xstrndup(s, n);
    v->pool[v->n_pool++] = c;
    return c;
}

static void pool_free(vctx_t *v) {
    while (v->n_pool > 0)
        free(v->pool[--v->n_pool]);
}

static const struct {
    const char *name;
    int nid;
} dn_attrs[] = {
    {"DistinguishedNameQualifier", NID_dnQualifier},
    {"Country", NID_countryName},
    {"Organization", NID_organizationName},
    {"OrganizationalUnit", NID_organizationalUnitName},
    {"State", NID_stateOrProvinceName},
    {"CommonName", NID_commonName},
    {"SerialNumber", NID_serialNumber},
    {"Title", NID_title},
    {"Surname", NID_surname},
    {"GivenName", NID_givenName},
    {"Initials", NID_initials},
    {"Pseudonym", NID_pseudonym},
    {"GenerationQualifier", NID_generationQualifier},
};

static const struct {
    const char *name;
    int type;
} alt_types[] = {
    {"RFC822Name", GEN_EMAIL},
    {"DNSName", GEN_DNS},
    {"DirectoryName", GEN_DIRNAME},
    {"UniformResourceIdentifier", GEN_URI},
    {"IPAddress", GEN_IPADD},
};

static X509 *cert_of(vctx_t *v) {
    ic_cert_info_t ci;
    BIO *b;
    X509 *x;
    if (v->cert_id == NULL || !ic_registry_get(v->a->reg, v->cert_id, &ci))
        return NULL;
    b = BIO_new_mem_buf(ci.pem, -1);
    x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

static size_t dn_values(vctx_t *v, X509_NAME *name, int nid, const char **out,
                        size_t cap) {
    int i = -1;
    size_t n = 0;
    while ((i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0 && n < 5) {
        ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
        unsigned char *utf8 = NULL;
        int len = ASN1_STRING_to_UTF8(&utf8, d);
        if (len >= 0) {
            const char *k = keep(v, (const char *)utf8, (size_t)len);
            if (k == NULL || n >= cap) {
                OPENSSL_free(utf8);
                break;
            }
            out[n++] = k;
        }
        OPENSSL_free(utf8);
    }
    return n;
}

static size_t alt_values(vctx_t *v, X509 *x, int ext, int type,
                         const char **out, size_t cap) {
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, ext, NULL, NULL);
    int i;
    size_t n = 0;
    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens) && n < 5; i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char buf[1100];
        const char *s = NULL;
        size_t len = 0;
        if (g->type != type)
            continue;
        if (type == GEN_EMAIL || type == GEN_DNS || type == GEN_URI) {
            s = (const char *)ASN1_STRING_get0_data(g->d.ia5);
            len = (size_t)ASN1_STRING_length(g->d.ia5);
        } else if (type == GEN_DIRNAME) {
            X509_NAME_oneline(g->d.dirn, buf, sizeof(buf));
            s = buf;
            len = strlen(buf);
        } else if (type == GEN_IPADD) {
            const unsigned char *ip = ASN1_STRING_get0_data(g->d.ip);
            int il = ASN1_STRING_length(g->d.ip);
            if (il == 4)
                snprintf(buf, sizeof(buf), "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
            else if (il == 16) {
                int k, o = 0;
                for (k = 0; k < 16; k += 2)
                    o += snprintf(buf + o, sizeof(buf) - (size_t)o, "%s%x",
                                  k ? ":" : "", ip[k] << 8 | ip[k + 1]);
            } else
                continue;
            s = buf;
            len = strlen(buf);
        }
        if (s) {
            const char *k = keep(v, s, len);
            if (k == NULL || n >= cap)
                break;
            out[n++] = k;
        }
    }
    GENERAL_NAMES_free(gens);
    return n;
}

static size_t cert_value(vctx_t *v, const char *key, const char **out,
                         size_t cap) {
    X509 *x = cert_of(v);
    size_t n = 0, i;
    const char *rest;
    if (x == NULL)
        return 0;
    if (strcasecmp(key, "SerialNumber") == 0) {
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        char *dec = bn ? BN_bn2dec(bn) : NULL; /* AWS: decimal */
        if (dec && cap > 0 && (out[0] = keep(v, dec, strlen(dec))) != NULL)
            n = 1;
        OPENSSL_free(dec);
        BN_free(bn);
    } else if (strncasecmp(key, "Subject.", 8) == 0 ||
               strncasecmp(key, "Issuer.", 7) == 0) {
        bool subject = key[0] == 'S' || key[0] == 's';
        rest = key + (subject ? 8 : 7);
        if (strncasecmp(rest, "AlternativeName.", 16) == 0) {
            for (i = 0; i < sizeof(alt_types) / sizeof(alt_types[0]); i++)
                if (strcasecmp(rest + 16, alt_types[i].name) == 0)
                    n = alt_values(v, x,
                                   subject ? NID_subject_alt_name : NID_issuer_alt_name,
                                   alt_types[i].type, out, cap);
        } else {
            for (i = 0; i < sizeof(dn_attrs) / sizeof(dn_attrs[0]); i++)
                if (strcasecmp(rest, dn_attrs[i].name) == 0)
                    n = dn_values(v,
                                  subject ? X509_get_subject_name(x)
                                          : X509_get_issuer_name(x),
                                  dn_attrs[i].nid, out, cap);
        }
    }
    X509_free(x);
    return n;
}

static size_t values(void *data, const char *key, const char **out, size_t cap) {
    vctx_t *v = data;
    static const char ca[] = "iot:Connection.Thing.Attributes[";
    if (strcasecmp(key, "iot:ClientId") == 0) {
        if (v->client_id == NULL || cap == 0)
            return 0;
        out[0] = v->client_id;
        return 1;
    }
    if (strcasecmp(key, "aws:SourceIp") == 0) {
        if (v->ip == NULL || v->ip[0] == '\0' || cap == 0)
            return 0;
        out[0] = v->ip;
        return 1;
    }
    if (strcasecmp(key, "iot:DomainName") == 0) {
        if (v->sni == NULL || cap == 0)
            return 0;
        out[0] = v->sni;
        return 1;
    }
    if (strcasecmp(key, "iot:Connection.Thing.IsAttached") == 0) {
        if (cap == 0)
            return 1;
        out[0] = v->thing ? "true" : "false"; /* spec 2.2 [REC] */
        return 1;
    }
    if (strcasecmp(key, "iot:Connection.Thing.ThingName") == 0 ||
        strcasecmp(key, "iot:Thing.ThingName") == 0) {
        if (v->thing == NULL || cap == 0)
            return 0;
        out[0] = v->thing;
        return 1;
    }
    if (strcasecmp(key, "iot:Connection.Thing.ThingTypeName") == 0) {
        const ic_thing_t *th = v->thing ? ic_things_get(v->a->things, v->thing) : NULL;
        if (th == NULL || th->type == NULL || cap == 0)
            return 0;
        out[0] = th->type;
        return 1;
    }
    if (strncasecmp(key, ca, sizeof(ca) - 1) == 0) {
        const ic_thing_t *th = v->thing ? ic_things_get(v->a->things, v->thing) : NULL;
        const char *name = key + sizeof(ca) - 1;
        size_t nl = strcspn(name, "]"), i;
        if (th == NULL || name[nl] != ']' || cap == 0)
            return 0;
        for (i = 0; i < th->n_attrs; i++)
            if (strlen(th->attrs[i].key) == nl &&
                strncmp(th->attrs[i].key, name, nl) == 0) {
                out[0] = th->attrs[i].value;
                return 1;
            }
        return 0;
    }
    if (strcasecmp(key, "iot:ConnectAttributes") == 0) {
        size_t n = 0;
        if (v->cx == NULL)
            return 0;
        if (v->cx->persistent && n < cap)
            out[n++] = "PersistentConnect";
        if (v->cx->has_will && n < cap)
            out[n++] = "LastWill";
        /* an empty set is a present key (ForAllValues [] = defaults only) */
        return n;
    }
    if (strcasecmp(key, "iot:LastWillTopic") == 0) {
        char arn[600];
        const char *k;
        if (v->cx == NULL || !v->cx->has_will || cap == 0)
            return 0;
        snprintf(arn, sizeof(arn), "arn:aws:iot:%s:%s:topic/%.*s", v->a->region,
                 v->a->account, (int)v->cx->will_topic_len, v->cx->will_topic);
        if ((k = keep(v, arn, strlen(arn))) == NULL)
            return 0;
        out[0] = k;
        return 1;
    }
    if (strncasecmp(key, "iot:Certificate.", 16) == 0)
        return cert_value(v, key + 16, out, cap);
    return 0;
}

/* ---- decisions ------------------------------------------------------------------- */

static uint32_t fnv(uint8_t act, const char *s, size_t n) {
    uint32_t h = 2166136261u ^ act;
    size_t i;
    for (i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static void reason_of(const ic_auth_conn_t *c, ic_authz_t d,
                      const ic_policy_why_t *why, char *out, size_t cap) {
    if (d == IC_AUTHZ_EXPLICIT_DENY && why->policy >= 0)
        snprintf(out, cap, "explicit deny by policy %s statement %d%s%s%s",
                 c->names[why->policy], why->statement, why->sid[0] ? " (" : "",
                 why->sid, why->sid[0] ? ")" : "");
    else if (why->unresolved[0])
        snprintf(out, cap, "variable ${%s} unresolved", why->unresolved);
    else if (c->n_docs == 0)
        snprintf(out, cap, "no policy in effect for the principal");
    else
        snprintf(out, cap, "no statement allows");
}

static ic_authz_t decide(ic_auth_t *a, ic_auth_conn_t *c, const char *action,
                         const char *resource, const ic_auth_connect_t *cx,
                         ic_policy_why_t *why) {
    vctx_t v;
    ic_policy_ctx_t ctx;
    ic_authz_t d;
    memset(&v, 0, sizeof(v));
    v.a = a;
    v.cert_id = c->cert_id;
    v.client_id = c->client_id;
    v.ip = c->ip;
    v.sni = c->sni;
    v.thing = c->thing;
    v.cx = cx;
    ctx.values = values;
    ctx.data = &v;
    d = ic_policy_eval(c->docs, c->n_docs, action, resource, &ctx, why);
    pool_free(&v);
    return d;
}

bool ic_auth_allow(ic_auth_t *a, ic_auth_conn_t *c, ic_auth_action_t act,
                   const char *name, size_t len, const ic_auth_connect_t *cx) {
    char resource[700], reason[400];
    ic_policy_why_t why;
    ic_authz_t d;
    uint32_t h;
    slot_t *s = NULL;
    int n;
    refresh(a);
    load_set(a, c);
    h = fnv((uint8_t)act, name, len);
    if (act != IC_ACT_CONNECT) { /* CONNECT depends on cx: never cached */
        if (c->cache == NULL)
            c->cache = ic_xcalloc(CACHE_SLOTS, sizeof(slot_t));
        s = &c->cache[h % CACHE_SLOTS];
        if (s->epoch == a->epoch && s->hash == h && s->act == act &&
            s->res_len == len && memcmp(s->res, name, len) == 0) {
            if (!s->allow)
                a->denials++;
            return s->allow;
        }
    }
    memset(&why, 0, sizeof(why));
    why.policy = why.statement = -1;
    n = snprintf(resource, sizeof(resource), "arn:aws:iot:%s:%s:%s/%.*s",
                 a->region, a->account, action_kinds[act], (int)len, name);
    if (n >= 0 && (size_t)n < sizeof(resource)) {
        d = decide(a, c, action_names[act], resource, cx, &why);
    } else {
        /* a topic longer than max_topic_length allows by default: build the
         * resource on the heap */
        char *big = ic_xmalloc((size_t)n + 1);
        snprintf(big, (size_t)n + 1, "arn:aws:iot:%s:%s:%s/%.*s", a->region,
                 a->account, action_kinds[act], (int)len, name);
        d = decide(a, c, action_names[act], big, cx, &why);
        free(big);
        snprintf(resource, sizeof(resource), "arn:aws:iot:%s:%s:%s/%.*s...",
                 a->region, a->account, action_kinds[act], 600, name);
    }
    if (d != IC_AUTHZ_ALLOWED) {
        a->denials++;
        reason_of(c, d, &why, reason, sizeof(reason));
        ic_log_info(a->mode == IC_POLICY_AUDIT ? "authorization would deny"
                                               : "authorization denied",
                    "client_id=%s principal=%s action=%s resource=%s "
                    "decision=%s reason=\"%s\"",
                    c->client_id ? c->client_id : "-",
                    c->cert_id ? c->cert_id : (c->anon ? c->anon : "-"),
                    action_names[act], resource, ic_authz_name(d), reason);
    }
    if (s) {
        free(s->res);
        s->res = ic_xstrndup(name, len);
        s->res_len = len;
        s->epoch = a->epoch;
        s->hash = h;
        s->act = (uint8_t)act;
        s->allow = d == IC_AUTHZ_ALLOWED || a->mode == IC_POLICY_AUDIT;
    }
    return d == IC_AUTHZ_ALLOWED || a->mode == IC_POLICY_AUDIT;
}

/* ---- control plane ----------------------------------------------------------------- */

size_t ic_auth_effective(ic_auth_t *a, const char *cert_id,
                         const char *thing_name, const char **out, size_t cap) {
    return effective(a, cert_id, NULL, thing_name, out, cap);
}

ic_authz_t ic_auth_test(ic_auth_t *a, const ic_auth_test_t *t,
                        const char *action, const char *resource,
                        ic_policy_why_t *why, char *policy, size_t policy_cap) {
    ic_auth_conn_t c;
    const char *names[MAX_SET], *set_names[MAX_SET];
    const ic_policy_doc_t *set_docs[MAX_SET];
    size_t n, i, j;
    const char *thing;
    ic_authz_t d;
    refresh(a);
    memset(&c, 0, sizeof(c));
    c.docs = set_docs; /* on the stack: c is never freed */
    c.names = set_names;
    c.cap_docs = MAX_SET;
    c.cert_id = (char *)(uintptr_t)t->cert_id;
    c.client_id = (char *)(uintptr_t)(t->client_id ? t->client_id : NULL);
    thing = t->thing_name ? t->thing_name
                          : (t->client_id ? associate(a, t->cert_id, t->client_id)
                                          : NULL);
    c.thing = (char *)(uintptr_t)thing;
    n = effective(a, t->cert_id, NULL, thing, names, MAX_SET);
    for (i = 0; i < t->n_add && n < MAX_SET; i++)
        names[n++] = t->add[i];
    for (i = 0; i < n; i++) {
        bool skip = false;
        const ic_policy_doc_t *d2;
        for (j = 0; j < t->n_skip && !skip; j++)
            skip = strcmp(t->skip[j], names[i]) == 0;
        if (skip || (d2 = compiled(a, names[i])) == NULL)
            continue;
        c.docs[c.n_docs] = d2;
        c.names[c.n_docs++] = names[i];
    }
    d = decide(a, &c, action, resource, NULL, why);
    if (policy && policy_cap)
        snprintf(policy, policy_cap, "%s",
                 why->policy >= 0 && (size_t)why->policy < c.n_docs
                     ? c.names[why->policy]
                     : "");
    return d;
}

uint64_t ic_auth_denials(const ic_auth_t *a) {
    return a->denials;
}
