import { useMemo, useState } from 'react';
import type { RouteOutput } from '../../../src/api/route.js';
import { wholeCommunity, type energyRoutes } from '../../../src/modules/energy/routes.js';
import type { kpiRoutes } from '../../../src/runtime/kpi-routes.js';
import { communityKpis, type CommunityKpis } from '../../../sim/community/kpi.js';
import { Chart, type ChartOption } from '../components/Chart';
import { Card, ErrorBox, Kpi, kWh, Short, Table } from '../components/ui';
import { api, allCommunities, readRoute } from '../lib/api';
import { useLive } from '../lib/live';
import { useSession } from '../lib/session';
import { addDays, localDayOf, localTime, SLOT_MS } from '../lib/time';
import type { PageDef } from './index';

type Day = RouteOutput<typeof energyRoutes.day>;
type Position = Day['positions'][number];

/**
 * Per slot, from the community's public day totals: production = labelled energy credited (PV and
 * other labelled sources), consumption = energy debited, grid exchange = the net the community
 * leaves to the grid (+ export, − import).
 */
function flowsOf(p: Position) {
  let producedWh = 0;
  let consumedWh = 0;
  for (const l of p.byLabels) {
    if (l.wh > 0) producedWh += l.wh;
    else consumedWh -= l.wh;
  }
  return { slot: p.slot, producedWh, consumedWh, netWh: p.wh };
}

