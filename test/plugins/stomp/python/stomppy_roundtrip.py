"""
stomp.py (Debian python3-stomp) against a STOMP broker: connect as stomp.py always does, with
the host it dialled in the `host` header (or the vhost given), send to a queue, receive it
back, and print one JSON line saying what happened. Run by stomppy.test.ts with
/usr/bin/python3; argv: port [vhost] [version].
"""
import json
import sys
import threading

import stomp

port = int(sys.argv[1])
vhost = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != '' else None
version = sys.argv[3] if len(sys.argv) > 3 else '1.2'
classes = {'1.0': stomp.Connection10, '1.1': stomp.Connection11, '1.2': stomp.Connection12}


class Listener(stomp.ConnectionListener):
    def __init__(self):
        self.received = []
        self.errors = []
        self.got = threading.Event()

    def on_message(self, frame):
        self.received.append(frame.body)
        self.got.set()

    def on_error(self, frame):
        self.errors.append(frame.headers.get('message', '') + ': ' + frame.body)


args = {'vhost': vhost} if vhost else {}
conn = classes[version]([('127.0.0.1', port)], **args)
listener = Listener()
conn.set_listener('', listener)
result = {'connected': False}
try:
    conn.connect('guest', 'guest', wait=True)
    result['connected'] = True
    conn.subscribe('/queue/stomppy-roundtrip', id='1', ack='auto')
    conn.send('/queue/stomppy-roundtrip', 'hello from stomp.py', receipt='r1')
    result['received'] = listener.got.wait(5) and listener.received
    conn.disconnect()
except stomp.exception.ConnectFailedException:
    pass
result['errors'] = listener.errors
print(json.dumps(result))
