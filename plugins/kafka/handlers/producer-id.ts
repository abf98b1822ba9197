/**
 * InitProducerId: a new producer id (epoch 0) for an idempotent producer. A transactional id
 * is refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED: transactions (read-committed) are
 * not implemented (README "Left out").
 */
import { decodeInitProducerId, encodeInitProducerId } from '../codec/messages/admin.js';
import { ErrorCode } from '../codec/errors.js';
import type { KafkaConnection } from '../connection.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';

export function handleInitProducerId(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeInitProducerId(r, h.apiVersion);
  const res =
    req.transactionalId !== null
      ? { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 }
      : { errorCode: 0, producerId: c.broker.newProducerId(), producerEpoch: 0 };
  c.answer(slot, h, (w) => encodeInitProducerId(w, h.apiVersion, res));
}
