import { collection, FILTER_SCAN_ROWS } from '../../app/collections.js';
import type { ModuleQueryIndex, QueryIndexDef } from '../../app/query-index.js';
import type { KVStore } from '../../app/state.js';
import type { TreeNodeStore } from '../../zk/merkle.js';
import type { RegisteredKey as ZkRegisteredKey } from '../../zk/key-registry.js';
import type { TimedTxRef as TxRef } from '../../app/tx-ref.js';
export type { TimedTxRef as TxRef } from '../../app/tx-ref.js';

/**
 * Anon state layout (all keys under "anon/"):
 *   anon/params                       → AnonParams
 *   anon/key                          → RegisteredKey: the membership circuit's verifying key
 *   anon/member/<address>             → Member: a member's identity commitment and leaf index
 *   anon/commitment/<decimal>         → 1: registered commitments (each once)
 *   anon/tree/<level>/<index>         → decimal node of the members' Poseidon tree (absent = empty subtree)
 *   anon/tree-size                    → leaves appended so far
 *   anon/roots                        → RootSet: the current root and recent ones with their validity
 *   anon/root-at/<height>             → decimal root at the end of each block that changed it (history)
 *   anon/nullifier/<decimal>          → {epoch, height}: used nullifiers
 *   anon/account/<address>            → AnonAccount: an admitted trade account (epoch, expiry; no member)
 *   anon/expiry/<time>/<address>      → 1: active anonymous accounts by expiry time
 *   anon/counter/offer                → last offer number
 *   anon/offer/<n>                    → Offer o<n> on the anonymous offer board
 *   anon/escrow/<escrow id>           → offer id: escrows that settle an offer (each once)
 *
 * Nothing stored with an anonymous account names a member, a commitment or a leaf: the proof shows
 * only that *some* leaf of the root is known.
 */


export type RegisteredKey = ZkRegisteredKey<TxRef>;

export interface Member {
  address: string;
  commitment: string;
  leafIndex: number;
  status: 'active' | 'revoked';
  registeredAt: TxRef;
  revokedAt?: TxRef;
}

export interface RootSet {
  current: string;
  /** Roots replaced by a registration, valid for proofs up to and including height `validUntil`. */
  recent: Array<{ root: string; validUntil: number }>;
}

export interface AnonAccount {
  address: string;
  epoch: number;
  admittedAt: TxRef;
  expiresAt: number;
  status: 'active' | 'expired';
}

export interface UsedNullifier {
  epoch: number;
  height: number;
}

const KEY = 'anon/key';
const ROOTS = 'anon/roots';
const TREE_SIZE = 'anon/tree-size';
const members = collection<Member>('anon/member/');
const commitments = collection<number>('anon/commitment/');
const treeNodes = collection<string>('anon/tree/');
const rootsAt = collection<string>('anon/root-at/');
const nullifiers = collection<UsedNullifier>('anon/nullifier/');
const accounts = collection<AnonAccount>('anon/account/');
const expiries = collection<number>('anon/expiry/');

export const getKey = (store: KVStore) => store.get<RegisteredKey>(KEY);
export const putKey = (store: KVStore, k: RegisteredKey) => store.set(KEY, k);

export const getMember = (store: KVStore, address: string) => members.get(store, address);
export const putMember = (store: KVStore, m: Member) => members.put(store, m, m.address);
export const hasCommitment = (store: KVStore, commitment: string) => commitments.has(store, commitment);
export const markCommitment = (store: KVStore, commitment: string) => commitments.put(store, 1, commitment);

/** The members' tree nodes in ledger state: a change rewrites the 17 nodes on its path, nothing else. */
export function treeStore(store: KVStore): TreeNodeStore {
  return {
    getNode: (level, index) => {
      const v = treeNodes.get(store, level, index);
      return v === undefined ? undefined : BigInt(v);
    },
    setNode: (level, index, value) => treeNodes.put(store, value.toString(), level, index),
    getSize: () => store.get<number>(TREE_SIZE) ?? 0,
    setSize: (size) => store.set(TREE_SIZE, size),
  };
}

/** Leaves 0..size−1 in index order (0 for a revoked member): what a member needs to compute its path. */
export function listLeaves(store: KVStore): string[] {
  const size = store.get<number>(TREE_SIZE) ?? 0;
  const leaves: string[] = [];
  for (let i = 0; i < size; i++) leaves.push(treeNodes.get(store, 0, i) ?? '0');
  return leaves;
}

