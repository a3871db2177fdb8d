import { rmSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { parseBitcoinTx } from '../../src/bitcoin/index.js';
import { anchorRoutes } from '../../src/modules/anchor/routes.js';
import { verifyAnchorOverApi } from '../../src/modules/anchor/cli/verify.js';
import { loadAnchorServiceConfig, startAnchorService, walletFrom, type AnchorService } from '../../src/runtime/anchor-service.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { openKeyring } from '../../src/home/home.js';
import { FakeChain, startFakeEsplora, type RunningServer } from '../bitcoin/fake-bitcoin.js';
import { verifyWithPython } from '../bitcoin/python.js';
import { prepareAnchorHome, until } from './helpers.js';

/**
 * The service against an Esplora endpoint (the local stand-in of test/bitcoin, which mines real
 * regtest-difficulty blocks): the wallet's UTXOs come from the endpoint, each anchor is broadcast,
 * and once mined the service records the including block by itself. `verify anchor` then checks the
 * header fetched from the endpoint.
 */

// A checkpoint every 2 s (blocks every 100 ms): rounds keep up even on a loaded machine.
const K = 20;
const logger = pino({ level: 'silent' });
let home: string;
let running: RunningNode;
let esplora: RunningServer;
let service: AnchorService;
const chain = new FakeChain();

beforeAll(async () => {
  esplora = await startFakeEsplora(chain);
  ({ home } = prepareAnchorHome(K, { network: 'regtest', backend: { kind: 'esplora', baseUrl: esplora.url }, feeRate: 1 }));
  const wallet = walletFrom(openKeyring(home, 'test'), loadAnchorServiceConfig(home)!);
  chain.fund(wallet.address(0).address, 60_000n);
  running = await startNode(home, { apiPort: 0, logger, anchorService: false });
  service = (await startAnchorService({ home, apiUrl: running.url, logger, manual: true }))!;
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await running?.stop();
  await esplora?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

const pendingHeight = () => callRoute(running.url, anchorRoutes.listCheckpoints, { query: { status: 'pending', limit: 1 } }).then((r) => r.checkpoints[0]?.height);

describe('anchor service with an Esplora backend', () => {
  it('broadcasts, and records the including block once it is mined; verification fetches the header from the endpoint', async () => {
    const heights: number[] = [];
    const round = async () => {
      const r = await service.round();
      heights.push(...r.recorded);
      return r;
    };
    for (let n = 0; n < 2; n++) {
      await until('a pending checkpoint', pendingHeight);
      const first = await round();
      expect(first.recorded.length).toBeGreaterThan(0);
      expect(first.confirmed).toEqual([]);
      chain.mine();
      const second = await round();
      expect(second.confirmed).toEqual(expect.arrayContaining(first.recorded));
    }
    chain.mine();
    await round();
    const { anchors } = await callRoute(running.url, anchorRoutes.listAnchors, { query: { limit: 100 } });
    expect(anchors.map((a) => a.height)).toEqual(heights);
    const confirmed = anchors.filter((a) => a.confirmation);
    expect(confirmed.length).toBeGreaterThanOrEqual(2);
    for (const a of confirmed) {
      expect(chain.including(a.txid)?.hash).toBe(a.confirmation!.blockHash);
      const report = await verifyAnchorOverApi(running.url, a.height, { esploraUrl: esplora.url });
      expect(report).toMatchObject({ ok: true, headerSource: esplora.url, anchoredIn: { blockHash: a.confirmation!.blockHash } });
    }
    // python-bitcoinlib checks each against the outputs it spends (as the stand-in holds them).
    const { results } = verifyWithPython(
      'regtest',
      anchors.map((a) => ({
        rawHex: a.rawTx,
        prevouts: parseBitcoinTx(a.rawTx).inputs.map((i) => {
          const out = parseBitcoinTx(chain.txs.get(i.txid)!).outputs[i.vout]!;
          return { scriptPubKey: out.scriptHex, amount: Number(out.value) };
        }),
      })),
    );
    results.forEach((r, i) => {
      expect(r.txid).toBe(anchors[i]!.txid);
      expect(r.inputs.every((x) => x.valid)).toBe(true);
    });
  }, 60_000);
});
