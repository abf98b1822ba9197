/**
 * Packet identifiers of a connection's outbound QoS 1 and 2 PUBLISHes still in flight
 * (MQTT 5 §2.2.1), each mapped to what settles it: the core delivery tag to ack, 0 for a
 * delivery the core does not track (a retained message sent on subscribe), or
 * `AWAITING_PUBCOMP` once a QoS 2 delivery has been PUBRECed and acked.
 *
 * A persistent session's record (session-records.ts) follows these flows: `changes` is
 * told whenever an identifier is taken or freed (a property read, no closure per delivery
 * when unset).
 */
export const UNTRACKED = 0;
export const AWAITING_PUBCOMP = -1;

const MAX_ID = 65535;

export class PacketIds {
  // made on first use: a connection that never gets a QoS ≥ 1 delivery costs nothing here
  #tagMap: Map<number, number> | null = null;
  #next = 1;
  /** told after every change (a persistent session's record is due for a write): its session */
  changes: { changed(): void } | null = null;

  get #tags(): Map<number, number> {
    return (this.#tagMap ??= new Map());
  }

  get size(): number {
    return this.#tagMap?.size ?? 0;
  }

  /** A free identifier bound to `tag`, preferring `wanted` when it is free; 0 when all 65535 are in use. */
  allocate(tag: number, wanted = 0): number {
    let id = wanted;
    if (id === 0 || this.#tags.has(id)) {
      if (this.#tags.size >= MAX_ID) return 0;
      id = this.#next;
      while (this.#tags.has(id)) id = id === MAX_ID ? 1 : id + 1;
      this.#next = id === MAX_ID ? 1 : id + 1;
    }
    this.#tags.set(id, tag);
    if (this.changes !== null && tag !== UNTRACKED) this.changes.changed();
    return id;
  }

  /** Mark an identifier in use by an earlier connection of the session (a QoS 2 flow awaiting PUBCOMP). */
  reserve(id: number, tag: number): void {
    this.#tags.set(id, tag);
  }

  /** @returns what the identifier was bound to, or undefined when it was not in flight */
  get(id: number): number | undefined {
    return this.#tagMap?.get(id);
  }

  set(id: number, tag: number): void {
    this.#tags.set(id, tag);
    if (this.changes !== null) this.changes.changed();
  }

  /** Free an identifier. @returns what it was bound to, or undefined when it was not in flight */
  release(id: number): number | undefined {
    const tag = this.#tagMap?.get(id);
    if (tag === undefined) return undefined;
    this.#tags.delete(id);
    if (this.changes !== null && tag !== UNTRACKED) this.changes.changed();
    return tag;
  }

  /** Calls `each(packetId, deliveryTag)` for every core delivery still unacknowledged. */
  forEachTracked(each: (id: number, tag: number) => void): void {
    if (this.#tagMap === null) return;
    for (const [id, tag] of this.#tagMap) if (tag > 0) each(id, tag);
  }
}
