#!/usr/bin/env python3
"""rules.py - the Rules Engine of iotcored end to end: topic rules managed
with boto3's iot client, messages published and received over MQTT (a small
MQTT 3.1.1 client below, so a subscription is known to be in place before
anything is published), a local HTTP sink for the http action, and a
moto_server standing in for SQS and DynamoDB.

    python3 rules.py CONTROL_URL MQTT_PORT MOTO_URL GROUP

GROUP: crud republish ingest http aws error lifecycle. Prints "ok GROUP N"
(N checks) and exits 0, or "FAIL GROUP: what" and exits 1.
"""
import base64
import http.server
import json
import re
import socket
import struct
import sys
import threading
import time
import uuid

import boto3
from botocore.exceptions import ClientError

CTL, MQTT_PORT, MOTO, GROUP = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
REGION, ACCOUNT = 'us-east-1', '123456789012'
ROLE = 'arn:aws:iam::123456789012:role/iot-rules'
TAG = uuid.uuid4().hex[:6]
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


iot = boto3.client('iot', endpoint_url=CTL, region_name=REGION)


# ---- a minimal MQTT 3.1.1 client ---------------------------------------------------

def _enc_str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack('!H', len(b)) + b


def _packet(t, body):
    n, rl = len(body), b''
    while True:
        d = n % 128
        n //= 128
        rl += bytes([d | (0x80 if n else 0)])
        if not n:
            break
    return bytes([t]) + rl + body


