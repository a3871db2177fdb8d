import { defineErrors } from '../../util/errors.js';

/** Every rule of the anon module has its own code (docs/anon.md lists which message raises which). */
export const E = defineErrors('anon', {
  ANON_NOT_OPERATOR: { status: 403, meaning: 'only a consortium operator may register the membership verifying key or revoke a member' },
  ANON_KEY_INVALID: { meaning: 'the verifying key is not a canonical BN254 Groth16 key with the membership circuit\'s 5 public inputs' },
  ANON_KEY_NOT_REGISTERED: { status: 409, meaning: 'no membership verifying key is registered yet (anon/register-key)' },
  ANON_NOT_MEMBER_ROLE: { status: 403, meaning: 'only an admitted account that is not itself anonymous (trader-anon) may register an identity commitment' },
  ANON_ALREADY_REGISTERED: { status: 409, meaning: 'the account already registered an identity commitment (one per member, also after a revocation)' },
  ANON_COMMITMENT_INVALID: { meaning: 'an identity commitment must be a canonical decimal element of the BN254 scalar field other than 0' },
  ANON_COMMITMENT_EXISTS: { status: 409, meaning: 'that identity commitment is already registered' },
  ANON_MEMBER_NOT_FOUND: { status: 404, meaning: 'the account has no active identity commitment' },
  ANON_ACCOUNT_NOT_FOUND: { status: 404, meaning: 'the address is not an anonymous trade account' },
  ANON_ACCOUNT_EXISTS: { status: 409, meaning: 'the account to admit is already known to the registry: an anonymous account must be a fresh key' },
  ANON_EPOCH_MISMATCH: { meaning: 'the proof is for another epoch than the one of the block (epoch = floor(height / epochBlocks))' },
  ANON_ROOT_UNKNOWN: { meaning: "the proof's members' root is neither the current root nor a recent one still in its validity window (a revocation ends every older root)" },
  ANON_NULLIFIER_USED: { status: 409, meaning: 'the nullifier was already used: that member already admitted an account with this slot in this epoch' },
  ANON_PROOF_MALFORMED: { meaning: 'the proof or a public input is not canonical (shape, coordinates, curve and subgroup membership)' },
  ANON_PROOF_INVALID: { status: 403, meaning: 'the membership proof does not verify for the root, nullifier, epoch, slot limit and account' },
  // offer board (issue 16 #3)
  ANON_NOT_ANONYMOUS: { status: 403, meaning: 'the anonymous offer board is for active trader-anon accounts only' },
  ANON_ASSET_NOT_FOUND: { status: 404, meaning: 'the offer names an asset the payments module does not know' },
  ANON_DELIVERY_WINDOW_INVALID: { meaning: 'the delivery window must end after it starts' },
  ANON_OFFER_NOT_FOUND: { status: 404, meaning: 'no offer with that id' },
  ANON_OFFER_NOT_OPEN: { status: 409, meaning: 'the offer was already taken or withdrawn' },
  ANON_NOT_SELLER: { status: 403, meaning: 'only the account that posted the offer may withdraw it' },
  ANON_OWN_OFFER: { meaning: 'a seller cannot take its own offer' },
  ANON_ESCROW_NOT_FOUND: { status: 404, meaning: 'no payments escrow with that id' },
  ANON_ESCROW_MISMATCH: { meaning: "the escrow is not the offer's 2-of-3 escrow: open, paid by the taker to the seller, the offer's asset and amount, threshold 2, a grid operator as mediator" },
  ANON_ESCROW_USED: { status: 409, meaning: 'the escrow already settles another offer' },
});
