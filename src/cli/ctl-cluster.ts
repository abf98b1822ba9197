/**
 * `warren ctl cluster_status` (rabbitmqctl's name): the cluster as GET /api/cluster shows it —
 * nodes and their roles, the leader, the epoch, the in-sync set, each follower's lag and the
 * last failover. Any node's management port answers (a standby forwards to the leader).
 */
import type { Command } from './ctl-commands.js';
import type { Row } from './ctl-output.js';

interface ClusterJson {
  cluster_name: string;
  leader: string | null;
  epoch: number | null;
  isr: string[];
  min_isr: number;
  nodes: { id: string; advertised_address: string; role: string; in_sync: boolean }[];
  followers: { id: string; connected: boolean; caught_up: boolean; lag_bytes: number; lag_seconds: number }[];
  last_failover: { from: string | null; to: string; epoch: number; at: number } | null;
}

export const clusterStatusCommand: Command = {
  args: '',
  summary: 'the cluster: nodes, leader, epoch, in-sync set, follower lag, last failover',
  min: 0,
  max: 0,
  async run(ctx) {
    const c = (await ctx.client.get('/api/cluster')) as ClusterJson & Row;
    if (ctx.output.formatter === 'json') return `${JSON.stringify(c, null, 2)}\n`;
    const lines = [
      `Cluster status of ${c.cluster_name} ...`,
      '',
      `Leader: ${c.leader ?? '(none)'}  epoch ${c.epoch ?? '-'}`,
      `In-sync set: ${c.isr.join(', ') || '(none)'}  (min_isr ${c.min_isr})`,
      '',
      'Nodes',
      ...c.nodes.map((n) => `  ${n.id}  ${n.role}  ${n.advertised_address}${n.in_sync ? '  in sync' : ''}`),
      '',
      'Followers (the leader\'s view)',
      ...(c.followers.length === 0 ? ['  (none)'] : c.followers.map((f) =>
        `  ${f.id}  ${f.connected ? 'connected' : 'disconnected'}${f.caught_up ? ', caught up' : ''}  lag ${f.lag_bytes} bytes, ${f.lag_seconds.toFixed(3)} s`)),
      '',
      `Last failover: ${c.last_failover ? `${c.last_failover.from ?? '(none)'} -> ${c.last_failover.to} at ${new Date(c.last_failover.at).toISOString()} (epoch ${c.last_failover.epoch})` : '(none)'}`,
    ];
    return `${lines.join('\n')}\n`;
  },
};
