/**
 * `cluster.on_leader` / `cluster.on_follower`: a shell command run when the node becomes the
 * leader or starts following one (to move a DNS name or a virtual IP, page someone …). It
 * runs detached from the broker's work: its exit status is logged, never waited for.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../log/index.js';

export function runHook(command: string, role: 'leader' | 'follower', nodeId: string, epoch: number, log: Logger): void {
  if (command === '') return;
  const child = spawn('/bin/sh', ['-c', command], {
    env: { ...process.env, WARREN_CLUSTER_ROLE: role, WARREN_CLUSTER_NODE_ID: nodeId, WARREN_CLUSTER_EPOCH: String(epoch) },
    stdio: 'ignore',
  });
  child.on('error', (e) => log.warn('cluster hook failed to run', { role, command, error: e.message }));
  child.on('exit', (code, signal) => {
    if (code === 0) log.info('cluster hook ran', { role, command });
    else log.warn('cluster hook failed', { role, command, code, signal });
  });
}
