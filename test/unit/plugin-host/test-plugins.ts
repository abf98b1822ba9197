/**
 * Small real plugins for testing the host and the Broker class without the AMQP plugin:
 * a TCP listener that accepts connections and closes them on stop, recording every
 * lifecycle event in a shared journal so tests can check the order.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ConfigKey, PluginContext, PluginManifest, RunningPlugin } from '../../../src/plugin-host/manifest.js';

export type Journal = string[];

export interface TestPluginOptions {
  journal: Journal;
  dependsOn?: string[];
  enabledByDefault?: boolean;
  /** reject from start() with this message */
  failStart?: string;
  /** stop() never resolves */
  hangOnStop?: boolean;
  /** stop() rejects */
  failStop?: boolean;
  /** keep the context given to start() here */
  contexts?: Map<string, PluginContext>;
  schema?: Record<string, ConfigKey>;
  /** ask for the admin interface (PluginContext.admin) */
  adminAccess?: boolean;
}

export function tcpPlugin(name: string, options: TestPluginOptions): PluginManifest {
  return {
    name,
    version: '1.0.0',
    configSection: name,
    configSchema: options.schema ?? {
      port: { type: 'integer', default: 0, min: 0, max: 65535, doc: `TCP port of ${name}.` },
      host: { type: 'string', default: '127.0.0.1', doc: `Address ${name} listens on.` },
    },
    enabledByDefault: options.enabledByDefault ?? true,
    ...(options.dependsOn ? { dependsOn: options.dependsOn } : {}),
    ...(options.adminAccess ? { adminAccess: true } : {}),
    async start(ctx: PluginContext): Promise<RunningPlugin> {
      options.journal.push(`start ${name}`);
      options.contexts?.set(name, ctx);
      if (options.failStart) throw new Error(options.failStart);
      const sockets = new Set<Socket>();
      const server: Server = createServer((s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
        s.on('data', (d) => s.write(d));
      });
      const port = typeof ctx.config.port === 'number' ? ctx.config.port : 0;
      const host = typeof ctx.config.host === 'string' ? ctx.config.host : '127.0.0.1';
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : 0;
      return {
        addresses: () => [{ name, host, port: actual }],
        async stop(reason: string) {
          options.journal.push(`stop ${name}: ${reason}`);
          if (options.hangOnStop) return new Promise<void>(() => undefined);
          if (options.failStop) throw new Error(`${name} cannot stop`);
          for (const s of sockets) s.end(`bye: ${reason}`);
          await new Promise<void>((resolve) => server.close(() => resolve()));
        },
      };
    },
  };
}

/** A plugin table (as builtin.ts has) serving the given manifests. */
export function tableOf(...manifests: PluginManifest[]): Record<string, () => Promise<{ default: PluginManifest }>> {
  return Object.fromEntries(manifests.map((m) => [m.name, async () => ({ default: m })]));
}
