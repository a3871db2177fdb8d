import { useMemo, useState } from 'react';
import type { RouteOutput } from '../../../src/api/route.js';
import { MSG as FLEX_MSG } from '../../../src/modules/flex/messages.js';
import type { flexRoutes } from '../../../src/modules/flex/routes.js';
import { Chart, type ChartOption } from '../components/Chart';
import { Badge, Card, codeOf, ErrorBox, Short, SignedIn, Table, TxOutcome, units, useTx } from '../components/ui';
import { api } from '../lib/api';
import { useLive } from '../lib/live';
import { useSession } from '../lib/session';
import { submit } from '../lib/wallet';
import type { PageDef } from './index';

type FlexEvent = RouteOutput<typeof flexRoutes.events>['events'][number];
type EventDetail = RouteOutput<typeof flexRoutes.event>;

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const GOOD = ['completed', 'active', 'proved', 'committed'];
const BAD = ['forfeited', 'missed', 'invalid-proof', 'expired', 'withdrawn'];

/**
 * Requested Wh per interval against the proved deviation (the measured values never reach the
 * ledger: the prover shows |requested − measured| in zero knowledge, so that is all a page can draw).
 */
function intervalsChart(d: EventDetail | undefined): ChartOption {
  const rows = d?.intervals ?? [];
  return {
    grid: { left: 55, right: 10, top: 30, bottom: 30 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: rows.map((i) => new Date(i.intervalPeriod.start).toISOString().slice(11, 16)) },
    yAxis: { type: 'value', name: 'Wh' },
    series: [
      { name: 'requested', type: 'bar', data: rows.map((i) => i.payloads[0]?.values[0] ?? 0), itemStyle: { color: '#8fb4d6' } },
      { name: 'proved deviation', type: 'bar', data: rows.map((i) => i.deviationWh ?? null), itemStyle: { color: '#c0392b' } },
    ],
  };
}

function Programs() {
  const data = useLive(() => api.flex.programs({ query: {} }), []);
  return (
    <Card title="Demand-response programs" testId="flex-programs">
      <ErrorBox error={data.error} />
      <Table
        rows={data.data?.programs ?? []}
        empty="no programs"
        columns={[
          ['program', (p) => p.id],
          ['name', (p) => p.name],
          ['aggregator', (p) => <Short value={p.aggregator} />],
          ['interval', (p) => `${p.intervalMinutes} min`],
          ['reward / interval', (p) => units(p.rewardPerInterval, codeOf(p.asset))],
          ['penalty / Wh', (p) => units(p.penaltyPerWh, codeOf(p.asset))],
          ['proofs', (p) => p.proofSystem],
          ['key', (p) => <Short value={p.verifyingKey} />],
        ]}
      />
    </Card>
  );
}

function EventTable({ events, onPick, picked, testId }: { events: FlexEvent[]; onPick(id: string): void; picked?: string; testId: string }) {
  return (
    <Table
      rows={events}
      testId={testId}
      empty="no events"
      rowKey={(e) => e.id}
      columns={[
        ['event', (e) => <button className="link" onClick={() => onPick(e.id)} data-testid={`flex-pick-${e.id}`}>{e.id === picked ? <strong>{e.id}</strong> : e.id}</button>],
        ['program', (e) => e.programID],
        ['prosumer', (e) => <Short value={e.prosumer} />],
        ['meter', (e) => e.meterId ?? ''],
        ['start', (e) => utc(e.intervalPeriod.start)],
        ['intervals', (e) => `${e.settled} / ${e.intervalCount} settled`],
        ['deposit', (e) => units(e.deposit, codeOf(e.asset))],
        ['reward paid', (e) => units(e.paidToProsumer)],
        ['penalties', (e) => units(e.paidToAggregator)],
        ['status', (e) => <Badge value={e.status} good={GOOD} bad={BAD} testId={`flex-status-${e.id}`} />],
      ]}
    />
  );
}

