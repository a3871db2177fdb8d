import { collection } from '../../app/collections.js';
import type { KVStore } from '../../app/state.js';
import { padKey } from '../../app/state.js';
import type { TimedTxRef as TxRef } from '../../app/tx-ref.js';
export type { TimedTxRef as TxRef } from '../../app/tx-ref.js';

/**
 * Payments state layout (all keys under "payments/"):
 *   payments/params                                   → PaymentsParams
 *   payments/asset/<asset>                            → Asset (supply and the held aggregates)
 *   payments/bal/<address>/<asset>                    → BalanceRow: free balance, and where its history rows end
 *   payments/hist/<address>/<height16>/<asset>/<chunk16>
 *                                                     → HistoryRow: the changes of that balance in that block,
 *                                                       in execution order, up to 8 per row (each with its tx)
 *   payments/deposit/<issuer>/<ref>                   → DepositRecord (a deposit reference mints once)
 *   payments/payout/<issuer>/<ref>                    → redemption id (a payout reference burns once)
 *   payments/reserve/<asset>/<seq16>                  → ReserveAttestation
 *   payments/counter/<kind>                           → last number used for ids r<n>, e<n>, ch<n>
 *   payments/redeem/<id>                              → Redemption
 *   payments/pending/<asset>/<id>                     → 1 while the redemption waits for the issuer
 *   payments/escrow/<id>                              → Escrow (id e<n>, or <module>/<ref> for module escrows)
 *   payments/channel/<id>                             → Channel
 *   payments/lock/<module>/<ref>                      → Lock (deleted when emptied)
 *   payments/party/<address>/<kind>/<height16>/<id>   → id: redemptions, escrows, channels and locks per account
 *
 * Amounts are decimal strings of micro-units (see amount.ts).
 *
 * History is packed per balance and block: a transfer changes two balances, and one key per change
 * would double the keys a transfer writes (each key written in a block costs an LtHash update and a
 * SQLite row). The balance row, read and written by every change anyway, says how many history rows
 * its balance has at the latest height, so appending needs no lookup. Rows hold at most
 * HISTORY_ROW_ENTRIES entries: a balance changed many times in one block re-encodes a short row,
 * never a long one. Balance rows are kept at zero (they carry that position).
 */


/** Amounts of an asset that are out of free balances, by where they are held. */
export interface Held {
  redeeming: string;
  locked: string;
  escrowed: string;
  channels: string;
}
export type HeldBucket = keyof Held;

export interface ReserveAttestation {
  asset: string;
  seq: number;
  /** Attested fiat reserve, micro-units. */
  reserve: string;
  /** Supply when the attestation was recorded. */
  supply: string;
  ref?: string;
  memo?: string;
  by: string;
  at: TxRef;
}

export interface Asset {
  id: string;
  code: string;
  scope?: string;
  name: string;
  decimals: number;
  issuer: string;
  /** Minted − burned. Invariant: supply = Σ free balances + Σ held. */
  supply: string;
  minted: string;
  burned: string;
  held: Held;
  attestations: number;
  reserve?: ReserveAttestation;
  createdAt: TxRef;
}

export type HistoryKind =
  | 'mint'
  | 'transfer-in'
  | 'transfer-out'
  | 'redeem-lock'
  | 'redeem-paid-out'
  | 'redeem-rejected'
  | 'escrow-deposit'
  | 'escrow-release'
  | 'escrow-refund'
  | 'escrow-split'
  | 'channel-deposit'
  | 'channel-payout'
  | 'channel-refund'
  | 'lock'
  | 'unlock'
  | 'lock-payment-in'
  | 'lock-payment-out';

export interface HistoryEntry {
  address: string;
  asset: string;
  /** Signed change of the free balance (0 for notes such as a completed redemption). */
  delta: string;
  /** Free balance after the change. */
  balance: string;
  kind: HistoryKind;
  /** Redemption, escrow, channel or lock id, or the deposit / payout reference. */
  ref?: string;
  counterparty?: string;
  memo?: string;
  height: number;
  time: number;
  txHash: string;
  msgIndex: number;
}

