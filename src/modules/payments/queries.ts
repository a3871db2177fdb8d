import { API_ERRORS } from '../../api/errors.js';
import type { ModuleQueryIndex } from '../../app/query-index.js';
import type { KVStore } from '../../app/state.js';
import type { QueryContext } from '../../surface/index.js';
import { toAmount } from './amount.js';
import { E } from './errors.js';
import { deadlineReached } from './escrow.js';
import {
  accountBalances,
  assetPage,
  channelPage,
  escrowPage,
  getAsset,
  getChannel,
  getEscrow,
  getLock,
  getRedemption,
  HELD_INDEXES,
  heldRecords,
  listAttestations,
  listHistory,
  PARTY_CURSOR,
  partyIds,
  pendingRedemptionPage,
  redemptionPage,
  type Asset,
  type Channel,
  type Escrow,
  type Held,
  type Lock,
  type PartyKind,
  type Redemption,
} from './state.js';

/** Read-side views: what the routes answer (computed fields are derived here, never stored). */

type Ctx = QueryContext;
type StatusFilter = 'open' | 'closed' | 'all';

function requireAssetView(store: KVStore, id: string): Asset {
  const asset = getAsset(store, id);
  if (!asset) throw E.PAY_ASSET_NOT_FOUND(`no asset ${id}`);
  return asset;
}

function heldTotal(h: Held): bigint {
  return toAmount(h.redeeming) + toAmount(h.locked) + toAmount(h.escrowed) + toAmount(h.channels);
}

export function supplyView(asset: Asset) {
  const supply = toAmount(asset.supply);
  const reserve = asset.reserve ? toAmount(asset.reserve.reserve) : undefined;
  return {
    asset: asset.id,
    code: asset.code,
    issuer: asset.issuer,
    supply: asset.supply,
    circulating: (supply - heldTotal(asset.held)).toString(),
    held: asset.held,
    reserve: asset.reserve?.reserve ?? null,
    reserveAt: asset.reserve?.at ?? null,
    reserveMinusSupply: reserve === undefined ? null : (reserve - supply).toString(),
    covered: reserve === undefined ? null : reserve >= supply,
    supplyChangedSinceAttestation: asset.reserve ? asset.reserve.supply !== asset.supply : null,
  };
}

/** Assets in id order, a page after `after`. */
export function assetsQuery(ctx: Ctx, page: { after?: string; limit: number }) {
  const { items: assets, next } = assetPage(ctx.store, page);
  return { assets, supply: assets.map(supplyView), ...(next !== undefined ? { next } : {}) };
}

/** Pending redemption ids an asset's answer carries by default (`pending=`). */
export const ASSET_PENDING_DEFAULT = 100;

/**
 * One asset with its latest `attestations` and its newest `pending` pending redemption ids
 * (`pendingRedemptionsNext` continues in the redemptions route: asset=, status=pending, after=);
 * with both 0 it reads the asset record alone.
 */
export function assetQuery(ctx: Ctx, id: string, attestations: number, pending = ASSET_PENDING_DEFAULT) {
  const asset = requireAssetView(ctx.store, id);
  const page = pending > 0 ? pendingRedemptionPage(ctx.store, id, { limit: pending }) : { items: [] };
  return {
    asset,
    supply: supplyView(asset),
    attestations: attestations > 0 ? listAttestations(ctx.store, id, attestations) : [],
    pendingRedemptions: page.items,
    ...(page.next !== undefined ? { pendingRedemptionsNext: page.next } : {}),
  };
}

/**
 * What an account itself has put aside, per asset: pending redemptions, escrows it pays, channels it
 * funds, module locks. On the node the first three come from its query indexes of the records that
 * hold funds (ADR 0029 point 1): the account's open ones only. Answered with a proof, it reads every
 * redemption, escrow and channel the account ever had (its party index in the state), as before.
 */
function heldBy(store: KVStore, address: string, index: ModuleQueryIndex | undefined): Map<string, Held> {
  const out = new Map<string, Held>();
  const add = (asset: string, bucket: keyof Held, v: bigint) => {
    const h = out.get(asset) ?? { redeeming: '0', locked: '0', escrowed: '0', channels: '0' };
    out.set(asset, { ...h, [bucket]: (toAmount(h[bucket]) + v).toString() });
  };
  const records = <T>(kind: PartyKind, name: string, get: (store: KVStore, id: string) => T | undefined): T[] =>
    index ? heldRecords<T>(store, index, name, address) : partyIds(store, address, kind).flatMap((id) => get(store, id) ?? []);
  for (const r of records('redeem', HELD_INDEXES.redeeming, getRedemption)) if (r.holder === address && r.status === 'pending') add(r.asset, 'redeeming', toAmount(r.amount));
  for (const e of records('escrow', HELD_INDEXES.escrowed, getEscrow)) if (e.payer === address && e.status === 'open') add(e.asset, 'escrowed', remaining(e));
  for (const c of records('channel', HELD_INDEXES.channels, getChannel)) if (c.buyer === address && c.status === 'open') add(c.asset, 'channels', toAmount(c.deposit));
  for (const id of partyIds(store, address, 'lock')) {
    const l = getLock(store, id);
    if (l) add(l.asset, 'locked', toAmount(l.amount));
  }
  return out;
}

