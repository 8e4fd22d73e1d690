#!/usr/bin/python3
"""Integration scenarios driven with Debian's python3-paho-mqtt (1.6).

Usage: scenarios.py NAME PORT
Each scenario asserts what the broker must do and prints "ok NAME" on
success; any failure raises (non-zero exit with a traceback). Every wait has
a deadline, so a scenario always ends by itself.
"""
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

HOST = "127.0.0.1"
DEADLINE_S = 10


class Client:
    """A paho client with blocking helpers: connect, subscribe, wait."""

    def __init__(self, port, client_id, v5=True, clean=True, will=None,
                 props=None):
        self.v5 = v5
        proto = mqtt.MQTTv5 if v5 else mqtt.MQTTv311
        if v5:
            self.c = mqtt.Client(client_id=client_id, protocol=proto)
        else:
            self.c = mqtt.Client(client_id=client_id, protocol=proto,
                                 clean_session=clean)
        self.cv = threading.Condition()
        self.msgs = []
        self.suback = None
        self.connack = None
        self.disconnect_rc = None
        self.pubacks = {}
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.on_disconnect = self._on_disconnect
        self.c.on_publish = self._on_publish
        if will:
            self.c.will_set(*will)
        kw = {}
        if v5:
            kw["clean_start"] = clean
            if props is not None:
                kw["properties"] = props
        self.c.connect(HOST, port, keepalive=60, **kw)
        self.c.loop_start()
        self.wait(lambda: self.connack is not None, "CONNACK")

    def _notify(self):
        with self.cv:
            self.cv.notify_all()

    def _on_connect(self, c, u, flags, rc, props=None):
        self.connack = (flags, rc, props)
        self._notify()

    def _on_message(self, c, u, m):
        self.msgs.append(m)
        self._notify()

    def _on_subscribe(self, c, u, mid, granted, props=None):
        self.suback = granted
        self._notify()

    def _on_disconnect(self, c, u, rc, props=None):
        self.disconnect_rc = rc
        self._notify()

    def _on_publish(self, c, u, mid):
        self.pubacks[mid] = True
        self._notify()

    def wait(self, cond, what):
        end = time.monotonic() + DEADLINE_S
        with self.cv:
            while not cond():
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out waiting for " + what)
                self.cv.wait(left)

    def subscribe(self, topics):
        self.suback = None
        self.c.subscribe(topics)
        self.wait(lambda: self.suback is not None, "SUBACK")
        return self.suback

    def publish(self, topic, payload, qos=0, retain=False, props=None):
        info = self.c.publish(topic, payload, qos=qos, retain=retain,
                              properties=props)
        if qos:
            self.wait(lambda: info.mid in self.pubacks, "PUBACK")
        return info

    def wait_msgs(self, n):
        self.wait(lambda: len(self.msgs) >= n, "%d messages" % n)
        return self.msgs

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def codes(granted):
    """SUBACK codes as ints, for v5 ReasonCodes and v3 ints alike."""
    return [g.value if hasattr(g, "value") else g for g in granted]


def pubsub(port, v5):
    tag = "5" if v5 else "311"
    sub = Client(port, "py-sub-" + tag, v5=v5)
    assert codes(sub.subscribe([("py/" + tag, 1)])) == [1]
    pub = Client(port, "py-pub-" + tag, v5=v5)
    pub.publish("py/" + tag, b"m0", qos=0)
    pub.publish("py/" + tag, b"m1", qos=1)
    got = sub.wait_msgs(2)
    assert [(m.topic, m.payload, m.qos, m.retain) for m in got] == [
        ("py/" + tag, b"m0", 0, 0), ("py/" + tag, b"m1", 1, 0)], got
    pub.close()
    sub.close()


def s_pubsub311(port):
    pubsub(port, False)


def s_pubsub5(port):
    pubsub(port, True)


def s_cross_version(port):
    sub5 = Client(port, "py-x5", v5=True)
    sub3 = Client(port, "py-x3", v5=False)
    sub5.subscribe([("x/v", 1)])
    sub3.subscribe([("x/v", 1)])
    pub3 = Client(port, "py-xp3", v5=False)
    pub3.publish("x/v", b"from3", qos=1)
    pub5 = Client(port, "py-xp5", v5=True)
    pub5.publish("x/v", b"from5", qos=1)
    for s in (sub5, sub3):
        got = [m.payload for m in s.wait_msgs(2)]
        assert got == [b"from3", b"from5"], got
    for c in (sub5, sub3, pub3, pub5):
        c.close()


def s_takeover(port):
    watcher = Client(port, "py-watch")
    watcher.subscribe([("will/dup", 1)])
    a = Client(port, "dup", will=("will/dup", b"gone", 1, False))
    b = Client(port, "dup")
    a.wait(lambda: a.disconnect_rc is not None, "takeover DISCONNECT")
    # MQTT 5 DISCONNECT 0x8E Session taken over
    assert a.disconnect_rc == 142, a.disconnect_rc
    got = watcher.wait_msgs(1)
    assert (got[0].topic, got[0].payload) == ("will/dup", b"gone"), got
    a.c.loop_stop()
    b.close()
    watcher.close()