export interface BalanceRow {
  /** Free balance, micro-units. */
  a: string;
  /** Height of the balance's latest history row, and how many rows it has there. */
  h: number;
  c: number;
}

/** A history entry as stored: the row's key carries the address, the height and the asset. */
export type StoredHistoryEntry = Omit<HistoryEntry, 'address' | 'height' | 'asset'>;
export interface HistoryRow {
  e: StoredHistoryEntry[];
}
export const HISTORY_ROW_ENTRIES = 8;

export interface DepositRecord {
  issuer: string;
  ref: string;
  asset: string;
  to: string;
  amount: string;
  at: TxRef;
}

export interface Redemption {
  id: string;
  asset: string;
  holder: string;
  amount: string;
  status: 'pending' | 'completed' | 'rejected';
  memo?: string;
  requestedAt: TxRef;
  payoutRef?: string;
  reason?: string;
  closedAt?: TxRef;
}

export interface Dispute {
  by: string;
  reason: string;
  at: TxRef;
  proposal?: { payeeAmount: string; payerAmount: string; by: string; at: TxRef };
  /** Payer and/or payee who rejected the current proposal. */
  rejections: string[];
  /** New mediator each of payer and payee signed for (after both rejected). */
  nominations: Record<string, string>;
  /** Mediators replaced so far, oldest first. */
  replaced: string[];
}

export interface Escrow {
  id: string;
  /** `user`: opened by a message, m-of-n rules; `module`: driven by the owning module through the keeper. */
  kind: 'user' | 'module';
  /** Owning module of a module escrow. */
  owner?: string;
  asset: string;
  amount: string;
  payer: string;
  payee: string;
  /** payer, payee, mediator (if any), then the other parties. */
  parties: string[];
  mediator?: string;
  threshold: number;
  deadlineHeight?: number;
  deadlineTime?: number;
  status: 'open' | 'released' | 'refunded' | 'split' | 'closed';
  approvals: { release: string[]; refund: string[] };
  dispute?: Dispute;
  /** Paid out so far (a module escrow may pay out in parts); both sum to `amount` once closed. */
  paidToPayee: string;
  paidToPayer: string;
  memo?: string;
  openedAt: TxRef;
  closedAt?: TxRef;
}

export interface Channel {
  id: string;
  buyer: string;
  seller: string;
  asset: string;
  deposit: string;
  /** Block time (ms) from which the seller can no longer close and the buyer may reclaim. */
  refundTime: number;
  status: 'open' | 'closed' | 'reclaimed';
  memo?: string;
  openedAt: TxRef;
  /** Set when closed or reclaimed: payout + refund = deposit. */
  payout?: string;
  refund?: string;
  voucher?: { amount: string; wh: number; seq: number };
  closedAt?: TxRef;
}

export interface Lock {
  /** <module>/<ref> */
  id: string;
  module: string;
  account: string;
  asset: string;
  /** What remains locked. */
  amount: string;
  original: string;
  lockedAt: TxRef;
}

export type PartyKind = 'redeem' | 'escrow' | 'channel' | 'lock';

const assets = collection<Asset>('payments/asset/');
/** id: [address, asset] */
const balances = collection<BalanceRow>('payments/bal/');
/** id: [address, height, asset, chunk] */
const history = collection<HistoryRow>('payments/hist/');
/** id: [issuer, ref] */
const deposits = collection<DepositRecord>('payments/deposit/');
const payouts = collection<string>('payments/payout/');
/** id: [asset, seq] */
const reserves = collection<ReserveAttestation>('payments/reserve/');
const counters = collection<number>('payments/counter/');
const redemptions = collection<Redemption>('payments/redeem/');
/** id: [asset, redemption id] */
const pending = collection<number>('payments/pending/');
const escrows = collection<Escrow>('payments/escrow/');
const channels = collection<Channel>('payments/channel/');
const locks = collection<Lock>('payments/lock/');
/** id: [address, kind, height, id] */
const parties = collection<string>('payments/party/');

export const ZERO_HELD: Held = { redeeming: '0', locked: '0', escrowed: '0', channels: '0' };

// ── assets ──

