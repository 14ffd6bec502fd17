"""The compose stack end to end, as a user runs it (run by dev/compose-test.sh).

Runs `docker compose up -d --wait` (which builds the images) with two TaskManagers (Grafana scaled to 0: its
image comes from Docker Hub, which CI cannot reach), then checks what a user relies on:
  - events with known ids (some published twice), from the host through the published Pulsar port
    and from inside the stack, each execute exactly once on the stack's worker;
  - malformed ones are on the DLQ topic, once each, with their reason (TRUNCATED_JSON);
  - stop with a savepoint, publish while no job runs, resume from the savepoint at another
    parallelism: nothing lost, nothing run twice, the job restored from that savepoint;
  - Prometheus finds the JobManager and both TaskManagers (DNS discovery) and every query of the
    Grafana dashboard returns data from its scrapes; the provisioning files point at this stack;
then `docker compose down -v`. Talks to the stack over its published ports (set by the caller).
"""
import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

try:
    import redis
except ImportError:
    sys.exit("compose-test: python3-redis is missing (dev/install-packages.sh installs it)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORTS = {k: int(os.environ[k]) for k in
         ("PULSAR_PORT", "PULSAR_HTTP_PORT", "VALKEY_PORT", "FLINK_REST_PORT", "PROMETHEUS_PORT")}
TASK_ID_NAMESPACE = uuid.UUID("6f1c9a52-3c1e-4a57-9d7b-2f0c5e8a41d3")  # CeleryTaskIds.NAMESPACE
EVENTS_TOPIC = "persistent/public/default/celery-bridge-events"
DLQ_TOPIC = "persistent/public/default/celery-bridge-events-dlq"
DLQ_SUBSCRIPTION = "celery-bridge-dlq"
PER_PHASE = 200
REPEAT_EVERY = 10
MALFORMED_EVERY = 40
T0 = time.monotonic()


def log(msg):
    print(f"compose-test [{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def fail(msg):
    raise AssertionError(msg)


def compose(*args, check=True, capture=False, env=None):
    cmd = ["docker", "compose", *args]
    res = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, text=True,
                         stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT if capture else None)
    if check and res.returncode != 0:
        fail(f"`{' '.join(cmd)}` exited {res.returncode}" + (f":\n{res.stdout}" if capture else ""))
    return res.stdout if capture else res.returncode


