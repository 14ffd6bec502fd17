#!/usr/bin/env bash
# Starts/stops an Apache Pulsar 4.0.7 standalone broker in its own JVM, from Maven Central jars.
# Usage: dev/pulsar.sh start|restart|stop|status|pid   (start wipes the data, restart keeps it)
#   PULSAR_PORT (default 6650), PULSAR_HTTP_PORT (default 8080), PULSAR_EXTRA_CONF (file appended to standalone.conf),
#   PULSAR_ADMIN_TOKEN (token for the readiness probe when the extra settings turn authentication on),
#   PULSAR_PROBE_CACERT (CA file: the probe uses https, for extra settings that make the broker TLS-only;
#   then PULSAR_PORT / PULSAR_HTTP_PORT are the TLS ports)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=${PULSAR_PORT:-6650}
HTTP_PORT=${PULSAR_HTTP_PORT:-8080}
DIR=$STATE_DIR/pulsar-$PORT
PIDFILE=$DIR/pulsar.pid
LOG=$DIR/pulsar.log
CP_FILE=$STATE_DIR/pulsar-classpath.txt
HERE=$DEV_ROOT/dev/pulsar

ready() {
  # With authentication on (PULSAR_ADMIN_TOKEN set), the readiness probe presents that token.
  local scheme=http
  [ -n "${PULSAR_PROBE_CACERT:-}" ] && scheme=https
  port_open "$PORT" && curl -fs -o /dev/null ${PULSAR_ADMIN_TOKEN:+-H "Authorization: Bearer $PULSAR_ADMIN_TOKEN"} \
    ${PULSAR_PROBE_CACERT:+--cacert "$PULSAR_PROBE_CACERT"} \
    "$scheme://127.0.0.1:$HTTP_PORT/admin/v2/namespaces/public/default"
}

resolve_classpath() {
  if [ -s "$CP_FILE" ] && [ "$CP_FILE" -nt "$HERE/pom.xml" ]; then return 0; fi
  log "resolving the Pulsar broker classpath with Maven (first time only)"
  mkdir -p "$HOME/.m2/empty-mirror"
  mvn -B -q -f "$HERE/pom.xml" -gs "$HERE/mirror-settings.xml" \
    dependency:build-classpath -Dmdep.outputFile="$CP_FILE" >"$STATE_DIR/pulsar-resolve.log" 2>&1 \
    || die "could not resolve pulsar-broker; see $STATE_DIR/pulsar-resolve.log"
}

# launch: starts the broker on the data directory as it is (configuration included).
launch() {
  nohup "$(java_bin)" -Xms256m -Xmx${PULSAR_HEAP:-1g} -XX:MaxDirectMemorySize=1g \
    ${PULSAR_JVM_OPTS:--XX:TieredStopAtLevel=1} $(grep -v '^#' "$HERE/java-options") \
    -Dlog4j2.configurationFile="$HERE/log4j2.xml" \
    -Dpulsar.log.dir="$DIR" \
    -cp "$(cat "$CP_FILE")" org.apache.pulsar.PulsarStandaloneStarter \
    --config "$conf" --no-functions-worker --no-stream-storage \
    --metadata-dir "$DIR/metadata" --bookkeeper-dir "$DIR/bookkeeper" \
    --advertised-address 127.0.0.1 >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  wait_until "${PULSAR_START_TIMEOUT:-120}" "pulsar on $PORT (admin $HTTP_PORT)" ready \
    || { tail -n 30 "$LOG" >&2; die "pulsar did not become ready; see $LOG"; }
}

case "${1:-}" in
  start)
    if pid=$(alive_pid "$PIDFILE"); then log "pulsar already running on $PORT (pid $pid)"; exit 0; fi
    port_open "$PORT" && die "port $PORT is taken by another process; set PULSAR_PORT"
    port_open "$HTTP_PORT" && die "port $HTTP_PORT is taken by another process; set PULSAR_HTTP_PORT"
    resolve_classpath
    # The bookie journal preallocates large files: start from empty data directories.
    rm -rf "$DIR"; mkdir -p "$DIR"
    conf=$DIR/standalone.conf
    cp "$HERE/standalone.conf" "$conf"
    cat >>"$conf" <<CONF
bindAddress=127.0.0.1
advertisedAddress=127.0.0.1
brokerServicePort=$PORT
webServicePort=$HTTP_PORT
CONF
    # Bookie and metadata ports derive from the broker port, so two stacks can coexist.
    echo "bookiePort=$((PORT + 531))" >>"$conf"
    # Extra broker settings (e.g. token authentication for a test), appended as they are.
    if [ -n "${PULSAR_EXTRA_CONF:-}" ]; then cat "$PULSAR_EXTRA_CONF" >>"$conf"; fi
    launch
    ;;
  restart)
    # A broker restart that keeps its data (topics, cursors, backlog), for fault tests.
    [ -f "$DIR/standalone.conf" ] || die "no pulsar data in $DIR; use start"
    conf=$DIR/standalone.conf
    stop_pid "pulsar:$PORT" "$PIDFILE"
    resolve_classpath
    launch
    ;;
  stop) stop_pid "pulsar:$PORT" "$PIDFILE" ;;
  pid) alive_pid "$PIDFILE" || die "pulsar on $PORT is not running" ;;
  status) if ready; then echo "pulsar up on $PORT (admin $HTTP_PORT)"; else echo "pulsar down on $PORT"; exit 1; fi ;;
  *) echo "usage: $0 start|restart|stop|status|pid" >&2; exit 2 ;;
esac
