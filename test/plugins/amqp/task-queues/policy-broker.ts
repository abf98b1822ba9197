/**
 * A broker whose policies a test can set (https://www.rabbitmq.com/docs/policies). For an
 * in-process Warren the policies go through the embedded broker's core (`broker.core`, the
 * vhost's setPolicy/clearPolicy), so these tests need only the AMQP plugin (the management
 * API's /api/policies has tests of its own); for an external RabbitMQ
 * on this machine through `rabbitmqctl set_policy` / `clear_policy`. An external broker on
 * another host, or no rabbitmqctl on PATH, leaves `canSetPolicies` false.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Core } from '../../../../src/core/core.js';
import { externalBrokerUrl } from '../../../helpers/broker.js';

const run = promisify(execFile);

export interface PolicySpec {
  pattern: string;
  definition: Record<string, string | number>;
  applyTo?: 'queues' | 'exchanges' | 'all';
  priority?: number;
}

export interface PolicyBroker {
  url: string;
  setPolicy(name: string, spec: PolicySpec): Promise<void>;
  clearPolicy(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Whether policies can be set on the broker of this run (decided before the tests, for skipIf). */
export const canSetPolicies: boolean = await (async () => {
  if (externalBrokerUrl === undefined) return true;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(externalBrokerUrl).hostname)) return false;
  try {
    await run('rabbitmqctl', ['--version'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
})();

export async function startPolicyBroker(): Promise<PolicyBroker> {
  if (externalBrokerUrl !== undefined) {
    const vhost = decodeURIComponent(new URL(externalBrokerUrl).pathname.slice(1)) || '/';
    return {
      url: externalBrokerUrl,
      async setPolicy(name, spec) {
        const args = ['set_policy', '-p', vhost, '--priority', String(spec.priority ?? 0), '--apply-to', spec.applyTo ?? 'queues'];
        await run('rabbitmqctl', [...args, name, spec.pattern, JSON.stringify(spec.definition)], { timeout: 15_000 });
      },
      async clearPolicy(name) {
        await run('rabbitmqctl', ['clear_policy', '-p', vhost, name], { timeout: 15_000 });
      },
      stop: async () => {},
    };
  }

  const dataDir = await mkdtemp(join(tmpdir(), 'warren-test-'));
  const { Broker } = await import('../../../../src/index.js');
  const broker = new Broker({ dataDir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1' } } as ConstructorParameters<typeof Broker>[0]);
  try {
    await broker.start();
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const { host, port } = broker.address('amqp');
  const core: Core = broker.core;
  const vhost = () => core.vhosts.get(core.defaultVhost)!;
  return {
    url: `amqp://guest:guest@${host}:${port}`,
    async setPolicy(name, spec) {
      vhost().setPolicy({
        name,
        vhost: core.defaultVhost,
        pattern: spec.pattern,
        applyTo: spec.applyTo ?? 'queues',
        priority: spec.priority ?? 0,
        definition: spec.definition,
      });
    },
    async clearPolicy(name) {
      vhost().clearPolicy(name);
    },
    async stop() {
      try {
        await broker.stop();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}
