#!/usr/bin/env bash
# Starts/stops a real multi-process Flink 1.20 session cluster (one JobManager JVM, one
# TaskManager JVM) from Maven jars (flink-dist is not served here), as Flink's own scripts do.
# Usage: dev/flink-cluster.sh start|stop|status|kill-tm|start-tm   (FLINK_REST_PORT, default 8081;
# FLINK_EXTRA_JVM_OPTS, added to both JVMs, e.g. GC logging for the benchmark)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

REST_PORT=${FLINK_REST_PORT:-8081}
DIR=$STATE_DIR/flink-cluster-$REST_PORT
CONF=$DIR/conf
CP_FILE=$STATE_DIR/flink-classpath.txt
HERE=$DEV_ROOT/dev/flink

ready() { curl -fs "http://127.0.0.1:$REST_PORT/taskmanagers" 2>/dev/null | grep -q '"taskmanagers":\[{'; }
# A TaskManager registered with free slots (a killed one lingers in the list until it times out).
tm_alive() { curl -fs "http://127.0.0.1:$REST_PORT/overview" 2>/dev/null | grep -q '"slots-available":[1-9]'; }

resolve_classpath() {
  if [ -s "$CP_FILE" ] && [ "$CP_FILE" -nt "$HERE/pom.xml" ]; then return 0; fi
  log "resolving the Flink runtime classpath with Maven (first time only)"
  mvn -B -q -f "$HERE/pom.xml" dependency:build-classpath -Dmdep.outputFile="$CP_FILE" >"$STATE_DIR/flink-resolve.log" 2>&1 \
    || die "could not resolve the Flink runtime; see $STATE_DIR/flink-resolve.log"
}

# resource_params JM|TM: the JVM flags (line 1) and -D options (line 2) Flink computes.
resource_params() {
  "$(java_bin)" -cp "$(cat "$CP_FILE")" org.apache.flink.runtime.util.bash.BashJavaUtils "GET_$1_RESOURCE_PARAMS" \
    --configDir "$CONF" 2>/dev/null | grep '^BASH_JAVA_UTILS_EXEC_RESULT:' | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://'
}

start_process() {
  local name=$1 main=$2; shift 2
  local params jvm dyn opens
  params=$(resource_params "$name") || true
  if [ -z "$params" ]; then
    "$(java_bin)" -cp "$(cat "$CP_FILE")" org.apache.flink.runtime.util.bash.BashJavaUtils "GET_${name}_RESOURCE_PARAMS" \
      --configDir "$CONF" 2>&1 | grep -m1 -i "exception" >&2 || true
    die "Flink rejects the $name memory configuration in $CONF/config.yaml (see the line above)"
  fi
  jvm=$(echo "$params" | sed -n 1p)
  dyn=$(echo "$params" | sed -n 2p)
  opens=$(grep '^env.java.opts.all:' "$CONF/config.yaml" | cut -d: -f2-)
  # shellcheck disable=SC2086
  nohup "$(java_bin)" $jvm $opens ${FLINK_EXTRA_JVM_OPTS:-} -Dlog.file="$DIR/$name.log" -Dcelerybridge.log.file="$DIR/$name.log" \
    -Dlog4j2.configurationFile="$DEV_ROOT/conf/log4j2.properties" -cp "$(cat "$CP_FILE")" "$main" \
    --configDir "$CONF" "$@" $dyn >"$DIR/$name.out" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

case "${1:-}" in
  start)
    if alive_pid "$DIR/JM.pid" >/dev/null && ready; then log "flink cluster already running (REST $REST_PORT)"; exit 0; fi
    port_open "$REST_PORT" && die "port $REST_PORT is taken by another process; set FLINK_REST_PORT"
    resolve_classpath
    rm -rf "$DIR"; mkdir -p "$CONF" "$DIR/checkpoints" "$DIR/savepoints"
    cp "$HERE/config.yaml" "$CONF/config.yaml"
    cat >>"$CONF/config.yaml" <<CONF
rest.port: $REST_PORT
jobmanager.rpc.port: $((REST_PORT + 42))
metrics.reporter.prom.port: 9249-9252
state.checkpoints.dir: file://$DIR/checkpoints
state.savepoints.dir: file://$DIR/savepoints
web.upload.dir: $DIR
CONF
    start_process JM org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint --executionMode cluster
    start_process TM org.apache.flink.runtime.taskexecutor.TaskManagerRunner
    wait_until 120 "flink cluster (REST http://127.0.0.1:$REST_PORT, 1 TaskManager)" ready \
      || { tail -n 20 "$DIR/JM.out" "$DIR/TM.out" >&2; die "flink cluster did not come up; see $DIR"; }
    ;;
  kill-tm)
    # A TaskManager crash, for fault tests: SIGKILL, no cleanup.
    pid=$(alive_pid "$DIR/TM.pid") || die "no TaskManager running"
    kill -9 "$pid"; rm -f "$DIR/TM.pid"; log "flink taskmanager killed (pid $pid)"
    ;;
  start-tm)
    # A replacement TaskManager for the running JobManager.
    alive_pid "$DIR/TM.pid" >/dev/null && die "a TaskManager is already running"
    start_process TM org.apache.flink.runtime.taskexecutor.TaskManagerRunner
    wait_until 120 "flink taskmanager (REST http://127.0.0.1:$REST_PORT)" tm_alive \
      || { tail -n 20 "$DIR/TM.out" >&2; die "the TaskManager did not register; see $DIR"; }
    ;;
  stop)
    stop_pid "flink taskmanager" "$DIR/TM.pid"
    stop_pid "flink jobmanager" "$DIR/JM.pid"
    ;;
  status) if ready; then echo "flink cluster up (REST $REST_PORT)"; else echo "flink cluster down"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|kill-tm|start-tm" >&2; exit 2 ;;
esac
