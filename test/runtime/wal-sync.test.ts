/**
 * Issue 18: the engine's contract is that the WAL is durable before an own message leaves. The driver
 * writes a step's records ahead of its first broadcast and fsyncs once, so a lone validator's height
 * (proposal, prevote and precommit in one step) costs one fsync, not three — and still, every
 * broadcast follows a sync that came after its own signed record. The production driver on a virtual
 * clock, a real ledger node, a WAL and a network that log what they are asked to do.
 */
import { afterAll, expect, it } from 'vitest';
import type { Block } from '../../src/codec/block.js';
import type { WalRecord } from '../../src/consensus/index.js';
import type { ConsensusNetwork, WalPort } from '../../src/runtime/driver.js';
import { LedgerNodes } from '../helpers/ledger-node.js';
import { driverOn } from '../helpers/virtual-driver.js';

const nodes = new LedgerNodes('walsync');
afterAll(() => nodes.close());

const TIMING = { blockTimeMs: 1000, emptyBlockIntervalMs: 60_000, proposeAtTxs: 64, minBlockIntervalMs: 100, maxTxWaitMs: 200 };

type Entry = { op: 'append'; signed: string | null } | { op: 'sync' } | { op: 'reset' } | { op: 'send'; signature: string };

/** What a record signs (its signature), or null for an input record. */
function signatureOf(record: WalRecord<Block>): string | null {
  if (record.type !== 'signed') return null;
  const m = record.message;
  return m.kind === 'vote' ? m.vote.signature : m.proposal.signature;
}

/** A WAL that logs appends, and syncs that have something to sync (as FileWal fsyncs only then). */
function recorders(log: Entry[]): { wal: WalPort<Block>; network: ConsensusNetwork<Block> } {
  let dirty = false;
  const wal: WalPort<Block> = {
    read: () => ({ records: [], droppedTail: false }),
    append: (record) => {
      log.push({ op: 'append', signed: signatureOf(record) });
      dirty = true;
    },
    sync: () => {
      if (dirty) log.push({ op: 'sync' });
      dirty = false;
    },
    reset: () => void log.push({ op: 'reset' }),
    close: () => undefined,
  };
  const network: ConsensusNetwork<Block> = {
    broadcastProposal: (proposal) => void log.push({ op: 'send', signature: proposal.signature }),
    broadcastVote: (vote) => void log.push({ op: 'send', signature: vote.signature }),
    broadcastEvidence: () => undefined,
    penalize: () => undefined,
    behind: () => undefined,
  };
  return { wal, network };
}

it("a lone validator's height takes one WAL sync, before its first message; each message was written and synced before it left", () => {
  const log: Entry[] = [];
  const { wal, network } = recorders(log);
  const d = driverOn(nodes, 'walsync', { timing: TIMING, wal });
  d.driver.setNetwork(network);
  d.driver.start();
  try {
    d.clock.advance(300);
    const heightBefore = d.node.height;
    expect(heightBefore).toBeGreaterThanOrEqual(1);
    log.length = 0;
    d.admit(3);
    d.clock.advance(250);
    expect(d.node.height).toBe(heightBefore + 1);
    // The height: from its start (the WAL's reset) to the next one.
    const start = log.findIndex((e) => e.op === 'reset');
    const next = log.findIndex((e, i) => i > start && e.op === 'reset');
    const height = log.slice(start, next < 0 ? undefined : next);
    const sends = height.filter((e) => e.op === 'send');
    expect(sends).toHaveLength(3); // proposal, prevote, precommit
    expect(height.filter((e) => e.op === 'sync')).toHaveLength(1); // three before the change
    for (const send of sends) {
      const written = height.findIndex((e) => e.op === 'append' && e.signed === (send as { signature: string }).signature);
      const sent = height.indexOf(send);
      expect(written, 'the signed record is in the WAL').toBeGreaterThanOrEqual(0);
      expect(height.slice(written, sent).some((e) => e.op === 'sync'), 'a sync between the record and the send').toBe(true);
    }
  } finally {
    d.driver.stop();
  }
});
