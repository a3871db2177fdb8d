import { defineErrors } from '../../src/util/errors.js';

/** Errors of the community simulation and the KPI arithmetic. */
export const SIM_ERRORS = defineErrors('sim', {
  SIM_SCENARIO_INVALID: { meaning: 'a community scenario file or object does not match the scenario schema' },
  SIM_RANGE_INVALID: { meaning: 'a simulated slot range is empty, reversed, or starts before the scenario start' },
  KPI_INPUT_INVALID: { meaning: 'KPI input has a non-integer or negative Wh value, an unknown member, or slots out of order' },
  KPI_OVERFLOW: { meaning: 'a KPI total exceeds the safe-integer range' },
});
