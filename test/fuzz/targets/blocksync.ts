import fc from 'fast-check';
import type { Commit } from '../../../src/codec/block.js';
import { BLOCK_ERRORS } from '../../../src/codec/errors.js';
import { BlockSync, statusMessage, syncRequestMessage, syncResponseMessage, type SyncTarget } from '../../../src/sync/blocksync.js';
import { expectThat, fail, type FuzzTarget } from '../lib/engine.js';
import { mutatedJson, oddValue } from '../lib/mutate.js';

/**
 * Block sync: the wire schemas on arbitrary values, and BlockSync driven by sequences of status
 * announcements, hints, requests, answers to its real requests, unsolicited and wrong responses,
 * peers leaving and time passing. An honest peer answers only what was asked, and correctly.
 * Invariants: nothing throws; only blocks requested from the peer that served them are applied,
 * in height order, and only valid ones; buffered bytes stay within the budget (plus the one next
 * block); the honest peer is never penalised; answers to requests are contiguous and bounded.
 */

interface ToyBlock {
  height: number;
  valid: boolean;
  servedBy: string;
  pad: string;
}

type Op =
  | { op: 'status'; peer: number; height: number }
  | { op: 'hint'; peer: number; height: number }
  | { op: 'answer'; peer: number; pick: number; corrupt: boolean; drop: number }
  | { op: 'unsolicited'; peer: number; from: number; count: number; pad: number }
  | { op: 'request'; from: number; count: number }
  | { op: 'tick'; ms: number }
  | { op: 'gone'; peer: number };

type Input = { kind: 'schemas'; value: unknown } | { kind: 'sync'; ops: Op[] };

const PEERS = ['honest', 'evil', 'flaky'];
const HONEST_HEIGHT = 40;
const TIMEOUT = 1000;
const MAX_BUFFERED = 2000;
const MAX_RESPONSE = 600;

const sizeOf = (e: { block: ToyBlock }) => 20 + e.block.pad.length;

