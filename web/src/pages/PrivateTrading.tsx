import { useState } from 'react';
import type { RouteOutput } from '../../../src/api/route.js';
import { MSG as ANON_MSG } from '../../../src/modules/anon/messages.js';
import type { anonRoutes } from '../../../src/modules/anon/routes.js';
import { MSG as PAYMENTS_MSG } from '../../../src/modules/payments/messages.js';
import type { paymentsRoutes } from '../../../src/modules/payments/routes.js';
import { Badge, Card, codeOf, ErrorBox, Kpi, parseUnits, Short, Table, TxOutcome, units, useTx } from '../components/ui';
import { Messages } from '../components/Messages';
import { accountsWithRole, allAssetSupplies, api } from '../lib/api';
import { useLive } from '../lib/live';
import { useSession } from '../lib/session';
import { submit, type Committed } from '../lib/wallet';
import { messagingAddress } from '../../../src/messaging/seal.js';
import { fromHexStrict } from '../../../src/util/bytes.js';
import type { PageDef } from './index';

/**
 * Private trading (issue 16): the anonymous members' tree, the anonymous offer board and the
 * escrowed trades, the messaging layer's figures and the browser's own encrypted messages (keys,
 * a trial-decrypting inbox, sending with a stamp minted here: components/Messages.tsx). Everything signed here needs no zero-knowledge
 * proof: posting, taking and withdrawing offers (a trader-anon account), and the 2-of-3 payments
 * escrow that settles a trade (approve, dispute, propose and countersign a split). Admitting an
 * anonymous account needs a Groth16 membership proof over the member's secret identity, which lives
 * in the CLI's keyring: the page shows the command rather than proving in the browser.
 */

type Offer = RouteOutput<typeof anonRoutes.offers>['offers'][number];
type Escrow = RouteOutput<typeof paymentsRoutes.escrow>['escrow'];

const ANON_ROLE = 'trader-anon';
const GRID_OPERATOR = 'grid-operator';
const AUDITOR = 'auditor';

/** An offer's X25519 messaging key as the gridmsg1… address `gridledger msg send --to` (and the page's Messages panel) takes. */
function messagingAddressOf(hex: string): string {
  const bytes = fromHexStrict(hex, 32);
  return bytes ? messagingAddress(bytes) : hex;
}

const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** The id of the escrow a committed escrow-open created (its event). */
function openedEscrow(tx: Committed): string {
  const id = tx.events.find((e) => e.type === 'payments.escrow_opened')?.attributes.id;
  if (tx.code !== 'OK' || !id) throw new Error(`the escrow was not opened: ${tx.code} ${tx.message}`);
  return id;
}

/** The members' tree: its root and epoch (what an admission proof is against), and the roots' history. */
function Members() {
  const status = useLive(() => api.anon.status({}), []);
  const roots = useLive(() => api.anon.roots({ query: { limit: 10 } }), []);
  const s = status.data;
  return (
    <Card title="Anonymous members" testId="private-members">
      <ErrorBox error={status.error ?? roots.error} />
      {s && (
        <div className="kpis">
          <Kpi label="epoch" value={<span data-testid="anon-epoch">{s.epoch}</span>} />
          <Kpi label="members' tree" value={<span data-testid="anon-tree-size">{s.treeSize} leaves</span>} />
          <Kpi label="accounts per member and epoch" value={s.maxSlots} />
          <Kpi label="account lifetime" value={`${s.accountLifetimeMs / 3_600_000} h`} />
        </div>
      )}
      {s && (
        <p>
          current root <code data-testid="anon-root" title={s.currentRoot}>{s.currentRoot.slice(0, 18)}…</code>; epoch = height ÷ {s.epochBlocks} (height {s.height});{' '}
          {s.validRoots.length} root(s) valid for a proof now; membership key {s.keyId ? <Short value={s.keyId} /> : <span className="muted">not registered</span>}
        </p>
      )}
      <Table rows={roots.data?.roots ?? []} testId="anon-roots" empty="no member registered yet" columns={[['height', (r) => r.height], ['root', (r) => <Short value={r.root} />]]} />
    </Card>
  );
}

