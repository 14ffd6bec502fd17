#!/usr/bin/env bash
# The benchmark harness, on demand (never in CI). ONE run on this machine measures, REPEATS times
# each, and prints a table (also bench/results/e2e.md and e2e.png; raw figures in raw.txt):
#   - the job end to end, submitted as the shaded jar to a fresh multi-process Flink cluster at
#     parallelism 1 and 2, draining a pre-filled topic (EVENTS events of 1 KB, DUP_SHARE of them
#     repeats): throughput from the first enqueue to the last, TaskManager CPU, peak heap and RSS;
#   - publish→enqueue latency (p50/p95/p99) at LAT_RATE events/s offered, parallelism 2;
#   - the anchors: Python Celery apply_async and kombu Producer.publish in a loop, valkey-benchmark
#     running the sink's own enqueue script (1 and 100 events per call) and plain pipelined LPUSH,
#     a plain Pulsar consumer reading the same backlog, and the Celery sink alone.
# PARTS=durability (not run by default): the Celery sink alone with the durability option, against
# a primary with one replica: none, WAIT 1 replica, an append-only file (stock appendfsync everysec)
# without and with WAITAOF, WAITAOF plus WAIT 1, and appendfsync always without any wait.
# With --soak, also SOAK_SECONDS at half the measured end-to-end rate, sampling the TaskManager's
# heap (bench/results/soak.csv, charted in soak.png).
# Usage: bench/run.sh [--soak]
# PARTS (default "e2e anchors latency") picks what runs, e.g. PARTS=latency for a before/after.
# Env: JOB_SETS (extra job settings), EVENTS (1000000), DUP_SHARE (0.05), REPEATS (3), LAT_RATE (5000), LAT_SECONDS (130, the first 90 not counted),
#      SOAK_SECONDS (600), SOAK_WARMUP (120), SOAK_RATE (half the median e2e rate of this run), SINK_EVENTS (300000), BENCH_RESULTS (bench/results)
# It starts servers of its own (Valkey on 6399, Pulsar on 6780/8210, Flink REST on 8091) and stops
# them at the end; the job's configuration is conf/celery-bridge.yaml with --set overrides.
set -euo pipefail
cd "$(dirname "$0")/.."
. dev/lib.sh

SOAK=0
[ "${1:-}" = "--soak" ] && SOAK=1
EVENTS=${EVENTS:-1000000}
DUP_SHARE=${DUP_SHARE:-0.05}
REPEATS=${REPEATS:-3}
LAT_RATE=${LAT_RATE:-5000}
LAT_SECONDS=${LAT_SECONDS:-130}
SOAK_SECONDS=${SOAK_SECONDS:-600}
# Not counted: a fresh TaskManager lags while it compiles, and at half the maximum rate it takes
# minutes to work off that backlog (catch_up_s in the results says how long it took).
SOAK_WARMUP=${SOAK_WARMUP:-120}
SINK_EVENTS=${SINK_EVENTS:-300000}
PARTS=" ${PARTS:-e2e anchors latency} "
# JOB_SETS="key=value ...": extra job settings for every run, e.g. checkpointing.interval=60s for an A/B.
EXTRA=""
for kv in ${JOB_SETS:-}; do EXTRA="$EXTRA --set $kv"; done
part() { [[ "$PARTS" == *" $1 "* ]]; }
export VALKEY_PORT=6399 PULSAR_PORT=6780 PULSAR_HTTP_PORT=8210 FLINK_REST_PORT=8091
# GC pauses with wall-clock times, one file per Flink process, kept beside each latency run.
export FLINK_EXTRA_JVM_OPTS="-Xlog:gc:file=$STATE_DIR/flink-cluster-$FLINK_REST_PORT/gc-%p.log:time,uptime"
URI=redis://127.0.0.1:$VALKEY_PORT/0
PULSAR=pulsar://127.0.0.1:$PULSAR_PORT
ADMIN=http://127.0.0.1:$PULSAR_HTTP_PORT
REST=http://127.0.0.1:$FLINK_REST_PORT
RESULTS=${BENCH_RESULTS:-bench/results}
RAW=$RESULTS/raw.txt
PY=/usr/bin/python3
mkdir -p "$RESULTS"

