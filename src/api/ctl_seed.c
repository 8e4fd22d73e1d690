/* ctl_seed.c - the seed file: a declarative JSON description of policies,
 * thing types, thing groups, things and certificates with their
 * attachments, applied at start (`seed FILE`).
 *
 *   {"policies":     [{"name": "p", "document": {...} | "file": "p.json"}],
 *    "thingTypes":   [{"name": "t", "description": "..."}],
 *    "thingGroups":  [{"name": "g", "parent": "root"}],
 *    "things":       [{"name": "d1", "type": "t", "attributes": {"k": "v"},
 *                      "groups": ["g"]}],
 *    "certificates": [{"pem": "d1.pem" | "generate": "dir",
 *                      "status": "ACTIVE", "things": ["d1"],
 *                      "policies": ["p"]}],
 *    "topicRules":   [{"name": "r", "payload": {TopicRulePayload}}]}
 *
 * Applying is idempotent: what exists and matches is left alone, a policy
 * whose document changed gets a new default version, a thing whose
 * attributes or type changed is updated, a generated certificate is made
 * once (its files in the directory are reused after that). Paths are
 * relative to the seed file. It uses the registries' own calls, so every
 * rule of the API applies; an error names the entry (`things[2] (d1)`).
 * Runs on the loop thread at start, before any listener accepts.
 */
#include "ctl.h"

#include "iotcored/alloc.h"
#include "iotcored/config.h"
#include "iotcored/engine.h"
#include "iotcored/error.h"
#include "iotcored/log.h"
#include "iotcored/pki.h"
#include "iotcored/policy.h"
#include "iotcored/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SEED_BYTES (16 * 1024 * 1024)

typedef struct seed_s {
    ctl_t *c;
    const char *path;
    char dir[4096];   /* of the seed file, for relative paths */
    char *err;
    size_t errlen;
    int64_t now;
    size_t n_changes;
} seed_t;

static int fail(seed_t *s, const char *section, int i, const char *name,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(seed_t *s, const char *section, int i, const char *name,
                const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(s->err, s->errlen, "seed %s: %s[%d]%s%s%s: %s", s->path, section, i,
             name ? " (" : "", name ? name : "", name ? ")" : "", msg);
    return IC_ECONFIG;
}

static char *read_all(const char *path, size_t max, char *why, size_t whylen) {
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (f == NULL) {
        snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || (size_t)n > max ||
        fseek(f, 0, SEEK_SET) != 0) {
        snprintf(why, whylen, "cannot read %s (larger than %zu bytes?)", path, max);
        fclose(f);
        return NULL;
    }
    buf = ic_xmalloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        snprintf(why, whylen, "cannot read %s", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void resolve(const seed_t *s, const char *p, char *out, size_t cap) {
    int n = p[0] == '/' ? snprintf(out, cap, "%s", p)
                        : snprintf(out, cap, "%s/%s", s->dir, p);
    if (n < 0 || (size_t)n >= cap)
        out[0] = '\0'; /* too long: opening "" fails with a clear error */
}

static const char *str_of(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int names_of(const cJSON *arr, const char **out, size_t cap) {
    const cJSON *it;
    int n = 0;
    cJSON_ArrayForEach(it, arr) {
        if (!cJSON_IsString(it) || (size_t)n == cap)
            return -1;
        out[n++] = it->valuestring;
    }
    return n;
}

/* ---- sections ------------------------------------------------------------------ */

static int seed_policies(seed_t *s, const cJSON *arr) {
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, arr) {
        const char *name = str_of(e, "name"), *file = str_of(e, "file");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "document");
        char *doc = NULL, why[512], path[4096];
        const ic_policy_t *p;
        int rc = 0;
        if (name == NULL)
            return fail(s, "policies", i, NULL, "missing \"name\"");
        if (file) {
            resolve(s, file, path, sizeof(path));
            doc = read_all(path, 65536, why, sizeof(why));
            if (doc == NULL)
                return fail(s, "policies", i, name, "%s", why);
        } else if (cJSON_IsString(d)) {
            doc = ic_xstrdup(d->valuestring);
        } else if (cJSON_IsObject(d)) {
            char *t = cJSON_PrintUnformatted(d);
            doc = ic_xstrdup(t);
            cJSON_free(t);
        } else {
            return fail(s, "policies", i, name, "needs \"document\" or \"file\"");
        }
        {
            ic_policy_doc_t *compiled = ic_policy_compile(doc, why, sizeof(why));
            if (compiled == NULL) {
                free(doc);
                return fail(s, "policies", i, name, "%s", why);
            }
            ic_policy_doc_free(compiled);
        }
        p = ic_policies_get(s->c->policies, name);
        if (p == NULL) {
            rc = ic_policies_create(s->c->policies, name, doc, s->now, why,
                                    sizeof(why));
            s->n_changes += rc == 0;
        } else {
            const ic_policy_version_t *v =
                ic_policies_get_version(p, p->default_version);
            if (v == NULL || strcmp(v->document, doc) != 0) {
                int64_t id;
                if (p->n_versions >= IC_POLICY_MAX_VERSIONS) {
                    /* make room: drop the oldest non-default version */
                    size_t k;
                    for (k = 0; k < p->n_versions; k++)
                        if (p->versions[k].id != p->default_version) {
                            ic_policies_delete_version(s->c->policies, name,
                                                       p->versions[k].id, NULL, 0);
                            break;
                        }
                }
                rc = ic_policies_create_version(s->c->policies, name, doc, true,
                                                s->now, &id, why, sizeof(why));
                s->n_changes += rc == 0;
            }
        }
        free(doc);
        if (rc != 0)
            return fail(s, "policies", i, name, "%s", why);
        i++;
    }
    return 0;
}

static int seed_types(seed_t *s, const cJSON *arr) {
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, arr) {
        const char *name = str_of(e, "name"), *desc = str_of(e, "description");
        char why[256], *props = NULL;
        int rc;
        if (name == NULL)
            return fail(s, "thingTypes", i, NULL, "missing \"name\"");
        if (!ic_things_get_type(s->c->things, name, &(ic_thing_type_t){0})) {
            if (desc) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "thingTypeDescription", desc);
                props = cJSON_PrintUnformatted(o);
                cJSON_Delete(o);
            }
            rc = ic_things_create_type_ex(s->c->things, name, desc, props, s->now,
                                          why, sizeof(why));
            cJSON_free(props);
            if (rc != 0)
                return fail(s, "thingTypes", i, name, "%s", why);
            s->n_changes++;
        }
        i++;
    }
    return 0;
}

