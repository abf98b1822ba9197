"""pika RPC pair, as the RabbitMQ tutorial writes it: the server consumes `QUEUE` with
prefetch 1 and answers to reply_to with the request's correlation_id; the client declares an
exclusive callback queue and makes N calls one after the other.

  pika_rpc.py server URL QUEUE        serve until killed
  pika_rpc.py client URL QUEUE N      print {"value": mean ms per call, ...}"""
import json
import sys
import time
import uuid

import pika

role, url, queue = sys.argv[1], sys.argv[2], sys.argv[3]
conn = pika.BlockingConnection(pika.URLParameters(url))
ch = conn.channel()
ch.queue_declare(queue=queue)
if role == 'server':
    ch.basic_qos(prefetch_count=1)

    def on_request(channel, method, props, body):
        channel.basic_publish(exchange='', routing_key=props.reply_to,
                              properties=pika.BasicProperties(correlation_id=props.correlation_id),
                              body=str(int(body) + 1).encode())
        channel.basic_ack(delivery_tag=method.delivery_tag)

    ch.basic_consume(queue=queue, on_message_callback=on_request)
    print(json.dumps({'ready': True}), flush=True)
    ch.start_consuming()
else:
    n = int(sys.argv[4])
    callback_queue = ch.queue_declare(queue='', exclusive=True).method.queue
    state = {'response': None, 'corr': None}

    def on_response(channel, method, props, body):
        if props.correlation_id == state['corr']:
            state['response'] = body

    ch.basic_consume(queue=callback_queue, on_message_callback=on_response, auto_ack=True)
    t0 = time.perf_counter()
    for i in range(n):
        state['response'] = None
        state['corr'] = str(uuid.uuid4())
        ch.basic_publish(exchange='', routing_key=queue, body=str(i).encode(),
                         properties=pika.BasicProperties(reply_to=callback_queue, correlation_id=state['corr']))
        while state['response'] is None:
            conn.process_data_events(time_limit=None)
        assert int(state['response']) == i + 1
    print(json.dumps({'value': (time.perf_counter() - t0) * 1000 / n, 'unit': 'ms per call', 'n': n}), flush=True)
    conn.close()
