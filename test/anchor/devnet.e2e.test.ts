import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { checkpointPayload, intervalRoot, parseBitcoinTx } from '../../src/bitcoin/index.js';
import { blockHash, type BlockHeader } from '../../src/codec/block.js';
import { openKeyring, paths } from '../../src/home/home.js';
import { anchorRoutes } from '../../src/modules/anchor/routes.js';
import { checkpointOf } from '../../src/modules/anchor/rules.js';
import { anchorPaths, AnchorJournal, loadAnchorServiceConfig, walletFrom } from '../../src/runtime/anchor-service.js';
import { prepareDevnet, startDevnetNode, type DevnetManifest, type DevnetNode } from '../../src/runtime/devnet.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { verifyWithPython } from '../bitcoin/python.js';
import { api, BIN, exited, freeBasePort, Processes, waitFor } from '../devnet/harness.js';
import { cli, oneJson } from '../foundation/cli-helpers.js';
import { blockWith, expectedAnchorFee } from './helpers.js';

/**
 * Issue 15's acceptance end to end on a real 4-validator devnet (four node processes on loopback):
 * the anchor operator sets up node0 with the documented commands (`anchor init` with an offline
 * backend, admission as anchor-operator) and runs the service as `gridledger anchor run`, as the
 * walk-through in docs/anchor.md does. Checkpoints every K blocks; each raw transaction is written to
 * the folder and checked by python-bitcoinlib (OP_RETURN = the checkpoint commitment recomputed from
 * another validator's blocks, signatures against the spent outputs, same txid); the records are
 * identical on all four validators; one validator (not node0) is killed and brought back while
 * anchoring goes on; a second service on the same home is refused; a restarted service re-anchors
 * nothing; `gridledger verify anchor` passes against every node, and fails with its precise code for
 * a tampered copy of a node's store, another transaction and another block header.
 */

const K = 5;
const FUNDING = { txid: '7a'.repeat(32), vout: 1, value: 500_000 };
const FEE_RATE = 2;

