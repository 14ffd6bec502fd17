#!/usr/bin/env bash
# Flink without flink-dist: starts the JobManager, TaskManager or the job's tools from the jars in
# /opt/flink/lib, computing memory flags the way Flink's own scripts do (BashJavaUtils).
#   standalone-job [ARGS]   JobManager in application mode running the job in usrlib/ (ARGS are
#                           StandaloneApplicationClusterEntryPoint's: --job-classname C, then the
#                           job's own arguments); FROM_SAVEPOINT=path resumes from a savepoint
#   jobmanager              JobManager of a session cluster
#   taskmanager             TaskManager
#   flink ARGS              the Flink CLI (run, list, stop --savepointPath ..., cancel)
#   demo-producer ARGS      io.celerybridge.job.DemoEventProducer
#   dlq-replay ARGS         io.celerybridge.job.DlqReplay
#   anything else           run as a command
set -euo pipefail

FLINK_HOME=${FLINK_HOME:-/opt/flink}
CONF=${FLINK_CONF_DIR:-$FLINK_HOME/conf}
CLASSPATH="$FLINK_HOME/lib/*"
JOB_JAR=$FLINK_HOME/usrlib/celery-bridge-job.jar

write_config() {
  cp "$FLINK_HOME/conf-base/config.yaml" "$CONF/config.yaml"
  if [ -n "${FLINK_PROPERTIES:-}" ]; then
    printf '\n# FLINK_PROPERTIES\n%s\n' "$FLINK_PROPERTIES" >>"$CONF/config.yaml"
  fi
}

java_opts() { sed -n 's/^env\.java\.opts\.all:[[:space:]]*//p' "$CONF/config.yaml"; }

# resource_params JM|TM: prints Flink's JVM memory flags (line 1) and -D options (line 2).
resource_params() {
  local out
  out=$(java -cp "$CLASSPATH" org.apache.flink.runtime.util.bash.BashJavaUtils "GET_$1_RESOURCE_PARAMS" --configDir "$CONF" 2>&1) \
    || { echo "$out" >&2; echo "docker-entrypoint: Flink rejects the memory configuration (above)" >&2; exit 1; }
  echo "$out" | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p'
}

run_process() {
  local kind=$1 main=$2; shift 2
  local params jvm dyn
  params=$(resource_params "$kind")
  jvm=$(echo "$params" | sed -n 1p)
  dyn=$(echo "$params" | sed -n 2p)
  # shellcheck disable=SC2046,SC2086
  exec java $jvm $(java_opts) -Dlog4j2.configurationFile=/opt/celery-bridge/conf/log4j2.properties \
    -cp "$CLASSPATH" "$main" --configDir "$CONF" $dyn "$@"
}

tool() {
  local main=$1; shift
  # shellcheck disable=SC2046
  exec java $(java_opts) -Dlog4j2.configurationFile=/opt/celery-bridge/conf/log4j2.properties \
    -cp "$JOB_JAR:$CLASSPATH" "$main" "$@"
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
  standalone-job)
    write_config
    savepoint=()
    [ -n "${FROM_SAVEPOINT:-}" ] && savepoint=(--fromSavepoint "$FROM_SAVEPOINT")
    run_process JM org.apache.flink.container.entrypoint.StandaloneApplicationClusterEntryPoint "${savepoint[@]}" "$@"
    ;;
  jobmanager)
    write_config
    run_process JM org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint --executionMode cluster "$@"
    ;;
  taskmanager)
    write_config
    run_process TM org.apache.flink.runtime.taskexecutor.TaskManagerRunner "$@"
    ;;
  flink)
    write_config
    exec "$FLINK_HOME/bin/flink" "$@"
    ;;
  demo-producer) tool io.celerybridge.job.DemoEventProducer "$@" ;;
  dlq-replay) tool io.celerybridge.job.DlqReplay "$@" ;;
  help) sed -n '2,13p' "$0" ;;
  *) exec "$cmd" "$@" ;;
esac
