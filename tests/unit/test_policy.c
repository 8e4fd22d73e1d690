/* test_policy.c - the policy engine, table-driven: (policy, context,
 * action, resource) -> decision and reason, including the AWS
 * documentation's example policies; and malformed documents. */
#include "suites.h"

#include "iotcored/policy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ARN "arn:aws:iot:us-east-1:123456789012:"

/* context: "key=value" pairs, a key repeated for several values */
typedef struct row_s {
    const char *doc;
    const char *ctx[8];
    const char *action, *resource;
    ic_authz_t want;
    const char *unresolved; /* expected why.unresolved, NULL = "" */
    int statement;          /* expected deciding statement, -2 = any */
} row_t;

static size_t values(void *data, const char *key, const char **out, size_t cap) {
    const char *const *ctx = data;
    size_t n = 0, i, kl = strlen(key);
    for (i = 0; ctx[i] && i < 8; i++)
        if (strncasecmp(ctx[i], key, kl) == 0 && ctx[i][kl] == '=' && n < cap)
            out[n++] = ctx[i] + kl + 1;
    return n;
}

#define V "\"Version\":\"2012-10-17\","
#define ALLOW(a, r) "{\"Effect\":\"Allow\",\"Action\":" a ",\"Resource\":" r "}"
#define DENY(a, r) "{\"Effect\":\"Deny\",\"Action\":" a ",\"Resource\":" r "}"

