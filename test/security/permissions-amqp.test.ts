/**
 * Permissions over AMQP 0-9-1 with amqplib, each kind allowed and refused, as rabbit_channel
 * applies them: configure (declare, delete), write (publish, bind to a destination), read
 * (consume, get, purge, bind from a source), passive declares (any permission), dead-letter
 * and alternate exchanges at declare, the default exchange checked as amq.default, and topic
 * permissions with {username} on publish and bind. A refusal is channel.close 403.
 */
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { startThreeProtocols, type ThreeProtocolBroker } from '../helpers/three-protocols.js';

let b: ThreeProtocolBroker;
let ann: ChannelModel;
let guest: ChannelModel;

beforeAll(async () => {
  b = await startThreeProtocols({ auth: { failureDelay: 0 } });
  const core = b.broker.core;
  core.putUser({ name: 'ann', passwordHash: hashPassword('pw'), tags: [] });
  // ann configures ann.*; writes ann.*, amq.topic, ro.q; reads ann.*, ro.*, amq.topic
  core.setPermissions('ann', '/', { configure: '^ann\\.', write: '^(ann\\..*|amq\\.topic|ro\\.q)$', read: '^(ann\\..*|ro\\..*|amq\\.topic)$' });
  core.setTopicPermission('ann', '/', { exchange: 'amq.topic', write: '^{username}\\.', read: '^{username}\\.' });
  guest = await amqp.connect(b.amqpUrl());
  const g = await guest.createChannel();
  await g.assertQueue('other.q');
  await g.assertQueue('ro.q');
  await g.assertExchange('other.x', 'direct');
  await g.close();
  ann = await amqp.connect(b.amqpUrl('ann', 'pw'));
});
afterAll(async () => {
  await ann?.close().catch(() => {});
  await guest?.close().catch(() => {});
  await b?.stop();
});

/** Runs `op` on a fresh channel of ann's; resolves once the broker answered (a synchronous round trip follows it). */
async function asAnn(op: (ch: Channel) => unknown): Promise<void> {
  const ch = await ann.createChannel();
  ch.on('error', () => {});
  await op(ch);
  await ch.checkQueue('ann.sync'); // fails with the channel's close if op was refused
  await ch.close();
}

const refused = (op: (ch: Channel) => unknown, what: RegExp) =>
  expect(asAnn(op)).rejects.toThrow(new RegExp(`403 \\(ACCESS-REFUSED\\).*${what.source}`));

beforeAll(async () => {
  const ch = await ann.createChannel();
  await ch.assertQueue('ann.sync');
  await ch.close();
});

describe('configure', () => {
  it('queue.declare needs configure on the queue', async () => {
    await asAnn((ch) => ch.assertQueue('ann.q1'));
    await refused((ch) => ch.assertQueue('other.q1'), /configure access to queue 'other.q1'/);
  });

  it('exchange.declare needs configure on the exchange', async () => {
    await asAnn((ch) => ch.assertExchange('ann.x1', 'fanout'));
    await refused((ch) => ch.assertExchange('other.x1', 'fanout'), /configure access to exchange 'other.x1'/);
  });

  it('queue.delete and exchange.delete need configure', async () => {
    await asAnn((ch) => ch.assertQueue('ann.del'));
    await asAnn((ch) => ch.deleteQueue('ann.del'));
    await refused((ch) => ch.deleteQueue('other.q'), /configure access to queue 'other.q'/);
    await refused((ch) => ch.deleteExchange('other.x'), /configure access to exchange 'other.x'/);
  });

  it('passive declares need any permission on the resource (RabbitMQ ≥ 4.1)', async () => {
    await asAnn((ch) => ch.checkQueue('ro.q')); // read only
    await asAnn((ch) => ch.checkExchange('amq.topic')); // read and write only
    await refused((ch) => ch.checkQueue('other.q'), /configure access to queue 'other.q'/);
    await refused((ch) => ch.checkExchange('other.x'), /configure access to exchange 'other.x'/);
  });

  it('a new queue with a dead-letter exchange needs read on the queue and write on the exchange', async () => {
    await asAnn((ch) => ch.assertExchange('ann.dlx', 'fanout'));
    await asAnn((ch) => ch.assertQueue('ann.dl1', { deadLetterExchange: 'ann.dlx' }));
    await refused((ch) => ch.assertQueue('ann.dl2', { deadLetterExchange: 'other.x' }), /write access to exchange 'other.x'/);
  });

  it('a new exchange with an alternate exchange needs write on the alternate', async () => {
    await asAnn((ch) => ch.assertExchange('ann.ae1', 'direct', { alternateExchange: 'ann.dlx' }));
    await refused((ch) => ch.assertExchange('ann.ae2', 'direct', { alternateExchange: 'other.x' }), /write access to exchange 'other.x'/);
  });
});

