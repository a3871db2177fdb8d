/**
 * Crash safety: the node runs as a child process (`gridledger start`) and is killed with SIGKILL
 * repeatedly while a client streams signed registry transactions over HTTP. After every restart each
 * transaction the API had reported committed is still committed, the chain is contiguous, and at the
 * end replaying every stored block from genesis in a fresh App reproduces every stored header.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { App, applyValidatorUpdates } from '../../src/app/host.js';
import { ZERO_HASH, blockHash } from '../../src/codec/block.js';
import { signTx, txHash, type SignedTx } from '../../src/codec/tx.js';
import { loadGenesis, openKeyring, paths } from '../../src/home/home.js';
import { MODULE_CORES } from '../../src/modules/index.js';
import { Storage } from '../../src/store/sqlite.js';
import { account } from '../helpers/chain.js';
import { makeHome } from '../helpers/node.js';
import { freePort, startNodeProcess, stopNodeProcess, type NodeProcess } from './cli-helpers.js';

const KILLS = 5;
/** New committed transactions observed before each kill. */
const COMMITS_PER_ROUND = 12;

async function getJson(url: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url);
  return { status: res.status, json: await res.json() };
}

describe('crash safety under kill -9', () => {
  const { home } = makeHome({}, 50);
  let node: NodeProcess | undefined;
  const scratch = mkdtempSync(join(tmpdir(), 'gridledger-crash-copy-'));

  afterAll(async () => {
    if (node) await stopNodeProcess(node, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it(`loses no reported commit across ${KILLS} SIGKILLs; blocks are contiguous and replay reproduces every header`, async () => {
    // the child logs warnings only
    const config = JSON.parse(readFileSync(paths(home).config, 'utf8'));
    config.logLevel = 'warn';
    writeFileSync(paths(home).config, JSON.stringify(config, null, 2));
    const keyring = openKeyring(home, 'test');
    const admin = keyring.show('admin').address;
    const signer = keyring.signer('admin');
    const port = await freePort();
    /** hash → height, as reported committed by the API */
    const reported = new Map<string, number>();
    let serial = 0;
    const notOk: string[] = [];

    /** Streams admits of fresh addresses until `stop()` resolves true; records every reported commit. */
    async function stream(url: string, until: () => boolean): Promise<void> {
      const inFlight = new Set<Promise<void>>();
      while (!until()) {
        let next: number;
        try {
          next = (await getJson(`${url}/v1/accounts/${admin}/nonce`)).json.next as number;
        } catch {
          return; // node gone
        }
        const txs: SignedTx[] = [];
        for (let i = 0; i < 4; i++) {
          serial += 1;
          txs.push(signTx({ chainId: 'test-chain', sender: admin, nonce: next + i, expiresAtHeight: 1_000_000, msgs: [{ type: 'registry/admit', value: { address: account(`crash-${serial}`).address, roles: ['meter'] } }], memo: `c${serial}` }, signer));
        }
        for (const tx of txs) {
          try {
            const res = await fetch(`${url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(tx) });
            await res.text();
            if (res.status !== 200) continue;
          } catch {
            return;
          }
          const hash = txHash(tx.body);
          const p = getJson(`${url}/v1/txs/${hash}?wait=10`)
            .then(({ json }) => {
              if (json.status === 'committed') {
                if (json.result.code === 'OK') reported.set(hash, json.height as number);
                else notOk.push(`${hash}: ${json.result.code}`);
              }
            })
            .catch(() => undefined) // the node was killed while we waited
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
        // keep a few commits waiting, but do not race far ahead of the chain
        while (inFlight.size > 8 && !until()) await Promise.race(inFlight);
      }
    }

    /** Every reported tx is committed at its height; blocks 1..H exist and link by prevHash. */
    async function checkChain(url: string): Promise<number> {
      const status = (await getJson(`${url}/v1/status`)).json as { height: number; latestBlockHash: string };
      for (const [hash, height] of reported) {
        const { status: code, json } = await getJson(`${url}/v1/txs/${hash}`);
        expect(code, hash).toBe(200);
        expect(json).toMatchObject({ status: 'committed', height, result: { code: 'OK' } });
      }
      const maxReported = Math.max(0, ...reported.values());
      expect(status.height).toBeGreaterThanOrEqual(maxReported);
      let prev = ZERO_HASH;
      for (let h = 1; h <= status.height; h++) {
        const { status: code, json } = await getJson(`${url}/v1/blocks/${h}`);
        expect(code, `block ${h}`).toBe(200);
        expect(json.block.header.height).toBe(h);
        expect(json.block.header.prevHash, `prevHash of ${h}`).toBe(prev);
        expect(blockHash(json.block.header)).toBe(json.hash);
        prev = json.hash;
      }
      expect(prev).toBe(status.height === 0 ? ZERO_HASH : status.latestBlockHash);
      return status.height;
    }

    let lastHeight = 0;
    /** Restarts that found state-tree rows held in memory at the kill (ADR 0016) and recovered them. */
    let treeRecoveries = 0;
    for (let round = 0; round <= KILLS; round++) {
      node = await startNodeProcess(home, port);
      if (/state-tree rows of \d+ blocks brought up to date after an unclean stop \(from their journalled keys\)/.test(node.stderr())) treeRecoveries++;
      const height = await checkChain(node.url);
      expect(height).toBeGreaterThanOrEqual(lastHeight);
      lastHeight = height;
      if (round === KILLS) break;
      const target = reported.size + COMMITS_PER_ROUND;
      await stream(node.url, () => reported.size >= target);
      // kill -9 while transactions are still being submitted and waited for
      const streaming = stream(node.url, () => false);
      await new Promise((r) => setTimeout(r, 20 * round));
      const exit = await stopNodeProcess(node, 'SIGKILL');
      expect(exit.signal).toBe('SIGKILL');
      await streaming;
      node = undefined;
    }
    expect(reported.size).toBeGreaterThanOrEqual(KILLS * COMMITS_PER_ROUND);
    expect(notOk).toEqual([]);
    expect(treeRecoveries).toBeGreaterThan(0);

    // clean stop, then audit the stored chain offline on a copy of the database
    const exit = await stopNodeProcess(node!, 'SIGTERM');
    expect(exit.code).toBe(0);
    node = undefined;
    const dbCopy = join(scratch, 'ledger.db');
    copyFileSync(paths(home).db, dbCopy);
    for (const suffix of ['-wal', '-shm']) if (existsSync(paths(home).db + suffix)) copyFileSync(paths(home).db + suffix, dbCopy + suffix);
    const stored = new Storage(dbCopy);
    const replayStore = new Storage(':memory:');
    try {
      const H = stored.latestHeight();
      expect(H).toBe(lastHeight);
      for (const [hash, height] of reported) expect(stored.getTx(hash)?.height, hash).toBe(height);
      const genesis = loadGenesis(home);
      const replay = new App(replayStore, { chainId: genesis.chainId, modules: MODULE_CORES });
      let validators = applyValidatorUpdates(genesis.validators, []);
      replay.initGenesis(genesis);
      let prevHash = ZERO_HASH;
      for (let h = 1; h <= H; h++) {
        const row = stored.getBlock(h);
        expect(row, `block ${h}`).toBeDefined();
        const { block, hash, commit } = row!;
        expect(block.header.prevHash).toBe(prevHash);
        const executed = replay.executeBlock({ height: h, time: block.header.time, proposer: block.header.proposer, prevHash: block.header.prevHash, txs: block.txs, lastCommit: block.lastCommit, evidence: block.evidence, validators });
        validators = executed.nextValidators;
        expect(executed.block.header.stateRoot, `state root at ${h}`).toBe(block.header.stateRoot);
        expect(executed.block.header).toEqual(block.header);
        expect(executed.hash).toBe(hash);
        expect(executed.results).toEqual(executed.txHashes.map((t) => stored.getTx(t)!.result));
        replay.commitBlock(executed, commit);
        prevHash = hash;
      }
      // the stored state is exactly what the chain says
      const storedApp = new App(stored, { chainId: genesis.chainId, modules: MODULE_CORES });
      const latestRoot = stored.getBlock(H)!.block.header.stateRoot;
      expect(storedApp.recomputeStateRoot()).toBe(latestRoot);
      expect(storedApp.stateRoot).toBe(latestRoot);
      expect([...replayStore.allState()]).toEqual([...stored.allState()]);
      // and the node's state-tree rows (recovered after each kill, written at the clean stop) are the replay's
      replayStore.flushTreeRows();
      const treeRows = (s: Storage) => s.db.prepare<[], { path: Buffer; node: Buffer }>('SELECT path, node FROM state_tree ORDER BY path').all().map((r) => `${r.path.toString('hex')}:${r.node.toString('hex')}`);
      expect(treeRows(stored)).toEqual(treeRows(replayStore));
      expect(stored.treeRecovery).toBeUndefined(); // the clean stop wrote them
    } finally {
      stored.close();
      replayStore.close();
    }
  });
});