static const row_t rows[] = {
    /* default deny; allow; explicit deny wins */
    {"{" V "\"Statement\":[" ALLOW("\"iot:Publish\"", "\"" ARN "topic/a\"") "]}",
     {NULL}, "iot:Publish", ARN "topic/b", IC_AUTHZ_IMPLICIT_DENY, NULL, -1},
    {"{" V "\"Statement\":[" ALLOW("\"iot:Publish\"", "\"" ARN "topic/a\"") "]}",
     {NULL}, "iot:Publish", ARN "topic/a", IC_AUTHZ_ALLOWED, NULL, 0},
    {"{" V "\"Statement\":[" ALLOW("\"iot:*\"", "\"*\"") ","
     DENY("\"iot:Publish\"", "\"" ARN "topic/admin/*\"") "]}",
     {NULL}, "iot:Publish", ARN "topic/admin/x", IC_AUTHZ_EXPLICIT_DENY, NULL, 1},
    /* a single Statement object; action names case-insensitive, wildcards */
    {"{" V "\"Statement\":" ALLOW("\"IOT:pub*\"", "\"*\"") "}",
     {NULL}, "iot:Publish", ARN "topic/x", IC_AUTHZ_ALLOWED, NULL, 0},
    {"{" V "\"Statement\":" ALLOW("[\"iot:Connect\",\"iot:Rec?ive\"]", "\"*\"") "}",
     {NULL}, "iot:Receive", ARN "topic/x", IC_AUTHZ_ALLOWED, NULL, 0},
    /* NotAction */
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":\"iot:Connect\","
     "\"Resource\":\"*\"}}",
     {NULL}, "iot:Connect", ARN "client/c", IC_AUTHZ_IMPLICIT_DENY, NULL, -1},
    /* * spans levels; ? is one character; + and # are literal */
    {"{" V "\"Statement\":" ALLOW("\"iot:Publish\"", "\"" ARN "topic/a/*/z\"") "}",
     {NULL}, "iot:Publish", ARN "topic/a/b/c/z", IC_AUTHZ_ALLOWED, NULL, 0},
    {"{" V "\"Statement\":" ALLOW("\"iot:Publish\"", "\"" ARN "topic/s???\"") "}",
     {NULL}, "iot:Publish", ARN "topic/s1234", IC_AUTHZ_IMPLICIT_DENY, NULL, -1},
    {"{" V "\"Statement\":" ALLOW("\"iot:Subscribe\"",
                                  "\"" ARN "topicfilter/some/+/topic\"") "}",
     {NULL}, "iot:Subscribe", ARN "topicfilter/some/x/topic",
     IC_AUTHZ_IMPLICIT_DENY, NULL, -1},
    {"{" V "\"Statement\":" ALLOW("\"iot:Subscribe\"",
                                  "\"" ARN "topicfilter/some/+/topic\"") "}",
     {NULL}, "iot:Subscribe", ARN "topicfilter/some/+/topic", IC_AUTHZ_ALLOWED,
     NULL, 0},
    {"{" V "\"Statement\":" ALLOW("\"iot:Subscribe\"",
                                  "\"" ARN "topicfilter/a/*\"") "}",
     {NULL}, "iot:Subscribe", ARN "topicfilter/a/#", IC_AUTHZ_ALLOWED, NULL, 0},
    /* resources are case-sensitive */
    {"{" V "\"Statement\":" ALLOW("\"iot:Publish\"", "\"" ARN "topic/A\"") "}",
     {NULL}, "iot:Publish", ARN "topic/a", IC_AUTHZ_IMPLICIT_DENY, NULL, -1},
    /* thing-scoped topics (AWS docs) */
    {"{" V "\"Statement\":" ALLOW("\"iot:Publish\"",
        "\"" ARN "topic/${iot:Connection.Thing.ThingName}/*\"") "}",
     {"iot:Connection.Thing.ThingName=dev1"}, "iot:Publish", ARN "topic/dev1/t",
     IC_AUTHZ_ALLOWED, NULL, 0},
    {"{" V "\"Statement\":" ALLOW("\"iot:Publish\"",
        "\"" ARN "topic/${iot:Connection.Thing.ThingName}/*\"") "}",
     {"iot:Connection.Thing.ThingName=dev1"}, "iot:Publish", ARN "topic/dev2/t",
     IC_AUTHZ_IMPLICIT_DENY, NULL, -1},
    /* unresolved: an Allow grants nothing, a Deny denies nothing */
    {"{" V "\"Statement\":" ALLOW("\"iot:Publish\"",
        "\"" ARN "topic/${iot:Connection.Thing.ThingName}/*\"") "}",
     {NULL}, "iot:Publish", ARN "topic/${iot:Connection.Thing.ThingName}/t",
     IC_AUTHZ_IMPLICIT_DENY, "iot:Connection.Thing.ThingName", -1},
    {"{" V "\"Statement\":[" ALLOW("\"iot:*\"", "\"*\"") ","
     DENY("\"iot:Publish\"", "\"" ARN "topic/${iot:Connection.Thing.ThingName}\"") "]}",
     {NULL}, "iot:Publish", ARN "topic/x", IC_AUTHZ_ALLOWED, NULL, 0},
    /* without Version 2012-10-17 a variable is literal text */
    {"{\"Statement\":" ALLOW("\"iot:Publish\"", "\"" ARN "topic/${iot:ClientId}\"") "}",
     {"iot:ClientId=c1"}, "iot:Publish", ARN "topic/${iot:ClientId}",
     IC_AUTHZ_ALLOWED, NULL, 0},
    /* client ID injection pitfall: "+" substituted gives a literal + filter */
    {"{" V "\"Statement\":" ALLOW("\"iot:Subscribe\"",
        "\"" ARN "topicfilter/my/${iot:ClientId}/topic\"") "}",
     {"iot:ClientId=+"}, "iot:Subscribe", ARN "topicfilter/my/+/topic",
     IC_AUTHZ_IMPLICIT_DENY, "iot:ClientId", -1},
    /* NotResource receive (AWS docs) */
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Receive\","
     "\"NotResource\":\"" ARN "topic/a/restricted/*\"}}",
     {NULL}, "iot:Receive", ARN "topic/a/restricted/x", IC_AUTHZ_IMPLICIT_DENY,
     NULL, -1},
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Receive\","
     "\"NotResource\":\"" ARN "topic/a/restricted/*\"}}",
     {NULL}, "iot:Receive", ARN "topic/a/open", IC_AUTHZ_ALLOWED, NULL, 0},
    /* ConnectAttributes: default features only; must be persistent */
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
     "\"Resource\":\"*\",\"Condition\":{\"ForAllValues:StringEquals\":"
     "{\"iot:ConnectAttributes\":[]}}}}",
     {NULL}, "iot:Connect", ARN "client/c", IC_AUTHZ_ALLOWED, NULL, 0},
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
     "\"Resource\":\"*\",\"Condition\":{\"ForAllValues:StringEquals\":"
     "{\"iot:ConnectAttributes\":[]}}}}",
     {"iot:ConnectAttributes=LastWill"}, "iot:Connect", ARN "client/c",
     IC_AUTHZ_IMPLICIT_DENY, NULL, -1},
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
     "\"Resource\":\"*\",\"Condition\":{\"ForAnyValue:StringEquals\":"
     "{\"iot:ConnectAttributes\":[\"PersistentConnect\"]}}}}",
     {"iot:ConnectAttributes=PersistentConnect", "iot:ConnectAttributes=LastWill"},
     "iot:Connect", ARN "client/c", IC_AUTHZ_ALLOWED, NULL, 0},
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
     "\"Resource\":\"*\",\"Condition\":{\"ForAnyValue:StringEquals\":"
     "{\"iot:ConnectAttributes\":[\"PersistentConnect\"]}}}}",
     {NULL}, "iot:Connect", ARN "client/c", IC_AUTHZ_IMPLICIT_DENY, NULL, -1},
    /* ArnEquals on the will topic */
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
     "\"Resource\":\"*\",\"Condition\":{\"ArnEquals\":{\"iot:LastWillTopic\":"
     "\"" ARN "topic/will/${iot:ClientId}\"}}}}",
     {"iot:ClientId=c1", "iot:LastWillTopic=" ARN "topic/will/c1"}, "iot:Connect",
     ARN "client/c1", IC_AUTHZ_ALLOWED, NULL, 0},
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
     "\"Resource\":\"*\",\"Condition\":{\"ArnEquals\":{\"iot:LastWillTopic\":"
     "\"" ARN "topic/will/${iot:ClientId}\"}}}}",
     {"iot:ClientId=c1", "iot:LastWillTopic=" ARN "topic/will/c2"}, "iot:Connect",
     ARN "client/c1", IC_AUTHZ_IMPLICIT_DENY, NULL, -1},
    /* Bool IsAttached */
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
     "\"Resource\":\"*\",\"Condition\":{\"Bool\":"
     "{\"iot:Connection.Thing.IsAttached\":\"true\"}}}}",
     {"iot:Connection.Thing.IsAttached=false"}, "iot:Connect", ARN "client/c",
     IC_AUTHZ_IMPLICIT_DENY, NULL, -1},
    /* IpAddress v4 and v6 CIDR; NotIpAddress */
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
     "\"Resource\":\"*\",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":"
     "[\"10.0.0.0/8\",\"2001:db8::/32\"]}}}}",
     {"aws:SourceIp=10.1.2.3"}, "iot:Connect", ARN "client/c", IC_AUTHZ_ALLOWED,
     NULL, 0},
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
     "\"Resource\":\"*\",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":"
     "[\"10.0.0.0/8\",\"2001:db8::/32\"]}}}}",
     {"aws:SourceIp=2001:db8:1::5"}, "iot:Connect", ARN "client/c",
     IC_AUTHZ_ALLOWED, NULL, 0},
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
     "\"Resource\":\"*\",\"Condition\":{\"NotIpAddress\":{\"aws:SourceIp\":"
     "\"127.0.0.1\"}}}}",
     {"aws:SourceIp=127.0.0.1"}, "iot:Connect", ARN "client/c",
     IC_AUTHZ_IMPLICIT_DENY, NULL, -1},
    /* certificate variables: .List with ForAnyValue, .1 index, the escaped
     * OU example of the AWS docs */
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
     "\"Resource\":\"*\",\"Condition\":{\"ForAnyValue:StringEquals\":"
     "{\"iot:Certificate.Subject.Organization.List\":[\"Example\"]}}}}",
     {"iot:Certificate.Subject.Organization=Other",
      "iot:Certificate.Subject.Organization=Example"},
     "iot:Connect", ARN "client/c", IC_AUTHZ_ALLOWED, NULL, 0},
    {"{" V "\"Statement\":" ALLOW("\"iot:Publish\"",
        "\"" ARN "topic/${iot:Certificate.Subject.Country.1}\"") "}",
     {"iot:Certificate.Subject.Country=US", "iot:Certificate.Subject.Country=DE"},
     "iot:Publish", ARN "topic/DE", IC_AUTHZ_ALLOWED, NULL, 0},
    {"{" V "\"Statement\":" ALLOW("\"iot:Publish\"",
        "\"" ARN "topic/${iot:Certificate.Subject.Country.2}\"") "}",
     {"iot:Certificate.Subject.Country=US", "iot:Certificate.Subject.Country=DE"},
     "iot:Publish", ARN "topic/DE", IC_AUTHZ_IMPLICIT_DENY,
     "iot:Certificate.Subject.Country.2", -1},
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
     "\"Resource\":\"*\",\"Condition\":{\"StringEquals\":"
     "{\"iot:Certificate.Issuer.OrganizationalUnit\":\"Amazon Web Services "
     "O\\\\=Amazon.com Inc. L\\\\=Seattle ST\\\\=Washington C\\\\=US\"}}}}",
     {"iot:Certificate.Issuer.OrganizationalUnit=Amazon Web Services "
      "O=Amazon.com Inc. L=Seattle ST=Washington C=US"},
     "iot:Connect", ARN "client/c", IC_AUTHZ_ALLOWED, NULL, 0},
    /* Null: the key must be present */
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
     "\"Resource\":\"*\",\"Condition\":{\"Null\":"
     "{\"iot:Certificate.SerialNumber\":\"false\"}}}}",
     {NULL}, "iot:Connect", ARN "client/c", IC_AUTHZ_IMPLICIT_DENY, NULL, -1},
    /* thing attributes and type, StringLike with a variable */
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\","
     "\"Resource\":\"*\",\"Condition\":{\"StringEquals\":"
     "{\"iot:Connection.Thing.Attributes[room]\":\"12\","
     "\"iot:Connection.Thing.ThingTypeName\":\"sensor\"}}}}",
     {"iot:Connection.Thing.Attributes[room]=12",
      "iot:Connection.Thing.ThingTypeName=sensor"},
     "iot:Publish", ARN "topic/x", IC_AUTHZ_ALLOWED, NULL, 0},
    /* IfExists: a missing key passes */
    {"{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\","
     "\"Resource\":\"*\",\"Condition\":{\"StringEqualsIfExists\":"
     "{\"iot:DomainName\":\"example.com\"}}}}",
     {NULL}, "iot:Publish", ARN "topic/x", IC_AUTHZ_ALLOWED, NULL, 0},
    /* literal escape ${*} */
    {"{" V "\"Statement\":" ALLOW("\"iot:Publish\"", "\"" ARN "topic/a${*}\"") "}",
     {NULL}, "iot:Publish", ARN "topic/ab", IC_AUTHZ_IMPLICIT_DENY, NULL, -1},
    {"{" V "\"Statement\":" ALLOW("\"iot:Publish\"", "\"" ARN "topic/a${*}\"") "}",
     {NULL}, "iot:Publish", ARN "topic/a*", IC_AUTHZ_ALLOWED, NULL, 0},
};

