/**
 * `warren start` with `cluster.etcd_endpoints` set: run this process as one node of a cluster
 * (cluster-node.ts) until SIGINT/SIGTERM (a graceful stop: the lease is revoked so another
 * node takes over at once; a second signal exits at once) or until leadership is lost (exit
 * code 3; the supervisor starts the node again, as a standby).
 */
import type { BrokerSetup } from '../broker.js';
import type { ResolvedConfig } from '../config/load.js';
import { chooseLogFormat, createLogger } from '../log/index.js';
import type { PluginManifest } from '../plugin-host/manifest.js';
import { ClusterNode } from './cluster-node.js';
import type { ReplicationFactory } from './replication-port.js';

/** Exit code when the node could not join the cluster (etcd unreachable at start …). */
export const EXIT_CLUSTER_START_FAILED = 5;

export interface CliIo {
  stderr: { write(s: string): unknown };
}

export async function runClusterNode(
  config: ResolvedConfig,
  manifests: readonly PluginManifest[],
  setup: BrokerSetup,
  io: CliIo,
  replication?: ReplicationFactory,
): Promise<number> {
  const stream = config.log.output === 'stdout' ? process.stdout : process.stderr;
  const format = chooseLogFormat(config.log.format, config.settings.get('log.format')?.source !== 'default', stream.isTTY === true);
  const log = createLogger({ ...config.log, format });
  const node = new ClusterNode({ config, manifests, setup, log, ...(replication ? { replication } : {}) });
  let stopping = false;
  let finished!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finished = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    stopping = true;
    log.info('signal received: stopping cluster node', { signal });
    node.stop().then(() => finished(0), (e: unknown) => {
      io.stderr.write(`warren: stop failed: ${(e as Error)?.message ?? String(e)}\n`);
      finished(1);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await node.start();
  } catch (e) {
    io.stderr.write(`warren: cluster node failed to start: ${(e as Error)?.message ?? String(e)}\n`);
    await node.stop().catch(() => undefined);
    return EXIT_CLUSTER_START_FAILED;
  }
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const code = await done;
  clearInterval(keepAlive);
  return code;
}
