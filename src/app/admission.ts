import type { SignedTx } from '../codec/tx.js';
import { defineErrors, LedgerError } from '../util/errors.js';

/**
 * One admission pipeline. The same checks run when a transaction enters the mempool, when a
 * proposer builds a block and when a validator re-executes a proposal: signature, chain id,
 * expiry, nonce, and the modules' sender authorisation (e.g. the sender is admitted).
 *
 * What differs is only how a failure is treated:
 *  - mempool: any failure refuses the transaction (its code goes back to the client);
 *  - block: a failure of signature, chain id, expiry or nonce makes the whole block invalid (an
 *    honest proposer never includes such a transaction); a failed authorisation becomes the
 *    transaction's committed result, because the sender's status may have changed earlier in the
 *    same block (e.g. it was revoked).
 */

export const TX_ERRORS = defineErrors('tx', {
  TX_MALFORMED: { meaning: 'the transaction is not a well-formed signed transaction (JSON shape, encodings, limits)' },
  TX_TOO_LARGE: { status: 413, meaning: 'the encoded transaction exceeds 64 KiB' },
  TX_BAD_SIGNATURE: { meaning: 'the signature does not verify for the transaction body and public key' },
  TX_SENDER_KEY_MISMATCH: { meaning: 'the public key does not belong to the sender address' },
  TX_WRONG_CHAIN: { meaning: 'the transaction names another chain id' },
  TX_EXPIRED: { meaning: 'the transaction expired: its expiry height is not above the current height' },
  TX_NONCE_USED: { meaning: 'the nonce was already used by a committed transaction of the sender' },
  TX_NONCE_TOO_HIGH: { meaning: "the nonce is beyond the mempool's window above the sender's next nonce" },
  TX_NONCE_MISMATCH: { meaning: "in a block, the nonce must equal the sender's next nonce" },
  TX_UNKNOWN_MSG_TYPE: { meaning: 'a message type no active module handles' },
  MSG_INVALID: { meaning: "a message value does not match its type's schema" },
  TX_DUPLICATE: { status: 409, meaning: 'the same transaction is already pending (or twice in one batch)' },
  TX_ALREADY_COMMITTED: { status: 409, meaning: 'the same transaction was already committed' },
  TX_NONCE_PENDING: { status: 409, meaning: 'another pending transaction of the sender already uses this nonce' },
  TX_NOT_FOUND: { status: 404, meaning: 'no pending or committed transaction with that hash' },
  TX_NOT_COMMITTED: { meaning: 'the transaction was not committed within the wait time' },
  MEMPOOL_FULL: { status: 503, meaning: 'the mempool holds its maximum number of transactions or bytes; retry later' },
});

export const BLOCK_ERRORS = defineErrors('block', {
  BLOCK_INVALID_TX: { meaning: 'a block carries a transaction that breaks a validity rule (signature, chain id, expiry, nonce)' },
  BLOCK_INVALID_HEIGHT: { meaning: 'a block was executed for a height other than the next one' },
  BLOCK_INVALID: { status: 500, meaning: 'a decided block failed re-execution on this node (storage or determinism fault)' },
  BLOCK_NOT_FOUND: { status: 404, meaning: 'no block at that height' },
  BLOCK_SYNC_BAD_COMMIT: { meaning: 'a block served by block sync carries a commit that does not verify' },
  BLOCK_SYNC_INVALID_BLOCK: { meaning: 'a block served by block sync does not re-execute to its header' },
  BLOCK_SYNC_UNAPPENDABLE: { meaning: 'a block served by block sync is not the next height' },
  GENESIS_MISMATCH: { status: 500, meaning: 'genesis.json differs from the genesis this database was created with' },
});

/** How the pipeline sees the chain for the transaction at hand. */
export interface AdmissionView {
  chainId: string;
  /** Height of the block the transaction goes (or would go) into. */
  height: number;
  nonceOf(sender: string): number;
  /** Mempool: a window of nonces above the next one; block: exactly the next one. */
  nonce: { window: number } | 'exact';
  /** True when the signature is valid (callers may answer from a cache of verified transactions). */
  signatureValid(tx: SignedTx, hash: string): boolean;
  /** The modules' sender authorisation; throws a LedgerError to refuse. */
  authorize(sender: string): void;
}

export type AdmissionOutcome = { ok: true } | { ok: false; stage: 'validity' | 'authorization'; error: LedgerError };

/** Runs every admission check in order, cheapest and most decisive first, and says which failed. */
export function checkAdmission(tx: SignedTx, hash: string, view: AdmissionView): AdmissionOutcome {
  const { body } = tx;
  const invalid = (error: LedgerError): AdmissionOutcome => ({ ok: false, stage: 'validity', error });
  if (body.chainId !== view.chainId) return invalid(TX_ERRORS.TX_WRONG_CHAIN(`chain id ${body.chainId} is not ${view.chainId}`));
  if (body.expiresAtHeight < view.height) {
    return invalid(TX_ERRORS.TX_EXPIRED(`transaction expired at height ${body.expiresAtHeight}; chain is at ${view.height - 1}`));
  }
  const next = view.nonceOf(body.sender);
  if (view.nonce === 'exact') {
    if (body.nonce !== next) return invalid(TX_ERRORS.TX_NONCE_MISMATCH(`nonce ${body.nonce}, expected ${next}`));
  } else {
    if (body.nonce < next) return invalid(TX_ERRORS.TX_NONCE_USED(`nonce ${body.nonce} already used; next is ${next}`));
    if (body.nonce >= next + view.nonce.window) return invalid(TX_ERRORS.TX_NONCE_TOO_HIGH(`nonce ${body.nonce} is beyond the window (next ${next}, window ${view.nonce.window})`));
  }
  // The mempool checks the cheap stateful condition before spending CPU on the signature; a block
  // checks every validity rule (the signature included) before the sender's authorisation.
  if (view.nonce === 'exact') {
    if (!view.signatureValid(tx, hash)) return invalid(badSignature());
    return authorized(view, body.sender);
  }
  const auth = authorized(view, body.sender);
  if (!auth.ok) return auth;
  if (!view.signatureValid(tx, hash)) return invalid(badSignature());
  return { ok: true };
}

const badSignature = () => TX_ERRORS.TX_BAD_SIGNATURE('signature is not valid for this transaction');

function authorized(view: AdmissionView, sender: string): AdmissionOutcome {
  try {
    view.authorize(sender);
    return { ok: true };
  } catch (err) {
    if (err instanceof LedgerError) return { ok: false, stage: 'authorization', error: err };
    throw err;
  }
}
