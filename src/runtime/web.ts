import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { API_ERRORS } from '../api/errors.js';

/**
 * Serves the dashboard (web/, built by `npm run web:build` into web/dist) at `/`; the API stays
 * under /v1. Without a build, `/` answers a page that says how to build it — the node never fails
 * for want of one. A small handler instead of a static-file plugin: the dashboard is a handful of
 * files with hashed names, and paths are confined to the build folder.
 */

export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

const NOT_BUILT = `<!doctype html><html><head><meta charset="utf-8"><title>GridLedger dashboard not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}code{background:#eef;padding:.1rem .3rem}</style></head>
<body><h1>The dashboard is not built</h1><p>This node serves its API under <code>/v1</code> (see <a href="/v1/openapi.json">/v1/openapi.json</a>),
but the web dashboard has not been built in this checkout.</p><p>Build it once with <code>npm run web:build</code> (Vite writes <code>web/dist/</code>), then reload this page.</p></body></html>`;

/** A file of the build for a URL path, or null (outside the folder, missing, or a directory). */
function fileFor(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0]!);
  } catch {
    return null;
  }
  const file = resolve(root, '.' + (decoded === '/' ? '/index.html' : decoded));
  if (!file.startsWith(resolve(root) + sep)) return null;
  return existsSync(file) && statSync(file).isFile() ? file : null;
}

function send(reply: FastifyReply, file: string): FastifyReply {
  const immutable = file.includes(`${sep}assets${sep}`);
  return reply
    .type(TYPES[extname(file)] ?? 'application/octet-stream')
    .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .send(readFileSync(file));
}

export function registerWeb(app: FastifyInstance, root: string = WEB_DIST): void {
  app.get('/*', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (path.startsWith('/v1/') || path === '/v1' || path === '/metrics') {
      const e = API_ERRORS.NOT_FOUND(`no route GET ${path}`);
      return reply.code(404).send({ error: { code: e.code, message: e.message } });
    }
    if (!existsSync(join(root, 'index.html'))) return reply.code(path === '/' ? 200 : 404).type('text/html; charset=utf-8').send(NOT_BUILT);
    const file = fileFor(root, path);
    // The dashboard routes with #fragments; any other unknown path gets the app too (it shows its own "not found").
    return send(reply, file ?? join(root, 'index.html'));
  });
}
