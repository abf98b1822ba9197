/**
 * A trivial Kafka responder, run as a child process by bench/kafka-bench.mjs (`--ceiling`):
 * it answers ApiVersions, Metadata and Produce at once with Warren's own codec and never looks
 * inside the record batches (no storage, no fdatasync, a few % of a core). A kafkajs producer
 * against it shows kafkajs' own ceiling on the machine at that moment.
 *
 *   fork('bench/lib/kafka-trivial-responder.mjs', ['<warren build dir>']) → sends { port }
 */
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const build = resolve(process.argv[2] ?? 'dist');
const codec = (f) => import(pathToFileURL(join(build, 'plugins', 'kafka', 'codec', f)).href);

/** The responder: answers with Warren's codec, offsets counted but the batches never decoded. */
async function serve() {
  const { Reader } = await codec('reader.js');
  const { readRequestHeader, startResponse, finishFrame } = await codec('header.js');
  const { SUPPORTED } = await codec('api-keys.js');
  const { encodeApiVersions } = await codec('messages/api-versions.js');
  const { decodeMetadata, encodeMetadata } = await codec('messages/metadata.js');
  const { decodeProduce, encodeProduce } = await codec('messages/produce.js');
  const apiKeys = [...SUPPORTED].map(([apiKey, r]) => ({ apiKey, min: r.min, max: r.max }));
  let nextOffset = 0;
  const server = createServer({ noDelay: true }, (socket) => {
    let pending = Buffer.alloc(0);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const out = [];
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        const r = new Reader(pending, 4, 4 + size);
        pending = pending.subarray(4 + size);
        const h = readRequestHeader(r);
        const { w, sizeAt } = startResponse(h.apiKey === 18 ? { ...h, flexible: false } : h);
        if (h.apiKey === 18) encodeApiVersions(w, h.apiVersion, { errorCode: 0, apiKeys });
        else if (h.apiKey === 3) {
          const req = decodeMetadata(r, h.apiVersion);
          const a = socket.address();
          encodeMetadata(w, h.apiVersion, {
            brokers: [{ nodeId: 0, host: '127.0.0.1', port: a.port }],
            clusterId: 'trivial',
            controllerId: 0,
            topics: (req.topics ?? []).map((name) => ({ errorCode: 0, name, partitions: [0] })),
          });
        } else if (h.apiKey === 0) {
          const req = decodeProduce(r, h.apiVersion);
          const topics = req.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => {
              // record count: the batch header's int32 at byte 57 (one batch per partition from kafkajs)
              const count = p.records && p.records.length >= 61 ? p.records.readInt32BE(57) : 0;
              const baseOffset = nextOffset;
              nextOffset += count;
              return { index: p.index, errorCode: 0, baseOffset, logStartOffset: 0 };
            }),
          }));
          if (req.acks === 0) continue;
          encodeProduce(w, h.apiVersion, { topics });
        } else {
          socket.destroy();
          return;
        }
        out.push(...finishFrame(w, sizeAt));
      }
      if (out.length > 0) socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
}

await serve();
