/**
 * Write-ahead log of the consensus engine: record encoding and crash replay (the file that holds the
 * records is the runtime's, src/runtime/wal-file.ts).
 *
 * The engine emits two kinds of records as `walWrite` effects:
 *  - `input`: an event the engine accepted (start, proposal+block, vote, timeout, evidence, commit certificate);
 *  - `signed`: a proposal or vote this validator signed, written (and fsynced) before it is broadcast.
 * Replaying the inputs since the last `start` through the same deterministic engine rebuilds the
 * height in progress; the `signed` records are loaded first so the engine reuses exactly what it
 * signed before the crash and refuses anything conflicting.
 *
 * Driver recipe after a restart:
 *   const { state, effects, height } = replay(engine, FileWal.read(path).records);
 *   if (height === null || storedHeight >= height) → step(state, start(storedHeight + 1)) (state keeps the signer journal)
 *   else → execute `effects` (a `commit` effect for a height already stored is skipped), then continue.
 * Rotate (reset) the WAL only after a decided block is durably stored and before the next `start`.
 */
import { ValidatorSet, type ValidatorSetJson } from './validators.js';
import { type Consensus, type ConsensusState, type Effect, type SignedMessage, type WalRecord, gossipMessages, restoreSigned, status } from './engine.js';

// ───────────────────────────── encoding ─────────────────────────────

/** Stands for the record's block while the rest is encoded (its fields are checked hex and integers: it cannot occur there). */
const BLOCK_SLOT = '$wal-block$';

/**
 * JSON with bigint as {"$bigint":"…"} and validator sets as {"$valset":…} (via ValidatorSet.toJSON).
 * With `blockJson`, a proposal's block is spliced in as that JSON (the runtime passes the block's
 * cached encoding, shared with the database and the peers) instead of being walked through the
 * replacer key by key — for a block of thousands of transactions that walk was most of the WAL's cost.
 */
export function encodeWalRecord<B>(record: WalRecord<B>, blockJson?: (block: B) => string): string {
  let block: B | undefined;
  const json = JSON.stringify(record, (key, value: unknown) => {
    if (typeof value === 'bigint') return { $bigint: value.toString() };
    if (blockJson !== undefined && key === 'block' && block === undefined && typeof value === 'object' && value !== null) {
      block = value as B;
      return BLOCK_SLOT;
    }
    return value;
  });
  return block === undefined ? json : json.replace(`"${BLOCK_SLOT}"`, () => blockJson!(block!));
}

export function decodeWalRecord<B>(text: string): WalRecord<B> {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const o = value as Record<string, unknown>;
      if (typeof o.$bigint === 'string' && Object.keys(o).length === 1) return BigInt(o.$bigint);
      if (o.$valset !== undefined && Object.keys(o).length === 1) return ValidatorSet.fromJSON(o.$valset as ValidatorSetJson);
    }
    return value;
  }) as WalRecord<B>;
}

// ───────────────────────────── replay ─────────────────────────────

export interface ReplayResult<B> {
  readonly state: ConsensusState<B>;
  /**
   * What the driver must do to resume: persist signed records the WAL lost, apply decided blocks,
   * re-arm timers of the current round, and re-gossip evidence and own messages of the current round.
   */
  readonly effects: readonly Effect<B>[];
  /** Height the WAL was working on, or null if it holds no start record. */
  readonly height: number | null;
}

function signatureOf<B>(m: SignedMessage<B>): string {
  return m.kind === 'vote' ? m.vote.signature : m.proposal.signature;
}

export function replay<B>(engine: Consensus<B>, records: readonly WalRecord<B>[]): ReplayResult<B> {
  const signed = records.flatMap((r) => (r.type === 'signed' ? [r.message] : []));
  let state = restoreSigned(engine.initialState(), signed);
  const startAt = lastStartIndex(records);
  if (startAt < 0) return { state, effects: [], height: null };
  const produced: Effect<B>[] = [];
  for (const record of records.slice(startAt)) {
    if (record.type !== 'input') continue;
    const result = engine.step(state, record.event);
    state = result.state;
    produced.push(...result.effects);
  }
  const now = status(state)!;
  const known = new Set(signed.map(signatureOf));
  const lostSignatures = produced.filter((e) => e.type === 'walWrite' && e.record.type === 'signed' && !known.has(signatureOf(e.record.message)));
  const effects: Effect<B>[] = [
    ...lostSignatures,
    ...produced.filter((e) => e.type === 'commit'),
    ...produced.filter((e) => e.type === 'scheduleTimeout' && e.height === now.height && e.round === now.round),
    ...produced.filter((e) => e.type === 'evidence'),
    ...gossipMessages(state),
  ];
  return { state, effects, height: now.height };
}

function lastStartIndex<B>(records: readonly WalRecord<B>[]): number {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.type === 'input' && r.event.type === 'start') return i;
  }
  return -1;
}