export function getAsset(store: KVStore, id: string): Asset | undefined {
  return assets.get(store, id);
}
/** Existence only (no decoding): the hot path of transfers. */
export function hasAsset(store: KVStore, id: string): boolean {
  return assets.has(store, id);
}
export function putAsset(store: KVStore, asset: Asset): void {
  assets.put(store, asset, asset.id);
}
export function listAssets(store: KVStore): Asset[] {
  return assets.list(store);
}

// ── balances and history ──

export function getBalanceRow(store: KVStore, address: string, asset: string): BalanceRow | undefined {
  return balances.get(store, address, asset);
}
export function getBalance(store: KVStore, address: string, asset: string): bigint {
  return BigInt(balances.get(store, address, asset)?.a ?? '0');
}
/** Every free balance row of an account (zero ones included), in asset order. */
export function accountBalances(store: KVStore, address: string): Array<{ asset: string; amount: string }> {
  return balances.entries(store, [address]).map(([id, row]) => ({ asset: id.slice(address.length + 1), amount: row.a }));
}
/** Every balance row of every account (for audits and tests; not used by rules). */
export function allBalances(store: KVStore): Array<{ address: string; asset: string; amount: string }> {
  return balances.entries(store).map(([id, row]) => {
    const [address, asset] = id.split('/') as [string, string];
    return { address, asset, amount: row.a };
  });
}

/**
 * Writes a balance change: the new free balance and its history entry, appended to the balance's
 * last row at this height (`row` is the balance row before the change, undefined if none).
 */
export function bookChange(store: KVStore, row: BalanceRow | undefined, entry: HistoryEntry): void {
  const { address, height, asset, ...stored } = entry;
  let rows = 1;
  if (row && row.h === height) {
    const last = history.get(store, address, height, asset, row.c - 1)!;
    if (last.e.length < HISTORY_ROW_ENTRIES) {
      history.put(store, { e: [...last.e, stored] }, address, height, asset, row.c - 1);
      rows = row.c;
    } else {
      history.put(store, { e: [stored] }, address, height, asset, row.c);
      rows = row.c + 1;
    }
  } else {
    history.put(store, { e: [stored] }, address, height, asset, 0);
  }
  balances.put(store, { a: entry.balance, h: height, c: rows }, address, asset);
}

/**
 * An account's balance changes, newest first, optionally of one asset, below a height or after a
 * cursor: `next` (given when more follow) names the last entry returned — its row
 * "<height>/<asset>/<row>" and its place in the row — so the next page starts exactly after it,
 * however many entries share its height.
 */
export function listHistory(store: KVStore, address: string, options: { asset?: string; beforeHeight?: number; after?: string; limit: number }): { entries: HistoryEntry[]; next?: string } {
  const prefix = `${history.key(address)}/`;
  const found: Array<{ entry: HistoryEntry; cursor: string }> = [];
  const wanted = options.limit + 1; // one beyond the page tells whether `next` is due
  /** Takes a row's entries below `below` (newest first); true once the page and one more are found. */
  const take = (suffix: string, row: HistoryRow, below = row.e.length): boolean => {
    const [heightPart, asset] = suffix.split('/') as [string, string];
    if (options.asset !== undefined && asset !== options.asset) return false;
    for (let i = below - 1; i >= 0; i--) {
      found.push({ entry: { address, height: Number(heightPart), asset, ...row.e[i]! }, cursor: `${suffix}/${i}` });
      if (found.length >= wanted) return true;
    }
    return false;
  };
  let end = options.beforeHeight !== undefined ? `${prefix}${padKey(options.beforeHeight)}` : undefined;
  const after = options.after !== undefined ? parseHistoryCursor(options.after) : undefined;
  let full = false;
  if (after) {
    const row = store.get<HistoryRow>(prefix + after.row);
    full = row !== undefined && take(after.row, row, Math.min(after.index, row.e.length));
    end = prefix + after.row;
  }
  const PAGE = 200;
  while (!full) {
    const page = store.scan<HistoryRow>(prefix, { ...(end !== undefined ? { end } : {}), reverse: true, limit: PAGE });
    for (const [key, row] of page) if ((full = take(key.slice(prefix.length), row))) break;
    if (page.length < PAGE) break;
    end = page[page.length - 1]![0];
  }
  const entries = found.slice(0, options.limit);
  return { entries: entries.map((f) => f.entry), ...(found.length > options.limit ? { next: entries[entries.length - 1]!.cursor } : {}) };
}

