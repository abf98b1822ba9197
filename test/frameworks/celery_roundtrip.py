"""Send N tasks, collect every result; one retried task and one with a countdown. Prints one
JSON line with what came back; the test checks it."""
import json
import sys
import time

from celery import group
from celery.result import ResultSet

from celery_app import add, flaky

n = int(sys.argv[1])
t0 = time.monotonic()
sequential = [add.delay(i, 1).get(timeout=30) for i in range(5)]
results = [add.delay(i, i) for i in range(n)]
later = add.apply_async((20, 22), countdown=1)
retried = flaky.delay(2)
total = sum(ResultSet(results).join_native(timeout=60))
grouped = group(add.s(i, 0) for i in range(50)).apply_async().get(timeout=30)
print(json.dumps({
    'sequential': sequential,
    'sum': total,
    'countdown': later.get(timeout=30),
    'retries': retried.get(timeout=30),
    'group': sum(grouped),
    'seconds': round(time.monotonic() - t0, 3),
}), flush=True)
