import { afterAll, describe, expect, it } from 'vitest';
import { signTx, txHash, type SignedTx } from '../../src/codec/tx.js';
import type { LedgerNode } from '../../src/ledger/ledger.js';
import { Channel } from '../../src/p2p/index.js';
import { MempoolReactor } from '../../src/runtime/reactors/mempool.js';
import type { ReactorLink } from '../../src/runtime/reactors/wire.js';
import { account } from '../helpers/chain.js';
import { LedgerNodes } from '../helpers/ledger-node.js';

/**
 * Issue 18: in a mesh each transaction arrives from several peers; copies of pending ones, and of ones
 * whose batch is still being admitted, never reach admission.
 */
describe('the mempool reactor drops gossiped copies of pending transactions before admission', () => {
  const nodes = new LedgerNodes('mr');
  afterAll(() => nodes.close());
  const { operator } = nodes;
  const txs: SignedTx[] = [0, 1, 2].map((n) =>
    signTx({ chainId: 'mr', sender: operator.address, nonce: n, expiresAtHeight: 100, msgs: [{ type: 'registry/admit', value: { address: account(`mr-${n}`).address, roles: ['consumer'] } }], memo: '' }, operator.signer),
  );
  const wire = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

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
