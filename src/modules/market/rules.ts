import { timedTxRef } from '../../app/tx-ref.js';
import type { KeepersOf, ModuleContext } from '../../app/module.js';
import { claimEnergyOwner } from '../energy/keeper.js';
import { claimFundsOwner } from '../payments/keeper.js';
import { bigFloorDiv } from '../../util/int.js';
import { SLOT_MS, slotOfMs } from '../../util/slots.js';
import { E } from './errors.js';
import { configs, type MarketConfig, type SessionKind } from './state.js';

/** Shared pieces of the market rules: context, parameters, capabilities, money and gate arithmetic. */

export const REQUIRES = ['energy', 'metering', 'payments', 'registry'] as const;

export interface MarketParams {
  /** Largest order, Wh. */
  maxOrderWh: number;
  /** Highest price of an order or contract, µ per kWh. */
  maxPrice: number;
  /** Orders and contracts reach at most this many slots past the current one. */
  maxFutureSlots: number;
  /** Open orders one trader may have in one community. */
  maxOpenOrdersPerTrader: number;
  /** Orders one session (a slot's forward or spot trading) may receive; ≤ endBlockWork. */
  maxOrdersPerSession: number;
  /** Resting orders an incoming order examines when it matches (continuous and pay-as-offer). */
  maxScanPerOrder: number;
  /** Work units the end-of-block step may spend (see docs/market.md, "Per-block bound"). */
  endBlockWork: number;
  /** Longest supply contract, slots. */
  maxContractSlots: number;
  /** Longest notice period, slots. */
  maxNoticeSlots: number;
  /** How long after a contract finished a party may dispute its deposit, seconds. */
  disputeWindowSec: number;
}

export const DEFAULT_PARAMS: MarketParams = {
  maxOrderWh: 1_000_000_000,
  maxPrice: 1_000_000_000,
  maxFutureSlots: 7 * 96,
  maxOpenOrdersPerTrader: 200,
  maxOrdersPerSession: 20_000,
  maxScanPerOrder: 1_000,
  endBlockWork: 50_000,
  maxContractSlots: 31 * 96,
  maxNoticeSlots: 7 * 96,
  disputeWindowSec: 3 * 86_400,
};

export const DEFAULT_GATE_BEFORE_START_SEC = 300;
export const DEFAULT_GATE_AFTER_END_SEC = 3600;
export const DEFAULT_SETTLE_AFTER_SEC = 900;
export const DEFAULT_NOTICE_SLOTS = 4;

export type MarketContext = ModuleContext<KeepersOf<typeof REQUIRES>, MarketParams>;

/** The market's capabilities in payments and energy: minted once, here, and never handed out. */
export const FUNDS = claimFundsOwner('market');
export const ENERGY = claimEnergyOwner('market');

export const txRef = timedTxRef;

export function requireMarket(ctx: MarketContext, community: string): MarketConfig {
  const config = configs.get(ctx.store, community);
  if (!config) {
    if (!ctx.keepers.energy.community(community)) throw E.MARKET_COMMUNITY_NOT_FOUND(`community ${community} does not exist`);
    throw E.MARKET_NOT_FOUND(`community ${community} has no market`);
  }
  return config;
}

export function requireTrader(ctx: MarketContext, community: string, address: string): void {
  if (!ctx.keepers.energy.isActiveTrader(community, address)) throw E.MARKET_NOT_TRADER(`${address} is not a trader of community ${community}`);
}

/** A trader who can still take part in a trade: admitted, not revoked, an active trader of the community. */
export function canTrade(ctx: MarketContext, community: string, address: string): boolean {
  return ctx.keepers.registry.isActive(address) && ctx.keepers.energy.isActiveTrader(community, address);
}

// ── money: µ = Wh × (µ per kWh) / 1000 ──

/** ⌊wh × price / 1000⌋: what a trade or a covered slot pays (floor: at most 1 µ below the exact value). */
export function valueOf(wh: number, price: number): bigint {
  return bigFloorDiv(BigInt(wh) * BigInt(price), 1000n);
}

/** ⌈wh × price / 1000⌉: what a bid locks, so that the trades it makes (each rounded down) always fit. */
export function ceilValueOf(wh: number, price: number): bigint {
  return -bigFloorDiv(-(BigInt(wh) * BigInt(price)), 1000n);
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

// ── slots and gates ──

export function slotStart(slot: number): number {
  return slot * SLOT_MS;
}

export function slotEnd(slot: number): number {
  return (slot + 1) * SLOT_MS;
}

export function currentSlot(ctx: { time: number }): number {
  return slotOfMs(ctx.time);
}

/** When the forward (before start) or spot (after end) trading of a slot closes, ms. */
export function gateTime(config: MarketConfig, slot: number, session: SessionKind): number {
  return session === 'fwd' ? slotStart(slot) - config.gateBeforeStartSec * 1000 : slotEnd(slot) + config.gateAfterEndSec * 1000;
}

/**
 * Which session an order for `slot` posted at `time` belongs to: forward while the gate before the
 * slot's start is open, spot from the slot's end until the gate after it. In between (delivery) and
 * after the spot gate: MARKET_GATE_CLOSED; beyond the horizon: MARKET_SLOT_UNKNOWN.
 */
export function sessionAt(ctx: MarketContext, config: MarketConfig, slot: number): SessionKind {
  const now = currentSlot(ctx);
  if (slot > now + ctx.params.maxFutureSlots) throw E.MARKET_SLOT_UNKNOWN(`slot ${slot} is beyond the order horizon (${ctx.params.maxFutureSlots} slots after the current slot ${now})`);
  if (ctx.time < gateTime(config, slot, 'fwd')) return 'fwd';
  if (ctx.time >= slotEnd(slot) && ctx.time < gateTime(config, slot, 'spot')) return 'spot';
  if (ctx.time < slotEnd(slot)) {
    throw E.MARKET_GATE_CLOSED(`slot ${slot} is past its gate closure (${config.gateBeforeStartSec} s before its start) and in delivery until ${slotEnd(slot)} ms`);
  }
  throw E.MARKET_GATE_CLOSED(`trading of ended slot ${slot} closed ${config.gateAfterEndSec} s after its end`);
}
