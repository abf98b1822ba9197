/**
 * The layer boundary (docs/architecture.md, Layers): plugins reach src/ only through entry
 * modules (`src/<layer>/index.ts`) and
 * never another plugin's files; the core imports nothing from plugins/. Offending imports are
 * printed with file, line and reason.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkBoundaries, coreImportOffence, formatOffence, importSites, pluginImportOffence, type Offence } from './import-boundary.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function offencesIn(file: string, text: string, check: typeof pluginImportOffence): string[] {
  const out: string[] = [];
  for (const site of importSites(file, text)) {
    const reason = check(site);
    if (reason !== null) out.push(formatOffence({ ...site, reason } satisfies Offence));
  }
  return out;
}

describe('the import checker', () => {
  it('finds every form of a forbidden import, and only those', () => {
    const plugin = [
      "import { Message } from '../../src/core/index.js';", // entry module
      "import type { Logger } from '../../src/log/index.js';", // the log layer's entry module
      "import { frameWriter } from './frame.js';", // its own files
      "import { sendFrame } from './handlers/send.js';",
      "import { KitListener } from '../../src/frontend/index.js';", // a layer this checker never heard of
      "import { createServer } from 'node:net';",
      "import mqttPacket from 'mqtt-packet';",
      "import type { VHost } from '../../src/core/vhost.js';",
      'import {',
      '  WireReader,',
      "} from '../../src/codec/field-table.js';",
      "export { topicToRoutingKey } from '../mqtt/topics.js';",
      "export * from '../../src/store/journal.js';",
      "const store = await import('../../src/store/index.js');",
      "const journal = await import('../../src/store/journal.js');",
      "const computed = await import(name);",
      "let c: import('../../src/core/core.js').Core;",
      "let r: import('node:http').ServerResponse;",
      "import legacy = require('../kafka/broker.js');",
      "// import { X } from '../../src/core/vhost.js' (a comment is no import)",
      "const s = \"from '../../src/core/queues/queue.js'\";",
      "import { run } from '../../bench/run.mjs';",
    ].join('\n');
    expect(offencesIn('plugins/stomp/connection.ts', plugin, pluginImportOffence)).toEqual([
      "plugins/stomp/connection.ts:8 import '../../src/core/vhost.js': src/core/vhost.ts is not an entry module (src/<layer>/index.ts)",
      "plugins/stomp/connection.ts:9 import '../../src/codec/field-table.js': src/codec/field-table.ts is not an entry module (src/<layer>/index.ts)",
      "plugins/stomp/connection.ts:12 export '../mqtt/topics.js': plugins/mqtt/topics.ts belongs to another plugin",
      "plugins/stomp/connection.ts:13 export '../../src/store/journal.js': src/store/journal.ts is not an entry module (src/<layer>/index.ts)",
      "plugins/stomp/connection.ts:15 dynamic import '../../src/store/journal.js': src/store/journal.ts is not an entry module (src/<layer>/index.ts)",
      "plugins/stomp/connection.ts:16 dynamic import '<computed>': a dynamic import of a computed specifier cannot be checked",
      "plugins/stomp/connection.ts:17 type import '../../src/core/core.js': src/core/core.ts is not an entry module (src/<layer>/index.ts)",
      "plugins/stomp/connection.ts:19 import '../kafka/broker.js': plugins/kafka/broker.ts belongs to another plugin",
      "plugins/stomp/connection.ts:22 import '../../bench/run.mjs': bench/run.mjs is outside src/ entry modules and this plugin",
    ]);
  });

  it('finds a core file importing a plugin', () => {
    const core = [
      "import { Queue } from './queues/queue.js';",
      "import { encodeProperties } from '../codec/index.js';",
      "import { mqttTopic } from '../../plugins/mqtt/topics.js';",
      "const amqp = () => import('../../plugins/amqp/index.js');",
    ].join('\n');
    expect(offencesIn('src/core/vhost.ts', core, coreImportOffence)).toEqual([
      "src/core/vhost.ts:3 import '../../plugins/mqtt/topics.js': the core imports a plugin (plugins/mqtt/topics.ts)",
      "src/core/vhost.ts:4 dynamic import '../../plugins/amqp/index.js': the core imports a plugin (plugins/amqp/index.ts)",
    ]);
  });
});

describe('the layer boundary', () => {
  const result = checkBoundaries(ROOT);

  it('every plugin imports src/ only through entry modules, and no other plugin', () => {
    const offences = result.plugins.map(formatOffence);
    if (offences.length > 0) console.error(`plugin imports past the boundary (${offences.length}):\n${offences.join('\n')}`);
    expect(result.files).toBeGreaterThan(100);
    expect(offences).toEqual([]);
  });

  it('the core imports nothing from plugins/', () => {
    const offences = result.core.map(formatOffence);
    if (offences.length > 0) console.error(`core imports of plugins (${offences.length}):\n${offences.join('\n')}`);
    expect(offences).toEqual([]);
  });
});
