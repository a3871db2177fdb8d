import { slotIso } from '../../util/slots.js';
import type { LedgerReport } from '../../runtime/community-kpis.js';

export { ledgerReport, periodSlots, type LedgerReport, type Reader, type ReportRequest, type SlotTotals } from '../../runtime/community-kpis.js';

// ── files ──

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csv = (rows: unknown[][]) => rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';

/** One row per member and one for the community: energy (Wh), ratios (ppm), peaks, money (µ€). */
export function membersCsv(report: LedgerReport): string {
  const header = ['member', 'meters', 'produced_wh', 'consumed_wh', 'bought_internally_wh', 'sold_internally_wh', 'grid_import_wh', 'grid_export_wh', 'self_sufficiency_ppm', 'self_consumption_ppm', 'local_supply_ppm', 'peak_import_wh', 'peak_import_slot', 'peak_export_wh', 'peak_export_slot', 'bill_micro_eur', 'baseline_micro_eur', 'savings_micro_eur'];
  const meters = new Map(report.members.map((m) => [m.address, m.meters.join(' ')]));
  const k = report.kpis;
  const row = (member: string, m: string, e: typeof k.energy, ss: number | null, sc: number | null, ls: number | null, p: typeof k.peaks, bill: number, baseline: number, savings: number) => [
    member, m, e.producedWh, e.consumedWh, e.boughtInternallyWh, e.soldInternallyWh, e.gridImportWh, e.gridExportWh, ss, sc, ls,
    p.importWh, p.importSlot === null ? '' : slotIso(p.importSlot), p.exportWh, p.exportSlot === null ? '' : slotIso(p.exportSlot), bill, baseline, savings,
  ];
  return csv([
    header,
    ...k.members.map((x) => row(x.member, meters.get(x.member) ?? '', x.energy, x.selfSufficiencyPpm, x.selfConsumptionPpm, x.localSupplyPpm, x.peaks, x.bill.totalMicroEur, x.bill.baselineMicroEur, x.bill.savingsMicroEur)),
    row(`community:${report.community}`, '', k.energy, k.selfSufficiencyPpm, k.selfConsumptionPpm, k.selfSufficiencyPpm, k.peaks, k.costMicroEur, k.baselineMicroEur, k.savingsMicroEur),
  ]);
}

/** Community totals per slot. */
export function slotsCsv(report: LedgerReport): string {
  return csv([['slot', 'slot_start_utc', 'produced_wh', 'consumed_wh', 'internal_wh', 'grid_import_wh', 'grid_export_wh'], ...report.slots.map((s) => [s.slot, slotIso(s.slot), s.producedWh, s.consumedWh, s.internalWh, s.gridImportWh, s.gridExportWh])]);
}
