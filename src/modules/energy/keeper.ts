import type { Page } from '../../app/collections.js';
import type { ModuleContext } from '../../app/module.js';
import { OwnerTokens, type ModuleOwner } from '../../app/owners.js';
import { E } from './errors.js';
import { Booker, requirePositive, requireTrader, type EnergyContext } from './rules.js';
import {
  adjustLocked,
  getBalance,
  getCommunity,
  getEnergyLock,
  getFreeBalance,
  getLocked,
  getTrader,
  isActiveTrader,
  labelsKey,
  linkAt,
  listAdjustments,
  listLinks,
  listTraderMeters,
  listTraders,
  matchingTraderPage,
  normalizeLabels,
  putEnergyLock,
  traderBalances,
  traderPage,
  type BalanceRow,
  type Community,
  type EnergyLock,
  type HistoryEntry,
  type MeterKind,
  type MeterLink,
  type Trader,
} from './state.js';

/** A meter's link to one trader in one community over the slots [fromSlot, toSlot). */
export interface LinkPeriod {
  meterId: string;
  kind: MeterKind;
  labels: string[];
  fromSlot: number;
  /** Exclusive; Number.MAX_SAFE_INTEGER while the link is open-ended. */
  toSlot: number;
}

/** Which balance an energy lock or a delivery concerns. */
export interface EnergySpec {
  community: string;
  trader: string;
  slot: number;
  labels: readonly string[];
  wh: number;
}

/**
 * What other modules may ask of energy communities.
 *
 * Locks and deliveries follow the payments keeper's two rules: a module locks only the energy of the
 * transaction's signer (ENERGY_LOCK_NOT_SIGNER), and locks belong to the module that created them —
 * their ids are "<module>/<ref>" and every call names the caller by its `EnergyOwner`, minted once per
 * module (`claimEnergyOwner('market')`). Locked energy stays in the trader's balance (queries show
 * it) but transfer, reduce, mutate and further locks see only the free part.
 */
export interface EnergyKeeper {
  community(id: string): Community | undefined;
  isActiveTrader(community: string, address: string): boolean;
  /** Balance (Wh) of a trader for a slot and exact label set. */
  balance(community: string, trader: string, slot: number, labels: readonly string[]): number;
  /** The link period of a meter in force at `slot`. */
  linkAt(meterId: string, slot: number): MeterLink | undefined;
  /** Traders of a community, active and removed, by address. */
  traders(community: string): Trader[];
  /** A page of the community's traders (active and removed) by address after `after`; `next` continues (limit + 1 read). */
  traderPage(community: string, options: { after?: string; limit: number }): Page<Trader>;
  /** A trader of a community (active or removed), or undefined when the account never was one. */
  trader(community: string, address: string): Trader | undefined;
  /**
   * A page of the community's traders (active and removed) that `keep` accepts, by address after
   * `after`; `next` continues. With `maxRows`, at most that many traders are read (ADR 0028): a short
   * page then ends where reading stopped.
   */
  tradersMatching(community: string, keep: (t: Trader) => boolean, options: { after?: string; limit: number; maxRows?: number }): Page<Trader>;
  /** Meter links in force at `slot` that link a meter to `trader` in `community`, by meter id. */
  metersOf(community: string, trader: string, slot: number): MeterLink[];
  /** Every period in which a meter was (or is) linked to `trader` in `community`, by meter id then slot. */
  linkPeriodsOf(community: string, trader: string): LinkPeriod[];
  /** Non-zero balances of a trader with fromSlot ≤ slot < toSlot, in (slot, labels) order. */
  balancesOf(community: string, trader: string, fromSlot: number, toSlot: number): BalanceRow[];
  /** Balance less the Wh modules locked of it. */
  freeBalance(community: string, trader: string, slot: number, labels: readonly string[]): number;
  /** Owner adjustments (mutate, settle to/from parent) of a community with fromSlot ≤ slot < toSlot, in booking order. */
  adjustments(community: string, fromSlot: number, toSlot: number): HistoryEntry[];
  /**
   * Locks `spec.wh` of the signer's free balance under "<owner>/<ref>". Errors: ENERGY_LOCK_NOT_SIGNER,
   * ENERGY_LOCK_EXISTS, ENERGY_NOT_TRADER, ENERGY_AMOUNT_NOT_POSITIVE, ENERGY_INSUFFICIENT_BALANCE.
   */
  lock(owner: EnergyOwner, ref: string, spec: EnergySpec): EnergyLock;
  /** The caller's energy lock, or undefined (emptied locks disappear). */
  lockOf(owner: EnergyOwner, ref: string): EnergyLock | undefined;
  /** Frees `wh` (default: all that remains) of the lock; returns the Wh freed. Errors: ENERGY_LOCK_NOT_FOUND, ENERGY_AMOUNT_NOT_POSITIVE, ENERGY_LOCK_INSUFFICIENT. */
  unlock(owner: EnergyOwner, ref: string, wh?: number): number;
  /**
   * Moves `wh` out of the lock to `to` (same community, slot and labels), booked as delivery-out /
   * delivery-in. Errors: ENERGY_LOCK_NOT_FOUND, ENERGY_AMOUNT_NOT_POSITIVE, ENERGY_LOCK_INSUFFICIENT,
   * ENERGY_TRANSFER_TO_SELF, ENERGY_RECIPIENT_NOT_TRADER, ENERGY_RECIPIENT_REVOKED.
   */
  deliverLocked(owner: EnergyOwner, ref: string, to: string, wh: number, description?: string): void;
  /**
   * Moves `spec.wh` of `spec.trader`'s free balance to `to`, on the strength of a promise the trader
   * signed earlier (a market trade for a future slot, a supply contract); needs no signer, so it works
   * at the end of a block. Errors: ENERGY_AMOUNT_NOT_POSITIVE, ENERGY_TRANSFER_TO_SELF,
   * ENERGY_RECIPIENT_NOT_TRADER, ENERGY_RECIPIENT_REVOKED, ENERGY_INSUFFICIENT_BALANCE.
   */
  deliver(owner: EnergyOwner, spec: EnergySpec, to: string, description?: string): void;
}

