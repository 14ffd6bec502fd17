#!/usr/bin/env bash
# Runs the whole test suite against real servers: installs what is missing (Debian packages,
# needs root or sudo), starts Valkey, Pulsar and a Celery worker as local processes (kept running
# for the next run; `dev/stack.sh down` stops them), then `mvn verify`. Extra arguments go to Maven.
set -euo pipefail
cd "$(dirname "$0")/.."
dev/install-packages.sh
dev/stack.sh up
# The deployment tests submit to a real multi-process cluster; a fresh one, since a session
# cluster keeps finished jobs' class loaders (see README, TaskManager memory).
dev/flink-cluster.sh stop >/dev/null 2>&1 || true
dev/flink-cluster.sh start
# shellcheck disable=SC1091
. "${CELERY_BRIDGE_STATE_DIR:-.dev}/env"
exec mvn -B verify "$@"
