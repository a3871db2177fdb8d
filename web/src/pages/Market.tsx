import { useMemo, useState } from 'react';
import type { RouteOutput } from '../../../src/api/route.js';
import { checkBill, type BillVerdict } from '../../../src/modules/market/cli/bill-check.js';
import { MSG as MARKET_MSG } from '../../../src/modules/market/messages.js';
import type { marketRoutes } from '../../../src/modules/market/routes.js';
import { LedgerError } from '../../../src/util/errors.js';
import { Chart, type ChartOption } from '../components/Chart';
import { Badge, Card, codeOf, ErrorBox, Kpi, Short, SignedIn, Table, TxOutcome, units, useTx } from '../components/ui';
import { api, allCommunities } from '../lib/api';
import { errorMessage } from '../lib/errors';
import { useLive } from '../lib/live';
import { useSession } from '../lib/session';
import { addDays, localDayOf, localTime, SLOT_MS } from '../lib/time';
import { submit } from '../lib/wallet';
import type { PageDef } from './index';

type Book = RouteOutput<typeof marketRoutes.book>;
type Clearing = RouteOutput<typeof marketRoutes.clearing>;
type Market = RouteOutput<typeof marketRoutes.market> & { name: string; timezone: string };

const nowSlot = () => Math.floor(Date.now() / SLOT_MS);
/** Prices are µ of the market's asset per kWh; shown as units per kWh. */
const perKwh = (price: number, asset: string) => `${units(BigInt(price), codeOf(asset))}/kWh`;

/** Communities that run a market (a community without one answers MARKET_NOT_OPEN / not found). */
async function marketsOf(): Promise<Market[]> {
  const communities = await allCommunities();
  const found = await Promise.all(
    communities.map((c) =>
      api.market.market({ params: { community: c.id } }).then(
        (m) => ({ ...m, name: c.name, timezone: c.timezone }),
        (err: unknown) => {
          if (err instanceof LedgerError && err.status === 404) return null;
          throw err;
        },
      ),
    ),
  );
  return found.filter((m): m is Market => m !== null);
}

