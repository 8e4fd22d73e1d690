#!/bin/sh
# dev-device.sh [NAME] - with `make run` going: make a thing NAME, a
# certificate and key minted by the broker's local CA (in run/devices/NAME/),
# attach it and the demo allow-all policy, through the control plane with
# iotctl; print the mosquitto commands that connect with it over mTLS on 8883.
set -eu
cd "$(dirname "$0")/.."
name=${1:-device-1}
dir=run/devices/$name
export IOTCTL_ENDPOINT=${IOTCTL_ENDPOINT:-http://127.0.0.1:8080}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-AKIAIOSFODNN7EXAMPLE}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY}
mkdir -p run/devices
if [ ! -f "$dir/certificate.pem.crt" ]; then
    build/iotctl thing create "$name" >/dev/null
    build/iotctl cert create --thing "$name" --policy demo-allow-all --out "$dir" >/dev/null
fi
tls="-h localhost -p 8883 --cafile $dir/root-ca.pem --cert $dir/certificate.pem.crt --key $dir/private.pem.key"
cat <<TXT
subscribe: mosquitto_sub $tls -i $name-sub -t 'devices/#' -v
publish:   mosquitto_pub $tls -i $name -t devices/$name -m hello
TXT
