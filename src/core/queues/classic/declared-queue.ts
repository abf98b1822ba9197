import type { FieldTable } from '../../../codec/types.js';
import type { Consumer } from '../../delivery/consumer.js';
import type { QueueFlags } from '../queue-type.js';
import { CLASSIC_TYPE, sharedSettingsFrom, type QueueSettings } from '../queue-arguments.js';

/**
 * What a classic (or quorum) queue was declared as: its name, vhost, flags and arguments,
 * the settings they and a policy give it, and the answers that depend only on its kind, which
 * a queue kind with other defaults overrides (quorum-queue.ts). The messages, consumers and
 * dispatch are ClassicQueue's, which extends this: one object per queue either way.
 */
export abstract class DeclaredQueue {
  readonly kind = 'queue' as const;
  readonly name: string;
  readonly vhost: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly arguments: FieldTable;
  readonly maxPriority: number;
  readonly ownerId: number;
  settings: QueueSettings;
  policy: string | null = null;
  routeMark = 0;
  deleted = false;

  constructor(name: string, vhost: string, flags: QueueFlags) {
    this.name = name;
    this.vhost = vhost;
    this.durable = flags.durable;
    this.autoDelete = flags.autoDelete;
    this.arguments = flags.arguments;
    this.maxPriority = flags.maxPriority;
    this.ownerId = flags.ownerId;
    this.settings = this.settingsFor(flags.arguments);
  }

  /** Settings from effective arguments (read only, shared by queues with equal ones); a queue kind with other defaults overrides this. */
  protected settingsFor(args: FieldTable): QueueSettings {
    return sharedSettingsFrom(args);
  }

  get type(): string {
    return CLASSIC_TYPE;
  }

  /** Whether every message is stored, whatever its delivery mode (quorum queues). */
  get storesEveryMessage(): boolean {
    return false;
  }

  /** Queue.recyclesBodies: an acked first delivery is the end of the message here */
  get recyclesBodies(): boolean {
    return true;
  }

  /** Whether redeliveries carry `x-delivery-count` (with a delivery limit; always for quorum queues). */
  get countsDeliveries(): boolean {
    return this.settings.deliveryLimit >= 0;
  }

  get exclusive(): boolean {
    return this.ownerId !== 0;
  }

  get globalQosAllowed(): boolean {
    return true;
  }

  /** A classic queue takes any consumer the session allows. */
  validateConsumer(_consumer: Consumer): void {}
}
