/**
 * A strict reader of the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), written for the tests:
 * it throws on anything a Prometheus server would refuse — a sample before its family's
 * TYPE, a TYPE given twice, a malformed label set or value, a series given twice.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'summary', 'histogram', 'untyped']);

export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const typed = new Set<string>();
  let current: Family | null = null;
  const lines = text.split('\n');
  lines.pop();
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${line}`;
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`bad metric name: ${where}`);
      let f = families.get(name);
      if (!f) families.set(name, (f = { name, type: 'untyped', help: '', samples: [] }));
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`bad type: ${where}`);
        if (f.samples.length > 0 || typed.has(name)) throw new Error(`TYPE after samples or twice: ${where}`);
        typed.add(name);
        f.type = rest;
      } else {
        f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      current = f;
      continue;
    }
    const sample = parseSample(line, where);
    const family = familyOf(sample.name, current);
    if (!family) throw new Error(`sample outside its family (no TYPE before it): ${where}`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) throw new Error(`series given twice: ${where}`);
    seen.add(key);
    family.samples.push(sample);
  }
  return families;
}

/** A sample belongs to the family just declared: its name, or name_sum / name_count / name_bucket. */
function familyOf(name: string, current: Family | null): Family | null {
  if (!current) return null;
  if (name === current.name) return current;
  if ((current.type === 'summary' || current.type === 'histogram') && ['_sum', '_count', '_bucket'].some((s) => name === current.name + s)) return current;
  return null;
}

function parseSample(line: string, where: string): Sample {
  let i = 0;
  while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
  const name = line.slice(0, i);
  if (!NAME.test(name)) throw new Error(`bad sample name: ${where}`);
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      let j = i;
      while (j < line.length && line[j] !== '=') j++;
      const label = line.slice(i, j);
      if (!LABEL_NAME.test(label) || line[j + 1] !== '"') throw new Error(`bad label: ${where}`);
      let value = '';
      j += 2;
      for (;;) {
        const c = line[j];
        if (c === undefined) throw new Error(`unterminated label value: ${where}`);
        if (c === '\\') {
          const n = line[j + 1];
          if (n === 'n') value += '\n';
          else if (n === '\\' || n === '"') value += n;
          else throw new Error(`bad escape: ${where}`);
          j += 2;
        } else if (c === '"') {
          j++;
          break;
        } else {
          value += c;
          j++;
        }
      }
      if (label in labels) throw new Error(`label given twice: ${where}`);
      labels[label] = value;
      if (line[j] === ',') j++;
      else if (line[j] !== '}') throw new Error(`bad label separator: ${where}`);
      i = j;
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`no value: ${where}`);
  const parts = line.slice(i + 1).split(' ');
  if (parts.length > 2) throw new Error(`too many fields: ${where}`);
  const raw = parts[0]!;
  const value = raw === 'NaN' ? NaN : raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
  if (raw === '' || (Number.isNaN(value) && raw !== 'NaN')) throw new Error(`bad value: ${where}`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`bad timestamp: ${where}`);
  return { name, labels, value };
}

/** The value of the one sample of `name` whose labels include `labels`. */
export function valueOf(families: Map<string, Family>, family: string, labels: Record<string, string> = {}, name = family): number | undefined {
  const f = families.get(family);
  const matches = f?.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) ?? [];
  if (matches.length > 1) throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matches[0]?.value;
}
