#!/usr/bin/env python3
"""ws_raw.py - MQTT over WebSocket against iotcored, byte by byte.

Stdlib only (ssl + socket + hmac): signs the upgrade URL itself (SigV4
query parameters, service iotdevicegateway, only host signed), performs the
RFC 6455 opening handshake by hand and then sends crafted frames, printing
what came back. Every check is made here; each case prints "ok CASE ..."
when it passed and "FAIL CASE: why" (with the bytes received) otherwise.
Exit status 0 only when every case passed.

  ws_raw.py HOST PORT CA AKID SECRET MODE [ARGS...]

MODE
  handshakes          good upgrades (subprotocol mqtt and mqttv3.1, ALPN
                      http/1.1 offered, "foo, mqtt" offered, service
                      iotdata, a session token appended after signing, an
                      old date inside X-Amz-Expires) and the refusals: wrong
                      signature, expired URL (2 h old, and 5 min old: inside
                      the clock skew but past X-Amz-Expires=60), unsigned,
                      no subprotocol, an unknown subprotocol,
                      Sec-WebSocket-Version 8
  frames MAX          after a good upgrade: ping/pong, MQTT split over
                      frames and packed in one, a fragmented message;
                      then one connection per error: unmasked frame (1002),
                      frame declaring more than MAX bytes (1009, answered
                      before any payload is sent), text frame (1003); a
                      frame declaring exactly MAX bytes is not refused
  close ID            MQTT 3.1.1 CONNECT (will on will/ID), then a
                      WebSocket Close 1000: the server echoes it and closes
  lost ID             MQTT 3.1.1 CONNECT (will on will/ID), then the TCP
                      connection is dropped without a Close
  hold ID SECONDS     MQTT 5 CONNECT (will on will/ID), PINGREQ every 0.5 s,
                      until the server closes (at most SECONDS); prints how
                      long the connection lived and what the server sent
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import select
import socket
import ssl
import struct
import sys
import time
import urllib.parse

REGION = 'us-east-1'
GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

failures = 0


class Fail(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Fail(why)


# ---- SigV4 ------------------------------------------------------------------

def enc(s):
    return urllib.parse.quote(s, safe='-_.~')


def presign(host_hdr, akid, secret, when=None, expires=None,
            service='iotdevicegateway', token=None, path='/mqtt'):
    """The request target: path?query with X-Amz-Signature (and the session
    token appended after signing, unsigned, as the AWS SDKs do)."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz = when.strftime('%Y%m%dT%H%M%SZ')
    date = amz[:8]
    scope = '%s/%s/%s/aws4_request' % (date, REGION, service)
    q = {
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': '%s/%s' % (akid, scope),
        'X-Amz-Date': amz,
        'X-Amz-SignedHeaders': 'host',
    }
    if expires is not None:
        q['X-Amz-Expires'] = str(expires)
    cq = '&'.join('%s=%s' % (enc(k), enc(v)) for k, v in sorted(q.items()))
    canon = '\n'.join(['GET', path, cq, 'host:' + host_hdr.lower(), '', 'host',
                       hashlib.sha256(b'').hexdigest()])
    sts = '\n'.join(['AWS4-HMAC-SHA256', amz, scope,
                     hashlib.sha256(canon.encode()).hexdigest()])
    k = ('AWS4' + secret).encode()
    for part in (date, REGION, service, 'aws4_request'):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    target = '%s?%s&X-Amz-Signature=%s' % (path, cq, sig)
    if token is not None:
        target += '&X-Amz-Security-Token=' + enc(token)
    return target


# ---- connection -------------------------------------------------------------

