import type { KeepersOf, ModuleContext } from '../../app/module.js';
import type { KVStore } from '../../app/state.js';
import type { ReadingEvent } from '../metering/keeper.js';
import { E } from './errors.js';
import { isValidTimeZone } from '../../util/localtime.js';
import { slotOfMs } from '../../util/slots.js';
import type { AddMeterMsg, CreateCommunityMsg, MutateMsg, ReduceMsg, ReleaseMeterMsg, RemoveMeterMsg, SettleMsg, TraderMsg, TransferMsg } from './messages.js';
import {
  addCommunityMeter,
  communityBalances,
  deleteRelease,
  getBalance,
  getCommunity,
  getFreeBalance,
  getLocked,
  indexTraderMeter,
  getRelease,
  getTrader,
  hasAnyBalance,
  isActiveTrader,
  labelsKey,
  labelsFromKey,
  latestLink,
  linkAt,
  listChildren,
  linksFrom,
  listTraderMeters,
  nextCommunityNumber,
  normalizeLabels,
  putCommunity,
  putHistory,
  putLink,
  putRelease,
  putTrader,
  requireCommunity,
  setBalance,
  type ChangeKind,
  type Community,
  type MeterLink,
} from './state.js';
import type { Meter } from '../metering/keeper.js';

export const REQUIRES = ['metering', 'registry'] as const;
export type EnergyContext = ModuleContext<KeepersOf<typeof REQUIRES>>;

/**
 * Books balance changes of one message and records each with the transaction behind it. Only
 * `production`, `transfer-in`, `reduce-in` and `settle-from-child` add energy a trader can trade;
 * only consumption and adjustments (mutate, settle) may leave a balance negative.
 */
export class Booker {
  private n = 0;
  constructor(private readonly ctx: EnergyContext) {}

  book(
    community: string,
    trader: string,
    slot: number,
    labels: readonly string[],
    deltaWh: number,
    kind: ChangeKind,
    extra: { counterparty?: string; meterId?: string; description?: string } = {},
  ): number {
    const { store } = this.ctx;
    const before = getBalance(store, community, trader, slot, labels);
    const after = before + deltaWh;
    if (!Number.isSafeInteger(after)) throw E.ENERGY_OVERFLOW(`balance of ${trader} at slot ${slot} would leave the safe integer range`);
    setBalance(store, community, trader, slot, labels, after);
    const adjustment = kind === 'mutate' || kind === 'settle-to-parent' || kind === 'settle-from-child';
    putHistory(
      store,
      {
        community,
        trader,
        slot,
        labels: [...labels],
        deltaWh,
        balanceWh: after,
        kind,
        ...extra,
        height: this.ctx.height,
        txHash: this.ctx.txHash,
        msgIndex: this.ctx.msgIndex,
      },
      this.n++,
      adjustment,
    );
    return after;
  }
}

function requireOwner(ctx: EnergyContext, c: Community): void {
  if (ctx.sender !== c.owner) throw E.ENERGY_NOT_OWNER(`only the owner ${c.owner} of community ${c.id} may do this`);
}

export function requireTrader(store: KVStore, c: string, address: string, code: 'ENERGY_NOT_TRADER' | 'ENERGY_RECIPIENT_NOT_TRADER' = 'ENERGY_NOT_TRADER'): void {
  if (!isActiveTrader(store, c, address)) throw E[code](`${address} is not a trader of community ${c}`);
}

export function requirePositive(wh: number): void {
  if (wh <= 0) throw E.ENERGY_AMOUNT_NOT_POSITIVE(`amount must be > 0 Wh, got ${wh}`);
}

/** The trader's free balance (balance less what modules locked) covers `wh`. */
export function requireHolds(store: KVStore, c: string, trader: string, slot: number, labels: readonly string[], wh: number): void {
  const free = getFreeBalance(store, c, trader, slot, labels);
  if (free < wh) {
    const locked = getLocked(store, c, trader, slot, labels);
    throw E.ENERGY_INSUFFICIENT_BALANCE(`${trader} holds ${free} Wh [${labelsKey(labels)}] free at slot ${slot} in ${c}${locked > 0 ? ` (${locked} Wh more are locked)` : ''}; ${wh} Wh needed`);
  }
}

