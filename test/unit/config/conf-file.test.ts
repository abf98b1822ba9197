import { describe, expect, it } from 'vitest';
import { parseConfText } from '../../../src/config/conf-file.js';

describe('conf file format', () => {
  it('reads key = value lines with whole-line comments, keeping # inside values', () => {
    const text = [
      '# a comment',
      '   # an indented comment',
      '',
      'data_dir = /var/lib/warren',
      'amqp.port=5673',
      'default_pass = p#ss=word',
      'default_user = "  spaced  "',
      'plugins.mqtt.enabled = false\r',
    ].join('\n');
    expect(parseConfText(text, 'w.conf')).toEqual([
      { key: 'data_dir', value: '/var/lib/warren', source: 'w.conf:4' },
      { key: 'amqp.port', value: '5673', source: 'w.conf:5' },
      { key: 'default_pass', value: 'p#ss=word', source: 'w.conf:6' },
      { key: 'default_user', value: '  spaced  ', source: 'w.conf:7' },
      { key: 'plugins.mqtt.enabled', value: 'false', source: 'w.conf:8' },
    ]);
  });

  it('rejects a line without =, an empty key, and a key set twice, naming the lines', () => {
    expect(() => parseConfText('data_dir /x', 'w.conf')).toThrow("w.conf:1: expected 'key = value', got \"data_dir /x\"");
    expect(() => parseConfText('\n= 5', 'w.conf')).toThrow('w.conf:2: missing key');
    expect(() => parseConfText('amqp.port = 1\n#\namqp.port = 2', 'w.conf')).toThrow('w.conf:3: amqp.port is already set at w.conf:1');
  });
});
