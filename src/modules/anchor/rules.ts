import type { KeepersOf, ModuleContext } from '../../app/module.js';
import { chainIdHash, checkpointDigest, intervalRoot, parseBlockHeader, verifyAnchorInclusion, verifyAnchorTx, type Checkpoint } from '../../bitcoin/index.js';
import type { ReadingEvent } from '../metering/keeper.js';
import { E } from './errors.js';
import type { ConfirmMsg, RecordMsg } from './messages.js';
import {
  anchorCount,
  getAnchor,
  getCheckpoint,
  itemsBetween,
  lastCheckpointHeight,
  putAnchor,
  putCheckpoint,
  putItem,
  type AnchorParams,
  type AnchorRecord,
  type CheckpointRecord,
} from './state.js';

export const REQUIRES = ['registry', 'metering'] as const;

export type AnchorContext = ModuleContext<KeepersOf<typeof REQUIRES>, AnchorParams>;

const ITEM_RE = /^[0-9a-f]{64}$/;

/**
 * `metering.readingAccepted` subscriber: a reading that carries an interval fingerprint (the meter
 * edge's hash chain over the slot's raw samples, docs/edge.md) adds it to the next checkpoint's
 * interval tree. Readings without one add nothing, so without a meter edge every interval root is the
 * zero root. It never throws: a subscriber that throws would reject the reading.
 */
export function collectFingerprint(ctx: AnchorContext, event: ReadingEvent): void {
  const fingerprint = event.reading.fingerprint;
  if (typeof fingerprint !== 'string' || !ITEM_RE.test(fingerprint)) return;
  putItem(ctx.store, { item: fingerprint, kind: 'fingerprint', meterId: event.reading.meterId, slot: event.reading.slot, height: ctx.height, txHash: ctx.txHash });
}

/** The checkpoint (library form) a record describes: what the digest and the OP_RETURN commit to. */
export function checkpointOf(chainId: string, c: Pick<CheckpointRecord, 'height' | 'blockHash' | 'stateRoot' | 'intervalRoot'>): Checkpoint {
  return { chainId, height: c.height, blockHash: c.blockHash, stateRoot: c.stateRoot, intervalRoot: c.intervalRoot };
}

/**
 * End of block H + 1 where H is a positive multiple of K: the checkpoint of block H, from the previous
 * block's hash and state root that the host hands to this block's execution, and the items committed
 * in blocks (previous checkpoint, H]. Items of block H + 1 itself belong to the next checkpoint.
 */
export function takeCheckpoint(ctx: AnchorContext): void {
  const previous = ctx.previous;
  const height = ctx.height - 1;
  if (!previous || height < 1 || height % ctx.params.checkpointInterval !== 0) return;
  if (getCheckpoint(ctx.store, height)) return;
  const fromHeight = (lastCheckpointHeight(ctx.store) ?? 0) + 1;
  const items = itemsBetween(ctx.store, fromHeight, height);
  const root = intervalRoot(items.map((i) => i.item));
  const fields = { height, blockHash: previous.hash, stateRoot: previous.stateRoot, intervalRoot: root };
  putCheckpoint(ctx.store, {
    ...fields,
    chainIdHash: chainIdHash(ctx.chainId),
    digest: checkpointDigest(checkpointOf(ctx.chainId, fields)),
    fromHeight,
    itemCount: items.length,
    takenAt: ctx.height,
  });
}

function requireOperator(ctx: AnchorContext): void {
  if (!ctx.keepers.registry.isActive(ctx.sender, 'anchor-operator')) {
    throw E.ANCHOR_NOT_OPERATOR(`${ctx.sender} is not an admitted account with role anchor-operator`);
  }
}

function requireCheckpoint(ctx: AnchorContext, height: number): CheckpointRecord {
  const checkpoint = getCheckpoint(ctx.store, height);
  if (!checkpoint) {
    const k = ctx.params.checkpointInterval;
    throw E.ANCHOR_CHECKPOINT_NOT_FOUND(`no checkpoint at height ${height} (one is taken at the end of the block after every multiple of ${k})`);
  }
  return checkpoint;
}

/**
 * `anchor/record`: the raw transaction must hash to the txid and carry exactly one OP_RETURN whose
 * payload is the checkpoint digest this ledger computed itself (src/bitcoin verifyAnchorTx).
 */
export function recordAnchor(ctx: AnchorContext, msg: RecordMsg): void {
  requireOperator(ctx);
  const checkpoint = requireCheckpoint(ctx, msg.height);
  const existing = getAnchor(ctx.store, msg.height);
  if (existing) throw E.ANCHOR_ALREADY_RECORDED(`checkpoint ${msg.height} is already anchored by transaction ${existing.txid} (recorded at height ${existing.recordedAt.height})`);
  const check = verifyAnchorTx(msg.rawTx, msg.txid, checkpointOf(ctx.chainId, checkpoint));
  const record: AnchorRecord = {
    height: msg.height,
    txid: check.tx.txid,
    wtxid: check.tx.wtxid,
    rawTx: msg.rawTx,
    outputIndex: check.outputIndex,
    sequence: anchorCount(ctx.store),
    recordedBy: ctx.sender,
    recordedAt: { height: ctx.height, txHash: ctx.txHash },
  };
  putAnchor(ctx.store, record, true);
  ctx.emit('anchor.record', { height: msg.height, txid: record.txid, digest: checkpoint.digest });
}

/**
 * `anchor/confirm`: the header (80 bytes) hashes to the given block hash, if one is given, and the
 * txid's Merkle branch leads to the header's Merkle root (src/bitcoin verifyAnchorInclusion). The
 * header's proof of work is for verifiers to judge (`gridledger verify anchor`).
 */
export function confirmAnchor(ctx: AnchorContext, msg: ConfirmMsg): void {
  requireOperator(ctx);
  requireCheckpoint(ctx, msg.height);
  const anchor = getAnchor(ctx.store, msg.height);
  if (!anchor) throw E.ANCHOR_NOT_RECORDED(`no anchor transaction is recorded for checkpoint ${msg.height}`);
  if (anchor.confirmation) {
    throw E.ANCHOR_ALREADY_CONFIRMED(`the anchor of checkpoint ${msg.height} is already confirmed in Bitcoin block ${anchor.confirmation.blockHeight} (${anchor.confirmation.blockHash})`);
  }
  const blockHash = msg.blockHash ?? parseBlockHeader(msg.blockHeader).hash;
  const header = verifyAnchorInclusion(anchor.txid, { blockHeader: msg.blockHeader, blockHash, branch: msg.branch });
  putAnchor(
    ctx.store,
    {
      ...anchor,
      confirmation: {
        blockHash: header.hash,
        blockHeight: msg.blockHeight,
        blockTime: header.time,
        blockHeader: msg.blockHeader,
        merkleRoot: header.merkleRoot,
        branch: msg.branch,
        confirmedBy: ctx.sender,
        confirmedAt: { height: ctx.height, txHash: ctx.txHash },
      },
    },
    false,
  );
  ctx.emit('anchor.confirm', { height: msg.height, txid: anchor.txid, blockHash: header.hash, blockHeight: msg.blockHeight, blockTime: header.time });
}
