import type { Binding, Destination } from '../binding.js';
import type { Message } from '../message.js';
import { addDestination, type ExchangeRouter, type ExchangeType } from './exchange-type.js';
import { TopicTrie } from './topic-trie.js';

/** Routing results kept per routing key; cleared on any binding change. */
const CACHE_LIMIT = 4096;

/**
 * Topic exchange (AMQP 0-9-1 §3.1.3.3): a trie walk per routing key, with the result cached
 * per key until the bindings change, so repeated keys cost one map lookup.
 */
class TopicRouter implements ExchangeRouter {
  readonly #trie = new TopicTrie<Binding>();
  readonly #cache = new Map<string, Destination[]>();

  bind(b: Binding): void {
    this.#trie.add(b.routingKey, b);
    this.#cache.clear();
  }

  unbind(b: Binding): void {
    this.#trie.remove(b.routingKey, b);
    this.#cache.clear();
  }

  route(_message: Message, routingKey: string, out: Destination[], epoch: number): boolean {
    let targets = this.#cache.get(routingKey);
    if (!targets) {
      targets = this.#resolve(routingKey);
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(routingKey, targets);
    }
    for (let i = 0; i < targets.length; i++) addDestination(out, targets[i], epoch);
    return targets.length > 0;
  }

  #resolve(routingKey: string): Destination[] {
    const seen = new Set<Destination>();
    this.#trie.match(routingKey, (b) => seen.add(b.destination));
    return [...seen];
  }
}

export const topicExchange: ExchangeType = { name: 'topic', create: () => new TopicRouter() };
