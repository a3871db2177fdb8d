import { describe, it, expect } from 'vitest';
import { appendFileSync, mkdtempSync, writeFileSync, readFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConsensusState, type WalRecord, createConsensus, status } from '../../src/consensus/engine.js';
import { decodeWalRecord, encodeWalRecord, replay } from '../../src/consensus/wal.js';
import { FileWal } from '../../src/runtime/wal-file.js';
import { ValidatorSet } from '../../src/consensus/index.js';
import { FakeApp, type FakeBlock } from '../../sim/fakeApp.js';
import { CHAIN, testKeys, valsetOf } from './helpers.js';

const TIMEOUTS = { propose: { baseMs: 100, deltaMs: 10 }, prevote: { baseMs: 50, deltaMs: 5 }, precommit: { baseMs: 50, deltaMs: 5 } };

function fourValidatorNode(selfIndex: number) {
  const keys = testKeys(4, 'wal');
  const set = valsetOf(keys);
  const engine = createConsensus<FakeBlock>(
    { chainId: CHAIN, self: keys[selfIndex]!.address, timeouts: TIMEOUTS, maxRoundsAhead: 10 },
    { app: new FakeApp(), sign: (b) => keys[selfIndex]!.signer.sign(b) },
  );
  return { keys, set, engine, context: { height: 1, validators: set, previous: null, genesisTime: 1000 } };
}

function walOf(effects: readonly { type: string }[]): WalRecord<FakeBlock>[] {
  return effects.flatMap((e) => (e.type === 'walWrite' ? [(e as unknown as { record: WalRecord<FakeBlock> }).record] : []));
}

/** A fresh WAL file in its own temporary folder. */
function freshWal(prefix: string, truncateBytes?: number): { path: string; wal: FileWal<FakeBlock> } {
  const path = join(mkdtempSync(join(tmpdir(), prefix)), 'cs.wal');
  return { path, wal: new FileWal<FakeBlock>(path, undefined, truncateBytes) };
}

/** A timeout record (the smallest kind). */
function timeoutRecord(now: number, height: number, step: 'propose' | 'prevote' | 'precommit'): WalRecord<FakeBlock> {
  return { type: 'input', event: { type: 'timeout', now, height, round: 0, step } };
}

describe('WAL encoding and file', () => {
  it('round-trips records with bigints and validator sets', () => {
    const set = valsetOf(testKeys(3, 'enc')).nextHeight();
    const record: WalRecord<FakeBlock> = { type: 'input', event: { type: 'start', now: 3, context: { height: 1, validators: set, previous: null, genesisTime: 9 } } };
    const back = decodeWalRecord<FakeBlock>(encodeWalRecord(record));
    expect(back.type === 'input' && back.event.type === 'start' && back.event.context.validators).toBeInstanceOf(ValidatorSet);
    const v = (back as { event: { context: { validators: ValidatorSet } } }).event.context.validators;
    expect(v.priorities).toEqual(set.priorities);
    expect(v.totalPower).toBe(30n);
  });

  it("splices a proposal's block in as the JSON it is given, and decodes to the same record as without", () => {
    const block: FakeBlock = { height: 2, time: 5, proposer: 'p', prevHash: null, lastCommit: null } as FakeBlock;
    const proposal = { chainId: CHAIN, height: 2, round: 0, polRound: -1, blockHash: 'ab'.repeat(32), timestamp: 5, proposer: 'p', signature: 'cd'.repeat(64) };
    const record = { type: 'input', event: { type: 'proposal', now: 7, proposal, block } } as unknown as WalRecord<FakeBlock>;
    const seen: FakeBlock[] = [];
    // Another key order than JSON.stringify's: the text must come from the function, the meaning must not change.
    const reordered = (b: FakeBlock) => {
      seen.push(b);
      return JSON.stringify(Object.fromEntries(Object.entries(b).reverse()));
    };
    const spliced = encodeWalRecord(record, reordered);
    expect(seen).toEqual([block]);
    expect(spliced).toContain(reordered(block));
    expect(decodeWalRecord(spliced)).toEqual(decodeWalRecord(encodeWalRecord(record)));
    // A record without a block does not call it.
    encodeWalRecord({ type: 'input', event: { type: 'timeout', now: 1, height: 1, round: 0, step: 'propose' } } as unknown as WalRecord<FakeBlock>, reordered);
    expect(seen).toHaveLength(2);
  });

  it('appends, syncs and reads back; a torn last record is dropped, corruption in the middle is an error', () => {
    const { path, wal } = freshWal('gl-wal-');
    const r1 = timeoutRecord(1, 1, 'propose');
    const r2 = timeoutRecord(2, 1, 'prevote');
    wal.append(r1);
    wal.append(r2);
    wal.sync();
    const read = () => new FileWal<FakeBlock>(path).read();
    expect(read()).toEqual({ records: [r1, r2], droppedTail: false });
    appendFileSync(path, '0123456789abcdef {"type":"inp');
    expect(read()).toEqual({ records: [r1, r2], droppedTail: true });
    const lines = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, [lines[0]!.replace('propose', 'prevote'), lines[1], ''].join('\n'));
    expect(read).toThrow(expect.objectContaining({ code: 'WAL_CORRUPT' }));
    wal.close();
    // Past its bound (here 0 bytes) reset empties the file.
    const bounded = new FileWal<FakeBlock>(path, undefined, 0);
    bounded.reset();
    expect(read().records).toEqual([]);
    bounded.close();
  });

  it('reset appends a reset line (no ftruncate): only the records after it are read; corruption before it is still an error', () => {
    const { path, wal } = freshWal('gl-wal-reset-');
    const r1 = timeoutRecord(1, 1, 'propose');
    const r2 = timeoutRecord(2, 2, 'propose');
    wal.append(r1);
    wal.sync();
    const before = readFileSync(path).length;
    wal.reset();
    expect(readFileSync(path).length).toBeGreaterThan(before); // not truncated: a line added
    const read = () => new FileWal<FakeBlock>(path).read();
    expect(read()).toEqual({ records: [], droppedTail: false });
    wal.append(r2);
    wal.sync();
    expect(read()).toEqual({ records: [r2], droppedTail: false });
    // A crash that loses the reset line leaves the stored height's records: read as before the reset.
    writeFileSync(path, readFileSync(path, 'utf8').split('\n')[0] + '\n');
    expect(read()).toEqual({ records: [r1], droppedTail: false });
    // A damaged record before a reset line is still corruption, not silently skipped.
    wal.reset();
    wal.append(r2);
    wal.sync();
    const lines = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, [lines[0]!.replace('propose', 'prevote'), ...lines.slice(1)].join('\n'));
    expect(read).toThrow(expect.objectContaining({ code: 'WAL_CORRUPT' }));
    wal.close();
  });

  it('reset empties the file once it has grown past its bound', () => {
    const { path, wal } = freshWal('gl-wal-bound-', 300);
    const record = (now: number) => timeoutRecord(now, now, 'propose');
    const sizes: number[] = [];
    for (let h = 1; h <= 8; h++) {
      wal.append(record(h));
      wal.sync();
      wal.reset();
      sizes.push(readFileSync(path).length);
    }
    expect(Math.max(...sizes)).toBeLessThan(300 + 200); // bounded: emptied whenever it passed 300 bytes
    expect(sizes).toContain(0);
    expect(sizes.some((s) => s > 0)).toBe(true); // and between, reset lines
    wal.append(record(9));
    wal.sync();
    expect(new FileWal<FakeBlock>(path).read().records).toEqual([record(9)]);
    wal.close();
  });

  it('a torn last record at any byte offset is cut off on read, so the next append is a whole record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-wal-torn-'));
    const r1: WalRecord<FakeBlock> = { type: 'input', event: { type: 'timeout', now: 1, height: 1, round: 0, step: 'propose' } };
    const r2: WalRecord<FakeBlock> = { type: 'input', event: { type: 'timeout', now: 2, height: 1, round: 0, step: 'prevote' } };
    const r3: WalRecord<FakeBlock> = { type: 'input', event: { type: 'timeout', now: 3, height: 1, round: 1, step: 'precommit' } };
    const reference = join(dir, 'ref.wal');
    const w = new FileWal<FakeBlock>(reference);
    w.append(r1);
    w.sync();
    const firstBytes = readFileSync(reference).length;
    w.append(r2);
    w.sync();
    w.close();
    const full = readFileSync(reference);
    for (let cut = firstBytes; cut < full.length; cut++) {
      const path = join(dir, `torn-${cut}.wal`);
      writeFileSync(path, full);
      truncateSync(path, cut); // what a crash (or ENOSPC) during the append of r2 leaves behind
      const restarted = new FileWal<FakeBlock>(path);
      expect(restarted.read(), `cut at ${cut}`).toEqual({ records: [r1], droppedTail: cut > firstBytes });
      restarted.append(r3);
      restarted.sync();
      restarted.close();
      expect(new FileWal<FakeBlock>(path).read(), `append after a cut at ${cut}`).toEqual({ records: [r1, r3], droppedTail: false });
    }
  });
});

