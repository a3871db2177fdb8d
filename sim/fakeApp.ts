/**
 * A tiny deterministic application for the consensus simulator: a block carries a list of tx ids,
 * and the state root is a hash chain over them. A tx id starting with "INVALID" makes a block invalid,
 * so a faulty proposer can be simulated and "nothing invalid is committed" can be checked.
 */
import { canonicalBytes } from '../src/util/canonical.js';
import { toHex } from '../src/util/bytes.js';
import { sha256 } from '../src/crypto/hash.js';
import type { BlockContext, BlockValidation, ConsensusApp } from '../src/consensus/engine.js';
import type { Commit, Evidence } from '../src/consensus/index.js';

export interface FakeBlock {
  readonly height: number;
  readonly time: number;
  readonly proposer: string;
  readonly prevHash: string | null;
  readonly lastCommit: Commit | null;
  readonly evidence: readonly Evidence[];
  readonly txs: readonly string[];
  readonly stateRoot: string;
}

export const GENESIS_ROOT = '00'.repeat(32);

export function fakeBlockHash(block: FakeBlock): string {
  return toHex(sha256(canonicalBytes(block)));
}

export function nextStateRoot(prevRoot: string, txs: readonly string[]): string {
  return toHex(sha256(canonicalBytes({ prevRoot, txs })));
}

export interface FakeAppOptions {
  /** Extra tx ids this node puts into its blocks (a twin uses it to build conflicting blocks). */
  readonly flavour?: string;
  /** Builds blocks that every honest node must reject. */
  readonly buildsInvalidBlocks?: boolean;
}

export class FakeApp implements ConsensusApp<FakeBlock> {
  #lastHash: string | null = null;
  #lastRoot = GENESIS_ROOT;
  #height = 0;
  readonly #options: FakeAppOptions;

  constructor(options: FakeAppOptions = {}) {
    this.#options = options;
  }

  get height(): number {
    return this.#height;
  }

  buildBlock(ctx: BlockContext): { blockHash: string; block: FakeBlock } {
    const txs = [`tx-${ctx.height}-a`, `tx-${ctx.height}-b`];
    if (this.#options.flavour) txs.push(`${this.#options.flavour}-${ctx.height}-${ctx.round}`);
    if (this.#options.buildsInvalidBlocks) txs.push(`INVALID-${ctx.height}-${ctx.round}`);
    const block: FakeBlock = {
      height: ctx.height,
      time: ctx.time,
      proposer: ctx.proposer,
      prevHash: this.#lastHash,
      lastCommit: ctx.lastCommit,
      evidence: ctx.evidence,
      txs,
      stateRoot: nextStateRoot(this.#lastRoot, txs),
    };
    return { blockHash: fakeBlockHash(block), block };
  }

  validateBlock(height: number, block: FakeBlock): BlockValidation {
    if (block.height !== height || height !== this.#height + 1) return { ok: false, reason: 'wrong height' };
    if (block.prevHash !== this.#lastHash) return { ok: false, reason: 'wrong previous hash' };
    if (block.txs.some((t) => t.startsWith('INVALID'))) return { ok: false, reason: 'invalid transaction' };
    if (block.stateRoot !== nextStateRoot(this.#lastRoot, block.txs)) return { ok: false, reason: 'wrong state root' };
    return {
      ok: true,
      blockHash: fakeBlockHash(block),
      info: { time: block.time, proposer: block.proposer, lastCommit: block.lastCommit, evidence: block.evidence },
    };
  }

  apply(block: FakeBlock, blockHash: string): void {
    if (block.height !== this.#height + 1) throw new Error(`apply: height ${block.height} after ${this.#height}`);
    this.#height = block.height;
    this.#lastHash = blockHash;
    this.#lastRoot = block.stateRoot;
  }
}
