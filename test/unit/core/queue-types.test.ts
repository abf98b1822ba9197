import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Core } from '../../../src/core/core.js';
import { QueueTypeRegistry } from '../../../src/core/queues/registry.js';
import { code, Recorder } from './harness.js';

const session = (core: Core) => core.connect({ protocol: 't', vhost: '/', user: 'guest', peerHost: '::1', peerPort: 1 }).openSession(new Recorder());

/** every .ts file below `dir` */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('queue types', () => {
  it('are registered by x-queue-type; classic takes no type and an unknown one (refused by its argument check)', () => {
    const types = new QueueTypeRegistry();
    expect(types.names().sort()).toEqual(['classic', 'quorum', 'stream']);
    expect(types.forArguments({}).name).toBe('classic');
    expect(types.forArguments({ 'x-queue-type': 'quorum' }).name).toBe('quorum');
    expect(types.forArguments({ 'x-queue-type': 'stream' }).name).toBe('stream');
    expect(types.forArguments({ 'x-queue-type': 'lazy' }).name).toBe('classic');
  });

  it('the vhost declares each kind through its type, and a queue answers for its kind', () => {
    const core = new Core();
    const s = session(core);
    s.declareQueue('c', {});
    s.declareQueue('p', { arguments: { 'x-max-priority': 3 } });
    s.declareQueue('qq', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const q = (name: string) => core.vhosts.get('/')!.queues.get(name)!;
    expect([q('c').type, q('p').type, q('qq').type]).toEqual(['classic', 'classic', 'quorum']);
    expect([q('c').globalQosAllowed, q('qq').globalQosAllowed]).toEqual([true, false]);
    expect([q('c').storesEveryMessage, q('qq').storesEveryMessage]).toEqual([false, true]);
    // each type's own checks still apply: unknown type, a stream without a data directory
    expect(code(() => s.declareQueue('x', { arguments: { 'x-queue-type': 'lazy' } }))).toBe(406);
    expect(code(() => s.declareQueue('st', { durable: true, arguments: { 'x-queue-type': 'stream' } }))).toBe(406);
  });

  it('no caller asks which class a queue is (instanceof a queue kind) in src/ or plugins/', () => {
    const offences: string[] = [];
    for (const file of [...sources('src'), ...sources('plugins')]) {
      const text = readFileSync(file, 'utf8');
      if (/instanceof\s+(ClassicQueue|StreamQueue|QuorumQueue)\b/.test(text)) offences.push(file);
    }
    expect(offences).toEqual([]);
  });
});
