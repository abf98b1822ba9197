/**
 * The Kafka plugin's topics and consumer groups (Warren's own paths; RabbitMQ has none):
 * GET /api/kafka/topics and /api/kafka/groups, read from the view the Kafka plugin offers
 * through PluginContext.kafka(). Empty lists when that plugin is not running; a user sees
 * them only with access to the Kafka vhost.
 */
import type { KafkaGroupInfo, KafkaTopicInfo } from '../../../src/plugin-host/index.js';
import { canSeeVhost } from '../auth.js';
import type { ApiRequest } from '../http.js';
import { listResponse } from '../list-query.js';
import type { Route } from '../router.js';

function topicJson(t: KafkaTopicInfo) {
  return {
    name: t.name,
    vhost: t.vhost,
    partitions: t.partitions.map((p) => ({ partition: p.partition, queue: p.queue, messages: p.messages, first_offset: p.firstOffset, last_offset: p.lastOffset })),
  };
}

function groupJson(g: KafkaGroupInfo) {
  const lags = g.offsets.map((o) => o.lag).filter((l): l is number => l !== null);
  return {
    group_id: g.groupId,
    vhost: g.vhost,
    state: g.state,
    protocol_type: g.protocolType,
    protocol: g.protocol,
    generation: g.generation,
    leader: g.leader,
    members: g.members.map((m) => ({ member_id: m.memberId, client_id: m.clientId, client_host: m.clientHost, assignments: m.assignments })),
    offsets: g.offsets.map((o) => ({ topic: o.topic, partition: o.partition, queue: o.queue, committed_offset: o.committedOffset, lag: o.lag })),
    lag: lags.reduce((a, b) => a + b, 0),
  };
}

function topics(req: ApiRequest) {
  const view = req.services.kafka();
  const list = view === null ? [] : view.topics().filter((t) => canSeeVhost(req.services.admin, req.principal, t.vhost));
  return listResponse(list.map(topicJson), req.query);
}

function groups(req: ApiRequest) {
  const view = req.services.kafka();
  const list = view === null ? [] : view.groups().filter((g) => canSeeVhost(req.services.admin, req.principal, g.vhost));
  return listResponse(list.map(groupJson), req.query);
}

export const kafkaRoutes: Route[] = [
  { method: 'GET', path: '/api/kafka/topics', handler: topics },
  { method: 'GET', path: '/api/kafka/groups', handler: groups },
];
