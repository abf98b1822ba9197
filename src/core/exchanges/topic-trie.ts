/**
 * A trie over dot-separated binding keys with AMQP topic wildcards (AMQP 0-9-1 §3.1.3.3):
 * `*` matches exactly one word, `#` zero or more. Matching walks the trie once per routing
 * key instead of testing every binding's pattern (RabbitMQ keeps the same kind of trie in
 * `rabbit_db_topic_exchange`).
 *
 * Words are split on '.'; an empty key has no words (so `#` matches it and `*` does not, as
 * in RabbitMQ), and empty words between dots are ordinary words.
 */
class TrieNode<T> {
  // made on first use: most nodes are leaves of one binding (an MQTT device's own topic), and an
  // empty Map costs ~220 bytes, a pushed-into empty array ~180
  children: Map<string, TrieNode<T>> | null = null;
  star: TrieNode<T> | null = null;
  hash: TrieNode<T> | null = null;
  /** the first value bound here, then the rest (a device's own topic has one: no array for it) */
  first: T | null = null;
  more: T[] | null = null;
  /** values in this subtree, to prune empty branches on removal */
  count = 0;
}

export function splitWords(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

export class TopicTrie<T> {
  readonly #root = new TrieNode<T>();

  add(pattern: string, value: T): void {
    let node = this.#root;
    node.count++;
    for (const word of splitWords(pattern)) {
      node = this.#child(node, word, true) as TrieNode<T>;
      node.count++;
    }
    if (node.first === null) node.first = value;
    else if (node.more === null) node.more = [value];
    else node.more.push(value);
  }

  /** @returns whether the value was found and removed */
  remove(pattern: string, value: T): boolean {
    const words = splitWords(pattern);
    const path: TrieNode<T>[] = [this.#root];
    let node: TrieNode<T> | null = this.#root;
    for (const word of words) {
      node = this.#child(node, word, false);
      if (!node) return false;
      path.push(node);
    }
    if (node.first === value) {
      // the next in insertion order takes its place
      node.first = node.more === null ? null : (node.more.shift() as T);
      if (node.more !== null && node.more.length === 0) node.more = null;
    } else {
      const i = node.more === null ? -1 : node.more.indexOf(value);
      if (i < 0) return false;
      if (node.more!.length === 1) node.more = null;
      else node.more!.splice(i, 1);
    }
    for (const n of path) n.count--;
    // prune branches that no longer hold values
    for (let d = words.length; d > 0; d--) {
      if (path[d].count > 0) break;
      const parent = path[d - 1];
      const word = words[d - 1];
      if (word === '*') parent.star = null;
      else if (word === '#') parent.hash = null;
      else if (parent.children!.delete(word) && parent.children!.size === 0) parent.children = null;
    }
    return true;
  }

  /** Calls `visit` for every value whose pattern matches the routing key (possibly more than once). */
  match(routingKey: string, visit: (value: T) => void): void {
    this.#walk(this.#root, splitWords(routingKey), 0, visit);
  }

  #walk(node: TrieNode<T>, words: string[], i: number, visit: (value: T) => void): void {
    if (node.hash) {
      // '#' consumes zero or more words: try every split point
      for (let j = i; j <= words.length; j++) this.#walk(node.hash, words, j, visit);
    }
    if (i === words.length) {
      if (node.first !== null) visit(node.first);
      const more = node.more;
      if (more !== null) for (let k = 0; k < more.length; k++) visit(more[k]);
      return;
    }
    const child = node.children?.get(words[i]);
    if (child) this.#walk(child, words, i + 1, visit);
    if (node.star) this.#walk(node.star, words, i + 1, visit);
  }

  #child(node: TrieNode<T>, word: string, create: boolean): TrieNode<T> | null {
    if (word === '*') {
      if (!node.star && create) node.star = new TrieNode<T>();
      return node.star;
    }
    if (word === '#') {
      if (!node.hash && create) node.hash = new TrieNode<T>();
      return node.hash;
    }
    let child = node.children?.get(word);
    if (!child && create) {
      child = new TrieNode<T>();
      (node.children ??= new Map()).set(word, child);
    }
    return child ?? null;
  }
}