dev/install-packages.sh >/dev/null
$PY -c 'import matplotlib, kombu' 2>/dev/null || { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq --no-install-recommends python3-matplotlib >/dev/null; } \
  || die "the report needs Debian's python3-matplotlib (apt-get install python3-matplotlib)"

cleanup() {
  trap - INT TERM EXIT
  dev/flink-cluster.sh stop >/dev/null 2>&1 || true
  dev/pulsar.sh stop >/dev/null 2>&1 || true
  dev/valkey.sh stop >/dev/null 2>&1 || true
}
trap cleanup INT TERM EXIT
dev/valkey.sh start
dev/pulsar.sh start

log "building the job and bench jars"
mvn -B -q -Pbench -DskipTests package >"$STATE_DIR/bench-build.log" 2>&1 || die "build failed; see $STATE_DIR/bench-build.log"
JOB_JAR=$(ls job/target/celery-bridge-job-*.jar | grep -v original | head -n1)
BENCH=("$(java_bin)" --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED
  -cp bench/target/celery-bridge-bench.jar)
# The probe runs beside the job on 2 cores: C1 only, so its own JIT does not compete for minutes.
PROBE=("$(java_bin)" -XX:TieredStopAtLevel=1 -cp bench/target/celery-bridge-bench.jar)
flush() { valkey-cli -p "$VALKEY_PORT" flushall >/dev/null; }
# record LABEL: keeps the RESULT line of stdin in raw.txt under LABEL, and shows it.
record() { grep '^RESULT' | head -n1 | sed "s/^RESULT [a-z0-9_]*/$1/" | tee -a "$RAW" >&2; }

STAMP=$(date +%s)
TOPIC_P1=persistent://public/default/bench-$STAMP-p1            # one partition: the source runs at 1
TOPIC_P2=persistent://public/default/bench-$STAMP-p2            # two partitions: one reader each
TOPIC_LAT=persistent://public/default/bench-$STAMP-latency
for t in "$TOPIC_P2" "$TOPIC_LAT"; do
  curl -fsS -X PUT -H 'Content-Type: application/json' -d 2 "$ADMIN/admin/v2/persistent/public/default/${t##*/}/partitions" \
    || die "could not create the partitioned topic $t"
done
# A stock broker deletes a topic without subscriptions a minute after its producer leaves, messages
# and all (and keeps nothing that every subscription acknowledged): a subscription that never reads
# keeps the pre-filled backlog for every run of this bench.
for t in "$TOPIC_P1" "$TOPIC_P2"; do
  curl -fsS -X PUT "$ADMIN/admin/v2/persistent/public/default/${t##*/}/subscription/bench-hold" \
    || die "could not create the subscription bench-hold on $t"
done
: >"$RAW"
echo "meta date=$(date -u +%Y-%m-%dT%H:%MZ) cores=$(nproc) events=$EVENTS dup_share=$DUP_SHARE repeats=$REPEATS lat_rate=$LAT_RATE soak_warmup=$SOAK_WARMUP" >>"$RAW"

if part e2e || part anchors; then
  log "pre-filling two topics with $EVENTS events of 1 KB each ($DUP_SHARE repeats)"
  for t in "$TOPIC_P1" "$TOPIC_P2"; do
    "${BENCH[@]}" io.celerybridge.bench.BacklogPublisher --service-url "$PULSAR" --topic "$t" --count "$EVENTS" \
      --duplicate-share "$DUP_SHARE" --id-prefix "e$STAMP" 2>/dev/null | record pulsar_publish
  done
fi
UNIQUE=$(grep '^pulsar_publish' "$RAW" | head -n1 | grep -oE 'unique=[0-9]+' | cut -d= -f2 || true)

