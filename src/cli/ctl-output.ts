/**
 * How `warren ctl` prints lists: as `rabbitmqctl` does — an informational line ("Listing
 * queues for vhost / ..."), a header of column names, then one tab-separated row per item —
 * or as JSON with `--formatter json`. Nested values (arguments) print as JSON.
 */
export interface OutputOptions {
  quiet: boolean;
  headers: boolean;
  formatter: 'table' | 'json';
}

export type Row = Record<string, unknown>;

/** `path` may be dotted (queue.name): the CLI's column names map onto the API's fields. */
export function pick(item: unknown, path: string): unknown {
  let v: unknown = item;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Row)[k];
  }
  return v;
}

export function formatCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v.replace(/[\t\n]/g, ' ');
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

export function renderList(rows: Row[], columns: string[], info: string, o: OutputOptions): string {
  if (o.formatter === 'json') return `${JSON.stringify(rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))), null, 2)}\n`;
  const lines: string[] = [];
  if (!o.quiet) lines.push(info);
  if (o.headers) lines.push(columns.join('\t'));
  for (const r of rows) lines.push(columns.map((c) => formatCell(r[c])).join('\t'));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
