import Database from 'better-sqlite3';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { LedgerLink, OnChainReading, TxStatus } from '../../src/edge/agent/ledger.js';
import type { ReadingPayload } from '../../src/edge/agent/readings.js';
import { AgentState } from '../../src/edge/agent/state.js';
import { Submitter } from '../../src/edge/agent/submitter.js';
import { Spool } from '../../src/edge/spool.js';
import { keyPairFromSeed, Signer } from '../../src/crypto/ed25519.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { LedgerError } from '../../src/util/errors.js';
import { txHash } from '../../src/codec/tx.js';

/**
 * The submitter's decisions, against a scripted node: what each answer of the node does to a queued
 * reading (the end-to-end tests run the same code against a real node, where some of these answers
 * only happen by chance, e.g. a duplicate after a crash).
 */

const seed = new Uint8Array(32).fill(7);
const meter = { address: addressFromPublicKey(keyPairFromSeed(seed).publicKey), signer: new Signer(seed) };
const reading = (slot: number, importWh = 10): ReadingPayload => ({
  type: 'metering/reading',
  value: { meterId: 'M1', slot, importWh, exportWh: 0, importRegisterWh: 1000 + importWh, exportRegisterWh: 0, seq: slot, fingerprint: 'ab'.repeat(32), sampleCount: 90 },
});
const onChain = (p: ReadingPayload): OnChainReading => ({ ...p.value, slotIso: '', height: 5, txHash: 'cd'.repeat(32) }) as OnChainReading;

/** A node whose answers the test sets per transaction hash (by the reading's slot). */
class ScriptedNode {
  height = 10;
  sent: Array<{ slot: number; nonce: number; hash: string }> = [];
  admission = new Map<number, { code: string; message: string }>();
  status = new Map<number, 'unknown' | 'pending' | { code: string }>();
  readings = new Map<number, OnChainReading>();
  unreachable = false;
  nonce = 3;

  private guard(): void {
    if (this.unreachable) throw new LedgerError('NODE_UNREACHABLE', 'cannot reach the node', 503);
  }
  async chain() {
    this.guard();
    return { chainId: 'test-chain', height: this.height, latestBlockTime: 0 };
  }
  async nextNonce() {
    this.guard();
    return this.nonce;
  }
  async submit(txs: Array<{ body: { nonce: number; msgs: Array<{ value: { slot: number } }> } }>) {
    this.guard();
    return txs.map((tx) => {
      const slot = tx.body.msgs[0]!.value.slot;
      const hash = txHash(tx.body as never);
      this.sent.push({ slot, nonce: tx.body.nonce, hash });
      const refusal = this.admission.get(slot);
      return refusal ? { hash: null, ...refusal } : { hash, code: 'OK', message: '' };
    });
  }
  async tx(hash: string): Promise<TxStatus | undefined> {
    this.guard();
    const s = this.sent.find((x) => x.hash === hash);
    const st = s ? this.status.get(s.slot) ?? 'pending' : 'unknown';
    if (st === 'unknown') return undefined;
    if (st === 'pending') return { hash, status: 'pending' };
    return { hash, status: 'committed', height: 11, index: 0, result: { code: st.code, message: st.code, events: [] } };
  }
  async readingAt(_meterId: string, slot: number) {
    return this.readings.get(slot);
  }
}

function setup() {
  const db = new Database(':memory:');
  const spool = new Spool(db, { backoffBaseMs: 1000, backoffMaxMs: 8000 });
  const state = new AgentState(db);
  const node = new ScriptedNode();
  const submitter = new Submitter({
    spool,
    state,
    ledger: node as unknown as LedgerLink,
    logger: pino({ level: 'silent' }),
    signers: new Map([['M1', meter]]),
    ready: () => true,
    expiresInBlocks: 5,
    pollMs: 100,
  });
  const queue = (p: ReadingPayload) => spool.enqueue({ meterId: 'M1', slot: p.value.slot, seq: p.value.seq }, p, 0);
  return { spool, state, node, submitter, queue };
}