START_TEST(table) {
    size_t i;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row_t *r = &rows[i];
        char why_c[256];
        ic_policy_doc_t *d = ic_policy_compile(r->doc, why_c, sizeof(why_c));
        const ic_policy_doc_t *docs[1];
        ic_policy_ctx_t ctx = {values, (void *)(uintptr_t)r->ctx};
        ic_policy_why_t why;
        ic_authz_t got;
        ck_assert_msg(d != NULL, "row %zu: %s", i, why_c);
        docs[0] = d;
        got = ic_policy_eval(docs, 1, r->action, r->resource, &ctx, &why);
        ck_assert_msg(got == r->want, "row %zu: %s on %s: got %s want %s", i,
                      r->action, r->resource, ic_authz_name(got),
                      ic_authz_name(r->want));
        ck_assert_msg(strcmp(why.unresolved, r->unresolved ? r->unresolved : "") == 0,
                      "row %zu: unresolved '%s'", i, why.unresolved);
        if (r->statement != -2)
            ck_assert_msg(why.statement == r->statement, "row %zu: statement %d", i,
                          why.statement);
        ic_policy_doc_free(d);
    }
}
END_TEST

START_TEST(sid_and_several_policies) {
    const char *a = "{" V "\"Statement\":" ALLOW("\"iot:*\"", "\"*\"") "}";
    const char *b = "{" V "\"Statement\":[{\"Sid\":\"NoAdmin\",\"Effect\":\"Deny\","
                    "\"Action\":\"iot:Publish\",\"Resource\":\"" ARN "topic/admin\"}]}";
    char why_c[256];
    ic_policy_doc_t *da = ic_policy_compile(a, why_c, sizeof(why_c));
    ic_policy_doc_t *db = ic_policy_compile(b, why_c, sizeof(why_c));
    const ic_policy_doc_t *docs[2] = {da, db};
    ic_policy_why_t why;
    ck_assert_int_eq(ic_policy_eval(docs, 2, "iot:Publish", ARN "topic/admin", NULL,
                                    &why),
                     IC_AUTHZ_EXPLICIT_DENY);
    ck_assert_int_eq(why.policy, 1);
    ck_assert_int_eq(why.statement, 0);
    ck_assert_str_eq(why.sid, "NoAdmin");
    ck_assert(!ic_policy_is_contextual(da));
    ic_policy_doc_free(da);
    ic_policy_doc_free(db);
}
END_TEST

