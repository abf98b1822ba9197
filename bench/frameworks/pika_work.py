"""pika BlockingConnection work queue, as the RabbitMQ tutorial writes it: a durable queue,
persistent messages, basic_qos(prefetch), one basic_ack per message.

  pika_work.py worker URL QUEUE N PREFETCH   consume N messages, then print a JSON line
  pika_work.py producer URL QUEUE N SIZE     publish N messages of SIZE bytes

The worker's line carries the time of its first and last ack (time.time(), the same clock as
the producer's `started`), so the orchestrator measures from the first publish to the last ack."""
import json
import sys
import time

import pika

role, url, queue, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
conn = pika.BlockingConnection(pika.URLParameters(url))
ch = conn.channel()
ch.queue_declare(queue=queue, durable=True)
if role == 'worker':
    ch.basic_qos(prefetch_count=int(sys.argv[5]))
    state = {'count': 0, 'first': None}

    def on_message(channel, method, properties, body):
        channel.basic_ack(delivery_tag=method.delivery_tag)
        state['count'] += 1
        if state['first'] is None:
            state['first'] = time.time()
        if state['count'] == n:
            channel.stop_consuming()

    ch.basic_consume(queue=queue, on_message_callback=on_message)
    print(json.dumps({'ready': True}), flush=True)
    ch.start_consuming()
    print(json.dumps({'done': time.time(), 'first': state['first'], 'count': state['count']}), flush=True)
else:
    body = b'x' * int(sys.argv[5])
    props = pika.BasicProperties(delivery_mode=2)
    started = time.time()
    for _ in range(n):
        ch.basic_publish(exchange='', routing_key=queue, body=body, properties=props)
    print(json.dumps({'started': started, 'published': time.time()}), flush=True)
conn.close()