describe('submitter', () => {
  it('sends each reading in its own transaction with consecutive nonces and confirms it when committed OK', async () => {
    const { spool, node, submitter, queue } = setup();
    queue(reading(100));
    queue(reading(101));
    expect(await submitter.round(0)).toBe(2);
    expect(node.sent.map((s) => [s.slot, s.nonce])).toEqual([[100, 3], [101, 4]]);
    // Pending: looked at again after pollMs, not sent again.
    expect(await submitter.round(100)).toBe(2);
    expect(node.sent).toHaveLength(2);
    node.status.set(100, { code: 'OK' });
    node.status.set(101, { code: 'OK' });
    await submitter.round(200);
    expect(spool.depth()).toEqual({ pending: 0, parked: 0 });
    expect(spool.lastDelivered('M1')).toMatchObject({ slot: 101, outcome: 'committed' });
    expect(submitter.counters()).toMatchObject({ sent: 2, committed: 2 });
  });

  it('a duplicate answer is delivered only when the ledger holds the same reading; a different one is parked as a conflict', async () => {
    const { spool, node, submitter, queue } = setup();
    queue(reading(100));
    queue(reading(101));
    await submitter.round(0);
    node.status.set(100, { code: 'METER_READING_DUPLICATE' });
    node.status.set(101, { code: 'METER_READING_DUPLICATE' });
    node.readings.set(100, onChain(reading(100)));
    node.readings.set(101, onChain(reading(101, 11)));
    await submitter.round(100);
    expect(spool.lastDelivered('M1')).toMatchObject({ slot: 100, outcome: 'duplicate' });
    expect(spool.entries()).toEqual([expect.objectContaining({ slot: 101, state: 'parked', lastError: expect.stringMatching(/^EDGE_READING_CONFLICT/) })]);
    expect(submitter.counters()).toMatchObject({ duplicates: 1, conflicts: 1, parked: 1 });
  });

  it('a rule refusal parks the reading; a slot the ledger has not reached yet is retried with backoff', async () => {
    const { spool, node, submitter, queue } = setup();
    queue(reading(100));
    queue(reading(101));
    await submitter.round(0);
    node.status.set(100, { code: 'METER_REGISTER_INCONSISTENT' });
    node.status.set(101, { code: 'METER_SLOT_NOT_ENDED' });
    await submitter.round(100);
    const [a, b] = spool.entries();
    expect(a).toMatchObject({ slot: 100, state: 'parked', lastError: expect.stringMatching(/^METER_REGISTER_INCONSISTENT/) });
    expect(b).toMatchObject({ slot: 101, state: 'pending', attempts: 1, nextAttemptMs: 1100 });
  });

  it('signs anew when the node has forgotten the transaction or it expired unsent; retries with backoff while unreachable', async () => {
    const { spool, state, node, submitter, queue } = setup();
    queue(reading(100));
    queue(reading(101));
    await submitter.round(0);
    const first = state.allInflight().map((t) => t.txHash);
    node.status.set(100, 'unknown');
    node.height = 15; // 101's transaction expired at height 15
    await submitter.round(100);
    expect(node.sent.map((s) => s.slot)).toEqual([100, 101, 100, 101]);
    expect(state.allInflight().map((t) => t.txHash)).not.toEqual(first);
    expect(submitter.counters().resigned).toBe(2);
    node.unreachable = true;
    await submitter.round(200);
    expect(spool.entries().map((e) => [e.attempts, e.nextAttemptMs, e.lastError?.split(':')[0]])).toEqual([
      [1, 1200, 'NODE_UNREACHABLE'],
      [1, 1200, 'NODE_UNREACHABLE'],
    ]);
    expect(await submitter.round(1199)).toBe(0);
  });

  it('admission refusals: a stale nonce is retried, a malformed message is parked', async () => {
    const { spool, state, node, submitter, queue } = setup();
    queue(reading(100));
    queue(reading(101));
    node.admission.set(100, { code: 'TX_NONCE_USED', message: 'nonce used' });
    node.admission.set(101, { code: 'MSG_INVALID', message: 'bad' });
    await submitter.round(0);
    expect(state.allInflight()).toEqual([]);
    expect(spool.entries().map((e) => [e.slot, e.state, e.lastError?.split(':')[0]])).toEqual([
      [100, 'pending', 'TX_NONCE_USED'],
      [101, 'parked', 'MSG_INVALID'],
    ]);
  });
});
