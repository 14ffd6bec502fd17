"""Turns bench/results/raw.txt (one line per measurement: LABEL key=value ...) into the table
printed by bench/run.sh, e2e.md and e2e.png (and soak.png from soak.csv when a soak ran)."""
import csv
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

raw, out = sys.argv[1], sys.argv[2]
runs, meta = {}, {}
for line in open(raw):
    label, *pairs = line.split()
    fields = dict(p.split("=", 1) for p in pairs)
    if label == "meta":
        meta = fields
    else:
        runs.setdefault(label, []).append({k: float(v) for k, v in fields.items() if k != "error"})


def stats(label, key):
    if ":" in label:
        label, key = label.split(":")
    values = sorted(r[key] for r in runs.get(label, []) if key in r)
    return (values[0], statistics.median(values), values[-1]) if values else None


def med(label, key="rate"):
    s = stats(label, key)
    return s[1] if s else float("nan")


THROUGHPUT = [
    ("e2e_p1", "job end to end, parallelism 1, first to last enqueue", "events/s"),
    ("e2e_p2", "job end to end, parallelism 2, first to last enqueue", "events/s"),
    ("e2e_p1:warm_rate", "job end to end, parallelism 1, warm (second half of the tasks)", "events/s"),
    ("e2e_p2:warm_rate", "job end to end, parallelism 2, warm (second half of the tasks)", "events/s"),
    ("sink_p1", "Celery sink alone, parallelism 1", "tasks/s"),
    ("sink_p2", "Celery sink alone, parallelism 2", "tasks/s"),
    ("pulsar_ceiling_p1", "plain Pulsar consumer, 1 partition", "msgs/s"),
    ("pulsar_ceiling_p2", "plain Pulsar consumer, 2 partitions", "msgs/s"),
    ("pulsar_publish", "pre-fill producer (for reference)", "msgs/s"),
    ("apply_async", "Python Celery apply_async loop", "tasks/s"),
    ("kombu_publish", "Python kombu Producer.publish loop", "tasks/s"),
    ("valkey_script_1", "valkey-benchmark, sink script, 1 event/call", "events/s"),
    ("valkey_script_100", "valkey-benchmark, sink script, 100 events/call", "events/s"),
    ("valkey_lpush", "valkey-benchmark, plain LPUSH 1.4 KB, pipelined", "ops/s"),
]
RESOURCES = [("tm_cpu_cores", "TaskManager CPU (cores)", "%.2f"), ("machine_cpu_cores", "whole machine CPU (cores)", "%.2f"),
             ("heap_max_mb", "TaskManager peak heap (MB)", "%.0f"), ("rss_max_mb", "TaskManager peak RSS (MB)", "%.0f"),
             ("extra_tasks", "tasks beyond one per unique event", "%.0f")]
LATENCY = [("p50_ms", "p50 (ms)", "%.1f"), ("p95_ms", "p95 (ms)", "%.1f"), ("p99_ms", "p99 (ms)", "%.1f"),
           ("max_ms", "max (ms)", "%.1f"), ("achieved", "offered rate achieved (events/s)", "%.0f"),
           ("missing", "events without a task after 30 s", "%.0f"),
           ("catch_up_s", "a fresh job catching up: seconds until every later second's mean latency is < 1 s", "%.0f"), ("tm_cpu_cores", "TaskManager CPU (cores)", "%.2f"),
           ("heap_max_mb", "TaskManager peak heap (MB)", "%.0f"), ("rss_max_mb", "TaskManager peak RSS (MB)", "%.0f")]


def row(name, s, fmt="%.0f"):
    return "| %s | %s | %s | %s |" % (name, fmt % s[0], fmt % s[1], fmt % s[2])


def ratio(a, b):
    return "%.2f" % (a / b) if b else "n/a"


lines = ["# celery-bridge benchmark (%s, %s cores, %s events of 1 KB, %s%% repeats, %s repeats of each figure)"
         % (meta.get("date"), meta.get("cores"), meta.get("events"), float(meta.get("dup_share", 0)) * 100, meta.get("repeats")),
         "", "## Throughput", "", "| what | unit | min | median | max |", "| --- | --- | ---: | ---: | ---: |"]
for label, name, unit in THROUGHPUT:
    s = stats(label, "rate")
    if s:
        lines.append("| %s | %s | %.0f | %.0f | %.0f |" % (name, unit, *s))