fresh_cluster() { dev/flink-cluster.sh stop >/dev/null 2>&1 || true; dev/flink-cluster.sh start; }
tm_pid() { cat "$STATE_DIR/flink-cluster-$FLINK_REST_PORT/TM.pid"; }
upload_jar() {
  curl -fsS -X POST -F "jarfile=@$JOB_JAR" "$REST/jars/upload" | $PY -c 'import json,sys; print(json.load(sys.stdin)["filename"].rsplit("/",1)[-1])'
}
# submit JAR_ID PARALLELISM ARGS...: runs the job with conf/celery-bridge.yaml and the --set overrides
# given, at PARALLELISM (REST "parallelism", the Flink way); checkpoints every 10 s as in earlier runs.
submit() {
  local jar=$1 p=$2 args; shift 2
  args=$(printf '%s\n' --config "$PWD/conf/celery-bridge.yaml" --set "valkey.uri=$URI" --set "pulsar.service_url=$PULSAR" \
      --set "pulsar.admin_url=$ADMIN" --set celery.max_queue_depth=100000000 --set checkpointing.interval=10s "$@" $EXTRA \
      | $PY -c 'import json,sys; print(json.dumps(sys.stdin.read().split()))')
  curl -sS -X POST -H 'Content-Type: application/json' -d "{\"programArgsList\": $args, \"parallelism\": $p}" "$REST/jars/$jar/run" \
    | $PY -c 'import json,sys; r=json.load(sys.stdin); print(r.get("jobid") or sys.exit("refused: %s" % str(r)[:2000]))'
}
# RUNNING with every vertex deployed: one look at the job's status.
job_running() {
  local s
  s=$(curl -fs "$REST/jobs/$1") && [[ $s == *'"state":"RUNNING"'* ]] \
    && ! grep -q '"status":"\(CREATED\|SCHEDULED\|DEPLOYING\|INITIALIZING\)"' <<<"$s"
}
cancel() { curl -fsS -X PATCH "$REST/jobs/$1?mode=cancel" >/dev/null || true; }

# e2e P TOPIC RUN: the job drains TOPIC at parallelism P on a fresh cluster.
e2e() {
  local p=$1 topic=$2 run=$3 jar job out=$STATE_DIR/bench-watch.out
  fresh_cluster; flush; jar=$(upload_jar)
  "${BENCH[@]}" io.celerybridge.bench.EnqueueWatcher --valkey-uri "$URI" --queue bench-e2e --expected "$UNIQUE" \
    --events "$EVENTS" --rest "$REST" --tm-pid "$(tm_pid)" >"$out" 2>/dev/null &
  local watcher=$!
  job=$(submit "$jar" "$p" --set "topic=$topic" --set "dlq_topic=$topic-dlq" --set channel=bench-e2e \
      --set "pulsar.subscription=bench-$run-p$p" --set pulsar.start_position=earliest) \
    || { kill $watcher; die "the cluster refused the job"; }
  wait $watcher || { cat "$out" >&2; die "the queue did not fill (job $job at parallelism $p); see $STATE_DIR/flink-cluster-$FLINK_REST_PORT"; }
  record "e2e_p$p" <"$out"
  cancel "$job"
}

vb_script() { # K events per call of the sink's own enqueue script; pipelining P, clients C, calls N
  local k=$1 P=$2 C=$3 n=$4 keys=(bq bq:3 bq:6 bq:9) args=() calls
  for ((i = 0; i < k; i++)); do keys+=("bd:__rand_int__" bq); args+=(0 "$ENVELOPE"); done
  calls=$(valkey-benchmark -p "$VALKEY_PORT" -n "$n" -P "$P" -c "$C" -r 1000000000 -q --csv \
      EVALSHA "$SHA" $((4 + 2 * k)) "${keys[@]}" 3600 1000000000 1 "${args[@]}" | tail -n1 | cut -d, -f2 | tr -d '"' | cut -d. -f1)
  echo "RESULT x rate=$((calls * k)) calls=$calls"
}
ENVELOPE=$(head -c 1400 /dev/zero | tr '\0' 'x')   # the size of a task envelope for a 1 KB event
SHA=$(valkey-cli -p "$VALKEY_PORT" script load "$("${BENCH[@]}" io.celerybridge.bench.PrintEnqueueScript)")