class Mqtt:
    def __init__(self, client_id, keepalive=60):
        self.s = socket.create_connection(('127.0.0.1', MQTT_PORT), timeout=10)
        self.buf = b''
        body = _enc_str('MQTT') + bytes([4, 0x02]) + struct.pack('!H', keepalive) + \
            _enc_str(client_id)
        self.s.sendall(_packet(0x10, body))
        t, b = self.read()
        if t != 0x20 or b[1] != 0:
            fail('CONNACK %r %r' % (t, b))
        self.pid = 0

    def read(self, timeout=10):
        self.s.settimeout(timeout)
        while True:
            if len(self.buf) >= 2:
                mult, n, i = 1, 0, 1
                while i < len(self.buf):
                    n += (self.buf[i] & 0x7f) * mult
                    if not self.buf[i] & 0x80:
                        break
                    mult *= 128
                    i += 1
                if i < len(self.buf) and len(self.buf) >= i + 1 + n:
                    t, body = self.buf[0] & 0xf0, self.buf[i + 1:i + 1 + n]
                    self.buf = self.buf[i + 1 + n:]
                    return t, body
            d = self.s.recv(65536)
            if not d:
                raise EOFError('closed')
            self.buf += d

    def subscribe(self, *filters):
        self.pid += 1
        body = struct.pack('!H', self.pid) + b''.join(_enc_str(f) + b'\x00' for f in filters)
        self.s.sendall(_packet(0x82, body))
        t, b = self.read()
        if t != 0x90:
            fail('SUBACK %r' % t)
        return list(b[2:])

    def publish(self, topic, payload):
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload, separators=(',', ':'))
        if isinstance(payload, str):
            payload = payload.encode()
        self.s.sendall(_packet(0x30, _enc_str(topic) + payload))

    def next_publish(self, timeout=10):
        """(topic, payload bytes) of the next PUBLISH, or None on timeout."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            try:
                t, b = self.read(left)
            except socket.timeout:
                return None
            if t == 0x30:
                n = struct.unpack('!H', b[:2])[0]
                return b[2:2 + n].decode(), b[2 + n:]

    def ping(self):
        """A round trip: everything published before it has been handled."""
        self.s.sendall(b'\xc0\x00')
        while True:
            t, b = self.read()
            if t == 0xd0:
                return

    def close(self):
        try:
            self.s.sendall(b'\xe0\x00')
        except OSError:
            pass
        self.s.close()


def expect(sub, topic, payload, what):
    got = sub.next_publish()
    true(what + ': a message arrives', got is not None)
    eq(what + ': topic', topic, got[0])
    if isinstance(payload, (dict, list)):
        eq(what + ': payload', payload, json.loads(got[1]))
        return got[1]
    eq(what + ': payload', payload.encode() if isinstance(payload, str) else payload, got[1])
    return got[1]


def rule(name, sql, actions, error_action=None, version='2016-03-23', **kw):
    p = {'sql': sql, 'actions': actions, 'awsIotSqlVersion': version}
    if error_action:
        p['errorAction'] = error_action
    p.update(kw)
    iot.create_topic_rule(ruleName=name, topicRulePayload=p)


def republish(topic, qos=0):
    return {'republish': {'roleArn': ROLE, 'topic': topic, 'qos': qos}}


def err(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response
    fail('%s(%r) succeeded' % (fn.__name__, kw))


# ---- groups ---------------------------------------------------------------------------

def g_crud():
    name = 'crud_' + TAG
    sql = "SELECT temp FROM 'crud/%s/+' WHERE temp > 1" % TAG
    r = iot.create_topic_rule(ruleName=name, topicRulePayload={
        'sql': sql, 'description': 'd', 'actions': [republish('out/x')]},
        tags='team=a&env=b')
    eq('CreateTopicRule status', 200, r['ResponseMetadata']['HTTPStatusCode'])
    g = iot.get_topic_rule(ruleName=name)
    eq('ruleArn', 'arn:aws:iot:%s:%s:rule/%s' % (REGION, ACCOUNT, name), g['ruleArn'])
    rr = g['rule']
    eq('ruleName', name, rr['ruleName'])
    eq('sql', sql, rr['sql'])
    eq('description', 'd', rr['description'])
    eq('ruleDisabled default', False, rr['ruleDisabled'])
    eq('awsIotSqlVersion default', '2015-10-08', rr['awsIotSqlVersion'])
    eq('actions', [{'republish': {'roleArn': ROLE, 'topic': 'out/x', 'qos': 0}}],
       rr['actions'])
    true('createdAt is a datetime', hasattr(rr['createdAt'], 'year'), rr['createdAt'])
    lst = iot.list_topic_rules(topic='crud/%s/+' % TAG)['rules']
    eq('ListTopicRules by topic', [name], [x['ruleName'] for x in lst])
    eq('topicPattern', 'crud/%s/+' % TAG, lst[0]['topicPattern'])
    e = err(iot.create_topic_rule, ruleName=name, topicRulePayload={
        'sql': sql, 'actions': []})
    eq('duplicate', 'ResourceAlreadyExistsException', e['Error']['Code'])
    e = err(iot.get_topic_rule, ruleName='nope_' + TAG)
    eq('missing rule: UnauthorizedException', 'UnauthorizedException', e['Error']['Code'])
    eq('missing rule: 401', 401, e['ResponseMetadata']['HTTPStatusCode'])
    eq('missing rule message', "Access to topic rule 'nope_%s' was denied" % TAG,
       e['Error']['Message'])
    e = err(iot.create_topic_rule, ruleName='bad_' + TAG, topicRulePayload={
        'sql': "SELECT temp FROM 'a/b' WHERE", 'actions': []})
    eq('bad SQL: SqlParseException', 'SqlParseException', e['Error']['Code'])
    true('bad SQL: position', re.search(r'at line 1, column \d+', e['Error']['Message']),
         e['Error']['Message'])
    e = err(iot.create_topic_rule, ruleName='bad-name', topicRulePayload={
        'sql': sql, 'actions': []})
    eq('bad name', 'InvalidRequestException', e['Error']['Code'])
    e = err(iot.create_topic_rule, ruleName='many_' + TAG, topicRulePayload={
        'sql': sql, 'actions': [republish('x/%d' % i) for i in range(11)]})
    eq('11 actions', 'InvalidRequestException', e['Error']['Code'])
    e = err(iot.create_topic_rule, ruleName='two_' + TAG, topicRulePayload={
        'sql': sql, 'actions': [{'republish': {'roleArn': ROLE, 'topic': 'a'},
                                 'sqs': {'roleArn': ROLE, 'queueUrl': 'q'}}]})
    eq('two kinds in one action', 'InvalidRequestException', e['Error']['Code'])
    e = err(iot.create_topic_rule, ruleName='tmpl_' + TAG, topicRulePayload={
        'sql': sql, 'actions': [republish('a/${topic(')]})
    eq('bad template', 'InvalidRequestException', e['Error']['Code'])
    iot.disable_topic_rule(ruleName=name)
    eq('disabled', True, iot.get_topic_rule(ruleName=name)['rule']['ruleDisabled'])
    eq('ListTopicRules ruleDisabled=true',
       [name], [x['ruleName'] for x in iot.list_topic_rules(ruleDisabled=True)['rules']
                if x['ruleName'] == name])
    iot.enable_topic_rule(ruleName=name)
    eq('enabled', False, iot.get_topic_rule(ruleName=name)['rule']['ruleDisabled'])
    iot.replace_topic_rule(ruleName=name, topicRulePayload={
        'sql': "SELECT * FROM 'crud2/#'", 'actions': [],
        'awsIotSqlVersion': '2016-03-23'})
    rr = iot.get_topic_rule(ruleName=name)['rule']
    eq('replaced sql', "SELECT * FROM 'crud2/#'", rr['sql'])
    eq('replaced version', '2016-03-23', rr['awsIotSqlVersion'])
    e = err(iot.replace_topic_rule, ruleName='nope_' + TAG, topicRulePayload={
        'sql': sql, 'actions': []})
    eq('replace missing', 'UnauthorizedException', e['Error']['Code'])
    # pagination: maxResults 1 walks every rule once
    for i in range(3):
        rule('page%d_%s' % (i, TAG), "SELECT * FROM 'p/%d'" % i, [])
    seen, token = [], None
    while True:
        kw = {'maxResults': 1}
        if token:
            kw['nextToken'] = token
        r = iot.list_topic_rules(**kw)
        seen += [x['ruleName'] for x in r['rules']]
        token = r.get('nextToken')
        if not token:
            break
    eq('pages', sorted(seen), seen)
    true('every page rule listed', all('page%d_%s' % (i, TAG) in seen for i in range(3)))
    for n in [name] + ['page%d_%s' % (i, TAG) for i in range(3)]:
        iot.delete_topic_rule(ruleName=n)
    e = err(iot.delete_topic_rule, ruleName=name)
    eq('delete twice', 'UnauthorizedException', e['Error']['Code'])


def g_republish():
    name = 'alerts_' + TAG
    rule(name, "SELECT temp, topic(2) AS device FROM 'sensors/+/data' WHERE temp > 30",
         [republish('alerts/${topic(2)}', 1)])
    sub = Mqtt('rsub-' + TAG)
    sub.subscribe('alerts/#')
    pub = Mqtt('rpub-' + TAG)
    pub.publish('sensors/d1/data', {'temp': 20, 'hum': 5})      # WHERE false
    pub.publish('sensors/d2/data', {'temp': 35, 'hum': 5})
    expect(sub, 'alerts/d2', {'temp': 35, 'device': 'd2'}, 'republish')
    # disabled: nothing; enabled again: fires (the first message seen is 41)
    iot.disable_topic_rule(ruleName=name)
    pub.publish('sensors/d3/data', {'temp': 40})
    pub.ping()
    iot.enable_topic_rule(ruleName=name)
    pub.publish('sensors/d4/data', {'temp': 41})
    expect(sub, 'alerts/d4', {'temp': 41, 'device': 'd4'}, 'enabled again')
    # replaced: the new SQL at once
    iot.replace_topic_rule(ruleName=name, topicRulePayload={
        'sql': "SELECT VALUE temp FROM 'sensors/+/data'", 'awsIotSqlVersion': '2016-03-23',
        'actions': [republish('alerts/v')]})
    pub.publish('sensors/d5/data', {'temp': 7.5})
    expect(sub, 'alerts/v', b'7.5', 'replaced rule')
    iot.delete_topic_rule(ruleName=name)
    pub.publish('sensors/d6/data', {'temp': 99})
    pub.ping()
    # a loop: a rule republishing onto its own FROM stops at the depth limit
    loop = 'loop_' + TAG
    rule(loop, "SELECT * FROM 'loop/%s'" % TAG, [republish('loop/' + TAG)])
    sub.subscribe('loop/' + TAG)
    pub.publish('loop/' + TAG, {'n': 1})
    got = 0
    while sub.next_publish(timeout=3) is not None:
        got += 1
    eq('loop stopped at rules_max_republish_depth (8): deliveries', 8, got)
    iot.delete_topic_rule(ruleName=loop)
    sub.close()
    pub.close()


def g_ingest():
    name = 'ingest_' + TAG
    rule(name, "SELECT *, topic() AS t, topic(2) AS second", [republish('ingested/' + TAG)])
    sub = Mqtt('isub-' + TAG)
    sub.subscribe('ingested/' + TAG)
    eq('Basic Ingest topics cannot be subscribed', [0x80], sub.subscribe('$aws/rules/#'))
    watcher = Mqtt('iwatch-' + TAG)
    watcher.subscribe('#')
    pub = Mqtt('ipub-' + TAG)
    pub.publish('$aws/rules/%s/a/b' % name, {'x': 1})
    expect(sub, 'ingested/' + TAG, {'x': 1, 't': 'a/b', 'second': 'b'}, 'ingest')
    pub.publish('$aws/rules/nosuch_%s/a' % TAG, {'x': 2})
    pub.ping()
    seen = []
    while True:
        m = watcher.next_publish(timeout=1)
        if m is None:
            break
        seen.append(m[0])
    eq('a # subscriber sees only the rule\'s republish, never the ingested '
       'message (nor its rest topic a/b)', ['ingested/' + TAG], seen)
    iot.delete_topic_rule(ruleName=name)
    for c in (sub, watcher, pub):
        c.close()


class Sink(http.server.BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        n = int(self.headers.get('Content-Length', 0))
        Sink.got.append((self.path, dict(self.headers), self.rfile.read(n)))
        code = 500 if self.path.startswith('/fail') else 200
        self.send_response(code)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *a):
        pass


def sink():
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Sink)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def wait_for(cond, what, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.02)
    fail('timed out waiting for ' + what)


def g_http():
    srv = sink()
    port = srv.server_address[1]
    name = 'http_' + TAG
    rule(name, "SELECT temp, clientid() AS c FROM 'h/+'", [{'http': {
        'url': 'http://127.0.0.1:%d/hook/${topic(2)}?t=${temp}' % port,
        'headers': [{'key': 'x-device', 'value': '${topic(2)}'},
                    {'key': 'x-static', 'value': 'v'}]}}])
    pub = Mqtt('hpub-' + TAG)
    pub.publish('h/dev9', {'temp': 21})
    wait_for(lambda: len(Sink.got) == 1, 'the http action')
    path, headers, body = Sink.got[0]
    eq('http path', '/hook/dev9?t=21', path)
    eq('http body', {'temp': 21, 'c': 'hpub-' + TAG}, json.loads(body))
    eq('x-device', 'dev9', headers.get('x-device'))
    eq('x-static', 'v', headers.get('x-static'))
    eq('content-type', 'application/json', headers.get('Content-Type'))
    iot.delete_topic_rule(ruleName=name)
    pub.close()
    srv.shutdown()


def g_aws():
    sqs = boto3.client('sqs', endpoint_url=MOTO, region_name=REGION)
    ddb = boto3.client('dynamodb', endpoint_url=MOTO, region_name=REGION)
    q = sqs.create_queue(QueueName='iot-' + TAG)['QueueUrl']
    table = 'iot_' + TAG
    ddb.create_table(TableName=table, BillingMode='PAY_PER_REQUEST',
                     KeySchema=[{'AttributeName': 'device', 'KeyType': 'HASH'}],
                     AttributeDefinitions=[{'AttributeName': 'device', 'AttributeType': 'S'}])
    rule('aws_' + TAG, "SELECT topic(2) AS device, temp, ok, tags, nested FROM 'a/+'", [
        {'sqs': {'roleArn': ROLE, 'queueUrl': q, 'useBase64': False}},
        {'dynamoDBv2': {'roleArn': ROLE, 'putItem': {'tableName': table}}}])
    pub = Mqtt('apub-' + TAG)
    msg = {'temp': 21.5, 'ok': True, 'tags': ['x', 'y'], 'nested': {'n': 1}}
    pub.publish('a/dev7', msg)
    out = {'device': 'dev7', 'temp': 21.5, 'ok': True, 'tags': ['x', 'y'], 'nested': {'n': 1}}
    got = []
    deadline = time.time() + 15
    while not got and time.time() < deadline:
        got = sqs.receive_message(QueueUrl=q, WaitTimeSeconds=1).get('Messages', [])
    true('SQS received the message', got)
    eq('SQS body', out, json.loads(got[0]['Body']))
    wait_for(lambda: 'Item' in ddb.get_item(TableName=table, Key={'device': {'S': 'dev7'}}),
             'the DynamoDB item')
    item = ddb.get_item(TableName=table, Key={'device': {'S': 'dev7'}})['Item']
    eq('DynamoDB item', {'device': {'S': 'dev7'}, 'temp': {'N': '21.5'}, 'ok': {'BOOL': True},
                         'tags': {'L': [{'S': 'x'}, {'S': 'y'}]},
                         'nested': {'M': {'n': {'N': '1'}}}}, item)
    iot.delete_topic_rule(ruleName='aws_' + TAG)
    pub.close()


def g_error():
    srv = sink()
    port = srv.server_address[1]
    name = 'err_' + TAG
    dead = socket.socket()
    dead.bind(('127.0.0.1', 0))
    dead_port = dead.getsockname()[1]
    dead.close()  # nothing listens there: connection refused
    rule(name, "SELECT * FROM 'e/+'", [
        {'http': {'url': 'http://127.0.0.1:%d/x' % dead_port}},
        republish('e-ok/' + TAG),
        {'http': {'url': 'http://127.0.0.1:%d/fail' % port}}],
        error_action=republish('errors/' + TAG))
    sub = Mqtt('esub-' + TAG)
    sub.subscribe('errors/' + TAG, 'e-ok/' + TAG)
    pub = Mqtt('epub-' + TAG)
    payload = b'{"v":1}'
    pub.publish('e/1', payload)
    first = sub.next_publish()
    second = sub.next_publish()
    msgs = dict([first, second]) if first and second else {}
    true('both the good action and the error action', len(msgs) == 2, (first, second))
    eq('the good action still ran', payload, msgs['e-ok/' + TAG])
    doc = json.loads(msgs['errors/' + TAG])
    eq('error document keys in order', ['ruleName', 'topic', 'cloudwatchTraceId', 'clientId',
                                        'base64OriginalPayload', 'failures'], list(doc))
    eq('ruleName', name, doc['ruleName'])
    eq('topic', 'e/1', doc['topic'])
    true('cloudwatchTraceId is a UUID',
         re.match(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$',
                  doc['cloudwatchTraceId']), doc['cloudwatchTraceId'])
    eq('clientId', 'epub-' + TAG, doc['clientId'])
    eq('base64OriginalPayload', base64.b64encode(payload).decode(), doc['base64OriginalPayload'])
    eq('two failures, in action order', ['HttpAction', 'HttpAction'],
       [f['failedAction'] for f in doc['failures']])
    eq('failedResource', ['http://127.0.0.1:%d/x' % dead_port, 'http://127.0.0.1:%d/fail' % port],
       [f['failedResource'] for f in doc['failures']])
    true('errorMessage says why', 'refused' in doc['failures'][0]['errorMessage'].lower()
         or 'ECONNREFUSED' in doc['failures'][0]['errorMessage'], doc['failures'][0])
    true('errorMessage has the status', '500' in doc['failures'][1]['errorMessage'],
         doc['failures'][1])
    eq('a 500 is retried: 3 tries', 3, len([g for g in Sink.got if g[0] == '/fail']))
    # no AWS endpoint -> the AWS action fails cleanly into the error action
    iot.delete_topic_rule(ruleName=name)
    sub.close()
    pub.close()
    srv.shutdown()


def g_lifecycle():
    name = 'lc_' + TAG
    rule(name, "SELECT clientId, eventType, topic(5) AS who "
               "FROM '$aws/events/presence/connected/+'",
         [republish('presence/${topic(5)}')])
    sub = Mqtt('lsub-' + TAG)
    sub.subscribe('presence/#')
    dev = Mqtt('ldev-' + TAG)
    got = sub.next_publish()
    while got and got[0] != 'presence/ldev-' + TAG:
        got = sub.next_publish()
    true('the rule saw the lifecycle event', got is not None)
    eq('lifecycle through a rule', {'clientId': 'ldev-' + TAG, 'eventType': 'connected',
                                    'who': 'ldev-' + TAG}, json.loads(got[1]))
    iot.delete_topic_rule(ruleName=name)
    dev.close()
    sub.close()


GROUPS = {'crud': g_crud, 'republish': g_republish, 'ingest': g_ingest, 'http': g_http,
          'aws': g_aws, 'error': g_error, 'lifecycle': g_lifecycle}
GROUPS[GROUP]()
print('ok %s %d' % (GROUP, checks))
