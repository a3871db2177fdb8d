import { defineErrors } from '../../util/errors.js';

export const E = defineErrors('registry', {
  TX_SENDER_NOT_ADMITTED: { status: 403, meaning: 'the sender is not an admitted participant, so it may not transact' },
  TX_SENDER_REVOKED: { status: 403, meaning: 'the sender was revoked and may no longer transact' },
  REGISTRY_NOT_OPERATOR: { status: 403, meaning: 'only a consortium operator may admit, revoke, propose or approve' },
  REGISTRY_OPERATOR_NEEDS_GOVERNANCE: { meaning: 'the operator role is granted in genesis or by governance, never by admit or revoked by revoke' },
  REGISTRY_ALREADY_ADMITTED: { meaning: 'the account is already admitted' },
  REGISTRY_NOT_ADMITTED: { meaning: 'the account is not an admitted participant' },
  GOV_PROPOSAL_EXISTS: { meaning: 'a proposal with this id already exists' },
  GOV_UNKNOWN_PROPOSAL: { status: 404, meaning: 'no proposal with this id' },
  GOV_PROPOSAL_CLOSED: { meaning: 'the proposal was already executed' },
  GOV_ALREADY_APPROVED: { meaning: 'this operator already approved the proposal' },
  GOV_VALIDATOR_KEY_MISMATCH: { meaning: 'the validator address does not belong to the public key' },
  GOV_POWER_TOO_LARGE: { meaning: 'validator power above 2^62' },
  GOV_LAST_VALIDATOR: { meaning: 'the validator set would be left without power (counting the changes already scheduled)' },
  GOV_NOT_A_VALIDATOR: { meaning: 'the address to remove is not a validator (counting the changes already scheduled)' },
  GOV_POWER_LOSS_TOO_LARGE: { meaning: 'in one step (the set deciding the next height → the set deciding the height after, with every scheduled change and this one) its validators would lose more than 1/3 of their power' },
  GOV_POWER_GAIN_TOO_LARGE: { meaning: 'in one step (as for GOV_POWER_LOSS_TOO_LARGE) power new to the validator set would reach 1/3 of the new total, so offline newcomers could halt the chain' },
  GOV_ALREADY_OPERATOR: { meaning: 'the account is already an operator' },
  GOV_NOT_OPERATOR: { meaning: 'the account to remove is not an operator' },
  GOV_LAST_OPERATOR: { meaning: 'the last operator cannot be removed' },
  GOV_HEIGHT_NOT_FUTURE: { meaning: 'a module upgrade must take effect at a height after the block that approves it' },
});
