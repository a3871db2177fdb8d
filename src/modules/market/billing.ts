import type { KeepersOf, ModuleContext } from '../../app/module.js';
import { bigFloorDiv } from '../../util/int.js';
import { slotIso } from '../../util/slots.js';
import type { HistoryEntry } from '../energy/keeper.js';
import { billingPeriod, statementHash } from '../settlement/keeper.js';
import { E } from './errors.js';
import type { REQUIRES } from './rules.js';
import { configs, contractBy, contractSlots, getContract, getTrade, numberOf, tariffsBetween, tradeBy, type TariffVersion } from './state.js';

/**
 * Community bills (gsy-e's bills per member, HanzeNet's reconciliation at the external price): per
 * member and period of local days, computed from ledger state only, so anyone can recompute a bill
 * and `gridledger verify statement` compares. A bill is a statement of the settlement module's form:
 * its hash is settlement's `statementHash` (SHA-256 of "GRIDLEDGER/STATEMENT/V1" ‖ 0 ‖ canonical
 * JSON without `hash`).
 *
 * Lines (amount > 0: the member pays; < 0: the member receives), per the member's trades, contract
 * slots, balances and meters in the period:
 *   market-purchases              Wh delivered to the member, the trade values it paid       (settled on the ledger)
 *   market-shortfall-compensation Wh short on its purchases, what the sellers paid it        (settled)
 *   market-sales                  Wh it delivered, the trade values it received              (settled)
 *   market-shortfall-charge       Wh short on its sales, what it paid the buyers             (settled)
 *   contract-purchases / -sales   Wh covered by supply contracts and their payments          (settled)
 *   residual-import               Σ over slots of max(0, −net), net = the member's balance over all label sets
 *                                 after delivery (metered export − import + bought − sold + adjustments
 *                                 + transfers), at the import tariff                        (due)
 *   residual-export               Σ max(0, net), at the export tariff, credited              (due)
 *   adjustments                   the owner's mutations of the member's balance (e.g. external supply),
 *                                 signed, at the import tariff                              (due)
 *   reconciliation-import/export  the grid operator's official values − the meters' own readings, signed,
 *                                 at the import / export tariff (export differences credited) (due)
 * Energy lines are priced once per tariff version in force in the period: sign × ⌊|Wh| × price / 1000⌋.
 * Totals: settled (already moved on the ledger), due (owed outside it), total = settled + due.
 * Trades still awaiting delivery are left out and counted in `pendingTrades`.
 */

export const BILL_KIND = 'gridledger/market-bill';

export type BillItem =
  | 'market-purchases'
  | 'market-shortfall-compensation'
  | 'market-sales'
  | 'market-shortfall-charge'
  | 'contract-purchases'
  | 'contract-sales'
  | 'residual-import'
  | 'residual-export'
  | 'adjustments'
  | 'reconciliation-import'
  | 'reconciliation-export';

export interface BillLine {
  item: BillItem;
  wh: number;
  /** Signed µ of the community asset (decimal): > 0 the member pays. */
  amountMicro: string;
  /** Already moved on the ledger (market and contract flows) or owed outside it. */
  settled: boolean;
}

export interface BillDay {
  day: string;
  slots: number;
  meteredImportWh: number;
  meteredExportWh: number;
  boughtWh: number;
  soldWh: number;
  residualImportWh: number;
  residualExportWh: number;
}

export interface MarketBill {
  kind: typeof BILL_KIND;
  version: 1;
  community: string;
  communityName: string;
  timezone: string;
  owner: string;
  asset: string;
  member: string;
  period: { fromDay: string; toDay: string; fromSlot: number; toSlot: number; start: string; end: string };
  tariffs: Array<{ fromSlot: number; importPrice: number; exportPrice: number }>;
  energyWh: { meteredImport: number; meteredExport: number };
  lines: BillLine[];
  totals: { settledMicro: string; dueMicro: string; totalMicro: string };
  pendingTrades: number;
  days: BillDay[];
  hash?: string;
}

function bump(values: number[], i: number, wh: number): void {
  values[i] = values[i]! + wh;
}

type Ctx = ModuleContext<KeepersOf<typeof REQUIRES>, unknown>;

/** Per tariff version: Wh to price, and the index of the version of a slot. */
class ByVersion {
  readonly wh: number[];
  constructor(private readonly versions: readonly TariffVersion[]) {
    this.wh = versions.map(() => 0);
  }
  indexOf(slot: number): number {
    let i = 0;
    while (i + 1 < this.versions.length && this.versions[i + 1]!.fromSlot <= slot) i++;
    return i;
  }
  add(slot: number, wh: number): void {
    bump(this.wh, this.indexOf(slot), wh);
  }
  total(): number {
    return this.wh.reduce((s, x) => s + x, 0);
  }
  /** sign × ⌊|Wh| × price / 1000⌋ per version, summed. */
  price(priceOf: (v: TariffVersion) => number): bigint {
    return this.wh.reduce((sum, wh, i) => {
      const magnitude = bigFloorDiv(BigInt(Math.abs(wh)) * BigInt(priceOf(this.versions[i]!)), 1000n);
      return sum + (wh < 0 ? -magnitude : magnitude);
    }, 0n);
  }
}

