import type { KVStore } from '../../app/state.js';
import { padKey } from '../../app/state.js';
import type { BitcoinMerkleBranch, BitcoinNetwork } from '../../bitcoin/index.js';
import type { TxRef } from '../../app/tx-ref.js';
export type { TxRef } from '../../app/tx-ref.js';

/**
 * Anchor state layout (all keys under "anchor/"):
 *   anchor/params                              → AnchorParams
 *   anchor/last-checkpoint                     → height of the latest checkpoint
 *   anchor/item-seq                            → number of items collected so far (the next item's sequence)
 *   anchor/item/<commitHeight16>/<seq16>       → Item: an interval fingerprint, keyed by the height of the
 *                                                block that committed it, then in commit order
 *   anchor/by-item/<item>                      → ItemRef {height, seq} (the first time the item was collected)
 *   anchor/checkpoint/<height16>               → CheckpointRecord
 *   anchor/anchor/<height16>                   → AnchorRecord (the Bitcoin transaction, later its block)
 *   anchor/anchor-count                        → number of anchor records (the wallet's swap sequence)
 *   anchor/status/pending/<height16>           → 1 while the checkpoint has no anchor record
 *   anchor/status/recorded/<height16>          → 1 while its anchor is recorded but not confirmed
 *
 * A checkpoint at height H covers the items committed in blocks (previous checkpoint, H]: they are one
 * contiguous key range, so taking a checkpoint moves nothing.
 */

export interface AnchorParams {
  /** K: a checkpoint every K blocks (of blocks whose height is a multiple of K). */
  checkpointInterval: number;
  /** The Bitcoin network anchors live on (fixes the addresses, and the proof-of-work limit verifiers apply). */
  network: BitcoinNetwork;
}

export const DEFAULT_CHECKPOINT_INTERVAL = 3600;


export interface Item {
  /** The 32-byte item, lowercase hex (a meter's interval fingerprint). */
  item: string;
  kind: 'fingerprint';
  meterId: string;
  slot: number;
  /** Height of the block that committed it and the transaction. */
  height: number;
  seq: number;
  txHash: string;
}

export interface ItemRef {
  height: number;
  seq: number;
}

export interface CheckpointRecord {
  height: number;
  /** Hash of block `height`. */
  blockHash: string;
  /** State root after block `height`. */
  stateRoot: string;
  /** Merkle root of the items committed in blocks fromHeight..height (all zeros when none). */
  intervalRoot: string;
  /** SHA-256 of the chain id (the digest commits to it). */
  chainIdHash: string;
  /** The checkpoint digest (src/bitcoin checkpoint.ts); the OP_RETURN carries it. */
  digest: string;
  /** First block height whose items this checkpoint covers. */
  fromHeight: number;
  itemCount: number;
  /** Height of the block whose end took the checkpoint (height + 1). */
  takenAt: number;
}

export interface Confirmation {
  blockHash: string;
  blockHeight: number;
  /** The header's time field (Unix seconds, set by the miner). */
  blockTime: number;
  blockHeader: string;
  merkleRoot: string;
  branch: BitcoinMerkleBranch;
  confirmedBy: string;
  confirmedAt: TxRef;
}

export interface AnchorRecord {
  height: number;
  txid: string;
  wtxid: string;
  rawTx: string;
  /** Index of the OP_RETURN output. */
  outputIndex: number;
  /** How many anchors were recorded before this one (the HD wallet's swap sequence). */
  sequence: number;
  recordedBy: string;
  recordedAt: TxRef;
  confirmation?: Confirmation;
}

export type AnchorStatus = 'pending' | 'recorded' | 'confirmed';

const LAST_CHECKPOINT = 'anchor/last-checkpoint';
const ITEM_SEQ = 'anchor/item-seq';
const ITEM = 'anchor/item/';
const BY_ITEM = 'anchor/by-item/';
const CHECKPOINT = 'anchor/checkpoint/';
const ANCHOR = 'anchor/anchor/';
const ANCHOR_COUNT = 'anchor/anchor-count';

export function lastCheckpointHeight(store: KVStore): number | undefined {
  return store.get<number>(LAST_CHECKPOINT);
}

export function nextItemSeq(store: KVStore): number {
  return store.get<number>(ITEM_SEQ) ?? 0;
}

const itemKey = (height: number, seq: number) => `${ITEM}${padKey(height)}/${padKey(seq)}`;

/** Appends an item in commit order; the index keeps the first collection of an item. */
export function putItem(store: KVStore, item: Omit<Item, 'seq'>): Item {
  const seq = nextItemSeq(store);
  const stored: Item = { ...item, seq };
  store.set(itemKey(item.height, seq), stored);
  store.set(ITEM_SEQ, seq + 1);
  if (!store.has(BY_ITEM + item.item)) store.set(BY_ITEM + item.item, { height: item.height, seq } satisfies ItemRef);
  return stored;
}

