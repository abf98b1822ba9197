import { describe, expect, it } from 'vitest';
import {
  BindingMatcher,
  filterToBindingKey,
  parseSharedFilter,
  routingKeyToTopic,
  routingKeyWords,
  topicFilterProblem,
  topicMatchesFilter,
  topicNameProblem,
  topicToRoutingKey,
} from '../../../plugins/mqtt/topics.js';

describe('topic ↔ routing key mapping (RabbitMQ rabbit_mqtt_util)', () => {
  it('maps / to . and back', () => {
    expect(topicToRoutingKey('sensors/kitchen/temp')).toBe('sensors.kitchen.temp');
    expect(routingKeyToTopic('sensors.kitchen.temp')).toBe('sensors/kitchen/temp');
    expect(topicToRoutingKey('plain')).toBe('plain');
    expect(topicToRoutingKey('/leading//empty/')).toBe('.leading..empty.');
    expect(routingKeyToTopic('.leading..empty.')).toBe('/leading//empty/');
  });

  it('maps filters: + to *, # stays', () => {
    expect(filterToBindingKey('a/+/c/#')).toBe('a.*.c.#');
    expect(filterToBindingKey('#')).toBe('#');
    expect(routingKeyToTopic('a.*.c')).toBe('a/+/c');
  });

  it("makes a '.' inside an MQTT level a separator, as RabbitMQ does", () => {
    expect(topicToRoutingKey('a.b/c')).toBe('a.b.c');
    expect(routingKeyToTopic(topicToRoutingKey('a.b/c'))).toBe('a/b/c');
  });

  it('keeps the Sparkplug namespace in one level with sparkplug on', () => {
    expect(topicToRoutingKey('spBv1.0/group/NDATA/node', true)).toBe('spBv1___0.group.NDATA.node');
    expect(routingKeyToTopic('spBv1___0.group.NDATA.node', true)).toBe('spBv1.0/group/NDATA/node');
    expect(filterToBindingKey('spAv1.0/+/#', true)).toBe('spAv1___0.*.#');
    expect(topicToRoutingKey('spBv1.0/group', false)).toBe('spBv1.0.group');
    expect(topicToRoutingKey('other.1/x', true)).toBe('other.1.x');
  });
});

describe('validation', () => {
  it('topic names: no wildcards, not empty, no NUL (MQTT-3.3.2-2, MQTT-1.5.4-2)', () => {
    expect(topicNameProblem('a/b')).toBeNull();
    expect(topicNameProblem('$SYS/x')).toBeNull();
    expect(topicNameProblem('')).not.toBeNull();
    expect(topicNameProblem('a/+')).not.toBeNull();
    expect(topicNameProblem('a/#')).not.toBeNull();
    expect(topicNameProblem('a\u0000b')).not.toBeNull();
  });

  it('topic filters: # last and alone, + alone in its level (MQTT-4.7.1-2/3)', () => {
    for (const ok of ['#', '+', 'a/#', '+/+/#', 'a/+/b', '/', 'a//b', '$SYS/#']) expect(topicFilterProblem(ok), ok).toBeNull();
    for (const bad of ['', 'a#', 'a/#/b', 'a/b#', 'a+', 'a/+b/c', '#/a', 'x\u0000']) expect(topicFilterProblem(bad), bad).not.toBeNull();
  });

  it('shared subscriptions $share/{group}/{filter} (MQTT 5 §4.8.2)', () => {
    expect(parseSharedFilter('a/b')).toBeNull();
    expect(parseSharedFilter('$share/g1/a/+')).toEqual({ group: 'g1', filter: 'a/+' });
    expect(parseSharedFilter('$share/g1/#')).toEqual({ group: 'g1', filter: '#' });
    expect(typeof parseSharedFilter('$share/g1')).toBe('string');
    expect(typeof parseSharedFilter('$share//a')).toBe('string');
    expect(typeof parseSharedFilter('$share/g+/a')).toBe('string');
    expect(typeof parseSharedFilter('$share/g/a#')).toBe('string');
  });
});

describe('matching', () => {
  it('MQTT filters (for retained messages), with the $ rule (MQTT-4.7.2-1)', () => {
    const yes: [string, string][] = [
      ['a/b', 'a/b'],
      ['a/+', 'a/b'],
      ['a/#', 'a'],
      ['a/#', 'a/b/c'],
      ['#', 'a/b'],
      ['+/+', '/x'],
      ['$SYS/#', '$SYS/uptime'],
      ['+', ''],
    ];
    const no: [string, string][] = [
      ['a/+', 'a/b/c'],
      ['a/b', 'a'],
      ['+', 'a/b'],
      ['#', '$SYS/x'],
      ['+/x', '$SYS/x'],
      ['a/+/c', 'a/b/d'],
    ];
    for (const [f, t] of yes) expect(topicMatchesFilter(f, t), `${f} ~ ${t}`).toBe(true);
    for (const [f, t] of no) expect(topicMatchesFilter(f, t), `${f} !~ ${t}`).toBe(false);
  });

  it('binding keys against routing keys, as the topic exchange does', () => {
    const m = (key: string, rk: string) => new BindingMatcher(key).matches(routingKeyWords(rk));
    expect(m('a.*', 'a.b')).toBe(true);
    expect(m('a.*', 'a.b.c')).toBe(false);
    expect(m('a.#', 'a')).toBe(true);
    expect(m('a.#.z', 'a.b.c.z')).toBe(true);
    expect(m('a.#.z', 'a.z')).toBe(true);
    expect(m('a.#.z', 'a.b.c')).toBe(false);
    expect(m('#', '')).toBe(true);
    expect(m('*', '')).toBe(false);
    expect(m('#.b.#', 'x.b.y')).toBe(true);
    expect(new BindingMatcher('#').wildcardRoot).toBe(true);
    expect(new BindingMatcher('*.x').wildcardRoot).toBe(true);
    expect(new BindingMatcher('a.#').wildcardRoot).toBe(false);
  });
});
