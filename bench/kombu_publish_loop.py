"""Anchor: kombu Producer.publish of a Celery protocol v2 message in a loop (Debian's python3-kombu),
what apply_async does minus Celery's own bookkeeping."""
import sys
import time
import uuid

from kombu import Connection, Exchange, Queue

url, count = sys.argv[1], int(sys.argv[2])
payload = {"id": "x", "type": "bench", "data": "x" * 980}
queue = Queue("bench-kombu", Exchange("bench-kombu"), routing_key="bench-kombu")
body = ((), {"event": payload}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None})


def publish(producer, declare):
    task_id = str(uuid.uuid4())
    headers = {"lang": "py", "task": "celery_bridge.process_event", "id": task_id, "root_id": task_id,
               "parent_id": None, "group": None, "retries": 0, "eta": None, "expires": None,
               "argsrepr": "()", "kwargsrepr": "{'event': ...}", "origin": "bench"}
    producer.publish(body, exchange="", routing_key="bench-kombu", headers=headers,
                     correlation_id=task_id, serializer="json", declare=declare, retry=False)


with Connection(url) as conn:
    producer = conn.Producer()
    publish(producer, [queue])  # connect and declare first
    start = time.perf_counter()
    for _ in range(count):
        publish(producer, None)
    elapsed = time.perf_counter() - start
print("RESULT kombu_publish events=%d seconds=%.3f rate=%.0f" % (count, elapsed, count / elapsed))
