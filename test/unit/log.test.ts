import { describe, expect, it } from 'vitest';
import { createLogger, type LogSink } from '../../src/log/index.js';

function memorySink(): LogSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (line: string) => lines.push(line) };
}

describe('logger', () => {
  it('writes one JSON object per line with time, level, msg, bindings and fields', () => {
    const sink = memorySink();
    const log = createLogger({ output: sink, bindings: { node: 'w1' } });
    log.info('listener started', { port: 5672 });
    expect(sink.lines).toHaveLength(1);
    expect(sink.lines[0]!.endsWith('\n')).toBe(true);
    const record = JSON.parse(sink.lines[0]!);
    expect(record).toMatchObject({ level: 'info', msg: 'listener started', node: 'w1', port: 5672 });
    expect(Object.keys(record).slice(0, 3)).toEqual(['time', 'level', 'msg']);
    expect(new Date(record.time).toString()).not.toBe('Invalid Date');
  });

  it('filters by level, and silent writes nothing', () => {
    const sink = memorySink();
    const log = createLogger({ output: sink, level: 'warn' });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(sink.lines.map((l) => JSON.parse(l).msg)).toEqual(['w', 'e']);
    expect(log.enabled('info')).toBe(false);
    expect(log.enabled('error')).toBe(true);

    const quiet = memorySink();
    const silent = createLogger({ output: quiet, level: 'silent' });
    silent.error('nothing');
    expect(quiet.lines).toEqual([]);
    expect(silent.enabled('error')).toBe(false);
  });

  it('children add bindings, keep the level, and do not change the parent', () => {
    const sink = memorySink();
    const root = createLogger({ output: sink, level: 'info', bindings: { a: 1 } });
    const child = root.child({ plugin: 'amqp' }).child({ conn: 7 });
    child.debug('hidden');
    child.info('hello');
    root.info('root');
    const [fromChild, fromRoot] = sink.lines.map((l) => JSON.parse(l));
    expect(fromChild).toMatchObject({ a: 1, plugin: 'amqp', conn: 7, msg: 'hello' });
    expect(fromRoot).not.toHaveProperty('plugin');
    expect(child.level).toBe('info');
  });

  it('serializes errors with their kind and survives circular fields', () => {
    const sink = memorySink();
    const log = createLogger({ output: sink });
    const err = Object.assign(new Error('no queue'), { kind: 'NOT_FOUND' });
    log.error('failed', { err });
    expect(JSON.parse(sink.lines[0]!).err).toMatchObject({ message: 'no queue', kind: 'NOT_FOUND', name: 'Error' });

    const circular: Record<string, unknown> = {};
    circular.self = circular;
    log.warn('odd', { circular });
    expect(JSON.parse(sink.lines[1]!)).toMatchObject({ msg: 'odd', logError: 'fields not serializable' });
  });

  it('text format: readable line with key=value pairs, quoting where needed', () => {
    const sink = memorySink();
    const log = createLogger({ output: sink, format: 'text' }).child({ plugin: 'amqp' });
    log.warn('client gone', { peer: '127.0.0.1:5000', reason: 'socket closed' });
    expect(sink.lines[0]).toMatch(/^\S+Z WARN  client gone plugin=amqp peer=127\.0\.0\.1:5000 reason="socket closed"\n$/);
    // lists of names and of listeners read as lists, not JSON
    log.info('broker started', { plugins: ['amqp', 'mqtt'], listeners: [{ name: 'amqp', host: '::', port: 5672 }, { name: 'mqtt', host: '127.0.0.1', port: 1883 }], odd: ['a b'] });
    expect(sink.lines[1]).toMatch(/ broker started plugin=amqp plugins=amqp,mqtt listeners=amqp@\[::\]:5672,mqtt@127\.0\.0\.1:1883 odd=\["a b"\]\n$/);
  });

  it('rejects an unknown level or format', () => {
    expect(() => createLogger({ level: 'loud' as never })).toThrow(/log level 'loud'/);
    expect(() => createLogger({ format: 'xml' as never })).toThrow(/log format 'xml'/);
  });
});
