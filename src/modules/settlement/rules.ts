import type { KeepersOf, ModuleContext } from '../../app/module.js';
import { slotOfMs, SLOT_MS } from '../../util/slots.js';
import { keysOverlapping } from '../shares/keeper.js';
import { requireRegisteredBy } from './billing.js';
import { E } from './errors.js';
import type { RecordStatementsMsg, SetTariffMsg } from './messages.js';
import { getLatestOfPeriod, getStatementRecord, putStatementRecord, putTariff } from './state.js';

export const REQUIRES = ['metering', 'registry', 'shares'] as const;
export type SettlementContext = ModuleContext<KeepersOf<typeof REQUIRES>>;

function requireUtility(ctx: SettlementContext): void {
  if (!ctx.keepers.registry.hasAnyRole(ctx.sender, ['utility'])) throw E.SETTLEMENT_NOT_UTILITY('only an admitted utility may do this');
}

/** A utility announces its tariffs from a future slot on; billing uses the version in force at a period's first slot. */
export function setTariff(ctx: SettlementContext, msg: SetTariffMsg): void {
  requireUtility(ctx);
  if (msg.importMicroEurPerKwh < 0 || msg.feedInMicroEurPerKwh < 0) throw E.SETTLEMENT_INVALID_TARIFF('tariffs are non-negative µ€ per kWh');
  const current = slotOfMs(ctx.time);
  if (msg.fromSlot <= current) throw E.SETTLEMENT_SLOT_BEGUN(`slot ${msg.fromSlot} has begun (current slot ${current}); tariffs change for future slots only`);
  putTariff(ctx.store, { utility: ctx.sender, fromSlot: msg.fromSlot, importMicroEurPerKwh: msg.importMicroEurPerKwh, feedInMicroEurPerKwh: msg.feedInMicroEurPerKwh, height: ctx.height, txHash: ctx.txHash });
  ctx.emit('settlement.tariff', { utility: ctx.sender, fromSlot: msg.fromSlot, import: msg.importMicroEurPerKwh, feedIn: msg.feedInMicroEurPerKwh });
}

/**
 * A utility records the hashes of the statements it issued. It must bill the customer in that plant
 * during the period, and the period must have ended. Recording a new hash for the same period is a
 * correction: it gets the next revision and supersedes the previous one.
 */
export function recordStatements(ctx: SettlementContext, msg: RecordStatementsMsg): void {
  requireUtility(ctx);
  const seen = new Set<string>();
  for (const ref of msg.statements) {
    if (seen.has(ref.hash) || getStatementRecord(ctx.store, ref.hash)) throw E.SETTLEMENT_DUPLICATE_STATEMENT(`statement ${ref.hash} is already recorded`);
    seen.add(ref.hash);
    if (ref.toSlot <= ref.fromSlot) throw E.SETTLEMENT_INVALID_PERIOD(`period [${ref.fromSlot}, ${ref.toSlot}) is empty or reversed`);
    if (ref.toSlot * SLOT_MS > ctx.time) throw E.SETTLEMENT_PERIOD_OPEN(`period [${ref.fromSlot}, ${ref.toSlot}) has not ended yet`);
    const plant = ctx.keepers.shares.plant(ref.plant);
    if (!plant) throw E.SETTLEMENT_UNKNOWN_PLANT(`no plant ${ref.plant}`);
    requireRegisteredBy(plant, ref.toSlot);
    const bills = keysOverlapping(plant, ref.fromSlot, ref.toSlot).some(({ key }) => key.participants.some((p) => p.address === ref.customer && p.utility === ctx.sender));
    if (!bills) throw E.SETTLEMENT_NOT_CUSTOMER_UTILITY(`${ctx.sender} does not bill ${ref.customer} in ${ref.plant} during that period`);
    const latest = getLatestOfPeriod(ctx.store, ref.plant, ref.customer, ref.fromSlot, ref.toSlot);
    putStatementRecord(ctx.store, { ...ref, utility: ctx.sender, revision: (latest?.revision ?? 0) + 1, height: ctx.height, txHash: ctx.txHash, time: ctx.time });
  }
  ctx.emit('settlement.statements', { utility: ctx.sender, count: msg.statements.length });
}
