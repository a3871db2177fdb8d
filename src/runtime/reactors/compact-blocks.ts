import { blockSchema, MAX_BLOCK_TXS, type Block } from '../../codec/block.js';
import { signedTxJson, signedTxSchema, txHash, type SignedTx } from '../../codec/tx.js';
import { hasExactly } from './wire.js';

/**
 * Compact proposals (ADR 0021): a proposal's block travels with each transaction as its hash; the
 * validators already hold almost all of them (pending or being admitted), so they fill the block
 * from their own pools and ask the sending peer only for the few they lack ("fill" → "filled").
 * The block's header commits to every transaction with its signature (`txRoot`), so whatever is
 * filled is checked against the signed proposal before consensus sees it.
 */

const HASH_RE = /^[0-9a-f]{64}$/;

const compactJsonCache = new WeakMap<Block, string>();

/** The block as JSON with every transaction replaced by its hash; computed once per block object. */
export function compactBlockJson(block: Block): string {
  const cached = compactJsonCache.get(block);
  if (cached !== undefined) return cached;
  const hashes = block.txs.map((tx) => `"${txHash(tx.body)}"`).join(',');
  const json = `{"header":${JSON.stringify(block.header)},"txs":[${hashes}],"lastCommit":${JSON.stringify(block.lastCommit)},"evidence":${JSON.stringify(block.evidence)}}`;
  compactJsonCache.set(block, json);
  return json;
}

/** A proposal's block with the transactions this node could not fill yet. */
export interface PartialBlock {
  readonly rest: Omit<Block, 'txs'>;
  readonly txs: Array<SignedTx | undefined>;
  /** Indexes of transactions taken from this node's pools by hash (their signatures may differ from the block's), ascending. */
  readonly local: number[];
  /** The hash each compact entry named (undefined for whole transactions). */
  readonly hashes: ReadonlyArray<string | undefined>;
}

export interface TxSources {
  /** A transaction this node already decoded and admitted, when `raw` is exactly it (see LedgerNode.knownTx). */
  knownTx(raw: unknown): SignedTx | undefined;
  /** The transaction with this hash that this node holds (pending or being admitted), if any. */
  txWithHash(hash: string): SignedTx | undefined;
}

/**
 * The block of a received proposal, full or compact (entries may be transaction hashes), checked
 * against the block schema; undefined when malformed. Transactions this node holds are its own
 * decoded objects; only the others go through the schema.
 */
export function parseProposalBlock(raw: unknown, sources: TxSources): PartialBlock | undefined {
  const txs = (raw as { txs?: unknown } | null)?.txs;
  if (!Array.isArray(txs) || txs.length > MAX_BLOCK_TXS) return undefined;
  const filled: Array<SignedTx | undefined> = new Array(txs.length);
  const hashes: Array<string | undefined> = new Array(txs.length);
  const local: number[] = [];
  const toParse: unknown[] = [];
  const parsedAt: number[] = [];
  for (let i = 0; i < txs.length; i++) {
    const entry: unknown = txs[i];
    if (typeof entry === 'string') {
      if (!HASH_RE.test(entry)) return undefined;
      hashes[i] = entry;
      filled[i] = sources.txWithHash(entry);
      if (filled[i] !== undefined) local.push(i);
      continue;
    }
    filled[i] = sources.knownTx(entry);
    if (filled[i] === undefined) {
      toParse.push(entry);
      parsedAt.push(i);
    }
  }
  const parsed = blockSchema.safeParse({ ...(raw as object), txs: toParse });
  if (!parsed.success) return undefined;
  parsedAt.forEach((at, j) => (filled[at] = parsed.data.txs[j] as SignedTx));
  const { txs: _txs, ...rest } = parsed.data as Block;
  return { rest, txs: filled, local, hashes };
}

/** The partial block with the missing transactions looked up again (they may have arrived meanwhile). */
export function refill(partial: PartialBlock, sources: TxSources): PartialBlock {
  const txs = partial.txs.slice();
  const added: number[] = [];
  txs.forEach((tx, i) => {
    const hash = partial.hashes[i];
    if (tx !== undefined || hash === undefined) return;
    txs[i] = sources.txWithHash(hash);
    if (txs[i] !== undefined) added.push(i);
  });
  if (added.length === 0) return partial;
  return { ...partial, txs, local: [...partial.local, ...added].sort((a, b) => a - b) };
}

/** Indexes of the transactions a partial block still lacks. */
export function missingOf(partial: PartialBlock): number[] {
  const missing: number[] = [];
  partial.txs.forEach((tx, i) => tx === undefined && missing.push(i));
  return missing;
}

export function completed(partial: PartialBlock): Block | undefined {
  return partial.txs.every((tx) => tx !== undefined) ? { ...partial.rest, txs: partial.txs as SignedTx[] } : undefined;
}

/** `{"fill": {blockHash, indexes}}`: ascending distinct indexes. */
export interface FillRequest {
  blockHash: string;
  indexes: number[];
}

/** A well-formed fill request, or undefined. */
export function asFillRequest(x: unknown): FillRequest | undefined {
  if (!hasExactly(x, ['blockHash', 'indexes'])) return undefined;
  const { blockHash, indexes } = x as { blockHash: unknown; indexes: unknown };
  if (typeof blockHash !== 'string' || !HASH_RE.test(blockHash) || !ascendingIndexes(indexes)) return undefined;
  return { blockHash, indexes };
}

/** The reply to a fill request: the transactions at those indexes, as JSON spliced from their cached encodings. */
export function filledJson(blockHash: string, block: Block, indexes: readonly number[]): string {
  const txs = indexes.map((i) => signedTxJson(block.txs[i]!)).join(',');
  return `{"filled":{"blockHash":"${blockHash}","indexes":${JSON.stringify(indexes)},"txs":[${txs}]}}`;
}

/** A well-formed reply: as many schema-valid transactions as indexes. */
export function asFilled(x: unknown): { blockHash: string; indexes: number[]; txs: SignedTx[] } | undefined {
  if (!hasExactly(x, ['blockHash', 'indexes', 'txs'])) return undefined;
  const { blockHash, indexes, txs } = x as { blockHash: unknown; indexes: unknown; txs: unknown };
  if (typeof blockHash !== 'string' || !HASH_RE.test(blockHash) || !ascendingIndexes(indexes)) return undefined;
  if (!Array.isArray(txs) || txs.length !== indexes.length) return undefined;
  const parsed = signedTxSchema.array().safeParse(txs);
  return parsed.success ? { blockHash, indexes, txs: parsed.data as SignedTx[] } : undefined;
}

function ascendingIndexes(x: unknown): x is number[] {
  if (!Array.isArray(x) || x.length === 0 || x.length > MAX_BLOCK_TXS) return false;
  for (let i = 0; i < x.length; i++) {
    const n: unknown = x[i];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n >= MAX_BLOCK_TXS || (i > 0 && n <= (x[i - 1] as number))) return false;
  }
  return true;
}
