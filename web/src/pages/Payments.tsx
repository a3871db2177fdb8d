import { useMemo, useState } from 'react';
import type { RouteOutput } from '../../../src/api/route.js';
import { MSG as PAYMENTS_MSG } from '../../../src/modules/payments/messages.js';
import type { paymentsRoutes } from '../../../src/modules/payments/routes.js';
import { Chart, type ChartOption } from '../components/Chart';
import { Badge, Card, codeOf, ErrorBox, parseUnits, Short, SignedIn, Table, TxOutcome, units, useTx } from '../components/ui';
import { allAssetSupplies, api } from '../lib/api';
import { useLive } from '../lib/live';
import { useSession } from '../lib/session';
import { submit } from '../lib/wallet';
import type { PageDef } from './index';

type Supply = RouteOutput<typeof paymentsRoutes.listAssets>['supply'][number];
type Escrow = RouteOutput<typeof paymentsRoutes.escrows>['escrows'][number];

/** Units of a micro-amount for a chart axis (display only; the tables show the exact digits). */
const chartUnits = (micro: string | null) => (micro === null ? null : Number(BigInt(micro) / 1000n) / 1000);

function supplyChart(rows: Supply[]): ChartOption {
  return {
    grid: { left: 60, right: 10, top: 40, bottom: 30 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: rows.map((r) => r.asset) },
    yAxis: { type: 'value' },
    series: [
      { name: 'supply', type: 'bar', data: rows.map((r) => chartUnits(r.supply)), itemStyle: { color: '#4a79a6' } },
      { name: 'circulating', type: 'bar', data: rows.map((r) => chartUnits(r.circulating)), itemStyle: { color: '#8fb4d6' } },
      { name: 'attested reserve', type: 'bar', data: rows.map((r) => chartUnits(r.reserve)), itemStyle: { color: '#1b7f3b' } },
    ],
  };
}

/** Every asset: supply (minted − burned), what circulates freely, and the issuer's latest attested reserve. */
function Assets() {
  const data = useLive(() => allAssetSupplies(), []);
  const supply = data.data?.supply ?? [];
  const option = useMemo(() => supplyChart(supply), [data.data]);
  return (
    <Card title="Assets: supply against the attested reserve" testId="payments-assets" wide>
      <ErrorBox error={data.error} />
      {supply.length > 0 && <Chart option={option} height={200} testId="payments-supply-chart" />}
      <Table
        rows={supply}
        testId="payments-supply"
        empty="no assets issued"
        columns={[
          ['asset', (r) => r.asset],
          ['issuer', (r) => <Short value={r.issuer} />],
          ['supply', (r) => units(r.supply)],
          ['circulating', (r) => units(r.circulating)],
          ['held', (r) => units(BigInt(r.held.redeeming) + BigInt(r.held.locked) + BigInt(r.held.escrowed) + BigInt(r.held.channels))],
          ['reserve', (r) => (r.reserve === null ? <span className="muted">not attested</span> : units(r.reserve))],
          ['reserve − supply', (r) => (r.reserveMinusSupply === null ? '' : units(r.reserveMinusSupply))],
          ['covered', (r) => (r.covered === null ? '' : <Badge value={r.covered ? 'covered' : 'under-covered'} good={['covered']} bad={['under-covered']} />)],
          ['', (r) => (r.supplyChangedSinceAttestation ? <span className="muted">supply changed since the attestation</span> : null)],
        ]}
      />
    </Card>
  );
}

function MyBalances({ me }: { me: string }) {
  const balances = useLive(() => api.payments.balances({ params: { address: me } }), [me]);
  const locks = useLive(() => api.payments.locks({ params: { address: me } }), [me]);
  const history = useLive(() => api.payments.history({ params: { address: me }, query: { limit: 25 } }), [me]);
  const mine = balances.data?.balances ?? [];
  return (
    <Card title="My balances" testId="payments-balances" wide>
      <ErrorBox error={balances.error ?? locks.error ?? history.error} />
      <Table
        rows={mine}
        testId="payments-balance-rows"
        empty="no balance in any asset"
        columns={[
          ['asset', (b) => b.asset],
          ['free', (b) => <strong data-testid={`balance-free-${b.asset}`}>{units(b.free, b.code)}</strong>],
          ['redeeming', (b) => units(b.held.redeeming)],
          ['locked', (b) => units(b.held.locked)],
          ['in escrow', (b) => units(b.held.escrowed)],
          ['in channels', (b) => units(b.held.channels)],
          ['total', (b) => units(b.total)],
        ]}
      />
      <Transfer me={me} assets={mine.map((b) => b.asset)} />
      <h2>Locked by modules</h2>
      <Table rows={locks.data?.locks ?? []} testId="payments-locks" empty="nothing locked" columns={[['lock', (l) => l.id], ['module', (l) => l.module], ['asset', (l) => l.asset], ['locked', (l) => units(l.amount)], ['of', (l) => units(l.original)], ['height', (l) => l.lockedAt.height]]} />
      <h2>History</h2>
      <Table
        rows={history.data?.entries ?? []}
        testId="payments-history"
        empty="no changes yet"
        columns={[
          ['height', (h) => h.height],
          ['change', (h) => h.kind],
          ['Δ', (h) => units(h.delta, codeOf(h.asset))],
          ['balance', (h) => units(h.balance)],
          ['with', (h) => <Short value={h.counterparty ?? h.ref} />],
          ['memo', (h) => h.memo ?? ''],
        ]}
      />
    </Card>
  );
}

