/* test_policy.c - the IoT policy engine: rows of (policy JSON, context,
 * action, resource) -> decision and why (aws-iot-auth.md 1-3), malformed
 * documents with their JSON paths, what the engine asks the context for,
 * and that evaluation does not allocate.
 *
 * Policies are written with ' for " to keep the rows readable; \\' stands
 * for a real apostrophe (IAM's ${name, 'default'}).
 */
#include "iotcored/alloc.h"
#include "iotcored/policy.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define A "arn:aws:iot:us-east-1:123456789012:"
#define V12 "'Version':'2012-10-17',"
#define DOC(...) "{" V12 "'Statement':[" __VA_ARGS__ "]}"
#define ALLOW_ALL "{'Effect':'Allow','Action':'iot:*','Resource':'*'}"

#define OK(p, s) .want = IC_AUTHZ_ALLOWED, .policy = (p), .stmt = (s)
#define DENY(p, s) .want = IC_AUTHZ_EXPLICIT_DENY, .policy = (p), .stmt = (s)
#define IMPLICIT .want = IC_AUTHZ_IMPLICIT_DENY, .policy = -1, .stmt = -1

#define THING "iot:Connection.Thing.ThingName"
#define CID(x) {"iot:ClientId", {x}}
#define TH(x) {THING, {x}}
#define ATTRS(...) {"iot:ConnectAttributes", {__VA_ARGS__}}

typedef struct kv_s {
    const char *key;
    const char *v[7]; /* NULL-terminated */
} kv_t;

typedef struct row_s {
    const char *what;
    const char *pol[3];
    kv_t ctx[6];
    const char *action;
    const char *resource;
    ic_authz_t want;
    int policy, stmt;
    const char *sid;   /* NULL: "" */
    const char *unres; /* NULL: "" */
} row_t;

/* ' -> ", \' -> ' */
static char *dq(const char *s) {
    char *o = malloc(strlen(s) + 1), *p = o;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] == '\'')
            *p++ = *++s;
        else
            *p++ = *s == '\'' ? '"' : *s;
    }
    *p = '\0';
    return o;
}

typedef struct tctx_s {
    const kv_t *kv;
    size_t n;
    char asked[512]; /* keys asked, ';'-separated */
} tctx_t;

/* Keys are matched case-insensitively, as auth.c does. */
static size_t values(void *data, const char *key, const char **out, size_t cap) {
    tctx_t *t = data;
    size_t i, n = 0;
    if (strlen(t->asked) + strlen(key) + 2 < sizeof(t->asked)) {
        strcat(t->asked, key);
        strcat(t->asked, ";");
    }
    for (i = 0; i < t->n; i++)
        if (t->kv[i].key && strcasecmp(t->kv[i].key, key) == 0)
            break;
    if (i == t->n)
        return 0;
    for (; t->kv[i].v[n]; n++)
        if (n < cap)
            out[n] = t->kv[i].v[n];
    return n;
}