static int seed_groups(seed_t *s, const cJSON *arr) {
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, arr) {
        const char *name = str_of(e, "name"), *parent = str_of(e, "parent");
        char why[256];
        if (name == NULL)
            return fail(s, "thingGroups", i, NULL, "missing \"name\"");
        if (!ic_things_get_group(s->c->things, name, &(ic_thing_group_t){0})) {
            if (ic_things_create_group_ex(s->c->things, name, parent, NULL, s->now,
                                          why, sizeof(why)) != 0)
                return fail(s, "thingGroups", i, name, "%s", why);
            s->n_changes++;
        }
        i++;
    }
    return 0;
}

static int seed_things(seed_t *s, const cJSON *arr) {
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, arr) {
        const char *name = str_of(e, "name"), *type = str_of(e, "type");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "attributes"), *it;
        const char *groups[16];
        ic_attr_t attrs[64];
        size_t n = 0;
        int ng, g, rc;
        char why[256];
        if (name == NULL)
            return fail(s, "things", i, NULL, "missing \"name\"");
        cJSON_ArrayForEach(it, a) {
            if (!cJSON_IsString(it) || n == 64)
                return fail(s, "things", i, name, "attributes must be strings");
            attrs[n].key = it->string;
            attrs[n].value = it->valuestring;
            n++;
        }
        ng = names_of(cJSON_GetObjectItemCaseSensitive(e, "groups"), groups, 16);
        if (ng < 0)
            return fail(s, "things", i, name, "\"groups\" must be names");
        if (ic_things_get(s->c->things, name) == NULL) {
            rc = ic_things_create(s->c->things, name, type, attrs, n, s->now, why,
                                  sizeof(why));
        } else {
            rc = ic_things_create(s->c->things, name, type, attrs, n, s->now, why,
                                  sizeof(why));
            if (rc == IC_EEXIST) /* differs from the seed: the seed wins */
                rc = ic_things_update(s->c->things, name, type ? type : "", attrs,
                                      n, false, -1, why, sizeof(why));
            else
                rc = rc == 0 ? 1 : rc; /* unchanged */
        }
        if (rc < 0)
            return fail(s, "things", i, name, "%s", why);
        s->n_changes += rc == 0;
        for (g = 0; g < ng; g++) {
            rc = ic_things_add_to_group(s->c->things, groups[g], name, why,
                                        sizeof(why));
            if (rc != 0 && rc != IC_EEXIST)
                return fail(s, "things", i, name, "group %s: %s", groups[g], why);
        }
        i++;
    }
    return 0;
}

