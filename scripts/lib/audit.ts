import { existsSync, readFileSync } from 'node:fs';
import { App, EVIDENCE_PREFIX } from '../../src/app/host.js';
import { blockHash, type Block, type Commit } from '../../src/codec/block.js';
import type { SignedMessage } from '../../src/consensus/engine.js';
import { loadGenesis, paths } from '../../src/home/home.js';
import { MODULE_CORES } from '../../src/modules/index.js';
import { parseWal } from '../../src/runtime/wal-file.js';
import { Storage } from '../../src/store/sqlite.js';
import { call, CallError, retrying, sleep, type ClusterNode } from './cluster.js';
import type { Acked } from './load.js';

/**
 * The durability and safety checks of the batteries:
 *  - offline, on a stopped node's home: every acknowledged transaction up to the stored height is
 *    there at the same height and index; the stored state root equals the latest header's and the
 *    root recomputed from the whole state table; no evidence is committed; and the validator's
 *    signed messages in its WAL never conflict with what it signed before (across all restarts);
 *  - online, over the nodes' APIs: every height has the same block hash on every node, no block
 *    carries evidence, and no validator has two different precommit signatures for one height and
 *    round in any commit any node stored.
 */

export class Violations {
  readonly list: string[] = [];
  add(what: string): void {
    this.list.push(what);
    process.stderr.write(`VIOLATION: ${what}\n`);
  }
}

export interface OfflineAudit {
  height: number;
  stateRoot: string;
  ackedChecked: number;
}

/** Signed messages by height/round/step, over every WAL read so far, per validator. */
export class SignedHistory {
  private readonly seen = new Map<string, string>();

  record(validator: string, messages: Array<SignedMessage<unknown>>, violations: Violations): void {
    for (const m of messages) {
      const key = m.kind === 'vote' ? `${validator}/${m.vote.height}/${m.vote.round}/${m.vote.type}` : `${validator}/${m.proposal.height}/${m.proposal.round}/proposal`;
      const content = m.kind === 'vote' ? `${m.vote.blockHash}|${m.vote.timestamp}|${m.vote.signature}` : `${m.proposal.blockHash}|${m.proposal.polRound}|${m.proposal.signature}`;
      const before = this.seen.get(key);
      if (before !== undefined && before !== content) violations.add(`double sign by ${validator} at ${key}: ${before} then ${content}`);
      this.seen.set(key, content);
    }
  }
}

export function auditOffline(node: ClusterNode, acked: ReadonlyMap<string, Acked>, history: SignedHistory, violations: Violations): OfflineAudit {
  const genesis = loadGenesis(node.home);
  const storage = new Storage(paths(node.home).db);
  try {
    const app = new App(storage, { chainId: genesis.chainId, modules: MODULE_CORES });
    const height = storage.latestHeight();
    const latest = height > 0 ? storage.getBlock(height) : undefined;
    const recomputed = app.recomputeStateRoot();
    if (latest && latest.block.header.stateRoot !== app.stateRoot) violations.add(`${node.name}: stored state root ${app.stateRoot} differs from header ${latest.block.header.stateRoot} at ${height}`);
    if (recomputed !== app.stateRoot) violations.add(`${node.name}: state root recomputed from the state table ${recomputed} differs from the stored ${app.stateRoot} at ${height}`);
    let ackedChecked = 0;
    for (const [hash, a] of acked) {
      if (a.height > height) continue; // not yet stored on this node (it was behind when killed)
      const tx = storage.getTx(hash);
      ackedChecked += 1;
      if (!tx) violations.add(`${node.name}: acknowledged tx ${hash} (height ${a.height}) is missing after the crash`);
      else if (tx.height !== a.height || tx.index !== a.index) violations.add(`${node.name}: acknowledged tx ${hash} moved from ${a.height}/${a.index} to ${tx.height}/${tx.index}`);
    }
    const evidence = storage.scanRaw(EVIDENCE_PREFIX);
    if (evidence.length > 0) violations.add(`${node.name}: ${evidence.length} evidence record(s) committed (a validator equivocated)`);
    if (existsSync(paths(node.home).wal)) {
      const { records } = parseWal<unknown>(readFileSync(paths(node.home).wal, 'utf8'), paths(node.home).wal);
      history.record(node.validator, records.flatMap((r) => (r.type === 'signed' ? [r.message] : [])), violations);
    }
    return { height, stateRoot: app.stateRoot, ackedChecked };
  } finally {
    storage.close();
  }
}

