import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerWeb } from '../../src/runtime/web.js';

/** The node's static serving of the dashboard build: files, a page when unbuilt, nothing outside the folder. */
describe('dashboard static files', () => {
  let app: FastifyInstance;
  let dir: string;
  afterEach(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function serve(build: boolean): FastifyInstance {
    dir = mkdtempSync(join(tmpdir(), 'gridledger-web-'));
    const root = join(dir, 'dist');
    writeFileSync(join(dir, 'secret.txt'), 'outside the build');
    if (build) {
      mkdirSync(join(root, 'assets'), { recursive: true });
      writeFileSync(join(root, 'index.html'), '<!doctype html><title>GridLedger</title>');
      writeFileSync(join(root, 'assets', 'app-abc123.js'), 'console.log(1)');
    }
    app = Fastify();
    app.get('/v1/health', async () => ({ ok: true }));
    registerWeb(app, root);
    return app;
  }

  it('without a build, / explains how to build it instead of failing', async () => {
    const res = await serve(false).inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('npm run web:build');
  });

  it('serves index.html at /, hashed assets as immutable, and the app for unknown paths', async () => {
    serve(true);
    const index = await app.inject({ url: '/' });
    expect(index.body).toContain('<title>GridLedger</title>');
    expect(index.headers['cache-control']).toBe('no-cache');
    const asset = await app.inject({ url: '/assets/app-abc123.js' });
    expect(asset.headers['content-type']).toContain('text/javascript');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await app.inject({ url: '/community' })).body).toContain('<title>GridLedger</title>');
  });

  it('never leaves the build folder, and leaves /v1 to the API (JSON 404 for unknown API paths)', async () => {
    serve(true);
    for (const url of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const res = await app.inject({ url });
      expect(res.body, url).not.toContain('outside the build');
    }
    expect((await app.inject({ url: '/v1/health' })).json()).toEqual({ ok: true });
    const missing = await app.inject({ url: '/v1/nothing-here' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
  });
});
