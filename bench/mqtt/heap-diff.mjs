/**
 * Where the heap of idle connections goes: the difference between two V8 heap snapshots
 * (taken by bench/mqtt/idle-connections.mjs --heap-snapshots before and after opening them),
 * in bytes per connection, grouped two ways: by the node itself (its constructor, or V8's
 * kind: array, closure, string, code …) and by its owner — the nearest object with a
 * constructor of the program's own (not Object, Array, Map …) that retains it, so that a
 * Map's hash table or a plain object's property array are counted with the class holding
 * them. Self sizes only (what each node occupies), so the groups add up to the heap delta.
 *
 *   node --max-old-space-size=8000 bench/mqtt/heap-diff.mjs before.heapsnapshot after.heapsnapshot --per 1000 [--top 40]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ options: { per: { type: 'string', default: '1' }, top: { type: 'string', default: '40' }, json: { type: 'boolean', default: false }, explain: { type: 'string' } }, allowPositionals: true });
const per = Number(values.per);

/** constructor-like names that say nothing about who the memory is for */
const GENERIC = new Set(['Object', 'Array', 'Map', 'Set', 'WeakMap', 'system / Context', '(object properties)', '(object elements)', 'system / PropertyArray', '']);

/** @param {string} file */
function load(file) {
  const s = JSON.parse(readFileSync(file, 'utf8'));
  const meta = s.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const types = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const iType = meta.node_fields.indexOf('type');
  const iName = meta.node_fields.indexOf('name');
  const iSize = meta.node_fields.indexOf('self_size');
  const iEdges = meta.node_fields.indexOf('edge_count');
  const iEType = meta.edge_fields.indexOf('type');
  const iTo = meta.edge_fields.indexOf('to_node');
  const nodes = s.nodes;
  const edges = s.edges;
  const strings = s.strings;
  const count = nodes.length / nf;
  // first strong retainer of each node (by node index), for the owner grouping
  const retainer = new Int32Array(count).fill(-1);
  let e = 0;
  for (let n = 0; n < count; n++) {
    const ec = nodes[n * nf + iEdges];
    for (let k = 0; k < ec; k++, e += ef) {
      const et = edgeTypes[edges[e + iEType]];
      if (et === 'weak' || et === 'shortcut') continue;
      const to = edges[e + iTo] / nf;
      if (retainer[to] === -1 && to !== n) retainer[to] = n;
    }
  }
  /** @param {number} n */
  const kind = (n) => types[nodes[n * nf + iType]];
  /** @param {number} n */
  const label = (n) => {
    const t = kind(n);
    const name = strings[nodes[n * nf + iName]];
    if (t === 'object' || t === 'native') return name.length > 60 ? name.slice(0, 60) : name;
    if (t === 'string' || t === 'concatenated string' || t === 'sliced string') return '(string)';
    if (t === 'closure') return '(closure)';
    if (t === 'code') return '(code)';
    if (t === 'number') return '(heap number)';
    return `(${t}) ${name.length > 40 ? name.slice(0, 40) : name}`;
  };
  /** @param {number} n */
  const owner = (n) => {
    let m = n;
    for (let depth = 0; depth < 8 && m !== -1; depth++) {
      const t = kind(m);
      const name = strings[nodes[m * nf + iName]];
      // compiled code and the sources it keeps: made once per function, not per connection
      if (t === 'code') return '(compiled code, once)';
      if (t === 'object' && !GENERIC.has(name) && !name.startsWith('system /')) return name;
      m = retainer[m];
    }
    return `(no owner) ${label(n)}`;
  };
  const explained = new Map();
  const bySelf = new Map();
  const byOwner = new Map();
  let total = 0;
  for (let n = 0; n < count; n++) {
    const size = nodes[n * nf + iSize];
    if (size === 0) continue;
    total += size;
    const l = label(n);
    bySelf.set(l, (bySelf.get(l) ?? 0) + size);
    const o = owner(n);
    byOwner.set(o, (byOwner.get(o) ?? 0) + size);
    // --explain <owner>: what that owner holds, each with the chain of retainers up to it
    if (values.explain === o || values.explain === l) {
      const chain = [];
      for (let m = n, d = 0; m !== -1 && d < 16; m = retainer[m], d++) chain.push(kind(m) === 'closure' ? `${strings[nodes[m * nf + iName]]}()` : label(m));
      const key = `${l}  <-  ${chain.slice(1).join(' <- ')}`;
      explained.set(key, (explained.get(key) ?? 0) + size);
    }
  }
  return { bySelf, byOwner, total, explained };
}

const [a, b] = positionals.map(load);
/** @param {Map<string, number>} x @param {Map<string, number>} y */
function diff(x, y) {
  const out = [];
  for (const k of new Set([...x.keys(), ...y.keys()])) out.push([k, ((y.get(k) ?? 0) - (x.get(k) ?? 0)) / per]);
  return out.sort((p, q) => q[1] - p[1]);
}
const top = Number(values.top);
const self = diff(a.bySelf, b.bySelf);
const owners = diff(a.byOwner, b.byOwner);
if (values.explain) {
  console.log(`held by ${values.explain}, bytes per connection:`);
  for (const [k, v] of diff(a.explained, b.explained).slice(0, top)) console.log(`${v.toFixed(0).padStart(8)}  ${k}`);
} else if (values.json) {
  process.stdout.write(`${JSON.stringify({ total_per: (b.total - a.total) / per, by_self: Object.fromEntries(self.filter((r) => Math.abs(r[1]) >= 1)), by_owner: Object.fromEntries(owners.filter((r) => Math.abs(r[1]) >= 1)) })}\n`);
} else {
  console.log(`heap delta: ${((b.total - a.total) / per).toFixed(0)} bytes per connection`);
  console.log('\nby node (constructor or kind), bytes per connection:');
  for (const [k, v] of self.slice(0, top)) console.log(`${v.toFixed(0).padStart(8)}  ${k}`);
  console.log('\nby owner (nearest object of a class of the program retaining it), bytes per connection:');
  for (const [k, v] of owners.slice(0, top)) console.log(`${v.toFixed(0).padStart(8)}  ${k}`);
}
