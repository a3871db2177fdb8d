import type { TargetFactory } from '../lib/engine.js';
import { blockSyncTarget } from './blocksync.js';
import { canonicalTarget } from './canonical.js';
import { consensusMessagesTarget, engineTarget } from './consensus.js';
import { hostTarget } from './host.js';
import { blockTarget, reactorsTarget, txTarget } from './ledger.js';
import { p1Target } from './p1.js';
import { framesTarget, handshakeTarget, sessionTarget } from './p2p.js';
import { proofsTarget } from './proofs.js';

/** Every fuzz target, by name (the names `npm run fuzz -- --only` accepts). */
export const TARGETS: Record<string, TargetFactory> = {
  canonical: canonicalTarget,
  tx: txTarget,
  block: blockTarget,
  reactors: reactorsTarget,
  frames: framesTarget,
  handshake: handshakeTarget(),
  'handshake-tcp': handshakeTarget({ transport: 'tcp' }),
  session: sessionTarget,
  'consensus-messages': consensusMessagesTarget,
  engine: engineTarget,
  blocksync: blockSyncTarget,
  host: hostTarget,
  p1: p1Target,
  proofs: proofsTarget,
};