START_TEST(malformed) {
    static const struct {
        const char *doc, *msg;
    } bad[] = {
        {"not json", "not a JSON object"},
        {"{\"Statement\":[]}", "Statement must be"},
        {"{\"Statement\":{\"Effect\":\"Maybe\",\"Action\":\"a\",\"Resource\":\"*\"}}",
         "Statement[0].Effect must be Allow or Deny"},
        {"{\"Statement\":[" ALLOW("\"a\"", "\"*\"") ",{\"Effect\":\"Allow\","
         "\"Resource\":\"*\"}]}",
         "Statement[1] needs exactly one of Action or NotAction"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"a\"}}",
         "Statement[0] needs exactly one of Resource or NotResource"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":[],\"Resource\":\"*\"}}",
         "Statement[0].Action must be"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"a\",\"Resource\":\"*\","
         "\"Condition\":{\"StringSortOf\":{\"k\":\"v\"}}}}",
         "Statement[0].Condition.StringSortOf is not a condition operator"},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"a\",\"Resource\":\"*\","
         "\"Extra\":1}}",
         "Statement[0].Extra is not a statement element"},
    };
    size_t i;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char why[256] = "";
        ck_assert_msg(ic_policy_compile(bad[i].doc, why, sizeof(why)) == NULL,
                      "compiled: %s", bad[i].doc);
        ck_assert_msg(strstr(why, "Policy document is malformed: ") == why &&
                          strstr(why, bad[i].msg) != NULL,
                      "%s -> %s", bad[i].doc, why);
    }
}
END_TEST

Suite *ic_policy_suite(void) {
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("policy");
    tcase_add_test(tc, table);
    tcase_add_test(tc, sid_and_several_policies);
    tcase_add_test(tc, malformed);
    suite_add_tcase(s, tc);
    return s;
}