/** The signed-in account's standing: an anonymous account (until when), or how to get one with the CLI. */
function MyAnonAccount({ me }: { me: string }) {
  const account = useLive(() => api.anon.account({ params: { address: me } }).catch(() => null), [me]);
  const a = account.data;
  return (
    <Card title="My anonymous account" testId="private-account">
      {a ? (
        <p data-testid="anon-account">
          <Badge value={a.account.status} good={['active']} bad={['expired']} /> trader-anon since height {a.account.admittedAt.height}, epoch {a.account.epoch}, until {when(a.account.expiresAt)} UTC
        </p>
      ) : (
        <p className="muted" data-testid="anon-account">This key is not an anonymous account.</p>
      )}
      <p>
        Admitting a fresh key needs a Groth16 proof that it belongs to a registered member, made from the member's secret identity in the
        CLI's keyring, so the page does not prove: run
      </p>
      <pre data-testid="anon-admit-cli">{`gridledger --from <member> --wait tx anon register          # once: creates <member>-identity
gridledger --from <fresh-key> --wait tx anon admit --identity <member>-identity --slot 0`}</pre>
      <p className="muted">then import the fresh key here (New / import) to trade with it.</p>
    </Card>
  );
}

/** Take an offer: open its 2-of-3 escrow (buyer pays, seller is payee, a grid operator mediates), then name it with anon/take. */
async function takeOffer(offer: Offer, mediator: string): Promise<Committed> {
  const opened = await submit([{ type: PAYMENTS_MSG.escrowOpen, value: { asset: offer.asset, amount: offer.amount, payee: offer.seller, mediator, threshold: 2, memo: `anon offer ${offer.id}` } }]);
  return submit([{ type: ANON_MSG.take, value: { offer: offer.id, escrow: openedEscrow(opened) } }]);
}

function OfferActions({ offer, me, roles, mediators, run, busy }: { offer: Offer; me: string | null; roles: string[]; mediators: string[]; run: (a: () => Promise<Committed>) => Promise<void>; busy: boolean }) {
  const [mediator, setMediator] = useState('');
  if (!me || offer.status !== 'open') return null;
  if (offer.seller === me) {
    return <button disabled={busy} onClick={() => void run(() => submit([{ type: ANON_MSG.withdrawOffer, value: { offer: offer.id } }]))} data-testid={`offer-withdraw-${offer.id}`}>Withdraw</button>;
  }
  if (!roles.includes(ANON_ROLE)) return null;
  const chosen = mediators.includes(mediator) ? mediator : mediators[0];
  return (
    <span className="row">
      <select value={chosen ?? ''} onChange={(e) => setMediator(e.target.value)} aria-label="mediating grid operator" data-testid={`offer-mediator-${offer.id}`}>
        {mediators.map((m) => <option key={m} value={m}>{m.slice(0, 12)}…</option>)}
      </select>
      <button disabled={busy || !chosen} onClick={() => void run(() => takeOffer(offer, chosen!))} data-testid={`offer-take-${offer.id}`}>Take into escrow</button>
    </span>
  );
}

/** A trader-anon account posts a sell offer (anon/offer); the amount is typed in units. */
function PostOffer({ assets, run, busy }: { assets: string[]; run: (a: () => Promise<Committed>) => Promise<void>; busy: boolean }) {
  const [energyWh, setEnergyWh] = useState('');
  const [amount, setAmount] = useState('');
  const [picked, setPicked] = useState('');
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const asset = assets.includes(picked) ? picked : assets[0];
  const post = () =>
    run(async () => {
      const micro = parseUnits(amount);
      if (!micro || micro === '0') throw new Error('type the price in units, e.g. 10.50');
      const deliveryStart = Date.parse(`${start}Z`);
      const deliveryEnd = Date.parse(`${end}Z`);
      if (!Number.isSafeInteger(deliveryStart) || !Number.isSafeInteger(deliveryEnd)) throw new Error('give the delivery window (UTC)');
      return submit([{ type: ANON_MSG.offer, value: { energyWh: Number(energyWh), amount: micro, asset: asset!, deliveryStart, deliveryEnd } }]);
    });
  if (!asset) return null;
  return (
    <form className="inline" onSubmit={(e) => (e.preventDefault(), void post())} data-testid="offer-post">
      <span>Offer</span>
      <input value={energyWh} onChange={(e) => setEnergyWh(e.target.value)} size={7} placeholder="Wh" aria-label="energy Wh" data-testid="offer-wh" />
      for <input value={amount} onChange={(e) => setAmount(e.target.value)} size={8} placeholder="price" aria-label="price" data-testid="offer-amount" />
      <select value={asset} onChange={(e) => setPicked(e.target.value)} aria-label="asset">{assets.map((a) => <option key={a}>{a}</option>)}</select>
      delivered (UTC) <input type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} aria-label="delivery start" data-testid="offer-start" />
      – <input type="datetime-local" value={end} onChange={(e) => setEnd(e.target.value)} aria-label="delivery end" data-testid="offer-end" />
      <button disabled={busy} data-testid="offer-submit">Sign &amp; post</button>
    </form>
  );
}