function ref(ctx: EnergyContext) {
  return { height: ctx.height, txHash: ctx.txHash };
}

export function createCommunity(ctx: EnergyContext, msg: CreateCommunityMsg): void {
  const { store } = ctx;
  if (!ctx.keepers.registry.hasAnyRole(ctx.sender, ['operator', 'utility'])) {
    throw E.ENERGY_NOT_OPERATOR_OR_UTILITY('only an admitted operator or utility may create a community');
  }
  if (!isValidTimeZone(msg.timezone)) throw E.ENERGY_TIMEZONE_INVALID(`${JSON.stringify(msg.timezone)} is not an IANA time zone (e.g. Europe/Amsterdam)`);
  if (msg.id !== undefined && getCommunity(store, msg.id)) throw E.ENERGY_COMMUNITY_EXISTS(`community ${msg.id} already exists`);
  if (msg.parent !== undefined) {
    if (!getCommunity(store, msg.parent)) throw E.ENERGY_PARENT_NOT_FOUND(`parent community ${msg.parent} does not exist`);
    if (!isActiveTrader(store, msg.parent, ctx.sender)) {
      throw E.ENERGY_PARENT_MEMBERSHIP_REQUIRED(`the owner of a member community must be a trader of the parent ${msg.parent} (it represents the community there)`);
    }
  }
  let id = msg.id;
  while (id === undefined || getCommunity(store, id)) id = `c${nextCommunityNumber(store)}`;
  const community: Community = { id, name: msg.name, owner: ctx.sender, timezone: msg.timezone, ...(msg.parent !== undefined ? { parent: msg.parent } : {}), createdAt: ref(ctx) };
  putCommunity(store, community);
  ctx.emit('energy.community_created', { id, owner: ctx.sender, timezone: msg.timezone, parent: msg.parent ?? '' });
}

export function addTrader(ctx: EnergyContext, msg: TraderMsg): void {
  const { store } = ctx;
  const c = requireCommunity(store, msg.community);
  requireOwner(ctx, c);
  if (!ctx.keepers.registry.isActive(msg.address)) throw E.ENERGY_ACCOUNT_NOT_ADMITTED(`${msg.address} is not an admitted participant`);
  if (ctx.keepers.registry.isActive(msg.address, 'meter') || ctx.keepers.metering.meterIdByAddress(msg.address) !== undefined) {
    throw E.ENERGY_TRADER_IS_METER(`${msg.address} is a meter key; meter keys are separate from trader keys`);
  }
  const existing = getTrader(store, msg.community, msg.address);
  if (existing?.status === 'active') throw E.ENERGY_TRADER_EXISTS(`${msg.address} is already a trader of ${msg.community}`);
  putTrader(store, { community: msg.community, address: msg.address, status: 'active', addedAt: ref(ctx) });
  ctx.emit('energy.trader_added', { community: msg.community, address: msg.address });
}

/** Link periods in force now or later (the past stays as it was). */
function currentAndFutureLinks(store: KVStore, meterId: string, nowSlot: number): MeterLink[] {
  const inForce = linkAt(store, meterId, nowSlot);
  return linksFrom(store, meterId, inForce?.fromSlot ?? 0);
}

