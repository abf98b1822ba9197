// The "publish a message" form, shared by the exchange page and the queue page (which
// publishes through the default exchange with the queue's name as routing key).
import { api, seg } from '../api.js';
import { act, field, flash, formValues, h, select } from '../dom.js';

export function publishForm(vhost, exchange, fixedRoutingKey) {
  const form = h(
    'form',
    { class: 'inline panel', id: 'publish-form' },
    fixedRoutingKey === undefined ? field('Routing key', h('input', { name: 'routing_key' })) : null,
    field('Delivery mode', select('delivery_mode', ['1 - transient', '2 - persistent'], '2 - persistent')),
    field('Headers (JSON)', h('input', { name: 'headers', placeholder: '{"key": "value"}' })),
    field('Properties (JSON)', h('input', { name: 'properties', placeholder: '{"content_type": "text/plain"}' })),
    field('Payload', h('textarea', { name: 'payload' })),
    h('button', { type: 'submit' }, 'Publish message'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    void act(null, async () => {
      const properties = v.properties ? JSON.parse(v.properties) : {};
      if (v.headers) properties.headers = JSON.parse(v.headers);
      properties.delivery_mode = Number(v.delivery_mode[0]);
      const r = await api('POST', `/exchanges/${seg(vhost)}/${seg(exchange === '' ? 'amq.default' : exchange)}/publish`, {
        properties,
        routing_key: fixedRoutingKey ?? v.routing_key,
        payload: v.payload,
        payload_encoding: 'string',
      });
      flash(r.routed ? 'Message published.' : 'Message published, but not routed to any queue.', !r.routed);
      form.elements.payload.value = '';
    });
  });
  return form;
}
