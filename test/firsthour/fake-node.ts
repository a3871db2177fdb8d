/**
 * A fake node for CLI tests that must not reach a ledger: it answers the signer's nonce and the chain
 * status (what signing needs), records every request, and refuses everything else. The CLI runs
 * in-process through `main`, so a run costs milliseconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { openKeyring } from '../../src/home/home.js';
import { initHome } from '../../src/runtime/init.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** "METHOD /path?query body" of every request the node received, in order. */
  requests: string[];
  /** The JSON error document of a failed run (-o json). */
  error?: { code: string; message: string };
}

export interface FakeNode {
  home: string;
  url: string;
  addresses: Record<string, string>;
  run(argv: string[]): Promise<CliRun>;
  close(): Promise<void>;
}

export async function startFakeNode(accounts: Record<string, string[]>): Promise<FakeNode> {
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-fake-'));
  const home = join(dir, 'h');
  initHome(home, { chainId: 'fake-test', keyringBackend: 'test', extraAccounts: accounts });
  const addresses = Object.fromEntries(openKeyring(home, 'test').list().map((k) => [k.name, k.address]));
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      requests.push(`${req.method} ${decodeURIComponent(req.url ?? '')} ${body}`);
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && /^\/v1\/accounts\/[^/]+\/nonce/.test(req.url ?? '')) return res.end(JSON.stringify({ address: 'x', next: 0 }));
      if (req.method === 'GET' && req.url === '/v1/status') return res.end(JSON.stringify({ chainId: 'fake-test', height: 5, latestBlockTime: Date.now() }));
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { code: 'FAKE_NODE', message: 'the fake node answers nothing else' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function run(argv: string[]): Promise<CliRun> {
    requests.length = 0;
    let stdout = '';
    let stderr = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
    try {
      const code = await main(['--home', home, '--node', url, '-o', 'json', ...argv]);
      const last = stderr.trim().split('\n').pop();
      const error = last?.startsWith('{') ? (JSON.parse(last) as { error: { code: string; message: string } }).error : undefined;
      return { code, stdout, stderr, requests: [...requests], error };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  return {
    home,
    url,
    addresses,
    run,
    close: async () => {
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