export function balancesQuery(ctx: Ctx, address: string) {
  const held = heldBy(ctx.store, address, ctx.queryIndex);
  const rows = new Map(accountBalances(ctx.store, address).map(({ asset, amount }) => [asset, amount]));
  for (const asset of held.keys()) if (!rows.has(asset)) rows.set(asset, '0');
  const balances = [...rows.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([asset, free]) => {
      const h = held.get(asset) ?? { redeeming: '0', locked: '0', escrowed: '0', channels: '0' };
      return { asset, code: getAsset(ctx.store, asset)?.code ?? asset, free, held: h, total: (toAmount(free) + heldTotal(h)).toString() };
    });
  return { address, balances };
}

export function historyQuery(ctx: Ctx, address: string, q: { asset?: string; beforeHeight?: number; after?: string; limit: number }) {
  if (q.after !== undefined && q.beforeHeight !== undefined) throw API_ERRORS.REQUEST_INVALID('give either after (a cursor from a previous answer) or beforeHeight, not both');
  return { address, ...listHistory(ctx.store, address, q) };
}

export function locksQuery(ctx: Ctx, address: string) {
  const locks = partyIds(ctx.store, address, 'lock')
    .map((id) => getLock(ctx.store, id))
    .filter((l): l is Lock => l !== undefined);
  return { address, locks };
}

/** A list's cursor must come from an answer of the same kind of list: of a party, its index position; else an id. */
function requireCursorOf(q: { party?: string; after?: string }): void {
  if (q.after === undefined) return;
  const ofParty = PARTY_CURSOR.test(q.after);
  if (q.party !== undefined && !ofParty) throw API_ERRORS.REQUEST_INVALID('with party=, after is the next of an answer with party= ("<height16>/<id>")');
  if (q.party === undefined && ofParty) throw API_ERRORS.REQUEST_INVALID('without party=, after is the next of an answer without party= (an id)');
}

type RedemptionListQuery = { asset?: string; party?: string; status: 'pending' | 'closed' | 'all'; after?: string; limit: number };

/**
 * Redemptions, a page at a time: of a party from its index, newest first by the block of the
 * request; of an asset's pending ones from the pending index; else all, newest first by number.
 */
export function redemptionsQuery(ctx: Ctx, q: RedemptionListQuery) {
  requireCursorOf(q);
  const keep = (r: Redemption) => (q.asset === undefined || r.asset === q.asset) && (q.status === 'all' || (q.status === 'pending') === (r.status === 'pending'));
  const pendingOf = q.party === undefined && q.asset !== undefined && q.status === 'pending' ? q.asset : undefined;
  const page = redemptionPage(ctx.store, { ...(q.party !== undefined ? { party: q.party } : {}), ...(pendingOf !== undefined ? { pendingOf } : {}), ...(q.after !== undefined ? { after: q.after } : {}), limit: q.limit }, keep);
  return { redemptions: page.items, ...(page.next !== undefined ? { next: page.next } : {}) };
}

export function redemptionQuery(ctx: Ctx, id: string) {
  const redemption = getRedemption(ctx.store, id);
  if (!redemption) throw E.PAY_REDEMPTION_NOT_FOUND(`no redemption ${id}`);
  return { redemption };
}

function remaining(e: Escrow): bigint {
  return toAmount(e.amount) - toAmount(e.paidToPayee) - toAmount(e.paidToPayer);
}

export function escrowView(ctx: Ctx, e: Escrow) {
  return { ...e, remaining: remaining(e).toString(), deadlineReached: deadlineReached(e, ctx.height, ctx.time) };
}

function statusMatches(open: boolean, status: StatusFilter): boolean {
  return status === 'all' || (status === 'open') === open;
}

type PartyListQuery = { party?: string; status: StatusFilter; after?: string; limit: number };

function listPageOf(q: PartyListQuery) {
  return { ...(q.party !== undefined ? { party: q.party } : {}), ...(q.after !== undefined ? { after: q.after } : {}), limit: q.limit };
}

/**
 * Escrows by status, a page at a time: of a party from its index, newest first by the block the party
 * joined; else the user escrows newest first by number, then the module escrows in id order.
 */
export function escrowsQuery(ctx: Ctx, q: PartyListQuery) {
  requireCursorOf(q);
  const page = escrowPage(ctx.store, listPageOf(q), (e) => statusMatches(e.status === 'open', q.status));
  return { escrows: page.items.map((e) => escrowView(ctx, e)), ...(page.next !== undefined ? { next: page.next } : {}) };
}

export function escrowQuery(ctx: Ctx, id: string) {
  const e = getEscrow(ctx.store, id);
  if (!e) throw E.PAY_ESCROW_NOT_FOUND(`no escrow ${id}`);
  return { escrow: escrowView(ctx, e) };
}

export function channelView(ctx: Ctx, c: Channel) {
  return { ...c, expired: ctx.time >= c.refundTime };
}

/** Channels by status, a page at a time: of a party from its index, newest first by the opening block; else all, newest first by number. */
export function channelsQuery(ctx: Ctx, q: PartyListQuery) {
  requireCursorOf(q);
  const page = channelPage(ctx.store, listPageOf(q), (c) => statusMatches(c.status === 'open', q.status));
  return { channels: page.items.map((c) => channelView(ctx, c)), ...(page.next !== undefined ? { next: page.next } : {}) };
}

export function channelQuery(ctx: Ctx, id: string) {
  const c = getChannel(ctx.store, id);
  if (!c) throw E.PAY_CHANNEL_NOT_FOUND(`no channel ${id}`);
  return { channel: channelView(ctx, c) };
}
