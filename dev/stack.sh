#!/usr/bin/env bash
# Starts/stops the local stack (Valkey, Pulsar standalone, a Celery worker) as plain processes
# (down also stops a Flink session cluster started by dev/flink-cluster.sh)
# and writes the endpoints the tests read to .dev/env.
# Usage: dev/stack.sh up|down|status
#   VALKEY_PORT (6379), PULSAR_PORT (6650), PULSAR_HTTP_PORT (8080), CELERY_QUEUES (celery,celery-bridge-it),
#   FLINK_REST_PORT (8081)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

write_env() {
  cat >"$STATE_DIR/env" <<ENV
export CELERY_BRIDGE_VALKEY_URI=redis://127.0.0.1:${VALKEY_PORT:-6379}/0
export CELERY_BRIDGE_PULSAR_SERVICE_URL=pulsar://127.0.0.1:${PULSAR_PORT:-6650}
export CELERY_BRIDGE_PULSAR_ADMIN_URL=http://127.0.0.1:${PULSAR_HTTP_PORT:-8080}
export CELERY_BRIDGE_FLINK_REST_URL=http://127.0.0.1:${FLINK_REST_PORT:-8081}
export CELERY_BRIDGE_FLINK_CONF_DIR=$STATE_DIR/flink-cluster-${FLINK_REST_PORT:-8081}/conf
export CELERY_BRIDGE_FLINK_CLASSPATH_FILE=$STATE_DIR/flink-classpath.txt
ENV
  log "endpoints written to $STATE_DIR/env (source it before running tests by hand)"
}

case "${1:-}" in
  up)
    "$here/valkey.sh" start
    "$here/pulsar.sh" start
    "$here/celery-worker.sh" start
    # The Flink session cluster (dev/flink-cluster.sh) is started on demand: the default tests
    # use MiniClusters; run-local.sh and the cluster-deployment tests start it.
    write_env
    ;;
  down)
    "$here/flink-cluster.sh" stop >/dev/null 2>&1 || true
    "$here/celery-worker.sh" stop
    "$here/pulsar.sh" stop
    "$here/valkey.sh" stop
    rm -f "$STATE_DIR/env"
    ;;
  status)
    rc=0
    "$here/valkey.sh" status || rc=1
    "$here/pulsar.sh" status || rc=1
    "$here/celery-worker.sh" status || rc=1
    exit $rc
    ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
