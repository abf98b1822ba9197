/**
 * MQTT topic names and filters: validation, and the mapping onto AMQP topic-exchange routing
 * and binding keys that RabbitMQ's MQTT plugin uses (`rabbit_mqtt_util:mqtt_to_amqp/1`):
 *
 *   MQTT  AMQP
 *   /     .     level separator
 *   +     *     one level
 *   #     #     any number of levels
 *
 * RabbitMQ does not escape a `.` inside an MQTT level: it becomes a level separator on the
 * AMQP side, so `a.b` and `a/b` are the same topic (see README "Known gaps"). The one escape
 * RabbitMQ makes is for Sparkplug B: with `sparkplug` on, the `.` of the leading `spBv1.0/`
 * namespace travels as `___` so that it stays one level.
 *
 * Pure functions, no I/O: unit-tested in test/plugins/mqtt/topics.test.ts.
 */

const SPARKPLUG_TO_AMQP = /^sp[AB]v\d+\.\d+\//;
const SPARKPLUG_TO_MQTT = /^sp[AB]v\d+___\d+\./;

/** A topic name (no wildcards) as an AMQP routing key. */
export function topicToRoutingKey(topic: string, sparkplug = false): string {
  if (sparkplug && SPARKPLUG_TO_AMQP.test(topic)) topic = topic.replace('.', '___');
  // a valid topic name holds no '+' (MQTT-4.7.1-1), so only the separator changes
  return topic.includes('/') ? topic.replaceAll('/', '.') : topic;
}

/** A topic filter as an AMQP binding key. */
export function filterToBindingKey(filter: string, sparkplug = false): string {
  if (sparkplug && SPARKPLUG_TO_AMQP.test(filter)) filter = filter.replace('.', '___');
  return filter.replaceAll('/', '.').replaceAll('+', '*');
}

/** An AMQP routing key as the topic an MQTT subscriber sees. */
export function routingKeyToTopic(routingKey: string, sparkplug = false): string {
  let topic = routingKey;
  if (topic.includes('*')) topic = topic.replaceAll('*', '+');
  if (topic.includes('.')) topic = topic.replaceAll('.', '/');
  if (sparkplug && SPARKPLUG_TO_MQTT.test(routingKey)) topic = topic.replace('___', '.');
  return topic;
}

/**
 * @returns null when `topic` is a valid topic name for PUBLISH, else why not.
 * An empty name is handled by the caller (allowed with a topic alias in MQTT 5).
 */
export function topicNameProblem(topic: string): string | null {
  if (topic.length === 0) return 'empty topic name';
  // MQTT-3.3.2-2: no wildcard characters in a topic name
  if (topic.includes('+') || topic.includes('#')) return 'wildcard in topic name';
  // MQTT-1.5.4-2: no U+0000 in UTF-8 strings
  if (topic.includes('\u0000')) return 'null character in topic name';
  return null;
}

/** @returns null when `filter` is a valid topic filter (MQTT-4.7.1-2, 4.7.1-3, 4.7.3-1), else why not. */
export function topicFilterProblem(filter: string): string | null {
  if (filter.length === 0) return 'empty topic filter';
  if (filter.includes('\u0000')) return 'null character in topic filter';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return "'#' must be alone in the last level";
    }
    if (level.includes('+') && level !== '+') return "'+' must be alone in its level";
  }
  return null;
}

export interface SharedFilter {
  group: string;
  filter: string;
}

/**
 * `$share/{ShareName}/{filter}` (MQTT 5 §4.8.2). Returns null for an ordinary filter,
 * or a string saying what is wrong with a malformed shared one.
 */
export function parseSharedFilter(filter: string): SharedFilter | null | string {
  if (!filter.startsWith('$share/')) return null;
  const rest = filter.slice(7);
  const slash = rest.indexOf('/');
  if (slash < 0) return 'shared subscription without a topic filter';
  const group = rest.slice(0, slash);
  // MQTT-4.8.2-1 / 4.8.2-2: a non-empty ShareName without '/', '+' or '#'
  if (group === '' || group.includes('+') || group.includes('#')) return 'invalid share name';
  const inner = rest.slice(slash + 1);
  const problem = topicFilterProblem(inner);
  if (problem) return problem;
  return { group, filter: inner };
}

export const hasWildcard = (filter: string): boolean => filter.includes('+') || filter.includes('#');

/**
 * Whether an MQTT topic name matches a filter, in MQTT terms (used for retained messages,
 * which are looked up by topic). Topics starting with '$' are not matched by a filter that
 * starts with a wildcard (MQTT-4.7.2-1).
 */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true; // also matches the parent level (MQTT-4.7.1-2)
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * A binding key compiled for matching routing keys the way the topic exchange does (AMQP
 * 0-9-1 §3.1.3.3: `*` one word, `#` zero or more). A queue holds one copy of a message
 * however many of a client's bindings matched it, so at delivery the front-end asks which
 * of its subscriptions did (for their QoS, no-local, subscription identifiers).
 */
export class BindingMatcher {
  readonly bindingKey: string;
  /** the key's words, split at the first match: a device that is never sent anything never needs them (~110 bytes) */
  #words: string[] | null = null;
  readonly #hasHash: boolean;
  /** the filter starts with a wildcard: it must not match '$' topics (MQTT-4.7.2-1) */
  readonly wildcardRoot: boolean;

  constructor(bindingKey: string) {
    this.bindingKey = bindingKey;
    this.#hasHash = bindingKey === '#' || bindingKey.startsWith('#.') || bindingKey.endsWith('.#') || bindingKey.includes('.#.');
    this.wildcardRoot = bindingKey.startsWith('*') || bindingKey.startsWith('#');
  }

  /** @param words the routing key split on '.' (an empty key has no words) */
  matches(words: readonly string[]): boolean {
    const p = (this.#words ??= routingKeyWords(this.bindingKey));
    if (!this.#hasHash) {
      if (p.length !== words.length) return false;
      for (let i = 0; i < p.length; i++) if (p[i] !== '*' && p[i] !== words[i]) return false;
      return true;
    }
    return matchFrom(p, 0, words, 0);
  }
}

function matchFrom(p: readonly string[], pi: number, w: readonly string[], wi: number): boolean {
  for (; pi < p.length; pi++, wi++) {
    const word = p[pi];
    if (word === '#') {
      if (pi === p.length - 1) return true;
      for (let k = wi; k <= w.length; k++) if (matchFrom(p, pi + 1, w, k)) return true;
      return false;
    }
    if (wi >= w.length) return false;
    if (word !== '*' && word !== w[wi]) return false;
  }
  return wi === w.length;
}

export function routingKeyWords(routingKey: string): string[] {
  return routingKey === '' ? [] : routingKey.split('.');
}
