import { afterAll, describe, expect, it, vi } from 'vitest';
import { signTx, txHash, type SignedTx } from '../../src/codec/tx.js';
import type { LedgerNode } from '../../src/ledger/ledger.js';
import { Channel } from '../../src/p2p/index.js';
import { MAX_GOSSIP_BATCH, MAX_GOSSIP_HASHES, MAX_WANTED, MempoolReactor, OFFER_TTL_MS, WANT_DELAY_MS, WANT_TIMEOUT_MS } from '../../src/runtime/reactors/mempool.js';
import { RawJson, type ReactorLink } from '../../src/runtime/reactors/wire.js';
import { account } from '../helpers/chain.js';
import { LedgerNodes } from '../helpers/ledger-node.js';

/** Three admissions signed by the operator of `nodes`' chain, nonces 0–2. */
function admissions(nodes: LedgerNodes, chainId: string): SignedTx[] {
  const { operator } = nodes;
  return [0, 1, 2].map((n) =>
    signTx({ chainId, sender: operator.address, nonce: n, expiresAtHeight: 100, msgs: [{ type: 'registry/admit', value: { address: account(`${chainId}-${n}`).address, roles: ['consumer'] } }], memo: '' }, operator.signer),
  );
}

/** A value as it arrives from the wire (a plain copy, not the sender's object). */
const wire = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/**
 * Issue 18: in a mesh each transaction arrives from several peers; copies of pending ones, and of ones
 * whose batch is still being admitted, never reach admission.
 */
describe('the mempool reactor drops gossiped copies of pending transactions before admission', () => {
  const nodes = new LedgerNodes('mr');
  afterAll(() => nodes.close());
  const txs = admissions(nodes, 'mr');

  function setup(): { node: LedgerNode; reactor: MempoolReactor; penalties: string[]; admissions: Array<Promise<unknown>>; inputs: unknown[][] } {
    const node = nodes.make();
    const penalties: string[] = [];
    const link: ReactorLink = { penalize: (_p, reason) => void penalties.push(reason), send: () => undefined, broadcast: () => undefined, connectedPeers: () => [] };
    const admissions: Array<Promise<unknown>> = [];
    const inputs: unknown[][] = [];
    const submitTxs = node.submitTxs.bind(node);
    node.submitTxs = (batch, origin) => {
      inputs.push(batch);
      const p = submitTxs(batch, origin);
      admissions.push(p);
      return p;
    };
    return { node, reactor: new MempoolReactor(link, node, 1 << 20), penalties, admissions, inputs };
  }
  const counted = async (node: LedgerNode, code?: string): Promise<number> => {
    const m = code === undefined ? await node.metrics.gossipCopies.get() : await node.metrics.txsRejected.get();
    return m.values.filter((v) => code === undefined || v.labels.code === code).reduce((s, v) => s + v.value, 0);
  };

  it('admits the new transactions of a batch and counts the copies, refusing none of them', async () => {
    const { node, reactor, penalties, admissions, inputs } = setup();
    node.submitTx(txs[0]);
    reactor.receive('peer', Channel.tx, [wire(txs[0]), wire(txs[1])]);
    await Promise.all(admissions);
    expect(inputs).toEqual([[txs[1]]]);
    expect(node.mempool.get(txHash(txs[1]!.body))).toBeDefined();
    expect(await counted(node)).toBe(1);
    expect(await counted(node, 'TX_DUPLICATE')).toBe(0);
    expect(penalties).toEqual([]);
  });

  it('a batch of copies only does not reach admission at all', async () => {
    const { node, reactor, penalties, inputs } = setup();
    node.submitTx(txs[0]);
    node.submitTx(txs[1]);
    reactor.receive('peer', Channel.tx, [wire(txs[1]), wire(txs[0])]);
    expect(inputs).toEqual([]);
    expect(await counted(node)).toBe(2);
    expect(node.mempool.size).toBe(2);
    expect(penalties).toEqual([]);
  });

  it('a changed copy (the signature of a pending one over another body) is judged by admission and penalised', async () => {
    const { node, reactor, penalties, admissions } = setup();
    node.submitTx(txs[0]);
    const forged = { ...(wire(txs[0]) as SignedTx), body: { ...txs[0]!.body, memo: 'changed' } };
    reactor.receive('peer', Channel.tx, [forged]);
    await Promise.all(admissions);
    expect(await counted(node)).toBe(0);
    expect(await counted(node, 'TX_BAD_SIGNATURE')).toBe(1);
    expect(penalties).toEqual(['invalid transaction: TX_BAD_SIGNATURE']);
    expect(node.mempool.size).toBe(1);
  });

  it('copies that arrive while the first is still being admitted are dropped too, not parsed and refused', async () => {
    const { node, reactor, penalties, admissions, inputs } = setup();
    // The first batch waits for the signature workers; the peers' copies come meanwhile.
    reactor.receive('peer-a', Channel.tx, [wire(txs[0]), wire(txs[1])]);
    reactor.receive('peer-b', Channel.tx, [wire(txs[1]), wire(txs[0])]);
    reactor.receive('peer-c', Channel.tx, [wire(txs[0]), wire(txs[2])]);
    await Promise.all(admissions);
    expect(inputs).toEqual([[txs[0], txs[1]], [txs[2]]]);
    expect(await counted(node)).toBe(3);
    expect(await counted(node, 'TX_DUPLICATE')).toBe(0);
    expect(node.mempool.size).toBe(3);
    expect(penalties).toEqual([]);
  });

  it('a transaction refused at admission is not remembered as being admitted: a later copy is judged again', async () => {
    const { node, reactor, penalties, admissions, inputs } = setup();
    const forged = { ...(wire(txs[0]) as SignedTx), body: { ...txs[0]!.body, memo: 'changed' } };
    reactor.receive('peer-a', Channel.tx, [forged]);
    await Promise.all(admissions);
    reactor.receive('peer-b', Channel.tx, [wire(forged)]);
    await Promise.all(admissions);
    expect(inputs).toHaveLength(2);
    expect(await counted(node, 'TX_BAD_SIGNATURE')).toBe(2);
    expect(penalties).toEqual(['invalid transaction: TX_BAD_SIGNATURE', 'invalid transaction: TX_BAD_SIGNATURE']);
    expect(node.mempool.size).toBe(0);
  });
});

