import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { expect, vi } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { main } from '../../src/cli/main.js';
import { initHome } from '../../src/runtime/init.js';
import type { ModuleEntry } from '../../src/surface/index.js';
import type { TestChain } from './chain.js';

/** A module's routes served by the real API server (zod validation, JSON errors) over a test chain's committed state. */
export function serveModule(chain: TestChain, entry: ModuleEntry) {
  return buildServer(
    entry.surface.routes!.map((r) => ({ route: r.route, handler: (input: { params: any; query: any; body: any }) => r.handle(chain.queryContext(entry.core.name), input as never) })),
    { logger: pino({ level: 'silent' }), bodyLimitBytes: 1 << 20, rateLimitPerSecond: 100_000, version: 'test', validateResponses: true },
  );
}

/**
 * Sends each bad request to the module's routes (through the real server, no socket) and expects 400
 * REQUEST_INVALID, each good one 200; then the chain's state and root must be what they were.
 */
export async function expectPagingInput(chain: TestChain, entry: ModuleEntry, urls: { bad: string[]; good: string[] }): Promise<void> {
  const app = serveModule(chain, entry);
  const rootBefore = chain.stateRoot;
  const stateBefore = new Map(chain.storage.allState());
  try {
    for (const url of urls.bad) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code, url).toBe('REQUEST_INVALID');
    }
    for (const url of urls.good) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    }
  } finally {
    await app.close();
  }
  expect(chain.stateRoot).toBe(rootBefore);
  expect(new Map(chain.storage.allState())).toEqual(stateBefore);
}

/** The CLI run in-process against a module served on 127.0.0.1, with a fresh home; `close` stops the server and removes the home. */
export interface ServedCli {
  /** Runs one command (it must succeed); its standard output. */
  cli(...argv: string[]): Promise<string>;
  /** Follows the `more: --after X` lines of a list command to the end; the lines of every page. */
  follow(argv: string[]): Promise<string[][]>;
  close(): Promise<void>;
}

export async function serveForCli(chain: TestChain, entry: ModuleEntry): Promise<ServedCli> {
  const app = serveModule(chain, entry);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), `gridledger-${entry.core.name}-cli-`));
  initHome(join(dir, 'h'), { chainId: 'pages-test', keyringBackend: 'test', extraAccounts: {} });

  async function cli(...argv: string[]): Promise<string> {
    let stdout = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['--home', join(dir, 'h'), '--node', url, ...argv])).toBe(0);
      return stdout;
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  async function follow(argv: string[]): Promise<string[][]> {
    const pages: string[][] = [];
    let after: string | undefined;
    do {
      const lines = (await cli(...argv, ...(after ? ['--after', after] : []))).trim().split('\n');
      const more = lines.at(-1)!.match(/^more: --after (\S+)$/);
      after = more?.[1];
      pages.push(more ? lines.slice(0, -1) : lines);
    } while (after !== undefined);
    return pages;
  }

  return {
    cli,
    follow,
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
