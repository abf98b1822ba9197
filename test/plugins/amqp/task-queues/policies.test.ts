/**
 * Policies (https://www.rabbitmq.com/docs/policies) for the task-queue features: message-ttl,
 * max-length, overflow, dead-letter-exchange, expires and alternate-exchange set by policy;
 * one policy applies per object (the highest priority); numeric limits take the lower of
 * policy and queue argument, the argument wins for the others; a policy takes effect on a
 * running queue and clearing it restores the declared behaviour. Observed through amqplib.
 *
 * See policy-broker.ts for how the policies are set.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bodies, drain, uniqueName, useClients, waitFor, type ClientPool } from '../../../helpers/amqp-clients.js';
import { canSetPolicies, startPolicyBroker, type PolicyBroker, type PolicySpec } from './policy-broker.js';
import { consumeInto, deadLetterTarget, getOne, waitForReady, xDeathOf } from './support.js';

let broker: PolicyBroker | undefined;
beforeAll(async () => {
  if (canSetPolicies) broker = await startPolicyBroker();
});
afterAll(async () => {
  await broker?.stop();
});
const clients: ClientPool = useClients(() => broker!.url);

const policies: string[] = [];
afterEach(async () => {
  for (const name of policies.splice(0)) await broker!.clearPolicy(name);
});

/** Sets a policy that is cleared after the test. */
async function policy(spec: PolicySpec): Promise<string> {
  const name = uniqueName('policy');
  policies.push(name);
  await broker!.setPolicy(name, spec);
  return name;
}

