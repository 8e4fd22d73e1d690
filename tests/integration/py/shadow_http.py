#!/usr/bin/env python3
"""shadow_http.py - the Device Shadow REST API (AWS IoT data plane) with
boto3's iot-data client and hand-signed / mutual-TLS requests.

usage: shadow_http.py SIGV4_URL CA MTLS_URL CERT KEY THING DAEMON

SIGV4_URL is a listener taking SigV4 (443-style, `protocol alpn`); MTLS_URL
one taking client certificates (8443-style, `protocol https`); CERT/KEY
belong to THING, whose policy allows the shadow actions on thing/THING
only. Credentials come from the environment. Prints "ok shadow_http N"
with the number of checks, exits 1 on the first failure."""
import base64
import json
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.exceptions import ClientError

SIGV4_URL, CA, MTLS_URL, CERT, KEY, THING, DAEMON = sys.argv[1:8]
checks = 0


def check(cond, what):
    global checks
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    checks += 1


def client(secret=None):
    kw = {}
    if secret:
        kw = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": secret}
    return boto3.client("iot-data", endpoint_url=SIGV4_URL, verify=CA,
                        region_name="us-east-1", **kw)


def error_of(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response
    check(False, "%s(%r) succeeded" % (fn.__name__, kw))


def body(resp):
    return json.loads(resp["payload"].read())


c = client()

# the route table is the model's: method and URI of every operation served
model = c.meta.service_model
for line in subprocess.run([DAEMON, "--data-routes"], capture_output=True, text=True,
                           check=True).stdout.splitlines():
    op, method, uri = line.split(" ")
    if op.startswith("iotcored:"):
        continue  # the WebSocket endpoint, not a REST operation
    http = model.operation_model(op).http
    # a greedy {topic+} takes the raw slashes curl users send (AWS accepts
    # /topics/a/b as well as /topics/a%2Fb): the same URI otherwise
    check((http["method"], http["requestUri"]) == (method, uri.replace("+}", "}")), line)

# GetThingShadow of a shadow that does not exist: 404 with the shadow's
# error document and the exception type
r = error_of(c.get_thing_shadow, thingName="rest1")
check(r["Error"]["Code"] == "ResourceNotFoundException", r)
check(r["Error"]["Message"] == "No shadow exists with name: 'rest1'", r)
check(r["ResponseMetadata"]["HTTPStatusCode"] == 404, r)
r = error_of(c.get_thing_shadow, thingName="rest1", shadowName="cfg")
check(r["Error"]["Message"] == "No shadow exists with name: 'cfg'", r)

# UpdateThingShadow: the accepted document
b = body(c.update_thing_shadow(thingName="rest1", payload=json.dumps(
    {"state": {"desired": {"color": "red"}, "reported": {"color": "blue"}},
     "clientToken": "t1"}).encode()))
check(b["state"] == {"desired": {"color": "red"}, "reported": {"color": "blue"}}, b)
check(b["version"] == 1 and b["clientToken"] == "t1", b)
check(isinstance(b["timestamp"], int) and
      b["metadata"]["desired"]["color"]["timestamp"] == b["timestamp"], b)
check(list(b.keys())[:2] == ["state", "metadata"], b)

# GetThingShadow: state with delta, metadata, version
b = body(c.get_thing_shadow(thingName="rest1"))
check(b["state"]["delta"] == {"color": "red"}, b)
check(b["version"] == 1 and "clientToken" not in b, b)

# version conflict: 409 ConflictException "Version conflict"
r = error_of(c.update_thing_shadow, thingName="rest1",
             payload=b'{"state":{"reported":{"color":"red"}},"version":7}')
check(r["Error"]["Code"] == "ConflictException", r)
check(r["Error"]["Message"] == "Version conflict", r)
check(r["ResponseMetadata"]["HTTPStatusCode"] == 409, r)
b = body(c.update_thing_shadow(thingName="rest1",
                               payload=b'{"state":{"reported":{"color":"red"}},"version":1}'))
check(b["version"] == 2, b)

# bad documents: exact errors, nothing stored
for payload, code, status, msg in [
        (b"not json", "InvalidRequestException", 400, "Invalid JSON"),
        (b'{"state":{"reported":{"a":[1,null]}}}', "InvalidRequestException", 400, "Invalid JSON"),
        (b'{"nostate":1}', "InvalidRequestException", 400, "Missing required node: state"),
        (b'{"state":{"desired":1}}', "InvalidRequestException", 400,
         "Desired node must be an object"),
        (b'{"state":{"reported":{"a":1}},"clientToken":"' + b"x" * 65 + b'"}',
         "InvalidRequestException", 400, "Invalid clientToken"),
        (b'{"state":{"reported":{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}}}',
         "InvalidRequestException", 400,
         "JSON contains too many levels of nesting; maximum is 6"),
        (b'{"state":{"reported":{"big":"' + b"x" * 9000 + b'"}}}',
         "RequestEntityTooLargeException", 413,
         "The payload exceeds the maximum size allowed"),
        (b'{"state":{"reported":{"a":"\xff"}}}', "UnsupportedDocumentEncodingException",
         415, "Unsupported documented encoding; supported encoding is UTF-8")]:
    r = error_of(c.update_thing_shadow, thingName="rest1", payload=payload)
    check(r["Error"]["Code"] == code and r["Error"]["Message"] == msg and
          r["ResponseMetadata"]["HTTPStatusCode"] == status, (payload[:40], r))
b = body(c.get_thing_shadow(thingName="rest1"))
check(b["version"] == 2 and b["state"]["reported"] == {"color": "red"}, b)

# named shadows: list with pagination, the classic shadow never listed
for n in ["c", "a", "b"]:
    c.update_thing_shadow(thingName="rest1", shadowName=n,
                          payload=b'{"state":{"reported":{"n":1}}}')
r = c.list_named_shadows_for_thing(thingName="rest1")
check(r["results"] == ["a", "b", "c"] and "nextToken" not in r, r)
check(isinstance(r["timestamp"], int), r)
names, token = [], None
while True:
    kw = {"thingName": "rest1", "pageSize": 2}
    if token:
        kw["nextToken"] = token
    r = c.list_named_shadows_for_thing(**kw)
    names += r["results"]
    token = r.get("nextToken")
    if not token:
        break
check(names == ["a", "b", "c"], names)
r = c.list_named_shadows_for_thing(thingName="nobody")
check(r["results"] == [], r)
r = error_of(c.list_named_shadows_for_thing, thingName="rest1", pageSize=101)
check(r["Error"]["Code"] == "InvalidRequestException", r)

# DeleteThingShadow: {"version","timestamp"}; then 404; the version goes on
b = body(c.delete_thing_shadow(thingName="rest1", shadowName="b"))
check(b["version"] == 1 and isinstance(b["timestamp"], int) and len(b) == 2, b)
r = error_of(c.delete_thing_shadow, thingName="rest1", shadowName="b")
check(r["Error"]["Code"] == "ResourceNotFoundException" and
      r["Error"]["Message"] == "No shadow exists with name: 'b'", r)
b = body(c.update_thing_shadow(thingName="rest1", shadowName="b",
                               payload=b'{"state":{"reported":{"n":2}}}'))
check(b["version"] == 2, b)
r = c.list_named_shadows_for_thing(thingName="rest1")
check(r["results"] == ["a", "b", "c"], r)

# a bad name: 400
r = error_of(c.get_thing_shadow, thingName="rest1", shadowName="bad name")
check(r["Error"]["Code"] == "InvalidRequestException", r)

# wrong secret: 403 ForbiddenException
r = error_of(client("wrong-secret").get_thing_shadow, thingName="rest1")
check(r["Error"]["Code"] == "ForbiddenException" and
      r["ResponseMetadata"]["HTTPStatusCode"] == 403, r)

# the signing name the developer guide gives hand-rolled clients
creds = botocore.credentials.Credentials(
    boto3.Session().get_credentials().access_key,
    boto3.Session().get_credentials().secret_key)
ctx = ssl.create_default_context(cafile=CA)


def send(req, context):
    try:
        with urllib.request.urlopen(req, context=context, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


for svc, want in [("iotdevicegateway", 200), ("iotdata", 200), ("iot", 403)]:
    areq = botocore.awsrequest.AWSRequest(method="GET",
                                          url=SIGV4_URL + "/things/rest1/shadow")
    botocore.auth.SigV4Auth(creds, svc, "us-east-1").add_auth(areq)
    p = areq.prepare()
    st, hdrs, data = send(urllib.request.Request(p.url, headers=dict(p.headers)), ctx)
    check(st == want, (svc, st, data))
    if st == 403:
        check(hdrs.get("x-amzn-ErrorType") == "ForbiddenException:" and
              json.loads(data) == {"message": "Forbidden"}, (hdrs, data))

# unsigned and no certificate: 403
st, hdrs, data = send(urllib.request.Request(SIGV4_URL + "/things/rest1/shadow"), ctx)
check(st == 403 and hdrs.get("x-amzn-ErrorType") == "ForbiddenException:", (st, data))

# a certificate caller: its policy allows thing/THING only
mctx = ssl.create_default_context(cafile=CA)
mctx.load_cert_chain(CERT, KEY)
st, _, data = send(urllib.request.Request(
    MTLS_URL + "/things/%s/shadow" % THING, method="POST",
    data=b'{"state":{"reported":{"via":"mtls"}}}'), mctx)
check(st == 200 and json.loads(data)["state"] == {"reported": {"via": "mtls"}},
      (st, data))
st, _, data = send(urllib.request.Request(MTLS_URL + "/things/%s/shadow" % THING), mctx)
check(st == 200 and json.loads(data)["state"]["reported"]["via"] == "mtls", (st, data))
st, hdrs, data = send(urllib.request.Request(MTLS_URL + "/things/rest1/shadow"), mctx)
check(st == 403 and json.loads(data) == {"message": "Forbidden"}, (st, data))
st, _, data = send(urllib.request.Request(MTLS_URL + "/things/%s/shadow" % THING,
                                          method="DELETE"), mctx)
check(st == 403, (st, data))  # the policy does not allow iot:DeleteThingShadow
# a wrong method: 405
st, hdrs, data = send(urllib.request.Request(MTLS_URL + "/things/%s/shadow" % THING,
                                             method="PUT", data=b"{}"), mctx)
check(st == 405 and hdrs.get("x-amzn-ErrorType") == "MethodNotAllowedException:",
      (st, data))

# ---- Publish and retained messages ----------------------------------------
# botocore sends userProperties as base64 of the JSON (a jsonvalue header)
r = c.publish(topic="rest/retained/a", qos=1, retain=True, payload=b'{"v":1}',
              contentType="application/json",
              userProperties=[{"deviceName": "alpha"}, {"deviceCnt": "45"}],
              payloadFormatIndicator="UTF8_DATA")
check(r["ResponseMetadata"]["HTTPStatusCode"] == 200, r)
c.publish(topic="rest/retained/b", retain=True, payload=b"two")
g = c.get_retained_message(topic="rest/retained/a")
check(g["topic"] == "rest/retained/a" and g["payload"] == b'{"v":1}' and g["qos"] == 1, g)
check(isinstance(g["lastModifiedTime"], int) and g["lastModifiedTime"] > 1.7e12, g)
# a blob: botocore has decoded the base64 to the JSON text
check(json.loads(g["userProperties"]) == [{"deviceName": "alpha"}, {"deviceCnt": "45"}], g)
names, token = [], None
while True:
    kw = {"maxResults": 1}
    if token:
        kw["nextToken"] = token
    r = c.list_retained_messages(**kw)
    names += [x["topic"] for x in r["retainedTopics"]]
    token = r.get("nextToken")
    if not token:
        break
check([n for n in names if n.startswith("rest/retained/")] ==
      ["rest/retained/a", "rest/retained/b"], names)
# an empty retained publish deletes
c.publish(topic="rest/retained/b", retain=True, payload=b"")
r = error_of(c.get_retained_message, topic="rest/retained/b")
check(r["Error"]["Code"] == "ResourceNotFoundException", r)
for kw, what in [({"topic": "a/+", "payload": b"x"}, "wildcard"),
                 ({"topic": "$aws/things/x/shadow/update", "retain": True,
                   "payload": b"x"}, "retained reserved topic"),
                 ({"topic": "/".join("abcdefghij"), "payload": b"x"}, "too many levels")]:
    r = error_of(c.publish, **kw)
    check(r["Error"]["Code"] == "InvalidRequestException", (what, r))
st, hdrs, data = send(urllib.request.Request(
    SIGV4_URL + "/topics/x?qos=2", method="POST", data=b"x",
    headers={}), ctx)
check(st == 403, (st, data))  # unsigned: refused before the qos check
# a certificate caller may publish only where its policy allows
st, _, data = send(urllib.request.Request(MTLS_URL + "/topics/elsewhere", method="POST",
                                          data=b"x"), mctx)
check(st == 403, (st, data))

print("ok shadow_http %d" % checks)
