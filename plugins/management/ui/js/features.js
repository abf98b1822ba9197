// The Features column of the queue and exchange lists, as RabbitMQ's management UI shows it
// (its KNOWN_ARGS / IMPLICIT_ARGS tables and fmt_features_short): one short badge per flag or
// known argument, its full name and value on hover; other arguments as one "Args" badge; the
// policy in effect as a badge linking to the policies tab.
import { h } from './dom.js';

/** flags and known x-arguments, in RabbitMQ's order, with its short names */
const BADGES = [
  ['durable', 'D'],
  ['auto-delete', 'AD'],
  ['internal', 'I'],
  ['alternate-exchange', 'AE'],
  ['x-message-ttl', 'TTL'],
  ['x-expires', 'Exp'],
  ['x-max-length', 'Lim'],
  ['x-max-length-bytes', 'Lim B'],
  ['x-delivery-limit', 'DlL'],
  ['x-overflow', 'Ovfl'],
  ['x-dead-letter-exchange', 'DLX'],
  ['x-dead-letter-routing-key', 'DLK'],
  ['x-queue-master-locator', 'ML'],
  ['x-max-priority', 'Pri'],
  ['x-single-active-consumer', 'SAC'],
];
const KNOWN = new Set(BADGES.map(([k]) => k));
// shown in the Type column instead of under "Args"
const NOT_FEATURES = new Set(['x-queue-type']);

const valueText = (v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

/** Badges for a queue or exchange from the API (`durable`, `auto_delete`, `internal`, `exclusive`, `arguments`, `policy`). */
export function featureBadges(item) {
  const args = item.arguments ?? {};
  const facts = { ...args };
  if (item.durable) facts.durable = true;
  if (item.auto_delete) facts['auto-delete'] = true;
  if (item.internal) facts.internal = true;
  const out = [];
  if (item.exclusive) out.push(h('abbr', { class: 'feature', title: 'Exclusive queue: only its declaring connection may use it' }, 'Excl'));
  for (const [key, short] of BADGES) {
    if (facts[key] !== undefined) out.push(h('abbr', { class: 'feature', title: `${key}: ${valueText(facts[key])}` }, short));
  }
  const other = Object.keys(args).filter((k) => !KNOWN.has(k) && !NOT_FEATURES.has(k));
  if (other.length > 0) out.push(h('abbr', { class: 'feature', title: other.map((k) => `${k}: ${valueText(args[k])}`).join(', ') }, 'Args'));
  if (item.policy) {
    const title = `Policy: ${item.policy}${item.effective_policy_definition ? ` ${JSON.stringify(item.effective_policy_definition)}` : ''}`;
    out.push(h('abbr', { class: 'feature policy', title }, h('a', { href: '#/admin/policies' }, item.policy)));
  }
  return h('span', { class: 'features' }, out);
}
