#!/usr/bin/env bash
# Sink-only benchmark, on demand (not in CI). Prints a table and writes bench/results/sink.md.
# In ONE run on this machine, REPEATS times each: the Celery sink at parallelism 1 and 2 (1 KB
# event payloads), Python apply_async in a loop, valkey-benchmark running a one-event
# SET NX + LPUSH script pipelined, and plain pipelined LPUSH of same-size values.
# Env: BENCH_VALKEY_PORT (6399), EVENTS (300000), REPEATS (3)
set -euo pipefail
cd "$(dirname "$0")/.."
. dev/lib.sh

PORT=${BENCH_VALKEY_PORT:-6399}
EVENTS=${EVENTS:-300000}
REPEATS=${REPEATS:-3}
URI=redis://127.0.0.1:$PORT/0
OUT=bench/results/sink.md

VALKEY_PORT=$PORT dev/valkey.sh start
mvn -B -q -Pbench -DskipTests package >"$STATE_DIR/bench-build.log" 2>&1 || die "build failed; see $STATE_DIR/bench-build.log"
JAVA_OPTS="--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED"

rate() { grep -oE 'rate=[0-9]+' | head -n1 | cut -d= -f2; }
flush() { valkey-cli -p "$PORT" flushall >/dev/null; }
ENVELOPE=$(head -c 1400 /dev/zero | tr '\0' 'x')
SHA=$(valkey-cli -p "$PORT" script load "if redis.call('SET', KEYS[1], '1', 'NX', 'EX', 3600) then redis.call('LPUSH', KEYS[2], ARGV[1]) end return 1")

declare -A results
for r in $(seq "$REPEATS"); do
  for p in 1 2; do
    flush
    results[sink_p$p]+="$(java $JAVA_OPTS -cp bench/target/celery-bridge-bench.jar io.celerybridge.bench.SinkThroughputBenchmark \
      --valkey-uri "$URI" --events "$EVENTS" --parallelism "$p" 2>/dev/null | rate) "
  done
  flush
  results[apply_async]+="$(/usr/bin/python3 bench/apply_async_loop.py "$URI" 5000 | rate) "
  flush
  results[script_one_event]+="$(valkey-benchmark -p "$PORT" -n 300000 -P 64 -c 4 -r 1000000000 -q --csv \
      EVALSHA "$SHA" 2 'd:__rand_int__' q "$ENVELOPE" | tail -n1 | cut -d, -f2 | tr -d '"' | cut -d. -f1) "
  flush
  results[lpush_plain]+="$(valkey-benchmark -p "$PORT" -n 500000 -P 64 -c 4 -d 1400 -t lpush -q --csv \
      | tail -n1 | cut -d, -f2 | tr -d '"' | cut -d. -f1) "
  flush
done

stats() { tr ' ' '\n' | grep -E '^[0-9]+$' | sort -n | awk '{a[NR]=$1} END {printf "%d %d %d", a[1], a[int((NR+1)/2)], a[NR]}'; }
median() { echo "$1" | stats | cut -d' ' -f2; }
{
  echo "# Celery sink benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, ${EVENTS} events of 1 KB per sink run, ${REPEATS} repeats)"
  echo
  echo "| what | min/s | median/s | max/s |"
  echo "| --- | ---: | ---: | ---: |"
  for k in sink_p1 sink_p2 apply_async script_one_event lpush_plain; do
    read -r mn md mx <<<"$(echo "${results[$k]}" | stats)"
    echo "| $k | $mn | $md | $mx |"
  done
  echo
  s1=$(median "${results[sink_p1]}"); s2=$(median "${results[sink_p2]}")
  aa=$(median "${results[apply_async]}"); lp=$(median "${results[lpush_plain]}"); so=$(median "${results[script_one_event]}")
  best=$(( s1 > s2 ? s1 : s2 ))
  echo "| ratio (medians) | value |"
  echo "| --- | ---: |"
  echo "| sink / apply_async | $(echo "scale=1; $best / $aa" | bc) |"
  echo "| sink / one-event script (valkey-benchmark) | $(echo "scale=2; $best / $so" | bc) |"
  echo "| sink / plain LPUSH (Valkey ceiling) | $(echo "scale=2; $best / $lp" | bc) |"
} | tee "$OUT"
VALKEY_PORT=$PORT dev/valkey.sh stop
