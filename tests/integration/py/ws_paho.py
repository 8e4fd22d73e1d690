#!/usr/bin/python3
"""ws_paho.py - Debian's python3-paho-mqtt (1.6.1) over wss:// against
iotcored, as a Python device would reach AWS IoT Core with SigV4: the
presigned path (service iotdevicegateway, only host signed) is given to
ws_set_options(path=...), TLS trusts the test CA.

  /usr/bin/python3 ws_paho.py HOST PORT CA ACCESS_KEY SECRET CLIENT_ID [3|5]

Connects as CLIENT_ID (MQTT 3.1.1 unless 5), subscribes to paho/CLIENT_ID
at QoS 1, publishes two QoS 1 messages there (a short one with bytes
outside ASCII and 100 000 bytes: 64-bit WebSocket frame lengths both
ways), checks that exactly those payloads come back and disconnects.
Prints "ok STEP" per step and "ok ws_paho CLIENT_ID"; exit 0 only then,
1 with "FAIL STEP: why" otherwise (20 s bound).
"""
import datetime
import hashlib
import hmac
import queue
import ssl
import sys
import threading
import urllib.parse

import paho.mqtt.client as mqtt

REGION = 'us-east-1'


def presign(host_hdr, akid, secret, path='/mqtt', service='iotdevicegateway'):
    amz = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
    date = amz[:8]
    scope = '%s/%s/%s/aws4_request' % (date, REGION, service)
    q = {'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
         'X-Amz-Credential': '%s/%s' % (akid, scope),
         'X-Amz-Date': amz, 'X-Amz-Expires': '86400',
         'X-Amz-SignedHeaders': 'host'}
    enc = lambda s: urllib.parse.quote(s, safe='-_.~')
    cq = '&'.join('%s=%s' % (enc(k), enc(v)) for k, v in sorted(q.items()))
    canon = '\n'.join(['GET', path, cq, 'host:' + host_hdr.lower(), '', 'host',
                       hashlib.sha256(b'').hexdigest()])
    sts = '\n'.join(['AWS4-HMAC-SHA256', amz, scope,
                     hashlib.sha256(canon.encode()).hexdigest()])
    k = ('AWS4' + secret).encode()
    for part in (date, REGION, service, 'aws4_request'):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return '%s?%s&X-Amz-Signature=%s' % (
        path, cq, hmac.new(k, sts.encode(), hashlib.sha256).hexdigest())


step = 'connect'


def fail(why):
    print('FAIL %s: %s' % (step, why), flush=True)
    sys.exit(1)


def main():
    global step
    if len(sys.argv) not in (7, 8):
        print(__doc__, file=sys.stderr)
        return 2
    host, port, ca, akid, secret, cid = sys.argv[1:7]
    port = int(port)
    v5 = len(sys.argv) == 8 and sys.argv[7] == '5'
    topic = 'paho/' + cid
    watchdog = threading.Timer(20, lambda: (print('FAIL %s: timeout' % step, flush=True),
                                            __import__('os')._exit(3)))
    watchdog.daemon = True
    watchdog.start()

    events = queue.Queue()
    c = mqtt.Client(client_id=cid, transport='websockets',
                    protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
                    **({} if v5 else {'clean_session': True}))
    # paho sends "Host: HOST:PORT": that is what gets signed
    c.ws_set_options(path=presign('%s:%d' % (host, port), akid, secret))
    c.tls_set(ca_certs=ca, cert_reqs=ssl.CERT_REQUIRED)

    def on_connect(cl, ud, flags, rc, props=None):
        events.put(('connack', rc))

    def on_disconnect(cl, ud, rc, props=None):
        events.put(('disconnect', rc))

    c.on_connect = on_connect
    c.on_disconnect = on_disconnect
    c.on_subscribe = lambda cl, ud, mid, granted, props=None: events.put(('suback', mid, granted))
    c.on_publish = lambda cl, ud, mid: events.put(('puback', mid))
    c.on_message = lambda cl, ud, m: events.put(('message', m.topic, bytes(m.payload), m.qos))

    def wait(kind):
        while True:
            try:
                e = events.get(timeout=10)
            except queue.Empty:
                fail('no %s' % kind)
            if e[0] == kind:
                return e
            if e[0] == 'disconnect':
                fail('disconnected (rc %s) while waiting for %s' % (e[1], kind))
            if e[0] == 'connack':
                fail('unexpected CONNACK %r' % (e,))

    try:
        c.connect(host, port, keepalive=60)
    except Exception as e:  # the upgrade refused, TLS failure...
        fail('%s: %s' % (type(e).__name__, e))
    c.loop_start()
    e = wait('connack')
    if e[1] != 0:
        fail('CONNACK %s' % e[1])
    print('ok connect', flush=True)

    step = 'subscribe'
    rc, mid = c.subscribe(topic, qos=1)
    e = wait('suback')
    granted = e[2][0]
    granted = granted.value if hasattr(granted, 'value') else granted
    if e[1] != mid or granted != 1:
        fail('SUBACK %r' % (e,))
    print('ok subscribe', flush=True)

    big = bytes((i * 11 + 5) & 0xFF for i in range(100000))
    for name, payload in (('publish short', ('hello from paho \u00e9\u2713 ' + cid).encode()
                           + b'\x00\xff'),
                          ('publish 100000 bytes', big)):
        step = name
        info = c.publish(topic, payload, qos=1)
        got = {}
        while len(got) < 2:
            try:
                e = events.get(timeout=10)
            except queue.Empty:
                fail('no %s' % ' and '.join(k for k in ('puback', 'message')
                                            if k not in got))
            if e[0] == 'puback' and e[1] == info.mid:
                got['puback'] = True
            elif e[0] == 'message':
                if e[1] != topic or e[2] != payload or e[3] != 1:
                    fail('message on %s (QoS %d) of %d bytes, expected %d bytes on %s'
                         % (e[1], e[3], len(e[2]), len(payload), topic))
                got['message'] = True
            elif e[0] == 'disconnect':
                fail('disconnected (rc %s)' % e[1])
        print('ok %s' % name, flush=True)

    step = 'disconnect'
    c.disconnect()
    wait('disconnect')
    c.loop_stop()
    print('ok ws_paho %s' % cid, flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
