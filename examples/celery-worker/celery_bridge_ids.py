"""Task ids as celery-bridge derives them, for AsyncResult lookups from Python.

celery-bridge gives each event's task a deterministic id: the name-based UUID (version 5) of the
event's identity key in a fixed namespace. The same event always has the same task id, so a
Python caller that knows an event id can find its result without being told the task id:

    from celery_bridge_ids import task_id
    AsyncResult(task_id("order-1234"), app=app).get()

Only the standard library. Checked against the Java implementation by the project's tests
(PythonTaskIdsITCase).
"""

import hashlib
import uuid

# CeleryTaskIds.NAMESPACE in the Java code: changing it changes every id.
NAMESPACE = uuid.UUID("6f1c9a52-3c1e-4a57-9d7b-2f0c5e8a41d3")

# Keys the bridge derives itself start with "~"; a string id that does is escaped with one more.
_RESERVED = "~"


def identity_key(event_id):
    """The identity key of an event id as found at events.id_pointer: a non-empty string or an integer."""
    if isinstance(event_id, bool) or not isinstance(event_id, (str, int)):
        raise TypeError("an event id is a non-empty string or an integer, got %r" % (event_id,))
    if isinstance(event_id, int):
        return _RESERVED + "int:%d" % event_id  # 42 and "42" are different events
    if not event_id:
        raise ValueError("an event id is a non-empty string")
    return _RESERVED + event_id if event_id.startswith(_RESERVED) else event_id


def task_id_for_key(key):
    """The task id of an identity key."""
    return str(uuid.uuid5(NAMESPACE, key))


def task_id(event_id):
    """The task id of the event with this id (the value at events.id_pointer, "/id" by default)."""
    return task_id_for_key(identity_key(event_id))


def task_id_for_message_key(message_key):
    """The task id of an event without an id, with events.id_fallback: message_key."""
    return task_id_for_key(_RESERVED + "key:" + message_key)


def task_id_for_payload(payload):
    """The task id of an event without an id, with events.id_fallback: payload_hash (payload: the message's bytes)."""
    return task_id_for_key(_RESERVED + "sha256:" + hashlib.sha256(payload).hexdigest())


if __name__ == "__main__":
    import sys

    for arg in sys.argv[1:]:
        print(task_id(arg))
