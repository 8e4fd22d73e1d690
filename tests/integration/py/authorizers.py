#!/usr/bin/env python3
"""authorizers.py - custom authorizers of iotcored end to end: every
control-plane operation through boto3's iot client (shapes checked against
botocore's model, errors by code and message), and TestInvokeAuthorizer
running authorizer functions served by a small local HTTP server.

    python3 authorizers.py serve PORT
        The authorizer functions: POST /authorize (the `authorizer_function`
        URL) and POST /2015-03-31/functions/<arn>/invocations (Lambda Invoke,
        whose SigV4 signature is checked with botocore). The answer depends
        on the token: allow*, deny, malformed, notjson, slow (7 s: past the
        5 s limit), error (Lambda: X-Amz-Function-Error). GET /events lists
        what was received. Runs until killed.

    python3 authorizers.py CONTROL_URL FUNCTION_PORT GROUP
        GROUP: crud invoke lambda persisted. Prints "ok GROUP N" (N checks)
        and exits 0, or "FAIL GROUP: what" and exits 1.
"""
import base64
import datetime
import http.server
import json
import sys
import threading
import time
import urllib.parse
import urllib.request

ACCOUNT, REGION = '123456789012', 'us-east-1'
AKID, SECRET = 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
MAPPED = 'arn:aws:lambda:us-east-1:123456789012:function:pyauth'   # a URL line
UNMAPPED = 'arn:aws:lambda:us-west-2:123456789012:function:lambdaauth'  # Invoke

POLICY = {'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Action': 'iot:Connect',
    'Resource': 'arn:aws:iot:*:*:client/${iot:ClientId}'}]}
POLICY2 = {'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Action': ['iot:Publish', 'iot:Receive'],
    'Resource': 'arn:aws:iot:*:*:topic/t/*'}]}


# ---- the authorizer functions ------------------------------------------------------

def answer(event):
    """(status, headers, body) the function gives for an event."""
    tok = event.get('token', '')
    if tok.startswith('allow'):
        # one document as an object, one as a JSON string (both seen in the wild)
        return 200, {}, {'isAuthenticated': True, 'principalId': 'dev1',
                         'policyDocuments': [POLICY, json.dumps(POLICY2)],
                         'disconnectAfterInSeconds': 3600,
                         'refreshAfterInSeconds': 600}
    if tok == 'deny':
        return 200, {}, {'isAuthenticated': False, 'principalId': 'nobody',
                         'policyDocuments': [], 'disconnectAfterInSeconds': 300,
                         'refreshAfterInSeconds': 300}
    if tok == 'malformed':
        return 200, {}, {'isAuthenticated': True, 'principalId': 'not ok!',
                         'policyDocuments': [], 'disconnectAfterInSeconds': 300,
                         'refreshAfterInSeconds': 300}
    if tok == 'notjson':
        return 200, {}, 'hello'
    if tok == 'slow':
        time.sleep(7)
        return 200, {}, {'isAuthenticated': False}
    if tok == 'error':
        return 200, {'X-Amz-Function-Error': 'Unhandled'}, {
            'errorMessage': 'boom', 'errorType': 'Error'}
    # no token (signing disabled): decide on the MQTT password
    pw = event.get('protocolData', {}).get('mqtt', {}).get('password')
    if pw and base64.b64decode(pw) == b'secret':
        return 200, {}, {'isAuthenticated': True, 'principalId': 'pwuser',
                         'policyDocuments': [POLICY], 'disconnectAfterInSeconds': 300,
                         'refreshAfterInSeconds': 300}
    return 200, {}, {'isAuthenticated': False}


