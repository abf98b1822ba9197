"""Fan-in with paho-mqtt (Debian python3-paho-mqtt), at the library's defaults.

4 publishers (each its own client and network thread, loop_start) -> 1 subscriber on a
wildcard, at --qos, at most --inflight messages between publish and receipt (a closed loop).
Run by /usr/bin/python3 (bench only; never needed by tests or CI). Prints one JSON line with
the fields of bench/mqtt/mqttjs.mjs (latency from the publish time carried in the payload).

  /usr/bin/python3 bench/mqtt/paho_fan_in.py --url mqtt://127.0.0.1:1883 --qos 1 --seconds 10
"""
import argparse
import json
import os
import struct
import threading
import time
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

ap = argparse.ArgumentParser()
ap.add_argument('--url', default='mqtt://127.0.0.1:1883')
ap.add_argument('--qos', type=int, default=1)
ap.add_argument('--seconds', type=float, default=10)
ap.add_argument('--warmup', type=float, default=1)
ap.add_argument('--inflight', type=int, default=500)
ap.add_argument('--publishers', type=int, default=4)
ap.add_argument('--size', type=int, default=128)
ap.add_argument('--label', default='')
a = ap.parse_args()
u = urlparse(a.url)
run = f'pa{os.getpid()}'
size = max(16, a.size)
pad = b'.' * (size - 16)

cond = threading.Condition()
state = {'published': 0, 'received': 0, 'acked': 0, 'ooo': 0, 'running': True, 'measuring': False}
last = [-1] * a.publishers
lat = []


def on_message(_c, _u, msg):
    t, seq, pub = struct.unpack_from('<dII', msg.payload)
    with cond:
        state['received'] += 1
        if seq <= last[pub]:
            state['ooo'] += 1
        last[pub] = seq
        if state['measuring']:
            lat.append(time.time() * 1000 - t)
        cond.notify()


def on_publish(_c, _u, _mid):
    with cond:
        state['acked'] += 1


def client(cid):
    c = mqtt.Client(client_id=cid)
    c.connect(u.hostname, u.port or 1883)
    c.loop_start()
    return c


sub = client(f'{run}-sub')
sub.on_message = on_message
subscribed = threading.Event()
sub.on_subscribe = lambda *_: subscribed.set()
sub.subscribe(f'bench/{run}/+/data', a.qos)
subscribed.wait(10)
pubs = [client(f'{run}-pub-{i}') for i in range(a.publishers)]
for p in pubs:
    p.on_publish = on_publish
    # paho's default max_inflight_messages is 20; left as is
seqs = [0] * a.publishers


def publisher(i):
    p = pubs[i]
    topic = f'bench/{run}/{i}/data'
    while True:
        with cond:
            while state['running'] and state['published'] - state['received'] >= a.inflight:
                cond.wait(1)
            if not state['running']:
                return
            state['published'] += 1
        s = seqs[i]
        seqs[i] += 1
        p.publish(topic, struct.pack('<dII', time.time() * 1000, s, i) + pad, a.qos)


threads = [threading.Thread(target=publisher, args=(i,)) for i in range(a.publishers)]
for t in threads:
    t.start()
time.sleep(a.warmup)
r0 = state['received']
state['measuring'] = True
t0 = time.monotonic()
time.sleep(a.seconds)
state['measuring'] = False
elapsed = time.monotonic() - t0
measured = state['received'] - r0
with cond:
    state['running'] = False
    cond.notify_all()
for t in threads:
    t.join()
deadline = time.monotonic() + 15
while state['received'] < state['published'] and time.monotonic() < deadline:
    time.sleep(0.02)
deadline = time.monotonic() + 5
while a.qos > 0 and state['acked'] < state['published'] and time.monotonic() < deadline:
    time.sleep(0.02)
for c in [sub, *pubs]:
    c.disconnect()
    c.loop_stop()
lat.sort()


def pct(q):
    return round(lat[min(len(lat) - 1, int(q * len(lat)))], 3) if lat else None


ok = state['received'] == state['published'] and state['ooo'] == 0 and (a.qos == 0 or state['acked'] == state['published'])
print(json.dumps({
    'scenario': f'paho-fan-in-qos{a.qos}', 'client': f'paho-mqtt {mqtt.__version__ if hasattr(mqtt, "__version__") else "1.6"}',
    'label': a.label, 'qos': a.qos, 'size': size, 'publishers': a.publishers, 'subscribers': 1, 'window': a.inflight,
    'seconds': round(elapsed, 2), 'msgs_per_s': round(measured / elapsed),
    'latency_ms': {'p50': pct(0.5), 'p95': pct(0.95), 'p99': pct(0.99), 'samples': len(lat)},
    'published': state['published'], 'received': state['received'], 'lost': max(0, state['published'] - state['received']),
    'out_of_order': state['ooo'], 'puback_missing': state['published'] - state['acked'] if a.qos else 0, 'ok': ok,
}))