def s_shared(port):
    m1 = Client(port, "py-sh1")
    m2 = Client(port, "py-sh2")
    plain = Client(port, "py-plain")
    assert codes(m1.subscribe([("$share/g/sh/t", 1)])) == [1]
    assert codes(m2.subscribe([("$share/g/sh/t", 1)])) == [1]
    plain.subscribe([("sh/t", 1)])
    pub = Client(port, "py-shp")
    for i in range(10):
        pub.publish("sh/t", b"%d" % i, qos=1)
    plain.wait_msgs(10)
    m1.wait(lambda: len(m1.msgs) + len(m2.msgs) >= 10, "shared deliveries")
    # round robin among online members: 5 each, every message once
    assert len(m1.msgs) == 5 and len(m2.msgs) == 5, (len(m1.msgs), len(m2.msgs))
    seen = sorted(int(m.payload) for m in m1.msgs + m2.msgs)
    assert seen == list(range(10)), seen
    for c in (m1, m2, plain, pub):
        c.close()


def s_properties(port):
    sub = Client(port, "py-props")
    sub.subscribe([("p/t", 1)])
    pub = Client(port, "py-propsp")
    props = Properties(PacketTypes.PUBLISH)
    props.MessageExpiryInterval = 60
    props.ContentType = "application/json"
    props.ResponseTopic = "p/reply"
    props.CorrelationData = b"\x00\x01corr"
    props.PayloadFormatIndicator = 1
    props.UserProperty = [("k1", "v1"), ("k2", "v2"), ("k1", "v3")]
    pub.publish("p/t", b'{"a":1}', qos=1, props=props)
    m = sub.wait_msgs(1)[0]
    p = m.properties
    assert 58 <= p.MessageExpiryInterval <= 60, p.MessageExpiryInterval
    assert p.ContentType == "application/json"
    assert p.ResponseTopic == "p/reply"
    assert p.CorrelationData == b"\x00\x01corr"
    assert p.PayloadFormatIndicator == 1
    # user properties forwarded in order (AWS 5.8)
    assert p.UserProperty == [("k1", "v1"), ("k2", "v2"), ("k1", "v3")], \
        p.UserProperty
    pub.close()
    sub.close()


def s_qos2_publish(port):
    c = Client(port, "py-q2")
    c.c.publish("q2/t", b"x", qos=2)
    c.wait(lambda: c.disconnect_rc is not None, "DISCONNECT")
    assert c.disconnect_rc == 155, c.disconnect_rc  # 0x9B QoS not supported
    c.c.loop_stop()


def s_nine_filters(port):
    for v5 in (True, False):
        c = Client(port, "py-nine-%d" % v5, v5=v5)
        got = codes(c.subscribe([("f/%d" % i, 1) for i in range(9)]))
        want = [1] * 8 + [0x97 if v5 else 0x80]
        assert got == want, got
        c.close()


def s_connack_v5(port):
    c = Client(port, "py-connack")
    flags, rc, p = c.connack
    assert p.MaximumQoS == 1 and p.RetainAvailable == 1
    assert p.TopicAliasMaximum == 8 and p.ReceiveMaximum == 100
    assert p.WildcardSubscriptionAvailable == 1
    assert p.SubscriptionIdentifierAvailable == 0
    assert p.SharedSubscriptionAvailable == 1
    assert p.MaximumPacketSize == 146 * 1024
    c.close()




def s_tls_pubsub(port):
    """paho over mutual TLS: certificates from $IOTCORED_PKI."""
    import os
    pki = os.environ["IOTCORED_PKI"]
    got = threading.Event()
    msgs = []
    c = mqtt.Client("py-tls", protocol=mqtt.MQTTv311)
    c.tls_set(ca_certs=pki + "/root.pem", certfile=pki + "/device.pem",
              keyfile=pki + "/device.key")  # verification stays on
    c.on_connect = lambda c, u, f, rc: c.subscribe("tls/py", 1)
    c.on_subscribe = lambda c, u, m, g: c.publish("tls/py", b"paho over mTLS", qos=1)
    c.on_message = lambda c, u, m: (msgs.append(m.payload), got.set())
    c.connect("localhost", port)
    c.loop_start()
    assert got.wait(DEADLINE_S), "no message over TLS"
    assert msgs == [b"paho over mTLS"], msgs
    c.disconnect()
    c.loop_stop()


SCENARIOS = {k[2:]: v for k, v in globals().items() if k.startswith("s_")}

if __name__ == "__main__":
    name, port = sys.argv[1], int(sys.argv[2])
    SCENARIOS[name](port)
    print("ok " + name)
