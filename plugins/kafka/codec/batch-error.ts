/** A batch refused for a reason the protocol has a code for. */
export class BatchError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'BatchError';
  }
}

/**
 * What compressed batches may still inflate to. One budget spans every batch of a request:
 * the inflated records stay in memory until published, so a bound per batch alone would let
 * a request of many small batches hold a multiple of it.
 */
export interface InflateBudget {
  left: number;
}