export function removeTrader(ctx: EnergyContext, msg: TraderMsg): void {
  const { store } = ctx;
  const c = requireCommunity(store, msg.community);
  requireOwner(ctx, c);
  requireTrader(store, c.id, msg.address);
  const nowSlot = slotOfMs(ctx.time);
  // Only a meter ever linked to the trader here can be linked to it now or later (the index, in meter order as the community's).
  for (const meterId of listTraderMeters(store, c.id, msg.address)) {
    if (currentAndFutureLinks(store, meterId, nowSlot).some((l) => l.community === c.id && l.trader === msg.address)) {
      throw E.ENERGY_TRADER_HAS_METERS(`${msg.address} still has meter ${meterId} linked; re-link or remove it first`);
    }
  }
  if (hasAnyBalance(store, c.id, msg.address)) {
    throw E.ENERGY_TRADER_HAS_BALANCE(`${msg.address} has non-zero balances in ${c.id}; settle them first (no silent data loss)`);
  }
  for (const child of listChildren(store, c.id)) {
    if (getCommunity(store, child)?.owner === msg.address) {
      throw E.ENERGY_TRADER_REPRESENTS_CHILD(`${msg.address} represents member community ${child} in ${c.id}`);
    }
  }
  const t = getTrader(store, c.id, msg.address)!;
  putTrader(store, { ...t, status: 'removed', removedAt: ref(ctx) });
  ctx.emit('energy.trader_removed', { community: c.id, address: msg.address });
}

/**
 * The first slot of a new link period: explicit (must be future) or the default. A link never starts
 * before the linking block's slot, except for a meter this same message registers: it has no ledger
 * history yet, so its first link covers every slot (late readings still need metering's window).
 */
function linkStart(ctx: EnergyContext, meterId: string, requested: number | undefined, registeredNow: boolean): number {
  const nowSlot = slotOfMs(ctx.time);
  const latest = latestLink(ctx.store, meterId);
  const fromSlot = requested ?? (registeredNow ? 0 : latest ? nowSlot + 1 : nowSlot);
  if (requested !== undefined && requested <= nowSlot) {
    throw E.ENERGY_LINK_NOT_FUTURE(`a link period must start in a future slot (> ${nowSlot}); got ${requested}`);
  }
  if (latest && fromSlot <= latest.fromSlot) {
    throw E.ENERGY_LINK_NOT_FUTURE(`meter ${meterId} already has a link period from slot ${latest.fromSlot}; a new one must start later`);
  }
  return fromSlot;
}

/**
 * Who may link a registered meter elsewhere: the owner of the community where it was last linked
 * or, if it never was, the account that registered it.
 */
function custodianOf(store: KVStore, meter: Meter): string {
  const latest = latestLink(store, meter.meterId);
  if (!latest) return meter.registeredBy;
  return getCommunity(store, latest.community)?.owner ?? meter.registeredBy;
}

/**
 * A registered meter moves into community `c` only with its custodian's consent: the custodian links
 * it itself, or released it to `c` (the release is used up by this link). Within the community where
 * it is linked the owner re-links freely, from a future slot.
 */
function requireCustody(ctx: EnergyContext, c: Community, meter: Meter): void {
  const latest = latestLink(ctx.store, meter.meterId);
  if (latest?.community === c.id) return;
  if (latest && latest.trader !== null) {
    throw E.ENERGY_METER_IN_OTHER_COMMUNITY(`meter ${meter.meterId} is linked in community ${latest.community}; remove it there first`);
  }
  const custodian = custodianOf(ctx.store, meter);
  if (custodian === ctx.sender) return;
  if (getRelease(ctx.store, meter.meterId)?.community !== c.id) {
    throw E.ENERGY_METER_NOT_RELEASED(`meter ${meter.meterId} is in the custody of ${custodian}; it must release the meter to community ${c.id} first (energy/release-meter)`);
  }
}

