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
# join_native before any single get(): a get() drains other results into a buffer join_native never reads
total = sum(ResultSet(results).join_native(timeout=60))
grouped = group(add.s(i, 0) for i in range(50)).apply_async().get(timeout=30)
later = add.apply_async((20, 22), countdown=1)
retried = flaky.delay(2)
# more countdown tasks than the worker's prefetch (2 processes x 4): Celery raises its prefetch
# for each one it holds, so a task sent after them still runs at once
held = [add.apply_async((i, 0), countdown=5) for i in range(12)]
a = time.monotonic()
behind_countdowns = add.delay(1, 1).get(timeout=30)
behind_countdowns_s = time.monotonic() - a
print(json.dumps({
    'sequential': sequential,
    'sum': total,
    'countdown': later.get(timeout=30),
    'retries': retried.get(timeout=30),
    'group': sum(grouped),
    'behind_countdowns': behind_countdowns,
    'behind_countdowns_s': round(behind_countdowns_s, 3),
    'held': sum(r.get(timeout=30) for r in held),
    'seconds': round(time.monotonic() - t0, 3),
}), flush=True)
