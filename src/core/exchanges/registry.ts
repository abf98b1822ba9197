import type { ExchangeType } from './exchange-type.js';
import { directExchange } from './direct.js';
import { fanoutExchange } from './fanout.js';
import { headersExchange } from './headers.js';
import { topicExchange } from './topic.js';
import { delayedExchange } from './delayed.js';
import { partitionHashExchange } from './partition-hash.js';

/**
 * Exchange types by name. Built-ins are registered here; a plugin may add its own (as
 * RabbitMQ's consistent-hash exchange plugin does) through `register`.
 */
export class ExchangeTypeRegistry {
  readonly #types = new Map<string, ExchangeType>();

  constructor() {
    for (const t of [directExchange, fanoutExchange, topicExchange, headersExchange, delayedExchange, partitionHashExchange]) this.register(t);
  }

  register(type: ExchangeType): void {
    this.#types.set(type.name, type);
  }

  get(name: string): ExchangeType | undefined {
    return this.#types.get(name);
  }

  names(): string[] {
    return [...this.#types.keys()];
  }
}
