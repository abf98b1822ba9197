// Small DOM helpers: elements from data (text only, never HTML from the broker), tables,
// forms, flash messages and number formatting.

/** h('td', {class: 'num'}, 'text', child…): attributes, then children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/**
 * A table: `columns` are [header, value(item) → string | Node, options {num}]; rows keep
 * their order; an empty list shows `empty`.
 */
export function table(columns, items, empty = 'Nothing here yet.', attrs = {}) {
  if (items.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    attrs,
    h('thead', {}, h('tr', {}, columns.map(([title, , o]) => h('th', { class: o?.num ? 'num' : undefined }, title)))),
    h('tbody', {}, items.map((item) => h('tr', {}, columns.map(([, value, o]) => h('td', { class: o?.num ? 'num' : undefined }, value(item)))))),
  );
}

export function props(pairs) {
  return h('dl', { class: 'props' }, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export function flash(text, error = false) {
  const box = document.getElementById('flash');
  const msg = h('div', { class: error ? 'msg error' : 'msg', role: error ? 'alert' : 'status' }, text);
  box.append(msg);
  setTimeout(() => msg.remove(), error ? 8000 : 4000);
}

/** Run an action of a form or button: flash its outcome; errors show the API's reason. */
export async function act(what, f) {
  try {
    const r = await f();
    if (what) flash(what);
    return r;
  } catch (e) {
    flash(e.message || String(e), true);
    return undefined;
  }
}

export function field(label, input) {
  return h('label', {}, label, input);
}

export function checkbox(name, label, checked = false) {
  return h('label', { class: 'check' }, h('input', { type: 'checkbox', name, checked }), label);
}

export function select(name, options, value) {
  return h('select', { name }, options.map((o) => h('option', { value: o, selected: o === value }, o)));
}

/** The values of a form's named controls (checkboxes as booleans). */
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    out[el.name] = el.type === 'checkbox' ? el.checked : el.value;
  }
  return out;
}

export function fmtNumber(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : '';
}

export function fmtRate(n) {
  return typeof n === 'number' ? `${n.toFixed(n < 10 ? 1 : 0)}/s` : '';
}

/** bytes per second, for data rates */
export function fmtByteRate(n) {
  return typeof n === 'number' ? `${fmtBytes(n)}/s` : '';
}

/** a counter with its rate: `1,234 (5.0/s)` */
export function fmtCount(stats, key) {
  return stats ? `${fmtNumber(stats[key])} (${fmtRate(stats[`${key}_details`]?.rate)})` : '';
}

export function fmtBytes(n) {
  if (typeof n !== 'number') return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function fmtArgs(args) {
  const entries = Object.entries(args ?? {});
  return entries.length === 0 ? '' : entries.map(([k, v]) => h('span', { class: 'tag' }, `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`));
}

/** A link to a hash route made of path segments (each URL-encoded). */
export function link(text, ...segments) {
  return h('a', { href: `#/${segments.map(encodeURIComponent).join('/')}` }, text);
}
