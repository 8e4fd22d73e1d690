#!/bin/sh
# roundtrip.sh - the example test of docker/compose.yml, run in the test
# container: wait until the broker answers, ask its control plane for the
# device endpoint, then subscribe and publish over MQTT with mutual TLS
# (server verification on) using the certificate the seed generated into the
# shared volume. Exit 0 only if the message came back.
#
# Environment: IOT_ENDPOINT (broker host, default: what DescribeEndpoint
# answers), AWS_ENDPOINT_URL (control plane, default http://iotcored:8080),
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION,
# DEVICE_DIR (default /devices/sensor-1), WAIT_SECONDS (default 60).
set -eu

control=${AWS_ENDPOINT_URL:-http://iotcored:8080}
region=${AWS_DEFAULT_REGION:-us-east-1}
dev=${DEVICE_DIR:-/devices/sensor-1}
deadline=$(($(date +%s) + ${WAIT_SECONDS:-60}))

say() { echo "roundtrip: $*"; }
# A control-plane request signed with SigV4 (curl does the signing).
api() {
    curl -fsS --max-time 5 --aws-sigv4 "aws:amz:$region:iot" \
        -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$control$1"
}

# 1. The broker is up: the check of its HEALTHCHECK (`iotctl status`, GET
#    /iotcored/status). With Docker, depends_on: service_healthy has waited
#    already; podman-compose does not wait, so poll here in any case. The
#    seed (and its certificate files) is applied before the listeners open.
until api /iotcored/status >/dev/null 2>&1 && [ -r "$dev/private.pem.key" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { say "broker not up after ${WAIT_SECONDS:-60}s"; exit 1; }
    sleep 1
done
say "broker up at $control"

# 2. Where devices connect, as a device's provisioning would ask for it.
host=${IOT_ENDPOINT:-$(api '/endpoint?endpointType=iot:Data-ATS' |
    sed -n 's/.*"endpointAddress" *: *"\([^"]*\)".*/\1/p')}
[ -n "$host" ] || { say "no endpoint address"; exit 1; }
say "endpoint $host, thing: $(api /things/sensor-1)"

# 3. The round trip: mutual TLS on 8883, verified against the local root CA.
tls="-h $host -p 8883 --cafile $dev/root-ca.pem --cert $dev/certificate.pem.crt --key $dev/private.pem.key"
topic=sensors/sensor-1/ci
msg="hello from CI $(date +%s)-$$"
out=$(mktemp)
# shellcheck disable=SC2086
mosquitto_sub $tls -i sensor-1-sub -t "$topic" -q 1 -C 1 -W 20 >"$out" &
sub=$!
# Publish until the subscriber has the message (its SUBSCRIBE may arrive
# after the first PUBLISH), at most one CONNECT per second for the client ID:
# as AWS IoT Core, the broker refuses faster reconnects (connect_rate_limit).
n=0
while kill -0 "$sub" 2>/dev/null && [ "$n" -lt 12 ]; do
    # shellcheck disable=SC2086
    mosquitto_pub $tls -i sensor-1 -t "$topic" -q 1 -m "$msg" || say "publish failed (retrying)"
    n=$((n + 1))
    sleep 1.5
done
rc=0
wait "$sub" || rc=$?
got=$(cat "$out")
if [ "$rc" -ne 0 ] || [ "$got" != "$msg" ]; then
    say "FAILED: subscriber exit $rc, received '$got', expected '$msg'"
    exit 1
fi
say "ok: '$got' round-tripped over mTLS via $host:8883"
