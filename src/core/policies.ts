import { numericValue, type FieldTable } from '../codec/types.js';
import { preconditionFailed } from './errors.js';

/**
 * Policies as RabbitMQ has them (https://www.rabbitmq.com/docs/policies): a named regular
 * expression over queue or exchange names with a priority and a definition of settings. At
 * most one policy applies to an object — the matching one with the highest priority — and
 * operators can change it while queues run.
 */
export interface Policy {
  name: string;
  vhost: string;
  pattern: string;
  applyTo: 'queues' | 'classic_queues' | 'quorum_queues' | 'exchanges' | 'all' | 'streams';
  priority: number;
  definition: FieldTable;
}

/** Definition keys a policy may set, and whether a queue argument of the same meaning overrides it. */
const QUEUE_KEYS: Record<string, { arg: string; combine: 'min' | 'argument' }> = {
  'max-length': { arg: 'x-max-length', combine: 'min' },
  'max-length-bytes': { arg: 'x-max-length-bytes', combine: 'min' },
  'message-ttl': { arg: 'x-message-ttl', combine: 'min' },
  expires: { arg: 'x-expires', combine: 'min' },
  'delivery-limit': { arg: 'x-delivery-limit', combine: 'min' },
  overflow: { arg: 'x-overflow', combine: 'argument' },
  'dead-letter-exchange': { arg: 'x-dead-letter-exchange', combine: 'argument' },
  'dead-letter-routing-key': { arg: 'x-dead-letter-routing-key', combine: 'argument' },
  // quorum queues (quorum-arguments.ts)
  'dead-letter-strategy': { arg: 'x-dead-letter-strategy', combine: 'argument' },
  'queue-mode': { arg: 'x-queue-mode', combine: 'argument' },
  'max-age': { arg: 'x-max-age', combine: 'argument' },
  'stream-max-segment-size-bytes': { arg: 'x-stream-max-segment-size-bytes', combine: 'argument' },
};
const EXCHANGE_KEYS: Record<string, { arg: string; combine: 'argument' }> = {
  'alternate-exchange': { arg: 'alternate-exchange', combine: 'argument' },
};

export function validatePolicy(p: Policy): void {
  try {
    new RegExp(p.pattern);
  } catch {
    throw preconditionFailed(`invalid policy pattern '${p.pattern}'`);
  }
  if (!['queues', 'classic_queues', 'quorum_queues', 'exchanges', 'all', 'streams'].includes(p.applyTo)) {
    throw preconditionFailed(`invalid apply-to '${p.applyTo}'`);
  }
  for (const key of Object.keys(p.definition)) {
    if (!(key in QUEUE_KEYS) && !(key in EXCHANGE_KEYS)) throw preconditionFailed(`unrecognised policy key '${key}'`);
  }
}

/** The policy that applies to an object: matching pattern and kind, highest priority (ties: name order). */
export function effectivePolicy(policies: Iterable<Policy>, kind: 'queue' | 'exchange', name: string): Policy | undefined {
  let best: Policy | undefined;
  for (const p of policies) {
    const kindOk = kind === 'exchange' ? p.applyTo === 'exchanges' || p.applyTo === 'all' : p.applyTo !== 'exchanges';
    if (!kindOk || !new RegExp(p.pattern).test(name)) continue;
    if (!best || p.priority > best.priority || (p.priority === best.priority && p.name < best.name)) best = p;
  }
  return best;
}

/**
 * A queue's or exchange's effective arguments: its declared arguments merged with its policy's
 * definition — numeric limits take the lower of the two, other keys keep the argument when
 * both are set (RabbitMQ's rules).
 */
export function mergePolicy(kind: 'queue' | 'exchange', args: FieldTable, policy: Policy | undefined): FieldTable {
  if (!policy) return args;
  const keys = kind === 'queue' ? QUEUE_KEYS : EXCHANGE_KEYS;
  const merged: FieldTable = { ...args };
  for (const [key, value] of Object.entries(policy.definition)) {
    const rule = keys[key];
    if (!rule) continue;
    const current = merged[rule.arg];
    if (current === undefined) merged[rule.arg] = value;
    else if (rule.combine === 'min') {
      const a = numericValue(current);
      const b = numericValue(value);
      if (a !== undefined && b !== undefined) merged[rule.arg] = Math.min(a, b);
    }
  }
  return merged;
}
