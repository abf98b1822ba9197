import { describe, expect, it } from 'vitest';
import { Deque } from '../../../src/util/deque.js';

describe('Deque', () => {
  it('behaves like an array under a random mix of operations', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const d = new Deque<number>();
    const model: number[] = [];
    for (let step = 0; step < 20000; step++) {
      const op = rand(6);
      if (op === 0 || op === 1) {
        d.push(step);
        model.push(step);
      } else if (op === 2) {
        d.unshift(step);
        model.unshift(step);
      } else if (op === 3) {
        expect(d.shift()).toBe(model.shift());
      } else if (op === 4) {
        const i = rand(model.length + 1);
        d.insertAt(i, step);
        model.splice(i, 0, step);
      } else if (model.length > 0) {
        const i = rand(model.length);
        expect(d.removeAt(i)).toBe(model.splice(i, 1)[0]);
      }
      expect(d.length).toBe(model.length);
    }
    expect([...d]).toEqual(model);
    expect(d.peek()).toBe(model[0]);
  });

  it('returns undefined when empty and can be cleared', () => {
    const d = new Deque<string>();
    expect(d.shift()).toBeUndefined();
    expect(d.peek()).toBeUndefined();
    for (let i = 0; i < 100; i++) d.push(String(i));
    d.clear();
    expect(d.length).toBe(0);
    expect([...d]).toEqual([]);
  });
});