for r in $(seq "$REPEATS"); do
  log "repeat $r of $REPEATS"
  if part e2e; then
    e2e 1 "$TOPIC_P1" "$r"
    e2e 2 "$TOPIC_P2" "$r"
    dev/flink-cluster.sh stop >/dev/null
  fi
  part anchors || continue
  for t in p1:"$TOPIC_P1" p2:"$TOPIC_P2"; do
    "${BENCH[@]}" io.celerybridge.bench.PulsarCeiling --service-url "$PULSAR" --topic "${t#*:}" --count "$EVENTS" 2>/dev/null \
      | record "pulsar_ceiling_${t%%:*}"
  done
  for p in 1 2; do
    flush
    "${BENCH[@]}" io.celerybridge.bench.SinkThroughputBenchmark --valkey-uri "$URI" --events "$SINK_EVENTS" --parallelism "$p" 2>/dev/null \
      | record "sink_p$p"
  done
  flush; $PY bench/apply_async_loop.py "$URI" 5000 | record apply_async
  flush; $PY bench/kombu_publish_loop.py "$URI" 5000 | record kombu_publish
  flush   # FLUSHALL keeps the script cache: SHA stays loaded
  vb_script 1 64 4 300000 | record valkey_script_1
  flush; vb_script 100 2 2 3000 | record valkey_script_100
  flush; valkey-benchmark -p "$VALKEY_PORT" -n 500000 -P 64 -c 4 -d 1400 -t lpush -q --csv | tail -n1 | cut -d, -f2 | tr -d '"' \
    | sed 's/^/RESULT x rate=/' | record valkey_lpush
done

# sink_durability LABEL ARGS...: the sink alone at parallelism 1 and 2 with ARGS, recorded as LABEL_pP.
sink_durability() {
  local label=$1; shift
  for p in 1 2; do
    flush
    "${BENCH[@]}" io.celerybridge.bench.SinkThroughputBenchmark --valkey-uri "$URI" --events "$SINK_EVENTS" --parallelism "$p" "$@" \
      2>/dev/null | record "${label}_p$p"
  done
}
aof_ready() { valkey-cli -p "$VALKEY_PORT" info persistence | grep -q '^aof_rewrite_in_progress:0' \
  && valkey-cli -p "$VALKEY_PORT" info persistence | grep -q '^aof_enabled:1'; }
if part durability; then
  REPLICA_PORT=$((VALKEY_PORT + 1)) REPLICA_DIR=$STATE_DIR/valkey-replica-$((VALKEY_PORT + 1))
  mkdir -p "$REPLICA_DIR"
  # A stock replica; the bench's own trap stops it by its pid file.
  valkey-server --port "$REPLICA_PORT" --bind 127.0.0.1 --dir "$REPLICA_DIR" --replicaof 127.0.0.1 "$VALKEY_PORT" \
    --daemonize yes --pidfile "$REPLICA_DIR/valkey.pid" --logfile "$REPLICA_DIR/valkey.log"
  trap 'stop_pid valkey-replica "$REPLICA_DIR/valkey.pid" >/dev/null 2>&1 || true; cleanup' INT TERM EXIT
  wait_until 30 "the replica in sync" sh -c "valkey-cli -p $REPLICA_PORT info replication | grep -q '^master_link_status:up'" \
    || die "the replica on $REPLICA_PORT did not sync; see $REPLICA_DIR/valkey.log"
  for r in $(seq "$REPEATS"); do
    log "durability, repeat $r of $REPEATS"
    valkey-cli -p "$VALKEY_PORT" config set appendonly no >/dev/null
    valkey-cli -p "$VALKEY_PORT" config set appendfsync everysec >/dev/null
    sink_durability dur_none
    sink_durability dur_wait1 --wait-replicas 1
    valkey-cli -p "$VALKEY_PORT" config set appendonly yes >/dev/null
    wait_until 60 "the append-only file" aof_ready || die "Valkey did not finish its AOF rewrite"
    sink_durability dur_aof
    sink_durability dur_waitaof --wait-aof
    # WAITAOF counts a replica only once its own append-only file has the write: a replica
    # without one never acknowledges, and the sink would hold its tasks forever. With the stock
    # appendfsync everysec on the replica it acknowledges about once a second (measured: 841
    # tasks/s, p1), so the replica fsyncs every write here, as a user of this option would set it.
    valkey-cli -p "$REPLICA_PORT" config set appendonly yes >/dev/null
    valkey-cli -p "$REPLICA_PORT" config set appendfsync always >/dev/null
    wait_until 60 "the replica's append-only file" sh -c "valkey-cli -p $REPLICA_PORT info persistence | grep -q '^aof_rewrite_in_progress:0' \
      && valkey-cli -p $REPLICA_PORT info persistence | grep -q '^aof_enabled:1'" || die "the replica did not finish its AOF rewrite"
    sink_durability dur_waitaof_wait1 --wait-aof --wait-replicas 1
    valkey-cli -p "$REPLICA_PORT" config set appendonly no >/dev/null
    valkey-cli -p "$REPLICA_PORT" config set appendfsync everysec >/dev/null
    valkey-cli -p "$VALKEY_PORT" config set appendfsync always >/dev/null
    sink_durability dur_always
  done
  valkey-cli -p "$VALKEY_PORT" config set appendonly no >/dev/null
  valkey-cli -p "$VALKEY_PORT" config set appendfsync everysec >/dev/null
  stop_pid valkey-replica "$REPLICA_DIR/valkey.pid" >/dev/null 2>&1 || true