/** A member's settled trades on one side (what it bought, or what it sold) in the period. */
interface TradeTotals {
  wh: number;
  value: bigint;
  /** Energy the seller did not deliver, and the compensation paid for it (market trades only). */
  shortfallWh: number;
  compensation: bigint;
}

const noTrades = (): TradeTotals => ({ wh: 0, value: 0n, shortfallWh: 0, compensation: 0n });

function count(totals: TradeTotals, wh: number, value: bigint, shortfallWh = 0, compensation = 0n): void {
  totals.wh += wh;
  totals.value += value;
  totals.shortfallWh += shortfallWh;
  totals.compensation += compensation;
}

interface Shared {
  ctx: Ctx;
  community: { id: string; name: string; timezone: string; owner: string };
  asset: string;
  period: ReturnType<typeof billingPeriod>;
  versions: TariffVersion[];
  dayOf: Uint16Array;
  adjustments: Map<string, HistoryEntry[]>;
}

function billOf(s: Shared, member: string): MarketBill {
  const { ctx, period, versions } = s;
  const { fromSlot: from, toSlot: to } = period;
  const n = to - from;
  const imp = new Array<number>(n).fill(0);
  const exp = new Array<number>(n).fill(0);
  const net = new Array<number>(n).fill(0);
  const bought = new Array<number>(n).fill(0);
  const sold = new Array<number>(n).fill(0);
  const recImport = new ByVersion(versions);
  const recExport = new ByVersion(versions);
  for (const p of ctx.keepers.energy.linkPeriodsOf(s.community.id, member)) {
    const a = Math.max(p.fromSlot, from);
    const b = Math.min(p.toSlot, to);
    if (a >= b) continue;
    for (const v of ctx.keepers.metering.series(p.meterId, a, b)) {
      bump(imp, v.slot - from, v.importWh);
      bump(exp, v.slot - from, v.exportWh);
    }
    for (const d of ctx.keepers.metering.differences(p.meterId, a, b)) {
      recImport.add(d.slot, d.importDiffWh);
      recExport.add(d.slot, d.exportDiffWh);
    }
  }
  for (const row of ctx.keepers.energy.balancesOf(s.community.id, member, from, to)) bump(net, row.slot - from, row.wh);
  const market = { bought: noTrades(), sold: noTrades(), pending: 0 };
  for (const id of tradeBy.list(ctx.store, [s.community.id, member], { from, to })) {
    const t = getTrade(ctx.store, id)!;
    if (t.status === 'pending') market.pending++;
    if (t.status !== 'settled') continue;
    const d = t.delivery!;
    const buying = t.buyer === member;
    count(buying ? market.bought : market.sold, d.deliveredWh, BigInt(t.valueMicro), d.shortfallWh, BigInt(d.compensationMicro));
    bump(buying ? bought : sold, t.slot - from, d.deliveredWh);
  }
  const contract = { bought: noTrades(), sold: noTrades() };
  for (const id of contractBy.list(ctx.store, [s.community.id, member])) {
    const k = getContract(ctx.store, id)!;
    const buying = k.consumer === member;
    for (const cs of contractSlots.list(ctx.store, [numberOf(k.id)], { from, to })) {
      count(buying ? contract.bought : contract.sold, cs.coveredWh, BigInt(cs.paidMicro));
      bump(buying ? bought : sold, cs.slot - from, cs.coveredWh);
    }
  }
  const adjustments = new ByVersion(versions);
  for (const e of s.adjustments.get(member) ?? []) adjustments.add(e.slot, e.deltaWh);
  const residualImport = new ByVersion(versions);
  const residualExport = new ByVersion(versions);
  const days: BillDay[] = period.days.map((d) => ({ day: d.day, slots: d.slots, meteredImportWh: 0, meteredExportWh: 0, boughtWh: 0, soldWh: 0, residualImportWh: 0, residualExportWh: 0 }));
  for (let i = 0; i < n; i++) {
    const day = days[s.dayOf[i]!]!;
    day.meteredImportWh += imp[i]!;
    day.meteredExportWh += exp[i]!;
    day.boughtWh += bought[i]!;
    day.soldWh += sold[i]!;
    if (net[i]! < 0) {
      residualImport.add(from + i, -net[i]!);
      day.residualImportWh -= net[i]!;
    } else if (net[i]! > 0) {
      residualExport.add(from + i, net[i]!);
      day.residualExportWh += net[i]!;
    }
  }
  const importPrice = (v: TariffVersion) => v.importPrice;
  const exportPrice = (v: TariffVersion) => v.exportPrice;
  const line = (item: BillItem, wh: number, amount: bigint, settled: boolean): BillLine => ({ item, wh, amountMicro: amount.toString(), settled });
  const lines: BillLine[] = [
    line('market-purchases', market.bought.wh, market.bought.value, true),
    line('market-shortfall-compensation', market.bought.shortfallWh, -market.bought.compensation, true),
    line('market-sales', market.sold.wh, -market.sold.value, true),
    line('market-shortfall-charge', market.sold.shortfallWh, market.sold.compensation, true),
    line('contract-purchases', contract.bought.wh, contract.bought.value, true),
    line('contract-sales', contract.sold.wh, -contract.sold.value, true),
    line('residual-import', residualImport.total(), residualImport.price(importPrice), false),
    line('residual-export', residualExport.total(), -residualExport.price(exportPrice), false),
    line('adjustments', adjustments.total(), adjustments.price(importPrice), false),
    line('reconciliation-import', recImport.total(), recImport.price(importPrice), false),
    line('reconciliation-export', recExport.total(), -recExport.price(exportPrice), false),
  ];
  const sum = (settled: boolean) => lines.filter((l) => l.settled === settled).reduce((a, l) => a + BigInt(l.amountMicro), 0n);
  const settledMicro = sum(true);
  const dueMicro = sum(false);
  const bill: MarketBill = {
    kind: BILL_KIND,
    version: 1,
    community: s.community.id,
    communityName: s.community.name,
    timezone: s.community.timezone,
    owner: s.community.owner,
    asset: s.asset,
    member,
    period: { fromDay: period.fromDay, toDay: period.toDay, fromSlot: from, toSlot: to, start: slotIso(from), end: slotIso(to) },
    tariffs: versions.map((v) => ({ fromSlot: v.fromSlot, importPrice: v.importPrice, exportPrice: v.exportPrice })),
    energyWh: { meteredImport: imp.reduce((a, x) => a + x, 0), meteredExport: exp.reduce((a, x) => a + x, 0) },
    lines,
    totals: { settledMicro: settledMicro.toString(), dueMicro: dueMicro.toString(), totalMicro: (settledMicro + dueMicro).toString() },
    pendingTrades: market.pending,
    days,
  };
  return { ...bill, hash: statementHash(bill as unknown as Record<string, unknown>) };
}

