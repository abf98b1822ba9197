/**
 * The query parameters RabbitMQ's list endpoints take, applied to any list: `name` (with
 * `use_regex`) filters, `sort` / `sort_reverse` order by a (dotted) field, `columns` keeps
 * only the named (dotted) fields — what rabbitmqadmin and `warren ctl list_* <columns>` use —
 * and `page` / `page_size` return one page in RabbitMQ's paged shape.
 */
import { badRequest, ok, type ApiResponse } from './http.js';

type Item = Record<string, unknown>;

const MAX_PAGE_SIZE = 500;

export function listResponse(items: readonly object[], query: URLSearchParams): ApiResponse {
  const total = items.length;
  let list = items as Item[];
  const name = query.get('name');
  if (name) {
    let test: (s: string) => boolean;
    if (query.get('use_regex') === 'true') {
      let re: RegExp;
      try {
        re = new RegExp(name, 'i');
      } catch {
        throw badRequest(`invalid regular expression '${name}'`);
      }
      test = (s) => re.test(s);
    } else {
      const needle = name.toLowerCase();
      test = (s) => s.toLowerCase().includes(needle);
    }
    list = list.filter((i) => typeof i.name === 'string' && test(i.name));
  }
  const sort = query.get('sort');
  if (sort) {
    const sign = query.get('sort_reverse') === 'true' ? -1 : 1;
    list = [...list].sort((a, b) => sign * compare(pick(a, sort), pick(b, sort)));
  }
  const columns = query.get('columns');
  if (columns) list = list.map((i) => project(i, columns.split(',').map((c) => c.trim()).filter(Boolean)));
  const pageParam = query.get('page');
  if (pageParam === null) return ok(list);
  const page = Number(pageParam);
  const pageSize = Number(query.get('page_size') ?? 100);
  if (!Number.isInteger(page) || page < 1) throw badRequest('page must be a positive integer');
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) throw badRequest(`page_size must be from 1 to ${MAX_PAGE_SIZE}`);
  const pageCount = Math.max(1, Math.ceil(list.length / pageSize));
  if (page > pageCount) throw badRequest(`page out of range: ${page} of ${pageCount}`);
  const slice = list.slice((page - 1) * pageSize, page * pageSize);
  return ok({
    filtered_count: list.length,
    item_count: slice.length,
    items: slice,
    page,
    page_count: pageCount,
    page_size: pageSize,
    total_count: total,
  });
}

function pick(item: Item, path: string): unknown {
  let v: unknown = item;
  for (const k of path.split('.')) {
    // own properties only: a column such as `__proto__.x` must not reach (and `project` then
    // write into) Object.prototype
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, k)) return undefined;
    v = (v as Item)[k];
  }
  return v;
}

function project(item: Item, columns: string[]): Item {
  const out: Item = {};
  for (const c of columns) {
    const v = pick(item, c);
    if (v === undefined) continue;
    const keys = c.split('.');
    let target = out;
    for (let i = 0; i < keys.length - 1; i++) {
      const k = keys[i]!;
      if (typeof target[k] !== 'object' || target[k] === null) target[k] = {};
      target = target[k] as Item;
    }
    target[keys[keys.length - 1]!] = v;
  }
  return out;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}
