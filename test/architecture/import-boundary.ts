/**
 * The import rules between layers, checked on the source text (parsed with oxc-parser, so
 * comments and strings never count as imports):
 *
 * - a plugin (plugins/<name>/**) imports from src/ only entry modules (`src/<layer>/index.ts`)
 *   and never another plugin's files;
 * - the core (src/core/**) imports nothing from plugins/.
 *
 * Every form counts: `import`, `import type`, `export … from`, `import()` and the type
 * position `import('…')`. A dynamic import of a computed specifier cannot be checked, so it
 * is an offence too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseSync } from 'oxc-parser';

/** `src/<layer>/index.ts`: any layer, so new layers (src/frontend, src/cluster …) need no change here */
const ENTRY_MODULE = /^src\/[^/]+\/index\.ts$/;

export interface ImportSite {
  /** the importing file, relative to the repository root, with forward slashes */
  file: string;
  line: number;
  /** the specifier as written; null for a dynamic import of a computed expression */
  specifier: string | null;
  kind: 'import' | 'export' | 'dynamic import' | 'type import';
}

export interface Offence extends ImportSite {
  reason: string;
}

/** Every import site of one file's text. */
export function importSites(file: string, text: string): ImportSite[] {
  const parsed = parseSync(file, text, { lang: 'ts', sourceType: 'module' });
  if (parsed.errors.length > 0) throw new Error(`${file}: does not parse: ${parsed.errors[0]!.message}`);
  const lineAt = lineIndex(text);
  const out: ImportSite[] = [];
  for (const i of parsed.module.staticImports) out.push({ file, line: lineAt(i.start), specifier: i.moduleRequest.value, kind: 'import' });
  for (const e of parsed.module.staticExports) {
    for (const entry of e.entries) {
      if (entry.moduleRequest) out.push({ file, line: lineAt(entry.start), specifier: entry.moduleRequest.value, kind: 'export' });
    }
  }
  for (const d of parsed.module.dynamicImports) {
    const argument = text.slice(d.moduleRequest.start, d.moduleRequest.end).trim();
    out.push({ file, line: lineAt(d.start), specifier: stringLiteral(argument), kind: 'dynamic import' });
  }
  visit(parsed.program, (node) => {
    // `x: import('…').T`, and `import x = require('…')`
    const source = node.type === 'TSImportType' ? node.source : node.type === 'TSExternalModuleReference' ? node.expression : undefined;
    if (source === undefined) return;
    const kind = node.type === 'TSImportType' ? 'type import' : 'import';
    out.push({ file, line: lineAt(node.start), specifier: typeof source.value === 'string' ? source.value : null, kind });
  });
  // one `export { a, b } from 'x'` has an entry per name: one site is enough
  return out
    .filter((s, i) => out.findIndex((o) => o.line === s.line && o.specifier === s.specifier && o.kind === s.kind) === i)
    .sort((a, b) => a.line - b.line);
}

/** Why a plugin file may not make this import, or null when it may. */
export function pluginImportOffence(site: ImportSite): string | null {
  if (site.specifier === null) return 'a dynamic import of a computed specifier cannot be checked';
  if (!site.specifier.startsWith('.') && !site.specifier.startsWith('/')) return null; // a package or node: builtin
  const target = targetOf(site);
  if (target.startsWith('src/')) {
    return ENTRY_MODULE.test(target) ? null : `${target} is not an entry module (src/<layer>/index.ts)`;
  }
  const own = site.file.split('/').slice(0, 2).join('/');
  if (target.startsWith(`${own}/`)) return null;
  if (target.startsWith('plugins/')) return `${target} belongs to another plugin`;
  return `${target} is outside src/ entry modules and this plugin`;
}

/** Why a core file may not make this import, or null when it may. */
export function coreImportOffence(site: ImportSite): string | null {
  if (site.specifier === null) return 'a dynamic import of a computed specifier cannot be checked';
  if (!site.specifier.startsWith('.')) return null;
  const target = targetOf(site);
  return target.startsWith('plugins/') ? `the core imports a plugin (${target})` : null;
}

/** Check every .ts file under `root`/plugins and `root`/src/core. */
export function checkBoundaries(root: string): { plugins: Offence[]; core: Offence[]; files: number } {
  const plugins: Offence[] = [];
  const core: Offence[] = [];
  let files = 0;
  for (const [dir, check, into] of [
    ['plugins', pluginImportOffence, plugins],
    ['src/core', coreImportOffence, core],
  ] as const) {
    for (const file of tsFiles(join(root, dir))) {
      files++;
      const rel = relative(root, file).split(sep).join('/');
      for (const site of importSites(rel, readFileSync(file, 'utf8'))) {
        const reason = check(site);
        if (reason !== null) into.push({ ...site, reason });
      }
    }
  }
  return { plugins, core, files };
}

export function formatOffence(o: Offence): string {
  return `${o.file}:${o.line} ${o.kind} '${o.specifier ?? '<computed>'}': ${o.reason}`;
}

/** The repository path an import names, as a .ts file (`../x.js` → `…/x.ts`). */
function targetOf(site: ImportSite): string {
  const resolved = resolve('/', dirname(site.file), site.specifier!).slice(1);
  return resolved.replace(/\.js$/, '.ts');
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...tsFiles(path));
    } else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out.sort();
}

function stringLiteral(expression: string): string | null {
  const m = /^(['"`])([^'"`$\\]*)\1$/.exec(expression);
  return m ? m[2]! : null;
}

function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** What the visitor reads of an AST node (ESTree with TypeScript's nodes, as oxc gives them). */
interface AstNode {
  type: string;
  start: number;
  /** TSImportType: the module named */
  source?: { value?: unknown };
  /** TSExternalModuleReference: require('…') */
  expression?: { value?: unknown };
}

function visit(node: unknown, f: (node: AstNode) => void): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) visit(n, f);
    return;
  }
  if (typeof (node as { type?: unknown }).type === 'string') f(node as AstNode);
  for (const key in node) if (key !== 'parent') visit((node as Record<string, unknown>)[key], f);
}
