import type { TargetFactory } from '../lib/engine.js';
import { canonicalTarget } from './canonical.js';
import { blockTarget, reactorsTarget, txTarget } from './ledger.js';

/** Every fuzz target, by name (the names `npm run fuzz -- --only` accepts). */
export const TARGETS: Record<string, TargetFactory> = {
  canonical: canonicalTarget,
  tx: txTarget,
  block: blockTarget,
  reactors: reactorsTarget,
};
