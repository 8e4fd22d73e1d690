#!/bin/sh
# run-dev.sh - what `make run` does: make the local CA and a demo device
# certificate on first run (kept in ./run), print the commands that connect
# with it, then run the broker in the foreground with conf/iotcored.dev.conf.
set -eu
cd "$(dirname "$0")/.."
conf=conf/iotcored.dev.conf
build/iotcored --make-ca -c "$conf" >/dev/null
echo "== iotcored dev broker: MQTT over mutual TLS on localhost:8883, plaintext on 127.0.0.1:1883"
echo "== devices trust run/ca.pem; a demo device certificate is in run/devices/:"
sh scripts/dev-device.sh demo | sed 's/^/   /'
echo "== Ctrl-C stops the broker"
exec build/iotcored -c "$conf"
