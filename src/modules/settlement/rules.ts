import type { TxContext } from '../../app/module.js';
import { LedgerError } from '../../util/errors.js';
import { slotOfMs, SLOT_MS } from '../../util/slots.js';
import { hasAnyRole } from '../registry/state.js';
import { getPlant, keysOverlapping } from '../shares/index.js';
import type { RecordStatementsMsg, SetTariffMsg } from './messages.js';
import { getLatestOfPeriod, getStatementRecord, putStatementRecord, putTariff } from './state.js';

function requireUtility(ctx: TxContext): void {
  if (!hasAnyRole(ctx.store, ctx.sender, ['utility'])) throw new LedgerError('SETTLEMENT_NOT_UTILITY', 'only an admitted utility may do this', 403);
}

/** A utility announces its tariffs from a future slot on; billing uses the version in force at a period's first slot. */
export function setTariff(ctx: TxContext, msg: SetTariffMsg): void {
  requireUtility(ctx);
  if (msg.importMicroEurPerKwh < 0 || msg.feedInMicroEurPerKwh < 0) throw new LedgerError('SETTLEMENT_INVALID_TARIFF', 'tariffs are non-negative µ€ per kWh');
  const current = slotOfMs(ctx.time);
  if (msg.fromSlot <= current) throw new LedgerError('SETTLEMENT_SLOT_BEGUN', `slot ${msg.fromSlot} has begun (current slot ${current}); tariffs change for future slots only`);
  putTariff(ctx.store, { utility: ctx.sender, fromSlot: msg.fromSlot, importMicroEurPerKwh: msg.importMicroEurPerKwh, feedInMicroEurPerKwh: msg.feedInMicroEurPerKwh, height: ctx.height, txHash: ctx.txHash });
  ctx.emit('settlement.tariff', { utility: ctx.sender, fromSlot: msg.fromSlot, import: msg.importMicroEurPerKwh, feedIn: msg.feedInMicroEurPerKwh });
}

/**
 * A utility records the hashes of the statements it issued. It must bill the customer in that plant
 * during the period, and the period must have ended. Recording a new hash for the same period is a
 * correction: it gets the next revision and supersedes the previous one.
 */
export function recordStatements(ctx: TxContext, msg: RecordStatementsMsg): void {
  requireUtility(ctx);
  const seen = new Set<string>();
  for (const ref of msg.statements) {
    if (seen.has(ref.hash) || getStatementRecord(ctx.store, ref.hash)) throw new LedgerError('SETTLEMENT_DUPLICATE_STATEMENT', `statement ${ref.hash} is already recorded`, 409);
    seen.add(ref.hash);
    if (ref.toSlot <= ref.fromSlot) throw new LedgerError('SETTLEMENT_INVALID_PERIOD', `period [${ref.fromSlot}, ${ref.toSlot}) is empty or reversed`);
    if (ref.toSlot * SLOT_MS > ctx.time) throw new LedgerError('SETTLEMENT_PERIOD_OPEN', `period [${ref.fromSlot}, ${ref.toSlot}) has not ended yet`);
    const plant = getPlant(ctx.store, ref.plant);
    if (!plant) throw new LedgerError('SETTLEMENT_UNKNOWN_PLANT', `no plant ${ref.plant}`, 404);
    const bills = keysOverlapping(plant, ref.fromSlot, ref.toSlot).some(({ key }) => key.participants.some((p) => p.address === ref.customer && p.utility === ctx.sender));
    if (!bills) throw new LedgerError('SETTLEMENT_NOT_CUSTOMER_UTILITY', `${ctx.sender} does not bill ${ref.customer} in ${ref.plant} during that period`, 403);
    const latest = getLatestOfPeriod(ctx.store, ref.plant, ref.customer, ref.fromSlot, ref.toSlot);
    putStatementRecord(ctx.store, { ...ref, utility: ctx.sender, revision: (latest?.revision ?? 0) + 1, height: ctx.height, txHash: ctx.txHash, time: ctx.time });
  }
  ctx.emit('settlement.statements', { utility: ctx.sender, count: msg.statements.length });
}
