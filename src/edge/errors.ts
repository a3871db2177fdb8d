import { defineErrors } from '../util/errors.js';

/**
 * Rejection codes of the meter edge: P1 telegrams, MQTT samples, the sample store, interval
 * derivation and the spool. The agent counts and logs them by code; the codes never change meaning.
 */
export const EDGE_ERRORS = defineErrors('edge', {
  P1_OVERSIZED: { status: 413, meaning: 'a P1 telegram is larger than the cap (8 KiB by default); dropped' },
  P1_MISSING_HEADER: { status: 400, meaning: 'a P1 telegram does not start with a header line "/XXX5identification"' },
  P1_MISSING_END: { status: 400, meaning: 'a P1 telegram has no end line "!" (all its lines are complete)' },
  P1_TRUNCATED: { status: 400, meaning: 'a P1 telegram ends in the middle of a line, after "!" before its line end, or is interrupted by the next telegram' },
  P1_TRAILING_DATA: { status: 400, meaning: 'bytes follow the end line "!CRC" of a P1 telegram' },
  P1_BAD_CRC: { status: 400, meaning: 'the CRC-16/ARC after "!" is malformed or does not match the bytes from "/" through "!"' },
  P1_CRC_MISSING: { status: 400, meaning: 'a DSMR 4+ telegram (it carries a version line) has no CRC after "!"' },
  P1_LINE_ENDINGS: { status: 400, meaning: 'a P1 line does not end in CR LF (e.g. converted to LF in transit)' },
  P1_BAD_CHARACTER: { status: 400, meaning: 'a P1 telegram contains a byte outside printable ASCII, CR and LF' },
  P1_MISSING_FIELD: { status: 400, meaning: 'a required P1 object (energy registers; in DSMR 4+ also timestamp and power) is absent' },
  P1_MALFORMED_LINE: { status: 400, meaning: 'a required P1 object has a value that is not what DSMR prescribes (unit, digits, count)' },
  P1_BAD_TIMESTAMP: { status: 400, meaning: 'a P1 timestamp is not YYMMDDhhmmss plus S or W, or names no real time' },
  P1_DUPLICATE_FIELD: { status: 400, meaning: 'a required P1 object appears twice in one telegram' },
  MQTT_PAYLOAD_TOO_LARGE: { status: 413, meaning: 'an MQTT sample payload is larger than the cap' },
  MQTT_PAYLOAD_NOT_JSON: { status: 400, meaning: 'an MQTT sample payload is not UTF-8 JSON with an object at the top' },
  MQTT_FIELD_MISSING: { status: 400, meaning: 'a required field of an MQTT sample is absent or null' },
  MQTT_FIELD_INVALID: { status: 400, meaning: 'a field of an MQTT sample is not an exact non-negative decimal in its unit' },
  MQTT_BAD_TIMESTAMP: { status: 400, meaning: 'the timestamp of an MQTT sample is not an ISO 8601 time with Z or an offset' },
  SAMPLE_INVALID: { status: 400, meaning: 'a sample handed to the store has a bad meter id or a value that is not a safe non-negative integer' },
  SAMPLE_DUPLICATE: { status: 409, meaning: 'the store already holds a sample of this meter with the same meter timestamp; refused and counted' },
  SAMPLE_CLOCK_BACKWARDS: { status: 409, meaning: 'a sample is older than the meter\'s latest sample; refused and counted' },
  SAMPLE_CLOCK_JUMP: { status: 409, meaning: 'a sample is further ahead of the latest one than the allowed forward jump; refused and counted' },
  SAMPLE_IN_FUTURE: { status: 409, meaning: 'a sample\'s meter time is ahead of the agent\'s receive time by more than the allowed skew; refused and counted' },
  SAMPLE_LATE: { status: 409, meaning: 'a sample belongs to a slot whose reading the agent has already derived (sealed); refused and counted, the fingerprint on the ledger stays right' },
  SAMPLE_UNKNOWN_METER: { status: 404, meaning: 'a sample names a meter the agent is not configured for; refused and counted' },
  SAMPLE_REGISTER_GLITCH: { status: 409, meaning: 'a sample whose registers went down (or up faster than the meter\'s maximum power allows) was not confirmed by the next sample, which continued from before it; refused as a glitch' },
  SAMPLE_REGISTER_UNCONFIRMED: { status: 409, meaning: 'a sample whose registers went down (or jumped up) was still waiting for confirmation by the next sample when its slot had to be sealed; refused' },
  SAMPLE_NOT_DECODED: { status: 400, meaning: 'an HTTP sample body is neither a dsmr-reader JSON object nor P1 telegram text' },
  INTERVAL_NOT_ENDED: { status: 409, meaning: 'an interval reading was asked for a slot that has not ended at the caller\'s clock' },
  SPOOL_CONFLICT: { status: 409, meaning: 'the spool already holds (or has delivered) a different reading for this meter and slot or sequence number' },
  SPOOL_NOT_FOUND: { status: 404, meaning: 'no spooled reading with this meter, slot and sequence number' },
  EDGE_CONFIG_INVALID: { meaning: 'the agent configuration (command-line options or config file) is incomplete or inconsistent' },
  EDGE_METER_NOT_REGISTERED: { status: 404, meaning: 'the ledger has no meter with the configured id; the agent keeps its samples and retries' },
  EDGE_METER_KEY_MISMATCH: { status: 403, meaning: "the configured signing key is not the meter's key on the ledger; the agent keeps its samples and submits nothing for that meter" },
  EDGE_READING_CONFLICT: { status: 409, meaning: 'the ledger already holds a different reading for the slot than the one the agent derived; the agent parks its reading for an operator' },
  EDGE_SUBMIT_FAILED: { status: 503, meaning: 'sending a reading failed for a reason outside the ledger (retried with backoff)' },
  EDGE_READINGS_PARKED: { meaning: 'a replay run ended with readings the ledger refused (parked in the spool, listed on the status page)' },
  EDGE_SAMPLES_NOT_VERIFIED: { meaning: 'verify samples found slots whose stored samples do not match the fingerprints on the ledger' },
  EDGE_FLEX_DATA_MISMATCH: { meaning: "flex private view: for some intervals the edge store's samples, value or salt no longer match the fingerprints and commitment on the ledger" },
  EDGE_BAD_OPTION: { status: 400, meaning: 'an option of an edge component is out of range' },
  EDGE_ORIGIN_NOT_ALLOWED: { status: 403, meaning: "a web page from an origin not in the agent's dashboardOrigins asked the agent's status API" },
});

export type EdgeErrorCode = Exclude<keyof typeof EDGE_ERRORS, symbol>;