static int write_file(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    size_t n = strlen(text);
    ssize_t w;
    if (fd < 0)
        return -1;
    w = write(fd, text, n);
    return close(fd) == 0 && w == (ssize_t)n ? 0 : -1;
}

/* The PEM of a certificate entry: a file, or generated once into a dir. */
static char *cert_pem(seed_t *s, const cJSON *e, int i, int *rc) {
    const char *pem = str_of(e, "pem"), *gen = str_of(e, "generate");
    char path[4096], dir[4096], why[512];
    char *text;
    ic_pki_issued_t x;
    *rc = 0;
    if (pem) {
        resolve(s, pem, path, sizeof(path));
        text = read_all(path, 65536, why, sizeof(why));
        if (text == NULL)
            *rc = fail(s, "certificates", i, pem, "%s", why);
        return text;
    }
    if (gen == NULL) {
        *rc = fail(s, "certificates", i, NULL, "needs \"pem\" or \"generate\"");
        return NULL;
    }
    resolve(s, gen, dir, sizeof(dir));
    if (snprintf(path, sizeof(path), "%s/certificate.pem.crt", dir) >=
        (int)sizeof(path)) {
        *rc = fail(s, "certificates", i, gen, "path too long");
        return NULL;
    }
    if (access(path, R_OK) == 0) {
        text = read_all(path, 65536, why, sizeof(why));
        if (text == NULL)
            *rc = fail(s, "certificates", i, gen, "%s", why);
        return text;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        *rc = fail(s, "certificates", i, gen, "cannot create %s: %s", dir,
                   strerror(errno));
        return NULL;
    }
    if (ic_pki_issue(s->c->b->cfg->data_dir, NULL, &x, why, sizeof(why)) != 0) {
        *rc = fail(s, "certificates", i, gen, "%s", why);
        return NULL;
    }
    {
        char kp[4200], pp[4200], ca[4200];
        bool fits;
        ic_pki_paths_t pk;
        char *root;
        fits = snprintf(kp, sizeof(kp), "%s/private.pem.key", dir) <
                   (int)sizeof(kp) &&
               snprintf(pp, sizeof(pp), "%s/public.pem.key", dir) <
                   (int)sizeof(pp) &&
               snprintf(ca, sizeof(ca), "%s/root-ca.pem", dir) < (int)sizeof(ca);
        ic_pki_paths(s->c->b->cfg->data_dir, &pk);
        root = read_all(pk.ca_cert, 65536, why, sizeof(why));
        if (!fits || write_file(kp, x.key_pem, 0600) != 0 ||
            write_file(pp, x.pub_pem, 0644) != 0 ||
            (root && write_file(ca, root, 0644) != 0) ||
            write_file(path, x.cert_pem, 0644) != 0)
            *rc = fail(s, "certificates", i, gen, "cannot write into %s: %s", dir,
                       strerror(errno));
        free(root);
    }
    text = *rc == 0 ? ic_xstrdup(x.cert_pem) : NULL;
    ic_pki_issued_free(&x);
    return text;
}

static int seed_certs(seed_t *s, const cJSON *arr) {
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, arr) {
        const char *st_s = str_of(e, "status"), *things[16], *pols[16];
        char id[65], why[256], arn[512];
        int st = st_s ? ic_cert_status_parse(st_s) : IC_CERT_ACTIVE;
        int nt, np, k, rc;
        char *pem;
        if (st < 0)
            return fail(s, "certificates", i, NULL, "unknown status %s", st_s);
        nt = names_of(cJSON_GetObjectItemCaseSensitive(e, "things"), things, 16);
        np = names_of(cJSON_GetObjectItemCaseSensitive(e, "policies"), pols, 16);
        if (nt < 0 || np < 0)
            return fail(s, "certificates", i, NULL,
                        "\"things\" and \"policies\" must be names");
        pem = cert_pem(s, e, i, &rc);
        if (pem == NULL)
            return rc;
        if (ic_registry_cert_id_of_pem(pem, id) != 0) {
            free(pem);
            return fail(s, "certificates", i, NULL, "not a PEM certificate");
        }
        if (!ic_registry_get(s->c->registry, id, &(ic_cert_info_t){0})) {
            char ca[65];
            bool has_ca = ic_registry_find_issuer(s->c->registry, pem, ca);
            rc = ic_registry_add_cert(s->c->registry, pem, (ic_cert_status_t)st,
                                      has_ca ? ca : NULL, s->now, id, why,
                                      sizeof(why));
            if (rc != 0) {
                free(pem);
                return fail(s, "certificates", i, id, "%s", why);
            }
            s->n_changes++;
        } else if (ic_registry_status(s->c->registry, id) != st) {
            ic_registry_set_status(s->c->registry, id, (ic_cert_status_t)st, s->now);
            s->n_changes++;
        }
        free(pem);
        for (k = 0; k < nt; k++) {
            rc = ic_things_attach_principal(s->c->things, things[k], id, false, why,
                                            sizeof(why));
            if (rc != 0 && rc != IC_EEXIST)
                return fail(s, "certificates", i, id, "thing %s: %s", things[k], why);
        }
        ic__ctl_arn(s->c, "cert", id, arn, sizeof(arn));
        for (k = 0; k < np; k++) {
            if (ic_policies_get(s->c->policies, pols[k]) == NULL)
                return fail(s, "certificates", i, id, "policy %s does not exist",
                            pols[k]);
            ic_policies_attach(s->c->policies, pols[k], arn);
        }
        i++;
    }
    return 0;
}

