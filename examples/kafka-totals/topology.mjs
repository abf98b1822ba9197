/** The topics of the running-totals example, created with kafkajs' admin client. */
export const ORDERS = 'orders';
export const TOTALS = 'customer-totals';
export const GROUP = 'totals-aggregator';

/** orders: 3 partitions keyed by customer; customer-totals: one compacted partition (newest total per customer). */
export async function ensureTopics(kafka) {
  const admin = kafka.admin();
  await admin.connect();
  const existing = new Set(await admin.listTopics());
  const topics = [];
  if (!existing.has(ORDERS)) topics.push({ topic: ORDERS, numPartitions: 3 });
  if (!existing.has(TOTALS)) topics.push({ topic: TOTALS, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] });
  if (topics.length > 0) await admin.createTopics({ topics });
  await admin.disconnect();
}
