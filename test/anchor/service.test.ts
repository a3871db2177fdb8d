import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import type { RouteDef, RouteInput, RouteOutput } from '../../src/api/route.js';
import { checkpointPayload, parseBitcoinTx } from '../../src/bitcoin/index.js';
import { OfflineBackend, type BitcoinBackend } from '../../src/bitcoin/service.js';
import { paths } from '../../src/home/home.js';
import { anchorRoutes } from '../../src/modules/anchor/routes.js';
import { checkpointOf } from '../../src/modules/anchor/rules.js';
import { parseAnchorServiceConfig, startAnchorService, type AnchorService, type AnchorServiceConfig } from '../../src/runtime/anchor-service.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { cli, oneJson } from '../foundation/cli-helpers.js';
import { makeHome } from '../helpers/node.js';
import { verifyWithPython } from '../bitcoin/python.js';
import { blockWith, expectedAnchorFee, prepareAnchorHome, until } from './helpers.js';

/**
 * End to end on a running node: checkpoints every K = 5 blocks, the anchor service (offline backend)
 * writes each transaction to a folder and records it on the ledger; every transaction it built is
 * checked by python-bitcoinlib; the service is idempotent across a crash between broadcast and record
 * and across restarts; an operator records the including block (a synthetic block: a real Merkle tree
 * around the txid, and a header ground to the regtest target, since no Bitcoin network is reachable);
 * `gridledger verify anchor` passes, and fails with a precise reason for a wrong transaction and for
 * a tampered ledger.
 */

const K = 5;
const logger = pino({ level: 'silent' });
const FUNDING = { txid: '5f'.repeat(32), vout: 1, value: 250_000n };

let home: string;
let running: RunningNode;
let config: AnchorServiceConfig;
const services: AnchorService[] = [];

const api = <R extends RouteDef>(route: R, input: RouteInput<R>): Promise<RouteOutput<R>> => callRoute(running.url, route, input);

async function service(backend?: BitcoinBackend, manual = false): Promise<AnchorService> {
  const s = (await startAnchorService({ home, apiUrl: running.url, logger, config, blocks: running.node, manual, ...(backend ? { backend } : {}) }))!;
  services.push(s);
  return s;
}

const anchorsDir = () => join(home, 'anchors');
const hexFiles = () => (existsSync(anchorsDir()) ? readdirSync(anchorsDir()).filter((f) => f.endsWith('.hex')).sort() : []);
const gl = (args: string[]) => cli(['--home', home, '--node', running.url, ...args]);

beforeAll(async () => {
  const raw = { network: 'regtest', backend: { kind: 'offline', dir: 'anchors' }, feeRate: 3, pollIntervalMs: 100, funding: [{ txid: FUNDING.txid, vout: FUNDING.vout, value: String(FUNDING.value) }] };
  ({ home } = prepareAnchorHome(K, raw));
  config = parseAnchorServiceConfig(raw);
  running = await startNode(home, { apiPort: 0, logger, anchorService: false });
}, 60_000);