/** A transfer signed in the page (payments/transfer): the amount is typed in units and sent in micro-units. */
function Transfer({ me, assets }: { me: string; assets: string[] }) {
  const tx = useTx();
  const [picked, setPicked] = useState('');
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const [memo, setMemo] = useState('');
  const asset = assets.includes(picked) ? picked : assets[0];
  const send = () =>
    tx.run(async () => {
      const micro = parseUnits(amount);
      if (!micro || micro === '0') throw new Error('type the amount in units, e.g. 12.50 (at most six decimals)');
      return submit([{ type: PAYMENTS_MSG.transfer, value: { asset: asset!, to: to.trim(), amount: micro, ...(memo ? { memo } : {}) } }]);
    });
  if (!asset) return null;
  return (
    <>
      <form className="inline" onSubmit={(e) => (e.preventDefault(), void send())} data-testid="payments-transfer" key={me}>
        <span>Send</span>
        <input value={amount} onChange={(e) => setAmount(e.target.value)} size={10} placeholder="amount" aria-label="amount" data-testid="pay-amount" />
        <select value={asset} onChange={(e) => setPicked(e.target.value)} aria-label="asset" data-testid="pay-asset">
          {assets.map((a) => <option key={a} value={a}>{a}</option>)}
        </select>
        to <input value={to} onChange={(e) => setTo(e.target.value)} placeholder="grid1… address" aria-label="to" data-testid="pay-to" />
        <input value={memo} onChange={(e) => setMemo(e.target.value)} placeholder="memo (optional)" aria-label="memo" data-testid="pay-memo" />
        <button disabled={tx.busy} data-testid="pay-submit">Sign &amp; send</button>
      </form>
      <div data-testid="pay-outcome"><TxOutcome outcome={tx.outcome} /></div>
    </>
  );
}

/** The actions the signed-in account may take on an escrow: approve its release or refund as a party or its mediator. */
function escrowActions(e: Escrow, me: string) {
  const party = e.payer === me || e.payee === me || e.mediator === me || e.parties.includes(me);
  if (e.status !== 'open' || !party || e.kind !== 'user') return [];
  return (['release', 'refund'] as const).filter((a) => !e.approvals[a].includes(me));
}

function Escrows({ me }: { me: string }) {
  const data = useLive(() => api.payments.escrows({ query: { party: me, status: 'all', limit: 50 } }), [me]);
  const tx = useTx();
  const approve = (id: string, action: 'release' | 'refund') => tx.run(() => submit([{ type: PAYMENTS_MSG.escrowApprove, value: { id, action } }]));
  return (
    <Card title="My escrows" testId="payments-escrows" wide>
      <ErrorBox error={data.error} />
      <Table
        rows={data.data?.escrows ?? []}
        empty="no escrow names this account"
        columns={[
          ['id', (e) => e.id],
          ['amount', (e) => units(e.amount, codeOf(e.asset))],
          ['payer', (e) => <Short value={e.payer} />],
          ['payee', (e) => <Short value={e.payee} />],
          ['mediator', (e) => <Short value={e.mediator} />],
          ['release', (e) => `${e.approvals.release.length} / ${e.threshold}`],
          ['refund', (e) => `${e.approvals.refund.length} / ${e.threshold}`],
          ['status', (e) => <Badge value={e.status} good={['released']} bad={['refunded']} testId={`escrow-status-${e.id}`} />],
          ['', (e) => (
            <span className="row">
              {escrowActions(e, me).map((a) => (
                <button key={a} disabled={tx.busy} onClick={() => void approve(e.id, a)} data-testid={`escrow-${a}-${e.id}`}>Approve {a}</button>
              ))}
            </span>
          )],
        ]}
      />
      <div data-testid="escrow-outcome"><TxOutcome outcome={tx.outcome} /></div>
    </Card>
  );
}

function Channels({ me }: { me: string }) {
  const data = useLive(() => api.payments.channels({ query: { party: me, status: 'all', limit: 50 } }), [me]);
  return (
    <Card title="My payment channels" testId="payments-channels" wide>
      <ErrorBox error={data.error} />
      <Table
        rows={data.data?.channels ?? []}
        empty="no channel names this account"
        columns={[
          ['id', (c) => c.id],
          ['buyer', (c) => <Short value={c.buyer} />],
          ['seller', (c) => <Short value={c.seller} />],
          ['deposit', (c) => units(c.deposit, codeOf(c.asset))],
          ['refund from', (c) => new Date(c.refundTime).toISOString().slice(0, 16).replace('T', ' ')],
          ['status', (c) => <Badge value={c.status} good={['closed']} />],
          ['paid out', (c) => (c.payout ? units(c.payout) : '')],
          ['voucher', (c) => (c.voucher ? `#${c.voucher.seq}: ${units(c.voucher.amount)} for ${c.voucher.wh} Wh` : '')],
        ]}
      />
    </Card>
  );
}

function Payments() {
  const s = useSession();
  return (
    <>
      <Assets />
      <SignedIn what="see your balances, escrows and channels and send payments">
        {s.address && s.token ? (
          <>
            <MyBalances me={s.address} />
            <Escrows me={s.address} />
            <Channels me={s.address} />
          </>
        ) : (
          <Card title="My payments"><p className="muted">This account is not admitted: balances are private reads.</p></Card>
        )}
      </SignedIn>
    </>
  );
}

export const paymentsPage: PageDef = { id: 'payments', title: 'Payments', component: Payments };