type TxStatus = { status: string; height?: number; index?: number };

/** GET /v1/txs/:hash, retried while the node is merely busy (connection caps, rate limit). */
async function lookUp(node: ClusterNode, hash: string): Promise<TxStatus> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call<TxStatus>(node.api, `/v1/txs/${hash}`, { timeoutMs: 10_000 });
    } catch (err) {
      // Busy (caps, rate limit, a timeout on a saturated machine): ask again; a real answer is final.
      const answered = err instanceof CallError && err.status !== 429 && err.status !== 503;
      if (answered || attempt >= 40) return { status: `error ${(err as Error).message}` };
      await sleep(250);
    }
  }
}

interface Envelope {
  hash: string;
  block: Block;
  commit: Commit;
}

/** Incremental cross-node comparison of the chain (each height fetched once per node). */
export class ChainChecker {
  private readonly hashes = new Map<number, string>();
  private readonly checkedUpTo = new Map<string, number>();
  private readonly precommits = new Map<string, string>();
  blocksChecked = 0;

  constructor(private readonly violations: Violations) {}

  /** Fetches the node's blocks from its last checked height up to `upTo` and compares them. */
  async check(node: ClusterNode, upTo: number): Promise<void> {
    for (let h = (this.checkedUpTo.get(node.name) ?? 0) + 1; h <= upTo; h++) {
      const env = await retrying(() => call<Envelope>(node.api, `/v1/blocks/${h}`, { timeoutMs: 10_000 }));
      this.blocksChecked += 1;
      if (blockHash(env.block.header) !== env.hash) this.violations.add(`${node.name}: block ${h} does not hash to its stored hash`);
      const known = this.hashes.get(h);
      if (known === undefined) this.hashes.set(h, env.hash);
      else if (known !== env.hash) this.violations.add(`fork at height ${h}: ${node.name} has ${env.hash}, another node ${known}`);
      if (env.block.evidence.length > 0) this.violations.add(`block ${h} carries ${env.block.evidence.length} evidence item(s) (a validator equivocated)`);
      for (const c of [env.commit, env.block.lastCommit]) {
        if (!c) continue;
        for (const s of c.signatures) {
          const key = `${c.height}/${c.round}/${s.validator}`;
          const before = this.precommits.get(key);
          if (before !== undefined && before !== s.signature) this.violations.add(`validator ${s.validator} has two precommit signatures at height ${c.height} round ${c.round}`);
          this.precommits.set(key, s.signature);
        }
      }
      this.checkedUpTo.set(node.name, h);
    }
  }

  /** Acknowledged transactions are committed at the same height and index on this node (a sample, or all). */
  async checkAcked(node: ClusterNode, acked: ReadonlyMap<string, Acked>, sample: number | 'all'): Promise<number> {
    const entries = [...acked];
    const chosen = sample === 'all' || entries.length <= sample ? entries : Array.from({ length: sample }, () => entries[Math.floor(Math.random() * entries.length)]!);
    for (const [hash, a] of chosen) {
      const got = await lookUp(node, hash);
      if (got.status !== 'committed' || got.height !== a.height || got.index !== a.index) {
        this.violations.add(`${node.name}: acknowledged tx ${hash} (${a.height}/${a.index}, reported by ${a.node}) is ${got.status} ${got.height ?? ''}/${got.index ?? ''}`);
      }
    }
    return chosen.length;
  }
}
