/**
 * The group coordinator of this node: every consumer group of the Kafka vhost, in memory.
 * Membership is rebuilt by the clients after a restart (they rejoin); what must survive —
 * committed offsets — lives in the partition streams' stored offsets (handlers/offsets.ts).
 */
import type { KafkaBroker } from '../broker.js';
import { Group } from './group.js';

export class GroupCoordinator {
  readonly #broker: KafkaBroker;
  readonly groups = new Map<string, Group>();

  constructor(broker: KafkaBroker) {
    this.#broker = broker;
  }

  group(id: string, create: boolean): Group | undefined {
    let g = this.groups.get(id);
    if (g === undefined && create) {
      g = new Group(id, this.#broker.settings.initialRebalanceDelayMs, () => {});
      this.groups.set(id, g);
    }
    return g;
  }

  stop(): void {
    for (const g of this.groups.values()) g.stop();
  }
}
