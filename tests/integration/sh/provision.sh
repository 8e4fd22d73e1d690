#!/bin/sh
# provision.sh ENDPOINT_URL OUT_DIR - the README's "Provision with the AWS
# CLI" steps, verbatim apart from the variables: a thing, a certificate and
# key minted by the local CA, an allow-all-for-this-thing policy, both
# attached. Uses Debian's AWS CLI v2 (/usr/bin/aws). Prints the certificate
# ID on the last line.
set -eu
EP=$1
OUT=$2
aws="/usr/bin/aws --endpoint-url $EP --output json --no-cli-pager"
mkdir -p "$OUT"
cd "$OUT"

$aws iot create-thing --thing-name sensor-1 > thing.json
$aws iot create-keys-and-certificate --set-as-active \
    --certificate-pem-outfile certificate.pem.crt \
    --private-key-outfile private.pem.key > cert.json
CERT_ARN=$(python3 -c 'import json;print(json.load(open("cert.json"))["certificateArn"])')
cat > policy.json <<'JSON'
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect",
     "Resource": "arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
     "Resource": "arn:aws:iot:*:*:topic/sensors/${iot:Connection.Thing.ThingName}/*"},
    {"Effect": "Allow", "Action": "iot:Subscribe",
     "Resource": "arn:aws:iot:*:*:topicfilter/sensors/${iot:Connection.Thing.ThingName}/*"}
  ]
}
JSON
$aws iot create-policy --policy-name sensor-policy \
    --policy-document file://policy.json > policy-out.json
$aws iot attach-policy --policy-name sensor-policy --target "$CERT_ARN"
$aws iot attach-thing-principal --thing-name sensor-1 --principal "$CERT_ARN"
curl -sf "$EP/iotcored/root-ca" -o root-ca.pem
$aws iot describe-endpoint --endpoint-type iot:Data-ATS > endpoint.json
python3 -c 'import json;print(json.load(open("cert.json"))["certificateId"])'