function EventDetailCard({ id }: { id: string }) {
  const data = useLive(() => api.flex.event({ params: { id } }), [id]);
  const option = useMemo(() => intervalsChart(data.data), [data.data]);
  const e = data.data?.event;
  return (
    <Card title={`Event ${id}${e?.eventName ? `: ${e.eventName}` : ''}`} testId="flex-event" wide>
      <ErrorBox error={data.error} />
      {e && (
        <p className="muted">
          {e.payloadDescriptors[0]?.payloadType} · {e.intervalCount} × {e.intervalPeriod.duration} from {utc(e.intervalPeriod.start)} · escrow {e.escrow}: {units(e.remaining, codeOf(e.asset))} remaining
        </p>
      )}
      <Chart option={option} height={200} testId="flex-intervals-chart" />
      <Table
        rows={data.data?.intervals ?? []}
        testId="flex-intervals"
        columns={[
          ['#', (i) => i.id],
          ['start', (i) => utc(i.intervalPeriod.start)],
          ['requested', (i) => `${i.payloads[0]?.values[0] ?? ''} Wh`],
          ['commitment', (i) => <Short value={i.commitment} />],
          ['proved deviation', (i) => (i.deviationWh === undefined ? '' : `${i.deviationWh} Wh`)],
          ['penalty', (i) => (i.toAggregator === undefined ? '' : units(i.toAggregator))],
          ['status', (i) => <Badge value={i.status} good={GOOD} bad={BAD} />],
        ]}
      />
      <h2>Escrow over the event</h2>
      <Table
        rows={data.data?.escrow ?? []}
        testId="flex-escrow"
        columns={[['step', (s) => s.kind], ['interval', (s) => s.interval ?? ''], ['height', (s) => s.height], ['to aggregator', (s) => units(s.toAggregator)], ['to prosumer', (s) => units(s.toProsumer)], ['remaining', (s) => units(s.remaining)]]}
      />
    </Card>
  );
}

/** The prosumer's events: enrol in an offered one with a meter (signed in the page); rewards of the others. */
function MyEnrolments({ me, onPick }: { me: string; onPick(id: string): void }) {
  const data = useLive(() => api.flex.events({ query: { party: me, status: 'all' } }), [me]);
  const tx = useTx();
  const [meters, setMeters] = useState<Record<string, string>>({});
  const mine = (data.data?.events ?? []).filter((e) => e.prosumer === me);
  const enrol = (event: string) => tx.run(() => submit([{ type: FLEX_MSG.enrol, value: { event, meterId: (meters[event] ?? '').trim() } }]));
  const earned = mine.reduce((sum, e) => sum + BigInt(e.paidToProsumer), 0n);
  return (
    <Card title="My enrolments" testId="flex-mine" wide>
      <ErrorBox error={data.error} />
      {mine.length > 0 && <p>Rewards received: <strong data-testid="flex-earned">{units(earned, codeOf(mine[0]!.asset))}</strong></p>}
      <Table
        rows={mine}
        testId="flex-mine-rows"
        empty="no event was offered to this account"
        rowKey={(e) => e.id}
        columns={[
          ['event', (e) => <button className="link" onClick={() => onPick(e.id)}>{e.id}</button>],
          ['start', (e) => utc(e.intervalPeriod.start)],
          ['intervals', (e) => e.intervalCount],
          ['reward / interval', (e) => units(e.rewardPerInterval, codeOf(e.asset))],
          ['meter', (e) => e.meterId ?? ''],
          ['reward paid', (e) => units(e.paidToProsumer)],
          ['status', (e) => <Badge value={e.status} good={GOOD} bad={BAD} testId={`flex-mine-status-${e.id}`} />],
          ['', (e) =>
            e.status === 'offered' ? (
              <form className="inline" onSubmit={(ev) => (ev.preventDefault(), void enrol(e.id))}>
                <input value={meters[e.id] ?? ''} onChange={(ev) => setMeters({ ...meters, [e.id]: ev.target.value })} placeholder="meter id" size={8} aria-label="meter" data-testid={`flex-enrol-meter-${e.id}`} />
                <button disabled={tx.busy} data-testid={`flex-enrol-${e.id}`}>Sign &amp; enrol</button>
              </form>
            ) : null],
        ]}
      />
      <div data-testid="flex-outcome"><TxOutcome outcome={tx.outcome} /></div>
    </Card>
  );
}

function FlexPage() {
  const s = useSession();
  const events = useLive(() => api.flex.events({ query: { status: 'all' } }), []);
  const [picked, setPicked] = useState<string | null>(null);
  const list = events.data?.events ?? [];
  // Open on the latest event that has settled intervals: the one with something to show.
  const shown = picked ?? list.find((e) => e.settled > 0)?.id ?? list[0]?.id;
  return (
    <>
      <Programs />
      <Card title="Events" testId="flex-events" wide>
        <ErrorBox error={events.error} />
        <EventTable events={list} onPick={setPicked} picked={shown} testId="flex-event-rows" />
      </Card>
      {shown && <EventDetailCard key={shown} id={shown} />}
      <SignedIn what="enrol in the events offered to you">{s.address && <MyEnrolments me={s.address} onPick={setPicked} />}</SignedIn>
    </>
  );
}

export const flexPage: PageDef = { id: 'flex', title: 'Flex', component: FlexPage };
