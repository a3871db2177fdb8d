import { useMemo, useState } from 'react';
import { MSG as SHARES_MSG } from '../../../src/modules/shares/messages.js';
import { statementHash } from '../../../src/modules/settlement/statement.js';
import { Chart, type ChartOption } from '../components/Chart';
import { EdgeVerify } from '../components/EdgeVerify';
import { Card, ErrorBox, eur, kWh, Short, SignedIn, Table, TxOutcome, useTx } from '../components/ui';
import { api, readRoute } from '../lib/api';
import { communitiesOfTrader } from '../../../src/modules/energy/routes.js';
import { errorMessage } from '../lib/errors';
import { useLive } from '../lib/live';
import { useSession } from '../lib/session';
import { addDays, localDayOf, SLOT_MS } from '../lib/time';
import { submit } from '../lib/wallet';
import type { PageDef } from './index';

const nowSlot = () => Math.floor(Date.now() / SLOT_MS);

/** Communities where the account trades (or traded), with the meters ever linked to it there. */
async function myCommunities(me: string) {
  const mine = await communitiesOfTrader(readRoute, me);
  return mine.map(({ community, meters }) => ({ id: community.id, name: community.name, timezone: community.timezone, meters }));
}

function MyMeters({ me }: { me: string }) {
  const data = useLive(async () => {
    const meters = [...new Set((await myCommunities(me)).flatMap((c) => c.meters))];
    const from = nowSlot() - 2 * 96;
    return Promise.all(meters.map((m) => api.metering.listReadings({ params: { meterId: m }, query: { fromSlot: String(from), toSlot: String(nowSlot() + 1) } })));
  }, [me]);
  const option = useMemo<ChartOption>(() => ({
    grid: { left: 55, right: 10, top: 30, bottom: 30 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'time', axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', name: 'Wh' },
    series: (data.data ?? []).flatMap((r) => [
      { name: `${r.meterId} import`, type: 'bar', data: r.readings.map((x) => [x.slot * SLOT_MS, -x.importWh]) },
      { name: `${r.meterId} export`, type: 'bar', data: r.readings.map((x) => [x.slot * SLOT_MS, x.exportWh]) },
    ]),
  }), [data.data]);
  const rows = (data.data ?? []).flatMap((r) => r.readings).sort((a, b) => b.slot - a.slot).slice(0, 12);
  return (
    <Card title="My meters: readings of the last two days" testId="prosumer-meters">
      <ErrorBox error={data.error} />
      <Chart option={option} height={220} />
      <Table rows={rows} testId="prosumer-readings" empty="no readings from meters linked to this account" columns={[['meter', (r) => r.meterId], ['slot', (r) => r.slotIso.slice(0, 16)], ['import', (r) => `${r.importWh} Wh`], ['export', (r) => `${r.exportWh} Wh`], ['tx', (r) => <Short value={r.txHash} />]]} />
    </Card>
  );
}

/** The meters linked to the account, checked against their edge agent's samples. */
function MyTamperFlags({ me }: { me: string }) {
  const meters = useLive(async () => [...new Set((await myCommunities(me)).flatMap((c) => c.meters))], [me], { live: false });
  return <EdgeVerify meters={meters.data ?? []} />;
}

function MyBalances({ me }: { me: string }) {
  const data = useLive(async () => {
    const communities = await myCommunities(me);
    return Promise.all(
      communities.map(async (c) => {
        const [balances, history] = await Promise.all([
          // the last week's slots and later ones: every slot a trader ever had grows without end
          api.energy.balances({ params: { id: c.id }, query: { trader: me, fromSlot: String(nowSlot() - 7 * 96) } }),
          api.energy.history({ params: { id: c.id }, query: { trader: me, order: 'desc', limit: 25 } }),
        ]);
        return { community: c, balances, history: history.entries };
      }),
    );
  }, [me]);
  return (
    <Card title="My balances (the last 7 days on) and their history" testId="prosumer-balances">
      <ErrorBox error={data.error} />
      {(data.data ?? []).map((c) => (
        <div key={c.community.id}>
          <h2>{c.community.name}</h2>
          <Table rows={c.balances.balances} testId="prosumer-balance-rows" empty="all balances are zero" columns={[['slot', (b) => b.slotIso.slice(0, 16)], ['labels', (b) => b.labels.join(',') || '(unlabelled)'], ['balance', (b) => <span data-testid="balance-wh">{b.wh} Wh</span>]]} />
          <Table rows={c.history} testId="prosumer-history-rows" columns={[['slot', (h) => h.slotIso.slice(0, 16)], ['change', (h) => h.kind], ['Δ', (h) => `${h.deltaWh} Wh`], ['balance', (h) => `${h.balanceWh} Wh`], ['with', (h) => <Short value={h.counterparty ?? h.meterId} />]]} />
        </div>
      ))}
      {data.data?.length === 0 && <p className="muted">This account trades in no community.</p>}
    </Card>
  );
}

/** Local time of a slot boundary, from the slots the node annotated (the range's end has none). */
function localOf(slots: ReadonlyArray<{ slot: number; local: string }>, slot: number): string {
  const hit = slots.find((s) => s.slot === slot);
  return hit ? hit.local.slice(5, 16).replace('T', ' ') : 'end';
}

/** Plants where the account holds (or held) a portion. */
async function myPlants(me: string) {
  const { plants } = await api.shares.listPlants({ query: { limit: 500 } });
  return plants.filter((p) => p.keys.some((k) => k.participants.some((x) => x.address === me)));
}

function Portions({ me }: { me: string }) {
  const plants = useLive(() => myPlants(me), [me], { live: false });
  const [picked, setPicked] = useState<string | null>(null);
  const plant = plants.data?.find((p) => p.id === picked) ?? plants.data?.[0];
  const from = useMemo(() => nowSlot() - 3 * 96, []);
  const holdings = useLive(async () => (plant ? api.shares.participantHoldings({ params: { plant: plant.id, address: me }, query: { fromSlot: from, toSlot: from + 7 * 96 } }) : null), [plant?.id, me, from]);
  const option = useMemo<ChartOption>(() => {
    const slots = holdings.data?.slots ?? [];
    const days = [...new Set(slots.map((s) => s.local.slice(0, 10)))];
    const times = Array.from({ length: 96 }, (_, i) => `${String(Math.floor(i / 4)).padStart(2, '0')}:${String((i % 4) * 15).padStart(2, '0')}`);
    const data = slots.map((s) => [times.indexOf(s.local.slice(11, 16)), days.indexOf(s.local.slice(0, 10)), s.ppm / 10_000]);
    const max = Math.max(1, ...slots.map((s) => s.ppm / 10_000));
    return {
      grid: { left: 80, right: 20, top: 10, bottom: 70 },
      tooltip: { formatter: (p: { value: number[] }) => `${days[p.value[1]!]} ${times[p.value[0]!]}: ${p.value[2]} %` },
      xAxis: { type: 'category', data: times, splitArea: { show: true } },
      yAxis: { type: 'category', data: days },
      visualMap: { min: 0, max, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 160, text: [`${max} %`, '0 %'], inRange: { color: ['#f7fbff', '#f2b705', '#c0392b'] } },
      series: [{ type: 'heatmap', data }],
    };
  }, [holdings.data]);
  const tx = useTx();
  const [to, setTo] = useState('');
  const [ppm, setPpm] = useState('100000');
  const [start, setStart] = useState(() => new Date((nowSlot() + 4) * SLOT_MS - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16));
  const [count, setCount] = useState('4');
  const transfer = () =>
    tx.run(async () => {
      const fromSlot = Math.floor(new Date(start).getTime() / SLOT_MS);
      return submit([{ type: SHARES_MSG.transfer, value: { plant: plant!.id, to: to.trim(), ppm: Number(ppm), fromSlot, toSlot: fromSlot + Number(count) } }]);
    });
  return (
    <Card
      title="My PV portions (slot × day)"
      testId="prosumer-portions"
      actions={
        <select value={plant?.id ?? ''} onChange={(e) => setPicked(e.target.value)}>
          {(plants.data ?? []).map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select>
      }
    >
      <ErrorBox error={plants.error ?? holdings.error} />
      {plant ? <Chart option={option} height={260} testId="prosumer-heatmap" /> : <p className="muted">No shared PV plant lists this account.</p>}
      {holdings.data && (
        <p className="muted" data-testid="portion-runs">
          {holdings.data.segments.map((seg) => `${localOf(holdings.data!.slots, seg.fromSlot)} → ${localOf(holdings.data!.slots, seg.toSlot)}: ${seg.ppm} ppm`).join(' · ')}
        </p>
      )}
      {plant && (
        <form className="inline" onSubmit={(e) => (e.preventDefault(), void transfer())} data-testid="transfer-form">
          <span>Transfer</span>
          <input value={ppm} onChange={(e) => setPpm(e.target.value)} size={8} aria-label="ppm" data-testid="transfer-ppm" /> ppm to
          <input value={to} onChange={(e) => setTo(e.target.value)} placeholder="grid1… address" aria-label="to" data-testid="transfer-to" />
          from <input type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} data-testid="transfer-start" />
          for <input value={count} onChange={(e) => setCount(e.target.value)} size={3} aria-label="slots" data-testid="transfer-slots" /> slots
          <button disabled={tx.busy} data-testid="transfer-submit">Sign &amp; send</button>
        </form>
      )}
      <TxOutcome outcome={tx.outcome} />
    </Card>
  );
}

type Verdict = { ok: boolean; text: string } | null;

/** Recomputes the statement hash from the JSON shown and looks it up on the ledger. */
async function verifyStatement(json: string, me: string): Promise<Verdict> {
  let statement: Record<string, unknown>;
  try {
    statement = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return { ok: false, text: 'not JSON' };
  }
  const hash = statementHash(statement);
  // Tariffs typed on the utility's command line: figures only, never a bill (as `verify statement`).
  if (statement.dryRun === true) return { ok: false, text: 'NOT verified: a dry run (its tariffs were typed on the command line, not taken from the ledger)' };
  try {
    const r = await api.settlement.statement({ params: { hash } });
    if (r.record.customer !== me) return { ok: false, text: `hash ${hash.slice(0, 12)}… is recorded for another customer` };
    if (r.superseded) return { ok: false, text: `recorded at height ${r.record.height} but superseded by revision ${r.latest.revision}` };
    return { ok: true, text: `verified: hash ${hash.slice(0, 12)}… recorded by the utility at height ${r.record.height} (revision ${r.record.revision})` };
  } catch (err) {
    return { ok: false, text: `NOT verified: hash ${hash.slice(0, 12)}… is not on the ledger (${errorMessage(err).split(':')[0]}) — the statement differs from what the utility recorded` };
  }
}

function StatementRow({ json: initial, me }: { json: string; me: string }) {
  const [json, setJson] = useState(initial);
  const [verdict, setVerdict] = useState<Verdict>(null);
  const s = JSON.parse(initial) as { period: { fromDay: string; toDay: string }; amountMicroEur: { total: number }; energyWh: { consumed: number; covered: number } };
  return (
    <div className="statement" data-testid="statement">
      <p>
        {s.period.fromDay}…{s.period.toDay}: consumed {kWh(s.energyWh.consumed)}, covered by PV {kWh(s.energyWh.covered)}, total <strong>{eur(s.amountMicroEur.total)}</strong>
      </p>
      <textarea rows={4} value={json} onChange={(e) => setJson(e.target.value)} data-testid="statement-json" />
      <div className="row">
        <button onClick={() => void verifyStatement(json, me).then(setVerdict)} data-testid="statement-verify">Verify</button>
        {verdict && <span className={verdict.ok ? 'ok' : 'error'} data-testid="statement-verdict">{verdict.text}</span>}
      </div>
    </div>
  );
}

/**
 * A statement with `evidence` (`gridledger bill --prove`) checked in this page without asking any
 * node: the signed headers from the trusted genesis or header, the proofs, and the statement
 * recomputed from the proven values (the verifier is loaded on first use: it carries the modules).
 */
async function verifyOffline(json: string, trustedJson: string): Promise<Verdict> {
  let statement: Record<string, unknown>;
  let trusted: unknown;
  try {
    statement = JSON.parse(json) as Record<string, unknown>;
    trusted = JSON.parse(trustedJson);
  } catch {
    return { ok: false, text: 'the statement and the trusted genesis or header must both be JSON' };
  }
  try {
    const { verifyStatementInBrowser } = await import('../lib/verify-statement.js');
    const r = await verifyStatementInBrowser(statement, trusted);
    const failed = r.checks.filter((c) => c.ok === false);
    return r.ok
      ? { ok: true, text: `verified offline: ${r.checks.map((c) => c.detail).join('; ')}` }
      : { ok: false, text: `NOT verified: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}` };
  } catch (err) {
    return { ok: false, text: `NOT verified: ${errorMessage(err)}` };
  }
}

/** A statement received from the utility (a JSON file): paste it and check it against the ledger, or offline against a trusted genesis. */
function VerifyReceived({ me }: { me: string }) {
  const [json, setJson] = useState('');
  const [trusted, setTrusted] = useState('');
  const [verdict, setVerdict] = useState<Verdict>(null);
  return (
    <div data-testid="statement-received">
      <h2>Verify a statement you received</h2>
      <textarea rows={6} placeholder="paste the statement JSON from your utility" value={json} onChange={(e) => (setJson(e.target.value), setVerdict(null))} data-testid="received-json" />
      <textarea rows={3} placeholder="optional, for a statement with proofs: paste the trusted genesis.json (or a saved trusted header) to verify it offline" value={trusted} onChange={(e) => (setTrusted(e.target.value), setVerdict(null))} data-testid="received-trusted" />
      <div className="row">
        <button onClick={() => void (trusted.trim() ? verifyOffline(json, trusted) : verifyStatement(json, me)).then(setVerdict)} data-testid="received-verify">Verify</button>
        {verdict && <span className={verdict.ok ? 'ok' : 'error'} data-testid="received-verdict">{verdict.text}</span>}
      </div>
    </div>
  );
}

function Statements({ me }: { me: string }) {
  const plants = useLive(() => myPlants(me), [me], { live: false });
  const tz = plants.data?.[0]?.timezone ?? 'UTC';
  const [fromDay, setFromDay] = useState<string | null>(null);
  const yesterday = addDays(localDayOf(Date.now(), tz), -1);
  const day = fromDay ?? yesterday;
  const bills = useLive(async () => {
    const all = await Promise.all((plants.data ?? []).map((p) => api.settlement.bill({ params: { plant: p.id }, query: { fromDay: day, toDay: day, customer: me } })));
    return all.flatMap((b) => b.statements);
  }, [plants.data?.map((p) => p.id).join(','), day, me], { live: false });
  return (
    <Card title="My statements (computed from the ledger)" testId="prosumer-statements" actions={<input type="date" value={day} onChange={(e) => setFromDay(e.target.value)} data-testid="statement-day" />}>
      <ErrorBox error={plants.error ?? bills.error} />
      {(bills.data ?? []).map((s, i) => <StatementRow key={`${s.plant}-${day}-${i}`} json={JSON.stringify(s, null, 2)} me={me} />)}
      {bills.data?.length === 0 && <p className="muted">No statement for this day.</p>}
      <VerifyReceived me={me} />
    </Card>
  );
}

function Prosumer() {
  const s = useSession();
  if (!s.address) {
    return (
      <Card title="Prosumer">
        <SignedIn what="see your meters, balances, PV portions and statements">{null}</SignedIn>
      </Card>
    );
  }
  return (
    <>
      <Portions me={s.address} />
      <MyBalances me={s.address} />
      <MyMeters me={s.address} />
      <MyTamperFlags me={s.address} />
      <Statements me={s.address} />
    </>
  );
}

export const prosumerPage: PageDef = { id: 'prosumer', title: 'Prosumer', component: Prosumer };