/** "<height>/<asset>/<row>/<index>" → the row's key suffix and the entry's index in it. */
function parseHistoryCursor(cursor: string): { row: string; index: number } {
  const cut = cursor.lastIndexOf('/');
  return { row: cursor.slice(0, cut), index: Number(cursor.slice(cut + 1)) };
}

// ── references ──

export function getDeposit(store: KVStore, issuer: string, ref: string): DepositRecord | undefined {
  return deposits.get(store, issuer, ref);
}
export function putDeposit(store: KVStore, d: DepositRecord): void {
  deposits.put(store, d, d.issuer, d.ref);
}
export function getPayout(store: KVStore, issuer: string, ref: string): string | undefined {
  return payouts.get(store, issuer, ref);
}
export function putPayout(store: KVStore, issuer: string, ref: string, redemptionId: string): void {
  payouts.put(store, redemptionId, issuer, ref);
}

// ── reserve attestations ──

export function putAttestation(store: KVStore, a: ReserveAttestation): void {
  reserves.put(store, a, a.asset, a.seq);
}
export function listAttestations(store: KVStore, asset: string, limit: number): ReserveAttestation[] {
  return reserves.list(store, [asset], { reverse: true, limit });
}

// ── ids ──

/** The next number for ids of a kind (r1, e1, ch1, …). */
export function nextNumber(store: KVStore, kind: 'redeem' | 'escrow' | 'channel'): number {
  const n = (counters.get(store, kind) ?? 0) + 1;
  counters.put(store, n, kind);
  return n;
}

// ── redemptions ──

export function getRedemption(store: KVStore, id: string): Redemption | undefined {
  return redemptions.get(store, id);
}
export function putRedemption(store: KVStore, r: Redemption): void {
  redemptions.put(store, r, r.id);
  if (r.status === 'pending') pending.put(store, 1, r.asset, r.id);
  else pending.delete(store, r.asset, r.id);
}
export function pendingRedemptionIds(store: KVStore, asset: string): string[] {
  return pending.entries(store, [asset]).map(([id]) => id.slice(asset.length + 1));
}
export function listRedemptions(store: KVStore): Redemption[] {
  return redemptions.list(store);
}

// ── escrows, channels, locks ──

export function getEscrow(store: KVStore, id: string): Escrow | undefined {
  return escrows.get(store, id);
}
export function putEscrow(store: KVStore, e: Escrow): void {
  escrows.put(store, e, e.id);
}
export function listEscrows(store: KVStore): Escrow[] {
  return escrows.list(store);
}

export function getChannel(store: KVStore, id: string): Channel | undefined {
  return channels.get(store, id);
}
export function putChannel(store: KVStore, c: Channel): void {
  channels.put(store, c, c.id);
}
export function listChannels(store: KVStore): Channel[] {
  return channels.list(store);
}

export function getLock(store: KVStore, id: string): Lock | undefined {
  return locks.get(store, id);
}
export function putLock(store: KVStore, lock: Lock): void {
  locks.put(store, lock, lock.id);
}
export function deleteLock(store: KVStore, id: string): void {
  locks.delete(store, id);
}
export function listLocks(store: KVStore): Lock[] {
  return locks.list(store);
}

// ── per-account index ──

export function indexParty(store: KVStore, address: string, kind: PartyKind, height: number, id: string): void {
  parties.put(store, id, address, kind, height, id);
}
export function unindexParty(store: KVStore, address: string, kind: PartyKind, height: number, id: string): void {
  parties.delete(store, address, kind, height, id);
}
/** Ids of an account's redemptions, escrows, channels or locks, newest first. */
export function partyIds(store: KVStore, address: string, kind: PartyKind): string[] {
  return parties.list(store, [address, kind], { reverse: true });
}