/** The public offer board, with the actions the signed-in account may take. */
function Board() {
  const s = useSession();
  const offers = useLive(() => api.anon.offers({ query: { status: 'all', limit: 100 } }), []);
  const operators = useLive(async () => ({ accounts: await accountsWithRole(GRID_OPERATOR, 100) }), []);
  const assets = useLive(() => allAssetSupplies(), []);
  const tx = useTx();
  const mediators = (operators.data?.accounts ?? []).filter((a) => a.status === 'admitted').map((a) => a.address);
  return (
    <Card title="Anonymous offer board" testId="private-board" wide>
      <ErrorBox error={offers.error ?? operators.error} />
      <Table
        rows={offers.data?.offers ?? []}
        testId="private-offers"
        empty="no anonymous offer yet"
        rowKey={(o) => o.id}
        columns={[
          ['offer', (o) => o.id],
          ['seller', (o) => <Short value={o.seller} />],
          ['energy', (o) => `${o.energyWh} Wh`],
          ['price', (o) => units(o.amount, codeOf(o.asset))],
          ['delivery (UTC)', (o) => `${when(o.deliveryStart)} – ${when(o.deliveryEnd).slice(11)}`],
          ['status', (o) => <Badge value={o.status} good={['taken']} bad={['withdrawn']} testId={`offer-status-${o.id}`} />],
          ['buyer', (o) => <Short value={o.buyer} />],
          ['escrow', (o) => (o.escrow ? <span data-testid={`offer-escrow-${o.id}`}>{o.escrow}</span> : '')],
          ['negotiate (msg send --to)', (o) => (o.messagingKey ? <span data-testid={`offer-msg-${o.id}`}><Short value={messagingAddressOf(o.messagingKey)} /></span> : '')],
          ['', (o) => <OfferActions offer={o} me={s.address} roles={s.roles} mediators={mediators} run={tx.run} busy={tx.busy} />],
        ]}
      />
      {s.roles.includes(ANON_ROLE) && <PostOffer assets={(assets.data?.supply ?? []).map((a) => a.asset)} run={tx.run} busy={tx.busy} />}
      <div data-testid="offer-outcome"><TxOutcome outcome={tx.outcome} /></div>
    </Card>
  );
}

/** The roles the signed-in account plays in an escrow. */
function rolesIn(e: Escrow, me: string) {
  return { payer: e.payer === me, payee: e.payee === me, mediator: e.mediator === me, party: e.payer === me || e.payee === me || e.mediator === me || e.parties.includes(me) };
}

/** The mediator proposes a split in a dispute: the seller's part is typed, the buyer gets the rest. */
function ProposeSplit({ e, run, busy }: { e: Escrow; run: (a: () => Promise<Committed>) => Promise<void>; busy: boolean }) {
  const [payee, setPayee] = useState('');
  const propose = () =>
    run(async () => {
      const payeeAmount = parseUnits(payee);
      if (payeeAmount === undefined || BigInt(payeeAmount) > BigInt(e.amount)) throw new Error(`the seller's part in units, at most ${units(e.amount)}`);
      return submit([{ type: PAYMENTS_MSG.escrowProposeSplit, value: { id: e.id, payeeAmount, payerAmount: (BigInt(e.amount) - BigInt(payeeAmount)).toString() } }]);
    });
  return (
    <form className="inline" onSubmit={(ev) => (ev.preventDefault(), void propose())}>
      <input value={payee} onChange={(ev) => setPayee(ev.target.value)} size={8} placeholder="to seller" aria-label="seller's part" data-testid={`split-payee-${e.id}`} />
      <button disabled={busy} data-testid={`split-propose-${e.id}`}>Propose split</button>
    </form>
  );
}

