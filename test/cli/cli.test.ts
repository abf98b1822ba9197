/**
 * The real `warren` command, compiled by test/global-setup.ts and spawned as `npm start`
 * runs it: `node <build>/src/cli.js start`.
 */
import amqp from 'amqplib';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { jsonLines, spawnedCommands, until } from './spawned.js';

const cli = join(inject('buildDir'), 'src', 'cli.js');
const bin = join(import.meta.dirname, '..', '..', 'bin', 'warren.js');

const cmd = spawnedCommands('warren-cli-');
/** `node <script> …args` */
const run = (script: string, args: string[], env?: Record<string, string>) => cmd.run(process.execPath, [script, ...args], env);

// A case starts the real broker (every plugin) up to three times, one process after another:
// a start takes seconds on a loaded 2-core machine, which is not what is tested here.
describe('warren CLI', { timeout: 60_000 }, () => {
  it('start: listens for AMQP on the port the OS chose, logs it, SIGTERM closes clients with 320 and exits 0', async () => {
    const dataDir = join(cmd.dir, 'data');
    const r = run(cli, ['start'], { WARREN_AMQP_PORT: '0', WARREN_AMQP_HOST: '127.0.0.1', WARREN_DATA_DIR: dataDir });
    const started = await until('the start log line', () => jsonLines(r.stderr()).find((l) => l.msg === 'broker started'), r);
    expect(started).toMatchObject({ level: 'info', dataDir });
    expect(existsSync(dataDir)).toBe(true);
    const listeners = started.listeners as { name: string; host: string; port: number }[];
    for (const l of listeners) expect(l).toMatchObject({ host: '127.0.0.1', port: expect.any(Number) });
    expect(listeners.every((l) => l.port > 0)).toBe(true);
    const amqpListener = listeners.find((l) => l.name === 'amqp')!;
    expect(amqpListener).toBeDefined();

    // A real client on the logged port; the graceful stop must tell it why.
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${amqpListener.port}`);
    const closed = new Promise<Error | undefined>((resolve) => conn.once('close', resolve));
    conn.on('error', () => undefined);
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    expect(q.queue).toMatch(/^amq\.gen-/);

    r.child.kill('SIGTERM');
    const reason = await closed;
    expect(String(reason?.message)).toMatch(/CONNECTION_FORCED/);
    expect((reason as { code?: number } | undefined)?.code).toBe(320);
    expect(await r.exit).toEqual({ code: 0, signal: null });
    const msgs = jsonLines(r.stderr()).map((l) => l.msg);
    const afterSignal = msgs.slice(msgs.indexOf('signal received: stopping'));
    expect(afterSignal[0]).toBe('signal received: stopping');
    expect(afterSignal[1]).toBe('broker stopping');
    expect(afterSignal.at(-1)).toBe('broker stopped');
    const stoppedPlugins = jsonLines(r.stderr()).filter((l) => l.msg === 'plugin stopped').map((l) => l.plugin);
    expect(stoppedPlugins).toEqual([...(started.plugins as string[])].reverse());
    expect(r.stdout()).toBe('');
  });

  it('start: flags override the environment (text logs on stdout, data dir from the flag)', async () => {
    const r = run(cli, ['start', '--log.format', 'text', '--log.output=stdout', '--data-dir', 'from-flag'], {
      WARREN_DATA_DIR: join(cmd.dir, 'from-env'),
    });
    await until('the start line', () => (r.stdout().includes('INFO  broker started') ? true : undefined), r);
    expect(r.stdout()).toContain(`dataDir=${join(cmd.dir, 'from-flag')}`);
    expect(existsSync(join(cmd.dir, 'from-env'))).toBe(false);
    r.child.kill('SIGINT');
    expect((await r.exit).code).toBe(0);
  });

  it('a bad value: exit code 2 and one line on stderr naming the key and its source', async () => {
    const r = run(cli, ['start'], { WARREN_DATA_DIR: cmd.dir, WARREN_AMQP_PORT: 'abc' });
    expect((await r.exit).code).toBe(2);
    expect(r.stderr()).toBe(
      'warren: invalid value "abc" for amqp.port (env WARREN_AMQP_PORT): expected an integer from 0 to 65535\n',
    );
    const level = run(cli, ['start', '--log.level', 'loud'], { WARREN_DATA_DIR: cmd.dir });
    expect((await level.exit).code).toBe(2);
    expect(level.stderr()).toBe(
      'warren: invalid value "loud" for log.level (flag --log.level): expected one of debug, info, warn, error, silent\n',
    );
  });

  it('a port in use: the plugins already started are stopped in reverse, exit code 1 with one summary line', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      // STOMP starts last: AMQP and MQTT are running when it fails.
      const r = run(cli, ['start', '--stomp.port', String(taken)], { WARREN_DATA_DIR: cmd.dir });
      expect((await r.exit).code).toBe(1);
      const summary = r.stderr().split('\n').filter((l) => l.startsWith('warren:'));
      expect(summary).toHaveLength(1);
      expect(summary[0]).toMatch(/^warren: start failed: plugin stomp failed to start: .*EADDRINUSE/);
      expect(jsonLines(r.stderr()).find((l) => l.msg === 'plugin failed to start')).toMatchObject({ level: 'error', plugin: 'stomp' });
      const started = jsonLines(r.stderr()).filter((l) => l.msg === 'plugin started').map((l) => l.plugin);
      const stopped = jsonLines(r.stderr()).filter((l) => l.msg === 'plugin stopped').map((l) => l.plugin);
      expect(started).toEqual(['amqp', 'mqtt']);
      expect(stopped).toEqual(['mqtt', 'amqp']);
    } finally {
      blocker.close();
    }
  });

  it('an unknown key or a missing conf file: exit code 2, one line', async () => {
    const typo = run(cli, ['start', '--data-dri', 'x']);
    expect((await typo.exit).code).toBe(2);
    expect(typo.stderr()).toBe('warren: unknown key data_dri (flag --data-dri); did you mean data_dir?\n');
    const missing = run(cli, ['start', '--config', 'nope.conf']);
    expect((await missing.exit).code).toBe(2);
    expect(missing.stderr()).toBe('warren: config file nope.conf not found (flag --config)\n');
  });

  it('--version through the package bin (bin/warren.js over a build), --help; an unknown command exits 2', async () => {
    // Lay out <dir>/bin/warren.js next to <dir>/dist → this run's build, as in the package.
    mkdirSync(join(cmd.dir, 'bin'));
    copyFileSync(bin, join(cmd.dir, 'bin', 'warren.js'));
    symlinkSync(inject('buildDir'), join(cmd.dir, 'dist'));
    const version = run(join(cmd.dir, 'bin', 'warren.js'), ['--version']);
    expect((await version.exit).code).toBe(0);
    expect(version.stdout()).toMatch(/^warren \d+\.\d+\.\d+\n$/);
    rmSync(join(cmd.dir, 'dist'));
    const unbuilt = run(join(cmd.dir, 'bin', 'warren.js'), ['--version']);
    expect((await unbuilt.exit).code).toBe(1);
    expect(unbuilt.stderr()).toBe('warren: dist/src/cli.js is missing; run `npm run build` first\n');
    const help = run(cli, ['--help']);
    expect((await help.exit).code).toBe(0);
    expect(help.stdout()).toContain('Usage: warren <command>');
    const unknown = run(cli, ['serve']);
    expect((await unknown.exit).code).toBe(2);
    expect(unknown.stderr()).toBe('warren: unknown command "serve"; see warren --help\n');
  });
});
