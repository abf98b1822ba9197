/**
 * The RabbitMQ features pika's own acceptance tests use, driven through Debian's pika 1.2
 * (/usr/bin/python3, pika/rabbitmq_features.py): transactions, an unknown exchange type, and
 * connection.update-secret. Needs python3-pika (test/helpers/require-tool.ts: skipped with a
 * warning without it, failed in CI). All but the exchange-type case were run against
 * RabbitMQ 3.10.8 too, which gives the same answers; that one follows RabbitMQ 3.13+.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isExternalBroker, startBroker, type TestBroker } from '../../helpers/broker.js';
import { hasPythonModule, SYSTEM_PYTHON } from '../../helpers/require-tool.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'pika', 'rabbitmq_features.py');
const havePika = hasPythonModule('pika', 'python3-pika', 'pika-features.test.ts');

let broker: TestBroker;
beforeAll(async () => {
  if (havePika) broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});

/** Runs one check of the script against the broker and returns what it printed. */
function pika(check: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, [SCRIPT, broker.host, String(broker.port), check], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`pika ${check} exited ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>);
    });
  });
}

describe.skipIf(!havePika)('pika', () => {
  it('transactions: publishes and acks wait for tx.commit, rollback drops them, mode mix-ups are 406', async () => {
    expect(await pika('tx')).toEqual({
      select: 'SelectOk',
      ready_before_commit: 0,
      commit: 'CommitOk',
      ready_after_commit: 1,
      rollback: 'RollbackOk',
      ready_after_rollback: 1,
      got: 'committed',
      // the ack was rolled back: the delivery is still unacked (not ready), and can be acked again
      unacked_after_rolled_back_ack: 0,
      ready_after_committed_ack: 0,
      confirm_on_tx: 406,
      tx_on_confirm: 406,
      commit_without_select: 406,
      rollback_without_select: 406,
      connection_open: true,
    });
  }, 40_000);

  it.skipIf(isExternalBroker)('an unknown exchange type closes the channel with 406, as RabbitMQ 3.13+ (pika expects ChannelClosedByBroker)', async () => {
    expect(await pika('exchange-type')).toEqual({
      code: 406,
      scope: 'channel',
      text: "PRECONDITION_FAILED - unknown exchange type 'ZZwwInvalid'",
      connection_open: true,
      other_channel_works: true,
    });
  }, 40_000);

  it('connection.update-secret is answered update-secret-ok and the connection carries on', async () => {
    expect(await pika('update-secret')).toEqual({ answer: 'UpdateSecretOk', connection_open: true, channel_works: true });
  }, 40_000);
});
