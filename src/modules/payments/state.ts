import type { KVStore } from '../../app/state.js';
import { padKey } from '../../app/state.js';

/**
 * Payments state layout (all keys under "payments/"):
 *   payments/params                                   → PaymentsParams
 *   payments/asset/<asset>                            → Asset (supply and the held aggregates)
 *   payments/bal/<address>/<asset>                    → BalanceRow (free balance + history counter)
 *   payments/hist/<address>/<height16>/<asset>/<n16>  → HistoryEntry (every balance change, with its tx)
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
 * Amounts are decimal strings of micro-units (see amount.ts). Balance rows are never deleted: they
 * carry the per-(account, asset) history counter.
 */

export interface TxRef {
  height: number;
  /** Block time, ms. */
  time: number;
  txHash: string;
}

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

export interface BalanceRow {
  amount: string;
  /** History entries written for this (account, asset). */
  n: number;
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

const P = 'payments/';
const ASSET = `${P}asset/`;
const BAL = `${P}bal/`;
const HIST = `${P}hist/`;
const DEPOSIT = `${P}deposit/`;
const PAYOUT = `${P}payout/`;
const RESERVE = `${P}reserve/`;
const COUNTER = `${P}counter/`;
const REDEEM = `${P}redeem/`;
const PENDING = `${P}pending/`;
const ESCROW = `${P}escrow/`;
const CHANNEL = `${P}channel/`;
const LOCK = `${P}lock/`;
const PARTY = `${P}party/`;

export const ZERO_HELD: Held = { redeeming: '0', locked: '0', escrowed: '0', channels: '0' };

// ── assets ──

export function getAsset(store: KVStore, id: string): Asset | undefined {
  return store.get<Asset>(ASSET + id);
}
export function putAsset(store: KVStore, asset: Asset): void {
  store.set(ASSET + asset.id, asset);
}
export function listAssets(store: KVStore): Asset[] {
  return store.scan<Asset>(ASSET).map(([, a]) => a);
}

// ── balances and history ──

export function getBalanceRow(store: KVStore, address: string, asset: string): BalanceRow | undefined {
  return store.get<BalanceRow>(`${BAL}${address}/${asset}`);
}
export function putBalanceRow(store: KVStore, address: string, asset: string, row: BalanceRow): void {
  store.set(`${BAL}${address}/${asset}`, row);
}
/** Every (asset, row) an account has held, in asset order. */
export function accountBalances(store: KVStore, address: string): Array<{ asset: string; row: BalanceRow }> {
  const prefix = `${BAL}${address}/`;
  return store.scan<BalanceRow>(prefix).map(([k, row]) => ({ asset: k.slice(prefix.length), row }));
}
/** Every balance row of every account (for audits and tests; not used by rules). */
export function allBalances(store: KVStore): Array<{ address: string; asset: string; row: BalanceRow }> {
  return store.scan<BalanceRow>(BAL).map(([k, row]) => {
    const [address, asset] = k.slice(BAL.length).split('/') as [string, string];
    return { address, asset, row };
  });
}

export function putHistory(store: KVStore, e: HistoryEntry, n: number): void {
  store.set(`${HIST}${e.address}/${padKey(e.height)}/${e.asset}/${padKey(n)}`, e);
}
/** An account's history, newest first, optionally below a height (paging) and for one asset. */
export function listHistory(store: KVStore, address: string, options: { asset?: string; beforeHeight?: number; limit: number }): HistoryEntry[] {
  const prefix = `${HIST}${address}/`;
  const end = options.beforeHeight !== undefined ? `${prefix}${padKey(options.beforeHeight)}` : undefined;
  const out: HistoryEntry[] = [];
  // Filtering by asset happens while scanning: pages of rows, newest first, until the limit is met.
  let cursor = end;
  for (;;) {
    const page = store.scan<HistoryEntry>(prefix, { end: cursor, reverse: true, limit: 500 });
    for (const [, e] of page) {
      if (options.asset === undefined || e.asset === options.asset) out.push(e);
      if (out.length >= options.limit) return out;
    }
    if (page.length < 500) return out;
    cursor = page[page.length - 1]![0];
  }
}

// ── references ──

export function getDeposit(store: KVStore, issuer: string, ref: string): DepositRecord | undefined {
  return store.get<DepositRecord>(`${DEPOSIT}${issuer}/${ref}`);
}
export function putDeposit(store: KVStore, d: DepositRecord): void {
  store.set(`${DEPOSIT}${d.issuer}/${d.ref}`, d);
}
export function getPayout(store: KVStore, issuer: string, ref: string): string | undefined {
  return store.get<string>(`${PAYOUT}${issuer}/${ref}`);
}
export function putPayout(store: KVStore, issuer: string, ref: string, redemptionId: string): void {
  store.set(`${PAYOUT}${issuer}/${ref}`, redemptionId);
}

// ── reserve attestations ──

export function putAttestation(store: KVStore, a: ReserveAttestation): void {
  store.set(`${RESERVE}${a.asset}/${padKey(a.seq)}`, a);
}
export function listAttestations(store: KVStore, asset: string, limit: number): ReserveAttestation[] {
  return store.scan<ReserveAttestation>(`${RESERVE}${asset}/`, { reverse: true, limit }).map(([, a]) => a);
}

// ── ids ──

/** The next number for ids of a kind (r1, e1, ch1, …). */
export function nextNumber(store: KVStore, kind: 'redeem' | 'escrow' | 'channel'): number {
  const n = (store.get<number>(COUNTER + kind) ?? 0) + 1;
  store.set(COUNTER + kind, n);
  return n;
}

// ── redemptions ──

export function getRedemption(store: KVStore, id: string): Redemption | undefined {
  return store.get<Redemption>(REDEEM + id);
}
export function putRedemption(store: KVStore, r: Redemption): void {
  store.set(REDEEM + r.id, r);
  if (r.status === 'pending') store.set(`${PENDING}${r.asset}/${r.id}`, 1);
  else store.delete(`${PENDING}${r.asset}/${r.id}`);
}
export function pendingRedemptionIds(store: KVStore, asset: string): string[] {
  const prefix = `${PENDING}${asset}/`;
  return store.scan(prefix).map(([k]) => k.slice(prefix.length));
}
export function listRedemptions(store: KVStore): Redemption[] {
  return store.scan<Redemption>(REDEEM).map(([, r]) => r);
}

// ── escrows, channels, locks ──

export function getEscrow(store: KVStore, id: string): Escrow | undefined {
  return store.get<Escrow>(ESCROW + id);
}
export function putEscrow(store: KVStore, e: Escrow): void {
  store.set(ESCROW + e.id, e);
}
export function listEscrows(store: KVStore): Escrow[] {
  return store.scan<Escrow>(ESCROW).map(([, e]) => e);
}

export function getChannel(store: KVStore, id: string): Channel | undefined {
  return store.get<Channel>(CHANNEL + id);
}
export function putChannel(store: KVStore, c: Channel): void {
  store.set(CHANNEL + c.id, c);
}
export function listChannels(store: KVStore): Channel[] {
  return store.scan<Channel>(CHANNEL).map(([, c]) => c);
}

export function getLock(store: KVStore, id: string): Lock | undefined {
  return store.get<Lock>(LOCK + id);
}
export function putLock(store: KVStore, lock: Lock): void {
  store.set(LOCK + lock.id, lock);
}
export function deleteLock(store: KVStore, id: string): void {
  store.delete(LOCK + id);
}
export function listLocks(store: KVStore): Lock[] {
  return store.scan<Lock>(LOCK).map(([, l]) => l);
}

// ── per-account index ──

export function indexParty(store: KVStore, address: string, kind: PartyKind, height: number, id: string): void {
  store.set(`${PARTY}${address}/${kind}/${padKey(height)}/${id}`, id);
}
export function unindexParty(store: KVStore, address: string, kind: PartyKind, height: number, id: string): void {
  store.delete(`${PARTY}${address}/${kind}/${padKey(height)}/${id}`);
}
/** Ids of an account's redemptions, escrows, channels or locks, newest first. */
export function partyIds(store: KVStore, address: string, kind: PartyKind): string[] {
  return store.scan<string>(`${PARTY}${address}/${kind}/`, { reverse: true }).map(([, id]) => id);
}
