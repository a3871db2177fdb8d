import { afterAll, describe, expect, it } from 'vitest';
import type { Block } from '../../src/codec/block.js';
import { signTx, txHash, type Msg, type SignedTx } from '../../src/codec/tx.js';
import { proposalSignBytes, type Proposal } from '../../src/consensus/index.js';
import type { LedgerNode } from '../../src/ledger/ledger.js';
import { Channel } from '../../src/p2p/index.js';
import type { ConsensusDriver } from '../../src/runtime/driver.js';
import { ConsensusReactor } from '../../src/runtime/reactors/consensus.js';
import type { ReactorLink } from '../../src/runtime/reactors/wire.js';
import { toHex } from '../../src/util/bytes.js';
import { sameJson } from '../../src/util/same-json.js';
import { account } from '../helpers/chain.js';
import { LedgerNodes } from '../helpers/ledger-node.js';

describe('sameJson', () => {
  it('compares JSON values structurally, keys in any order, -0 apart from 0', () => {
    expect(sameJson({ a: [1, { b: 'x', c: null }], d: true }, { d: true, a: [1, { c: null, b: 'x' }] })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameJson({ a: 1 }, { b: 1 })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson([1], { 0: 1 })).toBe(false);
    expect(sameJson(0, -0)).toBe(false);
    expect(sameJson(NaN, NaN)).toBe(true);
    expect(sameJson('1', 1)).toBe(false);
    expect(sameJson(null, {})).toBe(false);
  });
});

