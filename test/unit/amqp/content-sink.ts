import type { FrameSink } from '../../../plugins/amqp/codec/frame-reader.js';
import type { ContentAssembler } from '../../../plugins/amqp/message.js';
import type { Message } from '../../../src/core/index.js';

/**
 * A channel's content path as the AMQP connection drives it, for frame-reader tests: a method
 * frame begins a publish, the header and body frames feed `assembler`, `done` gets each message
 * whole. Bodies are assembled in place (`bodyTarget`, `bodyFollows`) as on a connection.
 */
export function contentSink(assembler: ContentAssembler, done: (m: Message) => void): FrameSink {
  return {
    onMethodFrame: () => assembler.begin('', 'q', false),
    onHeaderFrame: (_ch, payload) => {
      if (assembler.header(payload, 1 << 30)) done(assembler.take());
    },
    onBodyFrame: (_ch, payload) => {
      if (assembler.body(payload)) done(assembler.take());
    },
    onHeartbeatFrame: () => undefined,
    bodyTarget: (_ch, size) => assembler.bodyTarget(size),
    bodyFollows: () => assembler.bodyFollowsTarget,
  };
}
