import { defineErrors } from '../../util/errors.js';

/** Errors of `gridledger simulate` and `gridledger report` (the client side of the community simulation). */
export const SIMULATE_ERRORS = defineErrors('simulate', {
  SIMULATE_SCENARIO_UNREADABLE: { meaning: 'the scenario file cannot be read (missing, a directory, no permission)' },
  SIMULATE_SCENARIO_UNFIT: { meaning: 'the scenario is valid but cannot be put on the ledger (community id or a meter id outside the ledger\'s id rules)' },
  SIMULATE_COMMUNITY_NOT_OWNED: { meaning: 'the scenario\'s community exists on the ledger with another owner or time zone than the simulation would use' },
  SIMULATE_SETUP_FAILED: { meaning: 'creating the community, its accounts, traders or meters was rejected by the ledger' },
  SIMULATE_TX_NOT_COMMITTED: { meaning: 'a transaction the simulation submitted was not committed within the deadline' },
  SIMULATE_NOTHING_TO_DO: { meaning: 'the requested days lie entirely outside the reading window or before the scenario start' },
});
