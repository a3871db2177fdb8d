import { defineErrors } from '../../util/errors.js';

export const E = defineErrors('settlement', {
  SETTLEMENT_NOT_UTILITY: { status: 403, meaning: 'only an admitted utility may set tariffs or record statements' },
  SETTLEMENT_INVALID_TARIFF: { meaning: 'tariffs are non-negative µ€ per kWh' },
  SETTLEMENT_SLOT_BEGUN: { meaning: 'tariffs change for future slots only' },
  SETTLEMENT_DUPLICATE_STATEMENT: { status: 409, meaning: 'the statement hash is already recorded' },
  SETTLEMENT_INVALID_PERIOD: { meaning: 'the billing period is empty, reversed, longer than 366 days or not given as local days' },
  SETTLEMENT_PERIOD_OPEN: { meaning: 'a statement can be recorded only once its period has ended' },
  SETTLEMENT_BEFORE_REGISTRATION: { meaning: 'the period ends before the plant was registered: its key applies from the registration slot on' },
  SETTLEMENT_UNKNOWN_PLANT: { status: 404, meaning: 'no plant with that id' },
  SETTLEMENT_NOT_CUSTOMER_UTILITY: { status: 403, meaning: 'the utility does not bill that customer in that plant during the period' },
  SETTLEMENT_NO_TARIFF: { status: 404, meaning: 'the utility has no tariff in force at the start of the period' },
  SETTLEMENT_UNKNOWN_STATEMENT: { status: 404, meaning: 'no statement with that hash is recorded on the ledger' },
  SETTLEMENT_INVALID_READING: { meaning: 'a meter value used for billing is not a whole number of Wh in range' },
  SETTLEMENT_INVALID_HOLDINGS: { meaning: 'the holdings of a slot do not sum to 1,000,000 ppm' },
  SETTLEMENT_OVERFLOW: { meaning: 'an energy or money total exceeds the safe integer range' },
  STATEMENT_INVALID: { meaning: 'the file is not a GridLedger PV statement' },
  STATEMENT_UNREADABLE: { meaning: 'the statement file could not be read or parsed' },
  STATEMENT_HASH_MISMATCH: { meaning: "a statement's hash field does not match its content" },
  STATEMENT_DRY_RUN: { meaning: 'a dry-run statement (tariffs typed on the command line) is for checking figures only and cannot be recorded on the ledger' },
  STATEMENT_NOT_VERIFIED: { meaning: 'the statement failed at least one verification check' },
  CSV_INVALID: { meaning: 'a CSV meter-data file has the wrong header or a bad row' },
});