describe('a proposal reuses the transactions its validator already admitted (issue 18)', () => {
  const nodes = new LedgerNodes('ru');
  afterAll(() => nodes.close());
  const { operator, validator } = nodes;
  const admit = (n: number): Msg => ({ type: 'registry/admit', value: { address: account(`reuse-${n}`).address, roles: ['consumer'] } });
  const node = (): LedgerNode => nodes.make();

  function receiver(validatorNode: LedgerNode) {
    const forwarded: Block[] = [];
    const penalties: string[] = [];
    const link = { penalize: (_p: string, reason: string) => void penalties.push(reason), send: () => undefined, broadcast: () => undefined, connectedPeers: () => [] } as ReactorLink;
    const driver = { onPeerMessage: (e: { block: Block }) => void forwarded.push(e.block) } as unknown as ConsensusDriver<Block>;
    const reactor = new ConsensusReactor(link, driver, () => undefined, () => 1, (raw) => validatorNode.knownTx(raw));
    return { forwarded, penalties, receive: (value: unknown) => reactor.receive('peer', Channel.proposal, JSON.parse(JSON.stringify(value))) };
  }

  function proposalOf(block: Block, hash: string): Proposal {
    const unsigned = { chainId: 'ru', height: block.header.height, round: 0, polRound: -1, blockHash: hash, timestamp: 1, proposer: validator.address };
    return { ...unsigned, signature: toHex(validator.signer.sign(proposalSignBytes(unsigned))) };
  }

  const txs: SignedTx[] = [0, 1, 2].map((n) => signTx({ chainId: 'ru', sender: operator.address, nonce: n, expiresAtHeight: 100, msgs: [admit(n)], memo: '' }, operator.signer));

  it('takes the pending objects for admitted txs, parses the others, and the block still validates', () => {
    const proposer = node();
    const other = node();
    for (const tx of txs) proposer.submitTx(tx);
    // the validator has seen only the first two (the third is still in flight)
    for (const tx of txs.slice(0, 2)) other.submitTx(JSON.parse(JSON.stringify(tx)));
    const built = proposer.buildExecutedBlock({ time: 1, proposer: validator.address, lastCommit: null, evidence: [] });
    const r = receiver(other);
    r.receive({ proposal: proposalOf(built.block, built.hash), block: built.block });
    expect(r.penalties).toEqual([]);
    const got = r.forwarded[0]!;
    expect(got.txs).toHaveLength(3);
    expect(got.txs[0]).toBe(other.mempool.get(txHash(txs[0]!.body))!.tx);
    expect(got.txs[1]).toBe(other.mempool.get(txHash(txs[1]!.body))!.tx);
    expect(other.mempool.get(txHash(txs[2]!.body))).toBeUndefined();
    expect(got.txs[2]).toEqual(txs[2]);
    expect(other.validateBlock(1, got)).toMatchObject({ ok: true, blockHash: built.hash });
    proposer.close();
    other.close();
  });

  it('a copy of a pending tx (gossip from another peer) is refused as TX_DUPLICATE without a second decode; a changed copy is judged on its own', async () => {
    const n = node();
    const hash = n.submitTx(JSON.parse(JSON.stringify(txs[0])));
    const [copy] = await n.submitTxs([JSON.parse(JSON.stringify(txs[0]))]);
    expect(copy).toMatchObject({ error: { code: 'TX_DUPLICATE', message: `transaction ${hash} is already pending` } });
    const changed = JSON.parse(JSON.stringify(txs[0]));
    changed.body.memo = 'x';
    const [other] = await n.submitTxs([changed]);
    // a different body under the same signature: decoded and checked in full, the signature fails
    expect(other).toMatchObject({ error: { code: 'TX_BAD_SIGNATURE' } });
    n.close();
  });

  it('the same decoded proposal value again (a re-gossiped copy) is forwarded with the block checked the first time', () => {
    const proposer = node();
    const other = node();
    for (const tx of txs) proposer.submitTx(tx);
    const built = proposer.buildExecutedBlock({ time: 1, proposer: validator.address, lastCommit: null, evidence: [] });
    const forwarded: Block[] = [];
    const link = { penalize: () => undefined, send: () => undefined, broadcast: () => undefined, connectedPeers: () => [] } as ReactorLink;
    const driver = { onPeerMessage: (e: { block: Block }) => void forwarded.push(e.block) } as unknown as ConsensusDriver<Block>;
    const reactor = new ConsensusReactor(link, driver, () => undefined, () => 1, (raw) => other.knownTx(raw));
    const value = JSON.parse(JSON.stringify({ proposal: proposalOf(built.block, built.hash), block: built.block }));
    reactor.receive('peer', Channel.proposal, value);
    reactor.receive('peer', Channel.proposal, value);
    expect(forwarded).toHaveLength(2);
    expect(forwarded[1]).toBe(forwarded[0]);
    // an equal but distinct value is checked again
    reactor.receive('peer', Channel.proposal, JSON.parse(JSON.stringify(value)));
    expect(forwarded[2]).not.toBe(forwarded[0]);
    expect(forwarded[2]).toEqual(forwarded[0]);
    proposer.close();
    other.close();
  });

  it('a tx that differs from the pending one with its signature is parsed on its own: the tampered proposal is refused', () => {
    const proposer = node();
    const other = node();
    for (const tx of txs) proposer.submitTx(tx);
    for (const tx of txs) other.submitTx(JSON.parse(JSON.stringify(tx)));
    const built = proposer.buildExecutedBlock({ time: 1, proposer: validator.address, lastCommit: null, evidence: [] });
    const tampered = JSON.parse(JSON.stringify(built.block)) as Block;
    tampered.txs[1] = { ...tampered.txs[1]!, body: { ...tampered.txs[1]!.body, memo: 'changed' } };
    const r = receiver(other);
    r.receive({ proposal: proposalOf(built.block, built.hash), block: tampered });
    expect(r.forwarded).toEqual([]);
    expect(r.penalties).toEqual(['proposal block does not match its signed hash']);
    // and a malformed tx under a known signature is still refused by the schema
    const malformed = JSON.parse(JSON.stringify(built.block));
    malformed.txs[0].extra = 1;
    r.receive({ proposal: proposalOf(built.block, built.hash), block: malformed });
    expect(r.penalties[1]).toBe('malformed proposal');
    proposer.close();
    other.close();
  });
});
