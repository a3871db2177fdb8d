import type { QueryContext } from '../../surface/index.js';
import { PoseidonMerkleTree } from '../../zk/merkle.js';
import { E } from './errors.js';
import { epochOf, validRoots, type AnonParams } from './rules.js';
import { getAccount, getKey, getMember, getNullifier, getOffer, getRoots, listLeaves, offerPage, offersByStatus, rootHistory, treeStore } from './state.js';

/** Read-side views of the anon module (all public: see routes.ts). */

type Ctx = QueryContext<unknown, AnonParams>;

function currentRoot(ctx: Ctx): string {
  return getRoots(ctx.store)?.current ?? new PoseidonMerkleTree(undefined, treeStore(ctx.store)).root.toString();
}

export function statusQuery(ctx: Ctx) {
  const roots = getRoots(ctx.store);
  const current = currentRoot(ctx);
  // The next block is where a proof made now lands: its height decides the epoch and the roots.
  const next = ctx.height + 1;
  const key = getKey(ctx.store);
  return {
    ...(key ? { keyId: key.id } : {}),
    height: ctx.height,
    epoch: epochOf(next, ctx.params),
    epochBlocks: ctx.params.epochBlocks,
    maxSlots: ctx.params.maxSlots,
    accountLifetimeMs: ctx.params.accountLifetimeMs,
    treeSize: treeStore(ctx.store).getSize(),
    currentRoot: current,
    validRoots: roots ? validRoots(roots, next) : [current],
  };
}

export function leavesQuery(ctx: Ctx) {
  return { leaves: listLeaves(ctx.store), root: currentRoot(ctx) };
}

export function rootsQuery(ctx: Ctx, limit: number) {
  return { roots: rootHistory(ctx.store, limit) };
}

export function memberQuery(ctx: Ctx, address: string) {
  const member = getMember(ctx.store, address);
  if (!member) throw E.ANON_MEMBER_NOT_FOUND(`${address} has not registered an identity commitment`);
  return { member };
}

export function accountQuery(ctx: Ctx, address: string) {
  const account = getAccount(ctx.store, address);
  if (!account) throw E.ANON_ACCOUNT_NOT_FOUND(`${address} is not an anonymous account`);
  return { account };
}

export function nullifierQuery(ctx: Ctx, nullifier: string) {
  const used = getNullifier(ctx.store, nullifier);
  return used ? { used: true, epoch: used.epoch, height: used.height } : { used: false };
}

export function offersQuery(ctx: Ctx, query: { status: 'open' | 'taken' | 'withdrawn' | 'all'; after?: string; limit: number }) {
  // Newest first. On the node, one status is read through its index (full pages); answered with a proof,
  // or for every status, the board is read until `limit` offers are found or the request's rows are
  // read, and `next` goes on (an old open offer is still found).
  const status = query.status;
  const page =
    status !== 'all' && ctx.queryIndex ? offersByStatus(ctx.store, ctx.queryIndex, status, query) : offerPage(ctx.store, (o) => status === 'all' || o.status === status, query);
  return { offers: page.items, ...(page.next !== undefined ? { next: page.next } : {}) };
}

export function offerQuery(ctx: Ctx, id: string) {
  const offer = getOffer(ctx.store, id);
  if (!offer) throw E.ANON_OFFER_NOT_FOUND(`no offer ${id}`);
  return { offer };
}