def sigv4_ok(handler, body):
    """Recompute the Lambda Invoke request's signature with botocore."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    auth = handler.headers.get('Authorization', '')
    try:
        cred = auth.split('Credential=')[1].split(',')[0].split('/')
        signed = auth.split('SignedHeaders=')[1].split(',')[0].split(';')
        got = auth.split('Signature=')[1].strip()
    except IndexError:
        return False
    headers = {h: handler.headers[h] for h in signed}
    host = handler.headers['Host']
    req = AWSRequest(method='POST', url='http://%s%s' % (host, handler.path),
                     data=body, headers=headers)
    req.context['timestamp'] = handler.headers['X-Amz-Date']
    signer = SigV4Auth(Credentials(AKID, SECRET), cred[3], cred[2])
    canonical = signer.canonical_request(req)
    want = signer.signature(signer.string_to_sign(req, canonical), req)
    return cred[0] == AKID and cred[3] == 'lambda' and want == got


class Functions(http.server.BaseHTTPRequestHandler):
    events = []
    lock = threading.Lock()

    def do_GET(self):
        with Functions.lock:
            body = json.dumps(Functions.events).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get('Content-Length', 0))
        raw = self.rfile.read(n)
        rec = {'path': self.path, 'contentType': self.headers.get('Content-Type')}
        try:
            event = json.loads(raw)
        except ValueError:
            event = {}
        rec['event'] = event
        status, headers, out = None, {}, None
        if self.path.startswith('/2015-03-31/functions/'):
            rec['sigv4'] = sigv4_ok(self, raw)
            rec['invocationType'] = self.headers.get('X-Amz-Invocation-Type')
            rec['functionName'] = urllib.parse.unquote(self.path.split('/')[3])
            if rec['functionName'] != UNMAPPED:  # as Lambda answers
                status, out = 404, {'Type': 'User', 'message': 'Function not found: '
                                    + rec['functionName']}
                headers = {'x-amzn-ErrorType': 'ResourceNotFoundException'}
        with Functions.lock:
            Functions.events.append(rec)
        if status is None:
            status, headers, out = answer(event)
        out = out.encode() if isinstance(out, str) else json.dumps(out).encode()
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except OSError:
            pass  # the slow one: iotcored gave up

    def log_message(self, *a):
        pass


if sys.argv[1] == 'serve':
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[2])), Functions)
    srv.daemon_threads = True
    srv.serve_forever()
    sys.exit(0)

# ---- the test groups --------------------------------------------------------------------

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402

CTL, FN_PORT, GROUP = sys.argv[1], int(sys.argv[2]), sys.argv[3]
iot = boto3.client('iot', endpoint_url=CTL, region_name=REGION)
MODEL = iot.meta.service_model
checks = 0


def fail(what):
    print('FAIL %s: %s' % (GROUP, what))
    sys.exit(1)


def eq(what, want, got):
    global checks
    if want != got:
        fail('%s: want %r, got %r' % (what, want, got))
    checks += 1


def true(what, cond, detail=''):
    global checks
    if not cond:
        fail('%s %s' % (what, detail))
    checks += 1


def err(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response
    fail('%s(%r) succeeded' % (fn.__name__, kw))


def expect_error(what_, code_, http_status_, message_, fn_, **kw):
    e = err(fn_, **kw)
    eq(what_ + ': code', code_, e['Error']['Code'])
    eq(what_ + ': HTTP status', http_status_, e['ResponseMetadata']['HTTPStatusCode'])
    if message_ is not None:
        eq(what_ + ': message', message_, e['Error']['Message'])
    return e


def shape_ok(op, resp):
    """Every member of the response is in the model's output shape, typed."""
    out = MODEL.operation_model(op).output_shape
    for k, v in resp.items():
        if k == 'ResponseMetadata':
            continue
        true('%s: %s in the output shape' % (op, k), k in out.members, sorted(out.members))


def arn(name):
    return 'arn:aws:iot:%s:%s:authorizer/%s' % (REGION, ACCOUNT, name)


