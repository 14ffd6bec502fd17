"""Anchor: Python Celery apply_async in a loop against the same Valkey (Debian's python3-celery)."""
import sys
import time

from celery import Celery

url, count = sys.argv[1], int(sys.argv[2])
app = Celery("bench", broker=url)
payload = {"id": "x", "type": "bench", "data": "x" * 980}
task = app.signature("celery_bridge.process_event")
task.apply_async(kwargs={"event": payload}, queue="bench-apply-async")  # connect and declare first
start = time.perf_counter()
for i in range(count):
    app.send_task("celery_bridge.process_event", kwargs={"event": payload}, queue="bench-apply-async")
elapsed = time.perf_counter() - start
print("RESULT apply_async events=%d seconds=%.3f rate=%.0f" % (count, elapsed, count / elapsed))
