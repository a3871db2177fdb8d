import { z } from 'zod';
import { addressSchema, hashSchema, slotSchema } from '../../codec/tx.js';
import { plantIdSchema } from '../shares/keeper.js';

/** Tariffs are any integers here; negative values are rejected by the rules with SETTLEMENT_INVALID_TARIFF. */
const microEurPerKwh = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

export const setTariffMsg = z
  .object({
    /** Price of grid import, µ€ per kWh. */
    importMicroEurPerKwh: microEurPerKwh,
    /** Credit for fed-in PV surplus, µ€ per kWh. */
    feedInMicroEurPerKwh: microEurPerKwh,
    /** First slot to which the tariff applies; must not have begun. */
    fromSlot: slotSchema,
  })
  .strict();

export const statementRefSchema = z
  .object({
    plant: plantIdSchema,
    customer: addressSchema,
    fromSlot: slotSchema,
    toSlot: slotSchema,
    hash: hashSchema,
  })
  .strict();

export const recordStatementsMsg = z.object({ statements: z.array(statementRefSchema).min(1).max(1000) }).strict();

export type SetTariffMsg = z.infer<typeof setTariffMsg>;
export type StatementRef = z.infer<typeof statementRefSchema>;
export type RecordStatementsMsg = z.infer<typeof recordStatementsMsg>;

export const MSG = { setTariff: 'settlement/set-tariff', recordStatements: 'settlement/record-statements' } as const;
