/**
 * The web UI's files, served as they are in plugins/management/ui (no build step): index.html
 * for `/`, other files by path, nothing outside that directory.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { HttpError } from './http.js';
import { uiDirectory } from './package-root.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

export async function serveStatic(req: IncomingMessage, res: ServerResponse, path: string, headers: Record<string, string>): Promise<void> {
  const root = uiDirectory();
  if (!root) throw new HttpError(404, 'Object Not Found', 'the web UI files are not installed');
  let relative: string;
  try {
    relative = decodeURIComponent(path === '/' ? '/index.html' : path);
  } catch {
    throw new HttpError(400, 'bad_request', 'invalid percent-encoding in the path');
  }
  const file = normalize(join(root, relative));
  if (!file.startsWith(root + sep) || relative.includes('\0')) throw new HttpError(404, 'Object Not Found', 'Not Found');
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) throw new HttpError(404, 'Object Not Found', 'Not Found');
  res.writeHead(200, {
    ...headers,
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).pipe(res);
}
