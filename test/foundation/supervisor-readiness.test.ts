/**
 * `gridledger devnet` announces the devnet once every node answers — and only its own node counts: a
 * program holding a node's port (another devnet's node, say, while this node finds the port taken and
 * exits) must not make the banner point at another chain. Seen once with two devnet test files running
 * side by side: the banner's suggested `status` showed the other file's chain.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { answersForChain } from '../../src/runtime/devnet.js';

describe("a devnet node's readiness", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  /** An HTTP server on a free port that answers every path with `status` and this JSON. */
  async function serving(status: number, body: unknown): Promise<string> {
    server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const address = server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  it("counts a node that answers with the devnet's chain id", async () => {
    const api = await serving(200, { chainId: 'gridledger-devnet', height: 3 });
    expect(await answersForChain(api, 'gridledger-devnet')).toBe(true);
  });

  it("does not count another chain's node on the port, healthy as it is", async () => {
    const api = await serving(200, { ok: true, height: 1, chainId: 'flex-devnet' });
    expect(await answersForChain(api, 'gridledger-devnet')).toBe(false);
  });

  it('does not count an answer without a chain id, an error status or a closed port', async () => {
    expect(await answersForChain(await serving(200, { ok: true, height: 1 }), 'gridledger-devnet')).toBe(false);
    server!.close();
    expect(await answersForChain(await serving(503, { chainId: 'gridledger-devnet' }), 'gridledger-devnet')).toBe(false);
    const closed = await serving(200, {});
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    expect(await answersForChain(closed, 'gridledger-devnet')).toBe(false);
  });
});