for p in ("1", "2"):
    if "e2e_p" + p in runs:
        lines += ["", "## Job end to end, parallelism %s: resources while draining" % p, "",
                  "| figure | min | median | max |", "| --- | ---: | ---: | ---: |"]
        lines += [row(name, stats("e2e_p" + p, key), fmt) for key, name, fmt in RESOURCES if stats("e2e_p" + p, key)]
if "latency" in runs:
    lines += ["", "## Publish→enqueue latency at %s events/s offered, parallelism 2" % meta.get("lat_rate"), "",
              "| figure | min | median | max |", "| --- | ---: | ---: | ---: |"]
    lines += [row(name, stats("latency", key), fmt) for key, name, fmt in LATENCY if stats("latency", key)]

DURABILITY = [("dur_none", "no wait, no append-only file (stock)"), ("dur_wait1", "WAIT 1 replica"),
              ("dur_aof", "append-only file, appendfsync everysec, no wait"),
              ("dur_waitaof", "append-only file + WAITAOF (local fsync)"),
              ("dur_waitaof_wait1", "append-only files on both (replica appendfsync always) + WAITAOF 1 1"),
              ("dur_always", "appendfsync always, no wait")]
if any(label + "_p1" in runs for label, _ in DURABILITY):
    lines += ["", "## Celery sink alone with the durability option (primary + 1 replica), tasks/s", "",
              "| what the sink waits for | p1 median (min-max) | p2 median (min-max) | p2 / none |",
              "| --- | ---: | ---: | ---: |"]
    for label, name in DURABILITY:
        cells = []
        for p in ("1", "2"):
            s = stats(label + "_p" + p, "rate")
            cells.append("%.0f (%.0f-%.0f)" % (s[1], s[0], s[2]) if s else "n/a")
        lines.append("| %s | %s | %s | %s |" % (name, cells[0], cells[1], ratio(med(label + "_p2"), med("dur_none_p2"))))

e2e = med("e2e_p2")
lines += ["", "## Ratios (medians)", "", "| ratio | value |", "| --- | ---: |",
          "| job p2 / apply_async | %s |" % ratio(e2e, med("apply_async")),
          "| job p2 / kombu publish | %s |" % ratio(e2e, med("kombu_publish")),
          "| job p2 / Pulsar ceiling (2 partitions) | %s |" % ratio(e2e, med("pulsar_ceiling_p2")),
          "| job p1 / Pulsar ceiling (1 partition) | %s |" % ratio(med("e2e_p1"), med("pulsar_ceiling_p1")),
          "| sink p2 / Valkey ceiling for its script (100 events/call) | %s |" % ratio(med("sink_p2"), med("valkey_script_100")),
          "| sink p2 / plain pipelined LPUSH | %s |" % ratio(med("sink_p2"), med("valkey_lpush"))]


def verdict(ok):
    return "met" if ok else "MISSED"


targets = [("job end to end >= 30,000 events/s (p2)", "%.0f" % e2e, verdict(e2e >= 30000)),
           ("job >= 20x apply_async", ratio(e2e, med("apply_async")), verdict(e2e >= 20 * med("apply_async"))),
           ("sink alone >= 100,000 tasks/s", "%.0f" % max(med("sink_p1"), med("sink_p2")),
            verdict(max(med("sink_p1"), med("sink_p2")) >= 100000))]
if "latency" in runs:
    targets.append(("p99 publish→enqueue <= 100 ms at %s/s" % meta.get("lat_rate"), "%.1f ms" % med("latency", "p99_ms"),
                    verdict(med("latency", "p99_ms") <= 100)))

