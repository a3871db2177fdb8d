import { defineErrors } from '../util/errors.js';

export const CONSENSUS_ERRORS = defineErrors('consensus', {
  VALSET_EMPTY: { meaning: 'a validator set needs at least one validator' },
  VALSET_INVALID: { meaning: 'a validator set is malformed (power, key, duplicate, proposer)' },
});
