import { inclusionPath, intervalRoot } from '../../bitcoin/index.js';
import type { QueryContext } from '../../surface/index.js';
import { floorDiv } from '../../util/int.js';
import { E } from './errors.js';
import type { AnchorParams } from './state.js';
import {
  anchorCount,
  checkpointCovering,
  getAnchor,
  getCheckpoint,
  heightsWithStatus,
  itemRef,
  itemCountThrough,
  itemsBetween,
  lastCheckpointHeight,
  nextItemSeq,
  statusOf,
  type AnchorRecord,
  type CheckpointRecord,
  type Item,
} from './state.js';
import { checkpointOf } from './rules.js';
import { verifyCheckpointAnchor, type VerificationReport } from './verify.js';

/** Read-only answers of the anchor module's routes (deterministic: they read committed state only). */

export type AnchorQueryContext = QueryContext<unknown, AnchorParams>;

export interface CheckpointEntry extends CheckpointRecord {
  status: ReturnType<typeof statusOf>;
  txid?: string;
  bitcoinBlock?: { height: number; hash: string; time: number };
}

export function entryOf(checkpoint: CheckpointRecord, anchor: AnchorRecord | undefined): CheckpointEntry {
  const c = anchor?.confirmation;
  return {
    ...checkpoint,
    status: statusOf(anchor),
    ...(anchor ? { txid: anchor.txid } : {}),
    ...(c ? { bitcoinBlock: { height: c.blockHeight, hash: c.blockHash, time: c.blockTime } } : {}),
  };
}

export function requireCheckpoint(ctx: AnchorQueryContext, height: number): CheckpointRecord {
  const checkpoint = getCheckpoint(ctx.store, height);
  if (!checkpoint) throw E.ANCHOR_CHECKPOINT_NOT_FOUND(`no checkpoint at height ${height} (checkpoints are at multiples of ${ctx.params.checkpointInterval})`);
  return checkpoint;
}

/** The smallest multiple of K at or above the committed height whose checkpoint is not taken yet. */
function nextCheckpointHeight(height: number, k: number): number {
  const next = (floorDiv(height, k) + (height % k === 0 ? 0 : 1)) * k;
  return Math.max(next, k);
}

export function anchorStatus(ctx: AnchorQueryContext) {
  const last = lastCheckpointHeight(ctx.store);
  const latest = last === undefined ? undefined : getCheckpoint(ctx.store, last);
  const collected = nextItemSeq(ctx.store);
  const covered = last === undefined ? 0 : itemCountThrough(ctx.store, last);
  return {
    params: ctx.params,
    height: ctx.height,
    nextCheckpointHeight: nextCheckpointHeight(ctx.height, ctx.params.checkpointInterval),
    latest: latest ? entryOf(latest, getAnchor(ctx.store, latest.height)) : null,
    anchors: anchorCount(ctx.store),
    itemsCollected: collected,
    pendingItems: collected - covered,
  };
}

export function listCheckpointsByStatus(ctx: AnchorQueryContext, status: 'pending' | 'recorded', after: number | undefined, limit: number): CheckpointEntry[] {
  return heightsWithStatus(ctx.store, status, { after, limit }).map((h) => entryOf(getCheckpoint(ctx.store, h)!, getAnchor(ctx.store, h)));
}

/** The item, the checkpoint covering it and the path from the item to that checkpoint's interval root. */
export function inclusionOf(ctx: AnchorQueryContext, item: string) {
  const ref = itemRef(ctx.store, item);
  if (!ref) throw E.ANCHOR_ITEM_NOT_FOUND(`item ${item} was never collected for a checkpoint`);
  const checkpoint = checkpointCovering(ctx.store, ref.height);
  if (!checkpoint) {
    throw E.ANCHOR_ITEM_NOT_CHECKPOINTED(`item ${item} was committed at height ${ref.height}; the checkpoint covering it is taken after height ${nextCheckpointHeight(ref.height, ctx.params.checkpointInterval)}`);
  }
  const items = itemsBetween(ctx.store, checkpoint.fromHeight, checkpoint.height);
  const index = items.findIndex((i) => i.seq === ref.seq);
  const collected: Item = items[index]!;
  const anchor = getAnchor(ctx.store, checkpoint.height);
  return { item: collected, checkpoint, chainId: ctx.chainId, path: inclusionPath(items.map((i) => i.item), index), status: statusOf(anchor), txid: anchor?.txid ?? null };
}

/** The verification report from the ledger's own records (interval root recomputed from the stored items). */
export function verificationOf(ctx: AnchorQueryContext, height: number): VerificationReport {
  const recorded = requireCheckpoint(ctx, height);
  const items = itemsBetween(ctx.store, recorded.fromHeight, recorded.height).map((i) => i.item);
  const ledger = checkpointOf(ctx.chainId, { ...recorded, intervalRoot: intervalRoot(items) });
  return verifyCheckpointAnchor({ ledger, recorded, anchor: getAnchor(ctx.store, height), network: ctx.params.network });
}