export const getRoots = (store: KVStore) => store.get<RootSet>(ROOTS);
export const putRoots = (store: KVStore, r: RootSet) => store.set(ROOTS, r);
export const putRootAt = (store: KVStore, height: number, root: string) => rootsAt.put(store, root, height);
export const lastRootAt = (store: KVStore) => rootsAt.list(store, [], { reverse: true, limit: 1 })[0];
export function rootHistory(store: KVStore, limit: number): Array<{ height: number; root: string }> {
  return rootsAt.entries(store, [], { reverse: true, limit }).map(([k, root]) => ({ height: Number(k), root }));
}

export const getNullifier = (store: KVStore, nullifier: string) => nullifiers.get(store, nullifier);
export const putNullifier = (store: KVStore, nullifier: string, n: UsedNullifier) => nullifiers.put(store, n, nullifier);

export const getAccount = (store: KVStore, address: string) => accounts.get(store, address);
export const putAccount = (store: KVStore, a: AnonAccount) => accounts.put(store, a, a.address);
export const addExpiry = (store: KVStore, time: number, address: string) => expiries.put(store, 1, time, address);
export const dropExpiry = (store: KVStore, time: number, address: string) => expiries.delete(store, time, address);
/** Accounts whose expiry is at or before `time`, oldest first: [time, address]. */
export function dueExpiries(store: KVStore, time: number, limit: number): Array<[number, string]> {
  return expiries.entries(store, [], { to: time + 1, limit }).map(([k]) => {
    const slash = k.indexOf('/');
    return [Number(k.slice(0, slash)), k.slice(slash + 1)];
  });
}

export interface Offer {
  id: string;
  seller: string;
  energyWh: number;
  amount: string;
  asset: string;
  deliveryStart: number;
  deliveryEnd: number;
  memo?: string;
  messagingKey?: string;
  status: 'open' | 'taken' | 'withdrawn';
  buyer?: string;
  /** The payments escrow (2-of-3, grid operator as mediator) that settles the trade. */
  escrow?: string;
  mediator?: string;
  createdAt: TxRef;
  closedAt?: TxRef;
}

const OFFER_COUNTER = 'anon/counter/offer';
const offers = collection<Offer>('anon/offer/');
const escrowOffers = collection<string>('anon/escrow/');
export const numberOf = (id: string): number => Number(id.slice(1));

export function nextOfferId(store: KVStore): string {
  const n = (store.get<number>(OFFER_COUNTER) ?? 0) + 1;
  store.set(OFFER_COUNTER, n);
  return `o${n}`;
}
export const getOffer = (store: KVStore, id: string) => offers.get(store, numberOf(id));
export const putOffer = (store: KVStore, o: Offer) => offers.put(store, o, numberOf(o.id));
/** A page of offers newest first that `keep` accepts, after the cursor `after`; at most FILTER_SCAN_ROWS offers read per request. */
export const offerPage = (store: KVStore, keep: (o: Offer) => boolean, page: { after?: string; limit: number }) => offers.matchingPage(store, keep, { ...page, reverse: true, maxRows: FILTER_SCAN_ROWS });
/** The offer board by status, kept by the node for queries only (ADR 0029 point 1): `status` → offers. */
export const OFFERS_BY_STATUS = 'offers-by-status';
export const anonQueryIndexes: readonly QueryIndexDef[] = [{ name: OFFERS_BY_STATUS, version: 1, prefix: offers.prefix, keysOf: (_key, value) => [(JSON.parse(value) as Offer).status] }];
/** A page of the offers of one status newest first, through that index: full pages, whatever the other statuses hold. */
export const offersByStatus = (store: KVStore, index: ModuleQueryIndex, status: Offer['status'], page: { after?: string; limit: number }) =>
  offers.indexedPage(store, index, OFFERS_BY_STATUS, status, (o) => o.status === status, { ...page, reverse: true });
export const escrowOffer = (store: KVStore, escrow: string) => escrowOffers.get(store, escrow);
export const markEscrow = (store: KVStore, escrow: string, offer: string) => escrowOffers.put(store, offer, escrow);
