/**
 * ADR 0024: a lone validator prepares its proposal with the state tree on a worker thread before the
 * height starts, and the engine's buildBlock gets that block. Real ledger nodes and a real worker;
 * every block is compared with a node that computes everything on its main thread.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Block, Commit } from '../../src/codec/block.js';
import { signTx, type SignedTx } from '../../src/codec/tx.js';
import type { BlockContext } from '../../src/consensus/index.js';
import type { LedgerNode } from '../../src/ledger/ledger.js';
import { account } from '../helpers/chain.js';
import { LedgerNodes } from '../helpers/ledger-node.js';
import { driverOn } from '../helpers/virtual-driver.js';
import { StateTreeWorker } from '../../src/ledger/state-tree-worker.js';
import { STATE_TREE_ROOT_META } from '../../src/app/host.js';
import { emptyStateTree, encodeRoot } from '../../src/app/state-tree.js';
import '../../src/app/smt-node.js';

const nodes = new LedgerNodes('tw');
afterAll(() => nodes.close());
const { operator, validator } = nodes;

let nonce = 0;
beforeEach(() => {
  nonce = 0; // every test starts fresh nodes
});
function admissions(count: number): SignedTx[] {
  return Array.from({ length: count }, () => {
    const n = nonce++;
    return signTx({ chainId: 'tw', sender: operator.address, nonce: n, expiresAtHeight: 1000, msgs: [{ type: 'registry/admit', value: { address: account(`tw-${n}`).address, roles: ['consumer'] } }], memo: '' }, operator.signer);
  });
}

function contextFor(node: LedgerNode, time: number): BlockContext {
  const previous = node.storedBlock(node.height);
  return { height: node.height + 1, round: 0, time, proposer: validator.address, lastCommit: previous?.commit ?? null, evidence: [] };
}

/** Both nodes commit the same block (a lone validator's commit carries no checked signature here). */
function commitOn(block: Block, hash: string, ...on: LedgerNode[]): void {
  const commit: Commit = { height: block.header.height, round: 0, blockHash: hash, signatures: [] };
  for (const node of on) node.commitDecided(block, commit);
}

const prepared = async (node: LedgerNode): Promise<number> => (await node.metrics.preparedProposals.get()).values[0]?.value ?? 0;