export function addMeter(ctx: EnergyContext, msg: AddMeterMsg): void {
  const { store } = ctx;
  const c = requireCommunity(store, msg.community);
  requireOwner(ctx, c);
  const labels = normalizeLabels(msg.labels);
  requireTrader(store, c.id, msg.trader);
  let meter = ctx.keepers.metering.meter(msg.meterId);
  const registeredNow = meter === undefined;
  if (!meter) {
    if (msg.address === undefined || msg.maxPowerW === undefined) {
      throw E.ENERGY_METER_DETAILS_REQUIRED(`meter ${msg.meterId} is not registered yet: give its address and maximum power`);
    }
    meter = ctx.keepers.metering.registerDevice({ meterId: msg.meterId, deviceId: msg.deviceId, address: msg.address, pubKey: msg.pubKey, maxPowerW: msg.maxPowerW });
  } else {
    const mismatch =
      (msg.address !== undefined && msg.address !== meter.address) ||
      (msg.maxPowerW !== undefined && msg.maxPowerW !== meter.maxPowerW) ||
      (msg.deviceId !== undefined && msg.deviceId !== meter.deviceId) ||
      (msg.pubKey !== undefined && msg.pubKey !== meter.pubKey);
    if (mismatch) throw E.ENERGY_METER_MISMATCH(`meter ${msg.meterId} is registered with other device details (address ${meter.address}, ${meter.maxPowerW} W)`);
    requireCustody(ctx, c, meter);
  }
  // A meter key never is a trader: meters need role meter, and add-trader refuses meter accounts.
  const fromSlot = linkStart(ctx, msg.meterId, msg.fromSlot, registeredNow);
  deleteRelease(store, msg.meterId);
  putLink(store, { meterId: msg.meterId, community: c.id, kind: msg.kind, trader: msg.trader, labels, fromSlot, height: ctx.height, txHash: ctx.txHash });
  addCommunityMeter(store, c.id, msg.meterId);
  indexTraderMeter(store, c.id, msg.trader, msg.meterId);
  ctx.emit('energy.meter_linked', { community: c.id, meterId: msg.meterId, kind: msg.kind, trader: msg.trader, labels: labels.join(','), fromSlot });
}

/** The custodian consents that the owner of `msg.community` links the meter there (replacing any earlier release). */
export function releaseMeter(ctx: EnergyContext, msg: ReleaseMeterMsg): void {
  const { store } = ctx;
  const meter = ctx.keepers.metering.meter(msg.meterId);
  if (!meter) throw E.ENERGY_METER_NOT_FOUND(`meter ${msg.meterId} is not registered`);
  const custodian = custodianOf(store, meter);
  if (custodian !== ctx.sender) throw E.ENERGY_NOT_METER_CUSTODIAN(`meter ${msg.meterId} is in the custody of ${custodian}`);
  const latest = latestLink(store, msg.meterId);
  if (latest && latest.trader !== null) {
    throw E.ENERGY_METER_STILL_LINKED(`meter ${msg.meterId} is linked in community ${latest.community} from slot ${latest.fromSlot}; unlink it first`);
  }
  requireCommunity(store, msg.community);
  putRelease(store, { meterId: msg.meterId, community: msg.community, by: ctx.sender, height: ctx.height, txHash: ctx.txHash });
  ctx.emit('energy.meter_released', { meterId: msg.meterId, community: msg.community });
}

export function removeMeter(ctx: EnergyContext, msg: RemoveMeterMsg): void {
  const { store } = ctx;
  const c = requireCommunity(store, msg.community);
  requireOwner(ctx, c);
  const latest = latestLink(store, msg.meterId);
  if (!latest || latest.community !== c.id || latest.trader === null) {
    throw E.ENERGY_METER_NOT_IN_COMMUNITY(`meter ${msg.meterId} is not linked in community ${c.id}`);
  }
  const fromSlot = linkStart(ctx, msg.meterId, msg.fromSlot, false);
  putLink(store, { ...latest, trader: null, labels: [], fromSlot, height: ctx.height, txHash: ctx.txHash });
  ctx.emit('energy.meter_unlinked', { community: c.id, meterId: msg.meterId, fromSlot });
}

/**
 * metering → energy: export credits the linked trader with a producer meter's labels, import debits
 * it with a consumer meter's labels (HanzeNet: consumers may carry labels too, e.g. a heat pump tariff);
 * the other direction of each meter is unlabelled.
 */
