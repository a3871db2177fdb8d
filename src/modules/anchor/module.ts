import { z } from 'zod';
import { defineModule, handler, on } from '../../app/module.js';
import { readingAccepted } from '../metering/keeper.js';
import { E } from './errors.js';
import { confirmMsg, MSG, networkSchema, recordMsg } from './messages.js';
import { collectFingerprint, confirmAnchor, recordAnchor, REQUIRES, takeCheckpoint } from './rules.js';
import { DEFAULT_CHECKPOINT_INTERVAL, type AnchorParams } from './state.js';

/**
 * The anchor module (issue 15): every K blocks a checkpoint of the chain (block hash, state root,
 * chain id, and the Merkle root of the meter interval fingerprints committed since the previous
 * checkpoint); the anchor operator records the Bitcoin transaction whose OP_RETURN carries it and,
 * later, the block that includes it. Checkpoint format and verification: docs/anchor.md.
 */

const params = z
  .object({
    checkpointInterval: z.number().int().min(1).max(1_000_000_000),
    network: networkSchema,
  })
  .strict();

export const anchorCore = defineModule<undefined, AnchorParams>({
  name: 'anchor',
  requires: REQUIRES,
  errors: E,
  messages: {
    [MSG.record]: handler(recordMsg, recordAnchor),
    [MSG.confirm]: handler(confirmMsg, confirmAnchor),
  },
  params: { schema: params, defaults: { checkpointInterval: DEFAULT_CHECKPOINT_INTERVAL, network: 'mainnet' } },
  hooks: [on(readingAccepted, collectFingerprint)],
  endBlock: (ctx) => takeCheckpoint(ctx),
});
