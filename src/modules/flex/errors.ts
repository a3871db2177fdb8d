import { defineErrors } from '../../util/errors.js';

/** Every rule of the flex module has its own code (docs/flex.md lists which message raises which). */
export const E = defineErrors('flex', {
  // verifying keys
  FLEX_NOT_OPERATOR: { status: 403, meaning: 'only a consortium operator account may register verifying keys' },
  FLEX_KEY_EXISTS: { status: 409, meaning: 'a verifying key with that id is already registered' },
  FLEX_KEY_INVALID: { meaning: 'the verifying key is not a canonical BN254 Groth16 key with the public inputs the circuit has' },
  FLEX_KEY_NOT_FOUND: { status: 404, meaning: 'no verifying key with that id is registered' },
  // programs and events
  FLEX_NOT_AGGREGATOR: { status: 403, meaning: 'only an account admitted with role aggregator may create programs and events' },
  FLEX_PROGRAM_NOT_FOUND: { status: 404, meaning: 'no program with that id' },
  FLEX_NOT_PROGRAM_OWNER: { status: 403, meaning: 'only the aggregator that created the program may create its events' },
  FLEX_ASSET_NOT_FOUND: { status: 404, meaning: 'the program names an asset the payments module does not know' },
  FLEX_PROSUMER_INVALID: { meaning: 'the prosumer of an event must be an admitted account with role prosumer, other than the aggregator' },
  FLEX_START_NOT_ALIGNED: { meaning: "the event start must be a multiple of the program's interval length (ms since the epoch)" },
  FLEX_START_PASSED: { meaning: 'the event starts before the current block time (less the enrolment grace)' },
  FLEX_TOO_MANY_INTERVALS: { meaning: 'the event has more intervals than the module parameter maxIntervals allows' },
  FLEX_REWARD_TOO_LARGE: { meaning: 'reward per interval × intervals is above the largest amount (10^24 − 1 micro-units)' },
  // event lifecycle
  FLEX_EVENT_NOT_FOUND: { status: 404, meaning: 'no event with that id' },
  FLEX_NOT_PROSUMER: { status: 403, meaning: "only the event's prosumer may do this" },
  FLEX_NOT_EVENT_AGGREGATOR: { status: 403, meaning: "only the event's aggregator may withdraw it" },
  FLEX_EVENT_NOT_OFFERED: { meaning: 'the event is no longer offered: it was enrolled, withdrawn or expired' },
  FLEX_EVENT_NOT_ACTIVE: { meaning: 'the event is not active (not enrolled yet, or already completed, forfeited, withdrawn or expired)' },
  FLEX_ENROL_TOO_LATE: { meaning: 'enrolment closes when the event starts (plus the enrolment grace)' },
  FLEX_METER_NOT_FOUND: { status: 404, meaning: 'the meter is not registered' },
  FLEX_METER_NOT_PROSUMERS: { status: 403, meaning: "the meter is linked to another trader than the event's prosumer in its community" },
  // commitments
  FLEX_NOT_EVENT_METER: { status: 403, meaning: "a commitment must be signed by the key of the meter enrolled in the event" },
  FLEX_INTERVAL_INVALID: { meaning: 'no interval with that index in the event' },
  FLEX_INTERVAL_NOT_ENDED: { meaning: 'the interval has not ended at the block time' },
  FLEX_DEADLINE_PASSED: { meaning: "the interval's deadline (its end + proofWindowMs) has passed" },
  FLEX_COMMITMENT_EXISTS: { status: 409, meaning: 'the interval already has a commitment' },
  FLEX_COMMITMENT_INVALID: { meaning: 'a commitment must be a canonical decimal element of the BN254 scalar field' },
  FLEX_FINGERPRINT_SLOT_INVALID: { meaning: 'fingerprints must name slots of the interval, in increasing order, each once' },
  FLEX_READING_PUBLIC: { status: 409, meaning: 'the meter already published a reading for a slot of the interval, so it cannot be private' },
  FLEX_SLOT_PRIVATE: { status: 409, meaning: 'the meter committed to this slot privately for a flex event; a public reading of it is refused' },
  // proofs
  FLEX_NO_COMMITMENT: { meaning: 'the interval has no commitment from the meter yet' },
  FLEX_INTERVAL_SETTLED: { status: 409, meaning: 'the interval was already settled (proved, missed, or the deposit forfeited)' },
  FLEX_NOT_PROVER: { status: 403, meaning: "a proof must come from the event's prosumer or its meter" },
  FLEX_PROOF_MALFORMED: { meaning: 'the proof is not a canonical Groth16 proof over BN254 (shape, coordinates, curve and subgroup membership)' },
  FLEX_BLOCK_PROOF_CAP: { status: 429, meaning: 'the block already holds maxProofsPerBlock proof verifications; send it again in a later block' },
});
