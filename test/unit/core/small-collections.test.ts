import { describe, expect, it } from 'vitest';
import { SmallMap, SmallSet } from '../../../src/util/small-collections.js';
import { ConsumersByTag } from '../../../src/core/delivery/consumers-by-tag.js';
import type { Consumer } from '../../../src/core/delivery/consumer.js';
import { Deque } from '../../../src/util/deque.js';

/** a deterministic generator, so a failure reproduces */
function random(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
}

describe('SmallMap, SmallSet and ConsumersByTag (one item in fields, a real Map or Set from the second)', () => {
  it('SmallMap behaves like a Map under a random mix of operations on few keys, iteration order included', () => {
    const rand = random(7);
    const m = new SmallMap<string, number>();
    const model = new Map<string, number>();
    for (let step = 0; step < 3000; step++) {
      const key = `k${rand(4)}`;
      const op = rand(10);
      if (op < 4) {
        m.set(key, step);
        model.set(key, step);
      } else if (op < 8) {
        expect(m.delete(key)).toBe(model.delete(key));
      } else if (op === 8) {
        expect(m.get(key)).toBe(model.get(key));
        expect(m.has(key)).toBe(model.has(key));
      } else if (rand(50) === 0) {
        m.clear();
        model.clear();
      }
      expect(m.size).toBe(model.size);
      expect([...m.values()]).toEqual([...model.values()]);
      expect([...m.keys()]).toEqual([...model.keys()]);
      expect([...m]).toEqual([...model]);
    }
  });

  it('SmallSet behaves like a Set under a random mix of operations on few items, iteration order included', () => {
    const rand = random(11);
    const s = new SmallSet<object>();
    const model = new Set<object>();
    const items = [{}, {}, {}, {}];
    for (let step = 0; step < 3000; step++) {
      const item = items[rand(items.length)];
      const op = rand(10);
      if (op < 4) {
        s.add(item);
        model.add(item);
      } else if (op < 8) {
        expect(s.delete(item)).toBe(model.delete(item));
      } else if (op === 8) {
        expect(s.has(item)).toBe(model.has(item));
      } else if (rand(50) === 0) {
        s.clear();
        model.clear();
      }
      expect(s.size).toBe(model.size);
      expect([...s]).toEqual([...model]);
    }
  });

  it('ConsumersByTag behaves like a Map by consumer tag', () => {
    const rand = random(5);
    const byTag = new ConsumersByTag();
    const model = new Map<string, Consumer>();
    for (let step = 0; step < 3000; step++) {
      const tag = `ctag-${rand(3)}`;
      const op = rand(10);
      if (op < 4) {
        const consumer = { tag, step } as unknown as Consumer;
        byTag.set(consumer);
        model.set(tag, consumer);
      } else if (op < 8) {
        expect(byTag.delete(tag)).toBe(model.delete(tag));
      } else if (op === 8) {
        expect(byTag.get(tag)).toBe(model.get(tag));
        expect(byTag.has(tag)).toBe(model.has(tag));
      } else if (rand(50) === 0) {
        byTag.clear();
        model.clear();
      }
      expect(byTag.size).toBe(model.size);
      expect([...byTag.values()]).toEqual([...model.values()]);
    }
  });

  it('an emptied Deque gives up its ring and grows again from nothing', () => {
    const d = new Deque<number>();
    expect(d.shift()).toBeUndefined();
    expect(d.peek()).toBeUndefined();
    expect([...d]).toEqual([]);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 40; i++) d.push(i);
      d.unshift(-1);
      d.insertAt(5, 99);
      expect(d.length).toBe(42);
      expect(d.at(0)).toBe(-1);
      expect(d.at(5)).toBe(99);
      d.clear();
      expect(d.length).toBe(0);
      expect([...d]).toEqual([]);
    }
    d.unshift(1);
    expect([...d]).toEqual([1]);
  });
});