function depthChart(book: Book | undefined): ChartOption {
  const session = book?.sessions.find((s) => s.offers.length + s.bids.length > 0) ?? book?.sessions[0];
  const prices = [...new Set([...(session?.bids ?? []), ...(session?.offers ?? [])].map((l) => l.price))].sort((a, b) => a - b);
  const at = (levels: Array<{ price: number; wh: number }> | undefined, p: number) => levels?.find((l) => l.price === p)?.wh ?? 0;
  return {
    grid: { left: 55, right: 10, top: 30, bottom: 40 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', name: 'µ/kWh', nameLocation: 'middle', nameGap: 25, data: prices },
    yAxis: { type: 'value', name: 'Wh' },
    series: [
      { name: 'bids', type: 'bar', data: prices.map((p) => at(session?.bids, p)), itemStyle: { color: '#4a79a6' } },
      { name: 'offers', type: 'bar', data: prices.map((p) => at(session?.offers, p)), itemStyle: { color: '#f2b705' } },
    ],
  };
}

function clearingChart(c: Clearing | undefined): ChartOption {
  const rows = (c?.slots ?? []).filter((s) => s.price !== null);
  return {
    grid: { left: 70, right: 55, top: 30, bottom: 30 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'time', axisLabel: { hideOverlap: true } },
    yAxis: [{ type: 'value', name: 'µ/kWh' }, { type: 'value', name: 'Wh' }],
    series: [
      { name: 'price', type: 'line', step: 'end', data: rows.map((s) => [s.slot * SLOT_MS, s.price]), itemStyle: { color: '#c0392b' } },
      { name: 'volume', type: 'bar', yAxisIndex: 1, data: rows.map((s) => [s.slot * SLOT_MS, s.volumeWh]), itemStyle: { color: '#8fb4d6' } },
    ],
  };
}

/** The advert board (open offers from now to a day ahead) and the order book depth of one slot. */
function Board({ market, slot, onSlot }: { market: Market; slot: number | null; onSlot(slot: number): void }) {
  const community = market.market.community;
  const asset = market.market.asset;
  const from = useMemo(() => nowSlot(), []);
  const offers = useLive(() => api.market.offers({ params: { community }, query: { fromSlot: String(from), toSlot: String(from + 96) } }), [community, from]);
  const shown = slot ?? offers.data?.offers[0]?.slot ?? from + 1;
  const book = useLive(() => api.market.book({ params: { community }, query: { slot: String(shown) } }), [community, shown]);
  const option = useMemo(() => depthChart(book.data), [book.data]);
  return (
    <>
      <Card title="Advert board: open offers of the next day" testId="market-offers">
        <ErrorBox error={offers.error} />
        <Table
          rows={offers.data?.offers ?? []}
          empty="no open offers"
          columns={[
            ['slot (local)', (o) => <button className="link" onClick={() => onSlot(o.slot)} title="show the depth of this slot">{localTime(o.slot * SLOT_MS, market.timezone)} {o.slotIso.slice(0, 10)}</button>],
            ['seller', (o) => <Short value={o.trader} />],
            ['Wh', (o) => o.remainingWh],
            ['price', (o) => perKwh(o.price, asset)],
            ['labels', (o) => o.labels.join(', ') || '(any)'],
            ['order', (o) => o.id],
          ]}
        />
      </Card>
      <Card title={`Order book depth of ${book.data ? `${book.data.slotIso.slice(0, 16)} UTC` : '…'}`} testId="market-book" actions={<input type="number" value={shown} onChange={(e) => onSlot(Number(e.target.value))} aria-label="slot" data-testid="market-book-slot" style={{ width: '8rem' }} />}>
        <ErrorBox error={book.error} />
        <Chart option={option} height={200} testId="market-depth-chart" />
        {(book.data?.sessions ?? []).map((s) => (
          <div key={s.session} data-testid={`market-book-${s.session}`}>
            <p className="muted">{s.session === 'fwd' ? 'forward session' : 'spot session'}: gate {s.closed ? 'closed' : `closes ${new Date(s.gateTime).toISOString().slice(11, 16)} UTC`}</p>
            <div className="row" style={{ alignItems: 'flex-start' }}>
              <Table rows={s.bids} empty="no bids" testId={`market-bids-${s.session}`} columns={[['bid µ/kWh', (l) => l.price], ['Wh', (l) => l.wh], ['orders', (l) => l.orders]]} />
              <Table rows={s.offers} empty="no offers" testId={`market-asks-${s.session}`} columns={[['offer µ/kWh', (l) => l.price], ['Wh', (l) => l.wh], ['orders', (l) => l.orders]]} />
            </div>
          </div>
        ))}
      </Card>
    </>
  );
}

function Prices({ market }: { market: Market }) {
  const community = market.market.community;
  const from = useMemo(() => nowSlot() - 96, []);
  const data = useLive(() => api.market.clearing({ params: { community }, query: { fromSlot: String(from), toSlot: String(from + 2 * 96) } }), [community, from]);
  const option = useMemo(() => clearingChart(data.data), [data.data]);
  const traded = (data.data?.slots ?? []).filter((s) => s.trades > 0 || s.volumeWh > 0);
  return (
    <Card title="Clearing prices and volumes (yesterday to tomorrow)" testId="market-clearing">
      <ErrorBox error={data.error} />
      <Chart option={option} height={220} testId="market-clearing-chart" />
      <Table
        rows={traded}
        empty="no trades in this window"
        testId="market-clearing-rows"
        columns={[['slot', (s) => s.slotIso.slice(0, 16)], ['session', (s) => s.session], ['price', (s) => (s.price === null ? '' : perKwh(s.price, market.market.asset))], ['volume', (s) => `${s.volumeWh} Wh`], ['trades', (s) => s.trades]]}
      />
    </Card>
  );
}

/** My orders, with a form that places a bid or an offer and a Cancel button per open order. */
function MyOrders({ market, me, defaultSlot }: { market: Market; me: string; defaultSlot: number }) {
  const community = market.market.community;
  const orders = useLive(() => api.market.orders({ params: { community }, query: { trader: me, status: 'all', limit: 50 } }), [community, me]);
  const tx = useTx();
  const [side, setSide] = useState<'bid' | 'offer'>('bid');
  const [slot, setSlot] = useState('');
  const [wh, setWh] = useState('1000');
  const [price, setPrice] = useState('100000');
  const [labels, setLabels] = useState('');
  const place = () =>
    tx.run(() => {
      const value = { community, slot: Number(slot || defaultSlot), wh: Number(wh), price: Number(price), ...(labels.trim() ? { labels: labels.split(',').map((l) => l.trim()).filter(Boolean) } : {}) };
      return submit([{ type: side === 'bid' ? MARKET_MSG.bid : MARKET_MSG.offer, value }]);
    });
  const cancel = (id: string) => tx.run(() => submit([{ type: MARKET_MSG.cancel, value: { id } }]));
  return (
    <Card title="My orders" testId="market-orders" wide>
      <ErrorBox error={orders.error} />
      <form className="inline" onSubmit={(e) => (e.preventDefault(), void place())} data-testid="market-order-form">
        <select value={side} onChange={(e) => setSide(e.target.value as 'bid' | 'offer')} aria-label="side" data-testid="order-side">
          <option value="bid">Bid (buy)</option>
          <option value="offer">Offer (sell)</option>
        </select>
        <input value={wh} onChange={(e) => setWh(e.target.value)} size={7} aria-label="Wh" data-testid="order-wh" /> Wh in slot
        <input value={slot} onChange={(e) => setSlot(e.target.value)} placeholder={String(defaultSlot)} size={9} aria-label="slot" data-testid="order-slot" /> at
        <input value={price} onChange={(e) => setPrice(e.target.value)} size={8} aria-label="price" data-testid="order-price" /> µ/kWh
        <input value={labels} onChange={(e) => setLabels(e.target.value)} placeholder="labels (solar,…)" size={12} aria-label="labels" data-testid="order-labels" />
        <button disabled={tx.busy} data-testid="order-submit">Sign &amp; place</button>
      </form>
      <div data-testid="order-outcome"><TxOutcome outcome={tx.outcome} /></div>
      <Table
        rows={orders.data?.orders ?? []}
        testId="market-order-rows"
        empty="no orders"
        columns={[
          ['order', (o) => o.id],
          ['side', (o) => o.side],
          ['slot', (o) => `${o.slot} (${o.slotIso.slice(5, 16).replace('T', ' ')})`],
          ['Wh', (o) => `${o.remainingWh} / ${o.wh}`],
          ['price', (o) => o.price],
          ['labels', (o) => o.labels.join(', ')],
          ['locked', (o) => units(o.lockedMicro)],
          ['status', (o) => <Badge value={o.status} good={['filled']} testId={`order-status-${o.id}`} />],
          ['', (o) => (o.status === 'open' ? <button disabled={tx.busy} onClick={() => void cancel(o.id)} data-testid={`order-cancel-${o.id}`}>Cancel</button> : null)],
        ]}
      />
    </Card>
  );
}

/**
 * My supply contracts, with the contract wizard: propose one (my side, the counterparty, the slots,
 * price, maximum power, notice), accept one proposed to me, end an active one with notice.
 */
function MyContracts({ market, me, defaultSlot }: { market: Market; me: string; defaultSlot: number }) {
  const community = market.market.community;
  const data = useLive(() => api.market.contracts({ params: { community }, query: { party: me, limit: 50 } }), [community, me]);
  const tx = useTx();
  const [role, setRole] = useState<'consumer' | 'prosumer'>('consumer');
  const [counterparty, setCounterparty] = useState('');
  const [startSlot, setStartSlot] = useState('');
  const [slots, setSlots] = useState('96');
  const [price, setPrice] = useState('100000');
  const [maxPowerW, setMaxPowerW] = useState('4000');
  const [noticeSlots, setNoticeSlots] = useState('4');
  const propose = () =>
    tx.run(() => {
      const start = Number(startSlot || defaultSlot);
      const value = { community, role, counterparty: counterparty.trim(), startSlot: start, endSlot: start + Number(slots), price: Number(price), maxPowerW: Number(maxPowerW), noticeSlots: Number(noticeSlots) };
      return submit([{ type: MARKET_MSG.contractPropose, value }]);
    });
  const act = (type: string, id: string) => tx.run(() => submit([{ type, value: { id } }]));
  return (
    <Card title="My supply contracts" testId="market-contracts" wide>
      <ErrorBox error={data.error} />
      <form className="inline" onSubmit={(e) => (e.preventDefault(), void propose())} data-testid="contract-form">
        I am the
        <select value={role} onChange={(e) => setRole(e.target.value as 'consumer' | 'prosumer')} aria-label="my side" data-testid="contract-role">
          <option value="consumer">consumer (I buy)</option>
          <option value="prosumer">prosumer (I supply)</option>
        </select>
        with
        <input value={counterparty} onChange={(e) => setCounterparty(e.target.value)} placeholder="counterparty address" size={20} aria-label="counterparty" data-testid="contract-counterparty" />
        from slot
        <input value={startSlot} onChange={(e) => setStartSlot(e.target.value)} placeholder={String(defaultSlot)} size={9} aria-label="start slot" data-testid="contract-start" /> for
        <input value={slots} onChange={(e) => setSlots(e.target.value)} size={4} aria-label="slots" data-testid="contract-slots" /> slots at
        <input value={price} onChange={(e) => setPrice(e.target.value)} size={8} aria-label="price" data-testid="contract-price" /> µ/kWh, max
        <input value={maxPowerW} onChange={(e) => setMaxPowerW(e.target.value)} size={6} aria-label="max power" data-testid="contract-power" /> W, notice
        <input value={noticeSlots} onChange={(e) => setNoticeSlots(e.target.value)} size={3} aria-label="notice slots" data-testid="contract-notice" /> slots
        <button disabled={tx.busy} data-testid="contract-submit">Sign &amp; propose</button>
      </form>
      <div data-testid="contract-outcome"><TxOutcome outcome={tx.outcome} /></div>
      <Table
        rows={data.data?.contracts ?? []}
        empty="no supply contracts"
        columns={[
          ['contract', (c) => c.id],
          ['consumer', (c) => <Short value={c.consumer} />],
          ['prosumer', (c) => <Short value={c.prosumer} />],
          ['slots', (c) => `${c.startSlot}…${c.endSlot}`],
          ['price', (c) => perKwh(c.price, market.market.asset)],
          ['max', (c) => `${c.maxPowerW} W`],
          ['covered', (c) => `${c.coveredWh} Wh`],
          ['paid', (c) => units(c.paidMicro)],
          ['status', (c) => <Badge value={c.status} good={['active', 'finished']} bad={['declined', 'lapsed']} testId={`contract-status-${c.id}`} />],
          [
            '',
            (c) =>
              c.status === 'proposed' && c.proposer !== me ? (
                <button disabled={tx.busy} onClick={() => void act(MARKET_MSG.contractAccept, c.id)} data-testid={`contract-accept-${c.id}`}>Sign &amp; accept</button>
              ) : c.status === 'active' ? (
                <button disabled={tx.busy} onClick={() => void act(MARKET_MSG.contractEnd, c.id)} data-testid={`contract-end-${c.id}`}>End with notice</button>
              ) : null,
          ],
        ]}
      />
    </Card>
  );
}

function MyBills({ market, me }: { market: Market; me: string }) {
  const community = market.market.community;
  const today = localDayOf(Date.now(), market.timezone);
  const [fromDay, setFromDay] = useState(addDays(today, -1));
  const data = useLive(() => api.market.bills({ params: { community }, query: { fromDay, toDay: today, member: me } }), [community, me, fromDay, today], { live: false });
  const bill = data.data?.bills[0];
  return (
    <Card title={`My bill ${fromDay} … ${today}`} testId="market-bills" actions={<input type="date" value={fromDay} onChange={(e) => setFromDay(e.target.value)} aria-label="from day" />}>
      <ErrorBox error={data.error} />
      {bill ? (
        <>
          <div className="kpis">
            <Kpi label="metered import" value={`${bill.energyWh.meteredImport} Wh`} />
            <Kpi label="metered export" value={`${bill.energyWh.meteredExport} Wh`} />
            <Kpi label="settled" value={units(bill.totals.settledMicro, codeOf(bill.asset))} />
            <Kpi label="due" value={units(bill.totals.dueMicro, codeOf(bill.asset))} />
            <Kpi label="total" value={units(bill.totals.totalMicro, codeOf(bill.asset))} testId="market-bill-total" />
          </div>
          <Table rows={bill.lines} testId="market-bill-lines" columns={[['item', (l) => l.item], ['Wh', (l) => l.wh], ['amount', (l) => units(l.amountMicro)], ['settled', (l) => (l.settled ? 'yes' : 'no')]]} />
          {bill.pendingTrades > 0 && <p className="muted">{bill.pendingTrades} trades are not settled yet.</p>}
          <BillVerify json={JSON.stringify(bill, null, 2)} testId="market-bill" />
        </>
      ) : (
        !data.loading && <p className="muted">No bill for this period.</p>
      )}
      <h2>Verify a bill you received</h2>
      <BillVerify json="" testId="market-received" />
    </Card>
  );
}

/** The dashboard's side of `gridledger verify statement` for a community bill (same checks, bill-check.ts). */
async function verifyBillJson(json: string): Promise<BillVerdict> {
  let statement: Record<string, unknown>;
  try {
    statement = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return { hash: null, ok: false, checks: [{ name: 'form', ok: false, detail: 'not JSON' }] };
  }
  return checkBill(statement, {
    record: async (hash) => {
      try {
        return await api.market.billRecord({ params: { hash } });
      } catch (err) {
        if (err instanceof LedgerError && err.code === 'MARKET_BILL_NOT_FOUND') return undefined;
        throw err;
      }
    },
    recompute: async (b) => (await api.market.bills({ params: { community: b.community }, query: { fromDay: b.fromDay, toDay: b.toDay, member: b.member } })).bills[0]?.hash,
  });
}

/** A bill's JSON (editable: a received copy can be pasted) with a Verify button and the verdict per check. */
function BillVerify({ json: initial, testId }: { json: string; testId: string }) {
  const [json, setJson] = useState(initial);
  const [verdict, setVerdict] = useState<BillVerdict | null>(null);
  const [error, setError] = useState<string | null>(null);
  const verify = () => {
    setError(null);
    verifyBillJson(json).then(setVerdict, (err: unknown) => (setVerdict(null), setError(errorMessage(err))));
  };
  return (
    <div className="statement" data-testid={testId}>
      <textarea rows={4} value={json} placeholder="paste the bill JSON from your community" onChange={(e) => (setJson(e.target.value), setVerdict(null))} data-testid={`${testId}-json`} />
      <div className="row">
        <button onClick={verify} data-testid={`${testId}-verify`}>Verify</button>
        {verdict && (
          <span className={verdict.ok ? 'ok' : 'error'} data-testid={`${testId}-verdict`}>
            {verdict.ok ? `verified: hash ${verdict.hash!.slice(0, 12)}…` : 'NOT verified'}: {verdict.checks.map((c) => `${c.name} ${c.ok ? '✓' : '✗'} ${c.detail}`).join('; ')}
          </span>
        )}
      </div>
      <ErrorBox error={error} />
    </div>
  );
}

function MarketPage() {
  const s = useSession();
  const markets = useLive(marketsOf, [], { live: false });
  const [picked, setPicked] = useState<string | null>(null);
  const [slot, setSlot] = useState<number | null>(null);
  const market = markets.data?.find((m) => m.market.community === picked) ?? markets.data?.[0];
  const tariff = market?.tariffs.at(-1);
  return (
    <>
      <Card
        title="Market"
        testId="market-header"
        actions={
          <select value={market?.market.community ?? ''} onChange={(e) => (setPicked(e.target.value), setSlot(null))} aria-label="community" data-testid="market-pick">
            {(markets.data ?? []).map((m) => <option key={m.market.community} value={m.market.community}>{m.name}</option>)}
          </select>
        }
      >
        <ErrorBox error={markets.error} />
        {market ? (
          <p data-testid="market-summary">
            <strong>{market.name}</strong>: {market.market.type} market in {market.market.asset}; gates close {market.market.gateBeforeStartSec} s before a slot and {market.market.gateAfterEndSec} s after it
            {tariff && <>; supplier tariffs: import {perKwh(tariff.importPrice, market.market.asset)}, feed-in {perKwh(tariff.exportPrice, market.market.asset)}</>}
          </p>
        ) : (
          !markets.loading && <p className="muted">No community runs a market.</p>
        )}
      </Card>
      {market && (
        <>
          <Board market={market} slot={slot} onSlot={setSlot} />
          <Prices market={market} />
          <SignedIn what="place and cancel orders and see your contracts and bills">
            {s.address && (
              <>
                <MyOrders market={market} me={s.address} defaultSlot={slot ?? nowSlot() + 8} />
                <MyContracts market={market} me={s.address} defaultSlot={nowSlot() + 8} />
                <MyBills market={market} me={s.address} />
              </>
            )}
          </SignedIn>
        </>
      )}
    </>
  );
}

export const marketPage: PageDef = { id: 'market', title: 'Market', component: MarketPage };