declare module '../../app/module.js' {
  interface Keepers {
    energy: EnergyKeeper;
  }
}

/** A module's right to lock and deliver traders' energy (see EnergyKeeper). */
export type EnergyOwner = ModuleOwner;

const owners = new OwnerTokens({ granter: 'energy', noun: 'energy owner', minted: 'an EnergyOwner minted by claimEnergyOwner' });

/**
 * Mints the `EnergyOwner` of a module. Call once, at the top level of the module's own code, and keep
 * it private to the module; a second claim of the same name throws, so no other code can obtain it.
 */
export const claimEnergyOwner = (module: string): EnergyOwner => owners.claim(module);

/** "<module>/<ref>" for a genuine owner and a well-formed ref (anything else is the caller's bug). */
const ownedId = (owner: EnergyOwner, ref: string): string => owners.ownedId(owner, ref);

function requireLock(ctx: EnergyContext, id: string): EnergyLock {
  const lock = getEnergyLock(ctx.store, id);
  if (!lock) throw E.ENERGY_LOCK_NOT_FOUND(`no energy lock ${id}`);
  return lock;
}

/** Takes `wh` (default all) out of a lock and its aggregate; the lock disappears when emptied. */
function drawLock(ctx: EnergyContext, lock: EnergyLock, wh: number | undefined): number {
  const take = wh ?? lock.wh;
  requirePositive(take);
  if (take > lock.wh) throw E.ENERGY_LOCK_INSUFFICIENT(`energy lock ${lock.id} holds ${lock.wh} Wh, asked for ${take}`);
  adjustLocked(ctx.store, lock.community, lock.trader, lock.slot, lock.labels, -take);
  putEnergyLock(ctx.store, { ...lock, wh: lock.wh - take });
  return take;
}

/** The recipient of delivered energy: another active, admitted trader of the community. */
function requireRecipient(ctx: EnergyContext, community: string, from: string, to: string): void {
  if (to === from) throw E.ENERGY_TRANSFER_TO_SELF('a trader cannot deliver to itself');
  requireTrader(ctx.store, community, to, 'ENERGY_RECIPIENT_NOT_TRADER');
  if (!ctx.keepers.registry.isActive(to)) throw E.ENERGY_RECIPIENT_REVOKED(`${to} is no longer an admitted participant; it cannot receive energy`);
}

function book(ctx: EnergyContext, community: string, from: string, to: string, slot: number, labels: readonly string[], wh: number, description: string | undefined): void {
  const booker = new Booker(ctx);
  const extra = description ? { description } : {};
  booker.book(community, from, slot, labels, -wh, 'delivery-out', { counterparty: to, ...extra });
  booker.book(community, to, slot, labels, wh, 'delivery-in', { counterparty: from, ...extra });
  ctx.emit('energy.delivery', { community, from, to, slot, labels: labels.join(','), wh });
}

/** Link periods of one meter that link it to `trader` in `community`. */
function periodsOf(links: MeterLink[], community: string, trader: string): LinkPeriod[] {
  const out: LinkPeriod[] = [];
  links.forEach((l, i) => {
    if (l.community !== community || l.trader !== trader) return;
    out.push({ meterId: l.meterId, kind: l.kind, labels: l.labels, fromSlot: l.fromSlot, toSlot: links[i + 1]?.fromSlot ?? Number.MAX_SAFE_INTEGER });
  });
  return out;
}

