#!/usr/bin/env node
// The package's `warren` command: a shim over the compiled CLI (dist/, written by `npm run build`).
let cli;
try {
  cli = await import('../dist/src/cli.js');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  process.stderr.write('warren: dist/src/cli.js is missing; run `npm run build` first\n');
  process.exit(1);
}
cli.exitWith(await cli.main(process.argv.slice(2), process.env));
