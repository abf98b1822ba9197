"""A small Celery application for test/frameworks/celery.test.ts, set up as a new user would:
prefork workers, task_acks_late, prefetch multiplier 4, results over rpc://. BROKER_URL names
the broker (Warren started by the test)."""
import os
import sys

from celery import Celery
from celery.signals import worker_ready

app = Celery('warren_test', broker=os.environ['BROKER_URL'], backend='rpc://')
app.conf.update(task_acks_late=True, worker_prefetch_multiplier=4, worker_hijack_root_logger=False)


@app.task
def add(x, y):
    return x + y


@app.task(bind=True, max_retries=3, default_retry_delay=0.1)
def flaky(self, fails):
    # fails the first `fails` times: Celery republishes it (retry) each time
    if self.request.retries < fails:
        raise self.retry()
    return self.request.retries


@worker_ready.connect
def _announce(**_):
    print('warren test worker ready.', file=sys.stderr, flush=True)