function EscrowActions({ e, me, run, busy }: { e: Escrow; me: string; run: (a: () => Promise<Committed>) => Promise<void>; busy: boolean }) {
  const [reason, setReason] = useState('');
  const r = rolesIn(e, me);
  if (e.status !== 'open' || !r.party) return null;
  const send = (type: string, value: Record<string, unknown>) => void run(() => submit([{ type, value: { id: e.id, ...value } }]));
  const approve = (action: 'release' | 'refund', label: string) =>
    e.approvals[action].includes(me) ? null : <button key={action} disabled={busy} onClick={() => send(PAYMENTS_MSG.escrowApprove, { action })} data-testid={`trade-${action}-${e.id}`}>{label}</button>;
  const proposal = e.dispute?.proposal;
  return (
    <span className="row">
      {approve('release', r.mediator ? 'Confirm delivery (approve release)' : 'Approve release')}
      {approve('refund', 'Approve refund')}
      {!e.dispute && e.mediator && (
        <form className="inline" onSubmit={(ev) => (ev.preventDefault(), send(PAYMENTS_MSG.escrowDispute, { reason: reason || 'delivery disputed' }))}>
          <input value={reason} onChange={(ev) => setReason(ev.target.value)} placeholder="reason" aria-label="dispute reason" data-testid={`trade-dispute-reason-${e.id}`} />
          <button disabled={busy} data-testid={`trade-dispute-${e.id}`}>Dispute</button>
        </form>
      )}
      {e.dispute && r.mediator && <ProposeSplit e={e} run={run} busy={busy} />}
      {proposal && (r.payer || r.payee) && !e.dispute!.rejections.includes(me) && (
        <>
          <button disabled={busy} onClick={() => send(PAYMENTS_MSG.escrowCountersign, { payeeAmount: proposal.payeeAmount, payerAmount: proposal.payerAmount })} data-testid={`trade-countersign-${e.id}`}>
            Countersign split ({units(proposal.payeeAmount)} to seller, {units(proposal.payerAmount)} back)
          </button>
          <button disabled={busy} onClick={() => send(PAYMENTS_MSG.escrowRejectSplit, {})} data-testid={`trade-reject-split-${e.id}`}>Reject split</button>
        </>
      )}
    </span>
  );
}

/**
 * Escrowed trades the signed-in account is party to (seller, buyer or mediating grid operator; an
 * auditor sees all). An escrow is a private read for its parties, so no other trade's escrow is
 * asked for.
 */
function Trades({ me, roles }: { me: string; roles: string[] }) {
  const auditor = roles.includes(AUDITOR);
  const trades = useLive(async () => {
    const { offers } = await api.anon.offers({ query: { status: 'taken', limit: 100 } });
    const mine = offers.filter((o) => o.escrow && (auditor || o.seller === me || o.buyer === me || o.mediator === me));
    return Promise.all(mine.map(async (offer) => ({ offer, escrow: (await api.payments.escrow({ params: { id: offer.escrow! } })).escrow })));
  }, [me, auditor]);
  const tx = useTx();
  const rows = trades.data ?? [];
  return (
    <Card title="My escrowed trades" testId="private-trades" wide>
      <ErrorBox error={trades.error} />
      <Table
        rows={rows}
        testId="private-trade-rows"
        empty="no taken offer names this account as seller, buyer or mediator"
        rowKey={(t) => t.offer.id}
        columns={[
          ['offer', (t) => t.offer.id],
          ['escrow', (t) => t.escrow.id],
          ['me', (t) => Object.entries(rolesIn(t.escrow, me)).filter(([k, v]) => v && k !== 'party').map(([k]) => ({ payer: 'buyer', payee: 'seller', mediator: 'grid operator' })[k]).join(', ') || (auditor ? 'auditor' : '')],
          ['amount', (t) => units(t.escrow.amount, codeOf(t.escrow.asset))],
          ['release', (t) => `${t.escrow.approvals.release.length} / ${t.escrow.threshold}`],
          ['refund', (t) => `${t.escrow.approvals.refund.length} / ${t.escrow.threshold}`],
          ['dispute', (t) => (t.escrow.dispute ? `${t.escrow.dispute.reason}${t.escrow.dispute.proposal ? `; split ${units(t.escrow.dispute.proposal.payeeAmount)} / ${units(t.escrow.dispute.proposal.payerAmount)}` : ''}` : '')],
          ['state', (t) => <Badge value={t.escrow.status} good={['released', 'split']} bad={['refunded']} testId={`trade-state-${t.offer.id}`} />],
          ['paid', (t) => (t.escrow.status === 'open' ? '' : `${units(t.escrow.paidToPayee)} to seller, ${units(t.escrow.paidToPayer)} back`)],
          ['', (t) => <EscrowActions e={t.escrow} me={me} run={tx.run} busy={tx.busy} />],
        ]}
      />
      <div data-testid="trade-outcome"><TxOutcome outcome={tx.outcome} /></div>
    </Card>
  );
}