static const row_t rows[] = {
    /* ---- resources: IAM globs, case, MQTT characters (spec 1.4) ---- */
    {"exact topic", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/a/b'}")},
     {{0}}, "iot:Publish", A "topic/a/b", OK(0, 0)},
    {"other topic", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/a/b'}")},
     {{0}}, "iot:Publish", A "topic/a/c", IMPLICIT},
    {"* spans levels", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/a/*'}")},
     {{0}}, "iot:Publish", A "topic/a/b/c/d", OK(0, 0)},
    {"* spans colons", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'arn:aws:iot:*:topic/x'}")},
     {{0}}, "iot:Publish", A "topic/x", OK(0, 0)},
    {"* matches empty", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/a*'}")},
     {{0}}, "iot:Publish", A "topic/a", OK(0, 0)},
    {"??? exactly three", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/sensor\?\?\?'}")},
     {{0}}, "iot:Publish", A "topic/sensor123", OK(0, 0)},
    {"??? not two", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/sensor\?\?\?'}")},
     {{0}}, "iot:Publish", A "topic/sensor12", IMPLICIT},
    {"??? not four", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/sensor\?\?\?'}")},
     {{0}}, "iot:Publish", A "topic/sensor1234", IMPLICIT},
    {"? does not span a level like *", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/a?c'}")},
     {{0}}, "iot:Publish", A "topic/a/b/c", IMPLICIT},
    {"? is one UTF-8 character", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/t?'}")},
     {{0}}, "iot:Publish", A "topic/t\xc3\xa9", OK(0, 0)},
    {"bare * matches every resource", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'*'}")},
     {{0}}, "iot:Connect", A "client/x", OK(0, 0)},
    {"resources are case-sensitive", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/Room'}")},
     {{0}}, "iot:Publish", A "topic/room", IMPLICIT},
    {"+ is literal in topicfilter", {DOC("{'Effect':'Allow','Action':'iot:Subscribe','Resource':'" A "topicfilter/some/+/topic'}")},
     {{0}}, "iot:Subscribe", A "topicfilter/some/+/topic", OK(0, 0)},
    {"+ does not match a level", {DOC("{'Effect':'Allow','Action':'iot:Subscribe','Resource':'" A "topicfilter/some/+/topic'}")},
     {{0}}, "iot:Subscribe", A "topicfilter/some/x/topic", IMPLICIT},
    {"# is literal", {DOC("{'Effect':'Allow','Action':'iot:Subscribe','Resource':'" A "topicfilter/a/#'}")},
     {{0}}, "iot:Subscribe", A "topicfilter/a/#", OK(0, 0)},
    {"# does not match levels", {DOC("{'Effect':'Allow','Action':'iot:Subscribe','Resource':'" A "topicfilter/a/#'}")},
     {{0}}, "iot:Subscribe", A "topicfilter/a/b", IMPLICIT},
    {"* covers a + filter", {DOC("{'Effect':'Allow','Action':'iot:Subscribe','Resource':'" A "topicfilter/some/*/topic'}")},
     {{0}}, "iot:Subscribe", A "topicfilter/some/+/topic", OK(0, 0)},
    {"* covers several levels", {DOC("{'Effect':'Allow','Action':'iot:Subscribe','Resource':'" A "topicfilter/some/*/topic'}")},
     {{0}}, "iot:Subscribe", A "topicfilter/some/a/b/topic", OK(0, 0)},
    {"$ is ordinary", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/$aws/things/t1/shadow/update'}")},
     {{0}}, "iot:Publish", A "topic/$aws/things/t1/shadow/update", OK(0, 0)},

    /* ---- actions ---- */
    {"actions are case-insensitive", {DOC("{'Effect':'Allow','Action':'IOT:PUBLISH','Resource':'*'}")},
     {{0}}, "iot:Publish", A "topic/a", OK(0, 0)},
    {"iot:*", {DOC("{'Effect':'Allow','Action':'iot:*','Resource':'*'}")},
     {{0}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"iot:*Shadow", {DOC("{'Effect':'Allow','Action':'iot:*Shadow','Resource':'*'}")},
     {{0}}, "iot:GetThingShadow", A "thing/t1", OK(0, 0)},
    {"iot:?ublish", {DOC("{'Effect':'Allow','Action':'iot:?ublish','Resource':'*'}")},
     {{0}}, "iot:Publish", A "topic/a", OK(0, 0)},
    {"other action", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'*'}")},
     {{0}}, "iot:Subscribe", A "topicfilter/a", IMPLICIT},
    {"action list", {DOC("{'Effect':'Allow','Action':['iot:Publish','iot:Receive'],'Resource':'*'}")},
     {{0}}, "iot:Receive", A "topic/a", OK(0, 0)},
    {"NotAction allows the rest", {DOC("{'Effect':'Allow','NotAction':'iot:Connect','Resource':'*'}")},
     {{0}}, "iot:Publish", A "topic/a", OK(0, 0)},
    {"NotAction excludes its action", {DOC("{'Effect':'Allow','NotAction':'iot:Connect','Resource':'*'}")},
     {{0}}, "iot:Connect", A "client/c", IMPLICIT},
    {"NotAction in a Deny", {DOC(ALLOW_ALL ",{'Effect':'Deny','NotAction':['iot:Connect','iot:Receive'],'Resource':'" A "topic/ro/*'}")},
     {{0}}, "iot:Publish", A "topic/ro/x", DENY(0, 1)},

    /* ---- evaluation: explicit deny first (spec 1.5) ---- */
    {"deny after allow", {DOC(ALLOW_ALL ",{'Sid':'NoAdmin','Effect':'Deny','Action':'iot:Publish','Resource':'" A "topic/admin/*'}")},
     {{0}}, "iot:Publish", A "topic/admin/x", DENY(0, 1), "NoAdmin"},
    {"allow beside an unmatched deny", {DOC("{'Sid':'All','Effect':'Allow','Action':'iot:*','Resource':'*'},{'Effect':'Deny','Action':'iot:Publish','Resource':'" A "topic/admin/*'}")},
     {{0}}, "iot:Publish", A "topic/user/x", OK(0, 0), "All"},
    {"deny for another action", {DOC(ALLOW_ALL ",{'Effect':'Deny','Action':'iot:Publish','Resource':'" A "topic/admin/*'}")},
     {{0}}, "iot:Receive", A "topic/admin/x", OK(0, 0)},
    {"deny in a later policy", {DOC(ALLOW_ALL), DOC("{'Sid':'D','Effect':'Deny','Action':'iot:Publish','Resource':'*'}")},
     {{0}}, "iot:Publish", A "topic/a", DENY(1, 0), "D"},
    {"first deny wins", {DOC(ALLOW_ALL ",{'Sid':'First','Effect':'Deny','Action':'iot:Pub*','Resource':'*'}"),
                         DOC("{'Sid':'Second','Effect':'Deny','Action':'iot:Publish','Resource':'*'}")},
     {{0}}, "iot:Publish", A "topic/a", DENY(0, 1), "First"},
    {"first allowing statement", {DOC("{'Effect':'Allow','Action':'iot:Subscribe','Resource':'*'}"),
                                  DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'*'},{'Sid':'P','Effect':'Allow','Action':'iot:Publish','Resource':'*'}"),
                                  DOC(ALLOW_ALL)},
     {{0}}, "iot:Publish", A "topic/a", OK(1, 1), "P"},
    {"Statement as one object", {"{" V12 "'Statement':{'Sid':'One','Effect':'Allow','Action':'iot:Publish','Resource':'*'}}"},
     {{0}}, "iot:Publish", A "topic/a", OK(0, 0), "One"},
    {"subscribe/receive pitfall: a/# passes a Deny on topicfilter/a/restricted/*",
     {DOC("{'Effect':'Allow','Action':'iot:Subscribe','Resource':'" A "topicfilter/a/*'},"
          "{'Effect':'Deny','Action':'iot:Subscribe','Resource':'" A "topicfilter/a/restricted/*'}")},
     {{0}}, "iot:Subscribe", A "topicfilter/a/#", OK(0, 0)},
    {"NotResource receive: allowed", {DOC("{'Effect':'Allow','Action':'iot:Receive','NotResource':'" A "topic/a/restricted/*'}")},
     {{0}}, "iot:Receive", A "topic/a/b", OK(0, 0)},
    {"NotResource receive: restricted", {DOC("{'Effect':'Allow','Action':'iot:Receive','NotResource':'" A "topic/a/restricted/*'}")},
     {{0}}, "iot:Receive", A "topic/a/restricted/x", IMPLICIT},
    {"NotResource list", {DOC("{'Effect':'Allow','Action':'iot:Receive','NotResource':['" A "topic/x','" A "topic/y']}")},
     {{0}}, "iot:Receive", A "topic/y", IMPLICIT},

    /* ---- literal escapes and Version ---- */
    {"${*} is a literal *", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/a${*}'}")},
     {{0}}, "iot:Publish", A "topic/a*", OK(0, 0)},
    {"${*} is not a wildcard", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/a${*}'}")},
     {{0}}, "iot:Publish", A "topic/ab", IMPLICIT},
    {"${?} is a literal ?", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/q${?}'}")},
     {{0}}, "iot:Publish", A "topic/q?", OK(0, 0)},
    {"${?} is not a wildcard", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/q${?}'}")},
     {{0}}, "iot:Publish", A "topic/qx", IMPLICIT},
    {"${$} is a literal $", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${$}{iot:ClientId}'}")},
     {CID("dev1")}, "iot:Publish", A "topic/${iot:ClientId}", OK(0, 0)},
    {"no Version: ${...} is text", {"{'Statement':[{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:ClientId}'}]}"},
     {CID("dev1")}, "iot:Publish", A "topic/dev1", IMPLICIT},
    {"no Version: ${...} matches itself", {"{'Statement':[{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:ClientId}'}]}"},
     {CID("dev1")}, "iot:Publish", A "topic/${iot:ClientId}", OK(0, 0)},
    {"2008-10-17: ${...} is text", {"{'Version':'2008-10-17','Statement':[{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:ClientId}'}]}"},
     {CID("dev1")}, "iot:Publish", A "topic/dev1", IMPLICIT},

    /* ---- variables (spec 2.1, 2.2, 2.5) ---- */
    {"thing-scoped client", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'" A "client/${iot:Connection.Thing.ThingName}'}")},
     {TH("dev1")}, "iot:Connect", A "client/dev1", OK(0, 0)},
    {"thing-scoped client: other id", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'" A "client/${iot:Connection.Thing.ThingName}'}")},
     {TH("dev1")}, "iot:Connect", A "client/dev2", IMPLICIT},
    {"thing-scoped client: no thing", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'" A "client/${iot:Connection.Thing.ThingName}'}")},
     {CID("dev1")}, "iot:Connect", A "client/dev1", IMPLICIT, NULL, THING},
    {"thing-scoped topics", {DOC("{'Effect':'Allow','Action':['iot:Publish','iot:Receive'],'Resource':'" A "topic/things/${iot:Connection.Thing.ThingName}/*'}")},
     {TH("dev1")}, "iot:Receive", A "topic/things/dev1/temp", OK(0, 0)},
    {"thing-scoped topics: another thing", {DOC("{'Effect':'Allow','Action':['iot:Publish','iot:Receive'],'Resource':'" A "topic/things/${iot:Connection.Thing.ThingName}/*'}")},
     {TH("dev1")}, "iot:Publish", A "topic/things/dev2/temp", IMPLICIT},
    {"alias iot:Thing.ThingName", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'" A "client/${iot:Thing.ThingName}'}")},
     {TH("dev1")}, "iot:Connect", A "client/dev1", OK(0, 0)},
    {"alias unresolved: reported as written", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'" A "client/${iot:Thing.ThingName}'}")},
     {{0}}, "iot:Connect", A "client/dev1", IMPLICIT, NULL, "iot:Thing.ThingName"},
    {"variable names are case-insensitive", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'" A "client/${IOT:CLIENTID}'}")},
     {CID("dev1")}, "iot:Connect", A "client/dev1", OK(0, 0)},
    {"client id + injection pitfall", {DOC("{'Effect':'Allow','Action':'iot:Subscribe','Resource':'" A "topicfilter/my/${iot:ClientId}/topic'}")},
     {CID("+")}, "iot:Subscribe", A "topicfilter/my/+/topic", OK(0, 0)},
    {"substituted * is literal", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:ClientId}'}")},
     {CID("*")}, "iot:Publish", A "topic/anything", IMPLICIT},
    {"substituted * matches itself", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:ClientId}'}")},
     {CID("*")}, "iot:Publish", A "topic/*", OK(0, 0)},
    {"default value", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:Connection.Thing.ThingName, \\'none\\'}/x'}")},
     {{0}}, "iot:Publish", A "topic/none/x", OK(0, 0)},
    {"default unused when resolved", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:Connection.Thing.ThingName,\\'none\\'}/x'}")},
     {TH("dev1")}, "iot:Publish", A "topic/none/x", IMPLICIT},
    {"unresolved entry matches nothing, others still do",
     {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':['" A "topic/${iot:Connection.Thing.ThingName}/x','" A "topic/public']}")},
     {{0}}, "iot:Publish", A "topic/public", OK(0, 0)},
    {"unresolved in Allow grants nothing", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/*${iot:Connection.Thing.ThingName}*'}")},
     {{0}}, "iot:Publish", A "topic/${iot:Connection.Thing.ThingName}", IMPLICIT, NULL, THING},
    {"unresolved in Deny denies nothing", {DOC(ALLOW_ALL ",{'Effect':'Deny','Action':'iot:Publish','Resource':'" A "topic/${iot:Connection.Thing.ThingName}/*'}")},
     {{0}}, "iot:Publish", A "topic/x/y", OK(0, 0), NULL, THING},
    {"unresolved in Deny NotResource denies nothing", {DOC(ALLOW_ALL ",{'Effect':'Deny','Action':'iot:Publish','NotResource':'" A "topic/${iot:Connection.Thing.ThingName}/*'}")},
     {{0}}, "iot:Publish", A "topic/x/y", OK(0, 0), NULL, THING},
    {"unresolved in Allow NotResource grants nothing", {DOC("{'Effect':'Allow','Action':'iot:Publish','NotResource':'" A "topic/${iot:Connection.Thing.ThingName}/*'}")},
     {{0}}, "iot:Publish", A "topic/x/y", IMPLICIT, NULL, THING},
    {"thing attribute", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/rooms/${iot:Connection.Thing.Attributes[room]}/t'}")},
     {{"iot:Connection.Thing.Attributes[room]", {"kitchen"}}}, "iot:Publish", A "topic/rooms/kitchen/t", OK(0, 0)},
    {"unknown variable", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:Nope}'}")},
     {CID("x")}, "iot:Publish", A "topic/x", IMPLICIT, NULL, "iot:Nope"},

    /* ---- certificate variables (spec 2.3) ---- */
    {"certificate CN", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'" A "client/${iot:Certificate.Subject.CommonName}'}")},
     {{"iot:Certificate.Subject.CommonName", {"dev1"}}}, "iot:Connect", A "client/dev1", OK(0, 0)},
    {"plain multi-valued is the first", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:Certificate.Subject.Country}'}")},
     {{"iot:Certificate.Subject.Country", {"US", "CA"}}}, "iot:Publish", A "topic/US", OK(0, 0)},
    {".1 is the second value", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:Certificate.Subject.Country.1}'}")},
     {{"iot:Certificate.Subject.Country", {"US", "CA"}}}, "iot:Publish", A "topic/CA", OK(0, 0)},
    {".2 out of range", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/*${iot:Certificate.Subject.Country.2}'}")},
     {{"iot:Certificate.Subject.Country", {"US", "CA"}}}, "iot:Publish", A "topic/CA", IMPLICIT, NULL, "iot:Certificate.Subject.Country.2"},
    {"arrays truncated to 5", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:Certificate.Subject.Country.5}'}")},
     {{"iot:Certificate.Subject.Country", {"a", "b", "c", "d", "e", "f"}}}, "iot:Publish", A "topic/f", IMPLICIT, NULL, "iot:Certificate.Subject.Country.5"},
    {"value with + not substituted", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'" A "client/${iot:Certificate.Subject.CommonName}'}")},
     {{"iot:Certificate.Subject.CommonName", {"a+b"}}}, "iot:Connect", A "client/a+b", IMPLICIT, NULL, "iot:Certificate.Subject.CommonName"},
    {"value with $ not substituted", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'" A "client/${iot:Certificate.Subject.CommonName}'}")},
     {{"iot:Certificate.Subject.CommonName", {"a$b"}}}, "iot:Connect", A "client/a$b", IMPLICIT, NULL, "iot:Certificate.Subject.CommonName"},
    {"unsafe value falls back to the default", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'" A "client/${iot:Certificate.Subject.CommonName, \\'anon\\'}'}")},
     {{"iot:Certificate.Subject.CommonName", {"a*"}}}, "iot:Connect", A "client/anon", OK(0, 0)},
    {".List in a resource is unresolved", {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:Certificate.Subject.Country.List}'}")},
     {{"iot:Certificate.Subject.Country", {"US"}}}, "iot:Publish", A "topic/US", IMPLICIT, NULL, "iot:Certificate.Subject.Country.List"},
    {"serial number in decimal", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'" A "client/${iot:Certificate.SerialNumber}'}")},
     {{"iot:Certificate.SerialNumber", {"10525622389124227206"}}}, "iot:Connect", A "client/10525622389124227206", OK(0, 0)},

    /* ---- iot:ConnectAttributes (spec 3.2) ---- */
#define CONNECT_IF(c) DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'" A "client/*','Condition':{" c "}}")
    {"ForAllValues [] = default features: none used", {CONNECT_IF("'ForAllValues:StringEquals':{'iot:ConnectAttributes':[]}")},
     {{0}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"ForAllValues [] = default features: persistent", {CONNECT_IF("'ForAllValues:StringEquals':{'iot:ConnectAttributes':[]}")},
     {ATTRS("PersistentConnect")}, "iot:Connect", A "client/c", IMPLICIT},
    {"ForAnyValue PersistentConnect: used", {CONNECT_IF("'ForAnyValue:StringEquals':{'iot:ConnectAttributes':['PersistentConnect']}")},
     {ATTRS("PersistentConnect", "LastWill")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"ForAnyValue PersistentConnect: will only", {CONNECT_IF("'ForAnyValue:StringEquals':{'iot:ConnectAttributes':['PersistentConnect']}")},
     {ATTRS("LastWill")}, "iot:Connect", A "client/c", IMPLICIT},
    {"ForAnyValue on an empty set", {CONNECT_IF("'ForAnyValue:StringEquals':{'iot:ConnectAttributes':['PersistentConnect']}")},
     {{0}}, "iot:Connect", A "client/c", IMPLICIT},
    {"ForAllValues: only these (or fewer)", {CONNECT_IF("'ForAllValues:StringEquals':{'iot:ConnectAttributes':['PersistentConnect','LastWill']}")},
     {ATTRS("LastWill")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"ForAllValues:StringNotEquals: no will", {CONNECT_IF("'ForAllValues:StringNotEquals':{'iot:ConnectAttributes':['LastWill']}")},
     {ATTRS("PersistentConnect")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"ForAllValues:StringNotEquals: with will", {CONNECT_IF("'ForAllValues:StringNotEquals':{'iot:ConnectAttributes':['LastWill']}")},
     {ATTRS("PersistentConnect", "LastWill")}, "iot:Connect", A "client/c", IMPLICIT},
    {"ForAnyValue:StringNotEquals: one other", {CONNECT_IF("'ForAnyValue:StringNotEquals':{'iot:ConnectAttributes':['LastWill']}")},
     {ATTRS("PersistentConnect", "LastWill")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"ForAnyValue:StringEqualsIfExists on a missing key", {CONNECT_IF("'ForAnyValue:StringEqualsIfExists':{'iot:ConnectAttributes':['LastWill']}")},
     {{0}}, "iot:Connect", A "client/c", OK(0, 0)},

    /* ---- Arn, Bool, Null ---- */
#define WILL_IF(op, v) DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'" A "client/${iot:ClientId}','Condition':{'" op "':{'iot:LastWillTopic':'" v "'}}}")
    {"ArnEquals iot:LastWillTopic", {WILL_IF("ArnEquals", A "topic/will/${iot:ClientId}")},
     {CID("dev1"), {"iot:LastWillTopic", {A "topic/will/dev1"}}}, "iot:Connect", A "client/dev1", OK(0, 0)},
    {"ArnEquals: another will topic", {WILL_IF("ArnEquals", A "topic/will/${iot:ClientId}")},
     {CID("dev1"), {"iot:LastWillTopic", {A "topic/will/dev2"}}}, "iot:Connect", A "client/dev1", IMPLICIT},
    {"ArnEquals: no will", {WILL_IF("ArnEquals", A "topic/will/${iot:ClientId}")},
     {CID("dev1")}, "iot:Connect", A "client/dev1", IMPLICIT},
    {"ArnLike with wildcards", {WILL_IF("ArnLike", "arn:aws:iot:*:*:topic/will/*")},
     {CID("dev1"), {"iot:LastWillTopic", {A "topic/will/a/b"}}}, "iot:Connect", A "client/dev1", OK(0, 0)},
    {"ArnNotEquals in a Deny", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'*'},{'Effect':'Deny','Action':'iot:Connect','Resource':'*','Condition':{'ArnNotEquals':{'iot:LastWillTopic':'" A "topic/will/x'}}}")},
     {{"iot:LastWillTopic", {A "topic/other"}}}, "iot:Connect", A "client/c", DENY(0, 1)},
#define BOOL_IF(v) CONNECT_IF("'Bool':{'iot:Connection.Thing.IsAttached':" v "}")
    {"Bool IsAttached true", {BOOL_IF("'true'")},
     {{"iot:Connection.Thing.IsAttached", {"true"}}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"Bool IsAttached false", {BOOL_IF("'true'")},
     {{"iot:Connection.Thing.IsAttached", {"false"}}}, "iot:Connect", A "client/c", IMPLICIT},
    {"Bool with a JSON boolean", {BOOL_IF("true")},
     {{"iot:Connection.Thing.IsAttached", {"TRUE"}}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"Null false: serial present", {CONNECT_IF("'Null':{'iot:Certificate.SerialNumber':'false'}")},
     {{"iot:Certificate.SerialNumber", {"1"}}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"Null false: serial absent", {CONNECT_IF("'Null':{'iot:Certificate.SerialNumber':'false'}")},
     {{0}}, "iot:Connect", A "client/c", IMPLICIT},
    {"Null true: no thing", {CONNECT_IF("'Null':{'iot:Connection.Thing.ThingName':true}")},
     {{0}}, "iot:Connect", A "client/c", OK(0, 0)},

    /* ---- String* ---- */
    {"StringEquals thing attribute", {CONNECT_IF("'StringEquals':{'iot:Connection.Thing.Attributes[owner]':'alice'}")},
     {{"iot:Connection.Thing.Attributes[owner]", {"alice"}}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"StringEquals: missing key", {CONNECT_IF("'StringEquals':{'iot:Connection.Thing.Attributes[owner]':'alice'}")},
     {{0}}, "iot:Connect", A "client/c", IMPLICIT},
    {"StringEqualsIfExists: missing key", {CONNECT_IF("'StringEqualsIfExists':{'iot:Connection.Thing.Attributes[owner]':'alice'}")},
     {{0}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"StringEqualsIfExists: present, other", {CONNECT_IF("'StringEqualsIfExists':{'iot:Connection.Thing.Attributes[owner]':'alice'}")},
     {{"iot:Connection.Thing.Attributes[owner]", {"bob"}}}, "iot:Connect", A "client/c", IMPLICIT},
    {"StringNotEquals: missing key is false", {CONNECT_IF("'StringNotEquals':{'iot:Connection.Thing.ThingTypeName':'Camera'}")},
     {{0}}, "iot:Connect", A "client/c", IMPLICIT},
    {"StringNotEqualsIfExists: missing key", {CONNECT_IF("'StringNotEqualsIfExists':{'iot:Connection.Thing.ThingTypeName':'Camera'}")},
     {{0}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"StringNotEquals: equal to none", {CONNECT_IF("'StringNotEquals':{'iot:ClientId':['a','b']}")},
     {CID("c")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"StringNotEquals: equal to one", {CONNECT_IF("'StringNotEquals':{'iot:ClientId':['a','b']}")},
     {CID("b")}, "iot:Connect", A "client/c", IMPLICIT},
    {"StringEquals is case-sensitive", {CONNECT_IF("'StringEquals':{'iot:Connection.Thing.ThingTypeName':'SENSOR'}")},
     {{"iot:Connection.Thing.ThingTypeName", {"Sensor"}}}, "iot:Connect", A "client/c", IMPLICIT},
    {"StringEqualsIgnoreCase", {CONNECT_IF("'StringEqualsIgnoreCase':{'iot:Connection.Thing.ThingTypeName':'SENSOR'}")},
     {{"iot:Connection.Thing.ThingTypeName", {"Sensor"}}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"StringNotEqualsIgnoreCase", {CONNECT_IF("'StringNotEqualsIgnoreCase':{'iot:Connection.Thing.ThingTypeName':'sensor'}")},
     {{"iot:Connection.Thing.ThingTypeName", {"SENSOR"}}}, "iot:Connect", A "client/c", IMPLICIT},
    {"StringEquals: * is literal", {CONNECT_IF("'StringEquals':{'iot:ClientId':'dev-*'}")},
     {CID("dev-7")}, "iot:Connect", A "client/c", IMPLICIT},
    {"StringLike *", {CONNECT_IF("'StringLike':{'iot:ClientId':'dev-*'}")},
     {CID("dev-7")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"StringLike ?", {CONNECT_IF("'StringLike':{'iot:ClientId':'dev-?'}")},
     {CID("dev-10")}, "iot:Connect", A "client/c", IMPLICIT},
    {"StringNotLike", {CONNECT_IF("'StringNotLike':{'iot:ClientId':['admin*','root*']}")},
     {CID("dev-1")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"values are ORed", {CONNECT_IF("'StringEquals':{'iot:ClientId':['a','dev1']}")},
     {CID("dev1")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"keys are ANDed", {CONNECT_IF("'StringEquals':{'iot:ClientId':'dev1','" THING "':'dev1'}")},
     {CID("dev1"), TH("dev2")}, "iot:Connect", A "client/c", IMPLICIT},
    {"operators are ANDed", {CONNECT_IF("'StringEquals':{'iot:ClientId':'dev1'},'Bool':{'iot:Connection.Thing.IsAttached':'true'}")},
     {CID("dev1"), {"iot:Connection.Thing.IsAttached", {"false"}}}, "iot:Connect", A "client/c", IMPLICIT},
    {"operators are ANDed: both hold", {CONNECT_IF("'StringEquals':{'iot:ClientId':'dev1'},'Bool':{'iot:Connection.Thing.IsAttached':'true'}")},
     {CID("dev1"), {"iot:Connection.Thing.IsAttached", {"true"}}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"condition value with a variable", {CONNECT_IF("'StringEquals':{'iot:Connection.Thing.Attributes[owner]':'${iot:ClientId}'}")},
     {CID("dev1"), {"iot:Connection.Thing.Attributes[owner]", {"dev1"}}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"unresolved condition value matches nothing, others still do", {CONNECT_IF("'StringEquals':{'iot:ClientId':['${" THING "}','admin']}")},
     {CID("admin")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"unresolved condition value: no match", {CONNECT_IF("'StringEquals':{'iot:ClientId':['${" THING "}','admin']}")},
     {CID("dev1")}, "iot:Connect", A "client/c", IMPLICIT, NULL, THING},
    {"unresolved value in a negated Deny denies nothing",
     {DOC(ALLOW_ALL ",{'Effect':'Deny','Action':'iot:Publish','Resource':'*','Condition':{'StringNotEquals':{'iot:ClientId':'${" THING "}'}}}")},
     {CID("dev1")}, "iot:Publish", A "topic/a", OK(0, 0), NULL, THING},
    {"operator names are case-insensitive", {CONNECT_IF("'stringequals':{'iot:ClientId':'dev1'}")},
     {CID("dev1")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"condition keys: alias", {CONNECT_IF("'StringEquals':{'iot:Thing.ThingName':'dev1'}")},
     {TH("dev1")}, "iot:Connect", A "client/c", OK(0, 0)},

    /* ---- certificate keys in conditions ---- */
    {"ForAnyValue:StringLike on .List", {CONNECT_IF("'ForAnyValue:StringLike':{'iot:Certificate.Subject.Organization.List':'Acme*'}")},
     {{"iot:Certificate.Subject.Organization", {"Other", "AcmeCorp"}}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"ForAllValues on .List", {CONNECT_IF("'ForAllValues:StringEquals':{'iot:Certificate.Subject.Organization.List':['Acme','Other']}")},
     {{"iot:Certificate.Subject.Organization", {"Acme", "Evil"}}}, "iot:Connect", A "client/c", IMPLICIT},
    {"plain certificate key is the first value", {CONNECT_IF("'StringEquals':{'iot:Certificate.Subject.Organization':'AcmeCorp'}")},
     {{"iot:Certificate.Subject.Organization", {"Other", "AcmeCorp"}}}, "iot:Connect", A "client/c", IMPLICIT},
    {"certificate key .1", {CONNECT_IF("'StringEquals':{'iot:Certificate.Subject.Organization.1':'AcmeCorp'}")},
     {{"iot:Certificate.Subject.Organization", {"Other", "AcmeCorp"}}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"escaped issuer OU (spec 2.3)",
     {CONNECT_IF("'StringEquals':{'iot:Certificate.Issuer.OrganizationalUnit':"
                 "'Amazon Web Services O\\\\=Amazon.com Inc. L\\\\=Seattle ST\\\\=Washington C\\\\=US'}")},
     {{"iot:Certificate.Issuer.OrganizationalUnit", {"Amazon Web Services O=Amazon.com Inc. L=Seattle ST=Washington C=US"}}},
     "iot:Connect", A "client/c", OK(0, 0)},
    {"escaped comma and hex pair", {CONNECT_IF("'StringEquals':{'iot:Certificate.Subject.CommonName':['a\\\\,b','c\\\\2Cd']}")},
     {{"iot:Certificate.Subject.CommonName", {"c,d"}}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"certificate key values are not filtered", {CONNECT_IF("'StringEquals':{'iot:Certificate.Subject.CommonName':'a*b'}")},
     {{"iot:Certificate.Subject.CommonName", {"a*b"}}}, "iot:Connect", A "client/c", OK(0, 0)},

    /* ---- Numeric*, Date*, IpAddress, BinaryEquals ---- */
#define FLOOR_IF(op, v) CONNECT_IF("'" op "':{'iot:Connection.Thing.Attributes[floor]':" v "}")
#define FLOOR(x) {"iot:Connection.Thing.Attributes[floor]", {x}}
    {"NumericLessThan", {FLOOR_IF("NumericLessThan", "10")}, {FLOOR("9")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"NumericLessThan: equal", {FLOOR_IF("NumericLessThan", "10")}, {FLOOR("10")}, "iot:Connect", A "client/c", IMPLICIT},
    {"NumericLessThanEquals", {FLOOR_IF("NumericLessThanEquals", "'10'")}, {FLOOR("10")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"NumericGreaterThan", {FLOOR_IF("NumericGreaterThan", "'-1'")}, {FLOOR("0")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"NumericGreaterThanEquals", {FLOOR_IF("NumericGreaterThanEquals", "10")}, {FLOOR("10.0")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"NumericNotEquals: none", {FLOOR_IF("NumericNotEquals", "[1,2]")}, {FLOOR("3")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"NumericNotEquals: one", {FLOOR_IF("NumericNotEquals", "[1,2]")}, {FLOOR("2e0")}, "iot:Connect", A "client/c", IMPLICIT},
    {"NumericEquals with a fraction", {FLOOR_IF("NumericEquals", "1.5")}, {FLOOR("1.50")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"NumericEquals: not a number", {FLOOR_IF("NumericEquals", "'1.5'")}, {FLOOR("abc")}, "iot:Connect", A "client/c", IMPLICIT},
    {"NumericEquals: hex is not a number", {FLOOR_IF("NumericEquals", "16")}, {FLOOR("0x10")}, "iot:Connect", A "client/c", IMPLICIT},
#define TIME_IF(op, v) CONNECT_IF("'" op "':{'aws:CurrentTime':'" v "'}")
#define NOW(x) {"aws:CurrentTime", {x}}
    {"DateGreaterThan ISO", {TIME_IF("DateGreaterThan", "2020-01-01T00:00:00Z")}, {NOW("2024-05-01T12:00:00Z")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"DateLessThan epoch vs date", {TIME_IF("DateLessThan", "2020-01-01")}, {NOW("1577836799")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"DateLessThan: equal", {TIME_IF("DateLessThan", "2020-01-01")}, {NOW("1577836800")}, "iot:Connect", A "client/c", IMPLICIT},
    {"DateEquals with an offset", {TIME_IF("DateEquals", "2020-01-01T02:00:00+02:00")}, {NOW("1577836800")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"DateNotEquals", {TIME_IF("DateNotEquals", "2020-01-01T00:00:00.500Z")}, {NOW("1577836800")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"DateLessThanEquals: garbage", {TIME_IF("DateLessThanEquals", "2030-01-01")}, {NOW("soon")}, "iot:Connect", A "client/c", IMPLICIT},
    {"DateGreaterThanEquals: invalid date", {TIME_IF("DateGreaterThanEquals", "2020-02-30")}, {NOW("2024-01-01")}, "iot:Connect", A "client/c", IMPLICIT},
    {"DateGreaterThanEquals: leap day", {TIME_IF("DateGreaterThanEquals", "2024-02-29T23:59")}, {NOW("2024-03-01T00:00:00Z")}, "iot:Connect", A "client/c", OK(0, 0)},
#define IP_IF(op, v) CONNECT_IF("'" op "':{'aws:SourceIp':" v "}")
#define IP(x) {"aws:SourceIp", {x}}
    {"IpAddress v4 CIDR", {IP_IF("IpAddress", "'10.0.0.0/8'")}, {IP("10.1.2.3")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"IpAddress v4 CIDR: outside", {IP_IF("IpAddress", "'10.0.0.0/8'")}, {IP("11.0.0.1")}, "iot:Connect", A "client/c", IMPLICIT},
    {"IpAddress /23 boundary", {IP_IF("IpAddress", "'192.168.2.0/23'")}, {IP("192.168.3.255")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"IpAddress /23 outside", {IP_IF("IpAddress", "'192.168.2.0/23'")}, {IP("192.168.4.0")}, "iot:Connect", A "client/c", IMPLICIT},
    {"IpAddress list and single address", {IP_IF("IpAddress", "['192.168.1.0/24','203.0.113.7']")}, {IP("203.0.113.7")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"IpAddress v6 CIDR", {IP_IF("IpAddress", "'2001:db8::/32'")}, {IP("2001:db8:1::5")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"IpAddress v6 CIDR: outside", {IP_IF("IpAddress", "'2001:db8::/32'")}, {IP("2001:db9::1")}, "iot:Connect", A "client/c", IMPLICIT},
    {"IpAddress v4 rule, v4-mapped v6 client", {IP_IF("IpAddress", "'10.0.0.0/8'")}, {IP("::ffff:10.9.9.9")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"IpAddress v4 rule, v6 client", {IP_IF("IpAddress", "'0.0.0.0/0'")}, {IP("2001:db8::1")}, "iot:Connect", A "client/c", IMPLICIT},
    {"IpAddress bad prefix", {IP_IF("IpAddress", "'10.0.0.0/33'")}, {IP("10.0.0.1")}, "iot:Connect", A "client/c", IMPLICIT},
    {"NotIpAddress in a Deny: outside", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'*'},{'Effect':'Deny','Action':'*','Resource':'*','Condition':{'NotIpAddress':{'aws:SourceIp':'192.168.0.0/16'}}}")},
     {IP("8.8.8.8")}, "iot:Connect", A "client/c", DENY(0, 1)},
    {"NotIpAddress in a Deny: inside", {DOC("{'Effect':'Allow','Action':'iot:Connect','Resource':'*'},{'Effect':'Deny','Action':'*','Resource':'*','Condition':{'NotIpAddress':{'aws:SourceIp':'192.168.0.0/16'}}}")},
     {IP("192.168.3.4")}, "iot:Connect", A "client/c", OK(0, 0)},
    {"BinaryEquals ignores padding", {CONNECT_IF("'BinaryEquals':{'iot:Connection.Thing.Attributes[key]':'aGVsbG8='}")},
     {{"iot:Connection.Thing.Attributes[key]", {"aGVsbG8"}}}, "iot:Connect", A "client/c", OK(0, 0)},
    {"BinaryEquals: other bytes", {CONNECT_IF("'BinaryEquals':{'iot:Connection.Thing.Attributes[key]':'aGVsbG8='}")},
     {{"iot:Connection.Thing.Attributes[key]", {"aGVsbGE="}}}, "iot:Connect", A "client/c", IMPLICIT},
};

START_TEST(decisions) {
    const row_t *r = &rows[_i];
    const ic_policy_doc_t *docs[3];
    ic_policy_doc_t *owned[3] = {NULL, NULL, NULL};
    ic_policy_ctx_t ctx;
    ic_policy_why_t why;
    tctx_t t;
    char msg[256];
    size_t n = 0, i;
    ic_authz_t d;
    for (n = 0; n < 3 && r->pol[n]; n++) {
        char *json = dq(r->pol[n]);
        owned[n] = ic_policy_compile(json, msg, sizeof(msg));
        ck_assert_msg(owned[n] != NULL, "%s: %s\n%s", r->what, msg, json);
        free(json);
        docs[n] = owned[n];
    }
    memset(&t, 0, sizeof(t));
    t.kv = r->ctx;
    t.n = sizeof(r->ctx) / sizeof(r->ctx[0]);
    ctx.values = values;
    ctx.data = &t;
    memset(&why, 0x5a, sizeof(why));
    d = ic_policy_eval(docs, n, r->action, r->resource, &ctx, &why);
    ck_assert_msg(d == r->want, "%s: %s, want %s", r->what, ic_authz_name(d),
                  ic_authz_name(r->want));
    ck_assert_msg(why.policy == r->policy && why.statement == r->stmt,
                  "%s: policy %d statement %d, want %d %d", r->what, why.policy,
                  why.statement, r->policy, r->stmt);
    ck_assert_msg(strcmp(why.sid, r->sid ? r->sid : "") == 0, "%s: sid '%s'", r->what,
                  why.sid);
    ck_assert_msg(strcmp(why.unresolved, r->unres ? r->unres : "") == 0,
                  "%s: unresolved '%s'", r->what, why.unresolved);
    /* why is optional */
    ck_assert_int_eq(ic_policy_eval(docs, n, r->action, r->resource, &ctx, NULL), d);
    for (i = 0; i < n; i++)
        ic_policy_doc_free(owned[i]);
}
END_TEST

/* ---- malformed documents ---- */

typedef struct bad_s {
    const char *json;
    const char *msg; /* after "Policy document is malformed: " */
} bad_t;

#define ST_OK "{'Effect':'Allow','Action':'iot:Publish','Resource':'*'}"
#define COND(c) DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'*','Condition':" c "}")

static const bad_t bads[] = {
    {"{'Statement':[", "not valid JSON (at offset 14)"},
    {"{'Statement':[" ST_OK "]} x", "not valid JSON (at offset 73)"},
    {"[" ST_OK "]", "the document must be a JSON object"},
    {"{'Version':'2012-10-18','Statement':[" ST_OK "]}", "Version must be \"2012-10-17\" or \"2008-10-17\""},
    {"{'Version':2012,'Statement':[" ST_OK "]}", "Version must be \"2012-10-17\" or \"2008-10-17\""},
    {"{'Id':1,'Statement':[" ST_OK "]}", "Id must be a string"},
    {"{" V12 "'Statment':[" ST_OK "]}", "Statment is not a valid policy element"},
    {"{" V12 "'Statement':[" ST_OK "],'Statement':[" ST_OK "]}", "Statement appears more than once"},
    {"{'Version':'2012-10-17'}", "Statement is missing"},
    {DOC(), "Statement must be an object or a non-empty array of objects"},
    {"{" V12 "'Statement':'x'}", "Statement must be an object or a non-empty array of objects"},
    {DOC(ST_OK ",'x'"), "Statement[1] must be an object"},
    {DOC(ST_OK ",{'Effect':'allow','Action':'iot:Publish','Resource':'*'}"), "Statement[1].Effect must be Allow or Deny"},
    {DOC("{'Effect':true,'Action':'iot:Publish','Resource':'*'}"), "Statement[0].Effect must be Allow or Deny"},
    {DOC("{'Action':'iot:Publish','Resource':'*'}"), "Statement[0] is missing Effect"},
    {"{" V12 "'Statement':{'Action':'iot:Publish','Resource':'*','Effect':'Maybe'}}", "Statement.Effect must be Allow or Deny"},
    {DOC("{'Effect':'Allow','Effect':'Deny','Action':'iot:Publish','Resource':'*'}"), "Statement[0].Effect appears more than once"},
    {DOC("{'Effect':'Allow','Action':'iot:Publish','NotAction':'iot:Connect','Resource':'*'}"), "Statement[0] has both Action and NotAction"},
    {DOC("{'Effect':'Allow','Resource':'*'}"), "Statement[0] is missing Action or NotAction"},
    {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'*','NotResource':'*'}"), "Statement[0] has both Resource and NotResource"},
    {DOC(ST_OK "," ST_OK ",{'Effect':'Allow','Action':'iot:Publish'}"), "Statement[2] is missing Resource or NotResource"},
    {DOC("{'Effect':'Allow','Action':[],'Resource':'*'}"), "Statement[0].Action must be a string or a non-empty array of strings"},
    {DOC("{'Effect':'Allow','Action':['iot:Publish',7],'Resource':'*'}"), "Statement[0].Action[1] must be a string"},
    {DOC("{'Effect':'Allow','NotAction':{},'Resource':'*'}"), "Statement[0].NotAction must be a string or a non-empty array of strings"},
    {DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':3}"), "Statement[0].Resource must be a string or a non-empty array of strings"},
    {DOC("{'Effect':'Allow','Action':'iot:Publish','NotResource':['a',null]}"), "Statement[0].NotResource[1] must be a string"},
    {DOC("{'Sid':5,'Effect':'Allow','Action':'iot:Publish','Resource':'*'}"), "Statement[0].Sid must be a string"},
    {DOC("{'Effect':'Allow','Principal':'*','Action':'iot:Publish','Resource':'*'}"), "Statement[0].Principal is not a valid statement element"},
    {COND("[]"), "Statement[0].Condition must be an object"},
    {COND("{'StringEqualz':{'iot:ClientId':'a'}}"), "Statement[0].Condition.StringEqualz is not a valid condition operator"},
    {COND("{'ForAnyValue:Bogus':{'iot:ClientId':'a'}}"), "Statement[0].Condition.ForAnyValue:Bogus is not a valid condition operator"},
    {COND("{'NullIfExists':{'iot:ClientId':'true'}}"), "Statement[0].Condition.NullIfExists is not a valid condition operator"},
    {COND("{'StringEquals':'a'}"), "Statement[0].Condition.StringEquals must be an object"},
    {COND("{'StringEquals':{'iot:ClientId':{'a':1}}}"), "Statement[0].Condition.StringEquals.iot:ClientId must be a string, number, boolean or an array of them"},
    {COND("{'Bool':{'k':true},'StringEquals':{'iot:ClientId':['a',null]}}"), "Statement[0].Condition.StringEquals.iot:ClientId[1] must be a string, number or boolean"},
    {COND("{'StringEquals':{'iot:ClientId':['a',['b']]}}"), "Statement[0].Condition.StringEquals.iot:ClientId[1] must be a string, number or boolean"},
};

START_TEST(malformed) {
    const bad_t *b = &bads[_i];
    char why[256], want[256], *json = dq(b->json);
    ic_policy_doc_t *d = ic_policy_compile(json, why, sizeof(why));
    ck_assert_msg(d == NULL, "compiled: %s", json);
    snprintf(want, sizeof(want), "Policy document is malformed: %s", b->msg);
    ck_assert_msg(strcmp(why, want) == 0, "%s\n got: %s\nwant: %s", json, why, want);
    free(json);
}
END_TEST

/* Every proper prefix of a rich document is malformed (and leaks nothing). */
START_TEST(truncations) {
    char *json = dq(DOC(ALLOW_ALL ",{'Sid':'s','Effect':'Deny','NotAction':['iot:C*'],"
                        "'NotResource':'" A "topic/${iot:ClientId, \\'x\\'}/${*}',"
                        "'Condition':{'ForAnyValue:StringLikeIfExists':{'k':['a',1,true]},"
                        "'IpAddress':{'aws:SourceIp':'10.0.0.0/8'}}}"));
    char why[256], *prefix;
    size_t n = strlen(json), i;
    ic_policy_doc_t *d = ic_policy_compile(json, why, sizeof(why));
    ck_assert_msg(d != NULL, "%s", why);
    ic_policy_doc_free(d);
    prefix = malloc(n + 1);
    for (i = 0; i < n; i++) {
        memcpy(prefix, json, i);
        prefix[i] = '\0';
        ck_assert_msg(ic_policy_compile(prefix, why, sizeof(why)) == NULL,
                      "prefix %zu compiled", i);
        ck_assert(strncmp(why, "Policy document is malformed: ", 30) == 0);
    }
    free(prefix);
    free(json);
    /* no message buffer, NULL document */
    ck_assert_ptr_null(ic_policy_compile("{", NULL, 0));
    ck_assert_ptr_null(ic_policy_compile(NULL, why, sizeof(why)));
    ck_assert_str_eq(why, "Policy document is malformed: the document is empty");
    /* a short buffer is truncated, still terminated */
    ck_assert_ptr_null(ic_policy_compile("[]", why, 10));
    ck_assert_str_eq(why, "Policy do");
}
END_TEST

static bool contextual(const char *pol) {
    char *json = dq(pol), why[256];
    ic_policy_doc_t *d = ic_policy_compile(json, why, sizeof(why));
    bool r;
    ck_assert_msg(d != NULL, "%s", why);
    r = ic_policy_is_contextual(d);
    ic_policy_doc_free(d);
    free(json);
    return r;
}

START_TEST(contextual_and_names) {
    ck_assert(!contextual(DOC(ALLOW_ALL)));
    ck_assert(!contextual(DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/a${*}${?}${$}'}")));
    ck_assert(!contextual("{'Statement':[{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:ClientId}'}]}"));
    ck_assert(!contextual(DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'*','Condition':{}}")));
    ck_assert(contextual(DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:ClientId}'}")));
    ck_assert(contextual(DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'*','Condition':{'Bool':{'k':true}}}")));
    ck_assert(contextual(DOC("{'Effect':'Allow','Action':'iot:Publish','Resource':'*','Condition':{'StringEquals':{'k':'${iot:ClientId}'}}}")));
    ck_assert(!ic_policy_is_contextual(NULL));
    ck_assert_str_eq(ic_authz_name(IC_AUTHZ_ALLOWED), "ALLOWED");
    ck_assert_str_eq(ic_authz_name(IC_AUTHZ_EXPLICIT_DENY), "EXPLICIT_DENY");
    ck_assert_str_eq(ic_authz_name(IC_AUTHZ_IMPLICIT_DENY), "IMPLICIT_DENY");
}
END_TEST

static ic_policy_doc_t *compile(const char *pol) {
    char *json = dq(pol), why[256];
    ic_policy_doc_t *d = ic_policy_compile(json, why, sizeof(why));
    ck_assert_msg(d != NULL, "%s", why);
    free(json);
    return d;
}

/* What the callback is asked: the canonical thing key for the alias, the
 * name as written otherwise, certificate suffixes stripped. */
START_TEST(keys_asked) {
    ic_policy_doc_t *d = compile(DOC(
        "{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:Thing.ThingName}/${IOT:ClientId}/${iot:Certificate.Subject.Country.1}',"
        "'Condition':{'ForAnyValue:StringEquals':{'iot:Certificate.Subject.Organization.List':'o'},"
        "'Null':{'aws:SourceIp':'false'}}}"));
    const ic_policy_doc_t *docs[1];
    static const kv_t kv[] = {
        TH("t"), CID("c"),
        {"iot:Certificate.Subject.Country", {"US", "CA"}},
        {"iot:Certificate.Subject.Organization", {"x", "o"}},
        {"aws:SourceIp", {"10.0.0.1"}},
    };
    tctx_t t;
    ic_policy_ctx_t ctx = {values, &t};
    docs[0] = d;
    memset(&t, 0, sizeof(t));
    t.kv = kv;
    t.n = sizeof(kv) / sizeof(kv[0]);
    ck_assert_int_eq(ic_policy_eval(docs, 1, "iot:Publish", A "topic/t/c/CA", &ctx, NULL),
                     IC_AUTHZ_ALLOWED);
    ck_assert_str_eq(t.asked, "iot:Connection.Thing.ThingName;IOT:ClientId;"
                              "iot:Certificate.Subject.Country;"
                              "iot:Certificate.Subject.Organization;aws:SourceIp;");
    /* an action that does not match asks nothing */
    t.asked[0] = '\0';
    ck_assert_int_eq(ic_policy_eval(docs, 1, "iot:Connect", A "client/c", &ctx, NULL),
                     IC_AUTHZ_IMPLICIT_DENY);
    ck_assert_str_eq(t.asked, "");
    ic_policy_doc_free(d);
}
END_TEST

/* The publish path: evaluation never allocates, with or without variables
 * and conditions. */
START_TEST(no_allocation) {
    ic_policy_doc_t *plain = compile(DOC(ALLOW_ALL ",{'Effect':'Deny','Action':'iot:Publish','Resource':'" A "topic/admin/*'}"));
    ic_policy_doc_t *vars = compile(DOC(
        "{'Effect':'Allow','Action':'iot:Publish','Resource':'" A "topic/${iot:ClientId}/*',"
        "'Condition':{'IpAddress':{'aws:SourceIp':['10.0.0.0/8','${iot:ClientId}']},"
        "'DateLessThan':{'aws:CurrentTime':'2099-01-01'}}}"));
    const ic_policy_doc_t *docs[2] = {plain, vars};
    static const kv_t kv[] = {CID("dev1"), IP("10.2.3.4"), NOW("2024-01-01T00:00:00Z")};
    tctx_t t;
    ic_policy_ctx_t ctx = {values, &t};
    uint64_t before;
    int i;
    memset(&t, 0, sizeof(t));
    t.kv = kv;
    t.n = sizeof(kv) / sizeof(kv[0]);
    before = ic_alloc_count();
    for (i = 0; i < 1000; i++) {
        ic_policy_why_t why;
        ck_assert_int_eq(ic_policy_eval(docs, 1, "iot:Publish", A "topic/a/b", &ctx, &why),
                         IC_AUTHZ_ALLOWED);
        ck_assert_int_eq(ic_policy_eval(docs + 1, 1, "iot:Publish", A "topic/dev1/x",
                                        &ctx, &why),
                         IC_AUTHZ_ALLOWED);
        ck_assert_int_eq(ic_policy_eval(docs, 2, "iot:Publish", A "topic/admin/x", &ctx,
                                        &why),
                         IC_AUTHZ_EXPLICIT_DENY);
        t.asked[0] = '\0';
    }
    ck_assert(ic_alloc_count() == before);
    ic_policy_doc_free(plain);
    ic_policy_doc_free(vars);
}
END_TEST

/* Over-long values: a substitution that does not fit the stack buffer
 * matches nothing; certificate values over 1024 characters are not
 * substituted (AWS), up to 1024 they are. */
START_TEST(long_values) {
    static char big[6000], cert[1100], res[1200];
    ic_policy_doc_t *d = compile(DOC(
        "{'Effect':'Allow','Action':'iot:Publish','Resource':['" A "topic/${iot:ClientId}*','" A "topic/c/${iot:Certificate.Subject.CommonName}']}"));
    const ic_policy_doc_t *docs[1] = {d};
    kv_t kv[2];
    tctx_t t;
    ic_policy_ctx_t ctx = {values, &t};
    ic_policy_why_t why;
    memset(big, 'a', sizeof(big) - 1);
    memset(cert, 'b', 1024);
    memset(kv, 0, sizeof(kv));
    kv[0].key = "iot:ClientId";
    kv[0].v[0] = big;
    kv[1].key = "iot:Certificate.Subject.CommonName";
    kv[1].v[0] = cert;
    memset(&t, 0, sizeof(t));
    t.kv = kv;
    t.n = 2;
    ck_assert_int_eq(ic_policy_eval(docs, 1, "iot:Publish", A "topic/aaaa", &ctx, &why),
                     IC_AUTHZ_IMPLICIT_DENY);
    ck_assert_str_eq(why.unresolved, "");
    snprintf(res, sizeof(res), "%stopic/c/%s", A, cert);
    ck_assert_int_eq(ic_policy_eval(docs, 1, "iot:Publish", res, &ctx, &why),
                     IC_AUTHZ_ALLOWED);
    cert[1024] = 'b';
    snprintf(res, sizeof(res), "%stopic/c/%s", A, cert);
    ck_assert_int_eq(ic_policy_eval(docs, 1, "iot:Publish", res, &ctx, &why),
                     IC_AUTHZ_IMPLICIT_DENY);
    ck_assert_str_eq(why.unresolved, "iot:Certificate.Subject.CommonName");
    /* a short client id fits */
    kv[0].v[0] = "dev1";
    ck_assert_int_eq(ic_policy_eval(docs, 1, "iot:Publish", A "topic/dev1/x", &ctx, &why),
                     IC_AUTHZ_ALLOWED);
    ic_policy_doc_free(d);
}
END_TEST

/* Degenerate arguments are implicit denies with an empty why. */
START_TEST(degenerate) {
    ic_policy_doc_t *d = compile(DOC(ALLOW_ALL));
    const ic_policy_doc_t *docs[3] = {NULL, d, NULL};
    ic_policy_ctx_t none = {NULL, NULL};
    ic_policy_why_t why;
    ck_assert_int_eq(ic_policy_eval(NULL, 0, "iot:Publish", A "topic/a", NULL, &why),
                     IC_AUTHZ_IMPLICIT_DENY);
    ck_assert_int_eq(why.policy, -1);
    ck_assert_int_eq(why.statement, -1);
    ck_assert_str_eq(why.sid, "");
    ck_assert_str_eq(why.unresolved, "");
    ck_assert_int_eq(ic_policy_eval(docs, 0, "iot:Publish", A "topic/a", NULL, &why),
                     IC_AUTHZ_IMPLICIT_DENY);
    /* NULL entries are skipped; a NULL context has no values */
    ck_assert_int_eq(ic_policy_eval(docs, 3, "iot:Publish", A "topic/a", NULL, &why),
                     IC_AUTHZ_ALLOWED);
    ck_assert_int_eq(why.policy, 1);
    ck_assert_int_eq(ic_policy_eval(docs, 3, "iot:Publish", A "topic/a", &none, &why),
                     IC_AUTHZ_ALLOWED);
    ck_assert_int_eq(ic_policy_eval(docs, 3, NULL, A "topic/a", NULL, &why),
                     IC_AUTHZ_IMPLICIT_DENY);
    ck_assert_int_eq(ic_policy_eval(docs, 3, "iot:Publish", NULL, NULL, &why),
                     IC_AUTHZ_IMPLICIT_DENY);
    ic_policy_doc_free(d);
    ic_policy_doc_free(NULL);
}
END_TEST

Suite *ic_policy_suite(void) {
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("engine");
    tcase_add_loop_test(tc, decisions, 0, (int)(sizeof(rows) / sizeof(rows[0])));
    tcase_add_loop_test(tc, malformed, 0, (int)(sizeof(bads) / sizeof(bads[0])));
    tcase_add_test(tc, truncations);
    tcase_add_test(tc, contextual_and_names);
    tcase_add_test(tc, keys_asked);
    tcase_add_test(tc, no_allocation);
    tcase_add_test(tc, long_values);
    tcase_add_test(tc, degenerate);
    suite_add_tcase(s, tc);
    return s;
}
