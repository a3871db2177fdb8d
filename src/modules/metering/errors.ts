import { defineErrors } from '../../util/errors.js';

export const E = defineErrors('metering', {
  METER_NOT_FOUND: { status: 404, meaning: 'no meter with that id (or signing key) is registered' },
  METER_ALREADY_REGISTERED: { meaning: 'a meter with that id is already registered' },
  METER_DEVICE_IN_USE: { meaning: 'the device id is already registered as another meter' },
  METER_PUBKEY_MISMATCH: { meaning: "the given public key does not belong to the meter's address" },
  METER_ACCOUNT_NOT_METER: { meaning: "the meter's account must be admitted with role meter (meter keys are separate from trader keys)" },
  METER_ADDRESS_IN_USE: { meaning: 'the address already signs for another meter' },
  METER_REGISTER_NOT_ALLOWED: { status: 403, meaning: 'only an operator, utility or grid-operator account may register meters' },
  METER_WRONG_SIGNER: { status: 403, meaning: "a reading must be signed by the meter's own key" },
  METER_SLOT_NOT_ENDED: { meaning: 'the slot has not ended at the block time' },
  METER_SLOT_TOO_OLD: { meaning: 'the slot is older than the reading window' },
  METER_READING_DUPLICATE: { meaning: 'the meter already reported this slot' },
  METER_ENERGY_EXCEEDS_MAX: { meaning: "import + export exceed what the meter's maximum power delivers in 15 minutes" },
  METER_SEQ_NOT_INCREASING: { meaning: "the sequence number does not increase with the slot across the meter's readings" },
  METER_REGISTER_DECREASED: { meaning: 'a cumulative register is below an earlier reading (or above a later one)' },
  METER_REGISTER_INCONSISTENT: { meaning: 'a cumulative register does not match the interval value and the neighbouring readings' },
  METER_FINGERPRINT_INCOMPLETE: { meaning: 'a reading carries a sample fingerprint without a sample count, or a sample count without a fingerprint' },
  METER_NOT_GRID_OPERATOR: { status: 403, meaning: 'only a grid-operator account may submit official meter values' },
  METER_OFFICIAL_DUPLICATE: { meaning: 'official values for this meter and slot were already submitted' },
});
