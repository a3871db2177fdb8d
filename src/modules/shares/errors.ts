import { defineErrors } from '../../util/errors.js';

export const E = defineErrors('shares', {
  SHARES_UNKNOWN_PLANT: { status: 404, meaning: 'no plant with that id' },
  SHARES_PLANT_EXISTS: { status: 409, meaning: 'a plant with that id is already registered' },
  SHARES_NOT_AUTHORIZED: { status: 403, meaning: 'only a utility or grid-operator account may register a plant' },
  SHARES_NOT_OPERATOR: { status: 403, meaning: "only the plant's registering operator may change its distribution key" },
  SHARES_INVALID_TIMEZONE: { meaning: "the plant's time zone is not an IANA zone" },
  SHARES_INVALID_PPM: { meaning: 'a share must be a positive number of ppm' },
  SHARES_DUPLICATE_PARTICIPANT: { meaning: 'a participant appears twice in the key' },
  SHARES_KEY_SUM: { meaning: 'the shares of a key must sum to exactly 1,000,000 ppm' },
  SHARES_PARTICIPANT_NOT_ADMITTED: { meaning: 'a participant is not an admitted account' },
  SHARES_INVALID_UTILITY: { meaning: "a participant's utility is not an admitted utility" },
  SHARES_INVALID_DAY: { meaning: 'the day is not a valid local calendar day' },
  SHARES_DAY_BEGUN: { meaning: 'a new key must start on a local day that has not begun' },
  SHARES_SLOT_BEGUN: { meaning: 'portions of slots that have begun can no longer change' },
  SHARES_SELF_TRANSFER: { meaning: 'sender and recipient are the same participant' },
  SHARES_SENDER_NOT_PARTICIPANT: { status: 403, meaning: 'the sender is not a participant of the plant in that range' },
  SHARES_INSUFFICIENT_PORTION: { meaning: 'the sender holds less than the portion somewhere in the range' },
  SHARES_EMPTY_RANGE: { meaning: 'the slot range is empty' },
  SHARES_REVERSED_RANGE: { meaning: 'the slot range ends before it starts' },
  SHARES_RANGE_TOO_LONG: { meaning: 'the slot range is longer than the limit' },
  SHARES_UNKNOWN_PARTICIPANT: { status: 404, meaning: 'the address is not a participant of the plant in that range' },
});