export function blockSyncTarget(): FuzzTarget<Input> {
  const peer = fc.nat({ max: PEERS.length - 1 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('status' as const), peer, height: fc.nat({ max: 60 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('hint' as const), peer, height: fc.nat({ max: 60 }) }) },
    { weight: 5, arbitrary: fc.record({ op: fc.constant('answer' as const), peer, pick: fc.nat(), corrupt: fc.boolean(), drop: fc.nat({ max: 3 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('unsolicited' as const), peer: fc.integer({ min: 1, max: PEERS.length - 1 }), from: fc.nat({ max: 50 }), count: fc.nat({ max: 12 }), pad: fc.nat({ max: 900 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('request' as const), from: fc.integer({ min: 1, max: 50 }), count: fc.integer({ min: 1, max: 100 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.nat({ max: 3 * TIMEOUT }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('gone' as const), peer }) },
  );
  const corpus = [
    { height: 3, hash: 'ab' },
    { from: 1, count: 20 },
    { blocks: [] },
  ];
  return {
    name: 'blocksync',
    description: 'block-sync schemas on arbitrary values, and BlockSync fed sequences of announcements, answers, unsolicited and wrong responses',
    arbitrary: fc.oneof(
      { weight: 1, arbitrary: fc.oneof(mutatedJson(corpus, 3), oddValue).map((value) => ({ kind: 'schemas' as const, value })) },
      { weight: 4, arbitrary: fc.array(op, { minLength: 1, maxLength: 40 }).map((ops) => ({ kind: 'sync' as const, ops })) },
    ),
    check(input) {
      if (input.kind === 'schemas') {
        const ok = [statusMessage, syncRequestMessage, syncResponseMessage].map((s) => s.safeParse(input.value).success);
        return `schemas:${ok.map((b) => (b ? 1 : 0)).join('')}`;
      }
      return runSync(input.ops);
    },
  };
}

function runSync(ops: Op[]): string {
  let now = 0;
  const applied: ToyBlock[] = [];
  const requests: Array<{ peer: string; from: number; count: number; at: number; index: number }> = [];
  /** Requests a peer can still answer: a peer that disconnected answers nothing sent before. */
  const answerable = (p: string) => requests.filter((r) => r.peer === p && r.at >= (goneAt.get(p) ?? -1) && r.index > (goneIndex.get(p) ?? -1));
  const goneAt = new Map<string, number>();
  const goneIndex = new Map<string, number>();
  const penalties: Array<{ peer: string; reason: string }> = [];
  let lastResponse: Array<{ block: ToyBlock; commit: Commit }> | undefined;
  const target: SyncTarget<ToyBlock> = {
    get height() {
      return applied.length;
    },
    latestHash: () => String(applied.length),
    getBlock: (h) => (h >= 1 && h <= applied.length ? { block: applied[h - 1]!, commit: commitFor(h) } : undefined),
    applySyncedBlock: (block) => {
      if (block.height !== applied.length + 1) throw BLOCK_ERRORS.BLOCK_SYNC_UNAPPENDABLE(`height ${block.height}`);
      if (!block.valid) throw BLOCK_ERRORS.BLOCK_SYNC_INVALID_BLOCK('corrupt');
      const asked = requests.some((r) => r.peer === block.servedBy && block.height >= r.from && block.height < r.from + r.count);
      expectThat(asked, `applied block ${block.height} served by ${block.servedBy}, who was never asked for it`);
      applied.push(block);
    },
  };
  const sync = new BlockSync<ToyBlock>(
    target,
    {
      sendStatus: () => undefined,
      sendRequest: (p, r) => void requests.push({ peer: p, ...r, at: now, index: requests.length }),
      sendResponse: (_p, blocks) => void (lastResponse = blocks),
      penalize: (p, reason) => void penalties.push({ peer: p, reason }),
      connectedPeers: () => PEERS,
    },
    { batchSize: 5, maxResponseBytes: MAX_RESPONSE, maxBufferedBytes: MAX_BUFFERED, requestTimeoutMs: TIMEOUT, clock: () => now, heightOf: (b) => b.height, sizeOf, onApplied: () => undefined },
  );
  const block = (height: number, servedBy: string, valid = true, pad = 10): { block: ToyBlock; commit: Commit } => ({ block: { height, valid, servedBy, pad: 'x'.repeat(pad) }, commit: commitFor(height) });
  for (const o of ops) {
    const name = PEERS[('peer' in o ? o.peer : 0) % PEERS.length]!;
    switch (o.op) {
      case 'status':
        // The honest peer tells the truth about its height.
        sync.onStatus(name, { height: name === 'honest' ? HONEST_HEIGHT : o.height, hash: '' });
        break;
      case 'hint':
        sync.hintHeight(name, o.height);
        break;
      case 'answer': {
        // Answers one of the requests sent to this peer (the honest peer only recent ones, correctly).
        const open = answerable(name).filter((r) => name !== 'honest' || now - r.at <= 2 * TIMEOUT);
        if (open.length === 0) break;
        const r = open[o.pick % open.length]!;
        const honest = name === 'honest';
        const top = honest ? Math.min(r.from + r.count, HONEST_HEIGHT + 1) : r.from + r.count - o.drop;
        const blocks = [];
        for (let h = r.from; h < top; h++) blocks.push(block(h, name, honest || !o.corrupt || h % 2 === 0));
        sync.onResponse(name, blocks);
        break;
      }
      case 'unsolicited':
        sync.onResponse(name, Array.from({ length: o.count }, (_, i) => block(o.from + i, name, true, o.pad)));
        break;
      case 'request': {
        lastResponse = undefined;
        sync.onRequest('evil', { from: o.from, count: o.count });
        const got: Array<{ block: ToyBlock; commit: Commit }> = (lastResponse as Array<{ block: ToyBlock; commit: Commit }> | undefined) ?? fail('onRequest sent no response');
        const bytes = got.reduce((s, e) => s + sizeOf(e), 0);
        expectThat(got.length <= o.count && got.every((e, i) => e.block.height === o.from + i), 'a response is not the requested contiguous range');
        expectThat(got.length <= 1 || bytes <= MAX_RESPONSE, 'a response exceeds the byte limit');
        break;
      }
      case 'tick':
        now += o.ms;
        sync.maybeRequest();
        break;
      case 'gone':
        sync.peerGone(name);
        goneAt.set(name, now);
        goneIndex.set(name, requests.length - 1);
        break;
    }
    expectThat(sync.bufferedByteCount >= 0 && sync.bufferedByteCount <= MAX_BUFFERED + 20 + 900, `buffered ${sync.bufferedByteCount} bytes, budget ${MAX_BUFFERED}`);
    const honestPenalty = penalties.find((p) => p.peer === 'honest');
    if (honestPenalty) fail(`the honest peer was penalised: ${honestPenalty.reason}`);
  }
  applied.forEach((b, i) => expectThat(b.height === i + 1 && b.valid, 'applied blocks are not the valid chain in order'));
  return applied.length > 0 ? (penalties.length > 0 ? 'applied+penalised' : 'applied') : penalties.length > 0 ? 'penalised' : 'nothing';
}

function commitFor(height: number): Commit {
  return { height, round: 0, blockHash: 'aa'.repeat(32), signatures: [] };
}
