/**
 * Small files with one job each: no TypeScript file in src/ or plugins/ is over 400 lines
 * (a house rule of the project). A file that reaches the limit is split along a
 * seam, not trimmed of its comments; this test names every file over it with its count.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const MAX_LINES = 400;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Lines as `wc -l` counts them: newline characters. */
function lineCount(file: string): number {
  let n = 0;
  for (const c of readFileSync(file, 'utf8')) if (c === '\n') n++;
  return n;
}

describe('file size', () => {
  it(`no .ts file in src/ or plugins/ is over ${MAX_LINES} lines`, () => {
    const files = [...sources('src'), ...sources('plugins')];
    expect(files.length).toBeGreaterThan(100); // the scan found the tree
    const over = files
      .map((f) => ({ file: relative(root, f), lines: lineCount(f) }))
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.file}: ${f.lines} lines`);
    expect(over).toEqual([]);
  });
});
