import { describe, expect, it } from 'vitest';
import { checkPassword, hashPassword } from '../../../src/auth/passwords.js';
import type { SessionHandler } from '../../../src/core/api.js';
import { Core } from '../../../src/core/core.js';
import type { BrokerError } from '../../../src/core/errors.js';
import { Message } from '../../../src/core/message.js';

const handler: SessionHandler = { deliver() {}, consumerCancelled() {}, returned() {}, confirmed() {} };
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as BrokerError).replyCode;
  }
  return 0;
};

describe('passwords', () => {
  it('verifies hashes exported by RabbitMQ 3.10 (rabbit_password_hashing_sha256)', () => {
    // made with `rabbitmqctl add_user warren_hash_probe test12` + export_definitions
    expect(checkPassword('test12', 'vL4eW59UW3QMRDct40h5GQBI28MftkJ0a61qcUvJQ2sqfWwD')).toBe(true);
    expect(checkPassword('guest', '7IEXMAIxgeipxuxHx+5KJusx7RWpKwPvTEwloNtZq0fHxjL4')).toBe(true);
    expect(checkPassword('test13', 'vL4eW59UW3QMRDct40h5GQBI28MftkJ0a61qcUvJQ2sqfWwD')).toBe(false);
    const h = hashPassword('s3cret');
    expect(Buffer.from(h, 'base64').length).toBe(36);
    expect(checkPassword('s3cret', h)).toBe(true);
    expect(hashPassword('s3cret')).not.toBe(h); // salted
  });
});

describe('permissions', () => {
  function setup() {
    const core = new Core();
    core.users.add('alice', 'pw');
    core.users.setPermissions('alice', '/', { configure: '^alice\\.', write: '^(alice\\..*|amq\\.topic)$', read: '^alice\\.' });
    core.users.setTopicPermission('alice', '/', { exchange: 'amq.topic', write: '^{username}\\.', read: '^{username}\\.' });
    const guest = core.connect({ protocol: 't', vhost: '/', user: 'guest', peerHost: '127.0.0.1', peerPort: 1 }).openSession(handler);
    const alice = core.connect({ protocol: 't', vhost: '/', user: 'alice', peerHost: '10.0.0.1', peerPort: 1 }).openSession(handler);
    return { core, guest, alice };
  }

  it('checks configure, write and read as RabbitMQ does', () => {
    const { guest, alice } = setup();
    guest.declareQueue('other', {});
    expect(code(() => alice.declareQueue('other', {}))).toBe(403);
    // a passive declare needs some permission on the queue (RabbitMQ ≥ 4.1, rabbitmq-server#16085)
    expect(code(() => alice.declareQueue('other', { passive: true }))).toBe(403);
    expect(code(() => alice.declareQueue('alice.q', {}))).toBe(0);
    expect(code(() => alice.consume('other', {}))).toBe(403);
    expect(code(() => alice.consume('alice.q', {}))).toBe(0);
    expect(code(() => alice.publish(new Message('', 'alice.q', {}, Buffer.alloc(0)), false))).toBe(403); // no write on ''
    expect(code(() => alice.bindQueue('alice.q', 'amq.direct', 'k'))).toBe(403); // no read on amq.direct
    expect(code(() => alice.deleteQueue('other', false, false))).toBe(403);
  });

  it('applies topic permissions with {username} to publishes on topic exchanges', () => {
    const { alice } = setup();
    expect(code(() => alice.publish(new Message('amq.topic', 'alice.temp', {}, Buffer.alloc(0)), false))).toBe(0);
    expect(code(() => alice.publish(new Message('amq.topic', 'bob.temp', {}, Buffer.alloc(0)), false))).toBe(403);
  });

  it('refuses vhosts without permissions (530) and a forged user-id (406)', () => {
    const { core, guest } = setup();
    core.addVhost('/other');
    expect(code(() => core.connect({ protocol: 't', vhost: '/other', user: 'alice', peerHost: '::1', peerPort: 1 }))).toBe(530);
    expect(code(() => guest.publish(new Message('', 'x', { userId: 'mallory' }, Buffer.alloc(0)), false))).toBe(406);
    expect(code(() => guest.publish(new Message('', 'x', { userId: 'guest' }, Buffer.alloc(0)), false))).toBe(0);
  });

  it('limits guest to loopback', () => {
    const { core } = setup();
    expect(core.login('guest', 'guest', '127.0.0.1').ok).toBe(true);
    expect(core.login('guest', 'guest', '::ffff:127.0.0.1').ok).toBe(true);
    expect(core.login('guest', 'guest', '192.168.1.5').ok).toBe(false);
    expect(core.login('alice', 'pw', '192.168.1.5').ok).toBe(true);
    expect(core.login('alice', 'nope', '127.0.0.1').ok).toBe(false);
    expect(core.login('nobody', 'pw', '127.0.0.1').ok).toBe(false);
  });
});