const exactly = (name: string) => `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;

/** Publishes on a confirm channel; 'ack' or 'nack' per message. */
async function publishEach(queue: string, payloads: string[]): Promise<string[]> {
  const pub = await clients.confirmChannel();
  return Promise.all(
    payloads.map((p) => new Promise<string>((resolve) => pub.sendToQueue(queue, Buffer.from(p), {}, (err) => resolve(err ? 'nack' : 'ack')))),
  );
}

describe.skipIf(!canSetPolicies)('policies', () => {
  it('gives a new queue the message-ttl and dead-letter-exchange of a matching policy', async () => {
    const { ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const queue = uniqueName('q-pol-ttl');
    await policy({ pattern: exactly(queue), definition: { 'message-ttl': 30, 'dead-letter-exchange': dlx } });
    await ch.assertQueue(queue, { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('short-lived'));
    const dead = await getOne(ch, dlq);
    expect(xDeathOf(dead)[0]).toMatchObject({ reason: 'expired', queue, count: 1 });
  });

  it('applies max-length to a running queue at once, dropping from the head', async () => {
    const { ch } = await clients.open();
    const { queue } = await ch.assertQueue(uniqueName('q-pol-live'), { exclusive: true });
    for (const b of ['1', '2', '3', '4', '5']) ch.sendToQueue(queue, Buffer.from(b));
    await waitForReady(ch, queue, 5);
    await policy({ pattern: exactly(queue), definition: { 'max-length': 2 } });
    await waitForReady(ch, queue, 2);
    expect(bodies(await drain(ch, queue))).toEqual(['4', '5']);
  });

  it('takes the lower of policy and queue argument for max-length, whichever sets it', async () => {
    const { ch } = await clients.open();
    const byArg = uniqueName('q-pol-min-arg');
    const byPolicy = uniqueName('q-pol-min-policy');
    await policy({ pattern: `${exactly(byArg)}|${exactly(byPolicy)}`, definition: { 'max-length': 3 } });
    await ch.assertQueue(byArg, { exclusive: true, maxLength: 1 });
    await ch.assertQueue(byPolicy, { exclusive: true, maxLength: 10 });
    for (const q of [byArg, byPolicy]) await publishEach(q, ['1', '2', '3', '4', '5']);
    expect(bodies(await drain(ch, byArg))).toEqual(['5']);
    expect(bodies(await drain(ch, byPolicy))).toEqual(['3', '4', '5']);
  });

  it('lets the queue argument win over the policy for dead-letter-exchange', async () => {
    const { ch } = await clients.open();
    const byPolicy = await deadLetterTarget(ch);
    const byArg = await deadLetterTarget(ch);
    const queue = uniqueName('q-pol-dlx');
    await policy({ pattern: exactly(queue), definition: { 'dead-letter-exchange': byPolicy.dlx } });
    await ch.assertQueue(queue, { exclusive: true, deadLetterExchange: byArg.dlx });
    ch.sendToQueue(queue, Buffer.from('rejected'));
    const inbox = await consumeInto(ch, queue);
    await inbox.atLeast(1);
    ch.reject(inbox.messages[0]!, false);
    expect((await getOne(ch, byArg.dlq)).content.toString()).toBe('rejected');
    expect((await ch.checkQueue(byPolicy.dlq)).messageCount).toBe(0);
  });

  it('sets x-overflow reject-publish by policy: publishers get basic.nack', async () => {
    const { ch } = await clients.open();
    const queue = uniqueName('q-pol-overflow');
    await policy({ pattern: exactly(queue), definition: { 'max-length': 1, overflow: 'reject-publish' } });
    await ch.assertQueue(queue, { exclusive: true });
    expect(await publishEach(queue, ['in', 'out'])).toEqual(['ack', 'nack']);
  });

  it('applies only the matching policy with the highest priority (definitions are not merged)', async () => {
    const { ch } = await clients.open();
    const queue = uniqueName('q-pol-priority');
    await policy({ pattern: exactly(queue), priority: 1, definition: { 'max-length': 1 } });
    await policy({ pattern: exactly(queue), priority: 5, definition: { 'max-length': 3 } });
    await policy({ pattern: exactly(queue), priority: 2, definition: { 'message-ttl': 1 } });
    await ch.assertQueue(queue, { exclusive: true });
    await publishEach(queue, ['1', '2', '3', '4']);
    // priority 5 wins: max-length 3, and no TTL from the priority-2 policy
    expect(bodies(await drain(ch, queue))).toEqual(['2', '3', '4']);
  });

  it('restores the declared behaviour when the policy is cleared', async () => {
    const { ch } = await clients.open();
    const queue = uniqueName('q-pol-clear');
    const name = await policy({ pattern: exactly(queue), definition: { 'max-length': 1 } });
    await ch.assertQueue(queue, { exclusive: true });
    await publishEach(queue, ['a', 'b']);
    expect((await ch.checkQueue(queue)).messageCount).toBe(1);
    await broker!.clearPolicy(name);
    policies.splice(policies.indexOf(name), 1);
    // RabbitMQ applies a policy change to running queues asynchronously: poll
    await waitFor(async () => {
      await publishEach(queue, ['more']);
      return (await ch.checkQueue(queue)).messageCount > 1;
    }, 'the queue to accept more than one message again');
  });

  it('deletes an unused queue by an expires policy', async () => {
    const { ch } = await clients.open();
    const queue = uniqueName('q-pol-expires');
    await policy({ pattern: exactly(queue), definition: { expires: 100 } });
    await ch.assertQueue(queue, { durable: false });
    const pub = await clients.confirmChannel();
    let returned = false;
    pub.on('return', () => (returned = true));
    // probe with mandatory publishes, which do not count as use (a passive declare would)
    await waitFor(async () => {
      pub.publish('', queue, Buffer.from('probe'), { mandatory: true });
      await pub.waitForConfirms();
      return returned;
    }, 'the queue to expire');
  });

  it('sets a quorum queue\'s delivery-limit below its default of 20, and its dead-letter exchange', async () => {
    const { conn, ch } = await clients.open();
    const { dlx, dlq } = await deadLetterTarget(ch);
    const queue = uniqueName('qq-pol');
    await policy({ pattern: exactly(queue), definition: { 'delivery-limit': 1, 'dead-letter-exchange': dlx } });
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    try {
      ch.sendToQueue(queue, Buffer.from('poison'));
      const worker = await clients.channel(conn);
      const inbox = await consumeInto(worker, queue);
      for (let n = 1; n <= 2; n++) {
        await inbox.atLeast(n);
        worker.nack(inbox.messages[n - 1]!, false, true);
      }
      expect(xDeathOf(await getOne(ch, dlq))[0]).toMatchObject({ reason: 'delivery_limit', queue });
      expect(inbox.messages.length).toBe(2);
    } finally {
      await ch.deleteQueue(queue);
    }
  });

  it('sets an alternate exchange on an exchange', async () => {
    const { ch } = await clients.open();
    const ae = uniqueName('x-pol-ae');
    const main = uniqueName('x-pol-main');
    await policy({ pattern: exactly(main), applyTo: 'exchanges', definition: { 'alternate-exchange': ae } });
    await ch.assertExchange(ae, 'fanout', { durable: false });
    await ch.assertExchange(main, 'direct', { durable: false });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, ae, '');
    ch.publish(main, 'unbound', Buffer.from('caught'));
    expect((await getOne(ch, queue)).content.toString()).toBe('caught');
    await ch.deleteExchange(main);
    await ch.deleteExchange(ae);
  });
});
