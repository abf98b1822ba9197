/**
 * The management plugin: RabbitMQ's management HTTP API (paths and JSON shapes), a web UI,
 * Prometheus metrics at /metrics, on one HTTP listener (15672). See README.md.
 */
import type { PluginManifest, RunningPlugin } from '../../src/plugin-host/index.js';
import { packageInfo } from './package-root.js';
import { Router } from './router.js';
import { bindingRoutes } from './routes/bindings.js';
import { connectionRoutes } from './routes/connections.js';
import { definitionRoutes } from './routes/definitions.js';
import { exchangeRoutes } from './routes/exchanges.js';
import { clusterRoutes } from './routes/cluster.js';
import { kafkaRoutes } from './routes/kafka.js';
import { overviewRoutes } from './routes/overview.js';
import { policyRoutes } from './routes/policies.js';
import { queueRoutes } from './routes/queues.js';
import { userRoutes } from './routes/users.js';
import { vhostRoutes } from './routes/vhosts.js';
import { Sampler } from './sampler.js';
import { ManagementServer } from './server.js';
import { nodeNameOf, type ManagementServices } from './services.js';
import { MANAGEMENT_CONFIG_SCHEMA, settingsFrom } from './settings.js';

export function createRouter(): Router {
  const router = new Router();
  // literal paths before parameterised ones that look alike (users/without-permissions)
  for (const routes of [overviewRoutes, connectionRoutes, userRoutes, vhostRoutes, exchangeRoutes, queueRoutes, bindingRoutes, policyRoutes, definitionRoutes, kafkaRoutes, clusterRoutes]) {
    router.add(routes);
  }
  return router;
}

const manifest: PluginManifest = {
  name: 'management',
  version: '0.1.0',
  configSection: 'management',
  configSchema: MANAGEMENT_CONFIG_SCHEMA,
  enabledByDefault: true,
  adminAccess: true,
  async start(ctx): Promise<RunningPlugin> {
    const admin = ctx.admin;
    if (admin === null) throw new Error('the management plugin needs the admin interface (adminAccess)');
    const settings = settingsFrom(ctx.config);
    const sampler = new Sampler(admin, settings.sampleIntervalMs);
    const services: ManagementServices = {
      core: ctx.core,
      admin,
      settings,
      sampler,
      log: ctx.log,
      version: packageInfo().version,
      nodeName: nodeNameOf(),
      startedAt: Date.now(),
      listener: null,
      sslListener: null,
      listeners: () => ctx.listeners(),
      kafka: () => ctx.kafka(),
      cluster: () => ctx.cluster(),
    };
    const server = new ManagementServer(services, createRouter());
    try {
      services.listener = await server.listen();
      if (settings.sslEnabled) services.sslListener = await server.listenTls(ctx.tls);
    } catch (e) {
      await server.stop();
      throw e;
    }
    sampler.start();
    ctx.log.info('management listener started', services.listener);
    if (services.sslListener) ctx.log.info('management HTTPS listener started', services.sslListener);
    return {
      addresses: () => [
        ...(services.listener ? [{ name: 'management', ...services.listener }] : []),
        ...(services.sslListener ? [{ name: 'management-https', ...services.sslListener }] : []),
      ],
      stop: async () => {
        sampler.stop();
        await server.stop();
      },
    };
  },
};

export default manifest;
