#!/bin/sh
# control_cli.sh - the AWS IoT control plane of iotcored through Debian's AWS
# CLI v2 (/usr/bin/aws, which scopes `aws iot` signatures to execute-api).
#
#     sh control_cli.sh ENDPOINT_URL
#
# Credentials come from the environment (AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY; AWS_DEFAULT_REGION defaults to us-east-1); no config
# or credentials file is read. A representative subset of every area: things,
# types, groups, certificates, policies, principals, the endpoint, the
# registration code, and errors as the CLI shows them (exit status 254,
# "An error occurred (Type) when calling the Op operation: message").
# Prints "FAIL cli: ..." and exits 1 on failure, "ok cli N" on success.
set -u

URL=${1:-}
[ -n "$URL" ] || { echo "usage: sh control_cli.sh ENDPOINT_URL" >&2; exit 2; }
AWS=${AWS_CLI:-/usr/bin/aws}
[ -x "$AWS" ] || { echo "FAIL cli: $AWS is not installed (Debian package awscli)"; exit 1; }
: "${AWS_ACCESS_KEY_ID:?AWS_ACCESS_KEY_ID must be set}"
: "${AWS_SECRET_ACCESS_KEY:?AWS_SECRET_ACCESS_KEY must be set}"
AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
AWS_CONFIG_FILE=/dev/null
AWS_SHARED_CREDENTIALS_FILE=/dev/null
AWS_PAGER=
export AWS_DEFAULT_REGION AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_PAGER
unset AWS_PROFILE AWS_SESSION_TOKEN 2>/dev/null || true

ARN="arn:aws:iot:us-east-1:123456789012"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
TAG="cli-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
N=0

fail() {
    echo "FAIL cli: $*"
    exit 1
}

# iot ARGS...: run `aws iot ARGS`, stdout in $TMP/out, stderr in $TMP/err,
# exit status in RC.
iot() {
    "$AWS" iot "$@" --endpoint-url "$URL" --output json --no-cli-pager \
        >"$TMP/out" 2>"$TMP/err"
    RC=$?
}

# ok ARGS...: the command must succeed.
ok() {
    iot "$@"
    [ "$RC" -eq 0 ] || fail "aws iot $* exited $RC: $(cat "$TMP/err")"
    N=$((N + 1))
}

# json EXPR: evaluate a Python expression over o, the last output's JSON.
json() {
    python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (list, dict, bool)) or v is None else v)' \
        "$TMP/out" "$1" || fail "cannot evaluate $1 over: $(cat "$TMP/out")"
}

# expect WHAT EXPECTED ACTUAL
expect() {
    [ "$2" = "$3" ] || fail "$1
  expected: $2
  actual:   $3"
    N=$((N + 1))
}

# refused TYPE MESSAGE ARGS...: the command must exit 254 with the CLI's text
# for that AWS error on stderr.
refused() {
    etype=$1 msg=$2
    shift 2
    iot "$@"
    expect "aws iot $1: exit status of a refused request" 254 "$RC"
    grep -q "An error occurred ($etype) when calling the [A-Za-z]* operation: " "$TMP/err" ||
        fail "aws iot $*: stderr names $etype
  actual: $(cat "$TMP/err")"
    if [ -n "$msg" ]; then
        grep -qF -- "$msg" "$TMP/err" || fail "aws iot $*: stderr carries the message
  expected: $msg
  actual:   $(cat "$TMP/err")"
    fi
    N=$((N + 1))
}

T="$TAG-thing" TT="$TAG-type" G="$TAG-group" P="$TAG-policy"

# ---- things ------------------------------------------------------------------------
ok create-thing --thing-name "$T" --attribute-payload '{"attributes":{"color":"red"}}'
expect "create-thing thingArn" "$ARN:thing/$T" "$(json 'o["thingArn"]')"
THING_ID=$(json 'o["thingId"]')
ok describe-thing --thing-name "$T"
expect "describe-thing" "$T $THING_ID red 1" \
    "$(json '" ".join([o["thingName"], o["thingId"], o["attributes"]["color"], str(o["version"])])')"
