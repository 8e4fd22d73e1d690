#!/bin/sh
# run-dev.sh - what `make run` does: run the broker in the foreground with
# conf/iotcored.dev.conf. On first start it makes the local CA (run/ca.pem)
# and, from conf/seed.dev.json, a demo thing with an allow-all policy and a
# certificate in run/demo/; this prints the commands that use them.
set -eu
cd "$(dirname "$0")/.."
conf=conf/iotcored.dev.conf
build/iotcored --make-ca -c "$conf" >/dev/null
tls="-h localhost -p 8883 --cafile run/demo/root-ca.pem --cert run/demo/certificate.pem.crt --key run/demo/private.pem.key"
cat <<TXT
== iotcored dev broker: MQTT over mutual TLS on localhost:8883, plaintext MQTT
   on 127.0.0.1:1883, MQTT or HTTPS by ALPN on localhost:4443 (AWS's 443),
   the data-plane REST API with client certificates on localhost:8443, the
   AWS IoT control-plane API on http://127.0.0.1:8080
== the demo device (thing "demo", policy demo-allow-all) is in run/demo/:
   mosquitto_sub $tls -i demo-sub -t 'demo/#' -v
   mosquitto_pub $tls -i demo -t demo/hello -m hello
== the AWS CLI (the dev config's well-known example credentials):
   export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_DEFAULT_REGION=us-east-1
   export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
   aws --endpoint-url http://127.0.0.1:8080 iot list-things
   aws --endpoint-url https://localhost:4443 --ca-bundle run/demo/root-ca.pem \
       iot-data get-thing-shadow --thing-name demo /dev/stdout
== the demo device's shadow over HTTPS with its certificate:
   curl --cacert run/demo/root-ca.pem --cert run/demo/certificate.pem.crt \
       --key run/demo/private.pem.key https://localhost:8443/things/demo/shadow \
       -d '{"state":{"reported":{"on":true}}}'
== Ctrl-C stops the broker
TXT
exec build/iotcored -c "$conf"
