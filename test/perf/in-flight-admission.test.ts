/**
 * Issue 18: gossip brings each transaction from every peer, often while the first copy's signature
 * is still being verified. An identical copy (same body, key and signature) is refused as a
 * duplicate instead of verified again; a copy with another signature is not held up by it.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { signTx, txHash, type SignedTx } from '../../src/codec/tx.js';
import type { LedgerNode } from '../../src/ledger/ledger.js';
import { VerifyPool } from '../../src/ledger/verify-pool.js';
import { account } from '../helpers/chain.js';
import { LedgerNodes } from '../helpers/ledger-node.js';

describe('admission verifies each identical transaction once, however many peers bring it at once', () => {
  const nodes = new LedgerNodes('if');
  afterAll(() => nodes.close());
  afterEach(() => vi.restoreAllMocks());
  const { operator } = nodes;
  const node = (): LedgerNode => nodes.make();

  const tx = (n: number): SignedTx => signTx({ chainId: 'if', sender: operator.address, nonce: n, expiresAtHeight: 100, msgs: [{ type: 'registry/admit', value: { address: account(`inflight-${n}`).address, roles: ['consumer'] } }], memo: '' }, operator.signer);
  const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  const verifiedCount = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.reduce((sum, [items]) => sum + (items as unknown[]).length, 0);

  it('two peers send the same batch at once: every signature is verified once, the second copies are duplicates', async () => {
    const ledger = node();
    const spy = vi.spyOn(VerifyPool.prototype, 'verify');
    const batch = [tx(0), tx(1), tx(2)];
    const [first, second] = await Promise.all([ledger.submitTxs(copy(batch), 'peer-a'), ledger.submitTxs(copy(batch), 'peer-b')]);
    expect(verifiedCount(spy)).toBe(3);
    expect(first.map((r) => ('hash' in r ? r.hash : r.error.code))).toEqual(batch.map((t) => txHash(t.body)));
    expect(second.map((r) => ('error' in r ? r.error.code : 'admitted'))).toEqual(['TX_DUPLICATE', 'TX_DUPLICATE', 'TX_DUPLICATE']);
    expect(second.map((r) => ('error' in r ? r.error.message : ''))[0]).toMatch(/is being admitted/);
    expect(ledger.mempool.size).toBe(3);
    // Nothing stays marked: a later copy is refused as pending, and a single submit of a new one works.
    expect(() => ledger.submitTx(copy(batch[0]!))).toThrow(/already pending/);
    expect(ledger.submitTx(copy(tx(3)))).toBe(txHash(tx(3).body));
  });

  it('a copy with a bad signature in flight does not keep the good one out (both are verified)', async () => {
    const ledger = node();
    const spy = vi.spyOn(VerifyPool.prototype, 'verify');
    const good = tx(0);
    const forged = { ...copy(good), signature: `${good.signature.slice(0, -2)}${good.signature.endsWith('00') ? '01' : '00'}` };
    const [bad, ok] = await Promise.all([ledger.submitTxs([forged], 'peer-a'), ledger.submitTxs([copy(good)], 'peer-b')]);
    expect('error' in bad[0]! ? bad[0].error.code : 'admitted').toBe('TX_BAD_SIGNATURE');
    expect(ok[0]).toEqual({ hash: txHash(good.body) });
    expect(verifiedCount(spy)).toBe(2);
  });

  it('a batch carrying one transaction twice: the second is refused as a copy within the batch, verified once', async () => {
    const ledger = node();
    const spy = vi.spyOn(VerifyPool.prototype, 'verify');
    const results = await ledger.submitTxs([copy(tx(0)), copy(tx(0)), copy(tx(1))], 'peer-a');
    expect(results.map((r) => ('error' in r ? r.error.code : 'admitted'))).toEqual(['admitted', 'TX_DUPLICATE', 'admitted']);
    expect('error' in results[1]! ? results[1].error.message : '').toMatch(/appears twice in the batch/);
    expect(verifiedCount(spy)).toBe(2);
    expect(ledger.mempool.size).toBe(2);
  });
});
