import { describe, expect, it } from 'vitest';
import type { BrokerError } from '../../../src/core/errors.js';
import { msg, setup } from './harness.js';
describe('policies', () => {
  it('apply live to matching queues, highest priority wins, limits take the lower of policy and argument', () => {
    const { vhost, s } = setup();
    s.declareQueue('pol.a', {});
    s.declareQueue('pol.b', { arguments: { 'x-max-length': 1 } });
    s.declareQueue('other', {});
    for (const q of ['pol.a', 'pol.b', 'other']) for (let i = 0; i < 5; i++) s.publish(msg(q), false);
    expect(vhost.queues.get('pol.b')!.messageCount).toBe(1);
    vhost.setPolicy({ name: 'low', vhost: '/', pattern: '^pol\\.', applyTo: 'queues', priority: 0, definition: { 'max-length': 4 } });
    vhost.setPolicy({ name: 'high', vhost: '/', pattern: '^pol\\.', applyTo: 'queues', priority: 5, definition: { 'max-length': 3 } });
    expect(vhost.queues.get('pol.a')!.messageCount).toBe(3);
    expect(vhost.queues.get('pol.a')!.policy).toBe('high');
    expect(vhost.queues.get('pol.b')!.messageCount).toBe(1);
    expect(vhost.queues.get('other')!.messageCount).toBe(5);
    vhost.clearPolicy('high');
    vhost.clearPolicy('low');
    for (let i = 0; i < 5; i++) s.publish(msg('pol.a'), false);
    expect(vhost.queues.get('pol.a')!.messageCount).toBe(8);
    s.declareQueue('pol.new', {});
    vhost.setPolicy({ name: 'ttl', vhost: '/', pattern: '^pol\\.new$', applyTo: 'all', priority: 0, definition: { 'message-ttl': 0 } });
    s.publish(msg('pol.new'), false);
    expect(vhost.queues.get('pol.new')!.messageCount).toBe(0);
  });

  it('sets alternate exchanges on exchanges and rejects unknown keys', () => {
    const { vhost, s } = setup();
    s.declareExchange('ae', 'fanout', {});
    s.declareQueue('caught', {});
    s.bindQueue('caught', 'ae', '');
    s.declareExchange('main', 'direct', {});
    vhost.setPolicy({ name: 'ae', vhost: '/', pattern: '^main$', applyTo: 'exchanges', priority: 0, definition: { 'alternate-exchange': 'ae' } });
    s.publish(msg('nothing', 'm', {}, 'main'), false);
    expect(vhost.queues.get('caught')!.messageCount).toBe(1);
    expect(() => vhost.setPolicy({ name: 'bad', vhost: '/', pattern: '.*', applyTo: 'all', priority: 0, definition: { 'max-lenght': 1 } })).toThrow();
    try {
      vhost.setPolicy({ name: 'bad', vhost: '/', pattern: '(', applyTo: 'all', priority: 0, definition: {} });
    } catch (e) {
      expect((e as BrokerError).replyCode).toBe(406);
    }
  });
});