describe('write', () => {
  it('basic.publish needs write on the exchange; the default exchange is checked as amq.default', async () => {
    await asAnn(async (ch) => {
      await ch.assertExchange('ann.pub', 'fanout');
      ch.publish('ann.pub', '', Buffer.from('ok'));
    });
    await refused((ch) => ch.publish('other.x', 'k', Buffer.from('no')), /write access to exchange 'other.x'/);
    await refused((ch) => ch.sendToQueue('ann.sync', Buffer.from('no')), /write access to exchange 'amq.default'/);
  });

  it('queue.bind needs write on the queue, exchange.bind write on the destination', async () => {
    await refused((ch) => ch.bindQueue('other.q', 'amq.topic', 'ann.k'), /write access to queue 'other.q'/);
    await asAnn((ch) => ch.assertExchange('ann.dest', 'fanout'));
    await refused((ch) => ch.bindExchange('other.x', 'ann.dest', ''), /write access to exchange 'other.x'/);
  });
});

describe('read', () => {
  it('basic.consume, basic.get and queue.purge need read on the queue', async () => {
    await asAnn(async (ch) => {
      await ch.consume('ro.q', () => {});
      await ch.get('ro.q');
      await ch.purgeQueue('ann.sync');
    });
    await refused((ch) => ch.consume('other.q', () => {}), /read access to queue 'other.q'/);
    await refused((ch) => ch.get('other.q'), /read access to queue 'other.q'/);
    await refused((ch) => ch.purgeQueue('other.q'), /read access to queue 'other.q'/);
  });

  it('queue.bind and exchange.bind need read on the source exchange', async () => {
    await asAnn((ch) => ch.bindQueue('ann.sync', 'ann.pub', ''));
    await refused((ch) => ch.bindQueue('ann.sync', 'other.x', 'k'), /read access to exchange 'other.x'/);
    await refused((ch) => ch.bindExchange('ann.dest', 'other.x', 'k'), /read access to exchange 'other.x'/);
  });
});

describe('topic permissions ({username} expanded)', () => {
  it('publishing to a topic exchange needs topic write on the routing key', async () => {
    await asAnn((ch) => ch.publish('amq.topic', 'ann.temp', Buffer.from('ok')));
    await refused((ch) => ch.publish('amq.topic', 'bob.temp', Buffer.from('no')), /write access to topic 'bob.temp' in exchange 'amq.topic'/);
  });

  it('binding to a topic exchange needs topic read on the binding key', async () => {
    await asAnn((ch) => ch.bindQueue('ann.sync', 'amq.topic', 'ann.#'));
    await refused((ch) => ch.bindQueue('ann.sync', 'amq.topic', 'bob.#'), /read access to topic 'bob.#' in exchange 'amq.topic'/);
  });

  it('exchanges without topic permissions of their own are not restricted by them', async () => {
    await asAnn(async (ch) => {
      await ch.assertExchange('ann.topics', 'topic');
      ch.publish('ann.topics', 'bob.anything', Buffer.from('ok'));
    });
  });
});