/**
 * Issue 18: a transaction from a client goes whole to every peer; one from a peer is announced by hash
 * to the others, who ask for it only when they lack it.
 */
describe('the mempool reactor announces relayed transactions and fetches announced ones it lacks', () => {
  const nodes = new LedgerNodes('ma');
  afterAll(() => nodes.close());
  const txs = admissions(nodes, 'ma');
  const hashes = txs.map((tx) => txHash(tx.body));
  type Sent = { to: string; value: unknown; except?: string | ((peer: string) => boolean) };

  function setup() {
    const node = nodes.make();
    const sent: Sent[] = [];
    const penalties: string[] = [];
    const decoded = (value: unknown) => (value instanceof RawJson ? JSON.parse(value.json) : value);
    const link: ReactorLink = {
      penalize: (_p, reason) => void penalties.push(reason),
      send: (to, _c, value) => void sent.push({ to, value: decoded(value) }),
      broadcast: (_c, value, except) => void sent.push({ to: '*', value: decoded(value), ...(except !== undefined ? { except } : {}) }),
      connectedPeers: () => ['p1', 'p2', 'p3'],
    };
    const clock = { now: 1_000_000 };
    const reactor = new MempoolReactor(link, node, 1 << 20, () => clock.now);
    return { node, reactor, sent, penalties, clock };
  }
  const flushed = () => new Promise((resolve) => setTimeout(resolve, 60));
  const asked = () => new Promise((resolve) => setTimeout(resolve, WANT_DELAY_MS + 40));

  it("sends a client's transaction whole to every peer, and announces a peer's to the others by hash", async () => {
    const { node, reactor, sent, penalties } = setup();
    node.submitTx(txs[0]);
    expect((await node.submitTxs([wire(txs[1])], 'p1'))[0]).toEqual({ hash: hashes[1] });
    await flushed();
    reactor.stop();
    expect(sent).toEqual([
      { to: '*', value: [wire(txs[0])] },
      { to: '*', value: { have: [hashes[1]] }, except: 'p1' },
    ]);
    expect(penalties).toEqual([]);
  });

  it('flushNow sends the queued gossip at once (before a proposal), and nothing when nothing is queued', async () => {
    const { node, reactor, sent } = setup();
    node.submitTx(txs[0]);
    expect(sent).toEqual([]); // queued for the next batch
    reactor.flushNow();
    expect(sent).toEqual([{ to: '*', value: [wire(txs[0])] }]);
    reactor.flushNow();
    await flushed();
    reactor.stop();
    expect(sent).toHaveLength(1);
  });

  it('asks the announcing peer for hashes it lacks, once, and not for pending ones', async () => {
    const { node, reactor, sent, penalties } = setup();
    node.submitTx(txs[0]);
    await flushed();
    sent.length = 0;
    reactor.receive('p1', Channel.tx, { have: [hashes[0], hashes[1], hashes[2]] });
    reactor.receive('p2', Channel.tx, { have: [hashes[1]] });
    expect(sent).toEqual([]); // not at once: the direct copy may be on its way
    await asked();
    reactor.stop();
    expect(sent).toEqual([{ to: 'p1', value: { want: [hashes[1], hashes[2]] } }]);
    expect(reactor.wantedCount).toBe(2);
    expect((await node.metrics.gossipWanted.get()).values[0]?.value).toBe(2);
    expect(penalties).toEqual([]);
  });

  it('does not ask for an announced transaction whose copy arrives meanwhile from another peer', async () => {
    const { node, reactor, sent, penalties } = setup();
    reactor.receive('p2', Channel.tx, { have: [hashes[0]] });
    reactor.receive('p1', Channel.tx, [wire(txs[0])]);
    await vi.waitFor(() => expect(node.mempool.has(hashes[0]!)).toBe(true));
    await asked();
    reactor.stop();
    expect(sent.filter((s) => s.to === 'p2')).toEqual([]);
    expect(reactor.wantedCount).toBe(0);
    expect((await node.metrics.gossipWanted.get()).values[0]?.value ?? 0).toBe(0);
    expect(penalties).toEqual([]);
  });

  it('sends a transaction it announced to a peer that asks, once, and nothing it did not offer that peer', async () => {
    const { node, reactor, sent, penalties, clock } = setup();
    node.submitTx(txs[0]); // a client's: pushed whole, never offered
    await node.submitTxs([wire(txs[1]), wire(txs[2])], 'p1');
    await flushed();
    expect(sent.filter((s) => 'have' in (s.value as object))).toEqual([{ to: '*', value: { have: [hashes[1], hashes[2]] }, except: 'p1' }]);
    sent.length = 0;
    reactor.receive('p2', Channel.tx, { want: [hashes[0], hashes[1], 'ee'.repeat(32)] });
    reactor.receive('p2', Channel.tx, { want: [hashes[1]] }); // asked again: not sent again
    reactor.receive('p1', Channel.tx, { want: [hashes[1], hashes[2]] }); // the origin was offered nothing
    expect(sent).toEqual([{ to: 'p2', value: [wire(txs[1])] }]);
    // An offer not taken up within OFFER_TTL_MS is forgotten.
    clock.now += OFFER_TTL_MS;
    await new Promise((resolve) => setTimeout(resolve, WANT_TIMEOUT_MS / 2 + 100));
    reactor.receive('p3', Channel.tx, { want: [hashes[2]] });
    reactor.stop();
    expect(sent).toEqual([{ to: 'p2', value: [wire(txs[1])] }]);
    expect(penalties).toEqual([]);
  });

  it('a fetched transaction is admitted and no longer wanted; one that never came is asked of the next announcer', async () => {
    const { node, reactor, sent, penalties, clock } = setup();
    reactor.receive('p1', Channel.tx, { have: [hashes[0], hashes[1]] });
    reactor.receive('p2', Channel.tx, { have: [hashes[1]] });
    reactor.receive('p1', Channel.tx, [wire(txs[0])]);
    await vi.waitFor(() => expect(node.mempool.has(hashes[0]!)).toBe(true));
    expect(reactor.wantedCount).toBe(1);
    sent.length = 0;
    clock.now += WANT_TIMEOUT_MS;
    await vi.waitFor(() => expect(sent).toContainEqual({ to: 'p2', value: { want: [hashes[1]] } }), { timeout: WANT_TIMEOUT_MS * 2 });
    // Nobody else announced it: after another timeout it is forgotten.
    clock.now += WANT_TIMEOUT_MS;
    await vi.waitFor(() => expect(reactor.wantedCount).toBe(0), { timeout: WANT_TIMEOUT_MS * 2 });
    reactor.stop();
    expect(penalties).toEqual([]);
  });

  it('penalises announcements and requests of the wrong shape, and a batch over the limit', () => {
    const { reactor, penalties, sent } = setup();
    reactor.stop();
    const reason = 'transaction gossip is not a batch, an announcement or a request';
    for (const bad of [{ have: 'x' }, { have: ['zz'] }, { want: ['AB'.repeat(32)] }, { have: [], want: [] }, { want: Array.from({ length: MAX_GOSSIP_HASHES + 1 }, () => 'ab'.repeat(32)) }, null, 'have']) {
      reactor.receive('p1', Channel.tx, bad);
    }
    expect(penalties).toEqual(Array.from({ length: 7 }, () => reason));
    reactor.receive('p1', Channel.tx, Array.from({ length: MAX_GOSSIP_BATCH + 1 }, () => ({})));
    expect(penalties.at(-1)).toBe('transaction gossip batch is too long');
    expect(sent).toEqual([]);
    expect(reactor.wantedCount).toBe(0);
  });

  it('asks for at most MAX_WANTED hashes at a time, however many are announced', async () => {
    const { reactor, sent } = setup();
    const many = (from: number) => Array.from({ length: MAX_GOSSIP_HASHES }, (_, i) => (from + i).toString(16).padStart(64, '0'));
    for (let k = 0; k * MAX_GOSSIP_HASHES < MAX_WANTED + MAX_GOSSIP_HASHES; k++) reactor.receive('p1', Channel.tx, { have: many(k * MAX_GOSSIP_HASHES) });
    await asked();
    reactor.stop();
    expect(reactor.wantedCount).toBe(MAX_WANTED);
    expect(sent.reduce((n, s) => n + (s.value as { want: string[] }).want.length, 0)).toBe(MAX_WANTED);
  });
});
