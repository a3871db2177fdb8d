import { API_ERRORS } from '../../api/errors.js';
import type { KVStore } from '../../app/state.js';
import type { QueryContext } from '../../surface/index.js';
import { toAmount } from './amount.js';
import { E } from './errors.js';
import { deadlineReached } from './escrow.js';
import {
  accountBalances,
  getAsset,
  getChannel,
  getEscrow,
  getLock,
  getRedemption,
  listAssets,
  listAttestations,
  listChannels,
  listEscrows,
  listHistory,
  listRedemptions,
  partyIds,
  pendingRedemptionIds,
  type Asset,
  type Channel,
  type Escrow,
  type Held,
  type Lock,
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

export function assetsQuery(ctx: Ctx) {
  const assets = listAssets(ctx.store);
  return { assets, supply: assets.map(supplyView) };
}

export function assetQuery(ctx: Ctx, id: string, attestations: number) {
  const asset = requireAssetView(ctx.store, id);
  return { asset, supply: supplyView(asset), attestations: listAttestations(ctx.store, id, attestations), pendingRedemptions: pendingRedemptionIds(ctx.store, id) };
}

/** What an account itself has put aside, per asset: pending redemptions, escrows it pays, channels it funds, module locks. */
function heldBy(store: KVStore, address: string): Map<string, Held> {
  const out = new Map<string, Held>();
  const add = (asset: string, bucket: keyof Held, v: bigint) => {
    const h = out.get(asset) ?? { redeeming: '0', locked: '0', escrowed: '0', channels: '0' };
    out.set(asset, { ...h, [bucket]: (toAmount(h[bucket]) + v).toString() });
  };
  for (const id of partyIds(store, address, 'redeem')) {
    const r = getRedemption(store, id);
    if (r && r.holder === address && r.status === 'pending') add(r.asset, 'redeeming', toAmount(r.amount));
  }
  for (const id of partyIds(store, address, 'escrow')) {
    const e = getEscrow(store, id);
    if (e && e.payer === address && e.status === 'open') add(e.asset, 'escrowed', remaining(e));
  }
  for (const id of partyIds(store, address, 'channel')) {
    const c = getChannel(store, id);
    if (c && c.buyer === address && c.status === 'open') add(c.asset, 'channels', toAmount(c.deposit));
  }
  for (const id of partyIds(store, address, 'lock')) {
    const l = getLock(store, id);
    if (l) add(l.asset, 'locked', toAmount(l.amount));
  }
  return out;
}

export function balancesQuery(ctx: Ctx, address: string) {
  const held = heldBy(ctx.store, address);
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

function idNumber(id: string): number {
  return Number(id.replace(/^[a-z]+/, ''));
}

/** Newer ids first: r10 after r9 by number; module ids (market/bid/7) by text. */
function compareIdsDesc(a: string, b: string): number {
  const na = idNumber(a);
  const nb = idNumber(b);
  if (Number.isSafeInteger(na) && Number.isSafeInteger(nb) && na !== nb) return nb - na;
  return a < b ? 1 : a > b ? -1 : 0;
}

function byNewest<T extends { openedAt: { height: number }; id: string }>(items: T[]): T[] {
  return items.sort((a, b) => b.openedAt.height - a.openedAt.height || compareIdsDesc(a.id, b.id));
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}

export function redemptionsQuery(ctx: Ctx, q: { asset?: string; party?: string; status: 'pending' | 'closed' | 'all'; limit: number }) {
  const { store } = ctx;
  let list: Redemption[];
  if (q.party !== undefined) list = unique(partyIds(store, q.party, 'redeem')).map((id) => getRedemption(store, id)!);
  else if (q.asset !== undefined && q.status === 'pending') list = pendingRedemptionIds(store, q.asset).map((id) => getRedemption(store, id)!);
  else list = listRedemptions(store);
  const wanted = list.filter((r) => (q.asset === undefined || r.asset === q.asset) && (q.status === 'all' || (q.status === 'pending') === (r.status === 'pending')));
  return { redemptions: wanted.sort((a, b) => compareIdsDesc(a.id, b.id)).slice(0, q.limit) };
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

type PartyListQuery = { party?: string; status: StatusFilter; limit: number };

/** Escrows or channels: of one party (its index) or all, by status, newest first, at most `limit`. */
function partyList<T extends { id: string; status: string; openedAt: { height: number } }>(store: KVStore, q: PartyListQuery, kind: 'escrow' | 'channel', get: (store: KVStore, id: string) => T | undefined, all: (store: KVStore) => T[]): T[] {
  const list = q.party !== undefined ? unique(partyIds(store, q.party, kind)).map((id) => get(store, id)!) : all(store);
  return byNewest(list.filter((x) => statusMatches(x.status === 'open', q.status))).slice(0, q.limit);
}

export function escrowsQuery(ctx: Ctx, q: PartyListQuery) {
  return { escrows: partyList(ctx.store, q, 'escrow', getEscrow, listEscrows).map((e) => escrowView(ctx, e)) };
}

export function escrowQuery(ctx: Ctx, id: string) {
  const e = getEscrow(ctx.store, id);
  if (!e) throw E.PAY_ESCROW_NOT_FOUND(`no escrow ${id}`);
  return { escrow: escrowView(ctx, e) };
}

export function channelView(ctx: Ctx, c: Channel) {
  return { ...c, expired: ctx.time >= c.refundTime };
}

export function channelsQuery(ctx: Ctx, q: PartyListQuery) {
  return { channels: partyList(ctx.store, q, 'channel', getChannel, listChannels).map((c) => channelView(ctx, c)) };
}

export function channelQuery(ctx: Ctx, id: string) {
  const c = getChannel(ctx.store, id);
  if (!c) throw E.PAY_CHANNEL_NOT_FOUND(`no channel ${id}`);
  return { channel: channelView(ctx, c) };
}