ok update-thing --thing-name "$T" --attribute-payload '{"attributes":{"size":"L"},"merge":true}'
ok describe-thing --thing-name "$T"
expect "update-thing merged the attributes" '{"color": "red", "size": "L"} 2' \
    "$(json 'json.dumps(o["attributes"], sort_keys=True) + " " + str(o["version"])')"
ok list-things --attribute-name color --attribute-value red --page-size 1
expect "list-things (CLI paging, page size 1) finds the thing" true \
    "$(json '"'"$T"'" in [x["thingName"] for x in o["things"]]')"
refused ResourceNotFoundException "Thing $TAG-nope cannot be found." \
    describe-thing --thing-name "$TAG-nope"
refused InvalidRequestException \
    "1 validation error detected: Value '$TAG!bad' at 'thingName' failed to satisfy constraint" \
    create-thing --thing-name "$TAG!bad"

# ---- thing types ----------------------------------------------------------------------
ok create-thing-type --thing-type-name "$TT" \
    --thing-type-properties "thingTypeDescription=made by the CLI,searchableAttributes=color,size"
expect "create-thing-type thingTypeArn" "$ARN:thingtype/$TT" "$(json 'o["thingTypeArn"]')"
ok describe-thing-type --thing-type-name "$TT"
expect "describe-thing-type properties" '["made by the CLI", ["color", "size"], false]' \
    "$(json '[o["thingTypeProperties"]["thingTypeDescription"], o["thingTypeProperties"]["searchableAttributes"], o["thingTypeMetadata"]["deprecated"]]')"
ok update-thing --thing-name "$T" --thing-type-name "$TT"
ok list-things --thing-type-name "$TT"
expect "list-things --thing-type-name" "[\"$T\"]" "$(json '[x["thingName"] for x in o["things"]]')"

# ---- thing groups ----------------------------------------------------------------------
ok create-thing-group --thing-group-name "$G" \
    --thing-group-properties '{"thingGroupDescription":"made by the CLI"}'
expect "create-thing-group thingGroupArn" "$ARN:thinggroup/$G" "$(json 'o["thingGroupArn"]')"
ok add-thing-to-thing-group --thing-group-name "$G" --thing-name "$T"
ok list-things-in-thing-group --thing-group-name "$G"
expect "list-things-in-thing-group" "[\"$T\"]" "$(json 'o["things"]')"
ok list-thing-groups-for-thing --thing-name "$T"
expect "list-thing-groups-for-thing" "[\"$ARN:thinggroup/$G\"]" \
    "$(json '[x["groupArn"] for x in o["thingGroups"]]')"

# ---- certificates ----------------------------------------------------------------------
ok create-keys-and-certificate --set-as-active
CERT_ARN=$(json 'o["certificateArn"]')
CERT_ID=$(json 'o["certificateId"]')
expect "create-keys-and-certificate certificateArn" "$ARN:cert/$CERT_ID" "$CERT_ARN"
expect "create-keys-and-certificate certificateId: 64 hex digits" 64 \
    "$(printf %s "$CERT_ID" | tr -cd 0-9a-f | wc -c | tr -d ' ')"
expect "create-keys-and-certificate keyPair" '["PrivateKey", "PublicKey"]' "$(json 'sorted(o["keyPair"])')"
ok describe-certificate --certificate-id "$CERT_ID"
expect "describe-certificate status" ACTIVE "$(json 'o["certificateDescription"]["status"]')"
ok list-certificates --page-size 2
expect "list-certificates (CLI paging) lists the certificate" true \
    "$(json '"'"$CERT_ID"'" in [x["certificateId"] for x in o["certificates"]]')"

# ---- policies --------------------------------------------------------------------------
cat >"$TMP/policy.json" <<EOF
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "$ARN:client/$T"}]}
EOF
ok create-policy --policy-name "$P" --policy-document "file://$TMP/policy.json"
expect "create-policy" "$P $ARN:policy/$P 1" \
    "$(json '" ".join([o["policyName"], o["policyArn"], o["policyVersionId"]])')"
