/**
 * A node stopped (SIGTERM: `LedgerNode.close()`) while a batch of transactions is still being admitted
 * — gossip from a peer or the API's batch route, between its slices or waiting for signature checks —
 * refuses what it has not admitted with NODE_STOPPING instead of reading the closed store. Before, the
 * batch's promise rejected ("The database connection is not open"); from the gossip reactor, which does
 * not wait for it, that rejection was unhandled and the node exited with code 1 instead of 0 (seen once
 * in the devnet test's "SIGTERM to nodes restarted by hand").
 */
import { afterAll, describe, expect, it } from 'vitest';
import { signTx, txHash, type SignedTx } from '../../src/codec/tx.js';
import { account } from '../helpers/chain.js';
import { LedgerNodes } from '../helpers/ledger-node.js';

describe('a node stopped while it admits a batch', () => {
  const nodes = new LedgerNodes('stop-admit');
  afterAll(() => nodes.close());
  const { operator } = nodes;
  const tx = (n: number): SignedTx => signTx({ chainId: 'stop-admit', sender: operator.address, nonce: n, expiresAtHeight: 100, msgs: [{ type: 'registry/admit', value: { address: account(`stop-admit-${n}`).address, roles: ['consumer'] } }], memo: '' }, operator.signer);
  const batch = (count: number) => Array.from({ length: count }, (_, n) => tx(n));
  const codes = (results: Array<{ hash: string } | { error: { code: string } }>) => [...new Set(results.map((r) => ('error' in r ? r.error.code : 'admitted')))];
  const mempool = { maxTxs: 1000, nonceWindow: 1000 };

  /** Submits a batch of `count`, stops the node as `stop` says, and checks that all of it was refused. */
  async function stoppedDuringBatch(count: number, stop: (close: () => void) => void): Promise<void> {
    const ledger = nodes.make(mempool);
    const pending = ledger.submitTxs(batch(count), 'peer');
    stop(() => ledger.close());
    const results = await pending;
    expect(results).toHaveLength(count);
    expect(codes(results)).toEqual(['NODE_STOPPING']);
    expect(ledger.mempool.size).toBe(0);
  }

  it('stopped while the signatures are checked: every transaction is refused with NODE_STOPPING, none admitted', async () => {
    await stoppedDuringBatch(20, (close) => close());
  });

  it('stopped between the slices of a large batch: the rest is never read, all of it refused', async () => {
    // The first slice of 50 is checked at once; the close comes while the batch yields to the event loop.
    await stoppedDuringBatch(120, (close) => setImmediate(close));
  });

  it('a batch that ends before the stop is admitted as usual', async () => {
    const ledger = nodes.make(mempool);
    const txs = batch(20);
    const results = await ledger.submitTxs(txs, 'peer-c');
    ledger.close();
    expect(results).toEqual(txs.map((t) => ({ hash: txHash(t.body) })));
    expect(ledger.mempool.size).toBe(20);
  });
});
