import { describe, expect, it } from 'vitest';
import {
  ConfigError, canonicalKeyPart, checkKeySpec, envName, formatDuration, formatValue, parseDuration, parseValue, type KeySpec,
} from '../../../src/config/schema.js';

const port: KeySpec = { type: 'integer', default: 5672, min: 0, max: 65535, doc: 'port' };

describe('config schema', () => {
  it('derives env names and canonical key spellings', () => {
    expect(envName('amqp.frame_max')).toBe('WARREN_AMQP_FRAME_MAX');
    expect(envName('data_dir')).toBe('WARREN_DATA_DIR');
    expect(canonicalKeyPart('frameMax')).toBe('frame_max');
    expect(canonicalKeyPart('data-dir')).toBe('data_dir');
    expect(canonicalKeyPart('maxMessageSize')).toBe('max_message_size');
    expect(canonicalKeyPart('port')).toBe('port');
  });

  it('parses durations with units and refuses bare numbers other than 0', () => {
    expect(parseDuration('60s')).toBe(60_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('60')).toBeUndefined();
    expect(parseDuration('s')).toBeUndefined();
    expect(parseDuration('-1s')).toBeUndefined();
    expect(formatDuration(60_000)).toBe('1m');
    expect(formatDuration(10_000)).toBe('10s');
    expect(formatDuration(1500)).toBe('1500ms');
    expect(formatDuration(0)).toBe('0');
  });

  it('parses text and checks typed values for every type', () => {
    expect(parseValue('amqp.port', port, '5673', 'flag --amqp.port')).toBe(5673);
    expect(parseValue('amqp.port', port, 0, 'option amqp.port')).toBe(0);
    const bool: KeySpec = { type: 'boolean', default: true, doc: 'b' };
    expect(parseValue('x', bool, 'false', 's')).toBe(false);
    expect(parseValue('x', bool, 'YES', 's')).toBe(true);
    expect(parseValue('x', bool, true, 's')).toBe(true);
    const list: KeySpec = { type: 'list', default: [], doc: 'l' };
    expect(parseValue('x', list, 'guest, admin ,', 's')).toEqual(['guest', 'admin']);
    expect(parseValue('x', list, 'none', 's')).toEqual([]);
    expect(parseValue('x', list, ['a'], 's')).toEqual(['a']);
    const level: KeySpec = { type: 'string', default: 'info', values: ['info', 'warn'], doc: 'l' };
    expect(parseValue('log.level', level, 'warn', 's')).toBe('warn');
    const timeout: KeySpec = { type: 'duration', default: '10s', min: 1000, doc: 't' };
    expect(parseValue('t', timeout, '10s', 's')).toBe(10_000);
    expect(parseValue('t', timeout, 2500, 's')).toBe(2500);
  });

  it('rejects a bad value with one line naming the key, the source and what was expected', () => {
    const bad = (spec: KeySpec, raw: unknown) => {
      try {
        parseValue('amqp.port', spec, raw, 'env WARREN_AMQP_PORT');
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as Error).message).not.toContain('\n');
        return (e as Error).message;
      }
      throw new Error(`accepted ${String(raw)}`);
    };
    expect(bad(port, 'abc')).toBe('invalid value "abc" for amqp.port (env WARREN_AMQP_PORT): expected an integer from 0 to 65535');
    expect(bad(port, '70000')).toMatch(/from 0 to 65535/);
    expect(bad(port, '1.5')).toMatch(/an integer/);
    expect(bad(port, 5672.5)).toMatch(/an integer/);
    expect(bad(port, '')).toMatch(/invalid value ""/);
    expect(bad({ type: 'boolean', default: true, doc: 'b' }, 'maybe')).toMatch(/expected true or false/);
    expect(bad({ type: 'duration', default: 0, doc: 'd' }, '60')).toMatch(/a duration with a unit/);
    expect(bad({ type: 'duration', default: 0, max: 60_000, doc: 'd' }, '2m')).toMatch(/expected a duration with a unit .* of at most 1m$/);
    expect(bad({ type: 'string', default: 'a', values: ['a', 'b'], doc: 's' }, 'c')).toMatch(/expected one of a, b/);
    expect(bad({ type: 'string', default: 'a', doc: 's' }, 5)).toMatch(/expected a string/);
  });

  it('formats values as the conf file writes them', () => {
    expect(formatValue({ type: 'duration', default: 0, doc: 'd' }, 60_000)).toBe('1m');
    expect(formatValue({ type: 'list', default: [], doc: 'l' }, [])).toBe('none');
    expect(formatValue({ type: 'list', default: [], doc: 'l' }, ['a', 'b'])).toBe('a, b');
    expect(formatValue(port, 5672)).toBe('5672');
  });

  it('checks key declarations: name, type, doc, a default that passes its own rules', () => {
    expect(() => checkKeySpec('amqp.port', port, 'plugin amqp')).not.toThrow();
    expect(() => checkKeySpec('amqp.Port', port, 'plugin amqp')).toThrow(/lower_snake_case/);
    expect(() => checkKeySpec('amqp.port', { ...port, doc: '' }, 'plugin amqp')).toThrow(/one-line doc/);
    expect(() => checkKeySpec('amqp.port', { ...port, default: 99999 }, 'plugin amqp')).toThrow(/default declared by plugin amqp/);
    expect(() => checkKeySpec('amqp.port', { ...port, type: 'float' as never }, 'plugin amqp')).toThrow(/unknown type 'float'/);
  });
});
