import { afterAll, describe, expect, it } from 'vitest';
import { signTx, txHash, type SignedTx } from '../../src/codec/tx.js';
import type { LedgerNode } from '../../src/ledger/ledger.js';
import { account } from '../helpers/chain.js';
import { LedgerNodes } from '../helpers/ledger-node.js';

/**
 * Issue 18: a transaction's signature is verified once per node. A validator that meets a transaction
 * first in a proposal verifies it while executing the block; the gossiped copy arriving before the block
 * commits is then admitted without a second verify.
 */
describe('a signature verified in a block is not verified again when its gossiped copy arrives', () => {
  const nodes = new LedgerNodes('vo');
  afterAll(() => nodes.close());
  const { operator, validator } = nodes;
  const txs: SignedTx[] = [0, 1, 2].map((n) =>
    signTx({ chainId: 'vo', sender: operator.address, nonce: n, expiresAtHeight: 100, msgs: [{ type: 'registry/admit', value: { address: account(`vo-${n}`).address, roles: ['consumer'] } }], memo: '' }, operator.signer),
  );
  const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

  /** Counts the signatures the node hands to its verify pool. */
  function countVerifies(node: LedgerNode): { count: number } {
    const seen = { count: 0 };
    const pool = (node as unknown as { verifier: { verify(items: unknown[]): Promise<boolean[]> } }).verifier;
    const verify = pool.verify.bind(pool);
    pool.verify = (items) => ((seen.count += items.length), verify(items));
    return seen;
  }

  it('remembers the signatures a proposal verified, and admits their copies without the verify pool', async () => {
    const proposer = nodes.make();
    for (const tx of txs.slice(0, 2)) proposer.submitTx(tx);
    const built = proposer.buildExecutedBlock({ time: 1, proposer: validator.address, lastCommit: null, evidence: [] });

    const other = nodes.make();
    const verifies = countVerifies(other);
    for (const tx of txs.slice(0, 2)) expect(other.verified.has(txHash(tx.body), tx)).toBe(false);
    expect(other.validateBlock(1, wire(built.block))).toMatchObject({ ok: true, blockHash: built.hash });
    for (const tx of txs.slice(0, 2)) expect(other.verified.has(txHash(tx.body), tx)).toBe(true);

    // The gossiped copies (and one transaction the block did not carry) arrive before the block commits.
    const results = await other.submitTxs(txs.map(wire), 'peer');
    expect(results).toEqual(txs.map((tx) => ({ hash: txHash(tx.body) })));
    expect(verifies.count).toBe(1);
    expect(other.mempool.size).toBe(3);
  });

  it('a copy with another signature is still verified and refused', async () => {
    const proposer = nodes.make();
    proposer.submitTx(txs[0]!);
    const built = proposer.buildExecutedBlock({ time: 1, proposer: validator.address, lastCommit: null, evidence: [] });
    const other = nodes.make();
    const verifies = countVerifies(other);
    expect(other.validateBlock(1, wire(built.block))).toMatchObject({ ok: true });
    const forged = { ...wire(txs[0]!), signature: wire(txs[1]!).signature };
    const [result] = await other.submitTxs([forged], 'peer');
    expect(result).toMatchObject({ error: { code: 'TX_BAD_SIGNATURE' } });
    expect(verifies.count).toBe(1);
    expect(other.mempool.size).toBe(0);
  });
});