export function applyReading(ctx: EnergyContext, event: ReadingEvent): void {
  const { reading } = event;
  const link = linkAt(ctx.store, reading.meterId, reading.slot);
  const linked = link !== undefined && link.trader !== null ? link : undefined;
  if (event.community !== undefined && linked?.community !== event.community) {
    throw E.ENERGY_METER_NOT_IN_COMMUNITY(`meter ${reading.meterId} is not linked in community ${event.community} at slot ${reading.slot}`);
  }
  if (!linked) return;
  const booker = new Booker(ctx);
  const producer = linked.kind === 'producer';
  if (reading.exportWh > 0) booker.book(linked.community, linked.trader!, reading.slot, producer ? linked.labels : [], reading.exportWh, 'production', { meterId: reading.meterId });
  if (reading.importWh > 0) booker.book(linked.community, linked.trader!, reading.slot, producer ? [] : linked.labels, -reading.importWh, 'consumption', { meterId: reading.meterId });
}

export function transfer(ctx: EnergyContext, msg: TransferMsg): void {
  const { store } = ctx;
  const c = requireCommunity(store, msg.community);
  requireTrader(store, c.id, ctx.sender);
  requireTrader(store, c.id, msg.to, 'ENERGY_RECIPIENT_NOT_TRADER');
  if (!ctx.keepers.registry.isActive(msg.to)) throw E.ENERGY_RECIPIENT_REVOKED(`${msg.to} is no longer an admitted participant; it cannot receive energy`);
  if (msg.to === ctx.sender) throw E.ENERGY_TRANSFER_TO_SELF('a trader cannot transfer to itself');
  requirePositive(msg.wh);
  const labels = normalizeLabels(msg.labels);
  const description = msg.description?.trim();
  if (description === '') throw E.ENERGY_DESCRIPTION_EMPTY('a transfer description, when given, must not be blank');
  requireHolds(store, c.id, ctx.sender, msg.slot, labels, msg.wh);
  const booker = new Booker(ctx);
  const note: { description?: string } = description !== undefined ? { description } : {};
  booker.book(c.id, ctx.sender, msg.slot, labels, -msg.wh, 'transfer-out', { counterparty: msg.to, ...note });
  booker.book(c.id, msg.to, msg.slot, labels, msg.wh, 'transfer-in', { counterparty: ctx.sender, ...note });
  ctx.emit('energy.transfer', { community: c.id, from: ctx.sender, to: msg.to, slot: msg.slot, labels: labels.join(','), wh: msg.wh, ...(description !== undefined ? { description } : {}) });
}

export function reduce(ctx: EnergyContext, msg: ReduceMsg): void {
  const { store } = ctx;
  const c = requireCommunity(store, msg.community);
  requireTrader(store, c.id, ctx.sender);
  requirePositive(msg.wh);
  const labels = normalizeLabels(msg.labels);
  const remove = normalizeLabels(msg.remove);
  if (remove.length === 0) throw E.ENERGY_REDUCE_EMPTY('name at least one label to remove');
  const missing = remove.filter((l) => !labels.includes(l));
  if (missing.length > 0) throw E.ENERGY_REDUCE_NOT_SUBSET(`labels ${missing.join(',')} are not in [${labelsKey(labels)}]; labels can only be removed, never added`);
  requireHolds(store, c.id, ctx.sender, msg.slot, labels, msg.wh);
  const kept = labels.filter((l) => !remove.includes(l));
  const booker = new Booker(ctx);
  booker.book(c.id, ctx.sender, msg.slot, labels, -msg.wh, 'reduce-out');
  booker.book(c.id, ctx.sender, msg.slot, kept, msg.wh, 'reduce-in');
  ctx.emit('energy.reduce', { community: c.id, trader: ctx.sender, slot: msg.slot, from: labels.join(','), to: kept.join(','), wh: msg.wh });
}

/**
 * Owner adjustments. Labelled energy is created only by production meters, so an adjustment that
 * adds energy is unlabelled, and one that removes labelled energy takes at most what the trader holds
 * of that label set (as a transfer would). Hence every positive labelled balance, in a community and
 * after settle-to-parent in its parents, is backed by metered production.
 */
