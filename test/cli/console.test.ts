/**
 * What `npm start` prints: readable text lines on a terminal (a pseudo-terminal from
 * util-linux `script`), JSON lines otherwise, `log.format` winning either way; the first
 * start on an empty data directory says it is new, and only a start after a kill -9 speaks
 * of an unclean stop.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { chooseLogFormat } from '../../src/log/index.js';
import { hasExecutable } from '../helpers/require-tool.js';
import { jsonLines, spawnedCommands, until, type Run } from './spawned.js';

const cli = join(inject('buildDir'), 'src', 'cli.js');

// util-linux's script(1), Debian's bsdutils (essential); the rule for a missing tool: test/helpers/require-tool.ts
const SCRIPT = '/usr/bin/script';
const script = hasExecutable(SCRIPT, 'bsdutils', 'console test on a terminal') ? SCRIPT : null;

const cmd = spawnedCommands('warren-console-');

/** `warren start` with stdout and stderr on a pseudo-terminal: `script` runs it and copies the terminal's output to its stdout. */
function startOnTerminal(args: string[], env: Record<string, string>): Run {
  // the broker's own pid is echoed first, so the test can signal it (not script) by its id
  const command = ['echo pid=$$;', 'exec', process.execPath, cli, 'start', ...args].join(' ');
  return cmd.run(script!, ['-qefc', command, '/dev/null'], env);
}

const pidOf = (r: Run) => Number(/pid=(\d+)/.exec(r.output())![1]);

// A case starts the real broker (every plugin) up to three times, one process after another:
// a start takes seconds on a loaded 2-core machine, which is not what is tested here.
describe('the console of warren start', { timeout: 60_000 }, () => {
  it('chooseLogFormat: log.format wins when set; otherwise text on a terminal, json elsewhere', () => {
    expect(chooseLogFormat('json', false, true)).toBe('text');
    expect(chooseLogFormat('json', false, false)).toBe('json');
    expect(chooseLogFormat('json', true, true)).toBe('json');
    expect(chooseLogFormat('text', true, false)).toBe('text');
  });

  it.skipIf(!script)('on a terminal: readable text lines, not JSON; log.format = json still gives JSON', async () => {
    const text = startOnTerminal([], { WARREN_DATA_DIR: join(cmd.dir, 'tty') });
    await until('the start line', () => text.output().includes('INFO  broker started'), text);
    const lines = text.output().split(/\r?\n/).filter((l) => /^\d{4}-\d\d-\d\dT/.test(l));
    expect(lines.length).toBeGreaterThan(3);
    expect(text.output()).not.toMatch(/^\{"time"/m);
    process.kill(pidOf(text), 'SIGTERM');
    expect((await text.exit).code).toBe(0);
    expect(text.output()).toContain('INFO  broker stopped');

    const json = startOnTerminal(['--log.format', 'json'], { WARREN_DATA_DIR: join(cmd.dir, 'tty-json') });
    await until('the start line', () => json.output().includes('"msg":"broker started"'), json);
    expect(json.output()).toMatch(/^\{"time":"[^"]+","level":"info","msg":"broker started"/m);
    expect(json.output()).not.toContain('INFO  broker started');
    process.kill(pidOf(json), 'SIGTERM');
    expect((await json.exit).code).toBe(0);
  });

  it('not on a terminal: JSON lines; the first start says the data directory is new, a start after kill -9 says unclean stop', async () => {
    const dataDir = join(cmd.dir, 'data');
    const records = (r: Run) => jsonLines(r.output());
    const first = cmd.run(process.execPath, [cli, 'start'], { WARREN_DATA_DIR: dataDir });
    await until('the start line', () => records(first).some((l) => l.msg === 'broker started'), first);
    const firstMsgs = records(first).map((l) => String(l.msg));
    expect(firstMsgs).toContain('new data directory: nothing to recover');
    expect(firstMsgs).toContain('vhost created');
    expect(firstMsgs).toContain('journal 1 created in a new directory');
    expect(firstMsgs.join('\n')).not.toMatch(/unclean|recovered/);
    first.child.kill('SIGKILL');
    await first.exit;
    expect(existsSync(join(dataDir, 'meta.db'))).toBe(true);

    const second = cmd.run(process.execPath, [cli, 'start'], { WARREN_DATA_DIR: dataDir });
    await until('the start line', () => records(second).some((l) => l.msg === 'broker started'), second);
    const secondMsgs = records(second).map((l) => String(l.msg));
    expect(secondMsgs).not.toContain('new data directory: nothing to recover');
    expect(secondMsgs.some((m) => /^journal 1 recovered: .*\(after an unclean stop\)$/.test(m))).toBe(true);
    expect(records(second).find((l) => l.msg === 'vhost recovered')).toMatchObject({ vhost: '/', cleanShutdown: false });
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);

    const third = cmd.run(process.execPath, [cli, 'start'], { WARREN_DATA_DIR: dataDir });
    await until('the start line', () => records(third).some((l) => l.msg === 'broker started'), third);
    expect(records(third).find((l) => l.msg === 'vhost recovered')).toMatchObject({ vhost: '/', cleanShutdown: true });
    expect(third.output()).not.toMatch(/unclean stop|new data directory/);
    third.child.kill('SIGTERM');
    expect((await third.exit).code).toBe(0);
    expect(readFileSync(join(dataDir, 'meta.db')).length).toBeGreaterThan(0);
  });
});