afterAll(async () => {
  for (const s of services) await s.stop();
  await running?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('anchor service on a running node (offline broadcast)', () => {
  it('does nothing on a node without anchor.json', async () => {
    const { home: other } = makeHome();
    try {
      expect(await startAnchorService({ home: other, apiUrl: 'http://127.0.0.1:1', logger })).toBeNull();
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('anchors every checkpoint: files written, records committed, the wallet swaps sender and receiver', async () => {
    const s = await service();
    await until('three anchors', async () => ((await api(anchorRoutes.anchorStatus, {})).anchors >= 3 ? true : undefined));
    await s.stop();
    const { anchors } = await api(anchorRoutes.listAnchors, { query: { limit: 100 } });
    const { checkpoints } = await api(anchorRoutes.listCheckpoints, { query: { limit: 100 } });
    expect(anchors.length).toBeGreaterThanOrEqual(3);
    expect(anchors.map((a) => a.height)).toEqual(checkpoints.filter((c) => c.status !== 'pending').map((c) => c.height));
    for (const c of checkpoints) expect(c.height % K).toBe(0);
    const chainId = running.node.chainId;
    const addresses = s.wallet.addresses();
    anchors.forEach((a, n) => {
      expect(a.sequence).toBe(n);
      const file = join(anchorsDir(), `${a.height}-${a.txid}.hex`);
      expect(readFileSync(file, 'utf8').trim()).toBe(a.rawTx);
      expect(existsSync(join(anchorsDir(), `${a.height}-${a.txid}.psbt`))).toBe(true);
      const tx = parseBitcoinTx(a.rawTx);
      const checkpoint = checkpoints.find((c) => c.height === a.height)!;
      expect(tx.outputs[0]!.scriptHex).toBe(`6a2d${Buffer.from(checkpointPayload(checkpointOf(chainId, checkpoint))).toString('hex')}`);
      // Anchor n pays from address n mod 2 to the other one, spending what anchor n − 1 paid it.
      expect(tx.outputs[1]!.scriptHex).toBe(addresses[(n + 1) % 2]!.scriptPubKey);
      const spent = n === 0 ? `${FUNDING.txid}:${FUNDING.vout}` : `${anchors[n - 1]!.txid}:1`;
      expect(tx.inputs.map((i) => `${i.txid}:${i.vout}`)).toEqual([spent]);
    });
    expect(hexFiles()).toHaveLength(anchors.length);
  }, 60_000);

  it('every transaction the service built passes python-bitcoinlib: signatures against the spent outputs, txid, the one OP_RETURN', async () => {
    const { anchors } = await api(anchorRoutes.listAnchors, { query: { limit: 100 } });
    const addresses = (await service(undefined, true)).wallet.addresses();
    const prevouts = anchors.map((a, n) => {
      if (n === 0) return [{ scriptPubKey: addresses[0]!.scriptPubKey, amount: Number(FUNDING.value) }];
      const prev = parseBitcoinTx(anchors[n - 1]!.rawTx).outputs[1]!;
      return [{ scriptPubKey: prev.scriptHex, amount: Number(prev.value) }];
    });
    const { results } = verifyWithPython('regtest', anchors.map((a, n) => ({ rawHex: a.rawTx, prevouts: prevouts[n]! })));
    results.forEach((r, n) => {
      const a = anchors[n]!;
      expect(r.error).toBeUndefined();
      expect(r.txid).toBe(a.txid);
      expect(r.inputs.every((i) => i.valid)).toBe(true);
      expect(r.opReturns).toHaveLength(1);
      expect(r.opReturns[0]!.pushes).toEqual([parseBitcoinTx(a.rawTx).outputs[0]!.scriptHex.slice(4)]);
      expect(r.fee).toBe(expectedAnchorFee(a.rawTx, r.weight, 3));
    });
  });

  it('a crash between broadcast and record: after a restart the journalled transaction is recorded, nothing is built twice', async () => {
    const before = (await api(anchorRoutes.anchorStatus, {})).anchors;
    const offline = new OfflineBackend({ dir: anchorsDir() });
    const crashing: BitcoinBackend = Object.assign(Object.create(offline), {
      broadcast: async (tx: Parameters<BitcoinBackend['broadcast']>[0]) => {
        await offline.broadcast(tx);
        throw new Error('simulated crash after broadcast');
      },
    });
    const first = await service(crashing, true);
    await until('a pending checkpoint', async () => ((await api(anchorRoutes.listCheckpoints, { query: { status: 'pending', limit: 1 } })).checkpoints[0]?.height));
    await expect(first.round()).rejects.toThrow('simulated crash');
    await first.stop();
    const journalled = first.journal.entries().at(-1)!;
    expect((await api(anchorRoutes.getCheckpoint, { params: { height: journalled.height } })).status).toBe('pending');
    const files = hexFiles();
    const second = await service(undefined, true);
    const done = await second.round();
    expect(done.recorded[0]).toBe(journalled.height);
    const { anchor } = await api(anchorRoutes.getCheckpoint, { params: { height: journalled.height } });
    expect(anchor!.txid).toBe(journalled.txid);
    expect(anchor!.sequence).toBe(before);
    // One file pair per checkpoint, the journalled one not rewritten; a further round redoes nothing recorded.
    expect(hexFiles().filter((f) => !files.includes(f)).every((f) => Number(f.split('-')[0]) > journalled.height)).toBe(true);
    const again = await second.round();
    for (const h of again.recorded) expect(h).toBeGreaterThan(journalled.height);
    await second.stop();
    const { anchors } = await api(anchorRoutes.listAnchors, { query: { limit: 100 } });
    expect(new Set(anchors.map((a) => a.txid)).size).toBe(anchors.length);
    expect(hexFiles()).toHaveLength(anchors.length);
  }, 60_000);

  it('the operator records the including block; verify anchor passes, and names a wrong transaction and a tampered ledger', async () => {
    const { anchors } = await api(anchorRoutes.listAnchors, { query: { limit: 1 } });
    const a = anchors[0]!;
    const block = blockWith(a.txid, 1, 5, { time: 1_790_000_000 });
    const inclusionFile = join(home, 'inclusion.json');
    writeFileSync(inclusionFile, JSON.stringify({ blockHeader: block.header, blockHeight: 123_456, branch: block.branch }));
    const confirmed = await gl(['--from', 'anchor', '--wait', '-o', 'json', 'tx', 'anchor', 'confirm', '--height', String(a.height), '--inclusion', inclusionFile]);
    expect(confirmed.code, confirmed.stderr).toBe(0);

    const verified = await gl(['-o', 'json', 'verify', 'anchor', '--height', String(a.height)]);
    expect(verified.code, verified.stderr).toBe(0);
    const report = oneJson(verified);
    expect(report).toMatchObject({ ok: true, status: 'confirmed', txid: a.txid, anchoredIn: { blockHeight: 123_456, blockHash: block.hash, time: 1_790_000_000 }, headerSource: 'ledger record' });
    const text = await gl(['verify', 'anchor', '--height', String(a.height)]);
    // Text output shows times in the user's local time with the zone (ISO in JSON).
    expect(text.stdout).toMatch(new RegExp(`anchored in Bitcoin block 123456 \\(${block.hash}\\) at 2026-09-2[12] \\d\\d:\\d\\d:\\d\\d \\S+`));
    expect((await api(anchorRoutes.verification, { params: { height: a.height } })).ok).toBe(true);

    const headerFile = join(home, 'header.hex');
    writeFileSync(headerFile, `${blockWith(a.txid, 1, 5, { failPow: true }).header}\n`);
    const weak = await gl(['-o', 'json', 'verify', 'anchor', '--height', String(a.height), '--header', headerFile]);
    expect(weak.code).toBe(1);
    expect(JSON.parse(weak.stderr).error.code).toBe('ANCHOR_BTC_BLOCK_HASH_MISMATCH');

    const wrongTx = join(home, 'wrong.hex');
    writeFileSync(wrongTx, `${anchors.length > 0 ? (await api(anchorRoutes.listAnchors, { query: { limit: 2 } })).anchors[1]!.rawTx : ''}\n`);
    const wrong = await gl(['-o', 'json', 'verify', 'anchor', '--height', String(a.height), '--raw-tx', wrongTx]);
    expect(wrong.code).toBe(1);
    expect(oneJson(wrong).failure).toMatchObject({ check: 'transaction', code: 'ANCHOR_BTC_TXID_MISMATCH' });
    expect(JSON.parse(wrong.stderr).error.code).toBe('ANCHOR_BTC_TXID_MISMATCH');

    // Tamper with the ledger: block H's stored state root. Its hash no longer matches the checkpoint.
    await running.stop();
    const db = new Database(paths(home).db);
    const row = db.prepare('SELECT block FROM blocks WHERE height = ?').get(a.height) as { block: string };
    const stored = JSON.parse(row.block);
    stored.header.stateRoot = 'ee'.repeat(32);
    db.prepare('UPDATE blocks SET block = ? WHERE height = ?').run(JSON.stringify(stored), a.height);
    db.close();
    running = await startNode(home, { apiPort: 0, logger, anchorService: false });
    const tampered = await gl(['-o', 'json', 'verify', 'anchor', '--height', String(a.height)]);
    expect(tampered.code).toBe(1);
    const failure = oneJson(tampered).failure;
    expect(failure).toMatchObject({ check: 'checkpoint', code: 'ANCHOR_CHECKPOINT_MISMATCH' });
    expect(failure.message).toContain(`block ${a.height + 1} links to`);
  }, 90_000);
});
