#!/usr/bin/env bash
# Starts/stops a stock Celery worker (Debian's python3-celery) running examples/celery-worker.
# Usage: dev/celery-worker.sh start|stop|status
#   VALKEY_PORT (default 6379): broker and result backend (db 0)
#   CELERY_QUEUES (default celery,celery-bridge-it): comma-separated queues to consume
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=${VALKEY_PORT:-6379}
QUEUES=${CELERY_QUEUES:-celery,celery-bridge-it}
DIR=$STATE_DIR/celery-worker-$PORT
PIDFILE=$DIR/worker.pid
LOG=$DIR/worker.log
# Debian's interpreter, not a pyenv one that may come first on PATH.
PY=${CELERY_PYTHON:-/usr/bin/python3}

ready() { grep -q 'ready\.' "$LOG" 2>/dev/null; }

case "${1:-}" in
  start)
    "$PY" -c 'import celery, redis' 2>/dev/null || die "$PY has no celery/redis; run dev/install-packages.sh"
    if pid=$(alive_pid "$PIDFILE"); then log "celery worker already running (pid $pid)"; exit 0; fi
    mkdir -p "$DIR"; : >"$LOG"
    (
      cd "$DEV_ROOT/examples/celery-worker"
      # Unbuffered, so the log shows each task as it runs (run-local.sh counts them there).
      PYTHONUNBUFFERED=1 CELERY_BROKER_URL="redis://127.0.0.1:$PORT/0" CELERY_RESULT_BACKEND="redis://127.0.0.1:$PORT/0" \
        exec "$PY" -m celery -A celery_bridge_example worker --loglevel=INFO --pool=solo \
        -Q "$QUEUES" --hostname "bridge-example@%h" --without-gossip --without-mingle
    ) >>"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
    wait_until 60 "celery worker (queues $QUEUES, broker valkey:$PORT)" ready \
      || { tail -n 30 "$LOG" >&2; die "celery worker did not become ready; see $LOG"; }
    ;;
  stop) stop_pid "celery worker" "$PIDFILE" ;;
  status) if alive_pid "$PIDFILE" >/dev/null && ready; then echo "celery worker up"; else echo "celery worker down"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