describe('proposals prepared with the state tree on a worker (ADR 0024)', () => {
  it('are the blocks the engine gets, with the roots of a node that computes inline', async () => {
    const worker = nodes.make({ maxTxs: 5000, nonceWindow: 5000 }, { stateTreeWorker: true });
    const inline = nodes.make({ maxTxs: 5000, nonceWindow: 5000 });
    expect(worker.preparesOffThread).toBe(true);
    expect(inline.preparesOffThread).toBe(false);
    for (let b = 1; b <= 8; b++) {
      for (const tx of admissions(b * 15)) {
        worker.submitTx(JSON.parse(JSON.stringify(tx)));
        inline.submitTx(JSON.parse(JSON.stringify(tx)));
      }
      const ctx = contextFor(worker, b * 1000);
      await worker.prepareProposal(ctx);
      const built = worker.buildBlock(ctx);
      const reference = inline.buildBlock(ctx);
      expect(built.blockHash).toBe(reference.blockHash);
      expect(built.block.header.stateRoot).toBe(reference.block.header.stateRoot);
      expect(built.block.txs).toHaveLength(b * 15);
      commitOn(built.block, built.blockHash, worker, inline);
      expect(await prepared(worker)).toBe(b);
    }
    expect(worker.app.stateRoot).toBe(inline.app.stateRoot);
    expect(worker.app.recomputeStateRoot()).toBe(worker.app.stateRoot);
  });

  it('are not used for another context: the block is built anew for the one asked', async () => {
    const node = nodes.make({ maxTxs: 100, nonceWindow: 100 }, { stateTreeWorker: true });
    for (const tx of admissions(5)) node.submitTx(tx);
    await node.prepareProposal(contextFor(node, 5000));
    const built = node.buildBlock(contextFor(node, 6000));
    expect(built.block.header.time).toBe(6000);
    expect(built.block.txs).toHaveLength(5);
    expect(await prepared(node)).toBe(0);
  });

  it('are dropped when a block commits while the tree is on the worker, and the next one is right again', async () => {
    const node = nodes.make({ maxTxs: 100, nonceWindow: 100 }, { stateTreeWorker: true });
    const inline = nodes.make({ maxTxs: 100, nonceWindow: 100 });
    const txs = admissions(10);
    for (const tx of txs) {
      node.submitTx(JSON.parse(JSON.stringify(tx)));
      inline.submitTx(JSON.parse(JSON.stringify(tx)));
    }
    const preparing = node.prepareProposal(contextFor(node, 1000));
    // Another block is decided meanwhile (e.g. block sync): built inline from the same mempool.
    const other = inline.buildBlock(contextFor(inline, 1001));
    commitOn(other.block, other.blockHash, node, inline);
    await preparing;
    const next = contextFor(node, 2000);
    expect(node.buildBlock(next).block.header.height).toBe(2);
    expect(await prepared(node)).toBe(0);
    for (const tx of admissions(7)) {
      node.submitTx(JSON.parse(JSON.stringify(tx)));
      inline.submitTx(JSON.parse(JSON.stringify(tx)));
    }
    const ctx = contextFor(node, 3000);
    await node.prepareProposal(ctx);
    const built = node.buildBlock(ctx);
    expect(await prepared(node)).toBe(1);
    expect(built.blockHash).toBe(inline.buildBlock(ctx).blockHash);
  });

  it('fall back to the tree on the main thread when the worker dies, and stop preparing off the thread', async () => {
    const node = nodes.make({ maxTxs: 100, nonceWindow: 100 }, { stateTreeWorker: true });
    const inline = nodes.make({ maxTxs: 100, nonceWindow: 100 });
    for (const tx of admissions(6)) {
      node.submitTx(JSON.parse(JSON.stringify(tx)));
      inline.submitTx(JSON.parse(JSON.stringify(tx)));
    }
    const ctx = contextFor(node, 1000);
    const preparing = node.prepareProposal(ctx);
    await node['treeWorker']!['worker']!.terminate();
    await preparing;
    expect(node.preparesOffThread).toBe(false);
    const built = node.buildBlock(ctx);
    expect(await prepared(node)).toBe(1);
    expect(built.blockHash).toBe(inline.buildBlock(ctx).blockHash);
  });
});

describe('a state-tree worker that does not answer (ADR 0024)', () => {
  it('is ended after its answer timeout, the request answered "compute it yourself", and the failure reported', async () => {
    const node = nodes.make({ maxTxs: 100, nonceWindow: 100 });
    const failures: string[] = [];
    // 1 ms: the worker is still loading when the time is up — to the node, the same as a stuck one.
    const worker = new StateTreeWorker(node.options.dbPath, undefined, (reason) => failures.push(reason), 1);
    const answer = await worker.compute(1, encodeRoot(emptyStateTree()), new Map([['m/a', '1']]));
    expect(answer).toBeNull();
    expect(worker.running).toBe(false);
    expect(failures).toEqual(['the state-tree worker did not answer request 1 within 1 ms']);
    expect(await worker.compute(1, encodeRoot(emptyStateTree()), new Map())).toBeNull();
  });
});

describe('a state-tree worker that refuses (ADR 0024)', () => {
  it('is ended when its mirror lost track of the committed rows, the request answered "compute it yourself"', async () => {
    const node = nodes.make({ maxTxs: 100, nonceWindow: 100 });
    const failures: string[] = [];
    const worker = new StateTreeWorker(node.options.dbPath, undefined, (reason) => failures.push(reason));
    const root = new Uint8Array(node.storage.getMeta(STATE_TREE_ROOT_META)!); // genesis
    expect(await worker.compute(1, root, new Map([['m/a', '1']]))).not.toBeNull();
    worker['post']({ type: 'committed', id: 999, held: true, flushed: false }); // a block it never computed
    expect(await worker.compute(1, root, new Map([['m/a', '1']]))).toBeNull();
    await settleUntil(() => !worker.running);
    expect(worker.running).toBe(false);
    expect(failures).toEqual(['the state-tree worker refused request 2: the block of answer 999 is no longer known']);
  });
});

async function settleUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 2));
}

