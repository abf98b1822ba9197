#!/usr/bin/env -S node --initial-old-space-size=128
// The package's `warren` command: a shim over the compiled CLI (dist/, written by `npm run build`).
// --initial-old-space-size=128 (also in package.json's start script): with 64 KiB-1 MiB bodies
// V8 ran a mark-compact every 16-24 MiB of bodies on a ~10 MB heap; a 128 MB old space before
// the first one cut broker CPU per message by a fifth to a third (docs/performance.md, "What is
// left at 64 KiB persistent"). Node refuses the flag in NODE_OPTIONS and ignores it at run time,
// so the launcher sets it.
let cli;
try {
  cli = await import('../dist/src/cli.js');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  process.stderr.write('warren: dist/src/cli.js is missing; run `npm run build` first\n');
  process.exit(1);
}
cli.exitWith(await cli.main(process.argv.slice(2), process.env));
