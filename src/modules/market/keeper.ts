import { contractCovering } from './orders.js';
import type { MarketContext } from './rules.js';
import { configs, tariffAt, type Contract, type MarketConfig, type TariffVersion } from './state.js';

/** What other modules may ask of the market (read-only). */
export interface MarketKeeper {
  /** The community's market, or undefined. */
  market(community: string): MarketConfig | undefined;
  /** The community's external tariffs in force at a slot. */
  tariffAt(community: string, slot: number): TariffVersion | undefined;
  /** The active supply contract under which `consumer` buys at `slot`, if any. */
  contractOf(community: string, consumer: string, slot: number): Contract | undefined;
}

declare module '../../app/module.js' {
  interface Keepers {
    market: MarketKeeper;
  }
}

export function marketKeeper(ctx: MarketContext): MarketKeeper {
  return {
    market: (community) => configs.get(ctx.store, community),
    tariffAt: (community, slot) => tariffAt(ctx.store, community, slot),
    contractOf: (community, consumer, slot) => contractCovering(ctx, community, consumer, slot),
  };
}

export type { Contract, MarketConfig, TariffVersion };
