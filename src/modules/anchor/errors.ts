import { defineErrors } from '../../util/errors.js';

/**
 * Error codes of the `anchor` module's rules, its queries, `verify anchor` and the anchor service.
 * Codes about the Bitcoin data itself (a malformed transaction, a wrong OP_RETURN, a branch that does
 * not lead to the header's Merkle root, …) come from the Bitcoin library's catalogue
 * (`ANCHOR_ERRORS` in src/bitcoin/errors.ts, scope `bitcoin`) and pass through unchanged.
 */
export const E = defineErrors('anchor', {
  // Message rules
  ANCHOR_NOT_OPERATOR: { status: 403, meaning: 'only an admitted account with role anchor-operator may record or confirm anchors' },
  ANCHOR_CHECKPOINT_NOT_FOUND: { status: 404, meaning: 'no checkpoint was taken at that height (checkpoints are taken every checkpointInterval blocks)' },
  ANCHOR_ALREADY_RECORDED: { status: 409, meaning: 'an anchor transaction is already recorded for that checkpoint' },
  ANCHOR_NOT_RECORDED: { status: 409, meaning: 'no anchor transaction is recorded for that checkpoint yet, so there is nothing to confirm' },
  ANCHOR_ALREADY_CONFIRMED: { status: 409, meaning: 'the including Bitcoin block of that anchor is already recorded' },
  // Queries
  ANCHOR_ITEM_NOT_FOUND: { status: 404, meaning: 'the item (meter fingerprint) was never collected for a checkpoint' },
  ANCHOR_ITEM_NOT_CHECKPOINTED: { status: 409, meaning: 'the item was collected but the checkpoint that will cover it has not been taken yet' },
  // Verification (`gridledger verify anchor`, GET /v1/anchor/checkpoints/{height}/verification)
  ANCHOR_CHECKPOINT_MISMATCH: { meaning: 'a value recorded in the checkpoint differs from the one recomputed from the chain (block hash, state root, interval root, digest)' },
  ANCHOR_NOT_ANCHORED: { status: 409, meaning: 'no anchor transaction is recorded for the checkpoint' },
  ANCHOR_NOT_CONFIRMED: { status: 409, meaning: 'the anchor transaction is recorded but its including Bitcoin block is not (yet): inclusion and proof of work cannot be checked' },
  // Anchor service (operator node)
  ANCHOR_SERVICE_CONFIG_INVALID: { meaning: 'the anchor service configuration (HOME/anchor.json) is missing a field or has a value of the wrong form' },
  ANCHOR_NETWORK_MISMATCH: { meaning: "the anchor service's Bitcoin network differs from the ledger's anchor network parameter" },
  ANCHOR_SERVICE_RUNNING: { status: 409, meaning: 'another process already runs the anchor service of this home (the node itself or gridledger anchor run): one service per wallet and journal' },
});
