/**
 * `npm run gen-conf`: write conf/warren.conf from the broker-level defaults and the built-in
 * plugins' schemas. With `--check`, write nothing and exit 1 if the file is out of date.
 * Runs from the package root (npm runs scripts there).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BUILTIN_PLUGINS } from '../plugin-host/builtin.js';
import { loadManifests } from '../plugin-host/host.js';
import { DEFAULT_CONF_FILE } from './defaults.js';
import { renderConf } from './render-conf.js';

const path = resolve(process.cwd(), DEFAULT_CONF_FILE);
const text = renderConf(await loadManifests(BUILTIN_PLUGINS));
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // missing: out of date
  }
  if (current !== text) {
    process.stderr.write(`${DEFAULT_CONF_FILE} is out of date: run npm run gen-conf\n`);
    process.exitCode = 1;
  }
} else {
  writeFileSync(path, text);
  process.stdout.write(`wrote ${DEFAULT_CONF_FILE}\n`);
}