describe.sequential('anchoring on a 4-validator devnet (offline broadcast)', () => {
  const procs = new Processes();
  let dir: string;
  let manifest: DevnetManifest;
  let node0: DevnetNode;
  let anchorHome: string;
  const nodeChildren = new Map<string, ChildProcess>();
  const tampered: RunningNode[] = [];

  const gl = (args: string[], node = node0) => cli(['--home', anchorHome, '--node', node.api, ...args]);
  const ok = async (args: string[], node = node0) => {
    const r = await gl(args, node);
    expect(r.code, `gridledger ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  const anchorCount = async (node = node0) => (await api(node.api, anchorRoutes.anchorStatus, {})).anchors;
  const anchorsOn = async (node: DevnetNode) => (await api(node.api, anchorRoutes.listAnchors, { query: { limit: 1000 } })).anchors;
  const checkpointsOn = async (node: DevnetNode) => (await api(node.api, anchorRoutes.listCheckpoints, { query: { limit: 1000 } })).checkpoints;
  const hexFiles = () => {
    const folder = join(anchorHome, 'anchors');
    return existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.hex')).sort() : [];
  };

  function startValidator(n: DevnetNode): void {
    nodeChildren.set(n.name, procs.child(startDevnetNode(n), n.name));
  }

  /** `gridledger anchor run` next to node0, as the operator starts it; its log goes to DIR/anchor-run-N.log. */
  let runs = 0;
  function startAnchorRun(): ChildProcess {
    const log = createWriteStream(join(dir, `anchor-run-${++runs}.log`));
    const child = spawn(process.execPath, [BIN, '--home', anchorHome, '--node', node0.api, 'anchor', 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    return procs.child(child, 'anchor run');
  }
  async function stopAnchorRun(child: ChildProcess): Promise<void> {
    child.kill('SIGTERM');
    const { code } = await exited(child);
    expect(code, `anchor run exited with ${code}; its log:\n${readFileSync(join(dir, `anchor-run-${runs}.log`), 'utf8').slice(-4000)}`).toBe(0);
  }

  /** Every node at least at node0's current height (so each holds everything node0 committed so far). */
  async function allCaughtUp(): Promise<number> {
    const height = (await api(node0.api, coreRoutes.status, {})).height;
    await Promise.all(manifest.nodes.map((n) => waitFor(async () => (await api(n.api, coreRoutes.status, {})).height >= height, `${n.name} reaches height ${height}`, 120_000, 200)));
    return height;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridledger-anchor-devnet-'));
    manifest = prepareDevnet(dir, 4, await freeBasePort(4), 'anchor-devnet', { blockTimeMs: 300 });
    for (const n of manifest.nodes) {
      // Anchor on regtest every K blocks (from genesis, as governance would set it: docs/anchor.md §10).
      const genesis = JSON.parse(readFileSync(paths(n.home).genesis, 'utf8'));
      genesis.modules.anchor = { checkpointInterval: K, network: 'regtest' };
      writeFileSync(paths(n.home).genesis, JSON.stringify(genesis, null, 2));
      // An idle devnet makes a block every 30 s; checkpoints need blocks, so make one every 400 ms.
      const config = JSON.parse(readFileSync(paths(n.home).config, 'utf8'));
      config.consensus.emptyBlockIntervalMs = 400;
      writeFileSync(paths(n.home).config, JSON.stringify(config, null, 2));
    }
    node0 = manifest.nodes[0]!;
    anchorHome = node0.home;
    for (const n of manifest.nodes) startValidator(n);
    try {
      await Promise.all(manifest.nodes.map((n) => waitFor(async () => (await api(n.api, coreRoutes.status, {})).peers.length >= 3, `${n.name} connects to its peers`, 120_000, 200)));
    } catch (err) {
      // Say why (a node that never answered once failed here under parallel load, its log deleted with the folder).
      const states = manifest.nodes.map((n) => {
        const child = nodeChildren.get(n.name)!;
        const file = join(n.home, 'node.log');
        const log = existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-12).join('\n') : '(no node.log)';
        return `${n.name}: exit ${child.exitCode ?? '-'} signal ${child.signalCode ?? '-'}\n${log}`;
      });
      throw new Error(`${(err as Error).message}\n${states.join('\n')}`);
    }
  }, 180_000);

  afterAll(async () => {
    for (const t of tampered) await t.stop();
    await procs.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the operator anchors every K-th checkpoint while a validator is killed and comes back; records are identical on all four validators', async () => {
    // The walk-through: wallet and anchor.json on node0, its operator admitted by node0's admin.
    const init = oneJson(await ok(['-o', 'json', 'anchor', 'init', '--network', 'regtest', '--fee-rate', String(FEE_RATE), '--funding', `${FUNDING.txid}:${FUNDING.vout}:${FUNDING.value}`]));
    expect(init.addresses[0].address).toMatch(/^bcrt1q/);
    // Rounds at least every second (a documented anchor.json field); blocks come every 400 ms.
    const config = JSON.parse(readFileSync(anchorPaths(anchorHome).config, 'utf8'));
    writeFileSync(anchorPaths(anchorHome).config, JSON.stringify({ ...config, pollIntervalMs: 1000 }, null, 2));
    await ok(['--from', 'admin', '--wait', '--wait-seconds', '60', 'tx', 'registry', 'admit', init.operator, '--role', 'anchor-operator']);

    const service = startAnchorRun();
    await waitFor(async () => (await anchorCount()) >= 4, 'four anchors', 180_000, 250);

    // A second service on node0's home is refused while the first runs (one journal, one wallet).
    const second = await gl(['-o', 'json', 'anchor', 'run', '--once']);
    expect(second.code).toBe(1);
    expect(JSON.parse(second.stderr).error.code).toBe('ANCHOR_SERVICE_RUNNING');

    // Kill node2 (a validator that does not anchor); three of four keep the chain and the anchoring going.
    const node2 = manifest.nodes[2]!;
    nodeChildren.get(node2.name)!.kill('SIGKILL');
    await exited(nodeChildren.get(node2.name)!);
    const atKill = await anchorCount();
    await waitFor(async () => (await anchorCount()) >= atKill + 3, 'three more anchors with node2 down', 180_000, 250);
    startValidator(node2);
    const atRestart = await anchorCount();
    await waitFor(async () => (await anchorCount()) >= atRestart + 3, 'three more anchors after node2 is back', 180_000, 250);
    const n0 = (await api(node0.api, coreRoutes.status, {})).height;
    await waitFor(async () => (await api(node2.api, coreRoutes.status, {})).height >= n0, 'node2 catches up', 180_000, 250);
    await stopAnchorRun(service);

    const height = await allCaughtUp();
    const anchors = await anchorsOn(node0);
    expect(anchors.length).toBeGreaterThanOrEqual(10);
    // Checkpoints at exactly every K-th height, none missing, up to the last one every node has taken.
    const settled = (await checkpointsOn(node0)).filter((c) => c.height < height);
    expect(settled.map((c) => c.height)).toEqual(Array.from({ length: settled.length }, (_, i) => (i + 1) * K));
    // Every checkpoint up to the last anchored one is anchored, once, in order (anchor n has sequence n).
    expect(anchors.map((a) => a.height)).toEqual(settled.slice(0, anchors.length).map((c) => c.height));
    expect(anchors.map((a) => a.sequence)).toEqual(anchors.map((_, n) => n));
    expect(new Set(anchors.map((a) => a.recordedBy))).toEqual(new Set([init.operator]));
    // The same records and checkpoints on all four validators, node2 included.
    for (const n of manifest.nodes.slice(1)) {
      expect(await anchorsOn(n), n.name).toEqual(anchors);
      expect((await checkpointsOn(n)).filter((c) => c.height < height), n.name).toEqual(settled);
    }
  }, 900_000);

  it('each raw transaction file passes python-bitcoinlib: OP_RETURN = the checkpoint commitment, valid input signatures, the same txid', async () => {
    const anchors = await anchorsOn(node0);
    expect(hexFiles()).toEqual(anchors.map((a) => `${a.height}-${a.txid}.hex`).sort());
    const node3 = manifest.nodes[3]!;
    const chainId = (await api(node3.api, coreRoutes.status, {})).chainId;
    const wallet = walletFrom(openKeyring(anchorHome, 'test'), loadAnchorServiceConfig(anchorHome)!);
    const files = anchors.map((a) => readFileSync(join(anchorHome, 'anchors', `${a.height}-${a.txid}.hex`), 'utf8').trim());
    // Anchor n spends what anchor n − 1 paid to its receiver (output 1); the first spends the funding.
    const prevouts = files.map((raw, n) => {
      if (n === 0) return [{ scriptPubKey: wallet.address(0).scriptPubKey, amount: FUNDING.value }];
      const prev = parseBitcoinTx(files[n - 1]!).outputs[1]!;
      return [{ scriptPubKey: prev.scriptHex, amount: Number(prev.value) }];
    });
    const { results } = verifyWithPython('regtest', files.map((rawHex, n) => ({ rawHex, prevouts: prevouts[n]! })));
    for (const [n, a] of anchors.entries()) {
      const r = results[n]!;
      expect(r.error).toBeUndefined();
      expect(files[n]).toBe(a.rawTx);
      expect(r.txid).toBe(a.txid);
      expect(r.inputs.length).toBeGreaterThan(0);
      expect(r.inputs.every((i) => i.valid), JSON.stringify(r.inputs)).toBe(true);
      expect(r.fee).toBe(expectedAnchorFee(a.rawTx, r.weight, FEE_RATE));
      // The commitment recomputed from node3's copy of block H (its hash computed here, its state root),
      // and no interval fingerprints on this chain (the zero interval root).
      const { block } = await api(node3.api, coreRoutes.getBlock, { params: { height: a.height } });
      const header = block.header as unknown as BlockHeader;
      const commitment = checkpointPayload(checkpointOf(chainId, { height: a.height, blockHash: blockHash(header), stateRoot: header.stateRoot, intervalRoot: intervalRoot([]) }));
      expect(r.opReturns).toHaveLength(1);
      expect(r.opReturns[0]!.pushes).toEqual([Buffer.from(commitment).toString('hex')]);
    }
  }, 120_000);

  it('restarts re-anchor nothing: node0 running the service itself, anchor run taking over, node0 crashing under it', async () => {
    const before = await anchorsOn(node0);
    const serving = () => waitFor(async () => (await api(node0.api, coreRoutes.status, {})).height > 0, 'node0 serves again', 120_000, 250);
    const restartNode0 = async (signal: NodeJS.Signals) => {
      const child = nodeChildren.get(node0.name)!;
      child.kill(signal);
      await exited(child);
      startValidator(node0);
      await serving();
    };
    // node0's home has anchor.json now: restarted, the node runs the service in its own process.
    await restartNode0('SIGTERM');
    await waitFor(async () => (await anchorCount()) >= before.length + 2, "two more anchors by node0's own service", 180_000, 250);
    const refused = await gl(['-o', 'json', 'anchor', 'run', '--once']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr).error.code).toBe('ANCHOR_SERVICE_RUNNING');
    // Stopped cleanly, the node releases the home; `anchor run` takes over.
    const stoppedNode = nodeChildren.get(node0.name)!;
    stoppedNode.kill('SIGTERM');
    await exited(stoppedNode);
    const service = startAnchorRun();
    // The operator starts node0 again once `anchor run` serves the home (its claim names its process);
    // started together, either could claim first.
    const claimant = () => (existsSync(anchorPaths(anchorHome).lock) ? readFileSync(anchorPaths(anchorHome).lock, 'utf8').trim() : '');
    await waitFor(async () => claimant() === String(service.pid), 'anchor run claims the home', 60_000, 100);
    startValidator(node0);
    await serving();
    const atTakeOver = await anchorCount();
    await waitFor(async () => (await anchorCount()) >= atTakeOver + 2, 'two more anchors by anchor run', 180_000, 250);
    // node0 crashes and comes back under the running service: it must leave the home to `anchor run`.
    await restartNode0('SIGKILL');
    const atCrash = await anchorCount();
    await waitFor(async () => (await anchorCount()) >= atCrash + 3, 'three more anchors after node0 crashed', 300_000, 250);
    await stopAnchorRun(service);
    expect(readFileSync(join(node0.home, 'node.log'), 'utf8')).toContain('anchor service not started: it already runs for this home');
    await allCaughtUp();
    const after = await anchorsOn(node0);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.map((a) => a.sequence)).toEqual(after.map((_, n) => n));
    expect(new Set(after.map((a) => a.height)).size).toBe(after.length);
    // Each anchor spends the previous one's receiver output: the coin chain is unbroken across the restarts.
    for (let n = 1; n < after.length; n++) expect(parseBitcoinTx(after[n]!.rawTx).inputs.map((i) => `${i.txid}:${i.vout}`)).toEqual([`${after[n - 1]!.txid}:1`]);
    // One transaction file and one journal entry per recorded checkpoint: nothing built twice or lost.
    expect(hexFiles()).toEqual(after.map((a) => `${a.height}-${a.txid}.hex`).sort());
    const journal = new AnchorJournal(anchorPaths(anchorHome).journal).entries();
    expect(journal.map((e) => [e.height, e.txid])).toEqual(after.map((a) => [a.height, a.txid]));
    for (const n of manifest.nodes.slice(1)) expect(await anchorsOn(n), n.name).toEqual(after);
    // node0's own service stays off while anchor.json is set aside for the rest (records by hand below).
    renameSync(anchorPaths(anchorHome).config, `${anchorPaths(anchorHome).config}.off`);
    await restartNode0('SIGTERM');
  }, 900_000);

  it('verify anchor passes against every node once the including block is recorded, and names a wrong transaction, another header and a tampered store', async () => {
    const anchors = await anchorsOn(node0);
    const a = anchors[1]!;
    // The operator records the including block (a synthetic regtest block: no Bitcoin network here).
    const block = blockWith(a.txid, 2, 7, { time: 1_795_000_000 });
    const inclusion = join(dir, 'inclusion.json');
    writeFileSync(inclusion, JSON.stringify({ blockHeader: block.header, blockHash: block.hash, blockHeight: 4242, branch: block.branch }));
    await ok(['--from', 'anchor', '--wait', '--wait-seconds', '60', 'tx', 'anchor', 'confirm', '--height', String(a.height), '--inclusion', inclusion]);
    await allCaughtUp();
    for (const n of manifest.nodes) {
      const verified = await gl(['-o', 'json', 'verify', 'anchor', '--height', String(a.height)], n);
      expect(verified.code, `${n.name}: ${verified.stderr}`).toBe(0);
      expect(oneJson(verified)).toMatchObject({ ok: true, status: 'confirmed', txid: a.txid, anchoredIn: { blockHeight: 4242, blockHash: block.hash, time: 1_795_000_000 } });
    }
    const node1 = manifest.nodes[1]!;

    // A different transaction (the next checkpoint's anchor) in place of the recorded one.
    const wrongTx = join(dir, 'wrong.hex');
    writeFileSync(wrongTx, `${anchors[2]!.rawTx}\n`);
    const wrong = await gl(['-o', 'json', 'verify', 'anchor', '--height', String(a.height), '--raw-tx', wrongTx], node1);
    expect(wrong.code).toBe(1);
    expect(oneJson(wrong).failure).toMatchObject({ check: 'transaction', code: 'ANCHOR_BTC_TXID_MISMATCH' });
    expect(JSON.parse(wrong.stderr).error.code).toBe('ANCHOR_BTC_TXID_MISMATCH');
    // The recorded transaction with one byte of its OP_RETURN changed: another txid.
    const raw = a.rawTx;
    const at = raw.indexOf('4752444c') + 20;
    writeFileSync(wrongTx, `${raw.slice(0, at)}${raw[at] === '0' ? '1' : '0'}${raw.slice(at + 1)}\n`);
    const edited = await gl(['-o', 'json', 'verify', 'anchor', '--height', String(a.height), '--raw-tx', wrongTx], node1);
    expect(edited.code).toBe(1);
    expect(oneJson(edited).failure).toMatchObject({ check: 'transaction', code: 'ANCHOR_BTC_TXID_MISMATCH' });
    // Another block's header.
    const headerFile = join(dir, 'header.hex');
    writeFileSync(headerFile, `${blockWith(a.txid, 2, 7, { time: 1_795_000_600 }).header}\n`);
    const other = await gl(['-o', 'json', 'verify', 'anchor', '--height', String(a.height), '--header', headerFile], node1);
    expect(other.code).toBe(1);
    expect(oneJson(other).failure).toMatchObject({ check: 'inclusion', code: 'ANCHOR_BTC_BLOCK_HASH_MISMATCH' });

    // A copy of node1's store with block H's state root changed, served by a node of its own.
    const copy = await tamperedCopy(node1, (db) => {
      const row = db.prepare('SELECT block FROM blocks WHERE height = ?').get(a.height) as { block: string };
      const stored = JSON.parse(row.block);
      stored.header.stateRoot = 'ee'.repeat(32);
      db.prepare('UPDATE blocks SET block = ? WHERE height = ?').run(JSON.stringify(stored), a.height);
    });
    const served = await startNode(copy, { apiPort: 0, logger: pino({ level: 'silent' }), anchorService: false });
    tampered.push(served);
    const bad = await cli(['--home', copy, '--node', served.url, '-o', 'json', 'verify', 'anchor', '--height', String(a.height)]);
    expect(bad.code).toBe(1);
    const failure = oneJson(bad).failure;
    expect(failure).toMatchObject({ check: 'checkpoint', code: 'ANCHOR_CHECKPOINT_MISMATCH' });
    expect(failure.message).toContain(`block ${a.height + 1} links to`);
    expect(JSON.parse(bad.stderr).error.code).toBe('ANCHOR_CHECKPOINT_MISMATCH');
  }, 300_000);

  /**
   * A full node's home made from a copy of a validator's: the store copied with SQLite's online backup
   * (the validator keeps running) and `change` applied to the copy; no validator key, no peers, its
   * own P2P port.
   */
  async function tamperedCopy(node: DevnetNode, change: (db: Database.Database) => void): Promise<string> {
    const copy = join(dir, `${node.name}-tampered`);
    cpSync(node.home, copy, { recursive: true, filter: (src) => !src.startsWith(paths(node.home).data) && !/validator\.json$|node\.log$/.test(src) });
    mkdirSync(paths(copy).data, { recursive: true });
    const source = new Database(paths(node.home).db, { readonly: true });
    try {
      await source.backup(paths(copy).db);
    } finally {
      source.close();
    }
    const db = new Database(paths(copy).db);
    try {
      change(db);
    } finally {
      db.close();
    }
    const config = JSON.parse(readFileSync(paths(copy).config, 'utf8'));
    config.p2p = { ...config.p2p, port: 0, persistentPeers: [] };
    writeFileSync(paths(copy).config, JSON.stringify(config, null, 2));
    return copy;
  }
});