soak_csv = os.path.join(out, "soak.csv")
soak = None
if "soak" in runs and os.path.exists(soak_csv):
    rows = [(float(r["seconds"]), float(r["heap_mb"]), float(r["rss_mb"])) for r in csv.DictReader(open(soak_csv))]
    # The heap's floor per minute (its lowest sample, i.e. after a collection), and the trend of
    # the floors after the first minute: a leak shows as a steady rise.
    floors = {}
    for t, heap, _ in rows:
        m = int(t // 60)
        floors[m] = min(floors.get(m, heap), heap)
    xs = sorted(m for m in floors if m >= 1)
    ys = [floors[m] for m in xs]
    slope = statistics.linear_regression(xs, ys).slope if len(xs) >= 2 else float("nan")
    soak = (rows, floors, slope)
    s = runs["soak"][0]
    lines += ["", "## Soak: %.0f s at %.0f events/s offered, parallelism 2" % (len(rows) * 5, s["offered"]), "",
              "| figure | value |", "| --- | ---: |",
              "| heap floor, minute 1 / last minute (MB) | %.0f / %.0f |" % (ys[0], ys[-1]),
              "| heap floor trend (MB per minute) | %+.2f |" % slope,
              "| RSS first / last sample (MB) | %.0f / %.0f |" % (rows[0][2], rows[-1][2]),
              "| p50 / p99 latency (ms) | %.1f / %.1f |" % (s["p50_ms"], s["p99_ms"]),
              "| events without a task | %.0f |" % s["missing"]]
    if "catch_up_s" in s:
        lines.append("| a fresh job catching up: seconds until every later second's mean latency is < 1 s | %.0f |" % s["catch_up_s"])
    live = [s.get(k) for k in ("live_heap_start_mb", "live_heap_mid_mb", "live_heap_end_mb")]
    trend = s.get("live_heap_slope_mb_min")
    if trend is not None and trend == trend:
        lines.append("| live heap after a full GC, every minute after the warm-up: first / middle / last (MB) | %.1f / %.1f / %.1f |"
                     % tuple(live))
        lines.append("| live heap trend, least squares over %.0f samples (MB per minute) | %+.2f |" % (s["live_heap_samples"], trend))
        # The target is no growth: what is in flight moves single samples by ~100 MB, a leak only one way.
        targets.append(("soak: steady heap (live heap trend < +1 MB/min)", "%+.2f MB/min" % trend, verdict(trend < 1)))
    else:
        targets.append(("soak: steady heap (floor trend < 1 MB/min)", "%+.2f MB/min" % slope, verdict(abs(slope) < 1)))

lines += ["", "## Targets (2 cores, parallelism 2, 1 KB events)", "", "| target | measured | |", "| --- | ---: | --- |"]
lines += ["| %s | %s | %s |" % t for t in targets]
text = "\n".join(lines) + "\n"
print(text)
open(os.path.join(out, "e2e.md"), "w").write(text)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 6), gridspec_kw={"width_ratios": [3, 1]})
names, medians, lo, hi = [], [], [], []
for label, name, unit in reversed(THROUGHPUT):
    s = stats(label, "rate")
    if s:
        names.append("%s (%s)" % (name, unit))
        medians.append(s[1])
        lo.append(s[1] - s[0])
        hi.append(s[2] - s[1])
colors = ["tab:blue" if n.startswith(("job", "Celery sink")) else "tab:gray" for n in names]
ax1.barh(names, medians, xerr=[lo, hi], color=colors, capsize=3)
ax1.set_xscale("log")
ax1.set_xlabel("per second (median, min-max bars, log scale)")
ax1.set_title("Throughput: celery-bridge (blue) and anchors (gray)")
if "latency" in runs:
    keys = ["p50_ms", "p95_ms", "p99_ms"]
    ax2.bar(["p50", "p95", "p99"], [med("latency", k) for k in keys],
            yerr=[[med("latency", k) - stats("latency", k)[0] for k in keys], [stats("latency", k)[2] - med("latency", k) for k in keys]],
            capsize=3, color="tab:blue")
    ax2.axhline(100, color="tab:red", linestyle="--", label="target p99")
    ax2.set_yscale("log")
    ax2.set_ylabel("ms (log scale)")
    ax2.set_title("Publish→enqueue at %s/s" % meta.get("lat_rate"))
    ax2.legend()
fig.tight_layout()
fig.savefig(os.path.join(out, "e2e.png"), dpi=100)

if soak:
    rows, floors, slope = soak
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot([r[0] / 60 for r in rows], [r[1] for r in rows], label="heap used", linewidth=0.8)
    ax.plot([r[0] / 60 for r in rows], [r[2] for r in rows], label="RSS")
    ax.plot([m + 0.5 for m in sorted(floors)], [floors[m] for m in sorted(floors)], "o-", label="heap floor per minute")
    ax.set_xlabel("minutes")
    ax.set_ylabel("MB")
    ax.set_title("Soak: TaskManager memory (floor trend %+.2f MB/min)" % slope)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "soak.png"), dpi=100)
