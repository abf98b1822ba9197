"""One Celery workload against the broker in BROKER_URL (workers already running); prints one
JSON line: {"mode", "value", "unit", ...}.

  sequential N   one task and its result at a time; mean round trip (ms)
  pipelined N    N tasks sent, then each result collected with AsyncResult.get() in order (s);
                 `stalls` counts the gets that waited >= 0.9 s (see docs/performance.md)
  joined N       N tasks sent, results collected with ResultSet.join_native() (s)
  noresult N     N tasks with ignore_result; done when the workers ran them all (s)
  group N        group(add.s(i, i) for i in range(N)).apply_async().get() (s)
"""
import json
import os
import sys
import time

from celery import group
from celery.result import ResultSet

sys.path.insert(0, os.path.dirname(__file__))
from celery_app import add, tick  # noqa: E402

mode, n = sys.argv[1], int(sys.argv[2])
out = {'mode': mode, 'n': n}
expected = sum(2 * i for i in range(n))
t0 = time.perf_counter()
if mode == 'sequential':
    for i in range(n):
        assert add.delay(i, i).get(timeout=30) == 2 * i
    out.update(value=(time.perf_counter() - t0) * 1000 / n, unit='ms per task')
elif mode == 'pipelined':
    rs = [add.delay(i, i) for i in range(n)]
    sent = time.perf_counter()
    total, stalls = 0, 0
    for r in rs:
        a = time.perf_counter()
        total += r.get(timeout=120)
        if time.perf_counter() - a >= 0.9:
            stalls += 1
    assert total == expected
    out.update(value=time.perf_counter() - t0, unit='s', sent_s=sent - t0, stalls=stalls)
elif mode == 'joined':
    rs = [add.delay(i, i) for i in range(n)]
    sent = time.perf_counter()
    assert sum(ResultSet(rs).join_native(timeout=120)) == expected
    out.update(value=time.perf_counter() - t0, unit='s', sent_s=sent - t0)
elif mode == 'noresult':
    done = os.environ['DONE_FILE']
    for _ in range(n):
        tick.delay()
    sent = time.perf_counter()
    while os.path.getsize(done) < n:
        time.sleep(0.002)
    out.update(value=time.perf_counter() - t0, unit='s', sent_s=sent - t0)
elif mode == 'group':
    assert sum(group(add.s(i, i) for i in range(n)).apply_async().get(timeout=120)) == expected
    out.update(value=time.perf_counter() - t0, unit='s')
else:
    raise SystemExit(f'unknown workload {mode}')
print(json.dumps(out), flush=True)