class Conn:
    def __init__(self, host, port, ca, alpn=None):
        ctx = ssl.create_default_context(cafile=ca)  # no ALPN: HTTP
        if alpn:
            ctx.set_alpn_protocols(alpn)
        raw = socket.create_connection((host, port), timeout=10)
        self.s = ctx.wrap_socket(raw, server_hostname=host)
        self.buf = b''
        self.eof = False
        self.mqtt = b''  # MQTT bytes received (binary frame payloads)

    def send(self, b):
        self.s.sendall(b)

    def fill(self, timeout):
        """Read more bytes; False on timeout, sets eof on close."""
        if self.eof:
            return False
        if self.s.pending() == 0:
            r, _, _ = select.select([self.s], [], [], max(timeout, 0))
            if not r:
                return False
        try:
            d = self.s.recv(65536)
        except ssl.SSLWantReadError:
            return True
        except (ConnectionResetError, ssl.SSLError, OSError):
            d = b''
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    # -- HTTP --
    def handshake(self, host_hdr, target, protocol='mqtt', version='13',
                  key=None):
        key = key or base64.b64encode(os.urandom(16)).decode()
        lines = ['GET %s HTTP/1.1' % target, 'Host: %s' % host_hdr,
                 'Upgrade: websocket', 'Connection: Upgrade',
                 'Sec-WebSocket-Key: %s' % key,
                 'Sec-WebSocket-Version: %s' % version,
                 'User-Agent: ws_raw.py']
        if protocol is not None:
            lines.append('Sec-WebSocket-Protocol: %s' % protocol)
        self.send(('\r\n'.join(lines) + '\r\n\r\n').encode())
        deadline = time.time() + 10
        while b'\r\n\r\n' not in self.buf:
            if not self.fill(deadline - time.time()) and (
                    self.eof or time.time() >= deadline):
                raise Fail('no HTTP response (got %r)' % self.buf)
        head, self.buf = self.buf.split(b'\r\n\r\n', 1)
        lines = head.decode('latin-1').split('\r\n')
        status = int(lines[0].split(' ')[1])
        hdrs = {}
        for ln in lines[1:]:
            n, v = ln.split(':', 1)
            hdrs.setdefault(n.strip().lower(), []).append(v.strip())
        body = b''
        if status != 101:
            want = int(hdrs.get('content-length', ['0'])[0])
            while len(self.buf) < want and time.time() < deadline:
                if not self.fill(deadline - time.time()) and self.eof:
                    break
            body, self.buf = self.buf[:want], self.buf[want:]
        expect = base64.b64encode(
            hashlib.sha1(key.encode() + GUID).digest()).decode()
        return status, hdrs, body, head, expect

    # -- WebSocket --
    def frame(self, opcode, payload=b'', fin=True, mask=True, declared=None,
              send=True):
        """A client frame (masked unless told); declared overrides the
        length field (payload is then what follows, possibly nothing)."""
        n = len(payload) if declared is None else declared
        b = bytes([(0x80 if fin else 0) | opcode])
        m = 0x80 if mask else 0
        if n < 126:
            b += bytes([m | n])
        elif n < 65536:
            b += bytes([m | 126]) + struct.pack('>H', n)
        else:
            b += bytes([m | 127]) + struct.pack('>Q', n)
        if mask:
            key = os.urandom(4)
            b += key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        else:
            b += payload
        if send:
            self.send(b)
        return b

    def read_frame(self, timeout):
        """(fin, opcode, payload) of the next server frame; None on timeout;
        'eof' when the server closed first."""
        deadline = time.time() + timeout
        while True:
            f = self._parse()
            if f is not None:
                return f
            if not self.fill(deadline - time.time()):
                if self.eof:
                    return 'eof'
                if time.time() >= deadline:
                    return None

    def _parse(self):
        b = self.buf
        if len(b) < 2:
            return None
        fin, op = b[0] & 0x80, b[0] & 0x0F
        check(b[0] & 0x70 == 0, 'server frame with RSV bits: %r' % b[:16])
        check(b[1] & 0x80 == 0, 'server frame is masked: %r' % b[:16])
        n, pos = b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, pos = struct.unpack('>H', b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, pos = struct.unpack('>Q', b[2:10])[0], 10
        if len(b) < pos + n:
            return None
        self.buf = b[pos + n:]
        return bool(fin), op, b[pos:pos + n]

    def expect_close(self, code, timeout=5):
        """The next frame is a Close with code, then the connection ends.
        Data frames before it are not allowed."""
        f = self.read_frame(timeout)
        check(f not in (None, 'eof'),
              'no Close frame (%s); buffered %r' % (f, self.buf[:64]))
        fin, op, p = f
        check(op == 0x8, 'expected a Close frame, got opcode %d payload %r'
              % (op, p[:64]))
        got = struct.unpack('>H', p[:2])[0] if len(p) >= 2 else None
        check(got == code, 'Close code %s (reason %r), expected %d'
              % (got, p[2:], code))
        end = self.read_frame(5)
        check(end == 'eof', 'connection not closed after the Close frame '
              '(got %r)' % (end,))
        return p[2:].decode('utf-8', 'replace')

    # -- MQTT inside binary frames --
    def mqtt_send(self, pkt):
        self.frame(0x2, pkt)

    def mqtt_recv(self, timeout=5):
        """Next MQTT packet (type, flags, body) from binary frames."""
        deadline = time.time() + timeout
        while True:
            p = mqtt_split(self)
            if p is not None:
                return p
            f = self.read_frame(deadline - time.time())
            check(f not in (None, 'eof'), 'no MQTT packet (%s); MQTT bytes '
                  'so far %r' % (f, self.mqtt[:64]))
            fin, op, payload = f
            check(op in (0x2, 0x0), 'unexpected frame opcode %d payload %r'
                  % (op, payload[:64]))
            self.mqtt += payload


def mqtt_split(c):
    b = c.mqtt
    if len(b) < 2:
        return None
    mult, n, i = 1, 0, 1
    while True:
        if i >= len(b):
            return None
        n += (b[i] & 0x7F) * mult
        mult *= 128
        i += 1
        if not b[i - 1] & 0x80:
            break
    if len(b) < i + n:
        return None
    c.mqtt = b[i + n:]
    return b[0] >> 4, b[0] & 0x0F, b[i:i + n]


# ---- MQTT packets -----------------------------------------------------------

def vlen(n):
    out = b''
    while True:
        d = n % 128
        n //= 128
        out += bytes([d | (0x80 if n else 0)])
        if not n:
            return out


def s16(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack('>H', len(b)) + b


def pkt(first, body):
    return bytes([first]) + vlen(len(body)) + body


def connect(cid, version=4, will=None, keepalive=60):
    flags = 0x02
    payload = s16(cid)
    props = b'\x00' if version == 5 else b''
    if will:
        flags |= 0x04 | (1 << 3)  # will, QoS 1
        payload += (b'\x00' if version == 5 else b'') + s16(will[0]) + s16(will[1])
    body = s16('MQTT') + bytes([version, flags]) + struct.pack('>H', keepalive) \
        + props + payload
    return pkt(0x10, body)


def subscribe(pid, topic, qos=1, version=4):
    return pkt(0x82, struct.pack('>H', pid) + (b'\x00' if version == 5 else b'')
               + s16(topic) + bytes([qos]))


def publish(topic, payload, pid=None, version=4):
    body = s16(topic)
    if pid is not None:
        body += struct.pack('>H', pid)
    if version == 5:
        body += b'\x00'
    return pkt(0x32 if pid is not None else 0x30, body + payload)


PINGREQ = b'\xc0\x00'


def expect_connack(c, version=4):
    t, f, body = c.mqtt_recv()
    check(t == 2, 'expected CONNACK, got packet type %d %r' % (t, body))
    check(body[1] == 0, 'CONNACK return code %d' % body[1])


# ---- cases ------------------------------------------------------------------

class Ctx:
    def __init__(self, host, port, ca, akid, secret):
        self.host, self.port, self.ca = host, int(port), ca
        self.akid, self.secret = akid, secret
        self.hh = '%s:%d' % (host, self.port)  # Host header (and signed)

    def conn(self, alpn=None):
        return Conn(self.host, self.port, self.ca, alpn)

    def target(self, **kw):
        kw.setdefault('expires', 86400)
        return presign(self.hh, kw.pop('akid', self.akid),
                       kw.pop('secret', self.secret), **kw)

    def upgrade(self, protocol='mqtt', alpn=None, **kw):
        c = self.conn(alpn)
        st, h, body, head, acc = c.handshake(self.hh, self.target(**kw),
                                             protocol=protocol)
        check(st == 101, 'upgrade refused: %r %r' % (head, body))
        check(h.get('sec-websocket-accept') == [acc],
              'Sec-WebSocket-Accept %r, expected %r' %
              (h.get('sec-websocket-accept'), acc))
        check(h.get('sec-websocket-protocol') == [protocol],
              'Sec-WebSocket-Protocol %r, expected %r' %
              (h.get('sec-websocket-protocol'), protocol))
        check([v.lower() for v in h.get('upgrade', [])] == ['websocket'],
              'Upgrade header %r' % h.get('upgrade'))
        check('upgrade' in ','.join(h.get('connection', [])).lower(),
              'Connection header %r' % h.get('connection'))
        return c


def run(name, fn):
    global failures
    try:
        extra = fn()
        print('ok %s%s' % (name, (' ' + extra) if extra else ''), flush=True)
    except Fail as e:
        failures += 1
        print('FAIL %s: %s' % (name, e), flush=True)
    except Exception as e:  # a crash is a failure of the case too
        failures += 1
        print('FAIL %s: %s: %s' % (name, type(e).__name__, e), flush=True)


def refused(x, target, status, protocol='mqtt', version='13'):
    c = x.conn()
    st, h, body, head, _ = c.handshake(x.hh, target, protocol=protocol,
                                       version=version)
    print('  response: %r body %r' % (head, body), flush=True)
    check(st == status, 'HTTP %d, expected %d' % (st, status))
    check('sec-websocket-accept' not in h, 'a refusal with Sec-WebSocket-Accept')
    check(c.read_frame(0.3) in (None, 'eof'), 'frames after a refusal')
    c.close()
    return h, body


def json_error(body):
    try:
        return json.loads(body.decode())
    except ValueError:
        raise Fail('error body is not JSON: %r' % body)


def mqtt_round(c, cid, version=4):
    c.mqtt_send(connect(cid, version))
    expect_connack(c, version)
    topic = 'raw/' + cid
    c.mqtt_send(subscribe(1, topic, 1, version))
    t, _, body = c.mqtt_recv()
    check(t == 9 and body[:2] == b'\x00\x01', 'expected SUBACK, got %d %r'
          % (t, body))
    msg = b'raw \x00\xff payload'
    c.mqtt_send(publish(topic, msg, 2, version))
    got_ack = got_msg = False
    while not (got_ack and got_msg):
        t, f, body = c.mqtt_recv()
        if t == 4:
            got_ack = True
        elif t == 3:
            tl = struct.unpack('>H', body[:2])[0]
            off = 2 + tl + (2 if f & 0x06 else 0)
            if version == 5:
                off += 1 + body[off]  # property length (< 128 here)
            check(body[2:2 + tl].decode() == topic and body[off:] == msg,
                  'PUBLISH %r' % body)
            if f & 0x06:
                c.mqtt_send(pkt(0x40, body[2 + tl:4 + tl]))
            got_msg = True
        else:
            raise Fail('unexpected packet type %d %r' % (t, body))


def handshakes(x):
    now = datetime.datetime.now(datetime.timezone.utc)

    def good():
        c = x.upgrade()
        mqtt_round(c, 'raw-good')
        c.frame(0x8, struct.pack('>H', 1000))
        c.expect_close(1000)
    run('upgrade mqtt', good)

    def v31():
        c = x.upgrade(protocol='mqttv3.1')
        mqtt_round(c, 'raw-v31')
        c.close()
    run('upgrade mqttv3.1', v31)

    def alpn_http11():
        c = x.upgrade(alpn=['http/1.1'])
        sel = c.s.selected_alpn_protocol()
        check(sel in (None, 'http/1.1'), 'ALPN %r selected' % sel)
        mqtt_round(c, 'raw-alpn-http11')
        c.close()
        return 'selected=%s' % sel
    run('upgrade alpn=http/1.1', alpn_http11)

    def offered_list():
        c = x.conn()
        st, h, body, head, acc = c.handshake(x.hh, x.target(),
                                             protocol='foo, mqtt')
        check(st == 101 and h.get('sec-websocket-protocol') == ['mqtt'],
              '%r %r' % (head, body))
        c.close()
    run('upgrade offered-list', offered_list)

    def iotdata():
        c = x.upgrade(service='iotdata')
        mqtt_round(c, 'raw-iotdata', version=5)
        c.close()
    run('upgrade service=iotdata', iotdata)

    def token():
        c = x.upgrade(token='FQoGZXIvYXdzE//session+token/=')
        c.close()
    run('upgrade session-token', token)

    def old_but_valid():
        c = x.upgrade(when=now - datetime.timedelta(hours=2), expires=86400)
        c.close()
    run('upgrade date-2h-expires-86400', old_but_valid)

    def badsig():
        _, body = refused(x, x.target(secret='x' + x.secret), 403)
        return 'body=' + body.decode('utf-8', 'replace')
    run('refused bad-signature 403', badsig)

    def expired():
        _, body = refused(x, x.target(when=now - datetime.timedelta(hours=2),
                                      expires=60), 403)
        return 'body=' + body.decode('utf-8', 'replace')
    run('refused expired 403', expired)

    def expired_in_skew():
        # 5 min old: inside the 15 min clock skew, past X-Amz-Expires=60
        refused(x, x.target(when=now - datetime.timedelta(minutes=5), expires=60), 403)
    run('refused expires-60-signed-5min-ago 403', expired_in_skew)

    def unsigned():
        _, body = refused(x, '/mqtt', 403)
        return 'body=' + body.decode('utf-8', 'replace')
    run('refused unsigned 403', unsigned)

    def nosub():
        _, body = refused(x, x.target(), 400, protocol=None)
        return 'body=' + body.decode('utf-8', 'replace')
    run('refused no-subprotocol 400', nosub)

    def badsub():
        refused(x, x.target(), 400, protocol='stomp')
    run('refused other-subprotocol 400', badsub)

    def v8():
        h, _ = refused(x, x.target(), 426, version='8')
        check(h.get('sec-websocket-version') == ['13'],
              'Sec-WebSocket-Version %r, expected [13]'
              % h.get('sec-websocket-version'))
    run('refused version-8 426', v8)


def frames(x, maxlen):
    def ping_split_packed():
        c = x.upgrade()
        c.frame(0x9, b'are you there')
        f = c.read_frame(5)
        check(f not in (None, 'eof') and f[1] == 0xA and f[2] == b'are you there',
              'pong %r' % (f,))
        con = connect('raw-frames')
        c.frame(0x2, con[:3])                    # CONNECT over three frames
        c.frame(0x2, con[3:7])
        c.frame(0x2, con[7:])
        expect_connack(c)
        # SUBSCRIBE + PUBLISH packed in one frame, PUBLISH split by a ping
        pub = publish('raw/frames', b'F' * 70000, 2)   # 64-bit lengths
        c.frame(0x2, subscribe(1, 'raw/frames') + pub[:10])
        c.frame(0x2, pub[10:40000], fin=False)          # fragmented message
        c.frame(0x9, b'mid')                            # control in between
        c.frame(0x0, pub[40000:], fin=True)             # continuation
        seen = {}
        deadline = time.time() + 10
        while len(seen) < 3 and time.time() < deadline:
            p = mqtt_split(c)
            if p is None:
                f = c.read_frame(deadline - time.time())
                check(f not in (None, 'eof'), 'stalled: %r' % (f,))
                if f[1] == 0xA:
                    check(f[2] == b'mid', 'pong %r' % (f[2],))
                    seen['pong'] = True
                else:
                    check(f[1] in (0x2, 0x0), 'opcode %d' % f[1])
                    c.mqtt += f[2]
                continue
            t, fl, body = p
            if t == 9:
                seen['suback'] = True
            elif t == 4:
                pass
            elif t == 3:
                tl = struct.unpack('>H', body[:2])[0]
                check(body[2 + tl + 2:] == b'F' * 70000, 'PUBLISH payload of %d'
                      ' bytes' % (len(body) - tl - 4))
                c.mqtt_send(pkt(0x40, body[2 + tl:4 + tl]))
                seen['publish'] = True
        check(len(seen) == 3, 'got only %r' % seen)
        c.frame(0x8, struct.pack('>H', 1000) + b'done')
        c.expect_close(1000)
    run('frames ping-split-packed-fragmented', ping_split_packed)

    def unmasked():
        c = x.upgrade()
        c.mqtt_send(connect('raw-unmasked'))
        expect_connack(c)
        c.frame(0x2, PINGREQ, mask=False)
        why = c.expect_close(1002)
        return 'reason=%r' % why
    run('frames unmasked 1002', unmasked)

    def toobig():
        c = x.upgrade()
        c.mqtt_send(connect('raw-toobig'))
        expect_connack(c)
        # a header declaring 1 MiB and its masking key, and no payload at
        # all: the Close must come without a byte of payload
        c.frame(0x2, b'', declared=1 << 20, mask=True)
        why = c.expect_close(1009)
        return 'reason=%r' % why
    run('frames too-big 1009', toobig)

    def at_max():
        c = x.upgrade()
        c.mqtt_send(connect('raw-atmax'))
        expect_connack(c)
        c.frame(0x2, b'', declared=maxlen, mask=True)
        f = c.read_frame(1.5)
        check(f is None, 'a frame declaring %d bytes (the maximum packet '
              'size) was answered %r' % (maxlen, f))
        c.close()
    run('frames at-max-not-refused', at_max)

    def text():
        c = x.upgrade()
        c.frame(0x1, b'hello')
        why = c.expect_close(1003)
        return 'reason=%r' % why
    run('frames text 1003', text)


def mqtt_session(x, mode, cid, seconds):
    def go():
        version = 5 if mode == 'hold' else 4
        c = x.upgrade()
        c.mqtt_send(connect(cid, version, will=('will/' + cid, b'gone ' + cid.encode())))
        expect_connack(c, version)
        t0 = time.time()
        if mode == 'close':
            c.frame(0x8, struct.pack('>H', 1000) + b'bye')
            c.expect_close(1000)
            return cid
        if mode == 'lost':
            c.s.shutdown(socket.SHUT_RDWR)
            c.close()
            return cid
        # hold: keep the connection busy until the server ends it
        disconnect_rc = close_code = None
        next_ping = time.time()
        while True:
            if time.time() >= next_ping:
                try:
                    c.mqtt_send(PINGREQ)
                except OSError:
                    pass
                next_ping += 0.5
            check(time.time() - t0 < seconds, 'still open after %d s' % seconds)
            f = c.read_frame(0.2)
            if f is None:
                continue
            if f == 'eof':
                break
            fin, op, p = f
            if op == 0x8:
                close_code = struct.unpack('>H', p[:2])[0] if len(p) >= 2 else 1005
                continue
            c.mqtt += p
            while True:
                q = mqtt_split(c)
                if q is None:
                    break
                if q[0] == 14:
                    disconnect_rc = q[2][0] if q[2] else 0
        return '%s after_ms=%d disconnect_rc=%s close_code=%s' % (
            cid, (time.time() - t0) * 1000,
            'none' if disconnect_rc is None else '0x%02x' % disconnect_rc,
            close_code)
    run(mode, go)


def main():
    a = sys.argv[1:]
    if len(a) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    x = Ctx(*a[:5])
    mode = a[5]
    if mode == 'handshakes':
        handshakes(x)
    elif mode == 'frames':
        frames(x, int(a[6]))
    elif mode in ('close', 'lost'):
        mqtt_session(x, mode, a[6], 0)
    elif mode == 'hold':
        mqtt_session(x, mode, a[6], float(a[7]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
