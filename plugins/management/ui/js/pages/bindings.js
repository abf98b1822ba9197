// Bindings tables with delete buttons, and the "add binding" form, for exchange and queue pages.
import { api, seg } from '../api.js';
import { act, field, fmtArgs, formValues, h, link, select, table } from '../dom.js';

const exchangeSeg = (name) => seg(name === '' ? 'amq.default' : name);

/** DELETE one binding by its properties key. */
function unbind(vhost, b, after) {
  const kind = b.destination_type === 'queue' ? 'q' : 'e';
  return h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onclick: () => act('Binding removed', async () => {
        await api('DELETE', `/bindings/${seg(vhost)}/e/${exchangeSeg(b.source)}/${kind}/${seg(b.destination)}/${seg(b.properties_key)}`);
        await after();
      }),
    },
    'Unbind',
  );
}

export function bindingsTable(vhost, list, after, id) {
  return table(
    [
      ['From', (b) => (b.source === '' ? '(default exchange)' : link(b.source, 'exchanges', vhost, b.source))],
      ['To', (b) => (b.destination_type === 'queue' ? link(b.destination, 'queues', vhost, b.destination) : link(b.destination, 'exchanges', vhost, b.destination))],
      ['Kind', (b) => b.destination_type],
      ['Routing key', (b) => b.routing_key],
      ['Arguments', (b) => fmtArgs(b.arguments)],
      ['', (b) => (b.source === '' ? '' : unbind(vhost, b, after))],
    ],
    list,
    'No bindings.',
    { id },
  );
}

/**
 * Bind `fixed` (a queue or exchange of this page) to or from another object: on a queue
 * page the queue is the destination; on an exchange page the exchange is the source.
 */
export function bindForm(vhost, fixed, after) {
  const form = h(
    'form',
    { class: 'inline panel', id: 'bind-form' },
    fixed.kind === 'queue'
      ? field('From exchange', h('input', { name: 'other', required: true }))
      : [field('To', select('kind', ['queue', 'exchange'], 'queue')), field('Name', h('input', { name: 'other', required: true }))],
    field('Routing key', h('input', { name: 'routing_key' })),
    field('Arguments (JSON)', h('input', { name: 'arguments', placeholder: '{}' })),
    h('button', { type: 'submit' }, 'Bind'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    void act('Binding added', async () => {
      const args = v.arguments ? JSON.parse(v.arguments) : {};
      const path =
        fixed.kind === 'queue'
          ? `/bindings/${seg(vhost)}/e/${exchangeSeg(v.other)}/q/${seg(fixed.name)}`
          : `/bindings/${seg(vhost)}/e/${exchangeSeg(fixed.name)}/${v.kind === 'queue' ? 'q' : 'e'}/${seg(v.other)}`;
      await api('POST', path, { routing_key: v.routing_key, arguments: args });
      form.reset();
      await after();
    });
  });
  return form;
}