/**
 * Bills of a community's members (every account that ever was a trader there, by address) for the
 * local days fromDay … toDay: one member, a page (`after` an address, `limit` bills; `next` when
 * more follow), or without a limit every member after `after` (the benchmark).
 */
export function communityBills(ctx: Ctx, input: { community: string; fromDay: string; toDay: string; member?: string; after?: string; limit?: number }): { bills: MarketBill[]; next?: string } {
  const config = configs.get(ctx.store, input.community);
  if (!config) throw E.MARKET_NOT_FOUND(`community ${input.community} has no market`);
  const community = ctx.keepers.energy.community(input.community)!;
  const period = billingPeriod(community.timezone, input.fromDay, input.toDay);
  let members: string[];
  let next: string | undefined;
  if (input.member !== undefined) {
    if (ctx.keepers.energy.trader(input.community, input.member) === undefined) throw E.MARKET_BILL_NOT_MEMBER(`${input.member} never was a trader of community ${input.community}`);
    members = input.after !== undefined && input.member <= input.after ? [] : [input.member];
  } else if (input.limit === undefined) {
    members = ctx.keepers.energy.traders(input.community).map((t) => t.address).filter((a) => input.after === undefined || a > input.after);
  } else {
    // the traders from `after` on, a page of them (and whether more follow)
    const page = ctx.keepers.energy.traderPage(input.community, { ...(input.after !== undefined ? { after: input.after } : {}), limit: input.limit });
    members = page.items.map((t) => t.address);
    next = page.next;
  }
  const versions = tariffsBetween(ctx.store, input.community, period.fromSlot, period.toSlot);
  const dayOf = new Uint16Array(period.toSlot - period.fromSlot);
  period.days.forEach((d, i) => dayOf.fill(i, d.firstSlot - period.fromSlot, d.firstSlot - period.fromSlot + d.slots));
  const adjustments = new Map<string, HistoryEntry[]>();
  for (const e of ctx.keepers.energy.adjustments(input.community, period.fromSlot, period.toSlot)) {
    if (e.kind !== 'mutate') continue;
    const own = adjustments.get(e.trader);
    if (own) own.push(e);
    else adjustments.set(e.trader, [e]);
  }
  const shared: Shared = { ctx, community: { id: community.id, name: community.name, timezone: community.timezone, owner: community.owner }, asset: config.asset, period, versions, dayOf, adjustments };
  return { bills: members.map((m) => billOf(shared, m)), ...(next !== undefined ? { next } : {}) };
}
