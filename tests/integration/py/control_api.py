#!/usr/bin/env python3
"""control_api.py - the AWS IoT control plane of iotcored, driven by boto3.

    python3 control_api.py ENDPOINT_URL GROUP

GROUP is one of: things types groups principals certificates cas policies
endpoint errors signature routes. Credentials come from the environment
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; region us-east-1). `routes` runs
the daemon named by IOTCORED_BIN with --routes and needs no daemon running.

Every group uses names of its own (group name + a random run tag), so the
groups can run one after the other or side by side against one daemon, and
again against the same daemon.

What is asserted is AWS's behaviour: the botocore model (every successful
response body is checked member by member against the operation's output
shape, and must be HTTP 200), AWS's ARNs, IDs, status codes, error types and
messages. Where the AWS service is known to answer differently from the
daemon, the test asserts AWS (see the comments marked AWS:).

On failure: prints "FAIL <group>: <what>" with expected and actual values,
exits 1. With CONTROL_API_KEEP_GOING=1 in the environment, a wrong value is
reported and the group goes on (to list every difference in one run). On success: prints "ok <group> <number of checks>", exits 0.
"""
import datetime
import hashlib
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import boto3
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REGION = 'us-east-1'
ACCOUNT = '123456789012'
ARN = f'arn:aws:iot:{REGION}:{ACCOUNT}:'
UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
HEX64_RE = re.compile(r'^[0-9a-f]{64}$')
AMZ_DATE_RE = r'\d{8}T\d{6}Z'
NAME_PATTERN = 'Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+'
POLICY_NAME_PATTERN = 'Member must satisfy regular expression pattern: [\\w+=,.@-]+'
TOO_LONG = 'Member must have length less than or equal to 128'

# Every operation the control plane must serve (the routes group checks that
# each is routed; the other groups call each at least once).
OPERATIONS = '''
CreateThing DescribeThing UpdateThing DeleteThing ListThings CreateThingType
DescribeThingType DeprecateThingType DeleteThingType ListThingTypes
CreateThingGroup DescribeThingGroup UpdateThingGroup DeleteThingGroup
ListThingGroups AddThingToThingGroup RemoveThingFromThingGroup
ListThingsInThingGroup ListThingGroupsForThing CreateKeysAndCertificate
CreateCertificateFromCsr RegisterCertificate RegisterCertificateWithoutCA
DescribeCertificate UpdateCertificate DeleteCertificate ListCertificates
ListCertificatesByCA GetRegistrationCode RegisterCACertificate
DescribeCACertificate UpdateCACertificate DeleteCACertificate
ListCACertificates CreatePolicy GetPolicy DeletePolicy ListPolicies
CreatePolicyVersion GetPolicyVersion ListPolicyVersions DeletePolicyVersion
SetDefaultPolicyVersion AttachPolicy DetachPolicy ListAttachedPolicies
ListTargetsForPolicy AttachThingPrincipal DetachThingPrincipal
ListThingPrincipals ListPrincipalThings DescribeEndpoint
CreateTopicRule ReplaceTopicRule GetTopicRule ListTopicRules EnableTopicRule
DisableTopicRule DeleteTopicRule
'''.split()


def policy_doc(topic):
    return json.dumps({
        'Version': '2012-10-17',
        'Statement': [{'Effect': 'Allow', 'Action': 'iot:Publish',
                       'Resource': f'{ARN}topic/{topic}'}],
    })


class Failure(Exception):
    pass


def short(kw):
    s = ', '.join(f'{k}={v!r}' for k, v in kw.items())
    return s if len(s) < 200 else s[:200] + '...'


class Suite:
    def __init__(self, url, group):
        self.url = url.rstrip('/')
        self.group = group
        self.n = 0
        self.p = f'{group}-{os.urandom(3).hex()}'  # this run's name prefix
        self.c = boto3.client('iot', endpoint_url=self.url, region_name=REGION,
                              config=Config(retries={'total_max_attempts': 1}))
        self.model = self.c.meta.service_model
        self.raw_problems = []
        self.c.meta.events.register('before-parse.iot', self._check_raw)
        self._tmp = None
        # CONTROL_API_KEEP_GOING=1: report every mismatch of a value and go on
        # (a call that fails outright still stops the group)
        self.keep_going = os.environ.get('CONTROL_API_KEEP_GOING') == '1'
        self.failures = 0

    # ---- assertions ------------------------------------------------------------

    def fail(self, what, expected=None, actual=None, soft=False):
        msg = what
        if expected is not None or actual is not None:
            msg += f'\n  expected: {expected!r}\n  actual:   {actual!r}'
        if soft and self.keep_going:
            print(f'FAIL {self.group}: {msg}')
            self.failures += 1
            return
        raise Failure(msg)

    def eq(self, what, expected, actual):
        self.n += 1
        if expected != actual:
            self.fail(what, expected, actual, soft=True)

    def true(self, what, cond, actual=None):
        self.n += 1
        if not cond:
            self.fail(what, 'true', actual, soft=True)

    def match(self, what, pattern, actual):
        self.n += 1
        if not isinstance(actual, str) or not re.fullmatch(pattern, actual):
            self.fail(what, f'/{pattern}/', actual, soft=True)

    def recent(self, what, value, slack=120):
        """A datetime (as boto3 parses timestamps) within slack s of now."""
        self.n += 1
        if not isinstance(value, datetime.datetime):
            self.fail(f'{what} is a timestamp', 'datetime', value)
        now = datetime.datetime.now(datetime.timezone.utc)
        if abs((now - value).total_seconds()) > slack:
            self.fail(f'{what} is about now', now.isoformat(), value.isoformat())

    def call(self, op, **kw):
        """Call op (snake_case boto3 name); must succeed with HTTP 200 and a
        body that matches the model. Returns the response without metadata."""
        try:
            r = getattr(self.c, op)(**kw)
        except ClientError as e:
            self.fail(f'{op}({short(kw)})', 'success',
                      f"{e.response['Error'].get('Code')} "
                      f"{e.response['ResponseMetadata']['HTTPStatusCode']}: "
                      f"{e.response['Error'].get('Message')}")
        self.n += 1
        if self.raw_problems:
            problems, self.raw_problems = self.raw_problems, []
            self.fail(f'{op} response body matches the botocore model',
                      'only modelled members of the right types', problems)
        self.eq(f'{op} HTTP status', 200, r['ResponseMetadata']['HTTPStatusCode'])
        r.pop('ResponseMetadata')
        return r

    def err(self, op, code, http_status, message=None, prefix=None, **kw):
        """Call op; it must fail with code, HTTP status and (if given) exactly
        message / a message starting with prefix."""
        try:
            getattr(self.c, op)(**kw)
        except ClientError as e:
            self.raw_problems = []
            got = (e.response['Error'].get('Code'),
                   e.response['ResponseMetadata']['HTTPStatusCode'])
            msg = e.response['Error'].get('Message')
            self.eq(f'{op}({short(kw)}) error code and HTTP status'
                    f' (message was {msg!r})', (code, http_status), got)
            if message is not None:
                self.eq(f'{op}({short(kw)}) error message', message, msg)
            if prefix is not None:
                self.true(f'{op}({short(kw)}) error message starts with {prefix!r}',
                          isinstance(msg, str) and msg.startswith(prefix), msg)
            return e
        self.fail(f'{op}({short(kw)})', f'{code} ({http_status})', 'success', soft=True)

    # ---- the raw body against the model -------------------------------------------

    def _check_raw(self, operation_model, response_dict, **_):
        status = response_dict.get('status_code')
        if status is None or status >= 300:
            return
        body = response_dict.get('body') or b''
        shape = operation_model.output_shape
        if not body.strip():
            return
        try:
            value = json.loads(body)
        except ValueError:
            self.raw_problems.append(f'body is not JSON: {body[:100]!r}')
            return
        if shape is None:
            if value != {}:
                self.raw_problems.append(f'no output in the model, body {value!r}')
            return
        self._check_shape(shape, value, operation_model.name, top=True)

    def _check_shape(self, shape, v, path, top=False):
        t = shape.type_name
        bad = self.raw_problems.append
        if t == 'structure':
            if not isinstance(v, dict):
                bad(f'{path}: {v!r} is not an object')
                return
            members = {name: m for name, m in shape.members.items()
                       if not (top and m.serialization.get('location'))}
            for k, x in v.items():
                if k not in members:
                    bad(f'{path}.{k}: not a member of {shape.name}')
                else:
                    self._check_shape(members[k], x, f'{path}.{k}')
        elif t == 'list':
            if not isinstance(v, list):
                bad(f'{path}: {v!r} is not a list')
                return
            for i, x in enumerate(v):
                self._check_shape(shape.member, x, f'{path}[{i}]')
        elif t == 'map':
            if not isinstance(v, dict):
                bad(f'{path}: {v!r} is not a map')
                return
            for k, x in v.items():
                self._check_shape(shape.value, x, f'{path}[{k!r}]')
        elif t == 'string':
            if not isinstance(v, str):
                bad(f'{path}: {v!r} is not a string')
            elif shape.enum and v not in shape.enum:
                bad(f'{path}: {v!r} is not one of {shape.enum}')
        elif t in ('integer', 'long'):
            if not isinstance(v, int) or isinstance(v, bool):
                bad(f'{path}: {v!r} is not an integer')
        elif t in ('double', 'float'):
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                bad(f'{path}: {v!r} is not a number')
        elif t == 'boolean':
            if not isinstance(v, bool):
                bad(f'{path}: {v!r} is not a boolean')
        elif t == 'timestamp':  # rest-json: epoch seconds
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                bad(f'{path}: {v!r} is not epoch seconds')
        elif t == 'blob':
            if not isinstance(v, str):
                bad(f'{path}: {v!r} is not base64 text')

    # ---- pagination ---------------------------------------------------------------

    def pages(self, op, key, size, token_in='nextToken', token_out='nextToken',
              size_key='maxResults', limit=2000, **kw):
        """Page through op by hand; each page at most size items. Returns the
        list of pages (lists)."""
        out, token = [], None
        while True:
            args = dict(kw)
            args[size_key] = size
            if token:
                args[token_in] = token
            r = self.call(op, **args)
            page = r.get(key, [])
            self.true(f'{op} page of at most {size_key}={size} items',
                      len(page) <= size, len(page))
            out.append(page)
            token = r.get(token_out)
            if not token:
                return out
            if len(out) > limit:
                self.fail(f'{op} pagination ends', f'< {limit} pages', 'more')

    def paginate(self, op, key, page_size, **kw):
        """Everything through the boto3 paginator (PageSize page_size)."""
        items = []
        try:
            for page in self.c.get_paginator(op).paginate(
                    PaginationConfig={'PageSize': page_size}, **kw):
                if self.raw_problems:
                    problems, self.raw_problems = self.raw_problems, []
                    self.fail(f'{op} page matches the model', 'modelled members',
                              problems)
                self.true(f'{op} paginator page of at most {page_size}',
                          len(page.get(key, [])) <= page_size, len(page.get(key, [])))
                items += page.get(key, [])
        except ClientError as e:
            self.fail(f'{op} paginator', 'success', str(e))
        return items

    # ---- openssl --------------------------------------------------------------------

    @property
    def tmp(self):
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix=f'iot-{self.group}-')
        return self._tmp

    def cleanup(self):
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def openssl(self, *args, stdin=None):
        r = subprocess.run(['openssl', *args], cwd=self.tmp, input=stdin,
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.fail(f'openssl {" ".join(args)}', 'exit 0', r.stderr.strip())
        return r.stdout

    def read(self, name):
        with open(os.path.join(self.tmp, name)) as f:
            return f.read()

    def make_ca(self, name):
        """A self-signed CA: files name.key, name.crt; returns the PEM."""
        self.openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt',
                     'ec_paramgen_curve:prime256v1', '-nodes', '-keyout',
                     f'{name}.key', '-out', f'{name}.crt', '-days', '30', '-subj',
                     f'/CN={name}', '-addext', 'basicConstraints=critical,CA:TRUE',
                     '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
        return self.read(f'{name}.crt')

    def make_csr(self, name, cn):
        self.openssl('req', '-new', '-newkey', 'ec', '-pkeyopt',
                     'ec_paramgen_curve:prime256v1', '-nodes', '-keyout',
                     f'{name}.key', '-out', f'{name}.csr', '-subj', f'/CN={cn}')
        return self.read(f'{name}.csr')

    def sign(self, name, cn, ca):
        """A leaf certificate for CN cn signed by CA ca; returns the PEM."""
        self.make_csr(name, cn)
        with open(os.path.join(self.tmp, 'leaf.ext'), 'w') as f:
            f.write('basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n')
        self.openssl('x509', '-req', '-in', f'{name}.csr', '-CA', f'{ca}.crt',
                     '-CAkey', f'{ca}.key', '-set_serial',
                     str(int.from_bytes(os.urandom(8), 'big')), '-days', '30',
                     '-extfile', 'leaf.ext', '-out', f'{name}.crt')
        return self.read(f'{name}.crt')

    def self_signed(self, name):
        self.openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt',
                     'ec_paramgen_curve:prime256v1', '-nodes', '-keyout',
                     f'{name}.key', '-out', f'{name}.crt', '-days', '30', '-subj',
                     f'/CN={name}')
        return self.read(f'{name}.crt')

    def pubkey_of(self, pem, kind='x509'):
        path = os.path.join(self.tmp, 'pub-in.pem')
        with open(path, 'w') as f:
            f.write(pem)
        if kind == 'x509':
            return self.openssl('x509', '-in', 'pub-in.pem', '-noout', '-pubkey')
        if kind == 'req':
            return self.openssl('req', '-in', 'pub-in.pem', '-noout', '-pubkey')
        if kind == 'pub':
            return self.openssl('pkey', '-pubin', '-in', 'pub-in.pem', '-pubout')
        return self.openssl('pkey', '-in', 'pub-in.pem', '-pubout')

    # ---- raw HTTP ------------------------------------------------------------------------

    def raw(self, method, path, body=b'', headers=None, sign=True, key=None,
            secret=None, service='iot', region=REGION, when=None):
        """One HTTP request; signed with SigV4 (at time `when`, a datetime, if
        given) unless sign is false. Returns (status, headers, body bytes)."""
        url = self.url + path
        req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
        if sign:
            creds = Credentials(key or os.environ['AWS_ACCESS_KEY_ID'],
                                secret or os.environ['AWS_SECRET_ACCESS_KEY'])
            signer = botocore.auth.SigV4Auth(creds, service, region)
            if when is None:
                signer.add_auth(req)
            else:
                saved = botocore.auth.get_current_datetime
                botocore.auth.get_current_datetime = lambda: when
                try:
                    signer.add_auth(req)
                finally:
                    botocore.auth.get_current_datetime = saved
        prepared = req.prepare()
        r = urllib.request.Request(prepared.url, data=body if body else None,
                                   method=method, headers=dict(prepared.headers))
        try:
            with urllib.request.urlopen(r, timeout=10) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def raw_error(self, what, resp, code, status, message=None, prefix=None):
        st, hdrs, body = resp
        try:
            msg = json.loads(body).get('message')
        except ValueError:
            msg = None
        etype = (hdrs.get('x-amzn-ErrorType') or '').split(':')[0]
        self.eq(f'{what}: error type and HTTP status (message {msg!r})',
                (code, status), (etype, st))
        if message is not None:
            self.eq(f'{what}: error message', message, msg)
        if prefix is not None:
            self.true(f'{what}: error message starts with {prefix!r}',
                      isinstance(msg, str) and msg.startswith(prefix), msg)
        return msg