export function energyKeeper(ctx: ModuleContext<any, any>): EnergyKeeper {
  const ectx = ctx as EnergyContext;
  const { store } = ctx;
  return {
    community: (id) => getCommunity(store, id),
    isActiveTrader: (community, address) => isActiveTrader(store, community, address),
    balance: (community, trader, slot, labels) => getBalance(store, community, trader, slot, labels),
    linkAt: (meterId, slot) => linkAt(store, meterId, slot),
    traders: (community) => listTraders(store, community),
    traderPage: (community, options) => traderPage(store, community, options),
    trader: (community, address) => getTrader(store, community, address),
    tradersMatching: (community, keep, options) => matchingTraderPage(store, community, keep, options),
    metersOf: (community, trader, slot) =>
      listTraderMeters(store, community, trader)
        .map((meterId) => linkAt(store, meterId, slot))
        .filter((l): l is MeterLink => l !== undefined && l.community === community && l.trader === trader),
    linkPeriodsOf: (community, trader) => listTraderMeters(store, community, trader).flatMap((meterId) => periodsOf(listLinks(store, meterId), community, trader)),
    balancesOf: (community, trader, fromSlot, toSlot) => traderBalances(store, community, trader, fromSlot, toSlot),
    freeBalance: (community, trader, slot, labels) => getFreeBalance(store, community, trader, slot, normalizeLabels(labels)),
    adjustments: (community, fromSlot, toSlot) => listAdjustments(store, community).filter((e) => e.slot >= fromSlot && e.slot < toSlot),
    lock(owner, ref, spec) {
      const id = ownedId(owner, ref);
      if (ctx.sender === '' || spec.trader !== ctx.sender) throw E.ENERGY_LOCK_NOT_SIGNER(`a module may lock only the energy of the transaction's signer, not ${spec.trader}`);
      if (getEnergyLock(store, id)) throw E.ENERGY_LOCK_EXISTS(`energy lock ${id} already exists`);
      requireTrader(store, spec.community, spec.trader);
      requirePositive(spec.wh);
      const labels = normalizeLabels(spec.labels);
      const free = getFreeBalance(store, spec.community, spec.trader, spec.slot, labels);
      if (free < spec.wh) throw E.ENERGY_INSUFFICIENT_BALANCE(`${spec.trader} holds ${free} Wh [${labelsKey(labels)}] free at slot ${spec.slot} in ${spec.community}; ${spec.wh} Wh needed`);
      adjustLocked(store, spec.community, spec.trader, spec.slot, labels, spec.wh);
      const lock: EnergyLock = { id, module: owner.module, community: spec.community, trader: spec.trader, slot: spec.slot, labels, wh: spec.wh, original: spec.wh, lockedAt: { height: ctx.height, txHash: ctx.txHash } };
      putEnergyLock(store, lock);
      ctx.emit('energy.locked', { id, community: spec.community, trader: spec.trader, slot: spec.slot, labels: labels.join(','), wh: spec.wh });
      return lock;
    },
    lockOf: (owner, ref) => getEnergyLock(store, ownedId(owner, ref)),
    unlock(owner, ref, wh) {
      const lock = requireLock(ectx, ownedId(owner, ref));
      const freed = drawLock(ectx, lock, wh);
      ctx.emit('energy.unlocked', { id: lock.id, wh: freed });
      return freed;
    },
    deliverLocked(owner, ref, to, wh, description) {
      const lock = requireLock(ectx, ownedId(owner, ref));
      requirePositive(wh);
      if (wh > lock.wh) throw E.ENERGY_LOCK_INSUFFICIENT(`energy lock ${lock.id} holds ${lock.wh} Wh, asked for ${wh}`);
      requireRecipient(ectx, lock.community, lock.trader, to);
      drawLock(ectx, lock, wh);
      book(ectx, lock.community, lock.trader, to, lock.slot, lock.labels, wh, description);
    },
    deliver(owner, spec, to, description) {
      ownedId(owner, 'deliver');
      requirePositive(spec.wh);
      requireRecipient(ectx, spec.community, spec.trader, to);
      const labels = normalizeLabels(spec.labels);
      const free = getFreeBalance(store, spec.community, spec.trader, spec.slot, labels);
      if (free < spec.wh) {
        const locked = getLocked(store, spec.community, spec.trader, spec.slot, labels);
        throw E.ENERGY_INSUFFICIENT_BALANCE(`${spec.trader} holds ${free} Wh [${labelsKey(labels)}] free at slot ${spec.slot} (${locked} Wh locked); ${spec.wh} Wh to deliver`);
      }
      book(ectx, spec.community, spec.trader, to, spec.slot, labels, spec.wh, description);
    },
  };
}

export type { BalanceRow, Community, EnergyLock, HistoryEntry, MeterKind, MeterLink, Trader };