ok get-policy --policy-name "$P"
expect "get-policy keeps the document" "$(python3 -c 'import sys; print(open(sys.argv[1]).read().strip())' "$TMP/policy.json")" \
    "$(json 'o["policyDocument"].strip()')"
refused ResourceAlreadyExistsException "Policy cannot be created - name already exists (name=$P)" \
    create-policy --policy-name "$P" --policy-document "file://$TMP/policy.json"
ok attach-policy --policy-name "$P" --target "$CERT_ARN"
ok list-attached-policies --target "$CERT_ARN"
expect "list-attached-policies" "[\"$P\"]" "$(json '[x["policyName"] for x in o["policies"]]')"
ok list-targets-for-policy --policy-name "$P"
expect "list-targets-for-policy" "[\"$CERT_ARN\"]" "$(json 'o["targets"]')"

# ---- principals ------------------------------------------------------------------------
ok attach-thing-principal --thing-name "$T" --principal "$CERT_ARN"
ok list-thing-principals --thing-name "$T"
expect "list-thing-principals" "[\"$CERT_ARN\"]" "$(json 'o["principals"]')"
ok list-principal-things --principal "$CERT_ARN"
expect "list-principal-things" "[\"$T\"]" "$(json 'o["things"]')"

# ---- certificate life cycle and its errors ----------------------------------------------
refused CertificateStateException \
    "Certificate must be deactivated (not ACTIVE) before deletion. Id: $CERT_ID" \
    delete-certificate --certificate-id "$CERT_ID"
ok update-certificate --certificate-id "$CERT_ID" --new-status INACTIVE
ok describe-certificate --certificate-id "$CERT_ID"
expect "update-certificate --new-status INACTIVE" INACTIVE \
    "$(json 'o["certificateDescription"]["status"]')"
refused DeleteConflictException "Things must be detached before deletion (arn: $CERT_ARN)" \
    delete-certificate --certificate-id "$CERT_ID"
ok detach-thing-principal --thing-name "$T" --principal "$CERT_ARN"
refused DeleteConflictException \
    "Certificate policies must be detached before deletion (arn: $CERT_ARN)" \
    delete-certificate --certificate-id "$CERT_ID"
refused DeleteConflictException \
    "The policy cannot be deleted as the policy is attached to one or more principals (name=$P)" \
    delete-policy --policy-name "$P"
ok detach-policy --policy-name "$P" --target "$CERT_ARN"
ok delete-certificate --certificate-id "$CERT_ID"
ok delete-policy --policy-name "$P"

# ---- endpoint, registration code ----------------------------------------------------------
ok describe-endpoint --endpoint-type iot:Data-ATS
EP=$(json 'o["endpointAddress"]')
[ -n "$EP" ] || fail "describe-endpoint --endpoint-type iot:Data-ATS: an endpointAddress"
ok get-registration-code
expect "get-registration-code: 64 hex digits" 64 \
    "$(json 'o["registrationCode"]' | tr -cd 0-9a-f | wc -c | tr -d ' ')"

# ---- clean up ---------------------------------------------------------------------------
ok remove-thing-from-thing-group --thing-group-name "$G" --thing-name "$T"
ok delete-thing --thing-name "$T"
ok delete-thing-group --thing-group-name "$G"
ok deprecate-thing-type --thing-type-name "$TT"
ok delete-thing-type --thing-type-name "$TT"

# ---- credentials the server does not know -------------------------------------------------
KEY=$AWS_ACCESS_KEY_ID SECRET=$AWS_SECRET_ACCESS_KEY
AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000000
refused UnrecognizedClientException \
    "The security token included in the request is invalid." list-things
AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=wrong-secret
refused InvalidSignatureException \
    "The request signature we calculated does not match" list-things
AWS_SECRET_ACCESS_KEY=$SECRET

echo "ok cli $N"