def cert_id_of(pem):
    """AWS IoT's certificate ID: the SHA-256 of the DER certificate, in hex."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


# ======================================================================================
# things
# ======================================================================================

def g_things(t):
    c, p = t.call, t.p
    a = f'{p}-a'

    # CreateThing: ARN, UUID; again with the same (no) attributes succeeds
    r = c('create_thing', thingName=a)
    t.eq('CreateThing thingName', a, r['thingName'])
    t.eq('CreateThing thingArn', f'{ARN}thing/{a}', r['thingArn'])
    t.match('CreateThing thingId is a UUID', UUID_RE.pattern, r['thingId'])
    a_id = r['thingId']
    r = c('create_thing', thingName=a)
    t.eq('CreateThing again, same configuration: same thing', (a, f'{ARN}thing/{a}', a_id),
         (r['thingName'], r['thingArn'], r['thingId']))
    t.err('create_thing', 'ResourceAlreadyExistsException', 409,
          f'Thing {a} already exists in account with different attributes',
          thingName=a, attributePayload={'attributes': {'k': 'v'}})

    # with attributes
    b = f'{p}-b'
    attrs = {'color': 'red', 'size': 'L'}
    b_id = c('create_thing', thingName=b, attributePayload={'attributes': attrs})['thingId']
    t.eq('CreateThing again with the same attributes: same thing', b_id,
         c('create_thing', thingName=b,
           attributePayload={'attributes': dict(attrs)})['thingId'])
    t.err('create_thing', 'ResourceAlreadyExistsException', 409,
          f'Thing {b} already exists in account with different attributes',
          thingName=b, attributePayload={'attributes': {'color': 'blue', 'size': 'L'}})
    t.err('create_thing', 'ResourceAlreadyExistsException', 409,
          f'Thing {b} already exists in account with different attributes',
          thingName=b)

    # DescribeThing
    r = c('describe_thing', thingName=b)
    t.eq('DescribeThing', {'defaultClientId': b, 'thingName': b, 'thingId': b_id,
                           'thingArn': f'{ARN}thing/{b}', 'attributes': attrs,
                           'version': 1}, r)
    t.err('describe_thing', 'ResourceNotFoundException', 404,
          f'Thing {p}-nope cannot be found.', thingName=f'{p}-nope')

    # UpdateThing: merge, replace, remove with an empty value, versions
    t.eq('UpdateThing answer', {}, c('update_thing', thingName=b, attributePayload={
        'attributes': {'color': 'blue', 'shape': 'round'}, 'merge': True}))
    r = c('describe_thing', thingName=b)
    t.eq('UpdateThing merge=true: attributes merged',
         {'color': 'blue', 'size': 'L', 'shape': 'round'}, r['attributes'])
    t.eq('UpdateThing: version 2', 2, r['version'])
    c('update_thing', thingName=b, attributePayload={
        'attributes': {'shape': ''}, 'merge': True})
    r = c('describe_thing', thingName=b)
    t.eq('UpdateThing merge=true with an empty value removes the attribute',
         {'color': 'blue', 'size': 'L'}, r['attributes'])
    t.eq('UpdateThing: version 3', 3, r['version'])
    c('update_thing', thingName=b, attributePayload={'attributes': {'only': 'x'}})
    r = c('describe_thing', thingName=b)
    t.eq('UpdateThing without merge replaces the attributes', {'only': 'x'},
         r['attributes'])
    t.eq('UpdateThing: version 4', 4, r['version'])
    t.err('update_thing', 'VersionConflictException', 409,
          f'The version for thing {b} does not match the expected version.',
          thingName=b, expectedVersion=3,
          attributePayload={'attributes': {'only': 'y'}})
    t.eq('UpdateThing that conflicted changed nothing', ({'only': 'x'}, 4),
         (c('describe_thing', thingName=b)['attributes'],
          c('describe_thing', thingName=b)['version']))
    c('update_thing', thingName=b, expectedVersion=4,
      attributePayload={'attributes': {'only': 'y'}})
    r = c('describe_thing', thingName=b)
    t.eq('UpdateThing with the right expectedVersion', ({'only': 'y'}, 5),
         (r['attributes'], r['version']))
    c('update_thing', thingName=b)
    t.eq('UpdateThing without attributePayload keeps the attributes', {'only': 'y'},
         c('describe_thing', thingName=b)['attributes'])
    t.err('update_thing', 'ResourceNotFoundException', 404,
          f'Thing {p}-nope cannot be found.', thingName=f'{p}-nope',
          attributePayload={'attributes': {'k': 'v'}})

    # ListThings: filters, pages of maxResults by hand and with the paginator
    tag = f'{p}-page'
    names = [f'{p}-p{i:02d}' for i in range(7)]
    for i, n in enumerate(reversed(names)):  # created out of order on purpose
        c('create_thing', thingName=n, attributePayload={
            'attributes': {'grp': tag, 'idx': str(6 - i)}})
    pages = t.pages('list_things', 'things', 3, attributeName='grp', attributeValue=tag)
    t.eq('ListThings maxResults=3: pages of 3, 3, 1', [3, 3, 1], [len(x) for x in pages])
    got = [x['thingName'] for pg in pages for x in pg]
    t.eq('ListThings pages: every thing once, by name', names, got)
    first = pages[0][0]
    t.eq('ListThings entry', {'thingName': names[0], 'thingArn': f'{ARN}thing/{names[0]}',
                              'attributes': {'grp': tag, 'idx': '0'}, 'version': 1},
         first)
    got = [x['thingName'] for x in t.paginate('list_things', 'things', 2,
                                              attributeName='grp', attributeValue=tag)]
    t.eq('ListThings paginator (PageSize 2)', names, got)
    r = c('list_things', attributeName='idx', attributeValue='3', maxResults=250)
    t.true('ListThings attributeName/attributeValue filter',
           names[3] in [x['thingName'] for x in r['things']] and
           all(x['attributes'].get('idx') == '3' for x in r['things']),
           r['things'])
    r = c('list_things', attributeName='grp', attributeValue=tag[:-2],
          usePrefixAttributeValue=True)
    t.eq('ListThings usePrefixAttributeValue', names,
         [x['thingName'] for x in r['things']])
    r = c('list_things', attributeName='grp', attributeValue=tag[:-2])
    t.eq('ListThings exact attributeValue: a prefix matches nothing', [], r['things'])
    t.true('ListThings without filters includes the new things',
           set(names) <= {x['thingName'] for x in t.paginate('list_things', 'things', 250)})

    # DeleteThing: version check, then gone; a missing thing deletes fine
    t.err('delete_thing', 'VersionConflictException', 409,
          f'The version for thing {b} does not match the expected version.',
          thingName=b, expectedVersion=1)
    t.eq('DeleteThing answer', {}, c('delete_thing', thingName=b, expectedVersion=6))
    t.err('describe_thing', 'ResourceNotFoundException', 404,
          f'Thing {b} cannot be found.', thingName=b)
    # AWS: "Returns successfully with no error if the deletion is successful or
    # you specify a thing that doesn't exist."
    t.eq('DeleteThing of a missing thing succeeds', {},
         c('delete_thing', thingName=f'{p}-never'))
    c('delete_thing', thingName=a)
    for n in names:
        c('delete_thing', thingName=n)
    t.eq('ListThings after the deletes', [],
         c('list_things', attributeName='grp', attributeValue=tag)['things'])

    # names: AWS's validation messages
    bad = f'{p}!bad'
    t.err('create_thing', 'InvalidRequestException', 400,
          f"1 validation error detected: Value '{bad}' at 'thingName' failed to "
          f"satisfy constraint: {NAME_PATTERN}", thingName=bad)
    long = 'x' * 129
    t.err('create_thing', 'InvalidRequestException', 400,
          f"1 validation error detected: Value '{long}' at 'thingName' failed to "
          f"satisfy constraint: {TOO_LONG}", thingName=long)
    ok128 = f'{p}-' + 'y' * (128 - len(p) - 1)
    t.eq('CreateThing with a 128-character name', ok128,
         c('create_thing', thingName=ok128)['thingName'])
    c('delete_thing', thingName=ok128)
    colon = f'{p}:with:colons_and-dashes'
    t.eq('CreateThing name with : _ -', colon, c('create_thing', thingName=colon)['thingName'])
    t.eq('DescribeThing name with : _ -', colon,
         c('describe_thing', thingName=colon)['thingName'])
    c('delete_thing', thingName=colon)


# ======================================================================================
# thing types
# ======================================================================================

def g_types(t):
    c, p = t.call, t.p
    ty = f'{p}-sensor'
    props = {'thingTypeDescription': 'a sensor', 'searchableAttributes': ['model', 'serial']}
    r = c('create_thing_type', thingTypeName=ty, thingTypeProperties=props)
    t.eq('CreateThingType thingTypeName/Arn', (ty, f'{ARN}thingtype/{ty}'),
         (r['thingTypeName'], r['thingTypeArn']))
    t.match('CreateThingType thingTypeId is a UUID', UUID_RE.pattern, r['thingTypeId'])
    ty_id = r['thingTypeId']
    t.eq('CreateThingType again with the same properties: same type', ty_id,
         c('create_thing_type', thingTypeName=ty, thingTypeProperties=props)['thingTypeId'])
    t.err('create_thing_type', 'ResourceAlreadyExistsException', 409,
          f'Thing Type {ty} already exists in account with different properties',
          thingTypeName=ty, thingTypeProperties={'thingTypeDescription': 'other'})

    r = c('describe_thing_type', thingTypeName=ty)
    meta = r.pop('thingTypeMetadata')
    t.eq('DescribeThingType', {'thingTypeName': ty, 'thingTypeId': ty_id,
                               'thingTypeArn': f'{ARN}thingtype/{ty}',
                               'thingTypeProperties': props}, r)
    t.eq('DescribeThingType metadata keys', ['creationDate', 'deprecated'], sorted(meta))
    t.eq('DescribeThingType not deprecated', False, meta['deprecated'])
    t.recent('DescribeThingType creationDate', meta['creationDate'])
    t.err('describe_thing_type', 'ResourceNotFoundException', 404,
          f'Thing Type {p}-nope cannot be found.', thingTypeName=f'{p}-nope')

    # things of the type
    th1, th2 = f'{p}-t1', f'{p}-t2'
    c('create_thing', thingName=th1, thingTypeName=ty,
      attributePayload={'attributes': {'model': 'm1'}})
    c('create_thing', thingName=th2)
    r = c('describe_thing', thingName=th1)
    t.eq('DescribeThing thingTypeName', ty, r.get('thingTypeName'))
    t.err('create_thing', 'ResourceAlreadyExistsException', 409,
          f'Thing {th1} already exists in account with different attributes',
          thingName=th1, attributePayload={'attributes': {'model': 'm1'}})
    t.err('create_thing', 'ResourceNotFoundException', 404,
          f'Thing Type {p}-nope cannot be found.', thingName=f'{p}-t3',
          thingTypeName=f'{p}-nope')
    c('update_thing', thingName=th2, thingTypeName=ty)
    r = c('list_things', thingTypeName=ty)
    t.eq('ListThings thingTypeName filter', [th1, th2], [x['thingName'] for x in r['things']])
    t.eq('ListThings entry has thingTypeName', ty, r['things'][0].get('thingTypeName'))
    c('update_thing', thingName=th2, removeThingType=True)
    r = c('describe_thing', thingName=th2)
    t.true('UpdateThing removeThingType=true removes the type', 'thingTypeName' not in r, r)
    t.err('update_thing', 'InvalidRequestException', 400,
          'Cannot set removeThingType to true and specify a thing type at the same time',
          thingName=th2, thingTypeName=ty, removeThingType=True)
    t.err('update_thing', 'ResourceNotFoundException', 404,
          f'Thing Type {p}-nope cannot be found.', thingName=th2,
          thingTypeName=f'{p}-nope')

    # ListThingTypes: filter, pages, paginator
    listed = [f'{p}-l{i}' for i in range(5)]
    for n in reversed(listed):
        c('create_thing_type', thingTypeName=n)
    r = c('list_thing_types', thingTypeName=listed[2])
    t.eq('ListThingTypes thingTypeName filter', [listed[2]],
         [x['thingTypeName'] for x in r['thingTypes']])
    e = r['thingTypes'][0]
    t.eq('ListThingTypes entry', (listed[2], f'{ARN}thingtype/{listed[2]}', {}, False),
         (e['thingTypeName'], e['thingTypeArn'], e.get('thingTypeProperties'),
          e['thingTypeMetadata']['deprecated']))
    pages = t.pages('list_thing_types', 'thingTypes', 2)
    got = [x['thingTypeName'] for pg in pages for x in pg]
    t.eq('ListThingTypes pages: no type twice', len(got), len(set(got)))
    mine = [n for n in got if n.startswith(p)]
    t.eq('ListThingTypes pages: every type of this run, by name', sorted([ty] + listed), mine)
    got = [x['thingTypeName'] for x in t.paginate('list_thing_types', 'thingTypes', 3)]
    t.eq('ListThingTypes paginator', sorted([ty] + listed),
         [n for n in got if n.startswith(p)])

    # DeprecateThingType, deprecated types in use, undo
    t.err('delete_thing_type', 'InvalidRequestException', 400,
          f'Thing type {ty} must be deprecated before it can be deleted',
          thingTypeName=ty)
    t.eq('DeprecateThingType answer', {}, c('deprecate_thing_type', thingTypeName=ty))
    meta = c('describe_thing_type', thingTypeName=ty)['thingTypeMetadata']
    t.eq('DescribeThingType deprecated', True, meta['deprecated'])
    t.recent('DescribeThingType deprecationDate', meta.get('deprecationDate'))
    # AWS's own spelling ("depreated")
    t.err('create_thing', 'InvalidRequestException', 400,
          f'Can not create new thing with depreated thing type:{ty}',
          thingName=f'{p}-t4', thingTypeName=ty)
    t.err('describe_thing', 'ResourceNotFoundException', 404,
          f'Thing {p}-t4 cannot be found.', thingName=f'{p}-t4')
    t.err('update_thing', 'InvalidRequestException', 400,
          f'Can not update a thing to use deprecated thing type: {ty}',
          thingName=th2, thingTypeName=ty)
    t.eq('a thing keeps its deprecated type', ty,
         c('describe_thing', thingName=th1).get('thingTypeName'))
    c('deprecate_thing_type', thingTypeName=ty, undoDeprecate=True)
    meta = c('describe_thing_type', thingTypeName=ty)['thingTypeMetadata']
    t.eq('DeprecateThingType undoDeprecate', False, meta['deprecated'])
    t.true('undoDeprecate clears deprecationDate', 'deprecationDate' not in meta, meta)
    c('create_thing', thingName=f'{p}-t4', thingTypeName=ty)
    c('delete_thing', thingName=f'{p}-t4')
    t.err('deprecate_thing_type', 'ResourceNotFoundException', 404,
          f'Thing Type {p}-nope cannot be found.', thingTypeName=f'{p}-nope')

    # DeleteThingType: deprecated and unused only
    c('deprecate_thing_type', thingTypeName=ty)
    t.err('delete_thing_type', 'InvalidRequestException', 400,
          f'Can not delete thing type {ty} with associated things', thingTypeName=ty)
    c('delete_thing', thingName=th1)
    c('delete_thing', thingName=th2)
    t.eq('DeleteThingType answer', {}, c('delete_thing_type', thingTypeName=ty))
    t.err('describe_thing_type', 'ResourceNotFoundException', 404,
          f'Thing Type {ty} cannot be found.', thingTypeName=ty)
    t.err('delete_thing_type', 'ResourceNotFoundException', 404,
          f'Thing Type {ty} cannot be found.', thingTypeName=ty)
    for n in listed:
        c('deprecate_thing_type', thingTypeName=n)
        c('delete_thing_type', thingTypeName=n)
    t.eq('ListThingTypes after the deletes', [],
         [x for x in t.paginate('list_thing_types', 'thingTypes', 250)
          if x['thingTypeName'].startswith(p)])
    bad = f'{p}!bad'
    t.err('create_thing_type', 'InvalidRequestException', 400,
          f"1 validation error detected: Value '{bad}' at 'thingTypeName' failed to "
          f"satisfy constraint: {NAME_PATTERN}", thingTypeName=bad)


# ======================================================================================
# thing groups
# ======================================================================================

def group_ref(name):
    return {'groupName': name, 'groupArn': f'{ARN}thinggroup/{name}'}


def g_groups(t):
    c, p = t.call, t.p
    root, child, grand = f'{p}-root', f'{p}-child', f'{p}-grand'
    props = {'thingGroupDescription': 'the root',
             'attributePayload': {'attributes': {'site': 'a'}}}
    r = c('create_thing_group', thingGroupName=root, thingGroupProperties=props)
    t.eq('CreateThingGroup name/ARN', (root, f'{ARN}thinggroup/{root}'),
         (r['thingGroupName'], r['thingGroupArn']))
    t.match('CreateThingGroup thingGroupId is a UUID', UUID_RE.pattern, r['thingGroupId'])
    root_id = r['thingGroupId']
    t.eq('CreateThingGroup again, same properties: same group', root_id,
         c('create_thing_group', thingGroupName=root,
           thingGroupProperties=props)['thingGroupId'])
    t.err('create_thing_group', 'ResourceAlreadyExistsException', 409,
          f'Thing Group {root} already exists in current account with different properties',
          thingGroupName=root, thingGroupProperties={'thingGroupDescription': 'other'})
    c('create_thing_group', thingGroupName=child, parentGroupName=root)
    c('create_thing_group', thingGroupName=grand, parentGroupName=child)
    t.err('create_thing_group', 'ResourceNotFoundException', 404,
          f'Thing Group {p}-nope cannot be found.', thingGroupName=f'{p}-orphan',
          parentGroupName=f'{p}-nope')

    # DescribeThingGroup
    r = c('describe_thing_group', thingGroupName=root)
    meta = r.pop('thingGroupMetadata')
    t.eq('DescribeThingGroup root', {'thingGroupName': root, 'thingGroupId': root_id,
                                     'thingGroupArn': f'{ARN}thinggroup/{root}',
                                     'version': 1, 'thingGroupProperties': props}, r)
    t.eq('DescribeThingGroup root metadata: creationDate only', ['creationDate'],
         sorted(meta))
    t.recent('DescribeThingGroup creationDate', meta['creationDate'])
    r = c('describe_thing_group', thingGroupName=grand)
    t.eq('DescribeThingGroup without properties', {}, r['thingGroupProperties'])
    t.eq('DescribeThingGroup parentGroupName', child,
         r['thingGroupMetadata'].get('parentGroupName'))
    t.eq('DescribeThingGroup rootToParentThingGroups (root first)',
         [group_ref(root), group_ref(child)],
         r['thingGroupMetadata'].get('rootToParentThingGroups'))
    t.err('describe_thing_group', 'ResourceNotFoundException', 404,
          f'Thing Group {p}-nope cannot be found.', thingGroupName=f'{p}-nope')

    # UpdateThingGroup
    new = {'thingGroupDescription': 'the root, renamed',
           'attributePayload': {'attributes': {'site': 'b'}}}
    t.eq('UpdateThingGroup answer', {'version': 2},
         c('update_thing_group', thingGroupName=root, thingGroupProperties=new))
    r = c('describe_thing_group', thingGroupName=root)
    t.eq('UpdateThingGroup: description, version', ('the root, renamed', 2),
         (r['thingGroupProperties'].get('thingGroupDescription'), r['version']))
    t.eq('UpdateThingGroup: attributes', {'site': 'b'},
         r['thingGroupProperties'].get('attributePayload', {}).get('attributes'))
    t.err('update_thing_group', 'VersionConflictException', 409,
          f'The version for thing group {root} does not match the expected version.',
          thingGroupName=root, thingGroupProperties=new, expectedVersion=1)
    t.eq('UpdateThingGroup with the right expectedVersion', {'version': 3},
         c('update_thing_group', thingGroupName=root, thingGroupProperties=new,
           expectedVersion=2))
    t.err('update_thing_group', 'ResourceNotFoundException', 404,
          f'Thing Group {p}-nope cannot be found.', thingGroupName=f'{p}-nope',
          thingGroupProperties=new)

    # ListThingGroups
    r = c('list_thing_groups', namePrefixFilter=p)
    t.eq('ListThingGroups namePrefixFilter', sorted([root, child, grand]),
         sorted(x['groupName'] for x in r['thingGroups']))
    t.eq('ListThingGroups entries are groupName/groupArn', group_ref(root),
         [x for x in r['thingGroups'] if x['groupName'] == root][0])
    r = c('list_thing_groups', parentGroup=root, recursive=False)
    t.eq('ListThingGroups parentGroup, recursive=false: children', [group_ref(child)],
         r['thingGroups'])
    r = c('list_thing_groups', parentGroup=root, recursive=True)
    t.eq('ListThingGroups parentGroup, recursive=true: descendants',
         sorted([child, grand]), sorted(x['groupName'] for x in r['thingGroups']))
    r = c('list_thing_groups', namePrefixFilter=p, recursive=False)
    t.eq('ListThingGroups recursive=false without parentGroup: root groups', [root],
         [x['groupName'] for x in r['thingGroups']])
    t.err('list_thing_groups', 'ResourceNotFoundException', 404,
          f'Thing Group {p}-nope cannot be found.', parentGroup=f'{p}-nope')
    flat = [f'{p}-f{i}' for i in range(5)]
    for n in reversed(flat):
        c('create_thing_group', thingGroupName=n)
    pages = t.pages('list_thing_groups', 'thingGroups', 2, namePrefixFilter=f'{p}-f')
    t.eq('ListThingGroups maxResults=2: pages of 2, 2, 1', [2, 2, 1],
         [len(x) for x in pages])
    t.eq('ListThingGroups pages: every group once, by name', flat,
         [x['groupName'] for pg in pages for x in pg])
    t.eq('ListThingGroups paginator', flat,
         [x['groupName'] for x in t.paginate('list_thing_groups', 'thingGroups', 3,
                                             namePrefixFilter=f'{p}-f')])

    # membership
    th, th2 = f'{p}-thing', f'{p}-thing2'
    c('create_thing', thingName=th)
    c('create_thing', thingName=th2)
    t.eq('AddThingToThingGroup answer', {},
         c('add_thing_to_thing_group', thingGroupName=child, thingName=th))
    t.eq('AddThingToThingGroup again (already a member) succeeds', {},
         c('add_thing_to_thing_group', thingGroupName=child, thingName=th))
    c('add_thing_to_thing_group', thingGroupArn=f'{ARN}thinggroup/{flat[0]}',
      thingArn=f'{ARN}thing/{th}')
    t.eq('ListThingsInThingGroup', [th],
         c('list_things_in_thing_group', thingGroupName=child)['things'])
    t.eq('ListThingsInThingGroup by ARNs added', [th],
         c('list_things_in_thing_group', thingGroupName=flat[0])['things'])
    t.eq('ListThingsInThingGroup root, not recursive', [],
         c('list_things_in_thing_group', thingGroupName=root)['things'])
    t.eq('ListThingsInThingGroup root, recursive', [th],
         c('list_things_in_thing_group', thingGroupName=root, recursive=True)['things'])
    t.eq('ListThingGroupsForThing', sorted([child, flat[0]]),
         sorted(x['groupName'] for x in
                c('list_thing_groups_for_thing', thingName=th)['thingGroups']))
    t.eq('ListThingGroupsForThing entry', group_ref(child),
         [x for x in c('list_thing_groups_for_thing', thingName=th)['thingGroups']
          if x['groupName'] == child][0])
    pages = t.pages('list_thing_groups_for_thing', 'thingGroups', 1, thingName=th)
    t.eq('ListThingGroupsForThing maxResults=1', [[group_ref(child)], [group_ref(flat[0])]]
         if child < flat[0] else [[group_ref(flat[0])], [group_ref(child)]], pages)
    t.eq('ListThingGroupsForThing paginator', sorted([child, flat[0]]),
         sorted(x['groupName'] for x in t.paginate('list_thing_groups_for_thing',
                                                  'thingGroups', 1, thingName=th)))
    t.err('list_thing_groups_for_thing', 'ResourceNotFoundException', 404,
          f'Thing {p}-nope cannot be found.', thingName=f'{p}-nope')
    # AWS: a thing is in at most one group of a hierarchy
    t.err('add_thing_to_thing_group', 'InvalidRequestException', 400,
          thingGroupName=grand, thingName=th)
    t.err('add_thing_to_thing_group', 'ResourceNotFoundException', 404,
          f'Thing Group {p}-nope cannot be found.', thingGroupName=f'{p}-nope',
          thingName=th)
    t.err('add_thing_to_thing_group', 'ResourceNotFoundException', 404,
          f'Thing {p}-nope cannot be found.', thingGroupName=child,
          thingName=f'{p}-nope')
    t.err('add_thing_to_thing_group', 'InvalidRequestException', 400,
          'Both thingGroupArn and thingGroupName are empty. Need to specify at least '
          'one of them', thingName=th)
    t.err('add_thing_to_thing_group', 'InvalidRequestException', 400,
          'Both thingArn and thingName are empty. Need to specify at least one of them',
          thingGroupName=child)
    t.eq('RemoveThingFromThingGroup answer', {},
         c('remove_thing_from_thing_group', thingGroupName=child, thingName=th))
    t.eq('ListThingsInThingGroup after the remove', [],
         c('list_things_in_thing_group', thingGroupName=child)['things'])
    c('remove_thing_from_thing_group', thingGroupArn=f'{ARN}thinggroup/{flat[0]}',
      thingArn=f'{ARN}thing/{th}')
    t.eq('ListThingGroupsForThing after the removes', [],
         c('list_thing_groups_for_thing', thingName=th)['thingGroups'])
    t.err('list_things_in_thing_group', 'ResourceNotFoundException', 404,
          f'Thing Group {p}-nope cannot be found.', thingGroupName=f'{p}-nope')
    # now in the grandchild: root lists it recursively
    c('add_thing_to_thing_group', thingGroupName=grand, thingName=th)
    c('add_thing_to_thing_group', thingGroupName=child, thingName=th2)
    t.eq('ListThingsInThingGroup root, recursive, two levels', [th, th2],
         c('list_things_in_thing_group', thingGroupName=root, recursive=True)['things'])
    many = [f'{p}-m{i}' for i in range(5)]
    for n in reversed(many):
        c('create_thing', thingName=n)
        c('add_thing_to_thing_group', thingGroupName=flat[1], thingName=n)
    pages = t.pages('list_things_in_thing_group', 'things', 2, thingGroupName=flat[1])
    t.eq('ListThingsInThingGroup maxResults=2', [many[0:2], many[2:4], many[4:]], pages)
    t.eq('ListThingsInThingGroup paginator', many,
         t.paginate('list_things_in_thing_group', 'things', 3, thingGroupName=flat[1]))

    # DeleteThingGroup: children first, versions, missing groups
    t.err('delete_thing_group', 'InvalidRequestException', 400,
          f'Cannot delete thing group : {root} when there are still child groups '
          f'attached to it', thingGroupName=root)
    t.err('delete_thing_group', 'VersionConflictException', 409,
          f'The version for thing group {grand} does not match the expected version.',
          thingGroupName=grand, expectedVersion=5)
    t.eq('DeleteThingGroup answer', {},
         c('delete_thing_group', thingGroupName=grand, expectedVersion=1))
    t.err('describe_thing_group', 'ResourceNotFoundException', 404,
          f'Thing Group {grand} cannot be found.', thingGroupName=grand)
    t.eq('a deleted group leaves its things groupless', [],
         c('list_thing_groups_for_thing', thingName=th)['thingGroups'])
    t.eq('DeleteThingGroup of a missing group succeeds', {},
         c('delete_thing_group', thingGroupName=grand))
    c('delete_thing_group', thingGroupName=child)
    c('delete_thing_group', thingGroupName=root)
    for n in flat:
        c('delete_thing_group', thingGroupName=n)
    t.eq('ListThingGroups after the deletes', [],
         c('list_thing_groups', namePrefixFilter=p)['thingGroups'])
    for n in [th, th2] + many:
        c('delete_thing', thingName=n)
    bad = f'{p}!bad'
    t.err('create_thing_group', 'InvalidRequestException', 400,
          f"1 validation error detected: Value '{bad}' at 'thingGroupName' failed to "
          f"satisfy constraint: {NAME_PATTERN}", thingGroupName=bad)


# ======================================================================================
# thing principals
# ======================================================================================

def g_principals(t):
    c, p = t.call, t.p
    t1, t2, t3, t4 = (f'{p}-t{i}' for i in range(1, 5))
    for n in (t1, t2, t3, t4):
        c('create_thing', thingName=n)
    c1 = c('create_keys_and_certificate', setAsActive=True)
    c2 = c('create_keys_and_certificate', setAsActive=True)
    c3 = c('create_keys_and_certificate')
    a1, a2, a3 = c1['certificateArn'], c2['certificateArn'], c3['certificateArn']

    t.eq('AttachThingPrincipal answer', {},
         c('attach_thing_principal', thingName=t1, principal=a1))
    t.eq('AttachThingPrincipal again succeeds', {},
         c('attach_thing_principal', thingName=t1, principal=a1))
    t.eq('ListThingPrincipals', [a1], c('list_thing_principals', thingName=t1)['principals'])
    t.eq('ListPrincipalThings', [t1], c('list_principal_things', principal=a1)['things'])
    c('attach_thing_principal', thingName=t2, principal=a1,
      thingPrincipalType='NON_EXCLUSIVE_THING')
    t.eq('ListPrincipalThings: two things', [t1, t2],
         c('list_principal_things', principal=a1)['things'])
    c('attach_thing_principal', thingName=t1, principal=a3)
    c('attach_thing_principal', thingName=t1, principal=a2)
    want = sorted([a1, a2, a3])
    t.eq('ListThingPrincipals: three certificates', want,
         sorted(c('list_thing_principals', thingName=t1)['principals']))
    pages = t.pages('list_thing_principals', 'principals', 2, thingName=t1)
    t.eq('ListThingPrincipals maxResults=2: pages of 2, 1', [2, 1], [len(x) for x in pages])
    t.eq('ListThingPrincipals pages: every principal once', want,
         sorted(x for pg in pages for x in pg))
    t.eq('ListThingPrincipals paginator', want,
         sorted(t.paginate('list_thing_principals', 'principals', 1, thingName=t1)))
    c('attach_thing_principal', thingName=t3, principal=a1)
    pages = t.pages('list_principal_things', 'things', 2, principal=a1)
    t.eq('ListPrincipalThings maxResults=2', [[t1, t2], [t3]], pages)
    t.eq('ListPrincipalThings paginator', [t1, t2, t3],
         t.paginate('list_principal_things', 'things', 1, principal=a1))
    c('detach_thing_principal', thingName=t3, principal=a1)
    c('detach_thing_principal', thingName=t1, principal=a2)
    c('detach_thing_principal', thingName=t1, principal=a3)

    # exclusive attachments
    t.eq('AttachThingPrincipal EXCLUSIVE_THING', {},
         c('attach_thing_principal', thingName=t3, principal=a2,
           thingPrincipalType='EXCLUSIVE_THING'))
    t.eq('ListPrincipalThings of the exclusive principal', [t3],
         c('list_principal_things', principal=a2)['things'])
    t.err('attach_thing_principal', 'InvalidRequestException', 400,
          f'principal is exclusively attached to thing {t3}',
          thingName=t4, principal=a2)
    t.err('attach_thing_principal', 'InvalidRequestException', 400,
          f'principal is exclusively attached to thing {t3}',
          thingName=t4, principal=a2, thingPrincipalType='EXCLUSIVE_THING')
    t.err('attach_thing_principal', 'InvalidRequestException', 400,
          thingName=t3, principal=a1, thingPrincipalType='EXCLUSIVE_THING')
    t.eq('a refused attachment changed nothing', [t1, t2],
         c('list_principal_things', principal=a1)['things'])
    t.err('attach_thing_principal', 'InvalidRequestException', 400,
          "1 validation error detected: Value 'BOGUS' at 'thingPrincipalType' failed to "
          "satisfy constraint: Member must satisfy enum value set: [EXCLUSIVE_THING, "
          "NON_EXCLUSIVE_THING]", thingName=t4, principal=a3, thingPrincipalType='BOGUS')
    c('detach_thing_principal', thingName=t3, principal=a2)
    c('attach_thing_principal', thingName=t4, principal=a2)
    t.eq('after the detach the principal attaches elsewhere', [t4],
         c('list_principal_things', principal=a2)['things'])

    # unknown things and certificates
    t.err('attach_thing_principal', 'ResourceNotFoundException', 404,
          f'Thing {p}-nope cannot be found.', thingName=f'{p}-nope', principal=a1)
    gone = f'{ARN}cert/' + 'ab' * 32
    t.err('attach_thing_principal', 'ResourceNotFoundException', 404,
          'The certificate given in the principal does not exist.',
          thingName=t4, principal=gone)
    # AWS: ListThingPrincipals on a missing thing (seen from the service):
    # "Failed to list principals for thing X because the thing does not exist
    # in your account"
    t.err('list_thing_principals', 'ResourceNotFoundException', 404,
          f'Failed to list principals for thing {p}-nope because the thing does not '
          f'exist in your account', thingName=f'{p}-nope')
    t.err('detach_thing_principal', 'ResourceNotFoundException', 404,
          f'Thing {p}-nope cannot be found.', thingName=f'{p}-nope', principal=a1)
    t.eq('ListPrincipalThings of a principal with no things', [],
         c('list_principal_things', principal=a3)['things'])

    # AWS: DeleteThing refuses a thing with principals attached
    t.err('delete_thing', 'InvalidRequestException', 400,
          f'Cannot delete. Thing {t1} is still attached to one or more principals',
          thingName=t1)
    t.eq('the thing is still there', t1, c('describe_thing', thingName=t1)['thingName'])
    t.eq('DetachThingPrincipal answer', {},
         c('detach_thing_principal', thingName=t1, principal=a1))
    t.eq('DetachThingPrincipal again succeeds', {},
         c('detach_thing_principal', thingName=t1, principal=a1))
    t.eq('ListThingPrincipals after the detach', [],
         c('list_thing_principals', thingName=t1)['principals'])
    t.eq('ListPrincipalThings after the detach', [t2],
         c('list_principal_things', principal=a1)['things'])
    c('delete_thing', thingName=t1)
    c('detach_thing_principal', thingName=t2, principal=a1)
    c('detach_thing_principal', thingName=t4, principal=a2)
    for n in (t2, t3, t4):
        c('delete_thing', thingName=n)
    for crt in (c1, c2, c3):
        c('update_certificate', certificateId=crt['certificateId'], newStatus='INACTIVE')
        c('delete_certificate', certificateId=crt['certificateId'])


# ======================================================================================
# certificates
# ======================================================================================

def g_certificates(t):
    c, p = t.call, t.p

    # CreateKeysAndCertificate
    r = c('create_keys_and_certificate', setAsActive=True)
    cid = r['certificateId']
    t.match('CreateKeysAndCertificate certificateId: 64 hex digits', HEX64_RE.pattern, cid)
    t.eq('CreateKeysAndCertificate certificateArn', f'{ARN}cert/{cid}', r['certificateArn'])
    t.eq('certificateId is the SHA-256 of the DER certificate', cert_id_of(r['certificatePem']),
         cid)
    t.true('certificatePem is a PEM certificate',
           r['certificatePem'].startswith('-----BEGIN CERTIFICATE-----'), r['certificatePem'][:40])
    t.eq('keyPair members', ['PrivateKey', 'PublicKey'], sorted(r['keyPair']))
    t.eq('keyPair.PublicKey is the certificate key', t.pubkey_of(r['certificatePem']).strip(),
         t.pubkey_of(r['keyPair']['PublicKey'], 'pub').strip())
    t.eq('keyPair.PrivateKey goes with the certificate',
         t.pubkey_of(r['certificatePem']).strip(),
         t.pubkey_of(r['keyPair']['PrivateKey'], 'pkey').strip())
    pem = r['certificatePem']

    r = c('describe_certificate', certificateId=cid)['certificateDescription']
    t.eq('DescribeCertificate members', sorted([
        'certificateArn', 'certificateId', 'status', 'certificatePem', 'ownedBy',
        'creationDate', 'lastModifiedDate', 'customerVersion', 'generationId',
        'validity', 'certificateMode']), sorted(r))
    t.eq('DescribeCertificate', (f'{ARN}cert/{cid}', cid, 'ACTIVE', pem, ACCOUNT, 1, 'DEFAULT'),
         (r['certificateArn'], r['certificateId'], r['status'], r['certificatePem'],
          r['ownedBy'], r['customerVersion'], r['certificateMode']))
    t.recent('DescribeCertificate creationDate', r['creationDate'])
    t.recent('DescribeCertificate lastModifiedDate', r['lastModifiedDate'])
    t.true('DescribeCertificate validity notBefore < now < notAfter',
           r['validity']['notBefore'] <= datetime.datetime.now(datetime.timezone.utc)
           < r['validity']['notAfter'], r['validity'])
    t.true('generationId is a non-empty string', isinstance(r['generationId'], str)
           and r['generationId'], r['generationId'])
    gen1 = r['generationId']
    t.eq('CreateKeysAndCertificate without setAsActive: INACTIVE', 'INACTIVE',
         c('describe_certificate', certificateId=c('create_keys_and_certificate')
           ['certificateId'])['certificateDescription']['status'])

    # UpdateCertificate
    time.sleep(0.01)
    t.eq('UpdateCertificate answer', {},
         c('update_certificate', certificateId=cid, newStatus='INACTIVE'))
    r = c('describe_certificate', certificateId=cid)['certificateDescription']
    t.eq('UpdateCertificate INACTIVE', 'INACTIVE', r['status'])
    t.true('UpdateCertificate changes generationId', r['generationId'] != gen1,
           r['generationId'])
    c('update_certificate', certificateId=cid, newStatus='ACTIVE')
    t.eq('UpdateCertificate ACTIVE', 'ACTIVE',
         c('describe_certificate', certificateId=cid)['certificateDescription']['status'])
    t.err('update_certificate', 'InvalidRequestException', 400,
          "1 validation error detected: Value 'BOGUS' at 'newStatus' failed to satisfy "
          "constraint: Member must satisfy enum value set: [ACTIVE, INACTIVE, REVOKED, "
          "PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION]",
          certificateId=cid, newStatus='BOGUS')
    t.err('update_certificate', 'InvalidRequestException', 400,
          f'Cannot update certificate {cid} to status PENDING_TRANSFER',
          certificateId=cid, newStatus='PENDING_TRANSFER')
    revoked = c('create_keys_and_certificate', setAsActive=True)['certificateId']
    c('update_certificate', certificateId=revoked, newStatus='REVOKED')
    t.eq('UpdateCertificate REVOKED', 'REVOKED',
         c('describe_certificate', certificateId=revoked)['certificateDescription']['status'])
    t.err('update_certificate', 'CertificateStateException', 406,
          f'Certificate {revoked} is revoked and cannot be changed to ACTIVE',
          certificateId=revoked, newStatus='ACTIVE')
    c('delete_certificate', certificateId=revoked)

    # DeleteCertificate: ACTIVE, attached to a thing, with policies
    t.err('delete_certificate', 'CertificateStateException', 406,
          f'Certificate must be deactivated (not ACTIVE) before deletion. Id: {cid}',
          certificateId=cid)
    thing, pol = f'{p}-thing', f'{p}-pol'
    c('create_thing', thingName=thing)
    c('attach_thing_principal', thingName=thing, principal=f'{ARN}cert/{cid}')
    c('update_certificate', certificateId=cid, newStatus='INACTIVE')
    t.err('delete_certificate', 'DeleteConflictException', 409,
          f'Things must be detached before deletion (arn: {ARN}cert/{cid})',
          certificateId=cid)
    c('detach_thing_principal', thingName=thing, principal=f'{ARN}cert/{cid}')
    c('create_policy', policyName=pol, policyDocument=policy_doc('certificates'))
    c('attach_policy', policyName=pol, target=f'{ARN}cert/{cid}')
    t.err('delete_certificate', 'DeleteConflictException', 409,
          f'Certificate policies must be detached before deletion (arn: {ARN}cert/{cid})',
          certificateId=cid)
    t.eq('DeleteCertificate forceDelete=true with policies attached', {},
         c('delete_certificate', certificateId=cid, forceDelete=True))
    t.eq('forceDelete detached the policy', [],
         c('list_targets_for_policy', policyName=pol)['targets'])
    t.err('describe_certificate', 'ResourceNotFoundException', 404,
          'The certificate given in the principal does not exist.', certificateId=cid)
    t.err('delete_certificate', 'ResourceNotFoundException', 404,
          'The certificate given in the principal does not exist.', certificateId=cid)
    t.err('update_certificate', 'ResourceNotFoundException', 404,
          'The certificate given in the principal does not exist.', certificateId=cid,
          newStatus='ACTIVE')
    c('delete_policy', policyName=pol)
    c('delete_thing', thingName=thing)

    # CreateCertificateFromCsr
    csr = t.make_csr('dev', f'{p}-csr')
    r = c('create_certificate_from_csr', certificateSigningRequest=csr, setAsActive=True)
    t.eq('CreateCertificateFromCsr members', ['certificateArn', 'certificateId',
                                              'certificatePem'], sorted(r))
    t.eq('CreateCertificateFromCsr certificateId', cert_id_of(r['certificatePem']),
         r['certificateId'])
    t.eq('CreateCertificateFromCsr certificateArn', f"{ARN}cert/{r['certificateId']}",
         r['certificateArn'])
    t.eq('the certificate carries the CSR key', t.pubkey_of(csr, 'req').strip(),
         t.pubkey_of(r['certificatePem']).strip())
    t.eq('CreateCertificateFromCsr setAsActive', 'ACTIVE',
         c('describe_certificate', certificateId=r['certificateId'])
         ['certificateDescription']['status'])
    csr_id = r['certificateId']
    r = c('create_certificate_from_csr', certificateSigningRequest=csr)
    t.eq('CreateCertificateFromCsr without setAsActive: INACTIVE', 'INACTIVE',
         c('describe_certificate', certificateId=r['certificateId'])
         ['certificateDescription']['status'])
    t.true('the same CSR twice makes two certificates', r['certificateId'] != csr_id,
           r['certificateId'])
    t.err('create_certificate_from_csr', 'InvalidRequestException', 400,
          certificateSigningRequest='-----BEGIN CERTIFICATE REQUEST-----\nnot a '
          'CSR\n-----END CERTIFICATE REQUEST-----\n')

    # RegisterCertificateWithoutCA
    own = t.self_signed(f'{p}-own')
    r = c('register_certificate_without_ca', certificatePem=own)
    t.eq('RegisterCertificateWithoutCA', {'certificateArn': f'{ARN}cert/{cert_id_of(own)}',
                                          'certificateId': cert_id_of(own)}, r)
    d = c('describe_certificate', certificateId=r['certificateId'])['certificateDescription']
    t.eq('RegisterCertificateWithoutCA: INACTIVE by default, no CA, PEM kept',
         ('INACTIVE', None, own), (d['status'], d.get('caCertificateId'), d['certificatePem']))
    # AWS: "SNI_ONLY: A certificate in SNI_ONLY mode is registered without an
    # issuer certificate authority (CA)" (CertificateDescription.certificateMode)
    t.eq('RegisterCertificateWithoutCA: certificateMode SNI_ONLY', 'SNI_ONLY',
         d['certificateMode'])
    t.err('register_certificate_without_ca', 'ResourceAlreadyExistsException', 409,
          'The certificate is already provisioned or registered', certificatePem=own)
    own2 = t.self_signed(f'{p}-own2')
    r2 = c('register_certificate_without_ca', certificatePem=own2, status='ACTIVE')
    t.eq('RegisterCertificateWithoutCA status=ACTIVE', 'ACTIVE',
         c('describe_certificate', certificateId=r2['certificateId'])
         ['certificateDescription']['status'])
    t.err('register_certificate_without_ca', 'InvalidRequestException', 400,
          "1 validation error detected: Value 'BOGUS' at 'status' failed to satisfy "
          "constraint: Member must satisfy enum value set: [ACTIVE, INACTIVE, REVOKED, "
          "PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION]",
          certificatePem=t.self_signed(f'{p}-own3'), status='BOGUS')
    t.err('register_certificate_without_ca', 'CertificateValidationException', 400,
          certificatePem='-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n')
    # RegisterCertificate of a certificate whose CA is not registered
    t.err('register_certificate', 'CertificateValidationException', 400,
          certificatePem=t.self_signed(f'{p}-own4'))

    # ListCertificates: newest first by default; ascending on request; pages
    mine = []
    for _ in range(4):
        mine.append(c('create_keys_and_certificate')['certificateId'])
        time.sleep(0.005)
    pages = t.pages('list_certificates', 'certificates', 2, token_in='marker',
                    token_out='nextMarker', size_key='pageSize')
    listed = [x['certificateId'] for pg in pages for x in pg]
    t.eq('ListCertificates pages: no certificate twice', len(listed), len(set(listed)))
    t.eq('ListCertificates (default): newest first', list(reversed(mine)),
         [x for x in listed if x in mine])
    entry = [x for pg in pages for x in pg if x['certificateId'] == mine[0]][0]
    t.eq('ListCertificates entry members', sorted(['certificateArn', 'certificateId', 'status',
                                                   'certificateMode', 'creationDate']),
         sorted(entry))
    t.eq('ListCertificates entry', (f'{ARN}cert/{mine[0]}', 'INACTIVE', 'DEFAULT'),
         (entry['certificateArn'], entry['status'], entry['certificateMode']))
    t.recent('ListCertificates creationDate', entry['creationDate'])
    asc = [x['certificateId'] for x in t.paginate('list_certificates', 'certificates', 3,
                                                  ascendingOrder=True)]
    t.eq('ListCertificates ascendingOrder=true (paginator): oldest first', mine,
         [x for x in asc if x in mine])
    desc = [x['certificateId'] for x in t.paginate('list_certificates', 'certificates', 250)]
    t.eq('ListCertificates paginator: the same set as by hand', sorted(listed), sorted(desc))
    wo = [x for x in desc if x == r['certificateId']]
    t.eq('ListCertificates lists the CA-less certificate', [r['certificateId']], wo)
    e = [x for x in t.paginate('list_certificates', 'certificates', 250)
         if x['certificateId'] == r['certificateId']][0]
    t.eq('ListCertificates entry of a CA-less certificate: SNI_ONLY', 'SNI_ONLY',
         e['certificateMode'])

    # clean up
    for i in mine + [csr_id, r['certificateId'], r2['certificateId']]:
        c('update_certificate', certificateId=i, newStatus='INACTIVE')
        c('delete_certificate', certificateId=i)
    t.err('describe_certificate', 'InvalidRequestException', 400,
          "1 validation error detected: Value '" + 'z' * 64 + "' at 'certificateId' "
          "failed to satisfy constraint: Member must satisfy regular expression "
          "pattern: (0x)?[a-fA-F0-9]+", certificateId='z' * 64)


# ======================================================================================
# CA certificates
# ======================================================================================

def g_cas(t):
    c, p = t.call, t.p
    code = c('get_registration_code')['registrationCode']
    t.match('GetRegistrationCode: 64 hex digits', HEX64_RE.pattern, code)
    t.eq('GetRegistrationCode is stable', code, c('get_registration_code')['registrationCode'])

    ca = t.make_ca('ca')
    verif = t.sign('verif', code, 'ca')
    ca_id = cert_id_of(ca)
    # AWS: CA certificate ARNs are ...:cacert/<id> (see `aws iot
    # register-ca-certificate` / describe-ca-certificate in the CLI examples)
    r = c('register_ca_certificate', caCertificate=ca, verificationCertificate=verif,
          setAsActive=True)
    t.eq('RegisterCACertificate', {'certificateArn': f'{ARN}cacert/{ca_id}',
                                   'certificateId': ca_id}, r)
    t.err('register_ca_certificate', 'ResourceAlreadyExistsException', 409,
          'The CA certificate is already registered', caCertificate=ca,
          verificationCertificate=verif)

    r = c('describe_ca_certificate', certificateId=ca_id)
    t.eq('DescribeCACertificate registrationConfig', {}, r.get('registrationConfig'))
    d = r['certificateDescription']
    t.eq('DescribeCACertificate members', sorted([
        'certificateArn', 'certificateId', 'status', 'certificatePem', 'ownedBy',
        'creationDate', 'autoRegistrationStatus', 'lastModifiedDate', 'customerVersion',
        'generationId', 'validity', 'certificateMode']), sorted(d))
    t.eq('DescribeCACertificate certificateArn', f'{ARN}cacert/{ca_id}', d['certificateArn'])
    t.eq('DescribeCACertificate certificatePem', ca, d['certificatePem'])
    t.eq('DescribeCACertificate', (ca_id, 'ACTIVE', ACCOUNT, 'DISABLE', 1, 'DEFAULT'),
         (d['certificateId'], d['status'], d['ownedBy'], d['autoRegistrationStatus'],
          d['customerVersion'], d['certificateMode']))
    t.recent('DescribeCACertificate creationDate', d['creationDate'])
    t.true('DescribeCACertificate validity', d['validity']['notBefore'] <
           d['validity']['notAfter'], d['validity'])
    t.err('describe_ca_certificate', 'ResourceNotFoundException', 404,
          f"The CA certificate {'ab' * 32} does not exist.", certificateId='ab' * 32)

    # proof of possession
    ca2 = t.make_ca('ca2')
    t.err('register_ca_certificate', 'RegistrationCodeValidationException', 400,
          "the verification certificate's CN is not the registration code",
          caCertificate=ca2, verificationCertificate=t.sign('v2', f'{p}-not-the-code', 'ca2'))
    t.err('register_ca_certificate', 'CertificateValidationException', 400,
          'the verification certificate is not signed by the CA',
          caCertificate=ca2, verificationCertificate=verif)
    t.err('register_ca_certificate', 'InvalidRequestException', 400,
          'The verification certificate is required in DEFAULT mode', caCertificate=ca2)
    t.err('register_ca_certificate', 'InvalidRequestException', 400,
          "1 validation error detected: Value 'BOGUS' at 'certificateMode' failed to "
          "satisfy constraint: Member must satisfy enum value set: [DEFAULT, SNI_ONLY]",
          caCertificate=ca2, certificateMode='BOGUS')
    t.err('register_ca_certificate', 'CertificateValidationException', 400,
          caCertificate=t.self_signed('leafy'), verificationCertificate=t.sign(
              'v3', code, 'ca2'))
    # SNI_ONLY needs no verification certificate
    ca2_id = cert_id_of(ca2)
    r = c('register_ca_certificate', caCertificate=ca2, certificateMode='SNI_ONLY',
          allowAutoRegistration=True)
    t.eq('RegisterCACertificate SNI_ONLY', ca2_id, r['certificateId'])
    d = c('describe_ca_certificate', certificateId=ca2_id)['certificateDescription']
    t.eq('DescribeCACertificate of the SNI_ONLY CA', ('INACTIVE', 'ENABLE', 'SNI_ONLY'),
         (d['status'], d['autoRegistrationStatus'], d['certificateMode']))

    # device certificates of the CA
    dev1 = t.sign('dev1', f'{p}-dev1', 'ca')
    dev2 = t.sign('dev2', f'{p}-dev2', 'ca')
    r = c('register_certificate', certificatePem=dev1, caCertificatePem=ca, status='ACTIVE')
    d1 = cert_id_of(dev1)
    t.eq('RegisterCertificate', {'certificateArn': f'{ARN}cert/{d1}', 'certificateId': d1}, r)
    d = c('describe_certificate', certificateId=d1)['certificateDescription']
    t.eq('DescribeCertificate of a CA-signed certificate', ('ACTIVE', ca_id, 'DEFAULT'),
         (d['status'], d.get('caCertificateId'), d['certificateMode']))
    t.err('register_certificate', 'ResourceAlreadyExistsException', 409,
          'The certificate is already provisioned or registered', certificatePem=dev1,
          caCertificatePem=ca)
    time.sleep(0.005)
    r = c('register_certificate', certificatePem=dev2)  # the CA is found by itself
    d2 = cert_id_of(dev2)
    d = c('describe_certificate', certificateId=d2)['certificateDescription']
    t.eq('RegisterCertificate without caCertificatePem: CA found, INACTIVE',
         (d2, 'INACTIVE', ca_id), (r['certificateId'], d['status'], d.get('caCertificateId')))
    other = t.make_ca('other')
    t.err('register_certificate', 'CertificateValidationException', 400,
          certificatePem=t.sign('dev3', f'{p}-dev3', 'other'))
    # a CA that is not registered (AWS's model declares no ResourceNotFound here)
    t.err('register_certificate', 'ResourceNotFoundException', 404,
          'The CA certificate given is not registered',
          certificatePem=t.sign('dev4', f'{p}-dev4', 'other'), caCertificatePem=other)
    t.err('register_certificate', 'CertificateValidationException', 400,
          f'certificate was not signed by CA {ca_id}',
          certificatePem=t.sign('dev5', f'{p}-dev5', 'ca2'), caCertificatePem=ca)
    # RegisterCertificateWithoutCA of a certificate whose CA is registered
    dev6 = t.sign('dev6', f'{p}-dev6', 'ca2')
    r = c('register_certificate_without_ca', certificatePem=dev6)
    t.eq('RegisterCertificateWithoutCA of a CA-signed certificate', cert_id_of(dev6),
         r['certificateId'])
    d = c('describe_certificate', certificateId=cert_id_of(dev6))['certificateDescription']
    t.eq('... is not linked to the CA', None, d.get('caCertificateId'))

    # ListCertificatesByCA
    r = c('list_certificates_by_ca', caCertificateId=ca_id)
    t.eq('ListCertificatesByCA: newest first', [d2, d1],
         [x['certificateId'] for x in r['certificates']])
    e = r['certificates'][1]
    t.eq('ListCertificatesByCA entry', (f'{ARN}cert/{d1}', 'ACTIVE'),
         (e['certificateArn'], e['status']))
    t.recent('ListCertificatesByCA creationDate', e['creationDate'])
    t.eq('ListCertificatesByCA ascendingOrder=true', [d1, d2],
         [x['certificateId'] for x in c('list_certificates_by_ca', caCertificateId=ca_id,
                                        ascendingOrder=True)['certificates']])
    pages = t.pages('list_certificates_by_ca', 'certificates', 1, token_in='marker',
                    token_out='nextMarker', size_key='pageSize', caCertificateId=ca_id)
    t.eq('ListCertificatesByCA pageSize=1', [[d2], [d1]],
         [[x['certificateId'] for x in pg] for pg in pages])
    t.eq('ListCertificatesByCA paginator', [d2, d1],
         [x['certificateId'] for x in t.paginate('list_certificates_by_ca', 'certificates',
                                                 1, caCertificateId=ca_id)])
    t.eq('ListCertificatesByCA of the SNI_ONLY CA: none registered with it', [],
         c('list_certificates_by_ca', caCertificateId=ca2_id)['certificates'])
    t.eq('ListCertificatesByCA of an unknown CA: empty', [],
         c('list_certificates_by_ca', caCertificateId='cd' * 32)['certificates'])

    # ListCACertificates
    pages = t.pages('list_ca_certificates', 'certificates', 1, token_in='marker',
                    token_out='nextMarker', size_key='pageSize')
    listed = [x for pg in pages for x in pg]
    ids = [x['certificateId'] for x in listed]
    t.eq('ListCACertificates: no CA twice', len(ids), len(set(ids)))
    t.eq('ListCACertificates: newest first', [ca2_id, ca_id], [i for i in ids
                                                               if i in (ca_id, ca2_id)])
    e = [x for x in listed if x['certificateId'] == ca_id][0]
    t.eq('ListCACertificates entry members', ['certificateArn', 'certificateId',
                                              'creationDate', 'status'], sorted(e))
    t.eq('ListCACertificates entry', (f'{ARN}cacert/{ca_id}', 'ACTIVE'),
         (e['certificateArn'], e['status']))
    asc = [x['certificateId'] for x in t.paginate('list_ca_certificates', 'certificates', 2,
                                                  ascendingOrder=True)]
    t.eq('ListCACertificates ascendingOrder=true (paginator)', [ca_id, ca2_id],
         [i for i in asc if i in (ca_id, ca2_id)])

    # UpdateCACertificate, DeleteCACertificate
    t.eq('UpdateCACertificate answer', {},
         c('update_ca_certificate', certificateId=ca_id, newStatus='INACTIVE',
           newAutoRegistrationStatus='ENABLE'))
    d = c('describe_ca_certificate', certificateId=ca_id)['certificateDescription']
    t.eq('UpdateCACertificate applied', ('INACTIVE', 'ENABLE'),
         (d['status'], d['autoRegistrationStatus']))
    c('update_ca_certificate', certificateId=ca_id, newAutoRegistrationStatus='DISABLE')
    d = c('describe_ca_certificate', certificateId=ca_id)['certificateDescription']
    t.eq('UpdateCACertificate of one field keeps the other', ('INACTIVE', 'DISABLE'),
         (d['status'], d['autoRegistrationStatus']))
    t.err('update_ca_certificate', 'InvalidRequestException', 400,
          "1 validation error detected: Value 'REVOKED' at 'newStatus' failed to satisfy "
          "constraint: Member must satisfy enum value set: [ACTIVE, INACTIVE]",
          certificateId=ca_id, newStatus='REVOKED')
    t.err('update_ca_certificate', 'ResourceNotFoundException', 404,
          f"The CA certificate {'ab' * 32} does not exist.", certificateId='ab' * 32,
          newStatus='ACTIVE')
    c('update_ca_certificate', certificateId=ca2_id, newStatus='ACTIVE')
    t.err('delete_ca_certificate', 'CertificateStateException', 406,
          f'The CA certificate must be deactivated (INACTIVE) before deletion. Id: {ca2_id}',
          certificateId=ca2_id)
    c('update_ca_certificate', certificateId=ca2_id, newStatus='INACTIVE')
    t.eq('DeleteCACertificate answer', {}, c('delete_ca_certificate', certificateId=ca2_id))
    t.err('describe_ca_certificate', 'ResourceNotFoundException', 404,
          f'The CA certificate {ca2_id} does not exist.', certificateId=ca2_id)
    t.err('delete_ca_certificate', 'ResourceNotFoundException', 404,
          f'The CA certificate {ca2_id} does not exist.', certificateId=ca2_id)
    for i in (d1, d2, cert_id_of(dev6)):
        c('update_certificate', certificateId=i, newStatus='INACTIVE')
        c('delete_certificate', certificateId=i)
    c('delete_ca_certificate', certificateId=ca_id)
    t.eq('ListCACertificates after the deletes', [],
         [x for x in t.paginate('list_ca_certificates', 'certificates', 250)
          if x['certificateId'] in (ca_id, ca2_id)])


# ======================================================================================
# policies
# ======================================================================================

def g_policies(t):
    c, p = t.call, t.p
    name = f'{p}-main'
    doc1, doc2, doc3 = policy_doc('a'), policy_doc('b'), policy_doc('c')
    r = c('create_policy', policyName=name, policyDocument=doc1)
    t.eq('CreatePolicy', {'policyName': name, 'policyArn': f'{ARN}policy/{name}',
                          'policyDocument': doc1, 'policyVersionId': '1'}, r)
    t.err('create_policy', 'ResourceAlreadyExistsException', 409,
          f'Policy cannot be created - name already exists (name={name})',
          policyName=name, policyDocument=doc1)
    t.err('create_policy', 'MalformedPolicyException', 400,
          'Policy document is not valid JSON', policyName=f'{p}-bad', policyDocument='{nope')
    t.err('create_policy', 'MalformedPolicyException', 400,
          'Policy document is malformed: Statement[0].Effect must be Allow or Deny',
          policyName=f'{p}-bad', policyDocument=json.dumps(
              {'Version': '2012-10-17', 'Statement': [
                  {'Effect': 'Maybe', 'Action': 'iot:*', 'Resource': '*'}]}))
    t.err('get_policy', 'ResourceNotFoundException', 404, 'Policy not found',
          policyName=f'{p}-bad')

    r = c('get_policy', policyName=name)
    t.eq('GetPolicy members', sorted(['policyName', 'policyArn', 'policyDocument',
                                      'defaultVersionId', 'creationDate',
                                      'lastModifiedDate', 'generationId']), sorted(r))
    t.eq('GetPolicy', (name, f'{ARN}policy/{name}', doc1, '1'),
         (r['policyName'], r['policyArn'], r['policyDocument'], r['defaultVersionId']))
    t.recent('GetPolicy creationDate', r['creationDate'])

    # versions
    r = c('create_policy_version', policyName=name, policyDocument=doc2, setAsDefault=True)
    t.eq('CreatePolicyVersion setAsDefault', {'policyArn': f'{ARN}policy/{name}',
                                              'policyDocument': doc2,
                                              'policyVersionId': '2',
                                              'isDefaultVersion': True}, r)
    r = c('create_policy_version', policyName=name, policyDocument=doc3)
    t.eq('CreatePolicyVersion not default', ('3', False),
         (r['policyVersionId'], r['isDefaultVersion']))
    r = c('get_policy', policyName=name)
    t.eq('GetPolicy: the default version\'s document', ('2', doc2),
         (r['defaultVersionId'], r['policyDocument']))
    r = c('get_policy_version', policyName=name, policyVersionId='1')
    t.eq('GetPolicyVersion members', sorted([
        'policyArn', 'policyName', 'policyDocument', 'policyVersionId', 'isDefaultVersion',
        'creationDate', 'lastModifiedDate', 'generationId']), sorted(r))
    t.eq('GetPolicyVersion 1', (f'{ARN}policy/{name}', name, doc1, '1', False),
         (r['policyArn'], r['policyName'], r['policyDocument'], r['policyVersionId'],
          r['isDefaultVersion']))
    t.eq('GetPolicyVersion 2 is the default', True,
         c('get_policy_version', policyName=name, policyVersionId='2')['isDefaultVersion'])
    t.err('get_policy_version', 'ResourceNotFoundException', 404, 'Policy version not found',
          policyName=name, policyVersionId='9')
    t.err('get_policy_version', 'InvalidRequestException', 400,
          "1 validation error detected: Value 'v1' at 'policyVersionId' failed to satisfy "
          "constraint: Member must satisfy regular expression pattern: [0-9]+",
          policyName=name, policyVersionId='v1')
    r = c('list_policy_versions', policyName=name)
    t.eq('ListPolicyVersions: newest first', [('3', False), ('2', True), ('1', False)],
         [(x['versionId'], x['isDefaultVersion']) for x in r['policyVersions']])
    t.recent('ListPolicyVersions createDate', r['policyVersions'][0]['createDate'])
    t.err('list_policy_versions', 'ResourceNotFoundException', 404, 'Policy not found',
          policyName=f'{p}-nope')
    c('create_policy_version', policyName=name, policyDocument=policy_doc('d'))
    c('create_policy_version', policyName=name, policyDocument=policy_doc('e'))
    t.err('create_policy_version', 'VersionsLimitExceededException', 409,
          f'The policy {name} already has the maximum number of versions (5)',
          policyName=name, policyDocument=policy_doc('f'))
    t.err('create_policy_version', 'ResourceNotFoundException', 404, 'Policy not found',
          policyName=f'{p}-nope', policyDocument=doc1)
    t.err('create_policy_version', 'MalformedPolicyException', 400,
          'Policy document is not valid JSON', policyName=name, policyDocument='[')
    t.err('delete_policy_version', 'DeleteConflictException', 409,
          'Cannot delete the default version of a policy', policyName=name,
          policyVersionId='2')
    t.eq('SetDefaultPolicyVersion answer', {},
         c('set_default_policy_version', policyName=name, policyVersionId='3'))
    t.eq('SetDefaultPolicyVersion applied', ('3', doc3),
         (c('get_policy', policyName=name)['defaultVersionId'],
          c('get_policy', policyName=name)['policyDocument']))
    t.err('set_default_policy_version', 'ResourceNotFoundException', 404,
          'Policy version not found', policyName=name, policyVersionId='9')
    t.eq('DeletePolicyVersion answer', {},
         c('delete_policy_version', policyName=name, policyVersionId='1'))
    t.err('get_policy_version', 'ResourceNotFoundException', 404, 'Policy version not found',
          policyName=name, policyVersionId='1')
    t.err('delete_policy_version', 'ResourceNotFoundException', 404,
          'Policy version not found', policyName=name, policyVersionId='1')
    r = c('create_policy_version', policyName=name, policyDocument=policy_doc('g'))
    t.eq('version IDs are not reused', '6', r['policyVersionId'])
    t.eq('ListPolicyVersions after delete and create', ['6', '5', '4', '3', '2'],
         [x['versionId'] for x in c('list_policy_versions', policyName=name)['policyVersions']])
    # AWS (seen from the service): "The policy cannot be deleted as versions
    # other than than default version exist"
    t.err('delete_policy', 'DeleteConflictException', 409,
          'The policy cannot be deleted as versions other than than default version exist',
          policyName=name)

    # attachments
    cert = c('create_keys_and_certificate', setAsActive=True)
    carn = cert['certificateArn']
    grp, sub = f'{p}-grp', f'{p}-sub'
    c('create_thing_group', thingGroupName=grp)
    c('create_thing_group', thingGroupName=sub, parentGroupName=grp)
    garn, sarn = f'{ARN}thinggroup/{grp}', f'{ARN}thinggroup/{sub}'
    t.eq('AttachPolicy answer', {}, c('attach_policy', policyName=name, target=carn))
    t.eq('AttachPolicy again succeeds', {}, c('attach_policy', policyName=name, target=carn))
    ref = {'policyName': name, 'policyArn': f'{ARN}policy/{name}'}
    t.eq('ListAttachedPolicies of the certificate', [ref],
         c('list_attached_policies', target=carn)['policies'])
    t.eq('ListTargetsForPolicy', [carn], c('list_targets_for_policy', policyName=name)['targets'])
    c('attach_policy', policyName=name, target=garn)
    t.eq('ListTargetsForPolicy: certificate and group', sorted([carn, garn]),
         sorted(c('list_targets_for_policy', policyName=name)['targets']))
    t.eq('ListAttachedPolicies of the group', [ref],
         c('list_attached_policies', target=garn)['policies'])
    t.eq('ListAttachedPolicies of the subgroup, not recursive', [],
         c('list_attached_policies', target=sarn)['policies'])
    t.eq('ListAttachedPolicies of the subgroup, recursive: inherited', [ref],
         c('list_attached_policies', target=sarn, recursive=True)['policies'])
    t.err('attach_policy', 'ResourceNotFoundException', 404,
          'The certificate given in the principal does not exist.', policyName=name,
          target=f'{ARN}cert/' + 'ef' * 32)
    t.err('attach_policy', 'ResourceNotFoundException', 404, 'Policy not found',
          policyName=f'{p}-nope', target=carn)
    t.err('list_attached_policies', 'ResourceNotFoundException', 404,
          'The certificate given in the principal does not exist.',
          target=f'{ARN}cert/' + 'ef' * 32)
    t.err('list_targets_for_policy', 'ResourceNotFoundException', 404, 'Policy not found',
          policyName=f'{p}-nope')
    t.err('delete_policy', 'DeleteConflictException', 409,
          f'The policy cannot be deleted as the policy is attached to one or more '
          f'principals (name={name})', policyName=name)

    # more policies: ListPolicies, paging of the attachment lists
    extra = [f'{p}-l{i}' for i in range(5)]
    for n in extra:  # names and creation in the same order
        c('create_policy', policyName=n, policyDocument=doc1)
        c('attach_policy', policyName=n, target=carn)
        time.sleep(0.002)
    allp = sorted(extra + [name])
    pages = t.pages('list_policies', 'policies', 2, token_in='marker',
                    token_out='nextMarker', size_key='pageSize', ascendingOrder=True)
    listed = [x['policyName'] for pg in pages for x in pg]
    t.eq('ListPolicies pages: no policy twice', len(listed), len(set(listed)))
    t.eq('ListPolicies ascendingOrder=true: the policies of this run in order', extra,
         [x for x in listed if x in extra])
    t.eq('ListPolicies entry', ref, [x for pg in pages for x in pg
                                     if x['policyName'] == name][0])
    desc = [x['policyName'] for x in t.paginate('list_policies', 'policies', 3,
                                                ascendingOrder=False)]
    t.eq('ListPolicies ascendingOrder=false (paginator)', list(reversed(extra)),
         [x for x in desc if x in extra])
    pages = t.pages('list_attached_policies', 'policies', 4, token_in='marker',
                    token_out='nextMarker', size_key='pageSize', target=carn)
    t.eq('ListAttachedPolicies pageSize=4: pages of 4, 2', [4, 2], [len(x) for x in pages])
    t.eq('ListAttachedPolicies pages', allp, [x['policyName'] for pg in pages for x in pg])
    t.eq('ListAttachedPolicies paginator', allp,
         [x['policyName'] for x in t.paginate('list_attached_policies', 'policies', 5,
                                              target=carn)])
    certs = [carn] + [c('create_keys_and_certificate')['certificateArn'] for _ in range(2)]
    for a in certs[1:]:
        c('attach_policy', policyName=extra[0], target=a)
    pages = t.pages('list_targets_for_policy', 'targets', 2, token_in='marker',
                    token_out='nextMarker', size_key='pageSize', policyName=extra[0])
    t.eq('ListTargetsForPolicy pageSize=2: pages of 2, 1', [2, 1], [len(x) for x in pages])
    t.eq('ListTargetsForPolicy pages', sorted(certs), sorted(x for pg in pages for x in pg))
    t.eq('ListTargetsForPolicy paginator', sorted(certs),
         sorted(t.paginate('list_targets_for_policy', 'targets', 1, policyName=extra[0])))

    # detach, delete
    t.eq('DetachPolicy answer', {}, c('detach_policy', policyName=name, target=carn))
    t.eq('DetachPolicy again succeeds', {}, c('detach_policy', policyName=name, target=carn))
    c('detach_policy', policyName=name, target=garn)
    t.eq('ListTargetsForPolicy after the detaches', [],
         c('list_targets_for_policy', policyName=name)['targets'])
    t.eq('ListAttachedPolicies after the detach', extra,
         [x['policyName'] for x in c('list_attached_policies', target=carn)['policies']])
    for v in ('2', '4', '5', '6'):
        c('delete_policy_version', policyName=name, policyVersionId=v)
    t.eq('DeletePolicy answer', {}, c('delete_policy', policyName=name))
    t.err('get_policy', 'ResourceNotFoundException', 404, 'Policy not found', policyName=name)
    t.err('delete_policy', 'ResourceNotFoundException', 404, 'Policy not found',
          policyName=name)
    for n in extra:
        for a in certs:
            c('detach_policy', policyName=n, target=a)
        c('delete_policy', policyName=n)
    c('delete_thing_group', thingGroupName=sub)
    c('delete_thing_group', thingGroupName=grp)
    for a in certs:
        i = a.split('/')[-1]
        c('update_certificate', certificateId=i, newStatus='INACTIVE')
        c('delete_certificate', certificateId=i)
    bad = f'{p}!bad'
    t.err('create_policy', 'InvalidRequestException', 400,
          f"1 validation error detected: Value '{bad}' at 'policyName' failed to satisfy "
          f"constraint: {POLICY_NAME_PATTERN}", policyName=bad, policyDocument=doc1)
    t.eq('CreatePolicy name with + = , . @', f'{p}+=,.@x',
         c('create_policy', policyName=f'{p}+=,.@x', policyDocument=doc1)['policyName'])
    c('delete_policy', policyName=f'{p}+=,.@x')


# ======================================================================================
# endpoint
# ======================================================================================

def g_endpoint(t):
    c = t.call
    ats = c('describe_endpoint', endpointType='iot:Data-ATS')['endpointAddress']
    t.match('DescribeEndpoint iot:Data-ATS is a host name',
            r'[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?', ats)
    # EMULATOR (control.c): one endpoint serves every type; AWS answers a
    # different host for each.
    for ty in ('iot:Data', 'iot:CredentialProvider', 'iot:Jobs'):
        t.eq(f'DescribeEndpoint {ty}', ats, c('describe_endpoint', endpointType=ty)
             ['endpointAddress'])
    t.eq('DescribeEndpoint without endpointType', ats, c('describe_endpoint')['endpointAddress'])
    t.err('describe_endpoint', 'InvalidRequestException', 400,
          'Endpoint type iot:Bogus not recognized.', endpointType='iot:Bogus')


# ======================================================================================
# errors across the API
# ======================================================================================

def g_errors(t):
    p = t.p
    # the wire format of an error: status, x-amzn-ErrorType, {"message": ...}
    st, hdrs, body = t.raw('GET', f'/things/{p}-nope')
    t.eq('error status', 404, st)
    t.eq('x-amzn-ErrorType header', 'ResourceNotFoundException',
         (hdrs.get('x-amzn-ErrorType') or '').split(':')[0])
    t.true('error Content-Type is JSON', (hdrs.get('Content-Type') or '').startswith(
        'application/json'), hdrs.get('Content-Type'))
    t.true('x-amzn-RequestId header', bool(hdrs.get('x-amzn-RequestId')),
           dict(hdrs))
    t.eq('error body', {'message': f'Thing {p}-nope cannot be found.'}, json.loads(body))

    # unknown things of every kind
    t.err('describe_thing', 'ResourceNotFoundException', 404,
          f'Thing {p}-nope cannot be found.', thingName=f'{p}-nope')
    t.err('describe_thing_type', 'ResourceNotFoundException', 404,
          f'Thing Type {p}-nope cannot be found.', thingTypeName=f'{p}-nope')
    t.err('describe_thing_group', 'ResourceNotFoundException', 404,
          f'Thing Group {p}-nope cannot be found.', thingGroupName=f'{p}-nope')
    t.err('describe_certificate', 'ResourceNotFoundException', 404,
          'The certificate given in the principal does not exist.',
          certificateId='0' * 64)
    t.err('describe_ca_certificate', 'ResourceNotFoundException', 404,
          f"The CA certificate {'0' * 64} does not exist.", certificateId='0' * 64)
    t.err('get_policy', 'ResourceNotFoundException', 404, 'Policy not found',
          policyName=f'{p}-nope')
    t.err('get_policy_version', 'ResourceNotFoundException', 404, 'Policy not found',
          policyName=f'{p}-nope', policyVersionId='1')
    t.err('list_things_in_thing_group', 'ResourceNotFoundException', 404,
          f'Thing Group {p}-nope cannot be found.', thingGroupName=f'{p}-nope')

    # AWS's validation messages
    for op, field, kw in (
            ('describe_thing', 'thingName', {}),
            ('update_thing', 'thingName', {}),
            ('delete_thing', 'thingName', {}),
            ('describe_thing_type', 'thingTypeName', {}),
            ('create_thing_group', 'thingGroupName', {}),
            ('describe_thing_group', 'thingGroupName', {}),
            ('list_thing_principals', 'thingName', {})):
        for bad, rule in ((f'{p} bad', NAME_PATTERN), ('w' * 129, TOO_LONG)):
            t.err(op, 'InvalidRequestException', 400,
                  f"1 validation error detected: Value '{bad}' at '{field}' failed to "
                  f"satisfy constraint: {rule}", **{field: bad}, **kw)
    for op, kw in (('get_policy', {}), ('delete_policy', {}),
                   ('create_policy', {'policyDocument': policy_doc('x')})):
        for bad, rule in ((f'{p}!bad', POLICY_NAME_PATTERN), ('w' * 129, TOO_LONG)):
            t.err(op, 'InvalidRequestException', 400,
                  f"1 validation error detected: Value '{bad}' at 'policyName' failed to "
                  f"satisfy constraint: {rule}", policyName=bad, **kw)
    hexless = 'g' * 64
    for op, field, kw in (('describe_certificate', 'certificateId', {}),
                          ('delete_certificate', 'certificateId', {}),
                          ('update_certificate', 'certificateId', {'newStatus': 'ACTIVE'}),
                          ('describe_ca_certificate', 'caCertificateId', {}),
                          ('list_certificates_by_ca', 'caCertificateId', {})):
        arg = 'certificateId' if op.endswith('ca_certificate') else field
        t.err(op, 'InvalidRequestException', 400,
              f"1 validation error detected: Value '{hexless}' at '{field}' failed to "
              f"satisfy constraint: Member must satisfy regular expression pattern: "
              f"(0x)?[a-fA-F0-9]+", **{arg: hexless}, **kw)
    t.err('list_things', 'InvalidRequestException', 400,
          "1 validation error detected: Value '251' at 'maxResults' failed to satisfy "
          "constraint: Member must have value less than or equal to 250", maxResults=251)
    t.err('list_certificates', 'InvalidRequestException', 400,
          "1 validation error detected: Value '251' at 'pageSize' failed to satisfy "
          "constraint: Member must have value less than or equal to 250", pageSize=251)
    t.err('list_things', 'InvalidRequestException', 400, nextToken='not a token!')
    t.err('list_policies', 'InvalidRequestException', 400, marker='not a marker!')
    t.err('create_policy', 'MalformedPolicyException', 400,
          'Policy document is not a JSON object', policyName=f'{p}-arr',
          policyDocument='["a"]')
    t.err('create_thing', 'InvalidRequestException', 400, thingName=f'{p}-attrs',
          attributePayload={'attributes': {'bad key!': 'v'}})

    # requests boto3 cannot send
    st, hdrs, body = t.raw('POST', f'/things/{p}-json', body=b'{"attributePayload": ',
                           headers={'Content-Type': 'application/json'})
    t.eq('CreateThing with a body that is not JSON: 400', 400, st)
    t.err('describe_thing', 'ResourceNotFoundException', 404, thingName=f'{p}-json')
    st, hdrs, body = t.raw('GET', '/no-such-operation')
    t.eq('an unknown path: 404 UnknownOperationException', (404, 'UnknownOperationException'),
         (st, (hdrs.get('x-amzn-ErrorType') or '').split(':')[0]))
    st, hdrs, body = t.raw('PUT', '/things')
    t.true('a known path with the wrong method: 4xx', 400 <= st < 500, st)
    # an operation that succeeds still answers JSON
    st, hdrs, body = t.raw('GET', '/registrationcode')
    t.eq('GetRegistrationCode over raw HTTP: 200 JSON', (200, 'application/json'),
         (st, (hdrs.get('Content-Type') or '').split(';')[0]))


# ======================================================================================
# SigV4
# ======================================================================================

def g_signature(t):
    p = t.p
    path = f'/things/{p}-nope'
    missing = f'Thing {p}-nope cannot be found.'
    # properly signed: the operation's own answer
    t.raw_error('signed with iot', t.raw('GET', path), 'ResourceNotFoundException', 404,
                missing)
    # AWS CLI v2 as Debian ships it scopes `aws iot` to execute-api
    t.raw_error('signed with execute-api', t.raw('GET', path, service='execute-api'),
                'ResourceNotFoundException', 404, missing)
    st = t.raw('GET', '/things?maxResults=1')[0]
    t.eq('a signed request with a query string', 200, st)

    # wrong secret, unknown key: through boto3
    good = t.c
    key = os.environ['AWS_ACCESS_KEY_ID']
    bad_secret = boto3.client('iot', endpoint_url=t.url, region_name=REGION,
                              aws_access_key_id=key, aws_secret_access_key='x' * 40,
                              config=Config(retries={'total_max_attempts': 1}))
    t.c = bad_secret
    t.err('list_things', 'InvalidSignatureException', 403,
          'The request signature we calculated does not match the signature you '
          'provided. Check your AWS Secret Access Key and signing method. Consult the '
          'service documentation for details.')
    t.err('create_thing', 'InvalidSignatureException', 403, thingName=f'{p}-x')
    t.c = boto3.client('iot', endpoint_url=t.url, region_name=REGION,
                       aws_access_key_id='AKIAUNKNOWNKEY000000',
                       aws_secret_access_key=os.environ['AWS_SECRET_ACCESS_KEY'],
                       config=Config(retries={'total_max_attempts': 1}))
    t.err('list_things', 'UnrecognizedClientException', 403,
          'The security token included in the request is invalid.')
    t.c = good
    t.err('describe_thing', 'ResourceNotFoundException', 404, missing,
          thingName=f'{p}-nope')

    # nothing was created by the refused requests
    t.err('describe_thing', 'ResourceNotFoundException', 404, f'Thing {p}-x cannot be found.',
          thingName=f'{p}-x')

    # unsigned
    t.raw_error('unsigned', t.raw('GET', path, sign=False),
                'MissingAuthenticationTokenException', 403, 'Missing Authentication Token')
    t.raw_error('unsigned POST', t.raw('POST', f'/things/{p}-y', body=b'{}', sign=False),
                'MissingAuthenticationTokenException', 403, 'Missing Authentication Token')
    t.err('describe_thing', 'ResourceNotFoundException', 404, f'Thing {p}-y cannot be found.',
          thingName=f'{p}-y')
    # a malformed Authorization header
    t.raw_error('Authorization: garbage', t.raw('GET', path, sign=False,
                                                headers={'Authorization': 'garbage'}),
                'IncompleteSignatureException', 403)
    # scoped to another service
    t.raw_error('scoped to s3', t.raw('GET', path, service='s3'),
                'InvalidSignatureException', 403,
                "Credential should be scoped to correct service: 'iot'. ")
    # a tampered body
    now = datetime.datetime.now(datetime.timezone.utc)
    req = AWSRequest(method='POST', url=t.url + f'/things/{p}-z', data=b'{}',
                     headers={'Content-Type': 'application/json'})
    botocore.auth.SigV4Auth(Credentials(key, os.environ['AWS_SECRET_ACCESS_KEY']), 'iot',
                            REGION).add_auth(req)
    pr = req.prepare()
    hdrs = dict(pr.headers)
    r = urllib.request.Request(pr.url, data=b'{"attributePayload":{}}', method='POST',
                               headers=hdrs)
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            got = (resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as e:
        got = (e.code, e.headers, e.read())
    t.raw_error('a body changed after signing', got, 'InvalidSignatureException', 403,
                prefix='The request signature we calculated does not match')

    # the clock: 20 minutes old, 20 minutes ahead
    old = now - datetime.timedelta(minutes=20)
    msg = t.raw_error('x-amz-date 20 minutes old', t.raw('GET', path, when=old.replace(
        tzinfo=None)), 'InvalidSignatureException', 403, prefix='Signature expired:')
    stamp = old.strftime('%Y%m%dT%H%M%SZ')
    t.match('Signature expired message', rf'Signature expired: {stamp} is now earlier than '
            rf'{AMZ_DATE_RE} \({AMZ_DATE_RE} - 15 min\.\)', msg)
    ahead = now + datetime.timedelta(minutes=20)
    msg = t.raw_error('x-amz-date 20 minutes ahead', t.raw('GET', path, when=ahead.replace(
        tzinfo=None)), 'InvalidSignatureException', 403, prefix='Signature not yet current:')
    stamp = ahead.strftime('%Y%m%dT%H%M%SZ')
    t.match('Signature not yet current message', rf'Signature not yet current: {stamp} is '
            rf'still later than {AMZ_DATE_RE} \({AMZ_DATE_RE} \+ 15 min\.\)', msg)
    # 5 minutes off is within AWS's 15 minutes
    t.raw_error('x-amz-date 5 minutes old', t.raw('GET', path, when=(
        now - datetime.timedelta(minutes=5)).replace(tzinfo=None)),
        'ResourceNotFoundException', 404, missing)


# ======================================================================================
# the route table against the model
# ======================================================================================

def g_routes(t):
    binary = os.environ.get('IOTCORED_BIN')
    if not binary:
        t.fail('IOTCORED_BIN names the iotcored binary', 'a path', None)
    r = subprocess.run([binary, '--routes'], capture_output=True, text=True, timeout=10)
    t.eq(f'{binary} --routes exit status', 0, r.returncode)
    routes = []
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        parts = line.split()
        t.eq(f'route line "{line}" is "Op METHOD pattern"', 3, len(parts))
        routes.append(tuple(parts))
    t.true('--routes prints routes', len(routes) > 0, r.stdout)
    model = t.c.meta.service_model
    ops = set(model.operation_names)
    seen = set()
    for op, method, pattern in routes:
        t.true(f'route {method} {pattern} is listed once', (method, pattern) not in seen,
               (op, method, pattern))
        seen.add((method, pattern))
        if op.startswith('iotcored:'):
            # /metrics: where Prometheus looks by convention
            t.true(f'iotcored route {op} is outside the AWS URI space',
                   pattern.startswith('/iotcored/') or pattern == '/metrics', pattern)
            continue
        t.true(f'{op} is an operation of the botocore model', op in ops, op)
        http = model.operation_model(op).http
        want = (http['method'], http['requestUri'].split('?')[0])
        t.eq(f'{op} method and requestUri as in the model', want, (method, pattern))
    routed = {x[0] for x in routes}
    for op in OPERATIONS:
        t.true(f'{op} is routed', op in routed, sorted(routed))
        t.true(f'{op} is in the botocore model', op in ops, op)


GROUPS = {
    'things': g_things, 'types': g_types, 'groups': g_groups, 'principals': g_principals,
    'certificates': g_certificates, 'cas': g_cas, 'policies': g_policies,
    'endpoint': g_endpoint, 'errors': g_errors, 'signature': g_signature, 'routes': g_routes,
}


def main(argv):
    if len(argv) != 3 or argv[2] not in GROUPS:
        print(f'usage: {argv[0]} ENDPOINT_URL {{{"|".join(GROUPS)}}}', file=sys.stderr)
        return 2
    url, group = argv[1], argv[2]
    os.environ.setdefault('AWS_DEFAULT_REGION', REGION)
    t = Suite(url, group)
    try:
        GROUPS[group](t)
    except Failure as e:
        print(f'FAIL {group}: {e}')
        return 1
    except Exception as e:  # a crash of the test is a failure too
        import traceback
        traceback.print_exc()
        print(f'FAIL {group}: {type(e).__name__}: {e}')
        return 1
    finally:
        t.cleanup()
    if t.failures:
        return 1
    print(f'ok {group} {t.n}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
