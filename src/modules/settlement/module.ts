import { defineModule, handler } from '../../app/module.js';
import { E } from './errors.js';
import { MSG, recordStatementsMsg, setTariffMsg } from './messages.js';
import { recordStatements, REQUIRES, setTariff } from './rules.js';

export const settlementCore = defineModule<undefined>({
  name: 'settlement',
  requires: REQUIRES,
  errors: E,
  messages: {
    [MSG.setTariff]: handler(setTariffMsg, setTariff),
    [MSG.recordStatements]: handler(recordStatementsMsg, recordStatements),
  },
});
