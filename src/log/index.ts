/**
 * Structured logging: one JSON object per line (default) or a readable text line.
 *
 * A disabled level costs one integer comparison: callers may pass a fields object literal
 * freely on warn/error, but on debug paths that run per message they should guard with
 * `log.enabled('debug')` so the object is never built. Children share their parent's sink
 * and level and add fixed bindings (`{ plugin: 'amqp' }`, `{ conn: 12 }`) to every line.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFormat = 'json' | 'text';
export type LogFields = Record<string, unknown>;

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** a logger that adds `bindings` to every line (and shares this one's level and output) */
  child(bindings: LogFields): Logger;
  /** true when lines of `level` are written: guard expensive field building with it */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean;
  readonly level: LogLevel;
}

/** Where lines go: anything with a `write(string)` (a stream, or an array-backed sink in tests). */
export interface LogSink {
  write(line: string): unknown;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** 'stderr' (default: stdout stays free for command output), 'stdout', or a sink */
  output?: 'stderr' | 'stdout' | LogSink;
  /** bindings on every line of this logger and its children */
  bindings?: LogFields;
}

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

class StructuredLogger implements Logger {
  readonly #threshold: number;
  readonly #format: LogFormat;
  readonly #sink: LogSink;
  readonly #bindings: LogFields | undefined;

  constructor(readonly level: LogLevel, format: LogFormat, sink: LogSink, bindings: LogFields | undefined) {
    this.#threshold = SEVERITY[level];
    this.#format = format;
    this.#sink = sink;
    this.#bindings = bindings;
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.#threshold <= 10) this.#write('debug', msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    if (this.#threshold <= 20) this.#write('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    if (this.#threshold <= 30) this.#write('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    if (this.#threshold <= 40) this.#write('error', msg, fields);
  }

  enabled(level: Exclude<LogLevel, 'silent'>): boolean {
    return this.#threshold <= SEVERITY[level];
  }

  child(bindings: LogFields): Logger {
    const merged = this.#bindings ? { ...this.#bindings, ...bindings } : { ...bindings };
    return new StructuredLogger(this.level, this.#format, this.#sink, merged);
  }

  #write(level: Exclude<LogLevel, 'silent'>, msg: string, fields: LogFields | undefined): void {
    const time = new Date().toISOString();
    const line = this.#format === 'json'
      ? jsonLine(time, level, msg, this.#bindings, fields)
      : textLine(time, level, msg, this.#bindings, fields);
    this.#sink.write(line);
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!(level in SEVERITY)) throw new TypeError(`unknown log level '${String(level)}'`);
  const format = options.format ?? 'json';
  if (format !== 'json' && format !== 'text') throw new TypeError(`unknown log format '${String(format)}'`);
  const output = options.output ?? 'stderr';
  const sink = output === 'stderr' ? process.stderr : output === 'stdout' ? process.stdout : output;
  return new StructuredLogger(level, format, sink, options.bindings);
}

/**
 * The format of the console: `log.format` when some layer sets it; otherwise readable text
 * when the lines go to a terminal (a person starting `npm start` reads them) and JSON when
 * they go anywhere else (a file, a pipe, a collector: one object per line parses reliably).
 */
export function chooseLogFormat(configured: LogFormat, setExplicitly: boolean, toTerminal: boolean): LogFormat {
  if (setExplicitly) return configured;
  return toTerminal ? 'text' : configured;
}

/** A logger that writes nothing (the default for a `Core` used on its own, and for tests). */
export const silentLogger: Logger = createLogger({ level: 'silent', output: { write: () => undefined } });

function jsonLine(time: string, level: string, msg: string, bindings: LogFields | undefined, fields: LogFields | undefined): string {
  // time, level, msg first so that lines read well with `grep` and `jq -c`.
  const record: LogFields = { time, level, msg };
  if (bindings) Object.assign(record, bindings);
  if (fields) Object.assign(record, fields);
  try {
    return JSON.stringify(record, jsonValue) + '\n';
  } catch {
    // A circular structure must not take the broker down: log what can be logged.
    return JSON.stringify({ time, level, msg, logError: 'fields not serializable' }) + '\n';
  }
}

function jsonValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) return errorFields(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function errorFields(e: Error): LogFields {
  const out: LogFields = { name: e.name, message: e.message };
  const kind = (e as { kind?: unknown }).kind;
  if (kind !== undefined) out.kind = kind;
  const code = (e as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (e.stack) out.stack = e.stack;
  return out;
}

function textLine(time: string, level: string, msg: string, bindings: LogFields | undefined, fields: LogFields | undefined): string {
  let line = `${time} ${level.toUpperCase().padEnd(5)} ${msg}`;
  if (bindings) line += textFields(bindings);
  if (fields) line += textFields(fields);
  return line + '\n';
}

function textFields(fields: LogFields): string {
  let out = '';
  for (const key of Object.keys(fields)) out += ` ${key}=${textValue(fields[key])}`;
  return out;
}

function textValue(value: unknown): string {
  if (value instanceof Error) {
    const kind = (value as { kind?: unknown }).kind;
    return JSON.stringify(kind !== undefined ? `${String(kind)}: ${value.message}` : value.message);
  }
  if (typeof value === 'string') return /^[\w.:/@-]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  // lists people read at a glance: plugins=amqp,mqtt and listeners=amqp@[::]:5672,mqtt@[::]:1883
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && /^[\w.:/@-]+$/.test(v))) return value.join(',');
  if (Array.isArray(value) && value.length > 0 && value.every(isListener)) return value.map(listenerText).join(',');
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return '[unserializable]';
  }
}

function isListener(v: unknown): v is { name: string; host: string; port: number } {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return Object.keys(o).length === 3 && typeof o.name === 'string' && typeof o.host === 'string' && typeof o.port === 'number';
}

function listenerText(l: { name: string; host: string; port: number }): string {
  return `${l.name}@${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;
}
