/**
 * exchange.declare / delete / bind / unbind (AMQP 0-9-1 §1.6 class exchange) as RabbitMQ
 * implements them, including its errors: 404 missing, 406 inequivalent or in use,
 * 403 reserved names and internal exchanges.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bodies,
  callback,
  drain,
  expectCode,
  firstError,
  publishConfirmed,
  uniqueName,
  useClients,
} from '../../helpers/amqp-clients.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});
const clients = useClients(() => broker.url);

/** Deletes the exchanges a test declared, on a fresh channel (the test's own may be closed by an error). */
async function cleanupExchanges(...names: string[]): Promise<void> {
  const ch = await clients.channel();
  for (const name of names) await ch.deleteExchange(name);
}

describe('exchange.declare', () => {
  it.each(['direct', 'fanout', 'topic', 'headers'])('declares a %s exchange, which a passive declare then finds', async (type) => {
    const { ch } = await clients.open();
    const name = uniqueName(`x-${type}`);
    expect(await ch.assertExchange(name, type, { durable: false, autoDelete: false })).toEqual({ exchange: name });
    await ch.checkExchange(name);
    await ch.deleteExchange(name);
  });

  it('declares through the callback API', async () => {
    const conn = await clients.connectCallbackApi();
    const ch = await clients.callbackChannel(conn);
    const name = uniqueName('x-cb');
    await callback((cb) => ch.assertExchange(name, 'topic', { durable: false }, cb));
    await callback((cb) => ch.checkExchange(name, cb));
    await callback((cb) => ch.deleteExchange(name, {}, cb));
    const err = await new Promise<{ code?: number }>((resolve) => ch.checkExchange(name, (e) => resolve(e as never)));
    expect(err.code).toBe(404);
  });

  it('answers a passive declare of a missing exchange with 404 NOT_FOUND and closes the channel', async () => {
    const { ch } = await clients.open();
    await expectCode(ch.checkExchange(uniqueName('missing')), 404);
    expect((await firstError(ch)).code).toBe(404);
  });

  // an unknown exchange type: rabbitmq-compat.test.ts (406 on the channel, as RabbitMQ 3.13+)

  it('accepts a redeclaration with identical type and flags', async () => {
    const { ch } = await clients.open();
    const name = uniqueName('x-same');
    const opts = { durable: true, autoDelete: false, internal: false };
    await ch.assertExchange(name, 'direct', opts);
    await ch.assertExchange(name, 'direct', opts);
    await ch.deleteExchange(name);
  });

  it.each([
    ['type', { type: 'fanout' }],
    ['durable', { durable: false }],
    ['auto-delete', { autoDelete: true }],
    ['internal', { internal: true }],
  ] as const)('rejects a redeclaration with another %s with 406 PRECONDITION_FAILED', async (_what, change) => {
    const { ch } = await clients.open();
    const name = uniqueName('x-redeclare');
    await ch.assertExchange(name, 'direct', { durable: true, autoDelete: false, internal: false });
    const type = 'type' in change ? change.type : 'direct';
    const flags = { durable: true, autoDelete: false, internal: false, ...change };
    await expectCode(ch.assertExchange(name, type, flags), 406);
    await cleanupExchanges(name);
  });

  it('refuses to declare an exchange named amq.* with 403 ACCESS_REFUSED', async () => {
    const { ch } = await clients.open();
    await expectCode(ch.assertExchange(`amq.${uniqueName('foo')}`, 'direct'), 403);
  });

  it('finds the predeclared amq.direct passively (a reserved name is fine for a passive declare)', async () => {
    const { ch } = await clients.open();
    await ch.checkExchange('amq.direct');
  });
});

describe('exchange.delete', () => {
  it('deletes an exchange', async () => {
    const { ch } = await clients.open();
    const name = uniqueName('x-del');
    await ch.assertExchange(name, 'fanout', { durable: false });
    await ch.deleteExchange(name);
    await expectCode(ch.checkExchange(name), 404);
  });

  it('refuses if-unused deletion of a bound exchange with 406, and allows it once unbound', async () => {
    const { conn, ch } = await clients.open();
    const name = uniqueName('x-bound');
    await ch.assertExchange(name, 'direct', { durable: false });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, name, 'k');
    await expectCode(ch.deleteExchange(name, { ifUnused: true }), 406);

    const ch2 = await clients.channel(conn);
    await ch2.checkExchange(name);
    await ch2.unbindQueue(queue, name, 'k');
    await ch2.deleteExchange(name, { ifUnused: true });
    await expectCode(ch2.checkExchange(name), 404);
  });

  it('deletes a bound exchange without if-unused, removing its bindings', async () => {
    const { ch } = await clients.open();
    const name = uniqueName('x-bound-force');
    await ch.assertExchange(name, 'direct', { durable: false });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, name, 'k');
    await ch.deleteExchange(name);
    await ch.assertExchange(name, 'direct', { durable: false });
    const pub = await clients.confirmChannel();
    await publishConfirmed(pub, name, 'k', ['after re-creation']);
    expect(await drain(ch, queue)).toHaveLength(0);
    await ch.deleteExchange(name);
  });
});

