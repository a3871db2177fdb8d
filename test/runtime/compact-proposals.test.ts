import { afterAll, describe, expect, it } from 'vitest';
import type { Block } from '../../src/codec/block.js';
import { signTx, txHash, type Msg, type SignedTx } from '../../src/codec/tx.js';
import { proposalSignBytes, type Proposal } from '../../src/consensus/index.js';
import type { LedgerNode } from '../../src/ledger/ledger.js';
import { Channel, type ChannelId } from '../../src/p2p/index.js';
import type { ConsensusDriver } from '../../src/runtime/driver.js';
import { ConsensusReactor } from '../../src/runtime/reactors/consensus.js';
import { RawJson, type ReactorLink } from '../../src/runtime/reactors/wire.js';
import { toHex } from '../../src/util/bytes.js';
import { account } from '../helpers/chain.js';
import { LedgerNodes } from '../helpers/ledger-node.js';

/**
 * Issue 18, ADR 0021: a proposal's block travels with its transactions as hashes; a validator fills
 * it from its own pools, asks the sending peer for what it lacks, and checks the completed block
 * against the signed header before consensus sees it.
 */

const wire = (value: unknown): unknown => JSON.parse(value instanceof RawJson ? value.json : JSON.stringify(value));

interface End {
  reactor: ConsensusReactor;
  forwarded: Block[];
  penalties: string[];
  /** What this end sent, decoded: to one peer (`send`) or to all (`broadcast`). */
  out: Array<{ to: string; value: Record<string, unknown> }>;
}

/**
 * Two reactors, "a" (the proposer's node) and "b", linked both ways: what one sends to the other is
 * delivered as decoded JSON, synchronously. `bTxWithHash` is what b's pools hold.
 */
function pair(
  aNode: LedgerNode | undefined,
  bTxWithHash: (hash: string) => SignedTx | undefined,
  bKnownTx: (raw: unknown) => SignedTx | undefined = () => undefined,
  /** When b looks again for missing transactions (FILL_WAIT_MS later): at once unless a test holds it. */
  bLater: (fn: () => void) => void = (fn) => fn(),
) {
  const ends = new Map<string, End>();
  const deliver = (from: string, to: string, channel: ChannelId, value: unknown) => ends.get(to)?.reactor.receive(from, channel, wire(value));
  const events: string[] = [];
  const clock = { now: 1 };
  /** b's delays from a proposal's arrival to its forwarding, when it had to look again or ask. */
  const delays: number[] = [];
  const make = (me: string, other: string, txWithHash: (hash: string) => SignedTx | undefined, knownTx: (raw: unknown) => SignedTx | undefined, later: (fn: () => void) => void): End => {
    const end: End = { reactor: undefined as unknown as ConsensusReactor, forwarded: [], penalties: [], out: [] };
    const link: ReactorLink = {
      send: (to, channel, value) => {
        end.out.push({ to, value: wire(value) as Record<string, unknown> });
        deliver(me, to, channel, value);
      },
      broadcast: (channel, value) => {
        events.push(`${me}:broadcast`);
        end.out.push({ to: '*', value: wire(value) as Record<string, unknown> });
        deliver(me, other, channel, value);
      },
      penalize: (_p, reason) => void end.penalties.push(reason),
      connectedPeers: () => [other],
    };
    const driver = { onPeerMessage: (e: { block: Block }) => void end.forwarded.push(e.block) } as unknown as ConsensusDriver<Block>;
    end.reactor = new ConsensusReactor(link, driver, () => undefined, () => clock.now, knownTx, {
      txWithHash,
      later,
      beforeProposal: () => void events.push(`${me}:gossip flushed`),
      fillDelay: (ms) => void (me === 'b' && delays.push(ms)),
    });
    ends.set(me, end);
    return end;
  };
  const a = make('a', 'b', (hash) => aNode?.txWithHash(hash), (raw) => aNode?.knownTx(raw), (fn) => fn());
  const b = make('b', 'a', bTxWithHash, bKnownTx, bLater);
  return { a, b, events, clock, delays };
}

