#!/usr/bin/env bash
# Starts/stops a Valkey server for local runs and tests.
# Usage: dev/valkey.sh start|stop|status   (VALKEY_PORT, default 6379)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=${VALKEY_PORT:-6379}
DIR=$STATE_DIR/valkey-$PORT
PIDFILE=$DIR/valkey.pid
LOG=$DIR/valkey.log

ping() { valkey-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; }

case "${1:-}" in
  start)
    command -v valkey-server >/dev/null || die "valkey-server not found; run dev/install-packages.sh"
    if pid=$(alive_pid "$PIDFILE"); then log "valkey already running on $PORT (pid $pid)"; exit 0; fi
    port_open "$PORT" && die "port $PORT is taken by another process; set VALKEY_PORT"
    mkdir -p "$DIR"
    # Stock settings (RDB snapshots, no append-only file): the job's start-up check reports what
    # they keep; only where the instance lives is set here.
    valkey-server --port "$PORT" --bind 127.0.0.1 --dir "$DIR" \
      --daemonize yes --pidfile "$PIDFILE" --logfile "$LOG"
    wait_until 20 "valkey on $PORT" ping || die "valkey did not answer PING within 20 s; see $LOG"
    ;;
  stop) stop_pid "valkey:$PORT" "$PIDFILE" ;;
  status) if ping; then echo "valkey up on $PORT"; else echo "valkey down on $PORT"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
