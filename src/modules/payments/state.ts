import { collection, FILTER_SCAN_ROWS, type Collection, type Page } from '../../app/collections.js';
import type { ModuleQueryIndex, QueryIndexDef } from '../../app/query-index.js';
import type { KVStore } from '../../app/state.js';
import { padKey } from '../../app/state.js';
import { floorDiv } from '../../util/int.js';
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
/** Every asset (for audits and tests; the route answers pages, assetPage). */
export function listAssets(store: KVStore): Asset[] {
  return assets.list(store);
}
/** A page of assets in id order after `after` (exclusive). */
export function assetPage(store: KVStore, page: { after?: string; limit: number }): Page<Asset> {
  return assets.page(store, page);
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
/** Every redemption (for audits and tests; the route answers pages, redemptionPage). */
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
/** Every escrow (for audits and tests; the route answers pages, escrowPage). */
export function listEscrows(store: KVStore): Escrow[] {
  return escrows.list(store);
}

export function getChannel(store: KVStore, id: string): Channel | undefined {
  return channels.get(store, id);
}
export function putChannel(store: KVStore, c: Channel): void {
  channels.put(store, c, c.id);
}
/** Every channel (for audits and tests; the route answers pages, channelPage). */
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

// ── what an account has put aside, kept by the node for its queries only (ADR 0029 point 1) ──

/** The node's indexes of the records holding an account's funds: pending redemptions, open escrows it pays, open channels it funds. */
export const HELD_INDEXES = { redeeming: 'pending-redemptions-by-holder', escrowed: 'open-escrows-by-payer', channels: 'open-channels-by-buyer' } as const;

function heldIndex<T>(name: string, records: Collection<T>, holding: (record: T) => string | undefined): QueryIndexDef {
  return { name, version: 1, prefix: records.prefix, keysOf: (_key, value) => [holding(JSON.parse(value) as T)].filter((a): a is string => a !== undefined) };
}

export const paymentsQueryIndexes: readonly QueryIndexDef[] = [
  heldIndex(HELD_INDEXES.redeeming, redemptions, (r) => (r.status === 'pending' ? r.holder : undefined)),
  heldIndex(HELD_INDEXES.escrowed, escrows, (e) => (e.status === 'open' ? e.payer : undefined)),
  heldIndex(HELD_INDEXES.channels, channels, (c) => (c.status === 'open' ? c.buyer : undefined)),
];

/** Every record one of those indexes files under `address`, read a page of state keys at a time. */
export function heldRecords<T>(store: KVStore, index: ModuleQueryIndex, name: string, address: string): T[] {
  const out: T[] = [];
  let after: string | undefined;
  for (;;) {
    const keys = index.stateKeys(name, address, { limit: 1000, ...(after !== undefined ? { after } : {}) });
    for (const key of keys) {
      const value = store.get<T>(key);
      if (value !== undefined) out.push(value);
    }
    if (keys.length < 1000) return out;
    after = keys[keys.length - 1];
  }
}

// ── per-account index ──

export function indexParty(store: KVStore, address: string, kind: PartyKind, height: number, id: string): void {
  parties.put(store, id, address, kind, height, id);
}
export function unindexParty(store: KVStore, address: string, kind: PartyKind, height: number, id: string): void {
  parties.delete(store, address, kind, height, id);
}
/** Ids of an account's redemptions, escrows, channels or locks, newest first (every one: the balances' held amounts and the locks route). */
export function partyIds(store: KVStore, address: string, kind: PartyKind): string[] {
  return parties.list(store, [address, kind], { reverse: true });
}

// ── list pages (read side: ADR 0028, every list answer a page, a bounded read per request) ──
//
// A list request reads at most FILTER_SCAN_ROWS rows (a scan row or a point read each) and answers a
// page with an exact cursor: `next` is where the page ended (its last item, or the last candidate
// read when the rows ran out first: a short, even empty page whose `next` leads on), and paging to
// the end gives every matching item once, in the order each function names.
//
// Cursors: without a party, an id (r12, e7, ch3, market/bid/7); of a party, the position in its
// index, "<height16>/<id>".

/** Rows a list request may still read. */
interface RowBudget {
  left: number;
}

/** One candidate of a list in answer order: its cursor, and its record (undefined: read but not listed). */
type Candidate<T> = readonly [cursor: string, value: T | undefined];
/** Candidates in answer order; done with 'end' when the list is exhausted, 'budget' when the rows ran out first. */
type Candidates<T> = Generator<Candidate<T>, 'end' | 'budget'>;

/** Rows one scan reads: the page and one more, between 16 and 256. */
function chunkFor(limit: number): number {
  return Math.min(256, Math.max(16, limit + 1));
}

/** The first `limit` candidates `keep` accepts, and `next` (see above): one match beyond the page tells whether more follow. */
function pageOf<T>(candidates: Candidates<T>, keep: (value: T) => boolean, limit: number): Page<T> {
  const found: Array<Candidate<T>> = [];
  let last: string | undefined;
  let done: 'end' | 'budget' | undefined;
  while (found.length <= limit) {
    const step = candidates.next();
    if (step.done) {
      done = step.value;
      break;
    }
    last = step.value[0];
    if (step.value[1] !== undefined && keep(step.value[1])) found.push(step.value);
  }
  const items = found.slice(0, limit).map(([, value]) => value!);
  if (found.length > limit) return { items, next: found[limit - 1]![0] };
  return { items, ...(done === 'budget' && last !== undefined ? { next: last } : {}) };
}

/** The number of an id r<n>, e<n>, ch<n>. */
function idNumber(id: string): number {
  return Number(id.replace(/^[a-z]+/, ''));
}

/** Ids <letter><n> from n = `from` down to 1, a point read each. */
function* numberedDown<T>(store: KVStore, items: Collection<T>, letter: string, from: number, budget: RowBudget): Candidates<T> {
  for (let n = from; n >= 1; n--) {
    if (budget.left < 1) return 'budget';
    budget.left -= 1;
    yield [`${letter}${n}`, items.get(store, `${letter}${n}`)];
  }
  return 'end';
}

/** The number to count down from: below the cursor, or the last one used (a read of the counter). */
function startNumber(store: KVStore, kind: 'redeem' | 'escrow' | 'channel', after: string | undefined, budget: RowBudget): number {
  if (after !== undefined) return idNumber(after) - 1;
  budget.left -= 1;
  return counters.get(store, kind) ?? 0;
}

/** Keys of `prefix` in [start, end), in key order, `chunk` rows per scan. */
function* scanForward<T>(store: KVStore, prefix: string, range: { start: string; end?: string }, chunk: number, budget: RowBudget): Candidates<T> {
  let start = range.start;
  for (;;) {
    const want = Math.min(chunk, budget.left);
    if (want < 1) return 'budget';
    const rows = store.scan<T>(prefix, { start, ...(range.end !== undefined ? { end: range.end } : {}), limit: want });
    budget.left -= rows.length;
    for (const [key, value] of rows) yield [key.slice(prefix.length), value];
    if (rows.length < want) return 'end';
    start = `${rows[rows.length - 1]![0]}\u0000`;
  }
}

/**
 * A party's index of one kind in reverse key order (newest height first; within a height, ids in
 * descending text order) below the cursor "<height16>/<id>", each id's record read with it (two rows
 * per entry). `listedAt` may skip an entry (an escrow the party was indexed for twice).
 */
function* partyDown<T>(
  store: KVStore,
  address: string,
  kind: PartyKind,
  after: string | undefined,
  read: (id: string) => T | undefined,
  chunk: number,
  budget: RowBudget,
  listedAt?: (value: T, height: number) => boolean | 'budget',
): Candidates<T> {
  const prefix = `${parties.key(address, kind)}/`;
  let end = after !== undefined ? prefix + after : undefined;
  for (;;) {
    const want = Math.min(chunk, floorDiv(budget.left, 2));
    if (want < 1) return 'budget';
    const rows = store.scan<string>(prefix, { ...(end !== undefined ? { end } : {}), reverse: true, limit: want });
    budget.left -= 2 * rows.length;
    for (const [key, id] of rows) {
      const cursor = key.slice(prefix.length);
      const value = read(id);
      const listed = value === undefined || listedAt === undefined ? true : listedAt(value, Number(cursor.slice(0, 16)));
      if (listed === 'budget') return 'budget';
      yield [cursor, listed ? value : undefined];
    }
    if (rows.length < want) return 'end';
    end = rows[rows.length - 1]![0];
  }
}

/** Rows the check of a re-appointed mediator's earlier entry reads at most (see escrowListedAt). */
const REAPPOINTED_CHECK_ROWS = 1_000;

/**
 * Whether a party's index entry at `height` is where its list shows escrow `e`. Every party has one
 * entry per escrow except a mediator appointed again after it was replaced (one entry per
 * appointment): it sees the escrow once, at its first entry — the opening for the original mediator,
 * else found among its entries since the dispute (at most REAPPOINTED_CHECK_ROWS read; beyond that
 * the escrow is shown at each appointment).
 */
function escrowListedAt(store: KVStore, address: string, e: Escrow, height: number, budget: RowBudget): boolean | 'budget' {
  const mediators = [...(e.dispute?.replaced ?? []), ...(e.mediator !== undefined ? [e.mediator] : [])];
  if (mediators.filter((m) => m === address).length <= 1) return true;
  if (mediators[0] === address) return height === e.openedAt.height;
  if (budget.left < REAPPOINTED_CHECK_ROWS) return 'budget';
  const prefix = `${parties.key(address, 'escrow')}/`;
  const earlier = store.scan<string>(prefix, { start: prefix + padKey(e.dispute!.at.height), end: `${prefix}${padKey(height)}/${e.id}`, limit: REAPPOINTED_CHECK_ROWS });
  budget.left -= earlier.length;
  return !earlier.some(([, id]) => id === e.id);
}

/** The position in a party's index ("<height16>/<id>") or an id: which kind of cursor `after` is. */
export const PARTY_CURSOR = /^\d{16}\//;

export interface ListPage {
  after?: string;
  limit: number;
}

/** Rows of an asset's pending index one request sorts by number (beyond: the numbers are walked down). */
export const PENDING_SORT_ROWS = 5_000;

/**
 * Pending redemptions of an asset, newest first by number, below the id `after`, from the pending
 * index: read whole and sorted when it has at most PENDING_SORT_ROWS entries, else by walking the
 * numbers down with a point read of the pending key each (the same order either way). `read` gives
 * what is listed for an id (`cost` rows: 1 for the record, 0 for the id itself).
 */
function* pendingDown<T>(store: KVStore, asset: string, after: string | undefined, read: (id: string) => T | undefined, cost: number, budget: RowBudget): Candidates<T> {
  const prefix = `${pending.key(asset)}/`;
  const below = after !== undefined ? idNumber(after) : Infinity;
  const rows = store.scan<number>(prefix, { limit: PENDING_SORT_ROWS + 1 });
  budget.left -= rows.length;
  if (rows.length <= PENDING_SORT_ROWS) {
    const numbers = rows.map(([key]) => idNumber(key.slice(prefix.length))).filter((n) => n < below);
    for (const n of numbers.sort((a, b) => b - a)) {
      if (budget.left < cost) return 'budget';
      budget.left -= cost;
      yield [`r${n}`, read(`r${n}`)];
    }
    return 'end';
  }
  for (let n = startNumber(store, 'redeem', after, budget); n >= 1; n--) {
    if (budget.left < 1 + cost) return 'budget';
    budget.left -= 1;
    const id = `r${n}`;
    if (!pending.has(store, asset, id)) {
      yield [id, undefined];
      continue;
    }
    budget.left -= cost;
    yield [id, read(id)];
  }
  return 'end';
}

/** Ids of an asset's pending redemptions, newest first by number; `next` continues in redemptionPage (asset, pending). */
export function pendingRedemptionPage(store: KVStore, asset: string, page: ListPage): Page<string> {
  return pageOf(pendingDown(store, asset, page.after, (id) => id, 0, { left: FILTER_SCAN_ROWS }), () => true, page.limit);
}

/**
 * Redemptions that `keep` accepts: of a party from its index (newest height first, cursor
 * "<height16>/<id>"); of an asset's pending ones from the pending index; else every one, newest
 * first by number (cursor: the id).
 */
export function redemptionPage(store: KVStore, q: ListPage & { party?: string; pendingOf?: string }, keep: (r: Redemption) => boolean): Page<Redemption> {
  const budget = { left: FILTER_SCAN_ROWS };
  const read = (id: string) => redemptions.get(store, id);
  if (q.party !== undefined) return pageOf(partyDown(store, q.party, 'redeem', q.after, read, chunkFor(q.limit), budget), keep, q.limit);
  if (q.pendingOf !== undefined) return pageOf(pendingDown(store, q.pendingOf, q.after, read, 1, budget), keep, q.limit);
  return pageOf(numberedDown(store, redemptions, 'r', startNumber(store, 'redeem', q.after, budget), budget), keep, q.limit);
}

/** Channels that `keep` accepts: of a party from its index (as redemptionPage), else every one newest first by number. */
export function channelPage(store: KVStore, q: ListPage & { party?: string }, keep: (c: Channel) => boolean): Page<Channel> {
  const budget = { left: FILTER_SCAN_ROWS };
  if (q.party !== undefined) return pageOf(partyDown(store, q.party, 'channel', q.after, (id) => channels.get(store, id), chunkFor(q.limit), budget), keep, q.limit);
  return pageOf(numberedDown(store, channels, 'ch', startNumber(store, 'channel', q.after, budget), budget), keep, q.limit);
}

/** A user escrow's id (e<n>); module escrows are <module>/<ref>. */
const USER_ESCROW = /^e\d+$/;

/**
 * Escrows that `keep` accepts: of a party from its index (as redemptionPage; a mediator appointed
 * twice sees the escrow once, escrowListedAt); else the user escrows newest first by number, then the
 * module escrows in id order (the keys below "e0" and from "e:" — user ids e<n> lie between).
 */
export function escrowPage(store: KVStore, q: ListPage & { party?: string }, keep: (e: Escrow) => boolean): Page<Escrow> {
  const budget = { left: FILTER_SCAN_ROWS };
  const chunk = chunkFor(q.limit);
  if (q.party !== undefined) {
    const party = q.party;
    return pageOf(partyDown(store, party, 'escrow', q.after, (id) => escrows.get(store, id), chunk, budget, (e, height) => escrowListedAt(store, party, e, height, budget)), keep, q.limit);
  }
  return pageOf(allEscrows(store, q.after, chunk, budget), keep, q.limit);
}

function* allEscrows(store: KVStore, after: string | undefined, chunk: number, budget: RowBudget): Candidates<Escrow> {
  let from = after;
  if (from === undefined || USER_ESCROW.test(from)) {
    if ((yield* numberedDown(store, escrows, 'e', startNumber(store, 'escrow', from, budget), budget)) === 'budget') return 'budget';
    from = undefined;
  }
  const prefix = escrows.prefix;
  for (const range of [{ start: prefix, end: `${prefix}e0` }, { start: `${prefix}e:` }]) {
    let start = range.start;
    if (from !== undefined) {
      const past = `${prefix}${from}\u0000`;
      if (range.end !== undefined && past >= range.end) continue;
      if (past > start) start = past;
    }
    if ((yield* scanForward<Escrow>(store, prefix, { ...range, start }, chunk, budget)) === 'budget') return 'budget';
  }
  return 'end';
}
