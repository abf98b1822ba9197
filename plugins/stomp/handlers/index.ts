/** Client commands and their handlers (STOMP 1.2 "Client Frames"). */
import type { StompFrame } from '../frame.js';
import type { StompConnection } from '../connection.js';
import { handleConnect } from './connect.js';
import { handleSend } from './send.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';
import { handleAck } from './ack.js';
import { handleNack } from './nack.js';
import { handleBegin } from './begin.js';
import { handleCommit } from './commit.js';
import { handleAbort } from './abort.js';
import { handleDisconnect } from './disconnect.js';

export type CommandHandler = (c: StompConnection, frame: StompFrame) => void;

export const COMMANDS: ReadonlyMap<string, CommandHandler> = new Map<string, CommandHandler>([
  ['CONNECT', handleConnect],
  ['STOMP', handleConnect],
  ['SEND', handleSend],
  ['SUBSCRIBE', handleSubscribe],
  ['UNSUBSCRIBE', handleUnsubscribe],
  ['ACK', handleAck],
  ['NACK', handleNack],
  ['BEGIN', handleBegin],
  ['COMMIT', handleCommit],
  ['ABORT', handleAbort],
  ['DISCONNECT', handleDisconnect],
]);
