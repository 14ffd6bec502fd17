"""An ordinary Celery app that executes the tasks celery-bridge enqueues.

Nothing here knows about Flink or Pulsar: the bridge writes stock Celery protocol v2 messages to
the broker, and this worker runs them unchanged.

Environment:
  CELERY_BROKER_URL       broker (default redis://127.0.0.1:6379/0); behind Sentinel, kombu's form
                          sentinel://s1:26379;sentinel://s2:26379;sentinel://s3:26379/0 (the job's
                          valkey.uri is then redis-sentinel://s1:26379,s2:26379,s3:26379/0#<name>)
  CELERY_SENTINEL_MASTER  with a sentinel:// broker: the name of the primary the Sentinels monitor
  CELERY_RESULT_BACKEND   result backend (default: the broker URL), so tests can read results
  CELERY_BRIDGE_COUNT_RUNS  "1" (default) counts every execution per task id in the hash
                          celery-bridge:executions, which lets tests prove no task ran twice
"""
import os

from celery import Celery, signals

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")

app = Celery(
    "celery_bridge_example",
    broker=BROKER_URL,
    backend=os.environ.get("CELERY_RESULT_BACKEND", BROKER_URL),
)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    result_expires=24 * 3600,
    task_acks_late=False,
    worker_hijack_root_logger=False,
)
SENTINEL_MASTER = os.environ.get("CELERY_SENTINEL_MASTER")
if SENTINEL_MASTER:
    app.conf.broker_transport_options = {"master_name": SENTINEL_MASTER}
    app.conf.result_backend_transport_options = {"master_name": SENTINEL_MASTER}

EXECUTIONS_KEY = "celery-bridge:executions"
COUNT_RUNS = os.environ.get("CELERY_BRIDGE_COUNT_RUNS", "1") == "1"


@signals.task_prerun.connect
def _count_run(task_id=None, **_):
    if COUNT_RUNS:
        app.backend.client.hincrby(EXECUTIONS_KEY, task_id, 1)


@app.task(name="celery_bridge.process_event")
def process_event(event, **meta):
    """Processes one event; returns it so a caller can check what arrived."""
    return {"event": event, "meta": meta}


@app.task(name="celery_bridge.process_batch")
def process_batch(events):
    return {"count": len(events)}


@app.task(name="celery_bridge.inspect_request", bind=True)
def inspect_request(self, *args, **kwargs):
    """Returns what the worker received, so tests can check the wire format end to end."""
    req = self.request
    return {
        "args": list(args),
        "kwargs": kwargs,
        "id": req.id,
        "eta": req.eta,
        "expires": req.expires,
        "headers": {k: v for k, v in vars(req).items() if k.startswith("x-")},
        "routing_key": (req.delivery_info or {}).get("routing_key"),
        "priority": (req.delivery_info or {}).get("priority"),
    }


@app.task(name="celery_bridge.record")
def record(run, tag):
    """Appends tag to the list celery-bridge:record:<run>: the order tasks ran in."""
    app.backend.client.rpush("celery-bridge:record:" + run, tag)
    return tag


@app.task(name="celery_bridge.add")
def add(x, y):
    return x + y
