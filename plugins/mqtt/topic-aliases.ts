/**
 * MQTT 5 Topic Aliases (§3.3.2.3.4), one map per direction and connection: the client's
 * (alias → topic, up to our Topic Alias Maximum) and ours (topic → alias, up to the
 * client's). Outbound, the first topics seen take the aliases; later ones go in full.
 */
export class InboundAliases {
  readonly #topics = new Map<number, string>();
  constructor(readonly maximum: number) {}

  /** @returns false when the alias is out of range (MQTT-3.3.2-9/10: a protocol error) */
  valid(alias: number): boolean {
    return alias >= 1 && alias <= this.maximum;
  }

  set(alias: number, topic: string): void {
    this.#topics.set(alias, topic);
  }

  get(alias: number): string | undefined {
    return this.#topics.get(alias);
  }
}

export class OutboundAliases {
  readonly #aliases = new Map<string, number>();
  constructor(readonly maximum: number) {}

  /**
   * The alias for a topic: positive when already known to the client (send an empty topic),
   * negative when newly assigned (send the topic and the alias), 0 when none is left.
   */
  aliasFor(topic: string): number {
    const known = this.#aliases.get(topic);
    if (known !== undefined) return known;
    if (this.#aliases.size >= this.maximum) return 0;
    const alias = this.#aliases.size + 1;
    this.#aliases.set(topic, alias);
    return -alias;
  }

  /** Undo a new assignment whose packet was never sent (too large for the client). */
  forget(topic: string): void {
    const alias = this.#aliases.get(topic);
    // only the newest alias can be taken back without leaving a hole in the numbering
    if (alias === this.#aliases.size) this.#aliases.delete(topic);
  }
}