export function mutate(ctx: EnergyContext, msg: MutateMsg): void {
  const { store } = ctx;
  const c = requireCommunity(store, msg.community);
  requireOwner(ctx, c);
  if (msg.trader !== c.owner) requireTrader(store, c.id, msg.trader);
  if (msg.wh === 0) throw E.ENERGY_AMOUNT_ZERO('a mutation must change the balance (wh ≠ 0)');
  const description = msg.description.trim();
  if (description.length === 0) throw E.ENERGY_DESCRIPTION_REQUIRED('a mutation needs a description (e.g. "supplied by external party")');
  const labels = normalizeLabels(msg.labels);
  if (labels.length > 0 && msg.wh > 0) {
    throw E.ENERGY_MUTATE_LABELLED_CREDIT(`an adjustment may add unlabelled energy only; [${labelsKey(labels)}] energy comes from production meters`);
  }
  if (labels.length > 0 && getFreeBalance(store, c.id, msg.trader, msg.slot, labels) < -msg.wh) {
    const held = getFreeBalance(store, c.id, msg.trader, msg.slot, labels);
    throw E.ENERGY_MUTATE_EXCEEDS_LABELLED(`${msg.trader} holds ${held} Wh [${labelsKey(labels)}] free at slot ${msg.slot}; an adjustment cannot remove ${-msg.wh} Wh of it`);
  }
  new Booker(ctx).book(c.id, msg.trader, msg.slot, labels, msg.wh, 'mutate', { description });
  ctx.emit('energy.mutate', { community: c.id, trader: msg.trader, slot: msg.slot, labels: labels.join(','), wh: msg.wh });
}

/**
 * Moves a member community's net position per label set for a slot into the parent, where its owner
 * trades for it, and books the opposite adjustment to the owner in the child, so the child nets to zero.
 * Labelled nets are backed by production: adjustments never add labelled energy (see `mutate`), and
 * the owner's own labelled balance in the child only falls by what earlier settlements moved up.
 */
export function settleToParent(ctx: EnergyContext, msg: SettleMsg): void {
  const { store } = ctx;
  const c = requireCommunity(store, msg.community);
  requireOwner(ctx, c);
  if (c.parent === undefined) throw E.ENERGY_NO_PARENT(`community ${c.id} is not a member of a parent community`);
  // The owner is a trader of the parent: required at creation, and remove-trader refuses to remove a representative.
  const net = new Map<string, number>();
  for (const row of communityBalances(store, c.id, msg.slot, msg.slot + 1)) {
    const lk = labelsKey(row.labels);
    net.set(lk, (net.get(lk) ?? 0) + row.wh);
  }
  const moves = [...net.entries()].filter(([, wh]) => wh !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (moves.length === 0) throw E.ENERGY_NOTHING_TO_SETTLE(`community ${c.id} has a zero net position at slot ${msg.slot}`);
  // Energy a module locked of the owner's own balance (e.g. its market offer) stays covered.
  for (const [lk, wh] of moves) {
    const labels = labelsFromKey(lk);
    const locked = getLocked(store, c.id, c.owner, msg.slot, labels);
    if (locked > 0 && getBalance(store, c.id, c.owner, msg.slot, labels) - wh < locked) {
      throw E.ENERGY_INSUFFICIENT_BALANCE(`${locked} Wh [${lk}] of the owner ${c.owner} at slot ${msg.slot} are locked; settling ${wh} Wh to the parent would uncover them`);
    }
  }
  const booker = new Booker(ctx);
  for (const [lk, wh] of moves) {
    const labels = labelsFromKey(lk);
    booker.book(c.id, c.owner, msg.slot, labels, -wh, 'settle-to-parent', { counterparty: c.parent, description: `net position moved to parent ${c.parent}` });
    booker.book(c.parent, c.owner, msg.slot, labels, wh, 'settle-from-child', { counterparty: c.id, description: `net position of member community ${c.id}` });
    ctx.emit('energy.settle_to_parent', { community: c.id, parent: c.parent, slot: msg.slot, labels: labels.join(','), wh });
  }
}
