"""The Celery application of bench/frameworks.mjs, configured as the issue's new user did:
prefork workers, task_acks_late, prefetch multiplier 4, results over rpc://.

BROKER_URL names the broker; DONE_FILE, when set, is where `tick` (a task without a result)
appends one byte per run task, so the client can tell when every task has run."""
import os

import sys

from celery import Celery
from celery.signals import worker_ready

app = Celery('bench', broker=os.environ['BROKER_URL'], backend='rpc://')
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=4,
    worker_hijack_root_logger=False,
)

_done_fd = None


@app.task
def add(x, y):
    return x + y


@app.task(ignore_result=True)
def tick():
    global _done_fd
    if _done_fd is None:
        _done_fd = os.open(os.environ['DONE_FILE'], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(_done_fd, b'.')


@worker_ready.connect
def _announce(**_):
    # the orchestrator waits for this line before it sends tasks (the worker logs at warning)
    print('bench worker ready.', file=sys.stderr, flush=True)
