import { useState } from 'react';
import { MSG as SETTLEMENT_MSG } from '../../../src/modules/settlement/messages.js';
import { statementHash } from '../../../src/modules/settlement/statement.js';
import { Card, ErrorBox, eur, kWh, Short, SignedIn, Table, TxOutcome, useTx } from '../components/ui';
import { api } from '../lib/api';
import { useLive } from '../lib/live';
import { useSession } from '../lib/session';
import { addDays, localDayOf } from '../lib/time';
import { submit } from '../lib/wallet';
import type { PageDef } from './index';

/** Runs of equal holdings: one row per change instead of 96 identical ones. */
function runsOf(rows: Array<{ slot: number; local: string; ppm: number[] }>) {
  const runs: Array<{ from: string; slots: number; ppm: number[] }> = [];
  for (const r of rows) {
    const last = runs[runs.length - 1];
    if (last && last.ppm.join() === r.ppm.join()) last.slots++;
    else runs.push({ from: r.local.slice(0, 16).replace('T', ' '), slots: 1, ppm: r.ppm });
  }
  return runs;
}

function Plant() {
  const s = useSession();
  const plants = useLive(() => api.shares.listPlants({ query: { limit: 500 } }), [], { live: false });
  const mine = (plants.data?.plants ?? []).filter((p) => !s.address || p.operator === s.address || p.keys.some((k) => k.participants.some((x) => x.utility === s.address)));
  const [picked, setPicked] = useState<string | null>(null);
  const plant = mine.find((p) => p.id === picked) ?? mine[0];
  const tz = plant?.timezone ?? 'UTC';
  const [dayPick, setDayPick] = useState<string | null>(null);
  const day = dayPick ?? localDayOf(Date.now(), tz);
  const holdings = useLive(async () => (plant && s.token ? api.shares.plantHoldings({ params: { plant: plant.id }, query: { day } }) : null), [plant?.id, day, s.token]);
  const transfers = useLive(async () => (plant && s.token ? api.shares.plantTransfers({ params: { plant: plant.id }, query: {} }) : null), [plant?.id, s.token]);
  const [billDay, setBillDay] = useState<string | null>(null);
  const billFrom = billDay ?? addDays(localDayOf(Date.now(), tz), -1);
  const bill = useLive(async () => (plant && s.token ? api.settlement.bill({ params: { plant: plant.id }, query: { fromDay: billFrom, toDay: billFrom, utility: s.address ?? undefined } }) : null), [plant?.id, billFrom, s.token], { live: false });
  const tx = useTx();
  const record = () =>
    tx.run(() =>
      submit([
        {
          type: SETTLEMENT_MSG.recordStatements,
          value: { statements: (bill.data?.statements ?? []).map((st) => ({ plant: st.plant, customer: st.customer, fromSlot: st.period.fromSlot, toSlot: st.period.toSlot, hash: statementHash(st) })) },
        },
      ]),
    );
  const participants = holdings.data?.participants ?? [];
  return (
    <>
      <Card
        title="Shared PV plant"
        testId="plant-header"
        actions={
          <select value={plant?.id ?? ''} onChange={(e) => setPicked(e.target.value)} data-testid="plant-pick">
            {mine.map((p) => <option key={p.id} value={p.id}>{p.name} ({p.id})</option>)}
          </select>
        }
      >
        <ErrorBox error={plants.error} />
        {plant ? (
          <p>
            <strong data-testid="plant-name">{plant.name}</strong>: {plant.peakPowerW / 1000} kWp, production meter {plant.productionMeter}, operator <Short value={plant.operator} />, {plant.keys.at(-1)?.participants.length ?? 0} participants
          </p>
        ) : (
          <p className="muted">No plant that this account operates or bills.</p>
        )}
      </Card>
      <SignedIn what="see holdings, transfers and bills (private to the operator and utilities)">
        <Card title={`Holdings per slot on ${day}`} testId="plant-holdings" actions={<input type="date" value={day} onChange={(e) => setDayPick(e.target.value)} />}>
          <ErrorBox error={holdings.error} />
          <Table
            rows={runsOf(holdings.data?.rows ?? [])}
            columns={[['from', (r) => r.from], ['slots', (r) => r.slots], ...participants.map((p, i): [string, (r: { ppm: number[] }) => string] => [`${p.slice(0, 8)}…${p.slice(-4)}`, (r) => `${(r.ppm[i]! / 10_000).toFixed(2)} %`])]}
          />
        </Card>
        <Card title="Transfers and key changes" testId="plant-transfers">
          <ErrorBox error={transfers.error} />
          <Table rows={transfers.data?.entries ?? []} columns={[['#', (e) => e.seq], ['kind', (e) => e.kind], ['from', (e) => <Short value={e.from ?? e.by} />], ['to', (e) => <Short value={e.to} />], ['ppm', (e) => e.ppm ?? ''], ['height', (e) => e.height]]} />
        </Card>
        <Card title="Billing run" testId="plant-billing" actions={<input type="date" value={billFrom} onChange={(e) => setBillDay(e.target.value)} data-testid="bill-day" />}>
          <ErrorBox error={bill.error} />
          {bill.data && <p>Production {kWh(bill.data.productionWh)}</p>}
          <Table
            rows={bill.data?.statements ?? []}
            testId="plant-statements"
            columns={[['customer', (st) => <Short value={st.customer} />], ['consumed', (st) => kWh(st.energyWh.consumed)], ['PV covered', (st) => kWh(st.energyWh.covered)], ['fed in', (st) => kWh(st.energyWh.fedIn)], ['total', (st) => eur(st.amountMicroEur.total)], ['hash', (st) => <Short value={statementHash(st)} />]]}
          />
          <button disabled={tx.busy || !bill.data?.statements.length} onClick={() => void record()} data-testid="bill-record">Record statements on the ledger</button>
          <TxOutcome outcome={tx.outcome} />
        </Card>
      </SignedIn>
    </>
  );
}

export const plantPage: PageDef = { id: 'plant', title: 'Plant', component: Plant };
