#!/usr/bin/env python3
"""bench-tls-idle.py - broker memory per idle mutual-TLS MQTT connection.

Starts build/iotcored with a fresh test PKI (scripts/gen-certs.sh), opens N
mTLS connections that each complete an MQTT 3.1.1 CONNECT/CONNACK (server
verification on), then reads the broker's RSS from /proc and prints RSS per
connection. A measurement, not a test: the figure goes in the README.

usage: bench-tls-idle.py [N]   (default 1000)
"""
import os
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def connect_packet(client_id):
    cid = client_id.encode()
    var = b"\x00\x04MQTT\x04\x02\x01\x2c"  # clean session, keepalive 300
    body = var + len(cid).to_bytes(2, "big") + cid
    return bytes([0x10, len(body)]) + body


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, N + 1024), hard))
    work = tempfile.mkdtemp(prefix="iotcored-tlsbench-")
    pki = os.path.join(work, "pki")
    subprocess.run(["sh", os.path.join(ROOT, "scripts/gen-certs.sh"), pki], check=True)
    conf = os.path.join(work, "iotcored.conf")
    seed = os.path.join(work, "seed.json")
    with open(seed, "w") as f:  # policies are enforced: an explicit allow-all
        f.write('{"policies":[{"name":"allow-all","document":{"Version":'
                '"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*",'
                '"Resource":"*"}]}}]}')
    with open(conf, "w") as f:
        f.write("data_dir %s/data\nlog_level warning\nlog_file %s/log\n"
                "connect_rate_limit 0\ncert_auth ca\ntls_cert %s/server-chain.pem\n"
                "tls_key %s/server.key\ntls_ca %s/ca-bundle.pem\nseed %s\n"
                "listener mqtts\n  bind 127.0.0.1\n  port 0\n  tls mutual\n"
                "  listener_policy allow-all\n"
                % (work, work, pki, pki, pki, seed))
    ready = os.path.join(work, "ready")
    env = dict(os.environ, IOTCORED_READY_FILE=ready)
    broker = subprocess.Popen([os.path.join(ROOT, "build/iotcored"), "-c", conf], env=env)
    try:
        for _ in range(200):
            if os.path.exists(ready):
                break
            time.sleep(0.05)
        port = int(open(ready).read().split()[1])
        ctx = ssl.create_default_context(cafile=pki + "/root.pem")
        ctx.load_cert_chain(pki + "/device.pem", pki + "/device.key")
        before = rss_kb(broker.pid)
        conns = []
        for i in range(N):
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                                server_hostname="localhost")
            s.sendall(connect_packet("idle-%d" % i))
            ack = s.recv(4)
            assert ack[:1] == b"\x20" and ack[3:4] == b"\x00", ack
            conns.append(s)
        time.sleep(1)  # let the broker settle before reading RSS
        after = rss_kb(broker.pid)
        per = (after - before) * 1024 / N
        print("idle mTLS connections: %d, broker RSS %d kB -> %d kB, %.0f bytes/connection"
              % (N, before, after, per))
        for s in conns:
            s.close()
    finally:
        broker.terminate()
        broker.wait(10)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
