/**
 * The states of an AMQP connection (AMQP 0-9-1 §4.2.2 and the connection class):
 *   awaiting-header → starting (start sent) → tuning (tune sent) → opening (tune-ok received)
 *   → running (open-ok sent) → closing (connection.close sent, waiting for close-ok) → closed.
 */
export type ConnectionState = 'awaiting-header' | 'starting' | 'tuning' | 'opening' | 'running' | 'closing' | 'closed';

/** What the client announced in its client-properties `capabilities` table. */
export interface ClientCapabilities {
  consumerCancelNotify: boolean;
  authenticationFailureClose: boolean;
  connectionBlocked: boolean;
}
