import { putDue } from './delivery.js';
import { E } from './errors.js';
import type { OpenMarketMsg, SetTariffsMsg } from './messages.js';
import { currentSlot, DEFAULT_GATE_AFTER_END_SEC, DEFAULT_GATE_BEFORE_START_SEC, DEFAULT_SETTLE_AFTER_SEC, txRef, type MarketContext } from './rules.js';
import { configs, cursors, tariffs, type MarketConfig } from './state.js';

/** Opening a community's market (its type is chosen once) and changing its external tariffs. */

function requireOwner(ctx: MarketContext, community: string): void {
  const c = ctx.keepers.energy.community(community);
  if (!c) throw E.MARKET_COMMUNITY_NOT_FOUND(`community ${community} does not exist`);
  if (c.owner !== ctx.sender) throw E.MARKET_NOT_OWNER(`only the owner ${c.owner} of community ${community} may do this`);
}

function requirePrices(ctx: MarketContext, importPrice: number, exportPrice: number): void {
  const worst = Math.max(importPrice, exportPrice);
  if (worst > ctx.params.maxPrice) throw E.MARKET_PRICE_LIMIT(`tariff ${worst} µ/kWh is above maxPrice ${ctx.params.maxPrice}`);
}

export function openMarket(ctx: MarketContext, msg: OpenMarketMsg): void {
  requireOwner(ctx, msg.community);
  if (configs.has(ctx.store, msg.community)) throw E.MARKET_EXISTS(`community ${msg.community} already has a market`);
  if (!ctx.keepers.payments.asset(msg.asset)) throw E.MARKET_ASSET_NOT_FOUND(`no asset ${msg.asset}`);
  requirePrices(ctx, msg.importPrice, msg.exportPrice);
  const slot = currentSlot(ctx);
  const config: MarketConfig = {
    community: msg.community,
    type: msg.type,
    asset: msg.asset,
    gateBeforeStartSec: msg.gateBeforeStartSec ?? DEFAULT_GATE_BEFORE_START_SEC,
    gateAfterEndSec: msg.gateAfterEndSec ?? DEFAULT_GATE_AFTER_END_SEC,
    settleAfterSec: msg.settleAfterSec ?? DEFAULT_SETTLE_AFTER_SEC,
    openSlot: slot,
    openedAt: txRef(ctx),
  };
  configs.put(ctx.store, config, msg.community);
  // The first tariff version covers every slot, so a tariff is in force wherever billing looks.
  tariffs.put(ctx.store, { community: msg.community, fromSlot: 0, importPrice: msg.importPrice, exportPrice: msg.exportPrice, at: txRef(ctx) }, msg.community, 0);
  cursors.put(ctx.store, { slot }, msg.community);
  if (ctx.stateVersion >= 2) putDue(ctx, msg.community, slot);
  ctx.emit('market.opened', { community: msg.community, type: msg.type, asset: msg.asset, importPrice: msg.importPrice, exportPrice: msg.exportPrice });
}

export function setTariffs(ctx: MarketContext, msg: SetTariffsMsg): void {
  requireOwner(ctx, msg.community);
  if (!configs.has(ctx.store, msg.community)) throw E.MARKET_NOT_FOUND(`community ${msg.community} has no market`);
  requirePrices(ctx, msg.importPrice, msg.exportPrice);
  const now = currentSlot(ctx);
  if (msg.fromSlot <= now) throw E.MARKET_TARIFF_NOT_FUTURE(`slot ${msg.fromSlot} has begun (current slot ${now}); tariffs change for future slots only`);
  tariffs.put(ctx.store, { community: msg.community, fromSlot: msg.fromSlot, importPrice: msg.importPrice, exportPrice: msg.exportPrice, at: txRef(ctx) }, msg.community, msg.fromSlot);
  ctx.emit('market.tariffs', { community: msg.community, fromSlot: msg.fromSlot, importPrice: msg.importPrice, exportPrice: msg.exportPrice });
}
