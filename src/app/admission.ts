import type { SignedTx } from '../codec/tx.js';
import { TX_ERRORS } from '../codec/errors.js';
import { LedgerError } from '../util/errors.js';

export { BLOCK_ERRORS, TX_ERRORS } from '../codec/errors.js';

/**
 * One admission pipeline. The same checks run when a transaction enters the mempool, when a
 * proposer builds a block and when a validator re-executes a proposal: signature, chain id,
 * expiry, nonce, and the modules' sender authorisation (e.g. the sender is admitted).
 *
 * What differs is only how a failure is treated:
 *  - mempool: any failure refuses the transaction (its code goes back to the client);
 *  - block: any failure makes the whole block invalid, the sender's authorisation included (a
 *    proposer cannot slip in transactions of non-admitted senders). The check runs in block order,
 *    so an honest proposer whose block revokes a sender leaves that sender's later transactions out
 *    (BLOCK_INVALID_TX otherwise).
 */

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
  /** The modules' sender authorisation (or a self-admission message's check); throws a LedgerError to refuse. */
  authorize(sender: string, msgs: SignedTx['body']['msgs']): void;
  /**
   * True when these messages are a self-admission (a module's proof stands in for the registry's
   * check): that check is costly (a zero-knowledge proof), so it runs only after the signature.
   */
  selfAdmission?(msgs: SignedTx['body']['msgs']): boolean;
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
    return authorized(view, body.sender, body.msgs);
  }
  if (view.selfAdmission?.(body.msgs)) {
    if (!view.signatureValid(tx, hash)) return invalid(badSignature());
    return authorized(view, body.sender, body.msgs);
  }
  const auth = authorized(view, body.sender, body.msgs);
  if (!auth.ok) return auth;
  if (!view.signatureValid(tx, hash)) return invalid(badSignature());
  return { ok: true };
}

const badSignature = () => TX_ERRORS.TX_BAD_SIGNATURE('signature is not valid for this transaction');

function authorized(view: AdmissionView, sender: string, msgs: SignedTx['body']['msgs']): AdmissionOutcome {
  try {
    view.authorize(sender, msgs);
    return { ok: true };
  } catch (err) {
    if (err instanceof LedgerError) return { ok: false, stage: 'authorization', error: err };
    throw err;
  }
}