describe('the driver starts a height once its proposal is prepared (ADR 0024)', () => {
  const settle = async (done: () => boolean): Promise<void> => {
    // The worker thread starts in the background (from src/ it loads TypeScript through tsx: ~1 s).
    for (let i = 0; i < 5000 && !done(); i++) await new Promise((r) => setTimeout(r, 2));
  };

  /** The driver's calls to prepareProposal: the context times asked for, and the preparations. */
  function watchPreparations(node: LedgerNode): { times: number[]; running: Array<Promise<void>> } {
    const seen = { times: [] as number[], running: [] as Array<Promise<void>> };
    const prepare = node.prepareProposal.bind(node);
    node.prepareProposal = (ctx) => {
      seen.times.push(ctx.time);
      const p = prepare(ctx);
      seen.running.push(p);
      return p;
    };
    return seen;
  }

  it('with the clock reading taken before preparing, so the engine asks for the prepared context', async () => {
    const { node, clock, driver, admit } = driverOn(nodes, 'tw', { timing: { blockTimeMs: 1000, emptyBlockIntervalMs: 60_000, proposeAtTxs: 5, minBlockIntervalMs: 50 }, stateTreeWorker: true });
    const seen = watchPreparations(node);
    driver.start();
    try {
      clock.advance(200);
      await settle(() => node.height === 1); // the heartbeat block of an idle chain
      expect(await prepared(node)).toBe(1);
      admit(5);
      clock.advance(50);
      expect(seen.times).toHaveLength(2);
      expect(node.height).toBe(1); // not yet: the tree is on the worker
      clock.advance(30); // the clock moves on meanwhile
      await settle(() => node.height === 2);
      expect(await prepared(node)).toBe(2);
      const header = node.getBlock(2)!.block.header;
      expect(header.time).toBe(seen.times[1]);
      expect(clock.now() - header.time).toBeGreaterThanOrEqual(30);
      expect(node.getBlock(2)!.block.txs).toHaveLength(5);
    } finally {
      driver.stop();
    }
  });

  it('a peer message for the height starts it at once, and the preparation is not used', async () => {
    const { node, clock, driver, admit } = driverOn(nodes, 'tw', { timing: { blockTimeMs: 1000, emptyBlockIntervalMs: 60_000, proposeAtTxs: 3, minBlockIntervalMs: 50 }, stateTreeWorker: true });
    const seen = watchPreparations(node);
    driver.start();
    try {
      clock.advance(200);
      await settle(() => node.height === 1);
      admit(3);
      clock.advance(50);
      expect(seen.running).toHaveLength(2); // preparing height 2
      const stranger = account('stranger');
      driver.onPeerMessage({ type: 'vote', now: clock.now(), vote: { chainId: 'tw', type: 'prevote', height: 2, round: 0, blockHash: null, timestamp: clock.now(), validator: stranger.address, signature: '00'.repeat(64) } }, 'peer');
      expect(node.height).toBe(2); // started and decided inline, without waiting for the worker
      await Promise.all(seen.running);
      expect(await prepared(node)).toBe(1); // only the heartbeat block's
      expect(node.height).toBe(2);
      expect(node.getBlock(2)!.block.txs).toHaveLength(3);
    } finally {
      driver.stop();
    }
  });

  it('starts the height without the preparation when it is not ready within the propose timeout', async () => {
    const warnings: string[] = [];
    const { node, clock, driver, admit } = driverOn(nodes, 'tw', { timing: { blockTimeMs: 1000, emptyBlockIntervalMs: 60_000, proposeAtTxs: 3, minBlockIntervalMs: 50 }, stateTreeWorker: true, observer: { warn: (m) => void warnings.push(m) } });
    const seen = watchPreparations(node);
    driver.start();
    try {
      clock.advance(200);
      await settle(() => node.height === 1);
      let askedAt = 0;
      node.prepareProposal = () => {
        askedAt = clock.now();
        return new Promise<void>(() => {}); // a preparation that never ends
      };
      admit(3);
      clock.advance(50);
      expect(askedAt).toBeGreaterThan(0);
      expect(node.height).toBe(1);
      clock.advance(askedAt + 999 - clock.now());
      expect(node.height).toBe(1); // still within the propose timeout (1 s)
      clock.advance(1);
      expect(node.height).toBe(2); // started and decided with the block built on the main thread
      expect(node.getBlock(2)!.block.txs).toHaveLength(3);
      expect(warnings).toEqual(['the proposal for height 2 was not prepared within the propose timeout; building it on the main thread']);
      expect(seen.times).toHaveLength(1); // the heartbeat block's (the stuck one replaced the watcher)
    } finally {
      driver.stop();
    }
  });
});