def http_json(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return json.load(r)


def wait_for(what, seconds, probe):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except (OSError, ValueError, urllib.error.URLError) as e:
            last = e
        time.sleep(1)
    fail(f"timed out after {seconds} s waiting for {what} (last: {last})")


def task_id(event_id):
    return str(uuid.uuid5(TASK_ID_NAMESPACE, event_id))


def publish(prefix, from_host=False):
    """Publishes PER_PHASE events from inside the stack's network, as a user would with the cli
    service, or from the host's network through the published Pulsar port."""
    args = ["demo-producer", "--id-prefix", prefix, "--count", str(PER_PHASE), "--repeat-every", str(REPEAT_EVERY),
            "--malformed-every", str(MALFORMED_EVERY)]
    if from_host:
        cmd = ["docker", "run", "--rm", "--network", "host", "celery-bridge/flink:1.20.5", *args,
               "--pulsar.service-url", f"pulsar://localhost:{PORTS['PULSAR_PORT']}"]
        res = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = res.stdout
    else:
        out = compose("run", "--rm", "--no-deps", "cli", *args, "--pulsar.service-url", "pulsar://pulsar:6650",
                      capture=True)
    if f"published {PER_PHASE} events" not in out:
        fail(f"demo-producer did not confirm its events:\n{out}")
    good = [f"{prefix}-{i}" for i in range(1, PER_PHASE + 1)]
    broken = [f"{prefix}-broken-{i}" for i in range(MALFORMED_EVERY, PER_PHASE + 1, MALFORMED_EVERY)]
    log(f"published {prefix} from {'the host' if from_host else 'the stack'}: {len(good)} events ({PER_PHASE // REPEAT_EVERY} of them twice), {len(broken)} malformed")
    return good, broken


def running_job():
    jobs = [j for j in http_json(PORTS["FLINK_REST_PORT"], "/jobs/overview")["jobs"] if j["state"] == "RUNNING"]
    return jobs[0]["jid"] if len(jobs) == 1 else None


def vertex_parallelism(job):
    return {v["name"]: v["parallelism"] for v in http_json(PORTS["FLINK_REST_PORT"], f"/jobs/{job}")["vertices"]}


def executions(valkey, ids):
    counts = valkey.hmget("celery-bridge:executions", [task_id(i) for i in ids])
    return {i: int(c or 0) for i, c in zip(ids, counts)}


def _varint(buf, i):
    value = shift = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def _single_message_metadata(buf):
    """(properties, payload_size) from Pulsar's SingleMessageMetadata protobuf (fields 1 and 3)."""
    props, size, i = {}, None, 0
    while i < len(buf):
        tag, i = _varint(buf, i)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, i = _varint(buf, i)
            if field == 3:
                size = value
        elif wire == 2:
            n, i = _varint(buf, i)
            chunk, i = buf[i:i + n], i + n
            if field == 1:  # KeyValue {1: key, 2: value}
                kv, j = {}, 0
                while j < len(chunk):
                    t, j = _varint(chunk, j)
                    m, j = _varint(chunk, j)
                    kv[t >> 3], j = chunk[j:j + m].decode(), j + m
                props[kv.get(1)] = kv.get(2)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    return props, size


def dlq_records():
    """Every record on the DLQ subscription (peeked, not consumed): [(reason, payload)].

    The REST peek answers a batched entry with the raw batch: each message is a 4-byte size, its
    SingleMessageMetadata, then its payload."""
    records, position = [], 1
    base = f"http://127.0.0.1:{PORTS['PULSAR_HTTP_PORT']}/admin/v2/{DLQ_TOPIC}/subscription/{DLQ_SUBSCRIPTION}/position/"
    while True:
        try:
            with urllib.request.urlopen(base + str(position), timeout=10) as r:
                body = r.read()
                if r.headers.get("X-Pulsar-num-batch-message") is None:
                    props = json.loads(r.headers.get("X-Pulsar-PROPERTY") or "{}")
                    records.append((props.get("celery-bridge.reason"), body.decode("utf-8", "replace")))
                else:
                    i = 0
                    for _ in range(int(r.headers["X-Pulsar-num-batch-message"])):
                        n = int.from_bytes(body[i:i + 4], "big")
                        props, size = _single_message_metadata(body[i + 4:i + 4 + n])
                        i += 4 + n
                        records.append((props.get("celery-bridge.reason"), body[i:i + size].decode("utf-8", "replace")))
                        i += size
        except urllib.error.HTTPError as e:
            if e.code in (404, 412):  # past the last record
                return records
            raise
        position += 1


def check_prometheus():
    def targets_up():
        active = http_json(PORTS["PROMETHEUS_PORT"], "/api/v1/targets?state=active")["data"]["activeTargets"]
        up = {}
        for t in active:
            if t["health"] == "up":
                up.setdefault(t["labels"]["job"], set()).add(t["labels"]["instance"])
        down = [t["labels"]["instance"] for t in active if t["health"] != "up"]
        return up if len(up.get("flink-jobmanager", ())) == 1 and len(up.get("flink-taskmanager", ())) == 2 \
            and not down else None
    up = wait_for("Prometheus to scrape 1 JobManager and 2 TaskManagers, none down", 120, targets_up)
    log(f"prometheus targets up: {json.dumps({k: sorted(v) for k, v in up.items()})}")

    dashboard = json.load(open(os.path.join(ROOT, "conf/grafana/celery-bridge-dashboard.json")))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    if not exprs:
        fail("the dashboard has no queries")

    def query(expr):
        q = urllib.parse.quote(expr)
        res = http_json(PORTS["PROMETHEUS_PORT"], f"/api/v1/query?query={q}")
        return res["data"]["result"]
    for expr in exprs:
        result = wait_for(f"data for dashboard query {expr}", 90, lambda: query(expr))
        log(f"dashboard query returns {len(result)} series: {expr}")


def check_grafana_provisioning(config):
    """Grafana cannot run here; its provisioning must at least point at this stack's Prometheus and files."""
    datasources = open(os.path.join(ROOT, "conf/grafana/provisioning/datasources/prometheus.yml")).read()
    if "url: http://prometheus:9090" not in datasources or "prometheus" not in config["services"]:
        fail("the Grafana datasource does not point at the stack's prometheus service")
    provider = open(os.path.join(ROOT, "conf/grafana/provisioning/dashboards/celery-bridge.yml")).read()
    targets = [v["target"] for v in config["services"]["grafana"]["volumes"]]
    if "path: /var/lib/grafana/dashboards" not in provider \
            or "/var/lib/grafana/dashboards/celery-bridge.json" not in targets:
        fail("the Grafana dashboard provider does not read the mounted dashboard")


def main():
    timings = {}
    start = time.monotonic()
    compose("down", "-v", "--remove-orphans")
    config = json.loads(compose("config", "--format", "json", capture=True))
    check_grafana_provisioning(config)

    ok = False
    try:
        # The user's command: builds what is missing, starts everything, waits for every healthcheck.
        compose("up", "-d", "--wait", "--build", "--pull", "never", "--scale", "grafana=0", "--scale", "taskmanager=2")
        timings["up"] = time.monotonic() - start
        log(f"every service healthy after {timings['up']:.0f} s (image builds included)")
        sizes = subprocess.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}",
                                "celery-bridge/*"], text=True, capture_output=True).stdout.strip()
        log("images:\n" + sizes)
        valkey = redis.Redis(host="127.0.0.1", port=PORTS["VALKEY_PORT"])
        job = wait_for("the job running", 60, running_job)
        before = vertex_parallelism(job)
        log(f"job {job} running, parallelism {before}")
        if sorted(p for n, p in before.items() if not n.startswith("Source")) [-1] != 2:
            fail(f"PARALLELISM=2 (the default) did not reach the job: {before}")

        run = f"ci-{int(time.time())}"
        good, broken = publish(f"{run}-a", from_host=True)
        wait_for("phase a executed", 180, lambda: all(c >= 1 for c in executions(valkey, good).values()))
        log("phase a: every event executed")

        more, more_broken = publish(f"{run}-b")  # in flight while the job stops
        good += more
        broken += more_broken
        out = compose("run", "--rm", "--no-deps", "cli", "flink", "stop", "--savepointPath",
                      "file:///flink-data/savepoints", job, capture=True)
        savepoint = next((line.split("Path:", 1)[1].strip() for line in out.splitlines() if "Path:" in line), None)
        if not savepoint:
            fail(f"flink stop printed no savepoint path:\n{out}")
        log(f"stopped with savepoint {savepoint}")
        state = wait_for("the JobManager to exit after the stop", 60, lambda: compose(
            "ps", "-a", "--format", "{{.State}} {{.ExitCode}}", "jobmanager", capture=True).strip().startswith("exited")
            and compose("ps", "-a", "--format", "{{.State}} {{.ExitCode}}", "jobmanager", capture=True).strip())
        if not state.endswith(" 0"):
            fail(f"the application did not end cleanly after stop-with-savepoint: {state}")
        log(f"jobmanager container {state} (application mode ends with its job)")

        more, more_broken = publish(f"{run}-c")  # while no job runs
        good += more
        broken += more_broken

        t = time.monotonic()
        compose("up", "-d", "--wait", "jobmanager", env={"FROM_SAVEPOINT": savepoint, "PARALLELISM": "1"})
        timings["resume"] = time.monotonic() - t
        job = wait_for("the resumed job running", 60, running_job)
        after = vertex_parallelism(job)
        restored = http_json(PORTS["FLINK_REST_PORT"], f"/jobs/{job}/checkpoints")["latest"]["restored"]
        log(f"resumed as {job} in {timings['resume']:.0f} s, parallelism {after}, restored from {restored and restored['external_path']}")
        if any(p != 1 for p in after.values()):
            fail(f"PARALLELISM=1 did not reach the resumed job: {after}")
        if not restored or restored["external_path"].rstrip("/") != savepoint.rstrip("/"):
            fail(f"the resumed job did not restore the savepoint {savepoint}: {restored}")

        more, more_broken = publish(f"{run}-d")
        good += more
        broken += more_broken
        # Positive evidence that everything published so far was read: the last event published
        # after it has run (one topic, one reader, read in order).
        sentinel, sentinel_broken = publish(f"{run}-z")
        broken += sentinel_broken
        wait_for("every event executed", 240, lambda: all(c >= 1 for c in executions(valkey, good + sentinel).values()))
        counts = executions(valkey, good)
        twice = {i: c for i, c in counts.items() if c != 1}
        if twice:
            fail(f"{len(twice)} events did not run exactly once: {dict(list(twice.items())[:10])}")
        log(f"{len(good)} events (4 phases, {len(good) // REPEAT_EVERY} published twice) each executed exactly once")

        def broken_on_dlq():
            records = dlq_records()
            mine = [(reason, payload) for reason, payload in records if f"{run}-" in payload]
            return mine if len(mine) >= len(broken) else None
        mine = wait_for("the malformed events on the DLQ topic", 120, broken_on_dlq)
        by_id = {}
        for reason, payload in mine:
            for b in broken:
                if f'"{b}"' in payload:
                    by_id.setdefault(b, []).append(reason)
        # The demo producer's malformed events are JSON cut short.
        wrong = {b: r for b, r in by_id.items() if r != ["TRUNCATED_JSON"]}
        if len(mine) != len(broken) or set(by_id) != set(broken) or wrong:
            fail(f"DLQ: expected {len(broken)} TRUNCATED_JSON records, one per malformed event; got {len(mine)}: "
                 f"missing {sorted(set(broken) - set(by_id))}, wrong {wrong}")
        log(f"{len(broken)} malformed events on the DLQ topic once each, reason TRUNCATED_JSON")

        check_prometheus()
        log("memory in use:\n" + subprocess.run(
            ["docker", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}"],
            text=True, capture_output=True).stdout.strip())
        ok = True
    finally:
        if not ok:
            compose("ps", "-a", check=False)
            compose("logs", "--no-color", "--tail", "60", check=False)
        if os.environ.get("KEEP_STACK") != "1":
            compose("down", "-v", "--remove-orphans", check=False)
    timings["total"] = time.monotonic() - start
    log("PASSED; seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        log(f"FAILED: {e}")
        sys.exit(1)
