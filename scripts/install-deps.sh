#!/bin/sh
# install-deps.sh - install everything iotcored needs to build, test and run,
# from Debian 12 packages. Idempotent: installs only what is missing.
set -eu

BUILD_PKGS="build-essential pkg-config libuv1-dev libssl-dev libcjson-dev libsqlite3-dev check node-llhttp"
TEST_PKGS="mosquitto-clients python3-paho-mqtt openssl curl mandoc awscli"
# node and npm (MQTT.js, AWS IoT Device SDK for JS): Debian's, unless a
# node is already installed.
command -v npm >/dev/null 2>&1 || TEST_PKGS="$TEST_PKGS nodejs npm"
BENCH_PKGS="mosquitto"

# IOTCORED_DEPS=build installs only what building needs (container images).
want="$BUILD_PKGS $TEST_PKGS $BENCH_PKGS"
[ "${IOTCORED_DEPS:-all}" = build ] && want="$BUILD_PKGS"
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "iotcored: missing packages:$missing" >&2
    echo "run: sudo sh scripts/install-deps.sh" >&2
    exit 1
fi
echo "iotcored: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are missing or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
    apt-get update -qq
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
