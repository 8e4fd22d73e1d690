#!/usr/bin/env python3
"""authorizer_server.py - a custom authorizer function for the tests,
served over HTTP as iotcored invokes it (`authorizer_function ARN URL`):
POST with AWS's event JSON, answer AWS's response JSON.

    python3 authorizer_server.py PORT

The decision comes from the credentials: MQTT password "secret" or token
"allow" -> allowed as principal "alice" with a policy for ca/* topics;
password/token "deny" -> isAuthenticated false; "slow" -> answers after 8 s
(beyond the 5 s limit); "slow2" -> allowed after 2 s; "malformed" -> not
JSON. Every event is printed as
one JSON line on stdout (the test reads them)."""
import base64
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARN = "arn:aws:iot:us-east-1:123456789012:"
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": ARN + "client/*"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
     "Resource": ARN + "topic/ca/*"},
    {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": ARN + "topicfilter/ca/*"}]}


class H(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        ev = json.loads(self.rfile.read(n))
        print(json.dumps(ev), flush=True)
        mqtt = ev.get("protocolData", {}).get("mqtt", {})
        pw = base64.b64decode(mqtt["password"]).decode() if "password" in mqtt else None
        what = pw or ev.get("token")
        if what == "slow":
            time.sleep(8)
        if what == "slow2":
            time.sleep(2)
        if what == "malformed":
            body = b"not json"
        elif what in ("secret", "allow", "slow", "slow2"):
            body = json.dumps({"isAuthenticated": True, "principalId": "alice",
                               "policyDocuments": [json.dumps(POLICY)],
                               "disconnectAfterInSeconds": 3600,
                               "refreshAfterInSeconds": 300}).encode()
        else:
            body = json.dumps({"isAuthenticated": False}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *a):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
