import { describe, expect, it } from 'vitest';
import { TopicTrie } from '../../../src/core/exchanges/topic-trie.js';

/** Reference matcher written independently of the trie: word lists, recursive. */
function refMatch(pattern: string[], key: string[]): boolean {
  if (pattern.length === 0) return key.length === 0;
  const [p, ...rest] = pattern;
  if (p === '#') {
    for (let i = 0; i <= key.length; i++) if (refMatch(rest, key.slice(i))) return true;
    return false;
  }
  if (key.length === 0) return false;
  return (p === '*' || p === key[0]) && refMatch(rest, key.slice(1));
}
const words = (s: string) => (s === '' ? [] : s.split('.'));

function matching(trie: TopicTrie<string>, key: string): string[] {
  const out = new Set<string>();
  trie.match(key, (v) => out.add(v));
  return [...out].sort();
}

describe('TopicTrie', () => {
  it('matches AMQP topic semantics on known cases', () => {
    const cases: [string, string, boolean][] = [
      ['a.b.c', 'a.b.c', true],
      ['a.*.c', 'a.b.c', true],
      ['a.*.c', 'a.c', false],
      ['a.#', 'a', true],
      ['a.#', 'a.b.c', true],
      ['#', '', true],
      ['*', '', false],
      ['#.b', 'b', true],
      ['a.#.b', 'a.b', true],
      ['a.#.b', 'a.x.y.b', true],
      ['a.#.b', 'a.x.y.c', false],
      ['#.#', 'a', true],
      ['*.*', 'a', false],
      ['a..b', 'a..b', true],
      ['a.*.b', 'a..b', true],
      ['', '', true],
      ['', 'a', false],
    ];
    for (const [pattern, key, expected] of cases) {
      const t = new TopicTrie<string>();
      t.add(pattern, 'x');
      expect(matching(t, key).length > 0, `${pattern} vs ${key}`).toBe(expected);
      expect(refMatch(words(pattern), words(key))).toBe(expected);
    }
  });

  it('agrees with a reference matcher on random patterns, and prunes on removal', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const vocab = ['a', 'b', 'c', '*', '#'];
    const gen = (wild: boolean) =>
      Array.from({ length: rand(5) }, () => vocab[rand(wild ? 5 : 3)]).join('.');
    const patterns = Array.from({ length: 200 }, () => gen(true));
    const t = new TopicTrie<string>();
    patterns.forEach((p, i) => t.add(p, `${i}`));
    for (let k = 0; k < 300; k++) {
      const key = gen(false);
      const expected = patterns
        .map((p, i) => (refMatch(words(p), words(key)) ? `${i}` : null))
        .filter((x): x is string => x !== null)
        .sort();
      expect(matching(t, key), key).toEqual(expected);
    }
    patterns.forEach((p, i) => expect(t.remove(p, `${i}`)).toBe(true));
    expect(matching(t, 'a.b')).toEqual([]);
    expect(t.remove('a', 'nope')).toBe(false);
  });
});
