#!/bin/sh
# check-layers.sh - enforce STYLE 3.3: a file includes iotcored headers only
# from its own layer or lower, and only src/store/ includes sqlite3.h.
# Layers: 0 core, 1 pure domain, 2 stateful domain, 3 I/O, 4 assembly.
set -eu
cd "$(dirname "$0")/.."

layer_of() { # module stem -> layer
    case "$1" in
    alloc|log|buf|str|json|events|cron|error|notify|ctx|version|map|clock) echo 0 ;;
    codec|props|topic|trie|arn|policy|shadow_doc|sigv4|http_parse|ws_frame|config|config_table|sql|sql_time|aws_call|profile) echo 1 ;;
    msg|session|retain|router|proto|auth|registry|shadow|lifecycle|engine|actions|db|migrate|meta|retained|sessions|mqtt|certs|thingdb|things|certs|policies|policydb|shadows|seed|ruledb|authorizers|authorizerdb|custom_auth) echo 2 ;;
    listener|conn|tls|pki|ws|http|http_client|dataplane|control|ctl|ctl_things|ctl_certs|ctl_policies|ctl_seed|ctl_authz|ctl_rules|ctl_authorizers|metrics|api_auth|transport) echo 3 ;;
    broker|main|iotctl|admin) echo 4 ;;
    *) echo "" ;;
    esac
}

fail=0
for f in $(find src include -name '*.[ch]' | sort); do
    stem=$(basename "$f" | sed 's/\.[ch]$//')
    mine=$(layer_of "$stem")
    if [ -z "$mine" ]; then
        echo "check-layers: $f: module '$stem' has no layer in scripts/check-layers.sh" >&2
        fail=1
        continue
    fi
    for h in $(sed -n 's/^#include "iotcored\/\([a-z_0-9]*\)\.h".*/\1/p' "$f"); do
        theirs=$(layer_of "$h")
        if [ -z "$theirs" ]; then
            echo "check-layers: $f includes unknown module header $h.h" >&2
            fail=1
        elif [ "$theirs" -gt "$mine" ]; then
            echo "check-layers: $f (layer $mine) includes $h.h (layer $theirs)" >&2
            fail=1
        fi
    done
    case "$f" in
    src/store/*) ;;
    *) if grep -q '#include <sqlite3.h>' "$f"; then
           echo "check-layers: $f includes sqlite3.h; only src/store/ may" >&2
           fail=1
       fi ;;
    esac
done
[ $fail -eq 0 ] && echo "check-layers: ok"
exit $fail
