"""Pika (Debian's python3-pika, 1.2) against a broker: transactions, an unknown exchange
type and connection.update-secret, the way pika's own acceptance tests use them.

    /usr/bin/python3 rabbitmq_features.py HOST PORT CHECK

CHECK is tx, exchange-type or update-secret. Prints one JSON object with what was observed
and exits 0; an unexpected exception exits 1 with its traceback. The vitest side
(../pika-features.test.ts) asserts on the JSON.
"""
import json
import struct
import sys
import uuid

import pika
from pika import amqp_object, spec
from pika.exceptions import ChannelClosedByBroker, ConnectionClosedByBroker

HOST, PORT, CHECK = sys.argv[1], int(sys.argv[2]), sys.argv[3]
PARAMS = pika.ConnectionParameters(HOST, PORT, credentials=pika.PlainCredentials('guest', 'guest'),
                                   blocked_connection_timeout=10, socket_timeout=10)


def connect():
    return pika.BlockingConnection(PARAMS)


def closed_code(fn):
    """Runs fn; returns the reply code of the channel close it caused (None: no close)."""
    try:
        fn()
    except ChannelClosedByBroker as e:
        return e.reply_code
    return None


def tx():
    out = {}
    conn = connect()
    ch = conn.channel()
    probe = conn.channel()
    q = 'pika-tx-' + uuid.uuid4().hex
    ch.queue_declare(q, durable=True)
    out['select'] = type(ch.tx_select().method).__name__
    # publishes wait for the commit (as pika's TestTxCommit checks)
    ch.basic_publish('', q, b'committed', pika.BasicProperties(delivery_mode=2), mandatory=True)
    out['ready_before_commit'] = probe.queue_declare(q, passive=True).method.message_count
    out['commit'] = type(ch.tx_commit().method).__name__
    out['ready_after_commit'] = probe.queue_declare(q, passive=True).method.message_count
    # a rollback drops what was published (TestTxRollback)
    ch.basic_publish('', q, b'rolled back')
    out['rollback'] = type(ch.tx_rollback().method).__name__
    out['ready_after_rollback'] = probe.queue_declare(q, passive=True).method.message_count
    # an ack in a transaction settles only at commit; a rollback leaves the delivery unacked
    method, _, body = ch.basic_get(q)
    out['got'] = body.decode()
    ch.basic_ack(method.delivery_tag)
    ch.tx_rollback()
    out['unacked_after_rolled_back_ack'] = probe.queue_declare(q, passive=True).method.message_count
    ch.basic_ack(method.delivery_tag)
    ch.tx_commit()
    ch.close()
    conn.close()
    conn = connect()
    probe = conn.channel()
    out['ready_after_committed_ack'] = probe.queue_declare(q, passive=True).method.message_count
    probe.queue_delete(q)
    # mode switches and commits without a transaction are refused with 406
    out['confirm_on_tx'] = closed_code(lambda: (lambda c: (c.tx_select(), c.confirm_delivery()))(conn.channel()))
    out['tx_on_confirm'] = closed_code(lambda: (lambda c: (c.confirm_delivery(), c.tx_select()))(conn.channel()))
    out['commit_without_select'] = closed_code(lambda: conn.channel().tx_commit())
    out['rollback_without_select'] = closed_code(lambda: conn.channel().tx_rollback())
    out['connection_open'] = conn.is_open
    conn.close()
    return out


def exchange_type():
    conn = connect()
    ch = conn.channel()
    out = {'code': None, 'connection_open': None}
    try:
        ch.exchange_declare('pika-bad-type-' + uuid.uuid4().hex, exchange_type='ZZwwInvalid')
    except ChannelClosedByBroker as e:
        out['code'] = e.reply_code
        out['text'] = e.reply_text
        out['scope'] = 'channel'
    except ConnectionClosedByBroker as e:
        out['code'] = e.reply_code
        out['scope'] = 'connection'
    out['connection_open'] = conn.is_open
    if conn.is_open:
        out['other_channel_works'] = conn.channel().queue_declare('', exclusive=True).method.queue != ''
        conn.close()
    return out


class UpdateSecret(amqp_object.Method):
    """connection.update-secret (10, 70): pika 1.2's spec predates it, its codec carries it."""
    INDEX = 0x000A0046
    NAME = 'Connection.UpdateSecret'

    def __init__(self, new_secret=b'', reason=''):
        self.new_secret = new_secret
        self.reason = reason

    @property
    def synchronous(self):
        return True

    def encode(self):
        reason = self.reason.encode()
        return [struct.pack('>I', len(self.new_secret)), self.new_secret, struct.pack('B', len(reason)), reason]


class UpdateSecretOk(amqp_object.Method):
    INDEX = 0x000A0047
    NAME = 'Connection.UpdateSecretOk'

    @property
    def synchronous(self):
        return False

    def decode(self, encoded, offset=0):
        return self


def update_secret():
    spec.methods.setdefault(UpdateSecretOk.INDEX, UpdateSecretOk)
    conn = connect()
    ch = conn.channel()
    answered = []
    conn._impl._rpc(0, UpdateSecret(b'a rotated token', 'rotation'), lambda frame: answered.append(type(frame.method).__name__),
                    [UpdateSecretOk])
    for _ in range(50):
        if answered or not conn.is_open:
            break
        conn.process_data_events(time_limit=0.1)
    out = {'answer': answered[0] if answered else None, 'connection_open': conn.is_open}
    if conn.is_open:
        out['channel_works'] = ch.queue_declare('', exclusive=True).method.queue != ''
        conn.close()
    return out


CHECKS = {'tx': tx, 'exchange-type': exchange_type, 'update-secret': update_secret}
print(json.dumps(CHECKS[CHECK]()))