/** The node's messaging figures, and the CLI's commands for the same (the Messages panel reads and sends in the page). */
function Messaging() {
  const stats = useLive(() => api.messaging.messagingStats({}), []);
  const params = useLive(() => api.messaging.messagingParams({}), [], { live: false });
  const m = stats.data;
  const rejected = m ? Object.values(m.rejected).reduce((a, b) => a + b, 0) : 0;
  return (
    <Card title="Encrypted messaging (this node)" testId="private-messaging">
      <ErrorBox error={stats.error ?? params.error} />
      {m && (
        <div className="kpis">
          <Kpi label="messages held" value={<span data-testid="msg-stored">{m.stored}</span>} />
          <Kpi label="accepted" value={<span data-testid="msg-accepted">{m.accepted}</span>} />
          <Kpi label="relayed to peers" value={<span data-testid="msg-relayed">{m.relay.enabled ? m.relay.relayed : 'no peers'}</span>} />
          <Kpi label="dropped" value={<span data-testid="msg-dropped" title="refused + duplicates + evicted + rate-limited">{rejected + m.duplicates + m.evicted + m.relay.rateLimited}</span>} />
        </div>
      )}
      {m && (
        <p className="muted">
          {m.bytes} bytes held; refused {rejected}{Object.keys(m.rejected).length > 0 ? ` (${Object.entries(m.rejected).map(([c, n]) => `${c} ${n}`).join(', ')})` : ''}, duplicates {m.duplicates}, evicted {m.evicted}
          {m.relay.enabled ? `, received from peers ${m.relay.received}, rate-limited ${m.relay.rateLimited}, peers penalised ${m.relay.penalties}` : ''}
          {params.data ? `; a message lives ${params.data.minTtlSeconds} s – ${params.data.maxTtlSeconds / 3600} h, at most ${params.data.maxPayloadBytes} bytes` : ''}
        </p>
      )}
      <p>
        Negotiate an offer in the Messages panel below or with the CLI, to the gridmsg1… address the board shows for it (a fresh
        messaging key per trade keeps trades unlinkable):
      </p>
      <pre data-testid="msg-cli">{`gridledger msg keys add trade-1                  # your reply key for this trade
gridledger msg send --to <offer's gridmsg1… address> --text "4 kWh for 9.50?" --reply-to trade-1
gridledger msg inbox --keys trade-1              # trial-decrypts the node's messages locally`}</pre>
    </Card>
  );
}

function PrivateTrading() {
  const s = useSession();
  return (
    <>
      <Members />
      {s.address && <MyAnonAccount me={s.address} />}
      <Messaging />
      <Messages />
      <Board />
      {s.address && s.token ? (
        <Trades me={s.address} roles={s.roles} />
      ) : (
        <Card title="My escrowed trades">
          <p className="muted">{s.address ? 'This key is not admitted: escrows are private reads of their parties.' : 'Unlock a key (top right) to see and settle your escrowed trades.'}</p>
        </Card>
      )}
    </>
  );
}

export const privateTradingPage: PageDef = { id: 'private', title: 'Private trading', component: PrivateTrading };
