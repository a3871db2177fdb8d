import type { ModuleContext } from '../../app/module.js';
import { plantSegments, type Segment } from './holdings.js';
import { requirePlant } from './rules.js';
import { getPlant, type Plant } from './state.js';

/** What other modules may ask of the shares module (billing reads plants and their holdings). */
export interface SharesKeeper {
  plant(id: string): Plant | undefined;
  /** The plant, or SHARES_UNKNOWN_PLANT. */
  requirePlant(id: string): Plant;
  /** Holdings of every participant over [fromSlot, toSlot), as runs of equal ppm. */
  segments(plant: Plant, fromSlot: number, toSlot: number): Record<string, Segment[]>;
}

declare module '../../app/module.js' {
  interface Keepers {
    shares: SharesKeeper;
  }
}

export function sharesKeeper(ctx: ModuleContext<any, any>): SharesKeeper {
  return {
    plant: (id) => getPlant(ctx.store, id),
    requirePlant: (id) => requirePlant(ctx.store, id),
    segments: (plant, fromSlot, toSlot) => plantSegments(ctx.store, plant, fromSlot, toSlot),
  };
}

// Pure functions over plant data that other modules may use.
export { expandSegments, keyAt, keysOverlapping, participantsOverlapping, registrationSlot, type Segment } from './holdings.js';
export { PPM_TOTAL, type KeyVersion, type Participant, type Plant } from './state.js';
export { plantIdSchema } from './messages.js';