describe('publishing to exchanges that cannot take it', () => {
  it('closes the channel with 403 ACCESS_REFUSED on a publish to an internal exchange', async () => {
    const { ch } = await clients.open();
    const name = uniqueName('x-internal');
    await ch.assertExchange(name, 'fanout', { durable: false, internal: true });
    ch.publish(name, '', Buffer.from('nope'));
    expect((await firstError(ch)).code).toBe(403);
    await cleanupExchanges(name);
  });

  it('closes the channel with 404 NOT_FOUND on a publish to a missing exchange', async () => {
    const { conn, ch } = await clients.open();
    ch.publish(uniqueName('x-missing'), '', Buffer.from('nope'));
    expect((await firstError(ch)).code).toBe(404);
    // The connection survives a channel error.
    const other = await clients.channel(conn);
    await other.checkExchange('amq.topic');
  });
});

describe('exchange-to-exchange bindings', () => {
  it('routes through a bound exchange and stops once unbound', async () => {
    const { ch } = await clients.open();
    const source = uniqueName('x-src');
    const destination = uniqueName('x-dst');
    await ch.assertExchange(source, 'topic', { durable: false });
    await ch.assertExchange(destination, 'direct', { durable: false });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, destination, 'orders.created');
    await ch.bindExchange(destination, source, 'orders.*');

    const pub = await clients.confirmChannel();
    await publishConfirmed(pub, source, 'orders.created', ['through']);
    await publishConfirmed(pub, source, 'orders.deleted', ['dropped by destination binding key']);
    await publishConfirmed(pub, source, 'users.created', ['dropped by source binding key']);
    expect(bodies(await drain(ch, queue))).toEqual(['through']);

    await ch.unbindExchange(destination, source, 'orders.*');
    await publishConfirmed(pub, source, 'orders.created', ['after unbind']);
    expect(await drain(ch, queue)).toHaveLength(0);
    await ch.deleteExchange(source);
    await ch.deleteExchange(destination);
  });

  it('delivers a message once to a queue reachable by two exchange paths', async () => {
    const { ch } = await clients.open();
    const source = uniqueName('x-src');
    const destination = uniqueName('x-dst');
    await ch.assertExchange(source, 'fanout', { durable: false });
    await ch.assertExchange(destination, 'fanout', { durable: false });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, source, '');
    await ch.bindQueue(queue, destination, '');
    await ch.bindExchange(destination, source, '');
    const pub = await clients.confirmChannel();
    await publishConfirmed(pub, source, '', ['once']);
    expect(bodies(await drain(ch, queue))).toEqual(['once']);
    await ch.deleteExchange(source);
    await ch.deleteExchange(destination);
  });

  it('answers a binding to a missing source exchange with 404', async () => {
    const { ch } = await clients.open();
    const destination = uniqueName('x-dst');
    await ch.assertExchange(destination, 'fanout', { durable: false });
    await expectCode(ch.bindExchange(destination, uniqueName('x-missing'), ''), 404);
    await cleanupExchanges(destination);
  });
});

describe('auto-delete exchanges', () => {
  it('removes an auto-delete exchange when its last queue binding goes', async () => {
    const { ch } = await clients.open();
    const name = uniqueName('x-auto');
    await ch.assertExchange(name, 'direct', { durable: false, autoDelete: true });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, name, 'a');
    await ch.bindQueue(queue, name, 'b');
    await ch.unbindQueue(queue, name, 'a');
    await ch.checkExchange(name);
    await ch.unbindQueue(queue, name, 'b');
    await expectCode(ch.checkExchange(name), 404);
  });

  it('removes an auto-delete exchange when its last exchange-to-exchange binding goes', async () => {
    const { ch } = await clients.open();
    const source = uniqueName('x-auto-src');
    const destination = uniqueName('x-dst');
    await ch.assertExchange(source, 'fanout', { durable: false, autoDelete: true });
    await ch.assertExchange(destination, 'fanout', { durable: false });
    await ch.bindExchange(destination, source, '');
    await ch.unbindExchange(destination, source, '');
    await expectCode(ch.checkExchange(source), 404);
    await cleanupExchanges(destination);
  });

  it('removes an auto-delete exchange when the queue bound to it is deleted', async () => {
    const { ch } = await clients.open();
    const name = uniqueName('x-auto');
    await ch.assertExchange(name, 'fanout', { durable: false, autoDelete: true });
    const { queue } = await ch.assertQueue(uniqueName('q'), { durable: false });
    await ch.bindQueue(queue, name, '');
    await ch.deleteQueue(queue);
    await expectCode(ch.checkExchange(name), 404);
  });

  it('keeps an auto-delete exchange that never had a binding', async () => {
    const { ch } = await clients.open();
    const name = uniqueName('x-auto-unused');
    await ch.assertExchange(name, 'fanout', { durable: false, autoDelete: true });
    await ch.checkExchange(name);
    await ch.deleteExchange(name);
  });
});