describe('compact proposals (issue 18, ADR 0021)', () => {
  const nodes = new LedgerNodes('cp');
  afterAll(() => nodes.close());
  const { operator, validator } = nodes;
  const admit = (n: number): Msg => ({ type: 'registry/admit', value: { address: account(`compact-${n}`).address, roles: ['consumer'] } });
  const txs: SignedTx[] = [0, 1, 2].map((n) => signTx({ chainId: 'cp', sender: operator.address, nonce: n, expiresAtHeight: 100, msgs: [admit(n)], memo: '' }, operator.signer));

  function proposalOf(block: Block, hash: string): Proposal {
    const unsigned = { chainId: 'cp', height: block.header.height, round: 0, polRound: -1, blockHash: hash, timestamp: 1, proposer: validator.address };
    return { ...unsigned, signature: toHex(validator.signer.sign(proposalSignBytes(unsigned))) };
  }

  /** A proposer node holding all three transactions and its executed block. */
  function proposed() {
    const proposer = nodes.make();
    for (const tx of txs) proposer.submitTx(tx);
    const built = proposer.buildExecutedBlock({ time: 1, proposer: validator.address, lastCommit: null, evidence: [] });
    return { proposer, built, proposal: proposalOf(built.block, built.hash) };
  }

  it('the block goes out with its transactions as hashes; a validator holding them all forwards its own objects at once, and the block validates', () => {
    const { proposer, built, proposal } = proposed();
    const other = nodes.make();
    for (const tx of txs) other.submitTx(wire(tx));
    const { a, b, delays } = pair(proposer, (hash) => other.txWithHash(hash));
    a.reactor.broadcastProposal(proposal, built.block);
    expect(delays).toEqual([]); // nothing lacking: forwarded at once, no delay reported
    const sent = a.out[0]!.value as { block: { txs: unknown[] } };
    expect(sent.block.txs).toEqual(txs.map((tx) => txHash(tx.body)));
    expect(b.penalties).toEqual([]);
    expect(b.out).toEqual([]); // nothing asked
    const got = b.forwarded[0]!;
    expect(got.txs[1]).toBe(other.mempool.get(txHash(txs[1]!.body))!.tx);
    expect(got).toEqual(built.block);
    expect(other.validateBlock(1, got)).toMatchObject({ ok: true, blockHash: built.hash });
  });

  it('a validator lacking a transaction asks the sender for it alone, then forwards the completed block', () => {
    const { proposer, built, proposal } = proposed();
    const other = nodes.make();
    for (const tx of txs.slice(0, 2)) other.submitTx(wire(tx));
    const { a, b } = pair(proposer, (hash) => other.txWithHash(hash));
    a.reactor.broadcastProposal(proposal, built.block);
    expect(b.out).toEqual([{ to: 'a', value: { fill: { blockHash: built.hash, indexes: [2] } } }]);
    expect(a.out[1]).toEqual({ to: 'b', value: { filled: { blockHash: built.hash, indexes: [2], txs: [wire(txs[2])] } } });
    expect([a.penalties, b.penalties]).toEqual([[], []]);
    expect(b.forwarded).toHaveLength(1);
    expect(b.forwarded[0]).toEqual(built.block);
    expect(other.validateBlock(1, b.forwarded[0]!)).toMatchObject({ ok: true, blockHash: built.hash });
  });

  it('the sender flushes its queued transaction gossip before the proposal goes out', () => {
    const { proposer, built, proposal } = proposed();
    const { a, events } = pair(proposer, () => undefined);
    a.reactor.broadcastProposal(proposal, built.block);
    expect(events.slice(0, 2)).toEqual(['a:gossip flushed', 'a:broadcast']);
  });

  it('a validator lacking transactions looks again a moment later and asks only for those still missing', () => {
    const { proposer, built, proposal } = proposed();
    const other = nodes.make();
    other.submitTx(wire(txs[0]));
    const held: Array<() => void> = [];
    const { a, b, clock, delays } = pair(proposer, (hash) => other.txWithHash(hash), undefined, (fn) => void held.push(fn));
    a.reactor.broadcastProposal(proposal, built.block);
    expect([b.out, b.forwarded]).toEqual([[], []]);
    // the second transaction's gossip arrives meanwhile
    other.submitTx(wire(txs[1]));
    clock.now += 10;
    held.shift()!();
    // forwarded (after the fill, synchronous here) 10 ms after the proposal arrived
    expect(delays).toEqual([10]);
    expect(b.out.map((o) => o.value)).toEqual([{ fill: { blockHash: built.hash, indexes: [2] } }]);
    expect(b.forwarded).toEqual([built.block]);
    // with everything arrived by then, nothing is asked at all
    const again = pair(proposer, (hash) => other.txWithHash(hash), undefined, (fn) => void held.push(fn));
    again.a.reactor.broadcastProposal(proposalOf(built.block, built.hash), built.block);
    expect(again.b.forwarded).toEqual([]);
    other.submitTx(wire(txs[2]));
    held.shift()!();
    expect([again.b.out, again.b.forwarded]).toEqual([[], [built.block]]);
  });

  it('a transaction held under another signature than the block\'s: the filled block does not match, so those are asked for before anyone is blamed', () => {
    const { proposer, built, proposal } = proposed();
    const forged = (tx: SignedTx): SignedTx => ({ ...tx, signature: 'ab'.repeat(64) });
    const { a, b } = pair(proposer, (hash) => txs.map(forged).find((tx) => txHash(tx.body) === hash));
    a.reactor.broadcastProposal(proposal, built.block);
    expect(b.out.map((o) => o.value)).toEqual([{ fill: { blockHash: built.hash, indexes: [0, 1, 2] } }]);
    expect(b.penalties).toEqual([]);
    expect(b.forwarded).toEqual([built.block]);
  });

  it('a full (non-compact) proposal is still accepted', () => {
    const { built, proposal } = proposed();
    const { b } = pair(undefined, () => undefined);
    b.reactor.receive('a', Channel.proposal, wire({ proposal, block: built.block }));
    expect(b.penalties).toEqual([]);
    expect(b.forwarded).toEqual([built.block]);
  });

  describe('bad input', () => {
    it('a compact entry that is not a transaction hash is a malformed proposal', () => {
      const { built, proposal } = proposed();
      const { b } = pair(undefined, () => undefined);
      for (const entry of ['xyz', 'AB'.repeat(32), 7, null]) {
        b.reactor.receive('a', Channel.proposal, wire({ proposal, block: { ...built.block, txs: [entry] } }));
      }
      expect(b.penalties).toEqual(Array(4).fill('malformed proposal'));
      expect(b.forwarded).toEqual([]);
      expect(b.out).toEqual([]);
    });

    it('malformed fill requests are penalised; a request beyond the block too; one for an unknown block is ignored; a block is answered twice per peer at most', () => {
      const { proposer, built, proposal } = proposed();
      const { a } = pair(proposer, () => undefined);
      a.reactor.broadcastProposal(proposal, built.block); // b asks for all three: answer 1
      const before = a.out.length;
      const bad = [
        { blockHash: built.hash, indexes: [] },
        { blockHash: built.hash, indexes: [1, 1] },
        { blockHash: built.hash, indexes: [2, 1] },
        { blockHash: built.hash, indexes: [-1] },
        { blockHash: built.hash, indexes: [0.5] },
        { blockHash: 'zz', indexes: [0] },
        { blockHash: built.hash, indexes: [0], extra: 1 },
        [built.hash, [0]],
      ];
      for (const fill of bad) a.reactor.receive('b', Channel.proposal, { fill });
      a.reactor.receive('b', Channel.proposal, { fill: { blockHash: built.hash, indexes: [3] } });
      a.reactor.receive('b', Channel.proposal, { fill: { blockHash: 'cd'.repeat(32), indexes: [0] } });
      expect(a.penalties).toEqual([...Array(bad.length).fill('malformed block fill request'), 'block fill request beyond the block']);
      expect(a.out).toHaveLength(before);
      a.reactor.receive('b', Channel.proposal, { fill: { blockHash: built.hash, indexes: [0] } }); // answer 2
      a.reactor.receive('b', Channel.proposal, { fill: { blockHash: built.hash, indexes: [1] } }); // not answered
      expect(a.out).toHaveLength(before + 1);
      // after b reconnects (answers in flight may be lost) it is answered again
      a.reactor.peerGone('b');
      a.reactor.receive('b', Channel.proposal, { fill: { blockHash: built.hash, indexes: [1] } });
      expect(a.out).toHaveLength(before + 2);
    });

    it('a malformed reply is penalised; an unasked one is ignored; wrong transactions are blamed on the peer that sent them', () => {
      const { built, proposal } = proposed();
      const { b } = pair(undefined, () => undefined);
      const compact = { ...built.block, txs: txs.map((tx) => txHash(tx.body)) };
      // unasked: ignored
      b.reactor.receive('a', Channel.proposal, wire({ filled: { blockHash: built.hash, indexes: [0], txs: [txs[0]] } }));
      expect([b.penalties, b.forwarded]).toEqual([[], []]);
      b.reactor.receive('a', Channel.proposal, wire({ proposal, block: compact }));
      expect(b.out.map((o) => o.value)).toEqual([{ fill: { blockHash: built.hash, indexes: [0, 1, 2] } }]);
      for (const filled of [
        { blockHash: built.hash, indexes: [0, 1, 2], txs: [txs[0], txs[1]] },
        { blockHash: built.hash, indexes: [0, 1, 2], txs: [txs[0], txs[1], { ...txs[2], extra: 1 }] },
        { blockHash: built.hash, indexes: [0, 1, 2] },
      ]) {
        b.reactor.receive('a', Channel.proposal, wire({ filled }));
      }
      expect(b.penalties).toEqual(Array(3).fill('malformed block fill'));
      // a reply for other indexes than asked: ignored, still waiting
      b.reactor.receive('a', Channel.proposal, wire({ filled: { blockHash: built.hash, indexes: [0], txs: [txs[0]] } }));
      expect(b.forwarded).toEqual([]);
      // the asked indexes with another transaction in place of one: the block does not match its header
      b.reactor.receive('a', Channel.proposal, wire({ filled: { blockHash: built.hash, indexes: [0, 1, 2], txs: [txs[0], txs[2], txs[1]] } }));
      expect(b.penalties.at(-1)).toBe('proposal block does not match its signed hash');
      expect(b.forwarded).toEqual([]);
    });
  });
});
