import type { ModuleContext } from '../../app/module.js';
import { getBalance, getCommunity, isActiveTrader, linkAt, type Community, type MeterLink } from './state.js';

/** What other modules may ask of energy communities. */
export interface EnergyKeeper {
  community(id: string): Community | undefined;
  isActiveTrader(community: string, address: string): boolean;
  /** Balance (Wh) of a trader for a slot and exact label set. */
  balance(community: string, trader: string, slot: number, labels: readonly string[]): number;
  /** The link period of a meter in force at `slot`. */
  linkAt(meterId: string, slot: number): MeterLink | undefined;
}

declare module '../../app/module.js' {
  interface Keepers {
    energy: EnergyKeeper;
  }
}

export function energyKeeper(ctx: ModuleContext<any, any>): EnergyKeeper {
  const { store } = ctx;
  return {
    community: (id) => getCommunity(store, id),
    isActiveTrader: (community, address) => isActiveTrader(store, community, address),
    balance: (community, trader, slot, labels) => getBalance(store, community, trader, slot, labels),
    linkAt: (meterId, slot) => linkAt(store, meterId, slot),
  };
}

export type { Community, MeterLink };
