/**
 * The conf file format, RabbitMQ's `rabbitmq.conf` style (sysctl-like):
 *
 *   # a comment: the whole line, after optional spaces
 *   data_dir = /var/lib/warren
 *   amqp.port = 5672
 *   plugins.mqtt.enabled = false
 *   default_pass = "  spaces kept inside quotes  "
 *
 * One `key = value` per line, split at the first `=`; blank lines ignored. A `#` after a
 * value is part of the value (passwords may contain one), so comments take whole lines.
 * A value wrapped in double quotes has them removed. Setting a key twice is an error: the
 * second line is almost always a forgotten edit.
 */
import { ConfigError } from './schema.js';

export interface RawSetting {
  key: string;
  /** text as written (quotes removed) */
  value: string;
  /** `path:line`, for error messages */
  source: string;
}

export function parseConfText(text: string, label: string): RawSetting[] {
  const settings: RawSetting[] = [];
  const seen = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const source = `${label}:${i + 1}`;
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new ConfigError(`${source}: expected 'key = value', got ${JSON.stringify(line)}`);
    const key = line.slice(0, eq).trim();
    if (key === '') throw new ConfigError(`${source}: missing key before '='`);
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    const earlier = seen.get(key);
    if (earlier) throw new ConfigError(`${source}: ${key} is already set at ${earlier}`);
    seen.set(key, source);
    settings.push({ key, value, source });
  }
  return settings;
}
