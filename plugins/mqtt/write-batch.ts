/**
 * When an MQTT connection's corked writes leave. A connection corks its socket at its first
 * write of an event-loop turn (MqttConnection.sendBytes); all corked connections are uncorked
 * together once the poll phase has run every read that was ready (one setImmediate for all),
 * not after each read (a process.nextTick each): a subscriber fed by many publishers, or a
 * publisher's PUBACKs, leave in one write per turn, and the client parses them from one read —
 * with MQTT.js (one JavaScript thread per client process) the client's cost per read, more
 * than the broker's, limits a busy flow.
 *
 * A connection whose reply vouches for definitions saved under `deferMetadataSync` (a
 * persistent session's queues and bindings behind its SUBACK) is held: it stays corked until
 * one fdatasync shared with every session created meanwhile has made them durable.
 */
import type { MqttConnection } from './connection.js';
import type { PacketOutput } from './packet-output.js';

let corked: PacketOutput[] = [];
let spare: PacketOutput[] = [];

/** `c` has corked writes: uncorked after this turn's reads. */
export function flushAfterReads(c: PacketOutput): void {
  corked.push(c);
  if (corked.length === 1) setImmediate(flushCorked);
}

function flushCorked(): void {
  const batch = corked;
  corked = spare;
  spare = batch;
  for (let i = 0; i < batch.length; i++) batch[i]!.flush();
  batch.length = 0;
}

/** Hold `c`'s writes until the definitions saved under `deferMetadataSync` so far are durable. */
export function holdForMetadata(c: MqttConnection): void {
  if (c.metadataHold) return;
  c.metadataHold = true;
  let waited = false;
  // one closure per SUBSCRIBE of a persistent session, not per message
  c.ctx.core.whenMetadataDurable((error) => {
    c.metadataHold = false;
    if (error) {
      c.log.error('MQTT definitions not made durable: connection closed without the reply that vouches for them', { error: error.message });
      return void c.destroy(); // corked writes die with the stream
    }
    // called at once (nothing waited): the turn's flush sends it
    if (waited) c.releaseHeld();
  });
  waited = true;
}