function energyChart(days: Day[]): ChartOption {
  const rows = days.flatMap((d) => d.positions.map(flowsOf));
  const x = rows.map((r) => r.slot * SLOT_MS);
  return {
    grid: { left: 55, right: 10, top: 30, bottom: 30 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'time', axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', name: 'Wh' },
    series: [
      { name: 'production', type: 'bar', stack: 'pc', data: rows.map((r, i) => [x[i], r.producedWh]), itemStyle: { color: '#f2b705' } },
      { name: 'consumption', type: 'bar', stack: 'pc', data: rows.map((r, i) => [x[i], -r.consumedWh]), itemStyle: { color: '#4a79a6' } },
      { name: 'grid exchange', type: 'line', data: rows.map((r, i) => [x[i], r.netWh]), showSymbol: false, itemStyle: { color: '#c0392b' } },
    ],
  };
}

function childrenChart(children: Array<{ id: string; day: Day }>): ChartOption {
  return {
    grid: { left: 55, right: 10, top: 30, bottom: 30 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'time', axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', name: 'Wh' },
    series: children.map((c) => ({ name: c.id, type: 'bar', stack: 'children', data: c.day.positions.map((p) => [p.slot * SLOT_MS, p.wh]) })),
  };
}

const TARIFFS = { importMicroEurPerKwh: 250_000, exportMicroEurPerKwh: 80_000, communityMicroEurPerKwh: 150_000 };

function kpisOf(id: string, days: Day[]): CommunityKpis | null {
  const positions = days.flatMap((d) => d.positions);
  if (positions.length === 0) return null;
  const slots = positions.map((p) => {
    const f = flowsOf(p);
    return { slot: p.slot, flows: [{ member: id, slot: p.slot, producedWh: f.producedWh, consumedWh: f.consumedWh, boughtInternallyWh: 0, soldInternallyWh: 0, gridImportWh: Math.max(0, -f.netWh), gridExportWh: Math.max(0, f.netWh) }] };
  });
  return communityKpis({ community: id, fromSlot: slots[0]!.slot, toSlot: slots[slots.length - 1]!.slot + 1, members: [id], tariffs: TARIFFS, slots });
}

type Report = RouteOutput<typeof kpiRoutes.communityKpis>;

/** The ledger report's figures: community KPIs at the metered grid connections, then one bill per member. */
function LedgerReportView({ report }: { report: Report }) {
  const k = report.kpis as unknown as CommunityKpis;
  const meters = new Map(report.members.map((m) => [m.address, m.meters.join(', ')]));
  const eur = (micro: number) => `${(micro / 1_000_000).toFixed(2)} €`;
  return (
    <>
      <div className="kpis">
        <Kpi label="shared inside" value={kWh(k.energy.boughtInternallyWh)} testId="ledger-kpi-shared" />
        <Kpi label="self-sufficiency" value={pct(k.selfSufficiencyPpm)} testId="ledger-kpi-self-sufficiency" />
        <Kpi label="self-consumption" value={pct(k.selfConsumptionPpm)} testId="ledger-kpi-self-consumption" />
        <Kpi label="grid import peak" value={kWh(k.peaks.importWh)} />
        <Kpi label="cost" value={eur(k.costMicroEur)} testId="ledger-kpi-cost" />
        <Kpi label="grid-only baseline" value={eur(k.baselineMicroEur)} />
        <Kpi label="savings" value={`${eur(k.savingsMicroEur)} (${pct(k.savingsPpm)})`} testId="ledger-kpi-savings" />
      </div>
      <Table
        rows={k.members.slice(0, MEMBER_ROWS)}
        testId="community-bills"
        columns={[
          ['member', (m) => meters.get(m.member) || <Short value={m.member} />],
          ['import', (m) => kWh(m.energy.consumedWh)],
          ['export', (m) => kWh(m.energy.producedWh)],
          ['inside ±', (m) => kWh(m.energy.boughtInternallyWh - m.energy.soldInternallyWh)],
          ['bill', (m) => eur(m.bill.totalMicroEur)],
          ['baseline', (m) => eur(m.bill.baselineMicroEur)],
        ]}
      />
      <p className="muted">From the ledger: metered import and export per member, energy transfers inside the community; tariffs {TARIFFS.importMicroEurPerKwh / 1000} / {TARIFFS.exportMicroEurPerKwh / 1000} / {TARIFFS.communityMicroEurPerKwh / 1000} m€/kWh (import / export / community). The same as <code>gridledger report</code>.</p>
    </>
  );
}

/** Rows of the members and meters tables (a community of 1,000 shows its first ones and a count). */
const MEMBER_ROWS = 25;

const pct = (ppm: number | null) => (ppm === null ? '—' : `${(ppm / 10_000).toFixed(1)} %`);

/** Traders drawn in the flow view at most (the busiest by net position); a slot of 1,000 members stays legible and cheap. */
const FLOW_TRADERS = 24;

/**
 * Energy between traders in one slot: the busiest traders' transfers (from their histories, both
 * directions, so a trader who passed on everything still appears) and each one's residual with the grid.
 */
function FlowView({ community, slot }: { community: string; slot: number }) {
  const flows = useLive(async () => {
    const balances = await api.energy.balances({ params: { id: community }, query: { slot: String(slot) } });
    const net = new Map<string, number>();
    for (const b of balances.balances) net.set(b.trader, (net.get(b.trader) ?? 0) + b.wh);
    const busiest = [...net].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, FLOW_TRADERS);
    const histories = await Promise.all(busiest.map(([t]) => api.energy.history({ params: { id: community }, query: { trader: t, slot: String(slot) } })));
    const seen = new Set<string>();
    const edges: Array<{ from: string; to: string; wh: number }> = [];
    for (const e of histories.flatMap((h) => h.entries)) {
      if ((e.kind !== 'transfer-out' && e.kind !== 'transfer-in') || !e.counterparty || seen.has(`${e.txHash}:${e.msgIndex}`)) continue;
      seen.add(`${e.txHash}:${e.msgIndex}`);
      edges.push(e.kind === 'transfer-out' ? { from: e.trader, to: e.counterparty, wh: -e.deltaWh } : { from: e.counterparty, to: e.trader, wh: e.deltaWh });
    }
    for (const [t, wh] of busiest) if (wh !== 0) edges.push(wh > 0 ? { from: t, to: 'grid', wh } : { from: 'grid', to: t, wh: -wh });
    return edges;
  }, [community, slot]);
  const traders = useMemo(() => [...new Set((flows.data ?? []).flatMap((e) => [e.from, e.to]).filter((t) => t !== 'grid'))].sort(), [flows.data]);
  const option = useMemo<ChartOption>(() => {
    // The grid on top, the traders on an arc below it, so no flow line runs through another node.
    const nodes = ['grid', ...traders];
    const n = traders.length;
    const arc = (i: number) => Math.PI + (Math.PI * (i + 0.5)) / Math.max(1, n);
    const pos = new Map<string, number[]>(nodes.map((name, i) => [name, i === 0 ? [0, 9] : [Math.cos(arc(i - 1)) * 11, Math.sin(arc(i - 1)) * 9 + 1]]));
    const edges = flows.data ?? [];
    const max = Math.max(1, ...edges.map((e) => e.wh));
    return {
      grid: { left: 10, right: 10, top: 10, bottom: 10 },
      xAxis: { type: 'value', show: false, min: -13, max: 13 },
      yAxis: { type: 'value', show: false, min: -12, max: 12 },
      tooltip: {},
      series: [
        {
          type: 'lines',
          coordinateSystem: 'cartesian2d',
          polyline: false,
          effect: { show: true, period: 2.5, symbolSize: 7, trailLength: 0.2 },
          lineStyle: { curveness: 0.2, opacity: 0.6 },
          data: edges.map((e) => ({ coords: [pos.get(e.from) ?? [0, 0], pos.get(e.to) ?? [0, 0]], lineStyle: { width: 1 + (6 * e.wh) / max, color: e.from === 'grid' || e.to === 'grid' ? '#c0392b' : '#f2b705' }, name: `${e.from.slice(0, 12)} → ${e.to.slice(0, 12)}: ${e.wh} Wh` })),
        },
        {
          type: 'scatter',
          symbolSize: 26,
          data: nodes.map((n) => ({ value: pos.get(n), name: n, itemStyle: { color: n === 'grid' ? '#555' : '#2e86c1' } })),
          label: { show: true, position: 'bottom', formatter: (p: { name: string }) => (p.name === 'grid' ? 'grid' : `${p.name.slice(0, 9)}…${p.name.slice(-4)}`) },
        },
      ],
    };
  }, [flows.data, traders]);
  return (
    <>
      <ErrorBox error={flows.error} />
      <Chart option={option} height={320} testId="community-flow" />
      <Table rows={flows.data ?? []} testId="community-flow-table" empty="no energy moved in this slot" columns={[['from', (e) => <Short value={e.from} />], ['to', (e) => <Short value={e.to} />], ['energy', (e) => kWh(e.wh)]]} />
    </>
  );
}

function Community() {
  const s = useSession();
  const list = useLive(async () => ({ communities: await allCommunities() }), [], { live: false });
  const [picked, setPicked] = useState<string | null>(null);
  const id = picked ?? list.data?.communities[0]?.id ?? null;
  const [span, setSpan] = useState<'day' | 'week'>('day');
  const [dayOffset, setDayOffset] = useState(0);
  const detail = useLive(async () => (id ? wholeCommunity(readRoute, id) : null), [id]);
  const tz = detail.data?.community.timezone ?? 'UTC';
  const today = addDays(localDayOf(Date.now(), tz), dayOffset);
  const days = useLive(async () => {
    if (!id) return [];
    const n = span === 'day' ? 1 : 7;
    return Promise.all(Array.from({ length: n }, (_, i) => api.energy.day({ params: { id }, query: { day: addDays(today, i - n + 1) } })));
  }, [id, span, today]);
  const children = useLive(async () => {
    const kids = detail.data?.children ?? [];
    return Promise.all(kids.map(async (c) => ({ id: c, day: await api.energy.day({ params: { id: c }, query: { day: today } }) })));
  }, [detail.data?.children.join(','), today]);
  const owner = detail.data?.community.owner;
  const privileged = !!s.token && (s.address === owner || s.roles.includes('auditor') || s.roles.includes('grid-operator'));
  const balances = useLive(async () => {
    if (!id || !privileged || !days.data?.length) return null;
    const first = days.data[0]!.firstSlot;
    const last = days.data[days.data.length - 1]!;
    return api.energy.balances({ params: { id }, query: { fromSlot: String(first), toSlot: String(last.firstSlot + last.slots) } });
  }, [id, privileged, days.data?.[0]?.firstSlot, span]);
  const kpis = useMemo(() => (id && days.data ? kpisOf(id, days.data) : null), [id, days.data]);
  // The ledger report (GET …/kpis, as `gridledger report`): per member, from every trader's history; private to the owner.
  const report = useLive(async () => {
    if (!id || !privileged) return null;
    const first = span === 'day' ? today : addDays(today, -6);
    const q = { fromDay: first, toDay: today, importPrice: TARIFFS.importMicroEurPerKwh, exportPrice: TARIFFS.exportMicroEurPerKwh, communityPrice: TARIFFS.communityMicroEurPerKwh };
    return api.kpi.communityKpis({ params: { id }, query: q });
  }, [id, privileged, span, today]);
  const busiest = useMemo(() => {
    const all = (days.data ?? []).flatMap((d) => d.positions).filter((p) => p.byLabels.length > 0);
    return all.length ? all.reduce((a, b) => (Math.abs(b.wh) + b.byLabels.length > Math.abs(a.wh) + a.byLabels.length ? b : a)).slot : null;
  }, [days.data]);
  const [flowSlot, setFlowSlot] = useState<number | null>(null);
  const slot = flowSlot ?? busiest;
  const traders = (detail.data?.traders ?? []).filter((t) => t.status === 'active').map((t) => t.address);
  const energyOption = useMemo(() => energyChart(days.data ?? []), [days.data]);
  const childrenOption = useMemo(() => childrenChart(children.data ?? []), [children.data]);

  return (
    <>
      <Card
        title="Community"
        testId="community-header"
        actions={
          <div className="row">
            <select value={id ?? ''} onChange={(e) => setPicked(e.target.value)} data-testid="community-pick">
              {(list.data?.communities ?? []).map((c) => <option key={c.id} value={c.id}>{c.name} ({c.id})</option>)}
            </select>
            <select value={span} onChange={(e) => setSpan(e.target.value as 'day' | 'week')} data-testid="community-span">
              <option value="day">day</option>
              <option value="week">week</option>
            </select>
            <button onClick={() => setDayOffset(dayOffset - 1)} data-testid="community-prev-day">◀</button>
            <span data-testid="community-day">{today}</span>
            <button onClick={() => setDayOffset(dayOffset + 1)}>▶</button>
          </div>
        }
      >
        <ErrorBox error={list.error ?? detail.error} />
        {!id && <p className="muted">No community on this ledger yet.</p>}
        {detail.data && (
          <p>
            <strong data-testid="community-name">{detail.data.community.name}</strong> — owner <Short value={owner} />, time zone {tz}
            {detail.data.community.parent && <> , part of {detail.data.community.parent}</>}
          </p>
        )}
        {kpis && (
          <div className="kpis" data-testid="community-kpis">
            <Kpi label="production" value={kWh(kpis.energy.producedWh)} testId="kpi-production" />
            <Kpi label="consumption" value={kWh(kpis.energy.consumedWh)} testId="kpi-consumption" />
            <Kpi label="self-sufficiency" value={pct(kpis.selfSufficiencyPpm)} />
            <Kpi label="self-consumption" value={pct(kpis.selfConsumptionPpm)} />
            <Kpi label="grid import" value={kWh(kpis.energy.gridImportWh)} testId="kpi-import" />
            <Kpi label="grid export" value={kWh(kpis.energy.gridExportWh)} />
            <Kpi label="import peak" value={`${kWh(kpis.peaks.importWh)}${kpis.peaks.importSlot !== null ? ` @ ${localTime(kpis.peaks.importSlot * SLOT_MS, tz)}` : ''}`} />
          </div>
        )}
      </Card>
      {privileged && (
        <Card title={`Ledger report (${span}): sharing, bills and savings per member`} testId="community-ledger-kpis">
          <ErrorBox error={report.error} />
          {report.data && <LedgerReportView report={report.data} />}
        </Card>
      )}
      <Card title={`Production, consumption and grid exchange per slot (${span})`} testId="community-energy">
        <ErrorBox error={days.error} />
        <Chart option={energyOption} />
      </Card>
      <Card title="Balances by label" testId="community-labels">
        <Table
          rows={(() => {
            const m = new Map<string, number>();
            for (const d of days.data ?? []) for (const p of d.positions) for (const l of p.byLabels) m.set(l.labels.join(',') || '(unlabelled)', (m.get(l.labels.join(',') || '(unlabelled)') ?? 0) + l.wh);
            return [...m].map(([labels, wh]) => ({ labels, wh }));
          })()}
          columns={[['labels', (r) => r.labels], ['energy', (r) => kWh(r.wh)]]}
        />
        <h2>By trader</h2>
        {privileged ? (
          <Table rows={balances.data?.totals.byTrader ?? []} testId="community-by-trader" columns={[['trader', (r) => <Short value={r.trader} />], ['balance', (r) => kWh(r.wh)]]} />
        ) : (
          <p className="muted">Balances of single traders are private: sign in as the community owner, a grid operator or an auditor.</p>
        )}
      </Card>
      <Card title={`Members (${traders.length}) and meters`} testId="community-members">
        <Table rows={(detail.data?.traders ?? []).slice(0, MEMBER_ROWS)} columns={[['trader', (t) => <Short value={t.address} />], ['status', (t) => t.status], ['since', (t) => t.addedAt.height]]} />
        {(detail.data?.traders.length ?? 0) > MEMBER_ROWS && <p className="muted">… and {detail.data!.traders.length - MEMBER_ROWS} more members</p>}
        <Table
          rows={(detail.data?.meters ?? []).flatMap((m) => m.links.slice(-1)).slice(0, MEMBER_ROWS)}
          columns={[['meter', (l) => l.meterId], ['kind', (l) => l.kind], ['trader', (l) => <Short value={l.trader} />], ['labels', (l) => l.labels.join(',')]]}
        />
      </Card>
      {(detail.data?.children.length ?? 0) > 0 && (
        <Card title="Member communities (stacked net position)" testId="community-children">
          <Chart option={childrenOption} />
        </Card>
      )}
      <Card
        title="Energy flows in one slot"
        testId="community-flows"
        actions={
          <select value={slot ?? ''} onChange={(e) => setFlowSlot(Number(e.target.value))}>
            {(days.data ?? []).flatMap((d) => d.positions).filter((p) => p.byLabels.length > 0).map((p) => <option key={p.slot} value={p.slot}>{p.local}</option>)}
          </select>
        }
      >
        {!privileged ? (
          <p className="muted">Who traded with whom is private: sign in as the community owner, a grid operator or an auditor.</p>
        ) : slot === null || !id ? (
          <p className="muted">No energy booked in this period.</p>
        ) : (
          <FlowView community={id} slot={slot} />
        )}
      </Card>
    </>
  );
}

export const communityPage: PageDef = { id: 'community', title: 'Community', component: Community };