describe('WAL replay', () => {
  it('rebuilds the height in progress: round, step, lock, and the signed messages', () => {
    const { keys, engine, context } = fourValidatorNode(0);
    let state: ConsensusState<FakeBlock> = engine.initialState();
    const effects: { type: string }[] = [];
    const step = (e: Parameters<typeof engine.step>[1]) => {
      const r = engine.step(state, e);
      state = r.state;
      effects.push(...r.effects);
    };
    step({ type: 'start', now: 1, context });
    step({ type: 'timeout', now: 200, height: 1, round: 0, step: 'propose' });
    step({ type: 'timeout', now: 300, height: 1, round: 0, step: 'prevote' }); // stale unless 2/3 prevotes: ignored
    step({ type: 'timeout', now: 400, height: 1, round: 0, step: 'precommit' });
    void keys;
    const records = walOf(effects);
    const restored = replay(engine, records);
    expect(status(restored.state)).toEqual(status(state));
    expect(restored.height).toBe(1);
    expect([...restored.state.signer.messages.keys()]).toEqual([...state.signer.messages.keys()]);
    expect(restored.state.signer.last).toEqual(state.signer.last);
    expect(restored.effects.filter((e) => e.type === 'scheduleTimeout').map((e) => (e as { round: number }).round)).toEqual([1]);
    expect(restored.effects.some((e) => e.type === 'walWrite')).toBe(false); // nothing new was signed during replay
  });

  it('re-emits the commit of a height decided just before the crash', () => {
    const keys = testKeys(1, 'solo');
    const set = valsetOf(keys);
    const engine = createConsensus<FakeBlock>({ chainId: CHAIN, self: keys[0]!.address, timeouts: TIMEOUTS, maxRoundsAhead: 10 }, { app: new FakeApp(), sign: (b) => keys[0]!.signer.sign(b) });
    const r = engine.step(engine.initialState(), { type: 'start', now: 1, context: { height: 1, validators: set, previous: null, genesisTime: 1000 } });
    const restored = replay(engine, walOf(r.effects));
    const commit = r.effects.find((e) => e.type === 'commit');
    expect(restored.effects.find((e) => e.type === 'commit')).toEqual(commit);
  });

  it('returns no height for an empty WAL', () => {
    const { engine } = fourValidatorNode(1);
    expect(replay(engine, [])).toMatchObject({ height: null, effects: [] });
  });
});
