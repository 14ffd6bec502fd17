#!/usr/bin/env bash
# Runs celery-bridge on its default local stack: installs what is missing, starts Valkey,
# Pulsar and a Celery worker (unless already running), builds the shaded jar, runs the job on a
# local MiniCluster, feeds demo events and shows the tasks the Celery worker executes.
# Ctrl-C stops the job and every server this script started.
# Options: --events N (demo events, default 20), --duration S (stop after S seconds; default: until Ctrl-C)
set -euo pipefail
cd "$(dirname "$0")/.."
. dev/lib.sh

EVENTS=20
DURATION=0
while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    *) die "unknown option $1 (use --events N, --duration S)" ;;
  esac
done

dev/install-packages.sh >/dev/null

started=()
for svc in valkey pulsar celery-worker; do
  if ! "dev/$svc.sh" status >/dev/null 2>&1; then
    "dev/$svc.sh" start
    started+=("$svc")
  fi
done

JOB_PID=""
cleanup() {
  trap - INT TERM EXIT
  [ -n "$JOB_PID" ] && kill "$JOB_PID" 2>/dev/null && wait "$JOB_PID" 2>/dev/null || true
  for ((i=${#started[@]}-1; i>=0; i--)); do "dev/${started[i]}.sh" stop || true; done
  log "stopped"
}
trap cleanup INT TERM EXIT

log "building the shaded jar"
mvn -B -q -DskipTests package >"$STATE_DIR/build.log" 2>&1 || die "build failed; see $STATE_DIR/build.log"
JAR=$(ls job/target/celery-bridge-job-*.jar | grep -v original | head -n1)

# A cluster provides Flink itself; locally dev/flink's classpath stands in for it.
CP_FILE=$STATE_DIR/flink-classpath.txt
if [ ! -s "$CP_FILE" ] || [ dev/flink/pom.xml -nt "$CP_FILE" ]; then
  mvn -B -q -f dev/flink/pom.xml dependency:build-classpath -Dmdep.outputFile="$CP_FILE" >"$STATE_DIR/flink-resolve.log" 2>&1 \
    || die "could not resolve the Flink runtime; see $STATE_DIR/flink-resolve.log"
fi
OPENS="--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/sun.net=ALL-UNNAMED"
JAVA_CMD=("$(java_bin)" $OPENS -Dlog4j2.configurationFile="$PWD/conf/log4j2.properties"
  -Dcelerybridge.log.file="$STATE_DIR/job.log" -cp "$JAR:$(cat "$CP_FILE")")

TOPIC=persistent://public/default/celery-bridge-events
WORKER_LOG=$STATE_DIR/celery-worker-${VALKEY_PORT:-6379}/worker.log
before=$(grep -c 'Task celery_bridge.process_event\[.*\] succeeded' "$WORKER_LOG" 2>/dev/null || true)

log "starting the job on a local MiniCluster (log: $STATE_DIR/job.log)"
# Started directly (not through a function) so $! is the JVM itself and Ctrl-C stops it.
# conf/flink turns on the Prometheus reporter: metrics at http://127.0.0.1:9249/metrics.
FLINK_CONF_DIR="$PWD/conf/flink" "${JAVA_CMD[@]}" io.celerybridge.job.CeleryBridgeJob --config conf/celery-bridge.yaml --set "topic=$TOPIC" >"$STATE_DIR/job.out" 2>&1 &
JOB_PID=$!

log "publishing $EVENTS demo events to $TOPIC"
"${JAVA_CMD[@]}" io.celerybridge.job.DemoEventProducer --topic "$TOPIC" --count "$EVENTS" 2>>"$STATE_DIR/job.out"

log "metrics: http://127.0.0.1:9249/metrics; tasks executed by the Celery worker (Ctrl-C to stop):"
start=$SECONDS
shown=0
while true; do
  kill -0 "$JOB_PID" 2>/dev/null || { tail -n 20 "$STATE_DIR/job.out" >&2; die "the job exited; see $STATE_DIR/job.log"; }
  now=$(grep -c 'Task celery_bridge.process_event\[.*\] succeeded' "$WORKER_LOG" 2>/dev/null || true)
  if [ "$now" -gt "$((before + shown))" ]; then
    grep 'Task celery_bridge.process_event\[.*\] succeeded' "$WORKER_LOG" | tail -n +"$((before + shown + 1))" \
      | sed -E "s/.*Task (celery_bridge[^[]*)\[([^]]*)\] succeeded in ([0-9.]+)s: .*'id': '([^']*)'.*/  executed \1 task \2 for event \4 (\3 s)/"
    shown=$((now - before))
    log "$shown tasks executed since start ($EVENTS demo events published by this run)"
  fi
  if [ "$DURATION" -gt 0 ] && [ $((SECONDS - start)) -ge "$DURATION" ]; then break; fi
  sleep 1
done
