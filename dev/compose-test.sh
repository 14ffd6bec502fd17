#!/usr/bin/env bash
# The compose stack end to end (dev/compose_test.py says what it checks): starts a Docker engine
# and makes the base image if needed (dev/docker-engine.sh), then builds, starts, checks and
# removes the stack. Host ports are moved away from the local stack's (dev/stack.sh) so both can
# run at once. KEEP_STACK=1 leaves the stack running for a look (docker compose -p celery-bridge-test ...).
set -euo pipefail
cd "$(dirname "$0")/.."
. dev/lib.sh
dev/docker-engine.sh up
# A TLS-intercepting proxy's CA on this machine is needed by the image builds too.
for crt in /usr/local/share/ca-certificates/*.crt; do
  [ -f "$crt" ] && cp "$crt" docker/ca-certificates/ && log "build stages trust $(basename "$crt") (from this machine)"
done
export COMPOSE_PROJECT_NAME=celery-bridge-test
export PULSAR_PORT=16650 PULSAR_HTTP_PORT=18080 VALKEY_PORT=16379 FLINK_REST_PORT=18081 PROMETHEUS_PORT=19090 GRAFANA_PORT=13000
exec /usr/bin/python3 dev/compose_test.py
