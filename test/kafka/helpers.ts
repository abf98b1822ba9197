/** A Warren with the Kafka and AMQP listeners on port 0 in a temp data dir, and kafkajs clients for it. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { Broker } from '../../src/index.js';
import type { Disk } from '../../src/store/disk/disk.js';

export interface KafkaTestBroker {
  broker: Broker;
  dataDir: string;
  kafkaPort: number;
  amqpUrl: string;
  brokers: string[];
  client(extra?: Partial<KafkaConfig>): Kafka;
  /** CreateTopics through a kafkajs admin client that is closed after */
  createTopic(topic: string, numPartitions: number): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startKafkaBroker(
  kafka: Record<string, unknown> = {},
  dataDir?: string,
  extra: Record<string, unknown> = {},
  setup: { disk?: Disk } = {},
): Promise<KafkaTestBroker> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'warren-kafka-')));
  const make = () =>
    new Broker(
      {
        dataDir: dir,
        log: { level: 'error' },
        auth: { failureDelay: 0 },
        amqp: { port: 0, host: '127.0.0.1' },
        kafka: { port: 0, host: '127.0.0.1', group_initial_rebalance_delay: 100, ...kafka },
        ...extra,
      },
      setup.disk !== undefined ? { disk: setup.disk } : {},
    );
  const t: KafkaTestBroker = {
    broker: make(),
    dataDir: dir,
    kafkaPort: 0,
    amqpUrl: '',
    brokers: [],
    client(extra = {}) {
      return new Kafka({ clientId: 'warren-test', brokers: t.brokers, logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 }, ...extra });
    },
    async createTopic(topic, numPartitions) {
      const admin = t.client().admin();
      await admin.connect();
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions }] });
      } finally {
        await admin.disconnect();
      }
    },
    async restart() {
      await t.broker.stop();
      t.broker = make();
      await start();
    },
    async stop() {
      await t.broker.stop();
      if (dataDir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
  const start = async () => {
    await t.broker.start();
    const k = t.broker.address('kafka');
    const a = t.broker.address('amqp');
    t.kafkaPort = k.port;
    t.brokers = [`127.0.0.1:${k.port}`];
    t.amqpUrl = `amqp://guest:guest@127.0.0.1:${a.port}`;
  };
  await start();
  return t;
}

let counter = 0;
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}
