# Shared by the dev/ scripts: state directory, PID files, readiness waits.
# shellcheck shell=bash
DEV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${CELERY_BRIDGE_STATE_DIR:-$DEV_ROOT/.dev}
mkdir -p "$STATE_DIR"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Prints the PID recorded in a pid file if that process is alive.
alive_pid() {
  local f=$1 pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every half second.
wait_until() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
  log "$what ready"
}

# stop_pid NAME PIDFILE: TERM, wait up to 30 s, then KILL.
stop_pid() {
  local name=$1 f=$2 pid
  if ! pid=$(alive_pid "$f"); then
    log "$name not running"; rm -f "$f"; return 0
  fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) ignored TERM; killing"; kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
  log "$name stopped (pid $pid)"
}

# Java 17 is the supported runtime; prefer it when several JDKs are installed.
java_bin() {
  if [ -n "${JAVA_HOME:-}" ]; then echo "$JAVA_HOME/bin/java"; else command -v java; fi
}