/* Topic rules: created, or replaced when the payload changed. */
static int seed_rules(seed_t *s, const cJSON *arr) {
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, arr) {
        const char *name = str_of(e, "name");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "payload");
        const cJSON *old;
        char why[512];
        ic_engine_err_t rc;
        if (name == NULL)
            return fail(s, "topicRules", i, NULL, "missing \"name\"");
        if (!cJSON_IsObject(p))
            return fail(s, "topicRules", i, name, "needs a \"payload\" object");
        old = ic_engine_payload(s->c->b->engine, name);
        if (old == NULL || !ic_engine_payload_equal(old, p)) {
            rc = ic_engine_put(s->c->b->engine, name, p, NULL, old != NULL, why,
                               sizeof(why));
            if (rc != IC_ENGINE_OK)
                return fail(s, "topicRules", i, name, "%s", why);
            s->n_changes++;
        }
        i++;
    }
    return 0;
}

int ic__ctl_seed_apply(ctl_t *c, const char *path, char *err, size_t errlen) {
    seed_t s;
    char why[512], *text, *slash;
    cJSON *root;
    static const char *const known[] = {"policies", "thingTypes", "thingGroups",
                                        "things", "certificates", "topicRules",
                                        NULL};
    const cJSON *it;
    int rc;
    memset(&s, 0, sizeof(s));
    s.c = c;
    s.path = path;
    s.err = err;
    s.errlen = errlen;
    s.now = ic__ctl_now_ms();
    ic_strlcpy(s.dir, path, sizeof(s.dir));
    slash = strrchr(s.dir, '/');
    if (slash)
        *slash = '\0';
    else
        ic_strlcpy(s.dir, ".", sizeof(s.dir));
    text = read_all(path, MAX_SEED_BYTES, why, sizeof(why));
    if (text == NULL) {
        snprintf(err, errlen, "seed %s: %s", path, why);
        return IC_ECONFIG;
    }
    root = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        snprintf(err, errlen, "seed %s: not a JSON object", path);
        return IC_ECONFIG;
    }
    cJSON_ArrayForEach(it, root) {
        size_t k;
        for (k = 0; known[k] && strcmp(known[k], it->string) != 0; k++)
            ;
        if (known[k] == NULL || !cJSON_IsArray(it)) {
            snprintf(err, errlen, "seed %s: %s: %s", path, it->string,
                     known[k] ? "must be an array" : "unknown section");
            cJSON_Delete(root);
            return IC_ECONFIG;
        }
    }
    rc = seed_policies(&s, cJSON_GetObjectItemCaseSensitive(root, "policies"));
    if (rc == 0)
        rc = seed_types(&s, cJSON_GetObjectItemCaseSensitive(root, "thingTypes"));
    if (rc == 0)
        rc = seed_groups(&s, cJSON_GetObjectItemCaseSensitive(root, "thingGroups"));
    if (rc == 0)
        rc = seed_things(&s, cJSON_GetObjectItemCaseSensitive(root, "things"));
    if (rc == 0)
        rc = seed_certs(&s, cJSON_GetObjectItemCaseSensitive(root, "certificates"));
    if (rc == 0)
        rc = seed_rules(&s, cJSON_GetObjectItemCaseSensitive(root, "topicRules"));
    cJSON_Delete(root);
    if (rc == 0)
        ic_log_info("seed applied", "file=%s changes=%zu", path, s.n_changes);
    return rc;
}
