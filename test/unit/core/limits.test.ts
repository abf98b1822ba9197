import { describe, expect, it } from 'vitest';
import { Core } from '../../../src/core/core.js';
import { code, msg, Recorder } from './harness.js';

const connect = (core: Core, user = 'guest') => core.connect({ protocol: 't', vhost: '/', user, peerHost: '::1', peerPort: 1 });

describe('limits', () => {
  it('refuses connections past the node, vhost and user limits with 530', () => {
    const core = new Core();
    core.limits.setVhostLimits('/', { maxConnections: 2 });
    connect(core);
    connect(core);
    expect(code(() => connect(core))).toBe(530);
    core.limits.setVhostLimits('/', { maxConnections: -1 });
    core.limits.setUserLimits('guest', { maxConnections: 3 });
    connect(core);
    expect(code(() => connect(core))).toBe(530);
    core.limits.setUserLimits('guest', { maxConnections: -1 });
    core.limits.maxConnections = 3;
    expect(code(() => connect(core))).toBe(530);
  });

  it('refuses channels past the user limit and queues past the vhost limit', () => {
    const core = new Core();
    core.limits.setUserLimits('guest', { maxChannels: 2 });
    core.limits.setVhostLimits('/', { maxQueues: 1 });
    const c = connect(core);
    const s = c.openSession(new Recorder());
    const s2 = c.openSession(new Recorder());
    expect(code(() => c.openSession(new Recorder()))).toBe(530);
    s2.close();
    c.openSession(new Recorder());
    s.declareQueue('one', {});
    expect(code(() => s.declareQueue('two', {}))).toBe(406);
    expect(code(() => s.declareQueue('one', {}))).toBe(0); // redeclaring an existing queue is fine
    s.publish(msg('one'), false);
  });
});
