// A small static file server for build/site: the page's own files, nothing else, with the
// privacy headers of docs/privacy.md (the page carries the same policy in a meta tag, for
// hosts that cannot set headers). Binds 127.0.0.1 by default.
// usage: node scripts/serve.mjs [DIR] [--port N] [--host H]
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(name) ? args[args.indexOf(name) + 1] : d);
const root = resolve(args.find((a, i) => !a.startsWith('--') && (i === 0 || !args[i - 1].startsWith('--'))) ??
  join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'site'));
const port = Number(opt('--port', process.env.PORT ?? 8080));
const host = opt('--host', '127.0.0.1');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
};
export const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' blob: data:; font-src 'self'; worker-src 'self'; connect-src 'self'; base-uri 'none'; " +
  "form-action 'none'; object-src 'none'; frame-ancestors 'none'";

export function serve(dir, listenPort, listenHost) {
  const server = createServer((req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(dir, path));
    let st;
    try {
      st = file.startsWith(dir + sep) ? statSync(file) : null;
    } catch {
      st = null;
    }
    const headers = {
      'Content-Security-Policy': CSP, 'Referrer-Policy': 'no-referrer', 'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
    };
    if (!st || !st.isFile() || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': st.size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((ok) => server.listen(listenPort, listenHost, () => ok(server)));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const server = await serve(root, port, host);
  const a = server.address();
  console.log(`custlens is served at http://${a.address}:${a.port}/ (Ctrl-C stops it)`);
}
