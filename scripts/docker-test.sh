#!/bin/sh
# docker-test.sh - what `make docker-test` does: build the container image
# (docker/Dockerfile) and the example test image (docker/test/), run the CI
# example of docker/compose.yml end to end (the broker provisioned by
# docker/seed/, the test container's mutual-TLS round trip) and clean up.
# Exit status: the test container's. Takes minutes (image builds); not part
# of `make test`.
#
# Podman and podman-compose when podman is installed (set up without a
# Docker engine by ../shared/tools/container-env.sh), else Docker with
# `docker compose`. The published host ports are free ones picked here, so a
# `make run` on this machine does not get in the way.
set -eu
cd "$(dirname "$0")/.."

project=${IOTCORED_COMPOSE_PROJECT:-iotcored-ci}
podman=
if command -v podman >/dev/null 2>&1; then
    podman=podman
    # chroot isolation: podman build inside containers and on cgroup v1;
    # docker format: the OCI format has no HEALTHCHECK.
    build="podman build --isolation=chroot --format docker"
    compose="podman-compose"
    command -v podman-compose >/dev/null 2>&1 ||
        { echo "docker-test: podman-compose is missing (apt-get install podman-compose)" >&2; exit 1; }
else
    build="docker build"
    compose="docker compose"
fi
compose="$compose -p $project -f docker/compose.yml"
# e.g. IOTCORED_BUILD_FLAGS=--no-cache for a build from scratch.
build="$build ${IOTCORED_BUILD_FLAGS:-}"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo "$1"
}
IOTCORED_MQTT_PORT=${IOTCORED_MQTT_PORT:-$(free_port 18883)}
IOTCORED_CONTROL_PORT=${IOTCORED_CONTROL_PORT:-$(free_port 18080)}
export IOTCORED_MQTT_PORT IOTCORED_CONTROL_PORT

t0=$(date +%s)
echo "== docker-test: building iotcored:dev ($build)"
$build -f docker/Dockerfile -t iotcored:dev .
echo "== docker-test: building iotcored-test:dev"
$build -f docker/test/Dockerfile -t iotcored-test:dev docker/test
t1=$(date +%s)

# Containers, volumes and the network go at the end, and before the run:
# leftovers of an interrupted run would change it (a kept data volume keeps
# its CA). podman-compose 1.0's down leaves the project network behind.
cleanup() {
    $compose down -v >/dev/null 2>&1 || true
    [ -z "$podman" ] || podman network rm -f "${project}_default" >/dev/null 2>&1 || true
}
cleanup
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== docker-test: compose up (project $project, host ports mqtts $IOTCORED_MQTT_PORT, control $IOTCORED_CONTROL_PORT)"
rc=0
$compose up --no-build --abort-on-container-exit --exit-code-from test || rc=$?
t2=$(date +%s)
echo "== docker-test: build $((t1 - t0))s, compose run $((t2 - t1))s, exit $rc"
if [ "$rc" -eq 0 ]; then
    echo "== docker-test: PASS"
else
    echo "== docker-test: FAIL (test container exit status $rc)" >&2
fi
exit "$rc"