def new_key():
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = k.public_key().public_bytes(serialization.Encoding.PEM,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    return k, pem.decode()


def sign(k, token):
    return base64.b64encode(k.sign(token.encode(), padding.PKCS1v15(),
                                   hashes.SHA256())).decode()


def events():
    with urllib.request.urlopen('http://127.0.0.1:%d/events' % FN_PORT) as r:
        return json.loads(r.read())


VALIDATION = "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s"


def g_crud():
    key, pem = new_key()
    _, pem2 = new_key()
    r = iot.create_authorizer(authorizerName='crud-a', authorizerFunctionArn=MAPPED,
                              tokenKeyName='tok', tokenSigningPublicKeys={'k1': pem},
                              tags=[{'Key': 'team', 'Value': 'x'}])
    shape_ok('CreateAuthorizer', r)
    eq('CreateAuthorizer', {'authorizerName': 'crud-a', 'authorizerArn': arn('crud-a')},
       {k: r[k] for k in ('authorizerName', 'authorizerArn')})
    d = iot.describe_authorizer(authorizerName='crud-a')
    shape_ok('DescribeAuthorizer', d)
    d = d['authorizerDescription']
    eq('describe name', 'crud-a', d['authorizerName'])
    eq('describe arn', arn('crud-a'), d['authorizerArn'])
    eq('describe function', MAPPED, d['authorizerFunctionArn'])
    eq('describe tokenKeyName', 'tok', d['tokenKeyName'])
    eq('describe keys', {'k1': pem}, d['tokenSigningPublicKeys'])
    eq('status ACTIVE by default', 'ACTIVE', d['status'])
    eq('signingDisabled false by default', False, d['signingDisabled'])
    eq('enableCachingForHttp false by default', False, d['enableCachingForHttp'])
    true('creationDate is a datetime', isinstance(d['creationDate'], datetime.datetime))
    true('lastModifiedDate is a datetime', isinstance(d['lastModifiedDate'],
                                                      datetime.datetime))
    desc_members = set(MODEL.shape_for('AuthorizerDescription').members)
    true('description members in the model', set(d) <= desc_members, set(d) - desc_members)

    expect_error('duplicate', 'ResourceAlreadyExistsException', 409,
                 'The authorizer crud-a already exists', iot.create_authorizer,
                 authorizerName='crud-a', authorizerFunctionArn=MAPPED,
                 signingDisabled=True)
    expect_error('bad name', 'InvalidRequestException', 400,
                 VALIDATION % ('bad name', 'authorizerName',
                               'Member must satisfy regular expression pattern: '
                               '[\\w=,@-]+'),
                 iot.create_authorizer, authorizerName='bad name',
                 authorizerFunctionArn=MAPPED, signingDisabled=True)
    expect_error('bad status', 'InvalidRequestException', 400,
                 VALIDATION % ('ON', 'status', 'Member must satisfy enum value set: '
                               '[ACTIVE, INACTIVE]'),
                 iot.create_authorizer, authorizerName='s', authorizerFunctionArn=MAPPED,
                 signingDisabled=True, status='ON')
    expect_error('bad tokenKeyName', 'InvalidRequestException', 400,
                 VALIDATION % ('a.b', 'tokenKeyName', 'Member must satisfy regular '
                               'expression pattern: [a-zA-Z0-9_-]+'),
                 iot.create_authorizer, authorizerName='t', authorizerFunctionArn=MAPPED,
                 tokenKeyName='a.b', tokenSigningPublicKeys={'k': pem})
    expect_error('signing without keys', 'InvalidRequestException', 400,
                 'tokenKeyName and tokenSigningPublicKeys are required when signing '
                 'is enabled', iot.create_authorizer, authorizerName='nokeys',
                 authorizerFunctionArn=MAPPED)
    expect_error('not a key', 'InvalidRequestException', 400,
                 'The public key k is not an RSA public key in PEM form',
                 iot.create_authorizer, authorizerName='nokey',
                 authorizerFunctionArn=MAPPED, tokenKeyName='tok',
                 tokenSigningPublicKeys={'k': 'not a key'})
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    small_pem = small.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    expect_error('1024-bit key', 'InvalidRequestException', 400,
                 'The public key k is an RSA key of 1024 bits; at least 2048 are required',
                 iot.create_authorizer, authorizerName='smallkey',
                 authorizerFunctionArn=MAPPED, tokenKeyName='tok',
                 tokenSigningPublicKeys={'k': small_pem})
    expect_error('missing', 'ResourceNotFoundException', 404,
                 'The authorizer nope does not exist', iot.describe_authorizer,
                 authorizerName='nope')

    # UpdateAuthorizer
    r = iot.update_authorizer(authorizerName='crud-a', status='INACTIVE',
                              tokenSigningPublicKeys={'k2': pem2, 'k1': pem},
                              enableCachingForHttp=True)
    shape_ok('UpdateAuthorizer', r)
    eq('UpdateAuthorizer', {'authorizerName': 'crud-a', 'authorizerArn': arn('crud-a')},
       {k: r[k] for k in ('authorizerName', 'authorizerArn')})
    d = iot.describe_authorizer(authorizerName='crud-a')['authorizerDescription']
    eq('updated status', 'INACTIVE', d['status'])
    eq('updated keys', {'k1': pem, 'k2': pem2}, d['tokenSigningPublicKeys'])
    eq('updated caching', True, d['enableCachingForHttp'])
    eq('tokenKeyName kept', 'tok', d['tokenKeyName'])
    expect_error('update missing', 'ResourceNotFoundException', 404,
                 'The authorizer nope does not exist', iot.update_authorizer,
                 authorizerName='nope', status='ACTIVE')
    expect_error('update: keys emptied', 'InvalidRequestException', 400,
                 'tokenKeyName and tokenSigningPublicKeys are required when signing '
                 'is enabled', iot.update_authorizer, authorizerName='crud-a',
                 tokenSigningPublicKeys={})

    # ListAuthorizers: pages, order, status filter
    for n in ('crud-b', 'crud-c', 'crud-d'):
        iot.create_authorizer(authorizerName=n, authorizerFunctionArn=MAPPED,
                              signingDisabled=True,
                              status='INACTIVE' if n == 'crud-c' else 'ACTIVE')
    r = iot.list_authorizers()
    shape_ok('ListAuthorizers', r)
    names = [a['authorizerName'] for a in r['authorizers']]
    eq('list', ['crud-a', 'crud-b', 'crud-c', 'crud-d'],
       [n for n in names if n.startswith('crud-')])
    eq('list entries', {'authorizerName': 'crud-b', 'authorizerArn': arn('crud-b')},
       r['authorizers'][names.index('crud-b')])
    seen, marker = [], None
    while True:
        kw = {'pageSize': 1}
        if marker:
            kw['marker'] = marker
        r = iot.list_authorizers(**kw)
        true('a page holds one', len(r['authorizers']) <= 1, r)
        seen += [a['authorizerName'] for a in r['authorizers']]
        marker = r.get('nextMarker')
        if not marker:
            break
    eq('pages walk every authorizer once', sorted(set(seen)), seen)
    down = [a['authorizerName'] for a in iot.list_authorizers(ascendingOrder=False)['authorizers']]
    eq('descending', sorted(down, reverse=True), down)
    r = iot.list_authorizers(ascendingOrder=False, pageSize=2)
    r2 = iot.list_authorizers(ascendingOrder=False, pageSize=2, marker=r['nextMarker'])
    eq('descending pages', down[:4],
       [a['authorizerName'] for a in r['authorizers'] + r2['authorizers']])
    eq('status filter INACTIVE', ['crud-a', 'crud-c'],
       [a['authorizerName'] for a in iot.list_authorizers(status='INACTIVE')['authorizers']
        if a['authorizerName'].startswith('crud-')])
    eq('status filter ACTIVE', ['crud-b', 'crud-d'],
       [a['authorizerName'] for a in iot.list_authorizers(status='ACTIVE')['authorizers']
        if a['authorizerName'].startswith('crud-')])
    expect_error('bad marker', 'InvalidRequestException', 400, 'Invalid marker',
                 iot.list_authorizers, marker='%%%')
    # the paginator botocore ships for it
    pages = iot.get_paginator('list_authorizers').paginate(PaginationConfig={'PageSize': 2})
    eq('paginator', down[::-1], [a['authorizerName'] for p in pages for a in p['authorizers']])

    # the default authorizer
    expect_error('no default', 'ResourceNotFoundException', 404,
                 'No default authorizer is set', iot.describe_default_authorizer)
    expect_error('clear without default', 'ResourceNotFoundException', 404,
                 'No default authorizer is set', iot.clear_default_authorizer)
    expect_error('default: unknown', 'ResourceNotFoundException', 404,
                 'The authorizer nope does not exist', iot.set_default_authorizer,
                 authorizerName='nope')
    r = iot.set_default_authorizer(authorizerName='crud-b')
    shape_ok('SetDefaultAuthorizer', r)
    eq('SetDefaultAuthorizer', {'authorizerName': 'crud-b', 'authorizerArn': arn('crud-b')},
       {k: r[k] for k in ('authorizerName', 'authorizerArn')})
    iot.set_default_authorizer(authorizerName='crud-b')  # again: no change
    expect_error('another default', 'ResourceAlreadyExistsException', 409,
                 'The default authorizer is already set (name=crud-b)',
                 iot.set_default_authorizer, authorizerName='crud-d')
    r = iot.describe_default_authorizer()
    shape_ok('DescribeDefaultAuthorizer', r)
    eq('default description', 'crud-b', r['authorizerDescription']['authorizerName'])
    eq('default description status', 'ACTIVE', r['authorizerDescription']['status'])

    # DeleteAuthorizer: ACTIVE or default ones cannot go
    expect_error('delete ACTIVE', 'DeleteConflictException', 409,
                 'Cannot delete an ACTIVE authorizer (name=crud-d): set its status to '
                 'INACTIVE first', iot.delete_authorizer, authorizerName='crud-d')
    iot.update_authorizer(authorizerName='crud-b', status='INACTIVE')
    expect_error('delete the default', 'DeleteConflictException', 409,
                 'Cannot delete the default authorizer (name=crud-b): clear the default '
                 'authorizer first', iot.delete_authorizer, authorizerName='crud-b')
    r = iot.clear_default_authorizer()
    shape_ok('ClearDefaultAuthorizer', r)
    for n in ('crud-a', 'crud-b', 'crud-c'):
        shape_ok('DeleteAuthorizer', iot.delete_authorizer(authorizerName=n))
    expect_error('delete twice', 'ResourceNotFoundException', 404,
                 'The authorizer crud-a does not exist', iot.delete_authorizer,
                 authorizerName='crud-a')
    iot.update_authorizer(authorizerName='crud-d', status='INACTIVE')
    iot.delete_authorizer(authorizerName='crud-d')
    eq('all gone', [], [a['authorizerName'] for a in iot.list_authorizers()['authorizers']
                        if a['authorizerName'].startswith('crud-')])
    # left for the restart: a default authorizer
    iot.create_authorizer(authorizerName='keep', authorizerFunctionArn=MAPPED,
                          signingDisabled=True, enableCachingForHttp=True)
    iot.set_default_authorizer(authorizerName='keep')


def signed_authorizer(name, fn=MAPPED):
    key, pem = new_key()
    iot.create_authorizer(authorizerName=name, authorizerFunctionArn=fn,
                          tokenKeyName='tok', tokenSigningPublicKeys={'main': pem})
    return key


def last_event(path_prefix):
    evs = [e for e in events() if e['path'].startswith(path_prefix)]
    true('the function was called', evs, path_prefix)
    return evs[-1]


def g_invoke():
    key = signed_authorizer('signed')
    n0 = len(events())
    # allowed: policyDocuments come back as JSON strings, objects printed compactly
    r = iot.test_invoke_authorizer(
        authorizerName='signed', token='allow-1', tokenSignature=sign(key, 'allow-1'),
        httpContext={'headers': {'Host': 'ep', 'X-Extra': 'v'}, 'queryString': '?a=1&b=2'},
        mqttContext={'username': 'dev?x=1', 'password': b'\x00\x01pw', 'clientId': 'c1'},
        tlsContext={'serverName': 'iot.example.com'})
    shape_ok('TestInvokeAuthorizer', r)
    eq('allow: isAuthenticated', True, r['isAuthenticated'])
    eq('allow: principalId', 'dev1', r['principalId'])
    eq('allow: documents as strings', [json.dumps(POLICY, separators=(',', ':')),
                                       json.dumps(POLICY2)], r['policyDocuments'])
    eq('allow: refreshAfterInSeconds', 600, r['refreshAfterInSeconds'])
    eq('allow: disconnectAfterInSeconds', 3600, r['disconnectAfterInSeconds'])
    ev = events()
    eq('one call', n0 + 1, len(ev))
    rec = ev[-1]
    eq('POSTed to the mapped URL', '/authorize', rec['path'])
    eq('as JSON', 'application/json', rec['contentType'])
    e = rec['event']
    eq('event keys', ['token', 'signatureVerified', 'protocols', 'protocolData',
                      'connectionMetadata'], list(e))
    eq('event token', 'allow-1', e['token'])
    eq('event signatureVerified', True, e['signatureVerified'])
    eq('event protocols', ['tls', 'http', 'mqtt'], e['protocols'])
    eq('event protocolData', {
        'tls': {'serverName': 'iot.example.com'},
        'http': {'headers': {'Host': 'ep', 'X-Extra': 'v'}, 'queryString': '?a=1&b=2'},
        'mqtt': {'username': 'dev?x=1', 'password': base64.b64encode(b'\x00\x01pw').decode(),
                 'clientId': 'c1'}}, e['protocolData'])
    true('connectionMetadata.id is a UUID', len(e['connectionMetadata']['id']) == 36,
         e['connectionMetadata'])

    # denied by the function: 200 with isAuthenticated false
    r = iot.test_invoke_authorizer(authorizerName='signed', token='deny',
                                   tokenSignature=sign(key, 'deny'))
    eq('deny: isAuthenticated', False, r['isAuthenticated'])
    eq('deny: principalId', 'nobody', r['principalId'])
    eq('deny: no documents', [], r['policyDocuments'])
    eq('deny: event protocols (no context)', [], last_event('/authorize')['event']['protocols'])

    # a signature that does not verify: refused before the function runs
    n0 = len(events())
    expect_error('bad signature', 'InvalidRequestException', 400,
                 'token signature invalid', iot.test_invoke_authorizer,
                 authorizerName='signed', token='allow-2',
                 tokenSignature=sign(key, 'allow-3'))
    expect_error('signature by another key', 'InvalidRequestException', 400,
                 'token signature invalid', iot.test_invoke_authorizer,
                 authorizerName='signed', token='allow-2',
                 tokenSignature=sign(rsa.generate_private_key(65537, 2048), 'allow-2'))
    expect_error('no signature', 'InvalidRequestException', 400,
                 'token signature missing', iot.test_invoke_authorizer,
                 authorizerName='signed', token='allow-2')
    expect_error('signature not base64', 'InvalidRequestException', 400,
                 VALIDATION % ('a-b', 'tokenSignature', 'Member must satisfy regular '
                               'expression pattern: [A-Za-z0-9+/]+={0,2}'),
                 iot.test_invoke_authorizer, authorizerName='signed', token='allow-2',
                 tokenSignature='a-b')
    eq('the function was not called', n0, len(events()))
    # the token found under tokenKeyName in the HTTP headers
    r = iot.test_invoke_authorizer(
        authorizerName='signed', tokenSignature=sign(key, 'allow-hdr'),
        httpContext={'headers': {'tok': 'allow-hdr'}})
    eq('token from the headers', True, r['isAuthenticated'])
    eq('event token from the headers', 'allow-hdr', last_event('/authorize')['event']['token'])

    # a malformed answer, a non-JSON one, a slow one
    expect_error('malformed', 'InvalidResponseException', 400,
                 'malformed authorizer response: principalId must match '
                 '[a-zA-Z0-9]{1,128}', iot.test_invoke_authorizer,
                 authorizerName='signed', token='malformed',
                 tokenSignature=sign(key, 'malformed'))
    expect_error('not JSON', 'InvalidResponseException', 400,
                 'malformed authorizer response: not a JSON object',
                 iot.test_invoke_authorizer, authorizerName='signed', token='notjson',
                 tokenSignature=sign(key, 'notjson'))
    t0 = time.time()
    expect_error('slow', 'InvalidResponseException', 400,
                 'authorizer timed out after 5000 ms', iot.test_invoke_authorizer,
                 authorizerName='signed', token='slow', tokenSignature=sign(key, 'slow'))
    took = time.time() - t0
    true('the 5 s limit', 4.5 < took < 6.9, took)

    # signing disabled: no token or signature needed; the password decides
    iot.create_authorizer(authorizerName='open', authorizerFunctionArn=MAPPED,
                          signingDisabled=True)
    r = iot.test_invoke_authorizer(authorizerName='open',
                                   mqttContext={'username': 'u', 'password': b'secret',
                                                'clientId': 'c9'})
    eq('signing disabled: allowed', True, r['isAuthenticated'])
    eq('signing disabled: principal', 'pwuser', r['principalId'])
    e = last_event('/authorize')['event']
    eq('signing disabled: signatureVerified false', False, e['signatureVerified'])
    true('signing disabled: no token member', 'token' not in e, e)
    r = iot.test_invoke_authorizer(authorizerName='open',
                                   mqttContext={'username': 'u', 'password': b'wrong'})
    eq('signing disabled: wrong password', False, r['isAuthenticated'])
    # an INACTIVE authorizer can still be tested; a missing one cannot
    iot.update_authorizer(authorizerName='open', status='INACTIVE')
    r = iot.test_invoke_authorizer(authorizerName='open',
                                   mqttContext={'password': b'secret'})
    eq('INACTIVE still testable', True, r['isAuthenticated'])
    expect_error('missing', 'ResourceNotFoundException', 404,
                 'The authorizer nope does not exist', iot.test_invoke_authorizer,
                 authorizerName='nope', token='x')
    # a function nobody serves
    iot.create_authorizer(authorizerName='dead', signingDisabled=True,
                          authorizerFunctionArn='arn:aws:lambda:us-east-1:123456789012:'
                                                'function:dead')
    expect_error('no such function', 'InvalidResponseException', 400,
                 'authorizer function failed: HTTP 404: {.Type.: .User., .message.: '
                 '.Function not found: arn:aws:lambda:us-east-1:123456789012:function:'
                 'dead.}', iot.test_invoke_authorizer, authorizerName='dead', token='allow')
    for n in ('signed', 'open', 'dead'):
        iot.update_authorizer(authorizerName=n, status='INACTIVE')
        iot.delete_authorizer(authorizerName=n)


def g_lambda():
    key = signed_authorizer('lam', UNMAPPED)
    r = iot.test_invoke_authorizer(authorizerName='lam', token='allow-l',
                                   tokenSignature=sign(key, 'allow-l'),
                                   mqttContext={'clientId': 'c1'})
    eq('Lambda Invoke: allowed', True, r['isAuthenticated'])
    eq('Lambda Invoke: principalId', 'dev1', r['principalId'])
    rec = last_event('/2015-03-31/functions/')
    eq('Lambda Invoke: path', '/2015-03-31/functions/' + urllib.parse.quote(UNMAPPED, safe='')
       + '/invocations', rec['path'])
    eq('Lambda Invoke: function name', UNMAPPED, rec['functionName'])
    eq('Lambda Invoke: RequestResponse', 'RequestResponse', rec['invocationType'])
    eq('Lambda Invoke: SigV4 for lambda, checked by botocore', True, rec['sigv4'])
    eq('Lambda Invoke: event', {'token': 'allow-l', 'signatureVerified': True,
                                'protocols': ['mqtt'], 'protocolData': {'mqtt': {
                                    'clientId': 'c1'}}},
       {k: v for k, v in rec['event'].items() if k != 'connectionMetadata'})
    expect_error('Lambda function error', 'InvalidResponseException', 400,
                 'authorizer function error (Unhandled): {.errorMessage.: .boom., '
                 '.errorType.: .Error.}', iot.test_invoke_authorizer,
                 authorizerName='lam', token='error', tokenSignature=sign(key, 'error'))
    iot.update_authorizer(authorizerName='lam', status='INACTIVE')
    iot.delete_authorizer(authorizerName='lam')


def g_persisted():
    d = iot.describe_default_authorizer()['authorizerDescription']
    eq('default survived the restart', 'keep', d['authorizerName'])
    eq('its settings too', (MAPPED, True, True, 'ACTIVE'),
       (d['authorizerFunctionArn'], d['signingDisabled'], d['enableCachingForHttp'],
        d['status']))
    d = iot.describe_authorizer(authorizerName='cli-az')['authorizerDescription']
    eq('the CLI-made authorizer survived', ('INACTIVE', 'tok'), (d['status'],
                                                                d['tokenKeyName']))
    r = iot.test_invoke_authorizer(authorizerName='keep', mqttContext={'password': b'secret'})
    eq('and runs', 'pwuser', r['principalId'])


GROUPS = {'crud': g_crud, 'invoke': g_invoke, 'lambda': g_lambda,
          'persisted': g_persisted}
GROUPS[GROUP]()
print('ok %s %d' % (GROUP, checks))