fi

# latency|soak RATE SECONDS WARMUP [CSV]: a fresh job at parallelism 2 reads what is published from now on.
probe() {
  local label=$1 rate=$2 seconds=$3 warmup=$4 csv=${5:-} jar job diag=$RESULTS/diag/$1-$(date +%H%M%S)
  mkdir -p "$diag"
  fresh_cluster; flush; jar=$(upload_jar)
  job=$(submit "$jar" 2 --set "topic=$TOPIC_LAT" --set "dlq_topic=$TOPIC_LAT-dlq" --set channel=bench-latency \
      --set "pulsar.subscription=$label-$RANDOM" --set pulsar.start_position=latest --set cache_ttl=15m) \
    || die "the cluster refused the job"
  wait_until 120 "job $job" job_running "$job" || die "job $job did not start"
  sleep 5 # the readers subscribe after RUNNING
  "${PROBE[@]}" io.celerybridge.bench.LatencyProbe --service-url "$PULSAR" --topic "$TOPIC_LAT" --valkey-uri "$URI" \
    --queue bench-latency --rate "$rate" --seconds "$seconds" --warmup "$warmup" --rest "$REST" --tm-pid "$(tm_pid)" \
    --timeline-csv "$diag/timeline.csv" ${csv:+--samples-csv "$csv" --sample-every 5 --live-heap} 2>/dev/null | record "$label"
  # What the latency timeline is lined up with: checkpoints, GC pauses, the JobManager's log.
  curl -fsS "$REST/jobs/$job/checkpoints" >"$diag/checkpoints.json" || true
  cancel "$job"
  cp "$STATE_DIR/flink-cluster-$FLINK_REST_PORT"/{JM.log,TM.log,gc-*.log} "$diag/" 2>/dev/null || true
}
for r in $(seq "$REPEATS"); do
  part latency || break
  probe latency "$LAT_RATE" "$LAT_SECONDS" 90   # a fresh TaskManager compiles for about a minute
done
if [ "$SOAK" = 1 ]; then
  HALF=${SOAK_RATE:-$($PY -c "import statistics,re; r=[int(re.search(r' rate=(\d+)', l).group(1)) for l in open('$RAW') if l.startswith('e2e_p2 ')]; print(statistics.median(r)//2)")}
  log "soak: ${SOAK_SECONDS}s at $HALF events/s"
  probe soak "$HALF" "$SOAK_SECONDS" "$SOAK_WARMUP" "$RESULTS/soak.csv"
fi
dev/flink-cluster.sh stop >/dev/null

$PY bench/report.py "$RAW" "$RESULTS"
