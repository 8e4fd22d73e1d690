#!/bin/sh
# dev-device.sh [NAME] - make (once) a device certificate signed by the
# local CA of `make run` (run/ca.pem, run/ca.key), register it ACTIVE in the
# broker's registry with a thing of the same name attached, and print
# mosquitto commands that connect with it over mutual TLS on 8883.
set -eu
cd "$(dirname "$0")/.."
name=${1:-device-1}
dir=run/devices
[ -f run/ca.key ] || build/iotcored --make-ca -c conf/iotcored.dev.conf >/dev/null
mkdir -p "$dir"
if [ ! -f "$dir/$name.pem" ]; then
    (umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$dir/$name.key" 2>/dev/null)
    openssl req -new -key "$dir/$name.key" -subj "/CN=$name" -out "$dir/$name.csr"
    openssl x509 -req -in "$dir/$name.csr" -CA run/ca.pem -CAkey run/ca.key \
        -CAcreateserial -days 365 -sha256 -out "$dir/$name.pem" 2>/dev/null
    rm -f "$dir/$name.csr" run/ca.srl
fi
# register it ACTIVE (cert_auth registry, as AWS); a running broker reloads
# its registry on SIGHUP
# and make a thing of the same name with the certificate attached, so the
# connection (client ID = thing name) is associated with it
if build/iotcored --register-cert "$dir/$name.pem" -c conf/iotcored.dev.conf >/dev/null 2>&1; then
    build/iotcored --create-thing "$name" "$dir/$name.pem" -c conf/iotcored.dev.conf >/dev/null
    pkill -HUP -f "build/iotcored -c conf/iotcored.dev.conf" 2>/dev/null || true
fi
id=$(openssl x509 -in "$dir/$name.pem" -outform DER | sha256sum | cut -c1-64)
tls="-h localhost -p 8883 --cafile run/ca.pem --cert $dir/$name.pem --key $dir/$name.key"
cat <<TXT
certificate ID: $id
subscribe: mosquitto_sub $tls -i $name-sub -t 'devices/#' -v
publish:   mosquitto_pub $tls -i $name -t devices/$name -m hello
TXT