export function itemRef(store: KVStore, item: string): ItemRef | undefined {
  return store.get<ItemRef>(BY_ITEM + item);
}

/** How many items blocks up to `height` collected: sequence numbers follow heights, so it is the first later item's number (or all of them). */
export function itemCountThrough(store: KVStore, height: number): number {
  const later = store.scan<Item>(ITEM, { start: `${ITEM}${padKey(height + 1)}/`, limit: 1 })[0];
  return later ? later[1].seq : nextItemSeq(store);
}

/** Items committed in blocks fromHeight..toHeight (inclusive), in commit order. */
export function itemsBetween(store: KVStore, fromHeight: number, toHeight: number): Item[] {
  if (toHeight < fromHeight) return [];
  return store.scan<Item>(ITEM, { start: `${ITEM}${padKey(fromHeight)}/`, end: `${ITEM}${padKey(toHeight + 1)}/` }).map(([, i]) => i);
}

const STATUS = 'anchor/status/';
const statusKey = (status: 'pending' | 'recorded', height: number) => `${STATUS}${status}/${padKey(height)}`;

export function putCheckpoint(store: KVStore, c: CheckpointRecord): void {
  store.set(CHECKPOINT + padKey(c.height), c);
  store.set(LAST_CHECKPOINT, c.height);
  store.set(statusKey('pending', c.height), 1);
}

/** Heights of checkpoints in a status, ascending (an index kept by the rules: no scan over all checkpoints). */
export function heightsWithStatus(store: KVStore, status: 'pending' | 'recorded', options: { after?: number; limit: number }): number[] {
  const prefix = `${STATUS}${status}/`;
  const start = options.after === undefined ? undefined : `${statusKey(status, options.after)}\u0000`;
  return store.scan<number>(prefix, { start, limit: options.limit }).map(([key]) => Number(key.slice(prefix.length)));
}

export function getCheckpoint(store: KVStore, height: number): CheckpointRecord | undefined {
  return store.get<CheckpointRecord>(CHECKPOINT + padKey(height));
}

/** The first checkpoint at or above `height` (the one that covers items committed at `height`). */
export function checkpointCovering(store: KVStore, height: number): CheckpointRecord | undefined {
  return store.scan<CheckpointRecord>(CHECKPOINT, { start: CHECKPOINT + padKey(height), limit: 1 })[0]?.[1];
}

export function listCheckpoints(store: KVStore, options: { after?: number; limit: number; reverse?: boolean }): CheckpointRecord[] {
  const bound = options.after === undefined ? undefined : CHECKPOINT + padKey(options.after);
  const range = options.reverse ? { end: bound } : { start: bound === undefined ? undefined : `${bound}\u0000` };
  return store.scan<CheckpointRecord>(CHECKPOINT, { ...range, limit: options.limit, reverse: options.reverse }).map(([, c]) => c);
}

export function getAnchor(store: KVStore, height: number): AnchorRecord | undefined {
  return store.get<AnchorRecord>(ANCHOR + padKey(height));
}

/** Stores an anchor record and moves its checkpoint's status index along (pending → recorded → confirmed). */
export function putAnchor(store: KVStore, a: AnchorRecord, isNew: boolean): void {
  store.set(ANCHOR + padKey(a.height), a);
  if (isNew) {
    store.set(ANCHOR_COUNT, anchorCount(store) + 1);
    store.delete(statusKey('pending', a.height));
  }
  if (a.confirmation) store.delete(statusKey('recorded', a.height));
  else store.set(statusKey('recorded', a.height), 1);
}

export function anchorCount(store: KVStore): number {
  return store.get<number>(ANCHOR_COUNT) ?? 0;
}

export function listAnchors(store: KVStore, options: { after?: number; limit: number; reverse?: boolean }): AnchorRecord[] {
  const bound = options.after === undefined ? undefined : ANCHOR + padKey(options.after);
  const range = options.reverse ? { end: bound } : { start: bound === undefined ? undefined : `${bound}\u0000` };
  return store.scan<AnchorRecord>(ANCHOR, { ...range, limit: options.limit, reverse: options.reverse }).map(([, a]) => a);
}

export function statusOf(anchor: AnchorRecord | undefined): AnchorStatus {
  if (!anchor) return 'pending';
  return anchor.confirmation ? 'confirmed' : 'recorded';
}

/** A page of the items committed in blocks fromHeight..toHeight, after `cursor` ("height/seq" of the last item seen). */
export function itemsPage(store: KVStore, fromHeight: number, toHeight: number, cursor: ItemRef | undefined, limit: number): Item[] {
  if (toHeight < fromHeight) return [];
  const start = cursor ? `${itemKey(cursor.height, cursor.seq)}\u0000` : `${ITEM}${padKey(fromHeight)}/`;
  return store.scan<Item>(ITEM, { start, end: `${ITEM}${padKey(toHeight + 1)}/`, limit }).map(([, i]) => i);
}
