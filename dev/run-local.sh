#!/usr/bin/env bash
# Runs celery-bridge on its default local stack, with no Docker: installs what is missing,
# starts Valkey, Pulsar, a Celery worker and a real multi-process Flink cluster (JobManager and
# TaskManager JVMs) unless they already run, builds the shaded jar, submits it over REST, feeds
# demo events and shows progress until Ctrl-C, which cancels the job and stops every server this
# script started.
# Options:
#   --events N      demo events to publish (default 200; one in ten published twice, one malformed)
#   --duration S    stop after S seconds (default: until Ctrl-C)
#   --config FILE   job configuration (default conf/celery-bridge.yaml)
#   --external      start no servers: use those the configuration points at, and the Flink
#                   cluster at $FLINK_REST_URL (default http://127.0.0.1:8081)
set -euo pipefail
cd "$(dirname "$0")/.."
. dev/lib.sh

EVENTS=200
DURATION=0
CONFIG=$PWD/conf/celery-bridge.yaml
EXTERNAL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --config) CONFIG=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --external) EXTERNAL=1; shift ;;
    *) die "unknown option $1 (use --events N, --duration S, --config FILE, --external)" ;;
  esac
done
REST=${FLINK_REST_URL:-http://127.0.0.1:8081}

started=()
if [ "$EXTERNAL" = 0 ]; then
  dev/install-packages.sh >/dev/null
  for svc in valkey pulsar celery-worker flink-cluster; do
    if ! "dev/$svc.sh" status >/dev/null 2>&1; then
      "dev/$svc.sh" start
      started+=("$svc")
    fi
  done
fi

JOB_ID=""
cleanup() {
  trap - INT TERM EXIT
  if [ -n "$JOB_ID" ]; then
    curl -fs -X PATCH "$REST/jobs/$JOB_ID?mode=cancel" >/dev/null 2>&1 && log "job $JOB_ID cancelled" || true
  fi
  for ((i=${#started[@]}-1; i>=0; i--)); do "dev/${started[i]}.sh" stop || true; done
  log "stopped"
}
trap cleanup INT TERM EXIT

log "building the shaded jar"
mvn -B -q -DskipTests package >"$STATE_DIR/build.log" 2>&1 || die "build failed; see $STATE_DIR/build.log"
JAR=$(ls job/target/celery-bridge-job-*.jar | grep -v original | head -n1)

# The job validates its configuration before anything starts: show the effective one.
CP_FILE=$STATE_DIR/flink-classpath.txt
[ -s "$CP_FILE" ] || mvn -B -q -f dev/flink/pom.xml dependency:build-classpath -Dmdep.outputFile="$CP_FILE" >/dev/null
JAVA_CMD=("$(java_bin)" --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED
  -Dlog4j2.configurationFile="$PWD/conf/log4j2.properties" -Dcelerybridge.log.file="$STATE_DIR/client.log"
  -cp "$JAR:$(cat "$CP_FILE")")
"${JAVA_CMD[@]}" io.celerybridge.job.CeleryBridgeJob --config "$CONFIG" --print-config >"$STATE_DIR/effective-config.txt" \
  || die "the configuration was refused (see above)"
TOPIC=$(sed -n 's/^topic: \([^ ]*\).*/\1/p' "$STATE_DIR/effective-config.txt" | cut -d, -f1)
PULSAR=$(sed -n 's/^pulsar.service_url: \([^ ]*\).*/\1/p' "$STATE_DIR/effective-config.txt")

log "submitting $JAR to the Flink cluster at $REST"
JAR_ID=$(curl -fsS -X POST -F "jarfile=@$JAR" "$REST/jars/upload" | python3 -c 'import json,sys; print(json.load(sys.stdin)["filename"].rsplit("/",1)[-1])')
RUN=$(curl -sS -X POST -H 'Content-Type: application/json' \
  -d "{\"programArgsList\": [\"--config\", \"$CONFIG\"]}" "$REST/jars/$JAR_ID/run")
JOB_ID=$(echo "$RUN" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("jobid",""))')
[ -n "$JOB_ID" ] || { echo "$RUN" | head -c 2000 >&2; die "the cluster refused the job"; }
log "job $JOB_ID running; Flink UI $REST, metrics http://127.0.0.1:9249/metrics (JobManager) and :9250 (TaskManager)"

WORKER_LOG=$STATE_DIR/celery-worker-${VALKEY_PORT:-6379}/worker.log
before=$(grep -c 'Task celery_bridge.process_event\[.*\] succeeded' "$WORKER_LOG" 2>/dev/null || true)
log "publishing $EVENTS demo events to $TOPIC"
"${JAVA_CMD[@]}" io.celerybridge.job.DemoEventProducer --pulsar.service-url "$PULSAR" --topic "$TOPIC" \
  --count "$EVENTS" --repeat-every 10 --malformed-every "$EVENTS" 2>>"$STATE_DIR/client.log"

metric() { # sum of one operator metric of this job over the reporters
  for port in 9249 9250 9251 9252; do curl -fs "http://127.0.0.1:$port/metrics" 2>/dev/null; done \
    | awk -v m="flink_taskmanager_job_task_operator_$1" -v job="$JOB_ID" \
      'index($0, m"{") == 1 && index($0, "job_id=\""job"\"") { s += $NF } END { printf "%d", s }'
}

log "progress (Ctrl-C to stop):"
start=$SECONDS
while true; do
  state=$(curl -fs "$REST/jobs/$JOB_ID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' 2>/dev/null || echo UNKNOWN)
  [ "$state" = FAILED ] && die "the job failed; see $REST/#/job/$JOB_ID/exceptions"
  executed=$(( $(grep -c 'Task celery_bridge.process_event\[.*\] succeeded' "$WORKER_LOG" 2>/dev/null || true) - before ))
  printf '%s  job %-10s events in %6s  duplicates dropped %5s  dead-lettered %4s  tasks enqueued %6s  executed by the worker %6s\n' \
    "$(date +%H:%M:%S)" "$state" "$(metric eventsIn)" "$(( $(metric duplicatesDropped) + $(metric duplicatesSkippedAtEnqueue) ))" \
    "$(metric dlq_reason_records)" "$(metric tasksEnqueued)" "$executed"
  if [ "$DURATION" -gt 0 ] && [ $((SECONDS - start)) -ge "$DURATION" ]; then break; fi
  sleep 3
done
